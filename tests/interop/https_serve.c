/*
 * https_serve: a minimal HTTPS server on Winsock + SSPI/Schannel (AcceptSecurityContext),
 * the way Windows TLS servers drive secur32. It answers every request with a one-line text
 * body describing the connection as the server saw it.
 *
 * Usage: https_serve [options] port
 *   --pfx FILE        server certificate and key (PKCS#12); repeat for more certificates
 *   --password PW     PKCS#12 password (default "test")
 *   --no-persist      import with PKCS12_NO_PERSIST_KEY (key attached to the certificate)
 *   --non-exportable  import without CRYPT_EXPORTABLE
 *   --tls10 --tls11 --tls12 --tls13   enable only these protocols (default: Schannel's)
 *   --schannel-cred   SCHANNEL_CRED (grbitEnabledProtocols) instead of SCH_CREDENTIALS
 *   --mutual          ASC_REQ_MUTUAL_AUTH: ask for a client certificate
 *   --require-cert    with --mutual or --renegotiate: refuse (HTTP 403) a connection without one
 *   --renegotiate     after the request, if the client sent no certificate, ask for one:
 *                     AcceptSecurityContext(ASC_REQ_MUTUAL_AUTH) with no input on the
 *                     established context (TLS 1.2 renegotiation, TLS 1.3 post-handshake
 *                     authentication), as .NET's NegotiateClientCertificateAsync does
 *   --alpn LIST       comma-separated ALPN ids (SECBUFFER_APPLICATION_PROTOCOLS)
 *   --no-reconnect    SCH_CRED_DISABLE_RECONNECTS
 *   --send-root       SCH_SEND_ROOT_CERT
 *   --count N         serve N connections, then exit (default 1, 0: until killed)
 *
 * Listens on 127.0.0.1 only. Prints "listening PORT" when ready, then one line per
 * connection on stdout:
 *   conn N: ok proto=TLS1.3 cipher=0x6610/256 alpn=h2 resumed=0 client=CN
 *   conn N: fail AcceptSecurityContext 0x80090367
 * and, with --renegotiate, "conn N: renegotiation 0x........" with the first ASC status.
 * Exit status: 0 when every connection succeeded, 1 usage, 2 socket, 3 credentials,
 * 4 a connection failed.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -Wall -o https_serve.exe https_serve.c -lws2_32 -lsecur32 -lcrypt32
 */

#define WIN32_LEAN_AND_MEAN
#define SECURITY_WIN32
#define SCHANNEL_USE_BLACKLISTS
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <subauth.h>
#include <wincrypt.h>
#include <security.h>
#include <schannel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE  1
#define EXIT_SOCKET 2
#define EXIT_CRED   3
#define EXIT_CONN   4

#define MAX_PFX          4
#define RECV_TIMEOUT_MS  15000
#define IO_SIZE          (4 * (16384 + 2048 + 5))
#define MAX_STEPS        64

#ifndef SCH_CRED_DISABLE_RECONNECTS
#define SCH_CRED_DISABLE_RECONNECTS 0x00000080
#endif
#ifndef SECPKG_ATTR_SESSION_INFO
#define SECPKG_ATTR_SESSION_INFO 0x5d
#endif
#ifndef PKCS12_NO_PERSIST_KEY
#define PKCS12_NO_PERSIST_KEY 0x00008000
#endif

struct session_info   /* SecPkgContext_SessionInfo */
{
    DWORD dwFlags;
    DWORD cbSessionId;
    BYTE rgbSessionId[32];
};

struct options
{
    const char *pfx[MAX_PFX];
    int pfx_count;
    const char *password;
    BOOL no_persist, non_exportable, schannel_cred, mutual, require_cert, no_reconnect, send_root, renegotiate;
    DWORD protocols;          /* SP_PROT_*_SERVER, 0 for default */
    const char *alpn;
    int count;
    int port;
};

static BYTE alpn_buffer[512];
static ULONG alpn_size;

