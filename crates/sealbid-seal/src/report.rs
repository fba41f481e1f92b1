//! The evaluation report (条例 53): what the committee concluded, signed by every member with their
//! own Ed25519 key, then countersigned by the platform and appended to the transparency log like
//! the opening record.
//!
//! A member signs the *signing bytes* of the [`EvaluationReport`] (see [`crate::signed`]):
//!
//! ```text
//! "sealbid.org/evaluation-report/v1" ‖ "\n" ‖ JSON of the report
//! ```
//!
//! The finished document is a [`Signed`]`<`[`SignedReport`]`>`: the report, every member's
//! signature, signed by the platform's key. Anyone can check it with [`SignedReport::verify`]
//! (every member signed exactly this report, once) and [`Signed::verify`] (the platform's
//! signature); the log entry binds it to the tender's log after the opening record.
//!
//! The scheme, qualification, sheets and outcome are carried as JSON values: their maps are sorted
//! (serde_json's default map) and amounts are decimal strings, so the encoding is canonical.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entry::LogEntryBody;
use crate::error::{Result, SealError};
use crate::keys::{Signature, VerifyingKey};
use crate::signed::{signing_bytes, Signable, Signed};

/// A member of the committee as the report names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportMember {
    pub seat: u32,
    /// The member's pool id (drawn experts) or `rep-<seat>` (the tenderee's representatives).
    pub member: String,
    /// The member's name (the report is published with the result).
    pub name: String,
    pub representative: bool,
    /// The member's account.
    pub user: String,
}

/// The committee's report on one tender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationReport {
    pub version: u32,
    pub tender: String,
    pub tender_code: String,
    /// The opening record the evaluation started from: its log index and the hex SHA-256 of its
    /// signing bytes.
    pub opening_log_index: u64,
    pub opening_record_digest: String,
    pub drawn_up_at: DateTime<Utc>,
    pub members: Vec<ReportMember>,
    /// The scoring scheme (method, criteria, price formula).
    pub scheme: serde_json::Value,
    /// The committee's qualification conclusion per bid, with every member's checklist.
    pub qualification: serde_json::Value,
    /// Every member's score sheets.
    pub sheets: serde_json::Value,
    /// Price scores, aggregates, outliers, ranking, candidates and rejected bids.
    pub outcome: serde_json::Value,
}

impl Signable for EvaluationReport {
    const CONTEXT: &'static str = "sealbid.org/evaluation-report/v1";
}

/// One member's signature over the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSignature {
    pub member: String,
    pub signed_at: DateTime<Utc>,
    pub key: VerifyingKey,
    pub signature: Signature,
}

/// The report with every member's signature; the platform signs this.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReport {
    pub report: EvaluationReport,
    pub signatures: Vec<MemberSignature>,
}

impl Signable for SignedReport {
    const CONTEXT: &'static str = "sealbid.org/evaluation-report-signed/v1";
}

impl EvaluationReport {
    /// The bytes a member signs.
    pub fn signing_bytes(&self) -> Result<Vec<u8>> {
        signing_bytes(self)
    }

    /// Checks one member's signature over this report.
    pub fn verify_member(&self, key: &VerifyingKey, signature: &Signature) -> Result<()> {
        key.verify(&self.signing_bytes()?, signature)
    }
}

impl SignedReport {
    /// Every member of the report signed it exactly once, and every signature verifies.
    pub fn verify(&self) -> Result<()> {
        let bytes = self.report.signing_bytes()?;
        for m in &self.report.members {
            let sigs: Vec<&MemberSignature> = self
                .signatures
                .iter()
                .filter(|s| s.member == m.member)
                .collect();
            match sigs.as_slice() {
                [s] => s.key.verify(&bytes, &s.signature)?,
                [] => {
                    return Err(SealError::Invalid {
                        code: "unsigned_report",
                        message: format!("member {} has not signed the report", m.member),
                    })
                }
                _ => {
                    return Err(SealError::Invalid {
                        code: "bad_report",
                        message: format!("member {} signed the report more than once", m.member),
                    })
                }
            }
        }
        if let Some(s) = self
            .signatures
            .iter()
            .find(|s| !self.report.members.iter().any(|m| m.member == s.member))
        {
            return Err(SealError::Invalid {
                code: "bad_report",
                message: format!("{} signed the report but is not a member", s.member),
            });
        }
        Ok(())
    }
}

