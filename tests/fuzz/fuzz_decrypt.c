/*
 * libFuzzer harness: record-layer input to an established engine session (unix_decrypt),
 * TLS 1.2 (AEAD and CBC) and TLS 1.3, before and after key updates.
 *
 * Our side is an engine session; the peer is a plain GnuTLS session over memory, so it can
 * send what the engine cannot make it send: key updates, alerts, renegotiation requests,
 * tickets, close_notify, empty records. Records are under the session keys, so the fuzzer
 * reaches the state machine behind authentication; raw edits reach the framing code.
 *
 * Input layout: byte 0 bit 0 our role (client/server), bits 1-2 suite family (TLS 1.3,
 * TLS 1.2 GCM, TLS 1.2 CBC, TLS 1.3 ChaCha20), bit 3 ECDSA server key. The rest is a script of
 * operations, one byte each plus arguments (see run_script).
 * Invariant: as long as no byte on the wire was edited, every byte the peer sent arrives
 * intact and in order, and whatever we seal the peer opens intact.
 */

#include <errno.h>
#include <sys/types.h>

#include "fuzz_common.h"

static gnutls_certificate_credentials_t peer_certs[2];
static uint64_t client_creds[4], server_creds[2][4];

static const char *const peer_priorities[4] =
{
    "NORMAL:-VERS-ALL:+VERS-TLS1.3",
    "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM",
    "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:%NO_ETM",
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const names[2][2] = { { "server-rsa.pem", "server-rsa-key.pem" },
                                            { "server-ecdsa.pem", "server-ecdsa-key.pem" } };
    int i, e;

    (void)argc;
    (void)argv;
    fz_load_material();
    for (e = 0; e < 2; e++)
    {
        gnutls_datum_t cert = fz_load_file(names[e][0]), key = fz_load_file(names[e][1]);
        FZ_ASSERT(gnutls_certificate_allocate_credentials(&peer_certs[e]) >= 0);
        FZ_ASSERT(gnutls_certificate_set_x509_key_mem(peer_certs[e], &cert, &key, GNUTLS_X509_FMT_PEM) >= 0);
        gnutls_free(cert.data);
        gnutls_free(key.data);
    }
    for (i = 0; i < 4; i++)
    {
        uint32_t proto = (i == 0 || i == 3) ? SG_PROTO_TLS1_3 : SG_PROTO_TLS1_2;
        client_creds[i] = fz_cred(SG_CRED_CLIENT, proto, 0);
        for (e = 0; e < 2; e++) server_creds[e][i] = fz_cred(SG_CRED_SERVER, proto, e);
    }
    return 0;
}

/* ---- the native peer ---- */

struct peer
{
    gnutls_session_t tls;
    struct fz_bytes *to_us;       /* what it sends */
    struct fz_bytes *to_peer;     /* what it reads */
};

static ssize_t peer_push(gnutls_transport_ptr_t ptr, const void *data, size_t size)
{
    struct peer *p = ptr;
    fz_append(p->to_us, data, size);
    return size;
}

static ssize_t peer_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
    struct peer *p = ptr;
    size_t n = p->to_peer->len < size ? p->to_peer->len : size;

    if (!n)
    {
        gnutls_transport_set_errno(p->tls, EAGAIN);
        return -1;
    }
    memcpy(data, p->to_peer->data, n);
    fz_drop(p->to_peer, n);
    return n;
}

static int peer_init(struct peer *p, int server, int family, int ecdsa)
{
    if (gnutls_init(&p->tls, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK) < 0) return -1;
    if (gnutls_priority_set_direct(p->tls, peer_priorities[family], NULL) < 0) return -1;
    gnutls_credentials_set(p->tls, GNUTLS_CRD_CERTIFICATE, peer_certs[ecdsa]);
    gnutls_transport_set_ptr(p->tls, p);
    gnutls_transport_set_push_function(p->tls, peer_push);
    gnutls_transport_set_pull_function(p->tls, peer_pull);
    gnutls_handshake_set_timeout(p->tls, 0);
    return 0;
}