static BYTE *read_file(const char *path, DWORD *size)
{
    FILE *f = fopen(path, "rb");
    BYTE *data = NULL;
    long len;

    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && len < (1 << 24) && fseek(f, 0, SEEK_SET) == 0
        && (data = malloc(len)) && fread(data, 1, len, f) == (size_t)len)
        *size = len;
    else
    {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

/* The certificate of the bundle that has a private key. */
static PCCERT_CONTEXT import_pfx(const struct options *o, const char *path)
{
    CRYPT_DATA_BLOB blob;
    WCHAR password[128];
    HCERTSTORE store;
    PCCERT_CONTEXT cert = NULL, found = NULL;
    DWORD flags = CRYPT_USER_KEYSET, size;

    if (!(blob.pbData = read_file(path, &blob.cbData)))
    {
        fprintf(stderr, "https_serve: cannot read %s\n", path);
        return NULL;
    }
    if (!o->non_exportable) flags |= CRYPT_EXPORTABLE;
    if (o->no_persist) flags |= PKCS12_NO_PERSIST_KEY;
    MultiByteToWideChar(CP_ACP, 0, o->password, -1, password, ARRAYSIZE(password));
    store = PFXImportCertStore(&blob, password, flags);
    free(blob.pbData);
    if (!store)
    {
        fprintf(stderr, "https_serve: PFXImportCertStore(%s) failed: %lu\n", path, GetLastError());
        return NULL;
    }
    while (!found && (cert = CertEnumCertificatesInStore(store, cert)))
    {
        size = 0;
        if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)
            || CertGetCertificateContextProperty(cert, CERT_KEY_CONTEXT_PROP_ID, NULL, &size))
            found = CertDuplicateCertificateContext(cert);
    }
    if (cert) CertFreeCertificateContext(cert);
    /* The store stays open: the certificate (and its key context) live in it. */
    if (!found) fprintf(stderr, "https_serve: no certificate with a key in %s\n", path);
    return found;
}

static SECURITY_STATUS acquire(const struct options *o, PCCERT_CONTEXT *certs, CredHandle *cred)
{
    SCHANNEL_CRED c4;
    SCH_CREDENTIALS c5;
    TLS_PARAMETERS params;
    DWORD flags = 0;
    void *auth;

    if (o->no_reconnect) flags |= SCH_CRED_DISABLE_RECONNECTS;
    if (o->send_root) flags |= SCH_SEND_ROOT_CERT;
    memset(&c4, 0, sizeof(c4));
    memset(&c5, 0, sizeof(c5));
    memset(&params, 0, sizeof(params));
    if (o->schannel_cred)
    {
        c4.dwVersion = SCHANNEL_CRED_VERSION;
        c4.cCreds = o->pfx_count;
        c4.paCred = certs;
        c4.grbitEnabledProtocols = o->protocols;
        c4.dwFlags = flags;
        auth = &c4;
    }
    else
    {
        c5.dwVersion = SCH_CREDENTIALS_VERSION;
        c5.cCreds = o->pfx_count;
        c5.paCred = certs;
        c5.dwFlags = flags;
        if (o->protocols)
        {
            params.grbitDisabledProtocols = ~o->protocols & (SP_PROT_TLS1_0_SERVER | SP_PROT_TLS1_1_SERVER
                                                            | SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER);
            c5.cTlsParameters = 1;
            c5.pTlsParameters = &params;
        }
        auth = &c5;
    }
    return AcquireCredentialsHandleA(NULL, (char *)UNISP_NAME_A, SECPKG_CRED_INBOUND, NULL, auth, NULL, NULL,
                                     cred, NULL);
}

static BOOL send_all(SOCKET s, const void *data, ULONG size)
{
    const char *p = data;
    while (size)
    {
        int n = send(s, p, size, 0);
        if (n <= 0) return FALSE;
        p += n;
        size -= n;
    }
    return TRUE;
}

