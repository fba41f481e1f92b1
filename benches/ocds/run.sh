#!/usr/bin/env bash
# OCDS export of N synthetic tenders against the validation of the same file by libcoveocds.
#
#   benches/ocds/run.sh [N] [SEED]          (default: 10000 20250601)
#
# 1. Builds crates/sealbid-domain/examples/ocds_export.rs in release mode and runs it RUNS times
#    (default 3) on the same file: every tender's releases, the record package (FORMAT=release: the
#    release package) and its pretty JSON, as `sealbid export-ocds` writes it. The files of all runs
#    must be identical (the generator is deterministic). The export time is the median of the runs'
#    build + serialize times, as the program prints them.
# 2. Times tools/ocds/validate.sh on the file once (libcoveocds 0.17.0 against the offline OCDS 1.1.5
#    schema zip; OCDS_OFFLINE=1 by default, as the e2e test runs it: the bid extension is not fetched
#    and the script checks bids.details itself). Fails unless it reports 0 validation errors and
#    0 closed-codelist violations.
# 3. Prints both times, the ratio validation / export, peak memory, the load average before and
#    after each step, and which other processes were running meanwhile (sampled every 2 s: another
#    build on the machine shows up there).
#
# Environment: FORMAT=record|release, RUNS=3, WORK=DIR (default: a fresh temporary directory,
# removed at the end unless KEEP=1), OCDS_VENV (default .ci/ocds-venv; created as .ci/run creates
# it when missing), OCDS_OFFLINE=1, CARGO_TARGET_DIR.
set -euo pipefail

