#!/usr/bin/env bash
# Throughput benchmark: CPU per simulated firm-month at 1x, 10x and 100x the default population, CPU
# per calibration simulation and the calibration's peak memory at 16 and 128 replications per
# candidate, for this checkout against a base build (by default the commit before the throughput
# work, c93978b), side by side in one run. It also checks that both builds write byte-identical
# outputs for the default, the calibrated Korea and the Belgium scenarios.
#
#   bash benches/throughput.sh [BASE_COMMIT] [RUNS]
#
# This checkout is built as `cargo build --release` builds it, with profile-guided optimisation when
# the toolchain allows (.cargo/config.toml, benches/pgo-train.sh).
#
# CPU is user + system time (the machine may be shared, so wall time would mislead); a firm-month is
# one firm alive for one month (the time series' firms_alive summed over years, x 12). Each figure
# is the median of RUNS runs (default 3), the two builds interleaved, and each ratio the median of the
# ratios of the pairs run side by side (on a shared machine the speed drifts between pairs more than
# within one); a 1x run is timed as 20 in a row and a 10x run as 3, for the 10 ms resolution of the
# CPU clock. Peak memory needs
# GNU time (/usr/bin/time; Debian package `time`); without it that column says "n/a".
#
# Two more rows time the simulation alone (benches/sim_cpu.rs, built into both builds): replications
# of the same scaled default inside one process, so that what a `biocluster run` adds around it (the
# process start, reading the scenario, writing the files) can be told apart from the model's own cost.
#
# With BENCH_INSTRUCTIONS=1 (and valgrind installed), it also counts the instructions each build
# executes per firm-month at 1x and 10x (valgrind's callgrind; about a minute): unlike CPU time, the
# count does not move with what else the machine is doing, so it records a step's effect exactly.
set -euo pipefail

BASE=${1:-c93978b}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$ROOT/target/throughput}
cd "$ROOT"
mkdir -p "$WORK"
# Absolute: the base is built from inside its worktree.
WORK=$(cd "$WORK" && pwd)

echo "building this checkout and base $BASE (release)..." >&2
cargo build --release --locked --quiet --bins --example sim_cpu
NEW="$ROOT/target/release/biocluster"
if [ ! -d "$WORK/base-src" ]; then
    git worktree add --detach "$WORK/base-src" "$BASE" >/dev/null 2>&1
else
    git -C "$WORK/base-src" checkout --quiet --detach "$BASE"
fi
# The base is built as it was: without this checkout's profile-guided optimisation (its worktree
# lies under this one, so .cargo/config.toml's wrapper would otherwise apply; an empty RUSTC_WRAPPER
# turns it off).
(cd "$WORK/base-src" && RUSTC_WRAPPER= CARGO_TARGET_DIR="$WORK/base-target" cargo build --release --locked --quiet)
OLD="$WORK/base-target/release/biocluster"
# The base also gets this checkout's in-process timer (benches/sim_cpu.rs) as an example of its own; a
# base whose library lacks what the timer calls still gets every other row.
mkdir -p "$WORK/base-src/examples"
cp benches/sim_cpu.rs "$WORK/base-src/examples/sim_cpu.rs"
SIM_OLD="$WORK/base-target/release/examples/sim_cpu"
if ! (cd "$WORK/base-src" && RUSTC_WRAPPER= CARGO_TARGET_DIR="$WORK/base-target" cargo build --release --locked --quiet --example sim_cpu) 2>/dev/null; then
    echo "base $BASE cannot build benches/sim_cpu.rs: no rows for the simulation alone" >&2
    SIM_OLD=""
fi

GNU_TIME=""
if [ -x /usr/bin/time ]; then GNU_TIME=/usr/bin/time; fi

