#!/usr/bin/env bash
# leakledger side by side with the tools a responder would otherwise reach for,
# on synthetic dumps made by `leakledger synth`, page-cached, timed with
# /usr/bin/time (wall, CPU, peak RSS), several repetitions (median, min, max).
#
#   benches/compare.sh                       # 1 GiB, 3 repetitions
#   SIZES="256MiB 1GiB 4.5GiB" REPS=5 benches/compare.sh
#   TOOLS="leakledger ripgrep" benches/compare.sh
#
# Tools: leakledger (scan, 1 and 2 threads; gate, secrets alone), ripgrep (counting the built-in
# rules' regexes: `leakledger rules --export-regex`), kingfisher and
# detect-secrets (PyPI, in a virtual environment this script makes under
# target/compare-venv, never a dependency of the project), polars (PyPI:
# records and distinct sessions per organisation). A tool that cannot be
# installed or run is reported as such in the table, not left out.
set -uo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-1GiB}
REPS=${REPS:-3}
TOOLS=${TOOLS:-"leakledger ripgrep kingfisher detect-secrets polars"}
# detect-secrets runs at well under 1 MiB/s: past this size it is reported, not run.
DETECT_SECRETS_MAX_MIB=${DETECT_SECRETS_MAX_MIB:-64}
WORK=${WORK:-target/compare}
VENV=target/compare-venv
mkdir -p "$WORK"

log() { printf '%s\n' "$*" >&2; }

cargo build --release -q -p leakledger-cli || { log "cannot build leakledger"; exit 2; }
LL=target/release/leakledger
"$LL" rules --export-regex >"$WORK/rules.regex"
# Line-oriented tools cannot take a pattern that matches a newline literally
# (the PuTTY key block, YAML nested under a name): ripgrep refuses those, so each
# pattern is tried alone and the ones it refuses are left out and counted.
: >"$WORK/rules-lines.regex"
LEFT_OUT=0
if command -v rg >/dev/null; then
    while IFS= read -r re; do
        rg -q -e "$re" /dev/null 2>/dev/null
        if [ $? -le 1 ]; then printf '%s\n' "$re" >>"$WORK/rules-lines.regex"; else LEFT_OUT=$((LEFT_OUT + 1)); fi
    done <"$WORK/rules.regex"
fi

venv_ready=""
venv() {
    [ -n "$venv_ready" ] && return 0
    if [ ! -x "$VENV/bin/pip" ]; then
        python3 -m venv "$VENV" >/dev/null 2>&1 || return 1
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check kingfisher-bin detect-secrets polars >/dev/null 2>&1 || true
    venv_ready=1
}

# One timed run: prints "wall cpu rss_mib" (or "fail").
timed() {
    local out wall user sys rss
    rm -f "$WORK/time.txt"
    # Exit codes are not failures here (scanners exit non-zero on findings);
    # a command that did not run leaves no usable line.
    /usr/bin/time -o "$WORK/time.txt" -f '%e %U %S %M' "$@" >/dev/null 2>&1
    out=$(tail -1 "$WORK/time.txt" 2>/dev/null)
    read -r wall user sys rss <<<"$out" || true
    if [[ -z "${wall:-}" || ! "$wall" =~ ^[0-9.]+$ ]]; then echo fail; return; fi
    awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN { printf "%s %.2f %.0f\n", w, u + s, r / 1024 }'
}

