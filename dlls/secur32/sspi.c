/*
 * The exported SSPI entry points: argument checks, A/W conversion, and dispatch to the
 * package a handle belongs to.
 *
 * secur32 hosts three families of packages: Schannel (ours, in-process), the LSA packages
 * Wine ships (NTLM from msv1_0.dll, Kerberos from kerberos.dll; lsa.c) and Negotiate on top
 * of them (negotiate.c). Every handle carries its family in its tag (handles.c); each entry
 * point looks the handle up first, so a NULL, garbage, freed or wrong-kind handle gives
 * SEC_E_INVALID_HANDLE before any package sees it.
 *
 * That lookup pins the handle (handles.c) until the call returns: a DeleteSecurityContext or
 * FreeCredentialsHandle from another thread only unpublishes the handle, and the object
 * goes when the last call using it ends. The packages' own lookups of the same handle
 * values during the call therefore find the pinned object or nothing. Calls on one context
 * run one at a time (a concurrent EncryptMessage and DecryptMessage, as .NET's SslStream
 * makes them, share the engine session); calls on different contexts and credentials run
 * in parallel.
 */

#include "secur32_priv.h"
#include "rpc.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

/* Not in Wine's sspi.h. */
#ifndef SEC_WINNT_AUTH_IDENTITY_VERSION
#define SEC_WINNT_AUTH_IDENTITY_VERSION 0x200
#endif
SECURITY_STATUS WINAPI QueryContextAttributesExW(CtxtHandle *context, ULONG attribute, void *buffer, ULONG size);
SECURITY_STATUS WINAPI QueryContextAttributesExA(CtxtHandle *context, ULONG attribute, void *buffer, ULONG size);
SECURITY_STATUS WINAPI QueryCredentialsAttributesExW(CredHandle *cred, ULONG attribute, void *buffer, ULONG size);
SECURITY_STATUS WINAPI QueryCredentialsAttributesExA(CredHandle *cred, ULONG attribute, void *buffer, ULONG size);
SECURITY_STATUS WINAPI SetCredentialsAttributesW(CredHandle *cred, ULONG attribute, void *buffer, ULONG size);
SECURITY_STATUS WINAPI SetCredentialsAttributesA(CredHandle *cred, ULONG attribute, void *buffer, ULONG size);

/* The LSA package object behind a pinned LSA or Negotiate context handle, or NULL. */
static struct sg_lsa_object *lsa_context(const struct sg_pin *pin)
{
    switch (pin->kind)
    {
    case SG_HANDLE_LSA_CTX: return pin->object;
    case SG_HANDLE_NEGO_CTX: return sg_nego_ctx_package(pin->object);
    default: return NULL;
    }
}

static struct sg_lsa_object *lsa_credentials(const struct sg_pin *pin)
{
    switch (pin->kind)
    {
    case SG_HANDLE_LSA_CRED: return pin->object;
    case SG_HANDLE_NEGO_CRED: return sg_nego_cred_package(pin->object);
    default: return NULL;
    }
}

/* Destructors of the LSA and Negotiate objects, run when their handle's last user ends. */
static void lsa_object_destroy_cred(void *object)
{
    sg_lsa_free_credentials(object);
}

static void nego_object_destroy_cred(void *object)
{
    sg_nego_free_credentials(object);
}

static void lsa_object_destroy_ctx(void *object)
{
    sg_lsa_delete_context(object);
}

static void nego_object_destroy_ctx(void *object)
{
    sg_nego_delete_context(object);
}

static WCHAR *strdup_nAW(const unsigned char *str, ULONG len, ULONG *lenW)
{
    WCHAR *ret;
    int n;

    *lenW = 0;
    if (!str || !len) return NULL;
    n = MultiByteToWideChar(CP_ACP, 0, (const char *)str, len, NULL, 0);
    if (!(ret = sg_alloc((n + 1) * sizeof(WCHAR)))) return NULL;
    MultiByteToWideChar(CP_ACP, 0, (const char *)str, len, ret, n);
    ret[n] = 0;
    *lenW = n;
    return ret;
}

/* ---------------------------------------------------------------------------------------
 * Credentials
 */

