/*
 * Schannel client conformance: credentials (SCHANNEL_CRED / SCH_CREDENTIALS fields and
 * QueryCredentialsAttributes), InitializeSecurityContext request flags and returned
 * attributes, what the first call accepts as input, cipher restrictions seen in the
 * negotiated connection, and the client session cache (a second connection with the same
 * credential and target resumes, SECPKG_ATTR_SESSION_INFO says so), and the server's
 * certificate request: SEC_I_INCOMPLETE_CREDENTIALS, SECPKG_ATTR_ISSUER_LIST_EX, and the
 * call after it (same input or none; the same credential or a new one).
 *
 * The server is an in-process AcceptSecurityContext on the test certificate (testcert.h);
 * the two sides exchange tokens through memory.
 *
 * Sources (Microsoft Learn): "InitializeSecurityContext (Schannel)" (flags, return codes,
 * session cache reuse conditions), "SCHANNEL_CRED", "SCH_CREDENTIALS", "TLS_PARAMETERS",
 * "QueryCredentialsAttributes", "SecPkgCred_SupportedAlgs", "SecPkgCred_CipherStrengths",
 * "SecPkgCred_SupportedProtocols", "SecPkgContext_SessionInfo", "SecPkgContext_IssuerListInfoEx";
 * observed Windows behaviour as curl, .NET and schannel-rs rely on it (no
 * SEC_I_INCOMPLETE_CREDENTIALS under ISC_REQ_USE_SUPPLIED_CREDS, the call after it may
 * repeat the input or pass none).
 */

#include <stdarg.h>
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

#ifndef SECPKG_ATTR_SESSION_INFO
#define SECPKG_ATTR_SESSION_INFO 0x5d
#endif
#define SSL_SESSION_RECONNECT 1
#ifndef SEC_I_INCOMPLETE_CREDENTIALS
#define SEC_I_INCOMPLETE_CREDENTIALS ((SECURITY_STATUS)0x00090320)
#endif

struct session_info
{
    DWORD dwFlags;
    DWORD cbSessionId;
    BYTE rgbSessionId[32];
};

#define FLIGHT_MAX 65536
#define CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | \
                    ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM)
#define SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | \
                    ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM)

static SECURITY_STATUS acquire_client4(SCHANNEL_CRED *cred, CredHandle *handle)
{
    cred->dwVersion = SCHANNEL_CRED_VERSION;
    cred->dwFlags |= SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    return AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W, SECPKG_CRED_OUTBOUND, NULL, cred, NULL, NULL,
                                     handle, NULL);
}

/* ------------------------------------------------------------------------ */
/* QueryCredentialsAttributes                                               */

