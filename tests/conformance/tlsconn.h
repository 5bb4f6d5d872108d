/*
 * In-memory Schannel connections for the hostile-input and thread conformance tests
 * (hostile.c, threads.c): a client and a server context in one process, tokens and records
 * handed over through memory. Static helpers only; each test file includes this once.
 *
 * The helpers assert nothing themselves except where noted (conn_handshake reports the
 * failing status); the tests assert on what they return.
 */

#ifndef SCHANNEL_GNUTLS_TESTS_TLSCONN_H
#define SCHANNEL_GNUTLS_TESTS_TLSCONN_H

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <windef.h>
#include <winbase.h>
#include <wincrypt.h>
#define SECURITY_WIN32
#include <security.h>
#define SCHANNEL_USE_BLACKLISTS
#include <schannel.h>

#include "wine/test.h"
#include "tlspair.h"

#define TC_FLIGHT 65536
#define TC_CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | \
                       ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM)
#define TC_SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | \
                       ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM)

/* Which protocols a credential enables. */
enum tc_proto { TC_DEFAULT, TC_TLS12, TC_TLS13 };

struct tc_side
{
    BOOL server, have_ctx, done;
    CredHandle *cred;
    CtxtHandle ctx;
    BYTE *in;                  /* what the peer sent, not read yet */
    ULONG in_len;
};

struct tc_conn
{
    struct tc_side client, server;
    SecPkgContext_StreamSizes sizes;
};

static SECURITY_STATUS tc_acquire(BOOL server, enum tc_proto proto, PCCERT_CONTEXT cert, CredHandle *cred)
{
    SCH_CREDENTIALS sch;
    TLS_PARAMETERS params;
    TimeStamp expiry;

    memset(&sch, 0, sizeof(sch));
    memset(&params, 0, sizeof(params));
    sch.dwVersion = SCH_CREDENTIALS_VERSION;
    if (server)
    {
        sch.cCreds = 1;
        sch.paCred = &cert;
    }
    else sch.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    if (proto != TC_DEFAULT)
    {
        DWORD keep = proto == TC_TLS12 ? (server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT)
                                       : (server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT);
        params.grbitDisabledProtocols = ~keep;
        sch.cTlsParameters = 1;
        sch.pTlsParameters = &params;
    }
    return AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W, server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND,
                                     NULL, &sch, NULL, NULL, cred, &expiry);
}

static void tc_init(struct tc_conn *c, CredHandle *client_cred, CredHandle *server_cred)
{
    memset(c, 0, sizeof(*c));
    c->client.cred = client_cred;
    c->server.cred = server_cred;
    c->server.server = TRUE;
    c->client.in = malloc(TC_FLIGHT);
    c->server.in = malloc(TC_FLIGHT);
}

static void tc_append(struct tc_side *to, const void *data, ULONG len)
{
    if (to->in_len + len > TC_FLIGHT) len = TC_FLIGHT - to->in_len;
    memcpy(to->in + to->in_len, data, len);
    to->in_len += len;
}

static void tc_drop(struct tc_side *side, ULONG len)
{
    if (len > side->in_len) len = side->in_len;
    memmove(side->in, side->in + len, side->in_len - len);
    side->in_len -= len;
}

/* One ISC/ASC call on side->in; the output token goes to the peer. */
static SECURITY_STATUS tc_step(struct tc_side *side, struct tc_side *peer)
{
    SecBuffer in_bufs[2], out_buf;
    SecBufferDesc in_desc, out_desc;
    SECURITY_STATUS status;
    BOOL first = !side->have_ctx;
    ULONG attrs;

    pair_init_token(&in_desc, in_bufs, side->in, side->in_len, &out_desc, &out_buf);

    if (side->server)
        status = AcceptSecurityContext(side->cred, first ? NULL : &side->ctx, &in_desc, TC_SERVER_REQ, 0,
                                       &side->ctx, &out_desc, &attrs, NULL);
    else
        status = InitializeSecurityContextW(side->cred, first ? NULL : &side->ctx, (WCHAR *)L"localhost",
                                            TC_CLIENT_REQ, 0, 0, first ? NULL : &in_desc, 0, &side->ctx,
                                            &out_desc, &attrs, NULL);
    if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED) side->have_ctx = TRUE;
    if (status == SEC_E_OK) side->done = TRUE;
    if (out_buf.pvBuffer)
    {
        tc_append(peer, out_buf.pvBuffer, out_buf.cbBuffer);
        FreeContextBuffer(out_buf.pvBuffer);
    }
    if ((status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED) && (!first || side->server))
        tc_drop(side, side->in_len - (in_bufs[1].BufferType == SECBUFFER_EXTRA ? in_bufs[1].cbBuffer : 0));
    return status;
}

