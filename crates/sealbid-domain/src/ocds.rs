//! Open data: tenders, bids, awards and contracts as Open Contracting Data Standard (OCDS 1.1)
//! releases, release packages and record packages, as JSON values.
//!
//! The builder depends on nothing above the domain: callers (the server, an export command) load
//! what they publish into the plain input structs of this module and pass them in.
//!
//! # What is published, and when
//!
//! A contracting process is one tender; its `ocid` is the configured prefix, `-` and the tender's
//! id (a UUID): `ocds-xxxxxx-0190c0de-…`. Every release carries `ocid`, a release `id` unique
//! within the process (`{ocid}-{stage}-{instant}`), `date` (RFC 3339 in China time, `+08:00`),
//! `tag` (one code of the closed releaseTag codelist), `initiationType: "tender"`, `language`,
//! `buyer` and `parties`. By [`ReleaseStage`]:
//!
//! | stage | tag | content |
//! |---|---|---|
//! | `Tender` (publication) | `tender` | the full `tender` |
//! | `TenderAmendment` | `tenderAmendment` | the full `tender` as amended |
//! | `TenderUpdate` (closed, failed, …) | `tenderUpdate` | the full `tender` |
//! | `TenderCancellation` | `tenderCancellation` | the full `tender` (status `cancelled`) |
//! | `Opening` | `tenderUpdate` | the full `tender` with `tenderers` and `numberOfTenderers`, and `bids.details[]` |
//! | `Award` | `award` | `tender` (`id`, `status`) and `awards[]` |
//! | `Contract` | `contract` | `tender` (`id`, `status`) and `contracts[]` |
//!
//! OCDS has no tag for bids: the opening's release is a `tenderUpdate`.
//!
//! # Field mapping
//!
//! - `tender.id` is the centre's tender code; `title`, `description`; `status` from [`TenderState`]
//!   into the closed tenderStatus codelist (see [`tender_status`]); `procurementMethod: "open"`;
//!   `mainProcurementCategory` from the category; `value` is the estimated price;
//!   `submissionMethod: ["electronicSubmission"]`; `tenderPeriod` from publication to the bid
//!   deadline; `awardCriteria` from the evaluation method (`priceOnly` for the lowest evaluated
//!   price, `ratedCriteria` for comprehensive scoring; an open codelist) with
//!   `awardCriteriaDetails` naming the Chinese method; `eligibilityCriteria` lists the
//!   qualification criteria, one per line; `documents[]` are the tender documents (`id` = SHA-256,
//!   `documentType: "biddingDocuments"`, `title` = file name).
//! - The **ceiling price** (最高投标限价) has no OCDS 1.1 core field (`tender.value` is the
//!   estimate, `minValue` a lower bound) and is therefore **not published** in this increment.
//! - Parties: `id` is `CN-SAIC-{credit code}`; `identifier` has scheme [`USCC_SCHEME`] (`CN-SAIC`,
//!   the org-id.guide list for China's business registration, under which the unified social
//!   credit code is the registration number; org-id.guide has no separate "USCC" list) and
//!   `additionalIdentifiers` carries the platform's organisation id (scheme [`PLATFORM_ORG_SCHEME`]).
//!   Roles: `buyer` (the tenderee), `procuringEntity` (the agency, or the tenderee itself when it
//!   runs the tender), `tenderer` (from the opening on, for every bidder a bid names — a
//!   withdrawn one too, so that every organisation reference resolves), `supplier` (from the award
//!   on). Each
//!   release lists every party known at its stage with all its roles then, so a compiled release
//!   (where `roles`, an array of strings, is replaced wholesale) keeps every role.
//! - Bids use the OCDS bid extension ([`BID_EXTENSION_URL`], declared in each package's
//!   `extensions`): `bids.details[]` with `id`, `date`, `status` (closed bidStatus codelist),
//!   `tenderers[]` and `value` (absent for a withdrawn bid, which was never opened).
//!   `numberOfTenderers` and `tender.tenderers` count the distinct bidders of bids not withdrawn.
//! - Amounts: `value.amount` is a JSON number made from the decimal text of the [`Money`] (never
//!   by f64 arithmetic), whole yuan as an integer; `currency` is `CNY` (money is in yuan).
//!   serde_json stores a fractional number as the nearest f64 and prints it as the shortest text
//!   that reads back to it, which for up to 15 significant digits is the decimal itself
//!   (`1234567.89` stays `1234567.89`; `12.50` prints `12.5`, the same value). A fractional amount
//!   of 16 or more significant digits (10^13 yuan and up, with fen) cannot be carried exactly
//!   and is refused with [`OcdsError::ImpreciseAmount`].
//!
//! # Compiled releases
//!
//! [`compile_releases`] merges a process's releases in date order by the OCDS merge rules as they
//! apply to the fields emitted here: objects merge field by field, a later value replaces an
//! earlier one, `null` removes a field, arrays of objects with `id` merge item by item by `id`
//! (identifier merge), `additionalIdentifiers`/`identifiers`/`additionalClassifications`
//! (`wholeListMerge` in the schema) and every other array are replaced whole; the compiled
//! release gets `tag: ["compiled"]`, the latest `date` and the id `{ocid}-{date}`. Versioned
//! releases are not produced.
use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Number, Value};

use crate::org::Organisation;
use crate::tender::{Category, EvaluationMethod, Tender, TenderState};
use crate::{BidId, CreditCode, Money, OrgId};

/// The OCDS version the packages declare.
pub const OCDS_VERSION: &str = "1.1";

/// Placeholder ocid prefix. A publisher registers its own `ocds-` + 6 characters prefix with the
/// Open Contracting Partnership before publishing; until then exports carry this placeholder.
pub const DEFAULT_OCID_PREFIX: &str = "ocds-xxxxxx";

/// The bid extension (v1.1.5, matching the core schema 1.1.5), by the URL of its `extension.json`.
pub const BID_EXTENSION_URL: &str =
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json";

/// org-id.guide list for organisations registered in China (the registration number is the
/// unified social credit code).
pub const USCC_SCHEME: &str = "CN-SAIC";

/// Scheme of the platform's internal organisation ids (`X-` marks a scheme not on org-id.guide).
pub const PLATFORM_ORG_SCHEME: &str = "X-SEALBID-ORG";

/// All money is in yuan.
pub const CURRENCY: &str = "CNY";

/// Who publishes, under which ocid prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcdsConfig {
    /// `ocds-` and 6 characters, registered with the Open Contracting Partnership.
    pub ocid_prefix: String,
    pub publisher: Publisher,
    /// ISO 639-1 language of the free text (titles, descriptions).
    pub language: String,
}

