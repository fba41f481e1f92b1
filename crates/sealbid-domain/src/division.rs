//! Administrative division codes (行政区划代码, GB/T 2260): six digits, two each for the province,
//! the prefecture-level city and the county-level district, e.g. `370000` Shandong, `370200`
//! Qingdao, `370202` Shinan district. Used to say which hall or authority a tender, an approval
//! item or an organisation belongs to, and which jurisdictions a city-level office oversees.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Lowest and highest province-level prefix in use (11 Beijing … 82 Macao).
const PROVINCE_PREFIXES: std::ops::RangeInclusive<u8> = 11..=82;

/// Why a division code was refused. Every variant has the API code `invalid_division_code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionCodeError {
    /// Not exactly six ASCII digits.
    #[error("an administrative division code is six digits, e.g. 370202; found \"{found}\"")]
    NotSixDigits { found: String },
    /// The first two digits are not a province (11–82), e.g. `000000`.
    #[error(
        "administrative division code {found} does not start with a province (its first two \
         digits must be between 11 and 82)"
    )]
    NoProvince { found: String },
}

impl DivisionCodeError {
    /// Stable machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        "invalid_division_code"
    }
}

/// The level of government a division code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    /// `xx0000`: province, autonomous region or municipality directly under the central government.
    Province,
    /// `xxyy00`: prefecture-level city (or a municipality's district group).
    City,
    /// `xxyyzz`: county-level district, county or county-level city.
    District,
}

/// A six-digit administrative division code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode(String);

impl DivisionCode {
    /// Parse a code: trimmed, six ASCII digits, starting with a province prefix 11–82.
    pub fn parse(input: &str) -> Result<DivisionCode, DivisionCodeError> {
        let s = input.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DivisionCodeError::NotSixDigits {
                found: s.chars().take(32).collect(),
            });
        }
        let province = s.get(..2).and_then(|p| p.parse::<u8>().ok());
        match province {
            Some(p) if PROVINCE_PREFIXES.contains(&p) => Ok(DivisionCode(s.to_owned())),
            _ => Err(DivisionCodeError::NoProvince {
                found: s.to_owned(),
            }),
        }
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn part(&self, range: std::ops::Range<usize>) -> &str {
        self.0.get(range).unwrap_or("")
    }

    /// Digits 1–2: the province.
    pub fn province_part(&self) -> &str {
        self.part(0..2)
    }

    /// Province level: the last four digits are `0000`.
    pub fn is_province_level(&self) -> bool {
        self.part(2..6) == "0000"
    }

    /// City level: the last two digits are `00` and the middle two are not.
    pub fn is_city_level(&self) -> bool {
        self.part(4..6) == "00" && self.part(2..4) != "00"
    }

    /// District (county) level: neither province nor city level.
    pub fn is_district_level(&self) -> bool {
        !self.is_province_level() && !self.is_city_level()
    }

    /// The level this code names.
    pub fn level(&self) -> DivisionLevel {
        if self.is_province_level() {
            DivisionLevel::Province
        } else if self.is_city_level() {
            DivisionLevel::City
        } else {
            DivisionLevel::District
        }
    }

    /// The province containing this division (itself if province level).
    pub fn province(&self) -> DivisionCode {
        DivisionCode(format!("{}0000", self.part(0..2)))
    }

    /// Whether this division's jurisdiction includes `other`: a province covers every code with its
    /// first two digits, a city every code with its first four, a district only itself.
    pub fn covers(&self, other: &DivisionCode) -> bool {
        match self.level() {
            DivisionLevel::Province => self.part(0..2) == other.part(0..2),
            DivisionLevel::City => self.part(0..4) == other.part(0..4),
            DivisionLevel::District => self == other,
        }
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DivisionCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for DivisionCode {
    type Err = DivisionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for DivisionCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DivisionCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        DivisionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn d(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    #[test]
    fn parses_valid_codes() {
        for s in [
            "110000", "110101", "370000", "370200", "370202", "820000", "419001",
        ] {
            assert_eq!(d(s).as_str(), s);
            assert_eq!(d(s).to_string(), s);
        }
        assert_eq!(d(" 370202 ").as_str(), "370202");
        assert_eq!("370202".parse::<DivisionCode>().unwrap(), d("370202"));
    }

    #[test]
    fn refuses_malformed_codes() {
        for s in [
            "",
            "37020",
            "3702021",
            "37020a",
            "37 202",
            "３７０２０２",
            "-37020",
            "+37020",
        ] {
            let err = DivisionCode::parse(s).unwrap_err();
            assert!(
                matches!(err, DivisionCodeError::NotSixDigits { .. }),
                "{s}: {err:?}"
            );
            assert_eq!(err.code(), "invalid_division_code");
        }
    }

    #[test]
    fn refuses_codes_without_a_province() {
        for s in ["000000", "100000", "010101", "830000", "990000"] {
            let err = DivisionCode::parse(s).unwrap_err();
            assert_eq!(
                err,
                DivisionCodeError::NoProvince {
                    found: s.to_owned()
                }
            );
            assert_eq!(err.code(), "invalid_division_code");
            assert!(err.to_string().contains(s));
        }
    }

    #[test]
    fn levels() {
        assert!(d("370000").is_province_level());
        assert!(!d("370000").is_city_level());
        assert_eq!(d("370000").level(), DivisionLevel::Province);

        assert!(d("370200").is_city_level());
        assert!(!d("370200").is_province_level());
        assert_eq!(d("370200").level(), DivisionLevel::City);

        assert!(d("370202").is_district_level());
        assert_eq!(d("370202").level(), DivisionLevel::District);
        // Beijing's Dongcheng district.
        assert_eq!(d("110101").level(), DivisionLevel::District);
        assert_eq!(d("370202").province(), d("370000"));
        assert_eq!(d("370202").province_part(), "37");
    }

    #[test]
    fn covers() {
        let shandong = d("370000");
        let qingdao = d("370200");
        let shinan = d("370202");
        let shibei = d("370203");
        let jinan = d("370100");
        let beijing = d("110000");

        assert!(shandong.covers(&shandong));
        assert!(shandong.covers(&qingdao));
        assert!(shandong.covers(&shinan));
        assert!(!shandong.covers(&beijing));

        assert!(qingdao.covers(&qingdao));
        assert!(qingdao.covers(&shinan));
        assert!(qingdao.covers(&shibei));
        assert!(!qingdao.covers(&shandong));
        assert!(!qingdao.covers(&jinan));

        assert!(shinan.covers(&shinan));
        assert!(!shinan.covers(&shibei));
        assert!(!shinan.covers(&qingdao));
    }

    #[test]
    fn serde_round_trip_and_strict() {
        let code = d("370202");
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, "\"370202\"");
        assert_eq!(serde_json::from_str::<DivisionCode>(&json).unwrap(), code);
        assert!(serde_json::from_str::<DivisionCode>("\"000000\"").is_err());
        assert!(serde_json::from_str::<DivisionCode>("370202").is_err());
        assert_eq!(
            serde_json::to_string(&DivisionLevel::City).unwrap(),
            "\"city\""
        );
    }
}