static void test_credential_attributes(void)
{
    SecPkgCred_SupportedProtocols protocols;
    SecPkgCred_CipherStrengths strengths;
    SecPkgCred_SupportedAlgs algs;
    SecPkgCredentials_NamesW names;
    ALG_ID only[] = { CALG_AES_256, CALG_ECDH_EPHEM, CALG_SHA_384 };
    SCHANNEL_CRED cred;
    SECURITY_STATUS status;
    CredHandle handle;
    BOOL has128, has256;
    DWORD i;

    memset(&cred, 0, sizeof(cred));
    cred.grbitEnabledProtocols = SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_2_CLIENT;
    status = acquire_client4(&cred, &handle);
    ok(status == SEC_E_OK, "AcquireCredentialsHandle returned %08lx\n", status);
    if (status) return;

    memset(&protocols, 0xcc, sizeof(protocols));
    status = QueryCredentialsAttributesW(&handle, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &protocols);
    ok(status == SEC_E_OK, "SUPPORTED_PROTOCOLS returned %08lx\n", status);
    ok(protocols.grbitProtocol == (SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_2_CLIENT),
       "grbitProtocol %#lx\n", protocols.grbitProtocol);
    status = QueryCredentialsAttributesW(&handle, SECPKG_ATTR_SUPPORTED_PROTOCOLS, NULL);
    ok(status == SEC_E_INTERNAL_ERROR, "NULL buffer: %08lx\n", status);
    status = QueryCredentialsAttributesW(&handle, SECPKG_ATTR_SUPPORTED_ALGS, NULL);
    ok(status == SEC_E_INTERNAL_ERROR, "NULL buffer: %08lx\n", status);

    memset(&strengths, 0, sizeof(strengths));
    status = QueryCredentialsAttributesW(&handle, SECPKG_ATTR_CIPHER_STRENGTHS, &strengths);
    ok(status == SEC_E_OK, "CIPHER_STRENGTHS returned %08lx\n", status);
    ok(strengths.dwMinimumCipherStrength >= 40 && strengths.dwMinimumCipherStrength <= 128,
       "minimum strength %lu\n", strengths.dwMinimumCipherStrength);
    ok(strengths.dwMaximumCipherStrength == 256, "maximum strength %lu\n", strengths.dwMaximumCipherStrength);

    memset(&algs, 0, sizeof(algs));
    status = QueryCredentialsAttributesW(&handle, SECPKG_ATTR_SUPPORTED_ALGS, &algs);
    ok(status == SEC_E_OK, "SUPPORTED_ALGS returned %08lx\n", status);
    has128 = has256 = FALSE;
    for (i = 0; i < algs.cSupportedAlgs; i++)
    {
        if (algs.palgSupportedAlgs[i] == CALG_AES_128) has128 = TRUE;
        if (algs.palgSupportedAlgs[i] == CALG_AES_256) has256 = TRUE;
    }
    ok(algs.cSupportedAlgs > 3 && has128 && has256, "%lu algorithms, AES-128 %d, AES-256 %d\n",
       algs.cSupportedAlgs, has128, has256);
    if (algs.palgSupportedAlgs) FreeContextBuffer(algs.palgSupportedAlgs);

    /* A credential without a certificate has no name. */
    status = QueryCredentialsAttributesW(&handle, SECPKG_CRED_ATTR_NAMES, &names);
    ok(status == SEC_E_NO_CREDENTIALS, "NAMES returned %08lx\n", status);
    FreeCredentialsHandle(&handle);

    /* dwMinimumCipherStrength and palgSupportedAlgs narrow what is offered. */
    memset(&cred, 0, sizeof(cred));
    cred.grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT;
    cred.dwMinimumCipherStrength = 256;
    status = acquire_client4(&cred, &handle);
    ok(status == SEC_E_OK, "AcquireCredentialsHandle returned %08lx\n", status);
    if (status) return;
    status = QueryCredentialsAttributesW(&handle, SECPKG_ATTR_CIPHER_STRENGTHS, &strengths);
    ok(status == SEC_E_OK && strengths.dwMinimumCipherStrength == 256 && strengths.dwMaximumCipherStrength == 256,
       "strengths %08lx: %lu-%lu\n", status, strengths.dwMinimumCipherStrength, strengths.dwMaximumCipherStrength);
    FreeCredentialsHandle(&handle);

    memset(&cred, 0, sizeof(cred));
    cred.grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT;
    cred.cSupportedAlgs = ARRAY_SIZE(only);
    cred.palgSupportedAlgs = only;
    status = acquire_client4(&cred, &handle);
    ok(status == SEC_E_OK, "AcquireCredentialsHandle returned %08lx\n", status);
    if (status) return;
    memset(&algs, 0, sizeof(algs));
    status = QueryCredentialsAttributesW(&handle, SECPKG_ATTR_SUPPORTED_ALGS, &algs);
    ok(status == SEC_E_OK, "SUPPORTED_ALGS returned %08lx\n", status);
    has128 = has256 = FALSE;
    for (i = 0; i < algs.cSupportedAlgs; i++)
    {
        if (algs.palgSupportedAlgs[i] == CALG_AES_128) has128 = TRUE;
        if (algs.palgSupportedAlgs[i] == CALG_AES_256) has256 = TRUE;
    }
    ok(has256 && !has128, "AES-128 %d, AES-256 %d after palgSupportedAlgs\n", has128, has256);
    if (algs.palgSupportedAlgs) FreeContextBuffer(algs.palgSupportedAlgs);
    FreeCredentialsHandle(&handle);
}

