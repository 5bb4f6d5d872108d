/*
 * The native GnuTLS reference for tools/bench, and the TLS server the PE client talks to.
 *
 *   native [--ops N] mem DATADIR SECONDS TEST...      both ends in this process, records in memory
 *   native [--ops N] net DATADIR SECONDS PORT TEST... a GnuTLS client against "native serve"
 *   native serve DATADIR PORT                TLS servers on 127.0.0.1:PORT..PORT+3, and
 *                                            a plain TCP peer on PORT+4 (proto.h)
 *
 * Every measurement prints one line "R <test> <value> <unit> <detail>" (detail: the
 * negotiated protocol/suite, or "n/a:<reason>"). bench.exe (bench/bench.c) runs the same
 * tests with SSPI and prints the same lines; tools/bench compares them. --ops: proto.h.
 *
 * The in-memory sessions are set up like secur32.so's engine sets up its own (same
 * priority strings, tickets on the server, non-blocking memory transport), so that the
 * difference between the two is the cost of our DLLs and of Wine.
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "proto.h"

static const char *datadir;
static double seconds = 1.0;

static void die(const char *what, int ret)
{
    fprintf(stderr, "native: %s: %s\n", what, ret < 0 ? gnutls_strerror(ret) : strerror(errno));
    exit(2);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of this thread, in seconds (see bench.c's cpu_now). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *path_of(const char *name)
{
    static char buf[4][1024];
    static int n;
    char *p = buf[n++ & 3];
    snprintf(p, sizeof(buf[0]), "%s/%s", datadir, name);
    return p;
}

static void describe(gnutls_session_t s, char *out, size_t size)
{
    const char *suite = gnutls_cipher_suite_get_name(gnutls_kx_get(s), gnutls_cipher_get(s), gnutls_mac_get(s));
    snprintf(out, size, "%s/%s/%s%s", gnutls_protocol_get_name(gnutls_protocol_get_version(s)),
             gnutls_cipher_get_name(gnutls_cipher_get(s)),
             gnutls_protocol_get_version(s) == GNUTLS_TLS1_3
                 ? (gnutls_sign_get_name(gnutls_sign_algorithm_get(s)) ? gnutls_sign_get_name(gnutls_sign_algorithm_get(s)) : "psk")
                 : (suite ? suite : "?"),
             gnutls_session_is_resumed(s) ? "/resumed" : "");
}

/* Process private (anonymous) memory in bytes: RssAnon + VmSwap, as Wine reports
 * PrivateUsage to Windows programs. */
static long private_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb, total = 0;

    if (!f) return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "RssAnon: %ld", &kb) == 1 || sscanf(line, "VmSwap: %ld", &kb) == 1) total += kb;
    fclose(f);
    return total * 1024;
}

/* ---- test parameters ---- */

struct test
{
    const char *name;
    int kind;                  /* T_* */
    int proto;                 /* 12 or 13 */
    int ecdsa;
    const char *cipher;        /* GnuTLS cipher name restricting the suite, NULL: engine default */
    int size;                  /* record size for bulk/small */
    int validate;
};

enum { T_FULL, T_RESUME, T_BULK, T_MEMCTX, T_MEMCRED, T_FLOOR };

static const struct test tests[] =
{
    { "full-tls12-rsa",         T_FULL,   12, 0, NULL, 0, 0 },
    { "full-tls12-ecdsa",       T_FULL,   12, 1, NULL, 0, 0 },
    { "full-tls13-rsa",         T_FULL,   13, 0, NULL, 0, 0 },
    { "full-tls13-ecdsa",       T_FULL,   13, 1, NULL, 0, 0 },
    { "full-tls12-rsa-validate",T_FULL,   12, 0, NULL, 0, 1 },
    { "resume-tls12",           T_RESUME, 12, 0, NULL, 0, 0 },
    { "resume-tls13",           T_RESUME, 13, 0, NULL, 0, 0 },
    { "bulk-tls12-aes128gcm",   T_BULK,   12, 0, "AES-128-GCM", 16384, 0 },
    { "bulk-tls12-aes256gcm",   T_BULK,   12, 0, "AES-256-GCM", 16384, 0 },
    { "bulk-tls12-chacha20",    T_BULK,   12, 0, "CHACHA20-POLY1305", 16384, 0 },
    { "bulk-tls13-aes128gcm",   T_BULK,   13, 0, "AES-128-GCM", 16384, 0 },
    { "small-tls12",            T_BULK,   12, 0, NULL, 100, 0 },
    { "mem-ctx",                T_MEMCTX, 12, 0, NULL, 0, 0 },
    { "mem-cred",               T_MEMCRED,12, 0, NULL, 0, 0 },
    /* net only, without TLS: what the sockets alone cost (size 0: handshake flights) */
    { "floor-hs",               T_FLOOR,   0, 0, NULL, 0, 0 },
    { "floor-resume",           T_FLOOR,   0, 0, NULL, 1, 0 },   /* size 1: resumed flights */
    { "floor-bulk",             T_FLOOR,   0, 0, NULL, 16384, 0 },
    { "floor-small",            T_FLOOR,   0, 0, NULL, 100, 0 },
};

