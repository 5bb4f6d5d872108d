/*
 * Conformance tests: QueryContextAttributes / SetContextAttributes on Schannel contexts,
 * both ends of an in-memory connection (tlspair.c), with the ownership rules Windows
 * documents (CertFreeCertificateContext for certificate contexts, FreeContextBuffer for
 * everything else that is allocated).
 */

#include <string.h>

#include "tlspair.h"
#include "wine/test.h"

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

/* Windows SDK layouts missing from Wine 8's headers. */
struct connection_info_ex
{
    DWORD dwVersion;
    DWORD dwProtocol;
    WCHAR szCipher[64];
    DWORD dwCipherStrength;
    WCHAR szHash[64];
    DWORD dwHashStrength;
    WCHAR szExchange[64];
    DWORD dwExchStrength;
};

struct session_info
{
    DWORD dwFlags;
    DWORD cbSessionId;
    BYTE rgbSessionId[32];
};

struct keying_material_info
{
    WORD cbLabel;
    char *pszLabel;
    WORD cbContextValue;
    BYTE *pbContextValue;
    DWORD cbKeyingMaterial;
};

struct keying_material
{
    DWORD cbKeyingMaterial;
    BYTE *pbKeyingMaterial;
};

static void test_sizes(struct pair *pair)
{
    SecPkgContext_Sizes sizes;
    SECURITY_STATUS status;

    memset(&sizes, 0xcc, sizeof(sizes));
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_SIZES, &sizes);
    ok(status == SEC_E_OK, "SIZES: %08lx\n", status);
    ok(sizes.cbMaxToken >= 0x4000, "cbMaxToken %lu\n", sizes.cbMaxToken);
    ok(sizes.cbMaxSignature == 0, "cbMaxSignature %lu\n", sizes.cbMaxSignature);
    ok(sizes.cbBlockSize == pair->client_sizes.cbBlockSize, "cbBlockSize %lu, stream %lu\n", sizes.cbBlockSize,
       pair->client_sizes.cbBlockSize);
    ok(sizes.cbSecurityTrailer == pair->client_sizes.cbTrailer, "cbSecurityTrailer %lu, stream trailer %lu\n",
       sizes.cbSecurityTrailer, pair->client_sizes.cbTrailer);
}

