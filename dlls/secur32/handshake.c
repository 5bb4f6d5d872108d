/*
 * InitializeSecurityContext / AcceptSecurityContext for Schannel: the handshake loop.
 *
 * Each call is one engine step (one unix call): the caller's input token goes in, our
 * token comes out into the caller's SECBUFFER_TOKEN (or memory we allocate for
 * ISC_REQ_ALLOCATE_MEMORY), unused input is reported as SECBUFFER_EXTRA and a partial
 * record as SEC_E_INCOMPLETE_MESSAGE with SECBUFFER_MISSING.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

#define SCRATCH_INITIAL 0x4000
#define SCRATCH_MAX 0x100000

/* Request bits Schannel honours and reports back (the ASC_RET_ bit has the same value as
 * its ASC_REQ_ bit for each of these); the client's are in sg_client_ret_flags(). */
#define ASC_HONOURED (ASC_REQ_MUTUAL_AUTH | ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT \
    | ASC_REQ_CONFIDENTIALITY | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR \
    | ASC_REQ_STREAM | ASC_REQ_INTEGRITY | ASC_REQ_CONNECTION)

SECURITY_STATUS sg_status_from_engine(enum sg_status status)
{
    switch (status)
    {
    case SG_OK:                     return SEC_E_OK;
    case SG_CONTINUE:               return SEC_I_CONTINUE_NEEDED;
    case SG_INCOMPLETE:             return SEC_E_INCOMPLETE_MESSAGE;
    case SG_RENEGOTIATE:            return SEC_I_RENEGOTIATE;
    case SG_CLOSED:                 return SEC_I_CONTEXT_EXPIRED;
    case SG_ERR_NO_MEMORY:          return SEC_E_INSUFFICIENT_MEMORY;
    case SG_ERR_INVALID_TOKEN:      return SEC_E_INVALID_TOKEN;
    case SG_ERR_DECRYPT:            return SEC_E_DECRYPT_FAILURE;
    case SG_ERR_ILLEGAL_MESSAGE:    return SEC_E_ILLEGAL_MESSAGE;
    case SG_ERR_ALGORITHM_MISMATCH: return SEC_E_ALGORITHM_MISMATCH;
    case SG_ERR_BAD_CERT:           return SEC_E_CERT_UNKNOWN;
    case SG_ERR_NO_CREDENTIALS:     return SEC_E_NO_CREDENTIALS;
    case SG_ERR_BUFFER_TOO_SMALL:   return SEC_E_BUFFER_TOO_SMALL;
    case SG_ERR_INVALID_PARAMETER:  return SEC_E_INVALID_PARAMETER;
    case SG_ERR_APPLICATION_PROTOCOL: return SEC_E_APPLICATION_PROTOCOL_MISMATCH;
    case SG_CREDENTIALS_NEEDED:     return SEC_I_INCOMPLETE_CREDENTIALS;
    default:                        return SEC_E_INTERNAL_ERROR;
    }
}

void sg_set_far_expiry(TimeStamp *expiry)
{
    if (!expiry) return;
    expiry->LowPart = 0xffffffff;
    expiry->HighPart = 0x7fffffff;
}

/* RFC 6066: a literal IPv4 or IPv6 address is never sent as SNI. */
BOOL sg_is_ip_literal(const WCHAR *name)
{
    const WCHAR *p;
    if (wcschr(name, ':')) return TRUE;
    for (p = name; *p; p++) if (!((*p >= '0' && *p <= '9') || *p == '.')) return FALSE;
    return TRUE;
}

/* Idle staging areas of SCRATCH_INITIAL bytes, wiped, for the next handshake to take: a
 * connection needs one only while its handshake runs, and allocating and freeing 16 KiB
 * twice per handshake showed in the profile of resumed handshakes. */
#define SCRATCH_SPARES 4
static BYTE *scratch_spares[SCRATCH_SPARES];

static BYTE *take_spare_scratch(void)
{
    BYTE *spare;
    unsigned int i;

    for (i = 0; i < SCRATCH_SPARES; i++)
        if (scratch_spares[i] && (spare = InterlockedExchangePointer((void **)&scratch_spares[i], NULL)))
            return spare;
    return NULL;
}