static const struct test *find_test(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        if (!strcmp(tests[i].name, name)) return &tests[i];
    return NULL;
}

/* The priority string secur32.so's engine uses for a credential of one protocol
 * (engine.c priority_for), optionally with the cipher restricted as the bench asks. */
static void priority_string(char *buf, size_t size, int proto, const char *cipher)
{
    /* With the engine's group order (engine_client.h ENGINE_GROUP_ORDER, Windows' own):
     * X25519 first. */
    snprintf(buf, size, "NORMAL:-VERS-ALL:+VERS-TLS1.%d"
             ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:+GROUP-X448"
             ":+GROUP-FFDHE2048:+GROUP-FFDHE3072:+GROUP-FFDHE4096:+GROUP-FFDHE6144:+GROUP-FFDHE8192%s%s",
             proto == 13 ? 3 : 2, cipher ? ":-CIPHER-ALL:+" : "", cipher ? cipher : "");
}

/* ---- credentials ---- */

static gnutls_certificate_credentials_t server_creds(int ecdsa)
{
    gnutls_certificate_credentials_t c;
    int ret;

    if ((ret = gnutls_certificate_allocate_credentials(&c)) < 0) die("allocate", ret);
    ret = gnutls_certificate_set_x509_key_file(c, path_of(ecdsa ? "server-ecdsa.pem" : "server-rsa.pem"),
                                               path_of(ecdsa ? "server-ecdsa-key.pem" : "server-rsa-key.pem"),
                                               GNUTLS_X509_FMT_PEM);
    if (ret < 0) die("server key", ret);
    return c;
}

static gnutls_certificate_credentials_t client_creds(int validate)
{
    gnutls_certificate_credentials_t c;
    int ret;

    if ((ret = gnutls_certificate_allocate_credentials(&c)) < 0) die("allocate", ret);
    if (validate && (ret = gnutls_certificate_set_x509_trust_file(c, path_of("ca.pem"), GNUTLS_X509_FMT_PEM)) < 0)
        die("trust", ret);
    return c;
}

/* ---- in-memory transport ---- */

struct pipe
{
    uint8_t *data;
    size_t len, pos, cap;
};

struct end
{
    gnutls_session_t s;
    struct pipe *in, *out;
};

static ssize_t mem_push(gnutls_transport_ptr_t ptr, const void *data, size_t size)
{
    struct end *e = ptr;
    struct pipe *p = e->out;

    if (p->pos == p->len) p->pos = p->len = 0;
    if (p->len + size > p->cap)
    {
        size_t cap = p->cap ? p->cap : 65536;
        while (cap < p->len + size) cap *= 2;
        if (!(p->data = realloc(p->data, cap))) abort();
        p->cap = cap;
    }
    memcpy(p->data + p->len, data, size);
    p->len += size;
    return size;
}

static ssize_t mem_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
    struct end *e = ptr;
    struct pipe *p = e->in;
    size_t n = p->len - p->pos;

    if (!n)
    {
        gnutls_transport_set_errno(e->s, EAGAIN);
        return -1;
    }
    if (n > size) n = size;
    memcpy(data, p->data + p->pos, n);
    p->pos += n;
    return n;
}

static int mem_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    struct end *e = ptr;
    (void)ms;
    return e->in->len > e->in->pos ? 1 : 0;
}

struct pair
{
    struct pipe c2s, s2c;
    struct end c, s;
};

/* The server's session cache for TLS 1.2 session ids, as secur32.so keeps one per server
 * credential (engine_server.c): up to 256 sessions, the oldest replaced first, copied in on
 * store and out on retrieve. */
#define SCACHE_SLOTS 256

struct scache_entry
{
    struct scache_entry *next, *newer;
    uint8_t key[64];
    size_t key_size;
    uint8_t *data;
    size_t data_size;
};

struct scache
{
    struct scache_entry *buckets[SCACHE_SLOTS];
    struct scache_entry *oldest, *newest;
    unsigned int count;
};

static struct scache_entry **scache_find(struct scache *c, const uint8_t *key, size_t size)
{
    uint32_t h = 2166136261u;
    struct scache_entry **link;
    size_t i;

    for (i = 0; i < size; i++) h = (h ^ key[i]) * 16777619u;
    link = &c->buckets[h & (SCACHE_SLOTS - 1)];
    while (*link && ((*link)->key_size != size || memcmp((*link)->key, key, size))) link = &(*link)->next;
    return link;
}

static void scache_drop_oldest(struct scache *c)
{
    struct scache_entry *e = c->oldest, **link = scache_find(c, e->key, e->key_size);

    *link = e->next;
    c->oldest = e->newer;
    if (!c->oldest) c->newest = NULL;
    c->count--;
    gnutls_memset(e->data, 0, e->data_size);
    free(e->data);
    free(e);
}

