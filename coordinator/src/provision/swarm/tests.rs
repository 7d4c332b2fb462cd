//! Unit tests of the swarm provisioner that need no engine: which task
//! holds a slot, and the settings check.

use std::collections::HashMap;

use bollard::models::{ContainerStatus, ObjectVersion, Task, TaskState, TaskStatus};

use super::*;

fn task(id: &str, slot: i64, version: u64, desired: TaskState, state: TaskState) -> Task {
    Task {
        id: Some(id.into()),
        service_id: Some("svc-id".into()),
        slot: Some(slot),
        version: Some(ObjectVersion {
            index: Some(version),
        }),
        desired_state: Some(desired),
        status: Some(TaskStatus {
            state: Some(state),
            container_status: Some(ContainerStatus {
                exit_code: (state == TaskState::COMPLETE).then_some(0),
                ..ContainerStatus::default()
            }),
            ..TaskStatus::default()
        }),
        ..Task::default()
    }
}

#[test]
fn a_slot_is_held_by_its_live_task_else_its_newest() {
    let ids = HashMap::from([("svc-id".to_string(), "swarm-demo-sre".to_string())]);
    let tasks = vec![
        // Slot 1: an old failure, then its restart, which runs.
        task("a", 1, 10, TaskState::SHUTDOWN, TaskState::FAILED),
        task("b", 1, 5, TaskState::RUNNING, TaskState::RUNNING),
        // Slot 2: drained (exited 0, not restarted).
        task("c", 2, 7, TaskState::SHUTDOWN, TaskState::COMPLETE),
        // Slot 3: two dead tasks; the newest counts.
        task("d", 3, 3, TaskState::SHUTDOWN, TaskState::FAILED),
        task("e", 3, 9, TaskState::SHUTDOWN, TaskState::REJECTED),
        // Another service's task is not ours.
        Task {
            service_id: Some("other".into()),
            ..task("f", 1, 1, TaskState::RUNNING, TaskState::RUNNING)
        },
    ];
    let slots = current_slots(tasks, &ids);
    let held: Vec<(u64, &str, TaskState)> = slots
        .iter()
        .map(|t| (t.slot, t.id.as_str(), t.state))
        .collect();
    assert_eq!(
        held,
        vec![
            (1, "b", TaskState::RUNNING),
            (2, "c", TaskState::COMPLETE),
            (3, "e", TaskState::REJECTED),
        ]
    );
    assert_eq!(slots[1].exit_code, Some(0));
}

#[test]
fn settings_are_checked_and_the_token_is_never_shown() {
    let ok = SwarmSettings {
        image: " swarm-agent:dev ".into(),
        coordinator_url: "http://10.0.0.5:7420/".into(),
        agent_token: "s3cret".into(),
        network: None,
        extra_args: vec![],
        extra_env: vec![],
        tls: swarm_client::TlsFiles::default(),
        placement: Default::default(),
    };
    let checked = validated(ok.clone()).expect("valid");
    assert_eq!(checked.image, "swarm-agent:dev");
    assert_eq!(checked.coordinator_url, "http://10.0.0.5:7420");
    let bad = validated(SwarmSettings {
        coordinator_url: "10.0.0.5:7420".into(),
        ..ok.clone()
    })
    .expect_err("no scheme")
    .to_string();
    assert!(
        bad.contains("coordinator_url") && bad.contains("http://"),
        "{bad}"
    );
    let bad = validated(SwarmSettings {
        agent_token: " ".into(),
        ..ok.clone()
    })
    .expect_err("no token")
    .to_string();
    assert!(bad.contains("agent_token"), "{bad}");
    assert!(!bad.contains("s3cret"));
}
