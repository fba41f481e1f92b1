//! Organisation identifiers: the unified social credit code (统一社会信用代码, GB 32100-2015) that every
//! legal person in China carries since the "three certificates in one" reform, and the older
//! organisation code (组织机构代码, GB 11714) embedded in it at positions 9–17.
//!
//! Both are parsed, never merely validated: a [`CreditCode`] or [`OrganisationCode`] value always has
//! the right length and alphabet. A credit code's check character is verified by [`CreditCode::parse`];
//! [`CreditCode::parse_lenient`] exists because some early pilot codes are legal yet fail the check
//! (DOMAIN.md: "warn, do not reject outright").
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

use crate::division::{DivisionCode, DivisionCodeError};

/// The 31 symbols of GB 32100, in value order (0..=30). No I, O, S, V or Z.
const CREDIT_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1–17: 3^(i−1) mod 31.
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Length of a unified social credit code.
pub const CREDIT_CODE_LEN: usize = 18;

/// Weights of the 8 body characters of a GB 11714 organisation code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Length of an organisation code without the hyphen (8 body characters + check).
pub const ORGANISATION_CODE_LEN: usize = 9;

/// Why a unified social credit code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Not the expected number of characters (18 for a code, 17 for a code without its check).
    #[error("a unified social credit code has {expected} characters here, found {found}")]
    WrongLength { expected: usize, found: usize },
    /// A character outside `0123456789ABCDEFGHJKLMNPQRTUWXY` (positions count from 1).
    #[error(
        "character '{character}' at position {position} is not allowed in a unified social credit \
         code (allowed: digits and the capital letters except I, O, S, V, Z)"
    )]
    InvalidCharacter { position: usize, character: char },
    /// The 18th character does not match the checksum of the first 17.
    #[error("check character should be '{expected}', found '{found}'")]
    CheckDigit { expected: char, found: char },
}

impl CreditCodeError {
    /// Stable machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongLength { .. } => "wrong_length",
            Self::InvalidCharacter { .. } => "invalid_character",
            Self::CheckDigit { .. } => "check_digit_mismatch",
        }
    }
}

/// A credit code accepted by [`CreditCode::parse_lenient`] despite a fault worth telling a person about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeWarning {
    /// The check character is wrong; early pilot codes were issued like that. A clerk should
    /// confirm the code against the business licence.
    #[error(
        "check character should be '{expected}', found '{found}'; accepted as a legacy pilot code, \
         please confirm it against the business licence"
    )]
    CheckDigit { expected: char, found: char },
}

impl CreditCodeWarning {
    /// Stable machine-readable code for API warning bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::CheckDigit { .. } => "credit_code_check_digit_legacy",
        }
    }
}

/// Value (0..=30) of a GB 32100 symbol, or `None` for a character outside the alphabet.
fn credit_value(c: char) -> Option<u32> {
    let b = u8::try_from(c).ok()?;
    CREDIT_ALPHABET
        .iter()
        .position(|&a| a == b)
        .and_then(|i| u32::try_from(i).ok())
}

/// The GB 32100 symbol for a value in 0..=30.
fn credit_symbol(value: u32) -> Option<char> {
    let i = usize::try_from(value).ok()?;
    CREDIT_ALPHABET.get(i).map(|&b| char::from(b))
}

/// Trim and upper-case (ASCII only, so the character count never changes).
fn normalise(input: &str) -> String {
    input.trim().to_ascii_uppercase()
}

/// Check every character of `s` against the GB 32100 alphabet; returns their values.
fn credit_values(s: &str) -> Result<Vec<u32>, CreditCodeError> {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            credit_value(c).ok_or(CreditCodeError::InvalidCharacter {
                position: i + 1,
                character: c,
            })
        })
        .collect()
}

/// Σ value·weight over the first 17 values (the caller guarantees at most 17).
fn weighted_sum(values: &[u32]) -> u32 {
    values
        .iter()
        .zip(CREDIT_WEIGHTS.iter())
        .map(|(v, w)| v * w)
        .sum()
}

/// The check symbol for 17 values: (31 − Σ mod 31) mod 31. The final `mod 31` matters: a sum
/// divisible by 31 gives `0`, not the out-of-range value 31.
fn check_for_values(values: &[u32]) -> char {
    let check = (31 - weighted_sum(values) % 31) % 31;
    // `check` is in 0..=30, so the lookup always succeeds; '0' is only a formal fallback.
    credit_symbol(check).unwrap_or('0')
}

