//! The evaluation half of the SQL stores: the expert pool and the committee draws.
use sealbid_domain::audit::AuditEvent;
use sealbid_domain::{BidId, TenderId, UserId};

use super::{query, stmt, Backend, Param, SqlStore, Ty};
use crate::error::on_fk;
use crate::evaluation::{CommitteeDraw, Declaration, DrawWrite, ExpertRecord, StoredSheet};
use crate::Result;

impl<B: Backend> SqlStore<B> {
    pub(super) async fn upsert_experts_impl(
        &self,
        experts: &[ExpertRecord],
        audit: &AuditEvent,
    ) -> Result<u64> {
        let mut tx = self.b.begin().await?;
        let r: Result<u64> = async {
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
        }
        .await;
        self.finish(tx, r).await
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
        let mut tx = self.b.begin().await?;
        let r: Result<()> = async {
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
            self.append(&mut tx, w.audit).await?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await
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
        let mut tx = self.b.begin().await?;
        let r: Result<()> = async {
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
        }
        .await;
        self.finish(tx, r).await
    }

    pub(super) async fn expert_of_user_impl(&self, user: UserId) -> Result<Option<String>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT expert_id FROM expert_accounts WHERE user_id = $1",
                vec![Param::Id(user.0)],
                &[Ty::Text],
            ))
            .await?;
        rows.first().map(|r| Ok(r.text(0)?.to_string())).transpose()
    }

    pub(super) async fn add_declaration_impl(
        &self,
        d: &Declaration,
        audit: &AuditEvent,
    ) -> Result<()> {
        let mut tx = self.b.begin().await?;
        let r: Result<()> = async {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
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
                )
                .await
                .map_err(on_fk("unknown_tender"))?;
            self.append(&mut tx, audit).await?;
            Ok(())
        }
        .await;
        self.finish(tx, r).await
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
        let mut tx = self.b.begin().await?;
        let r: Result<()> = async {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO evaluation_schemes (tender_id, set_at, doc) VALUES ($1, $2, $3) \
                         ON CONFLICT (tender_id) DO UPDATE SET set_at = excluded.set_at, doc = excluded.doc",
                        vec![Param::Id(tender.0), Param::Time(at), Param::Text(doc.to_string())],
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

    pub(super) async fn get_scheme_impl(&self, tender: TenderId) -> Result<Option<String>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT doc FROM evaluation_schemes WHERE tender_id = $1",
                vec![Param::Id(tender.0)],
                &[Ty::Text],
            ))
            .await?;
        rows.first().map(|r| Ok(r.text(0)?.to_string())).transpose()
    }

    pub(super) async fn put_sheet_impl(
        &self,
        sheet: &StoredSheet,
        audit: &AuditEvent,
    ) -> Result<()> {
        let mut tx = self.b.begin().await?;
        let r: Result<()> = async {
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO score_sheets (tender_id, user_id, bid_id, submitted_at, doc) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tender_id, user_id, bid_id) \
                         DO UPDATE SET submitted_at = excluded.submitted_at, doc = excluded.doc",
                        vec![
                            Param::Id(sheet.tender_id.0),
                            Param::Id(sheet.user_id.0),
                            Param::Id(sheet.bid_id.0),
                            Param::Time(sheet.submitted_at),
                            Param::Text(sheet.doc.clone()),
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

    pub(super) async fn list_sheets_impl(&self, tender: TenderId) -> Result<Vec<StoredSheet>> {
        self.b
            .fetch(&query(
                "SELECT tender_id, user_id, bid_id, submitted_at, doc FROM score_sheets \
                 WHERE tender_id = $1 ORDER BY user_id, bid_id",
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
}
