/*
 * What bench.exe (PE, SSPI) and native (GnuTLS) share: the little protocol spoken to
 * "native serve" after the handshake, and the servers it runs.
 *
 * After the handshake the client sends commands as application data, each one
 * struct bench_command (little endian on both ends: both run on this machine):
 *   PING    the server answers one byte "P" (a TLS 1.3 client thereby reads its ticket);
 *   SINK    the client then sends count records of size bytes; the server answers "K";
 *   SOURCE  the server sends count records of size bytes.
 * The client ends a connection by closing it.
 *
 * Port PORT+BENCH_PORT_PLAIN speaks the same commands without TLS, plus FLIGHT: the
 * server reads count bytes, then writes size bytes in one send(). The "floor-*" rows use
 * it to measure the sockets alone (connect, send, recv, close), natively and through
 * Wine's ws2_32, with the I/O pattern of the TLS rows.
 */

#ifndef BENCH_PROTO_H
#define BENCH_PROTO_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Instruction counts (tools/bench): with "--ops N" a program runs each measured loop for
 * N operations instead of for SECONDS: N handshakes; N records in mem mode's bulk and
 * small rows (in steps of 64); N rounds of records in net mode's. It then prints
 * "O <test> <amount> <unit>": how many handshakes, MB or messages the loop did.
 * tools/bench runs each program under valgrind's cachegrind twice, with N and 3N, and
 * divides the difference of the two instruction counts by the difference of the amounts:
 * what one more operation costs, start-up and set-up cancelled out. Unlike a time, that
 * count does not move with what the rest of the machine is doing. */
static long bench_ops;

/* Whether a measured loop that did n operations in elapsed seconds of seconds goes on. */
static inline int bench_loop_more(long n, double elapsed, double seconds)
{
    return bench_ops ? n < bench_ops : elapsed < seconds;
}

/* The end of a measured loop of n operations, each worth per_op of unit. */
static inline void bench_loop_done(const char *name, long n, double per_op, const char *unit)
{
    if (bench_ops) printf("O %s %.6g %s\n", name, n * per_op, unit);
}

/* The same for n operations of records_per_op records of size bytes each, counted in MB
 * for records of 1 KiB or more and in messages below, as the bulk and small rows' rates. */
static inline void bench_loop_done_records(const char *name, long n, double records_per_op, uint32_t size)
{
    bench_loop_done(name, n, records_per_op * (size >= 1024 ? size / 1e6 : 1), size >= 1024 ? "MB" : "msg");
}

#define BENCH_OP_PING   1
#define BENCH_OP_SINK   2
#define BENCH_OP_SOURCE 3
#define BENCH_OP_FLIGHT 4

/* The floor rows' handshakes: what the client sends (bytes, FLIGHT command included) and
 * what the server answers (0: nothing), in the sizes the TLS rows exchange.
 * floor-hs:     a full TLS 1.2 handshake (ClientHello; ServerHello..Done; key exchange,
 *               Finished; ticket, Finished), the shape of the full-* rows;
 * floor-resume: a resumed TLS 1.2 handshake and the PING that follows it (ClientHello;
 *               ServerHello..Finished; Finished; PING; "P"), the shape of the resume-* rows. */
struct bench_flight
{
    uint32_t send, reply;
};

static const struct bench_flight bench_floor_full[] = { { 220, 1400 }, { 126, 250 } };
static const struct bench_flight bench_floor_resume[] = { { 658, 147 }, { 51, 0 }, { 41, 30 } };

/* resume: floor-resume's flights, else floor-hs's. */
static inline const struct bench_flight *bench_floor_flights(int resume, unsigned int *count)
{
    *count = resume ? 3 : 2;
    return resume ? bench_floor_resume : bench_floor_full;
}

#define BENCH_MAX_RECORD 16384

/* Records per send() in SINK and SOURCE phases: up to 256 KiB of plaintext, at most 64 records.
 * Under Wine each send() and recv() is a wineserver round trip (the floor rows measure
 * them); batches of this size keep that from hiding what the TLS rows are about. */
#define BENCH_BATCH_BYTES (4 * 65536)
#define BENCH_BATCH(size) ((size) >= BENCH_BATCH_BYTES / 64 ? BENCH_BATCH_BYTES / (size) : 64)
/* What one batch of records takes on the wire, at most (record overhead included). */
#define BENCH_BATCH_WIRE (BENCH_BATCH_BYTES + 64 * 1024)

struct bench_command
{
    uint32_t op;
    uint32_t count;
    uint32_t size;
};

/* The result lines of a bulk row (tools/bench reads them): rounds of count records of size
 * bytes took seconds in all and cpu seconds of the thread's CPU time. */
static inline void bench_print_bulk(const char *name, long rounds, uint32_t count, uint32_t size, double seconds,
                                    double cpu, const char *desc)
{
    double records = (double)rounds * count;

    if (size >= 1024)
    {
        printf("R %s %.1f MB/s %s\n", name, records * size / seconds / 1e6, desc);
        printf("T %s %.1f us-cpu/MB\n", name, cpu / (records * size / 1e6) * 1e6);
    }
    else
    {
        printf("R %s %.0f msg/s %s\n", name, records / seconds, desc);
        printf("T %s %.1f ns-cpu/msg\n", name, cpu / records * 1e9);
    }
}

/* "native serve" listens on 127.0.0.1, ports PORT+0 .. PORT+BENCH_PORTS-1. */
enum
{
    BENCH_PORT_RSA_AES128,     /* server-rsa, AES-128-GCM only (handshake rows, bulk AES-128) */
    BENCH_PORT_ECDSA,          /* server-ecdsa, AES-128-GCM only */
    BENCH_PORT_RSA_AES256,     /* server-rsa, AES-256-GCM only */
    BENCH_PORT_RSA_CHACHA,     /* server-rsa, ChaCha20-Poly1305 only */
    BENCH_PORTS
};
#define BENCH_PORT_PLAIN BENCH_PORTS   /* no TLS: the floor rows */

/* Bulk rows: SINK + SOURCE rounds of this many records each (16 MiB of 16 KiB records,
 * 1.6 MB of 100-byte ones), an untimed one first, then as many as fit in the time. */
#define BENCH_ROUND(size) ((size) >= 1024 ? 1024u : 16384u)

static const char *const bench_port_priority[BENCH_PORTS] =
{
    "NORMAL:-CIPHER-ALL:+AES-128-GCM:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
    "NORMAL:-CIPHER-ALL:+AES-128-GCM:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
    "NORMAL:-CIPHER-ALL:+AES-256-GCM:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
    "NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
};

/* cipher: GnuTLS name ("AES-256-GCM", ...) or NULL for the handshake rows. */
static inline int bench_port_for(int ecdsa, const char *cipher)
{
    if (ecdsa) return BENCH_PORT_ECDSA;
    if (cipher && !strcmp(cipher, "AES-256-GCM")) return BENCH_PORT_RSA_AES256;
    if (cipher && !strcmp(cipher, "CHACHA20-POLY1305")) return BENCH_PORT_RSA_CHACHA;
    return BENCH_PORT_RSA_AES128;
}

#endif /* BENCH_PROTO_H */