static int scache_store(void *ptr, gnutls_datum_t key, gnutls_datum_t data)
{
    struct scache *c = ptr;
    struct scache_entry *e, **link;

    if (!key.size || key.size > sizeof(e->key)) return -1;
    if (*scache_find(c, key.data, key.size)) return 0;  /* ids are random: never seen here */
    if (c->count >= SCACHE_SLOTS) scache_drop_oldest(c);
    if (!(e = calloc(1, sizeof(*e))) || !(e->data = malloc(data.size))) abort();
    memcpy(e->key, key.data, key.size);
    e->key_size = key.size;
    memcpy(e->data, data.data, data.size);
    e->data_size = data.size;
    link = scache_find(c, key.data, key.size);
    e->next = *link;
    *link = e;
    if (c->newest) c->newest->newer = e;
    else c->oldest = e;
    c->newest = e;
    c->count++;
    return 0;
}

static gnutls_datum_t scache_retrieve(void *ptr, gnutls_datum_t key)
{
    struct scache *c = ptr;
    struct scache_entry *e;
    gnutls_datum_t ret = { NULL, 0 };

    if (key.size && key.size <= sizeof(e->key) && (e = *scache_find(c, key.data, key.size))
        && (ret.data = gnutls_malloc(e->data_size)))
    {
        memcpy(ret.data, e->data, e->data_size);
        ret.size = e->data_size;
    }
    return ret;
}

static int scache_remove(void *ptr, gnutls_datum_t key)
{
    (void)ptr;
    (void)key;
    return 0;
}

struct mem_setup
{
    gnutls_certificate_credentials_t ccred, scred;
    gnutls_priority_t prio;
    gnutls_datum_t ticket_key;
    struct scache cache;
    int validate;
};

static void pair_init(struct pair *p, struct mem_setup *m)
{
    int ret;

    memset(p, 0, sizeof(*p));
    p->c.in = &p->s2c; p->c.out = &p->c2s;
    p->s.in = &p->c2s; p->s.out = &p->s2c;
    if ((ret = gnutls_init(&p->c.s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_AUTO_REKEY)) < 0) die("init", ret);
    /* The server as secur32.so makes it (engine.c session_create): TLS 1.2 resumes by session
     * id (no TLS 1.2 tickets), one TLS 1.3 ticket sent when the client's Finished arrived
     * (pair_handshake), post-handshake authentication allowed. */
    if ((ret = gnutls_init(&p->s.s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_AUTO_REKEY | GNUTLS_NO_AUTO_SEND_TICKET
                           | GNUTLS_POST_HANDSHAKE_AUTH | GNUTLS_NO_TICKETS_TLS12)) < 0)
        die("init", ret);
    gnutls_priority_set(p->c.s, m->prio);
    gnutls_priority_set(p->s.s, m->prio);
    gnutls_credentials_set(p->c.s, GNUTLS_CRD_CERTIFICATE, m->ccred);
    gnutls_credentials_set(p->s.s, GNUTLS_CRD_CERTIFICATE, m->scred);
    gnutls_server_name_set(p->c.s, GNUTLS_NAME_DNS, "localhost", 9);
    if (m->validate) gnutls_session_set_verify_cert(p->c.s, "localhost", 0);
    gnutls_certificate_server_set_request(p->s.s, GNUTLS_CERT_IGNORE);
    gnutls_db_set_ptr(p->s.s, &m->cache);
    gnutls_db_set_store_function(p->s.s, scache_store);
    gnutls_db_set_retrieve_function(p->s.s, scache_retrieve);
    gnutls_db_set_remove_function(p->s.s, scache_remove);
    gnutls_db_set_cache_expiration(p->s.s, 10 * 60 * 60);
    gnutls_session_ticket_enable_server(p->s.s, &m->ticket_key);
    gnutls_transport_set_ptr(p->c.s, &p->c);
    gnutls_transport_set_ptr(p->s.s, &p->s);
    gnutls_transport_set_push_function(p->c.s, mem_push);
    gnutls_transport_set_push_function(p->s.s, mem_push);
    gnutls_transport_set_pull_function(p->c.s, mem_pull);
    gnutls_transport_set_pull_function(p->s.s, mem_pull);
    gnutls_transport_set_pull_timeout_function(p->c.s, mem_pull_timeout);
    gnutls_transport_set_pull_timeout_function(p->s.s, mem_pull_timeout);
}

static void pair_free(struct pair *p)
{
    gnutls_deinit(p->c.s);
    gnutls_deinit(p->s.s);
    free(p->c2s.data);
    free(p->s2c.data);
}

static void pair_handshake(struct pair *p)
{
    int cdone = 0, sdone = 0, rounds = 0, ret;
    char buf[64];

    while (!cdone || !sdone)
    {
        if (!cdone)
        {
            ret = gnutls_handshake(p->c.s);
            if (ret == 0) cdone = 1;
            else if (ret != GNUTLS_E_AGAIN) die("client handshake", ret);
        }
        if (!sdone)
        {
            ret = gnutls_handshake(p->s.s);
            if (ret == 0)
            {
                sdone = 1;
                if (gnutls_protocol_get_version(p->s.s) == GNUTLS_TLS1_3
                    && (ret = gnutls_session_ticket_send(p->s.s, 1, 0)) < 0)
                    die("ticket send", ret);
            }
            else if (ret != GNUTLS_E_AGAIN) die("server handshake", ret);
        }
        if (++rounds > 100) die("handshake does not finish", 0);
    }
    /* Let the client take a TLS 1.3 ticket sent after the handshake. */
    if (p->s2c.len > p->s2c.pos)
    {
        ret = gnutls_record_recv(p->c.s, buf, sizeof(buf));
        if (ret < 0 && ret != GNUTLS_E_AGAIN) die("ticket", ret);
    }
}

