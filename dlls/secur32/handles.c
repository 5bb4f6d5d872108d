/*
 * Handle table: CredHandle and CtxtHandle values are never pointers.
 *
 * dwLower holds a slot index and the slot's generation; dwUpper holds a tag naming the
 * kind of object. A NULL, garbage, already-freed or other-kind handle fails the lookup
 * instead of being dereferenced. Lookups are O(1) and do not depend on how many
 * handles exist.
 *
 * Lifetime: each slot carries one word of state: its generation, a "live" bit (the handle
 * is published), the context lock and a reference count: one reference for the handle
 * itself and one for every call in progress that pinned it (sg_handle_pin, taken by every
 * exported entry point in sspi.c). Freeing the handle clears the live bit and drops the handle's
 * reference; the object is destroyed by whoever drops the last one, and only then does the
 * slot go back to the free list with a new generation. So a DeleteSecurityContext or
 * FreeCredentialsHandle racing a call on the same handle never pulls the object from under
 * that call. While a call holds its pin, sg_handle_get on the same handle value returns
 * the pinned object or, once the handle is freed, NULL: never a destroyed object. Calls on
 * one context also run one at a time (the lock bit of its slot), as they share the engine
 * session.
 *
 * Readers take no lock: a pin is one compare-and-swap on the slot's state, which fails
 * when the generation moved on or the handle is no longer live; on a context it takes the
 * lock in the same step when nobody holds it, and unpinning releases both in one step
 * too. Only a call that finds the context busy waits (RtlWaitOnAddress on the state, woken
 * by the holder's release). Slots live in chunks that are never moved nor freed (chunk k
 * holds 64 << k slots), so a reader can always look at the slot an index names.
 * Allocation, freeing and recycling serialise on table_lock.
 */

#include "secur32_priv.h"
#include "lock.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(secur32);

/* One tag per kind: the tag says which package family a handle belongs to. */
#define TAG_CRED      0x53474352u  /* "SGCR": Schannel credentials */
#define TAG_CTX       0x53474358u  /* "SGCX": Schannel context */
#define TAG_LSA_CRED  0x53474c52u  /* "SGLR": LSA package (NTLM, Kerberos) credentials */
#define TAG_LSA_CTX   0x53474c58u  /* "SGLX": LSA package context */
#define TAG_NEGO_CRED 0x53474e52u  /* "SGNR": Negotiate credentials */
#define TAG_NEGO_CTX  0x53474e58u  /* "SGNX": Negotiate context */
static const ULONG kind_tags[SG_HANDLE_KIND_COUNT] =
{
    [SG_HANDLE_CRED] = TAG_CRED, [SG_HANDLE_CTX] = TAG_CTX,
    [SG_HANDLE_LSA_CRED] = TAG_LSA_CRED, [SG_HANDLE_LSA_CTX] = TAG_LSA_CTX,
    [SG_HANDLE_NEGO_CRED] = TAG_NEGO_CRED, [SG_HANDLE_NEGO_CTX] = TAG_NEGO_CTX,
};
#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define MAX_SLOTS (1u << 22)

#define FIRST_CHUNK_SHIFT 6    /* chunk k holds 64 << k slots */
#define CHUNK_COUNT 17         /* 64 * (2^17 - 1) >= MAX_SLOTS */

/* The state word: generation in the high 32 bits, then the live bit, the context lock, whether
 * calls may be waiting for it, and the references. */
#define STATE_LIVE    ((LONG64)1 << 31)
#define STATE_BUSY    ((LONG64)1 << 30)   /* a call holds the context's lock */
#define STATE_WAITERS ((LONG64)1 << 29)   /* a call may be waiting for the lock */
#define STATE_REFS    (STATE_WAITERS - 1)
#define STATE_GENERATION(state) ((ULONG)((ULONG64)(state) >> 32))
#define STATE_MAKE(generation) ((LONG64)((ULONG64)(generation) << 32))

