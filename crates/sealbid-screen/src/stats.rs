//! Small numeric helpers shared by the screens. Callers guarantee non-empty input.

/// Arithmetic mean.
pub(crate) fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (divisor n − 1); `None` below two values.
pub(crate) fn sample_sd(x: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let m = mean(x);
    let ss: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
    Some((ss / (x.len() - 1) as f64).sqrt())
}

/// Biased central moment of order `k` (divisor n), about the mean `m`.
pub(crate) fn central_moment(x: &[f64], m: f64, k: i32) -> f64 {
    x.iter().map(|v| (v - m).powi(k)).sum::<f64>() / x.len() as f64
}

/// `Some(v)` only if `v` is finite: no NaN or infinity leaves the engine.
pub(crate) fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Whether the spread of `x` around its mean `m` is numerically nil relative to the level of the
/// prices (all bids identical up to rounding), in which case shape statistics are undefined.
pub(crate) fn degenerate(m2: f64, m: f64) -> bool {
    // m2 is a variance; compare its root with the mean's magnitude to stay scale-free.
    m2.is_nan() || m2 <= 0.0 || m2.sqrt() <= m.abs() * 1e-12
}
