/*
 * Schannel client conformance, failures and re-authentication:
 *  - the status InitializeSecurityContext returns for each fatal alert the server sends
 *    ("Schannel Error Codes for TLS and SSL Alerts");
 *  - the SECBUFFER_ALERT output buffer: on failure the alert for the peer goes there (the
 *    record bytes to send, as .NET's SslStream sends them) and the token stays empty, both
 *    with ISC_REQ_ALLOCATE_MEMORY and with the caller's own buffers;
 *  - an alert for the server when automatic validation refuses its certificate;
 *  - a second InitializeSecurityContext on an established context asks for
 *    re-authentication: a new handshake in TLS 1.2 (a ClientHello token, the server sees
 *    SEC_I_RENEGOTIATE), nothing to do in TLS 1.3, which has no renegotiation.
 *
 * Sources (Microsoft Learn): "InitializeSecurityContext (Schannel)" (pOutput and
 * SECBUFFER_ALERT, ISC_REQ_EXTENDED_ERROR, "the client may call InitializeSecurityContext
 * again after it completed successfully: this tells the package that re-authentication is
 * wanted"), "Schannel Error Codes for TLS and SSL Alerts", "Renegotiating an Schannel
 * Connection"; dotnet/runtime's SslStream (it sends the SECBUFFER_ALERT bytes when the
 * token is empty).
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <windef.h>
#include <winbase.h>
#include <winternl.h>
#include <wincrypt.h>
#define SECURITY_WIN32
#include <security.h>
#define SCHANNEL_USE_BLACKLISTS
#include <schannel.h>

#include "wine/test.h"

#include "tlspair.h"

#define FLIGHT_MAX 65536
#define CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | \
                    ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_EXTENDED_ERROR)
#define SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | \
                    ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM)

enum mode { MODE_TLS12, MODE_TLS13 };

static const char *mode_name(enum mode mode)
{
    return mode == MODE_TLS12 ? "TLS 1.2" : "TLS 1.3";
}

static SECURITY_STATUS acquire(enum mode mode, BOOL server, DWORD flags, PCCERT_CONTEXT cert, CredHandle *handle)
{
    return pair_acquire(mode == MODE_TLS12 ? PAIR_TLS12 : PAIR_TLS13, server, flags, cert, handle);
}

/* ------------------------------------------------------------------------ */
/* In-memory connection                                                     */

struct peer
{
    CredHandle cred;
    CtxtHandle ctx;
    BOOL have_ctx, done, server;
    BYTE in[FLIGHT_MAX];
    ULONG in_len;
};

/* What one client call handed out besides its status. */
struct client_out
{
    ULONG token_size, alert_size;
    BYTE alert[1024];
};

static void append(struct peer *peer, const void *data, ULONG size)
{
    if (!size || peer->in_len + size > sizeof(peer->in)) return;
    memcpy(peer->in + peer->in_len, data, size);
    peer->in_len += size;
}

static void consume(struct peer *self, SecBuffer *spare)
{
    ULONG extra = spare->BufferType == SECBUFFER_EXTRA ? min(spare->cbBuffer, self->in_len) : 0;

    memmove(self->in, self->in + self->in_len - extra, extra);
    self->in_len = extra;
}

/* One ISC (output: a token and a SECBUFFER_ALERT buffer, both allocated) or ASC call with
 * the peer's bytes; the token goes to the other side. */
