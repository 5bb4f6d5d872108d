/*
 * Schannel conformance: many threads at once.
 *
 * THREADS threads share one client and one server credential handle; each runs
 * CONTEXTS connections one after another (handshake, then ROUNDS records each way whose
 * bytes name the thread, connection and round, so mixed-up data shows). Then the races:
 * contexts deleted on one thread while others keep using theirs, and the credential
 * handle freed while contexts made from it are still in use (they hold their own
 * reference: "FreeCredentialsHandle" on Microsoft Learn; later calls with the freed handle
 * get SEC_E_INVALID_HANDLE).
 *
 * Then the same handle from several threads at once. .NET's SslStream calls EncryptMessage
 * and DecryptMessage on one context from two threads concurrently, so that must work and
 * keep every byte in place. Deleting a context while other threads are inside calls on it,
 * and freeing a credential while other threads create contexts from it, is what a program
 * shutting a connection down from another thread does: those calls must not crash and get
 * either their normal result or SEC_E_INVALID_HANDLE, and contexts made from a freed
 * credential keep working (they hold their own reference). SG_RACE_ROUNDS in the
 * environment repeats the races more often than the default.
 */

#include "tlsconn.h"

#define THREADS  8
#define CONTEXTS 6
#define ROUNDS   20

static PCCERT_CONTEXT cert;
static HCERTSTORE cert_store;
static CredHandle client_cred, server_cred;

struct worker
{
    HANDLE thread;
    int id;
    LONG handshakes, records, mixed, failures;
    SECURITY_STATUS last_error;
    struct tc_conn *keep;       /* race test: connections left for the main thread */
    int keep_count;
};

static void fill(BYTE *buf, ULONG len, int id, int conn, int round, int dir)
{
    ULONG i;
    for (i = 0; i < len; i++) buf[i] = (BYTE)(id * 31 + conn * 7 + round * 3 + dir + i);
}

/* One connection: handshake and ROUNDS verified records each way. */
static void run_connection(struct worker *w, struct tc_conn *c, int conn)
{
    BYTE sent[600], got[600];
    SECURITY_STATUS status;
    int round;

    tc_init(c, &client_cred, &server_cred);
    status = tc_handshake(c);
    if (status != SEC_E_OK)
    {
        w->failures++;
        w->last_error = status;
        return;
    }
    w->handshakes++;
    for (round = 0; round < ROUNDS; round++)
    {
        ULONG len = 1 + (round * 37 + w->id * 11) % sizeof(sent);
        int dir;

        for (dir = 0; dir < 2; dir++)
        {
            struct tc_side *from = dir ? &c->server : &c->client, *to = dir ? &c->client : &c->server;

            fill(sent, len, w->id, conn, round, dir);
            if ((status = tc_send(c, from, sent, len)) || (status = tc_recv(to, got, len)))
            {
                w->failures++;
                w->last_error = status;
                return;
            }
            if (memcmp(sent, got, len)) w->mixed++;
            w->records++;
        }
    }
}

static DWORD WINAPI worker_proc(void *arg)
{
    struct worker *w = arg;
    struct tc_conn c;
    int conn;

    for (conn = 0; conn < CONTEXTS; conn++)
    {
        run_connection(w, &c, conn);
        if (w->keep && w->keep_count < 2 && c.client.done)
        {
            /* Hand the connection over for the race test below. */
            w->keep[w->keep_count++] = c;
            continue;
        }
        tc_free(&c);
    }
    return 0;
}

static void test_parallel_connections(void)
{
    struct worker workers[THREADS];
    LONG handshakes = 0, records = 0, mixed = 0, failures = 0;
    DWORD start = GetTickCount();
    int i;

    memset(workers, 0, sizeof(workers));
    for (i = 0; i < THREADS; i++)
    {
        workers[i].id = i;
        workers[i].thread = CreateThread(NULL, 0, worker_proc, &workers[i], 0, NULL);
        ok(workers[i].thread != NULL, "CreateThread failed: %lu\n", GetLastError());
    }
    for (i = 0; i < THREADS; i++)
    {
        if (!workers[i].thread) continue;
        ok(WaitForSingleObject(workers[i].thread, 240000) == WAIT_OBJECT_0, "thread %d hangs\n", i);
        CloseHandle(workers[i].thread);
        handshakes += workers[i].handshakes;
        records += workers[i].records;
        mixed += workers[i].mixed;
        failures += workers[i].failures;
        if (workers[i].failures) trace("thread %d: last error %08lx\n", i, workers[i].last_error);
    }
    trace("%d threads: %ld handshakes, %ld records in %lu ms\n", THREADS, handshakes, records,
          GetTickCount() - start);
    ok(handshakes == THREADS * CONTEXTS, "%ld of %d handshakes finished\n", handshakes, THREADS * CONTEXTS);
    ok(records == THREADS * CONTEXTS * ROUNDS * 2, "%ld of %d records arrived\n", records,
       THREADS * CONTEXTS * ROUNDS * 2);
    ok(!mixed, "%ld records arrived with other bytes than were sent\n", mixed);
    ok(!failures, "%ld connections failed\n", failures);
}

