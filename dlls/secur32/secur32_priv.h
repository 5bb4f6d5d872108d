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
#ifndef SEC_I_INCOMPLETE_CREDENTIALS
#define SEC_I_INCOMPLETE_CREDENTIALS ((HRESULT)0x00090320)
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
    DWORD dtls_protocols;      /* enabled SP_PROT_DTLS* bits for this role (datagram.c) */
    DWORD sch_flags;           /* SCH_CRED_* / SCH_* flags from the caller */
    DWORD version;             /* SCHANNEL_CRED_VERSION or SCH_CREDENTIALS_VERSION, 0 for defaults */
    const CERT_CONTEXT *cert;  /* our certificate, or NULL */
    UINT64 unix_cred;
    DWORD disabled_algs;       /* SG_ALG_* taken out by the caller's restrictions */
    DWORD session_lifespan;    /* ms a client session stays in the cache */
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
    BOOL renegotiating;        /* TLS 1.2 HelloRequest seen: ISC runs a new handshake */
    BOOL post_handshake;       /* SEC_I_RENEGOTIATE for TLS 1.3 post-handshake messages was returned */
    BOOL alert_pending;        /* ApplyControlToken(SCHANNEL_ALERT) seen */
    DWORD alert_type;          /* TLS1_ALERT_WARNING / TLS1_ALERT_FATAL */
    DWORD alert_number;        /* TLS alert description */
    BOOL reconnects_disabled;  /* ApplyControlToken(SCHANNEL_SESSION) with SSL_SESSION_DISABLE_RECONNECTS */
    BOOL creds_needed;         /* client: SEC_I_INCOMPLETE_CREDENTIALS returned, the next call answers */
    BYTE *scratch;             /* token staging area */
    ULONG scratch_size;
    BOOL datagram;             /* DTLS context (ISC_REQ_DATAGRAM / ASC_REQ_DATAGRAM): datagram.c */
    USHORT dtls_mtu;           /* DTLS path MTU */
    struct sg_client_step *client_step; /* client: what handshake steps carry besides tokens (clientctx.c) */
};

/* handles.c: opaque handle values, validated on every use. */
enum sg_handle_kind
{
    SG_HANDLE_CRED = 1,        /* Schannel */
    SG_HANDLE_CTX = 2,
    SG_HANDLE_LSA_CRED,        /* an LSA package: NTLM, Kerberos (lsa.c) */
    SG_HANDLE_LSA_CTX,
    SG_HANDLE_NEGO_CRED,       /* Negotiate (negotiate.c) */
    SG_HANDLE_NEGO_CTX,
    SG_HANDLE_KIND_COUNT
};
typedef void (*sg_handle_destructor)(void *object);
/* A handle pinned for the length of one call: its object stays alive until sg_handle_unpin
 * even when the handle is freed meanwhile, and a context's pins are taken one at a time. */
struct sg_pin
{
    struct sg_handle_slot *slot;
    enum sg_handle_kind kind;  /* 0 when nothing is pinned */
    void *object;
    BOOL locked;               /* the context's lock is held */
};
BOOL sg_handle_alloc(enum sg_handle_kind kind, void *object, SecHandle *handle);
void *sg_handle_get(enum sg_handle_kind kind, const SecHandle *handle);
/* Unpublishes the handle; destroy runs when the last pin (or at once, when none) goes. */
BOOL sg_handle_free(enum sg_handle_kind kind, const SecHandle *handle, sg_handle_destructor destroy);
enum sg_handle_kind sg_handle_kind_of(const SecHandle *handle);  /* 0 for NULL, garbage, freed */
enum sg_handle_kind sg_handle_pin(const SecHandle *handle, BOOL serialize, struct sg_pin *pin);  /* 0: invalid */
void sg_handle_unpin(struct sg_pin *pin);

/* credentials.c */
SECURITY_STATUS sg_acquire_credentials(ULONG use, const void *auth_data, CredHandle *handle, TimeStamp *expiry,
                                       const void *caller);
SECURITY_STATUS sg_free_credentials(const CredHandle *handle);
void sg_cred_addref(struct sg_cred *cred);
void sg_cred_release(struct sg_cred *cred);

SECURITY_STATUS sg_query_credentials_attributes(CredHandle *handle, ULONG attribute, void *buffer, BOOL unicode);
SECURITY_STATUS sg_cred_engine_for_cert(const struct sg_cred *cred, const CERT_CONTEXT *cert, UINT64 *unix_cred);
void sg_cred_engine_free(UINT64 unix_cred);

