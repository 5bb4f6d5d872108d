/*
 * DllMain, memory helpers, and the package information secur32 reports.
 */

#include "secur32_priv.h"
#include "rpc.h"
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

/* Spare blocks for the objects each connection makes and frees again: its context and the
 * client state that carries a cached session. Wine's process heap takes a lock for every
 * allocation and every free; these pairs showed in the profile of resumed handshakes. Blocks
 * up to POOL_MAX bytes (the header included) are rounded up to a multiple of POOL_STEP, so a
 * block costs at most POOL_STEP - 1 bytes more than asked; a freed one waits in one of
 * POOL_SPARES slots of its size class for the next block of that size. Larger ones are
 * ordinary heap blocks. Callers wipe what they stored before freeing, as for any block. */
#define POOL_STEP    128
#define POOL_MAX     2048
#define POOL_CLASSES (POOL_MAX / POOL_STEP)
#define POOL_SPARES  4
struct pool_header
{
    SIZE_T size;               /* of the whole block */
    SIZE_T reserved;           /* keeps the caller's part 16-byte aligned */
};
static struct pool_header *pool_spares[POOL_CLASSES][POOL_SPARES];

void *sg_pool_alloc(SIZE_T size)
{
    struct pool_header *block = NULL, **spares;
    SIZE_T total;
    unsigned int i;

    if (size > ~(SIZE_T)0 - sizeof(*block) - POOL_STEP) return NULL;
    total = sizeof(*block) + size;
    if (total <= POOL_MAX)
    {
        total = (total + POOL_STEP - 1) & ~(SIZE_T)(POOL_STEP - 1);
        spares = pool_spares[total / POOL_STEP - 1];
        for (i = 0; i < POOL_SPARES && !block; i++)
            if (spares[i]) block = InterlockedExchangePointer((void **)&spares[i], NULL);
    }
    if (!block && !(block = sg_alloc(total))) return NULL;
    block->size = total;
    return memset(block + 1, 0, size);
}

void sg_pool_free(void *ptr)
{
    struct pool_header *block = ptr ? (struct pool_header *)ptr - 1 : NULL, **spares;
    unsigned int i;

    if (!block) return;
    if (block->size <= POOL_MAX && !(block->size % POOL_STEP))
    {
        spares = pool_spares[block->size / POOL_STEP - 1];
        for (i = 0; i < POOL_SPARES; i++)
            if (!InterlockedCompareExchangePointer((void **)&spares[i], block, NULL)) return;
    }
    sg_free(block);
}

/* Memory handed to the application: FreeContextBuffer releases it. */
void *sg_context_buffer_alloc(SIZE_T size)
{
    return HeapAlloc(GetProcessHeap(), 0, size ? size : 1);
}

void sg_wipe(void *ptr, SIZE_T size)
{
    if (!ptr || !size) return;
    /* memset, which the compiler may not drop: the barrier says the zeroes are read.
     * (RtlSecureZeroMemory writes a byte at a time: 16 KiB took longer than a resumed
     * handshake.) */
    memset(ptr, 0, size);
    __asm__ __volatile__("" : : "r"(ptr) : "memory");
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
 * Package information, in the order Windows lists its packages: Negotiate, the LSA
 * packages (Kerberos, NTLM), then Schannel under its three names. The LSA packages
 * describe themselves (GetInfo); Negotiate and Schannel are described here.
 */

#define SG_SCHANNEL_CAPS (SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION \
    | SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_IMPERSONATION \
    | SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_STREAM | SECPKG_FLAG_MUTUAL_AUTH)
#define SG_SCHANNEL_MAX_TOKEN 0x6000
#define SG_SCHANNEL_COMMENT_W L"Schannel Security Package"

/* Windows 10's Negotiate. */
#define SG_NEGOTIATE_CAPS (SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION \
    | SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_IMPERSONATION \
    | SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_NEGOTIABLE | SECPKG_FLAG_GSS_COMPATIBLE | SECPKG_FLAG_LOGON \
    | SECPKG_FLAG_RESTRICTED_TOKENS | SECPKG_FLAG_APPCONTAINER_CHECKS)
