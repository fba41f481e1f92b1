//! Plaintext formats inside envelopes.
//!
//! - Price envelope: [`PricePayload`] as JSON.
//! - Deposit-payer envelope (sealed by the bank adapter): [`DepositPayerPayload`] as JSON.
//! - Technical envelope: an opaque archive (the CLI packs the bidder's folder as a tar file); this
//!   crate does not look inside it.
//!
//! JSON is compact, unknown fields are rejected, and decimals are strings (`"1234.50"`) so no
//! precision is lost on the way.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SealError};

/// Largest plaintext accepted by [`PricePayload::from_json_bytes`] and
/// [`DepositPayerPayload::from_json_bytes`] (a bill of quantities of tens of thousands of lines).
pub const MAX_JSON_PAYLOAD: usize = 32 * 1024 * 1024;

/// The price envelope: total and (optionally) the priced bill of quantities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricePayload {
    /// ISO 4217 code, `CNY` for domestic tenders.
    pub currency: String,
    /// The bid price (tax included, as the tender documents define it).
    pub total: Decimal,
    /// Bill-of-quantities lines; empty if the tender asks for a lump sum only.
    #[serde(default)]
    pub lines: Vec<BoqLine>,
    /// The people the bid names (published with the price at the opening, as the candidates'
    /// notice publishes the project manager): the anomaly engine compares them between bidders
    /// (条例 40(2), 40(3), 34). Optional.
    #[serde(default, skip_serializing_if = "Personnel::is_empty")]
    pub personnel: Personnel,
}

/// A person a bid names: the name and, where the bid gives one, a registration or certificate
/// number (e.g. the project manager's constructor registration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedPerson {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

/// Who stands behind a bid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Personnel {
    /// The person handling the bid for the bidder (委托代理人).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<NamedPerson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<NamedPerson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_representative: Option<NamedPerson>,
    /// The project-management team, project manager first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub project_members: Vec<NamedPerson>,
}

/// Longest name or certificate number accepted in [`Personnel`].
pub const MAX_PERSON_FIELD: usize = 100;

impl Personnel {
    pub fn is_empty(&self) -> bool {
        self.agent.is_none()
            && self.contact.is_none()
            && self.legal_representative.is_none()
            && self.project_members.is_empty()
    }

    fn validate(&self) -> Result<()> {
        let people = [
            ("the agent", self.agent.as_ref()),
            ("the contact person", self.contact.as_ref()),
            (
                "the legal representative",
                self.legal_representative.as_ref(),
            ),
        ]
        .into_iter()
        .filter_map(|(w, p)| p.map(|p| (w.to_string(), p)))
        .chain(
            self.project_members
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("project member {}", i + 1), p)),
        );
        for (who, p) in people {
            non_empty(&p.name, &format!("the name of {who}"))?;
            if p.name.chars().count() > MAX_PERSON_FIELD
                || p.certificate
                    .as_ref()
                    .is_some_and(|c| c.trim().is_empty() || c.chars().count() > MAX_PERSON_FIELD)
            {
                return Err(bad(format!(
                    "{who}: a name or certificate number has 1 to {MAX_PERSON_FIELD} characters"
                )));
            }
        }
        Ok(())
    }
}

/// One priced line of the bill of quantities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoqLine {
    /// Item code from the tender's bill of quantities.
    pub code: String,
    /// Item description.
    pub description: String,
    /// Unit of measure.
    pub unit: String,
    /// Quantity (any precision).
    pub quantity: Decimal,
    /// Unit price (at most 2 decimal places).
    pub unit_price: Decimal,
    /// Line amount = quantity × unit price, rounded half away from zero to 2 decimal places.
    pub amount: Decimal,
}

fn bad(message: String) -> SealError {
    SealError::BadPayload(message)
}

fn check_money(value: Decimal, what: &str) -> Result<()> {
    if value.normalize().scale() > 2 {
        return Err(bad(format!(
            "{what} {value} has more than 2 decimal places; round it to fen (0.01)"
        )));
    }
    Ok(())
}

