//! Settings of the bid-document detectors. Like the engine's other settings, every struct rejects
//! unknown fields and every field has a default, so `{}` is a valid configuration.
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::ScreenError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentSettings {
    /// Characters per shingle after normalisation (no whitespace or punctuation).
    pub shingle_chars: usize,
    pub near_duplicate: NearDuplicateSettings,
    pub containment: ContainmentSettings,
    pub rare_passages: RarePassageSettings,
    pub metadata: MetadataSettings,
    pub upload: UploadSettings,
    /// Passages shown as evidence are cut to this many characters.
    pub max_passage_chars: usize,
}

impl Default for DocumentSettings {
    fn default() -> Self {
        Self {
            shingle_chars: 5,
            near_duplicate: NearDuplicateSettings::default(),
            containment: ContainmentSettings::default(),
            rare_passages: RarePassageSettings::default(),
            metadata: MetadataSettings::default(),
            upload: UploadSettings::default(),
            max_passage_chars: 400,
        }
    }
}

/// Near-duplicate text: MinHash, LSH banding, then the exact Jaccard similarity of the shingle sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NearDuplicateSettings {
    /// Exact Jaccard similarity (boilerplate shingles removed) at or above which two documents are
    /// near-duplicates.
    pub threshold: f64,
    /// MinHash rows (one-permutation bins).
    pub bins: usize,
    /// LSH bands; `bins` must be at least `bands · rows`.
    pub bands: usize,
    pub rows: usize,
    /// Documents with fewer normalised characters (after removing boilerplate) are not compared.
    pub min_chars: usize,
    /// Shared runs shown per pair.
    pub max_passages: usize,
}

impl Default for NearDuplicateSettings {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            bins: 128,
            bands: 32,
            rows: 4,
            min_chars: 200,
            max_passages: 3,
        }
    }
}

/// One bidder's document contained almost wholly in another bidder's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContainmentSettings {
    /// Share of the smaller document's shingles found in the larger one.
    pub threshold: f64,
    /// The contained document must have at least this many normalised characters.
    pub min_chars: usize,
}

impl Default for ContainmentSettings {
    fn default() -> Self {
        Self {
            threshold: 0.9,
            min_chars: 200,
        }
    }
}

/// Passages two bidders share that are rare across the tender and absent from its documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RarePassageSettings {
    /// Winnowing window (in shingles); shared runs of `window + shingle_chars − 1` characters are
    /// always seen.
    pub window: usize,
    /// A fingerprint held by more bidders than this is common text, not a rare passage.
    pub max_bidders: usize,
    /// Shortest passage reported (normalised characters).
    pub min_chars: usize,
    /// Score `1 − exp(−shared / scale_chars)` over the total shared characters.
    pub scale_chars: f64,
    pub max_passages: usize,
}

impl Default for RarePassageSettings {
    fn default() -> Self {
        Self {
            window: 4,
            max_bidders: 2,
            min_chars: 12,
            scale_chars: 150.0,
            max_passages: 10,
        }
    }
}

/// What a metadata key says about who prepared a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataKind {
    /// A machine or licence identifier stamped by a bid-preparation or costing tool: machine code,
    /// file-creation id, dongle id. The same value means the same computer or licence.
    Machine,
    /// A person or organisation: author, last modified by, company.
    Person,
    /// The producing software: weak on its own.
    Tool,
}

/// One metadata key to compare across bidders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataKey {
    /// Normalised key (see [`super::extract`]), matched case-insensitively, e.g. `author` or
    /// `custom:机器码`.
    pub key: String,
    pub kind: MetadataKind,
}

