//! Money: a non-negative amount of yuan (CNY) with at most two decimal places (fen). Never a float.
//!
//! Amounts travel as strings (`"1234.56"`) in JSON. A JSON number is accepted on input for the
//! convenience of hand-written requests; see the [`Deserialize`] impl for how that is done without
//! trusting floating point.
use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Most digits before the decimal point: amounts stay below 10^15 yuan, so the amount in fen
/// (below 10^17) always fits an `i64`.
const MAX_INTEGER_DIGITS: usize = 15;

/// Largest significant-digit count for which a JSON number's `f64` gives back exactly the
/// decimal literal that was written (f64 guarantees 15 decimal digits).
const MAX_JSON_NUMBER_DIGITS: usize = 15;

/// Why an amount of money was refused. Every variant has the API code `invalid_money`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a plain decimal number such as `1234.56`.
    #[error("\"{input}\" is not an amount of money; write yuan as digits with at most two decimal places, e.g. 1234.56")]
    Malformed { input: String },
    /// Below zero.
    #[error("an amount of money cannot be negative")]
    Negative,
    /// More than two decimal places: the smallest unit is the fen (0.01 yuan).
    #[error("\"{input}\" has more than two decimal places; amounts are in yuan to the fen (0.01)")]
    TooManyDecimals { input: String },
    /// At or above 10^15 yuan, or an arithmetic result that would be.
    #[error("amount too large: amounts must be below 1,000,000,000,000,000 yuan")]
    TooLarge,
    /// A JSON number with more digits than a floating-point number carries exactly.
    #[error("the JSON number {shown} has more than 15 significant digits; send the amount as a string, e.g. \"1234.56\"")]
    ImpreciseNumber { shown: String },
}

impl MoneyError {
    /// Stable machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        "invalid_money"
    }
}

/// A non-negative amount of yuan with at most two decimal places, below 10^15 yuan.
///
/// Ordered and compared by value. Displayed and serialised with exactly two decimals (`"1234.50"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money(Decimal);

/// Shorten user input before echoing it in an error.
fn shown(input: &str) -> String {
    const LIMIT: usize = 40;
    if input.chars().count() > LIMIT {
        let mut s: String = input.chars().take(LIMIT).collect();
        s.push('…');
        s
    } else {
        input.to_owned()
    }
}