/* clientcert.c: certificates the server asks the client for. */
BOOL sg_client_cert_default(struct sg_ctx *ctx, ULONG req);
SECURITY_STATUS sg_client_cert_answer(struct sg_ctx *ctx, CredHandle *cred_handle);
SECURITY_STATUS sg_client_query_issuer_list(struct sg_ctx *ctx, void *buffer);

/* sessioncache.c: the client session cache (reuse: same target, credential and process,
 * entry not expired). */
void sg_session_cache_store(struct sg_ctx *ctx);
BOOL sg_session_cache_resume(struct sg_ctx *ctx);
void sg_session_cache_forget_cred(const struct sg_cred *cred);
void sg_session_cache_empty(void);   /* SslEmptyCache */

/* clientctx.c: client-side context helpers (ALPN, session info, ISC_RET flags). */
SECURITY_STATUS sg_client_set_alpn(struct sg_ctx *ctx, SecBufferDesc *input);
SECURITY_STATUS sg_client_query_alpn(struct sg_ctx *ctx, void *buffer);
SECURITY_STATUS sg_client_query_session_info(struct sg_ctx *ctx, void *buffer);
ULONG sg_client_ret_flags(ULONG req);
SECURITY_STATUS sg_client_status_from_alert(SECURITY_STATUS status, UINT32 alert);
SECURITY_STATUS sg_client_status_from_peer_alert(UINT32 alert);
BOOL sg_client_put_alert(SecBufferDesc *output, BOOL allocate, const BYTE *bytes, ULONG size);
void sg_client_validation_alert(struct sg_ctx *ctx, SECURITY_STATUS status, SecBufferDesc *output, BOOL allocate);
BOOL sg_client_begin_renegotiation(struct sg_ctx *ctx);
/* A client handshake step (unix_client_handshake) with what used to take calls of their own:
 * the ALPN offer, the cached session and the certificate-request watch go with the first
 * step; the final one brings back the peer's chain and the resumption data. */
NTSTATUS sg_client_step(struct sg_ctx *ctx, struct sg_handshake_params *params);
void sg_client_step_free(struct sg_ctx *ctx);
/* Parked results of the final step, taken by their user (NULL when there are none). */
BOOL sg_client_take_resume(struct sg_ctx *ctx, BYTE **data, DWORD *size);  /* FALSE: ask the engine */
BYTE *sg_client_take_peer_certs(struct sg_ctx *ctx, DWORD *size);
/* The first step's inputs (sessioncache.c: a copy of the cached data, which it keeps). */
BOOL sg_client_offer_resume(struct sg_ctx *ctx, const BYTE *data, DWORD size);

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

/* server.c: server credentials and accepted connections. */
SECURITY_STATUS sg_server_cred_setup(struct sg_cred *cred, const CERT_CONTEXT * const *certs, DWORD count);
SECURITY_STATUS sg_server_session_setup(struct sg_ctx *ctx, ULONG req, SecBufferDesc *input);
SECURITY_STATUS sg_server_request_certificate(struct sg_ctx *ctx);
SECURITY_STATUS sg_set_credentials_attributes(CredHandle *handle, ULONG attribute, void *buffer, ULONG size);

/* certverify.c */
SECURITY_STATUS sg_verify_server_chain(struct sg_ctx *ctx);
const CERT_CONTEXT *sg_peer_certificate(struct sg_ctx *ctx);

/* handshake.c */
/* cred and ctx: the objects sspi.c pinned for cred_handle and ctx_handle (NULL for none). */
SECURITY_STATUS sg_initialize_context(struct sg_cred *cred, CredHandle *cred_handle, struct sg_ctx *ctx,
                                      CtxtHandle *ctx_handle, const WCHAR *target, ULONG req, SecBufferDesc *input,
                                      CtxtHandle *new_handle, SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry);
SECURITY_STATUS sg_accept_context(struct sg_cred *cred, CredHandle *cred_handle, struct sg_ctx *ctx,
                                  CtxtHandle *ctx_handle, SecBufferDesc *input, ULONG req, CtxtHandle *new_handle,
                                  SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry);
SECURITY_STATUS sg_delete_context(CtxtHandle *handle);
SECURITY_STATUS sg_apply_control_token(CtxtHandle *handle, SecBufferDesc *input);
SECURITY_STATUS sg_status_from_engine(enum sg_status status);
void sg_set_far_expiry(TimeStamp *expiry);
BOOL sg_manual_validation(const struct sg_ctx *ctx);
void sg_ctx_destroy(struct sg_ctx *ctx);
SECURITY_STATUS sg_context_call_end(struct sg_ctx *ctx, BOOL created, const CtxtHandle *ctx_handle,
                                    CtxtHandle *new_handle, SECURITY_STATUS status, ULONG *attrs, ULONG ret_flags,
                                    TimeStamp *expiry);