/* caller: the return address in the application (or Wine DLL) that called us. */
static SECURITY_STATUS acquire_credentials(SEC_WCHAR *principal, SEC_WCHAR *package, ULONG use,
                                           LUID *logon_id, void *auth_data, SEC_GET_KEY_FN get_key,
                                           void *get_key_arg, CredHandle *cred, TimeStamp *expiry, void *caller)
{
    SECURITY_STATUS status;
    int index;

    TRACE("%s %s %#lx %p %p %p %p %p %p\n", debugstr_w(principal), debugstr_w(package), use, logon_id,
          auth_data, get_key, get_key_arg, cred, expiry);
    if (!package) return SEC_E_SECPKG_NOT_FOUND;
    if (sg_is_schannel_package(package))
    {
        if (!cred) return SEC_E_INVALID_HANDLE;
        return sg_acquire_credentials(use, auth_data, cred, expiry, caller);
    }
    if (sg_is_negotiate_package(package))
    {
        struct sg_nego_cred *nego;

        if (!cred) return SEC_E_INVALID_HANDLE;
        if ((status = sg_nego_acquire_credentials(principal, use, logon_id, auth_data, get_key, get_key_arg, &nego,
                                                  expiry)))
            return status;
        if (sg_handle_alloc(SG_HANDLE_NEGO_CRED, nego, cred)) return SEC_E_OK;
        sg_nego_free_credentials(nego);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    if ((index = sg_lsa_find_package(package)) >= 0)
    {
        struct sg_lsa_object *object;

        if (!cred) return SEC_E_INVALID_HANDLE;
        if ((status = sg_lsa_acquire_credentials(index, principal, use, logon_id, auth_data, get_key, get_key_arg,
                                                 &object, expiry)))
            return status;
        if (sg_handle_alloc(SG_HANDLE_LSA_CRED, object, cred)) return SEC_E_OK;
        sg_lsa_free_credentials(object);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    WARN("no package %s\n", debugstr_w(package));
    return SEC_E_SECPKG_NOT_FOUND;
}

/* SEC_WINNT_AUTH_IDENTITY_A in ANSI becomes its Unicode form for the LSA packages; the EX
 * form carries its own flag and goes as it is. */
static SECURITY_STATUS identity_AtoW(void *auth_data, SEC_WINNT_AUTH_IDENTITY_W *idW, void **ret)
{
    SEC_WINNT_AUTH_IDENTITY_A *idA = auth_data;

    *ret = auth_data;
    if (!auth_data || *(ULONG *)auth_data == SEC_WINNT_AUTH_IDENTITY_VERSION) return SEC_E_OK;
    if (!(idA->Flags & SEC_WINNT_AUTH_IDENTITY_ANSI)) return SEC_E_OK;
    memset(idW, 0, sizeof(*idW));
    idW->Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
    idW->User = (unsigned short *)strdup_nAW(idA->User, idA->UserLength, &idW->UserLength);
    idW->Domain = (unsigned short *)strdup_nAW(idA->Domain, idA->DomainLength, &idW->DomainLength);
    idW->Password = (unsigned short *)strdup_nAW(idA->Password, idA->PasswordLength, &idW->PasswordLength);
    if ((idA->UserLength && !idW->User) || (idA->DomainLength && !idW->Domain)
        || (idA->PasswordLength && !idW->Password))
        return SEC_E_INSUFFICIENT_MEMORY;
    *ret = idW;
    return SEC_E_OK;
}

static void identity_free(SEC_WINNT_AUTH_IDENTITY_W *idW)
{
    sg_free(idW->User);
    sg_free(idW->Domain);
    if (idW->Password) sg_wipe(idW->Password, idW->PasswordLength * sizeof(WCHAR));
    sg_free(idW->Password);
}

SECURITY_STATUS WINAPI AcquireCredentialsHandleW(SEC_WCHAR *principal, SEC_WCHAR *package, ULONG use,
                                                 LUID *logon_id, void *auth_data, SEC_GET_KEY_FN get_key,
                                                 void *get_key_arg, CredHandle *cred, TimeStamp *expiry)
{
    return acquire_credentials(principal, package, use, logon_id, auth_data, get_key, get_key_arg, cred, expiry,
                               __builtin_return_address(0));
}

SECURITY_STATUS WINAPI AcquireCredentialsHandleA(SEC_CHAR *principal, SEC_CHAR *package, ULONG use,
                                                 LUID *logon_id, void *auth_data, SEC_GET_KEY_FN get_key,
                                                 void *get_key_arg, CredHandle *cred, TimeStamp *expiry)
{
    SEC_WINNT_AUTH_IDENTITY_W idW = { 0 };
    WCHAR *packageW, *principalW = NULL;
    SECURITY_STATUS status;
    void *data = auth_data;

    TRACE("%s %s %#lx\n", debugstr_a(principal), debugstr_a(package), use);
    if (!package) return SEC_E_SECPKG_NOT_FOUND;
    if (!(packageW = sg_strdupAW(package))) return SEC_E_INSUFFICIENT_MEMORY;
    if (principal && !(principalW = sg_strdupAW(principal)))
    {
        sg_free(packageW);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    /* Schannel credentials carry no strings, so they go as they are. */
    if (!sg_is_schannel_package(packageW)) status = identity_AtoW(auth_data, &idW, &data);
    else status = SEC_E_OK;
    if (!status)
        status = acquire_credentials(principalW, packageW, use, logon_id, data, get_key, get_key_arg, cred, expiry,
                                     __builtin_return_address(0));
    identity_free(&idW);
    sg_free(principalW);
    sg_free(packageW);
    return status;
}

SECURITY_STATUS WINAPI FreeCredentialsHandle(CredHandle *cred)
{
    TRACE("%p\n", cred);
    switch (sg_handle_kind_of(cred))
    {
    case SG_HANDLE_CRED:
        return sg_free_credentials(cred);
    case SG_HANDLE_LSA_CRED:
        if (!sg_handle_free(SG_HANDLE_LSA_CRED, cred, lsa_object_destroy_cred)) break;
        return SEC_E_OK;
    case SG_HANDLE_NEGO_CRED:
        if (!sg_handle_free(SG_HANDLE_NEGO_CRED, cred, nego_object_destroy_cred)) break;
        return SEC_E_OK;
    default:
        break;
    }
    return SEC_E_INVALID_HANDLE;
}

/* Credential attributes with strings, in their A form. */
static SECURITY_STATUS cred_attribute_WtoA(ULONG attribute, void *buffer)
{
    if (attribute == SECPKG_CRED_ATTR_NAMES)
    {
        SecPkgCredentials_NamesW *names = buffer;
        SecPkgCredentials_NamesA *namesA = buffer;
        WCHAR *nameW = names->sUserName;
        char *nameA = NULL;
        int len;

        if (nameW)
        {
            len = WideCharToMultiByte(CP_ACP, 0, nameW, -1, NULL, 0, NULL, NULL);
            if (!(nameA = sg_context_buffer_alloc(len))) return SEC_E_INSUFFICIENT_MEMORY;
            WideCharToMultiByte(CP_ACP, 0, nameW, -1, nameA, len, NULL, NULL);
            FreeContextBuffer(nameW);
        }
        namesA->sUserName = nameA;
    }
    return SEC_E_OK;
}

static SECURITY_STATUS query_credentials(CredHandle *cred, ULONG attribute, void *buffer, BOOL unicode)
{
    struct sg_lsa_object *object;
    SECURITY_STATUS status;
    struct sg_pin pin;

    if (sg_handle_pin(cred, FALSE, &pin) == SG_HANDLE_CRED)
        status = sg_query_credentials_attributes(cred, attribute, buffer, unicode);
    else if (!(object = lsa_credentials(&pin))) status = SEC_E_INVALID_HANDLE;
    else if (!buffer) status = SEC_E_INVALID_PARAMETER;
    else
    {
        status = sg_lsa_query_credentials_attributes(object, attribute, buffer);
        if (status == SEC_E_OK && !unicode) status = cred_attribute_WtoA(attribute, buffer);
    }
    sg_handle_unpin(&pin);
    return status;
}

SECURITY_STATUS WINAPI QueryCredentialsAttributesW(CredHandle *cred, ULONG attribute, void *buffer)
{
    TRACE("%p %#lx %p\n", cred, attribute, buffer);
    return query_credentials(cred, attribute, buffer, TRUE);
}

SECURITY_STATUS WINAPI QueryCredentialsAttributesA(CredHandle *cred, ULONG attribute, void *buffer)
{
    TRACE("%p %#lx %p\n", cred, attribute, buffer);
    return query_credentials(cred, attribute, buffer, FALSE);
}

/* The Ex forms add the caller's buffer size; the packages write fixed-size structures. */
SECURITY_STATUS WINAPI QueryCredentialsAttributesExW(CredHandle *cred, ULONG attribute, void *buffer, ULONG size)
{
    TRACE("%p %#lx %p %lu\n", cred, attribute, buffer, size);
    return query_credentials(cred, attribute, buffer, TRUE);
}

SECURITY_STATUS WINAPI QueryCredentialsAttributesExA(CredHandle *cred, ULONG attribute, void *buffer, ULONG size)
{
    TRACE("%p %#lx %p %lu\n", cred, attribute, buffer, size);
    return query_credentials(cred, attribute, buffer, FALSE);
}

static SECURITY_STATUS set_credentials(CredHandle *cred, ULONG attribute, void *buffer, ULONG size)
{
    struct sg_lsa_object *object;
    SECURITY_STATUS status;
    struct sg_pin pin;

    if (sg_handle_pin(cred, FALSE, &pin) == SG_HANDLE_CRED)
        status = sg_set_credentials_attributes(cred, attribute, buffer, size);
    else if (!(object = lsa_credentials(&pin))) status = SEC_E_INVALID_HANDLE;
    else status = sg_lsa_set_credentials_attributes(object, attribute, buffer, size);
    sg_handle_unpin(&pin);
    return status;
}

SECURITY_STATUS WINAPI SetCredentialsAttributesW(CredHandle *cred, ULONG attribute, void *buffer, ULONG size)
{
    TRACE("%p %#lx %p %lu\n", cred, attribute, buffer, size);
    return set_credentials(cred, attribute, buffer, size);
}

SECURITY_STATUS WINAPI SetCredentialsAttributesA(CredHandle *cred, ULONG attribute, void *buffer, ULONG size)
{
    TRACE("%p %#lx %p %lu\n", cred, attribute, buffer, size);
    return set_credentials(cred, attribute, buffer, size);
}

static BOOL is_credential(CredHandle *cred)
{
    enum sg_handle_kind kind = sg_handle_kind_of(cred);
    return kind == SG_HANDLE_CRED || kind == SG_HANDLE_LSA_CRED || kind == SG_HANDLE_NEGO_CRED;
}

SECURITY_STATUS WINAPI AddCredentialsW(CredHandle *cred, SEC_WCHAR *principal, SEC_WCHAR *package, ULONG use,
                                       void *auth_data, SEC_GET_KEY_FN get_key, void *get_key_arg,
                                       TimeStamp *expiry)
{
    TRACE("%p %s %s %#lx\n", cred, debugstr_w(principal), debugstr_w(package), use);
    if (!is_credential(cred)) return SEC_E_INVALID_HANDLE;
    FIXME("AddCredentials is not supported\n");
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI AddCredentialsA(CredHandle *cred, SEC_CHAR *principal, SEC_CHAR *package, ULONG use,
                                       void *auth_data, SEC_GET_KEY_FN get_key, void *get_key_arg,
                                       TimeStamp *expiry)
{
    return AddCredentialsW(cred, NULL, NULL, use, auth_data, get_key, get_key_arg, expiry);
}

/* ---------------------------------------------------------------------------------------
 * Contexts
 */

/* Which family a (credential, context) pair belongs to: the context's when there is one
 * (a credential passed along with it must be of the same family), else the credential's. */
enum family { FAMILY_NONE, FAMILY_SCHANNEL, FAMILY_LSA, FAMILY_NEGO };

static enum family family_of_kind(enum sg_handle_kind kind)
{
    switch (kind)
    {
    case SG_HANDLE_CRED: case SG_HANDLE_CTX: return FAMILY_SCHANNEL;
    case SG_HANDLE_LSA_CRED: case SG_HANDLE_LSA_CTX: return FAMILY_LSA;
    case SG_HANDLE_NEGO_CRED: case SG_HANDLE_NEGO_CTX: return FAMILY_NEGO;
    default: return FAMILY_NONE;
    }
}

static enum family family_of(const struct sg_pin *cred_pin, CtxtHandle *context, const struct sg_pin *ctx_pin)
{
    enum sg_handle_kind cred_kind = cred_pin->kind;
    enum sg_handle_kind ctx_kind;

    if (context)
    {
        ctx_kind = ctx_pin->kind;
        if (ctx_kind != SG_HANDLE_CTX && ctx_kind != SG_HANDLE_LSA_CTX && ctx_kind != SG_HANDLE_NEGO_CTX)
            return FAMILY_NONE;
        if (cred_kind && family_of_kind(cred_kind) != family_of_kind(ctx_kind)) return FAMILY_NONE;
        return family_of_kind(ctx_kind);
    }
    if (cred_kind != SG_HANDLE_CRED && cred_kind != SG_HANDLE_LSA_CRED && cred_kind != SG_HANDLE_NEGO_CRED)
        return FAMILY_NONE;
    return family_of_kind(cred_kind);
}

/* A new LSA or Negotiate context gets its handle; a continued one keeps it. */
static SECURITY_STATUS publish_context(enum sg_handle_kind kind, CtxtHandle *context, void *object,
                                       CtxtHandle *new_context, SECURITY_STATUS status)
{
    if (status < 0) return status;
    if (context)
    {
        if (new_context != context) *new_context = *context;
        return status;
    }
    if (sg_handle_alloc(kind, object, new_context)) return status;
    if (kind == SG_HANDLE_LSA_CTX) sg_lsa_delete_context(object);
    else sg_nego_delete_context(object);
    return SEC_E_INSUFFICIENT_MEMORY;
}

/* The arguments InitializeSecurityContext and AcceptSecurityContext share (no target in ASC). */
struct context_args
{
    CredHandle *cred;
    CtxtHandle *context;
    const WCHAR *target;
    ULONG req;
    ULONG data_rep;
    SecBufferDesc *input;
    CtxtHandle *new_context;
    SecBufferDesc *output;
    ULONG *attrs;
    TimeStamp *expiry;
};

static SECURITY_STATUS context_pinned(BOOL accept, const struct sg_pin *cred_pin, const struct sg_pin *ctx_pin,
                                      const struct context_args *a)
{
    SECURITY_STATUS status;

    switch (family_of(cred_pin, a->context, ctx_pin))
    {
    case FAMILY_SCHANNEL:
    {
        /* The pinned objects: a second lookup of the same handles would find the same ones. */
        struct sg_cred *cred = cred_pin->kind == SG_HANDLE_CRED ? cred_pin->object : NULL;
        struct sg_ctx *ctx = a->context && ctx_pin->kind == SG_HANDLE_CTX ? ctx_pin->object : NULL;

        if (accept)
            return sg_accept_context(cred, a->cred, ctx, a->context, a->input, a->req, a->new_context, a->output,
                                     a->attrs, a->expiry);
        return sg_initialize_context(cred, a->cred, ctx, a->context, a->target, a->req, a->input, a->new_context,
                                     a->output, a->attrs, a->expiry);
    }
    case FAMILY_LSA:
    {
        struct sg_lsa_object *cred = a->context ? NULL : cred_pin->object;
        struct sg_lsa_object *ctx = a->context ? ctx_pin->object : NULL;
        struct sg_lsa_object *object = NULL;

        if (!a->new_context) return SEC_E_INVALID_HANDLE;
        if (accept)
            status = sg_lsa_accept_context(cred, ctx, a->input, a->req, a->data_rep, &object, a->output, a->attrs,
                                           a->expiry);
        else
            status = sg_lsa_initialize_context(cred, ctx, a->target, a->req, a->data_rep, a->input, &object,
                                               a->output, a->attrs, a->expiry);
        return publish_context(SG_HANDLE_LSA_CTX, a->context, object, a->new_context, status);
    }
    case FAMILY_NEGO:
    {
        struct sg_nego_cred *cred = a->context ? NULL : cred_pin->object;
        struct sg_nego_ctx *ctx = a->context ? ctx_pin->object : NULL;
        struct sg_nego_ctx *object = NULL;

        if (!a->new_context) return SEC_E_INVALID_HANDLE;
        if (accept)
            status = sg_nego_accept_context(cred, ctx, a->input, a->req, a->data_rep, &object, a->output, a->attrs,
                                            a->expiry);
        else
            status = sg_nego_initialize_context(cred, ctx, a->target, a->req, a->data_rep, a->input, &object,
                                                a->output, a->attrs, a->expiry);
        return publish_context(SG_HANDLE_NEGO_CTX, a->context, object, a->new_context, status);
    }
    default:
        return SEC_E_INVALID_HANDLE;
    }
}

/* ISC (accept FALSE) or ASC: the credential is pinned without its lock; the context is pinned and locked. */
static SECURITY_STATUS context_call(BOOL accept, const struct context_args *args)
{
    struct sg_pin cred_pin, ctx_pin;
    SECURITY_STATUS status;

    sg_handle_pin(args->cred, FALSE, &cred_pin);
    sg_handle_pin(args->context, TRUE, &ctx_pin);
    status = context_pinned(accept, &cred_pin, &ctx_pin, args);
    sg_handle_unpin(&ctx_pin);
    sg_handle_unpin(&cred_pin);
    return status;
}

SECURITY_STATUS WINAPI InitializeSecurityContextW(CredHandle *cred, CtxtHandle *context, SEC_WCHAR *target,
                                                  ULONG req, ULONG reserved1, ULONG data_rep, SecBufferDesc *input,
                                                  ULONG reserved2, CtxtHandle *new_context, SecBufferDesc *output,
                                                  ULONG *attrs, TimeStamp *expiry)
{
    struct context_args args = { cred, context, target, req, data_rep, input, new_context, output, attrs, expiry };

    TRACE("%p %p %s %#lx %p %p\n", cred, context, debugstr_w(target), req, input, new_context);
    return context_call(FALSE, &args);
}

SECURITY_STATUS WINAPI InitializeSecurityContextA(CredHandle *cred, CtxtHandle *context, SEC_CHAR *target,
                                                  ULONG req, ULONG reserved1, ULONG data_rep, SecBufferDesc *input,
                                                  ULONG reserved2, CtxtHandle *new_context, SecBufferDesc *output,
                                                  ULONG *attrs, TimeStamp *expiry)
{
    struct context_args args = { cred, context, NULL, req, data_rep, input, new_context, output, attrs, expiry };
    SECURITY_STATUS status;
    WCHAR *targetW = NULL;

    TRACE("%p %p %s %#lx %p %p\n", cred, context, debugstr_a(target), req, input, new_context);
    if (target && !(targetW = sg_strdupAW(target))) return SEC_E_INSUFFICIENT_MEMORY;
    args.target = targetW;
    status = context_call(FALSE, &args);
    sg_free(targetW);
    return status;
}

SECURITY_STATUS WINAPI AcceptSecurityContext(CredHandle *cred, CtxtHandle *context, SecBufferDesc *input,
                                             ULONG req, ULONG data_rep, CtxtHandle *new_context,
                                             SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry)
{
    struct context_args args = { cred, context, NULL, req, data_rep, input, new_context, output, attrs, expiry };

    TRACE("%p %p %p %#lx %p\n", cred, context, input, req, new_context);
    return context_call(TRUE, &args);
}

/* Only unpublishes the handle: a call still running on the context keeps it until it ends. */
SECURITY_STATUS WINAPI DeleteSecurityContext(CtxtHandle *context)
{
    TRACE("%p\n", context);
    switch (sg_handle_kind_of(context))
    {
    case SG_HANDLE_CTX:
        return sg_delete_context(context);
    case SG_HANDLE_LSA_CTX:
        if (!sg_handle_free(SG_HANDLE_LSA_CTX, context, lsa_object_destroy_ctx)) break;
        return SEC_E_OK;
    case SG_HANDLE_NEGO_CTX:
        if (!sg_handle_free(SG_HANDLE_NEGO_CTX, context, nego_object_destroy_ctx)) break;
        return SEC_E_OK;
    default:
        break;
    }
    return SEC_E_INVALID_HANDLE;
}

SECURITY_STATUS WINAPI CompleteAuthToken(CtxtHandle *context, SecBufferDesc *token)
{
    struct sg_lsa_object *object;
    SECURITY_STATUS status;
    struct sg_pin pin;

    TRACE("%p %p\n", context, token);
    /* Schannel never asks for it (no SEC_I_COMPLETE_NEEDED). */
    if (sg_handle_pin(context, TRUE, &pin) == SG_HANDLE_CTX) status = SEC_E_UNSUPPORTED_FUNCTION;
    else if (!(object = lsa_context(&pin))) status = SEC_E_INVALID_HANDLE;
    else status = sg_lsa_complete_auth_token(object, token);
    sg_handle_unpin(&pin);
    return status;
}

SECURITY_STATUS WINAPI ApplyControlToken(CtxtHandle *context, SecBufferDesc *input)
{
    struct sg_lsa_object *object;
    SECURITY_STATUS status;
    struct sg_pin pin;

    TRACE("%p %p\n", context, input);
    if (sg_handle_pin(context, TRUE, &pin) == SG_HANDLE_CTX) status = sg_apply_control_token(context, input);
    else if (!(object = lsa_context(&pin))) status = SEC_E_INVALID_HANDLE;
    else status = sg_lsa_apply_control_token(object, input);
    sg_handle_unpin(&pin);
    return status;
}

/* ---------------------------------------------------------------------------------------
 * Context attributes of the LSA packages in their A form: structures with strings are
 * converted (the W strings freed), the others have the same layout in both forms.
 */

static char *strdup_WA_context(WCHAR *str)
{
    char *ret;
    int len;

    if (!str) return NULL;
    len = WideCharToMultiByte(CP_ACP, 0, str, -1, NULL, 0, NULL, NULL);
    if ((ret = sg_context_buffer_alloc(len))) WideCharToMultiByte(CP_ACP, 0, str, -1, ret, len, NULL, NULL);
    FreeContextBuffer(str);
    return ret;
}

static SecPkgInfoA *package_info_WtoA(SecPkgInfoW *infoW)
{
    SecPkgInfoA *ret;
    int name_len, comment_len;

    if (!infoW) return NULL;
    name_len = WideCharToMultiByte(CP_ACP, 0, infoW->Name ? infoW->Name : L"", -1, NULL, 0, NULL, NULL);
    comment_len = WideCharToMultiByte(CP_ACP, 0, infoW->Comment ? infoW->Comment : L"", -1, NULL, 0, NULL, NULL);
    if ((ret = sg_context_buffer_alloc(sizeof(*ret) + name_len + comment_len)))
    {
        ret->fCapabilities = infoW->fCapabilities;
        ret->wVersion = infoW->wVersion;
        ret->wRPCID = infoW->wRPCID;
        ret->cbMaxToken = infoW->cbMaxToken;
        ret->Name = (char *)(ret + 1);
        WideCharToMultiByte(CP_ACP, 0, infoW->Name ? infoW->Name : L"", -1, ret->Name, name_len, NULL, NULL);
        ret->Comment = ret->Name + name_len;
        WideCharToMultiByte(CP_ACP, 0, infoW->Comment ? infoW->Comment : L"", -1, ret->Comment, comment_len,
                            NULL, NULL);
    }
    FreeContextBuffer(infoW);
    return ret;
}

static SECURITY_STATUS lsa_query_context_a(struct sg_lsa_object *object, ULONG attribute, void *buffer)
{
    SECURITY_STATUS status;

    switch (attribute)
    {
    case SECPKG_ATTR_SIZES:
    case SECPKG_ATTR_LIFESPAN:
    case SECPKG_ATTR_FLAGS:
    case SECPKG_ATTR_SESSION_KEY:
    case SECPKG_ATTR_STREAM_SIZES:
    case SECPKG_ATTR_PASSWORD_EXPIRY:
    case SECPKG_ATTR_ACCESS_TOKEN:
    case SECPKG_ATTR_DCE_INFO:
    case SECPKG_ATTR_TARGET_INFORMATION:
        return sg_lsa_query_context_attributes(object, attribute, buffer);
    case SECPKG_ATTR_NAMES:
    case SECPKG_ATTR_AUTHORITY:
    {
        /* One string pointer in both. */
        WCHAR **nameW = buffer;
        char **nameA = buffer;

        if ((status = sg_lsa_query_context_attributes(object, attribute, buffer))) return status;
        *nameA = strdup_WA_context(*nameW);
        return SEC_E_OK;
    }
    case SECPKG_ATTR_NATIVE_NAMES:
    {
        SecPkgContext_NativeNamesW *names = buffer;
        SecPkgContext_NativeNamesA *namesA = buffer;

        if ((status = sg_lsa_query_context_attributes(object, attribute, buffer))) return status;
        namesA->sClientName = strdup_WA_context(names->sClientName);
        namesA->sServerName = strdup_WA_context(names->sServerName);
        return SEC_E_OK;
    }
    case SECPKG_ATTR_PACKAGE_INFO:
    {
        SecPkgContext_PackageInfoW *info = buffer;
        SecPkgContext_PackageInfoA *infoA = buffer;

        if ((status = sg_lsa_query_context_attributes(object, attribute, buffer))) return status;
        if (!(infoA->PackageInfo = package_info_WtoA(info->PackageInfo))) return SEC_E_INSUFFICIENT_MEMORY;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_NEGOTIATION_INFO:
    {
        SecPkgContext_NegotiationInfoW *info = buffer;
        SecPkgContext_NegotiationInfoA *infoA = buffer;

        if ((status = sg_lsa_query_context_attributes(object, attribute, buffer))) return status;
        if (!(infoA->PackageInfo = package_info_WtoA(info->PackageInfo))) return SEC_E_INSUFFICIENT_MEMORY;
        return SEC_E_OK;
    }
    case SECPKG_ATTR_KEY_INFO:
    {
        SecPkgContext_KeyInfoW *info = buffer;
        SecPkgContext_KeyInfoA *infoA = buffer;

        if ((status = sg_lsa_query_context_attributes(object, attribute, buffer))) return status;
        infoA->sSignatureAlgorithmName = strdup_WA_context(info->sSignatureAlgorithmName);
        infoA->sEncryptAlgorithmName = strdup_WA_context(info->sEncryptAlgorithmName);
        return SEC_E_OK;
    }
    default:
        FIXME("attribute %#lx has no A form here\n", attribute);
        return SEC_E_UNSUPPORTED_FUNCTION;
    }
}

static SECURITY_STATUS query_context(CtxtHandle *context, ULONG attribute, void *buffer, BOOL unicode)
{
    struct sg_lsa_object *object;
    SECURITY_STATUS status;
    struct sg_pin pin;

    if (sg_handle_pin(context, TRUE, &pin) == SG_HANDLE_CTX)
        status = sg_query_context_attributes(context, attribute, buffer, unicode);
    else if (!(object = lsa_context(&pin))) status = SEC_E_INVALID_HANDLE;
    else if (!buffer) status = SEC_E_INVALID_PARAMETER;
    else if (unicode) status = sg_lsa_query_context_attributes(object, attribute, buffer);
    else status = lsa_query_context_a(object, attribute, buffer);
    sg_handle_unpin(&pin);
    return status;
}

SECURITY_STATUS WINAPI QueryContextAttributesW(CtxtHandle *context, ULONG attribute, void *buffer)
{
    TRACE("%p %#lx %p\n", context, attribute, buffer);
    return query_context(context, attribute, buffer, TRUE);
}

SECURITY_STATUS WINAPI QueryContextAttributesA(CtxtHandle *context, ULONG attribute, void *buffer)
{
    TRACE("%p %#lx %p\n", context, attribute, buffer);
    return query_context(context, attribute, buffer, FALSE);
}

/* The Ex forms (sspicli, used by .NET) add the caller's buffer size. */
SECURITY_STATUS WINAPI QueryContextAttributesExW(CtxtHandle *context, ULONG attribute, void *buffer, ULONG size)
{
    TRACE("%p %#lx %p %lu\n", context, attribute, buffer, size);
    return query_context(context, attribute, buffer, TRUE);
}

SECURITY_STATUS WINAPI QueryContextAttributesExA(CtxtHandle *context, ULONG attribute, void *buffer, ULONG size)
{
    TRACE("%p %#lx %p %lu\n", context, attribute, buffer, size);
    return query_context(context, attribute, buffer, FALSE);
}

static SECURITY_STATUS set_context(CtxtHandle *context, ULONG attribute, void *buffer, ULONG size)
{
    struct sg_lsa_object *object;
    SECURITY_STATUS status;
    struct sg_pin pin;

    if (sg_handle_pin(context, TRUE, &pin) == SG_HANDLE_CTX)
        status = sg_set_context_attributes(context, attribute, buffer, size);
    else if (!(object = lsa_context(&pin))) status = SEC_E_INVALID_HANDLE;
    else status = sg_lsa_set_context_attributes(object, attribute, buffer, size);
    sg_handle_unpin(&pin);
    return status;
}

SECURITY_STATUS WINAPI SetContextAttributesW(CtxtHandle *context, ULONG attribute, void *buffer, ULONG size)
{
    TRACE("%p %#lx %p %lu\n", context, attribute, buffer, size);
    return set_context(context, attribute, buffer, size);
}

SECURITY_STATUS WINAPI SetContextAttributesA(CtxtHandle *context, ULONG attribute, void *buffer, ULONG size)
{
    TRACE("%p %#lx %p %lu\n", context, attribute, buffer, size);
    return set_context(context, attribute, buffer, size);
}

static BOOL is_context(CtxtHandle *context)
{
    enum sg_handle_kind kind = sg_handle_kind_of(context);
    return kind == SG_HANDLE_CTX || kind == SG_HANDLE_LSA_CTX || kind == SG_HANDLE_NEGO_CTX;
}

/* No package here impersonates: there are no LSA logon tokens in-process. */
SECURITY_STATUS WINAPI ImpersonateSecurityContext(CtxtHandle *context)
{
    TRACE("%p\n", context);
    if (!is_context(context)) return SEC_E_INVALID_HANDLE;
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI RevertSecurityContext(CtxtHandle *context)
{
    TRACE("%p\n", context);
    if (!is_context(context)) return SEC_E_INVALID_HANDLE;
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI QuerySecurityContextToken(CtxtHandle *context, HANDLE *token)
{
    struct sg_lsa_object *object;
    SECURITY_STATUS status;
    struct sg_pin pin;

    TRACE("%p %p\n", context, token);
    if (sg_handle_pin(context, TRUE, &pin) == SG_HANDLE_CTX) status = SEC_E_UNSUPPORTED_FUNCTION;
    else if (!(object = lsa_context(&pin))) status = SEC_E_INVALID_HANDLE;
    else if (!token) status = SEC_E_INVALID_PARAMETER;
    else status = sg_lsa_query_context_token(object, token);
    sg_handle_unpin(&pin);
    return status;
}

SECURITY_STATUS WINAPI ExportSecurityContext(CtxtHandle *context, ULONG flags, SecBuffer *packed, void **token)
{
    TRACE("%p %#lx %p %p\n", context, flags, packed, token);
    if (!is_context(context)) return SEC_E_INVALID_HANDLE;
    FIXME("context export is not supported\n");
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI ImportSecurityContextW(SEC_WCHAR *package, SecBuffer *packed, void *token, CtxtHandle *context)
{
    TRACE("%s %p %p %p\n", debugstr_w(package), packed, token, context);
    if (!package || (!sg_is_schannel_package(package) && !sg_is_negotiate_package(package)
                     && sg_lsa_find_package(package) < 0))
        return SEC_E_SECPKG_NOT_FOUND;
    FIXME("context import is not supported\n");
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI ImportSecurityContextA(SEC_CHAR *package, SecBuffer *packed, void *token, CtxtHandle *context)
{
    SECURITY_STATUS status;
    WCHAR *packageW;

    if (!package) return SEC_E_SECPKG_NOT_FOUND;
    if (!(packageW = sg_strdupAW(package))) return SEC_E_INSUFFICIENT_MEMORY;
    status = ImportSecurityContextW(packageW, packed, token, context);
    sg_free(packageW);
    return status;
}

/* ---------------------------------------------------------------------------------------
 * Messages
 */

enum message_op { MESSAGE_ENCRYPT, MESSAGE_DECRYPT, MESSAGE_SIGN, MESSAGE_VERIFY };

/* The four message calls: Schannel encrypts and decrypts records (record.c) and does not sign
 * separately from them; the LSA packages do all four. */
static SECURITY_STATUS message_call(enum message_op op, CtxtHandle *context, SecBufferDesc *message, ULONG seq,
                                    ULONG qop_in, ULONG *qop_out)
{
    struct sg_lsa_object *object;
    SECURITY_STATUS status;
    struct sg_pin pin;

    if (sg_handle_pin(context, TRUE, &pin) == SG_HANDLE_CTX)
    {
        if (op == MESSAGE_ENCRYPT) status = sg_encrypt_message(pin.object, qop_in, message, seq);
        else if (op == MESSAGE_DECRYPT) status = sg_decrypt_message(pin.object, message, seq, qop_out);
        else status = SEC_E_UNSUPPORTED_FUNCTION;
    }
    else if (!(object = lsa_context(&pin))) status = SEC_E_INVALID_HANDLE;
    else if (!message) status = SEC_E_INVALID_TOKEN;
    else if (op == MESSAGE_ENCRYPT) status = sg_lsa_encrypt_message(object, qop_in, message, seq);
    else if (op == MESSAGE_DECRYPT) status = sg_lsa_decrypt_message(object, message, seq, qop_out);
    else if (op == MESSAGE_SIGN) status = sg_lsa_make_signature(object, qop_in, message, seq);
    else status = sg_lsa_verify_signature(object, message, seq, qop_out);
    sg_handle_unpin(&pin);
    return status;
}

SECURITY_STATUS WINAPI EncryptMessage(CtxtHandle *context, ULONG qop, SecBufferDesc *message, ULONG seq)
{
    TRACE("%p %#lx %p %lu\n", context, qop, message, seq);
    return message_call(MESSAGE_ENCRYPT, context, message, seq, qop, NULL);
}

SECURITY_STATUS WINAPI DecryptMessage(CtxtHandle *context, SecBufferDesc *message, ULONG seq, ULONG *qop)
{
    TRACE("%p %p %lu %p\n", context, message, seq, qop);
    return message_call(MESSAGE_DECRYPT, context, message, seq, 0, qop);
}

SECURITY_STATUS WINAPI MakeSignature(CtxtHandle *context, ULONG qop, SecBufferDesc *message, ULONG seq)
{
    TRACE("%p %#lx %p %lu\n", context, qop, message, seq);
    return message_call(MESSAGE_SIGN, context, message, seq, qop, NULL);
}

SECURITY_STATUS WINAPI VerifySignature(CtxtHandle *context, SecBufferDesc *message, ULONG seq, ULONG *qop)
{
    TRACE("%p %p %lu %p\n", context, message, seq, qop);
    return message_call(MESSAGE_VERIFY, context, message, seq, 0, qop);
}

/* ---------------------------------------------------------------------------------------
 * Function tables. Reserved3/Reserved4 are the old SealMessage/UnsealMessage slots and hold
 * EncryptMessage/DecryptMessage, as in Windows.
 */

static SecurityFunctionTableW table_w =
{
    .dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION,
    .EnumerateSecurityPackagesW = EnumerateSecurityPackagesW,
    .QueryCredentialsAttributesW = QueryCredentialsAttributesW,
    .AcquireCredentialsHandleW = AcquireCredentialsHandleW,
    .FreeCredentialsHandle = FreeCredentialsHandle,
    .InitializeSecurityContextW = InitializeSecurityContextW,
    .AcceptSecurityContext = AcceptSecurityContext,
    .CompleteAuthToken = CompleteAuthToken,
    .DeleteSecurityContext = DeleteSecurityContext,
    .ApplyControlToken = ApplyControlToken,
    .QueryContextAttributesW = QueryContextAttributesW,
    .ImpersonateSecurityContext = ImpersonateSecurityContext,
    .RevertSecurityContext = RevertSecurityContext,
    .MakeSignature = MakeSignature,
    .VerifySignature = VerifySignature,
    .FreeContextBuffer = FreeContextBuffer,
    .QuerySecurityPackageInfoW = QuerySecurityPackageInfoW,
    .Reserved3 = (void *)EncryptMessage,
    .Reserved4 = (void *)DecryptMessage,
    .ExportSecurityContext = ExportSecurityContext,
    .ImportSecurityContextW = ImportSecurityContextW,
    .AddCredentialsW = AddCredentialsW,
    .QuerySecurityContextToken = QuerySecurityContextToken,
    .EncryptMessage = EncryptMessage,
    .DecryptMessage = DecryptMessage,
    .SetContextAttributesW = SetContextAttributesW,
};

static SecurityFunctionTableA table_a =
{
    .dwVersion = SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION,
    .EnumerateSecurityPackagesA = EnumerateSecurityPackagesA,
    .QueryCredentialsAttributesA = QueryCredentialsAttributesA,
    .AcquireCredentialsHandleA = AcquireCredentialsHandleA,
    .FreeCredentialsHandle = FreeCredentialsHandle,
    .InitializeSecurityContextA = InitializeSecurityContextA,
    .AcceptSecurityContext = AcceptSecurityContext,
    .CompleteAuthToken = CompleteAuthToken,
    .DeleteSecurityContext = DeleteSecurityContext,
    .ApplyControlToken = ApplyControlToken,
    .QueryContextAttributesA = QueryContextAttributesA,
    .ImpersonateSecurityContext = ImpersonateSecurityContext,
    .RevertSecurityContext = RevertSecurityContext,
    .MakeSignature = MakeSignature,
    .VerifySignature = VerifySignature,
    .FreeContextBuffer = FreeContextBuffer,
    .QuerySecurityPackageInfoA = QuerySecurityPackageInfoA,
    .Reserved3 = (void *)EncryptMessage,
    .Reserved4 = (void *)DecryptMessage,
    .ExportSecurityContext = ExportSecurityContext,
    .ImportSecurityContextA = ImportSecurityContextA,
    .AddCredentialsA = AddCredentialsA,
    .QuerySecurityContextToken = QuerySecurityContextToken,
    .EncryptMessage = EncryptMessage,
    .DecryptMessage = DecryptMessage,
    .SetContextAttributesA = SetContextAttributesA,
};

PSecurityFunctionTableW WINAPI InitSecurityInterfaceW(void)
{
    TRACE("\n");
    return &table_w;
}

PSecurityFunctionTableA WINAPI InitSecurityInterfaceA(void)
{
    TRACE("\n");
    return &table_a;
}
