/*
 * secur32's Unix-side TLS engine: the internal API between the unix-call table (calls.c)
 * and the GnuTLS implementation (engine.c).
 *
 * Plain C99: no Windows types and no GnuTLS types appear here. Status values and the
 * session description come from the PE<->Unix contract (../unixlib.h). The engine never
 * prints; a failing GnuTLS call is reported through library_error fields.
 *
 * Objects:
 *   struct engine_cred     certificate credentials + protocol priorities; reference counted,
 *                          every session holds a reference.
 *   struct engine_session  one TLS connection. Not thread-safe: one caller at a time
 *                          (as an SSPI context handle).
 *
 * Memory regions are always (pointer, size) pairs owned by the caller; the engine keeps no
 * pointer to them after a call returns.
 */

#ifndef SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_H
#define SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "../unixlib.h"

/* Proposed addition to unixlib.h (not there yet): an EC private key as a LE uint32 TLS
 * NamedGroup id (23 secp256r1, 24 secp384r1, 25 secp521r1) followed by x, y, d, each a
 * LE uint32 length then that many bytes of an unsigned big-endian integer. */
#ifndef SG_KEY_EC_COMPONENTS
#define SG_KEY_EC_COMPONENTS 2
#endif

/* The engine's symbols stay inside secur32.so: only __wine_unix_call_funcs is exported, and
 * no other library in the process can interpose on these names. */
#pragma GCC visibility push(hidden)

struct engine_cred;
struct engine_session;

/* Result of one handshake step (unix_handshake). */
struct engine_step
{
    enum sg_status status;
    size_t consumed;       /* input bytes used (whole records only) */
    size_t output_size;    /* size of the token; > output_capacity means "fetch it" */
    size_t missing;        /* SG_INCOMPLETE: bytes needed to complete the first record */
    uint32_t alert;        /* alert sent or received, SG_ALERT_NONE if none */
    int library_error;     /* GnuTLS error code, 0 if none */
    int alert_received;    /* the alert came from the peer */
};

/* Result of sealing one record (unix_encrypt). */
struct engine_seal
{
    enum sg_status status;
    size_t header_used;
    size_t trailer_used;
    int library_error;
};

/* Result of opening one record (unix_decrypt). */
struct engine_open
{
    enum sg_status status;
    size_t consumed;       /* length of the record processed */
    size_t data_offset;    /* plaintext is at buffer + data_offset */
    size_t data_size;
    size_t missing;        /* SG_INCOMPLETE */
    uint32_t alert;
    int library_error;
    int post_handshake;    /* SG_OK without data: the record held TLS 1.3 post-handshake messages */
    size_t output_pending; /* bytes queued for the peer (KeyUpdate reply, alert): fetch them */
};

/* Initialises GnuTLS once per process; returns SG_UNIXLIB_VERSION, 0 on failure. */
uint32_t engine_process_attach(void);
/* Releases GnuTLS's global state; for test programs only. */
void engine_process_detach(void);

/* Creates a credential. role is SG_CRED_CLIENT or SG_CRED_SERVER; protocols an SG_PROTO_*
 * mask; chain is "LE uint32 length + DER" entries, leaf first; key is in key_format.
 * A server credential needs a chain and a key (SG_ERR_NO_CREDENTIALS otherwise).
 * The engine copies what it needs: chain and key may be wiped once this returns. */
enum sg_status engine_cred_create(uint32_t role, uint32_t protocols,
                                  const uint8_t *chain, size_t chain_size,
                                  uint32_t key_format, const uint8_t *key, size_t key_size,
                                  struct engine_cred **cred, int *library_error);
/* Drops the caller's reference; sessions keep their own. */
void engine_cred_release(struct engine_cred *cred);
/* Returns the credential for a handle value, NULL if it does not look like one. */
struct engine_cred *engine_cred_from_handle(uint64_t handle);

/* Creates a session on cred. server_name (UTF-8, not NUL-terminated, may be NULL) is sent
 * as SNI by a client unless it is an IP address literal. */
enum sg_status engine_session_create(struct engine_cred *cred, int server,
                                     const char *server_name, size_t server_name_size,
                                     struct engine_session **session, int *library_error);
void engine_session_free(struct engine_session *session);
struct engine_session *engine_session_from_handle(uint64_t handle);

/* One handshake step: reads whole records from input, produces a token. If the token does
 * not fit into output_capacity nothing is written and it stays pending for
 * engine_fetch_output; a pending token is prepended to the next step's token. */
void engine_handshake(struct engine_session *session, const uint8_t *input, size_t input_size,
                      uint8_t *output, size_t output_capacity, struct engine_step *step);

/* Copies the pending token (if any) into output and drops it. SG_ERR_BUFFER_TOO_SMALL with
 * *output_size set to the pending size if it does not fit. */
enum sg_status engine_fetch_output(struct engine_session *session, uint8_t *output,
                                   size_t output_capacity, size_t *output_size);

/* Hands over pending output like a handshake step does: copied if it fits, otherwise only
 * its size is reported and it stays pending for engine_fetch_output. */
void engine_take_output(struct engine_session *session, uint8_t *output, size_t output_capacity,
                        size_t *output_size);

/* Describes the negotiated session; SG_ERR_INVALID_PARAMETER before the handshake is done. */
enum sg_status engine_session_info(struct engine_session *session, struct sg_session_info *info);

/* Seals data (data_size <= info.max_message) into one record spread over header, data
 * (overwritten in place) and trailer. header/trailer capacities must be at least
 * info.header_size / info.trailer_size. */
void engine_encrypt(struct engine_session *session, uint8_t *header, size_t header_capacity,
                    uint8_t *data, size_t data_size, uint8_t *trailer, size_t trailer_capacity,
                    struct engine_seal *seal);

/* Opens the first record of buffer in place. */
void engine_decrypt(struct engine_session *session, uint8_t *buffer, size_t size,
                    struct engine_open *open);

/* The peer's chain as "LE uint32 length + DER" entries, leaf first. *size is the bytes
 * needed (written when capacity suffices); *count the number of certificates. */
enum sg_status engine_peer_certs(struct engine_session *session, uint8_t *buffer, size_t capacity,
                                 size_t *size, uint32_t *count);

/* Queues a close_notify alert as pending output (fetch it with engine_fetch_output).
 * Not reachable through unixlib.h yet. */
enum sg_status engine_shutdown(struct engine_session *session, int *library_error);

/* Queues a TLS alert (level 1 warning, 2 fatal) as pending output; a fatal one ends the
 * session (later calls fail with SG_ERR_ILLEGAL_MESSAGE). */
enum sg_status engine_send_alert(struct engine_session *session, uint32_t level, uint32_t description,
                                 int *library_error);

#pragma GCC visibility pop

#endif /* SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_H */