/* The context's staging area goes: back to the spares when it is a clean one of the usual
 * size (a TLS context's steps wipe what they staged, see scratch_done; datagram.c's keep
 * data between calls and are wiped here). */
static void scratch_release(struct sg_ctx *ctx)
{
    unsigned int i;

    if (!ctx->scratch) return;
    if (ctx->datagram) sg_wipe(ctx->scratch, ctx->scratch_size);
    else if (ctx->scratch_size == SCRATCH_INITIAL)
    {
        for (i = 0; i < SCRATCH_SPARES; i++)
            if (!InterlockedCompareExchangePointer((void **)&scratch_spares[i], ctx->scratch, NULL)) break;
        if (i < SCRATCH_SPARES) ctx->scratch = NULL;
    }
    sg_free(ctx->scratch);
    ctx->scratch = NULL;
    ctx->scratch_size = 0;
}

/* Also frees DTLS contexts (datagram.c), which stay out of the session cache. */
void sg_ctx_destroy(struct sg_ctx *ctx)
{
    /* A client session goes to the cache when it ends: TLS 1.3 tickets arrive after the handshake. */
    if (!ctx->server && !ctx->reconnects_disabled) sg_session_cache_store(ctx);
    sg_attributes_forget_context(ctx);
    if (ctx->session)
    {
        struct sg_session_free_params params = { ctx->session };
        sg_unix_call(unix_session_free, &params);
    }
    sg_cred_release(ctx->cred);
    /* A TLS context's target lives in its own block (ctx_create); a datagram one's does not. */
    if (ctx->target != (WCHAR *)(ctx + 1)) sg_free(ctx->target);
    sg_client_step_free(ctx);
    scratch_release(ctx);
    sg_pool_free(ctx);
}

static SECURITY_STATUS ctx_create(struct sg_cred *cred, BOOL server, const WCHAR *target, struct sg_ctx **ret)
{
    struct sg_session_create_params params = { 0 };
    struct sg_ctx *ctx;
    char *sni = NULL, sni_buf[256];
    SIZE_T target_size = target && *target ? (wcslen(target) + 1) * sizeof(WCHAR) : 0;
    int len = 0;

    /* The target name follows the context in the same block: one heap block less per connection. */
    if (!(ctx = sg_pool_alloc(sizeof(*ctx) + target_size))) return SEC_E_INSUFFICIENT_MEMORY;
    sg_cred_addref(cred);
    ctx->cred = cred;
    ctx->server = server;
    ctx->state = SG_CTX_HANDSHAKE;
    if (target_size) ctx->target = memcpy(ctx + 1, target, target_size);
    if (!server && ctx->target && !sg_is_ip_literal(ctx->target))
    {
        /* The usual ASCII host name is copied as is; anything else is converted (two passes). */
        for (len = 0; len < (int)sizeof(sni_buf) && ctx->target[len] && ctx->target[len] < 0x80; len++)
            sni_buf[len] = ctx->target[len];
        if (len < (int)sizeof(sni_buf) && !ctx->target[len])
        {
            sni_buf[len++] = 0;
            sni = sni_buf;
        }
        else
        {
            len = WideCharToMultiByte(CP_UTF8, 0, ctx->target, -1, NULL, 0, NULL, NULL);
            if (len > 1 && (sni = len <= (int)sizeof(sni_buf) ? sni_buf : sg_alloc(len)))
                WideCharToMultiByte(CP_UTF8, 0, ctx->target, -1, sni, len, NULL, NULL);
        }
    }
    params.cred = cred->unix_cred;
    params.flags = server ? SG_SESSION_SERVER : 0;
    params.server_name = (ULONG_PTR)sni;
    params.server_name_size = sni ? len - 1 : 0;
    if (sg_unix_call(unix_session_create, &params)) params.status = SG_ERR_INTERNAL;
    if (sni != sni_buf) sg_free(sni);
    if (params.status != SG_OK)
    {
        WARN("engine session creation failed: %u\n", params.status);
        sg_ctx_destroy(ctx);
        return params.status == SG_ERR_NO_MEMORY ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INTERNAL_ERROR;
    }
    ctx->session = params.session;
    *ret = ctx;
    return SEC_E_OK;
}

