/*
 * DTLS through Schannel (ISC_REQ_DATAGRAM / ASC_REQ_DATAGRAM): a client and a server
 * context of the DLL under test exchange datagrams in memory. The path MTU is small enough
 * for the server's certificate flight to need several datagrams (SEC_I_MESSAGE_FRAGMENT).
 *
 * Buffer rules follow what Windows programs rely on (FFmpeg's and FTEQW's Schannel DTLS
 * code): every token is one datagram, the server gets the client's address in a
 * SECBUFFER_EXTRA input buffer, a call without input after the caller's timer fired resends
 * the last flight. Where Windows' exact code is not documented (a replayed record, a call
 * before the retransmission timer ran out) the test states the value we chose.
 */

#include <stdarg.h>
#include <string.h>
#include <windef.h>
#include <winbase.h>
#include <wincrypt.h>
#define SECURITY_WIN32
#include <security.h>
#include <schannel.h>

#include "wine/test.h"
#include "tlspair.h"

#ifndef SECPKG_ATTR_DTLS_MTU
#define SECPKG_ATTR_DTLS_MTU 34
#endif
#ifndef SECBUFFER_DTLS_MTU
#define SECBUFFER_DTLS_MTU 24
#endif
#ifndef SEC_I_MESSAGE_FRAGMENT
#define SEC_I_MESSAGE_FRAGMENT ((HRESULT)0x00090364)
#endif

#ifndef SECBUFFER_SRTP_PROTECTION_PROFILES
#define SECBUFFER_SRTP_PROTECTION_PROFILES 19
#endif
#define ATTR_KEYING_MATERIAL_INFO 0x6a
#define ATTR_KEYING_MATERIAL 0x6b
#define ATTR_SRTP_PARAMETERS 0x6c

struct dtls_mtu { unsigned short PathMTU; };

/* SecPkgContext_SrtpParameters, SecPkgContext_KeyingMaterialInfo, SecPkgContext_KeyingMaterial */
struct srtp_parameters { USHORT ProtectionProfile; BYTE MasterKeyIdentifierSize; BYTE *MasterKeyIdentifier; };
struct keying_material_info { WORD cbLabel; char *pszLabel; WORD cbContextValue; BYTE *pbContextValue;
                              DWORD cbKeyingMaterial; };
struct keying_material { DWORD cbKeyingMaterial; BYTE *pbKeyingMaterial; };

#define TEST_MTU 300
#define MAX_DGRAMS 64
#define DGRAM_MAX 2048

#define CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | \
                    ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_DATAGRAM)
#define SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | \
                    ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_DATAGRAM)

/* Datagrams on their way to one side. */
struct wire
{
    BYTE data[MAX_DGRAMS][DGRAM_MAX];
    ULONG len[MAX_DGRAMS];
    unsigned int count;
};

struct peer
{
    BOOL server;
    CredHandle cred;
    CtxtHandle ctx;
    BOOL have_ctx, done;
    struct wire in;
    unsigned int fragments;   /* SEC_I_MESSAGE_FRAGMENT seen */
    ULONG largest;            /* largest datagram produced */
    /* the network on the way out of this peer */
    unsigned int sent;        /* datagrams produced so far */
    unsigned int drop;        /* bit n: datagram n is lost */
    BOOL duplicate;           /* every datagram arrives twice */
    unsigned int renegotiate; /* SEC_I_RENEGOTIATE from DecryptMessage */
    const BYTE *srtp;         /* SEC_SRTP_PROTECTION_PROFILES for the first call, if any */
    ULONG srtp_size;
};

static const BYTE client_address[] = { 2, 0, 0x4e, 0x20, 127, 0, 0, 1 };  /* AF_INET, 127.0.0.1:20000 */

static PCCERT_CONTEXT import_cert(HCERTSTORE *store)
{
    PCCERT_CONTEXT cert = pair_import_server_cert(store);

    ok(*store != NULL, "PFXImportCertStore failed: %lu\n", GetLastError());
    if (!*store) return NULL;
    ok(cert != NULL, "no certificate with a private key\n");
    return cert;
}

static void wire_push(struct wire *wire, const void *data, ULONG len)
{
    ok(wire->count < MAX_DGRAMS && len <= DGRAM_MAX, "wire full (%u, %lu)\n", wire->count, len);
    if (wire->count >= MAX_DGRAMS || len > DGRAM_MAX) return;
    memcpy(wire->data[wire->count], data, len);
    wire->len[wire->count++] = len;
}

static void wire_drop(struct wire *wire, unsigned int index)
{
    if (index >= wire->count) return;
    memmove(wire->data[index], wire->data[index + 1], (wire->count - index - 1) * sizeof(wire->data[0]));
    memmove(&wire->len[index], &wire->len[index + 1], (wire->count - index - 1) * sizeof(wire->len[0]));
    wire->count--;
}

/* A datagram leaves self: lost, delivered, or delivered twice. */
static void transmit(struct peer *self, struct peer *to, const void *data, ULONG len)
{
    unsigned int index = self->sent++;

    if (index < 32 && (self->drop & (1u << index))) return;
    wire_push(&to->in, data, len);
    if (self->duplicate) wire_push(&to->in, data, len);
}