# cpu_of BIN OUTDIR ARGS...: prints "cpu_seconds peak_kb" of one run. With REPEAT=k set, the run is
# repeated k times inside one timed shell (GNU time counts 10 ms ticks: a 1x run takes about 50 ms) and
# the CPU divided by k.
cpu_of() {
    local bin=$1 out=$2 repeat=${REPEAT:-1}
    shift 2
    rm -rf "$out"
    local cmd
    cmd=$(printf '%q ' "$bin" "$@" --out "$out" --quiet)
    if [ -n "$GNU_TIME" ]; then
        "$GNU_TIME" -f "%U %S %M" -o "$WORK/time.txt" sh -c "for i in \$(seq $repeat); do $cmd >/dev/null || exit 1; done"
        awk -v k="$repeat" '{printf "%.4f %d\n", ($1 + $2) / k, $3}' "$WORK/time.txt"
    else
        local t
        t=$( { TIMEFORMAT='%U %S'; time sh -c "for i in \$(seq $repeat); do $cmd >/dev/null || exit 1; done"; } 2>&1 )
        echo "$t" | awk -v k="$repeat" '{printf "%.4f 0\n", ($1 + $2) / k}'
    fi
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# firm_months DIR: firm-months in a run folder (the one scenario folder inside it).
firm_months() {
    local ts
    ts=$(find "$1" -name timeseries.csv | head -1)
    awk -F, 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "firms_alive") c = i} $2 == "all" {s += $c} END {print s * 12}' "$ts"
}

# Model outputs compared byte for byte. Since 2461e6c (issue 17: budgets shared pro rata, one random
# stream per instrument) the model itself differs from c93978b, so against that base the column says NO
# by design; pass a base at or after 2461e6c to check that a speed-up changed no output.
# Format changes made since c93978b that are not the model's
# are set aside: scenario.resolved.toml gained keys (survey.standard_errors) and regressions.csv its
# `se` and `standard_errors` columns (it was `se_hc1`); their numbers are compared.
normalise() {
    [ -d "$1" ] || return 0
    find "$1" -name regressions.csv | while read -r f; do
        awk -F, -v OFS=, 'NR == 1 {next} {if ($NF == "hc1") NF--; print}' "$f" >"$f.cmp" && mv "$f.cmp" "$f"
    done
    find "$1" -name scenario.resolved.toml -delete
}
identical() {
    normalise "$1"
    normalise "$2"
    if diff -rq "$1" "$2" >/dev/null; then echo yes; else echo "NO"; fi
}

echo "| measure | base $BASE | this checkout | ratio (base / this) | outputs identical |"
echo "|---|---|---|---|---|"
for scale in 1 10 100; do
    runs=$RUNS
    case $scale in 1) export REPEAT=20 ;; 10) export REPEAT=3 ;; *) export REPEAT=1 ;; esac
    : >"$WORK/old.cpu"
    : >"$WORK/new.cpu"
    : >"$WORK/old.rss"
    : >"$WORK/new.rss"
    for _ in $(seq "$runs"); do
        read -r c m < <(cpu_of "$OLD" "$WORK/old-$scale" run --scale "$scale" --no-report)
        echo "$c" >>"$WORK/old.cpu"
        echo "$m" >>"$WORK/old.rss"
        read -r c m < <(cpu_of "$NEW" "$WORK/new-$scale" run --scale "$scale" --no-report)
        echo "$c" >>"$WORK/new.cpu"
        echo "$m" >>"$WORK/new.rss"
    done
    # Each build's CPU over its own firm-months: after a deliberate model change the two simulate
    # different populations, and the cost that matters is per firm-month.
    fo=$(firm_months "$WORK/old-$scale")
    fm=$(firm_months "$WORK/new-$scale")
    old=$(median <"$WORK/old.cpu")
    new=$(median <"$WORK/new.cpu")
    ratio=$(paste "$WORK/old.cpu" "$WORK/new.cpu" | awk -v fo="$fo" -v fm="$fm" '{print ($1 / fo) / ($2 / fm)}' | median)
    same=$(identical "$WORK/old-$scale" "$WORK/new-$scale")
    awk -v s="$scale" -v o="$old" -v n="$new" -v fo="$fo" -v fm="$fm" -v r="$ratio" -v same="$same" 'BEGIN {
        label = (fo == fm) ? sprintf("%d firm-months", fm) : sprintf("%d / %d firm-months", fo, fm)
        printf "| CPU per firm-month, %sx (%s) | %.3f us | %.3f us | %.2f | %s |\n", s, label, o / fo * 1e6, n / fm * 1e6, r, same }'
    if [ -n "$GNU_TIME" ]; then
        echo "| peak RSS, ${scale}x | $(($(median <"$WORK/old.rss") / 1024)) MB | $(($(median <"$WORK/new.rss") / 1024)) MB | | |"
    fi
