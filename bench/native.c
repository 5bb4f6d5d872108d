/*
 * The native GnuTLS reference for tools/bench, and the TLS server the PE client talks to.
 *
 *   native mem  DATADIR SECONDS TEST...      both ends in this process, records in memory
 *   native net  DATADIR SECONDS PORT TEST... a GnuTLS client against "native serve"
 *   native serve DATADIR PORT                TLS servers on 127.0.0.1:PORT..PORT+3
 *
 * Every measurement prints one line "R <test> <value> <unit> <detail>" (detail: the
 * negotiated protocol/suite, or "n/a:<reason>"). bench.exe (bench/bench.c) runs the same
 * tests with SSPI and prints the same lines; tools/bench compares them.
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

enum { T_FULL, T_RESUME, T_BULK, T_MEMCTX, T_MEMCRED };

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
    snprintf(buf, size, "NORMAL:-VERS-ALL:+VERS-TLS1.%d%s%s", proto == 13 ? 3 : 2,
             cipher ? ":-CIPHER-ALL:+" : "", cipher ? cipher : "");
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

struct mem_setup
{
    gnutls_certificate_credentials_t ccred, scred;
    gnutls_priority_t prio;
    gnutls_datum_t ticket_key;
    int validate;
};

static void pair_init(struct pair *p, struct mem_setup *m)
{
    int ret;

    memset(p, 0, sizeof(*p));
    p->c.in = &p->s2c; p->c.out = &p->c2s;
    p->s.in = &p->c2s; p->s.out = &p->s2c;
    if ((ret = gnutls_init(&p->c.s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_AUTO_REKEY)) < 0) die("init", ret);
    if ((ret = gnutls_init(&p->s.s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_AUTO_REKEY)) < 0) die("init", ret);
    gnutls_priority_set(p->c.s, m->prio);
    gnutls_priority_set(p->s.s, m->prio);
    gnutls_credentials_set(p->c.s, GNUTLS_CRD_CERTIFICATE, m->ccred);
    gnutls_credentials_set(p->s.s, GNUTLS_CRD_CERTIFICATE, m->scred);
    gnutls_server_name_set(p->c.s, GNUTLS_NAME_DNS, "localhost", 9);
    if (m->validate) gnutls_session_set_verify_cert(p->c.s, "localhost", 0);
    gnutls_certificate_server_set_request(p->s.s, GNUTLS_CERT_IGNORE);
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
            if (ret == 0) sdone = 1;
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
    double start, elapsed;
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
        } while ((elapsed = now() - start) < seconds);
        printf("R %s %.1f hs/s %s\n", t->name, n / elapsed, desc);
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
        } while ((elapsed = now() - start) < seconds);
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

/* ---- network: server ---- */

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

static void serve_one(int fd, gnutls_certificate_credentials_t cred, gnutls_priority_t prio, gnutls_datum_t *key)
{
    static uint8_t buf[BENCH_MAX_RECORD];
    struct bench_command cmd;
    gnutls_session_t s;
    int ret, one = 1;
    uint32_t i;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    gnutls_init(&s, GNUTLS_SERVER);
    gnutls_priority_set(s, prio);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_session_ticket_enable_server(s, key);
    gnutls_transport_set_int(s, fd);
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
            for (i = 0; i < cmd.count; i++)
                if (gnutls_record_send(s, buf, cmd.size) != (ssize_t)cmd.size) goto done;
        }
        else break;
    }
done:
    gnutls_deinit(s);
    close(fd);
}

static void serve(int port)
{
    struct pollfd fds[BENCH_PORTS];
    gnutls_certificate_credentials_t creds[BENCH_PORTS];
    gnutls_priority_t prios[BENCH_PORTS];
    gnutls_datum_t key;
    int i, ret;

    alarm(1800); /* never outlive a forgotten benchmark */
    signal(SIGPIPE, SIG_IGN);
    if ((ret = gnutls_session_ticket_key_generate(&key)) < 0) die("ticket key", ret);
    for (i = 0; i < BENCH_PORTS; i++)
    {
        struct sockaddr_in sa;
        int one = 1;

        creds[i] = server_creds(i == BENCH_PORT_ECDSA);
        if ((ret = gnutls_priority_init(&prios[i], bench_port_priority[i], NULL)) < 0) die("priority", ret);
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
        if (poll(fds, BENCH_PORTS, -1) < 0) continue;
        for (i = 0; i < BENCH_PORTS; i++)
        {
            int fd;
            if (!(fds[i].revents & POLLIN)) continue;
            if ((fd = accept(fds[i].fd, NULL, NULL)) < 0) continue;
            serve_one(fd, creds[i], prios[i], &key);
        }
    }
}

