/*
 * Native unit tests for secur32's Unix-side TLS engine.
 *
 * Everything goes through __wine_unix_call_funcs, exactly as the PE side calls it: a client
 * and a server session handshake in memory and exchange records. The only engine-internal
 * call is engine_shutdown(), which has no unix call yet.
 *
 * Usage: engine_test [test-data-dir]   (default: $SG_TEST_DATA, else tests/data)
 */

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "../../dlls/secur32/unix/engine.h"
#include "../../dlls/secur32/unix/engine_client.h"  /* engine_cred_gnutls_certs */
#include "../../dlls/secur32/unix/engine_fastrec.h" /* engine_fastrec_handles_made */

typedef int (*unixlib_entry_t)(void *args);
extern const unixlib_entry_t __wine_unix_call_funcs[];

#define STATUS_INVALID_PARAMETER ((int)0xc000000d)
#define STATUS_INVALID_HANDLE    ((int)0xc0000008)

static int tests_run, tests_failed;
static const char *data_dir = "tests/data";

static void check(int cond, const char *file, int line, const char *fmt, ...)
{
    tests_run++;
    if (cond) return;
    tests_failed++;
    fprintf(stderr, "%s:%d: Test failed: ", file, line);
    {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
}
#define ok(cond, ...) check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static int call(enum sg_unix_call code, void *params)
{
    return __wine_unix_call_funcs[code](params);
}

static uint64_t addr(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* ---- byte strings ---- */

struct bytes
{
    uint8_t *data;
    size_t len;
};

static void bytes_append(struct bytes *b, const void *data, size_t len)
{
    if (!len) return;
    b->data = realloc(b->data, b->len + len + 1);
    if (!b->data) abort();
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void bytes_drop(struct bytes *b, size_t len)
{
    if (len > b->len) abort();
    if (!len) return;
    memmove(b->data, b->data + len, b->len - len);
    b->len -= len;
}

static void bytes_free(struct bytes *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static void put_le32(struct bytes *b, uint32_t v)
{
    uint8_t le[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
    bytes_append(b, le, 4);
}

static void put_field(struct bytes *b, const gnutls_datum_t *d)
{
    put_le32(b, d->size);
    bytes_append(b, d->data, d->size);
}

static gnutls_datum_t load_file(const char *name)
{
    char path[4096];
    gnutls_datum_t d = { NULL, 0 };
    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    if (gnutls_load_file(path, &d) < 0)
    {
        fprintf(stderr, "engine_test: cannot read %s\n", path);
        exit(2);
    }
    return d;
}

/* PEM certificates -> "LE uint32 length + DER" list, in file order. */
static void append_chain(struct bytes *chain, const char *name)
{
    gnutls_datum_t pem = load_file(name), der;
    gnutls_x509_crt_t crt;

    if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0
        || gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der) < 0)
    {
        fprintf(stderr, "engine_test: bad certificate %s\n", name);
        exit(2);
    }
    put_field(chain, &der);
    gnutls_free(der.data);
    gnutls_x509_crt_deinit(crt);
    gnutls_free(pem.data);
}

static gnutls_x509_privkey_t load_key(const char *name)
{
    gnutls_datum_t pem = load_file(name);
    gnutls_x509_privkey_t key;
    if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_privkey_import2(key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
    {
        fprintf(stderr, "engine_test: bad key %s\n", name);
        exit(2);
    }
    gnutls_free(pem.data);
    return key;
}

/* The key in SG_KEY_RSA_COMPONENTS format; with_crt 0 leaves dp, dq, qinv empty. */
static void rsa_key_blob(struct bytes *blob, const char *name, int with_crt)
{
    gnutls_x509_privkey_t key = load_key(name);
    gnutls_datum_t n, e, d, p, q, u, e1, e2, empty = { NULL, 0 };

    if (gnutls_x509_privkey_export_rsa_raw2(key, &n, &e, &d, &p, &q, &u, &e1, &e2) < 0) abort();
    put_field(blob, &n);
    put_field(blob, &e);
    put_field(blob, &d);
    put_field(blob, &p);
    put_field(blob, &q);
    put_field(blob, with_crt ? &e1 : &empty);
    put_field(blob, with_crt ? &e2 : &empty);
    put_field(blob, with_crt ? &u : &empty);  /* GnuTLS's u is PKCS #1 qInv (checked against openssl) */
    gnutls_free(n.data); gnutls_free(e.data); gnutls_free(d.data); gnutls_free(p.data);
    gnutls_free(q.data); gnutls_free(u.data); gnutls_free(e1.data); gnutls_free(e2.data);
    gnutls_x509_privkey_deinit(key);
}

static void ec_key_blob(struct bytes *blob, const char *name)
{
    gnutls_x509_privkey_t key = load_key(name);
    gnutls_ecc_curve_t curve;
    gnutls_datum_t x, y, k;

    if (gnutls_x509_privkey_export_ecc_raw(key, &curve, &x, &y, &k) < 0) abort();
    put_le32(blob, curve == GNUTLS_ECC_CURVE_SECP256R1 ? 23 : curve == GNUTLS_ECC_CURVE_SECP384R1 ? 24 : 25);
    put_field(blob, &x);
    put_field(blob, &y);
    put_field(blob, &k);
    gnutls_free(x.data); gnutls_free(y.data); gnutls_free(k.data);
    gnutls_x509_privkey_deinit(key);
}

/* ---- calls ---- */

static uint64_t create_cred(uint32_t flags, uint32_t protocols, const struct bytes *chain,
                            uint32_t key_format, const struct bytes *key, uint32_t *status)
{
    struct sg_cred_create_params p;
    int ret;

    memset(&p, 0xcc, sizeof(p));
    p.flags = flags;
    p.protocols = protocols;
    p.chain = chain ? addr(chain->data) : 0;
    p.chain_size = chain ? chain->len : 0;
    p.key_format = key_format;
    p.key = key ? addr(key->data) : 0;
    p.key_size = key ? key->len : 0;
    ret = call(unix_cred_create, &p);
    *status = p.status;
    if (p.status == SG_ERR_INVALID_PARAMETER) ok(ret == STATUS_INVALID_PARAMETER, "cred_create returned %#x\n", ret);
    else ok(ret == 0, "cred_create returned %#x\n", ret);
    ok((p.status == SG_OK) == (p.cred != 0), "status %u, cred %#llx\n", p.status, (unsigned long long)p.cred);
    return p.cred;
}

static void free_cred(uint64_t cred)
{
    struct sg_cred_free_params p = { cred };
    ok(call(unix_cred_free, &p) == 0, "cred_free failed\n");
}

static uint64_t create_session(uint64_t cred, uint32_t flags, const char *name)
{
    struct sg_session_create_params p;
    int ret;

    memset(&p, 0xcc, sizeof(p));
    p.cred = cred;
    p.flags = flags;
    p.server_name = name ? addr(name) : 0;
    p.server_name_size = name ? strlen(name) : 0;
    ret = call(unix_session_create, &p);
    ok(ret == 0 && p.status == SG_OK && p.session, "session_create: ret %#x status %u\n", ret, p.status);
    return p.session;
}

static void free_session(uint64_t session)
{
    struct sg_session_free_params p = { session };
    ok(call(unix_session_free, &p) == 0, "session_free failed\n");
}

/* One handshake step: input from *in (consumed bytes removed), token appended to *out. */
static struct sg_handshake_params step(uint64_t session, struct bytes *in, struct bytes *out, uint32_t capacity)
{
    static uint8_t buf[65536];
    struct sg_handshake_params p;
    int ret;

    memset(&p, 0xcc, sizeof(p));
    p.session = session;
    p.input = in->len ? addr(in->data) : 0;
    p.input_size = in->len;
    p.output = addr(buf);
    p.output_capacity = capacity;
    ret = call(unix_handshake, &p);
    ok(ret == 0, "handshake returned %#x\n", ret);
    ok(p.consumed <= in->len, "consumed %u of %zu\n", p.consumed, in->len);
    if (p.consumed <= in->len) bytes_drop(in, p.consumed);
    if (p.output_size <= capacity) bytes_append(out, buf, p.output_size);
    return p;
}

struct pair
{
    uint64_t client, server;
    struct bytes c2s, s2c;              /* bytes in flight */
    struct sg_session_info cinfo, sinfo;
    int rounds;
};

/* Drives both sides to completion. Returns 1 when both reported SG_OK. */
static int run_handshake(struct pair *pr)
{
    struct sg_handshake_params p;
    int cdone = 0, sdone = 0, i;

    p = step(pr->client, &pr->s2c, &pr->c2s, 65536);
    ok(p.status == SG_CONTINUE && p.output_size > 0 && p.consumed == 0,
       "first client step: status %u output %u\n", p.status, p.output_size);
    if (p.status != SG_CONTINUE) return 0;
    for (i = 0; i < 10 && !(cdone && sdone); i++)
    {
        if (!sdone)
        {
            p = step(pr->server, &pr->c2s, &pr->s2c, 65536);
            ok(p.status == SG_CONTINUE || p.status == SG_OK, "server step %d: status %u error %d\n",
               i, p.status, p.library_error);
            ok(p.alert == SG_ALERT_NONE, "server step %d: alert %u\n", i, p.alert);
            if (p.status == SG_OK) { sdone = 1; pr->sinfo = p.info; }
            else if (p.status != SG_CONTINUE) return 0;
            ok(pr->c2s.len == 0, "server left %zu bytes\n", pr->c2s.len);
        }
        if (!cdone && pr->s2c.len)
        {
            p = step(pr->client, &pr->s2c, &pr->c2s, 65536);
            ok(p.status == SG_CONTINUE || p.status == SG_OK, "client step %d: status %u error %d\n",
               i, p.status, p.library_error);
            if (p.status == SG_OK) { cdone = 1; pr->cinfo = p.info; }
            else if (p.status != SG_CONTINUE) return 0;
        }
    }
    pr->rounds = i;
    ok(cdone && sdone, "handshake did not finish: client %d server %d\n", cdone, sdone);
    return cdone && sdone;
}

static void pair_free(struct pair *pr)
{
    if (pr->client) free_session(pr->client);
    if (pr->server) free_session(pr->server);
    bytes_free(&pr->c2s);
    bytes_free(&pr->s2c);
    memset(pr, 0, sizeof(*pr));
}

/* ---- shared fixtures ---- */

static struct bytes rsa_chain, rsa_key, ecdsa_chain, ecdsa_key, rsa_key_nocrt;

static void pair_init(struct pair *pr, uint32_t cproto, uint32_t sproto, int ecdsa)
{
    uint32_t status;
    uint64_t ccred, scred;

    memset(pr, 0, sizeof(*pr));
    scred = ecdsa ? create_cred(SG_CRED_SERVER, sproto, &ecdsa_chain, SG_KEY_EC_COMPONENTS, &ecdsa_key, &status)
                  : create_cred(SG_CRED_SERVER, sproto, &rsa_chain, SG_KEY_RSA_COMPONENTS, &rsa_key, &status);
    ok(status == SG_OK, "server cred: %u\n", status);
    ccred = create_cred(SG_CRED_CLIENT, cproto, NULL, SG_KEY_NONE, NULL, &status);
    ok(status == SG_OK, "client cred: %u\n", status);
    pr->client = create_session(ccred, 0, "localhost");
    pr->server = create_session(scred, SG_SESSION_SERVER, NULL);
    /* Sessions hold their own references. */
    free_cred(ccred);
    free_cred(scred);
}

/* ---- records ---- */

/* Seals data into a contiguous record appended to *wire. Returns the encrypt status. */
static uint32_t seal(uint64_t session, const struct sg_session_info *info, const uint8_t *data, uint32_t len,
                     struct bytes *wire)
{
    uint8_t header[64], trailer[512], *body = malloc(len + 1);
    struct sg_encrypt_params p;
    int ret;

    memcpy(body, data, len);
    memset(&p, 0, sizeof(p));
    p.session = session;
    p.header = addr(header);
    p.header_size = info->header_size;
    p.data = addr(body);
    p.data_size = len;
    p.trailer = addr(trailer);
    p.trailer_size = info->trailer_size;
    ret = call(unix_encrypt, &p);
    ok(ret == 0, "encrypt returned %#x\n", ret);
    if (p.status == SG_OK && !len)
        ok(p.header_used == 0 && p.trailer_used == 0, "empty message: header %u trailer %u\n", p.header_used,
           p.trailer_used);
    else if (p.status == SG_OK)
    {
        ok(p.header_used == info->header_size, "header_used %u, expected %u\n", p.header_used, info->header_size);
        ok(p.trailer_used <= info->trailer_size && p.trailer_used > 0, "trailer_used %u of %u\n",
           p.trailer_used, info->trailer_size);
        /* Ciphertext equal to the plaintext by chance: 2^-8 per byte, so only judge 8 or more. */
        ok(len < 8 || memcmp(body, data, len > 16 ? 16 : len), "data region still holds plaintext\n");
        ok(header[0] == 23 && header[1] == 3, "record header %02x %02x\n", header[0], header[1]);
        ok(((header[3] << 8) | header[4]) + 5u == p.header_used + len + p.trailer_used, "record length field\n");
        bytes_append(wire, header, p.header_used);
        bytes_append(wire, body, len);
        bytes_append(wire, trailer, p.trailer_used);
    }
    free(body);
    return p.status;
}

static struct sg_decrypt_params open_record(uint64_t session, struct bytes *wire)
{
    struct sg_decrypt_params p;
    int ret;

    memset(&p, 0xcc, sizeof(p));
    p.session = session;
    p.buffer = wire->len ? addr(wire->data) : 0;
    p.size = wire->len;
    ret = call(unix_decrypt, &p);
    ok(ret == 0, "decrypt returned %#x\n", ret);
    return p;
}

/* Sends len pattern bytes from one side and checks the other side gets them. */
static void exchange(uint64_t from, const struct sg_session_info *info, uint64_t to, uint32_t len, uint8_t seed)
{
    struct bytes wire = { 0 };
    uint8_t *data = calloc(1, len + 1);
    struct sg_decrypt_params p;
    uint32_t i, status;

    for (i = 0; i < len; i++) data[i] = (uint8_t)(seed + i * 7);
    status = seal(from, info, data, len, &wire);
    ok(status == SG_OK, "encrypt %u bytes: status %u\n", len, status);
    if (status == SG_OK && !len)
        ok(wire.len == 0, "empty message gave %zu bytes\n", wire.len);
    else if (status == SG_OK)
    {
        size_t record = wire.len;
        p = open_record(to, &wire);
        ok(p.status == SG_OK, "decrypt %u bytes: status %u error %d\n", len, p.status, p.library_error);
        ok(p.consumed == record, "consumed %u of %zu\n", p.consumed, record);
        ok(p.data_offset == info->header_size, "data_offset %u\n", p.data_offset);
        ok(p.data_size == len, "data_size %u, expected %u\n", p.data_size, len);
        ok(p.status == SG_OK && p.data_size == len && p.data_offset + len <= wire.len
           && !memcmp(wire.data + p.data_offset, data, len), "plaintext differs (%u bytes)\n", len);
    }
    bytes_free(&wire);
    free(data);
}

/* Decrypts every record in *wire (e.g. TLS 1.3 NewSessionTickets), expecting no data. */
static void drain_nondata(uint64_t session, struct bytes *wire)
{
    while (wire->len)
    {
        struct sg_decrypt_params p = open_record(session, wire);
        ok(p.status == SG_OK && p.data_size == 0, "post-handshake record: status %u size %u\n", p.status, p.data_size);
        if (p.status != SG_OK || !p.consumed) break;
        bytes_drop(wire, p.consumed);
    }
}

/* ---- tests ---- */

static void test_process_attach(void)
{
    struct sg_process_attach_params p = { 0, 0 };
    ok(call(unix_process_attach, &p) == 0 && p.version == SG_UNIXLIB_VERSION, "version %u\n", p.version);
    ok(call(unix_process_attach, &p) == 0 && p.version == SG_UNIXLIB_VERSION, "second attach %u\n", p.version);
}

static void test_cred_errors(void)
{
    struct bytes garbage = { 0 }, bad_qinv = { 0 };
    struct sg_cred_create_params p;
    uint32_t status;
    uint64_t cred;

    cred = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_2, NULL, SG_KEY_NONE, NULL, &status);
    ok(status == SG_ERR_NO_CREDENTIALS && !cred, "server without cert: %u\n", status);
    cred = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_2, &rsa_chain, SG_KEY_NONE, NULL, &status);
    ok(status == SG_ERR_NO_CREDENTIALS && !cred, "server without key: %u\n", status);
    cred = create_cred(SG_CRED_CLIENT, 0, NULL, SG_KEY_NONE, NULL, &status);
    ok(status == SG_ERR_INVALID_PARAMETER, "protocols 0: %u\n", status);
    cred = create_cred(SG_CRED_CLIENT | SG_CRED_SERVER, SG_PROTO_TLS1_2, NULL, SG_KEY_NONE, NULL, &status);
    ok(status == SG_ERR_INVALID_PARAMETER, "both roles: %u\n", status);

    bytes_append(&garbage, "\x05\x00\x00\x00hello", 9);
    cred = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_2, &rsa_chain, SG_KEY_RSA_COMPONENTS, &garbage, &status);
    ok(status == SG_ERR_NO_CREDENTIALS && !cred, "garbage key: %u\n", status);
    cred = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_2, &garbage, SG_KEY_RSA_COMPONENTS, &rsa_key, &status);
    ok(status == SG_ERR_BAD_CERT && !cred, "garbage chain: %u\n", status);
    cred = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_2, &rsa_chain, SG_KEY_EC_COMPONENTS, &ecdsa_key, &status);
    ok(status == SG_ERR_NO_CREDENTIALS && !cred, "key of another cert: %u\n", status);

    /* A wrong CRT coefficient is not used: the engine derives the CRT values from d, p, q,
     * so signatures stay valid (a handshake checks the server's signature). */
    bytes_append(&bad_qinv, rsa_key.data, rsa_key.len);
    bad_qinv.data[bad_qinv.len - 1] ^= 1;
    bad_qinv.data[bad_qinv.len - 40] ^= 0x10;
    cred = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_2, &rsa_chain, SG_KEY_RSA_COMPONENTS, &bad_qinv, &status);
    ok(status == SG_OK && cred, "bad qinv: %u\n", status);
    if (cred)
    {
        struct pair pr;
        uint64_t ccred = create_cred(SG_CRED_CLIENT, SG_PROTO_TLS1_2, NULL, SG_KEY_NONE, NULL, &status);
        memset(&pr, 0, sizeof(pr));
        pr.client = create_session(ccred, 0, "localhost");
        pr.server = create_session(cred, SG_SESSION_SERVER, NULL);
        free_cred(ccred);
        free_cred(cred);
        ok(run_handshake(&pr) && pr.cinfo.protocol == SG_PROTO_TLS1_2, "handshake with bad qinv key\n");
        pair_free(&pr);
    }

    /* Truncated key blob. */
    memset(&p, 0, sizeof(p));
    p.flags = SG_CRED_SERVER;
    p.protocols = SG_PROTO_TLS1_2;
    p.chain = addr(rsa_chain.data);
    p.chain_size = rsa_chain.len;
    p.key_format = SG_KEY_RSA_COMPONENTS;
    p.key = addr(rsa_key.data);
    p.key_size = rsa_key.len - 1;
    ok(call(unix_cred_create, &p) == 0 && p.status == SG_ERR_NO_CREDENTIALS && !p.cred, "short key: %u\n", p.status);
    /* Impossible region. */
    p.key = 0;
    p.key_size = 10;
    ok(call(unix_cred_create, &p) == STATUS_INVALID_PARAMETER && p.status == SG_ERR_INVALID_PARAMETER,
       "NULL key with size: %u\n", p.status);

    bytes_free(&garbage);
    bytes_free(&bad_qinv);
}

