/*
 * https_get: a minimal HTTPS client on Winsock + SSPI/Schannel, the way Windows
 * applications (curl's Schannel backend among them) drive secur32.
 *
 * Usage: https_get [options] host port
 *   --validate        let Schannel validate the server certificate
 *                     (default: SCH_CRED_MANUAL_CRED_VALIDATION, no validation)
 *   --tls12 | --tls13 allow only that protocol (default: TLS 1.2 and TLS 1.3)
 *   --schannel-cred   use the old SCHANNEL_CRED (version 4, grbitEnabledProtocols)
 *                     instead of SCH_CREDENTIALS (version 5, grbitDisabledProtocols)
 *   --sni NAME        target name for InitializeSecurityContextW (default: host)
 *   --path PATH       request path (default: /)
 *   --show            print the response after the summary lines
 *   --no-shutdown     do not send our close_notify (ApplyControlToken(SCHANNEL_SHUTDOWN))
 *
 * Output (stdout), one item per line:
 *   protocol: TLS 1.3
 *   cipher: CALG_AES_256 256
 *   hash: CALG_SHA_384 0
 *   exchange: CALG_ECDH_EPHEM 256
 *   status: HTTP/1.1 200 OK
 *   bytes: N            (decrypted response bytes, headers included)
 * Exit status: 0 when the handshake, the request and the response (up to close_notify
 * or connection close) all succeeded and the response has an HTTP status line;
 *   end: close_notify   (or "end: eof" when the server closed without close_notify)
 * 1 usage, 2 socket error, 3 SSPI error (function name and status printed), 4 bad response,
 * 5 a protocol outside the allowed set was negotiated.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -Wall -o https_get.exe https_get.c -lws2_32 -lsecur32
 */

#define WIN32_LEAN_AND_MEAN
#define SECURITY_WIN32
#define SCHANNEL_USE_BLACKLISTS   /* MinGW's schannel.h hides SCH_CREDENTIALS without it */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <subauth.h>              /* UNICODE_STRING, used by TLS_PARAMETERS */
#include <wincrypt.h>
#include <security.h>
#include <schannel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE  1
#define EXIT_SOCKET 2
#define EXIT_SSPI   3
#define EXIT_HTTP   4
#define EXIT_POLICY 5

#define RECV_TIMEOUT_MS   10000
#define MAX_HANDSHAKE_STEPS 64
#define MAX_RESPONSE      (16u << 20)
#define IO_BUFFER_SIZE    (2 * (16384 + 2048 + 5))  /* two maximal TLS records */

struct options
{
    const char *host;
    const char *port;
    const char *sni;
    const char *path;
    DWORD protocols;
    BOOL validate;
    BOOL schannel_cred;
    BOOL show;
    BOOL no_shutdown;
};

struct conn
{
    SOCKET sock;
    CredHandle cred;
    CtxtHandle ctx;
    BOOL have_ctx;
    DWORD req_flags;
    WCHAR *target;
    unsigned char in[IO_BUFFER_SIZE];   /* received, not yet consumed TLS bytes */
    ULONG in_len;
};

static int sspi_fail(const char *func, SECURITY_STATUS status)
{
    printf("error: %s: 0x%08lx\n", func, (unsigned long)status);
    return EXIT_SSPI;
}

static int socket_fail(const char *what)
{
    printf("error: %s: winsock error %d\n", what, WSAGetLastError());
    return EXIT_SOCKET;
}

static int send_all(SOCKET sock, const void *data, ULONG len)
{
    const char *p = data;

    while (len)
    {
        int n = send(sock, p, len > 0x10000 ? 0x10000 : (int)len, 0);
        if (n <= 0) return socket_fail("send");
        p += n;
        len -= n;
    }
    return 0;
}