/* One 100-byte record from one end to the other, checked (mem-ctx rows). */
static void pair_exchange(struct end *from, struct end *to)
{
    uint8_t buf[100], out[164];
    ssize_t ret;

    memset(buf, 'x', sizeof(buf));
    if ((ret = gnutls_record_send(from->s, buf, sizeof(buf))) != sizeof(buf)) die("send", ret);
    if ((ret = gnutls_record_recv(to->s, out, sizeof(out))) != sizeof(buf)) die("recv", ret);
}

static void mem_setup_init(struct mem_setup *m, const struct test *t)
{
    char prio[256];
    int ret;

    memset(m, 0, sizeof(*m));
    m->validate = t->validate;
    m->ccred = client_creds(t->validate);
    m->scred = server_creds(t->ecdsa);
    priority_string(prio, sizeof(prio), t->proto, t->cipher);
    if ((ret = gnutls_priority_init(&m->prio, prio, NULL)) < 0) die("priority", ret);
    if ((ret = gnutls_session_ticket_key_generate(&m->ticket_key)) < 0) die("ticket key", ret);
}

static void mem_setup_free(struct mem_setup *m)
{
    while (m->cache.oldest) scache_drop_oldest(&m->cache);
    gnutls_certificate_free_credentials(m->ccred);
    gnutls_certificate_free_credentials(m->scred);
    gnutls_priority_deinit(m->prio);
    gnutls_free(m->ticket_key.data);
}

