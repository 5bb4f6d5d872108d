/*
 * schannel.dll: DllMain (via the forwarders' entry point) and the LSA package entry points
 * SpLsaModeInitialize / SpUserModeInitialize. Every SSPI and Ssl* export is a forward to
 * secur32.dll (schannel.def).
 *
 * As an LSA package Schannel describes two packages, "Microsoft Unified Security Protocol
 * Provider" and "Schannel". The tables answer GetInfo; the work itself is done through
 * secur32's SSPI, which hosts Schannel in-process, so the remaining LSA-mode slots are
 * empty. Behaviour as Windows': SpLsaModeInitialize accepts any LSA version and always
 * returns the same tables; SpUserModeInitialize wants SECPKG_INTERFACE_VERSION and leaves
 * its outputs alone otherwise.
 */

#include <stdarg.h>
#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winbase.h"
#include "winternl.h"
#define SECURITY_WIN32
#include "sspi.h"
#include "ntsecapi.h"
#include "ntsecpkg.h"
#include "schannel.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

#define SCHANNEL_LSA_CAPS (SECPKG_FLAG_INTEGRITY | SECPKG_FLAG_PRIVACY | SECPKG_FLAG_CONNECTION \
    | SECPKG_FLAG_MULTI_REQUIRED | SECPKG_FLAG_EXTENDED_ERROR | SECPKG_FLAG_IMPERSONATION \
    | SECPKG_FLAG_ACCEPT_WIN32_NAME | SECPKG_FLAG_STREAM | SECPKG_FLAG_MUTUAL_AUTH)
#define SCHANNEL_MAX_TOKEN 0x6000

static NTSTATUS fill_info(SecPkgInfoW *info, const WCHAR *name)
{
    info->fCapabilities = SCHANNEL_LSA_CAPS;
    info->wVersion = 1;
    info->wRPCID = UNISP_RPC_ID;
    info->cbMaxToken = SCHANNEL_MAX_TOKEN;
    info->Name = (WCHAR *)name;
    info->Comment = (WCHAR *)L"Schannel Security Package";
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI unisp_get_info(SecPkgInfoW *info)
{
    return fill_info(info, L"Microsoft Unified Security Protocol Provider");
}

static NTSTATUS NTAPI schannel_get_info(SecPkgInfoW *info)
{
    return fill_info(info, L"Schannel");
}

static NTSTATUS NTAPI schannel_initialize(ULONG_PTR id, SECPKG_PARAMETERS *params, LSA_SECPKG_FUNCTION_TABLE *table)
{
    TRACE("%Iu %p %p\n", id, params, table);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI schannel_shutdown(void)
{
    return STATUS_SUCCESS;
}

static SECPKG_FUNCTION_TABLE lsa_tables[2] =
{
    { .Initialize = schannel_initialize, .Shutdown = schannel_shutdown, .GetInfo = unisp_get_info },
    { .Initialize = schannel_initialize, .Shutdown = schannel_shutdown, .GetInfo = schannel_get_info },
};

static NTSTATUS NTAPI schannel_instance_init(ULONG version, SECPKG_DLL_FUNCTIONS *functions, void **tables)
{
    TRACE("%#lx %p %p\n", version, functions, tables);
    return STATUS_SUCCESS;
}

static SECPKG_USER_FUNCTION_TABLE user_tables[2] =
{
    { .InstanceInit = schannel_instance_init },
    { .InstanceInit = schannel_instance_init },
};

NTSTATUS NTAPI SpLsaModeInitialize(ULONG lsa_version, ULONG *package_version, SECPKG_FUNCTION_TABLE **tables,
                                   ULONG *count);
NTSTATUS NTAPI SpLsaModeInitialize(ULONG lsa_version, ULONG *package_version, SECPKG_FUNCTION_TABLE **tables,
                                   ULONG *count)
{
    TRACE("%#lx %p %p %p\n", lsa_version, package_version, tables, count);
    /* The tables are full SECPKG_FUNCTION_TABLEs, so the next one starts after the last slot. */
    *package_version = SECPKG_INTERFACE_VERSION_8;
    *tables = lsa_tables;
    *count = ARRAY_SIZE(lsa_tables);
    return STATUS_SUCCESS;
}

NTSTATUS NTAPI SpUserModeInitialize(ULONG lsa_version, ULONG *package_version,
                                    SECPKG_USER_FUNCTION_TABLE **tables, ULONG *count);
NTSTATUS NTAPI SpUserModeInitialize(ULONG lsa_version, ULONG *package_version,
                                    SECPKG_USER_FUNCTION_TABLE **tables, ULONG *count)
{
    TRACE("%#lx %p %p %p\n", lsa_version, package_version, tables, count);
    if (lsa_version != SECPKG_INTERFACE_VERSION) return STATUS_INVALID_PARAMETER;
    *package_version = SECPKG_INTERFACE_VERSION;
    *tables = user_tables;
    *count = ARRAY_SIZE(user_tables);
    return STATUS_SUCCESS;
}
