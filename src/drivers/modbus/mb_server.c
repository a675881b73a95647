/*
 * mb_server.c - a Modbus TCP server (a soft device) on libmodbus.
 *
 * We own the sockets - listening (any address family, port 0 for tests) and
 * one per client - and one thread polls them all; libmodbus parses each
 * request (modbus_receive on the client's socket) and answers it from the
 * register image (modbus_reply). The image is libmodbus's mapping, but only
 * this file touches it, always under the server's lock, so soft devices
 * read and write it safely through gw_mb_server_get/set. Every request is
 * appended to a log (a ring) that tests read to see what reached the wire.
 * A write may be put to the check hook first, with the values it would
 * leave, and refused with an exception before anything changes (a soft
 * device's strict mode).
 */
#include "mb_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <modbus/modbus.h>
#include <assert.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOG_RING 4096

struct gw_mb_server {
    gw_mb_server_opts opts;
    char host[256];
    modbus_t *ctx;               /* protocol only: answers into pair[0] */
    int pair[2];                 /* modbus_reply writes to [0], we read [1] */
    modbus_mapping_t *map;       /* the image: 65536 of each class */
    pthread_mutex_t lock;        /* map, log, no_mask_write */
    gw_tcpsrv *tcp;              /* sockets, thread, faults */
    gw_mb_logged ring[LOG_RING];
    uint64_t seq;                /* requests logged so far */
    bool no_mask_write;
};

static long tcp_frame(void *user, const uint8_t *data, size_t len);
static bool tcp_serve(void *user, gw_conn *c, const uint8_t *frame, size_t len);
static size_t tcp_error_reply(void *user, const uint8_t *frame, size_t len, uint8_t *out,
                              size_t cap);

gw_err gw_mb_server_new(const gw_mb_server_opts *opts, gw_mb_server **out, gw_error *err)
{
    *out = NULL;
    gw_mb_server *s = gw_calloc(1, sizeof(*s));
    if (!s)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    s->opts = *opts;
    snprintf(s->host, sizeof(s->host), "%s", opts->host ? opts->host : "127.0.0.1");
    if (!s->opts.max_clients)
        s->opts.max_clients = 8;
    s->pair[0] = s->pair[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    s->ctx = modbus_new_tcp("127.0.0.1", 502);
    /* addresses 0..65535 of every class exist (Modbus Application
     * Protocol V1.1b, 4.4: 16-bit addresses) */
    s->map = modbus_mapping_new(65536, 65536, 65536, 65536);
    gw_tcpsrv_opts to = {"modbus", s->host, opts->port, s->opts.max_clients,
                         MODBUS_TCP_MAX_ADU_LENGTH, opts->log,
                         {NULL, tcp_frame, tcp_serve, tcp_error_reply, NULL}, s};
    if (!s->ctx || !s->map || gw_tcpsrv_new(&to, &s->tcp) != GW_OK ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->pair) != 0) {
        gw_mb_server_free(s);
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    }
    fcntl(s->pair[1], F_SETFL, fcntl(s->pair[1], F_GETFL) | O_NONBLOCK);
    modbus_set_socket(s->ctx, s->pair[0]);
    *out = s;
    return GW_OK;
}

uint16_t gw_mb_server_port(const gw_mb_server *s)
{
    return gw_tcpsrv_port(s->tcp);
}

gw_tcpsrv *gw_mb_server_tcp(gw_mb_server *s)
{
    return s->tcp;
}

void gw_mb_server_disable_mask_write(gw_mb_server *s, bool disable)
{
    pthread_mutex_lock(&s->lock);
    s->no_mask_write = disable;
    pthread_mutex_unlock(&s->lock);
}

/* Copies values of the image out; the caller holds the lock. */
static void image_copy(gw_mb_server *s, gw_mb_class cls, uint16_t start, uint16_t count,
                       uint16_t *out)
{
    for (uint32_t i = 0; i < count; i++) {
        uint32_t a = (uint32_t)start + i;
        out[i] = cls == GW_MB_COIL ? s->map->tab_bits[a]
               : cls == GW_MB_DISCRETE ? s->map->tab_input_bits[a]
               : cls == GW_MB_INPUT ? s->map->tab_input_registers[a]
                                    : s->map->tab_registers[a];
    }
}

