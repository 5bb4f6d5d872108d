/*
 * Client-side context helpers for InitializeSecurityContext and QueryContextAttributes:
 * the ALPN offer (SECBUFFER_APPLICATION_PROTOCOLS) and its outcome
 * (SECPKG_ATTR_APPLICATION_PROTOCOL), SECPKG_ATTR_SESSION_INFO, the ISC_RET_ flags Windows
 * reports, the status codes that depend on the TLS alert (Windows' table of alerts), the
 * SECBUFFER_ALERT output buffer, and re-authentication (a second ISC call).
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

#define TLS_ALERT_NO_APPLICATION_PROTOCOL 120

/* Not in Wine 8's headers. */
#ifndef SSL_SESSION_RECONNECT
#define SSL_SESSION_RECONNECT 1
#endif

struct session_info
{
    DWORD dwFlags;
    DWORD cbSessionId;
    BYTE rgbSessionId[32];
};

/* The layout of SEC_APPLICATION_PROTOCOLS: a ULONG size, then lists, each an enum
 * SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT, an unsigned short size and the ids in TLS
 * wire form. */
#define PROTOCOL_LISTS_HEADER 4
#define PROTOCOL_LIST_HEADER  6

/* What the client's handshake steps carry besides tokens (see sg_client_step). */
struct sg_client_step
{
    BYTE *alpn;                /* first step: the ALPN offer, TLS wire form */
    DWORD alpn_size;
    BYTE *resume;              /* first step: cached session data to offer */
    DWORD resume_size;
    BOOL started;              /* the first step went */
    BOOL resume_answered;      /* the last final step reported the resumption data ... */
    BYTE *resume_out;          /* ... here (NULL: none yet) until the cache takes it */
    DWORD resume_out_size;
    BYTE *chain;               /* the last final step's peer chain, until validation takes it */
    DWORD chain_size;
};

/* Most ids one ALPN offer may hold (the engine's limit). */
#define MAX_ALPN_IDS 16
/* What the final step's regions start with; they grow to what sessions turn out to need. */
#define STEP_REGION_MIN 0x800
#define STEP_REGION_MAX 0x10000
static LONG resume_region_hint = STEP_REGION_MIN;
static LONG chain_region_hint = STEP_REGION_MIN;

/* The state goes when it holds nothing, so an established context does not keep it; made
 * again for a renegotiation, it knows the handshake is not the first. */
static struct sg_client_step *client_step(struct sg_ctx *ctx)
{
    if (!ctx->client_step && (ctx->client_step = sg_pool_alloc(sizeof(*ctx->client_step))))
        ctx->client_step->started = ctx->state != SG_CTX_HANDSHAKE;
    return ctx->client_step;
}

static void release_if_idle(struct sg_ctx *ctx)
{
    struct sg_client_step *step = ctx->client_step;

    if (step && step->started && !step->resume_answered && !step->chain) sg_client_step_free(ctx);
}

static void drop(BYTE **data, DWORD *size)
{
    if (*data) sg_wipe(*data, *size);
    sg_free(*data);
    *data = NULL;
    *size = 0;
}

/* The offered session: in the state's own block (sg_client_offer_resume) or a block of its own. */
static void drop_resume(struct sg_client_step *step)
{
    if (step->resume != (BYTE *)(step + 1))
    {
        drop(&step->resume, &step->resume_size);
        return;
    }
    sg_wipe(step->resume, step->resume_size);
    step->resume = NULL;
    step->resume_size = 0;
}

void sg_client_step_free(struct sg_ctx *ctx)
{
    struct sg_client_step *step = ctx->client_step;

    if (!step) return;
    drop(&step->alpn, &step->alpn_size);
    drop_resume(step);
    drop(&step->resume_out, &step->resume_out_size);
    drop(&step->chain, &step->chain_size);
    sg_pool_free(step);
    ctx->client_step = NULL;
}

/* A copy of data for the first step into *field; FALSE when it cannot be kept (no memory,
 * or the handshake has started). */
static BOOL keep_copy(struct sg_client_step *step, BYTE **field, DWORD *field_size, const BYTE *data, DWORD size)
{
    BYTE *copy;

    if (!step || step->started || !(copy = sg_alloc(size))) return FALSE;
    memcpy(copy, data, size);
    drop(field, field_size);
    *field = copy;
    *field_size = size;
    return TRUE;
}

/* Without an ALPN offer the state does not exist yet: the copy goes in the same block
 * (one heap block less per resumed connection); drop_resume() knows it. */
