/*
 * Schannel conformance: a client and a server context in one process.
 *
 * The two sides talk through memory: every token or record one side produces
 * is appended to the other side's input.  This checks what an application sees
 * of Schannel (status codes, buffer types and sizes, record bytes) without any
 * network, and it must pass both on Windows and under Wine with schannel-gnutls.
 *
 * Sources for the expected values (Microsoft Learn):
 *  - "InitializeSecurityContext (Schannel)", "AcceptSecurityContext (Schannel)":
 *    token exchange until SEC_E_OK, ISC_RET_ and ASC_RET_ flags.
 *  - "Extra Buffers Returned by Schannel": SEC_E_INCOMPLETE_MESSAGE when the
 *    input is short; unprocessed input reported as a SECBUFFER_EXTRA buffer whose
 *    cbBuffer is the number of unprocessed bytes at the end of the input.
 *  - "DecryptMessage (Schannel)", "EncryptMessage (Schannel)": four buffers,
 *    decryption in place, SEC_E_INCOMPLETE_MESSAGE / SECBUFFER_MISSING,
 *    data no larger than cbMaximumMessage.
 *  - "SecPkgContext_StreamSizes", "SecPkgContext_ConnectionInfo".
 *  - "Recognizing a Request to Renegotiate a Connection": SEC_I_RENEGOTIATE from
 *    DecryptMessage hands post-handshake messages (TLS 1.3 session tickets) back
 *    to InitializeSecurityContext.
 */

#include <stdarg.h>
#include <string.h>

#include <windef.h>
#include <winbase.h>
#include <winternl.h>
#include <wincrypt.h>
#define SECURITY_WIN32
#include <security.h>
#define SCHANNEL_USE_BLACKLISTS
#include <schannel.h>

#include "wine/test.h"

#include "testcert.h"
#include "tlspair.h"

/* Not in Wine 8's wincrypt.h. */
#ifndef CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG
#define CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG 0x00010000
#endif
#ifndef CERT_NCRYPT_KEY_SPEC
#define CERT_NCRYPT_KEY_SPEC 0xffffffff
#endif

#define TLS_RECORD_HEADER   5
#define TLS_MAX_PLAINTEXT   16384
#define MAX_FLIGHT          65536

#define CLIENT_REQ (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | \
                    ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM)
#define CLIENT_RET (ISC_RET_SEQUENCE_DETECT | ISC_RET_REPLAY_DETECT | ISC_RET_CONFIDENTIALITY | \
                    ISC_RET_ALLOCATED_MEMORY | ISC_RET_STREAM)
#define SERVER_REQ (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | \
                    ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM)
#define SERVER_RET (ASC_RET_SEQUENCE_DETECT | ASC_RET_REPLAY_DETECT | ASC_RET_CONFIDENTIALITY | \
                    ASC_RET_ALLOCATED_MEMORY | ASC_RET_STREAM)

enum mode
{
    MODE_TLS12,     /* SCHANNEL_CRED, grbitEnabledProtocols = TLS 1.2 */
    MODE_TLS13,     /* SCH_CREDENTIALS, everything but TLS 1.3 disabled */
    MODE_DEFAULT,   /* SCH_CREDENTIALS without protocol restriction */
};

static const char *mode_name(enum mode mode)
{
    switch (mode)
    {
    case MODE_TLS12: return "TLS 1.2";
    case MODE_TLS13: return "TLS 1.3";
    default: return "default";
    }
}

/* One end of the in-memory connection. */
struct side
{
    const char *name;
    BOOL server;
    CredHandle cred;
    CtxtHandle ctx;
    BOOL have_cred;
    BOOL have_ctx;
    BOOL done;
    ULONG attrs;
    BYTE in[MAX_FLIGHT];  /* bytes sent by the peer and not consumed yet */
    ULONG in_len;
};

static struct side client_side, server_side;

static ULONG record_length(const BYTE *rec)
{
    return TLS_RECORD_HEADER + ((rec[3] << 8) | rec[4]);
}

static SecBuffer *find_buffer(SecBufferDesc *desc, ULONG type)
{
    ULONG i;

    for (i = 0; i < desc->cBuffers; i++)
        if (desc->pBuffers[i].BufferType == type) return &desc->pBuffers[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The server's certificate and private key                                 */

typedef LONG (WINAPI *open_provider_fn)(ULONG_PTR *, const WCHAR *, DWORD);
typedef LONG (WINAPI *open_key_fn)(ULONG_PTR, ULONG_PTR *, const WCHAR *, DWORD, DWORD);
typedef LONG (WINAPI *delete_key_fn)(ULONG_PTR, DWORD);
typedef LONG (WINAPI *free_object_fn)(ULONG_PTR);

/* PFXImportCertStore persists the private key in a key container; remove it so
 * repeated runs on Windows leave nothing behind. */
static void delete_private_key(PCCERT_CONTEXT cert)
{
    CRYPT_KEY_PROV_INFO *info;
    DWORD size = 0;

    if (!CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size)) return;
    if (!(info = HeapAlloc(GetProcessHeap(), 0, size))) return;
    if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, info, &size))
    {
        if (info->dwProvType)
        {
            HCRYPTPROV prov;

            CryptAcquireContextW(&prov, info->pwszContainerName, info->pwszProvName, info->dwProvType,
                                 CRYPT_DELETEKEYSET | (info->dwFlags & CRYPT_MACHINE_KEYSET));
        }
        else
        {
            /* A CNG key (key storage provider). */
            HMODULE ncrypt = LoadLibraryA("ncrypt.dll");
            open_provider_fn open_provider = NULL;
            open_key_fn open_key = NULL;
            delete_key_fn delete_key = NULL;
            free_object_fn free_object = NULL;
            ULONG_PTR prov, key;

            if (ncrypt)
            {
                open_provider = (open_provider_fn)GetProcAddress(ncrypt, "NCryptOpenStorageProvider");
                open_key = (open_key_fn)GetProcAddress(ncrypt, "NCryptOpenKey");
                delete_key = (delete_key_fn)GetProcAddress(ncrypt, "NCryptDeleteKey");
                free_object = (free_object_fn)GetProcAddress(ncrypt, "NCryptFreeObject");
            }
            if (open_provider && open_key && delete_key && free_object
                && !open_provider(&prov, info->pwszProvName, 0))
            {
                if (!open_key(prov, &key, info->pwszContainerName, info->dwKeySpec,
                              info->dwFlags & CRYPT_MACHINE_KEYSET ? 0x20 /* NCRYPT_MACHINE_KEY_FLAG */ : 0))
                    delete_key(key, 0);
                free_object(prov);
            }
            if (ncrypt) FreeLibrary(ncrypt);
        }
    }
    HeapFree(GetProcessHeap(), 0, info);
}

