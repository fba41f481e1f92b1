//! The expert pool (评标专家库) from which evaluation committees are drawn (法 37, 条例 46).
//!
//! An [`Expert`] is one record of the pool: a stable id given by the pool itself, the person's
//! name (kept secret until the evaluation result), the specialties they may evaluate, their
//! employer, region, declared relationships with organisations and whether they can currently be
//! drawn. [`Expert::from_record`] builds one from a CSV row already split into columns (the caller
//! reads the file); [`pool_digest`] fingerprints a whole pool so anyone can check that a draw was
//! re-run on the same pool.
//!
//! # Canonical pool serialisation (`sealbid-expert-pool-v1`)
//!
//! [`canonical_pool_bytes`] is the exact byte string hashed by [`pool_digest`] (SHA-256, shown as
//! 64 lower-case hex digits). It is built so that it is unambiguous and easy to re-implement:
//!
//! ```text
//! pool    = "sealbid-expert-pool-v1\n" record*        records in ascending byte order of id
//! record  = str(id) str(name) list(specialties) str(employer_name) str(employer_credit_code)
//!           str(credit_code) str(region) rels bool "\n"
//! str(s)  = decimal byte length of s (UTF-8) ":" s ","       a netstring; "" is "0:,"
//! list(x) = decimal count "[" str(x1) … str(xn) "]"          specialties sorted byte-wise
//! rels    = decimal count "[" (str(credit_code) str(kind) str(org_name))* "]"
//!                                                            sorted by (credit_code, kind, org_name)
//! bool    = "1" if available else "0"
//! ```
//!
//! An absent employer, employer credit code or expert credit code is written as the empty string.
//! Strings are hashed exactly as stored (the parsers trim them; credit codes are upper-case).
//! Example: an available expert `E1` named `Li`, specialty `A01 building works`, no employer,
//! region `370202`, no relationships, is the record
//! `2:E1,2:Li,1[18:A01 building works,]0:,0:,0:,6:370202,0[]1\n`.
use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{CreditCode, DivisionCode};

/// The first line of [`canonical_pool_bytes`]; changes if the format ever does.
pub const POOL_FORMAT: &str = "sealbid-expert-pool-v1";

/// Longest id, name, specialty, employer name, relationship kind or organisation name accepted.
pub const MAX_TEXT_LEN: usize = 200;

/// The organisation an expert works for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employer {
    pub name: String,
    pub credit_code: Option<CreditCode>,
}

/// A relationship the expert declared with an organisation (former employer, shareholding, close
/// relative working there, …). Any relationship with a bidder is a conflict of interest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    pub credit_code: CreditCode,
    /// The organisation's name if known; may be empty (the CSV form does not always carry it).
    pub org_name: String,
    /// What the relationship is, e.g. `former_employer`, `shareholder`, `relative`.
    pub kind: String,
}

/// One expert of the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expert {
    /// The pool's own stable id; unique within the pool.
    pub id: String,
    /// Secret until the evaluation result is published.
    pub name: String,
    /// Specialty codes with their description, e.g. `A01 building works`. A draw quota matches
    /// on the code, the part before the first whitespace (see [`specialty_code`]).
    pub specialties: Vec<String>,
    pub employer: Option<Employer>,
    pub region: DivisionCode,
    pub relationships: Vec<Relationship>,
    /// The expert's own credit code, when the record carries one (e.g. a sole proprietorship).
    #[serde(default)]
    pub credit_code: Option<CreditCode>,
    /// Whether the expert can currently be drawn (not suspended, not on leave).
    pub available: bool,
}

/// The code of a specialty: the text before the first whitespace, e.g. `A01` for
/// `A01 building works`. Two specialties are the same when their codes are equal.
pub fn specialty_code(specialty: &str) -> &str {
    let s = specialty.trim();
    s.split_whitespace().next().unwrap_or(s)
}

