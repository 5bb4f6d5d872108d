/*
 * The credential-store module: turns Windows certificates and their private keys into
 * what the engine takes (a DER chain and a key blob), and the peer's DER chain back into
 * CERT_CONTEXTs.
 *
 * Supported key source: CAPI key containers with an exportable RSA key (what
 * PFXImportCertStore with CRYPT_EXPORTABLE creates). CNG keys, non-exportable keys and
 * ECDSA keys are listed as missing in the README status table.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

/* A growable byte buffer; wiped when freed because it may hold key material. */
struct blob_writer
{
    BYTE *data;
    DWORD size, capacity;
    BOOL failed;
};

static void writer_reserve(struct blob_writer *w, DWORD extra)
{
    DWORD capacity;
    BYTE *grown;

    if (w->failed) return;
    if (extra > 0x10000000 || w->size + extra > 0x10000000) { w->failed = TRUE; return; }
    if (w->size + extra <= w->capacity) return;
    capacity = max(w->capacity * 2, w->size + extra + 256);
    if (!(grown = sg_alloc(capacity))) { w->failed = TRUE; return; }
    if (w->data)
    {
        memcpy(grown, w->data, w->size);
        sg_wipe(w->data, w->capacity);
        sg_free(w->data);
    }
    w->data = grown;
    w->capacity = capacity;
}

static void writer_put_u32le(struct blob_writer *w, DWORD value)
{
    writer_reserve(w, 4);
    if (w->failed) return;
    w->data[w->size++] = value & 0xff;
    w->data[w->size++] = (value >> 8) & 0xff;
    w->data[w->size++] = (value >> 16) & 0xff;
    w->data[w->size++] = (value >> 24) & 0xff;
}

static void writer_put(struct blob_writer *w, const BYTE *bytes, DWORD size)
{
    writer_put_u32le(w, size);
    writer_reserve(w, size);
    if (w->failed) return;
    memcpy(w->data + w->size, bytes, size);
    w->size += size;
}

/* A little-endian CAPI integer written as a length-prefixed big-endian one. */
static void writer_put_le_integer(struct blob_writer *w, const BYTE *le, DWORD size)
{
    DWORD i;

    writer_put_u32le(w, size);
    writer_reserve(w, size);
    if (w->failed) return;
    for (i = 0; i < size; i++) w->data[w->size + i] = le[size - 1 - i];
    w->size += size;
}

static void writer_discard(struct blob_writer *w)
{
    if (w->data)
    {
        sg_wipe(w->data, w->capacity);
        sg_free(w->data);
    }
    memset(w, 0, sizeof(*w));
}

/* Leaf first; the self-signed root only when asked (SCH_SEND_ROOT_CERT). */
static SECURITY_STATUS export_chain(const CERT_CONTEXT *cert, BOOL send_root, struct blob_writer *w)
{
    CERT_CHAIN_PARA para = { sizeof(para) };
    const CERT_CHAIN_CONTEXT *chain = NULL;
    const CERT_SIMPLE_CHAIN *simple;
    DWORD i, count;

    if (!CertGetCertificateChain(NULL, cert, NULL, cert->hCertStore, &para, 0, NULL, &chain)
        || !chain->cChain || !chain->rgpChain[0]->cElement)
    {
        if (chain) CertFreeCertificateChain(chain);
        TRACE("no chain built, sending the certificate alone\n");
        writer_put(w, cert->pbCertEncoded, cert->cbCertEncoded);
        return w->failed ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
    }
    simple = chain->rgpChain[0];
    count = simple->cElement;
    if (count > 1 && !send_root
        && (simple->rgpElement[count - 1]->TrustStatus.dwInfoStatus & CERT_TRUST_IS_SELF_SIGNED))
        count--;
    for (i = 0; i < count; i++)
    {
        const CERT_CONTEXT *element = simple->rgpElement[i]->pCertContext;
        writer_put(w, element->pbCertEncoded, element->cbCertEncoded);
    }
    TRACE("sending %lu of %lu chain certificates\n", count, simple->cElement);
    CertFreeCertificateChain(chain);
    return w->failed ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
}

/* PRIVATEKEYBLOB (BLOBHEADER, RSAPUBKEY, then little-endian n, p, q, dp, dq, qinv, d). */
static SECURITY_STATUS rsa_blob_to_components(const BYTE *blob, DWORD size, struct blob_writer *w)
{
    const BLOBHEADER *header = (const BLOBHEADER *)blob;
    const RSAPUBKEY *rsa = (const RSAPUBKEY *)(header + 1);
    DWORD bytes, half, need;
    const BYTE *n, *p, *q, *dp, *dq, *qinv, *d;
    BYTE e[4];

    if (size < sizeof(*header) + sizeof(*rsa) || header->bType != PRIVATEKEYBLOB || rsa->magic != 0x32415352 /* RSA2 */)
        return SEC_E_UNSUPPORTED_FUNCTION;
    bytes = rsa->bitlen / 8;
    half = (rsa->bitlen + 15) / 16;
    need = sizeof(*header) + sizeof(*rsa) + bytes * 2 + half * 5;
    if (!bytes || size < need) return SEC_E_INTERNAL_ERROR;
    n = (const BYTE *)(rsa + 1);
    p = n + bytes;
    q = p + half;
    dp = q + half;
    dq = dp + half;
    qinv = dq + half;
    d = qinv + half;
    e[0] = rsa->pubexp & 0xff;
    e[1] = (rsa->pubexp >> 8) & 0xff;
    e[2] = (rsa->pubexp >> 16) & 0xff;
    e[3] = (rsa->pubexp >> 24) & 0xff;

    writer_put_le_integer(w, n, bytes);
    writer_put_le_integer(w, e, 4);
    writer_put_le_integer(w, d, bytes);
    writer_put_le_integer(w, p, half);
    writer_put_le_integer(w, q, half);
    writer_put_le_integer(w, dp, half);
    writer_put_le_integer(w, dq, half);
    writer_put_le_integer(w, qinv, half);
    return w->failed ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
}

