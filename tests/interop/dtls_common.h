/*
 * Shared part of dtls_client.c and dtls_server.c: a DTLS endpoint on a Winsock UDP socket and
 * Schannel (ISC_REQ_DATAGRAM / ASC_REQ_DATAGRAM), driven the way Windows programs drive it:
 *  - every output token is one datagram, sent as it comes; SEC_I_MESSAGE_FRAGMENT means "call
 *    again without input for the next datagram of this flight";
 *  - every received datagram is one input token;
 *  - the program owns the retransmission timer: when no datagram came within it, it calls
 *    ISC/ASC without input and sends whatever comes out (the flight, again), doubling the timer;
 *  - after the handshake each datagram is one record for DecryptMessage; SEC_I_RENEGOTIATE
 *    there means that the peer resent its last flight: ISC/ASC gives ours to send again.
 */

#define WIN32_LEAN_AND_MEAN
#define SECURITY_WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <wincrypt.h>
#include <security.h>
#include <schannel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SECBUFFER_DTLS_MTU
#define SECBUFFER_DTLS_MTU 24
#endif
#ifndef SEC_I_MESSAGE_FRAGMENT
#define SEC_I_MESSAGE_FRAGMENT ((SECURITY_STATUS)0x00090364)
#endif
#ifndef SP_PROT_DTLS1_0_CLIENT
#define SP_PROT_DTLS1_0_SERVER 0x00010000
#define SP_PROT_DTLS1_0_CLIENT 0x00020000
#endif
#ifndef SP_PROT_DTLS1_2_CLIENT
#define SP_PROT_DTLS1_2_SERVER 0x00040000
#define SP_PROT_DTLS1_2_CLIENT 0x00080000
#endif

#ifndef SECBUFFER_SRTP_PROTECTION_PROFILES
#define SECBUFFER_SRTP_PROTECTION_PROFILES 19
#endif
#define ATTR_KEYING_MATERIAL_INFO 0x6a
#define ATTR_KEYING_MATERIAL 0x6b
#define ATTR_SRTP_PARAMETERS 0x6c

/* SecPkgContext_SrtpParameters, SecPkgContext_KeyingMaterialInfo, SecPkgContext_KeyingMaterial */
struct srtp_parameters { USHORT ProtectionProfile; BYTE MasterKeyIdentifierSize; BYTE *MasterKeyIdentifier; };
struct keying_material_info { WORD cbLabel; char *pszLabel; WORD cbContextValue; BYTE *pbContextValue;
                              DWORD cbKeyingMaterial; };
struct keying_material { DWORD cbKeyingMaterial; BYTE *pbKeyingMaterial; };

/* SEC_SRTP_PROTECTION_PROFILES: size in bytes, then big-endian ids as on the wire:
 * AEAD_AES_128_GCM (7), AES128_CM_HMAC_SHA1_80 (1) */
static const BYTE srtp_offer[] = { 4, 0, 0x00, 0x07, 0x00, 0x01 };

#define DGRAM_MAX 65536
#define FIRST_TIMER_MS 1000
#define MAX_TIMER_MS 8000
#define HANDSHAKE_LIMIT_MS 30000
#define DATA_LIMIT_MS 15000

struct dtls_mtu { unsigned short PathMTU; };

struct endpoint
{
    SOCKET s;
    BOOL server;
    CredHandle cred;
    CtxtHandle ctx;
    BOOL have_ctx;
    unsigned short mtu;               /* 0: Schannel's default */
    const char *target;               /* client: pszTargetName */
    BOOL srtp;                        /* offer DTLS-SRTP (srtp_offer) */
    BYTE peer_addr[sizeof(SOCKADDR_STORAGE)];   /* server: the client's address, for the cookie */
    int peer_addr_len;
    unsigned int datagrams_out, retransmit_calls, fragments;
};

#define CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY \
                    | ISC_REQ_EXTENDED_ERROR | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_DATAGRAM)
#define SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY \
                    | ASC_REQ_EXTENDED_ERROR | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_DATAGRAM)

static int fail(const char *what, SECURITY_STATUS status)
{
    printf("error: %s: 0x%08lx\n", what, (unsigned long)status);
    fflush(stdout);
    return 3;
}