static void mem_test(const struct test *t)
{
    struct mem_setup m;
    struct pair p;
    char desc[256];
    double start, elapsed, cpu_start;
    long n = 0;

    mem_setup_init(&m, t);
    if (t->kind == T_FULL || t->kind == T_RESUME)
    {
        gnutls_datum_t data = { NULL, 0 };

        if (t->kind == T_RESUME)
        {
            pair_init(&p, &m);
            pair_handshake(&p);
            if (gnutls_session_get_data2(p.c.s, &data) < 0) die("session data", 0);
            pair_free(&p);
        }
        start = now();
        cpu_start = cpu_now();
        do
        {
            pair_init(&p, &m);
            if (data.data) gnutls_session_set_data(p.c.s, data.data, data.size);
            pair_handshake(&p);
            if (t->kind == T_RESUME && !gnutls_session_is_resumed(p.c.s)) die("not resumed", 0);
            if (!n) describe(p.c.s, desc, sizeof(desc));
            if (t->kind == T_RESUME && t->proto == 13)
            {
                /* A TLS 1.3 ticket is used once: take the new one. */
                gnutls_free(data.data);
                if (gnutls_session_get_data2(p.c.s, &data) < 0) die("session data", 0);
            }
            pair_free(&p);
            n++;
        } while (bench_loop_more(n, elapsed = now() - start, seconds));
        bench_loop_done(t->name, n, 1, "hs");
        printf("R %s %.1f hs/s %s\n", t->name, n / elapsed, desc);
        printf("T %s %.1f us-cpu/hs\n", t->name, (cpu_now() - cpu_start) / n * 1e6);
        gnutls_free(data.data);
    }
    else if (t->kind == T_BULK)
    {
        uint8_t *buf = calloc(1, t->size), *out = malloc(t->size + 64);
        ssize_t ret;

        pair_init(&p, &m);
        pair_handshake(&p);
        describe(p.c.s, desc, sizeof(desc));
        start = now();
        do
        {
            int i;
            for (i = 0; i < 64; i++, n++)
            {
                if ((ret = gnutls_record_send(p.c.s, buf, t->size)) != t->size) die("send", ret);
                if ((ret = gnutls_record_recv(p.s.s, out, t->size + 64)) != t->size) die("recv", ret);
            }
        } while (bench_loop_more(n, elapsed = now() - start, seconds));
        bench_loop_done_records(t->name, n, 1, t->size);
        if (t->size >= 1024) printf("R %s %.1f MB/s %s\n", t->name, (double)n * t->size / elapsed / 1e6, desc);
        else printf("R %s %.0f msg/s %s\n", t->name, n / elapsed, desc);
        pair_free(&p);
        free(buf);
        free(out);
    }
    else if (t->kind == T_MEMCTX)
    {
        enum { N = 200 };
        static struct pair pairs[N];
        long before, after;
        int i;

        /* Warm up as bench.exe does (it fills bounded caches of ours this way). */
        for (i = 0; i < 300; i++)
        {
            pair_init(&p, &m);
            pair_handshake(&p);
            pair_free(&p);
        }
        before = private_bytes();
        for (i = 0; i < N; i++)
        {
            pair_init(&pairs[i], &m);
            pair_handshake(&pairs[i]);
            /* One 100-byte record each way, as bench.exe does. */
            pair_exchange(&pairs[i].c, &pairs[i].s);
            pair_exchange(&pairs[i].s, &pairs[i].c);
            /* The transport buffers belong to the application, not to the session. */
            free(pairs[i].c2s.data); free(pairs[i].s2c.data);
            memset(&pairs[i].c2s, 0, sizeof(pairs[i].c2s));
            memset(&pairs[i].s2c, 0, sizeof(pairs[i].s2c));
        }
        after = private_bytes();
        describe(pairs[0].c.s, desc, sizeof(desc));
        printf("R %s %.0f bytes %s\n", t->name, (double)(after - before) / (2 * N), desc);
        for (i = 0; i < N; i++) pair_free(&pairs[i]);
    }
    else if (t->kind == T_MEMCRED)
    {
        /* What the engine does per server credential: certificate + key, priority, ticket key. */
        enum { N = 200 };
        static gnutls_certificate_credentials_t creds[N];
        static gnutls_priority_t prios[N];
        static gnutls_datum_t keys[N];
        long before, after;
        int i;

        before = private_bytes();
        for (i = 0; i < N; i++)
        {
            creds[i] = server_creds(0);
            gnutls_priority_init(&prios[i], "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL);
            gnutls_session_ticket_key_generate(&keys[i]);
        }
        after = private_bytes();
        printf("R %s %.0f bytes server-rsa\n", t->name, (double)(after - before) / N);
        for (i = 0; i < N; i++)
        {
            gnutls_certificate_free_credentials(creds[i]);
            gnutls_priority_deinit(prios[i]);
            gnutls_free(keys[i].data);
        }
    }
    mem_setup_free(&m);
    fflush(stdout);
}

/* ---- network: transport ---- */

/* Every TCP end here (client, TLS server, plain server) reads its socket the way bench.exe
 * does: one recv() takes what the socket has, up to 256 KiB, and GnuTLS gets its records
 * from that buffer (its own transport reads each record with two recv() calls). Writes go
 * straight out (one sendmsg() per GnuTLS flush), except in a batch: the records of a SINK
 * or SOURCE batch are collected and leave in one send(), as bench.exe sends them. */
struct netbuf
{
    int fd;
    int batching;
    size_t pos, len, out_len;
    uint8_t in[4 * 65536];
    uint8_t out[BENCH_BATCH_WIRE];
};

static void netbuf_init(struct netbuf *b, int fd)
{
    b->fd = fd;
    b->batching = 0;
    b->pos = b->len = b->out_len = 0;
}

static int send_all(int fd, const void *data, size_t size)
{
    const uint8_t *p = data;
    while (size)
    {
        ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        size -= n;
    }
    return 0;
}

static int netbuf_flush(struct netbuf *b)
{
    int ret = send_all(b->fd, b->out, b->out_len);
    b->out_len = 0;
    return ret;
}

/* Refills an empty input buffer: > 0 on success. */
static ssize_t netbuf_fill(struct netbuf *b)
{
    ssize_t n;
    do n = recv(b->fd, b->in, sizeof(b->in), 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
    {
        b->pos = 0;
        b->len = n;
    }
    return n;
}

static ssize_t net_pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
    struct netbuf *b = ptr;
    ssize_t n;

    if (b->pos == b->len && (n = netbuf_fill(b)) <= 0) return n;
    if (size > b->len - b->pos) size = b->len - b->pos;
    memcpy(data, b->in + b->pos, size);
    b->pos += size;
    return size;
}

static int net_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    struct netbuf *b = ptr;
    struct pollfd p = { b->fd, POLLIN, 0 };

    if (b->pos < b->len) return 1;
    return poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

static ssize_t net_vec_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int count)
{
    struct netbuf *b = ptr;
    struct msghdr msg;
    size_t total = 0;
    int i;

    if (!b->batching)
    {
        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = (struct iovec *)iov;
        msg.msg_iovlen = count;
        return sendmsg(b->fd, &msg, MSG_NOSIGNAL);
    }
    for (i = 0; i < count; i++)
    {
        if (b->out_len + iov[i].iov_len > sizeof(b->out) && netbuf_flush(b)) return -1;
        if (iov[i].iov_len > sizeof(b->out)) return -1;
        memcpy(b->out + b->out_len, iov[i].iov_base, iov[i].iov_len);
        b->out_len += iov[i].iov_len;
        total += iov[i].iov_len;
    }
    return total;
}

static void net_transport(gnutls_session_t s, struct netbuf *b)
{
    gnutls_transport_set_ptr(s, b);
    gnutls_transport_set_pull_function(s, net_pull);
    gnutls_transport_set_pull_timeout_function(s, net_pull_timeout);
    gnutls_transport_set_vec_push_function(s, net_vec_push);
}

/* GNUTLS_E_AGAIN also comes back on a blocking socket after a TLS 1.3 post-handshake
 * message (a ticket) was processed: read on. */
static ssize_t recv_some(gnutls_session_t s, void *buf, size_t size)
{
    ssize_t n;
    do n = gnutls_record_recv(s, buf, size);
    while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
    return n;
}

