/*
 * Conformance tests: Schannel's record layer in stream mode (EncryptMessage, DecryptMessage),
 * closing (close_notify, ApplyControlToken) and TLS 1.3 post-handshake messages, between an
 * in-memory client and server of the DLL under test (tlspair.c).
 */

#include <string.h>

#include "tlspair.h"
#include "wine/test.h"

#ifndef TLS1_ALERT_WARNING
#define TLS1_ALERT_WARNING 1
#define TLS1_ALERT_FATAL   2
#endif
#ifndef TLS1_ALERT_HANDSHAKE_FAILURE
#define TLS1_ALERT_HANDSHAKE_FAILURE 40
#endif
#ifndef SSL_SESSION_ENABLE_RECONNECTS
#define SSL_SESSION_ENABLE_RECONNECTS  1
#define SSL_SESSION_DISABLE_RECONNECTS 2
#endif

static const char *mode_name(enum pair_mode mode)
{
    return mode == PAIR_TLS12 ? "TLS 1.2" : "TLS 1.3";
}

static void fill(BYTE *data, ULONG size, BYTE seed)
{
    ULONG i;
    for (i = 0; i < size; i++) data[i] = (BYTE)(seed + i * 7 + i / 251);
}

/* EncryptMessage writes header, data and trailer where the caller's buffers are, sized as
 * STREAM_SIZES says, and refuses more than cbMaximumMessage. */