static void test_bad_handles(void)
{
    struct sg_handshake_params hp;
    struct sg_decrypt_params dp;
    struct sg_session_create_params sp;
    struct sg_session_free_params fp = { 0 };
    struct sg_cred_free_params cp = { 0 };
    uint64_t junk[8] = { 0 };

    memset(&hp, 0, sizeof(hp));
    ok(call(unix_handshake, &hp) == STATUS_INVALID_PARAMETER && hp.status == SG_ERR_INVALID_PARAMETER,
       "handshake on handle 0: %u\n", hp.status);
    hp.session = addr(junk);
    ok(call(unix_handshake, &hp) == STATUS_INVALID_PARAMETER && hp.status == SG_ERR_INVALID_PARAMETER,
       "handshake on a non-session: %u\n", hp.status);
    memset(&dp, 0, sizeof(dp));
    dp.session = addr(junk);
    ok(call(unix_decrypt, &dp) == STATUS_INVALID_PARAMETER && dp.status == SG_ERR_INVALID_PARAMETER,
       "decrypt on a non-session: %u\n", dp.status);
    memset(&sp, 0, sizeof(sp));
    sp.cred = addr(junk);
    ok(call(unix_session_create, &sp) == STATUS_INVALID_PARAMETER && sp.status == SG_ERR_INVALID_PARAMETER
       && !sp.session, "session on a non-cred: %u\n", sp.status);
    ok(call(unix_session_free, &fp) == 0, "freeing session 0\n");
    ok(call(unix_cred_free, &cp) == 0, "freeing cred 0\n");
    fp.session = addr(junk);
    ok(call(unix_session_free, &fp) == STATUS_INVALID_HANDLE, "freeing a non-session\n");
}

static void check_info_common(const struct sg_session_info *c, const struct sg_session_info *s)
{
    ok(!memcmp(c, s, sizeof(*c)) || (c->kx == SG_KX_RSA), "client and server describe the session differently\n");
    ok(c->max_message == 16384, "max_message %u\n", c->max_message);
    ok(c->resumed == 0, "resumed %u\n", c->resumed);
    ok(c->kx == SG_KX_ECDHE && (c->kx_bits == 255 || c->kx_bits == 256 || c->kx_bits == 384),
       "kx %u bits %u\n", c->kx, c->kx_bits);
    switch (c->cipher)
    {
    case SG_CIPHER_AES_128_GCM:
        ok(c->cipher_bits == 128 && c->hash == SG_HASH_SHA256 && c->hash_bits == 256 && c->block_size == 1,
           "aes128gcm: bits %u hash %u/%u block %u\n", c->cipher_bits, c->hash, c->hash_bits, c->block_size);
        break;
    case SG_CIPHER_AES_256_GCM:
        ok(c->cipher_bits == 256 && c->hash == SG_HASH_SHA384 && c->hash_bits == 384 && c->block_size == 1,
           "aes256gcm: bits %u hash %u/%u block %u\n", c->cipher_bits, c->hash, c->hash_bits, c->block_size);
        break;
    case SG_CIPHER_CHACHA20_POLY1305:
        ok(c->cipher_bits == 256 && c->hash == SG_HASH_SHA256 && c->block_size == 1,
           "chacha: bits %u hash %u block %u\n", c->cipher_bits, c->hash, c->block_size);
        break;
    default:
        ok(0, "unexpected cipher %u\n", c->cipher);
    }
}

static void print_info(const char *what, const struct sg_session_info *i)
{
    printf("engine_test: %s: protocol %#x suite %#06x cipher %u/%u hash %u/%u kx %u/%u header %u trailer %u "
           "max %u block %u\n", what, i->protocol, i->cipher_suite, i->cipher, i->cipher_bits, i->hash, i->hash_bits,
           i->kx, i->kx_bits, i->header_size, i->trailer_size, i->max_message, i->block_size);
}

static void check_info_tls13(const struct sg_session_info *i)
{
    ok(i->protocol == SG_PROTO_TLS1_3, "protocol %#x\n", i->protocol);
    ok(i->header_size == 5, "header_size %u\n", i->header_size);
    ok(i->trailer_size == 17, "trailer_size %u\n", i->trailer_size);
    ok((i->cipher == SG_CIPHER_AES_128_GCM && i->cipher_suite == 0x1301)
       || (i->cipher == SG_CIPHER_AES_256_GCM && i->cipher_suite == 0x1302)
       || (i->cipher == SG_CIPHER_CHACHA20_POLY1305 && i->cipher_suite == 0x1303),
       "cipher %u suite %#x\n", i->cipher, i->cipher_suite);
}

static void check_info_tls12(const struct sg_session_info *i, int ecdsa)
{
    ok(i->protocol == SG_PROTO_TLS1_2, "protocol %#x\n", i->protocol);
    if (i->cipher == SG_CIPHER_CHACHA20_POLY1305)
        ok(i->header_size == 5 && i->cipher_suite == (ecdsa ? 0xcca9u : 0xcca8u), "chacha: header %u suite %#x\n",
           i->header_size, i->cipher_suite);
    else
        ok(i->header_size == 13, "header_size %u\n", i->header_size);
    ok(i->trailer_size == 16, "trailer_size %u\n", i->trailer_size);
    if (i->cipher == SG_CIPHER_AES_128_GCM)
        ok(i->cipher_suite == (ecdsa ? 0xc02bu : 0xc02fu), "aes128gcm suite %#x\n", i->cipher_suite);
    if (i->cipher == SG_CIPHER_AES_256_GCM)
        ok(i->cipher_suite == (ecdsa ? 0xc02cu : 0xc030u), "aes256gcm suite %#x\n", i->cipher_suite);
}

static void test_records(struct pair *pr)
{
    static const uint32_t sizes[] = { 0, 1, 2, 15, 16, 17, 100, 1000, 4096, 16383, 16384 };
    unsigned int i;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
    {
        exchange(pr->client, &pr->cinfo, pr->server, sizes[i], (uint8_t)i);
        exchange(pr->server, &pr->sinfo, pr->client, sizes[i], (uint8_t)(i + 100));
    }
}

/* Full handshake at the given protocol masks, then data both ways. */
static void test_handshake(uint32_t proto, int ecdsa, uint32_t expect)
{
    struct pair pr;

    pair_init(&pr, proto, proto, ecdsa);
    if (run_handshake(&pr))
    {
        print_info(ecdsa ? "ecdsa" : "rsa", &pr.cinfo);
        check_info_common(&pr.cinfo, &pr.sinfo);
        if (expect == SG_PROTO_TLS1_3) check_info_tls13(&pr.cinfo);
        else check_info_tls12(&pr.cinfo, ecdsa);
        /* The server's last flight may carry NewSessionTickets; they are not data. */
        drain_nondata(pr.client, &pr.s2c);
        test_records(&pr);
    }
    pair_free(&pr);
}