/* Reads everything the peer can; plaintext appended to *plain. Returns the last result. */
static int peer_read(struct peer *p, struct fz_bytes *plain)
{
    uint8_t buf[16384];
    int guard;

    for (guard = 0; guard < 1000; guard++)
    {
        ssize_t n = gnutls_record_recv(p->tls, buf, sizeof(buf));
        if (n > 0) fz_append(plain, buf, n);
        else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        {
            if (!p->to_peer->len) return GNUTLS_E_AGAIN;
        }
        else if (n != GNUTLS_E_WARNING_ALERT_RECEIVED && n != GNUTLS_E_REHANDSHAKE) return n;
    }
    return GNUTLS_E_AGAIN;
}

/* ---- the script ---- */

struct state
{
    uint64_t ours;
    struct sg_session_info info;
    struct peer peer;
    int tls13, server, tainted, closed, failed;
    uint32_t fail_status;
    struct fz_bytes to_us, to_peer;
    struct fz_bytes expect_us, got_us;     /* peer -> us */
    struct fz_bytes expect_peer, got_peer; /* us -> peer */
    uint8_t counter;
};

static void deliver(struct state *st, size_t limit)
{
    struct fz_bytes window = { 0 };
    uint32_t status;
    size_t n = limit < st->to_us.len ? limit : st->to_us.len;

    if (st->failed)
    {
        /* A session that failed inside GnuTLS keeps failing, whatever it is given. (Framing
         * errors found before GnuTLS sees the record consume nothing and are not sticky.) */
        status = fz_open_all(st->ours, &st->to_us, &st->got_us);
        FZ_ASSERT(status == st->fail_status);
        return;
    }
    fz_append(&window, st->to_us.data, n);
    status = fz_open_all(st->ours, &window, &st->got_us);
    /* Put back what was not read, ahead of what was held back. */
    fz_append(&window, fz_at(&st->to_us, n), st->to_us.len - n);
    fz_free(&st->to_us);
    st->to_us = window;
    if (status == SG_CLOSED) st->closed = 1;
    if (status != SG_OK && status != SG_INCOMPLETE && status != SG_CLOSED && status != SG_RENEGOTIATE)
    {
        FZ_ASSERT(st->tainted || status == SG_ERR_ILLEGAL_MESSAGE || status == SG_ERR_INVALID_TOKEN
                  || status == SG_ERR_DECRYPT);
        /* Framing errors the engine finds before GnuTLS sees the record (not TLS at all, too
         * short to be protected) leave the session alive; everything else is sticky. An empty
         * call tells which: a live session asks for more. */
        struct sg_decrypt_params probe;

        memset(&probe, 0, sizeof(probe));
        probe.session = st->ours;
        FZ_ASSERT(!fz_call(unix_decrypt, &probe));
        if (probe.status == SG_INCOMPLETE)
        {
            FZ_ASSERT(status == SG_ERR_INVALID_TOKEN || status == SG_ERR_DECRYPT);
            if (status == SG_ERR_INVALID_TOKEN && st->to_us.len) fz_drop(&st->to_us, 1);
        }
        else
        {
            FZ_ASSERT(probe.status == status);
            st->failed = 1;
            st->fail_status = status;
        }
    }
    if (!st->tainted)
    {
        FZ_ASSERT(st->got_us.len <= st->expect_us.len);
        FZ_ASSERT(!st->got_us.len || !memcmp(st->got_us.data, st->expect_us.data, st->got_us.len));
    }
}

static void fill(struct state *st, uint8_t *buf, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) buf[i] = (uint8_t)(st->counter + i * 7);
    st->counter++;
}