static int recv_more(SOCKET s, BYTE *buf, ULONG *len)
{
    int n;
    if (*len >= IO_SIZE) return -1;
    n = recv(s, (char *)buf + *len, IO_SIZE - *len, 0);
    if (n <= 0) return -1;
    *len += n;
    return n;
}

static const char *proto_name(DWORD p)
{
    switch (p)
    {
    case SP_PROT_TLS1_0_SERVER: return "TLS1.0";
    case SP_PROT_TLS1_1_SERVER: return "TLS1.1";
    case SP_PROT_TLS1_2_SERVER: return "TLS1.2";
    case SP_PROT_TLS1_3_SERVER: return "TLS1.3";
    default: return "?";
    }
}

/* The handshake (or, with extra_req ASC_REQ_MUTUAL_AUTH on an established context, the rest of
 * a renegotiation); leftover application data stays at the start of buf (*len bytes). */
static SECURITY_STATUS accept_handshake(const struct options *o, SOCKET s, CredHandle *cred, CtxtHandle *ctx,
                                        BOOL *have_ctx, BYTE *buf, ULONG *len, const char **where, ULONG extra_req)
{
    ULONG req = ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY
              | ASC_REQ_EXTENDED_ERROR | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM | extra_req;
    SECURITY_STATUS status;
    int steps;

    if (o->mutual) req |= ASC_REQ_MUTUAL_AUTH;
    *where = "recv";
    if (!*len && recv_more(s, buf, len) < 0) return SEC_E_INTERNAL_ERROR;
    for (steps = 0; steps < MAX_STEPS; steps++)
    {
        SecBuffer in[3], out[2];
        SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in }, out_desc = { SECBUFFER_VERSION, 2, out };
        ULONG attrs = 0;

        in[0].BufferType = SECBUFFER_TOKEN;
        in[0].pvBuffer = buf;
        in[0].cbBuffer = *len;
        in[1].BufferType = SECBUFFER_EMPTY;
        in[1].pvBuffer = NULL;
        in[1].cbBuffer = 0;
        if (alpn_size)
        {
            in[2].BufferType = SECBUFFER_APPLICATION_PROTOCOLS;
            in[2].pvBuffer = alpn_buffer;
            in[2].cbBuffer = alpn_size;
            in_desc.cBuffers = 3;
        }
        out[0].BufferType = SECBUFFER_TOKEN;
        out[0].pvBuffer = NULL;
        out[0].cbBuffer = 0;
        out[1].BufferType = SECBUFFER_ALERT;
        out[1].pvBuffer = NULL;
        out[1].cbBuffer = 0;

        *where = "AcceptSecurityContext";
        status = AcceptSecurityContext(cred, *have_ctx ? ctx : NULL, &in_desc, req, 0, ctx, &out_desc, &attrs, NULL);
        if (status == SEC_E_INCOMPLETE_MESSAGE)
        {
            *where = "recv";
            if (recv_more(s, buf, len) < 0) return status;
            continue;
        }
        if (out[0].pvBuffer)
        {
            if (out[0].cbBuffer) send_all(s, out[0].pvBuffer, out[0].cbBuffer);
            FreeContextBuffer(out[0].pvBuffer);
        }
        if (out[1].pvBuffer) FreeContextBuffer(out[1].pvBuffer);
        if (FAILED(status)) return status;
        *have_ctx = TRUE;
        if (in[1].BufferType == SECBUFFER_EXTRA && in[1].cbBuffer <= *len)
        {
            memmove(buf, buf + *len - in[1].cbBuffer, in[1].cbBuffer);
            *len = in[1].cbBuffer;
        }
        else *len = 0;
        if (status == SEC_E_OK) return status;
        if (status != SEC_I_CONTINUE_NEEDED) return status;
        if (!*len)
        {
            *where = "recv";
            if (recv_more(s, buf, len) < 0) return SEC_E_INTERNAL_ERROR;
        }
    }
    return SEC_E_INTERNAL_ERROR;
}

