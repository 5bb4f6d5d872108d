#!/bin/sh
# Run every fuzz harness for a bounded time ("make fuzz").
#
# Usage: tests/fuzz/run.sh BUILDDIR [SECONDS]
#   BUILDDIR  where make built tests/fuzz/fuzz_* and tests/fuzz/record_seeds
#   SECONDS   per harness (default $FUZZ_SECONDS, else 60)
# Each harness first replays the committed regression inputs (tests/fuzz/regress/NAME: every
# input that once found a bug), then fuzzes from the seed corpus that record_seeds records
# from real handshakes, plus the corpus grown by earlier runs (BUILDDIR/tests/fuzz/corpus).
# Prints executions and time per harness; exits 1 on any finding (crash, leak, sanitizer
# report, failed invariant), leaving the reproducer in BUILDDIR/tests/fuzz/findings/.
set -u

build=${1:?usage: run.sh BUILDDIR [SECONDS]}
seconds=${2:-${FUZZ_SECONDS:-60}}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
fz=$build/tests/fuzz
export SG_TEST_DATA=${SG_TEST_DATA:-$top/tests/data}
# GnuTLS keeps a little global state until exit; our code must leak nothing.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

harnesses="client_handshake server_handshake decrypt cred"
mkdir -p "$fz/seeds" "$fz/corpus" "$fz/findings"
"$fz/record_seeds" "$fz/seeds" || exit 1

status=0
for h in $harnesses; do
    mkdir -p "$fz/corpus/$h" "$fz/findings/$h"
    log=$fz/fuzz_$h.log
    # Regression inputs: each must run clean.
    if [ -d "$here/regress/$h" ] && [ -n "$(ls "$here/regress/$h")" ]; then
        if ! ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=0 "$fz/fuzz_$h" "$here/regress/$h"/* >"$log.regress" 2>&1; then
            echo "fuzz_$h: a regression input fails again:"
            tail -n 30 "$log.regress"
            status=1
            continue
        fi
    fi
    # fuzz_cred reaches the GnuTLS leak in lsan.supp: slow unwinding on malloc gives leak
    # reports whole stacks through GnuTLS (no frame pointers there), which suppressions need.
    unwind=
    [ $h = cred ] && unwind=:fast_unwind_on_malloc=0
    start=$(date +%s)
    ASAN_OPTIONS=$ASAN_OPTIONS$unwind "$fz/fuzz_$h" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$fz/findings/$h/" "$fz/corpus/$h" "$fz/seeds/$h" >"$log" 2>&1
    rc=$?
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    corpus=$(ls "$fz/corpus/$h" | wc -l)
    echo "fuzz_$h: ${execs:-?} executions in $((end - start)) s (${rate:-?}/s), $cov, corpus $corpus, exit $rc"
    if [ $rc != 0 ]; then
        echo "fuzz_$h: FINDING (see $log and $fz/findings/$h/):"
        grep -E "ERROR|runtime error|fuzz invariant|SUMMARY" "$log" | head -n 10
        status=1
    fi
done
exit $status
