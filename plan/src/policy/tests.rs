use super::*;

fn agent(id: usize, role: &str) -> AgentSlots {
    AgentSlots {
        id,
        role: role.to_string(),
        also: Vec::new(),
        free: 1,
        busy_secs: 0,
    }
}

/// The needs as candidates of an hour each, in order.
fn cands(needs: &[Need]) -> impl Iterator<Item = Candidate<'_>> {
    needs.iter().enumerate().map(|(task, need)| Candidate {
        task,
        need,
        secs: 3600,
        slack: 0,
        ready_in: 0,
        claims: &[],
    })
}

fn busy(id: usize, role: &str, secs: u64) -> AgentSlots {
    AgentSlots {
        id,
        role: role.to_string(),
        also: Vec::new(),
        free: 0,
        busy_secs: secs,
    }
}

fn roles(r: &[&str]) -> Need {
    Need::Roles(r.iter().map(|s| s.to_string()).collect())
}

#[test]
fn single_tasks_fill_free_agents_in_order() {
    let mut agents = vec![agent(10, "sre"), agent(11, "sre")];
    let needs = [roles(&["sre"]), roles(&["sre"]), roles(&["sre"])];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(round.placements.len(), 2);
    assert_eq!(
        round.placements[0],
        Placement {
            task: 0,
            agents: vec![(10, "sre".into())]
        }
    );
    assert_eq!(round.placements[1].task, 1);
}

#[test]
fn a_gang_starts_only_with_all_its_agents() {
    let mut agents = vec![agent(1, "devops"), agent(2, "security")];
    let needs = [roles(&["devops", "security"])];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(
        round.placements[0].agents,
        vec![(1, "devops".into()), (2, "security".into())]
    );
    let mut agents = vec![agent(1, "devops"), agent(2, "sre")];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert!(round.placements.is_empty());
    assert_eq!(round.unstaffed, vec![0]);
}

#[test]
fn the_head_gang_reserves_agents_so_it_is_not_starved() {
    // The security agent is busy; the gang must keep the free devops agent
    // rather than let the single devops task behind it take it.
    let mut agents = vec![agent(1, "devops"), busy(2, "security", 0)];
    let needs = [roles(&["devops", "security"]), roles(&["devops"])];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert!(round.placements.is_empty(), "{round:?}");
    assert_eq!(agents[0].free, 1);
}

#[test]
fn an_unstaffable_gang_reserves_nothing() {
    let mut agents = vec![agent(1, "devops")];
    let needs = [roles(&["devops", "architect"]), roles(&["devops"])];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(round.unstaffed, vec![0]);
    assert_eq!(round.placements[0].task, 1);
}

#[test]
fn two_of_the_same_role_need_two_agents() {
    let mut agents = vec![AgentSlots {
        free: 4,
        ..agent(1, "devops")
    }];
    let needs = [roles(&["devops", "devops"])];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(round.unstaffed, vec![0]);
    let mut agents = vec![agent(1, "devops"), agent(2, "devops")];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(round.placements[0].agents.len(), 2);
}

#[test]
fn swarms_take_any_roles_and_monitoring_takes_everyone() {
    let mut agents = vec![agent(1, "sre"), agent(2, "coder"), agent(3, "qa")];
    let needs = [Need::Swarm {
        min: 2,
        max: Some(3),
    }];
    // Nothing else wants the third agent: the swarm takes its most.
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(round.placements[0].agents.len(), 3);
    // Soon-ready work needs QA: the swarm takes its least, and not QA.
    let mut agents = vec![agent(1, "qa"), agent(2, "sre"), agent(3, "coder")];
    let mut demand = RoleDemand::new();
    demand.add(&roles(&["qa"]), 3600);
    let round = place(cands(&needs), &mut agents, &demand, &mut HeldClaims::new());
    assert_eq!(
        round.placements[0].agents,
        vec![(2, "sre".to_string()), (3, "coder".to_string())]
    );
    let mut agents = vec![agent(1, "sre"), agent(2, "coder"), agent(3, "qa")];
    let needs = [Need::Monitoring];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(round.placements[0].agents.len(), 3);
    // Busy agents are not waited for: the watch starts with the free ones.
    let mut agents = vec![agent(1, "sre"), busy(2, "coder", 0)];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(round.placements[0].agents, vec![(1, "sre".to_string())]);
}

#[test]
fn ready_keys_order_priority_then_rank() {
    let mut keys = [
        ready_key(2, 100, Some(1), 0),
        ready_key(0, 1, Some(9), 1),
        ready_key(2, 500, Some(1), 2),
    ];
    keys.sort();
    assert_eq!(
        keys.iter().map(|k| k.task).collect::<Vec<_>>(),
        vec![1, 2, 0]
    );
}

