/*
 * sspi_client: a Windows TLS client on Winsock + SSPI/Schannel for the client interop
 * matrix (tests/interop/client_matrix.sh). It drives InitializeSecurityContextW the way
 * curl's and .NET's Schannel backends do, and prints what Schannel reported.
 *
 * Usage: sspi_client [options] host port
 *   --proto 10|11|12|13  allow only that TLS version (10 and 11 through SCHANNEL_CRED,
 *                        which is how Windows callers reach them; 12 and 13 through
 *                        SCH_CREDENTIALS grbitDisabledProtocols). Default: system default.
 *   --validate           automatic server validation (default: manual validation)
 *   --target NAME        pszTargetName (default: host)
 *   --alpn LIST          offer these ALPN ids (comma separated) in SECBUFFER_APPLICATION_PROTOCOLS
 *   --client-pfx FILE    client certificate (PKCS #12, password "test") in paCred
 *   --connections N      connect N times with the same credential handle (resumption)
 *   --late-pfx FILE      no certificate at first; on SEC_I_INCOMPLETE_CREDENTIALS acquire a new
 *                        credential with this one and call again with the same input (.NET, the
 *                        SDK sample); without it the call is repeated with ISC_REQ_USE_SUPPLIED_CREDS
 *                        (curl)
 *   --supplied           ISC_REQ_USE_SUPPLIED_CREDS from the first call on
 *   --default-creds      leave SCH_CRED_NO_DEFAULT_CREDS out: Schannel may pick a certificate
 *                        of the MY store by the server's list of authorities
 *   --revocation end|chain|exclude-root  SCH_CRED_REVOCATION_CHECK_END_CERT / _CHAIN /
 *                        _CHAIN_EXCLUDE_ROOT
 *   --ignore-offline     SCH_CRED_IGNORE_REVOCATION_OFFLINE
 *   --ignore-no-check    SCH_CRED_IGNORE_NO_REVOCATION_CHECK
 *   --alert-buffer       a SECBUFFER_ALERT output buffer in every handshake call; on failure its
 *                        bytes are sent to the server and described
 *   --renegotiate        after the handshake, call InitializeSecurityContext again without
 *                        input (re-authentication) and finish that handshake
 * Helper modes (the test prefix only):
 *   --trust-root FILE    add the PEM certificate to the current user's Root store
 *   --untrust-root FILE  remove it again
 *   --add-my FILE        import the PKCS #12 file (key persisted) into the current user's MY store
 *   --remove-my FILE     remove its certificate from the MY store again
 *
 * Output, per connection i (1-based):
 *   i protocol: TLS 1.3
 *   i alpn: h2            (or "i alpn: none")
 *   i resumed: 0|1        (SECPKG_ATTR_SESSION_INFO, SSL_SESSION_RECONNECT)
 *   i status: HTTP/1.1 200 OK
 *   i incomplete credentials: N issuers, first CN   (when ISC asked for a certificate)
 *   i renegotiated: TLS 1.2   (--renegotiate: the second handshake's protocol; "none" when
 *                             the second call had nothing to do)
 *   alert: N bytes, last record type T[, level L, description D]  (--alert-buffer, on failure;
 *                             level and description when the alert record is plaintext)
 * On failure: "error: FUNCTION: 0xXXXXXXXX" and exit status 3 (SSPI), 2 (socket),
 * 4 (HTTP), 1 (usage or setup).
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

#define IO_SIZE (2 * (16384 + 2048 + 5))
#define RECV_TIMEOUT_MS 10000

#ifndef SECPKG_ATTR_SESSION_INFO
#define SECPKG_ATTR_SESSION_INFO 0x5d
#endif

struct session_info
{
    DWORD dwFlags;
    DWORD cbSessionId;
    BYTE rgbSessionId[32];
};

struct options
{
    const char *host, *port, *target, *alpn, *client_pfx, *late_pfx;
    int proto;
    int connections;
    BOOL validate, supplied, default_creds, alert_buffer, renegotiate;
    DWORD revocation;
};

static int fail(const char *what, SECURITY_STATUS status)
{
    printf("error: %s: 0x%08lx\n", what, (unsigned long)status);
    return 3;
}

static BYTE *read_file(const char *name, DWORD *size)
{
    FILE *f = fopen(name, "rb");
    BYTE *data;
    long len;

    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (len <= 0 || !(data = malloc(len))) { fclose(f); return NULL; }
    if (fread(data, 1, len, f) != (size_t)len) { fclose(f); free(data); return NULL; }
    fclose(f);
    *size = len;
    return data;
}

/* --trust-root / --untrust-root: the current user's Root store of this prefix. */
static int root_store(const char *file, BOOL add)
{
    BYTE *pem, *der = NULL;
    DWORD pem_size, der_size = 0;
    HCERTSTORE store;
    const CERT_CONTEXT *cert, *found;
    BOOL ok;

    if (!(pem = read_file(file, &pem_size))) return 1;
    if (!CryptStringToBinaryA((char *)pem, pem_size, CRYPT_STRING_BASE64HEADER, NULL, &der_size, NULL, NULL)
        || !(der = malloc(der_size))
        || !CryptStringToBinaryA((char *)pem, pem_size, CRYPT_STRING_BASE64HEADER, der, &der_size, NULL, NULL))
        return 1;
    if (!(cert = CertCreateCertificateContext(X509_ASN_ENCODING, der, der_size))) return 1;
    store = CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER, L"Root");
    if (!store) return 1;
    if (add) ok = CertAddCertificateContextToStore(store, cert, CERT_STORE_ADD_REPLACE_EXISTING, NULL);
    else
    {
        found = CertFindCertificateInStore(store, X509_ASN_ENCODING, 0, CERT_FIND_EXISTING, cert, NULL);
        ok = !found || CertDeleteCertificateFromStore(found);
    }
    CertCloseStore(store, 0);
    CertFreeCertificateContext(cert);
    printf("%s root: %s\n", add ? "trust" : "untrust", ok ? "ok" : "failed");
    return ok ? 0 : 1;
}