struct sg_handle_slot
{
    LONG64 volatile state;
    void *object;              /* set before the handle is published, constant while referenced */
    sg_handle_destructor destroy;  /* set when the handle is freed */
    enum sg_handle_kind kind;
    ULONG next_free;           /* index + 1 of the next free slot, 0 for none (table_lock) */
    ULONG index;               /* where the slot is: handles carry index + 1 */
};

static struct sg_lock table_lock = SG_LOCK_INIT;
static struct sg_handle_slot *volatile chunks[CHUNK_COUNT];
static ULONG slot_count, free_head;   /* table_lock */

static ULONG tag_of(enum sg_handle_kind kind)
{
    return (kind > 0 && kind < SG_HANDLE_KIND_COUNT) ? kind_tags[kind] : 0;
}

static enum sg_handle_kind kind_of_tag(ULONG_PTR tag)
{
    switch (tag)
    {
    case TAG_CRED:      return SG_HANDLE_CRED;
    case TAG_CTX:       return SG_HANDLE_CTX;
    case TAG_LSA_CRED:  return SG_HANDLE_LSA_CRED;
    case TAG_LSA_CTX:   return SG_HANDLE_LSA_CTX;
    case TAG_NEGO_CRED: return SG_HANDLE_NEGO_CRED;
    case TAG_NEGO_CTX:  return SG_HANDLE_NEGO_CTX;
    default:            return 0;
    }
}

static LONG64 read_state(const struct sg_handle_slot *slot)
{
    return __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
}

/* The slot of a 0-based index, or NULL when its chunk does not exist (yet). */
static struct sg_handle_slot *slot_at(ULONG index)
{
    ULONG position = index + (1u << FIRST_CHUNK_SHIFT), chunk;
    struct sg_handle_slot *base;

    if (index >= MAX_SLOTS) return NULL;
    chunk = 31 - __builtin_clz(position) - FIRST_CHUNK_SHIFT;
    if (!(base = __atomic_load_n(&chunks[chunk], __ATOMIC_ACQUIRE))) return NULL;
    return &base[position - (1u << (chunk + FIRST_CHUNK_SHIFT))];
}

/* Called with table_lock held: the slot for index slot_count, its chunk created if needed. */
static struct sg_handle_slot *new_slot(void)
{
    ULONG position = slot_count + (1u << FIRST_CHUNK_SHIFT), chunk;
    struct sg_handle_slot *base;

    if (slot_count >= MAX_SLOTS) return NULL;
    chunk = 31 - __builtin_clz(position) - FIRST_CHUNK_SHIFT;
    if (!chunks[chunk])
    {
        if (!(base = sg_alloc_zero(((SIZE_T)1 << (chunk + FIRST_CHUNK_SHIFT)) * sizeof(*base)))) return NULL;
        __atomic_store_n(&chunks[chunk], base, __ATOMIC_RELEASE);
    }
    base = slot_at(slot_count);
    base->index = slot_count++;
    return base;
}

static BOOL is_context_kind(enum sg_handle_kind kind)
{
    return kind == SG_HANDLE_CTX || kind == SG_HANDLE_LSA_CTX || kind == SG_HANDLE_NEGO_CTX;
}

/* The slot a handle of this kind names, or NULL; says nothing about whether it is live. */
static struct sg_handle_slot *slot_of(enum sg_handle_kind kind, const SecHandle *handle)
{
    ULONG index;

    if (!handle || !tag_of(kind) || handle->dwUpper != tag_of(kind)) return NULL;
    index = (ULONG)(handle->dwLower & SLOT_MASK);
    if (!index) return NULL;
    return slot_at(index - 1);
}

static ULONG generation_of(const SecHandle *handle)
{
    return (ULONG)(handle->dwLower >> SLOT_BITS);
}

/* The handle this state belongs to is live: same generation, published. The kind is
 * read after the state: it only changes when the slot is recycled, which changes the
 * generation, so a later compare-and-swap on the same state value proves it current. */
