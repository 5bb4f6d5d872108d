/*
 * secur32's Unix-side engine: the server's CertificateRequest on the client side.
 *
 * Schannel answers a CertificateRequest the client cannot serve with
 * SEC_I_INCOMPLETE_CREDENTIALS, before anything of its second flight is built, and takes
 * the answer (new credentials, a default certificate, or none) on the next call. GnuTLS
 * picks the client certificate synchronously while it processes the CertificateRequest,
 * so the engine has to see that message before GnuTLS does: engine_client_handshake reads
 * the server's handshake messages as they arrive (in the clear up to TLS 1.2; in TLS 1.3
 * it opens the encrypted handshake records with GnuTLS's own read keys, without touching
 * GnuTLS's state), and keeps the records from the CertificateRequest on until the answer
 * is known. The records it keeps were taken from the caller; when the caller offers the
 * same bytes again (as curl, .NET and Microsoft's sample client do), they are skipped.
 */

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>

#include "engine_client.h"

#define TLS_HEADER_SIZE 5
#define CT_CHANGE_CIPHER_SPEC 20
#define CT_ALERT 21
#define CT_HANDSHAKE 22
#define CT_APPLICATION_DATA 23

#define HS_SERVER_HELLO 2
#define HS_ENCRYPTED_EXTENSIONS 8
#define HS_CERTIFICATE_REQUEST 13
#define HS_SERVER_HELLO_DONE 14

#define MAX_CAPTURE 0x10000   /* largest CertificateRequest we read ourselves */
#define EXT_CERTIFICATE_AUTHORITIES 47

enum watch
{
    WATCH_PLAIN,   /* handshake records in the clear (up to TLS 1.2, and TLS 1.3's ServerHello) */
    WATCH_TLS13,   /* TLS 1.3 encrypted handshake, before the decision */
    WATCH_DONE     /* decided, or nothing more to watch: GnuTLS gets every record */
};

enum verdict { UNDECIDED, FOUND, NOT_REQUESTED, GIVE_UP };

struct bytes
{
    uint8_t *data;
    size_t size;
};

/* A cursor over the handshake message stream, across records and calls. */
struct hs_reader
{
    uint8_t header[4];
    size_t header_len;
    uint32_t body_left;
    struct bytes body;         /* the body of the message being read, when captured */
    int capture;
    int server_version;        /* ServerHello's legacy_version, 0 until seen */
};

struct engine_client_cert
{
    int ask;                   /* pause at a CertificateRequest */
    int answered;
    enum watch watch;
    struct hs_reader reader;
    struct engine_cred *answer;              /* its certificate answers, when set */
    int requested;
    struct bytes cas;          /* LE32 length + DER name, each */
    uint32_t ca_count;
    struct bytes held;         /* taken from the caller, not given to GnuTLS yet */
    struct bytes replay;       /* the input of the call that paused */
};

static void bytes_free(struct bytes *b)
{
    if (b->data) gnutls_memset(b->data, 0, b->size);
    free(b->data);
    b->data = NULL;
    b->size = 0;
}

static int bytes_set(struct bytes *b, const uint8_t *data, size_t size)
{
    uint8_t *copy = NULL;

    if (size && !(copy = malloc(size))) return -1;
    if (size) memcpy(copy, data, size);
    bytes_free(b);
    b->data = copy;
    b->size = size;
    return 0;
}

static int bytes_append(struct bytes *b, const uint8_t *data, size_t size)
{
    uint8_t *grown;

    if (!size) return 0;
    if (!(grown = realloc(b->data, b->size + size))) return -1;
    memcpy(grown + b->size, data, size);
    b->data = grown;
    b->size += size;
    return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
    p[2] = (v >> 16) & 0xff;
    p[3] = v >> 24;
}

static size_t record_length(const uint8_t *record)
{
    return TLS_HEADER_SIZE + (((size_t)record[3] << 8) | record[4]);
}

/* ---- the certificate authorities of a CertificateRequest ---- */

