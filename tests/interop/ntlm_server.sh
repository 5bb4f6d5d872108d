#!/bin/sh
# Run a command with a private Samba account database and winbindd, so that the NTLM
# server side of Wine's msv1_0.dll (Samba's "ntlm_auth --helper-protocol=squid-2.5-ntlmssp",
# which asks winbindd to check the client's response) can verify a known local account.
#
# Usage: tests/interop/ntlm_server.sh COMMAND [ARGS...]
#
# Everything happens inside a private mount namespace (unshare -m, as root), so the
# machine's own Samba configuration, passwd file and winbindd are neither used nor changed:
#   - a temporary directory holds an smb.conf (standalone server, tdbsam passdb) and all
#     of Samba's state, lock, cache, pid and log directories;
#   - that smb.conf is bind-mounted over the default configuration directory (ntlm_auth is
#     started by Wine without --configfile), a private directory over the parent of the
#     compiled-in winbindd socket directory (libwbclient ignores smb.conf for it), and a
#     copy of /etc/passwd with one extra account over /etc/passwd (smbpasswd -a wants a
#     Unix account);
#   - the account gets a random password in the private passdb (smbpasswd -a);
#   - winbindd -F runs in the background for at most SG_NTLM_TIMEOUT seconds (default
#     900) and is stopped, with its children, when the command ends (trap);
#   - "wbinfo -a" checks that a challenge/response logon works before COMMAND starts.
# COMMAND then runs with SG_NTLM_USER, SG_NTLM_PASSWORD, SG_NTLM_DOMAIN and SG_NTLM_ESS set;
# the account is "SG_NTLM_DOMAIN\SG_NTLM_USER" (the domain is the private NetBIOS name).
#
# SG_NTLM_ESS (yes|no, default no): whether both ntlm_auth sides negotiate NTLM2 "extended
# session security" (and NTLMv2 responses only). Wine 8.0's msv1_0 never derives the NTLM2
# sign/seal keys of a SERVER context, so with ESS its server side cannot verify, open, sign
# or seal any message (later Wine versions fix this). With "no", Samba negotiates neither
# ESS (ntlmssp_server:ntlm2 / ntlmssp_client:ntlm2 = no) nor, as a consequence, NTLMv2
# responses (ntlm auth = ntlmv1-permitted), and Wine's legacy RC4 message protection works on
# both sides. These are test-only settings of the private configuration; the
# conformance test reads SG_NTLM_ESS to know which checks Wine 8.0 can pass.
#
# Exit status: COMMAND's. When a prerequisite is missing (not root, no unshare or
# winbindd/wbinfo/smbpasswd, mount namespaces not allowed) COMMAND runs unchanged, without
# the SG_NTLM_* variables, and a line on stderr says why. When everything is there but
# winbindd does not start or does not authenticate, the script prints winbindd's log and
# exits 1 without running COMMAND: that is a broken setup, not a missing one.
set -u

me=$0
limit=${SG_NTLM_TIMEOUT:-900}
ess=${SG_NTLM_ESS:-no}
case $ess in
no) ntlm_auth_level=ntlmv1-permitted ;;
yes) ntlm_auth_level=ntlmv2-only ;;
*) echo "ntlm_server: SG_NTLM_ESS must be yes or no" >&2; exit 2 ;;
esac

say()
{
    echo "ntlm_server: $*" >&2
}

run_plain()
{
    say "no private winbindd ($1); running without SG_NTLM_* (server-side NTLM checks skipped)"
    shift
    unset SG_NTLM_USER SG_NTLM_PASSWORD SG_NTLM_DOMAIN SG_NTLM_ESS
    exec "$@"
}

