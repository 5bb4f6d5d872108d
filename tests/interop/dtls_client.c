/*
 * dtls_client: a Windows DTLS client on a Winsock UDP socket and Schannel (ISC_REQ_DATAGRAM),
 * for tests/interop/dtls_matrix.sh. It completes the handshake (retransmitting on its own timer,
 * as Windows callers do), prints what Schannel reports, sends one line of application data,
 * waits for one datagram of data back (an echo, or what the server's operator typed), prints
 * it and closes with close_notify.
 *
 * Usage: dtls_client [--dtls10|--dtls12] [--mtu N] [--srtp] [--message TEXT] host port
 *   default protocols: DTLS 1.0 and 1.2; --mtu sets SECBUFFER_DTLS_MTU (default: Schannel's 1096);
 *   --srtp offers DTLS-SRTP and prints the profile and 60 bytes of EXTRACTOR-dtls_srtp keys
 * Output: "protocol: DTLS 1.2 (...)", "peer: localhost", "sent: TEXT", "received: TEXT",
 * "closed". On failure "error: WHAT: 0xXXXXXXXX" and exit status 3 (SSPI), 2 (socket), 1 (usage).
 * The server's certificate is not validated here (SCH_CRED_MANUAL_CRED_VALIDATION); its name
 * is printed for the script to check.
 */

#include "dtls_common.h"

int main(int argc, char **argv)
{
    struct endpoint e;
    struct addrinfo hints, *res;
    SCHANNEL_CRED cred;
    SECURITY_STATUS status;
    const char *message = "hello from schannel dtls";
    DWORD protocols = SP_PROT_DTLS1_0_CLIENT | SP_PROT_DTLS1_2_CLIENT;
    char text[2048];
    WSADATA wsa;
    int i, n;

    memset(&e, 0, sizeof(e));
    for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
        if (!strcmp(argv[i], "--dtls10")) protocols = SP_PROT_DTLS1_0_CLIENT;
        else if (!strcmp(argv[i], "--dtls12")) protocols = SP_PROT_DTLS1_2_CLIENT;
        else if (!strcmp(argv[i], "--mtu") && i + 1 < argc) e.mtu = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--srtp")) e.srtp = TRUE;
        else if (!strcmp(argv[i], "--message") && i + 1 < argc) message = argv[++i];
        else break;
    }
    if (argc - i != 2)
    {
        printf("usage: dtls_client [--dtls10|--dtls12] [--mtu N] [--srtp] [--message TEXT] host port\n");
        return 1;
    }
    e.target = "localhost";

    if (WSAStartup(MAKEWORD(2, 2), &wsa)) return 2;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(argv[i], argv[i + 1], &hints, &res)) return fail("getaddrinfo", WSAGetLastError()), 2;
    e.s = socket(res->ai_family, SOCK_DGRAM, IPPROTO_UDP);
    if (e.s == INVALID_SOCKET || connect(e.s, res->ai_addr, (int)res->ai_addrlen))
        return fail("connect", WSAGetLastError()), 2;
    freeaddrinfo(res);

    memset(&cred, 0, sizeof(cred));
    cred.dwVersion = SCHANNEL_CRED_VERSION;
    cred.grbitEnabledProtocols = protocols;
    cred.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    status = AcquireCredentialsHandleA(NULL, (char *)UNISP_NAME_A, SECPKG_CRED_OUTBOUND, NULL, &cred, NULL, NULL,
                                       &e.cred, NULL);
    if (status) return fail("AcquireCredentialsHandle", status);

    if ((status = handshake(&e, NULL, 0))) return fail("InitializeSecurityContext", status);
    print_session(&e);

    if ((status = seal_and_send(&e, message))) return fail("EncryptMessage", status);
    printf("sent: %s\n", message);
    fflush(stdout);
    n = receive_text(&e, text, sizeof(text));
    if (n < 0) return 3;
    if (!n)
    {
        printf("peer closed\n");
        return 0;
    }
    chomp(text);
    printf("received: %s\n", text);
    if ((status = shutdown_session(&e))) return fail("close_notify", status);
    printf("closed\n");
    DeleteSecurityContext(&e.ctx);
    FreeCredentialsHandle(&e.cred);
    closesocket(e.s);
    WSACleanup();
    return 0;
}
