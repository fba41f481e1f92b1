#!/usr/bin/env bash
# Seal and open a file (default 100 MiB) with Sealbid's 3-of-5 threshold envelope against the
# `age` CLI encrypting and decrypting the same file to one X25519 recipient, with hyperfine.
# Needs: hyperfine, age (apt-get install -y hyperfine age; benchmark only, not CI).
# Usage: benches/seal/run.sh [SIZE_MIB] [RUNS]
#   WORK=DIR puts the files there (default: a fresh directory under /dev/shm, so the disk is out
#   of the measurement; every program reads and writes the same place).
set -euo pipefail
size=${1:-100}
runs=${2:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p sealbid-seal --example seal_file
bin="${CARGO_TARGET_DIR:-$root/target}/release/examples/seal_file"
work=${WORK:-$(mktemp -d -p /dev/shm)}
trap 'rm -rf "$work"' EXIT
"$bin" keygen "$work/committee"
age-keygen -o "$work/age.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")
head -c "$((size * 1024 * 1024))" /dev/urandom > "$work/plain"
# One of each first, so that the open runs have something to open.
"$bin" seal "$work/committee" "$work/plain" "$work/sealed.age"
age -r "$recipient" -o "$work/plain.age" "$work/plain"
echo "age $(age --version) · hyperfine $(hyperfine --version | cut -d' ' -f2) · ${size} MiB · $(nproc) cores"
hyperfine --warmup 2 --runs "$runs" -N --export-markdown "$work/seal.md" \
  -n "sealbid seal (3-of-5)" "$bin seal $work/committee $work/plain $work/sealed.age" \
  -n "age -r (X25519)" "age -r $recipient -o $work/plain.age $work/plain"
hyperfine --warmup 2 --runs "$runs" -N --export-markdown "$work/open.md" \
  -n "sealbid open (3 shares)" "$bin open $work/committee $work/sealed.age $work/opened" \
  -n "age -d (X25519)" "age -d -i $work/age.key -o $work/opened.age $work/plain.age"
cmp "$work/plain" "$work/opened" && cmp "$work/plain" "$work/opened.age" && echo "round trips OK"
cat "$work/seal.md" "$work/open.md"