/* Appends received bytes to c->in. Returns 1 on data, 0 on orderly close, <0 on error. */
static int recv_more(struct conn *c)
{
    int n;

    if (c->in_len >= sizeof(c->in))
    {
        printf("error: receive buffer full (%lu bytes) without a complete record\n",
               (unsigned long)c->in_len);
        return -1;
    }
    n = recv(c->sock, (char *)c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
    if (n < 0)
    {
        socket_fail("recv");
        return -1;
    }
    c->in_len += n;
    return n > 0;
}

/* Keeps the bytes Schannel did not consume (SECBUFFER_EXTRA) at the start of c->in. */
static void keep_extra(struct conn *c, const SecBuffer *bufs, ULONG count)
{
    ULONG i;

    for (i = 0; i < count; i++)
    {
        if (bufs[i].BufferType == SECBUFFER_EXTRA && bufs[i].cbBuffer)
        {
            ULONG extra = bufs[i].cbBuffer;
            if (extra > c->in_len) extra = c->in_len;   /* never trust a size blindly */
            memmove(c->in, c->in + c->in_len - extra, extra);
            c->in_len = extra;
            return;
        }
    }
    c->in_len = 0;
}

static int connect_tcp(struct conn *c, const struct options *o)
{
    struct addrinfo hints = {0}, *res, *ai;
    DWORD timeout = RECV_TIMEOUT_MS;
    int err;

    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    if ((err = getaddrinfo(o->host, o->port, &hints, &res)))
    {
        printf("error: getaddrinfo(%s, %s): %d\n", o->host, o->port, err);
        return EXIT_SOCKET;
    }
    c->sock = INVALID_SOCKET;
    for (ai = res; ai; ai = ai->ai_next)
    {
        c->sock = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (c->sock == INVALID_SOCKET) continue;
        if (!connect(c->sock, ai->ai_addr, (int)ai->ai_addrlen)) break;
        closesocket(c->sock);
        c->sock = INVALID_SOCKET;
    }
    freeaddrinfo(res);
    if (c->sock == INVALID_SOCKET) return socket_fail("connect");
    setsockopt(c->sock, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof(timeout));
    setsockopt(c->sock, SOL_SOCKET, SO_SNDTIMEO, (const char *)&timeout, sizeof(timeout));
    return 0;
}

static int acquire_credentials(struct conn *c, const struct options *o)
{
    SCH_CREDENTIALS sch = {0};
    TLS_PARAMETERS tls = {0};
    SCHANNEL_CRED old = {0};
    DWORD flags = SCH_CRED_NO_DEFAULT_CREDS;
    TimeStamp expiry;
    SECURITY_STATUS status;
    void *auth;

    flags |= o->validate ? SCH_CRED_AUTO_CRED_VALIDATION : SCH_CRED_MANUAL_CRED_VALIDATION;
    if (o->schannel_cred)
    {
        old.dwVersion = SCHANNEL_CRED_VERSION;
        old.grbitEnabledProtocols = o->protocols;
        old.dwFlags = flags;
        auth = &old;
    }
    else
    {
        tls.grbitDisabledProtocols = ~o->protocols;   /* everything else is off */
        sch.dwVersion = SCH_CREDENTIALS_VERSION;
        sch.dwFlags = flags;
        sch.cTlsParameters = 1;
        sch.pTlsParameters = &tls;
        auth = &sch;
    }
    status = AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W, SECPKG_CRED_OUTBOUND, NULL,
                                       auth, NULL, NULL, &c->cred, &expiry);
    if (status != SEC_E_OK) return sspi_fail("AcquireCredentialsHandleW", status);
    return 0;
}

/* Runs InitializeSecurityContextW until SEC_E_OK. With first == TRUE it starts a new
 * context; otherwise it continues the existing one with the bytes already in c->in
 * (e.g. after DecryptMessage returned SEC_I_RENEGOTIATE). */
