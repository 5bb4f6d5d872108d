/*
 * secur32's Unix-side engine: client features on GnuTLS outside engine.c.
 *  - credential algorithm restrictions (SCHANNEL_CRED cipher strengths, palgSupportedAlgs,
 *    SCH_CREDENTIALS CRYPTO_SETTINGS, SCH_USE_STRONG_CRYPTO), as priority-string removals;
 *  - the ALPN offer and the selected protocol;
 *  - session resumption data for the PE side's session cache;
 *  - client-initiated renegotiation (TLS 1.0-1.2).
 */

#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "engine_client.h"

#define MAX_PRIORITY 1024
#define MAX_ALPN_IDS 16

struct removal
{
    uint32_t alg;
    const char *items;
};

/* What each SG_ALG_* group takes out of GnuTLS's NORMAL priorities. */
static const struct removal removals[] =
{
    { SG_ALG_AES_128,    ":-AES-128-GCM:-AES-128-CBC:-AES-128-CCM:-AES-128-CCM-8" },
    { SG_ALG_AES_256,    ":-AES-256-GCM:-AES-256-CBC:-AES-256-CCM:-AES-256-CCM-8" },
    { SG_ALG_CHACHA20,   ":-CHACHA20-POLY1305" },
    { SG_ALG_3DES,       ":-3DES-CBC" },
    { SG_ALG_KX_RSA,     ":-RSA" },
    { SG_ALG_KX_DHE,     ":-DHE-RSA:-DHE-DSS:-GROUP-FFDHE2048:-GROUP-FFDHE3072:-GROUP-FFDHE4096"
                         ":-GROUP-FFDHE6144:-GROUP-FFDHE8192" },
    { SG_ALG_KX_ECDHE,   ":-ECDHE-RSA:-ECDHE-ECDSA:-GROUP-SECP256R1:-GROUP-SECP384R1:-GROUP-SECP521R1"
                         ":-GROUP-X25519:-GROUP-X448" },
    { SG_ALG_MAC_SHA1,   ":-SHA1" },
    { SG_ALG_MAC_SHA256, ":-SHA256" },
    { SG_ALG_MAC_SHA384, ":-SHA384" },
    { SG_ALG_CBC,        ":-AES-128-CBC:-AES-256-CBC:-3DES-CBC:-CAMELLIA-128-CBC:-CAMELLIA-256-CBC" },
};

static int append(char *buf, size_t size, size_t *pos, const char *text)
{
    size_t len = strlen(text);
    if (len >= size - *pos) return -1;
    memcpy(buf + *pos, text, len + 1);
    *pos += len;
    return 0;
}

enum sg_status engine_cred_restrict(struct engine_cred *cred, uint32_t protocols, uint32_t disabled,
                                    int *library_error)
{
    static const struct { uint32_t proto; const char *item; } versions[] =
    {
        { SG_PROTO_TLS1_3, ":+VERS-TLS1.3" },
        { SG_PROTO_TLS1_2, ":+VERS-TLS1.2" },
        { SG_PROTO_TLS1_1, ":+VERS-TLS1.1" },
        { SG_PROTO_TLS1_0, ":+VERS-TLS1.0" },
    };
    char priority[MAX_PRIORITY];
    size_t pos = 0, i;
    int ret;

    *library_error = 0;
    if (!cred || !protocols || (protocols & ~0xfu)) return SG_ERR_INVALID_PARAMETER;
    if (append(priority, sizeof(priority), &pos, "NORMAL:-VERS-ALL")) return SG_ERR_INTERNAL;
    for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
        if ((protocols & versions[i].proto) && append(priority, sizeof(priority), &pos, versions[i].item))
            return SG_ERR_INTERNAL;
    if (append(priority, sizeof(priority), &pos, ENGINE_GROUP_ORDER)) return SG_ERR_INTERNAL;
    for (i = 0; i < sizeof(removals) / sizeof(removals[0]); i++)
        if ((disabled & removals[i].alg) && append(priority, sizeof(priority), &pos, removals[i].items))
            return SG_ERR_INTERNAL;
    if ((ret = engine_cred_replace_priority(cred, priority)) < 0)
    {
        *library_error = ret;
        return ret == GNUTLS_E_MEMORY_ERROR ? SG_ERR_NO_MEMORY : SG_ERR_INVALID_PARAMETER;
    }
    return SG_OK;
}