/* Threads deleting their contexts while others handshake and exchange data. */
static DWORD WINAPI churn_proc(void *arg)
{
    struct worker *w = arg;
    struct tc_conn c;
    int conn;

    for (conn = 0; conn < CONTEXTS * 2; conn++)
    {
        tc_init(&c, &client_cred, &server_cred);
        if (conn & 1)
        {
            /* Abandon mid-handshake. */
            tc_step(&c.client, &c.server);
            if (c.server.in_len) tc_step(&c.server, &c.client);
        }
        else
        {
            run_connection(w, &c, conn);
        }
        if (c.client.have_ctx && DeleteSecurityContext(&c.client.ctx) != SEC_E_OK) w->failures++;
        if (c.server.have_ctx && DeleteSecurityContext(&c.server.ctx) != SEC_E_OK) w->failures++;
        c.client.have_ctx = c.server.have_ctx = FALSE;
        tc_free(&c);
    }
    return 0;
}

static void test_delete_races(void)
{
    struct worker workers[THREADS];
    int i;

    memset(workers, 0, sizeof(workers));
    for (i = 0; i < THREADS; i++)
    {
        workers[i].id = i;
        workers[i].thread = CreateThread(NULL, 0, (i & 1) ? churn_proc : worker_proc, &workers[i], 0, NULL);
    }
    for (i = 0; i < THREADS; i++)
    {
        if (!workers[i].thread) continue;
        ok(WaitForSingleObject(workers[i].thread, 240000) == WAIT_OBJECT_0, "thread %d hangs\n", i);
        CloseHandle(workers[i].thread);
        ok(!workers[i].failures && !workers[i].mixed, "thread %d: %ld failures (last %08lx), %ld mixed\n", i,
           workers[i].failures, workers[i].last_error, workers[i].mixed);
    }
}

/* FreeCredentialsHandle while contexts made from it are being used on other threads. */
static DWORD WINAPI use_kept_proc(void *arg)
{
    struct worker *w = arg;
    BYTE sent[100], got[100];
    int k, round;

    for (k = 0; k < w->keep_count; k++)
        for (round = 0; round < ROUNDS; round++)
        {
            struct tc_conn *c = &w->keep[k];
            SECURITY_STATUS status;

            fill(sent, sizeof(sent), w->id, k, round, 0);
            if ((status = tc_send(c, &c->client, sent, sizeof(sent)))
                || (status = tc_recv(&c->server, got, sizeof(got))))
            {
                w->failures++;
                w->last_error = status;
                break;
            }
            if (memcmp(sent, got, sizeof(sent))) w->mixed++;
            w->records++;
        }
    return 0;
}

