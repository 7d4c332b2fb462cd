//! What can go wrong when the docker provisioner talks to an engine.
//!
//! Each message says what was asked for, on which engine, and what would be
//! valid or how to fix it. No message ever holds the agent token.

use bollard::errors::Error as DockerError;
use bollard::Docker;

/// A failure of the docker provisioner.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// A [`DockerSettings`](super::DockerSettings) field is unusable.
    #[error("docker provisioner setting `{field}` {problem}")]
    InvalidSetting {
        /// The field, e.g. `coordinator_url`.
        field: &'static str,
        /// What is wrong and what would be valid.
        problem: String,
    },
    /// A role or agent id given to the provisioner is unusable.
    #[error("invalid {what} `{value}`: {expected}")]
    InvalidAgent {
        /// `role` or `agent id`.
        what: &'static str,
        /// The value given.
        value: String,
        /// What would be valid.
        expected: String,
    },
    /// The engine did not answer.
    #[error(
        "cannot reach the Docker engine at {engine}: {error}; start the engine \
         or point DOCKER_HOST at a running one"
    )]
    Unreachable {
        /// `DOCKER_HOST`, or the default local socket.
        engine: String,
        /// What the client reported.
        error: DockerError,
    },
    /// The agent image is not on the engine (it is never pulled).
    #[error(
        "image `{image}` is not on the Docker engine at {engine}; build it there \
         with `scripts/build-agent-image.sh {image}` (the provisioner never pulls images)"
    )]
    ImageMissing {
        /// The image asked for.
        image: String,
        /// The engine asked.
        engine: String,
    },
    /// A container with the agent's name already exists on the engine.
    #[error(
        "cannot start agent `{agent_id}`: a container named `{name}` already exists \
         on the Docker engine at {engine}; agent ids must be unique per engine \
         (stop that agent first, or remove the container with `docker rm -f {name}`)"
    )]
    NameTaken {
        /// The agent asked for.
        agent_id: String,
        /// The container name it maps to.
        name: String,
        /// The engine asked.
        engine: String,
    },
    /// No container of this coordinator runs the agent.
    #[error(
        "no container for agent `{agent_id}` of coordinator {coordinator}; \
         its containers run: {known}"
    )]
    NoSuchAgent {
        /// The agent asked for.
        agent_id: String,
        /// The coordinator URL the containers are labelled with.
        coordinator: String,
        /// The agent ids that do have containers, or `none`.
        known: String,
    },
    /// The engine is not a swarm manager, so it has no services API.
    #[error(
        "the Docker engine at {engine} is not a swarm manager ({error}); make it one with \
         `docker swarm init`, or point DOCKER_HOST at a manager of the swarm"
    )]
    NotSwarmManager {
        /// The engine asked.
        engine: String,
        /// What the engine answered.
        error: DockerError,
    },
    /// A service with the name a role's agents need belongs to someone
    /// else.
    #[error(
        "service `{name}` on the Docker engine at {engine} belongs to {owner}; two coordinators \
         cannot share a plan's services: stop the other one, remove the service with \
         `docker service rm {name}`, or rename the plan"
    )]
    ServiceTaken {
        /// The service name.
        name: String,
        /// Who it belongs to.
        owner: String,
        /// The engine asked.
        engine: String,
    },
    /// The engine refused or failed a request.
    #[error("{action} failed on the Docker engine at {engine}: {error}")]
    Engine {
        /// What was being done, e.g. `creating the container for agent ...`.
        action: String,
        /// The engine asked.
        engine: String,
        /// What the engine answered.
        error: DockerError,
    },
}

/// The HTTP status an engine answered with, if that is what `error` is.
pub(crate) fn status_of(error: &DockerError) -> Option<u16> {
    match error {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// Fails unless the engine has `image`: missing is its own error (the
/// images are built here, never pulled).
pub(crate) async fn require_image(
    docker: &Docker,
    image: &str,
    engine: String,
) -> Result<(), ProvisionError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(()),
        Err(error) if status_of(&error) == Some(404) => Err(ProvisionError::ImageMissing {
            image: image.to_string(),
            engine,
        }),
        Err(error) => Err(ProvisionError::Engine {
            action: format!("inspecting image `{image}`"),
            engine,
            error,
        }),
    }
}
