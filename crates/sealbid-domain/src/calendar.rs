//! The working-day calendar: which days count as working days in China, for deadlines the law sets
//! in working days (Administrative Licensing Law art. 42–44, complaint handling under the tendering
//! regulations art. 60–61, the trading centre's review period).
//!
//! Monday to Friday are working days and weekends are not, except as the State Council's annual
//! notice says: public holidays are days off, and some weekend days become make-up working days
//! (调休上班). The notices are kept in `data/cn-holidays.txt`, whose header documents the format.
//! A year without its notice is never guessed: questions about it fail with
//! [`CalendarError::YearNotCovered`].
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::clock::{china_date, china_tz};

/// The shipped table of public holidays and make-up working days (2024–2026).
pub const BUILTIN_TABLE: &str = include_str!("../data/cn-holidays.txt");

/// Why a calendar table was refused, or why a question could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A line that is not a valid entry (unknown keyword, bad date, missing name, …).
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    /// A `holiday` or `workday` line before any `year` line.
    #[error("line {line}: a `{keyword}` entry must follow a `year` line")]
    NoYear { line: usize, keyword: String },
    /// A date outside the year its section declares.
    #[error("line {line}: {date} is not in {year}, the year of this section")]
    DateOutsideYear {
        line: usize,
        date: NaiveDate,
        year: i32,
    },
    /// The same year declared twice.
    #[error("line {line}: year {year} is already declared on line {first_line}")]
    DuplicateYear {
        line: usize,
        year: i32,
        first_line: usize,
    },
    /// The same date listed twice with the same meaning.
    #[error("line {line}: {date} is already listed on line {first_line}")]
    DuplicateDate {
        line: usize,
        date: NaiveDate,
        first_line: usize,
    },
    /// A date listed both as a holiday and as a make-up working day.
    #[error(
        "line {line}: {date} cannot be both a holiday and a make-up working day (see line {first_line})"
    )]
    ConflictingDate {
        line: usize,
        date: NaiveDate,
        first_line: usize,
    },
    /// A make-up working day on a weekday: weekdays are working days already, so the table is wrong.
    #[error("line {line}: make-up working day {date} is a {weekday}, not a Saturday or Sunday")]
    WorkdayNotWeekend {
        line: usize,
        date: NaiveDate,
        weekday: Weekday,
    },
    /// A holiday range whose end is before its start.
    #[error("line {line}: holiday range {start}..{end} ends before it starts")]
    ReversedRange {
        line: usize,
        start: NaiveDate,
        end: NaiveDate,
    },
    /// A year section without any holiday: almost certainly a table left half-written.
    #[error("line {line}: year {year} lists no holiday")]
    EmptyYear { line: usize, year: i32 },
    /// No notice for this year is in the calendar, so its working days are unknown.
    #[error(
        "the working-day calendar has no public-holiday table for {year}; add the State Council's \
         notice for {year} before counting working days in it"
    )]
    YearNotCovered { year: i32 },
    /// Date arithmetic left chrono's representable range.
    #[error("date out of the supported range")]
    OutOfRange,
}

impl CalendarError {
    /// Stable machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Syntax { .. } => "calendar_syntax",
            Self::NoYear { .. } => "calendar_no_year",
            Self::DateOutsideYear { .. } => "calendar_date_outside_year",
            Self::DuplicateYear { .. } => "calendar_duplicate_year",
            Self::DuplicateDate { .. } => "calendar_duplicate_date",
            Self::ConflictingDate { .. } => "calendar_conflicting_date",
            Self::WorkdayNotWeekend { .. } => "calendar_workday_not_weekend",
            Self::ReversedRange { .. } => "calendar_reversed_range",
            Self::EmptyYear { .. } => "calendar_empty_year",
            Self::YearNotCovered { .. } => "calendar_year_missing",
            Self::OutOfRange => "calendar_out_of_range",
        }
    }
}

/// What kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary Monday to Friday.
    Working,
    /// An ordinary Saturday or Sunday.
    Weekend,
    /// A public holiday (including weekend days inside a holiday run).
    Holiday,
    /// A Saturday or Sunday worked in exchange for a holiday (调休上班).
    MakeUpWorkday,
}

