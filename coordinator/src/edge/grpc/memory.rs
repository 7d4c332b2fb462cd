//! `MemoryService`: the shared key/value memory, for agents (and the tasks
//! they run) and operators.

use super::status;
use swarm_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::convert;
use crate::edge::auth::{Holder, Scope, Tokens};
use crate::workers::memory::{MemPut, MemoryCmd, MemoryHandle};

/// Default and largest page of `List`.
const LIST_DEFAULT: usize = 1000;
const LIST_MAX: usize = 10_000;

/// The memory service.
pub struct MemorySvc {
    memory: MemoryHandle,
    tokens: Tokens,
}

impl MemorySvc {
    /// A service sending to the shared-memory worker.
    pub fn new(memory: MemoryHandle, tokens: Tokens) -> Self {
        MemorySvc { memory, tokens }
    }
}

fn namespace(ns: String) -> String {
    if ns.trim().is_empty() {
        "default".to_string()
    } else {
        ns
    }
}

/// Who is writing: the `x-swarm-owner` header, else who holds the token.
fn owner<T>(req: &Request<T>, holder: &Holder) -> String {
    req.metadata()
        .get("x-swarm-owner")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(128).collect())
        .unwrap_or_else(|| match holder {
            Holder::Admin | Holder::Viewer | Holder::Named { .. } => {
                holder.operator_name().unwrap_or("admin").to_string()
            }
            Holder::Agent => "agent".into(),
            Holder::Attempt(g) => format!("task {}", g.task_id),
        })
}

#[tonic::async_trait]
impl pb::memory_service_server::MemoryService for MemorySvc {
    async fn put(
        &self,
        req: Request<pb::MemoryPutRequest>,
    ) -> Result<Response<pb::MemoryPutReply>, Status> {
        let holder = self.tokens.check(&req, Scope::Memory)?;
        let owner = owner(&req, &holder);
        let r = req.into_inner();
        let put = MemPut {
            namespace: namespace(r.namespace),
            key: r.key,
            value: r.value,
            ttl_seconds: r.ttl_seconds,
            expect_absent: r.expect_absent,
            expect_value: r.expect_value,
            tags: r.tags,
            owner,
        };
        let created = self
            .memory
            .ask(|reply| MemoryCmd::Put(put, reply))
            .await
            .map_err(status)?;
        Ok(Response::new(pb::MemoryPutReply { created }))
    }

    async fn get(
        &self,
        req: Request<pb::MemoryGetRequest>,
    ) -> Result<Response<pb::MemoryEntry>, Status> {
        self.tokens.check(&req, Scope::MemoryRead)?;
        let r = req.into_inner();
        let entry = self
            .memory
            .ask(|reply| MemoryCmd::Get {
                namespace: namespace(r.namespace),
                key: r.key,
                reply,
            })
            .await
            .map_err(status)?;
        Ok(Response::new(convert::entry_to(entry)))
    }

    async fn list(
        &self,
        req: Request<pb::MemoryListRequest>,
    ) -> Result<Response<pb::MemoryListReply>, Status> {
        self.tokens.check(&req, Scope::MemoryRead)?;
        let r = req.into_inner();
        let ns = (!r.namespace.is_empty()).then_some(r.namespace);
        let prefix = (!r.prefix.is_empty()).then_some(r.prefix);
        let limit = if r.limit == 0 {
            LIST_DEFAULT
        } else {
            (r.limit as usize).min(LIST_MAX)
        };
        let entries = self
            .memory
            .ask(|reply| MemoryCmd::List {
                namespace: ns,
                prefix,
                limit,
                reply,
            })
            .await
            .map_err(status)?;
        Ok(Response::new(pb::MemoryListReply {
            entries: entries.into_iter().map(convert::entry_to).collect(),
        }))
    }

    async fn delete(
        &self,
        req: Request<pb::MemoryDeleteRequest>,
    ) -> Result<Response<pb::MemoryDeleteReply>, Status> {
        self.tokens.check(&req, Scope::Memory)?;
        let r = req.into_inner();
        let deleted = self
            .memory
            .ask(|reply| MemoryCmd::Delete {
                namespace: namespace(r.namespace),
                key: r.key,
                reply,
            })
            .await
            .map_err(status)?;
        Ok(Response::new(pb::MemoryDeleteReply { deleted }))
    }
}
