//! Identity and money links between the bidders of one tender — the cases the regulations deem
//! collusion outright, whatever the prices say:
//! - bid deposits paid from the same account (条例 40(6)), indicator `shared_deposit_account`;
//! - the same person as agent or contact for several bidders (条例 40(2)), `shared_agent`;
//! - the same project-management member in several bids (条例 40(3)), `shared_project_member`;
//! - the same legal representative (条例 34), `shared_legal_representative`.
//!
//! Accounts match after normalisation (spaces and dashes stripped, letters upper-cased). People match
//! on their id number when both carry one (two different id numbers are two people, whatever the
//! names), otherwise on their normalised name (case, spaces, dots and middle dots ignored, full-width
//! forms folded) — a weaker match, scored lower. One alert per shared value, naming every bidder that
//! shares it; the summary masks the middle of account and id numbers (`6222****1234`), the facts
//! carry the full value for the reviewer.
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::alert::{grounds, Alert, Evidence, Family, LegalGround, Score, ScorePart};

/// A natural person named in a bid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    /// Resident id or passport number, where the bid gives one.
    #[serde(default)]
    pub id_number: Option<String>,
}

/// What one bid says about who stands behind it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BidderIdentity {
    pub bidder: String,
    /// Accounts the bid deposit was paid from.
    #[serde(default)]
    pub deposit_accounts: Vec<String>,
    #[serde(default)]
    pub agent: Option<Person>,
    #[serde(default)]
    pub contact: Option<Person>,
    #[serde(default)]
    pub legal_representative: Option<Person>,
    #[serde(default)]
    pub project_members: Vec<Person>,
}

/// Which links to look for, and the scores. A name-only match scores `name_match_factor` times the
/// id-number score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSettings {
    pub enabled: bool,
    pub deposit_account_score: f64,
    pub agent_score: f64,
    pub project_member_score: f64,
    pub legal_representative_score: f64,
    pub name_match_factor: f64,
}

impl Default for LinkSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            deposit_account_score: 0.95,
            agent_score: 0.9,
            project_member_score: 0.85,
            legal_representative_score: 0.9,
            name_match_factor: 0.65,
        }
    }
}

impl LinkSettings {
    pub fn validate(&self) -> Result<(), crate::error::ScreenError> {
        for (field, v) in [
            ("deposit_account_score", self.deposit_account_score),
            ("agent_score", self.agent_score),
            ("project_member_score", self.project_member_score),
            (
                "legal_representative_score",
                self.legal_representative_score,
            ),
            ("name_match_factor", self.name_match_factor),
        ] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(crate::error::ScreenError::InvalidSetting {
                    field: format!("links.{field}"),
                    reason: "must be in [0, 1]".into(),
                });
            }
        }
        Ok(())
    }
}

/// Account number as compared: spaces (including full-width), dashes and dots removed, upper case.
pub fn normalise_account(s: &str) -> String {
    fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '_' | '/'))
        .flat_map(char::to_uppercase)
        .collect()
}

/// Id number as compared (same rules as accounts; a trailing `x` of a resident id becomes `X`).
pub fn normalise_id(s: &str) -> String {
    normalise_account(s)
}

/// Name as compared: full-width forms folded, lower case, spaces, dots and middle dots removed.
pub fn normalise_name(s: &str) -> String {
    fold_width(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '·' | '•' | '・' | '-' | ','))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Full-width ASCII variants (U+FF01–U+FF5E) to ASCII, ideographic space to a space.
fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// `6222021234561234` → `6222****1234`; short values keep less (at most a third of each end).
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let keep = (chars.len() / 3).min(4);
    if keep == 0 {
        return "*".repeat(chars.len().max(4));
    }
    let head: String = chars.iter().take(keep).collect();
    let tail: String = chars.iter().skip(chars.len() - keep).collect();
    format!("{head}****{tail}")
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Agent,
    ProjectMember,
    LegalRepresentative,
}