static BOOL state_matches(LONG64 state, const struct sg_handle_slot *slot, enum sg_handle_kind kind, ULONG generation)
{
    return (state & STATE_LIVE) && STATE_GENERATION(state) == generation && slot->kind == kind;
}

BOOL sg_handle_alloc(enum sg_handle_kind kind, void *object, SecHandle *handle)
{
    struct sg_handle_slot *slot = NULL;
    ULONG generation;

    sg_lock_acquire(&table_lock);
    if (free_head)
    {
        slot = slot_at(free_head - 1);
        free_head = slot->next_free;
    }
    else slot = new_slot();
    if (slot)
    {
        slot->object = object;
        slot->destroy = NULL;
        slot->kind = kind;
        slot->next_free = 0;
        generation = STATE_GENERATION(slot->state);
        handle->dwLower = ((ULONG_PTR)generation << SLOT_BITS) | (ULONG_PTR)(slot->index + 1);
        handle->dwUpper = tag_of(kind);
        /* Published: from here a pin can succeed. */
        __atomic_store_n(&slot->state, STATE_MAKE(generation) | STATE_LIVE | 1, __ATOMIC_RELEASE);
    }
    sg_lock_release(&table_lock);
    return slot != NULL;
}

/* Called with table_lock held, once the last reference is gone: the slot gets a new
 * generation (every old handle value now fails) and goes back to the free list. */
static void recycle(struct sg_handle_slot *slot)
{
    LONG64 state = read_state(slot);

    slot->object = NULL;
    slot->destroy = NULL;
    __atomic_store_n(&slot->state, STATE_MAKE(STATE_GENERATION(state) + 1), __ATOMIC_RELEASE);
    slot->next_free = free_head;
    free_head = slot->index + 1;
}

void *sg_handle_get(enum sg_handle_kind kind, const SecHandle *handle)
{
    struct sg_handle_slot *slot = slot_of(kind, handle);
    void *object = NULL;
    ULONG generation;

    if (slot)
    {
        generation = generation_of(handle);
        if (state_matches(read_state(slot), slot, kind, generation))
        {
            object = __atomic_load_n(&slot->object, __ATOMIC_RELAXED);
            /* Still the same handle after the read: a recycled slot has another generation. */
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (!state_matches(read_state(slot), slot, kind, generation)) object = NULL;
        }
    }
    if (!object) TRACE("invalid handle %p (%Ix:%Ix)\n", handle, handle ? handle->dwLower : 0,
                       handle ? handle->dwUpper : 0);
    return object;
}

/* Drops one reference and, when locked, the context's lock (waking whoever waits for it);
 * the last reference (the handle freed, no pin left) destroys the object. */
static void slot_release(struct sg_handle_slot *slot, BOOL locked)
{
    LONG64 state = read_state(slot), next, seen;
    sg_handle_destructor destroy;
    void *object;

    for (;; state = seen)
    {
        next = state - 1;
        if (locked) next &= ~(STATE_BUSY | STATE_WAITERS);
        if ((seen = InterlockedCompareExchange64(&slot->state, next, state)) == state) break;
    }
    /* Slots are never freed: waking on a slot recycled meanwhile is harmless. */
    if (locked && (state & STATE_WAITERS)) RtlWakeAddressAll((const void *)&slot->state);
    if (next & (STATE_LIVE | STATE_REFS)) return;
    sg_lock_acquire(&table_lock);
    destroy = slot->destroy;
    object = slot->object;
    recycle(slot);
    sg_lock_release(&table_lock);
    destroy(object);
}