# REPS runs of a command: prints "median min max cpu_median rss_max" or a reason.
measure() {
    local walls=() cpus=() rss=0 r
    for _ in $(seq "$REPS"); do
        r=$(timed "$@")
        if [ "$r" = fail ]; then echo "failed"; return; fi
        read -r w c m <<<"$r"
        walls+=("$w"); cpus+=("$c"); [ "$m" -gt "$rss" ] && rss=$m
    done
    local sorted cs
    sorted=$(printf '%s\n' "${walls[@]}" | sort -g)
    cs=$(printf '%s\n' "${cpus[@]}" | sort -g)
    local mid=$(( (${#walls[@]} + 1) / 2 ))
    echo "$(sed -n "${mid}p" <<<"$sorted") $(head -1 <<<"$sorted") $(tail -1 <<<"$sorted") $(sed -n "${mid}p" <<<"$cs") $rss"
}

row() { # name size_mib result
    local name=$1 mib=$2 res=$3
    if [[ "$res" =~ ^[0-9] ]]; then
        read -r med lo hi cpu rss <<<"$res"
        awk -v n="$name" -v m="$mib" -v med="$med" -v lo="$lo" -v hi="$hi" -v cpu="$cpu" -v rss="$rss" \
            'BEGIN { printf "| %s | %.2f | %.2f–%.2f | %.2f | %.0f | %.0f |\n", n, med, lo, hi, cpu, m / med, rss }'
    else
        printf '| %s | %s | | | | |\n' "$name" "$res"
    fi
}

printf '# compare.sh, %s, %s, %s CPUs, %s repetitions\n\n' "$(date -u +%F)" "$(uname -m)" "$(nproc)" "$REPS"
for size in $SIZES; do
    dir="$WORK/dump-$size"
    if [ ! -f "$dir/truth.json" ]; then
        rm -rf "$dir"
        "$LL" synth -o "$dir" --size "$size" --seed 1 >/dev/null || { log "synth failed"; exit 2; }
    fi
    # Throughput is of the decompressed bytes (truth.json's shard sizes), as
    # every tool here reads them.
    mib=$(python3 -c 'import json,sys; print(sum(s["bytes"] for s in json.load(open(sys.argv[1]))["shards"]) >> 20)' "$dir/truth.json")
    disk=$(du -sm --apparent-size "$dir/dump" | cut -f1)
    cat $(find "$dir/dump" -type f) >/dev/null # page-cache it
    printf '## %s: %s MiB of JSONL, CloudWatch and OTLP (%s MiB on disk, some shards gzip or zstd)\n\n' "$size" "$mib" "$disk"
    printf '| tool | wall s (median) | min–max | CPU s | MiB/s | peak RSS MiB |\n|---|---|---|---|---|---|\n'
    for tool in $TOOLS; do
        case $tool in
        leakledger)
            row "leakledger scan, 1 thread" "$mib" "$(measure "$LL" scan -q --threads 1 "$dir/dump")"
            row "leakledger scan, 2 threads" "$mib" "$(measure "$LL" scan -q --threads 2 "$dir/dump")"
            # Detection alone (secrets and nothing else), as ripgrep below.
            row "leakledger gate (secrets alone), 2 threads" "$mib" "$(measure "$LL" gate "$dir/dump")"
            ;;
        ripgrep)
            if command -v rg >/dev/null; then
                row "ripgrep -z -a -c, the same rules' regexes ($LEFT_OUT multi-line left out)" "$mib" \
                    "$(measure rg -z -a -c -f "$WORK/rules-lines.regex" "$dir/dump")"
            else
                row "ripgrep" "$mib" "not installed (apt-get install ripgrep)"
            fi
            ;;
        kingfisher)
            venv
            if [ -x "$VENV/bin/kingfisher" ]; then
                row "kingfisher scan --no-validate" "$mib" \
                    "$(measure "$VENV/bin/kingfisher" scan --no-validate --no-update-check "$dir/dump")"
            else
                row "kingfisher" "$mib" "not installable here (PyPI kingfisher-bin)"
            fi
            ;;
        detect-secrets)
            venv
            if [ ! -x "$VENV/bin/detect-secrets" ]; then
                row "detect-secrets" "$mib" "not installable here (PyPI detect-secrets)"
            elif [ "$mib" -gt "$DETECT_SECRETS_MAX_MIB" ]; then
                row "detect-secrets" "$mib" "not run above ${DETECT_SECRETS_MAX_MIB} MiB (DETECT_SECRETS_MAX_MIB)"
            else
                row "detect-secrets scan" "$mib" "$(measure "$VENV/bin/detect-secrets" scan --all-files "$dir/dump")"
            fi
            ;;
        polars)
            venv
            if "$VENV/bin/python" -c 'import polars' 2>/dev/null; then
                cat >"$WORK/per_org.py" <<'EOF'
import glob, sys
import polars as pl
files = [f for f in glob.glob(sys.argv[1] + "/**/*.jsonl", recursive=True)]
frames = []
for f in files:
    try:
        frames.append(pl.read_ndjson(f, infer_schema_length=1000, ignore_errors=True))
    except Exception:
        pass
df = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
org = next((c for c in ("org_id", "tenant", "org") if c in df.columns), None)
ses = next((c for c in ("session_id", "traceId", "conversation_id") if c in df.columns), None)
if org:
    print(df.group_by(org).agg(pl.len(), pl.col(ses).n_unique() if ses else pl.len()).height)
EOF
                row "polars: records and sessions per org (plain JSONL only)" "$mib" \
                    "$(measure "$VENV/bin/python" "$WORK/per_org.py" "$dir/dump")"
            else
                row "polars" "$mib" "not installable here (PyPI polars)"
            fi
            ;;
        *) row "$tool" "$mib" "unknown tool" ;;
        esac
    done
    printf '\n'
done