/* One ISC/ASC call with one datagram (or none); every datagram it produces goes to to->in,
 * and SEC_I_MESSAGE_FRAGMENT calls are repeated without input as a Windows caller does. */
static SECURITY_STATUS step(struct peer *self, struct peer *to, const BYTE *dgram, ULONG len, USHORT mtu)
{
    SecBuffer in_bufs[5], out_bufs[2];
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 0, in_bufs }, out_desc = { SECBUFFER_VERSION, 2, out_bufs };
    struct dtls_mtu mtu_value = { mtu };
    SECURITY_STATUS status;
    ULONG attrs = 0;
    BYTE copy[DGRAM_MAX];
    BOOL first = TRUE;

    do
    {
        memset(in_bufs, 0, sizeof(in_bufs));
        memset(out_bufs, 0, sizeof(out_bufs));
        if (len) memcpy(copy, dgram, len);
        in_bufs[0].BufferType = SECBUFFER_TOKEN;
        in_bufs[0].pvBuffer = first && len ? copy : NULL;
        in_bufs[0].cbBuffer = first ? len : 0;
        in_bufs[1].BufferType = SECBUFFER_EMPTY;
        in_desc.cBuffers = 2;
        if (self->server)
        {
            in_bufs[2].BufferType = SECBUFFER_EXTRA;
            in_bufs[2].pvBuffer = (void *)client_address;
            in_bufs[2].cbBuffer = sizeof(client_address);
            in_desc.cBuffers = 3;
            if (!self->have_ctx)
            {
                in_bufs[3].BufferType = SECBUFFER_DTLS_MTU;
                in_bufs[3].pvBuffer = &mtu_value;
                in_bufs[3].cbBuffer = sizeof(mtu_value);
                in_desc.cBuffers = 4;
            }
        }
        else if (!self->have_ctx)
        {
            in_bufs[0].BufferType = SECBUFFER_DTLS_MTU;
            in_bufs[0].pvBuffer = &mtu_value;
            in_bufs[0].cbBuffer = sizeof(mtu_value);
        }
        if (!self->have_ctx && self->srtp)
        {
            in_bufs[in_desc.cBuffers].BufferType = SECBUFFER_SRTP_PROTECTION_PROFILES;
            in_bufs[in_desc.cBuffers].pvBuffer = (void *)self->srtp;
            in_bufs[in_desc.cBuffers++].cbBuffer = self->srtp_size;
        }
        out_bufs[0].BufferType = SECBUFFER_TOKEN;
        out_bufs[1].BufferType = SECBUFFER_ALERT;

        if (self->server)
            status = AcceptSecurityContext(&self->cred, self->have_ctx ? &self->ctx : NULL, &in_desc,
                                           SERVER_REQ, 0, &self->ctx, &out_desc, &attrs, NULL);
        else
            status = InitializeSecurityContextA(&self->cred, self->have_ctx ? &self->ctx : NULL,
                                                (char *)"localhost", CLIENT_REQ, 0, 0,
                                                self->have_ctx ? &in_desc : &in_desc, 0, &self->ctx,
                                                &out_desc, &attrs, NULL);
        if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED || status == SEC_I_MESSAGE_FRAGMENT)
        {
            self->have_ctx = TRUE;
            if (self->server) ok(attrs & ASC_RET_DATAGRAM, "attrs %#lx\n", attrs);
            else ok(attrs & ISC_RET_DATAGRAM, "attrs %#lx\n", attrs);
            ok(in_bufs[1].BufferType == SECBUFFER_EMPTY, "input buffer 1 became type %lu\n", in_bufs[1].BufferType);
        }
        if (out_bufs[0].cbBuffer)
        {
            ok(out_bufs[0].cbBuffer <= mtu, "datagram of %lu bytes exceeds the MTU %u\n", out_bufs[0].cbBuffer, mtu);
            if (out_bufs[0].cbBuffer > self->largest) self->largest = out_bufs[0].cbBuffer;
            transmit(self, to, out_bufs[0].pvBuffer, out_bufs[0].cbBuffer);
        }
        if (out_bufs[0].pvBuffer) FreeContextBuffer(out_bufs[0].pvBuffer);
        if (out_bufs[1].pvBuffer) FreeContextBuffer(out_bufs[1].pvBuffer);
        if (status == SEC_I_MESSAGE_FRAGMENT)
        {
            ok(out_bufs[0].cbBuffer > 0, "SEC_I_MESSAGE_FRAGMENT without a datagram\n");
            self->fragments++;
        }
        first = FALSE;
    } while (status == SEC_I_MESSAGE_FRAGMENT);
    if (status == SEC_E_OK) self->done = TRUE;
    return status;
}

/* Delivers everything queued for peer, one datagram per call. */
static SECURITY_STATUS deliver_all(struct peer *self, struct peer *other, USHORT mtu)
{
    SECURITY_STATUS status = SEC_I_CONTINUE_NEEDED;
    struct wire pending = self->in;
    unsigned int i;

    self->in.count = 0;
    for (i = 0; i < pending.count; i++)
    {
        status = step(self, other, pending.data[i], pending.len[i], mtu);
        if (FAILED(status)) break;
    }
    return status;
}