/* secbuffer.c: SecBuffer helpers of the stream and datagram paths (SecBuffer types only). */
BOOL sg_is_ip_literal(const WCHAR *name);
SecBuffer *sg_find_buffer(SecBufferDesc *desc, ULONG type, ULONG start);
SecBuffer *sg_spare_input_buffer(SecBufferDesc *input, const SecBuffer *token);
void sg_set_spare(SecBuffer *spare, ULONG type, ULONG size);
void sg_set_buffer(SecBufferDesc *message, ULONG index, ULONG type, BYTE *ptr, ULONG size);
SECURITY_STATUS sg_write_token(SecBufferDesc *output, BOOL allocate, const BYTE *token, ULONG size);
BOOL sg_find_record_buffers(SecBufferDesc *message, SecBuffer **header, SecBuffer **data, SecBuffer **trailer);
BOOL sg_record_layout_valid(ULONG total, ULONG consumed, ULONG data_offset, ULONG data_size);
void sg_report_record(SecBufferDesc *message, BYTE *base, ULONG total, ULONG consumed, ULONG data_offset,
                      ULONG data_size, BOOL stream);
void sg_report_missing(SecBufferDesc *message, ULONG missing);

/* record.c */
/* The message calls take the context object sspi.c pinned and locked for them. */
SECURITY_STATUS sg_encrypt_message(struct sg_ctx *ctx, ULONG qop, SecBufferDesc *message, ULONG seq);
SECURITY_STATUS sg_decrypt_message(struct sg_ctx *ctx, SecBufferDesc *message, ULONG seq, ULONG *qop);
SECURITY_STATUS sg_ctx_usable(struct sg_ctx *ctx, struct sg_ctx **ret);
SECURITY_STATUS sg_encrypt_record(struct sg_ctx *ctx, enum sg_unix_call call, SecBuffer *header, SecBuffer *data,
                                  SecBuffer *trailer);

/* datagram.c: DTLS contexts. */
BOOL sg_dgram_wanted(const struct sg_ctx *ctx, const CtxtHandle *ctx_handle, ULONG req);
SECURITY_STATUS sg_dgram_initialize_context(CredHandle *cred_handle, CtxtHandle *ctx_handle, const WCHAR *target,
                                            ULONG req, SecBufferDesc *input, CtxtHandle *new_handle,
                                            SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry);
SECURITY_STATUS sg_dgram_accept_context(CredHandle *cred_handle, CtxtHandle *ctx_handle, SecBufferDesc *input,
                                        ULONG req, CtxtHandle *new_handle, SecBufferDesc *output, ULONG *attrs,
                                        TimeStamp *expiry);
SECURITY_STATUS sg_dgram_encrypt_message(struct sg_ctx *ctx, ULONG qop, SecBufferDesc *message, ULONG seq);
SECURITY_STATUS sg_dgram_decrypt_message(struct sg_ctx *ctx, SecBufferDesc *message, ULONG seq, ULONG *qop);
SECURITY_STATUS sg_dgram_mtu_attribute(CtxtHandle *handle, void *buffer, ULONG size, BOOL set);
DWORD sg_dgram_sp_protocol(const struct sg_ctx *ctx);
SECURITY_STATUS sg_dgram_srtp_parameters(struct sg_ctx *ctx, void *buffer);

/* attributes.c */
SECURITY_STATUS sg_query_context_attributes(CtxtHandle *handle, ULONG attribute, void *buffer, BOOL unicode);
SECURITY_STATUS sg_set_context_attributes(CtxtHandle *handle, ULONG attribute, void *buffer, ULONG size);
void sg_attributes_forget_context(const struct sg_ctx *ctx);

/* lsa.c: the LSA-mode packages Wine ships (msv1_0.dll = NTLM, kerberos.dll), in-process. */
struct sg_lsa_object;
ULONG sg_lsa_package_count(void);
const SecPkgInfoW *sg_lsa_package_info(ULONG index);
int sg_lsa_find_package(const WCHAR *name);
const WCHAR *sg_lsa_object_package(const struct sg_lsa_object *object);
SECURITY_STATUS sg_lsa_acquire_credentials(int index, const WCHAR *principal, ULONG use, LUID *logon_id,
                                           void *auth_data, SEC_GET_KEY_FN get_key, void *get_key_arg,
                                           struct sg_lsa_object **cred, TimeStamp *expiry);
