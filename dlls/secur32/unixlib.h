/*
 * The contract between secur32's PE side and its Unix-side TLS engine.
 *
 * This header is the only thing the two sides share. The PE side parses SecBuffers and
 * Windows structures and never includes GnuTLS; the Unix side drives GnuTLS and never sees
 * a SecBuffer. Every call takes one parameter struct of fixed-width fields; memory regions
 * travel as (address, size) pairs in 64-bit fields so a 32-bit caller can be thunked later.
 *
 * Handles (sg_cred, sg_session) are opaque 64-bit values owned by the Unix side.
 * A call's NTSTATUS return is 0 when the parameters were understood; the TLS outcome is
 * in the struct's "status" field (enum sg_status).
 */

#ifndef SCHANNEL_GNUTLS_SECUR32_UNIXLIB_H
#define SCHANNEL_GNUTLS_SECUR32_UNIXLIB_H

#include <stdint.h>

#define SG_UNIXLIB_VERSION 1

enum sg_unix_call
{
    unix_process_attach,   /* struct sg_process_attach_params */
    unix_cred_create,      /* struct sg_cred_create_params */
    unix_cred_free,        /* struct sg_cred_free_params */
    unix_session_create,   /* struct sg_session_create_params */
    unix_session_free,     /* struct sg_session_free_params */
    unix_handshake,        /* struct sg_handshake_params: one call per ISC/ASC step */
    unix_fetch_output,     /* struct sg_fetch_output_params: rest of an oversized token */
    unix_encrypt,          /* struct sg_encrypt_params: one call per EncryptMessage */
    unix_decrypt,          /* struct sg_decrypt_params: one call per DecryptMessage */
    unix_get_peer_certs,   /* struct sg_get_peer_certs_params */
    unix_shutdown,         /* struct sg_shutdown_params: close_notify for the peer */
    unix_send_alert,       /* struct sg_send_alert_params: an alert chosen by the caller */
    unix_session_set_alpn, /* struct sg_session_alpn_params: client's ALPN offer, before the first step */
    unix_session_get_alpn, /* struct sg_session_alpn_params: the protocol the server selected */
    unix_session_get_resume, /* struct sg_session_resume_params: client session data for the cache */
    unix_session_set_resume, /* struct sg_session_resume_params: resume from cached data, before the first step */
    unix_cred_restrict,    /* struct sg_cred_restrict_params: algorithm restrictions of a credential */
    unix_cred_add_cert,    /* struct sg_cred_add_cert_params: another certificate + key for a server */
    unix_cred_set_server,  /* struct sg_cred_server_params: server-wide options, before any session */
    unix_session_set_server, /* struct sg_session_server_params: per-connection server options */
    unix_session_query,    /* struct sg_session_query_params: session id, tls-unique, exporter */
    unix_dtls_session_create, /* struct sg_dtls_session_create_params: a datagram (DTLS) session */
    unix_dtls_handshake,   /* struct sg_dtls_handshake_params: one ISC/ASC step of a DTLS session */
    unix_dtls_encrypt,     /* struct sg_encrypt_params: one DTLS record (one datagram) */
    unix_dtls_decrypt,     /* struct sg_decrypt_params: the first DTLS record of a datagram */
    unix_dtls_control,     /* struct sg_dtls_control_params: MTU, close_notify, queued datagrams */
    unix_client_handshake, /* struct sg_handshake_params: a client step that pauses at a CertificateRequest */
    unix_session_client_cert, /* struct sg_session_client_cert_params */
    unix_session_cert_request, /* struct sg_session_cert_request_params */
    unix_client_renegotiate, /* struct sg_client_renegotiate_params: client-initiated renegotiation */
    unix_server_renegotiate, /* struct sg_server_renegotiate_params: a server asks for a client certificate again */
    unix_funcs_count
};

