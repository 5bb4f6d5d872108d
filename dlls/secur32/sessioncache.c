/*
 * The client session cache: what lets a second connection to the same server resume its
 * TLS session (TLS 1.2 session id or ticket, TLS 1.3 PSK ticket) instead of a full
 * handshake.
 *
 * An entry is reused only under the conditions "InitializeSecurityContext (Schannel)"
 * lists: same target name, entry not expired (dwSessionLifespan, 10 hours by default),
 * same process (the cache lives in it), same logon session (a process has one) and same
 * credential handle. SslEmptyCache drops everything.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

#define CACHE_MAX_ENTRIES 256
#define RESUME_DATA_MAX   0x10000

struct cache_entry
{
    struct cache_entry *next;
    const struct sg_cred *cred;   /* identity only: entries go when the credential does */
    WCHAR *target;
    BYTE *data;
    DWORD size;
    ULONGLONG expires;            /* GetTickCount64() time */
};

static SRWLOCK cache_lock = SRWLOCK_INIT;
static struct cache_entry *cache_head;
static unsigned int cache_count;

static void entry_free(struct cache_entry *entry)
{
    sg_wipe(entry->data, entry->size);
    sg_free(entry->data);
    sg_free(entry->target);
    sg_free(entry);
}

/* Unlinks and frees the entries for which drop() says so; called with the lock held. */
static void cache_prune(BOOL (*drop)(const struct cache_entry *, const void *), const void *arg)
{
    struct cache_entry **link = &cache_head, *entry;

    while ((entry = *link))
    {
        if (drop(entry, arg))
        {
            *link = entry->next;
            entry_free(entry);
            cache_count--;
        }
        else link = &entry->next;
    }
}

static BOOL is_expired(const struct cache_entry *entry, const void *arg)
{
    return entry->expires <= *(const ULONGLONG *)arg;
}

static BOOL has_cred(const struct cache_entry *entry, const void *arg)
{
    return entry->cred == arg;
}

static BOOL always(const struct cache_entry *entry, const void *arg)
{
    return TRUE;
}

static BOOL same_key(const struct cache_entry *entry, const struct sg_ctx *ctx)
{
    return entry->cred == ctx->cred && !wcscmp(entry->target, ctx->target);
}

/* The session's resumption data; NULL when it has none (yet). */
static BYTE *fetch_resume_data(struct sg_ctx *ctx, DWORD *size)
{
    struct sg_session_resume_params params = { 0 };
    BYTE *data;

    params.session = ctx->session;
    if (sg_unix_call(unix_session_get_resume, &params) || !params.result_size
        || params.result_size > RESUME_DATA_MAX)
        return NULL;
    if (!(data = sg_alloc(params.result_size))) return NULL;
    params.buffer = (ULONG_PTR)data;
    params.size = params.result_size;
    if (sg_unix_call(unix_session_get_resume, &params) || params.status != SG_OK || params.result_size != params.size)
    {
        sg_wipe(data, params.size);
        sg_free(data);
        return NULL;
    }
    *size = params.result_size;
    return data;
}

void sg_session_cache_store(struct sg_ctx *ctx)
{
    struct cache_entry *entry, **link;
    ULONGLONG now = GetTickCount64();
    DWORD size = 0;
    BYTE *data;

    if (ctx->server || !ctx->target || !ctx->session) return;
    if (ctx->state != SG_CTX_ESTABLISHED && ctx->state != SG_CTX_CLOSED) return;
    if (!(data = fetch_resume_data(ctx, &size))) return;
    if (!(entry = sg_alloc_zero(sizeof(*entry))) || !(entry->target = sg_strdupW(ctx->target)))
    {
        sg_free(entry);
        sg_wipe(data, size);
        sg_free(data);
        return;
    }
    entry->cred = ctx->cred;
    entry->data = data;
    entry->size = size;
    entry->expires = now + ctx->cred->session_lifespan;

    AcquireSRWLockExclusive(&cache_lock);
    cache_prune(is_expired, &now);
    /* One entry per (credential, target): the newest session replaces the older one. */
    for (link = &cache_head; *link; link = &(*link)->next)
    {
        if (!same_key(*link, ctx)) continue;
        entry->next = (*link)->next;
        entry_free(*link);
        *link = entry;
        entry = NULL;
        break;
    }
    if (entry)
    {
        if (cache_count >= CACHE_MAX_ENTRIES) cache_prune(always, NULL);
        entry->next = cache_head;
        cache_head = entry;
        cache_count++;
    }
    ReleaseSRWLockExclusive(&cache_lock);
    TRACE("cached a %lu byte session for %s\n", size, debugstr_w(ctx->target));
}

BOOL sg_session_cache_resume(struct sg_ctx *ctx)
{
    struct sg_session_resume_params params = { 0 };
    struct cache_entry *entry;
    ULONGLONG now = GetTickCount64();
    BOOL offered = FALSE;

    if (ctx->server || !ctx->target) return FALSE;
    AcquireSRWLockExclusive(&cache_lock);
    cache_prune(is_expired, &now);
    for (entry = cache_head; entry; entry = entry->next)
    {
        if (!same_key(entry, ctx)) continue;
        params.session = ctx->session;
        params.buffer = (ULONG_PTR)entry->data;
        params.size = entry->size;
        offered = !sg_unix_call(unix_session_set_resume, &params) && params.status == SG_OK;
        break;
    }
    ReleaseSRWLockExclusive(&cache_lock);
    TRACE("%s: %s\n", debugstr_w(ctx->target), offered ? "offering a cached session" : "no cached session");
    return offered;
}

void sg_session_cache_forget_cred(const struct sg_cred *cred)
{
    AcquireSRWLockExclusive(&cache_lock);
    cache_prune(has_cred, cred);
    ReleaseSRWLockExclusive(&cache_lock);
}

void sg_session_cache_empty(void)
{
    AcquireSRWLockExclusive(&cache_lock);
    cache_prune(always, NULL);
    ReleaseSRWLockExclusive(&cache_lock);
}
