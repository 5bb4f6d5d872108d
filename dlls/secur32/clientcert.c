/*
 * Client certificates the server asks for: SEC_I_INCOMPLETE_CREDENTIALS when the
 * credential has none, the default certificate from the current user's MY store chosen by
 * the server's list of certificate authorities, the answer given on the next
 * InitializeSecurityContext call (possibly with a new credential handle), and
 * SECPKG_ATTR_ISSUER_LIST_EX.
 *
 * Windows' rules, as observed by curl, schannel-rs and .NET:
 *  - a credential with a certificate answers the request itself;
 *  - ISC_REQ_USE_SUPPLIED_CREDS: no automatic choice and never SEC_I_INCOMPLETE_CREDENTIALS;
 *    the credential's certificate or an empty Certificate message is sent;
 *  - otherwise, unless SCH_CRED_NO_DEFAULT_CREDS, a certificate of the MY store with a
 *    private key, valid now, usable for client authentication and issued under one of
 *    the server's authorities (any, if the server named none) is sent without asking;
 *  - failing that, SEC_I_INCOMPLETE_CREDENTIALS; the next call continues the handshake
 *    with the certificate of the credential it passes (an empty Certificate message
 *    when it has none), whether or not it repeats the input.
 * One deliberate difference: when default certificates are allowed but none matches, the
 * handshake goes on without a certificate instead of returning SEC_I_INCOMPLETE_CREDENTIALS.
 * Wine's own winhttp and wininet acquire credentials that way and treat the status as a
 * failure (Windows' WinHTTP turns it into ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED); callers
 * that handle it set SCH_CRED_NO_DEFAULT_CREDS (.NET, the SDK sample) and still get it.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

/* The server's certificate authorities, as the engine stores them (LE32 length + DER). */
struct ca_list
{
    BYTE *data;
    DWORD size;
    DWORD count;
    BOOL requested;
};

static BOOL get_ca_list(struct sg_ctx *ctx, struct ca_list *list)
{
    struct sg_session_cert_request_params params = { 0 };

    memset(list, 0, sizeof(*list));
    params.session = ctx->session;
    if (sg_unix_call(unix_session_cert_request, &params)) return FALSE;
    list->requested = params.requested;
    list->count = params.count;
    if (!params.size) return TRUE;
    if (!(list->data = sg_alloc(params.size))) return FALSE;
    params.buffer = (ULONG_PTR)list->data;
    params.capacity = params.size;
    if (sg_unix_call(unix_session_cert_request, &params) || params.status != SG_OK)
    {
        sg_free(list->data);
        list->data = NULL;
        return FALSE;
    }
    list->size = params.size;
    return TRUE;
}

/* The next name of the list; FALSE at the end. */
static BOOL next_name(const struct ca_list *list, DWORD *pos, CERT_NAME_BLOB *name)
{
    DWORD len;

    if (list->size - *pos < sizeof(len)) return FALSE;
    memcpy(&len, list->data + *pos, sizeof(len));
    if (len > list->size - *pos - sizeof(len)) return FALSE;
    name->cbData = len;
    name->pbData = list->data + *pos + sizeof(len);
    *pos += sizeof(len) + len;
    return TRUE;
}

static SECURITY_STATUS answer(struct sg_ctx *ctx, UINT64 unix_cred)
{
    struct sg_session_client_cert_params params = { 0 };

    params.session = ctx->session;
    params.mode = SG_CLIENT_CERT_ANSWER;
    params.cred = unix_cred;
    if (sg_unix_call(unix_session_client_cert, &params) || params.status != SG_OK)
    {
        WARN("engine refused the answer: %u\n", params.status);
        return SEC_E_INTERNAL_ERROR;
    }
    return SEC_E_OK;
}

static BOOL usable_for_client_auth(const CERT_CONTEXT *cert)
{
    CERT_ENHKEY_USAGE *usage;
    DWORD size = 0, i;
    BOOL ret = FALSE;

    if (!CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)) return FALSE;
    if (CertVerifyTimeValidity(NULL, cert->pCertInfo)) return FALSE;
    size = 0;
    if (!CertGetEnhancedKeyUsage(cert, 0, NULL, &size)) return FALSE;
    if (!(usage = sg_alloc(size))) return FALSE;
    if (CertGetEnhancedKeyUsage(cert, 0, usage, &size))
    {
        /* No usage at all means every usage. */
        ret = !usage->cUsageIdentifier;
        for (i = 0; i < usage->cUsageIdentifier && !ret; i++)
            ret = !strcmp(usage->rgpszUsageIdentifier[i], szOID_PKIX_KP_CLIENT_AUTH);
    }
    sg_free(usage);
    return ret;
}

