//! Training: L2-penalised logistic regression by Newton's method, on standardised features. Small
//! and deterministic (no threads, no randomness): the same data gives the same model, bit for bit.
use std::collections::BTreeMap;

use super::features::{BaseFeature, MarketContext};
use super::model::{FeatureKind, FeatureSpec, Model, Normalisation, TrainingInfo};
use super::ClassifyError;
use crate::screens::TenderScreens;

/// What to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub normalisation: Normalisation,
    pub inputs: Vec<(BaseFeature, FeatureKind)>,
    /// Penalty on the standardised coefficients (not on the intercept).
    pub l2: f64,
    /// Weight the classes equally (each class's weights sum to half the total).
    pub balanced: bool,
    pub clip: f64,
    pub threshold: f64,
}

impl TrainConfig {
    /// Every base feature's value, and a missing indicator for those that can be undefined on a
    /// scorable tender (fewer than three or four bids, or identical bids).
    pub fn full(normalisation: Normalisation) -> Self {
        let mut inputs: Vec<_> = BaseFeature::ALL
            .into_iter()
            .map(|b| (b, FeatureKind::Value))
            .collect();
        inputs.extend(
            [
                BaseFeature::Rd,
                BaseFeature::Kurtosis,
                BaseFeature::Skewness,
                BaseFeature::Ks,
                BaseFeature::WinnerGap,
            ]
            .map(|b| (b, FeatureKind::Missing)),
        );
        Self::with_inputs(normalisation, inputs)
    }

    /// The features whose direction agrees in the three development markets (low CV, spread and
    /// skewness; high RD and KS; fewer bids), with their missing indicators.
    pub fn core(normalisation: Normalisation) -> Self {
        let mut inputs: Vec<_> = [
            BaseFeature::Cv,
            BaseFeature::Spread,
            BaseFeature::Rd,
            BaseFeature::Skewness,
            BaseFeature::Ks,
            BaseFeature::LogBids,
        ]
        .map(|b| (b, FeatureKind::Value))
        .to_vec();
        inputs.extend(
            [BaseFeature::Rd, BaseFeature::Skewness, BaseFeature::Ks]
                .map(|b| (b, FeatureKind::Missing)),
        );
        Self::with_inputs(normalisation, inputs)
    }

    fn with_inputs(normalisation: Normalisation, inputs: Vec<(BaseFeature, FeatureKind)>) -> Self {
        Self {
            normalisation,
            inputs,
            l2: 0.01,
            balanced: true,
            clip: 5.0,
            threshold: 0.5,
        }
    }
}

/// One labelled tender and the market it is measured against.
#[derive(Debug, Clone, Copy)]
pub struct Example<'a> {
    pub screens: &'a TenderScreens,
    pub context: Option<&'a MarketContext>,
    pub collusive: bool,
}

/// Fits a model. Tenders that are not [`Model::scorable`] are skipped. The result carries empty
/// metadata (name, version, training info) for the caller to fill in.
pub fn fit(cfg: &TrainConfig, examples: &[Example<'_>]) -> Result<Model, ClassifyError> {
    let ex: Vec<&Example<'_>> = examples
        .iter()
        .filter(|e| Model::scorable(e.screens))
        .collect();
    let pos = ex.iter().filter(|e| e.collusive).count();
    if pos == 0 || pos == ex.len() {
        return Err(ClassifyError::Training(
            "training data needs both collusive and competitive tenders".into(),
        ));
    }
    let pooled: Vec<TenderScreens> = ex.iter().map(|e| e.screens.clone()).collect();
    let fallback_context = match cfg.normalisation {
        Normalisation::Absolute => BTreeMap::new(),
        Normalisation::MarketRobustZ => MarketContext::from_screens(&pooled).features,
    };
    let mut model = Model {
        name: String::new(),
        version: String::new(),
        description: String::new(),
        normalisation: cfg.normalisation,
        clip: cfg.clip,
        intercept: 0.0,
        threshold: cfg.threshold,
        features: Vec::new(),
        fallback_context,
        training: TrainingInfo::default(),
        evaluation: Vec::new(),
    };
    // Centre and scale of each input over the training tenders.
    for &(base, kind) in &cfg.inputs {
        let values: Vec<f64> = ex
            .iter()
            .filter_map(|e| {
                let x = model.normalised(base, e.screens, e.context);
                match kind {
                    FeatureKind::Value => x,
                    FeatureKind::Missing => Some(f64::from(u8::from(x.is_none()))),
                }
            })
            .collect();
        let (center, scale) = mean_sd(&values);
        model.features.push(FeatureSpec {
            name: FeatureSpec::standard_name(base, kind),
            base,
            kind,
            center,
            scale,
            coefficient: 0.0,
        });
    }
    let x: Vec<Vec<f64>> = ex
        .iter()
        .map(|e| {
            model
                .inputs(e.screens, e.context)
                .into_iter()
                .map(|(_, z)| z)
                .collect()
        })
        .collect();
    let y: Vec<bool> = ex.iter().map(|e| e.collusive).collect();
    let n = y.len() as f64;
    let w: Vec<f64> = if cfg.balanced {
        let (wp, wn) = (n / (2.0 * pos as f64), n / (2.0 * (n - pos as f64)));
        y.iter().map(|&l| if l { wp } else { wn }).collect()
    } else {
        vec![1.0; y.len()]
    };
    let beta = logistic_newton(&x, &y, &w, cfg.l2)?;
    model.intercept = beta.first().copied().unwrap_or_default();
    for (f, b) in model.features.iter_mut().zip(beta.iter().skip(1)) {
        f.coefficient = *b;
    }
    Ok(model)
}

/// Mean and standard deviation (divisor n); a nil or undefined deviation becomes 1 (the input is
/// then constant and its coefficient stays 0 under the penalty).
fn mean_sd(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 1.0);
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt();
    (
        m,
        if sd.is_finite() && sd > 1e-12 {
            sd
        } else {
            1.0
        },
    )
}