impl Default for OcdsConfig {
    fn default() -> Self {
        OcdsConfig {
            ocid_prefix: DEFAULT_OCID_PREFIX.to_string(),
            publisher: Publisher {
                name: "Sealbid".to_string(),
                uri: None,
            },
            language: "zh".to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publisher {
    pub name: String,
    pub uri: Option<String>,
}

/// The tender as published, with its buyer (the tenderee) and, when an agency runs it, the
/// procuring entity.
#[derive(Clone, Copy, Debug)]
pub struct OcdsTender<'a> {
    pub tender: &'a Tender,
    pub buyer: &'a Organisation,
    pub procuring_entity: Option<&'a Organisation>,
}

/// An organisation as OCDS needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcdsParty {
    pub org: OrgId,
    pub name: String,
    pub credit_code: CreditCode,
}

impl From<&Organisation> for OcdsParty {
    fn from(o: &Organisation) -> Self {
        OcdsParty {
            org: o.id,
            name: o.name.clone(),
            credit_code: o.credit_code.clone(),
        }
    }
}

impl OcdsParty {
    /// The party's id within a release: `CN-SAIC-{credit code}`.
    pub fn party_id(&self) -> String {
        format!("{USCC_SCHEME}-{}", self.credit_code.as_str())
    }
}

/// The closed bidStatus codelist of the bid extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcdsBidStatus {
    /// Submitted, not yet evaluated.
    Pending,
    Valid,
    Disqualified,
    /// Withdrawn by the bidder before the deadline: never opened, no price.
    Withdrawn,
}

impl OcdsBidStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OcdsBidStatus::Pending => "pending",
            OcdsBidStatus::Valid => "valid",
            OcdsBidStatus::Disqualified => "disqualified",
            OcdsBidStatus::Withdrawn => "withdrawn",
        }
    }
}

/// A bid after the opening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcdsBid {
    pub id: BidId,
    pub bidder: OcdsParty,
    /// The opened price; `None` for a withdrawn bid.
    pub value: Option<Money>,
    /// When the bid was submitted.
    pub date: DateTime<Utc>,
    pub status: OcdsBidStatus,
}

/// The closed awardStatus codelist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcdsAwardStatus {
    Pending,
    Active,
    Cancelled,
    Unsuccessful,
}

impl OcdsAwardStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OcdsAwardStatus::Pending => "pending",
            OcdsAwardStatus::Active => "active",
            OcdsAwardStatus::Cancelled => "cancelled",
            OcdsAwardStatus::Unsuccessful => "unsuccessful",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcdsAward {
    pub id: String,
    pub supplier: OcdsParty,
    pub value: Money,
    pub date: DateTime<Utc>,
    pub status: OcdsAwardStatus,
}

/// The closed contractStatus codelist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcdsContractStatus {
    Pending,
    Active,
    Cancelled,
    Terminated,
}

impl OcdsContractStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OcdsContractStatus::Pending => "pending",
            OcdsContractStatus::Active => "active",
            OcdsContractStatus::Cancelled => "cancelled",
            OcdsContractStatus::Terminated => "terminated",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcdsContract {
    pub id: String,
    /// The id of the award the contract implements (one of the process's awards).
    pub award_id: String,
    pub value: Money,
    pub date_signed: Option<DateTime<Utc>>,
    pub status: OcdsContractStatus,
}

/// Everything known of one contracting process. Bids, awards and contracts may be empty.
#[derive(Clone, Copy, Debug)]
pub struct OcdsProcess<'a> {
    pub tender: OcdsTender<'a>,
    pub bids: &'a [OcdsBid],
    pub awards: &'a [OcdsAward],
    pub contracts: &'a [OcdsContract],
}

impl<'a> OcdsProcess<'a> {
    /// A process with the tender only.
    pub fn tender_only(tender: OcdsTender<'a>) -> Self {
        OcdsProcess {
            tender,
            bids: &[],
            awards: &[],
            contracts: &[],
        }
    }
}

/// What a release reports. The order is the process's: a stage's release lists the parties
/// known at that stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReleaseStage {
    /// Publication of the tender notice.
    Tender,
    /// An amendment of the tender documents (法 23).
    TenderAmendment,
    /// Another change: the bidding closed, the tender failed, …
    TenderUpdate,
    TenderCancellation,
    /// The opening: bids and tenderers.
    Opening,
    /// The candidates' publication: each candidate as a `pending` award (tag `award`).
    Candidates,
    Award,
    Contract,
}

impl ReleaseStage {
    /// The releaseTag code.
    pub fn tag(&self) -> &'static str {
        match self {
            ReleaseStage::Tender => "tender",
            ReleaseStage::TenderAmendment => "tenderAmendment",
            ReleaseStage::TenderUpdate | ReleaseStage::Opening => "tenderUpdate",
            ReleaseStage::TenderCancellation => "tenderCancellation",
            ReleaseStage::Candidates | ReleaseStage::Award => "award",
            ReleaseStage::Contract => "contract",
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ReleaseStage::Tender => "tender",
            ReleaseStage::TenderAmendment => "amendment",
            ReleaseStage::TenderUpdate => "update",
            ReleaseStage::TenderCancellation => "cancellation",
            ReleaseStage::Opening => "opening",
            ReleaseStage::Candidates => "candidates",
            ReleaseStage::Award => "award",
            ReleaseStage::Contract => "contract",
        }
    }

    fn after_opening(&self) -> bool {
        *self >= ReleaseStage::Opening
    }

    fn after_award(&self) -> bool {
        *self >= ReleaseStage::Candidates
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcdsError {
    /// Drafts and tenders under review are not public.
    #[error("a tender that is {0} is not public and has no OCDS release")]
    NotPublic(TenderState),
    #[error("the amount {0} has more significant digits than a JSON number carries exactly")]
    ImpreciseAmount(String),
    #[error(
        "contract {contract} refers to award {award}, which is not among the process's awards"
    )]
    UnknownAward { contract: String, award: String },
    #[error("{0}")]
    Invalid(String),
}

impl OcdsError {
    pub fn code(&self) -> &'static str {
        match self {
            OcdsError::NotPublic(_) => "ocds_not_public",
            OcdsError::ImpreciseAmount(_) => "ocds_imprecise_amount",
            OcdsError::UnknownAward { .. } => "ocds_unknown_award",
            OcdsError::Invalid(_) => "ocds_invalid",
        }
    }
}

/// The process's ocid: prefix, `-`, tender id.
pub fn ocid(cfg: &OcdsConfig, tender: &Tender) -> String {
    format!("{}-{}", cfg.ocid_prefix, tender.id)
}

/// The tender's state in the closed tenderStatus codelist; `None` while it is not public.
///
/// Published, closed, opened, under evaluation and with candidates published: `active`;
/// awarded and completed: `complete`; failed (too few bids, all rejected): `unsuccessful`;
/// cancelled: `cancelled`.
pub fn tender_status(state: TenderState) -> Option<&'static str> {
    match state {
        TenderState::Draft | TenderState::UnderReview => None,
        TenderState::Published
        | TenderState::Closed
        | TenderState::Opened
        | TenderState::Evaluating
        | TenderState::CandidatesPublished => Some("active"),
        TenderState::Awarded | TenderState::Completed => Some("complete"),
        TenderState::Failed => Some("unsuccessful"),
        TenderState::Cancelled => Some("cancelled"),
    }
}

