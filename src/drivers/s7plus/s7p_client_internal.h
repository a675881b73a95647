/*
 * s7p_client_internal.h - the S7CommPlus client's response parsers, apart
 * from its sockets, for s7p_client.c, its unit test and the fuzzer
 * (tests/fuzz/fuzz_s7p_client.c). Not part of the driver's API.
 *
 * Every parser takes one whole response PDU or its payload (after the
 * response header) as the codec gives it, checks everything against the
 * bytes present, and never reads past the end. They allocate only in
 * s7p__parse_explore (freed on every error).
 */
#ifndef GW_S7P_CLIENT_INTERNAL_H
#define GW_S7P_CLIENT_INTERNAL_H

#include "s7plus.h"

/* One item of a GetMulti or SetMulti request: a byte range of one area. */
typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t start, len;
    uint32_t buf_off;     /* reads: where its bytes go in the caller's buffer */
    const uint8_t *src;   /* writes: its bytes */
    gw_err result;        /* GW_OK, or why this item failed */
    uint64_t code;        /* the PLC's error code (error list), 0 if none */
} s7p_item;

/* The ItemAddress of an item in the forms of o: DBs as s7p_addr_db; M, I,
 * Q as areas 82, 80, 81 with sub-area 3736 and the same LIDs. */
gw_err s7p__item_addr(const s7p_opts *o, const s7p_item *it, s7p_addr *a);

/* Our error for an item error code of the PLC: 0x8104 (no such DB) is
 * GW_E_NOT_FOUND, anything else GW_E_DEVICE_REJECTED. */
gw_err s7p__item_err(uint64_t code);

/*
 * Checks one reassembled response PDU against the request it answers
 * (function, seq) and gives its payload. GW_E_PROTOCOL (why says what) for
 * a malformed header, another opcode, another sequence number or another
 * function; GW_E_DEVICE_REJECTED for the Error answers (0x04B1, 0x05A9),
 * *code = their leading VLQ (0 if none).
 */
gw_err s7p__check_rsp(const uint8_t *pdu, size_t len, uint16_t function, uint16_t seq,
                      const uint8_t **payload, size_t *payload_len, uint32_t *code, char *why,
                      size_t why_size);

/*
 * A GetMultiVariables response for items[0..n): each item's bytes go to
 * buf + buf_off (buf_len bytes in all), each item gets its result (GW_OK;
 * GW_E_NOT_FOUND etc. from the error list; GW_E_RANGE when the value has
 * another length than asked; GW_E_TYPE when it is not bytes; GW_E_PROTOCOL
 * when the response names the item nowhere). Returns GW_OK,
 * GW_E_DEVICE_REJECTED when the ReturnValue refuses the whole request
 * (every item failed), GW_E_PROTOCOL/GW_E_UNSUPPORTED for a malformed
 * response (why says what).
 */
gw_err s7p__parse_read(const s7p_opts *o, const uint8_t *p, size_t len, s7p_item *items,
                       size_t n, uint8_t *buf, size_t buf_len, char *why, size_t why_size);

/* A SetMultiVariables response for items[0..n): results from the error
 * list. Returns as s7p__parse_read. */
gw_err s7p__parse_write(const uint8_t *p, size_t len, s7p_item *items, size_t n, char *why,
                        size_t why_size);

/* An Explore response: the DB objects (also below other objects) with the
 * names of their child objects. *dbs is new (gw_s7p_dbs_free), also when
 * *n is 0. GW_E_DEVICE_REJECTED for a refusing ReturnValue, GW_E_NOMEM,
 * and the codec's errors for a malformed response. */
gw_err s7p__parse_explore(const s7p_opts *o, const uint8_t *p, size_t len, gw_s7p_db **dbs,
                          size_t *n, char *why, size_t why_size);

/* Writes the echo of the ServerSessionVersion PValue (attr 306): verbatim,
 * except that a normal Struct's member 319 (the device's "PAOM" string)
 * goes out as an empty WString, as real CPUs want. */
void s7p__session_echo(s7p_w *w, const s7p_opts *o, const s7p_pvalue *version);

#endif
