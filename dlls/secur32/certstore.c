/*
 * The credential-store module: turns Windows certificates and their private keys into
 * what the engine takes (a DER chain and a key blob), and the peer's DER chain back into
 * CERT_CONTEXTs.
 *
 * Key sources: CAPI key containers (exportable RSA keys; non-exportable ones through
 * Wine's RSA provider storage), keys attached as CERT_KEY_CONTEXT_PROP_ID
 * (PFXImportCertStore with PKCS12_NO_PERSIST_KEY), and CNG keys through NCryptExportKey
 * (RSA, ECDSA/ECDH P-256/P-384/P-521). Key material lives only in memory we wipe.
 */

#include "secur32_priv.h"
#include "winreg.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

#ifndef CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG
#define CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG 0x00010000
#endif

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

/* The RSA public key of the certificate as a PUBLICKEYBLOB, to check a key found for it. */
static BOOL cert_rsa_modulus_matches(const CERT_CONTEXT *cert, const BYTE *blob, DWORD size)
{
    const CERT_PUBLIC_KEY_INFO *info = &cert->pCertInfo->SubjectPublicKeyInfo;
    const BLOBHEADER *header = (const BLOBHEADER *)blob;
    const RSAPUBKEY *rsa = (const RSAPUBKEY *)(header + 1);
    BYTE *pub = NULL;
    DWORD pub_size = 0;
    BOOL match = FALSE;

    if (size < sizeof(*header) + sizeof(*rsa) || strcmp(info->Algorithm.pszObjId, szOID_RSA_RSA)) return FALSE;
    if (!CryptDecodeObjectEx(X509_ASN_ENCODING, RSA_CSP_PUBLICKEYBLOB, info->PublicKey.pbData,
                             info->PublicKey.cbData, CRYPT_DECODE_ALLOC_FLAG, NULL, &pub, &pub_size))
        return FALSE;
    if (pub_size >= sizeof(*header) + sizeof(*rsa))
    {
        const RSAPUBKEY *cert_rsa = (const RSAPUBKEY *)(pub + sizeof(*header));
        DWORD bytes = rsa->bitlen / 8;

        match = cert_rsa->bitlen == rsa->bitlen && cert_rsa->pubexp == rsa->pubexp
            && pub_size >= sizeof(*header) + sizeof(*rsa) + bytes
            && size >= sizeof(*header) + sizeof(*rsa) + bytes
            && !memcmp(cert_rsa + 1, rsa + 1, bytes);
    }
    LocalFree(pub);
    return match;
}

/*
 * A key the provider refuses to export (no CRYPT_EXPORTABLE). On Windows, Schannel signs
 * with it inside LSA; our engine runs in the process and cannot call back into the
 * provider, so it needs the key itself. Wine's RSA providers keep a container's key pairs
 * in the registry (HKCU or HKLM\Software\Wine\Crypto\RSA\<container>), protected with
 * CryptProtectData for the user: read them back from there. The result must match the
 * certificate's public key, or it is not used.
 */