static SECURITY_STATUS export_capi_key(HCRYPTPROV prov, DWORD spec, struct blob_writer *w)
{
    HCRYPTKEY key;
    BYTE *blob = NULL;
    DWORD size = 0;
    SECURITY_STATUS status;

    /* Some importers record a key spec the container does not use (Wine's PFX import
     * says 3); fall back to the two CAPI key slots. */
    if (!CryptGetUserKey(prov, spec, &key) && !CryptGetUserKey(prov, AT_KEYEXCHANGE, &key)
        && !CryptGetUserKey(prov, AT_SIGNATURE, &key))
    {
        WARN("no key of spec %lu in the container: %#lx\n", spec, GetLastError());
        return SEC_E_NO_CREDENTIALS;
    }
    if (!CryptExportKey(key, 0, PRIVATEKEYBLOB, 0, NULL, &size) || !(blob = sg_alloc(size)))
    {
        WARN("private key not exportable: %#lx\n", GetLastError());
        CryptDestroyKey(key);
        return SEC_E_NO_CREDENTIALS;
    }
    if (CryptExportKey(key, 0, PRIVATEKEYBLOB, 0, blob, &size))
        status = rsa_blob_to_components(blob, size, w);
    else
    {
        WARN("private key export failed: %#lx\n", GetLastError());
        status = SEC_E_NO_CREDENTIALS;
    }
    sg_wipe(blob, size);
    sg_free(blob);
    CryptDestroyKey(key);
    return status;
}

static SECURITY_STATUS export_key(const CERT_CONTEXT *cert, struct blob_writer *w, DWORD *format)
{
    HCRYPTPROV_OR_NCRYPT_KEY_HANDLE prov;
    DWORD spec = 0;
    BOOL free_prov = FALSE;
    SECURITY_STATUS status;

    if (!CryptAcquireCertificatePrivateKey(cert, CRYPT_ACQUIRE_SILENT_FLAG, NULL, &prov, &spec, &free_prov))
    {
        WARN("certificate has no usable private key: %#lx\n", GetLastError());
        return SEC_E_NO_CREDENTIALS;
    }
    if (spec == CERT_NCRYPT_KEY_SPEC)
    {
        FIXME("CNG private keys are not supported yet\n");
        status = SEC_E_UNSUPPORTED_FUNCTION;
    }
    else
    {
        status = export_capi_key(prov, spec, w);
        if (!status) *format = SG_KEY_RSA_COMPONENTS;
    }
    if (free_prov) CryptReleaseContext(prov, 0);
    return status;
}

SECURITY_STATUS sg_certstore_export(const CERT_CONTEXT *cert, BOOL with_key, BOOL send_root,
                                    struct sg_cert_material *material)
{
    struct blob_writer chain = { 0 }, key = { 0 };
    SECURITY_STATUS status;
    DWORD format = SG_KEY_NONE;

    memset(material, 0, sizeof(*material));
    if (!cert) return SEC_E_INVALID_PARAMETER;
    if ((status = export_chain(cert, send_root, &chain))) goto failed;
    if (with_key && (status = export_key(cert, &key, &format))) goto failed;
    material->chain = chain.data;
    material->chain_size = chain.size;
    material->key = key.data;
    material->key_size = key.size;
    material->key_format = format;
    return SEC_E_OK;

failed:
    writer_discard(&chain);
    writer_discard(&key);
    return status;
}

void sg_certstore_free(struct sg_cert_material *material)
{
    sg_free(material->chain);
    sg_wipe(material->key, material->key_size);
    sg_free(material->key);
    memset(material, 0, sizeof(*material));
}

/* The peer's chain (LE32 length + DER, leaf first) as the leaf's CERT_CONTEXT, whose
 * hCertStore also holds the rest of the chain. */
const CERT_CONTEXT *sg_certstore_peer_context(const BYTE *chain, DWORD size)
{
    const CERT_CONTEXT *leaf = NULL;
    HCERTSTORE store;
    DWORD pos = 0;

    if (!(store = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG, NULL))) return NULL;
    while (size - pos >= 4)
    {
        DWORD len = chain[pos] | (chain[pos + 1] << 8) | (chain[pos + 2] << 16) | ((DWORD)chain[pos + 3] << 24);
        const CERT_CONTEXT *added = NULL;

        pos += 4;
        if (len > size - pos) break;
        if (!CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, chain + pos, len,
                                              CERT_STORE_ADD_ALWAYS, leaf ? NULL : &added))
        {
            WARN("peer certificate %lu does not parse: %#lx\n", pos, GetLastError());
            if (!leaf) break;
        }
        if (!leaf) leaf = added;
        pos += len;
    }
    CertCloseStore(store, 0);
    return leaf;
}