/* ------------------------------------------------------------------------ */
/* First InitializeSecurityContext call                                     */

static void test_first_call(void)
{
    static const BYTE alpn[] = { 14, 0, 0, 0,  2, 0, 0, 0,  8, 0,  2, 'h', '2',  4, 'h', 't', 't', 'p' };
    SecBuffer in_bufs[2], out_buf;
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 1, in_bufs }, out_desc = { SECBUFFER_VERSION, 1, &out_buf };
    BYTE token[16384];
    SCHANNEL_CRED cred;
    SECURITY_STATUS status;
    CredHandle handle;
    CtxtHandle ctx;
    ULONG attrs;

    memset(&cred, 0, sizeof(cred));
    status = acquire_client4(&cred, &handle);
    ok(status == SEC_E_OK, "AcquireCredentialsHandle returned %08lx\n", status);
    if (status) return;

    /* Caller-supplied output buffer: no ISC_RET_ALLOCATED_MEMORY, the always-on bits set. */
    out_buf.BufferType = SECBUFFER_TOKEN;
    out_buf.cbBuffer = sizeof(token);
    out_buf.pvBuffer = token;
    attrs = 0;
    status = InitializeSecurityContextW(&handle, NULL, (WCHAR *)L"localhost", ISC_REQ_CONFIDENTIALITY, 0, 0, NULL,
                                        0, &ctx, &out_desc, &attrs, NULL);
    ok(status == SEC_I_CONTINUE_NEEDED, "got %08lx\n", status);
    ok(out_buf.cbBuffer > 5 && token[0] == 0x16, "ClientHello of %lu bytes, type %#x\n", out_buf.cbBuffer, token[0]);
    ok(!(attrs & ISC_RET_ALLOCATED_MEMORY), "attributes %#lx\n", attrs);
    ok((attrs & (ISC_RET_CONFIDENTIALITY | ISC_RET_REPLAY_DETECT | ISC_RET_SEQUENCE_DETECT | ISC_RET_STREAM))
       == (ISC_RET_CONFIDENTIALITY | ISC_RET_REPLAY_DETECT | ISC_RET_SEQUENCE_DETECT | ISC_RET_STREAM),
       "attributes %#lx\n", attrs);
    if (status == SEC_I_CONTINUE_NEEDED) DeleteSecurityContext(&ctx);

    /* A first call whose input holds only an empty buffer is valid. */
    in_bufs[0].BufferType = SECBUFFER_EMPTY;
    in_bufs[0].cbBuffer = 0;
    in_bufs[0].pvBuffer = NULL;
    out_buf.BufferType = SECBUFFER_TOKEN;
    out_buf.cbBuffer = 0;
    out_buf.pvBuffer = NULL;
    status = InitializeSecurityContextW(&handle, NULL, (WCHAR *)L"localhost", CLIENT_REQ, 0, 0, &in_desc, 0, &ctx,
                                        &out_desc, &attrs, NULL);
    ok(status == SEC_I_CONTINUE_NEEDED, "empty input: got %08lx\n", status);
    ok(attrs & ISC_RET_ALLOCATED_MEMORY, "attributes %#lx\n", attrs);
    if (out_buf.pvBuffer) FreeContextBuffer(out_buf.pvBuffer);
    if (status == SEC_I_CONTINUE_NEEDED) DeleteSecurityContext(&ctx);

    /* ... and so is one holding only the ALPN offer, which then appears in the ClientHello. */
    in_bufs[0].BufferType = SECBUFFER_APPLICATION_PROTOCOLS;
    in_bufs[0].cbBuffer = sizeof(alpn);
    in_bufs[0].pvBuffer = (void *)alpn;
    out_buf.BufferType = SECBUFFER_TOKEN;
    out_buf.cbBuffer = 0;
    out_buf.pvBuffer = NULL;
    status = InitializeSecurityContextW(&handle, NULL, (WCHAR *)L"localhost", CLIENT_REQ, 0, 0, &in_desc, 0, &ctx,
                                        &out_desc, &attrs, NULL);
    ok(status == SEC_I_CONTINUE_NEEDED, "ALPN input: got %08lx\n", status);
    if (out_buf.pvBuffer)
    {
        static const BYTE ext[] = { 0x00, 0x10, 0x00, 0x0a, 0x00, 0x08, 0x02, 'h', '2', 0x04, 'h', 't', 't', 'p' };
        BOOL found = FALSE;
        ULONG i;

        for (i = 0; i + sizeof(ext) <= out_buf.cbBuffer && !found; i++)
            found = !memcmp((BYTE *)out_buf.pvBuffer + i, ext, sizeof(ext));
        ok(found, "ALPN extension with h2 and http not found in the ClientHello\n");
        FreeContextBuffer(out_buf.pvBuffer);
    }
    if (status == SEC_I_CONTINUE_NEEDED) DeleteSecurityContext(&ctx);

    /* Requests Schannel cannot honour. */
    status = InitializeSecurityContextW(&handle, NULL, (WCHAR *)L"localhost", CLIENT_REQ | ISC_REQ_DELEGATE, 0, 0,
                                        NULL, 0, &ctx, &out_desc, &attrs, NULL);
    ok(status == SEC_E_UNSUPPORTED_FUNCTION, "ISC_REQ_DELEGATE: got %08lx\n", status);
    status = InitializeSecurityContextW(&handle, NULL, (WCHAR *)L"localhost", CLIENT_REQ | ISC_REQ_PROMPT_FOR_CREDS,
                                        0, 0, NULL, 0, &ctx, &out_desc, &attrs, NULL);
    ok(status == SEC_E_UNSUPPORTED_FUNCTION, "ISC_REQ_PROMPT_FOR_CREDS: got %08lx\n", status);
    FreeCredentialsHandle(&handle);
}