/* Reads and decrypts until the request's blank line (or close_notify / EOF). */
static SECURITY_STATUS read_request(SOCKET s, CtxtHandle *ctx, BYTE *buf, ULONG *len, char *req, ULONG req_size)
{
    ULONG got = 0;

    req[0] = 0;
    for (;;)
    {
        SecBuffer b[4];
        SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
        SECURITY_STATUS status;
        int i;

        if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n")) return SEC_E_OK;
        if (!*len && recv_more(s, buf, len) < 0) return SEC_E_OK;
        b[0].BufferType = SECBUFFER_DATA;
        b[0].pvBuffer = buf;
        b[0].cbBuffer = *len;
        for (i = 1; i < 4; i++)
        {
            b[i].BufferType = SECBUFFER_EMPTY;
            b[i].pvBuffer = NULL;
            b[i].cbBuffer = 0;
        }
        status = DecryptMessage(ctx, &desc, 0, NULL);
        if (status == SEC_E_INCOMPLETE_MESSAGE)
        {
            if (recv_more(s, buf, len) < 0) return SEC_E_OK;
            continue;
        }
        if (status == SEC_I_CONTEXT_EXPIRED) return status;
        if (status != SEC_E_OK && status != SEC_I_RENEGOTIATE) return status;
        for (i = 1; i < 4; i++)
            if (b[i].BufferType == SECBUFFER_DATA && b[i].cbBuffer && got + b[i].cbBuffer < req_size)
            {
                memcpy(req + got, b[i].pvBuffer, b[i].cbBuffer);
                got += b[i].cbBuffer;
                req[got] = 0;
            }
        for (i = 1; i < 4; i++)
            if (b[i].BufferType == SECBUFFER_EXTRA) break;
        if (i < 4)
        {
            memmove(buf, buf + *len - b[i].cbBuffer, b[i].cbBuffer);
            *len = b[i].cbBuffer;
        }
        else *len = 0;
    }
}

static SECURITY_STATUS send_text(SOCKET s, CtxtHandle *ctx, const char *text)
{
    SecPkgContext_StreamSizes sizes;
    SecBuffer b[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
    SECURITY_STATUS status;
    ULONG size = strlen(text);
    BYTE *msg;

    if ((status = QueryContextAttributesA(ctx, SECPKG_ATTR_STREAM_SIZES, &sizes))) return status;
    if (size > sizes.cbMaximumMessage) return SEC_E_BUFFER_TOO_SMALL;
    if (!(msg = malloc(sizes.cbHeader + size + sizes.cbTrailer))) return SEC_E_INSUFFICIENT_MEMORY;
    memcpy(msg + sizes.cbHeader, text, size);
    b[0].BufferType = SECBUFFER_STREAM_HEADER; b[0].pvBuffer = msg; b[0].cbBuffer = sizes.cbHeader;
    b[1].BufferType = SECBUFFER_DATA; b[1].pvBuffer = msg + sizes.cbHeader; b[1].cbBuffer = size;
    b[2].BufferType = SECBUFFER_STREAM_TRAILER; b[2].pvBuffer = msg + sizes.cbHeader + size;
    b[2].cbBuffer = sizes.cbTrailer;
    b[3].BufferType = SECBUFFER_EMPTY; b[3].pvBuffer = NULL; b[3].cbBuffer = 0;
    status = EncryptMessage(ctx, 0, &desc, 0);
    if (status == SEC_E_OK && !send_all(s, msg, b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer))
        status = SEC_E_INTERNAL_ERROR;
    free(msg);
    return status;
}

static void send_close_notify(SOCKET s, CredHandle *cred, CtxtHandle *ctx)
{
    DWORD type = SCHANNEL_SHUTDOWN;
    SecBuffer in = { sizeof(type), SECBUFFER_TOKEN, &type }, out = { 0, SECBUFFER_TOKEN, NULL };
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 1, &in }, out_desc = { SECBUFFER_VERSION, 1, &out };
    ULONG attrs;

    if (ApplyControlToken(ctx, &in_desc) != SEC_E_OK) return;
    if (AcceptSecurityContext(cred, ctx, NULL, ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM, 0, ctx, &out_desc,
                              &attrs, NULL) == SEC_E_OK && out.pvBuffer)
        send_all(s, out.pvBuffer, out.cbBuffer);
    if (out.pvBuffer) FreeContextBuffer(out.pvBuffer);
}

