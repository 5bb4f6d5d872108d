/*
 * Conformance tests for Schannel's server side: AcquireCredentialsHandle(INBOUND) key
 * sources, AcceptSecurityContext with ALPN (SECBUFFER_APPLICATION_PROTOCOLS), mutual
 * authentication, server protocol values in CONNECTION_INFO, session resumption and
 * SCH_CRED_DISABLE_RECONNECTS. Client and server run in memory in this process.
 */

#include <stdarg.h>
#include <stdio.h>
#include <windef.h>
#include <winbase.h>
#include <wincrypt.h>
#define SECURITY_WIN32
#include <security.h>
#define SCHANNEL_USE_BLACKLISTS
#include <schannel.h>

#include "wine/test.h"
#include "testcert.h"

#ifndef SCH_CRED_DISABLE_RECONNECTS
#define SCH_CRED_DISABLE_RECONNECTS 0x00000080
#endif
#ifndef PKCS12_NO_PERSIST_KEY
#define PKCS12_NO_PERSIST_KEY 0x00008000
#endif
#ifndef SECPKG_ATTR_SESSION_INFO
#define SECPKG_ATTR_SESSION_INFO 0x5d
#endif
#ifndef SECPKG_ATTR_CLIENT_CERT_POLICY
#define SECPKG_ATTR_CLIENT_CERT_POLICY 0x60
#endif
#ifndef SEC_E_APPLICATION_PROTOCOL_MISMATCH
#define SEC_E_APPLICATION_PROTOCOL_MISMATCH ((HRESULT)0x80090367)
#endif

struct session_info { DWORD flags; DWORD id_size; BYTE id[32]; };  /* SecPkgContext_SessionInfo */

struct client_cert_policy   /* SecPkgCred_ClientCertPolicy */
{
    DWORD dwFlags;
    GUID guidPolicyId;
    DWORD dwCertFlags;
    DWORD dwUrlRetrievalTimeout;
    BOOL fCheckRevocationFreshnessTime;
    DWORD dwRevocationFreshnessTime;
    BOOL fOmitUsageCheck;
    WCHAR *pwszSslCtlStoreName;
    WCHAR *pwszSslCtlIdentifier;
};

#define BUF_SIZE 0x10000

struct party
{
    CredHandle cred;
    CtxtHandle ctx;
    BOOL have_ctx;
    BYTE in[BUF_SIZE];
    ULONG in_len;
    SECURITY_STATUS last;
    ULONG attrs;
};

static HCERTSTORE import_store(DWORD flags, PCCERT_CONTEXT *cert)
{
    CRYPT_DATA_BLOB blob = { sizeof(server_rsa_pfx), (BYTE *)server_rsa_pfx };
    HCERTSTORE store = PFXImportCertStore(&blob, server_rsa_pfx_password, flags);
    PCCERT_CONTEXT iter = NULL;
    DWORD size;

    *cert = NULL;
    if (!store) return NULL;
    while (!*cert && (iter = CertEnumCertificatesInStore(store, iter)))
    {
        size = 0;
        if (CertGetCertificateContextProperty(iter, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)
            || CertGetCertificateContextProperty(iter, CERT_KEY_CONTEXT_PROP_ID, NULL, &size))
            *cert = CertDuplicateCertificateContext(iter);
    }
    if (iter) CertFreeCertificateContext(iter);
    return store;
}

static SECURITY_STATUS acquire_server(CredHandle *cred, PCCERT_CONTEXT *certs, DWORD count, DWORD flags,
                                      DWORD enabled)
{
    SCHANNEL_CRED c;

    memset(&c, 0, sizeof(c));
    c.dwVersion = SCHANNEL_CRED_VERSION;
    c.cCreds = count;
    c.paCred = certs;
    c.dwFlags = flags;
    c.grbitEnabledProtocols = enabled;
    return AcquireCredentialsHandleA(NULL, (char *)UNISP_NAME_A, SECPKG_CRED_INBOUND, NULL, &c, NULL, NULL,
                                     cred, NULL);
}

static SECURITY_STATUS acquire_client(CredHandle *cred, DWORD enabled)
{
    SCHANNEL_CRED c;

    memset(&c, 0, sizeof(c));
    c.dwVersion = SCHANNEL_CRED_VERSION;
    c.grbitEnabledProtocols = enabled;
    c.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    return AcquireCredentialsHandleA(NULL, (char *)UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &c, NULL, NULL,
                                     cred, NULL);
}

/* SEC_APPLICATION_PROTOCOLS with one ALPN list (ids in TLS wire form). */
static ULONG make_alpn(BYTE *buf, const char *wire, USHORT wire_size)
{
    ULONG total = 6 + wire_size, ext = 2 /* SecApplicationProtocolNegotiationExt_ALPN */;

    memcpy(buf, &total, 4);
    memcpy(buf + 4, &ext, 4);
    memcpy(buf + 8, &wire_size, 2);
    memcpy(buf + 10, wire, wire_size);
    return 10 + wire_size;
}

/* Runs ISC/ASC back and forth, with what each side has in "in", until both are done or one
 * fails. */
