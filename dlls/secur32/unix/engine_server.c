/*
 * secur32's Unix-side engine: server features on GnuTLS outside engine.c.
 *  - more than one certificate per credential (GnuTLS selects by SNI name and key type);
 *  - resumption for returning clients: a per-credential session cache for TLS 1.2 session
 *    ids, and tickets (TLS 1.2 and 1.3) sealed with keys GnuTLS derives from the
 *    credential's random master key and rotates on its own; both off for
 *    SCH_CRED_DISABLE_RECONNECTS;
 *  - per-connection options: CertificateRequest (ASC_REQ_MUTUAL_AUTH) and the server's
 *    ALPN list.
 * Cached sessions hold master secrets: they are wiped when dropped and never printed.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "engine_server.h"

#define CACHE_SLOTS     256             /* sessions kept per credential, at most */
#define CACHE_BUCKETS   256             /* hash buckets (a power of two) */
#define CACHE_LIFETIME  (10 * 60 * 60)  /* Windows' default server cache time: 10 hours */
#define MAX_KEY         64
#define MAX_ALPN_IDS    16

/* One cached session, in its hash bucket and in the store order (oldest first). */
struct cache_entry
{
    struct cache_entry *next;       /* same bucket */
    struct cache_entry *older, *newer;
    time_t stored;
    size_t key_size;
    uint8_t key[MAX_KEY];
    uint8_t *data;                  /* packed GnuTLS session: secret */
    size_t data_size;
};

/* Allocated on the first stored session: an idle credential costs nothing. Lookups hash the
 * session id; the ids stored are random ones GnuTLS made, so buckets stay short whatever a
 * client asks for, and a full cache replaces its oldest session. */
struct session_cache
{
    struct cache_entry *buckets[CACHE_BUCKETS];
    struct cache_entry *oldest, *newest;
    unsigned int count;
};

struct engine_server_ext
{
    uint32_t flags;                 /* SG_CRED_SERVER_* */
    pthread_mutex_t lock;
    struct session_cache *cache;    /* NULL until a session is stored */
};

static void entry_destroy(struct cache_entry *e)
{
    if (e->data)
    {
        gnutls_memset(e->data, 0, e->data_size);
        free(e->data);
    }
    gnutls_memset(e, 0, sizeof(*e));
    free(e);
}

static struct cache_entry **cache_bucket(struct session_cache *c, const uint8_t *key, size_t size)
{
    uint32_t h = 2166136261u;       /* FNV-1a */
    size_t i;

    for (i = 0; i < size; i++) h = (h ^ key[i]) * 16777619u;
    return &c->buckets[h & (CACHE_BUCKETS - 1)];
}

/* The link that points at the entry for key (*link is NULL when there is none). */
static struct cache_entry **cache_find(struct session_cache *c, const uint8_t *key, size_t size)
{
    struct cache_entry **link = cache_bucket(c, key, size);

    while (*link && ((*link)->key_size != size || memcmp((*link)->key, key, size))) link = &(*link)->next;
    return link;
}

/* Takes the entry at *link out of its bucket and out of the store order. */
static struct cache_entry *cache_unlink(struct session_cache *c, struct cache_entry **link)
{
    struct cache_entry *e = *link;

    *link = e->next;
    if (e->older) e->older->newer = e->newer;
    else c->oldest = e->newer;
    if (e->newer) e->newer->older = e->older;
    else c->newest = e->older;
    e->next = e->older = e->newer = NULL;
    c->count--;
    return e;
}

static int entry_expired(const struct cache_entry *e, time_t now)
{
    return now - e->stored > CACHE_LIFETIME || now < e->stored;
}

static struct engine_server_ext *ext_get(struct engine_cred *cred)
{
    struct engine_server_ext **slot = engine_cred_server_ext(cred);

    if (!*slot)
    {
        struct engine_server_ext *ext = calloc(1, sizeof(*ext));
        if (!ext) return NULL;
        pthread_mutex_init(&ext->lock, NULL);
        *slot = ext;
    }
    return *slot;
}

void engine_server_ext_free(struct engine_server_ext *ext)
{
    if (!ext) return;
    if (ext->cache)
    {
        while (ext->cache->oldest)
        {
            struct cache_entry *e = ext->cache->oldest;
            entry_destroy(cache_unlink(ext->cache, cache_find(ext->cache, e->key, e->key_size)));
        }
        free(ext->cache);
    }
    pthread_mutex_destroy(&ext->lock);
    free(ext);
}

/* ---- certificates ---- */