#[test]
fn monitoring_never_takes_agents_other_work_could_start_with() {
    let mut agents = vec![agent(1, "sre"), agent(2, "coder"), agent(3, "qa")];
    let needs = [Need::Monitoring, Need::Swarm { min: 2, max: None }];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(round.placements.len(), 2, "{round:?}");
    let monitor = round
        .placements
        .iter()
        .find(|p| p.task == 0)
        .expect("monitoring placed");
    let swarm = round
        .placements
        .iter()
        .find(|p| p.task == 1)
        .expect("swarm placed");
    assert_eq!(monitor.agents.len(), 1);
    assert_eq!(swarm.agents.len(), 2);
}

#[test]
fn a_swarm_takes_the_agents_least_in_demand() {
    let mut agents = vec![
        agent(1, "qa"),
        agent(2, "tester"),
        agent(3, "sre"),
        agent(4, "coder"),
    ];
    let mut demand = RoleDemand::new();
    demand.add(&roles(&["tester", "qa"]), 4 * 3600);
    demand.add(&roles(&["sre"]), 3600);
    let needs = [Need::Swarm { min: 2, max: None }];
    let round = place(cands(&needs), &mut agents, &demand, &mut HeldClaims::new());
    let ids: Vec<usize> = round.placements[0].agents.iter().map(|a| a.0).collect();
    assert_eq!(ids, vec![4, 3], "coder (no demand), then sre (least)");
}

#[test]
fn a_reserved_agent_runs_a_task_that_ends_before_its_reservation() {
    // The gang needs the SRE, busy for 4 h: it holds the backend agent
    // from then on. A 3 h backend task fits before; a 5 h one does not.
    let gang = roles(&["sre", "backend"]);
    let single = roles(&["backend"]);
    for (secs, starts) in [(3 * 3600, true), (5 * 3600, false)] {
        let mut agents = vec![busy(1, "sre", 4 * 3600), agent(2, "backend")];
        let offered = [
            Candidate {
                task: 0,
                need: &gang,
                secs: 2 * 3600,
                slack: 0,
                ready_in: 0,
                claims: &[],
            },
            Candidate {
                task: 1,
                need: &single,
                secs,
                slack: 0,
                ready_in: 0,
                claims: &[],
            },
        ];
        let round = place(
            offered,
            &mut agents,
            &RoleDemand::new(),
            &mut HeldClaims::new(),
        );
        assert_eq!(
            round.placements.len(),
            usize::from(starts),
            "{secs}: {round:?}"
        );
    }
}

#[test]
fn a_reservation_counts_the_work_reserved_before_it_and_its_slack() {
    // Two gangs queue for the one SRE (busy 2 h): the first holds it from
    // 2 h to 4 h, so the second's backend agent is held from 4 h only
    // (and, with 1 h of slack, from 5 h): a 4 h (5 h) task fits before.
    let first = roles(&["sre", "devops"]);
    let second = roles(&["sre", "backend"]);
    let single = roles(&["backend"]);
    for (slack, secs, starts) in [(0, 4, true), (0, 5, false), (3600, 5, true)] {
        let mut agents = vec![
            busy(1, "sre", 2 * 3600),
            busy(2, "devops", 2 * 3600),
            agent(3, "backend"),
        ];
        let offered = [
            Candidate {
                task: 0,
                need: &first,
                secs: 2 * 3600,
                slack: 0,
                ready_in: 0,
                claims: &[],
            },
            Candidate {
                task: 1,
                need: &second,
                secs: 2 * 3600,
                slack,
                ready_in: 0,
                claims: &[],
            },
            Candidate {
                task: 2,
                need: &single,
                secs: secs * 3600,
                slack: 0,
                ready_in: 0,
                claims: &[],
            },
        ];
        let round = place(
            offered,
            &mut agents,
            &RoleDemand::new(),
            &mut HeldClaims::new(),
        );
        assert_eq!(
            round.placements.len(),
            usize::from(starts),
            "{slack} {secs}: {round:?}"
        );
    }
}

#[test]
fn the_slack_order_puts_critical_tasks_before_higher_priorities() {
    use std::collections::BTreeSet;
    let keys = [
        ready_key(0, 3600, None, 0),
        ready_key(2, 5 * 3600, None, 1),
        ready_key(1, 2 * 3600, None, 2),
    ];
    let by_key: BTreeSet<ReadyKey> = keys.iter().copied().collect();
    let by_rank: BTreeSet<RankKey> = keys.iter().copied().map(rank_key).collect();
    let slack = DispatchOrder::new(PriorityOrder::Slack, 5 * 3600, 0);
    let order: Vec<usize> = slack.merge(&by_key, &by_rank).collect();
    assert_eq!(order, vec![1, 0, 2]);
    let strict = DispatchOrder::new(PriorityOrder::Strict, 5 * 3600, 0);
    let order: Vec<usize> = strict.merge(&by_key, &by_rank).collect();
    assert_eq!(order, vec![0, 2, 1]);
    let mut sorted = keys.to_vec();
    sorted.sort_by_key(|k| slack.sort_key(k));
    assert_eq!(
        sorted.iter().map(|k| k.task).collect::<Vec<_>>(),
        vec![1, 0, 2]
    );
    assert_eq!("Strict".parse::<PriorityOrder>(), Ok(PriorityOrder::Strict));
    let err = "fifo".parse::<PriorityOrder>().expect_err("unknown");
    assert!(err.to_string().contains("'fifo'") && err.to_string().contains("slack or strict"));
}