static int add_ca(struct engine_client_cert *cc, const uint8_t *dn, size_t size)
{
    uint8_t len[4];

    put_le32(len, size);
    if (bytes_append(&cc->cas, len, 4) || bytes_append(&cc->cas, dn, size)) return -1;
    cc->ca_count++;
    return 0;
}

/* A DistinguishedName list: a 16-bit length, then names with 16-bit lengths. */
static int parse_ca_list(struct engine_client_cert *cc, const uint8_t *p, size_t size)
{
    size_t total, pos = 2;

    if (size < 2) return -1;
    total = ((size_t)p[0] << 8) | p[1];
    if (total != size - 2) return -1;
    while (pos < size)
    {
        size_t len;
        if (size - pos < 2) return -1;
        len = ((size_t)p[pos] << 8) | p[pos + 1];
        pos += 2;
        if (!len || len > size - pos) return -1;
        if (add_ca(cc, p + pos, len)) return -1;
        pos += len;
    }
    return 0;
}

/* TLS 1.0-1.2: certificate_types<1..2^8-1>, [TLS 1.2: supported_signature_algorithms<2..2^16-2>],
 * certificate_authorities<0..2^16-1>. */
static int parse_request12(struct engine_client_cert *cc, const uint8_t *p, size_t size, int version)
{
    size_t pos = 0, len;

    if (size < 1 || (len = p[0]) > size - 1) return -1;
    pos = 1 + len;
    if (version >= 0x0303)
    {
        if (size - pos < 2) return -1;
        len = ((size_t)p[pos] << 8) | p[pos + 1];
        if (len > size - pos - 2) return -1;
        pos += 2 + len;
    }
    return parse_ca_list(cc, p + pos, size - pos);
}

/* TLS 1.3: certificate_request_context<0..2^8-1>, extensions<2..2^16-1>. */
static int parse_request13(struct engine_client_cert *cc, const uint8_t *p, size_t size)
{
    size_t pos, end, len;

    if (size < 1 || (len = p[0]) > size - 1) return -1;
    pos = 1 + len;
    if (size - pos < 2) return -1;
    len = ((size_t)p[pos] << 8) | p[pos + 1];
    pos += 2;
    if (len != size - pos) return -1;
    end = size;
    while (pos < end)
    {
        unsigned int type;
        if (end - pos < 4) return -1;
        type = ((unsigned int)p[pos] << 8) | p[pos + 1];
        len = ((size_t)p[pos + 2] << 8) | p[pos + 3];
        pos += 4;
        if (len > end - pos) return -1;
        if (type == EXT_CERTIFICATE_AUTHORITIES && parse_ca_list(cc, p + pos, len)) return -1;
        pos += len;
    }
    return 0;
}

static enum verdict request_found(struct engine_client_cert *cc, int tls13)
{
    struct hs_reader *r = &cc->reader;
    int ret;

    bytes_free(&cc->cas);
    cc->ca_count = 0;
    ret = tls13 ? parse_request13(cc, r->body.data, r->body.size)
                : parse_request12(cc, r->body.data, r->body.size, r->server_version);
    bytes_free(&r->body);
    r->capture = 0;
    if (ret)
    {
        /* Malformed: GnuTLS will say so with the right alert. */
        bytes_free(&cc->cas);
        cc->ca_count = 0;
        return GIVE_UP;
    }
    cc->requested = 1;
    return FOUND;
}

/* Reads handshake message bytes; decides once a message tells whether a certificate is asked for. */
static enum verdict read_messages(struct engine_client_cert *cc, const uint8_t *p, size_t size, int tls13)
{
    struct hs_reader *r = &cc->reader;

