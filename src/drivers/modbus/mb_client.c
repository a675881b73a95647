/*
 * mb_client.c - Modbus TCP client on libmodbus.
 *
 * libmodbus contexts have no locks, so every transaction runs under the
 * client's mutex: reads and writes from different threads never interleave
 * on the wire, and the read-modify-write fallback for devices without
 * function 22 is atomic against our own traffic. A device exception
 * (libmodbus errno EMBXILADD ...) fails that request only; anything else -
 * timeout, reset, garbage - closes the connection so that the next call
 * starts clean.
 *
 * Addresses: plans and tags hold the map's addresses; every request sends
 * them minus opts.register_base (0, or 1 for PLCs that count from 1),
 * which wire() applies in one place for every function code.
 */
#include "mb_internal.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <pthread.h>
#include <string.h>

struct gw_mb_client {
    gw_mb_opts opts;
    char host[256];
    modbus_t *ctx;
    bool connected;
    bool no_mask_write;     /* learnt: the device refuses function 22 */
    uint64_t sent;
    pthread_mutex_t lock;
};

const char *gw_mb_exception_text(int code)
{
    /* Modbus Application Protocol V1.1b, section 7 */
    switch (code) {
    case 1: return "illegal function";
    case 2: return "illegal data address";
    case 3: return "illegal data value";
    case 4: return "server device failure";
    case 5: return "acknowledge";
    case 6: return "server device busy";
    case 8: return "memory parity error";
    case 10: return "gateway path unavailable";
    case 11: return "gateway target device failed to respond";
    default: return "unknown exception";
    }
}

gw_err gw_mb_client_new(const gw_mb_opts *opts, gw_mb_client **out)
{
    *out = NULL;
    if (opts->register_base > 1)
        return GW_E_INVAL;
    gw_mb_client *c = gw_calloc(1, sizeof(*c));
    if (!c)
        return GW_E_NOMEM;
    c->opts = *opts;
    snprintf(c->host, sizeof(c->host), "%s", opts->host ? opts->host : "127.0.0.1");
    c->opts.host = c->host;
    if (!c->opts.port)
        c->opts.port = 502; /* Modbus Messaging on TCP/IP Implementation Guide V1.0b, 4.1 */
    if (!c->opts.connect_timeout_ms)
        c->opts.connect_timeout_ms = 2000;
    if (!c->opts.response_timeout_ms)
        c->opts.response_timeout_ms = 2000;
    if (!c->opts.byte_timeout_ms)
        c->opts.byte_timeout_ms = 500;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return GW_OK;
}

static void close_locked(gw_mb_client *c)
{
    if (c->ctx) {
        modbus_close(c->ctx);
        modbus_free(c->ctx);
        c->ctx = NULL;
    }
    c->connected = false;
}

void gw_mb_close(gw_mb_client *c)
{
    pthread_mutex_lock(&c->lock);
    close_locked(c);
    pthread_mutex_unlock(&c->lock);
}

void gw_mb_client_free(gw_mb_client *c)
{
    if (!c)
        return;
    gw_mb_close(c);
    pthread_mutex_destroy(&c->lock);
    gw_free(c);
}

bool gw_mb_connected(gw_mb_client *c)
{
    pthread_mutex_lock(&c->lock);
    bool up = c->connected;
    pthread_mutex_unlock(&c->lock);
    return up;
}

uint64_t gw_mb_requests_sent(gw_mb_client *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t n = c->sent;
    pthread_mutex_unlock(&c->lock);
    return n;
}

static void set_timeout(modbus_t *ctx, uint32_t ms, int (*fn)(modbus_t *, uint32_t, uint32_t))
{
    fn(ctx, ms / 1000, (ms % 1000) * 1000);
}

/* Turns libmodbus's errno into our error; closes unless the device merely
 * said no. */
static gw_err io_error(gw_mb_client *c, int e, int *exception, gw_error *err, const char *what)
{
    if (e > MODBUS_ENOBASE && e <= EMBXGTAR) {
        int code = e - MODBUS_ENOBASE;
        if (exception)
            *exception = code;
        gw_error_set(err, GW_E_DEVICE_REJECTED, "modbus %s:%u unit %u: %s: exception %d, %s",
                     c->host, c->opts.port, c->opts.unit, what, code, gw_mb_exception_text(code));
        if (err)
            err->device_code = code;
        return GW_E_DEVICE_REJECTED;
    }
    gw_err code = e == ETIMEDOUT ? GW_E_TIMEOUT
                : (e == ECONNRESET || e == EPIPE || e == ECONNREFUSED) ? GW_E_CONN_LOST
                : GW_E_PROTOCOL;
    gw_error_set(err, code, "modbus %s:%u unit %u: %s: %s", c->host, c->opts.port, c->opts.unit,
                 what, e == ETIMEDOUT ? "no answer in time" : modbus_strerror(e));
    if (err)
        err->sys_errno = e;
    gw_log_write(c->opts.log, GW_LOG_DEBUG, "modbus", "%s:%u: %s failed: %s; closing", c->host,
                 c->opts.port, what, modbus_strerror(e));
    close_locked(c);
    return code;
}

