/*
 * NTLM and Negotiate through secur32: a client and a server context in one process with
 * explicit credentials, then signatures and sealed messages both ways.
 *
 * Under Wine NTLM is Wine's msv1_0.dll, which drives Samba's ntlm_auth; without it
 * (Debian package winbind) the package cannot start a context and the test skips.
 * A local server context cannot check a made-up password against an account database:
 * Windows and Wine (ntlm_auth without winbindd) answer the client's last message with
 * SEC_E_LOGON_DENIED, or accept it. Both are accepted below; the message tests then run
 * on the client side only, where they do not need the server's keys.
 */

#include <stdarg.h>
#include <string.h>

#include <windef.h>
#include <winbase.h>
#define SECURITY_WIN32
#include <sspi.h>
#include <rpc.h>

#include "wine/test.h"

typedef SECURITY_STATUS (WINAPI *query_ex_fn)(CtxtHandle *, ULONG, void *, ULONG);

struct side
{
    CredHandle cred;
    CtxtHandle ctx;
    BOOL have_ctx;
    BYTE token[12000];
    ULONG token_size;
};

static SEC_WINNT_AUTH_IDENTITY_W client_identity =
{
    (unsigned short *)L"testuser", 8, (unsigned short *)L"WORKGROUP", 9, (unsigned short *)L"testpass", 8,
    SEC_WINNT_AUTH_IDENTITY_UNICODE
};

static SECURITY_STATUS client_step(struct side *client, const WCHAR *package, struct side *server)
{
    SecBuffer in_buf = { server->token_size, SECBUFFER_TOKEN, server->token };
    SecBuffer out_buf = { sizeof(client->token), SECBUFFER_TOKEN, client->token };
    SecBufferDesc in = { SECBUFFER_VERSION, 1, &in_buf }, out = { SECBUFFER_VERSION, 1, &out_buf };
    SECURITY_STATUS status;
    ULONG attrs = 0;
    TimeStamp expiry;

    status = InitializeSecurityContextW(client->have_ctx ? NULL : &client->cred,
                                        client->have_ctx ? &client->ctx : NULL, (WCHAR *)L"localhost",
                                        ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_CONNECTION, 0,
                                        SECURITY_NETWORK_DREP, client->have_ctx ? &in : NULL, 0, &client->ctx,
                                        &out, &attrs, &expiry);
    if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED)
    {
        client->have_ctx = TRUE;
        ok(out_buf.BufferType == SECBUFFER_TOKEN, "%s: output type %lu\n", wine_dbgstr_w(package), out_buf.BufferType);
        ok(out_buf.cbBuffer < sizeof(client->token), "%s: output size %lu\n", wine_dbgstr_w(package), out_buf.cbBuffer);
        client->token_size = out_buf.cbBuffer;
    }
    return status;
}

static SECURITY_STATUS server_step(struct side *server, struct side *client)
{
    SecBuffer in_buf = { client->token_size, SECBUFFER_TOKEN, client->token };
    SecBuffer out_buf = { sizeof(server->token), SECBUFFER_TOKEN, server->token };
    SecBufferDesc in = { SECBUFFER_VERSION, 1, &in_buf }, out = { SECBUFFER_VERSION, 1, &out_buf };
    SECURITY_STATUS status;
    ULONG attrs = 0;
    TimeStamp expiry;

    status = AcceptSecurityContext(&server->cred, server->have_ctx ? &server->ctx : NULL, &in,
                                   ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY | ASC_REQ_CONNECTION,
                                   SECURITY_NETWORK_DREP, &server->ctx, &out, &attrs, &expiry);
    if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED)
    {
        server->have_ctx = TRUE;
        server->token_size = out_buf.cbBuffer;
    }
    return status;
}

