#!/usr/bin/env bash
# Price-screen benchmark: the Rust engine against a numpy/scipy reference on the same synthetic market.
#
#   benches/screen/run.sh [TENDERS] [SEED]        (defaults: 100000 tenders, seed 20240601)
#
# 1. generates the market CSV (gen_market.py, seeded; 3-15 bids per tender, log-normal prices);
# 2. builds benches/screen/screen_market.rs in release mode as a throwaway crate with a path
#    dependency on crates/sealbid-screen, times screen_market (parallel), the same serially, and the
#    whole engine (screens, fences, patterns; no charts), best and median of 5, and writes every
#    tender's figures;
# 3. times `sealbid screen --csv` (the whole CLI: read, screen, JSON to /dev/null), if the release
#    binary is built (cargo build --release), best of 3;
# 4. runs reference.py (vectorised numpy/scipy best of 3, then the per-tender scipy loop once) and
#    compares its figures with the crate's, screen by screen.
#
# Needs python3 with numpy and scipy: a venv is made under $VENV (default /tmp/sealbid-screen-venv)
# when python3 there lacks them. Work files go to $WORK (default /tmp/sealbid-screen-bench).
# CARGO_TARGET_DIR is honoured for the build.
set -euo pipefail

TENDERS="${1:-100000}"
SEED="${2:-20240601}"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
WORK="${WORK:-/tmp/sealbid-screen-bench}"
VENV="${VENV:-/tmp/sealbid-screen-venv}"
mkdir -p "$WORK/crate/src"

if ! "$VENV/bin/python" -c 'import numpy, scipy' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet numpy scipy
fi
PY="$VENV/bin/python"

echo "== machine"
echo "nproc: $(nproc)"
grep -m1 'model name' /proc/cpuinfo || true
rustc --version
"$PY" -c 'import sys, numpy, scipy; print("python", sys.version.split()[0], "numpy", numpy.__version__, "scipy", scipy.__version__)'

MARKET="$WORK/market-$TENDERS-$SEED.csv"
if [ ! -f "$MARKET" ]; then
    echo "== generating $MARKET"
    "$PY" "$HERE/gen_market.py" "$MARKET" "$TENDERS" "$SEED"
fi
echo "market: $(($(wc -l < "$MARKET") - 1)) bids, $(du -h "$MARKET" | cut -f1)"

echo "== building the Rust timer"
cat > "$WORK/crate/Cargo.toml" <<TOML
[package]
name = "screen-market-bench"
version = "0.0.0"
edition = "2021"
publish = false

[[bin]]
name = "screen_market"
path = "$HERE/screen_market.rs"

[dependencies]
sealbid-screen = { path = "$REPO/crates/sealbid-screen" }

[profile.release]
debug = false

[workspace]
TOML
cp "$REPO/Cargo.lock" "$WORK/crate/Cargo.lock"
cargo build --quiet --release --manifest-path "$WORK/crate/Cargo.toml"
TARGET="${CARGO_TARGET_DIR:-$WORK/crate/target}"
BIN="$TARGET/release/screen_market"

echo "== Rust: sealbid_screen (best/median of 5)"
"$BIN" "$MARKET" "$WORK/rust-screens.csv" 5 | tee "$WORK/rust.json"

SEALBID="${SEALBID_BIN:-${CARGO_TARGET_DIR:-$REPO/target}/release/sealbid}"
if [ -x "$SEALBID" ]; then
    echo "== Rust: $SEALBID screen --csv (whole CLI, JSON to /dev/null; 3 runs)"
    for _ in 1 2 3; do
        /usr/bin/time -f "cli_wall_s %e  max_rss_kb %M" "$SEALBID" screen --csv "$MARKET" > /dev/null
    done 2>&1 | tee "$WORK/cli.txt"
else
    echo "== (no release sealbid binary at $SEALBID: CLI timing skipped; cargo build --release)"
fi

echo "== numpy/scipy reference and comparison"
"$PY" "$HERE/reference.py" "$MARKET" "$WORK/rust-screens.csv" | tee "$WORK/reference.json"

"$PY" - "$WORK/rust.json" "$WORK/reference.json" <<'PYEOF'
import json, sys
rust = json.load(open(sys.argv[1]))
ref = json.load(open(sys.argv[2]))
print("== summary")
print(f"tenders {rust['tenders']}, bids {rust['bids']}")
r_par, r_ser = rust["screens_parallel_best_s"], rust["screens_serial_best_s"]
print(f"rust screens: parallel {r_par:.3f} s ({rust['threads']} threads), serial {r_ser:.3f} s; "
      f"whole engine {rust['engine_best_s']:.3f} s; CSV read {rust['read_csv_s']:.3f} s")
v = ref["vectorised_best_s"]
print(f"numpy/scipy vectorised {v:.3f} s: {v / r_ser:.1f}x the Rust serial time, {v / r_par:.1f}x parallel")
if "loop_s" in ref:
    l = ref["loop_s"]
    print(f"scipy per-tender loop {l:.1f} s: {l / r_ser:.0f}x the Rust serial time, {l / r_par:.0f}x parallel")
for name in ("vectorised_vs_rust", "loop_vs_rust"):
    if name not in ref:
        continue
    print(f"-- {name}: screen, both defined, defined in one only, max abs diff, max rel diff")
    for k, c in ref[name].items():
        print(f"   {k:<11} {c['both_defined']:>7} {c['defined_in_one_only']:>4} "
              f"{c['max_abs_diff']:.3e} {c['max_rel_diff']:.3e}")
PYEOF