static int handshake(struct conn *c, BOOL first)
{
    int step, ret;
    BOOL need_read = FALSE;

    for (step = 0; step < MAX_HANDSHAKE_STEPS; step++)
    {
        SecBuffer in_bufs[2], out_bufs[1];
        SecBufferDesc in_desc = {SECBUFFER_VERSION, 2, in_bufs};
        SecBufferDesc out_desc = {SECBUFFER_VERSION, 1, out_bufs};
        SECURITY_STATUS status;
        ULONG attrs = 0;
        TimeStamp expiry;

        if (need_read)
        {
            int r = recv_more(c);
            if (r < 0) return EXIT_SOCKET;
            if (r == 0)
            {
                printf("error: connection closed during the handshake\n");
                return EXIT_SOCKET;
            }
            need_read = FALSE;
        }

        in_bufs[0].BufferType = SECBUFFER_TOKEN;
        in_bufs[0].pvBuffer = c->in;
        in_bufs[0].cbBuffer = c->in_len;
        in_bufs[1].BufferType = SECBUFFER_EMPTY;
        in_bufs[1].pvBuffer = NULL;
        in_bufs[1].cbBuffer = 0;
        out_bufs[0].BufferType = SECBUFFER_TOKEN;
        out_bufs[0].pvBuffer = NULL;
        out_bufs[0].cbBuffer = 0;

        if (first && step == 0)
            status = InitializeSecurityContextW(&c->cred, NULL, c->target, c->req_flags, 0, 0,
                                                NULL, 0, &c->ctx, &out_desc, &attrs, &expiry);
        else
            status = InitializeSecurityContextW(&c->cred, &c->ctx, c->target, c->req_flags, 0, 0,
                                                &in_desc, 0, &c->ctx, &out_desc, &attrs, &expiry);
        if (first && step == 0 && (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED))
            c->have_ctx = TRUE;

        if (status == SEC_E_INCOMPLETE_MESSAGE)
        {
            need_read = TRUE;
            continue;
        }

        /* Whatever the status, an output token (data or an alert) goes to the peer. */
        if (out_bufs[0].pvBuffer)
        {
            ret = out_bufs[0].cbBuffer ? send_all(c->sock, out_bufs[0].pvBuffer,
                                                  out_bufs[0].cbBuffer) : 0;
            FreeContextBuffer(out_bufs[0].pvBuffer);
            if (ret) return ret;
        }

        if (status == SEC_I_INCOMPLETE_CREDENTIALS)
        {
            /* The server asked for a client certificate; go on without one. */
            fprintf(stderr, "note: server requested a client certificate; sending none\n");
            c->req_flags |= ISC_REQ_USE_SUPPLIED_CREDS;
            continue;   /* same input again */
        }
        if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED)
            return sspi_fail("InitializeSecurityContextW", status);

        if (first && step == 0)
        {
            /* The ClientHello: nothing was consumed yet. */
            need_read = TRUE;
            continue;
        }
        keep_extra(c, in_bufs, 2);
        if (status == SEC_E_OK) return 0;   /* leftover bytes are application data */
        need_read = (c->in_len == 0);
    }
    printf("error: handshake did not finish in %d steps\n", MAX_HANDSHAKE_STEPS);
    return EXIT_SSPI;
}

static const char *protocol_name(DWORD proto)
{
    if (proto & (SP_PROT_TLS1_3_CLIENT | SP_PROT_TLS1_3_SERVER)) return "TLS 1.3";
    if (proto & (SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_2_SERVER)) return "TLS 1.2";
    if (proto & (SP_PROT_TLS1_1_CLIENT | SP_PROT_TLS1_1_SERVER)) return "TLS 1.1";
    if (proto & (SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_0_SERVER)) return "TLS 1.0";
    if (proto & (SP_PROT_SSL3_CLIENT | SP_PROT_SSL3_SERVER)) return "SSL 3.0";
    if (proto & (SP_PROT_SSL2_CLIENT | SP_PROT_SSL2_SERVER)) return "SSL 2.0";
    if (proto & (SP_PROT_DTLS1_2_CLIENT | SP_PROT_DTLS1_2_SERVER)) return "DTLS 1.2";
    if (proto & (SP_PROT_DTLS1_0_CLIENT | SP_PROT_DTLS1_0_SERVER)) return "DTLS 1.0";
    return "unknown";
}