static SECURITY_STATUS step(struct peer *self, struct peer *other, struct client_out *out)
{
    SecBuffer in_bufs[2], out_bufs[2];
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in_bufs }, out_desc = { SECBUFFER_VERSION, 2, out_bufs };
    SECURITY_STATUS status;
    ULONG attrs;

    in_bufs[0].BufferType = SECBUFFER_TOKEN;
    in_bufs[0].cbBuffer = self->in_len;
    in_bufs[0].pvBuffer = self->in;
    in_bufs[1].BufferType = SECBUFFER_EMPTY;
    in_bufs[1].cbBuffer = 0;
    in_bufs[1].pvBuffer = NULL;
    out_bufs[0].BufferType = SECBUFFER_TOKEN;
    out_bufs[0].cbBuffer = 0;
    out_bufs[0].pvBuffer = NULL;
    out_bufs[1].BufferType = SECBUFFER_ALERT;
    out_bufs[1].cbBuffer = 0;
    out_bufs[1].pvBuffer = NULL;
    if (self->server)
        status = AcceptSecurityContext(&self->cred, self->have_ctx ? &self->ctx : NULL, &in_desc, SERVER_REQ, 0,
                                       &self->ctx, &out_desc, &attrs, NULL);
    else
        status = InitializeSecurityContextW(&self->cred, self->have_ctx ? &self->ctx : NULL, (WCHAR *)L"localhost",
                                            CLIENT_REQ, 0, 0, self->have_ctx ? &in_desc : NULL, 0,
                                            self->have_ctx ? NULL : &self->ctx, &out_desc, &attrs, NULL);
    if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED)
    {
        if (self->have_ctx || self->server) consume(self, &in_bufs[1]);
        self->have_ctx = TRUE;
        self->done = status == SEC_E_OK;
    }
    if (out)
    {
        out->token_size = out_bufs[0].cbBuffer;
        out->alert_size = out_bufs[1].cbBuffer;
        if (out_bufs[1].pvBuffer && out_bufs[1].cbBuffer <= sizeof(out->alert))
            memcpy(out->alert, out_bufs[1].pvBuffer, out_bufs[1].cbBuffer);
    }
    if (out_bufs[0].pvBuffer)
    {
        append(other, out_bufs[0].pvBuffer, out_bufs[0].cbBuffer);
        FreeContextBuffer(out_bufs[0].pvBuffer);
    }
    if (out_bufs[1].pvBuffer) FreeContextBuffer(out_bufs[1].pvBuffer);
    return status;
}

/* Runs the handshake until both sides finished or one failed; returns the client's last
 * status (or the server's failure) and what the client's last call handed out. */
static SECURITY_STATUS handshake(struct peer *client, struct peer *server, struct client_out *out)
{
    SECURITY_STATUS status;
    int i;

    if ((status = step(client, server, out)) != SEC_I_CONTINUE_NEEDED) return status;
    for (i = 0; i < 16 && !(client->done && server->done); i++)
    {
        if (!server->done && server->in_len && FAILED(status = step(server, client, NULL))) return status;
        if (!client->done && client->in_len && FAILED(status = step(client, server, out))) return status;
    }
    return client->done && server->done ? SEC_E_OK : SEC_E_INTERNAL_ERROR;
}

/* ------------------------------------------------------------------------ */
/* Alerts from the server                                                   */

