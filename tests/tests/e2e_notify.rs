//! `[[notify]]`: events posted to webhooks while the plan runs, in both
//! formats, to a receiver written here (plain `std` sockets) that records
//! every request; a receiver that is down gets them once it is back, a
//! restart in between loses none and sends none twice, and scheduling
//! never waited for it; an `https://` receiver is posted to over TLS.
//! Secrets in the URLs never reach swarmd's log.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use swarm_tests::events::EventLog;
use swarm_tests::{free_port, wait_for, write_plan, Agent, Daemon};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    /// Path and query.
    target: String,
    /// Lower-case header names.
    headers: BTreeMap<String, String>,
    body: serde_json::Value,
}

/// An HTTP receiver on a port of its own, answering 200 to every POST.
struct Receiver {
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    /// Listens on `port` (127.0.0.1), plain HTTP.
    fn start(port: u16) -> Receiver {
        Receiver::serve(port, None)
    }

    /// Listens on a port of its own over TLS, with the server key pair of
    /// `swarmd certs init`'s set in `certs`; returns it and the port.
    fn start_https(certs: &Path) -> (Receiver, u16) {
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::pem::PemObject as _;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain = CertificateDer::pem_file_iter(certs.join("server.pem"))
            .expect("server.pem")
            .collect::<Result<Vec<_>, _>>()
            .expect("certificates");
        let key = PrivateKeyDer::from_pem_file(certs.join("server.key")).expect("server.key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("TLS settings");
        let port = free_port();
        (Receiver::serve(port, Some(Arc::new(config))), port)
    }

    fn serve(port: u16, tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("receiver listens");
        let got = Arc::new(Mutex::new(Vec::new()));
        let keep = got.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let g = match &tls {
                    None => serve_one(conn),
                    Some(config) => {
                        let Ok(tls) = tokio_rustls::rustls::ServerConnection::new(config.clone())
                        else {
                            continue;
                        };
                        serve_one(tokio_rustls::rustls::StreamOwned::new(tls, conn))
                    }
                };
                if let Some(g) = g {
                    keep.lock().expect("lock").push(g);
                }
            }
        });
        Receiver { got }
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().expect("lock").clone()
    }

    /// What came to paths starting with `prefix`.
    fn at(&self, prefix: &str) -> Vec<Got> {
        let all = self.got();
        all.into_iter()
            .filter(|g| g.target.starts_with(prefix))
            .collect()
    }
}

/// Reads one request (headers, then Content-Length bytes) and answers it.
fn serve_one(conn: impl Read + Write) -> Option<Got> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    let conn = reader.get_mut();
    conn.write_all(answer.as_bytes()).ok()?;
    conn.flush().ok()?;
    Some(Got {
        target,
        headers,
        body: serde_json::from_slice(&body).ok()?,
    })
}

/// 1.1 fails for good (exit 3, no retries); 1.2 and 1.3 run after it
/// regardless of it (no dependency on it).
const PLAN: &str = "# Notify\n\n### Day 1: Work\n\n**Task 1.1**: Break\n- **Agent**: SRE\n- **Priority**: P0\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `exit 3`\n- **Retries**: 0\n\n**Task 1.2**: Build\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n\n**Task 1.3**: Ship\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: Task 1.2\n- **Run**: `true`\n";

const SECRETS: [&str; 4] = ["SECRETPATH", "SECRETQUERY", "SECRETUSER", "SECRETSLACK"];

fn start(dir: &Path, config: &str) -> Daemon {
    let file = dir.join("swarmd.toml");
    std::fs::write(&file, config).expect("config");
    let file = file.display().to_string();
    Daemon::start_with(
        dir,
        free_port(),
        &["--config", &file, "--http", "127.0.0.1:0"],
    )
}

/// The deliveries table, read with plain SQLite: (entry, seq, kind,
/// status, attempts, last error).
fn deliveries(dir: &Path) -> Vec<(String, u64, String, String, u32, String)> {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(".swarm/swarmd.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open swarmd.db");
    let mut stmt = db
        .prepare(
            "SELECT entry, seq, kind, status, attempts, last_error FROM swarm_notify_deliveries \
             ORDER BY entry, seq",
        )
        .expect("query");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .expect("rows");
    rows.collect::<Result<_, _>>().expect("read")
}

