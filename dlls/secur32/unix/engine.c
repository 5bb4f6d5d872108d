/*
 * secur32's Unix-side TLS engine on GnuTLS.
 *
 * GnuTLS talks to the caller's memory through custom transport callbacks:
 *  - pull hands GnuTLS bytes from the current call's input, never past the end of the last
 *    whole TLS record in it, so that the number of bytes GnuTLS consumed is exact and a
 *    partial record is left to the caller;
 *  - push appends everything GnuTLS sends to the pending token (an engine-owned buffer),
 *    except a sealed record, which goes straight into the caller's header, data and
 *    trailer (engine_encrypt).
 * Sessions are non-blocking: GNUTLS_E_AGAIN means "the input is used up".
 */

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "engine.h"
#include "engine_server.h"
#include "engine_dtls.h"
#include "engine_client.h"
#include "engine_certshare.h"
#include "engine_fastrec.h"

#define CRED_MAGIC     0x53474352u  /* "SGCR" */
#define SESSION_MAGIC  0x53475353u  /* "SGSS" */
#define DEAD_MAGIC     0xdeadbeefu

#define TLS_HEADER_SIZE      5
#define TLS_MAX_PLAINTEXT    16384
#define TLS_MAX_RECORD_BODY  (16384 + 2048)
#define TLS_MAX_SNI          255

#define CT_CHANGE_CIPHER_SPEC 20
#define CT_APPLICATION_DATA   23

struct engine_buffer
{
    uint8_t *data;
    size_t len;
    size_t cap;
};

struct engine_cred
{
    uint32_t magic;
    uint32_t role;
    int refs;
    gnutls_certificate_credentials_t certs;
    gnutls_priority_t priority;
    gnutls_datum_t ticket_key;      /* server: session ticket encryption key */
    struct engine_server_ext *server; /* server options and session cache (engine_server.c) */
};

/* The caller's header, data and trailer regions that engine_encrypt's record is written to,
 * straight from the push callback: GnuTLS has encrypted the plaintext in data by then. */
struct engine_scatter
{
    uint8_t *part[3];
    size_t size[3];                 /* header and data: exact sizes; trailer: capacity */
    size_t part_index;              /* part being written */
    size_t part_used;               /* bytes of it written */
    size_t expected;                /* whole record, from its header; 0 before the first byte */
    size_t written;
};

/* The input region of the current call: bytes [0, whole) hold whole records. */
struct engine_input
{
    const uint8_t *data;
    size_t whole;
    size_t pos;
    size_t record_end;              /* end of the record pull is currently inside */
};

struct engine_session
{
    uint32_t magic;
    int server;
    int handshake_done;
    enum sg_status failed;          /* sticky fatal status, SG_OK while usable */
    struct engine_cred *cred;
    gnutls_session_t tls;
    struct engine_input in;
    struct engine_buffer out;       /* pending token: handshake messages, alerts */
    struct engine_buffer *push_target;
    struct engine_scatter *scatter; /* engine_encrypt: where the record goes, instead of push_target */
    struct sg_session_info info;
    int renegotiating;              /* client: a HelloRequest arrived, engine_handshake may run again */
    int reauth;                     /* server: TLS 1.3 post-handshake authentication (gnutls_reauth) runs */
    struct engine_dtls *dtls;       /* datagram sessions: DTLS transport and state (engine_dtls.c) */
    struct engine_client_cert *client_cert; /* client: certificate request handling (engine_clientcert.c) */
    struct engine_fastrec fastrec;  /* established: records sealed and opened without GnuTLS (engine_fastrec.c) */
};

/* ---- process ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = -1;

static void global_init(void)
{
    init_result = gnutls_global_init();
}

uint32_t engine_process_attach(void)
{
    pthread_once(&init_once, global_init);
    return init_result == 0 ? SG_UNIXLIB_VERSION : 0;
}

void engine_process_detach(void)
{
    engine_fastrec_thread_cleanup();
    if (init_result == 0) gnutls_global_deinit();
    init_result = -1;
}

/* ---- helpers ---- */

static int buffer_append(struct engine_buffer *buf, const void *data, size_t size)
{
    if (size > buf->cap - buf->len)
    {
        size_t cap = buf->cap ? buf->cap : 4096;
        uint8_t *p;
        while (cap - buf->len < size)
        {
            if (cap > SIZE_MAX / 2) return -1;
            cap *= 2;
        }
        if (!(p = realloc(buf->data, cap))) return -1;
        buf->data = p;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, data, size);
    buf->len += size;
    return 0;
}