done

# The simulation alone: replication 0 of the same scaled default run inside one process, after a run to
# warm it (benches/sim_cpu.rs), without the process start, the scenario file and the output files of a
# `biocluster run`; divided by the firm-months of the runs above (the same scenario and replication).
# Twenty replications a figure at 1x and three at 10x, for the CPU clock's resolution.
for scale in 1 10; do
    if [ -z "$SIM_OLD" ]; then
        echo "| CPU per firm-month of the simulation alone, ${scale}x (in one process) | | | | n/a: the base cannot build the timer |"
        continue
    fi
    case $scale in 1) reps=20 ;; *) reps=3 ;; esac
    : >"$WORK/sim.ratio"
    : >"$WORK/sim-old.cpu"
    : >"$WORK/sim-new.cpu"
    fo=$(firm_months "$WORK/old-$scale")
    fm=$(firm_months "$WORK/new-$scale")
    for _ in $(seq "$RUNS"); do
        o=$("$SIM_OLD" "$scale" "$reps")
        n=$("$ROOT/target/release/examples/sim_cpu" "$scale" "$reps")
        echo "$o" >>"$WORK/sim-old.cpu"
        echo "$n" >>"$WORK/sim-new.cpu"
        awk -v o="$o" -v n="$n" -v fo="$fo" -v fm="$fm" 'BEGIN {print (o / fo) / (n / fm)}' >>"$WORK/sim.ratio"
    done
    awk -v s="$scale" -v o="$(median <"$WORK/sim-old.cpu")" -v n="$(median <"$WORK/sim-new.cpu")" -v k="$reps" \
        -v fo="$fo" -v fm="$fm" -v r="$(median <"$WORK/sim.ratio")" 'BEGIN {
        printf "| CPU per firm-month of the simulation alone, %sx (in one process) | %.3f us | %.3f us | %.2f | |\n", s, o / k / fo / 1e3, n / k / fm / 1e3, r }'
done

# Scale: each build's CPU per firm-month at 100x over its own at 1x, the median of RUNS pairs run back to
# back (twenty 1x runs, then one 100x run): the two scales timed minutes apart above see different loads on
# a shared machine, which moves this ratio more than the build does.
scale_ratio() {
    local bin=$1 tag=$2 c1 c100 m
    : >"$WORK/scale-$tag.ratio"
    for _ in $(seq "$RUNS"); do
        export REPEAT=20
        read -r c1 m < <(cpu_of "$bin" "$WORK/scale-$tag-1" run --scale 1 --no-report)
        export REPEAT=1
        read -r c100 m < <(cpu_of "$bin" "$WORK/scale-$tag-100" run --scale 100 --no-report)
        awk -v c1="$c1" -v c100="$c100" -v f1="$(firm_months "$WORK/scale-$tag-1")" \
            -v f100="$(firm_months "$WORK/scale-$tag-100")" 'BEGIN {print (c100 / f100) / (c1 / f1)}' \
            >>"$WORK/scale-$tag.ratio"
    done
    median <"$WORK/scale-$tag.ratio"
}
printf "| CPU per firm-month at 100x over 1x (paired) | %.2f | %.2f | | |\n" "$(scale_ratio "$OLD" old)" "$(scale_ratio "$NEW" new)"

# Instructions per firm-month (deterministic; optional, see the header).
if [ "${BENCH_INSTRUCTIONS:-0}" = 1 ]; then
    if ! command -v valgrind >/dev/null; then
        echo "| instructions per firm-month | | | | n/a: valgrind is not installed |"
    else
        # count BIN OUTDIR SCALE: instructions of one run.
        count() {
            rm -rf "$2"
            valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" run --scale "$3" --no-report \
                --out "$2" --quiet 2>&1 | awk '/Collected :/ {print $NF}'
        }
        for scale in 1 10; do
            io=$(count "$OLD" "$WORK/ins-old-$scale" "$scale")
            in=$(count "$NEW" "$WORK/ins-new-$scale" "$scale")
            fo=$(firm_months "$WORK/ins-old-$scale")
            fm=$(firm_months "$WORK/ins-new-$scale")
            awk -v s="$scale" -v io="$io" -v in_="$in" -v fo="$fo" -v fm="$fm" 'BEGIN {
                printf "| instructions per firm-month, %sx | %.0f | %.0f | %.2f | |\n", s, io / fo, in_ / fm, (io / fo) / (in_ / fm) }'
        done
    fi
