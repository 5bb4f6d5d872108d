#!/bin/sh
# Run the PE conformance tests under Wine and check the harness summaries.
#
# Usage: tests/conformance/run.sh [--stock] [EXE [TEST...]]
#   EXE      default: $SG_BUILDDIR/tests/conformance/secur32_test.exe when SG_BUILDDIR
#            is set (make check), else tests/conformance/secur32_test.exe (build.sh)
#   TEST...  default: every test the exe lists (secur32_test.exe --list)
#   --stock  run with Wine's own secur32 (tools/run --stock), for comparison;
#            failures are expected there.
# Each test runs through tools/run (our secur32 in an overlay Wine root); without
# tools/run it falls back to plain "wine".  Prints the harness summary line of each
# test and every failure line; exits 1 if a test reports failures, crashes, times
# out or prints no summary, 0 otherwise.
# Environment: SG_TEST_TIMEOUT (seconds per test, default 300), SG_VERBOSE=1 to
# print the whole output, plus whatever tools/run reads (WINEPREFIX, WINEDEBUG...)
# and, for the ntlm test, tests/interop/ntlm_server.sh (SG_NTLM_ESS, SG_NTLM_TIMEOUT).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

stock=
if [ "${1:-}" = "--stock" ]; then
    stock=--stock
    shift
fi
# Under "make check" (SG_BUILDDIR set) the exe is in the build tree and make has
# already built everything, so tools/run must not start another make.
if [ -n "${SG_BUILDDIR:-}" ]; then
    default_exe=$SG_BUILDDIR/tests/conformance/secur32_test.exe
    SG_NO_BUILD=${SG_NO_BUILD:-1}
    export SG_NO_BUILD
else
    default_exe=$here/secur32_test.exe
fi
exe=${1:-$default_exe}
[ $# -gt 0 ] && shift
tests="$*"
[ -f "$exe" ] || { echo "run.sh: $exe not found (build it with tests/conformance/build.sh)" >&2; exit 2; }
timeout=${SG_TEST_TIMEOUT:-300}

if [ -x "$top/tools/run" ]; then
    set -- "$top/tools/run" $stock "$exe"
else
    echo "run.sh: tools/run not found, using plain wine (stock secur32)" >&2
    export WINEDEBUG=${WINEDEBUG:--all}
    set -- wine "$exe"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM

if [ -z "$tests" ]; then
    # shellcheck disable=SC2086
    timeout "$timeout" "$@" --list >"$out" 2>&1
    tests=$(sed -n 's/^    //p' "$out" | tr -d '\r')
    [ -n "$tests" ] || { echo "run.sh: could not list the tests:"; cat "$out"; exit 1; }
fi

status=0
for t in $tests; do
    # The ntlm test runs beside a private Samba account server (a winbindd in a private
    # mount namespace; without root or winbindd it runs as before, server checks skipped).
    wrap=
    if [ "$t" = ntlm ] && [ -x "$top/tests/interop/ntlm_server.sh" ]; then
        wrap=$top/tests/interop/ntlm_server.sh
    fi
    # shellcheck disable=SC2086
    timeout "$timeout" $wrap "$@" "$t" >"$out" 2>&1
    rc=$?
    tr -d '\r' <"$out" >"$out.t" && mv "$out.t" "$out"
    if [ "${SG_VERBOSE:-0}" = 1 ]; then
        cat "$out"
    else
        grep -E "Test failed|Test succeeded inside todo|unhandled exception|[Ee]xception" "$out"
    fi
    summary=$(grep -E "^[0-9a-f]+:$t: [0-9]+ tests executed" "$out" | tail -n 1)
    if [ -z "$summary" ]; then
        if [ $rc = 124 ]; then
            echo "$t: TIMEOUT after ${timeout}s"
        else
            echo "$t: CRASHED or no summary (exit status $rc); last lines:"
            tail -n 20 "$out"
        fi
        status=1
        continue
    fi
    [ "${SG_VERBOSE:-0}" = 1 ] || echo "$summary"
    failures=$(echo "$summary" | sed -n 's/.* \([0-9][0-9]*\) failures\{0,1\}).*/\1/p')
    if [ -z "$failures" ] || [ "$failures" != 0 ] || [ $rc != 0 ]; then
        status=1
    fi
done
exit $status