/// Why an expert record is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpertError {
    #[error("the expert id is empty")]
    EmptyId,
    #[error("expert {id}: {field} is empty")]
    EmptyField { id: String, field: &'static str },
    #[error("expert {id}: {field} is longer than {MAX_TEXT_LEN} bytes")]
    TooLong { id: String, field: &'static str },
    #[error("expert {id}: {field} contains a control character (tab, newline, …); remove it")]
    ControlCharacter { id: String, field: &'static str },
    #[error("expert {id}: has no specialty; give at least one, e.g. \"A01 building works\"")]
    NoSpecialty { id: String },
    #[error("expert {id}: specialty {code} is listed twice")]
    DuplicateSpecialty { id: String, code: String },
    #[error("expert {id}: specialty \"{specialty}\" contains ';', which separates specialties")]
    SemicolonInSpecialty { id: String, specialty: String },
}

fn check_text(
    id: &str,
    field: &'static str,
    value: &str,
    may_be_empty: bool,
) -> Result<(), ExpertError> {
    if !may_be_empty && value.trim().is_empty() {
        return Err(ExpertError::EmptyField {
            id: id.to_owned(),
            field,
        });
    }
    if value.len() > MAX_TEXT_LEN {
        return Err(ExpertError::TooLong {
            id: id.to_owned(),
            field,
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ExpertError::ControlCharacter {
            id: id.to_owned(),
            field,
        });
    }
    Ok(())
}

fn required(
    record: &HashMap<&str, &str>,
    errors: &mut Vec<FieldError>,
    column: &'static str,
) -> Option<String> {
    match record.get(column).map(|v| v.trim()) {
        None => {
            errors.push(FieldError::new(column, "", "the column is missing"));
            None
        }
        Some("") => {
            errors.push(FieldError::new(column, "", "required, but empty"));
            None
        }
        Some(v) => Some(v.to_owned()),
    }
}

fn parse_code(
    errors: &mut Vec<FieldError>,
    column: &'static str,
    value: &str,
) -> Option<CreditCode> {
    match CreditCode::parse(value) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(FieldError::new(
                column,
                value,
                &format!("not a valid unified social credit code: {e}"),
            ));
            None
        }
    }
}

impl Expert {
    /// Check the record: non-empty id, name and specialties without control characters, no
    /// specialty code twice, non-empty relationship kinds.
    pub fn validate(&self) -> Result<(), ExpertError> {
        if self.id.trim().is_empty() {
            return Err(ExpertError::EmptyId);
        }
        let id = self.id.as_str();
        check_text(id, "id", id, false)?;
        check_text(id, "name", &self.name, false)?;
        if self.specialties.is_empty() {
            return Err(ExpertError::NoSpecialty { id: id.to_owned() });
        }
        let mut codes = BTreeSet::new();
        for s in &self.specialties {
            check_text(id, "specialty", s, false)?;
            if s.contains(';') {
                return Err(ExpertError::SemicolonInSpecialty {
                    id: id.to_owned(),
                    specialty: s.clone(),
                });
            }
            let code = specialty_code(s);
            if !codes.insert(code) {
                return Err(ExpertError::DuplicateSpecialty {
                    id: id.to_owned(),
                    code: code.to_owned(),
                });
            }
        }
        if let Some(e) = &self.employer {
            check_text(id, "employer name", &e.name, false)?;
        }
        for r in &self.relationships {
            check_text(id, "relationship kind", &r.kind, false)?;
            check_text(id, "relationship organisation name", &r.org_name, true)?;
        }
        Ok(())
    }

    /// Whether the expert has a specialty with the same code as `specialty`.
    pub fn has_specialty(&self, specialty: &str) -> bool {
        let wanted = specialty_code(specialty);
        self.specialties.iter().any(|s| specialty_code(s) == wanted)
    }

    /// Build an expert from one CSV row already split into `column → value`.
    ///
    /// Columns (header `id,name,specialties,employer,employer_credit_code,region,relationships,available`
    /// plus an optional `credit_code`):
    /// - `id`, `name`, `region` (six-digit division code), `specialties` (`;`-separated, e.g.
    ///   `A01 building works;B02 water works`) and `available` (`true/false`, `yes/no`, `1/0`,
    ///   `y/n`) are required;
    /// - `employer`, `employer_credit_code`, `credit_code` and `relationships` may be missing or
    ///   empty; `relationships` is `credit_code:kind` or `credit_code:kind:organisation name`,
    ///   `;`-separated.
    ///
    /// Values are trimmed. Every problem of the row is reported, each naming its column.
    pub fn from_record(record: &HashMap<&str, &str>) -> Result<Expert, RecordError> {
        let mut errors = Vec::new();
        let id = required(record, &mut errors, "id");
        let name = required(record, &mut errors, "name");
        let specialties_raw = required(record, &mut errors, "specialties");
        let region_raw = required(record, &mut errors, "region");
        let available_raw = required(record, &mut errors, "available");
        let optional = |column: &str| -> Option<String> {
            record
                .get(column)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };

        let specialties: Vec<String> = specialties_raw
            .as_deref()
            .map(|s| {
                s.split(';')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if specialties_raw.is_some() && specialties.is_empty() {
            errors.push(FieldError::new(
                "specialties",
                specialties_raw.as_deref().unwrap_or(""),
                "no specialty given; list codes separated by ';', e.g. \"A01 building works;B02 water works\"",
            ));
        }

        let region = region_raw
            .as_deref()
            .and_then(|r| match DivisionCode::parse(r) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.push(FieldError::new("region", r, &e.to_string()));
                    None
                }
            });

        let available =
            available_raw
                .as_deref()
                .and_then(|a| match a.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "y" | "1" => Some(true),
                    "false" | "no" | "n" | "0" => Some(false),
                    _ => {
                        errors.push(FieldError::new(
                            "available",
                            a,
                            "expected true/false, yes/no, y/n or 1/0",
                        ));
                        None
                    }
                });

        let employer_name = optional("employer");
        let employer_code_raw = optional("employer_credit_code");
        let employer_code = employer_code_raw
            .as_deref()
            .and_then(|c| parse_code(&mut errors, "employer_credit_code", c));
        let credit_code = optional("credit_code")
            .as_deref()
            .and_then(|c| parse_code(&mut errors, "credit_code", c));

        let mut relationships = Vec::new();
        if let Some(raw) = optional("relationships") {
            for item in raw.split(';').map(str::trim).filter(|x| !x.is_empty()) {
                let mut parts = item.splitn(3, ':').map(str::trim);
                let code = parts.next().unwrap_or("");
                let kind = parts.next().unwrap_or("");
                let org_name = parts.next().unwrap_or("");
                if kind.is_empty() {
                    errors.push(FieldError::new(
                        "relationships",
                        item,
                        "expected credit_code:kind (e.g. 91110000600037341L:former_employer)",
                    ));
                    continue;
                }
                if let Some(credit_code) = parse_code(&mut errors, "relationships", code) {
                    relationships.push(Relationship {
                        credit_code,
                        org_name: org_name.to_owned(),
                        kind: kind.to_owned(),
                    });
                }
            }
        }

        if employer_name.is_none() && employer_code_raw.is_some() {
            errors.push(FieldError::new(
                "employer",
                "",
                "employer_credit_code is given, so the employer's name is required too",
            ));
        }

        let (Some(id), Some(name), Some(region), Some(available), true) =
            (id, name, region, available, errors.is_empty())
        else {
            return Err(RecordError { errors });
        };
        let expert = Expert {
            id,
            name,
            specialties,
            employer: employer_name.map(|name| Employer {
                name,
                credit_code: employer_code,
            }),
            region,
            relationships,
            credit_code,
            available,
        };
        expert.validate().map_err(|e| RecordError {
            errors: vec![FieldError::new("", "", &e.to_string())],
        })?;
        Ok(expert)
    }
}

