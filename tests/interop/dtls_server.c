/*
 * dtls_server: a Windows DTLS server on a Winsock UDP socket and Schannel (ASC_REQ_DATAGRAM),
 * for tests/interop/dtls_matrix.sh. It serves one client: the first datagram creates the
 * context (the client's address goes to ASC as SECBUFFER_EXTRA, for the HelloVerifyRequest
 * cookie), the socket is then connected to that client, the handshake completes (retransmitting
 * on the program's own timer), and the first line of application data is echoed back as
 * "echo: LINE" before close_notify.
 *
 * Usage: dtls_server --pfx FILE [--dtls10|--dtls12] [--mtu N] [--srtp] port
 *   FILE: PKCS #12 with the certificate and key, password "test"; binds 127.0.0.1:port;
 *   --srtp offers DTLS-SRTP and prints the profile and 60 bytes of EXTRACTOR-dtls_srtp keys
 * Output: "listening PORT", "protocol: DTLS 1.2 (...)", "received: LINE", "closed".
 * On failure "error: WHAT: 0xXXXXXXXX" and exit status 3 (SSPI), 2 (socket), 1 (usage/setup).
 */

#include "dtls_common.h"

static const CERT_CONTEXT *import_pfx(const char *path)
{
    const CERT_CONTEXT *cert = NULL;
    CRYPT_DATA_BLOB blob;
    HCERTSTORE store;
    DWORD size;
    FILE *f;
    long len;

    if (!(f = fopen(path, "rb"))) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    blob.cbData = len > 0 ? len : 0;
    blob.pbData = malloc(blob.cbData ? blob.cbData : 1);
    if (!blob.pbData || fread(blob.pbData, 1, blob.cbData, f) != blob.cbData)
    {
        fclose(f);
        return NULL;
    }
    fclose(f);
    store = PFXImportCertStore(&blob, L"test", CRYPT_EXPORTABLE | CRYPT_USER_KEYSET);
    free(blob.pbData);
    if (!store) return NULL;
    while ((cert = CertEnumCertificatesInStore(store, cert)))
    {
        size = 0;
        if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size))
            return CertDuplicateCertificateContext(cert);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static BYTE first[DGRAM_MAX];
    struct endpoint e;
    struct sockaddr_in addr;
    SCHANNEL_CRED cred;
    SECURITY_STATUS status;
    const CERT_CONTEXT *cert;
    const char *pfx = NULL;
    DWORD protocols = SP_PROT_DTLS1_0_SERVER | SP_PROT_DTLS1_2_SERVER;
    char text[2048], reply[2100];
    SOCKADDR_STORAGE from;
    int from_len = sizeof(from), i, n;
    WSADATA wsa;

    memset(&e, 0, sizeof(e));
    e.server = TRUE;
    for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
        if (!strcmp(argv[i], "--dtls10")) protocols = SP_PROT_DTLS1_0_SERVER;
        else if (!strcmp(argv[i], "--dtls12")) protocols = SP_PROT_DTLS1_2_SERVER;
        else if (!strcmp(argv[i], "--mtu") && i + 1 < argc) e.mtu = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--srtp")) e.srtp = TRUE;
        else if (!strcmp(argv[i], "--pfx") && i + 1 < argc) pfx = argv[++i];
        else break;
    }
    if (argc - i != 1 || !pfx)
    {
        printf("usage: dtls_server --pfx FILE [--dtls10|--dtls12] [--mtu N] [--srtp] port\n");
        return 1;
    }
    if (!(cert = import_pfx(pfx)))
    {
        printf("error: cannot import %s: %lu\n", pfx, GetLastError());
        return 1;
    }

    memset(&cred, 0, sizeof(cred));
    cred.dwVersion = SCHANNEL_CRED_VERSION;
    cred.grbitEnabledProtocols = protocols;
    cred.cCreds = 1;
    cred.paCred = &cert;
    cred.dwFlags = SCH_CRED_NO_SYSTEM_MAPPER;
    status = AcquireCredentialsHandleA(NULL, (char *)UNISP_NAME_A, SECPKG_CRED_INBOUND, NULL, &cred, NULL, NULL,
                                       &e.cred, NULL);
    if (status) return fail("AcquireCredentialsHandle", status);

    if (WSAStartup(MAKEWORD(2, 2), &wsa)) return 2;
    e.s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[i]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (e.s == INVALID_SOCKET || bind(e.s, (struct sockaddr *)&addr, sizeof(addr)))
        return fail("bind", WSAGetLastError()), 2;
    printf("listening %s\n", argv[i]);
    fflush(stdout);

    /* The first datagram: from now on only that client. */
    n = recvfrom(e.s, (char *)first, sizeof(first), 0, (struct sockaddr *)&from, &from_len);
    if (n <= 0) return fail("recvfrom", WSAGetLastError()), 2;
    if (connect(e.s, (struct sockaddr *)&from, from_len)) return fail("connect", WSAGetLastError()), 2;
    memcpy(e.peer_addr, &from, from_len);
    e.peer_addr_len = from_len;

    if ((status = handshake(&e, first, n))) return fail("AcceptSecurityContext", status);
    print_session(&e);

    n = receive_text(&e, text, sizeof(text));
    if (n < 0) return 3;
    if (!n)
    {
        printf("peer closed\n");
        return 0;
    }
    chomp(text);
    printf("received: %s\n", text);
    fflush(stdout);
    snprintf(reply, sizeof(reply), "echo: %s\n", text);
    if ((status = seal_and_send(&e, reply))) return fail("EncryptMessage", status);
    if ((status = shutdown_session(&e))) return fail("close_notify", status);
    printf("closed\n");
    DeleteSecurityContext(&e.ctx);
    FreeCredentialsHandle(&e.cred);
    CertFreeCertificateContext(cert);
    closesocket(e.s);
    WSACleanup();
    return 0;
}