static const char *alg_name(ALG_ID alg, char *buf, size_t size)
{
    static const struct { ALG_ID id; const char *name; } names[] =
    {
        {CALG_RC4, "CALG_RC4"}, {CALG_DES, "CALG_DES"}, {CALG_3DES, "CALG_3DES"},
        {CALG_AES_128, "CALG_AES_128"}, {CALG_AES_192, "CALG_AES_192"},
        {CALG_AES_256, "CALG_AES_256"}, {CALG_AES, "CALG_AES"},
        {CALG_MD5, "CALG_MD5"}, {CALG_SHA1, "CALG_SHA1"}, {CALG_SHA_256, "CALG_SHA_256"},
        {CALG_SHA_384, "CALG_SHA_384"}, {CALG_SHA_512, "CALG_SHA_512"},
        {CALG_RSA_KEYX, "CALG_RSA_KEYX"}, {CALG_RSA_SIGN, "CALG_RSA_SIGN"},
        {CALG_DH_EPHEM, "CALG_DH_EPHEM"}, {CALG_DH_SF, "CALG_DH_SF"},
        {CALG_ECDH, "CALG_ECDH"}, {CALG_ECDH_EPHEM, "CALG_ECDH_EPHEM"},
        {CALG_ECDSA, "CALG_ECDSA"}, {CALG_DSS_SIGN, "CALG_DSS_SIGN"},
    };
    size_t i;

    if (!alg) return "none";
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].id == alg) return names[i].name;
    snprintf(buf, size, "0x%04x", (unsigned)alg);
    return buf;
}

static int print_connection_info(struct conn *c, DWORD allowed)
{
    SecPkgContext_ConnectionInfo info;
    SecPkgContext_CipherInfo suite;
    SECURITY_STATUS status;
    char buf[16];

    memset(&info, 0, sizeof(info));
    status = QueryContextAttributesW(&c->ctx, SECPKG_ATTR_CONNECTION_INFO, &info);
    if (status != SEC_E_OK)
        return sspi_fail("QueryContextAttributesW(SECPKG_ATTR_CONNECTION_INFO)", status);
    printf("protocol: %s\n", protocol_name(info.dwProtocol));
    if (!(info.dwProtocol & allowed))
    {
        printf("error: negotiated protocol 0x%lx is not in the allowed set 0x%lx\n",
               (unsigned long)info.dwProtocol, (unsigned long)allowed);
        return EXIT_POLICY;
    }
    printf("cipher: %s %lu\n", alg_name(info.aiCipher, buf, sizeof(buf)),
           (unsigned long)info.dwCipherStrength);
    printf("hash: %s %lu\n", alg_name(info.aiHash, buf, sizeof(buf)),
           (unsigned long)info.dwHashStrength);
    printf("exchange: %s %lu\n", alg_name(info.aiExch, buf, sizeof(buf)),
           (unsigned long)info.dwExchStrength);

    /* Informational only: not every Schannel version answers this one. */
    memset(&suite, 0, sizeof(suite));
    suite.dwVersion = SECPKGCONTEXT_CIPHERINFO_V1;
    status = QueryContextAttributesW(&c->ctx, SECPKG_ATTR_CIPHER_INFO, &suite);
    if (status == SEC_E_OK)
        printf("suite: %ls 0x%04lx\n", suite.szCipherSuite, (unsigned long)suite.dwCipherSuite);
    else
        fprintf(stderr, "note: QueryContextAttributesW(SECPKG_ATTR_CIPHER_INFO): 0x%08lx\n",
                (unsigned long)status);
    fflush(stdout);
    return 0;
}