static const CERT_CONTEXT *load_client_cert(const char *file)
{
    CRYPT_DATA_BLOB blob;
    HCERTSTORE store;
    const CERT_CONTEXT *cert = NULL;
    DWORD size;

    if (!(blob.pbData = read_file(file, &size))) return NULL;
    blob.cbData = size;
    if (!(store = PFXImportCertStore(&blob, L"test", CRYPT_EXPORTABLE | CRYPT_USER_KEYSET))) return NULL;
    while ((cert = CertEnumCertificatesInStore(store, cert)))
    {
        size = 0;
        if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size))
            return CertDuplicateCertificateContext(cert);
    }
    return NULL;
}

/* --add-my / --remove-my: the current user's MY store of this prefix. */
static int my_store(const char *file, BOOL add)
{
    const CERT_CONTEXT *cert = load_client_cert(file), *found;
    HCERTSTORE store;
    BOOL ok;

    if (!cert) return 1;
    if (!(store = CertOpenStore(CERT_STORE_PROV_SYSTEM_REGISTRY_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER, L"MY")))
        return 1;
    if (add) ok = CertAddCertificateContextToStore(store, cert, CERT_STORE_ADD_REPLACE_EXISTING, NULL);
    else
    {
        found = CertFindCertificateInStore(store, X509_ASN_ENCODING, 0, CERT_FIND_EXISTING, cert, NULL);
        ok = !found || CertDeleteCertificateFromStore(found);
    }
    CertCloseStore(store, 0);
    CertFreeCertificateContext(cert);
    printf("my store: %s\n", ok ? "ok" : "failed");
    return ok ? 0 : 1;
}

