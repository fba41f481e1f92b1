//! What the API sends and receives. Responses are views of the domain types; each `From` impl
//! destructures its domain type completely, so a field added in the domain fails the build here
//! until the API decides whether to show it. Requests deny unknown fields.
//!
//! The domain crate has no OpenAPI dependency, so domain types inside these structs carry their
//! schema here: strings for money, codes and ids, and enumerations generated from the domain's own
//! values (see [`schema`]).
use chrono::{DateTime, Utc};
use sealbid_domain::audit::{AuditEvent, AuditRecord};
use sealbid_domain::org::{Hall, OrgKind, Organisation, Role, User};
use sealbid_domain::tender::{
    Amendment, Answer, Category, CommitteePolicy, EvaluationMethod, Question, ReviewReturn, Tender,
    TenderDocument, TenderState, TenderTerms, TermsPatch,
};
use sealbid_domain::{DivisionCode, Money, OrgId, TenderId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Schemas for domain types used in the API, generated from the domain's own values.
pub mod schema {
    use sealbid_domain::org::{OrgKind, Role};
    use sealbid_domain::tender::{Category, EvaluationMethod, TenderState};
    use serde::Serialize;
    use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, Type};

    /// A string schema whose values are the serde names of `values`.
    fn string_enum<T: Serialize>(values: &[T], description: &str) -> Object {
        let names: Vec<serde_json::Value> = values
            .iter()
            .filter_map(|v| serde_json::to_value(v).ok())
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some(description))
            .build()
    }

    pub fn tender_state() -> Object {
        string_enum(&TenderState::ALL, "Where the tender is in its life")
    }

    pub fn category() -> Object {
        string_enum(
            &[Category::Works, Category::Goods, Category::Services],
            "What is procured",
        )
    }

    pub fn evaluation_method() -> Object {
        string_enum(
            &[
                EvaluationMethod::LowestEvaluatedPrice,
                EvaluationMethod::ComprehensiveScoring,
            ],
            "How bids are evaluated (法 41)",
        )
    }

    pub fn optional_evaluation_method() -> Object {
        let mut o = evaluation_method();
        o.schema_type = utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]);
        if let Some(values) = o.enum_values.as_mut() {
            values.push(serde_json::Value::Null);
        }
        o
    }

    pub fn org_kind() -> Object {
        string_enum(
            &[
                OrgKind::Bidder,
                OrgKind::Tenderee,
                OrgKind::Agency,
                OrgKind::Authority,
            ],
            "What the organisation is in the market",
        )
    }

    pub fn roles() -> utoipa::openapi::schema::Array {
        ArrayBuilder::new()
            .items(string_enum(&Role::ALL, "A role"))
            .description(Some("What the user may do; a user may hold several roles"))
            .build()
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// Never prints the password.
impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LoginRequest {
            username,
            password: _,
        } = self;
        f.debug_struct("LoginRequest")
            .field("username", username)
            .field("password", &"***")
            .finish()
    }
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`. Shown once; only its hash is stored.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

/// Never prints the token.
impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LoginResponse {
            token: _,
            expires_at,
            user,
        } = self;
        f.debug_struct("LoginResponse")
            .field("token", &"***")
            .field("expires_at", expires_at)
            .field("user", user)
            .finish()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserView,
    pub org: Option<OrgView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[schema(schema_with = schema::roles)]
    pub roles: Vec<Role>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub org_id: Option<OrgId>,
    /// The hall (administrative division code) whose jurisdiction the account has.
    #[schema(value_type = String, example = "370200")]
    pub hall: DivisionCode,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        let User {
            id,
            username,
            display_name,
            roles,
            org,
            hall,
            active,
            created_at,
        } = u;
        UserView {
            id,
            username,
            display_name,
            roles,
            org_id: org,
            hall,
            active,
            created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 3–64 characters of a-z, 0-9, '.', '_' and '-' (upper case is folded).
    pub username: String,
    pub display_name: String,
    /// 10 to 256 characters.
    pub password: String,
    #[schema(schema_with = schema::roles)]
    pub roles: Vec<Role>,
    /// Required for bidders and tenderees.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub org_id: Option<OrgId>,
    /// Administrative division code of the hall, e.g. `370200`.
    #[schema(example = "370200")]
    pub hall: String,
}

/// Never prints the password.
impl std::fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured: a new field must be considered here.
        let CreateUserRequest {
            username,
            display_name,
            password: _,
            roles,
            org_id,
            hall,
        } = self;
        f.debug_struct("CreateUserRequest")
            .field("username", username)
            .field("display_name", display_name)
            .field("password", &"***")
            .field("roles", roles)
            .field("org_id", org_id)
            .field("hall", hall)
            .finish()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HallView {
    #[schema(value_type = String, example = "370200")]
    pub division: DivisionCode,
    pub name: String,
}

impl From<Hall> for HallView {
    fn from(h: Hall) -> Self {
        let Hall { division, name } = h;
        HallView { division, name }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHallRequest {
    /// Six-digit administrative division code, e.g. `370202`.
    #[schema(example = "370202")]
    pub division: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    #[schema(value_type = String, format = Uuid)]
    pub id: OrgId,
    /// Unified social credit code (GB 32100).
    #[schema(value_type = String, example = "91110000600037341L")]
    pub credit_code: sealbid_domain::CreditCode,
    pub name: String,
    #[schema(schema_with = schema::org_kind)]
    pub kind: OrgKind,
    #[schema(value_type = String, example = "370200")]
    pub hall: DivisionCode,
    pub created_at: DateTime<Utc>,
}

impl From<Organisation> for OrgView {
    fn from(o: Organisation) -> Self {
        let Organisation {
            id,
            credit_code,
            name,
            kind,
            hall,
            created_at,
        } = o;
        OrgView {
            id,
            credit_code,
            name,
            kind,
            hall,
            created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    /// Unified social credit code: 18 characters with a GB 32100 check character.
    #[schema(example = "91110000600037341L")]
    pub credit_code: String,
    pub name: String,
    #[schema(schema_with = schema::org_kind)]
    pub kind: OrgKind,
    #[schema(example = "370200")]
    pub hall: String,
}

// ---------------------------------------------------------------------------------------------
// Tenders

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentDto {
    pub name: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    pub size: u64,
}

impl From<TenderDocument> for DocumentDto {
    fn from(d: TenderDocument) -> Self {
        let TenderDocument { name, sha256, size } = d;
        DocumentDto { name, sha256, size }
    }
}

impl From<DocumentDto> for TenderDocument {
    fn from(d: DocumentDto) -> Self {
        let DocumentDto { name, sha256, size } = d;
        TenderDocument { name, sha256, size }
    }
}

/// Any `threshold` of the `members` of the opening committee can open the bids.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitteeDto {
    pub threshold: u8,
    pub members: u8,
}

impl From<CommitteePolicy> for CommitteeDto {
    fn from(c: CommitteePolicy) -> Self {
        let CommitteePolicy { threshold, members } = c;
        CommitteeDto { threshold, members }
    }
}

impl From<CommitteeDto> for CommitteePolicy {
    fn from(c: CommitteeDto) -> Self {
        let CommitteeDto { threshold, members } = c;
        CommitteePolicy { threshold, members }
    }
}

/// A tender's code and terms, to create a draft (`POST /tenders`) or replace a draft's terms
/// (`PUT /tenders/{id}`). Money is a string of yuan with at most two decimals; times are RFC 3339.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenderInput {
    /// The centre's reference number, unique: 3–40 characters of A-Z, a-z, 0-9, `-_./`.
    #[schema(example = "QD-2025-0001")]
    pub code: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[schema(schema_with = schema::category)]
    pub category: Category,
    /// A project that must be tendered by law (the 20-day bidding period applies, 法 24).
    pub mandatory: bool,
    #[schema(value_type = String, example = "1000000.00")]
    pub estimated_price: Money,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1200000.00")]
    pub ceiling_price: Option<Money>,
    /// At most 2% of the estimated price (条例 26).
    #[schema(value_type = String, example = "20000.00")]
    pub bid_deposit: Money,
    pub bid_deadline: DateTime<Utc>,
    /// Must equal the bid deadline (法 34); defaults to it.
    #[serde(default)]
    pub opening_time: Option<DateTime<Utc>>,
    #[schema(schema_with = schema::evaluation_method)]
    pub evaluation_method: EvaluationMethod,
    #[serde(default)]
    pub qualification_criteria: Vec<String>,
    /// Defaults to 3 of 5.
    #[serde(default)]
    pub committee: Option<CommitteeDto>,
}

impl TenderInput {
    /// The code as sent and the terms it describes.
    pub fn into_parts(self) -> (String, TenderTerms) {
        let TenderInput {
            code,
            title,
            description,
            category,
            mandatory,
            estimated_price,
            ceiling_price,
            bid_deposit,
            bid_deadline,
            opening_time,
            evaluation_method,
            qualification_criteria,
            committee,
        } = self;
        let terms = TenderTerms {
            title,
            description,
            category,
            mandatory,
            estimated_price,
            ceiling_price,
            bid_deposit,
            // Files are managed through the documents endpoints, which store them; the terms
            // never list a file that was not uploaded.
            documents: Vec::new(),
            bid_deadline,
            opening_time: opening_time.unwrap_or(bid_deadline),
            evaluation_method,
            qualification_criteria,
            committee: committee.map(Into::into).unwrap_or_default(),
        };
        (code, terms)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TermsView {
    pub title: String,
    pub description: String,
    #[schema(schema_with = schema::category)]
    pub category: Category,
    pub mandatory: bool,
    #[schema(value_type = String, example = "1000000.00")]
    pub estimated_price: Money,
    #[schema(value_type = Option<String>, example = "1200000.00")]
    pub ceiling_price: Option<Money>,
    #[schema(value_type = String, example = "20000.00")]
    pub bid_deposit: Money,
    pub documents: Vec<DocumentDto>,
    pub bid_deadline: DateTime<Utc>,
    pub opening_time: DateTime<Utc>,
    #[schema(schema_with = schema::evaluation_method)]
    pub evaluation_method: EvaluationMethod,
    pub qualification_criteria: Vec<String>,
    pub committee: CommitteeDto,
}

impl From<TenderTerms> for TermsView {
    fn from(t: TenderTerms) -> Self {
        let TenderTerms {
            title,
            description,
            category,
            mandatory,
            estimated_price,
            ceiling_price,
            bid_deposit,
            documents,
            bid_deadline,
            opening_time,
            evaluation_method,
            qualification_criteria,
            committee,
        } = t;
        TermsView {
            title,
            description,
            category,
            mandatory,
            estimated_price,
            ceiling_price,
            bid_deposit,
            documents: documents.into_iter().map(Into::into).collect(),
            bid_deadline,
            opening_time,
            evaluation_method,
            qualification_criteria,
            committee: committee.into(),
        }
    }
}

/// The trading centre's last return of the tender, with every problem it found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnView {
    pub at: DateTime<Utc>,
    #[schema(value_type = String, format = Uuid)]
    pub by: UserId,
    pub problems: Vec<String>,
}

impl From<ReviewReturn> for ReturnView {
    fn from(r: ReviewReturn) -> Self {
        let ReviewReturn { at, by, problems } = r;
        ReturnView { at, by, problems }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenderView {
    #[schema(value_type = String, format = Uuid)]
    pub id: TenderId,
    pub code: String,
    #[schema(value_type = String, example = "370200")]
    pub hall: DivisionCode,
    /// The tenderee organisation that owns the tender.
    #[schema(value_type = String, format = Uuid)]
    pub org_id: OrgId,
    #[schema(value_type = String, format = Uuid)]
    pub created_by: UserId,
    #[schema(schema_with = schema::tender_state)]
    pub state: TenderState,
    /// Bumped by every change.
    pub version: i64,
    pub terms: TermsView,
    pub created_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// End of the trading centre's review period (3 working days after submission).
    pub review_due: Option<DateTime<Utc>>,
    pub last_return: Option<ReturnView>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Why the tender failed or was cancelled.
    pub end_reason: Option<String>,
}

impl From<Tender> for TenderView {
    fn from(t: Tender) -> Self {
        let Tender {
            id,
            code,
            hall,
            org,
            created_by,
            terms,
            state,
            version,
            created_at,
            submitted_at,
            review_due,
            last_return,
            published_at,
            closed_at,
            opened_at,
            ended_at,
            end_reason,
        } = t;
        TenderView {
            id,
            code: code.into(),
            hall,
            org_id: org,
            created_by,
            state,
            version,
            terms: terms.into(),
            created_at,
            submitted_at,
            review_due,
            last_return: last_return.map(Into::into),
            published_at,
            closed_at,
            opened_at,
            ended_at,
            end_reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenderList {
    pub items: Vec<TenderView>,
    /// How many tenders match, regardless of `limit` and `offset`.
    pub total: u64,
}

/// One tender in the trading centre's review queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewItem {
    pub tender: TenderView,
    pub review_due: Option<DateTime<Utc>>,
    /// The review period has run out.
    pub overdue: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewList {
    /// Oldest due first.
    pub items: Vec<ReviewItem>,
    pub total: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// Every problem at once (at least one).
    pub problems: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Published with the cancellation.
    pub reason: String,
}

// ---------------------------------------------------------------------------------------------
// Amendments and clarifications

/// Changes an amendment makes; fields left out stay as they were. The category, the mandatory
/// flag and the committee are fixed at publication.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesDto {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "1000000.00")]
    pub estimated_price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "1200000.00")]
    pub ceiling_price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "20000.00")]
    pub bid_deposit: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<Vec<DocumentDto>>,
    /// A new deadline (the opening moves with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid_deadline: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = schema::optional_evaluation_method)]
    pub evaluation_method: Option<EvaluationMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification_criteria: Option<Vec<String>>,
}

impl From<ChangesDto> for TermsPatch {
    fn from(c: ChangesDto) -> Self {
        let ChangesDto {
            title,
            description,
            estimated_price,
            ceiling_price,
            bid_deposit,
            documents,
            bid_deadline,
            evaluation_method,
            qualification_criteria,
        } = c;
        TermsPatch {
            title,
            description,
            estimated_price,
            ceiling_price,
            bid_deposit,
            documents: documents.map(|d| d.into_iter().map(Into::into).collect()),
            bid_deadline,
            evaluation_method,
            qualification_criteria,
        }
    }
}

impl From<TermsPatch> for ChangesDto {
    fn from(p: TermsPatch) -> Self {
        let TermsPatch {
            title,
            description,
            estimated_price,
            ceiling_price,
            bid_deposit,
            documents,
            bid_deadline,
            evaluation_method,
            qualification_criteria,
        } = p;
        ChangesDto {
            title,
            description,
            estimated_price,
            ceiling_price,
            bid_deposit,
            documents: documents.map(|d| d.into_iter().map(Into::into).collect()),
            bid_deadline,
            evaluation_method,
            qualification_criteria,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendRequest {
    /// What changes and why, for every bidder to read.
    pub summary: String,
    pub changes: ChangesDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AmendmentView {
    #[schema(value_type = String, format = Uuid)]
    pub id: sealbid_domain::AmendmentId,
    #[schema(value_type = String, format = Uuid)]
    pub tender_id: TenderId,
    pub at: DateTime<Utc>,
    #[schema(value_type = String, format = Uuid)]
    pub by: UserId,
    pub summary: String,
    pub changes: ChangesDto,
    pub previous_deadline: DateTime<Utc>,
    pub new_deadline: DateTime<Utc>,
    /// The deadline moved because the amendment came less than 15 days before it (法 23).
    pub deadline_pushed: bool,
}

impl From<Amendment> for AmendmentView {
    fn from(a: Amendment) -> Self {
        let Amendment {
            id,
            tender_id,
            at,
            by,
            summary,
            changes,
            previous_deadline,
            new_deadline,
            deadline_pushed,
        } = a;
        AmendmentView {
            id,
            tender_id,
            at,
            by,
            summary,
            changes: changes.into(),
            previous_deadline,
            new_deadline,
            deadline_pushed,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub text: String,
    /// The answer may affect how bids are prepared: a clarification under 法 23, which moves a
    /// deadline less than 15 days away.
    pub affects_bids: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerView {
    pub text: String,
    pub at: DateTime<Utc>,
    pub affects_bids: bool,
    /// The deadline after the answer, if it moved.
    pub new_deadline: Option<DateTime<Utc>>,
}

impl From<Answer> for AnswerView {
    fn from(a: Answer) -> Self {
        // Who answered is the tenderee; the account is in the audit log, not in the notice.
        let Answer {
            text,
            at,
            by: _,
            affects_bids,
            new_deadline,
        } = a;
        AnswerView {
            text,
            at,
            affects_bids,
            new_deadline,
        }
    }
}

/// A clarification question. Who asked is shown only to admins and supervisors (条例 21).
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    #[schema(value_type = String, format = Uuid)]
    pub id: sealbid_domain::QuestionId,
    #[schema(value_type = String, format = Uuid)]
    pub tender_id: TenderId,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub asked_by: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub asked_by_org: Option<OrgId>,
    pub text: String,
    pub asked_at: DateTime<Utc>,
    pub answer: Option<AnswerView>,
}

impl QuestionView {
    /// The view of `q`, naming who asked only if `show_asker`.
    pub fn new(q: Question, show_asker: bool) -> Self {
        let Question {
            id,
            tender_id,
            asked_by,
            asked_by_org,
            text,
            asked_at,
            answer,
        } = q;
        QuestionView {
            id,
            tender_id,
            asked_by: show_asker.then_some(asked_by),
            asked_by_org: asked_by_org.filter(|_| show_asker),
            text,
            asked_at,
            answer: answer.map(Into::into),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Audit

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    #[schema(value_type = Option<String>, format = Uuid)]
    pub actor: Option<UserId>,
    pub at: DateTime<Utc>,
    /// `entity.verb`, e.g. `tender.publish`.
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecordView {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub event: AuditEventView,
}

impl AuditRecordView {
    pub fn new(r: &AuditRecord) -> Result<Self, serde_json::Error> {
        let AuditEvent {
            actor,
            at,
            action,
            entity_kind,
            entity_id,
            before,
            after,
        } = r.event()?;
        Ok(AuditRecordView {
            seq: r.seq,
            prev_hash: r.prev_hash.clone(),
            hash: r.hash.clone(),
            event: AuditEventView {
                actor,
                at,
                action,
                entity_kind,
                entity_id,
                before,
                after,
            },
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerification {
    /// The whole chain verified.
    pub ok: bool,
    /// Records verified (up to the first broken link).
    pub records: i64,
    /// Sequence number of the first broken link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