/* Outcome of an engine operation; the PE side maps it to a SECURITY_STATUS. */
enum sg_status
{
    SG_OK = 0,               /* handshake done / record processed */
    SG_CONTINUE,             /* handshake: send output (if any), then call again with peer data */
    SG_INCOMPLETE,           /* input does not hold one whole record; "missing" says how much more */
    SG_RENEGOTIATE,          /* peer asked for a new handshake (reserved for the record-layer issue) */
    SG_CLOSED,               /* peer sent close_notify */
    SG_ERR_NO_MEMORY,
    SG_ERR_INVALID_TOKEN,    /* malformed record framing or handshake message */
    SG_ERR_DECRYPT,          /* record failed authentication / decryption */
    SG_ERR_ILLEGAL_MESSAGE,  /* unexpected message, or peer sent a fatal alert */
    SG_ERR_ALGORITHM_MISMATCH, /* no protocol version or cipher suite in common */
    SG_ERR_BAD_CERT,         /* peer's certificate unusable (parse error, bad signature) */
    SG_ERR_NO_CREDENTIALS,   /* credential unusable for this role (server without a key) */
    SG_ERR_BUFFER_TOO_SMALL, /* caller's region cannot hold the result */
    SG_ERR_INVALID_PARAMETER,/* a size or handle in the params is impossible */
    SG_ERR_INTERNAL,
    SG_ERR_APPLICATION_PROTOCOL, /* server: no ALPN id in common with the client's offer */
    SG_CREDENTIALS_NEEDED    /* client: the server asked for a certificate and none was chosen yet
                              * (unix_client_handshake); the input was taken, answer with
                              * unix_session_client_cert and step again */
};

/* Protocol version bits (cred protocols mask, session_info.protocol). */
#define SG_PROTO_TLS1_0  0x01
#define SG_PROTO_TLS1_1  0x02
#define SG_PROTO_TLS1_2  0x04
#define SG_PROTO_TLS1_3  0x08
#define SG_PROTO_DTLS1_0 0x10    /* session_info.protocol of datagram sessions only */
#define SG_PROTO_DTLS1_2 0x20

/* Bulk cipher, hash and key exchange of a negotiated session (session_info). */
enum sg_cipher { SG_CIPHER_NONE, SG_CIPHER_AES_128_GCM, SG_CIPHER_AES_256_GCM, SG_CIPHER_CHACHA20_POLY1305,
                 SG_CIPHER_AES_128_CBC, SG_CIPHER_AES_256_CBC, SG_CIPHER_3DES_CBC, SG_CIPHER_AES_128_CCM,
                 SG_CIPHER_AES_256_CCM, SG_CIPHER_OTHER };
enum sg_hash   { SG_HASH_NONE, SG_HASH_SHA1, SG_HASH_SHA256, SG_HASH_SHA384, SG_HASH_OTHER };
enum sg_kx     { SG_KX_NONE, SG_KX_RSA, SG_KX_DHE, SG_KX_ECDHE, SG_KX_OTHER };

#define SG_ALERT_NONE 0xffffffffu

struct sg_session_info
{
    uint32_t protocol;        /* one SG_PROTO_* bit */
    uint32_t cipher_suite;    /* IANA two-byte identifier */
    uint32_t cipher;          /* enum sg_cipher */
    uint32_t cipher_bits;
    uint32_t hash;            /* enum sg_hash: the suite's MAC or PRF/HKDF hash */
    uint32_t hash_bits;
    uint32_t kx;              /* enum sg_kx */
    uint32_t kx_bits;         /* group size: 255 for X25519, 256 for P-256, RSA modulus bits, ... */
    uint32_t header_size;     /* record bytes before the plaintext (5 + explicit IV/nonce) */
    uint32_t trailer_size;    /* most record bytes after the plaintext (tag/MAC/padding/type) */
    uint32_t max_message;     /* largest plaintext in one record */
    uint32_t block_size;      /* cipher block size, 1 for stream-like AEADs */
    uint32_t resumed;         /* nonzero if the session was resumed */
    uint32_t reserved;
};

struct sg_process_attach_params
{
    uint32_t version;         /* out: SG_UNIXLIB_VERSION */
    uint32_t reserved;
};

