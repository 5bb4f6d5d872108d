#!/bin/sh
# Record-layer interop: real consumers and real peers, bodies checked byte for byte.
#  - Wine's own winhttp.dll and wininet.dll (winhttp_get.exe, wininet_get.exe: they call our
#    secur32 through the overlay) download a 10 MB file from openssl s_server -WWW and the
#    status page of gnutls-serv --http;
#  - https_get.exe (an SSPI client that handles SEC_I_RENEGOTIATE like curl) downloads 10 MB
#    from post_handshake_server, which renegotiates (TLS 1.2) or sends three TLS 1.3
#    NewSessionTickets and a KeyUpdate asking for one back in the middle of the body, and ends
#    with close_notify; that server then reads our close_notify under the updated keys.
# Servers listen on free ports in 20000-30000 of 127.0.0.1 (gnutls-serv: every interface, see
# servers.sh), are limited by timeout(1) and stopped on exit.
#
# Environment: SG_BUILDDIR (build tree with tests/interop/*.exe and post_handshake_server),
# SG_TEST_DATA, SG_INTEROP_TIMEOUT (seconds per client run, default 120).
# Exit status: 0 all rows passed, 1 a row failed, 77 a required tool is missing.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${SG_BUILDDIR:-$top}
data=${SG_TEST_DATA:-$top/tests/data}
limit=${SG_INTEROP_TIMEOUT:-120}
bin=$build/tests/interop
SG_NO_BUILD=${SG_NO_BUILD-1}
export SG_NO_BUILD

for tool in gnutls-serv openssl ss timeout od cmp; do
    command -v "$tool" >/dev/null 2>&1 || { echo "record: SKIP: $tool not found"; exit 77; }
