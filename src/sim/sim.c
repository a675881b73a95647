/*
 * sim.c - the simulator's manager: devices, front-ends, clock, events and
 * the write log (sim.h).
 *
 * Threads and data:
 *   - the front-ends' server threads call on_s7_write/on_mb_write after a
 *     client's write (the S7CommPlus server's thread too: its writes go
 *     through gw_s7_server_client_write, which calls on_s7_write); they decode old and new values of every property the
 *     write touched, append to the write log and queue one event per
 *     property (a fixed-size record in a byte-bounded ring);
 *   - the manager thread pops events and calls the device's on_write, then
 *     runs each device's tick when its simulated period is due. All device
 *     logic runs on this one thread, so device types need no locks;
 *   - anyone may read or set properties and I/Os: values live in the
 *     servers' memory (their own locks); I/O values and the log under
 *     s->lock.
 * A full queue is an error in the log with a counter: nothing is dropped
 * silently.
 *
 * Checks: a device may refuse Modbus writes (sim_device_hooks.check_write,
 * the watermaker's strict mode). The Modbus server asks before it carries
 * a write out; its thread posts the write (s->check) and waits, and the
 * manager runs the device's check once every event queued before it ran,
 * so the device judges the write in the state all earlier writes left.
 */
#include "sim_internal.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- types */

const char *gw_sim_type_name(gw_sim_type t)
{
    static const char *n[] = {"BOOL", "BYTE", "SINT", "WORD", "INT", "DWORD", "DINT",
                              "ULINT", "LINT", "REAL", "LREAL", "STRING", "VOID"};
    return (unsigned)t <= GW_SIM_VOID ? n[t] : "?";
}

gw_sim_type gw_sim_type_of(const gw_tag *t)
{
    switch (t->type) {
    case GW_T_BOOL: return GW_SIM_BOOL;
    case GW_T_BITS: /* a byte, or a whole Modbus register */
        return t->addr.driver == GW_DRIVER_MODBUS && !t->addr.half ? GW_SIM_WORD : GW_SIM_BYTE;
    case GW_T_STRING:
    case GW_T_S7STRING: return GW_SIM_STRING;
    case GW_T_I8: return GW_SIM_SINT;
    case GW_T_U8: return GW_SIM_BYTE;
    case GW_T_I16: return GW_SIM_INT;
    case GW_T_U16: return GW_SIM_WORD;
    case GW_T_F16:
    case GW_T_F32: return GW_SIM_REAL;
    case GW_T_I32: return GW_SIM_DINT;
    case GW_T_U32: return GW_SIM_DWORD;
    case GW_T_I64: return GW_SIM_LINT;
    case GW_T_U64: return GW_SIM_ULINT;
    case GW_T_F64: return GW_SIM_LREAL;
    }
    return GW_SIM_VOID;
}

/* ---------------------------------------------------------------- clock */

uint64_t gw_sim_clock_ms(gw_sim *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t now = s->base_sim_ms + (uint64_t)((double)(gw_mono_ms() - s->base_real_ms) * s->scale);
    pthread_mutex_unlock(&s->lock);
    return now;
}

double gw_sim_time_scale(gw_sim *s)
{
    pthread_mutex_lock(&s->lock);
    double x = s->scale;
    pthread_mutex_unlock(&s->lock);
    return x;
}