n=${1:-10000}
seed=${2:-20250601}
format=${FORMAT:-record}
runs=${RUNS:-3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export OCDS_VENV=${OCDS_VENV:-$root/.ci/ocds-venv}
export OCDS_OFFLINE=${OCDS_OFFLINE:-1}

work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
if [[ ${KEEP:-0} != 1 && -z ${WORK:-} ]]; then
    trap 'kill ${watcher:-} 2>/dev/null || true; rm -rf "$work"' EXIT
else
    trap 'kill ${watcher:-} 2>/dev/null || true' EXIT
fi
file=$work/ocds-$format-$n.json

load() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

# Other work on the machine: every 2 s, the commands of running threads that are not this
# benchmark's (compilers of another build show up here), summarised at the end.
watch_log=$work/others.log
watcher=
watch() {
    (
        while sleep 2; do
            ps -eLo stat=,comm= | awk '$1 ~ /^[RD]/ && $2 !~ /^(ocds_export|python3?|ps|awk|bash|time|sort|sha256sum|cat|cut|sed|grep|stat|kworker.*|ksoftirqd.*|rcu_.*|migration.*)$/ { print $2 }'
            echo "--"
        done >>"$watch_log"
    ) &
    watcher=$!
}
phase() { echo "== $1" >>"$watch_log"; }
others() {
    kill ${watcher:-} 2>/dev/null || true
    awk '
        /^== / { p = $2; order[++np] = p; next }
        /^--$/ { samples[p]++; next }
        { seen[p, $1]++; names[p] = names[p] " " $1 }
        END {
            for (i = 1; i <= np; i++) {
                p = order[i]; out = ""
                split(names[p], list, " "); delete done
                for (j in list) if (!(list[j] in done)) { done[list[j]] = 1; out = out " " list[j] "×" seen[p, list[j]] }
                printf "other running processes during %s, %d samples every 2 s:%s\n", p, samples[p], (out == "" ? " none" : out)
            }
        }' "$watch_log"
}

# Runs "$@" with stdout/stderr to $1.out/$1.err; leaves the wall seconds in $1.wall and the peak RSS
# (KiB, when /usr/bin/time exists) in $1.rss; returns the command's status.
timed() {
    local tag=$1 status=0 start end
    shift
    start=$(date +%s.%N)
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f '%M' -o "$tag.rss" "$@" >"$tag.out" 2>"$tag.err" || status=$?
    else
        "$@" >"$tag.out" 2>"$tag.err" || status=$?
        echo "?" >"$tag.rss"
    fi
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f\n", e - s }' >"$tag.wall"
    return "$status"
}

rss_mib() { awk '{ if ($1 ~ /^[0-9]+$/) printf "%.0f MiB", $1 / 1024; else print "?" }' "$1.rss"; }

echo "== machine"
bash "$root/benches/machine.sh"
echo "nproc: $(nproc); $(grep MemTotal /proc/meminfo)"

# The validator's virtualenv, made the way .ci/run makes it; validate.sh would otherwise create it
# inside the timed run.
if [[ ! -x $OCDS_VENV/bin/python ]]; then
    echo "== creating $OCDS_VENV (python3 -m venv + pip install -r tools/ocds/requirements.txt)"
    python3 -m venv "$OCDS_VENV"
    if ! "$OCDS_VENV/bin/pip" install --quiet --disable-pip-version-check \
        -r tools/ocds/requirements.txt; then
        echo "pip could not install tools/ocds/requirements.txt." >&2
        echo "  PIP_FIND_LINKS=${PIP_FIND_LINKS:-(unset)}: $(ls "${PIP_FIND_LINKS:-/nonexistent}" 2>/dev/null | wc -l) files" >&2
        echo "  pip cache: $("$OCDS_VENV/bin/pip" cache dir 2>/dev/null || echo none)" >&2
        exit 1
    fi
    sha256sum tools/ocds/requirements.txt | cut -d' ' -f1 >"$OCDS_VENV/.requirements.sha256"
fi
# Untimed warm-up on the small fixture: installs if the pinned requirements changed, loads the
# interpreter and libraries into the page cache.
tools/ocds/validate.sh tests/fixtures/ocds/sample-record-package.json >/dev/null

echo "== building the example (release)"
cargo build --release --quiet -p sealbid-domain --example ocds_export
bin=${CARGO_TARGET_DIR:-$root/target}/release/examples/ocds_export

watch
phase export
echo "== export: $n tenders, seed $seed, $format package, $runs runs ($(load))"
exports=()
digest=
for i in $(seq 1 "$runs"); do
    timed "$work/export-$i" "$bin" --tenders "$n" --seed "$seed" --out "$file" --format "$format"
    cat "$work/export-$i.out"
    echo "(process: $(cat "$work/export-$i.wall") s wall, peak RSS $(rss_mib "$work/export-$i"))"
    exports+=("$(awk '/^export:/ { print $2 }' "$work/export-$i.out")")
    d=$(sha256sum "$file" | cut -d' ' -f1)
    if [[ -n $digest && $d != "$digest" ]]; then
        echo "run $i wrote a different file ($d, not $digest): the generator is not deterministic" >&2
        exit 1
    fi
    digest=$d
done
export_median=$(printf '%s\n' "${exports[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
last=$work/export-$runs
build_s=$(awk '/^build:/ { print $2 }' "$last.out")
serialize_s=$(awk '/^serialize:/ { print $2 }' "$last.out")
size=$(stat -c %s "$file")
echo "sha256 $digest (identical in all $runs runs); $(load)"

phase validation
echo "== validation: tools/ocds/validate.sh (OCDS_OFFLINE=$OCDS_OFFLINE) ($(load))"
vstatus=0
timed "$work/validate" tools/ocds/validate.sh "$file" || vstatus=$?
cat "$work/validate.out"
grep -v '^ocds: note:' "$work/validate.err" | head -20 || true
notes=$(grep -c '^ocds: note:' "$work/validate.err" || true)
echo "(validate.sh exit $vstatus, $(cat "$work/validate.wall") s wall, peak RSS $(rss_mib "$work/validate"); $(load))"

summary=$(grep '^ocds: ' "$work/validate.out" | tail -1)
errors=$(sed -n 's/.* \([0-9][0-9]*\) validation errors.*/\1/p' <<<"$summary")
closed=$(sed -n 's/.* \([0-9][0-9]*\) closed-codelist violations.*/\1/p' <<<"$summary")
validate_s=$(cat "$work/validate.wall")

echo
echo "== summary: $n tenders (seed $seed), $format package, $size bytes ($(awk -v b="$size" 'BEGIN { printf "%.1f MiB", b / 1048576 }'))"
echo "export (build + serialize), median of $runs: $export_median s [runs: ${exports[*]}]; last run: build $build_s s, serialize $serialize_s s"
echo "validation (tools/ocds/validate.sh, whole script): $validate_s s"
awk -v v="$validate_s" -v e="$export_median" 'BEGIN { printf "ratio validation / export: %.1fx\n", v / e }'
echo "validator: ${errors:-?} validation errors, ${closed:-?} closed-codelist violations, $notes additional-field notes"
others
if [[ $vstatus -ne 0 || ${errors:-x} != 0 || ${closed:-x} != 0 ]]; then
    echo "FAIL: the export does not validate (file kept in $work)" >&2
    trap 'kill ${watcher:-} 2>/dev/null || true' EXIT
    exit 1
fi