impl Kind {
    fn indicator(self) -> &'static str {
        match self {
            Kind::Agent => "shared_agent",
            Kind::ProjectMember => "shared_project_member",
            Kind::LegalRepresentative => "shared_legal_representative",
        }
    }
    fn ground(self) -> LegalGround {
        match self {
            Kind::Agent => grounds::art40_2(),
            Kind::ProjectMember => grounds::art40_3(),
            Kind::LegalRepresentative => grounds::art34(),
        }
    }
    fn what(self) -> &'static str {
        match self {
            Kind::Agent => "agent or contact",
            Kind::ProjectMember => "project-management member",
            Kind::LegalRepresentative => "legal representative",
        }
    }
    fn score(self, s: &LinkSettings) -> f64 {
        match self {
            Kind::Agent => s.agent_score,
            Kind::ProjectMember => s.project_member_score,
            Kind::LegalRepresentative => s.legal_representative_score,
        }
    }
}

/// One person as named by one bidder in one role.
struct Mention<'a> {
    bidder: &'a str,
    role: &'static str,
    name: String,
    id: Option<String>,
    person: &'a Person,
}

fn mentions(bids: &[BidderIdentity], kind: Kind) -> Vec<Mention<'_>> {
    let mut out = Vec::new();
    for b in bids {
        let roles: Vec<(&'static str, &Person)> = match kind {
            Kind::Agent => [("agent", &b.agent), ("contact", &b.contact)]
                .into_iter()
                .filter_map(|(r, p)| p.as_ref().map(|p| (r, p)))
                .collect(),
            Kind::ProjectMember => b
                .project_members
                .iter()
                .map(|p| ("project member", p))
                .collect(),
            Kind::LegalRepresentative => b
                .legal_representative
                .iter()
                .map(|p| ("legal representative", p))
                .collect(),
        };
        for (role, person) in roles {
            let name = normalise_name(&person.name);
            let id = person
                .id_number
                .as_deref()
                .map(normalise_id)
                .filter(|s| !s.is_empty());
            if name.is_empty() && id.is_none() {
                continue;
            }
            out.push(Mention {
                bidder: &b.bidder,
                role,
                name,
                id,
                person,
            });
        }
    }
    out
}

/// One shared value (an account or a person) and the bidders sharing it.
struct Shared {
    bidders: BTreeSet<String>,
    /// Full value for the facts, masked value for the summary.
    full: String,
    shown: String,
    by_id: bool,
    roles: Vec<String>,
}

/// People of one kind shared by several bidders: by id number, then by name where an id is missing.
fn shared_people(bids: &[BidderIdentity], kind: Kind) -> Vec<Shared> {
    let ms = mentions(bids, kind);
    let roles_of = |group: &[&Mention]| -> Vec<String> {
        let mut r: Vec<String> = group
            .iter()
            .map(|m| format!("{}: {}", m.bidder, m.role))
            .collect();
        r.sort();
        r.dedup();
        r
    };
    let bidders_of = |group: &[&Mention]| -> BTreeSet<String> {
        group.iter().map(|m| m.bidder.to_owned()).collect()
    };
    let mut out = Vec::new();
    let mut by_id: BTreeMap<&str, Vec<&Mention>> = BTreeMap::new();
    for m in &ms {
        if let Some(id) = m.id.as_deref() {
            by_id.entry(id).or_default().push(m);
        }
    }
    for (id, group) in &by_id {
        let bidders = bidders_of(group);
        if bidders.len() < 2 {
            continue;
        }
        let name = group.first().map_or("", |m| m.person.name.trim());
        out.push(Shared {
            bidders,
            full: format!("{name} (id {id})"),
            shown: format!("{name} (id {})", mask(id)),
            by_id: true,
            roles: roles_of(group),
        });
    }
    let mut by_name: BTreeMap<&str, Vec<&Mention>> = BTreeMap::new();
    for m in ms.iter().filter(|m| !m.name.is_empty()) {
        by_name.entry(m.name.as_str()).or_default().push(m);
    }
    let mut seen: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for group in by_name.values() {
        let idless: Vec<&Mention> = group.iter().copied().filter(|m| m.id.is_none()).collect();
        if idless.is_empty() {
            continue; // everyone has an id: the id groups decide
        }
        let ids: BTreeSet<&str> = group.iter().filter_map(|m| m.id.as_deref()).collect();
        let subgroups: Vec<Vec<&Mention>> = if ids.is_empty() {
            vec![group.clone()]
        } else {
            ids.iter()
                .map(|id| {
                    group
                        .iter()
                        .copied()
                        .filter(|m| m.id.is_none() || m.id.as_deref() == Some(id))
                        .collect()
                })
                .collect()
        };
        for sub in subgroups {
            let bidders = bidders_of(&sub);
            if bidders.len() < 2
                || out
                    .iter()
                    .any(|s: &Shared| s.by_id && bidders.is_subset(&s.bidders))
                || !seen.insert(bidders.clone())
            {
                continue;
            }
            let name = sub.first().map_or("", |m| m.person.name.trim()).to_owned();
            out.push(Shared {
                bidders,
                full: name.clone(),
                shown: name,
                by_id: false,
                roles: roles_of(&sub),
            });
        }
    }
    out
}