impl Money {
    /// Zero yuan.
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, 2));

    /// The largest amount: 999,999,999,999,999.99 yuan (99,999,999,999,999,999 fen).
    pub const MAX: Money = Money(Decimal::from_parts(1_569_325_055, 23_283_064, 0, false, 2));

    /// Parse `"1234.56"`, `"1234.5"`, `"1234"` (trimmed). Refuses signs, exponents, separators,
    /// a bare or trailing point and more than two decimal places.
    pub fn parse(input: &str) -> Result<Money, MoneyError> {
        let s = input.trim();
        let malformed = || MoneyError::Malformed { input: shown(s) };
        if let Some(rest) = s.strip_prefix('-') {
            // Say "negative" only for something that would otherwise be a number.
            return if Money::parse(rest).is_ok() {
                Err(MoneyError::Negative)
            } else {
                Err(malformed())
            };
        }
        let (int_part, frac_part) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || !frac_part.is_none_or(all_digits) {
            return Err(malformed());
        }
        if frac_part.is_some_and(|f| f.len() > 2) {
            return Err(MoneyError::TooManyDecimals { input: shown(s) });
        }
        if int_part.trim_start_matches('0').len() > MAX_INTEGER_DIGITS {
            return Err(MoneyError::TooLarge);
        }
        let d = Decimal::from_str(s).map_err(|_| malformed())?;
        Money::new(d)
    }

    /// An amount from a decimal: refused if negative, finer than the fen, or 10^15 yuan or more.
    pub fn new(amount: Decimal) -> Result<Money, MoneyError> {
        if amount < Decimal::ZERO {
            return Err(MoneyError::Negative);
        }
        if amount.normalize().scale() > 2 {
            return Err(MoneyError::TooManyDecimals {
                input: shown(&amount.to_string()),
            });
        }
        if amount
            .trunc()
            .abs()
            .to_string()
            .trim_start_matches('0')
            .len()
            > MAX_INTEGER_DIGITS
        {
            return Err(MoneyError::TooLarge);
        }
        // Fix the scale at 2 so `amount()` always prints as yuan.fen; also turns −0 into 0.
        let mut d = amount.abs();
        d.rescale(2);
        Ok(Money(d))
    }

    /// An amount given in fen (0.01 yuan).
    pub fn from_fen(fen: u64) -> Result<Money, MoneyError> {
        Money::new(Decimal::from_i128_with_scale(i128::from(fen), 2))
    }

    /// The amount in fen. Exact: amounts are below 10^17 fen.
    pub fn to_fen(&self) -> i64 {
        let mut d = self.0;
        d.rescale(2);
        // Always in range by the constructor's limit; saturate rather than panic regardless.
        i64::try_from(d.mantissa()).unwrap_or(i64::MAX)
    }

    /// The amount in yuan, with scale 2.
    pub fn amount(&self) -> Decimal {
        self.0
    }

    /// Whether this is zero yuan.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// `self + other`, or `None` if the sum reaches 10^15 yuan.
    pub fn checked_add(&self, other: &Money) -> Option<Money> {
        self.0.checked_add(other.0).and_then(|d| Money::new(d).ok())
    }

    /// `self − other`, or `None` if the result would be negative.
    pub fn checked_sub(&self, other: &Money) -> Option<Money> {
        self.0.checked_sub(other.0).and_then(|d| Money::new(d).ok())
    }

    /// `pct` percent of this amount, rounded to the fen with halves away from zero (the rounding
    /// accounting uses, not banker's rounding): 2% of 1,234,567.89 is 24,691.36.
    ///
    /// Never fails, for computing caps such as the bid deposit limit: a negative `pct` gives zero
    /// (the strictest cap) and a result of 10^15 yuan or more gives [`Money::MAX`]. Use
    /// [`Money::checked_percent_of`] to be told about either instead.
    pub fn percent_of(&self, pct: Decimal) -> Money {
        match self.checked_percent_of(pct) {
            Ok(m) => m,
            Err(MoneyError::Negative) => Money::ZERO,
            Err(_) => Money::MAX,
        }
    }

    /// `pct` percent of this amount rounded down to the fen: the largest amount that does not
    /// exceed the exact percentage. Use it for legal caps ("at most 2% of the estimated price"),
    /// where rounding the limit up would let through an amount above it. A negative `pct` gives
    /// zero; a result of 10^15 yuan or more gives [`Money::MAX`].
    pub fn percent_of_floor(&self, pct: Decimal) -> Money {
        if pct < Decimal::ZERO {
            return Money::ZERO;
        }
        self.0
            .checked_mul(pct)
            .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
            .and_then(|raw| {
                Money::new(raw.round_dp_with_strategy(2, RoundingStrategy::ToZero)).ok()
            })
            .unwrap_or(Money::MAX)
    }

    /// Like [`Money::percent_of`], but a negative `pct` is [`MoneyError::Negative`] and a result
    /// of 10^15 yuan or more is [`MoneyError::TooLarge`].
    pub fn checked_percent_of(&self, pct: Decimal) -> Result<Money, MoneyError> {
        if pct < Decimal::ZERO {
            return Err(MoneyError::Negative);
        }
        let raw = self
            .0
            .checked_mul(pct)
            .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
            .ok_or(MoneyError::TooLarge)?;
        Money::new(raw.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
    }
}