[ $# -ge 1 ] || { echo "usage: $me COMMAND [ARGS...]" >&2; exit 2; }

if [ "${1:-}" != "--inside" ]; then
    # Outside the namespace: check the prerequisites, then re-run this script inside one.
    reason=
    if [ "$(id -u)" != 0 ]; then
        reason="not root"
    else
        for tool in unshare winbindd wbinfo smbpasswd testparm ntlm_auth; do
            command -v "$tool" >/dev/null 2>&1 || { reason="$tool not found"; break; }
        done
    fi
    if [ -z "$reason" ] && ! unshare -m true 2>/dev/null; then
        reason="unshare -m not permitted"
    fi
    [ -z "$reason" ] || run_plain "$reason" "$@"
    # unshare -m makes the new namespace's mounts private (no propagation back).
    exec unshare -m --propagation private -- /bin/sh "$me" --inside "$@"
fi
shift

# ---- inside the private mount namespace ----------------------------------------------

# Where Samba looks without --configfile, and where libwbclient looks for winbindd.
conf_default=$(testparm -s --parameter-name=workgroup 2>&1 >/dev/null </dev/null |
    sed -n 's/^Load smb config files from //p' | head -n 1)
conf_default=${conf_default:-/etc/samba/smb.conf}
conf_dir=$(dirname "$conf_default")
sock_dir=$(testparm -s --parameter-name="winbindd socket directory" /dev/null 2>/dev/null </dev/null)
sock_dir=${sock_dir:-/run/samba/winbindd}
sock_parent=$(dirname "$sock_dir")

[ -d "$conf_dir" ] || run_plain "no $conf_dir to mount over" "$@"
# The compiled-in socket directory's parent is normally there (the winbind package
# creates it at boot); if it is not, it is created only when it lies in the volatile /run.
if [ ! -d "$sock_parent" ]; then
    case $sock_parent in
    /run/*) mkdir -p "$sock_parent" || run_plain "cannot create $sock_parent" "$@" ;;
    *) run_plain "no $sock_parent to mount over" "$@" ;;
    esac
fi

priv=$(mktemp -d /tmp/sg-ntlm.XXXXXX) || exit 1
wb_pid=
wb_real=
wb_children=

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup()
{
    if [ -n "$wb_pid" ]; then
        if [ -z "$wb_real" ] && [ -f "$priv/run/winbindd.pid" ]; then
            wb_real=$(cat "$priv/run/winbindd.pid" 2>/dev/null)
        fi
        if [ -n "$wb_real" ]; then
            wb_children=$(ps -o pid= --ppid "$wb_real" 2>/dev/null | tr -d ' ')
        fi
        # Children first, so that winbindd itself reaps them before it goes.
        if [ -n "$wb_children" ]; then
            # shellcheck disable=SC2086
            kill $wb_children 2>/dev/null
            i=0
            while [ "$i" -lt 20 ]; do
                alive=
                for p in $wb_children; do
                    [ -d "/proc/$p" ] && alive=yes
                done
                [ -n "$alive" ] || break
                sleep 0.1
                i=$((i + 1))
            done
        fi
        kill "$wb_pid" 2>/dev/null
        [ -n "$wb_real" ] && kill "$wb_real" 2>/dev/null
        i=0
        while [ "$i" -lt 50 ] && kill -0 "$wb_pid" 2>/dev/null; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$wb_pid" 2>/dev/null
        wait "$wb_pid" 2>/dev/null
        for p in $wb_real $wb_children; do
            if kill -0 "$p" 2>/dev/null; then
                # Only kill it if it still is one of our winbindd processes.
                case $(cat "/proc/$p/comm" 2>/dev/null) in
                winbindd*) kill -9 "$p" 2>/dev/null ;;
                esac
            fi
        done
        wb_pid=
    fi
    rm -rf "$priv"
}
trap 'cleanup' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$priv/etc" "$priv/sock" "$priv/lib/private" "$priv/cache" "$priv/run" "$priv/log" || exit 1
chmod 755 "$priv"

user=sgntlm
domain=SGNTLM
# A fresh random password each run: 16 hex digits plus characters of other classes.
password="Sg-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')!"

cat >"$priv/etc/smb.conf" <<EOF
# Private configuration for tests/interop/ntlm_server.sh (a temporary directory).
[global]
    workgroup = SGTEST
    netbios name = $domain
    server role = standalone server
    security = user
    passdb backend = tdbsam:$priv/lib/private/passdb.tdb
    private dir = $priv/lib/private
    state directory = $priv/lib
    cache directory = $priv/cache
    lock directory = $priv/run
    pid directory = $priv/run
    ncalrpc dir = $priv/run/ncalrpc
    winbindd socket directory = $sock_dir
    log file = $priv/log/log.%m
    logging = file
    log level = 1
    load printers = no
    disable spoolss = yes
    idmap config * : backend = tdb
    idmap config * : range = 3000000-3999999
    ntlmssp_server:ntlm2 = $ess
    ntlmssp_client:ntlm2 = $ess
    ntlm auth = $ntlm_auth_level
EOF

# A Unix account for the passdb entry: a uid no one has, in the nogroup group.
uid=61000
while getent passwd "$uid" >/dev/null 2>&1; do
    uid=$((uid + 1))
done
gid=$(getent group nogroup | cut -d: -f3)
gid=${gid:-65534}
cp /etc/passwd "$priv/etc/passwd" || exit 1
echo "$user:x:$uid:$gid:schannel-gnutls NTLM test:/nonexistent:/usr/sbin/nologin" >>"$priv/etc/passwd"

# The configuration directory gets only our smb.conf; the socket directory's parent is ours.
mount --bind "$priv/etc/passwd" /etc/passwd || { say "bind mount of /etc/passwd failed"; exit 1; }
mkdir -p "$priv/confdir" && cp "$priv/etc/smb.conf" "$priv/confdir/$(basename "$conf_default")" || exit 1
mount --bind "$priv/confdir" "$conf_dir" || { say "bind mount over $conf_dir failed"; exit 1; }
mount --bind "$priv/sock" "$sock_parent" || { say "bind mount over $sock_parent failed"; exit 1; }
conf=$conf_default

if ! printf '%s\n%s\n' "$password" "$password" | smbpasswd -c "$conf" -a -s "$user" >"$priv/log/smbpasswd" 2>&1; then
    say "smbpasswd -a failed:"
    cat "$priv/log/smbpasswd" >&2
    exit 1
fi

timeout -k 5 "$limit" winbindd -F --no-process-group -s "$conf" </dev/null >"$priv/log/winbindd.out" 2>&1 &
wb_pid=$!

# Wait (at most 20 s) until winbindd answers and a challenge/response logon succeeds.
ready=no
i=0
while [ $i -lt 100 ]; do
    if ! kill -0 "$wb_pid" 2>/dev/null; then
        break
    fi
    if wbinfo -p >/dev/null 2>&1 &&
        wbinfo -a "$domain\\$user%$password" >"$priv/log/wbinfo" 2>&1 &&
        grep -q "challenge/response password authentication succeeded" "$priv/log/wbinfo"; then
        ready=yes
        break
    fi
    sleep 0.2
    i=$((i + 1))
done
[ -f "$priv/run/winbindd.pid" ] && wb_real=$(cat "$priv/run/winbindd.pid" 2>/dev/null)
if [ "$ready" != yes ]; then
    say "winbindd did not authenticate $domain\\$user; logs:"
    for f in "$priv/log/wbinfo" "$priv/log/winbindd.out" "$priv/log"/log.*; do
        [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
fi

SG_NTLM_USER=$user
SG_NTLM_PASSWORD=$password
SG_NTLM_DOMAIN=$domain
SG_NTLM_ESS=$ess
export SG_NTLM_USER SG_NTLM_PASSWORD SG_NTLM_DOMAIN SG_NTLM_ESS
"$@"
status=$?
exit $status
