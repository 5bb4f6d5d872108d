#!/bin/sh
# DTLS interop over UDP on 127.0.0.1: our client (dtls_client.exe) against gnutls-serv --udp and
# openssl s_server -dtls, our server (dtls_server.exe) against gnutls-cli --udp and
# openssl s_client -dtls, DTLS 1.2 and 1.0; both Windows programs run under Wine with our
# secur32 (tools/run). One line per row, then a summary.
#
# Each row: handshake, one datagram of data each way, close_notify. Servers listen on a port in
# 20000-30000 found free (TCP and UDP) first; every process is limited by timeout(1) and stopped
# when its row ends. gnutls-serv 3.7 cannot choose its listen address and binds every
# interface while it runs; the clients only ever talk to 127.0.0.1.
#
# Environment (all optional):
#   SG_BUILDDIR          build tree (default: source top): dtls_client.exe / dtls_server.exe are
#                        looked up in $SG_BUILDDIR/tests/interop/ and built there if missing
#   SG_TEST_DATA         certificates (default: <source>/tests/data)
#   SG_INTEROP_TIMEOUT   seconds per row (default 40)
#   SG_VERBOSE=1         print both sides' output of every row
# Exit status: 0 all rows passed, 1 a row failed, 77 (skip) a required tool is missing.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${SG_BUILDDIR:-$top}
data=${SG_TEST_DATA:-$top/tests/data}
client_exe=$build/tests/interop/dtls_client.exe
server_exe=$build/tests/interop/dtls_server.exe
limit=${SG_INTEROP_TIMEOUT:-40}
SG_NO_BUILD=${SG_NO_BUILD-1}
export SG_NO_BUILD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-dtls.XXXXXX")
passed=0
failed=0
peer_pid=
ours_pid=

