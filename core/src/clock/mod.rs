//! The plan clock: plan days are business days (Monday to Friday) counted
//! from a start date, with working hours (09:00–17:00 by default). The clock
//! runs `time_scale` times faster than wall time, from the moment the plan
//! was loaded. All times are UTC; no time-zone database is needed.

use serde::{Deserialize, Serialize};

const MS_PER_MIN: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// How a plan's days map onto time. Stored with the plan, so a restarted
/// coordinator keeps the same clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanClock {
    /// Plan time at `wall0`, ms since the epoch (UTC).
    pub start: i64,
    /// Wall time the clock started, ms since the epoch.
    pub wall0: i64,
    /// Plan time runs this many times faster than wall time.
    pub time_scale: f64,
    /// Working day start, minutes after midnight.
    pub day_start: u16,
    /// Working day end, minutes after midnight.
    pub day_end: u16,
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `Fri 2026-11-27 09:00` for a plan time.
fn stamp(plan: i64) -> String {
    let (date, time) = stamp_parts(plan);
    format!("{date} {time}")
}

/// (`Fri 2026-11-27`, `09:00`) for a plan time.
fn stamp_parts(plan: i64) -> (String, String) {
    let day = plan.div_euclid(MS_PER_DAY);
    let (y, m, d) = civil_from_days(day);
    let minute = plan.rem_euclid(MS_PER_DAY) / MS_PER_MIN;
    let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    (
        format!("{} {y:04}-{m:02}-{d:02}", names[weekday(day) as usize]),
        format!("{:02}:{:02}", minute / 60, minute % 60),
    )
}

/// 0 = Monday ... 6 = Sunday.
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