BOOL sg_client_offer_resume(struct sg_ctx *ctx, const BYTE *data, DWORD size)
{
    struct sg_client_step *step;

    if (!size) return FALSE;
    if (!ctx->client_step && ctx->state == SG_CTX_HANDSHAKE && (step = sg_pool_alloc(sizeof(*step) + size)))
    {
        step->resume = memcpy(step + 1, data, size);
        step->resume_size = size;
        ctx->client_step = step;
        return TRUE;
    }
    if (!(step = client_step(ctx)) || step->started) return FALSE;
    drop_resume(step);
    return keep_copy(step, &step->resume, &step->resume_size, data, size);
}

/* The engine's rules for an offer: ids of 1-255 bytes, each after its length byte, at most
 * MAX_ALPN_IDS of them. */
static BOOL alpn_list_ok(const BYTE *list, USHORT size)
{
    unsigned int count = 0, pos = 0;

    while (pos < size)
    {
        if (!list[pos] || list[pos] > size - pos - 1 || ++count > MAX_ALPN_IDS) return FALSE;
        pos += 1 + list[pos];
    }
    return TRUE;
}

static SECURITY_STATUS offer_alpn(struct sg_ctx *ctx, const BYTE *list, USHORT size)
{
    struct sg_client_step *step;

    if (!alpn_list_ok(list, size))
    {
        WARN("ALPN list refused\n");
        return SEC_E_INVALID_TOKEN;
    }
    if (!size) return SEC_E_OK;
    /* It goes with the first handshake step. */
    if (!(step = client_step(ctx)) || !keep_copy(step, &step->alpn, &step->alpn_size, list, size))
        return SEC_E_INSUFFICIENT_MEMORY;
    TRACE("offering ALPN %s\n", debugstr_an((const char *)list, size));
    return SEC_E_OK;
}

SECURITY_STATUS sg_client_set_alpn(struct sg_ctx *ctx, SecBufferDesc *input)
{
    SecBuffer *buffer = sg_find_buffer(input, SECBUFFER_APPLICATION_PROTOCOLS, 0);
    const BYTE *data;
    ULONG lists_size, pos;

    if (!buffer || !buffer->cbBuffer) return SEC_E_OK;
    if (!buffer->pvBuffer || buffer->cbBuffer < PROTOCOL_LISTS_HEADER) return SEC_E_INVALID_TOKEN;
    data = buffer->pvBuffer;
    memcpy(&lists_size, data, sizeof(lists_size));
    if (lists_size > buffer->cbBuffer - PROTOCOL_LISTS_HEADER) return SEC_E_INVALID_TOKEN;
    data += PROTOCOL_LISTS_HEADER;
    for (pos = 0; pos < lists_size;)
    {
        DWORD ext;
        USHORT size;

        if (lists_size - pos < PROTOCOL_LIST_HEADER) return SEC_E_INVALID_TOKEN;
        memcpy(&ext, data + pos, sizeof(ext));
        memcpy(&size, data + pos + 4, sizeof(size));
        pos += PROTOCOL_LIST_HEADER;
        if (size > lists_size - pos) return SEC_E_INVALID_TOKEN;
        if (ext == SecApplicationProtocolNegotiationExt_ALPN)
        {
            SECURITY_STATUS status = offer_alpn(ctx, data + pos, size);
            if (status) return status;
        }
        else TRACE("protocol list for extension %lu ignored\n", ext);
        pos += size;
    }
    return SEC_E_OK;
}

/* A region of hint bytes for one of the final step's results: the caller's stack area
 * when the hint fits it (a resumed handshake usually brings nothing back, so a heap block
 * per step was mostly wasted), else the heap. */
static BYTE *step_region(LONG hint, BYTE *stack, UINT64 *address, UINT32 *capacity)
{
    BYTE *region = hint <= STEP_REGION_MIN ? stack : sg_alloc(hint);

    *address = (ULONG_PTR)region;
    *capacity = region ? hint : 0;
    return region;
}

static void region_free(BYTE *region, const BYTE *stack)
{
    if (region != stack) sg_free(region);
}

/* Keeps what the final step wrote into *region (a heap region is taken over, a stack one
 * copied), or learns the size to start with next time. */
static BOOL park(BYTE **field, DWORD *field_size, BYTE **region, const BYTE *stack, UINT32 capacity, UINT32 size,
                 LONG *hint)
{
    BYTE *kept;

    if (size > capacity)
    {
        if (size <= STEP_REGION_MAX && (LONG)size > *hint) InterlockedExchange(hint, size);
        return FALSE;
    }
    drop(field, field_size);
    if (!size) return TRUE;
    if (*region == stack)
    {
        if (!(kept = sg_alloc(size))) return FALSE;
        memcpy(kept, *region, size);
    }
    else
    {
        kept = *region;
        *region = NULL;
    }
    *field = kept;
    *field_size = size;
    return TRUE;
}

