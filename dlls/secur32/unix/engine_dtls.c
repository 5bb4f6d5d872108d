/*
 * secur32's Unix-side engine: DTLS sessions on GnuTLS's datagram mode.
 *
 * Transport: pull hands GnuTLS the records of the current call's datagram, one per pull
 * (GNUTLS_E_AGAIN after the last), and a step goes on while records are left; push stores each record GnuTLS sends (GnuTLS sends one record per push in DTLS) in a
 * queue, and every step hands the caller one datagram: as many queued records as fit in the
 * path MTU. A flight larger than the MTU is fragmented by GnuTLS (gnutls_dtls_set_mtu) and
 * handed out over several calls.
 *
 * Retransmission is driven by the caller, as Schannel's is: a handshake step without input
 * means "my timer fired"; GnuTLS then resends its last flight when its own retransmission
 * timer (1 s, doubling) has run out, else the step produces nothing.
 *
 * Server: the first ClientHello is answered by a HelloVerifyRequest whose cookie is bound to
 * the client's transport address (the caller's SECBUFFER_EXTRA); GnuTLS checks the cookie of
 * the repeated ClientHello.
 *
 * Records: one record per EncryptMessage (at most gnutls_dtls_get_data_mtu() bytes of data);
 * DecryptMessage opens the first record of a datagram. A replayed record (RFC 6347 4.1.2.6
 * window, kept here so that it can be told apart from GnuTLS's silent drops) and a record
 * that fails authentication are dropped without ending the session.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>
#include <gnutls/dtls.h>

#include "engine_dtls.h"
#include "engine_client.h"   /* engine_session_gnutls, engine_session_handshake_done */

#define DTLS_HEADER_SIZE 13
#define DTLS_RETRANSMIT_MS 1000
#define DTLS_TOTAL_TIMEOUT_MS (10 * 60 * 1000)
#define DTLS_MAX_QUEUE 64

struct record_queue
{
    uint8_t *data;
    size_t len, cap;
    size_t sizes[DTLS_MAX_QUEUE]; /* record lengths, in order */
    unsigned int count;           /* records queued */
    unsigned int next;            /* first record not handed out */
    size_t next_offset;           /* its offset in data */
};

struct engine_dtls
{
    struct engine_session *session;
    gnutls_session_t tls;
    int server;
    uint32_t mtu;
    const uint8_t *in;            /* the current call's datagram */
    size_t in_size;
    size_t in_offset;             /* its first record not handed to GnuTLS yet */
    struct record_queue out;
    uint8_t *capture;             /* encrypt: the sealed record goes here instead */
    size_t capture_size, capture_cap;
    int capture_failed;
    enum sg_status failed;
    gnutls_datum_t cookie_key;
    int cookie_verified;
    int handshake_started;        /* GnuTLS has seen a handshake step */
    /* replay window of the current read epoch (after the handshake) */
    int window_valid;
    uint16_t window_epoch;
    uint64_t window_max;
    uint64_t window_bits;
};

/* ---- transport ---- */

static size_t input_left(const struct engine_dtls *d)
{
    return d->in ? d->in_size - d->in_offset : 0;
}

/* The records of the current datagram are handed to GnuTLS one per pull, as if each came in a
 * datagram of its own. GnuTLS keeps the records of a datagram it stopped reading in its own
 * buffer, where a record that it ignores (say, a stray record of the peer's previous flight)
 * would end a handshake step with the rest of the datagram unread; one record per pull leaves
 * nothing behind, and the caller of gnutls_handshake() goes on while records are left. */
static size_t next_record_size(const struct engine_dtls *d)
{
    const uint8_t *p = d->in + d->in_offset;
    size_t left = input_left(d), size;

    if (left < DTLS_HEADER_SIZE) return left;   /* GnuTLS drops the runt */
    size = DTLS_HEADER_SIZE + (((size_t)p[11] << 8) | p[12]);
    return size < left ? size : left;
}

static ssize_t dtls_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
    struct engine_dtls *d = ptr;
    size_t record;

    if (!input_left(d))
    {
        gnutls_transport_set_errno(d->tls, EAGAIN);
        return -1;
    }
    record = next_record_size(d);
    if (size > record) size = record;  /* a longer record is truncated, as recv() does */
    memcpy(data, d->in + d->in_offset, size);
    d->in_offset += record;
    return size;
}

