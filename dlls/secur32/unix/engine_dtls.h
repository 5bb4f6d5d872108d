/*
 * secur32's Unix-side engine: DTLS 1.0 / 1.2 sessions (ISC_REQ_DATAGRAM / ASC_REQ_DATAGRAM
 * contexts). A DTLS session is an engine_session created in GnuTLS's datagram mode whose
 * transport engine_dtls.c replaces: input is one datagram per call, output is queued as
 * whole records and handed out one datagram (at most the path MTU) per call.
 *
 * Plain C99 like engine.h.
 */

#ifndef SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_DTLS_H
#define SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_DTLS_H

#include "engine.h"

#pragma GCC visibility push(hidden)

struct engine_dtls;

/* engine.c: accessors for engine_dtls.c. */
enum sg_status engine_session_create_datagram(struct engine_cred *cred, int server,
                                              const char *server_name, size_t server_name_size,
                                              struct engine_session **session, int *library_error);
struct engine_dtls **engine_session_dtls(struct engine_session *session);
/* Marks the handshake done and describes the session; the description may then be adjusted. */
struct sg_session_info *engine_session_complete(struct engine_session *session);

/* engine_dtls.c */

struct engine_dtls_step
{
    enum sg_status status;
    size_t consumed;
    size_t output_size;
    int more;              /* further datagrams are queued */
    uint32_t alert;
    int library_error;
};

enum sg_status engine_dtls_session_create(struct engine_cred *cred, int server, const char *server_name,
                                          size_t server_name_size, uint32_t protocols, uint32_t mtu,
                                          struct engine_session **session, int *library_error);
void engine_dtls_free(struct engine_dtls *dtls);
int engine_session_is_datagram(struct engine_session *session);

/* One handshake step. input is one datagram (NULL/0: the caller's retransmission timer fired);
 * client_id identifies the client for the server's cookie. output receives one datagram. */
void engine_dtls_handshake(struct engine_session *session, const uint8_t *input, size_t input_size,
                           const uint8_t *client_id, size_t client_id_size,
                           uint8_t *output, size_t output_capacity, struct engine_dtls_step *step);

void engine_dtls_encrypt(struct engine_session *session, uint8_t *header, size_t header_capacity,
                         uint8_t *data, size_t data_size, uint8_t *trailer, size_t trailer_capacity,
                         struct engine_seal *seal);
/* Opens the first record of a datagram in place; flags get SG_DECRYPT_DTLS_*. */
void engine_dtls_decrypt(struct engine_session *session, uint8_t *buffer, size_t size,
                         struct engine_open *open, uint32_t *flags);

/* SG_DTLS_* operations of unix_dtls_control. */
enum sg_status engine_dtls_control(struct engine_session *session, uint32_t what, uint32_t *value,
                                   uint8_t *output, size_t output_capacity, size_t *output_size,
                                   int *more, int *library_error);

#pragma GCC visibility pop

#endif /* SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_DTLS_H */