/* Key exchange in Windows' default curve order ("TLS Elliptic Curves in Windows 10 1607 and
 * later", learn.microsoft.com: curve25519, then NistP256, NistP384): two default
 * credentials agree on X25519, reported as 255 bits as CNG names the curve; a peer that
 * offers only NIST curves still gets one. */
static void test_group_order(uint32_t proto)
{
    struct pair pr;
    uint64_t ccred;
    uint32_t status;

    pair_init(&pr, proto, proto, 0);
    if (run_handshake(&pr))
        ok(pr.cinfo.kx == SG_KX_ECDHE && pr.cinfo.kx_bits == 255 && pr.sinfo.kx_bits == 255,
           "proto %#x: kx %u, %u bits (server %u)\n", proto, pr.cinfo.kx, pr.cinfo.kx_bits, pr.sinfo.kx_bits);
    pair_free(&pr);

    /* A client without curve25519 (GnuTLS's NORMAL order minus that group): the server
     * answers on P-256. */
    ccred = create_cred(SG_CRED_CLIENT, proto, NULL, SG_KEY_NONE, NULL, &status);
    if (!ccred) return;
    ok(engine_cred_replace_priority(engine_cred_from_handle(ccred), proto == SG_PROTO_TLS1_3
           ? "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-X25519" : "NORMAL:-VERS-ALL:+VERS-TLS1.2:-GROUP-X25519") == 0,
       "priority refused\n");
    pair_init(&pr, proto, proto, 0);
    free_session(pr.client);
    pr.client = create_session(ccred, 0, "localhost");
    free_cred(ccred);
    if (run_handshake(&pr))
        ok(pr.cinfo.kx == SG_KX_ECDHE && pr.cinfo.kx_bits == 256 && pr.sinfo.kx_bits == 256,
           "proto %#x without X25519: kx %u, %u bits (server %u)\n", proto, pr.cinfo.kx, pr.cinfo.kx_bits,
           pr.sinfo.kx_bits);
    pair_free(&pr);
}

/* The client gets the server's first flight one byte more at a time. */
static void test_incomplete_input(uint32_t proto)
{
    struct pair pr;
    struct bytes flight = { 0 }, in = { 0 };
    struct sg_handshake_params p;
    size_t fed = 0, record_start = 0;
    int incomplete = 0, cont = 0, bad = 0;

    pair_init(&pr, proto, proto, 0);
    p = step(pr.client, &pr.s2c, &pr.c2s, 65536);
    p = step(pr.server, &pr.c2s, &flight, 65536);
    ok(p.status == SG_CONTINUE && flight.len > 100, "server flight: status %u size %zu\n", p.status, flight.len);

    while (fed < flight.len && !bad)
    {
        /* What the first unconsumed record still needs. */
        const uint8_t *r = flight.data + record_start;
        size_t have = fed - record_start, need;

        bytes_append(&in, flight.data + fed, 1);
        fed++;
        have++;
        need = have < 5 ? 5 - have : 5 + ((r[3] << 8) | r[4]) - have;
        p = step(pr.client, &in, &pr.c2s, 65536);
        if (p.status == SG_INCOMPLETE)
        {
            incomplete++;
            if (p.consumed != 0 || p.missing != need || p.output_size != 0 || !need) bad = 1;
            ok(!bad, "%zu bytes fed: consumed %u missing %u (expected %zu) output %u\n", fed, p.consumed,
               p.missing, need, p.output_size);
        }
        else if (p.status == SG_CONTINUE || p.status == SG_OK)
        {
            cont++;
            if (need != 0 || p.consumed != have || in.len != 0) bad = 1;
            ok(!bad, "%zu bytes fed: status %u consumed %u (record %zu bytes), need %zu\n", fed, p.status,
               p.consumed, have, need);
            record_start = fed;
            if (p.status == SG_OK) break;
        }
        else
        {
            ok(0, "%zu bytes fed: status %u error %d\n", fed, p.status, p.library_error);
            bad = 1;
        }
    }
    if (p.status == SG_OK && fed < flight.len)
    {
        /* TLS 1.3: GnuTLS's server sends its NewSessionTickets in its first flight. */
        struct bytes rest = { 0 };
        ok(proto == SG_PROTO_TLS1_3, "bytes after the handshake in protocol %#x\n", proto);
        bytes_append(&rest, flight.data + fed, flight.len - fed);
        drain_nondata(pr.client, &rest);
        fed = flight.len;
        bytes_free(&rest);
    }
    ok(fed == flight.len && !bad, "fed %zu of %zu\n", fed, flight.len);
    ok(incomplete > 0 && cont > 0, "incomplete %d, whole records %d\n", incomplete, cont);

    /* The client's token completes the server. */
    ok(pr.c2s.len > 0, "client has a token for the server\n");
    if (!bad && pr.c2s.len)
    {
        p = step(pr.server, &pr.c2s, &pr.s2c, 65536);
        ok(p.status == SG_OK, "server after split flight: %u\n", p.status);
        if (proto == SG_PROTO_TLS1_2)
        {
            struct sg_handshake_params c = step(pr.client, &pr.s2c, &pr.c2s, 65536);
            ok(c.status == SG_OK && c.consumed > 0 && pr.s2c.len == 0, "client finish: %u\n", c.status);
        }
        drain_nondata(pr.client, &pr.s2c);
        exchange(pr.server, &p.info, pr.client, 1234, 9);
    }
    bytes_free(&flight);
    bytes_free(&in);
    pair_free(&pr);
}

/* Whole records followed by part of the next one: the whole ones are used, the rest is left. */
static void test_partial_tail(void)
{
    struct pair pr;
    struct bytes flight = { 0 }, in = { 0 };
    struct sg_handshake_params p;
    size_t first;

    pair_init(&pr, SG_PROTO_TLS1_3, SG_PROTO_TLS1_3, 0);
    step(pr.client, &pr.s2c, &pr.c2s, 65536);
    step(pr.server, &pr.c2s, &flight, 65536);
    first = 5 + ((flight.data[3] << 8) | flight.data[4]);
    ok(first + 10 < flight.len, "flight has more than one record\n");
    bytes_append(&in, flight.data, first + 2);
    p = step(pr.client, &in, &pr.c2s, 65536);
    ok(p.status == SG_CONTINUE && p.consumed == first && in.len == 2,
       "whole + partial: status %u consumed %u (first record %zu)\n", p.status, p.consumed, first);
    bytes_append(&in, flight.data + first + 2, flight.len - first - 2);
    p = step(pr.client, &in, &pr.c2s, 65536);
    /* The server's first flight ends with its Finished: its TLS 1.3 tickets come only after
     * the client's Finished (as from a Windows server), so nothing is left over. */
    ok(p.status == SG_OK && in.len == 0, "rest of flight: status %u left %zu\n", p.status, in.len);
    drain_nondata(pr.client, &in);
    bytes_free(&flight);
    bytes_free(&in);
    pair_free(&pr);
}

/* A token larger than output_capacity is reported and fetched. */
static void test_fetch_output(void)
{
    struct pair pr;
    struct sg_handshake_params p;
    struct sg_fetch_output_params f;
    uint8_t small[64], *big;
    size_t size;
    int ret;

    pair_init(&pr, SG_PROTO_TLS1_3, SG_PROTO_TLS1_3, 0);
    step(pr.client, &pr.s2c, &pr.c2s, 65536);
    p = step(pr.server, &pr.c2s, &pr.s2c, sizeof(small));
    ok(p.status == SG_CONTINUE && p.output_size > sizeof(small) && pr.s2c.len == 0,
       "oversized token: status %u output_size %u\n", p.status, p.output_size);
    size = p.output_size;

    memset(&f, 0, sizeof(f));
    memset(small, 0xab, sizeof(small));
    f.session = pr.server;
    f.output = addr(small);
    f.output_capacity = sizeof(small);
    ret = call(unix_fetch_output, &f);
    ok(ret == 0 && f.status == SG_ERR_BUFFER_TOO_SMALL && small[0] == 0xab, "small fetch: status %u\n", f.status);

    big = malloc(size);
    f.output = addr(big);
    f.output_capacity = size;
    ret = call(unix_fetch_output, &f);
    ok(ret == 0 && f.status == SG_OK && f.output_size == size, "fetch: status %u size %u of %zu\n", f.status,
       f.output_size, size);
    ok(big[0] == 22 && big[1] == 3, "fetched token starts %02x %02x\n", big[0], big[1]);
    bytes_append(&pr.s2c, big, size);
    f.output_capacity = size;
    ret = call(unix_fetch_output, &f);
    ok(ret == 0 && f.status == SG_OK && f.output_size == 0, "second fetch: status %u size %u\n", f.status,
       f.output_size);
    free(big);

    p = step(pr.client, &pr.s2c, &pr.c2s, 65536);
    ok(p.status == SG_OK, "client with fetched token: %u\n", p.status);
    p = step(pr.server, &pr.c2s, &pr.s2c, 65536);
    ok(p.status == SG_OK, "server: %u\n", p.status);
    pair_free(&pr);
}

