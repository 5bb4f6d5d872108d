#!/bin/sh
# Interop table for OUR server: https_serve.exe (AcceptSecurityContext) under Wine with our
# secur32 (tools/run), serving real TLS clients on 127.0.0.1: openssl s_client, gnutls-cli
# and our own https_get.exe. Each server configuration runs once on a free port in
# 20000-30000 and serves every row of its block; one line per row, then a summary.
#
# Environment (all optional):
#   SG_BUILDDIR      build tree (default: source top): https_serve.exe and https_get.exe are
#                    looked up in $SG_BUILDDIR/tests/interop/ and built there if missing
#   SG_TEST_DATA     certificates (default: <source>/tests/data)
#   SG_INTEROP_TIMEOUT  seconds per client run (default 30)
# Exit status: 0 all rows passed, 1 a row failed, 77 (skip) a required tool is missing.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${SG_BUILDDIR:-$top}
data=${SG_TEST_DATA:-$top/tests/data}
serve_exe=$build/tests/interop/https_serve.exe
get_exe=$build/tests/interop/https_get.exe
limit=${SG_INTEROP_TIMEOUT:-30}
SG_NO_BUILD=${SG_NO_BUILD-1}
export SG_NO_BUILD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-server.XXXXXX")
passed=0
failed=0
skipped=0
serve_pid=
port=
. "$top/tests/interop/servers.sh"