static gw_err image_access(gw_mb_server *s, gw_mb_class cls, uint16_t start, uint16_t count,
                           uint16_t *out, const uint16_t *in)
{
    if ((uint32_t)start + count > 65536u)
        return GW_E_RANGE;
    pthread_mutex_lock(&s->lock);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t a = (uint32_t)start + i;
        switch (cls) {
        case GW_MB_COIL:
            if (in) s->map->tab_bits[a] = in[i] ? 1 : 0;
            else out[i] = s->map->tab_bits[a];
            break;
        case GW_MB_DISCRETE:
            if (in) s->map->tab_input_bits[a] = in[i] ? 1 : 0;
            else out[i] = s->map->tab_input_bits[a];
            break;
        case GW_MB_INPUT:
            if (in) s->map->tab_input_registers[a] = in[i];
            else out[i] = s->map->tab_input_registers[a];
            break;
        case GW_MB_HOLDING:
            if (in) s->map->tab_registers[a] = in[i];
            else out[i] = s->map->tab_registers[a];
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return GW_OK;
}

gw_err gw_mb_server_get(gw_mb_server *s, gw_mb_class cls, uint16_t start, uint16_t count,
                        uint16_t *out)
{
    return image_access(s, cls, start, count, out, NULL);
}

gw_err gw_mb_server_set(gw_mb_server *s, gw_mb_class cls, uint16_t start, uint16_t count,
                        const uint16_t *in)
{
    return image_access(s, cls, start, count, NULL, in);
}

gw_err gw_mb_server_update(gw_mb_server *s, gw_mb_class cls, uint16_t start, uint16_t count,
                           const uint16_t *in, const uint16_t *mask)
{
    if ((uint32_t)start + count > 65536u || count > 2000)
        return GW_E_RANGE;
    uint16_t cur[2000];
    pthread_mutex_lock(&s->lock);
    image_copy(s, cls, start, count, cur);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t a = (uint32_t)start + i;
        uint16_t v = (uint16_t)((cur[i] & ~mask[i]) | (in[i] & mask[i]));
        switch (cls) {
        case GW_MB_COIL: s->map->tab_bits[a] = (mask[i] ? in[i] : cur[i]) ? 1 : 0; break;
        case GW_MB_DISCRETE: s->map->tab_input_bits[a] = (mask[i] ? in[i] : cur[i]) ? 1 : 0; break;
        case GW_MB_INPUT: s->map->tab_input_registers[a] = v; break;
        case GW_MB_HOLDING: s->map->tab_registers[a] = v; break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return GW_OK;
}

gw_err gw_mb_server_load_defaults(gw_mb_server *s, const gw_tagmap *m, gw_error *err)
{
    for (size_t i = 0; i < gw_tagmap_count(m); i++) {
        const gw_tag *t = gw_tagmap_at(m, i);
        if (!t->default_value)
            continue;
        gw_write w;
        gw_err rc = gw_tag_encode(m, t, t->default_value, &w, err);
        if (rc != GW_OK)
            return rc;
        if (t->type == GW_T_BOOL) {
            uint16_t v = w.bit, one = 1;
            gw_mb_server_update(s, t->addr.mb_class, t->addr.reg, 1, &v, &one);
        } else {
            gw_mb_server_update(s, t->addr.mb_class, t->addr.reg, (uint16_t)w.n, w.regs,
                                w.regmask);
        }
    }
    return GW_OK;
}

size_t gw_mb_server_log(gw_mb_server *s, uint64_t since, gw_mb_logged *out, size_t max)
{
    pthread_mutex_lock(&s->lock);
    uint64_t first = s->seq > LOG_RING ? s->seq - LOG_RING : 0;
    if (since < first)
        since = first;
    size_t n = 0;
    for (uint64_t q = since; q < s->seq && n < max; q++)
        out[n++] = s->ring[q % LOG_RING];
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---------------------------------------------------------------- serving */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The span a write request changes, when it is one the server carries out:
 * the quantity and value rules of the Modbus Application Protocol V1.1b
 * (6.5 FC 5, 6.6 FC 6, 6.11 FC 15, 6.12 FC 16, 6.16 FC 22, 6.17 FC 23), and
 * every address below 65536. A request that breaks them is answered with an
 * exception and changes nothing, so it is no write event.
 */
static bool write_span(const uint8_t *pdu, size_t len, gw_mb_class *cls, uint16_t *start,
                       uint16_t *count)
{
    if (len < 5)
        return false;
    uint8_t fc = pdu[0];
    uint32_t addr = get16(pdu + 1), n = 1;
    switch (fc) {
    case 5: /* value 0xFF00 (on) or 0x0000 (off) */
        if (get16(pdu + 3) != 0xFF00 && get16(pdu + 3) != 0x0000)
            return false;
        *cls = GW_MB_COIL;
        break;
    case 6:
        *cls = GW_MB_HOLDING;
        break;
    case 15: /* 1..0x07B0 coils, byte count ceil(n / 8) */
        n = get16(pdu + 3);
        if (n < 1 || n > 0x07B0 || len < 6 || pdu[5] != (n + 7) / 8)
            return false;
        *cls = GW_MB_COIL;
        break;
    case 16: /* 1..0x7B registers, byte count 2n */
        n = get16(pdu + 3);
        if (n < 1 || n > 0x7B || len < 6 || pdu[5] != 2 * n)
            return false;
        *cls = GW_MB_HOLDING;
        break;
    case 22:
        *cls = GW_MB_HOLDING;
        break;
    case 23: /* read 1..0x7D, write 1..0x79 registers at its own address */
        if (len < 10 || get16(pdu + 3) < 1 || get16(pdu + 3) > 0x7D)
            return false;
        addr = get16(pdu + 5);
        n = get16(pdu + 7);
        if (n < 1 || n > 0x79 || pdu[9] != 2 * n)
            return false;
        *cls = GW_MB_HOLDING;
        break;
    default:
        return false;
    }
    if (addr + n > 65536u)
        return false;
    *start = (uint16_t)addr;
    *count = (uint16_t)n;
    return true;
}

/*
 * The values a write request would leave in its span, from the request's
 * data and the values there now (`before`, the span as write_span gave
 * it): FC 5 and 15 coils (FC 15's are packed low bit first), FC 6, 16 and
 * 23 registers, FC 22 (current AND and_mask) OR (or_mask AND NOT
 * and_mask) (Modbus Application Protocol V1.1b, 6.5, 6.6, 6.11, 6.12,
 * 6.16, 6.17). False when the request is shorter than the data it
 * announces.
 */
static bool write_preview(const uint8_t *pdu, size_t len, uint16_t count, const uint16_t *before,
                          uint16_t *after)
{
    switch (pdu[0]) {
    case 5:
        after[0] = get16(pdu + 3) == 0xFF00;
        return true;
    case 6:
        after[0] = get16(pdu + 3);
        return true;
    case 15:
        if (len < 6u + (count + 7u) / 8u)
            return false;
        for (uint32_t i = 0; i < count; i++)
            after[i] = (pdu[6 + i / 8] >> (i % 8)) & 1u;
        return true;
    case 16:
        if (len < 6u + 2u * count)
            return false;
        for (uint32_t i = 0; i < count; i++)
            after[i] = get16(pdu + 6 + 2 * i);
        return true;
    case 22: {
        if (len < 7)
            return false;
        uint16_t and_mask = get16(pdu + 3), or_mask = get16(pdu + 5);
        after[0] = (uint16_t)((before[0] & and_mask) | (or_mask & ~and_mask));
        return true;
    }
    case 23:
        if (len < 10u + 2u * count)
            return false;
        for (uint32_t i = 0; i < count; i++)
            after[i] = get16(pdu + 10 + 2 * i);
        return true;
    default:
        return false;
    }
}

/* Asks the check hook about a write: 0, or the exception to answer. */
static int check_write(gw_mb_server *s, gw_conn *c, const uint8_t *pdu, size_t len,
                       gw_mb_class cls, uint16_t start, uint16_t count, uint16_t *before,
                       uint16_t *after)
{
    pthread_mutex_lock(&s->lock);
    image_copy(s, cls, start, count, before);
    pthread_mutex_unlock(&s->lock);
    if (!write_preview(pdu, len, count, before, after))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    gw_mb_write_event ev = {cls, start, count, before, after, gw_conn_peer(c)};
    int code = s->opts.check_write(s->opts.user, &ev);
    if (code <= 0)
        return 0;
    /* libmodbus answers the codes of the specification only */
    return code < MODBUS_EXCEPTION_MAX ? code : MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE;
}

/* An MBAP frame (Modbus Messaging on TCP/IP V1.0b, 3.1.3): transaction
 * id, protocol id 0, length of what follows (unit id and PDU, 2..254). */
static long tcp_frame(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    if (len < 7)
        return 0;
    uint16_t follow = get16(data + 4);
    if (get16(data + 2) != 0 || follow < 2 || follow > MODBUS_TCP_MAX_ADU_LENGTH - 6)
        return -1;
    return (size_t)follow + 6 <= len ? (long)follow + 6 : 0;
}

/* The ERROR fault: exception 4, server device failure (Modbus
 * Application Protocol V1.1b, 7), with the request's MBAP echoed. */
static size_t tcp_error_reply(void *user, const uint8_t *frame, size_t len, uint8_t *out,
                              size_t cap)
{
    (void)user;
    if (len < 8 || cap < 9)
        return 0;
    memcpy(out, frame, 4);  /* transaction and protocol id */
    out[4] = 0;
    out[5] = 3;             /* unit id, function, exception code */
    out[6] = frame[6];
    out[7] = (uint8_t)(frame[7] | 0x80);
    out[8] = MODBUS_EXCEPTION_SLAVE_OR_SERVER_FAILURE;
    return 9;
}

/* Serves one request with libmodbus: its answer goes into our socket pair
 * and from there to the client through gw_conn_reply. */
static bool tcp_serve(void *user, gw_conn *c, const uint8_t *q, size_t len)
{
    gw_mb_server *s = user;
    const size_t off = 7; /* MBAP header; the unit id is its last byte */
    gw_mb_logged e = {0};
    e.unit = q[off - 1];
    e.fc = q[off];
    e.addr = len >= off + 3 ? get16(q + off + 1) : 0;
    e.count = 1;
    if ((e.fc <= 4 || e.fc == 15 || e.fc == 16) && len >= off + 5)
        e.count = get16(q + off + 3);
    snprintf(e.peer, sizeof(e.peer), "%s", gw_conn_peer(c));
    /* a write the server will carry out: keep the values before and after */
    gw_mb_class cls = GW_MB_HOLDING;
    uint16_t start = 0, count = 0;
    static_assert(MODBUS_MAX_WRITE_BITS <= 2000, "write span buffers");
    uint16_t before[2000], after[2000];
    bool write = write_span(q + off, len - off, &cls, &start, &count);
    pthread_mutex_lock(&s->lock);
    bool refused_mask = e.fc == 22 && s->no_mask_write;
    pthread_mutex_unlock(&s->lock);
    /* a soft device may refuse the write (before it is carried out) */
    int refused = 0;
    if (write && !refused_mask && s->opts.check_write)
        refused = check_write(s, c, q + off, len - off, cls, start, count, before, after);
    pthread_mutex_lock(&s->lock);
    e.seq = s->seq;
    s->ring[s->seq % LOG_RING] = e;
    s->seq++;
    write = write && !refused_mask && !refused;
    if (write)
        image_copy(s, cls, start, count, before);
    int rc;
    if (refused_mask)
        rc = modbus_reply_exception(s->ctx, q, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
    else if (refused)
        rc = modbus_reply_exception(s->ctx, q, (unsigned)refused);
    else
        rc = modbus_reply(s->ctx, q, (int)len, s->map);
    if (write)
        image_copy(s, cls, start, count, after);
    pthread_mutex_unlock(&s->lock);
    if (rc < 0)
        return false;
    uint8_t answer[MODBUS_TCP_MAX_ADU_LENGTH];
    ssize_t n = recv(s->pair[1], answer, sizeof(answer), 0);
    if (n > 0)
        gw_conn_reply(c, answer, (size_t)n);
    gw_log_write(s->opts.log, GW_LOG_DEBUG, "modbus", "server: %s unit %u FC %u at %u (%u)",
                 gw_conn_peer(c), e.unit, e.fc, e.addr, e.count);
    /* writes that were carried out reach the soft devices as events */
    if (write && s->opts.on_write) {
        gw_mb_write_event ev = {cls, start, count, before, after, gw_conn_peer(c)};
        s->opts.on_write(s->opts.user, &ev);
    }
    return true;
}

gw_err gw_mb_server_start(gw_mb_server *s, gw_error *err)
{
    return gw_tcpsrv_start(s->tcp, err);
}

void gw_mb_server_free(gw_mb_server *s)
{
    if (!s)
        return;
    gw_tcpsrv_free(s->tcp);
    if (s->pair[0] >= 0) {
        close(s->pair[0]);
        close(s->pair[1]);
    }
    if (s->map)
        modbus_mapping_free(s->map);
    if (s->ctx)
        modbus_free(s->ctx);
    pthread_mutex_destroy(&s->lock);
    gw_free(s);
}