static void test_garbage(void)
{
    static const uint8_t not_tls[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    static const uint8_t bad_hello[] = { 22, 3, 1, 0, 8, 1, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef };
    struct pair pr;
    struct bytes in = { 0 }, out = { 0 };
    struct sg_handshake_params p;

    /* Not a TLS record at all. */
    pair_init(&pr, SG_PROTO_TLS1_3 | SG_PROTO_TLS1_2, SG_PROTO_TLS1_3 | SG_PROTO_TLS1_2, 0);
    bytes_append(&in, not_tls, sizeof(not_tls) - 1);
    p = step(pr.server, &in, &out, 65536);
    ok(p.status == SG_ERR_INVALID_TOKEN, "HTTP request: status %u\n", p.status);
    ok(p.alert == 50 && out.len == 7 && out.data[0] == 21, "decode_error alert: alert %u output %zu\n", p.alert,
       out.len);
    bytes_free(&in);
    bytes_free(&out);
    p = step(pr.server, &in, &out, 65536);
    ok(p.status == SG_ERR_INVALID_TOKEN, "failed session stays failed: %u\n", p.status);
    pair_free(&pr);

    /* A well-framed record with a broken ClientHello. */
    pair_init(&pr, SG_PROTO_TLS1_3 | SG_PROTO_TLS1_2, SG_PROTO_TLS1_3 | SG_PROTO_TLS1_2, 0);
    bytes_append(&in, bad_hello, sizeof(bad_hello));
    p = step(pr.server, &in, &out, 65536);
    ok(p.status != SG_OK && p.status != SG_CONTINUE && p.status != SG_INCOMPLETE && p.library_error < 0,
       "broken ClientHello: status %u error %d\n", p.status, p.library_error);
    bytes_free(&in);
    bytes_free(&out);

    /* Garbage in place of the server's flight. */
    step(pr.client, &pr.s2c, &pr.c2s, 65536);
    bytes_append(&in, bad_hello, sizeof(bad_hello));
    in.data[5] = 2; /* "ServerHello" */
    p = step(pr.client, &in, &out, 65536);
    ok(p.status != SG_OK && p.status != SG_CONTINUE && p.status != SG_INCOMPLETE && p.library_error < 0,
       "broken ServerHello: status %u error %d\n", p.status, p.library_error);
    bytes_free(&in);
    bytes_free(&out);
    pair_free(&pr);

    /* No common protocol version. */
    pair_init(&pr, SG_PROTO_TLS1_3, SG_PROTO_TLS1_2, 0);
    step(pr.client, &pr.s2c, &pr.c2s, 65536);
    p = step(pr.server, &pr.c2s, &pr.s2c, 65536);
    ok(p.status == SG_ERR_ALGORITHM_MISMATCH && p.alert != SG_ALERT_NONE && pr.s2c.len == 7
       && pr.s2c.data[0] == 21 && pr.s2c.data[5] == 2 && pr.s2c.data[6] == p.alert,
       "version mismatch: status %u alert %u output %zu\n", p.status, p.alert, pr.s2c.len);
    {
        uint32_t sent = p.alert;
        p = step(pr.client, &pr.s2c, &pr.c2s, 65536);
        ok(p.status == SG_ERR_ILLEGAL_MESSAGE && p.alert == sent && pr.s2c.len == 0,
           "client gets the alert: status %u alert %u (sent %u)\n", p.status, p.alert, sent);
    }
    pair_free(&pr);
}

static void test_record_layer(void)
{
    struct pair pr;
    struct bytes wire = { 0 }, two = { 0 };
    struct sg_decrypt_params p;
    struct sg_encrypt_params e;
    uint8_t msg1[] = "first record", msg2[] = "second, longer record", hdr[64], body[32], trl[64];
    size_t len1;
    uint32_t status;
    int lib;

    pair_init(&pr, SG_PROTO_TLS1_3, SG_PROTO_TLS1_3, 0);
    if (!run_handshake(&pr)) { pair_free(&pr); return; }

    /* NewSessionTickets: handshake records without data. */
    ok(pr.s2c.len > 0, "server sent post-handshake records\n");
    drain_nondata(pr.client, &pr.s2c);

    /* Two records in one buffer: one per call. */
    seal(pr.server, &pr.sinfo, msg1, sizeof(msg1), &two);
    len1 = two.len;
    seal(pr.server, &pr.sinfo, msg2, sizeof(msg2), &two);
    p = open_record(pr.client, &two);
    ok(p.status == SG_OK && p.consumed == len1 && p.data_size == sizeof(msg1)
       && !memcmp(two.data + p.data_offset, msg1, sizeof(msg1)), "first of two: status %u consumed %u of %zu\n",
       p.status, p.consumed, len1);
    bytes_drop(&two, p.consumed);
    p = open_record(pr.client, &two);
    ok(p.status == SG_OK && p.consumed == two.len && p.data_size == sizeof(msg2)
       && !memcmp(two.data + p.data_offset, msg2, sizeof(msg2)), "second of two: status %u\n", p.status);
    bytes_free(&two);

    /* Partial records. */
    seal(pr.server, &pr.sinfo, msg1, sizeof(msg1), &wire);
    {
        size_t full = wire.len, n;
        int bad = 0;
        for (n = 0; n < full && !bad; n++)
        {
            struct bytes part = { 0 };
            bytes_append(&part, wire.data, n);
            p = open_record(pr.client, &part);
            if (p.status != SG_INCOMPLETE || p.consumed || p.missing != (n < 5 ? 5 - n : full - n)) bad = 1;
            ok(!bad, "%zu of %zu bytes: status %u missing %u\n", n, full, p.status, p.missing);
            bytes_free(&part);
        }
        p = open_record(pr.client, &wire);
        ok(p.status == SG_OK && p.consumed == full && !memcmp(wire.data + 5, msg1, sizeof(msg1)),
           "after partial attempts: status %u\n", p.status);
    }
    bytes_free(&wire);

    /* Parameter checks on encrypt. */
    memset(&e, 0, sizeof(e));
    e.session = pr.client;
    e.header = addr(hdr);
    e.header_size = pr.cinfo.header_size - 1;
    e.data = addr(body);
    e.data_size = sizeof(body);
    e.trailer = addr(trl);
    e.trailer_size = pr.cinfo.trailer_size;
    ok(call(unix_encrypt, &e) == 0 && e.status == SG_ERR_BUFFER_TOO_SMALL, "small header: %u\n", e.status);
    e.header_size = pr.cinfo.header_size;
    e.trailer_size = pr.cinfo.trailer_size - 1;
    ok(call(unix_encrypt, &e) == 0 && e.status == SG_ERR_BUFFER_TOO_SMALL, "small trailer: %u\n", e.status);
    e.trailer_size = pr.cinfo.trailer_size;
    {
        uint8_t *huge = calloc(1, 16385);
        e.data = addr(huge);
        e.data_size = 16385;
        ok(call(unix_encrypt, &e) == 0 && e.status == SG_ERR_INVALID_PARAMETER, "16385 bytes: %u\n", e.status);
        free(huge);
    }
    /* The session still works after the refused calls. */
    exchange(pr.client, &pr.cinfo, pr.server, 10, 1);

    /* Garbage framing. */
    bytes_append(&wire, "\x80\x01\x02\x03\x04\x05\x06", 7);
    p = open_record(pr.client, &wire);
    ok(p.status == SG_ERR_INVALID_TOKEN, "bad framing: %u\n", p.status);
    bytes_free(&wire);

    /* close_notify. */
    status = engine_shutdown(engine_session_from_handle(pr.server), &lib);
    ok(status == SG_OK, "shutdown: %u (%d)\n", status, lib);
    {
        struct sg_fetch_output_params f;
        uint8_t buf[256];
        memset(&f, 0, sizeof(f));
        f.session = pr.server;
        f.output = addr(buf);
        f.output_capacity = sizeof(buf);
        ok(call(unix_fetch_output, &f) == 0 && f.status == SG_OK && f.output_size == 5 + 2 + 17,
           "close_notify token: status %u size %u\n", f.status, f.output_size);
        bytes_append(&wire, buf, f.output_size);
        p = open_record(pr.client, &wire);
        ok(p.status == SG_CLOSED && p.consumed == wire.len, "close_notify: status %u consumed %u\n", p.status,
           p.consumed);
        bytes_free(&wire);
    }
    pair_free(&pr);

    /* A flipped byte fails authentication, and the session stays failed. */
    pair_init(&pr, SG_PROTO_TLS1_2, SG_PROTO_TLS1_2, 0);
    if (run_handshake(&pr))
    {
        drain_nondata(pr.client, &pr.s2c);
        seal(pr.server, &pr.sinfo, msg1, sizeof(msg1), &wire);
        wire.data[pr.sinfo.header_size + 3] ^= 0x40;
        p = open_record(pr.client, &wire);
        ok(p.status == SG_ERR_DECRYPT && p.consumed == wire.len, "flipped byte: status %u consumed %u\n", p.status,
           p.consumed);
        ok(p.alert == 20, "bad_record_mac alert: %u\n", p.alert);
        bytes_free(&wire);
        seal(pr.server, &pr.sinfo, msg1, sizeof(msg1), &wire);
        p = open_record(pr.client, &wire);
        ok(p.status == SG_ERR_DECRYPT, "after failure: status %u\n", p.status);
        bytes_free(&wire);
    }
    pair_free(&pr);
}

static void test_peer_certs(void)
{
    struct pair pr;
    struct sg_get_peer_certs_params p;
    uint8_t *buf;

    pair_init(&pr, SG_PROTO_TLS1_3, SG_PROTO_TLS1_3, 0);
    memset(&p, 0, sizeof(p));
    p.session = pr.client;
    ok(call(unix_get_peer_certs, &p) == 0 && p.status == SG_OK && p.size == 0 && p.count == 0,
       "before handshake: status %u size %u\n", p.status, p.size);
    if (run_handshake(&pr))
    {
        ok(call(unix_get_peer_certs, &p) == 0 && p.status == SG_ERR_BUFFER_TOO_SMALL && p.size == rsa_chain.len
           && p.count == 2, "size query: status %u size %u (chain %zu) count %u\n", p.status, p.size,
           rsa_chain.len, p.count);
        buf = malloc(p.size);
        p.buffer = addr(buf);
        p.capacity = p.size;
        ok(call(unix_get_peer_certs, &p) == 0 && p.status == SG_OK && p.size == rsa_chain.len
           && !memcmp(buf, rsa_chain.data, rsa_chain.len), "peer chain: status %u\n", p.status);
        free(buf);
        p.session = pr.server;
        p.buffer = 0;
        p.capacity = 0;
        ok(call(unix_get_peer_certs, &p) == 0 && p.status == SG_OK && p.size == 0 && p.count == 0,
           "server sees no client cert: status %u size %u\n", p.status, p.size);
    }
    pair_free(&pr);
}

/* Older protocols use CBC suites: explicit IV, MAC + padding trailer. */
static void test_cbc(uint32_t proto)
{
    struct pair pr;
    uint32_t i;

    pair_init(&pr, proto, proto, 0);
    {
        struct sg_handshake_params p = step(pr.client, &pr.s2c, &pr.c2s, 65536);
        p = step(pr.server, &pr.c2s, &pr.s2c, 65536);
        if (p.status != SG_CONTINUE)
        {
            printf("engine_test: protocol %#x not available here (status %u, error %d), skipped\n", proto,
                   p.status, p.library_error);
            pair_free(&pr);
            return;
        }
        pair_free(&pr);
    }
    pair_init(&pr, proto, proto, 0);
    if (run_handshake(&pr))
    {
        const struct sg_session_info *c = &pr.cinfo;
        print_info("cbc", c);
        ok(c->protocol == proto, "protocol %#x\n", c->protocol);
        ok(c->block_size == 16 || c->block_size == 8, "block_size %u\n", c->block_size);
        ok(c->header_size == 5u + (proto == SG_PROTO_TLS1_0 ? 0 : c->block_size), "header_size %u\n", c->header_size);
        ok(c->trailer_size == c->hash_bits / 8 + c->block_size, "trailer_size %u (hash %u bits)\n", c->trailer_size,
           c->hash_bits);
        ok(c->cipher_suite != 0, "suite %#x\n", c->cipher_suite);
        drain_nondata(pr.client, &pr.s2c);
        for (i = 1; i <= 40; i++)
        {
            exchange(pr.client, &pr.cinfo, pr.server, i, (uint8_t)i);
            exchange(pr.server, &pr.sinfo, pr.client, i, (uint8_t)i);
        }
        test_records(&pr);
    }
    pair_free(&pr);
}

/* A credential whose key has no CRT values (GnuTLS computes them). */
static void test_key_without_crt(void)
{
    struct pair pr;
    uint32_t status;
    uint64_t scred, ccred;

    memset(&pr, 0, sizeof(pr));
    scred = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_3, &rsa_chain, SG_KEY_RSA_COMPONENTS, &rsa_key_nocrt, &status);
    ok(status == SG_OK, "key without CRT values: %u\n", status);
    if (status != SG_OK) return;
    ccred = create_cred(SG_CRED_CLIENT, SG_PROTO_TLS1_3, NULL, SG_KEY_NONE, NULL, &status);
    pr.client = create_session(ccred, 0, "127.0.0.1");
    pr.server = create_session(scred, SG_SESSION_SERVER, NULL);
    free_cred(ccred);
    free_cred(scred);
    if (run_handshake(&pr))
    {
        drain_nondata(pr.client, &pr.s2c);
        exchange(pr.server, &pr.sinfo, pr.client, 333, 3);
    }
    pair_free(&pr);
}

/* ---- credentials that share certificates, the server's session cache ---- */

static void *cred_certs(uint64_t cred)
{
    struct engine_cred *c = engine_cred_from_handle(cred);
    return c ? engine_cred_gnutls_certs(c) : NULL;
}

static unsigned int cert_count(void *certs)
{
    unsigned int n = 0, size;
    gnutls_x509_crt_t *crts;

    while (gnutls_certificate_get_x509_crt(certs, n, &crts, &size) >= 0)
    {
        while (size) gnutls_x509_crt_deinit(crts[--size]);
        gnutls_free(crts);
        n++;
    }
    return n;
}

static void test_shared_certificates(void)
{
    struct sg_cred_add_cert_params add;
    uint64_t a, b, e, c1, c2;
    uint32_t status;
    void *shared;
    struct pair pr;

    a = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_2 | SG_PROTO_TLS1_3, &rsa_chain, SG_KEY_RSA_COMPONENTS, &rsa_key, &status);
    b = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_3, &rsa_chain, SG_KEY_RSA_COMPONENTS, &rsa_key, &status);
    e = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_3, &ecdsa_chain, SG_KEY_EC_COMPONENTS, &ecdsa_key, &status);
    c1 = create_cred(SG_CRED_CLIENT, SG_PROTO_TLS1_3, NULL, SG_KEY_NONE, NULL, &status);
    c2 = create_cred(SG_CRED_CLIENT, SG_PROTO_TLS1_2 | SG_PROTO_TLS1_3, NULL, SG_KEY_NONE, NULL, &status);
    if (!a || !b || !e || !c1 || !c2) return;
    shared = cred_certs(a);
    ok(shared && shared == cred_certs(b), "same chain and key: certificates not shared\n");
    ok(cred_certs(e) && cred_certs(e) != shared, "another key: shared\n");
    ok(cred_certs(c1) && cred_certs(c1) == cred_certs(c2), "client credentials without certificate: not shared\n");
    ok(cred_certs(c1) != shared, "client and server credentials share\n");
    ok(cert_count(shared) == 1, "%u certificates\n", cert_count(shared));

    /* Adding a certificate to a shared credential gives it a copy of its own. */
    memset(&add, 0, sizeof(add));
    add.cred = a;
    add.chain = addr(ecdsa_chain.data);
    add.chain_size = ecdsa_chain.len;
    add.key_format = SG_KEY_EC_COMPONENTS;
    add.key = addr(ecdsa_key.data);
    add.key_size = ecdsa_key.len;
    ok(call(unix_cred_add_cert, &add) == 0 && add.status == SG_OK, "add_cert: %u\n", add.status);
    ok(cred_certs(a) != shared && cert_count(cred_certs(a)) == 2, "a: %u certificates\n", cert_count(cred_certs(a)));
    ok(cred_certs(b) == shared && cert_count(shared) == 1, "b: %u certificates\n", cert_count(cred_certs(b)));

    /* Both still serve: the copy and the one left shared (after its first owner is gone). */
    memset(&pr, 0, sizeof(pr));
    pr.client = create_session(c1, 0, "localhost");
    pr.server = create_session(a, SG_SESSION_SERVER, NULL);
    if (run_handshake(&pr)) exchange(pr.client, &pr.cinfo, pr.server, 100, 1);
    pair_free(&pr);
    free_cred(a);
    memset(&pr, 0, sizeof(pr));
    pr.client = create_session(c2, 0, "localhost");
    pr.server = create_session(b, SG_SESSION_SERVER, NULL);
    free_cred(b);
    if (run_handshake(&pr))
    {
        ok(pr.sinfo.protocol == SG_PROTO_TLS1_3, "protocol %#x\n", pr.sinfo.protocol);
        drain_nondata(pr.client, &pr.s2c);
        exchange(pr.server, &pr.sinfo, pr.client, 100, 2);
    }
    pair_free(&pr);
    free_cred(e);
    free_cred(c1);
    free_cred(c2);
}

