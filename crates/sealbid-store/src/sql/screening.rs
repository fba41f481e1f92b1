//! The screening half of the SQL stores: tender screenings, alerts and their review, bid rejections
//! and credit records.
use std::collections::HashMap;

use sealbid_domain::screening::AlertStatus;
use sealbid_domain::{AlertId, OrgId, TenderId, UserId};

use super::{query, stmt, Backend, Param, Row, Sql, SqlStore, Ty};
use crate::error::on_fk;
use crate::screening::{
    AlertDecision, AlertFilter, AlertReview, BidRejection, CreditRecord, ScreeningSaved,
    ScreeningWrite, StoredAlert, TenderScreening,
};
use crate::{Result, StoreError};

const ALERT_COLS: &str =
    "id, fingerprint, tender_id, family, indicator, score_milli, status, version, raised_at, \
     updated_at, doc";
const ALERT_TYS: &[Ty] = &[
    Ty::Id,
    Ty::Text,
    Ty::Id,
    Ty::Text,
    Ty::Text,
    Ty::Int,
    Ty::Text,
    Ty::Int,
    Ty::Time,
    Ty::Time,
    Ty::Text,
];
/// Ids per `IN (...)` list.
const ID_CHUNK: usize = 500;

fn status_from(s: &str) -> Result<AlertStatus> {
    AlertStatus::parse(s).ok_or_else(|| StoreError::corrupt(format!("alert status {s:?}")))
}

fn alert_from(r: &Row) -> Result<StoredAlert> {
    Ok(StoredAlert {
        id: AlertId(r.id(0)?),
        fingerprint: r.text(1)?.to_string(),
        tender_id: TenderId(r.id(2)?),
        family: r.text(3)?.to_string(),
        indicator: r.text(4)?.to_string(),
        score_milli: r.int(5)?,
        status: status_from(r.text(6)?)?,
        version: r.int(7)?,
        raised_at: r.time(8)?,
        updated_at: r.time(9)?,
        bidders: Vec::new(),
        doc: r.text(10)?.to_string(),
    })
}

fn credit_from(r: &Row) -> Result<CreditRecord> {
    serde_json::from_str(r.text(0)?)
        .map_err(|e| StoreError::corrupt(format!("stored credit record does not parse: {e}")))
}

fn check_score(milli: i64) -> Result<()> {
    if (0..=1000).contains(&milli) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "a score is 0 to 1000 thousandths, not {milli}"
        )))
    }
}

impl<B: Backend> SqlStore<B> {
    pub(super) async fn save_screening_impl(
        &self,
        w: ScreeningWrite<'_>,
    ) -> Result<ScreeningSaved> {
        if let Some(m) = w.screening.score_milli {
            check_score(m)?;
        }
        for a in w.alerts {
            check_score(a.score_milli)?;
            if a.tender_id != w.screening.tender_id {
                return Err(StoreError::Invalid(
                    "every alert of a screening is about its tender".into(),
                ));
            }
        }
        in_tx!(self, tx, {
            let s = w.screening;
            let replaced = self
                .b
                .execute(
                    &mut tx,
                    &stmt(
                        "UPDATE tender_screenings SET at = $2, score_milli = $3, doc = $4 \
                         WHERE tender_id = $1",
                        vec![
                            Param::Id(s.tender_id.0),
                            Param::Time(s.at),
                            Param::OptInt(s.score_milli),
                            Param::Text(s.doc.clone()),
                        ],
                    ),
                )
                .await?;
            if replaced == 0 {
                self.b
                    .execute(
                        &mut tx,
                        &stmt(
                            "INSERT INTO tender_screenings (tender_id, at, score_milli, doc) \
                             VALUES ($1, $2, $3, $4)",
                            vec![
                                Param::Id(s.tender_id.0),
                                Param::Time(s.at),
                                Param::OptInt(s.score_milli),
                                Param::Text(s.doc.clone()),
                            ],
                        ),
                    )
                    .await
                    .map_err(on_fk("unknown_tender"))?;
            }
            let mut saved = ScreeningSaved::default();
            for a in w.alerts {
                let n = self
                    .b
                    .execute(
                        &mut tx,
                        &stmt(
                            "INSERT INTO alerts (id, fingerprint, tender_id, family, indicator, \
                             score_milli, status, version, raised_at, updated_at, doc) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8, $9) \
                             ON CONFLICT (fingerprint) DO NOTHING",
                            vec![
                                Param::Id(a.id.0),
                                Param::Text(a.fingerprint.clone()),
                                Param::Id(a.tender_id.0),
                                Param::Text(a.family.clone()),
                                Param::Text(a.indicator.clone()),
                                Param::Int(a.score_milli),
                                Param::Text(AlertStatus::Open.as_str().into()),
                                Param::Time(s.at),
                                Param::Text(a.doc.clone()),
                            ],
                        ),
                    )
                    .await
                    .map_err(on_fk("unknown_tender"))?;
                if n == 0 {
                    saved.existing += 1;
                    continue;
                }
                let mut bidders = a.bidders.clone();
                bidders.sort();
                bidders.dedup();
                for b in bidders {
                    self.b
                        .execute(
                            &mut tx,
                            &stmt(
                                "INSERT INTO alert_bidders (alert_id, bidder) VALUES ($1, $2)",
                                vec![Param::Id(a.id.0), Param::Text(b)],
                            ),
                        )
                        .await?;
                }
                saved.inserted.push(a.id);
            }
            self.append(&mut tx, w.audit).await?;
            Ok(saved)
        })
    }

