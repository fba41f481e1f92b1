//! The engine's one output shape. Every detector — price screens, price patterns, cross-tender
//! behaviour, bid documents, identity and money links, the classifier — ends in [`Alert`]s, which the
//! CLI prints and the platform stores and shows to supervisors.
//!
//! An alert names the indicator, its legal ground, the bidders, a score in `[0, 1]` with how it was
//! reached, and the evidence (figures, passages side by side, a price chart). Scores and figures are
//! always finite: [`Alert::sanitised`] drops any non-finite figure and clamps the score, and every
//! constructor in the engine goes through it.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A legal ground: the article and item of the implementing regulations of the Tendering and Bidding
/// Law (招标投标法实施条例) that makes the finding collusion, or deems it so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalGround {
    /// e.g. `条例 40(4)`; the short form shown in lists.
    pub cite: String,
    /// What the provision says, in one line, for the reviewer.
    pub text: String,
}

impl LegalGround {
    pub fn new(cite: &str, text: &str) -> Self {
        Self {
            cite: cite.into(),
            text: text.into(),
        }
    }
}

/// The grounds the engine cites.
pub mod grounds {
    use super::LegalGround;

    /// 条例 39: bidders agree on prices, on who wins, on who stays out.
    pub fn art39() -> LegalGround {
        LegalGround::new(
            "条例 39",
            "bidders agreed on prices or other substance, on who wins, or on who stays out",
        )
    }
    /// 条例 40(1): bid documents prepared by the same firm or person.
    pub fn art40_1() -> LegalGround {
        LegalGround::new(
            "条例 40(1)",
            "bid documents prepared by the same firm or person",
        )
    }
    /// 条例 40(2): the same agent handles several bidders.
    pub fn art40_2() -> LegalGround {
        LegalGround::new(
            "条例 40(2)",
            "the same person handles the bidding for several bidders",
        )
    }
    /// 条例 40(3): the same project-management member in several bids.
    pub fn art40_3() -> LegalGround {
        LegalGround::new(
            "条例 40(3)",
            "the same project-management member appears in several bids",
        )
    }
    /// 条例 40(4): bid documents abnormally alike, or prices in a regular pattern.
    pub fn art40_4() -> LegalGround {
        LegalGround::new(
            "条例 40(4)",
            "bid documents abnormally alike, or prices with a regular pattern of differences",
        )
    }
    /// 条例 40(5): bid documents mixed up with one another.
    pub fn art40_5() -> LegalGround {
        LegalGround::new("条例 40(5)", "bid documents mixed up with one another")
    }
    /// 条例 40(6): deposits paid from the same account.
    pub fn art40_6() -> LegalGround {
        LegalGround::new(
            "条例 40(6)",
            "bid deposits paid from the same unit's or person's account",
        )
    }
    /// 条例 34: units with the same legal representative may not bid in the same tender.
    pub fn art34() -> LegalGround {
        LegalGround::new(
            "条例 34",
            "units with the same legal representative, or in a controlling relationship, bid in the same tender",
        )
    }
}

/// Where an alert comes from (groups indicators for filters and pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// A per-tender price screen outside the market's fences, or the classifier's score.
    PriceScreen,
    /// A price pattern between the bidders of one tender.
    PricePattern,
    /// Behaviour across tenders (rotation, cover bidding, co-bidding, never-winners).
    History,
    /// Bid documents (text, files, metadata, upload source).
    Documents,
    /// Identity and money links (deposits, agents, staff, legal representatives).
    Links,
}

/// One part of how a score was reached: a named input, its value and its share of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePart {
    pub name: String,
    pub value: f64,
    /// Contribution to the score (or to its logit, for the classifier); finite.
    pub weight: f64,
}

/// A score in `[0, 1]` and how it was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub value: f64,
    /// One sentence: the rule or model that produced the value.
    pub method: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<ScorePart>,
}

/// One side of a passage pair: where the text is and the text itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub bidder: String,
    /// File name inside the bid.
    pub file: String,
    /// Character offset of `text` in the file's extracted text.
    pub offset: usize,
    pub text: String,
}

/// Two passages shown side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassagePair {
    pub left: Passage,
    pub right: Passage,
}