/// The check character of a unified social credit code, from its first 17 characters.
///
/// The input is trimmed and upper-cased like [`CreditCode::parse`].
pub fn expected_check_char(first17: &str) -> Result<char, CreditCodeError> {
    let s = normalise(first17);
    let found = s.chars().count();
    if found != CREDIT_CODE_LEN - 1 {
        return Err(CreditCodeError::WrongLength {
            expected: CREDIT_CODE_LEN - 1,
            found,
        });
    }
    let values = credit_values(&s)?;
    Ok(check_for_values(&values))
}

/// Append the correct check character to 17 characters: for tests and demonstration data.
pub fn complete_credit_code(first17: &str) -> Result<CreditCode, CreditCodeError> {
    let s = normalise(first17);
    let check = expected_check_char(&s)?;
    let mut code = s;
    code.push(check);
    Ok(CreditCode(code))
}

/// A unified social credit code (GB 32100-2015): 18 characters, e.g. `91110000600037341L`.
///
/// Layout: position 1 registration authority, 2 organisation type, 3–8 administrative division,
/// 9–17 organisation code (GB 11714), 18 check character.
///
/// Serialised as its string. Deserialisation is strict ([`CreditCode::parse`]): a legacy pilot
/// code accepted with [`CreditCode::parse_lenient`] does not round-trip through serde, so a store
/// that keeps such codes must read them back with `parse_lenient`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

impl CreditCode {
    /// Parse a code strictly: trimmed, upper-cased, 18 characters of the GB 32100 alphabet and a
    /// correct check character.
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let (code, expected) = Self::parse_unchecked(input)?;
        let found = code.check_char();
        if found != expected {
            return Err(CreditCodeError::CheckDigit { expected, found });
        }
        Ok(code)
    }

    /// Parse a code, accepting one whose only fault is the check character (early pilot codes),
    /// with a warning to show the person entering it. Wrong length or characters are still errors.
    pub fn parse_lenient(
        input: &str,
    ) -> Result<(CreditCode, Option<CreditCodeWarning>), CreditCodeError> {
        let (code, expected) = Self::parse_unchecked(input)?;
        let found = code.check_char();
        let warning =
            (found != expected).then_some(CreditCodeWarning::CheckDigit { expected, found });
        Ok((code, warning))
    }

    /// Length and alphabet checks; returns the code and the check character it should have.
    fn parse_unchecked(input: &str) -> Result<(CreditCode, char), CreditCodeError> {
        let s = normalise(input);
        let found = s.chars().count();
        if found != CREDIT_CODE_LEN {
            return Err(CreditCodeError::WrongLength {
                expected: CREDIT_CODE_LEN,
                found,
            });
        }
        let values = credit_values(&s)?;
        let expected = check_for_values(values.get(..CREDIT_CODE_LEN - 1).unwrap_or(&[]));
        Ok((CreditCode(s), expected))
    }

    /// The code as 18 upper-case ASCII characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The character at 1-based `position` (the code is ASCII, so bytes are characters).
    fn char_at(&self, position: usize) -> char {
        self.0
            .as_bytes()
            .get(position - 1)
            .map(|&b| char::from(b))
            .unwrap_or('0')
    }

    /// Characters `from..=to` (1-based, inclusive).
    fn span(&self, from: usize, to: usize) -> &str {
        self.0.get(from - 1..to).unwrap_or("")
    }

    /// Position 1: the registration authority (1 organisation departments, 5 civil affairs,
    /// 9 market regulation, …).
    pub fn registration_authority(&self) -> char {
        self.char_at(1)
    }

    /// Position 2: the organisation type within the authority (e.g. 1 enterprise, 2 individual
    /// business, 3 farmers' cooperative under authority 9).
    pub fn org_type(&self) -> char {
        self.char_at(2)
    }

    /// Positions 3–8: the administrative division code of the registering authority, as written.
    pub fn division_code(&self) -> &str {
        self.span(3, 8)
    }

    /// Positions 3–8 parsed as a [`DivisionCode`]; an error if they do not form a valid one.
    pub fn division(&self) -> Result<DivisionCode, DivisionCodeError> {
        DivisionCode::parse(self.division_code())
    }

    /// Positions 9–17: the GB 11714 organisation code (8 characters + its own check character).
    pub fn organisation_code(&self) -> &str {
        self.span(9, 17)
    }

    /// Whether the embedded organisation code passes the GB 11714 check. Informational only:
    /// codes are not refused on it.
    pub fn organisation_code_valid(&self) -> bool {
        OrganisationCode::parse(self.organisation_code()).is_ok()
    }

    /// Position 18: the check character.
    pub fn check_char(&self) -> char {
        self.char_at(CREDIT_CODE_LEN)
    }

    /// Whether the check character is right; false only for codes from [`CreditCode::parse_lenient`]
    /// that came with a warning.
    pub fn check_char_valid(&self) -> bool {
        let values = credit_values(self.span(1, CREDIT_CODE_LEN - 1)).unwrap_or_default();
        values.len() == CREDIT_CODE_LEN - 1 && check_for_values(&values) == self.check_char()
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        CreditCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why an organisation code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganisationCodeError {
    /// Not 8 characters (body) or 9 characters (with check, optionally written `XXXXXXXX-C`).
    #[error("an organisation code has {expected} characters here, found {found}")]
    WrongLength { expected: usize, found: usize },
    /// A body character outside 0–9/A–Z, a check character other than 0–9/X, or a misplaced hyphen.
    #[error(
        "character '{character}' at position {position} is not allowed in an organisation code \
         (8 digits or capital letters, then a check digit or X)"
    )]
    InvalidCharacter { position: usize, character: char },
    /// The check character does not match the first 8.
    #[error("check character should be '{expected}', found '{found}'")]
    CheckDigit { expected: char, found: char },
}

