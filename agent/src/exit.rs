//! Exit codes of `swarm-agent`, named once here; `--help`, the README and
//! `main` take them from [`Code`]:
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | drained and stopped (also `--help` and `--version`) |
//! | 1 | could not run (internal error) |
//! | 2 | invalid flags or token, or refused by the coordinator for good (bad token, invalid id or roles, incompatible version) |
//! | 3 | the id is in use by a live agent (on the coordinator, or in this workdir) |
//! | 4 | the coordinator was unreachable for `--orphan-timeout`; running attempts were stopped |
//! | 130 | a second SIGTERM or SIGINT while draining: exited at once |

/// How `swarm-agent` ended, as its process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Code {
    /// Drained and stopped; also `--help` and `--version`.
    Done = 0,
    /// Could not run: an internal error (no runtime, no signal handlers,
    /// an unusable agent directory).
    Failed = 1,
    /// Invalid flags or token, or refused by the coordinator for good.
    Refused = 2,
    /// The id is in use by a live agent.
    IdInUse = 3,
    /// The coordinator was unreachable for `--orphan-timeout`.
    Orphaned = 4,
    /// A second signal while draining: exited at once.
    Interrupted = 130,
}

impl Code {
    /// Every code, in the order `--help` lists them.
    pub const ALL: [Code; 6] = [
        Code::Done,
        Code::Failed,
        Code::Refused,
        Code::IdInUse,
        Code::Orphaned,
        Code::Interrupted,
    ];

    /// The number the process exits with.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// What the code means, as `--help` says it.
    pub fn meaning(self) -> &'static str {
        match self {
            Code::Done => "drained and stopped (also --help and --version)",
            Code::Failed => "could not run (internal error)",
            Code::Refused => {
                "invalid flags or token, or refused by the coordinator for good (bad token, \
                 invalid id or roles, incompatible version); the reason is printed"
            }
            Code::IdInUse => {
                "the id is in use by a live agent (on the coordinator, or in this workdir)"
            }
            Code::Orphaned => {
                "the coordinator was unreachable for --orphan-timeout; running attempts were \
                 stopped"
            }
            Code::Interrupted => "a second SIGTERM or SIGINT while draining: exited at once",
        }
    }

    /// The `Exit codes:` section of `--help`: each code with its meaning,
    /// wrapped under the meaning's first column so `--help` stays aligned.
    pub fn help() -> String {
        const WIDTH: usize = 92;
        let mut text = String::from("Exit codes:");
        for code in Code::ALL {
            let mut line = format!("\n  {:<3}  ", code.number());
            let indent = line.len() - 1;
            let mut used = indent;
            for word in code.meaning().split(' ') {
                if used + 1 + word.len() > WIDTH && used > indent {
                    line.push('\n');
                    line.push_str(&" ".repeat(indent));
                    used = indent;
                } else if used > indent {
                    line.push(' ');
                    used += 1;
                }
                line.push_str(word);
                used += word.len();
            }
            text.push_str(&line);
        }
        text
    }
}

impl From<Code> for std::process::ExitCode {
    fn from(code: Code) -> Self {
        std::process::ExitCode::from(code.number())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn every_code_is_listed_once_with_its_number_and_whole_meaning() {
        let help = Code::help();
        let unwrapped = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for code in Code::ALL {
            let line = format!("{} {}", code.number(), code.meaning());
            assert_eq!(unwrapped.matches(&line).count(), 1, "{help}");
        }
        assert!(help.lines().all(|l| l.len() <= 92), "{help}");
        let mut numbers: Vec<u8> = Code::ALL.iter().map(|c| c.number()).collect();
        numbers.dedup();
        assert_eq!(numbers, [0, 1, 2, 3, 4, 130]);
    }
}
