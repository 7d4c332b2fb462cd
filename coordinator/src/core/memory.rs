//! Shared memory commands, applied in the turn's transaction like every
//! other change.

use rusqlite::Connection;
use swarm_memory::kv::{self, Expect, KvError, Put};
use swarm_memory::now_ms;

use super::command::{Command, MemPut};
use super::{CoreError, Effects, State};

impl State {
    pub(crate) fn memory(
        &mut self,
        db: &Connection,
        cmd: Command,
        fx: &mut Effects,
    ) -> Result<(), CoreError> {
        let layout = self.kv_layout;
        let now = now_ms();
        match cmd {
            Command::MemPut(req, reply) => {
                let r = self.mem_put(db, layout, req, now);
                fx.reply(reply, r);
            }
            Command::MemGet(ns, key, reply) => {
                let r = kv::get(db, layout, &ns, &key, now)
                    .map_err(kv_error)
                    .and_then(|e| {
                        e.ok_or_else(|| {
                            CoreError::NotFound(format!("no entry '{key}' in namespace '{ns}'"))
                        })
                    });
                fx.reply(reply, r);
            }
            Command::MemList(ns, prefix, limit, reply) => {
                let r = kv::list(db, layout, ns.as_deref(), prefix.as_deref(), now, limit)
                    .map_err(kv_error);
                fx.reply(reply, r);
            }
            Command::MemDelete(ns, key, reply) => {
                let r = kv::delete(db, layout, &ns, &key, now).map_err(kv_error);
                fx.reply(reply, r);
            }
            _ => {}
        }
        Ok(())
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
        other => CoreError::Internal(other.to_string()),
    }
}
