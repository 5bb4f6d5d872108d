#!/bin/sh
# Client interop matrix: sspi_client.exe (our Schannel client under Wine, through tools/run)
# against gnutls-serv and openssl s_server on 127.0.0.1: TLS 1.0-1.3, RSA and ECDSA,
# ALPN, client certificates requested and required, resumption on a second connection
# (TLS 1.2 and 1.3), and automatic validation against certificates made here at test time
# (valid, expired, not yet valid, wrong host, wrong EKU, untrusted root), revocation through
# CRL distribution points (a CRL served on 127.0.0.1 by a small HTTP server started here, a
# closed port, no distribution point), the alert our client sends when it refuses a server
# (SECBUFFER_ALERT), and re-authentication (a second InitializeSecurityContext).
#
# The generated test root is trusted only inside the test Wine prefix (the current user's
# Root store, through sspi_client.exe --trust-root) for the validation rows, and removed
# again afterwards (also on interruption). The committed tests/data CA is never trusted.
#
# Environment: SG_BUILDDIR (build tree), SG_TEST_DATA, SG_SSPI_CLIENT (exe path),
# SG_INTEROP_TIMEOUT (seconds per client run, default 60), SG_RUN_FLAGS (tools/run flags).
# Exit status: 0 all rows passed, 1 a row failed, 77 a tool is missing.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${SG_BUILDDIR:-$top}
data=${SG_TEST_DATA:-$top/tests/data}
exe=${SG_SSPI_CLIENT:-$build/tests/interop/sspi_client.exe}
run_flags=${SG_RUN_FLAGS:-}
limit=${SG_INTEROP_TIMEOUT:-60}
SG_NO_BUILD=${SG_NO_BUILD-1}
export SG_NO_BUILD

for tool in gnutls-serv openssl certtool ss timeout od; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "client-matrix: SKIP: $tool not found (run tools/setup)"
        exit 77
    fi
done
[ -f "$exe" ] || { echo "client-matrix: FAIL: $exe not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-client-matrix.XXXXXX")
certs=$tmp/certs
mkdir -p "$certs"
passed=0
failed=0
trusted=
mystore=
crl_pid=
server_want=
. "$top/tests/interop/servers.sh"

client()
{
    # shellcheck disable=SC2086
    timeout -k 5 "$limit" "$top/tools/run" $run_flags "$exe" "$@"
}

cleanup()
{
    sg_stop_server
    if [ -n "$crl_pid" ]; then
        kill "$crl_pid" 2>/dev/null
        wait "$crl_pid" 2>/dev/null
        crl_pid=
    fi
    if [ -n "$mystore" ]; then
        client --remove-my "$mystore" >/dev/null 2>&1
        mystore=
    fi
    if [ -n "$trusted" ]; then
        client --untrust-root "$trusted" >/dev/null 2>&1
        trusted=
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- certificates made for this run ----------------------------------------------------
mkcert()
{
    # mkcert NAME SIGNER(ca|self|other) TEMPLATE-LINES...
    name=$1 signer=$2
    shift 2
    printf '%s\n' "$@" > "$certs/$name.tmpl"
    # RSA: Wine's PFXImportCertStore (for the client certificate) imports RSA keys only.
    certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$certs/$name-key.pem" >/dev/null 2>&1 \
        || return 1
    case $signer in
    self)
        certtool --generate-self-signed --load-privkey "$certs/$name-key.pem" --template "$certs/$name.tmpl" \
            --outfile "$certs/$name.pem" >/dev/null 2>&1 ;;
    *)
        certtool --generate-certificate --load-privkey "$certs/$name-key.pem" --template "$certs/$name.tmpl" \
            --load-ca-certificate "$certs/$signer.pem" --load-ca-privkey "$certs/$signer-key.pem" \
            --outfile "$certs/$name.pem" >/dev/null 2>&1 ;;
    esac
}

server_tmpl='dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
signing_key
encryption_key'

