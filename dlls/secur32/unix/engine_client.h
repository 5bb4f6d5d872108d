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
/* Lets the next engine_handshake run a new handshake on an established session. */
void engine_session_allow_rehandshake(struct engine_session *session);
struct engine_client_cert;
struct engine_client_cert **engine_session_client_cert(struct engine_session *session);
void *engine_cred_gnutls_certs(struct engine_cred *cred);    /* gnutls_certificate_credentials_t */
void engine_cred_addref(struct engine_cred *cred);
/* Replaces the credential's priority cache (sessions created later use it); GnuTLS error or 0. */
int engine_cred_replace_priority(struct engine_cred *cred, const char *priority);

/* engine_client.c */

/* Key exchange groups in Windows' default order (Microsoft's "TLS Elliptic Curves in Windows
 * 10 1607 and later": curve25519, NistP256, NistP384), GnuTLS's other groups after them. A
 * suffix for every credential's priority string, before any removal. */
#define ENGINE_GROUP_ORDER ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1" \
    ":+GROUP-SECP521R1:+GROUP-X448:+GROUP-FFDHE2048:+GROUP-FFDHE3072:+GROUP-FFDHE4096" \
    ":+GROUP-FFDHE6144:+GROUP-FFDHE8192"

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
/* 0 when the established session's resumption data is what the client offered: a resumed
 * TLS 1.0-1.2 session that brought no new ticket. */
int engine_session_resume_changed(struct engine_session *session);

/* Client, established TLS 1.0-1.2 session: the next handshake step starts a renegotiation
 * (a ClientHello under the current keys). SG_ERR_INVALID_PARAMETER otherwise. */
enum sg_status engine_client_renegotiate(struct engine_session *session);

/* engine_clientcert.c: the server's CertificateRequest on the client side. */

/* SG_CLIENT_CERT_ASK: pause the handshake (SG_CREDENTIALS_NEEDED) when the server asks for
 * a certificate. SG_CLIENT_CERT_ANSWER: answer with answer_cred's certificate (NULL: none). */
enum sg_status engine_client_cert_set(struct engine_session *session, uint32_t mode, struct engine_cred *answer_cred);

/* A client handshake step that watches for the server's CertificateRequest (see
 * engine_handshake for the rest). */
void engine_client_handshake(struct engine_session *session, const uint8_t *input, size_t input_size,
                             uint8_t *output, size_t output_capacity, struct engine_step *step);

/* The certificate authorities the server named: LE uint32 length + DER name, each. */
enum sg_status engine_client_cert_request(struct engine_session *session, uint8_t *buffer, size_t capacity,
                                          size_t *size, uint32_t *count, uint32_t *requested);

void engine_client_cert_free(struct engine_client_cert *cc);

#pragma GCC visibility pop

#endif /* SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_CLIENT_H */