static BOOL scratch_reserve(struct sg_ctx *ctx, ULONG size)
{
    BYTE *grown;

    if (ctx->scratch_size >= size) return TRUE;
    if (!ctx->scratch && size <= SCRATCH_INITIAL && (grown = take_spare_scratch()))
    {
        ctx->scratch = grown;
        ctx->scratch_size = SCRATCH_INITIAL;
        return TRUE;
    }
    if (size > SCRATCH_MAX || !(grown = sg_alloc(size))) return FALSE;
    sg_free(ctx->scratch);
    ctx->scratch = grown;
    ctx->scratch_size = size;
    return TRUE;
}

/* The end of a step that staged written bytes of token in the scratch area: they are wiped
 * (only those: wiping the whole area, 16 KiB a byte at a time, cost more than a resumed
 * handshake's own work), so the area never holds anything between calls. An established
 * context does not keep the area at all (16 KiB per connection) until a later step
 * reserves it again. */
static void scratch_done(struct sg_ctx *ctx, ULONG written)
{
    if (!ctx->scratch) return;
    sg_wipe(ctx->scratch, min(written, ctx->scratch_size));
    if (ctx->state == SG_CTX_HANDSHAKE || ctx->datagram) return;
    scratch_release(ctx);
}

static SECURITY_STATUS handshake_step(struct sg_ctx *ctx, SecBufferDesc *input, SecBufferDesc *output, BOOL allocate)
{
    struct sg_handshake_params params = { 0 };
    SecBuffer *token = input ? sg_find_buffer(input, SECBUFFER_TOKEN, 0) : NULL;
    SecBuffer *spare;
    SECURITY_STATUS status, write_status;
    ULONG written;

    if (token && token->cbBuffer && !token->pvBuffer) return SEC_E_INVALID_TOKEN;
    if (!scratch_reserve(ctx, SCRATCH_INITIAL)) return SEC_E_INSUFFICIENT_MEMORY;

    params.session = ctx->session;
    params.input = token ? (ULONG_PTR)token->pvBuffer : 0;
    params.input_size = token ? token->cbBuffer : 0;
    params.output = (ULONG_PTR)ctx->scratch;
    params.output_capacity = ctx->scratch_size;
    /* A client step also watches for the server's certificate request (clientcert.c) and
     * carries the ALPN offer, cached session, peer chain and resumption data (clientctx.c). */
    if (ctx->server ? sg_unix_call(unix_handshake, &params) : sg_client_step(ctx, &params)) return SEC_E_INTERNAL_ERROR;
    TRACE("engine: status %u, consumed %u of %u, output %u, missing %u, alert %#x, error %d\n", params.status,
          params.consumed, params.input_size, params.output_size, params.missing, params.alert, params.library_error);

    if (params.output_size > ctx->scratch_size)
    {
        struct sg_fetch_output_params fetch = { 0 };

        if (!scratch_reserve(ctx, params.output_size)) return SEC_E_INSUFFICIENT_MEMORY;
        fetch.session = ctx->session;
        fetch.output = (ULONG_PTR)ctx->scratch;
        fetch.output_capacity = ctx->scratch_size;
        if (sg_unix_call(unix_fetch_output, &fetch) || fetch.status != SG_OK) return SEC_E_INTERNAL_ERROR;
        params.output_size = fetch.output_size;
    }

    written = params.output_size <= ctx->scratch_size ? params.output_size : 0;
    status = sg_status_from_engine(params.status);
    if (!ctx->server) status = sg_client_status_from_alert(status, params.alert);
    /* A client that received a fatal alert returns the status Windows ties to that alert. */
    if (!ctx->server && FAILED(status) && params.alert_received && params.alert != SG_ALERT_NONE)
        status = sg_client_status_from_peer_alert(params.alert);
    spare = sg_spare_input_buffer(input, token);
    if (status == SEC_E_INCOMPLETE_MESSAGE)
    {
        if (spare) sg_set_spare(spare, SECBUFFER_MISSING, params.missing);
        scratch_done(ctx, written);
        return status;
    }
    if ((status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED) && token && spare
        && params.consumed < params.input_size)
        sg_set_spare(spare, SECBUFFER_EXTRA, params.input_size - params.consumed);
    if (status == SEC_E_OK)
    {
        ctx->info = params.info;
        ctx->state = SG_CTX_ESTABLISHED;
    }
    /* On failure the token may hold an alert for the peer: still hand it over (a client
     * with a SECBUFFER_ALERT output buffer gets it there, and an empty token). */
    if (!ctx->server && FAILED(status) && sg_client_put_alert(output, allocate, ctx->scratch, params.output_size))
        write_status = sg_write_token(output, allocate, NULL, 0);
    else
        write_status = sg_write_token(output, allocate, ctx->scratch, params.output_size);
    if (write_status && !FAILED(status)) status = write_status;
    if (FAILED(status)) ctx->state = SG_CTX_FAILED;
    scratch_done(ctx, written);
    return status;
}

