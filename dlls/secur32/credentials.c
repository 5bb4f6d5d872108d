/*
 * AcquireCredentialsHandle / FreeCredentialsHandle for Schannel: read SCHANNEL_CRED or
 * SCH_CREDENTIALS, decide the protocols, hand certificates to the credential store and
 * create the engine credential.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

/* What Windows 10/11 enable when the caller does not choose: TLS 1.2 and TLS 1.3.
 * TLS 1.0 and 1.1 only when asked for; SSL 2/3 never. */
#define DEFAULT_CLIENT_PROTOCOLS (SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT)
#define DEFAULT_SERVER_PROTOCOLS (SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER)

/* The caller's request, whichever structure carried it. */
struct cred_request
{
    DWORD version;
    DWORD cert_count;
    const CERT_CONTEXT * const *certs;
    DWORD enabled;             /* SCHANNEL_CRED grbitEnabledProtocols, 0 for default */
    DWORD disabled;            /* SCH_CREDENTIALS grbitDisabledProtocols */
    DWORD flags;
};

static SECURITY_STATUS read_request(const void *auth_data, struct cred_request *req)
{
    DWORD version = *(const DWORD *)auth_data;

    memset(req, 0, sizeof(*req));
    req->version = version;
    switch (version)
    {
    case SCH_CRED_V3:
    case SCHANNEL_CRED_VERSION:
    {
        const SCHANNEL_CRED *cred = auth_data;
        req->cert_count = cred->cCreds;
        req->certs = (const CERT_CONTEXT * const *)cred->paCred;
        req->enabled = cred->grbitEnabledProtocols;
        req->flags = cred->dwFlags;
        return SEC_E_OK;
    }
    case SCH_CREDENTIALS_VERSION:
    {
        const SCH_CREDENTIALS *cred = auth_data;
        DWORD i;
        req->cert_count = cred->cCreds;
        req->certs = (const CERT_CONTEXT * const *)cred->paCred;
        req->flags = cred->dwFlags;
        if (cred->cTlsParameters && !cred->pTlsParameters) return SEC_E_INVALID_PARAMETER;
        for (i = 0; i < cred->cTlsParameters; i++)
        {
            /* Parameters restricted to ALPN ids apply only to those protocols (not yet
             * supported, see README); the general ones apply to every connection. */
            if (cred->pTlsParameters[i].cAlpnIds)
            {
                FIXME("TLS_PARAMETERS for specific ALPN ids ignored\n");
                continue;
            }
            req->disabled |= cred->pTlsParameters[i].grbitDisabledProtocols;
        }
        return SEC_E_OK;
    }
    default:
        WARN("unknown credential version %lu\n", version);
        return SEC_E_INTERNAL_ERROR;
    }
}

static DWORD choose_protocols(const struct cred_request *req, BOOL server)
{
    DWORD all = server ? SG_SP_PROT_SERVER_ALL : SG_SP_PROT_CLIENT_ALL;
    DWORD defaults = server ? DEFAULT_SERVER_PROTOCOLS : DEFAULT_CLIENT_PROTOCOLS;
    DWORD mask;

    if (req->version == SCH_CREDENTIALS_VERSION)
        mask = defaults & ~req->disabled;
    else
    {
        /* SCHANNEL_CRED cannot reach TLS 1.3, as on Windows. */
        mask = req->enabled ? (req->enabled & all) : defaults;
        mask &= ~SP_PROT_TLS1_3;
    }
    return mask & all;
}

static UINT32 engine_protocols(DWORD sp)
{
    UINT32 ret = 0;
    if (sp & SP_PROT_TLS1_0) ret |= SG_PROTO_TLS1_0;
    if (sp & SP_PROT_TLS1_1) ret |= SG_PROTO_TLS1_1;
    if (sp & SP_PROT_TLS1_2) ret |= SG_PROTO_TLS1_2;
    if (sp & SP_PROT_TLS1_3) ret |= SG_PROTO_TLS1_3;
    return ret;
}

static void cred_destroy(struct sg_cred *cred)
{
    if (cred->unix_cred)
    {
        struct sg_cred_free_params params = { cred->unix_cred };
        sg_unix_call(unix_cred_free, &params);
    }
    if (cred->cert) CertFreeCertificateContext(cred->cert);
    sg_free(cred);
}