/// One problem with one column of a CSV row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The column; empty for a problem with the record as a whole.
    pub column: String,
    /// The offending value (as given, trimmed); may be empty.
    pub value: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl FieldError {
    fn new(column: &str, value: &str, message: &str) -> Self {
        FieldError {
            column: column.to_owned(),
            value: value.chars().take(80).collect(),
            message: message.to_owned(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.column.is_empty(), self.value.is_empty()) {
            (true, _) => write!(f, "{}", self.message),
            (false, true) => write!(f, "column {}: {}", self.column, self.message),
            (false, false) => write!(
                f,
                "column {} (\"{}\"): {}",
                self.column, self.value, self.message
            ),
        }
    }
}

/// Every problem found in one CSV row (the caller adds the row number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct RecordError {
    pub errors: Vec<FieldError>,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Why a pool as a whole is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("expert id {id} appears more than once in the pool; ids must be unique")]
    DuplicateId { id: String },
    #[error(transparent)]
    Expert(#[from] ExpertError),
}

/// Validate every record and the uniqueness of ids.
pub fn validate_pool(pool: &[Expert]) -> Result<(), PoolError> {
    let mut seen = std::collections::HashSet::with_capacity(pool.len());
    for e in pool {
        e.validate()?;
        if !seen.insert(e.id.as_str()) {
            return Err(PoolError::DuplicateId { id: e.id.clone() });
        }
    }
    Ok(())
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(s.as_bytes());
    out.push(b',');
}

