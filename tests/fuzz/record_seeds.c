/*
 * Seed corpora for the fuzz harnesses, recorded from real handshakes.
 *
 * Our client and server engine sessions handshake with each other (TLS 1.2 and 1.3, RSA
 * and ECDSA), and a plain GnuTLS client (several priority strings) greets our server; the
 * bytes each side received become harness inputs in the layouts the harnesses document.
 *
 * Usage: record_seeds OUTDIR    (writes OUTDIR/{client_handshake,server_handshake,decrypt,cred}/)
 */

#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fuzz_common.h"

static const char *outdir;
static int written;

static void write_seed(const char *harness, const char *name, uint8_t b0, int with_b1, uint8_t b1,
                       const void *data, size_t size)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", outdir, harness);
    mkdir(path, 0777);
    snprintf(path, sizeof(path), "%s/%s/%s", outdir, harness, name);
    if (!(f = fopen(path, "wb")))
    {
        perror(path);
        exit(1);
    }
    fputc(b0, f);
    if (with_b1) fputc(b1, f);
    if (size) fwrite(data, 1, size, f);
    fclose(f);
    written++;
}

/* Our client against our server; *to_client and *to_server collect everything each received. */
static int record_engine_pair(int cproto, int sproto, int ecdsa, struct fz_bytes *to_client, struct fz_bytes *to_server)
{
    uint64_t ccred = fz_cred(SG_CRED_CLIENT, fz_protocols(cproto), 0);
    uint64_t scred = fz_cred(SG_CRED_SERVER, fz_protocols(sproto), ecdsa);
    uint64_t client = fz_session(ccred, 0), server = fz_session(scred, 1);
    struct fz_bytes c2s = { 0 }, s2c = { 0 };
    struct sg_handshake_params p;
    int round, cdone = 0, sdone = 0;

    p = fz_step(client, &s2c, &c2s, 65536);
    for (round = 0; round < 8 && !(cdone && sdone); round++)
    {
        if (!sdone && c2s.len)
        {
            fz_append(to_server, c2s.data, c2s.len);
            p = fz_step(server, &c2s, &s2c, 65536);
            if (p.status == SG_OK) sdone = 1;
            else if (p.status != SG_CONTINUE) break;
        }
        if (!cdone && s2c.len)
        {
            fz_append(to_client, s2c.data, s2c.len);
            p = fz_step(client, &s2c, &c2s, 65536);
            if (p.status == SG_OK) cdone = 1;
            else if (p.status != SG_CONTINUE) break;
        }
    }
    /* Post-handshake records (TLS 1.3 tickets) belong to the stream too. */
    if (s2c.len) fz_append(to_client, s2c.data, s2c.len);
    fz_session_free(client);
    fz_session_free(server);
    fz_cred_free(ccred);
    fz_cred_free(scred);
    fz_free(&c2s);
    fz_free(&s2c);
    return cdone && sdone;
}

static ssize_t sink_push(gnutls_transport_ptr_t ptr, const void *data, size_t size)
{
    fz_append(ptr, data, size);
    return size;
}

static ssize_t empty_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
    (void)ptr; (void)data; (void)size;
    errno = EAGAIN;
    return -1;
}

/* The ClientHello a plain GnuTLS client sends with the given priorities. */
static void native_client_hello(const char *priority, const char *sni, struct fz_bytes *out)
{
    gnutls_certificate_credentials_t certs;
    gnutls_session_t s;

    FZ_ASSERT(gnutls_certificate_allocate_credentials(&certs) >= 0);
    FZ_ASSERT(gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK) >= 0);
    if (gnutls_priority_set_direct(s, priority, NULL) < 0)
    {
        fprintf(stderr, "record_seeds: GnuTLS refuses \"%s\", skipped\n", priority);
        gnutls_deinit(s);
        gnutls_certificate_free_credentials(certs);
        return;
    }
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, certs);
    if (sni) gnutls_server_name_set(s, GNUTLS_NAME_DNS, sni, strlen(sni));
    gnutls_transport_set_ptr(s, out);
    gnutls_transport_set_push_function(s, sink_push);
    gnutls_transport_set_pull_function(s, empty_pull);
    FZ_ASSERT(gnutls_handshake(s) == GNUTLS_E_AGAIN);
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(certs);
}