static void test_free_credentials_race(void)
{
    struct worker workers[THREADS];
    struct tc_conn kept[THREADS][2];
    SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
    SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
    CtxtHandle ctx;
    ULONG attrs;
    SECURITY_STATUS status;
    int i, k;

    memset(workers, 0, sizeof(workers));
    for (i = 0; i < THREADS; i++)
    {
        workers[i].id = i;
        workers[i].keep = kept[i];
        worker_proc(&workers[i]);  /* makes the connections, on this thread */
        ok(workers[i].keep_count == 2, "worker %d kept %d connections\n", i, workers[i].keep_count);
    }
    for (i = 0; i < THREADS; i++)
    {
        workers[i].records = workers[i].failures = workers[i].mixed = 0;
        workers[i].thread = CreateThread(NULL, 0, use_kept_proc, &workers[i], 0, NULL);
    }

    /* The handles go away while the threads use contexts made from them. */
    status = FreeCredentialsHandle(&client_cred);
    ok(status == SEC_E_OK, "FreeCredentialsHandle(client) returned %08lx\n", status);
    status = FreeCredentialsHandle(&server_cred);
    ok(status == SEC_E_OK, "FreeCredentialsHandle(server) returned %08lx\n", status);
    status = InitializeSecurityContextW(&client_cred, NULL, (WCHAR *)L"localhost", TC_CLIENT_REQ, 0, 0, NULL, 0,
                                        &ctx, &out_desc, &attrs, NULL);
    ok(status == SEC_E_INVALID_HANDLE, "ISC with the freed credential returned %08lx\n", status);

    for (i = 0; i < THREADS; i++)
    {
        if (!workers[i].thread) continue;
        ok(WaitForSingleObject(workers[i].thread, 240000) == WAIT_OBJECT_0, "thread %d hangs\n", i);
        CloseHandle(workers[i].thread);
        ok(!workers[i].failures && !workers[i].mixed && workers[i].records == workers[i].keep_count * ROUNDS,
           "thread %d: %ld records, %ld failures (last %08lx), %ld mixed\n", i, workers[i].records,
           workers[i].failures, workers[i].last_error, workers[i].mixed);
        for (k = 0; k < workers[i].keep_count; k++)
        {
            ok(DeleteSecurityContext(&kept[i][k].client.ctx) == SEC_E_OK, "client context not deletable\n");
            ok(DeleteSecurityContext(&kept[i][k].server.ctx) == SEC_E_OK, "server context not deletable\n");
            kept[i][k].client.have_ctx = kept[i][k].server.have_ctx = FALSE;
            tc_free(&kept[i][k]);
        }
    }
}

/* ---- the same handle from several threads ---- */

#define RACE_RECORDS 256
#define RACE_PAYLOAD 300
#define RACE_MISMATCH E_UNEXPECTED  /* our own: the bytes differ; the DLL never returns it */

static int race_rounds(int fallback)
{
    char value[16];
    DWORD len = GetEnvironmentVariableA("SG_RACE_ROUNDS", value, sizeof(value));
    int rounds = (len && len < sizeof(value)) ? atoi(value) : 0;
    return rounds > 0 ? rounds : fallback;
}

/* Records sealed and opened in the caller's own buffers: the tc_* helpers write to the
 * peer's input, which the threads below do not share. */
struct record
{
    BYTE data[RACE_PAYLOAD + 256];
    ULONG len;
};

static SECURITY_STATUS seal_record(CtxtHandle *ctx, const SecPkgContext_StreamSizes *sizes, const BYTE *data,
                                   ULONG len, struct record *rec)
{
    BYTE buf[RACE_PAYLOAD + 256];
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;

    if (sizes->cbHeader + len + sizes->cbTrailer > sizeof(buf)) return SEC_E_BUFFER_TOO_SMALL;
    memcpy(buf + sizes->cbHeader, data, len);
    pair_init_encrypt(&desc, bufs, buf, len, sizes);
    if ((status = EncryptMessage(ctx, 0, &desc, 0)) != SEC_E_OK) return status;
    if (bufs[0].cbBuffer > sizes->cbHeader || bufs[1].cbBuffer != len || bufs[2].cbBuffer > sizes->cbTrailer)
        return RACE_MISMATCH;
    memcpy(rec->data, bufs[0].pvBuffer, bufs[0].cbBuffer);
    memcpy(rec->data + bufs[0].cbBuffer, bufs[1].pvBuffer, bufs[1].cbBuffer);
    memcpy(rec->data + bufs[0].cbBuffer + bufs[1].cbBuffer, bufs[2].pvBuffer, bufs[2].cbBuffer);
    rec->len = bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer;
    return SEC_E_OK;
}

/* Decrypts one whole record in place; RACE_MISMATCH when the plaintext differs from expect
 * (or there is more or less of it). */
static SECURITY_STATUS open_record(CtxtHandle *ctx, struct record *rec, const BYTE *expect, ULONG len)
{
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;
    ULONG i, got = 0;

    pair_init_decrypt(&desc, bufs, rec->data, rec->len);
    if ((status = DecryptMessage(ctx, &desc, 0, NULL)) != SEC_E_OK) return status;
    for (i = 0; i < 4; i++)
    {
        if (bufs[i].BufferType == SECBUFFER_EXTRA) return RACE_MISMATCH;  /* one record went in */
        if (bufs[i].BufferType != SECBUFFER_DATA) continue;
        if (got + bufs[i].cbBuffer > len || memcmp(expect + got, bufs[i].pvBuffer, bufs[i].cbBuffer))
            return RACE_MISMATCH;
        got += bufs[i].cbBuffer;
    }
    return got == len ? SEC_E_OK : RACE_MISMATCH;
}