    pub(super) async fn get_tender_screening_impl(
        &self,
        tender: TenderId,
    ) -> Result<Option<TenderScreening>> {
        let rows = self
            .b
            .fetch(&query(
                "SELECT tender_id, at, score_milli, doc FROM tender_screenings WHERE tender_id = $1",
                vec![Param::Id(tender.0)],
                &[Ty::Id, Ty::Time, Ty::Int, Ty::Text],
            ))
            .await?;
        rows.first()
            .map(|r| {
                Ok(TenderScreening {
                    tender_id: TenderId(r.id(0)?),
                    at: r.time(1)?,
                    score_milli: r.opt_int(2)?,
                    doc: r.text(3)?.to_string(),
                })
            })
            .transpose()
    }

    pub(super) async fn list_tender_screenings_impl(&self) -> Result<Vec<TenderScreening>> {
        self.b
            .fetch(&query(
                "SELECT tender_id, at, score_milli, doc FROM tender_screenings \
                 ORDER BY at, tender_id",
                vec![],
                &[Ty::Id, Ty::Time, Ty::Int, Ty::Text],
            ))
            .await?
            .iter()
            .map(|r| {
                Ok(TenderScreening {
                    tender_id: TenderId(r.id(0)?),
                    at: r.time(1)?,
                    score_milli: r.opt_int(2)?,
                    doc: r.text(3)?.to_string(),
                })
            })
            .collect()
    }

    fn where_alerts(s: &mut Sql, f: &AlertFilter) {
        if matches!(f.scope, crate::HallScope::Within(_)) {
            s.and()
                .push("tender_id IN (SELECT id FROM tenders WHERE 1 = 1");
            super::where_scope(s, &f.scope);
            s.push(")");
        }
        if let Some(t) = f.tender {
            s.and().push("tender_id = ").bind(Param::Id(t.0));
        }
        if let Some(st) = f.status {
            s.and()
                .push("status = ")
                .bind(Param::Text(st.as_str().into()));
        }
        if let Some(i) = &f.indicator {
            s.and().push("indicator = ").bind(Param::Text(i.clone()));
        }
        if let Some(fam) = &f.family {
            s.and().push("family = ").bind(Param::Text(fam.clone()));
        }
        if let Some(m) = f.min_score_milli {
            s.and().push("score_milli >= ").bind(Param::Int(m));
        }
        if let Some(b) = &f.bidder {
            s.and()
                .push("id IN (SELECT alert_id FROM alert_bidders WHERE bidder = ")
                .bind(Param::Text(b.clone()))
                .push(")");
        }
    }

