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

/* Windows keeps a client session for 10 hours unless dwSessionLifespan says otherwise. */
#define DEFAULT_SESSION_LIFESPAN (10 * 60 * 60 * 1000)

/* The caller's request, whichever structure carried it. */
struct cred_request
{
    DWORD version;
    DWORD cert_count;
    const CERT_CONTEXT * const *certs;
    DWORD enabled;             /* SCHANNEL_CRED grbitEnabledProtocols, 0 for default */
    DWORD disabled;            /* SCH_CREDENTIALS grbitDisabledProtocols */
    DWORD flags;
    DWORD lifespan;            /* dwSessionLifespan */
    DWORD disabled_algs;       /* SG_ALG_* from strengths, algorithm lists, CRYPTO_SETTINGS */
    BOOL mac_named;            /* palgSupportedAlgs names a record MAC: the caller wants CBC suites */
};

/* The algorithm groups the engine knows, with their CAPI ids and key sizes. */
struct alg_group
{
    DWORD alg;                 /* SG_ALG_* */
    ALG_ID capi;
    DWORD bits;                /* cipher key bits, 0 when not a cipher */
};

static const struct alg_group alg_groups[] =
{
    { SG_ALG_AES_128,    CALG_AES_128,    128 },
    { SG_ALG_AES_256,    CALG_AES_256,    256 },
    { SG_ALG_CHACHA20,   0,               256 },
    { SG_ALG_3DES,       CALG_3DES,       168 },
    { SG_ALG_KX_RSA,     CALG_RSA_KEYX,   0 },
    { SG_ALG_KX_DHE,     CALG_DH_EPHEM,   0 },
    { SG_ALG_KX_ECDHE,   CALG_ECDH_EPHEM, 0 },
    { SG_ALG_MAC_SHA1,   CALG_SHA1,       0 },
    { SG_ALG_MAC_SHA256, CALG_SHA_256,    0 },
    { SG_ALG_MAC_SHA384, CALG_SHA_384,    0 },
};

#define SG_ALG_CIPHERS (SG_ALG_AES_128 | SG_ALG_AES_256 | SG_ALG_CHACHA20 | SG_ALG_3DES)
#define SG_ALG_KXS     (SG_ALG_KX_RSA | SG_ALG_KX_DHE | SG_ALG_KX_ECDHE)
#define SG_ALG_MACS    (SG_ALG_MAC_SHA1 | SG_ALG_MAC_SHA256 | SG_ALG_MAC_SHA384)

/* Ciphers outside [min, max] bits (0: no bound), as dwMinimum/dwMaximumCipherStrength ask. */
static DWORD disabled_by_strength(DWORD min, DWORD max)
{
    DWORD ret = 0, i;

    for (i = 0; i < ARRAY_SIZE(alg_groups); i++)
    {
        if (!alg_groups[i].bits) continue;
        if ((min && alg_groups[i].bits < min) || (max && alg_groups[i].bits > max)) ret |= alg_groups[i].alg;
    }
    return ret;
}

/* palgSupportedAlgs: within each kind the caller names (ciphers, key exchanges, hashes),
 * only what it lists stays enabled. */
static DWORD disabled_by_alg_list(const ALG_ID *algs, DWORD count)
{
    DWORD allowed = 0, named = 0, i, j;

    for (i = 0; i < count; i++)
    {
        ALG_ID alg = algs[i];

        if (alg == CALG_AES)
        {
            /* Any AES key size. */
            allowed |= SG_ALG_AES_256;
            alg = CALG_AES_128;
        }
        if (alg == CALG_ECDH) alg = CALG_ECDH_EPHEM;
        for (j = 0; j < ARRAY_SIZE(alg_groups); j++)
        {
            if (alg_groups[j].capi != alg) continue;
            allowed |= alg_groups[j].alg;
            if (alg_groups[j].alg & SG_ALG_CIPHERS) named |= SG_ALG_CIPHERS;
            else if (alg_groups[j].alg & SG_ALG_KXS) named |= SG_ALG_KXS;
            else named |= SG_ALG_MACS;
        }
        if (j == ARRAY_SIZE(alg_groups)) TRACE("algorithm %#x not known to the engine\n", algs[i]);
    }
    /* ChaCha20 has no CAPI id: a caller that lists its ciphers does not get it. */
    return named & ~allowed;
}

