//! `AgentService.Session`: one long-lived stream per agent.

use super::status;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use swarm_proto::v1 as pb;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use super::convert;
use super::BoxStream;
use crate::daemon::tasks::{OnCancel, Tasks};
use crate::edge::auth::{Scope, Tokens};
use swarm_core::command::{AgentCmd, Liveness};
use swarm_core::CoreHandle;

/// How long a new session may take to say Hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// The agent service.
pub struct AgentSvc {
    core: CoreHandle,
    tokens: Tokens,
    sessions: Arc<AtomicU64>,
    /// Where each session's reader is registered (and leaves when the
    /// session ends).
    tasks: Tasks,
}

impl AgentSvc {
    /// A service sending to `core`, its session readers started through
    /// `tasks`.
    pub fn new(core: CoreHandle, tokens: Tokens, tasks: Tasks) -> Self {
        AgentSvc {
            core,
            tokens,
            sessions: Arc::new(AtomicU64::new(1)),
            tasks,
        }
    }
}

#[tonic::async_trait]
impl pb::agent_service_server::AgentService for AgentSvc {
    type SessionStream = BoxStream<pb::CoordinatorMessage>;

    async fn session(
        &self,
        req: Request<Streaming<pb::AgentMessage>>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        self.tokens.check(&req, Scope::Agent)?;
        let mut inbound = req.into_inner();
        let first = tokio::time::timeout(HELLO_TIMEOUT, inbound.message())
            .await
            .map_err(|_| {
                Status::deadline_exceeded("no Hello within 10 s of opening the session")
            })??;
        let mut hello = match first.and_then(|m| m.body) {
            Some(pb::agent_message::Body::Hello(h)) => convert::hello_from(h),
            _ => {
                return Err(Status::invalid_argument(
                    "the first message of a session must be a Hello",
                ))
            }
        };
        let agent_id = hello.agent_id.clone();
        let alive = Liveness::default();
        hello.alive = alive.clone();
        let session = self.sessions.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.core
            .ask(|reply| {
                AgentCmd::Hello {
                    hello,
                    session,
                    tx,
                    reply,
                }
                .into()
            })
            .await
            .map_err(status)?;
        let core = self.core.clone();
        let name = format!("session reader {agent_id} #{session}");
        // On shutdown the core closes the sessions first; a reader still
        // parked on its stream then is aborted.
        self.tasks.spawn(&name, OnCancel::Abort, |_| async move {
            // Any message proves the agent alive. A heartbeat is only
            // counted where the loop reads it when it checks leases: ten
            // thousand idle agents never wake the loop.
            while let Ok(Some(msg)) = inbound.message().await {
                if let Some(msg) = convert::from_agent(msg) {
                    if matches!(msg, swarm_core::command::FromAgent::Heartbeat) {
                        alive.beat();
                        continue;
                    }
                    core.tell(AgentCmd::Message {
                        agent: agent_id.clone(),
                        session,
                        msg,
                    });
                }
            }
            core.tell(AgentCmd::Gone {
                agent: agent_id,
                session,
            });
        });
        let out = UnboundedReceiverStream::new(rx).map(|m| Ok(convert::to_agent(m)));
        Ok(Response::new(Box::pin(out)))
    }
}
