/*
 * secur32's Unix-side engine: client features that live outside engine.c (algorithm
 * restrictions of a credential, ALPN, session resumption data), and the few accessors of
 * engine.c's private objects they need.
 *
 * Plain C99 like engine.h: GnuTLS objects travel as void pointers here.
 */

#ifndef SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_CLIENT_H
#define SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_CLIENT_H

#include "engine.h"

#pragma GCC visibility push(hidden)

/* engine.c: accessors. */
void *engine_session_gnutls(struct engine_session *session);   /* gnutls_session_t */
int engine_session_is_server(const struct engine_session *session);
int engine_session_handshake_done(const struct engine_session *session);
/* Replaces the credential's priority cache (sessions created later use it); GnuTLS error or 0. */
int engine_cred_replace_priority(struct engine_cred *cred, const char *priority);

/* engine_client.c */

/* Restricts a new credential to protocols (SG_PROTO_*) without the SG_ALG_* groups in
 * disabled. Call before any session is created on it. */
enum sg_status engine_cred_restrict(struct engine_cred *cred, uint32_t protocols, uint32_t disabled,
                                    int *library_error);

/* Client: offers the ALPN ids in list (TLS wire form: length byte + id, repeated). */
enum sg_status engine_session_set_alpn(struct engine_session *session, const uint8_t *list, size_t size);

/* The ALPN id the server selected: *size is its length (0 for none), copied when it fits. */
enum sg_status engine_session_get_alpn(struct engine_session *session, uint8_t *buffer, size_t capacity,
                                       size_t *size);

/* Client, after the handshake: resumption data (*size 0 when there is none yet) and the
 * TLS session id (at most 32 bytes). */
enum sg_status engine_session_get_resume(struct engine_session *session, uint8_t *buffer, size_t capacity,
                                         size_t *size, uint8_t *session_id, size_t *session_id_size);

/* Client, before the first handshake step: resume from data. */
enum sg_status engine_session_set_resume(struct engine_session *session, const uint8_t *data, size_t size);

#pragma GCC visibility pop

#endif /* SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_CLIENT_H */
