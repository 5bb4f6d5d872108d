/*
 * The Windows side of tools/bench: the same tests as bench/native.c, through SSPI.
 *
 *   bench.exe [--count] [--ops N] mem DATADIR SECONDS TEST...      client and server contexts in memory
 *   bench.exe [--count] [--ops N] net DATADIR SECONDS PORT TEST... client against "native serve"
 *   bench.exe trust DATADIR                              add ca.pem to the user's Root store
 *   bench.exe idle                                       sleeps until killed: keeps the prefix's
 *                                                        wineserver and services running
 *
 * Output: "R <test> <value> <unit> <detail>" per measurement, as native prints, and with
 * --count "C <test> <what> <unix calls per operation>" lines; with --ops, "O" lines (proto.h).
 *
 * secur32.dll is loaded with LoadLibrary, after --count has installed a counting
 * unix-call dispatcher: Wine's libwinecrt0 copies ntdll's __wine_unix_call_dispatcher
 * pointer when a DLL initialises its unix side, so a DLL loaded afterwards sends every
 * unix call through our counter, whichever secur32 (ours or Wine's) it is. Without
 * --count nothing is patched and the timings see the plain dispatcher.
 */

#define SECURITY_WIN32
#define SCHANNEL_USE_BLACKLISTS
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <winternl.h>
#include <wincrypt.h>
#include <sspi.h>
#include <schannel.h>
#include <psapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#ifndef SP_PROT_TLS1_3_CLIENT
#define SP_PROT_TLS1_3_CLIENT 0x00002000
#define SP_PROT_TLS1_3_SERVER 0x00001000
#endif

static PSecurityFunctionTableW sspi;
static const char *datadir;
static double seconds = 1.0;
static LARGE_INTEGER freq;

static void fail(const char *what, SECURITY_STATUS status)
{
    fprintf(stderr, "bench: %s: %08lx\n", what, (unsigned long)status);
    fflush(stdout);
    exit(2);
}

static double now(void)
{
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    return (double)t.QuadPart / freq.QuadPart;
}

/* CPU time of this thread (user + kernel), in seconds: less sensitive than the wall clock
 * to other processes on a shared machine. */
static double cpu_now(void)
{
    FILETIME created, exited, kernel, user;

    if (!GetThreadTimes(GetCurrentThread(), &created, &exited, &kernel, &user)) return 0;
    return ((double)(((ULONGLONG)kernel.dwHighDateTime << 32) | kernel.dwLowDateTime)
            + (double)(((ULONGLONG)user.dwHighDateTime << 32) | user.dwLowDateTime)) / 1e7;
}

/* ---- unix call counting ---- */

typedef NTSTATUS (WINAPI *dispatcher_fn)(UINT64, unsigned int, void *);
static dispatcher_fn real_dispatcher;
static UINT64 counted_handle;
static volatile LONG64 call_count;
static BOOL counting;

static NTSTATUS WINAPI counting_dispatcher(UINT64 handle, unsigned int code, void *args)
{
    if (handle == counted_handle) call_count++;
    return real_dispatcher(handle, code, args);
}

static BOOL install_counter(void)
{
    void **slot = (void **)GetProcAddress(GetModuleHandleA("ntdll.dll"), "__wine_unix_call_dispatcher");
    DWORD old;

    if (!slot || !*slot) return FALSE;
    if (!VirtualProtect(slot, sizeof(*slot), PAGE_READWRITE, &old)) return FALSE;
    real_dispatcher = (dispatcher_fn)*slot;
    *slot = (void *)counting_dispatcher;
    return TRUE;
}

typedef NTSTATUS (WINAPI *query_vm_fn)(HANDLE, const void *, ULONG, void *, SIZE_T, SIZE_T *);

static void find_counted_handle(HMODULE secur32)
{
    query_vm_fn query = (query_vm_fn)(void *)GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQueryVirtualMemory");
    UINT64 handle = 0;

    /* 1000 = MemoryWineUnixFuncs: the handle of the module's unix-call table. */
    if (query && !query(GetCurrentProcess(), secur32, 1000, &handle, sizeof(handle), NULL)) counted_handle = handle;
}

static LONG64 calls(void)
{
    return call_count;
}

/* ---- small helpers ---- */

static void *read_file(const char *name, DWORD *size)
{
    char path[MAX_PATH];
    FILE *f;
    void *data;
    long len;

    snprintf(path, sizeof(path), "%s/%s", datadir, name);
    if (!(f = fopen(path, "rb"))) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc(len);
    if (fread(data, 1, len, f) != (size_t)len) len = 0;
    fclose(f);
    *size = len;
    return data;
}

/* Private (anonymous) memory of the process: RssAnon + VmSwap of Linux's
 * /proc/PID/status, so that PE and Unix heaps (secur32.so, GnuTLS) are both counted,
 * exactly as bench/native measures itself. Under Wine the file is on drive Z:, but
 * /proc/self there is the wineserver (it opens files for us), so tools/bench passes our
 * Unix process id in BENCH_UNIX_PID. 0 when it is unknown (e.g. on Windows). */
static SIZE_T private_bytes(void)
{
    const char *pid = getenv("BENCH_UNIX_PID");
    char path[64], line[256];
    unsigned long kb;
    SIZE_T total = 0;
    FILE *f;

    if (!pid) return 0;
    snprintf(path, sizeof(path), "Z:\\proc\\%s\\status", pid);
    if (!(f = fopen(path, "r"))) return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "RssAnon: %lu", &kb) == 1 || sscanf(line, "VmSwap: %lu", &kb) == 1) total += kb;
    fclose(f);
    return total * 1024;
}

/* The certificate with a private key from a PFX of tests/data; NULL (with the reason in
 * *why) when this Windows/Wine cannot import it or our secur32 cannot use its key. */
static PCCERT_CONTEXT load_server_cert(int ecdsa, const char **why)
{
    static const WCHAR password[] = L"test";
    CRYPT_DATA_BLOB blob;
    PCCERT_CONTEXT cert = NULL;
    HCERTSTORE store;
    DWORD size;

    *why = NULL;
    if (!(blob.pbData = read_file(ecdsa ? "server-ecdsa.pfx" : "server-rsa.pfx", &blob.cbData)))
    {
        *why = "pfx-not-found";
        return NULL;
    }
    store = PFXImportCertStore(&blob, password, CRYPT_EXPORTABLE | CRYPT_USER_KEYSET);
    free(blob.pbData);
    if (!store)
    {
        *why = "PFXImportCertStore-failed";
        return NULL;
    }
    while ((cert = CertEnumCertificatesInStore(store, cert)))
    {
        size = 0;
        if (CertGetCertificateContextProperty(cert, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size))
            return CertDuplicateCertificateContext(cert);
    }
    *why = "no-key-in-pfx";
    return NULL;
}

