/*
 * An in-memory Schannel client and server for the record and attribute tests: see tlspair.h.
 * This file describes no Windows behaviour of its own; its ok() calls only guard the setup.
 */

#include <stdlib.h>
#include <string.h>

#include "tlspair.h"
#include "wine/test.h"
#include "testcert.h"

#define CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | \
                    ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM)
#define SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | \
                    ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM)

static PCCERT_CONTEXT import_cert(HCERTSTORE *store)
{
    static const DWORD flag_sets[] =
    {
        CRYPT_EXPORTABLE | CRYPT_USER_KEYSET | PKCS12_PREFER_CNG_KSP,
        CRYPT_EXPORTABLE | CRYPT_USER_KEYSET,
    };
    CRYPT_DATA_BLOB blob = { sizeof(server_rsa_pfx), (BYTE *)server_rsa_pfx };
    PCCERT_CONTEXT cert = NULL, found = NULL;
    unsigned int i;
    DWORD size;

    *store = NULL;
    for (i = 0; i < ARRAY_SIZE(flag_sets) && !*store; i++)
        *store = PFXImportCertStore(&blob, server_rsa_pfx_password, flag_sets[i]);
    ok(*store != NULL, "PFXImportCertStore failed: %lu\n", GetLastError());
    if (!*store) return NULL;
    while ((cert = CertEnumCertificatesInStore(*store, cert)))
    {
        size = 0;
        if (!found && CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size))
            found = CertDuplicateCertificateContext(cert);
    }
    ok(found != NULL, "no certificate with a private key in the bundle\n");
    return found;
}

PCCERT_CONTEXT pair_import_server_cert(HCERTSTORE *store)
{
    CRYPT_DATA_BLOB blob = { sizeof(server_rsa_pfx), (BYTE *)server_rsa_pfx };
    PCCERT_CONTEXT cert = NULL;
    DWORD size;

    *store = PFXImportCertStore(&blob, server_rsa_pfx_password, CRYPT_EXPORTABLE | CRYPT_USER_KEYSET);
    if (!*store) return NULL;
    while ((cert = CertEnumCertificatesInStore(*store, cert)))
    {
        size = 0;
        if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size))
            return CertDuplicateCertificateContext(cert);
    }
    return NULL;
}

void pair_free_server_cert(PCCERT_CONTEXT cert, HCERTSTORE store)
{
    if (cert)
    {
        CRYPT_KEY_PROV_INFO *info;
        DWORD size = 0;

        /* Remove the key container PFXImportCertStore made. */
        if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)
            && (info = malloc(size)))
        {
            HCRYPTPROV prov;
            if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, info, &size) && info->dwProvType)
                CryptAcquireContextW(&prov, info->pwszContainerName, info->pwszProvName, info->dwProvType,
                                     CRYPT_DELETEKEYSET);
            free(info);
        }
        CertFreeCertificateContext(cert);
    }
    if (store) CertCloseStore(store, 0);
}

SECURITY_STATUS pair_acquire(enum pair_mode mode, BOOL server, DWORD flags, PCCERT_CONTEXT cert, CredHandle *handle)
{
    SCHANNEL_CRED cred4;
    SCH_CREDENTIALS cred5;
    TLS_PARAMETERS params;
    void *auth;

    memset(&cred4, 0, sizeof(cred4));
    memset(&cred5, 0, sizeof(cred5));
    memset(&params, 0, sizeof(params));
    if (mode == PAIR_TLS12)
    {
        cred4.dwVersion = SCHANNEL_CRED_VERSION;
        cred4.grbitEnabledProtocols = server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT;
        cred4.dwFlags = flags;
        if (cert)
        {
            cred4.cCreds = 1;
            cred4.paCred = &cert;
        }
        auth = &cred4;
    }
    else
    {
        cred5.dwVersion = SCH_CREDENTIALS_VERSION;
        cred5.dwFlags = flags;
        if (cert)
        {
            cred5.cCreds = 1;
            cred5.paCred = &cert;
        }
        params.grbitDisabledProtocols = ~(server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT);
        cred5.cTlsParameters = 1;
        cred5.pTlsParameters = &params;
        auth = &cred5;
    }
    return AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W, server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND,
                                     NULL, auth, NULL, NULL, handle, NULL);
}

static SECURITY_STATUS acquire(struct pair *pair, struct pair_side *side)
{
    SECURITY_STATUS status;

    if (side->server) status = pair_acquire(pair->mode, TRUE, 0, pair->cert, &side->cred);
    else status = pair_acquire(pair->mode, FALSE, SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS, NULL,
                               &side->cred);
    side->have_cred = status == SEC_E_OK;
    return status;
}