static void buffer_free(struct engine_buffer *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

static uint32_t get_le32(const uint8_t *p)
{
    return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* A cursor over "LE uint32 length + bytes" fields. */
struct field_reader
{
    const uint8_t *data;
    size_t size;
    size_t pos;
};

static int read_u32(struct field_reader *r, uint32_t *value)
{
    if (r->size - r->pos < 4) return -1;
    *value = get_le32(r->data + r->pos);
    r->pos += 4;
    return 0;
}

static int read_field(struct field_reader *r, gnutls_datum_t *field)
{
    uint32_t len;
    if (read_u32(r, &len)) return -1;
    if (r->size - r->pos < len) return -1;
    field->data = (unsigned char *)(r->data + r->pos);
    field->size = len;
    r->pos += len;
    return 0;
}

enum record_scan { SCAN_END, SCAN_INCOMPLETE, SCAN_INVALID };

/* Walks the whole records at the start of data. *whole is the length of the whole records;
 * for SCAN_INCOMPLETE, *missing is what the first partial record still needs. */
static enum record_scan scan_records(const uint8_t *data, size_t size, size_t *whole, size_t *missing)
{
    size_t pos = 0;

    *whole = 0;
    *missing = 0;
    for (;;)
    {
        size_t left = size - pos, len;
        const uint8_t *h;

        if (!left) return SCAN_END;  /* before the pointer sum: data is NULL for no input */
        h = data + pos;
        if (h[0] < CT_CHANGE_CIPHER_SPEC || h[0] > CT_APPLICATION_DATA) return SCAN_INVALID;
        if (left >= 2 && h[1] != 3) return SCAN_INVALID;
        if (left < TLS_HEADER_SIZE)
        {
            *missing = TLS_HEADER_SIZE - left;
            return SCAN_INCOMPLETE;
        }
        len = ((size_t)h[3] << 8) | h[4];
        if (len > TLS_MAX_RECORD_BODY) return SCAN_INVALID;
        if (left < TLS_HEADER_SIZE + len)
        {
            *missing = TLS_HEADER_SIZE + len - left;
            return SCAN_INCOMPLETE;
        }
        pos += TLS_HEADER_SIZE + len;
        *whole = pos;
    }
}

/* ---- transport callbacks ---- */

static ssize_t pull_cb(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
    struct engine_session *s = ptr;
    struct engine_input *in = &s->in;
    size_t n;

    if (in->pos == in->record_end)
    {
        const uint8_t *h;
        if (in->whole - in->pos < TLS_HEADER_SIZE)
        {
            gnutls_transport_set_errno(s->tls, EAGAIN);
            return -1;
        }
        /* scan_records() checked that the record is whole (data is NULL when there is none). */
        h = in->data + in->pos;
        in->record_end = in->pos + TLS_HEADER_SIZE + (((size_t)h[3] << 8) | h[4]);
    }
    n = in->record_end - in->pos;
    if (n > size) n = size;
    memcpy(data, in->data + in->pos, n);
    in->pos += n;
    return n;
}

static int pull_timeout_cb(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    struct engine_session *s = ptr;
    (void)ms;
    if (s->in.pos < s->in.whole) return 1;
    gnutls_transport_set_errno(s->tls, EAGAIN);
    return -1;
}

/* Spreads one application-data record over the parts. Anything else (a record of another
 * length, a second record) is refused before a byte is written, and the seal fails. */
static int scatter_write(struct engine_scatter *sc, const uint8_t *data, size_t size)
{
    if (!sc->expected)
    {
        size_t fixed = sc->size[0] + sc->size[1];
        if (size < TLS_HEADER_SIZE || data[0] != CT_APPLICATION_DATA) return -1;
        sc->expected = TLS_HEADER_SIZE + (((size_t)data[3] << 8) | data[4]);
        if (sc->expected < fixed || sc->expected - fixed > sc->size[2]) return -1;
    }
    if (size > sc->expected - sc->written) return -1;
    sc->written += size;
    while (size)
    {
        size_t n = sc->size[sc->part_index] - sc->part_used;

        if (n > size) n = size;
        if (!n) return -1;  /* cannot happen: the record fits, checked above */
        memcpy(sc->part[sc->part_index] + sc->part_used, data, n);
        data += n;
        size -= n;
        sc->part_used += n;
        if (sc->part_used == sc->size[sc->part_index] && sc->part_index < 2)
        {
            sc->part_index++;
            sc->part_used = 0;
        }
    }
    return 0;
}

static ssize_t push_cb(gnutls_transport_ptr_t ptr, const void *data, size_t size)
{
    struct engine_session *s = ptr;

    if (s->scatter)
    {
        if (!scatter_write(s->scatter, data, size)) return size;
        gnutls_transport_set_errno(s->tls, ENOBUFS);
        return -1;
    }
    if (!s->push_target || buffer_append(s->push_target, data, size))
    {
        gnutls_transport_set_errno(s->tls, ENOMEM);
        return -1;
    }
    return size;
}

static void set_input(struct engine_session *s, const uint8_t *data, size_t whole)
{
    s->in.data = data;
    s->in.whole = whole;
    s->in.pos = 0;
    s->in.record_end = 0;
}

static void clear_input(struct engine_session *s)
{
    memset(&s->in, 0, sizeof(s->in));
}

/* ---- errors ---- */

static enum sg_status map_error(int err)
{
    switch (err)
    {
    case GNUTLS_E_MEMORY_ERROR:
        return SG_ERR_NO_MEMORY;
    case GNUTLS_E_DECRYPTION_FAILED:
        return SG_ERR_DECRYPT;
    case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
    case GNUTLS_E_RECORD_OVERFLOW:
    case GNUTLS_E_UNEXPECTED_EXTENSIONS_LENGTH:
    case GNUTLS_E_HANDSHAKE_TOO_LARGE:
    case GNUTLS_E_TOO_MANY_EMPTY_PACKETS:
    case GNUTLS_E_TOO_MANY_HANDSHAKE_PACKETS:
    case GNUTLS_E_RECEIVED_ILLEGAL_EXTENSION:
    case GNUTLS_E_PARSING_ERROR:
    case GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET:
        return SG_ERR_INVALID_TOKEN;
    case GNUTLS_E_UNEXPECTED_PACKET:
    case GNUTLS_E_WARNING_ALERT_RECEIVED:
    case GNUTLS_E_FATAL_ALERT_RECEIVED:
    case GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER:
    case GNUTLS_E_ILLEGAL_PARAMETER:
    case GNUTLS_E_SAFE_RENEGOTIATION_FAILED:
    case GNUTLS_E_UNSAFE_RENEGOTIATION_DENIED:
    case GNUTLS_E_GOT_APPLICATION_DATA:
    case GNUTLS_E_PREMATURE_TERMINATION:
        return SG_ERR_ILLEGAL_MESSAGE;
    case GNUTLS_E_NO_CIPHER_SUITES:
    case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
    case GNUTLS_E_INSUFFICIENT_SECURITY:
    case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
    case GNUTLS_E_NO_COMMON_KEY_SHARE:
    case GNUTLS_E_UNWANTED_ALGORITHM:
    case GNUTLS_E_ECC_NO_SUPPORTED_CURVES:
    case GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM:
    case GNUTLS_E_UNKNOWN_PK_ALGORITHM:
    case GNUTLS_E_NO_PRIORITIES_WERE_SET:
        return SG_ERR_ALGORITHM_MISMATCH;
    case GNUTLS_E_CERTIFICATE_ERROR:
    case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
    case GNUTLS_E_PK_SIG_VERIFY_FAILED:
    case GNUTLS_E_NO_CERTIFICATE_FOUND:
    case GNUTLS_E_CERTIFICATE_KEY_MISMATCH:
    case GNUTLS_E_ASN1_DER_ERROR:
    case GNUTLS_E_ASN1_VALUE_NOT_FOUND:
    case GNUTLS_E_ASN1_GENERIC_ERROR:
    case GNUTLS_E_ASN1_VALUE_NOT_VALID:
    case GNUTLS_E_ASN1_TAG_ERROR:
    case GNUTLS_E_ASN1_TAG_IMPLICIT:
    case GNUTLS_E_ASN1_TYPE_ANY_ERROR:
    case GNUTLS_E_ASN1_SYNTAX_ERROR:
    case GNUTLS_E_ASN1_DER_OVERFLOW:
        return SG_ERR_BAD_CERT;
    case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
        return SG_ERR_NO_CREDENTIALS;
    case GNUTLS_E_NO_APPLICATION_PROTOCOL:
        return SG_ERR_APPLICATION_PROTOCOL;
    default:
        return SG_ERR_INTERNAL;
    }
}

/* Gives GnuTLS the record layer back (engine_fastrec.h): call before any GnuTLS call that
 * reads or writes records. */
static void records_to_gnutls(struct engine_session *s)
{
    engine_fastrec_release(&s->fastrec, s->tls);
}

/* The info the fast path may work with now, NULL when only GnuTLS may read and write. */
static const struct sg_session_info *fastrec_info(struct engine_session *s)
{
    return s->handshake_done && !s->renegotiating && !s->reauth && !s->dtls ? &s->info : NULL;
}

/* Sends the alert GnuTLS associates with err (into the pending token) and returns it. */
static uint32_t send_alert_for(struct engine_session *s, int err)
{
    int level, alert;

    records_to_gnutls(s);
    if (err == GNUTLS_E_FATAL_ALERT_RECEIVED || err == GNUTLS_E_WARNING_ALERT_RECEIVED)
        return gnutls_alert_get(s->tls);
    alert = gnutls_error_to_alert(err, &level);
    if (alert < 0) return SG_ALERT_NONE;
    s->push_target = &s->out;
    if (gnutls_alert_send(s->tls, level, alert) < 0) return SG_ALERT_NONE;
    return alert;
}

/* ---- credentials ---- */

static const char *priority_for(uint32_t protocols)
{
    /* Indexed by the SG_PROTO_* mask. */
    static const char *const strings[16] =
    {
        NULL,
        "NORMAL:-VERS-ALL:+VERS-TLS1.0" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.1" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.2" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.0" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.0" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.1" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.1:+VERS-TLS1.0" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.0" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1" ENGINE_GROUP_ORDER,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0" ENGINE_GROUP_ORDER,
    };
    return strings[protocols & 0xf];
}

static int import_rsa_key(gnutls_x509_privkey_t key, const uint8_t *blob, size_t size)
{
    struct field_reader r = { blob, size, 0 };
    gnutls_datum_t f[8]; /* n, e, d, p, q, dp, dq, qinv */
    unsigned int i;
    int ret;

    for (i = 0; i < 8; i++)
        if (read_field(&r, &f[i])) return GNUTLS_E_INVALID_REQUEST;
    if (r.pos != size) return GNUTLS_E_INVALID_REQUEST;
    for (i = 0; i < 5; i++)
        if (!f[i].size) return GNUTLS_E_INVALID_REQUEST;

    /* The CRT values (dp, dq, qinv) are not passed on: GnuTLS (3.7, lib/nettle/pk.c fixup on
     * import) recomputes its coefficient as q^-1 mod p (= PKCS #1 qInv) and dp, dq from
     * d, p, q anyway, so the key is consistent whatever the caller sent. */
    ret = gnutls_x509_privkey_import_rsa_raw2(key, &f[0], &f[1], &f[2], &f[3], &f[4], NULL, NULL, NULL);
    if (ret < 0) return ret;
    return gnutls_x509_privkey_verify_params(key);
}

static int import_ec_key(gnutls_x509_privkey_t key, const uint8_t *blob, size_t size)
{
    struct field_reader r = { blob, size, 0 };
    gnutls_datum_t x, y, d;
    gnutls_ecc_curve_t curve;
    uint32_t group;
    int ret;

    if (read_u32(&r, &group) || read_field(&r, &x) || read_field(&r, &y) || read_field(&r, &d))
        return GNUTLS_E_INVALID_REQUEST;
    if (r.pos != size) return GNUTLS_E_INVALID_REQUEST;
    switch (group)
    {
    case 23: curve = GNUTLS_ECC_CURVE_SECP256R1; break;
    case 24: curve = GNUTLS_ECC_CURVE_SECP384R1; break;
    case 25: curve = GNUTLS_ECC_CURVE_SECP521R1; break;
    default: return GNUTLS_E_ECC_UNSUPPORTED_CURVE;
    }
    ret = gnutls_x509_privkey_import_ecc_raw(key, curve, &x, &y, &d);
    if (ret < 0) return ret;
    return gnutls_x509_privkey_verify_params(key);
}

static int check_pcert(gnutls_x509_crt_t crt)
{
    gnutls_pcert_st pcert;
    int ret = gnutls_pcert_import_x509(&pcert, crt, 0);

    if (ret < 0) return ret;
    gnutls_pcert_deinit(&pcert);
    return 0;
}

static int import_chain_and_key(gnutls_certificate_credentials_t certs, const uint8_t *chain, size_t chain_size,
                                uint32_t key_format, const uint8_t *key_blob, size_t key_size)
{
    struct field_reader r = { chain, chain_size, 0 };
    gnutls_x509_crt_t *crts = NULL;
    gnutls_x509_privkey_t key = NULL;
    unsigned int count = 0, i;
    int ret;

    /* Every entry takes at least 4 bytes, so this bounds the count. */
    if (!(crts = calloc(chain_size / 4 + 1, sizeof(*crts)))) return GNUTLS_E_MEMORY_ERROR;
    while (r.pos < chain_size)
    {
        gnutls_datum_t der;
        if (read_field(&r, &der) || !der.size) { ret = GNUTLS_E_CERTIFICATE_ERROR; goto done; }
        if ((ret = gnutls_x509_crt_init(&crts[count])) < 0) goto done;
        count++;
        if ((ret = gnutls_x509_crt_import(crts[count - 1], &der, GNUTLS_X509_FMT_DER)) < 0) goto done;
        /* GnuTLS 3.7 leaks the key when gnutls_certificate_set_x509_key() fails to convert a
         * certificate (e.g. an unparsable public key): find such certificates first. */
        if ((ret = check_pcert(crts[count - 1])) < 0) goto done;
    }
    if (!count) { ret = GNUTLS_E_CERTIFICATE_ERROR; goto done; }

    if ((ret = gnutls_x509_privkey_init(&key)) < 0) goto done;
    switch (key_format)
    {
    case SG_KEY_RSA_COMPONENTS: ret = import_rsa_key(key, key_blob, key_size); break;
    case SG_KEY_EC_COMPONENTS: ret = import_ec_key(key, key_blob, key_size); break;
    default: ret = GNUTLS_E_INSUFFICIENT_CREDENTIALS; break;
    }
    if (ret < 0) goto done;
    ret = gnutls_certificate_set_x509_key(certs, crts, count, key);

done:
    if (key) gnutls_x509_privkey_deinit(key); /* GnuTLS zeroizes the key's integers */
    for (i = 0; i < count; i++) gnutls_x509_crt_deinit(crts[i]);
    free(crts);
    return ret < 0 ? ret : 0;
}

static int import_into(void *certs, const uint8_t *chain, size_t chain_size, uint32_t key_format,
                       const uint8_t *key, size_t key_size)
{
    return import_chain_and_key(certs, chain, chain_size, key_format, key, key_size);
}

static void cred_destroy(struct engine_cred *cred)
{
    cred->magic = DEAD_MAGIC;
    engine_certs_release(cred->certs);  /* shared with credentials of the same certificate */
    if (cred->priority) gnutls_priority_deinit(cred->priority);
    engine_server_ext_free(cred->server);
    if (cred->ticket_key.data)
    {
        gnutls_memset(cred->ticket_key.data, 0, cred->ticket_key.size);
        gnutls_free(cred->ticket_key.data);
    }
    free(cred);
}

enum sg_status engine_cred_create(uint32_t role, uint32_t protocols,
                                  const uint8_t *chain, size_t chain_size,
                                  uint32_t key_format, const uint8_t *key, size_t key_size,
                                  struct engine_cred **out, int *library_error)
{
    struct engine_cred *cred;
    const char *prio = priority_for(protocols);
    enum sg_status status;
    int ret;

    *out = NULL;
    *library_error = 0;
    if ((role != SG_CRED_CLIENT && role != SG_CRED_SERVER) || !prio || (protocols & ~0xfu))
        return SG_ERR_INVALID_PARAMETER;
    if (role == SG_CRED_SERVER && (!chain_size || key_format == SG_KEY_NONE))
        return SG_ERR_NO_CREDENTIALS;
    if (chain_size && key_format == SG_KEY_NONE) return SG_ERR_NO_CREDENTIALS;

    if (!(cred = calloc(1, sizeof(*cred)))) return SG_ERR_NO_MEMORY;
    cred->magic = CRED_MAGIC;
    cred->role = role;
    cred->refs = 1;

    if ((ret = gnutls_priority_init(&cred->priority, prio, NULL)) < 0) goto fail;
    if ((ret = engine_certs_acquire(role, chain, chain_size, key_format, key, key_size, import_into,
                                    (void **)&cred->certs)) < 0)
        goto fail;
    if (role == SG_CRED_SERVER && (ret = gnutls_session_ticket_key_generate(&cred->ticket_key)) < 0)
        goto fail;
    *out = cred;
    return SG_OK;

fail:
    *library_error = ret;
    switch (ret)
    {
    case GNUTLS_E_MEMORY_ERROR: status = SG_ERR_NO_MEMORY; break;
    case GNUTLS_E_INVALID_REQUEST:
    case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
    case GNUTLS_E_CERTIFICATE_KEY_MISMATCH:
    case GNUTLS_E_ECC_UNSUPPORTED_CURVE:
    case GNUTLS_E_PK_INVALID_PRIVKEY:
        status = SG_ERR_NO_CREDENTIALS; break;
    case GNUTLS_E_CERTIFICATE_ERROR: status = SG_ERR_BAD_CERT; break;
    default: status = map_error(ret); break;
    }
    if (status == SG_ERR_INTERNAL && chain_size) status = SG_ERR_BAD_CERT;
    cred_destroy(cred);
    return status;
}

static void cred_addref(struct engine_cred *cred)
{
    __atomic_add_fetch(&cred->refs, 1, __ATOMIC_RELAXED);
}

void engine_cred_release(struct engine_cred *cred)
{
    if (cred && !__atomic_sub_fetch(&cred->refs, 1, __ATOMIC_ACQ_REL)) cred_destroy(cred);
}

struct engine_cred *engine_cred_from_handle(uint64_t handle)
{
    struct engine_cred *cred = (struct engine_cred *)(uintptr_t)handle;
    if (!handle || handle != (uint64_t)(uintptr_t)cred || cred->magic != CRED_MAGIC) return NULL;
    return cred;
}

/* ---- sessions ---- */

static int is_ip_literal(const char *name, size_t size)
{
    char buf[TLS_MAX_SNI + 1];
    unsigned char addr[16];

    if (size >= sizeof(buf)) return 0;
    memcpy(buf, name, size);
    buf[size] = 0;
    return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

static enum sg_status session_create(struct engine_cred *cred, int server, int datagram,
                                     const char *server_name, size_t server_name_size,
                                     struct engine_session **out, int *library_error);

enum sg_status engine_session_create(struct engine_cred *cred, int server,
                                     const char *server_name, size_t server_name_size,
                                     struct engine_session **out, int *library_error)
{
    return session_create(cred, server, 0, server_name, server_name_size, out, library_error);
}

/* DTLS: a session in GnuTLS's datagram mode; engine_dtls.c replaces its transport. */
enum sg_status engine_session_create_datagram(struct engine_cred *cred, int server,
                                              const char *server_name, size_t server_name_size,
                                              struct engine_session **out, int *library_error)
{
    return session_create(cred, server, 1, server_name, server_name_size, out, library_error);
}

static enum sg_status session_create(struct engine_cred *cred, int server, int datagram,
                                     const char *server_name, size_t server_name_size,
                                     struct engine_session **out, int *library_error)
{
    struct engine_session *s;
    unsigned int flags;
    int ret;

    *out = NULL;
    *library_error = 0;
    if (!cred || server_name_size > TLS_MAX_SNI || (server_name_size && !server_name))
        return SG_ERR_INVALID_PARAMETER;
    if (server && cred->role != SG_CRED_SERVER) return SG_ERR_NO_CREDENTIALS;
    if (!server && cred->role != SG_CRED_CLIENT) return SG_ERR_NO_CREDENTIALS;

    if (!(s = calloc(1, sizeof(*s)))) return SG_ERR_NO_MEMORY;
    s->magic = SESSION_MAGIC;
    s->server = server;
    s->failed = SG_OK;
    s->push_target = &s->out;

    flags = (server ? GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET : GNUTLS_CLIENT) | GNUTLS_NONBLOCK | GNUTLS_NO_AUTO_REKEY;
    if (datagram) flags |= GNUTLS_DATAGRAM | GNUTLS_NO_TICKETS;  /* DTLS servers resume by session id */
    /* A server may ask for a client certificate after the handshake (AcceptSecurityContext
     * again, engine_server.c): TLS 1.3 post-handshake authentication when the client offered
     * it, a TLS 1.2 renegotiation otherwise. GnuTLS 3.7 cannot renegotiate a TLS 1.2 session
     * that started with a session ticket (its client then waits for a new ticket, which its
     * server fails to build), so TLS 1.2 resumes by session id only, as a Windows server
     * without administrator-configured ticket keys does; TLS 1.3 keeps its tickets. */
    if (server && !datagram) flags |= GNUTLS_POST_HANDSHAKE_AUTH | GNUTLS_NO_TICKETS_TLS12;
    if ((ret = gnutls_init(&s->tls, flags)) < 0) goto fail;
    s->cred = cred;
    cred_addref(cred);

    if ((ret = gnutls_priority_set(s->tls, cred->priority)) < 0) goto fail;
    if ((ret = gnutls_credentials_set(s->tls, GNUTLS_CRD_CERTIFICATE, cred->certs)) < 0) goto fail;
    gnutls_transport_set_ptr(s->tls, s);
    gnutls_transport_set_push_function(s->tls, push_cb);
    gnutls_transport_set_pull_function(s->tls, pull_cb);
    gnutls_transport_set_pull_timeout_function(s->tls, pull_timeout_cb);
    gnutls_handshake_set_timeout(s->tls, 0);

    if (server)
    {
        gnutls_certificate_server_set_request(s->tls, GNUTLS_CERT_IGNORE);
        if ((ret = engine_server_session_setup(cred->server, s->tls, &cred->ticket_key)) < 0) goto fail;
    }
    else if (server_name_size && !is_ip_literal(server_name, server_name_size))
    {
        if ((ret = gnutls_server_name_set(s->tls, GNUTLS_NAME_DNS, server_name, server_name_size)) < 0)
            goto fail;
    }
    *out = s;
    return SG_OK;

fail:
    *library_error = ret;
    engine_session_free(s);
    return ret == GNUTLS_E_MEMORY_ERROR ? SG_ERR_NO_MEMORY : SG_ERR_INTERNAL;
}

void engine_session_free(struct engine_session *s)
{
    if (!s) return;
    s->magic = DEAD_MAGIC;
    if (s->tls) gnutls_deinit(s->tls);
    engine_dtls_free(s->dtls);
    engine_client_cert_free(s->client_cert);  /* after gnutls_deinit: it owns credentials the session used */
    engine_fastrec_free(&s->fastrec);
    if (s->out.data) gnutls_memset(s->out.data, 0, s->out.cap);
    buffer_free(&s->out);
    engine_cred_release(s->cred);
    free(s);
}

struct engine_session *engine_session_from_handle(uint64_t handle)
{
    struct engine_session *s = (struct engine_session *)(uintptr_t)handle;
    if (!handle || handle != (uint64_t)(uintptr_t)s || s->magic != SESSION_MAGIC) return NULL;
    return s;
}

/* ---- session description ---- */

static uint32_t map_protocol(gnutls_protocol_t version)
{
    switch (version)
    {
    case GNUTLS_TLS1_0: return SG_PROTO_TLS1_0;
    case GNUTLS_TLS1_1: return SG_PROTO_TLS1_1;
    case GNUTLS_TLS1_2: return SG_PROTO_TLS1_2;
    case GNUTLS_TLS1_3: return SG_PROTO_TLS1_3;
    default: return 0;
    }
}

static uint32_t map_cipher(gnutls_cipher_algorithm_t cipher)
{
    switch (cipher)
    {
    case GNUTLS_CIPHER_AES_128_GCM: return SG_CIPHER_AES_128_GCM;
    case GNUTLS_CIPHER_AES_256_GCM: return SG_CIPHER_AES_256_GCM;
    case GNUTLS_CIPHER_CHACHA20_POLY1305: return SG_CIPHER_CHACHA20_POLY1305;
    case GNUTLS_CIPHER_AES_128_CBC: return SG_CIPHER_AES_128_CBC;
    case GNUTLS_CIPHER_AES_256_CBC: return SG_CIPHER_AES_256_CBC;
    case GNUTLS_CIPHER_3DES_CBC: return SG_CIPHER_3DES_CBC;
    case GNUTLS_CIPHER_AES_128_CCM: return SG_CIPHER_AES_128_CCM;
    case GNUTLS_CIPHER_AES_256_CCM: return SG_CIPHER_AES_256_CCM;
    case GNUTLS_CIPHER_NULL: return SG_CIPHER_NONE;
    default: return SG_CIPHER_OTHER;
    }
}

static uint32_t map_digest(gnutls_digest_algorithm_t digest)
{
    switch (digest)
    {
    case GNUTLS_DIG_SHA1: return SG_HASH_SHA1;
    case GNUTLS_DIG_SHA256: return SG_HASH_SHA256;
    case GNUTLS_DIG_SHA384: return SG_HASH_SHA384;
    case GNUTLS_DIG_NULL: return SG_HASH_NONE;
    default: return SG_HASH_OTHER;
    }
}

static int is_aead(gnutls_cipher_algorithm_t cipher)
{
    switch (cipher)
    {
    case GNUTLS_CIPHER_AES_128_GCM:
    case GNUTLS_CIPHER_AES_256_GCM:
    case GNUTLS_CIPHER_AES_128_CCM:
    case GNUTLS_CIPHER_AES_256_CCM:
    case GNUTLS_CIPHER_AES_128_CCM_8:
    case GNUTLS_CIPHER_AES_256_CCM_8:
    case GNUTLS_CIPHER_CHACHA20_POLY1305:
        return 1;
    default:
        return 0;
    }
}

static uint32_t aead_tag_size(gnutls_cipher_algorithm_t cipher)
{
    if (cipher == GNUTLS_CIPHER_AES_128_CCM_8 || cipher == GNUTLS_CIPHER_AES_256_CCM_8) return 8;
    return 16;
}

/* GnuTLS's cipher suite list, read once: gnutls_cipher_suite_info() walks its table from
 * the start on every call, which made describing each new session cost as much as a
 * hundred small lookups. */
struct suite
{
    uint16_t id;
    uint8_t tls13;
    gnutls_kx_algorithm_t kx;
    gnutls_cipher_algorithm_t cipher;
    gnutls_mac_algorithm_t mac;
};

#define MAX_SUITES 512
static struct suite suites[MAX_SUITES];
static size_t suite_count;
static pthread_once_t suites_once = PTHREAD_ONCE_INIT;

static void suites_init(void)
{
    gnutls_protocol_t min;
    unsigned char id[2];
    size_t i;

    for (i = 0; suite_count < MAX_SUITES && gnutls_cipher_suite_info(i, id, &suites[suite_count].kx,
                                                 &suites[suite_count].cipher, &suites[suite_count].mac, &min); i++)
    {
        suites[suite_count].id = (id[0] << 8) | id[1];
        suites[suite_count].tls13 = min == GNUTLS_TLS1_3;
        suite_count++;
    }
}

static uint32_t find_suite(gnutls_protocol_t version, gnutls_kx_algorithm_t kx,
                           gnutls_cipher_algorithm_t cipher, gnutls_mac_algorithm_t mac)
{
    size_t i;

    pthread_once(&suites_once, suites_init);
    for (i = 0; i < suite_count; i++)
    {
        const struct suite *e = &suites[i];

        if (e->cipher != cipher) continue;
        if (version == GNUTLS_TLS1_3)
        {
            if (!e->tls13) continue;
        }
        else if (e->tls13 || e->kx != kx || e->mac != mac) continue;
        return e->id;
    }
    return 0;
}

static void describe_kx(struct engine_session *s, gnutls_kx_algorithm_t kx, struct sg_session_info *info)
{
    gnutls_group_t group = gnutls_group_get(s->tls);

    switch (group)
    {
    case GNUTLS_GROUP_X25519: info->kx = SG_KX_ECDHE; info->kx_bits = 255; return;
    case GNUTLS_GROUP_X448: info->kx = SG_KX_ECDHE; info->kx_bits = 448; return;
    case GNUTLS_GROUP_SECP192R1: info->kx = SG_KX_ECDHE; info->kx_bits = 192; return;
    case GNUTLS_GROUP_SECP224R1: info->kx = SG_KX_ECDHE; info->kx_bits = 224; return;
    case GNUTLS_GROUP_SECP256R1: info->kx = SG_KX_ECDHE; info->kx_bits = 256; return;
    case GNUTLS_GROUP_SECP384R1: info->kx = SG_KX_ECDHE; info->kx_bits = 384; return;
    case GNUTLS_GROUP_SECP521R1: info->kx = SG_KX_ECDHE; info->kx_bits = 521; return;
    case GNUTLS_GROUP_FFDHE2048: info->kx = SG_KX_DHE; info->kx_bits = 2048; return;
    case GNUTLS_GROUP_FFDHE3072: info->kx = SG_KX_DHE; info->kx_bits = 3072; return;
    case GNUTLS_GROUP_FFDHE4096: info->kx = SG_KX_DHE; info->kx_bits = 4096; return;
    case GNUTLS_GROUP_FFDHE6144: info->kx = SG_KX_DHE; info->kx_bits = 6144; return;
    case GNUTLS_GROUP_FFDHE8192: info->kx = SG_KX_DHE; info->kx_bits = 8192; return;
    default: break;
    }

    switch (kx)
    {
    case GNUTLS_KX_DHE_RSA:
    case GNUTLS_KX_DHE_DSS:
        info->kx = SG_KX_DHE;
        info->kx_bits = gnutls_dh_get_prime_bits(s->tls) > 0 ? gnutls_dh_get_prime_bits(s->tls) : 0;
        return;
    case GNUTLS_KX_ECDHE_RSA:
    case GNUTLS_KX_ECDHE_ECDSA:
        info->kx = SG_KX_ECDHE;
        info->kx_bits = gnutls_ecc_curve_get_size(gnutls_ecc_curve_get(s->tls)) * 8;
        return;
    case GNUTLS_KX_RSA:
    {
        const gnutls_datum_t *der = NULL;
        unsigned int count = 0, bits = 0;
        gnutls_x509_crt_t crt;

        info->kx = SG_KX_RSA;
        der = s->server ? gnutls_certificate_get_ours(s->tls) : gnutls_certificate_get_peers(s->tls, &count);
        if (der && gnutls_x509_crt_init(&crt) >= 0)
        {
            if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) >= 0)
                gnutls_x509_crt_get_pk_algorithm(crt, &bits);
            gnutls_x509_crt_deinit(crt);
        }
        info->kx_bits = bits;
        return;
    }
    default:
        info->kx = SG_KX_OTHER;
        info->kx_bits = 0;
        return;
    }
}

/* What follows from the negotiated suite alone: the suite id, cipher, hash and record
 * framing. */
static void describe_suite(gnutls_session_t tls, gnutls_protocol_t version, gnutls_kx_algorithm_t kx,
                           gnutls_cipher_algorithm_t cipher, gnutls_mac_algorithm_t mac,
                           struct sg_session_info *info)
{
    info->protocol = map_protocol(version);
    info->cipher_suite = find_suite(version, kx, cipher, mac);
    info->cipher = map_cipher(cipher);
    info->cipher_bits = gnutls_cipher_get_key_size(cipher) * 8;
    if (is_aead(cipher) || mac == GNUTLS_MAC_AEAD)
    {
        gnutls_digest_algorithm_t prf = gnutls_prf_hash_get(tls);
        info->hash = map_digest(prf);
        info->hash_bits = gnutls_hash_get_len(prf) * 8;
    }
    else
    {
        info->hash = map_digest((gnutls_digest_algorithm_t)mac);
        info->hash_bits = gnutls_hmac_get_len(mac) * 8;
    }

    if (version == GNUTLS_TLS1_3)
    {
        info->header_size = TLS_HEADER_SIZE;
        info->trailer_size = aead_tag_size(cipher) + 1;
        info->block_size = 1;
    }
    else if (is_aead(cipher))
    {
        info->header_size = TLS_HEADER_SIZE + (cipher == GNUTLS_CIPHER_CHACHA20_POLY1305 ? 0 : 8);
        info->trailer_size = aead_tag_size(cipher);
        info->block_size = 1;
    }
    else
    {
        unsigned int block = gnutls_cipher_get_block_size(cipher);
        if (!block) block = 1;
        info->block_size = block;
        info->header_size = TLS_HEADER_SIZE + (version >= GNUTLS_TLS1_1 && block > 1 ? block : 0);
        /* MAC plus the padding GnuTLS adds (1..block bytes, the length byte included). */
        info->trailer_size = gnutls_hmac_get_len(mac) + (block > 1 ? block : 0);
    }
}

/* The last suite this thread described: GnuTLS answers the suite questions by walking its
 * algorithm tables, and a thread's connections mostly negotiate the same suite (this was a
 * visible share of a resumed handshake's engine time). The key packs the four enums, each
 * below 256 (nonzero: there is no version 0). */
static __thread struct
{
    uint32_t key;
    struct sg_session_info info;
} last_suite;

static void describe_session(struct engine_session *s)
{
    struct sg_session_info *info = &s->info;
    gnutls_protocol_t version = gnutls_protocol_get_version(s->tls);
    gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(s->tls);
    gnutls_mac_algorithm_t mac = gnutls_mac_get(s->tls);
    gnutls_kx_algorithm_t kx = gnutls_kx_get(s->tls);
    size_t max = gnutls_record_get_max_size(s->tls);
    uint32_t key = 0;

    if (version > 0 && version < 256 && kx < 256 && cipher < 256 && mac < 256)
        key = (uint32_t)version << 24 | (uint32_t)kx << 16 | (uint32_t)cipher << 8 | (uint32_t)mac;
    memset(info, 0, sizeof(*info));
    if (key && last_suite.key == key) *info = last_suite.info;
    else
    {
        describe_suite(s->tls, version, kx, cipher, mac, info);
        if (key)
        {
            last_suite.info = *info;
            last_suite.key = key;
        }
    }
    describe_kx(s, kx, info);
    info->max_message = max && max < TLS_MAX_PLAINTEXT ? max : TLS_MAX_PLAINTEXT;
    info->resumed = gnutls_session_is_resumed(s->tls) ? 1 : 0;
}

enum sg_status engine_session_info(struct engine_session *s, struct sg_session_info *info)
{
    if (!s->handshake_done) return SG_ERR_INVALID_PARAMETER;
    *info = s->info;
    return SG_OK;
}

/* ---- handshake ---- */

static void deliver_output(struct engine_session *s, uint8_t *output, size_t capacity, size_t *output_size)
{
    *output_size = s->out.len;
    if (s->out.len && s->out.len <= capacity)
    {
        memcpy(output, s->out.data, s->out.len);
        s->out.len = 0;
    }
}

void engine_handshake(struct engine_session *s, const uint8_t *input, size_t input_size,
                      uint8_t *output, size_t output_capacity, struct engine_step *step)
{
    size_t whole, missing, out_before = s->out.len;
    enum record_scan scan;
    int ret;

    records_to_gnutls(s);
    memset(step, 0, sizeof(*step));
    step->alert = SG_ALERT_NONE;
    if (s->failed != SG_OK)
    {
        step->status = s->failed;
        return;
    }
    if (s->handshake_done && !s->renegotiating)
    {
        step->status = SG_ERR_INVALID_PARAMETER;
        return;
    }

    scan = scan_records(input, input_size, &whole, &missing);
    if (scan == SCAN_INVALID && !whole)
    {
        /* Not TLS at all: tell the peer, give up on the session. */
        s->push_target = &s->out;
        if (gnutls_alert_send(s->tls, GNUTLS_AL_FATAL, GNUTLS_A_DECODE_ERROR) >= 0)
            step->alert = GNUTLS_A_DECODE_ERROR;
        step->status = s->failed = SG_ERR_INVALID_TOKEN;
        deliver_output(s, output, output_capacity, &step->output_size);
        return;
    }

    set_input(s, input, whole);
    s->push_target = &s->out;
    for (;;)
    {
        size_t pos = s->in.pos;
        ret = s->reauth ? gnutls_reauth(s->tls, 0) : gnutls_handshake(s->tls);
        /* A warning alert (e.g. unrecognized_name) does not end the handshake, and GnuTLS
         * stops after each record of a handshake message split across records; go on
         * while whole records are left. Each round consumed a record: that bounds the loop. */
        if (ret == GNUTLS_E_AGAIN && s->in.pos > pos && s->in.pos < s->in.whole) continue;
        if (ret != GNUTLS_E_WARNING_ALERT_RECEIVED || s->in.pos == pos) break;
        step->alert = gnutls_alert_get(s->tls);
        /* A server refusing our renegotiation: GnuTLS would offer its ClientHello again. */
        if (s->renegotiating && !s->server && step->alert == GNUTLS_A_NO_RENEGOTIATION) break;
    }
    step->consumed = s->in.pos;
    clear_input(s);

    if (ret == 0)
    {
        int reauth = s->reauth;

        s->handshake_done = 1;
        s->renegotiating = 0;
        s->reauth = 0;
        describe_session(s);
        step->status = SG_OK;
        /* As a Windows server does, send the TLS 1.3 ticket once the client's Finished
         * arrived, in the final token (GnuTLS would otherwise send it with its first flight). */
        if (s->server && !reauth && gnutls_protocol_get_version(s->tls) == GNUTLS_TLS1_3)
            gnutls_session_ticket_send(s->tls, 1, 0);
    }
    else if (ret == GNUTLS_E_AGAIN)
    {
        if (!whole && s->out.len == out_before)
        {
            step->status = SG_INCOMPLETE;
            step->missing = input_size ? missing : TLS_HEADER_SIZE;
        }
        else step->status = SG_CONTINUE;
    }
    else
    {
        step->library_error = ret;
        step->status = s->failed = map_error(ret);
        step->alert = send_alert_for(s, ret);
        step->alert_received = ret == GNUTLS_E_FATAL_ALERT_RECEIVED || ret == GNUTLS_E_WARNING_ALERT_RECEIVED;
    }
    deliver_output(s, output, output_capacity, &step->output_size);
    /* Established and nothing pending: the token buffer is idle until a rare alert,
     * close_notify or renegotiation (buffer_append allocates it again). */
    if (s->handshake_done && !s->out.len) buffer_free(&s->out);
}

void engine_take_output(struct engine_session *s, uint8_t *output, size_t capacity, size_t *output_size)
{
    deliver_output(s, output, capacity, output_size);
}

enum sg_status engine_fetch_output(struct engine_session *s, uint8_t *output, size_t capacity, size_t *output_size)
{
    *output_size = s->out.len;
    if (s->out.len > capacity) return SG_ERR_BUFFER_TOO_SMALL;
    if (s->out.len) memcpy(output, s->out.data, s->out.len);
    s->out.len = 0;
    return SG_OK;
}

/* ---- records ---- */

void engine_encrypt(struct engine_session *s, uint8_t *header, size_t header_capacity,
                    uint8_t *data, size_t data_size, uint8_t *trailer, size_t trailer_capacity,
                    struct engine_seal *seal)
{
    const struct sg_session_info *info = &s->info;
    struct engine_scatter scatter;
    size_t header_size, trailer_size;
    ssize_t ret;

    memset(seal, 0, sizeof(*seal));
    if (s->failed != SG_OK)
    {
        seal->status = s->failed;
        return;
    }
    if (!s->handshake_done || data_size > info->max_message)
    {
        seal->status = SG_ERR_INVALID_PARAMETER;
        return;
    }
    if (header_capacity < info->header_size || trailer_capacity < info->trailer_size)
    {
        seal->status = SG_ERR_BUFFER_TOO_SMALL;
        return;
    }

    if (!data_size)
    {
        /* GnuTLS sends no empty application-data record: nothing to write. */
        seal->status = SG_OK;
        return;
    }

    switch (engine_fastrec_seal(&s->fastrec, s->tls, fastrec_info(s), header, data, data_size, trailer,
                                &trailer_size, &seal->library_error))
    {
    case FASTREC_DONE:
        seal->header_used = info->header_size;
        seal->trailer_used = trailer_size;
        seal->status = SG_OK;
        return;
    case FASTREC_FAILED:
        seal->status = s->failed = SG_ERR_INTERNAL;
        return;
    case FASTREC_SLOW:
        break;
    }

    /* The record goes straight into the caller's regions: header, body over the plaintext
     * (GnuTLS has encrypted it before it pushes), tag and padding in the trailer. */
    memset(&scatter, 0, sizeof(scatter));
    header_size = info->header_size;
    scatter.part[0] = header;
    scatter.size[0] = header_size;
    scatter.part[1] = data;
    scatter.size[1] = data_size;
    scatter.part[2] = trailer;
    scatter.size[2] = trailer_capacity;
    s->scatter = &scatter;
    ret = gnutls_record_send(s->tls, data, data_size);
    s->scatter = NULL;
    if (ret < 0)
    {
        seal->library_error = ret;
        seal->status = s->failed = ret == GNUTLS_E_PUSH_ERROR ? SG_ERR_INTERNAL : map_error(ret);
        return;
    }
    if ((size_t)ret != data_size || !scatter.expected || scatter.written != scatter.expected)
    {
        seal->library_error = GNUTLS_E_INTERNAL_ERROR;
        seal->status = s->failed = SG_ERR_INTERNAL;
        return;
    }
    trailer_size = scatter.written - header_size - data_size;
    seal->header_used = header_size;
    seal->trailer_used = trailer_size;
    seal->status = SG_OK;
}

/* A KeyUpdate that asked for one back makes GnuTLS queue our KeyUpdate in front of the next
 * data record, where it cannot fit the caller's record buffers. Send it now instead, into
 * the pending output: a zero-byte send emits the queued KeyUpdate and nothing else, and
 * is refused without side effects when nothing is queued. */
static void flush_key_update(struct engine_session *s)
{
    static const uint8_t nothing;

    records_to_gnutls(s);
    s->push_target = &s->out;
    gnutls_record_send(s->tls, &nothing, 0);
}

/* The bytes of data that belong to its first record (all of them when its header is cut). */
static size_t first_record_span(const uint8_t *data, size_t size)
{
    size_t len;

    if (size < TLS_HEADER_SIZE) return size;
    len = TLS_HEADER_SIZE + (((size_t)data[3] << 8) | data[4]);
    return len < size ? len : size;
}

void engine_decrypt(struct engine_session *s, uint8_t *buffer, size_t size, struct engine_open *open)
{
    size_t whole, missing, record, offset;
    enum record_scan scan;
    ssize_t ret;

    memset(open, 0, sizeof(*open));
    open->alert = SG_ALERT_NONE;
    if (s->failed != SG_OK)
    {
        open->status = s->failed;
        return;
    }
    if (!s->handshake_done)
    {
        open->status = SG_ERR_INVALID_PARAMETER;
        return;
    }

    /* Only the first record is opened: look at it alone, not at everything the caller has
     * buffered (walking all of it made each call cost O(buffered records)). */
    scan = scan_records(buffer, first_record_span(buffer, size), &whole, &missing);
    if (!whole)
    {
        if (scan == SCAN_INVALID) open->status = SG_ERR_INVALID_TOKEN;
        else
        {
            open->status = SG_INCOMPLETE;
            open->missing = size ? missing : TLS_HEADER_SIZE;
        }
        return;
    }
    record = TLS_HEADER_SIZE + (((size_t)buffer[3] << 8) | buffer[4]);
    offset = s->info.header_size;
    if (record <= offset)
    {
        /* Too short to hold even an empty protected record. */
        open->consumed = record;
        open->status = SG_ERR_DECRYPT;
        open->library_error = GNUTLS_E_DECRYPTION_FAILED;
        return;
    }

    if (engine_fastrec_open(&s->fastrec, s->tls, fastrec_info(s), buffer, &open->data_size) == FASTREC_DONE)
    {
        open->status = SG_OK;
        open->consumed = record;
        open->data_offset = offset;
        open->output_pending = s->out.len;
        return;
    }

    /* GnuTLS pulls the whole record into its own buffer before it writes plaintext. */
    set_input(s, buffer, record);
    s->push_target = &s->out;
    ret = gnutls_record_recv(s->tls, buffer + offset, record - offset);
    open->consumed = s->in.pos;
    clear_input(s);

    if (ret > 0)
    {
        open->status = SG_OK;
        open->data_offset = offset;
        open->data_size = ret;
    }
    else if (ret == 0)
        open->status = SG_CLOSED;
    else if (ret == GNUTLS_E_AGAIN)
    {
        open->status = open->consumed == record ? SG_OK : SG_ERR_INTERNAL;
        /* In TLS 1.3 a record without application data carried post-handshake messages
         * (NewSessionTicket, KeyUpdate). */
        if (open->status == SG_OK && s->info.protocol == SG_PROTO_TLS1_3)
        {
            open->data_offset = offset;
            open->post_handshake = 1;
            flush_key_update(s);
        }
    }
    else if (ret == GNUTLS_E_REHANDSHAKE)
    {
        open->status = SG_RENEGOTIATE;
        s->renegotiating = 1;
    }
    else if (ret == GNUTLS_E_WARNING_ALERT_RECEIVED)
    {
        open->status = SG_OK;
        open->alert = gnutls_alert_get(s->tls);
        open->library_error = ret;
    }
    else
    {
        open->library_error = ret;
        open->status = s->failed = map_error(ret);
        open->alert = send_alert_for(s, ret);
    }
    if (open->status == SG_OK && open->consumed != record)
    {
        open->status = s->failed = SG_ERR_INTERNAL;
        open->data_size = 0;
    }
    open->output_pending = s->out.len;
}

enum sg_status engine_peer_certs(struct engine_session *s, uint8_t *buffer, size_t capacity,
                                 size_t *size, uint32_t *count)
{
    const gnutls_datum_t *list;
    unsigned int n = 0, i;
    size_t need = 0, pos = 0;

    *size = 0;
    *count = 0;
    if (!(list = gnutls_certificate_get_peers(s->tls, &n))) n = 0;
    for (i = 0; i < n; i++) need += 4 + list[i].size;
    *size = need;
    *count = n;
    if (need > capacity) return SG_ERR_BUFFER_TOO_SMALL;
    for (i = 0; i < n; i++)
    {
        uint32_t len = list[i].size;
        buffer[pos++] = len & 0xff;
        buffer[pos++] = (len >> 8) & 0xff;
        buffer[pos++] = (len >> 16) & 0xff;
        buffer[pos++] = (len >> 24) & 0xff;
        memcpy(buffer + pos, list[i].data, len);
        pos += len;
    }
    return SG_OK;
}

enum sg_status engine_shutdown(struct engine_session *s, int *library_error)
{
    int ret;

    *library_error = 0;
    if (!s->handshake_done) return SG_ERR_INVALID_PARAMETER;
    engine_fastrec_stop(&s->fastrec, s->tls);  /* GnuTLS writes nothing after close_notify */
    s->push_target = &s->out;
    ret = gnutls_bye(s->tls, GNUTLS_SHUT_WR);
    if (ret < 0)
    {
        *library_error = ret;
        return map_error(ret);
    }
    return SG_OK;
}

/* ---- accessors for the engine's other files (engine_client.h) ---- */

void *engine_session_gnutls(struct engine_session *s)
{
    /* The caller may read or write records through it. */
    records_to_gnutls(s);
    return s->tls;
}

int engine_session_is_server(const struct engine_session *s)
{
    return s->server;
}

int engine_session_handshake_done(const struct engine_session *s)
{
    return s->handshake_done;
}

void engine_session_allow_rehandshake(struct engine_session *s)
{
    s->renegotiating = 1;
}

struct engine_client_cert **engine_session_client_cert(struct engine_session *s)
{
    return &s->client_cert;
}

void *engine_cred_gnutls_certs(struct engine_cred *cred)
{
    return cred->certs;
}

void engine_cred_addref(struct engine_cred *cred)
{
    cred_addref(cred);
}

int engine_cred_replace_priority(struct engine_cred *cred, const char *priority)
{
    gnutls_priority_t prio;
    int ret;

    if ((ret = gnutls_priority_init(&prio, priority, NULL)) < 0) return ret;
    if (cred->priority) gnutls_priority_deinit(cred->priority);
    cred->priority = prio;
    return 0;
}

enum sg_status engine_send_alert(struct engine_session *s, uint32_t level, uint32_t description,
                                 int *library_error)
{
    int ret;

    *library_error = 0;
    if ((level != GNUTLS_AL_WARNING && level != GNUTLS_AL_FATAL) || description > 255)
        return SG_ERR_INVALID_PARAMETER;
    if (!s->handshake_done) return SG_ERR_INVALID_PARAMETER;
    engine_fastrec_stop(&s->fastrec, s->tls);
    s->push_target = &s->out;
    ret = gnutls_alert_send(s->tls, level, description);
    if (ret < 0)
    {
        *library_error = ret;
        return map_error(ret);
    }
    if (level == GNUTLS_AL_FATAL) s->failed = SG_ERR_ILLEGAL_MESSAGE;
    return SG_OK;
}

/* ---- accessors for engine_dtls.c (engine_dtls.h) ---- */

struct engine_dtls **engine_session_dtls(struct engine_session *s)
{
    return &s->dtls;
}

struct sg_session_info *engine_session_complete(struct engine_session *s)
{
    s->handshake_done = 1;
    describe_session(s);
    return &s->info;
}

/* ---- accessors for engine_server.c (engine_server.h) ---- */

uint32_t engine_cred_role(const struct engine_cred *cred)
{
    return cred->role;
}

struct engine_server_ext **engine_cred_server_ext(struct engine_cred *cred)
{
    return &cred->server;
}

void engine_session_begin_renegotiation(struct engine_session *s, int reauth)
{
    s->renegotiating = 1;
    s->reauth = reauth;
    s->push_target = &s->out;
}

int engine_cred_import(struct engine_cred *cred, const uint8_t *chain, size_t chain_size,
                       uint32_t key_format, const uint8_t *key, size_t key_size)
{
    return engine_certs_add((void **)&cred->certs, chain, chain_size, key_format, key, key_size, import_into);
}
