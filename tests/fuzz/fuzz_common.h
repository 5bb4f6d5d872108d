/*
 * Shared pieces of the engine fuzz harnesses (tests/fuzz/fuzz_*.c) and of the seed
 * recorder (record_seeds.c).
 *
 * Everything reaches the engine through __wine_unix_call_funcs, as the PE side does, so the
 * parameter checks of calls.c are fuzzed together with the engine. The credentials come from
 * tests/data (SG_TEST_DATA, else the directory compiled in as SG_FUZZ_DATA).
 *
 * Each harness is one translation unit: this header holds static helpers only.
 */

#ifndef SCHANNEL_GNUTLS_TESTS_FUZZ_COMMON_H
#define SCHANNEL_GNUTLS_TESTS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../dlls/secur32/unixlib.h"

#ifndef SG_FUZZ_DATA
#define SG_FUZZ_DATA "tests/data"
#endif

typedef int (*fz_entry_t)(void *args);
extern const fz_entry_t __wine_unix_call_funcs[];

/* A harness-side invariant broke: that is a finding, make libFuzzer report it. */
#define FZ_ASSERT(cond) do { if (!(cond)) { fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", \
                                                    #cond, __FILE__, __LINE__); abort(); } } while (0)

static inline int fz_call(enum sg_unix_call code, void *params)
{
    return __wine_unix_call_funcs[code](params);
}