void pair_init_token(SecBufferDesc *in_desc, SecBuffer in_bufs[2], BYTE *in, ULONG len, SecBufferDesc *out_desc,
                     SecBuffer *out_buf)
{
    in_bufs[0].BufferType = SECBUFFER_TOKEN;
    in_bufs[0].cbBuffer = len;
    in_bufs[0].pvBuffer = in;
    in_bufs[1].BufferType = SECBUFFER_EMPTY;
    in_bufs[1].cbBuffer = 0;
    in_bufs[1].pvBuffer = NULL;
    in_desc->ulVersion = SECBUFFER_VERSION;
    in_desc->cBuffers = 2;
    in_desc->pBuffers = in_bufs;
    out_buf->BufferType = SECBUFFER_TOKEN;
    out_buf->cbBuffer = 0;
    out_buf->pvBuffer = NULL;
    out_desc->ulVersion = SECBUFFER_VERSION;
    out_desc->cBuffers = 1;
    out_desc->pBuffers = out_buf;
}

SECURITY_STATUS pair_step(struct pair_side *side, struct pair_side *peer, ULONG *extra)
{
    SecBuffer in_bufs[2], out_buf;
    SecBufferDesc in_desc, out_desc;
    BOOL first = !side->have_ctx;
    SECURITY_STATUS status;
    ULONG attrs;

    pair_init_token(&in_desc, in_bufs, side->in, side->in_len, &out_desc, &out_buf);
    if (side->server)
        status = AcceptSecurityContext(&side->cred, first ? NULL : &side->ctx, &in_desc, SERVER_REQ, 0, &side->ctx,
                                       &out_desc, &attrs, NULL);
    else
        status = InitializeSecurityContextW(&side->cred, first ? NULL : &side->ctx, (WCHAR *)L"localhost",
                                            CLIENT_REQ, 0, 0, first ? NULL : &in_desc, 0, &side->ctx, &out_desc,
                                            &attrs, NULL);
    *extra = in_bufs[1].BufferType == SECBUFFER_EXTRA ? in_bufs[1].cbBuffer : 0;
    if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED) side->have_ctx = TRUE;
    if (out_buf.pvBuffer)
    {
        if (out_buf.cbBuffer && peer->in_len + out_buf.cbBuffer <= sizeof(peer->in))
        {
            memcpy(peer->in + peer->in_len, out_buf.pvBuffer, out_buf.cbBuffer);
            peer->in_len += out_buf.cbBuffer;
        }
        FreeContextBuffer(out_buf.pvBuffer);
    }
    if ((status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED) && (!first || side->server))
    {
        ULONG keep = min(*extra, side->in_len);
        memmove(side->in, side->in + side->in_len - keep, keep);
        side->in_len = keep;
    }
    return status;
}

BOOL pair_open(struct pair *pair, enum pair_mode mode)
{
    SECURITY_STATUS status;
    ULONG extra;
    unsigned int i;

    memset(pair, 0, sizeof(*pair));
    pair->mode = mode;
    pair->client.name = "client";
    pair->server.name = "server";
    pair->server.server = TRUE;
    if (!(pair->cert = import_cert(&pair->store))) return FALSE;
    status = acquire(pair, &pair->server);
    if (status == SEC_E_OK) status = acquire(pair, &pair->client);
    if (status != SEC_E_OK)
    {
        if (mode == PAIR_TLS13) win_skip("TLS 1.3 credentials: %08lx\n", status);
        else ok(0, "AcquireCredentialsHandle failed: %08lx\n", status);
        return FALSE;
    }
    status = pair_step(&pair->client, &pair->server, &extra);
    ok(status == SEC_I_CONTINUE_NEEDED, "first ISC returned %08lx\n", status);
    for (i = 0; i < 16 && !(pair->client.done && pair->server.done); i++)
    {
        if (!pair->server.done && pair->server.in_len)
        {
            status = pair_step(&pair->server, &pair->client, &extra);
            if (status == SEC_E_OK) pair->server.done = TRUE;
            else if (status != SEC_I_CONTINUE_NEEDED) break;
        }
        if (!pair->client.done && pair->client.in_len)
        {
            status = pair_step(&pair->client, &pair->server, &extra);
            if (status == SEC_E_OK) pair->client.done = TRUE;
            else if (status != SEC_I_CONTINUE_NEEDED) break;
        }
    }
    if (!pair->client.done || !pair->server.done)
    {
        if (mode == PAIR_TLS13 && status == SEC_E_ALGORITHM_MISMATCH) win_skip("no TLS 1.3\n");
        else ok(0, "handshake failed: %08lx\n", status);
        return FALSE;
    }
    status = QueryContextAttributesW(&pair->client.ctx, SECPKG_ATTR_STREAM_SIZES, &pair->client_sizes);
    ok(status == SEC_E_OK, "client STREAM_SIZES: %08lx\n", status);
    status = QueryContextAttributesW(&pair->server.ctx, SECPKG_ATTR_STREAM_SIZES, &pair->server_sizes);
    ok(status == SEC_E_OK, "server STREAM_SIZES: %08lx\n", status);
    return TRUE;
}

