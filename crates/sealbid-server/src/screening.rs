//! The anomaly engine on the platform: screening an opened tender (automatically at the opening,
//! and on demand), storing the result and the alerts, and the supervisors' review of the alerts with
//! what a confirmation does (bids marked for rejection, the bidders' credit records).
//!
//! A screening reads only what the opening made public: each valid bid's price total, its bill of
//! quantities (decrypted with the price envelope's published file key) and the deposit payers'
//! accounts. The market context — every other screened tender's bids — comes from the stored
//! screenings, so fences, the classifier's market normalisation and the cross-tender detectors see
//! the whole market without reopening anything. Re-running is idempotent: alerts are keyed by their
//! fingerprint and a stored alert (and its review) is never replaced.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::org::User;
use sealbid_domain::screening::{AlertStatus, ReviewAction, ReviewStep};
use sealbid_domain::tender::{Tender, TenderState};
use sealbid_domain::{AlertId, OrgId, TenderId};
use sealbid_screen::alert::{Alert, Evidence, Family, Score};
use sealbid_screen::input::{Bid as ScreenBid, TenderBids};
use sealbid_screen::{documents, engine, history, links, unit_prices, Model, Settings};
use sealbid_seal::opening::{BidOutcome, OpeningRecord};
use sealbid_seal::payload::PricePayload;
use sealbid_seal::signed::Signed;
use sealbid_seal::threshold::EnvelopeKind;
use sealbid_store::{
    AlertDecision, AlertReview, BidRejection, CreditRecord, NewAlert, ScreeningSaved,
    ScreeningWrite, StoredAlert, TenderScreening,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Largest technical document kept in memory at the opening for the document screening.
pub const MAX_SCREEN_DOC_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes of technical documents kept for one tender's screening.
pub const MAX_SCREEN_DOCS_TOTAL: u64 = 512 * 1024 * 1024;

/// A bid's technical document as decrypted at the opening (held in memory, never stored).
pub struct TechnicalDocument {
    pub bidder: String,
    pub bytes: Vec<u8>,
}

/// Most files read from one technical archive.
pub const MAX_ARCHIVE_FILES: usize = 2000;

/// A technical document as files: the entries of a tar archive (what `sealbid seal --technical DIR`
/// seals), or the document itself when it is not an archive. A damaged archive yields the entries
/// read whole before the damage.
pub fn technical_files(bytes: Vec<u8>) -> Vec<documents::DocFile> {
    let is_tar = bytes.get(257..262) == Some(b"ustar".as_slice());
    if !is_tar {
        return vec![documents::DocFile {
            name: "technical".into(),
            bytes,
            extracted: None,
        }];
    }
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(bytes.as_slice());
    let Ok(entries) = archive.entries() else {
        return out;
    };
    for entry in entries.take(MAX_ARCHIVE_FILES) {
        let Ok(mut entry) = entry else { break };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "unnamed".into());
        let size = entry.header().size().unwrap_or(u64::MAX);
        let mut data = Vec::new();
        // A short read is a truncated archive: stop, keeping what was whole.
        if std::io::Read::read_to_end(&mut entry, &mut data).is_err() || data.len() as u64 != size {
            break;
        }
        out.push(documents::DocFile {
            name,
            bytes: data,
            extracted: None,
        });
    }
    out
}

/// The states a tender is in once its bids are open.
pub const OPENED_STATES: [TenderState; 5] = [
    TenderState::Opened,
    TenderState::Evaluating,
    TenderState::CandidatesPublished,
    TenderState::Awarded,
    TenderState::Completed,
];

/// One bid as screened (prices are public from the opening on).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScreenedBid {
    /// The bidder's organisation id.
    pub bidder: String,
    pub bidder_name: String,
    pub price: f64,
    #[serde(default)]
    pub winner: bool,
}

