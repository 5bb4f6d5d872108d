/*
 * Entry point of the forwarding DLLs (sspicli.dll, schannel.dll): every export is a
 * forward to secur32.dll, declared in the DLL's .def file, so there is nothing to run.
 */

#include <stdarg.h>
#include "windef.h"
#include "winbase.h"

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, void *reserved)
{
    if (reason == DLL_PROCESS_ATTACH) DisableThreadLibraryCalls(instance);
    return TRUE;
}