make_certs()
{
    mkcert ca self 'cn = "SG client matrix CA"' ca cert_signing_key crl_signing_key 'expiration_days = 2' || return 1
    mkcert other self 'cn = "SG untrusted CA"' ca cert_signing_key 'expiration_days = 2' || return 1
    mkcert valid ca 'cn = "localhost"' "$server_tmpl" 'expiration_days = 2' || return 1
    mkcert expired ca 'cn = "localhost"' "$server_tmpl" 'activation_date = "2020-01-01 00:00:00"' \
        'expiration_date = "2021-01-01 00:00:00"' || return 1
    mkcert future ca 'cn = "localhost"' "$server_tmpl" 'activation_date = "2090-01-01 00:00:00"' \
        'expiration_date = "2091-01-01 00:00:00"' || return 1
    mkcert wronghost ca 'cn = "wrong.example"' 'dns_name = "wrong.example"' tls_www_server signing_key \
        'expiration_days = 2' || return 1
    mkcert wrongeku ca 'cn = "localhost"' 'dns_name = "localhost"' tls_www_client signing_key \
        'expiration_days = 2' || return 1
    mkcert untrusted other 'cn = "localhost"' "$server_tmpl" 'expiration_days = 2' || return 1
    mkcert client ca 'cn = "SG matrix client"' tls_www_client signing_key 'expiration_days = 2' || return 1
    certtool --to-p12 --load-certificate "$certs/client.pem" --load-privkey "$certs/client-key.pem" \
        --p12-name client --password test --outder --outfile "$certs/client.pfx" >/dev/null 2>&1 || return 1
    # Revocation: distribution points on a port nobody listens on and on the CRL server.
    mkcert revclosed ca 'cn = "localhost"' "$server_tmpl" 'expiration_days = 2' \
        "crl_dist_points = \"http://127.0.0.1:$closed_port/closed.crl\"" || return 1
    mkcert revgood ca 'cn = "localhost"' "$server_tmpl" 'expiration_days = 2' \
        "crl_dist_points = \"http://127.0.0.1:$crl_port/ca.crl\"" || return 1
    mkcert revoked ca 'cn = "localhost"' "$server_tmpl" 'expiration_days = 2' \
        "crl_dist_points = \"http://127.0.0.1:$crl_port/ca.crl\"" || return 1
    mkdir -p "$certs/www"
    printf 'crl_next_update = 2\ncrl_number = 1\n' > "$certs/crl.tmpl"
    certtool --generate-crl --load-ca-privkey "$certs/ca-key.pem" --load-ca-certificate "$certs/ca.pem" \
        --load-certificate "$certs/revoked.pem" --template "$certs/crl.tmpl" --outder \
        --outfile "$certs/www/ca.crl" >/dev/null 2>&1
}

# The CRL server (python3's http.server on 127.0.0.1) and a port left closed.
crl_port=$(sg_pick_port) && closed_port=$(sg_pick_port)
if [ -z "$crl_port" ] || [ -z "$closed_port" ] || [ "$crl_port" = "$closed_port" ]; then
    echo "client-matrix: FAIL: no free ports for the CRL rows"
    exit 1
fi

if ! make_certs; then
    echo "client-matrix: FAIL: cannot generate the test certificates"
    exit 1
fi
if command -v python3 >/dev/null 2>&1; then
    timeout 600 python3 -m http.server "$crl_port" --bind 127.0.0.1 --directory "$certs/www" \
        >"$tmp/crl.log" 2>&1 </dev/null &
    crl_pid=$!
    w=0
    while [ $w -lt 100 ] && [ -z "$(ss -Hltn "( sport = :$crl_port )" 2>/dev/null)" ]; do
        sleep 0.1
        w=$((w + 1))
    done
fi

# ---- servers ---------------------------------------------------------------------------
# start KIND CERT KEY EXTRA-ARGS...: like sg_start_server, with extra server options and
# room for several connections.
start()
{
    kind=$1 cert=$2 key=$3
    shift 3
    log=$tmp/server.log
    attempt=0
    while [ $attempt -lt 5 ]; do
        attempt=$((attempt + 1))
        sg_port=$(sg_pick_port) || return 1
        case $kind in
        gnutls-serv)
            timeout 120 gnutls-serv --http --x509certfile "$cert" --x509keyfile "$key" -p "$sg_port" "$@" \
                >"$log" 2>&1 </dev/null & ;;
        openssl)
            timeout 120 openssl s_server -accept "127.0.0.1:$sg_port" -cert "$cert" -key "$key" -www \
                -naccept 4 "$@" >"$log" 2>&1 </dev/null & ;;
        esac
        sg_server_pid=$!
        w=0
        while [ $w -lt 100 ]; do
            [ -n "$(ss -Hltn "( sport = :$sg_port )" 2>/dev/null)" ] && return 0
            kill -0 "$sg_server_pid" 2>/dev/null || break
            sleep 0.1
            w=$((w + 1))
        done
        sg_stop_server
    done
    return 1
}