static BOOL read_wine_rsa_container(HCRYPTPROV prov, DWORD spec, const CERT_CONTEXT *cert, BYTE **blob, DWORD *size)
{
    static const WCHAR prefix[] = L"Software\\Wine\\Crypto\\RSA\\";
    char container[MAX_PATH];
    WCHAR path[ARRAY_SIZE(prefix) + MAX_PATH];
    DWORD len = sizeof(container), type, value_size = 0, keyset = 0, i;
    const WCHAR *values[2];
    DATA_BLOB in = { 0 }, out = { 0 };
    BOOL found = FALSE;
    HKEY key;

    if (!CryptGetProvParam(prov, PP_CONTAINER, (BYTE *)container, &len, 0)) return FALSE;
    len = sizeof(keyset);
    if (!CryptGetProvParam(prov, PP_KEYSET_TYPE, (BYTE *)&keyset, &len, 0)) keyset = 0;
    wcscpy(path, prefix);
    if (!MultiByteToWideChar(CP_ACP, 0, container, -1, path + wcslen(path), MAX_PATH)) return FALSE;
    if (RegOpenKeyExW(keyset & CRYPT_MACHINE_KEYSET ? HKEY_LOCAL_MACHINE : HKEY_CURRENT_USER, path, 0,
                      KEY_READ, &key))
        return FALSE;

    values[0] = spec == AT_SIGNATURE ? L"SignatureKeyPair" : L"KeyExchangeKeyPair";
    values[1] = spec == AT_SIGNATURE ? L"KeyExchangeKeyPair" : L"SignatureKeyPair";
    for (i = 0; i < ARRAY_SIZE(values) && !found; i++)
    {
        value_size = 0;
        if (RegQueryValueExW(key, values[i], NULL, &type, NULL, &value_size) || type != REG_BINARY || !value_size)
            continue;
        if (!(in.pbData = sg_alloc(value_size))) break;
        in.cbData = value_size;
        if (!RegQueryValueExW(key, values[i], NULL, &type, in.pbData, &in.cbData)
            && CryptUnprotectData(&in, NULL, NULL, NULL, NULL, CRYPTPROTECT_UI_FORBIDDEN, &out))
        {
            if (cert_rsa_modulus_matches(cert, out.pbData, out.cbData) && (*blob = sg_alloc(out.cbData)))
            {
                memcpy(*blob, out.pbData, out.cbData);
                *size = out.cbData;
                found = TRUE;
            }
            sg_wipe(out.pbData, out.cbData);
            LocalFree(out.pbData);
        }
        sg_free(in.pbData);
        in.pbData = NULL;
    }
    RegCloseKey(key);
    return found;
}

static SECURITY_STATUS export_capi_key(HCRYPTPROV prov, DWORD spec, const CERT_CONTEXT *cert, struct blob_writer *w)
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
    if (CryptExportKey(key, 0, PRIVATEKEYBLOB, 0, NULL, &size) && (blob = sg_alloc(size))
        && !CryptExportKey(key, 0, PRIVATEKEYBLOB, 0, blob, &size))
    {
        sg_free(blob);
        blob = NULL;
    }
    CryptDestroyKey(key);
    if (!blob)
    {
        TRACE("private key not exportable (%#lx), reading the provider's container\n", GetLastError());
        if (!read_wine_rsa_container(prov, spec, cert, &blob, &size))
        {
            WARN("private key not available to Schannel\n");
            return SEC_E_NO_CREDENTIALS;
        }
    }
    status = rsa_blob_to_components(blob, size, w);
    sg_wipe(blob, size);
    sg_free(blob);
    return status;
}

/* ---- CNG (NCrypt) keys, through ncrypt.dll loaded on demand ---- */

typedef LONG (WINAPI *ncrypt_export_fn)(ULONG_PTR, ULONG_PTR, const WCHAR *, void *, BYTE *, DWORD, DWORD *, DWORD);
typedef LONG (WINAPI *ncrypt_free_fn)(ULONG_PTR);

#define SG_BCRYPT_RSAFULLPRIVATE_MAGIC 0x33415352  /* "RSA3" */
#define SG_ECDSA_PRIVATE_P256_MAGIC    0x32534345  /* "ECS2" */
#define SG_ECDSA_PRIVATE_P384_MAGIC    0x34534345  /* "ECS4" */
#define SG_ECDSA_PRIVATE_P521_MAGIC    0x36534345  /* "ECS6" */
#define SG_ECDH_PRIVATE_P256_MAGIC     0x324b4345  /* "ECK2" */
#define SG_ECDH_PRIVATE_P384_MAGIC     0x344b4345  /* "ECK4" */
#define SG_ECDH_PRIVATE_P521_MAGIC     0x364b4345  /* "ECK6" */

static ncrypt_free_fn ncrypt_free;

static ncrypt_export_fn load_ncrypt(void)
{
    static ncrypt_export_fn export_fn;
    HMODULE module;

    if (export_fn) return export_fn;
    if (!(module = LoadLibraryW(L"ncrypt.dll"))) return NULL;
    ncrypt_free = (ncrypt_free_fn)(void *)GetProcAddress(module, "NCryptFreeObject");
    export_fn = (ncrypt_export_fn)(void *)GetProcAddress(module, "NCryptExportKey");
    return export_fn;
}

static DWORD read_le32(const BYTE *p)
{
    return p[0] | (p[1] << 8) | (p[2] << 16) | ((DWORD)p[3] << 24);
}

