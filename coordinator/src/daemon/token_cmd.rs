//! `swarmd token add|list|remove`: the named tokens of a workdir
//! ([`crate::edge::named_tokens`]), changed on the coordinator's host
//! whether or not swarmd runs; a running swarmd sees the change at the
//! next call.

use std::path::Path;

use clap::Subcommand;

use crate::daemon::exit::Exit;
use crate::edge::named_tokens::{self, TokenScope};

/// `swarmd token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Make a token named NAME and print it (once: only its SHA-256 is
    /// kept, in WORKDIR/.swarm/named.tokens). What it does is recorded
    /// under NAME.
    Add {
        /// Letters, digits, '.', '_', '-' or '@' (not admin, viewer,
        /// agent or swarmd).
        name: String,
        /// admin (everything) or viewer (every read, no change).
        #[arg(long, value_parser = ["admin", "viewer"])]
        scope: String,
    },
    /// The named tokens: name, scope and when each was made.
    List {
        /// An array of {"name", "scope", "created"} objects.
        #[arg(long)]
        json: bool,
    },
    /// Remove the token named NAME; it is refused from the next call on.
    Remove {
        /// Its name.
        name: String,
    },
}

/// Runs `cmd` on the state directory `state`.
pub fn run(state: &Path, cmd: &TokenCmd) -> Exit {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        eprintln!("swarmd token {what}: {e}");
        Exit::Usage
    };
    if let Err(e) = crate::daemon::statedir::secure(state) {
        return fail("", &format!("cannot close {}: {e}", state.display()));
    }
    match cmd {
        TokenCmd::Add { name, scope } => {
            let scope = TokenScope::parse(scope).unwrap_or(TokenScope::Viewer);
            match named_tokens::add(state, name, scope, swarm_memory::now_ms()) {
                Ok(token) => {
                    println!("{token}");
                    eprintln!(
                        "swarmd token add: {name} ({}) made; the token above is shown only now",
                        scope.name()
                    );
                    Exit::Ok
                }
                Err(e) => fail("add", &e),
            }
        }
        TokenCmd::List { json } => match named_tokens::read(state) {
            Ok(list) => {
                let rows = list.iter().map(|t| {
                    let created = crate::workers::backups::stamp(t.created_ms);
                    (t.name.as_str(), t.scope.name(), created)
                });
                if *json {
                    let all: Vec<_> = rows
                        .map(|(name, scope, created)| {
                            serde_json::json!({"name": name, "scope": scope, "created": created})
                        })
                        .collect();
                    println!("{:#}", serde_json::Value::Array(all));
                } else {
                    println!("{:<24} {:<7} CREATED", "NAME", "SCOPE");
                    for (name, scope, created) in rows {
                        println!("{name:<24} {scope:<7} {created}");
                    }
                }
                Exit::Ok
            }
            Err(e) => fail("list", &e),
        },
        TokenCmd::Remove { name } => match named_tokens::remove(state, name) {
            Ok(()) => {
                println!("removed {name}");
                Exit::Ok
            }
            Err(e) => fail("remove", &e),
        },
    }
}