static int send_request(struct conn *c, const struct options *o, const SecPkgContext_StreamSizes *sizes)
{
    SecBuffer bufs[4];
    SecBufferDesc desc = {SECBUFFER_VERSION, 4, bufs};
    SECURITY_STATUS status;
    unsigned char *msg;
    char request[1024];
    int len, ret;

    len = snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: https_get\r\n"
                   "Connection: close\r\n\r\n", o->path, o->host);
    if (len < 0 || len >= (int)sizeof(request) || (ULONG)len > sizes->cbMaximumMessage)
    {
        printf("error: request too long\n");
        return EXIT_USAGE;
    }
    msg = malloc(sizes->cbHeader + len + sizes->cbTrailer);
    if (!msg) return EXIT_SSPI;
    memcpy(msg + sizes->cbHeader, request, len);

    bufs[0].BufferType = SECBUFFER_STREAM_HEADER;
    bufs[0].pvBuffer = msg;
    bufs[0].cbBuffer = sizes->cbHeader;
    bufs[1].BufferType = SECBUFFER_DATA;
    bufs[1].pvBuffer = msg + sizes->cbHeader;
    bufs[1].cbBuffer = len;
    bufs[2].BufferType = SECBUFFER_STREAM_TRAILER;
    bufs[2].pvBuffer = msg + sizes->cbHeader + len;
    bufs[2].cbBuffer = sizes->cbTrailer;
    bufs[3].BufferType = SECBUFFER_EMPTY;
    bufs[3].pvBuffer = NULL;
    bufs[3].cbBuffer = 0;

    status = EncryptMessage(&c->ctx, 0, &desc, 0);
    if (status != SEC_E_OK)
    {
        free(msg);
        return sspi_fail("EncryptMessage", status);
    }
    /* The trailer may come out shorter than cbTrailer: send what the buffers say. */
    if (bufs[0].cbBuffer > sizes->cbHeader || bufs[1].cbBuffer != (ULONG)len
        || bufs[2].cbBuffer > sizes->cbTrailer)
    {
        printf("error: EncryptMessage: unexpected buffer sizes %lu/%lu/%lu\n",
               (unsigned long)bufs[0].cbBuffer, (unsigned long)bufs[1].cbBuffer,
               (unsigned long)bufs[2].cbBuffer);
        free(msg);
        return EXIT_SSPI;
    }
    ret = send_all(c->sock, bufs[0].pvBuffer, bufs[0].cbBuffer);
    if (!ret) ret = send_all(c->sock, bufs[1].pvBuffer, bufs[1].cbBuffer);
    if (!ret) ret = send_all(c->sock, bufs[2].pvBuffer, bufs[2].cbBuffer);
    free(msg);
    return ret;
}

/* Reads and decrypts until close_notify or connection close; the plaintext goes to *out. */
static int read_response(struct conn *c, char **out, ULONG *out_len)
{
    char *resp = NULL;
    ULONG resp_len = 0;
    int ret;

    for (;;)
    {
        SecBuffer bufs[4];
        SecBufferDesc desc = {SECBUFFER_VERSION, 4, bufs};
        SECURITY_STATUS status;
        int i;

        if (!c->in_len)
        {
            int r = recv_more(c);
            if (r < 0) { ret = EXIT_SOCKET; goto done; }
            if (r == 0)
            {
                /* Closed without close_notify: for HTTP/1.0 that still ends the body. */
                printf("end: eof\n");
                break;
            }
        }

        bufs[0].BufferType = SECBUFFER_DATA;
        bufs[0].pvBuffer = c->in;
        bufs[0].cbBuffer = c->in_len;
        for (i = 1; i < 4; i++)
        {
            bufs[i].BufferType = SECBUFFER_EMPTY;
            bufs[i].pvBuffer = NULL;
            bufs[i].cbBuffer = 0;
        }
        status = DecryptMessage(&c->ctx, &desc, 0, NULL);

        if (status == SEC_E_INCOMPLETE_MESSAGE)
        {
            int r = recv_more(c);
            if (r < 0) { ret = EXIT_SOCKET; goto done; }
            if (r == 0)
            {
                printf("error: connection closed inside a record (%lu bytes pending)\n",
                       (unsigned long)c->in_len);
                ret = EXIT_SOCKET;
                goto done;
            }
            continue;
        }
        if (status != SEC_E_OK && status != SEC_I_CONTEXT_EXPIRED && status != SEC_I_RENEGOTIATE)
        {
            ret = sspi_fail("DecryptMessage", status);
            goto done;
        }

        /* Plaintext is in bufs[1] (DATA), leftover ciphertext in an EXTRA buffer. */
        if (bufs[1].BufferType == SECBUFFER_DATA && bufs[1].cbBuffer)
        {
            char *grown;
            if (resp_len + bufs[1].cbBuffer > MAX_RESPONSE)
            {
                printf("error: response larger than %u bytes\n", MAX_RESPONSE);
                ret = EXIT_HTTP;
                goto done;
            }
            if (!(grown = realloc(resp, resp_len + bufs[1].cbBuffer + 1)))
            {
                ret = EXIT_HTTP;
                goto done;
            }
            resp = grown;
            memcpy(resp + resp_len, bufs[1].pvBuffer, bufs[1].cbBuffer);
            resp_len += bufs[1].cbBuffer;
        }
        else if (status == SEC_E_OK && bufs[1].BufferType != SECBUFFER_DATA)
        {
            for (i = 1; i < 4 && bufs[i].BufferType != SECBUFFER_DATA; i++) ;
            if (i < 4 && bufs[i].cbBuffer)
            {
                printf("error: DecryptMessage: plaintext in buffer %d, expected 1\n", i);
                ret = EXIT_SSPI;
                goto done;
            }
        }
        keep_extra(c, bufs + 1, 3);

        if (status == SEC_I_CONTEXT_EXPIRED)
        {
            printf("end: close_notify\n");
            break;
        }
        if (status == SEC_I_RENEGOTIATE)
        {
            /* TLS 1.3 post-handshake message (e.g. NewSessionTicket) or a TLS 1.2
             * HelloRequest: hand the remaining bytes back to the handshake. */
            fprintf(stderr, "note: DecryptMessage returned SEC_I_RENEGOTIATE\n");
            if ((ret = handshake(c, FALSE))) goto done;
        }
    }
    ret = 0;

done:
    if (ret)
    {
        free(resp);
        return ret;
    }
    if (resp) resp[resp_len] = 0;
    *out = resp;
    *out_len = resp_len;
    return 0;
}

