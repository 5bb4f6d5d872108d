/*
 * libFuzzer harness: certificate and key import (unix_cred_create blobs).
 *
 * Input layout: byte 0 bits 0-1 key format (none, RSA components, EC components, invalid),
 * bit 2 server role, bits 3-6 protocol mask; bytes 1-2 the chain blob's length (big-endian);
 * then the chain blob ("LE uint32 length + DER" entries), then the key blob.
 * A credential that is accepted must be usable: a server credential completes a handshake
 * with one of our client sessions, and a client credential starts one.
 */

#include "fuzz_common.h"

static uint64_t client_cred;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_load_material();
    client_cred = fz_cred(SG_CRED_CLIENT, SG_PROTO_TLS1_2 | SG_PROTO_TLS1_3, 0);
    return 0;
}

static void try_handshake(uint64_t server_cred)
{
    struct fz_bytes c2s = { 0 }, s2c = { 0 };
    uint64_t client = fz_session(client_cred, 0), server = fz_session(server_cred, 1);
    struct sg_handshake_params p;
    int round;

    p = fz_step(client, &s2c, &c2s, 65536);
    FZ_ASSERT(p.status == SG_CONTINUE);
    for (round = 0; round < 6; round++)
    {
        p = fz_step(server, &c2s, &s2c, 65536);
        if (fz_handshake_failed(p.status)) break;
        p = fz_step(client, &s2c, &c2s, 65536);
        if (p.status != SG_CONTINUE) break;
    }
    fz_session_free(client);
    fz_session_free(server);
    fz_free(&c2s);
    fz_free(&s2c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_cred_create_params p = { 0 };
    struct fz_input in = { data, size, 0 };
    uint8_t config = fz_byte(&in);
    size_t chain_size = (size_t)fz_byte(&in) << 8;
    uint8_t *chain, *key;
    size_t key_size;
    int ret;

    chain_size |= fz_byte(&in);
    if (chain_size > fz_left(&in)) chain_size = fz_left(&in);
    key_size = fz_left(&in) - chain_size;
    /* Exact-size copies, so ASan sees any read past either blob. */
    chain = malloc(chain_size ? chain_size : 1);
    key = malloc(key_size ? key_size : 1);
    FZ_ASSERT(chain && key);
    memcpy(chain, in.data + in.pos, chain_size);
    memcpy(key, in.data + in.pos + chain_size, key_size);

    p.flags = (config & 4) ? SG_CRED_SERVER : SG_CRED_CLIENT;
    p.protocols = (config >> 3) & 0xf;
    p.key_format = config & 3;
    p.chain = chain_size ? fz_addr(chain) : 0;
    p.chain_size = chain_size;
    p.key = key_size ? fz_addr(key) : 0;
    p.key_size = key_size;
    ret = fz_call(unix_cred_create, &p);
    FZ_ASSERT(p.status <= SG_ERR_INTERNAL);
    FZ_ASSERT((p.status == SG_OK) == (p.cred != 0));
    FZ_ASSERT(ret == 0 || p.status == SG_ERR_INVALID_PARAMETER);
    if (p.status == SG_OK)
    {
        if (p.flags == SG_CRED_SERVER) try_handshake(p.cred);
        else
        {
            uint64_t session = fz_session(p.cred, 0);
            fz_session_free(session);
        }
        fz_cred_free(p.cred);
    }
    free(chain);
    free(key);
    return 0;
}
