//! The web view in a real browser: swarmd runs a plan, headless Chromium
//! (over the DevTools protocol) is refused without the admin token, logs
//! in through the form, sees every task with the state `swarmctl tasks`
//! gives, and sees the states change as tasks finish without reloading
//! (the page follows `/api/events`). A screenshot goes to
//! `target/web-view.png` for a person to look at.

use std::path::PathBuf;

use swarm_tests::browser::{chromium, Browser};
use swarm_tests::{free_port, http_get, task_states, write_plan, Daemon};

/// The plan: 1.1 and 1.4 run at once, 1.2 waits for the test's go-ahead
/// file, 1.3 and 2.1 follow it.
fn plan(gate: &str) -> String {
    format!(
        "# Web View\n\n### Day 1: Build\n\n\
**Task 1.1**: Prepare the ground\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 2 hours\n- **Dependencies**: None\n- **Run**: `sleep 1; echo prepared-the-ground`\n\n\
**Task 1.2**: Wait for the go-ahead\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 3 hours\n- **Dependencies**: Task 1.1\n- **Run**: `while [ ! -f {gate} ]; do sleep 0.05; done; echo went-ahead`\n\n\
**Task 1.3**: Check the work\n- **Agent**: QA\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.2\n- **Run**: `sleep 1; echo checked`\n\n\
**Task 1.4**: Side work\n- **Agent**: QA\n- **Priority**: P2\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `sleep 2; echo side`\n\n\
### Day 2: Ship\n\n\
**Task 2.1**: Ship it\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 2 hours\n- **Dependencies**: Task 1.3, Task 1.4\n- **Run**: `sleep 1; echo shipped`\n"
    )
}

/// The states the page shows in its task table, by task id.
const TABLE_STATES: &str = "JSON.stringify(Object.fromEntries(Array.from(document.querySelectorAll('#tasks tr[data-task]')).map(r => [r.dataset.task, r.dataset.state])))";

fn page_states(b: &mut Browser) -> std::collections::BTreeMap<String, String> {
    let text = b.eval(TABLE_STATES);
    serde_json::from_str(text.as_str().expect("a JSON string")).expect("states")
}

fn screenshot_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    std::fs::create_dir_all(&target).expect("target dir");
    target.join("web-view.png")
}

