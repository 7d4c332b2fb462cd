//! `swarmd run`'s summary of failures: the last lines of each failed
//! task's output, so a failed run can be understood from its own output,
//! without starting the daemon again.

use std::path::Path;

use swarm_core::model::TaskState;
use swarm_proto::v1 as pb;
use swarm_text::{count, printable};

use super::wire::RunTask;
use super::Control;

/// How many lines of a failed task's output the summary shows.
const FAILURE_TAIL_LINES: usize = 10;

/// The last lines of each failed task's output (its latest attempt), so
/// the failure can be read without starting the daemon again; the rest is
/// one `swarmctl task logs --workdir` away.
pub(crate) async fn print(client: &mut Control, tasks: &[RunTask], workdir: &Path) {
    for t in tasks.iter().filter(|t| t.state == TaskState::Failed) {
        let request = pb::TaskLogsRequest {
            id: t.id.clone(),
            attempt: 0,
            follow: false,
            number: 0,
        };
        let mut output = Vec::new();
        if let Ok(reply) = client.task_logs(request).await {
            let mut stream = reply.into_inner();
            while let Ok(Some(line)) = stream.message().await {
                output.extend_from_slice(&line.data);
            }
        }
        let tail = last_lines(&output, FAILURE_TAIL_LINES);
        let id = printable(&t.id);
        if tail.is_empty() {
            println!("\n{id} failed in attempt {} with no output", t.attempts);
            continue;
        }
        println!(
            "\n{id} failed; the last {} of attempt {} (all of it: swarmctl task logs {id} --workdir {}):",
            count(tail.len() as u64, "line"),
            t.attempts,
            workdir.display()
        );
        // A task's output may hold anything: shown, never obeyed.
        for line in tail {
            println!("  | {}", printable(&line));
        }
    }
}

/// The last `n` lines of `output`, decoded leniently.
fn last_lines(output: &[u8], n: usize) -> Vec<String> {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::last_lines;

    #[test]
    fn the_tail_is_the_last_lines_whole() {
        let out = b"one\ntwo\nthree\nfour\n";
        assert_eq!(last_lines(out, 2), ["three", "four"]);
        assert_eq!(last_lines(out, 10).len(), 4);
        assert!(last_lines(b"", 10).is_empty());
        assert_eq!(last_lines(b"no newline", 1), ["no newline"]);
    }
}