/// What is stored as a tender's screening document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScreeningDoc {
    /// `opening`, `manual` or `history`.
    pub trigger: String,
    /// Engine and model that produced it.
    pub engine: String,
    pub currency: String,
    pub estimate: Option<f64>,
    pub bids: Vec<ScreenedBid>,
    /// Every price screen by name (`null` where undefined).
    pub screens: BTreeMap<String, Option<f64>>,
    /// The classifier's score and how it was reached (none for too few bids).
    pub score: Option<Score>,
    /// Alerts this run found (stored or already there).
    pub alerts: usize,
    /// Bills of quantities that could not be read, with the reason.
    #[serde(default)]
    pub unreadable: Vec<String>,
}

impl ScreeningDoc {
    fn tender_bids(&self, tender: TenderId) -> TenderBids {
        TenderBids::new(
            tender.to_string(),
            self.estimate,
            self.bids
                .iter()
                .map(|b| ScreenBid {
                    bidder: Some(b.bidder.clone()),
                    price: b.price,
                    winner: b.winner,
                })
                .collect(),
        )
    }
}

/// What one screening did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ScreeningOutcome {
    #[schema(value_type = String, format = Uuid)]
    pub tender: TenderId,
    /// Classifier score in [0, 1], where the tender could be scored.
    pub score: Option<f64>,
    /// Alerts found by this run.
    pub alerts: usize,
    /// Of which newly stored (the rest were stored already and keep their review status).
    pub new_alerts: usize,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

fn milli(v: f64) -> i64 {
    // A score is finite and in [0, 1] (the engine sanitises every alert).
    (v.clamp(0.0, 1.0) * 1000.0).round() as i64
}

/// The opening record of an opened tender.
async fn opening_record(state: &AppState, t: &Tender) -> AppResult<OpeningRecord> {
    let s = state
        .store
        .get_sealing(t.id)
        .await?
        .ok_or(AppError::NotFound("opening record"))?;
    let opened = s.opened.ok_or_else(|| AppError::Conflict {
        code: "not_opened",
        message: "the tender's bids are not open yet: screening reads the opened prices".into(),
        state: Some(t.state),
    })?;
    let signed =
        Signed::<OpeningRecord>::from_json_bytes(opened.record.as_bytes()).map_err(internal)?;
    Ok(signed.body)
}

/// What the opened price documents say beyond the totals: bills of quantities and the people each
/// bid names.
struct PriceDocuments {
    boq: Vec<unit_prices::BoqBid>,
    personnel: HashMap<String, sealbid_seal::payload::Personnel>,
    unreadable: Vec<String>,
}

/// The price documents, decrypted with the published file keys.
async fn price_documents(
    state: &AppState,
    t: &Tender,
    record: &OpeningRecord,
) -> AppResult<PriceDocuments> {
    let stored: HashMap<String, String> = state
        .store
        .list_bids(t.id)
        .await?
        .into_iter()
        .flat_map(|b| b.envelopes.into_iter().map(|e| (e.sha256, e.blob_key)))
        .collect();
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    let mut personnel = HashMap::new();
    for bid in record
        .bids
        .iter()
        .filter(|b| b.outcome == BidOutcome::Valid)
    {
        let Some(env) = bid.envelopes.iter().find(|e| e.kind == EnvelopeKind::Price) else {
            continue;
        };
        let (Some(key_hex), Some(blob_key)) = (&env.file_key, stored.get(&env.sha256)) else {
            continue;
        };
        let mut key = [0u8; 16]; // an age file key
        if hex::decode_to_slice(key_hex, &mut key).is_err() {
            unreadable.push(format!(
                "{}: the published file key is malformed",
                bid.bidder_name
            ));
            continue;
        }
        let bytes = state.blobs.get(blob_key).await.map_err(internal)?;
        let plain = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            sealbid_seal::envelope::open_envelope(&key, bytes.as_ref(), &mut out).map(|_| out)
        })
        .await
        .map_err(internal)?;
        let parsed = plain.map(|p| PricePayload::from_json_bytes(&p));
        if let Ok(Ok(price)) = &parsed {
            if !price.personnel.is_empty() {
                personnel.insert(bid.bidder.clone(), price.personnel.clone());
            }
        }
        match parsed {
            Ok(Ok(price)) if !price.lines.is_empty() => out.push(unit_prices::BoqBid {
                bidder: bid.bidder.clone(),
                lines: price
                    .lines
                    .iter()
                    .filter_map(|l| {
                        l.unit_price.to_f64().map(|u| unit_prices::BoqLine {
                            code: l.code.clone(),
                            unit_price: u,
                        })
                    })
                    .collect(),
            }),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => unreadable.push(format!("{}: {e}", bid.bidder_name)),
            Err(e) => unreadable.push(format!("{}: {e}", bid.bidder_name)),
        }
    }
    Ok(PriceDocuments {
        boq: out,
        personnel,
        unreadable,
    })
}