static void test_cipher_info(struct pair *pair)
{
    SecPkgContext_CipherInfo info;
    SecPkgContext_ConnectionInfo conn;
    struct connection_info_ex ex;
    SECURITY_STATUS status;
    DWORD expect_protocol = pair->mode == PAIR_TLS12 ? SP_PROT_TLS1_2_CLIENT : SP_PROT_TLS1_3_CLIENT;

    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_CONNECTION_INFO, &conn);
    ok(status == SEC_E_OK, "CONNECTION_INFO: %08lx\n", status);

    memset(&info, 0xcc, sizeof(info));
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_CIPHER_INFO, &info);
    ok(status == SEC_E_OK, "CIPHER_INFO: %08lx\n", status);
    ok(info.dwVersion == SECPKGCONTEXT_CIPHERINFO_V1, "dwVersion %lu\n", info.dwVersion);
    ok(info.dwProtocol == expect_protocol, "dwProtocol %#lx\n", info.dwProtocol);
    if (pair->mode == PAIR_TLS13)
        ok(info.dwCipherSuite >= 0x1301 && info.dwCipherSuite <= 0x1305, "TLS 1.3 suite %#lx\n", info.dwCipherSuite);
    else
        ok((info.dwCipherSuite > 0 && info.dwCipherSuite < 0x1300) || info.dwCipherSuite >= 0xc000,
           "TLS 1.2 suite %#lx\n", info.dwCipherSuite);
    ok(info.dwBaseCipherSuite == info.dwCipherSuite, "dwBaseCipherSuite %#lx\n", info.dwBaseCipherSuite);
    ok(!wcsncmp(info.szCipherSuite, L"TLS_", 4), "szCipherSuite %s\n", wine_dbgstr_w(info.szCipherSuite));
    ok(info.dwCipherLen == conn.dwCipherStrength, "dwCipherLen %lu, CONNECTION_INFO %lu\n", info.dwCipherLen,
       conn.dwCipherStrength);
    if (conn.aiCipher == CALG_AES_128 || conn.aiCipher == CALG_AES_256)
    {
        ok(!wcscmp(info.szCipher, L"AES"), "szCipher %s\n", wine_dbgstr_w(info.szCipher));
        ok(info.dwCipherBlockLen == 16, "dwCipherBlockLen %lu\n", info.dwCipherBlockLen);
    }
    if (!conn.aiHash)  /* AEAD */
    {
        ok(!info.szHash[0], "AEAD suite with hash name %s\n", wine_dbgstr_w(info.szHash));
        ok(!info.dwHashLen, "AEAD suite with dwHashLen %lu\n", info.dwHashLen);
    }
    ok(!wcscmp(info.szExchange, L"ECDH") || !wcscmp(info.szExchange, L"DH") || !wcscmp(info.szExchange, L"RSA"),
       "szExchange %s\n", wine_dbgstr_w(info.szExchange));
    ok(info.dwMinExchangeLen == conn.dwExchStrength && info.dwMaxExchangeLen == conn.dwExchStrength,
       "exchange lengths %lu %lu, CONNECTION_INFO %lu\n", info.dwMinExchangeLen, info.dwMaxExchangeLen,
       conn.dwExchStrength);
    ok(!wcscmp(info.szCertificate, L"RSA"), "szCertificate %s\n", wine_dbgstr_w(info.szCertificate));

    memset(&ex, 0xcc, sizeof(ex));
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_CONNECTION_INFO_EX, &ex);
    ok(status == SEC_E_OK, "CONNECTION_INFO_EX: %08lx\n", status);
    ok(ex.dwVersion == 1, "dwVersion %lu\n", ex.dwVersion);
    ok(ex.dwProtocol == expect_protocol, "dwProtocol %#lx\n", ex.dwProtocol);
    ok(!wcscmp(ex.szCipher, info.szCipher), "szCipher %s\n", wine_dbgstr_w(ex.szCipher));
    ok(ex.dwCipherStrength == conn.dwCipherStrength, "dwCipherStrength %lu\n", ex.dwCipherStrength);
    ok(ex.dwHashStrength == conn.dwHashStrength, "dwHashStrength %lu\n", ex.dwHashStrength);
    ok(!wcscmp(ex.szExchange, info.szExchange), "szExchange %s\n", wine_dbgstr_w(ex.szExchange));
    ok(ex.dwExchStrength == conn.dwExchStrength, "dwExchStrength %lu\n", ex.dwExchStrength);
}

static void test_key_info(struct pair *pair)
{
    SecPkgContext_KeyInfoW infoW;
    SecPkgContext_KeyInfoA infoA;
    SecPkgContext_ConnectionInfo conn;
    SECURITY_STATUS status;

    QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_CONNECTION_INFO, &conn);
    memset(&infoW, 0, sizeof(infoW));
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_KEY_INFO, &infoW);
    ok(status == SEC_E_OK, "KEY_INFO W: %08lx\n", status);
    if (status) return;
    ok(infoW.KeySize == conn.dwCipherStrength, "KeySize %lu\n", infoW.KeySize);
    ok(infoW.EncryptAlgorithm == conn.aiCipher, "EncryptAlgorithm %#lx, aiCipher %#x\n", infoW.EncryptAlgorithm,
       conn.aiCipher);
    ok(infoW.sSignatureAlgorithmName != NULL && infoW.sEncryptAlgorithmName != NULL, "names missing\n");
    ok(FreeContextBuffer(infoW.sSignatureAlgorithmName) == SEC_E_OK, "FreeContextBuffer failed\n");
    ok(FreeContextBuffer(infoW.sEncryptAlgorithmName) == SEC_E_OK, "FreeContextBuffer failed\n");

    memset(&infoA, 0, sizeof(infoA));
    status = QueryContextAttributesA(&pair->client.ctx, SECPKG_ATTR_KEY_INFO, &infoA);
    ok(status == SEC_E_OK, "KEY_INFO A: %08lx\n", status);
    if (status) return;
    if (conn.aiCipher == CALG_AES_128 || conn.aiCipher == CALG_AES_256)
        ok(infoA.sEncryptAlgorithmName && !strcmp(infoA.sEncryptAlgorithmName, "AES"), "A name %s\n",
           infoA.sEncryptAlgorithmName);
    FreeContextBuffer(infoA.sSignatureAlgorithmName);
    FreeContextBuffer(infoA.sEncryptAlgorithmName);
}

