/*
 * Automatic validation of the server's certificate on the client side, through crypt32's
 * chain engine and the SSL chain policy, as Schannel does unless the caller asked for
 * manual validation.
 */

#include "secur32_priv.h"
#include "inaddr.h"
#include "in6addr.h"
#include "ip2string.h"
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

/*
 * The chain engine's own verdict, checked before the SSL policy: a chain that does not
 * reach a trusted root must fail whatever the policy provider says (Wine 8's SSL policy
 * accepts a partial chain).
 */
static SECURITY_STATUS status_from_chain(DWORD error, DWORD flags)
{
    if (error & (CERT_TRUST_IS_UNTRUSTED_ROOT | CERT_TRUST_IS_PARTIAL_CHAIN | CERT_TRUST_IS_CYCLIC))
        return SEC_E_UNTRUSTED_ROOT;
    if (error & (CERT_TRUST_IS_NOT_SIGNATURE_VALID | CERT_TRUST_INVALID_BASIC_CONSTRAINTS
                 | CERT_TRUST_INVALID_NAME_CONSTRAINTS | CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT
                 | CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT | CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT
                 | CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT | CERT_TRUST_INVALID_EXTENSION
                 | CERT_TRUST_INVALID_POLICY_CONSTRAINTS))
        return SEC_E_CERT_UNKNOWN;
    if (error & CERT_TRUST_IS_NOT_TIME_VALID) return SEC_E_CERT_EXPIRED;
    if (error & CERT_TRUST_IS_NOT_VALID_FOR_USAGE) return SEC_E_CERT_WRONG_USAGE;
    if (error & CERT_TRUST_IS_REVOKED) return CRYPT_E_REVOKED;
    if (flags & (SCH_CRED_REVOCATION_CHECK_CHAIN_END_CERT | SCH_CRED_REVOCATION_CHECK_CHAIN
                 | SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT))
    {
        if ((error & CERT_TRUST_IS_OFFLINE_REVOCATION) && !(flags & SCH_CRED_IGNORE_REVOCATION_OFFLINE))
            return CRYPT_E_REVOCATION_OFFLINE;
        if ((error & CERT_TRUST_REVOCATION_STATUS_UNKNOWN) && !(flags & SCH_CRED_IGNORE_NO_REVOCATION_CHECK))
            return CRYPT_E_NO_REVOCATION_CHECK;
    }
    return SEC_E_OK;
}

/*
 * Revocation, element by element, where Wine 8's chain engine is not enough:
 *  - it reports a certificate without any revocation source (no CRL distribution point,
 *    no OCSP responder) as offline, where Windows says CRYPT_E_NO_REVOCATION_CHECK;
 *  - its cryptnet caches the verdict on a revoked certificate as "good" (in the prefix's
 *    CryptnetUrlCache), so only the first check sees it revoked. The CRL itself is cached
 *    correctly: the element's CRLs are looked up again (cache first, as the chain engine
 *    fetched them) and, when signed by the issuer, searched for the certificate.
 */
typedef BOOL (WINAPI *retrieve_by_url_fn)(const WCHAR *, const char *, DWORD, DWORD, void **, HCRYPTASYNC,
                                          CRYPT_CREDENTIALS *, void *, CRYPT_RETRIEVE_AUX_INFO *);

static BOOL has_extension(const CERT_CONTEXT *cert, const char *oid)
{
    return CertFindExtension(oid, cert->pCertInfo->cExtension, cert->pCertInfo->rgExtension) != NULL;
}