static int recv_exact(gnutls_session_t s, uint8_t *buf, size_t size)
{
    size_t got = 0;
    while (got < size)
    {
        ssize_t n = recv_some(s, buf + got, size - got);
        if (n <= 0) return -1;
        got += n;
    }
    return 0;
}

/* count records of size bytes each (one gnutls_record_send per record, as one
 * EncryptMessage per record in bench.exe), BENCH_BATCH(size) records per send(). */
static int send_records(gnutls_session_t s, struct netbuf *b, const uint8_t *buf, uint32_t count, uint32_t size)
{
    uint32_t i;
    int ret = 0;

    b->batching = 1;
    for (i = 0; i < count && !ret; i++)
    {
        if (gnutls_record_send(s, buf, size) != (ssize_t)size) ret = -1;
        else if ((i + 1) % BENCH_BATCH(size) == 0 || i + 1 == count) ret = netbuf_flush(b);
    }
    b->batching = 0;
    b->out_len = 0;
    return ret;
}

/* Plain connections: reads size bytes (into out unless NULL). */
static int plain_read(struct netbuf *b, void *out, uint64_t size)
{
    while (size)
    {
        size_t n;
        if (b->pos == b->len && netbuf_fill(b) <= 0) return -1;
        n = b->len - b->pos < size ? b->len - b->pos : size;
        if (out)
        {
            memcpy(out, b->in + b->pos, n);
            out = (uint8_t *)out + n;
        }
        b->pos += n;
        size -= n;
    }
    return 0;
}

/* ---- network: server ---- */

static struct netbuf server_buf;
static uint8_t zeros[65536];

static void serve_one(int fd, gnutls_certificate_credentials_t cred, gnutls_priority_t prio, gnutls_datum_t *key)
{
    static uint8_t buf[BENCH_MAX_RECORD];
    struct bench_command cmd;
    gnutls_session_t s;
    int ret, one = 1;
    uint32_t i;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    netbuf_init(&server_buf, fd);
    gnutls_init(&s, GNUTLS_SERVER);
    gnutls_priority_set(s, prio);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_session_ticket_enable_server(s, key);
    net_transport(s, &server_buf);
    gnutls_handshake_set_timeout(s, 10000);
    do ret = gnutls_handshake(s); while (ret < 0 && !gnutls_error_is_fatal(ret));
    if (ret < 0) goto done;
    for (;;)
    {
        if (recv_exact(s, (uint8_t *)&cmd, sizeof(cmd))) break;
        if (cmd.size > sizeof(buf)) break;
        if (cmd.op == BENCH_OP_PING)
        {
            if (gnutls_record_send(s, "P", 1) != 1) break;
        }
        else if (cmd.op == BENCH_OP_SINK)
        {
            for (i = 0; i < cmd.count; i++)
                if (recv_exact(s, buf, cmd.size)) goto done;
            if (gnutls_record_send(s, "K", 1) != 1) break;
        }
        else if (cmd.op == BENCH_OP_SOURCE)
        {
            if (send_records(s, &server_buf, buf, cmd.count, cmd.size)) break;
        }
        else break;
    }
done:
    gnutls_deinit(s);
    close(fd);
}

/* The floor rows' peer: the same commands without TLS. */
static void serve_plain(int fd)
{
    struct bench_command cmd;
    int one = 1;
    uint32_t i, per;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    netbuf_init(&server_buf, fd);
    for (;;)
    {
        if (plain_read(&server_buf, &cmd, sizeof(cmd))) break;
        if (cmd.op == BENCH_OP_PING)
        {
            if (send_all(fd, "P", 1)) break;
        }
        else if (cmd.op == BENCH_OP_FLIGHT)
        {
            if (cmd.size > sizeof(zeros) || plain_read(&server_buf, NULL, cmd.count)
                || send_all(fd, zeros, cmd.size)) break;
        }
        else if (cmd.op == BENCH_OP_SINK)
        {
            if (plain_read(&server_buf, NULL, (uint64_t)cmd.count * cmd.size) || send_all(fd, "K", 1)) break;
        }
        else if (cmd.op == BENCH_OP_SOURCE)
        {
            if (cmd.size > BENCH_MAX_RECORD) break;
            per = BENCH_BATCH(cmd.size);
            for (i = 0; i < cmd.count; i += per)
                if (send_all(fd, zeros, (size_t)(cmd.count - i < per ? cmd.count - i : per) * cmd.size)) goto done;
        }
        else break;
    }
done:
    close(fd);
}

