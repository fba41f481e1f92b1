#!/usr/bin/env python3
"""numpy/scipy reference for sealbid-screen's price screens, with the crate's exact definitions
(crates/sealbid-screen/src/screens/*.rs), timed two ways on the same market CSV:

- "loop": one tender at a time, scipy.stats calls per tender, as research scripts usually do;
- "vectorised": tenders grouped by bid count into 2-D arrays, numpy/scipy along axis 1 (the KS
  statistic written out in numpy: scipy's kstest(axis=1) loops over rows in Python).

Every tender must have only finite prices above zero (as the generator writes); the crate answers
None for any tender that does not, which this script does not re-implement.

Definitions (x sorted ascending, n bids; None where undefined):
  cv        sample sd (ddof 1) / mean; n >= 2
  spread    (max - min) / min; n >= 2
  diffp     (x2 - x1) / x1; n >= 2
  rd        (x2 - x1) / sd(x[1:], ddof 1); n >= 3; None if sd <= |mean(x[1:])| * 1e-12
  kurtosis  scipy.stats.kurtosis(bias=False) (Fisher); n >= 4; None if sqrt(m2) <= |mean| * 1e-12
  skewness  scipy.stats.skew(bias=False); n >= 3; same degeneracy test
  ks        scipy.stats.kstest(x, uniform(loc=min, scale=max-min)).statistic; n >= 2;
            None if max - min <= min * 1e-12
  winner_gap (r - w) / w: w the winner's price (the lowest if not exactly one winner is flagged),
            r the lowest other price >= w; n >= 2

Usage: reference.py MARKET.csv RUST_SCREENS.csv [--skip-loop]
Prints the timings and the per-screen comparison with the crate's output as JSON on stdout.
"""
import json
import sys
import time

import numpy as np
from scipy import stats

SCREENS = ["cv", "spread", "diffp", "rd", "kurtosis", "skewness", "ks", "winner_gap"]
TINY = 1e-12


