//! The supervisors' review of anomaly-engine alerts: open → under review → confirmed or dismissed,
//! a reason required for every decision, and what a confirmed collusion finding does to the bidders'
//! credit record (a bar from bidding for a set period, within the limits the rules allow).
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Where an alert stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised by the engine; nobody has taken it up.
    Open,
    /// A supervisor is looking into it.
    UnderReview,
    /// Collusion confirmed: the bids are marked for rejection and the bidders' credit records written.
    Confirmed,
    /// Not collusion (or not enough to act on), with the reason.
    Dismissed,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 4] = [
        Self::Open,
        Self::UnderReview,
        Self::Confirmed,
        Self::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::UnderReview => "under_review",
            Self::Confirmed => "confirmed",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Confirmed and dismissed alerts are decided; nothing moves them again.
    pub fn is_decided(self) -> bool {
        matches!(self, Self::Confirmed | Self::Dismissed)
    }

    /// Human label for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::UnderReview => "under review",
            Self::Confirmed => "confirmed",
            Self::Dismissed => "dismissed",
        }
    }
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a supervisor does to an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// Take the alert up: open → under review.
    Start,
    /// Under review → confirmed.
    Confirm,
    /// Under review → dismissed.
    Dismiss,
}

impl ReviewAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Confirm => "confirm",
            Self::Dismiss => "dismiss",
        }
    }
}

/// Longest bar from bidding a confirmed collusion finding may impose here (the rules allow one to
/// three years for collusion; a longer period is a court's decision, not a supervisor's).
pub const MAX_BAR_DAYS: u32 = 3 * 366;

/// Why a review step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("an alert that is {} cannot be {}", .from.label(), past(*.action))]
    IllegalTransition {
        from: AlertStatus,
        action: ReviewAction,
    },
    #[error("a reason is required to {} an alert: say what the evidence shows", .0.as_str())]
    ReasonRequired(ReviewAction),
    #[error("a reason is at most {max} characters (this one has {len})")]
    ReasonTooLong { len: usize, max: usize },
    #[error("a bar from bidding is 1 to {max} days (got {days}); leave it out for no bar")]
    BarOutOfRange { days: u32, max: u32 },
    #[error("a bar from bidding only follows a confirmed alert")]
    BarWithoutConfirm,
}

impl ReviewError {
    /// Stable error code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::IllegalTransition { .. } => "illegal_transition",
            Self::ReasonRequired(_) => "reason_required",
            Self::ReasonTooLong { .. } => "reason_too_long",
            Self::BarOutOfRange { .. } => "bar_out_of_range",
            Self::BarWithoutConfirm => "bar_without_confirm",
        }
    }
}

fn past(a: ReviewAction) -> &'static str {
    match a {
        ReviewAction::Start => "taken up for review",
        ReviewAction::Confirm => "confirmed",
        ReviewAction::Dismiss => "dismissed",
    }
}

/// Longest reason kept.
pub const MAX_REASON_CHARS: usize = 4000;

/// One review step, checked: the status it leads to and the reason, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewStep {
    pub from: AlertStatus,
    pub to: AlertStatus,
    pub action: ReviewAction,
    pub reason: String,
    /// For a confirmation: how long the bidders are barred from bidding (none: recorded only).
    pub bar_days: Option<u32>,
}

impl ReviewStep {
    /// Checks an action against the alert's status. Deciding (confirm, dismiss) needs a reason;
    /// taking an alert up does not (a note is kept if given). A bar needs a confirmation.
    pub fn check(
        from: AlertStatus,
        action: ReviewAction,
        reason: &str,
        bar_days: Option<u32>,
    ) -> Result<Self, ReviewError> {
        let to = match (from, action) {
            (AlertStatus::Open, ReviewAction::Start) => AlertStatus::UnderReview,
            (AlertStatus::UnderReview, ReviewAction::Confirm) => AlertStatus::Confirmed,
            (AlertStatus::UnderReview, ReviewAction::Dismiss) => AlertStatus::Dismissed,
            _ => return Err(ReviewError::IllegalTransition { from, action }),
        };
        let reason = reason.trim().to_string();
        let len = reason.chars().count();
        if len > MAX_REASON_CHARS {
            return Err(ReviewError::ReasonTooLong {
                len,
                max: MAX_REASON_CHARS,
            });
        }
        if action != ReviewAction::Start && reason.is_empty() {
            return Err(ReviewError::ReasonRequired(action));
        }
        if let Some(days) = bar_days {
            if action != ReviewAction::Confirm {
                return Err(ReviewError::BarWithoutConfirm);
            }
            if days == 0 || days > MAX_BAR_DAYS {
                return Err(ReviewError::BarOutOfRange {
                    days,
                    max: MAX_BAR_DAYS,
                });
            }
        }
        Ok(Self {
            from,
            to,
            action,
            reason,
            bar_days,
        })
    }

