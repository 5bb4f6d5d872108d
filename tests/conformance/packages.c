/*
 * The packages secur32 reports (EnumerateSecurityPackages, QuerySecurityPackageInfo),
 * the SSPI function tables, and schannel.dll's own exports (Ssl*, SpLsaModeInitialize,
 * SpUserModeInitialize). Values are those of Windows 10; the alternatives accepted are
 * those of older Windows versions.
 */

#include <stdarg.h>
#include <string.h>

#include "ntstatus.h"
#define WIN32_NO_STATUS
#include <windef.h>
#include <winbase.h>
#include <wincrypt.h>
#define SECURITY_WIN32
#include <sspi.h>
#include <schannel.h>
#include <ntsecapi.h>
#include <ntsecpkg.h>
#include <rpc.h>

#include "wine/test.h"
#include "testcert.h"

#define SCHANNEL_CAPS (SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION \
    | SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_IMPERSONATION \
    | SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_STREAM | SECPKG_FLAG_MUTUAL_AUTH)
#define NEGOTIATE_BASE_CAPS (SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION \
    | SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_IMPERSONATION \
    | SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_NEGOTIABLE | SECPKG_FLAG_GSS_COMPATIBLE | SECPKG_FLAG_LOGON)
#define NTLM_BASE_CAPS (SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_TOKEN_ONLY \
    | SECPKG_FLAG_CONNECTION | SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_IMPERSONATION \
    | SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_NEGOTIABLE | SECPKG_FLAG_LOGON)
#define OPTIONAL_CAPS (SECPKG_FLAG_READONLY_WITH_CHECKSUM | SECPKG_FLAG_RESTRICTED_TOKENS \
    | SECPKG_FLAG_APPCONTAINER_CHECKS | SECPKG_FLAG_APPCONTAINER_PASSTHROUGH)

static void check_info(const char *name, ULONG caps, USHORT version, USHORT rpcid, ULONG max_token,
                       const char *comment)
{
    if (!strcmp(name, "Schannel") || !strcmp(name, UNISP_NAME_A) || !strcmp(name, "Default TLS SSP"))
    {
        ok((caps & ~OPTIONAL_CAPS) == SCHANNEL_CAPS, "%s: caps %#lx\n", name, caps);
        ok(version == 1, "%s: version %u\n", name, version);
        ok(rpcid == UNISP_RPC_ID, "%s: rpcid %u\n", name, rpcid);
        ok(max_token == 0x6000 || broken(max_token == 0x4000), "%s: max token %#lx\n", name, max_token);
        ok(!strcmp(comment, "Schannel Security Package"), "%s: comment %s\n", name, comment);
    }
    else if (!strcmp(name, "Negotiate"))
    {
        ok((caps & ~OPTIONAL_CAPS) == NEGOTIATE_BASE_CAPS, "%s: caps %#lx\n", name, caps);
        ok(version == 1, "%s: version %u\n", name, version);
        ok(rpcid == RPC_C_AUTHN_GSS_NEGOTIATE, "%s: rpcid %u\n", name, rpcid);
        ok(max_token >= 12000, "%s: max token %lu\n", name, max_token);
        ok(!strcmp(comment, "Microsoft Package Negotiator"), "%s: comment %s\n", name, comment);
    }
    else if (!strcmp(name, "NTLM"))
    {
        ok((caps & ~OPTIONAL_CAPS) == NTLM_BASE_CAPS, "%s: caps %#lx\n", name, caps);
        ok(version == 1, "%s: version %u\n", name, version);
        ok(rpcid == RPC_C_AUTHN_WINNT, "%s: rpcid %u\n", name, rpcid);
        ok(max_token == 2888 || max_token == 1904, "%s: max token %lu\n", name, max_token);
        ok(!strcmp(comment, "NTLM Security Package"), "%s: comment %s\n", name, comment);
    }
    else if (!strcmp(name, "Kerberos"))
    {
        ok(caps & SECPKG_FLAG_MUTUAL_AUTH, "%s: caps %#lx\n", name, caps);
        ok(version == 1, "%s: version %u\n", name, version);
        ok(rpcid == RPC_C_AUTHN_GSS_KERBEROS, "%s: rpcid %u\n", name, rpcid);
        ok(max_token >= 12000, "%s: max token %lu\n", name, max_token);
        ok(!strcmp(comment, "Microsoft Kerberos V1.0"), "%s: comment %s\n", name, comment);
    }
}

