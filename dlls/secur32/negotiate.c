/*
 * Negotiate: picks Kerberos when it can establish a context and falls back to NTLM, the
 * way Wine's Negotiate does (tokens are those of the chosen package, without SPNEGO
 * framing). Built on the LSA-hosted packages of lsa.c.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

/* msv1_0.dll reads this bit of the credential use: do not fall back to the user's cached
 * credentials (ntlm_auth --use-cached-creds) when Negotiate gets no explicit identity. */
#define SG_NO_CACHED_CREDENTIALS 0x10000000

struct sg_nego_cred
{
    struct sg_lsa_object *krb;
    struct sg_lsa_object *ntlm;
};

struct sg_nego_ctx
{
    struct sg_lsa_object *chosen;    /* the context of the package that took the first call */
};

SECURITY_STATUS sg_nego_acquire_credentials(const WCHAR *principal, ULONG use, LUID *logon_id, void *auth_data,
                                            SEC_GET_KEY_FN get_key, void *get_key_arg, struct sg_nego_cred **ret,
                                            TimeStamp *expiry)
{
    SECURITY_STATUS status = SEC_E_SECPKG_NOT_FOUND, krb_status;
    struct sg_nego_cred *cred;
    int index;

    if (!(cred = sg_alloc_zero(sizeof(*cred)))) return SEC_E_INSUFFICIENT_MEMORY;
    if ((index = sg_lsa_find_package(L"Kerberos")) >= 0)
    {
        krb_status = sg_lsa_acquire_credentials(index, principal, use, logon_id, auth_data, get_key, get_key_arg,
                                                &cred->krb, expiry);
        if (krb_status != SEC_E_OK) status = krb_status;
    }
    if ((index = sg_lsa_find_package(L"NTLM")) >= 0)
    {
        ULONG ntlm_use = auth_data ? use : use | SG_NO_CACHED_CREDENTIALS;
        status = sg_lsa_acquire_credentials(index, principal, ntlm_use, logon_id, auth_data, get_key, get_key_arg,
                                            &cred->ntlm, expiry);
    }
    if (!cred->krb && !cred->ntlm)
    {
        sg_free(cred);
        return status == SEC_E_OK ? SEC_E_NO_CREDENTIALS : status;
    }
    *ret = cred;
    return SEC_E_OK;
}

SECURITY_STATUS sg_nego_free_credentials(struct sg_nego_cred *cred)
{
    if (cred->krb) sg_lsa_free_credentials(cred->krb);
    if (cred->ntlm) sg_lsa_free_credentials(cred->ntlm);
    sg_free(cred);
    return SEC_E_OK;
}

struct sg_lsa_object *sg_nego_cred_package(struct sg_nego_cred *cred)
{
    return cred->ntlm ? cred->ntlm : cred->krb;
}

static BOOL succeeded(SECURITY_STATUS status)
{
    return status >= 0;
}

/* First call on a new context: Kerberos, then NTLM. Later calls go to the chosen package. */
SECURITY_STATUS sg_nego_initialize_context(struct sg_nego_cred *cred, struct sg_nego_ctx *ctx, const WCHAR *target,
                                           ULONG req, ULONG data_rep, SecBufferDesc *input,
                                           struct sg_nego_ctx **new_ctx, SecBufferDesc *output, ULONG *attrs,
                                           TimeStamp *expiry)
{
    SECURITY_STATUS status = SEC_E_NO_CREDENTIALS;
    struct sg_lsa_object *chosen = NULL;

    if (ctx)
    {
        status = sg_lsa_initialize_context(NULL, ctx->chosen, target, req, data_rep, input, &chosen, output, attrs,
                                           expiry);
        if (succeeded(status)) *new_ctx = ctx;
        return status;
    }
    if (cred->krb)
    {
        status = sg_lsa_initialize_context(cred->krb, NULL, target, req, data_rep, input, &chosen, output, attrs,
                                           expiry);
        if (!succeeded(status)) TRACE("Kerberos declined (%#lx), trying NTLM\n", status);
    }
    if (!succeeded(status) && cred->ntlm)
        status = sg_lsa_initialize_context(cred->ntlm, NULL, target, req, data_rep, input, &chosen, output, attrs,
                                           expiry);
    if (!succeeded(status)) return status;
    if (!(*new_ctx = sg_alloc_zero(sizeof(**new_ctx))))
    {
        sg_lsa_delete_context(chosen);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    (*new_ctx)->chosen = chosen;
    return status;
}

SECURITY_STATUS sg_nego_accept_context(struct sg_nego_cred *cred, struct sg_nego_ctx *ctx, SecBufferDesc *input,
                                       ULONG req, ULONG data_rep, struct sg_nego_ctx **new_ctx,
                                       SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry)
{
    SECURITY_STATUS status = SEC_E_NO_CREDENTIALS;
    struct sg_lsa_object *chosen = NULL;

    if (ctx)
    {
        status = sg_lsa_accept_context(NULL, ctx->chosen, input, req, data_rep, &chosen, output, attrs, expiry);
        if (succeeded(status)) *new_ctx = ctx;
        return status;
    }
    if (cred->krb)
    {
        status = sg_lsa_accept_context(cred->krb, NULL, input, req, data_rep, &chosen, output, attrs, expiry);
        if (!succeeded(status)) TRACE("Kerberos declined (%#lx), trying NTLM\n", status);
    }
    if (!succeeded(status) && cred->ntlm)
        status = sg_lsa_accept_context(cred->ntlm, NULL, input, req, data_rep, &chosen, output, attrs, expiry);
    if (!succeeded(status)) return status;
    if (!(*new_ctx = sg_alloc_zero(sizeof(**new_ctx))))
    {
        sg_lsa_delete_context(chosen);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    (*new_ctx)->chosen = chosen;
    return status;
}

SECURITY_STATUS sg_nego_delete_context(struct sg_nego_ctx *ctx)
{
    SECURITY_STATUS status = SEC_E_OK;

    if (ctx->chosen) status = sg_lsa_delete_context(ctx->chosen);
    sg_free(ctx);
    return status;
}

struct sg_lsa_object *sg_nego_ctx_package(struct sg_nego_ctx *ctx)
{
    return ctx->chosen;
}