NTSTATUS sg_client_step(struct sg_ctx *ctx, struct sg_handshake_params *params)
{
    struct sg_client_step *step = client_step(ctx);
    BYTE *resume_region = NULL, *chain_region = NULL;
    BYTE resume_stack[STEP_REGION_MIN], chain_stack[STEP_REGION_MIN];
    UINT32 resume_capacity, chain_capacity;
    NTSTATUS ret;

    if (!step) return sg_unix_call(unix_client_handshake, params);
    if (!step->started)
    {
        params->alpn = (ULONG_PTR)step->alpn;
        params->alpn_size = step->alpn_size;
        params->resume = (ULONG_PTR)step->resume;
        params->resume_size = step->resume_size;
        /* Watch for a CertificateRequest when the credential has no certificate to answer it with. */
        if (!ctx->cred->cert && !(ctx->req & ISC_REQ_USE_SUPPLIED_CREDS)) params->step_flags |= SG_STEP_ASK_CLIENT_CERT;
    }
    else
    {
        /* Regions for what the session cache and validation need once the handshake is done
         * (the first step, without input, never finishes it). */
        if (!ctx->reconnects_disabled)
            resume_region = step_region(resume_region_hint, resume_stack, &params->resume_out,
                                        &params->resume_out_capacity);
        if (!sg_manual_validation(ctx))
            chain_region = step_region(chain_region_hint, chain_stack, &params->peer_certs,
                                       &params->peer_certs_capacity);
    }
    resume_capacity = params->resume_out_capacity;
    chain_capacity = params->peer_certs_capacity;
    ret = sg_unix_call(unix_client_handshake, params);
    if (!step->started)
    {
        drop(&step->alpn, &step->alpn_size);
        drop_resume(step);
        step->started = TRUE;
    }
    if (!ret && params->status == SG_OK)
    {
        drop(&step->resume_out, &step->resume_out_size);
        drop(&step->chain, &step->chain_size);
        step->resume_answered = resume_region && park(&step->resume_out, &step->resume_out_size, &resume_region,
                                                      resume_stack, resume_capacity, params->resume_out_size,
                                                      &resume_region_hint);
        if (chain_region && !params->info.resumed)
            park(&step->chain, &step->chain_size, &chain_region, chain_stack, chain_capacity,
                 params->peer_certs_size, &chain_region_hint);
        TRACE("final step: resumption data %u of %u, chain %u of %u\n", params->resume_out_size, resume_capacity,
              params->peer_certs_size, chain_capacity);
    }
    /* Only what the engine wrote there (it writes nothing when the data does not fit). */
    if (resume_region) sg_wipe(resume_region, min(params->resume_out_size, resume_capacity));
    region_free(resume_region, resume_stack);
    region_free(chain_region, chain_stack);
    if (!ret && params->status == SG_OK) release_if_idle(ctx);
    return ret;
}

BOOL sg_client_take_resume(struct sg_ctx *ctx, BYTE **data, DWORD *size)
{
    struct sg_client_step *step = ctx->client_step;

    *data = NULL;
    *size = 0;
    if (!step || !step->resume_answered) return FALSE;
    *data = step->resume_out;
    *size = step->resume_out_size;
    step->resume_out = NULL;
    step->resume_out_size = 0;
    step->resume_answered = FALSE;
    release_if_idle(ctx);
    return TRUE;
}

BYTE *sg_client_take_peer_certs(struct sg_ctx *ctx, DWORD *size)
{
    struct sg_client_step *step = ctx->client_step;
    BYTE *chain;

    *size = 0;
    if (!step || !step->chain) return NULL;
    chain = step->chain;
    *size = step->chain_size;
    step->chain = NULL;
    step->chain_size = 0;
    release_if_idle(ctx);
    return chain;
}

SECURITY_STATUS sg_client_query_alpn(struct sg_ctx *ctx, void *buffer)
{
    SecPkgContext_ApplicationProtocol *proto = buffer;
    struct sg_session_alpn_params params = { 0 };

    if (ctx->state != SG_CTX_ESTABLISHED && ctx->state != SG_CTX_CLOSED) return SEC_E_INVALID_HANDLE;
    memset(proto, 0, sizeof(*proto));
    params.session = ctx->session;
    params.buffer = (ULONG_PTR)proto->ProtocolId;
    params.size = sizeof(proto->ProtocolId);
    if (sg_unix_call(unix_session_get_alpn, &params) || params.status != SG_OK) return SEC_E_INTERNAL_ERROR;
    if (params.result_size)
    {
        proto->ProtoNegoStatus = SecApplicationProtocolNegotiationStatus_Success;
        proto->ProtoNegoExt = SecApplicationProtocolNegotiationExt_ALPN;
        proto->ProtocolIdSize = params.result_size;
    }
    return SEC_E_OK;
}

