//! Attempts' tokens: what each stands for ([`Grant`]), the live ones
//! ([`Grants`], written by the scheduler loop alone and read by the
//! services), and how they are minted ([`TokenMint`]).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, RwLock};

/// What an attempt's token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The task.
    pub task_id: String,
    /// The attempt's fencing number.
    pub attempt: u64,
}

/// The tokens of live attempts. The scheduler loop alone adds and removes
/// them (when an attempt is offered or recovered, and when it ends); the
/// services only read.
#[derive(Clone, Default)]
pub struct Grants(Arc<RwLock<HashMap<String, Grant>>>);

impl Grants {
    /// An attempt's token is valid from now on.
    pub fn grant(&self, token: String, grant: Grant) {
        if let Ok(mut map) = self.0.write() {
            map.insert(token, grant);
        }
    }

    /// An attempt's token is dead from now on.
    pub fn revoke(&self, token: &str) {
        if let Ok(mut map) = self.0.write() {
            map.remove(token);
        }
    }

    /// What `token` stands for, while its attempt is live.
    pub fn get(&self, token: &str) -> Option<Grant> {
        self.0.read().ok()?.get(token).cloned()
    }
}

/// Random bytes read from the OS at once: 256 tokens' worth.
const POOL_BYTES: usize = 4096;

/// Mints attempts' tokens: 128 random bits from the OS each. Dispatch is
/// a hot path, so the bytes are read 4 KiB at a time from a file kept open
/// and each is used once.
#[derive(Default)]
pub struct TokenMint {
    urandom: Option<std::fs::File>,
    pool: Vec<u8>,
    /// Minted so far (keeps the fallback unique).
    count: u64,
}

impl TokenMint {
    /// A new token, as 32 hex digits.
    pub fn mint(&mut self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.count += 1;
        for _ in 0..2 {
            if self.pool.len() < 16 && !self.refill() {
                continue;
            }
            let at = self.pool.len() - 16;
            let mut out = String::with_capacity(32);
            for b in self.pool.drain(at..) {
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
            return out;
        }
        // No OS randomness: a unique token that is not secret, said loudly.
        tracing::error!("cannot read /dev/urandom; attempt tokens are not secret");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("nonrandom-{nanos:x}-{}", self.count)
    }

    /// Fills the pool from the OS; false when it cannot.
    fn refill(&mut self) -> bool {
        if self.urandom.is_none() {
            self.urandom = std::fs::File::open("/dev/urandom").ok();
        }
        let mut fresh = vec![0u8; POOL_BYTES];
        match self.urandom.as_mut().map(|f| f.read_exact(&mut fresh)) {
            Some(Ok(())) => {
                self.pool = fresh;
                true
            }
            _ => {
                self.urandom = None;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_are_hex_and_distinct() {
        let mut mint = TokenMint::default();
        let tokens: std::collections::HashSet<String> = (0..1000).map(|_| mint.mint()).collect();
        assert_eq!(tokens.len(), 1000);
        assert!(tokens
            .iter()
            .all(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit())));
    }
}
