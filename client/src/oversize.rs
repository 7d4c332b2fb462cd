//! A gRPC message over a size limit, read back from the status the gRPC
//! library makes for it, so that clients can say it in words ("at most N
//! bytes") instead of passing the library's text on.
//!
//! The library reports it only as text (`OUT_OF_RANGE`, "Error, decoded
//! message length too large: found N bytes, the limit is: M bytes", or
//! "encoded" when the sender refused it); this is the one place that
//! reads that text.

/// A message that was over a size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oversize {
    /// The message's size, in bytes.
    pub found: u64,
    /// The most the limit allows, in bytes.
    pub limit: u64,
}

impl Oversize {
    /// The sizes in `status`, when it says a message was over a limit.
    pub fn of(status: &tonic::Status) -> Option<Oversize> {
        if status.code() != tonic::Code::OutOfRange {
            return None;
        }
        let text = status.message();
        if !text.contains("message length too large") {
            return None;
        }
        let found = number_after(text, "found ")?;
        let limit = number_after(text, "the limit is: ")?;
        Some(Oversize { found, limit })
    }
}

impl std::fmt::Display for Oversize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a message of {} bytes is too large: at most {} bytes go in one message",
            self.found, self.limit
        )
    }
}

/// The number that follows `label` in `text`.
fn number_after(text: &str, label: &str) -> Option<u64> {
    let rest = &text[text.find(label)? + label.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_libraries_words_are_read_and_nothing_else_is() {
        let decoded = tonic::Status::out_of_range(
            "Error, decoded message length too large: found 6257790 bytes, the limit is: 4194304 bytes",
        );
        assert_eq!(
            Oversize::of(&decoded),
            Some(Oversize {
                found: 6_257_790,
                limit: 4_194_304
            })
        );
        let encoded = tonic::Status::out_of_range(
            "Error, encoded message length too large: found 10 bytes, the limit is: 5 bytes",
        );
        assert_eq!(Oversize::of(&encoded).map(|o| o.limit), Some(5));
        let other = tonic::Status::out_of_range("day 12 is past the plan's last day");
        assert_eq!(Oversize::of(&other), None);
        let wrong_code = tonic::Status::internal(
            "Error, decoded message length too large: found 6 bytes, the limit is: 4 bytes",
        );
        assert_eq!(Oversize::of(&wrong_code), None);
        let text = Oversize::of(&decoded).expect("read").to_string();
        assert!(text.contains("at most 4194304 bytes"), "{text}");
    }
}
