/*
 * secur32's unix-call table: one entry per enum sg_unix_call (../unixlib.h).
 *
 * Each entry checks its parameter struct (handles, region addresses and sizes) before the
 * engine sees it. A struct the entry cannot make sense of gets status
 * SG_ERR_INVALID_PARAMETER (when it has a status field) and the call returns
 * STATUS_INVALID_PARAMETER; otherwise the call returns 0 and the TLS outcome is in status.
 */

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "engine_record.h"
#include "engine_client.h"
#include "engine_server.h"
#include "engine_dtls.h"

/* Wine's NTSTATUS is a 32-bit LONG, which is int on the LP64 Unix side. */
typedef int unix_ntstatus;
typedef unix_ntstatus (*unixlib_entry_t)(void *args);

#define STATUS_SUCCESS            ((unix_ntstatus)0)
#define STATUS_INVALID_HANDLE     ((unix_ntstatus)0xc0000008)
#define STATUS_INVALID_PARAMETER  ((unix_ntstatus)0xc000000d)

/* A caller's region as a pointer; NULL when the address cannot describe size bytes. */
static int region_ok(uint64_t address, uint64_t size)
{
    if (!size) return 1;
    if (!address || address != (uint64_t)(uintptr_t)address) return 0;
    return address + size > address;
}

static void *region(uint64_t address)
{
    return (void *)(uintptr_t)address;
}

/* A parameter struct the entry cannot make sense of. */
static unix_ntstatus refuse(uint32_t *status)
{
    *status = SG_ERR_INVALID_PARAMETER;
    return STATUS_INVALID_PARAMETER;
}

