/*
 * secur32's Unix-side engine: certificate credentials shared between engine credentials.
 *
 * Every AcquireCredentialsHandle hands the engine its certificate chain and private key
 * again. Credentials made from the same chain and key (and role) share one parsed GnuTLS
 * certificate credential, reference counted; a credential that adds another certificate
 * to a shared one gets its own copy first. Priorities, ticket keys and the session cache
 * stay per engine credential: only the certificates and the key are shared.
 *
 * Plain C99 like engine.h: the GnuTLS credential travels as a void pointer.
 */

#ifndef SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_CERTSHARE_H
#define SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_CERTSHARE_H

#include "engine.h"

#pragma GCC visibility push(hidden)

/* Imports a chain ("LE uint32 length + DER" entries) and a key into a GnuTLS certificate
 * credential (engine.c's importer); GnuTLS error or 0. */
typedef int (*engine_certs_import_fn)(void *certs, const uint8_t *chain, size_t chain_size,
                                      uint32_t key_format, const uint8_t *key, size_t key_size);

/* The certificate credential for role + chain + key (no chain: a credential without a
 * certificate): a reference to an existing one with the same content, or a new one built
 * with import. *certs is NULL on failure. GnuTLS error or 0. */
int engine_certs_acquire(uint32_t role, const uint8_t *chain, size_t chain_size, uint32_t key_format,
                         const uint8_t *key, size_t key_size, engine_certs_import_fn import, void **certs);

/* Adds a chain and key to *certs; when others share *certs, *certs becomes a copy of its
 * own first (left unchanged on failure). GnuTLS error or 0. */
int engine_certs_add(void **certs, const uint8_t *chain, size_t chain_size, uint32_t key_format,
                     const uint8_t *key, size_t key_size, engine_certs_import_fn import);

/* Drops a reference taken by engine_certs_acquire (or a copy made by engine_certs_add);
 * the last one frees the credential, and GnuTLS wipes its key. NULL is ignored. */
void engine_certs_release(void *certs);

#pragma GCC visibility pop

#endif /* SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_CERTSHARE_H */