enum sg_status engine_session_set_alpn(struct engine_session *s, const uint8_t *list, size_t size)
{
    gnutls_datum_t ids[MAX_ALPN_IDS];
    unsigned int count = 0;
    size_t pos = 0;

    if (engine_session_is_server(s) || engine_session_handshake_done(s)) return SG_ERR_INVALID_PARAMETER;
    while (pos < size)
    {
        size_t len = list[pos];
        if (!len || len > size - pos - 1 || count == MAX_ALPN_IDS) return SG_ERR_INVALID_PARAMETER;
        ids[count].data = (unsigned char *)list + pos + 1;
        ids[count].size = len;
        count++;
        pos += 1 + len;
    }
    if (!count) return SG_OK;
    if (gnutls_alpn_set_protocols(engine_session_gnutls(s), ids, count, 0) < 0) return SG_ERR_INVALID_PARAMETER;
    return SG_OK;
}

enum sg_status engine_session_get_alpn(struct engine_session *s, uint8_t *buffer, size_t capacity, size_t *size)
{
    gnutls_datum_t selected;

    *size = 0;
    if (!engine_session_handshake_done(s)) return SG_ERR_INVALID_PARAMETER;
    if (gnutls_alpn_get_selected_protocol(engine_session_gnutls(s), &selected) < 0 || !selected.size)
        return SG_OK;
    *size = selected.size;
    if (selected.size > capacity) return SG_ERR_BUFFER_TOO_SMALL;
    memcpy(buffer, selected.data, selected.size);
    return SG_OK;
}

enum sg_status engine_session_get_resume(struct engine_session *s, uint8_t *buffer, size_t capacity,
                                         size_t *size, uint8_t *session_id, size_t *session_id_size)
{
    gnutls_session_t tls = engine_session_gnutls(s);
    gnutls_datum_t id, data;

    *size = 0;
    *session_id_size = 0;
    if (!engine_session_handshake_done(s)) return SG_ERR_INVALID_PARAMETER;
    if (gnutls_session_get_id2(tls, &id) >= 0 && id.size <= 32)
    {
        memcpy(session_id, id.data, id.size);
        *session_id_size = id.size;
    }
    if (engine_session_is_server(s)) return SG_OK;
    /* A TLS 1.3 session resumes only with a ticket; without one GnuTLS would wait for it. */
    if (gnutls_protocol_get_version(tls) == GNUTLS_TLS1_3
        && !(gnutls_session_get_flags(tls) & GNUTLS_SFLAGS_SESSION_TICKET))
        return SG_OK;
    if (gnutls_session_get_data2(tls, &data) < 0) return SG_OK;
    *size = data.size;
    if (data.size > capacity)
    {
        gnutls_free(data.data);
        return SG_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(buffer, data.data, data.size);
    gnutls_memset(data.data, 0, data.size);
    gnutls_free(data.data);
    return SG_OK;
}

enum sg_status engine_session_set_resume(struct engine_session *s, const uint8_t *data, size_t size)
{
    if (engine_session_is_server(s) || engine_session_handshake_done(s) || !size)
        return SG_ERR_INVALID_PARAMETER;
    if (gnutls_session_set_data(engine_session_gnutls(s), data, size) < 0) return SG_ERR_INVALID_PARAMETER;
    return SG_OK;
}

int engine_session_resume_changed(struct engine_session *s)
{
    gnutls_session_t tls = engine_session_gnutls(s);

    if (!gnutls_session_is_resumed(tls) || gnutls_protocol_get_version(tls) == GNUTLS_TLS1_3) return 1;
    /* A TLS 1.2 server may renew the ticket it resumed from (RFC 5077 3.3). */
    return (gnutls_session_get_flags(tls) & GNUTLS_SFLAGS_SESSION_TICKET) != 0;
}

enum sg_status engine_client_renegotiate(struct engine_session *s)
{
    gnutls_session_t tls = engine_session_gnutls(s);

    if (engine_session_is_server(s) || !engine_session_handshake_done(s)) return SG_ERR_INVALID_PARAMETER;
    /* TLS 1.3 has no renegotiation (RFC 8446 4.1.2: a ClientHello after the handshake is fatal). */
    if (gnutls_protocol_get_version(tls) == GNUTLS_TLS1_3) return SG_ERR_INVALID_PARAMETER;
    engine_session_allow_rehandshake(s);
    return SG_OK;
}