static SECURITY_STATUS acquire(const struct options *o, const CERT_CONTEXT *client_cert, CredHandle *cred)
{
    SCHANNEL_CRED cred4;
    SCH_CREDENTIALS cred5;
    TLS_PARAMETERS params;
    DWORD flags = (o->default_creds ? 0 : SCH_CRED_NO_DEFAULT_CREDS)
                  | (o->validate ? SCH_CRED_AUTO_CRED_VALIDATION : SCH_CRED_MANUAL_CRED_VALIDATION)
                  | o->revocation;
    void *auth;

    memset(&cred4, 0, sizeof(cred4));
    memset(&cred5, 0, sizeof(cred5));
    memset(&params, 0, sizeof(params));
    if (o->proto == 10 || o->proto == 11)
    {
        cred4.dwVersion = SCHANNEL_CRED_VERSION;
        cred4.grbitEnabledProtocols = o->proto == 10 ? SP_PROT_TLS1_0_CLIENT : SP_PROT_TLS1_1_CLIENT;
        cred4.dwFlags = flags;
        if (client_cert)
        {
            cred4.cCreds = 1;
            cred4.paCred = &client_cert;
        }
        auth = &cred4;
    }
    else
    {
        cred5.dwVersion = SCH_CREDENTIALS_VERSION;
        cred5.dwFlags = flags;
        if (o->proto)
        {
            params.grbitDisabledProtocols = ~(o->proto == 12 ? SP_PROT_TLS1_2_CLIENT : SP_PROT_TLS1_3_CLIENT);
            cred5.cTlsParameters = 1;
            cred5.pTlsParameters = &params;
        }
        if (client_cert)
        {
            cred5.cCreds = 1;
            cred5.paCred = &client_cert;
        }
        auth = &cred5;
    }
    return AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W, SECPKG_CRED_OUTBOUND, NULL, auth, NULL, NULL,
                                     cred, NULL);
}

/* SEC_APPLICATION_PROTOCOLS for a comma separated list. */
static ULONG build_alpn(const char *list, BYTE *buf, ULONG size)
{
    ULONG pos = 10, lists_size;
    USHORT proto_size;
    DWORD ext = 2; /* SecApplicationProtocolNegotiationExt_ALPN */
    const char *p = list;

    while (*p)
    {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!len || len > 255 || pos + 1 + len > size) return 0;
        buf[pos++] = (BYTE)len;
        memcpy(buf + pos, p, len);
        pos += len;
        p += len + (end ? 1 : 0);
    }
    lists_size = pos - 4;
    proto_size = (USHORT)(pos - 10);
    memcpy(buf, &lists_size, 4);
    memcpy(buf + 4, &ext, 4);
    memcpy(buf + 8, &proto_size, 2);
    return pos;
}

static int send_all(SOCKET s, const void *data, ULONG size)
{
    const char *p = data;
    while (size)
    {
        int n = send(s, p, size, 0);
        if (n <= 0) return -1;
        p += n;
        size -= n;
    }
    return 0;
}

static SOCKET connect_to(const char *host, const char *port)
{
    struct addrinfo hints, *res, *ai;
    SOCKET s = INVALID_SOCKET;
    DWORD timeout = RECV_TIMEOUT_MS;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res)) return INVALID_SOCKET;
    for (ai = res; ai && s == INVALID_SOCKET; ai = ai->ai_next)
    {
        s = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (s == INVALID_SOCKET) continue;
        if (connect(s, ai->ai_addr, (int)ai->ai_addrlen))
        {
            closesocket(s);
            s = INVALID_SOCKET;
        }
    }
    freeaddrinfo(res);
    if (s != INVALID_SOCKET) setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (char *)&timeout, sizeof(timeout));
    return s;
}

static const char *protocol_name(DWORD proto)
{
    if (proto & SP_PROT_TLS1_3_CLIENT) return "TLS 1.3";
    if (proto & SP_PROT_TLS1_2_CLIENT) return "TLS 1.2";
    if (proto & SP_PROT_TLS1_1_CLIENT) return "TLS 1.1";
    if (proto & SP_PROT_TLS1_0_CLIENT) return "TLS 1.0";
    return "unknown";
}

#define ISC_FLAGS (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY \
                   | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_EXTENDED_ERROR)

#ifndef SEC_I_INCOMPLETE_CREDENTIALS
#define SEC_I_INCOMPLETE_CREDENTIALS ((SECURITY_STATUS)0x00090320)
#endif

/* SEC_I_INCOMPLETE_CREDENTIALS: print what the server asked for, then answer as .NET does
 * (a new credential) or as curl does (ISC_REQ_USE_SUPPLIED_CREDS, no certificate). */