/* The client's own sealing and signing, checked for shape and for tampering. */
static void test_client_messages(struct side *client, const WCHAR *package)
{
    static const char plain[] = "message through our secur32";
    SecPkgContext_Sizes sizes = { 0 };
    BYTE data[64], trailer[64], sig[64];
    SecBuffer bufs[2];
    SecBufferDesc desc = { SECBUFFER_VERSION, 2, bufs };
    SECURITY_STATUS status;
    HMODULE sspicli;
    query_ex_fn query_ex;

    status = QueryContextAttributesW(&client->ctx, SECPKG_ATTR_SIZES, &sizes);
    ok(status == SEC_E_OK, "%s: QueryContextAttributes(SIZES) %#lx\n", wine_dbgstr_w(package), status);
    ok(sizes.cbMaxSignature == 16, "%s: cbMaxSignature %lu\n", wine_dbgstr_w(package), sizes.cbMaxSignature);
    ok(sizes.cbSecurityTrailer == 16, "%s: cbSecurityTrailer %lu\n", wine_dbgstr_w(package), sizes.cbSecurityTrailer);
    ok(sizes.cbMaxToken == 2888 || sizes.cbMaxToken == 1904, "%s: cbMaxToken %lu\n", wine_dbgstr_w(package),
       sizes.cbMaxToken);

    /* .NET asks through sspicli's Ex form. */
    sspicli = LoadLibraryA("sspicli.dll");
    query_ex = sspicli ? (query_ex_fn)GetProcAddress(sspicli, "QueryContextAttributesExW") : NULL;
    ok(query_ex != NULL, "sspicli has no QueryContextAttributesExW\n");
    if (query_ex)
    {
        SecPkgContext_Sizes sizes_ex = { 0 };
        status = query_ex(&client->ctx, SECPKG_ATTR_SIZES, &sizes_ex, sizeof(sizes_ex));
        ok(status == SEC_E_OK, "%s: QueryContextAttributesExW %#lx\n", wine_dbgstr_w(package), status);
        ok(!memcmp(&sizes, &sizes_ex, sizeof(sizes)), "%s: Ex sizes differ\n", wine_dbgstr_w(package));
    }

    /* Signature: the data stays, a 16-byte token comes out. */
    memcpy(data, plain, sizeof(plain));
    bufs[0].BufferType = SECBUFFER_DATA;
    bufs[0].cbBuffer = sizeof(plain);
    bufs[0].pvBuffer = data;
    bufs[1].BufferType = SECBUFFER_TOKEN;
    bufs[1].cbBuffer = sizes.cbMaxSignature;
    bufs[1].pvBuffer = sig;
    status = MakeSignature(&client->ctx, 0, &desc, 0);
    ok(status == SEC_E_OK, "%s: MakeSignature %#lx\n", wine_dbgstr_w(package), status);
    ok(bufs[1].cbBuffer == 16, "%s: signature size %lu\n", wine_dbgstr_w(package), bufs[1].cbBuffer);
    ok(!memcmp(data, plain, sizeof(plain)), "%s: MakeSignature changed the data\n", wine_dbgstr_w(package));

    /* Sealing: the data changes in place, a trailer is written. */
    bufs[1].cbBuffer = sizes.cbSecurityTrailer;
    bufs[1].pvBuffer = trailer;
    status = EncryptMessage(&client->ctx, 0, &desc, 1);
    ok(status == SEC_E_OK, "%s: EncryptMessage %#lx\n", wine_dbgstr_w(package), status);
    ok(memcmp(data, plain, sizeof(plain)), "%s: EncryptMessage left the data in clear\n", wine_dbgstr_w(package));
    ok(bufs[1].cbBuffer == 16, "%s: trailer size %lu\n", wine_dbgstr_w(package), bufs[1].cbBuffer);
}

/* Both directions when the server accepted the client: what one side seals, the other
 * opens; a flipped byte is refused. */