/* The token after ApplyControlToken(SCHANNEL_SHUTDOWN): our close_notify. */
static SECURITY_STATUS shutdown_step(struct sg_ctx *ctx, SecBufferDesc *output, BOOL allocate)
{
    struct sg_shutdown_params params = { 0 };
    SECURITY_STATUS status;

    if (!scratch_reserve(ctx, SCRATCH_INITIAL)) return SEC_E_INSUFFICIENT_MEMORY;
    params.session = ctx->session;
    params.output = (ULONG_PTR)ctx->scratch;
    params.output_capacity = ctx->scratch_size;
    if (sg_unix_call(unix_shutdown, &params)) return SEC_E_INTERNAL_ERROR;
    if (params.status != SG_OK)
    {
        WARN("engine: status %u, error %d\n", params.status, params.library_error);
        return sg_status_from_engine(params.status);
    }
    if (params.output_size > ctx->scratch_size) return SEC_E_INTERNAL_ERROR; /* an alert always fits */
    status = sg_write_token(output, allocate, ctx->scratch, params.output_size);
    scratch_done(ctx, params.output_size);
    if (status) return status;
    ctx->shutdown_pending = FALSE;
    ctx->close_sent = TRUE;
    ctx->state = SG_CTX_CLOSED;
    TRACE("close_notify of %u bytes\n", params.output_size);
    return SEC_E_OK;
}

#ifndef TLS1_ALERT_WARNING
#define TLS1_ALERT_WARNING 1
#define TLS1_ALERT_FATAL   2
#endif
#ifndef SSL_SESSION_ENABLE_RECONNECTS
#define SSL_SESSION_ENABLE_RECONNECTS  1
#define SSL_SESSION_DISABLE_RECONNECTS 2
#endif

/* The token after ApplyControlToken(SCHANNEL_ALERT): the alert the caller chose. */
static SECURITY_STATUS alert_step(struct sg_ctx *ctx, SecBufferDesc *output, BOOL allocate)
{
    struct sg_send_alert_params params = { 0 };
    SECURITY_STATUS status;

    if (!scratch_reserve(ctx, SCRATCH_INITIAL)) return SEC_E_INSUFFICIENT_MEMORY;
    params.session = ctx->session;
    params.output = (ULONG_PTR)ctx->scratch;
    params.output_capacity = ctx->scratch_size;
    params.level = ctx->alert_type;
    params.description = ctx->alert_number;
    ctx->alert_pending = FALSE;
    if (sg_unix_call(unix_send_alert, &params)) return SEC_E_INTERNAL_ERROR;
    if (params.status != SG_OK)
    {
        WARN("engine: status %u, error %d\n", params.status, params.library_error);
        return sg_status_from_engine(params.status);
    }
    if (params.output_size > ctx->scratch_size) return SEC_E_INTERNAL_ERROR; /* an alert always fits */
    status = sg_write_token(output, allocate, ctx->scratch, params.output_size);
    scratch_done(ctx, params.output_size);
    if (status) return status;
    TRACE("alert %lu/%lu, %u bytes\n", ctx->alert_type, ctx->alert_number, params.output_size);
    if (ctx->alert_type == TLS1_ALERT_FATAL || ctx->alert_number == 0 /* close_notify */)
    {
        ctx->close_sent = TRUE;
        ctx->state = SG_CTX_CLOSED;
    }
    return SEC_E_OK;
}