static void test_encrypt(struct pair *pair)
{
    const SecPkgContext_StreamSizes *sizes = &pair->client_sizes;
    static BYTE data[16384 + 1];
    BYTE *buf, *rec;
    SecBuffer bufs[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
    SECURITY_STATUS status;
    ULONG total;

    ok(sizes->cbMaximumMessage == 16384, "cbMaximumMessage %lu\n", sizes->cbMaximumMessage);
    ok(sizes->cBuffers == 4, "cBuffers %lu\n", sizes->cBuffers);
    if (pair->mode == PAIR_TLS13)
    {
        ok(sizes->cbHeader == 5, "TLS 1.3 cbHeader %lu\n", sizes->cbHeader);
        ok(sizes->cbTrailer == 17, "TLS 1.3 cbTrailer %lu\n", sizes->cbTrailer);
    }
    total = sizes->cbHeader + sizes->cbMaximumMessage + 1 + sizes->cbTrailer;
    buf = HeapAlloc(GetProcessHeap(), 0, total);
    fill(data, sizeof(data), 1);

    /* The largest record: exactly cbMaximumMessage bytes. */
    memcpy(buf + sizes->cbHeader, data, sizes->cbMaximumMessage);
    bufs[0].BufferType = SECBUFFER_STREAM_HEADER;
    bufs[0].cbBuffer = sizes->cbHeader;
    bufs[0].pvBuffer = buf;
    bufs[1].BufferType = SECBUFFER_DATA;
    bufs[1].cbBuffer = sizes->cbMaximumMessage;
    bufs[1].pvBuffer = buf + sizes->cbHeader;
    bufs[2].BufferType = SECBUFFER_STREAM_TRAILER;
    bufs[2].cbBuffer = sizes->cbTrailer;
    bufs[2].pvBuffer = buf + sizes->cbHeader + sizes->cbMaximumMessage;
    bufs[3].BufferType = SECBUFFER_EMPTY;
    bufs[3].cbBuffer = 0;
    bufs[3].pvBuffer = NULL;
    status = EncryptMessage(&pair->client.ctx, 0, &desc, 0);
    ok(status == SEC_E_OK, "%s: EncryptMessage of cbMaximumMessage bytes: %08lx\n", mode_name(pair->mode), status);
    ok(bufs[0].BufferType == SECBUFFER_STREAM_HEADER && bufs[0].cbBuffer == sizes->cbHeader,
       "header: type %lu size %lu\n", bufs[0].BufferType, bufs[0].cbBuffer);
    ok(bufs[1].BufferType == SECBUFFER_DATA && bufs[1].cbBuffer == sizes->cbMaximumMessage,
       "data: type %lu size %lu\n", bufs[1].BufferType, bufs[1].cbBuffer);
    ok(bufs[2].BufferType == SECBUFFER_STREAM_TRAILER && bufs[2].cbBuffer && bufs[2].cbBuffer <= sizes->cbTrailer,
       "trailer: type %lu size %lu of %lu\n", bufs[2].BufferType, bufs[2].cbBuffer, sizes->cbTrailer);
    ok(bufs[0].pvBuffer == buf && bufs[1].pvBuffer == buf + sizes->cbHeader, "buffers moved\n");
    rec = buf;
    ok(rec[0] == 0x17 && rec[1] == 3 && rec[2] == 3, "record starts %02x %02x %02x\n", rec[0], rec[1], rec[2]);
    ok(((rec[3] << 8) | rec[4]) + 5 == bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer,
       "record length %u, buffers %lu\n", (rec[3] << 8) | rec[4],
       bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer);
    ok(memcmp(buf + sizes->cbHeader, data, 64), "plaintext left in place\n");

    /* The server reads it back. */
    if (status == SEC_E_OK)
    {
        ULONG len = bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer;
        SecBuffer dbufs[4];
        SecBufferDesc ddesc;

        pair_init_decrypt(&ddesc, dbufs, buf, len);
        status = DecryptMessage(&pair->server.ctx, &ddesc, 0, NULL);
        ok(status == SEC_E_OK, "DecryptMessage of the largest record: %08lx\n", status);
        ok(dbufs[1].BufferType == SECBUFFER_DATA && dbufs[1].cbBuffer == sizes->cbMaximumMessage
           && !memcmp(dbufs[1].pvBuffer, data, sizes->cbMaximumMessage), "largest record: wrong plaintext\n");
    }

    /* One byte more is refused. */
    bufs[0].BufferType = SECBUFFER_STREAM_HEADER;
    bufs[0].cbBuffer = sizes->cbHeader;
    bufs[1].BufferType = SECBUFFER_DATA;
    bufs[1].cbBuffer = sizes->cbMaximumMessage + 1;
    bufs[2].BufferType = SECBUFFER_STREAM_TRAILER;
    bufs[2].cbBuffer = sizes->cbTrailer;
    bufs[2].pvBuffer = buf + sizes->cbHeader + sizes->cbMaximumMessage + 1;
    status = EncryptMessage(&pair->client.ctx, 0, &desc, 0);
    /* Observed on Windows 10/11 (e.g. vlang/v#26681): 0x80090329. */
    ok(status == SEC_E_ENCRYPT_FAILURE, "EncryptMessage of cbMaximumMessage + 1 bytes: %08lx\n", status);

    /* Without a header buffer. */
    bufs[0].BufferType = SECBUFFER_EMPTY;
    bufs[1].cbBuffer = 10;
    status = EncryptMessage(&pair->client.ctx, 0, &desc, 0);
    ok(status == SEC_E_INVALID_TOKEN, "EncryptMessage without STREAM_HEADER: %08lx\n", status);
    HeapFree(GetProcessHeap(), 0, buf);
}

/* Two records in one input: the first call returns STREAM_HEADER, DATA, STREAM_TRAILER and
 * EXTRA in buffers 0-3, pointing into the input; the second call the second record. Then a
 * partial record, and a tampered one. */
static void test_decrypt(struct pair *pair)
{
    struct pair_side *server = &pair->server;
    static const char msg1[] = "first record", msg2[] = "second, longer record of application data";
    SecBuffer bufs[4], *missing = NULL;
    SecBufferDesc desc;
    SECURITY_STATUS status;
    ULONG len1, len2, i;
    BYTE *base = server->in;

    server->in_len = 0;
    status = pair_encrypt(&pair->client, server, &pair->client_sizes, msg1, sizeof(msg1), &len1);
    ok(status == SEC_E_OK, "encrypt 1: %08lx\n", status);
    status = pair_encrypt(&pair->client, server, &pair->client_sizes, msg2, sizeof(msg2), &len2);
    ok(status == SEC_E_OK, "encrypt 2: %08lx\n", status);

    pair_init_decrypt(&desc, bufs, base, len1 + len2);
    status = DecryptMessage(&server->ctx, &desc, 0, NULL);
    ok(status == SEC_E_OK, "%s: DecryptMessage 1: %08lx\n", mode_name(pair->mode), status);
    ok(bufs[0].BufferType == SECBUFFER_STREAM_HEADER && bufs[0].pvBuffer == base
       && bufs[0].cbBuffer == pair->client_sizes.cbHeader,
       "buffer 0: type %lu, %p (base %p), size %lu\n", bufs[0].BufferType, bufs[0].pvBuffer, base, bufs[0].cbBuffer);
    ok(bufs[1].BufferType == SECBUFFER_DATA && bufs[1].cbBuffer == sizeof(msg1)
       && bufs[1].pvBuffer == base + bufs[0].cbBuffer && !memcmp(bufs[1].pvBuffer, msg1, sizeof(msg1)),
       "buffer 1: type %lu, offset %Id, size %lu\n", bufs[1].BufferType, (BYTE *)bufs[1].pvBuffer - base,
       bufs[1].cbBuffer);
    ok(bufs[2].BufferType == SECBUFFER_STREAM_TRAILER
       && bufs[2].pvBuffer == base + bufs[0].cbBuffer + bufs[1].cbBuffer
       && bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer == len1,
       "buffer 2: type %lu, size %lu\n", bufs[2].BufferType, bufs[2].cbBuffer);
    ok(bufs[3].BufferType == SECBUFFER_EXTRA && bufs[3].cbBuffer == len2,
       "buffer 3: type %lu, size %lu (second record %lu)\n", bufs[3].BufferType, bufs[3].cbBuffer, len2);
    ok(bufs[3].pvBuffer == base + len1 || broken(!bufs[3].pvBuffer),
       "EXTRA at offset %Id\n", (BYTE *)bufs[3].pvBuffer - base);

    pair_init_decrypt(&desc, bufs, base + len1, len2);
    status = DecryptMessage(&server->ctx, &desc, 0, NULL);
    ok(status == SEC_E_OK, "DecryptMessage 2: %08lx\n", status);
    ok(bufs[1].BufferType == SECBUFFER_DATA && bufs[1].cbBuffer == sizeof(msg2)
       && !memcmp(bufs[1].pvBuffer, msg2, sizeof(msg2)), "second record: type %lu size %lu\n",
       bufs[1].BufferType, bufs[1].cbBuffer);
    ok(bufs[3].BufferType == SECBUFFER_EMPTY, "buffer 3 type %lu after the last record\n", bufs[3].BufferType);

    /* A partial record: SEC_E_INCOMPLETE_MESSAGE with SECBUFFER_MISSING, nothing consumed. */
    server->in_len = 0;
    status = pair_encrypt(&pair->client, server, &pair->client_sizes, msg1, sizeof(msg1), &len1);
    ok(status == SEC_E_OK, "encrypt 3: %08lx\n", status);
    pair_init_decrypt(&desc, bufs, base, len1 - 3);
    status = DecryptMessage(&server->ctx, &desc, 0, NULL);
    ok(status == SEC_E_INCOMPLETE_MESSAGE, "partial record: %08lx\n", status);
    for (i = 0; i < 4; i++) if (bufs[i].BufferType == SECBUFFER_MISSING) missing = &bufs[i];
    ok(missing && missing->cbBuffer == 3, "SECBUFFER_MISSING %lu (index %Id)\n", missing ? missing->cbBuffer : 0,
       missing ? missing - bufs : -1);
    pair_init_decrypt(&desc, bufs, base, 2);
    status = DecryptMessage(&server->ctx, &desc, 0, NULL);
    ok(status == SEC_E_INCOMPLETE_MESSAGE, "two bytes: %08lx\n", status);
    /* The whole record still decrypts: nothing was consumed. */
    pair_init_decrypt(&desc, bufs, base, len1);
    status = DecryptMessage(&server->ctx, &desc, 0, NULL);
    ok(status == SEC_E_OK && bufs[1].cbBuffer == sizeof(msg1) && !memcmp(bufs[1].pvBuffer, msg1, sizeof(msg1)),
       "record after SEC_E_INCOMPLETE_MESSAGE: %08lx, %lu bytes\n", status, bufs[1].cbBuffer);
}

/* A record whose ciphertext was changed is refused; the connection is then unusable. */
static void test_tampered(enum pair_mode mode)
{
    static const char msg[] = "tamper with me";
    struct pair pair;
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;
    ULONG len;

    if (!pair_open(&pair, mode)) goto done;
    pair_drain_client(&pair);
    pair.server.in_len = 0;
    status = pair_encrypt(&pair.client, &pair.server, &pair.client_sizes, msg, sizeof(msg), &len);
    ok(status == SEC_E_OK, "encrypt: %08lx\n", status);
    pair.server.in[len - 1] ^= 0x40;
    pair_init_decrypt(&desc, bufs, pair.server.in, len);
    status = DecryptMessage(&pair.server.ctx, &desc, 0, NULL);
    ok(status == SEC_E_DECRYPT_FAILURE || status == SEC_E_MESSAGE_ALTERED,
       "%s: tampered record: %08lx\n", mode_name(mode), status);
done:
    pair_close(&pair);
}

/* The server's close_notify (ApplyControlToken SCHANNEL_SHUTDOWN, then ASC with no input)
 * gives the client SEC_I_CONTEXT_EXPIRED. */
static void test_close_notify(struct pair *pair)
{
    DWORD type = SCHANNEL_SHUTDOWN;
    SecBuffer token = { sizeof(type), SECBUFFER_TOKEN, &type };
    SecBufferDesc desc = { SECBUFFER_VERSION, 1, &token };
    SecBuffer bufs[4];
    SecBufferDesc ddesc;
    SECURITY_STATUS status;
    ULONG extra, before;

    status = ApplyControlToken(&pair->server.ctx, &desc);
    ok(status == SEC_E_OK, "ApplyControlToken(SCHANNEL_SHUTDOWN): %08lx\n", status);
    pair->server.in_len = 0;
    pair->client.in_len = 0;
    before = pair->client.in_len;
    status = pair_step(&pair->server, &pair->client, &extra);
    ok(status == SEC_E_OK || status == SEC_I_CONTEXT_EXPIRED, "ASC after SCHANNEL_SHUTDOWN: %08lx\n", status);
    ok(pair->client.in_len - before >= 5 + 2, "close_notify token of %lu bytes\n", pair->client.in_len - before);

    pair_init_decrypt(&ddesc, bufs, pair->client.in, pair->client.in_len);
    status = DecryptMessage(&pair->client.ctx, &ddesc, 0, NULL);
    ok(status == SEC_I_CONTEXT_EXPIRED, "%s: DecryptMessage of close_notify: %08lx\n", mode_name(pair->mode), status);
    ok(bufs[1].BufferType == SECBUFFER_DATA && !bufs[1].cbBuffer, "close_notify: data type %lu size %lu\n",
       bufs[1].BufferType, bufs[1].cbBuffer);

    /* The client answers with its own close_notify. */
    status = ApplyControlToken(&pair->client.ctx, &desc);
    ok(status == SEC_E_OK, "client ApplyControlToken(SCHANNEL_SHUTDOWN): %08lx\n", status);
    pair->client.in_len = 0;
    status = pair_step(&pair->client, &pair->server, &extra);
    ok(status == SEC_E_OK || status == SEC_I_CONTEXT_EXPIRED, "ISC after SCHANNEL_SHUTDOWN: %08lx\n", status);
    ok(pair->server.in_len >= 7, "client close_notify of %lu bytes\n", pair->server.in_len);
}

/* SCHANNEL_ALERT: the next ASC returns the alert record. SCHANNEL_SESSION and unknown types. */
static void test_control_tokens(struct pair *pair)
{
    DWORD alert[3] = { SCHANNEL_ALERT, TLS1_ALERT_FATAL, TLS1_ALERT_HANDSHAKE_FAILURE };
    DWORD session[2] = { SCHANNEL_SESSION, SSL_SESSION_DISABLE_RECONNECTS };
    DWORD unknown = 0x1234;
    SecBuffer token;
    SecBufferDesc desc = { SECBUFFER_VERSION, 1, &token };
    SecBuffer bufs[4];
    SecBufferDesc ddesc;
    SECURITY_STATUS status;
    ULONG extra;

    token.BufferType = SECBUFFER_TOKEN;
    token.cbBuffer = sizeof(session);
    token.pvBuffer = session;
    status = ApplyControlToken(&pair->client.ctx, &desc);
    ok(status == SEC_E_OK, "SCHANNEL_SESSION disable: %08lx\n", status);
    session[1] = SSL_SESSION_ENABLE_RECONNECTS;
    status = ApplyControlToken(&pair->client.ctx, &desc);
    ok(status == SEC_E_OK, "SCHANNEL_SESSION enable: %08lx\n", status);

    token.cbBuffer = sizeof(unknown);
    token.pvBuffer = &unknown;
    status = ApplyControlToken(&pair->client.ctx, &desc);
    ok(status == SEC_E_UNSUPPORTED_FUNCTION, "unknown control token: %08lx\n", status);

    token.cbBuffer = sizeof(alert);
    token.pvBuffer = alert;
    status = ApplyControlToken(&pair->server.ctx, &desc);
    ok(status == SEC_E_OK, "SCHANNEL_ALERT: %08lx\n", status);
    pair->server.in_len = pair->client.in_len = 0;
    status = pair_step(&pair->server, &pair->client, &extra);
    ok(status == SEC_E_OK, "ASC after SCHANNEL_ALERT: %08lx\n", status);
    ok(pair->client.in_len >= 7, "alert token of %lu bytes\n", pair->client.in_len);
    if (pair->mode == PAIR_TLS12 && pair->client.in_len >= 7)
        ok(pair->client.in[0] == 0x15, "TLS 1.2 alert record type %u\n", pair->client.in[0]);
    pair_init_decrypt(&ddesc, bufs, pair->client.in, pair->client.in_len);
    status = DecryptMessage(&pair->client.ctx, &ddesc, 0, NULL);
    ok(FAILED(status), "%s: DecryptMessage of a fatal alert: %08lx\n", mode_name(pair->mode), status);
}

/* SCHANNEL_ALERT on a context still in its handshake: Windows takes it (the next call
 * returns the alert); ours refuses it with SEC_E_UNSUPPORTED_FUNCTION for now. */
static void test_alert_during_handshake(void)
{
    DWORD alert[3] = { SCHANNEL_ALERT, TLS1_ALERT_FATAL, TLS1_ALERT_HANDSHAKE_FAILURE };
    SecBuffer token, out_buf = { 0, SECBUFFER_TOKEN, NULL };
    SecBufferDesc desc = { SECBUFFER_VERSION, 1, &token }, out = { SECBUFFER_VERSION, 1, &out_buf };
    SECURITY_STATUS status;
    CredHandle cred;
    CtxtHandle ctx;
    ULONG attrs;

    status = pair_acquire(PAIR_TLS12, FALSE, 0, NULL, &cred);
    ok(status == SEC_E_OK, "client credential: %08lx\n", status);
    if (status != SEC_E_OK) return;
    status = InitializeSecurityContextW(&cred, NULL, (SEC_WCHAR *)L"localhost",
                                        ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_CONFIDENTIALITY | ISC_REQ_STREAM, 0, 0,
                                        NULL, 0, &ctx, &out, &attrs, NULL);
    ok(status == SEC_I_CONTINUE_NEEDED, "first ISC: %08lx\n", status);
    if (out_buf.pvBuffer) FreeContextBuffer(out_buf.pvBuffer);
    if (status == SEC_I_CONTINUE_NEEDED)
    {
        token.BufferType = SECBUFFER_TOKEN;
        token.cbBuffer = sizeof(alert);
        token.pvBuffer = alert;
        status = ApplyControlToken(&ctx, &desc);
        todo_wine ok(status == SEC_E_OK, "SCHANNEL_ALERT during the handshake: %08lx\n", status);
        ok(status == SEC_E_OK || status == SEC_E_UNSUPPORTED_FUNCTION, "unexpected status %08lx\n", status);
        ok(DeleteSecurityContext(&ctx) == SEC_E_OK, "DeleteSecurityContext failed\n");
    }
    FreeCredentialsHandle(&cred);
}

/* TLS 1.3 tickets: DecryptMessage returns SEC_I_RENEGOTIATE (SCH_CREDENTIALS) with the rest
 * of the input in EXTRA; ISC takes it and gives it back; application data that came in
 * the same input is not lost. */
static void test_post_handshake(void)
{
    static const char msg[] = "data behind the tickets";
    struct pair pair;
    unsigned int renegotiations = 0, i;
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;
    BOOL got_data = FALSE;
    ULONG len, extra;

    if (!pair_open(&pair, PAIR_TLS13)) goto done;
    ok(pair.client.in_len > 0, "no tickets after the TLS 1.3 handshake\n");
    status = pair_encrypt(&pair.server, &pair.client, &pair.server_sizes, msg, sizeof(msg), &len);
    ok(status == SEC_E_OK, "server encrypt: %08lx\n", status);
    for (i = 0; i < 16 && pair.client.in_len; i++)
    {
        pair_init_decrypt(&desc, bufs, pair.client.in, pair.client.in_len);
        status = DecryptMessage(&pair.client.ctx, &desc, 0, NULL);
        extra = bufs[3].BufferType == SECBUFFER_EXTRA ? bufs[3].cbBuffer : 0;
        if (status == SEC_E_OK && bufs[1].cbBuffer)
        {
            ok(!got_data, "data twice\n");
            ok(bufs[1].cbBuffer == sizeof(msg) && !memcmp(bufs[1].pvBuffer, msg, sizeof(msg)), "wrong data\n");
            got_data = TRUE;
        }
        memmove(pair.client.in, pair.client.in + pair.client.in_len - extra, extra);
        pair.client.in_len = extra;
        if (status == SEC_I_RENEGOTIATE)
        {
            ULONG before = pair.client.in_len;

            renegotiations++;
            ok(bufs[1].BufferType == SECBUFFER_DATA && !bufs[1].cbBuffer, "ticket record with %lu bytes of data\n",
               bufs[1].cbBuffer);
            status = pair_step(&pair.client, &pair.server, &extra);
            ok(status == SEC_E_OK, "ISC after SEC_I_RENEGOTIATE: %08lx\n", status);
            ok(pair.client.in_len == before, "ISC consumed %lu of %lu bytes of application records\n",
               before - pair.client.in_len, before);
        }
        else ok(status == SEC_E_OK, "DecryptMessage: %08lx\n", status);
    }
    ok(renegotiations >= 1, "no SEC_I_RENEGOTIATE for the TLS 1.3 tickets\n");
    ok(got_data, "application data behind the tickets was lost\n");
    trace("%u SEC_I_RENEGOTIATE\n", renegotiations);

    /* Both directions still work. */
    pair.server.in_len = 0;
    status = pair_encrypt(&pair.client, &pair.server, &pair.client_sizes, msg, sizeof(msg), &len);
    ok(status == SEC_E_OK, "client encrypt after the tickets: %08lx\n", status);
    pair_init_decrypt(&desc, bufs, pair.server.in, pair.server.in_len);
    status = DecryptMessage(&pair.server.ctx, &desc, 0, NULL);
    ok(status == SEC_E_OK && bufs[1].cbBuffer == sizeof(msg), "server decrypt: %08lx\n", status);
done:
    pair_close(&pair);
}

static void run(enum pair_mode mode)
{
    struct pair pair;

    if (!pair_open(&pair, mode)) goto done;
    pair_drain_client(&pair);
    test_encrypt(&pair);
    test_decrypt(&pair);
    test_close_notify(&pair);
done:
    pair_close(&pair);

    if (!pair_open(&pair, mode)) goto done2;
    pair_drain_client(&pair);
    test_control_tokens(&pair);
done2:
    pair_close(&pair);
    test_tampered(mode);
}

START_TEST(record)
{
    run(PAIR_TLS12);
    run(PAIR_TLS13);
    test_post_handshake();
    test_alert_during_handshake();
}