/* ---- tests ---- */

enum { T_FULL, T_RESUME, T_BULK, T_MEMCTX, T_MEMCRED, T_FLOOR };

struct test
{
    const char *name;
    int kind;
    int proto;
    int ecdsa;
    const char *cipher;
    int size;
    int validate;
};

static const struct test tests[] =
{
    { "full-tls12-rsa",         T_FULL,   12, 0, NULL, 0, 0 },
    { "full-tls12-ecdsa",       T_FULL,   12, 1, NULL, 0, 0 },
    { "full-tls13-rsa",         T_FULL,   13, 0, NULL, 0, 0 },
    { "full-tls13-ecdsa",       T_FULL,   13, 1, NULL, 0, 0 },
    { "full-tls12-rsa-validate",T_FULL,   12, 0, NULL, 0, 1 },
    { "resume-tls12",           T_RESUME, 12, 0, NULL, 0, 0 },
    { "resume-tls13",           T_RESUME, 13, 0, NULL, 0, 0 },
    { "bulk-tls12-aes128gcm",   T_BULK,   12, 0, "AES-128-GCM", 16384, 0 },
    { "bulk-tls12-aes256gcm",   T_BULK,   12, 0, "AES-256-GCM", 16384, 0 },
    { "bulk-tls12-chacha20",    T_BULK,   12, 0, "CHACHA20-POLY1305", 16384, 0 },
    { "bulk-tls13-aes128gcm",   T_BULK,   13, 0, "AES-128-GCM", 16384, 0 },
    { "small-tls12",            T_BULK,   12, 0, NULL, 100, 0 },
    { "mem-ctx",                T_MEMCTX, 12, 0, NULL, 0, 0 },
    { "mem-cred",               T_MEMCRED,12, 0, NULL, 0, 0 },
    /* net only, without TLS: what the sockets alone cost (size 0: handshake flights) */
    { "floor-hs",               T_FLOOR,   0, 0, NULL, 0, 0 },
    { "floor-resume",           T_FLOOR,   0, 0, NULL, 1, 0 },   /* size 1: resumed flights */
    { "floor-bulk",             T_FLOOR,   0, 0, NULL, 16384, 0 },
    { "floor-small",            T_FLOOR,   0, 0, NULL, 100, 0 },
};

static const struct test *find_test(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
        if (!strcmp(tests[i].name, name)) return &tests[i];
    return NULL;
}

/* ---- credentials ---- */

struct cred_request
{
    int server;
    int proto;
    const char *cipher;        /* restrict the suite (in-memory mode), NULL for none */
    int validate;
    PCCERT_CONTEXT cert;
};

static SECURITY_STATUS acquire(const struct cred_request *r, CredHandle *cred)
{
    static ALG_ID aes128[] = { CALG_AES_128 }, aes256[] = { CALG_AES_256 };
    static UNICODE_STRING aes = { 6, 8, (WCHAR *)L"AES" };
    static UNICODE_STRING chacha = { 34, 36, (WCHAR *)L"CHACHA20_POLY1305" };
    SCHANNEL_CRED c4;
    SCH_CREDENTIALS c5;
    TLS_PARAMETERS params;
    CRYPTO_SETTINGS crypto[2];
    TimeStamp expiry;
    void *auth;
    DWORD flags = r->server ? 0 : (SCH_CRED_NO_DEFAULT_CREDS
                                   | (r->validate ? SCH_CRED_AUTO_CRED_VALIDATION : SCH_CRED_MANUAL_CRED_VALIDATION));

    memset(&c4, 0, sizeof(c4));
    memset(&c5, 0, sizeof(c5));
    memset(&params, 0, sizeof(params));
    if (r->proto == 12 && !(r->cipher && !strcmp(r->cipher, "CHACHA20-POLY1305")))
    {
        /* What most applications (and stock Wine) use for TLS 1.2. */
        c4.dwVersion = SCHANNEL_CRED_VERSION;
        c4.grbitEnabledProtocols = r->server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT;
        c4.dwFlags = flags;
        if (r->cert) { c4.cCreds = 1; c4.paCred = (PCCERT_CONTEXT *)&r->cert; }
        if (r->cipher)
        {
            c4.cSupportedAlgs = 1;
            c4.palgSupportedAlgs = strcmp(r->cipher, "AES-256-GCM") ? aes128 : aes256;
        }
        auth = &c4;
    }
    else
    {
        c5.dwVersion = SCH_CREDENTIALS_VERSION;
        c5.dwFlags = flags;
        if (r->cert) { c5.cCreds = 1; c5.paCred = (PCCERT_CONTEXT *)&r->cert; }
        params.grbitDisabledProtocols = r->proto == 13
            ? ~(DWORD)(r->server ? SP_PROT_TLS1_3_SERVER : SP_PROT_TLS1_3_CLIENT)
            : ~(DWORD)(r->server ? SP_PROT_TLS1_2_SERVER : SP_PROT_TLS1_2_CLIENT);
        if (r->cipher)
        {
            /* Disable every cipher but the one wanted: the other AES key size, or AES
             * altogether, and ChaCha20-Poly1305 unless it is the one. */
            int k = 0;
            memset(crypto, 0, sizeof(crypto));
            if (strcmp(r->cipher, "CHACHA20-POLY1305"))
            {
                crypto[k].eAlgorithmUsage = TlsParametersCngAlgUsageCipher;
                crypto[k].strCngAlgId = chacha;
                k++;
            }
            crypto[k].eAlgorithmUsage = TlsParametersCngAlgUsageCipher;
            crypto[k].strCngAlgId = aes;
            if (!strcmp(r->cipher, "AES-128-GCM")) crypto[k].dwMinBitLength = crypto[k].dwMaxBitLength = 256;
            else if (!strcmp(r->cipher, "AES-256-GCM")) crypto[k].dwMinBitLength = crypto[k].dwMaxBitLength = 128;
            k++;
            params.cDisabledCrypto = k;
            params.pDisabledCrypto = crypto;
        }
        c5.cTlsParameters = 1;
        c5.pTlsParameters = &params;
        auth = &c5;
    }
    return sspi->AcquireCredentialsHandleW(NULL, (WCHAR *)UNISP_NAME_W,
                                           r->server ? SECPKG_CRED_INBOUND : SECPKG_CRED_OUTBOUND,
                                           NULL, auth, NULL, NULL, cred, &expiry);
}

/* "TLS1.2/AES-128-GCM/..." from CONNECTION_INFO (AES suites are assumed to be GCM: the
 * only AES mode the bench servers allow). */
