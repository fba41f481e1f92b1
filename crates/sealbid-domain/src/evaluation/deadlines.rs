//! Deadlines after the evaluation report: publication of the candidates and objections
//! (条例 54), the contract (法 46) and the refund of the bid deposits (条例 57).
//!
//! # How days are counted
//! Every period here is in **calendar days** (日), not working days: none of these articles says
//! 工作日. As in [`crate::tender`] (`publication + Duration::days(n)`), "`n` days after an instant
//! `t`" is the instant `t + n × 24 h`. China Standard Time has no daylight saving, so that is the
//! same China clock time `n` China dates later (a report received on 30 January at 10:00 UTC+8
//! must be published by 2 February, 10:00 UTC+8), and month and year ends need no special case.
//! A deadline is met by anything done at or before its instant: [`is_overdue`] is strict, like
//! [`crate::tender::Tender::review_overdue`]. A period ending on a public holiday is not extended;
//! the working-day calendar plays no part here.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::tender::china_time;

/// The figures, in calendar days; the defaults are the law's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostEvaluationRules {
    /// The candidates are published within this many days of receiving the report (条例 54).
    pub publish_within_days: i64,
    /// The publication runs at least this many days (条例 54).
    pub min_publication_days: i64,
    /// An objection is answered within this many days of its receipt (条例 54).
    pub objection_answer_days: i64,
    /// The contract is signed within this many days of the award notice (法 46).
    pub contract_days: i64,
    /// Deposits (with interest) are refunded within this many days of signing (条例 57).
    pub refund_days: i64,
}

impl Default for PostEvaluationRules {
    fn default() -> Self {
        PostEvaluationRules {
            publish_within_days: 3,
            min_publication_days: 3,
            objection_answer_days: 3,
            contract_days: 30,
            refund_days: 5,
        }
    }
}

/// A deadline rule was broken. Every variant is a 422 upstream, with the date in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error("the candidates had to be published by {} (the deadline after the evaluation report, 条例 54)", china_time(*.due))]
    PublicationTooLate { due: DateTime<Utc> },
    #[error("the candidates cannot be published before the evaluation report was received, {}", china_time(*.report_received))]
    PublicationBeforeReport { report_received: DateTime<Utc> },
    #[error("the publication must run until at least {} (the shortest publication, 条例 54)", china_time(*.earliest_end))]
    PublicationTooShort { earliest_end: DateTime<Utc> },
    #[error("objections to the evaluation result closed with the candidates' publication at {} (条例 54)", china_time(*.closed_at))]
    ObjectionWindowClosed { closed_at: DateTime<Utc> },
    #[error("objections to the evaluation result open with the candidates' publication at {}", china_time(*.opens_at))]
    ObjectionWindowNotOpen { opens_at: DateTime<Utc> },
}

impl DeadlineError {
    /// Stable machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            DeadlineError::PublicationTooLate { .. } => "publication_too_late",
            DeadlineError::PublicationBeforeReport { .. } => "publication_before_report",
            DeadlineError::PublicationTooShort { .. } => "publication_too_short",
            DeadlineError::ObjectionWindowClosed { .. } => "objection_window_closed",
            DeadlineError::ObjectionWindowNotOpen { .. } => "objection_window_not_open",
        }
    }
}