/* Credential roles for sg_cred_create_params.flags. */
#define SG_CRED_CLIENT 0x01
#define SG_CRED_SERVER 0x02

/* Private key formats for sg_cred_create_params.key_format. */
#define SG_KEY_NONE 0
/* RSA components, each field a little-endian uint32 length followed by that many bytes of an
 * unsigned big-endian integer, in this order: n, e, d, p, q, dp, dq, qinv (PKCS #1 meanings). */
#define SG_KEY_RSA_COMPONENTS 1
/* EC components: a little-endian uint32 TLS named-group id (23 P-256, 24 P-384, 25 P-521),
 * then x, y and d, each a little-endian uint32 length and big-endian bytes. */
#define SG_KEY_EC_COMPONENTS 2

struct sg_cred_create_params
{
    uint32_t flags;           /* SG_CRED_CLIENT or SG_CRED_SERVER */
    uint32_t protocols;       /* SG_PROTO_* mask the credential may negotiate; never 0 */
    uint64_t chain;           /* certificates, leaf first: each a LE uint32 length then DER bytes */
    uint32_t chain_size;      /* 0 when no certificate */
    uint32_t key_format;      /* SG_KEY_* */
    uint64_t key;             /* key blob in key_format; the caller wipes it after the call */
    uint32_t key_size;
    uint32_t status;          /* out: enum sg_status */
    uint64_t cred;            /* out: handle, 0 on failure */
};

/*
 * Restrict a new credential (before any session is created on it) to its protocols without
 * the SG_ALG_* groups in disabled_algs.
 */
struct sg_cred_restrict_params
{
    uint64_t cred;
    uint32_t protocols;       /* SG_PROTO_* mask, as given to unix_cred_create */
    uint32_t disabled_algs;   /* SG_ALG_* */
    uint32_t status;          /* out */
    int32_t library_error;    /* out */
};

/* Algorithm groups for sg_cred_restrict_params.disabled_algs (bulk ciphers in every mode,
 * key exchanges, record MACs of CBC suites). */
#define SG_ALG_AES_128    0x0001
#define SG_ALG_AES_256    0x0002
#define SG_ALG_CHACHA20   0x0004
#define SG_ALG_3DES       0x0008
#define SG_ALG_KX_RSA     0x0100
#define SG_ALG_KX_DHE     0x0200
#define SG_ALG_KX_ECDHE   0x0400
#define SG_ALG_CBC        0x0800  /* every CBC-mode suite (a server's default when TLS 1.0/1.1 are off) */
#define SG_ALG_MAC_SHA1   0x1000
#define SG_ALG_MAC_SHA256 0x2000
#define SG_ALG_MAC_SHA384 0x4000

struct sg_cred_free_params
{
    uint64_t cred;            /* sessions created from it keep it alive until they are freed */
};

/* Session flags. */
#define SG_SESSION_SERVER 0x01

struct sg_session_create_params
{
    uint64_t cred;
    uint32_t flags;           /* SG_SESSION_* */
    uint32_t server_name_size;
    uint64_t server_name;     /* UTF-8 host name for SNI, not NUL-terminated; 0 for none */
    uint32_t status;          /* out */
    uint32_t reserved;
    uint64_t session;         /* out */
};

struct sg_session_free_params
{
    uint64_t session;
};

/*
 * One handshake step. The engine reads whole TLS records from input (never a partial one),
 * writes the bytes to send into output, and reports how much input it used: unused input
 * after SG_OK or SG_CONTINUE is the caller's SECBUFFER_EXTRA.
 * If the token is larger than output_capacity, output_size says its full size, nothing is
 * written, and the caller fetches it with unix_fetch_output.
 * On SG_OK, info describes the session.
 */