/* BCRYPT_RSAFULLPRIVATE_BLOB: header (magic, bits, cbPublicExp, cbModulus, cbPrime1,
 * cbPrime2), then e, n, p, q, dp, dq, qinv, d, all big-endian. */
static SECURITY_STATUS rsa_full_blob_to_components(const BYTE *blob, DWORD size, struct blob_writer *w)
{
    DWORD e_len, n_len, p_len, q_len;
    const BYTE *e, *n, *p, *q, *dp, *dq, *qinv, *d;

    if (size < 24 || read_le32(blob) != SG_BCRYPT_RSAFULLPRIVATE_MAGIC) return SEC_E_NO_CREDENTIALS;
    e_len = read_le32(blob + 8);
    n_len = read_le32(blob + 12);
    p_len = read_le32(blob + 16);
    q_len = read_le32(blob + 20);
    if (!e_len || !n_len || !p_len || !q_len || e_len > 8 || n_len > 2048 || p_len > 1024 || q_len > 1024
        || size - 24 < (ULONGLONG)e_len + 2 * n_len + 3 * p_len + 2 * q_len)
        return SEC_E_NO_CREDENTIALS;
    e = blob + 24;
    n = e + e_len;
    p = n + n_len;
    q = p + p_len;
    dp = q + q_len;
    dq = dp + p_len;
    qinv = dq + q_len;
    d = qinv + p_len;
    writer_put(w, n, n_len);
    writer_put(w, e, e_len);
    writer_put(w, d, n_len);
    writer_put(w, p, p_len);
    writer_put(w, q, q_len);
    writer_put(w, dp, p_len);
    writer_put(w, dq, q_len);
    writer_put(w, qinv, p_len);
    return w->failed ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
}