# row NAME "SERVER ARGS" "CLIENT ARGS" EXPECT...
#   SERVER ARGS: KIND CERT KEY [server options]; CLIENT ARGS: sspi_client options;
#   EXPECT: lines that must appear in the client output ("1 protocol: TLS 1.2", ...), or
#   "error: InitializeSecurityContextW: 0x..." for a refused handshake.
row()
{
    name=$1 server=$2 client_args=$3
    shift 3
    # shellcheck disable=SC2086
    if ! start $server; then
        echo "client-matrix: $name ... FAIL (server did not start)"
        tail -n 5 "$tmp/server.log" 2>/dev/null | sed 's/^/    server: /'
        failed=$((failed + 1))
        return
    fi
    # shellcheck disable=SC2086
    client $client_args 127.0.0.1 "$sg_port" >"$tmp/client.raw" 2>"$tmp/client.err"
    rc=$?
    sg_stop_server
    tr -d '\r' <"$tmp/client.raw" >"$tmp/client.out"
    why=
    for want in "$@"; do
        grep -qxF "$want" "$tmp/client.out" || why="missing \"$want\""
    done
    case "$*" in
    *error:*) [ $rc -ne 0 ] || why="client succeeded" ;;
    *) [ $rc -eq 0 ] || why="${why:-exit status $rc}" ;;
    esac
    if [ -n "$server_want" ] && ! grep -qF "$server_want" "$tmp/server.log"; then
        why="${why:-the server did not log \"$server_want\"}"
    fi
    server_want=
    if [ -z "$why" ]; then
        echo "client-matrix: $name ... PASS"
        passed=$((passed + 1))
    else
        echo "client-matrix: $name ... FAIL ($why)"
        sed 's/^/    client: /' "$tmp/client.out"
        grep -v '^$' "$tmp/client.err" | tail -n 10 | sed 's/^/    stderr: /'
        tail -n 10 "$tmp/server.log" | sed 's/^/    server: /'
        failed=$((failed + 1))
    fi
}

rsa="$data/server-rsa.pem $data/server-rsa-key.pem"
ec="$data/server-ecdsa.pem $data/server-ecdsa-key.pem"
legacy_ossl="-cipher DEFAULT@SECLEVEL=0"
legacy_gnutls="--priority NORMAL:+VERS-TLS1.1:+VERS-TLS1.0:+SHA1:+SIGN-ALL"
ok200='1 status: HTTP/1.0 200 ok'

# Protocols and key types (manual validation: the committed CA is not trusted).
row "openssl TLS1.3 RSA"       "openssl $rsa"              "--proto 13" "1 protocol: TLS 1.3" "$ok200"
row "openssl TLS1.3 ECDSA"     "openssl $ec"               "--proto 13" "1 protocol: TLS 1.3" "$ok200"
row "openssl TLS1.2 RSA"       "openssl $rsa"              "--proto 12" "1 protocol: TLS 1.2" "$ok200"
row "openssl TLS1.2 ECDSA"     "openssl $ec"               "--proto 12" "1 protocol: TLS 1.2" "$ok200"
row "openssl TLS1.1 RSA"       "openssl $rsa $legacy_ossl" "--proto 11" "1 protocol: TLS 1.1" "$ok200"
row "openssl TLS1.0 ECDSA"     "openssl $ec $legacy_ossl"  "--proto 10" "1 protocol: TLS 1.0" "$ok200"
row "gnutls-serv TLS1.3 RSA"   "gnutls-serv $rsa"          "--proto 13" "1 protocol: TLS 1.3"
row "gnutls-serv TLS1.3 ECDSA" "gnutls-serv $ec"           "--proto 13" "1 protocol: TLS 1.3"
row "gnutls-serv TLS1.2 RSA"   "gnutls-serv $rsa"          "--proto 12" "1 protocol: TLS 1.2"
row "gnutls-serv TLS1.2 ECDSA" "gnutls-serv $ec"           "--proto 12" "1 protocol: TLS 1.2"
row "gnutls-serv TLS1.1 RSA"   "gnutls-serv $rsa $legacy_gnutls" "--proto 11" "1 protocol: TLS 1.1"
row "gnutls-serv TLS1.0 RSA"   "gnutls-serv $rsa $legacy_gnutls" "--proto 10" "1 protocol: TLS 1.0"