static BOOL unicode_equals(const UNICODE_STRING *str, const WCHAR *name)
{
    SIZE_T len = wcslen(name);
    return str->Buffer && str->Length == len * sizeof(WCHAR) && !wcsnicmp(str->Buffer, name, len);
}

/* One CRYPTO_SETTINGS entry of TLS_PARAMETERS.pDisabledCrypto. */
static DWORD disabled_by_crypto_setting(const CRYPTO_SETTINGS *setting)
{
    DWORD min = setting->dwMinBitLength, max = setting->dwMaxBitLength, ret = 0, i;

    if (setting->cChainingModes)
        FIXME("chaining modes of a disabled algorithm ignored: the whole algorithm is disabled\n");
    switch (setting->eAlgorithmUsage)
    {
    case TlsParametersCngAlgUsageCipher:
        if (unicode_equals(&setting->strCngAlgId, L"AES"))
        {
            for (i = 0; i < ARRAY_SIZE(alg_groups); i++)
                if ((alg_groups[i].alg & (SG_ALG_AES_128 | SG_ALG_AES_256))
                    && (!min || alg_groups[i].bits >= min) && (!max || alg_groups[i].bits <= max))
                    ret |= alg_groups[i].alg;
        }
        else if (unicode_equals(&setting->strCngAlgId, L"3DES")) ret = SG_ALG_3DES;
        else if (unicode_equals(&setting->strCngAlgId, L"CHACHA20_POLY1305")) ret = SG_ALG_CHACHA20;
        break;
    case TlsParametersCngAlgUsageKeyExchange:
        if (unicode_equals(&setting->strCngAlgId, L"RSA")) ret = SG_ALG_KX_RSA;
        else if (unicode_equals(&setting->strCngAlgId, L"DH")) ret = SG_ALG_KX_DHE;
        else if (unicode_equals(&setting->strCngAlgId, L"ECDH")) ret = SG_ALG_KX_ECDHE;
        break;
    case TlsParametersCngAlgUsageDigest:
        if (unicode_equals(&setting->strCngAlgId, L"SHA1")) ret = SG_ALG_MAC_SHA1;
        else if (unicode_equals(&setting->strCngAlgId, L"SHA256")) ret = SG_ALG_MAC_SHA256;
        else if (unicode_equals(&setting->strCngAlgId, L"SHA384")) ret = SG_ALG_MAC_SHA384;
        break;
    default:
        break;
    }
    /* Algorithms no enabled suite uses are ignored, as on Windows. */
    if (!ret) TRACE("disabled crypto %u %s: nothing to disable\n", setting->eAlgorithmUsage,
                    debugstr_wn(setting->strCngAlgId.Buffer, setting->strCngAlgId.Length / sizeof(WCHAR)));
    return ret;
}

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
        req->lifespan = cred->dwSessionLifespan;
        req->disabled_algs = disabled_by_strength(cred->dwMinimumCipherStrength, cred->dwMaximumCipherStrength);
        if (cred->cSupportedAlgs && !cred->palgSupportedAlgs) return SEC_E_INVALID_PARAMETER;
        if (cred->cSupportedAlgs)
        {
            DWORD i;

            req->disabled_algs |= disabled_by_alg_list(cred->palgSupportedAlgs, cred->cSupportedAlgs);
            for (i = 0; i < cred->cSupportedAlgs; i++)
                if (cred->palgSupportedAlgs[i] == CALG_SHA1 || cred->palgSupportedAlgs[i] == CALG_SHA_256
                    || cred->palgSupportedAlgs[i] == CALG_SHA_384)
                    req->mac_named = TRUE;
        }
        return SEC_E_OK;
    }
    case SCH_CREDENTIALS_VERSION:
    {
        const SCH_CREDENTIALS *cred = auth_data;
        DWORD i;
        req->cert_count = cred->cCreds;
        req->certs = (const CERT_CONTEXT * const *)cred->paCred;
        req->flags = cred->dwFlags;
        req->lifespan = cred->dwSessionLifespan;
        if (cred->cTlsParameters && !cred->pTlsParameters) return SEC_E_INVALID_PARAMETER;
        for (i = 0; i < cred->cTlsParameters; i++)
        {
            const TLS_PARAMETERS *params = &cred->pTlsParameters[i];
            DWORD j;

            /* Parameters restricted to ALPN ids apply only to those protocols (not yet
             * supported, see README); the general ones apply to every connection. */
            if (params->cAlpnIds)
            {
                FIXME("TLS_PARAMETERS for specific ALPN ids ignored\n");
                continue;
            }
            req->disabled |= params->grbitDisabledProtocols;
            if (params->cDisabledCrypto && !params->pDisabledCrypto) return SEC_E_INVALID_PARAMETER;
            for (j = 0; j < params->cDisabledCrypto; j++)
                req->disabled_algs |= disabled_by_crypto_setting(&params->pDisabledCrypto[j]);
        }
        return SEC_E_OK;
    }
    default:
        WARN("unknown credential version %lu\n", version);
        return SEC_E_INTERNAL_ERROR;
    }
}

