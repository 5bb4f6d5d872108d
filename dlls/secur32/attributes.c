/*
 * QueryContextAttributes / SetContextAttributes for Schannel contexts.
 *
 * Most answers come from what the final handshake step reported (struct sg_session_info),
 * so they cost no unix call; certificates come from crypt32 contexts built from the chain
 * the engine saw, and the session id, tls-unique and exported keying material from
 * unix_session_query.
 *
 * Ownership follows Windows: certificate contexts are released with
 * CertFreeCertificateContext, every other pointer we hand out with FreeContextBuffer.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

#ifndef CALG_ECDH_EPHEM
#define CALG_ECDH_EPHEM 0xae06
#endif
#ifndef SECPKG_ATTR_REMOTE_CERT_CHAIN
#define SECPKG_ATTR_REMOTE_CERT_CHAIN 0x67
#endif
#ifndef SECPKG_ATTR_KEYING_MATERIAL_INFO
#define SECPKG_ATTR_KEYING_MATERIAL_INFO 0x6a
#endif
#ifndef SECPKG_ATTR_KEYING_MATERIAL
#define SECPKG_ATTR_KEYING_MATERIAL 0x6b
#endif
#ifndef SECPKG_ATTR_CONNECTION_INFO_EX
#define SECPKG_ATTR_CONNECTION_INFO_EX 0x6e
#endif
#ifndef SECPKG_ATTR_CERT_TRUST_STATUS
#define SECPKG_ATTR_CERT_TRUST_STATUS 0x80000084
#endif
#ifndef SSL_SESSION_RECONNECT
#define SSL_SESSION_RECONNECT 1
#endif

/* Structures Wine 8's headers do not have (layouts as in the Windows SDK). */
struct sg_connection_info_ex
{
    DWORD dwVersion;
    DWORD dwProtocol;
    WCHAR szCipher[SZ_ALG_MAX_SIZE];
    DWORD dwCipherStrength;
    WCHAR szHash[SZ_ALG_MAX_SIZE];
    DWORD dwHashStrength;
    WCHAR szExchange[SZ_ALG_MAX_SIZE];
    DWORD dwExchStrength;
};
#define SG_CONNECTION_INFO_EX_V1 1

struct sg_session_info_attr
{
    DWORD dwFlags;
    DWORD cbSessionId;
    BYTE rgbSessionId[32];
};

struct sg_keying_material_info
{
    WORD cbLabel;
    char *pszLabel;
    WORD cbContextValue;
    BYTE *pbContextValue;
    DWORD cbKeyingMaterial;
};

struct sg_keying_material
{
    DWORD cbKeyingMaterial;
    BYTE *pbKeyingMaterial;
};

/* The RFC 5705 exporter request set with SECPKG_ATTR_KEYING_MATERIAL_INFO, per context.
 * Kept outside struct sg_ctx: a small list keyed by the context object. */
struct exporter_request
{
    struct exporter_request *next;
    const struct sg_ctx *ctx;
    BYTE *input;               /* label (without its NUL) then context value */
    DWORD label_size;
    DWORD context_size;        /* SG_QUERY_NO_CONTEXT when the caller gave none */
    DWORD output_size;
};

static struct exporter_request *exporter_requests;
static CRITICAL_SECTION exporter_cs;
static CRITICAL_SECTION_DEBUG exporter_cs_debug =
{
    0, 0, &exporter_cs,
    { &exporter_cs_debug.ProcessLocksList, &exporter_cs_debug.ProcessLocksList },
    0, 0, { (DWORD_PTR)(__FILE__ ": exporter_cs") }
};
static CRITICAL_SECTION exporter_cs = { &exporter_cs_debug, -1, 0, 0, 0, 0 };

static DWORD sp_protocol(const struct sg_ctx *ctx)
{
    switch (ctx->info.protocol)
    {
    case SG_PROTO_TLS1_0: return ctx->server ? SP_PROT_TLS1_0_SERVER : SP_PROT_TLS1_0_CLIENT;
    case SG_PROTO_TLS1_1: return ctx->server ? SP_PROT_TLS1_1_SERVER : SP_PROT_TLS1_1_CLIENT;
    case SG_PROTO_TLS1_2: return ctx->server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT;
    case SG_PROTO_TLS1_3: return ctx->server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT;
    default:              return sg_dgram_sp_protocol(ctx);  /* DTLS: datagram.c */
    }
}