/* Imports the embedded PKCS#12 bundle and returns the certificate that has a
 * private key (the bundle also holds the issuing CA). */
static PCCERT_CONTEXT import_server_cert(HCERTSTORE *store)
{
    /* Prefer a CNG key: Windows needs one to sign with RSA-PSS, which TLS 1.3
     * requires; fall back to the default provider where that flag is unknown. */
    static const DWORD flag_sets[] =
    {
        CRYPT_EXPORTABLE | CRYPT_USER_KEYSET | PKCS12_PREFER_CNG_KSP,
        CRYPT_EXPORTABLE | CRYPT_USER_KEYSET,
    };
    CRYPT_DATA_BLOB blob;
    PCCERT_CONTEXT cert = NULL, found = NULL;
    unsigned int i, count = 0;
    DWORD size;

    blob.cbData = sizeof(server_rsa_pfx);
    blob.pbData = (BYTE *)server_rsa_pfx;
    ok(PFXIsPFXBlob(&blob), "the embedded server-rsa.pfx is not recognised as PKCS#12\n");

    *store = NULL;
    for (i = 0; i < ARRAY_SIZE(flag_sets) && !*store; i++)
    {
        *store = PFXImportCertStore(&blob, server_rsa_pfx_password, flag_sets[i]);
        if (!*store) trace("PFXImportCertStore(flags %#lx) failed: %lu\n", flag_sets[i], GetLastError());
    }
    ok(*store != NULL, "PFXImportCertStore failed: %lu\n", GetLastError());
    if (!*store) return NULL;

    while ((cert = CertEnumCertificatesInStore(*store, cert)))
    {
        count++;
        size = 0;
        if (!found && CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size))
        {
            CRYPT_KEY_PROV_INFO *info = HeapAlloc(GetProcessHeap(), 0, size);

            if (info && CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, info, &size))
                trace("server key: provider %s type %lu spec %lu\n", wine_dbgstr_w(info->pwszProvName),
                      info->dwProvType, info->dwKeySpec);
            HeapFree(GetProcessHeap(), 0, info);
            found = CertDuplicateCertificateContext(cert);
        }
    }
    /* Wine's crypt32 (not part of this project) imports only the certificate
     * that goes with the key; Windows imports every certificate of the bundle. */
    todo_wine ok(count == 2, "expected 2 certificates (server and CA) in the bundle, got %u\n", count);
    ok(found != NULL, "no certificate with a private key in the bundle\n");
    if (found)
    {
        HCRYPTPROV_OR_NCRYPT_KEY_HANDLE key;
        DWORD spec = 0;
        BOOL free_key = FALSE;

        ok(CryptAcquireCertificatePrivateKey(found, CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG, NULL, &key, &spec,
                                             &free_key),
           "CryptAcquireCertificatePrivateKey failed: %lu\n", GetLastError());
        trace("server key: CryptAcquireCertificatePrivateKey key spec %#lx\n", spec);
        if (free_key)
        {
            if (spec == CERT_NCRYPT_KEY_SPEC)
            {
                HMODULE ncrypt = GetModuleHandleA("ncrypt.dll");
                free_object_fn free_object;

                free_object = ncrypt ? (free_object_fn)GetProcAddress(ncrypt, "NCryptFreeObject") : NULL;
                if (free_object) free_object(key);
            }
            else CryptReleaseContext(key, 0);
        }
    }
    return found;
}

static void free_server_cert(PCCERT_CONTEXT cert, HCERTSTORE store)
{
    PCCERT_CONTEXT iter = NULL;

    if (store)
    {
        while ((iter = CertEnumCertificatesInStore(store, iter)))
            delete_private_key(iter);
    }
    if (cert) CertFreeCertificateContext(cert);
    if (store) CertCloseStore(store, 0);
}

/* ------------------------------------------------------------------------ */
/* Credentials                                                              */

static SECURITY_STATUS acquire(struct side *side, enum mode mode, PCCERT_CONTEXT cert)
{
    DWORD only13 = side->server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT;
    SECURITY_STATUS status;
    SCHANNEL_CRED cred4;
    SCH_CREDENTIALS cred5;
    TLS_PARAMETERS params;
    void *auth;
    TimeStamp expiry;

    memset(&cred4, 0, sizeof(cred4));
    memset(&cred5, 0, sizeof(cred5));
    memset(&params, 0, sizeof(params));

    if (mode == MODE_TLS12)
    {
        cred4.dwVersion = SCHANNEL_CRED_VERSION;
        cred4.grbitEnabledProtocols = side->server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT;
        if (side->server)
        {
            cred4.cCreds = 1;
            cred4.paCred = &cert;
        }
        else cred4.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
        auth = &cred4;
    }
    else
    {
        cred5.dwVersion = SCH_CREDENTIALS_VERSION;
        if (side->server)
        {
            cred5.cCreds = 1;
            cred5.paCred = &cert;
        }
        else cred5.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
        if (mode == MODE_TLS13)
        {
            params.grbitDisabledProtocols = ~only13;
            cred5.cTlsParameters = 1;
            cred5.pTlsParameters = &params;
        }
        auth = &cred5;
    }

    status = AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W,
                                       side->server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND,
                                       NULL, auth, NULL, NULL, &side->cred, &expiry);
    side->have_cred = (status == SEC_E_OK);
    return status;
}

