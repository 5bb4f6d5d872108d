/*
 * QueryContextAttributes for Schannel contexts. Answers come from what the final
 * handshake step reported, so most queries cost no unix call.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

#ifndef CALG_ECDH_EPHEM
#define CALG_ECDH_EPHEM 0xae06
#endif

static DWORD sp_protocol(const struct sg_ctx *ctx)
{
    switch (ctx->info.protocol)
    {
    case SG_PROTO_TLS1_0: return ctx->server ? SP_PROT_TLS1_0_SERVER : SP_PROT_TLS1_0_CLIENT;
    case SG_PROTO_TLS1_1: return ctx->server ? SP_PROT_TLS1_1_SERVER : SP_PROT_TLS1_1_CLIENT;
    case SG_PROTO_TLS1_2: return ctx->server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT;
    case SG_PROTO_TLS1_3: return ctx->server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT;
    default:              return 0;
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

static ALG_ID hash_alg(UINT32 hash)
{
    switch (hash)
    {
    case SG_HASH_SHA1:   return CALG_SHA1;
    case SG_HASH_SHA256: return CALG_SHA_256;
    case SG_HASH_SHA384: return CALG_SHA_384;
    default:             return 0;
    }
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

static BOOL is_aead(UINT32 cipher)
{
    return cipher == SG_CIPHER_AES_128_GCM || cipher == SG_CIPHER_AES_256_GCM || cipher == SG_CIPHER_AES_128_CCM
        || cipher == SG_CIPHER_AES_256_CCM || cipher == SG_CIPHER_CHACHA20_POLY1305;
}

static SECURITY_STATUS query_remote_cert(struct sg_ctx *ctx, const CERT_CONTEXT **ret)
{
    if (!(*ret = sg_peer_certificate(ctx))) return SEC_E_NO_CREDENTIALS;
    return SEC_E_OK;
}

SECURITY_STATUS sg_query_context_attributes(CtxtHandle *handle, ULONG attribute, void *buffer, BOOL unicode)
{
    struct sg_ctx *ctx;

    TRACE("%p %#lx %p\n", handle, attribute, buffer);
    if (!(ctx = sg_handle_get(SG_HANDLE_CTX, handle))) return SEC_E_INVALID_HANDLE;
    if (!buffer) return SEC_E_INVALID_PARAMETER;

    switch (attribute)
    {
    case SECPKG_ATTR_STREAM_SIZES:
    {
        SecPkgContext_StreamSizes *sizes = buffer;
        if (ctx->state != SG_CTX_ESTABLISHED && ctx->state != SG_CTX_CLOSED) return SEC_E_INVALID_HANDLE;
        sizes->cbHeader = ctx->info.header_size;
        sizes->cbTrailer = ctx->info.trailer_size;
        sizes->cbMaximumMessage = ctx->info.max_message;
        sizes->cBuffers = 4;
        sizes->cbBlockSize = ctx->info.block_size;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_CONNECTION_INFO:
    {
        SecPkgContext_ConnectionInfo *info = buffer;
        if (ctx->state != SG_CTX_ESTABLISHED && ctx->state != SG_CTX_CLOSED) return SEC_E_INVALID_HANDLE;
        info->dwProtocol = sp_protocol(ctx);
        info->aiCipher = cipher_alg(ctx->info.cipher);
        info->dwCipherStrength = ctx->info.cipher_bits;
        /* AEAD suites have no separate MAC: Windows reports no hash for them. */
        info->aiHash = is_aead(ctx->info.cipher) ? 0 : hash_alg(ctx->info.hash);
        info->dwHashStrength = is_aead(ctx->info.cipher) ? 0 : ctx->info.hash_bits;
        info->aiExch = exchange_alg(ctx->info.kx);
        info->dwExchStrength = ctx->info.kx_bits;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_REMOTE_CERT_CONTEXT:
        if (ctx->state == SG_CTX_FAILED) return SEC_E_INVALID_HANDLE;
        return query_remote_cert(ctx, buffer);
    default:
        FIXME("attribute %#lx not supported yet\n", attribute);
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}