impl DayKind {
    /// Whether a day of this kind counts as a working day.
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Working | DayKind::MakeUpWorkday)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    Holiday,
    Workday,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: EntryKind,
    /// The holiday's name or the make-up day's note.
    name: String,
    line: usize,
}

/// Public holidays and make-up working days for the years whose notices it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkingCalendar {
    /// Covered years and the line declaring each.
    years: BTreeMap<i32, usize>,
    days: BTreeMap<NaiveDate, Entry>,
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Parse exactly `YYYY-MM-DD`.
fn parse_date(s: &str, line: usize) -> Result<NaiveDate, CalendarError> {
    let bad = || CalendarError::Syntax {
        line,
        message: format!("\"{s}\" is not a date written YYYY-MM-DD"),
    };
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return Err(bad());
    };
    let y = i32::try_from(y).map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| CalendarError::Syntax {
        line,
        message: format!("{s} is not a date in the calendar"),
    })
}

/// Split off the first whitespace-separated word.
fn first_word(s: &str) -> (&str, &str) {
    match s.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (s, ""),
    }
}

/// Parser state: the table built so far and the open year section.
struct Parser {
    cal: WorkingCalendar,
    /// (year, line of its `year` entry, holidays seen in it)
    section: Option<(i32, usize, usize)>,
}

impl Parser {
    fn close_section(&mut self) -> Result<(), CalendarError> {
        if let Some((year, line, 0)) = self.section {
            return Err(CalendarError::EmptyYear { line, year });
        }
        Ok(())
    }

    fn year_line(&mut self, line: usize, rest: &str) -> Result<(), CalendarError> {
        let valid = rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit());
        let year =
            rest.parse::<i32>()
                .ok()
                .filter(|_| valid)
                .ok_or_else(|| CalendarError::Syntax {
                    line,
                    message: format!(
                        "`year` needs a four-digit year and nothing else, found \"{rest}\""
                    ),
                })?;
        self.close_section()?;
        if let Some(&first_line) = self.cal.years.get(&year) {
            return Err(CalendarError::DuplicateYear {
                line,
                year,
                first_line,
            });
        }
        self.cal.years.insert(year, line);
        self.section = Some((year, line, 0));
        Ok(())
    }

    fn current_year(&self, line: usize, keyword: &str) -> Result<i32, CalendarError> {
        self.section
            .map(|(year, _, _)| year)
            .ok_or_else(|| CalendarError::NoYear {
                line,
                keyword: keyword.to_owned(),
            })
    }

    fn insert(
        &mut self,
        date: NaiveDate,
        kind: EntryKind,
        name: &str,
        line: usize,
        year: i32,
    ) -> Result<(), CalendarError> {
        if date.year() != year {
            return Err(CalendarError::DateOutsideYear { line, date, year });
        }
        if let Some(existing) = self.cal.days.get(&date) {
            let first_line = existing.line;
            return Err(if existing.kind == kind {
                CalendarError::DuplicateDate {
                    line,
                    date,
                    first_line,
                }
            } else {
                CalendarError::ConflictingDate {
                    line,
                    date,
                    first_line,
                }
            });
        }
        self.cal.days.insert(
            date,
            Entry {
                kind,
                name: name.to_owned(),
                line,
            },
        );
        Ok(())
    }

    fn holiday_line(&mut self, line: usize, rest: &str) -> Result<(), CalendarError> {
        let year = self.current_year(line, "holiday")?;
        let (spec, name) = first_word(rest);
        if spec.is_empty() {
            return Err(CalendarError::Syntax {
                line,
                message: "`holiday` needs a date or a range YYYY-MM-DD..YYYY-MM-DD and a name"
                    .to_owned(),
            });
        }
        if name.is_empty() {
            return Err(CalendarError::Syntax {
                line,
                message: format!("holiday {spec} needs a name (which festival it is)"),
            });
        }
        let (start, end) = match spec.split_once("..") {
            Some((a, b)) => (parse_date(a, line)?, parse_date(b, line)?),
            None => {
                let d = parse_date(spec, line)?;
                (d, d)
            }
        };
        if end < start {
            return Err(CalendarError::ReversedRange { line, start, end });
        }
        // Check both ends first so a range spilling into another year reports that, not a
        // duplicate somewhere in the middle.
        for d in [start, end] {
            if d.year() != year {
                return Err(CalendarError::DateOutsideYear {
                    line,
                    date: d,
                    year,
                });
            }
        }
        for date in start.iter_days().take_while(|d| *d <= end) {
            self.insert(date, EntryKind::Holiday, name, line, year)?;
        }
        if let Some((_, _, holidays)) = self.section.as_mut() {
            *holidays += 1;
        }
        Ok(())
    }

    fn workday_line(&mut self, line: usize, rest: &str) -> Result<(), CalendarError> {
        let year = self.current_year(line, "workday")?;
        let (spec, note) = first_word(rest);
        if spec.is_empty() {
            return Err(CalendarError::Syntax {
                line,
                message: "`workday` needs a date YYYY-MM-DD".to_owned(),
            });
        }
        if spec.contains("..") {
            return Err(CalendarError::Syntax {
                line,
                message: "a `workday` is one date; write one line per make-up working day"
                    .to_owned(),
            });
        }
        let date = parse_date(spec, line)?;
        if date.year() != year {
            return Err(CalendarError::DateOutsideYear { line, date, year });
        }
        if !is_weekend(date) {
            return Err(CalendarError::WorkdayNotWeekend {
                line,
                date,
                weekday: date.weekday(),
            });
        }
        self.insert(date, EntryKind::Workday, note, line, year)
    }
}