impl OrganisationCodeError {
    /// Stable machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongLength { .. } => "wrong_length",
            Self::InvalidCharacter { .. } => "invalid_character",
            Self::CheckDigit { .. } => "check_digit_mismatch",
        }
    }
}

/// Value of a GB 11714 body character: 0–9 → 0–9, A–Z → 10–35.
fn org_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' | 'A'..='Z' => c.to_digit(36),
        _ => None,
    }
}

/// The GB 11714 check character of an organisation code's first 8 characters:
/// 11 − (Σ mod 11), with 10 written `X` and 11 written `0`. Trimmed and upper-cased first.
pub fn organisation_check_char(first8: &str) -> Result<char, OrganisationCodeError> {
    let s = normalise(first8);
    let found = s.chars().count();
    if found != ORG_WEIGHTS.len() {
        return Err(OrganisationCodeError::WrongLength {
            expected: ORG_WEIGHTS.len(),
            found,
        });
    }
    let mut sum = 0u32;
    for (i, (c, w)) in s.chars().zip(ORG_WEIGHTS.iter()).enumerate() {
        let v = org_value(c).ok_or(OrganisationCodeError::InvalidCharacter {
            position: i + 1,
            character: c,
        })?;
        sum += v * w;
    }
    Ok(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).unwrap_or('0'),
    })
}

/// An organisation code (GB 11714): 8 digits or capital letters and a check character, e.g.
/// `600037341` (conventionally printed `60003734-1`; see [`OrganisationCode::hyphenated`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrganisationCode(String);

impl OrganisationCode {
    /// Parse `60003734-1` or `600037341` (trimmed, upper-cased), checking the check character.
    pub fn parse(input: &str) -> Result<OrganisationCode, OrganisationCodeError> {
        let s = normalise(input);
        let chars: Vec<char> = s.chars().collect();
        let compact: String = match chars.len() {
            ORGANISATION_CODE_LEN => s.clone(),
            10 => {
                if chars.get(8) != Some(&'-') {
                    // Report the first hyphen out of place, or the 9th character if there is none.
                    let (position, character) = chars
                        .iter()
                        .enumerate()
                        .find(|(i, &c)| c == '-' && *i != 8)
                        .map(|(i, &c)| (i + 1, c))
                        .unwrap_or((9, chars.get(8).copied().unwrap_or('-')));
                    return Err(OrganisationCodeError::InvalidCharacter {
                        position,
                        character,
                    });
                }
                chars.iter().filter(|&&c| c != '-').collect()
            }
            found => {
                return Err(OrganisationCodeError::WrongLength {
                    expected: ORGANISATION_CODE_LEN,
                    found,
                })
            }
        };
        // A second hyphen in the 10-character form leaves fewer than 9 characters behind.
        let found = compact.chars().count();
        if found != ORGANISATION_CODE_LEN {
            return Err(OrganisationCodeError::WrongLength {
                expected: ORGANISATION_CODE_LEN,
                found,
            });
        }
        let body = compact.get(..8).unwrap_or("");
        let expected = organisation_check_char(body)?;
        let found = compact.chars().nth(8).unwrap_or('-');
        if !(found.is_ascii_digit() || found == 'X') {
            // Position in the input as the person wrote it.
            let position = if chars.len() == 10 { 10 } else { 9 };
            return Err(OrganisationCodeError::InvalidCharacter {
                position,
                character: found,
            });
        }
        if found != expected {
            return Err(OrganisationCodeError::CheckDigit { expected, found });
        }
        Ok(OrganisationCode(compact))
    }

