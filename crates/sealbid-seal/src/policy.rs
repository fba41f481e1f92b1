//! The tender's sealing policy: who is on the opening committee, the threshold, the deadline and the
//! opening time. Signed by the platform and logged as the tender's first entry; every manifest
//! commits to its hash.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, SealError};
use crate::keys::MemberRecipient;
use crate::signed::{signing_bytes, Signable, Signed};
use crate::threshold::Committee;

/// Current sealing policy format version.
pub const POLICY_VERSION: u32 = 1;

/// One member of the opening committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyMember {
    /// Name (person or office).
    pub name: String,
    /// Role on the committee: tenderee, supervisor, notary, platform, …
    pub role: String,
    /// The member's age public key.
    pub recipient: MemberRecipient,
    /// Whether this is the platform's own share (at most one member).
    pub platform: bool,
}

/// The sealing policy of a tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealingPolicy {
    /// Format version, [`POLICY_VERSION`].
    pub version: u32,
    /// Tender identifier.
    pub tender: String,
    /// Bid submission deadline.
    pub deadline: DateTime<Utc>,
    /// Scheduled opening; never before the deadline.
    pub opening_time: DateTime<Utc>,
    /// t: how many members are needed to open.
    pub threshold: u8,
    /// The committee; member i (1-based, as in the share stanzas) is `members[i - 1]`.
    pub members: Vec<PolicyMember>,
}

impl Signable for SealingPolicy {
    const CONTEXT: &'static str = "sealbid.org/sealing-policy/v1";
}

/// A sealing policy signed by the platform.
pub type SignedPolicy = Signed<SealingPolicy>;

fn bad(message: String) -> SealError {
    SealError::BadPolicy(message)
}

impl SealingPolicy {
    /// Checks: version; tender id; 2 ≤ t ≤ n ≤ 255; opening time not before the deadline; every
    /// member named with a role; at most one platform member, whose single share can never reach t;
    /// no key used twice.
    pub fn validate(&self) -> Result<()> {
        if self.version != POLICY_VERSION {
            return Err(bad(format!(
                "sealing policy version {} is not supported (expected {POLICY_VERSION}); update \
                 the Sealbid client",
                self.version
            )));
        }
        if self.tender.trim().is_empty() || self.tender.trim() != self.tender {
            return Err(bad(format!(
                "the tender id `{}` is empty or has surrounding spaces",
                self.tender
            )));
        }
        let n = self.members.len();
        if n > 255 {
            return Err(bad(format!(
                "the committee has {n} members; at most 255 are supported"
            )));
        }
        if self.threshold < 2 {
            return Err(bad(format!(
                "threshold {} is too low: at least 2 members must be needed to open a bid, so that \
                 no single member (nor the platform) can open one alone",
                self.threshold
            )));
        }
        if usize::from(self.threshold) > n {
            return Err(bad(format!(
                "threshold {} is larger than the committee ({n} members); lower the threshold or \
                 add members",
                self.threshold
            )));
        }
        if self.opening_time < self.deadline {
            return Err(bad(format!(
                "the opening time {} is before the deadline {}; bids must never be opened while \
                 they can still be submitted",
                self.opening_time.to_rfc3339(),
                self.deadline.to_rfc3339()
            )));
        }
        let mut keys = HashSet::new();
        for (i, m) in self.members.iter().enumerate() {
            let which = i + 1;
            if m.name.trim().is_empty() {
                return Err(bad(format!("member {which} has no name")));
            }
            if m.role.trim().is_empty() {
                return Err(bad(format!("member {which} ({}) has no role", m.name)));
            }
            if !keys.insert(m.recipient) {
                return Err(bad(format!(
                    "member {which} ({}) has the same key {} as an earlier member; every member \
                     needs their own key",
                    m.name, m.recipient
                )));
            }
        }
        let platform = self.members.iter().filter(|m| m.platform).count();
        if platform > 1 {
            return Err(bad(format!(
                "{platform} members are marked as the platform; the platform holds at most one \
                 share"
            )));
        }
        if platform >= usize::from(self.threshold) {
            return Err(bad(
                "the platform's share alone would reach the threshold; raise the threshold".into(),
            ));
        }
        Ok(())
    }