/* A finished connection with nothing in flight: TLS 1.3 tickets have been read. */
static BOOL open_connection(struct tc_conn *c, CredHandle *client, CredHandle *server)
{
    BYTE ping = 0x5a, pong = 0;
    SECURITY_STATUS status;

    tc_init(c, client, server);
    if ((status = tc_handshake(c)) != SEC_E_OK)
    {
        ok(0, "handshake failed: %08lx\n", status);
        return FALSE;
    }
    if ((status = tc_send(c, &c->server, &ping, 1)) || (status = tc_recv(&c->client, &pong, 1)))
    {
        ok(0, "first record failed: %08lx\n", status);
        return FALSE;
    }
    ok(pong == ping && !c->client.in_len && !c->server.in_len, "connection not idle after the first record\n");
    return TRUE;
}

static void payload(BYTE *buf, int stream, int index)
{
    ULONG i;
    for (i = 0; i < RACE_PAYLOAD; i++) buf[i] = (BYTE)(stream * 101 + index * 13 + i * 7 + (i >> 8));
}

/* Concurrent EncryptMessage and DecryptMessage on each of the two contexts. */
enum stream_job { JOB_SEAL, JOB_OPEN };

struct stream_thread
{
    HANDLE thread;
    enum stream_job job;
    CtxtHandle *ctx;
    const SecPkgContext_StreamSizes *sizes;
    struct record *records;    /* RACE_RECORDS: sealed here, or to open */
    int stream;                /* names the payload */
    int done, wrong;
    SECURITY_STATUS error;
};

static DWORD WINAPI stream_proc(void *arg)
{
    struct stream_thread *t = arg;
    BYTE data[RACE_PAYLOAD];
    SECURITY_STATUS status;
    int i;

    for (i = 0; i < RACE_RECORDS; i++)
    {
        payload(data, t->stream, i);
        if (t->job == JOB_SEAL) status = seal_record(t->ctx, t->sizes, data, sizeof(data), &t->records[i]);
        else status = open_record(t->ctx, &t->records[i], data, sizeof(data));
        if (status == RACE_MISMATCH) t->wrong++;
        if (status != SEC_E_OK)
        {
            t->error = status;
            break;
        }
        t->done++;
    }
    return 0;
}

