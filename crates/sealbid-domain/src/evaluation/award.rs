//! After the evaluation report: the candidates' publication and objections (条例 54), the award
//! notice (法 45), the contract (法 46) and the refund of the bid deposits (条例 57), as one
//! document per tender that every step updates. Every deadline comes from [`super::deadlines`]
//! and is judged against the time the caller passes in (the platform's `Clock`).
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::deadlines::{
    contract_due, deposit_refund_due, is_overdue, publication_start_due, DeadlineError,
    PostEvaluationRules, PublicationWindow,
};
use crate::tender::china_time;
use crate::{BidId, OrgId, UserId};

/// A candidate as published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub rank: u32,
    pub bid: BidId,
    pub bidder: OrgId,
    pub bidder_name: String,
    pub price: Decimal,
    /// The total score (comprehensive scoring); none under lowest evaluated price.
    pub total: Option<Decimal>,
}

/// The candidates' publication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    pub window: PublicationWindow,
    pub candidates: Vec<Candidate>,
    /// It started after the deadline (3 days after the report): allowed, but on the record.
    pub late: bool,
}

/// The tenderee's answer to an objection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub text: String,
    /// The objection is founded: the tenderee must not award until the matter is put right (the
    /// process stops here; a re-evaluation or a new tender follows).
    pub upheld: bool,
    /// Answered after the 3 days.
    pub late: bool,
}

/// An objection to the evaluation result by a bidder (or another interested party).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objection {
    pub number: u32,
    pub by_org: OrgId,
    pub by_user: UserId,
    pub received_at: DateTime<Utc>,
    pub text: String,
    pub answer_due: DateTime<Utc>,
    pub answer: Option<Answer>,
}

/// The award notice to the successful bidder (and the result to the others).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwardNotice {
    pub at: DateTime<Utc>,
    pub winner: Candidate,
    pub contract_due: DateTime<Utc>,
}

/// The contract as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractRecord {
    pub signed_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub amount: Decimal,
    /// The contract's own number.
    pub reference: String,
    /// Signed after the 30 days.
    pub late: bool,
}

/// A deposit to give back (with interest) after the contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    pub bidder: OrgId,
    pub bidder_name: String,
    pub reference: String,
    pub amount: Decimal,
    pub due: DateTime<Utc>,
    pub refunded_at: Option<DateTime<Utc>>,
}

impl Refund {
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.refunded_at.is_none() && is_overdue(now, self.due)
    }
}

/// What can go wrong; each has a stable [`AwardError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwardError {
    #[error(transparent)]
    Deadline(#[from] DeadlineError),
    #[error("the candidates are published already")]
    AlreadyPublished,
    #[error("the candidates are not published yet")]
    NotPublished,
    #[error("the report names no candidate: every bid was rejected, the tender fails (法 42)")]
    NoCandidates,
    #[error("the publication runs until {}: the award notice comes after it", china_time(*.until))]
    PublicationRunning { until: DateTime<Utc> },
    #[error("objection {number} is not answered yet (due {}): answer it first", china_time(*.due))]
    ObjectionPending { number: u32, due: DateTime<Utc> },
    #[error("objection {number} was upheld: the award cannot go ahead on this result")]
    ObjectionUpheld { number: u32 },
    #[error("no objection {number}")]
    NoSuchObjection { number: u32 },
    #[error("objection {number} is answered already")]
    AlreadyAnswered { number: u32 },
    #[error("the award notice is given already")]
    AlreadyAwarded,
    #[error("there is no award notice yet")]
    NotAwarded,
    #[error("the bid {bid} is not one of the candidates")]
    NotACandidate { bid: BidId },
    #[error("the contract is recorded already")]
    ContractRecorded,
    #[error("the contract cannot be signed before the award notice ({})", china_time(*.notice))]
    SignedBeforeNotice { notice: DateTime<Utc> },
    #[error("the signing date is in the future")]
    SignedInFuture,
    #[error("the contract amount must be positive")]
    BadAmount,
    #[error("{what} must have 1 to {max} characters")]
    BadText { what: &'static str, max: usize },
    #[error("no refund is due to this bidder")]
    NoSuchRefund,
    #[error("this deposit was refunded already")]
    AlreadyRefunded,
}

impl AwardError {
    pub fn code(&self) -> &'static str {
        match self {
            AwardError::Deadline(e) => e.code(),
            AwardError::AlreadyPublished => "already_published",
            AwardError::NotPublished => "not_published",
            AwardError::NoCandidates => "no_candidates",
            AwardError::PublicationRunning { .. } => "publication_running",
            AwardError::ObjectionPending { .. } => "objection_pending",
            AwardError::ObjectionUpheld { .. } => "objection_upheld",
            AwardError::NoSuchObjection { .. } => "no_such_objection",
            AwardError::AlreadyAnswered { .. } => "already_answered",
            AwardError::AlreadyAwarded => "already_awarded",
            AwardError::NotAwarded => "not_awarded",
            AwardError::NotACandidate { .. } => "not_a_candidate",
            AwardError::ContractRecorded => "contract_recorded",
            AwardError::SignedBeforeNotice { .. } => "signed_before_notice",
            AwardError::SignedInFuture => "signed_in_future",
            AwardError::BadAmount => "invalid_amount",
            AwardError::BadText { .. } => "invalid_text",
            AwardError::NoSuchRefund => "no_such_refund",
            AwardError::AlreadyRefunded => "already_refunded",
        }
    }

    /// Whether the error is about the state of the process (409) rather than the input (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            AwardError::AlreadyPublished
                | AwardError::NotPublished
                | AwardError::PublicationRunning { .. }
                | AwardError::ObjectionPending { .. }
                | AwardError::ObjectionUpheld { .. }
                | AwardError::AlreadyAnswered { .. }
                | AwardError::AlreadyAwarded
                | AwardError::NotAwarded
                | AwardError::ContractRecorded
                | AwardError::AlreadyRefunded
        )
    }
}

