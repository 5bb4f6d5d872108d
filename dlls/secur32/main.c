/*
 * DllMain, memory helpers, and the package information secur32 reports.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

static BOOL unix_ready;

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    switch (reason)
    {
    case DLL_PROCESS_ATTACH:
        DisableThreadLibraryCalls(instance);
        /* Without its Unix side secur32 still loads (non-TLS exports keep working);
         * Schannel calls then fail with SEC_E_INTERNAL_ERROR. */
        unix_ready = !sg_unix_init();
        TRACE("schannel-gnutls secur32 loaded, unix side %s\n", unix_ready ? "ready" : "missing");
        break;
    }
    return TRUE;
}

BOOL sg_unix_ready(void)
{
    return unix_ready;
}

void *sg_alloc(SIZE_T size)
{
    return HeapAlloc(GetProcessHeap(), 0, size);
}

void *sg_alloc_zero(SIZE_T size)
{
    return HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, size);
}

void sg_free(void *ptr)
{
    HeapFree(GetProcessHeap(), 0, ptr);
}

/* Memory handed to the application: FreeContextBuffer releases it. */
void *sg_context_buffer_alloc(SIZE_T size)
{
    return HeapAlloc(GetProcessHeap(), 0, size ? size : 1);
}

void sg_wipe(void *ptr, SIZE_T size)
{
    if (ptr) RtlSecureZeroMemory(ptr, size);
}

WCHAR *sg_strdupW(const WCHAR *str)
{
    WCHAR *ret;
    SIZE_T size;

    if (!str) return NULL;
    size = (lstrlenW(str) + 1) * sizeof(WCHAR);
    if ((ret = sg_alloc(size))) memcpy(ret, str, size);
    return ret;
}

WCHAR *sg_strdupAW(const char *str)
{
    WCHAR *ret;
    int len;

    if (!str) return NULL;
    len = MultiByteToWideChar(CP_ACP, 0, str, -1, NULL, 0);
    if ((ret = sg_alloc(len * sizeof(WCHAR)))) MultiByteToWideChar(CP_ACP, 0, str, -1, ret, len);
    return ret;
}

BOOL sg_is_schannel_package(const WCHAR *name)
{
    return name && (!wcsicmp(name, SG_PACKAGE_UNISP_W) || !wcsicmp(name, SG_PACKAGE_SCHANNEL_W)
                    || !wcsicmp(name, SG_PACKAGE_DEFAULT_TLS_W));
}

SECURITY_STATUS WINAPI FreeContextBuffer(void *buffer)
{
    TRACE("%p\n", buffer);
    if (buffer) HeapFree(GetProcessHeap(), 0, buffer);
    return SEC_E_OK;
}

/* ---------------------------------------------------------------------------------------
 * Package information. Only Schannel is provided by this build; NTLM, Negotiate and
 * Kerberos are not (see README status table).
 */

#define SG_SCHANNEL_CAPS (SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION \
    | SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_IMPERSONATION \
    | SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_STREAM | SECPKG_FLAG_MUTUAL_AUTH)
#define SG_SCHANNEL_MAX_TOKEN 0x6000
#define SG_SCHANNEL_COMMENT_W L"Schannel Security Package"

static const WCHAR *package_names[] = { SG_PACKAGE_UNISP_W, SG_PACKAGE_SCHANNEL_W, SG_PACKAGE_DEFAULT_TLS_W };

static SIZE_T package_size_w(const WCHAR *name)
{
    return sizeof(SecPkgInfoW) + (lstrlenW(name) + 1 + lstrlenW(SG_SCHANNEL_COMMENT_W) + 1) * sizeof(WCHAR);
}

static SIZE_T package_size_a(const WCHAR *name)
{
    return sizeof(SecPkgInfoA) + WideCharToMultiByte(CP_ACP, 0, name, -1, NULL, 0, NULL, NULL)
        + WideCharToMultiByte(CP_ACP, 0, SG_SCHANNEL_COMMENT_W, -1, NULL, 0, NULL, NULL);
}

static void fill_common(ULONG *caps, USHORT *version, USHORT *rpcid, ULONG *max_token)
{
    *caps = SG_SCHANNEL_CAPS;
    *version = 1;
    *rpcid = UNISP_RPC_ID;
    *max_token = SG_SCHANNEL_MAX_TOKEN;
}