static void test_exchange(struct side *client, struct side *server, const WCHAR *package)
{
    static const char plain[] = "sealed from client to server";
    BYTE data[64], token[64];
    SecBuffer bufs[2];
    SecBufferDesc desc = { SECBUFFER_VERSION, 2, bufs };
    SECURITY_STATUS status;
    ULONG qop = 0xdeadbeef;

    memcpy(data, plain, sizeof(plain));
    bufs[0].BufferType = SECBUFFER_DATA;
    bufs[0].cbBuffer = sizeof(plain);
    bufs[0].pvBuffer = data;
    bufs[1].BufferType = SECBUFFER_TOKEN;
    bufs[1].cbBuffer = 16;
    bufs[1].pvBuffer = token;
    status = MakeSignature(&client->ctx, 0, &desc, 0);
    ok(status == SEC_E_OK, "%s: MakeSignature %#lx\n", wine_dbgstr_w(package), status);
    status = VerifySignature(&server->ctx, &desc, 0, &qop);
    ok(status == SEC_E_OK, "%s: VerifySignature %#lx\n", wine_dbgstr_w(package), status);
    data[0] ^= 1;
    status = VerifySignature(&server->ctx, &desc, 1, &qop);
    ok(status == SEC_E_MESSAGE_ALTERED || status == SEC_E_OUT_OF_SEQUENCE,
       "%s: VerifySignature of altered data %#lx\n", wine_dbgstr_w(package), status);

    memcpy(data, plain, sizeof(plain));
    bufs[1].cbBuffer = 16;
    status = EncryptMessage(&client->ctx, 0, &desc, 1);
    ok(status == SEC_E_OK, "%s: EncryptMessage %#lx\n", wine_dbgstr_w(package), status);
    status = DecryptMessage(&server->ctx, &desc, 2, &qop);
    ok(status == SEC_E_OK, "%s: DecryptMessage %#lx\n", wine_dbgstr_w(package), status);
    ok(!memcmp(data, plain, sizeof(plain)), "%s: decrypted data differs\n", wine_dbgstr_w(package));
}

static void run_exchange(const WCHAR *package)
{
    struct side client = { 0 }, server = { 0 };
    SECURITY_STATUS cs = SEC_I_CONTINUE_NEEDED, ss = SEC_I_CONTINUE_NEEDED, status;
    TimeStamp expiry;
    int rounds = 0;

    status = AcquireCredentialsHandleW(NULL, (WCHAR *)package, SECPKG_CRED_OUTBOUND, NULL, &client_identity, NULL,
                                       NULL, &client.cred, &expiry);
    ok(status == SEC_E_OK, "%s: client credentials %#lx\n", wine_dbgstr_w(package), status);
    if (status) return;
    status = AcquireCredentialsHandleW(NULL, (WCHAR *)package, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
                                       &server.cred, &expiry);
    ok(status == SEC_E_OK, "%s: server credentials %#lx\n", wine_dbgstr_w(package), status);
    if (status)
    {
        FreeCredentialsHandle(&client.cred);
        return;
    }

    cs = client_step(&client, package, &server);
    if (cs != SEC_I_CONTINUE_NEEDED)
    {
        /* No ntlm_auth: the package cannot start. */
        skip("%s: first InitializeSecurityContext gave %#lx (is ntlm_auth installed?)\n", wine_dbgstr_w(package), cs);
        goto done;
    }
    while (rounds++ < 4)
    {
        ss = server_step(&server, &client);
        ok(ss == SEC_E_OK || ss == SEC_I_CONTINUE_NEEDED || ss == SEC_E_LOGON_DENIED,
           "%s: AcceptSecurityContext %#lx\n", wine_dbgstr_w(package), ss);
        if (ss != SEC_I_CONTINUE_NEEDED) break;
        cs = client_step(&client, package, &server);
        ok(cs == SEC_E_OK || cs == SEC_I_CONTINUE_NEEDED, "%s: InitializeSecurityContext %#lx\n",
           wine_dbgstr_w(package), cs);
        if (cs != SEC_E_OK && cs != SEC_I_CONTINUE_NEEDED) break;
    }
    ok(cs == SEC_E_OK, "%s: client finished with %#lx\n", wine_dbgstr_w(package), cs);
    ok(rounds == 2, "%s: %d server rounds\n", wine_dbgstr_w(package), rounds);
    if (cs == SEC_E_OK) test_client_messages(&client, package);
    if (cs == SEC_E_OK && ss == SEC_E_OK) test_exchange(&client, &server, package);
    else trace("%s: server gave %#lx for a local account it cannot verify\n", wine_dbgstr_w(package), ss);

done:
    if (client.have_ctx) ok(DeleteSecurityContext(&client.ctx) == SEC_E_OK, "client context not deleted\n");
    if (server.have_ctx && ss >= 0)
        ok(DeleteSecurityContext(&server.ctx) == SEC_E_OK, "server context not deleted\n");
    ok(FreeCredentialsHandle(&client.cred) == SEC_E_OK, "client credentials not freed\n");
    ok(FreeCredentialsHandle(&server.cred) == SEC_E_OK, "server credentials not freed\n");
    /* Freed handles are dead. */
    ok(FreeCredentialsHandle(&client.cred) == SEC_E_INVALID_HANDLE, "freed credentials accepted\n");
    if (client.have_ctx)
        ok(DeleteSecurityContext(&client.ctx) == SEC_E_INVALID_HANDLE, "deleted context accepted\n");
}