static void describe(CtxtHandle *ctx, char *out, size_t size, int *resumed)
{
    SecPkgContext_ConnectionInfo info;
    SecPkgContext_SessionInfo session;
    const char *proto = "?", *cipher;
    char other[32];

    memset(&info, 0, sizeof(info));
    if (sspi->QueryContextAttributesW(ctx, SECPKG_ATTR_CONNECTION_INFO, &info) != SEC_E_OK)
    {
        snprintf(out, size, "?");
        return;
    }
    if (info.dwProtocol & (SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_2_SERVER)) proto = "TLS1.2";
    else if (info.dwProtocol & (SP_PROT_TLS1_3_CLIENT | SP_PROT_TLS1_3_SERVER)) proto = "TLS1.3";
    if (info.aiCipher == CALG_AES_128) cipher = "AES-128-GCM";
    else if (info.aiCipher == CALG_AES_256) cipher = "AES-256-GCM";
    else
    {
        snprintf(other, sizeof(other), "CIPHER-%#x-%lu", info.aiCipher, info.dwCipherStrength);
        cipher = other;
    }
    memset(&session, 0, sizeof(session));
    if (resumed && sspi->QueryContextAttributesW(ctx, SECPKG_ATTR_SESSION_INFO, &session) == SEC_E_OK)
        *resumed = (session.dwFlags & SSL_SESSION_RECONNECT) ? 1 : 0;
    snprintf(out, size, "%s/%s/exch-%#x-%lu", proto, cipher, info.aiExch, info.dwExchStrength);
}

static int cipher_matches(const char *detail, const char *cipher)
{
    if (!cipher) return 1;
    if (!strcmp(cipher, "CHACHA20-POLY1305")) return !strstr(detail, "AES-");
    return strstr(detail, cipher) != NULL;
}

/* ---- in-memory handshakes ---- */

#define PIPE_SIZE 65536
#define MEM_WARMUP 300

struct side
{
    CredHandle *cred;
    CtxtHandle ctx;
    BOOL have_ctx, done, server;
    BYTE in[PIPE_SIZE];
    ULONG in_len;
    ULONG received;            /* handshake bytes received */
    LONG64 calls;              /* unix calls made by this side's ISC/ASC */
};

static void side_init(struct side *s, CredHandle *cred, BOOL server)
{
    s->cred = cred;
    s->have_ctx = s->done = FALSE;
    s->server = server;
    s->in_len = s->received = 0;
    s->calls = 0;
}

static const DWORD isc_req = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY
    | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM;
static const DWORD asc_req = ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY
    | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM;

/* Full-handshake rows: keep the client from resuming (and from filling the session cache),
 * as SSL_SESSION_DISABLE_RECONNECTS does on Windows. Stock Wine has no cache to avoid. */
static BOOL no_reconnects;

static void disable_reconnects(CtxtHandle *ctx)
{
    DWORD token[2] = { SCHANNEL_SESSION, 2 /* SSL_SESSION_DISABLE_RECONNECTS */ };
    SecBuffer b = { sizeof(token), SECBUFFER_TOKEN, token };
    SecBufferDesc desc = { SECBUFFER_VERSION, 1, &b };

    sspi->ApplyControlToken(ctx, &desc);
}

/* One ISC/ASC call on everything in s->in; the token goes to peer->in. */
static SECURITY_STATUS mem_step(struct side *s, struct side *peer, const WCHAR *target)
{
    SecBuffer in[2], out;
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in }, out_desc = { SECBUFFER_VERSION, 1, &out };
    SECURITY_STATUS status;
    ULONG attrs, consumed;
    BOOL first = !s->have_ctx;
    LONG64 before = calls();

    in[0].BufferType = SECBUFFER_TOKEN; in[0].cbBuffer = s->in_len; in[0].pvBuffer = s->in;
    in[1].BufferType = SECBUFFER_EMPTY; in[1].cbBuffer = 0; in[1].pvBuffer = NULL;
    out.BufferType = SECBUFFER_TOKEN; out.cbBuffer = 0; out.pvBuffer = NULL;
    if (s->server)
        status = sspi->AcceptSecurityContext(s->cred, first ? NULL : &s->ctx, &in_desc, asc_req, 0,
                                             &s->ctx, &out_desc, &attrs, NULL);
    else
        status = sspi->InitializeSecurityContextW(s->cred, first ? NULL : &s->ctx, (WCHAR *)target, isc_req, 0, 0,
                                                  first ? NULL : &in_desc, 0, &s->ctx, &out_desc, &attrs, NULL);
    s->calls += calls() - before;
    if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED)
    {
        if (out.pvBuffer) sspi->FreeContextBuffer(out.pvBuffer);
        return status;
    }
    if (first && !s->server && no_reconnects) disable_reconnects(&s->ctx);
    s->have_ctx = TRUE;
    if (status == SEC_E_OK) s->done = TRUE;
    if (!first || s->server)
    {
        consumed = s->in_len - (in[1].BufferType == SECBUFFER_EXTRA ? in[1].cbBuffer : 0);
        s->received += consumed;
        memmove(s->in, s->in + consumed, s->in_len - consumed);
        s->in_len -= consumed;
    }
    if (out.cbBuffer && out.pvBuffer)
    {
        if (peer->in_len + out.cbBuffer > PIPE_SIZE) fail("token too large", 0);
        memcpy(peer->in + peer->in_len, out.pvBuffer, out.cbBuffer);
        peer->in_len += out.cbBuffer;
    }
    if (out.pvBuffer) sspi->FreeContextBuffer(out.pvBuffer);
    return status;
}

/* After DecryptMessage returned SEC_I_RENEGOTIATE (a TLS 1.3 ticket, on Windows and with
 * ours): InitializeSecurityContext takes the rest of the input and gives back what it does
 * not use. consumed: input bytes it used; a token for the peer (none expected) is copied
 * to token, token_size (capacity 4096). */
static SECURITY_STATUS continue_after_renegotiate(CredHandle *cred, CtxtHandle *ctx, BYTE *input, ULONG len, ULONG *consumed,
                                                  BYTE *token, ULONG *token_size)
{
    SecBuffer in[2], out;
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in }, out_desc = { SECBUFFER_VERSION, 1, &out };
    SECURITY_STATUS status;
    ULONG attrs;

    in[0].BufferType = SECBUFFER_TOKEN; in[0].cbBuffer = len; in[0].pvBuffer = input;
    in[1].BufferType = SECBUFFER_EMPTY; in[1].cbBuffer = 0; in[1].pvBuffer = NULL;
    out.BufferType = SECBUFFER_TOKEN; out.cbBuffer = 0; out.pvBuffer = NULL;
    status = sspi->InitializeSecurityContextW(cred, ctx, NULL, isc_req, 0, 0, &in_desc, 0, ctx, &out_desc, &attrs, NULL);
    *consumed = len - (in[1].BufferType == SECBUFFER_EXTRA ? in[1].cbBuffer : 0);
    if (status != SEC_E_OK) *consumed = 0;
    *token_size = 0;
    if (out.pvBuffer && out.cbBuffer <= 4096)
    {
        memcpy(token, out.pvBuffer, out.cbBuffer);
        *token_size = out.cbBuffer;
    }
    if (out.pvBuffer) sspi->FreeContextBuffer(out.pvBuffer);
    return status;
}