/* Writes the strings after the array (at *strings), advancing it. */
static void fill_w(SecPkgInfoW *info, const WCHAR *name, WCHAR **strings)
{
    fill_common(&info->fCapabilities, &info->wVersion, &info->wRPCID, &info->cbMaxToken);
    info->Name = *strings;
    lstrcpyW(*strings, name);
    *strings += lstrlenW(name) + 1;
    info->Comment = *strings;
    lstrcpyW(*strings, SG_SCHANNEL_COMMENT_W);
    *strings += lstrlenW(SG_SCHANNEL_COMMENT_W) + 1;
}

static void fill_a(SecPkgInfoA *info, const WCHAR *name, char **strings, char *end)
{
    fill_common(&info->fCapabilities, &info->wVersion, &info->wRPCID, &info->cbMaxToken);
    info->Name = *strings;
    *strings += WideCharToMultiByte(CP_ACP, 0, name, -1, *strings, end - *strings, NULL, NULL);
    info->Comment = *strings;
    *strings += WideCharToMultiByte(CP_ACP, 0, SG_SCHANNEL_COMMENT_W, -1, *strings, end - *strings, NULL, NULL);
}

SECURITY_STATUS WINAPI EnumerateSecurityPackagesW(ULONG *count, SecPkgInfoW **info)
{
    SIZE_T size = 0, i;
    SecPkgInfoW *array;
    WCHAR *strings;

    TRACE("%p %p\n", count, info);
    if (!count || !info) return SEC_E_INVALID_PARAMETER;
    for (i = 0; i < ARRAY_SIZE(package_names); i++) size += package_size_w(package_names[i]);
    if (!(array = sg_context_buffer_alloc(size))) return SEC_E_INSUFFICIENT_MEMORY;
    strings = (WCHAR *)(array + ARRAY_SIZE(package_names));
    for (i = 0; i < ARRAY_SIZE(package_names); i++) fill_w(&array[i], package_names[i], &strings);
    *count = ARRAY_SIZE(package_names);
    *info = array;
    return SEC_E_OK;
}

SECURITY_STATUS WINAPI EnumerateSecurityPackagesA(ULONG *count, SecPkgInfoA **info)
{
    SIZE_T size = 0, i;
    SecPkgInfoA *array;
    char *strings;

    TRACE("%p %p\n", count, info);
    if (!count || !info) return SEC_E_INVALID_PARAMETER;
    for (i = 0; i < ARRAY_SIZE(package_names); i++) size += package_size_a(package_names[i]);
    if (!(array = sg_context_buffer_alloc(size))) return SEC_E_INSUFFICIENT_MEMORY;
    strings = (char *)(array + ARRAY_SIZE(package_names));
    for (i = 0; i < ARRAY_SIZE(package_names); i++) fill_a(&array[i], package_names[i], &strings, (char *)array + size);
    *count = ARRAY_SIZE(package_names);
    *info = array;
    return SEC_E_OK;
}

SECURITY_STATUS WINAPI QuerySecurityPackageInfoW(SEC_WCHAR *name, SecPkgInfoW **info)
{
    SecPkgInfoW *ret;
    WCHAR *strings;

    TRACE("%s %p\n", debugstr_w(name), info);
    if (!info) return SEC_E_INVALID_PARAMETER;
    if (!sg_is_schannel_package(name)) return SEC_E_SECPKG_NOT_FOUND;
    if (!(ret = sg_context_buffer_alloc(package_size_w(name)))) return SEC_E_INSUFFICIENT_MEMORY;
    strings = (WCHAR *)(ret + 1);
    fill_w(ret, name, &strings);
    *info = ret;
    return SEC_E_OK;
}

SECURITY_STATUS WINAPI QuerySecurityPackageInfoA(SEC_CHAR *name, SecPkgInfoA **info)
{
    SecPkgInfoA *ret;
    WCHAR *nameW;
    char *strings;
    SIZE_T size;

    TRACE("%s %p\n", debugstr_a(name), info);
    if (!info) return SEC_E_INVALID_PARAMETER;
    if (!(nameW = sg_strdupAW(name)) || !sg_is_schannel_package(nameW))
    {
        sg_free(nameW);
        return SEC_E_SECPKG_NOT_FOUND;
    }
    size = package_size_a(nameW);
    if (!(ret = sg_context_buffer_alloc(size)))
    {
        sg_free(nameW);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    strings = (char *)(ret + 1);
    fill_a(ret, nameW, &strings, (char *)ret + size);
    sg_free(nameW);
    *info = ret;
    return SEC_E_OK;
}
