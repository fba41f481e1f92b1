//! The evaluation half of the SQL stores: the expert pool and the committee draws.
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::{BidId, TenderId, UserId};

use super::sealing::{to_i64, to_u64};
use super::{query, stmt, Backend, Param, SqlStore, Ty};
use crate::error::on_fk;
use crate::error::StoreError;
use crate::evaluation::{
    AwardWrite, CommitteeDraw, Declaration, DrawWrite, EvaluationTime, ExpertRecord, ReportWrite,
    Representative, StoredAward, StoredReport, StoredSheet, TimeRequest,
};
use crate::Appended;
use crate::Result;

impl<B: Backend> SqlStore<B> {
    pub(super) async fn upsert_experts_impl(
        &self,
        experts: &[ExpertRecord],
        audit: &AuditEvent,
    ) -> Result<u64> {
        in_tx!(self, tx, {
            let mut n = 0;
            for e in experts {
                n += self
                    .b
                    .execute(
                        &mut tx,
                        &stmt(
                            "INSERT INTO experts (id, updated_at, doc) VALUES ($1, $2, $3) \
                             ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, \
                             doc = excluded.doc",
                            vec![
                                Param::Text(e.id.clone()),
                                Param::Time(e.updated_at),
                                Param::Text(e.doc.clone()),
                            ],
                        ),
                    )
                    .await?;
            }
            self.append(&mut tx, audit).await?;
            Ok(n)
        })
    }

    pub(super) async fn list_experts_impl(&self) -> Result<Vec<ExpertRecord>> {
        self.b
            .fetch(&query(
                "SELECT id, updated_at, doc FROM experts ORDER BY id",
                vec![],
                &[Ty::Text, Ty::Time, Ty::Text],
            ))
            .await?
            .iter()
            .map(|r| {
                Ok(ExpertRecord {
                    id: r.text(0)?.to_string(),
                    updated_at: r.time(1)?,
                    doc: r.text(2)?.to_string(),
                })
            })
            .collect()
    }

    pub(super) async fn save_draw_impl(&self, w: DrawWrite<'_>) -> Result<()> {
        let d = w.draw;
        in_tx!(self, tx, {
            if let Some((t, expected)) = w.tender {
                self.update_tender_tx(&mut tx, t, expected).await?;
            }
            match w.expected_version {
                None => {
                    self.b
                        .execute(
                            &mut tx,
                            &stmt(
                                "INSERT INTO committee_draws (tender_id, version, drawn_at, \
                                 public_doc, private_doc) VALUES ($1, $2, $3, $4, $5)",
                                vec![
                                    Param::Id(d.tender_id.0),
                                    Param::Int(d.version),
                                    Param::Time(d.drawn_at),
                                    Param::Text(d.public_doc.clone()),
                                    Param::Text(d.private_doc.clone()),
                                ],
                            ),
                        )
                        .await
                        .map_err(on_fk("unknown_tender"))?;
                }
                Some(expected) => {
                    let n = self
                        .b
                        .execute(
                            &mut tx,
                            &stmt(
                                "UPDATE committee_draws SET version = $2, drawn_at = $3, \
                                 public_doc = $4, private_doc = $5 \
                                 WHERE tender_id = $1 AND version = $6",
                                vec![
                                    Param::Id(d.tender_id.0),
                                    Param::Int(d.version),
                                    Param::Time(d.drawn_at),
                                    Param::Text(d.public_doc.clone()),
                                    Param::Text(d.private_doc.clone()),
                                    Param::Int(expected),
                                ],
                            ),
                        )
                        .await?;
                    if n == 0 {
                        return Err(self
                            .stale(
                                &mut tx,
                                "SELECT version FROM committee_draws WHERE tender_id = $1",
                                d.tender_id.0,
                                expected,
                            )
                            .await);
                    }
                }
            }
            if let Some((digest, doc)) = w.pool {
                self.b
                    .execute(
                        &mut tx,
                        &stmt(
                            "INSERT INTO draw_pools (tender_id, pool_digest, doc) VALUES ($1, $2, $3)",
                            vec![
                                Param::Id(d.tender_id.0),
                                Param::Text(digest.to_string()),
                                Param::Text(doc.to_string()),
                            ],
                        ),
                    )
                    .await?;
            }
            self.append(&mut tx, w.audit).await?;
            Ok(())
        })
    }

