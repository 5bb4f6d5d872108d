/*
 * Drop-in completeness: every function Wine 8.0's secur32.dll, sspicli.dll and
 * schannel.dll export is exported by the DLLs loaded here (the lists below were taken from
 * Wine 8.0's x86_64 DLLs with objdump -p). On Windows the same names are exported by the
 * system DLLs, so the test describes Windows too.
 */

#include <stdarg.h>

#include <windef.h>
#include <winbase.h>

#include "wine/test.h"

typedef struct { ULONG_PTR dwLower, dwUpper; } SecHandleDummy;

static const char *const secur32_exports[] =
{
    "AcceptSecurityContext", "AcquireCredentialsHandleA", "AcquireCredentialsHandleW", "AddCredentialsA",
    "AddCredentialsW", "AddSecurityPackageA", "AddSecurityPackageW", "ApplyControlToken", "CompleteAuthToken",
    "DecryptMessage", "DeleteSecurityContext", "DeleteSecurityPackageA", "DeleteSecurityPackageW",
    "EncryptMessage", "EnumerateSecurityPackagesA", "EnumerateSecurityPackagesW", "ExportSecurityContext",
    "FreeContextBuffer", "FreeCredentialsHandle", "GetComputerObjectNameA", "GetComputerObjectNameW",
    "GetSecurityUserInfo", "GetUserNameExA", "GetUserNameExW", "ImpersonateSecurityContext",
    "ImportSecurityContextA", "ImportSecurityContextW", "InitSecurityInterfaceA", "InitSecurityInterfaceW",
    "InitializeSecurityContextA", "InitializeSecurityContextW", "LsaCallAuthenticationPackage",
    "LsaConnectUntrusted", "LsaDeregisterLogonProcess", "LsaEnumerateLogonSessions", "LsaFreeReturnBuffer",
    "LsaGetLogonSessionData", "LsaLogonUser", "LsaLookupAuthenticationPackage", "LsaRegisterLogonProcess",
    "LsaRegisterPolicyChangeNotification", "LsaUnregisterPolicyChangeNotification", "MakeSignature",
    "QueryContextAttributesA", "QueryContextAttributesW", "QueryCredentialsAttributesA",
    "QueryCredentialsAttributesW", "QuerySecurityContextToken", "QuerySecurityPackageInfoA",
    "QuerySecurityPackageInfoW", "RevertSecurityContext", "SaslAcceptSecurityContext",
    "SaslEnumerateProfilesA", "SaslEnumerateProfilesW", "SaslGetProfilePackageA", "SaslGetProfilePackageW",
    "SaslIdentifyPackageA", "SaslIdentifyPackageW", "SaslInitializeSecurityContextA",
    "SaslInitializeSecurityContextW", "SealMessage", "SecCacheSspiPackages", "SecDeleteUserModeContext",
    "SecGetLocaleSpecificEncryptionRules", "SecInitUserModeContext", "SecpFreeMemory", "SecpTranslateName",
    "SecpTranslateNameEx", "SetContextAttributesA", "SetContextAttributesW",
    "SspiEncodeAuthIdentityAsStrings", "SspiEncodeStringsAsAuthIdentity", "SspiFreeAuthIdentity",
    "SspiLocalFree", "SspiPrepareForCredWrite", "SspiZeroAuthIdentity", "TranslateNameA", "TranslateNameW",
    "UnsealMessage", "VerifySignature",
};

static const char *const sspicli_exports[] =
{
    "AcceptSecurityContext", "AcquireCredentialsHandleA", "AcquireCredentialsHandleW", "AddCredentialsA",
    "AddCredentialsW", "AddSecurityPackageA", "AddSecurityPackageW", "ApplyControlToken",
    "ChangeAccountPasswordA", "ChangeAccountPasswordW", "CompleteAuthToken", "CredMarshalTargetInfo",
    "CredUnmarshalTargetInfo", "DecryptMessage", "DeleteSecurityContext", "DeleteSecurityPackageA",
    "DeleteSecurityPackageW", "EncryptMessage", "EnumerateSecurityPackagesA", "EnumerateSecurityPackagesW",
    "ExportSecurityContext", "FreeContextBuffer", "FreeCredentialsHandle", "GetSecurityUserInfo",
    "GetUserNameExA", "GetUserNameExW", "ImpersonateSecurityContext", "ImportSecurityContextA",
    "ImportSecurityContextW", "InitSecurityInterfaceA", "InitSecurityInterfaceW",
    "InitializeSecurityContextA", "InitializeSecurityContextW", "LogonUserExExW",
    "LsaCallAuthenticationPackage", "LsaConnectUntrusted", "LsaDeregisterLogonProcess",
    "LsaEnumerateLogonSessions", "LsaFreeReturnBuffer", "LsaGetLogonSessionData", "LsaLogonUser",
    "LsaLookupAuthenticationPackage", "LsaRegisterLogonProcess", "LsaRegisterPolicyChangeNotification",
    "LsaUnregisterPolicyChangeNotification", "MakeSignature", "QueryContextAttributesA",
    "QueryContextAttributesExA", "QueryContextAttributesExW", "QueryContextAttributesW",
    "QueryCredentialsAttributesA", "QueryCredentialsAttributesExA", "QueryCredentialsAttributesExW",
    "QueryCredentialsAttributesW", "QuerySecurityContextToken", "QuerySecurityPackageInfoA",
    "QuerySecurityPackageInfoW", "RevertSecurityContext", "SaslAcceptSecurityContext",
    "SaslEnumerateProfilesA", "SaslEnumerateProfilesW", "SaslGetContextOption", "SaslGetProfilePackageA",
    "SaslGetProfilePackageW", "SaslIdentifyPackageA", "SaslIdentifyPackageW",
    "SaslInitializeSecurityContextA", "SaslInitializeSecurityContextW", "SaslSetContextOption", "SealMessage",
    "SecCacheSspiPackages", "SecDeleteUserModeContext", "SecInitUserModeContext",
    "SeciAllocateAndSetCallFlags", "SeciAllocateAndSetIPAddress", "SeciFreeCallContext",
    "SeciIsProtectedUser", "SetContextAttributesA", "SetContextAttributesW", "SetCredentialsAttributesA",
    "SetCredentialsAttributesW", "SspiCompareAuthIdentities", "SspiCopyAuthIdentity",
    "SspiDecryptAuthIdentity", "SspiDecryptAuthIdentityEx", "SspiEncodeAuthIdentityAsStrings",
    "SspiEncodeStringsAsAuthIdentity", "SspiEncryptAuthIdentity", "SspiEncryptAuthIdentityEx",
    "SspiExcludePackage", "SspiFreeAuthIdentity", "SspiGetComputerNameForSPN", "SspiGetTargetHostName",
    "SspiIsAuthIdentityEncrypted", "SspiLocalFree", "SspiMarshalAuthIdentity", "SspiPrepareForCredRead",
    "SspiPrepareForCredWrite", "SspiUnmarshalAuthIdentity", "SspiUnmarshalAuthIdentityInternal",
    "SspiValidateAuthIdentity", "SspiZeroAuthIdentity", "UnsealMessage", "VerifySignature",
};