/* ------------------------------------------------------------------------ */
/* In-memory connections                                                    */

/* Extra requests of the next steps (mutual authentication, supplied credentials). */
static ULONG client_extra_req, server_extra_req;

struct peer
{
    CtxtHandle ctx;
    BOOL have_ctx, done;
    BYTE in[FLIGHT_MAX];
    ULONG in_len;
};

static SECURITY_STATUS step(CredHandle *cred, struct peer *self, struct peer *other, BOOL server)
{
    SecBuffer in_bufs[2], out_buf;
    SecBufferDesc in_desc, out_desc;
    SECURITY_STATUS status;
    ULONG attrs, extra;

    pair_init_token(&in_desc, in_bufs, self->in, self->in_len, &out_desc, &out_buf);
    if (server)
        status = AcceptSecurityContext(cred, self->have_ctx ? &self->ctx : NULL, &in_desc, SERVER_REQ | server_extra_req, 0,
                                       &self->ctx, &out_desc, &attrs, NULL);
    else
        status = InitializeSecurityContextW(cred, self->have_ctx ? &self->ctx : NULL, (WCHAR *)L"localhost",
                                            CLIENT_REQ | client_extra_req, 0, 0, self->have_ctx ? &in_desc : NULL, 0,
                                            self->have_ctx ? NULL : &self->ctx, &out_desc, &attrs, NULL);
    if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED)
    {
        if (self->have_ctx || server)
        {
            extra = in_bufs[1].BufferType == SECBUFFER_EXTRA ? in_bufs[1].cbBuffer : 0;
            memmove(self->in, self->in + self->in_len - extra, extra);
            self->in_len = extra;
        }
        self->have_ctx = TRUE;
        self->done = status == SEC_E_OK;
    }
    if (out_buf.pvBuffer)
    {
        if (out_buf.cbBuffer && other->in_len + out_buf.cbBuffer <= sizeof(other->in))
        {
            memcpy(other->in + other->in_len, out_buf.pvBuffer, out_buf.cbBuffer);
            other->in_len += out_buf.cbBuffer;
        }
        FreeContextBuffer(out_buf.pvBuffer);
    }
    return status;
}

/* Runs a whole handshake; SEC_E_OK when both sides finished. */
static SECURITY_STATUS connect_pair(CredHandle *client_cred, CredHandle *server_cred, struct peer *client,
                                    struct peer *server)
{
    SECURITY_STATUS status = SEC_E_OK;
    int i;