static unix_ntstatus call_process_attach(void *args)
{
    struct sg_process_attach_params *params = args;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->version = engine_process_attach();
    return params->version ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

static unix_ntstatus call_cred_create(void *args)
{
    struct sg_cred_create_params *params = args;
    struct engine_cred *cred;
    int library_error;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->cred = 0;
    if (!region_ok(params->chain, params->chain_size) || !region_ok(params->key, params->key_size)
        || (params->key_format == SG_KEY_NONE && params->key_size)
        || (params->key_format != SG_KEY_NONE && !params->key_size))
        return refuse(&params->status);
    params->status = engine_cred_create(params->flags, params->protocols,
                                        region(params->chain), params->chain_size,
                                        params->key_format, region(params->key), params->key_size,
                                        &cred, &library_error);
    if (params->status == SG_ERR_INVALID_PARAMETER) return STATUS_INVALID_PARAMETER;
    if (params->status == SG_OK) params->cred = (uint64_t)(uintptr_t)cred;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_cred_free(void *args)
{
    struct sg_cred_free_params *params = args;
    struct engine_cred *cred;

    if (!params) return STATUS_INVALID_PARAMETER;
    if (!params->cred) return STATUS_SUCCESS;
    if (!(cred = engine_cred_from_handle(params->cred))) return STATUS_INVALID_HANDLE;
    engine_cred_release(cred);
    return STATUS_SUCCESS;
}

static unix_ntstatus call_session_create(void *args)
{
    struct sg_session_create_params *params = args;
    struct engine_session *session;
    struct engine_cred *cred;
    int library_error;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->session = 0;
    if (!(cred = engine_cred_from_handle(params->cred)) || (params->flags & ~SG_SESSION_SERVER)
        || !region_ok(params->server_name, params->server_name_size))
        return refuse(&params->status);
    params->status = engine_session_create(cred, !!(params->flags & SG_SESSION_SERVER),
                                           region(params->server_name), params->server_name_size,
                                           &session, &library_error);
    if (params->status == SG_ERR_INVALID_PARAMETER) return STATUS_INVALID_PARAMETER;
    if (params->status == SG_OK) params->session = (uint64_t)(uintptr_t)session;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_session_free(void *args)
{
    struct sg_session_free_params *params = args;
    struct engine_session *session;

    if (!params) return STATUS_INVALID_PARAMETER;
    if (!params->session) return STATUS_SUCCESS;
    if (!(session = engine_session_from_handle(params->session))) return STATUS_INVALID_HANDLE;
    engine_session_free(session);
    return STATUS_SUCCESS;
}

/* The outputs of a TLS handshake step (server or client), cleared before validation and
 * filled from the engine's step after it. */
static void step_reset(struct sg_handshake_params *params)
{
    params->consumed = params->output_size = params->missing = 0;
    params->alert = SG_ALERT_NONE;
    params->alert_received = 0;
    params->library_error = 0;
}

static void step_results(struct sg_handshake_params *params, const struct engine_step *step)
{
    params->status = step->status;
    params->consumed = step->consumed;
    params->output_size = step->output_size;
    params->missing = step->missing;
    params->alert = step->alert;
    params->alert_received = step->alert_received;
    params->library_error = step->library_error;
}

static unix_ntstatus call_handshake(void *args)
{
    struct sg_handshake_params *params = args;
    struct engine_session *session;
    struct engine_step step;

    if (!params) return STATUS_INVALID_PARAMETER;
    step_reset(params);
    if (!(session = engine_session_from_handle(params->session))
        || !region_ok(params->input, params->input_size)
        || !region_ok(params->output, params->output_capacity))
        return refuse(&params->status);
    engine_handshake(session, region(params->input), params->input_size,
                     region(params->output), params->output_capacity, &step);
    step_results(params, &step);
    if (step.status == SG_OK) engine_session_info(session, &params->info);
    return STATUS_SUCCESS;
}

/* What a client step hands back besides its token (sg_handshake_params' client fields). */
static void client_step_results(struct engine_session *session, struct sg_handshake_params *params)
{
    uint8_t id[32];
    size_t size, id_size;
    uint32_t count;

    if (params->resume_out_capacity && engine_session_resume_changed(session)
        && (engine_session_get_resume(session, region(params->resume_out), params->resume_out_capacity, &size,
                                      id, &id_size) == SG_OK || size > params->resume_out_capacity)
        && size <= UINT32_MAX)
        params->resume_out_size = size;
    if (params->peer_certs_capacity
        && (engine_peer_certs(session, region(params->peer_certs), params->peer_certs_capacity, &size,
                              &count) == SG_OK || size > params->peer_certs_capacity)
        && size <= UINT32_MAX)
    {
        params->peer_certs_size = size;
        params->peer_certs_count = count;
    }
}

static unix_ntstatus call_client_handshake(void *args)
{
    struct sg_handshake_params *params = args;
    struct engine_session *session;
    struct engine_step step;

    if (!params) return STATUS_INVALID_PARAMETER;
    step_reset(params);
    params->resume_out_size = params->peer_certs_size = params->peer_certs_count = 0;
    if (!(session = engine_session_from_handle(params->session))
        || !region_ok(params->input, params->input_size)
        || !region_ok(params->output, params->output_capacity)
        || !region_ok(params->resume, params->resume_size) || !region_ok(params->alpn, params->alpn_size)
        || !region_ok(params->resume_out, params->resume_out_capacity)
        || !region_ok(params->peer_certs, params->peer_certs_capacity) || (params->step_flags & ~SG_STEP_ASK_CLIENT_CERT))
        return refuse(&params->status);
    /* The calls this step stands for, in the order the PE side used to make them. */
    if (params->alpn_size && engine_session_set_alpn(session, region(params->alpn), params->alpn_size) != SG_OK)
    {
        params->status = SG_ERR_INVALID_TOKEN;
        return STATUS_SUCCESS;
    }
    if ((params->step_flags & SG_STEP_ASK_CLIENT_CERT)
        && (params->status = engine_client_cert_set(session, SG_CLIENT_CERT_ASK, NULL)) != SG_OK)
        return STATUS_SUCCESS;
    if (params->resume_size) engine_session_set_resume(session, region(params->resume), params->resume_size);
    engine_client_handshake(session, region(params->input), params->input_size,
                            region(params->output), params->output_capacity, &step);
    step_results(params, &step);
    if (step.status == SG_OK)
    {
        engine_session_info(session, &params->info);
        client_step_results(session, params);
    }
    return STATUS_SUCCESS;
}

static unix_ntstatus call_session_client_cert(void *args)
{
    struct sg_session_client_cert_params *params = args;
    struct engine_session *session;
    struct engine_cred *cred = NULL;

    if (!params) return STATUS_INVALID_PARAMETER;
    if (!(session = engine_session_from_handle(params->session))
        || (params->cred && !(cred = engine_cred_from_handle(params->cred))))
        return refuse(&params->status);
    params->status = engine_client_cert_set(session, params->mode, cred);
    return STATUS_SUCCESS;
}

static unix_ntstatus call_session_cert_request(void *args)
{
    struct sg_session_cert_request_params *params = args;
    struct engine_session *session;
    size_t size = 0;

    if (!params) return STATUS_INVALID_PARAMETER;
    if (!(session = engine_session_from_handle(params->session)) || !region_ok(params->buffer, params->capacity))
        return refuse(&params->status);
    params->status = engine_client_cert_request(session, region(params->buffer), params->capacity, &size,
                                                &params->count, &params->requested);
    params->size = size;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_client_renegotiate(void *args)
{
    struct sg_client_renegotiate_params *params = args;
    struct engine_session *session;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session)))
        return refuse(&params->status);
    params->status = engine_client_renegotiate(session);
    return STATUS_SUCCESS;
}

static unix_ntstatus call_server_renegotiate(void *args)
{
    struct sg_server_renegotiate_params *params = args;
    struct engine_session *session;
    int library_error = 0;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session)))
        return refuse(&params->status);
    params->status = engine_server_renegotiate(session, params->flags, &library_error);
    params->library_error = library_error;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_fetch_output(void *args)
{
    struct sg_fetch_output_params *params = args;
    struct engine_session *session;
    size_t size;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->output_size = 0;
    if (!(session = engine_session_from_handle(params->session))
        || !region_ok(params->output, params->output_capacity))
        return refuse(&params->status);
    params->status = engine_fetch_output(session, region(params->output), params->output_capacity, &size);
    params->output_size = size;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_encrypt(void *args)
{
    struct sg_encrypt_params *params = args;
    struct engine_session *session;
    struct engine_seal seal;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->header_used = params->trailer_used = 0;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session))
        || !region_ok(params->header, params->header_size)
        || !region_ok(params->data, params->data_size)
        || !region_ok(params->trailer, params->trailer_size))
        return refuse(&params->status);
    engine_encrypt(session, region(params->header), params->header_size,
                   region(params->data), params->data_size,
                   region(params->trailer), params->trailer_size, &seal);
    params->status = seal.status;
    params->header_used = seal.header_used;
    params->trailer_used = seal.trailer_used;
    params->library_error = seal.library_error;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_decrypt(void *args)
{
    struct sg_decrypt_params *params = args;
    struct engine_session *session;
    struct engine_open open;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->consumed = params->data_offset = params->data_size = params->missing = 0;
    params->flags = params->output_pending = 0;
    params->alert = SG_ALERT_NONE;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session)) || !region_ok(params->buffer, params->size))
        return refuse(&params->status);
    engine_decrypt(session, region(params->buffer), params->size, &open);
    params->status = open.status;
    params->consumed = open.consumed;
    params->data_offset = open.data_offset;
    params->data_size = open.data_size;
    params->missing = open.missing;
    params->alert = open.alert;
    params->library_error = open.library_error;
    params->flags = open.post_handshake ? SG_DECRYPT_POST_HANDSHAKE : 0;
    params->output_pending = open.output_pending > UINT32_MAX ? UINT32_MAX : open.output_pending;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_get_peer_certs(void *args)
{
    struct sg_get_peer_certs_params *params = args;
    struct engine_session *session;
    size_t size;
    uint32_t count;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->size = params->count = 0;
    if (!(session = engine_session_from_handle(params->session)) || !region_ok(params->buffer, params->capacity))
        return refuse(&params->status);
    params->status = engine_peer_certs(session, region(params->buffer), params->capacity, &size, &count);
    if (size > UINT32_MAX)
    {
        params->status = SG_ERR_INTERNAL;
        return STATUS_SUCCESS;
    }
    params->size = size;
    params->count = count;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_shutdown(void *args)
{
    struct sg_shutdown_params *params = args;
    struct engine_session *session;
    size_t size;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->output_size = 0;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session))
        || !region_ok(params->output, params->output_capacity))
        return refuse(&params->status);
    params->status = engine_shutdown(session, &params->library_error);
    if (params->status == SG_OK)
        engine_take_output(session, region(params->output), params->output_capacity, &size);
    else
        size = 0;
    params->output_size = size;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_send_alert(void *args)
{
    struct sg_send_alert_params *params = args;
    struct engine_session *session;
    size_t size = 0;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->output_size = 0;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session))
        || !region_ok(params->output, params->output_capacity))
        return refuse(&params->status);
    params->status = engine_send_alert(session, params->level, params->description, &params->library_error);
    if (params->status == SG_OK)
        engine_take_output(session, region(params->output), params->output_capacity, &size);
    params->output_size = size;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_cred_restrict(void *args)
{
    struct sg_cred_restrict_params *params = args;
    struct engine_cred *cred;
    int library_error = 0;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->library_error = 0;
    if (!(cred = engine_cred_from_handle(params->cred)))
        return refuse(&params->status);
    params->status = engine_cred_restrict(cred, params->protocols, params->disabled_algs, &library_error);
    params->library_error = library_error;
    return params->status == SG_ERR_INVALID_PARAMETER ? STATUS_INVALID_PARAMETER : STATUS_SUCCESS;
}