static SECURITY_STATUS answer_request(const struct options *o, CredHandle *cred, CtxtHandle *ctx, int index,
                                      ULONG *flags)
{
    SecPkgContext_IssuerListInfoEx issuers;
    SECURITY_STATUS status;
    char cn[256] = "-";

    if ((status = QueryContextAttributesW(ctx, SECPKG_ATTR_ISSUER_LIST_EX, &issuers))) return status;
    if (issuers.cIssuers)
        CertNameToStrA(X509_ASN_ENCODING, &issuers.aIssuers[0], CERT_SIMPLE_NAME_STR, cn, sizeof(cn));
    printf("%d incomplete credentials: %lu issuers, %s\n", index, issuers.cIssuers, cn);
    if (issuers.aIssuers) FreeContextBuffer(issuers.aIssuers);
    /* Windows never asks twice, nor under ISC_REQ_USE_SUPPLIED_CREDS. */
    if (*flags & ISC_REQ_USE_SUPPLIED_CREDS) return SEC_I_INCOMPLETE_CREDENTIALS;
    if (o->late_pfx)
    {
        const CERT_CONTEXT *cert = load_client_cert(o->late_pfx);
        CredHandle fresh;

        if (!cert) return SEC_E_NO_CREDENTIALS;
        status = acquire(o, cert, &fresh);
        CertFreeCertificateContext(cert);
        if (status) return status;
        FreeCredentialsHandle(cred);
        *cred = fresh;
    }
    else *flags |= ISC_REQ_USE_SUPPLIED_CREDS;
    return SEC_E_OK;
}

/* --alert-buffer: what Schannel put into SECBUFFER_ALERT on failure goes to the server, as
 * .NET's SslStream sends it; the last record is described. */
static void report_alert(SOCKET s, SecBuffer *alert)
{
    const BYTE *p = alert->pvBuffer, *last = NULL;
    ULONG pos = 0;

    if (!alert->pvBuffer || !alert->cbBuffer)
    {
        printf("alert: none\n");
        return;
    }
    send_all(s, alert->pvBuffer, alert->cbBuffer);
    while (pos + 5 <= alert->cbBuffer)
    {
        last = p + pos;
        pos += 5 + ((p[pos + 3] << 8) | p[pos + 4]);
    }
    if (!last || pos != alert->cbBuffer) printf("alert: %lu bytes, not records\n", alert->cbBuffer);
    else if (last[0] == 21 && last[3] == 0 && last[4] == 2)
        printf("alert: %lu bytes, last record type 21, level %u, description %u\n", alert->cbBuffer, last[5], last[6]);
    else printf("alert: %lu bytes, last record type %u\n", alert->cbBuffer, last[0]);
}

/* Handshake calls until SEC_E_OK (the first call was made). in/in_len keep what the server
 * sent beyond the handshake. Returns 0 or the exit status. */