/* Runs the handshake to the end; SEC_E_OK when both sides finished. */
static SECURITY_STATUS tc_handshake(struct tc_conn *c)
{
    SECURITY_STATUS status = c->client.have_ctx ? SEC_I_CONTINUE_NEEDED : tc_step(&c->client, &c->server);
    int round;

    if (FAILED(status)) return status;
    /* A flight cut into many records may take one call per record (CONTINUE_NEEDED with the
     * rest as EXTRA): bounded by the record count, never by a fixed number of rounds. */
    for (round = 0; round < 5000; round++)
    {
        if (!c->server.done && c->server.in_len)
        {
            status = tc_step(&c->server, &c->client);
            if (FAILED(status)) return status;
        }
        if (!c->client.done && c->client.in_len)
        {
            status = tc_step(&c->client, &c->server);
            if (FAILED(status)) return status;
        }
        if (c->client.done && c->server.done) break;
    }
    if (!(c->client.done && c->server.done)) return FAILED(status) ? status : SEC_E_INTERNAL_ERROR;
    return QueryContextAttributesW(&c->client.ctx, SECPKG_ATTR_STREAM_SIZES, &c->sizes);
}

/* EncryptMessage of len bytes from side to the peer's input. */
static SECURITY_STATUS tc_send(struct tc_conn *c, struct tc_side *side, const BYTE *data, ULONG len)
{
    struct tc_side *peer = side == &c->client ? &c->server : &c->client;
    BYTE *rec = malloc(c->sizes.cbHeader + len + c->sizes.cbTrailer);
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;

    memcpy(rec + c->sizes.cbHeader, data, len);
    pair_init_encrypt(&desc, bufs, rec, len, &c->sizes);
    status = EncryptMessage(&side->ctx, 0, &desc, 0);
    if (status == SEC_E_OK)
    {
        tc_append(peer, bufs[0].pvBuffer, bufs[0].cbBuffer);
        tc_append(peer, bufs[1].pvBuffer, bufs[1].cbBuffer);
        tc_append(peer, bufs[2].pvBuffer, bufs[2].cbBuffer);
    }
    free(rec);
    return status;
}

/*
 * One DecryptMessage on the first len bytes of side->in. Plaintext (if any) is copied to
 * out (capacity *out_len, set to the size); the record is dropped from side->in unless the
 * call failed or was incomplete.
 */
static SECURITY_STATUS tc_recv_n(struct tc_side *side, ULONG len, BYTE *out, ULONG *out_len)
{
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;
    ULONG i, extra = 0, got = 0;

    pair_init_decrypt(&desc, bufs, side->in, len);
    status = DecryptMessage(&side->ctx, &desc, 0, NULL);
    for (i = 0; i < 4; i++)
    {
        /* On failure DATA still describes the (untouched) input: no plaintext. */
        if (status != SEC_E_OK && status != SEC_I_RENEGOTIATE && status != SEC_I_CONTEXT_EXPIRED) break;
        if (bufs[i].BufferType == SECBUFFER_DATA && out && got + bufs[i].cbBuffer <= *out_len)
        {
            memcpy(out + got, bufs[i].pvBuffer, bufs[i].cbBuffer);
            got += bufs[i].cbBuffer;
        }
        if (bufs[i].BufferType == SECBUFFER_EXTRA) extra = bufs[i].cbBuffer;
    }
    if (out_len) *out_len = got;
    if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED || status == SEC_I_RENEGOTIATE
        || status == SEC_I_CONTEXT_EXPIRED)
    {
        memmove(side->in, side->in + len - extra, side->in_len - (len - extra));
        side->in_len -= len - extra;
    }
    return status;
}

/* Reads records until len bytes of application data arrived (TLS 1.3 tickets are skipped). */
static SECURITY_STATUS tc_recv(struct tc_side *side, BYTE *out, ULONG len)
{
    SECURITY_STATUS status = SEC_E_OK;
    ULONG got = 0, n;
    int guard;

    for (guard = 0; guard < 64 && got < len; guard++)
    {
        n = len - got;
        status = tc_recv_n(side, side->in_len, out + got, &n);
        if (status == SEC_I_RENEGOTIATE)
        {
            /* A post-handshake message (TLS 1.3 ticket) goes to ISC/ASC, as Windows wants. */
            struct tc_side dummy;
            memset(&dummy, 0, sizeof(dummy));
            dummy.in = malloc(TC_FLIGHT);
            tc_step(side, &dummy);
            free(dummy.in);
            continue;
        }
        if (status != SEC_E_OK) return status;
        got += n;
    }
    return got == len ? SEC_E_OK : status;
}

static void tc_free(struct tc_conn *c)
{
    if (c->client.have_ctx) DeleteSecurityContext(&c->client.ctx);
    if (c->server.have_ctx) DeleteSecurityContext(&c->server.ctx);
    free(c->client.in);
    free(c->server.in);
    memset(c, 0, sizeof(*c));
}

#endif /* SCHANNEL_GNUTLS_TESTS_TLSCONN_H */