/// Append one expert's canonical record (see the module documentation) to `out`.
pub fn canonical_record(expert: &Expert, out: &mut Vec<u8>) {
    put_str(out, &expert.id);
    put_str(out, &expert.name);
    let mut specialties: Vec<&str> = expert.specialties.iter().map(String::as_str).collect();
    specialties.sort_unstable();
    out.extend_from_slice(specialties.len().to_string().as_bytes());
    out.push(b'[');
    for s in specialties {
        put_str(out, s);
    }
    out.push(b']');
    let (employer_name, employer_code) = match &expert.employer {
        Some(e) => (
            e.name.as_str(),
            e.credit_code.as_ref().map(CreditCode::as_str).unwrap_or(""),
        ),
        None => ("", ""),
    };
    put_str(out, employer_name);
    put_str(out, employer_code);
    put_str(
        out,
        expert
            .credit_code
            .as_ref()
            .map(CreditCode::as_str)
            .unwrap_or(""),
    );
    put_str(out, expert.region.as_str());
    let mut rels: Vec<(&str, &str, &str)> = expert
        .relationships
        .iter()
        .map(|r| (r.credit_code.as_str(), r.kind.as_str(), r.org_name.as_str()))
        .collect();
    rels.sort_unstable();
    out.extend_from_slice(rels.len().to_string().as_bytes());
    out.push(b'[');
    for (code, kind, org) in rels {
        put_str(out, code);
        put_str(out, kind);
        put_str(out, org);
    }
    out.push(b']');
    out.push(if expert.available { b'1' } else { b'0' });
    out.push(b'\n');
}

fn sorted_by_id(pool: &[Expert]) -> Vec<&Expert> {
    let mut sorted: Vec<&Expert> = pool.iter().collect();
    sorted.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    sorted
}

/// The canonical serialisation of the pool (module documentation): what [`pool_digest`] hashes.
/// The input order does not matter.
pub fn canonical_pool_bytes(pool: &[Expert]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + pool.len() * 96);
    out.extend_from_slice(POOL_FORMAT.as_bytes());
    out.push(b'\n');
    for e in sorted_by_id(pool) {
        canonical_record(e, &mut out);
    }
    out
}

/// What stands for a withheld name in the public pool.
pub const WITHHELD: &str = "(withheld)";

/// The first line of the public pool's canonical form ([`public_pool_digest`]).
pub const PUBLIC_POOL_FORMAT: &str = "sealbid-expert-pool-public-v1";

/// The expert as the public pool shows them: every field the draw reads (id, specialties, region,
/// availability, the employer's and the expert's credit codes, declared relationships by credit
/// code and kind), the personal ones withheld (the name, the employer's and organisations'
/// names). A draw re-run on the public pool picks the same experts: the draw never reads a name.
pub fn pseudonymous(e: &Expert) -> Expert {
    Expert {
        name: WITHHELD.to_string(),
        employer: e.employer.as_ref().map(|em| Employer {
            name: WITHHELD.to_string(),
            credit_code: em.credit_code.clone(),
        }),
        relationships: e
            .relationships
            .iter()
            .map(|r| Relationship {
                org_name: String::new(),
                ..r.clone()
            })
            .collect(),
        ..e.clone()
    }
}