/* ---- network: client ---- */

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
    return fd;
}

static gnutls_session_t net_session(int fd, gnutls_certificate_credentials_t cred, gnutls_priority_t prio, int validate)
{
    gnutls_session_t s;
    gnutls_init(&s, GNUTLS_CLIENT);
    gnutls_priority_set(s, prio);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
    if (validate) gnutls_session_set_verify_cert(s, "localhost", 0);
    gnutls_transport_set_int(s, fd);
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

static void net_test(const struct test *t, int port)
{
    gnutls_certificate_credentials_t cred = client_creds(t->validate);
    gnutls_priority_t prio;
    gnutls_session_t s;
    char desc[256] = "", prio_str[256];
    double start, elapsed;
    long n = 0;
    int fd, ret, p = port + bench_port_for(t->ecdsa, t->cipher);

    if (t->kind == T_MEMCTX || t->kind == T_MEMCRED) return;
    /* The client offers what our engine offers; the server picks the suite. */
    priority_string(prio_str, sizeof(prio_str), t->proto, NULL);
    if ((ret = gnutls_priority_init(&prio, prio_str, NULL)) < 0) die("priority", ret);

    if (t->kind == T_FULL || t->kind == T_RESUME)
    {
        gnutls_datum_t data = { NULL, 0 };

        if (t->kind == T_RESUME)
        {
            fd = connect_to(p);
            s = net_session(fd, cred, prio, 0);
            if ((ret = gnutls_handshake(s)) < 0) die("handshake", ret);
            ping(s);
            if (gnutls_session_get_data2(s, &data) < 0) die("session data", 0);
            gnutls_deinit(s);
            close(fd);
        }
        start = now();
        do
        {
            fd = connect_to(p);
            s = net_session(fd, cred, prio, t->validate);
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
        } while ((elapsed = now() - start) < seconds);
        printf("R %s %.1f hs/s %s\n", t->name, n / elapsed, desc);
        gnutls_free(data.data);
    }
    else if (t->kind == T_BULK)
    {
        static uint8_t buf[BENCH_MAX_RECORD];
        struct bench_command cmd;
        uint32_t count = t->size >= 1024 ? 4096 : 65536, i;
        double t_send, t_recv;
        char k;

        /* Scale the volume to the time budget: one short calibration round first. */
        count = (uint32_t)(count * seconds);
        if (count < 64) count = 64;
        fd = connect_to(p);
        s = net_session(fd, cred, prio, 0);
        if ((ret = gnutls_handshake(s)) < 0) die("handshake", ret);
        describe(s, desc, sizeof(desc));
        cmd.op = BENCH_OP_SINK; cmd.count = count; cmd.size = t->size;
        start = now();
        if (gnutls_record_send(s, &cmd, sizeof(cmd)) != sizeof(cmd)) die("send", 0);
        /* Records go out in batches of up to 64 KiB, one send() each, as bench.exe does. */
        gnutls_record_cork(s);
        for (i = 0; i < count; i++)
        {
            if (gnutls_record_send(s, buf, t->size) != t->size) die("send", 0);
            if (((i + 1) % BENCH_BATCH(t->size) == 0 || i + 1 == count)
                && gnutls_record_uncork(s, GNUTLS_RECORD_WAIT) < 0) die("uncork", 0);
            else if ((i + 1) % BENCH_BATCH(t->size) == 0 && i + 1 < count) gnutls_record_cork(s);
        }
        if ((ret = recv_some(s, &k, 1)) != 1) die("ack", ret);
        t_send = now() - start;
        cmd.op = BENCH_OP_SOURCE;
        start = now();
        if (gnutls_record_send(s, &cmd, sizeof(cmd)) != sizeof(cmd)) die("send", 0);
        for (i = 0; i < count; i++)
            if (recv_exact(s, buf, t->size)) die("recv", 0);
        t_recv = now() - start;
        gnutls_deinit(s);
        close(fd);
        if (t->size >= 1024)
            printf("R %s %.1f MB/s %s\n", t->name, (double)count * t->size / (t_send + t_recv) / 1e6, desc);
        else
            printf("R %s %.0f msg/s %s\n", t->name, count / (t_send + t_recv), desc);
    }
    gnutls_priority_deinit(prio);
    gnutls_certificate_free_credentials(cred);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int i, first, port = 0;

    if (argc < 4)
    {
        fprintf(stderr, "usage: native mem DATADIR SECONDS TEST... | net DATADIR SECONDS PORT TEST... | serve DATADIR PORT\n");
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
        if (!strcmp(argv[1], "mem")) mem_test(t);
        else net_test(t, port);
    }
    gnutls_global_deinit();
    return 0;
}