fn text(what: &'static str, s: &str, max: usize) -> Result<String, AwardError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(AwardError::BadText { what, max });
    }
    Ok(t.to_string())
}

/// A deposit paid for a bid, to be refunded after the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaidDeposit {
    pub bidder: OrgId,
    pub bidder_name: String,
    pub reference: String,
    pub amount: Decimal,
}

/// One tender's process after the evaluation report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwardProcess {
    /// When the tenderee received the report (it was logged, every member having signed).
    pub report_received: DateTime<Utc>,
    pub publication: Option<Publication>,
    pub objections: Vec<Objection>,
    pub notice: Option<AwardNotice>,
    pub contract: Option<ContractRecord>,
    pub refunds: Vec<Refund>,
}

impl AwardProcess {
    pub fn new(report_received: DateTime<Utc>) -> AwardProcess {
        AwardProcess {
            report_received,
            publication: None,
            objections: Vec::new(),
            notice: None,
            contract: None,
            refunds: Vec::new(),
        }
    }

    /// The latest start of the publication.
    pub fn publication_due(&self, rules: &PostEvaluationRules) -> DateTime<Utc> {
        publication_start_due(self.report_received, rules)
    }

    /// Publishes the candidates from `now` until `end` (at least the shortest publication). A
    /// publication after its deadline still goes ahead (the candidates must be published) and is
    /// marked late.
    pub fn publish(
        &mut self,
        now: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
        candidates: Vec<Candidate>,
        rules: &PostEvaluationRules,
    ) -> Result<&Publication, AwardError> {
        if self.publication.is_some() {
            return Err(AwardError::AlreadyPublished);
        }
        if candidates.is_empty() {
            return Err(AwardError::NoCandidates);
        }
        let minimal = PublicationWindow::minimal(now, rules);
        let end = end.unwrap_or(minimal.end);
        let late = is_overdue(now, self.publication_due(rules));
        // Checked as if in time: the start and length rules still hold for a late publication.
        let received = if late { now } else { self.report_received };
        let window = PublicationWindow::new(received, now, end, rules)?;
        Ok(self.publication.insert(Publication {
            window,
            candidates,
            late,
        }))
    }

    /// Receives an objection at `now`; outside the publication it is refused with the window's
    /// opening or closing time.
    pub fn object(
        &mut self,
        org: OrgId,
        user: UserId,
        now: DateTime<Utc>,
        body: &str,
        rules: &PostEvaluationRules,
    ) -> Result<&Objection, AwardError> {
        let p = self.publication.as_ref().ok_or(AwardError::NotPublished)?;
        let answer_due = p.window.accept_objection(now, rules)?;
        let body = text("the objection", body, 5000)?;
        let number = u32::try_from(self.objections.len() + 1).unwrap_or(u32::MAX);
        self.objections.push(Objection {
            number,
            by_org: org,
            by_user: user,
            received_at: now,
            text: body,
            answer_due,
            answer: None,
        });
        Ok(&self.objections[self.objections.len() - 1])
    }