static void test_concurrent_encrypt_decrypt(enum tc_proto proto, const char *name)
{
    /* streams: 0 client->server made first, 1 server->client made first,
     *          2 client->server made by the threads, 3 server->client made by the threads */
    struct record *records[4];
    struct stream_thread threads[4];
    CredHandle client, server;
    BYTE data[RACE_PAYLOAD];
    SECURITY_STATUS status;
    struct tc_conn c;
    int i, k, rounds = race_rounds(4);

    if (tc_acquire(FALSE, proto, NULL, &client) != SEC_E_OK) { ok(0, "%s: no client credential\n", name); return; }
    if (tc_acquire(TRUE, proto, cert, &server) != SEC_E_OK)
    {
        ok(0, "%s: no server credential\n", name);
        FreeCredentialsHandle(&client);
        return;
    }
    for (k = 0; k < 4; k++) records[k] = malloc(RACE_RECORDS * sizeof(struct record));

    while (rounds--)
    {
        if (!open_connection(&c, &client, &server)) break;
        for (i = 0; i < RACE_RECORDS; i++)
        {
            payload(data, 0, i);
            if ((status = seal_record(&c.client.ctx, &c.sizes, data, sizeof(data), &records[0][i]))) break;
            payload(data, 1, i);
            if ((status = seal_record(&c.server.ctx, &c.sizes, data, sizeof(data), &records[1][i]))) break;
        }
        ok(status == SEC_E_OK, "%s: sealing the first records failed: %08lx\n", name, status);

        memset(threads, 0, sizeof(threads));
        /* The client seals stream 2 while it opens stream 1; the server seals 3 while it opens 0. */
        threads[0].job = JOB_SEAL; threads[0].ctx = &c.client.ctx; threads[0].records = records[2]; threads[0].stream = 2;
        threads[1].job = JOB_OPEN; threads[1].ctx = &c.client.ctx; threads[1].records = records[1]; threads[1].stream = 1;
        threads[2].job = JOB_SEAL; threads[2].ctx = &c.server.ctx; threads[2].records = records[3]; threads[2].stream = 3;
        threads[3].job = JOB_OPEN; threads[3].ctx = &c.server.ctx; threads[3].records = records[0]; threads[3].stream = 0;
        for (k = 0; k < 4; k++)
        {
            threads[k].sizes = &c.sizes;
            threads[k].thread = CreateThread(NULL, 0, stream_proc, &threads[k], 0, NULL);
        }
        for (k = 0; k < 4; k++)
        {
            ok(WaitForSingleObject(threads[k].thread, 120000) == WAIT_OBJECT_0, "%s: thread %d hangs\n", name, k);
            CloseHandle(threads[k].thread);
            ok(threads[k].done == RACE_RECORDS && !threads[k].wrong,
               "%s: thread %d (%s) did %d of %d records, %d wrong, last status %08lx\n", name, k,
               threads[k].job == JOB_SEAL ? "EncryptMessage" : "DecryptMessage", threads[k].done, RACE_RECORDS,
               threads[k].wrong, threads[k].error);
        }

        /* What the threads sealed opens on the other side, in order and unchanged. */
        for (i = 0; i < RACE_RECORDS; i++)
        {
            payload(data, 2, i);
            if ((status = open_record(&c.server.ctx, &records[2][i], data, sizeof(data)))) break;
            payload(data, 3, i);
            if ((status = open_record(&c.client.ctx, &records[3][i], data, sizeof(data)))) break;
        }
        ok(status == SEC_E_OK, "%s: record %d sealed concurrently did not open: %08lx\n", name, i, status);
        tc_free(&c);
    }

    for (k = 0; k < 4; k++) free(records[k]);
    FreeCredentialsHandle(&client);
    FreeCredentialsHandle(&server);
}

/* DeleteSecurityContext while other threads are inside EncryptMessage, DecryptMessage and
 * QueryContextAttributes on the same context. */
enum user_job { USE_SEAL, USE_OPEN, USE_QUERY, USE_JOBS };

struct user_thread
{
    HANDLE thread;
    enum user_job job;
    CtxtHandle ctx;            /* a copy of the handle value, as a program would keep it */
    const SecPkgContext_StreamSizes *sizes;
    struct record *records;    /* USE_OPEN: stream 1, RACE_RECORDS of them */
    volatile LONG *calls;
    volatile LONG *deleted;    /* set once DeleteSecurityContext returned */
    LONG good, invalid, wrong, in_flight;
    SECURITY_STATUS error;
};

static SECURITY_STATUS user_call(struct user_thread *t, int i)
{
    SecPkgContext_StreamSizes sizes;
    BYTE data[RACE_PAYLOAD];
    SECURITY_STATUS status;
    struct record rec;

    switch (t->job)
    {
    case USE_SEAL:
        payload(data, 4, i);
        return seal_record(&t->ctx, t->sizes, data, sizeof(data), &rec);
    case USE_OPEN:
        payload(data, 1, i);
        return open_record(&t->ctx, &t->records[i], data, sizeof(data));
    default:
        memset(&sizes, 0xcc, sizeof(sizes));
        status = QueryContextAttributesW(&t->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes);
        if (status == SEC_E_OK && memcmp(&sizes, t->sizes, sizeof(sizes))) return RACE_MISMATCH;
        return status;
    }
}

static DWORD WINAPI user_proc(void *arg)
{
    struct user_thread *t = arg;
    SECURITY_STATUS status;
    int i;

    /* Bounded: the decrypting thread has RACE_RECORDS records, the others stop at the same count. */
    for (i = 0; i < RACE_RECORDS; i++)
    {
        status = user_call(t, i);
        InterlockedIncrement(t->calls);
        if (status == SEC_E_OK)
        {
            t->good++;
            /* The handle was freed while this call was running on the context. */
            if (*t->deleted) t->in_flight++;
            continue;
        }
        if (status == SEC_E_INVALID_HANDLE)
        {
            t->invalid++;
            /* The handle stays dead. */
            if ((status = user_call(t, i)) != SEC_E_INVALID_HANDLE)
            {
                t->wrong++;
                t->error = status;
            }
            break;
        }
        t->wrong++;
        t->error = status;
        break;
    }
    return 0;
}

