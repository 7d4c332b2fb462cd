use super::super::show::{rows, table};
use super::super::{load_traced, Flags, Source};
use crate::workers::notify::Format;

fn loaded(text: &str) -> Result<super::super::Loaded, String> {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("swarmd.toml");
    std::fs::write(&file, text).expect("write");
    load_traced(Some(&file), &|_| None, &Flags::default()).map_err(|e| e.to_string())
}

const TWO: &str = "workdir = \"/srv/plan\"

[[notify]]
url = \"https://hooks.slack.com/services/T0/B0/SECRETKEY\"
events = [\"task.failed\", \"gate.waiting\", \"task.waiting_operator\", \"plan\"]
format = \"slack\"

[[notify]]
name = \"pager\"
url = \"http://bot:TOKEN@127.0.0.1:9000/alerts?key=SECRETQ\"
events = [\"budget.reached\"]
";

#[test]
fn entries_are_read_in_order_with_their_names_and_formats() {
    let l = loaded(TWO).expect("valid");
    let n = &l.config.notify;
    assert_eq!(n.len(), 2);
    assert_eq!((n[0].name.as_str(), n[0].format), ("1", Format::Slack));
    assert_eq!((n[1].name.as_str(), n[1].format), ("pager", Format::Json));
    assert!(n[0].wants("task.failed") && n[0].wants("plan.succeeded"));
    assert!(n[0].wants("gate.waiting") && !n[0].wants("gate.opened"));
    assert!(n[1].wants("budget.reached") && !n[1].wants("task.failed"));
    assert_eq!(l.origin("notify"), Source::File);
    assert!(loaded("").expect("valid").config.notify.is_empty());
}

#[test]
fn config_show_names_each_entry_without_its_secrets() {
    let l = loaded(TWO).expect("valid");
    let shown = table(&rows(&l));
    assert!(shown.contains("notify.1.url"), "{shown}");
    assert!(shown.contains("\"https://hooks.slack.com/…\""), "{shown}");
    assert!(shown.contains("\"http://…@127.0.0.1:9000/…\""), "{shown}");
    assert!(shown.contains("notify.pager.events"), "{shown}");
    assert!(shown.contains("notify.1.format"), "{shown}");
    for secret in ["SECRETKEY", "TOKEN", "SECRETQ", "bot"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn a_bad_entry_is_refused_with_its_key_and_line() {
    let cases = [
        (
            "[[notify]]\nurl = \"http://a/x\"\nevents = [\"task.failed\"]\n\n[[notify]]\nurl = \"ftp://host/SECRET\"\nevents = [\"task.failed\"]\n",
            ":6: notify entry 2: url must start with http:// or https://",
        ),
        (
            "[[notify]]\nurl = \"http://a/x\"\nevents = [\"task.exploded\"]\n",
            ":3: notify entry 1: events: unknown event kind or family 'task.exploded'",
        ),
        (
            "[[notify]]\nurl = \"http://a/x\"\nevents = []\n",
            ":3: notify entry 1: events must be a non-empty array",
        ),
        (
            "[[notify]]\nurl = \"http://a/x\"\nevents = [\"plan\"]\nformat = \"xml\"\n",
            ":4: notify entry 1: format 'xml' is not one; use json or slack",
        ),
        (
            "\n[[notify]]\nevents = [\"plan\"]\n",
            ":2: notify entry 1: url is missing",
        ),
        (
            "[[notify]]\nurl = \"http://a/x\"\nevents = [\"plan\"]\nretries = 3\n",
            ":1: notify entry 1: unknown key `retries`; the keys are url, events, format and name",
        ),
        (
            "[[notify]]\nurl = \"http://a/x\"\nevents = [\"plan\"]\n[[notify]]\nurl = \"http://b/y\"\nevents = [\"plan\"]\nname = \"1\"\n",
            ":7: notify entry 2: name '1' is taken",
        ),
        (
            "notify = \"http://a/SECRET\"\n",
            ":1: notify must be an array of tables",
        ),
    ];
    for (text, want) in cases {
        let err = loaded(text).expect_err(want);
        assert!(err.contains(want), "{err}\nwanted: {want}");
        assert!(!err.contains("SECRET"), "{err}");
    }
}