    /// Answers objection `number`; an answer after the 3 days is recorded as late.
    pub fn answer(
        &mut self,
        number: u32,
        by: UserId,
        now: DateTime<Utc>,
        body: &str,
        upheld: bool,
    ) -> Result<&Objection, AwardError> {
        let body = text("the answer", body, 5000)?;
        let o = self
            .objections
            .iter_mut()
            .find(|o| o.number == number)
            .ok_or(AwardError::NoSuchObjection { number })?;
        if o.answer.is_some() {
            return Err(AwardError::AlreadyAnswered { number });
        }
        o.answer = Some(Answer {
            at: now,
            by,
            text: body,
            upheld,
            late: is_overdue(now, o.answer_due),
        });
        Ok(o)
    }

    /// Objections past their answer time with no answer (for the task list).
    pub fn overdue_objections(&self, now: DateTime<Utc>) -> Vec<&Objection> {
        self.objections
            .iter()
            .filter(|o| o.answer.is_none() && is_overdue(now, o.answer_due))
            .collect()
    }

    /// Gives the award notice to `winner` (the first candidate if none is named) once the
    /// publication is over and every objection is answered, none upheld.
    pub fn award(
        &mut self,
        now: DateTime<Utc>,
        winner: Option<BidId>,
        rules: &PostEvaluationRules,
    ) -> Result<&AwardNotice, AwardError> {
        if self.notice.is_some() {
            return Err(AwardError::AlreadyAwarded);
        }
        let p = self.publication.as_ref().ok_or(AwardError::NotPublished)?;
        if !is_overdue(now, p.window.end) {
            return Err(AwardError::PublicationRunning {
                until: p.window.end,
            });
        }
        for o in &self.objections {
            match &o.answer {
                None => {
                    return Err(AwardError::ObjectionPending {
                        number: o.number,
                        due: o.answer_due,
                    })
                }
                Some(a) if a.upheld => {
                    return Err(AwardError::ObjectionUpheld { number: o.number })
                }
                Some(_) => {}
            }
        }
        let winner = match winner {
            None => p
                .candidates
                .first()
                .cloned()
                .ok_or(AwardError::NoCandidates)?,
            Some(bid) => p
                .candidates
                .iter()
                .find(|c| c.bid == bid)
                .cloned()
                .ok_or(AwardError::NotACandidate { bid })?,
        };
        Ok(self.notice.insert(AwardNotice {
            at: now,
            winner,
            contract_due: contract_due(now, rules),
        }))
    }

    /// Records the contract signed at `signed_at` (not before the notice, not in the future) and
    /// opens a refund task for every deposit paid, due 5 days after signing.
    pub fn record_contract(
        &mut self,
        now: DateTime<Utc>,
        signed_at: DateTime<Utc>,
        amount: Decimal,
        reference: &str,
        deposits: &[PaidDeposit],
        rules: &PostEvaluationRules,
    ) -> Result<&ContractRecord, AwardError> {
        if self.contract.is_some() {
            return Err(AwardError::ContractRecorded);
        }
        let notice = self.notice.as_ref().ok_or(AwardError::NotAwarded)?;
        if signed_at < notice.at {
            return Err(AwardError::SignedBeforeNotice { notice: notice.at });
        }
        if signed_at > now {
            return Err(AwardError::SignedInFuture);
        }
        if amount <= Decimal::ZERO {
            return Err(AwardError::BadAmount);
        }
        let reference = text("the contract reference", reference, 200)?;
        let late = is_overdue(signed_at, notice.contract_due);
        let due = deposit_refund_due(signed_at, rules);
        self.refunds = deposits
            .iter()
            .filter(|d| d.amount > Decimal::ZERO)
            .map(|d| Refund {
                bidder: d.bidder,
                bidder_name: d.bidder_name.clone(),
                reference: d.reference.clone(),
                amount: d.amount,
                due,
                refunded_at: None,
            })
            .collect();
        Ok(self.contract.insert(ContractRecord {
            signed_at,
            recorded_at: now,
            amount,
            reference,
            late,
        }))
    }

