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
extern void func_client(void);
extern void func_clientalert(void);
extern void func_ntlm(void);
extern void func_packages(void);
extern void func_exports(void);
extern void func_badhandles(void);
extern void func_server(void);
extern void func_record(void);
extern void func_attributes(void);
extern void func_hostile(void);
extern void func_threads(void);
extern void func_dtls(void);

const struct test winetest_testlist[] =
{
    { "loaded", func_loaded },
    { "schannel", func_schannel },
    { "client", func_client },
    { "clientalert", func_clientalert },
    { "ntlm", func_ntlm },
    { "packages", func_packages },
    { "exports", func_exports },
    { "badhandles", func_badhandles },
    { "server", func_server },
    { "record", func_record },
    { "attributes", func_attributes },
    { "hostile", func_hostile },
    { "threads", func_threads },
    { "dtls", func_dtls },
    { 0, 0 }
};
