//! The engine's one error type. Each variant has a stable code so callers (CLI, server) can map it
//! without matching on message text.
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ScreenError {
    /// A `Decimal` price that has no finite `f64` counterpart (cannot happen for real money, but the
    /// conversion is fallible and we do not hide that).
    #[error("price {0} cannot be represented as a floating-point number")]
    PriceNotRepresentable(String),
    /// A price that is not a finite number.
    #[error("price is not a finite number")]
    PriceNotFinite,
    /// The CSV header lacks a column the reader needs.
    #[error("CSV header has no {0} column (expected one of: {1})")]
    MissingColumn(&'static str, &'static str),
    /// The CSV could not be read at all (I/O or encoding failure before any line could be judged).
    #[error("CSV could not be read: {0}")]
    CsvUnreadable(String),
    /// The caller asked for strict reading and some lines were malformed.
    #[error("{count} malformed CSV line(s); first at line {first_line}: {first_message}")]
    MalformedLines {
        count: usize,
        first_line: u64,
        first_message: String,
    },
    /// A settings value outside its domain (e.g. a negative fence multiplier).
    #[error("invalid setting {field}: {reason}")]
    InvalidSetting { field: String, reason: String },
}

impl ScreenError {
    /// Stable code, for logs and for the mapping to user-facing messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PriceNotRepresentable(_) => "SCR0001PriceNotRepresentable",
            Self::PriceNotFinite => "SCR0002PriceNotFinite",
            Self::MissingColumn(..) => "SCR0003MissingColumn",
            Self::CsvUnreadable(_) => "SCR0004CsvUnreadable",
            Self::MalformedLines { .. } => "SCR0005MalformedLines",
            Self::InvalidSetting { .. } => "SCR0006InvalidSetting",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let all = [
            ScreenError::PriceNotRepresentable("x".into()),
            ScreenError::PriceNotFinite,
            ScreenError::MissingColumn("price", "Bid_value, price"),
            ScreenError::CsvUnreadable("x".into()),
            ScreenError::MalformedLines {
                count: 1,
                first_line: 2,
                first_message: "x".into(),
            },
            ScreenError::InvalidSetting {
                field: "k".into(),
                reason: "x".into(),
            },
        ];
        let mut codes: Vec<_> = all.iter().map(ScreenError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