# ALPN.
row "openssl ALPN h2"          "openssl $rsa -alpn h2,http/1.1"   "--alpn h2,http/1.1" "1 alpn: h2"
row "openssl ALPN http/1.1"    "openssl $rsa -alpn http/1.1"      "--alpn h2,http/1.1" "1 alpn: http/1.1"
row "gnutls-serv ALPN h2"      "gnutls-serv $ec --alpn=h2"        "--alpn h2,http/1.1" "1 alpn: h2"
row "openssl no ALPN offered"  "openssl $rsa -alpn h2"            "" "1 alpn: none"
# OpenSSL answers an offer it cannot meet with no_application_protocol.
row "openssl ALPN mismatch"    "openssl $rsa -alpn spdy/3"        "--alpn h2" \
    "error: InitializeSecurityContextW: 0x80090367"

# Resumption on a second connection with the same credential handle.
row "openssl TLS1.3 resumption"     "openssl $rsa"     "--proto 13 --connections 2" "1 resumed: 0" "2 resumed: 1"
row "openssl TLS1.2 resumption"     "openssl $ec"      "--proto 12 --connections 2" "1 resumed: 0" "2 resumed: 1"
row "gnutls-serv TLS1.3 resumption" "gnutls-serv $rsa" "--proto 13 --connections 2" "1 resumed: 0" "2 resumed: 1"
row "gnutls-serv TLS1.2 resumption" "gnutls-serv $ec"  "--proto 12 --connections 2" "1 resumed: 0" "2 resumed: 1"

# Re-authentication: InitializeSecurityContext again on the established context. TLS 1.2: a
# client-initiated renegotiation (gnutls-serv accepts it; OpenSSL 3 only with
# -client_renegotiation, and refuses it otherwise with a no_renegotiation warning alert,
# which the table of alerts maps to SEC_E_ILLEGAL_MESSAGE); TLS 1.3 has none.
row "gnutls-serv TLS1.2 re-authentication" "gnutls-serv $rsa" "--proto 12 --renegotiate" \
    "1 renegotiated: TLS 1.2" "1 protocol: TLS 1.2"
row "openssl TLS1.2 re-authentication" "openssl $ec -client_renegotiation" "--proto 12 --renegotiate" \
    "1 renegotiated: TLS 1.2" "$ok200"
row "openssl TLS1.2 re-authentication refused" "openssl $rsa" "--proto 12 --renegotiate" \
    "error: InitializeSecurityContextW: 0x80090326"
row "openssl TLS1.3 re-authentication (none)" "openssl $rsa" "--proto 13 --renegotiate" \
    "1 renegotiated: none" "$ok200"

# Client certificates (the servers trust the generated CA that issued ours).
cli="--client-pfx $certs/client.pfx"
row "openssl TLS1.3 client cert requested" "openssl $rsa -verify 1 -CAfile $certs/ca.pem" "--proto 13 $cli" "$ok200"
row "openssl TLS1.3 client cert required"  "openssl $rsa -Verify 1 -CAfile $certs/ca.pem" "--proto 13 $cli" "$ok200"
row "openssl TLS1.2 client cert required"  "openssl $ec -Verify 1 -CAfile $certs/ca.pem"  "--proto 12 $cli" "$ok200"
row "gnutls-serv TLS1.2 client cert required" \
    "gnutls-serv $rsa --require-client-cert --verify-client-cert --x509cafile $certs/ca.pem" "--proto 12 $cli" \
    "1 protocol: TLS 1.2"