/* Reads post-handshake records (TLS 1.3 tickets) waiting for the client. */
static SECURITY_STATUS drain(struct side *s)
{
    while (s->in_len)
    {
        SecBuffer b[4];
        SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
        SECURITY_STATUS status;
        ULONG rest;
        int i;

        b[0].BufferType = SECBUFFER_DATA; b[0].cbBuffer = s->in_len; b[0].pvBuffer = s->in;
        for (i = 1; i < 4; i++) { b[i].BufferType = SECBUFFER_EMPTY; b[i].cbBuffer = 0; b[i].pvBuffer = NULL; }
        status = sspi->DecryptMessage(&s->ctx, &desc, 0, NULL);
        if (status != SEC_E_OK && status != SEC_I_RENEGOTIATE) return status;
        rest = 0;
        for (i = 0; i < 4; i++) if (b[i].BufferType == SECBUFFER_EXTRA) rest = b[i].cbBuffer;
        memmove(s->in, s->in + s->in_len - rest, rest);
        s->in_len = rest;
        if (status == SEC_I_RENEGOTIATE)
        {
            BYTE token[4096];
            ULONG used, token_size;

            if ((status = continue_after_renegotiate(s->cred, &s->ctx, s->in, s->in_len, &used, token, &token_size)) != SEC_E_OK)
                return status;
            memmove(s->in, s->in + used, s->in_len - used);
            s->in_len -= used;
        }
    }
    return SEC_E_OK;
}

static SECURITY_STATUS mem_handshake(struct side *c, struct side *s, const WCHAR *target)
{
    SECURITY_STATUS status;
    int rounds = 0;

    if ((status = mem_step(c, s, target)) != SEC_I_CONTINUE_NEEDED) return status;
    while (!c->done || !s->done)
    {
        if (++rounds > 50) return SEC_E_INTERNAL_ERROR;
        if (!s->done && s->in_len)
        {
            status = mem_step(s, c, NULL);
            if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED) return status;
        }
        if (!c->done && c->in_len)
        {
            status = mem_step(c, s, target);
            if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED) return status;
        }
    }
    return drain(c);
}

static void free_ctx(struct side *s)
{
    if (s->have_ctx) sspi->DeleteSecurityContext(&s->ctx);
    s->have_ctx = FALSE;
}