static void exchange(struct party *client, struct party *server, ULONG asc_req, const BYTE *server_alpn,
                     ULONG server_alpn_size, const BYTE *client_alpn, ULONG client_alpn_size)
{
    ULONG isc_req = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY
                  | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM;
    int round;

    for (round = 0; round < 16; round++)
    {
        SecBuffer in[3], out[1];
        SecBufferDesc in_desc = { SECBUFFER_VERSION, 0, in }, out_desc = { SECBUFFER_VERSION, 1, out };

        if (client->last == SEC_I_CONTINUE_NEEDED && (!client->have_ctx || client->in_len))
        {
            in[0].BufferType = SECBUFFER_TOKEN; in[0].pvBuffer = client->in; in[0].cbBuffer = client->in_len;
            in[1].BufferType = SECBUFFER_EMPTY; in[1].pvBuffer = NULL; in[1].cbBuffer = 0;
            in_desc.cBuffers = 2;
            if (client_alpn_size)
            {
                in[in_desc.cBuffers].BufferType = SECBUFFER_APPLICATION_PROTOCOLS;
                in[in_desc.cBuffers].pvBuffer = (void *)client_alpn;
                in[in_desc.cBuffers].cbBuffer = client_alpn_size;
                in_desc.cBuffers++;
            }
            out[0].BufferType = SECBUFFER_TOKEN; out[0].pvBuffer = NULL; out[0].cbBuffer = 0;
            client->last = InitializeSecurityContextA(&client->cred, client->have_ctx ? &client->ctx : NULL,
                                                      (char *)"localhost", isc_req, 0, 0,
                                                      (client->have_ctx || client_alpn_size) ? &in_desc : NULL, 0,
                                                      &client->ctx, &out_desc, &client->attrs, NULL);
            if (client->last == SEC_E_OK || client->last == SEC_I_CONTINUE_NEEDED) client->have_ctx = TRUE;
            /* Asked for a certificate it lacks (SEC_I_INCOMPLETE_CREDENTIALS, 0x00090320): the
             * client goes on without one, calling again with the same input as curl does. */
            if (client->last == 0x00090320) client->last = SEC_I_CONTINUE_NEEDED;
            else client->in_len = 0;
            if (out[0].pvBuffer)
            {
                memcpy(server->in + server->in_len, out[0].pvBuffer, out[0].cbBuffer);
                server->in_len += out[0].cbBuffer;
                FreeContextBuffer(out[0].pvBuffer);
            }
        }
        if (server->last == SEC_I_CONTINUE_NEEDED && server->in_len)
        {
            in[0].BufferType = SECBUFFER_TOKEN; in[0].pvBuffer = server->in; in[0].cbBuffer = server->in_len;
            in[1].BufferType = SECBUFFER_EMPTY; in[1].pvBuffer = NULL; in[1].cbBuffer = 0;
            in_desc.cBuffers = 2;
            if (server_alpn_size)
            {
                in[2].BufferType = SECBUFFER_APPLICATION_PROTOCOLS;
                in[2].pvBuffer = (void *)server_alpn;
                in[2].cbBuffer = server_alpn_size;
                in_desc.cBuffers = 3;
            }
            out[0].BufferType = SECBUFFER_TOKEN; out[0].pvBuffer = NULL; out[0].cbBuffer = 0;
            server->last = AcceptSecurityContext(&server->cred, server->have_ctx ? &server->ctx : NULL, &in_desc,
                                                 asc_req | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM, 0,
                                                 &server->ctx, &out_desc, &server->attrs, NULL);
            if (server->last == SEC_E_OK || server->last == SEC_I_CONTINUE_NEEDED) server->have_ctx = TRUE;
            server->in_len = 0;
            if (out[0].pvBuffer)
            {
                memcpy(client->in + client->in_len, out[0].pvBuffer, out[0].cbBuffer);
                client->in_len += out[0].cbBuffer;
                FreeContextBuffer(out[0].pvBuffer);
            }
        }
        if (FAILED(client->last) || FAILED(server->last)) return;
        if (client->last == SEC_E_OK && server->last == SEC_E_OK) return;
    }
}

/* A new handshake between client and server. */
static void run_handshake(struct party *client, struct party *server, ULONG asc_req, const BYTE *server_alpn,
                          ULONG server_alpn_size, const BYTE *client_alpn, ULONG client_alpn_size)
{
    client->last = server->last = SEC_I_CONTINUE_NEEDED;
    client->in_len = server->in_len = 0;
    exchange(client, server, asc_req, server_alpn, server_alpn_size, client_alpn, client_alpn_size);
}

static void end_contexts(struct party *client, struct party *server)
{
    if (client->have_ctx) DeleteSecurityContext(&client->ctx);
    if (server->have_ctx) DeleteSecurityContext(&server->ctx);
    client->have_ctx = server->have_ctx = FALSE;
}

