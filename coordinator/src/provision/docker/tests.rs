//! Unit tests of the docker provisioner that need no engine: settings,
//! names, argument checks and the unreachable-engine message.

use super::*;

#[test]
fn container_names_are_what_docker_accepts() {
    assert_eq!(container_name("sre-1"), "swarm-agent-sre-1");
    assert_eq!(container_name("host/sre:1@x"), "swarm-agent-host-sre-1-x");
    assert_eq!(container_name("a_b.c"), "swarm-agent-a_b.c");
}

#[test]
fn settings_are_validated_and_the_token_is_never_shown() {
    let ok = DockerSettings::new("http://127.0.0.1:7420/", "s3cret-token")
        .validated()
        .expect("valid");
    assert_eq!(ok.coordinator_url, "http://127.0.0.1:7420");
    assert_eq!(ok.image, DEFAULT_IMAGE);
    assert!(!format!("{ok:?}").contains("s3cret-token"));

    let bad_url = DockerSettings::new("127.0.0.1:7420", "t")
        .validated()
        .expect_err("no scheme");
    let message = bad_url.to_string();
    assert!(message.contains("coordinator_url"), "{message}");
    assert!(message.contains("http://127.0.0.1:7420"), "{message}");

    let no_token = DockerSettings::new("http://x:1", " ")
        .validated()
        .expect_err("empty token");
    assert!(no_token.to_string().contains("agent_token"));

    let mut no_image = DockerSettings::new("http://x:1", "t");
    no_image.image = String::new();
    assert!(no_image
        .validated()
        .expect_err("empty image")
        .to_string()
        .contains(DEFAULT_IMAGE));
}

#[test]
fn roles_and_agent_ids_are_checked() {
    assert_eq!(checked("role", " sre ", 64).expect("ok"), "sre");
    let err = checked("agent id", "two words", 128).expect_err("space");
    assert!(
        err.to_string().contains("invalid agent id `two words`"),
        "{err}"
    );
    assert!(checked("role", "", 64).is_err());
    assert!(checked("role", &"r".repeat(65), 64).is_err());
}

#[tokio::test]
async fn an_unreachable_engine_is_named_in_the_error() {
    let settings = DockerSettings::new("http://127.0.0.1:7420", "t");
    let err = match DockerProvisioner::connect_to("unix:///nonexistent/swarm-docker.sock", settings)
        .await
    {
        Ok(_) => panic!("connected to a socket that does not exist"),
        Err(err) => err,
    };
    let message = err.to_string();
    assert!(
        message.contains("cannot reach the Docker engine"),
        "{message}"
    );
    assert!(
        message.contains("/nonexistent/swarm-docker.sock"),
        "{message}"
    );
    assert!(message.contains("DOCKER_HOST"), "{message}");
}
