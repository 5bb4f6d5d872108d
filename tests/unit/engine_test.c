/*
 * Native unit tests for secur32's Unix-side TLS engine.
 *
 * Everything goes through __wine_unix_call_funcs, exactly as the PE side calls it: a client
 * and a server session handshake in memory and exchange records. The only engine-internal
 * call is engine_shutdown(), which has no unix call yet.
 *
 * Usage: engine_test [test-data-dir]   (default: $SG_TEST_DATA, else tests/data)
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../../dlls/secur32/unix/engine.h"
#include "../../dlls/secur32/unix/engine_client.h"  /* engine_cred_gnutls_certs */

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

static void test_session_cache(void)
{
    enum { SLOTS = 256, EXTRA = 4 };
    struct sg_cred_server_params sp;
    static struct bytes data[SLOTS + EXTRA];
    uint64_t scred, ccred;
    uint32_t status;
    int i;

    scred = create_cred(SG_CRED_SERVER, SG_PROTO_TLS1_2, &ecdsa_chain, SG_KEY_EC_COMPONENTS, &ecdsa_key, &status);
    ccred = create_cred(SG_CRED_CLIENT, SG_PROTO_TLS1_2, NULL, SG_KEY_NONE, NULL, &status);
    if (!scred || !ccred) return;
    memset(&sp, 0, sizeof(sp));
    sp.cred = scred;
    ok(call(unix_cred_set_server, &sp) == 0 && sp.status == SG_OK, "set_server: %u\n", sp.status);

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
    test_cbc(SG_PROTO_TLS1_1);
    test_cbc(SG_PROTO_TLS1_0);

    bytes_free(&rsa_chain);
    bytes_free(&rsa_key);
    bytes_free(&rsa_key_nocrt);
    bytes_free(&ecdsa_chain);
    bytes_free(&ecdsa_key);
    engine_process_detach();

    printf("engine_test: %d tests executed, %d failures\n", tests_run, tests_failed);
    return tests_failed ? 1 : 0;
}
