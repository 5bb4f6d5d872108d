/*
 * A one-connection HTTPS test server (native, GnuTLS) that sends post-handshake messages in
 * the middle of a response, for tests/interop/record_matrix.sh.
 *
 * Usage: post_handshake_server PORT CERT KEY MODE BODY_SIZE EXPECTED_FILE
 *   MODE  reneg     TLS 1.2; a HelloRequest after half of the body, then the new handshake
 *         keyupdate TLS 1.3; three NewSessionTickets and a KeyUpdate asking for one back
 *                   after half of the body
 *         plain     TLS 1.2 or 1.3, nothing in between
 * It listens on 127.0.0.1:PORT, answers one GET with "HTTP/1.0 200 OK" and BODY_SIZE bytes of
 * numbered text lines (also written to EXPECTED_FILE), sends close_notify, then reads until the
 * client's close_notify, which proves that it still decrypts what the client sends (with the
 * keys the KeyUpdate reply switched to); in keyupdate mode the client's KeyUpdate reply must
 * have arrived. Exit status 0 when all of that worked.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

static unsigned int key_updates_received;

/* Counts the client's KeyUpdate messages (its reply to ours). */
static int hook(gnutls_session_t tls, unsigned int htype, unsigned int when, unsigned int incoming,
                const gnutls_datum_t *msg)
{
    (void)tls; (void)when; (void)msg;
    if (incoming && htype == GNUTLS_HANDSHAKE_KEY_UPDATE) key_updates_received++;
    return 0;
}

static int die(const char *what, int err)
{
    fprintf(stderr, "post_handshake_server: %s: %s\n", what, err ? gnutls_strerror(err) : "failed");
    return 1;
}

static void body_line(char *line, unsigned long n)
{
    int i, len = snprintf(line, 64, "%010lu ", n);
    for (i = len; i < 63; i++) line[i] = 'a' + (n + i) % 26;
    line[63] = '\n';
}

static int send_all(gnutls_session_t tls, const char *data, size_t size)
{
    while (size)
    {
        ssize_t ret = gnutls_record_send(tls, data, size);
        if (ret < 0)
        {
            if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) continue;
            return (int)ret;
        }
        data += ret;
        size -= ret;
    }
    return 0;
}

static int do_handshake(gnutls_session_t tls)
{
    int ret;
    do ret = gnutls_handshake(tls);
    while (ret < 0 && !gnutls_error_is_fatal(ret));
    return ret;
}

int main(int argc, char **argv)
{
    gnutls_certificate_credentials_t creds;
    gnutls_datum_t ticket_key;
    gnutls_session_t tls;
    struct sockaddr_in addr;
    const char *mode;
    unsigned long size, sent = 0, n = 0;
    char req[4096], *body;
    size_t req_len = 0;
    FILE *expected;
    int lsock, sock, ret, one = 1, mid_done = 0;

    if (argc != 7) return die("usage: PORT CERT KEY MODE BODY_SIZE EXPECTED_FILE", 0);
    mode = argv[4];
    size = strtoul(argv[5], NULL, 10);
    if (strcmp(mode, "reneg") && strcmp(mode, "keyupdate") && strcmp(mode, "plain")) return die("mode", 0);

    /* The body: numbered 64-byte lines, cut to size. */
    if (!(body = malloc(size + 64))) return die("malloc", 0);
    for (n = 0; n * 64 < size; n++) body_line(body + n * 64, n);
    if (!(expected = fopen(argv[6], "wb")) || fwrite(body, 1, size, expected) != size || fclose(expected))
        return die("writing the expected body", 0);

    gnutls_global_init();
    if ((ret = gnutls_certificate_allocate_credentials(&creds)) < 0) return die("credentials", ret);
    if ((ret = gnutls_certificate_set_x509_key_file(creds, argv[2], argv[3], GNUTLS_X509_FMT_PEM)) < 0)
        return die("certificate", ret);
    if ((ret = gnutls_session_ticket_key_generate(&ticket_key)) < 0) return die("ticket key", ret);

    lsock = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lsock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) || listen(lsock, 1)) return die("bind/listen", 0);
    if ((sock = accept(lsock, NULL, NULL)) < 0) return die("accept", 0);
    close(lsock);

    if ((ret = gnutls_init(&tls, GNUTLS_SERVER)) < 0) return die("init", ret);
    ret = gnutls_priority_set_direct(tls, !strcmp(mode, "reneg") ? "NORMAL:-VERS-ALL:+VERS-TLS1.2"
                                     : !strcmp(mode, "keyupdate") ? "NORMAL:-VERS-ALL:+VERS-TLS1.3" : "NORMAL",
                                     NULL);
    if (ret < 0) return die("priority", ret);
    gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, creds);
    gnutls_session_ticket_enable_server(tls, &ticket_key);
    gnutls_transport_set_int(tls, sock);
    gnutls_handshake_set_hook_function(tls, GNUTLS_HANDSHAKE_KEY_UPDATE, GNUTLS_HOOK_POST, hook);
    if ((ret = do_handshake(tls)) < 0) return die("handshake", ret);
    fprintf(stderr, "post_handshake_server: %s\n", gnutls_protocol_get_name(gnutls_protocol_get_version(tls)));

    while (req_len < sizeof(req) - 1 && !strstr(req, "\r\n\r\n"))
    {
        ssize_t got = gnutls_record_recv(tls, req + req_len, sizeof(req) - 1 - req_len);
        if (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED) continue;
        if (got <= 0) return die("reading the request", (int)got);
        req_len += got;
        req[req_len] = 0;
    }

    snprintf(req, sizeof(req), "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %lu\r\n\r\n", size);
    if ((ret = send_all(tls, req, strlen(req))) < 0) return die("sending the header", ret);
    while (sent < size)
    {
        unsigned long chunk = size - sent < 10000 ? size - sent : 10000;
        if ((ret = send_all(tls, body + sent, chunk)) < 0) return die("sending the body", ret);
        sent += chunk;
        if (mid_done || sent < size / 2) continue;
        mid_done = 1;
        if (!strcmp(mode, "reneg"))
        {
            if ((ret = gnutls_rehandshake(tls)) < 0) return die("HelloRequest", ret);
            if ((ret = do_handshake(tls)) < 0) return die("renegotiation", ret);
            fprintf(stderr, "post_handshake_server: renegotiated after %lu bytes\n", sent);
        }
        else if (!strcmp(mode, "keyupdate"))
        {
            if ((ret = gnutls_session_ticket_send(tls, 3, 0)) < 0) return die("tickets", ret);
            if ((ret = gnutls_session_key_update(tls, GNUTLS_KU_PEER)) < 0) return die("KeyUpdate", ret);
            fprintf(stderr, "post_handshake_server: 3 tickets and a KeyUpdate after %lu bytes\n", sent);
        }
    }
    if ((ret = gnutls_bye(tls, GNUTLS_SHUT_WR)) < 0) return die("close_notify", ret);
    for (;;)
    {
        ssize_t got = gnutls_record_recv(tls, req, sizeof(req));
        if (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED) continue;
        if (got == 0) break;
        if (got < 0) return die("waiting for the client's close_notify", (int)got);
    }
    fprintf(stderr, "post_handshake_server: client closed cleanly, %u KeyUpdate(s) from it\n", key_updates_received);
    if (!strcmp(mode, "keyupdate") && !key_updates_received) return die("the client never answered the KeyUpdate", 0);
    gnutls_deinit(tls);
    close(sock);
    return 0;
}
