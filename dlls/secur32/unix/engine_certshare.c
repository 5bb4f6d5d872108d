/*
 * secur32's Unix-side engine: certificate credentials shared between engine credentials
 * made from the same certificate chain and private key (engine_certshare.h).
 *
 * Shared credentials are found by an HMAC-SHA256, under a key drawn once per process, of
 * the role, the chain and the key blob: the table holds no key material and its entries
 * cannot be used to test guesses about a key. Two indexes (by that digest, and by the
 * GnuTLS object for releases) keep every operation independent of the number of contexts
 * and credentials.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "engine_certshare.h"

#define DIGEST_SIZE 32
#define BUCKETS     64    /* a power of two */

struct shared_certs
{
    struct shared_certs *next_by_digest;
    struct shared_certs *next_by_certs;
    uint8_t digest[DIGEST_SIZE];
    gnutls_certificate_credentials_t certs;
    unsigned int refs;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_certs *by_digest[BUCKETS];
static struct shared_certs *by_certs[BUCKETS];

static pthread_once_t mac_key_once = PTHREAD_ONCE_INIT;
static uint8_t mac_key[DIGEST_SIZE];
static int mac_key_ready;

static void mac_key_init(void)
{
    mac_key_ready = gnutls_rnd(GNUTLS_RND_KEY, mac_key, sizeof(mac_key)) == 0;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static int content_digest(uint32_t role, const uint8_t *chain, size_t chain_size, uint32_t key_format,
                          const uint8_t *key, size_t key_size, uint8_t *digest)
{
    gnutls_hmac_hd_t mac;
    uint8_t head[24];
    int ret;

    pthread_once(&mac_key_once, mac_key_init);
    if (!mac_key_ready) return GNUTLS_E_RANDOM_FAILED;
    put_le64(head, role);
    put_le64(head + 8, key_format);
    put_le64(head + 16, chain_size);
    if ((ret = gnutls_hmac_init(&mac, GNUTLS_MAC_SHA256, mac_key, sizeof(mac_key))) < 0) return ret;
    ret = gnutls_hmac(mac, head, sizeof(head));
    if (ret >= 0 && chain_size) ret = gnutls_hmac(mac, chain, chain_size);
    put_le64(head, key_size);
    if (ret >= 0) ret = gnutls_hmac(mac, head, 8);
    if (ret >= 0 && key_size) ret = gnutls_hmac(mac, key, key_size);
    gnutls_hmac_deinit(mac, digest);
    return ret < 0 ? ret : 0;
}

static struct shared_certs **digest_link(const uint8_t *digest)
{
    struct shared_certs **link = &by_digest[digest[0] & (BUCKETS - 1)];

    while (*link && memcmp((*link)->digest, digest, DIGEST_SIZE)) link = &(*link)->next_by_digest;
    return link;
}

static struct shared_certs **certs_link(const void *certs)
{
    uintptr_t h = (uintptr_t)certs;
    struct shared_certs **link = &by_certs[((h >> 4) ^ (h >> 10)) & (BUCKETS - 1)];

    while (*link && (const void *)(*link)->certs != certs) link = &(*link)->next_by_certs;
    return link;
}

static void table_insert(struct shared_certs *e)
{
    struct shared_certs **link = digest_link(e->digest);

    e->next_by_digest = *link;  /* *link is NULL: the digest is not there */
    *link = e;
    link = certs_link(e->certs);
    e->next_by_certs = *link;
    *link = e;
}

static void table_remove(struct shared_certs *e)
{
    *digest_link(e->digest) = e->next_by_digest;
    *certs_link(e->certs) = e->next_by_certs;
}

int engine_certs_acquire(uint32_t role, const uint8_t *chain, size_t chain_size, uint32_t key_format,
                         const uint8_t *key, size_t key_size, engine_certs_import_fn import, void **out)
{
    gnutls_certificate_credentials_t certs = NULL;
    uint8_t digest[DIGEST_SIZE];
    struct shared_certs *e;
    int ret;

    *out = NULL;
    if ((ret = content_digest(role, chain, chain_size, key_format, key, key_size, digest)) < 0) return ret;

    pthread_mutex_lock(&table_lock);
    if ((e = *digest_link(digest)))
    {
        e->refs++;
        *out = e->certs;
    }
    pthread_mutex_unlock(&table_lock);
    if (*out) return 0;

    /* Parse outside the lock: importing a key checks it, which takes a while. */
    if ((ret = gnutls_certificate_allocate_credentials(&certs)) < 0) return ret;
    if (chain_size && (ret = import(certs, chain, chain_size, key_format, key, key_size)) < 0)
    {
        gnutls_certificate_free_credentials(certs);
        return ret;
    }
    /* Without memory for the entry the credential is still good, only not shared. */
    *out = certs;
    if (!(e = calloc(1, sizeof(*e)))) return 0;
    memcpy(e->digest, digest, DIGEST_SIZE);
    e->certs = certs;
    e->refs = 1;

    pthread_mutex_lock(&table_lock);
    if (*digest_link(digest))
    {
        /* Another thread made the same one meanwhile: use that. */
        (*digest_link(digest))->refs++;
        *out = (*digest_link(digest))->certs;
    }
    else
    {
        table_insert(e);
        e = NULL;
    }
    pthread_mutex_unlock(&table_lock);
    if (e)
    {
        free(e);
        gnutls_certificate_free_credentials(certs);
    }
    return 0;
}

/* Copies every certificate chain and key of src into dst, in order. */
static int copy_certs(gnutls_certificate_credentials_t src, gnutls_certificate_credentials_t dst)
{
    unsigned int index, count, i;
    int ret = 0;

    for (index = 0; ret >= 0; index++)
    {
        gnutls_x509_crt_t *crts = NULL;
        gnutls_x509_privkey_t key = NULL;

        if ((ret = gnutls_certificate_get_x509_crt(src, index, &crts, &count)) < 0)
            return ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE && index ? 0 : ret;
        if ((ret = gnutls_certificate_get_x509_key(src, index, &key)) >= 0)
        {
            ret = gnutls_certificate_set_x509_key(dst, crts, count, key);
            gnutls_x509_privkey_deinit(key);  /* GnuTLS zeroizes the key's integers */
        }
        for (i = 0; i < count; i++) gnutls_x509_crt_deinit(crts[i]);
        gnutls_free(crts);
    }
    return ret;
}

int engine_certs_add(void **inout, const uint8_t *chain, size_t chain_size, uint32_t key_format,
                     const uint8_t *key, size_t key_size, engine_certs_import_fn import)
{
    gnutls_certificate_credentials_t certs = *inout, copy;
    struct shared_certs *e, *alone = NULL;
    int shared = 0, ret;

    pthread_mutex_lock(&table_lock);
    if ((e = *certs_link(certs)))
    {
        /* Nobody else holds it: it leaves the table and changes in place. */
        if (e->refs == 1)
        {
            table_remove(e);
            alone = e;
        }
        else shared = 1;
    }
    pthread_mutex_unlock(&table_lock);
    free(alone);
    if (!shared) return import(certs, chain, chain_size, key_format, key, key_size);

    if ((ret = gnutls_certificate_allocate_credentials(&copy)) < 0) return ret;
    if ((ret = copy_certs(certs, copy)) < 0 || (ret = import(copy, chain, chain_size, key_format, key, key_size)) < 0)
    {
        gnutls_certificate_free_credentials(copy);
        return ret;
    }
    engine_certs_release(certs);
    *inout = copy;
    return 0;
}

void engine_certs_release(void *ptr)
{
    gnutls_certificate_credentials_t certs = ptr;
    struct shared_certs *e;

    if (!certs) return;
    pthread_mutex_lock(&table_lock);
    if ((e = *certs_link(certs)))
    {
        if (--e->refs)
        {
            pthread_mutex_unlock(&table_lock);
            return;
        }
        table_remove(e);
    }
    pthread_mutex_unlock(&table_lock);
    free(e);
    gnutls_certificate_free_credentials(certs);
}
