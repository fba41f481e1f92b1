//! Reads Open Contracting (OCDS) compiled releases, one JSON object per line (JSON Lines), with the
//! bid extension's `bids.details[]`, into tenders.
//!
//! Per line (one tender):
//! - tender id: `ocid` (required, a non-empty string; each at most once in the file);
//! - estimate: `tender.value.amount` where present (a number; `null` or absent means none);
//! - bids: `bids.details[]` with `value.amount` (a number, required), `value.currency` (all bids of a
//!   tender, and the estimate, in one currency where given), `tenderers[]` (`id`, else `name`; a
//!   consortium's ids are joined with `+`) and `status`. Bids with status `invited` (no price was
//!   offered) or `withdrawn` are left out; `valid`, `pending`, `disqualified` and a missing status are
//!   kept — a disqualified cover bid is still a price that was offered;
//! - winner: the bids whose tenderers include a supplier of an award with status `active` or `pending`
//!   (or no status); `cancelled` and `unsuccessful` awards are ignored. No awards, no winner.
//!
//! Each bad line — not JSON, not an object, no `ocid`, an amount that is not a number, no bids, mixed
//! currencies, a repeated `ocid` — is reported with its line number in [`OcdsOutcome::errors`] and left
//! out, and the caller refuses the file ([`OcdsOutcome::strict`]) or goes on ([`OcdsOutcome::lenient`]),
//! as with the CSV reader. Blank lines are skipped. A release or record *package* on one line is
//! refused with a hint to unpack it (`jq -c '.releases[]'`).
use std::collections::HashMap;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::Value;

use crate::csv_input::LineError;
use crate::error::ScreenError;
use crate::input::{Bid, TenderBids};

/// What the reader made of the input.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OcdsOutcome {
    /// Tenders in input order; bids in `bids.details` order.
    pub tenders: Vec<TenderBids>,
    pub errors: Vec<LineError>,
}

impl OcdsOutcome {
    /// The tenders, or an error naming the first malformed line if there was any.
    pub fn strict(self) -> Result<Vec<TenderBids>, ScreenError> {
        match self.errors.first() {
            None => Ok(self.tenders),
            Some(first) => Err(ScreenError::MalformedLines {
                count: self.errors.len(),
                first_line: first.line,
                first_message: first.message.clone(),
            }),
        }
    }

    /// The tenders from the good lines, and the bad lines for the caller to report.
    pub fn lenient(self) -> (Vec<TenderBids>, Vec<LineError>) {
        (self.tenders, self.errors)
    }
}

#[derive(Deserialize)]
struct Release {
    ocid: Option<Value>,
    #[serde(default)]
    tender: Option<Tender>,
    #[serde(default)]
    bids: Option<Bids>,
    #[serde(default)]
    awards: Option<Vec<Award>>,
}

#[derive(Deserialize)]
struct Tender {
    #[serde(default)]
    value: Option<Amount>,
}

#[derive(Deserialize)]
struct Amount {
    #[serde(default)]
    amount: Option<Value>,
    #[serde(default)]
    currency: Option<Value>,
}

#[derive(Deserialize)]
struct Bids {
    #[serde(default)]
    details: Option<Vec<BidDetail>>,
}

#[derive(Deserialize)]
struct BidDetail {
    #[serde(default)]
    value: Option<Amount>,
    #[serde(default)]
    tenderers: Option<Vec<Party>>,
    #[serde(default)]
    status: Option<Value>,
}

#[derive(Deserialize)]
struct Party {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    name: Option<Value>,
}

#[derive(Deserialize)]
struct Award {
    #[serde(default)]
    status: Option<Value>,
    #[serde(default)]
    suppliers: Option<Vec<Party>>,
}

/// An id as OCDS writes it: a string, or (in some publishers' data) an integer.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn party_key(p: &Party) -> Option<String> {
    p.id.as_ref()
        .and_then(id_text)
        .or_else(|| p.name.as_ref().and_then(id_text))
}

/// A finite number; `Ok(None)` for absent or `null`.
fn amount(v: Option<&Value>, what: &str) -> Result<Option<f64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64().filter(|x| x.is_finite()) {
            Some(x) => Ok(Some(x)),
            None => Err(format!("{what} {n} is not a finite number")),
        },
        Some(Value::String(s)) => Err(format!(
            "{what} {s:?} is a string; OCDS amounts are JSON numbers (write {} without quotes)",
            s.trim()
        )),
        Some(other) => Err(format!("{what} {other} is not a number")),
    }
}

fn currency(a: Option<&Amount>) -> Option<String> {
    a.and_then(|a| a.currency.as_ref())
        .and_then(|c| c.as_str())
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
}

fn status(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase())
}