/* One sealed record in buf (header, data of size bytes, trailer, contiguous). */
static SECURITY_STATUS seal(CtxtHandle *ctx, const SecPkgContext_StreamSizes *sizes, BYTE *buf, ULONG size,
                            ULONG *record)
{
    SecBuffer b[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
    SECURITY_STATUS status;

    b[0].BufferType = SECBUFFER_STREAM_HEADER; b[0].cbBuffer = sizes->cbHeader; b[0].pvBuffer = buf;
    b[1].BufferType = SECBUFFER_DATA; b[1].cbBuffer = size; b[1].pvBuffer = buf + sizes->cbHeader;
    b[2].BufferType = SECBUFFER_STREAM_TRAILER; b[2].cbBuffer = sizes->cbTrailer;
    b[2].pvBuffer = buf + sizes->cbHeader + size;
    b[3].BufferType = SECBUFFER_EMPTY; b[3].cbBuffer = 0; b[3].pvBuffer = NULL;
    if ((status = sspi->EncryptMessage(ctx, 0, &desc, 0)) != SEC_E_OK) return status;
    if (b[0].cbBuffer != sizes->cbHeader) fail("header size changed", 0);
    *record = b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer;
    return SEC_E_OK;
}

/* Opens the first record of buf[0..len): the plaintext in data, data_size; the record length in used. */
static SECURITY_STATUS open_record(CtxtHandle *ctx, BYTE *buf, ULONG len, BYTE **data, ULONG *data_size,
                                   ULONG *used)
{
    SecBuffer b[4];
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
    SECURITY_STATUS status;
    int i;

    b[0].BufferType = SECBUFFER_DATA; b[0].cbBuffer = len; b[0].pvBuffer = buf;
    for (i = 1; i < 4; i++) { b[i].BufferType = SECBUFFER_EMPTY; b[i].cbBuffer = 0; b[i].pvBuffer = NULL; }
    status = sspi->DecryptMessage(ctx, &desc, 0, NULL);
    *data = NULL;
    *data_size = 0;
    *used = len;
    if (status == SEC_E_INCOMPLETE_MESSAGE) { *used = 0; return status; }
    if (status != SEC_E_OK && status != SEC_I_RENEGOTIATE) return status;
    for (i = 0; i < 4; i++)
    {
        if (b[i].BufferType == SECBUFFER_DATA) { *data = b[i].pvBuffer; *data_size = b[i].cbBuffer; }
        if (b[i].BufferType == SECBUFFER_EXTRA) *used = len - b[i].cbBuffer;
    }
    return status;
}

/* One 100-byte record from one side to the other, checked (mem-ctx rows). */
static void exchange_record(struct side *from, struct side *to)
{
    SecPkgContext_StreamSizes sizes;
    SECURITY_STATUS status;
    BYTE buf[512], *data;
    ULONG record, data_size, used;

    if ((status = sspi->QueryContextAttributesW(&from->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes)) != SEC_E_OK)
        fail("STREAM_SIZES", status);
    memset(buf + sizes.cbHeader, 'x', 100);
    if ((status = seal(&from->ctx, &sizes, buf, 100, &record)) != SEC_E_OK) fail("EncryptMessage", status);
    if ((status = open_record(&to->ctx, buf, record, &data, &data_size, &used)) != SEC_E_OK)
        fail("DecryptMessage", status);
    if (data_size != 100 || used != record) fail("record size", 0);
}

static struct side client_side, server_side;

static void mem_test(const struct test *t)
{
    struct cred_request cr = { 0 }, sr = { 1 };
    CredHandle ccred, scred;
    struct side *c = &client_side, *s = &server_side;
    const WCHAR *target = L"localhost";
    SECURITY_STATUS status;
    char desc[256] = "?";
    const char *why;
    double start, elapsed, cpu_start;
    long n = 0;

    no_reconnects = t->kind != T_RESUME;
    cr.proto = sr.proto = t->proto;
    cr.cipher = sr.cipher = t->cipher;
    cr.validate = t->validate;
    if (!(sr.cert = load_server_cert(t->ecdsa, &why)))
    {
        printf("R %s 0 - n/a:%s\n", t->name, why);
        return;
    }
    if (t->kind == T_MEMCRED)
    {
        enum { N = 200 };
        static CredHandle creds[N];
        SIZE_T before, after;
        int i;

        /* Warm up once: the first credential loads libraries and fills caches. */
        if ((status = acquire(&sr, &creds[0])) != SEC_E_OK) fail("AcquireCredentialsHandle", status);
        sspi->FreeCredentialsHandle(&creds[0]);
        before = private_bytes();
        for (i = 0; i < N; i++)
            if ((status = acquire(&sr, &creds[i])) != SEC_E_OK) fail("AcquireCredentialsHandle", status);
        after = private_bytes();
        if (!before) printf("R %s 0 - n/a:no-BENCH_UNIX_PID\n", t->name);
        else printf("R %s %.0f bytes server-rsa\n", t->name, ((double)after - (double)before) / N);
        for (i = 0; i < N; i++) sspi->FreeCredentialsHandle(&creds[i]);
        CertFreeCertificateContext(sr.cert);
        fflush(stdout);
        return;
    }
    if ((status = acquire(&cr, &ccred)) != SEC_E_OK) fail("client AcquireCredentialsHandle", status);
    if ((status = acquire(&sr, &scred)) != SEC_E_OK)
    {
        printf("R %s 0 - n/a:server-credential-%08lx\n", t->name, (unsigned long)status);
        sspi->FreeCredentialsHandle(&ccred);
        CertFreeCertificateContext(sr.cert);
        return;
    }

    if (t->kind == T_FULL || t->kind == T_RESUME)
    {
        ULONG full_received = 0;
        int resumed = -1, i;

        /* The first handshake fills the session cache (and warms up). */
        side_init(c, &ccred, FALSE);
        side_init(s, &scred, TRUE);
        if ((status = mem_handshake(c, s, target)) != SEC_E_OK) fail("handshake", status);
        full_received = c->received;
        if (counting)
            printf("C %s handshake-client %lld\nC %s handshake-server %lld\n", t->name, (long long)c->calls,
                   t->name, (long long)s->calls);
        free_ctx(c);
        free_ctx(s);
        start = now();
        cpu_start = cpu_now();
        do
        {
            side_init(c, &ccred, FALSE);
            side_init(s, &scred, TRUE);
            if ((status = mem_handshake(c, s, target)) != SEC_E_OK) fail("handshake", status);
            if (!n)
            {
                describe(&c->ctx, desc, sizeof(desc), &resumed);
                /* Without SECPKG_ATTR_SESSION_INFO: a resumed handshake carries no certificate. */
                if (resumed < 0) resumed = c->received < full_received / 2;
                if (t->kind == T_RESUME && !resumed)
                {
                    free_ctx(c);
                    free_ctx(s);
                    printf("R %s 0 - n/a:not-resumed(%s)\n", t->name, desc);
                    goto done;
                }
                if (counting && t->kind == T_RESUME)
                    printf("C %s handshake-client %lld\nC %s handshake-server %lld\n", t->name,
                           (long long)c->calls, t->name, (long long)s->calls);
            }
            free_ctx(c);
            free_ctx(s);
            n++;
        } while (bench_loop_more(n, elapsed = now() - start, seconds));
        bench_loop_done(t->name, n, 1, "hs");
        if (resumed > 0) strcat(desc, "/resumed");
        printf("R %s %.1f hs/s %s\n", t->name, n / elapsed, desc);
        /* Not read by tools/bench: thread CPU time per handshake, for comparing by hand. */
        printf("T %s %.1f us-cpu/hs\n", t->name, (cpu_now() - cpu_start) / n * 1e6);
        (void)i;
    }
    else if (t->kind == T_BULK)
    {
        SecPkgContext_StreamSizes sizes;
        BYTE *buf, *plain, *data;
        ULONG record, data_size, used;

        side_init(c, &ccred, FALSE);
        side_init(s, &scred, TRUE);
        if ((status = mem_handshake(c, s, target)) != SEC_E_OK) fail("handshake", status);
        describe(&c->ctx, desc, sizeof(desc), NULL);
        if (!cipher_matches(desc, t->cipher))
        {
            printf("R %s 0 - n/a:cipher-not-restricted(%s)\n", t->name, desc);
            free_ctx(c);
            free_ctx(s);
            goto done;
        }
        if ((status = sspi->QueryContextAttributesW(&c->ctx, SECPKG_ATTR_STREAM_SIZES, &sizes)) != SEC_E_OK)
            fail("STREAM_SIZES", status);
        buf = calloc(1, sizes.cbHeader + t->size + sizes.cbTrailer);
        plain = calloc(1, t->size);
        if (counting)
        {
            LONG64 enc = 0, dec = 0, before;
            int i;
            for (i = 0; i < 100; i++)
            {
                before = calls();
                if ((status = seal(&c->ctx, &sizes, buf, t->size, &record)) != SEC_E_OK) fail("EncryptMessage", status);
                enc += calls() - before;
                before = calls();
                if ((status = open_record(&s->ctx, buf, record, &data, &data_size, &used)) != SEC_E_OK)
                    fail("DecryptMessage", status);
                dec += calls() - before;
            }
            printf("C %s encrypt %.2f\nC %s decrypt %.2f\n", t->name, enc / 100.0, t->name, dec / 100.0);
        }
        start = now();
        do
        {
            int i;
            for (i = 0; i < 64; i++, n++)
            {
                /* The plaintext is copied into the record buffer first, as gnutls_record_send
                 * copies it for native: both start from the application's own buffer. */
                memcpy(buf + sizes.cbHeader, plain, t->size);
                if ((status = seal(&c->ctx, &sizes, buf, t->size, &record)) != SEC_E_OK) fail("EncryptMessage", status);
                if ((status = open_record(&s->ctx, buf, record, &data, &data_size, &used)) != SEC_E_OK)
                    fail("DecryptMessage", status);
                if (data_size != (ULONG)t->size || used != record) fail("record size", 0);
            }
        } while (bench_loop_more(n, elapsed = now() - start, seconds));
        bench_loop_done_records(t->name, n, 1, t->size);
        if (t->size >= 1024) printf("R %s %.1f MB/s %s\n", t->name, (double)n * t->size / elapsed / 1e6, desc);
        else printf("R %s %.0f msg/s %s\n", t->name, n / elapsed, desc);
        free(buf);
        free(plain);
        free_ctx(c);
        free_ctx(s);
    }
    else if (t->kind == T_MEMCTX)
    {
        enum { N = 200 };
        static struct side *sides;
        SIZE_T before, after;
        int i;

        /* Touch the token buffers now: their pages must not count as context memory. */
        if (!sides) sides = malloc(2 * N * sizeof(*sides));
        memset(sides, 0, 2 * N * sizeof(*sides));
        /* Warm up with more handshakes than a server's session cache holds (256 entries
         * in ours), so that bounded caches are full before counting. */
        for (i = 0; i < MEM_WARMUP; i++)
        {
            side_init(c, &ccred, FALSE);
            side_init(s, &scred, TRUE);
            if ((status = mem_handshake(c, s, target)) != SEC_E_OK) fail("handshake", status);
            if (!i) describe(&c->ctx, desc, sizeof(desc), NULL);
            free_ctx(c);
            free_ctx(s);
        }
        before = private_bytes();
        for (i = 0; i < N; i++)
        {
            side_init(&sides[2 * i], &ccred, FALSE);
            side_init(&sides[2 * i + 1], &scred, TRUE);
            if ((status = mem_handshake(&sides[2 * i], &sides[2 * i + 1], target)) != SEC_E_OK) fail("handshake", status);
            /* An established context has carried data: one 100-byte record each way, so that
             * what the first record allocates (record-layer keys) counts too, as in native. */
            exchange_record(&sides[2 * i], &sides[2 * i + 1]);
            exchange_record(&sides[2 * i + 1], &sides[2 * i]);
        }
        after = private_bytes();
        if (!before) printf("R %s 0 - n/a:no-BENCH_UNIX_PID\n", t->name);
        else printf("R %s %.0f bytes %s\n", t->name, ((double)after - (double)before) / (2 * N), desc);
        for (i = 0; i < 2 * N; i++) free_ctx(&sides[i]);
    }
done:
    sspi->FreeCredentialsHandle(&ccred);
    sspi->FreeCredentialsHandle(&scred);
    CertFreeCertificateContext(sr.cert);
    fflush(stdout);
}

/* ---- network ---- */

struct conn
{
    CredHandle *cred;
    SOCKET sock;
    CtxtHandle ctx;
    BOOL have_ctx;
    SecPkgContext_StreamSizes sizes;
    BYTE *in;                  /* received, not yet decrypted: in[in_pos .. in_len) */
    ULONG in_pos, in_len, in_cap;
    ULONG received;            /* handshake bytes received */
    LONG64 calls;
};

static void send_all(SOCKET sock, const void *data, ULONG size)
{
    const char *p = data;
    while (size)
    {
        int n = send(sock, p, size, 0);
        if (n <= 0) fail("send", WSAGetLastError());
        p += n;
        size -= n;
    }
}

/* Appends what the socket has to c->in (compacting first). */
static void receive_more(struct conn *c)
{
    int n;

    if (c->in_pos)
    {
        memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
        c->in_len -= c->in_pos;
        c->in_pos = 0;
    }
    if (c->in_len == c->in_cap) fail("receive buffer full", 0);
    n = recv(c->sock, (char *)c->in + c->in_len, c->in_cap - c->in_len, 0);
    if (n <= 0) fail("recv", WSAGetLastError());
    c->in_len += n;
}

static SOCKET connect_to(int port)
{
    struct sockaddr_in sa;
    struct linger lg = { 1, 0 };
    SOCKET sock = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int one = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(sock, (struct sockaddr *)&sa, sizeof(sa))) fail("connect", WSAGetLastError());
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, (char *)&one, sizeof(one));
    /* Close with a reset: no TIME_WAIT sockets piling up over thousands of handshakes. */
    setsockopt(sock, SOL_SOCKET, SO_LINGER, (char *)&lg, sizeof(lg));
    return sock;
}