static void serve(int port)
{
    struct pollfd fds[BENCH_PORTS + 1];
    gnutls_certificate_credentials_t creds[BENCH_PORTS];
    gnutls_priority_t prios[BENCH_PORTS];
    gnutls_datum_t key;
    int i, ret;

    alarm(1800); /* never outlive a forgotten benchmark */
    signal(SIGPIPE, SIG_IGN);
    if ((ret = gnutls_session_ticket_key_generate(&key)) < 0) die("ticket key", ret);
    for (i = 0; i <= BENCH_PORTS; i++)
    {
        struct sockaddr_in sa;
        int one = 1;

        if (i < BENCH_PORTS)
        {
            creds[i] = server_creds(i == BENCH_PORT_ECDSA);
            if ((ret = gnutls_priority_init(&prios[i], bench_port_priority[i], NULL)) < 0) die("priority", ret);
        }
        fds[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        fds[i].events = POLLIN;
        setsockopt(fds[i].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port + i);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fds[i].fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fds[i].fd, 64)) die("bind/listen", 0);
    }
    printf("listening %d\n", port);
    fflush(stdout);
    for (;;)
    {
        if (poll(fds, BENCH_PORTS + 1, -1) < 0) continue;
        for (i = 0; i <= BENCH_PORTS; i++)
        {
            int fd;
            if (!(fds[i].revents & POLLIN)) continue;
            if ((fd = accept(fds[i].fd, NULL, NULL)) < 0) continue;
            if (i == BENCH_PORT_PLAIN) serve_plain(fd);
            else serve_one(fd, creds[i], prios[i], &key);
        }
    }
}

/* ---- network: client ---- */

static struct netbuf client_buf;

static int connect_to(int port)
{
    struct sockaddr_in sa;
    struct linger lg = { 1, 0 };
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) die("connect", 0);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Close with a reset: no TIME_WAIT sockets piling up over thousands of handshakes. */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    netbuf_init(&client_buf, fd);
    return fd;
}

static gnutls_session_t net_session(gnutls_certificate_credentials_t cred, gnutls_priority_t prio, int validate)
{
    gnutls_session_t s;
    gnutls_init(&s, GNUTLS_CLIENT);
    gnutls_priority_set(s, prio);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
    if (validate) gnutls_session_set_verify_cert(s, "localhost", 0);
    net_transport(s, &client_buf);
    return s;
}

static void ping(gnutls_session_t s)
{
    struct bench_command cmd = { BENCH_OP_PING, 0, 0 };
    ssize_t ret;
    char c;

    if ((ret = gnutls_record_send(s, &cmd, sizeof(cmd))) != sizeof(cmd)) die("ping", ret);
    if ((ret = recv_some(s, &c, 1)) != 1) die("pong", ret);
}

/* One SINK and one SOURCE phase of count records, over TLS (s) or in clear (s NULL). */
static void bulk_round(gnutls_session_t s, uint32_t count, uint32_t size, double *t_send, double *t_recv)
{
    static uint8_t buf[BENCH_MAX_RECORD];
    struct bench_command cmd = { BENCH_OP_SINK, count, size };
    uint32_t i, per = BENCH_BATCH(size);
    double start;
    char k;

    start = now();
    if (s)
    {
        if (gnutls_record_send(s, &cmd, sizeof(cmd)) != sizeof(cmd)) die("send", 0);
        if (send_records(s, &client_buf, buf, count, size)) die("send", 0);
        if (recv_some(s, &k, 1) != 1) die("ack", 0);
    }
    else
    {
        if (send_all(client_buf.fd, &cmd, sizeof(cmd))) die("send", 0);
        for (i = 0; i < count; i += per)
            if (send_all(client_buf.fd, zeros, (size_t)(count - i < per ? count - i : per) * size)) die("send", 0);
        if (plain_read(&client_buf, &k, 1)) die("ack", 0);
    }
    *t_send += now() - start;
    cmd.op = BENCH_OP_SOURCE;
    start = now();
    if (s)
    {
        if (gnutls_record_send(s, &cmd, sizeof(cmd)) != sizeof(cmd)) die("send", 0);
        for (i = 0; i < count; i++)
            if (recv_exact(s, buf, size)) die("recv", 0);
    }
    else
    {
        if (send_all(client_buf.fd, &cmd, sizeof(cmd))) die("send", 0);
        if (plain_read(&client_buf, NULL, (uint64_t)count * size)) die("recv", 0);
    }
    *t_recv += now() - start;
}

/* Bulk rows: an untimed round, then rounds until the time is up. */
static void bulk_rounds(const struct test *t, gnutls_session_t s, const char *desc)
{
    uint32_t count = BENCH_ROUND(t->size);
    double t_send = 0, t_recv = 0, cpu_start;
    long rounds = 0;

    bulk_round(s, count, t->size, &t_send, &t_recv);
    t_send = t_recv = 0;
    cpu_start = cpu_now();
    do
    {
        bulk_round(s, count, t->size, &t_send, &t_recv);
        rounds++;
    } while (bench_loop_more(rounds, t_send + t_recv, seconds));
    bench_loop_done_records(t->name, rounds, count, t->size);
    bench_print_bulk(t->name, rounds, count, t->size, t_send + t_recv, cpu_now() - cpu_start, desc);
}