/*
 * Note on Wine's own winhttp.dll and wininet.dll: they use SCHANNEL_CRED, so they get TLS 1.2
 * here exactly as such a caller does on Windows. They could not use TLS 1.3 anyway: Wine 8's
 * handshake loops send an output token only with SEC_I_CONTINUE_NEEDED, and a TLS 1.3 client
 * Finished comes with SEC_E_OK (as the InitializeSecurityContext documentation says).
 */
static DWORD choose_protocols(const struct cred_request *req, BOOL server)
{
    DWORD all = server ? SG_SP_PROT_SERVER_ALL : SG_SP_PROT_CLIENT_ALL;
    DWORD defaults = server ? DEFAULT_SERVER_PROTOCOLS : DEFAULT_CLIENT_PROTOCOLS;
    DWORD mask;

    TRACE("version %lu, enabled %#lx, disabled %#lx\n", req->version, req->enabled, req->disabled);
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
    /* A DTLS-only credential: the engine credential still needs a stream version. */
    return ret ? ret : SG_PROTO_TLS1_2;
}

static void cred_destroy(struct sg_cred *cred)
{
    sg_session_cache_forget_cred(cred);
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
    if (sg_unix_call(unix_cred_create, &params) && params.status == SG_OK) params.status = SG_ERR_INTERNAL;
    sg_certstore_free(&material);
    if (params.status != SG_OK)
    {
        WARN("engine refused the credential: status %u\n", params.status);
        return params.status == SG_ERR_NO_MEMORY ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_UNKNOWN_CREDENTIALS;
    }
    cred->unix_cred = params.cred;
    if (cred->disabled_algs)
    {
        struct sg_cred_restrict_params restrict_params = { 0 };

        restrict_params.cred = cred->unix_cred;
        restrict_params.protocols = params.protocols;
        restrict_params.disabled_algs = cred->disabled_algs;
        if (sg_unix_call(unix_cred_restrict, &restrict_params) || restrict_params.status != SG_OK)
        {
            WARN("engine refused the algorithm restrictions %#lx: %u\n", cred->disabled_algs, restrict_params.status);
            return SEC_E_ALGORITHM_MISMATCH;
        }
    }
    return SEC_E_OK;
}

/* An engine credential like cred's (protocols, restrictions) for another certificate. */
SECURITY_STATUS sg_cred_engine_for_cert(const struct sg_cred *cred, const CERT_CONTEXT *cert, UINT64 *unix_cred)
{
    struct sg_cred tmp = *cred;
    SECURITY_STATUS status;

    tmp.unix_cred = 0;
    if ((status = create_engine_cred(&tmp, cert)))
    {
        sg_cred_engine_free(tmp.unix_cred);
        return status;
    }
    *unix_cred = tmp.unix_cred;
    return SEC_E_OK;
}

