#!/usr/bin/env python3
"""Synthetic market for the screen benchmark: N tenders, seeded, one row per bid.

Bid counts 3-15 (uniform), estimates log-normal (median about 440,000), each bid the estimate times a
log-normal factor (median 0.95, sd 8 %), rounded to the cent; the lowest bid wins. About 1 % of the
tenders get a pair of identical bids and 0.5 % a run of bids at a constant step, so that the engine's
pattern detectors have something to find. Columns: tender,bidder,price,estimate,winner (the CSV
reader's plain header). Usage: gen_market.py OUT.csv [TENDERS] [SEED]
"""
import sys

import numpy as np


def main() -> None:
    out = sys.argv[1]
    tenders = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20240601
    rng = np.random.default_rng(seed)
    counts = rng.integers(3, 16, size=tenders)
    estimates = np.round(np.exp(rng.normal(13.0, 1.5, size=tenders)), 2)
    with open(out, "w", encoding="ascii") as f:
        f.write("tender,bidder,price,estimate,winner\n")
        for t in range(tenders):
            n = int(counts[t])
            est = float(estimates[t])
            prices = np.round(est * np.exp(rng.normal(np.log(0.95), 0.08, size=n)), 2)
            u = rng.random()
            if u < 0.01:
                prices[1] = prices[0]
            elif u < 0.015:
                step = round(est * 0.01, 2)
                prices[:3] = prices[0] + step * np.arange(3)
            prices = np.maximum(prices, 0.01)
            bidders = rng.choice(5000, size=n, replace=False)
            win = int(np.argmin(prices))
            for i in range(n):
                f.write(f"{t},{bidders[i]},{prices[i]:.2f},{est:.2f},{int(i == win)}\n")


if __name__ == "__main__":
    main()