impl WorkingCalendar {
    /// Parse a table in the format documented at the top of `data/cn-holidays.txt`. Errors name
    /// the offending line (counted from 1).
    pub fn parse(text: &str) -> Result<WorkingCalendar, CalendarError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut p = Parser {
            cal: WorkingCalendar::default(),
            section: None,
        };
        for (idx, raw) in text.lines().enumerate() {
            let line = idx + 1;
            let content = raw.trim();
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let (keyword, rest) = first_word(content);
            match keyword {
                "year" => p.year_line(line, rest)?,
                "holiday" => p.holiday_line(line, rest)?,
                "workday" => p.workday_line(line, rest)?,
                other => {
                    return Err(CalendarError::Syntax {
                        line,
                        message: format!(
                            "unknown entry \"{other}\"; expected `year`, `holiday` or `workday`"
                        ),
                    })
                }
            }
        }
        p.close_section()?;
        Ok(p.cal)
    }

    /// The shipped table ([`BUILTIN_TABLE`]). It is compiled in and a unit test parses it, so an
    /// error here is a bug in the shipped file.
    pub fn try_builtin() -> Result<WorkingCalendar, CalendarError> {
        Self::parse(BUILTIN_TABLE)
    }

    /// The shipped table, for callers that cannot handle an error. Should the shipped file ever
    /// fail to parse (a unit test makes sure it does not), this returns an empty calendar, which
    /// answers every question with [`CalendarError::YearNotCovered`] rather than guessing.
    /// Prefer [`WorkingCalendar::try_builtin`] at start-up, where the error can be reported.
    pub fn builtin() -> WorkingCalendar {
        Self::try_builtin().unwrap_or_default()
    }

    /// The years whose notices the calendar holds, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Whether the calendar holds the notice for `year`.
    pub fn covers_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// What kind of day `date` is.
    pub fn day_kind(&self, date: NaiveDate) -> Result<DayKind, CalendarError> {
        if !self.covers_year(date.year()) {
            return Err(CalendarError::YearNotCovered { year: date.year() });
        }
        Ok(match self.days.get(&date).map(|e| e.kind) {
            Some(EntryKind::Holiday) => DayKind::Holiday,
            Some(EntryKind::Workday) => DayKind::MakeUpWorkday,
            None if is_weekend(date) => DayKind::Weekend,
            None => DayKind::Working,
        })
    }

    /// The name of the holiday on `date`, if it is one.
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.days
            .get(&date)
            .filter(|e| e.kind == EntryKind::Holiday)
            .map(|e| e.name.as_str())
    }

    /// Whether `date` is a working day: Monday to Friday unless a holiday, plus make-up working
    /// days. Fails for a year the calendar does not cover.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        self.day_kind(date).map(DayKind::is_working)
    }

    /// The `n`-th working day after `start` (`start` itself never counts): submitted on a Friday,
    /// 3 working days later is the next Wednesday. `n = 0` gives `start` back.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut date = start;
        let mut left = n;
        while left > 0 {
            date = date.succ_opt().ok_or(CalendarError::OutOfRange)?;
            if self.is_working_day(date)? {
                left -= 1;
            }
        }
        Ok(date)
    }

    /// The number of working days in the interval (a, b]: `a` excluded, `b` included. Zero when
    /// `b` is not after `a`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> Result<u32, CalendarError> {
        let mut count = 0u32;
        for date in a.iter_days().skip(1).take_while(|d| *d <= b) {
            if self.is_working_day(date)? {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The deadline `n` working days after instant `t`: the end (23:59:59 China Standard Time) of
    /// the `n`-th working day after the China date of `t`. With `n = 0`, the end of that same
    /// China date.
    pub fn add_working_days_at(
        &self,
        t: DateTime<Utc>,
        n: u32,
    ) -> Result<DateTime<Utc>, CalendarError> {
        let day = self.add_working_days(china_date(t), n)?;
        day.and_hms_opt(23, 59, 59)
            .and_then(|local| local.and_local_timezone(china_tz()).single())
            .map(|end| end.with_timezone(&Utc))
            .ok_or(CalendarError::OutOfRange)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn cal() -> WorkingCalendar {
        WorkingCalendar::try_builtin().unwrap()
    }

    fn parse_err(text: &str) -> CalendarError {
        WorkingCalendar::parse(text).unwrap_err()
    }

    #[test]
    fn builtin_parses_and_covers_2024_to_2026() {
        let cal = WorkingCalendar::try_builtin().unwrap();
        assert_eq!(cal.years().collect::<Vec<_>>(), vec![2024, 2025, 2026]);
        assert_eq!(WorkingCalendar::builtin(), cal);
        assert!(cal.covers_year(2025));
        assert!(!cal.covers_year(2027));
    }

    #[test]
    fn builtin_counts_per_year() {
        let cal = cal();
        for (year, holidays, workdays) in [(2024, 28, 8), (2025, 28, 5), (2026, 33, 6)] {
            let in_year = |k: EntryKind| {
                cal.days
                    .iter()
                    .filter(|(d, e)| d.year() == year && e.kind == k)
                    .count()
            };
            assert_eq!(in_year(EntryKind::Holiday), holidays, "holidays {year}");
            assert_eq!(in_year(EntryKind::Workday), workdays, "workdays {year}");
        }
    }

    #[test]
    fn builtin_working_days_per_year() {
        // 2024: 262 weekdays − 19 holidays on weekdays + 8 make-up days = 251;
        // 2025: 261 − 18 + 5 = 248; 2026: 261 − 19 + 6 = 248. 1 January is a holiday each year, so
        // the half-open interval (1 Jan, 31 Dec] counts the whole year.
        let cal = cal();
        for (year, expected) in [(2024, 251), (2025, 248), (2026, 248)] {
            let n = cal
                .working_days_between(date(year, 1, 1), date(year, 12, 31))
                .unwrap();
            assert_eq!(n, expected, "{year}");
        }
        assert_eq!(
            cal.working_days_between(date(2024, 1, 1), date(2026, 12, 31))
                .unwrap(),
            251 + 248 + 248
        );
    }

    #[test]
    fn national_day_2024() {
        let cal = cal();
        for d in 1..=7 {
            assert!(!cal.is_working_day(date(2024, 10, d)).unwrap(), "Oct {d}");
            assert_eq!(cal.day_kind(date(2024, 10, d)).unwrap(), DayKind::Holiday);
        }
        assert_eq!(
            cal.holiday_name(date(2024, 10, 3)),
            Some("National Day (国庆节)")
        );
        // Make-up working days: Sunday 29 September and Saturday 12 October.
        assert_eq!(date(2024, 9, 29).weekday(), Weekday::Sun);
        assert!(cal.is_working_day(date(2024, 9, 29)).unwrap());
        assert_eq!(
            cal.day_kind(date(2024, 9, 29)).unwrap(),
            DayKind::MakeUpWorkday
        );
        assert_eq!(date(2024, 10, 12).weekday(), Weekday::Sat);
        assert!(cal.is_working_day(date(2024, 10, 12)).unwrap());
        assert_eq!(cal.holiday_name(date(2024, 10, 12)), None);
        // Ordinary days around it.
        assert!(cal.is_working_day(date(2024, 9, 30)).unwrap());
        assert!(cal.is_working_day(date(2024, 10, 8)).unwrap());
        assert!(!cal.is_working_day(date(2024, 10, 13)).unwrap());
        assert_eq!(cal.day_kind(date(2024, 10, 13)).unwrap(), DayKind::Weekend);
        assert_eq!(cal.day_kind(date(2024, 10, 9)).unwrap(), DayKind::Working);
    }

    #[test]
    fn plain_week_friday_plus_three_is_wednesday() {
        let cal = cal();
        let friday = date(2024, 11, 15);
        assert_eq!(friday.weekday(), Weekday::Fri);
        assert_eq!(cal.add_working_days(friday, 3).unwrap(), date(2024, 11, 20));
        assert_eq!(cal.add_working_days(friday, 1).unwrap(), date(2024, 11, 18));
        assert_eq!(cal.add_working_days(friday, 0).unwrap(), friday);
    }

    #[test]
    fn friday_before_national_day() {
        let cal = cal();
        let friday = date(2024, 9, 27);
        // Sunday 29 September is worked; Monday 30 too; then the holiday until 7 October.
        assert_eq!(cal.add_working_days(friday, 1).unwrap(), date(2024, 9, 29));
        assert_eq!(cal.add_working_days(friday, 2).unwrap(), date(2024, 9, 30));
        assert_eq!(cal.add_working_days(friday, 3).unwrap(), date(2024, 10, 8));
        assert_eq!(
            cal.working_days_between(friday, date(2024, 10, 8)).unwrap(),
            3
        );

        // Friday 26 September 2025: Sunday 28th is worked, 1–8 October are off, and Saturday
        // 11 October is worked again.
        let friday = date(2025, 9, 26);
        assert_eq!(friday.weekday(), Weekday::Fri);
        assert_eq!(cal.add_working_days(friday, 1).unwrap(), date(2025, 9, 28));
        assert_eq!(cal.add_working_days(friday, 3).unwrap(), date(2025, 9, 30));
        assert_eq!(cal.add_working_days(friday, 4).unwrap(), date(2025, 10, 9));
        assert_eq!(cal.add_working_days(friday, 5).unwrap(), date(2025, 10, 10));
        assert_eq!(cal.add_working_days(friday, 6).unwrap(), date(2025, 10, 11));
    }

    #[test]
    fn spring_festival_2025() {
        let cal = cal();
        for d in [date(2025, 1, 28), date(2025, 1, 31), date(2025, 2, 4)] {
            assert!(!cal.is_working_day(d).unwrap(), "{d}");
        }
        assert!(cal.is_working_day(date(2025, 1, 26)).unwrap());
        assert!(cal.is_working_day(date(2025, 2, 8)).unwrap());
        assert_eq!(
            cal.add_working_days(date(2025, 1, 27), 1).unwrap(),
            date(2025, 2, 5)
        );
        assert!(!cal.is_working_day(date(2025, 5, 5)).unwrap());
        assert!(cal.is_working_day(date(2025, 4, 27)).unwrap());
        assert!(!cal.is_working_day(date(2025, 10, 8)).unwrap());
    }

    #[test]
    fn spring_festival_2026() {
        let cal = cal();
        for d in 15..=23 {
            assert!(!cal.is_working_day(date(2026, 2, d)).unwrap(), "Feb {d}");
        }
        assert!(cal.is_working_day(date(2026, 2, 13)).unwrap());
        // Saturdays 14 and 28 February are make-up working days.
        assert_eq!(
            cal.day_kind(date(2026, 2, 14)).unwrap(),
            DayKind::MakeUpWorkday
        );
        assert_eq!(
            cal.day_kind(date(2026, 2, 28)).unwrap(),
            DayKind::MakeUpWorkday
        );
        assert!(cal.is_working_day(date(2026, 2, 24)).unwrap());
        assert_eq!(
            cal.add_working_days(date(2026, 2, 13), 1).unwrap(),
            date(2026, 2, 14)
        );
        assert_eq!(
            cal.add_working_days(date(2026, 2, 14), 1).unwrap(),
            date(2026, 2, 24)
        );
        // 24–27 February and Saturday 28th: 5 working days in (14 Feb, 28 Feb].
        assert_eq!(
            cal.working_days_between(date(2026, 2, 14), date(2026, 2, 28))
                .unwrap(),
            5
        );
        // Other 2026 make-up days.
        for d in [
            date(2026, 1, 4),
            date(2026, 5, 9),
            date(2026, 9, 20),
            date(2026, 10, 10),
        ] {
            assert_eq!(cal.day_kind(d).unwrap(), DayKind::MakeUpWorkday, "{d}");
        }
    }

    #[test]
    fn uncovered_years_are_errors_not_guesses() {
        let cal = cal();
        let err = cal.is_working_day(date(2027, 1, 4)).unwrap_err();
        assert_eq!(err, CalendarError::YearNotCovered { year: 2027 });
        assert_eq!(err.code(), "calendar_year_missing");
        assert!(err.to_string().contains("2027"));
        assert_eq!(
            cal.is_working_day(date(2023, 12, 29)).unwrap_err(),
            CalendarError::YearNotCovered { year: 2023 }
        );
        // Running off the end of the table fails instead of assuming 2027 has no holidays.
        assert_eq!(
            cal.add_working_days(date(2026, 12, 30), 1).unwrap(),
            date(2026, 12, 31)
        );
        assert_eq!(
            cal.add_working_days(date(2026, 12, 30), 2).unwrap_err(),
            CalendarError::YearNotCovered { year: 2027 }
        );
        assert_eq!(
            cal.working_days_between(date(2026, 12, 1), date(2027, 1, 10))
                .unwrap_err()
                .code(),
            "calendar_year_missing"
        );
        let empty = WorkingCalendar::default();
        assert_eq!(empty.years().count(), 0);
        assert!(empty.is_working_day(date(2025, 3, 3)).is_err());
    }

    #[test]
    fn working_days_between_edges() {
        let cal = cal();
        let d = date(2025, 3, 3);
        assert_eq!(cal.working_days_between(d, d).unwrap(), 0);
        assert_eq!(cal.working_days_between(d, date(2025, 3, 1)).unwrap(), 0);
        // (Mon, next Mon] = Tue..Fri + Mon = 5
        assert_eq!(cal.working_days_between(d, date(2025, 3, 10)).unwrap(), 5);
        // A start in an uncovered year is fine: it is excluded from the interval.
        assert_eq!(
            cal.working_days_between(date(2023, 12, 31), date(2024, 1, 2))
                .unwrap(),
            1
        );
        // add and between agree.
        for n in [1, 5, 20, 45, 120] {
            let start = date(2024, 1, 5);
            let end = cal.add_working_days(start, n).unwrap();
            assert_eq!(cal.working_days_between(start, end).unwrap(), n);
            assert!(cal.is_working_day(end).unwrap());
        }
    }

    #[test]
    fn deadline_at_end_of_china_day() {
        let cal = cal();
        // Friday 27 September 2024, 10:00 in China.
        let t = Utc.with_ymd_and_hms(2024, 9, 27, 2, 0, 0).unwrap();
        let deadline = cal.add_working_days_at(t, 3).unwrap();
        // 8 October 2024 23:59:59 +08:00.
        assert_eq!(
            deadline,
            Utc.with_ymd_and_hms(2024, 10, 8, 15, 59, 59).unwrap()
        );
        // 20:00 UTC on Friday is already Saturday 04:00 in China; the count starts from Saturday.
        let late = Utc.with_ymd_and_hms(2024, 9, 27, 20, 0, 0).unwrap();
        assert_eq!(
            cal.add_working_days_at(late, 1).unwrap(),
            Utc.with_ymd_and_hms(2024, 9, 29, 15, 59, 59).unwrap()
        );
        assert_eq!(
            cal.add_working_days_at(t, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 9, 27, 15, 59, 59).unwrap()
        );
        let t2026 = Utc.with_ymd_and_hms(2026, 12, 31, 1, 0, 0).unwrap();
        assert_eq!(
            cal.add_working_days_at(t2026, 1).unwrap_err().code(),
            "calendar_year_missing"
        );
    }

    const GOOD: &str = "# test table\nyear 2024\nholiday 2024-10-01..2024-10-07 National Day\nworkday 2024-09-29 make-up (Sunday)\n";

    #[test]
    fn parse_minimal_table() {
        let cal = WorkingCalendar::parse(GOOD).unwrap();
        assert_eq!(cal.years().collect::<Vec<_>>(), vec![2024]);
        assert_eq!(cal.holiday_name(date(2024, 10, 5)), Some("National Day"));
        assert!(cal.is_working_day(date(2024, 9, 29)).unwrap());
        // Leading BOM, CRLF and indentation are tolerated; workday note is optional.
        let cal = WorkingCalendar::parse(
            "\u{feff}  year 2024\r\n\tholiday 2024-01-01 New Year\r\nworkday 2024-02-04\r\n",
        )
        .unwrap();
        assert!(cal.is_working_day(date(2024, 2, 4)).unwrap());
        assert!(!cal.is_working_day(date(2024, 1, 1)).unwrap());
    }

    #[test]
    fn parse_error_date_outside_year() {
        let err = parse_err("year 2024\nholiday 2025-01-01 New Year\n");
        assert_eq!(
            err,
            CalendarError::DateOutsideYear {
                line: 2,
                date: date(2025, 1, 1),
                year: 2024
            }
        );
        assert_eq!(err.code(), "calendar_date_outside_year");
        assert!(err.to_string().starts_with("line 2:"));
        // A range that spills over the year end.
        let err = parse_err("year 2024\nholiday 2024-12-31..2025-01-01 New Year\n");
        assert_eq!(err.code(), "calendar_date_outside_year");
        let err = parse_err("year 2024\nholiday 2024-01-01 x\nworkday 2023-12-31 make-up\n");
        assert_eq!(
            err,
            CalendarError::DateOutsideYear {
                line: 3,
                date: date(2023, 12, 31),
                year: 2024
            }
        );
    }

    #[test]
    fn parse_error_duplicates_and_conflicts() {
        let err =
            parse_err("year 2024\nholiday 2024-10-01..2024-10-07 A\n\nholiday 2024-10-07 B\n");
        assert_eq!(
            err,
            CalendarError::DuplicateDate {
                line: 4,
                date: date(2024, 10, 7),
                first_line: 2
            }
        );
        assert_eq!(err.code(), "calendar_duplicate_date");
        assert!(err.to_string().contains("line 4"));

        let err = parse_err(
            "year 2024\nholiday 2024-10-01 A\nworkday 2024-09-29 x\nworkday 2024-09-29 y\n",
        );
        assert_eq!(err.code(), "calendar_duplicate_date");

        let err = parse_err("year 2024\nholiday 2024-10-05..2024-10-06 A\nworkday 2024-10-05 x\n");
        assert_eq!(
            err,
            CalendarError::ConflictingDate {
                line: 3,
                date: date(2024, 10, 5),
                first_line: 2
            }
        );
        assert_eq!(err.code(), "calendar_conflicting_date");

        let err = parse_err("year 2024\nholiday 2024-10-01 A\nyear 2024\n");
        assert_eq!(
            err,
            CalendarError::DuplicateYear {
                line: 3,
                year: 2024,
                first_line: 1
            }
        );
        assert_eq!(err.code(), "calendar_duplicate_year");
    }

    #[test]
    fn parse_error_workday_on_a_weekday() {
        // 2024-09-30 is a Monday.
        let err = parse_err("year 2024\nholiday 2024-10-01 A\nworkday 2024-09-30 wrong\n");
        assert_eq!(
            err,
            CalendarError::WorkdayNotWeekend {
                line: 3,
                date: date(2024, 9, 30),
                weekday: Weekday::Mon
            }
        );
        assert_eq!(err.code(), "calendar_workday_not_weekend");
        let err = parse_err("year 2024\nholiday 2024-10-01 A\nworkday 2024-09-28..2024-09-29 x\n");
        assert_eq!(err.code(), "calendar_syntax");
    }

    #[test]
    fn parse_error_reversed_range() {
        let err = parse_err("year 2024\nholiday 2024-10-07..2024-10-01 National Day\n");
        assert_eq!(
            err,
            CalendarError::ReversedRange {
                line: 2,
                start: date(2024, 10, 7),
                end: date(2024, 10, 1)
            }
        );
        assert_eq!(err.code(), "calendar_reversed_range");
    }

    #[test]
    fn parse_error_syntax() {
        for (text, line) in [
            ("year 2024\nholliday 2024-10-01 A\n", 2),
            ("year 24\n", 1),
            ("year 2024 notice\n", 1),
            ("year\n", 1),
            ("year 2024\nholiday 2024-10-01\n", 2),
            ("year 2024\nholiday\n", 2),
            ("year 2024\nholiday 2024-10-32 A\n", 2),
            ("year 2024\nholiday 2024-02-30 A\n", 2),
            ("year 2024\nholiday 2024/10/01 A\n", 2),
            ("year 2024\nholiday 2024-1-1 A\n", 2),
            ("year 2024\nholiday 2024-10-01.. A\n", 2),
            ("year 2024\nholiday 2024-10-01...2024-10-03 A\n", 2),
            ("year 2024\nholiday 2024-10-01 A\nworkday\n", 3),
            ("year 2024\nholiday 2024-10-01 A\nworkday 2024-9-29\n", 3),
        ] {
            let err = parse_err(text);
            assert_eq!(err.code(), "calendar_syntax", "{text:?}: {err}");
            assert!(
                err.to_string().starts_with(&format!("line {line}:")),
                "{text:?}: {err}"
            );
        }
    }

    #[test]
    fn parse_error_entry_before_year_and_empty_year() {
        let err = parse_err("# header\nholiday 2024-10-01 A\n");
        assert_eq!(
            err,
            CalendarError::NoYear {
                line: 2,
                keyword: "holiday".to_owned()
            }
        );
        assert_eq!(err.code(), "calendar_no_year");
        assert_eq!(parse_err("workday 2024-09-29\n").code(), "calendar_no_year");

        let err = parse_err("year 2024\nyear 2025\nholiday 2025-01-01 A\n");
        assert_eq!(
            err,
            CalendarError::EmptyYear {
                line: 1,
                year: 2024
            }
        );
        assert_eq!(err.code(), "calendar_empty_year");
        let err = parse_err("year 2024\nholiday 2024-01-01 A\nyear 2025\nworkday 2025-01-26\n");
        assert_eq!(
            err,
            CalendarError::EmptyYear {
                line: 3,
                year: 2025
            }
        );
    }

    #[test]
    fn empty_text_is_an_empty_calendar() {
        let cal = WorkingCalendar::parse("# nothing yet\n\n").unwrap();
        assert_eq!(cal, WorkingCalendar::default());
    }

    #[test]
    fn day_kind_serialises_snake_case() {
        assert_eq!(
            serde_json::to_string(&DayKind::MakeUpWorkday).unwrap(),
            "\"make_up_workday\""
        );
    }
}
