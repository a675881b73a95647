/*
 * sio_parse.c - the Socket.IO v5 packet codec (socketio/socket.io-protocol
 * v5, "Packet encoding"; socket.io-parser's decodeString and
 * isPayloadValid). Pure functions, fuzzed by tests/fuzz/fuzz_sio.c.
 */
#include "sio.h"

#include <jansson.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool sio_parse(const char *p, size_t len, sio_packet *out)
{
    memset(out, 0, sizeof(*out));
    strcpy(out->nsp, "/");
    if (len == 0 || p[0] < '0' || p[0] > '6')
        return false;
    out->type = p[0] - '0';
    size_t i = 1;
    if (out->type == SIO_BINARY_EVENT || out->type == SIO_BINARY_ACK) {
        size_t start = i;
        int n = 0;
        while (i < len && is_digit(p[i]) && i - start < 3)
            n = n * 10 + (p[i++] - '0');
        if (i == start || i >= len || p[i] != '-' || n < 1 || n > SIO_MAX_ATTACHMENTS)
            return false;
        out->attachments = n;
        i++;
    }
    if (i < len && p[i] == '/') {
        size_t start = i;
        while (i < len && p[i] != ',')
            i++;
        if (i - start >= sizeof(out->nsp))
            return false;
        memcpy(out->nsp, p + start, i - start);
        out->nsp[i - start] = '\0';
        if (memchr(out->nsp, '\0', i - start))
            return false;
        if (i < len)
            i++; /* the comma; "40/custom" has none */
    }
    if (i < len && is_digit(p[i])) {
        size_t start = i;
        uint64_t id = 0;
        while (i < len && is_digit(p[i])) {
            if (i - start >= 15)
                return false;
            id = id * 10 + (uint64_t)(p[i++] - '0');
        }
        out->has_id = true;
        out->id = id;
    }
    if (i < len) {
        out->data = p + i;
        out->len = len - i;
    }
    return true;
}

static bool reserved(const char *name)
{
    static const char *const names[] = {
        "connect", "connect_error", "disconnect", "disconnecting", "newListener",
        "removeListener",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

void *sio_check(const sio_packet *pk, bool *ok)
{
    *ok = false;
    json_t *j = NULL;
    if (pk->data) {
        json_error_t e;
        /* nested at most GW_JSON_MAX_DEPTH: deeper is malformed here */
        j = gw_json_load_untrusted(pk->data, pk->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        if (!j)
            return NULL;
    }
    switch (pk->type) {
    case SIO_CONNECT:
        *ok = !j || json_is_object(j);
        break;
    case SIO_DISCONNECT:
        *ok = !j;
        break;
    case SIO_EVENT:
    case SIO_BINARY_EVENT: {
        json_t *name = json_array_get(j, 0);
        *ok = json_is_array(j) && (json_is_integer(name) ||
                                   (json_is_string(name) && !reserved(json_string_value(name))));
        break;
    }
    case SIO_ACK:
    case SIO_BINARY_ACK:
        *ok = json_is_array(j) && pk->has_id;
        break;
    default:
        break;
    }
    if (!*ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

size_t sio_first_end(const char *json, size_t len)
{
    size_t i = 0;
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
        i++;
    if (i >= len || json[i++] != '[')
        return 0;
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
        i++;
    if (i >= len || json[i++] != '"')
        return 0;
    while (i < len && json[i] != '"')
        i += json[i] == '\\' ? 2 : 1;
    return i < len ? i + 1 : 0;
}