/* Whether the certificate or a certificate of its chain was issued by one of the names. */
static BOOL issued_under(const CERT_CONTEXT *cert, const struct ca_list *list)
{
    CERT_CHAIN_PARA para = { sizeof(para) };
    const CERT_CHAIN_CONTEXT *chain;
    CERT_NAME_BLOB name;
    DWORD pos, i;
    BOOL found = FALSE;

    if (!list->count) return TRUE;
    if (!CertGetCertificateChain(NULL, cert, NULL, NULL, &para, 0, NULL, &chain)) return FALSE;
    for (i = 0; i < chain->rgpChain[0]->cElement && !found; i++)
    {
        const CERT_INFO *info = chain->rgpChain[0]->rgpElement[i]->pCertContext->pCertInfo;
        for (pos = 0; !found && next_name(list, &pos, &name);)
            found = CertCompareCertificateName(X509_ASN_ENCODING, (CERT_NAME_BLOB *)&info->Issuer, &name);
    }
    CertFreeCertificateChain(chain);
    return found;
}

/*
 * The first certificate of CurrentUser MY that suits client authentication under one of the
 * server's authorities AND whose private key the engine accepts: a certificate whose key
 * cannot be used (not exportable, CNG, or a container that now holds another key) is passed
 * over, so one stale entry does not hide a good one.
 */
static BOOL find_default_cred(struct sg_ctx *ctx, const struct ca_list *list, UINT64 *unix_cred)
{
    const CERT_CONTEXT *cert = NULL;
    HCERTSTORE store;
    BOOL found = FALSE;

    if (!(store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER
                                | CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG, L"MY")))
        return FALSE;
    while (!found && (cert = CertEnumCertificatesInStore(store, cert)))
    {
        if (!usable_for_client_auth(cert) || !issued_under(cert, list)) continue;
        if (!sg_cred_engine_for_cert(ctx->cred, cert, unix_cred))
        {
            TRACE("default client certificate %p for %lu authorities\n", cert, list->count);
            found = TRUE;
        }
        else WARN("MY certificate %p matches but its key is unusable, trying the next one\n", cert);
    }
    if (cert) CertFreeCertificateContext(cert);
    CertCloseStore(store, 0);
    return found;
}

BOOL sg_client_cert_default(struct sg_ctx *ctx, ULONG req)
{
    struct ca_list list;
    UINT64 unix_cred = 0;
    BOOL ret;

    if ((ctx->cred->sch_flags & SCH_CRED_NO_DEFAULT_CREDS) || (req & ISC_REQ_USE_SUPPLIED_CREDS)) return FALSE;
    if (!get_ca_list(ctx, &list)) return FALSE;
    if (find_default_cred(ctx, &list, &unix_cred))
    {
        ret = !answer(ctx, unix_cred);
        sg_cred_engine_free(unix_cred);  /* the session keeps its own reference */
    }
    else
    {
        /* See the top of the file: no question for callers that allow default certificates. */
        FIXME("no usable default client certificate for %lu authorities: continuing without one\n", list.count);
        ret = !answer(ctx, 0);
    }
    sg_free(list.data);
    return ret;
}

SECURITY_STATUS sg_client_cert_answer(struct sg_ctx *ctx, CredHandle *cred_handle)
{
    struct sg_cred *cred = cred_handle ? sg_handle_get(SG_HANDLE_CRED, cred_handle) : NULL;

    if (cred && cred != ctx->cred)
    {
        if (cred->use != SECPKG_CRED_OUTBOUND) return SEC_E_NO_CREDENTIALS;
        TRACE("continuing with credential %p\n", cred);
        sg_cred_addref(cred);
        sg_cred_release(ctx->cred);
        ctx->cred = cred;
    }
    return answer(ctx, ctx->cred->cert ? ctx->cred->unix_cred : 0);
}

SECURITY_STATUS sg_client_query_issuer_list(struct sg_ctx *ctx, void *buffer)
{
    SecPkgContext_IssuerListInfoEx *info = buffer;
    struct ca_list list;
    CERT_NAME_BLOB *names, name;
    BYTE *bytes;
    DWORD pos = 0, i = 0;

    if (ctx->state == SG_CTX_FAILED) return SEC_E_INVALID_HANDLE;
    if (!get_ca_list(ctx, &list)) return SEC_E_INTERNAL_ERROR;
    info->aIssuers = NULL;
    info->cIssuers = 0;
    if (list.count)
    {
        /* One block for FreeContextBuffer: the blobs, then the names they point to. */
        if (!(names = sg_context_buffer_alloc(list.count * sizeof(*names) + list.size)))
        {
            sg_free(list.data);
            return SEC_E_INSUFFICIENT_MEMORY;
        }
        bytes = (BYTE *)(names + list.count);
        while (i < list.count && next_name(&list, &pos, &name))
        {
            memcpy(bytes, name.pbData, name.cbData);
            names[i].cbData = name.cbData;
            names[i].pbData = bytes;
            bytes += name.cbData;
            i++;
        }
        info->aIssuers = names;
        info->cIssuers = i;
    }
    sg_free(list.data);
    return SEC_E_OK;
}
