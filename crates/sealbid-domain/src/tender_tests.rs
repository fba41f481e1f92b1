//! Unit tests of the tender lifecycle: every transition, every legal figure it enforces, and the
//! promise that a refused transition leaves the tender exactly as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use chrono::{Datelike, TimeZone, Timelike, Weekday};
use std::collections::BTreeSet;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// An instant given in China time (UTC+8), as people read it on notices.
fn cn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap() - Duration::hours(8)
}

fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn calendar() -> WorkingCalendar {
    WorkingCalendar::try_builtin().unwrap()
}

fn rules() -> TenderRules {
    TenderRules::default()
}

fn user(n: u128) -> UserId {
    UserId(Uuid::from_u128(n))
}

/// Draft created Monday 2025-03-03 09:00 China time.
fn t_created() -> DateTime<Utc> {
    cn(2025, 3, 3, 9, 0)
}
/// Submitted the same Monday at 10:00.
fn t_submit() -> DateTime<Utc> {
    cn(2025, 3, 3, 10, 0)
}
/// Approved (published) Wednesday 2025-03-05 10:00.
fn t_approve() -> DateTime<Utc> {
    cn(2025, 3, 5, 10, 0)
}
/// Bid deadline and opening: Thursday 2025-04-10 09:30, 36 days after publication.
fn t_deadline() -> DateTime<Utc> {
    cn(2025, 4, 10, 9, 30)
}
fn t_complete() -> DateTime<Utc> {
    cn(2025, 5, 20, 16, 0)
}

fn terms() -> TenderTerms {
    TenderTerms {
        title: "Resurfacing of Xianggang Road, Shinan district".to_string(),
        description: "Milling and asphalt overlay, 3.2 km, including markings.".to_string(),
        category: Category::Works,
        mandatory: true,
        estimated_price: money("1000000.00"),
        ceiling_price: Some(money("1100000.00")),
        bid_deposit: money("10000.00"),
        documents: vec![TenderDocument {
            name: "tender-documents.pdf".to_string(),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_string(),
            size: 1_234_567,
        }],
        bid_deadline: t_deadline(),
        opening_time: t_deadline(),
        evaluation_method: EvaluationMethod::ComprehensiveScoring,
        qualification_criteria: vec!["Grade II municipal works licence or better".to_string()],
        committee: CommitteePolicy::default(),
    }
}

fn draft_with(terms: TenderTerms) -> Tender {
    Tender::new_draft(
        TenderId(Uuid::from_u128(0x7e_0001)),
        TenderCode::parse("QD-2025-GC-0001").unwrap(),
        DivisionCode::parse("370200").unwrap(),
        OrgId(Uuid::from_u128(0x0a_0001)),
        user(1),
        terms,
        t_created(),
    )
}

fn draft() -> Tender {
    draft_with(terms())
}

fn published() -> Tender {
    tender_in(TenderState::Published)
}

/// A tender driven through the real transitions to `state`.
fn tender_in(state: TenderState) -> Tender {
    let r = rules();
    let mut t = draft();
    let steps: &[TenderState] = match state {
        TenderState::Draft => &[],
        TenderState::UnderReview => &[TenderState::UnderReview],
        TenderState::Published => &[TenderState::UnderReview, TenderState::Published],
        TenderState::Closed => &[
            TenderState::UnderReview,
            TenderState::Published,
            TenderState::Closed,
        ],
        TenderState::Opened => &[
            TenderState::UnderReview,
            TenderState::Published,
            TenderState::Closed,
            TenderState::Opened,
        ],
        TenderState::Evaluating => &[
            TenderState::UnderReview,
            TenderState::Published,
            TenderState::Closed,
            TenderState::Opened,
            TenderState::Evaluating,
        ],
        TenderState::CandidatesPublished => &[
            TenderState::UnderReview,
            TenderState::Published,
            TenderState::Closed,
            TenderState::Opened,
            TenderState::Evaluating,
            TenderState::CandidatesPublished,
        ],
        TenderState::Awarded => &[
            TenderState::UnderReview,
            TenderState::Published,
            TenderState::Closed,
            TenderState::Opened,
            TenderState::Evaluating,
            TenderState::CandidatesPublished,
            TenderState::Awarded,
        ],
        TenderState::Completed => &[
            TenderState::UnderReview,
            TenderState::Published,
            TenderState::Closed,
            TenderState::Opened,
            TenderState::Evaluating,
            TenderState::CandidatesPublished,
            TenderState::Awarded,
            TenderState::Completed,
        ],
        TenderState::Failed => &[
            TenderState::UnderReview,
            TenderState::Published,
            TenderState::Closed,
            TenderState::Failed,
        ],
        TenderState::Cancelled => &[
            TenderState::UnderReview,
            TenderState::Published,
            TenderState::Cancelled,
        ],
    };
    for next in steps {
        match next {
            TenderState::UnderReview => t.submit_for_review(t_submit(), &calendar(), &r).unwrap(),
            TenderState::Published => t.approve(t_approve(), &r).unwrap(),
            TenderState::Closed => t.close(t_deadline()).unwrap(),
            TenderState::Opened => {
                assert_eq!(t.open(t_deadline(), 5, &r).unwrap(), OpeningOutcome::Opened)
            }
            TenderState::Failed => assert_eq!(
                t.open(t_deadline(), 2, &r).unwrap(),
                OpeningOutcome::FailedTooFewBids
            ),
            TenderState::Evaluating => t.start_evaluation().unwrap(),
            TenderState::CandidatesPublished => t.publish_candidates().unwrap(),
            TenderState::Awarded => t.award().unwrap(),
            TenderState::Completed => t.complete(t_complete()).unwrap(),
            TenderState::Cancelled => t
                .cancel(
                    cn(2025, 3, 20, 11, 0),
                    "the project was withdrawn from the budget",
                )
                .unwrap(),
            TenderState::Draft => unreachable!(),
        }
    }
    assert_eq!(t.state, state);
    t
}

fn codes(problems: &[Problem]) -> BTreeSet<&str> {
    problems.iter().map(|p| p.code.as_str()).collect()
}