SECURITY_STATUS sg_client_query_session_info(struct sg_ctx *ctx, void *buffer)
{
    struct sg_session_resume_params params = { 0 };
    struct session_info *info = buffer;

    if (ctx->state != SG_CTX_ESTABLISHED && ctx->state != SG_CTX_CLOSED) return SEC_E_INVALID_HANDLE;
    params.session = ctx->session;
    if (sg_unix_call(unix_session_get_resume, &params)) return SEC_E_INTERNAL_ERROR;
    memset(info, 0, sizeof(*info));
    info->dwFlags = ctx->info.resumed ? SSL_SESSION_RECONNECT : 0;
    info->cbSessionId = min(params.session_id_size, sizeof(info->rgbSessionId));
    memcpy(info->rgbSessionId, params.session_id, info->cbSessionId);
    return SEC_E_OK;
}

/*
 * What a Windows client reports in pfContextAttr: replay and sequence detection,
 * confidentiality and stream mode always (an Schannel connection has them whatever was
 * asked), plus the requests it honours as asked.
 */
ULONG sg_client_ret_flags(ULONG req)
{
    ULONG ret = ISC_RET_REPLAY_DETECT | ISC_RET_SEQUENCE_DETECT | ISC_RET_CONFIDENTIALITY | ISC_RET_STREAM;

    ret |= req & (ISC_REQ_MUTUAL_AUTH | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_EXTENDED_ERROR | ISC_REQ_INTEGRITY
                  | ISC_REQ_CONNECTION | ISC_REQ_MANUAL_CRED_VALIDATION);
    if (req & ISC_REQ_USE_SUPPLIED_CREDS) ret |= ISC_RET_USED_SUPPLIED_CREDS;
    return ret;
}

/* Failures whose code depends on the alert exchanged. */
SECURITY_STATUS sg_client_status_from_alert(SECURITY_STATUS status, UINT32 alert)
{
    if (!FAILED(status) || alert == SG_ALERT_NONE) return status;
    if (alert == TLS_ALERT_NO_APPLICATION_PROTOCOL) return SEC_E_APPLICATION_PROTOCOL_MISMATCH;
    return status;
}

/*
 * The status Schannel returns when the peer's fatal alert ended the handshake, as listed in
 * "Schannel Error Codes for TLS and SSL Alerts". For no_application_protocol the page names
 * SEC_E_ILLEGAL_MESSAGE but gives 0x80090367, SEC_E_APPLICATION_PROTOCOL_MISMATCH, which is
 * what Windows clients see.
 */
SECURITY_STATUS sg_client_status_from_peer_alert(UINT32 alert)
{
    switch (alert)
    {
    case 20:  return SEC_E_MESSAGE_ALTERED;          /* bad_record_mac */
    case 21:  return SEC_E_DECRYPT_FAILURE;          /* decryption_failed */
    case 30:  return SEC_E_MESSAGE_ALTERED;          /* decompression_failure */
    case 42:                                         /* bad_certificate */
    case 43:                                         /* unsupported_certificate */
    case 46:  return SEC_E_CERT_UNKNOWN;             /* certificate_unknown */
    case 44:  return CRYPT_E_REVOKED;                /* certificate_revoked */
    case 45:  return SEC_E_CERT_EXPIRED;             /* certificate_expired */
    case 48:  return SEC_E_UNTRUSTED_ROOT;           /* unknown_ca */
    case 49:  return SEC_E_LOGON_DENIED;             /* access_denied */
    case 51:  return SEC_E_DECRYPT_FAILURE;          /* decrypt_error */
    case 70:  return SEC_E_UNSUPPORTED_FUNCTION;     /* protocol_version */
    case 71:  return SEC_E_ALGORITHM_MISMATCH;       /* insufficient_security */
    case 80:  return SEC_E_INTERNAL_ERROR;           /* internal_error */
    case 90:  return SEC_E_UNFINISHED_CONTEXT_DELETED; /* user_canceled */
    case TLS_ALERT_NO_APPLICATION_PROTOCOL: return SEC_E_APPLICATION_PROTOCOL_MISMATCH;
    /* unexpected_message, record_overflow, handshake_failure, illegal_parameter,
     * decode_error, export_restriction, no_renegotiation, unsupported_extension,
     * unknown_psk_identity and anything else */
    default:  return SEC_E_ILLEGAL_MESSAGE;
    }
}