/// The tender's status as a release of `stage` reports it: what it was at that stage, so that a
/// release never changes once published, whatever the tender becomes. Publication, amendments, the
/// opening and the candidates' publication: `active`; a cancellation: `cancelled`; an update when the tender failed:
/// `unsuccessful` (otherwise `active`); the award and the contract: `complete`.
pub fn stage_status(stage: ReleaseStage, now: TenderState) -> &'static str {
    match stage {
        ReleaseStage::Tender
        | ReleaseStage::TenderAmendment
        | ReleaseStage::Opening
        | ReleaseStage::Candidates => "active",
        ReleaseStage::TenderCancellation => "cancelled",
        ReleaseStage::TenderUpdate if now == TenderState::Failed => "unsuccessful",
        ReleaseStage::TenderUpdate => "active",
        ReleaseStage::Award | ReleaseStage::Contract => "complete",
    }
}

/// The procurementCategory code.
pub fn procurement_category(c: Category) -> &'static str {
    match c {
        Category::Works => "works",
        Category::Goods => "goods",
        Category::Services => "services",
    }
}

/// The awardCriteria code (open codelist) and the details naming the method.
pub fn award_criteria(m: EvaluationMethod) -> (&'static str, &'static str) {
    match m {
        EvaluationMethod::LowestEvaluatedPrice => (
            "priceOnly",
            "经评审的最低投标价法 (lowest evaluated price, not below cost; 招标投标法 41(2))",
        ),
        EvaluationMethod::ComprehensiveScoring => (
            "ratedCriteria",
            "综合评估法 (comprehensive scoring; 招标投标法 41(1))",
        ),
    }
}