static void release(struct side *side)
{
    SECURITY_STATUS status;

    if (side->have_ctx)
    {
        status = DeleteSecurityContext(&side->ctx);
        ok(status == SEC_E_OK, "%s: DeleteSecurityContext returned %08lx\n", side->name, status);
        side->have_ctx = FALSE;
    }
    if (side->have_cred)
    {
        status = FreeCredentialsHandle(&side->cred);
        ok(status == SEC_E_OK, "%s: FreeCredentialsHandle returned %08lx\n", side->name, status);
        side->have_cred = FALSE;
    }
}

/* ------------------------------------------------------------------------ */
/* Handshake                                                                */

/* One InitializeSecurityContext or AcceptSecurityContext call on the first
 * in_len bytes of side->in.  The output token goes to the peer's input; the
 * consumed input is dropped unless the call reported SEC_E_INCOMPLETE_MESSAGE.
 * Reports the SECBUFFER_MISSING and SECBUFFER_EXTRA counts of the input
 * descriptor, and the size of the output token. */
static SECURITY_STATUS handshake_step(struct side *side, struct side *peer, ULONG in_len,
                                      ULONG *missing, ULONG *extra, ULONG *produced)
{
    SecBuffer in_bufs[2], out_buf;
    SecBufferDesc in_desc, out_desc;
    SECURITY_STATUS status, free_status;
    BOOL first = !side->have_ctx;
    ULONG consumed;

    pair_init_token(&in_desc, in_bufs, side->in, in_len, &out_desc, &out_buf);

    side->attrs = 0;
    if (side->server)
        status = AcceptSecurityContext(&side->cred, first ? NULL : &side->ctx, &in_desc, SERVER_REQ, 0,
                                       &side->ctx, &out_desc, &side->attrs, NULL);
    else
        status = InitializeSecurityContextW(&side->cred, first ? NULL : &side->ctx, (WCHAR *)L"localhost",
                                            CLIENT_REQ, 0, 0, first ? NULL : &in_desc, 0, &side->ctx,
                                            &out_desc, &side->attrs, NULL);

    *missing = in_bufs[1].BufferType == SECBUFFER_MISSING ? in_bufs[1].cbBuffer : 0;
    *extra = in_bufs[1].BufferType == SECBUFFER_EXTRA ? in_bufs[1].cbBuffer : 0;
    *produced = out_buf.cbBuffer;

    if (status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED) side->have_ctx = TRUE;
    if (status == SEC_E_OK) side->done = TRUE;

    if (out_buf.cbBuffer)
    {
        ok(out_buf.BufferType == SECBUFFER_TOKEN, "%s: output buffer type %lu\n", side->name, out_buf.BufferType);
        ok(out_buf.pvBuffer != NULL, "%s: output token of %lu bytes without memory\n", side->name,
           out_buf.cbBuffer);
        if (out_buf.pvBuffer)
        {
            ok(peer->in_len + out_buf.cbBuffer <= sizeof(peer->in), "%s: token too large\n", side->name);
            if (peer->in_len + out_buf.cbBuffer <= sizeof(peer->in))
            {
                memcpy(peer->in + peer->in_len, out_buf.pvBuffer, out_buf.cbBuffer);
                peer->in_len += out_buf.cbBuffer;
            }
        }
    }
    if (out_buf.pvBuffer)
    {
        free_status = FreeContextBuffer(out_buf.pvBuffer);
        ok(free_status == SEC_E_OK, "%s: FreeContextBuffer returned %08lx\n", side->name, free_status);
    }

    /* Input is consumed only by calls that made progress. */
    if ((status == SEC_E_OK || status == SEC_I_CONTINUE_NEEDED) && (!first || side->server))
    {
        ok(*extra <= in_len, "%s: SECBUFFER_EXTRA of %lu bytes for %lu bytes of input\n", side->name,
           *extra, in_len);
        consumed = in_len - min(*extra, in_len);
        memmove(side->in, side->in + consumed, side->in_len - consumed);
        side->in_len -= consumed;
    }
    return status;
}

