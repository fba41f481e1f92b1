//! Normalised text and character shingles.
//!
//! Normalisation drops whitespace and punctuation (ASCII, CJK and full-width), folds full-width
//! ASCII to half-width and lowercases, so re-flowed or re-punctuated copies still match; it keeps a
//! map from each kept character back to its offset in the original text, so passages are shown as
//! written. Shingles are the `k`-character windows of the normalised text: no word segmentation,
//! which suits Chinese. Each shingle gets one 64-bit hash: a polynomial rolling hash over per-character
//! hashes (Karp–Rabin, as in Schleimer et al.'s winnowing), finished with a 64-bit mixer so its bits
//! are uniform for MinHash bins and LSH bands.

/// Text with whitespace and punctuation removed, and where each kept character came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NormText {
    pub chars: Vec<char>,
    /// `offsets[i]`: character offset of `chars[i]` in the original text.
    pub offsets: Vec<usize>,
}

impl NormText {
    pub fn new(text: &str) -> Self {
        let mut chars = Vec::with_capacity(text.len() / 2);
        let mut offsets = Vec::with_capacity(text.len() / 2);
        for (i, c) in text.chars().enumerate() {
            if let Some(c) = normalise_char(c) {
                chars.push(c);
                offsets.push(i);
            }
        }
        Self { chars, offsets }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The original characters spanned by normalised positions `start..end` (`end` exclusive), with
    /// the character offset where they start.
    pub fn original(&self, text: &str, start: usize, end: usize) -> (usize, String) {
        if start >= end || end > self.offsets.len() {
            return (0, String::new());
        }
        let from = self.offsets[start];
        let to = self.offsets[end - 1] + 1;
        (from, text.chars().skip(from).take(to - from).collect())
    }
}

/// `None` for whitespace, punctuation and symbols; full-width ASCII folded; lowercased.
pub fn normalise_char(c: char) -> Option<char> {
    let c = match c as u32 {
        // Full-width ASCII variants (！ to ～) to ASCII.
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    if c.is_whitespace() || c.is_control() || c.is_ascii_punctuation() {
        return None;
    }
    let u = c as u32;
    let punct = matches!(u,
        0x00A0..=0x00BF          // Latin-1 punctuation and symbols
        | 0x00D7 | 0x00F7
        | 0x2000..=0x206F        // general punctuation (— … “ ” ‘ ’ ·)
        | 0x2190..=0x21FF        // arrows
        | 0x2500..=0x25FF        // box drawing, shapes (■ ● ※ are near)
        | 0x3000..=0x303F        // CJK symbols and punctuation (、。「」《》【】)
        | 0xFE30..=0xFE4F        // CJK compatibility forms
        | 0xFE50..=0xFE6F        // small form variants
        | 0xFF5F..=0xFF65        // half-width CJK punctuation
        | 0xFFFD                 // replacement character
        | 0xFEFF                 // BOM
    );
    if punct {
        return None;
    }
    Some(if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c
    })
}

/// A 64-bit finaliser (MurmurHash3's fmix64): every input bit affects every output bit.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x
}

const BASE: u64 = 0x0000_0100_0000_01b3; // odd (FNV prime)

/// The hash of every `k`-character window of `chars`, in order (`chars.len() - k + 1` of them; none
/// if shorter than `k`). `k` is at least 1.
pub fn shingle_hashes(chars: &[char], k: usize) -> Vec<u64> {
    let k = k.max(1);
    if chars.len() < k {
        return Vec::new();
    }
    // BASE^k, to drop the character leaving the window.
    let mut top = 1u64;
    for _ in 0..k {
        top = top.wrapping_mul(BASE);
    }
    let ch = |c: char| mix64(c as u64 ^ 0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(chars.len() - k + 1);
    let mut h = 0u64;
    for (i, &c) in chars.iter().enumerate() {
        h = h.wrapping_mul(BASE).wrapping_add(ch(c));
        if i >= k {
            h = h.wrapping_sub(ch(chars[i - k]).wrapping_mul(top));
        }
        if i + 1 >= k {
            out.push(mix64(h ^ k as u64));
        }
    }
    out
}

/// Sorted, deduplicated copy of `hashes`: the shingle set.
pub fn shingle_set(hashes: &[u64]) -> Vec<u64> {
    let mut v = hashes.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// `|a ∩ b|` of two sorted, deduplicated sets.
pub fn intersection_len(a: &[u64], b: &[u64]) -> usize {
    // Branch-free merge: the comparisons of random hashes are unpredictable.
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        n += usize::from(x == y);
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    n
}

/// Exact Jaccard similarity of two sorted, deduplicated sets (0 if both are empty).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let inter = intersection_len(a, b);
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_drops_space_and_punctuation_and_maps_back() {
        let t = "投标 函：\n本公司（ＡＢＣ）承诺，工期。";
        let n = NormText::new(t);
        let s: String = n.chars.iter().collect();
        assert_eq!(s, "投标函本公司abc承诺工期");
        let (off, orig) = n.original(t, 2, 8);
        assert_eq!(off, 3);
        assert_eq!(orig, "函：\n本公司（ＡＢ");
    }

    #[test]
    fn rolling_hash_equals_direct_hash_of_each_window() {
        let chars: Vec<char> = "施工组织设计方案施工组织".chars().collect();
        let all = shingle_hashes(&chars, 4);
        assert_eq!(all.len(), chars.len() - 3);
        for (i, h) in all.iter().enumerate() {
            assert_eq!(*h, shingle_hashes(&chars[i..i + 4], 4)[0]);
        }
        // "施工组织" occurs at 0 and 8.
        assert_eq!(all[0], all[8]);
        assert_ne!(all[0], all[1]);
        assert!(shingle_hashes(&chars[..3], 4).is_empty());
    }

    #[test]
    fn exact_jaccard() {
        let a = shingle_set(&[1, 2, 3, 3]);
        let b = shingle_set(&[2, 3, 4]);
        assert_eq!(intersection_len(&a, &b), 2);
        assert!((jaccard(&a, &b) - 0.5).abs() < 1e-12);
        assert_eq!(jaccard(&[], &[]), 0.0);
    }
}