    memset(client, 0, sizeof(*client));
    memset(server, 0, sizeof(*server));
    if ((status = step(client_cred, client, server, FALSE)) != SEC_I_CONTINUE_NEEDED) return status;
    for (i = 0; i < 16 && !(client->done && server->done); i++)
    {
        if (!server->done && server->in_len)
        {
            status = step(server_cred, server, client, TRUE);
            if (FAILED(status)) return status;
        }
        if (!client->done && client->in_len)
        {
            status = step(client_cred, client, server, FALSE);
            if (FAILED(status)) return status;
        }
    }
    return client->done && server->done ? SEC_E_OK : SEC_E_INTERNAL_ERROR;
}

static void close_pair(struct peer *client, struct peer *server)
{
    if (client->have_ctx) DeleteSecurityContext(&client->ctx);
    if (server->have_ctx) DeleteSecurityContext(&server->ctx);
}

static void test_connections(void)
{
    struct session_info info;
    SecPkgContext_ConnectionInfo conn;
    static struct peer client, server;
    SCHANNEL_CRED client_cred, server_cred;
    CredHandle client_handle, client_handle2, server_handle;
    SECURITY_STATUS status;
    PCCERT_CONTEXT cert;
    HCERTSTORE store;
    BYTE first_id[32];
    DWORD first_id_size = 0;

    if (!(cert = pair_import_server_cert(&store)))
    {
        ok(0, "cannot import the server certificate: %lu\n", GetLastError());
        if (store) CertCloseStore(store, 0);
        return;
    }
    memset(&server_cred, 0, sizeof(server_cred));
    server_cred.dwVersion = SCHANNEL_CRED_VERSION;
    server_cred.grbitEnabledProtocols = SP_PROT_TLS1_2_SERVER;
    server_cred.cCreds = 1;
    server_cred.paCred = &cert;
    status = AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W, SECPKG_CRED_INBOUND, NULL, &server_cred, NULL,
                                       NULL, &server_handle, NULL);
    ok(status == SEC_E_OK, "server AcquireCredentialsHandle returned %08lx\n", status);
    if (status) goto done;

    /* dwMaximumCipherStrength 128: the connection uses a 128-bit cipher. */
    memset(&client_cred, 0, sizeof(client_cred));
    client_cred.grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT;
    client_cred.dwMaximumCipherStrength = 128;
    status = acquire_client4(&client_cred, &client_handle);
    ok(status == SEC_E_OK, "client AcquireCredentialsHandle returned %08lx\n", status);
    if (!status)
    {
        status = connect_pair(&client_handle, &server_handle, &client, &server);
        ok(status == SEC_E_OK, "handshake with dwMaximumCipherStrength 128: %08lx\n", status);
        if (!status)
        {
            status = QueryContextAttributesW(&client.ctx, SECPKG_ATTR_CONNECTION_INFO, &conn);
            ok(status == SEC_E_OK && conn.dwCipherStrength == 128 && conn.aiCipher == CALG_AES_128,
               "cipher %#x strength %lu\n", conn.aiCipher, conn.dwCipherStrength);
        }
        close_pair(&client, &server);
        FreeCredentialsHandle(&client_handle);
    }

    /* The session cache: same credential and target resume, another credential does not. */
    memset(&client_cred, 0, sizeof(client_cred));
    client_cred.grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT;
    status = acquire_client4(&client_cred, &client_handle);
    ok(status == SEC_E_OK, "client AcquireCredentialsHandle returned %08lx\n", status);
    if (status) goto done;
    status = acquire_client4(&client_cred, &client_handle2);
    ok(status == SEC_E_OK, "client AcquireCredentialsHandle returned %08lx\n", status);

    status = connect_pair(&client_handle, &server_handle, &client, &server);
    ok(status == SEC_E_OK, "first connection: %08lx\n", status);
    memset(&info, 0xcc, sizeof(info));
    status = QueryContextAttributesW(&client.ctx, SECPKG_ATTR_SESSION_INFO, &info);
    ok(status == SEC_E_OK, "SESSION_INFO returned %08lx\n", status);
    ok(!(info.dwFlags & SSL_SESSION_RECONNECT), "first connection: flags %#lx\n", info.dwFlags);
    ok(info.cbSessionId <= 32, "session id of %lu bytes\n", info.cbSessionId);
    if (info.cbSessionId <= 32) memcpy(first_id, info.rgbSessionId, first_id_size = info.cbSessionId);
    close_pair(&client, &server);

    status = connect_pair(&client_handle, &server_handle, &client, &server);
    ok(status == SEC_E_OK, "second connection: %08lx\n", status);
    memset(&info, 0xcc, sizeof(info));
    status = QueryContextAttributesW(&client.ctx, SECPKG_ATTR_SESSION_INFO, &info);
    ok(status == SEC_E_OK, "SESSION_INFO returned %08lx\n", status);
    ok(info.dwFlags & SSL_SESSION_RECONNECT, "second connection not resumed: flags %#lx\n", info.dwFlags);
    close_pair(&client, &server);

    /* A resumed session stays in the cache: the third connection resumes it again (a TLS 1.2
     * server echoes the session id it resumes). */
    status = connect_pair(&client_handle, &server_handle, &client, &server);
    ok(status == SEC_E_OK, "third connection: %08lx\n", status);
    memset(&info, 0xcc, sizeof(info));
    status = QueryContextAttributesW(&client.ctx, SECPKG_ATTR_SESSION_INFO, &info);
    ok(status == SEC_E_OK, "SESSION_INFO returned %08lx\n", status);
    ok(info.dwFlags & SSL_SESSION_RECONNECT, "third connection not resumed: flags %#lx\n", info.dwFlags);
    ok(info.cbSessionId == first_id_size && !memcmp(info.rgbSessionId, first_id, first_id_size),
       "third connection: session id of %lu bytes, first %lu\n", info.cbSessionId, first_id_size);
    close_pair(&client, &server);

    status = connect_pair(&client_handle2, &server_handle, &client, &server);
    ok(status == SEC_E_OK, "other credential: %08lx\n", status);
    memset(&info, 0xcc, sizeof(info));
    status = QueryContextAttributesW(&client.ctx, SECPKG_ATTR_SESSION_INFO, &info);
    ok(status == SEC_E_OK && !(info.dwFlags & SSL_SESSION_RECONNECT),
       "another credential handle resumed: %08lx flags %#lx\n", status, info.dwFlags);
    close_pair(&client, &server);
    trace("first session id: %lu bytes\n", first_id_size);

    FreeCredentialsHandle(&client_handle);
    FreeCredentialsHandle(&client_handle2);
    FreeCredentialsHandle(&server_handle);
