/*
 * secur32's Unix-side engine: the record fast path of established TLS (stream) sessions
 * (see engine_fastrec.h).
 *
 * Record formats (all with a 16-byte tag):
 *  - TLS 1.2 AES-GCM (RFC 5288): header, 8-byte explicit nonce (our write sequence number,
 *    as GnuTLS sends it), ciphertext, tag; nonce = 4-byte salt || explicit part;
 *    additional data = sequence number || type || version || plaintext length.
 *  - TLS 1.2 ChaCha20-Poly1305 (RFC 7905): header, ciphertext, tag; nonce = IV xor the
 *    sequence number (left-padded); additional data as above.
 *  - TLS 1.3 (RFC 8446 section 5.2): header, encrypted (data || content type || zero padding),
 *    tag; nonce = IV xor the padded sequence number; additional data = the record header.
 *
 * Opening works in place, so a record that turns out to be for GnuTLS after all (a TLS 1.3
 * post-handshake message or alert, a failed tag check) is encrypted again with the same
 * nonce: the keystream is the same, so exactly the received bytes come back, and GnuTLS
 * then reads the record as if we had never looked at it.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine_fastrec.h"

#define TLS_HEADER_SIZE     5
#define TLS_MAX_PLAINTEXT   16384
#define TAG_SIZE            16
#define NONCE_SIZE          12
#define EXPLICIT_NONCE_SIZE 8
/* The largest TLS 1.3 record body GnuTLS 3.7 reads (2^14 + 256, plus the header size it
 * adds to its limit); anything longer is refused by it before decryption. */
#define TLS13_MAX_BODY      (TLS_MAX_PLAINTEXT + 256 + TLS_HEADER_SIZE)

/* AEAD handles each thread keeps (engine_fastrec.h): enough for four connections served in
 * turn (two keys each), or two whose both ends run in the thread (the peers share keys).
 * A key not among them costs a new handle in place of the least recently used one
 * (AES-256-GCM: about 240 ns, a free and an allocation of the same sizes). A key that has
 * to be made a second time (a thread serving more connections than that, in turn) gets a
 * handle of its context's own instead, kept until the key changes or the context goes:
 * no context pays for a new handle on every record. */
#define THREAD_HANDLES      8

#define CT_ALERT            21
#define CT_HANDSHAKE        22
#define CT_APPLICATION_DATA 23

enum fastrec_kind
{
    KIND_NONE,
    KIND_TLS12_GCM,
    KIND_TLS12_CHACHA,
    KIND_TLS13
};