struct sg_handshake_params
{
    uint64_t session;
    uint64_t input;
    uint32_t input_size;
    uint32_t output_capacity;
    uint64_t output;
    uint32_t status;          /* out: enum sg_status */
    uint32_t consumed;        /* out: input bytes used */
    uint32_t output_size;     /* out: bytes of token produced */
    uint32_t missing;         /* out: SG_INCOMPLETE: bytes still needed (at least 1) */
    uint32_t alert;           /* out: TLS alert sent or received, SG_ALERT_NONE if none */
    int32_t library_error;    /* out: backend error code, for traces */
    struct sg_session_info info; /* out, on SG_OK */
    uint32_t alert_received;  /* out: nonzero when "alert" came from the peer (it was not sent) */
    uint32_t reserved2;
    /*
     * Read by unix_client_handshake only (unix_handshake ignores them): what would otherwise
     * take calls of its own around a client step. Zero for none. The inputs act before the
     * step, as their own calls would, on a session whose handshake has not started; an ALPN
     * offer the engine refuses ends the step with SG_ERR_INVALID_TOKEN, refused resumption
     * data is ignored (full handshake). The regions are filled when the step ends with SG_OK:
     * a size larger than its capacity means nothing was written (use the call of its own).
     */
    uint64_t resume;          /* in: cached session data to offer (as unix_session_set_resume) */
    uint64_t alpn;            /* in: ALPN offer, TLS wire form (as unix_session_set_alpn) */
    uint32_t resume_size;
    uint32_t alpn_size;
    uint32_t step_flags;      /* in: SG_STEP_* */
    uint32_t resume_out_capacity;
    uint64_t resume_out;      /* in: region for the session's resumption data (as unix_session_get_resume) */
    uint64_t peer_certs;      /* in: region for the peer's chain (as unix_get_peer_certs) */
    uint32_t peer_certs_capacity;
    uint32_t resume_out_size; /* out, SG_OK: resumption data size, 0 for none (no TLS 1.3 ticket yet)
                               * or nothing new (a resumed TLS 1.0-1.2 session without a new ticket) */
    uint32_t peer_certs_size; /* out, SG_OK: chain size, 0 if the peer sent none */
    uint32_t peer_certs_count; /* out, SG_OK */
};
#define SG_STEP_ASK_CLIENT_CERT 0x01  /* as unix_session_client_cert SG_CLIENT_CERT_ASK, before the step */

struct sg_fetch_output_params
{
    uint64_t session;
    uint64_t output;
    uint32_t output_capacity;
    uint32_t output_size;     /* out: bytes written; the pending token is then dropped */
    uint32_t status;          /* out: SG_ERR_BUFFER_TOO_SMALL if capacity < pending size */
    uint32_t reserved;
};

/*
 * Seal one record. The plaintext is in data (at most info.max_message bytes). The record is
 * written across the caller's three regions: its first header_used bytes into header, the
 * next data_size bytes into data (overwriting the plaintext), the rest into trailer.
 */
struct sg_encrypt_params
{
    uint64_t session;
    uint64_t header;
    uint64_t data;
    uint64_t trailer;
    uint32_t header_size;     /* capacity */
    uint32_t data_size;
    uint32_t trailer_size;    /* capacity */
    uint32_t status;          /* out */
    uint32_t header_used;     /* out */
    uint32_t trailer_used;    /* out */
    int32_t library_error;    /* out */
    uint32_t reserved;
};

/*
 * Open the first record in buffer, in place: the plaintext is written at
 * buffer + data_offset (inside the record it came from). consumed is the record's length;
 * bytes after it are the caller's SECBUFFER_EXTRA. A record that carries no application
 * data (e.g. a TLS 1.3 NewSessionTicket) gives SG_OK with data_size 0.
 */
struct sg_decrypt_params
{
    uint64_t session;
    uint64_t buffer;
    uint32_t size;
    uint32_t status;          /* out */
    uint32_t consumed;        /* out */
    uint32_t data_offset;     /* out */
    uint32_t data_size;       /* out */
    uint32_t missing;         /* out: SG_INCOMPLETE */
    uint32_t alert;           /* out */
    int32_t library_error;    /* out */
    uint32_t flags;           /* out: SG_DECRYPT_* */
    uint32_t output_pending;  /* out: bytes queued for the peer (e.g. a TLS 1.3 KeyUpdate reply);
                               * the next handshake step (or unix_fetch_output) hands them over */
};
#define SG_DECRYPT_POST_HANDSHAKE 0x01  /* SG_OK, no data: TLS 1.3 NewSessionTicket / KeyUpdate */

