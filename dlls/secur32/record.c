/*
 * EncryptMessage / DecryptMessage in stream mode: one record per call, one unix call per
 * record, the record written and read in the caller's own buffers.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

/* The context a message call (TLS or DTLS) may use: an established one. */
SECURITY_STATUS sg_ctx_usable(struct sg_ctx *ctx, struct sg_ctx **ret)
{
    if (!ctx) return SEC_E_INVALID_HANDLE;
    switch (ctx->state)
    {
    case SG_CTX_ESTABLISHED: *ret = ctx; return SEC_E_OK;
    case SG_CTX_CLOSED:      return SEC_E_CONTEXT_EXPIRED;
    default:                 return SEC_E_INVALID_HANDLE;
    }
}

/* One record written around the caller's data (unix_encrypt or unix_dtls_encrypt). */
SECURITY_STATUS sg_encrypt_record(struct sg_ctx *ctx, enum sg_unix_call call, SecBuffer *header, SecBuffer *data,
                                  SecBuffer *trailer)
{
    struct sg_encrypt_params params = { 0 };

    params.session = ctx->session;
    params.header = (ULONG_PTR)header->pvBuffer;
    params.header_size = header->cbBuffer;
    params.data = (ULONG_PTR)data->pvBuffer;
    params.data_size = data->cbBuffer;
    params.trailer = (ULONG_PTR)trailer->pvBuffer;
    params.trailer_size = trailer->cbBuffer;
    if (sg_unix_call(call, &params)) return SEC_E_INTERNAL_ERROR;
    if (params.status != SG_OK)
    {
        WARN("engine: status %u, error %d\n", params.status, params.library_error);
        return sg_status_from_engine(params.status);
    }
    header->cbBuffer = params.header_used;
    trailer->cbBuffer = params.trailer_used;
    return SEC_E_OK;
}

/* ctx: the object of a context handle the caller pinned and locked (sspi.c). */
SECURITY_STATUS sg_encrypt_message(struct sg_ctx *ctx, ULONG qop, SecBufferDesc *message, ULONG seq)
{
    SecBuffer *header, *data, *trailer;
    SECURITY_STATUS status;

    if (ctx->datagram) return sg_dgram_encrypt_message(ctx, qop, message, seq);  /* DTLS: datagram.c */
    if ((status = sg_ctx_usable(ctx, &ctx))) return status;
    if (!message || !message->pBuffers) return SEC_E_INVALID_TOKEN;
    if (!sg_find_record_buffers(message, &header, &data, &trailer))
    {
        WARN("missing or empty stream buffers\n");
        return SEC_E_INVALID_TOKEN;
    }
    if (data->cbBuffer > ctx->info.max_message)
    {
        /* Windows fails such a call with SEC_E_ENCRYPT_FAILURE; it never splits the data. */
        WARN("%lu bytes exceed the %u byte record limit\n", data->cbBuffer, ctx->info.max_message);
        return SEC_E_ENCRYPT_FAILURE;
    }
    if (header->cbBuffer < ctx->info.header_size) return SEC_E_BUFFER_TOO_SMALL;
    return sg_encrypt_record(ctx, unix_encrypt, header, data, trailer);
}

static void report_record(SecBufferDesc *message, BYTE *base, ULONG total, const struct sg_decrypt_params *params)
{
    sg_report_record(message, base, total, params->consumed, params->data_offset, params->data_size, TRUE);
}

/* ctx: the object of a context handle the caller pinned and locked (sspi.c). */
SECURITY_STATUS sg_decrypt_message(struct sg_ctx *ctx, SecBufferDesc *message, ULONG seq, ULONG *qop)
{
    struct sg_decrypt_params params = { 0 };
    SECURITY_STATUS status;
    SecBuffer *data;
    BYTE *base;
    ULONG total;

    if (ctx->datagram) return sg_dgram_decrypt_message(ctx, message, seq, qop);  /* DTLS: datagram.c */
    if ((status = sg_ctx_usable(ctx, &ctx))) return status;
    if (!message || !message->pBuffers) return SEC_E_INVALID_TOKEN;
    if (!(data = sg_find_buffer(message, SECBUFFER_DATA, 0)) || !data->pvBuffer) return SEC_E_INVALID_TOKEN;
    base = data->pvBuffer;
    total = data->cbBuffer;

    params.session = ctx->session;
    params.buffer = (ULONG_PTR)base;
    params.size = total;
    if (sg_unix_call(unix_decrypt, &params)) return SEC_E_INTERNAL_ERROR;
    if (params.status == SG_OK || params.status == SG_CLOSED || params.status == SG_RENEGOTIATE)
    {
        if (!sg_record_layout_valid(total, params.consumed, params.data_offset, params.data_size))
        {
            ERR("engine reported an impossible record layout\n");
            return SEC_E_INTERNAL_ERROR;
        }
    }
    if (qop) *qop = 0;

    switch (params.status)
    {
    case SG_OK:
        report_record(message, base, total, &params);
        if (!(params.flags & SG_DECRYPT_POST_HANDSHAKE)) return SEC_E_OK;
        /* TLS 1.3 NewSessionTicket / KeyUpdate. Windows (TLS 1.3 needs SCH_CREDENTIALS there)
         * reports them as SEC_I_RENEGOTIATE and the caller calls ISC/ASC with the EXTRA bytes;
         * we do the same, and always when a reply (KeyUpdate) waits for the peer. SCHANNEL_CRED
         * callers (no TLS 1.3 on Windows) get the record consumed with no data. */
        if (ctx->cred->version == SCHANNEL_CRED_VERSION && !params.output_pending) return SEC_E_OK;
        TRACE("post-handshake message, %u bytes to send\n", params.output_pending);
        ctx->post_handshake = TRUE;
        return SEC_I_RENEGOTIATE;
    case SG_CLOSED:
        TRACE("peer sent close_notify\n");
        ctx->state = SG_CTX_CLOSED;
        report_record(message, base, total, &params);
        return SEC_I_CONTEXT_EXPIRED;
    case SG_RENEGOTIATE:
        TRACE("peer asks for a new handshake\n");
        report_record(message, base, total, &params);
        ctx->renegotiating = TRUE;
        return SEC_I_RENEGOTIATE;
    case SG_INCOMPLETE:
        sg_report_missing(message, params.missing);
        return SEC_E_INCOMPLETE_MESSAGE;
    default:
        WARN("engine: status %u, alert %#x, error %d\n", params.status, params.alert, params.library_error);
        return sg_status_from_engine(params.status);
    }
}