/* The A entry points convert an ANSI identity. */
static void test_ansi_identity(void)
{
    SEC_WINNT_AUTH_IDENTITY_A id =
    {
        (unsigned char *)"testuser", 8, (unsigned char *)"WORKGROUP", 9, (unsigned char *)"testpass", 8,
        SEC_WINNT_AUTH_IDENTITY_ANSI
    };
    BYTE token[4096];
    SecBuffer out_buf = { sizeof(token), SECBUFFER_TOKEN, token };
    SecBufferDesc out = { SECBUFFER_VERSION, 1, &out_buf };
    SecPkgContext_NegotiationInfoA nego = { 0 };
    CredHandle cred;
    CtxtHandle ctx;
    SECURITY_STATUS status;
    TimeStamp expiry;
    ULONG attrs;

    status = AcquireCredentialsHandleA(NULL, (char *)"NTLM", SECPKG_CRED_OUTBOUND, NULL, &id, NULL, NULL, &cred,
                                       &expiry);
    ok(status == SEC_E_OK, "AcquireCredentialsHandleA(NTLM) %#lx\n", status);
    if (status) return;
    status = InitializeSecurityContextA(&cred, NULL, (char *)"localhost", 0, 0, SECURITY_NETWORK_DREP, NULL, 0, &ctx,
                                        &out, &attrs, &expiry);
    if (status != SEC_I_CONTINUE_NEEDED)
    {
        skip("NTLM client does not start (%#lx)\n", status);
        FreeCredentialsHandle(&cred);
        return;
    }
    ok(out_buf.cbBuffer >= 32 && !memcmp(token, "NTLMSSP", 8), "not an NTLM negotiate message (%lu bytes)\n",
       out_buf.cbBuffer);
    status = QueryContextAttributesA(&ctx, SECPKG_ATTR_NEGOTIATION_INFO, &nego);
    if (status == SEC_E_OK)
    {
        ok(nego.PackageInfo && !strcmp(nego.PackageInfo->Name, "NTLM"), "package %s\n",
           nego.PackageInfo ? nego.PackageInfo->Name : "(null)");
        FreeContextBuffer(nego.PackageInfo);
    }
    ok(DeleteSecurityContext(&ctx) == SEC_E_OK, "context not deleted\n");
    ok(FreeCredentialsHandle(&cred) == SEC_E_OK, "credentials not freed\n");
}

START_TEST(ntlm)
{
    run_exchange(L"NTLM");
    run_exchange(L"Negotiate");
    test_ansi_identity();
}