fi

export REPEAT=1
# Byte-identical outputs of the shipped scenarios the issue names.
for spec in "default:" "calibrated:scenarios/calibrated/korea.toml" "belgium:scenarios/belgium/belgium.toml"; do
    name=${spec%%:*}
    file=${spec#*:}
    rm -rf "$WORK/id-old-$name" "$WORK/id-new-$name"
    "$NEW" run $file --out "$WORK/id-new-$name" --no-report --quiet
    if ! "$OLD" run $file --out "$WORK/id-old-$name" --no-report --quiet 2>/dev/null; then
        echo "| outputs of $name (replication 0) | | | | n/a: the base cannot read this checkout's file |"
        continue
    fi
    echo "| outputs of $name (replication 0) | | | | $(identical "$WORK/id-old-$name" "$WORK/id-new-$name") |"
done

# Calibration: CPU per simulation and peak memory at 16 and 128 replications per candidate (each build's
# own shipped calibration set-up, scenarios/calibration/korea.toml, with a budget of two evaluations, which
# calibrate raises to its floor of parameters + 2 = 5, and 16 validation replications; a build that also
# validates with the other kind of standard errors runs those 16 twice).
for n in 16 128; do
    for build in old new; do
        src=.
        [ "$build" = old ] && src="$WORK/base-src"
        sed -e "s/^replications = .*/replications = $n/" -e "s/^budget = .*/budget = $((2 * n))/" \
            -e "s/^validation_replications = .*/validation_replications = 16/" \
            -e "/^robustness_replications = /d" \
            "$src/scenarios/calibration/korea.toml" >"$WORK/calibration-$build-$n.toml"
    done
done
# simulations DIR N: evaluations x N + the validation's simulations (16, or 32 with both kinds of errors).
simulations() {
    local evals validation=16
    evals=$(awk -F, 'NR > 1' "$1"/*/history.csv | wc -l)
    grep -q other_errors "$1"/*/fit.csv && validation=32
    echo $((evals * $2 + validation))
}
for n in 16 128; do
    read -r oc om < <(cpu_of "$OLD" "$WORK/cal-old-$n" calibrate "$WORK/calibration-old-$n.toml" --targets scenarios/targets/lee_korea_bioclusters.toml)
    read -r nc nm < <(cpu_of "$NEW" "$WORK/cal-new-$n" calibrate "$WORK/calibration-new-$n.toml" --targets scenarios/targets/lee_korea_bioclusters.toml)
    so=$(simulations "$WORK/cal-old-$n" "$n")
    sn=$(simulations "$WORK/cal-new-$n" "$n")
    # The survey's standard-error setting (a later key, "hc1" being what older builds computed) is set
    # aside on both sides.
    same=$(identical <(cat "$WORK/cal-old-$n"/*/{calibrated.toml,fit.csv,history.csv,facts.csv} | grep -v '^standard_errors = "hc1"') <(cat "$WORK/cal-new-$n"/*/{calibrated.toml,fit.csv,history.csv,facts.csv} | grep -v '^standard_errors = "hc1"'))
    awk -v n="$n" -v o="$oc" -v c="$nc" -v so="$so" -v sn="$sn" -v same="$same" 'BEGIN {
        printf "| CPU per calibration simulation, %d per candidate (%d / %d simulations) | %.1f ms | %.1f ms | %.2f | %s |\n", n, so, sn, o / so * 1e3, c / sn * 1e3, (o / so) / (c / sn), same }'
    if [ -n "$GNU_TIME" ]; then
        echo "| calibrate peak RSS, $n per candidate | $((om / 1024)) MB | $((nm / 1024)) MB | | |"
    fi
done