/// An OCDS date-time: RFC 3339, seconds, in China time (`+08:00`).
pub fn ocds_date(t: DateTime<Utc>) -> String {
    t.with_timezone(&crate::clock::china_tz())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A JSON number with exactly the money's value (see the module docs).
pub fn amount_number(m: &Money) -> Result<Number, OcdsError> {
    let fen = m.to_fen();
    if fen % 100 == 0 {
        return Ok(Number::from(fen / 100));
    }
    let text = m.to_string();
    let n = Number::from_str(&text).map_err(|_| OcdsError::ImpreciseAmount(text.clone()))?;
    // The number prints back as the decimal only if the f64 carried it exactly.
    match Money::parse(&n.to_string()) {
        Ok(back) if back == *m => Ok(n),
        _ => Err(OcdsError::ImpreciseAmount(text)),
    }
}

/// `{ "amount": …, "currency": "CNY" }`.
pub fn value_json(m: &Money) -> Result<Value, OcdsError> {
    Ok(json!({ "amount": Value::Number(amount_number(m)?), "currency": CURRENCY }))
}

fn org_ref(p: &OcdsParty) -> Value {
    json!({ "id": p.party_id(), "name": p.name })
}

/// Parties with their roles, in order of first appearance.
#[derive(Default)]
struct Parties {
    order: Vec<String>,
    by_id: BTreeMap<String, (OcdsParty, Vec<&'static str>)>,
}

impl Parties {
    fn add(&mut self, p: &OcdsParty, role: &'static str) {
        let id = p.party_id();
        let entry = self.by_id.entry(id.clone()).or_insert_with(|| {
            self.order.push(id);
            (p.clone(), Vec::new())
        });
        if !entry.1.contains(&role) {
            entry.1.push(role);
        }
    }

    fn into_json(self) -> Value {
        let mut by_id = self.by_id;
        Value::Array(
            self.order
                .iter()
                .filter_map(|id| by_id.remove(id))
                .map(|(p, roles)| {
                    json!({
                        "id": p.party_id(),
                        "name": p.name,
                        "identifier": {
                            "scheme": USCC_SCHEME,
                            "id": p.credit_code.as_str(),
                            "legalName": p.name,
                        },
                        "additionalIdentifiers": [
                            { "scheme": PLATFORM_ORG_SCHEME, "id": p.org.to_string() }
                        ],
                        "roles": roles,
                    })
                })
                .collect(),
        )
    }
}

/// Bids that were actually submitted and kept (not withdrawn).
fn standing_bids(bids: &[OcdsBid]) -> impl Iterator<Item = &OcdsBid> {
    bids.iter().filter(|b| b.status != OcdsBidStatus::Withdrawn)
}

/// Distinct bidders of the standing bids, in bid order.
fn tenderers(bids: &[OcdsBid]) -> Vec<&OcdsParty> {
    let mut out: Vec<&OcdsParty> = Vec::new();
    for b in standing_bids(bids) {
        if !out.iter().any(|p| p.party_id() == b.bidder.party_id()) {
            out.push(&b.bidder);
        }
    }
    out
}

fn parties_at(p: &OcdsProcess, stage: ReleaseStage) -> Value {
    let mut parties = Parties::default();
    let buyer = OcdsParty::from(p.tender.buyer);
    parties.add(&buyer, "buyer");
    let procuring = p
        .tender
        .procuring_entity
        .map(OcdsParty::from)
        .unwrap_or(buyer);
    parties.add(&procuring, "procuringEntity");
    if stage.after_opening() {
        // Every bidder a bid names, a withdrawn one included: each organisation reference in
        // `bids.details[].tenderers` resolves to a party.
        for b in p.bids {
            parties.add(&b.bidder, "tenderer");
        }
    }
    if stage.after_award() {
        for a in p.awards {
            parties.add(&a.supplier, "supplier");
        }
    }
    parties.into_json()
}

fn full_tender(p: &OcdsProcess, stage: ReleaseStage, status: &str) -> Result<Value, OcdsError> {
    let t = p.tender.tender;
    let terms = &t.terms;
    let procuring = p
        .tender
        .procuring_entity
        .map(OcdsParty::from)
        .unwrap_or_else(|| OcdsParty::from(p.tender.buyer));
    let (criteria, criteria_details) = award_criteria(terms.evaluation_method);
    let mut o = Map::new();
    o.insert("id".into(), json!(t.code.as_str()));
    o.insert("title".into(), json!(terms.title));
    if !terms.description.trim().is_empty() {
        o.insert("description".into(), json!(terms.description));
    }
    o.insert("status".into(), json!(status));
    o.insert("procuringEntity".into(), org_ref(&procuring));
    o.insert("value".into(), value_json(&terms.estimated_price)?);
    o.insert("procurementMethod".into(), json!("open"));
    o.insert(
        "mainProcurementCategory".into(),
        json!(procurement_category(terms.category)),
    );
    o.insert("awardCriteria".into(), json!(criteria));
    o.insert("awardCriteriaDetails".into(), json!(criteria_details));
    o.insert("submissionMethod".into(), json!(["electronicSubmission"]));
    let mut period = Map::new();
    if let Some(published) = t.published_at {
        period.insert("startDate".into(), json!(ocds_date(published)));
    }
    period.insert("endDate".into(), json!(ocds_date(terms.bid_deadline)));
    o.insert("tenderPeriod".into(), Value::Object(period));
    let criteria_text: Vec<&str> = terms
        .qualification_criteria
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    if !criteria_text.is_empty() {
        o.insert(
            "eligibilityCriteria".into(),
            json!(criteria_text.join("\n")),
        );
    }
    if !terms.documents.is_empty() {
        let docs: Vec<Value> = terms
            .documents
            .iter()
            .map(|d| {
                json!({
                    "id": d.sha256,
                    "documentType": "biddingDocuments",
                    "title": d.name,
                })
            })
            .collect();
        o.insert("documents".into(), Value::Array(docs));
    }
    if stage.after_opening() {
        let ts = tenderers(p.bids);
        o.insert("numberOfTenderers".into(), json!(ts.len()));
        o.insert(
            "tenderers".into(),
            Value::Array(ts.into_iter().map(org_ref).collect()),
        );
    }
    Ok(Value::Object(o))
}

fn bids_json(bids: &[OcdsBid]) -> Result<Value, OcdsError> {
    let mut details = Vec::with_capacity(bids.len());
    for b in bids {
        let mut o = Map::new();
        o.insert("id".into(), json!(b.id.to_string()));
        o.insert("date".into(), json!(ocds_date(b.date)));
        o.insert("status".into(), json!(b.status.as_str()));
        o.insert("tenderers".into(), json!([org_ref(&b.bidder)]));
        match (&b.value, b.status) {
            (Some(v), s) if s != OcdsBidStatus::Withdrawn => {
                o.insert("value".into(), value_json(v)?);
            }
            _ => {}
        }
        details.push(Value::Object(o));
    }
    Ok(json!({ "details": details }))
}

fn awards_json(awards: &[OcdsAward]) -> Result<Value, OcdsError> {
    let mut out = Vec::with_capacity(awards.len());
    for a in awards {
        out.push(json!({
            "id": a.id,
            "status": a.status.as_str(),
            "date": ocds_date(a.date),
            "value": value_json(&a.value)?,
            "suppliers": [org_ref(&a.supplier)],
        }));
    }
    Ok(Value::Array(out))
}

fn contracts_json(p: &OcdsProcess) -> Result<Value, OcdsError> {
    let mut out = Vec::with_capacity(p.contracts.len());
    for c in p.contracts {
        if !p.awards.iter().any(|a| a.id == c.award_id) {
            return Err(OcdsError::UnknownAward {
                contract: c.id.clone(),
                award: c.award_id.clone(),
            });
        }
        let mut o = Map::new();
        o.insert("id".into(), json!(c.id));
        o.insert("awardID".into(), json!(c.award_id));
        o.insert("status".into(), json!(c.status.as_str()));
        o.insert("value".into(), value_json(&c.value)?);
        if let Some(d) = c.date_signed {
            o.insert("dateSigned".into(), json!(ocds_date(d)));
        }
        out.push(Value::Object(o));
    }
    Ok(Value::Array(out))
}

fn check_ids(p: &OcdsProcess) -> Result<(), OcdsError> {
    let unique = |ids: Vec<String>, what: &str| -> Result<(), OcdsError> {
        let mut seen = std::collections::BTreeSet::new();
        for id in ids {
            if id.trim().is_empty() {
                return Err(OcdsError::Invalid(format!("a {what} id is empty")));
            }
            if !seen.insert(id.clone()) {
                return Err(OcdsError::Invalid(format!("{what} id {id} appears twice")));
            }
        }
        Ok(())
    };
    unique(p.bids.iter().map(|b| b.id.to_string()).collect(), "bid")?;
    unique(p.awards.iter().map(|a| a.id.clone()).collect(), "award")?;
    unique(
        p.contracts.iter().map(|c| c.id.clone()).collect(),
        "contract",
    )
}

/// One release of the process at `stage`, dated `at`.
pub fn build_release(
    cfg: &OcdsConfig,
    p: &OcdsProcess,
    stage: ReleaseStage,
    at: DateTime<Utc>,
) -> Result<Value, OcdsError> {
    let t = p.tender.tender;
    tender_status(t.state).ok_or(OcdsError::NotPublic(t.state))?;
    let status = stage_status(stage, t.state);
    check_ids(p)?;
    let ocid = ocid(cfg, t);
    let mut r = Map::new();
    r.insert("ocid".into(), json!(ocid));
    r.insert(
        "id".into(),
        json!(format!(
            "{ocid}-{}-{}",
            stage.slug(),
            at.format("%Y%m%dT%H%M%S%.3fZ")
        )),
    );
    r.insert("date".into(), json!(ocds_date(at)));
    r.insert("tag".into(), json!([stage.tag()]));
    r.insert("initiationType".into(), json!("tender"));
    r.insert("language".into(), json!(cfg.language));
    r.insert("parties".into(), parties_at(p, stage));
    r.insert("buyer".into(), org_ref(&OcdsParty::from(p.tender.buyer)));
    match stage {
        ReleaseStage::Tender
        | ReleaseStage::TenderAmendment
        | ReleaseStage::TenderUpdate
        | ReleaseStage::TenderCancellation
        | ReleaseStage::Opening => {
            r.insert("tender".into(), full_tender(p, stage, status)?);
        }
        ReleaseStage::Candidates | ReleaseStage::Award | ReleaseStage::Contract => {
            r.insert(
                "tender".into(),
                json!({ "id": t.code.as_str(), "status": status }),
            );
        }
    }
    match stage {
        ReleaseStage::Opening => {
            r.insert("bids".into(), bids_json(p.bids)?);
        }
        ReleaseStage::Candidates | ReleaseStage::Award => {
            r.insert("awards".into(), awards_json(p.awards)?);
        }
        ReleaseStage::Contract => {
            r.insert("contracts".into(), contracts_json(p)?);
        }
        _ => {}
    }
    Ok(Value::Object(r))
}

/// The publication release (`tender`).
pub fn tender_release(
    cfg: &OcdsConfig,
    tender: OcdsTender,
    at: DateTime<Utc>,
) -> Result<Value, OcdsError> {
    build_release(
        cfg,
        &OcdsProcess::tender_only(tender),
        ReleaseStage::Tender,
        at,
    )
}

/// The opening's release (`tenderUpdate` with `bids.details`).
pub fn opening_release(
    cfg: &OcdsConfig,
    tender: OcdsTender,
    bids: &[OcdsBid],
    at: DateTime<Utc>,
) -> Result<Value, OcdsError> {
    let p = OcdsProcess {
        bids,
        ..OcdsProcess::tender_only(tender)
    };
    build_release(cfg, &p, ReleaseStage::Opening, at)
}

fn package_head(cfg: &OcdsConfig, uri: &str, published: DateTime<Utc>) -> Map<String, Value> {
    let mut publisher = Map::new();
    publisher.insert("name".into(), json!(cfg.publisher.name));
    if let Some(u) = &cfg.publisher.uri {
        publisher.insert("uri".into(), json!(u));
    }
    let mut o = Map::new();
    o.insert("uri".into(), json!(uri));
    o.insert("publishedDate".into(), json!(ocds_date(published)));
    o.insert("publisher".into(), Value::Object(publisher));
    o.insert("version".into(), json!(OCDS_VERSION));
    o.insert("extensions".into(), json!([BID_EXTENSION_URL]));
    o
}

/// A release package of `releases`, published at `uri`.
pub fn release_package(
    cfg: &OcdsConfig,
    uri: &str,
    published: DateTime<Utc>,
    releases: Vec<Value>,
) -> Value {
    let mut o = package_head(cfg, uri, published);
    o.insert("releases".into(), Value::Array(releases));
    Value::Object(o)
}

/// A record package: one record per ocid (in order of first appearance) with its releases (in
/// date order) and its compiled release.
pub fn record_package(
    cfg: &OcdsConfig,
    uri: &str,
    published: DateTime<Utc>,
    releases: Vec<Value>,
) -> Result<Value, OcdsError> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in releases {
        let ocid = r
            .get("ocid")
            .and_then(Value::as_str)
            .ok_or_else(|| OcdsError::Invalid("a release has no ocid".into()))?
            .to_string();
        if !groups.contains_key(&ocid) {
            order.push(ocid.clone());
        }
        groups.entry(ocid).or_default().push(r);
    }
    let mut records = Vec::with_capacity(order.len());
    for ocid in order {
        let mut rs = groups.remove(&ocid).unwrap_or_default();
        sort_by_date(&mut rs);
        let compiled = compile_releases(&rs)?;
        records.push(json!({ "ocid": ocid, "releases": rs, "compiledRelease": compiled }));
    }
    let mut o = package_head(cfg, uri, published);
    o.insert("records".into(), Value::Array(records));
    Ok(Value::Object(o))
}

/// The release's date as an instant, for ordering.
fn release_instant(r: &Value) -> Option<DateTime<chrono::FixedOffset>> {
    r.get("date")
        .and_then(Value::as_str)
        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
}

fn sort_by_date(rs: &mut [Value]) {
    // Stable: releases with the same date keep their order.
    rs.sort_by_key(release_instant);
}

/// Arrays the schema marks `wholeListMerge`: replaced, not merged by id.
const WHOLE_LIST_MERGE: [&str; 3] = [
    "additionalIdentifiers",
    "identifiers",
    "additionalClassifications",
];

fn merge_value(target: &mut Value, src: &Value, key: &str) {
    match (target, src) {
        (Value::Object(t), Value::Object(s)) => merge_object(t, s),
        (Value::Array(t), Value::Array(s))
            if !WHOLE_LIST_MERGE.contains(&key)
                && !s.is_empty()
                && s.iter().all(|i| i.get("id").is_some()) =>
        {
            for item in s {
                let id = item.get("id");
                match t.iter_mut().find(|x| x.get("id") == id) {
                    Some(existing) => merge_value(existing, item, ""),
                    None => t.push(strip_nulls(item)),
                }
            }
        }
        (t, s) => *t = strip_nulls(s),
    }
}

fn merge_object(t: &mut Map<String, Value>, s: &Map<String, Value>) {
    for (k, v) in s {
        if v.is_null() {
            t.remove(k);
        } else if let Some(existing) = t.get_mut(k) {
            merge_value(existing, v, k);
        } else {
            t.insert(k.clone(), strip_nulls(v));
        }
    }
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// The compiled release of one process's releases (see the module docs for the merge rules).
pub fn compile_releases(releases: &[Value]) -> Result<Value, OcdsError> {
    let mut rs: Vec<&Value> = releases.iter().collect();
    rs.sort_by_key(|r| release_instant(r));
    let first = rs
        .first()
        .ok_or_else(|| OcdsError::Invalid("no releases to compile".into()))?;
    let ocid = first
        .get("ocid")
        .and_then(Value::as_str)
        .ok_or_else(|| OcdsError::Invalid("a release has no ocid".into()))?
        .to_string();
    let mut compiled = Map::new();
    let mut date = String::new();
    for r in &rs {
        let Value::Object(m) = r else {
            return Err(OcdsError::Invalid("a release is not a JSON object".into()));
        };
        if m.get("ocid").and_then(Value::as_str) != Some(ocid.as_str()) {
            return Err(OcdsError::Invalid(
                "releases of different ocids cannot be compiled together".into(),
            ));
        }
        if let Some(d) = m.get("date").and_then(Value::as_str) {
            date = d.to_string();
        }
        let fields: Map<String, Value> = m
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "id" | "date" | "tag"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        merge_object(&mut compiled, &fields);
    }
    let mut out = Map::new();
    out.insert("ocid".into(), json!(ocid));
    out.insert("id".into(), json!(format!("{ocid}-{date}")));
    out.insert("date".into(), json!(date));
    out.insert("tag".into(), json!(["compiled"]));
    for (k, v) in compiled {
        if k != "ocid" {
            out.insert(k, v);
        }
    }
    Ok(Value::Object(out))
}

/// Compiled releases, one JSON object per line (JSON Lines), in the record package's order: the
/// input of `sealbid screen --ocds`.
pub fn compiled_releases_jsonl(record_package: &Value) -> Result<String, OcdsError> {
    let records = record_package
        .get("records")
        .and_then(Value::as_array)
        .ok_or_else(|| OcdsError::Invalid("not a record package".into()))?;
    let mut out = String::new();
    for r in records {
        let c = r
            .get("compiledRelease")
            .ok_or_else(|| OcdsError::Invalid("a record has no compiledRelease".into()))?;
        out.push_str(&c.to_string());
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::credit_code::complete_credit_code;
    use crate::org::OrgKind;
    use crate::tender::{CommitteePolicy, TenderCode, TenderDocument, TenderTerms};
    use crate::{DivisionCode, TenderId, UserId};
    use chrono::{Duration, TimeZone};
    use uuid::Uuid;

    /// An instant given in China time.
    fn cn(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().unwrap() - Duration::hours(8)
    }

    fn money(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn org(n: u128, first17: &str, name: &str, kind: OrgKind) -> Organisation {
        Organisation {
            id: OrgId(Uuid::from_u128(n)),
            credit_code: complete_credit_code(first17).unwrap(),
            name: name.to_string(),
            kind,
            hall: DivisionCode::parse("370200").unwrap(),
            created_at: cn(2024, 1, 2, 9, 0),
        }
    }

    fn buyer() -> Organisation {
        org(
            0xb1,
            "11370200MB1234567",
            "青岛市市南区城市管理局",
            OrgKind::Tenderee,
        )
    }

    fn agency() -> Organisation {
        org(
            0xa1,
            "91370200MA3C12345",
            "青岛海联招标代理有限公司",
            OrgKind::Agency,
        )
    }

    fn bidders() -> Vec<Organisation> {
        vec![
            org(
                0xc1,
                "91370200MA3D00001",
                "青岛路桥建设集团有限公司",
                OrgKind::Bidder,
            ),
            org(
                0xc2,
                "91370200MA3D00002",
                "山东海岸市政工程有限公司",
                OrgKind::Bidder,
            ),
            org(
                0xc3,
                "91370200MA3D00003",
                "青岛城建沥青工程有限公司",
                OrgKind::Bidder,
            ),
            org(
                0xc4,
                "91370200MA3D00004",
                "胶州湾道路养护有限公司",
                OrgKind::Bidder,
            ),
        ]
    }

    fn tender(state: TenderState) -> Tender {
        let deadline = cn(2025, 4, 10, 9, 30);
        Tender {
            id: TenderId(Uuid::from_u128(0x7e_0001)),
            code: TenderCode::parse("QD-2025-GC-0001").unwrap(),
            hall: DivisionCode::parse("370200").unwrap(),
            org: OrgId(Uuid::from_u128(0xb1)),
            created_by: UserId(Uuid::from_u128(1)),
            terms: TenderTerms {
                title: "香港路（市南区段）路面修复工程".to_string(),
                description: "铣刨及沥青罩面，3.2 公里，含标线。".to_string(),
                category: Category::Works,
                mandatory: true,
                estimated_price: money("1234567.89"),
                ceiling_price: Some(money("1300000.00")),
                bid_deposit: money("20000.00"),
                documents: vec![TenderDocument {
                    name: "招标文件.pdf".to_string(),
                    sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                        .to_string(),
                    size: 1_234_567,
                }],
                bid_deadline: deadline,
                opening_time: deadline,
                evaluation_method: EvaluationMethod::ComprehensiveScoring,
                qualification_criteria: vec![
                    "市政公用工程施工总承包二级及以上资质".to_string(),
                    "近三年无重大安全事故".to_string(),
                ],
                committee: CommitteePolicy::default(),
            },
            state,
            version: 7,
            created_at: cn(2025, 3, 3, 9, 0),
            submitted_at: Some(cn(2025, 3, 3, 10, 0)),
            review_due: Some(cn(2025, 3, 6, 10, 0)),
            last_return: None,
            published_at: state.is_public().then(|| cn(2025, 3, 5, 10, 0)),
            closed_at: None,
            opened_at: None,
            ended_at: None,
            end_reason: None,
        }
    }

    fn bids() -> Vec<OcdsBid> {
        let b = bidders();
        let bid = |i: usize, n: u128, price: Option<&str>, day: u32, status| OcdsBid {
            id: BidId(Uuid::from_u128(n)),
            bidder: OcdsParty::from(&b[i]),
            value: price.map(money),
            date: cn(2025, 4, day, 15, 0),
            status,
        };
        vec![
            bid(0, 0xd1, Some("1180000.00"), 7, OcdsBidStatus::Valid),
            bid(1, 0xd2, Some("1199999.50"), 8, OcdsBidStatus::Valid),
            bid(2, 0xd3, Some("1234567.89"), 9, OcdsBidStatus::Disqualified),
            bid(3, 0xd4, None, 3, OcdsBidStatus::Withdrawn),
        ]
    }

    fn award() -> OcdsAward {
        OcdsAward {
            id: "QD-2025-GC-0001-A1".to_string(),
            supplier: OcdsParty::from(&bidders()[0]),
            value: money("1180000.00"),
            date: cn(2025, 4, 25, 10, 0),
            status: OcdsAwardStatus::Active,
        }
    }

    fn contract() -> OcdsContract {
        OcdsContract {
            id: "QD-2025-GC-0001-C1".to_string(),
            award_id: "QD-2025-GC-0001-A1".to_string(),
            value: money("1180000.00"),
            date_signed: Some(cn(2025, 5, 12, 14, 0)),
            status: OcdsContractStatus::Active,
        }
    }

    fn cfg() -> OcdsConfig {
        OcdsConfig {
            publisher: Publisher {
                name: "青岛市公共资源交易中心 (Sealbid)".to_string(),
                uri: Some("https://sealbid.example.cn".to_string()),
            },
            ..OcdsConfig::default()
        }
    }

    fn roles_of<'v>(release: &'v Value, party_id: &str) -> Vec<&'v str> {
        release["parties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == party_id)
            .map(|p| {
                p["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every release of the sample process, each built from the tender as it stood then.
    fn sample_releases() -> Vec<Value> {
        let (b, a) = (buyer(), agency());
        let (bids, awards, contracts) = (bids(), vec![award()], vec![contract()]);
        let at = |state: TenderState| tender(state);
        let published = at(TenderState::Published);
        let opened = at(TenderState::Opened);
        let awarded = at(TenderState::Awarded);
        let completed = at(TenderState::Completed);
        let ot = |t| OcdsTender {
            tender: t,
            buyer: &b,
            procuring_entity: Some(&a),
        };
        let process = |t, bids, awards, contracts| OcdsProcess {
            tender: ot(t),
            bids,
            awards,
            contracts,
        };
        vec![
            tender_release(&cfg(), ot(&published), cn(2025, 3, 5, 10, 0)).unwrap(),
            opening_release(&cfg(), ot(&opened), &bids, cn(2025, 4, 10, 9, 30)).unwrap(),
            build_release(
                &cfg(),
                &process(&awarded, &bids, &awards, &[]),
                ReleaseStage::Award,
                cn(2025, 4, 25, 10, 0),
            )
            .unwrap(),
            build_release(
                &cfg(),
                &process(&completed, &bids, &awards, &contracts),
                ReleaseStage::Contract,
                cn(2025, 5, 12, 14, 0),
            )
            .unwrap(),
        ]
    }

    const PACKAGE_URI: &str = "https://sealbid.example.cn/ocds/QD-2025-GC-0001";

    fn sample_packages() -> (Value, Value, String) {
        let rs = sample_releases();
        let published = cn(2025, 5, 12, 18, 0);
        let rp = release_package(
            &cfg(),
            &format!("{PACKAGE_URI}/releases.json"),
            published,
            rs.clone(),
        );
        let rec =
            record_package(&cfg(), &format!("{PACKAGE_URI}/record.json"), published, rs).unwrap();
        let jsonl = compiled_releases_jsonl(&rec).unwrap();
        (rp, rec, jsonl)
    }

    fn fixture_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ocds")
    }

    fn pretty(v: &Value) -> String {
        serde_json::to_string_pretty(v).unwrap() + "\n"
    }

    #[test]
    fn a_published_tender_makes_a_tender_release() {
        let (b, t) = (buyer(), tender(TenderState::Published));
        let ot = OcdsTender {
            tender: &t,
            buyer: &b,
            procuring_entity: None,
        };
        let r = tender_release(&cfg(), ot, cn(2025, 3, 5, 10, 0)).unwrap();
        for k in ["ocid", "id", "date", "tag", "initiationType"] {
            assert!(r.get(k).is_some(), "required field {k} missing");
        }
        let ocid = r["ocid"].as_str().unwrap();
        let rest = ocid.strip_prefix("ocds-xxxxxx-").unwrap();
        assert_eq!(Uuid::parse_str(rest).unwrap(), t.id.0);
        assert!(r["id"].as_str().unwrap().starts_with(ocid));
        assert_eq!(r["date"], "2025-03-05T10:00:00+08:00");
        assert_eq!(r["tag"], json!(["tender"]));
        assert_eq!(r["initiationType"], "tender");
        let td = &r["tender"];
        assert_eq!(td["id"], "QD-2025-GC-0001");
        assert_eq!(td["status"], "active");
        assert_eq!(td["procurementMethod"], "open");
        assert_eq!(td["mainProcurementCategory"], "works");
        assert_eq!(td["awardCriteria"], "ratedCriteria");
        assert_eq!(
            td["value"],
            json!({ "amount": 1234567.89, "currency": "CNY" })
        );
        assert_eq!(
            td["tenderPeriod"],
            json!({ "startDate": "2025-03-05T10:00:00+08:00", "endDate": "2025-04-10T09:30:00+08:00" })
        );
        assert_eq!(td["documents"][0]["documentType"], "biddingDocuments");
        assert!(td["eligibilityCriteria"].as_str().unwrap().contains('\n'));
        // No invented fields: the ceiling price has no core field.
        assert!(td.get("maxValue").is_none() && td.get("ceilingPrice").is_none());
        // Before the opening: no bids, no tenderers.
        assert!(r.get("bids").is_none() && td.get("numberOfTenderers").is_none());
        // The tenderee runs the tender itself: one party, both roles.
        let buyer_id = format!("CN-SAIC-{}", b.credit_code.as_str());
        assert_eq!(r["parties"].as_array().unwrap().len(), 1);
        assert_eq!(roles_of(&r, &buyer_id), ["buyer", "procuringEntity"]);
        assert_eq!(r["parties"][0]["identifier"]["scheme"], "CN-SAIC");
        assert_eq!(r["buyer"]["id"], buyer_id.as_str());
        assert_eq!(td["procuringEntity"]["id"], buyer_id.as_str());
    }

    #[test]
    fn drafts_have_no_release() {
        let (b, t) = (buyer(), tender(TenderState::UnderReview));
        let ot = OcdsTender {
            tender: &t,
            buyer: &b,
            procuring_entity: None,
        };
        let err = tender_release(&cfg(), ot, cn(2025, 3, 5, 10, 0)).unwrap_err();
        assert_eq!(err, OcdsError::NotPublic(TenderState::UnderReview));
        assert_eq!(tender_status(TenderState::Draft), None);
    }

    #[test]
    fn states_map_to_the_closed_tender_status_codelist() {
        let allowed = [
            "planning",
            "planned",
            "active",
            "cancelled",
            "unsuccessful",
            "complete",
            "withdrawn",
        ];
        for s in TenderState::ALL {
            if let Some(code) = tender_status(s) {
                assert!(allowed.contains(&code), "{s}: {code}");
            } else {
                assert!(!s.is_public());
            }
        }
        assert_eq!(tender_status(TenderState::Failed), Some("unsuccessful"));
        assert_eq!(tender_status(TenderState::Awarded), Some("complete"));
    }

    #[test]
    fn a_cancelled_tender() {
        let (b, a) = (buyer(), agency());
        let t = tender(TenderState::Cancelled);
        let p = OcdsProcess::tender_only(OcdsTender {
            tender: &t,
            buyer: &b,
            procuring_entity: Some(&a),
        });
        let r = build_release(
            &cfg(),
            &p,
            ReleaseStage::TenderCancellation,
            cn(2025, 3, 20, 11, 0),
        )
        .unwrap();
        assert_eq!(r["tag"], json!(["tenderCancellation"]));
        assert_eq!(r["tender"]["status"], "cancelled");
        assert!(r["id"].as_str().unwrap().contains("-cancellation-"));
    }

    #[test]
    fn a_release_reports_the_status_of_its_stage_not_todays() {
        // Built from the tender as it is now (completed, or cancelled after the opening), each
        // release still says what the tender was at its stage: published releases never change.
        let (b, a) = (buyer(), agency());
        let bids = bids();
        for now in [
            TenderState::Completed,
            TenderState::Cancelled,
            TenderState::Failed,
        ] {
            let t = tender(now);
            let p = OcdsProcess {
                bids: &bids,
                ..OcdsProcess::tender_only(OcdsTender {
                    tender: &t,
                    buyer: &b,
                    procuring_entity: Some(&a),
                })
            };
            let status = |stage| {
                build_release(&cfg(), &p, stage, cn(2025, 3, 5, 10, 0)).unwrap()["tender"]["status"]
                    .clone()
            };
            assert_eq!(status(ReleaseStage::Tender), "active", "{now:?}");
            assert_eq!(status(ReleaseStage::TenderAmendment), "active");
            assert_eq!(status(ReleaseStage::Opening), "active");
            assert_eq!(status(ReleaseStage::Candidates), "active");
            assert_eq!(status(ReleaseStage::TenderCancellation), "cancelled");
            let update = if now == TenderState::Failed {
                "unsuccessful"
            } else {
                "active"
            };
            assert_eq!(status(ReleaseStage::TenderUpdate), update);
        }
    }

    #[test]
    fn the_opening_publishes_the_bids_and_their_tenderers() {
        let (b, a, t) = (buyer(), agency(), tender(TenderState::Opened));
        let ot = OcdsTender {
            tender: &t,
            buyer: &b,
            procuring_entity: Some(&a),
        };
        let all = bids();
        let three = &all[..3];
        let r = opening_release(&cfg(), ot, three, cn(2025, 4, 10, 9, 30)).unwrap();
        assert_eq!(r["tag"], json!(["tenderUpdate"]));
        let details = r["bids"]["details"].as_array().unwrap();
        assert_eq!(details.len(), 3);
        assert_eq!(r["tender"]["numberOfTenderers"], 3);
        assert_eq!(r["tender"]["tenderers"].as_array().unwrap().len(), 3);
        for d in details {
            let tid = d["tenderers"][0]["id"].as_str().unwrap();
            assert_eq!(roles_of(&r, tid), ["tenderer"], "{tid}");
            assert!(["valid", "disqualified"].contains(&d["status"].as_str().unwrap()));
            assert_eq!(d["value"]["currency"], "CNY");
        }
        assert_eq!(details[1]["value"]["amount"], json!(1199999.5));
        assert_eq!(
            roles_of(&r, &format!("CN-SAIC-{}", a.credit_code)),
            ["procuringEntity"]
        );
        assert_eq!(
            roles_of(&r, &format!("CN-SAIC-{}", b.credit_code)),
            ["buyer"]
        );

        // A withdrawn bid is listed without a price and counts for nothing.
        let r = opening_release(&cfg(), ot, &all, cn(2025, 4, 10, 9, 30)).unwrap();
        let details = r["bids"]["details"].as_array().unwrap();
        assert_eq!(details.len(), 4);
        assert_eq!(details[3]["status"], "withdrawn");
        assert!(details[3].get("value").is_none());
        assert_eq!(r["tender"]["numberOfTenderers"], 3);
        // Its bidder is still a party, so the reference resolves.
        let withdrawn_id = details[3]["tenderers"][0]["id"].as_str().unwrap();
        assert_eq!(roles_of(&r, withdrawn_id), ["tenderer"]);
    }

    #[test]
    fn the_compiled_record_merges_bids_awards_and_contracts() {
        let rs = sample_releases();
        let rec = record_package(&cfg(), PACKAGE_URI, cn(2025, 5, 12, 18, 0), rs.clone()).unwrap();
        let records = rec["records"].as_array().unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0]["releases"].as_array().unwrap().len(), 4);
        let c = &records[0]["compiledRelease"];
        assert_eq!(c["tag"], json!(["compiled"]));
        assert_eq!(c["date"], "2025-05-12T14:00:00+08:00");
        assert_eq!(
            c["id"],
            format!("{}-2025-05-12T14:00:00+08:00", c["ocid"].as_str().unwrap())
        );
        // From the tender release, kept; the status from the last release.
        assert_eq!(c["tender"]["title"], "香港路（市南区段）路面修复工程");
        assert_eq!(c["tender"]["status"], "complete");
        assert_eq!(c["tender"]["numberOfTenderers"], 3);
        assert_eq!(c["bids"]["details"].as_array().unwrap().len(), 4);
        assert_eq!(c["awards"].as_array().unwrap().len(), 1);
        assert_eq!(c["contracts"][0]["awardID"], c["awards"][0]["id"]);
        // Buyer, agency and four bidders (the withdrawn one too: every reference resolves).
        assert_eq!(c["parties"].as_array().unwrap().len(), 6);
        let winner = format!("CN-SAIC-{}", bidders()[0].credit_code);
        assert_eq!(roles_of(c, &winner), ["tenderer", "supplier"]);
        assert_eq!(c["awards"][0]["suppliers"][0]["id"], winner.as_str());
        // Releases are merged in date order whatever their order in the input.
        let mut reversed = rs.clone();
        reversed.reverse();
        assert_eq!(compile_releases(&reversed).unwrap(), *c);
    }

    #[test]
    fn merge_rules() {
        let r1 = json!({"ocid": "o", "id": "1", "date": "2025-01-01T00:00:00+08:00", "tag": ["tender"],
            "tender": {"id": "t", "title": "a", "description": "d"},
            "parties": [{"id": "p1", "roles": ["buyer"], "additionalIdentifiers": [{"scheme": "X", "id": "1"}, {"scheme": "Y", "id": "2"}]}]});
        let r2 = json!({"ocid": "o", "id": "2", "date": "2025-01-02T00:00:00+08:00", "tag": ["tenderUpdate"],
            "tender": {"title": "b", "description": null},
            "parties": [{"id": "p2", "roles": ["tenderer"]}, {"id": "p1", "roles": ["buyer", "payer"], "additionalIdentifiers": [{"scheme": "Z", "id": "1"}]}]});
        let c = compile_releases(&[r2, r1]).unwrap();
        assert_eq!(c["tender"], json!({"id": "t", "title": "b"}));
        assert_eq!(c["parties"][0]["roles"], json!(["buyer", "payer"]));
        assert_eq!(
            c["parties"][0]["additionalIdentifiers"],
            json!([{"scheme": "Z", "id": "1"}])
        );
        assert_eq!(c["parties"][1]["id"], "p2");
        assert_eq!(c["tag"], json!(["compiled"]));
        assert!(compile_releases(&[]).is_err());
    }

    #[test]
    fn amounts_keep_their_cents_exactly() {
        let n = |s: &str| amount_number(&money(s)).unwrap().to_string();
        assert_eq!(n("1234567.89"), "1234567.89");
        assert_eq!(n("0.01"), "0.01");
        assert_eq!(n("0.07"), "0.07");
        assert_eq!(n("0.30"), "0.3");
        assert_eq!(n("1000000.00"), "1000000");
        assert_eq!(n("9999999999999.99"), "9999999999999.99");
        assert_eq!(n("999999999999999.00"), "999999999999999");
        // Money::MAX has 17 significant digits with fen: refused rather than rounded.
        assert!(matches!(
            amount_number(&Money::MAX),
            Err(OcdsError::ImpreciseAmount(_))
        ));
        let v = value_json(&money("1234567.89")).unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"amount":1234567.89,"currency":"CNY"}"#
        );
    }

    #[test]
    fn contracts_must_name_an_award() {
        let (b, t) = (buyer(), tender(TenderState::Completed));
        let mut c = contract();
        c.award_id = "nope".into();
        let p = OcdsProcess {
            tender: OcdsTender {
                tender: &t,
                buyer: &b,
                procuring_entity: None,
            },
            bids: &[],
            awards: &[award()],
            contracts: std::slice::from_ref(&c),
        };
        let err =
            build_release(&cfg(), &p, ReleaseStage::Contract, cn(2025, 5, 1, 9, 0)).unwrap_err();
        assert_eq!(err.code(), "ocds_unknown_award");
    }

    #[test]
    fn release_ids_are_unique_within_the_process() {
        let rs = sample_releases();
        let ids: std::collections::BTreeSet<&str> =
            rs.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), rs.len());
        let ocids: std::collections::BTreeSet<&str> =
            rs.iter().map(|r| r["ocid"].as_str().unwrap()).collect();
        assert_eq!(ocids.len(), 1);
    }

    #[test]
    fn the_release_package_declares_the_bid_extension() {
        let (rp, rec, jsonl) = sample_packages();
        for p in [&rp, &rec] {
            assert_eq!(p["version"], "1.1");
            assert_eq!(p["extensions"], json!([BID_EXTENSION_URL]));
            assert_eq!(p["publishedDate"], "2025-05-12T18:00:00+08:00");
            assert!(p["publisher"]["name"].as_str().is_some());
        }
        assert_eq!(rp["releases"].as_array().unwrap().len(), 4);
        assert_eq!(jsonl.lines().count(), 1);
        let line: Value = serde_json::from_str(jsonl.trim_end()).unwrap();
        assert_eq!(line, rec["records"][0]["compiledRelease"]);
    }

    /// The committed fixtures are what the builder makes (regenerate with
    /// `cargo test -p sealbid-domain ocds::tests::write_sample_fixtures -- --ignored`), so the file
    /// `tools/ocds/validate.sh` checks is the builder's output.
    #[test]
    fn fixtures_are_up_to_date() {
        let (rp, rec, jsonl) = sample_packages();
        let dir = fixture_dir();
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
                panic!("{name}: {e}; run the ignored test write_sample_fixtures")
            })
        };
        assert_eq!(read("sample-release-package.json"), pretty(&rp));
        assert_eq!(read("sample-record-package.json"), pretty(&rec));
        assert_eq!(read("sample-compiled-releases.jsonl"), jsonl);
    }

    #[test]
    #[ignore = "writes tests/fixtures/ocds/; run on purpose to regenerate the fixtures"]
    fn write_sample_fixtures() {
        let (rp, rec, jsonl) = sample_packages();
        let dir = fixture_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("sample-release-package.json"), pretty(&rp)).unwrap();
        std::fs::write(dir.join("sample-record-package.json"), pretty(&rec)).unwrap();
        std::fs::write(dir.join("sample-compiled-releases.jsonl"), jsonl).unwrap();
    }
}
