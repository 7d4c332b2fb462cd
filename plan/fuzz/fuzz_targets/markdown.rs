//! Fuzzes the markdown parser, validation and analysis: no input may panic
//! or hang, and a valid plan must survive a markdown round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarm_plan::{analyse, compile, markdown, parse, Catalogue, Format};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = parse(&text, "fuzz.md", Format::Markdown);
    if let Ok(plan) = compile(parsed, &Catalogue::builtin()) {
        let _ = analyse(&plan);
        let again = parse(&markdown::write(&plan.plan), "again.md", Format::Markdown);
        assert_eq!(again.plan, plan.plan);
    }
});
