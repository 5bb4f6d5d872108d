/*
 * secur32's Unix-side engine: the record fast path of established TLS (stream) sessions.
 *
 * With TLS 1.2 or 1.3 and AES-128/256-GCM or ChaCha20-Poly1305, engine_encrypt and
 * engine_decrypt seal and open application-data records themselves, in the caller's
 * buffers, with the session's keys and sequence numbers taken from GnuTLS
 * (gnutls_record_get_state) and AEAD handles of their own: no copy of the record, no
 * allocation per record. Everything else (handshake and post-handshake messages, alerts,
 * anything unusual or broken) stays with GnuTLS.
 *
 * While the fast path is active GnuTLS's sequence numbers are stale: engine_fastrec_release()
 * hands them back, and must run before ANY GnuTLS call that reads or writes records on the
 * session. The keys are read again the next time the fast path starts, so what GnuTLS did
 * in between (KeyUpdate, renegotiation) is picked up.
 *
 * Sessions own no AEAD handles (about 730 bytes each for AES-GCM, which would duplicate the
 * key schedules GnuTLS keeps for the session anyway): each thread keeps a few handles, found
 * by cipher and key, and re-keys the least recently used one when a key is not among them.
 * A thread serving a handful of connections, or both ends of one, never re-keys. A freed
 * session wipes the calling thread's handles with its keys; other threads' ones go when
 * re-keyed or when their thread ends.
 */

#ifndef SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_FASTREC_H
#define SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_FASTREC_H

#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "engine.h"

#pragma GCC visibility push(hidden)

/* One direction's record protection. */
struct fastrec_direction
{
    gnutls_cipher_algorithm_t cipher;
    uint8_t key[32];
    uint8_t key_size;               /* 0: no key read yet */
    uint8_t slot;                   /* where the thread's handle with this key was last found ... */
    uint64_t slot_id;               /* ... and that slot's id then (engine_fastrec.c aead_for) */
    gnutls_aead_cipher_hd_t own;    /* this context's own handle, once the thread's cache lost the key */
    uint8_t misses;                 /* handles made in the thread's cache for the current key */
    uint8_t iv[12];                 /* TLS 1.2 GCM: the 4-byte salt; otherwise the 12-byte IV */
    uint64_t seq;                   /* sequence number of the next record */
};

/* Lives inside struct engine_session; all zero = not started. */
struct engine_fastrec
{
    struct fastrec_direction read, write;
    uint8_t kind;                   /* enum fastrec_kind (engine_fastrec.c) */
    uint8_t active;                 /* the sequence numbers above are the session's */
    uint8_t off;                    /* for good: an alert or close_notify went through GnuTLS */
    uint8_t suspended;              /* a plaintext-typed handshake record went to GnuTLS: off until the keys change */
    uint8_t hs_header_have;         /* TLS 1.3 post-handshake messages: bytes of a split message header seen */
    uint8_t hs_header[4];
    uint32_t hs_left;               /* ... and bytes of the current message still to come */
    size_t max_send;                /* largest plaintext GnuTLS would put in one record */
};

enum fastrec_result
{
    FASTREC_SLOW,                   /* not handled, the fast path is released: use GnuTLS */
    FASTREC_DONE,
    FASTREC_FAILED                  /* sealing failed after the data was touched (library error) */
};

/* Seals data (1..info->max_message bytes) into header, data (in place) and trailer, whose
 * capacities the caller checked against info. info is NULL when the session may not use
 * the fast path now. *trailer_used receives the trailer bytes written. */
enum fastrec_result engine_fastrec_seal(struct engine_fastrec *fr, gnutls_session_t tls,
                                        const struct sg_session_info *info, uint8_t *header,
                                        uint8_t *data, size_t data_size, uint8_t *trailer,
                                        size_t *trailer_used, int *library_error);

/* Opens the whole record at record (its header and length already checked by the caller)
 * in place: the plaintext is at record + info->header_size, *data_size bytes. On
 * FASTREC_SLOW the record holds exactly the bytes it held on entry. */
enum fastrec_result engine_fastrec_open(struct engine_fastrec *fr, gnutls_session_t tls,
                                        const struct sg_session_info *info, uint8_t *record,
                                        size_t *data_size);

/* Gives GnuTLS its sequence numbers back; the fast path starts again when next used. */
void engine_fastrec_release(struct engine_fastrec *fr, gnutls_session_t tls);

/* Releases and keeps the fast path off for the rest of the session (close_notify, alerts). */
void engine_fastrec_stop(struct engine_fastrec *fr, gnutls_session_t tls);

/* Wipes the keys, and the calling thread's AEAD handles made with them. */
void engine_fastrec_free(struct engine_fastrec *fr);

/* Frees the calling thread's AEAD handles (threads that end free theirs themselves). */
/* How many AEAD handles were made in the process so far (tests). */
uint64_t engine_fastrec_handles_made(void);
void engine_fastrec_thread_cleanup(void);

#pragma GCC visibility pop

#endif /* SCHANNEL_GNUTLS_SECUR32_UNIX_ENGINE_FASTREC_H */