# No certificate in the credential: SEC_I_INCOMPLETE_CREDENTIALS with the server's CA list
# (SECPKG_ATTR_ISSUER_LIST_EX), then a new credential (.NET) or none (curl) on the next call.
late="--late-pfx $certs/client.pfx"
asked='1 incomplete credentials: 1 issuers, SG client matrix CA'
row "openssl TLS1.3 cert required, new credential" "openssl $rsa -Verify 1 -CAfile $certs/ca.pem" \
    "--proto 13 $late" "$asked" "$ok200"
row "openssl TLS1.2 cert required, new credential" "openssl $ec -Verify 1 -CAfile $certs/ca.pem" \
    "--proto 12 $late" "$asked" "$ok200"
row "openssl TLS1.1 cert required, new credential" "openssl $rsa $legacy_ossl -Verify 1 -CAfile $certs/ca.pem" \
    "--proto 11 $late" "$asked" "1 protocol: TLS 1.1" "$ok200"
row "gnutls-serv TLS1.3 cert required, new credential" \
    "gnutls-serv $rsa --require-client-cert --verify-client-cert --x509cafile $certs/ca.pem" "--proto 13 $late" \
    "$asked" "1 protocol: TLS 1.3"
row "openssl TLS1.3 cert requested, none sent"   "openssl $rsa -verify 1 -CAfile $certs/ca.pem" "--proto 13" \
    "$asked" "$ok200"
row "openssl TLS1.2 cert requested, none sent"   "openssl $rsa -verify 1 -CAfile $certs/ca.pem" "--proto 12" \
    "$asked" "$ok200"
row "openssl TLS1.3 USE_SUPPLIED_CREDS, no ask"  "openssl $rsa -verify 1 -CAfile $certs/ca.pem" \
    "--proto 13 --supplied" "$ok200"
row "openssl TLS1.2 cert required, none sent"    "openssl $rsa -Verify 1 -CAfile $certs/ca.pem" "--proto 12" \
    "error: InitializeSecurityContextW: 0x80090326"
# Default credentials: our certificate in the MY store of the test prefix is sent without
# asking when the server names its issuer, not when it names only another authority.
if client --add-my "$certs/client.pfx" | tr -d '\r' | grep -qx "my store: ok"; then
    mystore=$certs/client.pfx
    row "openssl TLS1.3 cert required, default from MY" "openssl $rsa -Verify 1 -CAfile $certs/ca.pem" \
        "--proto 13 --default-creds" "1 protocol: TLS 1.3" "$ok200"
    row "openssl TLS1.2 cert required, default from MY" "openssl $ec -Verify 1 -CAfile $certs/ca.pem" \
        "--proto 12 --default-creds" "1 protocol: TLS 1.2" "$ok200"
    # No match: on without a certificate (Windows would return SEC_I_INCOMPLETE_CREDENTIALS,
    # see dlls/secur32/clientcert.c), and never the MY certificate the server did not name.
    row "openssl TLS1.2 other CA named, MY not used" "openssl $rsa -verify 1 -CAfile $certs/other.pem" \
        "--proto 12 --default-creds" "1 protocol: TLS 1.2" "$ok200"
    row "openssl TLS1.3 NO_DEFAULT_CREDS, MY not used" "openssl $rsa -verify 1 -CAfile $certs/ca.pem" \
        "--proto 13" "$asked" "$ok200"
    client --remove-my "$certs/client.pfx" >/dev/null 2>&1
    mystore=
else
    echo "client-matrix: default credential rows ... FAIL (cannot add the client certificate to the MY store)"
    failed=$((failed + 1))
fi

