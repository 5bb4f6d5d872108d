/*
 * The unix-call thunk: the only place the PE side crosses to secur32.so.
 *
 * Debian's libwine-dev ships libwinecrt0.a, which defines these three symbols, but not
 * the header declaring them, so they are declared here.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

typedef UINT64 unixlib_handle_t;
extern unixlib_handle_t __wine_unixlib_handle;
extern NTSTATUS (WINAPI *__wine_unix_call_dispatcher)(unixlib_handle_t, unsigned int, void *);
extern NTSTATUS WINAPI __wine_init_unix_call(void);

NTSTATUS sg_unix_init(void)
{
    struct sg_process_attach_params params = { 0 };
    NTSTATUS status;

    if ((status = __wine_init_unix_call()))
    {
        ERR("secur32.so not found next to secur32.dll (status %#lx)\n", (ULONG)status);
        return status;
    }
    if ((status = sg_unix_call(unix_process_attach, &params))) return status;
    if (params.version != SG_UNIXLIB_VERSION)
    {
        ERR("secur32.so speaks version %u, secur32.dll version %u\n", params.version, SG_UNIXLIB_VERSION);
        return STATUS_DLL_INIT_FAILED;
    }
    return STATUS_SUCCESS;
}

NTSTATUS sg_unix_call(enum sg_unix_call code, void *params)
{
    return __wine_unix_call_dispatcher(__wine_unixlib_handle, code, params);
}
