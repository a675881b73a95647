/*
 * fuzz_sio.c - what a Socket.IO client sends: an HTTP long-polling body
 * split into Engine.IO packets (base64 binary included), and each text
 * message read as a Socket.IO packet and checked as the live channel
 * does. Any bytes must be taken or refused without a crash, and a packet
 * that parses must have its parts inside the input.
 */
#include "api/eio.h"
#include "api/sio.h"

#include <jansson.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool packet(void *ud, const char *p, size_t n, bool binary)
{
    (void)ud;
    if (binary || n == 0 || p[0] != '4')
        return true;
    sio_packet pk;
    if (!sio_parse(p + 1, n - 1, &pk))
        return true;
    if (pk.data && (pk.data < p + 1 || pk.data + pk.len > p + n))
        __builtin_trap();
    if (strlen(pk.nsp) >= sizeof(pk.nsp) || pk.nsp[0] != '/')
        __builtin_trap();
    bool ok;
    json_t *j = sio_check(&pk, &ok);
    if (!ok && j)
        __builtin_trap();
    if (pk.data) {
        size_t first = sio_first_end(pk.data, pk.len);
        if (first > pk.len)
            __builtin_trap();
    }
    json_decref(j);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    eio_payload_each((const char *)data, size, packet, NULL);
    return 0;
}
