#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, one after another, with
# a seed corpus made from the bundled sample dump. Needs the nightly toolchain
# and cargo-fuzz (`cargo install cargo-fuzz`); neither is needed by the tests.
#
#   scripts/fuzz.sh            # every target, 60 s each
#   SECONDS_EACH=3600 scripts/fuzz.sh scan_bytes
#
# Crashes land in fuzz/artifacts/TARGET/; reproduce one with
#   cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${SECONDS_EACH:-60}
TARGETS=${*:-"scan_bytes secrets json_value chains text"}
SAMPLE=notebooks-data/sample-dump/dump

seed() { # target, then files to cut into seeds (first 16 KiB, each with a leading mode byte)
    local t=$1
    shift
    mkdir -p "fuzz/corpus/$t"
    local i=0
    for f in "$@"; do
        for mode in 6 0 2 9; do
            { printf "\\x$(printf %02x "$mode")"; head -c 16384 "$f"; } >"fuzz/corpus/$t/seed-$i-$mode"
        done
        i=$((i + 1))
    done
}

plain=$(find "$SAMPLE" -type f ! -name '*.gz' ! -name '*.zst' | sort)
# shellcheck disable=SC2086
seed scan_bytes $plain
# shellcheck disable=SC2086
seed secrets $plain
# shellcheck disable=SC2086
seed json_value $plain
# shellcheck disable=SC2086
seed text $plain
mkdir -p fuzz/corpus/chains

for t in $TARGETS; do
    echo "== $t (${SECONDS_EACH}s)"
    (cd fuzz && cargo +nightly fuzz run "$t" -O -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -max_len=65536 2>&1 | tail -4)
done
