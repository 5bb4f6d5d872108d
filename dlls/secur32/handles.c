/*
 * Handle table: CredHandle and CtxtHandle values are never pointers.
 *
 * dwLower holds a slot index and the slot's generation; dwUpper holds a tag naming the
 * kind of object. A NULL, garbage, already-freed or other-kind handle fails the lookup
 * instead of being dereferenced. Lookups are O(1) and do not depend on how many
 * handles exist.
 *
 * Lifetime: each handle's object sits in an entry with a reference count: one reference
 * for the handle itself and one for every call in progress that pinned it (sg_handle_pin,
 * taken by every exported entry point in sspi.c). Freeing the handle only takes it out of
 * the table and drops the handle's reference; the object is destroyed by whoever drops
 * the last one, so a DeleteSecurityContext or FreeCredentialsHandle racing a call on the
 * same handle never pulls the object from under that call. While a call holds its pin,
 * sg_handle_get on the same handle value returns the pinned object or, once the handle
 * is freed, NULL: never a destroyed object. Calls on one context also run one at a
 * time (the entry's lock), as they share the engine session.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

/* One tag per kind: the tag says which package family a handle belongs to. */
static const ULONG kind_tags[SG_HANDLE_KIND_COUNT] =
{
    [SG_HANDLE_CRED]      = 0x53474352u,  /* "SGCR": Schannel credentials */
    [SG_HANDLE_CTX]       = 0x53474358u,  /* "SGCX": Schannel context */
    [SG_HANDLE_LSA_CRED]  = 0x53474c52u,  /* "SGLR": LSA package (NTLM, Kerberos) credentials */
    [SG_HANDLE_LSA_CTX]   = 0x53474c58u,  /* "SGLX": LSA package context */
    [SG_HANDLE_NEGO_CRED] = 0x53474e52u,  /* "SGNR": Negotiate credentials */
    [SG_HANDLE_NEGO_CTX]  = 0x53474e58u,  /* "SGNX": Negotiate context */
};
#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define MAX_SLOTS (1u << 22)

struct sg_handle_entry
{
    LONG refs;                 /* the handle's own, plus one per pin */
    void *object;
    sg_handle_destructor destroy;  /* set when the handle is freed */
    CRITICAL_SECTION lock;     /* contexts: held by their calls, one at a time */
};

struct slot
{
    struct sg_handle_entry *entry; /* NULL when free */
    ULONG generation;          /* bumped on every free, so stale handles fail */
    enum sg_handle_kind kind;
    ULONG next_free;           /* index + 1 of the next free slot, 0 for none */
};

static SRWLOCK table_lock = SRWLOCK_INIT;
static struct slot *slots;
static ULONG slot_count, slot_capacity, free_head;

static ULONG tag_of(enum sg_handle_kind kind)
{
    return (kind > 0 && kind < SG_HANDLE_KIND_COUNT) ? kind_tags[kind] : 0;
}

static enum sg_handle_kind kind_of_tag(ULONG_PTR tag)
{
    enum sg_handle_kind kind;

    for (kind = 1; kind < SG_HANDLE_KIND_COUNT; kind++)
        if (kind_tags[kind] == tag) return kind;
    return 0;
}

static BOOL grow(void)
{
    ULONG capacity = slot_capacity ? slot_capacity * 2 : 64;
    struct slot *grown;

    if (capacity > MAX_SLOTS) return FALSE;
    if (!(grown = sg_alloc_zero(capacity * sizeof(*grown)))) return FALSE;
    if (slots) memcpy(grown, slots, slot_count * sizeof(*grown));
    sg_free(slots);
    slots = grown;
    slot_capacity = capacity;
    return TRUE;
}

static BOOL is_context_kind(enum sg_handle_kind kind)
{
    return kind == SG_HANDLE_CTX || kind == SG_HANDLE_LSA_CTX || kind == SG_HANDLE_NEGO_CTX;
}

/*
 * A context lock that never waited owns nothing: no semaphore (Wine waits on a futex or
 * keyed event) and, being created without debug info, no heap block. Deleting it anyway
 * makes Wine close a NULL handle, a wineserver round trip per context (measured: +66%
 * resumed TLS 1.2 handshakes per second without it). Only a lock that owns something is
 * deleted.
 */
static void lock_release(CRITICAL_SECTION *lock)
{
    if (lock->LockSemaphore || (lock->DebugInfo && lock->DebugInfo != (RTL_CRITICAL_SECTION_DEBUG *)-1))
        DeleteCriticalSection(lock);
}