static void put_be64(uint8_t *p, uint64_t v)
{
    int i;
    for (i = 7; i >= 0; i--, v >>= 8) p[i] = v & 0xff;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

static void put_be16(uint8_t *p, size_t v)
{
    p[0] = (v >> 8) & 0xff;
    p[1] = v & 0xff;
}

/* ---- the calling thread's AEAD handles ---- */

struct aead_slot
{
    gnutls_aead_cipher_hd_t aead;   /* NULL: free slot */
    gnutls_cipher_algorithm_t cipher;
    uint8_t key_size;
    uint8_t key[32];                /* the key aead was made with */
    uint64_t id;                    /* new for each key the slot gets, unique in the process */
    uint64_t last_use;
};

struct aead_cache
{
    struct aead_slot slot[THREAD_HANDLES];
    uint64_t clock;
};

static __thread struct aead_cache *thread_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;
static int cache_key_ok;
static uint64_t last_slot_id;
static uint64_t handles_made;       /* AEAD handles made so far, for the tests */

static void cache_destroy(struct aead_cache *cache)
{
    int i;

    for (i = 0; i < THREAD_HANDLES; i++)
        if (cache->slot[i].aead) gnutls_aead_cipher_deinit(cache->slot[i].aead);
    gnutls_memset(cache, 0, sizeof(*cache));
    free(cache);
}

/* pthread key destructor: the thread ends. */
static void cache_thread_exit(void *cache)
{
    if (cache == thread_cache) thread_cache = NULL;
    cache_destroy(cache);
}

static void cache_key_init(void)
{
    cache_key_ok = !pthread_key_create(&cache_key, cache_thread_exit);
}

uint64_t engine_fastrec_handles_made(void)
{
    return __atomic_load_n(&handles_made, __ATOMIC_RELAXED);
}

void engine_fastrec_thread_cleanup(void)
{
    struct aead_cache *cache = thread_cache;

    if (!cache) return;
    thread_cache = NULL;
    if (cache_key_ok) pthread_setspecific(cache_key, NULL);
    cache_destroy(cache);
}

static int same_key(const struct aead_slot *slot, const struct fastrec_direction *d)
{
    return slot->aead && slot->cipher == d->cipher && slot->key_size == d->key_size
           && !memcmp(slot->key, d->key, d->key_size);
}

/* aead_for when d's slot is not known (or has another key now). */
static __attribute__((noinline)) gnutls_aead_cipher_hd_t aead_find(struct fastrec_direction *d)
{
    struct aead_cache *cache = thread_cache;
    struct aead_slot *slot, *victim;
    gnutls_datum_t key;
    int i;

    if (d->misses)
    {
        /* The cache lost this key once already: the context keeps a handle of its own. */
        key.data = (unsigned char *)d->key;
        key.size = d->key_size;
        if (gnutls_aead_cipher_init(&d->own, d->cipher, &key) < 0) d->own = NULL;
        else __atomic_add_fetch(&handles_made, 1, __ATOMIC_RELAXED);
        return d->own;
    }
    if (!cache)
    {
        pthread_once(&cache_key_once, cache_key_init);
        if (!cache_key_ok || !(cache = calloc(1, sizeof(*cache)))) return NULL;
        if (pthread_setspecific(cache_key, cache))
        {
            free(cache);
            return NULL;
        }
        thread_cache = cache;
    }
    victim = &cache->slot[0];
    for (i = 0; i < THREAD_HANDLES; i++)
    {
        slot = &cache->slot[i];
        if (same_key(slot, d))
        {
            slot->last_use = ++cache->clock;
            d->slot = i;
            d->slot_id = slot->id;
            return slot->aead;
        }
        if (!victim->aead) continue;
        if (!slot->aead || slot->last_use < victim->last_use) victim = slot;
    }

    /* A new handle rather than gnutls_aead_cipher_set_key: GnuTLS 3.7.9's AES-GCM keeps the
     * old GHASH key there (wrong tags). Freed and made at once, it takes the same memory. */
    if (victim->aead) gnutls_aead_cipher_deinit(victim->aead);
    gnutls_memset(victim, 0, sizeof(*victim));
    key.data = (unsigned char *)d->key;
    key.size = d->key_size;
    if (gnutls_aead_cipher_init(&victim->aead, d->cipher, &key) < 0)
    {
        victim->aead = NULL;
        return NULL;
    }
    victim->cipher = d->cipher;
    victim->key_size = d->key_size;
    memcpy(victim->key, d->key, d->key_size);
    __atomic_add_fetch(&handles_made, 1, __ATOMIC_RELAXED);
    victim->id = __atomic_add_fetch(&last_slot_id, 1, __ATOMIC_RELAXED);
    victim->last_use = ++cache->clock;
    d->misses++;
    d->slot = victim - cache->slot;
    d->slot_id = victim->id;
    return victim->aead;
}

/* A handle with d's key: the thread's own when it has one, otherwise its least recently
 * used one re-keyed (or a new one). NULL when none can be had (out of memory). d remembers
 * the slot, so that finding it again takes no key comparison. */
static inline gnutls_aead_cipher_hd_t aead_for(struct fastrec_direction *d)
{
    struct aead_cache *cache = thread_cache;
    struct aead_slot *slot;

    if (d->own) return d->own;
    if (__builtin_expect(!cache || !d->slot_id || cache->slot[d->slot].id != d->slot_id, 0)) return aead_find(d);
    slot = &cache->slot[d->slot];
    slot->last_use = ++cache->clock;
    return slot->aead;
}

/* The key goes away: so do the context's own handle and the calling thread's handle made
 * with it. */
static void forget_key(struct fastrec_direction *d)
{
    struct aead_cache *cache = thread_cache;
    int i;

    if (d->own) gnutls_aead_cipher_deinit(d->own);
    d->own = NULL;
    d->misses = 0;
    if (!cache || !d->key_size) return;
    for (i = 0; i < THREAD_HANDLES; i++)
    {
        if (!same_key(&cache->slot[i], d)) continue;
        gnutls_aead_cipher_deinit(cache->slot[i].aead);
        gnutls_memset(&cache->slot[i], 0, sizeof(cache->slot[i]));
    }
}

/* ---- keys ---- */

static enum fastrec_kind kind_of(gnutls_session_t tls, gnutls_cipher_algorithm_t *cipher)
{
    gnutls_protocol_t version = gnutls_protocol_get_version(tls);

    *cipher = gnutls_cipher_get(tls);
    if (*cipher != GNUTLS_CIPHER_AES_128_GCM && *cipher != GNUTLS_CIPHER_AES_256_GCM
        && *cipher != GNUTLS_CIPHER_CHACHA20_POLY1305)
        return KIND_NONE;
    if (version == GNUTLS_TLS1_3) return KIND_TLS13;
    if (version != GNUTLS_TLS1_2) return KIND_NONE;
    return *cipher == GNUTLS_CIPHER_CHACHA20_POLY1305 ? KIND_TLS12_CHACHA : KIND_TLS12_GCM;
}

static size_t header_size_of(enum fastrec_kind kind)
{
    return TLS_HEADER_SIZE + (kind == KIND_TLS12_GCM ? EXPLICIT_NONCE_SIZE : 0);
}

static size_t trailer_size_of(enum fastrec_kind kind)
{
    return TAG_SIZE + (kind == KIND_TLS13 ? 1 : 0);
}

/* Reads one direction's key, IV and sequence number from GnuTLS. *changed tells whether
 * the key changed. */
static int load_direction(struct fastrec_direction *d, gnutls_session_t tls, int read,
                          gnutls_cipher_algorithm_t cipher, size_t iv_size, int *changed)
{
    gnutls_datum_t iv, key;
    uint8_t seq[8];

    if (gnutls_record_get_state(tls, read, NULL, &iv, &key, seq) < 0) return -1;
    if (iv.size != iv_size || key.size != gnutls_cipher_get_key_size(cipher) || key.size > sizeof(d->key))
        return -1;
    *changed = !d->key_size || d->cipher != cipher || d->key_size != key.size || memcmp(d->key, key.data, key.size);
    if (*changed)
    {
        forget_key(d);
        d->slot_id = 0;
        gnutls_memset(d->key, 0, sizeof(d->key));
        memcpy(d->key, key.data, key.size);
        d->key_size = key.size;
        d->cipher = cipher;
    }
    memcpy(d->iv, iv.data, iv.size);
    d->seq = get_be64(seq);
    return 0;
}

/* Starts the fast path: the session's current keys and sequence numbers become ours. */
static int acquire(struct engine_fastrec *fr, gnutls_session_t tls, const struct sg_session_info *info)
{
    gnutls_cipher_algorithm_t cipher;
    enum fastrec_kind kind;
    gnutls_range_st whole = { TLS_MAX_PLAINTEXT, TLS_MAX_PLAINTEXT }, next, rest;
    int read_changed, write_changed;
    size_t iv_size;

    if (fr->off) return 0;
    if ((kind = kind_of(tls, &cipher)) == KIND_NONE) return 0;
    /* The layout the caller was told about (engine_session_info) must be ours. */
    if (info->header_size != header_size_of(kind) || info->trailer_size != trailer_size_of(kind)) return 0;
    iv_size = kind == KIND_TLS12_GCM ? 4 : NONCE_SIZE;
    if (load_direction(&fr->read, tls, 1, cipher, iv_size, &read_changed)
        || load_direction(&fr->write, tls, 0, cipher, iv_size, &write_changed))
        return 0;
    if (fr->suspended)
    {
        /* GnuTLS may hold part of a handshake message until a new handshake completes. */
        if (!read_changed) return 0;
        fr->suspended = 0;
        fr->hs_left = fr->hs_header_have = 0;
    }
    /* A peer's record_size_limit can make GnuTLS's records smaller than 2^14 bytes. */
    if (gnutls_range_split(tls, &whole, &next, &rest) < 0 || !next.low) return 0;
    fr->max_send = next.low;
    fr->kind = kind;
    fr->active = 1;
    return 1;
}

void engine_fastrec_release(struct engine_fastrec *fr, gnutls_session_t tls)
{
    uint8_t seq[8];

    if (!fr->active) return;
    fr->active = 0;
    put_be64(seq, fr->read.seq);
    gnutls_record_set_state(tls, 1, seq);
    put_be64(seq, fr->write.seq);
    gnutls_record_set_state(tls, 0, seq);
}

void engine_fastrec_stop(struct engine_fastrec *fr, gnutls_session_t tls)
{
    engine_fastrec_release(fr, tls);
    fr->off = 1;
}

static void free_direction(struct fastrec_direction *d)
{
    forget_key(d);
    gnutls_memset(d, 0, sizeof(*d));
}

void engine_fastrec_free(struct engine_fastrec *fr)
{
    free_direction(&fr->read);
    free_direction(&fr->write);
    gnutls_memset(fr, 0, sizeof(*fr));
}

/* Starts the fast path when needed; releases it when the session may not use it now. */
static int ready(struct engine_fastrec *fr, gnutls_session_t tls, const struct sg_session_info *info)
{
    if (!info)
    {
        /* GnuTLS reads every record until then (renegotiation, post-handshake
         * authentication) and has whole handshake messages once that is over. */
        engine_fastrec_release(fr, tls);
        fr->hs_left = fr->hs_header_have = 0;
        return 0;
    }
    return fr->active || acquire(fr, tls, info);
}

/* ---- nonces ---- */

static void make_nonce(enum fastrec_kind kind, const struct fastrec_direction *d, const uint8_t *explicit_part,
                       uint8_t nonce[NONCE_SIZE])
{
    int i;

    if (kind == KIND_TLS12_GCM)
    {
        memcpy(nonce, d->iv, 4);
        memcpy(nonce + 4, explicit_part, EXPLICIT_NONCE_SIZE);
        return;
    }
    memcpy(nonce, d->iv, NONCE_SIZE);
    for (i = 0; i < 8; i++) nonce[4 + i] ^= (d->seq >> (56 - 8 * i)) & 0xff;
}

/* TLS 1.2 additional data: sequence number, type, version, plaintext length. */
static void tls12_aad(uint64_t seq, size_t plain_size, uint8_t aad[13])
{
    put_be64(aad, seq);
    aad[8] = CT_APPLICATION_DATA;
    aad[9] = 3;
    aad[10] = 3;
    put_be16(aad + 11, plain_size);
}

/* ---- sealing ---- */

enum fastrec_result engine_fastrec_seal(struct engine_fastrec *fr, gnutls_session_t tls,
                                        const struct sg_session_info *info, uint8_t *header,
                                        uint8_t *data, size_t data_size, uint8_t *trailer,
                                        size_t *trailer_used, int *library_error)
{
    struct fastrec_direction *w = &fr->write;
    gnutls_aead_cipher_hd_t aead;
    uint8_t nonce[NONCE_SIZE], aad[13];
    giovec_t ad, text[2];
    size_t tag_size = TAG_SIZE, body;
    int ret, parts = 1;

    if (!ready(fr, tls, info)) return FASTREC_SLOW;
    if (!data_size || data_size > fr->max_send || w->seq == UINT64_MAX || !(aead = aead_for(w)))
    {
        /* GnuTLS decides (it refuses a record past the last sequence number), or writes
         * the record when no AEAD handle could be had. */
        engine_fastrec_release(fr, tls);
        return FASTREC_SLOW;
    }

    header[0] = CT_APPLICATION_DATA;
    header[1] = 3;
    header[2] = 3;
    text[0].iov_base = data;
    text[0].iov_len = data_size;
    if (fr->kind == KIND_TLS13)
    {
        /* The content type is the last plaintext byte: the first trailer byte. */
        body = data_size + 1 + TAG_SIZE;
        put_be16(header + 3, body);
        trailer[0] = CT_APPLICATION_DATA;
        text[1].iov_base = trailer;
        text[1].iov_len = 1;
        parts = 2;
        ad.iov_base = header;
        ad.iov_len = TLS_HEADER_SIZE;
        make_nonce(fr->kind, w, NULL, nonce);
        ret = gnutls_aead_cipher_encryptv2(aead, nonce, NONCE_SIZE, &ad, 1, text, parts, trailer + 1, &tag_size);
        *trailer_used = 1 + TAG_SIZE;
    }
    else
    {
        body = data_size + TAG_SIZE;
        if (fr->kind == KIND_TLS12_GCM)
        {
            body += EXPLICIT_NONCE_SIZE;
            put_be64(header + TLS_HEADER_SIZE, w->seq);
        }
        put_be16(header + 3, body);
        tls12_aad(w->seq, data_size, aad);
        ad.iov_base = aad;
        ad.iov_len = sizeof(aad);
        make_nonce(fr->kind, w, header + TLS_HEADER_SIZE, nonce);
        ret = gnutls_aead_cipher_encryptv2(aead, nonce, NONCE_SIZE, &ad, 1, text, parts, trailer, &tag_size);
        *trailer_used = TAG_SIZE;
    }
    if (ret < 0 || tag_size != TAG_SIZE)
    {
        *library_error = ret < 0 ? ret : GNUTLS_E_INTERNAL_ERROR;
        engine_fastrec_release(fr, tls);
        return FASTREC_FAILED;
    }
    w->seq++;
    return FASTREC_DONE;
}

/* ---- opening ---- */

/* Encrypts an opened record body again: the same nonce gives back the received bytes. */
static void restore(gnutls_aead_cipher_hd_t aead, const uint8_t *nonce, const giovec_t *ad,
                    const giovec_t *text)
{
    uint8_t tag[TAG_SIZE];
    size_t tag_size = sizeof(tag);

    gnutls_aead_cipher_encryptv2(aead, nonce, NONCE_SIZE, ad, 1, text, 1, tag, &tag_size);
}

/* Follows the framing of TLS 1.3 post-handshake messages (type, 24-bit length, body) over
 * the handshake records GnuTLS gets, so that we know when it holds part of a message: it
 * refuses application data in between (RFC 8446 section 5.1). */
static void track_handshake(struct engine_fastrec *fr, const uint8_t *p, size_t size)
{
    while (size)
    {
        if (fr->hs_left)
        {
            size_t n = size < fr->hs_left ? size : fr->hs_left;
            fr->hs_left -= n;
            p += n;
            size -= n;
            continue;
        }
        fr->hs_header[fr->hs_header_have++] = *p++;
        size--;
        if (fr->hs_header_have == 4)
        {
            fr->hs_left = ((uint32_t)fr->hs_header[1] << 16) | (fr->hs_header[2] << 8) | fr->hs_header[3];
            fr->hs_header_have = 0;
        }
    }
}

static enum fastrec_result open_tls13(struct engine_fastrec *fr, gnutls_aead_cipher_hd_t aead, uint8_t *record,
                                      size_t body, size_t *data_size)
{
    struct fastrec_direction *r = &fr->read;
    uint8_t nonce[NONCE_SIZE];
    giovec_t ad, text;
    size_t inner, content;
    int type, split_message = fr->hs_left || fr->hs_header_have;

    if (body < 1 + TAG_SIZE || body > TLS13_MAX_BODY) return FASTREC_SLOW;
    inner = body - TAG_SIZE;
    ad.iov_base = record;
    ad.iov_len = TLS_HEADER_SIZE;
    text.iov_base = record + TLS_HEADER_SIZE;
    text.iov_len = inner;
    make_nonce(KIND_TLS13, r, NULL, nonce);
    if (gnutls_aead_cipher_decryptv2(aead, nonce, NONCE_SIZE, &ad, 1, &text, 1,
                                     record + TLS_HEADER_SIZE + inner, TAG_SIZE) < 0)
    {
        /* GnuTLS fails the session with the alert it sends for this. */
        restore(aead, nonce, &ad, &text);
        return FASTREC_SLOW;
    }

    /* The content type is the last non-zero byte; zeros after it are padding. */
    for (content = inner; content && !record[TLS_HEADER_SIZE + content - 1]; content--) {}
    type = content ? record[TLS_HEADER_SIZE + content - 1] : 0;
    if (content) content--;
    if (type == CT_HANDSHAKE) track_handshake(fr, record + TLS_HEADER_SIZE, content);
    else if (type == CT_ALERT) fr->off = 1;
    if (type != CT_APPLICATION_DATA || !content || content > TLS_MAX_PLAINTEXT || split_message)
    {
        restore(aead, nonce, &ad, &text);
        return FASTREC_SLOW;
    }
    r->seq++;
    *data_size = content;
    return FASTREC_DONE;
}

static enum fastrec_result open_tls12(struct engine_fastrec *fr, gnutls_aead_cipher_hd_t aead, uint8_t *record,
                                      size_t body, size_t *data_size)
{
    struct fastrec_direction *r = &fr->read;
    size_t explicit_size = fr->kind == KIND_TLS12_GCM ? EXPLICIT_NONCE_SIZE : 0, plain;
    uint8_t nonce[NONCE_SIZE], aad[13], *text_start;
    giovec_t ad, text;

    /* An empty record (GnuTLS skips it) or one too long: GnuTLS's business. */
    if (body <= explicit_size + TAG_SIZE || body > explicit_size + TLS_MAX_PLAINTEXT + TAG_SIZE)
        return FASTREC_SLOW;
    plain = body - explicit_size - TAG_SIZE;
    text_start = record + TLS_HEADER_SIZE + explicit_size;
    tls12_aad(r->seq, plain, aad);
    ad.iov_base = aad;
    ad.iov_len = sizeof(aad);
    text.iov_base = text_start;
    text.iov_len = plain;
    make_nonce(fr->kind, r, record + TLS_HEADER_SIZE, nonce);
    if (gnutls_aead_cipher_decryptv2(aead, nonce, NONCE_SIZE, &ad, 1, &text, 1, text_start + plain, TAG_SIZE) < 0)
    {
        restore(aead, nonce, &ad, &text);
        return FASTREC_SLOW;
    }
    r->seq++;
    *data_size = plain;
    return FASTREC_DONE;
}

enum fastrec_result engine_fastrec_open(struct engine_fastrec *fr, gnutls_session_t tls,
                                        const struct sg_session_info *info, uint8_t *record,
                                        size_t *data_size)
{
    size_t body = ((size_t)record[3] << 8) | record[4];
    enum fastrec_result result;
    gnutls_aead_cipher_hd_t aead;

    if (!ready(fr, tls, info)) return FASTREC_SLOW;
    if (record[0] != CT_APPLICATION_DATA || record[1] != 3 || record[2] != 3 || fr->read.seq == UINT64_MAX)
    {
        if (record[0] == CT_HANDSHAKE) fr->suspended = 1;
        else if (record[0] == CT_ALERT) fr->off = 1;
        result = FASTREC_SLOW;
    }
    else if (!(aead = aead_for(&fr->read))) result = FASTREC_SLOW;
    else if (fr->kind == KIND_TLS13) result = open_tls13(fr, aead, record, body, data_size);
    else result = open_tls12(fr, aead, record, body, data_size);
    if (result != FASTREC_DONE) engine_fastrec_release(fr, tls);
    return result;
}