    while (size)
    {
        if (r->header_len < 4)
        {
            size_t n = 4 - r->header_len;
            if (n > size) n = size;
            memcpy(r->header + r->header_len, p, n);
            r->header_len += n;
            p += n;
            size -= n;
            if (r->header_len < 4) break;
            r->body_left = ((uint32_t)r->header[1] << 16) | ((uint32_t)r->header[2] << 8) | r->header[3];
            r->capture = r->header[0] == HS_CERTIFICATE_REQUEST || r->header[0] == HS_SERVER_HELLO;
            if (r->capture && r->body_left > MAX_CAPTURE) return GIVE_UP;
            bytes_free(&r->body);
        }
        if (r->body_left)
        {
            size_t n = r->body_left < size ? r->body_left : size;
            if (r->capture && bytes_append(&r->body, p, n)) return GIVE_UP;
            r->body_left -= n;
            p += n;
            size -= n;
            if (r->body_left) break;
        }
        /* One whole message. */
        r->header_len = 0;
        switch (r->header[0])
        {
        case HS_SERVER_HELLO:
            if (r->body.size >= 2) r->server_version = (r->body.data[0] << 8) | r->body.data[1];
            bytes_free(&r->body);
            break;
        case HS_CERTIFICATE_REQUEST:
            return request_found(cc, tls13);
        case HS_SERVER_HELLO_DONE:
            if (!tls13) return NOT_REQUESTED;
            return GIVE_UP;
        case HS_ENCRYPTED_EXTENSIONS:
            if (tls13) break;
            return GIVE_UP;
        default:
            /* TLS 1.2: Certificate, ServerKeyExchange, CertificateStatus come first.
             * TLS 1.3: anything after EncryptedExtensions but a request means none. */
            if (tls13) return NOT_REQUESTED;
            break;
        }
    }
    return UNDECIDED;
}

/* Opens a TLS 1.3 record with the session's current read keys at sequence number seq,
 * without changing the session. Returns the inner content type, or -1. */
static int open_record13(gnutls_session_t tls, const uint8_t *record, size_t len, uint64_t seq,
                         uint8_t *plain, size_t *plain_size)
{
    gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(tls);
    gnutls_aead_cipher_hd_t aead;
    gnutls_datum_t iv, key;
    unsigned char seq_bytes[8];
    uint8_t nonce[12];
    size_t tag = gnutls_cipher_get_tag_size(cipher), out = *plain_size, i;
    int ret;

    if (gnutls_record_get_state(tls, 1, NULL, &iv, &key, seq_bytes) < 0 || iv.size != 12 || !key.size || !tag)
        return -1;
    if (len < TLS_HEADER_SIZE + tag + 1) return -1;
    memcpy(nonce, iv.data, 12);
    for (i = 0; i < 8; i++) nonce[4 + i] ^= (seq >> (56 - 8 * i)) & 0xff;
    if (gnutls_aead_cipher_init(&aead, cipher, &key) < 0) return -1;
    ret = gnutls_aead_cipher_decrypt(aead, nonce, sizeof(nonce), record, TLS_HEADER_SIZE, tag,
                                     record + TLS_HEADER_SIZE, len - TLS_HEADER_SIZE, plain, &out);
    gnutls_aead_cipher_deinit(aead);
    if (ret < 0) return -1;
    while (out && !plain[out - 1]) out--;
    if (!out) return -1;
    *plain_size = out - 1;
    return plain[out - 1];
}

static uint64_t read_sequence(gnutls_session_t tls)
{
    unsigned char seq[8];
    uint64_t value = 0;
    int i;

    if (gnutls_record_get_state(tls, 1, NULL, NULL, NULL, seq) < 0) return 0;
    for (i = 0; i < 8; i++) value = (value << 8) | seq[i];
    return value;
}

static int tls13_keys_ready(gnutls_session_t tls)
{
    gnutls_datum_t key = { NULL, 0 };
    return gnutls_record_get_state(tls, 1, NULL, NULL, &key, NULL) >= 0 && key.size;
}

/* ---- the GnuTLS side ---- */

/* The certificate callback of the certificate-less credential: a request GnuTLS saw
 * without us (renegotiation, a message we could not read) is still noted. */