/* Asks the established client for a certificate: ASC with ASC_REQ_MUTUAL_AUTH and an empty
 * input token gives the request (HelloRequest / TLS 1.3 CertificateRequest), then the client's
 * answer goes through ASC until SEC_E_OK. */
static SECURITY_STATUS request_certificate(const struct options *o, SOCKET s, CredHandle *cred, CtxtHandle *ctx,
                                           BYTE *buf, ULONG *len, int n)
{
    ULONG req = ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY
              | ASC_REQ_EXTENDED_ERROR | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM | ASC_REQ_MUTUAL_AUTH;
    SecBuffer in[2], out[1];
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in }, out_desc = { SECBUFFER_VERSION, 1, out };
    SECURITY_STATUS status;
    const char *where;
    BOOL have_ctx = TRUE;
    ULONG attrs = 0;

    in[0].BufferType = SECBUFFER_TOKEN; in[0].pvBuffer = NULL; in[0].cbBuffer = 0;
    in[1].BufferType = SECBUFFER_EMPTY; in[1].pvBuffer = NULL; in[1].cbBuffer = 0;
    out[0].BufferType = SECBUFFER_TOKEN; out[0].pvBuffer = NULL; out[0].cbBuffer = 0;
    status = AcceptSecurityContext(cred, ctx, &in_desc, req, 0, ctx, &out_desc, &attrs, NULL);
    printf("conn %d: renegotiation 0x%08lx, %lu byte request\n", n, status, out[0].cbBuffer);
    fflush(stdout);
    if (out[0].pvBuffer)
    {
        if (out[0].cbBuffer && !send_all(s, out[0].pvBuffer, out[0].cbBuffer)) status = SEC_E_INTERNAL_ERROR;
        FreeContextBuffer(out[0].pvBuffer);
    }
    if (status != SEC_E_OK) return status;
    status = accept_handshake(o, s, cred, ctx, &have_ctx, buf, len, &where, ASC_REQ_MUTUAL_AUTH);
    if (status != SEC_E_OK) printf("conn %d: renegotiation failed in %s: 0x%08lx\n", n, where, status);
    return status;
}

/* One line describing the connection as the server sees it. */
static void describe(CtxtHandle *ctx, char *line, size_t size, BOOL *has_client_cert)
{
    SecPkgContext_ConnectionInfo info;
    SecPkgContext_ApplicationProtocol alpn;
    struct session_info session;
    PCCERT_CONTEXT peer = NULL;
    char alpn_name[256] = "-", client[256] = "-", resumed[8] = "?";

    memset(&info, 0, sizeof(info));
    QueryContextAttributesA(ctx, SECPKG_ATTR_CONNECTION_INFO, &info);
    memset(&alpn, 0, sizeof(alpn));
    if (QueryContextAttributesA(ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &alpn) == SEC_E_OK
        && alpn.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success && alpn.ProtocolIdSize)
    {
        memcpy(alpn_name, alpn.ProtocolId, alpn.ProtocolIdSize);
        alpn_name[alpn.ProtocolIdSize] = 0;
    }
    memset(&session, 0, sizeof(session));
    if (QueryContextAttributesA(ctx, SECPKG_ATTR_SESSION_INFO, &session) == SEC_E_OK)
        sprintf(resumed, "%lu", session.dwFlags & 1);
    *has_client_cert = FALSE;
    if (QueryContextAttributesA(ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &peer) == SEC_E_OK && peer)
    {
        CertGetNameStringA(peer, CERT_NAME_SIMPLE_DISPLAY_TYPE, 0, NULL, client, sizeof(client));
        CertFreeCertificateContext(peer);
        *has_client_cert = TRUE;
    }
    snprintf(line, size, "proto=%s cipher=%#x/%lu alpn=%s resumed=%s client=%s", proto_name(info.dwProtocol),
             info.aiCipher, info.dwCipherStrength, alpn_name, resumed, client);
}

