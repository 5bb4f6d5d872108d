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
#include "lock.h"
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
    const struct sg_ctx *origin;  /* identity only: the context whose session this is */
    BOOL final;                   /* its data cannot change any more (TLS 1.0-1.2, from the final step) */
};

static struct sg_lock cache_lock = SG_LOCK_INIT;
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

/* Where fetching resumption data starts; grows to what sessions turn out to need. */
static LONG fetch_hint = 0x800;

/* The session's resumption data; NULL when it has none (yet). One call when it fits the
 * first guess. */
static BYTE *fetch_resume_data(struct sg_ctx *ctx, DWORD *size)
{
    struct sg_session_resume_params params = { 0 };
    DWORD capacity = fetch_hint;
    BYTE *data;
    int tries;

    params.session = ctx->session;
    for (tries = 0; tries < 2; tries++)
    {
        if (!(data = sg_alloc(capacity))) return NULL;
        params.buffer = (ULONG_PTR)data;
        params.size = capacity;
        if (!sg_unix_call(unix_session_get_resume, &params) && params.status == SG_OK && params.result_size
            && params.result_size <= capacity)
        {
            *size = params.result_size;
            return data;
        }
        sg_wipe(data, capacity);
        sg_free(data);
        if (params.status != SG_ERR_BUFFER_TOO_SMALL || params.result_size <= capacity
            || params.result_size > RESUME_DATA_MAX)
            return NULL;
        capacity = params.result_size;
        if ((LONG)capacity > fetch_hint) InterlockedExchange(&fetch_hint, capacity);
    }
    return NULL;
}

/* Whether the cache already holds this context's session in its last form. */
static BOOL already_cached(const struct sg_ctx *ctx)
{
    struct cache_entry *entry;
    BOOL found = FALSE;

    sg_lock_acquire(&cache_lock);
    for (entry = cache_head; entry && !found; entry = entry->next)
        found = entry->origin == ctx && entry->final && same_key(entry, ctx);
    sg_lock_release(&cache_lock);
    return found;
}

void sg_session_cache_store(struct sg_ctx *ctx)
{
    struct cache_entry *entry, **link;
    ULONGLONG now = GetTickCount64();
    DWORD size = 0;
    BYTE *data;
    BOOL final = FALSE;

    if (ctx->server || !ctx->target || !ctx->session) return;
    if (ctx->state != SG_CTX_ESTABLISHED && ctx->state != SG_CTX_CLOSED) return;
    /* The final handshake step brought the data along, or said there is none yet (a TLS 1.3
     * ticket comes after the handshake: the context asks again when it goes). */
    if (sg_client_take_resume(ctx, &data, &size))
    {
        if (!data) return;
        final = ctx->info.protocol != SG_PROTO_TLS1_3;
    }
    /* A resumed TLS 1.0-1.2 session is the cached one (the final step brings data only when
     * the server renewed its ticket). */
    else if (ctx->info.resumed && ctx->info.protocol != SG_PROTO_TLS1_3) return;
    else if (already_cached(ctx)) return;
    else if (!(data = fetch_resume_data(ctx, &size))) return;
    if (!(entry = sg_alloc_zero(sizeof(*entry))) || !(entry->target = sg_strdupW(ctx->target)))
    {
        sg_free(entry);
        sg_wipe(data, size);
        sg_free(data);
        return;
    }
    entry->cred = ctx->cred;
    entry->origin = ctx;
    entry->final = final;
    entry->data = data;
    entry->size = size;
    entry->expires = now + ctx->cred->session_lifespan;

    sg_lock_acquire(&cache_lock);
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
    sg_lock_release(&cache_lock);
    TRACE("cached a %lu byte session for %s\n", size, debugstr_w(ctx->target));
}

BOOL sg_session_cache_resume(struct sg_ctx *ctx)
{
    struct cache_entry *entry;
    ULONGLONG now = GetTickCount64();
    BOOL offered = FALSE;

    if (ctx->server || !ctx->target) return FALSE;
    sg_lock_acquire(&cache_lock);
    cache_prune(is_expired, &now);
    for (entry = cache_head; entry; entry = entry->next)
    {
        if (!same_key(entry, ctx)) continue;
        /* A copy goes with the first handshake step (clientctx.c). */
        offered = sg_client_offer_resume(ctx, entry->data, entry->size);
        break;
    }
    sg_lock_release(&cache_lock);
    TRACE("%s: %s\n", debugstr_w(ctx->target), offered ? "offering a cached session" : "no cached session");
    return offered;
}

void sg_session_cache_forget_cred(const struct sg_cred *cred)
{
    sg_lock_acquire(&cache_lock);
    cache_prune(has_cred, cred);
    sg_lock_release(&cache_lock);
}

void sg_session_cache_empty(void)
{
    sg_lock_acquire(&cache_lock);
    cache_prune(always, NULL);
    sg_lock_release(&cache_lock);
}