stop_serve()
{
    if [ -n "$serve_pid" ]; then
        # The server is the child of timeout(1): stop it first, then timeout itself.
        pkill -TERM -P "$serve_pid" 2>/dev/null || true
        kill "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
        serve_pid=
    fi
}
cleanup()
{
    stop_serve
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for tool in openssl gnutls-cli ss timeout od x86_64-w64-mingw32-gcc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "server: SKIP: $tool not found (run tools/setup)"
        exit 77
    fi
done
for pair in "https_serve:-lcrypt32" "https_get:"; do
    name=${pair%%:*} extra=${pair#*:}
    if [ ! -f "$build/tests/interop/$name.exe" ]; then
        mkdir -p "$build/tests/interop"
        x86_64-w64-mingw32-gcc -O2 -Wall -o "$build/tests/interop/$name.exe" "$top/tests/interop/$name.c" \
            -lws2_32 -lsecur32 $extra || { echo "server: FAIL: cannot build $name.exe"; exit 1; }
    fi
done

# Wine sees the Unix file system as drive Z:.
winpath() { echo "Z:$1" | sed 's|/|\\|g'; }

# start_serve LABEL ARGS...: our server, serving until stopped.
start_serve()
{
    label=$1
    shift
    attempt=0
    while [ $attempt -lt 3 ]; do
        attempt=$((attempt + 1))
        port=$(sg_pick_port) || break
        rm -f "$tmp/serve.log"
        timeout -k 5 300 "$top/tools/run" "$serve_exe" "$@" --count 0 "$port" >"$tmp/serve.log" 2>&1 </dev/null &
        serve_pid=$!
        w=0
        while [ $w -lt 300 ]; do
            grep -q "^listening" "$tmp/serve.log" 2>/dev/null && return 0
            kill -0 "$serve_pid" 2>/dev/null || break
            sleep 0.1
            w=$((w + 1))
        done
        stop_serve
    done
    echo "server: [$label] server did not start:"
    sed 's/^/    /' "$tmp/serve.log" | tail -n 10
    return 1
}

report()  # report NAME WHY (empty WHY: pass)
{
    if [ -z "$2" ]; then
        printf 'server: %-58s PASS\n' "$1"
        passed=$((passed + 1))
    else
        printf 'server: %-58s FAIL (%s)\n' "$1" "$2"
        failed=$((failed + 1))
        sed 's/^/    client: /' "$tmp/client.out" 2>/dev/null | grep -v '^    client: *$' | tail -n 8
        sed 's/^/    server: /' "$tmp/serve.log" 2>/dev/null | tail -n 3
    fi
}

skip()
{
    printf 'server: %-58s SKIP (%s)\n' "$1" "$2"
    skipped=$((skipped + 1))
}

# The request; with hold=N the client's stdin stays open N more seconds (gnutls-cli ends its
# connection at end of input, before a server's late certificate request is answered).
request() { printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n'; [ -z "${hold:-}" ] || sleep "$hold"; }

# ossl NAME EXPECT-REGEX... -- s_client args: passes when every regex matches the output.
ossl()
{
    name=$1
    shift
    pats=
    while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
    shift
    request | timeout -k 2 "$limit" openssl s_client -connect "127.0.0.1:$port" -servername localhost \
        -CAfile "$data/ca.pem" -ign_eof "$@" >"$tmp/client.out" 2>&1
    check "$name" "$pats"
}

# gtls NAME EXPECT-REGEX... -- gnutls-cli args
gtls()
{
    name=$1
    shift
    pats=
    while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
    shift
    request | timeout -k 2 "$limit" gnutls-cli -p "$port" --x509cafile "$data/ca.pem" \
        --verify-hostname localhost "$@" 127.0.0.1 >"$tmp/client.out" 2>&1
    check "$name" "$pats"
}

# ours NAME EXPECT-REGEX... -- https_get args
ours()
{
    name=$1
    shift
    pats=
    while [ "$1" != "--" ]; do pats="$pats
$1"; shift; done
    shift
    timeout -k 5 "$limit" "$top/tools/run" "$get_exe" --show "$@" 127.0.0.1 "$port" 2>&1 </dev/null \
        | tr -d '\r' >"$tmp/client.out"
    check "$name" "$pats"
}

check()
{
    why=
    old_ifs=$IFS
    IFS='
'
    for p in $2; do
        [ -n "$p" ] || continue
        grep -Eq -- "$p" "$tmp/client.out" || { why="no match for: $p"; break; }
    done
    IFS=$old_ifs
    report "$1" "$why"
}

rsa=$(winpath "$data/server-rsa.pfx")
ecdsa=$(winpath "$data/server-ecdsa.pfx")
ok='HTTP/1\.0 200 OK'

# --- default protocols (TLS 1.2 + 1.3), SCH_CREDENTIALS, RSA, ALPN ---------------------
if start_serve default --pfx "$rsa" --alpn h2,http/1.1; then
    ossl "openssl TLS1.3 RSA"               "$ok" 'proto=TLS1\.3' 'Verify return code: 0' -- -tls1_3
    ossl "openssl TLS1.2 RSA"               "$ok" 'proto=TLS1\.2' 'Verify return code: 0' -- -tls1_2
    gtls "gnutls-cli TLS1.3 RSA"            "$ok" 'proto=TLS1\.3' -- --priority NORMAL:-VERS-ALL:+VERS-TLS1.3
    gtls "gnutls-cli TLS1.2 RSA"            "$ok" 'proto=TLS1\.2' -- --priority NORMAL:-VERS-ALL:+VERS-TLS1.2
    ours "https_get TLS1.3 RSA"             "$ok" 'proto=TLS1\.3' -- --tls13
    ours "https_get TLS1.2 RSA"             "$ok" 'proto=TLS1\.2' -- --tls12
    ossl "openssl ALPN h2 (server order)"   "$ok" 'ALPN protocol: h2' 'alpn=h2' -- -alpn http/1.1,h2
    gtls "gnutls-cli ALPN http/1.1"         "$ok" 'alpn=http/1\.1' -- --alpn http/1.1
    ossl "openssl no ALPN offered"          "$ok" 'alpn=-' -- -tls1_3
    ossl "openssl ALPN mismatch refused"    'alert no application protocol' -- -alpn spdy/3
    grep -q 'fail AcceptSecurityContext 0x80090367' "$tmp/serve.log" \
        && report "ASC: ALPN mismatch is SEC_E_APPLICATION_PROTOCOL_MISMATCH" "" \
        || report "ASC: ALPN mismatch is SEC_E_APPLICATION_PROTOCOL_MISMATCH" "not in server log"
    request | timeout -k 2 "$limit" openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$data/ca.pem" \
        -tls1_2 -sess_out "$tmp/s12" -ign_eof >/dev/null 2>&1
    ossl "openssl TLS1.2 resumption"        "$ok" '^Reused, ' 'resumed=1' -- -tls1_2 -sess_in "$tmp/s12"
    request | timeout -k 2 "$limit" openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$data/ca.pem" \
        -tls1_2 -no_ticket -sess_out "$tmp/s12id" -ign_eof >/dev/null 2>&1
    ossl "openssl TLS1.2 resumption (session id)" "$ok" '^Reused, ' 'resumed=1' -- -tls1_2 -no_ticket -sess_in "$tmp/s12id"
    request | timeout -k 2 "$limit" openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$data/ca.pem" \
        -tls1_3 -sess_out "$tmp/s13" -ign_eof >/dev/null 2>&1
    ossl "openssl TLS1.3 resumption"        "$ok" '^Reused, ' 'resumed=1' -- -tls1_3 -sess_in "$tmp/s13"
    gtls "gnutls-cli --resume TLS1.3"       'This is a resumed session' -- --resume --priority NORMAL:-VERS-ALL:+VERS-TLS1.3
    gtls "gnutls-cli --resume TLS1.2"       'This is a resumed session' -- --resume --priority NORMAL:-VERS-ALL:+VERS-TLS1.2
    ossl "openssl TLS1.1 refused (not enabled)" 'alert protocol version|no protocols available|unsupported protocol' \
        -- -tls1_1 -cipher DEFAULT@SECLEVEL=0
    # Without TLS 1.0/1.1 the server offers AEAD suites only (no CBC: no LUCKY13 exposure).
    ossl "openssl TLS1.2 CBC-only offer refused (AEAD only)" 'alert handshake failure|no shared cipher|Cipher is \(NONE\)' \
        -- -tls1_2 -cipher ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA
    stop_serve
fi

# --- SCHANNEL_CRED with TLS 1.0 / 1.1 / 1.2 enabled ---------------------------------------
if start_serve schannel-cred --pfx "$rsa" --schannel-cred --tls10 --tls11 --tls12; then
    ossl "openssl TLS1.0 RSA (SCHANNEL_CRED)" "$ok" 'proto=TLS1\.0' -- -tls1 -cipher DEFAULT@SECLEVEL=0
    ossl "openssl TLS1.1 RSA (SCHANNEL_CRED)" "$ok" 'proto=TLS1\.1' -- -tls1_1 -cipher DEFAULT@SECLEVEL=0
    gtls "gnutls-cli TLS1.0 RSA (SCHANNEL_CRED)" "$ok" 'proto=TLS1\.0' -- --priority NORMAL:-VERS-ALL:+VERS-TLS1.0
    gtls "gnutls-cli TLS1.1 RSA (SCHANNEL_CRED)" "$ok" 'proto=TLS1\.1' -- --priority NORMAL:-VERS-ALL:+VERS-TLS1.1
    ossl "openssl TLS1.2 RSA (SCHANNEL_CRED)" "$ok" 'proto=TLS1\.2' -- -tls1_2
    ossl "openssl TLS1.2 CBC suite (TLS1.0/1.1 enabled)" "$ok" 'Cipher is ECDHE-RSA-AES128-SHA$' \
        -- -tls1_2 -cipher ECDHE-RSA-AES128-SHA
    ossl "openssl TLS1.3 refused (SCHANNEL_CRED)" 'Cipher is \(NONE\)' -- -tls1_3
    grep -q 'fail AcceptSecurityContext 0x80090331' "$tmp/serve.log" \
        && report "ASC: TLS1.3 offer only is SEC_E_ALGORITHM_MISMATCH" "" \
        || report "ASC: TLS1.3 offer only is SEC_E_ALGORITHM_MISMATCH" "not in server log"
    stop_serve
fi

# --- mutual TLS: ASC_REQ_MUTUAL_AUTH, client certificate required by the application -------
if start_serve mutual --pfx "$rsa" --mutual --require-cert; then
    ossl "openssl TLS1.3 client certificate" "$ok" 'client=localhost' -- -tls1_3 \
        -cert "$data/server-rsa.pem" -key "$data/server-rsa-key.pem"
    ossl "openssl TLS1.2 client certificate" "$ok" 'client=localhost' -- -tls1_2 \
        -cert "$data/server-ecdsa.pem" -key "$data/server-ecdsa-key.pem"
    gtls "gnutls-cli TLS1.3 client certificate" "$ok" 'client=localhost' -- \
        --x509certfile "$data/server-rsa.pem" --x509keyfile "$data/server-rsa-key.pem"
    ossl "openssl without client certificate (403)" '^HTTP/1\.0 403' -- -tls1_3
    # Windows Server 2012 and later send no trusted issuer list (SendTrustedIssuerList 0).
    ossl "CertificateRequest names no CAs (TLS1.2)" 'No client certificate CA names sent' -- -tls1_2
    stop_serve
fi

# --- a client certificate asked for after the handshake: AcceptSecurityContext(ASC_REQ_MUTUAL_AUTH)
# again with no input, as .NET's NegotiateClientCertificateAsync does ---------------------------
if start_serve renegotiate --pfx "$rsa" --renegotiate --require-cert; then
    ossl "openssl TLS1.2 renegotiation for a client certificate" "$ok" 'client=localhost' 'proto=TLS1\.2' -- -tls1_2 \
        -cert "$data/server-rsa.pem" -key "$data/server-rsa-key.pem"
    ossl "openssl TLS1.3 post-handshake auth (-enable_pha)" "$ok" 'client=localhost' 'proto=TLS1\.3' -- -tls1_3 \
        -enable_pha -cert "$data/server-ecdsa.pem" -key "$data/server-ecdsa-key.pem"
    hold=3
    gtls "gnutls-cli TLS1.3 --post-handshake-auth" "$ok" 'client=localhost' 'proto=TLS1\.3' -- --post-handshake-auth \
        --x509certfile "$data/server-rsa.pem" --x509keyfile "$data/server-rsa-key.pem" \
        --priority NORMAL:-VERS-ALL:+VERS-TLS1.3
    gtls "gnutls-cli TLS1.2 renegotiation for a client certificate" "$ok" 'client=localhost' 'proto=TLS1\.2' -- \
        --x509certfile "$data/server-rsa.pem" --x509keyfile "$data/server-rsa-key.pem" \
        --priority NORMAL:-VERS-ALL:+VERS-TLS1.2
    hold=
    ossl "openssl TLS1.3 without post_handshake_auth (403)" '^HTTP/1\.0 403' -- -tls1_3 \
        -cert "$data/server-rsa.pem" -key "$data/server-rsa-key.pem"
    grep -q 'renegotiation 0x00090360, 0 byte' "$tmp/serve.log" \
        && report "ASC: TLS1.3 client without post_handshake_auth: SEC_I_NO_RENEGOTIATION" "" \
        || report "ASC: TLS1.3 client without post_handshake_auth: SEC_I_NO_RENEGOTIATION" "not in server log"
    stop_serve
fi

# --- SCH_CRED_DISABLE_RECONNECTS ------------------------------------------------------------
if start_serve no-reconnect --pfx "$rsa" --no-reconnect; then
    request | timeout -k 2 "$limit" openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$data/ca.pem" \
        -tls1_2 -sess_out "$tmp/n12" -ign_eof >/dev/null 2>&1
    ossl "no resumption with DISABLE_RECONNECTS (TLS1.2)" "$ok" '^New, ' 'resumed=0' -- -tls1_2 -sess_in "$tmp/n12"
    # TLS 1.3 resumes only from a ticket: none may come.
    ossl "no TLS1.3 ticket with DISABLE_RECONNECTS" "$ok" 'resumed=0' -- -tls1_3 -sess_out "$tmp/n13"
    [ ! -s "$tmp/n13" ] || report "no TLS1.3 ticket with DISABLE_RECONNECTS (session file)" "a ticket was saved"
    stop_serve
fi

# --- key sources: PKCS12_NO_PERSIST_KEY, non-exportable CAPI key ------------------------------
if start_serve no-persist --pfx "$rsa" --no-persist; then
    ossl "key from PKCS12_NO_PERSIST_KEY" "$ok" 'proto=TLS1\.3' -- -tls1_3
    stop_serve
fi
if start_serve non-exportable --pfx "$rsa" --non-exportable; then
    ossl "non-exportable CAPI key" "$ok" 'proto=TLS1\.3' -- -tls1_3
    stop_serve
fi

# --- ECDSA --------------------------------------------------------------------------------
if start_serve ecdsa --pfx "$ecdsa" 2>/dev/null; then
    ossl "openssl TLS1.3 ECDSA" "$ok" 'proto=TLS1\.3' -- -tls1_3
    ossl "openssl TLS1.2 ECDSA" "$ok" 'proto=TLS1\.2' -- -tls1_2
    stop_serve
else
    skip "ECDSA server certificate" "Wine 8 PFXImportCertStore cannot import EC keys, its ncrypt has none"
fi

echo "server: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