static int handshake_loop(const struct options *o, SOCKET s, CredHandle *cred, CtxtHandle *ctx, WCHAR *target,
                          int index, ULONG *flags, BYTE *in, ULONG *in_len, BOOL have_input)
{
    SecBuffer in_bufs[2], out_bufs[2];
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in_bufs };
    SecBufferDesc out_desc = { SECBUFFER_VERSION, o->alert_buffer ? 2 : 1, out_bufs };
    SECURITY_STATUS status;
    BOOL need_more = !have_input;
    ULONG attrs;
    int n;

    for (;;)
    {
        if (need_more)
        {
            n = recv(s, (char *)in + *in_len, IO_SIZE - *in_len, 0);
            if (n <= 0)
            {
                printf("error: recv during handshake: %d\n", n);
                return 2;
            }
            *in_len += n;
        }
        in_bufs[0].BufferType = SECBUFFER_TOKEN;
        in_bufs[0].cbBuffer = *in_len;
        in_bufs[0].pvBuffer = in;
        in_bufs[1].BufferType = SECBUFFER_EMPTY;
        in_bufs[1].cbBuffer = 0;
        in_bufs[1].pvBuffer = NULL;
        out_bufs[0].BufferType = SECBUFFER_TOKEN;
        out_bufs[0].cbBuffer = 0;
        out_bufs[0].pvBuffer = NULL;
        out_bufs[1].BufferType = SECBUFFER_ALERT;
        out_bufs[1].cbBuffer = 0;
        out_bufs[1].pvBuffer = NULL;
        status = InitializeSecurityContextW(cred, ctx, target, *flags, 0, 0, &in_desc, 0, NULL, &out_desc,
                                            &attrs, NULL);
        if (out_bufs[0].pvBuffer)
        {
            if (out_bufs[0].cbBuffer) send_all(s, out_bufs[0].pvBuffer, out_bufs[0].cbBuffer);
            FreeContextBuffer(out_bufs[0].pvBuffer);
        }
        if (FAILED(status) && status != SEC_E_INCOMPLETE_MESSAGE && o->alert_buffer) report_alert(s, &out_bufs[1]);
        if (o->alert_buffer && out_bufs[1].pvBuffer) FreeContextBuffer(out_bufs[1].pvBuffer);
        if (status == SEC_E_INCOMPLETE_MESSAGE)
        {
            need_more = TRUE;
            continue;
        }
        if (status == SEC_I_INCOMPLETE_CREDENTIALS)
        {
            /* Called again with the same input, as curl, .NET and the SDK sample do. */
            if ((status = answer_request(o, cred, ctx, index, flags)))
                return fail("answering SEC_I_INCOMPLETE_CREDENTIALS", status);
            need_more = FALSE;
            continue;
        }
        if (status != SEC_I_CONTINUE_NEEDED && status != SEC_E_OK) return fail("InitializeSecurityContextW", status);
        n = in_bufs[1].BufferType == SECBUFFER_EXTRA ? in_bufs[1].cbBuffer : 0;
        memmove(in, in + *in_len - n, n);
        *in_len = n;
        if (status == SEC_E_OK) return 0;
        need_more = !*in_len;
    }
}

/* --renegotiate: InitializeSecurityContext again on the established context, no input. */
static int renegotiate(const struct options *o, SOCKET s, CredHandle *cred, CtxtHandle *ctx, WCHAR *target,
                       int index, ULONG *flags, BYTE *in, ULONG *in_len)
{
    SecBuffer out_buf = { 0, SECBUFFER_TOKEN, NULL };
    SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, &out_buf };
    SecPkgContext_ConnectionInfo conn;
    SECURITY_STATUS status;
    ULONG attrs;
    int ret;

    status = InitializeSecurityContextW(cred, ctx, target, *flags, 0, 0, NULL, 0, NULL, &out_desc, &attrs, NULL);
    if (out_buf.pvBuffer)
    {
        if (out_buf.cbBuffer) send_all(s, out_buf.pvBuffer, out_buf.cbBuffer);
        FreeContextBuffer(out_buf.pvBuffer);
    }
    if (status == SEC_E_OK)
    {
        printf("%d renegotiated: none\n", index);
        return 0;
    }
    if (status != SEC_I_CONTINUE_NEEDED) return fail("InitializeSecurityContextW (re-authentication)", status);
    if ((ret = handshake_loop(o, s, cred, ctx, target, index, flags, in, in_len, *in_len != 0))) return ret;
    if ((status = QueryContextAttributesW(ctx, SECPKG_ATTR_CONNECTION_INFO, &conn)))
        return fail("QueryContextAttributesW(CONNECTION_INFO) after renegotiation", status);
    printf("%d renegotiated: %s\n", index, protocol_name(conn.dwProtocol));
    return 0;
}