/* Waits at most ms for one datagram: its size, 0 on timeout, -1 on a socket error. */
static int wait_datagram(SOCKET s, BYTE *buf, int size, DWORD ms)
{
    struct timeval tv;
    fd_set set;
    int n;

    FD_ZERO(&set);
    FD_SET(s, &set);
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    n = select(0, &set, NULL, NULL, &tv);
    if (n <= 0) return n;
    n = recv(s, (char *)buf, size, 0);
    if (n == SOCKET_ERROR && WSAGetLastError() == WSAECONNRESET) return 0;  /* ICMP from an earlier send */
    return n < 0 ? -1 : n;
}

static int send_datagram(struct endpoint *e, const void *data, ULONG size)
{
    if (!size) return 0;
    e->datagrams_out++;
    return send(e->s, data, size, 0) == (int)size ? 0 : -1;
}

/* One ISC/ASC call with one datagram (or none), then the rest of the flight. */
static SECURITY_STATUS step(struct endpoint *e, BYTE *dgram, ULONG len)
{
    SecBuffer in_bufs[5], out_bufs[2];
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 0, in_bufs }, out_desc = { SECBUFFER_VERSION, 2, out_bufs };
    struct dtls_mtu mtu = { e->mtu };
    SECURITY_STATUS status;
    ULONG attrs;
    BOOL first = TRUE;

    do
    {
        memset(in_bufs, 0, sizeof(in_bufs));
        in_desc.cBuffers = 0;
        in_bufs[in_desc.cBuffers].BufferType = SECBUFFER_TOKEN;
        in_bufs[in_desc.cBuffers].pvBuffer = first ? dgram : NULL;
        in_bufs[in_desc.cBuffers++].cbBuffer = first ? len : 0;
        if (e->server && e->peer_addr_len)
        {
            in_bufs[in_desc.cBuffers].BufferType = SECBUFFER_EXTRA;   /* the client's transport address */
            in_bufs[in_desc.cBuffers].pvBuffer = e->peer_addr;
            in_bufs[in_desc.cBuffers++].cbBuffer = e->peer_addr_len;
        }
        if (!e->have_ctx && e->mtu)
        {
            in_bufs[in_desc.cBuffers].BufferType = SECBUFFER_DTLS_MTU;
            in_bufs[in_desc.cBuffers].pvBuffer = &mtu;
            in_bufs[in_desc.cBuffers++].cbBuffer = sizeof(mtu);
        }
        if (e->srtp)
        {
            in_bufs[in_desc.cBuffers].BufferType = SECBUFFER_SRTP_PROTECTION_PROFILES;
            in_bufs[in_desc.cBuffers].pvBuffer = (void *)srtp_offer;
            in_bufs[in_desc.cBuffers++].cbBuffer = sizeof(srtp_offer);
        }
        in_bufs[in_desc.cBuffers++].BufferType = SECBUFFER_EMPTY;
        memset(out_bufs, 0, sizeof(out_bufs));
        out_bufs[0].BufferType = SECBUFFER_TOKEN;
        out_bufs[1].BufferType = SECBUFFER_ALERT;

        if (e->server)
            status = AcceptSecurityContext(&e->cred, e->have_ctx ? &e->ctx : NULL, &in_desc, SERVER_REQ, 0,
                                           &e->ctx, &out_desc, &attrs, NULL);
        else
            status = InitializeSecurityContextA(&e->cred, e->have_ctx ? &e->ctx : NULL, (char *)e->target,
                                                CLIENT_REQ, 0, 0, &in_desc, 0, &e->ctx, &out_desc, &attrs, NULL);
        if (!FAILED(status)) e->have_ctx = TRUE;
        if (out_bufs[0].cbBuffer && out_bufs[0].pvBuffer
            && send_datagram(e, out_bufs[0].pvBuffer, out_bufs[0].cbBuffer))
            status = SEC_E_INTERNAL_ERROR;
        if (out_bufs[0].pvBuffer) FreeContextBuffer(out_bufs[0].pvBuffer);
        if (out_bufs[1].pvBuffer) FreeContextBuffer(out_bufs[1].pvBuffer);
        if (status == SEC_I_MESSAGE_FRAGMENT) e->fragments++;
        first = FALSE;
    } while (status == SEC_I_MESSAGE_FRAGMENT);
    return status;
}