/* Client session data of a TLS 1.2 handshake against scred, resumed from *resume when set. */
static int cache_handshake(uint64_t ccred, uint64_t scred, const struct bytes *resume, struct bytes *data)
{
    struct sg_session_resume_params rp;
    static uint8_t buf[16384];
    struct pair pr;
    int resumed = -1;

    memset(&pr, 0, sizeof(pr));
    pr.client = create_session(ccred, 0, "localhost");
    pr.server = create_session(scred, SG_SESSION_SERVER, NULL);
    if (resume)
    {
        memset(&rp, 0, sizeof(rp));
        rp.session = pr.client;
        rp.buffer = addr(resume->data);
        rp.size = resume->len;
        ok(call(unix_session_set_resume, &rp) == 0 && rp.status == SG_OK, "set_resume: %u\n", rp.status);
    }
    if (run_handshake(&pr))
    {
        resumed = pr.cinfo.resumed;
        if (data)
        {
            memset(&rp, 0, sizeof(rp));
            rp.session = pr.client;
            rp.buffer = addr(buf);
            rp.size = sizeof(buf);
            ok(call(unix_session_get_resume, &rp) == 0 && rp.status == SG_OK && rp.result_size,
               "get_resume: %u, %u bytes\n", rp.status, rp.result_size);
            bytes_append(data, buf, rp.result_size);
        }
    }
    pair_free(&pr);
    return resumed;
}

/* A TLS 1.2 handshake driven as the PE side drives a client: unix_client_handshake, with a
 * region for the resumption data from the second step on. Returns the final step's
 * resume_out_size (-1 on failure); *resumed tells whether the session was resumed. */
/* A TLS 1.2 ECDSA server credential with its session cache set up, and a client credential. */
static int resume_creds(uint64_t *scred, uint64_t *ccred)
{
    struct sg_cred_server_params sp;
    uint32_t status;

    *scred = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_2, &ecdsa_chain, SG_KEY_EC_COMPONENTS, &ecdsa_key, &status);
    *ccred = create_cred(SG_CRED_CLIENT, SG_PROTO_TLS1_2, NULL, SG_KEY_NONE, NULL, &status);
    if (!*scred || !*ccred) return 0;
    memset(&sp, 0, sizeof(sp));
    sp.cred = *scred;
    ok(call(unix_cred_set_server, &sp) == 0 && sp.status == SG_OK, "set_server: %u\n", sp.status);
    return 1;
}

static int client_region_handshake(uint64_t ccred, uint64_t scred, const struct bytes *resume, struct bytes *data,
                                   int *resumed)
{
    static uint8_t token[65536], region[16384];
    struct sg_handshake_params p;
    struct pair pr;
    int i, result = -1, sdone = 0;

    memset(&pr, 0, sizeof(pr));
    pr.client = create_session(ccred, 0, "localhost");
    pr.server = create_session(scred, SG_SESSION_SERVER, NULL);
    for (i = 0; i < 10 && result < 0; i++)
    {
        memset(&p, 0, sizeof(p));
        p.session = pr.client;
        p.input = pr.s2c.len ? addr(pr.s2c.data) : 0;
        p.input_size = pr.s2c.len;
        p.output = addr(token);
        p.output_capacity = sizeof(token);
        if (!i && resume)
        {
            p.resume = addr(resume->data);
            p.resume_size = resume->len;
        }
        if (i)
        {
            p.resume_out = addr(region);
            p.resume_out_capacity = sizeof(region);
        }
        ok(call(unix_client_handshake, &p) == 0, "client step %d failed\n", i);
        if (p.status != SG_OK && p.status != SG_CONTINUE) break;
        bytes_drop(&pr.s2c, p.consumed);
        bytes_append(&pr.c2s, token, p.output_size);
        if (p.status == SG_OK)
        {
            result = p.resume_out_size;
            *resumed = p.info.resumed;
            if (data && p.resume_out_size <= sizeof(region)) bytes_append(data, region, p.resume_out_size);
        }
        if (!sdone && pr.c2s.len)
        {
            struct sg_handshake_params sp = step(pr.server, &pr.c2s, &pr.s2c, 65536);
            if (sp.status == SG_OK) sdone = 1;
            else if (sp.status != SG_CONTINUE) break;
        }
    }
    pair_free(&pr);
    return result;
}

/* The final client step reports resumption data, except for a resumed TLS 1.2 session (no
 * new ticket: the data would be what the client offered), which SESSION_INFO and the PE
 * side's cache keep using. */
static void test_resume_out(void)
{
    struct bytes first = { NULL, 0 }, again = { NULL, 0 };
    uint64_t scred, ccred;
    int resumed = -1, size;

    if (!resume_creds(&scred, &ccred)) return;

    size = client_region_handshake(ccred, scred, NULL, &first, &resumed);
    ok(size > 0 && resumed == 0 && first.len == (size_t)size, "full handshake: %d bytes, resumed %d\n", size, resumed);
    if (size > 0)
    {
        resumed = -1;
        size = client_region_handshake(ccred, scred, &first, &again, &resumed);
        ok(size == 0 && resumed == 1 && !again.len, "resumed handshake: %d bytes, resumed %d\n", size, resumed);
        /* The data offered the first time still resumes. */
        resumed = -1;
        size = client_region_handshake(ccred, scred, &first, NULL, &resumed);
        ok(size == 0 && resumed == 1, "second resumption: %d bytes, resumed %d\n", size, resumed);
    }
    bytes_free(&first);
    bytes_free(&again);
    free_cred(ccred);
    free_cred(scred);
}

static void test_session_cache(void)
{
    enum { SLOTS = 256, EXTRA = 4 };
    static struct bytes data[SLOTS + EXTRA];
    uint64_t scred, ccred;
    int i;

    if (!resume_creds(&scred, &ccred)) return;

    /* A full cache replaces its oldest sessions: the first EXTRA are gone, the rest resume. */
    for (i = 0; i < SLOTS + EXTRA; i++)
        if (cache_handshake(ccred, scred, NULL, &data[i]) != 0) break;
    ok(i == SLOTS + EXTRA, "full handshake %d failed\n", i);
    if (i == SLOTS + EXTRA)
    {
        /* Resumed handshakes store nothing new; a full one would replace the oldest. */
        ok(cache_handshake(ccred, scred, &data[SLOTS + EXTRA - 1], NULL) == 1, "the newest session did not resume\n");
        ok(cache_handshake(ccred, scred, &data[EXTRA], NULL) == 1, "the oldest kept session did not resume\n");
        ok(cache_handshake(ccred, scred, &data[EXTRA - 1], NULL) == 0, "the newest evicted session resumed\n");
        ok(cache_handshake(ccred, scred, &data[0], NULL) == 0, "the first session resumed\n");
    }
    for (i = 0; i < SLOTS + EXTRA; i++) bytes_free(&data[i]);
    free_cred(ccred);
    free_cred(scred);
}

/* ---- the record fast path (engine_fastrec.c) against a plain GnuTLS peer ---- */

struct peer
{
    gnutls_session_t tls;
    gnutls_certificate_credentials_t cred;
    gnutls_datum_t ticket_key;
    struct bytes in;                /* engine -> peer, not read yet */
    struct bytes out;               /* peer -> engine, not read yet */
    uint64_t session;               /* the engine session */
    struct sg_session_info info;
    int engine_server;
};

static ssize_t peer_push(gnutls_transport_ptr_t ptr, const void *data, size_t size)
{
    struct peer *p = ptr;
    bytes_append(&p->out, data, size);
    return size;
}

static ssize_t peer_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
    struct peer *p = ptr;
    if (!p->in.len)
    {
        gnutls_transport_set_errno(p->tls, EAGAIN);
        return -1;
    }
    if (size > p->in.len) size = p->in.len;
    memcpy(data, p->in.data, size);
    bytes_drop(&p->in, size);
    return size;
}

/* Hands the engine's pending output (alerts, a KeyUpdate reply) to the peer. */
static void output_to_peer(struct peer *p)
{
    struct sg_fetch_output_params f;
    static uint8_t buf[65536];

    memset(&f, 0, sizeof(f));
    f.session = p->session;
    f.output = addr(buf);
    f.output_capacity = sizeof(buf);
    ok(call(unix_fetch_output, &f) == 0 && f.status == SG_OK, "fetch_output: status %u\n", f.status);
    bytes_append(&p->in, buf, f.output_size);
}

/* Both sides run handshake steps until they are done (a first handshake or a renegotiation). */
static int peer_handshake(struct peer *p, int engine_first)
{
    int edone = 0, pdone = 0, i, ret;

    for (i = 0; i < 20 && !(edone && pdone); i++)
    {
        if (!edone && (p->out.len || (engine_first && !i)))
        {
            struct sg_handshake_params h = step(p->session, &p->out, &p->in, 65536);
            if (h.status == SG_OK)
            {
                edone = 1;
                p->info = h.info;
            }
            else if (h.status != SG_CONTINUE)
            {
                ok(0, "engine handshake step: status %u error %d alert %u\n", h.status, h.library_error, h.alert);
                return 0;
            }
        }
        if (!pdone)
        {
            ret = gnutls_handshake(p->tls);
            if (!ret) pdone = 1;
            else if (ret != GNUTLS_E_AGAIN)
            {
                ok(0, "peer handshake: %s\n", gnutls_strerror(ret));
                return 0;
            }
        }
    }
    ok(edone && pdone, "handshake with the peer did not finish: engine %d peer %d\n", edone, pdone);
    return edone && pdone;
}

static void peer_free(struct peer *p)
{
    if (p->session) free_session(p->session);
    if (p->tls) gnutls_deinit(p->tls);
    if (p->cred) gnutls_certificate_free_credentials(p->cred);
    if (p->ticket_key.data) gnutls_free(p->ticket_key.data);
    bytes_free(&p->in);
    bytes_free(&p->out);
    memset(p, 0, sizeof(*p));
}

/* An engine session (server or client) and a GnuTLS peer that allows only cipher. */
static int peer_start_with(struct peer *p, int engine_server, uint32_t proto, const char *cipher, size_t max_recv);

static int peer_start(struct peer *p, int engine_server, uint32_t proto, const char *cipher)
{
    return peer_start_with(p, engine_server, proto, cipher, 0);
}

/* A server peer that announces record_size_limit max_recv. */
static int peer_start_limited(struct peer *p, uint32_t proto, size_t max_recv)
{
    return peer_start_with(p, 0, proto, "AES-128-GCM", max_recv);
}

static int peer_start_with(struct peer *p, int engine_server, uint32_t proto, const char *cipher, size_t max_recv)
{
    char prio[256];
    uint32_t status;
    uint64_t cred;

    memset(p, 0, sizeof(*p));
    p->engine_server = engine_server;
    if (engine_server) cred = create_cred(SG_CRED_SERVER, proto, &rsa_chain, SG_KEY_RSA_COMPONENTS, &rsa_key, &status);
    else cred = create_cred(SG_CRED_CLIENT, proto, NULL, SG_KEY_NONE, NULL, &status);
    p->session = create_session(cred, engine_server ? SG_SESSION_SERVER : 0, engine_server ? NULL : "localhost");
    free_cred(cred);

    snprintf(prio, sizeof(prio), "NORMAL:-VERS-ALL:+VERS-TLS1.%d:-CIPHER-ALL:+%s",
             proto == SG_PROTO_TLS1_3 ? 3 : 2, cipher);
    gnutls_certificate_allocate_credentials(&p->cred);
    gnutls_init(&p->tls, (engine_server ? GNUTLS_CLIENT : GNUTLS_SERVER) | GNUTLS_NONBLOCK);
    if (!engine_server)
    {
        gnutls_datum_t crt = load_file("server-rsa.pem"), key = load_file("server-rsa-key.pem");
        ok(gnutls_certificate_set_x509_key_mem(p->cred, &crt, &key, GNUTLS_X509_FMT_PEM) >= 0, "peer key\n");
        gnutls_free(crt.data);
        gnutls_free(key.data);
        gnutls_session_ticket_key_generate(&p->ticket_key);
        gnutls_session_ticket_enable_server(p->tls, &p->ticket_key);
    }
    ok(gnutls_priority_set_direct(p->tls, prio, NULL) >= 0, "peer priority %s\n", prio);
    if (max_recv) ok(gnutls_record_set_max_recv_size(p->tls, max_recv) >= 0, "peer record size limit\n");
    gnutls_credentials_set(p->tls, GNUTLS_CRD_CERTIFICATE, p->cred);
    gnutls_transport_set_ptr(p->tls, p);
    gnutls_transport_set_push_function(p->tls, peer_push);
    gnutls_transport_set_pull_function(p->tls, peer_pull);
    if (!peer_handshake(p, !engine_server)) return 0;
    ok(p->info.protocol == proto, "protocol %#x\n", p->info.protocol);
    return 1;
}

