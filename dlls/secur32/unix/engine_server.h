/*
 * secur32's Unix-side engine: server features that live outside engine.c (more than one
 * certificate per credential, the server's resumption cache and tickets, client
 * certificate requests, server ALPN), and the accessors of engine.c's private objects
 * they need.
 *
 * Plain C99 like engine.h: GnuTLS objects travel as void pointers here.
 */

#ifndef SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_SERVER_H
#define SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_SERVER_H

#include "engine.h"
#include "engine_client.h"  /* engine_session_gnutls, engine_session_handshake_done */

#pragma GCC visibility push(hidden)

struct engine_server_ext;

/* engine.c: accessors for engine_server.c. */
uint32_t engine_cred_role(const struct engine_cred *cred);
struct engine_server_ext **engine_cred_server_ext(struct engine_cred *cred);
/* Imports one more certificate chain and key into a credential (as engine_cred_create does
 * for the first); GnuTLS error or 0. */
int engine_cred_import(struct engine_cred *cred, const uint8_t *chain, size_t chain_size,
                       uint32_t key_format, const uint8_t *key, size_t key_size);

/* engine_server.c */

/* Adds another certificate chain and key to a server credential; GnuTLS then picks the
 * certificate by the client's server name and by the key types it can use. */
enum sg_status engine_cred_add_cert(struct engine_cred *cred, const uint8_t *chain, size_t chain_size,
                                    uint32_t key_format, const uint8_t *key, size_t key_size,
                                    int *library_error);

/* Server-wide options (SG_CRED_SERVER_* flags); call before any session is created. */
enum sg_status engine_cred_set_server(struct engine_cred *cred, uint32_t flags);

/* Called by engine_session_create for every server session: resumption (session cache and
 * tickets) unless the credential disabled it. ticket_key is the credential's master key
 * (a gnutls_datum_t). GnuTLS error or 0. */
int engine_server_session_setup(struct engine_server_ext *ext, void *tls, const void *ticket_key);

/* Releases the credential's server state; cached sessions are wiped. */
void engine_server_ext_free(struct engine_server_ext *ext);

/* Per-connection options (SG_SESSION_SERVER_* flags, ALPN ids in TLS wire form), before
 * the first handshake step. */
enum sg_status engine_session_set_server(struct engine_session *session, uint32_t flags,
                                         const uint8_t *alpn, size_t alpn_size);

/* engine.c: the next engine_handshake steps run a new handshake (reauth: gnutls_reauth). */
void engine_session_begin_renegotiation(struct engine_session *session, int reauth);

/* A server asks the client for a new handshake (TLS 1.2) or post-handshake authentication
 * (TLS 1.3); the request is queued as pending output. */
enum sg_status engine_server_renegotiate(struct engine_session *session, uint32_t flags, int *library_error);

#pragma GCC visibility pop

#endif /* SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_SERVER_H */