static BOOL serve_one(const struct options *o, SOCKET s, CredHandle *cred, int n)
{
    static BYTE buf[IO_SIZE];
    CtxtHandle ctx;
    BOOL have_ctx = FALSE, has_cert;
    ULONG len = 0;
    const char *where = "";
    char line[600], request[4096], response[1024];
    SECURITY_STATUS status;

    status = accept_handshake(o, s, cred, &ctx, &have_ctx, buf, &len, &where, 0);
    if (status != SEC_E_OK)
    {
        printf("conn %d: fail %s 0x%08lx\n", n, where, status);
        fflush(stdout);
        if (have_ctx) DeleteSecurityContext(&ctx);
        return FALSE;
    }
    describe(&ctx, line, sizeof(line), &has_cert);
    status = read_request(s, &ctx, buf, &len, request, sizeof(request));
    if (status == SEC_E_OK && o->renegotiate && !has_cert)
    {
        status = request_certificate(o, s, cred, &ctx, buf, &len, n);
        if (status == SEC_E_OK) describe(&ctx, line, sizeof(line), &has_cert);
        else if (status == SEC_I_NO_RENEGOTIATION) status = SEC_E_OK;  /* the client cannot be asked */
    }
    if (status == SEC_E_OK || status == SEC_I_CONTEXT_EXPIRED)
    {
        if (o->require_cert && !has_cert)
            snprintf(response, sizeof(response), "HTTP/1.0 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n"
                     "client certificate required\n");
        else
            snprintf(response, sizeof(response), "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n%s\n", line);
        if (status == SEC_E_OK) status = send_text(s, &ctx, response);
        else status = SEC_E_OK;
    }
    if (status == SEC_E_OK) send_close_notify(s, cred, &ctx);
    printf("conn %d: %s %s%s\n", n, status == SEC_E_OK ? "ok" : "fail", line,
           o->require_cert && !has_cert ? " (refused: no client certificate)" : "");
    if (status != SEC_E_OK) printf("conn %d: fail message 0x%08lx\n", n, status);
    fflush(stdout);
    DeleteSecurityContext(&ctx);
    return status == SEC_E_OK && !(o->require_cert && !has_cert);
}

static BOOL build_alpn(const char *list)
{
    /* SEC_APPLICATION_PROTOCOLS: ULONG size, then one list: ext (ALPN), USHORT size, ids. */
    ULONG pos = 10, ext = SecApplicationProtocolNegotiationExt_ALPN;
    const char *p = list;
    USHORT ids;

    while (*p)
    {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (!n || n > 255 || pos + 1 + n > sizeof(alpn_buffer)) return FALSE;
        alpn_buffer[pos++] = (BYTE)n;
        memcpy(alpn_buffer + pos, p, n);
        pos += n;
        p += n;
        if (*p == ',') p++;
    }
    ids = pos - 10;
    alpn_size = pos;
    pos -= 4;
    memcpy(alpn_buffer, &pos, 4);
    memcpy(alpn_buffer + 4, &ext, 4);
    memcpy(alpn_buffer + 8, &ids, 2);
    return TRUE;
}