static const struct
{
    BYTE alert;
    SECURITY_STATUS status;
}
peer_alerts[] =
{
    { 10, SEC_E_ILLEGAL_MESSAGE },             /* unexpected_message */
    { 20, SEC_E_MESSAGE_ALTERED },             /* bad_record_mac */
    { 21, SEC_E_DECRYPT_FAILURE },             /* decryption_failed */
    { 22, SEC_E_ILLEGAL_MESSAGE },             /* record_overflow */
    { 30, SEC_E_MESSAGE_ALTERED },             /* decompression_failure */
    { 40, SEC_E_ILLEGAL_MESSAGE },             /* handshake_failure */
    { 42, SEC_E_CERT_UNKNOWN },                /* bad_certificate */
    { 43, SEC_E_CERT_UNKNOWN },                /* unsupported_certificate */
    { 44, CRYPT_E_REVOKED },                   /* certificate_revoked */
    { 45, SEC_E_CERT_EXPIRED },                /* certificate_expired */
    { 46, SEC_E_CERT_UNKNOWN },                /* certificate_unknown */
    { 47, SEC_E_ILLEGAL_MESSAGE },             /* illegal_parameter */
    { 48, SEC_E_UNTRUSTED_ROOT },              /* unknown_ca */
    { 49, SEC_E_LOGON_DENIED },                /* access_denied */
    { 50, SEC_E_ILLEGAL_MESSAGE },             /* decode_error */
    { 51, SEC_E_DECRYPT_FAILURE },             /* decrypt_error */
    { 60, SEC_E_ILLEGAL_MESSAGE },             /* export_restriction */
    { 70, SEC_E_UNSUPPORTED_FUNCTION },        /* protocol_version */
    { 71, SEC_E_ALGORITHM_MISMATCH },          /* insufficient_security */
    { 80, SEC_E_INTERNAL_ERROR },              /* internal_error */
    { 90, SEC_E_UNFINISHED_CONTEXT_DELETED },  /* user_canceled */
    { 100, SEC_E_ILLEGAL_MESSAGE },            /* no_renegotiation */
    { 110, SEC_E_ILLEGAL_MESSAGE },            /* unsupported_extension */
    { 115, SEC_E_ILLEGAL_MESSAGE },            /* unknown_psk_identity */
    { 120, SEC_E_APPLICATION_PROTOCOL_MISMATCH }, /* no_application_protocol (0x80090367) */
    { 86, SEC_E_ILLEGAL_MESSAGE },             /* inappropriate_fallback: the table's default */
    { 116, SEC_E_ILLEGAL_MESSAGE },            /* certificate_required: the table's default */
    { 200, SEC_E_ILLEGAL_MESSAGE },            /* unassigned: the table's default */
};

/* The server answers the ClientHello with a fatal alert (a plaintext alert record). */
static void test_peer_alerts(enum mode mode)
{
    struct client_out out;
    struct peer client, other;
    SECURITY_STATUS status;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(peer_alerts); i++)
    {
        const BYTE record[7] = { 21, 3, 3, 0, 2, 2, peer_alerts[i].alert };

        memset(&client, 0, sizeof(client));
        memset(&other, 0, sizeof(other));
        status = acquire(mode, FALSE, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS, NULL, &client.cred);
        if (status != SEC_E_OK)
        {
            win_skip("%s client credentials: %08lx\n", mode_name(mode), status);
            return;
        }
        status = step(&client, &other, NULL);
        ok(status == SEC_I_CONTINUE_NEEDED, "%s: first call returned %08lx\n", mode_name(mode), status);
        append(&client, record, sizeof(record));
        memset(&out, 0xcc, sizeof(out));
        status = step(&client, &other, &out);
        ok(status == peer_alerts[i].status, "%s, alert %u: got %08lx, expected %08lx\n", mode_name(mode),
           peer_alerts[i].alert, status, peer_alerts[i].status);
        /* Nothing to answer to a fatal alert. */
        ok(!out.token_size, "%s, alert %u: %lu byte token\n", mode_name(mode), peer_alerts[i].alert, out.token_size);
        ok(!out.alert_size, "%s, alert %u: %lu byte alert\n", mode_name(mode), peer_alerts[i].alert, out.alert_size);
        ok(DeleteSecurityContext(&client.ctx) == SEC_E_OK, "%s, alert %u: context not deletable\n", mode_name(mode),
           peer_alerts[i].alert);
        FreeCredentialsHandle(&client.cred);
    }
}

/* ------------------------------------------------------------------------ */
/* SECBUFFER_ALERT                                                          */