fn non_empty(value: &str, what: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(bad(format!("{what} is empty; fill it in")));
    }
    Ok(())
}

impl PricePayload {
    /// Checks: currency is a 3-letter upper-case code; total > 0 with at most 2 decimal places; for
    /// every line, non-empty code, quantity ≥ 0, unit price ≥ 0 with at most 2 decimal places, and
    /// amount = quantity × unit price rounded half away from zero to 2 decimal places; if there are
    /// lines, their amounts add up to the total.
    pub fn validate(&self) -> Result<()> {
        if self.currency.len() != 3 || !self.currency.bytes().all(|c| c.is_ascii_uppercase()) {
            return Err(bad(format!(
                "currency `{}` is not a 3-letter ISO 4217 code such as CNY",
                self.currency
            )));
        }
        if self.total <= Decimal::ZERO {
            return Err(bad(format!(
                "the total price is {}; it must be greater than zero",
                self.total
            )));
        }
        check_money(self.total, "the total price")?;

        let mut sum = Decimal::ZERO;
        for (i, line) in self.lines.iter().enumerate() {
            let which = format!("line {} (code `{}`)", i + 1, line.code);
            non_empty(&line.code, &format!("the item code of line {}", i + 1))?;
            if line.quantity < Decimal::ZERO {
                return Err(bad(format!(
                    "{which}: quantity {} is negative",
                    line.quantity
                )));
            }
            if line.unit_price < Decimal::ZERO {
                return Err(bad(format!(
                    "{which}: unit price {} is negative",
                    line.unit_price
                )));
            }
            check_money(line.unit_price, &format!("{which}: unit price"))?;
            check_money(line.amount, &format!("{which}: amount"))?;
            let expected = line
                .quantity
                .checked_mul(line.unit_price)
                .map(|a| a.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
                .ok_or_else(|| bad(format!("{which}: quantity × unit price is too large")))?;
            if line.amount != expected {
                return Err(bad(format!(
                    "{which}: amount {} ≠ quantity {} × unit price {} = {expected}; correct the \
                     amount or the unit price",
                    line.amount, line.quantity, line.unit_price
                )));
            }
            sum = sum
                .checked_add(line.amount)
                .ok_or_else(|| bad(format!("{which}: the running sum is too large")))?;
        }
        self.personnel.validate()?;
        if !self.lines.is_empty() && sum != self.total {
            return Err(bad(format!(
                "the line amounts add up to {sum}, but the total price is {}; correct the total or \
                 the lines",
                self.total
            )));
        }
        Ok(())
    }

    /// Parses and validates.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self> {
        check_size(bytes)?;
        let payload: Self = serde_json::from_slice(bytes)?;
        payload.validate()?;
        Ok(payload)
    }

    /// Validates and serializes.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>> {
        self.validate()?;
        Ok(serde_json::to_vec(self)?)
    }
}

/// The deposit payer's details, sealed by the bank adapter when the deposit arrives so that before
/// the opening the platform only knows "reference R paid amount A".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositPayerPayload {
    /// Account holder's name as the bank reports it.
    pub payer_name: String,
    /// Payer's account number.
    pub account_number: String,
    /// Payer's bank.
    pub bank: String,
    /// Amount paid.
    pub amount: Decimal,
    /// The bank's transaction identifier.
    pub bank_transaction_id: String,
    /// When the bank booked the payment.
    pub paid_at: DateTime<Utc>,
}

impl DepositPayerPayload {
    /// Checks: names, account number, bank and transaction id non-empty; the account number made of
    /// digits, spaces and dashes; amount > 0 with at most 2 decimal places.
    pub fn validate(&self) -> Result<()> {
        non_empty(&self.payer_name, "the payer name")?;
        non_empty(&self.account_number, "the account number")?;
        non_empty(&self.bank, "the bank")?;
        non_empty(&self.bank_transaction_id, "the bank transaction id")?;
        if !self
            .account_number
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        {
            return Err(bad(format!(
                "account number `{}` may contain only digits, spaces and dashes",
                self.account_number
            )));
        }
        if self.amount <= Decimal::ZERO {
            return Err(bad(format!(
                "the deposit amount is {}; it must be greater than zero",
                self.amount
            )));
        }
        check_money(self.amount, "the deposit amount")
    }