/// One line to one tender, or what is wrong with it.
fn parse_release(line: &str) -> Result<TenderBids, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| {
        // serde_json says "at line 1 column N" of the one line it was given: keep the column only.
        let text = e.to_string();
        let what = text.split(" at line ").next().unwrap_or(&text).to_string();
        format!("not valid JSON (column {}): {what}", e.column())
    })?;
    let Value::Object(map) = &value else {
        return Err("not a JSON object: each line must be one OCDS release".into());
    };
    if !map.contains_key("ocid") && (map.contains_key("releases") || map.contains_key("records")) {
        return Err(
            "a release or record package, not a release: unpack it to one release per line \
             (e.g. `jq -c '.releases[]'` or `jq -c '.records[].compiledRelease'`)"
                .into(),
        );
    }
    let release: Release =
        serde_json::from_value(value).map_err(|e| format!("not an OCDS release: {e}"))?;
    let ocid = release
        .ocid
        .as_ref()
        .and_then(id_text)
        .ok_or("no ocid: every release needs a non-empty \"ocid\" string")?;

    let estimate_value = release.tender.as_ref().and_then(|t| t.value.as_ref());
    let estimate = amount(
        estimate_value.and_then(|v| v.amount.as_ref()),
        "tender.value.amount",
    )?;
    let estimate_currency = currency(estimate_value);

    let details = release
        .bids
        .and_then(|b| b.details)
        .filter(|d| !d.is_empty())
        .ok_or("no bids: the release has no bids.details (the OCDS bid extension) to screen")?;

    let winners: Vec<String> = release
        .awards
        .unwrap_or_default()
        .iter()
        .filter(|a| {
            matches!(
                status(a.status.as_ref()).as_deref(),
                None | Some("active" | "pending")
            )
        })
        .flat_map(|a| a.suppliers.iter().flatten().filter_map(party_key))
        .collect();

    let mut bids = Vec::with_capacity(details.len());
    let mut currencies: Vec<String> = estimate_currency.iter().cloned().collect();
    for (i, d) in details.iter().enumerate() {
        if matches!(
            status(d.status.as_ref()).as_deref(),
            Some("invited" | "withdrawn")
        ) {
            continue;
        }
        let what = format!("bids.details[{i}].value.amount");
        let price = amount(d.value.as_ref().and_then(|v| v.amount.as_ref()), &what)?
            .ok_or_else(|| format!("{what} is missing: every bid needs its price"))?;
        if let Some(c) = currency(d.value.as_ref()) {
            if !currencies.contains(&c) {
                currencies.push(c);
            }
        }
        let keys: Vec<String> = d.tenderers.iter().flatten().filter_map(party_key).collect();
        let winner = keys.iter().any(|k| winners.contains(k));
        let bidder = (!keys.is_empty()).then(|| keys.join("+"));
        bids.push(Bid::from_f64(bidder, price, winner).map_err(|e| format!("{what}: {e}"))?);
    }
    if currencies.len() > 1 {
        return Err(format!(
            "amounts in several currencies ({}): the screens compare prices in one currency; \
             convert them first",
            currencies.join(", ")
        ));
    }
    if bids.is_empty() {
        return Err(
            "no bids: every bids.details entry is invited or withdrawn, none has a price".into(),
        );
    }
    Ok(TenderBids::new(ocid, estimate, bids))
}

/// Reads OCDS releases, one per line, from `reader`. Only an I/O failure is an `Err`; every problem
/// with a line is in [`OcdsOutcome::errors`]. A UTF-8 byte-order mark on the first line is ignored.
pub fn read_ocds<R: BufRead>(mut reader: R) -> std::io::Result<OcdsOutcome> {
    let mut out = OcdsOutcome::default();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let bytes = if line_no == 1 {
            buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf)
        } else {
            &buf
        };
        let result = match std::str::from_utf8(bytes) {
            Err(e) => Err(format!("not UTF-8 text ({e})")),
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => parse_release(text.trim()),
        };
        let tender = result.and_then(|t| match seen.get(&t.tender) {
            Some(first) => Err(format!(
                "ocid {} already appeared on line {first}: give one compiled release per contracting \
                 process",
                t.tender
            )),
            None => Ok(t),
        });
        match tender {
            Ok(t) => {
                seen.insert(t.tender.clone(), line_no);
                out.tenders.push(t);
            }
            Err(message) => out.errors.push(LineError {
                line: line_no,
                message,
            }),
        }
    }
    Ok(out)
}