def read_market(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    tender = data[:, 0].astype(np.int64)
    price = data[:, 2]
    winner = data[:, 4] > 0.5
    # Rows of a tender are contiguous (the generator writes them so); split at changes.
    starts = np.flatnonzero(np.r_[True, tender[1:] != tender[:-1]])
    ends = np.r_[starts[1:], len(tender)]
    ids = tender[starts]
    return ids, [(price[s:e], winner[s:e]) for s, e in zip(starts, ends)]


def winner_gap(prices, winners):
    n = len(prices)
    if n < 2:
        return None
    flagged = np.flatnonzero(winners)
    w_index = int(flagged[0]) if len(flagged) == 1 else int(np.argmin(prices))
    w = prices[w_index]
    others = np.delete(prices, w_index)
    above = others[others >= w]
    if len(above) == 0:
        return None
    return float((above.min() - w) / w)


def one_tender(prices, winners):
    x = np.sort(prices)
    n = len(x)
    out = dict.fromkeys(SCREENS)
    if n >= 2:
        out["cv"] = float(np.std(x, ddof=1) / np.mean(x))
        out["spread"] = float((x[-1] - x[0]) / x[0])
        out["diffp"] = float((x[1] - x[0]) / x[0])
        rng = x[-1] - x[0]
        if rng > x[0] * TINY:
            out["ks"] = float(stats.kstest(x, stats.uniform(loc=x[0], scale=rng).cdf).statistic)
    if n >= 3:
        losing = x[1:]
        s = np.std(losing, ddof=1)
        if s > abs(np.mean(losing)) * TINY:
            out["rd"] = float((losing[0] - x[0]) / s)
    m = np.mean(x)
    degenerate = np.sqrt(np.mean((x - m) ** 2)) <= abs(m) * TINY
    if n >= 3 and not degenerate:
        out["skewness"] = float(stats.skew(x, bias=False))
    if n >= 4 and not degenerate:
        out["kurtosis"] = float(stats.kurtosis(x, fisher=True, bias=False))
    out["winner_gap"] = winner_gap(prices, winners)
    return out


def loop(tenders):
    return [one_tender(p, w) for p, w in tenders]


def vectorised(tenders):
    """Same figures, grouped by bid count; returns one dict of arrays (NaN = None) in input order."""
    t = len(tenders)
    res = {k: np.full(t, np.nan) for k in SCREENS}
    counts = np.array([len(p) for p, _ in tenders])
    for n in np.unique(counts):
        idx = np.flatnonzero(counts == n)
        raw = np.stack([tenders[i][0] for i in idx])
        win = np.stack([tenders[i][1] for i in idx])
        x = np.sort(raw, axis=1)
        if n < 2:
            continue
        lo, hi = x[:, 0], x[:, -1]
        mean = x.mean(axis=1)
        res["cv"][idx] = x.std(axis=1, ddof=1) / mean
        res["spread"][idx] = (hi - lo) / lo
        res["diffp"][idx] = (x[:, 1] - lo) / lo
        rng = hi - lo
        ok = rng > lo * TINY
        if ok.any():
            # scipy.stats.kstest(u, "uniform", axis=1) gives the same statistic but loops over the
            # rows in Python (about 0.3 ms a row); its definition, in numpy:
            u = (x[ok] - lo[ok, None]) / rng[ok, None]
            i = np.arange(1, n + 1)
            d = np.maximum((i / n - u).max(axis=1), (u - (i - 1) / n).max(axis=1))
            res["ks"][idx[ok]] = d
        if n >= 3:
            losing = x[:, 1:]
            s = losing.std(axis=1, ddof=1)
            ok = s > np.abs(losing.mean(axis=1)) * TINY
            res["rd"][idx[ok]] = (losing[ok, 0] - lo[ok]) / s[ok]
            m2 = ((x - mean[:, None]) ** 2).mean(axis=1)
            ok = ~(np.sqrt(m2) <= np.abs(mean) * TINY)
            res["skewness"][idx[ok]] = stats.skew(x[ok], axis=1, bias=False)
            if n >= 4:
                res["kurtosis"][idx[ok]] = stats.kurtosis(x[ok], axis=1, fisher=True, bias=False)
        # winner gap: the single flagged winner, else the lowest bid
        single = win.sum(axis=1) == 1
        w_index = np.where(single, np.argmax(win, axis=1), np.argmin(raw, axis=1))
        rows = np.arange(len(idx))
        w = raw[rows, w_index]
        others = raw.copy()
        others[rows, w_index] = np.inf
        others[others < w[:, None]] = np.inf
        r = others.min(axis=1)
        gap = np.where(np.isfinite(r), (r - w) / w, np.nan)
        res["winner_gap"][idx] = gap
    return res


def read_rust(path):
    import csv

    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    ids = np.array([int(r["tender"]) for r in rows])
    return ids, {k: np.array([float(r[k]) if r[k] != "" else np.nan for r in rows]) for k in SCREENS}


def compare(ours, rust):
    """Per screen: tenders where both are defined, where only one is, and the largest differences."""
    out = {}
    for k in SCREENS:
        a, b = ours[k], rust[k]
        both = ~np.isnan(a) & ~np.isnan(b)
        diff = np.abs(a[both] - b[both])
        rel = diff / np.maximum(np.abs(a[both]), 1e-300)
        # relative differences of values that are themselves ~0 are noise; report those apart
        big = np.abs(a[both]) > 1e-9
        out[k] = {
            "both_defined": int(both.sum()),
            "defined_in_one_only": int((np.isnan(a) != np.isnan(b)).sum()),
            "max_abs_diff": float(diff.max()) if diff.size else 0.0,
            "max_rel_diff": float(rel[big].max()) if big.any() else 0.0,
        }
    return out


def main():
    market, rust_path = sys.argv[1], sys.argv[2]
    skip_loop = "--skip-loop" in sys.argv
    t0 = time.perf_counter()
    ids, tenders = read_market(market)
    read_s = time.perf_counter() - t0
    report = {
        "tenders": len(tenders),
        "bids": int(sum(len(p) for p, _ in tenders)),
        "numpy": np.__version__,
        "scipy": __import__("scipy").__version__,
        "python": sys.version.split()[0],
        "read_csv_s": round(read_s, 6),
    }
    rust_ids, rust = read_rust(rust_path)
    if not np.array_equal(rust_ids, ids):
        sys.exit("the Rust output's tenders are not the market's, in the same order")

    best = None
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        vec = vectorised(tenders)
        times.append(time.perf_counter() - t0)
    report["vectorised_best_s"] = round(min(times), 6)
    report["vectorised_median_s"] = round(sorted(times)[1], 6)
    report["vectorised_vs_rust"] = compare(vec, rust)

    if not skip_loop:
        t0 = time.perf_counter()
        rows = loop(tenders)
        report["loop_s"] = round(time.perf_counter() - t0, 6)
        looped = {k: np.array([np.nan if r[k] is None else r[k] for r in rows]) for k in SCREENS}
        report["loop_vs_rust"] = compare(looped, rust)
        best = looped
    del best
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