static const char *const schannel_exports[] =
{
    "AcceptSecurityContext", "AcquireCredentialsHandleA", "AcquireCredentialsHandleW", "ApplyControlToken",
    "CloseSslPerformanceData", "CollectSslPerformanceData", "CompleteAuthToken", "DeleteSecurityContext",
    "EnumerateSecurityPackagesA", "EnumerateSecurityPackagesW", "FreeContextBuffer", "FreeCredentialsHandle",
    "ImpersonateSecurityContext", "InitSecurityInterfaceA", "InitSecurityInterfaceW",
    "InitializeSecurityContextA", "InitializeSecurityContextW", "MakeSignature", "OpenSslPerformanceData",
    "QueryContextAttributesA", "QueryContextAttributesW", "QuerySecurityPackageInfoA",
    "QuerySecurityPackageInfoW", "RevertSecurityContext", "SealMessage", "SpLsaModeInitialize",
    "SpUserModeInitialize", "SslCrackCertificate", "SslEmptyCacheA", "SslEmptyCacheW", "SslFreeCertificate",
    "SslGenerateKeyPair", "SslGenerateRandomBits", "SslGetMaximumKeySize", "SslLoadCertificate",
    "UnsealMessage", "VerifySignature",
};

static void check_exports(const char *dll, const char *const *names, unsigned int count)
{
    unsigned int i, missing = 0;
    HMODULE module;

    module = LoadLibraryA(dll);
    ok(module != NULL, "%s not loaded: %lu\n", dll, GetLastError());
    if (!module) return;
    for (i = 0; i < count; i++)
    {
        if (GetProcAddress(module, names[i])) continue;
        ok(0, "%s does not export %s\n", dll, names[i]);
        missing++;
    }
    ok(!missing, "%s: %u of %u exports missing\n", dll, missing, count);
    FreeLibrary(module);
}

/* The sspicli-only functions .NET uses reach the same implementation as secur32's. */
static void test_sspicli_entry_points(void)
{
    static const char *const names[] =
    {
        "QueryContextAttributesExA", "QueryContextAttributesExW", "QueryCredentialsAttributesExA",
        "QueryCredentialsAttributesExW", "SetContextAttributesA", "SetContextAttributesW",
        "SetCredentialsAttributesA", "SetCredentialsAttributesW", "QueryCredentialsAttributesA",
        "QueryCredentialsAttributesW",
    };
    typedef LONG (WINAPI *handle_fn)(SecHandleDummy *, ULONG, void *, ULONG);
    HMODULE sspicli = LoadLibraryA("sspicli.dll");
    unsigned int i;

    ok(sspicli != NULL, "sspicli not loaded\n");
    if (!sspicli) return;
    for (i = 0; i < ARRAY_SIZE(names); i++)
    {
        handle_fn fn = (handle_fn)GetProcAddress(sspicli, names[i]);
        SecHandleDummy bad = { 0xdeadbeef, 0xdeadbeef };
        BYTE buffer[64];

        ok(fn != NULL, "sspicli does not export %s\n", names[i]);
        if (!fn) continue;
        /* All of them take a handle first: a bad one is refused, not followed. */
        ok(fn(&bad, 0, buffer, sizeof(buffer)) == (LONG)0x80090301 /* SEC_E_INVALID_HANDLE */,
           "%s accepted a garbage handle\n", names[i]);
    }
    FreeLibrary(sspicli);
}

START_TEST(exports)
{
    check_exports("secur32.dll", secur32_exports, ARRAY_SIZE(secur32_exports));
    check_exports("sspicli.dll", sspicli_exports, ARRAY_SIZE(sspicli_exports));
    check_exports("schannel.dll", schannel_exports, ARRAY_SIZE(schannel_exports));
    test_sspicli_entry_points();
}