static BOOL acquire(struct peer *peer, DWORD protocols, PCCERT_CONTEXT cert)
{
    SCHANNEL_CRED cred;
    SECURITY_STATUS status;

    memset(&cred, 0, sizeof(cred));
    cred.dwVersion = SCHANNEL_CRED_VERSION;
    cred.grbitEnabledProtocols = protocols;
    if (peer->server)
    {
        cred.cCreds = 1;
        cred.paCred = &cert;
        cred.dwFlags = SCH_CRED_NO_SYSTEM_MAPPER;
    }
    else cred.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    status = AcquireCredentialsHandleA(NULL, (char *)UNISP_NAME_A, peer->server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND,
                                       NULL, &cred, NULL, NULL, &peer->cred, NULL);
    ok(status == SEC_E_OK, "AcquireCredentialsHandle(%#lx) returned %#lx\n", protocols, status);
    return status == SEC_E_OK;
}

static ULONG seal(struct peer *from, const char *text, BYTE *out)
{
    SecPkgContext_StreamSizes sizes;
    SecBuffer bufs[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
    ULONG len = strlen(text);
    SECURITY_STATUS status;

    status = QueryContextAttributesA(&from->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes);
    ok(status == SEC_E_OK, "STREAM_SIZES returned %#lx\n", status);
    bufs[0].BufferType = SECBUFFER_STREAM_HEADER;
    bufs[0].pvBuffer = out;
    bufs[0].cbBuffer = sizes.cbHeader;
    bufs[1].BufferType = SECBUFFER_DATA;
    bufs[1].pvBuffer = out + sizes.cbHeader;
    bufs[1].cbBuffer = len;
    memcpy(bufs[1].pvBuffer, text, len);
    bufs[2].BufferType = SECBUFFER_STREAM_TRAILER;
    bufs[2].pvBuffer = out + sizes.cbHeader + len;
    bufs[2].cbBuffer = sizes.cbTrailer;
    bufs[3].BufferType = SECBUFFER_EMPTY;
    bufs[3].pvBuffer = NULL;
    bufs[3].cbBuffer = 0;
    status = EncryptMessage(&from->ctx, 0, &desc, 0);
    ok(status == SEC_E_OK, "EncryptMessage returned %#lx\n", status);
    if (status) return 0;
    ok(bufs[0].cbBuffer == sizes.cbHeader, "header %lu, expected %lu\n", bufs[0].cbBuffer, sizes.cbHeader);
    ok(bufs[1].cbBuffer == len, "data %lu\n", bufs[1].cbBuffer);
    ok(bufs[2].cbBuffer <= sizes.cbTrailer, "trailer %lu > %lu\n", bufs[2].cbBuffer, sizes.cbTrailer);
    ok(out[0] == 23 && out[1] == 0xfe, "not a DTLS application-data record: %02x %02x\n", out[0], out[1]);
    /* Header, data and trailer are one contiguous record here. */
    return bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer;
}

static SECURITY_STATUS open_record(struct peer *to, BYTE *record, ULONG len, char *text, ULONG *text_len)
{
    SecBuffer bufs[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
    SECURITY_STATUS status;

    memset(bufs, 0, sizeof(bufs));
    bufs[0].BufferType = SECBUFFER_DATA;
    bufs[0].pvBuffer = record;
    bufs[0].cbBuffer = len;
    status = DecryptMessage(&to->ctx, &desc, 0, NULL);
    *text_len = 0;
    if (status == SEC_E_OK)
    {
        ok(bufs[0].BufferType == SECBUFFER_STREAM_HEADER, "buffer 0 type %lu\n", bufs[0].BufferType);
        ok(bufs[1].BufferType == SECBUFFER_DATA, "buffer 1 type %lu\n", bufs[1].BufferType);
        ok(bufs[2].BufferType == SECBUFFER_STREAM_TRAILER, "buffer 2 type %lu\n", bufs[2].BufferType);
        ok(bufs[3].BufferType == SECBUFFER_EMPTY, "buffer 3 type %lu (one record per datagram)\n", bufs[3].BufferType);
        if (bufs[1].BufferType == SECBUFFER_DATA && bufs[1].cbBuffer < 256)
        {
            memcpy(text, bufs[1].pvBuffer, bufs[1].cbBuffer);
            *text_len = bufs[1].cbBuffer;
        }
    }
    return status;
}

static void test_dtls(DWORD client_protocol, DWORD server_protocol, PCCERT_CONTEXT cert, BOOL lossy)
{
    static struct peer client, server;   /* large */
    SecPkgContext_ConnectionInfo info;
    SecPkgContext_StreamSizes sizes;
    struct dtls_mtu mtu;
    SECURITY_STATUS status;
    BYTE record[DGRAM_MAX], copy[DGRAM_MAX];
    char text[256];
    ULONG len, text_len;
    unsigned int round, server_flight;
    SecBuffer token;
    SecBufferDesc token_desc = { SECBUFFER_VERSION, 1, &token };
    DWORD shutdown = SCHANNEL_SHUTDOWN;

    memset(&client, 0, sizeof(client));
    memset(&server, 0, sizeof(server));
    server.server = TRUE;
    if (!acquire(&client, client_protocol, NULL)) return;
    if (!acquire(&server, server_protocol, cert))
    {
        FreeCredentialsHandle(&client.cred);
        return;
    }

    /* ClientHello: one datagram. */
    status = step(&client, &server, NULL, 0, TEST_MTU);
    ok(status == SEC_I_CONTINUE_NEEDED, "first ISC returned %#lx\n", status);
    ok(server.in.count == 1, "%u datagrams for the ClientHello\n", server.in.count);
    ok(server.in.len[0] > 13 && server.in.data[0][0] == 22 && server.in.data[0][1] == 0xfe,
       "not a DTLS handshake record\n");

    /* The server answers a ClientHello without a cookie with a HelloVerifyRequest (type 3). */
    status = deliver_all(&server, &client, TEST_MTU);
    ok(status == SEC_I_CONTINUE_NEEDED, "ASC returned %#lx\n", status);
    ok(server.have_ctx, "no server context after the HelloVerifyRequest\n");
    ok(client.in.count == 1 && client.in.len[0] > 25 && client.in.data[0][13] == 3,
       "expected one HelloVerifyRequest, got %u datagrams (type %u)\n", client.in.count, client.in.data[0][13]);

    /* ClientHello with the cookie. */
    status = deliver_all(&client, &server, TEST_MTU);
    ok(status == SEC_I_CONTINUE_NEEDED, "ISC returned %#lx\n", status);

    /* The server's certificate flight needs several datagrams at this MTU. */
    status = deliver_all(&server, &client, TEST_MTU);
    ok(status == SEC_I_CONTINUE_NEEDED, "ASC returned %#lx\n", status);
    server_flight = client.in.count;
    ok(server_flight > 2, "server flight in %u datagrams\n", server_flight);
    ok(server.fragments >= server_flight - 1, "%u SEC_I_MESSAGE_FRAGMENT for %u datagrams\n",
       server.fragments, server_flight);

    if (!lossy) goto exchange;

    /* Datagram 2 is lost, datagram 1 arrives twice. */
    wire_drop(&client.in, 1);
    wire_push(&client.in, client.in.data[0], client.in.len[0]);
    status = deliver_all(&client, &server, TEST_MTU);
    ok(status == SEC_I_CONTINUE_NEEDED, "ISC with a partial flight returned %#lx\n", status);
    ok(server.in.count == 0, "client answered a partial flight with %u datagrams\n", server.in.count);
    ok(!client.done, "client done early\n");

    /* The server's caller calls again without input: before the retransmission timer ran out
     * nothing is sent (our choice: SEC_I_CONTINUE_NEEDED, empty token), after it the whole
     * flight comes again. */
    status = step(&server, &client, NULL, 0, TEST_MTU);
    ok(status == SEC_I_CONTINUE_NEEDED, "early retransmission call returned %#lx\n", status);
    ok(client.in.count == 0, "retransmitted %u datagrams before the timer\n", client.in.count);
    Sleep(1100);
    status = step(&server, &client, NULL, 0, TEST_MTU);
    ok(status == SEC_I_CONTINUE_NEEDED, "retransmission call returned %#lx\n", status);
    ok(client.in.count == server_flight, "retransmitted %u datagrams, expected %u\n", client.in.count, server_flight);

exchange:
    for (round = 0; round < 6 && !(client.done && server.done); round++)
    {
        if (client.in.count) status = deliver_all(&client, &server, TEST_MTU);
        ok(!FAILED(status), "client failed with %#lx\n", status);
        if (server.in.count) status = deliver_all(&server, &client, TEST_MTU);
        ok(!FAILED(status), "server failed with %#lx\n", status);
        if (FAILED(status)) break;
    }
    /* The last datagrams of the retransmitted flight reach the client after it sent its own
     * flight: they are ignored, and the server's ChangeCipherSpec + Finished completes it. */
    ok(client.done && server.done, "handshake not finished (client %d, server %d)\n", client.done, server.done);
    ok(client.largest <= TEST_MTU && server.largest <= TEST_MTU, "datagrams of %lu / %lu bytes\n",
       client.largest, server.largest);
    if (!client.done || !server.done) goto done;

    status = QueryContextAttributesA(&client.ctx, SECPKG_ATTR_CONNECTION_INFO, &info);
    ok(status == SEC_E_OK, "CONNECTION_INFO returned %#lx\n", status);
    ok(info.dwProtocol == client_protocol, "client protocol %#lx, expected %#lx\n", info.dwProtocol, client_protocol);
    status = QueryContextAttributesA(&server.ctx, SECPKG_ATTR_CONNECTION_INFO, &info);
    ok(status == SEC_E_OK, "CONNECTION_INFO returned %#lx\n", status);
    ok(info.dwProtocol == server_protocol, "server protocol %#lx, expected %#lx\n", info.dwProtocol, server_protocol);

    status = QueryContextAttributesA(&client.ctx, SECPKG_ATTR_STREAM_SIZES, &sizes);
    ok(status == SEC_E_OK, "STREAM_SIZES returned %#lx\n", status);
    ok(sizes.cbHeader >= 13, "DTLS header of %lu bytes\n", sizes.cbHeader);
    ok(sizes.cbHeader + sizes.cbMaximumMessage + sizes.cbTrailer <= TEST_MTU,
       "header %lu + message %lu + trailer %lu exceed the MTU\n", sizes.cbHeader, sizes.cbMaximumMessage,
       sizes.cbTrailer);
    ok(sizes.cbMaximumMessage > 100, "maximum message %lu\n", sizes.cbMaximumMessage);
    status = QueryContextAttributesA(&client.ctx, SECPKG_ATTR_DTLS_MTU, &mtu);
    ok(status == SEC_E_OK && mtu.PathMTU == TEST_MTU, "DTLS_MTU returned %#lx, %u\n", status, mtu.PathMTU);

    /* Data both ways, one record per datagram. */
    len = seal(&client, "hello over dtls", record);
    ok(len > 0 && len <= TEST_MTU, "record of %lu bytes\n", len);
    memcpy(copy, record, len);
    status = open_record(&server, record, len, text, &text_len);
    ok(status == SEC_E_OK, "DecryptMessage returned %#lx\n", status);
    ok(text_len == 15 && !memcmp(text, "hello over dtls", 15), "got %.*s\n", (int)text_len, text);

    /* A replayed datagram is refused (our choice: SEC_E_OUT_OF_SEQUENCE); the context lives on. */
    status = open_record(&server, copy, len, text, &text_len);
    ok(status == SEC_E_OUT_OF_SEQUENCE, "replayed record: %#lx\n", status);

    /* A damaged datagram is dropped; the context lives on. */
    len = seal(&server, "reply", record);
    memcpy(copy, record, len);
    copy[len - 1] ^= 0x55;
    status = open_record(&client, copy, len, text, &text_len);
    ok(status == SEC_E_MESSAGE_ALTERED, "damaged record: %#lx\n", status);
    status = open_record(&client, record, len, text, &text_len);
    ok(status == SEC_E_OK, "DecryptMessage after a dropped record returned %#lx\n", status);
    ok(text_len == 5 && !memcmp(text, "reply", 5), "got %.*s\n", (int)text_len, text);

    /* The MTU can change on an established context: 200 bytes to 64 KB. */
    mtu.PathMTU = 150;
    status = SetContextAttributesA(&client.ctx, SECPKG_ATTR_DTLS_MTU, &mtu, sizeof(mtu));
    ok(status == SEC_E_INVALID_PARAMETER, "MTU 150: %#lx\n", status);
    mtu.PathMTU = 1000;
    status = SetContextAttributesA(&client.ctx, SECPKG_ATTR_DTLS_MTU, &mtu, sizeof(mtu));
    ok(status == SEC_E_OK, "MTU 1000: %#lx\n", status);
    mtu.PathMTU = 0;
    status = QueryContextAttributesA(&client.ctx, SECPKG_ATTR_DTLS_MTU, &mtu);
    ok(status == SEC_E_OK && mtu.PathMTU == 1000, "DTLS_MTU returned %#lx, %u\n", status, mtu.PathMTU);
    status = QueryContextAttributesA(&client.ctx, SECPKG_ATTR_STREAM_SIZES, &sizes);
    ok(status == SEC_E_OK, "STREAM_SIZES returned %#lx\n", status);
    ok(sizes.cbMaximumMessage > TEST_MTU && sizes.cbHeader + sizes.cbMaximumMessage + sizes.cbTrailer <= 1000,
       "maximum message %lu at MTU 1000\n", sizes.cbMaximumMessage);

    /* close_notify: ApplyControlToken, then one ISC call. */
    token.BufferType = SECBUFFER_TOKEN;
    token.pvBuffer = &shutdown;
    token.cbBuffer = sizeof(shutdown);
    status = ApplyControlToken(&client.ctx, &token_desc);
    ok(status == SEC_E_OK, "ApplyControlToken returned %#lx\n", status);
    client.in.count = server.in.count = 0;
    status = step(&client, &server, NULL, 0, 1000);
    ok(status == SEC_E_OK, "shutdown ISC returned %#lx\n", status);
    ok(server.in.count == 1 && server.in.data[0][0] == 21, "close_notify: %u datagrams\n", server.in.count);
    if (server.in.count == 1)
    {
        status = open_record(&server, server.in.data[0], server.in.len[0], text, &text_len);
        ok(status == SEC_I_CONTEXT_EXPIRED, "close_notify gave %#lx\n", status);
    }

done:
    if (client.have_ctx) DeleteSecurityContext(&client.ctx);
    if (server.have_ctx) DeleteSecurityContext(&server.ctx);
    FreeCredentialsHandle(&client.cred);
    FreeCredentialsHandle(&server.cred);
}

/* A datagram reaches a peer whose handshake is done: DecryptMessage takes it. A stray record of
 * the handshake leaves the context usable; SEC_I_RENEGOTIATE says that the peer resent its last
 * flight because ours was lost, and that ours is queued again: the caller fetches it with
 * ISC/ASC (the SECBUFFER_EXTRA of that DecryptMessage as its input, which a DTLS context does
 * not need), as for a renegotiation. Returns FALSE when the context failed. */
static BOOL deliver_established(struct peer *self, struct peer *other, const BYTE *dgram, ULONG len)
{
    SecBuffer bufs[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
    BYTE copy[DGRAM_MAX];
    SECURITY_STATUS status;
    unsigned int records = 0;

    memcpy(copy, dgram, len);
    while (len && records++ < 8)
    {
        memset(bufs, 0, sizeof(bufs));
        bufs[0].BufferType = SECBUFFER_DATA;
        bufs[0].pvBuffer = copy;
        bufs[0].cbBuffer = len;
        status = DecryptMessage(&self->ctx, &desc, 0, NULL);
        if (status == SEC_I_RENEGOTIATE)
        {
            self->renegotiate++;
            ok(bufs[3].BufferType == SECBUFFER_EXTRA && bufs[3].cbBuffer, "SEC_I_RENEGOTIATE without a token (%lu, %lu)\n",
               bufs[3].BufferType, bufs[3].cbBuffer);
            if (bufs[3].BufferType != SECBUFFER_EXTRA) return FALSE;
            status = step(self, other, bufs[3].pvBuffer, bufs[3].cbBuffer, TEST_MTU);
            ok(status == SEC_E_OK, "ISC/ASC after SEC_I_RENEGOTIATE returned %#lx\n", status);
            return status == SEC_E_OK;
        }
        /* A handshake record of the finished handshake gives no data. */
        ok(status == SEC_E_OK || status == SEC_E_MESSAGE_ALTERED || status == SEC_E_OUT_OF_SEQUENCE,
           "stray handshake datagram: DecryptMessage returned %#lx\n", status);
        if (status != SEC_E_OK && status != SEC_E_MESSAGE_ALTERED && status != SEC_E_OUT_OF_SEQUENCE)
            return FALSE;
        if (status == SEC_E_OK) ok(bufs[1].cbBuffer == 0, "%lu bytes of data from a handshake record\n", bufs[1].cbBuffer);
        if (bufs[3].BufferType != SECBUFFER_EXTRA) break;
        memmove(copy, bufs[3].pvBuffer, bufs[3].cbBuffer);
        len = bufs[3].cbBuffer;
    }
    return TRUE;
}

/* Delivers what is queued for self: to ISC/ASC while its handshake runs, then to DecryptMessage. */
static BOOL deliver_any(struct peer *self, struct peer *other)
{
    static struct wire pending;   /* large */
    SECURITY_STATUS status;
    unsigned int i;

    pending = self->in;
    self->in.count = 0;
    for (i = 0; i < pending.count; i++)
    {
        if (self->done)
        {
            if (!deliver_established(self, other, pending.data[i], pending.len[i])) return FALSE;
            continue;
        }
        status = step(self, other, pending.data[i], pending.len[i], TEST_MTU);
        ok(status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED, "%s step returned %#lx\n",
           self->server ? "server" : "client", status);
        if (FAILED(status)) return FALSE;
    }
    return TRUE;
}

struct loss
{
    const char *name;
    unsigned int client_drop, server_drop;   /* which datagrams of each side are lost */
    BOOL duplicate;                           /* every datagram arrives twice */
    unsigned int timers;                      /* retransmission timeouts needed */
    unsigned int server_renegotiate;          /* SEC_I_RENEGOTIATE on the server */
};

/* Datagram numbers at TEST_MTU with the RSA certificate: the client sends the ClientHello (0),
 * the ClientHello with the cookie (1) and its final flight in one datagram (2); the server sends
 * the HelloVerifyRequest (0), its certificate flight (1 to 6) and ChangeCipherSpec + Finished
 * in one datagram (7). */
static const struct loss losses[] =
{
    { "lost ClientHello", 1u << 0, 0, FALSE, 1, 0 },
    { "lost HelloVerifyRequest", 0, 1u << 0, FALSE, 1, 0 },
    { "lost ClientHello with cookie", 1u << 1, 0, FALSE, 1, 0 },
    { "lost server flight fragment", 0, 1u << 3, FALSE, 1, 0 },
    { "lost client final flight", 1u << 2, 0, FALSE, 1, 0 },
    { "lost server ChangeCipherSpec + Finished", 0, 1u << 7, FALSE, 1, 1 },
    { "every datagram duplicated", 0, 0, TRUE, 0, ~0u },
};

static void test_dtls_loss(const struct loss *loss, PCCERT_CONTEXT cert)
{
    static struct peer client, server;   /* large */
    BYTE record[DGRAM_MAX];
    char text[256];
    ULONG len, text_len;
    unsigned int round, timers = 0;
    SECURITY_STATUS status;

    winetest_push_context("%s", loss->name);
    memset(&client, 0, sizeof(client));
    memset(&server, 0, sizeof(server));
    server.server = TRUE;
    client.drop = loss->client_drop;
    server.drop = loss->server_drop;
    client.duplicate = server.duplicate = loss->duplicate;
    if (!acquire(&client, SP_PROT_DTLS1_2_CLIENT, NULL) || !acquire(&server, SP_PROT_DTLS1_2_SERVER, cert))
    {
        winetest_pop_context();
        return;
    }

    status = step(&client, &server, NULL, 0, TEST_MTU);
    ok(status == SEC_I_CONTINUE_NEEDED, "first ISC returned %#lx\n", status);
    for (round = 0; round < 40 && !(client.done && server.done); round++)
    {
        if (server.in.count || client.in.count)
        {
            if (!deliver_any(&server, &client) || !deliver_any(&client, &server)) break;
            continue;
        }
        /* Nothing on the wire: the callers' retransmission timers fire. */
        if (timers++ == 4) break;
        Sleep(1100 << (timers - 1));
        if (!server.have_ctx)
        {
            status = step(&client, &server, NULL, 0, TEST_MTU);
            ok(status == SEC_I_CONTINUE_NEEDED, "client retransmission returned %#lx\n", status);
            continue;
        }
        if (!client.done)
        {
            status = step(&client, &server, NULL, 0, TEST_MTU);
            ok(status == SEC_I_CONTINUE_NEEDED, "client retransmission returned %#lx\n", status);
        }
        if (!server.done)
        {
            status = step(&server, &client, NULL, 0, TEST_MTU);
            ok(status == SEC_I_CONTINUE_NEEDED, "server retransmission returned %#lx\n", status);
        }
    }
    ok(client.done && server.done, "handshake not finished (client %d, server %d)\n", client.done, server.done);
    ok(timers == loss->timers, "%u retransmission timeouts, expected %u\n", timers, loss->timers);
    if (loss->server_renegotiate != ~0u)
        ok(server.renegotiate == loss->server_renegotiate, "server: %u SEC_I_RENEGOTIATE, expected %u\n",
           server.renegotiate, loss->server_renegotiate);
    ok(!client.in.count && !server.in.count, "datagrams left: %u / %u\n", client.in.count, server.in.count);

    if (client.done && server.done)
    {
        /* The contexts work, whatever the handshake went through. */
        len = seal(&client, "after the storm", record);
        status = open_record(&server, record, len, text, &text_len);
        ok(status == SEC_E_OK, "DecryptMessage returned %#lx\n", status);
        ok(text_len == 15 && !memcmp(text, "after the storm", 15), "got %.*s\n", (int)text_len, text);
        len = seal(&server, "calm", record);
        status = open_record(&client, record, len, text, &text_len);
        ok(status == SEC_E_OK, "DecryptMessage returned %#lx\n", status);
        ok(text_len == 4 && !memcmp(text, "calm", 4), "got %.*s\n", (int)text_len, text);
    }

    if (client.have_ctx) DeleteSecurityContext(&client.ctx);
    if (server.have_ctx) DeleteSecurityContext(&server.ctx);
    FreeCredentialsHandle(&client.cred);
    FreeCredentialsHandle(&server.cred);
    winetest_pop_context();
}

static void export_srtp_keys(struct peer *peer, BYTE *keys)
{
    static char label[] = "EXTRACTOR-dtls_srtp";
    struct keying_material_info info = { sizeof(label), label, 0, NULL, 60 };
    struct keying_material material = { 0, NULL };
    SECURITY_STATUS status;

    memset(keys, 0, 60);
    status = SetContextAttributesA(&peer->ctx, ATTR_KEYING_MATERIAL_INFO, &info, sizeof(info));
    ok(status == SEC_E_OK, "KEYING_MATERIAL_INFO returned %#lx\n", status);
    status = QueryContextAttributesA(&peer->ctx, ATTR_KEYING_MATERIAL, &material);
    ok(status == SEC_E_OK, "KEYING_MATERIAL returned %#lx\n", status);
    ok(material.cbKeyingMaterial == 60 && material.pbKeyingMaterial, "%lu bytes of keying material\n",
       material.cbKeyingMaterial);
    if (material.cbKeyingMaterial == 60 && material.pbKeyingMaterial) memcpy(keys, material.pbKeyingMaterial, 60);
    if (material.pbKeyingMaterial) FreeContextBuffer(material.pbKeyingMaterial);
}

/* DTLS-SRTP (RFC 5764) as Windows programs use it (str0m's Schannel backend): the profiles go in a
 * SECBUFFER_SRTP_PROTECTION_PROFILES input buffer, their ids big-endian as on the wire; after the
 * handshake SECPKG_ATTR_SRTP_PARAMETERS gives the chosen one (big-endian too) and the SRTP keys
 * come from the RFC 5705 exporter with the label "EXTRACTOR-dtls_srtp". */
static void test_dtls_srtp(PCCERT_CONTEXT cert, BOOL offer)
{
    /* ProfilesSize in bytes, then the ids: AEAD_AES_128_GCM (7) and AES128_CM_HMAC_SHA1_80 (1) */
    static const BYTE client_profiles[] = { 4, 0, 0x00, 0x07, 0x00, 0x01 };
    /* AES128_CM_HMAC_SHA1_32 (2) and AES128_CM_HMAC_SHA1_80 (1): only 1 is common */
    static const BYTE server_profiles[] = { 4, 0, 0x00, 0x02, 0x00, 0x01 };
    static const BYTE bad_profiles[] = { 9, 0, 0x00, 0x01 };
    static struct peer client, server;   /* large */
    struct srtp_parameters params;
    BYTE client_keys[60], server_keys[60], zero[60];
    SECURITY_STATUS status;
    unsigned int round;

    winetest_push_context(offer ? "srtp" : "no srtp");
    memset(&client, 0, sizeof(client));
    memset(&server, 0, sizeof(server));
    server.server = TRUE;
    if (offer)
    {
        client.srtp = client_profiles;
        client.srtp_size = sizeof(client_profiles);
        server.srtp = server_profiles;
        server.srtp_size = sizeof(server_profiles);
    }
    if (!acquire(&client, SP_PROT_DTLS1_2_CLIENT, NULL) || !acquire(&server, SP_PROT_DTLS1_2_SERVER, cert))
    {
        winetest_pop_context();
        return;
    }
    status = step(&client, &server, NULL, 0, TEST_MTU);
    ok(status == SEC_I_CONTINUE_NEEDED, "first ISC returned %#lx\n", status);
    for (round = 0; round < 8 && !(client.done && server.done); round++)
        if (!deliver_any(&server, &client) || !deliver_any(&client, &server)) break;
    ok(client.done && server.done, "handshake not finished (client %d, server %d)\n", client.done, server.done);
    if (!client.done || !server.done) goto done;

    memset(&params, 0xcc, sizeof(params));
    status = QueryContextAttributesA(&client.ctx, ATTR_SRTP_PARAMETERS, &params);
    ok(status == SEC_E_OK, "client SRTP_PARAMETERS returned %#lx\n", status);
    /* big-endian 0x0001 (ours: 0 when no profile was agreed on) */
    ok(params.ProtectionProfile == (offer ? 0x0100 : 0), "client profile %#x\n", params.ProtectionProfile);
    ok(params.MasterKeyIdentifierSize == 0 && !params.MasterKeyIdentifier, "client MKI %u, %p\n",
       params.MasterKeyIdentifierSize, params.MasterKeyIdentifier);
    memset(&params, 0xcc, sizeof(params));
    status = QueryContextAttributesA(&server.ctx, ATTR_SRTP_PARAMETERS, &params);
    ok(status == SEC_E_OK, "server SRTP_PARAMETERS returned %#lx\n", status);
    ok(params.ProtectionProfile == (offer ? 0x0100 : 0), "server profile %#x\n", params.ProtectionProfile);

    /* Both ends derive the same SRTP master keys and salts (2 * 16 + 2 * 14 bytes). */
    export_srtp_keys(&client, client_keys);
    export_srtp_keys(&server, server_keys);
    memset(zero, 0, sizeof(zero));
    ok(!memcmp(client_keys, server_keys, 60), "client and server keys differ\n");
    ok(memcmp(client_keys, zero, 60), "no keys\n");

    if (offer)
    {
        /* A profile list longer than its buffer is refused with the context. */
        struct peer bad;

        memset(&bad, 0, sizeof(bad));
        bad.cred = client.cred;
        bad.srtp = bad_profiles;
        bad.srtp_size = sizeof(bad_profiles);
        status = step(&bad, &server, NULL, 0, TEST_MTU);
        ok(status == SEC_E_INVALID_PARAMETER, "malformed SRTP profile list: %#lx\n", status);
        ok(!bad.have_ctx, "context created\n");
    }

done:
    DeleteSecurityContext(&client.ctx);
    DeleteSecurityContext(&server.ctx);
    FreeCredentialsHandle(&client.cred);
    FreeCredentialsHandle(&server.cred);
    winetest_pop_context();
}

static void test_mtu_on_stream_context(void)
{
    struct dtls_mtu mtu = { 500 };
    CtxtHandle bogus = { 0x1234, 0x5678 };

    ok(SetContextAttributesA(&bogus, SECPKG_ATTR_DTLS_MTU, &mtu, sizeof(mtu)) == SEC_E_INVALID_HANDLE,
       "bogus handle accepted\n");
}

static void test_tls_only_credential(void)
{
    struct peer client;
    SECURITY_STATUS status;

    memset(&client, 0, sizeof(client));
    if (!acquire(&client, SP_PROT_TLS1_2_CLIENT, NULL)) return;
    status = step(&client, &client, NULL, 0, TEST_MTU);
    ok(status == SEC_E_ALGORITHM_MISMATCH, "datagram context on a TLS-only credential: %#lx\n", status);
    FreeCredentialsHandle(&client.cred);
}

START_TEST(dtls)
{
    HCERTSTORE store;
    PCCERT_CONTEXT cert = import_cert(&store);
    unsigned int i;

    if (!cert) return;
    test_dtls(SP_PROT_DTLS1_2_CLIENT, SP_PROT_DTLS1_2_SERVER, cert, FALSE);
    test_dtls(SP_PROT_DTLS1_0_CLIENT, SP_PROT_DTLS1_0_SERVER, cert, FALSE);
    test_dtls(SP_PROT_DTLS1_2_CLIENT, SP_PROT_DTLS1_2_SERVER, cert, TRUE);
    for (i = 0; i < ARRAY_SIZE(losses); i++) test_dtls_loss(&losses[i], cert);
    test_dtls_srtp(cert, TRUE);
    test_dtls_srtp(cert, FALSE);
    test_mtu_on_stream_context();
    test_tls_only_credential();
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
}