fn kinds(got: &[Got]) -> Vec<String> {
    got.iter()
        .map(|g| g.body["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn assert_no_secret_in_the_log(dir: &Path) {
    let log = std::fs::read_to_string(dir.join("swarmd.log")).expect("log");
    for s in SECRETS {
        assert!(!log.contains(s), "{s} in swarmd's log:\n{log}");
    }
}

#[test]
fn a_failed_task_and_a_report_are_posted_in_both_formats() {
    let port = free_port();
    let rx = Receiver::start(port);
    let dir = tempfile::tempdir().expect("tmp");
    let config = format!(
        "[[notify]]\nname = \"events\"\nurl = \"http://127.0.0.1:{port}/json/SECRETPATH?key=SECRETQUERY\"\nevents = [\"task.failed\", \"checkpoint.reported\"]\n\n[[notify]]\nname = \"chat\"\nurl = \"http://hook:SECRETUSER@127.0.0.1:{port}/slack/SECRETSLACK\"\nevents = [\"task.failed\", \"checkpoint\"]\nformat = \"slack\"\n"
    );
    let d = start(dir.path(), &config);
    let _agent = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &[]);
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    // The task fails while the plan runs; the report comes as it ends.
    wait_for("task.failed as JSON", 30, || {
        kinds(&rx.at("/json/")).contains(&"task.failed".to_string())
    });
    wait_end(&d);
    let log = EventLog::read(&d);
    let of = |pred: &dyn Fn(&str) -> bool| -> Vec<u64> {
        let events = log.events().iter().filter(|e| pred(&e.kind));
        events.map(|e| e.seq).collect()
    };
    let json_wanted = of(&|k| k == "task.failed" || k == "checkpoint.reported");
    let slack_wanted = of(&|k| k == "task.failed" || k.starts_with("checkpoint."));
    assert!(
        json_wanted.len() >= 2 && slack_wanted.len() > json_wanted.len(),
        "{log}"
    );
    wait_for("every event in both formats", 60, || {
        rx.at("/json/").len() >= json_wanted.len() && rx.at("/slack/").len() >= slack_wanted.len()
    });
    let json = rx.at("/json/");
    assert_eq!(seqs(&json), json_wanted, "each once, in order");
    check_json(&d, &json);
    let slack = rx.at("/slack/");
    assert_eq!(slack.len(), slack_wanted.len(), "each once");
    check_slack(&slack);

    // Every delivery is recorded, each once, at the first try.
    wait_for("every delivery recorded", 30, || {
        delivered(dir.path()) == json.len() + slack.len()
    });
    let rows = deliveries(dir.path());
    let by = |entry: &str| {
        rows.iter()
            .filter(|r| r.0 == entry)
            .map(|r| r.1)
            .collect::<Vec<_>>()
    };
    assert_eq!(by("events"), json_wanted);
    assert_eq!(by("chat"), slack_wanted);
    assert!(
        rows.iter().all(|r| r.3 == "delivered" && r.4 == 1),
        "{rows:?}"
    );
    assert_no_secret_in_the_log(dir.path());
}

/// Waits for the plan to fail and for its last report.
fn wait_end(d: &Daemon) {
    d.wait_status(60, |s| s["state"] == "failed");
    let log = EventLog::read(d);
    let end = log.events().iter().rev().find(|e| e.kind == "plan.failed");
    let end = end.expect("plan.failed").seq;
    EventLog::wait(d, 30, "the last report", |e| {
        e.kind == "checkpoint.reported" && e.seq > end
    });
}

/// The events' sequence numbers, as posted.
fn seqs(got: &[Got]) -> Vec<u64> {
    got.iter().filter_map(|g| g.body["seq"].as_u64()).collect()
}

/// JSON: each post is the very object `swarmctl events --json` prints,
/// sent to the whole URL.
fn check_json(d: &Daemon, json: &[Got]) {
    let out = d.ctl(&["events", "--json"]);
    let printed: BTreeMap<u64, serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| (v["seq"].as_u64().unwrap_or(0), v))
        .collect();
    for g in json {
        assert_eq!(g.target, "/json/SECRETPATH?key=SECRETQUERY");
        assert_eq!(g.headers["content-type"], "application/json");
        let seq = g.body["seq"].as_u64().expect("seq");
        assert_eq!(Some(&g.body), printed.get(&seq), "event #{seq}");
    }
    let failed: Vec<&Got> = json
        .iter()
        .filter(|g| g.body["kind"] == "task.failed")
        .collect();
    assert_eq!(failed.len(), 1, "{json:?}");
    assert_eq!(failed[0].body["task_id"], "1.1");
}