    /// Marks the deposit of `bidder` as refunded at `now`.
    pub fn refund(&mut self, bidder: OrgId, now: DateTime<Utc>) -> Result<&Refund, AwardError> {
        let r = self
            .refunds
            .iter_mut()
            .find(|r| r.bidder == bidder)
            .ok_or(AwardError::NoSuchRefund)?;
        if r.refunded_at.is_some() {
            return Err(AwardError::AlreadyRefunded);
        }
        r.refunded_at = Some(now);
        Ok(r)
    }

    /// Every deposit refunded: the process is complete.
    pub fn is_complete(&self) -> bool {
        self.contract.is_some() && self.refunds.iter().all(|r| r.refunded_at.is_some())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::clock::{china_tz, Clock, ManualClock};
    use chrono::{Duration, TimeZone};
    use rust_decimal_macros::dec;

    fn cst(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        china_tz()
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn rules() -> PostEvaluationRules {
        PostEvaluationRules::default()
    }

    fn candidates() -> Vec<Candidate> {
        (1..=3)
            .map(|rank| Candidate {
                rank,
                bid: BidId::new(),
                bidder: OrgId::new(),
                bidder_name: format!("Builder {rank}"),
                price: Decimal::from(900_000 + rank * 1000),
                total: Some(Decimal::from(90 - rank)),
            })
            .collect()
    }

    fn deposits(c: &[Candidate]) -> Vec<PaidDeposit> {
        c.iter()
            .map(|c| PaidDeposit {
                bidder: c.bidder,
                bidder_name: c.bidder_name.clone(),
                reference: format!("R-{}", c.rank),
                amount: dec!(20000.00),
            })
            .collect()
    }

    #[test]
    fn the_whole_process_on_a_moving_clock() {
        let clock = ManualClock::new(cst(2026, 1, 30, 10));
        let mut p = AwardProcess::new(clock.now());
        let c = candidates();
        let (org, user) = (OrgId::new(), UserId::new());
        // Nothing before the publication.
        assert_eq!(
            p.object(org, user, clock.now(), "x", &rules()).unwrap_err(),
            AwardError::NotPublished
        );
        clock.advance(Duration::days(1));
        let published = p.publish(clock.now(), None, c.clone(), &rules()).unwrap();
        assert!(!published.late);
        assert_eq!(published.window.end, cst(2026, 2, 3, 10));
        assert_eq!(
            p.publish(clock.now(), None, c.clone(), &rules())
                .unwrap_err(),
            AwardError::AlreadyPublished
        );
        // An objection on the last day is in time, answered within 3 days.
        clock.advance(Duration::days(3));
        let o = p
            .object(
                org,
                user,
                clock.now(),
                "the winner's licence expired",
                &rules(),
            )
            .unwrap();
        assert_eq!(o.answer_due, cst(2026, 2, 6, 10));
        // The award waits for the publication and the answers.
        assert!(matches!(
            p.award(clock.now(), None, &rules()),
            Err(AwardError::PublicationRunning { .. })
        ));
        clock.advance(Duration::seconds(1));
        let late = p
            .object(org, user, clock.now(), "too late", &rules())
            .unwrap_err();
        assert_eq!(late.code(), "objection_window_closed");
        assert!(late.to_string().contains("2026-02-03"), "{late}");
        assert!(matches!(
            p.award(clock.now(), None, &rules()),
            Err(AwardError::ObjectionPending { number: 1, .. })
        ));
        assert_eq!(p.overdue_objections(clock.now()).len(), 0);
        clock.advance(Duration::days(3));
        assert_eq!(p.overdue_objections(clock.now()).len(), 1);
        let a = p
            .answer(1, user, clock.now(), "the licence was renewed", false)
            .unwrap();
        assert!(a.answer.as_ref().unwrap().late);
        assert_eq!(
            p.answer(1, user, clock.now(), "again", false).unwrap_err(),
            AwardError::AlreadyAnswered { number: 1 }
        );
        // The award notice: the first candidate; the contract is due 30 days later.
        let notice = p.award(clock.now(), None, &rules()).unwrap();
        assert_eq!(notice.winner, c[0]);
        assert_eq!(notice.contract_due, clock.now() + Duration::days(30));
        let notice_at = clock.now();
        // The contract: not before the notice, not in the future, a positive amount.
        assert!(matches!(
            p.record_contract(
                clock.now(),
                notice_at - Duration::hours(1),
                dec!(1),
                "C-1",
                &[],
                &rules()
            ),
            Err(AwardError::SignedBeforeNotice { .. })
        ));
        assert_eq!(
            p.record_contract(
                clock.now(),
                clock.now() + Duration::hours(1),
                dec!(1),
                "C-1",
                &[],
                &rules()
            )
            .unwrap_err(),
            AwardError::SignedInFuture
        );
        clock.advance(Duration::days(31));
        let signed = notice_at + Duration::days(30) + Duration::hours(2);
        let contract = p
            .record_contract(
                clock.now(),
                signed,
                c[0].price,
                "QD-2026-C-017",
                &deposits(&c),
                &rules(),
            )
            .unwrap();
        assert!(contract.late, "signed after the 30 days");
        // Refunds, due 5 days after signing; overdue after that until done.
        assert_eq!(p.refunds.len(), 3);
        assert!(p
            .refunds
            .iter()
            .all(|r| r.due == signed + Duration::days(5)));
        assert!(!p.refunds[0].is_overdue(signed + Duration::days(5)));
        assert!(p.refunds[0].is_overdue(signed + Duration::days(5) + Duration::seconds(1)));
        p.refund(c[0].bidder, clock.now()).unwrap();
        assert_eq!(
            p.refund(c[0].bidder, clock.now()).unwrap_err(),
            AwardError::AlreadyRefunded
        );
        assert_eq!(
            p.refund(OrgId::new(), clock.now()).unwrap_err(),
            AwardError::NoSuchRefund
        );
        assert!(!p.is_complete());
        p.refund(c[1].bidder, clock.now()).unwrap();
        p.refund(c[2].bidder, clock.now()).unwrap();
        assert!(p.is_complete());
    }

    #[test]
    fn a_late_publication_is_marked_and_short_ones_refused() {
        let received = cst(2026, 3, 1, 9);
        let mut p = AwardProcess::new(received);
        let now = received + Duration::days(4);
        let short = p
            .publish(now, Some(now + Duration::days(2)), candidates(), &rules())
            .unwrap_err();
        assert_eq!(short.code(), "publication_too_short");
        assert!(
            p.publish(now, None, Vec::new(), &rules()).unwrap_err() == AwardError::NoCandidates
        );
        let pubd = p
            .publish(now, Some(now + Duration::days(5)), candidates(), &rules())
            .unwrap();
        assert!(pubd.late);
        assert_eq!(pubd.window.end, now + Duration::days(5));
    }

    #[test]
    fn an_upheld_objection_stops_the_award_and_a_named_winner_must_be_a_candidate() {
        let received = cst(2026, 3, 1, 9);
        let mut p = AwardProcess::new(received);
        let c = candidates();
        p.publish(received, None, c.clone(), &rules()).unwrap();
        let (org, user) = (OrgId::new(), UserId::new());
        p.object(
            org,
            user,
            received + Duration::days(1),
            "collusion between 1 and 2",
            &rules(),
        )
        .unwrap();
        assert_eq!(
            p.object(org, user, received, "  ", &rules())
                .unwrap_err()
                .code(),
            "invalid_text"
        );
        p.answer(
            1,
            user,
            received + Duration::days(2),
            "founded: re-evaluate",
            true,
        )
        .unwrap();
        let after = received + Duration::days(4);
        assert_eq!(
            p.award(after, None, &rules()).unwrap_err(),
            AwardError::ObjectionUpheld { number: 1 }
        );
        let mut q = AwardProcess::new(received);
        q.publish(received, None, c.clone(), &rules()).unwrap();
        let stranger = BidId::new();
        assert_eq!(
            q.award(after, Some(stranger), &rules()).unwrap_err(),
            AwardError::NotACandidate { bid: stranger }
        );
        assert_eq!(
            q.award(after, Some(c[1].bid), &rules()).unwrap().winner,
            c[1]
        );
        assert!(AwardError::NotAwarded.is_conflict() && !AwardError::BadAmount.is_conflict());
    }
}