SECURITY_STATUS sg_lsa_free_credentials(struct sg_lsa_object *cred);
SECURITY_STATUS sg_lsa_query_credentials_attributes(struct sg_lsa_object *cred, ULONG attribute, void *buffer);
SECURITY_STATUS sg_lsa_set_credentials_attributes(struct sg_lsa_object *cred, ULONG attribute, void *buffer, ULONG size);
SECURITY_STATUS sg_lsa_initialize_context(struct sg_lsa_object *cred, struct sg_lsa_object *ctx, const WCHAR *target,
                                          ULONG req, ULONG data_rep, SecBufferDesc *input,
                                          struct sg_lsa_object **new_ctx, SecBufferDesc *output, ULONG *attrs,
                                          TimeStamp *expiry);
SECURITY_STATUS sg_lsa_accept_context(struct sg_lsa_object *cred, struct sg_lsa_object *ctx, SecBufferDesc *input,
                                      ULONG req, ULONG data_rep, struct sg_lsa_object **new_ctx,
                                      SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry);
SECURITY_STATUS sg_lsa_delete_context(struct sg_lsa_object *ctx);
SECURITY_STATUS sg_lsa_query_context_attributes(struct sg_lsa_object *ctx, ULONG attribute, void *buffer);
SECURITY_STATUS sg_lsa_set_context_attributes(struct sg_lsa_object *ctx, ULONG attribute, void *buffer, ULONG size);
SECURITY_STATUS sg_lsa_apply_control_token(struct sg_lsa_object *ctx, SecBufferDesc *input);
SECURITY_STATUS sg_lsa_complete_auth_token(struct sg_lsa_object *ctx, SecBufferDesc *token);
SECURITY_STATUS sg_lsa_query_context_token(struct sg_lsa_object *ctx, HANDLE *token);
SECURITY_STATUS sg_lsa_make_signature(struct sg_lsa_object *ctx, ULONG qop, SecBufferDesc *message, ULONG seq);
SECURITY_STATUS sg_lsa_verify_signature(struct sg_lsa_object *ctx, SecBufferDesc *message, ULONG seq, ULONG *qop);
SECURITY_STATUS sg_lsa_encrypt_message(struct sg_lsa_object *ctx, ULONG qop, SecBufferDesc *message, ULONG seq);
SECURITY_STATUS sg_lsa_decrypt_message(struct sg_lsa_object *ctx, SecBufferDesc *message, ULONG seq, ULONG *qop);

/* negotiate.c: Negotiate over the LSA packages (Kerberos first, then NTLM). */
struct sg_nego_cred;
struct sg_nego_ctx;
SECURITY_STATUS sg_nego_acquire_credentials(const WCHAR *principal, ULONG use, LUID *logon_id, void *auth_data,
                                            SEC_GET_KEY_FN get_key, void *get_key_arg, struct sg_nego_cred **cred,
                                            TimeStamp *expiry);
SECURITY_STATUS sg_nego_free_credentials(struct sg_nego_cred *cred);
struct sg_lsa_object *sg_nego_cred_package(struct sg_nego_cred *cred);
SECURITY_STATUS sg_nego_initialize_context(struct sg_nego_cred *cred, struct sg_nego_ctx *ctx, const WCHAR *target,
                                           ULONG req, ULONG data_rep, SecBufferDesc *input,
                                           struct sg_nego_ctx **new_ctx, SecBufferDesc *output, ULONG *attrs,
                                           TimeStamp *expiry);
SECURITY_STATUS sg_nego_accept_context(struct sg_nego_cred *cred, struct sg_nego_ctx *ctx, SecBufferDesc *input,
                                       ULONG req, ULONG data_rep, struct sg_nego_ctx **new_ctx,
                                       SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry);
SECURITY_STATUS sg_nego_delete_context(struct sg_nego_ctx *ctx);
struct sg_lsa_object *sg_nego_ctx_package(struct sg_nego_ctx *ctx);

/* main.c */
BOOL sg_unix_ready(void);
void *sg_alloc(SIZE_T size);
void *sg_alloc_zero(SIZE_T size);
void sg_free(void *ptr);
void *sg_pool_alloc(SIZE_T size);            /* zeroed; freed by sg_pool_free */
void sg_pool_free(void *ptr);
void *sg_context_buffer_alloc(SIZE_T size);  /* freed by FreeContextBuffer */
void sg_wipe(void *ptr, SIZE_T size);
WCHAR *sg_strdupAW(const char *str);
WCHAR *sg_strdupW(const WCHAR *str);
BOOL sg_is_schannel_package(const WCHAR *name);
BOOL sg_is_negotiate_package(const WCHAR *name);

#endif /* SCHANNEL_GNUTLS_SECUR32_PRIV_H */