static void test_enumerate(void)
{
    static const char *const wanted[] = { "Negotiate", "NTLM", "Schannel", UNISP_NAME_A, "Default TLS SSP" };
    SecPkgInfoA *infoA = NULL;
    SecPkgInfoW *infoW = NULL;
    ULONG countA = 0, countW = 0, i, j;
    SECURITY_STATUS status;

    status = EnumerateSecurityPackagesA(&countA, &infoA);
    ok(status == SEC_E_OK, "EnumerateSecurityPackagesA %#lx\n", status);
    status = EnumerateSecurityPackagesW(&countW, &infoW);
    ok(status == SEC_E_OK, "EnumerateSecurityPackagesW %#lx\n", status);
    ok(countA == countW && countA >= ARRAY_SIZE(wanted), "counts %lu %lu\n", countA, countW);
    if (!infoA || !infoW) return;

    for (i = 0; i < ARRAY_SIZE(wanted); i++)
    {
        for (j = 0; j < countA; j++) if (!strcmp(infoA[j].Name, wanted[i])) break;
        ok(j < countA, "package %s not listed\n", wanted[i]);
    }
    /* Negotiate comes before the packages it negotiates. */
    ok(!strcmp(infoA[0].Name, "Negotiate"), "first package %s\n", infoA[0].Name);
    for (i = 0; i < countA && i < countW; i++)
    {
        char nameW[64], commentW[128];

        check_info(infoA[i].Name, infoA[i].fCapabilities, infoA[i].wVersion, infoA[i].wRPCID, infoA[i].cbMaxToken,
                   infoA[i].Comment);
        WideCharToMultiByte(CP_ACP, 0, infoW[i].Name, -1, nameW, sizeof(nameW), NULL, NULL);
        WideCharToMultiByte(CP_ACP, 0, infoW[i].Comment, -1, commentW, sizeof(commentW), NULL, NULL);
        ok(!strcmp(nameW, infoA[i].Name), "W name %s, A name %s\n", nameW, infoA[i].Name);
        ok(!strcmp(commentW, infoA[i].Comment), "%s: W comment %s\n", nameW, commentW);
        ok(infoW[i].fCapabilities == infoA[i].fCapabilities && infoW[i].cbMaxToken == infoA[i].cbMaxToken
           && infoW[i].wRPCID == infoA[i].wRPCID, "%s: A and W differ\n", nameW);
    }
    ok(FreeContextBuffer(infoA) == SEC_E_OK, "FreeContextBuffer failed\n");
    ok(FreeContextBuffer(infoW) == SEC_E_OK, "FreeContextBuffer failed\n");
}

static void test_query_info(void)
{
    static const char *const names[] = { "Negotiate", "NTLM", "Kerberos", "Schannel", UNISP_NAME_A,
                                         "Default TLS SSP", "schannel", "ntlm" };
    SecPkgInfoA *info;
    SecPkgInfoW *infoW;
    SECURITY_STATUS status;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(names); i++)
    {
        info = NULL;
        status = QuerySecurityPackageInfoA((char *)names[i], &info);
        ok(status == SEC_E_OK, "QuerySecurityPackageInfoA(%s) %#lx\n", names[i], status);
        if (status) continue;
        ok(!lstrcmpiA(info->Name, names[i]), "asked %s, got %s\n", names[i], info->Name);
        check_info(info->Name, info->fCapabilities, info->wVersion, info->wRPCID, info->cbMaxToken, info->Comment);
        FreeContextBuffer(info);
    }
    status = QuerySecurityPackageInfoW((WCHAR *)L"NTLM", &infoW);
    ok(status == SEC_E_OK, "QuerySecurityPackageInfoW(NTLM) %#lx\n", status);
    if (!status)
    {
        ok(!lstrcmpW(infoW->Name, L"NTLM") && infoW->wRPCID == RPC_C_AUTHN_WINNT, "NTLM W info wrong\n");
        FreeContextBuffer(infoW);
    }

    info = (SecPkgInfoA *)0xdeadbeef;
    status = QuerySecurityPackageInfoA((char *)"NoSuchPackage", &info);
    ok(status == SEC_E_SECPKG_NOT_FOUND, "unknown package: %#lx\n", status);
    status = QuerySecurityPackageInfoW((WCHAR *)L"NoSuchPackage", &infoW);
    ok(status == SEC_E_SECPKG_NOT_FOUND, "unknown package: %#lx\n", status);
}

