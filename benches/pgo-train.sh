#!/usr/bin/env bash
# Records a new execution profile for profile-guided optimisation (PGO) into
# .cargo/pgo/biocluster.profdata, which every build then uses through .cargo/config.toml's wrapper.
#
#   bash benches/pgo-train.sh
#
# Builds an instrumented release binary (target/pgo-train), runs it on the shipped scenarios (the
# default with its charts and report, the default at 10x the population, the calibrated Korea, Korea,
# Belgium and Beijing), and merges the counts with llvm-profdata. Needs LLVM 22's llvm-profdata, the
# LLVM of Rust 1.95: Debian's `llvm-22` package (/usr/lib/llvm-22/bin), rustup's `llvm-tools`
# component, or LLVM_PROFDATA=path. Takes about two and a half minutes on 2 cores from a fresh checkout.
#
# Retrain when the model's monthly code has changed a good deal: a function edited since the profile
# was recorded is compiled without profile (no error, no warning), so the gain fades as the code moves
# on. Then check that outputs are unchanged and measure the gain (docs/performance.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

find_profdata() {
    local c
    for c in "${LLVM_PROFDATA:-}" llvm-profdata-22 /usr/lib/llvm-22/bin/llvm-profdata \
        "$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-profdata" llvm-profdata; do
        if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && "$c" --version 2>/dev/null | grep -q 'LLVM version 22\.'; then
            echo "$c"
            return
        fi
    done
    echo "benches/pgo-train.sh: no llvm-profdata of LLVM 22 found (Debian: apt install llvm-22; rustup: rustup component add llvm-tools; or set LLVM_PROFDATA)" >&2
    exit 1
}
PROFDATA=$(find_profdata)

RAW="$ROOT/target/pgo-train/profiles"
rm -rf "$RAW"
mkdir -p "$RAW"
echo "building the instrumented binary (target/pgo-train)..." >&2
# The wrapper leaves instrumented builds alone (it sees -Cprofile-generate).
RUSTFLAGS="-Cprofile-generate=$RAW" cargo build --release --locked --quiet --target-dir target/pgo-train
BIN="$ROOT/target/pgo-train/release/biocluster"
# Build scripts and procedural macros compiled for the build above were instrumented too and may have
# written counts while it ran: only the training runs' counts go into the profile.
rm -f "$RAW"/*.profraw

OUT="$ROOT/target/pgo-train/out"
rm -rf "$OUT"
echo "running the training scenarios..." >&2
"$BIN" run --quiet --out "$OUT"
"$BIN" run --scale 10 --no-report --quiet --out "$OUT"
for s in scenarios/calibrated/korea.toml scenarios/korea/korea.toml scenarios/belgium/belgium.toml scenarios/beijing/beijing.toml; do
    "$BIN" run "$s" --no-report --quiet --out "$OUT"
done

# Functions no counter of which reached 100 in the whole training are left out (through the text form
# of the profile): they are cold, compiled as without a profile either way, and their long mangled
# names were most of the file (5,800 functions, 1.7 MB, against 2,200 and 0.65 MB).
"$PROFDATA" merge --sparse --text -o "$RAW/all.proftext" "$RAW"/*.profraw
awk -v min=100 'BEGIN { RS = ""; ORS = "\n\n" }
{
    # One function a paragraph (the first also carries the header): kept if any counter reaches min.
    n = split($0, line, "\n"); keep = 0; counters = 0
    for (i = 1; i <= n; i++) {
        if (line[i] == "# Counter Values:") { counters = 1; continue }
        if (counters && line[i] ~ /^[0-9]+$/) { if (line[i] + 0 >= min) keep = 1 } else counters = 0
    }
    if (NR == 1 || keep) print
}' "$RAW/all.proftext" >"$RAW/hot.proftext"
"$PROFDATA" merge --sparse -o .cargo/pgo/biocluster.profdata "$RAW/hot.proftext"
echo "wrote .cargo/pgo/biocluster.profdata ($(du -h .cargo/pgo/biocluster.profdata | cut -f1)); rebuild with cargo build --release" >&2