static int no_certificate_cb(gnutls_session_t tls, const gnutls_datum_t *req_ca_dn, int nreqs,
                             const gnutls_pk_algorithm_t *algos, int algos_len, gnutls_pcert_st **pcert,
                             unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    struct engine_client_cert *cc = gnutls_session_get_ptr(tls);
    int i;

    (void)algos;
    (void)algos_len;
    *pcert = NULL;
    *pcert_length = 0;
    *pkey = NULL;
    if (cc && !cc->requested)
    {
        cc->requested = 1;
        for (i = 0; i < nreqs; i++) add_ca(cc, req_ca_dn[i].data, req_ca_dn[i].size);
    }
    return 0;
}

/* The certificate-less credential: one for the process, shared by every client session that
 * watches for a CertificateRequest (a GnuTLS credential with its empty trust list costs
 * about 6 KiB: one per session was most of a context's memory). Its callback finds the
 * session's state through the session pointer; it holds no secret and lives until the
 * process ends. */
static pthread_once_t no_certificate_once = PTHREAD_ONCE_INIT;
static gnutls_certificate_credentials_t no_certificate;

static void no_certificate_init(void)
{
    if (gnutls_certificate_allocate_credentials(&no_certificate) < 0)
    {
        no_certificate = NULL;
        return;
    }
    gnutls_certificate_set_retrieve_function2(no_certificate, no_certificate_cb);
}

enum sg_status engine_client_cert_set(struct engine_session *s, uint32_t mode, struct engine_cred *answer)
{
    struct engine_client_cert **slot = engine_session_client_cert(s), *cc = *slot;
    gnutls_session_t tls = engine_session_gnutls(s);

    if (engine_session_is_server(s)) return SG_ERR_INVALID_PARAMETER;
    if (mode == SG_CLIENT_CERT_ASK)
    {
        if (cc || engine_session_handshake_done(s)) return SG_ERR_INVALID_PARAMETER;
        pthread_once(&no_certificate_once, no_certificate_init);
        if (!no_certificate) return SG_ERR_NO_MEMORY;
        if (!(cc = calloc(1, sizeof(*cc)))) return SG_ERR_NO_MEMORY;
        if (gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, no_certificate) < 0)
        {
            free(cc);
            return SG_ERR_INTERNAL;
        }
        gnutls_session_set_ptr(tls, cc);
        cc->ask = 1;
        *slot = cc;
        return SG_OK;
    }
    if (mode != SG_CLIENT_CERT_ANSWER || !cc || cc->answered) return SG_ERR_INVALID_PARAMETER;
    if (answer)
    {
        if (gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, engine_cred_gnutls_certs(answer)) < 0)
            return SG_ERR_INTERNAL;
        engine_cred_addref(answer);
        cc->answer = answer;
    }
    cc->answered = 1;
    return SG_OK;
}

void engine_client_cert_free(struct engine_client_cert *cc)
{
    if (!cc) return;
    if (cc->answer) engine_cred_release(cc->answer);
    bytes_free(&cc->reader.body);
    bytes_free(&cc->cas);
    bytes_free(&cc->held);
    bytes_free(&cc->replay);
    free(cc);
}

enum sg_status engine_client_cert_request(struct engine_session *s, uint8_t *buffer, size_t capacity,
                                          size_t *size, uint32_t *count, uint32_t *requested)
{
    struct engine_client_cert *cc = *engine_session_client_cert(s);

    *size = 0;
    *count = 0;
    *requested = 0;
    if (!cc) return SG_OK;
    *requested = cc->requested;
    *size = cc->cas.size;
    *count = cc->ca_count;
    if (cc->cas.size > capacity) return SG_ERR_BUFFER_TOO_SMALL;
    if (cc->cas.size) memcpy(buffer, cc->cas.data, cc->cas.size);
    return SG_OK;
}

/* ---- the handshake step ---- */

/* Watches the whole records of data[start, end). *feed: how much GnuTLS may read now.
 * *plain_end: where the records in the clear end (SIZE_MAX if they do not). */
