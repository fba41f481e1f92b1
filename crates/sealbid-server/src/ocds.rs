//! Open data: every public tender as OCDS 1.1 releases and records (`sealbid_domain::ocds` builds
//! them; this module gathers what they report from the store). A tender publishes a `tender`
//! release at publication, one `tenderAmendment` per amendment, a `tenderUpdate` with
//! `bids.details[]` at the opening, `tenderCancellation` when cancelled, and `tenderUpdate` when it
//! fails. Drafts and tenders under review are not public and have no releases.
use std::collections::HashMap;

use sealbid_domain::evaluation::award::AwardProcess;
use sealbid_domain::ocds::{
    self, OcdsAward, OcdsAwardStatus, OcdsBid, OcdsBidStatus, OcdsConfig, OcdsContract,
    OcdsContractStatus, OcdsParty, OcdsProcess, OcdsTender, ReleaseStage,
};
use sealbid_domain::tender::{Tender, TenderState};
use sealbid_domain::Money;
use sealbid_seal::opening::{BidOutcome, OpeningRecord};
use sealbid_seal::signed::Signed;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("{e}"))
}

fn ocds_error(e: ocds::OcdsError) -> AppError {
    match e {
        ocds::OcdsError::NotPublic(_) => AppError::NotFound("tender"),
        other => internal(other),
    }
}

/// The platform's OCDS settings (the ocid prefix is a placeholder until one is registered).
pub fn config() -> OcdsConfig {
    OcdsConfig::default()
}

/// The opened bids of a tender, as OCDS bids (empty before the opening).
async fn opened_bids(state: &AppState, t: &Tender) -> AppResult<Vec<OcdsBid>> {
    let Some(sealing) = state.store.get_sealing(t.id).await? else {
        return Ok(Vec::new());
    };
    let Some(opened) = sealing.opened else {
        return Ok(Vec::new());
    };
    let record = Signed::<OpeningRecord>::from_json_bytes(opened.record.as_bytes())
        .map_err(internal)?
        .body;
    let stored: HashMap<String, sealbid_store::Bid> = state
        .store
        .list_bids(t.id)
        .await?
        .into_iter()
        .map(|b| (b.manifest_digest.clone(), b))
        .collect();
    let mut out = Vec::with_capacity(record.bids.len());
    for b in &record.bids {
        let Some(bid) = stored.get(&b.manifest_digest) else {
            continue;
        };
        let Some(org) = state.store.get_org(bid.bidder_org).await? else {
            continue;
        };
        let value = b
            .price
            .as_ref()
            .map(|p| Money::new(p.total))
            .transpose()
            .map_err(internal)?;
        out.push(OcdsBid {
            id: bid.id,
            bidder: OcdsParty::from(&org),
            value,
            date: bid.submitted_at,
            status: if b.outcome == BidOutcome::Valid {
                OcdsBidStatus::Valid
            } else {
                OcdsBidStatus::Disqualified
            },
        });
    }
    Ok(out)
}

/// What the process after the evaluation has published: the candidates as `pending` awards (from
/// the publication), then the decision (from the award notice: the winner `active`, the other
/// candidates `unsuccessful`, same award ids), and the contract of the winner's award.
#[derive(Default)]
struct Awarding {
    pending: Vec<OcdsAward>,
    decided: Vec<OcdsAward>,
    contracts: Vec<OcdsContract>,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    noticed_at: Option<chrono::DateTime<chrono::Utc>>,
    contracted_at: Option<chrono::DateTime<chrono::Utc>>,
}

async fn awarding(state: &AppState, t: &Tender) -> AppResult<Awarding> {
    let Some(stored) = state.store.get_award(t.id).await? else {
        return Ok(Awarding::default());
    };
    let p: AwardProcess = serde_json::from_str(&stored.doc).map_err(internal)?;
    let Some(publication) = &p.publication else {
        return Ok(Awarding::default());
    };
    let award_id = |rank: u32| format!("{}-award-{rank}", t.code.as_str());
    let mut out = Awarding {
        published_at: Some(publication.window.start),
        ..Awarding::default()
    };
    for c in &publication.candidates {
        let org = state
            .store
            .get_org(c.bidder)
            .await?
            .ok_or_else(|| internal("a candidate's organisation is missing"))?;
        let award = OcdsAward {
            id: award_id(c.rank),
            supplier: OcdsParty::from(&org),
            value: Money::new(c.price).map_err(internal)?,
            date: publication.window.start,
            status: OcdsAwardStatus::Pending,
        };
        if let Some(notice) = &p.notice {
            out.decided.push(OcdsAward {
                date: notice.at,
                status: if notice.winner.bid == c.bid {
                    OcdsAwardStatus::Active
                } else {
                    OcdsAwardStatus::Unsuccessful
                },
                ..award.clone()
            });
        }
        out.pending.push(award);
    }
    if let Some(notice) = &p.notice {
        out.noticed_at = Some(notice.at);
        if let Some(c) = &p.contract {
            out.contracts.push(OcdsContract {
                id: format!("{}-contract-1", t.code.as_str()),
                award_id: award_id(notice.winner.rank),
                value: Money::new(c.amount).map_err(internal)?,
                date_signed: Some(c.signed_at),
                status: OcdsContractStatus::Active,
            });
            out.contracted_at = Some(c.recorded_at);
        }
    }
    Ok(out)
}