static const char not_tls[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

/* A response that is not TLS: SEC_E_INVALID_TOKEN (what curl users see when they reach a
 * plain HTTP port), and a fatal alert record for the peer in SECBUFFER_ALERT. */
static void test_alert_buffer(BOOL allocate)
{
    BYTE token_mem[4096], alert_mem[256];
    SecBuffer in_bufs[2], out_bufs[2], first;
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in_bufs }, out_desc = { SECBUFFER_VERSION, 2, out_bufs };
    SecBufferDesc first_desc = { SECBUFFER_VERSION, 1, &first };
    ULONG req = CLIENT_REQ & ~(allocate ? 0 : ISC_REQ_ALLOCATE_MEMORY), attrs;
    const char *how = allocate ? "allocated" : "caller's buffers";
    SECURITY_STATUS status;
    CredHandle cred;
    CtxtHandle ctx;
    BYTE *alert;

    status = acquire(MODE_TLS12, FALSE, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS, NULL, &cred);
    ok(status == SEC_E_OK, "AcquireCredentialsHandle: %08lx\n", status);
    if (status) return;
    first.BufferType = SECBUFFER_TOKEN;
    first.cbBuffer = allocate ? 0 : sizeof(token_mem);
    first.pvBuffer = allocate ? NULL : token_mem;
    status = InitializeSecurityContextW(&cred, NULL, (WCHAR *)L"localhost", req, 0, 0, NULL, 0, &ctx, &first_desc,
                                        &attrs, NULL);
    ok(status == SEC_I_CONTINUE_NEEDED, "%s: first call returned %08lx\n", how, status);
    if (allocate && first.pvBuffer) FreeContextBuffer(first.pvBuffer);
    if (status != SEC_I_CONTINUE_NEEDED)
    {
        FreeCredentialsHandle(&cred);
        return;
    }
    ok(attrs & ISC_RET_EXTENDED_ERROR, "%s: ISC_RET_EXTENDED_ERROR missing from %#lx\n", how, attrs);

    in_bufs[0].BufferType = SECBUFFER_TOKEN;
    in_bufs[0].cbBuffer = sizeof(not_tls) - 1;
    in_bufs[0].pvBuffer = (void *)not_tls;
    in_bufs[1].BufferType = SECBUFFER_EMPTY;
    in_bufs[1].cbBuffer = 0;
    in_bufs[1].pvBuffer = NULL;
    out_bufs[0].BufferType = SECBUFFER_TOKEN;
    out_bufs[0].cbBuffer = allocate ? 0 : sizeof(token_mem);
    out_bufs[0].pvBuffer = allocate ? NULL : token_mem;
    out_bufs[1].BufferType = SECBUFFER_ALERT;
    out_bufs[1].cbBuffer = allocate ? 0 : sizeof(alert_mem);
    out_bufs[1].pvBuffer = allocate ? NULL : alert_mem;
    status = InitializeSecurityContextW(&cred, &ctx, (WCHAR *)L"localhost", req, 0, 0, &in_desc, 0, NULL, &out_desc,
                                        &attrs, NULL);
    ok(status == SEC_E_INVALID_TOKEN, "%s: not TLS gave %08lx\n", how, status);
    ok(out_bufs[0].BufferType == SECBUFFER_TOKEN && !out_bufs[0].cbBuffer, "%s: token %lu/%lu\n", how,
       out_bufs[0].BufferType, out_bufs[0].cbBuffer);
    ok(out_bufs[1].BufferType == SECBUFFER_ALERT && out_bufs[1].cbBuffer == 7, "%s: alert buffer %lu/%lu\n", how,
       out_bufs[1].BufferType, out_bufs[1].cbBuffer);
    alert = out_bufs[1].pvBuffer;
    if (out_bufs[1].cbBuffer == 7 && alert)
    {
        /* A plaintext alert record: type 21, a TLS version, length 2, level fatal. */
        ok(alert[0] == 21 && alert[1] == 3 && alert[3] == 0 && alert[4] == 2 && alert[5] == 2,
           "%s: alert record %02x %02x %02x %02x %02x %02x %02x\n", how, alert[0], alert[1], alert[2], alert[3],
           alert[4], alert[5], alert[6]);
        ok(alert[6] != 0, "%s: close_notify as the alert\n", how);
    }
    ok(!allocate || alert != alert_mem, "%s: alert not allocated\n", how);
    if (allocate && out_bufs[1].pvBuffer) FreeContextBuffer(out_bufs[1].pvBuffer);
    if (allocate && out_bufs[0].pvBuffer) FreeContextBuffer(out_bufs[0].pvBuffer);
    ok(DeleteSecurityContext(&ctx) == SEC_E_OK, "%s: context not deletable after the failure\n", how);
    FreeCredentialsHandle(&cred);
}

