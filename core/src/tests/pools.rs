//! Pool limits at dispatch: `per_minute` holds over a sliding minute,
//! `concurrency` counts each gang member that runs, and a pool's limits
//! leave other pools alone.

use std::time::Duration;

use crate::command::Outcome;
use crate::config::{CoreConfig, PoolLimits};
use crate::testkit::{plan, Harness, TestAgent};

fn harness(pool: &str, limits: PoolLimits) -> Harness {
    let cfg = CoreConfig {
        lease_ttl: Duration::from_secs(86_400),
        pools: [(pool.to_string(), limits)].into_iter().collect(),
        ..CoreConfig::default()
    };
    Harness::with(cfg)
}

fn agents(h: &mut Harness, n: usize, role: &str) -> Vec<TestAgent> {
    (1..=n)
        .map(|i| h.connect(&format!("{role}-{i}"), &[role]))
        .collect()
}

fn offered(agents: &mut [TestAgent]) -> Vec<(String, u64)> {
    agents.iter_mut().flat_map(|a| a.assignments()).collect()
}

#[test]
fn per_minute_holds_over_a_sliding_minute() {
    let mut h = harness(
        "default",
        PoolLimits {
            per_minute: Some(2),
            ..PoolLimits::default()
        },
    );
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
        ("1.3", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut a = agents(&mut h, 3, "sre");
    let first = offered(&mut a);
    assert_eq!(first.len(), 2, "two per minute: {first:?}");
    h.advance(59_999);
    h.tick();
    assert!(offered(&mut a).is_empty(), "the minute is not over");
    h.advance(1);
    h.tick();
    assert_eq!(offered(&mut a).len(), 1);
}

#[test]
fn concurrency_counts_gang_members_and_other_pools_are_free() {
    let mut h = harness(
        "api",
        PoolLimits {
            concurrency: Some(2),
            ..PoolLimits::default()
        },
    );
    let md = plan(&[
        ("1.1", "SRE + Security", "P0", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
        ("1.3", "SRE", "P2", 1, ""),
    ])
    .replace(
        "- **Run**: `true`\n",
        "- **Run**: `true`\n- **Pool**: api\n",
    );
    // 1.3 draws on another pool.
    let md = md.replace(
        "**Task 1.3**: Task 1.3\n- **Agent**: SRE\n- **Priority**: P2\n- **Duration**: 1 hours\n- **Dependencies**: None\n- **Run**: `true`\n- **Pool**: api\n",
        "**Task 1.3**: Task 1.3\n- **Agent**: SRE\n- **Priority**: P2\n- **Duration**: 1 hours\n- **Dependencies**: None\n- **Run**: `true`\n- **Pool**: other\n",
    );
    h.load(&md).expect("loads");
    let mut sec = agents(&mut h, 1, "security");
    let mut sre = agents(&mut h, 3, "sre");
    let mut got: Vec<String> = offered(&mut sre).into_iter().map(|(t, _)| t).collect();
    got.extend(offered(&mut sec).into_iter().map(|(t, _)| t));
    got.sort();
    got.dedup();
    assert_eq!(got, ["1.1", "1.3"], "the gang fills the pool; 1.2 waits");
    let gang_fence = h.task("1.1").attempts[0].attempt;
    h.report(&sre[0], "1.1", gang_fence, Outcome::Succeeded);
    h.report(&sec[0], "1.1", gang_fence, Outcome::Succeeded);
    h.tick();
    let next: Vec<String> = offered(&mut sre).into_iter().map(|(t, _)| t).collect();
    assert_eq!(next, ["1.2"], "room again");
}

#[test]
fn a_role_s_profile_names_the_pool_of_its_tasks() {
    let dir = tempfile::tempdir().expect("tmp");
    let roles = dir.path().join("roles.toml");
    std::fs::write(&roles, "[[role]]\nname = \"sre\"\npool = \"anthropic\"\n").expect("roles");
    let cfg = CoreConfig {
        lease_ttl: Duration::from_secs(86_400),
        roles_file: Some(roles),
        pools: [(
            "anthropic".to_string(),
            PoolLimits {
                concurrency: Some(1),
                ..PoolLimits::default()
            },
        )]
        .into_iter()
        .collect(),
        ..CoreConfig::default()
    };
    let mut h = Harness::with(cfg);
    h.load(&plan(&[
        ("1.1", "SRE", "P1", 1, ""),
        ("1.2", "SRE", "P1", 1, ""),
    ]))
    .expect("loads");
    let mut a = agents(&mut h, 2, "sre");
    assert_eq!(
        offered(&mut a).len(),
        1,
        "the role's pool allows one at once"
    );
}

#[test]
fn the_projection_and_the_guide_search_know_the_pools() {
    let rest = |h: &mut Harness| {
        h.load(&plan(&[
            ("1.1", "SRE", "P1", 1, ""),
            ("1.2", "SRE", "P1", 1, ""),
        ]))
        .expect("loads");
        let mut a = agents(h, 2, "sre");
        let running = offered(&mut a).len();
        (running, h.core().simulate_rest(h.now).expect("finishes"))
    };
    let mut free = Harness::with(CoreConfig::default());
    assert_eq!(rest(&mut free), (2, 3_600_000), "both at once: an hour");
    let one = PoolLimits {
        concurrency: Some(1),
        ..PoolLimits::default()
    };
    let mut held = harness("default", one);
    assert_eq!(rest(&mut held), (1, 7_200_000), "one at a time: two hours");
    let plan = held.core().plan.as_ref().expect("a plan");
    let pools = held.core().api_pools(plan.compiled());
    assert_eq!(pools.pool_of(0), Some("default"));
    assert!(pools.in_play());
}