void gw_sim_set_time_scale(gw_sim *s, double scale)
{
    if (!(scale >= 0.01 && scale <= 1000))
        return;
    pthread_mutex_lock(&s->lock);
    uint64_t real = gw_mono_ms();
    s->base_sim_ms += (uint64_t)((double)(real - s->base_real_ms) * s->scale);
    s->base_real_ms = real;
    s->scale = scale;
    pthread_mutex_lock(&s->clock_lock);
    s->ck_base_real_ms = s->base_real_ms;
    s->ck_base_sim_ms = s->base_sim_ms;
    s->ck_scale = s->scale;
    pthread_mutex_unlock(&s->clock_lock);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

/* The S7 CPU's clock: the wall clock at simulated time 0, plus simulated
 * time; so the time factor applies. Server thread, server lock held: only
 * the leaf clock_lock is taken. */
static int64_t s7_clock_ms(void *user)
{
    gw_sim *s = user;
    pthread_mutex_lock(&s->clock_lock);
    uint64_t sim = s->ck_base_sim_ms +
                   (uint64_t)((double)(gw_mono_ms() - s->ck_base_real_ms) * s->ck_scale);
    int64_t epoch = s->epoch0_ms + (int64_t)sim;
    pthread_mutex_unlock(&s->clock_lock);
    return epoch;
}

/* ---------------------------------------------------------------- set-up */

gw_err gw_sim_new(const gw_sim_opts *opts, gw_sim **out)
{
    *out = NULL;
    gw_sim *s = gw_calloc(1, sizeof(*s));
    if (!s)
        return GW_E_NOMEM;
    s->log = opts->log;
    s->scale = opts->time_scale > 0 ? opts->time_scale : 1.0;
    size_t bytes = opts->queue_bytes ? opts->queue_bytes : 64u * 1024u;
    s->qcap = bytes / sizeof(sim_event);
    if (s->qcap < 4)
        s->qcap = 4;
    s->queue = gw_calloc(s->qcap, sizeof(sim_event));
    s->wlog = gw_calloc(SIM_WLOG, sizeof(gw_sim_write));
    if (!s->queue || !s->wlog) {
        gw_free(s->queue);
        gw_free(s->wlog);
        gw_free(s);
        return GW_E_NOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->checked, NULL);
    pthread_mutex_init(&s->clock_lock, NULL);
    s->base_real_ms = gw_mono_ms();
    s->epoch0_ms = gw_wall_ms();
    s->ck_base_real_ms = s->base_real_ms;
    s->ck_scale = s->scale;
    if (opts->s7)
        s->s7_opts = *opts->s7;
    snprintf(s->fe[GW_DRIVER_S7].host, sizeof(s->fe[0].host), "127.0.0.1");
    snprintf(s->fe[GW_DRIVER_MODBUS].host, sizeof(s->fe[0].host), "127.0.0.1");
    snprintf(s->fe_s7p.host, sizeof(s->fe_s7p.host), "127.0.0.1");
    s->s7_listen = true;
    *out = s;
    return GW_OK;
}

void gw_sim_frontend_address(gw_sim *s, gw_driver d, const char *host, uint16_t port)
{
    snprintf(s->fe[d].host, sizeof(s->fe[d].host), "%s", host);
    s->fe[d].port = port;
}

const char *gw_sim_frontend_host(gw_sim *s, gw_driver d)
{
    return s->fe[d].host;
}

gw_tcpsrv *gw_sim_frontend(gw_sim *s, gw_driver d)
{
    if (d == GW_DRIVER_S7)
        return s->s7 && s->s7_listen ? gw_s7_server_tcp(s->s7) : NULL;
    return s->mb ? gw_mb_server_tcp(s->mb) : NULL;
}

gw_err gw_sim_frontend_start(gw_sim *s, gw_driver d, gw_error *err)
{
    gw_tcpsrv *t = gw_sim_frontend(s, d);
    if (!t)
        return gw_error_set(err, GW_E_NOT_FOUND, "no %s front-end: no device uses it",
                            d == GW_DRIVER_S7 ? "s7" : "modbus");
    return gw_tcpsrv_start(t, err);
}

void gw_sim_frontend_stop(gw_sim *s, gw_driver d)
{
    gw_tcpsrv_stop(gw_sim_frontend(s, d));
}

void gw_sim_s7plus_address(gw_sim *s, const char *host, uint16_t port, const s7p_opts *forms)
{
    snprintf(s->fe_s7p.host, sizeof(s->fe_s7p.host), "%s", host);
    s->fe_s7p.port = port;
    memset(&s->s7p_forms, 0, sizeof(s->s7p_forms));
    if (forms)
        s->s7p_forms = *forms;
    s->s7p_on = true;
}

void gw_sim_s7_listen(gw_sim *s, bool listen)
{
    s->s7_listen = listen;
}

const char *gw_sim_s7plus_host(gw_sim *s)
{
    return s->fe_s7p.host;
}

gw_tcpsrv *gw_sim_s7plus_frontend(gw_sim *s)
{
    return s->s7p ? gw_s7p_server_tcp(s->s7p) : NULL;
}

gw_err gw_sim_s7plus_start(gw_sim *s, gw_error *err)
{
    if (!s->s7p)
        return gw_error_set(err, GW_E_NOT_FOUND, "no s7plus front-end: none was asked for, or "
                            "no device has S7 memory");
    return gw_s7p_server_start(s->s7p, err);
}

void gw_sim_s7plus_stop(gw_sim *s)
{
    if (s->s7p)
        gw_tcpsrv_stop(gw_s7p_server_tcp(s->s7p));
}

size_t gw_sim_device_count(gw_sim *s)
{
    return s->ndev;
}

gw_sim_device *gw_sim_device_at(gw_sim *s, size_t i)
{
    return i < s->ndev ? s->dev[i] : NULL;
}

gw_sim_device *gw_sim_device_find(gw_sim *s, const char *name)
{
    for (size_t i = 0; i < s->ndev; i++)
        if (strcmp(s->dev[i]->name, name) == 0)
            return s->dev[i];
    return NULL;
}

const char *gw_sim_device_name(const gw_sim_device *d) { return d->name; }
const gw_sim_device_type *gw_sim_device_type_of(const gw_sim_device *d) { return d->type; }
const gw_tagmap *gw_sim_device_map(const gw_sim_device *d) { return d->map; }
gw_sim *gw_sim_device_sim(gw_sim_device *d) { return d->sim; }

uint64_t gw_sim_events(gw_sim *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->nevents;
    pthread_mutex_unlock(&s->lock);
    return n;
}

uint64_t gw_sim_overflows(gw_sim *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->noverflow;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---------------------------------------------------------------- events */

/* Queues an event; a full queue is logged with what was lost (lock held). */
static void push_event(gw_sim *s, sim_event ev)
{
    if (s->qlen == s->qcap) {
        s->noverflow++;
        gw_log_write(s->log, GW_LOG_ERROR, "sim", "event queue full (%zu bytes): %s of device "
                     "%s not delivered (%llu lost so far)", s->qcap * sizeof(sim_event),
                     ev.kind == SIM_EV_WRITE ? "a write" : "an I/O change",
                     s->dev[ev.device]->name, (unsigned long long)s->noverflow);
        return;
    }
    s->queue[(s->qhead + s->qlen) % s->qcap] = ev;
    s->qlen++;
    s->nevents++;
    pthread_cond_signal(&s->wake);
}

/* JSON text of a value for the write log. */
static void value_text(const gw_tag *t, const gw_value *v, char *buf, size_t size)
{
    json_t *val = gw_tag_value_json(t, v);
    char *txt = gw_json_dumps(val, 0);
    snprintf(buf, size, "%s", txt ? txt : "null");
    gw_free(txt);
    json_decref(val);
}

/* Logs a client's write of one property and queues it for the device. */
static void record_write(gw_sim *s, gw_sim_device *d, size_t di, size_t ti, const char *peer,
                         const gw_value *before, const gw_value *after)
{
    const gw_tag *t = gw_tagmap_at(d->map, ti);
    gw_sim_write *w = gw_calloc(1, sizeof(*w)); /* big: not on the server's stack */
    if (!w) {
        gw_log_write(s->log, GW_LOG_ERROR, "sim", "out of memory: a write to %s.%s is not "
                     "logged", d->name, t->parameter);
        return;
    }
    w->wall_ms = gw_wall_ms();
    w->sim_ms = gw_sim_clock_ms(s);
    snprintf(w->client, sizeof(w->client), "%s", peer);
    snprintf(w->device, sizeof(w->device), "%s", d->name);
    snprintf(w->parameter, sizeof(w->parameter), "%s", t->parameter);
    snprintf(w->address, sizeof(w->address), "%s", t->key);
    value_text(t, before, w->before, sizeof(w->before));
    value_text(t, after, w->after, sizeof(w->after));
    sim_event ev = {SIM_EV_WRITE, (uint32_t)di, (uint32_t)ti, after->kind != GW_V_STRING,
                    w->sim_ms, gw_value_as_double(after)};
    pthread_mutex_lock(&s->lock);
    w->seq = s->wseq;
    s->wlog[s->wseq % SIM_WLOG] = *w;
    s->wseq++;
    push_event(s, ev);
    pthread_mutex_unlock(&s->lock);
    gw_free(w);
}

size_t gw_sim_writes(gw_sim *s, uint64_t since, gw_sim_write *out, size_t max)
{
    pthread_mutex_lock(&s->lock);
    uint64_t first = s->wseq > SIM_WLOG ? s->wseq - SIM_WLOG : 0;
    if (since < first)
        since = first;
    size_t n = 0;
    for (uint64_t q = since; q < s->wseq && n < max; q++)
        out[n++] = s->wlog[q % SIM_WLOG];
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* S7: the tags of every S7 device that the written bytes touch. */
static void on_s7_write(void *user, const gw_s7_write_event *ev)
{
    gw_sim *s = user;
    for (size_t di = 0; di < s->ndev; di++) {
        gw_sim_device *d = s->dev[di];
        if (d->driver != GW_DRIVER_S7)
            continue;
        for (size_t ti = 0; ti < gw_tagmap_count(d->map); ti++) {
            const gw_tag *t = gw_tagmap_at(d->map, ti);
            uint32_t ts = t->addr.byte, te = ts + t->nbytes;
            if (t->addr.area != ev->area || (ev->area == GW_S7_DB && t->addr.db != ev->db) ||
                te <= ev->start || ts >= ev->start + ev->len)
                continue;
            /* the tag's bytes now, and with the written part as it was */
            uint8_t now[GW_WRITE_MAX_BYTES], was[GW_WRITE_MAX_BYTES];
            if (t->nbytes > sizeof(now) ||
                gw_s7_server_get(s->s7, t->addr.area, t->addr.db, ts, t->nbytes, now) != GW_OK)
                continue;
            memcpy(was, now, t->nbytes);
            for (uint32_t b = ts; b < te; b++)
                if (b >= ev->start && b < ev->start + ev->len) {
                    was[b - ts] = ev->before[b - ev->start];
                    now[b - ts] = ev->after[b - ev->start];
                }
            gw_value vb, va;
            if (gw_tag_decode_bytes(t, was, t->nbytes, &vb, NULL) != GW_OK)
                continue;
            if (gw_tag_decode_bytes(t, now, t->nbytes, &va, NULL) != GW_OK) {
                gw_value_clear(&vb);
                continue;
            }
            /* a bit write writes one bit: not the other bit tags of its byte */
            if (t->type != GW_T_BOOL || ev->bit < 0 || ev->bit == t->addr.bit)
                record_write(s, d, di, ti, ev->peer, &vb, &va);
            gw_value_clear(&vb);
            gw_value_clear(&va);
        }
    }
}

/*
 * A Modbus tag's values before and after a write of the span in ev: its
 * registers from the image, the written ones from the event. False when
 * the write does not touch the tag (or it does not decode); otherwise the
 * caller clears both values.
 */
static bool mb_tag_values(gw_sim *s, gw_sim_device *d, const gw_tag *t,
                          const gw_mb_write_event *ev, gw_value *vb, gw_value *va)
{
    uint32_t n = t->type == GW_T_BOOL ? 1u : t->nregs;
    uint32_t ts = t->addr.reg, te = ts + n;
    if (t->addr.mb_class != ev->cls || te <= ev->start || ts >= (uint32_t)ev->start + ev->count)
        return false;
    uint16_t now[GW_WRITE_MAX_REGS + 2], was[GW_WRITE_MAX_REGS + 2];
    if (n > GW_WRITE_MAX_REGS + 2 ||
        gw_mb_server_get(s->mb, ev->cls, (uint16_t)ts, (uint16_t)n, now) != GW_OK)
        return false;
    memcpy(was, now, n * sizeof(uint16_t));
    for (uint32_t r = ts; r < te; r++)
        if (r >= ev->start && r < (uint32_t)ev->start + ev->count) {
            was[r - ts] = ev->before[r - ev->start];
            now[r - ts] = ev->after[r - ev->start];
        }
    if (t->type == GW_T_BOOL) {
        gw_tag_decode_bit(t, was[0] != 0, vb);
        gw_tag_decode_bit(t, now[0] != 0, va);
        return true;
    }
    if (gw_tag_decode_regs(d->map, t, was, n, vb, NULL) != GW_OK)
        return false;
    if (gw_tag_decode_regs(d->map, t, now, n, va, NULL) != GW_OK) {
        gw_value_clear(vb);
        return false;
    }
    return true;
}

/* Modbus: the tags of every Modbus device that the written span touches. */
static void on_mb_write(void *user, const gw_mb_write_event *ev)
{
    gw_sim *s = user;
    for (size_t di = 0; di < s->ndev; di++) {
        gw_sim_device *d = s->dev[di];
        if (d->driver != GW_DRIVER_MODBUS)
            continue;
        for (size_t ti = 0; ti < gw_tagmap_count(d->map); ti++) {
            gw_value vb, va;
            if (!mb_tag_values(s, d, gw_tagmap_at(d->map, ti), ev, &vb, &va))
                continue;
            record_write(s, d, di, ti, ev->peer, &vb, &va);
            gw_value_clear(&vb);
            gw_value_clear(&va);
        }
    }
}

/* ---------------------------------------------------------------- checks */

/* How long the Modbus server waits for a verdict (real time) before it
 * answers "server device busy" (Modbus Application Protocol V1.1b, 7:
 * exception 6). The manager takes a check within one event's time. */
#define SIM_CHECK_WAIT_MS 2000
#define SIM_EXCEPTION_BUSY 6

static bool wants_check(gw_sim *s)
{
    for (size_t di = 0; di < s->ndev; di++)
        if (s->dev[di]->driver == GW_DRIVER_MODBUS && s->dev[di]->hooks &&
            s->dev[di]->hooks->check_write && atomic_load(&s->dev[di]->check_writes))
            return true;
    return false;
}

/* Manager thread: every checking device's verdict on every tag the write
 * touches; the first refusal wins. */
static int run_check(gw_sim *s, const gw_mb_write_event *ev, uint64_t sim_ms)
{
    int verdict = 0;
    for (size_t di = 0; di < s->ndev && !verdict; di++) {
        gw_sim_device *d = s->dev[di];
        if (d->driver != GW_DRIVER_MODBUS || !d->hooks || !d->hooks->check_write ||
            !atomic_load(&d->check_writes))
            continue;
        for (size_t ti = 0; ti < gw_tagmap_count(d->map) && !verdict; ti++) {
            const gw_tag *t = gw_tagmap_at(d->map, ti);
            gw_value vb, va;
            if (!mb_tag_values(s, d, t, ev, &vb, &va))
                continue;
            verdict = d->hooks->check_write(d, d->state, t, &va, sim_ms);
            gw_value_clear(&vb);
            gw_value_clear(&va);
        }
    }
    return verdict;
}

/* Server thread: posts the write and waits for the manager's verdict.
 * With the manager stopped (or before it starts) no device logic runs and
 * every write goes through. */
static int check_mb_write(void *user, const gw_mb_write_event *ev)
{
    gw_sim *s = user;
    if (!wants_check(s))
        return 0;
    pthread_mutex_lock(&s->lock);
    if (!s->manager_up || s->stop) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    sim_check *c = &s->check;
    uint64_t id = ++c->id;
    c->pending = true;
    c->answered = false;
    c->verdict = 0;
    c->ticket = s->npopped + s->qlen;
    c->cls = ev->cls;
    c->start = ev->start;
    c->count = ev->count;
    memcpy(c->before, ev->before, ev->count * sizeof(uint16_t));
    memcpy(c->after, ev->after, ev->count * sizeof(uint16_t));
    snprintf(c->peer, sizeof(c->peer), "%s", ev->peer ? ev->peer : "");
    pthread_cond_signal(&s->wake);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += SIM_CHECK_WAIT_MS / 1000;
    int rc = 0;
    while (!(c->answered && c->id == id) && rc == 0)
        rc = pthread_cond_timedwait(&s->checked, &s->lock, &ts);
    bool answered = c->answered && c->id == id;
    int verdict = answered ? c->verdict : SIM_EXCEPTION_BUSY;
    if (!answered) {
        c->pending = false;
        gw_log_write(s->log, GW_LOG_ERROR, "sim", "a Modbus write from %s was not checked "
                     "within %d ms: answered exception 6 (server device busy)", c->peer,
                     SIM_CHECK_WAIT_MS);
    }
    pthread_mutex_unlock(&s->lock);
    return verdict;
}

/* Manager thread: runs the posted check when its turn came (lock held on
 * entry and on return; released while the devices judge). */
static void take_check(gw_sim *s)
{
    sim_check *c = &s->check;
    c->pending = false;
    uint64_t id = c->id;
    /* a copy: the server may give up waiting and post the next one */
    sim_check *mine = gw_malloc(sizeof(*mine));
    int verdict = SIM_EXCEPTION_BUSY;
    if (mine) {
        *mine = *c;
        pthread_mutex_unlock(&s->lock);
        gw_mb_write_event ev = {mine->cls, mine->start, mine->count, mine->before, mine->after,
                                mine->peer};
        verdict = run_check(s, &ev, gw_sim_clock_ms(s));
        gw_free(mine);
        pthread_mutex_lock(&s->lock);
    }
    if (c->id == id) {
        c->answered = true;
        c->verdict = verdict;
        pthread_cond_broadcast(&s->checked);
    }
}

/* ---------------------------------------------------------------- properties */

static const gw_tag *find_tag(gw_sim_device *d, const char *name, gw_error *err)
{
    const gw_tag *t = gw_tagmap_find(d->map, name);
    if (!t)
        gw_error_set(err, GW_E_NOT_FOUND, "device %s has no property \"%s\"", d->name, name);
    return t;
}

gw_err gw_sim_get_property(gw_sim_device *d, const char *name, gw_value *out, gw_error *err)
{
    memset(out, 0, sizeof(*out));
    const gw_tag *t = find_tag(d, name, err);
    if (!t)
        return GW_E_NOT_FOUND;
    gw_sim *s = d->sim;
    if (d->driver == GW_DRIVER_S7) {
        uint8_t buf[GW_WRITE_MAX_BYTES];
        gw_err rc = gw_s7_server_get(s->s7, t->addr.area, t->addr.db, t->addr.byte, t->nbytes, buf);
        if (rc != GW_OK)
            return gw_error_set(err, rc, "device %s: %s is not served", d->name, t->key);
        return gw_tag_decode_bytes(t, buf, t->nbytes, out, err);
    }
    uint16_t regs[GW_WRITE_MAX_REGS + 2];
    uint16_t n = t->type == GW_T_BOOL ? 1 : t->nregs;
    gw_mb_server_get(s->mb, t->addr.mb_class, t->addr.reg, n, regs);
    if (t->type == GW_T_BOOL) {
        gw_tag_decode_bit(t, regs[0] != 0, out);
        return GW_OK;
    }
    return gw_tag_decode_regs(d->map, t, regs, n, out, err);
}

/* Puts an encoded value into served memory, only the bits it owns. */
static gw_err store(gw_sim_device *d, const gw_write *w)
{
    gw_sim *s = d->sim;
    const gw_tag *t = w->tag;
    if (d->driver == GW_DRIVER_S7) {
        if (t->type == GW_T_BOOL) {
            uint8_t v = (uint8_t)(w->bit ? 1u << t->addr.bit : 0u), m = (uint8_t)(1u << t->addr.bit);
            return gw_s7_server_update(s->s7, t->addr.area, t->addr.db, t->addr.byte, 1, &v, &m);
        }
        return gw_s7_server_update(s->s7, t->addr.area, t->addr.db, t->addr.byte,
                                   (uint32_t)w->n, w->bytes, w->bytemask);
    }
    if (t->type == GW_T_BOOL) {
        uint16_t v = w->bit, one = 1;
        return gw_mb_server_update(s->mb, t->addr.mb_class, t->addr.reg, 1, &v, &one);
    }
    return gw_mb_server_update(s->mb, t->addr.mb_class, t->addr.reg, (uint16_t)w->n, w->regs,
                               w->regmask);
}

gw_err gw_sim_set_property(gw_sim_device *d, const char *name, const void *json, gw_error *err)
{
    const gw_tag *t = find_tag(d, name, err);
    if (!t)
        return GW_E_NOT_FOUND;
    gw_write w;
    gw_err rc = gw_tag_encode(d->map, t, json, &w, err);
    if (rc != GW_OK)
        return rc;
    return store(d, &w);
}

double gw_sim_get(gw_sim_device *d, const char *name)
{
    gw_value v;
    if (gw_sim_get_property(d, name, &v, NULL) != GW_OK)
        return NAN;
    double x = gw_value_as_double(&v);
    gw_value_clear(&v);
    return x;
}

void gw_sim_set(gw_sim_device *d, const char *name, double value)
{
    const gw_tag *t = gw_tagmap_find(d->map, name);
    if (!t)
        return;
    json_t *j = t->type == GW_T_BOOL ? json_boolean(value != 0)
              : gw_type_is_float(t->type) || t->scaled ? json_real(value)
                                                       : json_integer((json_int_t)llround(value));
    gw_error err;
    if (gw_sim_set_property(d, name, j, &err) != GW_OK)
        gw_log_write(d->sim->log, GW_LOG_WARN, "sim", "device %s: %s", d->name, err.msg);
    json_decref(j);
}

/* ---------------------------------------------------------------- I/Os */

static long io_index(gw_sim_device *d, const char *name)
{
    for (size_t i = 0; i < d->type->nios; i++)
        if (strcmp(d->type->ios[i].name, name) == 0)
            return (long)i;
    return -1;
}

double gw_sim_io(gw_sim_device *d, size_t io)
{
    pthread_mutex_lock(&d->sim->lock);
    double v = io < d->type->nios ? d->io[io] : NAN;
    pthread_mutex_unlock(&d->sim->lock);
    return v;
}

void gw_sim_io_set(gw_sim_device *d, size_t io, double value)
{
    pthread_mutex_lock(&d->sim->lock);
    if (io < d->type->nios)
        d->io[io] = value;
    pthread_mutex_unlock(&d->sim->lock);
}

gw_err gw_sim_get_io(gw_sim_device *d, const char *name, double *out, gw_error *err)
{
    long i = io_index(d, name);
    if (i < 0)
        return gw_error_set(err, GW_E_NOT_FOUND, "device %s has no I/O \"%s\"", d->name, name);
    *out = gw_sim_io(d, (size_t)i);
    return GW_OK;
}

gw_err gw_sim_set_io(gw_sim_device *d, const char *name, double value, gw_error *err)
{
    long i = io_index(d, name);
    if (i < 0)
        return gw_error_set(err, GW_E_NOT_FOUND, "device %s has no I/O \"%s\"", d->name, name);
    if (!isfinite(value))
        return gw_error_set(err, GW_E_INVAL, "I/O \"%s\" needs a finite number", name);
    gw_sim *s = d->sim;
    pthread_mutex_lock(&s->lock);
    d->io[i] = d->type->ios[i].type == GW_SIM_BOOL ? (value != 0) : value;
    size_t di = 0;
    while (s->dev[di] != d)
        di++;
    uint64_t now = s->base_sim_ms + (uint64_t)((double)(gw_mono_ms() - s->base_real_ms) * s->scale);
    push_event(s, (sim_event){SIM_EV_IO, (uint32_t)di, (uint32_t)i, 1, now, d->io[i]});
    pthread_mutex_unlock(&s->lock);
    return GW_OK;
}

/* ---------------------------------------------------------------- devices */

/* Server thread, no server lock: a client stopped or started the CPU;
 * the manager applies it in order with the writes before it. */
static void on_s7_cpu_state(void *user, gw_s7_cpu_state state, bool cold)
{
    gw_sim *s = user;
    pthread_mutex_lock(&s->lock);
    push_event(s, (sim_event){SIM_EV_CPU, 0, (uint32_t)state, cold, 0, 0});
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    gw_log_write(s->log, GW_LOG_INFO, "sim", "S7 CPU: %s by a client",
                 state == GW_S7_CPU_STOP ? "STOP" : cold ? "cold start" : "warm start");
}

gw_s7_cpu_state gw_sim_s7_cpu_state(gw_sim *s)
{
    return s->s7 ? gw_s7_server_cpu_state(s->s7) : GW_S7_CPU_UNKNOWN;
}

/* The start values of a device's tags (their "default"), written to the
 * memory it serves. */
static gw_err load_defaults(gw_sim_device *d, gw_error *err)
{
    for (size_t i = 0; i < gw_tagmap_count(d->map); i++) {
        const gw_tag *t = gw_tagmap_at(d->map, i);
        if (!t->default_value)
            continue;
        gw_write w;
        gw_err rc = gw_tag_encode(d->map, t, t->default_value, &w, err);
        if (rc == GW_OK)
            rc = store(d, &w);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

static gw_err serve_areas(gw_sim *s, gw_sim_device *d, gw_error *err)
{
    if (d->driver == GW_DRIVER_MODBUS) {
        if (!s->mb) {
            gw_mb_server_opts mo = {0};
            mo.host = s->fe[GW_DRIVER_MODBUS].host;
            mo.port = s->fe[GW_DRIVER_MODBUS].port;
            mo.log = s->log;
            mo.on_write = on_mb_write;
            mo.check_write = check_mb_write;
            mo.user = s;
            gw_err rc = gw_mb_server_new(&mo, &s->mb, err);
            if (rc != GW_OK)
                return rc;
        }
        return gw_mb_server_load_defaults(s->mb, d->map, err);
    }
    if (!s->s7) {
        gw_s7_server_opts so = s->s7_opts;
        so.host = s->fe[GW_DRIVER_S7].host;
        so.port = s->fe[GW_DRIVER_S7].port;
        so.log = s->log;
        so.on_write = on_s7_write;
        so.on_cpu_state = on_s7_cpu_state;
        so.clock_ms = s7_clock_ms;
        so.user = s;
        gw_err rc = gw_s7_server_new(&so, &s->s7, err);
        if (rc != GW_OK)
            return rc;
    }
    /* each area as large as its tags reach, or as the device type says */
    gw_sim_area need[64];
    size_t n = 0;
    for (size_t i = 0; i < d->type->nareas && n < 64; i++)
        need[n++] = d->type->areas[i];
    for (size_t i = 0; i < gw_tagmap_count(d->map); i++) {
        const gw_tag *t = gw_tagmap_at(d->map, i);
        uint32_t end = t->addr.byte + t->nbytes;
        size_t k = 0;
        while (k < n && !(need[k].area == t->addr.area && need[k].db == t->addr.db))
            k++;
        if (k == n) {
            if (n == 64)
                return gw_error_set(err, GW_E_RANGE, "device %s uses more than 64 areas", d->name);
            need[n++] = (gw_sim_area){t->addr.area, t->addr.db, 0};
        }
        if (end > need[k].size)
            need[k].size = end + (end & 1u); /* whole words, as a DB is */
    }
    for (size_t k = 0; k < n; k++) {
        gw_err rc = gw_s7_server_add_area(s->s7, need[k].area, need[k].db, need[k].size);
        if (rc != GW_OK)
            return gw_error_set(err, GW_E_CONFIG, "device %s: %s%u is served twice (or is too "
                                "large)", d->name, need[k].area == GW_S7_DB ? "DB" : "area ",
                                need[k].area == GW_S7_DB ? need[k].db : (unsigned)need[k].area);
    }
    return load_defaults(d, err);
}

gw_err gw_sim_add_device(gw_sim *s, const char *type, const char *name, const char *map_path,
                         gw_error *err)
{
    const gw_sim_device_type *ty = gw_sim_device_type_find(type);
    if (!ty)
        return gw_error_set(err, GW_E_NOT_FOUND, "unknown device type \"%s\"", type);
    if (gw_sim_device_find(s, name))
        return gw_error_set(err, GW_E_CONFIG, "device \"%s\" is defined twice", name);
    if (s->ndev == SIM_MAX_DEVICES)
        return gw_error_set(err, GW_E_RANGE, "at most %d devices", SIM_MAX_DEVICES);
    gw_sim_device *d = gw_calloc(1, sizeof(*d));
    if (!d)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    d->sim = s;
    d->type = ty;
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->io = gw_calloc(ty->nios ? ty->nios : 1, sizeof(double));
    gw_diag diag;
    gw_err rc = d->io ? gw_tagmap_load_file(map_path, &d->map, &diag) : GW_E_NOMEM;
    if (rc != GW_OK) {
        char first[300];
        gw_diag_first(&diag, first, sizeof(first));
        gw_error_set(err, rc, "device %s: %s", name, first);
        goto fail;
    }
    d->driver = gw_tagmap_driver(d->map);
    if ((rc = serve_areas(s, d, err)) != GW_OK)
        goto fail;
    if (ty->create && (rc = ty->create(d, &d->state)) != GW_OK) {
        gw_error_set(err, rc, "device %s: cannot create its state", name);
        goto fail;
    }
    s->dev[s->ndev++] = d;
    gw_log_write(s->log, GW_LOG_INFO, "sim", "device %s (%s): %zu properties, %zu I/Os, %s",
                 name, type, gw_tagmap_count(d->map), ty->nios,
                 d->driver == GW_DRIVER_S7 ? "S7" : "Modbus");
    return GW_OK;
fail:
    gw_tagmap_free(d->map);
    gw_free(d->io);
    gw_free(d);
    return rc;
}

/* ---------------------------------------------------------------- thread */

/* Manager thread: the S7 CPU stopped or started. While stopped its
 * devices' programs do not run; a start runs them from the I/Os as they
 * are now (on_io with each value), a cold start first makes each device
 * anew with its tags' start values. */
static void run_cpu_event(gw_sim *s, gw_s7_cpu_state state, bool cold)
{
    bool stop = state != GW_S7_CPU_RUN;
    bool was = s->cpu_stopped;
    s->cpu_stopped = stop;
    if (stop || (!was && !cold))
        return;
    uint64_t now = gw_sim_clock_ms(s);
    for (size_t i = 0; i < s->ndev; i++) {
        gw_sim_device *d = s->dev[i];
        if (d->driver != GW_DRIVER_S7)
            continue;
        gw_error err;
        gw_error_clear(&err);
        if (cold) {
            void *st = NULL;
            if (d->type->create && d->type->create(d, &st) == GW_OK) {
                if (d->type->destroy)
                    d->type->destroy(d->state);
                d->state = st;
            }
            if (load_defaults(d, &err) != GW_OK)
                gw_log_write(s->log, GW_LOG_ERROR, "sim", "cold start of %s: %s", d->name,
                             err.msg);
        }
        d->next_tick = now;
        for (size_t k = 0; d->type->on_io && k < d->type->nios; k++) {
            pthread_mutex_lock(&s->lock);
            double v = d->io[k];
            pthread_mutex_unlock(&s->lock);
            if (!d->type->ios[k].output)
                d->type->on_io(d, d->state, k, v, now);
        }
    }
}

static void run_event(gw_sim *s, const sim_event *ev)
{
    if (ev->kind == SIM_EV_CPU) {
        run_cpu_event(s, (gw_s7_cpu_state)ev->index, ev->has_value != 0);
        return;
    }
    gw_sim_device *d = s->dev[ev->device];
    /* a stopped CPU runs no program (the write itself was served and logged) */
    if (s->cpu_stopped && d->driver == GW_DRIVER_S7)
        return;
    if (ev->kind == SIM_EV_IO) {
        if (d->type->on_io)
            d->type->on_io(d, d->state, ev->index, ev->value, ev->sim_ms);
        return;
    }
    if (!d->type->on_write)
        return;
    const gw_tag *t = gw_tagmap_at(d->map, ev->index);
    gw_value v;
    memset(&v, 0, sizeof(v));
    if (ev->has_value) {
        /* the value the client wrote, not whatever is there now */
        if (t->type == GW_T_BOOL) {
            v.kind = GW_V_BOOL;
            v.v.b = ev->value != 0;
        } else {
            v.kind = GW_V_DOUBLE;
            v.v.d = ev->value;
        }
    } else if (gw_sim_get_property(d, t->parameter, &v, NULL) != GW_OK) {
        return;
    }
    d->type->on_write(d, d->state, t, &v, ev->sim_ms);
    gw_value_clear(&v);
}

static void *manager_main(void *arg)
{
    gw_sim *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        if (s->stop) {
            /* a write waiting for a verdict goes through: no device runs */
            s->manager_up = false;
            if (s->check.pending) {
                s->check.pending = false;
                s->check.answered = true;
                s->check.verdict = 0;
                pthread_cond_broadcast(&s->checked);
            }
            pthread_mutex_unlock(&s->lock);
            break;
        }
        sim_event ev;
        bool have = false;
        if (s->check.pending && s->npopped >= s->check.ticket) {
            take_check(s); /* every event queued before it has run */
        } else if (s->qlen > 0) {
            ev = s->queue[s->qhead];
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qlen--;
            s->npopped++;
            have = true;
        }
        pthread_mutex_unlock(&s->lock);
        if (have) {
            run_event(s, &ev);
            continue;
        }
        /* ticks that are due, in simulated time */
        uint64_t now = gw_sim_clock_ms(s), next = UINT64_MAX;
        for (size_t i = 0; i < s->ndev; i++) {
            gw_sim_device *d = s->dev[i];
            if (!d->type->tick || !d->type->tick_ms)
                continue;
            if (s->cpu_stopped && d->driver == GW_DRIVER_S7) {
                d->next_tick = now; /* no replay of the time in STOP */
                continue;
            }
            /* far behind (a stop, a huge time scale): skip, do not replay */
            if (now > d->next_tick + 1000u * d->type->tick_ms)
                d->next_tick = now;
            while (d->next_tick <= now) {
                d->type->tick(d, d->state, d->next_tick, d->type->tick_ms);
                d->next_tick += d->type->tick_ms;
            }
            if (d->next_tick < next)
                next = d->next_tick;
        }
        /* sleep until the next tick is due or an event comes, 50 ms at most */
        pthread_mutex_lock(&s->lock);
        double wait_ms = next == UINT64_MAX ? 50.0 : (double)(next - now) / s->scale;
        if (wait_ms > 50.0)
            wait_ms = 50.0;
        if (!s->stop && s->qlen == 0 && !s->check.pending && wait_ms >= 1.0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long ns = ts.tv_nsec + (long)(wait_ms * 1e6);
            ts.tv_sec += ns / 1000000000L;
            ts.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&s->wake, &s->lock, &ts);
        }
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

/* Explore's names: per DB the parameter names of the S7 devices' tags in
 * it, in map order (devices in the order they were added). */
static gw_err s7p_names(gw_sim *s)
{
    uint16_t dbs[256];
    size_t ndb = gw_s7_server_dbs(s->s7, dbs, NULL, 256);
    if (ndb > 256)
        ndb = 256;
    size_t cap = 0;
    for (size_t i = 0; i < s->ndev; i++)
        cap += s->dev[i]->driver == GW_DRIVER_S7 ? gw_tagmap_count(s->dev[i]->map) : 0;
    const char **names = gw_malloc((cap ? cap : 1) * sizeof(*names));
    if (!names)
        return GW_E_NOMEM;
    gw_err rc = GW_OK;
    for (size_t k = 0; k < ndb && rc == GW_OK; k++) {
        size_t n = 0;
        for (size_t i = 0; i < s->ndev; i++) {
            gw_sim_device *d = s->dev[i];
            for (size_t t = 0; d->driver == GW_DRIVER_S7 && t < gw_tagmap_count(d->map); t++) {
                const gw_tag *tag = gw_tagmap_at(d->map, t);
                if (tag->addr.area == GW_S7_DB && tag->addr.db == dbs[k] && n < cap)
                    names[n++] = tag->parameter;
            }
        }
        rc = gw_s7p_server_set_names(s->s7p, dbs[k], names, n);
    }
    gw_free(names);
    return rc;
}

/* The S7CommPlus front-end on the S7 devices' memory. */
static gw_err s7p_make(gw_sim *s, gw_error *err)
{
    if (!s->s7p_on || s->s7p)
        return GW_OK;
    if (!s->s7) {
        gw_log_write(s->log, GW_LOG_WARN, "sim", "no device has S7 memory: the s7plus front-end "
                     "is not started");
        return GW_OK;
    }
    gw_s7p_server_opts po = {0};
    po.host = s->fe_s7p.host;
    po.port = s->fe_s7p.port;
    po.forms = s->s7p_forms;
    po.log = s->log;
    po.memory = s->s7;
    gw_err rc = gw_s7p_server_new(&po, &s->s7p, err);
    if (rc == GW_OK && (rc = s7p_names(s)) != GW_OK)
        gw_error_set(err, rc, "out of memory");
    if (rc == GW_OK)
        rc = gw_s7p_server_start(s->s7p, err);
    return rc;
}

gw_err gw_sim_start(gw_sim *s, gw_error *err)
{
    if (s->s7 && s->s7_listen && gw_s7_server_start(s->s7, err) != GW_OK)
        return err ? err->code : GW_E_IO;
    if (s7p_make(s, err) != GW_OK)
        return err ? err->code : GW_E_IO;
    if (s->mb && gw_mb_server_start(s->mb, err) != GW_OK)
        return err ? err->code : GW_E_IO;
    uint64_t now = gw_sim_clock_ms(s);
    for (size_t i = 0; i < s->ndev; i++)
        s->dev[i]->next_tick = now;
    pthread_mutex_lock(&s->lock);
    s->stop = false;
    s->manager_up = true;
    pthread_mutex_unlock(&s->lock);
    if (pthread_create(&s->thread, NULL, manager_main, s) != 0) {
        pthread_mutex_lock(&s->lock);
        s->manager_up = false;
        pthread_mutex_unlock(&s->lock);
        return gw_error_set(err, GW_E_IO, "cannot start the simulator thread");
    }
    s->running = true;
    return GW_OK;
}

void gw_sim_stop(gw_sim *s)
{
    if (!s || !s->running)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->running = false;
}

void gw_sim_free(gw_sim *s)
{
    if (!s)
        return;
    gw_sim_stop(s);
    /* servers first: no write event may arrive for a freed device; the
     * S7CommPlus one before the memory it serves */
    gw_s7p_server_free(s->s7p);
    gw_s7_server_free(s->s7);
    gw_mb_server_free(s->mb);
    for (size_t i = 0; i < s->ndev; i++) {
        gw_sim_device *d = s->dev[i];
        if (d->type->destroy)
            d->type->destroy(d->state);
        gw_tagmap_free(d->map);
        gw_free(d->io);
        gw_free(d);
    }
    gw_free(s->queue);
    gw_free(s->wlog);
    pthread_cond_destroy(&s->checked);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->clock_lock);
    gw_free(s);
}