static int dtls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    struct engine_dtls *d = ptr;
    (void)ms;
    return input_left(d) ? 1 : 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    size_t n = *cap ? *cap : 2048;
    uint8_t *p;

    if (need <= *cap) return 0;
    while (n < need)
    {
        if (n > SIZE_MAX / 2) return -1;
        n *= 2;
    }
    if (!(p = realloc(*buf, n))) return -1;
    *buf = p;
    *cap = n;
    return 0;
}

static ssize_t dtls_push(gnutls_transport_ptr_t ptr, const void *data, size_t size)
{
    struct engine_dtls *d = ptr;
    struct record_queue *q = &d->out;

    if (d->capture)
    {
        /* Sealing one application record: it must be the only thing sent. */
        if (d->capture_size || size > d->capture_cap)
        {
            d->capture_failed = 1;
            gnutls_transport_set_errno(d->tls, EMSGSIZE);
            return -1;
        }
        memcpy(d->capture, data, size);
        d->capture_size = size;
        return size;
    }
    if (q->count == DTLS_MAX_QUEUE || grow(&q->data, &q->cap, q->len + size))
    {
        gnutls_transport_set_errno(d->tls, ENOMEM);
        return -1;
    }
    memcpy(q->data + q->len, data, size);
    q->len += size;
    q->sizes[q->count++] = size;
    return size;
}

static void queue_reset(struct record_queue *q)
{
    q->len = 0;
    q->count = q->next = 0;
    q->next_offset = 0;
}

static int queue_pending(const struct record_queue *q)
{
    return q->next < q->count;
}

/* Hands out the next datagram: queued records while they fit in the MTU (at least one). */
static enum sg_status queue_take(struct engine_dtls *d, uint8_t *output, size_t capacity, size_t *size, int *more)
{
    struct record_queue *q = &d->out;
    size_t total = 0;
    unsigned int n = q->next;

    *size = 0;
    *more = 0;
    if (!queue_pending(q)) return SG_OK;
    do total += q->sizes[n++];
    while (n < q->count && total + q->sizes[n] <= d->mtu);
    if (total > capacity) return SG_ERR_BUFFER_TOO_SMALL;
    memcpy(output, q->data + q->next_offset, total);
    q->next = n;
    q->next_offset += total;
    *size = total;
    if (queue_pending(q)) *more = 1;
    else queue_reset(q);
    return SG_OK;
}

static void set_input(struct engine_dtls *d, const uint8_t *data, size_t size)
{
    d->in = size ? data : NULL;
    d->in_size = size;
    d->in_offset = 0;
}

/* ---- errors ---- */

static enum sg_status map_dtls_error(int err)
{
    switch (err)
    {
    case GNUTLS_E_MEMORY_ERROR: return SG_ERR_NO_MEMORY;
    case GNUTLS_E_DECRYPTION_FAILED: return SG_ERR_DECRYPT;
    case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
    case GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET:
    case GNUTLS_E_RECORD_OVERFLOW:
    case GNUTLS_E_PARSING_ERROR:
    case GNUTLS_E_HANDSHAKE_TOO_LARGE:
        return SG_ERR_INVALID_TOKEN;
    case GNUTLS_E_NO_CIPHER_SUITES:
    case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
    case GNUTLS_E_INSUFFICIENT_SECURITY:
    case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
    case GNUTLS_E_NO_PRIORITIES_WERE_SET:
        return SG_ERR_ALGORITHM_MISMATCH;
    case GNUTLS_E_CERTIFICATE_ERROR:
    case GNUTLS_E_PK_SIG_VERIFY_FAILED:
    case GNUTLS_E_NO_CERTIFICATE_FOUND:
        return SG_ERR_BAD_CERT;
    case GNUTLS_E_INSUFFICIENT_CREDENTIALS: return SG_ERR_NO_CREDENTIALS;
    case GNUTLS_E_TIMEDOUT: return SG_ERR_ILLEGAL_MESSAGE;
    default:
        if (err == GNUTLS_E_FATAL_ALERT_RECEIVED || err == GNUTLS_E_UNEXPECTED_PACKET
            || err == GNUTLS_E_ILLEGAL_PARAMETER || err == GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER)
            return SG_ERR_ILLEGAL_MESSAGE;
        return SG_ERR_INTERNAL;
    }
}