/* The alert a client sends when the server's certificate fails validation: the alert whose
 * reception gives the same status (the table above, read backwards). */
static UINT32 alert_for_validation(SECURITY_STATUS status)
{
    switch (status)
    {
    case SEC_E_UNTRUSTED_ROOT:    return 48;  /* unknown_ca */
    case SEC_E_CERT_EXPIRED:      return 45;  /* certificate_expired */
    case CRYPT_E_REVOKED:         return 44;  /* certificate_revoked */
    case SEC_E_CERT_WRONG_USAGE:  return 43;  /* unsupported_certificate */
    case SEC_E_WRONG_PRINCIPAL:   return 42;  /* bad_certificate */
    default:                      return 46;  /* certificate_unknown */
    }
}

/*
 * Puts bytes for the peer (an alert record, after what the failed step still had to send)
 * into the caller's SECBUFFER_ALERT output buffer: memory it frees with FreeContextBuffer
 * under ISC_REQ_ALLOCATE_MEMORY, its own buffer otherwise. FALSE when there is no such
 * buffer (or it is too small): the bytes stay where they are.
 */
BOOL sg_client_put_alert(SecBufferDesc *output, BOOL allocate, const BYTE *bytes, ULONG size)
{
    SecBuffer *buffer = sg_find_buffer(output, SECBUFFER_ALERT, 0);

    if (!buffer || !size) return FALSE;
    if (allocate)
    {
        if (!(buffer->pvBuffer = sg_context_buffer_alloc(size))) return FALSE;
    }
    else if (!buffer->pvBuffer || buffer->cbBuffer < size)
    {
        WARN("alert buffer of %lu bytes too small for %lu\n", buffer->cbBuffer, size);
        return FALSE;
    }
    memcpy(buffer->pvBuffer, bytes, size);
    buffer->cbBuffer = size;
    TRACE("%lu bytes in SECBUFFER_ALERT\n", size);
    return TRUE;
}

/*
 * The server's certificate failed validation after the engine finished the handshake: a
 * fatal alert for the server goes to SECBUFFER_ALERT, after the rest of our handshake
 * (TLS 1.3: our Finished, which the server needs before it can read the alert), and the
 * token is emptied. Without a SECBUFFER_ALERT buffer nothing changes.
 */
void sg_client_validation_alert(struct sg_ctx *ctx, SECURITY_STATUS status, SecBufferDesc *output, BOOL allocate)
{
    struct sg_send_alert_params params = { 0 };
    SecBuffer *token = sg_find_buffer(output, SECBUFFER_TOKEN, 0);
    ULONG token_size = token && token->pvBuffer ? token->cbBuffer : 0;
    BYTE record[512], *bytes;

    if (!sg_find_buffer(output, SECBUFFER_ALERT, 0)) return;
    params.session = ctx->session;
    params.output = (ULONG_PTR)record;
    params.output_capacity = sizeof(record);
    params.level = 2;  /* fatal */
    params.description = alert_for_validation(status);
    if (sg_unix_call(unix_send_alert, &params) || params.status != SG_OK || params.output_size > sizeof(record))
    {
        WARN("no alert for %#lx: %u\n", status, params.status);
        return;
    }
    if (!(bytes = sg_alloc(token_size + params.output_size))) return;
    if (token_size) memcpy(bytes, token->pvBuffer, token_size);
    memcpy(bytes + token_size, record, params.output_size);
    if (sg_client_put_alert(output, allocate, bytes, token_size + params.output_size) && token)
    {
        if (allocate && token->pvBuffer) FreeContextBuffer(token->pvBuffer);
        if (allocate) token->pvBuffer = NULL;
        token->cbBuffer = 0;
    }
    TRACE("validation failed (%#lx): alert %u after %lu token bytes\n", status, params.description, token_size);
    sg_free(bytes);
}

/*
 * A second InitializeSecurityContext on an established connection asks for a new handshake
 * (re-authentication). TLS 1.0-1.2: the engine sends a ClientHello with the next step.
 * FALSE in TLS 1.3, which has no renegotiation.
 */
BOOL sg_client_begin_renegotiation(struct sg_ctx *ctx)
{
    struct sg_client_renegotiate_params params = { 0 };

    params.session = ctx->session;
    if (sg_unix_call(unix_client_renegotiate, &params) || params.status != SG_OK)
    {
        TRACE("no renegotiation: %u\n", params.status);
        return FALSE;
    }
    TRACE("client-initiated renegotiation\n");
    return TRUE;
}