#define SG_NEGOTIATE_MAX_TOKEN 48256
#define SG_PACKAGE_NEGOTIATE_W L"Negotiate"

static const SecPkgInfoW schannel_infos[] =
{
    { SG_SCHANNEL_CAPS, 1, UNISP_RPC_ID, SG_SCHANNEL_MAX_TOKEN, (WCHAR *)SG_PACKAGE_SCHANNEL_W,
      (WCHAR *)SG_SCHANNEL_COMMENT_W },
    { SG_SCHANNEL_CAPS, 1, UNISP_RPC_ID, SG_SCHANNEL_MAX_TOKEN, (WCHAR *)SG_PACKAGE_UNISP_W,
      (WCHAR *)SG_SCHANNEL_COMMENT_W },
    { SG_SCHANNEL_CAPS, 1, UNISP_RPC_ID, SG_SCHANNEL_MAX_TOKEN, (WCHAR *)SG_PACKAGE_DEFAULT_TLS_W,
      (WCHAR *)SG_SCHANNEL_COMMENT_W },
};

static const SecPkgInfoW negotiate_info =
{
    SG_NEGOTIATE_CAPS, 1, RPC_C_AUTHN_GSS_NEGOTIATE, SG_NEGOTIATE_MAX_TOKEN, (WCHAR *)SG_PACKAGE_NEGOTIATE_W,
    (WCHAR *)L"Microsoft Package Negotiator"
};

BOOL sg_is_negotiate_package(const WCHAR *name)
{
    return name && !wcsicmp(name, SG_PACKAGE_NEGOTIATE_W) && sg_lsa_package_count();
}

#define MAX_PACKAGES 16

/* The packages to report, in order; returns their number. */
static ULONG list_packages(const SecPkgInfoW **list)
{
    ULONG count = 0, i, lsa = sg_lsa_package_count();

    if (lsa) list[count++] = &negotiate_info;
    for (i = 0; i < lsa && count < MAX_PACKAGES - ARRAY_SIZE(schannel_infos); i++)
        list[count++] = sg_lsa_package_info(i);
    for (i = 0; i < ARRAY_SIZE(schannel_infos); i++) list[count++] = &schannel_infos[i];
    return count;
}

static const SecPkgInfoW *find_package(const WCHAR *name)
{
    const SecPkgInfoW *list[MAX_PACKAGES];
    ULONG count, i;

    if (!name) return NULL;
    /* Schannel's names are answered without loading the LSA packages. */
    for (i = 0; i < ARRAY_SIZE(schannel_infos); i++)
        if (!wcsicmp(schannel_infos[i].Name, name)) return &schannel_infos[i];
    count = list_packages(list);
    for (i = 0; i < count; i++)
        if (list[i]->Name && !wcsicmp(list[i]->Name, name)) return list[i];
    return NULL;
}

static const WCHAR *str_or_empty(const WCHAR *str)
{
    return str ? str : L"";
}

/* One block for the caller to free with FreeContextBuffer: the array, then its strings. */
static SecPkgInfoW *infos_to_w(const SecPkgInfoW **list, ULONG count)
{
    SIZE_T size = count * sizeof(SecPkgInfoW);
    SecPkgInfoW *ret;
    WCHAR *strings;
    ULONG i;

    for (i = 0; i < count; i++)
        size += (lstrlenW(str_or_empty(list[i]->Name)) + lstrlenW(str_or_empty(list[i]->Comment)) + 2) * sizeof(WCHAR);
    if (!(ret = sg_context_buffer_alloc(size))) return NULL;
    strings = (WCHAR *)(ret + count);
    for (i = 0; i < count; i++)
    {
        ret[i] = *list[i];
        ret[i].Name = strings;
        lstrcpyW(strings, str_or_empty(list[i]->Name));
        strings += lstrlenW(strings) + 1;
        ret[i].Comment = strings;
        lstrcpyW(strings, str_or_empty(list[i]->Comment));
        strings += lstrlenW(strings) + 1;
    }
    return ret;
}