static SECURITY_STATUS net_handshake(struct conn *c, CredHandle *cred, int port, const WCHAR *target)
{
    SECURITY_STATUS status;
    BOOL first = TRUE;

    c->sock = connect_to(port);
    c->cred = cred;
    c->have_ctx = FALSE;
    c->in_pos = c->in_len = c->received = 0;
    c->calls = 0;
    for (;;)
    {
        SecBuffer in[2], out;
        SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in }, out_desc = { SECBUFFER_VERSION, 1, &out };
        ULONG attrs;
        LONG64 before;

        if (!first && c->in_len == c->in_pos) receive_more(c);
        in[0].BufferType = SECBUFFER_TOKEN; in[0].cbBuffer = c->in_len - c->in_pos; in[0].pvBuffer = c->in + c->in_pos;
        in[1].BufferType = SECBUFFER_EMPTY; in[1].cbBuffer = 0; in[1].pvBuffer = NULL;
        out.BufferType = SECBUFFER_TOKEN; out.cbBuffer = 0; out.pvBuffer = NULL;
        before = calls();
        status = sspi->InitializeSecurityContextW(cred, first ? NULL : &c->ctx, (WCHAR *)target, isc_req, 0, 0,
                                                  first ? NULL : &in_desc, 0, &c->ctx, &out_desc, &attrs, NULL);
        c->calls += calls() - before;
        if (out.cbBuffer && out.pvBuffer) send_all(c->sock, out.pvBuffer, out.cbBuffer);
        if (out.pvBuffer) sspi->FreeContextBuffer(out.pvBuffer);
        if (status == SEC_E_INCOMPLETE_MESSAGE)
        {
            receive_more(c);
            continue;
        }
        if (status != SEC_E_OK && status != SEC_I_CONTINUE_NEEDED) return status;
        if (first && no_reconnects) disable_reconnects(&c->ctx);
        c->have_ctx = TRUE;
        if (!first)
        {
            ULONG consumed = in[0].cbBuffer - (in[1].BufferType == SECBUFFER_EXTRA ? in[1].cbBuffer : 0);
            c->in_pos += consumed;
            c->received += consumed;
        }
        first = FALSE;
        if (status == SEC_E_OK) break;
    }
    return sspi->QueryContextAttributesW(&c->ctx, SECPKG_ATTR_STREAM_SIZES, &c->sizes);
}

static void net_close(struct conn *c)
{
    if (c->have_ctx) sspi->DeleteSecurityContext(&c->ctx);
    c->have_ctx = FALSE;
    closesocket(c->sock);
}

