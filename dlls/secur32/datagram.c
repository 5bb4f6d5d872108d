/*
 * DTLS contexts (ISC_REQ_DATAGRAM / ASC_REQ_DATAGRAM): the datagram variants of the
 * handshake step, EncryptMessage / DecryptMessage and the DTLS MTU attribute.
 *
 * Buffer rules, as Windows programs use them (FFmpeg's and FTEQW's Schannel DTLS code):
 *  - every input token is one whole datagram and is always consumed: no SECBUFFER_EXTRA;
 *  - every output token is one datagram of at most the path MTU (SECBUFFER_DTLS_MTU in the
 *    input, SetContextAttributes(SECPKG_ATTR_DTLS_MTU), default 1096). When a flight needs more
 *    datagrams the call returns SEC_I_MESSAGE_FRAGMENT and the caller calls again (its input
 *    is then not looked at) until SEC_I_CONTINUE_NEEDED or SEC_E_OK;
 *  - the server's input may carry the client's address in a SECBUFFER_EXTRA buffer: the
 *    HelloVerifyRequest cookie is bound to it;
 *  - retransmission is driven by the caller: a call without an input token when its timer
 *    fired resends the last flight once the RFC 6347 timer (1 s, doubling) has run out;
 *  - after the handshake, a peer that resent its last flight (ours was lost) makes
 *    DecryptMessage return SEC_I_RENEGOTIATE with a SECBUFFER_EXTRA token; the ISC/ASC call
 *    the caller then makes hands out our last flight again;
 *  - DTLS-SRTP: SECBUFFER_SRTP_PROTECTION_PROFILES / SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER in
 *    the first call's input, SECPKG_ATTR_SRTP_PARAMETERS after the handshake, the keys from the
 *    RFC 5705 exporter (SECPKG_ATTR_KEYING_MATERIAL_INFO / _KEYING_MATERIAL, attributes.c).
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

#ifndef SECPKG_ATTR_DTLS_MTU
#define SECPKG_ATTR_DTLS_MTU 34
#endif

#ifndef SECBUFFER_SRTP_PROTECTION_PROFILES
#define SECBUFFER_SRTP_PROTECTION_PROFILES 19
#endif
#ifndef SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER
#define SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER 20
#endif

/* SEC_DTLS_MTU (sspi.h) */
struct dgram_mtu
{
    unsigned short PathMTU;
};

/* SecPkgContext_SrtpParameters (sspi.h) */
struct dgram_srtp_parameters
{
    USHORT ProtectionProfile;
    BYTE MasterKeyIdentifierSize;
    BYTE *MasterKeyIdentifier;
};

#define DGRAM_SCRATCH (SG_DTLS_MAX_MTU + 1)
#define DGRAM_ASC_HONOURED (ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONFIDENTIALITY \
    | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR | ASC_REQ_INTEGRITY)

static struct sg_ctx *dgram_ctx(const CtxtHandle *handle)
{
    struct sg_ctx *ctx = sg_handle_get(SG_HANDLE_CTX, handle);
    return ctx && ctx->datagram ? ctx : NULL;
}

/* ctx: the object of ctx_handle, NULL when there is none. */
BOOL sg_dgram_wanted(const struct sg_ctx *ctx, const CtxtHandle *ctx_handle, ULONG req)
{
    if (ctx) return ctx->datagram;
    return !ctx_handle && (req & ISC_REQ_DATAGRAM);  /* ASC_REQ_DATAGRAM has the same value */
}

DWORD sg_dgram_sp_protocol(const struct sg_ctx *ctx)
{
    switch (ctx->info.protocol)
    {
    case SG_PROTO_DTLS1_0: return ctx->server ? SP_PROT_DTLS1_0_SERVER : SP_PROT_DTLS1_0_CLIENT;
    case SG_PROTO_DTLS1_2: return ctx->server ? SP_PROT_DTLS1_2_SERVER : SP_PROT_DTLS1_2_CLIENT;
    default:               return 0;
    }
}

static UINT32 engine_dtls_protocols(DWORD sp)
{
    UINT32 ret = 0;
    if (sp & SP_PROT_DTLS1_0) ret |= SG_PROTO_DTLS1_0;
    if (sp & SP_PROT_DTLS1_2) ret |= SG_PROTO_DTLS1_2;
    return ret;
}