static uint32_t fail_with_alert(struct engine_dtls *d, int err)
{
    int level, alert;

    if (err == GNUTLS_E_FATAL_ALERT_RECEIVED) return gnutls_alert_get(d->tls);
    alert = gnutls_error_to_alert(err, &level);
    if (alert < 0) return SG_ALERT_NONE;
    if (gnutls_alert_send(d->tls, GNUTLS_AL_FATAL, alert) < 0) return SG_ALERT_NONE;
    return alert;
}

/* ---- sessions ---- */

static const char *dtls_priority(uint32_t protocols)
{
    switch (protocols & (SG_PROTO_DTLS1_0 | SG_PROTO_DTLS1_2))
    {
    case SG_PROTO_DTLS1_0: return "NORMAL:-VERS-ALL:+VERS-DTLS1.0";
    case SG_PROTO_DTLS1_2: return "NORMAL:-VERS-ALL:+VERS-DTLS1.2";
    case SG_PROTO_DTLS1_0 | SG_PROTO_DTLS1_2: return "NORMAL:-VERS-ALL:+VERS-DTLS1.2:+VERS-DTLS1.0";
    default: return NULL;
    }
}

static struct engine_dtls *get_dtls(struct engine_session *session)
{
    return *engine_session_dtls(session);
}

int engine_session_is_datagram(struct engine_session *session)
{
    return get_dtls(session) != NULL;
}

enum sg_status engine_dtls_session_create(struct engine_cred *cred, int server, const char *server_name,
                                          size_t server_name_size, uint32_t protocols, uint32_t mtu,
                                          struct engine_session **out, int *library_error)
{
    const char *priority = dtls_priority(protocols);
    struct engine_session *session;
    struct engine_dtls *d;
    enum sg_status status;
    int ret;

    *out = NULL;
    *library_error = 0;
    if (!priority || (protocols & ~(SG_PROTO_DTLS1_0 | SG_PROTO_DTLS1_2))
        || mtu < SG_DTLS_MIN_MTU || mtu > SG_DTLS_MAX_MTU)
        return SG_ERR_INVALID_PARAMETER;
    status = engine_session_create_datagram(cred, server, server ? NULL : server_name,
                                            server ? 0 : server_name_size, &session, library_error);
    if (status != SG_OK) return status;
    if (!(d = calloc(1, sizeof(*d))))
    {
        engine_session_free(session);
        return SG_ERR_NO_MEMORY;
    }
    *engine_session_dtls(session) = d;   /* freed with the session from now on */
    d->session = session;
    d->tls = engine_session_gnutls(session);
    d->server = server;
    d->mtu = mtu;
    d->failed = SG_OK;

    if ((ret = gnutls_priority_set_direct(d->tls, priority, NULL)) < 0) goto fail;
    if (server && (ret = gnutls_key_generate(&d->cookie_key, GNUTLS_COOKIE_KEY_SIZE)) < 0) goto fail;
    gnutls_transport_set_ptr(d->tls, d);
    gnutls_transport_set_push_function(d->tls, dtls_push);
    gnutls_transport_set_pull_function(d->tls, dtls_pull);
    gnutls_transport_set_pull_timeout_function(d->tls, dtls_pull_timeout);
    gnutls_dtls_set_mtu(d->tls, mtu);
    gnutls_dtls_set_timeouts(d->tls, DTLS_RETRANSMIT_MS, DTLS_TOTAL_TIMEOUT_MS);
    *out = session;
    return SG_OK;

fail:
    *library_error = ret;
    engine_session_free(session);
    return ret == GNUTLS_E_MEMORY_ERROR ? SG_ERR_NO_MEMORY : SG_ERR_INTERNAL;
}

void engine_dtls_free(struct engine_dtls *d)
{
    if (!d) return;
    if (d->out.data) gnutls_memset(d->out.data, 0, d->out.cap);
    free(d->out.data);
    if (d->cookie_key.data)
    {
        gnutls_memset(d->cookie_key.data, 0, d->cookie_key.size);
        gnutls_free(d->cookie_key.data);
    }
    free(d);
}

