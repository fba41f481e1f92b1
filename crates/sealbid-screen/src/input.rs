//! The engine's input: the bids of one tender. Prices are converted to `f64` exactly once, here
//! ([`Bid::from_decimal`]) or in the CSV reader; everything downstream is statistics on floats.
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ScreenError;

/// One bid as opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bid {
    /// Bidder id, where the market publishes one (the Swiss data has none).
    pub bidder: Option<String>,
    /// Bid price in the tender's currency.
    pub price: f64,
    /// Whether this bid was awarded the contract.
    pub winner: bool,
}

impl Bid {
    /// A bid from the platform's `Money` amount (a `Decimal`).
    ///
    /// This is the one place a `Decimal` price becomes an `f64`: the conversion rounds to the nearest
    /// double (≈ 15–16 significant digits, far below a cent for any real tender), which is what the
    /// screens need — they are ratios and moments, never amounts that are paid. A `Decimal` always fits
    /// in an `f64`'s range, but the conversion is fallible in the API, so the error is kept.
    pub fn from_decimal(
        bidder: Option<String>,
        price: Decimal,
        winner: bool,
    ) -> Result<Self, ScreenError> {
        let value = price
            .to_f64()
            .ok_or_else(|| ScreenError::PriceNotRepresentable(price.to_string()))?;
        Self::from_f64(bidder, value, winner)
    }

    /// A bid from a float price (CSV input). Rejects NaN and infinities; zero and negative prices are
    /// accepted here (they are data, and the screens answer `None` for such a tender).
    pub fn from_f64(bidder: Option<String>, price: f64, winner: bool) -> Result<Self, ScreenError> {
        if !price.is_finite() {
            return Err(ScreenError::PriceNotFinite);
        }
        Ok(Self {
            bidder,
            price,
            winner,
        })
    }
}

/// The bids of one tender, with the owner's estimate where one was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenderBids {
    pub tender: String,
    /// Pre-tender estimate (the owner's cost estimate or ceiling), in the same currency as the bids.
    pub estimate: Option<f64>,
    pub bids: Vec<Bid>,
}

impl TenderBids {
    pub fn new(tender: impl Into<String>, estimate: Option<f64>, bids: Vec<Bid>) -> Self {
        Self {
            tender: tender.into(),
            estimate,
            bids,
        }
    }

    /// The estimate from a `Decimal` amount, converted like the prices.
    pub fn estimate_from_decimal(estimate: Decimal) -> Result<f64, ScreenError> {
        estimate
            .to_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| ScreenError::PriceNotRepresentable(estimate.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn decimal_prices_convert_to_the_nearest_double() {
        let b = Bid::from_decimal(
            Some("A".into()),
            Decimal::from_str("107807690.49").unwrap(),
            true,
        )
        .unwrap();
        assert_eq!(b.price, 107_807_690.49);
        assert!(b.winner);
        let est = TenderBids::estimate_from_decimal(Decimal::from_str("100869169.08").unwrap());
        assert_eq!(est.unwrap(), 100_869_169.08);
    }

    #[test]
    fn non_finite_float_prices_are_refused() {
        assert_eq!(
            Bid::from_f64(None, f64::NAN, false).unwrap_err().code(),
            "SCR0002PriceNotFinite"
        );
        assert!(Bid::from_f64(None, f64::INFINITY, false).is_err());
        // Zero is data; the screens decide what to do with it.
        assert!(Bid::from_f64(None, 0.0, false).is_ok());
    }
}