/* The peer's certificate chain as sent, leaf first: each a LE uint32 length then DER bytes. */
struct sg_get_peer_certs_params
{
    uint64_t session;
    uint64_t buffer;
    uint32_t capacity;
    uint32_t size;            /* out: bytes needed/written (0 if the peer sent none) */
    uint32_t count;           /* out */
    uint32_t status;          /* out: SG_ERR_BUFFER_TOO_SMALL when capacity < size */
};

/*
 * End the session: the close_notify alert for the peer is written to output (or, if it does
 * not fit, its size is reported and unix_fetch_output returns it, as for a handshake step).
 */
struct sg_shutdown_params
{
    uint64_t session;
    uint64_t output;
    uint32_t output_capacity;
    uint32_t output_size;     /* out */
    uint32_t status;          /* out */
    int32_t library_error;    /* out */
};

/*
 * Client ALPN. set: buffer/size hold the protocol ids offered, in TLS wire form (each a
 * length byte then the id, as in SEC_APPLICATION_PROTOCOL_LIST.ProtocolList).
 * get: the id the server selected is written to buffer (capacity size); result_size is its
 * length, 0 when no protocol was negotiated.
 */
struct sg_session_alpn_params
{
    uint64_t session;
    uint64_t buffer;
    uint32_t size;
    uint32_t result_size;     /* out (get) */
    uint32_t status;          /* out */
    uint32_t reserved;
};

/*
 * Client session resumption. get (after the handshake): the session's resumption data is
 * written to buffer when capacity (size) suffices; result_size is its size (0 when the
 * session cannot be resumed: no TLS 1.3 ticket received yet, or a server session);
 * session_id is the TLS session id. set (before the first step): offer the data.
 */
struct sg_session_resume_params
{
    uint64_t session;
    uint64_t buffer;
    uint32_t size;
    uint32_t result_size;     /* out (get) */
    uint32_t status;          /* out */
    uint32_t session_id_size; /* out (get) */
    uint8_t session_id[32];   /* out (get) */
};

/* What unix_session_query answers (after the handshake). */
#define SG_QUERY_SESSION_ID  1   /* the TLS session id (up to 32 bytes) */
#define SG_QUERY_TLS_UNIQUE  2   /* RFC 5929 tls-unique; SG_ERR_INVALID_PARAMETER in TLS 1.3 */
#define SG_QUERY_EXPORTER    3   /* RFC 5705/8446 exporter: input = label then context bytes;
                                  * output_capacity bytes of keying material */
#define SG_QUERY_NO_CONTEXT  0xffffffffu

struct sg_session_query_params
{
    uint64_t session;
    uint64_t input;
    uint64_t output;
    uint32_t what;            /* SG_QUERY_* */
    uint32_t input_size;
    uint32_t context_size;    /* SG_QUERY_EXPORTER: trailing input bytes that are the context */
    uint32_t output_capacity;
    uint32_t output_size;     /* out: bytes needed / written */
    uint32_t status;          /* out: SG_ERR_BUFFER_TOO_SMALL when output_capacity < output_size */
    int32_t library_error;    /* out */
    uint32_t reserved;
};

/*
 * Send a TLS alert (ApplyControlToken SCHANNEL_ALERT): level 1 warning or 2 fatal, description
 * as in RFC 5246/8446. The record is written to output like sg_shutdown_params' token. A fatal
 * alert ends the session.
 */
struct sg_send_alert_params
{
    uint64_t session;
    uint64_t output;
    uint32_t output_capacity;
    uint32_t level;
    uint32_t description;
    uint32_t output_size;     /* out */
    uint32_t status;          /* out */
    int32_t library_error;    /* out */
};

/* One more certificate chain and private key for a server credential (same formats as
 * sg_cred_create_params); the server picks among them by SNI name and key type. */
