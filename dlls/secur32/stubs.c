/*
 * Exports of Wine's secur32 that this build does not implement yet. Each returns the
 * documented failure for its family (SEC_E_UNSUPPORTED_FUNCTION for SSPI-style calls,
 * STATUS_NOT_IMPLEMENTED for LSA calls, FALSE with ERROR_CALL_NOT_IMPLEMENTED for BOOL
 * calls) and is listed in the README status table; the drop-in completeness issue fills
 * them in. Prototypes are declared here rather than taken from headers on purpose: only
 * the exported names and calling convention matter to callers.
 */

#include <stdarg.h>
#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winbase.h"
#include "winnls.h"
#include "winternl.h"
#include "winerror.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

typedef LONG SECURITY_STATUS;

#define SSPI_STUB(name, args) \
    SECURITY_STATUS WINAPI name args; \
    SECURITY_STATUS WINAPI name args { FIXME("not implemented\n"); return SEC_E_UNSUPPORTED_FUNCTION; }
#define LSA_STUB(name, args) \
    NTSTATUS WINAPI name args; \
    NTSTATUS WINAPI name args { FIXME("not implemented\n"); return STATUS_NOT_IMPLEMENTED; }
#define BOOL_STUB(name, args) \
    BOOLEAN WINAPI name args; \
    BOOLEAN WINAPI name args { FIXME("not implemented\n"); SetLastError(ERROR_CALL_NOT_IMPLEMENTED); return FALSE; }

SSPI_STUB(AddSecurityPackageA, (char *name, void *options))
SSPI_STUB(AddSecurityPackageW, (WCHAR *name, void *options))
SSPI_STUB(DeleteSecurityPackageA, (char *name))
SSPI_STUB(DeleteSecurityPackageW, (WCHAR *name))
SSPI_STUB(SaslAcceptSecurityContext, (void *cred, void *ctx, void *input, ULONG req, ULONG rep, void *new_ctx, void *output, ULONG *attrs, void *expiry))
SSPI_STUB(SaslInitializeSecurityContextA, (void *cred, void *ctx, char *target, ULONG req, ULONG r1, ULONG rep, void *input, ULONG r2, void *new_ctx, void *output, ULONG *attrs, void *expiry))
SSPI_STUB(SaslInitializeSecurityContextW, (void *cred, void *ctx, WCHAR *target, ULONG req, ULONG r1, ULONG rep, void *input, ULONG r2, void *new_ctx, void *output, ULONG *attrs, void *expiry))
SSPI_STUB(SaslEnumerateProfilesA, (char **profiles, ULONG *count))
SSPI_STUB(SaslEnumerateProfilesW, (WCHAR **profiles, ULONG *count))
SSPI_STUB(SaslGetProfilePackageA, (char *profile, void **info))
SSPI_STUB(SaslGetProfilePackageW, (WCHAR *profile, void **info))
SSPI_STUB(SaslIdentifyPackageA, (void *input, void **info))
SSPI_STUB(SaslIdentifyPackageW, (void *input, void **info))
SSPI_STUB(SecGetLocaleSpecificEncryptionRules, (BOOLEAN *rules))
SSPI_STUB(SecInitUserModeContext, (void *context, void *packed))
SSPI_STUB(SecDeleteUserModeContext, (void *context))
SSPI_STUB(SecCacheSspiPackages, (void))
SSPI_STUB(GetSecurityUserInfo, (LUID *luid, ULONG flags, void **info))
SSPI_STUB(SspiEncodeAuthIdentityAsStrings, (void *identity, const WCHAR **user, const WCHAR **domain, const WCHAR **password))
SSPI_STUB(SspiEncodeStringsAsAuthIdentity, (const WCHAR *user, const WCHAR *domain, const WCHAR *password, void **identity))
SSPI_STUB(SspiPrepareForCredWrite, (void *identity, const WCHAR *target, ULONG *type, const WCHAR **name, const WCHAR **user, BYTE **blob, ULONG *size))

LSA_STUB(LsaCallAuthenticationPackage, (HANDLE lsa, ULONG package, void *buffer, ULONG size, void **ret, ULONG *ret_size, NTSTATUS *status))
LSA_STUB(LsaConnectUntrusted, (HANDLE *lsa))
LSA_STUB(LsaDeregisterLogonProcess, (HANDLE lsa))
LSA_STUB(LsaEnumerateLogonSessions, (ULONG *count, LUID **list))
LSA_STUB(LsaGetLogonSessionData, (LUID *luid, void **data))
LSA_STUB(LsaLogonUser, (HANDLE lsa, void *origin, ULONG type, ULONG package, void *info, ULONG size, void *groups, void *source, void **profile, ULONG *profile_size, LUID *luid, HANDLE *token, void *quotas, NTSTATUS *status))
LSA_STUB(LsaLookupAuthenticationPackage, (HANDLE lsa, void *name, ULONG *package))
LSA_STUB(LsaRegisterLogonProcess, (void *name, HANDLE *lsa, void *mode))
LSA_STUB(LsaRegisterPolicyChangeNotification, (ULONG info_class, HANDLE event))
LSA_STUB(LsaUnregisterPolicyChangeNotification, (ULONG info_class, HANDLE event))