/* Only the handle's reference goes: a call that pinned the object keeps it until it ends. */
BOOL sg_handle_free(enum sg_handle_kind kind, const SecHandle *handle, sg_handle_destructor destroy)
{
    struct sg_handle_slot *slot = slot_of(kind, handle);
    void *object = NULL;
    BOOL freed = FALSE;
    LONG64 state;

    if (!slot) return FALSE;
    sg_lock_acquire(&table_lock);
    if (state_matches(read_state(slot), slot, kind, generation_of(handle)))
    {
        /* Only frees clear the live bit, and they hold table_lock: it is still set here, so
         * one subtraction unpublishes the handle and drops its reference. A pin racing
         * with it fails its compare-and-swap and then sees the handle gone. */
        slot->destroy = destroy;
        state = InterlockedExchangeAdd64(&slot->state, -(STATE_LIVE + 1)) - (STATE_LIVE + 1);
        if (!(state & STATE_REFS))
        {
            object = slot->object;
            recycle(slot);
        }
        freed = TRUE;
    }
    sg_lock_release(&table_lock);
    if (object) destroy(object);
    return freed;
}

/* A pinned context whose lock another call holds: wait for it. A call that gives the lock
 * up clears STATE_WAITERS and wakes every waiter; those that lose the race set it again. */
static void lock_wait(struct sg_handle_slot *slot)
{
    LONG64 state = read_state(slot), seen;

    TRACE("slot %lu busy, waiting\n", slot->index + 1);
    for (;;)
    {
        if (!(state & STATE_BUSY))
        {
            if ((seen = InterlockedCompareExchange64(&slot->state, state | STATE_BUSY, state)) == state) return;
            state = seen;
            continue;
        }
        if (!(state & STATE_WAITERS))
        {
            if ((seen = InterlockedCompareExchange64(&slot->state, state | STATE_WAITERS, state)) != state)
            {
                state = seen;
                continue;
            }
            state |= STATE_WAITERS;
        }
        /* Returns at once when the state is no longer the one seen, e.g. the lock was released. */
        RtlWaitOnAddress((const void *)&slot->state, &state, sizeof(state), NULL);
        state = read_state(slot);
    }
}

/* serialize: a context's calls take its lock. A credential is shared by many contexts
 * and is not locked; nor is a context handle passed where a credential is expected. */
enum sg_handle_kind sg_handle_pin(const SecHandle *handle, BOOL serialize, struct sg_pin *pin)
{
    enum sg_handle_kind kind = handle ? kind_of_tag(handle->dwUpper) : 0;
    struct sg_handle_slot *slot;
    ULONG generation;
    LONG64 state, next, seen;
    BOOL lock;

    pin->slot = NULL;
    pin->kind = 0;
    pin->object = NULL;
    pin->locked = FALSE;
    if (!kind || !(slot = slot_of(kind, handle))) return 0;
    generation = generation_of(handle);
    lock = serialize && is_context_kind(kind);
    for (state = read_state(slot);; state = seen)
    {
        if (!state_matches(state, slot, kind, generation)) return 0;
        /* A reference, and the lock in the same step when it is free. */
        next = state + 1;
        if (lock) next |= STATE_BUSY;
        if ((seen = InterlockedCompareExchange64(&slot->state, next, state)) == state) break;
    }
    /* Someone else holds the lock: our reference keeps the slot while we wait. */
    if (lock && (state & STATE_BUSY)) lock_wait(slot);
    pin->slot = slot;
    pin->kind = kind;
    pin->object = slot->object;
    pin->locked = lock;
    return kind;
}

void sg_handle_unpin(struct sg_pin *pin)
{
    if (!pin->slot) return;
    slot_release(pin->slot, pin->locked);
    pin->slot = NULL;
    pin->kind = 0;
    pin->object = NULL;
    pin->locked = FALSE;
}

/* The kind of a live handle, or 0 when the handle is NULL, garbage or freed. */
enum sg_handle_kind sg_handle_kind_of(const SecHandle *handle)
{
    enum sg_handle_kind kind;

    if (!handle || !(kind = kind_of_tag(handle->dwUpper))) return 0;
    return sg_handle_get(kind, handle) ? kind : 0;
}
