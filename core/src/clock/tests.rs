use super::*;

fn clock(start: &str, scale: f64) -> PlanClock {
    PlanClock {
        start: parse_start(start).expect("start"),
        wall0: 1_000_000,
        time_scale: scale,
        day_start: 540,
        day_end: 1020,
    }
}

#[test]
fn civil_dates_round_trip() {
    for day in [-1000, 0, 19_000, 20_415, 100_000] {
        let (y, m, d) = civil_from_days(day);
        assert_eq!(days_from_civil(y, m, d), day);
    }
    assert_eq!(
        civil_from_days(days_from_civil(2026, 11, 23)),
        (2026, 11, 23)
    );
    // 2026-11-23 is a Monday.
    assert_eq!(weekday(days_from_civil(2026, 11, 23)), 0);
}

#[test]
fn plan_days_are_business_days() {
    let c = clock("2026-11-26T10:00", 1.0); // a Thursday
    assert_eq!(c.calendar_day(1), days_from_civil(2026, 11, 26));
    assert_eq!(c.calendar_day(2), days_from_civil(2026, 11, 27));
    assert_eq!(
        c.calendar_day(3),
        days_from_civil(2026, 11, 30),
        "the weekend is skipped"
    );
    assert_eq!(
        c.plan_day(parse_start("2026-11-30T08:59").expect("t")),
        2,
        "before 09:00 Monday is still day 2"
    );
    assert_eq!(c.plan_day(parse_start("2026-11-30T09:00").expect("t")), 3);
    assert_eq!(
        c.label(parse_start("2026-11-30T13:00").expect("t")),
        "Day 3 (Mon 2026-11-30) 13:00"
    );
}

#[test]
fn the_clock_runs_scaled() {
    let c = clock("2026-11-23T09:00", 3600.0);
    assert_eq!(
        c.plan_at(1_000_000 + 1000),
        c.start + 3_600_000,
        "one wall second is one plan hour"
    );
    assert_eq!(c.wall_at(c.start + 7_200_000), 1_002_000);
}

#[test]
fn checkpoints_follow_the_working_days() {
    let c = clock("2026-11-27T14:00", 1.0); // Friday afternoon
    let times = [540, 780, 1020];
    let (at, i) = c.next_checkpoint(c.start, &times).expect("next");
    assert_eq!((at, i), (parse_start("2026-11-27T17:00").expect("t"), 2));
    let (at, i) = c.next_checkpoint(at, &times).expect("next");
    assert_eq!(
        (at, i),
        (parse_start("2026-11-30T09:00").expect("t"), 0),
        "Monday's standup follows Friday's review"
    );
}

#[test]
fn working_time_skips_nights_and_weekends() {
    let c = clock("2026-11-27T15:00", 1.0);
    assert_eq!(
        c.add_working(c.start, 3 * 3_600_000),
        parse_start("2026-11-30T10:00").expect("t")
    );
    assert_eq!(c.add_working(c.start, 0), c.start);
}

#[test]
fn bad_starts_are_refused() {
    for bad in ["tomorrow", "2026-13-01", "2026-11-23T25:00", ""] {
        assert!(parse_start(bad).is_err(), "{bad}");
    }
}

#[test]
fn windows_open_after_the_day_starts_and_never_after_it_ends() {
    let c = clock("2026-11-23", 1.0);
    let at = |t: &str| parse_start(t).expect("t");
    assert_eq!(c.window_opens(1, 0), at("2026-11-23T09:00"));
    assert_eq!(c.window_opens(1, 4 * 3600), at("2026-11-23T13:00"));
    assert_eq!(c.window_opens(2, 3600), at("2026-11-24T10:00"));
    assert_eq!(c.window_opens(1, 9 * 3600), at("2026-11-23T17:00"));
    assert_eq!(c.window_opens(1, u64::MAX), at("2026-11-23T17:00"));
}

#[test]
fn outside_working_hours_the_label_says_so() {
    let c = clock("2026-11-27T00:00", 1.0); // Friday night
    let at = |t: &str| c.label(parse_start(t).expect("t"));
    assert_eq!(
        at("2026-11-27T03:13"),
        "before Day 1 (opens Fri 2026-11-27 09:00)"
    );
    assert_eq!(at("2026-11-27T09:00"), "Day 1 (Fri 2026-11-27) 09:00");
    assert_eq!(
        at("2026-11-27T17:00"),
        "Day 1 (Fri 2026-11-27) 17:00",
        "the end of the working day is still in it"
    );
    assert_eq!(
        at("2026-11-27T19:30"),
        "after Day 1's hours (Fri 2026-11-27 19:30)"
    );
    assert_eq!(
        at("2026-11-28T10:00"),
        "after Day 1's hours (Sat 2026-11-28 10:00)",
        "the weekend follows Friday"
    );
    assert_eq!(
        at("2026-11-30T08:59"),
        "before Day 2 (opens Mon 2026-11-30 09:00)"
    );
    // A start on a Saturday: day 1 is Monday.
    let weekend = clock("2026-11-28T10:00", 1.0);
    assert_eq!(
        weekend.label(weekend.start),
        "before Day 1 (opens Mon 2026-11-30 09:00)"
    );
}

#[test]
fn working_hours_count_from_day_one_and_skip_nights_and_weekends() {
    // Fri 2026-11-27 is Day 1; 09:00-17:00 is 8 working hours a day.
    let c = clock("2026-11-27T03:00", 1.0);
    let at = |text: &str| c.working_hours(parse_start(text).unwrap());
    assert_eq!(at("2026-11-27T03:00"), 0.0, "before Day 1 opens");
    assert_eq!(at("2026-11-27T09:00"), 0.0);
    assert_eq!(at("2026-11-27T13:30"), 4.5);
    assert_eq!(at("2026-11-27T20:00"), 8.0, "after hours: the day's end");
    assert_eq!(at("2026-11-29T12:00"), 8.0, "the weekend adds nothing");
    assert_eq!(at("2026-11-30T10:00"), 9.0, "Monday is Day 2");
}