void sg_cred_addref(struct sg_cred *cred)
{
    InterlockedIncrement(&cred->refs);
}

void sg_cred_release(struct sg_cred *cred)
{
    if (!InterlockedDecrement(&cred->refs)) cred_destroy(cred);
}

static SECURITY_STATUS create_engine_cred(struct sg_cred *cred, const CERT_CONTEXT *cert)
{
    struct sg_cred_create_params params = { 0 };
    struct sg_cert_material material = { 0 };
    SECURITY_STATUS status;

    if (cert && (status = sg_certstore_export(cert, TRUE, !!(cred->sch_flags & SCH_SEND_ROOT_CERT), &material)))
        return status;
    params.flags = cred->use == SECPKG_CRED_INBOUND ? SG_CRED_SERVER : SG_CRED_CLIENT;
    params.protocols = engine_protocols(cred->sp_protocols);
    params.chain = (ULONG_PTR)material.chain;
    params.chain_size = material.chain_size;
    params.key_format = material.key_format;
    params.key = (ULONG_PTR)material.key;
    params.key_size = material.key_size;
    if (sg_unix_call(unix_cred_create, &params)) params.status = SG_ERR_INTERNAL;
    sg_certstore_free(&material);
    if (params.status != SG_OK)
    {
        WARN("engine refused the credential: status %u\n", params.status);
        return params.status == SG_ERR_NO_MEMORY ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_UNKNOWN_CREDENTIALS;
    }
    cred->unix_cred = params.cred;
    return SEC_E_OK;
}

SECURITY_STATUS sg_acquire_credentials(ULONG use, const void *auth_data, CredHandle *handle, TimeStamp *expiry)
{
    struct cred_request req = { 0 };
    struct sg_cred *cred;
    SECURITY_STATUS status;
    BOOL server;

    if (use != SECPKG_CRED_INBOUND && use != SECPKG_CRED_OUTBOUND)
    {
        /* SECPKG_CRED_BOTH and anything else: Schannel credentials have one direction. */
        WARN("unsupported credential use %#lx\n", use);
        return SEC_E_NO_CREDENTIALS;
    }
    if (!sg_unix_ready()) return SEC_E_INTERNAL_ERROR;
    server = use == SECPKG_CRED_INBOUND;
    if (auth_data && (status = read_request(auth_data, &req))) return status;
    if (req.cert_count && !req.certs) return SEC_E_INVALID_PARAMETER;
    if (req.cert_count > 1) FIXME("%lu certificates given, using the first\n", req.cert_count);
    if (server && (!req.cert_count || !req.certs[0]))
    {
        WARN("server credential without a certificate\n");
        return SEC_E_NO_CREDENTIALS;
    }

    if (!(cred = sg_alloc_zero(sizeof(*cred)))) return SEC_E_INSUFFICIENT_MEMORY;
    cred->refs = 1;
    cred->use = use;
    cred->version = auth_data ? req.version : 0;
    cred->sch_flags = req.flags;
    cred->sp_protocols = choose_protocols(&req, server);
    TRACE("%s credential, protocols %#lx, flags %#lx, %lu certificate(s)\n", server ? "server" : "client",
          cred->sp_protocols, cred->sch_flags, req.cert_count);
    if (!cred->sp_protocols)
    {
        /* E.g. SCHANNEL_CRED asking for TLS 1.3 only: Windows refuses it here. */
        WARN("no protocol left to negotiate\n");
        sg_free(cred);
        return SEC_E_ALGORITHM_MISMATCH;
    }
    if (req.cert_count && req.certs[0]) cred->cert = CertDuplicateCertificateContext(req.certs[0]);

    if ((status = create_engine_cred(cred, cred->cert)))
    {
        cred_destroy(cred);
        return status;
    }
    if (!sg_handle_alloc(SG_HANDLE_CRED, cred, handle))
    {
        cred_destroy(cred);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    if (expiry)
    {
        /* Schannel credentials do not expire on their own. */
        expiry->LowPart = 0xffffffff;
        expiry->HighPart = 0x7fffffff;
    }
    return SEC_E_OK;
}

SECURITY_STATUS sg_free_credentials(const CredHandle *handle)
{
    struct sg_cred *cred;

    if (!(cred = sg_handle_free(SG_HANDLE_CRED, handle))) return SEC_E_INVALID_HANDLE;
    sg_cred_release(cred);
    return SEC_E_OK;
}