fn is_business(day: i64) -> bool {
    weekday(day) < 5
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM` (UTC) to ms since the epoch.
pub fn parse_start(text: &str) -> Result<i64, String> {
    let bad = || format!("start '{text}' must look like 2026-11-23 or 2026-11-23T09:00 (UTC)");
    let t = text.trim();
    let (date, time) = t.split_once(['T', ' ']).unwrap_or((t, "00:00"));
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let (y, m, d): (i64, u32, u32) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return Err(bad());
    }
    let minute = parse_hhmm(time).ok_or_else(bad)?;
    Ok(days_from_civil(y, m, d) * MS_PER_DAY + i64::from(minute) * MS_PER_MIN)
}

/// `09:00` is 540.
pub fn parse_hhmm(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl PlanClock {
    /// Plan time at wall time `wall`.
    pub fn plan_at(&self, wall: i64) -> i64 {
        self.start + ((wall - self.wall0) as f64 * self.time_scale) as i64
    }

    /// Wall time when the plan clock reads `plan`.
    pub fn wall_at(&self, plan: i64) -> i64 {
        self.wall0 + ((plan - self.start) as f64 / self.time_scale).ceil() as i64
    }

    /// Plan-time milliseconds for `wall_ms` of wall time.
    pub fn scale(&self, wall_ms: i64) -> i64 {
        (wall_ms as f64 * self.time_scale) as i64
    }

    /// The business day plan day 1 falls on: the start's date if it is a
    /// business day, else the next one.
    fn first_day(&self) -> i64 {
        let mut d = self.start.div_euclid(MS_PER_DAY);
        while !is_business(d) {
            d += 1;
        }
        d
    }

    /// The calendar day (days since the epoch) of plan day `n` (1-based).
    pub fn calendar_day(&self, n: u32) -> i64 {
        let mut d = self.first_day();
        let mut left = n.saturating_sub(1);
        while left > 0 {
            d += 1;
            if is_business(d) {
                left -= 1;
            }
        }
        d
    }

    /// Plan time when plan day `n` starts (its working hours begin).
    pub fn day_starts(&self, n: u32) -> i64 {
        self.calendar_day(n) * MS_PER_DAY + i64::from(self.day_start) * MS_PER_MIN
    }

    /// Plan time when a window `offset_secs` into plan day `n` opens:
    /// windows are laid end to end from the start of the working day, and
    /// one that would open after the working day ends opens at its end.
    pub fn window_opens(&self, n: u32, offset_secs: u64) -> i64 {
        let working_ms = i64::from(self.day_end.saturating_sub(self.day_start)) * MS_PER_MIN;
        let offset_ms = i64::try_from(offset_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        self.day_starts(n) + offset_ms.min(working_ms)
    }

    /// The plan day a plan time falls in (1-based): the last business day
    /// whose working hours have begun by then; 1 before the first.
    pub fn plan_day(&self, plan: i64) -> u32 {
        let first = self.first_day();
        let mut day = plan.div_euclid(MS_PER_DAY);
        if plan.rem_euclid(MS_PER_DAY) < i64::from(self.day_start) * MS_PER_MIN {
            day -= 1;
        }
        while day > first && !is_business(day) {
            day -= 1;
        }
        if day <= first {
            return 1;
        }
        // Business days from `first` to `day`, both included.
        let mut n = 0u32;
        let mut d = first;
        while d <= day {
            if is_business(d) {
                n += 1;
            }
            d += 1;
        }
        n
    }

    /// A plan time as a person reads it: `Day 2 (Tue 2026-11-24) 13:00`
    /// within working hours (both ends included); outside them it says
    /// which working day comes next or which one is over:
    /// `before Day 1 (opens Fri 2026-11-27 09:00)`,
    /// `after Day 2's hours (Tue 2026-11-24 19:30)`.
    pub fn label(&self, plan: i64) -> String {
        let day = plan.div_euclid(MS_PER_DAY);
        let minute = plan.rem_euclid(MS_PER_DAY) / MS_PER_MIN;
        let (start, end) = (i64::from(self.day_start), i64::from(self.day_end));
        let n = self.plan_day(plan);
        if plan < self.day_starts(1) {
            return format!("before Day 1 (opens {})", stamp(self.day_starts(1)));
        }
        if is_business(day) && minute < start {
            return format!(
                "before Day {} (opens {})",
                n + 1,
                stamp(self.day_starts(n + 1))
            );
        }
        if !is_business(day) || minute > end {
            return format!("after Day {n}'s hours ({})", stamp(plan));
        }
        let (date, time) = stamp_parts(plan);
        format!("Day {n} ({date}) {time}")
    }

    /// The first checkpoint strictly after plan time `after`, among the
    /// given times of day, on a business day on or after plan day 1:
    /// (plan time, index into `times`).
    pub fn next_checkpoint(&self, after: i64, times: &[u16]) -> Option<(i64, usize)> {
        if times.is_empty() {
            return None;
        }
        let first = self.first_day();
        let from = after.div_euclid(MS_PER_DAY).max(first);
        for day in from..from + 14 {
            if is_business(day) {
                let mut best: Option<(i64, usize)> = None;
                for (i, &t) in times.iter().enumerate() {
                    let at = day * MS_PER_DAY + i64::from(t) * MS_PER_MIN;
                    if at > after && best.is_none_or(|(b, _)| at < b) {
                        best = Some((at, i));
                    }
                }
                if best.is_some() {
                    return best;
                }
            }
        }
        None
    }

    /// Working hours per day.
    pub fn day_hours(&self) -> f64 {
        f64::from(self.day_end.saturating_sub(self.day_start)) / 60.0
    }

    /// Working hours from the opening of Day 1 to plan time `plan`
    /// (nights and weekends skipped; 0 before Day 1 opens): the axis of
    /// the web view's Gantt chart, on which plans give their durations.
    pub fn working_hours(&self, plan: i64) -> f64 {
        let n = self.plan_day(plan);
        let working = i64::from(self.day_end.saturating_sub(self.day_start)) * MS_PER_MIN;
        let into_day = (plan - self.day_starts(n)).clamp(0, working);
        f64::from(n - 1) * self.day_hours() + into_day as f64 / 3_600_000.0
    }

    /// Plan time after `work_ms` of working time from plan time `from`,
    /// skipping nights and weekends.
    pub fn add_working(&self, from: i64, work_ms: i64) -> i64 {
        let (ds, de) = (
            i64::from(self.day_start) * MS_PER_MIN,
            i64::from(self.day_end) * MS_PER_MIN,
        );
        let mut at = from;
        let mut left = work_ms.max(0);
        for _ in 0..100_000 {
            let day = at.div_euclid(MS_PER_DAY);
            let tod = at.rem_euclid(MS_PER_DAY);
            if !is_business(day) || tod >= de {
                at = (day + 1) * MS_PER_DAY + ds;
                continue;
            }
            if tod < ds {
                at = day * MS_PER_DAY + ds;
                continue;
            }
            let room = de - tod;
            if left <= room {
                return at + left;
            }
            left -= room;
            at = (day + 1) * MS_PER_DAY + ds;
        }
        at
    }
}

#[cfg(test)]
mod tests;
