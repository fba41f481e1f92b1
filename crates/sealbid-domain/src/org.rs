//! Who takes part: halls (the city's and the districts' trading halls), organisations, users and
//! their roles, and the visibility rule that makes city and districts one system.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{CreditCode, DivisionCode, OrgId, UserId};

/// A trading hall, identified by the administrative division it serves. District staff see their
/// own hall; city staff see every hall of the city.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hall {
    pub division: DivisionCode,
    pub name: String,
}

/// What a user may do. A user can hold several roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the platform: accounts, halls, configuration.
    Admin,
    /// Trading-centre officer: reviews tenders before publication.
    CentreOfficer,
    /// Tenderee or its procurement agency: creates and runs tenders.
    Tenderee,
    /// Bidder: asks questions, seals and submits bids.
    Bidder,
    /// Member of a tender's opening committee.
    CommitteeMember,
    /// Expert who scores bids.
    Evaluator,
    /// Supervisor: oversees tenders, reviews collusion alerts.
    Supervisor,
    /// Officer of an approval service.
    ApprovalOfficer,
    /// Applicant to an approval service.
    Applicant,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Admin,
        Role::CentreOfficer,
        Role::Tenderee,
        Role::Bidder,
        Role::CommitteeMember,
        Role::Evaluator,
        Role::Supervisor,
        Role::ApprovalOfficer,
        Role::Applicant,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CentreOfficer => "centre_officer",
            Role::Tenderee => "tenderee",
            Role::Bidder => "bidder",
            Role::CommitteeMember => "committee_member",
            Role::Evaluator => "evaluator",
            Role::Supervisor => "supervisor",
            Role::ApprovalOfficer => "approval_officer",
            Role::Applicant => "applicant",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Staff roles are bound to a hall's jurisdiction; market participants are not.
    pub fn is_staff(&self) -> bool {
        matches!(
            self,
            Role::Admin
                | Role::CentreOfficer
                | Role::Supervisor
                | Role::ApprovalOfficer
                | Role::CommitteeMember
                | Role::Evaluator
        )
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an organisation is in the market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Bidder,
    Tenderee,
    Agency,
    /// The trading centre or a supervising department.
    Authority,
}

impl OrgKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrgKind::Bidder => "bidder",
            OrgKind::Tenderee => "tenderee",
            OrgKind::Agency => "agency",
            OrgKind::Authority => "authority",
        }
    }
    pub fn parse(s: &str) -> Option<OrgKind> {
        [
            OrgKind::Bidder,
            OrgKind::Tenderee,
            OrgKind::Agency,
            OrgKind::Authority,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrgId,
    pub credit_code: CreditCode,
    pub name: String,
    pub kind: OrgKind,
    /// The hall the organisation is registered with.
    pub hall: DivisionCode,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    /// Login name: 3–64 characters of `[a-z0-9._-]`.
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The organisation the user acts for (bidders and tenderees must have one).
    pub org: Option<OrgId>,
    /// The hall whose jurisdiction a staff account has.
    pub hall: DivisionCode,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether this user's jurisdiction covers a hall (city staff cover every district of the city).
    pub fn covers_hall(&self, hall: &DivisionCode) -> bool {
        self.hall.covers(hall)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsernameError {
    #[error("a username has 3 to 64 characters of a-z, 0-9, '.', '_' and '-'")]
    Invalid,
}

impl UsernameError {
    pub fn code(&self) -> &'static str {
        "invalid_username"
    }
}

/// Normalises and checks a login name.
pub fn parse_username(s: &str) -> Result<String, UsernameError> {
    let s = s.trim().to_ascii_lowercase();
    let ok = (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(s)
    } else {
        Err(UsernameError::Invalid)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(parse_username(" Alice.W ").unwrap(), "alice.w");
        assert!(parse_username("ab").is_err());
        assert!(parse_username("has space").is_err());
        assert!(parse_username("名字").is_err());
    }
}
