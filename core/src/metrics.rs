//! What `/metrics` reports, in the Prometheus/OpenMetrics text format
//! (the `prometheus-client` crate).
//!
//! Three kinds of figure:
//! - measured by the scheduler loop as it turns: turn duration, store
//!   commit latency, dispatch latency (task ready → assignment sent);
//! - counted from the committed event stream, so a rolled-back turn never
//!   counts: attempts by outcome, expired leases, rejected late results,
//!   checkpoints, agents provisioned and failed to provision;
//! - read at each scrape: tasks by state, agents by role and state, shared
//!   memory entries and bytes, store file sizes, and what the plan spent
//!   by role (`swarmd_cost_usd_total`, `swarmd_tokens_total` by kind):
//!   sums kept in the store, so they survive restarts and only grow while
//!   a plan runs.
//!
//! Counters start at zero with the process, as Prometheus expects.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// One label set: (name, value) pairs.
pub type Labels = Vec<(String, String)>;

/// Every metric swarmd exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// One turn of the scheduler loop, commit included.
    pub turn: Histogram,
    /// Committing a turn's transaction.
    pub commit: Histogram,
    /// A task becoming ready to its assignment being sent.
    pub dispatch: Histogram,
    /// Attempts that ended, by outcome.
    pub attempts: Family<Labels, Counter>,
    /// Agents whose lease expired.
    pub expired_leases: Counter,
    /// Results refused as late or foreign.
    pub rejected_results: Counter,
    /// Checkpoint reports written.
    pub checkpoints: Counter,
    /// Agents a provisioner started.
    pub provisioned: Counter,
    /// Agents a provisioner could not start.
    pub provision_failed: Counter,
    /// Tasks by state (at the scrape).
    pub tasks: Family<Labels, Gauge>,
    /// Agents by role and state (at the scrape).
    pub agents: Family<Labels, Gauge>,
    /// Live shared-memory entries.
    pub memory_entries: Gauge,
    /// Bytes of their values.
    pub memory_bytes: Gauge,
    /// Store files' sizes, by file.
    pub store_bytes: Family<Labels, Gauge>,
    /// Dollars the plan spent, by role (at the scrape).
    pub cost_usd: Family<Labels, Gauge<f64, AtomicU64>>,
    /// Tokens the plan used, by role and kind (at the scrape).
    pub tokens: Family<Labels, Gauge>,
    /// When the loop last finished a turn, ms since the epoch.
    last_turn_ms: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn seconds_buckets() -> Histogram {
    // 50 µs to ~3 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

impl Metrics {
    /// Every metric at zero, registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("swarmd");
        let m = Metrics {
            turn: seconds_buckets(),
            commit: seconds_buckets(),
            dispatch: seconds_buckets(),
            attempts: Family::default(),
            expired_leases: Counter::default(),
            rejected_results: Counter::default(),
            checkpoints: Counter::default(),
            provisioned: Counter::default(),
            provision_failed: Counter::default(),
            tasks: Family::default(),
            agents: Family::default(),
            memory_entries: Gauge::default(),
            memory_bytes: Gauge::default(),
            store_bytes: Family::default(),
            cost_usd: Family::default(),
            tokens: Family::default(),
            last_turn_ms: AtomicI64::new(0),
            registry: Registry::default(),
        };
        m.register_timings(&mut registry);
        m.register_counters(&mut registry);
        m.register_gauges(&mut registry);
        Metrics { registry, ..m }
    }

    /// Registers the latency histograms.
    fn register_timings(&self, registry: &mut Registry) {
        registry.register(
            "scheduler_turn_seconds",
            "One turn of the scheduler loop, commit included",
            self.turn.clone(),
        );
        registry.register(
            "store_commit_seconds",
            "Committing a turn's transaction to swarmd.db",
            self.commit.clone(),
        );
        registry.register(
            "dispatch_latency_seconds",
            "A task becoming ready to its assignment being sent to an agent",
            self.dispatch.clone(),
        );
    }

    /// Registers the counters.
    fn register_counters(&self, registry: &mut Registry) {
        registry.register(
            "attempts_ended",
            "Attempts that ended, by outcome",
            self.attempts.clone(),
        );
        registry.register(
            "expired_leases",
            "Agents lost because their lease expired",
            self.expired_leases.clone(),
        );
        registry.register(
            "rejected_results",
            "Late or foreign results refused",
            self.rejected_results.clone(),
        );
        registry.register(
            "checkpoints",
            "Checkpoint reports written",
            self.checkpoints.clone(),
        );
        registry.register(
            "agents_provisioned",
            "Agents a provisioner started",
            self.provisioned.clone(),
        );
        registry.register(
            "agents_provision_failed",
            "Agents a provisioner could not start",
            self.provision_failed.clone(),
        );
    }

    /// Registers the gauges read at the scrape.
    fn register_gauges(&self, registry: &mut Registry) {
        registry.register("tasks", "Tasks of the plan by state", self.tasks.clone());
        registry.register("agents", "Agents by role and state", self.agents.clone());
        registry.register(
            "memory_entries",
            "Live entries in the shared memory",
            self.memory_entries.clone(),
        );
        registry.register(
            "memory_bytes",
            "Bytes of the shared memory's values",
            self.memory_bytes.clone(),
        );
        registry.register(
            "store_file_bytes",
            "Size of the store files on disk",
            self.store_bytes.clone(),
        );
        registry.register(
            "cost_usd_total",
            "Dollars the plan's attempts spent, by role",
            self.cost_usd.clone(),
        );
        registry.register(
            "tokens_total",
            "Tokens the plan's attempts used, by role and kind (input, output, cache_creation, cache_read)",
            self.tokens.clone(),
        );
    }

    /// Counts a committed event of kind `kind`.
    pub fn count_event(&self, kind: &str) {
        match kind {
            "agent.lost" => {
                self.expired_leases.inc();
            }
            "attempt.rejected" => {
                self.rejected_results.inc();
            }
            "checkpoint.reported" => {
                self.checkpoints.inc();
            }
            "agent.provisioned" => {
                self.provisioned.inc();
            }
            "agent.provision_failed" => {
                self.provision_failed.inc();
            }
            _ => {
                if let Some(outcome) = kind.strip_prefix("attempt.") {
                    if matches!(
                        outcome,
                        "succeeded"
                            | "failed"
                            | "timed_out"
                            | "cancelled"
                            | "lost"
                            | "rate_limited"
                    ) {
                        self.attempts
                            .get_or_create(&vec![("outcome".to_string(), outcome.to_string())])
                            .inc();
                    }
                }
            }
        }
    }

    /// A turn finished (at `now_ms`) after `took`, `commit` of it
    /// committing.
    pub fn turned(&self, now_ms: i64, took: Duration, commit: Duration) {
        self.turn.observe(took.as_secs_f64());
        self.commit.observe(commit.as_secs_f64());
        self.last_turn_ms.store(now_ms, Ordering::Relaxed);
    }

    /// When the loop last finished a turn (0: never).
    pub fn last_turn_ms(&self) -> i64 {
        self.last_turn_ms.load(Ordering::Relaxed)
    }

    /// Replaces a gauge family's values.
    pub fn set_all(family: &Family<Labels, Gauge>, values: &[(Labels, i64)]) {
        family.clear();
        for (labels, v) in values {
            family.get_or_create(labels).set(*v);
        }
    }

    /// Sets the spend families from a plan's spend by role.
    pub fn set_spend(&self, by_role: &[crate::views::SpendLine]) {
        self.cost_usd.clear();
        self.tokens.clear();
        for line in by_role {
            let t = &line.tally;
            self.cost_usd
                .get_or_create(&label("role", &line.name))
                .set(t.cost_usd);
            for (kind, n) in [
                ("input", t.input_tokens),
                ("output", t.output_tokens),
                ("cache_creation", t.cache_creation_tokens),
                ("cache_read", t.cache_read_tokens),
            ] {
                let labels = vec![
                    ("role".to_string(), line.name.clone()),
                    ("kind".to_string(), kind.to_string()),
                ];
                self.tokens
                    .get_or_create(&labels)
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
    }

    /// The text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// A one-label set.
pub fn label(name: &str, value: &str) -> Labels {
    vec![(name.to_string(), value.to_string())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_count_and_the_text_names_every_metric() {
        let m = Metrics::new();
        for k in [
            "attempt.succeeded",
            "attempt.succeeded",
            "attempt.failed",
            "attempt.rate_limited",
            "attempt.offered",
            "attempt.rejected",
            "agent.lost",
        ] {
            m.count_event(k);
        }
        m.turned(1, Duration::from_millis(2), Duration::from_millis(1));
        Metrics::set_all(&m.tasks, &[(label("state", "ready"), 3)]);
        m.set_spend(&[crate::views::SpendLine {
            name: "sre".into(),
            tally: crate::views::Tally {
                cost_usd: 1.25,
                output_tokens: 40,
                ..Default::default()
            },
        }]);
        let text = m.encode();
        for line in [
            "swarmd_attempts_ended_total{outcome=\"succeeded\"} 2",
            "swarmd_attempts_ended_total{outcome=\"failed\"} 1",
            "swarmd_attempts_ended_total{outcome=\"rate_limited\"} 1",
            "swarmd_rejected_results_total 1",
            "swarmd_expired_leases_total 1",
            "swarmd_tasks{state=\"ready\"} 3",
            "swarmd_scheduler_turn_seconds_count 1",
            "# TYPE swarmd_dispatch_latency_seconds histogram",
            "swarmd_cost_usd_total{role=\"sre\"} 1.25",
            "swarmd_tokens_total{role=\"sre\",kind=\"output\"} 40",
        ] {
            assert!(text.contains(line), "{line} missing in:\n{text}");
        }
        assert!(!text.contains("offered"), "not an outcome");
        assert_eq!(m.last_turn_ms(), 1);
    }
}