/* The peer reads one record with data (post-handshake records in between are processed). */
static ssize_t peer_read(struct peer *p, uint8_t *buf, size_t capacity)
{
    ssize_t ret;
    do ret = gnutls_record_recv(p->tls, buf, capacity);
    while (ret == GNUTLS_E_AGAIN && p->in.len);
    return ret;
}

/* The engine opens the peer's next record; plaintext (if any) is appended to *plain. */
static struct sg_decrypt_params engine_read(struct peer *p, struct bytes *plain)
{
    struct sg_decrypt_params d = open_record(p->session, &p->out);

    if (d.status == SG_OK && d.data_size) bytes_append(plain, p->out.data + d.data_offset, d.data_size);
    if (d.output_pending) output_to_peer(p);
    if (d.consumed <= p->out.len) bytes_drop(&p->out, d.consumed);
    return d;
}

static void fill_pattern(uint8_t *data, size_t len, uint8_t seed)
{
    size_t i;
    for (i = 0; i < len; i++) data[i] = (uint8_t)(seed + i * 13 + (i >> 8));
}

/* len bytes sealed by the engine, read by the peer. */
static void engine_to_peer(struct peer *p, uint32_t len, uint8_t seed, const char *what)
{
    uint8_t *data = malloc(len + 1), *got = malloc(len + 1);
    ssize_t ret;

    fill_pattern(data, len, seed);
    ok(seal(p->session, &p->info, data, len, &p->in) == SG_OK, "%s: seal %u bytes\n", what, len);
    ret = peer_read(p, got, len + 1);
    ok(ret == (ssize_t)len && !memcmp(got, data, len), "%s: peer read %zd of %u bytes (%s)\n", what, ret, len,
       ret < 0 ? gnutls_strerror(ret) : "");
    free(data);
    free(got);
}

/* len bytes sent by the peer, opened by the engine (post-handshake records in front are skipped). */
static void peer_to_engine(struct peer *p, uint32_t len, uint8_t seed, const char *what)
{
    uint8_t *data = malloc(len + 1);
    struct bytes plain = { 0 };
    struct sg_decrypt_params d;
    ssize_t ret;

    fill_pattern(data, len, seed);
    ret = gnutls_record_send(p->tls, data, len);
    ok(ret == (ssize_t)len, "%s: peer sent %zd of %u\n", what, ret, len);
    do d = engine_read(p, &plain);
    while (d.status == SG_OK && !d.data_size && d.consumed && p->out.len);
    ok(d.status == SG_OK && d.data_offset == p->info.header_size && !p->out.len, "%s: open: status %u offset %u\n",
       what, d.status, d.data_offset);
    ok(plain.len == len && !memcmp(plain.data, data, len), "%s: engine read %zu of %u bytes\n", what, plain.len,
       len);
    bytes_free(&plain);
    free(data);
}

static void both_ways(struct peer *p, uint32_t len, uint8_t seed, const char *what)
{
    engine_to_peer(p, len, seed, what);
    peer_to_engine(p, len, seed + 1, what);
}

static uint64_t gnutls_seq(gnutls_session_t tls, int read)
{
    uint8_t seq[8];
    uint64_t v = 0;
    int i;

    if (gnutls_record_get_state(tls, read, NULL, NULL, NULL, seq) < 0) return ~(uint64_t)0;
    for (i = 0; i < 8; i++) v = (v << 8) | seq[i];
    return v;
}

/* The engine's own GnuTLS session. engine_session_gnutls() gives GnuTLS its sequence
 * numbers back first: records the fast path handled show up only then. */
static gnutls_session_t engine_gnutls(struct peer *p)
{
    return engine_session_gnutls(engine_session_from_handle(p->session));
}

/* Records go through the fast path: GnuTLS does not see them (its sequence numbers stay)
 * until it takes the record layer back, with the counts moved on by the records sent. */
static void check_fast_path_used(struct peer *p, const char *what)
{
    gnutls_session_t tls = engine_gnutls(p);
    uint64_t w = gnutls_seq(tls, 0), r = gnutls_seq(tls, 1);
    int i;

    for (i = 0; i < 3; i++) both_ways(p, 100, i, what);
    ok(gnutls_seq(tls, 0) == w && gnutls_seq(tls, 1) == r, "%s: GnuTLS saw the records (%llu %llu -> %llu %llu)\n",
       what, (unsigned long long)w, (unsigned long long)r, (unsigned long long)gnutls_seq(tls, 0),
       (unsigned long long)gnutls_seq(tls, 1));
    tls = engine_gnutls(p);
    ok(gnutls_seq(tls, 0) == w + 3 && gnutls_seq(tls, 1) == r + 3, "%s: sequence numbers %llu %llu, expected %llu %llu\n",
       what, (unsigned long long)gnutls_seq(tls, 0), (unsigned long long)gnutls_seq(tls, 1),
       (unsigned long long)w + 3, (unsigned long long)r + 3);
}

/* The engine sends a warning alert; from then on every record goes through GnuTLS, as all
 * did before the fast path existed: the reference for what GnuTLS alone does. The peer
 * does not see the alert (GnuTLS ends a TLS 1.3 session on any), only skips its sequence
 * number. */
static void fast_path_off(struct peer *p)
{
    struct sg_send_alert_params a;
    uint8_t buf[256], seq[8];
    uint64_t next = gnutls_seq(p->tls, 1) + 1;
    int i;

    memset(&a, 0, sizeof(a));
    a.session = p->session;
    a.output = addr(buf);
    a.output_capacity = sizeof(buf);
    a.level = 1;
    a.description = 90;  /* user_canceled */
    ok(call(unix_send_alert, &a) == 0 && a.status == SG_OK && a.output_size, "warning alert: %u\n", a.status);
    for (i = 0; i < 8; i++) seq[i] = (next >> (56 - 8 * i)) & 0xff;
    gnutls_record_set_state(p->tls, 1, seq);
}

/* A peer's write keys, to seal records by hand the way a peer could write them. */
struct raw_state
{
    gnutls_cipher_algorithm_t cipher;
    int tls13, explicit_nonce;
    uint8_t key[32], iv[12];
    gnutls_datum_t key_datum;
    uint64_t seq;
};

static void raw_state_get(struct peer *p, struct raw_state *st)
{
    gnutls_datum_t iv, key;
    uint8_t seq[8];
    int i;

    memset(st, 0, sizeof(*st));
    ok(gnutls_record_get_state(p->tls, 0, NULL, &iv, &key, seq) >= 0 && key.size <= 32 && iv.size <= 12,
       "peer write state\n");
    st->cipher = gnutls_cipher_get(p->tls);
    st->tls13 = gnutls_protocol_get_version(p->tls) == GNUTLS_TLS1_3;
    st->explicit_nonce = !st->tls13 && st->cipher != GNUTLS_CIPHER_CHACHA20_POLY1305;
    memcpy(st->key, key.data, key.size);
    memcpy(st->iv, iv.data, iv.size);
    st->key_datum.data = st->key;
    st->key_datum.size = key.size;
    for (i = 0; i < 8; i++) st->seq = (st->seq << 8) | seq[i];
}

/* The peer's sequence number moves on past the records sealed by hand. */
static void raw_state_put(struct peer *p, const struct raw_state *st)
{
    uint8_t seq[8];
    int i;

    for (i = 0; i < 8; i++) seq[i] = (st->seq >> (56 - 8 * i)) & 0xff;
    gnutls_record_set_state(p->tls, 0, seq);
}

/* Seals one record by hand (any content type, content, TLS 1.3 padding) onto *wire. */
static void raw_seal(struct raw_state *st, uint8_t type, const uint8_t *content, size_t size, size_t pad,
                     struct bytes *wire)
{
    size_t plain_size = size + (st->tls13 ? 1 + pad : 0), sealed_size = plain_size + 16, body, i;
    uint8_t nonce[12], aad[13], header[13], *plain = calloc(1, plain_size + 1), *sealed = malloc(sealed_size);
    gnutls_aead_cipher_hd_t aead;

    if (size) memcpy(plain, content, size);
    if (st->tls13) plain[size] = type;
    body = sealed_size + (st->explicit_nonce ? 8 : 0);
    header[0] = st->tls13 ? 23 : type;
    header[1] = header[2] = 3;
    header[3] = body >> 8;
    header[4] = body & 0xff;
    for (i = 0; i < 8; i++) header[5 + i] = aad[i] = (st->seq >> (56 - 8 * i)) & 0xff;
    if (st->explicit_nonce)
    {
        memcpy(nonce, st->iv, 4);
        memcpy(nonce + 4, aad, 8);
    }
    else
    {
        memcpy(nonce, st->iv, 12);
        for (i = 0; i < 8; i++) nonce[4 + i] ^= aad[i];
    }
    aad[8] = type;
    aad[9] = aad[10] = 3;
    aad[11] = size >> 8;
    aad[12] = size & 0xff;
    ok(gnutls_aead_cipher_init(&aead, st->cipher, &st->key_datum) >= 0, "aead init\n");
    ok(gnutls_aead_cipher_encrypt(aead, nonce, 12, st->tls13 ? header : aad, st->tls13 ? 5 : 13, 16, plain,
                                  plain_size, sealed, &sealed_size) >= 0, "raw seal\n");
    gnutls_aead_cipher_deinit(aead);
    bytes_append(wire, header, st->explicit_nonce ? 13 : 5);
    bytes_append(wire, sealed, sealed_size);
    st->seq++;
    free(plain);
    free(sealed);
}

struct fastrec_suite
{
    uint32_t proto;
    const char *cipher;
    uint32_t sg_cipher;
};

/* Records of every size both ways, then through whatever GnuTLS does in between. */
static void test_fastrec_exchange(const struct fastrec_suite *suite, int engine_server)
{
    static const uint32_t sizes[] = { 1, 2, 15, 16, 17, 100, 1000, 4096, 16383, 16384 };
    struct peer p;
    size_t i;

    if (!peer_start(&p, engine_server, suite->proto, suite->cipher)) { peer_free(&p); return; }
    ok(p.info.cipher == suite->sg_cipher, "cipher %u, expected %u\n", p.info.cipher, suite->sg_cipher);
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) both_ways(&p, sizes[i], i, "sizes");
    check_fast_path_used(&p, "established");

    if (suite->proto == SG_PROTO_TLS1_3)
    {
        struct bytes copy = { 0 }, plain = { 0 };
        struct sg_decrypt_params d;
        gnutls_session_t tls;
        uint64_t seq;
        int r;

        /* KeyUpdate asking for ours: both directions get new keys. The record goes to
         * GnuTLS exactly as it came (a handshake record leaves no plaintext behind). */
        r = gnutls_session_key_update(p.tls, GNUTLS_KU_PEER);
        ok(r == 0, "key update: %d\n", r);
        bytes_append(&copy, p.out.data, p.out.len);
        d = open_record(p.session, &p.out);
        ok(d.status == SG_OK && d.data_size == 0 && (d.flags & SG_DECRYPT_POST_HANDSHAKE) && d.consumed == copy.len,
           "KeyUpdate: status %u size %u flags %#x\n", d.status, d.data_size, d.flags);
        ok(!memcmp(p.out.data, copy.data, copy.len), "KeyUpdate record changed\n");
        ok(d.output_pending > 0, "no KeyUpdate reply queued\n");
        output_to_peer(&p);
        bytes_drop(&p.out, p.out.len);
        bytes_free(&copy);
        both_ways(&p, 1000, 1, "after KeyUpdate (requested)");
        check_fast_path_used(&p, "after KeyUpdate (requested)");

        /* KeyUpdate without a request: only the peer's keys change. */
        r = gnutls_session_key_update(p.tls, 0);
        ok(r == 0, "key update: %d\n", r);
        d = engine_read(&p, &plain);
        ok(d.status == SG_OK && d.data_size == 0 && !d.output_pending, "KeyUpdate: status %u pending %u\n",
           d.status, d.output_pending);
        both_ways(&p, 1000, 2, "after KeyUpdate");
        check_fast_path_used(&p, "after KeyUpdate");

        /* NewSessionTicket from a server peer, between data records. */
        if (!engine_server)
        {
            r = gnutls_session_ticket_send(p.tls, 1, 0);
            ok(r == 0, "ticket: %d\n", r);
            peer_to_engine(&p, 300, 3, "after NewSessionTicket");
            check_fast_path_used(&p, "after NewSessionTicket");
        }

        /* Padding: stripped, whatever its length, on the fast path (GnuTLS sees nothing). */
        tls = engine_gnutls(&p);
        seq = gnutls_seq(tls, 1);
        for (i = 0; i < 3; i++)
        {
            static const size_t pads[] = { 1, 200, 16384 - 100 };
            uint8_t data[100];
            ssize_t sent;

            fill_pattern(data, sizeof(data), i);
            sent = gnutls_record_send2(p.tls, data, sizeof(data), pads[i], 0);
            ok(sent == sizeof(data), "padded send: %zd\n", sent);
            d = engine_read(&p, &plain);
            ok(d.status == SG_OK && d.data_size == sizeof(data) && plain.len == sizeof(data)
               && !memcmp(plain.data, data, sizeof(data)), "padding %zu: status %u size %u\n", pads[i], d.status,
               d.data_size);
            bytes_free(&plain);
        }
        ok(gnutls_seq(tls, 1) == seq, "padded records went to GnuTLS\n");
        ok(gnutls_seq(engine_gnutls(&p), 1) == seq + 3, "sequence number after padded records\n");
        check_fast_path_used(&p, "after padding");
    }
    else
    {
        /* Renegotiation asked for by the peer (a HelloRequest from a server, a ClientHello
         * from a client), mid-stream. */
        struct bytes plain = { 0 };
        struct sg_decrypt_params d;
        int r;

        r = engine_server ? gnutls_handshake(p.tls) : gnutls_rehandshake(p.tls);
        ok(r == GNUTLS_E_AGAIN || r == 0, "peer renegotiation: %d\n", r);
        d = engine_read(&p, &plain);
        ok(d.status == SG_RENEGOTIATE, "renegotiation request: status %u\n", d.status);
        if (d.status == SG_RENEGOTIATE && peer_handshake(&p, 1))
        {
            both_ways(&p, 16384, 4, "after renegotiation");
            check_fast_path_used(&p, "after renegotiation");
        }
        bytes_free(&plain);
    }
    peer_free(&p);
}