static void test_inbound_credentials(void)
{
    PCCERT_CONTEXT cert, cert2;
    HCERTSTORE store, store2;
    CredHandle cred;
    SECURITY_STATUS status;
    PCCERT_CONTEXT certs[2];
    SECURITY_STATUS (WINAPI *pSetCredentialsAttributesA)(CredHandle *, ULONG, void *, ULONG);

    status = acquire_server(&cred, NULL, 0, 0, 0);
    ok(status == SEC_E_NO_CREDENTIALS, "no certificate: got %08lx\n", status);
    if (status == SEC_E_OK) FreeCredentialsHandle(&cred);

    store = import_store(CRYPT_EXPORTABLE | CRYPT_USER_KEYSET, &cert);
    ok(store && cert, "PFXImportCertStore failed: %lu\n", GetLastError());
    if (!cert) return;
    status = acquire_server(&cred, &cert, 1, 0, 0);
    ok(status == SEC_E_OK, "exportable key: got %08lx\n", status);

    pSetCredentialsAttributesA = (void *)GetProcAddress(GetModuleHandleA("secur32.dll"), "SetCredentialsAttributesA");
    if (status == SEC_E_OK && pSetCredentialsAttributesA)
    {
        struct client_cert_policy policy;

        memset(&policy, 0, sizeof(policy));
        policy.fOmitUsageCheck = TRUE;
        status = pSetCredentialsAttributesA(&cred, SECPKG_ATTR_CLIENT_CERT_POLICY, &policy, sizeof(policy));
        ok(status == SEC_E_OK, "SetCredentialsAttributes(CLIENT_CERT_POLICY): got %08lx\n", status);
    }
    else if (status == SEC_E_OK) win_skip("SetCredentialsAttributesA not exported\n");
    if (status == SEC_E_OK) FreeCredentialsHandle(&cred);

    /* Two certificates (here the same one twice): the server may pick either. */
    certs[0] = certs[1] = cert;
    status = acquire_server(&cred, certs, 2, 0, 0);
    ok(status == SEC_E_OK, "two certificates: got %08lx\n", status);
    if (status == SEC_E_OK) FreeCredentialsHandle(&cred);
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);

    /* The key attached to the certificate only (no container). */
    store2 = import_store(CRYPT_EXPORTABLE | PKCS12_NO_PERSIST_KEY, &cert2);
    if (store2 && cert2)
    {
        status = acquire_server(&cred, &cert2, 1, 0, 0);
        ok(status == SEC_E_OK, "PKCS12_NO_PERSIST_KEY: got %08lx\n", status);
        if (status == SEC_E_OK) FreeCredentialsHandle(&cred);
        CertFreeCertificateContext(cert2);
    }
    else skip("PFXImportCertStore(PKCS12_NO_PERSIST_KEY) failed: %lu\n", GetLastError());
    if (store2) CertCloseStore(store2, 0);

    /* A non-exportable key still serves: Schannel signs with it. */
    store2 = import_store(CRYPT_USER_KEYSET, &cert2);
    if (store2 && cert2)
    {
        status = acquire_server(&cred, &cert2, 1, 0, 0);
        ok(status == SEC_E_OK, "non-exportable key: got %08lx\n", status);
        if (status == SEC_E_OK) FreeCredentialsHandle(&cred);
        CertFreeCertificateContext(cert2);
    }
    if (store2) CertCloseStore(store2, 0);
}