static void test_certificates(struct pair *pair)
{
    PCCERT_CONTEXT remote = NULL, chain = NULL, local = NULL;
    SECURITY_STATUS status;

    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &remote);
    ok(status == SEC_E_OK && remote, "client REMOTE_CERT_CONTEXT: %08lx\n", status);
    if (remote)
    {
        ok(CertCompareCertificate(X509_ASN_ENCODING, remote->pCertInfo, pair->cert->pCertInfo),
           "REMOTE_CERT_CONTEXT is not the server's certificate\n");
        ok(remote->hCertStore != NULL, "no store with the peer's chain\n");
        CertFreeCertificateContext(remote);
    }
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_REMOTE_CERT_CHAIN, &chain);
    ok(status == SEC_E_OK && chain, "client REMOTE_CERT_CHAIN: %08lx\n", status);
    if (chain)
    {
        ok(CertCompareCertificate(X509_ASN_ENCODING, chain->pCertInfo, pair->cert->pCertInfo),
           "REMOTE_CERT_CHAIN is not the server's certificate\n");
        CertFreeCertificateContext(chain);
    }
    status = QueryContextAttributesW(&pair->server.ctx, SECPKG_ATTR_LOCAL_CERT_CONTEXT, &local);
    ok(status == SEC_E_OK && local, "server LOCAL_CERT_CONTEXT: %08lx\n", status);
    if (local)
    {
        ok(CertCompareCertificate(X509_ASN_ENCODING, local->pCertInfo, pair->cert->pCertInfo),
           "LOCAL_CERT_CONTEXT is not the server's certificate\n");
        CertFreeCertificateContext(local);
    }
    /* The client had no certificate. */
    remote = NULL;
    status = QueryContextAttributesW(&pair->server.ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &remote);
    ok(status == SEC_E_NO_CREDENTIALS, "server REMOTE_CERT_CONTEXT without a client certificate: %08lx\n", status);
    if (remote) CertFreeCertificateContext(remote);
}

static void test_session_info(struct pair *pair)
{
    struct session_info ci, si;
    SECURITY_STATUS status;

    memset(&ci, 0xcc, sizeof(ci));
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_SESSION_INFO, &ci);
    ok(status == SEC_E_OK, "client SESSION_INFO: %08lx\n", status);
    ok(!(ci.dwFlags & ~1u), "dwFlags %#lx\n", ci.dwFlags);
    ok(ci.cbSessionId <= 32, "cbSessionId %lu\n", ci.cbSessionId);
    memset(&si, 0xcc, sizeof(si));
    status = QueryContextAttributesW(&pair->server.ctx, SECPKG_ATTR_SESSION_INFO, &si);
    ok(status == SEC_E_OK, "server SESSION_INFO: %08lx\n", status);
    ok(si.cbSessionId <= 32, "cbSessionId %lu\n", si.cbSessionId);
    /* Both ends of a TLS 1.2 session report the same session id. */
    if (pair->mode == PAIR_TLS12)
        ok(ci.cbSessionId == si.cbSessionId && !memcmp(ci.rgbSessionId, si.rgbSessionId, si.cbSessionId),
           "TLS 1.2 session ids differ (%lu, %lu bytes)\n", ci.cbSessionId, si.cbSessionId);
}

static BOOL bindings_equal(const SecPkgContext_Bindings *a, const SecPkgContext_Bindings *b)
{
    return a->BindingsLength == b->BindingsLength && !memcmp(a->Bindings, b->Bindings, a->BindingsLength);
}