/* The handshake from its first step on: the caller's retransmission timer included. */
static SECURITY_STATUS handshake(struct endpoint *e, BYTE *first, ULONG first_len)
{
    static BYTE buf[DGRAM_MAX];
    SECURITY_STATUS status = step(e, first, first_len);
    DWORD timer = FIRST_TIMER_MS, waited = 0;
    int n;

    while (status == SEC_I_CONTINUE_NEEDED)
    {
        if ((n = wait_datagram(e->s, buf, sizeof(buf), timer)) < 0) return SEC_E_INTERNAL_ERROR;
        if (!n)
        {
            waited += timer;
            if (waited >= HANDSHAKE_LIMIT_MS)
            {
                printf("error: no datagram from the peer within %u ms\n", HANDSHAKE_LIMIT_MS);
                return SEC_E_INTERNAL_ERROR;
            }
            if (timer < MAX_TIMER_MS) timer *= 2;
            e->retransmit_calls++;
            status = step(e, NULL, 0);   /* the timer fired */
            continue;
        }
        timer = FIRST_TIMER_MS;
        waited = 0;
        status = step(e, buf, n);
    }
    return status;
}

static void print_session(struct endpoint *e)
{
    SecPkgContext_ConnectionInfo info;
    SecPkgContext_StreamSizes sizes;
    const CERT_CONTEXT *cert = NULL;
    const char *proto = "unknown";
    char name[256];

    if (!QueryContextAttributesA(&e->ctx, SECPKG_ATTR_CONNECTION_INFO, &info))
    {
        if (info.dwProtocol & (SP_PROT_DTLS1_2_CLIENT | SP_PROT_DTLS1_2_SERVER)) proto = "DTLS 1.2";
        else if (info.dwProtocol & (SP_PROT_DTLS1_0_CLIENT | SP_PROT_DTLS1_0_SERVER)) proto = "DTLS 1.0";
        printf("protocol: %s (0x%lx), cipher 0x%x/%lu bits\n", proto, info.dwProtocol, info.aiCipher,
               info.dwCipherStrength);
    }
    if (!QueryContextAttributesA(&e->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes))
        printf("sizes: header %lu, trailer %lu, max message %lu\n", sizes.cbHeader, sizes.cbTrailer,
               sizes.cbMaximumMessage);
    if (!e->server && !QueryContextAttributesA(&e->ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &cert) && cert)
    {
        CertGetNameStringA(cert, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, name, sizeof(name));
        printf("peer: %s\n", name);
        CertFreeCertificateContext(cert);
    }
    if (e->srtp)
    {
        static char label[] = "EXTRACTOR-dtls_srtp";
        struct keying_material_info info = { sizeof(label), label, 0, NULL, 60 };
        struct keying_material material = { 0, NULL };
        struct srtp_parameters srtp;
        DWORD i;

        if (!QueryContextAttributesA(&e->ctx, ATTR_SRTP_PARAMETERS, &srtp))
            printf("srtp profile: 0x%04x\n", (srtp.ProtectionProfile >> 8) | ((srtp.ProtectionProfile & 0xff) << 8));
        if (!SetContextAttributesA(&e->ctx, ATTR_KEYING_MATERIAL_INFO, &info, sizeof(info))
            && !QueryContextAttributesA(&e->ctx, ATTR_KEYING_MATERIAL, &material))
        {
            printf("keying material: ");
            for (i = 0; i < material.cbKeyingMaterial; i++) printf("%02X", material.pbKeyingMaterial[i]);
            printf("\n");
            FreeContextBuffer(material.pbKeyingMaterial);
        }
    }
    printf("handshake: %u datagrams sent, %u fragments, %u timer calls\n", e->datagrams_out, e->fragments,
           e->retransmit_calls);
    fflush(stdout);
}