static ALG_ID cipher_alg(UINT32 cipher)
{
    switch (cipher)
    {
    case SG_CIPHER_AES_128_GCM:
    case SG_CIPHER_AES_128_CBC:
    case SG_CIPHER_AES_128_CCM:
        return CALG_AES_128;
    case SG_CIPHER_AES_256_GCM:
    case SG_CIPHER_AES_256_CBC:
    case SG_CIPHER_AES_256_CCM:
        return CALG_AES_256;
    case SG_CIPHER_3DES_CBC:
        return CALG_3DES;
    default:
        return 0;  /* no ALG_ID exists (ChaCha20-Poly1305) */
    }
}

static const WCHAR *cipher_name(UINT32 cipher)
{
    switch (cipher)
    {
    case SG_CIPHER_AES_128_GCM:
    case SG_CIPHER_AES_256_GCM:
    case SG_CIPHER_AES_128_CBC:
    case SG_CIPHER_AES_256_CBC:
    case SG_CIPHER_AES_128_CCM:
    case SG_CIPHER_AES_256_CCM:
        return L"AES";
    case SG_CIPHER_3DES_CBC:        return L"3DES";
    case SG_CIPHER_CHACHA20_POLY1305: return L"CHACHA20_POLY1305";
    default:                        return L"";
    }
}

static DWORD cipher_block(UINT32 cipher)
{
    switch (cipher)
    {
    case SG_CIPHER_3DES_CBC:          return 8;
    case SG_CIPHER_CHACHA20_POLY1305: return 1;
    case SG_CIPHER_NONE:
    case SG_CIPHER_OTHER:             return 0;
    default:                          return 16;
    }
}

static BOOL is_aead(UINT32 cipher)
{
    return cipher == SG_CIPHER_AES_128_GCM || cipher == SG_CIPHER_AES_256_GCM || cipher == SG_CIPHER_AES_128_CCM
        || cipher == SG_CIPHER_AES_256_CCM || cipher == SG_CIPHER_CHACHA20_POLY1305;
}

/* The record MAC: none for AEAD suites, whose hash only drives the PRF/HKDF. */
static ALG_ID mac_alg(const struct sg_ctx *ctx)
{
    if (is_aead(ctx->info.cipher)) return 0;
    switch (ctx->info.hash)
    {
    case SG_HASH_SHA1:   return CALG_SHA1;
    case SG_HASH_SHA256: return CALG_SHA_256;
    case SG_HASH_SHA384: return CALG_SHA_384;
    default:             return 0;
    }
}

static const WCHAR *mac_name(const struct sg_ctx *ctx)
{
    switch (mac_alg(ctx))
    {
    case CALG_SHA1:    return L"SHA1";
    case CALG_SHA_256: return L"SHA256";
    case CALG_SHA_384: return L"SHA384";
    default:           return L"";
    }
}

static DWORD mac_bits(const struct sg_ctx *ctx)
{
    return mac_alg(ctx) ? ctx->info.hash_bits : 0;
}

static ALG_ID exchange_alg(UINT32 kx)
{
    switch (kx)
    {
    case SG_KX_RSA:   return CALG_RSA_KEYX;
    case SG_KX_DHE:   return CALG_DH_EPHEM;
    case SG_KX_ECDHE: return CALG_ECDH_EPHEM;
    default:          return 0;
    }
}

static const WCHAR *exchange_name(UINT32 kx)
{
    switch (kx)
    {
    case SG_KX_RSA:   return L"RSA";
    case SG_KX_DHE:   return L"DH";
    case SG_KX_ECDHE: return L"ECDH";
    default:          return L"";
    }
}