#[test]
fn a_multi_role_agent_is_left_free_when_its_other_role_is_needed() {
    // Agent 1 plays security and could play performance; agent 2 plays
    // only security. Performance work is waiting.
    let both = AgentSlots {
        also: vec!["performance".to_string()],
        ..agent(1, "security")
    };
    let mut demand = RoleDemand::new();
    demand.add(&roles(&["performance"]), 4 * 3600);
    let needs = [roles(&["security"])];
    let mut agents = vec![both.clone(), agent(2, "security")];
    let round = place(cands(&needs), &mut agents, &demand, &mut HeldClaims::new());
    assert_eq!(
        round.placements[0].agents,
        vec![(2, "security".to_string())]
    );
    assert_eq!(agents[0].free, 1, "the agent that could switch stays free");
    // With nothing needing performance, the first agent goes as before.
    let mut agents = vec![both, agent(2, "security")];
    let round = place(
        cands(&needs),
        &mut agents,
        &RoleDemand::new(),
        &mut HeldClaims::new(),
    );
    assert_eq!(
        round.placements[0].agents,
        vec![(1, "security".to_string())]
    );
}

proptest::proptest! {
    /// The lazy merge of the two indexes gives exactly the sorted order,
    /// whatever the priorities, guides, ranks and horizon.
    #[test]
    fn the_merge_is_the_sort(
        tasks in proptest::collection::vec((0u8..3, 0u32..4, 0u64..6, 0u32..3), 0..40),
        beyond in 0u64..2,
        strict in proptest::bool::ANY,
    ) {
        use std::collections::BTreeSet;
        let keys: Vec<ReadyKey> = tasks
            .iter()
            .enumerate()
            .map(|(i, &(p, g, r, d))| ready_key(p, r * 3600, Some(d), i).guided(g))
            .collect();
        let top = keys.iter().map(|k| k.priority).min().unwrap_or(0);
        // The horizon is at least the longest ready rank (a running task
        // may reach further).
        let horizon = keys.iter().map(|k| k.rank.0 / 3600).max().unwrap_or(0) + beyond;
        let mode = if strict { PriorityOrder::Strict } else { PriorityOrder::Slack };
        let order = DispatchOrder::new(mode, horizon * 3600, top);
        let by_key: BTreeSet<ReadyKey> = keys.iter().copied().collect();
        let by_rank: BTreeSet<RankKey> = keys.iter().copied().map(rank_key).collect();
        let merged: Vec<usize> = order.merge(&by_key, &by_rank).collect();
        let mut sorted = keys.clone();
        sorted.sort_by_key(|k| order.sort_key(k));
        let sorted: Vec<usize> = sorted.iter().map(|k| k.task).collect();
        proptest::prop_assert_eq!(merged, sorted);
    }
}

#[test]
fn tasks_whose_claims_overlap_never_start_together() {
    let needs = [roles(&["sre"]), roles(&["sre"]), roles(&["sre"])];
    let claims = [
        vec!["scripts/backup/**".to_string()],
        vec!["scripts/backup/run.sh".to_string()],
        vec!["docs/backup.md".to_string()],
    ];
    let offered = || {
        needs.iter().enumerate().map(|(task, need)| Candidate {
            task,
            need,
            secs: 3600,
            slack: 0,
            ready_in: 0,
            claims: &claims[task],
        })
    };
    // The second overlaps the first, which starts in the same round.
    let mut agents = vec![agent(1, "sre"), agent(2, "sre"), agent(3, "sre")];
    let mut held = HeldClaims::new();
    let round = place(offered(), &mut agents, &RoleDemand::new(), &mut held);
    let started: Vec<usize> = round.placements.iter().map(|p| p.task).collect();
    assert_eq!(started, [0, 2]);
    assert!(held.blocks(&claims[1]));
    // A claim held by running work keeps an overlapping task back too.
    let mut agents = vec![agent(1, "sre"), agent(2, "sre"), agent(3, "sre")];
    let running = vec!["scripts/**".to_string()];
    let mut held = HeldClaims::new();
    held.hold(&running);
    let round = place(offered(), &mut agents, &RoleDemand::new(), &mut held);
    let started: Vec<usize> = round.placements.iter().map(|p| p.task).collect();
    assert_eq!(started, [2]);
}