static unix_ntstatus call_session_set_alpn(void *args)
{
    struct sg_session_alpn_params *params = args;
    struct engine_session *session;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->result_size = 0;
    if (!(session = engine_session_from_handle(params->session)) || !region_ok(params->buffer, params->size))
        return refuse(&params->status);
    params->status = engine_session_set_alpn(session, region(params->buffer), params->size);
    return STATUS_SUCCESS;
}

static unix_ntstatus call_session_get_alpn(void *args)
{
    struct sg_session_alpn_params *params = args;
    struct engine_session *session;
    size_t size;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->result_size = 0;
    if (!(session = engine_session_from_handle(params->session)) || !region_ok(params->buffer, params->size))
        return refuse(&params->status);
    params->status = engine_session_get_alpn(session, region(params->buffer), params->size, &size);
    params->result_size = size;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_session_get_resume(void *args)
{
    struct sg_session_resume_params *params = args;
    struct engine_session *session;
    size_t size, id_size;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->result_size = params->session_id_size = 0;
    if (!(session = engine_session_from_handle(params->session)) || !region_ok(params->buffer, params->size))
        return refuse(&params->status);
    params->status = engine_session_get_resume(session, region(params->buffer), params->size, &size,
                                               params->session_id, &id_size);
    if (size > UINT32_MAX)
    {
        size = 0;
        params->status = SG_ERR_INTERNAL;
    }
    params->result_size = size;
    params->session_id_size = id_size;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_session_set_resume(void *args)
{
    struct sg_session_resume_params *params = args;
    struct engine_session *session;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->result_size = params->session_id_size = 0;
    if (!(session = engine_session_from_handle(params->session)) || !region_ok(params->buffer, params->size))
        return refuse(&params->status);
    params->status = engine_session_set_resume(session, region(params->buffer), params->size);
    return STATUS_SUCCESS;
}

static unix_ntstatus call_cred_add_cert(void *args)
{
    struct sg_cred_add_cert_params *params = args;
    struct engine_cred *cred;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->library_error = 0;
    if (!(cred = engine_cred_from_handle(params->cred)) || !region_ok(params->chain, params->chain_size)
        || !region_ok(params->key, params->key_size))
        return refuse(&params->status);
    params->status = engine_cred_add_cert(cred, region(params->chain), params->chain_size, params->key_format,
                                          region(params->key), params->key_size, &params->library_error);
    return STATUS_SUCCESS;
}

static unix_ntstatus call_cred_set_server(void *args)
{
    struct sg_cred_server_params *params = args;
    struct engine_cred *cred;

    if (!params) return STATUS_INVALID_PARAMETER;
    if (!(cred = engine_cred_from_handle(params->cred)))
        return refuse(&params->status);
    params->status = engine_cred_set_server(cred, params->flags);
    return STATUS_SUCCESS;
}

static unix_ntstatus call_session_set_server(void *args)
{
    struct sg_session_server_params *params = args;
    struct engine_session *session;

    if (!params) return STATUS_INVALID_PARAMETER;
    if (!(session = engine_session_from_handle(params->session)) || !engine_session_is_server(session)
        || !region_ok(params->alpn, params->alpn_size))
        return refuse(&params->status);
    params->status = engine_session_set_server(session, params->flags, region(params->alpn), params->alpn_size);
    return STATUS_SUCCESS;
}

static unix_ntstatus call_session_query(void *args)
{
    struct sg_session_query_params *params = args;
    struct engine_session *session;
    size_t size = 0;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->output_size = 0;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session))
        || !region_ok(params->input, params->input_size)
        || !region_ok(params->output, params->output_capacity))
        return refuse(&params->status);
    params->status = engine_session_query(session, params->what, region(params->input), params->input_size,
                                          params->context_size, region(params->output), params->output_capacity,
                                          &size, &params->library_error);
    params->output_size = size > UINT32_MAX ? UINT32_MAX : size;
    return STATUS_SUCCESS;
}