    /// Parses and validates.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self> {
        check_size(bytes)?;
        let payload: Self = serde_json::from_slice(bytes)?;
        payload.validate()?;
        Ok(payload)
    }

    /// Validates and serializes.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>> {
        self.validate()?;
        Ok(serde_json::to_vec(self)?)
    }
}

fn check_size(bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_JSON_PAYLOAD {
        return Err(bad(format!(
            "the payload is {} bytes, more than the {MAX_JSON_PAYLOAD} allowed for a JSON envelope; \
             is this the technical envelope?",
            bytes.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn line(code: &str, q: &str, p: &str, a: &str) -> BoqLine {
        BoqLine {
            code: code.into(),
            description: "C30 混凝土".into(),
            unit: "m³".into(),
            quantity: d(q),
            unit_price: d(p),
            amount: d(a),
        }
    }

    fn price() -> PricePayload {
        PricePayload {
            currency: "CNY".into(),
            personnel: Default::default(),
            total: d("1500.34"),
            lines: vec![
                line("010101", "2.5", "100.00", "250.00"),
                // 3.333 × 375.10 = 1250.20833 → 1250.21; 2 dp half away from zero.
                line("010102", "3.333", "375.10", "1250.21"),
                line("010103", "0", "99.99", "0.00"),
                // 0.5 × 0.25 = 0.125 → 0.13 (banker's rounding would give 0.12).
                line("010104", "0.5", "0.25", "0.13"),
            ],
        }
    }

    #[test]
    fn personnel_round_trips_and_is_checked() {
        let mut p = price();
        p.personnel.project_members.push(NamedPerson {
            name: "王建军".into(),
            certificate: Some("鲁237060912345".into()),
        });
        p.personnel.agent = Some(NamedPerson {
            name: "李娜".into(),
            certificate: None,
        });
        let bytes = p.to_json_bytes().unwrap();
        assert_eq!(PricePayload::from_json_bytes(&bytes).unwrap(), p);
        // A payload without personnel still parses (older bids), and writes none.
        let plain = price();
        assert!(!String::from_utf8(plain.to_json_bytes().unwrap())
            .unwrap()
            .contains("personnel"));
        let mut bad = p.clone();
        bad.personnel.project_members[0].name = "  ".into();
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("project member 1"));
        let mut long = p.clone();
        long.personnel.agent = Some(NamedPerson {
            name: "x".repeat(MAX_PERSON_FIELD + 1),
            certificate: None,
        });
        assert!(long
            .validate()
            .unwrap_err()
            .to_string()
            .contains("the agent"));
        let mut blank = p;
        blank.personnel.project_members[0].certificate = Some(" ".into());
        assert!(blank.validate().is_err());
        let unknown = br#"{"currency":"CNY","total":"1.00","personnel":{"boss":{"name":"x"}}}"#;
        assert!(PricePayload::from_json_bytes(unknown).is_err());
    }

    #[test]
    fn valid_price_round_trips_with_string_decimals() {
        let p = price();
        p.validate().unwrap();
        let json = p.to_json_bytes().unwrap();
        let text = std::str::from_utf8(&json).unwrap();
        assert!(text.contains("\"total\":\"1500.34\""), "{text}");
        assert!(text.contains("\"quantity\":\"3.333\""), "{text}");
        assert_eq!(PricePayload::from_json_bytes(&json).unwrap(), p);
        // Lump sum without lines.
        let lump = PricePayload {
            currency: "CNY".into(),
            personnel: Default::default(),
            total: d("98000000"),
            lines: vec![],
        };
        lump.validate().unwrap();
        assert_eq!(
            PricePayload::from_json_bytes(br#"{"currency":"CNY","total":"98000000"}"#).unwrap(),
            lump
        );
    }

    #[test]
    fn price_errors_name_the_line() {
        let mut p = price();
        p.lines[1].amount = d("1250.20");
        let err = p.validate().unwrap_err();
        assert_eq!(err.code(), "bad_payload");
        assert!(err.to_string().contains("line 2 (code `010102`)"), "{err}");
        assert!(err.to_string().contains("1250.21"), "{err}");

        let mut p = price();
        p.lines[0].unit_price = d("100.001");
        let err = p.validate().unwrap_err();
        assert!(
            err.to_string().contains("line 1") && err.to_string().contains("2 decimal"),
            "{err}"
        );

        let mut p = price();
        p.lines[3].amount = d("0.12");
        assert!(p.validate().unwrap_err().to_string().contains("line 4"));

        let mut p = price();
        p.total = d("1500.35");
        let err = p.validate().unwrap_err();
        assert!(err.to_string().contains("add up to 1500.34"), "{err}");

        let mut p = price();
        p.lines[2].quantity = d("-1");
        assert!(p.validate().unwrap_err().to_string().contains("negative"));

        let mut p = price();
        p.lines[0].code = " ".into();
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("item code of line 1"));

        let mut p = price();
        p.total = Decimal::ZERO;
        p.lines.clear();
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("greater than zero"));

        let mut p = price();
        p.lines.clear();
        p.total = d("10.005");
        assert!(p
            .validate()
            .unwrap_err()
            .to_string()
            .contains("2 decimal places"));

        let mut p = price();
        p.currency = "rmb".into();
        assert_eq!(p.validate().unwrap_err().code(), "bad_payload");

        // Trailing zeros beyond 2 places are fine (10.500 is 10.50).
        let mut p = price();
        p.lines.clear();
        p.total = d("10.500");
        p.validate().unwrap();
    }

    #[test]
    fn unknown_fields_and_numbers_are_rejected() {
        let err = PricePayload::from_json_bytes(br#"{"currency":"CNY","total":"1","bonus":1}"#)
            .unwrap_err();
        assert_eq!(err.code(), "json");
        let err = PricePayload::from_json_bytes(br#"{"currency":"CNY","total":"0"}"#).unwrap_err();
        assert_eq!(err.code(), "bad_payload");
        // Decimals are strings: a JSON number (which may have passed through a float) is refused.
        let err = PricePayload::from_json_bytes(br#"{"currency":"CNY","total":1.5}"#).unwrap_err();
        assert_eq!(err.code(), "json");
    }

    fn deposit() -> DepositPayerPayload {
        DepositPayerPayload {
            payer_name: "某某建设集团有限公司".into(),
            account_number: "6222 0210 0112 3456 789".into(),
            bank: "中国工商银行北京分行".into(),
            amount: d("200000.00"),
            bank_transaction_id: "ICBC20250301000123".into(),
            paid_at: Utc.with_ymd_and_hms(2025, 3, 1, 2, 30, 0).unwrap(),
        }
    }

    #[test]
    fn deposit_payload_validation() {
        let p = deposit();
        let json = p.to_json_bytes().unwrap();
        assert_eq!(DepositPayerPayload::from_json_bytes(&json).unwrap(), p);

        let mut bad = deposit();
        bad.amount = d("-5");
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("greater than zero"));
        let mut bad = deposit();
        bad.amount = d("1.001");
        assert_eq!(bad.validate().unwrap_err().code(), "bad_payload");
        let mut bad = deposit();
        bad.payer_name = "".into();
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("payer name"));
        let mut bad = deposit();
        bad.account_number = "6222x".into();
        assert!(bad.validate().unwrap_err().to_string().contains("digits"));
        let mut bad = deposit();
        bad.bank_transaction_id = " ".into();
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("transaction id"));
    }
}