# Automatic validation with the generated root trusted in the test prefix.
if client --trust-root "$certs/ca.pem" | tr -d '\r' | grep -qx "trust root: ok"; then
    trusted=$certs/ca.pem
    v="--validate --target localhost"
    row "validation: valid chain"      "openssl $certs/valid.pem $certs/valid-key.pem"   "$v" "$ok200"
    row "validation: valid (IP)"       "gnutls-serv $certs/valid.pem $certs/valid-key.pem" "--validate" \
        "1 protocol: TLS 1.3"
    row "validation: expired"          "openssl $certs/expired.pem $certs/expired-key.pem" "$v" \
        "error: InitializeSecurityContextW: 0x80090328"
    row "validation: not yet valid"    "openssl $certs/future.pem $certs/future-key.pem" "$v" \
        "error: InitializeSecurityContextW: 0x80090328"
    row "validation: wrong host"       "openssl $certs/wronghost.pem $certs/wronghost-key.pem" "$v" \
        "error: InitializeSecurityContextW: 0x80090322"
    row "validation: wrong EKU"        "openssl $certs/wrongeku.pem $certs/wrongeku-key.pem" "$v" \
        "error: InitializeSecurityContextW: 0x80090349"
    row "validation: untrusted root"   "openssl $certs/untrusted.pem $certs/untrusted-key.pem" "$v" \
        "error: InitializeSecurityContextW: 0x80090325"
    row "validation: manual (expired)" "openssl $certs/expired.pem $certs/expired-key.pem" "--target localhost" \
        "$ok200"
    # Refused servers hear why: the SECBUFFER_ALERT bytes are sent (TLS 1.3: after our Finished).
    server_want="fatal alert has been received"
    row "validation: untrusted, alert sent (TLS1.2)" "gnutls-serv $certs/untrusted.pem $certs/untrusted-key.pem" \
        "$v --proto 12 --alert-buffer" "error: InitializeSecurityContextW: 0x80090325"
    server_want="fatal alert has been received"
    row "validation: untrusted, alert sent (TLS1.3)" "gnutls-serv $certs/untrusted.pem $certs/untrusted-key.pem" \
        "$v --proto 13 --alert-buffer" "error: InitializeSecurityContextW: 0x80090325"
    # Revocation (CRL distribution points; OCSP is not exercised).
    if [ -n "$crl_pid" ]; then
        r_closed="openssl $certs/revclosed.pem $certs/revclosed-key.pem"
        r_good="openssl $certs/revgood.pem $certs/revgood-key.pem"
        r_revoked="openssl $certs/revoked.pem $certs/revoked-key.pem"
        r_nocdp="openssl $certs/valid.pem $certs/valid-key.pem"
        row "revocation: CRL offline, END_CERT"  "$r_closed" "$v --revocation end" \
            "error: InitializeSecurityContextW: 0x80092013"
        row "revocation: CRL offline, CHAIN_EXCLUDE_ROOT" "$r_closed" "$v --revocation exclude-root" \
            "error: InitializeSecurityContextW: 0x80092013"
        row "revocation: CRL offline ignored"   "$r_closed" "$v --revocation end --ignore-offline" "$ok200"
        row "revocation: good, END_CERT"        "$r_good" "$v --revocation end" "$ok200"
        row "revocation: good, CHAIN"           "$r_good" "$v --revocation chain" "$ok200"
        row "revocation: revoked, END_CERT"     "$r_revoked" "$v --revocation end" \
            "error: InitializeSecurityContextW: 0x80092010"
        # Again, once Wine's cryptnet has cached its verdict (dlls/secur32/certverify.c).
        row "revocation: revoked, CHAIN (cached)" "$r_revoked" "$v --revocation chain" \
            "error: InitializeSecurityContextW: 0x80092010"
        row "revocation: revoked, offline ignored" "$r_revoked" "$v --revocation exclude-root --ignore-offline" \
            "error: InitializeSecurityContextW: 0x80092010"
        row "revocation: no CDP, END_CERT"      "$r_nocdp" "$v --revocation end" \
            "error: InitializeSecurityContextW: 0x80092012"
        row "revocation: no CDP, offline ignored" "$r_nocdp" "$v --revocation end --ignore-offline" \
            "error: InitializeSecurityContextW: 0x80092012"
        row "revocation: no CDP ignored"        "$r_nocdp" "$v --revocation chain --ignore-no-check" "$ok200"
        row "revocation: not asked (offline CDP)" "$r_closed" "$v" "$ok200"
    else
        echo "client-matrix: revocation rows ... SKIP (python3 not found for the CRL server)"
    fi
    client --untrust-root "$certs/ca.pem" >/dev/null 2>&1
    trusted=
    row "validation: root removed"     "openssl $certs/valid.pem $certs/valid-key.pem"   "$v" \
        "error: InitializeSecurityContextW: 0x80090325"
else
    echo "client-matrix: validation rows ... FAIL (cannot trust the generated root in the test prefix)"
    failed=$((failed + 1))
fi

echo "client-matrix: $passed passed, $failed failed"
[ $failed -eq 0 ]
