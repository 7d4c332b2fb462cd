//! What the agent reads from `/proc`: a process's state, parent, group and
//! start time, the members of a process group, the descendants of a
//! process, and the boot id. Every reader
//! returns `None` where `/proc` is missing or unreadable (not Linux, or not
//! mounted), and the callers decide what that means.

/// The fields of `/proc/PID/stat` the agent uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    /// The pid.
    pub pid: i32,
    /// `R`, `S`, `Z`, ...
    pub state: char,
    /// The parent's pid.
    pub ppid: i32,
    /// The process group.
    pub pgrp: i32,
    /// Start time in clock ticks since boot; with the pid it names one
    /// process for the life of the machine.
    pub start: u64,
}

impl Stat {
    /// A zombie or dead entry: it runs nothing any more.
    pub(crate) fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

/// The stat of process `pid`, if it exists.
pub(crate) fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text)
}

/// Every process in group `pgid`, zombies included; `None` if `/proc`
/// cannot be read.
pub(crate) fn members(pgid: i32) -> Option<Vec<Stat>> {
    Some(all()?.into_iter().filter(|s| s.pgrp == pgid).collect())
}

/// Every process below `root` (children, their children, ...), zombies
/// included, parents before their children; `None` if `/proc` cannot be
/// read.
pub(crate) fn descendants(root: i32) -> Option<Vec<Stat>> {
    let every = all()?;
    let mut out: Vec<Stat> = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for s in every.iter().filter(|s| s.ppid == parent && s.pid != root) {
            if !out.iter().any(|o| o.pid == s.pid) {
                out.push(*s);
                parents.push(s.pid);
            }
        }
    }
    Some(out)
}

/// Every process this one can see.
fn all() -> Option<Vec<Stat>> {
    let entries = std::fs::read_dir("/proc").ok()?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let pid = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok());
        if let Some(s) = pid.and_then(stat) {
            out.push(s);
        }
    }
    Some(out)
}

/// This boot's id; a record from another boot names nothing alive.
pub(crate) fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Parses `pid (comm) state ppid pgrp session tty tpgid flags minflt
/// cminflt majflt cmajflt utime stime cutime cstime priority nice threads
/// itrealvalue starttime ...`, where comm may hold anything, `)` included.
fn parse_stat(pid: i32, text: &str) -> Option<Stat> {
    let after_comm = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let ppid = fields.get(1)?.parse().ok()?;
    let pgrp = fields.get(2)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some(Stat {
        pid,
        state,
        ppid,
        pgrp,
        start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let line =
            "4242 (we ird) (x)) S 1 4240 4240 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 987654 0";
        let s = parse_stat(4242, line).expect("valid");
        assert_eq!((s.state, s.ppid, s.pgrp), ('S', 1, 4240));
        assert_eq!(s.start, 987_654);
        assert!(parse_stat(1, "garbage").is_none());
        assert!(parse_stat(1, "1 (x) R 1 7").is_none());
    }

    #[test]
    fn reads_this_process() {
        let me = i32::try_from(std::process::id()).expect("pid");
        let s = stat(me).expect("own stat");
        assert_eq!(s.pid, me);
        assert!(!s.is_dead());
        assert!(members(s.pgrp).expect("proc").iter().any(|m| m.pid == me));
        assert_eq!(stat(me).map(|again| again.start), Some(s.start));
        assert!(boot_id().is_some());
    }

    #[test]
    fn finds_a_grandchild() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & wait"])
            .spawn()
            .expect("sh");
        let sh = i32::try_from(child.id()).expect("pid");
        let me = i32::try_from(std::process::id()).expect("pid");
        let mut found = Vec::new();
        for _ in 0..200 {
            found = descendants(me).expect("proc");
            if found.iter().any(|s| s.ppid == sh) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        for s in found.iter().filter(|s| s.ppid == sh) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(s.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let position = |pid| found.iter().position(|s| s.pid == pid);
        let grandchild = found.iter().find(|s| s.ppid == sh).expect("the sleep");
        assert!(position(sh) < position(grandchild.pid), "parents first");
    }
}