static void test_accept(void)
{
    static const char h2_wire[] = "\x02h2", offer_wire[] = "\x08http/1.1\x02h2", other_wire[] = "\x08http/1.1";
    static struct party client, server;
    BYTE server_alpn[64], client_alpn[64], other_alpn[64];
    ULONG server_alpn_size, client_alpn_size, other_alpn_size;
    SecPkgContext_ConnectionInfo info;
    SecPkgContext_ApplicationProtocol proto;
    struct session_info session;
    PCCERT_CONTEXT cert, peer;
    HCERTSTORE store;
    SECURITY_STATUS status;
    CredHandle no_resume;

    store = import_store(CRYPT_EXPORTABLE | CRYPT_USER_KEYSET, &cert);
    if (!cert)
    {
        skip("no server certificate\n");
        return;
    }
    server_alpn_size = make_alpn(server_alpn, h2_wire, 3);
    client_alpn_size = make_alpn(client_alpn, offer_wire, 12);
    other_alpn_size = make_alpn(other_alpn, other_wire, 9);

    ok(acquire_server(&server.cred, &cert, 1, 0, SP_PROT_TLS1_2_SERVER) == SEC_E_OK, "server credential\n");
    ok(acquire_client(&client.cred, SP_PROT_TLS1_2_CLIENT) == SEC_E_OK, "client credential\n");

    /* Mutual authentication requested, ALPN in common. */
    run_handshake(&client, &server, ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONFIDENTIALITY, server_alpn, server_alpn_size,
                  client_alpn, client_alpn_size);
    ok(server.last == SEC_E_OK, "ASC: got %08lx\n", server.last);
    ok(client.last == SEC_E_OK, "ISC: got %08lx\n", client.last);
    if (server.last == SEC_E_OK)
    {
        ok(server.attrs & ASC_RET_MUTUAL_AUTH, "ASC_RET_MUTUAL_AUTH missing: %#lx\n", server.attrs);
        ok(server.attrs & ASC_RET_CONFIDENTIALITY, "ASC_RET_CONFIDENTIALITY missing: %#lx\n", server.attrs);
        status = QueryContextAttributesA(&server.ctx, SECPKG_ATTR_CONNECTION_INFO, &info);
        ok(status == SEC_E_OK, "CONNECTION_INFO: %08lx\n", status);
        ok(info.dwProtocol == SP_PROT_TLS1_2_SERVER, "server protocol %#lx\n", info.dwProtocol);
        memset(&proto, 0, sizeof(proto));
        status = QueryContextAttributesA(&server.ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &proto);
        ok(status == SEC_E_OK, "APPLICATION_PROTOCOL: %08lx\n", status);
        ok(proto.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success, "status %u\n",
           proto.ProtoNegoStatus);
        ok(proto.ProtocolIdSize == 2 && !memcmp(proto.ProtocolId, "h2", 2), "server protocol id size %u\n",
           proto.ProtocolIdSize);
        /* The client sent no certificate. */
        peer = NULL;
        status = QueryContextAttributesA(&server.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &peer);
        ok(status != SEC_E_OK && !peer, "no client certificate expected: %08lx %p\n", status, peer);
        if (peer) CertFreeCertificateContext(peer);
        memset(&session, 0, sizeof(session));
        status = QueryContextAttributesA(&server.ctx, SECPKG_ATTR_SESSION_INFO, &session);
        ok(status == SEC_E_OK && !(session.flags & 1), "first session resumed? %08lx %#lx\n", status, session.flags);
    }
    end_contexts(&client, &server);

    /* The same client again: the server resumes its session. */
    run_handshake(&client, &server, ASC_REQ_CONFIDENTIALITY, NULL, 0, NULL, 0);
    ok(server.last == SEC_E_OK && client.last == SEC_E_OK, "resumption: %08lx %08lx\n", server.last, client.last);
    if (server.last == SEC_E_OK)
    {
        memset(&session, 0, sizeof(session));
        status = QueryContextAttributesA(&server.ctx, SECPKG_ATTR_SESSION_INFO, &session);
        ok(status == SEC_E_OK && (session.flags & 1), "not resumed: %08lx %#lx\n", status, session.flags);
    }
    end_contexts(&client, &server);

    /* Resumed again with ALPN offered: the session is resumed and the protocol negotiated anew. */
    run_handshake(&client, &server, ASC_REQ_CONFIDENTIALITY, server_alpn, server_alpn_size, client_alpn,
                  client_alpn_size);
    ok(server.last == SEC_E_OK && client.last == SEC_E_OK, "resumption with ALPN: %08lx %08lx\n", server.last,
       client.last);
    if (client.last == SEC_E_OK)
    {
        memset(&session, 0, sizeof(session));
        status = QueryContextAttributesA(&client.ctx, SECPKG_ATTR_SESSION_INFO, &session);
        ok(status == SEC_E_OK && (session.flags & 1), "client not resumed: %08lx %#lx\n", status, session.flags);
        memset(&proto, 0, sizeof(proto));
        status = QueryContextAttributesA(&client.ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, &proto);
        ok(status == SEC_E_OK, "APPLICATION_PROTOCOL: %08lx\n", status);
        ok(proto.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success
           && proto.ProtocolIdSize == 2 && !memcmp(proto.ProtocolId, "h2", 2),
           "resumed client protocol: status %u, id size %u\n", proto.ProtoNegoStatus, proto.ProtocolIdSize);
    }
    end_contexts(&client, &server);

    /* Nothing in common: SEC_E_APPLICATION_PROTOCOL_MISMATCH from ASC. */
    run_handshake(&client, &server, ASC_REQ_CONFIDENTIALITY, server_alpn, server_alpn_size, other_alpn,
                  other_alpn_size);
    ok(server.last == SEC_E_APPLICATION_PROTOCOL_MISMATCH, "ALPN mismatch: ASC got %08lx\n", server.last);
    ok(FAILED(client.last) || client.last == SEC_I_CONTINUE_NEEDED, "ALPN mismatch: ISC got %08lx\n", client.last);
    end_contexts(&client, &server);
    FreeCredentialsHandle(&server.cred);

    /* SCH_CRED_DISABLE_RECONNECTS: a returning client gets a full handshake. */
    ok(acquire_server(&no_resume, &cert, 1, SCH_CRED_DISABLE_RECONNECTS, SP_PROT_TLS1_2_SERVER) == SEC_E_OK,
       "server credential\n");
    server.cred = no_resume;
    FreeCredentialsHandle(&client.cred);
    ok(acquire_client(&client.cred, SP_PROT_TLS1_2_CLIENT) == SEC_E_OK, "client credential\n");
    run_handshake(&client, &server, ASC_REQ_CONFIDENTIALITY, NULL, 0, NULL, 0);
    ok(server.last == SEC_E_OK, "first: %08lx\n", server.last);
    end_contexts(&client, &server);
    run_handshake(&client, &server, ASC_REQ_CONFIDENTIALITY, NULL, 0, NULL, 0);
    ok(server.last == SEC_E_OK, "second: %08lx\n", server.last);
    if (server.last == SEC_E_OK)
    {
        memset(&session, 0, sizeof(session));
        status = QueryContextAttributesA(&server.ctx, SECPKG_ATTR_SESSION_INFO, &session);
        ok(status == SEC_E_OK && !(session.flags & 1), "resumed despite DISABLE_RECONNECTS: %08lx %#lx\n", status,
           session.flags);
    }
    end_contexts(&client, &server);
    FreeCredentialsHandle(&server.cred);
    FreeCredentialsHandle(&client.cred);
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
}

static SECURITY_STATUS acquire_client_with_cert(CredHandle *cred, PCCERT_CONTEXT cert, BOOL tls13)
{
    SCHANNEL_CRED c4;
    SCH_CREDENTIALS c5;
    TLS_PARAMETERS params;

    memset(&c4, 0, sizeof(c4));
    memset(&c5, 0, sizeof(c5));
    memset(&params, 0, sizeof(params));
    if (!tls13)
    {
        c4.dwVersion = SCHANNEL_CRED_VERSION;
        c4.grbitEnabledProtocols = SP_PROT_TLS1_2_CLIENT;
        c4.cCreds = 1;
        c4.paCred = &cert;
        c4.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
        return AcquireCredentialsHandleA(NULL, (char *)UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &c4, NULL, NULL,
                                         cred, NULL);
    }
    c5.dwVersion = SCH_CREDENTIALS_VERSION;
    c5.cCreds = 1;
    c5.paCred = &cert;
    c5.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    params.grbitDisabledProtocols = ~SP_PROT_TLS1_3_CLIENT;
    c5.cTlsParameters = 1;
    c5.pTlsParameters = &params;
    return AcquireCredentialsHandleA(NULL, (char *)UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &c5, NULL, NULL,
                                     cred, NULL);
}