static SecPkgInfoA *infos_to_a(const SecPkgInfoW **list, ULONG count)
{
    SIZE_T size = count * sizeof(SecPkgInfoA);
    SecPkgInfoA *ret;
    char *strings, *end;
    ULONG i;

    for (i = 0; i < count; i++)
        size += WideCharToMultiByte(CP_ACP, 0, str_or_empty(list[i]->Name), -1, NULL, 0, NULL, NULL)
              + WideCharToMultiByte(CP_ACP, 0, str_or_empty(list[i]->Comment), -1, NULL, 0, NULL, NULL);
    if (!(ret = sg_context_buffer_alloc(size))) return NULL;
    strings = (char *)(ret + count);
    end = (char *)ret + size;
    for (i = 0; i < count; i++)
    {
        ret[i].fCapabilities = list[i]->fCapabilities;
        ret[i].wVersion = list[i]->wVersion;
        ret[i].wRPCID = list[i]->wRPCID;
        ret[i].cbMaxToken = list[i]->cbMaxToken;
        ret[i].Name = strings;
        strings += WideCharToMultiByte(CP_ACP, 0, str_or_empty(list[i]->Name), -1, strings, end - strings, NULL, NULL);
        ret[i].Comment = strings;
        strings += WideCharToMultiByte(CP_ACP, 0, str_or_empty(list[i]->Comment), -1, strings, end - strings,
                                       NULL, NULL);
    }
    return ret;
}

SECURITY_STATUS WINAPI EnumerateSecurityPackagesW(ULONG *count, SecPkgInfoW **info)
{
    const SecPkgInfoW *list[MAX_PACKAGES];
    ULONG n;

    TRACE("%p %p\n", count, info);
    if (!count || !info) return SEC_E_INVALID_PARAMETER;
    n = list_packages(list);
    if (!(*info = infos_to_w(list, n))) return SEC_E_INSUFFICIENT_MEMORY;
    *count = n;
    return SEC_E_OK;
}

SECURITY_STATUS WINAPI EnumerateSecurityPackagesA(ULONG *count, SecPkgInfoA **info)
{
    const SecPkgInfoW *list[MAX_PACKAGES];
    ULONG n;

    TRACE("%p %p\n", count, info);
    if (!count || !info) return SEC_E_INVALID_PARAMETER;
    n = list_packages(list);
    if (!(*info = infos_to_a(list, n))) return SEC_E_INSUFFICIENT_MEMORY;
    *count = n;
    return SEC_E_OK;
}

SECURITY_STATUS WINAPI QuerySecurityPackageInfoW(SEC_WCHAR *name, SecPkgInfoW **info)
{
    const SecPkgInfoW *found;

    TRACE("%s %p\n", debugstr_w(name), info);
    if (!info) return SEC_E_INVALID_PARAMETER;
    if (!(found = find_package(name))) return SEC_E_SECPKG_NOT_FOUND;
    if (!(*info = infos_to_w(&found, 1))) return SEC_E_INSUFFICIENT_MEMORY;
    return SEC_E_OK;
}

SECURITY_STATUS WINAPI QuerySecurityPackageInfoA(SEC_CHAR *name, SecPkgInfoA **info)
{
    const SecPkgInfoW *found;
    WCHAR *nameW;

    TRACE("%s %p\n", debugstr_a(name), info);
    if (!info) return SEC_E_INVALID_PARAMETER;
    if (!name) return SEC_E_SECPKG_NOT_FOUND;
    if (!(nameW = sg_strdupAW(name))) return SEC_E_INSUFFICIENT_MEMORY;
    found = find_package(nameW);
    sg_free(nameW);
    if (!found) return SEC_E_SECPKG_NOT_FOUND;
    if (!(*info = infos_to_a(&found, 1))) return SEC_E_INSUFFICIENT_MEMORY;
    return SEC_E_OK;
}
