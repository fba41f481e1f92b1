//! The sealing half of the SQL stores: sealing documents, bids, the Merkle log, deposits and the
//! opening actions. The log's appends are serialised by the same lock as the audit chain's, so
//! there is one log head and the tree hashes of every complete subtree are written with the entry.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::{BidId, OrgId, TenderId};
use sealbid_seal::checkpoint::{Checkpoint, SignedCheckpoint};
use sealbid_seal::merkle::{self, Hash, NodeMap};

use super::{doc_from, query, stmt, to_doc, Backend, Param, Row, Sql, SqlStore, Ty, DOC};
use crate::error::on_fk;
use crate::sealing::{
    Appended, Bid, BidChange, BidStatus, BidWithdrawal, DepositPayment, DepositRef, LogEntry,
    OpeningAction, SealWrite, TenderSealing,
};
use crate::{Result, StoreError};

/// Nodes read per query (two parameters each; SQLite allows 32,766).
const NODE_CHUNK: usize = 500;

const ENTRY_COLS: &str = "idx, tender_id, kind, at, leaf_hash, entry";
const ENTRY_TYS: &[Ty] = &[Ty::Int, Ty::Id, Ty::Text, Ty::Time, Ty::Text, Ty::Text];

fn hash_from_hex(s: &str) -> Result<Hash> {
    let mut h = [0u8; 32];
    hex::decode_to_slice(s, &mut h)
        .map_err(|e| StoreError::corrupt(format!("stored hash {s:?}: {e}")))?;
    Ok(h)
}

pub(super) fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::corrupt(format!("{v} does not fit a column")))
}

pub(super) fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::corrupt(format!("negative stored index {v}")))
}

fn log_err(e: merkle::LogError) -> StoreError {
    StoreError::corrupt(format!("log: {e}"))
}

fn entry_from(r: &Row) -> Result<LogEntry> {
    Ok(LogEntry {
        index: to_u64(r.int(0)?)?,
        tender_id: TenderId(r.id(1)?),
        kind: r.text(2)?.to_string(),
        at: r.time(3)?,
        leaf_hash: hash_from_hex(r.text(4)?)?,
        entry: r.text(5)?.to_string(),
    })
}

fn deposit_ref_from(r: &Row) -> Result<DepositRef> {
    Ok(DepositRef {
        reference: r.text(0)?.to_string(),
        tender_id: TenderId(r.id(1)?),
        bidder_org: OrgId(r.id(2)?),
        created_at: r.time(3)?,
    })
}

/// The query that reads the given nodes, or `None` when there are none.
fn nodes_query(coords: &[(u8, u64)]) -> Result<Option<crate::sql::Query>> {
    if coords.is_empty() {
        return Ok(None);
    }
    let mut q = Sql::new("SELECT level, idx, hash FROM log_nodes WHERE ");
    for (i, (level, idx)) in coords.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push("(level = ")
            .bind(Param::Int(i64::from(*level)))
            .push(" AND idx = ")
            .bind(Param::Int(to_i64(*idx)?))
            .push(")");
    }
    Ok(Some(q.query(&[Ty::Int, Ty::Int, Ty::Text])))
}

fn node_map(rows: &[Row]) -> Result<NodeMap> {
    let mut map = HashMap::new();
    for r in rows {
        let level = u8::try_from(r.int(0)?)
            .map_err(|_| StoreError::corrupt("stored node level out of range"))?;
        map.insert((level, to_u64(r.int(1)?)?), hash_from_hex(r.text(2)?)?);
    }
    Ok(NodeMap(map))
}

/// The left siblings that appending leaf `index` combines with: at each level where the new node
/// is a right child, its left neighbour.
fn append_reads(index: u64) -> Vec<(u8, u64)> {
    let mut out = Vec::new();
    let mut level = 0u8;
    let mut i = index;
    while i & 1 == 1 {
        out.push((level, i - 1));
        i >>= 1;
        level += 1;
    }
    out
}

/// Records in the sealing document where its log entry landed (see `SealWrite`).
fn fill_from_append(s: &mut TenderSealing, kind: &str, app: &Appended) {
    match kind {
        "policy" => s.policy_index = Some(app.index),
        "closing" => {
            if let Some(c) = s.closing.as_mut() {
                c.log_index = app.index;
                c.checkpoint = app.checkpoint.clone();
            }
        }
        "opening" => {
            if let Some(o) = s.opened.as_mut() {
                o.log_index = app.index;
                o.checkpoint = app.checkpoint.clone();
            }
        }
        _ => {}
    }
}