impl MetadataKey {
    fn new(key: &str, kind: MetadataKind) -> Self {
        Self {
            key: key.into(),
            kind,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataSettings {
    pub keys: Vec<MetadataKey>,
    /// Values that identify nobody (default user names, stock application names); compared after
    /// trimming and lowercasing. Ignored for `person` and `tool` keys.
    pub generic_values: Vec<String>,
    /// Score of one shared value of each kind; several shared keys combine as `1 − Π(1 − s)`.
    pub machine_score: f64,
    pub person_score: f64,
    pub tool_score: f64,
    /// A `tool` value used by more than this share of the tender's bidders is common, not a link
    /// (only applied with at least three bidders).
    pub max_tool_share: f64,
}

impl Default for MetadataSettings {
    fn default() -> Self {
        use MetadataKind::*;
        let machine = [
            "custom:机器码",
            "custom:机器特征码",
            "custom:硬件特征码",
            "custom:MachineCode",
            "custom:machine_code",
            "custom:文件创建标识",
            "custom:文件创建识别码",
            "custom:FileCreateId",
            "custom:file_creation_id",
            "custom:加密锁号",
            "custom:锁号",
            "custom:DongleId",
            "custom:dongle_id",
        ];
        let mut keys: Vec<MetadataKey> = machine
            .iter()
            .map(|k| MetadataKey::new(k, Machine))
            .collect();
        for k in ["author", "last_modified_by", "company"] {
            keys.push(MetadataKey::new(k, Person));
        }
        for k in ["application", "creator_tool", "producer"] {
            keys.push(MetadataKey::new(k, Tool));
        }
        let generic_values = [
            "administrator",
            "admin",
            "user",
            "owner",
            "unknown",
            "微软用户",
            "微软中国",
            "用户",
            "microsoft",
            "microsoft office user",
            "microsoft office 用户",
            "microsoft office word",
            "microsoft word",
            "wps office",
            "kingsoft office",
            "word",
            "lenovo",
            "dell",
            "hp",
            "pc",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Self {
            keys,
            generic_values,
            machine_score: 0.95,
            person_score: 0.6,
            tool_score: 0.2,
            max_tool_share: 0.5,
        }
    }
}

/// Same upload source (条例 40(2)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadSettings {
    /// Networks whose addresses many bidders share legitimately (private ranges, the platform's own
    /// proxies, public VPN exits, a trading centre's office network): an upload IP inside one is
    /// never a link.
    pub exclude_networks: Vec<IpNet>,
    pub ip_score: f64,
    pub device_score: f64,
}

impl Default for UploadSettings {
    fn default() -> Self {
        let exclude_networks = [
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "::/128",
            "::1/128",
            "fc00::/7",
            "fe80::/10",
        ]
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
        Self {
            exclude_networks,
            ip_score: 0.7,
            device_score: 0.9,
        }
    }
}

impl DocumentSettings {
    /// Checks the values serde cannot (ranges). Call once after loading.
    pub fn validate(&self) -> Result<(), ScreenError> {
        fn bad(field: &str, reason: &str) -> ScreenError {
            ScreenError::InvalidSetting {
                field: format!("documents.{field}"),
                reason: reason.into(),
            }
        }
        let unit = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        if !(1..=64).contains(&self.shingle_chars) {
            return Err(bad("shingle_chars", "must be in 1..=64"));
        }
        let n = &self.near_duplicate;
        if !(unit(n.threshold) && n.threshold > 0.0) {
            return Err(bad("near_duplicate.threshold", "must be in (0, 1]"));
        }
        if n.bands == 0 || n.rows == 0 || n.bins < n.bands.saturating_mul(n.rows) || n.bins > 4096 {
            return Err(bad(
                "near_duplicate.bins/bands/rows",
                "need bands ≥ 1, rows ≥ 1 and bands·rows ≤ bins ≤ 4096",
            ));
        }
        if !(unit(self.containment.threshold) && self.containment.threshold > 0.0) {
            return Err(bad("containment.threshold", "must be in (0, 1]"));
        }
        let r = &self.rare_passages;
        if r.window == 0 || r.max_bidders < 2 {
            return Err(bad(
                "rare_passages.window/max_bidders",
                "need window ≥ 1 and max_bidders ≥ 2",
            ));
        }
        if !(r.scale_chars.is_finite() && r.scale_chars > 0.0) {
            return Err(bad("rare_passages.scale_chars", "must be above 0"));
        }
        let m = &self.metadata;
        if !(unit(m.machine_score)
            && unit(m.person_score)
            && unit(m.tool_score)
            && unit(m.max_tool_share))
        {
            return Err(bad("metadata.*_score/max_tool_share", "must be in [0, 1]"));
        }
        if !(unit(self.upload.ip_score) && unit(self.upload.device_score)) {
            return Err(bad("upload.ip_score/device_score", "must be in [0, 1]"));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_default_and_valid() {
        let s: DocumentSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, DocumentSettings::default());
        assert!(s.validate().is_ok());
        assert_eq!(s.upload.exclude_networks.len(), 11);
    }

    #[test]
    fn unknown_fields_and_bad_values_fail() {
        assert!(
            serde_json::from_str::<DocumentSettings>(r#"{"near_duplicate":{"treshold":0.4}}"#)
                .is_err()
        );
        let s: DocumentSettings = serde_json::from_str(
            r#"{"upload":{"exclude_networks":["203.0.113.0/24","2001:db8::/32"]},
                "metadata":{"keys":[{"key":"custom:锁号","kind":"machine"}]}}"#,
        )
        .unwrap();
        assert_eq!(s.upload.exclude_networks.len(), 2);
        assert_eq!(s.metadata.keys.len(), 1);
        assert!(serde_json::from_str::<DocumentSettings>(
            r#"{"upload":{"exclude_networks":["not a net"]}}"#
        )
        .is_err());
        let mut s = DocumentSettings::default();
        s.near_duplicate.bins = 64;
        assert!(s.validate().is_err());
        let mut s = DocumentSettings::default();
        s.near_duplicate.threshold = f64::NAN;
        assert!(s.validate().is_err());
    }
}
