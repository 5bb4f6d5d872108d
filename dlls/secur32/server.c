/*
 * Schannel server side, outside the handshake loop: what an inbound credential needs beyond
 * its first certificate (more certificates, SCH_CRED_DISABLE_RECONNECTS), the options of each
 * accepted connection (ASC_REQ_MUTUAL_AUTH, the server's ALPN list from
 * SECBUFFER_APPLICATION_PROTOCOLS), and SetCredentialsAttributes.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

#ifndef SCH_CRED_DISABLE_RECONNECTS
#define SCH_CRED_DISABLE_RECONNECTS 0x00000080
#endif
#ifndef SECPKG_ATTR_CLIENT_CERT_POLICY
#define SECPKG_ATTR_CLIENT_CERT_POLICY 0x60
#endif

/* SecPkgCred_ClientCertPolicy (schannel.h in the Windows SDK; Wine's headers lack it). */
struct client_cert_policy
{
    DWORD dwFlags;
    GUID guidPolicyId;
    DWORD dwCertFlags;
    DWORD dwUrlRetrievalTimeout;
    BOOL fCheckRevocationFreshnessTime;
    DWORD dwRevocationFreshnessTime;
    BOOL fOmitUsageCheck;
    WCHAR *pwszSslCtlStoreName;
    WCHAR *pwszSslCtlIdentifier;
};

#define ALPN_EXT_ALPN 2          /* SecApplicationProtocolNegotiationExt_ALPN */
#define MAX_ALPN_WIRE 0xffff

static SECURITY_STATUS add_certificate(struct sg_cred *cred, const CERT_CONTEXT *cert)
{
    struct sg_cred_add_cert_params params = { 0 };
    struct sg_cert_material material;
    SECURITY_STATUS status;

    if ((status = sg_certstore_export(cert, TRUE, !!(cred->sch_flags & SCH_SEND_ROOT_CERT), &material)))
        return status;
    params.cred = cred->unix_cred;
    params.chain = (ULONG_PTR)material.chain;
    params.chain_size = material.chain_size;
    params.key_format = material.key_format;
    params.key = (ULONG_PTR)material.key;
    params.key_size = material.key_size;
    if (sg_unix_call(unix_cred_add_cert, &params)) params.status = SG_ERR_INTERNAL;
    sg_certstore_free(&material);
    if (params.status != SG_OK)
    {
        WARN("engine refused certificate: status %u, error %d\n", params.status, params.library_error);
        return params.status == SG_ERR_NO_MEMORY ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_UNKNOWN_CREDENTIALS;
    }
    return SEC_E_OK;
}

SECURITY_STATUS sg_server_cred_setup(struct sg_cred *cred, const CERT_CONTEXT * const *certs, DWORD count)
{
    struct sg_cred_server_params params = { 0 };
    SECURITY_STATUS status;
    DWORD i;

    params.cred = cred->unix_cred;
    if (cred->sch_flags & SCH_CRED_DISABLE_RECONNECTS) params.flags |= SG_CRED_SERVER_NO_RESUME;
    if (sg_unix_call(unix_cred_set_server, &params) || params.status != SG_OK) return SEC_E_INTERNAL_ERROR;

    /* The first certificate went in with the credential. */
    for (i = 1; i < count; i++)
    {
        if (!certs[i]) return SEC_E_INVALID_PARAMETER;
        if ((status = add_certificate(cred, certs[i]))) return status;
    }
    TRACE("%lu certificate(s), reconnects %s\n", count, params.flags & SG_CRED_SERVER_NO_RESUME ? "off" : "on");
    return SEC_E_OK;
}

/* The ALPN ids of SECBUFFER_APPLICATION_PROTOCOLS (a ULONG size, then lists, each a
 * SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT, a USHORT size and ids in TLS wire form).
 * *ids points into the buffer; 0 size when there is no ALPN list. */
static SECURITY_STATUS find_alpn_list(SecBufferDesc *input, const BYTE **ids, USHORT *ids_size)
{
    SecBuffer *buffer = sg_find_buffer(input, SECBUFFER_APPLICATION_PROTOCOLS, 0);
    const BYTE *data;
    ULONG total, pos = 4;

    *ids = NULL;
    *ids_size = 0;
    if (!buffer || !buffer->cbBuffer) return SEC_E_OK;
    if (!buffer->pvBuffer || buffer->cbBuffer < 4) return SEC_E_INVALID_TOKEN;
    data = buffer->pvBuffer;
    memcpy(&total, data, sizeof(total));
    if (total > buffer->cbBuffer - 4) return SEC_E_INVALID_TOKEN;
    total += 4;
    while (total - pos >= 6)
    {
        ULONG ext;
        USHORT size;

        memcpy(&ext, data + pos, sizeof(ext));
        memcpy(&size, data + pos + 4, sizeof(size));
        pos += 6;
        if (size > total - pos) return SEC_E_INVALID_TOKEN;
        if (ext == ALPN_EXT_ALPN && size)
        {
            *ids = data + pos;
            *ids_size = size;
            return SEC_E_OK;
        }
        pos += size;
    }
    return SEC_E_OK;
}