static gw_err connect_locked(gw_mb_client *c, gw_error *err)
{
    close_locked(c);
    char port[8];
    snprintf(port, sizeof(port), "%u", c->opts.port);
    /* the _pi constructor resolves names and IPv6 as well */
    c->ctx = modbus_new_tcp_pi(c->host, port);
    if (!c->ctx)
        return gw_error_set(err, GW_E_NOMEM, "modbus %s:%u: cannot create a context", c->host,
                            c->opts.port);
    modbus_set_slave(c->ctx, c->opts.unit);
    /* libmodbus uses the response timeout for connect() too */
    set_timeout(c->ctx, c->opts.connect_timeout_ms, modbus_set_response_timeout);
    if (modbus_connect(c->ctx) != 0) {
        int e = errno;
        gw_err code = e == ETIMEDOUT || e == EINPROGRESS ? GW_E_TIMEOUT
                    : e == ECONNREFUSED ? GW_E_CONN_REFUSED : GW_E_IO;
        gw_error_set(err, code, "modbus %s:%u: connect failed: %s", c->host, c->opts.port,
                     modbus_strerror(e));
        gw_error_hint(err, "is the device on, reachable, and is port %u open?", c->opts.port);
        if (err)
            err->sys_errno = e;
        close_locked(c);
        return code;
    }
    set_timeout(c->ctx, c->opts.response_timeout_ms, modbus_set_response_timeout);
    set_timeout(c->ctx, c->opts.byte_timeout_ms, modbus_set_byte_timeout);
    c->connected = true;
    gw_log_write(c->opts.log, GW_LOG_INFO, "modbus", "%s:%u unit %u: connected", c->host,
                 c->opts.port, c->opts.unit);
    return GW_OK;
}

