//! Fuzzes the TOML plan reader: no input may panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarm_plan::{analyse, compile, parse, Catalogue, Format};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(plan) = compile(parse(&text, "fuzz.toml", Format::Toml), &Catalogue::builtin()) {
        let _ = analyse(&plan);
    }
});
