/*
 * Exports of Wine's secur32 and sspicli that this build does not implement. Each returns
 * the documented failure for its family (SEC_E_UNSUPPORTED_FUNCTION for SSPI-style calls,
 * STATUS_NOT_IMPLEMENTED for LSA-style calls, FALSE with ERROR_CALL_NOT_IMPLEMENTED for
 * BOOL calls) and is listed in the README status table. The LSA functions are in lsa.c,
 * the Sspi* identity helpers in identity.c, the Ssl* functions in ssl.c. Prototypes are
 * declared here rather than taken from headers on purpose: only the exported names and
 * calling convention matter to callers.
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
SSPI_STUB(SspiPrepareForCredWrite, (void *identity, const WCHAR *target, ULONG *type, const WCHAR **name, const WCHAR **user, BYTE **blob, ULONG *size))
SSPI_STUB(SspiPrepareForCredRead, (void *identity, const WCHAR *target, ULONG *type, const WCHAR **name))
SSPI_STUB(SspiMarshalAuthIdentity, (void *identity, ULONG *size, char **blob))
SSPI_STUB(SspiUnmarshalAuthIdentity, (ULONG size, char *blob, void **identity))
SSPI_STUB(SspiUnmarshalAuthIdentityInternal, (ULONG size, char *blob, void **identity))
SSPI_STUB(SspiEncryptAuthIdentity, (void *identity))
SSPI_STUB(SspiEncryptAuthIdentityEx, (ULONG options, void *identity))
SSPI_STUB(SspiExcludePackage, (void *identity, const WCHAR *package, void **new_identity))
SSPI_STUB(SspiGetComputerNameForSPN, (const WCHAR *name, WCHAR **spn))
SSPI_STUB(ChangeAccountPasswordA, (char *package, char *domain, char *account, char *old_password, char *new_password, BOOLEAN impersonating, ULONG reserved, void *output))
SSPI_STUB(ChangeAccountPasswordW, (WCHAR *package, WCHAR *domain, WCHAR *account, WCHAR *old_password, WCHAR *new_password, BOOLEAN impersonating, ULONG reserved, void *output))
SSPI_STUB(SaslGetContextOption, (void *context, ULONG option, void *value, ULONG size, ULONG *needed))
SSPI_STUB(SaslSetContextOption, (void *context, ULONG option, void *value, ULONG size))


LSA_STUB(CredMarshalTargetInfo, (void *info, USHORT **buffer, ULONG *size))
LSA_STUB(CredUnmarshalTargetInfo, (USHORT *buffer, ULONG size, void **info, ULONG *ret_size))
LSA_STUB(SeciAllocateAndSetCallFlags, (ULONG flags, BOOLEAN *allocated))
LSA_STUB(SeciAllocateAndSetIPAddress, (BYTE *address, ULONG size, BOOLEAN *allocated))

BOOL_STUB(LogonUserExExW, (WCHAR *user, WCHAR *domain, WCHAR *password, DWORD type, DWORD provider, void *groups, HANDLE *token, void **sid, void **profile, DWORD *profile_size, void *quotas))
BOOL_STUB(GetComputerObjectNameA, (ULONG format, char *name, ULONG *size))
BOOL_STUB(GetComputerObjectNameW, (ULONG format, WCHAR *name, ULONG *size))
BOOL_STUB(TranslateNameA, (const char *name, ULONG from, ULONG to, char *out, ULONG *size))
BOOL_STUB(TranslateNameW, (const WCHAR *name, ULONG from, ULONG to, WCHAR *out, ULONG *size))
BOOL_STUB(SecpTranslateName, (const WCHAR *name, ULONG from, ULONG to, WCHAR *out, ULONG *size))
BOOL_STUB(SecpTranslateNameEx, (const WCHAR *name, ULONG from, ULONG to, WCHAR *out, ULONG *size))

/* The call context the Seci* functions manage is an LSA-server notion; nothing to free. */
NTSTATUS WINAPI SeciFreeCallContext(void);
NTSTATUS WINAPI SeciFreeCallContext(void)
{
    return STATUS_SUCCESS;
}

/* No protected users in-process. */
NTSTATUS WINAPI SeciIsProtectedUser(BOOLEAN *protected_user);
NTSTATUS WINAPI SeciIsProtectedUser(BOOLEAN *protected_user)
{
    if (!protected_user) return STATUS_INVALID_PARAMETER;
    *protected_user = FALSE;
    return STATUS_SUCCESS;
}

void WINAPI SecpFreeMemory(void *ptr);
void WINAPI SecpFreeMemory(void *ptr)
{
    HeapFree(GetProcessHeap(), 0, ptr);
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
