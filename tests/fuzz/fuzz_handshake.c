/*
 * libFuzzer harness: handshake input to a client (FZ_SERVER=0) or a server (FZ_SERVER=1)
 * engine session.
 *
 * Input layout:
 *   byte 0  bits 0-1 our protocols, bits 2-3 the peer's (fz_protocols), bit 4 ECDSA server key,
 *           bit 5 "live" mode, bits 6-7 output capacity (64 KiB, 100, 1000, 16 KiB bytes: the
 *           small ones take the unix_fetch_output path)
 *   byte 1  chunk size: 0 hands the peer bytes over at once, n > 0 in pieces of n bytes, so
 *           records arrive split (SG_INCOMPLETE) or several at a time (EXTRA)
 *   raw mode:  the rest is what the peer sends (seeds: recorded handshakes, record_seeds.c)
 *   live mode: a real peer session handshakes with ours; the rest is a list of 3-byte edits
 *           (offset hi, offset lo, xor) applied to the peer's byte stream before we read it;
 *           xor 0 cuts the flight at that offset.
 * After a finished handshake both sides exchange a record each way, then our side reads
 * whatever raw input is left, asks for the peer chain and shuts down.
 * Invariants (FZ_ASSERT) are the contract's: consumed <= input, missing >= 1, layouts inside
 * the buffer, a failed session stays failed.
 */

#include "fuzz_common.h"

#ifndef FZ_SERVER
#define FZ_SERVER 0
#endif

static uint64_t client_creds[4], server_creds[2][4];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int i, ecdsa;

    (void)argc;
    (void)argv;
    fz_load_material();
    for (i = 0; i < 4; i++)
    {
        client_creds[i] = fz_cred(SG_CRED_CLIENT, fz_protocols(i), 0);
        for (ecdsa = 0; ecdsa < 2; ecdsa++) server_creds[ecdsa][i] = fz_cred(SG_CRED_SERVER, fz_protocols(i), ecdsa);
    }
    return 0;
}

static uint32_t capacity_for(uint8_t selector)
{
    static const uint32_t caps[] = { 65536, 100, 1000, 16384 };
    return caps[selector & 3];
}

/*
 * Feeds *pending to our session in chunk-sized pieces, our tokens appended to *reply.
 * *last is the last step's status; on SG_OK *info is our session description. What our side
 * did not read stays in *pending (for the record layer).
 */
static void feed(uint64_t session, struct fz_bytes *pending, size_t chunk, uint32_t capacity,
                 struct fz_bytes *reply, uint32_t *last, struct sg_session_info *info)
{
    struct fz_bytes window = { 0 }, rest = { 0 };
    struct sg_handshake_params p;
    size_t offered = 0;
    int guard = 0;

    for (;;)
    {
        size_t n = chunk && pending->len - offered > chunk ? chunk : pending->len - offered;

        fz_append(&window, fz_at(pending, offered), n);
        offered += n;
        p = fz_step(session, &window, reply, capacity);
        *last = p.status;
        if (fz_handshake_failed(p.status))
        {
            /* Sticky: the next call reports the same failure. */
            struct fz_bytes none = { 0 };
            struct sg_handshake_params again = fz_step(session, &none, reply, capacity);
            FZ_ASSERT(again.status == p.status);
            break;
        }
        if (p.status == SG_OK)
        {
            *info = p.info;
            break;
        }
        FZ_ASSERT(++guard < 100000);
        /* More input to offer, or whole records left in the window after a CONTINUE. */
        if (offered < pending->len) continue;
        if (p.status == SG_CONTINUE && p.consumed && window.len) continue;
        break;
    }
    fz_append(&rest, window.data, window.len);
    fz_append(&rest, fz_at(pending, offered), pending->len - offered);
    fz_free(pending);
    fz_free(&window);
    *pending = rest;
}

/* Both sides finished: what is still in flight is read, then one record goes each way and
 * must arrive intact; then our side reports the peer chain and shuts down. When the stream
 * to us was edited, a whole record may be missing from it (a post-handshake message cut off
 * at a record boundary goes unnoticed until the next record): the peer's record then either
 * arrives intact or is refused, and nothing more is asserted. */
static void after_handshake(uint64_t ours, const struct sg_session_info *info, uint64_t peer,
                            const struct sg_session_info *peer_info, struct fz_bytes *to_us, struct fz_bytes *to_peer,
                            int edited)
{
    static const uint8_t msg[] = "fuzz round trip";
    struct fz_bytes wire = { 0 }, plain = { 0 };
    struct sg_get_peer_certs_params certs = { 0 };
    struct sg_shutdown_params shut = { 0 };
    uint8_t buf[8192];
    uint32_t status;

    FZ_ASSERT(info->header_size >= 5 && info->max_message && info->max_message <= 16384);
    status = to_us->len ? fz_open_all(ours, to_us, &plain) : SG_OK;
    if (peer && status == SG_OK && !to_us->len)
    {
        FZ_ASSERT(!to_peer->len || fz_open_all(peer, to_peer, NULL) == SG_OK);
        plain.len = 0;
        FZ_ASSERT(fz_seal(peer, peer_info, msg, sizeof(msg), &wire) == SG_OK);
        status = fz_open_all(ours, &wire, &plain);
        if (edited && status != SG_OK) FZ_ASSERT(status > SG_RENEGOTIATE && status <= SG_ERR_INTERNAL);
        else
        {
            FZ_ASSERT(status == SG_OK && !wire.len);
            FZ_ASSERT(plain.len == sizeof(msg) && !memcmp(plain.data, msg, sizeof(msg)));
        }
    }
    if (peer && status == SG_OK && !to_us->len)
    {
        FZ_ASSERT(fz_seal(ours, info, msg, sizeof(msg), &wire) == SG_OK);
        plain.len = 0;
        FZ_ASSERT(fz_open_all(peer, &wire, &plain) == SG_OK && !wire.len);
        FZ_ASSERT(plain.len == sizeof(msg) && !memcmp(plain.data, msg, sizeof(msg)));
    }

    certs.session = ours;
    certs.buffer = fz_addr(buf);
    certs.capacity = sizeof(buf);
    FZ_ASSERT(!fz_call(unix_get_peer_certs, &certs));
    FZ_ASSERT(certs.status != SG_OK || certs.size <= sizeof(buf));

    shut.session = ours;
    shut.output = fz_addr(buf);
    shut.output_capacity = sizeof(buf);
    FZ_ASSERT(!fz_call(unix_shutdown, &shut));
    fz_free(&wire);
    fz_free(&plain);
}

