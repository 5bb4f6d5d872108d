/*
 * secur32 PE side: private declarations shared by its files.
 *
 * Rooms: sspi.c (exported entry points, argument checks, dispatch), handles.c (handle
 * table), credentials.c (AcquireCredentialsHandle for Schannel), certstore.c (certificates
 * and private keys -> engine credentials), certverify.c (server certificate validation
 * through crypt32), handshake.c (InitializeSecurityContext / AcceptSecurityContext),
 * record.c (EncryptMessage / DecryptMessage), attributes.c (QueryContextAttributes),
 * main.c (DllMain, function tables, package info), unixcall.c (the unix-call thunk),
 * stubs.c (exports that are not implemented yet: documented error codes).
 */

#ifndef SCHANNEL_GNUTLS_SECUR32_PRIV_H
#define SCHANNEL_GNUTLS_SECUR32_PRIV_H

#include <stdarg.h>
#include "ntstatus.h"
#define WIN32_NO_STATUS
#include "windef.h"
#include "winbase.h"
#include "winternl.h"
#include "winnls.h"
#include "wincrypt.h"
#define SECURITY_WIN32
#include "sspi.h"
#define SCHANNEL_USE_BLACKLISTS
#include "schannel.h"

#ifndef CERT_NCRYPT_KEY_SPEC
#define CERT_NCRYPT_KEY_SPEC 0xffffffff
#endif
#ifndef SCH_SEND_ROOT_CERT
#define SCH_SEND_ROOT_CERT 0x00040000
#endif
#ifndef SCH_USE_STRONG_CRYPTO
#define SCH_USE_STRONG_CRYPTO 0x00400000
#endif

#include "unixlib.h"

/* Package names Windows accepts for Schannel. */
#define SG_PACKAGE_UNISP_W   L"Microsoft Unified Security Protocol Provider"
#define SG_PACKAGE_SCHANNEL_W L"Schannel"
#define SG_PACKAGE_DEFAULT_TLS_W L"Default TLS SSP"

/* Protocol masks in SP_PROT_* terms. */
#define SG_SP_PROT_CLIENT_ALL (SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_1_CLIENT | SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT)
#define SG_SP_PROT_SERVER_ALL (SP_PROT_TLS1_0_SERVER | SP_PROT_TLS1_1_SERVER | SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER)

/* unixcall.c */
NTSTATUS sg_unix_init(void);
NTSTATUS sg_unix_call(enum sg_unix_call code, void *params);

/* A credential handle's object. */
struct sg_cred
{
    LONG refs;                 /* the handle and each context hold one */
    ULONG use;                 /* SECPKG_CRED_INBOUND or SECPKG_CRED_OUTBOUND */
    DWORD sp_protocols;        /* enabled SP_PROT_* bits for this role */
    DWORD sch_flags;           /* SCH_CRED_* / SCH_* flags from the caller */
    DWORD version;             /* SCHANNEL_CRED_VERSION or SCH_CREDENTIALS_VERSION, 0 for defaults */
    const CERT_CONTEXT *cert;  /* our certificate, or NULL */
    UINT64 unix_cred;
};

enum sg_ctx_state
{
    SG_CTX_HANDSHAKE,
    SG_CTX_ESTABLISHED,
    SG_CTX_CLOSED,
    SG_CTX_FAILED
};

/* A security context's object. */
struct sg_ctx
{
    struct sg_cred *cred;
    UINT64 session;
    BOOL server;
    enum sg_ctx_state state;
    ULONG req;                 /* ISC_REQ_* or ASC_REQ_* of the last call */
    WCHAR *target;             /* the client's pszTargetName, for validation; may be NULL */
    struct sg_session_info info;
    BOOL shutdown_pending;     /* ApplyControlToken(SCHANNEL_SHUTDOWN) seen */
    BOOL close_sent;           /* our close_notify was handed out */
    BYTE *scratch;             /* token staging area */
    ULONG scratch_size;
};

/* handles.c: opaque handle values, validated on every use. */
enum sg_handle_kind { SG_HANDLE_CRED = 1, SG_HANDLE_CTX = 2 };
BOOL sg_handle_alloc(enum sg_handle_kind kind, void *object, SecHandle *handle);
void *sg_handle_get(enum sg_handle_kind kind, const SecHandle *handle);
void *sg_handle_free(enum sg_handle_kind kind, const SecHandle *handle);

/* credentials.c */
SECURITY_STATUS sg_acquire_credentials(ULONG use, const void *auth_data, CredHandle *handle, TimeStamp *expiry);
SECURITY_STATUS sg_free_credentials(const CredHandle *handle);
void sg_cred_addref(struct sg_cred *cred);
void sg_cred_release(struct sg_cred *cred);

/* certstore.c: the credential-store module. */
struct sg_cert_material
{
    BYTE *chain;               /* LE32 length + DER, leaf first, as unixlib.h wants */
    DWORD chain_size;
    BYTE *key;                 /* key blob in key_format; wiped on free */
    DWORD key_size;
    DWORD key_format;          /* SG_KEY_* */
};
SECURITY_STATUS sg_certstore_export(const CERT_CONTEXT *cert, BOOL with_key, BOOL send_root,
                                    struct sg_cert_material *material);
void sg_certstore_free(struct sg_cert_material *material);
const CERT_CONTEXT *sg_certstore_peer_context(const BYTE *chain, DWORD size);

/* certverify.c */
SECURITY_STATUS sg_verify_server_chain(struct sg_ctx *ctx);
const CERT_CONTEXT *sg_peer_certificate(struct sg_ctx *ctx);

/* handshake.c */
SECURITY_STATUS sg_initialize_context(CredHandle *cred_handle, CtxtHandle *ctx_handle, const WCHAR *target,
                                      ULONG req, SecBufferDesc *input, CtxtHandle *new_handle,
                                      SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry);
SECURITY_STATUS sg_accept_context(CredHandle *cred_handle, CtxtHandle *ctx_handle, SecBufferDesc *input,
                                  ULONG req, CtxtHandle *new_handle, SecBufferDesc *output, ULONG *attrs,
                                  TimeStamp *expiry);
SECURITY_STATUS sg_delete_context(CtxtHandle *handle);
SECURITY_STATUS sg_apply_control_token(CtxtHandle *handle, SecBufferDesc *input);
SecBuffer *sg_find_buffer(SecBufferDesc *desc, ULONG type, ULONG start);
SECURITY_STATUS sg_status_from_engine(enum sg_status status);

/* record.c */
SECURITY_STATUS sg_encrypt_message(CtxtHandle *handle, ULONG qop, SecBufferDesc *message, ULONG seq);
SECURITY_STATUS sg_decrypt_message(CtxtHandle *handle, SecBufferDesc *message, ULONG seq, ULONG *qop);

/* attributes.c */
SECURITY_STATUS sg_query_context_attributes(CtxtHandle *handle, ULONG attribute, void *buffer, BOOL unicode);

/* main.c */
BOOL sg_unix_ready(void);
void *sg_alloc(SIZE_T size);
void *sg_alloc_zero(SIZE_T size);
void sg_free(void *ptr);
void *sg_context_buffer_alloc(SIZE_T size);  /* freed by FreeContextBuffer */
void sg_wipe(void *ptr, SIZE_T size);
WCHAR *sg_strdupAW(const char *str);
WCHAR *sg_strdupW(const WCHAR *str);
BOOL sg_is_schannel_package(const WCHAR *name);

#endif /* SCHANNEL_GNUTLS_SECUR32_PRIV_H */