static void test_delete_while_in_use(void)
{
    struct record *records = malloc(RACE_RECORDS * sizeof(*records));
    struct user_thread users[USE_JOBS];
    CredHandle client, server;
    volatile LONG calls, deleted;
    LONG in_flight = 0, deleted_first = 0;
    BYTE data[RACE_PAYLOAD];
    SECURITY_STATUS status;
    struct tc_conn c;
    int i, k, round, rounds = race_rounds(40);
    DWORD start;

    ok(tc_acquire(FALSE, TC_DEFAULT, NULL, &client) == SEC_E_OK, "client credential failed\n");
    ok(tc_acquire(TRUE, TC_DEFAULT, cert, &server) == SEC_E_OK, "server credential failed\n");
    for (round = 0; round < rounds; round++)
    {
        if (!open_connection(&c, &client, &server)) break;
        for (i = 0; i < RACE_RECORDS; i++)
        {
            payload(data, 1, i);
            if ((status = seal_record(&c.server.ctx, &c.sizes, data, sizeof(data), &records[i]))) break;
        }
        ok(status == SEC_E_OK, "sealing failed: %08lx\n", status);

        calls = deleted = 0;
        memset(users, 0, sizeof(users));
        for (k = 0; k < USE_JOBS; k++)
        {
            users[k].job = k;
            users[k].ctx = c.client.ctx;
            users[k].sizes = &c.sizes;
            users[k].records = records;
            users[k].calls = &calls;
            users[k].deleted = &deleted;
            users[k].thread = CreateThread(NULL, 0, user_proc, &users[k], 0, NULL);
        }
        /* Vary the moment: from before the first call to well into the calls. */
        start = GetTickCount();
        while (calls < (round % 8) * 4 && GetTickCount() - start < 10000) Sleep(0);
        status = DeleteSecurityContext(&c.client.ctx);
        InterlockedExchange(&deleted, 1);
        ok(status == SEC_E_OK, "DeleteSecurityContext returned %08lx\n", status);
        c.client.have_ctx = FALSE;
        status = DeleteSecurityContext(&c.client.ctx);
        ok(status == SEC_E_INVALID_HANDLE, "second DeleteSecurityContext returned %08lx\n", status);

        for (k = 0; k < USE_JOBS; k++)
        {
            ok(WaitForSingleObject(users[k].thread, 120000) == WAIT_OBJECT_0, "thread %d hangs\n", k);
            CloseHandle(users[k].thread);
            ok(!users[k].wrong, "round %d, job %d: unexpected status %08lx\n", round, k, users[k].error);
            /* Every thread either ran out of work first or saw the handle go. */
            ok(users[k].invalid || users[k].good == RACE_RECORDS, "round %d, job %d: %ld calls, stopped early\n",
               round, k, users[k].good);
            in_flight += users[k].in_flight;
            if (!users[k].good) deleted_first++;
        }
        /* The peer is unaffected. */
        status = QueryContextAttributesW(&c.server.ctx, SECPKG_ATTR_STREAM_SIZES, &c.sizes);
        ok(status == SEC_E_OK, "server context: %08lx\n", status);
        tc_free(&c);
    }
    trace("%d rounds: %ld calls finished after the delete, %ld threads found the handle gone at once\n", rounds,
          in_flight, deleted_first);
    FreeCredentialsHandle(&client);
    FreeCredentialsHandle(&server);
    free(records);
}

/* FreeCredentialsHandle while other threads create contexts from it with ISC and ASC. */
struct maker_thread
{
    HANDLE thread;
    int id;
    CredHandle *client, *server;
    volatile LONG *made;
    volatile LONG *freed;      /* set once both FreeCredentialsHandle calls returned */
    LONG connections, after_free, wrong;
    BOOL stopped;              /* saw SEC_E_INVALID_HANDLE */
    SECURITY_STATUS error;
};