/* Sends our close_notify (ApplyControlToken + InitializeSecurityContextW). */
static int shutdown_tls(struct conn *c)
{
    DWORD type = SCHANNEL_SHUTDOWN;
    SecBuffer buf = {sizeof(type), SECBUFFER_TOKEN, &type};
    SecBufferDesc desc = {SECBUFFER_VERSION, 1, &buf};
    SecBuffer out = {0, SECBUFFER_TOKEN, NULL};
    SecBufferDesc out_desc = {SECBUFFER_VERSION, 1, &out};
    SECURITY_STATUS status;
    ULONG attrs;
    TimeStamp expiry;

    status = ApplyControlToken(&c->ctx, &desc);
    if (status != SEC_E_OK) return sspi_fail("ApplyControlToken(SCHANNEL_SHUTDOWN)", status);
    status = InitializeSecurityContextW(&c->cred, &c->ctx, c->target, c->req_flags, 0, 0, NULL, 0,
                                        &c->ctx, &out_desc, &attrs, &expiry);
    if (status != SEC_E_OK && status != SEC_I_CONTEXT_EXPIRED)
    {
        if (out.pvBuffer) FreeContextBuffer(out.pvBuffer);
        return sspi_fail("InitializeSecurityContextW(shutdown)", status);
    }
    if (out.pvBuffer)
    {
        /* The peer may already be gone after its own close_notify: not an error. */
        if (out.cbBuffer) send(c->sock, out.pvBuffer, out.cbBuffer, 0);
        FreeContextBuffer(out.pvBuffer);
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: https_get [--validate] [--tls12|--tls13] [--schannel-cred] "
            "[--sni NAME] [--path PATH] [--show] [--no-shutdown] host port\n");
    return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    int i, pos = 0;

    memset(o, 0, sizeof(*o));
    o->protocols = SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT;
    o->path = "/";
    for (i = 1; i < argc; i++)
    {
        if (!strcmp(argv[i], "--validate")) o->validate = TRUE;
        else if (!strcmp(argv[i], "--tls12")) o->protocols = SP_PROT_TLS1_2_CLIENT;
        else if (!strcmp(argv[i], "--tls13")) o->protocols = SP_PROT_TLS1_3_CLIENT;
        else if (!strcmp(argv[i], "--schannel-cred")) o->schannel_cred = TRUE;
        else if (!strcmp(argv[i], "--show")) o->show = TRUE;
        else if (!strcmp(argv[i], "--no-shutdown")) o->no_shutdown = TRUE;
        else if (!strcmp(argv[i], "--sni") && i + 1 < argc) o->sni = argv[++i];
        else if (!strcmp(argv[i], "--path") && i + 1 < argc) o->path = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] == '-') return usage();
        else if (pos == 0) { o->host = argv[i]; pos++; }
        else if (pos == 1) { o->port = argv[i]; pos++; }
        else return usage();
    }
    if (pos != 2) return usage();
    if (!o->sni) o->sni = o->host;
    return 0;
}