static enum verdict watch_records(struct engine_session *s, struct engine_client_cert *cc, const uint8_t *data,
                                  size_t start, size_t end, size_t *feed, size_t *plain_end)
{
    gnutls_session_t tls = engine_session_gnutls(s);
    size_t pos = start;
    uint64_t seq = 0;
    int seq_known = 0;

    *plain_end = SIZE_MAX;
    while (end - pos >= TLS_HEADER_SIZE && record_length(data + pos) <= end - pos)
    {
        const uint8_t *record = data + pos;
        size_t len = record_length(record);
        enum verdict v;

        if (cc->watch == WATCH_PLAIN)
        {
            if (record[0] != CT_HANDSHAKE)
            {
                /* TLS 1.3's encrypted part (or a TLS 1.2 ChangeCipherSpec): the caller lets
                 * GnuTLS read what came before and decides then. */
                *plain_end = pos;
                return UNDECIDED;
            }
            v = read_messages(cc, record + TLS_HEADER_SIZE, len - TLS_HEADER_SIZE, 0);
        }
        else
        {
            uint8_t *plain;
            size_t plain_size = len;
            int type;

            if (record[0] == CT_CHANGE_CIPHER_SPEC)
            {
                pos += len;
                continue;
            }
            if (record[0] != CT_APPLICATION_DATA) return GIVE_UP;
            if (!seq_known)
            {
                seq = read_sequence(tls);
                seq_known = 1;
            }
            if (!(plain = malloc(len))) return GIVE_UP;
            type = open_record13(tls, record, len, seq++, plain, &plain_size);
            v = type == CT_HANDSHAKE ? read_messages(cc, plain, plain_size, 1) : GIVE_UP;
            gnutls_memset(plain, 0, len);
            free(plain);
        }
        pos += len;
        if (v != UNDECIDED)
        {
            *feed = v == FOUND ? 0 : end;
            return v;
        }
    }
    *feed = pos;
    return UNDECIDED;
}

static void finish_step(struct engine_client_cert *cc, struct engine_step *step, size_t skip, size_t held_before,
                        const uint8_t *combined)
{
    size_t used = step->consumed;

    /* Bytes of the old held part GnuTLS did not read stay held. */
    if (used < held_before)
    {
        struct bytes rest = { NULL, 0 };
        if (!bytes_set(&rest, combined + used, held_before - used))
        {
            bytes_free(&cc->held);
            cc->held = rest;
        }
        used = held_before;
    }
    else bytes_free(&cc->held);
    step->consumed = skip + (used - held_before);
}