    /// When the bar ends, counted from the decision.
    pub fn barred_until(&self, decided_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.bar_days
            .map(|d| decided_at + Duration::days(i64::from(d)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_workflow_runs_open_review_decide() {
        let s = ReviewStep::check(AlertStatus::Open, ReviewAction::Start, "", None).unwrap();
        assert_eq!(s.to, AlertStatus::UnderReview);
        let c = ReviewStep::check(
            AlertStatus::UnderReview,
            ReviewAction::Confirm,
            "  same machine code in both bids ",
            Some(365),
        )
        .unwrap();
        assert_eq!(c.to, AlertStatus::Confirmed);
        assert_eq!(c.reason, "same machine code in both bids");
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            c.barred_until(at),
            Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap())
        );
        let d = ReviewStep::check(
            AlertStatus::UnderReview,
            ReviewAction::Dismiss,
            "shared office",
            None,
        )
        .unwrap();
        assert_eq!(d.to, AlertStatus::Dismissed);
        assert_eq!(d.barred_until(at), None);
    }

    #[test]
    fn illegal_steps_are_refused_with_a_clear_message() {
        for (from, action) in [
            (AlertStatus::Open, ReviewAction::Confirm),
            (AlertStatus::Open, ReviewAction::Dismiss),
            (AlertStatus::UnderReview, ReviewAction::Start),
            (AlertStatus::Confirmed, ReviewAction::Dismiss),
            (AlertStatus::Dismissed, ReviewAction::Start),
            (AlertStatus::Confirmed, ReviewAction::Confirm),
        ] {
            let e = ReviewStep::check(from, action, "why", None).unwrap_err();
            assert_eq!(e.code(), "illegal_transition");
        }
        let e = ReviewStep::check(AlertStatus::Open, ReviewAction::Confirm, "x", None).unwrap_err();
        assert_eq!(e.to_string(), "an alert that is open cannot be confirmed");
    }

    #[test]
    fn decisions_need_a_reason_and_bars_are_bounded() {
        let e = ReviewStep::check(AlertStatus::UnderReview, ReviewAction::Dismiss, "   ", None)
            .unwrap_err();
        assert_eq!(e, ReviewError::ReasonRequired(ReviewAction::Dismiss));
        assert!(e.to_string().contains("reason is required to dismiss"));
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        assert_eq!(
            ReviewStep::check(AlertStatus::UnderReview, ReviewAction::Confirm, &long, None)
                .unwrap_err()
                .code(),
            "reason_too_long"
        );
        for days in [0, MAX_BAR_DAYS + 1] {
            assert_eq!(
                ReviewStep::check(
                    AlertStatus::UnderReview,
                    ReviewAction::Confirm,
                    "r",
                    Some(days)
                )
                .unwrap_err()
                .code(),
                "bar_out_of_range"
            );
        }
        assert_eq!(
            ReviewStep::check(
                AlertStatus::UnderReview,
                ReviewAction::Dismiss,
                "r",
                Some(30)
            )
            .unwrap_err(),
            ReviewError::BarWithoutConfirm
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in AlertStatus::ALL {
            assert_eq!(AlertStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(AlertStatus::parse("closed"), None);
        assert!(AlertStatus::Confirmed.is_decided() && !AlertStatus::UnderReview.is_decided());
    }
}