fn shared_accounts(bids: &[BidderIdentity]) -> Vec<Shared> {
    let mut by: BTreeMap<String, (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    for b in bids {
        for a in &b.deposit_accounts {
            let n = normalise_account(a);
            if n.is_empty() {
                continue;
            }
            let e = by.entry(n).or_default();
            e.0.insert(b.bidder.clone());
            e.1.push(format!("{}: deposit", b.bidder));
        }
    }
    by.into_iter()
        .filter(|(_, (b, _))| b.len() >= 2)
        .map(|(acc, (bidders, mut roles))| {
            roles.sort();
            roles.dedup();
            Shared {
                bidders,
                shown: mask(&acc),
                full: acc,
                by_id: true,
                roles,
            }
        })
        .collect()
}

/// Alerts for one kind of link: shared values with the same bidders are merged into one alert.
#[allow(clippy::too_many_arguments)]
fn alerts_for(
    tender: &str,
    indicator: &str,
    ground: LegalGround,
    what: &str,
    base: f64,
    settings: &LinkSettings,
    shared: Vec<Shared>,
    out: &mut Vec<Alert>,
) {
    let mut merged: BTreeMap<BTreeSet<String>, Vec<Shared>> = BTreeMap::new();
    for s in shared {
        merged.entry(s.bidders.clone()).or_default().push(s);
    }
    for (bidders, mut values) in merged {
        values.sort_by_key(|v| (!v.by_id, v.full.clone()));
        let by_id = values.iter().any(|v| v.by_id);
        let factor = if by_id {
            1.0
        } else {
            settings.name_match_factor
        };
        let value = base * factor;
        let mut facts = BTreeMap::new();
        for (i, v) in values.iter().enumerate() {
            let suffix = if i == 0 {
                String::new()
            } else {
                format!(".{}", i + 1)
            };
            facts.insert(format!("shared{suffix}"), v.full.clone());
            facts.insert(
                format!("matched_on{suffix}"),
                if v.by_id {
                    "exact value"
                } else {
                    "name only (no id number on one side)"
                }
                .into(),
            );
            facts.insert(format!("roles{suffix}"), v.roles.join("; "));
        }
        let figures = BTreeMap::from([
            ("bidders".to_owned(), bidders.len() as f64),
            ("shared_values".to_owned(), values.len() as f64),
        ]);
        let shown = values
            .iter()
            .map(|v| v.shown.clone())
            .collect::<Vec<_>>()
            .join(", ");
        let names = bidders.iter().cloned().collect::<Vec<_>>().join(", ");
        let qualifier = if by_id { "" } else { " (matched by name only)" };
        let score = Score {
            value,
            method: format!(
                "fixed score of the deemed case ({base}); × {} when matched by name only",
                settings.name_match_factor
            ),
            parts: vec![
                ScorePart {
                    name: "base".into(),
                    value: base,
                    weight: base,
                },
                ScorePart {
                    name: "match_factor".into(),
                    value: factor,
                    weight: value - base,
                },
            ],
        };
        out.push(Alert::new(
            tender,
            Family::Links,
            indicator,
            Some(ground.clone()),
            bidders.iter().cloned(),
            score,
            format!("{names} share the same {what}: {shown}{qualifier}"),
            Evidence {
                figures,
                facts,
                ..Evidence::default()
            },
        ));
    }
}

/// Every link among the bidders of one tender. Bidders are compared by their `bidder` string; two
/// entries with the same bidder are one bidder (a bid never links to itself).
pub fn analyse(tender: &str, bids: &[BidderIdentity], settings: &LinkSettings) -> Vec<Alert> {
    let mut out = Vec::new();
    if !settings.enabled {
        return out;
    }
    alerts_for(
        tender,
        "shared_deposit_account",
        grounds::art40_6(),
        "deposit account",
        settings.deposit_account_score,
        settings,
        shared_accounts(bids),
        &mut out,
    );
    for kind in [Kind::Agent, Kind::ProjectMember, Kind::LegalRepresentative] {
        alerts_for(
            tender,
            kind.indicator(),
            kind.ground(),
            kind.what(),
            kind.score(settings),
            settings,
            shared_people(bids, kind),
            &mut out,
        );
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn person(name: &str, id: Option<&str>) -> Person {
        Person {
            name: name.into(),
            id_number: id.map(str::to_owned),
        }
    }

    fn bidder(name: &str) -> BidderIdentity {
        BidderIdentity {
            bidder: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn normalisation_and_masking() {
        assert_eq!(
            normalise_account(" 6222-0212 3456 1234 "),
            "6222021234561234"
        );
        assert_eq!(normalise_account("６２２２－１"), "62221");
        assert_eq!(normalise_id("11010519491231002x"), "11010519491231002X");
        assert_eq!(normalise_name(" Zhang  San "), "zhangsan");
        assert_eq!(normalise_name("张 三"), "张三");
        assert_eq!(normalise_name("Mary·Jane"), normalise_name("mary jane"));
        assert_eq!(mask("6222021234561234"), "6222****1234");
        assert_eq!(mask("123456"), "12****56");
        assert_eq!(mask("12"), "****");
        assert_eq!(mask(""), "****");
        assert_eq!(mask("账户号码一二三四五六"), "账户号****四五六");
    }

    #[test]
    fn one_payer_account_is_40_6() {
        let mut a = bidder("A");
        a.deposit_accounts = vec!["6222 0212 3456 1234".into()];
        let mut b = bidder("B");
        b.deposit_accounts = vec!["6222-0212-3456-1234".into(), "9999".into()];
        let mut c = bidder("C");
        c.deposit_accounts = vec!["6222021234560000".into()];
        let alerts = analyse("T", &[a, b, c], &LinkSettings::default());
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let x = &alerts[0];
        assert_eq!(x.indicator, "shared_deposit_account");
        assert_eq!(x.legal_ground.as_ref().unwrap().cite, "条例 40(6)");
        assert_eq!(x.bidders, ["A", "B"]);
        assert_eq!(x.score.value, 0.95);
        assert_eq!(x.evidence.facts["shared"], "6222021234561234");
        assert!(x.summary.contains("6222****1234"), "{}", x.summary);
        assert!(!x.summary.contains("6222021234561234"));
        assert_eq!(x.family, Family::Links);
    }

    #[test]
    fn agent_of_one_is_contact_of_another() {
        let mut a = bidder("A");
        a.agent = Some(person("Li Si", Some("110105194912310021")));
        let mut b = bidder("B");
        b.contact = Some(person("li si", Some("1101 0519 4912 3100 21")));
        let mut c = bidder("C");
        c.agent = Some(person("Li Si", Some("220105194912310099"))); // a namesake
        let alerts = analyse("T", &[a, b, c], &LinkSettings::default());
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let x = &alerts[0];
        assert_eq!(x.indicator, "shared_agent");
        assert_eq!(x.legal_ground.as_ref().unwrap().cite, "条例 40(2)");
        assert_eq!(x.bidders, ["A", "B"]);
        assert_eq!(x.score.value, 0.9);
        assert!(x.summary.contains("1101****0021"), "{}", x.summary);
        assert_eq!(x.evidence.facts["roles"], "A: agent; B: contact");
    }

    #[test]
    fn name_only_matches_score_lower() {
        let mut a = bidder("A");
        a.legal_representative = Some(person("王五", None));
        let mut b = bidder("B");
        b.legal_representative = Some(person("王 五", Some("110105194912310021")));
        let mut c = bidder("C");
        c.legal_representative = Some(person("王五", Some("220105194912310099")));
        let alerts = analyse("T", &[a, b, c], &LinkSettings::default());
        // A has no id: it may be B's or C's 王五; B and C are different people.
        assert_eq!(alerts.len(), 2, "{alerts:#?}");
        for x in &alerts {
            assert_eq!(x.indicator, "shared_legal_representative");
            assert_eq!(x.legal_ground.as_ref().unwrap().cite, "条例 34");
            assert!((x.score.value - 0.9 * 0.65).abs() < 1e-12);
            assert!(x.summary.contains("name only"));
        }
        let sets: Vec<_> = alerts.iter().map(|a| a.bidders.clone()).collect();
        assert!(sets.contains(&vec!["A".to_string(), "B".into()]));
        assert!(sets.contains(&vec!["A".to_string(), "C".into()]));
    }

    #[test]
    fn project_members_and_merging() {
        let mut a = bidder("A");
        a.project_members = vec![person("Zhao", Some("X1")), person("Qian", Some("X2"))];
        let mut b = bidder("B");
        b.project_members = vec![person("zhao", Some("x1")), person("Qian", Some("X2"))];
        let alerts = analyse("T", &[a, b], &LinkSettings::default());
        assert_eq!(
            alerts.len(),
            1,
            "two shared members, one alert: {alerts:#?}"
        );
        let x = &alerts[0];
        assert_eq!(x.indicator, "shared_project_member");
        assert_eq!(x.legal_ground.as_ref().unwrap().cite, "条例 40(3)");
        assert_eq!(x.evidence.figures["shared_values"], 2.0);
        assert!(x.evidence.facts.contains_key("shared.2"));
    }

    #[test]
    fn nothing_to_link() {
        let s = LinkSettings::default();
        assert!(analyse("T", &[], &s).is_empty());
        assert!(analyse("T", &[bidder("A")], &s).is_empty());
        // The same bidder twice, empty values, blank names.
        let mut a = bidder("A");
        a.deposit_accounts = vec!["1234".into(), " - ".into()];
        a.agent = Some(person("  ", None));
        a.contact = Some(person("Zhou", None));
        let mut a2 = a.clone();
        a2.agent = Some(person("Zhou", None));
        let mut b = bidder("B");
        b.deposit_accounts = vec!["".into()];
        b.agent = Some(person("", Some("")));
        assert!(analyse("T", &[a, a2, b], &s).is_empty());
        let off = LinkSettings {
            enabled: false,
            ..Default::default()
        };
        let mut c = bidder("C");
        c.deposit_accounts = vec!["1".into()];
        let mut d = bidder("D");
        d.deposit_accounts = vec!["1".into()];
        assert!(analyse("T", &[c.clone(), d.clone()], &off).is_empty());
        assert_eq!(analyse("T", &[c, d], &s).len(), 1);
    }

    #[test]
    fn settings_reject_unknown_fields_and_bad_scores() {
        assert!(serde_json::from_str::<LinkSettings>(r#"{"score": 1}"#).is_err());
        let s: LinkSettings = serde_json::from_str(r#"{"agent_score": 1.5}"#).unwrap();
        assert!(s.validate().is_err());
        assert!(LinkSettings::default().validate().is_ok());
    }
}