/* One connection: handshake, attributes, one HTTP request. */
static int run_connection(const struct options *o, CredHandle *cred, int index)
{
    static BYTE in[IO_SIZE];
    WCHAR target[256];
    BYTE alpn[512];
    ULONG alpn_size = 0, in_len = 0, attrs;
    SecBuffer in_bufs[2], out_bufs[2], *out_buf = &out_bufs[0];
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in_bufs }, out_desc = { SECBUFFER_VERSION, 1, out_bufs };
    SecPkgContext_ConnectionInfo conn;
    SecPkgContext_ApplicationProtocol proto;
    SecPkgContext_StreamSizes sizes;
    struct session_info session;
    SECURITY_STATUS status;
    CtxtHandle ctx;
    ULONG flags = ISC_FLAGS | (o->supplied ? ISC_REQ_USE_SUPPLIED_CREDS : 0);
    SOCKET s;
    int n, ret = 0;

    MultiByteToWideChar(CP_UTF8, 0, o->target, -1, target, ARRAYSIZE(target));
    if ((s = connect_to(o->host, o->port)) == INVALID_SOCKET)
    {
        printf("error: connect: %d\n", WSAGetLastError());
        return 2;
    }
    if (o->alpn && !(alpn_size = build_alpn(o->alpn, alpn, sizeof(alpn))))
    {
        closesocket(s);
        return 1;
    }

    /* The first call takes the ALPN offer as its only input, as schannel-rs sends it. */
    in_bufs[0].BufferType = SECBUFFER_APPLICATION_PROTOCOLS;
    in_bufs[0].cbBuffer = alpn_size;
    in_bufs[0].pvBuffer = alpn;
    in_desc.cBuffers = 1;
    out_buf->BufferType = SECBUFFER_TOKEN;
    out_buf->cbBuffer = 0;
    out_buf->pvBuffer = NULL;
    status = InitializeSecurityContextW(cred, NULL, target, flags, 0, 0, alpn_size ? &in_desc : NULL, 0, &ctx,
                                        &out_desc, &attrs, NULL);
    if (status != SEC_I_CONTINUE_NEEDED)
    {
        closesocket(s);
        return fail("InitializeSecurityContextW (first)", status);
    }
    if (out_buf->pvBuffer)
    {
        send_all(s, out_buf->pvBuffer, out_buf->cbBuffer);
        FreeContextBuffer(out_buf->pvBuffer);
    }
    in_desc.cBuffers = 2;
    ret = handshake_loop(o, s, cred, &ctx, target, index, &flags, in, &in_len, FALSE);
    if (ret)
    {
        DeleteSecurityContext(&ctx);
        closesocket(s);
        return ret;
    }
    if (o->renegotiate) ret = renegotiate(o, s, cred, &ctx, target, index, &flags, in, &in_len);
    if (ret)
    {
        DeleteSecurityContext(&ctx);
        closesocket(s);
        return ret;
    }
    if ((status = QueryContextAttributesW(&ctx, SECPKG_ATTR_CONNECTION_INFO, &conn)))
        ret = fail("QueryContextAttributesW(CONNECTION_INFO)", status);
    else printf("%d protocol: %s\n", index, protocol_name(conn.dwProtocol));
    if (!ret && (status = QueryContextAttributesW(&ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &proto)))
        ret = fail("QueryContextAttributesW(APPLICATION_PROTOCOL)", status);
    else if (!ret)
    {
        if (proto.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success)
            printf("%d alpn: %.*s\n", index, proto.ProtocolIdSize, proto.ProtocolId);
        else printf("%d alpn: none\n", index);
    }
    if (!ret && (status = QueryContextAttributesW(&ctx, SECPKG_ATTR_SESSION_INFO, &session)))
        ret = fail("QueryContextAttributesW(SESSION_INFO)", status);
    else if (!ret) printf("%d resumed: %lu\n", index, session.dwFlags & 1);
    if (!ret && (status = QueryContextAttributesW(&ctx, SECPKG_ATTR_STREAM_SIZES, &sizes)))
        ret = fail("QueryContextAttributesW(STREAM_SIZES)", status);

    if (!ret)
    {
        /* One request, then records until a status line shows up. */
        static BYTE msg[IO_SIZE];
        char request[512];
        SecBuffer bufs[4];
        SecBufferDesc desc = { SECBUFFER_VERSION, 4, bufs };
        ULONG len = snprintf(request, sizeof(request), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", o->target);
        char response[4096];
        ULONG got = 0;
        int i;

        memcpy(msg + sizes.cbHeader, request, len);
        bufs[0].BufferType = SECBUFFER_STREAM_HEADER; bufs[0].cbBuffer = sizes.cbHeader; bufs[0].pvBuffer = msg;
        bufs[1].BufferType = SECBUFFER_DATA; bufs[1].cbBuffer = len; bufs[1].pvBuffer = msg + sizes.cbHeader;
        bufs[2].BufferType = SECBUFFER_STREAM_TRAILER; bufs[2].cbBuffer = sizes.cbTrailer;
        bufs[2].pvBuffer = msg + sizes.cbHeader + len;
        bufs[3].BufferType = SECBUFFER_EMPTY; bufs[3].cbBuffer = 0; bufs[3].pvBuffer = NULL;
        if ((status = EncryptMessage(&ctx, 0, &desc, 0))) ret = fail("EncryptMessage", status);
        else send_all(s, msg, bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer);

        while (!ret && !memchr(response, '\n', got))
        {
            for (i = 0; i < 4; i++)
            {
                bufs[i].BufferType = SECBUFFER_EMPTY;
                bufs[i].cbBuffer = 0;
                bufs[i].pvBuffer = NULL;
            }
            bufs[0].BufferType = SECBUFFER_DATA;
            bufs[0].cbBuffer = in_len;
            bufs[0].pvBuffer = in;
            status = in_len ? DecryptMessage(&ctx, &desc, 0, NULL) : SEC_E_INCOMPLETE_MESSAGE;
            if (status == SEC_E_INCOMPLETE_MESSAGE)
            {
                n = recv(s, (char *)in + in_len, sizeof(in) - in_len, 0);
                if (n <= 0) { printf("error: recv: %d\n", n); ret = 2; break; }
                in_len += n;
                continue;
            }
            if (status == SEC_I_RENEGOTIATE)
            {
                /* TLS 1.3 post-handshake message (session ticket): hand it to ISC. */
                SecBuffer rb[2], ob;
                SecBufferDesc rd = { SECBUFFER_VERSION, 2, rb }, od = { SECBUFFER_VERSION, 1, &ob };
                SecBuffer *extra = NULL;
                for (i = 0; i < 4; i++) if (bufs[i].BufferType == SECBUFFER_EXTRA) extra = &bufs[i];
                rb[0].BufferType = SECBUFFER_TOKEN;
                rb[0].cbBuffer = extra ? extra->cbBuffer : 0;
                rb[0].pvBuffer = extra ? in + in_len - extra->cbBuffer : NULL;
                rb[1].BufferType = SECBUFFER_EMPTY; rb[1].cbBuffer = 0; rb[1].pvBuffer = NULL;
                ob.BufferType = SECBUFFER_TOKEN; ob.cbBuffer = 0; ob.pvBuffer = NULL;
                status = InitializeSecurityContextW(cred, &ctx, target, ISC_FLAGS, 0, 0, &rd, 0, NULL, &od,
                                                    &attrs, NULL);
                if (ob.pvBuffer)
                {
                    if (ob.cbBuffer) send_all(s, ob.pvBuffer, ob.cbBuffer);
                    FreeContextBuffer(ob.pvBuffer);
                }
                if (status != SEC_E_OK) { ret = fail("InitializeSecurityContextW (renegotiate)", status); break; }
                n = rb[1].BufferType == SECBUFFER_EXTRA ? rb[1].cbBuffer : 0;
                memmove(in, in + in_len - n, n);
                in_len = n;
                continue;
            }
            if (status == SEC_I_CONTEXT_EXPIRED) break;
            if (status != SEC_E_OK) { ret = fail("DecryptMessage", status); break; }
            {
                SecBuffer *data = NULL, *extra = NULL;
                for (i = 0; i < 4; i++)
                {
                    if (bufs[i].BufferType == SECBUFFER_DATA) data = &bufs[i];
                    if (bufs[i].BufferType == SECBUFFER_EXTRA) extra = &bufs[i];
                }
                if (data && data->cbBuffer)
                {
                    ULONG take = min(data->cbBuffer, sizeof(response) - 1 - got);
                    memcpy(response + got, data->pvBuffer, take);
                    got += take;
                }
                n = extra ? extra->cbBuffer : 0;
                memmove(in, in + in_len - n, n);
                in_len = n;
            }
        }
        response[got] = 0;
        if (!ret)
        {
            char *eol = strpbrk(response, "\r\n");
            if (eol) *eol = 0;
            if (strncmp(response, "HTTP/1.", 7)) { printf("error: no status line\n"); ret = 4; }
            else printf("%d status: %s\n", index, response);
        }
    }
    DeleteSecurityContext(&ctx);
    closesocket(s);
    return ret;
}

