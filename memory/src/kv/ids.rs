//! Ids for new v3 rows in claude-flow's shape: `entry_<created ms>_<16
//! lowercase hex digits>`.
//!
//! The hex part only has to be unique, not secret: it is a SipHash, keyed
//! by the standard library's per-process random `RandomState`, of a process
//! counter, the wall clock in nanoseconds and the process id.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Distinguishes ids minted in the same nanosecond by this process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh id for an entry created at `created_ms`.
pub(crate) fn new_entry_id(created_ms: i64) -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(since_epoch) = SystemTime::now().duration_since(UNIX_EPOCH) {
        hasher.write_u128(since_epoch.as_nanos());
    }
    hasher.write_u32(std::process::id());
    hasher.write_i64(created_ms);
    format!("entry_{created_ms}_{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_claude_flows_shape_and_differ() {
        let a = new_entry_id(1_795_657_263_673);
        let b = new_entry_id(1_795_657_263_673);
        assert_ne!(a, b);
        for id in [&a, &b] {
            let hex = id
                .strip_prefix("entry_1795657263673_")
                .expect("prefix with the creation time");
            assert_eq!(hex.len(), 16, "{id}");
            assert!(
                hex.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "{id}"
            );
        }
    }
}