/// Minimises `Σ wᵢ·logloss / Σ wᵢ + l2/2·‖β₁..‖²` (β₀, the intercept, unpenalised) by Newton steps with
/// step halving. Returns `[β₀, β₁, …]`.
pub fn logistic_newton(
    x: &[Vec<f64>],
    y: &[bool],
    w: &[f64],
    l2: f64,
) -> Result<Vec<f64>, ClassifyError> {
    let p = x.first().map_or(0, Vec::len) + 1;
    let wsum: f64 = w.iter().sum();
    if x.is_empty() || x.len() != y.len() || x.len() != w.len() || !(wsum.is_finite() && wsum > 0.0)
    {
        return Err(ClassifyError::Training("no weighted training rows".into()));
    }
    let objective = |b: &[f64]| {
        let mut loss = 0.0;
        for ((r, &yi), &wi) in x.iter().zip(y).zip(w) {
            let eta: f64 = row(r).zip(b).map(|(a, c)| a * c).sum();
            // log(1 + e^η) − y·η, stably.
            let softplus = eta.max(0.0) + (-eta.abs()).exp().ln_1p();
            loss += wi * (softplus - if yi { eta } else { 0.0 });
        }
        loss / wsum + 0.5 * l2 * b.iter().skip(1).map(|c| c * c).sum::<f64>()
    };
    let mut beta = vec![0.0; p];
    let mut current = objective(&beta);
    for _ in 0..100 {
        let mut grad = vec![0.0; p];
        let mut hess = vec![vec![0.0; p]; p];
        for ((r, &yi), &wi) in x.iter().zip(y).zip(w) {
            let xi: Vec<f64> = row(r).collect();
            let eta: f64 = xi.iter().zip(&beta).map(|(a, c)| a * c).sum();
            let mu = super::model::sigmoid(eta);
            let g = wi * (mu - f64::from(u8::from(yi))) / wsum;
            let h = wi * mu * (1.0 - mu) / wsum;
            for j in 0..p {
                grad[j] += g * xi[j];
                for (hjk, xk) in hess[j].iter_mut().zip(&xi) {
                    *hjk += h * xi[j] * xk;
                }
            }
        }
        for j in 0..p {
            let pen = if j == 0 { 1e-10 } else { l2 };
            grad[j] += if j == 0 { 0.0 } else { l2 * beta[j] };
            hess[j][j] += pen;
        }
        let step = cholesky_solve(hess, &grad)
            .ok_or_else(|| ClassifyError::Training("singular Hessian".into()))?;
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..30 {
            let cand: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - t * s).collect();
            let obj = objective(&cand);
            if obj.is_finite() && obj <= current {
                beta = cand;
                current = obj;
                accepted = true;
                break;
            }
            t /= 2.0;
        }
        let size = step.iter().fold(0.0_f64, |m, s| m.max(s.abs())) * t;
        if !accepted || size < 1e-10 {
            break;
        }
    }
    if beta.iter().all(|b| b.is_finite()) {
        Ok(beta)
    } else {
        Err(ClassifyError::Training("coefficients diverged".into()))
    }
}

/// A design row with the intercept's 1 in front.
fn row(r: &[f64]) -> impl Iterator<Item = f64> + '_ {
    std::iter::once(1.0).chain(r.iter().copied())
}

