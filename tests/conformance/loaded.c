/*
 * Which secur32.dll is loaded in this process?
 *
 * Under Wine the tests must exercise schannel-gnutls, not Wine's own builtin
 * secur32.dll; a run that silently used the wrong DLL would prove nothing.  Our
 * DLL carries a VERSIONINFO resource naming the project, and this test reads it
 * from the image mapped in the process (not from a file on disk, which could
 * differ from what the loader picked).  On Windows the system DLL is Microsoft's,
 * so the check is skipped there.
 */

#include <stdarg.h>
#include <string.h>

#include <windef.h>
#include <winbase.h>
#include <winuser.h>
#include <winver.h>

#include "wine/test.h"

/* Returns a heap copy of the version resource of a loaded module, or NULL. */
static void *copy_version_resource(HMODULE module, DWORD *size)
{
    HRSRC res;
    HGLOBAL mem;
    const void *data;
    void *copy;

    res = FindResourceW(module, MAKEINTRESOURCEW(VS_VERSION_INFO), (LPCWSTR)RT_VERSION);
    if (!res) return NULL;
    mem = LoadResource(module, res);
    if (!mem) return NULL;
    data = LockResource(mem);
    *size = SizeofResource(module, res);
    if (!data || !*size) return NULL;

    /* VerQueryValue may convert the block in place, so it needs writable memory;
     * leave room behind the block as GetFileVersionInfo does. */
    copy = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, *size * 2);
    if (copy) memcpy(copy, data, *size);
    return copy;
}

static const WCHAR *query_string(void *block, const WCHAR *name)
{
    WCHAR path[64];
    WCHAR *value = NULL;
    UINT len = 0;

    lstrcpyW(path, L"\\StringFileInfo\\040904B0\\");
    lstrcatW(path, name);
    if (!VerQueryValueW(block, path, (void **)&value, &len) || !value) return NULL;
    return value;
}

static void test_loaded_secur32(void)
{
    HMODULE loaded, module;
    char path[MAX_PATH];
    const WCHAR *product, *company;
    void *block;
    DWORD size = 0;
    BOOL is_wine = !strcmp(winetest_platform, "wine");

    loaded = LoadLibraryA("secur32.dll");
    ok(loaded != NULL, "LoadLibraryA(secur32.dll) failed: %lu\n", GetLastError());
    if (!loaded) return;
    module = GetModuleHandleA("secur32.dll");
    ok(module == loaded, "GetModuleHandleA returned %p, LoadLibraryA %p\n", module, loaded);

    path[0] = 0;
    ok(GetModuleFileNameA(module, path, sizeof(path)) > 0, "GetModuleFileNameA failed: %lu\n",
       GetLastError());
    trace("secur32.dll loaded from %s at %p\n", path, module);

    block = copy_version_resource(module, &size);
    if (!is_wine)
    {
        /* Microsoft's secur32.dll: only report what it says about itself. */
        if (block)
        {
            product = query_string(block, L"ProductName");
            trace("ProductName %s\n", product ? wine_dbgstr_w(product) : "(none)");
            HeapFree(GetProcessHeap(), 0, block);
        }
        skip("not running under Wine: the loaded secur32.dll is the system's\n");
        FreeLibrary(loaded);
        return;
    }

    /* Wine's own builtin secur32.dll has no version resource at all. */
    ok(block != NULL, "the loaded secur32.dll has no version resource: it is not schannel-gnutls\n");
    if (block)
    {
        trace("version resource: %lu bytes\n", size);
        product = query_string(block, L"ProductName");
        company = query_string(block, L"CompanyName");
        ok(product && !lstrcmpW(product, L"schannel-gnutls"), "ProductName is %s\n",
           product ? wine_dbgstr_w(product) : "missing");
        ok(company && !lstrcmpW(company, L"schannel-gnutls project"), "CompanyName is %s\n",
           company ? wine_dbgstr_w(company) : "missing");
        HeapFree(GetProcessHeap(), 0, block);
    }
    FreeLibrary(loaded);
}

START_TEST(loaded)
{
    test_loaded_secur32();
}