static void run_script(struct state *st, struct fz_input *in)
{
    static uint8_t buf[16384 + 64];
    int steps = 0;

    while (fz_left(in) && steps++ < 64)
    {
        uint8_t op = fz_byte(in) % 13, a = fz_byte(in), b = fz_byte(in);
        size_t len;

        switch (op)
        {
        case 0: /* the peer sends application data */
            len = (((size_t)a << 8 | b) % 16384) + 1;
            fill(st, buf, len);
            if (gnutls_record_send(st->peer.tls, buf, len) == (ssize_t)len) fz_append(&st->expect_us, buf, len);
            break;
        case 1: /* key update, with or without asking us for one */
            if (st->tls13) gnutls_session_key_update(st->peer.tls, (a & 1) ? GNUTLS_KU_PEER : 0);
            break;
        case 2:
            gnutls_alert_send(st->peer.tls, GNUTLS_AL_WARNING, a);
            break;
        case 3:
            gnutls_alert_send(st->peer.tls, GNUTLS_AL_FATAL, a);
            break;
        case 4: /* renegotiation request (TLS 1.2), ticket (TLS 1.3 server) */
            if (!st->tls13 && !st->server) gnutls_rehandshake(st->peer.tls);
            else if (!st->tls13) gnutls_handshake(st->peer.tls);
            else if (!st->server) gnutls_session_ticket_send(st->peer.tls, 1, 0);
            break;
        case 5:
            gnutls_bye(st->peer.tls, GNUTLS_SHUT_WR);
            break;
        case 6: /* flip bits on the wire */
            if (st->to_us.len && b)
            {
                st->to_us.data[((size_t)a << 8 | fz_byte(in)) % st->to_us.len] ^= b;
                st->tainted = 1;
            }
            break;
        case 7: /* cut the wire */
            if (st->to_us.len)
            {
                st->to_us.len = ((size_t)a << 8 | b) % st->to_us.len;
                st->tainted = 1;
            }
            break;
        case 8: /* raw bytes from the input */
            len = a % 64;
            if (len > fz_left(in)) len = fz_left(in);
            fz_append(&st->to_us, in->data + in->pos, len);
            in->pos += len;
            if (len) st->tainted = 1;
            break;
        case 9: /* replay the first bytes of what is in flight */
            len = ((size_t)a << 8 | b) % (st->to_us.len + 1);
            if (len)
            {
                struct fz_bytes copy = { 0 };
                fz_append(&copy, st->to_us.data, len);
                fz_append(&st->to_us, copy.data, copy.len);
                fz_free(&copy);
                st->tainted = 1;
            }
            break;
        case 10:
            deliver(st, ((size_t)a << 8 | b) ? ((size_t)a << 8 | b) : (size_t)-1);
            break;
        case 11: /* we send, the peer reads */
            if (st->failed || st->closed) break;
            len = (((size_t)a << 8 | b) % st->info.max_message) + 1;
            fill(st, buf, len);
            if (fz_seal(st->ours, &st->info, buf, len, &st->to_peer) == SG_OK) fz_append(&st->expect_peer, buf, len);
            peer_read(&st->peer, &st->got_peer);
            FZ_ASSERT(st->got_peer.len <= st->expect_peer.len);
            FZ_ASSERT(!st->got_peer.len || !memcmp(st->got_peer.data, st->expect_peer.data, st->got_peer.len));
            break;
        case 12: /* a flood of empty records */
            for (len = 0; len < a; len++) gnutls_record_send(st->peer.tls, buf, 0);
            break;
        }
    }
    deliver(st, (size_t)-1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_input in = { data, size, 0 };
    uint8_t config = fz_byte(&in);
    int family = (config >> 1) & 3, ecdsa = !!(config & 8), round, peer_done = 0, ours_done = 0;
    struct state st;
    struct sg_handshake_params p;

    memset(&st, 0, sizeof(st));
    st.server = config & 1;
    st.tls13 = family == 0 || family == 3;
    st.ours = st.server ? fz_session(server_creds[ecdsa][family], 1) : fz_session(client_creds[family], 0);
    st.peer.to_us = &st.to_us;
    st.peer.to_peer = &st.to_peer;
    FZ_ASSERT(!peer_init(&st.peer, !st.server, family, ecdsa));

    for (round = 0; round < 10 && !(peer_done && ours_done); round++)
    {
        if (!ours_done && (!st.server || st.to_us.len))
        {
            p = fz_step(st.ours, &st.to_us, &st.to_peer, 65536);
            if (p.status == SG_OK) { ours_done = 1; st.info = p.info; }
            FZ_ASSERT(!fz_handshake_failed(p.status));
        }
        if (!peer_done)
        {
            int ret = gnutls_handshake(st.peer.tls);
            if (!ret) peer_done = 1;
            FZ_ASSERT(ret == 0 || ret == GNUTLS_E_AGAIN);
        }
    }
    FZ_ASSERT(peer_done && ours_done);
    /* The peer's last flight (TLS 1.2 server Finished, TLS 1.3 tickets) is read with the records. */
    if (st.to_peer.len) peer_read(&st.peer, &st.got_peer);

    run_script(&st, &in);

    gnutls_deinit(st.peer.tls);
    fz_session_free(st.ours);
    fz_free(&st.to_us);
    fz_free(&st.to_peer);
    fz_free(&st.expect_us);
    fz_free(&st.got_us);
    fz_free(&st.expect_peer);
    fz_free(&st.got_peer);
    return 0;
}