enum sg_status engine_cred_add_cert(struct engine_cred *cred, const uint8_t *chain, size_t chain_size,
                                    uint32_t key_format, const uint8_t *key, size_t key_size,
                                    int *library_error)
{
    int ret;

    *library_error = 0;
    if (engine_cred_role(cred) != SG_CRED_SERVER) return SG_ERR_INVALID_PARAMETER;
    if (!chain_size || key_format == SG_KEY_NONE || !key_size) return SG_ERR_NO_CREDENTIALS;
    if (!(ret = engine_cred_import(cred, chain, chain_size, key_format, key, key_size))) return SG_OK;
    *library_error = ret;
    switch (ret)
    {
    case GNUTLS_E_MEMORY_ERROR: return SG_ERR_NO_MEMORY;
    case GNUTLS_E_CERTIFICATE_ERROR: return SG_ERR_BAD_CERT;
    default: return SG_ERR_NO_CREDENTIALS;
    }
}

enum sg_status engine_cred_set_server(struct engine_cred *cred, uint32_t flags)
{
    struct engine_server_ext *ext;

    if (engine_cred_role(cred) != SG_CRED_SERVER || (flags & ~SG_CRED_SERVER_NO_RESUME))
        return SG_ERR_INVALID_PARAMETER;
    if (!(ext = ext_get(cred))) return SG_ERR_NO_MEMORY;
    ext->flags = flags;
    return SG_OK;
}

/* ---- session cache (TLS 1.2 session ids) ---- */

static int cache_store(void *ptr, gnutls_datum_t key, gnutls_datum_t data)
{
    struct engine_server_ext *ext = ptr;
    struct session_cache *c;
    struct cache_entry **link, *e;
    time_t now = time(NULL);
    uint8_t *copy;
    int ret = -1;

    if (!key.size || key.size > MAX_KEY || !data.size) return -1;
    if (!(copy = malloc(data.size))) return -1;
    memcpy(copy, data.data, data.size);

    pthread_mutex_lock(&ext->lock);
    if (!ext->cache && !(ext->cache = calloc(1, sizeof(*ext->cache)))) goto done;
    c = ext->cache;
    /* Expired sessions leave from the old end first. */
    while (c->oldest && entry_expired(c->oldest, now))
        entry_destroy(cache_unlink(c, cache_find(c, c->oldest->key, c->oldest->key_size)));
    link = cache_find(c, key.data, key.size);
    if (*link) e = cache_unlink(c, link);
    else if (c->count >= CACHE_SLOTS) e = cache_unlink(c, cache_find(c, c->oldest->key, c->oldest->key_size));
    else if (!(e = calloc(1, sizeof(*e)))) goto done;
    if (e->data)
    {
        gnutls_memset(e->data, 0, e->data_size);
        free(e->data);
    }
    memcpy(e->key, key.data, key.size);
    e->key_size = key.size;
    e->data = copy;
    e->data_size = data.size;
    e->stored = now;
    copy = NULL;
    link = cache_bucket(c, e->key, e->key_size);
    e->next = *link;
    *link = e;
    e->older = c->newest;
    if (c->newest) c->newest->newer = e;
    else c->oldest = e;
    c->newest = e;
    c->count++;
    ret = 0;
done:
    pthread_mutex_unlock(&ext->lock);
    if (copy)
    {
        gnutls_memset(copy, 0, data.size);
        free(copy);
    }
    return ret;
}

static gnutls_datum_t cache_retrieve(void *ptr, gnutls_datum_t key)
{
    struct engine_server_ext *ext = ptr;
    gnutls_datum_t ret = { NULL, 0 };
    struct cache_entry **link, *e;

    if (!key.size || key.size > MAX_KEY) return ret;
    pthread_mutex_lock(&ext->lock);
    if (ext->cache && (e = *(link = cache_find(ext->cache, key.data, key.size))))
    {
        if (entry_expired(e, time(NULL))) entry_destroy(cache_unlink(ext->cache, link));
        /* GnuTLS frees what it retrieves with gnutls_free (and wipes it). */
        else if ((ret.data = gnutls_malloc(e->data_size)))
        {
            memcpy(ret.data, e->data, e->data_size);
            ret.size = e->data_size;
        }
    }
    pthread_mutex_unlock(&ext->lock);
    return ret;
}

static int cache_remove(void *ptr, gnutls_datum_t key)
{
    struct engine_server_ext *ext = ptr;
    struct cache_entry **link;

    if (!key.size || key.size > MAX_KEY) return -1;
    pthread_mutex_lock(&ext->lock);
    if (ext->cache && *(link = cache_find(ext->cache, key.data, key.size)))
        entry_destroy(cache_unlink(ext->cache, link));
    pthread_mutex_unlock(&ext->lock);
    return 0;
}

