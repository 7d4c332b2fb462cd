//! `swarmd certs init`: a CA and the key pairs a quick start needs — the
//! server's, one agent's and one admin client's — made with rcgen.
//!
//! Keys are ECDSA P-256, written 0600; certificates are valid for a year.
//! The server certificate names `localhost`, `127.0.0.1`, `::1` and every
//! `--host`; the client certificates are for client authentication only.
//! Nothing existing is overwritten: a second run refuses before writing.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// How long the certificates are valid.
const VALID_DAYS: i64 = 365;

/// The files written, in order.
pub const FILES: [&str; 8] = [
    "ca.pem",
    "ca.key",
    "server.pem",
    "server.key",
    "agent.pem",
    "agent.key",
    "admin.pem",
    "admin.key",
];

/// Why the certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    /// A file that would be written exists already.
    #[error("{} exists; certs init never overwrites (choose another --out or remove the old set)", .0.display())]
    Exists(PathBuf),
    /// A `--host` is not a DNS name or an IP address.
    #[error("--host {0:?} is not a DNS name or an IP address")]
    BadHost(String),
    /// The directory or a file cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// rcgen failed.
    #[error("cannot make the certificates: {0}")]
    Generate(#[from] rcgen::Error),
}

/// Writes the CA and the three key pairs into `out`; returns the paths.
///
/// # Errors
/// See [`CertsError`]; nothing is written when a file exists already or a
/// host is malformed.
pub fn init(out: &Path, hosts: &[String]) -> Result<Vec<PathBuf>, CertsError> {
    let paths: Vec<PathBuf> = FILES.iter().map(|f| out.join(f)).collect();
    if let Some(p) = paths.iter().find(|p| p.exists()) {
        return Err(CertsError::Exists(p.clone()));
    }
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for h in hosts {
        let ok = !h.is_empty()
            && h.len() <= 253
            && (h.parse::<std::net::IpAddr>().is_ok()
                || h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '*'));
        if !ok {
            return Err(CertsError::BadHost(h.clone()));
        }
        if !names.contains(h) {
            names.push(h.clone());
        }
    }

    let ca_key = KeyPair::generate()?;
    let mut ca = params(Vec::new(), "swarmd CA")?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, &ca_key);

    let leaf = |sans: Vec<String>, cn: &str, usage: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate()?;
        let mut p = params(sans, cn)?;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![usage];
        p.use_authority_key_identifier_extension = true;
        let cert = p.signed_by(&key, &issuer)?;
        Ok::<_, rcgen::Error>((cert.pem(), key.serialize_pem()))
    };
    let server = leaf(names, "swarmd", ExtendedKeyUsagePurpose::ServerAuth)?;
    let agent = leaf(
        Vec::new(),
        "swarm-agent",
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;
    let admin = leaf(
        Vec::new(),
        "swarmctl admin",
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;

    std::fs::create_dir_all(out).map_err(|source| CertsError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    let contents = [
        ca_cert.pem(),
        ca_key.serialize_pem(),
        server.0,
        server.1,
        agent.0,
        agent.1,
        admin.0,
        admin.1,
    ];
    for (path, text) in paths.iter().zip(contents) {
        let private = path.extension().is_some_and(|e| e == "key");
        write_new(path, &text, if private { 0o600 } else { 0o644 })?;
    }
    Ok(paths)
}

/// Parameters valid from now for [`VALID_DAYS`], with common name `cn`.
fn params(sans: Vec<String>, cn: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut p = CertificateParams::new(sans)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now - time::Duration::minutes(5);
    p.not_after = now + time::Duration::days(VALID_DAYS);
    Ok(p)
}

/// Creates `path` (never replacing a file) with `mode` and writes `text`.
fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), CertsError> {
    let err = |source| CertsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    #[test]
    fn a_set_is_written_once_with_private_keys() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("certs");
        let written = init(&out, &["swarmd".into(), "10.0.0.5".into()]).expect("init");
        assert_eq!(written.len(), FILES.len());
        for path in &written {
            let text = std::fs::read_to_string(path).expect("read");
            assert!(text.starts_with("-----BEGIN "), "{}", path.display());
            let mode = std::fs::metadata(path).expect("meta").permissions().mode() & 0o777;
            if path.extension().is_some_and(|e| e == "key") {
                assert_eq!(mode, 0o600, "{}", path.display());
            }
        }
        let err = init(&out, &[]).expect_err("second run");
        assert!(matches!(err, CertsError::Exists(_)), "{err}");
    }

    #[test]
    fn a_malformed_host_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("certs");
        let err = init(&out, &["bad host".into()]).expect_err("space");
        assert!(err.to_string().contains("\"bad host\""), "{err}");
        assert!(!out.exists());
    }
}