/* One datagram of application data. */
static SECURITY_STATUS seal_and_send(struct endpoint *e, const char *text)
{
    SecPkgContext_StreamSizes sizes;
    SecBuffer bufs[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
    ULONG len = strlen(text);
    SECURITY_STATUS status;
    BYTE *record;

    if ((status = QueryContextAttributesA(&e->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes))) return status;
    if (len > sizes.cbMaximumMessage) return SEC_E_BUFFER_TOO_SMALL;
    if (!(record = malloc(sizes.cbHeader + len + sizes.cbTrailer))) return SEC_E_INSUFFICIENT_MEMORY;
    bufs[0].BufferType = SECBUFFER_STREAM_HEADER;
    bufs[0].pvBuffer = record;
    bufs[0].cbBuffer = sizes.cbHeader;
    bufs[1].BufferType = SECBUFFER_DATA;
    bufs[1].pvBuffer = record + sizes.cbHeader;
    bufs[1].cbBuffer = len;
    memcpy(bufs[1].pvBuffer, text, len);
    bufs[2].BufferType = SECBUFFER_STREAM_TRAILER;
    bufs[2].pvBuffer = record + sizes.cbHeader + len;
    bufs[2].cbBuffer = sizes.cbTrailer;
    bufs[3].BufferType = SECBUFFER_EMPTY;
    bufs[3].pvBuffer = NULL;
    bufs[3].cbBuffer = 0;
    status = EncryptMessage(&e->ctx, 0, &desc, 0);
    if (!status)
    {
        /* header, data and trailer are contiguous: one datagram */
        if (bufs[2].pvBuffer != record + bufs[0].cbBuffer + bufs[1].cbBuffer)
            memmove(record + bufs[0].cbBuffer + bufs[1].cbBuffer, bufs[2].pvBuffer, bufs[2].cbBuffer);
        if (send_datagram(e, record, bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer))
            status = SEC_E_INTERNAL_ERROR;
    }
    free(record);
    return status;
}

/* Waits for one datagram of application data: its size (text gets it, NUL-terminated), 0 when the
 * peer closed, -1 on timeout or failure. Stray handshake datagrams are handled on the way. */
static int receive_text(struct endpoint *e, char *text, ULONG size)
{
    static BYTE buf[DGRAM_MAX];
    SecBuffer bufs[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
    SECURITY_STATUS status;
    DWORD start = GetTickCount();
    int n;

    while (GetTickCount() - start < DATA_LIMIT_MS)
    {
        if ((n = wait_datagram(e->s, buf, sizeof(buf), 500)) < 0) return -1;
        if (!n) continue;
        memset(bufs, 0, sizeof(bufs));
        bufs[0].BufferType = SECBUFFER_DATA;
        bufs[0].pvBuffer = buf;
        bufs[0].cbBuffer = n;
        status = DecryptMessage(&e->ctx, &desc, 0, NULL);
        if (status == SEC_I_CONTEXT_EXPIRED) return 0;
        if (status == SEC_I_RENEGOTIATE)
        {
            /* the peer resent its last flight: ours goes again */
            status = step(e, NULL, 0);
            if (FAILED(status)) return fail("retransmission after SEC_I_RENEGOTIATE", status), -1;
            continue;
        }
        if (status == SEC_E_MESSAGE_ALTERED || status == SEC_E_OUT_OF_SEQUENCE) continue;   /* dropped */
        if (status != SEC_E_OK) return fail("DecryptMessage", status), -1;
        if (bufs[1].BufferType != SECBUFFER_DATA || !bufs[1].cbBuffer) continue;
        if (bufs[1].cbBuffer >= size) bufs[1].cbBuffer = size - 1;
        memcpy(text, bufs[1].pvBuffer, bufs[1].cbBuffer);
        text[bufs[1].cbBuffer] = 0;
        return bufs[1].cbBuffer;
    }
    printf("error: no data within %u ms\n", DATA_LIMIT_MS);
    return -1;
}

/* close_notify: ApplyControlToken(SCHANNEL_SHUTDOWN), then one ISC/ASC call. */
static SECURITY_STATUS shutdown_session(struct endpoint *e)
{
    DWORD type = SCHANNEL_SHUTDOWN;
    SecBuffer token = { sizeof(type), SECBUFFER_TOKEN, &type };
    SecBufferDesc desc = { SECBUFFER_VERSION, 1, &token };
    SECURITY_STATUS status;

    if ((status = ApplyControlToken(&e->ctx, &desc))) return status;
    return step(e, NULL, 0);
}

static void chomp(char *text)
{
    size_t len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) text[--len] = 0;
}