/* One record from the peer that the engine cannot read (tampered with): the session fails
 * with bad_record_mac as it always did, and that alert reaches the peer under the right
 * sequence number. The record is left as it came. */
static void test_fastrec_tampered(const struct fastrec_suite *suite, int engine_server, int what, int reference)
{
    static const char *const names[] = { "body", "tag", "length up", "length down" };
    uint8_t data[200], buf[256];
    struct bytes copy = { 0 };
    struct sg_decrypt_params d;
    struct peer p;
    ssize_t ret;

    if (!peer_start(&p, engine_server, suite->proto, suite->cipher)) { peer_free(&p); return; }
    both_ways(&p, 100, 0, "before tampering");
    if (reference) fast_path_off(&p);
    fill_pattern(data, sizeof(data), 9);
    ok(gnutls_record_send(p.tls, data, sizeof(data)) == sizeof(data), "peer send\n");
    switch (what)
    {
    case 0: p.out.data[p.info.header_size + 7] ^= 0x10; break;
    case 1: p.out.data[p.out.len - 3] ^= 0x01; break;
    case 2: p.out.data[4]++; bytes_append(&p.out, "", 1); p.out.data[p.out.len - 1] = 0; break;
    case 3: p.out.data[4]--; break;
    }
    bytes_append(&copy, p.out.data, p.out.len);
    d = open_record(p.session, &p.out);
    ok(d.status == SG_ERR_DECRYPT && d.alert == 20 && d.library_error == GNUTLS_E_DECRYPTION_FAILED,
       "%s%s: status %u alert %u error %d\n", names[what], reference ? " (GnuTLS)" : "", d.status, d.alert,
       d.library_error);
    ok(d.consumed == 5u + ((copy.data[3] << 8) | copy.data[4]), "%s: consumed %u\n", names[what], d.consumed);
    ok(!memcmp(p.out.data, copy.data, copy.len), "%s: record changed\n", names[what]);
    ok(d.output_pending > 0, "%s: no alert queued\n", names[what]);
    output_to_peer(&p);
    ret = peer_read(&p, buf, sizeof(buf));
    ok(ret == GNUTLS_E_FATAL_ALERT_RECEIVED && gnutls_alert_get(p.tls) == GNUTLS_A_BAD_RECORD_MAC,
       "%s: peer got %zd alert %d\n", names[what], ret, gnutls_alert_get(p.tls));
    /* The session stays failed. */
    bytes_drop(&p.out, p.out.len);
    ok(seal(p.session, &p.info, data, 10, &p.in) == SG_ERR_DECRYPT, "%s: seal after failure\n", names[what]);
    bytes_free(&copy);
    peer_free(&p);
}

/* The end of a session after fast records: close_notify and alerts either way. */
static void test_fastrec_alerts(const struct fastrec_suite *suite, int engine_server)
{
    struct sg_decrypt_params d;
    struct bytes plain = { 0 };
    uint8_t buf[256];
    struct peer p;
    uint32_t status;
    ssize_t ret;
    int lib;

    /* close_notify from the peer; the engine may still send. */
    if (peer_start(&p, engine_server, suite->proto, suite->cipher))
    {
        both_ways(&p, 100, 0, "before close_notify");
        ok(gnutls_bye(p.tls, GNUTLS_SHUT_WR) == 0, "peer bye\n");
        do d = engine_read(&p, &plain);
        while (d.status == SG_OK && !d.data_size && p.out.len);
        ok(d.status == SG_CLOSED, "close_notify: status %u\n", d.status);
        {
            /* Data after close_notify (GnuTLS no longer sends any): still closed. */
            struct raw_state st;
            raw_state_get(&p, &st);
            raw_seal(&st, 23, (const uint8_t *)"late", 4, 0, &p.out);
            d = engine_read(&p, &plain);
            ok(d.status == SG_CLOSED && !plain.len, "data after close_notify: status %u size %u\n", d.status,
               d.data_size);
        }
        engine_to_peer(&p, 100, 1, "after the peer's close_notify");
    }
    peer_free(&p);

    /* close_notify from the engine. */
    if (peer_start(&p, engine_server, suite->proto, suite->cipher))
    {
        both_ways(&p, 100, 0, "before shutdown");
        status = engine_shutdown(engine_session_from_handle(p.session), &lib);
        ok(status == SG_OK, "shutdown: %u\n", status);
        output_to_peer(&p);
        ret = peer_read(&p, buf, sizeof(buf));
        ok(ret == 0, "peer read after close_notify: %zd\n", ret);
        ok(seal(p.session, &p.info, buf, 10, &p.in) != SG_OK, "seal after close_notify succeeded\n");
    }
    peer_free(&p);

    /* A warning alert from the peer, then records both ways. */
    if (peer_start(&p, engine_server, suite->proto, suite->cipher))
    {
        both_ways(&p, 100, 0, "before a warning alert");
        ok(gnutls_alert_send(p.tls, GNUTLS_AL_WARNING, GNUTLS_A_USER_CANCELED) == 0, "peer alert\n");
        do d = engine_read(&p, &plain);
        while (d.status == SG_OK && !d.data_size && d.alert == SG_ALERT_NONE && p.out.len);
        /* GnuTLS takes any alert but close_notify as fatal in TLS 1.3. */
        ok(d.status == (suite->proto == SG_PROTO_TLS1_3 ? SG_ERR_ILLEGAL_MESSAGE : SG_OK)
           && d.alert == GNUTLS_A_USER_CANCELED, "warning alert: status %u alert %u\n", d.status, d.alert);
        if (suite->proto != SG_PROTO_TLS1_3)
        {
            both_ways(&p, 1000, 1, "after a warning alert");
            both_ways(&p, 16384, 2, "after a warning alert");
        }
    }
    peer_free(&p);

    /* A warning alert from the engine (TLS 1.3 peers end the session on any alert), then
     * records both ways. */
    if (peer_start(&p, engine_server, suite->proto, suite->cipher))
    {
        struct sg_send_alert_params a;

        both_ways(&p, 100, 0, "before the engine's alert");
        memset(&a, 0, sizeof(a));
        a.session = p.session;
        a.output = addr(buf);
        a.output_capacity = sizeof(buf);
        a.level = 1;
        a.description = GNUTLS_A_USER_CANCELED;
        ok(call(unix_send_alert, &a) == 0 && a.status == SG_OK && a.output_size, "warning alert: %u\n", a.status);
        bytes_append(&p.in, buf, a.output_size);
        ret = peer_read(&p, buf, sizeof(buf));
        ok(ret == (suite->proto == SG_PROTO_TLS1_3 ? GNUTLS_E_FATAL_ALERT_RECEIVED : GNUTLS_E_WARNING_ALERT_RECEIVED)
           && gnutls_alert_get(p.tls) == GNUTLS_A_USER_CANCELED, "peer got %zd alert %d\n", ret,
           gnutls_alert_get(p.tls));
        if (suite->proto != SG_PROTO_TLS1_3) both_ways(&p, 1000, 1, "after the engine's alert");
    }
    peer_free(&p);

    /* A fatal alert from the peer ends the session. */
    if (peer_start(&p, engine_server, suite->proto, suite->cipher))
    {
        both_ways(&p, 100, 0, "before a fatal alert");
        ok(gnutls_alert_send(p.tls, GNUTLS_AL_FATAL, GNUTLS_A_INTERNAL_ERROR) == 0, "peer alert\n");
        do d = engine_read(&p, &plain);
        while (d.status == SG_OK && !d.data_size && p.out.len);
        ok(d.status == SG_ERR_ILLEGAL_MESSAGE && d.alert == GNUTLS_A_INTERNAL_ERROR,
           "fatal alert: status %u alert %u\n", d.status, d.alert);
        ok(seal(p.session, &p.info, buf, 10, &p.in) == SG_ERR_ILLEGAL_MESSAGE, "seal after a fatal alert\n");
    }
    peer_free(&p);
    bytes_free(&plain);
}

/* Records GnuTLS never sends on its own: empty application data; TLS 1.3 handshake
 * messages split over records, with application data in between or not. The engine
 * answers exactly as GnuTLS alone does (reference: a session whose fast path is off), and
 * a record without data for the caller is left as it came. */
struct raw_outcome
{
    uint32_t status[3], size[3], alert[3], flags[3];
    int unchanged[3];
};

static void raw_records(const struct fastrec_suite *suite, int engine_server, int reference, int split,
                        struct raw_outcome *out)
{
    struct bytes plain = { 0 }, wire = { 0 };
    struct raw_state st;
    struct peer p;
    int i, count, read = 0;

    memset(out, 0, sizeof(*out));
    if (!peer_start(&p, engine_server, suite->proto, suite->cipher)) { peer_free(&p); return; }
    both_ways(&p, 100, 0, "before raw records");
    if (reference) fast_path_off(&p);
    raw_state_get(&p, &st);
    if (!split)
    {
        /* Empty, data, empty. */
        raw_seal(&st, 23, NULL, 0, 0, &wire);
        raw_seal(&st, 23, (const uint8_t *)"abc", 3, 0, &wire);
        raw_seal(&st, 23, NULL, 0, 0, &wire);
        raw_state_put(&p, &st);
        count = 3;
    }
    else if (suite->proto != SG_PROTO_TLS1_3)
    {
        /* A HelloRequest from a server peer in pieces, or with data inside. */
        static const uint8_t hello_request[4];

        raw_seal(&st, 22, hello_request, 2, 0, &wire);
        if (split == 2) raw_seal(&st, 23, (const uint8_t *)"abc", 3, 0, &wire);
        raw_seal(&st, 22, hello_request + 2, 2, 0, &wire);
        raw_state_put(&p, &st);
        count = split == 2 ? 3 : 2;
    }
    else
    {
        /* The peer's own KeyUpdate (its keys change), sent again in pieces under the old keys. */
        uint8_t msg[64];
        size_t size;
        int r;

        r = gnutls_session_key_update(p.tls, 0);
        ok(r == 0, "key update: %d\n", r);
        size = p.out.len - 5 - 16 - 1;
        ok(size == 5, "KeyUpdate record of %zu bytes\n", p.out.len);
        bytes_drop(&p.out, p.out.len);
        msg[0] = 24;  /* key_update */
        msg[1] = msg[2] = 0;
        msg[3] = 1;
        msg[4] = 0;   /* update_not_requested */
        raw_seal(&st, 22, msg, 3, 0, &wire);
        if (split == 2) raw_seal(&st, 23, (const uint8_t *)"abc", 3, 0, &wire);
        raw_seal(&st, 22, msg + 3, 2, 0, &wire);
        count = split == 2 ? 3 : 2;
    }
    for (i = 0; i < count; i++)
    {
        struct sg_decrypt_params d;
        size_t len = 5 + ((wire.data[3] << 8) | wire.data[4]);
        struct bytes copy = { 0 };

        bytes_append(&copy, wire.data, len);
        d = open_record(p.session, &wire);
        if (d.output_pending) output_to_peer(&p);
        out->status[i] = d.status;
        out->size[i] = d.data_size;
        out->alert[i] = d.alert;
        out->flags[i] = d.flags;
        out->unchanged[i] = !memcmp(wire.data, copy.data, len);
        bytes_free(&copy);
        if (d.status != SG_OK || d.consumed != len) break;
        bytes_drop(&wire, len);
        read++;
    }
    if (read == count) both_ways(&p, 100, 5, "after the raw records");
    bytes_free(&wire);
    bytes_free(&plain);
    peer_free(&p);
}