BOOL_STUB(GetComputerObjectNameA, (ULONG format, char *name, ULONG *size))
BOOL_STUB(GetComputerObjectNameW, (ULONG format, WCHAR *name, ULONG *size))
BOOL_STUB(TranslateNameA, (const char *name, ULONG from, ULONG to, char *out, ULONG *size))
BOOL_STUB(TranslateNameW, (const WCHAR *name, ULONG from, ULONG to, WCHAR *out, ULONG *size))
BOOL_STUB(SecpTranslateName, (const WCHAR *name, ULONG from, ULONG to, WCHAR *out, ULONG *size))
BOOL_STUB(SecpTranslateNameEx, (const WCHAR *name, ULONG from, ULONG to, WCHAR *out, ULONG *size))

NTSTATUS WINAPI LsaFreeReturnBuffer(void *buffer);
NTSTATUS WINAPI LsaFreeReturnBuffer(void *buffer)
{
    HeapFree(GetProcessHeap(), 0, buffer);
    return STATUS_SUCCESS;
}

void WINAPI SecpFreeMemory(void *ptr);
void WINAPI SecpFreeMemory(void *ptr)
{
    HeapFree(GetProcessHeap(), 0, ptr);
}

void WINAPI SspiLocalFree(void *ptr);
void WINAPI SspiLocalFree(void *ptr)
{
    HeapFree(GetProcessHeap(), 0, ptr);
}

void WINAPI SspiFreeAuthIdentity(void *identity);
void WINAPI SspiFreeAuthIdentity(void *identity)
{
    HeapFree(GetProcessHeap(), 0, identity);
}

void WINAPI SspiZeroAuthIdentity(void *identity);
void WINAPI SspiZeroAuthIdentity(void *identity)
{
    FIXME("%p: not implemented\n", identity);
}

/* GetUserNameEx: the formats a local (non-domain) Wine user has. */
#define NAME_SAM_COMPATIBLE 2
#define NAME_DISPLAY 3

BOOLEAN WINAPI GetUserNameExW(ULONG format, WCHAR *name, ULONG *size);
BOOLEAN WINAPI GetUserNameExW(ULONG format, WCHAR *name, ULONG *size)
{
    WCHAR user[257], computer[MAX_COMPUTERNAME_LENGTH + 1], result[300];
    DWORD user_len = ARRAY_SIZE(user), computer_len = ARRAY_SIZE(computer);
    ULONG len;

    if (!size) { SetLastError(ERROR_INVALID_PARAMETER); return FALSE; }
    if (!GetUserNameW(user, &user_len)) return FALSE;
    switch (format)
    {
    case NAME_SAM_COMPATIBLE:
        if (!GetComputerNameW(computer, &computer_len)) return FALSE;
        lstrcpyW(result, computer);
        lstrcatW(result, L"\\");
        lstrcatW(result, user);
        break;
    case NAME_DISPLAY:
        lstrcpyW(result, user);
        break;
    default:
        SetLastError(ERROR_NONE_MAPPED);
        return FALSE;
    }
    len = lstrlenW(result);
    if (!name || *size <= len)
    {
        *size = len + 1;
        SetLastError(ERROR_MORE_DATA);
        return FALSE;
    }
    lstrcpyW(name, result);
    *size = len;
    return TRUE;
}

BOOLEAN WINAPI GetUserNameExA(ULONG format, char *name, ULONG *size);
BOOLEAN WINAPI GetUserNameExA(ULONG format, char *name, ULONG *size)
{
    WCHAR buffer[300];
    ULONG lenW = ARRAY_SIZE(buffer);
    int len;

    if (!size) { SetLastError(ERROR_INVALID_PARAMETER); return FALSE; }
    if (!GetUserNameExW(format, buffer, &lenW)) return FALSE;
    len = WideCharToMultiByte(CP_ACP, 0, buffer, -1, NULL, 0, NULL, NULL);
    if (!name || *size < (ULONG)len)
    {
        *size = len;
        SetLastError(ERROR_MORE_DATA);
        return FALSE;
    }
    WideCharToMultiByte(CP_ACP, 0, buffer, -1, name, *size, NULL, NULL);
    *size = len - 1;
    return TRUE;
}
