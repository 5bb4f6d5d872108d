/*
 * Handle table: CredHandle and CtxtHandle values are never pointers.
 *
 * dwLower holds a slot index and the slot's generation; dwUpper holds a tag naming the
 * kind of object. A NULL, garbage, already-freed or other-kind handle fails the lookup
 * instead of being dereferenced. Lookups are O(1) and do not depend on how many
 * handles exist.
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

struct slot
{
    void *object;              /* NULL when free */
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

BOOL sg_handle_alloc(enum sg_handle_kind kind, void *object, SecHandle *handle)
{
    ULONG index;
    BOOL ok = TRUE;

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
        slots[index].object = object;
        slots[index].kind = kind;
        slots[index].next_free = 0;
        handle->dwLower = ((ULONG_PTR)slots[index].generation << SLOT_BITS) | (index + 1);
        handle->dwUpper = tag_of(kind);
    }
    ReleaseSRWLockExclusive(&table_lock);
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
    if (!slot->object || slot->kind != kind || slot->generation != generation) return NULL;
    return slot;
}

void *sg_handle_get(enum sg_handle_kind kind, const SecHandle *handle)
{
    struct slot *slot;
    void *object = NULL;

    AcquireSRWLockShared(&table_lock);
    if ((slot = lookup(kind, handle))) object = slot->object;
    ReleaseSRWLockShared(&table_lock);
    if (!object) TRACE("invalid handle %p (%Ix:%Ix)\n", handle, handle ? handle->dwLower : 0,
                       handle ? handle->dwUpper : 0);
    return object;
}

void *sg_handle_free(enum sg_handle_kind kind, const SecHandle *handle)
{
    struct slot *slot;
    void *object = NULL;

    AcquireSRWLockExclusive(&table_lock);
    if ((slot = lookup(kind, handle)))
    {
        object = slot->object;
        slot->object = NULL;
        slot->generation++;
        slot->next_free = free_head;
        free_head = (ULONG)(slot - slots) + 1;
    }
    ReleaseSRWLockExclusive(&table_lock);
    return object;
}

/* The kind of a live handle, or 0 when the handle is NULL, garbage or freed. */
enum sg_handle_kind sg_handle_kind_of(const SecHandle *handle)
{
    enum sg_handle_kind kind;

    if (!handle || !(kind = kind_of_tag(handle->dwUpper))) return 0;
    return sg_handle_get(kind, handle) ? kind : 0;
}
