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
 * Using one context from two threads at once, or deleting a context while another
 * thread is inside a call on it, is a caller bug that Windows does not promise to
 * survive; it is not tested here.
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

START_TEST(threads)
{
    cert = tc_import_cert(&cert_store);
    ok(cert != NULL, "cannot import the test certificate\n");
    if (!cert) return;
    ok(tc_acquire(FALSE, TC_DEFAULT, NULL, &client_cred) == SEC_E_OK, "client credential failed\n");
    ok(tc_acquire(TRUE, TC_DEFAULT, cert, &server_cred) == SEC_E_OK, "server credential failed\n");

    test_parallel_connections();
    test_delete_races();
    test_free_credentials_race();  /* frees both credential handles */

    tc_free_cert(cert, cert_store);
}