done:
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
}

/* ------------------------------------------------------------------------ */
/* The server asks for a client certificate                                 */

static SECURITY_STATUS acquire5(ULONG use, DWORD protocol, DWORD flags, PCCERT_CONTEXT cert, CredHandle *handle)
{
    SCH_CREDENTIALS cred;
    TLS_PARAMETERS params;

    memset(&cred, 0, sizeof(cred));
    memset(&params, 0, sizeof(params));
    cred.dwVersion = SCH_CREDENTIALS_VERSION;
    cred.dwFlags = flags;
    cred.cCreds = cert ? 1 : 0;
    cred.paCred = cert ? &cert : NULL;
    params.grbitDisabledProtocols = ~protocol;
    cred.cTlsParameters = 1;
    cred.pTlsParameters = &params;
    return AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W, use, NULL, &cred, NULL, NULL, handle, NULL);
}

/* Client hello, then the server's flight with its CertificateRequest; returns the client's status. */
static SECURITY_STATUS start_mutual(CredHandle *client_cred, CredHandle *server_cred, struct peer *client,
                                    struct peer *server)
{
    SECURITY_STATUS status;

    memset(client, 0, sizeof(*client));
    memset(server, 0, sizeof(*server));
    if ((status = step(client_cred, client, server, FALSE)) != SEC_I_CONTINUE_NEEDED) return status;
    if ((status = step(server_cred, server, client, TRUE)) != SEC_I_CONTINUE_NEEDED) return status;
    return step(client_cred, client, server, FALSE);
}