/// Who stands behind each valid bid: the deposit payers' accounts (from the opening record) and the
/// people its price document names.
fn identities(
    record: &OpeningRecord,
    personnel: &HashMap<String, sealbid_seal::payload::Personnel>,
) -> Vec<links::BidderIdentity> {
    let person = |p: &sealbid_seal::payload::NamedPerson| links::Person {
        name: p.name.clone(),
        id_number: p.certificate.clone(),
    };
    record
        .bids
        .iter()
        .filter(|b| b.outcome == BidOutcome::Valid)
        .map(|b| {
            let named = personnel.get(&b.bidder);
            links::BidderIdentity {
                bidder: b.bidder.clone(),
                deposit_accounts: b
                    .deposit
                    .payers
                    .iter()
                    .map(|p| p.account_number.clone())
                    .collect(),
                agent: named.and_then(|n| n.agent.as_ref()).map(person),
                contact: named.and_then(|n| n.contact.as_ref()).map(person),
                legal_representative: named
                    .and_then(|n| n.legal_representative.as_ref())
                    .map(person),
                project_members: named
                    .map(|n| n.project_members.iter().map(person).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Screens one opened tender and stores the result. `trigger` says why (`opening`, `manual`,
/// `history`); `actor` is the supervisor who asked, if one did.
pub async fn screen_tender(
    state: &AppState,
    t: &Tender,
    trigger: &str,
    actor: Option<&User>,
) -> AppResult<ScreeningOutcome> {
    screen_with_documents(state, t, trigger, actor, Vec::new()).await
}

/// The tender's own documents, whose text bidders share by design (excluded from comparisons).
async fn boilerplate(state: &AppState, t: &Tender) -> AppResult<Vec<documents::DocFile>> {
    let mut out = Vec::new();
    for d in &t.terms.documents {
        if d.size > MAX_SCREEN_DOC_BYTES {
            continue;
        }
        let key = crate::api::documents::document_key(t.id, &d.sha256);
        if let Ok(bytes) = state.blobs.get(&key).await {
            out.push(documents::DocFile {
                name: d.name.clone(),
                bytes: bytes.to_vec(),
                extracted: None,
            });
        }
    }
    Ok(out)
}

/// [`screen_tender`] with the technical documents decrypted at the opening: their text, files and
/// metadata are compared between bidders too (a later re-run has no documents and keeps the
/// document alerts already stored).
pub async fn screen_with_documents(
    state: &AppState,
    t: &Tender,
    trigger: &str,
    actor: Option<&User>,
    technical: Vec<TechnicalDocument>,
) -> AppResult<ScreeningOutcome> {
    let record = opening_record(state, t).await?;
    let mut currency = String::new();
    let bids: Vec<ScreenedBid> = record
        .bids
        .iter()
        .filter(|b| b.outcome == BidOutcome::Valid)
        .filter_map(|b| {
            let p = b.price.as_ref()?;
            currency.clone_from(&p.currency);
            Some(ScreenedBid {
                bidder: b.bidder.clone(),
                bidder_name: b.bidder_name.clone(),
                price: p.total.to_f64()?,
                winner: false,
            })
        })
        .collect();
    let estimate = t.terms.estimated_price.amount().to_f64();
    let PriceDocuments {
        boq,
        personnel,
        unreadable,
    } = price_documents(state, t, &record).await?;

    // The market: every other stored screening, then this tender (last: "latest" for history).
    let mut market: Vec<TenderBids> = Vec::new();
    for s in state.store.list_tender_screenings().await? {
        if s.tender_id == t.id {
            continue;
        }
        if let Ok(doc) = serde_json::from_str::<ScreeningDoc>(&s.doc) {
            market.push(doc.tender_bids(s.tender_id));
        }
    }
    let mut doc = ScreeningDoc {
        trigger: trigger.to_string(),
        engine: String::new(),
        currency,
        estimate,
        bids,
        screens: BTreeMap::new(),
        score: None,
        alerts: 0,
        unreadable,
    };
    market.push(doc.tender_bids(t.id));
    let tender_key = t.id.to_string();
    let identities = identities(&record, &personnel);
    let settings = Settings::default();
    // Each opened bid's upload source (as stored at submission) and, at the opening, its
    // technical document: compared between bidders by the document detectors.
    let uploads: HashMap<String, sealbid_store::UploadSource> = state
        .store
        .list_bids(t.id)
        .await?
        .into_iter()
        .filter(|b| b.status == sealbid_store::BidStatus::Active)
        .filter_map(|b| b.upload.map(|u| (b.bidder_org.to_string(), u)))
        .collect();
    let mut technical: HashMap<String, Vec<u8>> =
        technical.into_iter().map(|d| (d.bidder, d.bytes)).collect();
    let doc_bids: Vec<documents::BidDocuments> = record
        .bids
        .iter()
        .map(|b| {
            let upload = uploads.get(&b.bidder);
            documents::BidDocuments {
                bidder: b.bidder.clone(),
                upload_ip: upload
                    .and_then(|u| u.ip.as_deref())
                    .and_then(|ip| ip.parse().ok()),
                device: upload.and_then(|u| u.device.clone()),
                files: technical
                    .remove(&b.bidder)
                    .map(technical_files)
                    .unwrap_or_default(),
            }
        })
        .collect();
    let template = if doc_bids.iter().all(|d| d.files.is_empty()) {
        Vec::new()
    } else {
        boilerplate(state, t).await?
    };

    let (result, score, mut alerts, engine_name, unreadable_docs) =
        tokio::task::spawn_blocking(move || {
            let mut results = engine::screen(&market, &settings);
            let model = Model::builtin().ok();
            let engine_name = format!(
                "sealbid-screen {}; {}",
                env!("CARGO_PKG_VERSION"),
                model.map_or("no classifier".to_string(), |m| format!(
                    "{} {}",
                    m.name, m.version
                ))
            );
            let result = results.pop();
            let score = result.as_ref().and_then(|r| r.score.clone());
            let mut alerts: Vec<Alert> = result
                .as_ref()
                .map(|r| r.alerts.clone())
                .unwrap_or_default();
            if let (Some(m), Some(s)) = (model, &score) {
                if m.flags(s) {
                    alerts.push(classifier_alert(&tender_key, s));
                }
            }
            alerts.extend(links::analyse(
                &tender_key,
                &identities,
                &Default::default(),
            ));
            let mut unreadable_docs = Vec::new();
            if doc_bids.len() >= 2 {
                let report =
                    documents::analyse(&tender_key, &doc_bids, &template, &Default::default());
                alerts.extend(report.alerts);
                unreadable_docs = report
                    .unreadable
                    .into_iter()
                    .map(|u| format!("{} {}: {}", u.bidder, u.file, u.reason))
                    .collect::<Vec<_>>();
            }
            alerts.extend(unit_prices::analyse(&tender_key, &boq, &Default::default()));
            alerts.extend(
                history::analyse(&market, &Default::default())
                    .into_iter()
                    .filter(|a| a.tender == tender_key),
            );
            (result, score, alerts, engine_name, unreadable_docs)
        })
        .await
        .map_err(internal)?;

    if let Some(r) = &result {
        doc.screens = r
            .screen_values()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
    }
    doc.score = score.clone();
    doc.unreadable.extend(unreadable_docs);
    doc.engine = engine_name;
    doc.alerts = alerts.len();
    alerts.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    alerts.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    let now = state.now();
    let new_alerts = alerts
        .iter()
        .map(|a| {
            Ok(NewAlert {
                id: AlertId::new(),
                fingerprint: a.fingerprint.clone(),
                tender_id: t.id,
                family: family_name(a.family).to_string(),
                indicator: a.indicator.clone(),
                score_milli: milli(a.score.value),
                bidders: a.bidders.clone(),
                doc: serde_json::to_string(a).map_err(internal)?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let screening = TenderScreening {
        tender_id: t.id,
        at: now,
        score_milli: score.as_ref().map(|s| milli(s.value)),
        doc: serde_json::to_string(&doc).map_err(internal)?,
    };
    let audit = AuditEvent::new(actor.map(|u| u.id), now, "tender.screen", "tender", t.id)
        .with_change::<(), _>(
            None,
            Some(&serde_json::json!({
                "trigger": trigger,
                "alerts": new_alerts.len(),
                "score": score.as_ref().map(|s| s.value),
            })),
        );
    let saved: ScreeningSaved = state
        .store
        .save_screening(ScreeningWrite {
            screening: &screening,
            alerts: &new_alerts,
            audit: &audit,
        })
        .await?;
    Ok(ScreeningOutcome {
        tender: t.id,
        score: score.map(|s| s.value),
        alerts: new_alerts.len(),
        new_alerts: saved.inserted.len(),
    })
}

/// A tender whose classifier score crosses the model's threshold: a look, not a deemed case.
fn classifier_alert(tender: &str, score: &Score) -> Alert {
    let mut evidence = Evidence::default();
    for p in &score.parts {
        evidence
            .figures
            .insert(format!("{} (contribution)", p.name), p.weight);
    }
    Alert::new(
        tender,
        Family::PriceScreen,
        "classifier",
        None,
        Vec::new(),
        score.clone(),
        format!(
            "the price-screen classifier scores this tender {:.2}: its bids look like the rigged tenders it was trained on",
            score.value
        ),
        evidence,
    )
}

pub fn family_name(f: Family) -> &'static str {
    match f {
        Family::PriceScreen => "price_screen",
        Family::PricePattern => "price_pattern",
        Family::History => "history",
        Family::Documents => "documents",
        Family::Links => "links",
    }
}

/// Screens every opened tender, oldest first, so each sees the ones before it (and the last sees
/// them all); returns one outcome per tender.
pub async fn screen_history(
    state: &AppState,
    actor: &User,
    scope: &sealbid_store::HallScope,
    period: (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
) -> AppResult<Vec<ScreeningOutcome>> {
    let filter = sealbid_store::TenderFilter {
        scope: scope.clone(),
        states: OPENED_STATES.to_vec(),
        ..Default::default()
    };
    let mut tenders = state.store.list_tenders(&filter).await?;
    tenders.retain(|t| {
        let day = t.terms.opening_time.date_naive();
        period.0.is_none_or(|f| day >= f) && period.1.is_none_or(|to| day <= to)
    });
    tenders.sort_by_key(|t| (t.terms.opening_time, t.id));
    let mut out = Vec::with_capacity(tenders.len());
    for t in &tenders {
        out.push(screen_tender(state, t, "history", Some(actor)).await?);
    }
    Ok(out)
}

/// Runs the screening after an opening; a failure is logged, never fails the opening (a supervisor
/// can re-run it).
pub async fn screen_after_opening(state: &AppState, t: &Tender, technical: Vec<TechnicalDocument>) {
    if let Err(e) = screen_with_documents(state, t, "opening", None, technical).await {
        tracing::warn!(tender = %t.id, error = %e, "screening after the opening failed; re-run it from the supervision pages");
    }
}

/// A supervisor's review step, with what a confirmation does, in one store write.
pub async fn review(
    state: &AppState,
    user: &User,
    alert: &StoredAlert,
    action: ReviewAction,
    reason: &str,
    bar_days: Option<u32>,
    expected_version: i64,
) -> AppResult<StoredAlert> {
    let step = ReviewStep::check(alert.status, action, reason, bar_days).map_err(|e| {
        let code = e.code();
        match e {
            sealbid_domain::screening::ReviewError::IllegalTransition { .. } => {
                AppError::Conflict {
                    code,
                    message: e.to_string(),
                    state: None,
                }
            }
            _ => AppError::invalid(code, "reason", e.to_string()),
        }
    })?;
    if alert.version != expected_version {
        return Err(AppError::Conflict {
            code: "version_conflict",
            message: format!(
                "the alert changed since you loaded it (version {expected_version}, now {}): reload it and decide again",
                alert.version
            ),
            state: None,
        });
    }
    let now = state.now();
    let review = AlertReview {
        alert_id: alert.id,
        seq: 0,
        at: now,
        actor: Some(user.id),
        action: action.as_str().to_string(),
        from_status: step.from,
        to_status: step.to,
        reason: step.reason.clone(),
    };
    let engine_alert: Alert = serde_json::from_str(&alert.doc).map_err(internal)?;
    let ground = engine_alert
        .legal_ground
        .as_ref()
        .map_or_else(|| "statistical screen".to_string(), |g| g.cite.clone());
    let mut rejections = Vec::new();
    let mut credit = Vec::new();
    if step.to == AlertStatus::Confirmed {
        for b in &alert.bidders {
            // Only platform bidders (organisation ids) get a rejection and a credit record.
            let Ok(org) = OrgId::parse(b) else { continue };
            if state.store.get_org(org).await?.is_none() {
                continue;
            }
            rejections.push(BidRejection {
                tender_id: alert.tender_id,
                bidder_org: org,
                alert_id: alert.id,
                ground: ground.clone(),
                at: now,
            });
            credit.push(CreditRecord {
                id: uuid::Uuid::now_v7(),
                org_id: org,
                tender_id: Some(alert.tender_id),
                alert_id: Some(alert.id),
                kind: "collusion".into(),
                ground: ground.clone(),
                reason: step.reason.clone(),
                recorded_at: now,
                barred_until: step.barred_until(now),
                recorded_by: Some(user.id),
            });
        }
    }
    let audit = AuditEvent::new(Some(user.id), now, "alert.review", "alert", alert.id).with_change(
        Some(&serde_json::json!({"status": alert.status})),
        Some(&serde_json::json!({
            "status": step.to,
            "action": action,
            "reason": step.reason,
            "bar_days": step.bar_days,
            "rejected_bidders": rejections.iter().map(|r| r.bidder_org).collect::<Vec<_>>(),
        })),
    );
    let updated = state
        .store
        .review_alert(AlertDecision {
            alert: alert.id,
            expected_version,
            review: &review,
            rejections: &rejections,
            credit: &credit,
            audit: &audit,
        })
        .await?;
    Ok(updated)
}

/// Whether `org` is barred from bidding at `now`, with the record that bars it.
pub async fn active_bar(
    state: &AppState,
    org: OrgId,
    now: DateTime<Utc>,
) -> AppResult<Option<CreditRecord>> {
    Ok(state
        .store
        .list_credit_records(org)
        .await?
        .into_iter()
        .filter(|r| r.bars_at(now))
        .max_by_key(|r| r.barred_until))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn archives_become_their_files_and_documents_stay_whole() {
        let tar = tar_of(&[
            ("a/施工方案.txt", "方案".as_bytes()),
            ("b.pdf", b"%PDF-1.7"),
        ]);
        let files = technical_files(tar);
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a/施工方案.txt", "b.pdf"]);
        assert_eq!(files[1].bytes, b"%PDF-1.7");
        let plain = technical_files(b"just a text".to_vec());
        assert_eq!(plain.len(), 1);
        assert_eq!(plain[0].name, "technical");
    }

    #[test]
    fn a_damaged_archive_keeps_what_was_read() {
        let mut tar = tar_of(&[("one.txt", b"first file"), ("two.txt", &[b'x'; 4096])]);
        tar.truncate(1024 + 600);
        let files = technical_files(tar);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, "one.txt");
    }
}
