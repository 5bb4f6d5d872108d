/*
 * Schannel conformance: hostile callers and hostile peers.
 *
 * Every exported entry point that takes a handle gets NULL, garbage, freed and
 * wrong-kind handles; the record calls get missing, empty, oversized and mangled
 * buffers; the handshake gets split, truncated and abandoned flights. Each case
 * must give a documented error, do bounded work, and leave a context that can
 * still be used (where it was usable before) and deleted.
 * Security properties checked on the wire: what our ClientHello offers, and the
 * TLS 1.3 downgrade sentinel (RFC 8446, 4.1.3).
 *
 * Sources (Microsoft Learn): "DecryptMessage (Schannel)", "EncryptMessage
 * (Schannel)", "InitializeSecurityContext (Schannel)", "DeleteSecurityContext",
 * "FreeCredentialsHandle", "SSPI Status Codes". RFC 8446 and RFC 5746 for the
 * protocol rules.
 */

#include "tlsconn.h"

static PCCERT_CONTEXT cert;
static HCERTSTORE cert_store;
static CredHandle client_cred, server_cred;
static CredHandle proto_creds[3];  /* client credentials per enum tc_proto */

static const BYTE message[] = "hostile peers get documented errors";

/* A connection that finished its handshake and carried one record each way. */
static BOOL established(struct tc_conn *c, enum tc_proto proto)
{
    SECURITY_STATUS status;
    BYTE buf[sizeof(message)];

    tc_init(c, &proto_creds[proto], &server_cred);
    status = tc_handshake(c);
    ok(status == SEC_E_OK, "handshake (proto %d) failed: %08lx\n", proto, status);
    if (status != SEC_E_OK) return FALSE;
    ok(tc_send(c, &c->server, message, sizeof(message)) == SEC_E_OK, "server EncryptMessage failed\n");
    ok(tc_recv(&c->client, buf, sizeof(buf)) == SEC_E_OK && !memcmp(buf, message, sizeof(message)),
       "client did not get the server's record\n");
    return TRUE;
}

/* The context still works: one record client -> server arrives intact. */
static void check_still_usable(struct tc_conn *c, const char *what)
{
    BYTE buf[sizeof(message)];
    SECURITY_STATUS status;

    status = tc_send(c, &c->client, message, sizeof(message));
    ok(status == SEC_E_OK, "%s: EncryptMessage afterwards returned %08lx\n", what, status);
    status = tc_recv(&c->server, buf, sizeof(buf));
    ok(status == SEC_E_OK, "%s: DecryptMessage afterwards returned %08lx\n", what, status);
    ok(!memcmp(buf, message, sizeof(message)), "%s: data mixed up afterwards\n", what);
}

/* ------------------------------------------------------------------------ */
/* Handles                                                                  */

static void check_bad_ctx(CtxtHandle *h, const char *what)
{
    SecPkgContext_StreamSizes sizes;
    SecBuffer buf = { 0, SECBUFFER_DATA, NULL };
    SecBufferDesc desc = { SECBUFFER_VERSION, 1, &buf };
    BYTE token_data[4] = { 1, 0, 0, 0 };
    SecBuffer token = { sizeof(token_data), SECBUFFER_TOKEN, token_data };
    SecBufferDesc token_desc = { SECBUFFER_VERSION, 1, &token };
    SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
    SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
    CtxtHandle new_ctx;
    ULONG attrs;
    SECURITY_STATUS status;

    status = EncryptMessage(h, 0, &desc, 0);
    ok(status == SEC_E_INVALID_HANDLE, "%s: EncryptMessage returned %08lx\n", what, status);
    status = DecryptMessage(h, &desc, 0, NULL);
    ok(status == SEC_E_INVALID_HANDLE, "%s: DecryptMessage returned %08lx\n", what, status);
    status = QueryContextAttributesW(h, SECPKG_ATTR_STREAM_SIZES, &sizes);
    ok(status == SEC_E_INVALID_HANDLE, "%s: QueryContextAttributesW returned %08lx\n", what, status);
    status = QueryContextAttributesA(h, SECPKG_ATTR_STREAM_SIZES, &sizes);
    ok(status == SEC_E_INVALID_HANDLE, "%s: QueryContextAttributesA returned %08lx\n", what, status);
    status = ApplyControlToken(h, &token_desc);
    ok(status == SEC_E_INVALID_HANDLE, "%s: ApplyControlToken returned %08lx\n", what, status);
    status = InitializeSecurityContextW(&client_cred, h, (WCHAR *)L"localhost", TC_CLIENT_REQ, 0, 0, &desc, 0,
                                        &new_ctx, &out_desc, &attrs, NULL);
    ok(status == SEC_E_INVALID_HANDLE, "%s: InitializeSecurityContextW returned %08lx\n", what, status);
    ok(!out.pvBuffer, "%s: InitializeSecurityContextW allocated a token\n", what);
    status = AcceptSecurityContext(&server_cred, h, &token_desc, TC_SERVER_REQ, 0, &new_ctx, &out_desc, &attrs, NULL);
    ok(status == SEC_E_INVALID_HANDLE, "%s: AcceptSecurityContext returned %08lx\n", what, status);
    status = DeleteSecurityContext(h);
    ok(status == SEC_E_INVALID_HANDLE, "%s: DeleteSecurityContext returned %08lx\n", what, status);
}

