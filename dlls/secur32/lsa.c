/*
 * Host for the LSA-mode security packages Wine ships (msv1_0.dll for NTLM, kerberos.dll),
 * and the Lsa* exports of secur32.
 *
 * The packages are the DLLs named by the subkeys of HKLM\System\CurrentControlSet\Control\Lsa
 * (Wine's prefix has "Kerberos" and "MSV1_0"). Each one is loaded through its
 * SpLsaModeInitialize table (credentials, contexts, package calls) and its
 * SpUserModeInitialize table (per-message functions), and is given the LSA dispatch
 * functions it calls back: heap and client-buffer helpers. Everything runs in the
 * caller's process, as with Wine's own secur32. Packages are loaded on first use, never
 * from DllMain.
 */

#include "secur32_priv.h"
#include "winreg.h"
/* ntsecapi.h declares these two as advapi32 imports; secur32 exports them. */
#define LsaRegisterPolicyChangeNotification sg_hidden_LsaRegisterPolicyChangeNotification
#define LsaUnregisterPolicyChangeNotification sg_hidden_LsaUnregisterPolicyChangeNotification
#include "ntsecapi.h"
#undef LsaRegisterPolicyChangeNotification
#undef LsaUnregisterPolicyChangeNotification
#include "ntsecpkg.h"

NTSTATUS WINAPI LsaRegisterPolicyChangeNotification(POLICY_NOTIFICATION_INFORMATION_CLASS info_class, HANDLE event);
NTSTATUS WINAPI LsaUnregisterPolicyChangeNotification(POLICY_NOTIFICATION_INFORMATION_CLASS info_class, HANDLE event);
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

#define MAX_LSA_PACKAGES 8

struct lsa_package
{
    ULONG id;                        /* the package id the LSA functions use */
    HMODULE module;
    LSA_STRING *name;                /* as the package reported it */
    WCHAR *nameW;
    SecPkgInfoW info;                /* GetInfo's answer (strings owned by the package) */
    ULONG lsa_version, user_version;
    SECPKG_FUNCTION_TABLE *lsa;
    SECPKG_USER_FUNCTION_TABLE *user;
};

/* A credential or context of one package. */
struct sg_lsa_object
{
    struct lsa_package *package;
    LSA_SEC_HANDLE handle;
};

static struct lsa_package packages[MAX_LSA_PACKAGES];
static ULONG package_count;
static INIT_ONCE packages_once = INIT_ONCE_STATIC_INIT;

/* ---------------------------------------------------------------------------------------
 * What the packages call back.
 */

static void * NTAPI lsa_heap_alloc(ULONG size)
{
    return HeapAlloc(GetProcessHeap(), 0, size ? size : 1);
}

static void NTAPI lsa_heap_free(void *ptr)
{
    HeapFree(GetProcessHeap(), 0, ptr);
}

/* Client buffers are what LsaCallAuthenticationPackage hands the caller: LsaFreeReturnBuffer
 * releases them from the process heap. */
static NTSTATUS NTAPI lsa_client_alloc(PLSA_CLIENT_REQUEST request, ULONG size, void **ptr)
{
    *ptr = HeapAlloc(GetProcessHeap(), 0, size ? size : 1);
    return *ptr ? STATUS_SUCCESS : STATUS_NO_MEMORY;
}