/* SEC_E_INCOMPLETE_MESSAGE on a prefix of the peer's first flight, on either side. */
static void test_incomplete_flight(struct side *side, struct side *peer)
{
    SECURITY_STATUS status;
    ULONG missing, extra, produced, rec_len, given, saved = side->in_len;

    ok(side->in_len > TLS_RECORD_HEADER, "%s: no flight to truncate\n", side->name);
    if (side->in_len <= TLS_RECORD_HEADER) return;

    /* Not even a record header. */
    status = handshake_step(side, peer, 3, &missing, &extra, &produced);
    ok(status == SEC_E_INCOMPLETE_MESSAGE, "%s: 3 bytes: got %08lx\n", side->name, status);
    ok(!produced, "%s: 3 bytes: output token of %lu bytes\n", side->name, produced);
    ok(missing > 0 || broken(!missing) /* < win10 */, "%s: 3 bytes: no SECBUFFER_MISSING buffer\n", side->name);
    trace("%s: 3 bytes: SECBUFFER_MISSING %lu\n", side->name, missing);
    ok(side->in_len == saved, "%s: input consumed on SEC_E_INCOMPLETE_MESSAGE\n", side->name);

    /* Half of the first record: the missing count is the rest of that record. */
    rec_len = record_length(side->in);
    ok(rec_len <= side->in_len, "%s: first record (%lu bytes) longer than the flight (%lu)\n", side->name,
       rec_len, side->in_len);
    if (rec_len > side->in_len) return;
    given = TLS_RECORD_HEADER + (rec_len - TLS_RECORD_HEADER) / 2;
    status = handshake_step(side, peer, given, &missing, &extra, &produced);
    ok(status == SEC_E_INCOMPLETE_MESSAGE, "%s: %lu of %lu bytes: got %08lx\n", side->name, given, rec_len,
       status);
    ok(!produced, "%s: half record: output token of %lu bytes\n", side->name, produced);
    ok(missing == rec_len - given || broken(!missing) /* < win10 */,
       "%s: %lu of %lu bytes: SECBUFFER_MISSING %lu\n", side->name, given, rec_len, missing);
    ok(side->in_len == saved, "%s: input consumed on SEC_E_INCOMPLETE_MESSAGE\n", side->name);
}

static BOOL handshake_failed(enum mode mode, const char *what, SECURITY_STATUS status)
{
    if (mode == MODE_TLS13 && status == SEC_E_ALGORITHM_MISMATCH)
        win_skip("%s: TLS 1.3 is not supported (%08lx)\n", what, status);
    else
        ok(0, "%s failed: %08lx\n", what, status);
    return FALSE;
}

static BOOL handshake(enum mode mode)
{
    static const BYTE junk[] = { 0x17, 0x03, 0x03, 0x00, 0x20, 0x00 };
    struct side *client = &client_side, *server = &server_side;
    SECURITY_STATUS status;
    ULONG missing, extra, produced;
    unsigned int i;

    /* ClientHello. */
    status = handshake_step(client, server, 0, &missing, &extra, &produced);
    if (status != SEC_I_CONTINUE_NEEDED) return handshake_failed(mode, "first InitializeSecurityContext", status);
    ok(produced > TLS_RECORD_HEADER, "ClientHello token of %lu bytes\n", produced);
    ok(server->in_len > TLS_RECORD_HEADER && server->in[0] == 0x16 && server->in[1] == 0x03
       && server->in[2] >= 0x01 && server->in[2] <= 0x03,
       "ClientHello record starts %02x %02x %02x\n", server->in[0], server->in[1], server->in[2]);
    ok(client->have_ctx, "no client context after the first call\n");

    /* Server: truncated ClientHello, then the whole of it. */
    test_incomplete_flight(server, client);
    status = handshake_step(server, client, server->in_len, &missing, &extra, &produced);
    if (status != SEC_I_CONTINUE_NEEDED) return handshake_failed(mode, "first AcceptSecurityContext", status);
    ok(!extra, "AcceptSecurityContext left %lu bytes of the ClientHello\n", extra);
    ok(produced > TLS_RECORD_HEADER, "server's first flight of %lu bytes\n", produced);
    ok(client->in[0] == 0x16 && client->in[1] == 0x03 && client->in[2] == 0x03,
       "server's first record starts %02x %02x %02x\n", client->in[0], client->in[1], client->in[2]);

    /* Client: truncated server flight, then the flight followed by the start
     * of a further record, which must come back as SECBUFFER_EXTRA.  A call may
     * stop early and report the rest of the flight as SECBUFFER_EXTRA too; the
     * caller then calls again with what is left, as over a socket. */
    test_incomplete_flight(client, server);
    trace("server's first flight: %lu bytes\n", client->in_len);
    memcpy(client->in + client->in_len, junk, sizeof(junk));
    client->in_len += sizeof(junk);
    i = 0;
    do
        status = handshake_step(client, server, client->in_len, &missing, &extra, &produced);
    while (status == SEC_I_CONTINUE_NEEDED && extra > sizeof(junk) && ++i < 8);
    if (status != SEC_I_CONTINUE_NEEDED && status != SEC_E_OK)
        return handshake_failed(mode, "InitializeSecurityContext", status);
    /* The junk is never consumed.  When the call completes the handshake (TLS 1.3),
     * whole records the server sent after its Finished (session tickets) may stay
     * unprocessed as well; they are for DecryptMessage. */
    ok(extra >= sizeof(junk), "SECBUFFER_EXTRA of %lu bytes, expected at least %u\n", extra,
       (unsigned)sizeof(junk));
    ok(client->in_len == extra, "%lu bytes left unconsumed, SECBUFFER_EXTRA %lu\n", client->in_len, extra);
    ok(client->in_len >= sizeof(junk) && !memcmp(client->in + client->in_len - sizeof(junk), junk, sizeof(junk)),
       "the unconsumed bytes do not end with the extra ones\n");
    if (status == SEC_I_CONTINUE_NEEDED)
        ok(extra == sizeof(junk), "SECBUFFER_EXTRA of %lu bytes before the end of the handshake, expected %u\n",
           extra, (unsigned)sizeof(junk));
    else if (client->in_len > sizeof(junk))
    {
        ULONG pos = 0, end = client->in_len - sizeof(junk);

        while (pos + TLS_RECORD_HEADER <= end && pos + record_length(client->in + pos) <= end)
            pos += record_length(client->in + pos);
        ok(pos == end, "SECBUFFER_EXTRA does not start at a record boundary (%lu of %lu)\n", pos, end);
        trace("%lu bytes of post-handshake records left with the extra ones\n", end);
    }
    /* Drop the junk; keep anything else for later calls. */
    if (client->in_len >= sizeof(junk)
        && !memcmp(client->in + client->in_len - sizeof(junk), junk, sizeof(junk)))
        client->in_len -= sizeof(junk);
    else
        client->in_len = 0;

    /* The rest of the exchange. */
    for (i = 0; i < 16 && !(client->done && server->done); i++)
    {
        BOOL progress = FALSE;

        if (!server->done && server->in_len)
        {
            progress = TRUE;
            status = handshake_step(server, client, server->in_len, &missing, &extra, &produced);
            if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED)
                return handshake_failed(mode, "AcceptSecurityContext", status);
        }
        if (!client->done && client->in_len)
        {
            progress = TRUE;
            status = handshake_step(client, server, client->in_len, &missing, &extra, &produced);
            if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED)
                return handshake_failed(mode, "InitializeSecurityContext", status);
        }
        if (!progress) break;
    }
    ok(client->done, "client handshake not finished\n");
    ok(server->done, "server handshake not finished\n");
    ok(!server->in_len, "%lu bytes left for the server after the handshake\n", server->in_len);
    if (!client->done || !server->done) return FALSE;

    /* The attributes of the last call (curl, for one, insists on all of these). */
    ok(client->attrs == CLIENT_RET, "client context attributes %08lx, expected %08x\n", client->attrs,
       CLIENT_RET);
    ok((server->attrs & SERVER_RET) == SERVER_RET, "server context attributes %08lx, expected %08x set\n",
       server->attrs, SERVER_RET);
    trace("client attributes %08lx, server attributes %08lx\n", client->attrs, server->attrs);
    return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Attributes                                                               */