done
for f in winhttp_get.exe wininet_get.exe https_get.exe post_handshake_server; do
    [ -f "$bin/$f" ] || { echo "record: SKIP: $bin/$f not built"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-record.XXXXXX")
wtmp=$(echo "Z:$tmp" | tr '/' '\\')
passed=0
failed=0
. "$top/tests/interop/servers.sh"
ph_pid=

stop_ph()
{
    if [ -n "$ph_pid" ]; then
        kill "$ph_pid" 2>/dev/null || true
        wait "$ph_pid" 2>/dev/null || true
        ph_pid=
    fi
}
cleanup()
{
    sg_stop_server
    stop_ph
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The 10 MB file openssl s_server -WWW serves: numbered 64-byte text lines.
big=$((10 * 1024 * 1024))
awk -v n=$((big / 64)) 'BEGIN { a = "abcdefghijklmnopqrstuvwxyz";
    for (i = 0; i < n; i++) { s = sprintf("%010d ", i); for (j = length(s); j < 63; j++) s = s substr(a, (i + j) % 26 + 1, 1); print s } }' \
    >"$tmp/big.txt"
[ "$(wc -c <"$tmp/big.txt")" -eq $big ] || { echo "record: FAIL: could not make the test file"; exit 1; }

pass() { echo "record: $1 ... PASS"; passed=$((passed + 1)); }
fail()
{
    echo "record: $1 ... FAIL ($2)"
    [ -f "$tmp/client.out" ] && sed 's/^/    client: /' "$tmp/client.out" | head -n 20
    [ -f "$tmp/client.err" ] && grep -v '^$' "$tmp/client.err" | tail -n 15 | sed 's/^/    stderr: /'
    [ -f "$tmp/server.log" ] && tail -n 10 "$tmp/server.log" | sed 's/^/    server: /'
    failed=$((failed + 1))
}

start_openssl_www()
{
    # -WWW serves files relative to its working directory.
    sg_i=0
    while [ $sg_i -lt 5 ]; do
        sg_i=$((sg_i + 1))
        sg_port=$(sg_pick_port) || return 1
        (cd "$tmp" && exec timeout 300 openssl s_server -accept "127.0.0.1:$sg_port" -cert "$data/server-rsa.pem" \
            -key "$data/server-rsa-key.pem" -WWW -naccept 1 "$@" >"$tmp/server.log" 2>&1 </dev/null) &
        sg_server_pid=$!
        sg_w=0
        while [ $sg_w -lt 100 ]; do
            [ -n "$(ss -Hltn "( sport = :$sg_port )" 2>/dev/null)" ] && return 0
            kill -0 "$sg_server_pid" 2>/dev/null || break
            sleep 0.1
            sg_w=$((sg_w + 1))
        done
        sg_stop_server
    done
    return 1
}

# consumer_row NAME EXE SERVER(openssl|gnutls) [server options...]
consumer_row()
{
    name=$1 exe=$2 kind=$3
    shift 3
    rm -f "$tmp/body.out" "$tmp/client.out"
    if [ "$kind" = openssl ]; then
        start_openssl_www "$@" || { fail "$name" "server did not start"; return; }
        path=/big.txt
    else
        sg_start_server gnutls-serv "$data/server-rsa.pem" "$data/server-rsa-key.pem" "$tmp/server.log" \
            || { fail "$name" "server did not start"; return; }
        path=/
    fi
    timeout -k 5 "$limit" "$top/tools/run" "$bin/$exe" 127.0.0.1 "$sg_port" "$path" "$wtmp\\body.out" \
        2>"$tmp/client.err" | tr -d '\r' >"$tmp/client.out"
    rc=$?
    sg_stop_server
    if ! grep -qx 'status: 200' "$tmp/client.out"; then
        fail "$name" "no status 200"
    elif [ "$kind" = openssl ] && ! cmp -s "$tmp/body.out" "$tmp/big.txt"; then
        fail "$name" "body differs from the 10 MB file ($(wc -c <"$tmp/body.out" 2>/dev/null) bytes)"
    elif [ "$kind" = gnutls ] && ! grep -q 'TLS1.2' "$tmp/body.out"; then
        fail "$name" "status page does not show TLS 1.2"
    else
        pass "$name ($(grep '^bytes:' "$tmp/client.out"))"
    fi
}

# ph_row NAME MODE EXPECTED_PROTOCOL [https_get options...]
ph_row()
{
    name=$1 mode=$2 expect=$3
    shift 3
    rm -f "$tmp/client.out" "$tmp/expected.txt"
    port=$(sg_pick_port) || { fail "$name" "no free port"; return; }
    timeout 300 "$bin/post_handshake_server" "$port" "$data/server-rsa.pem" "$data/server-rsa-key.pem" "$mode" \
        $big "$tmp/expected.txt" >"$tmp/server.log" 2>&1 &
    ph_pid=$!
    w=0
    while [ $w -lt 100 ] && [ -z "$(ss -Hltn "( sport = :$port )" 2>/dev/null)" ]; do sleep 0.1; w=$((w + 1)); done
    timeout -k 5 "$limit" "$top/tools/run" "$bin/https_get.exe" --show "$@" 127.0.0.1 "$port" \
        2>"$tmp/client.err" | tr -d '\r' >"$tmp/client.raw"
    wait "$ph_pid"
    src=$?
    ph_pid=
    # Summary lines, then the response: header, blank line, body (and a newline --show adds).
    sed -n '/^HTTP\//q;p' "$tmp/client.raw" >"$tmp/client.out"
    sed -n '/^HTTP\//,$p' "$tmp/client.raw" | sed '1,/^$/d' | head -c $big >"$tmp/body.out"
    if [ $src -ne 0 ]; then
        fail "$name" "server exit status $src"
    elif ! grep -qx "protocol: $expect" "$tmp/client.out"; then
        fail "$name" "protocol is not $expect"
    elif ! grep -qx 'end: close_notify' "$tmp/client.out"; then
        fail "$name" "no SEC_I_CONTEXT_EXPIRED for the server's close_notify"
    elif ! cmp -s "$tmp/body.out" "$tmp/expected.txt"; then
        fail "$name" "body differs ($(wc -c <"$tmp/body.out") bytes)"
    else
        pass "$name ($(grep -c 'SEC_I_RENEGOTIATE' "$tmp/client.err") x SEC_I_RENEGOTIATE)"
    fi
}

# openssl_cmd_row NAME PROTOCOL_FLAG EXPECTED_PROTOCOL COMMAND [https_get options...]: openssl s_server in
# its interactive mode, fed through a FIFO: a response line, then COMMAND ("K": KeyUpdate asking
# for one back, "k": KeyUpdate, "r": TLS 1.2 renegotiation), another line, then "Q".
openssl_cmd_row()
{
    name=$1 pflag=$2 expect=$3 cmd=$4
    shift 4
    min=1
    [ "$pflag" = -tls1_3 ] && min=3
    rm -f "$tmp/fifo" "$tmp/client.out"
    mkfifo "$tmp/fifo" || { fail "$name" "mkfifo"; return; }
    port=$(sg_pick_port) || { fail "$name" "no free port"; return; }
    timeout 120 openssl s_server -accept "127.0.0.1:$port" -cert "$data/server-rsa.pem" \
        -key "$data/server-rsa-key.pem" -naccept 1 "$pflag" <"$tmp/fifo" >"$tmp/server.log" 2>&1 &
    sg_server_pid=$!
    exec 7>"$tmp/fifo"
    w=0
    while [ $w -lt 100 ] && [ -z "$(ss -Hltn "( sport = :$port )" 2>/dev/null)" ]; do sleep 0.1; w=$((w + 1)); done
    timeout -k 5 "$limit" "$top/tools/run" "$bin/https_get.exe" --show "$@" 127.0.0.1 "$port" \
        2>"$tmp/client.err" >"$tmp/client.raw" &
    client=$!
    w=0
    while [ $w -lt 300 ] && ! grep -q '^GET / ' "$tmp/server.log" 2>/dev/null; do sleep 0.1; w=$((w + 1)); done
    printf 'HTTP/1.0 200 OK\r\n\r\nline one\n' >&7
    sleep 0.5
    printf '%s\n' "$cmd" >&7
    sleep 1
    printf 'line two\n' >&7
    sleep 0.5
    printf 'Q\n' >&7
    exec 7>&-
    wait $client
    rc=$?
    sg_stop_server
    tr -d '\r' <"$tmp/client.raw" >"$tmp/client.out"
    if [ $rc -ne 0 ]; then
        fail "$name" "client exit status $rc"
    elif ! grep -qx "protocol: $expect" "$tmp/client.out"; then
        fail "$name" "protocol is not $expect"
    elif [ "$(sed -n '/^HTTP\//,$p' "$tmp/client.out" | sed '1,/^$/d' | grep -c '^line ')" -ne 2 ] \
        || ! grep -qx 'line one' "$tmp/client.out" || ! grep -qx 'line two' "$tmp/client.out"; then
        fail "$name" "lines lost or duplicated around '$cmd'"
    elif [ "$(grep -c 'SEC_I_RENEGOTIATE' "$tmp/client.err")" -lt "$min" ]; then
        fail "$name" "fewer than $min SEC_I_RENEGOTIATE ('$cmd', and openssl's two tickets in TLS 1.3)"
    else
        pass "$name ($(grep -c 'SEC_I_RENEGOTIATE' "$tmp/client.err") x SEC_I_RENEGOTIATE)"
    fi
}

consumer_row "winhttp  <- openssl s_server -WWW 10 MB TLS1.2" winhttp_get.exe openssl
consumer_row "wininet  <- openssl s_server -WWW 10 MB TLS1.2" wininet_get.exe openssl
consumer_row "winhttp  <- gnutls-serv --http TLS1.2"         winhttp_get.exe gnutls
consumer_row "wininet  <- gnutls-serv --http TLS1.2"         wininet_get.exe gnutls
ph_row "https_get <- TLS1.3 10 MB, 3 tickets + KeyUpdate(update_requested) mid-body" keyupdate "TLS 1.3"
ph_row "https_get <- TLS1.2 10 MB, renegotiation mid-body"                            reneg     "TLS 1.2" --tls12
ph_row "https_get <- TLS1.3 10 MB, close_notify"                                      plain     "TLS 1.3" --tls13
ph_row "https_get SCHANNEL_CRED <- TLS1.2 10 MB, close_notify"                        plain     "TLS 1.2" --schannel-cred --tls12
openssl_cmd_row "https_get <- openssl s_server TLS1.3 'K' (KeyUpdate, update_requested)" -tls1_3 "TLS 1.3" K
openssl_cmd_row "https_get <- openssl s_server TLS1.3 'k' (KeyUpdate)"                   -tls1_3 "TLS 1.3" k
openssl_cmd_row "https_get <- openssl s_server TLS1.2 'r' (renegotiation)"               -tls1_2 "TLS 1.2" r --tls12

echo "record: $passed passed, $failed failed"
[ $failed -eq 0 ]