struct sg_cred_add_cert_params
{
    uint64_t cred;
    uint64_t chain;
    uint32_t chain_size;
    uint32_t key_format;      /* SG_KEY_* */
    uint64_t key;             /* the caller wipes it after the call */
    uint32_t key_size;
    uint32_t status;          /* out */
    int32_t library_error;    /* out */
    uint32_t reserved;
};

/* Server credential options. */
#define SG_CRED_SERVER_NO_RESUME 0x01  /* SCH_CRED_DISABLE_RECONNECTS: no session cache, no tickets */

struct sg_cred_server_params
{
    uint64_t cred;
    uint32_t flags;           /* SG_CRED_SERVER_* */
    uint32_t status;          /* out */
};

/* Per-connection server options, before the first handshake step. */
#define SG_SESSION_SERVER_REQUEST_CERT 0x01  /* ASC_REQ_MUTUAL_AUTH: send a CertificateRequest */

struct sg_session_server_params
{
    uint64_t session;
    uint64_t alpn;            /* ALPN ids the server accepts, TLS wire form (length byte + id)...; 0 for none */
    uint32_t alpn_size;
    uint32_t flags;           /* SG_SESSION_SERVER_* */
    uint32_t status;          /* out */
    uint32_t reserved;
};

/*
 * DTLS (datagram sessions, engine_dtls.c). A datagram session is an ordinary session handle
 * (unix_session_free, unix_get_peer_certs, unix_session_query work on it) created by
 * unix_dtls_session_create; its handshake, records and close_notify go through the
 * unix_dtls_* calls. Output comes as whole datagrams, one per call: "more" says that further
 * datagrams of the same flight are queued (the caller fetches them with the next step or
 * SG_DTLS_TAKE_OUTPUT). Input is one datagram per call and is always consumed whole.
 * Records sealed by unix_dtls_encrypt / opened by unix_dtls_decrypt use sg_encrypt_params /
 * sg_decrypt_params; a DTLS decrypt reports in flags why a record gave no data.
 */
#define SG_DTLS_DEFAULT_MTU 1096   /* Schannel's default path MTU */
#define SG_DTLS_MIN_MTU     200
#define SG_DTLS_MAX_MTU     65535

#define SG_DECRYPT_DTLS_REPLAY    0x02  /* SG_OK, no data: a record already received (replay window) */
#define SG_DECRYPT_DTLS_DISCARDED 0x04  /* SG_OK, no data: a record DTLS drops silently (bad MAC, old epoch) */

struct sg_dtls_session_create_params
{
    uint64_t cred;
    uint64_t server_name;     /* UTF-8 SNI name, not NUL-terminated; 0 for none (client only) */
    uint32_t server_name_size;
    uint32_t flags;           /* SG_SESSION_SERVER */
    uint32_t protocols;       /* SG_PROTO_DTLS1_0 / SG_PROTO_DTLS1_2 mask; never 0 */
    uint32_t mtu;             /* SG_DTLS_MIN_MTU..SG_DTLS_MAX_MTU */
    uint32_t status;          /* out */
    int32_t library_error;    /* out */
    uint64_t session;         /* out */
};

struct sg_dtls_handshake_params
{
    uint64_t session;
    uint64_t input;           /* one datagram; 0/0 for none (the caller's retransmission timer fired) */
    uint32_t input_size;
    uint32_t client_id_size;  /* server: the client's transport address, for the cookie exchange */
    uint64_t client_id;
    uint64_t output;
    uint32_t output_capacity; /* at least the MTU */
    uint32_t status;          /* out: SG_OK (done), SG_CONTINUE, errors */
    uint32_t consumed;        /* out */
    uint32_t output_size;     /* out: one datagram, 0 for none */
    uint32_t more;            /* out: more datagrams of this flight are queued */
    uint32_t alert;           /* out */
    int32_t library_error;    /* out */
    uint32_t reserved;
    struct sg_session_info info; /* out, on SG_OK */
};