    pub(super) async fn get_draw_pool_impl(
        &self,
        tender: TenderId,
    ) -> Result<Option<(String, String)>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT pool_digest, doc FROM draw_pools WHERE tender_id = $1",
                vec![Param::Id(tender.0)],
                &[Ty::Text, Ty::Text],
            ))
            .await?;
        rows.first()
            .map(|r| Ok((r.text(0)?.to_string(), r.text(1)?.to_string())))
            .transpose()
    }

    pub(super) async fn get_draw_impl(&self, tender: TenderId) -> Result<Option<CommitteeDraw>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT tender_id, version, drawn_at, public_doc, private_doc \
                 FROM committee_draws WHERE tender_id = $1",
                vec![Param::Id(tender.0)],
                &[Ty::Id, Ty::Int, Ty::Time, Ty::Text, Ty::Text],
            ))
            .await?;
        rows.first()
            .map(|r| {
                Ok(CommitteeDraw {
                    tender_id: TenderId(r.id(0)?),
                    version: r.int(1)?,
                    drawn_at: r.time(2)?,
                    public_doc: r.text(3)?.to_string(),
                    private_doc: r.text(4)?.to_string(),
                })
            })
            .transpose()
    }

    pub(super) async fn link_expert_account_impl(
        &self,
        expert_id: &str,
        user: UserId,
        at: chrono::DateTime<chrono::Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        in_tx!(self, tx, {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "DELETE FROM expert_accounts WHERE expert_id = $1 OR user_id = $2",
                        vec![Param::Text(expert_id.to_string()), Param::Id(user.0)],
                    ),
                )
                .await?;
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO expert_accounts (expert_id, user_id, linked_at) \
                         VALUES ($1, $2, $3)",
                        vec![
                            Param::Text(expert_id.to_string()),
                            Param::Id(user.0),
                            Param::Time(at),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_user"))?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    pub(super) async fn expert_of_user_impl(&self, user: UserId) -> Result<Option<String>> {
        self.first_text(
            "SELECT expert_id FROM expert_accounts WHERE user_id = $1",
            vec![Param::Id(user.0)],
        )
        .await
    }

    pub(super) async fn add_declaration_impl(
        &self,
        d: &Declaration,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.exec_audited(
            stmt(
                "INSERT INTO evaluation_declarations (tender_id, user_id, expert_id, at, \
                 statement) VALUES ($1, $2, $3, $4, $5)",
                vec![
                    Param::Id(d.tender_id.0),
                    Param::Id(d.user_id.0),
                    Param::Text(d.expert_id.clone()),
                    Param::Time(d.at),
                    Param::Text(d.statement.clone()),
                ],
            ),
            "unknown_tender",
            audit,
        )
        .await
    }

    pub(super) async fn get_declaration_impl(
        &self,
        tender: TenderId,
        user: UserId,
    ) -> Result<Option<Declaration>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT tender_id, user_id, expert_id, at, statement FROM evaluation_declarations \
                 WHERE tender_id = $1 AND user_id = $2",
                vec![Param::Id(tender.0), Param::Id(user.0)],
                &[Ty::Id, Ty::Id, Ty::Text, Ty::Time, Ty::Text],
            ))
            .await?;
        rows.first()
            .map(|r| {
                Ok(Declaration {
                    tender_id: TenderId(r.id(0)?),
                    user_id: UserId(r.id(1)?),
                    expert_id: r.text(2)?.to_string(),
                    at: r.time(3)?,
                    statement: r.text(4)?.to_string(),
                })
            })
            .transpose()
    }

    pub(super) async fn set_scheme_impl(
        &self,
        tender: TenderId,
        doc: &str,
        at: chrono::DateTime<chrono::Utc>,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.exec_audited(
            stmt(
                "INSERT INTO evaluation_schemes (tender_id, set_at, doc) VALUES ($1, $2, $3) \
                 ON CONFLICT (tender_id) DO UPDATE SET set_at = excluded.set_at, doc = excluded.doc",
                vec![Param::Id(tender.0), Param::Time(at), Param::Text(doc.to_string())],
            ),
            "unknown_tender",
            audit,
        )
        .await
    }

    pub(super) async fn get_scheme_impl(&self, tender: TenderId) -> Result<Option<String>> {
        self.first_text(
            "SELECT doc FROM evaluation_schemes WHERE tender_id = $1",
            vec![Param::Id(tender.0)],
        )
        .await
    }

    pub(super) async fn put_sheet_impl(
        &self,
        sheet: &StoredSheet,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.put_member_doc("score_sheets", sheet, true, audit)
            .await
    }

    pub(super) async fn list_sheets_impl(&self, tender: TenderId) -> Result<Vec<StoredSheet>> {
        self.list_member_docs("score_sheets", tender).await
    }

    pub(super) async fn put_qualification_impl(
        &self,
        review: &StoredSheet,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.put_member_doc("qualification_reviews", review, true, audit)
            .await
    }

    pub(super) async fn put_explanation_impl(
        &self,
        explanation: &StoredSheet,
        audit: &AuditEvent,
    ) -> Result<()> {
        self.put_member_doc("outlier_explanations", explanation, false, audit)
            .await
    }

    pub(super) async fn list_explanations_impl(
        &self,
        tender: TenderId,
    ) -> Result<Vec<StoredSheet>> {
        self.list_member_docs("outlier_explanations", tender).await
    }

    pub(super) async fn list_qualifications_impl(
        &self,
        tender: TenderId,
    ) -> Result<Vec<StoredSheet>> {
        self.list_member_docs("qualification_reviews", tender).await
    }

    /// A member's document about a bid (a score sheet or a qualification checklist), refused once
    /// the tender's report is drawn up: what the members sign must not change under them.
    async fn put_member_doc(
        &self,
        table: &'static str,
        doc: &StoredSheet,
        frozen_by_report: bool,
        audit: &AuditEvent,
    ) -> Result<()> {
        in_tx!(self, tx, {
            let drawn = if !frozen_by_report {
                Vec::new()
            } else {
                self.b
                    .fetch_tx(
                        &mut tx,
                        &query(
                            "SELECT version FROM evaluation_reports WHERE tender_id = $1",
                            vec![Param::Id(doc.tender_id.0)],
                            &[Ty::Int],
                        ),
                    )
                    .await?
            };
            if !drawn.is_empty() {
                return Err(StoreError::Conflict("report_drawn_up"));
            }
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        &format!(
                            "INSERT INTO {table} (tender_id, user_id, bid_id, submitted_at, doc) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tender_id, user_id, bid_id) \
                             DO UPDATE SET submitted_at = excluded.submitted_at, doc = excluded.doc"
                        ),
                        vec![
                            Param::Id(doc.tender_id.0),
                            Param::Id(doc.user_id.0),
                            Param::Id(doc.bid_id.0),
                            Param::Time(doc.submitted_at),
                            Param::Text(doc.doc.clone()),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_tender"))?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    async fn list_member_docs(
        &self,
        table: &'static str,
        tender: TenderId,
    ) -> Result<Vec<StoredSheet>> {
        self.b
            .fetch(&query(
                &format!(
                    "SELECT tender_id, user_id, bid_id, submitted_at, doc FROM {table} \
                     WHERE tender_id = $1 ORDER BY user_id, bid_id"
                ),
                vec![Param::Id(tender.0)],
                &[Ty::Id, Ty::Id, Ty::Id, Ty::Time, Ty::Text],
            ))
            .await?
            .iter()
            .map(|r| {
                Ok(StoredSheet {
                    tender_id: TenderId(r.id(0)?),
                    user_id: UserId(r.id(1)?),
                    bid_id: BidId(r.id(2)?),
                    submitted_at: r.time(3)?,
                    doc: r.text(4)?.to_string(),
                })
            })
            .collect()
    }

    pub(super) async fn user_of_expert_impl(&self, expert_id: &str) -> Result<Option<UserId>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT user_id FROM expert_accounts WHERE expert_id = $1",
                vec![Param::Text(expert_id.to_string())],
                &[Ty::Id],
            ))
            .await?;
        rows.first().map(|r| Ok(UserId(r.id(0)?))).transpose()
    }

    pub(super) async fn set_representatives_impl(
        &self,
        tender: TenderId,
        reps: &[Representative],
        audit: &AuditEvent,
    ) -> Result<()> {
        in_tx!(self, tx, {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "DELETE FROM evaluation_representatives WHERE tender_id = $1",
                        vec![Param::Id(tender.0)],
                    ),
                )
                .await?;
            for r in reps {
                self.b
                    .execute(
                        &mut tx,
                        &stmt(
                            "INSERT INTO evaluation_representatives (tender_id, user_id, seat, \
                             appointed_at) VALUES ($1, $2, $3, $4)",
                            vec![
                                Param::Id(tender.0),
                                Param::Id(r.user_id.0),
                                Param::Int(i64::from(r.seat)),
                                Param::Time(r.appointed_at),
                            ],
                        ),
                    )
                    .await
                    .map_err(on_fk("unknown_user"))?;
            }
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    pub(super) async fn list_representatives_impl(
        &self,
        tender: TenderId,
    ) -> Result<Vec<Representative>> {
        self.b
            .fetch(&query(
                "SELECT tender_id, user_id, seat, appointed_at FROM evaluation_representatives \
                 WHERE tender_id = $1 ORDER BY seat",
                vec![Param::Id(tender.0)],
                &[Ty::Id, Ty::Id, Ty::Int, Ty::Time],
            ))
            .await?
            .iter()
            .map(|r| {
                Ok(Representative {
                    tender_id: TenderId(r.id(0)?),
                    user_id: UserId(r.id(1)?),
                    seat: u32::try_from(r.int(2)?)
                        .map_err(|_| StoreError::corrupt("a seat out of range"))?,
                    appointed_at: r.time(3)?,
                })
            })
            .collect()
    }

    async fn put_time_tx(&self, tx: &mut B::Tx, t: &EvaluationTime) -> Result<()> {
        self.b
            .execute(
                tx,
                &stmt(
                    "INSERT INTO evaluation_time (tender_id, due_at, set_at, extended) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (tender_id) DO UPDATE SET \
                     due_at = excluded.due_at, set_at = excluded.set_at, extended = excluded.extended",
                    vec![
                        Param::Id(t.tender_id.0),
                        Param::Time(t.due_at),
                        Param::Time(t.set_at),
                        Param::Int(i64::from(t.extended)),
                    ],
                ),
            )
            .await
            .map_err(on_fk("unknown_tender"))?;
        Ok(())
    }

    pub(super) async fn set_evaluation_time_impl(
        &self,
        time: &EvaluationTime,
        audit: &AuditEvent,
    ) -> Result<()> {
        in_tx!(self, tx, {
            self.put_time_tx(&mut tx, time).await?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    pub(super) async fn get_evaluation_time_impl(
        &self,
        tender: TenderId,
    ) -> Result<Option<EvaluationTime>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT tender_id, due_at, set_at, extended FROM evaluation_time \
                 WHERE tender_id = $1",
                vec![Param::Id(tender.0)],
                &[Ty::Id, Ty::Time, Ty::Time, Ty::Int],
            ))
            .await?;
        rows.first()
            .map(|r| {
                Ok(EvaluationTime {
                    tender_id: TenderId(r.id(0)?),
                    due_at: r.time(1)?,
                    set_at: r.time(2)?,
                    extended: u32::try_from(r.int(3)?)
                        .map_err(|_| StoreError::corrupt("an extension count out of range"))?,
                })
            })
            .transpose()
    }

    pub(super) async fn add_time_request_impl(
        &self,
        request: &TimeRequest,
        extend: Option<&EvaluationTime>,
        audit: &AuditEvent,
    ) -> Result<()> {
        in_tx!(self, tx, {
            let dup = self
                .b
                .fetch_tx(
                    &mut tx,
                    &query(
                        "SELECT at FROM evaluation_time_requests WHERE tender_id = $1 AND user_id = $2",
                        vec![Param::Id(request.tender_id.0), Param::Id(request.user_id.0)],
                        &[Ty::Time],
                    ),
                )
                .await?;
            if !dup.is_empty() {
                return Err(StoreError::Conflict("time_request"));
            }
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO evaluation_time_requests (tender_id, user_id, at, reason) \
                         VALUES ($1, $2, $3, $4)",
                        vec![
                            Param::Id(request.tender_id.0),
                            Param::Id(request.user_id.0),
                            Param::Time(request.at),
                            Param::Text(request.reason.clone()),
                        ],
                    ),
                )
                .await
                .map_err(on_fk("unknown_tender"))?;
            if let Some(t) = extend {
                self.put_time_tx(&mut tx, t).await?;
            }
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    pub(super) async fn list_time_requests_impl(
        &self,
        tender: TenderId,
    ) -> Result<Vec<TimeRequest>> {
        self.b
            .fetch(&query(
                "SELECT tender_id, user_id, at, reason FROM evaluation_time_requests \
                 WHERE tender_id = $1 ORDER BY at, user_id",
                vec![Param::Id(tender.0)],
                &[Ty::Id, Ty::Id, Ty::Time, Ty::Text],
            ))
            .await?
            .iter()
            .map(|r| {
                Ok(TimeRequest {
                    tender_id: TenderId(r.id(0)?),
                    user_id: UserId(r.id(1)?),
                    at: r.time(2)?,
                    reason: r.text(3)?.to_string(),
                })
            })
            .collect()
    }

    /// Writes one versioned row keyed by tender: the first (`expected: None`; `Conflict(what)` if
    /// there is one) or the next version (`VersionConflict` if the stored one moved on). `cols`
    /// name the columns `params` fill, `tender_id` and `version` first.
    #[allow(clippy::too_many_arguments)]
    async fn write_versioned_tx(
        &self,
        tx: &mut B::Tx,
        table: &'static str,
        what: &'static str,
        tender: TenderId,
        cols: &[&str],
        mut params: Vec<Param>,
        expected: Option<i64>,
    ) -> Result<()> {
        match expected {
            None => {
                let exists = self
                    .b
                    .fetch_tx(
                        tx,
                        &query(
                            &format!("SELECT version FROM {table} WHERE tender_id = $1"),
                            vec![Param::Id(tender.0)],
                            &[Ty::Int],
                        ),
                    )
                    .await?;
                if !exists.is_empty() {
                    return Err(StoreError::Conflict(what));
                }
                let marks: Vec<String> = (1..=cols.len()).map(|n| format!("${n}")).collect();
                self.b
                    .execute(
                        tx,
                        &stmt(
                            &format!(
                                "INSERT INTO {table} ({}) VALUES ({})",
                                cols.join(", "),
                                marks.join(", ")
                            ),
                            params,
                        ),
                    )
                    .await
                    .map_err(on_fk("unknown_tender"))?;
            }
            Some(expected) => {
                let sets: Vec<String> = cols
                    .iter()
                    .enumerate()
                    .skip(1)
                    .map(|(n, c)| format!("{c} = ${}", n + 1))
                    .collect();
                params.push(Param::Int(expected));
                let n = self
                    .b
                    .execute(
                        tx,
                        &stmt(
                            &format!(
                                "UPDATE {table} SET {} WHERE tender_id = $1 AND version = ${}",
                                sets.join(", "),
                                cols.len() + 1
                            ),
                            params,
                        ),
                    )
                    .await?;
                if n == 0 {
                    return Err(self
                        .stale(
                            tx,
                            &format!("SELECT version FROM {table} WHERE tender_id = $1"),
                            tender.0,
                            expected,
                        )
                        .await);
                }
            }
        }
        Ok(())
    }

    pub(super) async fn save_report_impl(&self, w: ReportWrite<'_>) -> Result<Option<Appended>> {
        let d = w.report;
        in_tx!(self, tx, {
            // The audit lock also serialises the log head.
            self.b.lock_audit(&mut tx).await?;
            let appended = match &w.log {
                Some(a) => Some(self.append_log_tx(&mut tx, a).await?),
                None => None,
            };
            let (log_index, checkpoint) = match &appended {
                Some(a) => (Some(to_i64(a.index)?), Some(a.checkpoint.clone())),
                None => (d.log_index.map(to_i64).transpose()?, d.checkpoint.clone()),
            };
            self.write_versioned_tx(
                &mut tx,
                "evaluation_reports",
                "report",
                d.tender_id,
                &[
                    "tender_id",
                    "version",
                    "drawn_up_at",
                    "body",
                    "signatures",
                    "logged",
                    "log_index",
                    "checkpoint",
                ],
                vec![
                    Param::Id(d.tender_id.0),
                    Param::Int(d.version),
                    Param::Time(d.drawn_up_at),
                    Param::Text(d.body.clone()),
                    Param::Text(d.signatures.clone()),
                    Param::OptText(d.logged.clone()),
                    Param::OptInt(log_index),
                    Param::OptText(checkpoint),
                ],
                w.expected_version,
            )
            .await?;
            self.append(&mut tx, w.audit).await?;
            Ok(appended)
        })
    }

    pub(super) async fn get_report_impl(&self, tender: TenderId) -> Result<Option<StoredReport>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT tender_id, version, drawn_up_at, body, signatures, logged, log_index, \
                 checkpoint FROM evaluation_reports WHERE tender_id = $1",
                vec![Param::Id(tender.0)],
                &[
                    Ty::Id,
                    Ty::Int,
                    Ty::Time,
                    Ty::Text,
                    Ty::Text,
                    Ty::Text,
                    Ty::Int,
                    Ty::Text,
                ],
            ))
            .await?;
        rows.first()
            .map(|r| {
                Ok(StoredReport {
                    tender_id: TenderId(r.id(0)?),
                    version: r.int(1)?,
                    drawn_up_at: r.time(2)?,
                    body: r.text(3)?.to_string(),
                    signatures: r.text(4)?.to_string(),
                    logged: r.opt_text(5)?.map(str::to_string),
                    log_index: r.opt_int(6)?.map(to_u64).transpose()?,
                    checkpoint: r.opt_text(7)?.map(str::to_string),
                })
            })
            .transpose()
    }

    pub(super) async fn save_award_impl(&self, w: AwardWrite<'_>) -> Result<()> {
        let a = w.award;
        in_tx!(self, tx, {
            if let Some((t, expected)) = w.tender {
                self.update_tender_tx(&mut tx, t, expected).await?;
            }
            self.write_versioned_tx(
                &mut tx,
                "awards",
                "award",
                a.tender_id,
                &["tender_id", "version", "updated_at", "doc"],
                vec![
                    Param::Id(a.tender_id.0),
                    Param::Int(a.version),
                    Param::Time(a.updated_at),
                    Param::Text(a.doc.clone()),
                ],
                w.expected_version,
            )
            .await?;
            self.append(&mut tx, w.audit).await?;
            Ok(())
        })
    }

    fn award_from(r: &super::Row) -> Result<StoredAward> {
        Ok(StoredAward {
            tender_id: TenderId(r.id(0)?),
            version: r.int(1)?,
            updated_at: r.time(2)?,
            doc: r.text(3)?.to_string(),
        })
    }

    pub(super) async fn get_award_impl(&self, tender: TenderId) -> Result<Option<StoredAward>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT tender_id, version, updated_at, doc FROM awards WHERE tender_id = $1",
                vec![Param::Id(tender.0)],
                &[Ty::Id, Ty::Int, Ty::Time, Ty::Text],
            ))
            .await?;
        rows.first().map(Self::award_from).transpose()
    }

    pub(super) async fn list_awards_impl(&self) -> Result<Vec<StoredAward>> {
        self.b
            .fetch(&query(
                "SELECT tender_id, version, updated_at, doc FROM awards ORDER BY updated_at, tender_id",
                vec![],
                &[Ty::Id, Ty::Int, Ty::Time, Ty::Text],
            ))
            .await?
            .iter()
            .map(Self::award_from)
            .collect()
    }

    /// One statement and its audit event in one transaction; a missing referenced row is
    /// `Conflict(fk)`.
    async fn exec_audited(
        &self,
        q: super::Query,
        fk: &'static str,
        audit: &AuditEvent,
    ) -> Result<()> {
        in_tx!(self, tx, {
            self.b.execute(&mut tx, &q).await.map_err(on_fk(fk))?;
            self.append(&mut tx, audit).await?;
            Ok(())
        })
    }

    /// The first column of the first row, as text.
    async fn first_text(&self, sql: &str, params: Vec<Param>) -> Result<Option<String>> {
        let rows = self.b.fetch(&query(sql, params, &[Ty::Text])).await?;
        rows.first().map(|r| Ok(r.text(0)?.to_string())).transpose()
    }
}