/// Slack: a text naming the plan, the task and the web view; the user
/// and token before the host went as Basic authorization.
fn check_slack(slack: &[Got]) {
    let texts: Vec<&str> = slack
        .iter()
        .filter_map(|g| g.body["text"].as_str())
        .collect();
    let failed = texts
        .iter()
        .find(|t| t.starts_with("swarmd: task.failed"))
        .expect("a task.failed message");
    assert!(
        failed.contains("plan \"Notify\", task 1.1: run exited with code 3"),
        "{failed}"
    );
    assert!(
        failed.contains("\nWeb view: <http://127.0.0.1:"),
        "{failed}"
    );
    let reported = "swarmd: checkpoint.reported — plan \"Notify\"";
    assert!(texts.iter().any(|t| t.starts_with(reported)), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("swarmd: checkpoint.started")),
        "the family takes every checkpoint kind: {texts:?}"
    );
    // "hook:SECRETUSER" in base64.
    let basic = "Basic aG9vazpTRUNSRVRVU0VS";
    assert!(slack.iter().all(|g| g.headers["authorization"] == basic));
}

#[test]
fn a_receiver_that_is_down_gets_everything_once_it_is_back_and_nothing_twice() {
    let port = free_port(); // nothing listens there yet: connections are refused
    let dir = tempfile::tempdir().expect("tmp");
    let config = format!(
        "[[notify]]\nurl = \"http://127.0.0.1:{port}/hook/SECRETPATH\"\nevents = [\"task.failed\", \"checkpoint.reported\", \"plan.failed\"]\n"
    );
    let mut d = start(dir.path(), &config);
    let mut agent = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &[]);
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    // Scheduling did not wait for the receiver: the plan ran to its end
    // (1.3 after 1.2) while the first notification was still being tried.
    wait_end(&d);
    let log = EventLog::read(&d);
    log.only("1.3 succeeded", |e| e.is("task.succeeded", "1.3"));
    log.only("the plan failed", |e| e.kind == "plan.failed");
    wait_for("a failed try recorded", 30, || {
        deliveries(dir.path())
            .iter()
            .any(|r| r.3 == "pending" && r.5.starts_with("cannot connect"))
    });
    let first = wanted(&d);
    assert!(first.len() >= 3, "{log}");

    // swarmd dies with the receiver still down; the next one resumes.
    d.kill9();
    drop(agent);
    let mut d = start(dir.path(), &config);
    agent = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &[]);
    let rx = Receiver::start(port);
    wait_for("the first plan's events", 60, || {
        rx.got().len() >= first.len()
    });
    wait_for("their deliveries recorded", 30, || {
        delivered(dir.path()) == first.len()
    });

    // A restart, then new events after them: delivery is in order, so
    // whatever a restart would send twice would come before those.
    d.stop();
    drop(agent);
    let mut d = start(dir.path(), &config);
    let _agent = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &[]);
    let again = write_plan(dir.path(), "again.md", PLAN);
    d.ctl_json(&["plan", "load", &again.display().to_string(), "--json"]);
    wait_end(&d);
    let all = wanted(&d);
    assert!(
        all.len() > first.len() && all.starts_with(&first),
        "{all:?}"
    );
    wait_for("the second plan's events", 60, || {
        rx.got().len() >= all.len()
    });
    wait_for("their deliveries recorded", 30, || {
        delivered(dir.path()) == all.len()
    });
    d.stop();
    assert_eq!(seqs(&rx.got()), all, "every event once, in order");
    assert!(rx.got().iter().all(|g| g.target == "/hook/SECRETPATH"));
    let rows = deliveries(dir.path());
    assert_eq!(rows.len(), all.len(), "{rows:?}");
    let tried = rows.iter().find(|r| r.1 == first[0]).expect("the first");
    assert!(tried.4 >= 2, "tried while down, then delivered: {tried:?}");
    assert_no_secret_in_the_log(dir.path());
}

/// The sequence numbers of the events the entry of the second test
/// wants, from the log.
fn wanted(d: &Daemon) -> Vec<u64> {
    let kinds = ["task.failed", "checkpoint.reported", "plan.failed"];
    let log = EventLog::read(d);
    let seqs = log
        .events()
        .iter()
        .filter(|e| kinds.contains(&e.kind.as_str()));
    seqs.map(|e| e.seq).collect()
}

