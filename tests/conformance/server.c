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

/* Runs ISC/ASC back and forth until both are done or one fails. */
static void run_handshake(struct party *client, struct party *server, ULONG asc_req, const BYTE *server_alpn,
                          ULONG server_alpn_size, const BYTE *client_alpn, ULONG client_alpn_size)
{
    ULONG isc_req = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY
                  | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM;
    int round;

    client->last = server->last = SEC_I_CONTINUE_NEEDED;
    client->in_len = server->in_len = 0;
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

START_TEST(server)
{
    test_inbound_credentials();
    test_accept();
}
