#!/bin/sh
# testssl.sh (Debian package "testssl.sh") against OUR server: https_serve.exe under Wine with
# our secur32, on a free port of 127.0.0.1, with Schannel's default server protocols
# (TLS 1.2 and 1.3). Prints testssl's protocol list, vulnerability checks and rating.
# Slow (a few minutes): run through "make testssl", not part of make check.
#
# Usage: tests/interop/testssl.sh [https_serve options...]
# Environment: SG_BUILDDIR (build tree, default: source top), SG_TEST_DATA, SG_TESTSSL_ARGS
# (default: --protocols --vulnerable --server-defaults --rating... see below).
# Exit status: 0 when testssl ran and reported nothing VULNERABLE and no protocol outside the
# enabled set, 1 otherwise, 77 when testssl is not installed.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${SG_BUILDDIR:-$top}
data=${SG_TEST_DATA:-$top/tests/data}
exe=$build/tests/interop/https_serve.exe
SG_NO_BUILD=${SG_NO_BUILD-1}
export SG_NO_BUILD

command -v testssl >/dev/null 2>&1 || { echo "testssl: SKIP: testssl not installed (tools/setup)"; exit 77; }
[ -f "$exe" ] || { echo "testssl: $exe missing (make check builds it)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-testssl.XXXXXX")
pid=
cleanup()
{
    if [ -n "$pid" ]; then
        pkill -TERM -P "$pid" 2>/dev/null
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
. "$top/tests/interop/servers.sh"

port=$(sg_pick_port) || { echo "testssl: no free port"; exit 1; }
pfx="Z:$(echo "$data/server-rsa.pfx" | sed 's|/|\\|g')"
timeout -k 5 1800 "$top/tools/run" "$exe" --pfx "$pfx" "$@" --count 0 "$port" >"$tmp/serve.log" 2>&1 </dev/null &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q "^listening" "$tmp/serve.log" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
grep -q "^listening" "$tmp/serve.log" || { echo "testssl: server did not start"; cat "$tmp/serve.log"; exit 1; }

# shellcheck disable=SC2086
timeout 1500 testssl --quiet --color 0 --warnings off --ip 127.0.0.1 --connect-timeout 10 --openssl-timeout 10 \
    ${SG_TESTSSL_ARGS:---protocols --server-defaults --vulnerable} "https://localhost:$port/" \
    >"$tmp/testssl.out" 2>&1
rc=$?
cat "$tmp/testssl.out"
echo "testssl: exit status $rc, $(grep -c '^conn .*: ok' "$tmp/serve.log") connections served"
status=0
# Every VULNERABLE finding fails, LUCKY13's "potentially VULNERABLE" (CBC suites offered in
# TLS 1.2) included: a server without TLS 1.0/1.1 offers AEAD suites only.
if grep 'VULNERABLE' "$tmp/testssl.out" | grep -v 'not vulnerable' >/dev/null; then
    echo "testssl: FAIL: something reported vulnerable"
    status=1
fi
if grep -E '^ *(SSLv2|SSLv3|TLS 1|TLS 1\.1) +offered' "$tmp/testssl.out" >/dev/null; then
    echo "testssl: FAIL: a protocol outside TLS 1.2/1.3 is offered"
    status=1
fi
exit $status