static int usage(void)
{
    fprintf(stderr, "usage: https_serve [--pfx FILE]... [--password PW] [--no-persist] [--non-exportable] "
            "[--tls10] [--tls11] [--tls12] [--tls13] [--schannel-cred] [--mutual] [--require-cert] [--renegotiate] "
            "[--alpn LIST] [--no-reconnect] [--send-root] [--count N] port\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    struct options o;
    PCCERT_CONTEXT certs[MAX_PFX];
    CredHandle cred;
    SECURITY_STATUS status;
    struct sockaddr_in addr;
    WSADATA wsa;
    SOCKET listener;
    int i, n, failures = 0;
    DWORD timeout = RECV_TIMEOUT_MS;

    memset(&o, 0, sizeof(o));
    o.password = "test";
    o.count = 1;
    for (i = 1; i < argc; i++)
    {
        if (!strcmp(argv[i], "--pfx") && i + 1 < argc && o.pfx_count < MAX_PFX) o.pfx[o.pfx_count++] = argv[++i];
        else if (!strcmp(argv[i], "--password") && i + 1 < argc) o.password = argv[++i];
        else if (!strcmp(argv[i], "--no-persist")) o.no_persist = TRUE;
        else if (!strcmp(argv[i], "--non-exportable")) o.non_exportable = TRUE;
        else if (!strcmp(argv[i], "--tls10")) o.protocols |= SP_PROT_TLS1_0_SERVER;
        else if (!strcmp(argv[i], "--tls11")) o.protocols |= SP_PROT_TLS1_1_SERVER;
        else if (!strcmp(argv[i], "--tls12")) o.protocols |= SP_PROT_TLS1_2_SERVER;
        else if (!strcmp(argv[i], "--tls13")) o.protocols |= SP_PROT_TLS1_3_SERVER;
        else if (!strcmp(argv[i], "--schannel-cred")) o.schannel_cred = TRUE;
        else if (!strcmp(argv[i], "--mutual")) o.mutual = TRUE;
        else if (!strcmp(argv[i], "--require-cert")) o.require_cert = TRUE;
        else if (!strcmp(argv[i], "--renegotiate")) o.renegotiate = TRUE;
        else if (!strcmp(argv[i], "--alpn") && i + 1 < argc) o.alpn = argv[++i];
        else if (!strcmp(argv[i], "--no-reconnect")) o.no_reconnect = TRUE;
        else if (!strcmp(argv[i], "--send-root")) o.send_root = TRUE;
        else if (!strcmp(argv[i], "--count") && i + 1 < argc) o.count = atoi(argv[++i]);
        else if (argv[i][0] == '-') return usage();
        else o.port = atoi(argv[i]);
    }
    if (!o.port || !o.pfx_count) return usage();
    if (o.alpn && !build_alpn(o.alpn)) return usage();

    for (i = 0; i < o.pfx_count; i++)
        if (!(certs[i] = import_pfx(&o, o.pfx[i]))) return EXIT_CRED;
    if ((status = acquire(&o, certs, &cred)))
    {
        printf("AcquireCredentialsHandle failed: 0x%08lx\n", status);
        return EXIT_CRED;
    }

    WSAStartup(MAKEWORD(2, 2), &wsa);
    listener = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(o.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener == INVALID_SOCKET || bind(listener, (struct sockaddr *)&addr, sizeof(addr))
        || listen(listener, 8))
    {
        printf("cannot listen on 127.0.0.1:%d: %d\n", o.port, WSAGetLastError());
        return EXIT_SOCKET;
    }
    printf("listening %d\n", o.port);
    fflush(stdout);
    for (n = 1; !o.count || n <= o.count; n++)
    {
        SOCKET s = accept(listener, NULL, NULL);
        if (s == INVALID_SOCKET) return EXIT_SOCKET;
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof(timeout));
        if (!serve_one(&o, s, &cred, n)) failures++;
        shutdown(s, SD_SEND);
        closesocket(s);
    }
    closesocket(listener);
    FreeCredentialsHandle(&cred);
    for (i = 0; i < o.pfx_count; i++) CertFreeCertificateContext(certs[i]);
    WSACleanup();
    return failures ? EXIT_CONN : 0;
}
