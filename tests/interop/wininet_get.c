/*
 * A GET over HTTPS through Wine's own wininet.dll (which uses our secur32 for TLS).
 *
 * Usage: wininet_get host port path outfile
 * The test CA is in no trust store, so certificate errors are ignored through the
 * documented security flags. Prints "status: N" and "bytes: N"; the body goes to outfile.
 * Exit status: 0 on a completed download, 1 on any failure.
 */

#include <stdio.h>
#include <string.h>
#include <windows.h>
#include <wininet.h>


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

static int get_wininet(const WCHAR *host, int port, const WCHAR *path, HANDLE out)
{
    DWORD flags = INTERNET_FLAG_SECURE | INTERNET_FLAG_RELOAD | INTERNET_FLAG_NO_CACHE_WRITE
                | INTERNET_FLAG_IGNORE_CERT_CN_INVALID | INTERNET_FLAG_IGNORE_CERT_DATE_INVALID;
    DWORD sec = SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_CERT_CN_INVALID
              | SECURITY_FLAG_IGNORE_CERT_DATE_INVALID | SECURITY_FLAG_IGNORE_REVOCATION;
    DWORD status = 0, size = sizeof(status), total = 0, got;
    HINTERNET inet, connect, request;
    static char buf[65536];

    if (!(inet = InternetOpenW(L"sg-interop", INTERNET_OPEN_TYPE_DIRECT, NULL, NULL, 0)))
        return fail("InternetOpen");
    if (!(connect = InternetConnectW(inet, host, port, NULL, NULL, INTERNET_SERVICE_HTTP, 0, 0)))
        return fail("InternetConnect");
    if (!(request = HttpOpenRequestW(connect, L"GET", path, NULL, NULL, NULL, flags, 0)))
        return fail("HttpOpenRequest");
    if (!InternetSetOptionW(request, INTERNET_OPTION_SECURITY_FLAGS, &sec, sizeof(sec)))
        return fail("InternetSetOption(SECURITY_FLAGS)");
    if (!HttpSendRequestW(request, NULL, 0, NULL, 0)) return fail("HttpSendRequest");
    if (!HttpQueryInfoW(request, HTTP_QUERY_STATUS_CODE | HTTP_QUERY_FLAG_NUMBER, &status, &size, NULL))
        return fail("HttpQueryInfo");
    printf("status: %lu\n", status);
    for (;;)
    {
        if (!InternetReadFile(request, buf, sizeof(buf), &got)) return fail("InternetReadFile");
        if (!got) break;
        if (!write_all(out, buf, got)) return fail("WriteFile");
        total += got;
    }
    printf("bytes: %lu\n", total);
    InternetCloseHandle(request);
    InternetCloseHandle(connect);
    InternetCloseHandle(inet);
    return 0;
}

int wmain(int argc, WCHAR **argv)
{
    HANDLE out;
    int i = 1, ret;

    if (argc - i != 4)
    {
        fprintf(stderr, "usage: wininet_get host port path outfile\n");
        return 2;
    }
    out = CreateFileW(argv[i + 3], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    if (out == INVALID_HANDLE_VALUE) return fail("CreateFile");
    ret = get_wininet(argv[i], _wtoi(argv[i + 1]), argv[i + 2], out);
    CloseHandle(out);
    fflush(stdout);
    return ret;
}
