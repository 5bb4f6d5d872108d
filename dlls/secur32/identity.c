/*
 * Sspi* helpers for opaque authentication identities (SEC_WINNT_AUTH_IDENTITY_OPAQUE).
 *
 * An identity made here is one block: a SEC_WINNT_AUTH_IDENTITY_W in Unicode followed by
 * its strings, so it can be handed to AcquireCredentialsHandleW of NTLM, Kerberos or
 * Negotiate as it is. Strings handed back to the caller come from LocalAlloc, which
 * SspiLocalFree releases. Identities are not encrypted in memory (SspiEncryptAuthIdentity
 * is not supported; see README).
 */

#include "secur32_priv.h"
#include "rpc.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

SECURITY_STATUS WINAPI SspiEncodeStringsAsAuthIdentity(const WCHAR *user, const WCHAR *domain,
                                                       const WCHAR *password, void **identity);
SECURITY_STATUS WINAPI SspiEncodeAuthIdentityAsStrings(void *identity, const WCHAR **user, const WCHAR **domain,
                                                       const WCHAR **password);
SECURITY_STATUS WINAPI SspiCopyAuthIdentity(void *identity, void **copy);
SECURITY_STATUS WINAPI SspiCompareAuthIdentities(void *id1, void *id2, BOOLEAN *same_user, BOOLEAN *same_creds);
SECURITY_STATUS WINAPI SspiValidateAuthIdentity(void *identity);
SECURITY_STATUS WINAPI SspiDecryptAuthIdentity(void *identity);
SECURITY_STATUS WINAPI SspiDecryptAuthIdentityEx(ULONG options, void *identity);
SECURITY_STATUS WINAPI SspiGetTargetHostName(const WCHAR *target, WCHAR **host);
BOOLEAN WINAPI SspiIsAuthIdentityEncrypted(void *identity);
void WINAPI SspiZeroAuthIdentity(void *identity);
void WINAPI SspiFreeAuthIdentity(void *identity);
void WINAPI SspiLocalFree(void *ptr);

static ULONG len_or_zero(const WCHAR *str)
{
    return str ? lstrlenW(str) : 0;
}

static WCHAR *append(WCHAR **strings, const WCHAR *str, ULONG len)
{
    WCHAR *ret;

    if (!str) return NULL;
    ret = *strings;
    memcpy(ret, str, len * sizeof(WCHAR));
    ret[len] = 0;
    *strings += len + 1;
    return ret;
}

static SEC_WINNT_AUTH_IDENTITY_W *make_identity(const WCHAR *user, ULONG user_len, const WCHAR *domain,
                                                ULONG domain_len, const WCHAR *password, ULONG password_len)
{
    SEC_WINNT_AUTH_IDENTITY_W *id;
    SIZE_T size = sizeof(*id) + (user_len + domain_len + password_len + 3) * sizeof(WCHAR);
    WCHAR *strings;

    if (!(id = sg_alloc_zero(size))) return NULL;
    strings = (WCHAR *)(id + 1);
    id->Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
    id->User = (unsigned short *)append(&strings, user, user_len);
    id->UserLength = user ? user_len : 0;
    id->Domain = (unsigned short *)append(&strings, domain, domain_len);
    id->DomainLength = domain ? domain_len : 0;
    id->Password = (unsigned short *)append(&strings, password, password_len);
    id->PasswordLength = password ? password_len : 0;
    return id;
}

SECURITY_STATUS WINAPI SspiEncodeStringsAsAuthIdentity(const WCHAR *user, const WCHAR *domain,
                                                       const WCHAR *password, void **identity)
{
    SEC_WINNT_AUTH_IDENTITY_W *id;

    TRACE("%s %s %p %p\n", debugstr_w(user), debugstr_w(domain), password, identity);
    if (!user && !domain && !password) return SEC_E_INVALID_TOKEN;
    if (!identity) return SEC_E_INVALID_PARAMETER;
    if (!(id = make_identity(user, len_or_zero(user), domain, len_or_zero(domain), password, len_or_zero(password))))
        return SEC_E_INSUFFICIENT_MEMORY;
    *identity = id;
    return SEC_E_OK;
}

static WCHAR *local_strdup(const WCHAR *str, ULONG len)
{
    WCHAR *ret;

    if (!str) return NULL;
    if ((ret = LocalAlloc(LMEM_FIXED, (len + 1) * sizeof(WCHAR))))
    {
        memcpy(ret, str, len * sizeof(WCHAR));
        ret[len] = 0;
    }
    return ret;
}