/* Receives and decrypts application data until want bytes of plaintext arrived. */
static void net_receive(struct conn *c, ULONG want)
{
    while (want)
    {
        BYTE *data;
        ULONG size, used;
        SECURITY_STATUS status;

        if (c->in_len == c->in_pos) receive_more(c);
        status = open_record(&c->ctx, c->in + c->in_pos, c->in_len - c->in_pos, &data, &size, &used);
        if (status == SEC_E_INCOMPLETE_MESSAGE)
        {
            receive_more(c);
            continue;
        }
        if (status != SEC_E_OK && status != SEC_I_RENEGOTIATE) fail("DecryptMessage", status);
        c->in_pos += used;
        if (size > want) fail("unexpected data", size);
        want -= size;
        if (status == SEC_I_RENEGOTIATE)
        {
            BYTE token[4096];
            ULONG token_size;

            status = continue_after_renegotiate(c->cred, &c->ctx, c->in + c->in_pos, c->in_len - c->in_pos, &used, token,
                                                &token_size);
            if (status != SEC_E_OK) fail("InitializeSecurityContext after SEC_I_RENEGOTIATE", status);
            if (token_size) send_all(c->sock, token, token_size);
            c->in_pos += used;
        }
    }
}

static void net_send(struct conn *c, BYTE *buf, const void *data, ULONG size)
{
    ULONG record;
    SECURITY_STATUS status;

    if (data) memcpy(buf + c->sizes.cbHeader, data, size);
    if ((status = seal(&c->ctx, &c->sizes, buf, size, &record)) != SEC_E_OK) fail("EncryptMessage", status);
    send_all(c->sock, buf, record);
}

static void net_ping(struct conn *c, BYTE *buf)
{
    struct bench_command cmd = { BENCH_OP_PING, 0, 0 };
    net_send(c, buf, &cmd, sizeof(cmd));
    net_receive(c, 1);
}

static struct conn conn;

/* Plain connections (floor rows): consumes want bytes. */
static void plain_receive(struct conn *c, ULONG want)
{
    while (want)
    {
        ULONG n;

        if (c->in_len == c->in_pos) receive_more(c);
        n = min(want, c->in_len - c->in_pos);
        c->in_pos += n;
        want -= n;
    }
}

/* One SINK and one SOURCE phase of count records of size bytes, over TLS (tls) or in
 * clear. The plaintext of each record is copied from the application's buffer into the
 * send buffer (what gnutls_record_send does for the native client); records go out in
 * batches of BENCH_BATCH(size), one send() each, as native sends them. */
static void bulk_round(struct conn *c, BYTE *buf, BOOL tls, ULONG count, ULONG size, double *t_send, double *t_recv)
{
    static BYTE *batch, *plain;
    struct bench_command cmd = { BENCH_OP_SINK, count, size };
    ULONG per = BENCH_BATCH(size), off = 0, record, i;
    SECURITY_STATUS status;
    double start;

    if (!batch) batch = calloc(64, BENCH_MAX_RECORD + 1024);
    if (!plain) plain = calloc(1, BENCH_MAX_RECORD);
    start = now();
    if (tls) net_send(c, buf, &cmd, sizeof(cmd));
    else send_all(c->sock, &cmd, sizeof(cmd));
    for (i = 0; i < count; i++)
    {
        if (tls)
        {
            memcpy(batch + off + c->sizes.cbHeader, plain, size);
            if ((status = seal(&c->ctx, &c->sizes, batch + off, size, &record)) != SEC_E_OK)
                fail("EncryptMessage", status);
        }
        else record = size;
        off += record;
        if ((i + 1) % per == 0 || i + 1 == count)
        {
            send_all(c->sock, batch, off);
            off = 0;
        }
    }
    if (tls) net_receive(c, 1);
    else plain_receive(c, 1);
    *t_send += now() - start;
    cmd.op = BENCH_OP_SOURCE;
    start = now();
    if (tls)
    {
        net_send(c, buf, &cmd, sizeof(cmd));
        net_receive(c, count * size);
    }
    else
    {
        send_all(c->sock, &cmd, sizeof(cmd));
        plain_receive(c, count * size);
    }
    *t_recv += now() - start;
}

/* Bulk rows: an untimed round, then rounds until the time is up. */
static void bulk_rounds(const struct test *t, struct conn *c, BYTE *buf, BOOL tls, const char *desc)
{
    ULONG count = BENCH_ROUND(t->size);
    double t_send = 0, t_recv = 0, cpu_start;
    long rounds = 0;

    bulk_round(c, buf, tls, count, t->size, &t_send, &t_recv);
    t_send = t_recv = 0;
    cpu_start = cpu_now();
    do
    {
        bulk_round(c, buf, tls, count, t->size, &t_send, &t_recv);
        rounds++;
    } while (bench_loop_more(rounds, t_send + t_recv, seconds));
    bench_loop_done_records(t->name, rounds, count, t->size);
    bench_print_bulk(t->name, rounds, count, t->size, t_send + t_recv, cpu_now() - cpu_start, desc);
}

/* floor-hs, floor-resume: connect, a handshake's flights in clear (proto.h), close. */
static void floor_handshakes(const struct test *t, struct conn *c, int port)
{
    static BYTE msg[4096];
    unsigned int count, i;
    const struct bench_flight *f = bench_floor_flights(t->size, &count);
    struct bench_command cmd;
    double start, elapsed;
    long n = 0;

    start = now();
    do
    {
        c->sock = connect_to(port);
        c->in_pos = c->in_len = 0;
        for (i = 0; i < count; i++)
        {
            cmd.op = BENCH_OP_FLIGHT;
            cmd.count = f[i].send - sizeof(cmd);
            cmd.size = f[i].reply;
            memcpy(msg, &cmd, sizeof(cmd));
            send_all(c->sock, msg, f[i].send);
            plain_receive(c, f[i].reply);
        }
        closesocket(c->sock);
        n++;
    } while (bench_loop_more(n, elapsed = now() - start, seconds));
    bench_loop_done(t->name, n, 1, "hs");
    printf("R %s %.1f hs/s plain-tcp\n", t->name, n / elapsed);
}