gw_err gw_mb_connect(gw_mb_client *c, gw_error *err)
{
    pthread_mutex_lock(&c->lock);
    gw_err rc = connect_locked(c, err);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---------------------------------------------------------------- addresses */

/* The PDU address of the map's address `addr`: one lower with
 * register_base 1. False for map address 0 then: it has no PDU address. */
static bool wire(const gw_mb_client *c, uint32_t addr, int *out)
{
    if (addr < c->opts.register_base)
        return false;
    *out = (int)(addr - c->opts.register_base);
    return true;
}

static gw_err unreachable(gw_mb_client *c, uint32_t addr, gw_error *err, const char *what)
{
    return gw_error_set(err, GW_E_RANGE, "modbus %s:%u unit %u: %s: address %u cannot be sent "
                        "with register_base %u (it would be %d)", c->host, c->opts.port,
                        c->opts.unit, what, addr, c->opts.register_base,
                        (int)addr - (int)c->opts.register_base);
}

/* ---------------------------------------------------------------- reads */

static int do_read(gw_mb_client *c, const gw_mb_request *q, uint16_t *regs, uint8_t *bits)
{
    int a;
    if (!wire(c, q->start, &a)) {
        errno = EINVAL;
        return -2;
    }
    c->sent++;
    switch (q->fc) {
    case 1: return modbus_read_bits(c->ctx, a, q->count, bits);
    case 2: return modbus_read_input_bits(c->ctx, a, q->count, bits);
    case 3: return modbus_read_registers(c->ctx, a, q->count, regs);
    default: return modbus_read_input_registers(c->ctx, a, q->count, regs);
    }
}

gw_err gw_mb_read_plan(gw_mb_client *c, const gw_mb_plan *p, gw_mb_readout *r, gw_error *err)
{
    pthread_mutex_lock(&c->lock);
    gw_err rc = GW_OK;
    if (!c->connected) {
        rc = gw_error_set(err, GW_E_CONN_LOST, "modbus %s:%u: not connected", c->host,
                          c->opts.port);
        goto out;
    }
    for (size_t i = 0; i < p->nreqs; i++) {
        r->result[i] = GW_E_NOT_FOUND;
        r->exception[i] = 0;
    }
    for (size_t i = 0; i < p->nreqs; i++) {
        const gw_mb_request *q = &p->reqs[i];
        bool bits = q->fc <= 2;
        int n = do_read(c, q, bits ? NULL : r->regs + p->req_off[i],
                        bits ? r->bits + p->req_off[i] : NULL);
        if (n == q->count) {
            r->result[i] = GW_OK;
            continue;
        }
        char what[96];
        if (c->opts.register_base)
            snprintf(what, sizeof(what), "FC %u at %u..%u (sent as %d..%d, register_base %u)",
                     q->fc, q->start, q->start + q->count - 1, (int)q->start - 1,
                     (int)q->start + q->count - 2, c->opts.register_base);
        else
            snprintf(what, sizeof(what), "FC %u at %u..%u", q->fc, q->start,
                     q->start + q->count - 1);
        gw_error one;
        gw_error_clear(&one);
        gw_err e = n == -2 ? unreachable(c, q->start, &one, what)
                 : n < 0   ? io_error(c, errno, &r->exception[i], &one, what)
                           : gw_error_set(&one, GW_E_PROTOCOL, "%s: %d values, %u asked", what, n,
                                          q->count);
        /* an address the base cannot send fails its tags, as a refusal would */
        if (e == GW_E_RANGE) {
            r->result[i] = e;
            continue;
        }
        r->result[i] = e;
        if (e != GW_E_DEVICE_REJECTED) {
            if (err)
                *err = one;
            if (e == GW_E_PROTOCOL)
                close_locked(c);
            rc = e;
            goto out;
        }
    }
out:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---------------------------------------------------------------- writes */

/* Part of one register: function 22, or read-modify-write when the device
 * lacks it (under the lock, so none of our own traffic comes between). */
static gw_err write_masked(gw_mb_client *c, uint32_t map_addr, uint16_t value, uint16_t mask,
                           gw_error *err)
{
    int addr;
    if (!wire(c, map_addr, &addr))
        return unreachable(c, map_addr, err, "mask write (FC 22)");
    if (!c->no_mask_write) {
        /* FC 22: result = (current AND and_mask) OR (or_mask AND NOT and_mask)
         * (Modbus Application Protocol V1.1b, 6.16) */
        c->sent++;
        if (modbus_mask_write_register(c->ctx, addr, (uint16_t)~mask, value & mask) == 1)
            return GW_OK;
        int e = errno;
        if (e != EMBXILFUN)
            return io_error(c, e, NULL, err, "mask write (FC 22)");
        c->no_mask_write = true;
        gw_log_write(c->opts.log, GW_LOG_DEBUG, "modbus", "%s:%u unit %u: the device refuses "
                     "mask write (FC 22); writing parts of registers by read-modify-write",
                     c->host, c->opts.port, c->opts.unit);
    }
    uint16_t cur;
    c->sent++;
    if (modbus_read_registers(c->ctx, addr, 1, &cur) != 1)
        return io_error(c, errno, NULL, err, "read before write (FC 3)");
    uint16_t next = (uint16_t)((cur & ~mask) | (value & mask));
    c->sent++;
    if (modbus_write_register(c->ctx, addr, next) != 1)
        return io_error(c, errno, NULL, err, "write (FC 6)");
    return GW_OK;
}

gw_err gw_mb_write(gw_mb_client *c, const gw_write *w, gw_error *err)
{
    const gw_tag *t = w->tag;
    pthread_mutex_lock(&c->lock);
    gw_err rc = GW_OK;
    if (!c->connected) {
        rc = gw_error_set(err, GW_E_CONN_LOST, "modbus %s:%u: not connected", c->host,
                          c->opts.port);
        goto out;
    }
    int addr;
    if (t->addr.mb_class == GW_MB_COIL) {
        if (!wire(c, t->addr.reg, &addr)) {
            rc = unreachable(c, t->addr.reg, err, "write coil (FC 5)");
            goto out;
        }
        c->sent++;
        if (modbus_write_bit(c->ctx, addr, w->bit ? 1 : 0) != 1)
            rc = io_error(c, errno, NULL, err, "write coil (FC 5)");
        goto out;
    }
    bool whole = true;
    for (size_t i = 0; i < w->n; i++)
        whole &= w->regmask[i] == 0xFFFF;
    if (!whole) {
        for (size_t i = 0; i < w->n && rc == GW_OK; i++)
            if (w->regmask[i])
                rc = write_masked(c, t->addr.reg + (uint32_t)i, w->regs[i], w->regmask[i], err);
    } else if (!wire(c, t->addr.reg, &addr)) {
        rc = unreachable(c, t->addr.reg, err, w->n == 1 ? "write register (FC 6)"
                                                        : "write registers (FC 16)");
    } else if (w->n == 1) {
        c->sent++;
        if (modbus_write_register(c->ctx, addr, w->regs[0]) != 1)
            rc = io_error(c, errno, NULL, err, "write register (FC 6)");
    } else {
        c->sent++;
        if (modbus_write_registers(c->ctx, addr, (int)w->n, w->regs) != (int)w->n)
            rc = io_error(c, errno, NULL, err, "write registers (FC 16)");
    }
out:
    if (rc != GW_OK && err && !err->subject[0])
        gw_error_subject(err, "parameter \"%s\"", t->parameter);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---------------------------------------------------------------- batches */

static bool whole_regs(const gw_write *w)
{
    if (w->tag->addr.mb_class != GW_MB_HOLDING)
        return false;
    for (size_t i = 0; i < w->n; i++)
        if (w->regmask[i] != 0xFFFF)
            return false;
    return true;
}

/* Whether b continues a in one FC 16 or FC 15 request of `count` so far. */
static bool continues(const gw_write *a, const gw_write *b, size_t count)
{
    const gw_tag *ta = a->tag, *tb = b->tag;
    if (ta->addr.mb_class == GW_MB_COIL && tb->addr.mb_class == GW_MB_COIL)
        return tb->addr.reg == ta->addr.reg + 1u && count + 1 <= MODBUS_MAX_WRITE_BITS;
    return whole_regs(a) && whole_regs(b) && tb->addr.reg == ta->addr.reg + a->n &&
           count + b->n <= MODBUS_MAX_WRITE_REGISTERS;
}

gw_err gw_mb_write_many(gw_mb_client *c, const gw_write *w, size_t n, gw_err *results,
                        gw_error *err)
{
    gw_err rc = GW_OK;
    for (size_t i = 0; i < n;) {
        /* the run of values that continue each other from i */
        size_t j = i + 1, count = w[i].tag->addr.mb_class == GW_MB_COIL ? 1 : w[i].n;
        while (j < n && continues(&w[j - 1], &w[j], count)) {
            count += w[j].tag->addr.mb_class == GW_MB_COIL ? 1 : w[j].n;
            j++;
        }
        gw_err one;
        if (j - i == 1) {
            one = gw_mb_write(c, &w[i], err);
        } else {
            pthread_mutex_lock(&c->lock);
            const gw_tag *t = w[i].tag;
            bool coils = t->addr.mb_class == GW_MB_COIL;
            int addr;
            if (!c->connected) {
                one = gw_error_set(err, GW_E_CONN_LOST, "modbus %s:%u: not connected", c->host,
                                   c->opts.port);
            } else if (!wire(c, t->addr.reg, &addr)) {
                one = unreachable(c, t->addr.reg, err, coils ? "write coils (FC 15)"
                                                             : "write registers (FC 16)");
            } else if (coils) {
                uint8_t bits[MODBUS_MAX_WRITE_BITS];
                for (size_t k = i; k < j; k++)
                    bits[k - i] = w[k].bit ? 1 : 0;
                c->sent++;
                one = modbus_write_bits(c->ctx, addr, (int)count, bits) == (int)count
                          ? GW_OK : io_error(c, errno, NULL, err, "write coils (FC 15)");
            } else {
                uint16_t regs[MODBUS_MAX_WRITE_REGISTERS];
                size_t off = 0;
                for (size_t k = i; k < j; k++)
                    for (size_t r = 0; r < w[k].n; r++)
                        regs[off++] = w[k].regs[r];
                c->sent++;
                one = modbus_write_registers(c->ctx, addr, (int)count, regs) == (int)count
                          ? GW_OK : io_error(c, errno, NULL, err, "write registers (FC 16)");
            }
            pthread_mutex_unlock(&c->lock);
        }
        for (size_t k = i; k < j && results; k++)
            results[k] = one;
        if (one != GW_OK) {
            rc = one;
            /* a refusal, or an address the register base cannot send, fails
             * its request only */
            if (one != GW_E_DEVICE_REJECTED && one != GW_E_RANGE) {
                for (size_t k = j; k < n && results; k++)
                    results[k] = GW_E_CONN_LOST;
                return rc;
            }
        }
        i = j;
    }
    return rc;
}
