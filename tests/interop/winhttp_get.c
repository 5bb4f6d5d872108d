/*
 * A GET over HTTPS through Wine's own winhttp.dll (which uses our secur32 for TLS).
 *
 * Usage: winhttp_get [--tls13] host port path outfile
 *   --tls13    also allow TLS 1.3 (WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3)
 * The test CA is in no trust store, so certificate errors are ignored through the
 * documented security flags. Prints "status: N" and "bytes: N"; the body goes to outfile.
 * Exit status: 0 on a completed download, 1 on any failure.
 */

#include <stdio.h>
#include <string.h>
#include <windows.h>
#include <winhttp.h>

#ifndef WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3
#define WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3 0x00002000
#endif

static int fail(const char *what)
{
    printf("error: %s: %lu\n", what, GetLastError());
    return 1;
}

static int write_all(HANDLE file, const char *buf, DWORD size)
{
    DWORD written;
    return WriteFile(file, buf, size, &written, NULL) && written == size;
}

static int get_winhttp(const WCHAR *host, int port, const WCHAR *path, BOOL tls13, HANDLE out)
{
    DWORD flags = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_CN_INVALID
                | SECURITY_FLAG_IGNORE_CERT_DATE_INVALID | SECURITY_FLAG_IGNORE_CERT_WRONG_USAGE;
    DWORD protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2 | (tls13 ? WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3 : 0);
    DWORD status = 0, size = sizeof(status), total = 0, avail, got;
    HINTERNET session, connect, request;
    static char buf[65536];

    if (!(session = WinHttpOpen(L"sg-interop", WINHTTP_ACCESS_TYPE_NO_PROXY, NULL, NULL, 0)))
        return fail("WinHttpOpen");
    if (!WinHttpSetOption(session, WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols, sizeof(protocols)))
        return fail("WinHttpSetOption(SECURE_PROTOCOLS)");
    WinHttpSetTimeouts(session, 20000, 20000, 20000, 20000);
    if (!(connect = WinHttpConnect(session, host, port, 0))) return fail("WinHttpConnect");
    if (!(request = WinHttpOpenRequest(connect, L"GET", path, NULL, NULL, NULL, WINHTTP_FLAG_SECURE)))
        return fail("WinHttpOpenRequest");
    if (!WinHttpSetOption(request, WINHTTP_OPTION_SECURITY_FLAGS, &flags, sizeof(flags)))
        return fail("WinHttpSetOption(SECURITY_FLAGS)");
    if (!WinHttpSendRequest(request, NULL, 0, NULL, 0, 0, 0)) return fail("WinHttpSendRequest");
    if (!WinHttpReceiveResponse(request, NULL)) return fail("WinHttpReceiveResponse");
    if (!WinHttpQueryHeaders(request, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER, NULL, &status,
                             &size, NULL))
        return fail("WinHttpQueryHeaders");
    printf("status: %lu\n", status);
    for (;;)
    {
        if (!WinHttpQueryDataAvailable(request, &avail)) return fail("WinHttpQueryDataAvailable");
        if (!avail) break;
        if (avail > sizeof(buf)) avail = sizeof(buf);
        if (!WinHttpReadData(request, buf, avail, &got)) return fail("WinHttpReadData");
        if (!got) break;
        if (!write_all(out, buf, got)) return fail("WriteFile");
        total += got;
    }
    printf("bytes: %lu\n", total);
    WinHttpCloseHandle(request);
    WinHttpCloseHandle(connect);
    WinHttpCloseHandle(session);
    return 0;
}

int wmain(int argc, WCHAR **argv)
{
    BOOL tls13 = FALSE;
    HANDLE out;
    int i = 1, ret;

    for (; i < argc && argv[i][0] == '-'; i++)
    {
        if (!wcscmp(argv[i], L"--tls13")) tls13 = TRUE;
        else break;
    }
    if (argc - i != 4)
    {
        fprintf(stderr, "usage: winhttp_get [--tls13] host port path outfile\n");
        return 2;
    }
    out = CreateFileW(argv[i + 3], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (out == INVALID_HANDLE_VALUE) return fail("CreateFile");
    ret = get_winhttp(argv[i], _wtoi(argv[i + 1]), argv[i + 2], tls13, out);
    CloseHandle(out);
    fflush(stdout);
    return ret;
}