static void net_test(const struct test *t, int port)
{
    struct cred_request cr = { 0 };
    CredHandle ccred;
    struct conn *c = &conn;
    SECURITY_STATUS status;
    char desc[256] = "?";
    double start, elapsed, cpu_start;
    long n = 0;
    int p = port + bench_port_for(t->ecdsa, t->cipher);
    static BYTE *buf;

    if (t->kind == T_MEMCTX || t->kind == T_MEMCRED) return;
    if (!buf) buf = malloc(BENCH_MAX_RECORD + 1024);
    if (!c->in)
    {
        c->in_cap = 4 * 65536;
        c->in = malloc(c->in_cap);
    }
    if (t->kind == T_FLOOR)
    {
        if (t->size <= 1) floor_handshakes(t, c, port + BENCH_PORT_PLAIN);
        else
        {
            c->sock = connect_to(port + BENCH_PORT_PLAIN);
            c->in_pos = c->in_len = 0;
            bulk_rounds(t, c, buf, FALSE, "plain-tcp");
            closesocket(c->sock);
        }
        fflush(stdout);
        return;
    }
    no_reconnects = t->kind != T_RESUME;
    cr.proto = t->proto;
    cr.validate = t->validate;
    if ((status = acquire(&cr, &ccred)) != SEC_E_OK)
    {
        printf("R %s 0 - n/a:client-credential-%08lx\n", t->name, (unsigned long)status);
        return;
    }

    if (t->kind == T_FULL || t->kind == T_RESUME)
    {
        ULONG full_received;
        int resumed = -1;

        if ((status = net_handshake(c, &ccred, p, L"localhost")) != SEC_E_OK)
        {
            printf("R %s 0 - n/a:handshake-%08lx\n", t->name, (unsigned long)status);
            net_close(c);
            goto done;
        }
        full_received = c->received;
        if (counting) printf("C %s handshake-client %lld\n", t->name, (long long)c->calls);
        if (t->kind == T_RESUME) net_ping(c, buf);
        net_close(c);
        start = now();
        cpu_start = cpu_now();
        do
        {
            if ((status = net_handshake(c, &ccred, p, L"localhost")) != SEC_E_OK) fail("handshake", status);
            if (!n)
            {
                describe(&c->ctx, desc, sizeof(desc), &resumed);
                if (resumed < 0) resumed = c->received < full_received / 2;
                if (t->kind == T_RESUME && !resumed)
                {
                    net_close(c);
                    printf("R %s 0 - n/a:not-resumed(%s)\n", t->name, desc);
                    goto done;
                }
                if (counting && t->kind == T_RESUME)
                    printf("C %s handshake-client %lld\n", t->name, (long long)c->calls);
            }
            if (t->kind == T_RESUME) net_ping(c, buf);
            net_close(c);
            n++;
        } while (bench_loop_more(n, elapsed = now() - start, seconds));
        bench_loop_done(t->name, n, 1, "hs");
        if (resumed > 0) strcat(desc, "/resumed");
        printf("R %s %.1f hs/s %s\n", t->name, n / elapsed, desc);
        printf("T %s %.1f us-cpu/hs\n", t->name, (cpu_now() - cpu_start) / n * 1e6);
    }
    else if (t->kind == T_BULK)
    {
        struct bench_command cmd;

        if ((status = net_handshake(c, &ccred, p, L"localhost")) != SEC_E_OK)
        {
            printf("R %s 0 - n/a:handshake-%08lx\n", t->name, (unsigned long)status);
            net_close(c);
            goto done;
        }
        describe(&c->ctx, desc, sizeof(desc), NULL);
        if (counting)
        {
            LONG64 before;
            cmd.op = BENCH_OP_PING; cmd.count = 0; cmd.size = 0;
            /* A first ping takes the post-handshake records (TLS 1.3 tickets, answered through
             * InitializeSecurityContext) out of the way; the second one is counted. */
            net_send(c, buf, &cmd, sizeof(cmd));
            net_receive(c, 1);
            before = calls();
            net_send(c, buf, &cmd, sizeof(cmd));
            printf("C %s encrypt %lld\n", t->name, (long long)(calls() - before));
            before = calls();
            net_receive(c, 1);
            printf("C %s decrypt %lld\n", t->name, (long long)(calls() - before));
        }
        bulk_rounds(t, c, buf, TRUE, desc);
        net_close(c);
    }
done:
    sspi->FreeCredentialsHandle(&ccred);
    fflush(stdout);
}

/* ---- main ---- */

static int trust_ca(void)
{
    DWORD size;
    BYTE *pem = read_file("ca.pem", &size), der[4096];
    DWORD der_size = sizeof(der);
    HCERTSTORE root;
    BOOL ok;

    if (!pem || !CryptStringToBinaryA((char *)pem, size, CRYPT_STRING_BASE64HEADER, der, &der_size, NULL, NULL))
        return 1;
    if (!(root = CertOpenStore(CERT_STORE_PROV_SYSTEM_A, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER, "Root"))) return 1;
    ok = CertAddEncodedCertificateToStore(root, X509_ASN_ENCODING, der, der_size, CERT_STORE_ADD_USE_EXISTING, NULL);
    CertCloseStore(root, 0);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    INIT_SECURITY_INTERFACE_W init;
    HMODULE secur32;
    WSADATA wsa;
    int i = 1, first, port = 0, net;

    QueryPerformanceFrequency(&freq);
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (i < argc && !strcmp(argv[i], "--count"))
    {
        counting = install_counter();
        if (!counting) printf("C - unavailable 0\n");
        i++;
    }
    if (argc - i >= 2 && !strcmp(argv[i], "--ops"))
    {
        bench_ops = atol(argv[i + 1]);
        i += 2;
    }
    if (argc - i >= 1 && !strcmp(argv[i], "idle"))
    {
        Sleep(INFINITE);
        return 0;
    }
    if (argc - i >= 2 && !strcmp(argv[i], "trust"))
    {
        datadir = argv[i + 1];
        return trust_ca();
    }
    if (argc - i < 3)
    {
        fprintf(stderr, "usage: bench.exe [--count] [--ops N] mem DATADIR SECONDS TEST... | net DATADIR SECONDS PORT TEST...\n");
        return 2;
    }
    net = !strcmp(argv[i], "net");
    datadir = argv[i + 1];
    seconds = atof(argv[i + 2]);
    first = i + 3;
    if (net) port = atoi(argv[first++]);

    if (!(secur32 = LoadLibraryA("secur32.dll"))) fail("LoadLibrary(secur32)", GetLastError());
    if (counting) find_counted_handle(secur32);
    if (!(init = (INIT_SECURITY_INTERFACE_W)(void *)GetProcAddress(secur32, "InitSecurityInterfaceW")) || !(sspi = init()))
        fail("InitSecurityInterfaceW", 0);
    if (WSAStartup(MAKEWORD(2, 2), &wsa)) fail("WSAStartup", 0);
    /* The first process of a Wine prefix starts Wine's services (wineboot, services.exe,
     * winedevice.exe...), which take CPU for about a second: let them finish before the
     * first timed row. */
    if (!net && seconds >= 0.5 && !bench_ops) Sleep(1500);

    for (i = first; i < argc; i++)
    {
        const struct test *t = find_test(argv[i]);
        if (!t)
        {
            fprintf(stderr, "bench: unknown test %s\n", argv[i]);
            return 2;
        }
        if (net) net_test(t, port);
        else if (t->kind != T_FLOOR) mem_test(t);
    }
    return 0;
}
