# Shell helpers (sourced, POSIX sh) that start and stop local TLS test servers.
# Used by tests/interop/run.sh and tools/demo.
#
#   sg_start_server KIND CERT KEY LOG   KIND: gnutls-serv | openssl
#       starts an HTTPS server on a free port in 20000-30000 and waits (at most 10 s)
#       until it listens; sets sg_server_pid and sg_port. Returns 1 if it cannot.
#       gnutls-serv 3.7 has no option for its listen address and binds every interface;
#       openssl s_server is bound to 127.0.0.1. Both are limited to 300 s by timeout(1).
#   sg_stop_server                      stops the server started last (safe to repeat)

sg_server_pid=
sg_port=

sg_port_is_free()
{
    # Any socket on that local port (listening, connected or TIME_WAIT) disqualifies it.
    [ -z "$(ss -Hant "( sport = :$1 )" 2>/dev/null)" ]
}

sg_pick_port()
{
    sg_i=0
    while [ $sg_i -lt 50 ]; do
        sg_n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        sg_p=$((20000 + sg_n % 10000))
        if sg_port_is_free "$sg_p"; then
            echo "$sg_p"
            return 0
        fi
        sg_i=$((sg_i + 1))
    done
    return 1
}

sg_stop_server()
{
    if [ -n "$sg_server_pid" ]; then
        kill "$sg_server_pid" 2>/dev/null || true
        wait "$sg_server_pid" 2>/dev/null || true
        sg_server_pid=
    fi
    return 0
}

sg_start_server()
{
    sg_kind=$1 sg_cert=$2 sg_key=$3 sg_log=$4
    sg_attempt=0
    while [ $sg_attempt -lt 5 ]; do
        sg_attempt=$((sg_attempt + 1))
        sg_port=$(sg_pick_port) || return 1
        case $sg_kind in
        gnutls-serv)
            timeout 300 gnutls-serv --http --x509certfile "$sg_cert" --x509keyfile "$sg_key" \
                -p "$sg_port" >"$sg_log" 2>&1 </dev/null &
            ;;
        openssl)
            timeout 300 openssl s_server -accept "127.0.0.1:$sg_port" -cert "$sg_cert" \
                -key "$sg_key" -www -naccept 1 >"$sg_log" 2>&1 </dev/null &
            ;;
        *)
            echo "sg_start_server: unknown server kind $sg_kind" >&2
            return 1
            ;;
        esac
        sg_server_pid=$!
        sg_w=0
        while [ $sg_w -lt 100 ]; do
            if [ -n "$(ss -Hltn "( sport = :$sg_port )" 2>/dev/null)" ]; then
                return 0
            fi
            kill -0 "$sg_server_pid" 2>/dev/null || break   # died: port taken? try another
            sleep 0.1
            sg_w=$((sg_w + 1))
        done
        sg_stop_server
    done
    return 1
}