/// [`read_ocds`] over a string.
pub fn read_ocds_str(text: &str) -> OcdsOutcome {
    // Reading from a byte slice cannot fail.
    read_ocds(text.as_bytes()).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"ocid":"ocds-1","tender":{"value":{"amount":1000,"currency":"EUR"}},"bids":{"details":[{"id":"b1","status":"valid","value":{"amount":950.5,"currency":"EUR"},"tenderers":[{"id":"ORG-A","name":"Alpha"}]},{"id":"b2","status":"valid","value":{"amount":990,"currency":"EUR"},"tenderers":[{"id":"ORG-B"}]},{"id":"b3","status":"disqualified","value":{"amount":1010},"tenderers":[{"name":"Gamma <&> Co"}]},{"id":"b4","status":"withdrawn","value":{"amount":1}},{"id":"b5","status":"invited"}]},"awards":[{"id":"a0","status":"cancelled","suppliers":[{"id":"ORG-B"}]},{"id":"a1","status":"active","suppliers":[{"id":"ORG-A"}]}]}"#;

    #[test]
    fn a_compiled_release_becomes_a_tender() {
        let out = read_ocds_str(GOOD);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let t = &out.tenders[0];
        assert_eq!(t.tender, "ocds-1");
        assert_eq!(t.estimate, Some(1000.0));
        let bids: Vec<_> = t
            .bids
            .iter()
            .map(|b| (b.bidder.as_deref(), b.price, b.winner))
            .collect();
        // withdrawn and invited bids are left out; the cancelled award does not make B a winner;
        // a tenderer without an id is named by its name
        assert_eq!(
            bids,
            [
                (Some("ORG-A"), 950.5, true),
                (Some("ORG-B"), 990.0, false),
                (Some("Gamma <&> Co"), 1010.0, false)
            ]
        );
    }

    #[test]
    fn no_awards_no_winner_no_estimate_and_consortia() {
        let line = r#"{"ocid":"x","bids":{"details":[{"value":{"amount":5},"tenderers":[{"id":"A"},{"id":"B"}]},{"value":{"amount":6}}]},"tender":{"value":{"amount":null}}}"#;
        let out = read_ocds_str(line);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let t = &out.tenders[0];
        assert_eq!(t.estimate, None);
        assert_eq!(t.bids[0].bidder.as_deref(), Some("A+B"));
        assert_eq!(t.bids[1].bidder, None);
        assert!(t.bids.iter().all(|b| !b.winner));
    }

    #[test]
    fn bad_lines_are_reported_with_line_numbers() {
        let text = [
            GOOD,                                                               // 1
            "{not json",                                                        // 2
            "",                                                 // 3 (blank: skipped)
            r#"{"bids":{"details":[{"value":{"amount":5}}]}}"#, // 4 no ocid
            r#"{"ocid":"a","bids":{"details":[{"value":{"amount":"12.5"}}]}}"#, // 5 string amount
            r#"{"ocid":"b"}"#,                                  // 6 no bids
            r#"{"ocid":"c","bids":{"details":[]}}"#,            // 7 empty bids
            r#"[1,2]"#,                                         // 8 not an object
            r#"{"ocid":"ocds-1","bids":{"details":[{"value":{"amount":1}}]}}"#, // 9 repeated ocid
            r#"{"ocid":"d","bids":{"details":[{"value":{"amount":1,"currency":"EUR"}},{"value":{"amount":2,"currency":"USD"}}]}}"#, // 10
            r#"{"releases":[{"ocid":"e"}]}"#, // 11 package
            r#"{"ocid":"f","bids":{"details":[{"value":{}}]}}"#, // 12 no amount
            r#"{"ocid":"g","bids":{"details":[{"value":{"amount":7}},{"value":{"amount":8}}]}}"#, // 13 good
        ]
        .join("\n");
        let out = read_ocds_str(&text);
        let lines: Vec<u64> = out.errors.iter().map(|e| e.line).collect();
        assert_eq!(
            lines,
            [2, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "{:#?}",
            out.errors
        );
        let msg = |line: u64| {
            out.errors
                .iter()
                .find(|e| e.line == line)
                .unwrap()
                .message
                .clone()
        };
        assert!(msg(2).contains("not valid JSON"));
        assert!(msg(4).contains("no ocid"));
        assert!(msg(5).contains("string") && msg(5).contains("12.5"));
        assert!(msg(6).contains("no bids"));
        assert!(msg(9).contains("line 1"));
        assert!(msg(10).contains("EUR, USD"));
        assert!(msg(11).contains("jq -c"));
        assert!(msg(12).contains("bids.details[0].value.amount is missing"));

        let (tenders, errors) = out.clone().lenient();
        assert_eq!(errors.len(), 10);
        let ids: Vec<_> = tenders.iter().map(|t| t.tender.as_str()).collect();
        assert_eq!(ids, ["ocds-1", "g"]);
        let err = out.strict().unwrap_err();
        assert_eq!(err.code(), "SCR0005MalformedLines");
        assert!(err.to_string().contains("line 2"));
    }

    #[test]
    fn byte_order_mark_crlf_and_invalid_utf8() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(br#"{"ocid":1,"bids":{"details":[{"value":{"amount":5}}]}}"#);
        bytes.extend(b"\r\n\xff\xfe\r\n");
        let out = read_ocds(&bytes[..]).unwrap();
        assert_eq!(out.tenders.len(), 1);
        assert_eq!(out.tenders[0].tender, "1");
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].line, 2);
        assert!(out.errors[0].message.contains("UTF-8"));
    }

    #[test]
    fn a_non_finite_estimate_is_refused() {
        // serde_json rejects 1e999 as a number that does not fit: the line is reported, not NaN.
        let out = read_ocds_str(
            r#"{"ocid":"x","tender":{"value":{"amount":1e999}},"bids":{"details":[{"value":{"amount":5}}]}}"#,
        );
        assert_eq!(out.errors.len(), 1);
        assert!(out.tenders.is_empty());
    }
}