static void run_raw(uint64_t ours, struct fz_input *in, size_t chunk, uint32_t capacity)
{
    struct fz_bytes pending = { 0 }, reply = { 0 };
    struct sg_session_info info = { 0 };
    uint32_t last = SG_CONTINUE;

    if (!FZ_SERVER)
    {
        struct fz_bytes none = { 0 };
        struct sg_handshake_params first = fz_step(ours, &none, &reply, capacity);
        FZ_ASSERT(first.status == SG_CONTINUE && reply.len);
    }
    fz_append(&pending, in->data + in->pos, fz_left(in));
    feed(ours, &pending, chunk, capacity, &reply, &last, &info);
    if (last == SG_OK) after_handshake(ours, &info, 0, NULL, &pending, NULL, 1);
    fz_free(&pending);
    fz_free(&reply);
}

/* Edits the bytes [from, len) of *flight, which are stream offsets stream_pos onwards;
 * tells whether anything changed. */
static int apply_edits(struct fz_bytes *flight, size_t from, size_t stream_pos, const struct fz_input *edits)
{
    size_t i, n = flight->len - from, len = flight->len;
    int changed = 0;

    for (i = edits->pos; i + 3 <= edits->size; i += 3)
    {
        size_t at = ((size_t)edits->data[i] << 8) | edits->data[i + 1];
        uint8_t x = edits->data[i + 2];

        if (at < stream_pos || at >= stream_pos + n) continue;
        if (x) flight->data[from + at - stream_pos] ^= x;
        else
        {
            n = at - stream_pos;
            flight->len = from + n;
        }
        changed = 1;
    }
    return changed || flight->len != len;
}

static void run_live(uint64_t ours, uint64_t peer, const struct fz_input *edits, size_t chunk, uint32_t capacity)
{
    struct fz_bytes to_us = { 0 }, to_peer = { 0 }, none = { 0 };
    struct sg_session_info our_info = { 0 }, peer_info = { 0 };
    uint32_t ours_last = SG_CONTINUE, peer_last = SG_CONTINUE;
    struct sg_handshake_params p;
    size_t stream_pos = 0;
    int round, edited = 0;

    /* The client speaks first. */
    if (FZ_SERVER) p = fz_step(peer, &none, &to_us, 65536);
    else p = fz_step(ours, &none, &to_peer, capacity);
    FZ_ASSERT(p.status == SG_CONTINUE);

    for (round = 0; round < 12; round++)
    {
        size_t old = to_us.len;

        if (peer_last == SG_CONTINUE && to_peer.len)
        {
            p = fz_step(peer, &to_peer, &to_us, 65536);
            peer_last = p.status;
            if (p.status == SG_OK) peer_info = p.info;
        }
        if (FZ_SERVER && !round) old = 0;  /* the ClientHello is not edited yet */
        edited |= apply_edits(&to_us, old, stream_pos, edits);
        stream_pos += to_us.len - old;
        if (ours_last == SG_OK || fz_handshake_failed(ours_last) || !to_us.len) break;
        feed(ours, &to_us, chunk, capacity, &to_peer, &ours_last, &our_info);
    }
    if (ours_last == SG_OK)
    {
        struct fz_bytes sink = { 0 };

        /* A finished session refuses further handshake steps. */
        p = fz_step(ours, &none, &sink, capacity);
        FZ_ASSERT(p.status == SG_ERR_INVALID_PARAMETER && !sink.len);
        fz_free(&sink);
        if (peer_last == SG_OK) after_handshake(ours, &our_info, peer, &peer_info, &to_us, &to_peer, edited);
        else after_handshake(ours, &our_info, 0, NULL, &to_us, NULL, edited);
    }
    fz_free(&to_us);
    fz_free(&to_peer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_input in = { data, size, 0 };
    uint8_t config = fz_byte(&in), chunk = fz_byte(&in);
    int ours_proto = config & 3, peer_proto = (config >> 2) & 3, ecdsa = !!(config & 0x10);
    uint32_t capacity = capacity_for(config >> 6);
    uint64_t ours, peer;

    ours = FZ_SERVER ? fz_session(server_creds[ecdsa][ours_proto], 1) : fz_session(client_creds[ours_proto], 0);

    if (config & 0x20)
    {
        peer = FZ_SERVER ? fz_session(client_creds[peer_proto], 0) : fz_session(server_creds[ecdsa][peer_proto], 1);
        run_live(ours, peer, &in, chunk, capacity);
        fz_session_free(peer);
    }
    else
        run_raw(ours, &in, chunk, capacity);
    fz_session_free(ours);
    return 0;
}