/* The largest plaintext whose record, with the most padding, fits in one datagram. */
static uint32_t max_message(struct engine_dtls *d, const struct sg_session_info *info)
{
    uint32_t data_mtu = gnutls_dtls_get_data_mtu(d->tls);
    uint32_t overhead = info->header_size + info->trailer_size;
    uint32_t room = d->mtu > overhead ? d->mtu - overhead : 0;

    return data_mtu < room ? data_mtu : room;
}

static void describe(struct engine_dtls *d, struct sg_session_info *info)
{
    gnutls_protocol_t version = gnutls_protocol_get_version(d->tls);

    /* engine.c describes a TLS record; a DTLS header also carries epoch and sequence number. */
    info->protocol = version == GNUTLS_DTLS1_0 ? SG_PROTO_DTLS1_0 : SG_PROTO_DTLS1_2;
    info->header_size += DTLS_HEADER_SIZE - 5;
    info->max_message = max_message(d, info);
}

/* Server: a ClientHello without a valid cookie gets a HelloVerifyRequest. */
static int cookie_exchange(struct engine_dtls *d, const uint8_t *input, size_t input_size,
                           const uint8_t *client_id, size_t client_id_size)
{
    static const uint8_t anonymous = 0;
    gnutls_dtls_prestate_st prestate;
    int ret;

    if (!client_id_size)
    {
        client_id = &anonymous;
        client_id_size = 1;
    }
    memset(&prestate, 0, sizeof(prestate));
    ret = gnutls_dtls_cookie_verify(&d->cookie_key, (void *)client_id, client_id_size,
                                    (void *)input, input_size, &prestate);
    if (ret >= 0)
    {
        gnutls_dtls_prestate_set(d->tls, &prestate);
        d->cookie_verified = 1;
        return 0;
    }
    ret = gnutls_dtls_cookie_send(&d->cookie_key, (void *)client_id, client_id_size, &prestate, d, dtls_push);
    return ret < 0 ? ret : 1;
}

void engine_dtls_handshake(struct engine_session *session, const uint8_t *input, size_t input_size,
                           const uint8_t *client_id, size_t client_id_size,
                           uint8_t *output, size_t output_capacity, struct engine_dtls_step *step)
{
    struct engine_dtls *d = get_dtls(session);
    unsigned int stalls = 0;
    size_t offset;
    int ret;

    memset(step, 0, sizeof(*step));
    step->alert = SG_ALERT_NONE;
    if (!d)
    {
        step->status = SG_ERR_INVALID_PARAMETER;
        return;
    }
    if (d->failed != SG_OK)
    {
        step->status = d->failed;
        return;
    }
    /* The rest of a flight: the input (if any) is not looked at. */
    if (queue_pending(&d->out))
    {
        step->status = queue_take(d, output, output_capacity, &step->output_size, &step->more);
        if (step->status == SG_OK && !engine_session_handshake_done(session)) step->status = SG_CONTINUE;
        return;
    }
    if (engine_session_handshake_done(session))
    {
        step->status = SG_OK;
        return;
    }
    step->consumed = input_size;

    if (d->server && !d->cookie_verified)
    {
        if (!input_size)
        {
            step->status = SG_CONTINUE;
            return;
        }
        ret = cookie_exchange(d, input, input_size, client_id, client_id_size);
        if (ret)
        {
            if (ret < 0) step->library_error = ret;
            step->status = SG_CONTINUE;   /* a HelloVerifyRequest, or an unusable datagram: ignored */
            queue_take(d, output, output_capacity, &step->output_size, &step->more);
            return;
        }
    }

    d->handshake_started = 1;
    /* Every record of the datagram is offered: GnuTLS answers a record it ignores (a duplicate,
     * a record of the peer's previous flight) with GNUTLS_E_AGAIN, and the next record may be
     * the one it waits for. A call that takes no record twice in a row ends the step. */
    set_input(d, input, input_size);
    do
    {
        offset = d->in_offset;
        ret = gnutls_handshake(d->tls);
        if (d->in_offset == offset) stalls++;
        else stalls = 0;
    } while ((ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) && input_left(d) && stalls < 2);
    set_input(d, NULL, 0);

    if (ret == 0)
    {
        describe(d, engine_session_complete(session));
        step->status = SG_OK;
    }
    else if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
        step->status = SG_CONTINUE;
    else if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED)
    {
        step->alert = gnutls_alert_get(d->tls);
        step->status = SG_CONTINUE;
    }
    else
    {
        step->library_error = ret;
        step->status = d->failed = map_dtls_error(ret);
        step->alert = fail_with_alert(d, ret);
    }
    if (queue_take(d, output, output_capacity, &step->output_size, &step->more) != SG_OK && step->status < SG_ERR_NO_MEMORY)
        step->status = SG_ERR_BUFFER_TOO_SMALL;
}