/// `t` plus `days` calendar days; saturates at chrono's range rather than panic.
fn plus_days(t: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    Duration::try_days(days)
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether `due` has passed at `now` (strictly after: the due instant itself is in time).
pub fn is_overdue(now: DateTime<Utc>, due: DateTime<Utc>) -> bool {
    now > due
}

/// The latest start of the candidates' publication: 3 days after the report was received.
pub fn publication_start_due(
    report_received: DateTime<Utc>,
    rules: &PostEvaluationRules,
) -> DateTime<Utc> {
    plus_days(report_received, rules.publish_within_days)
}

/// The earliest end of a publication starting at `start`: 3 days later.
pub fn publication_earliest_end(
    start: DateTime<Utc>,
    rules: &PostEvaluationRules,
) -> DateTime<Utc> {
    plus_days(start, rules.min_publication_days)
}

/// Within 3 days of receiving an objection, the tenderee answers it (activity is suspended
/// until then, 条例 54).
pub fn objection_answer_due(received: DateTime<Utc>, rules: &PostEvaluationRules) -> DateTime<Utc> {
    plus_days(received, rules.objection_answer_days)
}

/// The contract is signed within 30 days of the award notice (法 46).
pub fn contract_due(award_notice: DateTime<Utc>, rules: &PostEvaluationRules) -> DateTime<Utc> {
    plus_days(award_notice, rules.contract_days)
}

/// The bid deposits of every bidder, with interest, are refunded within 5 days of signing the
/// contract (条例 57).
pub fn deposit_refund_due(signed: DateTime<Utc>, rules: &PostEvaluationRules) -> DateTime<Utc> {
    plus_days(signed, rules.refund_days)
}

/// The candidates' publication: objections to the result are accepted from `start` to `end`,
/// both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicationWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl PublicationWindow {
    /// The shortest legal publication starting at `start`.
    pub fn minimal(start: DateTime<Utc>, rules: &PostEvaluationRules) -> PublicationWindow {
        PublicationWindow {
            start,
            end: publication_earliest_end(start, rules),
        }
    }

    /// A publication from `start` to `end` for a report received at `report_received`: it must
    /// start no earlier than the report and no later than 3 days after it, and last ≥ 3 days.
    pub fn new(
        report_received: DateTime<Utc>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        rules: &PostEvaluationRules,
    ) -> Result<PublicationWindow, DeadlineError> {
        if start < report_received {
            return Err(DeadlineError::PublicationBeforeReport { report_received });
        }
        let due = publication_start_due(report_received, rules);
        if is_overdue(start, due) {
            return Err(DeadlineError::PublicationTooLate { due });
        }
        let earliest_end = publication_earliest_end(start, rules);
        if end < earliest_end {
            return Err(DeadlineError::PublicationTooShort { earliest_end });
        }
        Ok(PublicationWindow { start, end })
    }

    /// Whether objections are accepted at `t`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t <= self.end
    }

    /// Accepts an objection received at `received` and returns the due time of the answer; an
    /// objection outside the window is refused with the window's opening or closing instant.
    pub fn accept_objection(
        &self,
        received: DateTime<Utc>,
        rules: &PostEvaluationRules,
    ) -> Result<DateTime<Utc>, DeadlineError> {
        if received < self.start {
            return Err(DeadlineError::ObjectionWindowNotOpen {
                opens_at: self.start,
            });
        }
        if received > self.end {
            return Err(DeadlineError::ObjectionWindowClosed {
                closed_at: self.end,
            });
        }
        Ok(objection_answer_due(received, rules))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::clock::{china_date, china_tz, Clock, ManualClock};
    use chrono::{NaiveDate, TimeZone};

    /// An instant given in China time.
    fn cst(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        china_tz()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn rules() -> PostEvaluationRules {
        PostEvaluationRules::default()
    }

    #[test]
    fn publication_across_a_month_end() {
        let report = cst(2025, 1, 30, 10, 0);
        let due = publication_start_due(report, &rules());
        assert_eq!(due, cst(2025, 2, 2, 10, 0));
        let clock = ManualClock::new(report);
        clock.advance(Duration::days(3));
        assert!(!is_overdue(clock.now(), due), "the due instant is in time");
        clock.advance(Duration::seconds(1));
        assert!(is_overdue(clock.now(), due));

        // February of a common and of a leap year.
        assert_eq!(
            publication_earliest_end(cst(2025, 2, 27, 9, 0), &rules()),
            cst(2025, 3, 2, 9, 0)
        );
        assert_eq!(
            publication_earliest_end(cst(2024, 2, 27, 9, 0), &rules()),
            cst(2024, 3, 1, 9, 0)
        );
        // Read on China dates: a start of 31 March 07:30 UTC+8 is 30 March 23:30 UTC; the end is
        // 3 April 07:30 in China, still 2 April in UTC.
        let start = cst(2025, 3, 31, 7, 30);
        let w = PublicationWindow::minimal(start, &rules());
        assert_eq!(
            china_date(w.end),
            NaiveDate::from_ymd_opt(2025, 4, 3).unwrap()
        );
        assert_eq!(
            w.end.date_naive(),
            NaiveDate::from_ymd_opt(2025, 4, 2).unwrap()
        );
    }

    #[test]
    fn publication_window_rules() {
        let report = cst(2025, 5, 30, 16, 0);
        let w = PublicationWindow::new(
            report,
            cst(2025, 6, 2, 16, 0),
            cst(2025, 6, 5, 16, 0),
            &rules(),
        )
        .unwrap();
        assert_eq!(
            w,
            PublicationWindow::minimal(cst(2025, 6, 2, 16, 0), &rules())
        );
        let late = PublicationWindow::new(
            report,
            cst(2025, 6, 2, 16, 1),
            cst(2025, 6, 9, 0, 0),
            &rules(),
        )
        .unwrap_err();
        assert_eq!(
            late,
            DeadlineError::PublicationTooLate {
                due: cst(2025, 6, 2, 16, 0)
            }
        );
        assert!(
            late.to_string().contains("2025-06-02 16:00 (UTC+8)"),
            "{late}"
        );
        let short = PublicationWindow::new(
            report,
            cst(2025, 5, 31, 9, 0),
            cst(2025, 6, 3, 8, 59),
            &rules(),
        )
        .unwrap_err();
        assert_eq!(
            short,
            DeadlineError::PublicationTooShort {
                earliest_end: cst(2025, 6, 3, 9, 0)
            }
        );
        assert_eq!(short.code(), "publication_too_short");
        let early = PublicationWindow::new(
            report,
            cst(2025, 5, 30, 15, 0),
            cst(2025, 6, 9, 0, 0),
            &rules(),
        )
        .unwrap_err();
        assert_eq!(early.code(), "publication_before_report");
        // A longer publication is fine.
        assert!(PublicationWindow::new(
            report,
            cst(2025, 5, 31, 9, 0),
            cst(2025, 6, 10, 9, 0),
            &rules()
        )
        .is_ok());
    }

    #[test]
    fn objections_inside_the_window_are_answered_within_three_days() {
        let w = PublicationWindow::minimal(cst(2025, 12, 28, 9, 0), &rules());
        assert_eq!(w.end, cst(2025, 12, 31, 9, 0));
        assert!(w.is_open(w.start) && w.is_open(w.end));
        // Received on the last day: the answer is due in the new year.
        let due = w
            .accept_objection(cst(2025, 12, 30, 17, 45), &rules())
            .unwrap();
        assert_eq!(due, cst(2026, 1, 2, 17, 45));
        assert_eq!(
            w.accept_objection(w.end, &rules()).unwrap(),
            cst(2026, 1, 3, 9, 0)
        );
        assert_eq!(
            objection_answer_due(cst(2025, 12, 30, 17, 45), &rules()),
            due
        );
    }

    #[test]
    fn objection_after_the_window_carries_the_closing_date() {
        let w = PublicationWindow::minimal(cst(2025, 12, 28, 9, 0), &rules());
        let clock = ManualClock::new(w.start);
        clock.advance(Duration::days(3) + Duration::minutes(1));
        let err = w.accept_objection(clock.now(), &rules()).unwrap_err();
        assert_eq!(
            err,
            DeadlineError::ObjectionWindowClosed {
                closed_at: cst(2025, 12, 31, 9, 0)
            }
        );
        assert_eq!(err.code(), "objection_window_closed");
        assert!(
            err.to_string().contains("2025-12-31 09:00 (UTC+8)"),
            "{err}"
        );
        let before = w.accept_objection(cst(2025, 12, 27, 9, 0), &rules());
        assert_eq!(
            before.unwrap_err(),
            DeadlineError::ObjectionWindowNotOpen { opens_at: w.start }
        );
    }

    #[test]
    fn contract_and_refund_across_month_and_year_ends() {
        // 30 days from 31 January: 2 March (2025), 1 March (leap 2024).
        assert_eq!(
            contract_due(cst(2025, 1, 31, 11, 0), &rules()),
            cst(2025, 3, 2, 11, 0)
        );
        assert_eq!(
            contract_due(cst(2024, 1, 31, 11, 0), &rules()),
            cst(2024, 3, 1, 11, 0)
        );
        // 30 days from 15 December: 14 January.
        assert_eq!(
            contract_due(cst(2025, 12, 15, 8, 0), &rules()),
            cst(2026, 1, 14, 8, 0)
        );
        // Refund within 5 days of signing on 29 December: 3 January.
        let signed = cst(2025, 12, 29, 14, 0);
        let due = deposit_refund_due(signed, &rules());
        assert_eq!(due, cst(2026, 1, 3, 14, 0));
        let clock = ManualClock::new(signed);
        clock.advance(Duration::days(5));
        assert!(!is_overdue(clock.now(), due));
        clock.advance(Duration::microseconds(1));
        assert!(is_overdue(clock.now(), due));
    }

    #[test]
    fn rules_are_configurable_and_saturate() {
        let longer = PostEvaluationRules {
            min_publication_days: 5,
            ..rules()
        };
        assert_eq!(
            PublicationWindow::minimal(cst(2025, 4, 28, 9, 0), &longer).end,
            cst(2025, 5, 3, 9, 0)
        );
        let absurd = PostEvaluationRules {
            contract_days: i64::MAX,
            ..rules()
        };
        assert_eq!(
            contract_due(cst(2025, 1, 1, 0, 0), &absurd),
            DateTime::<Utc>::MAX_UTC
        );
        let json = serde_json::to_string(&rules()).unwrap();
        assert_eq!(
            serde_json::from_str::<PostEvaluationRules>(&json).unwrap(),
            rules()
        );
        assert_eq!(
            serde_json::from_str::<PostEvaluationRules>("{}").unwrap(),
            rules()
        );
    }
}