static DWORD check_connection_info(enum mode mode)
{
    SecPkgContext_ConnectionInfo ci, si;
    SECURITY_STATUS status;
    DWORD expect_client;

    memset(&ci, 0xcc, sizeof(ci));
    memset(&si, 0xcc, sizeof(si));
    status = QueryContextAttributesW(&client_side.ctx, SECPKG_ATTR_CONNECTION_INFO, &ci);
    ok(status == SEC_E_OK, "client SECPKG_ATTR_CONNECTION_INFO: %08lx\n", status);
    if (status != SEC_E_OK) return 0;
    status = QueryContextAttributesW(&server_side.ctx, SECPKG_ATTR_CONNECTION_INFO, &si);
    ok(status == SEC_E_OK, "server SECPKG_ATTR_CONNECTION_INFO: %08lx\n", status);
    if (status != SEC_E_OK) return 0;

    trace("protocol %#lx/%#lx cipher %#x/%lu hash %#x/%lu exchange %#x/%lu\n", ci.dwProtocol, si.dwProtocol, ci.aiCipher, ci.dwCipherStrength, ci.aiHash, ci.dwHashStrength,
          ci.aiExch, ci.dwExchStrength);

    switch (mode)
    {
    case MODE_TLS12:
        ok(ci.dwProtocol == SP_PROT_TLS1_2_CLIENT, "client protocol %#lx\n", ci.dwProtocol);
        break;
    case MODE_TLS13:
        ok(ci.dwProtocol == SP_PROT_TLS1_3_CLIENT, "client protocol %#lx\n", ci.dwProtocol);
        break;
    default:
        ok(ci.dwProtocol == SP_PROT_TLS1_3_CLIENT || broken(ci.dwProtocol == SP_PROT_TLS1_2_CLIENT) /* win10 */,
           "client protocol %#lx\n", ci.dwProtocol);
        break;
    }
    expect_client = ci.dwProtocol;
    /* The server bit of each version is the client bit shifted right once. */
    ok(si.dwProtocol == expect_client >> 1, "server protocol %#lx, client %#lx\n", si.dwProtocol, ci.dwProtocol);

    ok((ci.aiCipher == CALG_AES_128 && ci.dwCipherStrength == 128)
       || (ci.aiCipher == CALG_AES_256 && ci.dwCipherStrength == 256),
       "client cipher %#x strength %lu\n", ci.aiCipher, ci.dwCipherStrength);
    ok(si.aiCipher == ci.aiCipher && si.dwCipherStrength == ci.dwCipherStrength,
       "server cipher %#x/%lu, client %#x/%lu\n", si.aiCipher, si.dwCipherStrength, ci.aiCipher,
       ci.dwCipherStrength);
    /* AEAD suites have no separate MAC key. */
    ok(!ci.dwHashStrength || broken(mode != MODE_TLS12), "client hash strength %lu\n", ci.dwHashStrength);
    ok(ci.aiHash == 0 || ci.aiHash == CALG_SHA_256 || ci.aiHash == CALG_SHA_384, "client hash %#x\n",
       ci.aiHash);
    ok(si.aiHash == ci.aiHash, "server hash %#x, client %#x\n", si.aiHash, ci.aiHash);
    ok(ci.aiExch == CALG_ECDH_EPHEM || ci.aiExch == CALG_ECDH || ci.aiExch == CALG_DH_EPHEM,
       "client key exchange %#x\n", ci.aiExch);
    ok(si.aiExch == ci.aiExch, "server key exchange %#x, client %#x\n", si.aiExch, ci.aiExch);
    return expect_client;
}