/* Automatic validation refuses the server (the test CA is not trusted): the client's last
 * call fails with SEC_E_UNTRUSTED_ROOT and hands over, in SECBUFFER_ALERT, what the server
 * needs to learn it (in TLS 1.3 our Finished first, then the alert); the server fails on it. */
static void test_validation_alert(enum mode mode, PCCERT_CONTEXT cert)
{
    struct peer *client, *server;
    struct client_out out;
    SecBuffer bufs[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
    SECURITY_STATUS status;
    unsigned int i;

    client = calloc(1, sizeof(*client));
    server = calloc(1, sizeof(*server));
    server->server = TRUE;
    status = acquire(mode, TRUE, 0, cert, &server->cred);
    if (status == SEC_E_OK) status = acquire(mode, FALSE, SCH_CRED_NO_DEFAULT_CREDS, NULL, &client->cred);
    if (status != SEC_E_OK)
    {
        win_skip("%s credentials: %08lx\n", mode_name(mode), status);
        free(client);
        free(server);
        return;
    }
    memset(&out, 0, sizeof(out));
    status = handshake(client, server, &out);
    ok(status == SEC_E_UNTRUSTED_ROOT, "%s: untrusted server gave %08lx\n", mode_name(mode), status);
    ok(!out.token_size, "%s: %lu byte token with the failure\n", mode_name(mode), out.token_size);
    ok(out.alert_size >= 7 && out.alert_size <= sizeof(out.alert), "%s: %lu byte alert\n", mode_name(mode),
       out.alert_size);
    if (out.alert_size >= 7 && out.alert_size <= sizeof(out.alert))
    {
        /* The last record of the bytes is the alert (TLS 1.2: encrypted, type 21; TLS 1.3:
         * encrypted as application data, type 23). */
        append(server, out.alert, out.alert_size);
        if (!server->done)
        {
            /* TLS 1.3: the server still waits for our Finished. */
            status = step(server, client, NULL);
            ok(status == SEC_E_OK, "%s: server on our Finished: %08lx\n", mode_name(mode), status);
        }
        for (i = 0, status = SEC_E_OK; i < 4 && status == SEC_E_OK && server->in_len; i++)
        {
            memset(bufs, 0, sizeof(bufs));
            bufs[0].BufferType = SECBUFFER_DATA;
            bufs[0].cbBuffer = server->in_len;
            bufs[0].pvBuffer = server->in;
            status = DecryptMessage(&server->ctx, &desc, 0, NULL);
            if (status == SEC_E_OK)
                consume(server, bufs[3].BufferType == SECBUFFER_EXTRA ? &bufs[3] : &bufs[1]);
        }
        ok(FAILED(status), "%s: the server read no failure from our alert: %08lx\n", mode_name(mode), status);
    }
    if (client->have_ctx) ok(DeleteSecurityContext(&client->ctx) == SEC_E_OK, "client context not deletable\n");
    if (server->have_ctx) DeleteSecurityContext(&server->ctx);
    FreeCredentialsHandle(&client->cred);
    FreeCredentialsHandle(&server->cred);
    free(client);
    free(server);
}

/* ------------------------------------------------------------------------ */
/* Re-authentication                                                        */

static SECURITY_STATUS exchange_data(struct peer *from, struct peer *to, const char *text)
{
    SecPkgContext_StreamSizes sizes;
    BYTE record[1024];
    SecBuffer bufs[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
    ULONG len = strlen(text), total;
    SECURITY_STATUS status;

    if ((status = QueryContextAttributesW(&from->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes))) return status;
    if (sizes.cbHeader + len + sizes.cbTrailer > sizeof(record)) return SEC_E_BUFFER_TOO_SMALL;
    memcpy(record + sizes.cbHeader, text, len);
    bufs[0].BufferType = SECBUFFER_STREAM_HEADER; bufs[0].cbBuffer = sizes.cbHeader; bufs[0].pvBuffer = record;
    bufs[1].BufferType = SECBUFFER_DATA; bufs[1].cbBuffer = len; bufs[1].pvBuffer = record + sizes.cbHeader;
    bufs[2].BufferType = SECBUFFER_STREAM_TRAILER; bufs[2].cbBuffer = sizes.cbTrailer;
    bufs[2].pvBuffer = record + sizes.cbHeader + len;
    bufs[3].BufferType = SECBUFFER_EMPTY; bufs[3].cbBuffer = 0; bufs[3].pvBuffer = NULL;
    if ((status = EncryptMessage(&from->ctx, 0, &desc, 0))) return status;
    total = bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer;
    memset(bufs, 0, sizeof(bufs));
    bufs[0].BufferType = SECBUFFER_DATA;
    bufs[0].cbBuffer = total;
    bufs[0].pvBuffer = record;
    if ((status = DecryptMessage(&to->ctx, &desc, 0, NULL))) return status;
    if (bufs[1].BufferType != SECBUFFER_DATA || bufs[1].cbBuffer != len || memcmp(bufs[1].pvBuffer, text, len))
        return SEC_E_MESSAGE_ALTERED;
    return SEC_E_OK;
}

/* The server's side of a renegotiation the client started: DecryptMessage meets the
 * ClientHello (SEC_I_RENEGOTIATE), then AcceptSecurityContext runs the new handshake. */
static SECURITY_STATUS server_sees_hello(struct peer *server)
{
    SecBuffer bufs[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
    SECURITY_STATUS status;

    memset(bufs, 0, sizeof(bufs));
    bufs[0].BufferType = SECBUFFER_DATA;
    bufs[0].cbBuffer = server->in_len;
    bufs[0].pvBuffer = server->in;
    status = DecryptMessage(&server->ctx, &desc, 0, NULL);
    if (status == SEC_I_RENEGOTIATE) consume(server, &bufs[3]);
    return status;
}

static void test_reauthentication(enum mode mode, PCCERT_CONTEXT cert)
{
    SecPkgContext_ConnectionInfo info;
    struct peer *client, *server;
    struct client_out out;
    SECURITY_STATUS status;
    int i;

    client = calloc(1, sizeof(*client));
    server = calloc(1, sizeof(*server));
    server->server = TRUE;
    status = acquire(mode, TRUE, 0, cert, &server->cred);
    if (status == SEC_E_OK)
        status = acquire(mode, FALSE, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS, NULL,
                         &client->cred);
    if (status != SEC_E_OK)
    {
        win_skip("%s credentials: %08lx\n", mode_name(mode), status);
        free(client);
        free(server);
        return;
    }
    status = handshake(client, server, &out);
    ok(status == SEC_E_OK, "%s: handshake: %08lx\n", mode_name(mode), status);
    if (status != SEC_E_OK) goto done;
    if (mode == MODE_TLS13)
    {
        /* The server's session tickets: SEC_I_RENEGOTIATE, then ISC takes them. */
        for (i = 0; i < 4 && client->in_len; i++)
        {
            SecBuffer bufs[4];
            SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };

            memset(bufs, 0, sizeof(bufs));
            bufs[0].BufferType = SECBUFFER_DATA;
            bufs[0].cbBuffer = client->in_len;
            bufs[0].pvBuffer = client->in;
            status = DecryptMessage(&client->ctx, &desc, 0, NULL);
            consume(client, &bufs[3]);
            if (status == SEC_I_RENEGOTIATE) status = step(client, server, NULL);
            ok(status == SEC_E_OK, "%s: tickets: %08lx\n", mode_name(mode), status);
        }
    }

    /* The client asks again: no input at all. */
    client->done = server->done = FALSE;
    client->in_len = 0;
    memset(&out, 0, sizeof(out));
    status = step(client, server, &out);
    if (mode == MODE_TLS13)
    {
        /* No renegotiation in TLS 1.3 (RFC 8446): nothing to send, the connection goes on. */
        ok(status == SEC_E_OK, "%s: second ISC returned %08lx\n", mode_name(mode), status);
        ok(!out.token_size && !server->in_len, "%s: %lu byte token\n", mode_name(mode), out.token_size);
    }
    else
    {
        ok(status == SEC_I_CONTINUE_NEEDED, "%s: second ISC returned %08lx\n", mode_name(mode), status);
        /* A ClientHello under the current keys: a handshake record, its body encrypted. */
        ok(out.token_size > 5 && server->in_len == out.token_size && server->in[0] == 22 && server->in[1] == 3,
           "%s: token of %lu bytes, type %u\n", mode_name(mode), out.token_size, server->in_len ? server->in[0] : 0);
        status = server_sees_hello(server);
        ok(status == SEC_I_RENEGOTIATE, "%s: server DecryptMessage on the ClientHello: %08lx\n", mode_name(mode),
           status);
        if (status == SEC_I_RENEGOTIATE)
        {
            /* Then both sides loop as for the first handshake. */
            for (i = 0; i < 16 && !(client->done && server->done); i++)
            {
                if (!server->done && FAILED(status = step(server, client, NULL))) break;
                if (!client->done && client->in_len && FAILED(status = step(client, server, &out))) break;
            }
            ok(client->done && server->done, "%s: renegotiation: %08lx, client %d, server %d\n", mode_name(mode),
               status, client->done, server->done);
        }
    }
    status = QueryContextAttributesW(&client->ctx, SECPKG_ATTR_CONNECTION_INFO, &info);
    ok(status == SEC_E_OK && (info.dwProtocol & (mode == MODE_TLS12 ? SP_PROT_TLS1_2_CLIENT : SP_PROT_TLS1_3_CLIENT)),
       "%s: connection info %08lx, protocol %#lx\n", mode_name(mode), status, info.dwProtocol);
    status = exchange_data(client, server, "after re-authentication");
    ok(status == SEC_E_OK, "%s: client to server after re-authentication: %08lx\n", mode_name(mode), status);
    status = exchange_data(server, client, "and back");
    ok(status == SEC_E_OK, "%s: server to client after re-authentication: %08lx\n", mode_name(mode), status);

done:
    if (client->have_ctx) DeleteSecurityContext(&client->ctx);
    if (server->have_ctx) DeleteSecurityContext(&server->ctx);
    FreeCredentialsHandle(&client->cred);
    FreeCredentialsHandle(&server->cred);
    free(client);
    free(server);
}

START_TEST(clientalert)
{
    PCCERT_CONTEXT cert;
    HCERTSTORE store;

    test_peer_alerts(MODE_TLS12);
    test_peer_alerts(MODE_TLS13);
    test_alert_buffer(TRUE);
    test_alert_buffer(FALSE);

    if (!(cert = pair_import_server_cert(&store)))
    {
        ok(0, "cannot import the test certificate: %lu\n", GetLastError());
        if (store) CertCloseStore(store, 0);
        return;
    }
    test_validation_alert(MODE_TLS12, cert);
    test_validation_alert(MODE_TLS13, cert);
    test_reauthentication(MODE_TLS12, cert);
    test_reauthentication(MODE_TLS13, cert);
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
}