static void test_bindings(struct pair *pair)
{
    static const char endpoint[] = "tls-server-end-point:", unique[] = "tls-unique:";
    SecPkgContext_Bindings cb, sb;
    BYTE hash[32];
    DWORD size = sizeof(hash);
    SECURITY_STATUS status;
    const BYTE *data;

    /* tls-server-end-point: SHA-256 of the server certificate (signed with SHA-256). */
    ok(CryptHashCertificate(0, CALG_SHA_256, 0, pair->cert->pbCertEncoded, pair->cert->cbCertEncoded, hash, &size),
       "CryptHashCertificate failed\n");
    memset(&cb, 0, sizeof(cb));
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_ENDPOINT_BINDINGS, &cb);
    ok(status == SEC_E_OK, "client ENDPOINT_BINDINGS: %08lx\n", status);
    memset(&sb, 0, sizeof(sb));
    status = QueryContextAttributesW(&pair->server.ctx, SECPKG_ATTR_ENDPOINT_BINDINGS, &sb);
    ok(status == SEC_E_OK, "server ENDPOINT_BINDINGS: %08lx\n", status);
    if (cb.Bindings)
    {
        ok(cb.BindingsLength == sizeof(SEC_CHANNEL_BINDINGS) + strlen(endpoint) + size, "BindingsLength %lu\n",
           cb.BindingsLength);
        ok(cb.Bindings->dwApplicationDataOffset == sizeof(SEC_CHANNEL_BINDINGS), "offset %lu\n",
           cb.Bindings->dwApplicationDataOffset);
        ok(cb.Bindings->cbApplicationDataLength == strlen(endpoint) + size, "length %lu\n",
           cb.Bindings->cbApplicationDataLength);
        ok(!cb.Bindings->cbInitiatorLength && !cb.Bindings->cbAcceptorLength, "addresses in the bindings\n");
        data = (const BYTE *)cb.Bindings + cb.Bindings->dwApplicationDataOffset;
        ok(!memcmp(data, endpoint, strlen(endpoint)) && !memcmp(data + strlen(endpoint), hash, size),
           "wrong tls-server-end-point data\n");
        if (sb.Bindings) ok(bindings_equal(&cb, &sb), "client and server endpoint bindings differ\n");
    }
    if (cb.Bindings) FreeContextBuffer(cb.Bindings);
    if (sb.Bindings) FreeContextBuffer(sb.Bindings);

    memset(&cb, 0, sizeof(cb));
    memset(&sb, 0, sizeof(sb));
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_UNIQUE_BINDINGS, &cb);
    if (pair->mode == PAIR_TLS13)
        ok(status == SEC_E_UNSUPPORTED_FUNCTION, "TLS 1.3 UNIQUE_BINDINGS: %08lx\n", status);
    else
    {
        ok(status == SEC_E_OK, "client UNIQUE_BINDINGS: %08lx\n", status);
        status = QueryContextAttributesW(&pair->server.ctx, SECPKG_ATTR_UNIQUE_BINDINGS, &sb);
        ok(status == SEC_E_OK, "server UNIQUE_BINDINGS: %08lx\n", status);
        if (cb.Bindings)
        {
            data = (const BYTE *)cb.Bindings + cb.Bindings->dwApplicationDataOffset;
            ok(cb.Bindings->cbApplicationDataLength == strlen(unique) + 12, "tls-unique length %lu\n",
               cb.Bindings->cbApplicationDataLength);
            ok(!memcmp(data, unique, strlen(unique)), "tls-unique prefix\n");
            if (sb.Bindings) ok(bindings_equal(&cb, &sb), "client and server tls-unique differ\n");
        }
    }
    if (cb.Bindings) FreeContextBuffer(cb.Bindings);
    if (sb.Bindings) FreeContextBuffer(sb.Bindings);
}

