//! The `swarm_*` schema of `swarmd.db`, one migration per version: what
//! [`crate::store`] applies, in order, one transaction each.

const MIGRATION_1: &str = "
CREATE TABLE IF NOT EXISTS swarm_plans (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  file TEXT NOT NULL,
  format TEXT NOT NULL,
  source TEXT NOT NULL,
  roles_toml TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  loaded_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE TABLE IF NOT EXISTS swarm_tasks (
  plan_id INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  losses INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER,
  reason TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (plan_id, idx)
);
CREATE TABLE IF NOT EXISTS swarm_dependencies (
  plan_id INTEGER NOT NULL,
  task_idx INTEGER NOT NULL,
  dep_idx INTEGER NOT NULL,
  PRIMARY KEY (plan_id, task_idx, dep_idx)
);
CREATE TABLE IF NOT EXISTS swarm_attempts (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL,
  task_idx INTEGER NOT NULL,
  number INTEGER NOT NULL,
  agents TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  ended_at INTEGER,
  exit_code INTEGER,
  message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS swarm_attempts_task ON swarm_attempts(plan_id, task_idx);
CREATE TABLE IF NOT EXISTS swarm_agents (
  id TEXT PRIMARY KEY,
  roles TEXT NOT NULL,
  active_role TEXT NOT NULL,
  slots INTEGER NOT NULL,
  host TEXT NOT NULL,
  labels TEXT NOT NULL,
  state TEXT NOT NULL,
  registered_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS swarm_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  plan_id INTEGER,
  task_id TEXT,
  attempt INTEGER,
  agent_id TEXT,
  message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS swarm_logs (
  attempt INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (attempt, seq)
);
CREATE TABLE IF NOT EXISTS swarm_checkpoints (
  id INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  at INTEGER NOT NULL,
  plan_day INTEGER,
  report TEXT NOT NULL
);
";

/// Version 2: the plan clock of each plan, and checkpoint reports with
/// their plan time and decisions.
const MIGRATION_2: &str = "
ALTER TABLE swarm_plans ADD COLUMN clock TEXT NOT NULL DEFAULT '';
ALTER TABLE swarm_checkpoints ADD COLUMN plan_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE swarm_checkpoints ADD COLUMN decisions TEXT NOT NULL DEFAULT '[]';
";

/// Version 3: output an agent shed, per attempt.
const MIGRATION_3: &str = "
ALTER TABLE swarm_attempts ADD COLUMN output_dropped INTEGER NOT NULL DEFAULT 0;
";

/// Version 4: the journal of acknowledged memory writes (see
/// `shared::journal`).
const MIGRATION_4: &str = "
CREATE TABLE IF NOT EXISTS swarm_memory_journal (
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  expires_at INTEGER,
  owner TEXT,
  acked_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS swarm_memory_journal_acked ON swarm_memory_journal(acked_at);
";

/// Version 5: the token minted for each attempt (what its task presents
/// as `SWARM_TOKEN`; valid only while the attempt is live).
const MIGRATION_5: &str = "
ALTER TABLE swarm_attempts ADD COLUMN token TEXT NOT NULL DEFAULT '';
";

/// v6: what each succeeded task produced, handed to its dependents.
const MIGRATION_6: &str = "
CREATE TABLE IF NOT EXISTS swarm_results (
    plan_id   INTEGER NOT NULL,
    task_id   TEXT NOT NULL,
    attempt   INTEGER NOT NULL,
    from_file INTEGER NOT NULL,
    result    TEXT NOT NULL,
    PRIMARY KEY (plan_id, task_id)
);
";

/// v7: swarmd's copy of every `memory_entries` row (see
/// `shared::journal`), replacing the journal of acknowledged writes, whose
/// rows come along as swarmd's own (a delete as a tombstone).
const MIGRATION_7: &str = "
CREATE TABLE IF NOT EXISTS swarm_memory_rows (
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  id TEXT NOT NULL,
  content TEXT NOT NULL,
  type TEXT,
  embedding TEXT,
  embedding_model TEXT,
  embedding_dimensions INTEGER,
  tags TEXT,
  metadata TEXT,
  owner_id TEXT,
  provenance_type TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_accessed_at INTEGER,
  access_count INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active',
  origin TEXT NOT NULL DEFAULT 'other',
  pending INTEGER NOT NULL DEFAULT 0,
  reads INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS swarm_memory_rows_unsent ON swarm_memory_rows(pending, reads);
INSERT OR IGNORE INTO swarm_memory_rows (namespace, key, id, content, tags, owner_id,
  provenance_type, created_at, updated_at, expires_at, status, origin)
SELECT namespace, key, '', COALESCE(value, ''), NULLIF(tags, '[]'), owner, 'agent_output',
  acked_at, acked_at, expires_at, CASE WHEN value IS NULL THEN 'deleted' ELSE 'active' END,
  'swarmd'
FROM swarm_memory_journal;
DROP TABLE IF EXISTS swarm_memory_journal;
";

/// v8: each plan's repository and integration branch, and the merge of
/// every attempt that committed work in it.
const MIGRATION_8: &str = "
CREATE TABLE IF NOT EXISTS swarm_workspaces (
  plan_id INTEGER PRIMARY KEY,
  repo TEXT NOT NULL,
  base TEXT NOT NULL,
  label TEXT NOT NULL,
  head TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS swarm_merges (
  attempt INTEGER PRIMARY KEY,
  plan_id INTEGER NOT NULL,
  task_idx INTEGER NOT NULL,
  commits TEXT NOT NULL,
  state TEXT NOT NULL,
  merged TEXT NOT NULL DEFAULT '',
  files TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '',
  queued_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS swarm_merges_plan ON swarm_merges(plan_id, task_idx);
";

/// v11: who did an operator's action (the event's actor), and the few
/// events that have one, in order, for the reports' list of them.
const MIGRATION_11: &str = "
ALTER TABLE swarm_events ADD COLUMN actor TEXT;
CREATE INDEX IF NOT EXISTS swarm_events_acted ON swarm_events(seq) WHERE actor IS NOT NULL;
";

/// v10: each plan's trace: its id (random, made once) and how far its
/// spans were exported (the sequence number of the last event whose
/// finished spans the collector acknowledged); the roles an attempt's
/// members played, lead first, beside their ids.
const MIGRATION_10: &str = "
ALTER TABLE swarm_attempts ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';
CREATE TABLE IF NOT EXISTS swarm_traces (
  plan_id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL,
  exported_seq INTEGER NOT NULL DEFAULT 0
);
";

/// v9: what each attempt spent, per agent that ran it, and the budgets
/// set while a plan runs (see `state::usage`).
const MIGRATION_9: &str = "
CREATE TABLE IF NOT EXISTS swarm_usage (
  attempt INTEGER NOT NULL,
  agent_id TEXT NOT NULL,
  plan_id INTEGER NOT NULL,
  task_id TEXT NOT NULL,
  role TEXT NOT NULL,
  plan_day INTEGER NOT NULL,
  at INTEGER NOT NULL,
  cost_usd REAL NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  turns INTEGER NOT NULL DEFAULT 0,
  session_id TEXT NOT NULL DEFAULT '',
  model TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (attempt, agent_id)
);
CREATE INDEX IF NOT EXISTS swarm_usage_plan ON swarm_usage(plan_id, task_id);
CREATE TABLE IF NOT EXISTS swarm_budgets (
  plan_id INTEGER NOT NULL,
  scope TEXT NOT NULL,
  usd REAL NOT NULL,
  PRIMARY KEY (plan_id, scope)
);
";

/// v12: the versions of a plan revised while it runs (see
/// `state::versions`); version 1's text stays in `swarm_plans`.
const MIGRATION_12: &str = "
CREATE TABLE IF NOT EXISTS swarm_plan_versions (
  plan_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  summary TEXT NOT NULL DEFAULT '',
  changes TEXT NOT NULL DEFAULT '[]',
  file TEXT NOT NULL DEFAULT '',
  format TEXT NOT NULL DEFAULT 'markdown',
  source TEXT,
  roles_toml TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (plan_id, version)
);
";

/// v13: notifications (`[[notify]]`): where each entry started reading
/// the event log (a new entry starts at its end), and each delivery of an
/// event to an entry: pending (being tried, with the last error) or
/// delivered, with the attempts it took.
const MIGRATION_13: &str = "
CREATE TABLE IF NOT EXISTS swarm_notify_entries (
  entry TEXT PRIMARY KEY,
  since INTEGER NOT NULL,
  added_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS swarm_notify_deliveries (
  entry TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  PRIMARY KEY (entry, seq)
);
";

/// v14: the event log without AUTOINCREMENT. Events are never deleted,
/// so the next sequence number is the largest plus one either way; the
/// `sqlite_sequence` row that AUTOINCREMENT read and rewrote on every
/// append (about six a task) goes.
const MIGRATION_14: &str = "
CREATE TABLE swarm_events_v14 (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  plan_id INTEGER,
  task_id TEXT,
  attempt INTEGER,
  agent_id TEXT,
  message TEXT NOT NULL DEFAULT '',
  actor TEXT
);
INSERT INTO swarm_events_v14 (seq, at, kind, plan_id, task_id, attempt, agent_id, message, actor)
  SELECT seq, at, kind, plan_id, task_id, attempt, agent_id, message, actor FROM swarm_events;
DROP TABLE swarm_events;
ALTER TABLE swarm_events_v14 RENAME TO swarm_events;
CREATE INDEX swarm_events_acted ON swarm_events(seq) WHERE actor IS NOT NULL;
";

/// Every migration, by the version it brings the schema to.
pub(crate) const MIGRATIONS: [(i64, &str); 14] = [
    (1, MIGRATION_1),
    (2, MIGRATION_2),
    (3, MIGRATION_3),
    (4, MIGRATION_4),
    (5, MIGRATION_5),
    (6, MIGRATION_6),
    (7, MIGRATION_7),
    (8, MIGRATION_8),
    (9, MIGRATION_9),
    (10, MIGRATION_10),
    (11, MIGRATION_11),
    (12, MIGRATION_12),
    (13, MIGRATION_13),
    (14, MIGRATION_14),
];

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use crate::state::{append_event, events_after, EventRow};

    fn event(kind: &str) -> EventRow {
        EventRow {
            seq: 0,
            at: 1,
            kind: kind.into(),
            plan_id: Some(1),
            task_id: Some("1.1".into()),
            attempt: None,
            number: None,
            agent_id: None,
            message: String::new(),
            actor: Some("admin".into()),
        }
    }

    #[test]
    fn the_event_log_keeps_its_sequence_across_version_14() {
        let conn = Connection::open_in_memory().expect("conn");
        for (target, sql) in &super::MIGRATIONS[..13] {
            conn.execute_batch(sql).expect("migration");
            conn.pragma_update(None, "user_version", target)
                .expect("version");
        }
        for kind in ["plan.loaded", "task.ready", "task.running"] {
            append_event(&conn, &event(kind)).expect("append");
        }
        crate::store::migrate_schema(&conn, "test").expect("to 14");
        let seq = append_event(&conn, &event("task.succeeded")).expect("append");
        assert_eq!(seq, 4, "the next event follows the last one");
        let kinds: Vec<(u64, String, Option<String>)> = events_after(&conn, 0, 10)
            .expect("events")
            .into_iter()
            .map(|e| (e.seq, e.kind, e.actor))
            .collect();
        assert_eq!(kinds.len(), 4);
        assert_eq!(kinds[0], (1, "plan.loaded".into(), Some("admin".into())));
        assert_eq!(kinds[3].0, 4);
        let sequences: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'swarm_events'",
                [],
                |r| r.get(0),
            )
            .expect("sqlite_sequence");
        assert_eq!(sequences, 0, "no AUTOINCREMENT counter is kept any more");
    }
}