/* BCRYPT_ECCPRIVATE_BLOB: magic, cbKey, then X, Y, d (cbKey bytes each, big-endian). */
static SECURITY_STATUS ecc_blob_to_components(const BYTE *blob, DWORD size, struct blob_writer *w)
{
    DWORD magic, len, group;

    if (size < 8) return SEC_E_NO_CREDENTIALS;
    magic = read_le32(blob);
    len = read_le32(blob + 4);
    switch (magic)
    {
    case SG_ECDSA_PRIVATE_P256_MAGIC: case SG_ECDH_PRIVATE_P256_MAGIC: group = 23; break;
    case SG_ECDSA_PRIVATE_P384_MAGIC: case SG_ECDH_PRIVATE_P384_MAGIC: group = 24; break;
    case SG_ECDSA_PRIVATE_P521_MAGIC: case SG_ECDH_PRIVATE_P521_MAGIC: group = 25; break;
    default:
        WARN("unsupported curve (blob magic %#lx)\n", magic);
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
    if (!len || len > 66 || size - 8 < 3 * len) return SEC_E_NO_CREDENTIALS;
    writer_put_u32le(w, group);
    writer_put(w, blob + 8, len);
    writer_put(w, blob + 8 + len, len);
    writer_put(w, blob + 8 + 2 * len, len);
    return w->failed ? SEC_E_INSUFFICIENT_MEMORY : SEC_E_OK;
}

static SECURITY_STATUS export_ncrypt_key(ULONG_PTR key, struct blob_writer *w, DWORD *format)
{
    static const struct { const WCHAR *type; DWORD format; } kinds[] =
    {
        { L"RSAFULLPRIVATEBLOB", SG_KEY_RSA_COMPONENTS },
        { L"ECCPRIVATEBLOB", SG_KEY_EC_COMPONENTS },
    };
    ncrypt_export_fn export_fn = load_ncrypt();
    SECURITY_STATUS status = SEC_E_NO_CREDENTIALS;
    DWORD i, size;
    BYTE *blob;

    if (!export_fn)
    {
        WARN("ncrypt.dll unavailable\n");
        return SEC_E_NO_CREDENTIALS;
    }
    for (i = 0; i < ARRAY_SIZE(kinds); i++)
    {
        size = 0;
        if (export_fn(key, 0, kinds[i].type, NULL, NULL, 0, &size, 0) || !size) continue;
        if (!(blob = sg_alloc(size))) return SEC_E_INSUFFICIENT_MEMORY;
        if (!export_fn(key, 0, kinds[i].type, NULL, blob, size, &size, 0))
        {
            status = kinds[i].format == SG_KEY_RSA_COMPONENTS ? rsa_full_blob_to_components(blob, size, w)
                                                               : ecc_blob_to_components(blob, size, w);
            if (!status) *format = kinds[i].format;
        }
        sg_wipe(blob, size);
        sg_free(blob);
        if (status != SEC_E_NO_CREDENTIALS) return status;
    }
    /* Wine 8's ncrypt has no ECC keys and no persisted keys; a non-exportable key cannot
     * leave its provider, and the engine cannot call back into it to sign. */
    WARN("CNG private key not exportable\n");
    return status;
}

/* PFXImportCertStore(PKCS12_NO_PERSIST_KEY) attaches the key as CERT_KEY_CONTEXT_PROP_ID
 * rather than a container name. */
static SECURITY_STATUS export_key_context(const CERT_CONTEXT *cert, struct blob_writer *w, DWORD *format,
                                          BOOL *found)
{
    CERT_KEY_CONTEXT context;
    DWORD size = sizeof(context);

    *found = FALSE;
    if (!CertGetCertificateContextProperty(cert, CERT_KEY_CONTEXT_PROP_ID, &context, &size)
        || size < sizeof(context) || !context.hCryptProv)
        return SEC_E_NO_CREDENTIALS;
    *found = TRUE;
    TRACE("key from CERT_KEY_CONTEXT_PROP_ID, spec %#lx\n", context.dwKeySpec);
    if (context.dwKeySpec == CERT_NCRYPT_KEY_SPEC) return export_ncrypt_key(context.hCryptProv, w, format);  /* hNCryptKey in the union */
    *format = SG_KEY_RSA_COMPONENTS;
    return export_capi_key(context.hCryptProv, context.dwKeySpec, cert, w);
}

/* The CAPI container CERT_KEY_PROV_INFO_PROP_ID names, in the key set its dwFlags say (a
 * machine key set for certificates of the LocalMachine store; Wine 8's
 * CryptAcquireCertificatePrivateKey looks in the user's key set only). */
static BOOL acquire_prov_info_container(const CERT_CONTEXT *cert, HCRYPTPROV *prov, DWORD *spec)
{
    CRYPT_KEY_PROV_INFO *info;
    DWORD size = 0;
    BOOL ret = FALSE;

    if (!CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)) return FALSE;
    if (!(info = sg_alloc(size))) return FALSE;
    if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, info, &size) && info->dwProvType)
    {
        ret = CryptAcquireContextW(prov, info->pwszContainerName, info->pwszProvName, info->dwProvType,
                                   CRYPT_SILENT | (info->dwFlags & CRYPT_MACHINE_KEYSET));
        *spec = info->dwKeySpec;
        TRACE("container %s, %s key set: %d\n", debugstr_w(info->pwszContainerName),
              info->dwFlags & CRYPT_MACHINE_KEYSET ? "machine" : "user", ret);
    }
    sg_free(info);
    return ret;
}

static SECURITY_STATUS export_key(const CERT_CONTEXT *cert, struct blob_writer *w, DWORD *format)
{
    HCRYPTPROV_OR_NCRYPT_KEY_HANDLE prov;
    DWORD spec = 0;
    BOOL free_prov = FALSE, found;
    SECURITY_STATUS status;

    status = export_key_context(cert, w, format, &found);
    if (found) return status;
    if (!CryptAcquireCertificatePrivateKey(cert, CRYPT_ACQUIRE_SILENT_FLAG | CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG,
                                           NULL, &prov, &spec, &free_prov))
    {
        HCRYPTPROV capi;

        if (!acquire_prov_info_container(cert, &capi, &spec))
        {
            WARN("certificate has no usable private key: %#lx\n", GetLastError());
            return SEC_E_NO_CREDENTIALS;
        }
        prov = capi;
        free_prov = TRUE;
    }
    if (spec == CERT_NCRYPT_KEY_SPEC)
    {
        status = export_ncrypt_key(prov, w, format);
        if (free_prov && load_ncrypt() && ncrypt_free) ncrypt_free(prov);
    }
    else
    {
        status = export_capi_key(prov, spec, cert, w);
        if (!status) *format = SG_KEY_RSA_COMPONENTS;
        if (free_prov) CryptReleaseContext(prov, 0);
    }
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