    /// Fills in each alert's bidders (one query per chunk of ids).
    async fn with_bidders(&self, mut alerts: Vec<StoredAlert>) -> Result<Vec<StoredAlert>> {
        let mut by_id: HashMap<uuid::Uuid, Vec<String>> = HashMap::new();
        for chunk in alerts.chunks(ID_CHUNK) {
            let mut s = Sql::new("SELECT alert_id, bidder FROM alert_bidders WHERE alert_id IN (");
            for (i, a) in chunk.iter().enumerate() {
                if i > 0 {
                    s.push(", ");
                }
                s.bind(Param::Id(a.id.0));
            }
            s.push(") ORDER BY alert_id, bidder");
            for r in self.b.fetch(&s.query(&[Ty::Id, Ty::Text])).await? {
                by_id
                    .entry(r.id(0)?)
                    .or_default()
                    .push(r.text(1)?.to_string());
            }
        }
        for a in &mut alerts {
            a.bidders = by_id.remove(&a.id.0).unwrap_or_default();
        }
        Ok(alerts)
    }

    pub(super) async fn list_alerts_impl(&self, f: &AlertFilter) -> Result<Vec<StoredAlert>> {
        let mut s = Sql::new(&format!("SELECT {ALERT_COLS} FROM alerts"));
        Self::where_alerts(&mut s, f);
        s.push(" ORDER BY score_milli DESC, raised_at DESC, id");
        s.page(f.limit, f.offset);
        let alerts = self
            .b
            .fetch(&s.query(ALERT_TYS))
            .await?
            .iter()
            .map(alert_from)
            .collect::<Result<Vec<_>>>()?;
        self.with_bidders(alerts).await
    }