    /// The 9 characters without a hyphen, e.g. `600037341`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The printed form with a hyphen before the check character, e.g. `60003734-1`.
    pub fn hyphenated(&self) -> String {
        format!("{}-{}", self.body(), self.check_char())
    }

    /// The 8 body characters.
    pub fn body(&self) -> &str {
        self.0.get(..8).unwrap_or("")
    }

    /// The check character (`0`–`9` or `X`).
    pub fn check_char(&self) -> char {
        self.0
            .as_bytes()
            .get(8)
            .map(|&b| char::from(b))
            .unwrap_or('0')
    }
}

impl fmt::Display for OrganisationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for OrganisationCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for OrganisationCode {
    type Err = OrganisationCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for OrganisationCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OrganisationCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        OrganisationCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const VALID: &str = "91110000600037341L";

    fn values(s: &str) -> Vec<u32> {
        credit_values(s).unwrap()
    }

    #[test]
    fn alphabet_and_weights_match_the_standard() {
        assert_eq!(CREDIT_ALPHABET.len(), 31);
        for forbidden in ['I', 'O', 'S', 'V', 'Z'] {
            assert_eq!(credit_value(forbidden), None, "{forbidden}");
        }
        for (i, w) in CREDIT_WEIGHTS.iter().enumerate() {
            // 3^i mod 31
            let expected = (0..i).fold(1u32, |acc, _| acc * 3 % 31);
            assert_eq!(*w, expected, "weight of position {}", i + 1);
        }
        assert_eq!(credit_value('Y'), Some(30));
        assert_eq!(credit_value('A'), Some(10));
        assert_eq!(credit_value('J'), Some(18));
        assert_eq!(credit_symbol(31), None);
    }

    #[test]
    fn parses_the_documented_example() {
        let code = CreditCode::parse(VALID).unwrap();
        assert_eq!(code.as_str(), VALID);
        assert_eq!(code.to_string(), VALID);
        assert_eq!(code.registration_authority(), '9');
        assert_eq!(code.org_type(), '1');
        assert_eq!(code.division_code(), "110000");
        assert_eq!(code.division().unwrap().as_str(), "110000");
        assert_eq!(code.organisation_code(), "600037341");
        assert!(code.organisation_code_valid());
        assert_eq!(code.check_char(), 'L');
        assert!(code.check_char_valid());
    }

    #[test]
    fn parse_trims_and_uppercases() {
        let code = CreditCode::parse("  91110000600037341l \n").unwrap();
        assert_eq!(code.as_str(), VALID);
        let code: CreditCode = "91370200ma2pbm9hx5".parse().unwrap();
        assert_eq!(code.as_str(), "91370200MA2PBM9HX5");
        assert!(code.organisation_code_valid());
    }