/* What the engine queued for the peer outside a handshake (a TLS 1.3 KeyUpdate reply). */
static SECURITY_STATUS pending_output_step(struct sg_ctx *ctx, SecBufferDesc *input, SecBufferDesc *output,
                                           BOOL allocate)
{
    struct sg_fetch_output_params fetch = { 0 };
    SecBuffer *token = input ? sg_find_buffer(input, SECBUFFER_TOKEN, 0) : NULL;
    SecBuffer *spare;
    SECURITY_STATUS status;

    if (!scratch_reserve(ctx, SCRATCH_INITIAL)) return SEC_E_INSUFFICIENT_MEMORY;
    fetch.session = ctx->session;
    fetch.output = (ULONG_PTR)ctx->scratch;
    fetch.output_capacity = ctx->scratch_size;
    if (sg_unix_call(unix_fetch_output, &fetch)) return SEC_E_INTERNAL_ERROR;
    if (fetch.status == SG_ERR_BUFFER_TOO_SMALL)
    {
        if (!scratch_reserve(ctx, fetch.output_size)) return SEC_E_INSUFFICIENT_MEMORY;
        fetch.output = (ULONG_PTR)ctx->scratch;
        fetch.output_capacity = ctx->scratch_size;
        if (sg_unix_call(unix_fetch_output, &fetch)) return SEC_E_INTERNAL_ERROR;
    }
    if (fetch.status != SG_OK) return SEC_E_INTERNAL_ERROR;
    ctx->post_handshake = FALSE;
    /* Nothing of the input is ours: records that followed go back to DecryptMessage. */
    if (token && token->cbBuffer && (spare = sg_spare_input_buffer(input, token)))
        sg_set_spare(spare, SECBUFFER_EXTRA, token->cbBuffer);
    TRACE("post-handshake token of %u bytes, %lu input bytes returned as extra\n", fetch.output_size,
          token ? token->cbBuffer : 0);
    status = sg_write_token(output, allocate, ctx->scratch, fetch.output_size);
    scratch_done(ctx, fetch.output_size);
    return status;
}

static ULONG input_size(SecBufferDesc *input)
{
    SecBuffer *token = input ? sg_find_buffer(input, SECBUFFER_TOKEN, 0) : NULL;
    return token ? token->cbBuffer : 0;
}

/* An ISC/ASC call on an established context: the shutdown or alert token asked for with
 * ApplyControlToken, a renegotiation (TLS 1.2) the peer asked for, or what TLS 1.3
 * post-handshake messages left for the peer. */
static SECURITY_STATUS established_step(struct sg_ctx *ctx, SecBufferDesc *input, SecBufferDesc *output,
                                        BOOL allocate)
{
    SECURITY_STATUS status;

    if (ctx->shutdown_pending) return shutdown_step(ctx, output, allocate);
    if (ctx->alert_pending) return alert_step(ctx, output, allocate);
    if (ctx->state != SG_CTX_ESTABLISHED) return SEC_E_CONTEXT_EXPIRED;
    /* A client calling again on its own asks for re-authentication: a new handshake in
     * TLS 1.0-1.2 (clientctx.c); TLS 1.3 has none, the call hands over what is pending. */
    if (!ctx->renegotiating && !ctx->server && !ctx->post_handshake && sg_client_begin_renegotiation(ctx))
        ctx->renegotiating = TRUE;
    /* A server calling again with ASC_REQ_MUTUAL_AUTH and no input asks the client for a
     * certificate (server.c): the request is this call's token, the answer comes with the next. */
    if (!ctx->renegotiating && ctx->server && !ctx->post_handshake && (ctx->req & ASC_REQ_MUTUAL_AUTH)
        && !input_size(input))
    {
        if ((status = sg_server_request_certificate(ctx)))
        {
            if (!FAILED(status)) sg_write_token(output, allocate, NULL, 0);
            return status;
        }
        ctx->renegotiating = TRUE;
        return pending_output_step(ctx, NULL, output, allocate);
    }
    if (!ctx->renegotiating) return pending_output_step(ctx, input, output, allocate);

    status = handshake_step(ctx, input, output, allocate);
    if (status == SEC_I_CONTINUE_NEEDED || status == SEC_E_INCOMPLETE_MESSAGE) return status;
    ctx->renegotiating = FALSE;
    if (status == SEC_E_OK && !ctx->server && !sg_manual_validation(ctx) && (status = sg_verify_server_chain(ctx)))
    {
        ctx->state = SG_CTX_FAILED;
        sg_client_validation_alert(ctx, status, output, allocate);
    }
    TRACE("renegotiation finished: %#lx\n", status);
    return status;
}

