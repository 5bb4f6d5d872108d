/*
 * Every exported SSPI entry point that takes a credential or context handle refuses a
 * NULL, garbage, already-freed or wrong-kind handle with SEC_E_INVALID_HANDLE, whatever
 * package the handle came from, and never crashes. NULL arguments where a package name or
 * output is required fail without writing anything.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <windef.h>
#include <winbase.h>
#define SECURITY_WIN32
#include <sspi.h>
#include <schannel.h>

#include "wine/test.h"

typedef SECURITY_STATUS (WINAPI *ex_fn)(SecHandle *, ULONG, void *, ULONG);

static ex_fn query_ctx_ex_w, query_ctx_ex_a, query_cred_ex_w, query_cred_ex_a, set_cred_w, set_cred_a;

static void load_sspicli(void)
{
    HMODULE sspicli = LoadLibraryA("sspicli.dll");

    if (!sspicli) return;
    query_ctx_ex_w = (ex_fn)GetProcAddress(sspicli, "QueryContextAttributesExW");
    query_ctx_ex_a = (ex_fn)GetProcAddress(sspicli, "QueryContextAttributesExA");
    query_cred_ex_w = (ex_fn)GetProcAddress(sspicli, "QueryCredentialsAttributesExW");
    query_cred_ex_a = (ex_fn)GetProcAddress(sspicli, "QueryCredentialsAttributesExA");
    set_cred_w = (ex_fn)GetProcAddress(sspicli, "SetCredentialsAttributesW");
    set_cred_a = (ex_fn)GetProcAddress(sspicli, "SetCredentialsAttributesA");
}

/* Every context entry point with one bad context handle (NULL allowed). */
static void check_bad_context(CtxtHandle *ctx, const char *what)
{
    BYTE buffer[256], data[16] = { 0 }, token[64];
    SecBuffer bufs[2] = { { sizeof(data), SECBUFFER_DATA, data }, { sizeof(token), SECBUFFER_TOKEN, token } };
    SecBufferDesc desc = { SECBUFFER_VERSION, 2, bufs };
    SecBuffer out_buf = { sizeof(token), SECBUFFER_TOKEN, token };
    SecBufferDesc out = { SECBUFFER_VERSION, 1, &out_buf };
    CtxtHandle new_ctx;
    SecBuffer packed;
    HANDLE htoken;
    void *opaque;
    ULONG attrs, qop;
    TimeStamp expiry;
    SECURITY_STATUS s;

#define EXPECT(call) do { memset(buffer, 0xcc, sizeof(buffer)); s = call; \
        ok(s == SEC_E_INVALID_HANDLE, "%s: %s gave %#lx\n", what, #call, s); } while (0)
    EXPECT(QueryContextAttributesW(ctx, SECPKG_ATTR_SIZES, buffer));
    EXPECT(QueryContextAttributesA(ctx, SECPKG_ATTR_SIZES, buffer));
    EXPECT(QueryContextAttributesW(ctx, SECPKG_ATTR_STREAM_SIZES, buffer));
    EXPECT(SetContextAttributesW(ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, buffer, 16));
    EXPECT(SetContextAttributesA(ctx, SECPKG_ATTR_APPLICATION_PROTOCOL, buffer, 16));
    EXPECT(ApplyControlToken(ctx, &out));
    EXPECT(CompleteAuthToken(ctx, &out));
    EXPECT(ImpersonateSecurityContext(ctx));
    EXPECT(RevertSecurityContext(ctx));
    EXPECT(QuerySecurityContextToken(ctx, &htoken));
    EXPECT(ExportSecurityContext(ctx, 0, &packed, &opaque));
    EXPECT(EncryptMessage(ctx, 0, &desc, 0));
    EXPECT(DecryptMessage(ctx, &desc, 0, &qop));
    EXPECT(MakeSignature(ctx, 0, &desc, 0));
    EXPECT(VerifySignature(ctx, &desc, 0, &qop));
    if (ctx)
    {
        EXPECT(InitializeSecurityContextW(NULL, ctx, (WCHAR *)L"localhost", 0, 0, 0, NULL, 0, &new_ctx, &out,
                                          &attrs, &expiry));
        EXPECT(InitializeSecurityContextA(NULL, ctx, (char *)"localhost", 0, 0, 0, NULL, 0, &new_ctx, &out, &attrs,
                                          &expiry));
        EXPECT(AcceptSecurityContext(NULL, ctx, &desc, 0, 0, &new_ctx, &out, &attrs, &expiry));
    }
    if (query_ctx_ex_w) EXPECT(query_ctx_ex_w(ctx, SECPKG_ATTR_SIZES, buffer, sizeof(buffer)));
    if (query_ctx_ex_a) EXPECT(query_ctx_ex_a(ctx, SECPKG_ATTR_SIZES, buffer, sizeof(buffer)));
    EXPECT(DeleteSecurityContext(ctx));
#undef EXPECT
}

/* Every credential entry point with one bad credential handle (NULL allowed). */
static void check_bad_credentials(CredHandle *cred, const char *what)
{
    BYTE buffer[256], token[64];
    SecBuffer out_buf = { sizeof(token), SECBUFFER_TOKEN, token };
    SecBufferDesc out = { SECBUFFER_VERSION, 1, &out_buf };
    SecBuffer in_buf = { sizeof(token), SECBUFFER_TOKEN, token };
    SecBufferDesc in = { SECBUFFER_VERSION, 1, &in_buf };
    CtxtHandle new_ctx;
    ULONG attrs;
    TimeStamp expiry;
    SECURITY_STATUS s;

#define EXPECT(call) do { memset(buffer, 0xcc, sizeof(buffer)); s = call; \
        ok(s == SEC_E_INVALID_HANDLE, "%s: %s gave %#lx\n", what, #call, s); } while (0)
    EXPECT(QueryCredentialsAttributesW(cred, SECPKG_CRED_ATTR_NAMES, buffer));
    EXPECT(QueryCredentialsAttributesA(cred, SECPKG_CRED_ATTR_NAMES, buffer));
    EXPECT(AddCredentialsW(cred, NULL, (WCHAR *)L"NTLM", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, &expiry));
    EXPECT(AddCredentialsA(cred, NULL, (char *)"NTLM", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, &expiry));
    EXPECT(InitializeSecurityContextW(cred, NULL, (WCHAR *)L"localhost", 0, 0, 0, NULL, 0, &new_ctx, &out, &attrs,
                                      &expiry));
    EXPECT(InitializeSecurityContextA(cred, NULL, (char *)"localhost", 0, 0, 0, NULL, 0, &new_ctx, &out, &attrs,
                                      &expiry));
    EXPECT(AcceptSecurityContext(cred, NULL, &in, 0, 0, &new_ctx, &out, &attrs, &expiry));
    if (query_cred_ex_w) EXPECT(query_cred_ex_w(cred, SECPKG_CRED_ATTR_NAMES, buffer, sizeof(buffer)));
    if (query_cred_ex_a) EXPECT(query_cred_ex_a(cred, SECPKG_CRED_ATTR_NAMES, buffer, sizeof(buffer)));
    if (set_cred_w) EXPECT(set_cred_w(cred, SECPKG_CRED_ATTR_NAMES, buffer, sizeof(buffer)));
    if (set_cred_a) EXPECT(set_cred_a(cred, SECPKG_CRED_ATTR_NAMES, buffer, sizeof(buffer)));
    EXPECT(FreeCredentialsHandle(cred));
#undef EXPECT
}

static BOOL acquire(const WCHAR *package, ULONG use, CredHandle *cred)
{
    SCHANNEL_CRED schannel = { SCHANNEL_CRED_VERSION };
    TimeStamp expiry;
    SECURITY_STATUS status;

    status = AcquireCredentialsHandleW(NULL, (WCHAR *)package, use, NULL,
                                       !lstrcmpW(package, L"Schannel") ? &schannel : NULL, NULL, NULL, cred, &expiry);
    ok(status == SEC_E_OK, "%s credentials: %#lx\n", wine_dbgstr_w(package), status);
    return status == SEC_E_OK;
}

static void test_null_and_garbage(void)
{
    SecHandle garbage = { 0xdeadbeef, 0xdeadbeef }, zero = { 0, 0 };

    check_bad_context(NULL, "NULL");
    check_bad_context(&garbage, "garbage");
    check_bad_context(&zero, "zero");
    check_bad_credentials(NULL, "NULL");
    check_bad_credentials(&garbage, "garbage");
    check_bad_credentials(&zero, "zero");
}

/* Handles of each package after they were freed, and credentials used as contexts. */
static void test_freed_and_wrong_kind(void)
{
    static const WCHAR *const packages[] = { L"Schannel", L"NTLM", L"Negotiate" };
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(packages); i++)
    {
        char what[64];
        CredHandle cred, copy;

        if (!acquire(packages[i], SECPKG_CRED_OUTBOUND, &cred)) continue;
        sprintf(what, "%s credentials as a context", wine_dbgstr_w(packages[i]));
        check_bad_context(&cred, what);
        copy = cred;
        ok(FreeCredentialsHandle(&cred) == SEC_E_OK, "%s: credentials not freed\n", wine_dbgstr_w(packages[i]));
        sprintf(what, "freed %s credentials", wine_dbgstr_w(packages[i]));
        check_bad_credentials(&copy, what);
        check_bad_context(&copy, what);
    }
}

/* A freed handle stays dead when the next handle of its kind is made right after it (ours
 * then takes the same table slot with a new generation). Windows may hand out the same
 * value again, which is then simply the new handle. */
static void test_freed_then_replaced(void)
{
    static const WCHAR *const packages[] = { L"Schannel", L"NTLM", L"Negotiate" };
    unsigned int i, round;

    for (i = 0; i < ARRAY_SIZE(packages); i++)
    {
        for (round = 0; round < 3; round++)
        {
            CredHandle first, second, copy;
            char what[64];

            if (!acquire(packages[i], SECPKG_CRED_OUTBOUND, &first)) break;
            copy = first;
            ok(FreeCredentialsHandle(&first) == SEC_E_OK, "%s: credentials not freed\n", wine_dbgstr_w(packages[i]));
            if (!acquire(packages[i], SECPKG_CRED_OUTBOUND, &second)) break;
            if (!memcmp(&copy, &second, sizeof(copy)))
            {
                ok(broken(TRUE), "%s: the freed handle value came back\n", wine_dbgstr_w(packages[i]));
                ok(FreeCredentialsHandle(&second) == SEC_E_OK, "%s: new credentials not freed\n",
                   wine_dbgstr_w(packages[i]));
                continue;
            }
            sprintf(what, "%s credentials freed before a new acquire", wine_dbgstr_w(packages[i]));
            check_bad_credentials(&copy, what);
            check_bad_context(&copy, what);
            /* The stale calls left the new handle alone. */
            ok(FreeCredentialsHandle(&second) == SEC_E_OK, "%s: new credentials not freed\n",
               wine_dbgstr_w(packages[i]));
            ok(FreeCredentialsHandle(&second) == SEC_E_INVALID_HANDLE, "%s: new credentials freed twice\n",
               wine_dbgstr_w(packages[i]));
        }
    }
}

/* A context of one package with a credential of another. */
static void test_mixed_packages(void)
{
    BYTE token[4096];
    SecBuffer out_buf = { sizeof(token), SECBUFFER_TOKEN, token };
    SecBufferDesc out = { SECBUFFER_VERSION, 1, &out_buf };
    CredHandle ntlm, schannel;
    CtxtHandle ctx, copy;
    SECURITY_STATUS status;
    TimeStamp expiry;
    ULONG attrs;

    if (!acquire(L"NTLM", SECPKG_CRED_OUTBOUND, &ntlm)) return;
    if (!acquire(L"Schannel", SECPKG_CRED_OUTBOUND, &schannel))
    {
        FreeCredentialsHandle(&ntlm);
        return;
    }
    status = InitializeSecurityContextW(&ntlm, NULL, (WCHAR *)L"localhost", 0, 0, SECURITY_NETWORK_DREP, NULL, 0,
                                        &ctx, &out, &attrs, &expiry);
    if (status == SEC_I_CONTINUE_NEEDED)
    {
        /* A context is not a credential. */
        check_bad_credentials(&ctx, "NTLM context as credentials");
        copy = ctx;
        ok(DeleteSecurityContext(&ctx) == SEC_E_OK, "NTLM context not deleted\n");
        check_bad_context(&copy, "deleted NTLM context");
    }
    else skip("NTLM client does not start (%#lx)\n", status);

    out_buf.cbBuffer = sizeof(token);
    status = InitializeSecurityContextW(&schannel, NULL, (WCHAR *)L"localhost",
                                        ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_MANUAL_CRED_VALIDATION, 0, 0, NULL, 0,
                                        &ctx, &out, &attrs, &expiry);
    ok(status == SEC_I_CONTINUE_NEEDED, "Schannel client hello: %#lx\n", status);
    if (status == SEC_I_CONTINUE_NEEDED)
    {
        /* The client hello came from the allocator FreeContextBuffer releases. */
        ok(out_buf.pvBuffer != token && out_buf.cbBuffer > 0, "no allocated token\n");
        ok(FreeContextBuffer(out_buf.pvBuffer) == SEC_E_OK, "FreeContextBuffer failed\n");
        copy = ctx;
        ok(DeleteSecurityContext(&ctx) == SEC_E_OK, "Schannel context not deleted\n");
        check_bad_context(&copy, "deleted Schannel context");
    }
    ok(FreeCredentialsHandle(&ntlm) == SEC_E_OK, "NTLM credentials not freed\n");
    ok(FreeCredentialsHandle(&schannel) == SEC_E_OK, "Schannel credentials not freed\n");
}

static void test_null_arguments(void)
{
    SecPkgInfoA *info = (SecPkgInfoA *)0xdeadbeef;
    CredHandle cred = { 0x1234, 0x5678 };
    TimeStamp expiry;
    SECURITY_STATUS status;

    status = AcquireCredentialsHandleA(NULL, NULL, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, &cred, &expiry);
    ok(status == SEC_E_SECPKG_NOT_FOUND, "NULL package: %#lx\n", status);
    status = AcquireCredentialsHandleW(NULL, NULL, SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, &cred, &expiry);
    ok(status == SEC_E_SECPKG_NOT_FOUND, "NULL package: %#lx\n", status);
    status = AcquireCredentialsHandleA(NULL, (char *)"NoSuchPackage", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL,
                                       &cred, &expiry);
    ok(status == SEC_E_SECPKG_NOT_FOUND, "unknown package: %#lx\n", status);
    ok(cred.dwLower == 0x1234 && cred.dwUpper == 0x5678, "handle written on failure\n");
    status = AcquireCredentialsHandleA(NULL, (char *)"NTLM", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, NULL,
                                       &expiry);
    ok(status != SEC_E_OK, "NULL credential handle accepted\n");
    status = QuerySecurityPackageInfoA(NULL, &info);
    ok(status != SEC_E_OK, "NULL package name accepted\n");
    status = ImportSecurityContextA((char *)"NoSuchPackage", NULL, NULL, NULL);
    ok(status == SEC_E_SECPKG_NOT_FOUND, "import into unknown package: %#lx\n", status);
    ok(FreeContextBuffer(NULL) == SEC_E_OK, "FreeContextBuffer(NULL) failed\n");
}

START_TEST(badhandles)
{
    load_sspicli();
    test_null_and_garbage();
    test_freed_and_wrong_kind();
    test_freed_then_replaced();
    test_mixed_packages();
    test_null_arguments();
}