/* ---- DTLS (engine_dtls.c) ---- */

static unix_ntstatus call_dtls_session_create(void *args)
{
    struct sg_dtls_session_create_params *params = args;
    struct engine_session *session;
    struct engine_cred *cred;
    int library_error = 0;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->session = 0;
    params->library_error = 0;
    if (!(cred = engine_cred_from_handle(params->cred)) || (params->flags & ~SG_SESSION_SERVER)
        || !region_ok(params->server_name, params->server_name_size))
        return refuse(&params->status);
    params->status = engine_dtls_session_create(cred, !!(params->flags & SG_SESSION_SERVER),
                                                region(params->server_name), params->server_name_size,
                                                params->protocols, params->mtu, &session, &library_error);
    params->library_error = library_error;
    if (params->status == SG_OK) params->session = (uint64_t)(uintptr_t)session;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_dtls_handshake(void *args)
{
    struct sg_dtls_handshake_params *params = args;
    struct engine_session *session;
    struct engine_dtls_step step;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->consumed = params->output_size = params->more = 0;
    params->alert = SG_ALERT_NONE;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session)) || !engine_session_is_datagram(session)
        || !region_ok(params->input, params->input_size) || !region_ok(params->client_id, params->client_id_size)
        || !region_ok(params->output, params->output_capacity))
        return refuse(&params->status);
    engine_dtls_handshake(session, region(params->input), params->input_size, region(params->client_id),
                          params->client_id_size, region(params->output), params->output_capacity, &step);
    params->status = step.status;
    params->consumed = step.consumed;
    params->output_size = step.output_size;
    params->more = step.more;
    params->alert = step.alert;
    params->library_error = step.library_error;
    if (step.status == SG_OK) engine_session_info(session, &params->info);
    return STATUS_SUCCESS;
}

