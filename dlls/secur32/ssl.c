/*
 * The Ssl* helpers of schannel.dll (schannel.dll forwards them here, next to the session
 * cache and crypt32): SslEmptyCacheA/W, SslGenerateRandomBits, SslCrackCertificate /
 * SslFreeCertificate, SslGetMaximumKeySize, and the performance-data entry points.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

/* From the Windows SDK's schannel.h (not in Wine's headers). */
typedef struct _PctPublicKey
{
    DWORD Type;
    DWORD cbKey;
    UCHAR pKey[1];
} PctPublicKey;

typedef struct _X509Certificate
{
    DWORD Version;
    DWORD SerialNumber[4];
    ALG_ID SignatureAlgorithm;
    FILETIME ValidFrom;
    FILETIME ValidUntil;
    PSTR pszIssuer;
    PSTR pszSubject;
    PctPublicKey *pPublicKey;
} X509Certificate, *PX509Certificate;

#define SG_CF_CERT_FROM_FILE 0x0001

/* The largest symmetric key the engine negotiates (AES-256, ChaCha20), in bits. */
#define SG_MAX_KEY_BITS 256

BOOLEAN WINAPI SystemFunction036(void *buffer, ULONG size);   /* RtlGenRandom, advapi32 */

/* ---------------------------------------------------------------------------------------
 * Exports.
 */

BOOL WINAPI SslEmptyCacheW(WCHAR *target, DWORD flags)
{
    TRACE("%s %#lx\n", debugstr_w(target), flags);
    /* The cache is emptied as a whole: entries for one target go with the rest. */
    sg_session_cache_empty();
    return TRUE;
}

BOOL WINAPI SslEmptyCacheA(char *target, DWORD flags)
{
    TRACE("%s %#lx\n", debugstr_a(target), flags);
    return SslEmptyCacheW(NULL, flags);
}

void WINAPI SslGenerateRandomBits(UCHAR *buffer, LONG size)
{
    TRACE("%p %ld\n", buffer, size);
    if (!buffer || size <= 0) return;
    if (!SystemFunction036(buffer, size)) ERR("no random bytes\n");
}

DWORD WINAPI SslGetMaximumKeySize(DWORD reserved)
{
    TRACE("%#lx\n", reserved);
    return SG_MAX_KEY_BITS;
}

static char *name_string(const CERT_NAME_BLOB *name, char **strings, char *end)
{
    char *ret = *strings;
    DWORD len = CertNameToStrA(X509_ASN_ENCODING, (CERT_NAME_BLOB *)name, CERT_X500_NAME_STR, ret, end - ret);

    *strings += len ? len : 1;
    if (!len) *ret = 0;
    return ret;
}

static DWORD name_length(const CERT_NAME_BLOB *name)
{
    DWORD len = CertNameToStrA(X509_ASN_ENCODING, (CERT_NAME_BLOB *)name, CERT_X500_NAME_STR, NULL, 0);
    return len ? len : 1;
}

static const CERT_CONTEXT *decode_certificate(const BYTE *data, DWORD size, DWORD flags)
{
    const CERT_CONTEXT *cert;
    BYTE *der = NULL;
    DWORD der_size = 0;

    if ((cert = CertCreateCertificateContext(X509_ASN_ENCODING, data, size))) return cert;
    if (!(flags & SG_CF_CERT_FROM_FILE)) return NULL;
    /* A file may hold the certificate in base64, with or without PEM armour. */
    if (!CryptStringToBinaryA((const char *)data, size, CRYPT_STRING_BASE64_ANY, NULL, &der_size, NULL, NULL))
        return NULL;
    if (!(der = sg_alloc(der_size))) return NULL;
    if (CryptStringToBinaryA((const char *)data, size, CRYPT_STRING_BASE64_ANY, der, &der_size, NULL, NULL))
        cert = CertCreateCertificateContext(X509_ASN_ENCODING, der, der_size);
    sg_free(der);
    return cert;
}

