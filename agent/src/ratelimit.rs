//! Rate limits: how an attempt says it was turned away by a rate- or
//! usage-limited API rather than failed, and when it may try again.
//!
//! In order of precedence: a file written to `$SWARM_RETRY_AFTER`
//! (seconds, or an RFC 3339 time), exit code 75 (`EX_TEMPFAIL`), or
//! Claude Code's result object with `is_error` and a rate or usage limit
//! in its text (`429`, `rate_limit`, "rate limit", "usage limit"), with
//! its reset time when the text gives one (`…|1767225600` as Claude Code
//! prints a usage limit, an RFC 3339 time, or "retry after N seconds").

use std::path::Path;

/// The exit code that says "rate limited, try again later".
pub const EX_TEMPFAIL: i32 = 75;

/// The largest `$SWARM_RETRY_AFTER` file read.
const MAX_FILE: u64 = 256;

/// What a `$SWARM_RETRY_AFTER` file said, if the task wrote one: the wall
/// time (ms) to retry at, or why the file was not understood. The file is
/// removed.
pub fn take_retry_after(path: &Path, now_ms: i64) -> Option<Result<i64, String>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).ok()?;
    let mut text = String::new();
    let read = file.take(MAX_FILE).read_to_string(&mut text);
    let _ = std::fs::remove_file(path);
    if let Err(e) = read {
        return Some(Err(format!("cannot read $SWARM_RETRY_AFTER: {e}")));
    }
    Some(retry_at(text.trim(), now_ms))
}

/// `text` as seconds from `now_ms`, or as an RFC 3339 time.
fn retry_at(text: &str, now_ms: i64) -> Result<i64, String> {
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(now_ms.saturating_add((secs * 1000.0) as i64));
        }
    }
    rfc3339_ms(text).ok_or_else(|| {
        format!(
            "$SWARM_RETRY_AFTER holds {text:?}; write seconds (\"90\") or an RFC 3339 time (\"2026-12-07T14:05:00Z\")"
        )
    })
}

/// Whether an AI CLI's error text reports a rate or usage limit.
pub fn is_rate_limit(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    ["429", "rate_limit", "rate limit", "usage limit"]
        .iter()
        .any(|k| t.contains(k))
}

/// The reset time an error text gives, wall ms: Claude Code's
/// `…limit reached|EPOCH_SECONDS`, an RFC 3339 time, or "retry after N
/// seconds" (from `now_ms`).
pub fn reset_in_text(text: &str, now_ms: i64) -> Option<i64> {
    if let Some((_, tail)) = text.rsplit_once('|') {
        if let Ok(secs) = tail.trim().parse::<i64>() {
            return Some(secs.saturating_mul(1000));
        }
    }
    let found = text
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | ',' | ';'))
        .find_map(|word| rfc3339_ms(word.trim_end_matches('.')));
    if found.is_some() {
        return found;
    }
    let lower = text.to_ascii_lowercase();
    let (_, after) = lower
        .split_once("retry after")
        .or_else(|| lower.split_once("retry-after"))?;
    let digits: String = after
        .trim_start_matches([':', ' '])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let secs: i64 = digits.parse().ok()?;
    Some(now_ms.saturating_add(secs.saturating_mul(1000)))
}

/// An RFC 3339 time (`2026-12-07T14:05:00Z`, `…T14:05:00.5+01:00`) as ms
/// since the epoch.
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if [b[4], b[7], b[13], b[16]] != [b'-', b'-', b':', b':']
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        let first3: String = digits.chars().chain("000".chars()).take(3).collect();
        ms = first3.parse::<i64>().ok()?;
        rest = &frac[digits.len()..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = rest.get(1..)?.split_once(':')?;
            if oh.len() != 2 || om.len() != 2 {
                return None;
            }
            sign * (oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?)
        }
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    Some(secs * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_with_offsets_and_fractions() {
        assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ms("2026-12-07T14:05:00Z"), Some(1_796_652_300_000));
        assert_eq!(
            rfc3339_ms("2026-12-07T15:05:00.25+01:00"),
            Some(1_796_652_300_250)
        );
        for bad in [
            "2026-12-07",
            "2026-13-07T14:05:00Z",
            "2026-12-07T14:05:00",
            "soon",
        ] {
            assert_eq!(rfc3339_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn rate_limit_texts_and_their_reset_times() {
        let now = 1_000_000;
        assert!(is_rate_limit(
            "API Error: 429 {\"type\":\"rate_limit_error\"}"
        ));
        assert!(is_rate_limit("Claude AI usage limit reached|1767225600"));
        assert!(!is_rate_limit("tests failed: 3 of 40"));
        assert_eq!(
            reset_in_text("Claude AI usage limit reached|1767225600", now),
            Some(1_767_225_600_000)
        );
        assert_eq!(
            reset_in_text("429 rate limited; resets at 2026-12-07T14:05:00Z.", now),
            Some(1_796_652_300_000)
        );
        assert_eq!(
            reset_in_text("429: retry after 30 seconds", now),
            Some(1_030_000)
        );
        assert_eq!(reset_in_text("rate limit exceeded", now), None);
    }

    #[test]
    fn the_retry_after_file_takes_seconds_or_a_time_and_names_bad_content() {
        assert_eq!(retry_at("90", 1000), Ok(91_000));
        assert_eq!(retry_at("1970-01-01T00:01:00Z", 1000), Ok(60_000));
        let err = retry_at("later", 0).expect_err("not a time");
        assert!(
            err.contains("\"later\"") && err.contains("RFC 3339"),
            "{err}"
        );
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("retry");
        assert_eq!(take_retry_after(&path, 0), None, "not written");
        std::fs::write(&path, "5\n").expect("write");
        assert_eq!(take_retry_after(&path, 0), Some(Ok(5000)));
        assert!(!path.exists(), "removed");
    }
}