/// Every release of a public tender, oldest first. A draft or a tender under review is a 404.
pub async fn releases_of(state: &AppState, t: &Tender) -> AppResult<Vec<Value>> {
    if !t.state.is_public() {
        return Err(AppError::NotFound("tender"));
    }
    let buyer = state
        .store
        .get_org(t.org)
        .await?
        .ok_or_else(|| internal("the tender's organisation is missing"))?;
    let bids = opened_bids(state, t).await?;
    let awarding = awarding(state, t).await?;
    let cfg = config();
    let tender = OcdsTender {
        tender: t,
        buyer: &buyer,
        procuring_entity: None,
    };
    // The process as it stands, and as it stood when the candidates were published.
    let process = OcdsProcess {
        bids: &bids,
        awards: if awarding.decided.is_empty() {
            &awarding.pending
        } else {
            &awarding.decided
        },
        contracts: &awarding.contracts,
        ..OcdsProcess::tender_only(tender)
    };
    let candidates = OcdsProcess {
        bids: &bids,
        awards: &awarding.pending,
        contracts: &[],
        ..OcdsProcess::tender_only(tender)
    };
    let mut stages = Vec::new();
    if let Some(at) = t.published_at {
        stages.push((ReleaseStage::Tender, at));
    }
    for a in state.store.list_amendments(t.id).await? {
        stages.push((ReleaseStage::TenderAmendment, a.at));
    }
    if let Some(at) = t.opened_at.filter(|_| !bids.is_empty()) {
        stages.push((ReleaseStage::Opening, at));
    }
    if let Some(at) = awarding.published_at {
        stages.push((ReleaseStage::Candidates, at));
    }
    if let Some(at) = awarding.noticed_at {
        stages.push((ReleaseStage::Award, at));
    }
    if let Some(at) = awarding.contracted_at {
        stages.push((ReleaseStage::Contract, at));
    }
    match (t.state, t.ended_at) {
        (TenderState::Cancelled, Some(at)) => stages.push((ReleaseStage::TenderCancellation, at)),
        (TenderState::Failed, Some(at)) => stages.push((ReleaseStage::TenderUpdate, at)),
        _ => {}
    }
    stages.sort_by_key(|(stage, at)| (*at, *stage));
    stages
        .into_iter()
        .map(|(stage, at)| {
            let p = if stage == ReleaseStage::Candidates {
                &candidates
            } else {
                &process
            };
            ocds::build_release(&cfg, p, stage, at).map_err(ocds_error)
        })
        .collect()
}

/// A release package of one tender's releases.
pub async fn release_package(state: &AppState, t: &Tender, uri: &str) -> AppResult<Value> {
    let releases = releases_of(state, t).await?;
    Ok(ocds::release_package(&config(), uri, state.now(), releases))
}

/// A record package of `tenders` (each public one's record with its compiled release).
pub async fn record_package(state: &AppState, tenders: &[Tender], uri: &str) -> AppResult<Value> {
    let mut releases = Vec::new();
    for t in tenders.iter().filter(|t| t.state.is_public()) {
        releases.extend(releases_of(state, t).await?);
    }
    ocds::record_package(&config(), uri, state.now(), releases).map_err(ocds_error)
}

/// Every public tender (newest first, at most `limit`, 0: all).
pub async fn public_tenders(state: &AppState, limit: u32, offset: u32) -> AppResult<Vec<Tender>> {
    let filter = sealbid_store::TenderFilter {
        states: TenderState::ALL
            .into_iter()
            .filter(|s| s.is_public())
            .collect(),
        limit,
        offset,
        ..Default::default()
    };
    Ok(state.store.list_tenders(&filter).await?)
}
