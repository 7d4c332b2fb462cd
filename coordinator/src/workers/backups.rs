//! Periodic backups (`backup_interval`, `backup_keep`, `backup_dir`): the
//! same online copy as `swarmctl backup`, taken on a timer into
//! `backup-YYYYMMDDTHHMMSSZ` directories, keeping the newest few.
//!
//! A backup is written under a `.partial-` name and renamed when complete,
//! so a directory named `backup-…` is always whole; older ones are removed
//! before the rename, so there are never more than `keep`.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Prefix of a finished backup's directory.
pub const PREFIX: &str = "backup-";

/// When and where periodic backups go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periodic {
    /// Time between two backups.
    pub interval: Duration,
    /// How many are kept (at least 1).
    pub keep: usize,
    /// The directory they go into (created 0700).
    pub dir: PathBuf,
}

/// Takes a backup of `state_dir` every `p.interval` until `cancel` fires
/// (a backup being taken is finished first). Failures are logged and
/// retried at the next tick.
pub async fn run(p: Periodic, state_dir: PathBuf, cancel: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(p.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick fires at once: the first backup is one interval in.
    tick.tick().await;
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let (p2, state) = (p.clone(), state_dir.clone());
        match tokio::task::spawn_blocking(move || take(&p2, &state, swarm_memory::now_ms())).await {
            Ok(Ok(path)) => tracing::info!("backup written to {}", path.display()),
            Ok(Err(e)) => tracing::error!("periodic backup into {} failed: {e}", p.dir.display()),
            Err(e) => tracing::error!("periodic backup stopped: {e}"),
        }
    }
}

/// Takes one backup into `p.dir` and prunes to `p.keep`; returns its path.
///
/// # Errors
/// When the copy or the directory operations fail.
pub fn take(p: &Periodic, state_dir: &Path, now_ms: i64) -> Result<PathBuf, String> {
    let name = format!("{PREFIX}{}", stamp(now_ms));
    let partial = p.dir.join(format!(".partial-{name}"));
    let _ = std::fs::remove_dir_all(&partial);
    swarm_memory::backup::take(state_dir, &partial, now_ms, env!("CARGO_PKG_VERSION"))
        .map_err(|e| e.to_string())?;
    let mut done = finished(&p.dir).map_err(|e| format!("cannot list {}: {e}", p.dir.display()))?;
    let mut dest = p.dir.join(&name);
    // Two backups within a second: the second gets a suffix.
    let mut n = 1;
    while dest.exists() {
        n += 1;
        dest = p.dir.join(format!("{name}-{n}"));
    }
    // Oldest first; make room for the new one.
    done.sort();
    let excess = (done.len() + 1).saturating_sub(p.keep.max(1));
    for old in done.iter().take(excess) {
        if let Err(e) = std::fs::remove_dir_all(old) {
            tracing::warn!("cannot remove old backup {}: {e}", old.display());
        }
    }
    std::fs::rename(&partial, &dest).map_err(|e| {
        format!(
            "cannot rename {} to {}: {e}",
            partial.display(),
            dest.display()
        )
    })?;
    Ok(dest)
}

/// The finished backups in `dir`.
fn finished(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(PREFIX) && entry.path().is_dir() {
            v.push(entry.path());
        }
    }
    Ok(v)
}

/// The newest finished backup in `dir`, if any.
pub(crate) fn newest(dir: &Path) -> Option<PathBuf> {
    finished(dir).ok()?.into_iter().max()
}

/// `YYYYMMDDTHHMMSSZ` of a time in ms since the epoch (UTC).
pub(crate) fn stamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// (year, month, day) of a day count since 1970-01-01 (proleptic
/// Gregorian).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_and_sort_by_time() {
        assert_eq!(stamp(0), "19700101T000000Z");
        assert_eq!(stamp(1_795_704_305_195), "20261126T144505Z");
        assert!(stamp(1_000) < stamp(61_000));
    }

    #[test]
    fn only_the_newest_are_kept_and_each_is_whole() {
        let dir = tempfile::tempdir().expect("tmp");
        let state = dir.path().join(".swarm");
        std::fs::create_dir(&state).expect("state");
        let store = swarm_memory::Store::open(&state.join("swarmd.db")).expect("store");
        drop(store);
        let p = Periodic {
            interval: Duration::from_secs(1),
            keep: 2,
            dir: dir.path().join("backups"),
        };
        let mut taken = Vec::new();
        for i in 0..4 {
            taken.push(take(&p, &state, 1_795_704_305_000 + i * 1000).expect("backup"));
            assert!(finished(&p.dir).expect("list").len() <= 2);
        }
        let mut left = finished(&p.dir).expect("list");
        left.sort();
        assert_eq!(left, taken[2..].to_vec());
        for b in &left {
            swarm_memory::backup::verify(b).expect("whole");
        }
        // Same second twice: both kept apart.
        let again = take(&p, &state, 1_795_704_308_000).expect("backup");
        assert_ne!(again, taken[3]);
    }
}
