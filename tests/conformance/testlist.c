/*
 * List of conformance tests for secur32.dll (Schannel), in Wine's test harness.
 *
 * Run as "secur32_test.exe <name>"; "secur32_test.exe --list" prints the names.
 */

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#define STANDALONE
#include "wine/test.h"

extern void func_loaded(void);
extern void func_schannel(void);

const struct test winetest_testlist[] =
{
    { "loaded", func_loaded },
    { "schannel", func_schannel },
    { 0, 0 }
};
