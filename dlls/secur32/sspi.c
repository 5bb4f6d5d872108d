/*
 * The exported SSPI entry points: argument checks, A/W conversion, and dispatch to the
 * Schannel implementation. Every handle is validated through the handle table, so a NULL,
 * garbage, freed or wrong-kind handle gives SEC_E_INVALID_HANDLE.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

/* ---------------------------------------------------------------------------------------
 * Credentials
 */

SECURITY_STATUS WINAPI AcquireCredentialsHandleW(SEC_WCHAR *principal, SEC_WCHAR *package, ULONG use,
                                                 LUID *logon_id, void *auth_data, SEC_GET_KEY_FN get_key,
                                                 void *get_key_arg, CredHandle *cred, TimeStamp *expiry)
{
    TRACE("%s %s %#lx %p %p %p %p %p %p\n", debugstr_w(principal), debugstr_w(package), use, logon_id,
          auth_data, get_key, get_key_arg, cred, expiry);
    if (!package) return SEC_E_SECPKG_NOT_FOUND;
    if (!sg_is_schannel_package(package))
    {
        FIXME("package %s not provided by this secur32\n", debugstr_w(package));
        return SEC_E_SECPKG_NOT_FOUND;
    }
    if (!cred) return SEC_E_INVALID_HANDLE;
    return sg_acquire_credentials(use, auth_data, cred, expiry);
}

SECURITY_STATUS WINAPI AcquireCredentialsHandleA(SEC_CHAR *principal, SEC_CHAR *package, ULONG use,
                                                 LUID *logon_id, void *auth_data, SEC_GET_KEY_FN get_key,
                                                 void *get_key_arg, CredHandle *cred, TimeStamp *expiry)
{
    SECURITY_STATUS status;
    WCHAR *packageW;

    TRACE("%s %s %#lx\n", debugstr_a(principal), debugstr_a(package), use);
    if (!package) return SEC_E_SECPKG_NOT_FOUND;
    if (!(packageW = sg_strdupAW(package))) return SEC_E_INSUFFICIENT_MEMORY;
    /* Schannel credentials carry no strings, so the W path takes them as they are. */
    status = AcquireCredentialsHandleW(NULL, packageW, use, logon_id, auth_data, get_key, get_key_arg, cred, expiry);
    sg_free(packageW);
    return status;
}

SECURITY_STATUS WINAPI FreeCredentialsHandle(CredHandle *cred)
{
    TRACE("%p\n", cred);
    return sg_free_credentials(cred);
}

