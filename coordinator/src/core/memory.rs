//! Shared memory commands, applied in the turn's transaction like every
//! other change.

use rusqlite::Connection;
use swarm_memory::kv::{self, Expect, KvError, Put};

use super::command::{MemPut, MemoryCmd};
use super::effects::Turn;
use super::{CoreError, State};

impl State {
    /// Applies a shared-memory command and answers it.
    pub(crate) fn memory(&mut self, t: &mut Turn<'_>, cmd: MemoryCmd) {
        let (db, layout, now) = (t.db, self.kv_layout, t.now);
        match cmd {
            MemoryCmd::Put(req, reply) => {
                let r = self.mem_put(db, layout, req, now);
                t.reply(reply, r);
            }
            MemoryCmd::Get {
                namespace,
                key,
                reply,
            } => {
                let r = kv::get(db, layout, &namespace, &key, now)
                    .map_err(kv_error)
                    .and_then(|e| {
                        e.ok_or_else(|| {
                            CoreError::NotFound(format!(
                                "no entry '{key}' in namespace '{namespace}'"
                            ))
                        })
                    });
                t.reply(reply, r);
            }
            MemoryCmd::List {
                namespace,
                prefix,
                limit,
                reply,
            } => {
                let r = kv::list(
                    db,
                    layout,
                    namespace.as_deref(),
                    prefix.as_deref(),
                    now,
                    limit,
                )
                .map_err(kv_error);
                t.reply(reply, r);
            }
            MemoryCmd::Delete {
                namespace,
                key,
                reply,
            } => {
                let r = kv::delete(db, layout, &namespace, &key, now).map_err(kv_error);
                t.reply(reply, r);
            }
        }
    }

    fn mem_put(
        &self,
        db: &Connection,
        layout: kv::Layout,
        req: MemPut,
        now: i64,
    ) -> Result<bool, CoreError> {
        let expect = match (req.expect_absent, req.expect_value) {
            (true, Some(_)) => {
                return Err(CoreError::Invalid(
                    "give either expect_absent or expect_value, not both".into(),
                ))
            }
            (true, None) => Some(Expect::Absent),
            (false, Some(v)) => Some(Expect::Value(v)),
            (false, None) => None,
        };
        let ttl_ms = (req.ttl_seconds > 0)
            .then(|| req.ttl_seconds.saturating_mul(1000).min(i64::MAX as u64) as i64);
        let put = Put {
            namespace: &req.namespace,
            key: &req.key,
            value: &req.value,
            ttl_ms,
            expect,
            tags: &req.tags,
            owner_id: Some(&req.owner),
            ..Put::default()
        };
        kv::put(db, layout, &put, now, self.cfg.max_value_bytes)
            .map(|o| matches!(o, kv::PutOutcome::Created))
            .map_err(kv_error)
    }
}

fn kv_error(e: KvError) -> CoreError {
    match e {
        KvError::CasMismatch { .. } => CoreError::CasMismatch(e.to_string()),
        KvError::TooLarge { .. } | KvError::Invalid { .. } => CoreError::Invalid(e.to_string()),
        other => CoreError::Store(other.into()),
    }
}