/// Solves `A·x = b` for symmetric positive-definite `A`.
fn cholesky_solve(mut a: Vec<Vec<f64>>, b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    for j in 0..n {
        let d = a[j][j] - (0..j).map(|k| a[j][k] * a[j][k]).sum::<f64>();
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        a[j][j] = d;
        for i in j + 1..n {
            let s = a[i][j] - (0..j).map(|k| a[i][k] * a[j][k]).sum::<f64>();
            a[i][j] = s / d;
        }
    }
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = (b[i] - (0..i).map(|k| a[i][k] * z[k]).sum::<f64>()) / a[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        x[i] = (z[i] - (i + 1..n).map(|k| a[k][i] * x[k]).sum::<f64>()) / a[i][i];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::classify::eval::SplitMix64;
    use crate::screens::screen_tender;
    use crate::screens::test_util::tender;

    #[test]
    fn newton_matches_the_first_order_conditions() {
        // y depends on x1 only; check the penalised gradient vanishes at the solution.
        let mut rng = SplitMix64::new(1);
        let x: Vec<Vec<f64>> = (0..300)
            .map(|_| {
                vec![
                    rng.below(1000) as f64 / 250.0 - 2.0,
                    rng.below(1000) as f64 / 250.0 - 2.0,
                ]
            })
            .collect();
        let y: Vec<bool> = x
            .iter()
            .map(|r| (r[0] + rng.below(1000) as f64 / 500.0 - 1.0) > 0.0)
            .collect();
        let w = vec![1.0; y.len()];
        let l2 = 0.05;
        let b = logistic_newton(&x, &y, &w, l2).unwrap();
        assert!(b[1] > 1.0 && b[2].abs() < 0.5, "{b:?}");
        let n = y.len() as f64;
        let mut g = [0.0; 3];
        for (r, &yi) in x.iter().zip(&y) {
            let eta = b[0] + b[1] * r[0] + b[2] * r[1];
            let e = crate::classify::model::sigmoid(eta) - f64::from(u8::from(yi));
            g[0] += e / n;
            g[1] += e * r[0] / n;
            g[2] += e * r[1] / n;
        }
        g[1] += l2 * b[1];
        g[2] += l2 * b[2];
        assert!(g.iter().all(|v| v.abs() < 1e-8), "{g:?}");
    }

    #[test]
    fn separable_data_stays_finite_under_the_penalty() {
        let x: Vec<Vec<f64>> = (0..20).map(|i| vec![f64::from(i)]).collect();
        let y: Vec<bool> = (0..20).map(|i| i >= 10).collect();
        let b = logistic_newton(&x, &y, &[1.0; 20], 0.01).unwrap();
        assert!(b.iter().all(|v| v.is_finite()) && b[1] > 0.0);
    }

    #[test]
    fn fit_is_deterministic_and_learns_the_direction() {
        // Tight clusters collusive, wide spreads competitive.
        let mut rng = SplitMix64::new(3);
        let mut s = Vec::new();
        let mut y = Vec::new();
        for i in 0..80 {
            let collusive = i % 2 == 0;
            let width = if collusive { 2.0 } else { 30.0 };
            let n = 3 + rng.below(6);
            let prices: Vec<f64> = (0..n)
                .map(|_| 100.0 + rng.below(1000) as f64 / 1000.0 * width)
                .collect();
            s.push(screen_tender(&tender(&prices)));
            y.push(collusive);
        }
        let ctx = MarketContext::from_screens(&s);
        for cfg in [
            TrainConfig::full(Normalisation::Absolute),
            TrainConfig::core(Normalisation::MarketRobustZ),
        ] {
            let ex: Vec<Example<'_>> = s
                .iter()
                .zip(&y)
                .map(|(s, &c)| Example {
                    screens: s,
                    context: Some(&ctx),
                    collusive: c,
                })
                .collect();
            let a = fit(&cfg, &ex).unwrap();
            let b = fit(&cfg, &ex).unwrap();
            assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
            let cv = a.features.iter().find(|f| f.name == "cv").unwrap();
            assert!(cv.coefficient < 0.0, "{cv:?}");
        }
    }

    #[test]
    fn one_class_is_refused() {
        let s = vec![screen_tender(&tender(&[100.0, 120.0])); 5];
        let ex: Vec<Example<'_>> = s
            .iter()
            .map(|s| Example {
                screens: s,
                context: None,
                collusive: true,
            })
            .collect();
        assert!(fit(&TrainConfig::full(Normalisation::Absolute), &ex).is_err());
    }
}
