use super::*;

fn agent(id: usize, role: &str) -> AgentSlots {
    AgentSlots {
        id,
        role: role.to_string(),
        free: 1,
    }
}

fn roles(r: &[&str]) -> Need {
    Need::Roles(r.iter().map(|s| s.to_string()).collect())
}

#[test]
fn single_tasks_fill_free_agents_in_order() {
    let mut agents = vec![agent(10, "sre"), agent(11, "sre")];
    let needs = [roles(&["sre"]), roles(&["sre"]), roles(&["sre"])];
    let round = place(needs.iter().enumerate(), &mut agents);
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
    let round = place(needs.iter().enumerate(), &mut agents);
    assert_eq!(
        round.placements[0].agents,
        vec![(1, "devops".into()), (2, "security".into())]
    );
    let mut agents = vec![agent(1, "devops"), agent(2, "sre")];
    let round = place(needs.iter().enumerate(), &mut agents);
    assert!(round.placements.is_empty());
    assert_eq!(round.unstaffed, vec![0]);
}

#[test]
fn the_head_gang_reserves_agents_so_it_is_not_starved() {
    // The security agent is busy; the gang must keep the free devops agent
    // rather than let the single devops task behind it take it.
    let mut agents = vec![
        agent(1, "devops"),
        AgentSlots {
            id: 2,
            role: "security".into(),
            free: 0,
        },
    ];
    let needs = [roles(&["devops", "security"]), roles(&["devops"])];
    let round = place(needs.iter().enumerate(), &mut agents);
    assert!(round.placements.is_empty(), "{round:?}");
    assert_eq!(agents[0].free, 1);
}

#[test]
fn an_unstaffable_gang_reserves_nothing() {
    let mut agents = vec![agent(1, "devops")];
    let needs = [roles(&["devops", "architect"]), roles(&["devops"])];
    let round = place(needs.iter().enumerate(), &mut agents);
    assert_eq!(round.unstaffed, vec![0]);
    assert_eq!(round.placements[0].task, 1);
}

#[test]
fn two_of_the_same_role_need_two_agents() {
    let mut agents = vec![AgentSlots {
        id: 1,
        role: "devops".into(),
        free: 4,
    }];
    let needs = [roles(&["devops", "devops"])];
    let round = place(needs.iter().enumerate(), &mut agents);
    assert_eq!(round.unstaffed, vec![0]);
    let mut agents = vec![agent(1, "devops"), agent(2, "devops")];
    let round = place(needs.iter().enumerate(), &mut agents);
    assert_eq!(round.placements[0].agents.len(), 2);
}

#[test]
fn swarms_take_any_roles_and_monitoring_takes_everyone() {
    let mut agents = vec![agent(1, "sre"), agent(2, "coder"), agent(3, "qa")];
    let needs = [Need::Swarm {
        min: 2,
        max: Some(3),
    }];
    let round = place(needs.iter().enumerate(), &mut agents);
    assert_eq!(round.placements[0].agents.len(), 2);
    let mut agents = vec![agent(1, "sre"), agent(2, "coder"), agent(3, "qa")];
    let needs = [Need::Monitoring];
    let round = place(needs.iter().enumerate(), &mut agents);
    assert_eq!(round.placements[0].agents.len(), 3);
    // Busy agents are not waited for: the watch starts with the free ones.
    let mut agents = vec![
        agent(1, "sre"),
        AgentSlots {
            id: 2,
            role: "coder".into(),
            free: 0,
        },
    ];
    let round = place(needs.iter().enumerate(), &mut agents);
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
    let round = place(needs.iter().enumerate(), &mut agents);
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
