//! Trace context: every assignment's environment carries `TRACEPARENT`
//! naming its attempt's span in the plan's trace, and the trace id is the
//! one kept in the store, across a reopening too.

use super::{assigned, with_bullet};
use crate::command::{Command, Outcome};
use crate::testkit::{config, plan, Harness};
use crate::trace::{span_id, traceparent, SpanKey, TraceCmd, TraceId};

fn trace_of(h: &mut Harness) -> TraceId {
    let row = h
        .ask(|reply| Command::Trace(TraceCmd::Get(reply)))
        .expect("answered")
        .expect("the plan has a trace");
    TraceId::parse(&row.trace_id).expect("32 hex digits")
}

#[test]
fn each_attempt_names_its_own_span_and_the_trace_outlives_a_reopening() {
    let mut h = Harness::on_disk(config());
    let md = with_bullet(
        &plan(&[("1.1", "SRE", "P1", 1, "")]),
        "1.1",
        "**Retries**: 1",
    );
    h.load(&md).expect("loads");
    let trace = trace_of(&mut h);
    let mut a = h.connect("sre-1", &["sre"]);
    let first = assigned(&a.inbox());
    let tp = |number| {
        traceparent(
            &trace,
            span_id(
                &trace,
                &SpanKey::Attempt {
                    task: "1.1",
                    number,
                },
            ),
        )
    };
    assert_eq!(first[0].env.get("TRACEPARENT"), Some(&tp(1)));
    h.report(&a, "1.1", first[0].attempt.attempt, Outcome::Failed);
    h.advance(1_000);
    h.tick();
    let second = assigned(&a.inbox());
    assert_eq!(second[0].attempt_no, 2);
    assert_eq!(second[0].env.get("TRACEPARENT"), Some(&tp(2)));
    assert_ne!(tp(1), tp(2));
    let mut h = h.reopen(config());
    assert_eq!(
        trace_of(&mut h),
        trace,
        "a restart continues the same trace"
    );
}

#[test]
fn the_export_mark_is_kept_by_the_loop() {
    let mut h = Harness::new();
    h.load(&plan(&[("1.1", "SRE", "P1", 1, "")]))
        .expect("loads");
    let plan_id = h
        .ask(|reply| Command::Trace(TraceCmd::Get(reply)))
        .expect("answered")
        .expect("a trace")
        .plan_id;
    h.turn(vec![Command::Trace(TraceCmd::Exported { plan_id, seq: 3 })]);
    let row = h
        .ask(|reply| Command::Trace(TraceCmd::Get(reply)))
        .expect("answered")
        .expect("a trace");
    assert_eq!(row.exported_seq, 3);
}