static SECURITY_STATUS acquire_server13(CredHandle *cred, PCCERT_CONTEXT cert)
{
    SCH_CREDENTIALS c;
    TLS_PARAMETERS params;

    memset(&c, 0, sizeof(c));
    memset(&params, 0, sizeof(params));
    c.dwVersion = SCH_CREDENTIALS_VERSION;
    c.cCreds = 1;
    c.paCred = &cert;
    params.grbitDisabledProtocols = ~SP_PROT_TLS1_3_SERVER;
    c.cTlsParameters = 1;
    c.pTlsParameters = &params;
    return AcquireCredentialsHandleA(NULL, (char *)UNISP_NAME_A, SECPKG_CRED_INBOUND, NULL, &c, NULL, NULL,
                                     cred, NULL);
}

/* DecryptMessage of the first record in party->in (consumed); returns the status and the
 * plaintext size in *size (copied to out when given). */
static SECURITY_STATUS decrypt_in(struct party *party, BYTE *out, ULONG *size)
{
    SecBuffer b[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
    SECURITY_STATUS status;
    ULONG extra = 0;
    int i;

    b[0].BufferType = SECBUFFER_DATA; b[0].pvBuffer = party->in; b[0].cbBuffer = party->in_len;
    for (i = 1; i < 4; i++) { b[i].BufferType = SECBUFFER_EMPTY; b[i].pvBuffer = NULL; b[i].cbBuffer = 0; }
    status = DecryptMessage(&party->ctx, &desc, 0, NULL);
    *size = 0;
    for (i = 0; i < 4; i++)
    {
        if (b[i].BufferType == SECBUFFER_DATA)
        {
            *size = b[i].cbBuffer;
            if (out && b[i].cbBuffer) memcpy(out, b[i].pvBuffer, b[i].cbBuffer);
        }
        if (b[i].BufferType == SECBUFFER_EXTRA) extra = b[i].cbBuffer;
    }
    if (status == SEC_E_OK || status == SEC_I_RENEGOTIATE)
    {
        memmove(party->in, party->in + party->in_len - extra, extra);
        party->in_len = extra;
    }
    return status;
}

/* EncryptMessage of text on from, the record appended to to->in. */
static SECURITY_STATUS encrypt_to(struct party *from, struct party *to, const char *text)
{
    SecPkgContext_StreamSizes sizes;
    SecBuffer b[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
    SECURITY_STATUS status;
    ULONG len = strlen(text);
    BYTE *rec = to->in + to->in_len;

    if ((status = QueryContextAttributesA(&from->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes))) return status;
    memcpy(rec + sizes.cbHeader, text, len);
    b[0].BufferType = SECBUFFER_STREAM_HEADER; b[0].pvBuffer = rec; b[0].cbBuffer = sizes.cbHeader;
    b[1].BufferType = SECBUFFER_DATA; b[1].pvBuffer = rec + sizes.cbHeader; b[1].cbBuffer = len;
    b[2].BufferType = SECBUFFER_STREAM_TRAILER; b[2].pvBuffer = rec + sizes.cbHeader + len;
    b[2].cbBuffer = sizes.cbTrailer;
    b[3].BufferType = SECBUFFER_EMPTY; b[3].pvBuffer = NULL; b[3].cbBuffer = 0;
    status = EncryptMessage(&from->ctx, 0, &desc, 0);
    if (status == SEC_E_OK) to->in_len += b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer;
    return status;
}

/* AcceptSecurityContext(ASC_REQ_MUTUAL_AUTH) with an empty input token on the established
 * server context, as .NET's SslStream.NegotiateClientCertificateAsync does. The token goes to
 * client->in; returns the status and the token size in *size. */
static SECURITY_STATUS ask_again(struct party *server, struct party *client, ULONG *size)
{
    SecBuffer in[2], out[1];
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in }, out_desc = { SECBUFFER_VERSION, 1, out };
    SECURITY_STATUS status;

    in[0].BufferType = SECBUFFER_TOKEN; in[0].pvBuffer = NULL; in[0].cbBuffer = 0;
    in[1].BufferType = SECBUFFER_EMPTY; in[1].pvBuffer = NULL; in[1].cbBuffer = 0;
    out[0].BufferType = SECBUFFER_TOKEN; out[0].pvBuffer = NULL; out[0].cbBuffer = 0;
    server->attrs = 0;
    status = AcceptSecurityContext(&server->cred, &server->ctx, &in_desc,
                                   ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONFIDENTIALITY | ASC_REQ_ALLOCATE_MEMORY
                                   | ASC_REQ_STREAM, 0, &server->ctx, &out_desc, &server->attrs, NULL);
    *size = out[0].cbBuffer;
    if (out[0].pvBuffer)
    {
        memcpy(client->in + client->in_len, out[0].pvBuffer, out[0].cbBuffer);
        client->in_len += out[0].cbBuffer;
        FreeContextBuffer(out[0].pvBuffer);
    }
    return status;
}

/* The client's certificate as the server sees it now matches cert. */
static void check_client_cert(struct party *server, PCCERT_CONTEXT cert, const char *what)
{
    PCCERT_CONTEXT peer = NULL;
    SECURITY_STATUS status = QueryContextAttributesA(&server->ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &peer);

    ok(status == SEC_E_OK && peer, "%s: REMOTE_CERT_CONTEXT %08lx %p\n", what, status, peer);
    if (!peer) return;
    ok(CertCompareCertificate(X509_ASN_ENCODING, peer->pCertInfo, cert->pCertInfo),
       "%s: not the client's certificate\n", what);
    CertFreeCertificateContext(peer);
}

/* Records still flow both ways with the (new) keys. */
static void check_records(struct party *client, struct party *server, const char *what)
{
    BYTE plain[64];
    ULONG size;

    SECURITY_STATUS status;

    client->in_len = server->in_len = 0;
    ok(encrypt_to(server, client, "after") == SEC_E_OK, "%s: EncryptMessage (server)\n", what);
    status = decrypt_in(client, plain, &size);
    ok(status == SEC_E_OK && size == 5 && !memcmp(plain, "after", 5), "%s: client got %08lx, %lu bytes\n", what,
       status, size);
    ok(encrypt_to(client, server, "reply") == SEC_E_OK, "%s: EncryptMessage (client)\n", what);
    status = decrypt_in(server, plain, &size);
    ok(status == SEC_E_OK && size == 5 && !memcmp(plain, "reply", 5), "%s: server got %08lx, %lu bytes\n", what,
       status, size);
}

/* The client's ISC after SEC_I_RENEGOTIATE: its answer (first record of content type
 * record_type) goes to server->in, both sides continue the exchange. */
static void client_answers(struct party *client, struct party *server, BYTE record_type, const char *what)
{
    SecBuffer in[2], out[1];
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in }, out_desc = { SECBUFFER_VERSION, 1, out };

    client->last = server->last = SEC_I_CONTINUE_NEEDED;
    server->in_len = 0;
    in[0].BufferType = SECBUFFER_TOKEN; in[0].pvBuffer = client->in; in[0].cbBuffer = client->in_len;
    in[1].BufferType = SECBUFFER_EMPTY; in[1].pvBuffer = NULL; in[1].cbBuffer = 0;
    out[0].BufferType = SECBUFFER_TOKEN; out[0].pvBuffer = NULL; out[0].cbBuffer = 0;
    client->last = InitializeSecurityContextA(&client->cred, &client->ctx, (char *)"localhost",
                                              ISC_REQ_CONFIDENTIALITY | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM,
                                              0, 0, &in_desc, 0, &client->ctx, &out_desc, &client->attrs, NULL);
    ok(client->last == SEC_I_CONTINUE_NEEDED || client->last == SEC_E_OK,
       "%s: client ISC after SEC_I_RENEGOTIATE: %08lx\n", what, client->last);
    ok(out[0].cbBuffer > 5 && out[0].pvBuffer && ((BYTE *)out[0].pvBuffer)[0] == record_type,
       "%s: client answer of %lu bytes\n", what, out[0].cbBuffer);
    client->in_len = 0;
    if (out[0].pvBuffer)
    {
        memcpy(server->in, out[0].pvBuffer, out[0].cbBuffer);
        server->in_len = out[0].cbBuffer;
        FreeContextBuffer(out[0].pvBuffer);
    }
}