static BOOL check_stream_sizes(DWORD protocol, SecPkgContext_StreamSizes *sizes)
{
    SecPkgContext_StreamSizes other;
    SECURITY_STATUS status;

    memset(sizes, 0xcc, sizeof(*sizes));
    status = QueryContextAttributesW(&client_side.ctx, SECPKG_ATTR_STREAM_SIZES, sizes);
    ok(status == SEC_E_OK, "client SECPKG_ATTR_STREAM_SIZES: %08lx\n", status);
    if (status != SEC_E_OK) return FALSE;
    memset(&other, 0xcc, sizeof(other));
    status = QueryContextAttributesW(&server_side.ctx, SECPKG_ATTR_STREAM_SIZES, &other);
    ok(status == SEC_E_OK, "server SECPKG_ATTR_STREAM_SIZES: %08lx\n", status);
    if (status != SEC_E_OK) return FALSE;

    trace("stream sizes: header %lu trailer %lu maximum %lu buffers %lu block %lu\n", sizes->cbHeader,
          sizes->cbTrailer, sizes->cbMaximumMessage, sizes->cBuffers, sizes->cbBlockSize);
    ok(!memcmp(sizes, &other, sizeof(other)), "server stream sizes %lu %lu %lu %lu %lu differ\n",
       other.cbHeader, other.cbTrailer, other.cbMaximumMessage, other.cBuffers, other.cbBlockSize);

    if (protocol == SP_PROT_TLS1_2_CLIENT)
    {
        /* AES-GCM: 5 bytes of record header and 8 of explicit nonce; 16 bytes of tag. */
        ok(sizes->cbHeader == 13, "cbHeader %lu\n", sizes->cbHeader);
        ok(sizes->cbTrailer == 16, "cbTrailer %lu\n", sizes->cbTrailer);
    }
    else
    {
        /* TLS 1.3: record header; tag plus the inner content type byte. */
        ok(sizes->cbHeader == 5, "cbHeader %lu\n", sizes->cbHeader);
        ok(sizes->cbTrailer == 17, "cbTrailer %lu\n", sizes->cbTrailer);
    }
    ok(sizes->cbMaximumMessage == TLS_MAX_PLAINTEXT, "cbMaximumMessage %lu\n", sizes->cbMaximumMessage);
    ok(sizes->cBuffers == 4, "cBuffers %lu\n", sizes->cBuffers);
    ok(sizes->cbBlockSize == 16 || sizes->cbBlockSize == 1, "cbBlockSize %lu\n", sizes->cbBlockSize);
    return sizes->cbHeader < 64 && sizes->cbTrailer < 64 && sizes->cbMaximumMessage == TLS_MAX_PLAINTEXT;
}

/* ------------------------------------------------------------------------ */
/* Records                                                                  */

/* Encrypts msg into one record at out; returns the record length (0 on failure). */
static ULONG encrypt_record(struct side *side, const SecPkgContext_StreamSizes *sizes, const char *msg,
                            ULONG len, BYTE *out)
{
    SecBuffer bufs[4];
    SecBufferDesc desc;
    SECURITY_STATUS status;
    ULONG total;

    memcpy(out + sizes->cbHeader, msg, len);
    pair_init_encrypt(&desc, bufs, out, len, sizes);

    status = EncryptMessage(&side->ctx, 0, &desc, 0);
    ok(status == SEC_E_OK, "%s: EncryptMessage returned %08lx\n", side->name, status);
    if (status != SEC_E_OK) return 0;

    ok(bufs[0].cbBuffer == sizes->cbHeader, "%s: header %lu bytes\n", side->name, bufs[0].cbBuffer);
    ok(bufs[1].cbBuffer == len, "%s: data %lu bytes, expected %lu\n", side->name, bufs[1].cbBuffer, len);
    ok(bufs[2].cbBuffer > 0 && bufs[2].cbBuffer <= sizes->cbTrailer, "%s: trailer %lu bytes\n", side->name,
       bufs[2].cbBuffer);
    total = bufs[0].cbBuffer + bufs[1].cbBuffer + bufs[2].cbBuffer;
    ok(out[0] == 0x17 && out[1] == 0x03 && out[2] == 0x03, "%s: record starts %02x %02x %02x\n", side->name,
       out[0], out[1], out[2]);
    ok(record_length(out) == total, "%s: record length %lu, buffers hold %lu\n", side->name,
       record_length(out), total);
    ok(len < 8 || memcmp(out + sizes->cbHeader, msg, len), "%s: data not encrypted\n", side->name);
    return total;
}

/* Decrypts one record at data (len bytes, of which rec_len are the record) and
 * checks the plaintext and the buffer layout; returns the SECBUFFER_EXTRA count. */
static ULONG decrypt_and_check(struct side *side, BYTE *data, ULONG len, ULONG rec_len, const char *msg,
                               ULONG msg_len)
{
    SecBuffer bufs[4], *header, *body, *trailer, *extra;
    SecBufferDesc desc;
    SECURITY_STATUS status;

    pair_init_decrypt(&desc, bufs, data, len);
    status = DecryptMessage(&side->ctx, &desc, 0, NULL);
    ok(status == SEC_E_OK, "%s: DecryptMessage returned %08lx\n", side->name, status);
    if (status != SEC_E_OK) return 0;

    ok(bufs[0].BufferType == SECBUFFER_STREAM_HEADER, "%s: buffer 0 type %lu\n", side->name, bufs[0].BufferType);
    ok(bufs[1].BufferType == SECBUFFER_DATA, "%s: buffer 1 type %lu\n", side->name, bufs[1].BufferType);
    ok(bufs[2].BufferType == SECBUFFER_STREAM_TRAILER, "%s: buffer 2 type %lu\n", side->name, bufs[2].BufferType);
    header = find_buffer(&desc, SECBUFFER_STREAM_HEADER);
    body = find_buffer(&desc, SECBUFFER_DATA);
    trailer = find_buffer(&desc, SECBUFFER_STREAM_TRAILER);
    extra = find_buffer(&desc, SECBUFFER_EXTRA);
    if (!header || !body || !trailer) return 0;

    ok(header->pvBuffer == data, "%s: header at %p, record at %p\n", side->name, header->pvBuffer, data);
    ok((BYTE *)body->pvBuffer == data + header->cbBuffer, "%s: data not in place (%p, record %p + %lu)\n",
       side->name, body->pvBuffer, data, header->cbBuffer);
    ok(body->cbBuffer == msg_len, "%s: %lu bytes of plaintext, expected %lu\n", side->name, body->cbBuffer,
       msg_len);
    ok(body->cbBuffer == msg_len && body->pvBuffer && !memcmp(body->pvBuffer, msg, msg_len),
       "%s: wrong plaintext\n", side->name);
    ok(header->cbBuffer + body->cbBuffer + trailer->cbBuffer == rec_len,
       "%s: header %lu + data %lu + trailer %lu != record %lu\n", side->name, header->cbBuffer, body->cbBuffer,
       trailer->cbBuffer, rec_len);
    if (len == rec_len)
        ok(!extra, "%s: unexpected SECBUFFER_EXTRA of %lu bytes\n", side->name, extra ? extra->cbBuffer : 0);
    else
        ok(extra && extra->cbBuffer == len - rec_len, "%s: SECBUFFER_EXTRA %lu, expected %lu\n", side->name,
           extra ? extra->cbBuffer : 0, len - rec_len);
    return extra ? extra->cbBuffer : 0;
}