void sg_cred_engine_free(UINT64 unix_cred)
{
    struct sg_cred_free_params params = { unix_cred };

    if (unix_cred) sg_unix_call(unix_cred_free, &params);
}

SECURITY_STATUS sg_acquire_credentials(ULONG use, const void *auth_data, CredHandle *handle, TimeStamp *expiry,
                                       const void *caller)
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
    /* DTLS versions for datagram contexts (datagram.c): DTLS 1.0 and 1.2 unless restricted. */
    cred->dtls_protocols = (req.version == SCH_CREDENTIALS_VERSION ? ~req.disabled : req.enabled ? req.enabled : ~0u)
                           & (server ? SP_PROT_DTLS1_X_SERVER : SP_PROT_DTLS1_X_CLIENT);
    /* SCH_USE_STRONG_CRYPTO: no 3DES (nor RC4 and SSL 3, which we never offer). */
    cred->disabled_algs = req.disabled_algs | ((req.flags & SCH_USE_STRONG_CRYPTO) ? SG_ALG_3DES : 0);
    /* A server without TLS 1.0/1.1 offers AEAD suites only in TLS 1.2 (no CBC, so no
     * LUCKY13-style padding oracle), unlike Windows' default list; CBC suites stay for TLS 1.0/1.1
     * (which have no AEAD) and for callers whose palgSupportedAlgs name a record MAC. */
    if (server && !(cred->sp_protocols & (SP_PROT_TLS1_0 | SP_PROT_TLS1_1)) && !req.mac_named)
        cred->disabled_algs |= SG_ALG_CBC;
    cred->session_lifespan = req.lifespan ? req.lifespan : DEFAULT_SESSION_LIFESPAN;
    TRACE("%s credential for caller %p, protocols %#lx, flags %#lx, %lu certificate(s)\n", server ? "server" : "client",
          caller, cred->sp_protocols, cred->sch_flags, req.cert_count);
    if (!cred->sp_protocols && !cred->dtls_protocols)
    {
        /* E.g. SCHANNEL_CRED asking for TLS 1.3 only: Windows refuses it here. */
        WARN("no protocol left to negotiate\n");
        sg_free(cred);
        return SEC_E_ALGORITHM_MISMATCH;
    }
    if (req.cert_count && req.certs[0]) cred->cert = CertDuplicateCertificateContext(req.certs[0]);

    if ((status = create_engine_cred(cred, cred->cert))
        || (server && (status = sg_server_cred_setup(cred, req.certs, req.cert_count))))
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

/* The handle's reference goes when the last call using the handle ends. */
static void cred_handle_destroy(void *object)
{
    sg_cred_release(object);
}

SECURITY_STATUS sg_free_credentials(const CredHandle *handle)
{
    if (!sg_handle_free(SG_HANDLE_CRED, handle, cred_handle_destroy)) return SEC_E_INVALID_HANDLE;
    return SEC_E_OK;
}

/* ---- QueryCredentialsAttributes ---- */

static SECURITY_STATUS query_supported_algs(const struct sg_cred *cred, SecPkgCred_SupportedAlgs *algs)
{
    /* Signature algorithms come on top of the groups the credential can disable. */
    static const ALG_ID signatures[] = { CALG_RSA_SIGN, CALG_ECDSA };
    ALG_ID *list;
    DWORD count = 0, i;

    if (!(list = sg_context_buffer_alloc((ARRAY_SIZE(alg_groups) + ARRAY_SIZE(signatures)) * sizeof(*list))))
        return SEC_E_INSUFFICIENT_MEMORY;
    for (i = 0; i < ARRAY_SIZE(alg_groups); i++)
    {
        /* 3DES is never offered by the engine; ChaCha20 has no CAPI id. */
        if (!alg_groups[i].capi || alg_groups[i].alg == SG_ALG_3DES) continue;
        if (!(cred->disabled_algs & alg_groups[i].alg)) list[count++] = alg_groups[i].capi;
    }
    for (i = 0; i < ARRAY_SIZE(signatures); i++) list[count++] = signatures[i];
    algs->cSupportedAlgs = count;
    algs->palgSupportedAlgs = list;
    return SEC_E_OK;
}