void engine_dtls_encrypt(struct engine_session *session, uint8_t *header, size_t header_capacity,
                         uint8_t *data, size_t data_size, uint8_t *trailer, size_t trailer_capacity,
                         struct engine_seal *seal)
{
    struct engine_dtls *d = get_dtls(session);
    struct sg_session_info info;
    uint8_t record[SG_DTLS_MAX_MTU + 512];
    size_t trailer_size;
    ssize_t ret;

    memset(seal, 0, sizeof(*seal));
    if (!d || engine_session_info(session, &info) != SG_OK || data_size > info.max_message)
    {
        seal->status = SG_ERR_INVALID_PARAMETER;
        return;
    }
    if (d->failed != SG_OK)
    {
        seal->status = d->failed;
        return;
    }
    if (header_capacity < info.header_size || trailer_capacity < info.trailer_size)
    {
        seal->status = SG_ERR_BUFFER_TOO_SMALL;
        return;
    }
    if (!data_size)
    {
        seal->status = SG_OK;
        return;
    }
    d->capture = record;
    d->capture_cap = sizeof(record);
    d->capture_size = 0;
    d->capture_failed = 0;
    ret = gnutls_record_send(d->tls, data, data_size);
    d->capture = NULL;
    if (ret < 0 || d->capture_failed || (size_t)ret != data_size
        || d->capture_size < info.header_size + data_size
        || (trailer_size = d->capture_size - info.header_size - data_size) > trailer_capacity)
    {
        seal->library_error = ret < 0 ? (int)ret : GNUTLS_E_INTERNAL_ERROR;
        seal->status = ret == GNUTLS_E_LARGE_PACKET ? SG_ERR_INVALID_PARAMETER : SG_ERR_INTERNAL;
        gnutls_memset(record, 0, sizeof(record));
        return;
    }
    memcpy(header, record, info.header_size);
    memcpy(data, record + info.header_size, data_size);
    memcpy(trailer, record + info.header_size + data_size, trailer_size);
    gnutls_memset(record, 0, d->capture_size);
    seal->header_used = info.header_size;
    seal->trailer_used = trailer_size;
    seal->status = SG_OK;
}

static uint64_t read_be48(const uint8_t *p)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < 6; i++) v = (v << 8) | p[i];
    return v;
}

static int window_seen(const struct engine_dtls *d, uint16_t epoch, uint64_t seq)
{
    if (!d->window_valid || epoch != d->window_epoch) return 0;
    if (seq > d->window_max) return 0;
    if (d->window_max - seq >= 64) return 1;   /* too old to tell: treated as a replay */
    return (d->window_bits >> (d->window_max - seq)) & 1;
}

static void window_mark(struct engine_dtls *d, uint16_t epoch, uint64_t seq)
{
    if (!d->window_valid || epoch != d->window_epoch)
    {
        d->window_valid = 1;
        d->window_epoch = epoch;
        d->window_max = seq;
        d->window_bits = 1;
        return;
    }
    if (seq > d->window_max)
    {
        uint64_t shift = seq - d->window_max;
        d->window_bits = shift >= 64 ? 0 : d->window_bits << shift;
        d->window_bits |= 1;
        d->window_max = seq;
    }
    else d->window_bits |= (uint64_t)1 << (d->window_max - seq);
}

void engine_dtls_decrypt(struct engine_session *session, uint8_t *buffer, size_t size,
                         struct engine_open *open, uint32_t *flags)
{
    struct engine_dtls *d = get_dtls(session);
    struct sg_session_info info;
    size_t record, queued, room;
    uint8_t spare[16];
    uint8_t *plain;
    uint16_t epoch;
    uint64_t seq;
    ssize_t ret;