    /// The committee to seal to. Call [`SealingPolicy::validate`] first; sealing and structure
    /// checks validate the committee again.
    pub fn committee(&self) -> Committee {
        Committee {
            threshold: self.threshold,
            members: self.members.iter().map(|m| m.recipient).collect(),
        }
    }

    /// Hex SHA-256 of the policy's signing bytes: the `policy_hash` every manifest commits to. Equal
    /// to [`Signed::digest_hex`] of the signed policy.
    pub fn hash_hex(&self) -> Result<String> {
        Ok(hex::encode(Sha256::digest(signing_bytes(self)?)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::keys::{MemberIdentity, SigningKey};
    use chrono::TimeZone;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn policy() -> SealingPolicy {
        let mut rng = StdRng::seed_from_u64(30);
        let roles = ["tenderee", "supervisor", "notary", "expert", "platform"];
        SealingPolicy {
            version: 1,
            tender: "T-2025-001".into(),
            deadline: Utc.with_ymd_and_hms(2025, 3, 10, 1, 30, 0).unwrap(),
            opening_time: Utc.with_ymd_and_hms(2025, 3, 10, 1, 30, 0).unwrap(),
            threshold: 3,
            members: roles
                .iter()
                .map(|role| PolicyMember {
                    name: format!("{role} office"),
                    role: (*role).into(),
                    recipient: MemberIdentity::generate(&mut rng).recipient(),
                    platform: *role == "platform",
                })
                .collect(),
        }
    }

    #[test]
    fn valid_policy_hash_and_committee() {
        let p = policy();
        p.validate().unwrap();
        let c = p.committee();
        assert_eq!(c.threshold, 3);
        assert_eq!(c.members.len(), 5);
        assert_eq!(c.members[4], p.members[4].recipient);
        c.validate().unwrap();

        let signed = SignedPolicy::sign(p.clone(), &SigningKey::from_seed([3; 32])).unwrap();
        signed.verify().unwrap();
        assert_eq!(p.hash_hex().unwrap(), signed.digest_hex().unwrap());
        let back = SignedPolicy::from_json_bytes(&signed.to_json_bytes().unwrap()).unwrap();
        assert_eq!(back.body.hash_hex().unwrap(), p.hash_hex().unwrap());
        let mut changed = p.clone();
        changed.threshold = 4;
        assert_ne!(changed.hash_hex().unwrap(), p.hash_hex().unwrap());
        let json = String::from_utf8(signed.to_json_bytes().unwrap()).unwrap();
        assert!(json.contains("\"recipient\":\"age1"), "{json}");
    }

    #[test]
    fn policy_rules() {
        let check = |f: &dyn Fn(&mut SealingPolicy), needle: &str| {
            let mut p = policy();
            f(&mut p);
            let err = p.validate().unwrap_err();
            assert_eq!(err.code(), "bad_policy");
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        };
        check(&|p| p.threshold = 1, "too low");
        check(&|p| p.threshold = 0, "too low");
        check(&|p| p.threshold = 6, "larger than the committee");
        check(&|p| p.version = 9, "version 9");
        check(&|p| p.tender = "".into(), "tender id");
        check(
            &|p| p.opening_time = p.deadline - chrono::Duration::minutes(1),
            "before the deadline",
        );
        check(
            &|p| p.members[0].platform = true,
            "2 members are marked as the platform",
        );
        check(
            &|p| p.members[3].recipient = p.members[1].recipient,
            "member 4",
        );
        check(&|p| p.members[2].name = " ".into(), "member 3 has no name");
        check(&|p| p.members[2].role = "".into(), "has no role");

        // t = n is allowed, and t = 2 with a platform member (the platform alone has one share).
        let mut p = policy();
        p.threshold = 5;
        p.validate().unwrap();
        p.threshold = 2;
        p.validate().unwrap();
        // Opening later than the deadline is fine.
        p.opening_time = p.deadline + chrono::Duration::hours(2);
        p.validate().unwrap();
        // No platform member at all is fine.
        for m in &mut p.members {
            m.platform = false;
        }
        p.validate().unwrap();
    }
}
