//! "Apply a revised plan" in the web view: the page reads the chosen
//! file and posts its text to `/act/plan/apply` (`plan`, `file_name`,
//! `reason`, `dry_run`). A dry run answers what would change — tasks
//! added, removed and changed field by field — and the page enables its
//! Apply button; applying makes the running plan's next version under the
//! actor `web:<session>`, exactly as `swarmctl plan apply` does. A plan
//! that does not compile is refused with its `file:line`, nothing changed.
//! Who may post is decided as for every action ([`super::actions`]).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::session::form_field;
use super::Web;
use crate::edge::grpc::revise::{apply, ApplyChoice};
use swarm_core::command::PlanText;
use swarm_core::revise::Revision;

/// `POST /act/plan/apply`.
pub(super) async fn plan_apply(
    State(web): State<Arc<Web>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let actor = match super::actions::actor(&web, &headers, &body) {
        Ok(a) => a,
        Err((code, why)) => return (code, format!("{why}\n")).into_response(),
    };
    let text = form_field(&body, "plan").unwrap_or_default();
    if text.trim().is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "choose the revised plan's file (markdown or .toml)\n",
        )
            .into_response();
    }
    if text.len() as u64 > web.max_plan_bytes {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the plan has {} bytes; swarmd takes at most {} (max_plan_bytes)\n",
                text.len(),
                web.max_plan_bytes
            ),
        )
            .into_response();
    }
    let file_name = form_field(&body, "file_name")
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "revised plan".into());
    let plan = PlanText {
        toml: file_name.ends_with(".toml"),
        file_name,
        text,
        roles_toml: String::new(),
    };
    let choice = ApplyChoice {
        dry_run: form_field(&body, "dry_run").is_some_and(|v| v != "0"),
        rerun: Vec::new(),
        restart: Vec::new(),
        reason: form_field(&body, "reason").unwrap_or_default(),
    };
    let dry = choice.dry_run;
    match apply(&web.core, &web.roles, plan, choice, actor).await {
        Ok(r) => (StatusCode::OK, describe(&r, dry)).into_response(),
        Err(e) => super::failed(&e),
    }
}

/// What a revision changed, or would: a headline, then one change a line.
pub fn describe(r: &Revision, dry: bool) -> String {
    let mut out = if dry {
        format!(
            "{}: version {} would change {}\n",
            r.plan, r.version, r.summary
        )
    } else if r.applied {
        format!("{}: version {} applied: {}\n", r.plan, r.version, r.summary)
    } else {
        format!("{}: nothing changed ({})\n", r.plan, r.summary)
    };
    for line in &r.changes {
        let _ = writeln!(out, "{line}");
    }
    for (label, list) in [
        ("stopped", &r.stopped),
        ("restarted", &r.restarted),
        ("run again", &r.rerun),
        ("warning", &r.warnings),
    ] {
        for item in list {
            let _ = writeln!(out, "{label}: {item}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_says_what_would_change() {
        let r = Revision {
            plan: "P".into(),
            version: 2,
            summary: "1 added".into(),
            changes: vec!["+ task 3.1".into()],
            warnings: vec!["w".into()],
            ..Revision::default()
        };
        assert_eq!(
            describe(&r, true),
            "P: version 2 would change 1 added\n+ task 3.1\nwarning: w\n"
        );
        let applied = Revision { applied: true, ..r };
        assert!(describe(&applied, false).starts_with("P: version 2 applied: 1 added\n"));
    }
}