/* floor-hs, floor-resume: connect, a handshake's flights in clear (proto.h), close. */
static void floor_handshakes(const struct test *t, int port)
{
    static uint8_t msg[4096];
    unsigned int count, i;
    const struct bench_flight *f = bench_floor_flights(t->size, &count);
    struct bench_command cmd;
    double start, elapsed;
    long n = 0;
    int fd;

    start = now();
    do
    {
        fd = connect_to(port);
        for (i = 0; i < count; i++)
        {
            cmd.op = BENCH_OP_FLIGHT;
            cmd.count = f[i].send - sizeof(cmd);
            cmd.size = f[i].reply;
            memcpy(msg, &cmd, sizeof(cmd));
            if (send_all(fd, msg, f[i].send)) die("send", 0);
            if (plain_read(&client_buf, NULL, f[i].reply)) die("recv", 0);
        }
        close(fd);
        n++;
    } while (bench_loop_more(n, elapsed = now() - start, seconds));
    bench_loop_done(t->name, n, 1, "hs");
    printf("R %s %.1f hs/s plain-tcp\n", t->name, n / elapsed);
}

static void net_test(const struct test *t, int port)
{
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    gnutls_session_t s;
    char desc[256] = "", prio_str[256];
    double start, elapsed, cpu_start;
    long n = 0;
    int fd, ret, p = port + bench_port_for(t->ecdsa, t->cipher);

    if (t->kind == T_MEMCTX || t->kind == T_MEMCRED) return;
    if (t->kind == T_FLOOR)
    {
        if (t->size <= 1) floor_handshakes(t, port + BENCH_PORT_PLAIN);
        else
        {
            fd = connect_to(port + BENCH_PORT_PLAIN);
            bulk_rounds(t, NULL, "plain-tcp");
            close(fd);
        }
        fflush(stdout);
        return;
    }
    cred = client_creds(t->validate);
    /* The client offers what our engine offers; the server picks the suite. */
    priority_string(prio_str, sizeof(prio_str), t->proto, NULL);
    if ((ret = gnutls_priority_init(&prio, prio_str, NULL)) < 0) die("priority", ret);

    if (t->kind == T_FULL || t->kind == T_RESUME)
    {
        gnutls_datum_t data = { NULL, 0 };

        if (t->kind == T_RESUME)
        {
            fd = connect_to(p);
            s = net_session(cred, prio, 0);
            if ((ret = gnutls_handshake(s)) < 0) die("handshake", ret);
            ping(s);
            if (gnutls_session_get_data2(s, &data) < 0) die("session data", 0);
            gnutls_deinit(s);
            close(fd);
        }
        start = now();
        cpu_start = cpu_now();
        do
        {
            fd = connect_to(p);
            s = net_session(cred, prio, t->validate);
            if (data.data) gnutls_session_set_data(s, data.data, data.size);
            if ((ret = gnutls_handshake(s)) < 0) die("handshake", ret);
            if (t->kind == T_RESUME)
            {
                if (!gnutls_session_is_resumed(s)) die("not resumed", 0);
                ping(s);
                if (t->proto == 13)
                {
                    gnutls_free(data.data);
                    if (gnutls_session_get_data2(s, &data) < 0) die("session data", 0);
                }
            }
            if (!n) describe(s, desc, sizeof(desc));
            gnutls_deinit(s);
            close(fd);
            n++;
        } while (bench_loop_more(n, elapsed = now() - start, seconds));
        bench_loop_done(t->name, n, 1, "hs");
        printf("R %s %.1f hs/s %s\n", t->name, n / elapsed, desc);
        printf("T %s %.1f us-cpu/hs\n", t->name, (cpu_now() - cpu_start) / n * 1e6);
        gnutls_free(data.data);
    }
    else if (t->kind == T_BULK)
    {
        fd = connect_to(p);
        s = net_session(cred, prio, 0);
        if ((ret = gnutls_handshake(s)) < 0) die("handshake", ret);
        describe(s, desc, sizeof(desc));
        bulk_rounds(t, s, desc);
        gnutls_deinit(s);
        close(fd);
    }
    gnutls_priority_deinit(prio);
    gnutls_certificate_free_credentials(cred);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int i, first, port = 0;

    if (argc >= 3 && !strcmp(argv[1], "--ops"))
    {
        bench_ops = atol(argv[2]);
        argv += 2;
        argc -= 2;
    }
    if (argc < 4)
    {
        fprintf(stderr, "usage: native [--ops N] mem DATADIR SECONDS TEST... | net DATADIR SECONDS PORT TEST... | serve DATADIR PORT\n");
        return 2;
    }
    datadir = argv[2];
    gnutls_global_init();
    if (!strcmp(argv[1], "serve"))
    {
        serve(atoi(argv[3]));
        return 0;
    }
    seconds = atof(argv[3]);
    first = 4;
    if (!strcmp(argv[1], "net"))
    {
        if (argc < 5) return 2;
        port = atoi(argv[4]);
        first = 5;
        signal(SIGPIPE, SIG_IGN);
    }
    for (i = first; i < argc; i++)
    {
        const struct test *t = find_test(argv[i]);
        if (!t)
        {
            fprintf(stderr, "native: unknown test %s\n", argv[i]);
            return 2;
        }
        if (!strcmp(argv[1], "net")) net_test(t, port);
        else if (t->kind != T_FLOOR) mem_test(t);
    }
    gnutls_global_deinit();
    return 0;
}