    pub(super) async fn count_alerts_impl(&self, f: &AlertFilter) -> Result<u64> {
        let mut s = Sql::new("SELECT COUNT(*) FROM alerts");
        Self::where_alerts(&mut s, f);
        let rows = self.b.fetch(&s.query(&[Ty::Int])).await?;
        let n = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0);
        u64::try_from(n).map_err(|_| StoreError::corrupt(format!("negative count {n}")))
    }

    pub(super) async fn get_alert_impl(&self, id: AlertId) -> Result<Option<StoredAlert>> {
        let rows = self
            .b
            .fetch(&query(
                &format!("SELECT {ALERT_COLS} FROM alerts WHERE id = $1"),
                vec![Param::Id(id.0)],
                ALERT_TYS,
            ))
            .await?;
        let alerts = rows.iter().map(alert_from).collect::<Result<Vec<_>>>()?;
        Ok(self.with_bidders(alerts).await?.into_iter().next())
    }

    pub(super) async fn review_alert_impl(&self, d: AlertDecision<'_>) -> Result<StoredAlert> {
        in_tx!(self, tx, {
            let review = d.review;
            let n = self
                .b
                .execute(
                    &mut tx,
                    &stmt(
                        "UPDATE alerts SET status = $2, version = version + 1, updated_at = $3 \
                         WHERE id = $1 AND version = $4 AND status = $5",
                        vec![
                            Param::Id(d.alert.0),
                            Param::Text(review.to_status.as_str().into()),
                            Param::Time(review.at),
                            Param::Int(d.expected_version),
                            Param::Text(review.from_status.as_str().into()),
                        ],
                    ),
                )
                .await?;
            if n == 0 {
                return Err(self
                    .stale(
                        &mut tx,
                        "SELECT version FROM alerts WHERE id = $1",
                        d.alert.0,
                        d.expected_version,
                    )
                    .await);
            }
            let seq = self
                .b
                .fetch_tx(
                    &mut tx,
                    &query(
                        "SELECT COUNT(*) FROM alert_reviews WHERE alert_id = $1",
                        vec![Param::Id(d.alert.0)],
                        &[Ty::Int],
                    ),
                )
                .await?
                .first()
                .map(|r| r.int(0))
                .transpose()?
                .unwrap_or(0)
                + 1;
            self.b
                .execute(
                    &mut tx,
                    &stmt(
                        "INSERT INTO alert_reviews (alert_id, seq, at, actor, action, \
                         from_status, to_status, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        vec![
                            Param::Id(d.alert.0),
                            Param::Int(seq),
                            Param::Time(review.at),
                            Param::OptId(review.actor.map(|u| u.0)),
                            Param::Text(review.action.clone()),
                            Param::Text(review.from_status.as_str().into()),
                            Param::Text(review.to_status.as_str().into()),
                            Param::Text(review.reason.clone()),
                        ],
                    ),
                )
                .await?;
            for rj in d.rejections {
                self.b
                    .execute(
                        &mut tx,
                        &stmt(
                            "INSERT INTO bid_rejections (tender_id, bidder_org, alert_id, ground, at) \
                             VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (tender_id, bidder_org, alert_id) DO NOTHING",
                            vec![
                                Param::Id(rj.tender_id.0),
                                Param::Id(rj.bidder_org.0),
                                Param::Id(rj.alert_id.0),
                                Param::Text(rj.ground.clone()),
                                Param::Time(rj.at),
                            ],
                        ),
                    )
                    .await
                    .map_err(on_fk("unknown_org"))?;
            }
            for c in d.credit {
                let doc = serde_json::to_string(c).map_err(|e| {
                    StoreError::corrupt(format!("cannot serialise credit record: {e}"))
                })?;
                self.b
                    .execute(
                        &mut tx,
                        &stmt(
                            "INSERT INTO credit_records (id, org_id, tender_id, alert_id, kind, \
                             recorded_at, barred_until, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                            vec![
                                Param::Id(c.id),
                                Param::Id(c.org_id.0),
                                Param::OptId(c.tender_id.map(|t| t.0)),
                                Param::OptId(c.alert_id.map(|a| a.0)),
                                Param::Text(c.kind.clone()),
                                Param::Time(c.recorded_at),
                                Param::OptTime(c.barred_until),
                                Param::Text(doc),
                            ],
                        ),
                    )
                    .await
                    .map_err(on_fk("unknown_org"))?;
            }
            self.append(&mut tx, d.audit).await?;
            Ok(())
        })?;
        self.get_alert_impl(d.alert)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub(super) async fn list_alert_reviews_impl(&self, alert: AlertId) -> Result<Vec<AlertReview>> {
        self.b
            .fetch(&query(
                "SELECT alert_id, seq, at, actor, action, from_status, to_status, reason \
                 FROM alert_reviews WHERE alert_id = $1 ORDER BY seq",
                vec![Param::Id(alert.0)],
                &[
                    Ty::Id,
                    Ty::Int,
                    Ty::Time,
                    Ty::Id,
                    Ty::Text,
                    Ty::Text,
                    Ty::Text,
                    Ty::Text,
                ],
            ))
            .await?
            .iter()
            .map(|r| {
                Ok(AlertReview {
                    alert_id: AlertId(r.id(0)?),
                    seq: r.int(1)?,
                    at: r.time(2)?,
                    actor: r.opt_id(3)?.map(UserId),
                    action: r.text(4)?.to_string(),
                    from_status: status_from(r.text(5)?)?,
                    to_status: status_from(r.text(6)?)?,
                    reason: r.text(7)?.to_string(),
                })
            })
            .collect()
    }

    pub(super) async fn list_bid_rejections_impl(
        &self,
        tender: TenderId,
    ) -> Result<Vec<BidRejection>> {
        self.b
            .fetch(&query(
                "SELECT tender_id, bidder_org, alert_id, ground, at FROM bid_rejections \
                 WHERE tender_id = $1 ORDER BY at, bidder_org, alert_id",
                vec![Param::Id(tender.0)],
                &[Ty::Id, Ty::Id, Ty::Id, Ty::Text, Ty::Time],
            ))
            .await?
            .iter()
            .map(|r| {
                Ok(BidRejection {
                    tender_id: TenderId(r.id(0)?),
                    bidder_org: OrgId(r.id(1)?),
                    alert_id: AlertId(r.id(2)?),
                    ground: r.text(3)?.to_string(),
                    at: r.time(4)?,
                })
            })
            .collect()
    }

    pub(super) async fn list_credit_records_impl(&self, org: OrgId) -> Result<Vec<CreditRecord>> {
        self.b
            .fetch(&query(
                "SELECT doc FROM credit_records WHERE org_id = $1 ORDER BY recorded_at DESC, id",
                vec![Param::Id(org.0)],
                &[Ty::Text],
            ))
            .await?
            .iter()
            .map(credit_from)
            .collect()
    }
}