static BOOL revoked_in_crl(retrieve_by_url_fn retrieve, const CERT_CONTEXT *cert, const CERT_CONTEXT *issuer)
{
    const CERT_EXTENSION *ext = CertFindExtension(szOID_CRL_DIST_POINTS, cert->pCertInfo->cExtension,
                                                  cert->pCertInfo->rgExtension);
    CRL_DIST_POINTS_INFO *points = NULL;
    DWORD size = 0, i, j;
    BOOL revoked = FALSE;

    if (!ext || !CryptDecodeObjectEx(X509_ASN_ENCODING, X509_CRL_DIST_POINTS, ext->Value.pbData, ext->Value.cbData,
                                     CRYPT_DECODE_ALLOC_FLAG, NULL, &points, &size))
        return FALSE;
    for (i = 0; i < points->cDistPoint && !revoked; i++)
    {
        const CRL_DIST_POINT_NAME *name = &points->rgDistPoint[i].DistPointName;

        if (name->dwDistPointNameChoice != CRL_DIST_POINT_FULL_NAME) continue;
        for (j = 0; j < name->FullName.cAltEntry && !revoked; j++)
        {
            const CERT_ALT_NAME_ENTRY *entry = &name->FullName.rgAltEntry[j];
            const CRL_CONTEXT *crl = NULL;
            CRL_ENTRY *found = NULL;

            if (entry->dwAltNameChoice != CERT_ALT_NAME_URL) continue;
            if (!retrieve(entry->pwszURL, CONTEXT_OID_CRL, CRYPT_CACHE_ONLY_RETRIEVAL, 0, (void **)&crl, NULL, NULL,
                          NULL, NULL))
                continue;
            if (CryptVerifyCertificateSignatureEx(0, X509_ASN_ENCODING, CRYPT_VERIFY_CERT_SIGN_SUBJECT_CRL, (void *)crl,
                                                  CRYPT_VERIFY_CERT_SIGN_ISSUER_CERT, (void *)issuer, 0, NULL)
                && CertFindCertificateInCRL(cert, crl, 0, NULL, &found) && found)
                revoked = TRUE;
            CertFreeCRLContext(crl);
        }
    }
    LocalFree(points);
    return revoked;
}

static SECURITY_STATUS review_revocation(const CERT_CHAIN_CONTEXT *chain, DWORD flags, SECURITY_STATUS status)
{
    const CERT_SIMPLE_CHAIN *simple;
    retrieve_by_url_fn retrieve = NULL;
    BOOL offline = FALSE, unchecked = FALSE;
    HMODULE cryptnet;
    DWORD i;

    if (!chain->cChain) return status;
    simple = chain->rgpChain[0];
    if ((cryptnet = LoadLibraryW(L"cryptnet.dll")))
        retrieve = (retrieve_by_url_fn)(void *)GetProcAddress(cryptnet, "CryptRetrieveObjectByUrlW");
    for (i = 0; i + 1 < simple->cElement; i++)
    {
        const CERT_CHAIN_ELEMENT *element = simple->rgpElement[i];
        const CERT_CONTEXT *cert = element->pCertContext;
        DWORD error = element->TrustStatus.dwErrorStatus;

        /* The elements the caller asked about: the leaf only, or all but the root. */
        if (i && (flags & SCH_CRED_REVOCATION_CHECK_CHAIN_END_CERT)
            && !(flags & (SCH_CRED_REVOCATION_CHECK_CHAIN | SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT)))
            break;
        if (retrieve && revoked_in_crl(retrieve, cert, simple->rgpElement[i + 1]->pCertContext))
        {
            TRACE("element %lu is in its issuer's CRL\n", i);
            if (cryptnet) FreeLibrary(cryptnet);
            return CRYPT_E_REVOKED;
        }
        if (!(error & (CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION))) continue;
        if (has_extension(cert, szOID_CRL_DIST_POINTS) || has_extension(cert, szOID_AUTHORITY_INFO_ACCESS))
            offline = TRUE;
        else
            unchecked = TRUE;
    }
    if (cryptnet) FreeLibrary(cryptnet);
    /* Only the unknown statuses the caller did not waive count. */
    if (offline && !(flags & SCH_CRED_IGNORE_REVOCATION_OFFLINE)) return CRYPT_E_REVOCATION_OFFLINE;
    if (unchecked && !(flags & SCH_CRED_IGNORE_NO_REVOCATION_CHECK)) return CRYPT_E_NO_REVOCATION_CHECK;
    TRACE("revocation: chain verdict %#lx, offline %d, unchecked %d\n", status, offline, unchecked);
    return SEC_E_OK;
}