SECURITY_STATUS sg_server_session_setup(struct sg_ctx *ctx, ULONG req, SecBufferDesc *input)
{
    struct sg_session_server_params params = { 0 };
    SECURITY_STATUS status;
    const BYTE *ids;
    USHORT size;

    if ((status = find_alpn_list(input, &ids, &size))) return status;
    params.session = ctx->session;
    params.flags = (req & ASC_REQ_MUTUAL_AUTH) ? SG_SESSION_SERVER_REQUEST_CERT : 0;
    /* A new session already asks for no certificate and selects no protocol: without
     * either there is nothing to set (one unix call less per connection). A later request
     * (sg_server_request_certificate) sets what it needs itself. */
    if (!params.flags && !size) return SEC_E_OK;
    params.alpn = (ULONG_PTR)ids;
    params.alpn_size = size;
    if (sg_unix_call(unix_session_set_server, &params))
        return params.status == SG_ERR_INVALID_PARAMETER ? SEC_E_INVALID_TOKEN : SEC_E_INTERNAL_ERROR;
    if (params.status != SG_OK) return sg_status_from_engine(params.status);
    TRACE("client certificate %s, %u bytes of ALPN ids\n", params.flags ? "requested" : "not requested", size);
    return SEC_E_OK;
}

/* AcceptSecurityContext with ASC_REQ_MUTUAL_AUTH and no input on an established context (as
 * .NET's SslStream.NegotiateClientCertificateAsync does): ask the client for a certificate, by
 * a renegotiation in TLS 1.0-1.2 (HelloRequest) or post-handshake authentication in TLS 1.3
 * (CertificateRequest). The request waits in the engine's pending output; the client's answer
 * comes through the following ASC calls (or DecryptMessage, then SEC_I_RENEGOTIATE and ASC).
 * SEC_I_NO_RENEGOTIATION when the client cannot be asked: it lacks secure renegotiation, or
 * in TLS 1.3 it did not offer post_handshake_auth. */
SECURITY_STATUS sg_server_request_certificate(struct sg_ctx *ctx)
{
    struct sg_server_renegotiate_params params = { 0 };

    params.session = ctx->session;
    params.flags = SG_SESSION_SERVER_REQUEST_CERT;
    if (sg_unix_call(unix_server_renegotiate, &params)) return SEC_E_INTERNAL_ERROR;
    TRACE("engine: status %u, error %d\n", params.status, params.library_error);
    if (params.status == SG_ERR_ALGORITHM_MISMATCH) return SEC_I_NO_RENEGOTIATION;
    if (params.status != SG_OK) return sg_status_from_engine(params.status);
    return SEC_E_OK;
}

/* SetCredentialsAttributes for Schannel credentials. */
SECURITY_STATUS sg_set_credentials_attributes(CredHandle *handle, ULONG attribute, void *buffer, ULONG size)
{
    struct sg_cred *cred;

    TRACE("%p %#lx %p %lu\n", handle, attribute, buffer, size);
    if (!(cred = sg_handle_get(SG_HANDLE_CRED, handle))) return SEC_E_INVALID_HANDLE;
    switch (attribute)
    {
    case SECPKG_ATTR_CLIENT_CERT_POLICY:
    {
        struct client_cert_policy policy;

        if (!buffer || size < sizeof(policy)) return SEC_E_INVALID_PARAMETER;
        if (cred->use != SECPKG_CRED_INBOUND) return SEC_E_UNSUPPORTED_FUNCTION;
        memcpy(&policy, buffer, sizeof(policy));
        /* The policy steers how Schannel maps and checks client certificates for the
         * server's later use; Schannel itself never fails a handshake over a client
         * certificate's trust, and neither do we. */
        TRACE("client cert policy: flags %#lx, cert flags %#lx, omit usage check %d\n", policy.dwFlags,
              policy.dwCertFlags, policy.fOmitUsageCheck);
        return SEC_E_OK;
    }
    default:
        FIXME("credential attribute %#lx not supported\n", attribute);
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}