static SECURITY_STATUS query_cipher_strengths(const struct sg_cred *cred, SecPkgCred_CipherStrengths *strengths)
{
    DWORD min = 0, max = 0, i;

    for (i = 0; i < ARRAY_SIZE(alg_groups); i++)
    {
        if (!alg_groups[i].bits || alg_groups[i].alg == SG_ALG_3DES) continue;
        if (cred->disabled_algs & alg_groups[i].alg) continue;
        if (!min || alg_groups[i].bits < min) min = alg_groups[i].bits;
        if (alg_groups[i].bits > max) max = alg_groups[i].bits;
    }
    strengths->dwMinimumCipherStrength = min;
    strengths->dwMaximumCipherStrength = max;
    return SEC_E_OK;
}

static SECURITY_STATUS query_names(const struct sg_cred *cred, void *buffer, BOOL unicode)
{
    CERT_NAME_BLOB *subject;
    DWORD flags = CERT_X500_NAME_STR | CERT_NAME_STR_REVERSE_FLAG, len;

    if (!cred->cert) return SEC_E_NO_CREDENTIALS;
    subject = &cred->cert->pCertInfo->Subject;
    if (unicode)
    {
        SecPkgCredentials_NamesW *names = buffer;
        WCHAR *str;

        len = CertNameToStrW(X509_ASN_ENCODING, subject, flags, NULL, 0);
        if (!(str = sg_context_buffer_alloc(len * sizeof(WCHAR)))) return SEC_E_INSUFFICIENT_MEMORY;
        CertNameToStrW(X509_ASN_ENCODING, subject, flags, str, len);
        names->sUserName = str;
    }
    else
    {
        SecPkgCredentials_NamesA *names = buffer;
        char *str;

        len = CertNameToStrA(X509_ASN_ENCODING, subject, flags, NULL, 0);
        if (!(str = sg_context_buffer_alloc(len))) return SEC_E_INSUFFICIENT_MEMORY;
        CertNameToStrA(X509_ASN_ENCODING, subject, flags, str, len);
        names->sUserName = str;
    }
    return SEC_E_OK;
}

SECURITY_STATUS sg_query_credentials_attributes(CredHandle *handle, ULONG attribute, void *buffer, BOOL unicode)
{
    struct sg_cred *cred;

    TRACE("%p %#lx %p\n", handle, attribute, buffer);
    if (!(cred = sg_handle_get(SG_HANDLE_CRED, handle))) return SEC_E_INVALID_HANDLE;
    switch (attribute)
    {
    case SECPKG_CRED_ATTR_NAMES:
        if (!buffer) return SEC_E_INTERNAL_ERROR;
        return query_names(cred, buffer, unicode);
    case SECPKG_ATTR_SUPPORTED_ALGS:
        /* Windows answers a NULL buffer with SEC_E_INTERNAL_ERROR. */
        if (!buffer) return SEC_E_INTERNAL_ERROR;
        return query_supported_algs(cred, buffer);
    case SECPKG_ATTR_CIPHER_STRENGTHS:
        if (!buffer) return SEC_E_INTERNAL_ERROR;
        return query_cipher_strengths(cred, buffer);
    case SECPKG_ATTR_SUPPORTED_PROTOCOLS:
        if (!buffer) return SEC_E_INTERNAL_ERROR;
        ((SecPkgCred_SupportedProtocols *)buffer)->grbitProtocol = cred->sp_protocols;
        return SEC_E_OK;
    default:
        FIXME("credential attribute %#lx not supported\n", attribute);
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}