stop_pid()
{
    # $1: a pid started by this script through timeout(1); its child goes first.
    [ -n "$1" ] || return 0
    pkill -TERM -P "$1" 2>/dev/null || true
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
stop_all()
{
    exec 3>&- 2>/dev/null
    stop_pid "$peer_pid"
    stop_pid "$ours_pid"
    peer_pid=
    ours_pid=
}
cleanup()
{
    stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for tool in openssl gnutls-serv gnutls-cli ss timeout od pkill mkfifo x86_64-w64-mingw32-gcc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "dtls: SKIP: $tool not found (run tools/setup)"
        exit 77
    fi
done
for name in dtls_client dtls_server; do
    if [ ! -f "$build/tests/interop/$name.exe" ]; then
        mkdir -p "$build/tests/interop"
        x86_64-w64-mingw32-gcc -O2 -Wall -o "$build/tests/interop/$name.exe" "$top/tests/interop/$name.c" \
            -lws2_32 -lsecur32 -lcrypt32 || { echo "dtls: FAIL: cannot build $name.exe"; exit 1; }
    fi
done

# A port of 20000-30000 with no TCP or UDP socket on it.
pick_port()
{
    i=0
    while [ $i -lt 50 ]; do
        n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        p=$((20000 + n % 10000))
        if [ -z "$(ss -Hanu "( sport = :$p )" 2>/dev/null)" ] && [ -z "$(ss -Hant "( sport = :$p )" 2>/dev/null)" ]; then
            echo "$p"
            return 0
        fi
        i=$((i + 1))
    done
    return 1
}

# wait_for FILE REGEX SECONDS: until the file matches (0) or the time is up (1).
wait_for()
{
    w=0
    while [ $w -lt $(($3 * 10)) ]; do
        grep -Eq -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
        w=$((w + 1))
    done
    return 1
}

# keys_match: DTLS-SRTP rows; our side printed its profile and its 60 bytes of
# EXTRACTOR-dtls_srtp keying material, which the peer must have printed too (any case).
keys_match()
{
    [ -n "${EXPECT_SRTP:-}" ] || return 0
    expect "$tmp/ours.txt" '^srtp profile: 0x0001$' '^keying material: [0-9A-F]{120}$' || return 1
    [ -z "${PEER_HIDES_KEYS:-}" ] || return 0   # gnutls-serv prints neither keys nor profile
    keys=$(sed -n 's/^keying material: //p' "$tmp/ours.txt")
    grep -qi -- "$keys" "$tmp/peer.log" || { why="peer printed other keying material than $keys"; return 1; }
    expect "$tmp/peer.log" "$EXPECT_SRTP"
}

udp_bound() { [ -n "$(ss -Hanu "( sport = :$1 )" 2>/dev/null)" ]; }

# expect NAME FILE REGEX...: every regex must match FILE; sets why.
expect()
{
    f=$1
    shift
    for p in "$@"; do
        grep -Eq -- "$p" "$f" || { why="$(basename "$f"): no match for: $p"; return 1; }
    done
    return 0
}

report()  # report NAME (why empty: pass)
{
    if [ -z "$why" ]; then
        printf 'dtls: %-60s PASS\n' "$1"
        passed=$((passed + 1))
        if [ -n "${SG_VERBOSE:-}" ]; then
            for f in ours peer; do
                [ -f "$tmp/$f.log" ] && tr -d '\r' <"$tmp/$f.log" | grep -v '^ *$' | sed "s/^/    $f: /"
            done
        fi
    else
        printf 'dtls: %-60s FAIL (%s)\n' "$1" "$why"
        failed=$((failed + 1))
        for f in ours peer; do
            [ -f "$tmp/$f.log" ] && tr -d '\r' <"$tmp/$f.log" | grep -v '^ *$' | tail -n 8 | sed "s/^/    $f: /"
        done
    fi
}

winpath() { echo "Z:$1" | sed 's|/|\\|g'; }

# client_row NAME KIND VERSION-ARGS -- OUR-ARGS
#   KIND gnutls: gnutls-serv --udp (echoes); openssl: s_server -dtls (the line typed into it
#   once our message arrived is the reply).
client_row()
{
    name=$1 kind=$2
    shift 2
    peer_args=
    while [ "$1" != "--" ]; do peer_args="$peer_args $1"; shift; done
    shift
    why=
    rm -f "$tmp/ours.log" "$tmp/peer.log" "$tmp/in"
    port=$(pick_port) || { why="no free port"; report "$name"; return; }
    case $kind in
    gnutls)
        # shellcheck disable=SC2086
        timeout -k 2 "$limit" gnutls-serv --udp -p "$port" --x509certfile "$data/server-rsa.pem" \
            --x509keyfile "$data/server-rsa-key.pem" $peer_args >"$tmp/peer.log" 2>&1 </dev/null &
        peer_pid=$!
        reply='hello from schannel dtls'
        ;;
    openssl)
        mkfifo "$tmp/in"
        # shellcheck disable=SC2086
        timeout -k 2 "$limit" openssl s_server -accept "127.0.0.1:$port" -cert "$data/server-rsa.pem" \
            -key "$data/server-rsa-key.pem" -naccept 1 $peer_args <"$tmp/in" >"$tmp/peer.log" 2>&1 &
        peer_pid=$!
        exec 3>"$tmp/in"
        reply='reply from openssl'
        ;;
    esac
    w=0
    while [ $w -lt 100 ] && ! udp_bound "$port"; do sleep 0.1; w=$((w + 1)); done
    if ! udp_bound "$port"; then
        why="peer did not start"
        stop_all
        report "$name"
        return
    fi
    timeout -k 5 "$limit" "$top/tools/run" "$client_exe" "$@" 127.0.0.1 "$port" >"$tmp/ours.log" 2>&1 </dev/null &
    ours_pid=$!
    if [ "$kind" = openssl ]; then
        # s_server prints what it received: then its "operator" types the reply.
        wait_for "$tmp/peer.log" 'hello from schannel dtls' "$limit" && echo "$reply" >&3
    fi
    wait "$ours_pid" 2>/dev/null
    rc=$?
    ours_pid=
    tr -d '\r' <"$tmp/ours.log" >"$tmp/ours.txt"
    if [ $rc -ne 0 ]; then why="dtls_client exit status $rc"
    else expect "$tmp/ours.txt" "$EXPECT_PROTO" '^peer: localhost' "^received: $reply" '^closed'
    fi
    [ -n "$why" ] || expect "$tmp/peer.log" 'hello from schannel dtls'
    [ -n "$why" ] || keys_match
    stop_all
    report "$name"
}