/* Hands the server's post-handshake messages (TLS 1.3 session tickets) to the
 * client: DecryptMessage returns them with SEC_I_RENEGOTIATE and
 * InitializeSecurityContext consumes them. */
static void drain_post_handshake(void)
{
    struct side *client = &client_side;
    SecBuffer bufs[4], in_bufs[2], out_buf, *extra;
    SecBufferDesc desc, in_desc, out_desc;
    SECURITY_STATUS status;
    unsigned int i;
    ULONG left;

    for (i = 0; i < 8 && client->in_len; i++)
    {
        trace("%lu bytes from the server after the handshake\n", client->in_len);
        pair_init_decrypt(&desc, bufs, client->in, client->in_len);
        status = DecryptMessage(&client->ctx, &desc, 0, NULL);
        ok(status == SEC_E_OK || status == SEC_I_RENEGOTIATE, "post-handshake DecryptMessage returned %08lx\n",
           status);
        extra = find_buffer(&desc, SECBUFFER_EXTRA);
        left = extra ? extra->cbBuffer : 0;
        if (status == SEC_E_OK)
        {
            SecBuffer *body = find_buffer(&desc, SECBUFFER_DATA);
            ok(!body || !body->cbBuffer, "application data in a post-handshake message\n");
        }
        else if (status == SEC_I_RENEGOTIATE)
        {
            memmove(client->in, client->in + client->in_len - left, left);
            pair_init_token(&in_desc, in_bufs, client->in, left, &out_desc, &out_buf);
            status = InitializeSecurityContextW(&client->cred, &client->ctx, (WCHAR *)L"localhost", CLIENT_REQ,
                                                0, 0, &in_desc, 0, NULL, &out_desc, &client->attrs, NULL);
            ok(status == SEC_E_OK, "InitializeSecurityContext on post-handshake data returned %08lx\n", status);
            if (out_buf.pvBuffer) FreeContextBuffer(out_buf.pvBuffer);
            left = in_bufs[1].BufferType == SECBUFFER_EXTRA ? in_bufs[1].cbBuffer : 0;
        }
        else break;
        memmove(client->in, client->in + client->in_len - left, left);
        client->in_len = left;
    }
    ok(!client->in_len, "%lu bytes from the server left unprocessed\n", client->in_len);
}

