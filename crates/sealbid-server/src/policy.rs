//! Who may see and do what with a tender. Kept in one place so every endpoint — API and pages —
//! applies the same rules, and so they can be tested per role.
//!
//! - From publication on, a tender is a public notice: anyone may read it.
//! - A draft is private to its tenderee's organisation (and admins). To anyone else it does not
//!   exist: 404, never a hint.
//! - A tender under review is also visible to centre officers and supervisors whose hall covers
//!   the tender's hall.
//! - Managing a tender (edit, submit, amend, answer, cancel) needs the tenderee role in the owning
//!   organisation; reviewing needs a centre officer covering its hall.
//! - A tender's audit trail is for its owner, the centre officers and supervisors covering its
//!   hall, and admins.
//! - Accounts and organisations are registered by admins, or by centre officers for the halls
//!   they cover; a centre officer may only create market participants' accounts.
use sealbid_domain::org::{Role, User};
use sealbid_domain::tender::{Question, Tender, TenderState};
use sealbid_domain::{DivisionCode, OrgId};
use sealbid_store::HallScope;

use crate::error::AppError;

fn is_owner(user: &User, t: &Tender) -> bool {
    user.has(Role::Tenderee) && user.org == Some(t.org)
}

fn covers(user: &User, t: &Tender) -> bool {
    user.covers_hall(&t.hall)
}

/// Whether `user` (or the public, `None`) may know the tender exists.
pub fn can_see(user: Option<&User>, t: &Tender) -> bool {
    if t.state.is_public() {
        return true;
    }
    let Some(u) = user else { return false };
    if u.has(Role::Admin) || is_owner(u, t) {
        return true;
    }
    t.state == TenderState::UnderReview
        && (u.has(Role::CentreOfficer) || u.has(Role::Supervisor))
        && covers(u, t)
}

/// 404 for a tender the user may not know exists.
pub fn ensure_visible(user: Option<&User>, t: &Tender) -> Result<(), AppError> {
    if can_see(user, t) {
        Ok(())
    } else {
        Err(AppError::NotFound("tender"))
    }
}

/// The tenderee's own actions. 404 if the tender is hidden from the user, 403 otherwise.
pub fn ensure_owner(user: &User, t: &Tender) -> Result<(), AppError> {
    ensure_visible(Some(user), t)?;
    if is_owner(user, t) || (user.has(Role::Admin) && t.state.is_public()) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only the tenderee's own staff may change this tender",
        ))
    }
}

/// The trading centre's review: a centre officer whose hall covers the tender's (or an admin).
pub fn ensure_reviewer(user: &User, t: &Tender) -> Result<(), AppError> {
    ensure_visible(Some(user), t)?;
    if user.has(Role::Admin) || (user.has(Role::CentreOfficer) && covers(user, t)) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only a trading-centre officer of this tender's hall may review it",
        ))
    }
}

/// Creating tenders: a tenderee acting for an organisation.
pub fn ensure_can_create(user: &User) -> Result<(), AppError> {
    if user.has(Role::Tenderee) && user.org.is_some() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only tenderee or agency staff of an organisation may create tenders",
        ))
    }
}

/// Asking clarification questions: bidders.
pub fn ensure_bidder(user: &User) -> Result<(), AppError> {
    if user.has(Role::Bidder) && user.org.is_some() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only bidders' staff may ask clarification questions",
        ))
    }
}

/// Whether the user may see who asked a question (the tenderee answers anonymously otherwise).
pub fn sees_askers(user: Option<&User>, t: &Tender) -> bool {
    user.is_some_and(|u| u.has(Role::Admin) || u.has(Role::Supervisor) && covers(u, t))
}

/// Reading a tender's audit trail. 404 if the tender is hidden from the user, 403 otherwise.
pub fn ensure_can_read_audit(user: &User, t: &Tender) -> Result<(), AppError> {
    ensure_visible(Some(user), t)?;
    let staff = (user.has(Role::CentreOfficer) || user.has(Role::Supervisor)) && covers(user, t);
    if user.has(Role::Admin) || is_owner(user, t) || staff {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only the tenderee, the trading centre and supervisors of this tender's hall may read its audit trail",
        ))
    }
}

/// Whether a question (answered or not) is shown to `user`. Answers go to everyone who can see
/// the tender; an unanswered question only to the tender's owner, the staff covering its hall,
/// admins and the organisation that asked it.
pub fn can_see_question(user: Option<&User>, t: &Tender, q: &Question) -> bool {
    if q.answer.is_some() {
        return true;
    }
    let Some(u) = user else { return false };
    u.has(Role::Admin)
        || is_owner(u, t)
        || ((u.has(Role::CentreOfficer) || u.has(Role::Supervisor)) && covers(u, t))
        || (q.asked_by_org.is_some() && q.asked_by_org == u.org)
        || q.asked_by == u.id
}