int engine_server_session_setup(struct engine_server_ext *ext, void *tls, const void *ticket_key)
{
    gnutls_session_t session = tls;

    if (ext && (ext->flags & SG_CRED_SERVER_NO_RESUME)) return 0;
    if (ext)
    {
        gnutls_db_set_ptr(session, ext);
        gnutls_db_set_store_function(session, cache_store);
        gnutls_db_set_retrieve_function(session, cache_retrieve);
        gnutls_db_set_remove_function(session, cache_remove);
        gnutls_db_set_cache_expiration(session, CACHE_LIFETIME);
    }
    return gnutls_session_ticket_enable_server(session, ticket_key);
}

/* ---- per-connection options ---- */

static enum sg_status set_alpn(gnutls_session_t session, const uint8_t *list, size_t size)
{
    gnutls_datum_t ids[MAX_ALPN_IDS];
    unsigned int count = 0;
    size_t pos = 0;

    while (pos < size)
    {
        size_t len = list[pos++];
        if (!len || len > size - pos || count == MAX_ALPN_IDS) return SG_ERR_INVALID_PARAMETER;
        ids[count].data = (unsigned char *)list + pos;
        ids[count].size = len;
        count++;
        pos += len;
    }
    if (!count) return SG_OK;
    /* The server's order decides, as on Windows; a client offer with nothing in common
     * ends the handshake (no_application_protocol). */
    if (gnutls_alpn_set_protocols(session, ids, count, GNUTLS_ALPN_SERVER_PRECEDENCE | GNUTLS_ALPN_MANDATORY) < 0)
        return SG_ERR_INTERNAL;
    return SG_OK;
}

enum sg_status engine_session_set_server(struct engine_session *s, uint32_t flags,
                                         const uint8_t *alpn, size_t alpn_size)
{
    gnutls_session_t session = engine_session_gnutls(s);
    enum sg_status status;

    if (flags & ~SG_SESSION_SERVER_REQUEST_CERT) return SG_ERR_INVALID_PARAMETER;
    if (engine_session_handshake_done(s)) return SG_ERR_INVALID_PARAMETER;
    gnutls_certificate_server_set_request(session, (flags & SG_SESSION_SERVER_REQUEST_CERT)
                                          ? GNUTLS_CERT_REQUEST : GNUTLS_CERT_IGNORE);
    /* The CertificateRequest names no CAs: Windows Server 2012 and later send no trusted
     * issuer list unless the administrator sets SendTrustedIssuerList (default 0). */
    gnutls_certificate_send_x509_rdn_sequence(session, 1);
    if (alpn_size && (status = set_alpn(session, alpn, alpn_size)) != SG_OK) return status;
    return SG_OK;
}

/* ---- asking an established client again (AcceptSecurityContext without input) ---- */

static gnutls_datum_t retrieve_nothing(void *ptr, gnutls_datum_t key)
{
    gnutls_datum_t none = { NULL, 0 };
    (void)ptr;
    (void)key;
    return none;
}

enum sg_status engine_server_renegotiate(struct engine_session *s, uint32_t flags, int *library_error)
{
    gnutls_session_t session = engine_session_gnutls(s);
    int ret;

    *library_error = 0;
    if (!engine_session_is_server(s) || !engine_session_handshake_done(s)
        || (flags & ~SG_SESSION_SERVER_REQUEST_CERT))
        return SG_ERR_INVALID_PARAMETER;
    gnutls_certificate_server_set_request(session, (flags & SG_SESSION_SERVER_REQUEST_CERT)
                                          ? GNUTLS_CERT_REQUEST : GNUTLS_CERT_IGNORE);
    gnutls_certificate_send_x509_rdn_sequence(session, 1);  /* no trusted issuer list, as above */
    if (gnutls_protocol_get_version(session) == GNUTLS_TLS1_3)
    {
        /* Only a client that sent post_handshake_auth may be asked (RFC 8446 4.6.2). */
        if (!(flags & SG_SESSION_SERVER_REQUEST_CERT)
            || !(gnutls_session_get_flags(session) & GNUTLS_SFLAGS_POST_HANDSHAKE_AUTH))
            return SG_ERR_ALGORITHM_MISMATCH;
        /* Sends the CertificateRequest (into the pending output), then waits for the answer. */
        ret = gnutls_reauth(session, 0);
        if (ret == GNUTLS_E_AGAIN)
        {
            engine_session_begin_renegotiation(s, 1);
            return SG_OK;
        }
    }
    else
    {
        if (!gnutls_safe_renegotiation_status(session)) return SG_ERR_ALGORITHM_MISMATCH;
        /* A resumed session would bring no certificate: the new handshake is a full one. */
        gnutls_db_set_retrieve_function(session, retrieve_nothing);
        ret = gnutls_rehandshake(session);
        if (ret == 0)
        {
            engine_session_begin_renegotiation(s, 0);
            return SG_OK;
        }
    }
    *library_error = ret;
    return ret == GNUTLS_E_MEMORY_ERROR ? SG_ERR_NO_MEMORY : SG_ERR_INTERNAL;
}