    #[test]
    fn wrong_length_is_refused() {
        for (input, found) in [
            ("", 0),
            ("91110000600037341", 17),
            ("91110000600037341LL", 19),
        ] {
            let err = CreditCode::parse(input).unwrap_err();
            assert_eq!(
                err,
                CreditCodeError::WrongLength {
                    expected: 18,
                    found
                }
            );
            assert_eq!(err.code(), "wrong_length");
        }
        // Length counts characters, not bytes.
        let err = CreditCode::parse("9111000060003734１L").unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::InvalidCharacter {
                position: 17,
                character: '１'
            }
        );
    }

    #[test]
    fn invalid_characters_name_position_and_character() {
        for (input, position, character) in [
            ("I1110000600037341L", 1, 'I'),
            ("91110000600O37341L", 12, 'O'),
            ("9111000060003734SL", 17, 'S'),
            ("91110000600037341Z", 18, 'Z'),
            ("911100006000-7341L", 13, '-'),
            ("91110000600037341V", 18, 'V'),
        ] {
            let err = CreditCode::parse(input).unwrap_err();
            assert_eq!(
                err,
                CreditCodeError::InvalidCharacter {
                    position,
                    character
                },
                "{input}"
            );
            assert_eq!(err.code(), "invalid_character");
            assert!(err
                .to_string()
                .contains(&format!("'{character}' at position {position}")));
        }
    }

    #[test]
    fn wrong_check_character_is_refused_with_both_characters() {
        let err = CreditCode::parse("91110000600037341M").unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::CheckDigit {
                expected: 'L',
                found: 'M'
            }
        );
        assert_eq!(err.code(), "check_digit_mismatch");
        assert_eq!(err.to_string(), "check character should be 'L', found 'M'");
    }

    #[test]
    fn a_sum_divisible_by_31_gives_check_zero() {
        // Constructed so that Σ value·weight = 1054 = 34 · 31; its organisation code 71526741-1 is
        // valid too.
        let code = "914403007152674110";
        let first17 = &code[..17];
        let sum = weighted_sum(&values(first17));
        assert_eq!(sum % 31, 0, "sum {sum}");
        assert_ne!(sum, 0);
        assert_eq!(expected_check_char(first17).unwrap(), '0');
        let parsed = CreditCode::parse(code).unwrap();
        assert_eq!(parsed.check_char(), '0');
        assert!(parsed.organisation_code_valid());
        // Without the final mod 31 the check value would be 31, which is no symbol at all.
        assert_eq!(credit_symbol(31 - sum % 31), None);
        // All zeros: sum 0, check '0'.
        assert_eq!(expected_check_char("00000000000000000").unwrap(), '0');
    }

    #[test]
    fn the_largest_check_value_is_y() {
        let code = complete_credit_code("9144030071526726D").unwrap();
        assert_eq!(code.check_char(), 'Y');
        assert_eq!(
            (31 - weighted_sum(&values("9144030071526726D")) % 31) % 31,
            30
        );
        assert!(CreditCode::parse(code.as_str()).is_ok());
    }

    #[test]
    fn expected_check_char_validates_its_input() {
        assert_eq!(expected_check_char("91110000600037341").unwrap(), 'L');
        assert_eq!(expected_check_char(" 91110000600037341 ").unwrap(), 'L');
        assert_eq!(
            expected_check_char("9111000060003734").unwrap_err(),
            CreditCodeError::WrongLength {
                expected: 17,
                found: 16
            }
        );
        assert_eq!(
            expected_check_char("9111000060003734I").unwrap_err(),
            CreditCodeError::InvalidCharacter {
                position: 17,
                character: 'I'
            }
        );
    }

    #[test]
    fn complete_credit_code_appends_the_check() {
        let code = complete_credit_code("91110000600037341").unwrap();
        assert_eq!(code.as_str(), VALID);
        let code = complete_credit_code("91370200ma2pbm9hx").unwrap();
        assert_eq!(code.as_str(), "91370200MA2PBM9HX5");
        assert!(complete_credit_code("91110000600037341L").is_err());
        // Every generated code parses strictly.
        for prefix in [
            "12100000400000624",
            "51110000500000000",
            "93370202MA3C1X2Y0",
        ] {
            let code = complete_credit_code(prefix).unwrap();
            assert_eq!(CreditCode::parse(code.as_str()).unwrap(), code);
        }
    }

    #[test]
    fn lenient_parse_accepts_only_a_bad_check_character() {
        let (code, warning) = CreditCode::parse_lenient(VALID).unwrap();
        assert_eq!(code.as_str(), VALID);
        assert_eq!(warning, None);

        let (code, warning) = CreditCode::parse_lenient("91110000600037341M").unwrap();
        assert_eq!(code.as_str(), "91110000600037341M");
        assert!(!code.check_char_valid());
        let warning = warning.unwrap();
        assert_eq!(
            warning,
            CreditCodeWarning::CheckDigit {
                expected: 'L',
                found: 'M'
            }
        );
        assert_eq!(warning.code(), "credit_code_check_digit_legacy");
        assert!(warning.to_string().contains("should be 'L', found 'M'"));

        assert_eq!(
            CreditCode::parse_lenient("91110000600037341")
                .unwrap_err()
                .code(),
            "wrong_length"
        );
        assert_eq!(
            CreditCode::parse_lenient("91110000600037341O")
                .unwrap_err()
                .code(),
            "invalid_character"
        );
    }

    #[test]
    fn an_invalid_embedded_organisation_code_is_reported_not_refused() {
        // Positions 9–17 "715267263": GB 11714 wants check X, the code has 3.
        let code = CreditCode::parse("914403007152672630").unwrap();
        assert_eq!(code.organisation_code(), "715267263");
        assert!(!code.organisation_code_valid());
    }

    #[test]
    fn serde_round_trips_and_is_strict() {
        let code = CreditCode::parse(VALID).unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{VALID}\""));
        let back: CreditCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back, code);
        let lower: CreditCode = serde_json::from_str("\"91110000600037341l\"").unwrap();
        assert_eq!(lower, code);
        let err = serde_json::from_str::<CreditCode>("\"91110000600037341M\"").unwrap_err();
        assert!(err.to_string().contains("check character should be 'L'"));
        assert!(serde_json::from_str::<CreditCode>("18").is_err());
    }

    #[test]
    fn organisation_check_chars_from_the_standard() {
        assert_eq!(organisation_check_char("60003734").unwrap(), '1');
        assert_eq!(organisation_check_char("MA2PBM9H").unwrap(), 'X');
        assert_eq!(organisation_check_char("ma2pbm9h").unwrap(), 'X');
        assert_eq!(organisation_check_char("71526741").unwrap(), '1');
        // Σ mod 11 = 0 gives 11 − 0 = 11, written '0': find a body whose weighted sum is 11·k.
        let zero_body = (0..100_000_000u32)
            .step_by(7919)
            .map(|n| format!("{n:08}"))
            .find(|b| {
                b.chars()
                    .zip(ORG_WEIGHTS.iter())
                    .map(|(c, w)| c.to_digit(10).unwrap() * w)
                    .sum::<u32>()
                    % 11
                    == 0
            })
            .unwrap();
        assert_eq!(organisation_check_char(&zero_body).unwrap(), '0');
        assert_eq!(
            organisation_check_char("6000373").unwrap_err(),
            OrganisationCodeError::WrongLength {
                expected: 8,
                found: 7
            }
        );
        assert_eq!(
            organisation_check_char("6000373*").unwrap_err(),
            OrganisationCodeError::InvalidCharacter {
                position: 8,
                character: '*'
            }
        );
    }

    #[test]
    fn organisation_code_parses_both_forms() {
        let a = OrganisationCode::parse("60003734-1").unwrap();
        let b = OrganisationCode::parse(" 600037341 ").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "600037341");
        assert_eq!(a.to_string(), "600037341");
        assert_eq!(a.hyphenated(), "60003734-1");
        assert_eq!(a.body(), "60003734");
        assert_eq!(a.check_char(), '1');
        let x = OrganisationCode::parse("ma2pbm9h-x").unwrap();
        assert_eq!(x.as_str(), "MA2PBM9HX");
        assert_eq!(x.hyphenated(), "MA2PBM9H-X");
    }

    #[test]
    fn organisation_code_refusals() {
        let err = OrganisationCode::parse("60003734-2").unwrap_err();
        assert_eq!(
            err,
            OrganisationCodeError::CheckDigit {
                expected: '1',
                found: '2'
            }
        );
        assert_eq!(err.code(), "check_digit_mismatch");
        assert_eq!(err.to_string(), "check character should be '1', found '2'");

        assert_eq!(
            OrganisationCode::parse("6000373").unwrap_err().code(),
            "wrong_length"
        );
        assert_eq!(
            OrganisationCode::parse("60003734-11").unwrap_err().code(),
            "wrong_length"
        );
        assert_eq!(
            OrganisationCode::parse("6000-37341").unwrap_err(),
            OrganisationCodeError::InvalidCharacter {
                position: 5,
                character: '-'
            }
        );
        assert_eq!(
            OrganisationCode::parse("6000373411").unwrap_err(),
            OrganisationCodeError::InvalidCharacter {
                position: 9,
                character: '1'
            }
        );
        assert_eq!(
            OrganisationCode::parse("60003734Y").unwrap_err(),
            OrganisationCodeError::InvalidCharacter {
                position: 9,
                character: 'Y'
            }
        );
        assert_eq!(
            OrganisationCode::parse("MA2PBM9H-Y").unwrap_err(),
            OrganisationCodeError::InvalidCharacter {
                position: 10,
                character: 'Y'
            }
        );
        assert_eq!(
            OrganisationCode::parse("6000_7341").unwrap_err(),
            OrganisationCodeError::InvalidCharacter {
                position: 5,
                character: '_'
            }
        );
    }

    #[test]
    fn organisation_code_serde() {
        let code = OrganisationCode::parse("60003734-1").unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, "\"600037341\"");
        let back: OrganisationCode = serde_json::from_str("\"60003734-1\"").unwrap();
        assert_eq!(back, code);
        assert!(serde_json::from_str::<OrganisationCode>("\"60003734-2\"").is_err());
    }
}