impl Default for Money {
    fn default() -> Self {
        Money::ZERO
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl TryFrom<Decimal> for Money {
    type Error = MoneyError;
    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        Money::new(d)
    }
}

impl From<Money> for Decimal {
    fn from(m: Money) -> Decimal {
        m.0
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Recover the decimal literal behind a JSON number that serde_json has already turned into an
/// `f64` (it does so for every number with a fraction or exponent unless the workspace enables
/// its `arbitrary_precision` feature).
///
/// Rust prints an `f64` as the shortest decimal that reads back as the same `f64`, without an
/// exponent. For a literal of at most 15 significant digits that shortest form is the literal
/// itself, because distinct 15-digit decimals never share an `f64`. Longer literals cannot be
/// recovered and are refused; no arithmetic is ever done in floating point.
fn money_from_json_f64(v: f64) -> Result<Money, MoneyError> {
    if !v.is_finite() {
        return Err(MoneyError::Malformed {
            input: v.to_string(),
        });
    }
    let printed = format!("{v}");
    let digits: String = printed.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    if significant > MAX_JSON_NUMBER_DIGITS {
        return Err(MoneyError::ImpreciseNumber {
            shown: shown(&printed),
        });
    }
    Money::parse(&printed)
}

struct MoneyVisitor;

impl Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount of yuan as a string such as \"1234.56\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
        Money::parse(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
        Money::new(Decimal::from(v)).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
        Money::new(Decimal::from(v)).map_err(E::custom)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Money, E> {
        let d = i128::try_from(v)
            .ok()
            .and_then(|i| Decimal::try_from_i128_with_scale(i, 0).ok())
            .ok_or_else(|| E::custom(MoneyError::TooLarge))?;
        Money::new(d).map_err(E::custom)
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Money, E> {
        let d =
            Decimal::try_from_i128_with_scale(v, 0).map_err(|_| E::custom(MoneyError::TooLarge))?;
        Money::new(d).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
        money_from_json_f64(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Accepts a string (`"1234.56"`, the form Sealbid writes) or a JSON number (`1234.56`), with
    /// the same rules as [`Money::parse`]. See [`money_from_json_f64`] for numbers with a fraction.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MoneyVisitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn m(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn parses_plain_amounts() {
        assert_eq!(m("1234.56").amount(), dec!(1234.56));
        assert_eq!(m("1234.5").amount(), dec!(1234.50));
        assert_eq!(m("1234").amount(), dec!(1234));
        assert_eq!(m(" 0.01 ").amount(), dec!(0.01));
        assert_eq!(m("0").amount(), Decimal::ZERO);
        assert_eq!(m("007.10"), m("7.1"));
        assert_eq!(m("999999999999999.99").to_string(), "999999999999999.99");
        assert_eq!(m("1234.5").amount().scale(), 2);
    }

    #[test]
    fn refuses_malformed_amounts() {
        for s in [
            "", " ", ".", "1.", ".5", "1,234.56", "1_000", "1e3", "1E3", "+1", "12a", "1.2.3",
            "NaN", "inf", "¥12", "12 元", "1 000", "0x10", "--1",
        ] {
            let err = Money::parse(s).unwrap_err();
            assert!(
                matches!(err, MoneyError::Malformed { .. }),
                "{s:?}: {err:?}"
            );
            assert_eq!(err.code(), "invalid_money");
        }
    }

    #[test]
    fn refuses_negative_too_precise_and_huge() {
        assert_eq!(Money::parse("-1.00").unwrap_err(), MoneyError::Negative);
        assert_eq!(Money::parse("-0").unwrap_err(), MoneyError::Negative);
        assert_eq!(
            Money::parse("1.234").unwrap_err(),
            MoneyError::TooManyDecimals {
                input: "1.234".into()
            }
        );
        // Trailing zeros still count: the input claims a precision finer than the fen.
        assert!(matches!(
            Money::parse("1.230").unwrap_err(),
            MoneyError::TooManyDecimals { .. }
        ));
        assert_eq!(
            Money::parse("1000000000000000").unwrap_err(),
            MoneyError::TooLarge
        );
        assert_eq!(
            Money::parse("99999999999999999999999999999999999").unwrap_err(),
            MoneyError::TooLarge
        );
        assert_eq!(Money::parse("0001.00").unwrap(), m("1"));
        for e in [
            MoneyError::Negative,
            MoneyError::TooLarge,
            MoneyError::TooManyDecimals { input: "x".into() },
            MoneyError::ImpreciseNumber { shown: "x".into() },
        ] {
            assert_eq!(e.code(), "invalid_money");
        }
    }

    #[test]
    fn long_input_is_shortened_in_errors() {
        let long = "9".repeat(100) + "x";
        let err = Money::parse(&long).unwrap_err();
        assert!(err.to_string().chars().count() < 150, "{err}");
    }

    #[test]
    fn new_checks_the_decimal() {
        assert_eq!(Money::new(dec!(12.5)).unwrap().to_string(), "12.50");
        assert_eq!(Money::new(dec!(12.500)).unwrap(), m("12.5"));
        assert_eq!(Money::new(dec!(12.500)).unwrap().amount().scale(), 2);
        assert_eq!(Money::new(dec!(-0.01)).unwrap_err(), MoneyError::Negative);
        assert!(matches!(
            Money::new(dec!(0.001)).unwrap_err(),
            MoneyError::TooManyDecimals { .. }
        ));
        assert_eq!(
            Money::new(dec!(1000000000000000)).unwrap_err(),
            MoneyError::TooLarge
        );
        assert_eq!(Money::new(Decimal::MAX).unwrap_err(), MoneyError::TooLarge);
        // Negative zero is zero.
        let neg_zero = Decimal::new(0, 2).checked_mul(dec!(-1)).unwrap();
        assert_eq!(Money::new(neg_zero).unwrap().to_string(), "0.00");
        assert_eq!(Money::try_from(dec!(3)).unwrap(), m("3"));
        assert_eq!(Decimal::from(m("3.25")), dec!(3.25));
    }

    #[test]
    fn fen_conversions() {
        assert_eq!(Money::from_fen(123_456).unwrap(), m("1234.56"));
        assert_eq!(m("1234.56").to_fen(), 123_456);
        assert_eq!(m("0.01").to_fen(), 1);
        assert_eq!(Money::ZERO.to_fen(), 0);
        assert_eq!(m("999999999999999.99").to_fen(), 99_999_999_999_999_999);
        assert_eq!(
            Money::from_fen(100_000_000_000_000_000).unwrap_err(),
            MoneyError::TooLarge
        );
    }

    #[test]
    fn zero_and_default() {
        assert!(Money::ZERO.is_zero());
        assert_eq!(Money::default(), Money::ZERO);
        assert_eq!(Money::ZERO.to_string(), "0.00");
        assert_eq!(Money::ZERO, m("0"));
        assert!(!m("0.01").is_zero());
    }

    #[test]
    fn display_has_two_decimals() {
        assert_eq!(m("1234.5").to_string(), "1234.50");
        assert_eq!(m("1234").to_string(), "1234.00");
        assert_eq!(m("0.07").to_string(), "0.07");
    }

    #[test]
    fn ordering_is_by_value() {
        assert!(m("10") > m("9.99"));
        assert!(m("0.01") > Money::ZERO);
        assert_eq!(m("5.0"), m("5.00"));
        let mut v = vec![m("3"), m("1.5"), m("2.25")];
        v.sort();
        assert_eq!(v, vec![m("1.5"), m("2.25"), m("3")]);
        assert_eq!(v.iter().max(), Some(&m("3")));
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(m("0.10").checked_add(&m("0.20")), Some(m("0.30")));
        assert_eq!(m("5").checked_sub(&m("0.01")), Some(m("4.99")));
        assert_eq!(m("5").checked_sub(&m("5")), Some(Money::ZERO));
        assert_eq!(m("5").checked_sub(&m("5.01")), None);
        let big = m("999999999999999.99");
        assert_eq!(big.checked_add(&m("0.01")), None);
        assert_eq!(big.checked_add(&Money::ZERO), Some(big));
    }

    #[test]
    fn percent_rounds_half_away_from_zero() {
        // 2% deposit cap of an estimate.
        assert_eq!(m("1234567.89").percent_of(dec!(2)), m("24691.36"));
        // 0.125 → 0.13 (banker's rounding would give 0.12).
        assert_eq!(m("12.50").percent_of(dec!(1)), m("0.13"));
        // 0.135 → 0.14 (banker's would also give 0.14); 0.145 → 0.15 (banker's: 0.14).
        assert_eq!(m("13.50").percent_of(dec!(1)), m("0.14"));
        assert_eq!(m("14.50").percent_of(dec!(1)), m("0.15"));
        // 0.0049 → 0.00, 0.005 → 0.01.
        assert_eq!(m("0.49").percent_of(dec!(1)), Money::ZERO);
        assert_eq!(m("0.50").percent_of(dec!(1)), m("0.01"));
        assert_eq!(m("100").percent_of(dec!(10)), m("10"));
        assert_eq!(m("100").percent_of(dec!(0)), Money::ZERO);
        assert_eq!(m("3").percent_of(dec!(33.333)), m("1.00"));
        assert_eq!(m("100").percent_of(dec!(100)), m("100"));
    }

    #[test]
    fn percent_edge_cases() {
        assert_eq!(m("100").percent_of(dec!(-1)), Money::ZERO);
        assert_eq!(
            m("100").checked_percent_of(dec!(-1)).unwrap_err(),
            MoneyError::Negative
        );
        let big = m("999999999999999");
        assert_eq!(big.percent_of(dec!(200)), Money::MAX);
        assert_eq!(
            big.checked_percent_of(dec!(200)).unwrap_err(),
            MoneyError::TooLarge
        );
        assert_eq!(big.percent_of(Decimal::MAX), Money::MAX);
        assert_eq!(
            big.checked_percent_of(Decimal::MAX).unwrap_err(),
            MoneyError::TooLarge
        );
        assert_eq!(
            m("1234567.89").checked_percent_of(dec!(2)).unwrap(),
            m("24691.36")
        );
    }

    #[test]
    fn percent_of_floor_never_rounds_a_cap_up() {
        // 2% of 1,000.25 is 20.005: the cap is 20.00, although half-up rounding gives 20.01.
        assert_eq!(m("1000.25").percent_of_floor(dec!(2)), m("20.00"));
        assert_eq!(m("1000.25").percent_of(dec!(2)), m("20.01"));
        assert_eq!(m("1234567.89").percent_of_floor(dec!(2)), m("24691.35"));
        assert_eq!(m("100").percent_of_floor(dec!(2)), m("2"));
        assert_eq!(m("0.49").percent_of_floor(dec!(1)), Money::ZERO);
        assert_eq!(m("100").percent_of_floor(dec!(-2)), Money::ZERO);
        assert_eq!(m("999999999999999").percent_of_floor(dec!(200)), Money::MAX);
    }

    #[test]
    fn max_is_the_largest_amount() {
        assert_eq!(Money::MAX, m("999999999999999.99"));
        assert_eq!(Money::MAX.to_string(), "999999999999999.99");
        assert_eq!(Money::MAX.amount().scale(), 2);
        assert_eq!(Money::MAX.checked_add(&m("0.01")), None);
    }

    #[test]
    fn serde_as_string() {
        let json = serde_json::to_string(&m("1234.5")).unwrap();
        assert_eq!(json, "\"1234.50\"");
        assert_eq!(
            serde_json::from_str::<Money>("\"1234.56\"").unwrap(),
            m("1234.56")
        );
        assert!(serde_json::from_str::<Money>("\"1234.567\"").is_err());
        assert!(serde_json::from_str::<Money>("\"-1\"").is_err());
        assert!(serde_json::from_str::<Money>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Money>("null").is_err());
        assert!(serde_json::from_str::<Money>("true").is_err());
        let err = serde_json::from_str::<Money>("\"1.234\"").unwrap_err();
        assert!(
            err.to_string().contains("more than two decimal places"),
            "{err}"
        );
    }

    #[test]
    fn serde_accepts_json_numbers_exactly() {
        assert_eq!(
            serde_json::from_str::<Money>("1234.56").unwrap(),
            m("1234.56")
        );
        assert_eq!(serde_json::from_str::<Money>("0.1").unwrap(), m("0.10"));
        assert_eq!(serde_json::from_str::<Money>("0.07").unwrap(), m("0.07"));
        assert_eq!(serde_json::from_str::<Money>("100").unwrap(), m("100"));
        assert_eq!(serde_json::from_str::<Money>("1e3").unwrap(), m("1000"));
        assert_eq!(serde_json::from_str::<Money>("12.50").unwrap(), m("12.5"));
        // 15 significant digits are still exact.
        assert_eq!(
            serde_json::from_str::<Money>("9999999999999.99").unwrap(),
            m("9999999999999.99")
        );
        assert!(serde_json::from_str::<Money>("-1").is_err());
        assert!(serde_json::from_str::<Money>("-1.5").is_err());
        assert!(serde_json::from_str::<Money>("1.234").is_err());
        // 16 significant digits: an f64 cannot carry them exactly, so refuse instead of rounding.
        let err = serde_json::from_str::<Money>("12345678901234.56").unwrap_err();
        assert!(
            err.to_string().contains("send the amount as a string"),
            "{err}"
        );
        // This one reaches serde as 1e15 exactly: refused as too large.
        assert!(serde_json::from_str::<Money>("999999999999999.99").is_err());
        assert!(serde_json::from_str::<Money>("1e20").is_err());
        assert!(serde_json::from_str::<Money>("18446744073709551616").is_err());
    }

    #[test]
    fn money_inside_a_struct() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Bid {
            price: Money,
        }
        let bid: Bid = serde_json::from_str(r#"{"price":"88.80"}"#).unwrap();
        assert_eq!(bid.price, m("88.8"));
        assert_eq!(serde_json::to_string(&bid).unwrap(), r#"{"price":"88.80"}"#);
        let bid: Bid = serde_json::from_str(r#"{"price":88.8}"#).unwrap();
        assert_eq!(bid.price, m("88.80"));
    }

    #[test]
    fn json_f64_recovery_refuses_non_finite() {
        assert!(money_from_json_f64(f64::NAN).is_err());
        assert!(money_from_json_f64(f64::INFINITY).is_err());
        assert_eq!(money_from_json_f64(0.3).unwrap(), m("0.3"));
        assert_eq!(
            money_from_json_f64(0.1 + 0.2).unwrap_err().code(),
            "invalid_money"
        );
    }
}
