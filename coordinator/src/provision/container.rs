//! What every containerised agent gets, whether the docker provisioner
//! creates it or a Swarm service does: its settings checked the same way,
//! and the same `swarm-agent` command line with its TLS files mounted
//! read-only.

use super::docker::{ProvisionError, CONTAINER_TLS_DIR, CONTAINER_WORKDIR, DEFAULT_IMAGE};

/// Checks the image, coordinator URL and agent token, trimming them (the
/// URL loses its trailing slash, so labels written and filtered on agree).
/// `reach` says who must reach the URL and gives an example.
pub(crate) fn check_agent_settings(
    image: &mut String,
    url: &mut String,
    token: &str,
    reach: &str,
) -> Result<(), ProvisionError> {
    let invalid = |field, problem: String| ProvisionError::InvalidSetting { field, problem };
    *image = image.trim().to_string();
    if image.is_empty() {
        return Err(invalid(
            "image",
            format!("is empty; give an image name such as `{DEFAULT_IMAGE}`"),
        ));
    }
    *url = url.trim().trim_end_matches('/').to_string();
    let host = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    if host.is_none_or(str::is_empty) {
        return Err(invalid(
            "coordinator_url",
            format!("is `{url}`; it must be a URL {reach}"),
        ));
    }
    let token = token.trim();
    if token.is_empty() || token.chars().any(char::is_control) {
        return Err(invalid(
            "agent_token",
            "is empty or holds control characters; give the coordinator's agent token".into(),
        ));
    }
    Ok(())
}

/// A TLS file to mount read-only: its path on the engine's host and
/// inside the container.
pub(crate) struct TlsMount {
    pub(crate) host: String,
    pub(crate) inside: String,
}

/// The agent's command line (`--id` when the provisioner names it; a
/// Swarm task takes its id from the environment) and the TLS files it is
/// given, to mount.
pub(crate) fn agent_command(
    url: &str,
    role: &str,
    id: Option<&str>,
    extra: &[String],
    tls: &swarm_client::TlsFiles,
) -> (Vec<String>, Vec<TlsMount>) {
    let mut args: Vec<String> = vec![
        "--coordinator".into(),
        url.into(),
        "--role".into(),
        role.into(),
    ];
    if let Some(id) = id {
        args.extend(["--id".into(), id.into()]);
    }
    args.extend(["--workdir".into(), CONTAINER_WORKDIR.into()]);
    args.extend(extra.iter().cloned());
    let mut mounts = Vec::new();
    for (flag, file, host) in [
        ("--ca", "ca.pem", &tls.ca),
        ("--cert", "agent.pem", &tls.cert),
        ("--key", "agent.key", &tls.key),
    ] {
        if let Some(host) = host {
            let inside = format!("{CONTAINER_TLS_DIR}/{file}");
            args.extend([flag.to_string(), inside.clone()]);
            mounts.push(TlsMount {
                host: host.display().to_string(),
                inside,
            });
        }
    }
    (args, mounts)
}
