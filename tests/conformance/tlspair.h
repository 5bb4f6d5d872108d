/*
 * An in-memory Schannel client and server connected to each other, for the record and
 * attribute conformance tests (record.c, attributes.c). Both ends are SSPI contexts of the
 * DLL under test; bytes travel through each side's "in" buffer.
 */

#ifndef SCHANNEL_GNUTLS_TESTS_TLSPAIR_H
#define SCHANNEL_GNUTLS_TESTS_TLSPAIR_H

#include <stdarg.h>
#include <windef.h>
#include <winbase.h>
#include <winternl.h>
#include <wincrypt.h>
#define SECURITY_WIN32
#include <security.h>
#define SCHANNEL_USE_BLACKLISTS
#include <schannel.h>

#define PAIR_MAX_IN 0x40000

enum pair_mode
{
    PAIR_TLS12,        /* SCHANNEL_CRED, TLS 1.2 only */
    PAIR_TLS13,        /* SCH_CREDENTIALS, TLS 1.3 only */
};

struct pair_side
{
    const char *name;
    BOOL server;
    CredHandle cred;
    CtxtHandle ctx;
    BOOL have_cred, have_ctx, done;
    BYTE in[PAIR_MAX_IN];      /* bytes the peer sent, not consumed yet */
    ULONG in_len;
};

struct pair
{
    enum pair_mode mode;
    struct pair_side client, server;
    PCCERT_CONTEXT cert;
    HCERTSTORE store;
    SecPkgContext_StreamSizes client_sizes, server_sizes;
};

/* Sets up credentials and runs the handshake; post-handshake records (TLS 1.3 tickets)
 * stay in client.in. FALSE (and a skip) when the mode is unavailable. */
BOOL pair_open(struct pair *pair, enum pair_mode mode);
void pair_close(struct pair *pair);

/* One ISC/ASC call on side with its whole input; the token goes to the peer. Returns the
 * status; *extra is the SECBUFFER_EXTRA count (the input is trimmed to it). */
SECURITY_STATUS pair_step(struct pair_side *side, struct pair_side *peer, ULONG *extra);

/* EncryptMessage of size bytes of data on side (stream buffers sized from sizes); the
 * record goes to the peer's input. Returns the status; *record_len its length. */
SECURITY_STATUS pair_encrypt(struct pair_side *side, struct pair_side *peer, const SecPkgContext_StreamSizes *sizes,
                             const void *data, ULONG size, ULONG *record_len);

/* Hands the client everything the server queued after the handshake (tickets): decrypts
 * and, on SEC_I_RENEGOTIATE, calls ISC as a real caller does. Returns how many
 * SEC_I_RENEGOTIATE were seen. */
unsigned int pair_drain_client(struct pair *pair);

/* DecryptMessage's buffers: DATA (len bytes at data) and three EMPTY. */
void pair_init_decrypt(SecBufferDesc *desc, SecBuffer bufs[4], BYTE *data, ULONG len);
/* An ISC/ASC call's buffers: TOKEN (len bytes at in) and EMPTY in, one empty TOKEN out. */
void pair_init_token(SecBufferDesc *in_desc, SecBuffer in_bufs[2], BYTE *in, ULONG len, SecBufferDesc *out_desc,
                     SecBuffer *out_buf);
/* EncryptMessage's buffers for len bytes of data at rec + cbHeader: STREAM_HEADER at rec,
 * DATA, STREAM_TRAILER right after it (sized from sizes), and one EMPTY. */
void pair_init_encrypt(SecBufferDesc *desc, SecBuffer bufs[4], BYTE *rec, ULONG len,
                       const SecPkgContext_StreamSizes *sizes);

/* Setup shared with the tests that run their own connections (client.c, clientalert.c,
 * hostile.c, threads.c); these assert nothing. */

/* The test server certificate (server_rsa_pfx, CAPI key set) with its private key; NULL when
 * the import failed (*store may still need closing). */
PCCERT_CONTEXT pair_import_server_cert(HCERTSTORE *store);
/* Frees what pair_import_server_cert returned and deletes the key container it made. */
void pair_free_server_cert(PCCERT_CONTEXT cert, HCERTSTORE store);
/* A Schannel credential of mode (PAIR_TLS12: SCHANNEL_CRED; PAIR_TLS13: SCH_CREDENTIALS) with
 * dwFlags flags, and cert as its only certificate when not NULL. */
SECURITY_STATUS pair_acquire(enum pair_mode mode, BOOL server, DWORD flags, PCCERT_CONTEXT cert, CredHandle *handle);

#endif