void pair_close(struct pair *pair)
{
    struct pair_side *sides[2] = { &pair->client, &pair->server };
    PCCERT_CONTEXT iter = NULL;
    unsigned int i;

    for (i = 0; i < 2; i++)
    {
        if (sides[i]->have_ctx) DeleteSecurityContext(&sides[i]->ctx);
        if (sides[i]->have_cred) FreeCredentialsHandle(&sides[i]->cred);
        sides[i]->have_ctx = sides[i]->have_cred = FALSE;
    }
    if (pair->store)
    {
        while ((iter = CertEnumCertificatesInStore(pair->store, iter)))
        {
            CRYPT_KEY_PROV_INFO *info;
            DWORD size = 0;
            HCRYPTPROV prov;

            if (!CertGetCertificateContextProperty(iter, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)) continue;
            if (!(info = HeapAlloc(GetProcessHeap(), 0, size))) continue;
            if (CertGetCertificateContextProperty(iter, CERT_KEY_PROV_INFO_PROP_ID, info, &size) && info->dwProvType)
                CryptAcquireContextW(&prov, info->pwszContainerName, info->pwszProvName, info->dwProvType,
                                     CRYPT_DELETEKEYSET);
            HeapFree(GetProcessHeap(), 0, info);
        }
    }
    if (pair->cert) CertFreeCertificateContext(pair->cert);
    if (pair->store) CertCloseStore(pair->store, 0);
    pair->cert = NULL;
    pair->store = NULL;
}

void pair_init_decrypt(SecBufferDesc *desc, SecBuffer bufs[4], BYTE *data, ULONG len)
{
    unsigned int i;

    bufs[0].BufferType = SECBUFFER_DATA;
    bufs[0].cbBuffer = len;
    bufs[0].pvBuffer = data;
    for (i = 1; i < 4; i++)
    {
        bufs[i].BufferType = SECBUFFER_EMPTY;
        bufs[i].cbBuffer = 0;
        bufs[i].pvBuffer = NULL;
    }
    desc->ulVersion = SECBUFFER_VERSION;
    desc->cBuffers = 4;
    desc->pBuffers = bufs;
}

void pair_init_encrypt(SecBufferDesc *desc, SecBuffer bufs[4], BYTE *rec, ULONG len,
                       const SecPkgContext_StreamSizes *sizes)
{
    bufs[0].BufferType = SECBUFFER_STREAM_HEADER;
    bufs[0].cbBuffer = sizes->cbHeader;
    bufs[0].pvBuffer = rec;
    bufs[1].BufferType = SECBUFFER_DATA;
    bufs[1].cbBuffer = len;
    bufs[1].pvBuffer = rec + sizes->cbHeader;
    bufs[2].BufferType = SECBUFFER_STREAM_TRAILER;
    bufs[2].cbBuffer = sizes->cbTrailer;
    bufs[2].pvBuffer = rec + sizes->cbHeader + len;
    bufs[3].BufferType = SECBUFFER_EMPTY;
    bufs[3].cbBuffer = 0;
    bufs[3].pvBuffer = NULL;
    desc->ulVersion = SECBUFFER_VERSION;
    desc->cBuffers = 4;
    desc->pBuffers = bufs;
}

SECURITY_STATUS pair_encrypt(struct pair_side *side, struct pair_side *peer, const SecPkgContext_StreamSizes *sizes,
                             const void *data, ULONG size, ULONG *record_len)
{
    BYTE *rec = peer->in + peer->in_len;
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;

    *record_len = 0;
    if (peer->in_len + sizes->cbHeader + size + sizes->cbTrailer > sizeof(peer->in)) return SEC_E_BUFFER_TOO_SMALL;
    pair_init_encrypt(&desc, bufs, rec, size, sizes);
    memcpy(rec + sizes->cbHeader, data, size);
    status = EncryptMessage(&side->ctx, 0, &desc, 0);
    if (status != SEC_E_OK) return status;
    /* The record is contiguous when the header was used in full. */
    ok(bufs[0].cbBuffer == sizes->cbHeader, "%s: header of %lu bytes, cbHeader %lu\n", side->name,
       bufs[0].cbBuffer, sizes->cbHeader);
    *record_len = bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer;
    peer->in_len += *record_len;
    return status;
}

unsigned int pair_drain_client(struct pair *pair)
{
    struct pair_side *client = &pair->client;
    unsigned int renegotiations = 0, i;
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;
    ULONG left, extra;

    for (i = 0; i < 16 && client->in_len; i++)
    {
        pair_init_decrypt(&desc, bufs, client->in, client->in_len);
        status = DecryptMessage(&client->ctx, &desc, 0, NULL);
        ok(status == SEC_E_OK || status == SEC_I_RENEGOTIATE, "post-handshake DecryptMessage: %08lx\n", status);
        if (status != SEC_E_OK && status != SEC_I_RENEGOTIATE) break;
        ok(bufs[1].BufferType == SECBUFFER_DATA && !bufs[1].cbBuffer, "post-handshake record with data\n");
        left = bufs[3].BufferType == SECBUFFER_EXTRA ? bufs[3].cbBuffer : 0;
        memmove(client->in, client->in + client->in_len - left, left);
        client->in_len = left;
        if (status == SEC_I_RENEGOTIATE)
        {
            renegotiations++;
            status = pair_step(client, &pair->server, &extra);
            ok(status == SEC_E_OK, "ISC after SEC_I_RENEGOTIATE: %08lx\n", status);
        }
    }
    ok(!client->in_len, "%lu post-handshake bytes left\n", client->in_len);
    return renegotiations;
}