static void record_handshakes(void)
{
    static const char *const natives[] =
    {
        "NORMAL", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "NORMAL:-VERS-ALL:+VERS-TLS1.2",
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:%NO_ETM", "NORMAL:-VERS-ALL:+VERS-TLS1.0",
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1", /* forces a HelloRetryRequest */
        "SECURE256:+VERS-TLS1.3",
    };
    char name[64];
    int c, s, e;
    size_t i;

    for (c = 0; c < 4; c++)
        for (s = 0; s < 4; s++)
            for (e = 0; e < 2; e++)
            {
                struct fz_bytes to_client = { 0 }, to_server = { 0 };
                int done = record_engine_pair(c, s, e, &to_client, &to_server);
                uint8_t cfg_client = c | (s << 2) | (e << 4), cfg_server = s | (c << 2) | (e << 4);

                snprintf(name, sizeof(name), "engine-%d-%d-%d%s", c, s, e, done ? "" : "-fail");
                write_seed("client_handshake", name, cfg_client, 1, 0, to_client.data, to_client.len);
                write_seed("server_handshake", name, cfg_server, 1, 0, to_server.data, to_server.len);
                if (!done) goto next;
                /* Split into small pieces, and the live mode with a few harmless edits. */
                snprintf(name, sizeof(name), "engine-%d-%d-%d-split", c, s, e);
                write_seed("client_handshake", name, cfg_client | 0x40, 1, 7, to_client.data, to_client.len);
                write_seed("server_handshake", name, cfg_server | 0x80, 1, 3, to_server.data, to_server.len);
                snprintf(name, sizeof(name), "engine-%d-%d-%d-live", c, s, e);
                write_seed("client_handshake", name, cfg_client | 0x20, 1, 0, "\x00\x00\x00", 3);
                write_seed("server_handshake", name, cfg_server | 0x20, 1, 0, "\x00\x00\x00", 3);
            next:
                fz_free(&to_client);
                fz_free(&to_server);
            }
    for (i = 0; i < sizeof(natives) / sizeof(natives[0]); i++)
        for (s = 0; s < 4; s++)
        {
            struct fz_bytes hello = { 0 };
            native_client_hello(natives[i], i & 1 ? "localhost" : NULL, &hello);
            snprintf(name, sizeof(name), "gnutls-%zu-%d", i, s);
            write_seed("server_handshake", name, s, 1, 0, hello.data, hello.len);
            fz_free(&hello);
        }
}

static void record_scripts(void)
{
    /* Script operations of fuzz_decrypt.c: op, a, b (see run_script). */
    static const uint8_t scripts[][24] =
    {
        { 0, 0, 100, 10, 0, 0 },                                   /* one record */
        { 0, 0x3f, 0xff, 10, 0, 0, 11, 0, 50 },                    /* full-size record, reply */
        { 0, 0, 10, 1, 1, 0, 0, 0, 10, 10, 0, 0, 11, 0, 9 },       /* key update requested */
        { 0, 0, 10, 1, 0, 0, 0, 0, 10, 10, 0, 0 },                 /* key update */
        { 2, 0, 0, 0, 0, 20, 10, 0, 0 },                           /* warning alert, then data */
        { 12, 40, 0, 0, 0, 5, 10, 0, 0 },                          /* empty-record flood */
        { 4, 0, 0, 10, 0, 0, 0, 0, 5, 10, 0, 0 },                  /* renegotiation / ticket */
        { 0, 0, 200, 6, 0, 30, 1, 10, 0, 0 },                      /* corrupted record */
        { 0, 0, 200, 9, 0, 250, 10, 0, 0 },                        /* replayed record */
        { 0, 0, 200, 10, 0, 3, 10, 0, 40, 10, 0, 0 },              /* split delivery */
        { 5, 0, 0, 10, 0, 0, 11, 0, 5 },                           /* close_notify */
    };
    char name[64];
    int cfg;
    size_t i;

    for (cfg = 0; cfg < 16; cfg++)
        for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
        {
            snprintf(name, sizeof(name), "script-%02x-%zu", cfg, i);
            write_seed("decrypt", name, cfg, 0, 0, scripts[i], sizeof(scripts[i]));
        }
}

static void record_creds(void)
{
    struct fz_bytes blob = { 0 };
    int e, role;

    for (e = 0; e < 2; e++)
        for (role = 0; role < 2; role++)
        {
            const struct fz_bytes *chain = e ? &fz_ec_chain : &fz_rsa_chain, *key = e ? &fz_ec_key : &fz_rsa_key;
            uint8_t cfg = (e ? SG_KEY_EC_COMPONENTS : SG_KEY_RSA_COMPONENTS) | (role << 2) | (0xc << 3);
            char name[64];

            blob.len = 0;
            fz_append(&blob, (uint8_t[]){ chain->len >> 8, chain->len & 0xff }, 2);
            fz_append(&blob, chain->data, chain->len);
            fz_append(&blob, key->data, key->len);
            snprintf(name, sizeof(name), "%s-%s", e ? "ecdsa" : "rsa", role ? "server" : "client");
            write_seed("cred", name, cfg, 0, 0, blob.data, blob.len);
        }
    fz_free(&blob);
}

int main(int argc, char **argv)
{
    if (argc != 2)
    {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    mkdir(outdir, 0777);
    fz_load_material();
    record_handshakes();
    record_scripts();
    record_creds();
    printf("record_seeds: %d seeds in %s\n", written, outdir);
    return 0;
}