static void test_function_tables(void)
{
    SecurityFunctionTableA *a = InitSecurityInterfaceA();
    SecurityFunctionTableW *w = InitSecurityInterfaceW();

    ok(a && w, "no tables\n");
    if (!a || !w) return;
    ok(a->dwVersion == SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION, "A version %lu\n", a->dwVersion);
    ok(w->dwVersion == SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION, "W version %lu\n", w->dwVersion);
    ok(!a->Reserved2 && !w->Reserved2, "Reserved2 set\n");
    ok(a->Reserved3 == (void *)a->EncryptMessage && w->Reserved3 == (void *)w->EncryptMessage,
       "Reserved3 is not EncryptMessage\n");
    ok(a->Reserved4 == (void *)a->DecryptMessage && w->Reserved4 == (void *)w->DecryptMessage,
       "Reserved4 is not DecryptMessage\n");
    ok(a->AcquireCredentialsHandleA && w->QueryContextAttributesW && a->QuerySecurityPackageInfoA
       && w->EnumerateSecurityPackagesW && w->SetContextAttributesW && a->SetContextAttributesA
       && w->FreeContextBuffer, "table slots missing\n");
    /* The tables reach the same packages as the exports. */
    if (a->QuerySecurityPackageInfoA && a->FreeContextBuffer)
    {
        SecPkgInfoA *info = NULL;
        SECURITY_STATUS status = a->QuerySecurityPackageInfoA((char *)"Schannel", &info);

        ok(status == SEC_E_OK && info && info->wRPCID == UNISP_RPC_ID, "table query: %#lx\n", status);
        if (!status) a->FreeContextBuffer(info);
    }
}

/* schannel.dll's own functions. */
typedef struct
{
    DWORD Type;
    DWORD cbKey;
    UCHAR pKey[1];
} PctPublicKey;

typedef struct
{
    DWORD Version;
    DWORD SerialNumber[4];
    ALG_ID SignatureAlgorithm;
    FILETIME ValidFrom;
    FILETIME ValidUntil;
    char *pszIssuer;
    char *pszSubject;
    PctPublicKey *pPublicKey;
} X509Certificate;

static void test_ssl_functions(void)
{
    BOOL (WINAPI *crack)(BYTE *, DWORD, DWORD, X509Certificate **);
    void (WINAPI *free_cert)(X509Certificate *);
    void (WINAPI *random_bits)(BYTE *, LONG);
    DWORD (WINAPI *max_key)(DWORD);
    BOOL (WINAPI *empty_cache_w)(WCHAR *, DWORD);
    BOOL (WINAPI *empty_cache_a)(char *, DWORD);
    HMODULE schannel = LoadLibraryA("schannel.dll");
    BYTE random[32] = { 0 }, zero[32] = { 0 }, *der;
    const CERT_CONTEXT *ctx;
    X509Certificate *x509 = NULL;
    DWORD der_size = 0;
    BOOL ret;

    ok(schannel != NULL, "schannel.dll not loaded\n");
    if (!schannel) return;
    crack = (void *)GetProcAddress(schannel, "SslCrackCertificate");
    free_cert = (void *)GetProcAddress(schannel, "SslFreeCertificate");
    random_bits = (void *)GetProcAddress(schannel, "SslGenerateRandomBits");
    max_key = (void *)GetProcAddress(schannel, "SslGetMaximumKeySize");
    empty_cache_w = (void *)GetProcAddress(schannel, "SslEmptyCacheW");
    empty_cache_a = (void *)GetProcAddress(schannel, "SslEmptyCacheA");
    ok(crack && free_cert && random_bits && max_key && empty_cache_w && empty_cache_a, "Ssl* exports missing\n");
    if (!crack || !free_cert || !random_bits || !max_key || !empty_cache_w || !empty_cache_a) return;

    random_bits(random, sizeof(random));
    ok(memcmp(random, zero, sizeof(random)), "SslGenerateRandomBits left the buffer zero\n");
    ok(max_key(0) >= 128, "SslGetMaximumKeySize %lu\n", max_key(0));
    ok(empty_cache_w(NULL, 0), "SslEmptyCacheW failed\n");
    ok(empty_cache_a(NULL, 0), "SslEmptyCacheA failed\n");

    /* The test server certificate, DER, from the PFX the other tests use. */
    {
        CRYPT_DATA_BLOB blob = { sizeof(server_rsa_pfx), (BYTE *)server_rsa_pfx };
        HCERTSTORE store = PFXImportCertStore(&blob, server_rsa_pfx_password, 0);
        const CERT_CONTEXT *found = NULL;
        DWORD size;

        ok(store != NULL, "PFX not imported\n");
        if (!store) return;
        /* The server's certificate is the one with the private key. */
        while ((found = CertEnumCertificatesInStore(store, found)))
            if (CertGetCertificateContextProperty(found, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)) break;
        ok(found != NULL, "no certificate with a key in the PFX\n");
        if (!found) return;
        ctx = CertDuplicateCertificateContext(found);
        CertFreeCertificateContext(found);
        CertCloseStore(store, 0);
    }
    der_size = ctx->cbCertEncoded;
    der = HeapAlloc(GetProcessHeap(), 0, der_size);
    memcpy(der, ctx->pbCertEncoded, der_size);

    ret = crack(der, der_size, 0, &x509);
    ok(ret, "SslCrackCertificate failed: %lu\n", GetLastError());
    if (ret && x509 && ctx)
    {
        ok(x509->Version == ctx->pCertInfo->dwVersion, "version %lu\n", x509->Version);
        ok(x509->pszSubject && strstr(x509->pszSubject, "localhost"), "subject %s\n", x509->pszSubject);
        ok(x509->pszIssuer && x509->pszIssuer[0], "issuer %s\n", x509->pszIssuer);
        ok(!memcmp(&x509->ValidFrom, &ctx->pCertInfo->NotBefore, sizeof(FILETIME)), "ValidFrom differs\n");
        ok(!memcmp(&x509->ValidUntil, &ctx->pCertInfo->NotAfter, sizeof(FILETIME)), "ValidUntil differs\n");
        ok(x509->pPublicKey && x509->pPublicKey->cbKey == ctx->pCertInfo->SubjectPublicKeyInfo.PublicKey.cbData
           && !memcmp(x509->pPublicKey->pKey, ctx->pCertInfo->SubjectPublicKeyInfo.PublicKey.pbData,
                      x509->pPublicKey->cbKey), "public key differs\n");
        free_cert(x509);
    }
    x509 = NULL;
    der[0] ^= 0xff;
    ret = crack(der, der_size, 0, &x509);
    ok(!ret && !x509, "SslCrackCertificate accepted garbage\n");
    if (ctx) CertFreeCertificateContext(ctx);
    HeapFree(GetProcessHeap(), 0, der);
}