/// Roles a centre officer may grant: market participants only, never staff rights.
const GRANTABLE_BY_OFFICER: [Role; 3] = [Role::Tenderee, Role::Bidder, Role::Applicant];

/// Creating an account with `roles` in `hall`: admins may create any; a centre officer only
/// accounts of market participants in a hall it covers.
pub fn ensure_can_create_account(
    user: &User,
    hall: &DivisionCode,
    roles: &[Role],
) -> Result<(), AppError> {
    if user.has(Role::Admin) {
        return Ok(());
    }
    if !user.has(Role::CentreOfficer) {
        return Err(AppError::forbidden(
            "this needs the role admin or centre_officer",
        ));
    }
    if !user.covers_hall(hall) {
        return Err(AppError::forbidden(format!(
            "your hall {} does not cover hall {hall}",
            user.hall
        )));
    }
    if let Some(r) = roles.iter().find(|r| !GRANTABLE_BY_OFFICER.contains(r)) {
        return Err(AppError::forbidden(format!(
            "only an admin may grant the role {r}"
        )));
    }
    Ok(())
}

/// Registering an organisation with a hall: admins, or a centre officer covering that hall.
pub fn ensure_can_register_org(user: &User, hall: &DivisionCode) -> Result<(), AppError> {
    if user.has(Role::Admin) || (user.has(Role::CentreOfficer) && user.covers_hall(hall)) {
        Ok(())
    } else if user.has(Role::CentreOfficer) {
        Err(AppError::forbidden(format!(
            "your hall {} does not cover hall {hall}",
            user.hall
        )))
    } else {
        Err(AppError::forbidden(
            "this needs the role admin or centre_officer",
        ))
    }
}

/// Which accounts a user may list: admins every hall, centre officers the halls they cover.
pub fn account_scope(user: &User) -> Result<HallScope, AppError> {
    if user.has(Role::Admin) {
        Ok(HallScope::All)
    } else if user.has(Role::CentreOfficer) {
        Ok(HallScope::Within(user.hall.clone()))
    } else {
        Err(AppError::forbidden(
            "this needs the role admin or centre_officer",
        ))
    }
}

/// One set of tenders a user may list, in the store's filter terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub scope: HallScope,
    /// Only these states (empty: any).
    pub states: Vec<TenderState>,
    /// See `TenderFilter::public_or_org`.
    pub public_or_org: Option<Option<OrgId>>,
}

/// The sets whose union is every tender `user` may list — the same rule as [`can_see`]:
/// admins everything; everyone the public tenders, plus their own organisation's for tenderees,
/// plus those under review in the halls they cover for centre officers and supervisors.
pub fn listings(user: Option<&User>) -> Vec<Listing> {
    if user.is_some_and(|u| u.has(Role::Admin)) {
        return vec![Listing {
            scope: HallScope::All,
            states: Vec::new(),
            public_or_org: None,
        }];
    }
    let own_org = user.filter(|u| u.has(Role::Tenderee)).and_then(|u| u.org);
    let mut out = vec![Listing {
        scope: HallScope::All,
        states: Vec::new(),
        public_or_org: Some(own_org),
    }];
    if let Some(u) = user.filter(|u| u.has(Role::CentreOfficer) || u.has(Role::Supervisor)) {
        out.push(Listing {
            scope: HallScope::Within(u.hall.clone()),
            states: vec![TenderState::UnderReview],
            public_or_org: None,
        });
    }
    out
}

/// The anomaly engine's alerts are for supervisors only — never bidders, never the tenderee: the
/// halls whose tenders' alerts this user may see (admins: all).
pub fn supervision_scope(user: &User) -> Result<HallScope, AppError> {
    if user.has(Role::Admin) {
        Ok(HallScope::All)
    } else if user.has(Role::Supervisor) {
        Ok(HallScope::Within(user.hall.clone()))
    } else {
        Err(AppError::forbidden(
            "only supervisors see the anomaly engine's alerts",
        ))
    }
}

/// Supervising one tender (screening it, reviewing its alerts): a supervisor whose hall covers the
/// tender's, or an admin. An alert of a tender outside the supervisor's halls does not exist for them.
pub fn ensure_supervisor(user: &User, t: &Tender) -> Result<(), AppError> {
    supervision_scope(user)?;
    if user.has(Role::Admin) || covers(user, t) {
        Ok(())
    } else {
        Err(AppError::NotFound("alert"))
    }
}

/// A bidder's credit history: what tenderees check before awarding, what supervisors and the
/// trading centre keep; a bidder sees its own.
pub fn ensure_can_see_credit(user: &User, org: OrgId) -> Result<(), AppError> {
    if user.has(Role::Admin)
        || user.has(Role::Supervisor)
        || user.has(Role::CentreOfficer)
        || user.has(Role::Tenderee)
        || user.has(Role::Evaluator)
        || (user.has(Role::Bidder) && user.org == Some(org))
    {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "credit histories are for tenderees, evaluators, supervisors and the trading centre; a bidder sees its own",
        ))
    }
}