#define SG_DTLS_SET_MTU     1   /* value: new path MTU */
#define SG_DTLS_GET_MTU     2   /* value (out) */
#define SG_DTLS_SHUTDOWN    3   /* queue close_notify, then as SG_DTLS_TAKE_OUTPUT */
#define SG_DTLS_TAKE_OUTPUT 4   /* next queued datagram into output */
#define SG_DTLS_GET_MAX_MESSAGE 5 /* value (out): largest plaintext of one datagram */
/* DTLS-SRTP (RFC 5764). The SET codes read their input from output / output_capacity and
 * are valid before the first handshake step only. */
#define SG_DTLS_SET_SRTP_PROFILES 6 /* protection profile ids as on the wire (2 bytes each, big-endian);
                                     * ids the engine does not support are left out */
#define SG_DTLS_SET_SRTP_MKI 7    /* master key identifier, 0-255 bytes */
#define SG_DTLS_GET_SRTP 8        /* value (out): negotiated profile id, 0 for none; output (out):
                                   * the MKI, output_size its size */

struct sg_dtls_control_params
{
    uint64_t session;
    uint64_t output;
    uint32_t output_capacity;
    uint32_t what;            /* SG_DTLS_* */
    uint32_t value;           /* in/out */
    uint32_t output_size;     /* out */
    uint32_t more;            /* out */
    uint32_t status;          /* out */
    int32_t library_error;    /* out */
    uint32_t reserved;
};

/*
 * Client certificates asked for by the server. mode SG_CLIENT_CERT_ASK (before the first
 * step): unix_client_handshake stops with SG_CREDENTIALS_NEEDED at a CertificateRequest.
 * mode SG_CLIENT_CERT_ANSWER: answer it with the certificate of cred (0: send none).
 */
#define SG_CLIENT_CERT_ASK    1
#define SG_CLIENT_CERT_ANSWER 2

struct sg_session_client_cert_params
{
    uint64_t session;
    uint64_t cred;            /* ANSWER: a client credential with a certificate, or 0 */
    uint32_t mode;            /* SG_CLIENT_CERT_* */
    uint32_t status;          /* out */
};

/* The certificate authorities named in the server's CertificateRequest: each a LE uint32
 * length then the DER-encoded name, in the server's order. */
struct sg_session_cert_request_params
{
    uint64_t session;
    uint64_t buffer;
    uint32_t capacity;
    uint32_t size;            /* out: bytes needed / written */
    uint32_t count;           /* out: names */
    uint32_t requested;       /* out: nonzero if the server asked for a certificate */
    uint32_t status;          /* out: SG_ERR_BUFFER_TOO_SMALL when capacity < size */
    uint32_t reserved;
};

/*
 * A client asks for a new handshake on an established TLS 1.0-1.2 session (a second
 * InitializeSecurityContext): the next handshake step sends a ClientHello under the
 * current keys. SG_ERR_INVALID_PARAMETER for a server, before the handshake, or in TLS 1.3
 * (which has no renegotiation).
 */
struct sg_client_renegotiate_params
{
    uint64_t session;
    uint32_t status;          /* out */
    int32_t library_error;    /* out */
};

/*
 * A server asks an established client for a (new) handshake: in TLS 1.0-1.2 a HelloRequest
 * (secure renegotiation), in TLS 1.3 a post-handshake CertificateRequest (RFC 8446 4.6.2).
 * The message is queued as pending output (unix_fetch_output); handshake steps then run the
 * new handshake / read the client's answer. flags: SG_SESSION_SERVER_REQUEST_CERT asks for a
 * certificate. SG_ERR_ALGORITHM_MISMATCH when the client cannot be asked (no secure
 * renegotiation support, or no post_handshake_auth extension in TLS 1.3).
 */
struct sg_server_renegotiate_params
{
    uint64_t session;
    uint32_t flags;           /* SG_SESSION_SERVER_* */
    uint32_t status;          /* out */
    int32_t library_error;    /* out */
    uint32_t reserved;
};

#endif /* SCHANNEL_GNUTLS_SECUR32_UNIXLIB_H */