static WCHAR *to_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
    WCHAR *w = n > 0 ? malloc(n * sizeof(WCHAR)) : NULL;
    if (w) MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n);
    return w;
}

static int run(struct conn *c, const struct options *o)
{
    SecPkgContext_StreamSizes sizes;
    SECURITY_STATUS status;
    char *resp = NULL, *eol;
    ULONG resp_len = 0;
    int ret;

    if ((ret = connect_tcp(c, o))) return ret;
    if ((ret = acquire_credentials(c, o))) return ret;
    c->target = to_wide(o->sni);
    c->req_flags = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY
                 | ISC_REQ_EXTENDED_ERROR | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM;
    if ((ret = handshake(c, TRUE))) return ret;
    if ((ret = print_connection_info(c, o->protocols))) return ret;

    status = QueryContextAttributesW(&c->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes);
    if (status != SEC_E_OK)
        return sspi_fail("QueryContextAttributesW(SECPKG_ATTR_STREAM_SIZES)", status);
    if (!sizes.cbMaximumMessage || sizes.cbHeader + sizes.cbMaximumMessage + sizes.cbTrailer > 0x20000)
    {
        printf("error: implausible stream sizes %lu/%lu/%lu\n", (unsigned long)sizes.cbHeader,
               (unsigned long)sizes.cbMaximumMessage, (unsigned long)sizes.cbTrailer);
        return EXIT_SSPI;
    }

    if ((ret = send_request(c, o, &sizes))) return ret;
    if ((ret = read_response(c, &resp, &resp_len))) return ret;

    if (resp && resp_len >= 12 && !strncmp(resp, "HTTP/", 5) && (eol = strstr(resp, "\r\n")))
        printf("status: %.*s\n", (int)(eol - resp), resp);
    else
    {
        printf("status: (no HTTP status line)\n");
        ret = EXIT_HTTP;
    }
    printf("bytes: %lu\n", (unsigned long)resp_len);
    if (o->show && resp)
    {
        fwrite(resp, 1, resp_len, stdout);
        printf("\n");
    }
    free(resp);

    /* Our close_notify: required of a well-behaved client, and part of what we test. */
    if (!o->no_shutdown)
    {
        int shut = shutdown_tls(c);
        if (!ret) ret = shut;
    }
    return ret;
}

int main(int argc, char **argv)
{
    static struct conn c;   /* large receive buffer: keep it off the stack */
    struct options o;
    WSADATA wsa;
    int ret;

    setvbuf(stdout, NULL, _IONBF, 0);
    if ((ret = parse_args(argc, argv, &o))) return ret;
    if (WSAStartup(MAKEWORD(2, 2), &wsa))
    {
        printf("error: WSAStartup failed\n");
        return EXIT_SOCKET;
    }
    c.sock = INVALID_SOCKET;
    SecInvalidateHandle(&c.cred);
    ret = run(&c, &o);
    if (c.have_ctx) DeleteSecurityContext(&c.ctx);
    if (SecIsValidHandle(&c.cred)) FreeCredentialsHandle(&c.cred);
    if (c.sock != INVALID_SOCKET) closesocket(c.sock);
    free(c.target);
    WSACleanup();
    return ret;
}
