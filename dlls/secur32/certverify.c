/*
 * Automatic validation of the server's certificate on the client side, through crypt32's
 * chain engine and the SSL chain policy, as Schannel does unless the caller asked for
 * manual validation.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

static SECURITY_STATUS status_from_policy(DWORD error)
{
    switch (error)
    {
    case ERROR_SUCCESS:          return SEC_E_OK;
    case CERT_E_UNTRUSTEDROOT:   return SEC_E_UNTRUSTED_ROOT;
    case CERT_E_CHAINING:        return SEC_E_UNTRUSTED_ROOT;
    case CERT_E_EXPIRED:         return SEC_E_CERT_EXPIRED;
    case CERT_E_CN_NO_MATCH:     return SEC_E_WRONG_PRINCIPAL;
    case CRYPT_E_REVOKED:        return CRYPT_E_REVOKED;
    case CRYPT_E_NO_REVOCATION_CHECK:
    case CRYPT_E_REVOCATION_OFFLINE:
        return error;
    case CERT_E_WRONG_USAGE:     return SEC_E_CERT_WRONG_USAGE;
    default:                     return SEC_E_CERT_UNKNOWN;
    }
}

static const CERT_CONTEXT *peer_leaf(struct sg_ctx *ctx)
{
    struct sg_get_peer_certs_params params = { 0 };
    const CERT_CONTEXT *leaf = NULL;
    BYTE *buffer;

    params.session = ctx->session;
    if (sg_unix_call(unix_get_peer_certs, &params) || !params.size) return NULL;
    if (!(buffer = sg_alloc(params.size))) return NULL;
    params.buffer = (ULONG_PTR)buffer;
    params.capacity = params.size;
    if (!sg_unix_call(unix_get_peer_certs, &params) && params.status == SG_OK)
        leaf = sg_certstore_peer_context(buffer, params.size);
    sg_free(buffer);
    return leaf;
}

/* The peer's leaf certificate with its chain in hCertStore; NULL if none. */
const CERT_CONTEXT *sg_peer_certificate(struct sg_ctx *ctx)
{
    return peer_leaf(ctx);
}

SECURITY_STATUS sg_verify_server_chain(struct sg_ctx *ctx)
{
    CERT_CHAIN_PARA chain_para = { sizeof(chain_para) };
    SSL_EXTRA_CERT_CHAIN_POLICY_PARA ssl_para = { { sizeof(ssl_para) } };
    CERT_CHAIN_POLICY_PARA policy_para = { sizeof(policy_para) };
    CERT_CHAIN_POLICY_STATUS policy_status = { sizeof(policy_status) };
    const CERT_CHAIN_CONTEXT *chain = NULL;
    const CERT_CONTEXT *leaf;
    DWORD flags = ctx->cred->sch_flags, chain_flags = 0;
    SECURITY_STATUS status;
    static char server_auth[] = szOID_PKIX_KP_SERVER_AUTH;
    char *usages[1] = { server_auth };

    if (!(leaf = peer_leaf(ctx)))
    {
        WARN("server sent no certificate\n");
        return SEC_E_CERT_UNKNOWN;
    }
    chain_para.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
    chain_para.RequestedUsage.Usage.cUsageIdentifier = 1;
    chain_para.RequestedUsage.Usage.rgpszUsageIdentifier = usages;
    if (flags & SCH_CRED_REVOCATION_CHECK_CHAIN_END_CERT) chain_flags |= CERT_CHAIN_REVOCATION_CHECK_END_CERT;
    if (flags & SCH_CRED_REVOCATION_CHECK_CHAIN) chain_flags |= CERT_CHAIN_REVOCATION_CHECK_CHAIN;
    if (flags & SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT) chain_flags |= CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT;

    if (!CertGetCertificateChain(NULL, leaf, NULL, leaf->hCertStore, &chain_para, chain_flags, NULL, &chain))
    {
        WARN("chain building failed: %#lx\n", GetLastError());
        CertFreeCertificateContext(leaf);
        return SEC_E_CERT_UNKNOWN;
    }
    ssl_para.dwAuthType = AUTHTYPE_SERVER;
    ssl_para.pwszServerName = (flags & SCH_CRED_NO_SERVERNAME_CHECK) ? NULL : ctx->target;
    if (flags & SCH_CRED_IGNORE_NO_REVOCATION_CHECK) ssl_para.fdwChecks |= 0x00000080; /* SECURITY_FLAG_IGNORE_REVOCATION */
    policy_para.pvExtraPolicyPara = &ssl_para;
    if (!CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &policy_para, &policy_status))
        status = SEC_E_CERT_UNKNOWN;
    else
        status = status_from_policy(policy_status.dwError);
    if ((flags & SCH_CRED_IGNORE_REVOCATION_OFFLINE) && policy_status.dwError == (DWORD)CRYPT_E_REVOCATION_OFFLINE)
        status = SEC_E_OK;
    if ((flags & SCH_CRED_IGNORE_NO_REVOCATION_CHECK) && policy_status.dwError == (DWORD)CRYPT_E_NO_REVOCATION_CHECK)
        status = SEC_E_OK;
    TRACE("server %s: policy error %#lx -> %#lx\n", debugstr_w(ctx->target), policy_status.dwError, status);
    CertFreeCertificateChain(chain);
    CertFreeCertificateContext(leaf);
    return status;
}