fn invalid_problems(e: TenderError) -> Vec<Problem> {
    match e {
        TenderError::Invalid(p) => {
            assert_eq!(TenderError::Invalid(p.clone()).code(), "invalid_tender");
            p
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn title_patch(title: &str) -> TermsPatch {
    TermsPatch {
        title: Some(title.to_string()),
        ..TermsPatch::default()
    }
}

/// Asserts that `t` is exactly `before`: equal as a value and equal as serialised bytes.
fn assert_unchanged(t: &Tender, before: &Tender) {
    assert_eq!(t, before);
    assert_eq!(
        serde_json::to_vec(t).unwrap(),
        serde_json::to_vec(before).unwrap()
    );
}

// ---------------------------------------------------------------------------------------------
// Happy path
// ---------------------------------------------------------------------------------------------

#[test]
fn happy_path_runs_from_draft_to_completed() {
    let r = rules();
    let cal = calendar();
    let mut t = draft();
    assert_eq!(t.state, TenderState::Draft);
    assert_eq!(t.version, 1);
    assert_eq!(t.created_at, t_created());
    assert_eq!(t.submitted_at, None);
    assert_eq!(t.review_due, None);
    assert_eq!(t.published_at, None);
    assert_eq!(t.closed_at, None);
    assert_eq!(t.opened_at, None);
    assert_eq!(t.ended_at, None);
    assert_eq!(t.end_reason, None);
    assert!(!t.state.is_public());

    t.submit_for_review(t_submit(), &cal, &r).unwrap();
    assert_eq!(t.state, TenderState::UnderReview);
    assert_eq!(t.version, 2);
    assert_eq!(t.submitted_at, Some(t_submit()));
    assert!(t.review_due.is_some_and(|due| due > t_submit()));
    assert!(!t.state.is_public());

    t.approve(t_approve(), &r).unwrap();
    assert_eq!(t.state, TenderState::Published);
    assert_eq!(t.version, 3);
    assert_eq!(t.published_at, Some(t_approve()));
    assert!(t.state.is_public());

    t.close(t_deadline()).unwrap();
    assert_eq!(t.state, TenderState::Closed);
    assert_eq!(t.version, 4);
    assert_eq!(t.closed_at, Some(t_deadline()));

    let opened_at = t_deadline() + Duration::minutes(2);
    assert_eq!(t.open(opened_at, 3, &r).unwrap(), OpeningOutcome::Opened);
    assert_eq!(t.state, TenderState::Opened);
    assert_eq!(t.version, 5);
    assert_eq!(t.opened_at, Some(opened_at));
    assert_eq!(t.ended_at, None);

    t.start_evaluation().unwrap();
    assert_eq!(t.state, TenderState::Evaluating);
    assert_eq!(t.version, 6);

    t.publish_candidates().unwrap();
    assert_eq!(t.state, TenderState::CandidatesPublished);
    assert_eq!(t.version, 7);

    t.award().unwrap();
    assert_eq!(t.state, TenderState::Awarded);
    assert_eq!(t.version, 8);
    assert!(!t.state.is_terminal());

    t.complete(t_complete()).unwrap();
    assert_eq!(t.state, TenderState::Completed);
    assert_eq!(t.version, 9);
    assert_eq!(t.ended_at, Some(t_complete()));
    assert_eq!(t.end_reason, None);
    assert!(t.state.is_terminal());

    // Every earlier timestamp survived the later steps.
    assert_eq!(t.created_at, t_created());
    assert_eq!(t.submitted_at, Some(t_submit()));
    assert_eq!(t.published_at, Some(t_approve()));
    assert_eq!(t.closed_at, Some(t_deadline()));
    assert_eq!(t.opened_at, Some(opened_at));
    assert_eq!(t.terms, terms());

    let labels: Vec<&str> = t.timetable().into_iter().map(|(l, _)| l).collect();
    assert_eq!(
        labels,
        [
            "created",
            "submitted for review",
            "published",
            "bid deadline",
            "opening",
            "closed",
            "opened",
            "ended"
        ]
    );
}

#[test]
fn timetable_shows_review_due_only_while_under_review() {
    let t = tender_in(TenderState::UnderReview);
    let tt = t.timetable();
    assert!(tt.contains(&("review due", t.review_due.unwrap())));
    let t = published();
    assert!(t.timetable().iter().all(|(l, _)| *l != "review due"));
}

#[test]
fn state_flags() {
    for s in TenderState::ALL {
        assert_eq!(
            s.is_public(),
            !matches!(s, TenderState::Draft | TenderState::UnderReview),
            "{s}"
        );
        assert_eq!(
            s.is_terminal(),
            matches!(
                s,
                TenderState::Completed | TenderState::Failed | TenderState::Cancelled
            ),
            "{s}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Review period: 3 working days
// ---------------------------------------------------------------------------------------------

/// Submits a draft whose deadline is far enough away at `now` and returns the review due time.
fn review_due_for(now: DateTime<Utc>) -> DateTime<Utc> {
    let mut tm = terms();
    tm.bid_deadline = now + Duration::days(60);
    tm.opening_time = tm.bid_deadline;
    let mut t = draft_with(tm);
    t.submit_for_review(now, &calendar(), &rules()).unwrap();
    t.review_due.unwrap()
}

/// Asserts that `due` is the end of the China-time day `y-mo-d` (23:59:59 UTC+8): anything
/// done on that day is on time.
fn assert_end_of_china_day(due: DateTime<Utc>, y: i32, mo: u32, d: u32) {
    let expected = cn(y, mo, d, 23, 59) + Duration::seconds(59);
    assert_eq!(
        due,
        expected,
        "review due {}, expected the end of {y}-{mo:02}-{d:02} China time",
        china_time(due)
    );
}

#[test]
fn review_due_friday_submission_is_end_of_wednesday() {
    // Friday 2025-03-07 15:00 China time; Mon 10, Tue 11, Wed 12 are the three working days.
    let now = cn(2025, 3, 7, 15, 0);
    assert_eq!(
        now.with_timezone(&crate::clock::china_tz()).weekday(),
        Weekday::Fri
    );
    let due = review_due_for(now);
    assert_end_of_china_day(due, 2025, 3, 12);
}

#[test]
fn review_due_midweek_submission_does_not_count_the_submission_day() {
    // Monday 2025-03-03 10:00: Tue 4, Wed 5, Thu 6.
    assert_end_of_china_day(review_due_for(cn(2025, 3, 3, 10, 0)), 2025, 3, 6);
    // Late on Monday evening, China time, is still Monday (though already Monday in UTC only
    // until 08:00 China time): 23:30 Monday China = 15:30 UTC Monday.
    assert_end_of_china_day(review_due_for(cn(2025, 3, 3, 23, 30)), 2025, 3, 6);
    // 00:30 Tuesday China time is Monday 16:30 UTC: the China date decides, so Wed 5, Thu 6, Fri 7.
    assert_end_of_china_day(review_due_for(cn(2025, 3, 4, 0, 30)), 2025, 3, 7);
}

#[test]
fn review_due_skips_golden_week() {
    // Tuesday 2025-09-30, the eve of National Day. Oct 1-8 are holidays; Thu 9, Fri 10 and the
    // make-up Saturday Oct 11 are the three working days. The make-up Sunday Sep 28 lies before
    // the submission and must not count.
    let due = review_due_for(cn(2025, 9, 30, 16, 0));
    assert_end_of_china_day(due, 2025, 10, 11);
}

#[test]
fn review_due_counts_the_make_up_sunday_after_submission() {
    // Saturday 2025-09-27 (a rest day): Sun 28 (make-up working day), Mon 29, Tue 30.
    let due = review_due_for(cn(2025, 9, 27, 10, 0));
    assert_end_of_china_day(due, 2025, 9, 30);
    // Friday 2025-09-26: Sun 28, Mon 29, Tue 30 as well (Saturday 27 is a rest day).
    let due = review_due_for(cn(2025, 9, 26, 10, 0));
    assert_end_of_china_day(due, 2025, 9, 30);
    // Sunday 2025-09-28 itself, during the make-up working day: Mon 29, Tue 30, then Golden
    // Week, then Thu Oct 9.
    let due = review_due_for(cn(2025, 9, 28, 10, 0));
    assert_end_of_china_day(due, 2025, 10, 9);
}

#[test]
fn review_due_skips_spring_festival_2026() {
    // 2026 Spring Festival: Feb 15-23 off, Saturday Feb 14 and Saturday Feb 28 are make-up
    // working days. Submitted Friday Feb 13: Sat 14, Tue 24, Wed 25.
    let due = review_due_for(cn(2026, 2, 13, 10, 0));
    assert_end_of_china_day(due, 2026, 2, 25);
}

#[test]
fn review_overdue_only_after_the_due_time_and_only_under_review() {
    let mut t = draft();
    assert!(
        !t.review_overdue(cn(2030, 1, 1, 0, 0)),
        "a draft is never overdue"
    );
    t.submit_for_review(t_submit(), &calendar(), &rules())
        .unwrap();
    let due = t.review_due.unwrap();
    assert!(!t.review_overdue(t_submit()));
    assert!(!t.review_overdue(due - Duration::seconds(1)));
    assert!(!t.review_overdue(due));
    assert!(t.review_overdue(due + Duration::seconds(1)));
    assert!(t.review_overdue(due + Duration::days(30)));

    let mut approved = t.clone();
    approved.approve(t_approve(), &rules()).unwrap();
    assert!(!approved.review_overdue(due + Duration::days(1)));

    let mut returned = t.clone();
    returned
        .return_for_changes(t_approve(), user(9), vec!["fix".to_string()])
        .unwrap();
    assert!(!returned.review_overdue(due + Duration::days(1)));
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

#[test]
fn valid_terms_have_no_problems() {
    assert_eq!(terms().problems(t_submit(), &rules()), vec![]);
    assert_eq!(terms().problems(t_approve(), &rules()), vec![]);
}

#[test]
fn validation_reports_every_problem_at_once() {
    let mut tm = terms();
    tm.title = "   ".to_string();
    tm.bid_deposit = money("30000.00"); // 3% of 1,000,000
    tm.bid_deadline = t_submit() + Duration::days(10);
    tm.opening_time = tm.bid_deadline + Duration::hours(1);
    tm.committee = CommitteePolicy {
        threshold: 1,
        members: 5,
    };
    let mut t = draft_with(tm);
    let before = t.clone();
    let err = t
        .submit_for_review(t_submit(), &calendar(), &rules())
        .unwrap_err();
    assert_eq!(err.code(), "invalid_tender");
    assert!(err.to_string().starts_with("the tender has 5 problem(s): "));
    let problems = invalid_problems(err);
    assert_eq!(problems.len(), 5, "{problems:#?}");
    assert_eq!(
        codes(&problems),
        BTreeSet::from([
            "deposit_too_high",
            "opening_not_at_deadline",
            "deadline_too_early",
            "invalid_committee_policy",
            "invalid_title",
        ])
    );
    let fields: BTreeSet<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        BTreeSet::from([
            "title",
            "bid_deposit",
            "opening_time",
            "bid_deadline",
            "committee"
        ])
    );
    assert_unchanged(&t, &before);
}

#[test]
fn other_field_problems_are_reported() {
    let mut tm = terms();
    tm.title = "x".repeat(201);
    tm.description = "d".repeat(20_001);
    tm.estimated_price = money("0.00");
    tm.ceiling_price = Some(money("0.00"));
    tm.bid_deposit = money("0.00");
    tm.qualification_criteria = vec!["ok".to_string(), "  ".to_string()];
    tm.documents = vec![
        TenderDocument {
            name: "ok.pdf".to_string(),
            sha256: "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08".to_string(),
            size: 1,
        },
        TenderDocument {
            name: " ".to_string(),
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_string(),
            size: 1,
        },
        TenderDocument {
            name: "short.pdf".to_string(),
            sha256: "9f86d0".to_string(),
            size: 1,
        },
    ];
    let problems = tm.problems(t_submit(), &rules());
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "title",
            "description",
            "estimated_price",
            "ceiling_price",
            "qualification_criteria[1]",
            "documents[0]",
            "documents[1]",
            "documents[2]",
        ],
        "{problems:#?}"
    );
    // 200 characters, counted as characters, not bytes, is fine.
    let mut tm = terms();
    tm.title = "招".repeat(200);
    assert_eq!(tm.problems(t_submit(), &rules()), vec![]);
}

#[test]
fn committee_policy_bounds() {
    let check = |threshold, members| {
        let mut tm = terms();
        tm.committee = CommitteePolicy { threshold, members };
        codes(&tm.problems(t_submit(), &rules())).contains("invalid_committee_policy")
    };
    assert!(!check(3, 5));
    assert!(!check(2, 2));
    assert!(!check(15, 15));
    assert!(check(0, 5));
    assert!(check(1, 5));
    assert!(check(6, 5));
    assert!(check(2, 16));
}

#[test]
fn deadline_too_early_names_the_earliest_legal_date_mandatory() {
    // Published 2025-03-03 10:00 China: the earliest deadline is 20 days later.
    let publication = t_submit();
    let mut tm = terms();
    tm.bid_deadline = cn(2025, 3, 23, 9, 59);
    tm.opening_time = tm.bid_deadline;
    let problems = tm.problems(publication, &rules());
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert_eq!(p.code, "deadline_too_early");
    assert_eq!(p.field, "bid_deadline");
    assert!(
        p.message.contains("2025-03-23 10:00 (UTC+8)"),
        "{}",
        p.message
    );
    assert!(p.message.contains("20 days"), "{}", p.message);
    assert!(p.message.contains("法 24"), "{}", p.message);

    assert_eq!(
        tm.earliest_deadline(publication, &rules()),
        cn(2025, 3, 23, 10, 0)
    );
    // Exactly at the earliest legal deadline is accepted.
    tm.bid_deadline = cn(2025, 3, 23, 10, 0);
    tm.opening_time = tm.bid_deadline;
    assert_eq!(tm.problems(publication, &rules()), vec![]);
    // One second earlier is not.
    tm.bid_deadline = cn(2025, 3, 23, 10, 0) - Duration::seconds(1);
    tm.opening_time = tm.bid_deadline;
    assert_eq!(
        codes(&tm.problems(publication, &rules())),
        BTreeSet::from(["deadline_too_early"])
    );
}

#[test]
fn deadline_too_early_names_the_earliest_legal_date_other() {
    let publication = t_submit();
    let mut tm = terms();
    tm.mandatory = false;
    tm.bid_deadline = cn(2025, 3, 7, 10, 0);
    tm.opening_time = tm.bid_deadline;
    let problems = tm.problems(publication, &rules());
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert_eq!(p.code, "deadline_too_early");
    assert!(
        p.message.contains("2025-03-08 10:00 (UTC+8)"),
        "{}",
        p.message
    );
    assert!(p.message.contains("5 days"), "{}", p.message);
    assert!(p.message.contains("条例 16"), "{}", p.message);

    tm.bid_deadline = cn(2025, 3, 8, 10, 0);
    tm.opening_time = tm.bid_deadline;
    assert_eq!(tm.problems(publication, &rules()), vec![]);
    tm.bid_deadline -= Duration::seconds(1);
    tm.opening_time = tm.bid_deadline;
    assert_eq!(
        codes(&tm.problems(publication, &rules())),
        BTreeSet::from(["deadline_too_early"])
    );
}

#[test]
fn submit_accepts_exactly_the_earliest_deadline() {
    let mut tm = terms();
    tm.bid_deadline = t_submit() + Duration::days(20);
    tm.opening_time = tm.bid_deadline;
    let mut t = draft_with(tm.clone());
    t.submit_for_review(t_submit(), &calendar(), &rules())
        .unwrap();
    assert_eq!(t.state, TenderState::UnderReview);

    tm.bid_deadline -= Duration::seconds(1);
    tm.opening_time = tm.bid_deadline;
    let mut t = draft_with(tm);
    let before = t.clone();
    let problems = invalid_problems(
        t.submit_for_review(t_submit(), &calendar(), &rules())
            .unwrap_err(),
    );
    assert_eq!(codes(&problems), BTreeSet::from(["deadline_too_early"]));
    assert_unchanged(&t, &before);
}

#[test]
fn deposit_of_exactly_two_percent_is_accepted() {
    let mut tm = terms();
    tm.bid_deposit = money("20000.00");
    assert_eq!(tm.problems(t_submit(), &rules()), vec![]);

    tm.bid_deposit = money("20000.01");
    let problems = tm.problems(t_submit(), &rules());
    assert_eq!(codes(&problems), BTreeSet::from(["deposit_too_high"]));
    assert!(
        problems[0].message.contains("2%"),
        "{}",
        problems[0].message
    );
    assert!(
        problems[0].message.contains("条例 26"),
        "{}",
        problems[0].message
    );
    assert!(
        problems[0].message.contains("at most 20000.00 yuan"),
        "{}",
        problems[0].message
    );
}

#[test]
fn deposit_limit_is_not_rounded_up() {
    // 2% of 1,000.25 is 20.005 yuan: 20.00 is within the limit, 20.01 is above it even though
    // the limit rounds to 20.01 half-up.
    let mut tm = terms();
    tm.estimated_price = money("1000.25");
    tm.ceiling_price = None;
    tm.bid_deposit = money("20.00");
    assert_eq!(tm.problems(t_submit(), &rules()), vec![]);
    tm.bid_deposit = money("20.01");
    let problems = tm.problems(t_submit(), &rules());
    assert_eq!(codes(&problems), BTreeSet::from(["deposit_too_high"]));
    // The message names the largest deposit allowed, to the fen.
    assert!(
        problems[0].message.contains("at most 20.00 yuan"),
        "{}",
        problems[0].message
    );
}

#[test]
fn deposit_limit_follows_the_configured_percentage() {
    let mut r = rules();
    r.max_deposit_percent = Decimal::ONE;
    let mut tm = terms();
    tm.bid_deposit = money("10000.00");
    assert_eq!(tm.problems(t_submit(), &r), vec![]);
    tm.bid_deposit = money("10000.01");
    assert_eq!(
        codes(&tm.problems(t_submit(), &r)),
        BTreeSet::from(["deposit_too_high"])
    );
}

// ---------------------------------------------------------------------------------------------
// Review: approve, return, edit
// ---------------------------------------------------------------------------------------------

#[test]
fn approve_rechecks_against_the_actual_publication_time() {
    // Submitted with exactly 20 days to spare...
    let mut tm = terms();
    tm.bid_deadline = t_submit() + Duration::days(20);
    tm.opening_time = tm.bid_deadline;
    let mut t = draft_with(tm);
    t.submit_for_review(t_submit(), &calendar(), &rules())
        .unwrap();
    let before = t.clone();
    // ...but approved a day later: the bidding period would be only 19 days.
    let approved_at = t_submit() + Duration::days(1);
    let err = t.approve(approved_at, &rules()).unwrap_err();
    let problems = invalid_problems(err);
    assert_eq!(codes(&problems), BTreeSet::from(["deadline_too_early"]));
    assert!(
        problems[0].message.contains("2025-03-24 10:00 (UTC+8)"),
        "{}",
        problems[0].message
    );
    assert_eq!(t.state, TenderState::UnderReview);
    assert_eq!(t.version, before.version);
    assert_eq!(t.published_at, None);
    assert_unchanged(&t, &before);

    // Approved the same instant it was submitted, it would have been fine.
    let mut same_time = before.clone();
    same_time.approve(t_submit(), &rules()).unwrap();
    assert_eq!(same_time.state, TenderState::Published);
}

#[test]
fn return_for_changes_requires_a_problem() {
    let mut t = tender_in(TenderState::UnderReview);
    let before = t.clone();
    for problems in [
        vec![],
        vec![String::new()],
        vec!["   ".to_string(), "\t\n".to_string()],
    ] {
        let err = t
            .return_for_changes(t_approve(), user(9), problems)
            .unwrap_err();
        assert_eq!(err, TenderError::ReasonRequired);
        assert_eq!(err.code(), "reason_required");
        assert_unchanged(&t, &before);
    }
}

#[test]
fn return_for_changes_goes_back_to_draft_keeping_the_problems() {
    let mut t = tender_in(TenderState::UnderReview);
    let v = t.version;
    t.return_for_changes(
        t_approve(),
        user(9),
        vec![
            " The deposit clause is unclear ".to_string(),
            "  ".to_string(),
            "Drawings for section 3 are missing".to_string(),
        ],
    )
    .unwrap();
    assert_eq!(t.state, TenderState::Draft);
    assert_eq!(t.version, v + 1);
    assert_eq!(t.review_due, None);
    assert_eq!(
        t.last_return,
        Some(ReviewReturn {
            at: t_approve(),
            by: user(9),
            problems: vec![
                "The deposit clause is unclear".to_string(),
                "Drawings for section 3 are missing".to_string(),
            ],
        })
    );

    // The draft can be edited and submitted again; the return stays on record.
    let mut tm = terms();
    tm.bid_deposit = money("5000.00");
    t.edit_draft(tm.clone()).unwrap();
    assert_eq!(t.version, v + 2);
    assert_eq!(t.terms, tm);
    let resubmit = cn(2025, 3, 6, 9, 0);
    t.submit_for_review(resubmit, &calendar(), &rules())
        .unwrap();
    assert_eq!(t.state, TenderState::UnderReview);
    assert_eq!(t.version, v + 3);
    assert_eq!(t.submitted_at, Some(resubmit));
    assert!(t.review_due.is_some_and(|due| due > resubmit));
    assert!(t.last_return.is_some());
}

#[test]
fn edit_draft_only_in_draft() {
    let mut t = draft();
    let mut tm = terms();
    tm.title = "New title".to_string();
    t.edit_draft(tm.clone()).unwrap();
    assert_eq!(t.terms.title, "New title");
    assert_eq!(t.version, 2);
    // Drafts may hold invalid terms: they are checked on submission.
    let mut bad = terms();
    bad.title = String::new();
    t.edit_draft(bad).unwrap();
    assert_eq!(t.version, 3);

    for s in TenderState::ALL {
        if s == TenderState::Draft {
            continue;
        }
        let mut t = tender_in(s);
        let before = t.clone();
        let err = t.edit_draft(tm.clone()).unwrap_err();
        assert_eq!(
            err,
            TenderError::IllegalTransition {
                from: s,
                action: "edited as a draft"
            }
        );
        assert_unchanged(&t, &before);
    }
}

// ---------------------------------------------------------------------------------------------
// Illegal transitions, systematically
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    EditDraft,
    Submit,
    Approve,
    Return,
    Amend,
    Clarify,
    CanAsk,
    Close,
    Open,
    StartEvaluation,
    PublishCandidates,
    Award,
    Complete,
    Cancel,
}

impl Action {
    const ALL: [Action; 14] = [
        Action::EditDraft,
        Action::Submit,
        Action::Approve,
        Action::Return,
        Action::Amend,
        Action::Clarify,
        Action::CanAsk,
        Action::Close,
        Action::Open,
        Action::StartEvaluation,
        Action::PublishCandidates,
        Action::Award,
        Action::Complete,
        Action::Cancel,
    ];

    fn name(self) -> &'static str {
        match self {
            Action::EditDraft => "edited as a draft",
            Action::Submit => "submitted for review",
            Action::Approve => "approved",
            Action::Return => "returned",
            Action::Amend => "amended",
            Action::Clarify => "clarified",
            Action::CanAsk => "asked a question",
            Action::Close => "closed",
            Action::Open => "opened",
            Action::StartEvaluation => "put to evaluation",
            Action::PublishCandidates => "given published candidates",
            Action::Award => "awarded",
            Action::Complete => "completed",
            Action::Cancel => "cancelled",
        }
    }

    fn allowed_from(self) -> &'static [TenderState] {
        use TenderState::*;
        match self {
            Action::EditDraft | Action::Submit => &[Draft],
            Action::Approve | Action::Return => &[UnderReview],
            Action::Amend | Action::Clarify | Action::CanAsk | Action::Close => &[Published],
            Action::Open => &[Closed],
            Action::StartEvaluation => &[Opened],
            Action::PublishCandidates => &[Evaluating],
            Action::Award => &[CandidatesPublished],
            Action::Complete => &[Awarded],
            Action::Cancel => &[
                Draft,
                UnderReview,
                Published,
                Closed,
                Opened,
                Evaluating,
                CandidatesPublished,
            ],
        }
    }

    /// Whether a successful call changes the tender (bumps the version).
    fn mutates(self) -> bool {
        self != Action::CanAsk
    }

    /// Applies the action with arguments that would succeed in an allowed state.
    fn apply(self, t: &mut Tender) -> Result<(), TenderError> {
        let r = rules();
        let before_deadline = cn(2025, 3, 20, 11, 0);
        match self {
            Action::EditDraft => t.edit_draft(terms()),
            Action::Submit => t.submit_for_review(t_submit(), &calendar(), &r),
            Action::Approve => t.approve(t_approve(), &r),
            Action::Return => t.return_for_changes(
                t_approve(),
                user(9),
                vec!["Section 4 is missing".to_string()],
            ),
            Action::Amend => t
                .amend(
                    AmendmentId(Uuid::from_u128(0xa1)),
                    before_deadline,
                    user(1),
                    "Corrected title".to_string(),
                    title_patch("Resurfacing of Xianggang Road (corrected)"),
                    &r,
                )
                .map(|_| ()),
            Action::Clarify => t.clarify(before_deadline, true, &r).map(|_| ()),
            Action::CanAsk => t.can_ask(before_deadline),
            Action::Close => t.close(t_deadline()),
            // At the opening time, so that only the state can be wrong.
            Action::Open => t.open(t.terms.opening_time, 5, &r).map(|_| ()),
            Action::StartEvaluation => t.start_evaluation(),
            Action::PublishCandidates => t.publish_candidates(),
            Action::Award => t.award(),
            Action::Complete => t.complete(t_complete()),
            Action::Cancel => t.cancel(t_complete(), "the budget was withdrawn"),
        }
    }
}

#[test]
fn every_transition_from_every_state() {
    let mut legal = 0;
    let mut illegal = 0;
    for s in TenderState::ALL {
        for a in Action::ALL {
            let mut t = tender_in(s);
            let before = t.clone();
            let result = a.apply(&mut t);
            if a.allowed_from().contains(&s) {
                assert!(result.is_ok(), "{a:?} from {s}: {result:?}");
                let bump = i64::from(a.mutates());
                assert_eq!(t.version, before.version + bump, "{a:?} from {s}");
                legal += 1;
            } else {
                let err = result.unwrap_err();
                assert_eq!(
                    err,
                    TenderError::IllegalTransition {
                        from: s,
                        action: a.name()
                    },
                    "{a:?} from {s}"
                );
                assert_eq!(err.code(), "illegal_transition");
                assert_eq!(
                    err.to_string(),
                    format!("a tender that is {} cannot be {}", s.as_str(), a.name())
                );
                assert_unchanged(&t, &before);
                illegal += 1;
            }
        }
    }
    assert_eq!(legal + illegal, 11 * 14);
    assert_eq!(legal, 20);
}

#[test]
fn terminal_states_accept_nothing() {
    for s in TenderState::ALL.into_iter().filter(|s| s.is_terminal()) {
        for a in Action::ALL {
            let mut t = tender_in(s);
            let before = t.clone();
            assert!(
                matches!(a.apply(&mut t), Err(TenderError::IllegalTransition { .. })),
                "{a:?} from {s}"
            );
            assert_unchanged(&t, &before);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Amendments
// ---------------------------------------------------------------------------------------------

fn amend(
    t: &mut Tender,
    now: DateTime<Utc>,
    summary: &str,
    patch: TermsPatch,
) -> Result<Amendment, TenderError> {
    t.amend(
        AmendmentId(Uuid::from_u128(0xa2)),
        now,
        user(1),
        summary.to_string(),
        patch,
        &rules(),
    )
}

#[test]
fn amend_only_before_the_deadline() {
    for now in [
        t_deadline(),
        t_deadline() + Duration::seconds(1),
        t_deadline() + Duration::days(3),
    ] {
        let mut t = published();
        let before = t.clone();
        let err = amend(&mut t, now, "Late change", title_patch("Changed")).unwrap_err();
        assert_eq!(
            err,
            TenderError::DeadlinePassed {
                deadline: t_deadline()
            }
        );
        assert_eq!(err.code(), "deadline_passed");
        assert!(
            err.to_string().contains("2025-04-10 09:30 (UTC+8)"),
            "{err}"
        );
        assert_unchanged(&t, &before);
    }
}

#[test]
fn amend_well_before_the_deadline_keeps_it() {
    let mut t = published();
    let v = t.version;
    let now = t_deadline() - Duration::days(16);
    let a = amend(&mut t, now, "  Corrected title  ", title_patch("Corrected")).unwrap();
    assert_eq!(t.terms.title, "Corrected");
    assert_eq!(t.terms.bid_deadline, t_deadline());
    assert_eq!(t.terms.opening_time, t_deadline());
    assert_eq!(t.version, v + 1);
    assert_eq!(t.state, TenderState::Published);
    assert_eq!(
        a,
        Amendment {
            id: AmendmentId(Uuid::from_u128(0xa2)),
            tender_id: t.id,
            at: now,
            by: user(1),
            summary: "Corrected title".to_string(),
            changes: title_patch("Corrected"),
            previous_deadline: t_deadline(),
            new_deadline: t_deadline(),
            deadline_pushed: false,
        }
    );
}

#[test]
fn amend_exactly_fifteen_days_before_keeps_the_deadline() {
    let mut t = published();
    let a = amend(
        &mut t,
        t_deadline() - Duration::days(15),
        "Fix",
        title_patch("Fixed"),
    )
    .unwrap();
    assert!(!a.deadline_pushed);
    assert_eq!(t.terms.bid_deadline, t_deadline());

    let mut t = published();
    let now = t_deadline() - Duration::days(15) + Duration::seconds(1);
    let a = amend(&mut t, now, "Fix", title_patch("Fixed")).unwrap();
    assert!(a.deadline_pushed);
    assert_eq!(t.terms.bid_deadline, now + Duration::days(15));
}

#[test]
fn late_amendment_pushes_deadline_and_opening() {
    let mut t = published();
    let v = t.version;
    let now = t_deadline() - Duration::days(10);
    let patch = TermsPatch {
        documents: Some(vec![TenderDocument {
            name: "tender-documents-rev1.pdf".to_string(),
            sha256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752".to_string(),
            size: 1_300_000,
        }]),
        ..TermsPatch::default()
    };
    let a = amend(&mut t, now, "Revised bill of quantities", patch).unwrap();
    let pushed = now + Duration::days(15);
    assert_eq!(pushed, cn(2025, 4, 15, 9, 30));
    assert_eq!(t.terms.bid_deadline, pushed);
    assert_eq!(t.terms.opening_time, pushed);
    assert!(a.deadline_pushed);
    assert_eq!(a.previous_deadline, t_deadline());
    assert_eq!(a.new_deadline, pushed);
    assert_eq!(t.version, v + 1);
    assert_eq!(t.terms.documents[0].name, "tender-documents-rev1.pdf");
    // The new deadline is the one enforced from now on.
    let before = t.clone();
    assert!(matches!(
        t.close(t_deadline()),
        Err(TenderError::DeadlineNotReached { deadline }) if deadline == pushed
    ));
    assert_unchanged(&t, &before);
    t.close(pushed).unwrap();
}

#[test]
fn late_amendment_with_a_new_deadline_too_close_is_pushed_further() {
    let mut t = published();
    let now = t_deadline() - Duration::days(10);
    let patch = TermsPatch {
        bid_deadline: Some(t_deadline() + Duration::days(2)),
        ..TermsPatch::default()
    };
    let a = amend(&mut t, now, "Two more days", patch).unwrap();
    assert!(a.deadline_pushed);
    assert_eq!(t.terms.bid_deadline, now + Duration::days(15));
    assert_eq!(t.terms.opening_time, now + Duration::days(15));

    // A new deadline far enough away is taken as is, opening included.
    let mut t = published();
    let far = t_deadline() + Duration::days(10);
    let a = amend(
        &mut t,
        now,
        "Ten more days",
        TermsPatch {
            bid_deadline: Some(far),
            ..TermsPatch::default()
        },
    )
    .unwrap();
    assert!(!a.deadline_pushed);
    assert_eq!(a.new_deadline, far);
    assert_eq!(t.terms.bid_deadline, far);
    assert_eq!(t.terms.opening_time, far);
}

#[test]
fn amend_cannot_break_the_rules() {
    let now = t_deadline() - Duration::days(20);
    let cases = [
        (
            "deposit above 2%",
            TermsPatch {
                bid_deposit: Some(money("20000.01")),
                ..TermsPatch::default()
            },
            "deposit_too_high",
        ),
        (
            "estimate lowered under the deposit",
            TermsPatch {
                estimated_price: Some(money("400000.00")),
                ..TermsPatch::default()
            },
            "deposit_too_high",
        ),
        (
            "deadline in the past",
            TermsPatch {
                bid_deadline: Some(now - Duration::hours(1)),
                ..TermsPatch::default()
            },
            "deadline_too_early",
        ),
        (
            "deadline under 20 days from publication",
            TermsPatch {
                bid_deadline: Some(t_approve() + Duration::days(19)),
                ..TermsPatch::default()
            },
            "deadline_too_early",
        ),
        (
            "blank title",
            TermsPatch {
                title: Some(" ".to_string()),
                ..TermsPatch::default()
            },
            "invalid_title",
        ),
    ];
    for (label, patch, code) in cases {
        let mut t = published();
        let before = t.clone();
        let problems = invalid_problems(amend(&mut t, now, label, patch).unwrap_err());
        assert!(codes(&problems).contains(code), "{label}: {problems:#?}");
        assert_unchanged(&t, &before);
    }
}

#[test]
fn amend_with_a_deposit_of_exactly_two_percent_is_accepted() {
    let mut t = published();
    amend(
        &mut t,
        t_deadline() - Duration::days(20),
        "Deposit raised",
        TermsPatch {
            bid_deposit: Some(money("20000.00")),
            ..TermsPatch::default()
        },
    )
    .unwrap();
    assert_eq!(t.terms.bid_deposit, money("20000.00"));
}

#[test]
fn empty_amendment_is_rejected() {
    let now = t_deadline() - Duration::days(20);
    for (summary, patch) in [
        ("Nothing", TermsPatch::default()),
        ("   ", title_patch("Changed")),
        ("", TermsPatch::default()),
    ] {
        let mut t = published();
        let before = t.clone();
        let problems = invalid_problems(amend(&mut t, now, summary, patch).unwrap_err());
        assert_eq!(codes(&problems), BTreeSet::from(["empty_amendment"]));
        assert_unchanged(&t, &before);
    }
}

// ---------------------------------------------------------------------------------------------
// Clarifications and questions
// ---------------------------------------------------------------------------------------------

#[test]
fn clarification_not_affecting_bids_never_moves_the_deadline() {
    for days_before in [20, 15, 10, 1] {
        let mut t = published();
        let v = t.version;
        let now = t_deadline() - Duration::days(days_before);
        assert_eq!(t.clarify(now, false, &rules()).unwrap(), None);
        assert_eq!(t.terms.bid_deadline, t_deadline());
        assert_eq!(t.terms.opening_time, t_deadline());
        assert_eq!(t.version, v + 1);
    }
}

#[test]
fn clarification_affecting_bids_within_fifteen_days_moves_the_deadline() {
    let mut t = published();
    let now = t_deadline() - Duration::days(10);
    let moved = t.clarify(now, true, &rules()).unwrap();
    assert_eq!(moved, Some(now + Duration::days(15)));
    assert_eq!(t.terms.bid_deadline, now + Duration::days(15));
    assert_eq!(t.terms.opening_time, now + Duration::days(15));

    // Another clarification an hour later finds the deadline 14 days 23 hours away, so it
    // moves again, by that hour.
    let later = now + Duration::hours(1);
    let again = t.clarify(later, true, &rules()).unwrap();
    assert_eq!(again, Some(later + Duration::days(15)));
    assert_eq!(t.terms.bid_deadline, later + Duration::days(15));
    assert_eq!(t.terms.opening_time, later + Duration::days(15));

    // Far enough ahead it does not move.
    let mut t = published();
    let v = t.version;
    assert_eq!(
        t.clarify(t_deadline() - Duration::days(15), true, &rules())
            .unwrap(),
        None
    );
    assert_eq!(t.terms.bid_deadline, t_deadline());
    assert_eq!(t.version, v + 1);
}

#[test]
fn clarify_and_ask_only_before_the_deadline() {
    let t = published();
    assert_eq!(t.can_ask(t_approve()), Ok(()));
    assert_eq!(t.can_ask(t_deadline() - Duration::seconds(1)), Ok(()));
    for now in [t_deadline(), t_deadline() + Duration::days(1)] {
        assert_eq!(
            t.can_ask(now),
            Err(TenderError::DeadlinePassed {
                deadline: t_deadline()
            })
        );
        for affects in [false, true] {
            let mut c = t.clone();
            assert_eq!(
                c.clarify(now, affects, &rules()),
                Err(TenderError::DeadlinePassed {
                    deadline: t_deadline()
                })
            );
            assert_unchanged(&c, &t);
        }
    }
    // Not before publication either.
    let review = tender_in(TenderState::UnderReview);
    assert_eq!(
        review.can_ask(t_approve()),
        Err(TenderError::IllegalTransition {
            from: TenderState::UnderReview,
            action: "asked a question"
        })
    );
}

// ---------------------------------------------------------------------------------------------
// Close and open
// ---------------------------------------------------------------------------------------------

#[test]
fn close_before_the_deadline_is_refused() {
    let mut t = published();
    let before = t.clone();
    let err = t.close(t_deadline() - Duration::seconds(1)).unwrap_err();
    assert_eq!(
        err,
        TenderError::DeadlineNotReached {
            deadline: t_deadline()
        }
    );
    assert_eq!(err.code(), "deadline_not_reached");
    assert!(
        err.to_string().contains("2025-04-10 09:30 (UTC+8)"),
        "{err}"
    );
    assert_unchanged(&t, &before);

    // Late closing is fine and records when it happened.
    let late = t_deadline() + Duration::minutes(7);
    t.close(late).unwrap();
    assert_eq!(t.closed_at, Some(late));
}

#[test]
fn opening_not_yet_wins_before_the_opening_time_in_every_state() {
    for s in TenderState::ALL {
        let mut t = tender_in(s);
        let before = t.clone();
        let err = t
            .open(t.terms.opening_time - Duration::seconds(1), 5, &rules())
            .unwrap_err();
        assert_eq!(
            err,
            TenderError::OpeningNotYet {
                opening_time: t_deadline()
            },
            "{s}"
        );
        assert_eq!(err.code(), "opening_not_yet");
        assert_unchanged(&t, &before);
    }
}

#[test]
fn open_with_too_few_bids_fails_the_tender() {
    for bids in [0, 1, 2] {
        let mut t = tender_in(TenderState::Closed);
        let v = t.version;
        let at = t_deadline() + Duration::minutes(1);
        assert_eq!(
            t.open(at, bids, &rules()).unwrap(),
            OpeningOutcome::FailedTooFewBids
        );
        assert_eq!(t.state, TenderState::Failed);
        assert!(t.state.is_terminal());
        assert_eq!(t.version, v + 1);
        assert_eq!(t.opened_at, None, "nothing was opened");
        assert_eq!(t.ended_at, Some(at));
        let reason = t.end_reason.clone().unwrap();
        assert!(reason.contains("re-tender"), "{reason}");
        assert!(reason.contains(&format!("{bids} bid(s)")), "{reason}");
        assert!(reason.contains("fewer than 3"), "{reason}");
    }
}

#[test]
fn open_with_enough_bids_opens() {
    for bids in [3, 4, 40] {
        let mut t = tender_in(TenderState::Closed);
        let v = t.version;
        assert_eq!(
            t.open(t_deadline(), bids, &rules()).unwrap(),
            OpeningOutcome::Opened
        );
        assert_eq!(t.state, TenderState::Opened);
        assert_eq!(t.version, v + 1);
        assert_eq!(t.opened_at, Some(t_deadline()));
        assert_eq!(t.ended_at, None);
        assert_eq!(t.end_reason, None);
    }
}

#[test]
fn minimum_bids_is_configurable() {
    let mut r = rules();
    r.min_bids = 5;
    let mut t = tender_in(TenderState::Closed);
    assert_eq!(
        t.open(t_deadline(), 4, &r).unwrap(),
        OpeningOutcome::FailedTooFewBids
    );
    assert!(t.end_reason.unwrap().contains("fewer than 5"));
}

// ---------------------------------------------------------------------------------------------
// Cancel
// ---------------------------------------------------------------------------------------------

#[test]
fn cancel_needs_a_reason() {
    let mut t = published();
    let before = t.clone();
    for reason in ["", "   ", "\n\t"] {
        assert_eq!(
            t.cancel(t_approve(), reason),
            Err(TenderError::ReasonRequired)
        );
        assert_unchanged(&t, &before);
    }
}

#[test]
fn cancel_from_every_allowed_state() {
    for s in Action::Cancel.allowed_from() {
        let mut t = tender_in(*s);
        let v = t.version;
        let at = cn(2025, 5, 1, 10, 0);
        t.cancel(at, "  The project was merged into another  ")
            .unwrap();
        assert_eq!(t.state, TenderState::Cancelled, "from {s}");
        assert_eq!(t.version, v + 1);
        assert_eq!(t.ended_at, Some(at));
        assert_eq!(
            t.end_reason.as_deref(),
            Some("The project was merged into another")
        );
    }
}

#[test]
fn cancel_is_illegal_once_awarded_or_ended() {
    for s in [
        TenderState::Awarded,
        TenderState::Completed,
        TenderState::Failed,
        TenderState::Cancelled,
    ] {
        let mut t = tender_in(s);
        let before = t.clone();
        assert_eq!(
            t.cancel(t_complete(), "changed our mind"),
            Err(TenderError::IllegalTransition {
                from: s,
                action: "cancelled"
            })
        );
        // A blank reason does not change which error wins.
        assert_eq!(
            t.cancel(t_complete(), ""),
            Err(TenderError::IllegalTransition {
                from: s,
                action: "cancelled"
            })
        );
        assert_unchanged(&t, &before);
    }
}

// ---------------------------------------------------------------------------------------------
// Serialisation, parsing
// ---------------------------------------------------------------------------------------------

#[test]
fn tender_round_trips_through_json() {
    for s in TenderState::ALL {
        let mut t = tender_in(s);
        if s == TenderState::Draft {
            t.last_return = Some(ReviewReturn {
                at: t_approve(),
                by: user(9),
                problems: vec!["Missing drawings".to_string(), "引号“”".to_string()],
            });
        }
        let json = serde_json::to_string(&t).unwrap();
        let back: Tender = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t, "{s}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["state"], s.as_str());
        assert_eq!(value["code"], "QD-2025-GC-0001");
        assert_eq!(value["version"], t.version);
    }
}

#[test]
fn bad_tender_code_is_refused_when_deserialising() {
    let t = draft();
    let mut value = serde_json::to_value(&t).unwrap();
    value["code"] = serde_json::Value::from("no spaces allowed");
    assert!(serde_json::from_value::<Tender>(value).is_err());
}

#[test]
fn rules_and_patches_deserialise_strictly() {
    let r: TenderRules = serde_json::from_str("{}").unwrap();
    assert_eq!(r, TenderRules::default());
    let r: TenderRules = serde_json::from_str(r#"{"min_bids": 5}"#).unwrap();
    assert_eq!(r.min_bids, 5);
    assert_eq!(r.min_bidding_days_mandatory, 20);
    assert!(serde_json::from_str::<TenderRules>(r#"{"min_bid": 5}"#).is_err());
    assert!(serde_json::from_str::<TermsPatch>(r#"{"committee": null}"#).is_err());
    let p: TermsPatch = serde_json::from_str("{}").unwrap();
    assert!(p.is_empty());
}

#[test]
fn default_rules_are_the_law() {
    let r = TenderRules::default();
    assert_eq!(r.min_bidding_days_mandatory, 20);
    assert_eq!(r.min_bidding_days_other, 5);
    assert_eq!(r.min_days_after_clarification, 15);
    assert_eq!(r.max_deposit_percent, Decimal::from(2));
    assert_eq!(r.review_working_days, 3);
    assert_eq!(r.min_bids, 3);
}

#[test]
fn tender_state_names_round_trip() {
    for s in TenderState::ALL {
        assert_eq!(TenderState::parse(s.as_str()), Some(s));
        assert_eq!(s.to_string(), s.as_str());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, format!("\"{}\"", s.as_str()));
        assert_eq!(serde_json::from_str::<TenderState>(&json).unwrap(), s);
    }
    let names: BTreeSet<&str> = TenderState::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(names.len(), TenderState::ALL.len());
    for bad in [
        "",
        "Draft",
        "PUBLISHED",
        "under review",
        "underreview",
        " draft",
        "open",
    ] {
        assert_eq!(TenderState::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn tender_code_parse() {
    for (input, expected) in [
        ("QD-2025-GC-0001", "QD-2025-GC-0001"),
        ("abc", "abc"),
        ("  ZB/2025.07_01  ", "ZB/2025.07_01"),
        ("QD-2025\n", "QD-2025"),
        (&"A".repeat(40), &"A".repeat(40)),
    ] {
        let code = TenderCode::parse(input).unwrap();
        assert_eq!(code.as_str(), expected);
        assert_eq!(code.to_string(), expected);
        assert_eq!(String::from(code.clone()), expected);
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(serde_json::from_str::<TenderCode>(&json).unwrap(), code);
    }
    for bad in [
        "",
        "ab",
        "   ab   ",
        &"A".repeat(41),
        "QD 2025",
        "招标-2025-001",
        "QD#1",
        "QD:2025",
        "QD\\2025",
        "QD-\t2025",
    ] {
        let err = TenderCode::parse(bad).unwrap_err();
        assert_eq!(err.code, "invalid_tender_code", "{bad:?}");
        assert_eq!(err.field, "code");
        assert!(
            serde_json::from_value::<TenderCode>(serde_json::Value::from(bad)).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn error_codes_are_stable() {
    let cases = [
        (
            TenderError::IllegalTransition {
                from: TenderState::Draft,
                action: "approved",
            },
            "illegal_transition",
        ),
        (TenderError::Invalid(vec![]), "invalid_tender"),
        (
            TenderError::DeadlinePassed {
                deadline: t_deadline(),
            },
            "deadline_passed",
        ),
        (
            TenderError::DeadlineNotReached {
                deadline: t_deadline(),
            },
            "deadline_not_reached",
        ),
        (
            TenderError::OpeningNotYet {
                opening_time: t_deadline(),
            },
            "opening_not_yet",
        ),
        (TenderError::ReasonRequired, "reason_required"),
    ];
    for (e, code) in cases {
        assert_eq!(e.code(), code);
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn china_time_formats_in_utc_plus_8() {
    let t = Utc
        .with_ymd_and_hms(2025, 9, 30, 16, 5, 0)
        .single()
        .unwrap();
    assert_eq!(china_time(t), "2025-10-01 00:05 (UTC+8)");
    let local = t.with_timezone(&crate::clock::china_tz());
    assert_eq!((local.hour(), local.minute()), (0, 5));
}