/// Deliveries recorded as delivered.
fn delivered(dir: &Path) -> usize {
    let rows = deliveries(dir);
    rows.iter().filter(|r| r.3 == "delivered").count()
}

/// An `https://` entry posts over TLS, checked against the CA that
/// `SSL_CERT_FILE` names.
#[test]
fn an_https_receiver_gets_its_events_over_tls() {
    let dir = tempfile::tempdir().expect("tmp");
    let certs = swarm_tests::certs_init(&dir.path().join("certs"), &[]);
    let (rx, port) = Receiver::start_https(&certs);
    let config = format!(
        "[[notify]]\nurl = \"https://127.0.0.1:{port}/tls/SECRETPATH\"\nevents = [\"task.failed\"]\n"
    );
    let file = dir.path().join("swarmd.toml");
    std::fs::write(&file, config).expect("config");
    let file = file.display().to_string();
    let ca = certs.join("ca.pem").display().to_string();
    let d = Daemon::start_with_env(
        dir.path(),
        free_port(),
        &["--config", &file, "--http", "off"],
        &[("SSL_CERT_FILE", &ca)],
    );
    let _agent = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &[]);
    let plan = write_plan(dir.path(), "plan.md", PLAN);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    wait_for("task.failed over TLS", 30, || !rx.got().is_empty());
    let got = rx.got();
    assert_eq!(got[0].target, "/tls/SECRETPATH");
    assert_eq!(got[0].body["kind"], "task.failed");
    assert_eq!(got[0].body["task_id"], "1.1");
    wait_for("the delivery recorded", 30, || delivered(dir.path()) == 1);
    assert_no_secret_in_the_log(dir.path());
}

/// A manual task waiting for an operator and a gate only an operator can
/// open are sent as they begin to wait, once each.
#[test]
fn an_operator_is_told_when_a_manual_task_or_a_gate_waits() {
    let port = free_port();
    let rx = Receiver::start(port);
    let dir = tempfile::tempdir().expect("tmp");
    let config = format!(
        "[[notify]]\nurl = \"http://127.0.0.1:{port}/ops/SECRETPATH\"\nevents = [\"gate.waiting\", \"task.waiting_operator\"]\nformat = \"slack\"\n"
    );
    let file = dir.path().join("swarmd.toml");
    std::fs::write(&file, config).expect("config");
    let file = file.display().to_string();
    let args = ["--config", &file, "--http", "off", "--gates"];
    let d = Daemon::start_with(dir.path(), free_port(), &args);
    let _agent = Agent::start(&d.url(), dir.path(), "sre-1", &["sre"], &[]);
    let plan = "# Gated\n\n### Day 1: Review\n\n**Task 1.1**: Review by hand\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n\n**Day 1 Exit Criteria**:\n- [ ] Reviewed\n\n### Day 2: Ship\n\n**Task 2.1**: Ship\n- **Agent**: SRE\n- **Priority**: P1\n- **Duration**: 1 hour\n- **Dependencies**: None\n- **Run**: `true`\n";
    let plan = write_plan(dir.path(), "plan.md", plan);
    d.ctl_json(&["plan", "load", &plan.display().to_string(), "--json"]);
    let text = |g: &Got| g.body["text"].as_str().unwrap_or_default().to_string();
    wait_for("the manual task's message", 30, || !rx.got().is_empty());
    let manual = text(&rx.got()[0]);
    assert!(
        manual.starts_with(
            "swarmd: task.waiting_operator — plan \"Gated\", task 1.1 (attempt 1) on sre-1: \
             waiting for an operator: swarmctl task done 1.1"
        ),
        "{manual}"
    );
    assert!(
        manual.ends_with("No web view (swarmd's HTTP listener is off)"),
        "{manual}"
    );
    assert!(d.ctl(&["task", "done", "1.1"]).status.success());
    wait_for("the gate's message", 30, || rx.got().len() >= 2);
    let gate = text(&rx.got()[1]);
    assert!(
        gate.starts_with(
            "swarmd: gate.waiting — plan \"Gated\": Day 1 exit criteria: no check commands; \
             waiting for swarmctl gate approve 1"
        ),
        "{gate}"
    );
    assert!(d.ctl(&["gate", "approve", "1"]).status.success());
    d.wait_status(30, |s| s["state"] == "succeeded");
    wait_for("both deliveries recorded", 30, || {
        delivered(dir.path()) == 2
    });
    assert_eq!(rx.got().len(), 2, "each said once");
}