BOOL sg_handle_alloc(enum sg_handle_kind kind, void *object, SecHandle *handle)
{
    struct sg_handle_entry *entry;
    ULONG index;
    BOOL ok = TRUE;

    if (!(entry = sg_alloc_zero(sizeof(*entry)))) return FALSE;
    entry->refs = 1;
    entry->object = object;
    /* Not an SRW lock: Wine's exclusive release always goes to wake waiters, which costs
     * three times an uncontended critical section on the EncryptMessage path. */
    if (is_context_kind(kind)) InitializeCriticalSectionEx(&entry->lock, 0, CRITICAL_SECTION_NO_DEBUG_INFO);
    AcquireSRWLockExclusive(&table_lock);
    if (free_head)
    {
        index = free_head - 1;
        free_head = slots[index].next_free;
    }
    else if (slot_count < slot_capacity || grow())
        index = slot_count++;
    else
        ok = FALSE;
    if (ok)
    {
        slots[index].entry = entry;
        slots[index].kind = kind;
        slots[index].next_free = 0;
        handle->dwLower = ((ULONG_PTR)slots[index].generation << SLOT_BITS) | (index + 1);
        handle->dwUpper = tag_of(kind);
    }
    ReleaseSRWLockExclusive(&table_lock);
    if (!ok)
    {
        if (is_context_kind(kind)) lock_release(&entry->lock);
        sg_free(entry);
    }
    return ok;
}

/* Called with the lock held. */
static struct slot *lookup(enum sg_handle_kind kind, const SecHandle *handle)
{
    ULONG index, generation;
    struct slot *slot;

    if (!handle || !tag_of(kind) || handle->dwUpper != tag_of(kind)) return NULL;
    index = (ULONG)(handle->dwLower & SLOT_MASK);
    generation = (ULONG)(handle->dwLower >> SLOT_BITS);
    if (!index || index > slot_count) return NULL;
    slot = &slots[index - 1];
    if (!slot->entry || slot->kind != kind || slot->generation != generation) return NULL;
    return slot;
}

void *sg_handle_get(enum sg_handle_kind kind, const SecHandle *handle)
{
    struct slot *slot;
    void *object = NULL;

    AcquireSRWLockShared(&table_lock);
    if ((slot = lookup(kind, handle))) object = slot->entry->object;
    ReleaseSRWLockShared(&table_lock);
    if (!object) TRACE("invalid handle %p (%Ix:%Ix)\n", handle, handle ? handle->dwLower : 0,
                       handle ? handle->dwUpper : 0);
    return object;
}

static void entry_release(struct sg_handle_entry *entry, enum sg_handle_kind kind)
{
    if (InterlockedDecrement(&entry->refs)) return;
    entry->destroy(entry->object);
    if (is_context_kind(kind)) lock_release(&entry->lock);
    sg_free(entry);
}

/* Only the handle's reference goes: a call that pinned the object keeps it until it ends. */
BOOL sg_handle_free(enum sg_handle_kind kind, const SecHandle *handle, sg_handle_destructor destroy)
{
    struct sg_handle_entry *entry = NULL;
    struct slot *slot;

    AcquireSRWLockExclusive(&table_lock);
    if ((slot = lookup(kind, handle)))
    {
        entry = slot->entry;
        slot->entry = NULL;
        slot->generation++;
        slot->next_free = free_head;
        free_head = (ULONG)(slot - slots) + 1;
    }
    ReleaseSRWLockExclusive(&table_lock);
    if (!entry) return FALSE;
    /* No pin can be taken any more: the count only goes down from here. */
    entry->destroy = destroy;
    entry_release(entry, kind);
    return TRUE;
}

/* serialize: a context's calls take its lock. A credential is shared by many contexts
 * and is not locked; nor is a context handle passed where a credential is expected. */
enum sg_handle_kind sg_handle_pin(const SecHandle *handle, BOOL serialize, struct sg_pin *pin)
{
    enum sg_handle_kind kind = handle ? kind_of_tag(handle->dwUpper) : 0;
    struct slot *slot;

    memset(pin, 0, sizeof(*pin));
    if (!kind) return 0;
    AcquireSRWLockShared(&table_lock);
    if ((slot = lookup(kind, handle)))
    {
        pin->entry = slot->entry;
        InterlockedIncrement(&pin->entry->refs);
    }
    ReleaseSRWLockShared(&table_lock);
    if (!pin->entry) return 0;
    pin->kind = kind;
    pin->object = pin->entry->object;
    if (serialize && is_context_kind(kind))
    {
        EnterCriticalSection(&pin->entry->lock);
        pin->locked = TRUE;
    }
    return kind;
}

void sg_handle_unpin(struct sg_pin *pin)
{
    if (!pin->entry) return;
    if (pin->locked) LeaveCriticalSection(&pin->entry->lock);
    entry_release(pin->entry, pin->kind);
    memset(pin, 0, sizeof(*pin));
}

/* The kind of a live handle, or 0 when the handle is NULL, garbage or freed. */
enum sg_handle_kind sg_handle_kind_of(const SecHandle *handle)
{
    enum sg_handle_kind kind;

    if (!handle || !(kind = kind_of_tag(handle->dwUpper))) return 0;
    return sg_handle_get(kind, handle) ? kind : 0;
}