/* One block: the structure, the public key, then issuer and subject strings. */
BOOL WINAPI SslCrackCertificate(UCHAR *data, DWORD size, DWORD flags, PX509Certificate *ret)
{
    const CERT_CONTEXT *cert;
    const CERT_INFO *info;
    const CRYPT_BIT_BLOB *key;
    X509Certificate *x509;
    SIZE_T total, key_offset, strings_offset;
    char *strings, *end;
    DWORD i, serial_len;

    TRACE("%p %lu %#lx %p\n", data, size, flags, ret);
    if (!data || !size || !ret)
    {
        SetLastError(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    if (!(cert = decode_certificate(data, size, flags)))
    {
        SetLastError(CRYPT_E_ASN1_BADTAG);
        return FALSE;
    }
    info = cert->pCertInfo;
    key = &info->SubjectPublicKeyInfo.PublicKey;
    key_offset = (sizeof(*x509) + 7) & ~(SIZE_T)7;
    strings_offset = key_offset + FIELD_OFFSET(PctPublicKey, pKey[key->cbData]);
    total = strings_offset + name_length(&info->Issuer) + name_length(&info->Subject);
    if (!(x509 = sg_alloc_zero(total)))
    {
        CertFreeCertificateContext(cert);
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    x509->Version = info->dwVersion;
    /* The serial number as CryptoAPI keeps it: little-endian, first 16 bytes. */
    serial_len = min(info->SerialNumber.cbData, sizeof(x509->SerialNumber));
    for (i = 0; i < serial_len; i++) ((BYTE *)x509->SerialNumber)[i] = info->SerialNumber.pbData[i];
    x509->SignatureAlgorithm = CertOIDToAlgId(info->SignatureAlgorithm.pszObjId);
    x509->ValidFrom = info->NotBefore;
    x509->ValidUntil = info->NotAfter;
    x509->pPublicKey = (PctPublicKey *)((BYTE *)x509 + key_offset);
    x509->pPublicKey->Type = CertOIDToAlgId(info->SubjectPublicKeyInfo.Algorithm.pszObjId);
    x509->pPublicKey->cbKey = key->cbData;
    memcpy(x509->pPublicKey->pKey, key->pbData, key->cbData);
    strings = (char *)x509 + strings_offset;
    end = (char *)x509 + total;
    x509->pszIssuer = name_string(&info->Issuer, &strings, end);
    x509->pszSubject = name_string(&info->Subject, &strings, end);
    CertFreeCertificateContext(cert);
    *ret = x509;
    return TRUE;
}

void WINAPI SslFreeCertificate(PX509Certificate cert)
{
    TRACE("%p\n", cert);
    sg_free(cert);
}

/* Key pair generation into the old SSL_CREDENTIAL_CERTIFICATE format, and loading such
 * files, belong to the PCT/SSL2 era: not provided. */
BOOL WINAPI SslGenerateKeyPair(void *certs, char *dn, char *password, DWORD bits)
{
    FIXME("%p %s %p %lu: not supported\n", certs, debugstr_a(dn), password, bits);
    SetLastError(ERROR_CALL_NOT_IMPLEMENTED);
    return FALSE;
}

BOOL WINAPI SslLoadCertificate(UCHAR *data, DWORD size, BOOL add_ref)
{
    FIXME("%p %lu %d: not supported\n", data, size, add_ref);
    SetLastError(ERROR_CALL_NOT_IMPLEMENTED);
    return FALSE;
}

/* Performance counters: the perflib protocol, with no counter objects to report. */
DWORD WINAPI OpenSslPerformanceData(WCHAR *device)
{
    TRACE("%s\n", debugstr_w(device));
    return ERROR_SUCCESS;
}

DWORD WINAPI CollectSslPerformanceData(WCHAR *values, void **data, DWORD *bytes, DWORD *types)
{
    TRACE("%s %p %p %p\n", debugstr_w(values), data, bytes, types);
    if (bytes) *bytes = 0;
    if (types) *types = 0;
    return ERROR_SUCCESS;
}

DWORD WINAPI CloseSslPerformanceData(void)
{
    TRACE("\n");
    return ERROR_SUCCESS;
}