static unix_ntstatus call_dtls_encrypt(void *args)
{
    struct sg_encrypt_params *params = args;
    struct engine_session *session;
    struct engine_seal seal;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->header_used = params->trailer_used = 0;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session)) || !engine_session_is_datagram(session)
        || !region_ok(params->header, params->header_size)
        || !region_ok(params->data, params->data_size)
        || !region_ok(params->trailer, params->trailer_size))
        return refuse(&params->status);
    engine_dtls_encrypt(session, region(params->header), params->header_size, region(params->data),
                        params->data_size, region(params->trailer), params->trailer_size, &seal);
    params->status = seal.status;
    params->header_used = seal.header_used;
    params->trailer_used = seal.trailer_used;
    params->library_error = seal.library_error;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_dtls_decrypt(void *args)
{
    struct sg_decrypt_params *params = args;
    struct engine_session *session;
    struct engine_open open;
    uint32_t flags;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->consumed = params->data_offset = params->data_size = params->missing = 0;
    params->flags = params->output_pending = 0;
    params->alert = SG_ALERT_NONE;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session)) || !engine_session_is_datagram(session)
        || !region_ok(params->buffer, params->size))
        return refuse(&params->status);
    engine_dtls_decrypt(session, region(params->buffer), params->size, &open, &flags);
    params->status = open.status;
    params->consumed = open.consumed;
    params->data_offset = open.data_offset;
    params->data_size = open.data_size;
    params->missing = open.missing;
    params->alert = open.alert;
    params->library_error = open.library_error;
    params->flags = flags;
    params->output_pending = open.output_pending > UINT32_MAX ? UINT32_MAX : open.output_pending;
    return STATUS_SUCCESS;
}