/* Drives both sides to the end. */
static SECURITY_STATUS finish_pair(CredHandle *client_cred, CredHandle *server_cred, struct peer *client,
                                   struct peer *server)
{
    SECURITY_STATUS status;
    int i;

    for (i = 0; i < 16 && !(client->done && server->done); i++)
    {
        if (!server->done && server->in_len && FAILED(status = step(server_cred, server, client, TRUE)))
            return status;
        if (!client->done && client->in_len && FAILED(status = step(client_cred, client, server, FALSE)))
            return status;
    }
    return client->done && server->done ? SEC_E_OK : SEC_E_INTERNAL_ERROR;
}

static void test_incomplete_credentials_proto(DWORD client_proto, DWORD server_proto, PCCERT_CONTEXT cert)
{
    static struct peer client, server;
    SecPkgContext_IssuerListInfoEx issuers;
    CredHandle client_handle, server_handle, cert_handle;
    PCCERT_CONTEXT remote;
    SECURITY_STATUS status;
    ULONG in_len;

    status = acquire5(SECPKG_CRED_INBOUND, server_proto, 0, cert, &server_handle);
    ok(status == SEC_E_OK, "server AcquireCredentialsHandle returned %08lx\n", status);
    if (status) return;
    status = acquire5(SECPKG_CRED_OUTBOUND, client_proto, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS,
                      NULL, &client_handle);
    ok(status == SEC_E_OK, "client AcquireCredentialsHandle returned %08lx\n", status);
    status = acquire5(SECPKG_CRED_OUTBOUND, client_proto, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS,
                      cert, &cert_handle);
    ok(status == SEC_E_OK, "client AcquireCredentialsHandle with a certificate returned %08lx\n", status);
    server_extra_req = ASC_REQ_MUTUAL_AUTH;

    /* No certificate, SCH_CRED_NO_DEFAULT_CREDS: the caller is asked, nothing is sent yet. */
    status = start_mutual(&client_handle, &server_handle, &client, &server);
    ok(status == SEC_I_INCOMPLETE_CREDENTIALS, "server asking for a certificate: got %08lx\n", status);
    ok(!server.in_len, "%lu bytes for the server with SEC_I_INCOMPLETE_CREDENTIALS\n", server.in_len);
    in_len = client.in_len;
    ok(in_len > 0, "the server's flight is gone\n");
    memset(&issuers, 0xcc, sizeof(issuers));
    status = QueryContextAttributesW(&client.ctx, SECPKG_ATTR_ISSUER_LIST_EX, &issuers);
    ok(status == SEC_E_OK, "ISSUER_LIST_EX returned %08lx\n", status);
    /* Our server, like Windows servers by default, names no authorities. */
    ok(!status && !issuers.cIssuers && !issuers.aIssuers, "%lu issuers at %p\n", issuers.cIssuers, issuers.aIssuers);
    if (!status && issuers.aIssuers) FreeContextBuffer(issuers.aIssuers);

    /* The same input again with the same credential: an empty Certificate, the handshake goes on. */
    status = step(&client_handle, &client, &server, FALSE);
    ok(status == SEC_I_CONTINUE_NEEDED || status == SEC_E_OK, "second call: got %08lx\n", status);
    ok(!client.in_len, "%lu input bytes left as extra\n", client.in_len);
    ok(server.in_len > 0, "no token for the server\n");
    status = finish_pair(&client_handle, &server_handle, &client, &server);
    ok(status == SEC_E_OK, "handshake without a certificate: %08lx\n", status);
    status = QueryContextAttributesW(&server.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &remote);
    ok(status == SEC_E_NO_CREDENTIALS, "server sees a client certificate: %08lx\n", status);
    if (!status) CertFreeCertificateContext(remote);
    close_pair(&client, &server);

    /* A new credential with a certificate, and no input repeated: the certificate is sent.
     * (A fresh credential each time: the session cache would resume the last connection.) */
    FreeCredentialsHandle(&client_handle);
    acquire5(SECPKG_CRED_OUTBOUND, client_proto, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS, NULL,
             &client_handle);
    status = start_mutual(&client_handle, &server_handle, &client, &server);
    ok(status == SEC_I_INCOMPLETE_CREDENTIALS, "server asking for a certificate: got %08lx\n", status);
    client.in_len = 0;
    status = step(&cert_handle, &client, &server, FALSE);
    ok(status == SEC_I_CONTINUE_NEEDED || status == SEC_E_OK, "call with the new credential: got %08lx\n", status);
    status = finish_pair(&cert_handle, &server_handle, &client, &server);
    ok(status == SEC_E_OK, "handshake with the new credential: %08lx\n", status);
    status = QueryContextAttributesW(&server.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &remote);
    ok(status == SEC_E_OK, "server sees no client certificate: %08lx\n", status);
    if (!status)
    {
        ok(CertCompareCertificate(X509_ASN_ENCODING, remote->pCertInfo, cert->pCertInfo), "another certificate\n");
        CertFreeCertificateContext(remote);
    }
    close_pair(&client, &server);

    /* ISC_REQ_USE_SUPPLIED_CREDS: never asked, an empty Certificate goes out. */
    FreeCredentialsHandle(&client_handle);
    acquire5(SECPKG_CRED_OUTBOUND, client_proto, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS, NULL,
             &client_handle);
    client_extra_req = ISC_REQ_USE_SUPPLIED_CREDS;
    status = start_mutual(&client_handle, &server_handle, &client, &server);
    ok(status == SEC_I_CONTINUE_NEEDED || status == SEC_E_OK, "ISC_REQ_USE_SUPPLIED_CREDS: got %08lx\n", status);
    status = finish_pair(&client_handle, &server_handle, &client, &server);
    ok(status == SEC_E_OK, "handshake with ISC_REQ_USE_SUPPLIED_CREDS: %08lx\n", status);
    close_pair(&client, &server);
    client_extra_req = 0;

    /* A credential with a certificate answers by itself. */
    FreeCredentialsHandle(&cert_handle);
    acquire5(SECPKG_CRED_OUTBOUND, client_proto, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS, cert,
             &cert_handle);
    status = start_mutual(&cert_handle, &server_handle, &client, &server);
    ok(status == SEC_I_CONTINUE_NEEDED || status == SEC_E_OK, "credential with a certificate: got %08lx\n", status);
    status = finish_pair(&cert_handle, &server_handle, &client, &server);
    ok(status == SEC_E_OK, "handshake with a certificate: %08lx\n", status);
    close_pair(&client, &server);

    /* No request from the server: no question either. */
    FreeCredentialsHandle(&client_handle);
    acquire5(SECPKG_CRED_OUTBOUND, client_proto, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS, NULL,
             &client_handle);
    server_extra_req = 0;
    status = start_mutual(&client_handle, &server_handle, &client, &server);
    ok(status == SEC_I_CONTINUE_NEEDED || status == SEC_E_OK, "no certificate request: got %08lx\n", status);
    close_pair(&client, &server);

    FreeCredentialsHandle(&client_handle);
    FreeCredentialsHandle(&cert_handle);
    FreeCredentialsHandle(&server_handle);
}

static void test_incomplete_credentials(void)
{
    PCCERT_CONTEXT cert;
    HCERTSTORE store;

    if (!(cert = pair_import_server_cert(&store)))
    {
        ok(0, "cannot import the test certificate: %lu\n", GetLastError());
        if (store) CertCloseStore(store, 0);
        return;
    }
    test_incomplete_credentials_proto(SP_PROT_TLS1_2_CLIENT, SP_PROT_TLS1_2_SERVER, cert);
    test_incomplete_credentials_proto(SP_PROT_TLS1_3_CLIENT, SP_PROT_TLS1_3_SERVER, cert);
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
}

START_TEST(client)
{
    test_credential_attributes();
    test_first_call();
    test_connections();
    test_incomplete_credentials();
}