/// A finished report as logged.
pub type LoggedReport = Signed<SignedReport>;

/// The log entry that commits to a finished report (its digest, not its content: the names and
/// scores stay unpublished until the result). A published report matches its logged entry iff
/// `log_entry(&report)?.to_leaf()?` equals the entry's leaf data.
pub fn log_entry(logged: &LoggedReport) -> Result<LogEntryBody> {
    Ok(LogEntryBody::EvaluationReport {
        tender: logged.body.report.tender.clone(),
        report_sha256: logged.digest_hex()?,
        members: u32::try_from(logged.body.report.members.len()).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;
    use chrono::TimeZone;

    fn report() -> EvaluationReport {
        EvaluationReport {
            version: 1,
            tender: "t-1".into(),
            tender_code: "QD-1".into(),
            opening_log_index: 7,
            opening_record_digest: "ab".repeat(32),
            drawn_up_at: Utc.with_ymd_and_hms(2026, 11, 29, 10, 0, 0).unwrap(),
            members: (0..3)
                .map(|i| ReportMember {
                    seat: i,
                    member: format!("E{i}"),
                    name: format!("专家{i}"),
                    representative: false,
                    user: format!("u{i}"),
                })
                .collect(),
            scheme: serde_json::json!({"method": "comprehensive_scoring"}),
            qualification: serde_json::json!([]),
            sheets: serde_json::json!([{"bid": "b", "scores": {"t1": "12.50"}}]),
            outcome: serde_json::json!({"candidates": []}),
        }
    }

    fn sign(r: &EvaluationReport, i: u8) -> MemberSignature {
        let k = SigningKey::from_seed([i; 32]);
        MemberSignature {
            member: format!("E{i}"),
            signed_at: r.drawn_up_at,
            key: k.verifying_key(),
            signature: k.sign(&r.signing_bytes().unwrap()),
        }
    }

    #[test]
    fn a_report_signed_by_every_member_verifies_and_survives_json() {
        let r = report();
        let s = SignedReport {
            signatures: (0..3).map(|i| sign(&r, i)).collect(),
            report: r,
        };
        s.verify().unwrap();
        let platform = SigningKey::from_seed([42; 32]);
        let logged = Signed::sign(s, &platform).unwrap();
        let back = LoggedReport::from_json_bytes(&logged.to_json_bytes().unwrap()).unwrap();
        back.verify().unwrap();
        back.body.verify().unwrap();
        assert_eq!(back, logged);
        // The log commits to the digest only; a changed document no longer matches it.
        let leaf = log_entry(&logged).unwrap().to_leaf().unwrap();
        let text = String::from_utf8(leaf.clone()).unwrap();
        assert!(!text.contains("专家") && text.contains(&logged.digest_hex().unwrap()));
        assert_eq!(
            LogEntryBody::from_leaf(&leaf).unwrap().kind(),
            "evaluation_report"
        );
        let mut other = logged.clone();
        other.body.report.outcome = serde_json::json!({"candidates": ["x"]});
        assert_ne!(log_entry(&other).unwrap().to_leaf().unwrap(), leaf);
    }

    #[test]
    fn missing_duplicate_foreign_or_forged_signatures_are_refused() {
        let r = report();
        let mut s = SignedReport {
            signatures: (0..2).map(|i| sign(&r, i)).collect(),
            report: r.clone(),
        };
        assert!(s.verify().unwrap_err().to_string().contains("E2"));
        s.signatures.push(sign(&r, 1));
        assert!(s.verify().is_err());
        s.signatures.pop();
        s.signatures.push(sign(&r, 2));
        s.verify().unwrap();
        s.signatures.push(sign(&r, 9));
        assert!(s.verify().unwrap_err().to_string().contains("E9"));
        s.signatures.pop();
        // A signature over another report does not verify for this one.
        let mut other = r.clone();
        other.outcome = serde_json::json!({"candidates": ["x"]});
        s.signatures[0] = sign(&other, 0);
        assert!(s.verify().is_err());
        // Tampering with the report after signing breaks every signature.
        s.signatures[0] = sign(&r, 0);
        s.report.sheets = serde_json::json!([{"bid": "b", "scores": {"t1": "13.50"}}]);
        assert!(s.verify().is_err());
    }
}