/// The evidence behind an alert.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// Named figures (finite).
    #[serde(default)]
    pub figures: BTreeMap<String, f64>,
    /// Named facts that are not numbers (a shared account number, a file hash, a metadata value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, String>,
    /// Passages side by side (documents).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passages: Vec<PassagePair>,
    /// Other tenders the finding rests on (history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenders: Vec<String>,
    /// A small SVG price chart of the tender, self-contained (no scripts, no external references).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_svg: Option<String>,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable over re-runs: a digest of the tender, the indicator and the sorted bidders, so storing
    /// the same finding twice is a no-op.
    pub fingerprint: String,
    /// The tender the alert is about (for history alerts: the latest tender involved).
    pub tender: String,
    pub family: Family,
    /// Stable indicator name, e.g. `identical_prices`, `cv`, `bid_rotation`, `near_duplicate_text`.
    pub indicator: String,
    /// The legal ground; `None` for a statistical outlier, which is grounds for a look, not a deemed case.
    pub legal_ground: Option<LegalGround>,
    /// Bidder ids (or `#n` for a bid without one), sorted, deduplicated.
    pub bidders: Vec<String>,
    pub score: Score,
    /// One line for the reviewer.
    pub summary: String,
    pub evidence: Evidence,
}

impl Alert {
    /// Builds an alert with its fingerprint, sanitised (see [`Alert::sanitised`]).
    #[allow(clippy::too_many_arguments)] // each is a distinct part of the alert; a builder adds nothing
    pub fn new(
        tender: impl Into<String>,
        family: Family,
        indicator: impl Into<String>,
        legal_ground: Option<LegalGround>,
        bidders: impl IntoIterator<Item = String>,
        score: Score,
        summary: impl Into<String>,
        evidence: Evidence,
    ) -> Self {
        let tender = tender.into();
        let indicator = indicator.into();
        let mut bidders: Vec<String> = bidders.into_iter().collect();
        bidders.sort();
        bidders.dedup();
        let fingerprint = fingerprint(&tender, &indicator, &bidders);
        Self {
            fingerprint,
            tender,
            family,
            indicator,
            legal_ground,
            bidders,
            score,
            summary: summary.into(),
            evidence,
        }
        .sanitised()
    }

    /// Drops non-finite figures and score parts, and clamps the score into `[0, 1]` (a non-finite
    /// score becomes 0): NaN never reaches a stored alert.
    pub fn sanitised(mut self) -> Self {
        self.evidence.figures.retain(|_, v| v.is_finite());
        self.score
            .parts
            .retain(|p| p.value.is_finite() && p.weight.is_finite());
        self.score.value = if self.score.value.is_finite() {
            self.score.value.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }
}

/// Hex SHA-256 over the tender, the indicator and the sorted bidders, each length-prefixed.
pub fn fingerprint(tender: &str, indicator: &str, bidders: &[String]) -> String {
    let mut h = Sha256::new();
    for part in [tender, indicator]
        .into_iter()
        .chain(bidders.iter().map(String::as_str))
    {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn score(v: f64) -> Score {
        Score {
            value: v,
            method: "test".into(),
            parts: vec![ScorePart {
                name: "x".into(),
                value: f64::NAN,
                weight: 1.0,
            }],
        }
    }

    #[test]
    fn fingerprint_ignores_bidder_order_and_duplicates() {
        let a = Alert::new(
            "T1",
            Family::PricePattern,
            "identical_prices",
            Some(grounds::art40_4()),
            ["B".to_string(), "A".into(), "B".into()],
            score(0.9),
            "s",
            Evidence::default(),
        );
        let b = Alert::new(
            "T1",
            Family::PricePattern,
            "identical_prices",
            Some(grounds::art40_4()),
            ["A".to_string(), "B".into()],
            score(0.5),
            "other summary",
            Evidence::default(),
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.bidders, ["A", "B"]);
        let c = Alert::new(
            "T2",
            Family::PricePattern,
            "identical_prices",
            None,
            ["A".to_string(), "B".into()],
            score(0.5),
            "s",
            Evidence::default(),
        );
        assert_ne!(a.fingerprint, c.fingerprint);
        // Length prefixes: ("ab","c") and ("a","bc") differ.
        assert_ne!(
            fingerprint("ab", "c", &[]),
            fingerprint("a", "bc", &[]),
            "parts are delimited"
        );
    }

    #[test]
    fn non_finite_values_never_survive() {
        let mut ev = Evidence::default();
        ev.figures.insert("nan".into(), f64::NAN);
        ev.figures.insert("inf".into(), f64::INFINITY);
        ev.figures.insert("ok".into(), 1.5);
        let a = Alert::new(
            "T",
            Family::PriceScreen,
            "cv",
            None,
            Vec::new(),
            score(f64::NAN),
            "s",
            ev,
        );
        assert_eq!(a.score.value, 0.0);
        assert!(a.score.parts.is_empty());
        assert_eq!(a.evidence.figures.len(), 1);
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["evidence"]["figures"], serde_json::json!({"ok": 1.5}));
        assert_eq!(json["score"]["value"], 0.0);
        let back: Alert = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
        assert_eq!(
            Alert::new(
                "T",
                Family::PriceScreen,
                "cv",
                None,
                Vec::new(),
                score(7.0),
                "s",
                Evidence::default()
            )
            .score
            .value,
            1.0
        );
    }
}