    memset(open, 0, sizeof(*open));
    *flags = 0;
    open->alert = SG_ALERT_NONE;
    if (!d || engine_session_info(session, &info) != SG_OK)
    {
        open->status = SG_ERR_INVALID_PARAMETER;
        return;
    }
    if (d->failed != SG_OK)
    {
        open->status = d->failed;
        return;
    }
    if (size < DTLS_HEADER_SIZE)
    {
        open->status = SG_INCOMPLETE;
        open->missing = DTLS_HEADER_SIZE - size;
        return;
    }
    if (buffer[0] < 20 || buffer[0] > 23 || buffer[1] != 0xfe)
    {
        open->status = SG_ERR_INVALID_TOKEN;
        return;
    }
    record = DTLS_HEADER_SIZE + (((size_t)buffer[11] << 8) | buffer[12]);
    if (record > size)
    {
        open->status = SG_INCOMPLETE;
        open->missing = record - size;
        return;
    }
    open->consumed = record;
    open->data_offset = info.header_size < record ? info.header_size : record;
    epoch = (buffer[3] << 8) | buffer[4];
    seq = read_be48(buffer + 5);
    if (buffer[0] == 23 && window_seen(d, epoch, seq))
    {
        open->status = SG_OK;
        *flags = SG_DECRYPT_DTLS_REPLAY;
        return;
    }

    /* A record too short to carry data (a ChangeCipherSpec, say) still goes through GnuTLS,
     * which may drop it or answer it; GnuTLS wants room for the plaintext in any case. */
    room = record - open->data_offset;
    plain = room ? buffer + open->data_offset : spare;
    if (!room) room = sizeof(spare);
    queued = d->out.count;
    set_input(d, buffer, record);
    ret = gnutls_record_recv(d->tls, plain, room);
    set_input(d, NULL, 0);

    if (ret > 0 && plain == spare)
    {
        /* data in a record shorter than our header: not a record we sealed the like of */
        gnutls_memset(spare, 0, sizeof(spare));
        open->status = SG_OK;
        *flags = SG_DECRYPT_DTLS_DISCARDED;
    }
    else if (ret > 0)
    {
        open->status = SG_OK;
        open->data_size = ret;
        if (buffer[0] == 23) window_mark(d, epoch, seq);
    }
    else if (ret == 0)
        open->status = SG_CLOSED;
    else if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED || ret == GNUTLS_E_DECRYPTION_FAILED
             || ret == GNUTLS_E_UNEXPECTED_PACKET_LENGTH)
    {
        /* Dropped: a record that does not authenticate, or the peer's retransmitted flight
         * (GnuTLS then queues our last flight again). */
        open->status = SG_OK;
        open->library_error = ret < 0 ? (int)ret : 0;
        if (d->out.count == queued) *flags = SG_DECRYPT_DTLS_DISCARDED;
    }
    else if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED)
    {
        open->status = SG_OK;
        open->alert = gnutls_alert_get(d->tls);
        open->library_error = ret;
    }
    else
    {
        open->library_error = ret;
        open->status = d->failed = map_dtls_error(ret);
        open->alert = fail_with_alert(d, ret);
    }
    open->output_pending = d->out.len - d->out.next_offset;
}

/* ---- DTLS-SRTP (RFC 5764): the use_srtp extension; keys come from the RFC 5705 exporter ---- */

static int srtp_supported(unsigned int id)
{
    switch (id)
    {
    case GNUTLS_SRTP_AES128_CM_HMAC_SHA1_80:
    case GNUTLS_SRTP_AES128_CM_HMAC_SHA1_32:
    case GNUTLS_SRTP_NULL_HMAC_SHA1_80:
    case GNUTLS_SRTP_NULL_HMAC_SHA1_32:
        return 1;
    default:
        return 0;   /* e.g. the AEAD profiles of RFC 7714, which GnuTLS 3.7 lacks */
    }
}

static enum sg_status srtp_set_profiles(struct engine_dtls *d, const uint8_t *ids, size_t size, int *library_error)
{
    size_t i;
    int ret;