static void test_fastrec_raw(const struct fastrec_suite *suite, int engine_server)
{
    struct raw_outcome fast, ref;
    int split, i;

    for (split = 0; split < (suite->proto == SG_PROTO_TLS1_3 || !engine_server ? 3 : 1); split++)
    {
        raw_records(suite, engine_server, 0, split, &fast);
        raw_records(suite, engine_server, 1, split, &ref);
        for (i = 0; i < 3; i++)
        {
            ok(fast.status[i] == ref.status[i] && fast.size[i] == ref.size[i] && fast.alert[i] == ref.alert[i]
               && fast.flags[i] == ref.flags[i], "raw records %d, record %d: status %u size %u alert %u flags %u; "
               "GnuTLS alone: %u %u %u %u\n", split, i, fast.status[i], fast.size[i], fast.alert[i], fast.flags[i],
               ref.status[i], ref.size[i], ref.alert[i], ref.flags[i]);
            if (!fast.size[i]) ok(fast.unchanged[i] == ref.unchanged[i], "raw records %d, record %d: unchanged %d/%d\n",
                                  split, i, fast.unchanged[i], ref.unchanged[i]);
        }
        /* What GnuTLS does: empty records are skipped; a split TLS 1.3 message is fine, data
         * inside it is not; a piece of a TLS 1.2 HelloRequest already asks for renegotiation. */
        if (split == 0)
            ok(fast.status[0] == SG_OK && fast.size[0] == 0 && fast.status[1] == SG_OK && fast.size[1] == 3
               && fast.status[2] == SG_OK && fast.size[2] == 0, "empty records: %u %u / %u %u / %u %u\n",
               fast.status[0], fast.size[0], fast.status[1], fast.size[1], fast.status[2], fast.size[2]);
        else if (suite->proto != SG_PROTO_TLS1_3)
            ok(fast.status[0] == SG_RENEGOTIATE, "split HelloRequest %d: %u\n", split, fast.status[0]);
        else if (split == 1)
            ok(fast.status[0] == SG_OK && fast.status[1] == SG_OK && fast.unchanged[0] && fast.unchanged[1],
               "split KeyUpdate: %u %u\n", fast.status[0], fast.status[1]);
        else
            ok(fast.status[0] == SG_OK && fast.status[1] != SG_OK, "data inside a KeyUpdate: %u %u\n",
               fast.status[0], fast.status[1]);
    }
}

/* A peer's record_size_limit: the fast path writes no bigger record than GnuTLS would, and
 * a message over the limit fails as it does with GnuTLS. */
static void test_fastrec_record_size_limit(uint32_t proto)
{
    struct peer p;
    uint8_t data[2000];

    memset(&p, 0, sizeof(p));
    if (!peer_start_limited(&p, proto, 1024)) { peer_free(&p); return; }
    both_ways(&p, 1000, 0, "under the peer's limit");
    check_fast_path_used(&p, "under the peer's limit");
    memset(data, 1, sizeof(data));
    ok(seal(p.session, &p.info, data, sizeof(data), &p.in) == SG_ERR_INTERNAL, "message over the peer's limit\n");
    ok(!p.in.len, "record over the peer's limit written\n");
    peer_free(&p);
}

/* No heap allocation per record on the fast path. */
static void test_fastrec_no_allocation(void)
{
    uint8_t header[64], body[1000], trailer[64];
    struct sg_encrypt_params e;
    struct sg_decrypt_params d;
    struct mallinfo2 before, after;
    int i, bad = 0;

    {
        /* A server-side session of our own to open what the client seals. */
        struct pair pr;
        pair_init(&pr, SG_PROTO_TLS1_3, SG_PROTO_TLS1_3, 0);
        if (run_handshake(&pr))
        {
            drain_nondata(pr.client, &pr.s2c);
            exchange(pr.client, &pr.cinfo, pr.server, 100, 1);
            before = mallinfo2();
            for (i = 0; i < 200 && !bad; i++)
            {
                uint8_t record[2048];
                memset(&e, 0, sizeof(e));
                e.session = pr.client;
                e.header = addr(header);
                e.header_size = pr.cinfo.header_size;
                e.data = addr(body);
                e.data_size = sizeof(body);
                e.trailer = addr(trailer);
                e.trailer_size = pr.cinfo.trailer_size;
                if (call(unix_encrypt, &e) || e.status != SG_OK) bad = 1;
                memcpy(record, header, e.header_used);
                memcpy(record + e.header_used, body, sizeof(body));
                memcpy(record + e.header_used + sizeof(body), trailer, e.trailer_used);
                memset(&d, 0, sizeof(d));
                d.session = pr.server;
                d.buffer = addr(record);
                d.size = e.header_used + sizeof(body) + e.trailer_used;
                if (call(unix_decrypt, &d) || d.status != SG_OK || d.data_size != sizeof(body)) bad = 1;
            }
            after = mallinfo2();
            ok(!bad, "records failed\n");
            ok(after.uordblks == before.uordblks, "heap in use changed by %ld bytes over 200 records\n",
               (long)(after.uordblks - before.uordblks));
        }
        pair_free(&pr);
    }
}

/* More keys in use than a thread keeps AEAD handles for (engine_fastrec.c THREAD_HANDLES, 8,
 * two per session here): records stay right against GnuTLS while handles are replaced,
 * replacing them takes no more memory (one cipher: handle sizes differ between ciphers),
 * and an established session carrying records holds no AEAD handle of its own. Replacing
 * a handle frees and allocates: malloc may then hand out up to 31 bytes more or less, so
 * the bounds below allow for that, far below what a handle (some 730 bytes) takes. */
static void test_fastrec_shared_handles(void)
{
    enum { PEERS = 6 };
    struct peer peers[PEERS];
    struct mallinfo2 before = { 0 }, after;
    uint64_t made_before = 0, made;
    struct pair pr;
    int i, round, window, started[PEERS];
    long grew, least = LONG_MAX;

    for (i = 0; i < PEERS; i++)
        started[i] = peer_start(&peers[i], i & 1, i < 3 ? SG_PROTO_TLS1_2 : SG_PROTO_TLS1_3, "AES-256-GCM");
    for (round = 0; round < 2; round++)
        for (i = 0; i < PEERS; i++)
            if (started[i]) both_ways(&peers[i], round ? 1000 : 100, (uint8_t)(round * 16 + i), "shared handles");
    /* 12 keys take turns over the thread's 8 handles: in round 1 every key is made a second
     * time, which gives each context a handle of its own; later rounds then make no handle
     * and allocate nothing. On a loaded machine a window of 10 rounds now and then shows a
     * few hundred bytes more in use (once, not per round: the next window shows none), so
     * the heap is judged by the best of up to three windows; memory taken per round shows in
     * every window. */
    made_before = engine_fastrec_handles_made();
    for (window = 0; window < 3 && least >= 256; window++)
    {
        before = mallinfo2();
        for (round = 0; round < 10; round++)
            for (i = 0; i < PEERS; i++)
                if (started[i]) both_ways(&peers[i], 1000, (uint8_t)((window * 10 + round + 2) * 16 + i), "shared handles");
        after = mallinfo2();
        grew = (long)(after.uordblks - before.uordblks);
        if (grew < least) least = grew;
        if (grew >= 256) fprintf(stderr, "engine_test: shared handles: heap in use grew by %ld bytes in window %d\n", grew, window);
    }
    made = engine_fastrec_handles_made();
    ok(made == made_before, "%lu handles made over %d rounds\n", (unsigned long)(made - made_before), window * 10);
    ok(least < 256, "heap in use grew by %ld bytes over 10 rounds, in each of %d windows\n", least, window);
    /* The thread's handles are all in use: the first records of one more pair, both ways,
     * take no memory (two handles of its own per session would take some 3 KB). */
    pair_init(&pr, SG_PROTO_TLS1_2, SG_PROTO_TLS1_2, 0);
    if (run_handshake(&pr))
    {
        before = mallinfo2();
        exchange(pr.client, &pr.cinfo, pr.server, 100, 1);
        exchange(pr.server, &pr.sinfo, pr.client, 100, 2);
        after = mallinfo2();
        ok((long)(after.uordblks - before.uordblks) < 256, "records of a new pair: heap in use grew by %ld bytes\n",
           (long)(after.uordblks - before.uordblks));
    }
    pair_free(&pr);
    for (i = 0; i < PEERS; i++)
    {
        if (started[i]) check_fast_path_used(&peers[i], "shared handles");
        peer_free(&peers[i]);
    }
}

struct fastrec_thread_args
{
    struct peer *p;
    uint8_t seed;
    int free_peer;
};

static void *fastrec_thread(void *arg)
{
    struct fastrec_thread_args *a = arg;

    both_ways(a->p, 100, a->seed, "other thread");
    if (a->free_peer) peer_free(a->p);
    return NULL;
}

/* A session used by one thread after another: each thread has handles of its own, which go
 * when the thread ends (the LSan build checks), and a session freed on another thread
 * leaves nothing wrong behind in this thread's handles. */
static void test_fastrec_threads(void)
{
    struct fastrec_thread_args args;
    struct peer p, other;
    pthread_t thread;

    if (peer_start(&p, 0, SG_PROTO_TLS1_2, "AES-256-GCM"))
    {
        both_ways(&p, 100, 3, "first thread");
        args.p = &p;
        args.seed = 5;
        args.free_peer = 0;
        ok(!pthread_create(&thread, NULL, fastrec_thread, &args) && !pthread_join(thread, NULL), "thread\n");
        check_fast_path_used(&p, "back in the first thread");
        /* Freed on another thread while this one keeps handles with its keys. */
        args.seed = 11;
        args.free_peer = 1;
        ok(!pthread_create(&thread, NULL, fastrec_thread, &args) && !pthread_join(thread, NULL), "thread\n");
    }
    peer_free(&p);
    if (peer_start(&other, 1, SG_PROTO_TLS1_3, "AES-256-GCM")) check_fast_path_used(&other, "after the free");
    peer_free(&other);
}

static void test_fastrec(void)
{
    static const struct fastrec_suite suites[] =
    {
        { SG_PROTO_TLS1_2, "AES-128-GCM", SG_CIPHER_AES_128_GCM },
        { SG_PROTO_TLS1_2, "AES-256-GCM", SG_CIPHER_AES_256_GCM },
        { SG_PROTO_TLS1_2, "CHACHA20-POLY1305", SG_CIPHER_CHACHA20_POLY1305 },
        { SG_PROTO_TLS1_3, "AES-128-GCM", SG_CIPHER_AES_128_GCM },
        { SG_PROTO_TLS1_3, "AES-256-GCM", SG_CIPHER_AES_256_GCM },
        { SG_PROTO_TLS1_3, "CHACHA20-POLY1305", SG_CIPHER_CHACHA20_POLY1305 },
    };
    size_t i;
    int server, what;

    for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
        for (server = 0; server < 2; server++)
        {
            test_fastrec_exchange(&suites[i], server);
            for (what = 0; what < 4; what++)
            {
                test_fastrec_tampered(&suites[i], server, what, 0);
                test_fastrec_tampered(&suites[i], server, what, 1);
            }
            test_fastrec_alerts(&suites[i], server);
            test_fastrec_raw(&suites[i], server);
        }
    test_fastrec_record_size_limit(SG_PROTO_TLS1_2);
    test_fastrec_record_size_limit(SG_PROTO_TLS1_3);
    test_fastrec_no_allocation();
    test_fastrec_shared_handles();
    test_fastrec_threads();
}

int main(int argc, char **argv)
{
    const char *env = getenv("SG_TEST_DATA");

    if (argc > 1) data_dir = argv[1];
    else if (env && *env) data_dir = env;

    test_process_attach();

    append_chain(&rsa_chain, "server-rsa.pem");
    append_chain(&rsa_chain, "ca.pem");
    rsa_key_blob(&rsa_key, "server-rsa-key.pem", 1);
    rsa_key_blob(&rsa_key_nocrt, "server-rsa-key.pem", 0);
    append_chain(&ecdsa_chain, "server-ecdsa.pem");
    ec_key_blob(&ecdsa_key, "server-ecdsa-key.pem");

    test_cred_errors();
    test_bad_handles();
    test_handshake(SG_PROTO_TLS1_2, 0, SG_PROTO_TLS1_2);
    test_handshake(SG_PROTO_TLS1_3, 0, SG_PROTO_TLS1_3);
    test_handshake(SG_PROTO_TLS1_2 | SG_PROTO_TLS1_3, 0, SG_PROTO_TLS1_3);
    test_handshake(SG_PROTO_TLS1_2, 1, SG_PROTO_TLS1_2);
    test_handshake(SG_PROTO_TLS1_3, 1, SG_PROTO_TLS1_3);
    test_group_order(SG_PROTO_TLS1_2);
    test_group_order(SG_PROTO_TLS1_3);
    test_incomplete_input(SG_PROTO_TLS1_3);
    test_incomplete_input(SG_PROTO_TLS1_2);
    test_partial_tail();
    test_fetch_output();
    test_garbage();
    test_record_layer();
    test_peer_certs();
    test_key_without_crt();
    test_shared_certificates();
    test_session_cache();
    test_resume_out();
    test_cbc(SG_PROTO_TLS1_1);
    test_cbc(SG_PROTO_TLS1_0);
    test_fastrec();

    bytes_free(&rsa_chain);
    bytes_free(&rsa_key);
    bytes_free(&rsa_key_nocrt);
    bytes_free(&ecdsa_chain);
    bytes_free(&ecdsa_key);
    engine_process_detach();

    printf("engine_test: %d tests executed, %d failures\n", tests_run, tests_failed);
    return tests_failed ? 1 : 0;
}
