//! Phrases inside a line that the parser splits: a day title's trailing
//! length, a checkpoint's time, a checklist item's Check command.

use super::lines;
use crate::fields::{parse_duration, parse_time_of_day};

/// `Production Foundation (8 hours)` is ("Production Foundation", 8h).
pub(super) fn split_trailing_duration(text: &str) -> (String, Option<crate::model::PlanDuration>) {
    if let (Some(open), true) = (text.rfind('('), text.ends_with(')')) {
        if let Ok(d) = parse_duration(&text[open + 1..text.len() - 1]) {
            return (text[..open].trim().to_string(), Some(d));
        }
    }
    (text.trim().to_string(), None)
}

/// `Daily Standup (9:00 AM)`, `Mid-Day Check - 13:00`, `Review @ 5 PM`.
pub(super) fn split_checkpoint(text: &str) -> Option<(String, u16)> {
    let t = text.trim();
    if let (Some(open), true) = (t.rfind('('), t.ends_with(')')) {
        let minute = parse_time_of_day(&t[open + 1..t.len() - 1])?;
        return Some((t[..open].trim().to_string(), minute));
    }
    for sep in [" @ ", " at ", " - ", " – ", ": "] {
        if let Some((name, time)) = t.rsplit_once(sep) {
            if let Some(minute) = parse_time_of_day(time) {
                return Some((name.trim().to_string(), minute));
            }
        }
    }
    None
}

/// `Backups verified — **Check**: \`./verify.sh\`` is the text and the check.
pub(super) fn split_check(text: &str) -> (String, Option<String>) {
    let lower = text.to_ascii_lowercase();
    for marker in ["**check**:", "**check:**", "check:"] {
        if let Some(pos) = lower.rfind(marker) {
            let code = text[pos + marker.len()..].trim();
            if code.starts_with('`') && code.ends_with('`') {
                let before = text[..pos].trim_end_matches([' ', '—', '–', '-', ':', ';', ',']);
                return (
                    before.trim().to_string(),
                    Some(lines::unquote_code(code).to_string()),
                );
            }
        }
    }
    (text.to_string(), None)
}

/// Shortens user text quoted in a message to 80 characters.
pub(crate) fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(80).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_titles() {
        assert_eq!(
            split_checkpoint("Daily Standup (9:00 AM)"),
            Some(("Daily Standup".into(), 540))
        );
        assert_eq!(
            split_checkpoint("Mid-Day Check - 13:00"),
            Some(("Mid-Day Check".into(), 780))
        );
        assert_eq!(split_checkpoint("Communication Channels"), None);
    }

    #[test]
    fn criteria_checks() {
        assert_eq!(
            split_check("Backups verified — **Check**: `./verify.sh`"),
            ("Backups verified".into(), Some("./verify.sh".into()))
        );
        assert_eq!(split_check("Plain"), ("Plain".into(), None));
    }

    #[test]
    fn day_durations() {
        assert_eq!(
            split_trailing_duration("Production Foundation (8 hours)"),
            (
                "Production Foundation".into(),
                Some(crate::model::PlanDuration(8 * 3600))
            )
        );
        assert_eq!(
            split_trailing_duration("Launch (final)"),
            ("Launch (final)".into(), None)
        );
    }
}