/* A server asks an established client for its certificate (AcceptSecurityContext with
 * ASC_REQ_MUTUAL_AUTH and no input): TLS 1.2 renegotiation (HelloRequest), TLS 1.3
 * post-handshake authentication (CertificateRequest) when the client offered it. */
static void test_ask_for_certificate_later(void)
{
    static struct party client, server;
    PCCERT_CONTEXT cert, peer;
    HCERTSTORE store;
    SECURITY_STATUS status;
    BYTE plain[64];
    ULONG size;

    store = import_store(CRYPT_EXPORTABLE | CRYPT_USER_KEYSET, &cert);
    if (!cert)
    {
        skip("no certificate\n");
        return;
    }

    /* TLS 1.2: the first handshake without a certificate request. */
    ok(acquire_server(&server.cred, &cert, 1, 0, SP_PROT_TLS1_2_SERVER) == SEC_E_OK, "server credential\n");
    ok(acquire_client_with_cert(&client.cred, cert, FALSE) == SEC_E_OK, "client credential\n");
    run_handshake(&client, &server, ASC_REQ_CONFIDENTIALITY, NULL, 0, NULL, 0);
    ok(server.last == SEC_E_OK && client.last == SEC_E_OK, "TLS 1.2 handshake: %08lx %08lx\n", server.last,
       client.last);
    peer = NULL;
    status = QueryContextAttributesA(&server.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &peer);
    ok(status != SEC_E_OK && !peer, "no client certificate yet: %08lx %p\n", status, peer);
    if (peer) CertFreeCertificateContext(peer);

    /* The request: SEC_E_OK with one handshake record (an encrypted HelloRequest). */
    client.in_len = 0;
    status = ask_again(&server, &client, &size);
    ok(status == SEC_E_OK, "TLS 1.2 request: got %08lx\n", status);
    ok(size == client.in_len && size > 5 && client.in[0] == 0x16 && 5 + (client.in[3] << 8 | client.in[4]) == size,
       "TLS 1.2 request: %lu bytes, type %#x\n", size, client.in[0]);
    ok(server.attrs & ASC_RET_MUTUAL_AUTH, "ASC_RET_MUTUAL_AUTH missing: %#lx\n", server.attrs);

    /* The client sees SEC_I_RENEGOTIATE and runs the new handshake through ISC. */
    status = decrypt_in(&client, NULL, &size);
    ok(status == SEC_I_RENEGOTIATE, "client DecryptMessage: got %08lx\n", status);
    ok(!size, "client DecryptMessage: %lu bytes of data\n", size);
    client_answers(&client, &server, 0x16, "TLS 1.2");
    /* The server's following ASC calls take the client's handshake records as tokens. */
    exchange(&client, &server, ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONFIDENTIALITY, NULL, 0, NULL, 0);
    ok(server.last == SEC_E_OK, "TLS 1.2 renegotiation: ASC got %08lx\n", server.last);
    ok(client.last == SEC_E_OK, "TLS 1.2 renegotiation: ISC got %08lx\n", client.last);
    ok(server.attrs & ASC_RET_MUTUAL_AUTH, "ASC_RET_MUTUAL_AUTH missing: %#lx\n", server.attrs);
    check_client_cert(&server, cert, "TLS 1.2 renegotiation");
    check_records(&client, &server, "TLS 1.2 renegotiation");
    end_contexts(&client, &server);
    FreeCredentialsHandle(&server.cred);
    FreeCredentialsHandle(&client.cred);

    /* TLS 1.3: post-handshake authentication needs the client's post_handshake_auth
     * extension; a client without it cannot be asked (SEC_I_NO_RENEGOTIATION, no token) and
     * the connection goes on. */
    ok(acquire_server13(&server.cred, cert) == SEC_E_OK, "TLS 1.3 server credential\n");
    ok(acquire_client_with_cert(&client.cred, cert, TRUE) == SEC_E_OK, "TLS 1.3 client credential\n");
    run_handshake(&client, &server, ASC_REQ_CONFIDENTIALITY, NULL, 0, NULL, 0);
    ok(server.last == SEC_E_OK && client.last == SEC_E_OK, "TLS 1.3 handshake: %08lx %08lx\n", server.last,
       client.last);
    /* The client takes the server's tickets first. */
    while (client.in_len && (status = decrypt_in(&client, plain, &size)) == SEC_I_RENEGOTIATE)
    {
        SecBuffer in[2], out[1];
        SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in }, out_desc = { SECBUFFER_VERSION, 1, out };

        in[0].BufferType = SECBUFFER_TOKEN; in[0].pvBuffer = NULL; in[0].cbBuffer = 0;
        in[1].BufferType = SECBUFFER_EMPTY; in[1].pvBuffer = NULL; in[1].cbBuffer = 0;
        out[0].BufferType = SECBUFFER_TOKEN; out[0].pvBuffer = NULL; out[0].cbBuffer = 0;
        InitializeSecurityContextA(&client.cred, &client.ctx, (char *)"localhost",
                                   ISC_REQ_CONFIDENTIALITY | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM, 0, 0,
                                   &in_desc, 0, &client.ctx, &out_desc, &client.attrs, NULL);
        if (out[0].pvBuffer) FreeContextBuffer(out[0].pvBuffer);
    }
    client.in_len = 0;
    status = ask_again(&server, &client, &size);
    if (status == SEC_E_OK)
    {
        /* A client that offered post_handshake_auth: the CertificateRequest (an encrypted
         * record), answered through DecryptMessage / ISC, then the server's ASC. */
        ok(size > 5 && client.in[0] == 0x17, "TLS 1.3 request: %lu bytes, type %#x\n", size, client.in[0]);
        status = decrypt_in(&client, NULL, &size);
        ok(status == SEC_I_RENEGOTIATE && !size, "TLS 1.3 client DecryptMessage: %08lx, %lu bytes\n", status, size);
        client_answers(&client, &server, 0x17, "TLS 1.3");
        exchange(&client, &server, ASC_REQ_MUTUAL_AUTH | ASC_REQ_CONFIDENTIALITY, NULL, 0, NULL, 0);
        ok(server.last == SEC_E_OK, "TLS 1.3 post-handshake authentication: ASC got %08lx\n", server.last);
        check_client_cert(&server, cert, "TLS 1.3 post-handshake authentication");
    }
    else
    {
        ok(status == SEC_I_NO_RENEGOTIATION, "TLS 1.3 request without post_handshake_auth: got %08lx\n", status);
        ok(!size, "TLS 1.3 request without post_handshake_auth: %lu byte token\n", size);
    }
    check_records(&client, &server, "TLS 1.3 after the request");
    end_contexts(&client, &server);
    FreeCredentialsHandle(&server.cred);
    FreeCredentialsHandle(&client.cred);
    CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
}

