/*
 * A small mutex for the PE side's short critical sections (the handle table's free list,
 * the client session cache).
 *
 * Why not an SRW lock: Wine's RtlReleaseSRWLockExclusive always goes through
 * RtlWakeAddressAll, which takes a hashed spin lock and walks a wait queue even when
 * nobody waits; in the profile of resumed handshakes that was as much as the locked work.
 * Here taking a free lock is one compare-and-swap and giving it up is one exchange; only
 * a thread that finds the lock taken waits, on the lock word (RtlWaitOnAddress), and only
 * a release that sees waiters wakes one.
 *
 * States: 0 free, 1 taken, 2 taken and someone may be waiting.
 */

#ifndef SCHANNEL_GNUTLS_LOCK_H
#define SCHANNEL_GNUTLS_LOCK_H

struct sg_lock
{
    LONG volatile state;
};
#define SG_LOCK_INIT { 0 }

static inline void sg_lock_acquire(struct sg_lock *lock)
{
    LONG state = InterlockedCompareExchange(&lock->state, 1, 0), busy = 2;

    if (!state) return;
    /* From here the lock is marked as waited for: whoever holds it wakes a waiter when it
     * lets go, and whoever takes it next keeps the mark (it cannot know nobody else waits). */
    if (state != 2) state = InterlockedExchange(&lock->state, 2);
    while (state)
    {
        RtlWaitOnAddress((const void *)&lock->state, &busy, sizeof(busy), NULL);
        state = InterlockedExchange(&lock->state, 2);
    }
}

static inline void sg_lock_release(struct sg_lock *lock)
{
    if (InterlockedExchange(&lock->state, 0) == 2) RtlWakeAddressSingle((const void *)&lock->state);
}

#endif /* SCHANNEL_GNUTLS_LOCK_H */