static DWORD WINAPI maker_proc(void *arg)
{
    struct maker_thread *t = arg;
    BYTE sent[64], got[64];
    SECURITY_STATUS status;
    struct tc_conn c;
    int n;

    for (n = 0; n < 2000 && !t->stopped && !t->wrong; n++)
    {
        tc_init(&c, t->client, t->server);
        /* Creating either context: made (from the live credential) or refused. */
        status = tc_step(&c.client, &c.server);
        if (status == SEC_I_CONTINUE_NEEDED) status = tc_step(&c.server, &c.client);
        if (status == SEC_E_INVALID_HANDLE) t->stopped = TRUE;
        else if (status != SEC_I_CONTINUE_NEEDED)
        {
            t->wrong++;
            t->error = status;
        }
        else
        {
            /* Made: the contexts hold the credential, whatever happens to its handle. */
            if (*t->freed) t->after_free++;
            fill(sent, sizeof(sent), t->id, n, 0, 0);
            if ((status = tc_handshake(&c)) || (status = tc_send(&c, &c.client, sent, sizeof(sent)))
                || (status = tc_recv(&c.server, got, sizeof(got))) || memcmp(sent, got, sizeof(got)))
            {
                t->wrong++;
                t->error = status;
            }
            else t->connections++;
        }
        tc_free(&c);
        InterlockedIncrement(t->made);
    }
    return 0;
}

static void test_free_credentials_while_creating(void)
{
    struct maker_thread makers[4];
    CredHandle client, server;
    volatile LONG made, freed;
    LONG connections = 0, after_free = 0;
    SECURITY_STATUS status;
    int k, round, rounds = race_rounds(10);
    DWORD start;

    for (round = 0; round < rounds; round++)
    {
        ok(tc_acquire(FALSE, TC_DEFAULT, NULL, &client) == SEC_E_OK, "client credential failed\n");
        ok(tc_acquire(TRUE, TC_DEFAULT, cert, &server) == SEC_E_OK, "server credential failed\n");
        made = freed = 0;
        memset(makers, 0, sizeof(makers));
        for (k = 0; k < 4; k++)
        {
            makers[k].id = k;
            makers[k].client = &client;
            makers[k].server = &server;
            makers[k].made = &made;
            makers[k].freed = &freed;
            makers[k].thread = CreateThread(NULL, 0, maker_proc, &makers[k], 0, NULL);
        }
        start = GetTickCount();
        while (made < (round % 4) * 2 && GetTickCount() - start < 10000) Sleep(0);
        /* Either order, both while contexts are being made. */
        status = FreeCredentialsHandle((round & 1) ? &server : &client);
        ok(status == SEC_E_OK, "FreeCredentialsHandle returned %08lx\n", status);
        status = FreeCredentialsHandle((round & 1) ? &client : &server);
        ok(status == SEC_E_OK, "FreeCredentialsHandle returned %08lx\n", status);
        InterlockedExchange(&freed, 1);
        status = FreeCredentialsHandle(&client);
        ok(status == SEC_E_INVALID_HANDLE, "second FreeCredentialsHandle returned %08lx\n", status);

        for (k = 0; k < 4; k++)
        {
            ok(WaitForSingleObject(makers[k].thread, 120000) == WAIT_OBJECT_0, "thread %d hangs\n", k);
            CloseHandle(makers[k].thread);
            ok(!makers[k].wrong, "round %d, thread %d: unexpected status %08lx\n", round, k, makers[k].error);
            ok(makers[k].stopped, "round %d, thread %d: never saw the credential go\n", round, k);
            connections += makers[k].connections;
            after_free += makers[k].after_free;
        }
    }
    trace("%d rounds: %ld connections, %ld of them made while the credentials were being freed\n", rounds,
          connections, after_free);
}

START_TEST(threads)
{
    cert = pair_import_server_cert(&cert_store);
    ok(cert != NULL, "cannot import the test certificate\n");
    if (!cert) return;
    ok(tc_acquire(FALSE, TC_DEFAULT, NULL, &client_cred) == SEC_E_OK, "client credential failed\n");
    ok(tc_acquire(TRUE, TC_DEFAULT, cert, &server_cred) == SEC_E_OK, "server credential failed\n");

    test_parallel_connections();
    test_delete_races();
    test_free_credentials_race();  /* frees both credential handles */
    test_concurrent_encrypt_decrypt(TC_TLS12, "TLS 1.2");
    test_concurrent_encrypt_decrypt(TC_TLS13, "TLS 1.3");
    test_delete_while_in_use();
    test_free_credentials_while_creating();

    pair_free_server_cert(cert, cert_store);
}