/* Removes the key container a certificate's CERT_KEY_PROV_INFO_PROP_ID names. */
static void delete_key_container(PCCERT_CONTEXT cert)
{
    CRYPT_KEY_PROV_INFO *info;
    HCRYPTPROV prov;
    DWORD size = 0;

    if (!CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)) return;
    if (!(info = HeapAlloc(GetProcessHeap(), 0, size))) return;
    if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, info, &size))
        CryptAcquireContextW(&prov, info->pwszContainerName, info->pwszProvName, info->dwProvType,
                             CRYPT_DELETEKEYSET | (info->dwFlags & CRYPT_MACHINE_KEYSET));
    HeapFree(GetProcessHeap(), 0, info);
}

/* Removes every copy of the certificate with this hash (and its key container) from a
 * system MY store; returns how many there were. */
static unsigned int remove_from_store(DWORD location, CRYPT_HASH_BLOB *hash, BOOL with_keys)
{
    HCERTSTORE my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, location, L"MY");
    PCCERT_CONTEXT found;
    unsigned int count = 0;

    if (!my) return 0;
    while (count < 8 && (found = CertFindCertificateInStore(my, X509_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, hash,
                                                             NULL)))
    {
        if (with_keys) delete_key_container(found);
        if (CertDeleteCertificateFromStore(found)) count++;
        else break;
    }
    CertCloseStore(my, 0);
    return count;
}

/* The test certificate imported into the CurrentUser or LocalMachine MY store (its key in a
 * user or machine key container), found there again by its hash, serves as the server's
 * credential as IIS-style servers use it; removed from the store afterwards. */