    if (d->handshake_started || (size & 1) || (size && !ids)) return SG_ERR_INVALID_PARAMETER;
    for (i = 0; i + 1 < size; i += 2)
    {
        unsigned int id = ((unsigned int)ids[i] << 8) | ids[i + 1];

        if (!srtp_supported(id)) continue;
        if ((ret = gnutls_srtp_set_profile(d->tls, id)) < 0)
        {
            *library_error = ret;
            return ret == GNUTLS_E_MEMORY_ERROR ? SG_ERR_NO_MEMORY : SG_ERR_INVALID_PARAMETER;
        }
    }
    return SG_OK;
}

static enum sg_status srtp_set_mki(struct engine_dtls *d, const uint8_t *mki, size_t size, int *library_error)
{
    gnutls_datum_t datum;
    int ret;

    if (d->handshake_started || size > 255 || (size && !mki)) return SG_ERR_INVALID_PARAMETER;
    datum.data = (unsigned char *)mki;
    datum.size = size;
    if ((ret = gnutls_srtp_set_mki(d->tls, &datum)) < 0)
    {
        *library_error = ret;
        return SG_ERR_INVALID_PARAMETER;
    }
    return SG_OK;
}

static enum sg_status srtp_get(struct engine_dtls *d, uint32_t *profile, uint8_t *output, size_t capacity,
                               size_t *size)
{
    gnutls_srtp_profile_t selected;
    gnutls_datum_t mki;

    *profile = 0;
    *size = 0;
    if (!engine_session_handshake_done(d->session)) return SG_ERR_INVALID_PARAMETER;
    if (gnutls_srtp_get_selected_profile(d->tls, &selected) < 0) return SG_OK;   /* not negotiated */
    *profile = selected;
    if (gnutls_srtp_get_mki(d->tls, &mki) >= 0 && mki.size)
    {
        if (mki.size > capacity) return SG_ERR_BUFFER_TOO_SMALL;
        memcpy(output, mki.data, mki.size);
        *size = mki.size;
    }
    return SG_OK;
}

enum sg_status engine_dtls_control(struct engine_session *session, uint32_t what, uint32_t *value,
                                   uint8_t *output, size_t output_capacity, size_t *output_size,
                                   int *more, int *library_error)
{
    struct engine_dtls *d = get_dtls(session);
    int ret;

    *output_size = 0;
    *more = 0;
    *library_error = 0;
    if (!d) return SG_ERR_INVALID_PARAMETER;
    switch (what)
    {
    case SG_DTLS_SET_MTU:
        if (*value < SG_DTLS_MIN_MTU || *value > SG_DTLS_MAX_MTU) return SG_ERR_INVALID_PARAMETER;
        d->mtu = *value;
        gnutls_dtls_set_mtu(d->tls, d->mtu);
        if (engine_session_handshake_done(session)) describe(d, engine_session_complete(session));
        return SG_OK;
    case SG_DTLS_GET_MTU:
        *value = d->mtu;
        return SG_OK;
    case SG_DTLS_GET_MAX_MESSAGE:
    {
        struct sg_session_info info;
        if (engine_session_info(session, &info) != SG_OK) return SG_ERR_INVALID_PARAMETER;
        *value = info.max_message;
        return SG_OK;
    }
    case SG_DTLS_SET_SRTP_PROFILES:
        return srtp_set_profiles(d, output, output_capacity, library_error);
    case SG_DTLS_SET_SRTP_MKI:
        return srtp_set_mki(d, output, output_capacity, library_error);
    case SG_DTLS_GET_SRTP:
        return srtp_get(d, value, output, output_capacity, output_size);
    case SG_DTLS_SHUTDOWN:
        if (!engine_session_handshake_done(session)) return SG_ERR_INVALID_PARAMETER;
        if ((ret = gnutls_bye(d->tls, GNUTLS_SHUT_WR)) < 0 && ret != GNUTLS_E_AGAIN)
        {
            *library_error = ret;
            return map_dtls_error(ret);
        }
        /* fall through */
    case SG_DTLS_TAKE_OUTPUT:
        return queue_take(d, output, output_capacity, output_size, more);
    default:
        return SG_ERR_INVALID_PARAMETER;
    }
}
