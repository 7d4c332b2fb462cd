//! Counts in words: "1 task", "2 tasks", "0 days". Every count swarmctl
//! prints beside a noun goes through [`count`].

/// `n` and `noun`, the noun plural unless `n` is 1 (`noun` is the
/// singular; the plural adds an `s`, as every noun swarmctl counts does).
pub(crate) fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u32, "task"), "1 task");
        assert_eq!(count(0u32, "day"), "0 days");
        assert_eq!(count(2u64, "error"), "2 errors");
    }
}