static void check_bad_cred(CredHandle *h, const char *what)
{
    SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
    SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
    BYTE hello[5] = { 22, 3, 1, 0, 0 };
    SecBuffer in = { sizeof(hello), SECBUFFER_TOKEN, hello };
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 1, &in };
    CtxtHandle ctx;
    ULONG attrs;
    SECURITY_STATUS status;

    status = InitializeSecurityContextW(h, NULL, (WCHAR *)L"localhost", TC_CLIENT_REQ, 0, 0, NULL, 0, &ctx,
                                        &out_desc, &attrs, NULL);
    ok(status == SEC_E_INVALID_HANDLE, "%s: InitializeSecurityContextW returned %08lx\n", what, status);
    ok(!out.pvBuffer, "%s: a token was allocated\n", what);
    status = AcceptSecurityContext(h, NULL, &in_desc, TC_SERVER_REQ, 0, &ctx, &out_desc, &attrs, NULL);
    ok(status == SEC_E_INVALID_HANDLE, "%s: AcceptSecurityContext returned %08lx\n", what, status);
    status = FreeCredentialsHandle(h);
    ok(status == SEC_E_INVALID_HANDLE, "%s: FreeCredentialsHandle returned %08lx\n", what, status);
}

static void test_bad_handles(void)
{
    CtxtHandle garbage = { 0x1234, 0x5678 }, all_ones = { ~(ULONG_PTR)0, ~(ULONG_PTR)0 }, zero = { 0, 0 };
    CtxtHandle freed, cred_as_ctx;
    CredHandle cred_garbage = { 0xdead, 0xbeef }, freed_cred, ctx_as_cred;
    struct tc_conn c;
    SECURITY_STATUS status;

    check_bad_ctx(&garbage, "garbage context");
    check_bad_ctx(&all_ones, "all-ones context");
    check_bad_ctx(&zero, "zero context");
    cred_as_ctx = client_cred;
    check_bad_ctx(&cred_as_ctx, "credential as context");

    check_bad_cred(&cred_garbage, "garbage credential");

    /* Freed handles, also once their slots were reused. */
    if (!established(&c, TC_DEFAULT)) return;
    freed = c.client.ctx;
    ctx_as_cred = c.server.ctx;
    check_bad_cred(&ctx_as_cred, "context as credential");
    status = DeleteSecurityContext(&c.client.ctx);
    ok(status == SEC_E_OK, "DeleteSecurityContext returned %08lx\n", status);
    c.client.have_ctx = FALSE;
    check_bad_ctx(&freed, "deleted context");
    tc_free(&c);
    if (established(&c, TC_DEFAULT))
    {
        check_bad_ctx(&freed, "deleted context after reuse");
        tc_free(&c);
    }

    ok(tc_acquire(FALSE, TC_DEFAULT, NULL, &freed_cred) == SEC_E_OK, "AcquireCredentialsHandle failed\n");
    ok(FreeCredentialsHandle(&freed_cred) == SEC_E_OK, "FreeCredentialsHandle failed\n");
    check_bad_cred(&freed_cred, "freed credential");

    /* A server credential cannot start a client handshake and vice versa. */
    {
        SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
        SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
        CtxtHandle ctx;
        ULONG attrs;

        status = InitializeSecurityContextW(&server_cred, NULL, (WCHAR *)L"localhost", TC_CLIENT_REQ, 0, 0, NULL, 0,
                                            &ctx, &out_desc, &attrs, NULL);
        ok(status == SEC_E_NO_CREDENTIALS || broken(status == SEC_E_INVALID_HANDLE),
           "ISC with an inbound credential returned %08lx\n", status);
        ok(!out.pvBuffer, "a token was allocated\n");
    }
}

/* ------------------------------------------------------------------------ */
/* Record calls with bad buffers                                            */

static void init_desc(SecBufferDesc *desc, SecBuffer *bufs, ULONG count)
{
    ULONG i;
    for (i = 0; i < count; i++)
    {
        bufs[i].BufferType = SECBUFFER_EMPTY;
        bufs[i].cbBuffer = 0;
        bufs[i].pvBuffer = NULL;
    }
    desc->ulVersion = SECBUFFER_VERSION;
    desc->cBuffers = count;
    desc->pBuffers = bufs;
}