/* SECBUFFER_DTLS_MTU in the input, 0 when there is none. */
static USHORT input_mtu(SecBufferDesc *input)
{
    SecBuffer *buffer = input ? sg_find_buffer(input, SECBUFFER_DTLS_MTU, 0) : NULL;

    if (!buffer || buffer->cbBuffer < sizeof(struct dgram_mtu) || !buffer->pvBuffer) return 0;
    return ((const struct dgram_mtu *)buffer->pvBuffer)->PathMTU;
}

static SECURITY_STATUS dgram_control_in(struct sg_ctx *ctx, UINT32 what, const void *data, ULONG size)
{
    struct sg_dtls_control_params params = { 0 };

    params.session = ctx->session;
    params.what = what;
    params.output = (ULONG_PTR)data;
    params.output_capacity = size;
    if (sg_unix_call(unix_dtls_control, &params)) return SEC_E_INTERNAL_ERROR;
    if (params.status == SG_OK) return SEC_E_OK;
    return params.status == SG_ERR_NO_MEMORY ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INVALID_PARAMETER;
}

/* DTLS-SRTP (RFC 5764) from the first call's input: SECBUFFER_SRTP_PROTECTION_PROFILES holds
 * SEC_SRTP_PROTECTION_PROFILES (ProfilesSize in bytes, then the profile ids as they go on the
 * wire, big-endian, in order of preference), SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER holds
 * SEC_SRTP_MASTER_KEY_IDENTIFIER. Profiles the engine lacks are left out of the offer. */
static SECURITY_STATUS dgram_apply_srtp(struct sg_ctx *ctx, SecBufferDesc *input)
{
    SecBuffer *profiles = input ? sg_find_buffer(input, SECBUFFER_SRTP_PROTECTION_PROFILES, 0) : NULL;
    SecBuffer *mki = input ? sg_find_buffer(input, SECBUFFER_SRTP_MASTER_KEY_IDENTIFIER, 0) : NULL;
    SECURITY_STATUS status;
    const BYTE *p;
    USHORT size;

    if (profiles && profiles->cbBuffer)
    {
        if (!profiles->pvBuffer || profiles->cbBuffer < sizeof(USHORT)) return SEC_E_INVALID_PARAMETER;
        p = profiles->pvBuffer;
        memcpy(&size, p, sizeof(size));
        if ((size & 1) || size > profiles->cbBuffer - sizeof(USHORT))
        {
            WARN("SRTP profile list of %u bytes in a buffer of %lu\n", size, profiles->cbBuffer);
            return SEC_E_INVALID_PARAMETER;
        }
        TRACE("SRTP: %u profiles offered\n", size / 2);
        if ((status = dgram_control_in(ctx, SG_DTLS_SET_SRTP_PROFILES, p + sizeof(USHORT), size))) return status;
    }
    if (mki && mki->cbBuffer)
    {
        if (!mki->pvBuffer) return SEC_E_INVALID_PARAMETER;
        p = mki->pvBuffer;
        if (p[0] > mki->cbBuffer - 1) return SEC_E_INVALID_PARAMETER;
        if ((status = dgram_control_in(ctx, SG_DTLS_SET_SRTP_MKI, p + 1, p[0]))) return status;
    }
    return SEC_E_OK;
}

/* SECPKG_ATTR_SRTP_PARAMETERS: the negotiated profile as on the wire (big-endian, as Schannel
 * reports it), 0 when the peers agreed on none; the MKI in a FreeContextBuffer allocation. */
SECURITY_STATUS sg_dgram_srtp_parameters(struct sg_ctx *ctx, void *buffer)
{
    struct dgram_srtp_parameters *out = buffer;
    struct sg_dtls_control_params params = { 0 };
    BYTE mki[256];

    if (!ctx->datagram) return SEC_E_UNSUPPORTED_FUNCTION;
    params.session = ctx->session;
    params.what = SG_DTLS_GET_SRTP;
    params.output = (ULONG_PTR)mki;
    params.output_capacity = sizeof(mki);
    if (sg_unix_call(unix_dtls_control, &params) || params.status != SG_OK || params.output_size > 255)
        return SEC_E_INTERNAL_ERROR;
    out->ProtectionProfile = (USHORT)(((params.value & 0xff) << 8) | ((params.value >> 8) & 0xff));
    out->MasterKeyIdentifierSize = params.output_size;
    out->MasterKeyIdentifier = NULL;
    if (params.output_size)
    {
        if (!(out->MasterKeyIdentifier = sg_context_buffer_alloc(params.output_size)))
            return SEC_E_INSUFFICIENT_MEMORY;
        memcpy(out->MasterKeyIdentifier, mki, params.output_size);
    }
    return SEC_E_OK;
}