SECURITY_STATUS WINAPI SspiEncodeAuthIdentityAsStrings(void *identity, const WCHAR **user, const WCHAR **domain,
                                                       const WCHAR **password)
{
    SEC_WINNT_AUTH_IDENTITY_W *id = identity;
    WCHAR *u = NULL, *d = NULL, *p = NULL;

    TRACE("%p %p %p %p\n", identity, user, domain, password);
    if (!id || !user || !domain || !password) return SEC_E_INVALID_PARAMETER;
    if ((id->User && !(u = local_strdup(id->User, id->UserLength)))
        || (id->Domain && !(d = local_strdup(id->Domain, id->DomainLength)))
        || (id->Password && !(p = local_strdup(id->Password, id->PasswordLength))))
    {
        LocalFree(u);
        LocalFree(d);
        LocalFree(p);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    *user = u;
    *domain = d;
    *password = p;
    return SEC_E_OK;
}

SECURITY_STATUS WINAPI SspiCopyAuthIdentity(void *identity, void **copy)
{
    SEC_WINNT_AUTH_IDENTITY_W *id = identity, *ret;

    TRACE("%p %p\n", identity, copy);
    if (!id || !copy) return SEC_E_INVALID_PARAMETER;
    if (!(ret = make_identity(id->User, id->UserLength, id->Domain, id->DomainLength, id->Password,
                              id->PasswordLength)))
        return SEC_E_INSUFFICIENT_MEMORY;
    *copy = ret;
    return SEC_E_OK;
}

static BOOL same_string(const unsigned short *a, ULONG a_len, const unsigned short *b, ULONG b_len, BOOL nocase)
{
    if (a_len != b_len) return FALSE;
    if (!a_len) return TRUE;
    if (nocase) return CompareStringOrdinal(a, a_len, b, b_len, TRUE) == CSTR_EQUAL;
    return !memcmp(a, b, a_len * sizeof(WCHAR));
}

SECURITY_STATUS WINAPI SspiCompareAuthIdentities(void *id1, void *id2, BOOLEAN *same_user, BOOLEAN *same_creds)
{
    SEC_WINNT_AUTH_IDENTITY_W *a = id1, *b = id2;
    BOOLEAN user;

    TRACE("%p %p %p %p\n", id1, id2, same_user, same_creds);
    if (!a || !b) return SEC_E_INVALID_PARAMETER;
    user = same_string(a->User, a->UserLength, b->User, b->UserLength, TRUE)
        && same_string(a->Domain, a->DomainLength, b->Domain, b->DomainLength, TRUE);
    if (same_user) *same_user = user;
    if (same_creds) *same_creds = user && same_string(a->Password, a->PasswordLength, b->Password,
                                                      b->PasswordLength, FALSE);
    return SEC_E_OK;
}

SECURITY_STATUS WINAPI SspiValidateAuthIdentity(void *identity)
{
    SEC_WINNT_AUTH_IDENTITY_W *id = identity;

    TRACE("%p\n", identity);
    if (!id) return SEC_E_INVALID_PARAMETER;
    if (id->Flags & ~(SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_UNICODE)) return SEC_E_INVALID_PARAMETER;
    return SEC_E_OK;
}

BOOLEAN WINAPI SspiIsAuthIdentityEncrypted(void *identity)
{
    TRACE("%p\n", identity);
    return FALSE;
}

/* Nothing is encrypted, so there is nothing to decrypt. */
SECURITY_STATUS WINAPI SspiDecryptAuthIdentity(void *identity)
{
    TRACE("%p\n", identity);
    return identity ? SEC_E_OK : SEC_E_INVALID_PARAMETER;
}

SECURITY_STATUS WINAPI SspiDecryptAuthIdentityEx(ULONG options, void *identity)
{
    TRACE("%#lx %p\n", options, identity);
    return identity ? SEC_E_OK : SEC_E_INVALID_PARAMETER;
}

/* "service/host:port/name" -> "host". */
SECURITY_STATUS WINAPI SspiGetTargetHostName(const WCHAR *target, WCHAR **host)
{
    const WCHAR *start, *end;
    WCHAR *ret;

    TRACE("%s %p\n", debugstr_w(target), host);
    if (!target || !host) return SEC_E_INVALID_PARAMETER;
    start = wcschr(target, '/') ? wcschr(target, '/') + 1 : target;
    for (end = start; *end && *end != ':' && *end != '/'; end++) ;
    if (!(ret = local_strdup(start, end - start))) return SEC_E_INSUFFICIENT_MEMORY;
    *host = ret;
    return SEC_E_OK;
}

void WINAPI SspiZeroAuthIdentity(void *identity)
{
    SEC_WINNT_AUTH_IDENTITY_W *id = identity;

    TRACE("%p\n", identity);
    if (!id) return;
    if (id->User) sg_wipe(id->User, id->UserLength * sizeof(WCHAR));
    if (id->Domain) sg_wipe(id->Domain, id->DomainLength * sizeof(WCHAR));
    if (id->Password) sg_wipe(id->Password, id->PasswordLength * sizeof(WCHAR));
}

void WINAPI SspiFreeAuthIdentity(void *identity)
{
    TRACE("%p\n", identity);
    if (!identity) return;
    SspiZeroAuthIdentity(identity);
    sg_free(identity);
}

void WINAPI SspiLocalFree(void *ptr)
{
    TRACE("%p\n", ptr);
    LocalFree(ptr);
}