# server_row NAME KIND OUR-ARGS -- PEER-ARGS
#   KIND gnutls: gnutls-cli --udp; openssl: s_client -dtls. The client's line comes back as
#   "echo: LINE", then our server closes with close_notify.
server_row()
{
    name=$1 kind=$2
    shift 2
    our_args=
    while [ "$1" != "--" ]; do our_args="$our_args $1"; shift; done
    shift
    why=
    rm -f "$tmp/ours.log" "$tmp/peer.log"
    port=$(pick_port) || { why="no free port"; report "$name"; return; }
    # shellcheck disable=SC2086
    timeout -k 5 "$limit" "$top/tools/run" "$server_exe" --pfx "$(winpath "$data/server-rsa.pfx")" $our_args \
        "$port" >"$tmp/ours.log" 2>&1 </dev/null &
    ours_pid=$!
    if ! wait_for "$tmp/ours.log" '^listening' "$limit" || ! udp_bound "$port"; then
        why="dtls_server did not start"
        stop_all
        report "$name"
        return
    fi
    line="hello from $kind"
    # The client's input stays open until our server has closed (or the row's time is up).
    case $kind in
    gnutls)
        { echo "$line"; wait_for "$tmp/ours.log" '^closed|^error' "$limit"; } \
            | timeout -k 2 "$limit" gnutls-cli --udp -p "$port" --x509cafile "$data/ca.pem" \
                --verify-hostname localhost "$@" 127.0.0.1 >"$tmp/peer.log" 2>&1
        ;;
    openssl)
        { echo "$line"; wait_for "$tmp/ours.log" '^closed|^error' "$limit"; } \
            | timeout -k 2 "$limit" openssl s_client -connect "127.0.0.1:$port" -CAfile "$data/ca.pem" \
                -verify_hostname localhost -verify_return_error "$@" >"$tmp/peer.log" 2>&1
        ;;
    esac
    wait "$ours_pid" 2>/dev/null
    rc=$?
    ours_pid=
    tr -d '\r' <"$tmp/ours.log" >"$tmp/ours.txt"
    if [ $rc -ne 0 ]; then why="dtls_server exit status $rc"
    else expect "$tmp/ours.txt" "$EXPECT_PROTO" "^received: $line" '^closed' ${EXPECT_SERVER:+"$EXPECT_SERVER"}
    fi
    [ -n "$why" ] || expect "$tmp/peer.log" "echo: $line"
    [ -n "$why" ] || keys_match
    stop_all
    report "$name"
}

EXPECT_SERVER=
EXPECT_PROTO='^protocol: DTLS 1\.2'
client_row "client DTLS1.2 vs gnutls-serv --udp"       gnutls --priority NORMAL:-VERS-ALL:+VERS-DTLS1.2 -- --dtls12 --mtu 300
client_row "client DTLS1.0+1.2 vs gnutls-serv (picks 1.2)" gnutls -- --mtu 1200
client_row "client DTLS1.2 vs openssl s_server -dtls1_2" openssl -dtls1_2 -- --dtls12
# At a 300-byte path MTU the certificate flight takes several datagrams (SEC_I_MESSAGE_FRAGMENT).
EXPECT_SERVER='^handshake: .*, [1-9][0-9]* fragments'
server_row "server DTLS1.2 vs gnutls-cli --udp (MTU 300)" gnutls --dtls12 --mtu 300 -- \
    --priority NORMAL:-VERS-ALL:+VERS-DTLS1.2
server_row "server DTLS1.2 vs openssl s_client -dtls1_2 (MTU 300)" openssl --dtls12 --mtu 300 -- -dtls1_2
EXPECT_SERVER=
server_row "server DTLS1.0+1.2 vs openssl s_client -dtls" openssl -- -dtls
EXPECT_PROTO='^protocol: DTLS 1\.0'
client_row "client DTLS1.0 vs gnutls-serv --udp"       gnutls --priority NORMAL:-VERS-ALL:+VERS-DTLS1.0 -- --dtls10
client_row "client DTLS1.0 vs openssl s_server -dtls1" openssl -dtls1 -cipher DEFAULT@SECLEVEL=0 -- --dtls10
server_row "server DTLS1.0 vs gnutls-cli --udp"        gnutls --dtls10 -- --priority NORMAL:-VERS-ALL:+VERS-DTLS1.0
server_row "server DTLS1.0 vs openssl s_client -dtls1" openssl --dtls10 -- -dtls1 -cipher DEFAULT@SECLEVEL=0

# DTLS-SRTP: SECBUFFER_SRTP_PROTECTION_PROFILES offers AEAD_AES_128_GCM and
# AES128_CM_HMAC_SHA1_80; both ends must agree on the latter and on the exported SRTP keys.
EXPECT_PROTO='^protocol: DTLS 1\.2'
EXPECT_SRTP='SRTP_AES128_CM_(HMAC_)?SHA1_80'
label="EXTRACTOR-dtls_srtp"
PEER_HIDES_KEYS=1
client_row "client DTLS-SRTP vs gnutls-serv (profile only)" gnutls --srtp-profiles=SRTP_AES128_CM_HMAC_SHA1_80 \
    -- --dtls12 --srtp
PEER_HIDES_KEYS=
client_row "client DTLS-SRTP vs openssl s_server" openssl -dtls1_2 -use_srtp SRTP_AES128_CM_SHA1_80 \
    -keymatexport $label -keymatexportlen 60 -- --dtls12 --srtp
server_row "server DTLS-SRTP vs gnutls-cli" gnutls --dtls12 --srtp -- \
    --srtp-profiles=SRTP_AES128_CM_HMAC_SHA1_80 --keymatexport=$label --keymatexportsize=60
server_row "server DTLS-SRTP vs openssl s_client" openssl --dtls12 --srtp -- -dtls1_2 \
    -use_srtp SRTP_AES128_CM_SHA1_80 -keymatexport $label -keymatexportlen 60
EXPECT_SRTP=

echo "dtls: $passed passed, $failed failed"
[ $failed -eq 0 ]