/* IANA names of the suites GnuTLS can negotiate with our priorities. */
static const struct { WORD id; const WCHAR *name; } suite_names[] =
{
    { 0x1301, L"TLS_AES_128_GCM_SHA256" },
    { 0x1302, L"TLS_AES_256_GCM_SHA384" },
    { 0x1303, L"TLS_CHACHA20_POLY1305_SHA256" },
    { 0x1304, L"TLS_AES_128_CCM_SHA256" },
    { 0xc02b, L"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
    { 0xc02c, L"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
    { 0xc02f, L"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0xc030, L"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xcca8, L"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xcca9, L"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xc009, L"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
    { 0xc00a, L"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
    { 0xc013, L"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0xc014, L"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0xc023, L"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
    { 0xc024, L"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
    { 0xc027, L"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
    { 0xc028, L"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
    { 0x009c, L"TLS_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009d, L"TLS_RSA_WITH_AES_256_GCM_SHA384" },
    { 0x009e, L"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009f, L"TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0x002f, L"TLS_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0035, L"TLS_RSA_WITH_AES_256_CBC_SHA" },
    { 0x003c, L"TLS_RSA_WITH_AES_128_CBC_SHA256" },
    { 0x003d, L"TLS_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x0033, L"TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0039, L"TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0x000a, L"TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
};

static const WCHAR *suite_name(UINT32 id)
{
    unsigned int i;
    for (i = 0; i < ARRAY_SIZE(suite_names); i++) if (suite_names[i].id == id) return suite_names[i].name;
    return L"";
}

static void set_name(WCHAR *field, const WCHAR *name)
{
    lstrcpynW(field, name, SZ_ALG_MAX_SIZE);
}

static BOOL established(const struct sg_ctx *ctx)
{
    return ctx->state == SG_CTX_ESTABLISHED || ctx->state == SG_CTX_CLOSED;
}

/* The server's certificate: ours on a server, the peer's on a client (a new reference). */
static const CERT_CONTEXT *server_certificate(struct sg_ctx *ctx)
{
    if (ctx->server) return ctx->cred->cert ? CertDuplicateCertificateContext(ctx->cred->cert) : NULL;
    return sg_peer_certificate(ctx);
}

static const WCHAR *certificate_key_name(struct sg_ctx *ctx)
{
    const CERT_CONTEXT *cert = server_certificate(ctx);
    const WCHAR *ret = L"";
    const char *oid;

    if (!cert) return ret;
    oid = cert->pCertInfo->SubjectPublicKeyInfo.Algorithm.pszObjId;
    if (!strcmp(oid, szOID_RSA_RSA)) ret = L"RSA";
    else if (!strcmp(oid, szOID_ECC_PUBLIC_KEY)) ret = L"ECDSA";
    CertFreeCertificateContext(cert);
    return ret;
}

static SECURITY_STATUS session_query(struct sg_ctx *ctx, UINT32 what, const BYTE *input, DWORD input_size,
                                     DWORD context_size, BYTE *output, DWORD capacity, DWORD *size)
{
    struct sg_session_query_params params = { 0 };

    params.session = ctx->session;
    params.what = what;
    params.input = (ULONG_PTR)input;
    params.input_size = input_size;
    params.context_size = context_size;
    params.output = (ULONG_PTR)output;
    params.output_capacity = capacity;
    if (sg_unix_call(unix_session_query, &params)) return SEC_E_INTERNAL_ERROR;
    *size = params.output_size;
    switch (params.status)
    {
    case SG_OK:                   return SEC_E_OK;
    case SG_ERR_BUFFER_TOO_SMALL: return SEC_E_BUFFER_TOO_SMALL;
    case SG_ERR_INVALID_PARAMETER:return SEC_E_UNSUPPORTED_FUNCTION;
    default:
        WARN("engine: status %u, error %d\n", params.status, params.library_error);
        return SEC_E_INTERNAL_ERROR;
    }
}

static SECURITY_STATUS query_sizes(struct sg_ctx *ctx, SecPkgContext_Sizes *sizes)
{
    sizes->cbMaxToken = 0x6000;  /* the package's cbMaxToken */
    sizes->cbMaxSignature = 0;   /* Schannel has no MakeSignature */
    sizes->cbBlockSize = ctx->info.block_size;
    sizes->cbSecurityTrailer = ctx->info.trailer_size;
    return SEC_E_OK;
}

static SECURITY_STATUS query_stream_sizes(struct sg_ctx *ctx, SecPkgContext_StreamSizes *sizes)
{
    sizes->cbHeader = ctx->info.header_size;
    sizes->cbTrailer = ctx->info.trailer_size;
    sizes->cbMaximumMessage = ctx->info.max_message;
    sizes->cBuffers = 4;
    sizes->cbBlockSize = ctx->info.block_size;
    return SEC_E_OK;
}

static SECURITY_STATUS query_connection_info(struct sg_ctx *ctx, SecPkgContext_ConnectionInfo *info)
{
    info->dwProtocol = sp_protocol(ctx);
    info->aiCipher = cipher_alg(ctx->info.cipher);
    info->dwCipherStrength = ctx->info.cipher_bits;
    /* AEAD suites have no separate MAC: Windows reports no hash for them. */
    info->aiHash = mac_alg(ctx);
    info->dwHashStrength = mac_bits(ctx);
    info->aiExch = exchange_alg(ctx->info.kx);
    info->dwExchStrength = ctx->info.kx_bits;
    return SEC_E_OK;
}

static SECURITY_STATUS query_connection_info_ex(struct sg_ctx *ctx, struct sg_connection_info_ex *info)
{
    memset(info, 0, sizeof(*info));
    info->dwVersion = SG_CONNECTION_INFO_EX_V1;
    info->dwProtocol = sp_protocol(ctx);
    set_name(info->szCipher, cipher_name(ctx->info.cipher));
    info->dwCipherStrength = ctx->info.cipher_bits;
    set_name(info->szHash, mac_name(ctx));
    info->dwHashStrength = mac_bits(ctx);
    set_name(info->szExchange, exchange_name(ctx->info.kx));
    info->dwExchStrength = ctx->info.kx_bits;
    return SEC_E_OK;
}

static SECURITY_STATUS query_cipher_info(struct sg_ctx *ctx, SecPkgContext_CipherInfo *info)
{
    memset(info, 0, sizeof(*info));
    info->dwVersion = SECPKGCONTEXT_CIPHERINFO_V1;
    info->dwProtocol = sp_protocol(ctx);
    info->dwCipherSuite = ctx->info.cipher_suite;
    info->dwBaseCipherSuite = ctx->info.cipher_suite;
    set_name(info->szCipherSuite, suite_name(ctx->info.cipher_suite));
    set_name(info->szCipher, cipher_name(ctx->info.cipher));
    info->dwCipherLen = ctx->info.cipher_bits;
    info->dwCipherBlockLen = cipher_block(ctx->info.cipher);
    set_name(info->szHash, mac_name(ctx));
    info->dwHashLen = mac_bits(ctx);
    set_name(info->szExchange, exchange_name(ctx->info.kx));
    info->dwMinExchangeLen = ctx->info.kx_bits;
    info->dwMaxExchangeLen = ctx->info.kx_bits;
    set_name(info->szCertificate, certificate_key_name(ctx));
    return SEC_E_OK;
}

static void *context_strdup(const WCHAR *str, BOOL unicode)
{
    void *ret;
    int len;

    if (unicode)
    {
        len = (lstrlenW(str) + 1) * sizeof(WCHAR);
        if ((ret = sg_context_buffer_alloc(len))) memcpy(ret, str, len);
        return ret;
    }
    len = WideCharToMultiByte(CP_ACP, 0, str, -1, NULL, 0, NULL, NULL);
    if ((ret = sg_context_buffer_alloc(len))) WideCharToMultiByte(CP_ACP, 0, str, -1, ret, len, NULL, NULL);
    return ret;
}

/* SecPkgContext_KeyInfoA and W have the same layout but for the string type. */
static SECURITY_STATUS query_key_info(struct sg_ctx *ctx, SecPkgContext_KeyInfoW *info, BOOL unicode)
{
    info->sSignatureAlgorithmName = context_strdup(mac_name(ctx), unicode);
    info->sEncryptAlgorithmName = context_strdup(cipher_name(ctx->info.cipher), unicode);
    if (!info->sSignatureAlgorithmName || !info->sEncryptAlgorithmName)
    {
        FreeContextBuffer(info->sSignatureAlgorithmName);
        FreeContextBuffer(info->sEncryptAlgorithmName);
        info->sSignatureAlgorithmName = info->sEncryptAlgorithmName = NULL;
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    info->KeySize = ctx->info.cipher_bits;
    info->SignatureAlgorithm = mac_alg(ctx);
    info->EncryptAlgorithm = cipher_alg(ctx->info.cipher);
    return SEC_E_OK;
}

static SECURITY_STATUS query_session_info(struct sg_ctx *ctx, struct sg_session_info_attr *info)
{
    DWORD size = 0;
    SECURITY_STATUS status;

    if (!ctx->server) return sg_client_query_session_info(ctx, info);
    memset(info, 0, sizeof(*info));
    info->dwFlags = ctx->info.resumed ? SSL_SESSION_RECONNECT : 0;
    status = session_query(ctx, SG_QUERY_SESSION_ID, NULL, 0, 0, info->rgbSessionId, sizeof(info->rgbSessionId),
                           &size);
    if (status) return status;
    info->cbSessionId = size;
    return SEC_E_OK;
}

/* A channel binding: SEC_CHANNEL_BINDINGS followed by "prefix" + data, in one buffer the
 * caller frees with FreeContextBuffer. */
static SECURITY_STATUS make_bindings(SecPkgContext_Bindings *out, const char *prefix, const BYTE *data, DWORD size)
{
    DWORD prefix_size = strlen(prefix), total = sizeof(SEC_CHANNEL_BINDINGS) + prefix_size + size;
    SEC_CHANNEL_BINDINGS *bindings;

    if (!(bindings = sg_context_buffer_alloc(total))) return SEC_E_INSUFFICIENT_MEMORY;
    memset(bindings, 0, sizeof(*bindings));
    bindings->cbApplicationDataLength = prefix_size + size;
    bindings->dwApplicationDataOffset = sizeof(*bindings);
    memcpy(bindings + 1, prefix, prefix_size);
    memcpy((BYTE *)(bindings + 1) + prefix_size, data, size);
    out->BindingsLength = total;
    out->Bindings = bindings;
    return SEC_E_OK;
}

/* RFC 5929 tls-server-end-point: the server certificate's hash, with its signature's hash
 * algorithm, SHA-256 for MD5 and SHA-1. */
static SECURITY_STATUS query_endpoint_bindings(struct sg_ctx *ctx, SecPkgContext_Bindings *out)
{
    const CERT_CONTEXT *cert = server_certificate(ctx);
    const char *oid;
    BYTE hash[64];
    DWORD size = sizeof(hash);
    ALG_ID alg = CALG_SHA_256;
    SECURITY_STATUS status;

    if (!cert) return SEC_E_UNSUPPORTED_FUNCTION;
    oid = cert->pCertInfo->SignatureAlgorithm.pszObjId;
    if (!strcmp(oid, szOID_RSA_SHA384RSA) || !strcmp(oid, szOID_ECDSA_SHA384)) alg = CALG_SHA_384;
    else if (!strcmp(oid, szOID_RSA_SHA512RSA) || !strcmp(oid, szOID_ECDSA_SHA512)) alg = CALG_SHA_512;
    if (!CryptHashCertificate(0, alg, 0, cert->pbCertEncoded, cert->cbCertEncoded, hash, &size))
    {
        WARN("cannot hash the server certificate: %#lx\n", GetLastError());
        CertFreeCertificateContext(cert);
        return SEC_E_INTERNAL_ERROR;
    }
    CertFreeCertificateContext(cert);
    status = make_bindings(out, "tls-server-end-point:", hash, size);
    SecureZeroMemory(hash, sizeof(hash));
    return status;
}

static SECURITY_STATUS query_unique_bindings(struct sg_ctx *ctx, SecPkgContext_Bindings *out)
{
    BYTE finished[64];
    DWORD size = 0;
    SECURITY_STATUS status;

    /* tls-unique does not exist in TLS 1.3. */
    if ((status = session_query(ctx, SG_QUERY_TLS_UNIQUE, NULL, 0, 0, finished, sizeof(finished), &size)))
        return status;
    return make_bindings(out, "tls-unique:", finished, size);
}

static SECURITY_STATUS query_cert_trust_status(struct sg_ctx *ctx, CERT_TRUST_STATUS *trust)
{
    const CERT_CONTEXT *leaf = sg_peer_certificate(ctx);
    const CERT_CHAIN_CONTEXT *chain = NULL;
    CERT_CHAIN_PARA para = { sizeof(para) };

    if (!leaf) return SEC_E_NO_CREDENTIALS;
    if (!CertGetCertificateChain(NULL, leaf, NULL, leaf->hCertStore, &para, 0, NULL, &chain))
    {
        CertFreeCertificateContext(leaf);
        return SEC_E_INTERNAL_ERROR;
    }
    *trust = chain->TrustStatus;
    CertFreeCertificateChain(chain);
    CertFreeCertificateContext(leaf);
    return SEC_E_OK;
}

static struct exporter_request **find_exporter(const struct sg_ctx *ctx)
{
    struct exporter_request **entry;
    for (entry = &exporter_requests; *entry; entry = &(*entry)->next)
        if ((*entry)->ctx == ctx) return entry;
    return NULL;
}

static SECURITY_STATUS query_keying_material(struct sg_ctx *ctx, struct sg_keying_material *out)
{
    struct exporter_request **entry, request;
    SECURITY_STATUS status;
    BYTE *material, *input;
    DWORD size = 0;

    EnterCriticalSection(&exporter_cs);
    if (!(entry = find_exporter(ctx)))
    {
        LeaveCriticalSection(&exporter_cs);
        WARN("no SECPKG_ATTR_KEYING_MATERIAL_INFO was set\n");
        return SEC_E_INVALID_PARAMETER;
    }
    request = **entry;
    input = sg_alloc(request.label_size + (request.context_size == SG_QUERY_NO_CONTEXT ? 0 : request.context_size));
    if (input) memcpy(input, request.input, request.label_size
                      + (request.context_size == SG_QUERY_NO_CONTEXT ? 0 : request.context_size));
    LeaveCriticalSection(&exporter_cs);
    if (!input) return SEC_E_INSUFFICIENT_MEMORY;

    if (!(material = sg_context_buffer_alloc(request.output_size)))
    {
        sg_free(input);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    status = session_query(ctx, SG_QUERY_EXPORTER, input,
                           request.label_size + (request.context_size == SG_QUERY_NO_CONTEXT ? 0 : request.context_size),
                           request.context_size, material, request.output_size, &size);
    sg_free(input);
    if (status || size != request.output_size)
    {
        FreeContextBuffer(material);
        return status ? status : SEC_E_INTERNAL_ERROR;
    }
    out->cbKeyingMaterial = size;
    out->pbKeyingMaterial = material;
    return SEC_E_OK;
}

static SECURITY_STATUS set_keying_material_info(struct sg_ctx *ctx, const struct sg_keying_material_info *info,
                                                ULONG size)
{
    struct exporter_request *request, **entry;
    DWORD label_size, context_size;

    if (size < sizeof(*info)) return SEC_E_BUFFER_TOO_SMALL;
    /* cbLabel counts the NUL, which is not part of the label. */
    if (!info->pszLabel || info->cbLabel < 2 || info->pszLabel[info->cbLabel - 1]
        || strlen(info->pszLabel) != info->cbLabel - 1u)
        return SEC_E_INVALID_PARAMETER;
    if (!info->cbKeyingMaterial || (info->cbContextValue && !info->pbContextValue)) return SEC_E_INVALID_PARAMETER;
    label_size = info->cbLabel - 1;
    context_size = info->pbContextValue ? info->cbContextValue : 0;

    if (!(request = sg_alloc_zero(sizeof(*request)))) return SEC_E_INSUFFICIENT_MEMORY;
    if (!(request->input = sg_alloc(label_size + context_size + 1)))
    {
        sg_free(request);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    memcpy(request->input, info->pszLabel, label_size);
    if (context_size) memcpy(request->input + label_size, info->pbContextValue, context_size);
    request->ctx = ctx;
    request->label_size = label_size;
    request->context_size = info->pbContextValue ? context_size : SG_QUERY_NO_CONTEXT;
    request->output_size = info->cbKeyingMaterial;

    EnterCriticalSection(&exporter_cs);
    if ((entry = find_exporter(ctx)))
    {
        struct exporter_request *old = *entry;
        *entry = old->next;
        sg_free(old->input);
        sg_free(old);
    }
    request->next = exporter_requests;
    __atomic_store_n(&exporter_requests, request, __ATOMIC_RELEASE);
    LeaveCriticalSection(&exporter_cs);
    TRACE("exporter: label of %lu bytes, context %lu, %lu bytes\n", label_size, context_size, info->cbKeyingMaterial);
    return SEC_E_OK;
}

/* Drops what a context left here; called when it is deleted. */
void sg_attributes_forget_context(const struct sg_ctx *ctx)
{
    struct exporter_request **entry;

    /* Nearly every context goes without ever asking for keying material: no lock then. A
     * request this context set happened before its deletion (the handle's last reference
     * goes after its calls), so an empty list seen here means none is ours. */
    if (!__atomic_load_n(&exporter_requests, __ATOMIC_ACQUIRE)) return;
    EnterCriticalSection(&exporter_cs);
    if ((entry = find_exporter(ctx)))
    {
        struct exporter_request *old = *entry;
        *entry = old->next;
        sg_free(old->input);
        sg_free(old);
    }
    LeaveCriticalSection(&exporter_cs);
}

SECURITY_STATUS sg_query_context_attributes(CtxtHandle *handle, ULONG attribute, void *buffer, BOOL unicode)
{
    struct sg_ctx *ctx;

    TRACE("%p %#lx %p\n", handle, attribute, buffer);
    if (!(ctx = sg_handle_get(SG_HANDLE_CTX, handle))) return SEC_E_INVALID_HANDLE;
    if (!buffer) return SEC_E_INVALID_PARAMETER;
    if (attribute == 34 /* SECPKG_ATTR_DTLS_MTU */) return sg_dgram_mtu_attribute(handle, buffer, 0, FALSE);

    switch (attribute)
    {
    case SECPKG_ATTR_REMOTE_CERT_CONTEXT:
    case SECPKG_ATTR_REMOTE_CERT_CHAIN:
        /* Available from the step that received the certificate, also during the handshake. */
        if (ctx->state == SG_CTX_FAILED) return SEC_E_INVALID_HANDLE;
        if (!(*(const CERT_CONTEXT **)buffer = sg_peer_certificate(ctx))) return SEC_E_NO_CREDENTIALS;
        return SEC_E_OK;
    case SECPKG_ATTR_LOCAL_CERT_CONTEXT:
        if (ctx->state == SG_CTX_FAILED) return SEC_E_INVALID_HANDLE;
        if (!ctx->cred->cert) return SEC_E_NO_CREDENTIALS;
        *(const CERT_CONTEXT **)buffer = CertDuplicateCertificateContext(ctx->cred->cert);
        return SEC_E_OK;
    case SECPKG_ATTR_APPLICATION_PROTOCOL:
        if (!established(ctx)) return SEC_E_INVALID_HANDLE;
        return sg_client_query_alpn(ctx, buffer);
    case SECPKG_ATTR_ISSUER_LIST_EX:
        /* Also during the handshake, after SEC_I_INCOMPLETE_CREDENTIALS. */
        if (ctx->server) return SEC_E_UNSUPPORTED_FUNCTION;
        return sg_client_query_issuer_list(ctx, buffer);
    default:
        break;
    }

    /* Everything else describes the negotiated session. */
    if (!established(ctx)) return SEC_E_INVALID_HANDLE;
    switch (attribute)
    {
    case SECPKG_ATTR_SIZES:              return query_sizes(ctx, buffer);
    case SECPKG_ATTR_STREAM_SIZES:       return query_stream_sizes(ctx, buffer);
    case SECPKG_ATTR_CONNECTION_INFO:    return query_connection_info(ctx, buffer);
    case SECPKG_ATTR_CONNECTION_INFO_EX: return query_connection_info_ex(ctx, buffer);
    case SECPKG_ATTR_CIPHER_INFO:        return query_cipher_info(ctx, buffer);
    case SECPKG_ATTR_KEY_INFO:           return query_key_info(ctx, buffer, unicode);
    case SECPKG_ATTR_SESSION_INFO:       return query_session_info(ctx, buffer);
    case SECPKG_ATTR_ENDPOINT_BINDINGS:  return query_endpoint_bindings(ctx, buffer);
    case SECPKG_ATTR_UNIQUE_BINDINGS:    return query_unique_bindings(ctx, buffer);
    case SECPKG_ATTR_KEYING_MATERIAL:    return query_keying_material(ctx, buffer);
    case SECPKG_ATTR_CERT_TRUST_STATUS:  return query_cert_trust_status(ctx, buffer);
    case 0x6c /* SECPKG_ATTR_SRTP_PARAMETERS */: return sg_dgram_srtp_parameters(ctx, buffer);
    default:
        FIXME("attribute %#lx not supported\n", attribute);
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}

SECURITY_STATUS sg_set_context_attributes(CtxtHandle *handle, ULONG attribute, void *buffer, ULONG size)
{
    struct sg_ctx *ctx;

    TRACE("%p %#lx %p %lu\n", handle, attribute, buffer, size);
    if (!(ctx = sg_handle_get(SG_HANDLE_CTX, handle))) return SEC_E_INVALID_HANDLE;
    if (!buffer) return SEC_E_INVALID_PARAMETER;
    if (attribute == 34 /* SECPKG_ATTR_DTLS_MTU */) return sg_dgram_mtu_attribute(handle, buffer, size, TRUE);
    switch (attribute)
    {
    case SECPKG_ATTR_KEYING_MATERIAL_INFO:
        return set_keying_material_info(ctx, buffer, size);
    default:
        FIXME("attribute %#lx cannot be set\n", attribute);
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}