int main(int argc, char **argv)
{
    struct options o;
    const CERT_CONTEXT *client_cert = NULL;
    CredHandle cred;
    SECURITY_STATUS status;
    WSADATA wsa;
    int i, pos = 0, ret = 0;

    memset(&o, 0, sizeof(o));
    o.connections = 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (i = 1; i < argc; i++)
    {
        if (!strcmp(argv[i], "--trust-root") && i + 1 < argc) return root_store(argv[i + 1], TRUE);
        if (!strcmp(argv[i], "--untrust-root") && i + 1 < argc) return root_store(argv[i + 1], FALSE);
        if (!strcmp(argv[i], "--add-my") && i + 1 < argc) return my_store(argv[i + 1], TRUE);
        if (!strcmp(argv[i], "--remove-my") && i + 1 < argc) return my_store(argv[i + 1], FALSE);
        if (!strcmp(argv[i], "--validate")) o.validate = TRUE;
        else if (!strcmp(argv[i], "--proto") && i + 1 < argc) o.proto = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--target") && i + 1 < argc) o.target = argv[++i];
        else if (!strcmp(argv[i], "--alpn") && i + 1 < argc) o.alpn = argv[++i];
        else if (!strcmp(argv[i], "--client-pfx") && i + 1 < argc) o.client_pfx = argv[++i];
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc) o.connections = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--late-pfx") && i + 1 < argc) o.late_pfx = argv[++i];
        else if (!strcmp(argv[i], "--supplied")) o.supplied = TRUE;
        else if (!strcmp(argv[i], "--default-creds")) o.default_creds = TRUE;
        else if (!strcmp(argv[i], "--alert-buffer")) o.alert_buffer = TRUE;
        else if (!strcmp(argv[i], "--renegotiate")) o.renegotiate = TRUE;
        else if (!strcmp(argv[i], "--ignore-offline")) o.revocation |= SCH_CRED_IGNORE_REVOCATION_OFFLINE;
        else if (!strcmp(argv[i], "--ignore-no-check")) o.revocation |= SCH_CRED_IGNORE_NO_REVOCATION_CHECK;
        else if (!strcmp(argv[i], "--revocation") && i + 1 < argc)
        {
            const char *how = argv[++i];
            if (!strcmp(how, "end")) o.revocation |= SCH_CRED_REVOCATION_CHECK_END_CERT;
            else if (!strcmp(how, "chain")) o.revocation |= SCH_CRED_REVOCATION_CHECK_CHAIN;
            else if (!strcmp(how, "exclude-root")) o.revocation |= SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT;
            else { printf("error: usage\n"); return 1; }
        }
        else if (argv[i][0] == '-' && argv[i][1] == '-') { printf("error: usage\n"); return 1; }
        else if (pos == 0) { o.host = argv[i]; pos++; }
        else if (pos == 1) { o.port = argv[i]; pos++; }
    }
    if (pos != 2 || o.connections < 1) { printf("error: usage\n"); return 1; }
    if (!o.target) o.target = o.host;
    if (WSAStartup(MAKEWORD(2, 2), &wsa)) return 2;
    if (o.client_pfx && !(client_cert = load_client_cert(o.client_pfx)))
    {
        printf("error: cannot import %s: %lu\n", o.client_pfx, GetLastError());
        return 1;
    }
    if ((status = acquire(&o, client_cert, &cred))) return fail("AcquireCredentialsHandleW", status);
    for (i = 1; i <= o.connections && !ret; i++) ret = run_connection(&o, &cred, i);
    FreeCredentialsHandle(&cred);
    if (client_cert) CertFreeCertificateContext(client_cert);
    WSACleanup();
    return ret;
}