static void test_records(const SecPkgContext_StreamSizes *sizes)
{
    static const char msg1[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    static const char msg2[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    static const char msg3[] = "a second record in the same input";
    struct side *client = &client_side, *server = &server_side;
    ULONG len1, len2, len3, left, cut;
    SecBuffer bufs[4], *missing;
    SecBufferDesc desc;
    SECURITY_STATUS status;
    BYTE *rec, *copy;
    const ULONG size = 2 * (TLS_MAX_PLAINTEXT + 256);

    rec = HeapAlloc(GetProcessHeap(), 0, size);
    copy = HeapAlloc(GetProcessHeap(), 0, size);

    /* Client to server, one record. */
    len1 = encrypt_record(client, sizes, msg1, sizeof(msg1) - 1, rec);
    if (len1) decrypt_and_check(server, rec, len1, len1, msg1, sizeof(msg1) - 1);

    /* Server to client, after any post-handshake messages. */
    drain_post_handshake();
    len2 = encrypt_record(server, sizes, msg2, sizeof(msg2) - 1, rec);
    if (len2) decrypt_and_check(client, rec, len2, len2, msg2, sizeof(msg2) - 1);

    /* Two records in one input: the second comes back as SECBUFFER_EXTRA. */
    len1 = encrypt_record(client, sizes, msg1, sizeof(msg1) - 1, rec);
    len3 = len1 ? encrypt_record(client, sizes, msg3, sizeof(msg3) - 1, rec + len1) : 0;
    if (len1 && len3)
    {
        left = decrypt_and_check(server, rec, len1 + len3, len1, msg1, sizeof(msg1) - 1);
        if (left == len3) decrypt_and_check(server, rec + len1, len3, len3, msg3, sizeof(msg3) - 1);
    }

    /* A truncated record: SEC_E_INCOMPLETE_MESSAGE and the missing count. */
    len1 = encrypt_record(client, sizes, msg1, sizeof(msg1) - 1, rec);
    if (len1)
    {
        memcpy(copy, rec, len1);
        cut = 7;
        pair_init_decrypt(&desc, bufs, copy, len1 - cut);
        status = DecryptMessage(&server->ctx, &desc, 0, NULL);
        ok(status == SEC_E_INCOMPLETE_MESSAGE, "truncated record: DecryptMessage returned %08lx\n", status);
        ok(bufs[1].BufferType == SECBUFFER_MISSING, "truncated record: buffer 1 type %lu\n", bufs[1].BufferType);
        missing = find_buffer(&desc, SECBUFFER_MISSING);
        ok(missing && missing->cbBuffer == cut, "truncated record: SECBUFFER_MISSING %lu, expected %lu\n",
           missing ? missing->cbBuffer : 0, cut);
        trace("truncated record: buffer 0 type %lu size %lu\n", bufs[0].BufferType, bufs[0].cbBuffer);

        memcpy(copy, rec, len1);
        pair_init_decrypt(&desc, bufs, copy, 3);
        status = DecryptMessage(&server->ctx, &desc, 0, NULL);
        ok(status == SEC_E_INCOMPLETE_MESSAGE, "3 bytes: DecryptMessage returned %08lx\n", status);

        decrypt_and_check(server, rec, len1, len1, msg1, sizeof(msg1) - 1);
    }

    /* A record with one ciphertext byte changed fails authentication (this
     * breaks the server's receiving side, so it comes last). */
    len1 = encrypt_record(client, sizes, msg1, sizeof(msg1) - 1, rec);
    if (len1)
    {
        rec[sizes->cbHeader + 3] ^= 0x01;
        pair_init_decrypt(&desc, bufs, rec, len1);
        status = DecryptMessage(&server->ctx, &desc, 0, NULL);
        ok(status == SEC_E_DECRYPT_FAILURE || broken(status == SEC_E_MESSAGE_ALTERED),
           "tampered record: DecryptMessage returned %08lx\n", status);
    }

    /* More plaintext than one record can carry. */
    {
        SecBuffer ebufs[4];
        ULONG big = sizes->cbMaximumMessage + 1;

        memset(rec, 'x', size);
        pair_init_encrypt(&desc, ebufs, rec, big, sizes);
        status = EncryptMessage(&client->ctx, 0, &desc, 0);
        ok(FAILED(status), "EncryptMessage of %lu bytes returned %08lx\n", big, status);
        trace("EncryptMessage of %lu bytes: %08lx\n", big, status);
    }

    HeapFree(GetProcessHeap(), 0, rec);
    HeapFree(GetProcessHeap(), 0, copy);
}

/* ------------------------------------------------------------------------ */

static void test_handles(void)
{
    SecPkgContext_StreamSizes sizes;
    SECURITY_STATUS status;
    CtxtHandle ctx = client_side.ctx;

    status = DeleteSecurityContext(&client_side.ctx);
    ok(status == SEC_E_OK, "DeleteSecurityContext returned %08lx\n", status);
    client_side.have_ctx = FALSE;
    status = DeleteSecurityContext(&ctx);
    ok(status == SEC_E_INVALID_HANDLE, "second DeleteSecurityContext returned %08lx\n", status);
    status = QueryContextAttributesW(&ctx, SECPKG_ATTR_STREAM_SIZES, &sizes);
    ok(status == SEC_E_INVALID_HANDLE, "QueryContextAttributesW on a deleted context returned %08lx\n", status);
    status = QueryContextAttributesW(NULL, SECPKG_ATTR_STREAM_SIZES, &sizes);
    ok(status == SEC_E_INVALID_HANDLE, "QueryContextAttributesW(NULL) returned %08lx\n", status);
}

static void run_exchange(enum mode mode, PCCERT_CONTEXT cert)
{
    SecPkgContext_StreamSizes sizes;
    SECURITY_STATUS status;
    DWORD protocol;

    winetest_push_context("%s", mode_name(mode));
    memset(&client_side, 0, sizeof(client_side));
    memset(&server_side, 0, sizeof(server_side));
    client_side.name = "client";
    server_side.name = "server";
    server_side.server = TRUE;

    status = acquire(&client_side, mode, NULL);
    if (mode != MODE_TLS12 && status == SEC_E_UNKNOWN_CREDENTIALS)
    {
        win_skip("SCH_CREDENTIALS not supported\n");
        goto done;
    }
    ok(status == SEC_E_OK, "client AcquireCredentialsHandle returned %08lx\n", status);
    status = acquire(&server_side, mode, cert);
    ok(status == SEC_E_OK, "server AcquireCredentialsHandle returned %08lx\n", status);
    if (!client_side.have_cred || !server_side.have_cred)
    {
        skip("no credentials, no exchange\n");
        goto done;
    }

    if (!handshake(mode)) goto done;
    protocol = check_connection_info(mode);
    if (protocol && check_stream_sizes(protocol, &sizes)) test_records(&sizes);
    if (mode == MODE_TLS12) test_handles();

done:
    release(&client_side);
    release(&server_side);
    winetest_pop_context();
}

static void test_FreeContextBuffer(void)
{
    /* Not documented; Windows accepts NULL like free(). */
    ok(FreeContextBuffer(NULL) == SEC_E_OK, "FreeContextBuffer(NULL) failed\n");
}

START_TEST(schannel)
{
    HCERTSTORE store;
    PCCERT_CONTEXT cert;

    test_FreeContextBuffer();

    cert = import_server_cert(&store);
    if (!cert)
    {
        skip("no server certificate\n");
        free_server_cert(cert, store);
        return;
    }
    run_exchange(MODE_TLS12, cert);
    run_exchange(MODE_TLS13, cert);
    run_exchange(MODE_DEFAULT, cert);
    free_server_cert(cert, store);
}