/* Whether the target is an IP address listed in the certificate's subjectAltName. */
static BOOL ip_in_alt_names(const CERT_CONTEXT *cert, const WCHAR *target, BOOL *is_ip)
{
    BYTE address[16];
    DWORD address_size = 0, size = 0, i;
    CERT_ALT_NAME_INFO *names = NULL;
    const CERT_EXTENSION *ext;
    const WCHAR *end;
    BOOL found = FALSE;

    if (!RtlIpv4StringToAddressW(target, TRUE, &end, (IN_ADDR *)address) && !*end) address_size = 4;
    else if (!RtlIpv6StringToAddressW(target, &end, (IN6_ADDR *)address) && !*end) address_size = 16;
    *is_ip = address_size != 0;
    if (!address_size) return FALSE;

    if (!(ext = CertFindExtension(szOID_SUBJECT_ALT_NAME2, cert->pCertInfo->cExtension, cert->pCertInfo->rgExtension)))
        return FALSE;
    if (!CryptDecodeObjectEx(X509_ASN_ENCODING, X509_ALTERNATE_NAME, ext->Value.pbData, ext->Value.cbData,
                             CRYPT_DECODE_ALLOC_FLAG, NULL, &names, &size))
        return FALSE;
    for (i = 0; i < names->cAltEntry && !found; i++)
    {
        const CERT_ALT_NAME_ENTRY *entry = &names->rgAltEntry[i];
        found = entry->dwAltNameChoice == CERT_ALT_NAME_IP_ADDRESS && entry->IPAddress.cbData == address_size
                && !memcmp(entry->IPAddress.pbData, address, address_size);
    }
    LocalFree(names);
    return found;
}

static const CERT_CONTEXT *peer_leaf(struct sg_ctx *ctx)
{
    struct sg_get_peer_certs_params params = { 0 };
    const CERT_CONTEXT *leaf = NULL;
    BYTE *buffer;
    DWORD size;

    /* The final handshake step brought it along when validation was to follow. */
    if ((buffer = sg_client_take_peer_certs(ctx, &size)))
    {
        leaf = sg_certstore_peer_context(buffer, size);
        sg_free(buffer);
        return leaf;
    }
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
    BOOL name_mismatch = FALSE;
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
    if (ssl_para.pwszServerName)
    {
        /* An IP address target matches an iPAddress subjectAltName (the policy provider only
         * knows DNS names); it never matches a DNS name. */
        BOOL is_ip;
        if (ip_in_alt_names(leaf, ctx->target, &is_ip)) ssl_para.pwszServerName = NULL;
        else if (is_ip) name_mismatch = TRUE;
    }
    /* Revocation is judged from the chain status above, with the caller's SCH_CRED_IGNORE_* flags. */
    ssl_para.fdwChecks |= 0x00000080; /* SECURITY_FLAG_IGNORE_REVOCATION */
    policy_para.pvExtraPolicyPara = &ssl_para;

    status = status_from_chain(chain->TrustStatus.dwErrorStatus, flags);
    if (chain_flags && (status == SEC_E_OK || status == CRYPT_E_REVOCATION_OFFLINE
                        || status == CRYPT_E_NO_REVOCATION_CHECK))
        status = review_revocation(chain, flags, status);
    if (status == SEC_E_OK)
    {
        if (!CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &policy_para, &policy_status))
            status = SEC_E_CERT_UNKNOWN;
        else
            status = status_from_policy(policy_status.dwError);
    }
    if (status == SEC_E_OK && name_mismatch) status = SEC_E_WRONG_PRINCIPAL;
    TRACE("server %s: chain status %#lx, policy error %#lx -> %#lx\n", debugstr_w(ctx->target),
          chain->TrustStatus.dwErrorStatus, policy_status.dwError, status);
    CertFreeCertificateChain(chain);
    CertFreeCertificateContext(leaf);
    return status;
}