#[test]
fn the_web_view_logs_in_and_follows_the_plan_live_in_a_real_browser() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var_os("SWARM_REQUIRE_BROWSER").is_none(),
            "SWARM_REQUIRE_BROWSER is set but no chromium is installed"
        );
        eprintln!("skipped: no chromium (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let gate = dir.path().join("go-ahead");
    let http = format!("127.0.0.1:{}", free_port());
    // One plan hour a second from a Monday morning, so the Gantt chart
    // has bars to show.
    let d = Daemon::start_with(
        dir.path(),
        free_port(),
        &[
            "--http",
            &http,
            "--start",
            "2026-11-23T09:00",
            "--time-scale",
            "3600",
        ],
    );
    let file = write_plan(dir.path(), "plan.md", &plan(&gate.display().to_string()));
    d.ctl_json(&["plan", "load", &file.display().to_string(), "--json"]);
    let _sre = d.agent("sre-1", &["sre"]);
    let _qa = d.agent("qa-1", &["qa"]);
    let admin = std::fs::read_to_string(dir.path().join(".swarm/admin.token")).expect("token");

    // Without the token: the panels and the event stream refuse.
    for path in [
        "/view/tasks",
        "/view/dag.svg",
        "/api/events",
        "/view/task/1.1",
    ] {
        assert_eq!(http_get(&http, path, None).0, 401, "{path} without a token");
    }
    let (code, svg) = http_get(&http, "/view/dag.svg", Some(admin.trim()));
    assert_eq!(code, 200, "the admin token as a bearer: {svg}");

    let mut b = Browser::start(&binary);
    let home = format!("http://{http}/");
    b.goto(&home);
    assert_eq!(
        b.eval("document.getElementById('login') !== null && document.getElementById('tasks') === null"),
        true,
        "a browser without a session gets the login form"
    );
    // A wrong token: refused, still the form.
    b.eval("document.getElementById('token').value = 'not-the-token'; document.getElementById('login').submit(); true");
    b.wait_for(
        "the refusal",
        20,
        "document.readyState === 'complete' && (document.getElementById('message')?.textContent || '').includes('neither an admin token')",
    );
    // The admin token: the view, with a cookie scripts cannot read.
    b.eval(&format!(
        "document.getElementById('token').value = '{}'; document.getElementById('login').submit(); true",
        admin.trim()
    ));
    b.wait_for(
        "the view after logging in",
        20,
        "document.getElementById('tasks') !== null",
    );
    assert_eq!(
        b.eval("document.cookie.includes('swarmd_session')"),
        false,
        "the session cookie is HttpOnly"
    );

    // Every task, in the graph and the table; 1.2 running while it waits.
    b.wait_for(
        "every task in the graph and the table",
        30,
        "document.querySelectorAll('#dag g[data-task]').length === 5 && document.querySelectorAll('#tasks tr[data-task]').length === 5",
    );
    b.wait_for(
        "1.2 running in the page",
        30,
        "document.querySelector('#tasks tr[data-task=\"1.2\"]')?.dataset.state === 'running'",
    );
    let shown = page_states(&mut b);
    assert_eq!(shown["1.1"], "succeeded", "{shown:?}");
    assert_eq!(shown["1.2"], "running", "{shown:?}");
    assert_eq!(shown["2.1"], "pending", "{shown:?}");
    let critical = b.eval("Array.from(document.querySelectorAll('#dag g.critical')).map(g => g.dataset.task).join(',')");
    assert_eq!(critical, "1.1,1.2,1.3,2.1", "the critical path is marked");
    let reloads = b.eval("performance.getEntriesByType('navigation').length");

    // The go-ahead: the page follows without being reloaded.
    std::thread::sleep(std::time::Duration::from_secs(1)); // a longer bar in the picture
    std::fs::write(&gate, b"go").expect("gate");
    b.wait_for(
        "every task succeeded in the page",
        60,
        "Array.from(document.querySelectorAll('#tasks tr[data-task]')).every(r => r.dataset.state === 'succeeded') && document.querySelectorAll('#dag g.st-succeeded').length === 5",
    );
    assert_eq!(
        b.eval("performance.getEntriesByType('navigation').length"),
        reloads
    );
    let events = b.eval(
        "Array.from(document.querySelectorAll('#events li')).map(li => li.dataset.kind).join(' ')",
    );
    assert!(
        events.as_str().unwrap_or("").contains("task.succeeded"),
        "the event stream reached the page: {events}"
    );
    // What the page shows is what swarmctl says.
    let states = task_states(&d.ctl_json(&["tasks", "--json"]));
    assert_eq!(page_states(&mut b), states);

    // A checkpoint's report, and one task's attempts and log.
    assert!(d.ctl(&["standup", "run"]).status.success());
    b.wait_for(
        "the report in the page",
        30,
        "document.querySelector('#reports details[data-checkpoint]') !== null",
    );
    b.eval("document.querySelector('#dag g[data-task=\"1.1\"]').dispatchEvent(new MouseEvent('click', {bubbles: true})); true");
    b.wait_for(
        "1.1's detail with its log",
        20,
        "(document.querySelector('#detail pre.log')?.textContent || '').includes('prepared-the-ground')",
    );
    b.wait_for(
        "the Gantt chart's bars",
        20,
        "document.querySelectorAll('#gantt g.run').length >= 5",
    );
    let path = screenshot_path();
    b.screenshot(&path);
    let png = std::fs::read(&path).expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG at {}", path.display());
    eprintln!("screenshot: {}", path.display());

    // Logging out ends the session.
    b.eval("document.querySelector('header form').submit(); true");
    b.wait_for(
        "the login form after logging out",
        20,
        "document.getElementById('login') !== null",
    );
}