static unix_ntstatus call_dtls_control(void *args)
{
    struct sg_dtls_control_params *params = args;
    struct engine_session *session;
    size_t size = 0;
    int more = 0, library_error = 0;

    if (!params) return STATUS_INVALID_PARAMETER;
    params->output_size = params->more = 0;
    params->library_error = 0;
    if (!(session = engine_session_from_handle(params->session)) || !engine_session_is_datagram(session)
        || !region_ok(params->output, params->output_capacity))
        return refuse(&params->status);
    params->status = engine_dtls_control(session, params->what, &params->value, region(params->output),
                                         params->output_capacity, &size, &more, &library_error);
    params->output_size = size;
    params->more = more;
    params->library_error = library_error;
    return STATUS_SUCCESS;
}

/* Designated entries: each call is bound to its code by name, whatever the order. */
const unixlib_entry_t __wine_unix_call_funcs[] =
{
    [unix_process_attach] = call_process_attach,
    [unix_cred_create] = call_cred_create,
    [unix_cred_free] = call_cred_free,
    [unix_session_create] = call_session_create,
    [unix_session_free] = call_session_free,
    [unix_handshake] = call_handshake,
    [unix_fetch_output] = call_fetch_output,
    [unix_encrypt] = call_encrypt,
    [unix_decrypt] = call_decrypt,
    [unix_get_peer_certs] = call_get_peer_certs,
    [unix_shutdown] = call_shutdown,
    [unix_session_set_alpn] = call_session_set_alpn,
    [unix_session_get_alpn] = call_session_get_alpn,
    [unix_session_get_resume] = call_session_get_resume,
    [unix_session_set_resume] = call_session_set_resume,
    [unix_cred_restrict] = call_cred_restrict,
    [unix_send_alert] = call_send_alert,
    [unix_session_query] = call_session_query,
    [unix_cred_add_cert] = call_cred_add_cert,
    [unix_cred_set_server] = call_cred_set_server,
    [unix_session_set_server] = call_session_set_server,
    [unix_client_handshake] = call_client_handshake,
    [unix_session_client_cert] = call_session_client_cert,
    [unix_session_cert_request] = call_session_cert_request,
    [unix_client_renegotiate] = call_client_renegotiate,
    [unix_server_renegotiate] = call_server_renegotiate,
    [unix_dtls_session_create] = call_dtls_session_create,
    [unix_dtls_handshake] = call_dtls_handshake,
    [unix_dtls_encrypt] = call_dtls_encrypt,
    [unix_dtls_decrypt] = call_dtls_decrypt,
    [unix_dtls_control] = call_dtls_control,
};

_Static_assert(sizeof(__wine_unix_call_funcs) / sizeof(__wine_unix_call_funcs[0]) == unix_funcs_count,
               "unix call table does not match enum sg_unix_call");