static void test_system_store_credential(DWORD location, const char *name)
{
    static struct party client, server;
    BYTE hash[20];
    CRYPT_HASH_BLOB hash_blob = { sizeof(hash), hash };
    PCCERT_CONTEXT imported, added = NULL, found;
    HCERTSTORE pfx, my;
    SECURITY_STATUS status;
    DWORD size = sizeof(hash);
    BOOL machine = location == CERT_SYSTEM_STORE_LOCAL_MACHINE;
    unsigned int count;

    pfx = import_store(CRYPT_EXPORTABLE | (machine ? CRYPT_MACHINE_KEYSET : CRYPT_USER_KEYSET), &imported);
    if (!imported)
    {
        skip("%s: PFXImportCertStore failed: %lu\n", name, GetLastError());
        if (pfx) CertCloseStore(pfx, 0);
        return;
    }
    ok(CertGetCertificateContextProperty(imported, CERT_HASH_PROP_ID, hash, &size), "%s: no hash\n", name);
    if (machine)
    {
        /* Windows records the machine key set in the key link; Wine 8's PFXImportCertStore
         * does not (the key is there): add it, a no-op on Windows. */
        CRYPT_KEY_PROV_INFO *info;

        size = 0;
        if (CertGetCertificateContextProperty(imported, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)
            && (info = HeapAlloc(GetProcessHeap(), 0, size)))
        {
            if (CertGetCertificateContextProperty(imported, CERT_KEY_PROV_INFO_PROP_ID, info, &size))
            {
                info->dwFlags |= CRYPT_MACHINE_KEYSET;
                ok(CertSetCertificateContextProperty(imported, CERT_KEY_PROV_INFO_PROP_ID, 0, info),
                   "%s: setting the key link failed: %lu\n", name, GetLastError());
            }
            HeapFree(GetProcessHeap(), 0, info);
        }
    }
    /* What an interrupted run left (its key container may be the one just imported: Wine's
     * PFX import always uses the default container). */
    remove_from_store(location, &hash_blob, FALSE);
    my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, location, L"MY");
    ok(my != NULL, "%s: CertOpenStore(MY) failed: %lu\n", name, GetLastError());
    if (!my)
    {
        delete_key_container(imported);
        CertFreeCertificateContext(imported);
        CertCloseStore(pfx, 0);
        return;
    }
    ok(CertAddCertificateContextToStore(my, imported, CERT_STORE_ADD_REPLACE_EXISTING, &added),
       "%s: CertAddCertificateContextToStore failed: %lu\n", name, GetLastError());
    if (added) CertFreeCertificateContext(added);
    CertFreeCertificateContext(imported);
    CertCloseStore(pfx, 0);
    CertCloseStore(my, 0);

    /* As a server finds its certificate: a fresh handle on the system store. */
    if (machine) my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, location, L"MY");
    else my = CertOpenSystemStoreA(0, "MY");
    ok(my != NULL, "%s: reopening MY failed: %lu\n", name, GetLastError());
    if (!my) return;
    found = CertFindCertificateInStore(my, X509_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &hash_blob, NULL);
    ok(found != NULL, "%s: certificate not found in MY: %lu\n", name, GetLastError());
    if (found)
    {
        size = 0;
        ok(CertGetCertificateContextProperty(found, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size),
           "%s: the store's certificate has no key link\n", name);
        status = acquire_server(&server.cred, &found, 1, 0, SP_PROT_TLS1_2_SERVER);
        /* Under Wine 8 the LocalMachine copy's key link names the user's key set (its PFX
         * import and registry store lose CRYPT_MACHINE_KEYSET); the credential store then
         * looks in both key sets and takes the key that matches the certificate. */
        ok(status == SEC_E_OK, "%s: AcquireCredentialsHandle: %08lx\n", name, status);
        if (status == SEC_E_OK)
        {
            PCCERT_CONTEXT peer = NULL;

            ok(acquire_client(&client.cred, SP_PROT_TLS1_2_CLIENT) == SEC_E_OK, "client credential\n");
            run_handshake(&client, &server, ASC_REQ_CONFIDENTIALITY, NULL, 0, NULL, 0);
            ok(server.last == SEC_E_OK && client.last == SEC_E_OK, "%s: handshake %08lx %08lx\n", name,
               server.last, client.last);
            /* The client saw the store's certificate. */
            status = QueryContextAttributesA(&client.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &peer);
            ok(status == SEC_E_OK && peer && CertCompareCertificate(X509_ASN_ENCODING, peer->pCertInfo,
                                                                   found->pCertInfo),
               "%s: server certificate %08lx %p\n", name, status, peer);
            if (peer) CertFreeCertificateContext(peer);
            end_contexts(&client, &server);
            FreeCredentialsHandle(&client.cred);
            FreeCredentialsHandle(&server.cred);
        }
        CertFreeCertificateContext(found);
    }
    CertCloseStore(my, 0);
    /* The copy added above is there to remove (Wine's CurrentUser MY view shows it twice:
     * Wine also lists LocalMachine's certificates there). */
    count = remove_from_store(location, &hash_blob, TRUE);
    ok(count >= 1, "%s: %u copies to remove\n", name, count);
}

START_TEST(server)
{
    test_inbound_credentials();
    test_accept();
    test_ask_for_certificate_later();
    test_system_store_credential(CERT_SYSTEM_STORE_CURRENT_USER, "CurrentUser MY");
    test_system_store_credential(CERT_SYSTEM_STORE_LOCAL_MACHINE, "LocalMachine MY");
}