impl<B: Backend> SqlStore<B> {
    async fn nodes(&self, coords: &[(u8, u64)]) -> Result<NodeMap> {
        // In chunks: every node is two bound parameters.
        let mut map = NodeMap(HashMap::new());
        for chunk in coords.chunks(NODE_CHUNK) {
            if let Some(q) = nodes_query(chunk)? {
                map.0.extend(node_map(&self.b.fetch(&q).await?)?.0);
            }
        }
        Ok(map)
    }

    async fn nodes_tx(&self, tx: &mut B::Tx, coords: &[(u8, u64)]) -> Result<NodeMap> {
        match nodes_query(coords)? {
            None => Ok(NodeMap(HashMap::new())),
            Some(q) => node_map(&self.b.fetch_tx(tx, &q).await?),
        }
    }

    async fn log_size_tx(&self, tx: &mut B::Tx) -> Result<u64> {
        let rows = self
            .b
            .fetch_tx(
                tx,
                &query(
                    "SELECT idx FROM log_entries ORDER BY idx DESC LIMIT 1",
                    vec![],
                    &[Ty::Int],
                ),
            )
            .await?;
        match rows.first() {
            None => Ok(0),
            Some(r) => Ok(to_u64(r.int(0)?)? + 1),
        }
    }

    /// Appends the entry, its complete subtree hashes, and signs the new checkpoint. The caller
    /// holds the audit lock (which serialises log appends too).
    pub(super) async fn append_log_tx(
        &self,
        tx: &mut B::Tx,
        a: &crate::sealing::LogAppend<'_>,
    ) -> Result<Appended> {
        let index = self.log_size_tx(tx).await?;
        let leaf = merkle::leaf_hash(a.entry.as_bytes());
        let reads = self.nodes_tx(tx, &append_reads(index)).await?;
        let new_nodes = merkle::append_nodes(index, leaf, &reads).map_err(log_err)?;
        self.b
            .execute(
                tx,
                &stmt(
                    "INSERT INTO log_entries (idx, tender_id, kind, at, leaf_hash, entry) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    vec![
                        Param::Int(to_i64(index)?),
                        Param::Id(a.tender_id.0),
                        Param::Text(a.kind.to_string()),
                        Param::Time(a.at),
                        Param::Text(hex::encode(leaf)),
                        Param::Text(a.entry.clone()),
                    ],
                ),
            )
            .await?;
        for (level, idx, hash) in &new_nodes {
            self.b
                .execute(
                    tx,
                    &stmt(
                        "INSERT INTO log_nodes (level, idx, hash) VALUES ($1, $2, $3)",
                        vec![
                            Param::Int(i64::from(*level)),
                            Param::Int(to_i64(*idx)?),
                            Param::Text(hex::encode(hash)),
                        ],
                    ),
                )
                .await?;
        }
        let size = index + 1;
        let mut coords = merkle::nodes_for_root(size);
        coords.extend(merkle::nodes_for_inclusion(index, size));
        let nodes = self.nodes_tx(tx, &coords).await?;
        let root = merkle::root(&nodes, size).map_err(log_err)?;
        let proof = merkle::inclusion_proof(&nodes, index, size).map_err(log_err)?;
        let origin = a.signer.verifier().name().to_string();
        let mut cp = Checkpoint::with_time(origin, size, root, a.at);
        if a.closing {
            cp = cp.with_closing(&a.tender_id.to_string());
        }
        let signed = SignedCheckpoint::sign(cp, a.signer)
            .map_err(|e| StoreError::corrupt(format!("cannot sign the checkpoint: {e}")))?;
        Ok(Appended {
            index,
            size,
            proof,
            checkpoint: signed.note,
        })
    }

    async fn put_sealing_tx(&self, tx: &mut B::Tx, s: &TenderSealing, expected: i64) -> Result<()> {
        let doc = to_doc(s, "sealing")?;
        if expected == 0 {
            self.b
                .execute(
                    tx,
                    &stmt(
                        "INSERT INTO tender_sealing (tender_id, version, doc) VALUES ($1, $2, $3)",
                        vec![
                            Param::Id(s.tender_id.0),
                            Param::Int(s.version),
                            Param::Text(doc),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_tender"))?;
            return Ok(());
        }
        let changed = self
            .b
            .execute(
                tx,
                &stmt(
                    "UPDATE tender_sealing SET version = $2, doc = $3 \
                     WHERE tender_id = $1 AND version = $4",
                    vec![
                        Param::Id(s.tender_id.0),
                        Param::Int(s.version),
                        Param::Text(doc),
                        Param::Int(expected),
                    ],
                ),
            )
            .await?;
        if changed == 1 {
            return Ok(());
        }
        Err(self
            .stale(
                tx,
                "SELECT version FROM tender_sealing WHERE tender_id = $1",
                s.tender_id.0,
                expected,
            )
            .await)
    }

    async fn bid_tx(&self, tx: &mut B::Tx, id: BidId) -> Result<Option<Bid>> {
        let rows = self
            .b
            .fetch_tx(
                tx,
                &query(
                    "SELECT doc FROM bids WHERE id = $1",
                    vec![Param::Id(id.0)],
                    DOC,
                ),
            )
            .await?;
        rows.first().map(|r| doc_from(r, "bid")).transpose()
    }

    async fn write_bid_tx(&self, tx: &mut B::Tx, bid: &Bid, insert: bool) -> Result<()> {
        let doc = to_doc(bid, "bid")?;
        if insert {
            self.b
                .execute(
                    tx,
                    &stmt(
                        "INSERT INTO bids (id, tender_id, bidder_org, status, manifest_digest, \
                         log_index, submitted_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        vec![
                            Param::Id(bid.id.0),
                            Param::Id(bid.tender_id.0),
                            Param::Id(bid.bidder_org.0),
                            Param::Text(bid.status.as_str().to_string()),
                            Param::Text(bid.manifest_digest.clone()),
                            Param::Int(to_i64(bid.log_index)?),
                            Param::Time(bid.submitted_at),
                            Param::Text(doc),
                        ],
                    ),
                )
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(c) => StoreError::Conflict(c),
                    StoreError::Database(sqlx::Error::Database(db))
                        if db.kind() == sqlx::error::ErrorKind::ForeignKeyViolation =>
                    {
                        StoreError::Conflict("unknown_tender_or_org")
                    }
                    other => other,
                })?;
        } else {
            self.b
                .execute(
                    tx,
                    &stmt(
                        "UPDATE bids SET status = $2, doc = $3 WHERE id = $1",
                        vec![
                            Param::Id(bid.id.0),
                            Param::Text(bid.status.as_str().to_string()),
                            Param::Text(doc),
                        ],
                    ),
                )
                .await?;
        }
        Ok(())
    }

    pub(super) async fn seal_write_impl(&self, w: SealWrite<'_>) -> Result<Option<Appended>> {
        let mut tx = self.b.begin().await?;
        let r: Result<Option<Appended>> = async {
            // The audit lock also serialises the log head.
            self.b.lock_audit(&mut tx).await?;
            if let Some((t, expected)) = w.tender {
                self.update_tender_tx(&mut tx, t, expected).await?;
            }
            let appended = match &w.log {
                Some(a) => Some(self.append_log_tx(&mut tx, a).await?),
                None => None,
            };
            if let Some((s, expected)) = w.sealing {
                let mut s = s.clone();
                if let (Some(a), Some(app)) = (&w.log, &appended) {
                    fill_from_append(&mut s, a.kind, app);
                }
                self.put_sealing_tx(&mut tx, &s, expected).await?;
            }
            match (&w.bid, &appended) {
                (None, _) => {}
                (Some(_), None) => {
                    return Err(StoreError::corrupt("a bid change needs a log append"));
                }
                (Some(BidChange::Submit(bid)), Some(app)) => {
                    let active = self
                        .b
                        .fetch_tx(
                            &mut tx,
                            &query(
                                "SELECT doc FROM bids WHERE tender_id = $1 AND bidder_org = $2 \
                                 AND status = 'active'",
                                vec![Param::Id(bid.tender_id.0), Param::Id(bid.bidder_org.0)],
                                DOC,
                            ),
                        )
                        .await?;
                    for r in &active {
                        let mut old: Bid = doc_from(r, "bid")?;
                        old.status = BidStatus::Replaced;
                        old.replaced_by = Some(bid.id);
                        self.write_bid_tx(&mut tx, &old, false).await?;
                    }
                    let mut new = (*bid).clone();
                    new.log_index = app.index;
                    new.checkpoint = app.checkpoint.clone();
                    new.status = BidStatus::Active;
                    self.write_bid_tx(&mut tx, &new, true).await?;
                }
                (Some(BidChange::Withdraw { bid, signed, at }), Some(app)) => {
                    let mut old = self
                        .bid_tx(&mut tx, *bid)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    if old.status != BidStatus::Active {
                        return Err(StoreError::Conflict("bid_not_active"));
                    }
                    old.status = BidStatus::Withdrawn;
                    old.withdrawal = Some(BidWithdrawal {
                        at: *at,
                        signed: signed.clone(),
                        log_index: app.index,
                        checkpoint: app.checkpoint.clone(),
                    });
                    self.write_bid_tx(&mut tx, &old, false).await?;
                }
            }
            self.append(&mut tx, w.audit).await?;
            Ok(appended)
        }
        .await;
        self.finish(tx, r).await
    }

    pub(super) async fn get_sealing_impl(&self, tender: TenderId) -> Result<Option<TenderSealing>> {
        let q = query(
            "SELECT doc FROM tender_sealing WHERE tender_id = $1",
            vec![Param::Id(tender.0)],
            DOC,
        );
        self.fetch_opt(q)
            .await?
            .map(|r| doc_from(&r, "sealing"))
            .transpose()
    }

    pub(super) async fn get_bid_impl(&self, id: BidId) -> Result<Option<Bid>> {
        let q = query(
            "SELECT doc FROM bids WHERE id = $1",
            vec![Param::Id(id.0)],
            DOC,
        );
        self.fetch_opt(q)
            .await?
            .map(|r| doc_from(&r, "bid"))
            .transpose()
    }

    pub(super) async fn list_bids_impl(&self, tender: TenderId) -> Result<Vec<Bid>> {
        let q = query(
            "SELECT doc FROM bids WHERE tender_id = $1 ORDER BY log_index",
            vec![Param::Id(tender.0)],
            DOC,
        );
        self.b
            .fetch(&q)
            .await?
            .iter()
            .map(|r| doc_from(r, "bid"))
            .collect()
    }

    pub(super) async fn list_bids_of_impl(&self, tender: TenderId, org: OrgId) -> Result<Vec<Bid>> {
        let q = query(
            "SELECT doc FROM bids WHERE tender_id = $1 AND bidder_org = $2 ORDER BY log_index",
            vec![Param::Id(tender.0), Param::Id(org.0)],
            DOC,
        );
        self.b
            .fetch(&q)
            .await?
            .iter()
            .map(|r| doc_from(r, "bid"))
            .collect()
    }

    pub(super) async fn count_active_bids_impl(&self, tender: TenderId) -> Result<u64> {
        let q = query(
            "SELECT COUNT(*) FROM bids WHERE tender_id = $1 AND status = 'active'",
            vec![Param::Id(tender.0)],
            &[Ty::Int],
        );
        match self.fetch_opt(q).await? {
            Some(r) => to_u64(r.int(0)?),
            None => Ok(0),
        }
    }

    pub(super) async fn log_size_impl(&self) -> Result<u64> {
        let q = query(
            "SELECT idx FROM log_entries ORDER BY idx DESC LIMIT 1",
            vec![],
            &[Ty::Int],
        );
        match self.fetch_opt(q).await? {
            None => Ok(0),
            Some(r) => Ok(to_u64(r.int(0)?)? + 1),
        }
    }

    pub(super) async fn log_entry_impl(&self, index: u64) -> Result<Option<LogEntry>> {
        let q = query(
            &format!("SELECT {ENTRY_COLS} FROM log_entries WHERE idx = $1"),
            vec![Param::Int(to_i64(index)?)],
            ENTRY_TYS,
        );
        self.fetch_opt(q).await?.map(|r| entry_from(&r)).transpose()
    }

    pub(super) async fn log_entries_impl(&self, start: u64, end: u64) -> Result<Vec<LogEntry>> {
        let q = query(
            &format!(
                "SELECT {ENTRY_COLS} FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx"
            ),
            vec![Param::Int(to_i64(start)?), Param::Int(to_i64(end)?)],
            ENTRY_TYS,
        );
        self.b.fetch(&q).await?.iter().map(entry_from).collect()
    }

    pub(super) async fn log_entries_at_impl(&self, indices: &[u64]) -> Result<Vec<LogEntry>> {
        let mut out = Vec::with_capacity(indices.len());
        for chunk in indices.chunks(NODE_CHUNK) {
            let mut q = Sql::new(&format!(
                "SELECT {ENTRY_COLS} FROM log_entries WHERE idx IN ("
            ));
            for (i, idx) in chunk.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.bind(Param::Int(to_i64(*idx)?));
            }
            q.push(")");
            for r in self.b.fetch(&q.query(ENTRY_TYS)).await? {
                out.push(entry_from(&r)?);
            }
        }
        out.sort_by_key(|e| e.index);
        Ok(out)
    }

    pub(super) async fn log_inclusion_proofs_impl(
        &self,
        indices: &[u64],
        size: u64,
    ) -> Result<Vec<Vec<Hash>>> {
        self.check_size(size).await?;
        if let Some(i) = indices.iter().find(|i| **i >= size) {
            return Err(StoreError::Invalid(format!(
                "entry {i} is not in a tree of {size} entries"
            )));
        }
        let mut coords: Vec<(u8, u64)> = indices
            .iter()
            .flat_map(|i| merkle::nodes_for_inclusion(*i, size))
            .collect();
        coords.sort_unstable();
        coords.dedup();
        let nodes = self.nodes(&coords).await?;
        indices
            .iter()
            .map(|i| merkle::inclusion_proof(&nodes, *i, size).map_err(log_err))
            .collect()
    }

    async fn check_size(&self, size: u64) -> Result<()> {
        let have = self.log_size_impl().await?;
        if size > have {
            return Err(StoreError::Invalid(format!(
                "the log has {have} entries, not {size}"
            )));
        }
        Ok(())
    }

    pub(super) async fn log_root_impl(&self, size: u64) -> Result<Hash> {
        self.check_size(size).await?;
        let nodes = self.nodes(&merkle::nodes_for_root(size)).await?;
        merkle::root(&nodes, size).map_err(log_err)
    }

    pub(super) async fn log_inclusion_proof_impl(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>> {
        self.check_size(size).await?;
        if index >= size {
            return Err(StoreError::Invalid(format!(
                "entry {index} is not in a tree of {size} entries"
            )));
        }
        let nodes = self
            .nodes(&merkle::nodes_for_inclusion(index, size))
            .await?;
        merkle::inclusion_proof(&nodes, index, size).map_err(log_err)
    }

    pub(super) async fn log_consistency_proof_impl(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.check_size(new).await?;
        if old > new {
            return Err(StoreError::Invalid(format!(
                "a tree of {old} entries is not a prefix of one of {new}"
            )));
        }
        let nodes = self.nodes(&merkle::nodes_for_consistency(old, new)).await?;
        merkle::consistency_proof(&nodes, old, new).map_err(log_err)
    }

    pub(super) async fn deposit_reference_impl(
        &self,
        tender: TenderId,
        bidder: OrgId,
        candidate: &str,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<DepositRef> {
        let mut tx = self.b.begin().await?;
        let r: Result<DepositRef> = async {
            let existing = self
                .b
                .fetch_tx(
                    &mut tx,
                    &query(
                        "SELECT reference, tender_id, bidder_org, created_at FROM deposit_refs \
                         WHERE tender_id = $1 AND bidder_org = $2",
                        vec![Param::Id(tender.0), Param::Id(bidder.0)],
                        &[Ty::Text, Ty::Id, Ty::Id, Ty::Time],
                    ),
                )
                .await?;
            if let Some(r) = existing.first() {
                return deposit_ref_from(r);
            }
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO deposit_refs (reference, tender_id, bidder_org, created_at) \
                         VALUES ($1, $2, $3, $4)",
                        vec![
                            Param::Text(candidate.to_string()),
                            Param::Id(tender.0),
                            Param::Id(bidder.0),
                            Param::Time(at),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_tender_or_org"))?;
            self.append(&mut tx, audit).await?;
            Ok(DepositRef {
                reference: candidate.to_string(),
                tender_id: tender,
                bidder_org: bidder,
                created_at: at,
            })
        }
        .await;
        self.finish(tx, r).await
    }

    pub(super) async fn find_deposit_reference_impl(
        &self,
        reference: &str,
    ) -> Result<Option<DepositRef>> {
        let q = query(
            "SELECT reference, tender_id, bidder_org, created_at FROM deposit_refs \
             WHERE reference = $1",
            vec![Param::Text(reference.to_string())],
            &[Ty::Text, Ty::Id, Ty::Id, Ty::Time],
        );
        self.fetch_opt(q)
            .await?
            .map(|r| deposit_ref_from(&r))
            .transpose()
    }

    pub(super) async fn record_deposit_payment_impl(
        &self,
        p: &DepositPayment,
        audit: &AuditEvent,
    ) -> Result<(DepositPayment, bool)> {
        let mut tx = self.b.begin().await?;
        let r: Result<(DepositPayment, bool)> = async {
            let existing = self
                .b
                .fetch_tx(
                    &mut tx,
                    &query(
                        "SELECT doc FROM deposit_payments WHERE bank_txn_id = $1",
                        vec![Param::Text(p.bank_txn_id.clone())],
                        DOC,
                    ),
                )
                .await?;
            if let Some(r) = existing.first() {
                return Ok((doc_from(r, "deposit payment")?, false));
            }
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO deposit_payments (bank_txn_id, reference, tender_id, amount, \
                         received_at, doc) VALUES ($1, $2, $3, $4, $5, $6)",
                        vec![
                            Param::Text(p.bank_txn_id.clone()),
                            Param::Text(p.reference.clone()),
                            Param::Id(p.tender_id.0),
                            Param::Text(p.amount.clone()),
                            Param::Time(p.received_at),
                            Param::Text(to_doc(p, "deposit payment")?),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_deposit_reference"))?;
            self.append(&mut tx, audit).await?;
            Ok((p.clone(), true))
        }
        .await;
        self.finish(tx, r).await
    }

    pub(super) async fn list_deposit_payments_impl(
        &self,
        tender: TenderId,
    ) -> Result<Vec<DepositPayment>> {
        let q = query(
            "SELECT doc FROM deposit_payments WHERE tender_id = $1 ORDER BY received_at, bank_txn_id",
            vec![Param::Id(tender.0)],
            DOC,
        );
        self.b
            .fetch(&q)
            .await?
            .iter()
            .map(|r| doc_from(r, "deposit payment"))
            .collect()
    }

    pub(super) async fn add_opening_action_impl(
        &self,
        a: &OpeningAction,
        audit: &AuditEvent,
    ) -> Result<()> {
        let mut tx = self.b.begin().await?;
        let r: Result<()> = async {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO opening_actions (tender_id, member_index, kind, at, doc) \
                         VALUES ($1, $2, $3, $4, $5)",
                        vec![
                            Param::Id(a.tender_id.0),
                            Param::Int(i64::from(a.member_index)),
                            Param::Text(a.kind.clone()),
                            Param::Time(a.at),
                            Param::Text(a.doc.clone()),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_tender"))?;
            self.append(&mut tx, audit).await?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await
    }

    pub(super) async fn list_opening_actions_impl(
        &self,
        tender: TenderId,
    ) -> Result<Vec<OpeningAction>> {
        let q = query(
            "SELECT tender_id, member_index, kind, at, doc FROM opening_actions \
             WHERE tender_id = $1 ORDER BY at, member_index, kind",
            vec![Param::Id(tender.0)],
            &[Ty::Id, Ty::Int, Ty::Text, Ty::Time, Ty::Text],
        );
        self.b
            .fetch(&q)
            .await?
            .iter()
            .map(|r| {
                Ok(OpeningAction {
                    tender_id: TenderId(r.id(0)?),
                    member_index: u8::try_from(r.int(1)?)
                        .map_err(|_| StoreError::corrupt("stored member index out of range"))?,
                    kind: r.text(2)?.to_string(),
                    at: r.time(3)?,
                    doc: r.text(4)?.to_string(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::append_reads;

    #[test]
    fn append_reads_are_the_left_siblings() {
        assert!(append_reads(0).is_empty());
        assert_eq!(append_reads(1), vec![(0, 0)]);
        assert!(append_reads(2).is_empty());
        assert_eq!(append_reads(3), vec![(0, 2), (1, 0)]);
        assert_eq!(append_reads(7), vec![(0, 6), (1, 2), (2, 0)]);
    }
}
