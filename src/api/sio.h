/*
 * sio.h - Socket.IO v5 on Engine.IO v4 (socketio/socket.io-protocol, v5):
 * the packet codec, and the gateway's live channel.
 *
 * Packets: <type>[<attachments>-][<namespace>,][<ack id>][<JSON>], type 0
 * CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5 BINARY_EVENT,
 * 6 BINARY_ACK.
 */
#ifndef GW_SIO_H
#define GW_SIO_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

enum {
    SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK, SIO_CONNECT_ERROR, SIO_BINARY_EVENT,
    SIO_BINARY_ACK,
};

#define SIO_MAX_ATTACHMENTS 16
#define SIO_NSP_MAX 64

typedef struct {
    int type;
    int attachments;          /* BINARY_EVENT and BINARY_ACK */
    char nsp[SIO_NSP_MAX];    /* "/" unless named */
    bool has_id;
    uint64_t id;              /* the ack id */
    const char *data;         /* the JSON text (in the input), or NULL */
    size_t len;
} sio_packet;

/* Splits a packet's text; false when it is not one. The JSON is not read
 * here: sio_check does that. */
bool sio_parse(const char *p, size_t len, sio_packet *out);
/* Reads pk's JSON and checks it against its type, as socket.io's parser
 * does: CONNECT an object or nothing, DISCONNECT nothing, EVENT a
 * non-empty array whose first element is the event's name (a string, not
 * a reserved one), ACK an array; a client does not send CONNECT_ERROR.
 * Returns the JSON (json_t *, NULL when there is none); *ok false when
 * the packet is invalid. */
void *sio_check(const sio_packet *pk, bool *ok);
/* The end of the first element of a JSON array text ("[\"a\",1]" -> the
 * offset of ",1]"), or 0 when it does not start with a string element. */
size_t sio_first_end(const char *json, size_t len);

#endif