/// The bids a confirmed alert marks for rejection: the tender's owner, its supervisors and centre
/// officers, and admins.
pub fn ensure_can_see_rejections(user: &User, t: &Tender) -> Result<(), AppError> {
    ensure_visible(Some(user), t)?;
    if user.has(Role::Admin)
        || is_owner(user, t)
        || ((user.has(Role::Supervisor) || user.has(Role::CentreOfficer)) && covers(user, t))
    {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only the tenderee, its supervisors and the trading centre see rejections",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sealbid_domain::tender::{Category, CommitteePolicy, EvaluationMethod, TenderCode};
    use sealbid_domain::{Money, TenderId, UserId};

    fn hall(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    fn user(roles: &[Role], org: Option<OrgId>, h: &str) -> User {
        User {
            id: UserId::new(),
            username: "u".into(),
            display_name: "u".into(),
            roles: roles.to_vec(),
            org,
            hall: hall(h),
            active: true,
            created_at: chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn tender(org: OrgId, h: &str, state: TenderState) -> Tender {
        let now = chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let terms = sealbid_domain::tender::TenderTerms {
            title: "t".into(),
            description: String::new(),
            category: Category::Works,
            mandatory: true,
            estimated_price: Money::parse("100").unwrap(),
            ceiling_price: None,
            bid_deposit: Money::ZERO,
            documents: Vec::new(),
            bid_deadline: now,
            opening_time: now,
            evaluation_method: EvaluationMethod::LowestEvaluatedPrice,
            qualification_criteria: Vec::new(),
            committee: CommitteePolicy::default(),
        };
        let mut t = Tender::new_draft(
            TenderId::new(),
            TenderCode::parse("T-1").unwrap(),
            hall(h),
            org,
            UserId::new(),
            terms,
            now,
        );
        t.state = state;
        t
    }

    /// How a store applies one listing to one tender (the `TenderFilter` contract).
    fn matches(l: &Listing, t: &Tender) -> bool {
        let in_scope = match &l.scope {
            HallScope::All => true,
            HallScope::Within(h) => h.covers(&t.hall),
        };
        let in_states = l.states.is_empty() || l.states.contains(&t.state);
        let visible = match l.public_or_org {
            None => true,
            Some(org) => t.state.is_public() || org == Some(t.org),
        };
        in_scope && in_states && visible
    }

    /// Listings show exactly the tenders `can_see` allows, for every kind of user and tender.
    #[test]
    fn listings_agree_with_can_see() {
        let (own, other) = (OrgId::new(), OrgId::new());
        let users: Vec<Option<User>> = vec![
            None,
            Some(user(&[Role::Admin], None, "370200")),
            Some(user(&[Role::CentreOfficer], None, "370200")),
            Some(user(&[Role::CentreOfficer], None, "370100")),
            Some(user(&[Role::Supervisor], None, "370202")),
            Some(user(&[Role::Tenderee], Some(own), "370202")),
            Some(user(&[Role::Bidder], Some(own), "370202")),
            Some(user(
                &[Role::Tenderee, Role::CentreOfficer],
                Some(own),
                "370200",
            )),
        ];
        for u in &users {
            for state in TenderState::ALL {
                for org in [own, other] {
                    for h in ["370202", "370203", "370102"] {
                        let t = tender(org, h, state);
                        let listed = listings(u.as_ref()).iter().any(|l| matches(l, &t));
                        assert_eq!(
                            listed,
                            can_see(u.as_ref(), &t),
                            "{u:?} / {state} / {h} / own org: {}",
                            org == own
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn centre_officers_create_only_market_participants_in_their_halls() {
        let officer = user(&[Role::CentreOfficer], None, "370200");
        assert!(ensure_can_create_account(&officer, &hall("370202"), &[Role::Bidder]).is_ok());
        assert!(ensure_can_create_account(&officer, &hall("370202"), &[Role::Supervisor]).is_err());
        assert!(ensure_can_create_account(&officer, &hall("370102"), &[Role::Bidder]).is_err());
        let admin = user(&[Role::Admin], None, "370202");
        assert!(ensure_can_create_account(&admin, &hall("110101"), &[Role::Admin]).is_ok());
        let bidder = user(&[Role::Bidder], Some(OrgId::new()), "370202");
        assert!(ensure_can_create_account(&bidder, &hall("370202"), &[Role::Bidder]).is_err());
        assert!(ensure_can_register_org(&officer, &hall("370202")).is_ok());
        assert!(ensure_can_register_org(&officer, &hall("370102")).is_err());
        assert!(account_scope(&bidder).is_err());
    }
}