static void test_lsa_mode_tables(void)
{
    NTSTATUS (NTAPI *lsa_init)(ULONG, ULONG *, SECPKG_FUNCTION_TABLE **, ULONG *);
    NTSTATUS (NTAPI *user_init)(ULONG, ULONG *, SECPKG_USER_FUNCTION_TABLE **, ULONG *);
    HMODULE schannel = LoadLibraryA("schannel.dll");
    SECPKG_FUNCTION_TABLE *tables = NULL, *tables2 = NULL;
    SECPKG_USER_FUNCTION_TABLE *user = NULL, *user2 = NULL;
    ULONG version = 0, count = 0, ucount = 0xdead, uversion = 0xdead;
    SecPkgInfoW info;
    NTSTATUS status;

    lsa_init = (void *)GetProcAddress(schannel, "SpLsaModeInitialize");
    user_init = (void *)GetProcAddress(schannel, "SpUserModeInitialize");
    ok(lsa_init && user_init, "Sp*ModeInitialize missing\n");
    if (!lsa_init || !user_init) return;

    status = lsa_init(0, &version, &tables, &count);
    ok(status == STATUS_SUCCESS, "SpLsaModeInitialize %#lx\n", status);
    ok(count == 2, "%lu tables\n", count);
    status = lsa_init(0x23456, &version, &tables2, &count);
    ok(status == STATUS_SUCCESS && tables2 == tables, "tables not stable\n");
    if (tables && tables->GetInfo)
    {
        status = tables->GetInfo(&info);
        ok(status == STATUS_SUCCESS, "GetInfo %#lx\n", status);
        ok((info.fCapabilities & ~OPTIONAL_CAPS) == SCHANNEL_CAPS, "caps %#lx\n", info.fCapabilities);
        ok(info.wVersion == 1 && info.wRPCID == UNISP_RPC_ID, "version %u rpcid %u\n", info.wVersion, info.wRPCID);
        ok(info.cbMaxToken == 0x6000 || broken(info.cbMaxToken == 0x4000), "max token %#lx\n", info.cbMaxToken);
    }

    status = user_init(0, &uversion, &user, &ucount);
    ok(status == STATUS_INVALID_PARAMETER, "bad version: %#lx\n", status);
    ok(uversion == 0xdead && ucount == 0xdead && !user, "outputs changed\n");
    status = user_init(SECPKG_INTERFACE_VERSION, &uversion, &user, &ucount);
    ok(status == STATUS_SUCCESS, "SpUserModeInitialize %#lx\n", status);
    ok(uversion == SECPKG_INTERFACE_VERSION, "version %#lx\n", uversion);
    ok(ucount == 2, "%lu user tables\n", ucount);
    status = user_init(SECPKG_INTERFACE_VERSION, &uversion, &user2, &ucount);
    ok(status == STATUS_SUCCESS && user2 == user, "user tables not stable\n");
}

START_TEST(packages)
{
    test_enumerate();
    test_query_info();
    test_function_tables();
    test_ssl_functions();
    test_lsa_mode_tables();
}