static SECURITY_STATUS dgram_ctx_create(struct sg_cred *cred, BOOL server, const WCHAR *target,
                                        SecBufferDesc *input, struct sg_ctx **ret)
{
    struct sg_dtls_session_create_params params = { 0 };
    UINT32 protocols = engine_dtls_protocols(cred->dtls_protocols);
    USHORT mtu = input_mtu(input);
    struct sg_ctx *ctx;
    char *sni = NULL;
    int len = 0;

    if (!protocols)
    {
        WARN("the credential enables no DTLS version (protocols %#lx)\n", cred->dtls_protocols);
        return SEC_E_ALGORITHM_MISMATCH;
    }
    if (mtu && mtu < SG_DTLS_MIN_MTU) return SEC_E_INVALID_PARAMETER;
    if (!(ctx = sg_pool_alloc(sizeof(*ctx)))) return SEC_E_INSUFFICIENT_MEMORY;
    sg_cred_addref(cred);
    ctx->cred = cred;
    ctx->server = server;
    ctx->datagram = TRUE;
    ctx->state = SG_CTX_HANDSHAKE;
    ctx->reconnects_disabled = TRUE;   /* DTLS sessions stay out of the (TLS) session cache */
    ctx->dtls_mtu = mtu ? mtu : SG_DTLS_DEFAULT_MTU;
    if (!(ctx->scratch = sg_alloc(DGRAM_SCRATCH)) || (target && *target && !(ctx->target = sg_strdupW(target))))
    {
        sg_ctx_destroy(ctx);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    ctx->scratch_size = DGRAM_SCRATCH;
    if (!server && ctx->target && !sg_is_ip_literal(ctx->target))
    {
        len = WideCharToMultiByte(CP_UTF8, 0, ctx->target, -1, NULL, 0, NULL, NULL);
        if (len > 1 && (sni = sg_alloc(len))) WideCharToMultiByte(CP_UTF8, 0, ctx->target, -1, sni, len, NULL, NULL);
    }
    params.cred = cred->unix_cred;
    params.flags = server ? SG_SESSION_SERVER : 0;
    params.server_name = (ULONG_PTR)sni;
    params.server_name_size = sni ? len - 1 : 0;
    params.protocols = protocols;
    params.mtu = ctx->dtls_mtu;
    if (sg_unix_call(unix_dtls_session_create, &params)) params.status = SG_ERR_INTERNAL;
    sg_free(sni);
    if (params.status != SG_OK)
    {
        WARN("engine DTLS session creation failed: %u (%d)\n", params.status, params.library_error);
        sg_ctx_destroy(ctx);
        return params.status == SG_ERR_NO_MEMORY ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_INTERNAL_ERROR;
    }
    ctx->session = params.session;
    {
        SECURITY_STATUS status = dgram_apply_srtp(ctx, input);
        if (status)
        {
            sg_ctx_destroy(ctx);
            return status;
        }
    }
    *ret = ctx;
    return SEC_E_OK;
}

/* One handshake step: at most one datagram in, one datagram out. */
static SECURITY_STATUS dgram_step(struct sg_ctx *ctx, SecBufferDesc *input, SecBufferDesc *output, BOOL allocate)
{
    struct sg_dtls_handshake_params params = { 0 };
    SecBuffer *token = input ? sg_find_buffer(input, SECBUFFER_TOKEN, 0) : NULL;
    SecBuffer *address = ctx->server && input ? sg_find_buffer(input, SECBUFFER_EXTRA, 0) : NULL;
    SECURITY_STATUS status, write_status;

    if (token && token->cbBuffer && !token->pvBuffer) return SEC_E_INVALID_TOKEN;
    params.session = ctx->session;
    params.input = token ? (ULONG_PTR)token->pvBuffer : 0;
    params.input_size = token ? token->cbBuffer : 0;
    if (address && address->pvBuffer)
    {
        params.client_id = (ULONG_PTR)address->pvBuffer;
        params.client_id_size = address->cbBuffer;
    }
    params.output = (ULONG_PTR)ctx->scratch;
    params.output_capacity = ctx->scratch_size;
    if (sg_unix_call(unix_dtls_handshake, &params)) return SEC_E_INTERNAL_ERROR;
    TRACE("engine: status %u, input %u, output %u, more %u, alert %#x, error %d\n", params.status,
          params.input_size, params.output_size, params.more, params.alert, params.library_error);

    switch (params.status)
    {
    case SG_OK:
        ctx->info = params.info;
        ctx->state = SG_CTX_ESTABLISHED;
        status = params.more ? SEC_I_MESSAGE_FRAGMENT : SEC_E_OK;
        if (!ctx->server && !sg_manual_validation(ctx) && (status = sg_verify_server_chain(ctx)))
            ctx->state = SG_CTX_FAILED;
        break;
    case SG_CONTINUE:
        status = params.more ? SEC_I_MESSAGE_FRAGMENT : SEC_I_CONTINUE_NEEDED;
        break;
    default:
        status = sg_status_from_engine(params.status);
        if (!ctx->server) status = sg_client_status_from_alert(status, params.alert);
        ctx->state = SG_CTX_FAILED;
        break;
    }
    write_status = sg_write_token(output, allocate, ctx->scratch, params.output_size);
    if (write_status && !FAILED(status)) status = write_status;
    return status;
}

/* An established context: close_notify after SCHANNEL_SHUTDOWN, or the datagrams still queued
 * (the rest of the final flight, or a flight the engine resent for the peer). */
static SECURITY_STATUS dgram_established_step(struct sg_ctx *ctx, SecBufferDesc *output, BOOL allocate)
{
    struct sg_dtls_control_params params = { 0 };
    SECURITY_STATUS status;

    params.session = ctx->session;
    params.what = ctx->shutdown_pending && !ctx->close_sent ? SG_DTLS_SHUTDOWN : SG_DTLS_TAKE_OUTPUT;
    params.output = (ULONG_PTR)ctx->scratch;
    params.output_capacity = ctx->scratch_size;
    if (sg_unix_call(unix_dtls_control, &params) || params.status != SG_OK)
        return params.status == SG_OK ? SEC_E_INTERNAL_ERROR : sg_status_from_engine(params.status);
    if (params.what == SG_DTLS_SHUTDOWN)
    {
        ctx->close_sent = TRUE;
        ctx->state = SG_CTX_CLOSED;
    }
    if ((status = sg_write_token(output, allocate, ctx->scratch, params.output_size))) return status;
    return params.more ? SEC_I_MESSAGE_FRAGMENT : SEC_E_OK;
}

/* An established context (or one still to send its close_notify) hands out queued datagrams;
 * a closed one is done; one in its handshake makes the next step. */
static SECURITY_STATUS dgram_state_check(const struct sg_ctx *ctx)
{
    if (ctx->state == SG_CTX_CLOSED && !(ctx->shutdown_pending && !ctx->close_sent)) return SEC_E_CONTEXT_EXPIRED;
    if (ctx->state != SG_CTX_ESTABLISHED && ctx->state != SG_CTX_CLOSED && ctx->state != SG_CTX_HANDSHAKE)
        return SEC_E_INVALID_HANDLE;
    return SEC_E_OK;
}

static SECURITY_STATUS dgram_next_step(struct sg_ctx *ctx, SecBufferDesc *input, SecBufferDesc *output, BOOL allocate)
{
    if (ctx->state == SG_CTX_HANDSHAKE) return dgram_step(ctx, input, output, allocate);
    return dgram_established_step(ctx, output, allocate);
}

SECURITY_STATUS sg_dgram_initialize_context(CredHandle *cred_handle, CtxtHandle *ctx_handle, const WCHAR *target,
                                            ULONG req, SecBufferDesc *input, CtxtHandle *new_handle,
                                            SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry)
{
    BOOL allocate = !!(req & ISC_REQ_ALLOCATE_MEMORY);
    SECURITY_STATUS status;
    struct sg_ctx *ctx;
    BOOL created = FALSE;

    TRACE("cred %p, ctx %p, target %s, req %#lx\n", cred_handle, ctx_handle, debugstr_w(target), req);
    if (!ctx_handle)
    {
        struct sg_cred *cred = sg_handle_get(SG_HANDLE_CRED, cred_handle);

        if (!cred) return SEC_E_INVALID_HANDLE;
        if (cred->use != SECPKG_CRED_OUTBOUND) return SEC_E_NO_CREDENTIALS;
        if (!new_handle) return SEC_E_INVALID_PARAMETER;
        if ((status = dgram_ctx_create(cred, FALSE, target, input, &ctx))) return status;
        created = TRUE;
        input = NULL;   /* the first call sends the ClientHello */
    }
    else if (!(ctx = dgram_ctx(ctx_handle)) || ctx->server) return SEC_E_INVALID_HANDLE;
    ctx->req = req;
    if ((status = dgram_state_check(ctx))) return status;
    status = dgram_next_step(ctx, input, output, allocate);
    return sg_context_call_end(ctx, created, ctx_handle, new_handle, status, attrs,
                               (sg_client_ret_flags(req) & ~ISC_RET_STREAM) | ISC_RET_DATAGRAM, expiry);
}

SECURITY_STATUS sg_dgram_accept_context(CredHandle *cred_handle, CtxtHandle *ctx_handle, SecBufferDesc *input,
                                        ULONG req, CtxtHandle *new_handle, SecBufferDesc *output, ULONG *attrs,
                                        TimeStamp *expiry)
{
    BOOL allocate = !!(req & ASC_REQ_ALLOCATE_MEMORY);
    SECURITY_STATUS status;
    struct sg_ctx *ctx;
    BOOL created = FALSE;

    TRACE("cred %p, ctx %p, req %#lx\n", cred_handle, ctx_handle, req);
    if (!ctx_handle)
    {
        struct sg_cred *cred = sg_handle_get(SG_HANDLE_CRED, cred_handle);
        SecBuffer *token = input ? sg_find_buffer(input, SECBUFFER_TOKEN, 0) : NULL;

        if (!cred) return SEC_E_INVALID_HANDLE;
        if (cred->use != SECPKG_CRED_INBOUND) return SEC_E_NO_CREDENTIALS;
        if (!new_handle) return SEC_E_INVALID_PARAMETER;
        if (!token || !token->cbBuffer) return SEC_E_INVALID_TOKEN;
        if ((status = dgram_ctx_create(cred, TRUE, NULL, input, &ctx))) return status;
        created = TRUE;
    }
    else if (!(ctx = dgram_ctx(ctx_handle)) || !ctx->server) return SEC_E_INVALID_HANDLE;
    ctx->req = req;
    if ((status = dgram_state_check(ctx))) return status;
    status = dgram_next_step(ctx, input, output, allocate);
    return sg_context_call_end(ctx, created, ctx_handle, new_handle, status, attrs,
                               (req & DGRAM_ASC_HONOURED) | ASC_RET_DATAGRAM, expiry);
}

/* One record, which is one datagram: STREAM_HEADER, DATA, STREAM_TRAILER as in stream mode. */
SECURITY_STATUS sg_dgram_encrypt_message(struct sg_ctx *ctx, ULONG qop, SecBufferDesc *message, ULONG seq)
{
    SecBuffer *header, *data, *trailer;
    SECURITY_STATUS status;

    if ((status = sg_ctx_usable(ctx, &ctx))) return status;
    if (!message || !message->pBuffers) return SEC_E_INVALID_TOKEN;
    if (!sg_find_record_buffers(message, &header, &data, &trailer)) return SEC_E_INVALID_TOKEN;
    if (data->cbBuffer > ctx->info.max_message)
    {
        WARN("%lu bytes do not fit one datagram (%u)\n", data->cbBuffer, ctx->info.max_message);
        return SEC_E_INVALID_PARAMETER;
    }
    if (header->cbBuffer < ctx->info.header_size || trailer->cbBuffer < ctx->info.trailer_size)
        return SEC_E_BUFFER_TOO_SMALL;
    return sg_encrypt_record(ctx, unix_dtls_encrypt, header, data, trailer);
}

/* The first record of a datagram, opened in place. */
SECURITY_STATUS sg_dgram_decrypt_message(struct sg_ctx *ctx, SecBufferDesc *message, ULONG seq, ULONG *qop)
{
    struct sg_decrypt_params params = { 0 };
    SECURITY_STATUS status;
    SecBuffer *data;
    BYTE *base;
    ULONG total;

    if ((status = sg_ctx_usable(ctx, &ctx))) return status;
    if (!message || !message->pBuffers) return SEC_E_INVALID_TOKEN;
    if (!(data = sg_find_buffer(message, SECBUFFER_DATA, 0)) || !data->pvBuffer) return SEC_E_INVALID_TOKEN;
    base = data->pvBuffer;
    total = data->cbBuffer;
    if (qop) *qop = 0;

    params.session = ctx->session;
    params.buffer = (ULONG_PTR)base;
    params.size = total;
    if (sg_unix_call(unix_dtls_decrypt, &params)) return SEC_E_INTERNAL_ERROR;
    TRACE("engine: status %u, consumed %u of %lu, data %u, flags %#x, pending %u, error %d\n", params.status,
          params.consumed, total, params.data_size, params.flags, params.output_pending, params.library_error);
    switch (params.status)
    {
    case SG_OK:
    case SG_CLOSED:
        if (!sg_record_layout_valid(total, params.consumed, params.data_offset, params.data_size))
        {
            ERR("engine reported an impossible record layout\n");
            return SEC_E_INTERNAL_ERROR;
        }
        sg_report_record(message, base, total, params.consumed, params.data_offset, params.data_size, FALSE);
        if (params.status == SG_CLOSED)
        {
            ctx->state = SG_CTX_CLOSED;
            return SEC_I_CONTEXT_EXPIRED;
        }
        /* Dropped records leave the context usable, as DTLS wants. */
        if (params.flags & SG_DECRYPT_DTLS_REPLAY) return SEC_E_OUT_OF_SEQUENCE;
        /* A record that does not authenticate: SEC_E_MESSAGE_ALTERED, the status programs written
         * against Windows' DTLS (str0m's Schannel backend) drop a datagram on. */
        if (params.flags & SG_DECRYPT_DTLS_DISCARDED) return SEC_E_MESSAGE_ALTERED;
        /* The peer resent its last flight: ours is queued again, the caller fetches it with
         * ISC/ASC. As for a renegotiation the caller gets a SECBUFFER_EXTRA to pass to that call
         * (programs written for Windows insist on one): the datagram from this record on, which
         * the established context does not need. */
        if (params.output_pending)
        {
            sg_set_buffer(message, 3, SECBUFFER_EXTRA, base, total);
            return SEC_I_RENEGOTIATE;
        }
        return SEC_E_OK;
    case SG_INCOMPLETE:
        sg_report_missing(message, params.missing);
        return SEC_E_INCOMPLETE_MESSAGE;
    default:
        WARN("engine: status %u, alert %#x, error %d\n", params.status, params.alert, params.library_error);
        if (params.status != SG_ERR_INVALID_TOKEN) ctx->state = SG_CTX_FAILED;
        return sg_status_from_engine(params.status);
    }
}

/* SECPKG_ATTR_DTLS_MTU: SEC_DTLS_MTU, 200 bytes to 64 KB. */
SECURITY_STATUS sg_dgram_mtu_attribute(CtxtHandle *handle, void *buffer, ULONG size, BOOL set)
{
    struct sg_dtls_control_params params = { 0 };
    struct sg_ctx *ctx;

    if (!sg_handle_get(SG_HANDLE_CTX, handle)) return SEC_E_INVALID_HANDLE;
    if (!(ctx = dgram_ctx(handle))) return SEC_E_UNSUPPORTED_FUNCTION;   /* not a DTLS context */
    if (!buffer) return SEC_E_INVALID_PARAMETER;
    if (!set)
    {
        ((struct dgram_mtu *)buffer)->PathMTU = ctx->dtls_mtu;
        return SEC_E_OK;
    }
    if (size < sizeof(struct dgram_mtu)) return SEC_E_INVALID_PARAMETER;
    params.session = ctx->session;
    params.what = SG_DTLS_SET_MTU;
    params.value = ((const struct dgram_mtu *)buffer)->PathMTU;
    if (params.value < SG_DTLS_MIN_MTU) return SEC_E_INVALID_PARAMETER;
    if (sg_unix_call(unix_dtls_control, &params) || params.status != SG_OK) return SEC_E_INVALID_PARAMETER;
    ctx->dtls_mtu = params.value;
    if (ctx->state == SG_CTX_ESTABLISHED)
    {
        struct sg_dtls_control_params query = { 0 };

        /* The largest message follows the MTU. */
        query.session = ctx->session;
        query.what = SG_DTLS_GET_MAX_MESSAGE;
        if (!sg_unix_call(unix_dtls_control, &query) && query.status == SG_OK) ctx->info.max_message = query.value;
    }
    return SEC_E_OK;
}
