/*
 * secur32's Unix-side engine: session queries for QueryContextAttributes (session id,
 * tls-unique channel binding, RFC 5705 keying material exporter).
 */

#include <string.h>

#include <gnutls/gnutls.h>

#include "engine_client.h"
#include "engine_record.h"

static enum sg_status copy_out(const void *data, size_t data_size, uint8_t *output, size_t capacity, size_t *size)
{
    *size = data_size;
    if (data_size > capacity) return SG_ERR_BUFFER_TOO_SMALL;
    if (data_size) memcpy(output, data, data_size);
    return SG_OK;
}

static enum sg_status query_session_id(gnutls_session_t tls, uint8_t *output, size_t capacity, size_t *size,
                                       int *library_error)
{
    uint8_t id[GNUTLS_MAX_SESSION_ID_SIZE];
    size_t id_size = sizeof(id);
    int ret;

    if ((ret = gnutls_session_get_id(tls, id, &id_size)) < 0)
    {
        *library_error = ret;
        id_size = 0;
    }
    return copy_out(id, id_size, output, capacity, size);
}

static enum sg_status query_tls_unique(gnutls_session_t tls, uint8_t *output, size_t capacity, size_t *size,
                                       int *library_error)
{
    gnutls_datum_t cb = { NULL, 0 };
    enum sg_status status;
    int ret;

    /* RFC 5929 tls-unique does not exist in TLS 1.3 (RFC 8446 section C.5). */
    if (gnutls_protocol_get_version(tls) == GNUTLS_TLS1_3) return SG_ERR_INVALID_PARAMETER;
    if ((ret = gnutls_session_channel_binding(tls, GNUTLS_CB_TLS_UNIQUE, &cb)) < 0)
    {
        *library_error = ret;
        return SG_ERR_INVALID_PARAMETER;
    }
    status = copy_out(cb.data, cb.size, output, capacity, size);
    gnutls_free(cb.data);
    return status;
}

static enum sg_status query_exporter(gnutls_session_t tls, const uint8_t *input, size_t input_size,
                                     uint32_t context_size, uint8_t *output, size_t capacity, size_t *size,
                                     int *library_error)
{
    size_t label_size = context_size == SG_QUERY_NO_CONTEXT ? input_size : input_size - context_size;
    int ret;

    if (context_size != SG_QUERY_NO_CONTEXT && context_size > input_size) return SG_ERR_INVALID_PARAMETER;
    if (!label_size || !capacity) return SG_ERR_INVALID_PARAMETER;
    *size = capacity;
    ret = gnutls_prf_rfc5705(tls, label_size, (const char *)input,
                             context_size == SG_QUERY_NO_CONTEXT ? 0 : context_size,
                             context_size == SG_QUERY_NO_CONTEXT ? NULL : (const char *)input + label_size,
                             capacity, (char *)output);
    if (ret < 0)
    {
        *library_error = ret;
        *size = 0;
        return SG_ERR_INTERNAL;
    }
    return SG_OK;
}

enum sg_status engine_session_query(struct engine_session *session, uint32_t what,
                                    const uint8_t *input, size_t input_size, uint32_t context_size,
                                    uint8_t *output, size_t output_capacity, size_t *size,
                                    int *library_error)
{
    gnutls_session_t tls = engine_session_gnutls(session);

    *size = 0;
    *library_error = 0;
    if (!engine_session_handshake_done(session)) return SG_ERR_INVALID_PARAMETER;
    switch (what)
    {
    case SG_QUERY_SESSION_ID:
        return query_session_id(tls, output, output_capacity, size, library_error);
    case SG_QUERY_TLS_UNIQUE:
        return query_tls_unique(tls, output, output_capacity, size, library_error);
    case SG_QUERY_EXPORTER:
        return query_exporter(tls, input, input_size, context_size, output, output_capacity, size, library_error);
    default:
        return SG_ERR_INVALID_PARAMETER;
    }
}