static NTSTATUS NTAPI lsa_client_free(PLSA_CLIENT_REQUEST request, void *ptr)
{
    HeapFree(GetProcessHeap(), 0, ptr);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI lsa_copy_to_client(PLSA_CLIENT_REQUEST request, ULONG size, void *client, void *buffer)
{
    if (size && (!client || !buffer)) return STATUS_ACCESS_VIOLATION;
    memcpy(client, buffer, size);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI lsa_copy_from_client(PLSA_CLIENT_REQUEST request, ULONG size, void *buffer, void *client)
{
    if (size && (!client || !buffer)) return STATUS_ACCESS_VIOLATION;
    memcpy(buffer, client, size);
    return STATUS_SUCCESS;
}

/* Logon sessions and stored credentials belong to the real LSA; a package hosted in a
 * process has none to manage. */
static NTSTATUS NTAPI lsa_create_logon_session(LUID *luid)
{
    FIXME("logon sessions are not supported in-process\n");
    return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI lsa_delete_logon_session(LUID *luid)
{
    FIXME("logon sessions are not supported in-process\n");
    return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI lsa_add_credential(LUID *luid, ULONG package, LSA_STRING *key, LSA_STRING *creds)
{
    FIXME("stored credentials are not supported in-process\n");
    return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI lsa_get_credentials(LUID *luid, ULONG package, ULONG *context, BOOLEAN all,
                                          LSA_STRING *key, ULONG *key_len, LSA_STRING *creds)
{
    FIXME("stored credentials are not supported in-process\n");
    return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI lsa_delete_credential(LUID *luid, ULONG package, LSA_STRING *key)
{
    FIXME("stored credentials are not supported in-process\n");
    return STATUS_NOT_IMPLEMENTED;
}

static NTSTATUS NTAPI lsa_register_callback(ULONG id, PLSA_CALLBACK_FUNCTION callback)
{
    FIXME("package callbacks are not supported in-process\n");
    return STATUS_NOT_IMPLEMENTED;
}

static LSA_DISPATCH_TABLE lsa_dispatch =
{
    lsa_create_logon_session,
    lsa_delete_logon_session,
    lsa_add_credential,
    lsa_get_credentials,
    lsa_delete_credential,
    lsa_heap_alloc,
    lsa_heap_free,
    lsa_client_alloc,
    lsa_client_free,
    lsa_copy_to_client,
    lsa_copy_from_client,
};

static SECPKG_DLL_FUNCTIONS dll_dispatch =
{
    lsa_heap_alloc,
    lsa_heap_free,
    lsa_register_callback,
};

/* ---------------------------------------------------------------------------------------
 * Loading.
 */

static BOOL load_package(const WCHAR *dll, ULONG id, struct lsa_package *package)
{
    NTSTATUS (NTAPI *lsa_init)(ULONG, ULONG *, SECPKG_FUNCTION_TABLE **, ULONG *);
    NTSTATUS (NTAPI *user_init)(ULONG, ULONG *, SECPKG_USER_FUNCTION_TABLE **, ULONG *);
    ULONG tables = 0;
    NTSTATUS status;
    int len;

    memset(package, 0, sizeof(*package));
    if (!(package->module = LoadLibraryW(dll))) return FALSE;
    if (!(lsa_init = (void *)GetProcAddress(package->module, "SpLsaModeInitialize"))) goto fail;
    status = lsa_init(SECPKG_INTERFACE_VERSION, &package->lsa_version, &package->lsa, &tables);
    if (status || !package->lsa || !tables || !package->lsa->InitializePackage) goto fail;
    if ((status = package->lsa->InitializePackage(id, &lsa_dispatch, NULL, NULL, &package->name))) goto fail;
    if (!package->name || !package->name->Buffer) goto fail;
    if (package->lsa->Initialize && (status = package->lsa->Initialize(id, NULL, NULL))) goto fail;
    if (!package->lsa->GetInfo || package->lsa->GetInfo(&package->info)) goto fail;

    if ((user_init = (void *)GetProcAddress(package->module, "SpUserModeInitialize")))
    {
        if (!user_init(SECPKG_INTERFACE_VERSION, &package->user_version, &package->user, &tables) && package->user)
        {
            if (package->user->InstanceInit) package->user->InstanceInit(SECPKG_INTERFACE_VERSION, &dll_dispatch, NULL);
        }
        else package->user = NULL;
    }

    len = MultiByteToWideChar(CP_ACP, 0, package->name->Buffer, package->name->Length, NULL, 0);
    if (!(package->nameW = sg_alloc((len + 1) * sizeof(WCHAR)))) goto fail;
    MultiByteToWideChar(CP_ACP, 0, package->name->Buffer, package->name->Length, package->nameW, len);
    package->nameW[len] = 0;
    package->id = id;
    TRACE("%s: package %s, id %lu, lsa table version %#lx, user table %p\n", debugstr_w(dll),
          debugstr_w(package->nameW), id, package->lsa_version, package->user);
    return TRUE;

fail:
    WARN("could not load LSA package %s\n", debugstr_w(dll));
    FreeLibrary(package->module);
    memset(package, 0, sizeof(*package));
    return FALSE;
}

static BOOL WINAPI load_packages(INIT_ONCE *once, void *param, void **context)
{
    WCHAR name[MAX_PATH];
    DWORD index = 0;
    HKEY key;

    if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, L"System\\CurrentControlSet\\Control\\Lsa", 0, KEY_READ, &key))
        return TRUE;
    while (package_count < MAX_LSA_PACKAGES)
    {
        LONG err = RegEnumKeyW(key, index++, name, ARRAY_SIZE(name));
        if (err == ERROR_NO_MORE_ITEMS) break;
        if (err) continue;
        /* Package ids count the subkeys from 1, as Wine's LSA numbers them. */
        if (load_package(name, index, &packages[package_count])) package_count++;
    }
    RegCloseKey(key);
    return TRUE;
}

static void ensure_loaded(void)
{
    InitOnceExecuteOnce(&packages_once, load_packages, NULL, NULL);
}

/* ---------------------------------------------------------------------------------------
 * Package lookup for the dispatcher.
 */

ULONG sg_lsa_package_count(void)
{
    ensure_loaded();
    return package_count;
}

const SecPkgInfoW *sg_lsa_package_info(ULONG index)
{
    ensure_loaded();
    return index < package_count ? &packages[index].info : NULL;
}

/* Index of the package with this name (its SecPkgInfo name or its LSA name), or -1. */
int sg_lsa_find_package(const WCHAR *name)
{
    ULONG i;

    if (!name) return -1;
    ensure_loaded();
    for (i = 0; i < package_count; i++)
    {
        if ((packages[i].info.Name && !wcsicmp(packages[i].info.Name, name)) || !wcsicmp(packages[i].nameW, name))
            return i;
    }
    return -1;
}

const WCHAR *sg_lsa_object_package(const struct sg_lsa_object *object)
{
    return object->package->info.Name;
}

/* ---------------------------------------------------------------------------------------
 * SSPI calls routed to a package.
 */

static struct sg_lsa_object *new_object(struct lsa_package *package, LSA_SEC_HANDLE handle)
{
    struct sg_lsa_object *object;

    if ((object = sg_alloc(sizeof(*object))))
    {
        object->package = package;
        object->handle = handle;
    }
    return object;
}

SECURITY_STATUS sg_lsa_acquire_credentials(int index, const WCHAR *principal, ULONG use, LUID *logon_id,
                                           void *auth_data, SEC_GET_KEY_FN get_key, void *get_key_arg,
                                           struct sg_lsa_object **cred, TimeStamp *expiry)
{
    struct lsa_package *package;
    UNICODE_STRING principal_us;
    LSA_SEC_HANDLE handle = 0;
    SECURITY_STATUS status;

    ensure_loaded();
    if (index < 0 || (ULONG)index >= package_count) return SEC_E_SECPKG_NOT_FOUND;
    package = &packages[index];
    if (!package->lsa->SpAcquireCredentialsHandle) return SEC_E_UNSUPPORTED_FUNCTION;
    if (principal) RtlInitUnicodeString(&principal_us, principal);
    status = package->lsa->SpAcquireCredentialsHandle(principal ? &principal_us : NULL, use, logon_id, auth_data,
                                                      get_key, get_key_arg, &handle, expiry);
    if (status != SEC_E_OK) return status;
    if (!(*cred = new_object(package, handle)))
    {
        if (package->lsa->FreeCredentialsHandle) package->lsa->FreeCredentialsHandle(handle);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    return SEC_E_OK;
}

SECURITY_STATUS sg_lsa_free_credentials(struct sg_lsa_object *cred)
{
    SECURITY_STATUS status = SEC_E_OK;

    if (cred->package->lsa->FreeCredentialsHandle) status = cred->package->lsa->FreeCredentialsHandle(cred->handle);
    sg_free(cred);
    return status;
}

SECURITY_STATUS sg_lsa_query_credentials_attributes(struct sg_lsa_object *cred, ULONG attribute, void *buffer)
{
    if (!cred->package->lsa->SpQueryCredentialsAttributes) return SEC_E_UNSUPPORTED_FUNCTION;
    return cred->package->lsa->SpQueryCredentialsAttributes(cred->handle, attribute, buffer);
}

SECURITY_STATUS sg_lsa_set_credentials_attributes(struct sg_lsa_object *cred, ULONG attribute, void *buffer, ULONG size)
{
    if (cred->package->lsa_version < SECPKG_INTERFACE_VERSION_3 || !cred->package->lsa->SetCredentialsAttributes)
        return SEC_E_UNSUPPORTED_FUNCTION;
    return cred->package->lsa->SetCredentialsAttributes(cred->handle, attribute, buffer, size);
}

/* A context call that succeeded (any success code) gets or keeps its object. */
static SECURITY_STATUS finish_context(struct lsa_package *package, struct sg_lsa_object *ctx, LSA_SEC_HANDLE handle,
                                      SECURITY_STATUS status, struct sg_lsa_object **new_ctx)
{
    if (status < 0) return status;
    if (ctx)
    {
        ctx->handle = handle;
        *new_ctx = ctx;
        return status;
    }
    if (!(*new_ctx = new_object(package, handle)))
    {
        if (package->lsa->DeleteContext) package->lsa->DeleteContext(handle);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    return status;
}

SECURITY_STATUS sg_lsa_initialize_context(struct sg_lsa_object *cred, struct sg_lsa_object *ctx, const WCHAR *target,
                                          ULONG req, ULONG data_rep, SecBufferDesc *input,
                                          struct sg_lsa_object **new_ctx, SecBufferDesc *output, ULONG *attrs,
                                          TimeStamp *expiry)
{
    struct lsa_package *package = ctx ? ctx->package : cred->package;
    LSA_SEC_HANDLE handle = ctx ? ctx->handle : 0;
    UNICODE_STRING target_us;
    BOOLEAN mapped = FALSE;
    SecBuffer context_data = { 0 };
    SECURITY_STATUS status;
    ULONG dummy_attrs;
    TimeStamp dummy_expiry;

    if (!package->lsa->InitLsaModeContext) return SEC_E_UNSUPPORTED_FUNCTION;
    if (target) RtlInitUnicodeString(&target_us, target);
    status = package->lsa->InitLsaModeContext(cred ? cred->handle : 0, ctx ? ctx->handle : 0,
                                              target ? &target_us : NULL, req, data_rep, input, &handle, output,
                                              attrs ? attrs : &dummy_attrs, expiry ? expiry : &dummy_expiry,
                                              &mapped, &context_data);
    return finish_context(package, ctx, handle, status, new_ctx);
}

SECURITY_STATUS sg_lsa_accept_context(struct sg_lsa_object *cred, struct sg_lsa_object *ctx, SecBufferDesc *input,
                                      ULONG req, ULONG data_rep, struct sg_lsa_object **new_ctx,
                                      SecBufferDesc *output, ULONG *attrs, TimeStamp *expiry)
{
    struct lsa_package *package = ctx ? ctx->package : cred->package;
    LSA_SEC_HANDLE handle = ctx ? ctx->handle : 0;
    BOOLEAN mapped = FALSE;
    SecBuffer context_data = { 0 };
    SECURITY_STATUS status;
    ULONG dummy_attrs;
    TimeStamp dummy_expiry;

    if (!package->lsa->AcceptLsaModeContext) return SEC_E_UNSUPPORTED_FUNCTION;
    status = package->lsa->AcceptLsaModeContext(cred ? cred->handle : 0, ctx ? ctx->handle : 0, input, req, data_rep,
                                                &handle, output, attrs ? attrs : &dummy_attrs,
                                                expiry ? expiry : &dummy_expiry, &mapped, &context_data);
    return finish_context(package, ctx, handle, status, new_ctx);
}

SECURITY_STATUS sg_lsa_delete_context(struct sg_lsa_object *ctx)
{
    SECURITY_STATUS status = SEC_E_OK;

    if (ctx->package->lsa->DeleteContext) status = ctx->package->lsa->DeleteContext(ctx->handle);
    sg_free(ctx);
    return status;
}

SECURITY_STATUS sg_lsa_query_context_attributes(struct sg_lsa_object *ctx, ULONG attribute, void *buffer)
{
    if (ctx->package->lsa->SpQueryContextAttributes)
        return ctx->package->lsa->SpQueryContextAttributes(ctx->handle, attribute, buffer);
    if (ctx->package->user && ctx->package->user->SpQueryContextAttributes)
        return ctx->package->user->SpQueryContextAttributes(ctx->handle, attribute, buffer);
    return SEC_E_UNSUPPORTED_FUNCTION;
}

SECURITY_STATUS sg_lsa_set_context_attributes(struct sg_lsa_object *ctx, ULONG attribute, void *buffer, ULONG size)
{
    if (ctx->package->lsa_version < SECPKG_INTERFACE_VERSION_2 || !ctx->package->lsa->SetContextAttributes)
        return SEC_E_UNSUPPORTED_FUNCTION;
    return ctx->package->lsa->SetContextAttributes(ctx->handle, attribute, buffer, size);
}

SECURITY_STATUS sg_lsa_apply_control_token(struct sg_lsa_object *ctx, SecBufferDesc *input)
{
    if (!ctx->package->lsa->ApplyControlToken) return SEC_E_UNSUPPORTED_FUNCTION;
    return ctx->package->lsa->ApplyControlToken(ctx->handle, input);
}

SECURITY_STATUS sg_lsa_complete_auth_token(struct sg_lsa_object *ctx, SecBufferDesc *token)
{
    if (!ctx->package->user || !ctx->package->user->CompleteAuthToken) return SEC_E_UNSUPPORTED_FUNCTION;
    return ctx->package->user->CompleteAuthToken(ctx->handle, token);
}

SECURITY_STATUS sg_lsa_query_context_token(struct sg_lsa_object *ctx, HANDLE *token)
{
    if (!ctx->package->user || !ctx->package->user->GetContextToken) return SEC_E_UNSUPPORTED_FUNCTION;
    return ctx->package->user->GetContextToken(ctx->handle, token);
}

SECURITY_STATUS sg_lsa_make_signature(struct sg_lsa_object *ctx, ULONG qop, SecBufferDesc *message, ULONG seq)
{
    if (!ctx->package->user || !ctx->package->user->MakeSignature) return SEC_E_UNSUPPORTED_FUNCTION;
    return ctx->package->user->MakeSignature(ctx->handle, qop, message, seq);
}

SECURITY_STATUS sg_lsa_verify_signature(struct sg_lsa_object *ctx, SecBufferDesc *message, ULONG seq, ULONG *qop)
{
    if (!ctx->package->user || !ctx->package->user->VerifySignature) return SEC_E_UNSUPPORTED_FUNCTION;
    return ctx->package->user->VerifySignature(ctx->handle, message, seq, qop);
}

SECURITY_STATUS sg_lsa_encrypt_message(struct sg_lsa_object *ctx, ULONG qop, SecBufferDesc *message, ULONG seq)
{
    if (!ctx->package->user || !ctx->package->user->SealMessage) return SEC_E_UNSUPPORTED_FUNCTION;
    return ctx->package->user->SealMessage(ctx->handle, qop, message, seq);
}

SECURITY_STATUS sg_lsa_decrypt_message(struct sg_lsa_object *ctx, SecBufferDesc *message, ULONG seq, ULONG *qop)
{
    if (!ctx->package->user || !ctx->package->user->UnsealMessage) return SEC_E_UNSUPPORTED_FUNCTION;
    return ctx->package->user->UnsealMessage(ctx->handle, message, seq, qop);
}

/* ---------------------------------------------------------------------------------------
 * Lsa* exports. An LSA connection handle is an object in the handle table's sense but
 * lives outside it: LSA handles are plain HANDLEs, so they carry a magic and are checked
 * before use.
 */

#define LSA_CONNECTION_MAGIC 0x4c534143u  /* "LSAC" */

struct lsa_connection
{
    ULONG magic;
};

static NTSTATUS new_connection(HANDLE *handle)
{
    struct lsa_connection *conn;

    if (!handle) return STATUS_INVALID_PARAMETER;
    if (!(conn = sg_alloc(sizeof(*conn)))) return STATUS_NO_MEMORY;
    conn->magic = LSA_CONNECTION_MAGIC;
    *handle = conn;
    return STATUS_SUCCESS;
}

NTSTATUS WINAPI LsaConnectUntrusted(HANDLE *handle)
{
    TRACE("%p\n", handle);
    return new_connection(handle);
}

NTSTATUS WINAPI LsaRegisterLogonProcess(LSA_STRING *name, HANDLE *handle, LSA_OPERATIONAL_MODE *mode)
{
    NTSTATUS status;

    TRACE("%p %p %p\n", name, handle, mode);
    if (!(status = new_connection(handle)) && mode) *mode = 0;
    return status;
}

NTSTATUS WINAPI LsaDeregisterLogonProcess(HANDLE handle)
{
    struct lsa_connection *conn = handle;

    TRACE("%p\n", handle);
    if (!conn || conn->magic != LSA_CONNECTION_MAGIC) return STATUS_INVALID_HANDLE;
    conn->magic = 0;
    sg_free(conn);
    return STATUS_SUCCESS;
}

NTSTATUS WINAPI LsaLookupAuthenticationPackage(HANDLE handle, LSA_STRING *name, ULONG *id)
{
    ULONG i;

    TRACE("%p %p %p\n", handle, name, id);
    if (!name || !id) return STATUS_INVALID_PARAMETER;
    ensure_loaded();
    for (i = 0; i < package_count; i++)
    {
        if (!RtlCompareString(packages[i].name, name, TRUE))
        {
            *id = packages[i].id;
            return STATUS_SUCCESS;
        }
    }
    return STATUS_NO_SUCH_PACKAGE;
}

NTSTATUS WINAPI LsaCallAuthenticationPackage(HANDLE handle, ULONG id, void *in, ULONG in_size, void **out,
                                             ULONG *out_size, NTSTATUS *result)
{
    ULONG i;

    TRACE("%p %lu %p %lu %p %p %p\n", handle, id, in, in_size, out, out_size, result);
    ensure_loaded();
    for (i = 0; i < package_count; i++)
    {
        if (packages[i].id != id) continue;
        if (!packages[i].lsa->CallPackageUntrusted) return STATUS_NOT_IMPLEMENTED;
        return packages[i].lsa->CallPackageUntrusted(NULL, in, in, in_size, out, out_size, result);
    }
    return STATUS_NO_SUCH_PACKAGE;
}

NTSTATUS WINAPI LsaFreeReturnBuffer(void *buffer)
{
    TRACE("%p\n", buffer);
    if (buffer) HeapFree(GetProcessHeap(), 0, buffer);
    return STATUS_SUCCESS;
}

NTSTATUS WINAPI LsaEnumerateLogonSessions(ULONG *count, LUID **list)
{
    FIXME("%p %p: no logon sessions in-process\n", count, list);
    if (!count || !list) return STATUS_INVALID_PARAMETER;
    *count = 0;
    *list = NULL;
    return STATUS_SUCCESS;
}

NTSTATUS WINAPI LsaGetLogonSessionData(LUID *luid, SECURITY_LOGON_SESSION_DATA **data)
{
    FIXME("%p %p: not implemented\n", luid, data);
    if (data) *data = NULL;
    return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS WINAPI LsaLogonUser(HANDLE handle, LSA_STRING *origin, SECURITY_LOGON_TYPE type, ULONG package,
                             void *info, ULONG info_size, TOKEN_GROUPS *groups, TOKEN_SOURCE *source,
                             void **profile, ULONG *profile_size, LUID *luid, HANDLE *token,
                             QUOTA_LIMITS *quotas, NTSTATUS *substatus)
{
    FIXME("%p %lu: not implemented\n", handle, package);
    return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS WINAPI LsaRegisterPolicyChangeNotification(POLICY_NOTIFICATION_INFORMATION_CLASS info_class, HANDLE event)
{
    FIXME("%d %p: not implemented\n", info_class, event);
    return STATUS_NOT_IMPLEMENTED;
}

NTSTATUS WINAPI LsaUnregisterPolicyChangeNotification(POLICY_NOTIFICATION_INFORMATION_CLASS info_class, HANDLE event)
{
    FIXME("%d %p: not implemented\n", info_class, event);
    return STATUS_NOT_IMPLEMENTED;
}