void engine_client_handshake(struct engine_session *s, const uint8_t *input, size_t input_size,
                             uint8_t *output, size_t output_capacity, struct engine_step *step)
{
    struct engine_client_cert *cc = *engine_session_client_cert(s);
    gnutls_session_t tls = engine_session_gnutls(s);
    struct bytes combined = { NULL, 0 };
    size_t skip = 0, held_before, feed = 0, plain_end = 0;
    enum verdict v = UNDECIDED;

    if (!cc || engine_session_handshake_done(s) || (!cc->held.size && !cc->replay.size
        && (cc->watch == WATCH_DONE || !cc->ask || cc->answered)))
    {
        engine_handshake(s, input, input_size, output, output_capacity, step);
        return;
    }

    /* The caller offering again what the paused call took. */
    if (cc->replay.size && input_size >= cc->replay.size && !memcmp(input, cc->replay.data, cc->replay.size))
        skip = cc->replay.size;
    held_before = cc->held.size;
    if (bytes_set(&combined, cc->held.data, cc->held.size)
        || bytes_append(&combined, input + skip, input_size - skip))
    {
        bytes_free(&combined);
        memset(step, 0, sizeof(*step));
        step->alert = SG_ALERT_NONE;
        step->status = SG_ERR_NO_MEMORY;
        return;
    }

    if (!cc->answered && cc->watch != WATCH_DONE)
    {
        v = watch_records(s, cc, combined.data, held_before, combined.size, &feed, &plain_end);
        if (v == UNDECIDED && cc->watch == WATCH_PLAIN && plain_end != SIZE_MAX)
        {
            /* Let GnuTLS read the ServerHello: in TLS 1.3 its keys open the rest. What it
             * answers (TLS 1.3's compatibility ChangeCipherSpec) stays pending for the
             * next token, unless this step ends here (an error, a HelloRetryRequest). */
            if (plain_end > 0)
            {
                engine_handshake(s, combined.data, plain_end, output, 0, step);
                if (step->status != SG_CONTINUE || step->consumed != plain_end
                    || (step->output_size && !tls13_keys_ready(tls)))
                {
                    size_t size;
                    engine_take_output(s, output, output_capacity, &size);
                    step->output_size = size;
                    finish_step(cc, step, skip, held_before, combined.data);
                    bytes_free(&combined);
                    return;
                }
            }
            cc->watch = tls13_keys_ready(tls) ? WATCH_TLS13 : WATCH_DONE;
            if (plain_end > 0)
            {
                /* From here on "combined" starts after what GnuTLS read. */
                struct bytes rest = { NULL, 0 };
                if (bytes_set(&rest, combined.data + plain_end, combined.size - plain_end))
                {
                    bytes_free(&combined);
                    memset(step, 0, sizeof(*step));
                    step->alert = SG_ALERT_NONE;
                    step->status = SG_ERR_NO_MEMORY;
                    return;
                }
                skip += plain_end > held_before ? plain_end - held_before : 0;
                held_before = held_before > plain_end ? held_before - plain_end : 0;
                bytes_free(&cc->held);
                bytes_free(&combined);
                combined = rest;
                if (held_before) bytes_set(&cc->held, combined.data, held_before);
            }
            if (cc->watch == WATCH_TLS13)
                v = watch_records(s, cc, combined.data, held_before, combined.size, &feed, &plain_end);
            else v = NOT_REQUESTED;
        }
        if (v == NOT_REQUESTED || v == GIVE_UP) cc->watch = WATCH_DONE;
    }

    if (v == FOUND)
    {
        /* Keep everything for after the answer; the caller's input is all taken. */
        bytes_free(&cc->held);
        cc->held = combined;
        bytes_set(&cc->replay, input, input_size);
        memset(step, 0, sizeof(*step));
        step->alert = SG_ALERT_NONE;
        step->status = SG_CREDENTIALS_NEEDED;
        step->consumed = input_size;
        return;
    }
    if (v == UNDECIDED && cc->watch == WATCH_TLS13 && !cc->answered)
    {
        /* TLS 1.3 records not enough to decide: keep the whole ones, wait for more. */
        struct bytes keep = { NULL, 0 };

        if (feed == held_before && !skip)
        {
            /* Not even one more whole record. */
            size_t have = combined.size - feed;
            memset(step, 0, sizeof(*step));
            step->alert = SG_ALERT_NONE;
            step->status = SG_INCOMPLETE;
            step->missing = have < TLS_HEADER_SIZE ? TLS_HEADER_SIZE - have
                                                   : record_length(combined.data + feed) - have;
            bytes_free(&combined);
            return;
        }

        bytes_set(&keep, combined.data, feed);
        bytes_free(&cc->held);
        cc->held = keep;
        memset(step, 0, sizeof(*step));
        step->alert = SG_ALERT_NONE;
        step->status = SG_CONTINUE;
        step->consumed = skip + (feed > held_before ? feed - held_before : 0);
        bytes_free(&combined);
        bytes_free(&cc->replay);
        return;
    }

    engine_handshake(s, combined.data, combined.size, output, output_capacity, step);
    finish_step(cc, step, skip, held_before, combined.data);
    if (step->status != SG_INCOMPLETE) bytes_free(&cc->replay);
    bytes_free(&combined);
}
