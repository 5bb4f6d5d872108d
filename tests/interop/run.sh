#!/bin/sh
# Interop test: https_get.exe, running under Wine with OUR secur32 (tools/run), against
# real TLS servers on loopback. Each row starts a server on a free port in 20000-30000,
# runs one HTTPS GET and checks the negotiated protocol and the HTTP status line.
#
# Environment (all optional):
#   SG_BUILDDIR      build tree (default: source top); https_get.exe is looked up in
#                    $SG_BUILDDIR/tests/interop/ and built there with MinGW if missing
#   SG_TEST_DATA     certificates (default: <source>/tests/data)
#   SG_HTTPS_GET     path of https_get.exe (overrides the above)
#   SG_RUN_FLAGS     extra tools/run flags, e.g. "--stock" to compare with Wine's secur32
#   SG_INTEROP_TIMEOUT  seconds allowed per client run (default 60; the first run may
#                    create the Wine prefix)
# Exit status: 0 all rows passed, 1 a row failed, 77 (skip) a required tool is missing.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${SG_BUILDDIR:-$top}
data=${SG_TEST_DATA:-$top/tests/data}
exe=${SG_HTTPS_GET:-$build/tests/interop/https_get.exe}
run_flags=${SG_RUN_FLAGS:-}
limit=${SG_INTEROP_TIMEOUT:-60}
# make check has built everything already; do not start a nested make from tools/run.
SG_NO_BUILD=${SG_NO_BUILD-1}
export SG_NO_BUILD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-interop.XXXXXX")
passed=0
failed=0
. "$top/tests/interop/servers.sh"

cleanup()
{
    sg_stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for tool in gnutls-serv openssl ss timeout od; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "interop: SKIP: $tool not found (run tools/setup)"
        exit 77
    fi
done

if [ ! -f "$exe" ]; then
    echo "interop: building $exe"
    mkdir -p "$(dirname "$exe")"
    x86_64-w64-mingw32-gcc -O2 -Wall -o "$exe" "$top/tests/interop/https_get.c" -lws2_32 -lsecur32 \
        || { echo "interop: FAIL: cannot build https_get.exe"; exit 1; }
fi

# row NAME KIND CERT EXPECTED_PROTOCOL [https_get options...]
row()
{
    name=$1 kind=$2 cert=$3 expect=$4
    shift 4
    if ! sg_start_server "$kind" "$data/$cert.pem" "$data/$cert-key.pem" "$tmp/server.log"; then
        echo "interop: $name ... FAIL (server did not start)"
        sed 's/^/    server: /' "$tmp/server.log" 2>/dev/null | tail -n 20
        failed=$((failed + 1))
        return
    fi
    # shellcheck disable=SC2086
    timeout -k 5 "$limit" "$top/tools/run" $run_flags "$exe" "$@" 127.0.0.1 "$sg_port" \
        >"$tmp/client.raw" 2>"$tmp/client.err"
    rc=$?
    sg_stop_server
    # A console program under Wine writes CRLF line ends.
    tr -d '\r' <"$tmp/client.raw" >"$tmp/client.out"

    why=
    if [ $rc -ne 0 ]; then
        why="exit status $rc"
    elif ! grep -qx "protocol: $expect" "$tmp/client.out"; then
        why="protocol is not $expect"
    elif ! grep -Eq '^status: HTTP/1\.[01] 200( |$)' "$tmp/client.out"; then
        why="no HTTP 200 status line"
    elif ! grep -Eq '^bytes: [1-9][0-9]*$' "$tmp/client.out"; then
        why="empty response"
    fi
    summary=$(grep -E '^(protocol|cipher):' "$tmp/client.out" | sed 's/^[a-z]*: //' | paste -sd, -)
    if [ -z "$why" ]; then
        echo "interop: $name ($summary) ... PASS"
        passed=$((passed + 1))
    else
        echo "interop: $name ... FAIL ($why)"
        sed 's/^/    client: /' "$tmp/client.out"
        grep -v '^$' "$tmp/client.err" | tail -n 20 | sed 's/^/    stderr: /'
        tail -n 20 "$tmp/server.log" | sed 's/^/    server: /'
        failed=$((failed + 1))
    fi
}

# row_refused NAME KIND CERT EXPECTED_ERROR [https_get options...]: the handshake must fail
# with EXPECTED_ERROR (e.g. a server certificate from a CA nobody trusts, validated).
row_refused()
{
    name=$1 kind=$2 cert=$3 expect=$4
    shift 4
    if ! sg_start_server "$kind" "$data/$cert.pem" "$data/$cert-key.pem" "$tmp/server.log"; then
        echo "interop: $name ... FAIL (server did not start)"
        failed=$((failed + 1))
        return
    fi
    # shellcheck disable=SC2086
    timeout -k 5 "$limit" "$top/tools/run" $run_flags "$exe" "$@" 127.0.0.1 "$sg_port" \
        >"$tmp/client.raw" 2>"$tmp/client.err"
    rc=$?
    sg_stop_server
    tr -d '\r' <"$tmp/client.raw" >"$tmp/client.out"
    if [ $rc -ne 0 ] && grep -q "^error: InitializeSecurityContextW: $expect\$" "$tmp/client.out" \
        && ! grep -q '^status:' "$tmp/client.out"; then
        echo "interop: $name (refused with $expect) ... PASS"
        passed=$((passed + 1))
    else
        echo "interop: $name ... FAIL (expected InitializeSecurityContextW to fail with $expect)"
        sed 's/^/    client: /' "$tmp/client.out"
        failed=$((failed + 1))
    fi
}

row "gnutls-serv TLS1.3 RSA"                 gnutls-serv server-rsa   "TLS 1.3"
row "gnutls-serv TLS1.2 RSA"                 gnutls-serv server-rsa   "TLS 1.2" --tls12
row "gnutls-serv TLS1.2 RSA SCHANNEL_CRED"   gnutls-serv server-rsa   "TLS 1.2" --tls12 --schannel-cred
row "openssl-s_server TLS1.3 RSA"            openssl     server-rsa   "TLS 1.3"
row "openssl-s_server TLS1.3 ECDSA"          openssl     server-ecdsa "TLS 1.3" --tls13
row "openssl-s_server TLS1.2 ECDSA"          openssl     server-ecdsa "TLS 1.2" --tls12
# Automatic validation: the test CA is in no trust store, so the chain cannot be trusted.
row_refused "openssl-s_server untrusted CA validated" openssl server-rsa 0x80090325 --validate --sni localhost
row_refused "gnutls-serv untrusted CA validated (IP)"  gnutls-serv server-ecdsa 0x80090325 --validate

echo "interop: $passed passed, $failed failed"
[ $failed -eq 0 ]
