/*
 * Client-side context helpers for InitializeSecurityContext and QueryContextAttributes:
 * the ALPN offer (SECBUFFER_APPLICATION_PROTOCOLS) and its outcome
 * (SECPKG_ATTR_APPLICATION_PROTOCOL), SECPKG_ATTR_SESSION_INFO, the ISC_RET_ flags Windows
 * reports, and the status codes that depend on the TLS alert.
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

static SECURITY_STATUS offer_alpn(struct sg_ctx *ctx, const BYTE *list, USHORT size)
{
    struct sg_session_alpn_params params = { 0 };

    params.session = ctx->session;
    params.buffer = (ULONG_PTR)list;
    params.size = size;
    if (sg_unix_call(unix_session_set_alpn, &params) || params.status != SG_OK)
    {
        WARN("ALPN list refused: %u\n", params.status);
        return SEC_E_INVALID_TOKEN;
    }
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