static void test_bad_buffers(void)
{
    struct tc_conn c;
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;
    BYTE data[64], big[256];

    if (!established(&c, TC_DEFAULT)) return;

    status = DecryptMessage(&c.server.ctx, NULL, 0, NULL);
    ok(status == SEC_E_INVALID_TOKEN || status == SEC_E_INVALID_PARAMETER, "Decrypt(NULL) returned %08lx\n", status);
    status = EncryptMessage(&c.client.ctx, 0, NULL, 0);
    ok(status == SEC_E_INVALID_TOKEN || status == SEC_E_INVALID_PARAMETER, "Encrypt(NULL) returned %08lx\n", status);

    init_desc(&desc, bufs, 4);
    desc.pBuffers = NULL;
    status = DecryptMessage(&c.server.ctx, &desc, 0, NULL);
    ok(status == SEC_E_INVALID_TOKEN || status == SEC_E_INVALID_PARAMETER, "Decrypt(no buffers) returned %08lx\n", status);

    init_desc(&desc, bufs, 4);
    desc.cBuffers = 0;
    status = DecryptMessage(&c.server.ctx, &desc, 0, NULL);
    ok(status == SEC_E_INVALID_TOKEN, "Decrypt(0 buffers) returned %08lx\n", status);

    /* No SECBUFFER_DATA at all. */
    init_desc(&desc, bufs, 4);
    bufs[0].BufferType = SECBUFFER_TOKEN;
    bufs[0].cbBuffer = sizeof(data);
    bufs[0].pvBuffer = data;
    status = DecryptMessage(&c.server.ctx, &desc, 0, NULL);
    ok(status == SEC_E_INVALID_TOKEN, "Decrypt without a DATA buffer returned %08lx\n", status);

    /* An empty DATA buffer: more is needed. */
    init_desc(&desc, bufs, 4);
    bufs[0].BufferType = SECBUFFER_DATA;
    bufs[0].cbBuffer = 0;
    bufs[0].pvBuffer = data;
    status = DecryptMessage(&c.server.ctx, &desc, 0, NULL);
    ok(status == SEC_E_INCOMPLETE_MESSAGE, "Decrypt of 0 bytes returned %08lx\n", status);

    /* Encrypt: stream buffers missing, or too small. */
    init_desc(&desc, bufs, 4);
    bufs[0].BufferType = SECBUFFER_DATA;
    bufs[0].cbBuffer = 5;
    bufs[0].pvBuffer = data;
    status = EncryptMessage(&c.client.ctx, 0, &desc, 0);
    ok(status == SEC_E_INVALID_TOKEN, "Encrypt without header/trailer returned %08lx\n", status);
    init_desc(&desc, bufs, 3);
    bufs[0].BufferType = SECBUFFER_STREAM_HEADER;
    bufs[0].cbBuffer = 1;
    bufs[0].pvBuffer = big;
    bufs[1].BufferType = SECBUFFER_DATA;
    bufs[1].cbBuffer = 5;
    bufs[1].pvBuffer = big + 8;
    bufs[2].BufferType = SECBUFFER_STREAM_TRAILER;
    bufs[2].cbBuffer = 100;
    bufs[2].pvBuffer = big + 16;
    status = EncryptMessage(&c.client.ctx, 0, &desc, 0);
    ok(status == SEC_E_BUFFER_TOO_SMALL, "Encrypt with a 1-byte header returned %08lx\n", status);

    /* More than cbMaximumMessage. */
    {
        ULONG len = c.sizes.cbMaximumMessage + 1;
        BYTE *rec = calloc(1, c.sizes.cbHeader + len + c.sizes.cbTrailer);

        init_desc(&desc, bufs, 4);
        bufs[0].BufferType = SECBUFFER_STREAM_HEADER;
        bufs[0].cbBuffer = c.sizes.cbHeader;
        bufs[0].pvBuffer = rec;
        bufs[1].BufferType = SECBUFFER_DATA;
        bufs[1].cbBuffer = len;
        bufs[1].pvBuffer = rec + c.sizes.cbHeader;
        bufs[2].BufferType = SECBUFFER_STREAM_TRAILER;
        bufs[2].cbBuffer = c.sizes.cbTrailer;
        bufs[2].pvBuffer = rec + c.sizes.cbHeader + len;
        status = EncryptMessage(&c.client.ctx, 0, &desc, 0);
        ok(FAILED(status), "Encrypt of %lu bytes returned %08lx\n", len, status);
        free(rec);
    }
    check_still_usable(&c, "bad buffers");

    /* A DATA buffer much larger than the record: the rest comes back as EXTRA. */
    {
        ULONG huge = 200000, rec_len;
        BYTE *buf = calloc(1, huge);
        SecBuffer *extra = NULL;
        ULONG i;

        ok(tc_send(&c, &c.client, message, sizeof(message)) == SEC_E_OK, "Encrypt failed\n");
        rec_len = c.server.in_len;
        memcpy(buf, c.server.in, rec_len);
        c.server.in_len = 0;
        init_desc(&desc, bufs, 4);
        bufs[0].BufferType = SECBUFFER_DATA;
        bufs[0].cbBuffer = huge;
        bufs[0].pvBuffer = buf;
        status = DecryptMessage(&c.server.ctx, &desc, 0, NULL);
        ok(status == SEC_E_OK, "Decrypt with a %lu-byte buffer returned %08lx\n", huge, status);
        for (i = 0; i < 4; i++) if (bufs[i].BufferType == SECBUFFER_EXTRA) extra = &bufs[i];
        ok(extra && extra->cbBuffer == huge - rec_len, "EXTRA %lu, expected %lu\n", extra ? extra->cbBuffer : 0,
           huge - rec_len);
        /* The zeros after it are no TLS record. */
        if (extra)
        {
            BYTE *rest = extra->pvBuffer;
            init_desc(&desc, bufs, 4);
            bufs[0].BufferType = SECBUFFER_DATA;
            bufs[0].cbBuffer = huge - rec_len;
            bufs[0].pvBuffer = rest;
            status = DecryptMessage(&c.server.ctx, &desc, 0, NULL);
            ok(FAILED(status) && status != SEC_E_INCOMPLETE_MESSAGE, "Decrypt of zeros returned %08lx\n", status);
        }
        free(buf);
    }
    tc_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Mangled records                                                          */

static void test_bad_records(enum tc_proto proto)
{
    struct tc_conn c;
    SECURITY_STATUS status;
    BYTE saved[1024], out[64];
    ULONG len, n, i;

    if (!established(&c, proto)) return;

    /* Truncated: every prefix of a record is incomplete, and reading it changes nothing. */
    ok(tc_send(&c, &c.client, message, sizeof(message)) == SEC_E_OK, "Encrypt failed\n");
    len = c.server.in_len;
    memcpy(saved, c.server.in, len);
    for (i = 0; i < len; i += (i < 8 ? 1 : 7))
    {
        SecBuffer bufs[4];
        SecBufferDesc desc;
        ULONG j, missing = 0;

        init_desc(&desc, bufs, 4);
        bufs[0].BufferType = SECBUFFER_DATA;
        bufs[0].cbBuffer = i;
        bufs[0].pvBuffer = c.server.in;
        status = DecryptMessage(&c.server.ctx, &desc, 0, NULL);
        ok(status == SEC_E_INCOMPLETE_MESSAGE, "prefix of %lu bytes: %08lx\n", i, status);
        for (j = 0; j < 4; j++) if (bufs[j].BufferType == SECBUFFER_MISSING) missing = bufs[j].cbBuffer;
        ok(missing >= 1 && missing <= len - i + (i < 5 ? 5 : 0), "prefix of %lu bytes: missing %lu\n", i, missing);
        ok(!memcmp(c.server.in, saved, len), "prefix of %lu bytes: input modified\n", i);
    }
    n = sizeof(out);
    status = tc_recv_n(&c.server, c.server.in_len, out, &n);
    ok(status == SEC_E_OK && n == sizeof(message), "whole record after prefixes: %08lx, %lu bytes\n", status, n);

    /* Replayed: the same record twice fails authentication the second time. */
    ok(tc_send(&c, &c.client, message, sizeof(message)) == SEC_E_OK, "Encrypt failed\n");
    len = c.server.in_len;
    memcpy(saved, c.server.in, len);
    n = sizeof(out);
    status = tc_recv_n(&c.server, len, out, &n);
    ok(status == SEC_E_OK, "first copy: %08lx\n", status);
    memcpy(c.server.in, saved, len);
    c.server.in_len = len;
    n = sizeof(out);
    status = tc_recv_n(&c.server, len, out, &n);
    ok(status == SEC_E_DECRYPT_FAILURE || broken(status == SEC_E_MESSAGE_ALTERED),
       "replayed record: %08lx\n", status);
    ok(n == 0, "replayed record gave %lu bytes\n", n);
    /* After an authentication failure the context is dead but deletable. */
    n = sizeof(out);
    status = tc_recv_n(&c.server, len, out, &n);
    ok(FAILED(status), "after a failure: %08lx\n", status);
    tc_free(&c);

    /* Corrupted: each flipped byte of the body is caught. */
    for (i = 5; i < 40; i += 11)
    {
        if (!established(&c, proto)) return;
        ok(tc_send(&c, &c.client, message, sizeof(message)) == SEC_E_OK, "Encrypt failed\n");
        c.server.in[i % c.server.in_len] ^= 0x40;
        n = sizeof(out);
        status = tc_recv_n(&c.server, c.server.in_len, out, &n);
        ok(status == SEC_E_DECRYPT_FAILURE || broken(status == SEC_E_MESSAGE_ALTERED),
           "byte %lu flipped: %08lx\n", i, status);
        ok(n == 0, "byte %lu flipped: %lu bytes of plaintext\n", i, n);
        tc_free(&c);
    }

    /* Over the limit: a record claiming more than 2^14 + 2048 bytes (any version) and one
     * claiming 2^14 + 257 (over TLS 1.3's ciphertext limit) are refused without waiting
     * for their bodies. */
    if (!established(&c, proto)) return;
    {
        static BYTE oversized[16384 + 2048 + 6];
        SecBuffer bufs[4];
        SecBufferDesc desc;
        ULONG body = 16384 + 2048 + 1;

        memset(oversized, 0x42, sizeof(oversized));
        oversized[0] = 23;
        oversized[1] = 3;
        oversized[2] = 3;
        oversized[3] = body >> 8;
        oversized[4] = body & 0xff;
        init_desc(&desc, bufs, 4);
        bufs[0].BufferType = SECBUFFER_DATA;
        bufs[0].cbBuffer = 5 + body;
        bufs[0].pvBuffer = oversized;
        status = DecryptMessage(&c.server.ctx, &desc, 0, NULL);
        ok(FAILED(status) && status != SEC_E_INCOMPLETE_MESSAGE && status != SEC_E_INTERNAL_ERROR,
           "record of %lu bytes: %08lx\n", body, status);
        tc_free(&c);

        if (!established(&c, proto)) return;
        body = 16384 + 257;
        oversized[3] = body >> 8;
        oversized[4] = body & 0xff;
        init_desc(&desc, bufs, 4);
        bufs[0].BufferType = SECBUFFER_DATA;
        bufs[0].cbBuffer = 5 + body;
        bufs[0].pvBuffer = oversized;
        status = DecryptMessage(&c.server.ctx, &desc, 0, NULL);
        ok(FAILED(status) && status != SEC_E_INCOMPLETE_MESSAGE && status != SEC_E_INTERNAL_ERROR,
           "record of %lu bytes: %08lx\n", body, status);
        ok(DeleteSecurityContext(&c.server.ctx) == SEC_E_OK, "DeleteSecurityContext failed\n");
        c.server.have_ctx = FALSE;
        tc_free(&c);
    }

    /* Garbage that is not TLS at all. */
    if (!established(&c, proto)) return;
    memcpy(c.server.in, "GET / HTTP/1.1\r\n\r\n", 18);
    c.server.in_len = 18;
    n = sizeof(out);
    status = tc_recv_n(&c.server, c.server.in_len, out, &n);
    ok(status == SEC_E_INVALID_TOKEN || broken(status == SEC_E_DECRYPT_FAILURE), "plain HTTP: %08lx\n", status);
    tc_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Handshake abuse                                                          */

/* The client's first flight re-cut into records of `piece` handshake bytes each. */
static ULONG fragment_hello(const BYTE *rec, ULONG len, ULONG piece, BYTE *out)
{
    ULONG body = (rec[3] << 8) | rec[4], pos = 0, n = 0;

    if (len < 5 + body) return 0;
    while (pos < body)
    {
        ULONG take = min(piece, body - pos);
        out[n++] = 22;
        out[n++] = rec[1];
        out[n++] = rec[2];
        out[n++] = take >> 8;
        out[n++] = take & 0xff;
        memcpy(out + n, rec + 5 + pos, take);
        n += take;
        pos += take;
    }
    return n;
}

static void test_split_handshake(void)
{
    static const ULONG pieces[] = { 1, 3, 64 };
    struct tc_conn c;
    SECURITY_STATUS status;
    BYTE *split = malloc(TC_FLIGHT);
    ULONG i, n;

    for (i = 0; i < ARRAY_SIZE(pieces); i++)
    {
        tc_init(&c, &client_cred, &server_cred);
        status = tc_step(&c.client, &c.server);
        ok(status == SEC_I_CONTINUE_NEEDED, "ISC returned %08lx\n", status);
        n = fragment_hello(c.server.in, c.server.in_len, pieces[i], split);
        ok(n > 0 && n <= TC_FLIGHT, "could not re-cut the ClientHello\n");
        if (n && n <= TC_FLIGHT)
        {
            memcpy(c.server.in, split, n);
            c.server.in_len = n;
        }
        status = tc_handshake(&c);
        ok(status == SEC_E_OK, "ClientHello in %lu-byte records: handshake returned %08lx\n", pieces[i], status);
        if (status == SEC_E_OK) check_still_usable(&c, "split ClientHello");
        tc_free(&c);
    }
    free(split);
}

/* The peer stops after any number of bytes of its flight: the context waits (incomplete),
 * never spins, and is deletable at every point. */
static void test_abandoned_handshake(void)
{
    struct tc_conn c;
    SECURITY_STATUS status;
    ULONG cut, flight;
    int i;

    for (cut = 0; cut < 600; cut += 37)
    {
        tc_init(&c, &client_cred, &server_cred);
        status = tc_step(&c.client, &c.server);
        ok(status == SEC_I_CONTINUE_NEEDED, "ISC returned %08lx\n", status);
        status = tc_step(&c.server, &c.client);
        ok(status == SEC_I_CONTINUE_NEEDED, "ASC returned %08lx\n", status);
        flight = c.client.in_len;
        if (cut < flight)
        {
            ULONG before;

            c.client.in_len = cut;
            before = c.server.in_len;
            status = tc_step(&c.client, &c.server);
            /* Whole records before the cut may be read (CONTINUE_NEEDED, the partial one as
             * EXTRA); nothing can be answered yet either way. */
            ok(status == SEC_E_INCOMPLETE_MESSAGE || status == SEC_I_CONTINUE_NEEDED,
               "server flight cut at %lu of %lu: %08lx\n", cut, flight, status);
            /* At most TLS 1.3's middlebox-compatibility change_cipher_spec (RFC 8446, D.4). */
            ok(c.server.in_len == before || (c.server.in_len == before + 6 && c.server.in[before] == 20),
               "server flight cut at %lu: the client answered %lu bytes\n", cut, c.server.in_len - before);
            /* Reading on through the whole records ends at the partial one, within bounds. */
            for (i = 0; i < 20 && status == SEC_I_CONTINUE_NEEDED && c.client.in_len; i++)
                status = tc_step(&c.client, &c.server);
            ok(status == SEC_E_INCOMPLETE_MESSAGE || (status == SEC_I_CONTINUE_NEEDED && !c.client.in_len),
               "rest of the flight cut at %lu: %08lx after %d calls\n", cut, status, i);
        }
        /* Nobody sends more: both sides are deleted mid-handshake. */
        ok(DeleteSecurityContext(&c.client.ctx) == SEC_E_OK, "client context not deletable at %lu\n", cut);
        ok(DeleteSecurityContext(&c.server.ctx) == SEC_E_OK, "server context not deletable at %lu\n", cut);
        c.client.have_ctx = c.server.have_ctx = FALSE;
        tc_free(&c);
    }
}

/* InitializeSecurityContext again and again on an established context (what a caller does
 * for renegotiation): bounded, and the context keeps working. */
static void test_renegotiation_loop(void)
{
    struct tc_conn c;
    SECURITY_STATUS status, first = 0, expect = 0;
    int i;

    if (!established(&c, TC_TLS12)) return;
    for (i = 0; i < 200; i++)
    {
        SecBuffer out = { 0, SECBUFFER_TOKEN, NULL };
        SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out };
        SecBuffer in = { 0, SECBUFFER_EMPTY, NULL };
        SecBufferDesc in_desc = { SECBUFFER_VERSION, 1, &in };
        ULONG attrs;

        status = InitializeSecurityContextW(&client_cred, &c.client.ctx, (WCHAR *)L"localhost", TC_CLIENT_REQ, 0, 0,
                                            &in_desc, 0, NULL, &out_desc, &attrs, NULL);
        /* A new handshake (the seed: a second call asks for re-authentication) waits for
         * the server after its ClientHello; a refusal stays a refusal. */
        if (!i) expect = first = status;
        else if (i == 1 && first == SEC_I_CONTINUE_NEEDED) expect = SEC_E_INCOMPLETE_MESSAGE;
        ok(status == expect, "call %d returned %08lx, expected %08lx (the first %08lx)\n", i, status, expect, first);
        if (out.pvBuffer) FreeContextBuffer(out.pvBuffer);
        if (status != expect) break;
    }
    /* Whatever the answer, later calls without input repeat it, and the application data
     * path survives when nothing was sent to the peer. */
    ok(first != SEC_E_INTERNAL_ERROR, "renegotiation request returned %08lx\n", first);
    if (first != SEC_I_CONTINUE_NEEDED) check_still_usable(&c, "renegotiation loop");
    tc_free(&c);
}

/* ------------------------------------------------------------------------ */
/* Security properties of what we send                                      */

struct hello
{
    ULONG legacy_version;
    const BYTE *suites;
    ULONG suites_len;
    const BYTE *exts;
    ULONG exts_len;
};

static ULONG be16(const BYTE *p)
{
    return (p[0] << 8) | p[1];
}

static BOOL parse_client_hello(const BYTE *rec, ULONG len, struct hello *h)
{
    const BYTE *p = rec + 9, *end;
    ULONG n;

    if (len < 9 + 38 || rec[0] != 22 || rec[5] != 1) return FALSE;
    end = rec + 5 + ((rec[3] << 8) | rec[4]);
    if (end > rec + len) return FALSE;
    h->legacy_version = be16(p);
    p += 2 + 32;
    n = *p++;
    p += n;                                         /* session id */
    if (p + 2 > end) return FALSE;
    h->suites_len = be16(p);
    h->suites = p + 2;
    p += 2 + h->suites_len;
    if (p + 1 > end) return FALSE;
    n = *p++;
    p += n;                                         /* compression methods */
    if (p + 2 > end) return FALSE;
    h->exts_len = be16(p);
    h->exts = p + 2;
    return h->exts + h->exts_len <= end;
}

static const BYTE *find_ext(const struct hello *h, ULONG type, ULONG *len)
{
    const BYTE *p = h->exts, *end = h->exts + h->exts_len;

    while (p + 4 <= end)
    {
        ULONG t = be16(p), n = be16(p + 2);
        if (p + 4 + n > end) return NULL;
        if (t == type)
        {
            *len = n;
            return p + 4;
        }
        p += 4 + n;
    }
    return NULL;
}

/* NULL, export, RC4 and anonymous suites (IANA TLS Cipher Suites registry). */
static BOOL weak_suite(ULONG id)
{
    static const USHORT weak[] =
    {
        0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0008, 0x000b, 0x000e, 0x0011, 0x0014,
        0x0017, 0x0018, 0x0019, 0x001a, 0x001b, 0x0020, 0x0024, 0x0026, 0x0027, 0x0028, 0x0029, 0x002a,
        0x002b, 0x002c, 0x002d, 0x002e, 0x0034, 0x003a, 0x003b, 0x0046, 0x0060, 0x0061, 0x0062, 0x0063,
        0x0064, 0x0065, 0x006c, 0x006d, 0x0089, 0x008a, 0x008e, 0x0092, 0x009b, 0x00a6, 0x00a7, 0x00b0,
        0x00b1, 0x00b4, 0x00b5, 0x00b8, 0x00b9, 0x00bf, 0x00c5, 0xc001, 0xc002, 0xc006, 0xc007, 0xc00b,
        0xc00c, 0xc010, 0xc011, 0xc015, 0xc016, 0xc017, 0xc018, 0xc019, 0xc033, 0xc039, 0xc03a, 0xc03b,
        0xc046, 0xc047, 0xc05a, 0xc05b, 0xc084, 0xc085,
    };
    ULONG i;
    for (i = 0; i < ARRAY_SIZE(weak); i++) if (weak[i] == id) return TRUE;
    return FALSE;
}

static void check_client_hello(enum tc_proto proto)
{
    struct tc_conn c;
    struct hello h;
    const BYTE *ext;
    ULONG i, len, weak = 0, scsv = 0;
    SECURITY_STATUS status;
    CredHandle cred;

    ok(tc_acquire(FALSE, proto, NULL, &cred) == SEC_E_OK, "AcquireCredentialsHandle failed\n");
    tc_init(&c, &cred, &server_cred);
    status = tc_step(&c.client, &c.server);
    ok(status == SEC_I_CONTINUE_NEEDED, "ISC returned %08lx\n", status);
    ok(parse_client_hello(c.server.in, c.server.in_len, &h), "proto %d: ClientHello does not parse\n", proto);
    if (parse_client_hello(c.server.in, c.server.in_len, &h))
    {
        /* Never SSL 3: the lowest version we announce is TLS 1.0 (0x0301). */
        ok(h.legacy_version >= 0x0301, "proto %d: legacy_version %#lx\n", proto, h.legacy_version);
        ok(be16(c.server.in + 1) >= 0x0301, "proto %d: record version %#lx\n", proto, be16(c.server.in + 1));
        for (i = 0; i + 1 < h.suites_len; i += 2)
        {
            ULONG id = be16(h.suites + i);
            if (weak_suite(id)) weak++, trace("weak suite %#06lx offered\n", id);
            if (id == 0x00ff) scsv++;
        }
        ok(!weak, "proto %d: %lu NULL/export/RC4/anonymous suites offered\n", proto, weak);
        /* Secure renegotiation (RFC 5746): the SCSV or the renegotiation_info extension. */
        ok(scsv || find_ext(&h, 0xff01, &len), "proto %d: no secure renegotiation indication\n", proto);
        if ((ext = find_ext(&h, 43, &len)))
        {
            for (i = 1; i + 1 < len; i += 2)
                ok(be16(ext + i) != 0x0300 && be16(ext + i) != 0x0002, "proto %d: supported_versions offers %#lx\n",
                   proto, be16(ext + i));
        }
        else ok(proto == TC_TLS12, "proto %d: no supported_versions extension\n", proto);
    }
    tc_free(&c);
    FreeCredentialsHandle(&cred);
}

static void test_client_hello(void)
{
    check_client_hello(TC_DEFAULT);
    check_client_hello(TC_TLS12);
    check_client_hello(TC_TLS13);
}

/* A TLS 1.3-capable client must refuse a TLS 1.2 ServerHello whose random ends in the
 * downgrade sentinel (RFC 8446, 4.1.3). A man in the middle strips TLS 1.3 from the
 * ClientHello's supported_versions; our server then picks TLS 1.2 and must set the
 * sentinel; our client must stop there. */
static void test_downgrade_sentinel(void)
{
    static const BYTE sentinel12[8] = { 0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01 };
    struct tc_conn c;
    struct hello h;
    const BYTE *ext;
    ULONG i, len, rewritten = 0;
    SECURITY_STATUS status;

    tc_init(&c, &client_cred, &server_cred);
    status = tc_step(&c.client, &c.server);
    ok(status == SEC_I_CONTINUE_NEEDED, "ISC returned %08lx\n", status);
    if (!parse_client_hello(c.server.in, c.server.in_len, &h) || !(ext = find_ext(&h, 43, &len)))
    {
        skip("no TLS 1.3 offer in the ClientHello\n");
        tc_free(&c);
        return;
    }
    for (i = 1; i + 1 < len; i += 2)
    {
        BYTE *v = (BYTE *)ext + i;
        if (be16(v) == 0x0304)
        {
            v[1] = 0x03;  /* 0x0304 -> 0x0303 */
            rewritten++;
        }
    }
    ok(rewritten == 1, "TLS 1.3 offered %lu times\n", rewritten);

    status = tc_step(&c.server, &c.client);
    ok(status == SEC_I_CONTINUE_NEEDED, "ASC on the stripped ClientHello returned %08lx\n", status);
    /* ServerHello: record header 5, handshake header 4, version 2, then the random. */
    ok(c.client.in_len > 5 + 4 + 2 + 32 && c.client.in[5] == 2, "no ServerHello\n");
    if (c.client.in_len > 5 + 4 + 2 + 32)
    {
        ok(be16(c.client.in + 9) == 0x0303, "server picked version %#lx\n", be16(c.client.in + 9));
        ok(!memcmp(c.client.in + 11 + 24, sentinel12, 8), "server random lacks the TLS 1.2 downgrade sentinel\n");
    }
    status = tc_step(&c.client, &c.server);
    ok(status == SEC_E_ILLEGAL_MESSAGE || (FAILED(status) && status != SEC_E_INCOMPLETE_MESSAGE),
       "client accepted a downgraded ServerHello: %08lx\n", status);
    ok(!c.client.done, "client finished a downgraded handshake\n");
    if (c.client.have_ctx)
        ok(DeleteSecurityContext(&c.client.ctx) == SEC_E_OK, "client context not deletable\n");
    c.client.have_ctx = FALSE;
    tc_free(&c);
}

START_TEST(hostile)
{
    cert = pair_import_server_cert(&cert_store);
    ok(cert != NULL, "cannot import the test certificate\n");
    if (!cert) return;
    ok(tc_acquire(FALSE, TC_DEFAULT, NULL, &client_cred) == SEC_E_OK, "client credential failed\n");
    ok(tc_acquire(TRUE, TC_DEFAULT, cert, &server_cred) == SEC_E_OK, "server credential failed\n");
    ok(tc_acquire(FALSE, TC_DEFAULT, NULL, &proto_creds[TC_DEFAULT]) == SEC_E_OK, "client credential failed\n");
    ok(tc_acquire(FALSE, TC_TLS12, NULL, &proto_creds[TC_TLS12]) == SEC_E_OK, "TLS 1.2 credential failed\n");
    ok(tc_acquire(FALSE, TC_TLS13, NULL, &proto_creds[TC_TLS13]) == SEC_E_OK, "TLS 1.3 credential failed\n");

    test_bad_handles();
    test_bad_buffers();
    test_bad_records(TC_TLS12);
    test_bad_records(TC_TLS13);
    test_split_handshake();
    test_abandoned_handshake();
    test_renegotiation_loop();
    test_client_hello();
    test_downgrade_sentinel();

    ok(FreeCredentialsHandle(&client_cred) == SEC_E_OK, "FreeCredentialsHandle failed\n");
    ok(FreeCredentialsHandle(&server_cred) == SEC_E_OK, "FreeCredentialsHandle failed\n");
    FreeCredentialsHandle(&proto_creds[TC_DEFAULT]);
    FreeCredentialsHandle(&proto_creds[TC_TLS12]);
    FreeCredentialsHandle(&proto_creds[TC_TLS13]);
    pair_free_server_cert(cert, cert_store);
}