static inline uint64_t fz_addr(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* ---- growable byte strings ---- */

struct fz_bytes
{
    uint8_t *data;
    size_t len, cap;
};

static inline void fz_append(struct fz_bytes *b, const void *data, size_t len)
{
    if (!len) return;
    if (b->len + len > b->cap)
    {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len) cap *= 2;
        if (!(b->data = realloc(b->data, cap))) abort();
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static inline void fz_drop(struct fz_bytes *b, size_t len)
{
    FZ_ASSERT(len <= b->len);
    if (!len) return;
    memmove(b->data, b->data + len, b->len - len);
    b->len -= len;
}

/* b->data + offset, without a pointer sum on NULL (an empty string has no data). */
static inline const uint8_t *fz_at(const struct fz_bytes *b, size_t offset)
{
    return b->data ? b->data + offset : NULL;
}

static inline void fz_free(struct fz_bytes *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static inline void fz_put_le32(struct fz_bytes *b, uint32_t v)
{
    uint8_t le[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
    fz_append(b, le, 4);
}

static inline void fz_put_field(struct fz_bytes *b, const gnutls_datum_t *d)
{
    fz_put_le32(b, d->size);
    fz_append(b, d->data, d->size);
}

/* A cursor over the fuzz input; reads past the end give zeros. */
struct fz_input
{
    const uint8_t *data;
    size_t size, pos;
};

static inline uint8_t fz_byte(struct fz_input *in)
{
    return in->pos < in->size ? in->data[in->pos++] : 0;
}

static inline size_t fz_left(const struct fz_input *in)
{
    return in->size - in->pos;
}

/* ---- test credentials from tests/data ---- */

static inline gnutls_datum_t fz_load_file(const char *name)
{
    const char *dir = getenv("SG_TEST_DATA");
    gnutls_datum_t d = { NULL, 0 };
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : SG_FUZZ_DATA, name);
    if (gnutls_load_file(path, &d) < 0)
    {
        fprintf(stderr, "fuzz: cannot read %s (set SG_TEST_DATA)\n", path);
        exit(2);
    }
    return d;
}

static inline void fz_chain_blob(struct fz_bytes *chain, const char *name)
{
    gnutls_datum_t pem = fz_load_file(name), der;
    gnutls_x509_crt_t crt;

    if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0
        || gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
        abort();
    fz_put_field(chain, &der);
    gnutls_free(der.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_free(pem.data);
}

static inline gnutls_x509_privkey_t fz_load_key(const char *name)
{
    gnutls_datum_t pem = fz_load_file(name);
    gnutls_x509_privkey_t key;

    if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_privkey_import2(key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
        abort();
    gnutls_free(pem.data);
    return key;
}

static inline void fz_rsa_blob(struct fz_bytes *blob, const char *name)
{
    gnutls_x509_privkey_t key = fz_load_key(name);
    gnutls_datum_t f[8];
    int i;

    if (gnutls_x509_privkey_export_rsa_raw2(key, &f[0], &f[1], &f[2], &f[3], &f[4], &f[7], &f[5], &f[6]) < 0)
        abort();
    for (i = 0; i < 8; i++)
    {
        fz_put_field(blob, &f[i]);
        gnutls_free(f[i].data);
    }
    gnutls_x509_privkey_deinit(key);
}

static inline void fz_ec_blob(struct fz_bytes *blob, const char *name)
{
    gnutls_x509_privkey_t key = fz_load_key(name);
    gnutls_ecc_curve_t curve;
    gnutls_datum_t x, y, k;

    if (gnutls_x509_privkey_export_ecc_raw(key, &curve, &x, &y, &k) < 0) abort();
    fz_put_le32(blob, curve == GNUTLS_ECC_CURVE_SECP256R1 ? 23 : curve == GNUTLS_ECC_CURVE_SECP384R1 ? 24 : 25);
    fz_put_field(blob, &x);
    fz_put_field(blob, &y);
    fz_put_field(blob, &k);
    gnutls_free(x.data);
    gnutls_free(y.data);
    gnutls_free(k.data);
    gnutls_x509_privkey_deinit(key);
}

/* Server certificate material, loaded once per process. */
static struct fz_bytes fz_rsa_chain, fz_rsa_key, fz_ec_chain, fz_ec_key;

static inline void fz_load_material(void)
{
    struct sg_process_attach_params attach = { 0 };

    if (fz_rsa_chain.len) return;
    FZ_ASSERT(!fz_call(unix_process_attach, &attach) && attach.version == SG_UNIXLIB_VERSION);
    fz_chain_blob(&fz_rsa_chain, "server-rsa.pem");
    fz_rsa_blob(&fz_rsa_key, "server-rsa-key.pem");
    fz_chain_blob(&fz_ec_chain, "server-ecdsa.pem");
    fz_ec_blob(&fz_ec_key, "server-ecdsa-key.pem");
}

static inline uint64_t fz_cred(uint32_t role, uint32_t protocols, int ecdsa)
{
    struct sg_cred_create_params p = { 0 };
    const struct fz_bytes *chain = ecdsa ? &fz_ec_chain : &fz_rsa_chain, *key = ecdsa ? &fz_ec_key : &fz_rsa_key;

    p.flags = role;
    p.protocols = protocols;
    if (role == SG_CRED_SERVER)
    {
        p.chain = fz_addr(chain->data);
        p.chain_size = chain->len;
        p.key_format = ecdsa ? SG_KEY_EC_COMPONENTS : SG_KEY_RSA_COMPONENTS;
        p.key = fz_addr(key->data);
        p.key_size = key->len;
    }
    FZ_ASSERT(!fz_call(unix_cred_create, &p) && p.status == SG_OK && p.cred);
    return p.cred;
}

static inline void fz_cred_free(uint64_t cred)
{
    struct sg_cred_free_params p = { cred };
    FZ_ASSERT(!fz_call(unix_cred_free, &p));
}

static inline uint64_t fz_session(uint64_t cred, int server)
{
    static const char name[] = "localhost";
    struct sg_session_create_params p = { 0 };

    p.cred = cred;
    p.flags = server ? SG_SESSION_SERVER : 0;
    if (!server)
    {
        p.server_name = fz_addr(name);
        p.server_name_size = sizeof(name) - 1;
    }
    FZ_ASSERT(!fz_call(unix_session_create, &p) && p.status == SG_OK && p.session);
    return p.session;
}

static inline void fz_session_free(uint64_t session)
{
    struct sg_session_free_params p = { session };
    FZ_ASSERT(!fz_call(unix_session_free, &p));
}

/* The protocol masks a harness picks from (never 0). */
static inline uint32_t fz_protocols(uint8_t selector)
{
    static const uint32_t masks[] =
    {
        SG_PROTO_TLS1_2 | SG_PROTO_TLS1_3, SG_PROTO_TLS1_2, SG_PROTO_TLS1_3,
        SG_PROTO_TLS1_0 | SG_PROTO_TLS1_1 | SG_PROTO_TLS1_2 | SG_PROTO_TLS1_3,
    };
    return masks[selector % (sizeof(masks) / sizeof(masks[0]))];
}

/*
 * One handshake step with the contract's invariants checked: input from *in (the consumed
 * bytes are removed), the token appended to *out. capacity < 16 KiB exercises the
 * oversized-token path (unix_fetch_output).
 */
static inline struct sg_handshake_params fz_step(uint64_t session, struct fz_bytes *in, struct fz_bytes *out,
                                          uint32_t capacity)
{
    static uint8_t buf[1 << 17];
    struct sg_handshake_params p;

    if (capacity > sizeof(buf)) capacity = sizeof(buf);
    memset(&p, 0xcc, sizeof(p));
    p.session = session;
    p.input = in->len ? fz_addr(in->data) : 0;
    p.input_size = in->len;
    p.output = fz_addr(buf);
    p.output_capacity = capacity;
    FZ_ASSERT(!fz_call(unix_handshake, &p));
    FZ_ASSERT(p.consumed <= in->len);
    FZ_ASSERT(p.status <= SG_ERR_INTERNAL);
    if (p.status == SG_INCOMPLETE) FZ_ASSERT(p.missing >= 1 && p.consumed == 0);
    fz_drop(in, p.consumed);
    if (p.output_size <= capacity)
        fz_append(out, buf, p.output_size);
    else
    {
        struct sg_fetch_output_params f = { 0 };
        uint8_t *big = malloc(p.output_size);

        FZ_ASSERT(big);
        f.session = session;
        f.output = fz_addr(big);
        f.output_capacity = p.output_size - 1;
        FZ_ASSERT(!fz_call(unix_fetch_output, &f) && f.status == SG_ERR_BUFFER_TOO_SMALL);
        f.output_capacity = p.output_size;
        FZ_ASSERT(!fz_call(unix_fetch_output, &f) && f.status == SG_OK && f.output_size == p.output_size);
        fz_append(out, big, f.output_size);
        free(big);
    }
    return p;
}

static inline int fz_handshake_failed(uint32_t status)
{
    return status != SG_OK && status != SG_CONTINUE && status != SG_INCOMPLETE;
}

/* Seals len bytes (<= max_message) into one record appended to *wire. */
static inline uint32_t fz_seal(uint64_t session, const struct sg_session_info *info, const uint8_t *data, uint32_t len,
                        struct fz_bytes *wire)
{
    uint8_t header[64], trailer[512], *body = malloc(len ? len : 1);
    struct sg_encrypt_params p = { 0 };

    FZ_ASSERT(body && info->header_size <= sizeof(header) && info->trailer_size <= sizeof(trailer));
    memcpy(body, data, len);
    p.session = session;
    p.header = fz_addr(header);
    p.header_size = sizeof(header);
    p.data = fz_addr(body);
    p.data_size = len;
    p.trailer = fz_addr(trailer);
    p.trailer_size = sizeof(trailer);
    FZ_ASSERT(!fz_call(unix_encrypt, &p));
    if (p.status == SG_OK)
    {
        FZ_ASSERT(p.header_used <= sizeof(header) && p.trailer_used <= sizeof(trailer));
        fz_append(wire, header, p.header_used);
        if (p.header_used || p.trailer_used) fz_append(wire, body, len);
        fz_append(wire, trailer, p.trailer_used);
    }
    free(body);
    return p.status;
}

/*
 * Opens the records in *wire one DecryptMessage at a time, as the PE side would: plaintext
 * appended to *plain (if given), the consumed bytes removed. Stops at an incomplete record
 * or a failure; returns the last status.
 */
static inline uint32_t fz_open_all(uint64_t session, struct fz_bytes *wire, struct fz_bytes *plain)
{
    struct sg_decrypt_params p;
    int guard;

    for (guard = 0; guard < 100000; guard++)
    {
        memset(&p, 0xcc, sizeof(p));
        p.session = session;
        p.buffer = wire->len ? fz_addr(wire->data) : 0;
        p.size = wire->len;
        FZ_ASSERT(!fz_call(unix_decrypt, &p));
        FZ_ASSERT(p.status <= SG_ERR_INTERNAL);
        FZ_ASSERT(p.consumed <= wire->len);
        if (p.status == SG_INCOMPLETE)
        {
            FZ_ASSERT(p.missing >= 1);
            return p.status;
        }
        if (p.status == SG_OK || p.status == SG_CLOSED || p.status == SG_RENEGOTIATE)
        {
            FZ_ASSERT(p.data_offset + p.data_size <= p.consumed);
            FZ_ASSERT(p.data_size <= 16384);
            if (plain) fz_append(plain, wire->data + p.data_offset, p.data_size);
        }
        fz_drop(wire, p.consumed);
        if (p.status != SG_OK || !wire->len) return p.status;
        if (!p.consumed) return p.status;
    }
    FZ_ASSERT(!"unbounded decrypt loop");
    return SG_ERR_INTERNAL;
}

#endif /* SCHANNEL_GNUTLS_TESTS_FUZZ_COMMON_H */