/// SHA-256 of the public pool's canonical form: [`canonical_pool_bytes`] of the
/// [`pseudonymous`] experts under the first line [`PUBLIC_POOL_FORMAT`]. A draw publishes it so
/// that anyone holding the public pool (`GET …/committee-draw/pool`) can re-run the draw.
pub fn public_pool_digest(pool: &[Expert]) -> String {
    let public: Vec<Expert> = pool.iter().map(pseudonymous).collect();
    let mut hasher = Sha256::new();
    hasher.update(PUBLIC_POOL_FORMAT.as_bytes());
    hasher.update(b"\n");
    let bytes = canonical_pool_bytes(&public);
    hasher.update(&bytes[POOL_FORMAT.len() + 1..]);
    hex::encode(hasher.finalize())
}

/// The public pool as CSV in the import format (`id,name,specialties,region,available,employer,
/// employer_credit_code,credit_code,relationships`), names withheld; [`Expert::from_record`]
/// reads it back.
pub fn public_pool_csv(pool: &[Expert]) -> String {
    let mut out = String::from(
        "id,name,specialties,region,available,employer,employer_credit_code,credit_code,relationships\n",
    );
    let mut sorted: Vec<Expert> = pool.iter().map(pseudonymous).collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    for e in &sorted {
        let rels: Vec<String> = e
            .relationships
            .iter()
            .map(|r| format!("{}:{}", r.credit_code, r.kind))
            .collect();
        let row = [
            field(&e.id),
            field(&e.name),
            field(&e.specialties.join(";")),
            e.region.to_string(),
            if e.available { "yes" } else { "no" }.to_string(),
            field(e.employer.as_ref().map_or("", |em| em.name.as_str())),
            e.employer
                .as_ref()
                .and_then(|em| em.credit_code.as_ref())
                .map(|c| c.to_string())
                .unwrap_or_default(),
            e.credit_code
                .as_ref()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            field(&rels.join(";")),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// SHA-256 of [`canonical_pool_bytes`], as 64 lower-case hex digits. Streams the records into the
/// hash instead of building the whole byte string.
pub fn pool_digest(pool: &[Expert]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(POOL_FORMAT.as_bytes());
    hasher.update(b"\n");
    let mut buf = Vec::with_capacity(256);
    for e in sorted_by_id(pool) {
        buf.clear();
        canonical_record(e, &mut buf);
        hasher.update(&buf);
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const CODE_A: &str = "91110000600037341L";

    fn row<'a>(pairs: &[(&'a str, &'a str)]) -> HashMap<&'a str, &'a str> {
        pairs.iter().copied().collect()
    }

    fn good_row() -> Vec<(&'static str, &'static str)> {
        vec![
            ("id", "E001"),
            ("name", "Zhang Wei"),
            ("specialties", "A01 building works; B02 water works"),
            ("employer", "Qingdao Design Institute"),
            ("employer_credit_code", CODE_A),
            ("region", "370202"),
            ("relationships", ""),
            ("available", "yes"),
        ]
    }

    fn with(
        mut base: Vec<(&'static str, &'static str)>,
        k: &'static str,
        v: &'static str,
    ) -> Vec<(&'static str, &'static str)> {
        base.retain(|(c, _)| *c != k);
        base.push((k, v));
        base
    }

    fn err_columns(pairs: &[(&str, &str)]) -> Vec<String> {
        Expert::from_record(&row(pairs))
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.column)
            .collect()
    }

    #[test]
    fn parses_a_good_row() {
        let e = Expert::from_record(&row(&good_row())).unwrap();
        assert_eq!(e.id, "E001");
        assert_eq!(e.specialties, vec!["A01 building works", "B02 water works"]);
        assert_eq!(
            e.employer
                .as_ref()
                .unwrap()
                .credit_code
                .as_ref()
                .unwrap()
                .as_str(),
            CODE_A
        );
        assert!(e.available);
        assert!(e.relationships.is_empty());
        assert!(e.has_specialty("A01"));
        assert!(e.has_specialty("B02 anything"));
        assert!(!e.has_specialty("A0"));
    }

    #[test]
    fn parses_relationships() {
        let r = with(
            good_row(),
            "relationships",
            "91110000600037341L:former_employer; 91110000600037341L:shareholder:Acme Ltd",
        );
        let e = Expert::from_record(&row(&r)).unwrap();
        assert_eq!(e.relationships.len(), 2);
        assert_eq!(e.relationships[0].kind, "former_employer");
        assert_eq!(e.relationships[1].org_name, "Acme Ltd");
    }

    #[test]
    fn reports_every_bad_column() {
        let r = with(
            with(with(good_row(), "region", "000000"), "available", "maybe"),
            "employer_credit_code",
            "91110000600037341X",
        );
        let cols = err_columns(&r);
        assert!(cols.contains(&"region".to_owned()), "{cols:?}");
        assert!(cols.contains(&"available".to_owned()), "{cols:?}");
        assert!(
            cols.contains(&"employer_credit_code".to_owned()),
            "{cols:?}"
        );
        let msg = Expert::from_record(&row(&r)).unwrap_err().to_string();
        assert!(msg.contains("expected true/false"), "{msg}");
        assert!(msg.contains("check character"), "{msg}");
    }

    #[test]
    fn missing_and_empty_required_columns() {
        let mut r = good_row();
        r.retain(|(c, _)| *c != "id");
        let err = Expert::from_record(&row(&r)).unwrap_err();
        assert_eq!(err.errors[0].column, "id");
        assert!(err.to_string().contains("missing"));
        let r = with(good_row(), "name", "  ");
        assert_eq!(err_columns(&r), vec!["name"]);
        let r = with(good_row(), "specialties", " ; ");
        assert_eq!(err_columns(&r), vec!["specialties"]);
    }

    #[test]
    fn bad_relationships_and_employer() {
        let r = with(good_row(), "relationships", "91110000600037341L");
        let msg = Expert::from_record(&row(&r)).unwrap_err().to_string();
        assert!(msg.contains("credit_code:kind"), "{msg}");
        let r = with(good_row(), "relationships", "123:relative");
        assert_eq!(err_columns(&r), vec!["relationships"]);
        let r = with(good_row(), "employer", "");
        let msg = Expert::from_record(&row(&r)).unwrap_err().to_string();
        assert!(msg.contains("employer's name is required"), "{msg}");
    }

    #[test]
    fn duplicate_specialty_and_control_characters() {
        let r = with(good_row(), "specialties", "A01 building;A01 other");
        let msg = Expert::from_record(&row(&r)).unwrap_err().to_string();
        assert!(msg.contains("specialty A01 is listed twice"), "{msg}");
        let r = with(good_row(), "name", "Zhang\tWei");
        let msg = Expert::from_record(&row(&r)).unwrap_err().to_string();
        assert!(msg.contains("control character"), "{msg}");
    }

    #[test]
    fn digest_is_order_independent_and_documented() {
        let e = Expert {
            id: "E1".into(),
            name: "Li".into(),
            specialties: vec!["A01 building works".into()],
            employer: None,
            region: DivisionCode::parse("370202").unwrap(),
            relationships: vec![],
            credit_code: None,
            available: true,
        };
        let bytes = canonical_pool_bytes(std::slice::from_ref(&e));
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "sealbid-expert-pool-v1\n2:E1,2:Li,1[18:A01 building works,]0:,0:,0:,6:370202,0[]1\n"
        );
        assert_eq!(
            pool_digest(std::slice::from_ref(&e)),
            hex::encode(Sha256::digest(&bytes))
        );
        let mut f = e.clone();
        f.id = "E0".into();
        let a = pool_digest(&[e.clone(), f.clone()]);
        let b = pool_digest(&[f.clone(), e.clone()]);
        assert_eq!(a, b);
        f.available = false;
        assert_ne!(a, pool_digest(&[e.clone(), f.clone()]));
        assert_eq!(
            validate_pool(&[e.clone(), e.clone()]),
            Err(PoolError::DuplicateId { id: "E1".into() })
        );
    }
}