static void test_keying_material(struct pair *pair)
{
    static char label[] = "EXPERIMENTAL schannel-gnutls";
    static BYTE context[] = { 1, 2, 3, 4 };
    struct keying_material_info info = { sizeof(label), label, sizeof(context), context, 48 };
    struct keying_material ck = { 0 }, sk = { 0 }, nk = { 0 };
    SECURITY_STATUS status;

    context[0] = 1;
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_KEYING_MATERIAL, &ck);
    ok(FAILED(status), "KEYING_MATERIAL before KEYING_MATERIAL_INFO: %08lx\n", status);

    status = SetContextAttributesW(&pair->client.ctx, SECPKG_ATTR_KEYING_MATERIAL_INFO, &info, sizeof(info));
    ok(status == SEC_E_OK, "client KEYING_MATERIAL_INFO: %08lx\n", status);
    status = SetContextAttributesW(&pair->server.ctx, SECPKG_ATTR_KEYING_MATERIAL_INFO, &info, sizeof(info));
    ok(status == SEC_E_OK, "server KEYING_MATERIAL_INFO: %08lx\n", status);
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_KEYING_MATERIAL, &ck);
    ok(status == SEC_E_OK, "client KEYING_MATERIAL: %08lx\n", status);
    status = QueryContextAttributesW(&pair->server.ctx, SECPKG_ATTR_KEYING_MATERIAL, &sk);
    ok(status == SEC_E_OK, "server KEYING_MATERIAL: %08lx\n", status);
    ok(ck.cbKeyingMaterial == 48 && sk.cbKeyingMaterial == 48, "sizes %lu %lu\n", ck.cbKeyingMaterial,
       sk.cbKeyingMaterial);
    if (ck.pbKeyingMaterial && sk.pbKeyingMaterial)
        ok(!memcmp(ck.pbKeyingMaterial, sk.pbKeyingMaterial, 48), "client and server keying material differ\n");

    /* Another context value gives other material. */
    context[0] = 9;
    status = SetContextAttributesW(&pair->client.ctx, SECPKG_ATTR_KEYING_MATERIAL_INFO, &info, sizeof(info));
    ok(status == SEC_E_OK, "KEYING_MATERIAL_INFO again: %08lx\n", status);
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_KEYING_MATERIAL, &nk);
    ok(status == SEC_E_OK, "KEYING_MATERIAL again: %08lx\n", status);
    if (nk.pbKeyingMaterial && ck.pbKeyingMaterial)
        ok(memcmp(nk.pbKeyingMaterial, ck.pbKeyingMaterial, 48), "context value ignored\n");
    if (ck.pbKeyingMaterial) FreeContextBuffer(ck.pbKeyingMaterial);
    if (sk.pbKeyingMaterial) FreeContextBuffer(sk.pbKeyingMaterial);
    if (nk.pbKeyingMaterial) FreeContextBuffer(nk.pbKeyingMaterial);

    info.cbKeyingMaterial = 0;
    status = SetContextAttributesW(&pair->client.ctx, SECPKG_ATTR_KEYING_MATERIAL_INFO, &info, sizeof(info));
    ok(status == SEC_E_INVALID_PARAMETER, "zero-length keying material: %08lx\n", status);
}

static void test_unsupported(struct pair *pair)
{
    BYTE buffer[256];
    SECURITY_STATUS status;

    status = QueryContextAttributesW(&pair->client.ctx, 0x7f, buffer);
    ok(status == SEC_E_UNSUPPORTED_FUNCTION, "attribute 0x7f: %08lx\n", status);
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_STREAM_SIZES, NULL);
    ok(status == SEC_E_INVALID_PARAMETER || broken(status == SEC_E_INTERNAL_ERROR), "NULL buffer: %08lx\n", status);
}

static void run(enum pair_mode mode)
{
    struct pair pair;

    if (!pair_open(&pair, mode)) goto done;
    pair_drain_client(&pair);
    winetest_push_context(mode == PAIR_TLS12 ? "TLS 1.2" : "TLS 1.3");
    test_sizes(&pair);
    test_cipher_info(&pair);
    test_key_info(&pair);
    test_certificates(&pair);
    test_session_info(&pair);
    test_bindings(&pair);
    test_keying_material(&pair);
    test_unsupported(&pair);
    winetest_pop_context();
done:
    pair_close(&pair);
}

START_TEST(attributes)
{
    run(PAIR_TLS12);
    run(PAIR_TLS13);
}
