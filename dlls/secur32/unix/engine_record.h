/*
 * secur32's Unix-side engine: what a context can tell about an established session beyond
 * sg_session_info (session id, channel bindings, exported keying material). Implemented in
 * engine_record.c on top of engine.c's accessors (engine_client.h).
 */

#ifndef SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_RECORD_H
#define SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_RECORD_H

#include "engine.h"

#pragma GCC visibility push(hidden)

/* One SG_QUERY_* answer written to output (*size: bytes needed, written when they fit).
 * SG_QUERY_EXPORTER takes input = label bytes then context bytes (context_size of them, or
 * SG_QUERY_NO_CONTEXT for none) and produces output_capacity bytes. */
enum sg_status engine_session_query(struct engine_session *session, uint32_t what,
                                    const uint8_t *input, size_t input_size, uint32_t context_size,
                                    uint8_t *output, size_t output_capacity, size_t *size,
                                    int *library_error);

#pragma GCC visibility pop

#endif /* SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_RECORD_H */