SECURITY_STATUS WINAPI QueryCredentialsAttributesW(CredHandle *cred, ULONG attribute, void *buffer)
{
    TRACE("%p %#lx %p\n", cred, attribute, buffer);
    if (!sg_handle_get(SG_HANDLE_CRED, cred)) return SEC_E_INVALID_HANDLE;
    FIXME("credential attribute %#lx not supported yet\n", attribute);
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI QueryCredentialsAttributesA(CredHandle *cred, ULONG attribute, void *buffer)
{
    return QueryCredentialsAttributesW(cred, attribute, buffer);
}

SECURITY_STATUS WINAPI AddCredentialsW(CredHandle *cred, SEC_WCHAR *principal, SEC_WCHAR *package, ULONG use,
                                       void *auth_data, SEC_GET_KEY_FN get_key, void *get_key_arg,
                                       TimeStamp *expiry)
{
    if (!sg_handle_get(SG_HANDLE_CRED, cred)) return SEC_E_INVALID_HANDLE;
    FIXME("AddCredentials is not supported for Schannel\n");
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

SECURITY_STATUS WINAPI InitializeSecurityContextW(CredHandle *cred, CtxtHandle *context, SEC_WCHAR *target,
                                                  ULONG req, ULONG reserved1, ULONG data_rep, SecBufferDesc *input,
                                                  ULONG reserved2, CtxtHandle *new_context, SecBufferDesc *output,
                                                  ULONG *attrs, TimeStamp *expiry)
{
    return sg_initialize_context(cred, context, target, req, input, new_context, output, attrs, expiry);
}

SECURITY_STATUS WINAPI InitializeSecurityContextA(CredHandle *cred, CtxtHandle *context, SEC_CHAR *target,
                                                  ULONG req, ULONG reserved1, ULONG data_rep, SecBufferDesc *input,
                                                  ULONG reserved2, CtxtHandle *new_context, SecBufferDesc *output,
                                                  ULONG *attrs, TimeStamp *expiry)
{
    SECURITY_STATUS status;
    WCHAR *targetW = NULL;

    if (target && !(targetW = sg_strdupAW(target))) return SEC_E_INSUFFICIENT_MEMORY;
    status = sg_initialize_context(cred, context, targetW, req, input, new_context, output, attrs, expiry);
    sg_free(targetW);
    return status;
}

SECURITY_STATUS WINAPI AcceptSecurityContext(CredHandle *cred, CtxtHandle *context, SecBufferDesc *input,
                                             ULONG req, ULONG data_rep, CtxtHandle *new_context,
                                             SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry)
{
    return sg_accept_context(cred, context, input, req, new_context, output, attrs, expiry);
}

SECURITY_STATUS WINAPI DeleteSecurityContext(CtxtHandle *context)
{
    TRACE("%p\n", context);
    return sg_delete_context(context);
}

SECURITY_STATUS WINAPI CompleteAuthToken(CtxtHandle *context, SecBufferDesc *token)
{
    /* Schannel never asks for it (no SEC_I_COMPLETE_NEEDED). */
    if (!sg_handle_get(SG_HANDLE_CTX, context)) return SEC_E_INVALID_HANDLE;
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI ApplyControlToken(CtxtHandle *context, SecBufferDesc *input)
{
    TRACE("%p %p\n", context, input);
    return sg_apply_control_token(context, input);
}

SECURITY_STATUS WINAPI QueryContextAttributesW(CtxtHandle *context, ULONG attribute, void *buffer)
{
    return sg_query_context_attributes(context, attribute, buffer, TRUE);
}

SECURITY_STATUS WINAPI QueryContextAttributesA(CtxtHandle *context, ULONG attribute, void *buffer)
{
    return sg_query_context_attributes(context, attribute, buffer, FALSE);
}

SECURITY_STATUS WINAPI SetContextAttributesW(CtxtHandle *context, ULONG attribute, void *buffer, ULONG size)
{
    if (!sg_handle_get(SG_HANDLE_CTX, context)) return SEC_E_INVALID_HANDLE;
    FIXME("context attribute %#lx cannot be set yet\n", attribute);
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI SetContextAttributesA(CtxtHandle *context, ULONG attribute, void *buffer, ULONG size)
{
    return SetContextAttributesW(context, attribute, buffer, size);
}

SECURITY_STATUS WINAPI ImpersonateSecurityContext(CtxtHandle *context)
{
    if (!sg_handle_get(SG_HANDLE_CTX, context)) return SEC_E_INVALID_HANDLE;
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI RevertSecurityContext(CtxtHandle *context)
{
    if (!sg_handle_get(SG_HANDLE_CTX, context)) return SEC_E_INVALID_HANDLE;
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI QuerySecurityContextToken(CtxtHandle *context, HANDLE *token)
{
    if (!sg_handle_get(SG_HANDLE_CTX, context)) return SEC_E_INVALID_HANDLE;
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI ExportSecurityContext(CtxtHandle *context, ULONG flags, SecBuffer *packed, void **token)
{
    if (!sg_handle_get(SG_HANDLE_CTX, context)) return SEC_E_INVALID_HANDLE;
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI ImportSecurityContextW(SEC_WCHAR *package, SecBuffer *packed, void *token, CtxtHandle *context)
{
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI ImportSecurityContextA(SEC_CHAR *package, SecBuffer *packed, void *token, CtxtHandle *context)
{
    return SEC_E_UNSUPPORTED_FUNCTION;
}

/* ---------------------------------------------------------------------------------------
 * Messages
 */

SECURITY_STATUS WINAPI EncryptMessage(CtxtHandle *context, ULONG qop, SecBufferDesc *message, ULONG seq)
{
    return sg_encrypt_message(context, qop, message, seq);
}

SECURITY_STATUS WINAPI DecryptMessage(CtxtHandle *context, SecBufferDesc *message, ULONG seq, ULONG *qop)
{
    return sg_decrypt_message(context, message, seq, qop);
}

SECURITY_STATUS WINAPI MakeSignature(CtxtHandle *context, ULONG qop, SecBufferDesc *message, ULONG seq)
{
    /* Schannel does not sign separately from its records. */
    if (!sg_handle_get(SG_HANDLE_CTX, context)) return SEC_E_INVALID_HANDLE;
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS WINAPI VerifySignature(CtxtHandle *context, SecBufferDesc *message, ULONG seq, ULONG *qop)
{
    if (!sg_handle_get(SG_HANDLE_CTX, context)) return SEC_E_INVALID_HANDLE;
    return SEC_E_UNSUPPORTED_FUNCTION;
}

/* ---------------------------------------------------------------------------------------
 * Function tables
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