SECURITY_STATUS sg_apply_control_token(CtxtHandle *handle, SecBufferDesc *input)
{
    struct sg_ctx *ctx;
    SecBuffer *token;
    DWORD type;

    if (!(ctx = sg_handle_get(SG_HANDLE_CTX, handle))) return SEC_E_INVALID_HANDLE;
    if (!input || !(token = sg_find_buffer(input, SECBUFFER_TOKEN, 0)) || !token->pvBuffer
        || token->cbBuffer < sizeof(DWORD))
        return SEC_E_INVALID_TOKEN;
    memcpy(&type, token->pvBuffer, sizeof(type));
    switch (type)
    {
    case SCHANNEL_SHUTDOWN:
        TRACE("shutdown requested\n");
        /* Also after the peer's close_notify: ours still has to be sent. */
        if ((ctx->state == SG_CTX_ESTABLISHED || ctx->state == SG_CTX_CLOSED) && !ctx->close_sent)
            ctx->shutdown_pending = TRUE;
        return SEC_E_OK;
    case SCHANNEL_ALERT:
    {
        DWORD fields[3];

        if (token->cbBuffer < sizeof(fields)) return SEC_E_INVALID_TOKEN;
        memcpy(fields, token->pvBuffer, sizeof(fields));
        if (fields[1] != TLS1_ALERT_WARNING && fields[1] != TLS1_ALERT_FATAL) return SEC_E_INVALID_PARAMETER;
        if (fields[2] > 255) return SEC_E_INVALID_PARAMETER;
        TRACE("alert %lu/%lu requested\n", fields[1], fields[2]);
        if (ctx->state == SG_CTX_HANDSHAKE)
        {
            /* Listed in the README status table: not silently accepted. */
            FIXME("SCHANNEL_ALERT during the handshake is not supported yet\n");
            return SEC_E_UNSUPPORTED_FUNCTION;
        }
        if (ctx->state != SG_CTX_ESTABLISHED) return SEC_E_OK;  /* closed or failed: no alert left to send */
        ctx->alert_type = fields[1];
        ctx->alert_number = fields[2];
        ctx->alert_pending = TRUE;
        return SEC_E_OK;
    }
    case SCHANNEL_SESSION:
    {
        DWORD fields[2];

        if (token->cbBuffer < sizeof(fields)) return SEC_E_INVALID_TOKEN;
        memcpy(fields, token->pvBuffer, sizeof(fields));
        if (fields[1] == SSL_SESSION_DISABLE_RECONNECTS) ctx->reconnects_disabled = TRUE;
        else if (fields[1] == SSL_SESSION_ENABLE_RECONNECTS) ctx->reconnects_disabled = FALSE;
        else return SEC_E_INVALID_PARAMETER;
        TRACE("reconnects %s\n", ctx->reconnects_disabled ? "disabled" : "enabled");
        return SEC_E_OK;
    }
    default:
        WARN("unknown control token type %lu\n", type);
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}

BOOL sg_manual_validation(const struct sg_ctx *ctx)
{
    return (ctx->cred->sch_flags & SCH_CRED_MANUAL_CRED_VALIDATION) || (ctx->req & ISC_REQ_MANUAL_CRED_VALIDATION);
}

/* The end of an ISC/ASC step (TLS and DTLS): a context this call created gets its handle, or
 * is destroyed when the step failed (the call then returns with nothing else written); a
 * continued one keeps its handle. */
SECURITY_STATUS sg_context_call_end(struct sg_ctx *ctx, BOOL created, const CtxtHandle *ctx_handle,
                                    CtxtHandle *new_handle, SECURITY_STATUS status, ULONG *attrs, ULONG ret_flags,
                                    TimeStamp *expiry)
{
    if (created)
    {
        if (FAILED(status))
        {
            sg_ctx_destroy(ctx);
            return status;
        }
        if (!sg_handle_alloc(SG_HANDLE_CTX, ctx, new_handle))
        {
            sg_ctx_destroy(ctx);
            return SEC_E_INSUFFICIENT_MEMORY;
        }
    }
    else if (new_handle && new_handle != ctx_handle)
        *new_handle = *ctx_handle;
    if (attrs) *attrs = ret_flags;
    sg_set_far_expiry(expiry);
    return status;
}

SECURITY_STATUS sg_initialize_context(struct sg_cred *cred, CredHandle *cred_handle, struct sg_ctx *ctx,
                                      CtxtHandle *ctx_handle, const WCHAR *target, ULONG req, SecBufferDesc *input,
                                      CtxtHandle *new_handle, SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry)
{
    SECURITY_STATUS status;
    BOOL created = FALSE;

    TRACE("cred %p, ctx %p, target %s, req %#lx\n", cred_handle, ctx_handle, debugstr_w(target), req);
    if (req & (ISC_REQ_DELEGATE | ISC_REQ_PROMPT_FOR_CREDS)) return SEC_E_UNSUPPORTED_FUNCTION;
    /* DTLS (ISC_REQ_DATAGRAM, or a datagram context): datagram.c */
    if (sg_dgram_wanted(ctx, ctx_handle, req))
        return sg_dgram_initialize_context(cred_handle, ctx_handle, target, req, input, new_handle, output, attrs, expiry);

    if (!ctx_handle)
    {
        if (!cred) return SEC_E_INVALID_HANDLE;
        if (cred->use != SECPKG_CRED_OUTBOUND) return SEC_E_NO_CREDENTIALS;
        if (!new_handle) return SEC_E_INVALID_PARAMETER;
        if ((status = ctx_create(cred, FALSE, target, &ctx))) return status;
        created = TRUE;
        /* The first call starts the handshake: its input may only carry the ALPN offer
         * (SECBUFFER_APPLICATION_PROTOCOLS) and empty buffers. */
        if ((status = sg_client_set_alpn(ctx, input)))
        {
            sg_ctx_destroy(ctx);
            return status;
        }
        input = NULL;
        sg_session_cache_resume(ctx);
    }
    else
    {
        if (!ctx || ctx->server) return SEC_E_INVALID_HANDLE;
        if (ctx->state == SG_CTX_ESTABLISHED || (ctx->state == SG_CTX_CLOSED && ctx->shutdown_pending))
        {
            status = established_step(ctx, input, output, !!(req & ISC_REQ_ALLOCATE_MEMORY));
            if (new_handle && new_handle != ctx_handle) *new_handle = *ctx_handle;
            if (attrs) *attrs = sg_client_ret_flags(req);
            return status;
        }
        if (ctx->state == SG_CTX_CLOSED) return SEC_E_CONTEXT_EXPIRED;
        if (ctx->state != SG_CTX_HANDSHAKE) return SEC_E_INVALID_HANDLE;
        /* After SEC_I_INCOMPLETE_CREDENTIALS: this call's credential answers the request. */
        if (ctx->creds_needed)
        {
            if ((status = sg_client_cert_answer(ctx, cred_handle))) return status;
            ctx->creds_needed = FALSE;
        }
    }
    ctx->req = req;

    status = handshake_step(ctx, input, output, !!(req & ISC_REQ_ALLOCATE_MEMORY));
    /* The server asked for a certificate the credential lacks: a default one, or ask the caller. */
    if (status == SEC_I_INCOMPLETE_CREDENTIALS && sg_client_cert_default(ctx, req))
        status = handshake_step(ctx, NULL, output, !!(req & ISC_REQ_ALLOCATE_MEMORY));
    if (status == SEC_I_INCOMPLETE_CREDENTIALS) ctx->creds_needed = TRUE;
    /* A resumed session was validated when it was first established, for the same target
     * and credential (the cache's key). */
    if (status == SEC_E_OK && !ctx->info.resumed && !sg_manual_validation(ctx)
        && (status = sg_verify_server_chain(ctx)))
    {
        ctx->state = SG_CTX_FAILED;
        sg_client_validation_alert(ctx, status, output, !!(req & ISC_REQ_ALLOCATE_MEMORY));
    }
    if (status == SEC_E_OK && !ctx->reconnects_disabled) sg_session_cache_store(ctx);
    return sg_context_call_end(ctx, created, ctx_handle, new_handle, status, attrs,
                               sg_client_ret_flags(req), expiry);
}

SECURITY_STATUS sg_accept_context(struct sg_cred *cred, CredHandle *cred_handle, struct sg_ctx *ctx,
                                  CtxtHandle *ctx_handle, SecBufferDesc *input, ULONG req, CtxtHandle *new_handle,
                                  SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry)
{
    SECURITY_STATUS status;
    BOOL created = FALSE;

    TRACE("cred %p, ctx %p, req %#lx\n", cred_handle, ctx_handle, req);
    /* DTLS (ASC_REQ_DATAGRAM, or a datagram context): datagram.c */
    if (sg_dgram_wanted(ctx, ctx_handle, req))
        return sg_dgram_accept_context(cred_handle, ctx_handle, input, req, new_handle, output, attrs, expiry);
    if (!ctx_handle)
    {
        if (!cred) return SEC_E_INVALID_HANDLE;
        if (cred->use != SECPKG_CRED_INBOUND) return SEC_E_NO_CREDENTIALS;
        if (!new_handle) return SEC_E_INVALID_PARAMETER;
        if (!sg_find_buffer(input, SECBUFFER_TOKEN, 0)) return SEC_E_INVALID_TOKEN;
        if ((status = ctx_create(cred, TRUE, NULL, &ctx))) return status;
        if ((status = sg_server_session_setup(ctx, req, input)))
        {
            sg_ctx_destroy(ctx);
            return status;
        }
        created = TRUE;
    }
    else
    {
        if (!ctx || !ctx->server) return SEC_E_INVALID_HANDLE;
        if (ctx->state == SG_CTX_ESTABLISHED || (ctx->state == SG_CTX_CLOSED && ctx->shutdown_pending))
        {
            ctx->req = req;
            status = established_step(ctx, input, output, !!(req & ASC_REQ_ALLOCATE_MEMORY));
            if (new_handle && new_handle != ctx_handle) *new_handle = *ctx_handle;
            if (attrs) *attrs = req & ASC_HONOURED;
            return status;
        }
        if (ctx->state == SG_CTX_CLOSED) return SEC_E_CONTEXT_EXPIRED;
        if (ctx->state != SG_CTX_HANDSHAKE) return SEC_E_INVALID_HANDLE;
        if (!sg_find_buffer(input, SECBUFFER_TOKEN, 0)) return SEC_E_INVALID_TOKEN;
    }
    ctx->req = req;

    status = handshake_step(ctx, input, output, !!(req & ASC_REQ_ALLOCATE_MEMORY));
    /* A new context that failed (SEC_E_INCOMPLETE_MESSAGE too: nothing was accepted yet) goes;
     * the caller retries with more data and no context. */
    return sg_context_call_end(ctx, created, ctx_handle, new_handle, status, attrs,
                               req & ASC_HONOURED, expiry);
}

/* The context goes when the last call using the handle ends (handles.c). */
static void ctx_handle_destroy(void *object)
{
    sg_ctx_destroy(object);
}

SECURITY_STATUS sg_delete_context(CtxtHandle *handle)
{
    if (!sg_handle_free(SG_HANDLE_CTX, handle, ctx_handle_destroy)) return SEC_E_INVALID_HANDLE;
    return SEC_E_OK;
}
