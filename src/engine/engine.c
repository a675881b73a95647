/*
 * engine.c - one owner thread per machine: connection, scan groups,
 * snapshots (engine.h).
 *
 * A machine thread is the only user of its PLC client. Each cycle it
 * connects if it is not connected (backoff 200 ms doubling to 5 s after
 * each failure or loss, back to 200 ms after a good scan), then
 * reads every scan group that is due through that group's read plan,
 * decodes the values into its working set and publishes a copy as a new
 * snapshot. A connection error marks every value stale and publishes at
 * once, so readers see "disconnected" within one cycle. Readers take the
 * newest snapshot under a short lock and hold it by reference.
 *
 * Tags join the scan group their map names ("group"); tags without one, or
 * with an unknown one, join the machine's first group, or a 1 s group when
 * the machine has none.
 */
#include "engine.h"
#include "drivers/modbus/mb.h"
#include "drivers/s7/s7.h"
#include "drivers/s7plus/s7plus.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_MS 200
#define MAX_RELEASES 32         /* pending timed releases per machine */
#define BACKOFF_MAX_MS 5000
#define DEFAULT_INTERVAL_MS 1000

typedef struct {
    char name[32];
    uint32_t interval_ms;
    atomic_uint override_ms;    /* gw_engine_set_interval; 0: interval_ms */
    uint64_t scans;             /* good scans so far (a sequence's fresh reading) */
    bool *want;                 /* per tag: in this group */
    uint64_t next_ms;
    /* S7: one range per tag of the group, a plan made after connecting */
    gw_s7_range *ranges;
    size_t *range_tag;
    size_t nranges;
    uint8_t *buf;
    gw_s7_plan *s7plan;
    /* Modbus */
    gw_mb_plan *mbplan;
    gw_mb_readout *readout;
} scan_group;

/* A queued write: shared by the caller, who waits, and the machine thread
 * (refs), so that a caller that gave up leaves nothing dangling. */
typedef struct cmd {
    struct cmd *next;
    int refs;                   /* under the machine's cmd_lock */
    gw_write *writes;
    gw_write *release;          /* NULL, or one per write */
    size_t n;
    uint32_t hold_ms;
    bool urgent;
    bool cancelled, done;
    gw_err result;
    gw_error err;
    pthread_cond_t cv;
} cmd;

typedef struct {
    uint64_t due_ms;
    gw_write w;
} timed_release;

/* A sequence (gw_engine_sequence): its steps resolved to tags. */
typedef struct {
    gw_step_kind kind;
    size_t tag;                 /* index in the map */
    double value;
    gw_write w;                 /* the encoded write */
    uint32_t ms;
} seq_step;

typedef struct sequence {
    uint64_t id;
    seq_step *steps;
    size_t n, i;
    bool began;                 /* the current step */
    uint64_t t0;                /* when it began */
    uint64_t scans0;            /* its group's scans then */
    gw_seq_fn fn;
    void *ud;
} sequence;

typedef struct {
    gw_engine *e;
    const gw_machine_cfg *cfg;
    pthread_mutex_t cmd_lock;   /* queue, cmd fields, `connected_pub` */
    cmd *head, *tail;
    bool connected_pub;         /* for callers: connected as last published */
    timed_release releases[MAX_RELEASES];  /* machine thread only */
    size_t nreleases;
    pthread_t thread;
    bool started;
    gw_s7_client *s7;
    gw_s7p_client *s7p;         /* "driver": "s7plus": the same ranges, S7CommPlus */
    gw_mb_client *mb;
    bool connected;
    uint64_t connects;
    uint32_t backoff_ms;
    uint64_t next_try_ms;
    scan_group groups[GW_MAX_GROUPS + 1];
    size_t ngroups;
    size_t n;                   /* tags */
    gw_value *values;           /* working set, this thread only */
    uint8_t *quality;
    size_t *changed;            /* scratch for change events */
    int64_t ts_ms;
    uint64_t seq;
    char error[320];
    pthread_mutex_t snap_lock;
    gw_snapshot *snap;          /* newest published */
    /* sequences: pending and cancel under cmd_lock; prog (the running one) the thread's */
    sequence *seq_pending, *prog;
    uint64_t seq_cancel, seq_busy;  /* the id asked to stop; the id that runs (0 none) */
} machine;

struct gw_engine {
    const gw_config *cfg;
    gw_log *log;
    machine *m;
    size_t n;
    atomic_bool stop;
    bool started;
    atomic_uint_fast64_t seq_ids;
    struct {
        gw_change_fn fn;
        void *ud;
    } subs[GW_MAX_SUBSCRIBERS];
    size_t nsubs;
    pthread_mutex_t lock;       /* only for the wake condition */
    pthread_cond_t wake;
};

const char *gw_quality_name(gw_quality q)
{
    static const char *n[] = {"unknown", "good", "bad", "stale"};
    return (unsigned)q <= GW_Q_STALE ? n[q] : "?";
}

/* ---------------------------------------------------------------- snapshots */

static void value_copy(gw_value *dst, const gw_value *src)
{
    *dst = *src;
    if (src->kind == GW_V_STRING) {
        dst->v.str.s = gw_strndup(src->v.str.s, src->v.str.len);
        if (!dst->v.str.s)
            memset(dst, 0, sizeof(*dst));
    }
}

const gw_snapshot *gw_snapshot_retain(const gw_snapshot *cs)
{
    gw_snapshot *s = (gw_snapshot *)cs;
    if (s)
        atomic_fetch_add(&s->refs, 1);
    return s;
}

static bool value_equal(const gw_value *a, const gw_value *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case GW_V_NONE: return true;
    case GW_V_BOOL: return a->v.b == b->v.b;
    case GW_V_INT: return a->v.i == b->v.i;
    case GW_V_UINT: return a->v.u == b->v.u;
    case GW_V_DOUBLE: return a->v.d == b->v.d || (a->v.d != a->v.d && b->v.d != b->v.d);
    case GW_V_STRING:
        return a->v.str.len == b->v.str.len && memcmp(a->v.str.s, b->v.str.s, a->v.str.len) == 0;
    case GW_V_BITS: return a->v.bits.bits == b->v.bits.bits && a->v.bits.nbits == b->v.bits.nbits;
    }
    return false;
}

/* Tells the subscribers what s changed against prev. */
static void notify(machine *m, const gw_snapshot *prev, const gw_snapshot *s)
{
    gw_engine *e = m->e;
    if (e->nsubs == 0)
        return;
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!prev || prev->quality[i] != s->quality[i] ||
            !value_equal(&prev->values[i], &s->values[i]))
            m->changed[k++] = i;
    bool conn = !prev || prev->connected != s->connected || strcmp(prev->error, s->error) != 0;
    if (k == 0 && !conn)
        return;
    gw_change c = {prev, s, m->changed, k, conn};
    for (size_t i = 0; i < e->nsubs; i++)
        e->subs[i].fn(e->subs[i].ud, &c);
}

gw_err gw_engine_subscribe(gw_engine *e, gw_change_fn fn, void *ud)
{
    if (e->started || !fn)
        return GW_E_INVAL;
    if (e->nsubs == GW_MAX_SUBSCRIBERS)
        return GW_E_BUSY;
    e->subs[e->nsubs].fn = fn;
    e->subs[e->nsubs].ud = ud;
    e->nsubs++;
    return GW_OK;
}

void gw_snapshot_release(const gw_snapshot *cs)
{
    gw_snapshot *s = (gw_snapshot *)cs;
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (size_t i = 0; i < s->n; i++)
        gw_value_clear(&s->values[i]);
    gw_free(s->values);
    gw_free(s->quality);
    gw_free(s);
}

static void publish(machine *m)
{
    gw_snapshot *s = gw_calloc(1, sizeof(*s));
    if (s) {
        s->values = gw_calloc(m->n ? m->n : 1, sizeof(gw_value));
        s->quality = gw_calloc(m->n ? m->n : 1, 1);
    }
    if (!s || !s->values || !s->quality) {
        if (s) {
            gw_free(s->values);
            gw_free(s->quality);
            gw_free(s);
        }
        gw_log_error(m->e->log, "engine", "machine %s: out of memory for a snapshot", m->cfg->id);
        return;
    }
    atomic_init(&s->refs, 1);
    s->machine = m->cfg;
    s->n = m->n;
    for (size_t i = 0; i < m->n; i++)
        value_copy(&s->values[i], &m->values[i]);
    memcpy(s->quality, m->quality, m->n);
    s->ts_ms = m->ts_ms;
    s->seq = ++m->seq;
    s->connected = m->connected;
    s->connects = m->connects;
    snprintf(s->error, sizeof(s->error), "%s", m->connected ? "" : m->error);
    pthread_mutex_lock(&m->snap_lock);
    gw_snapshot *old = m->snap;
    m->snap = s;
    pthread_mutex_unlock(&m->snap_lock);
    pthread_mutex_lock(&m->cmd_lock);
    m->connected_pub = m->connected;
    pthread_mutex_unlock(&m->cmd_lock);
    notify(m, old, s);
    gw_snapshot_release(old);
}

const gw_snapshot *gw_engine_snapshot(gw_engine *e, const char *machine_id)
{
    for (size_t i = 0; i < e->n; i++) {
        machine *m = &e->m[i];
        if (strcmp(m->cfg->id, machine_id) != 0)
            continue;
        pthread_mutex_lock(&m->snap_lock);
        gw_snapshot *s = m->snap;
        if (s)
            atomic_fetch_add(&s->refs, 1);
        pthread_mutex_unlock(&m->snap_lock);
        return s;
    }
    return NULL;
}

/* ---------------------------------------------------------------- commands */

static void cmd_put(machine *m, cmd *c)
{
    /* cmd_lock held */
    if (--c->refs > 0)
        return;
    pthread_cond_destroy(&c->cv);
    gw_free(c->writes);
    gw_free(c->release);
    gw_free(c);
}

static void cmd_finish(machine *m, cmd *c, gw_err rc, const gw_error *err)
{
    pthread_mutex_lock(&m->cmd_lock);
    c->done = true;
    c->result = rc;
    if (err)
        c->err = *err;
    pthread_cond_broadcast(&c->cv);
    cmd_put(m, c);
    pthread_mutex_unlock(&m->cmd_lock);
}

/* Fails everything queued (the connection is down). */
static void fail_queue(machine *m, const char *why)
{
    pthread_mutex_lock(&m->cmd_lock);
    cmd *c = m->head;
    m->head = m->tail = NULL;
    pthread_mutex_unlock(&m->cmd_lock);
    while (c) {
        cmd *next = c->next;
        gw_error err;
        gw_error_clear(&err);
        gw_error_set(&err, GW_E_CONN_LOST, "machine %s is not connected: %s", m->cfg->id, why);
        cmd_finish(m, c, GW_E_CONN_LOST, &err);
        c = next;
    }
}

/* ---------------------------------------------------------------- set-up */

static gw_err groups_init(machine *m)
{
    const gw_machine_cfg *c = m->cfg;
    m->ngroups = c->ngroups ? c->ngroups : 1;
    for (size_t g = 0; g < m->ngroups; g++) {
        scan_group *sg = &m->groups[g];
        snprintf(sg->name, sizeof(sg->name), "%s", c->ngroups ? c->groups[g].name : "default");
        sg->interval_ms = c->ngroups ? c->groups[g].interval_ms : DEFAULT_INTERVAL_MS;
        sg->want = gw_calloc(m->n ? m->n : 1, sizeof(bool));
        if (!sg->want)
            return GW_E_NOMEM;
    }
    for (size_t i = 0; i < m->n; i++) {
        const gw_tag *t = gw_tagmap_at(c->tags, i);
        size_t g = 0;
        for (size_t k = 0; t->group && k < m->ngroups; k++)
            if (strcmp(m->groups[k].name, t->group) == 0)
                g = k;
        m->groups[g].want[i] = true;
    }
    if (c->driver == GW_DRIVER_MODBUS) {
        for (size_t g = 0; g < m->ngroups; g++) {
            scan_group *sg = &m->groups[g];
            if (gw_mb_plan_new_some(c->tags, sg->want, NULL, &sg->mbplan) != GW_OK ||
                gw_mb_readout_new(sg->mbplan, &sg->readout) != GW_OK)
                return GW_E_NOMEM;
        }
        return GW_OK;
    }
    for (size_t g = 0; g < m->ngroups; g++) {
        scan_group *sg = &m->groups[g];
        size_t k = 0, bytes = 0;
        for (size_t i = 0; i < m->n; i++)
            k += sg->want[i];
        sg->ranges = gw_calloc(k ? k : 1, sizeof(gw_s7_range));
        sg->range_tag = gw_calloc(k ? k : 1, sizeof(size_t));
        if (!sg->ranges || !sg->range_tag)
            return GW_E_NOMEM;
        for (size_t i = 0; i < m->n; i++) {
            if (!sg->want[i])
                continue;
            const gw_tag *t = gw_tagmap_at(c->tags, i);
            sg->ranges[sg->nranges] = (gw_s7_range){t->addr.area, t->addr.db, t->addr.byte,
                                                    t->nbytes, false, 0, NULL, NULL, GW_OK, 0};
            sg->range_tag[sg->nranges++] = i;
            bytes += t->nbytes;
        }
        sg->buf = gw_malloc(bytes ? bytes : 1);
        if (!sg->buf)
            return GW_E_NOMEM;
        for (size_t r = 0, off = 0; r < sg->nranges; r++) {
            sg->ranges[r].dst = sg->buf + off;
            off += sg->ranges[r].len;
        }
    }
    return GW_OK;
}

static void machine_clear(machine *m)
{
    gw_s7_client_free(m->s7);
    gw_s7p_client_free(m->s7p);
    gw_mb_client_free(m->mb);
    for (size_t g = 0; g < m->ngroups; g++) {
        scan_group *sg = &m->groups[g];
        gw_free(sg->want);
        gw_free(sg->ranges);
        gw_free(sg->range_tag);
        gw_free(sg->buf);
        gw_s7_plan_free(sg->s7plan);
        gw_mb_plan_free(sg->mbplan);
        gw_mb_readout_free(sg->readout);
    }
    for (size_t i = 0; m->values && i < m->n; i++)
        gw_value_clear(&m->values[i]);
    gw_free(m->values);
    gw_free(m->quality);
    gw_free(m->changed);
    gw_snapshot_release(m->snap);
    pthread_mutex_destroy(&m->snap_lock);
    pthread_mutex_destroy(&m->cmd_lock);
}

gw_err gw_engine_new(const gw_config *cfg, gw_log *log, gw_engine **out)
{
    *out = NULL;
    gw_engine *e = gw_calloc(1, sizeof(*e));
    if (!e)
        return GW_E_NOMEM;
    e->cfg = cfg;
    e->log = log;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->wake, NULL);
    e->m = gw_calloc(cfg->nmachines ? cfg->nmachines : 1, sizeof(machine));
    if (!e->m) {
        gw_engine_free(e);
        return GW_E_NOMEM;
    }
    for (size_t i = 0; i < cfg->nmachines; i++) {
        machine *m = &e->m[i];
        m->e = e;
        m->cfg = &cfg->machines[i];
        m->n = gw_tagmap_count(m->cfg->tags);
        m->backoff_ms = BACKOFF_MIN_MS;
        pthread_mutex_init(&m->snap_lock, NULL);
        pthread_mutex_init(&m->cmd_lock, NULL);
        e->n++;
        m->values = gw_calloc(m->n ? m->n : 1, sizeof(gw_value));
        m->quality = gw_calloc(m->n ? m->n : 1, 1);
        m->changed = gw_calloc(m->n ? m->n : 1, sizeof(size_t));
        snprintf(m->error, sizeof(m->error), "not connected yet");
        gw_err rc = m->values && m->quality && m->changed ? groups_init(m) : GW_E_NOMEM;
        if (rc != GW_OK) {
            gw_engine_free(e);
            return rc;
        }
        publish(m);
    }
    *out = e;
    return GW_OK;
}

/* ---------------------------------------------------------------- the thread */

static void seq_end(machine *m, gw_seq_state state, gw_err rc, const char *msg);

static void disconnect(machine *m, const char *why)
{
    if (m->connected)
        gw_log_warn(m->e->log, "engine", "machine %s: disconnected: %s; next try in %u ms",
                    m->cfg->id, why, m->backoff_ms);
    m->connected = false;
    /* wait before the next try: a peer that accepts and drops at once must
     * not make us spin */
    m->next_try_ms = gw_mono_ms() + m->backoff_ms;
    m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff_ms * 2;
    snprintf(m->error, sizeof(m->error), "%s", why);
    for (size_t i = 0; i < m->n; i++)
        if (m->quality[i] == GW_Q_GOOD)
            m->quality[i] = GW_Q_STALE;
    publish(m);
    fail_queue(m, why);
    if (m->prog) {
        char msg[400];
        snprintf(msg, sizeof(msg), "the PLC connection was lost: %s", why);
        seq_end(m, GW_SEQ_FAILED, GW_E_CONN_LOST, msg);
    }
}

/* S7CommPlus: the client on first use, then connect; reads need no plan
 * (the client coalesces the group's ranges itself). */
static gw_err s7p_connect(machine *m, gw_error *err)
{
    const gw_machine_cfg *c = m->cfg;
    if (!m->s7p) {
        gw_s7p_opts o = {0};
        o.host = c->host;
        o.port = c->port;
        o.connect_timeout_ms = o.send_timeout_ms = o.recv_timeout_ms = c->timeout_ms;
        o.forms = c->s7p_forms;
        o.log = m->e->log;
        if (gw_s7p_client_new(&o, &m->s7p) != GW_OK)
            return gw_error_set(err, GW_E_NOMEM, "out of memory");
    }
    return gw_s7p_connect(m->s7p, err);
}

static bool try_connect(machine *m, uint64_t now)
{
    const gw_machine_cfg *c = m->cfg;
    gw_error err;
    gw_error_clear(&err);
    gw_err rc;
    if (c->s7plus) {
        rc = s7p_connect(m, &err);
    } else if (c->driver == GW_DRIVER_S7) {
        if (!m->s7) {
            gw_s7_opts o = {0};
            o.host = c->host;
            o.port = c->port;
            o.rack = c->rack;
            o.slot = c->slot;
            o.connect_timeout_ms = o.send_timeout_ms = o.recv_timeout_ms = c->timeout_ms;
            o.log = m->e->log;
            if (gw_s7_client_new(&o, &m->s7) != GW_OK)
                return false;
        }
        rc = gw_s7_connect(m->s7, &err);
        /* plans follow the PDU size this PLC answered */
        for (size_t g = 0; rc == GW_OK && g < m->ngroups; g++) {
            scan_group *sg = &m->groups[g];
            gw_s7_plan_free(sg->s7plan);
            sg->s7plan = NULL;
            gw_s7_plan_opts po = {gw_s7_pdu_len(m->s7), GW_S7_DEFAULT_MAX_ITEMS,
                                  GW_S7_DEFAULT_GAP};
            if (sg->nranges && gw_s7_plan_new(sg->ranges, sg->nranges, &po, &sg->s7plan) != GW_OK)
                rc = gw_error_set(&err, GW_E_NOMEM, "cannot plan the reads of group %s", sg->name);
        }
    } else {
        if (!m->mb) {
            gw_mb_opts o = {0};
            o.host = c->host;
            o.port = c->port;
            o.unit = c->unit;
            o.register_base = c->register_base;
            o.connect_timeout_ms = o.response_timeout_ms = c->timeout_ms;
            o.log = m->e->log;
            if (gw_mb_client_new(&o, &m->mb) != GW_OK)
                return false;
        }
        rc = gw_mb_connect(m->mb, &err);
    }
    if (rc != GW_OK) {
        snprintf(m->error, sizeof(m->error), "%s", err.msg);
        gw_log_write(m->e->log, m->connects ? GW_LOG_DEBUG : GW_LOG_INFO, "engine",
                     "machine %s: %s; next try in %u ms", c->id, err.msg, m->backoff_ms);
        m->next_try_ms = now + m->backoff_ms;
        m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff_ms * 2;
        publish(m);
        return false;
    }
    /* the backoff resets after a good scan, not on connect */
    m->connected = true;
    m->connects++;
    m->error[0] = '\0';
    for (size_t g = 0; g < m->ngroups; g++)
        m->groups[g].next_ms = now;
    gw_log_info(m->e->log, "engine", "machine %s: connected to %s:%u", c->id, c->host, c->port);
    return true;
}

/* Reads one group; false when the connection broke. */
static bool scan(machine *m, scan_group *sg)
{
    const gw_tagmap *map = m->cfg->tags;
    gw_error err;
    gw_error_clear(&err);
    if (m->cfg->driver == GW_DRIVER_S7) {
        if (m->cfg->s7plus ? sg->nranges == 0 : !sg->s7plan)
            return true;
        gw_err rc = m->cfg->s7plus ? gw_s7p_read(m->s7p, sg->ranges, sg->nranges, &err)
                                   : gw_s7_read_plan(m->s7, sg->s7plan, sg->ranges, &err);
        if (rc != GW_OK && rc != GW_E_DEVICE_REJECTED) {
            disconnect(m, err.msg);
            return false;
        }
        for (size_t r = 0; r < sg->nranges; r++) {
            size_t i = sg->range_tag[r];
            gw_value v;
            if (sg->ranges[r].result == GW_OK &&
                gw_tag_decode_bytes(gw_tagmap_at(map, i), sg->ranges[r].dst, sg->ranges[r].len,
                                    &v, NULL) == GW_OK) {
                gw_value_clear(&m->values[i]);
                m->values[i] = v;
                m->quality[i] = GW_Q_GOOD;
            } else {
                m->quality[i] = GW_Q_BAD;
            }
        }
    } else {
        gw_err rc = gw_mb_read_plan(m->mb, sg->mbplan, sg->readout, &err);
        if (rc != GW_OK) {
            disconnect(m, err.msg);
            return false;
        }
        for (size_t i = 0; i < m->n; i++) {
            if (!sg->want[i])
                continue;
            gw_value v;
            if (gw_mb_readout_value(sg->mbplan, sg->readout, i, &v, NULL) == GW_OK) {
                gw_value_clear(&m->values[i]);
                m->values[i] = v;
                m->quality[i] = GW_Q_GOOD;
            } else {
                m->quality[i] = GW_Q_BAD;
            }
        }
    }
    m->ts_ms = gw_wall_ms();
    m->backoff_ms = BACKOFF_MIN_MS;
    sg->scans++;
    return true;
}

/* Writes on the PLC; false when the connection broke. *rc is the PLC's
 * answer. */
static bool do_writes(machine *m, const gw_write *w, size_t n, gw_err *rc, gw_error *err)
{
    gw_error_clear(err);
    if (m->cfg->driver == GW_DRIVER_MODBUS) {
        *rc = gw_mb_write_many(m->mb, w, n, NULL, err);
        return *rc == GW_OK || *rc == GW_E_DEVICE_REJECTED;
    }
    gw_s7_range *r = gw_calloc(n * 8 + 1, sizeof(*r));
    uint8_t *bits = gw_calloc(n * 8 + 1, 1);
    if (!r || !bits) {
        gw_free(r);
        gw_free(bits);
        *rc = gw_error_set(err, GW_E_NOMEM, "out of memory");
        return true;
    }
    size_t k = 0;
    size_t *owner = gw_calloc(n * 8 + 1, sizeof(size_t));
    for (size_t i = 0; owner && i < n; i++) {
        size_t got = gw_s7_ranges_for_write(&w[i], r + k, bits + k);
        for (size_t j = 0; j < got; j++)
            owner[k + j] = i;
        k += got;
    }
    /* S7CommPlus writes a bit as a read-modify-write of its byte, here on
     * the machine thread, where writes are serialised */
    if (!owner)
        *rc = gw_error_set(err, GW_E_NOMEM, "out of memory");
    else
        *rc = m->cfg->s7plus ? gw_s7p_write(m->s7p, r, k, err) : gw_s7_write(m->s7, r, k, err);
    for (size_t i = 0; *rc == GW_OK && i < k; i++)
        if (r[i].result != GW_OK) {
            const gw_tag *t = w[owner[i]].tag;
            *rc = gw_error_set(err, GW_E_DEVICE_REJECTED, "%s (%s): the PLC refused the write: %s",
                               t->parameter, t->key, r[i].item_rc
                                   ? gw_s7_item_rc_text(r[i].item_rc) : gw_err_str(r[i].result));
            gw_error_hint(err, "%s", gw_s7_item_rc_hint(r[i].item_rc));
        }
    gw_free(owner);
    gw_free(r);
    gw_free(bits);
    return *rc == GW_OK || *rc == GW_E_DEVICE_REJECTED;
}

/* The groups holding written tags are read again at once, so that a
 * reader sees a confirmed write in the next snapshot. */
static void rescan_written(machine *m, const gw_write *w, size_t n, uint64_t now)
{
    const gw_tag *first = gw_tagmap_at(m->cfg->tags, 0);
    for (size_t i = 0; first && i < n; i++) {
        size_t t = (size_t)(w[i].tag - first); /* tags are one array, in map order */
        for (size_t g = 0; t < m->n && g < m->ngroups; g++)
            if (m->groups[g].want[t])
                m->groups[g].next_ms = now;
    }
}

/* Is a the same write as b (tag, size, data)? */
static bool same_write(const gw_write *a, const gw_write *b)
{
    return a->tag == b->tag && a->n == b->n && a->bit == b->bit &&
           memcmp(a->regs, b->regs, sizeof(a->regs)) == 0 &&
           memcmp(a->regmask, b->regmask, sizeof(a->regmask)) == 0 &&
           memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0 &&
           memcmp(a->bytemask, b->bytemask, sizeof(a->bytemask)) == 0;
}

/* A confirmed write of exactly what a pending release would write (a jog
 * released by its client) has done that release: it is dropped, so the
 * PLC does not get it twice. A different value leaves it pending (a stop
 * pulse written again is still released). */
static void drop_done_releases(machine *m, const gw_write *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < m->nreleases; k++)
            if (same_write(&m->releases[k].w, &w[i])) {
                m->releases[k] = m->releases[--m->nreleases];
                break;
            }
}

/* Runs queued commands (urgent ones are at the front) and due releases;
 * false when the connection broke. */
static bool run_commands(machine *m, uint64_t now)
{
    for (;;) {
        pthread_mutex_lock(&m->cmd_lock);
        cmd *c = m->head;
        if (c) {
            m->head = c->next;
            if (!m->head)
                m->tail = NULL;
        }
        bool skip = c && c->cancelled;
        pthread_mutex_unlock(&m->cmd_lock);
        if (!c)
            break;
        if (skip) {
            cmd_finish(m, c, GW_E_TIMEOUT, NULL);
            continue;
        }
        gw_err rc;
        gw_error err;
        if (c->release && m->nreleases + c->n > MAX_RELEASES) {
            /* a pulse whose release could not be kept is not started */
            gw_error_set(&err, GW_E_BUSY, "machine %s: %d timed releases are pending; try again",
                         m->cfg->id, (int)m->nreleases);
            cmd_finish(m, c, GW_E_BUSY, &err);
            continue;
        }
        bool alive = do_writes(m, c->writes, c->n, &rc, &err);
        /* the hold counts from the PLC's confirmation, not from the
         * start of this pass, plus 1 ms for the clock's truncation to
         * whole milliseconds: the bit stays set at least hold_ms */
        now = gw_mono_ms();
        if (rc == GW_OK)
            rescan_written(m, c->writes, c->n, now);
        if (rc == GW_OK && !c->release)
            drop_done_releases(m, c->writes, c->n);
        if (rc == GW_OK && c->release) {
            /* a tag has one pending release: a newer write of it moves
             * the release (a renewed hold-to-run jog) instead of adding
             * one that would cut the new hold short */
            for (size_t i = 0; i < c->n; i++) {
                size_t k = 0;
                while (k < m->nreleases && m->releases[k].w.tag != c->release[i].tag)
                    k++;
                m->releases[k] = (timed_release){now + 1 + c->hold_ms, c->release[i]};
                if (k == m->nreleases)
                    m->nreleases++;
            }
        }
        cmd_finish(m, c, rc, &err);
        if (!alive) {
            disconnect(m, err.msg);
            return false;
        }
    }
    /* releases that are due, retried until the PLC confirms them */
    now = gw_mono_ms();
    for (size_t i = 0; i < m->nreleases;) {
        if (m->releases[i].due_ms > now) {
            i++;
            continue;
        }
        gw_err rc;
        gw_error err;
        bool alive = do_writes(m, &m->releases[i].w, 1, &rc, &err);
        if (!alive) {
            disconnect(m, err.msg);
            return false;
        }
        if (rc != GW_OK) {
            gw_log_warn(m->e->log, "engine", "machine %s: release of %s refused: %s; retrying",
                        m->cfg->id, m->releases[i].w.tag->parameter, err.msg);
            m->releases[i].due_ms = now + 100;
            i++;
            continue;
        }
        rescan_written(m, &m->releases[i].w, 1, now);
        m->releases[i] = m->releases[--m->nreleases];
    }
    return true;
}

gw_err gw_engine_write(gw_engine *e, const char *machine_id, const gw_write *writes,
                       const gw_write *release, size_t n, uint32_t hold_ms, bool urgent,
                       uint32_t timeout_ms, gw_error *err)
{
    machine *m = NULL;
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->m[i].cfg->id, machine_id) == 0)
            m = &e->m[i];
    if (!m)
        return gw_error_set(err, GW_E_NOT_FOUND, "no machine \"%s\"", machine_id);
    if (n == 0)
        return GW_OK;
    cmd *c = gw_calloc(1, sizeof(*c));
    if (c) {
        c->writes = gw_malloc(n * sizeof(gw_write));
        c->release = release ? gw_malloc(n * sizeof(gw_write)) : NULL;
    }
    if (!c || !c->writes || (release && !c->release)) {
        if (c) {
            gw_free(c->writes);
            gw_free(c->release);
        }
        gw_free(c);
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    }
    memcpy(c->writes, writes, n * sizeof(gw_write));
    if (release)
        memcpy(c->release, release, n * sizeof(gw_write));
    c->n = n;
    c->hold_ms = hold_ms;
    c->urgent = urgent;
    c->refs = 2; /* the caller and the machine thread */
    pthread_cond_init(&c->cv, NULL);
    pthread_mutex_lock(&m->cmd_lock);
    if (!m->connected_pub) {
        pthread_mutex_unlock(&m->cmd_lock);
        pthread_cond_destroy(&c->cv);
        gw_free(c->writes);
        gw_free(c->release);
        gw_free(c);
        const gw_snapshot *s = gw_engine_snapshot(e, m->cfg->id);
        gw_error_set(err, GW_E_CONN_LOST, "machine %s is not connected%s%s", m->cfg->id,
                     s && s->error[0] ? ": " : "", s ? s->error : "");
        gw_error_hint(err, "nothing was written; it reconnects by itself, "
                      "GET /api/machines/%s/status/connection follows it", m->cfg->id);
        gw_snapshot_release(s);
        return GW_E_CONN_LOST;
    }
    if (urgent) {
        c->next = m->head;
        m->head = c;
        if (!m->tail)
            m->tail = c;
    } else {
        if (m->tail)
            m->tail->next = c;
        else
            m->head = c;
        m->tail = c;
    }
    pthread_mutex_unlock(&m->cmd_lock);
    pthread_mutex_lock(&e->lock);
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    /* wait with a deadline: a caller never waits forever on a PLC */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)(timeout_ms % 1000) * 1000000L;
    ts.tv_sec += (time_t)(timeout_ms / 1000) + ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    pthread_mutex_lock(&m->cmd_lock);
    while (!c->done)
        if (pthread_cond_timedwait(&c->cv, &m->cmd_lock, &ts) != 0)
            break;
    gw_err rc;
    if (c->done) {
        rc = c->result;
        if (err && rc != GW_OK)
            *err = c->err;
    } else {
        c->cancelled = true; /* not begun yet: the thread drops it */
        rc = gw_error_set(err, GW_E_TIMEOUT, "machine %s: the PLC did not confirm the write "
                          "within %u ms", m->cfg->id, timeout_ms);
    }
    cmd_put(m, c);
    pthread_mutex_unlock(&m->cmd_lock);
    return rc;
}

/* Sleeps until until_ms, a stop, or a queued command. The queue is looked
 * at under e->lock, which gw_engine_write's wake-up also takes, so a
 * command queued just before the wait still wakes it (lock order: e->lock,
 * then cmd_lock). */
static void sleep_until(machine *m, uint64_t until_ms)
{
    gw_engine *e = m->e;
    uint64_t now = gw_mono_ms();
    if (until_ms <= now)
        return;
    uint64_t wait = until_ms - now;
    if (wait > 1000)
        wait = 1000;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)(wait % 1000) * 1000000L;
    ts.tv_sec += (time_t)(wait / 1000) + ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    pthread_mutex_lock(&e->lock);
    pthread_mutex_lock(&m->cmd_lock);
    bool queued = m->head != NULL || m->seq_pending || (m->prog && m->seq_cancel == m->prog->id);
    pthread_mutex_unlock(&m->cmd_lock);
    if (!atomic_load(&e->stop) && !queued)
        pthread_cond_timedwait(&e->wake, &e->lock, &ts);
    pthread_mutex_unlock(&e->lock);
}

static void seq_run(machine *m, uint64_t *next);

static void *machine_main(void *arg)
{
    machine *m = arg;
    gw_engine *e = m->e;
    while (!atomic_load(&e->stop)) {
        uint64_t now = gw_mono_ms();
        if (!m->connected) {
            if (now < m->next_try_ms || !try_connect(m, now)) {
                sleep_until(m, m->next_try_ms);
                continue;
            }
        }
        if (!run_commands(m, now))
            continue;
        uint64_t next = now + 1000;
        for (size_t i = 0; i < m->nreleases; i++)
            if (m->releases[i].due_ms < next)
                next = m->releases[i].due_ms;
        bool changed = false;
        for (size_t g = 0; g < m->ngroups && m->connected; g++) {
            scan_group *sg = &m->groups[g];
            uint32_t iv = atomic_load(&sg->override_ms);
            if (!iv)
                iv = sg->interval_ms;
            if (sg->next_ms > now + iv) /* made faster since: from now on */
                sg->next_ms = now;
            if (sg->next_ms <= now) {
                if (!scan(m, sg))
                    break;
                changed = true;
                /* keep the cadence; when far behind, start again from now */
                sg->next_ms += iv;
                if (sg->next_ms <= now)
                    sg->next_ms = now + iv;
            }
            if (sg->next_ms < next)
                next = sg->next_ms;
        }
        if (changed && m->connected)
            publish(m);
        if (m->connected)
            seq_run(m, &next);
        if (m->connected)
            sleep_until(m, next);
    }
    fail_queue(m, "the gateway is stopping");
    pthread_mutex_lock(&m->cmd_lock);
    if (!m->prog && m->seq_pending) {
        m->prog = m->seq_pending;
        m->seq_pending = NULL;
    }
    pthread_mutex_unlock(&m->cmd_lock);
    if (m->prog)
        seq_end(m, GW_SEQ_CANCELLED, GW_OK, "the gateway is stopping");
    if (m->s7)
        gw_s7_close(m->s7);
    if (m->s7p)
        gw_s7p_close(m->s7p);
    if (m->mb)
        gw_mb_close(m->mb);
    return NULL;
}

/* ---------------------------------------------------------------- sequences */

static void seq_free(sequence *q)
{
    if (!q)
        return;
    gw_free(q->steps);
    gw_free(q);
}

static void seq_event(machine *m, gw_seq_state state, bool wrote, double reading, gw_err rc,
                      const char *msg)
{
    sequence *q = m->prog;
    gw_seq_event ev = {q->id, q->i, state, wrote, reading, rc, msg};
    q->fn(q->ud, &ev);
}

/* The end of the running sequence: its last event, and it is gone. */
static void seq_end(machine *m, gw_seq_state state, gw_err rc, const char *msg)
{
    seq_event(m, state, false, NAN, rc, msg);
    pthread_mutex_lock(&m->cmd_lock);
    m->seq_busy = m->seq_pending ? m->seq_pending->id : 0;
    pthread_mutex_unlock(&m->cmd_lock);
    seq_free(m->prog);
    m->prog = NULL;
}

static scan_group *group_of(machine *m, size_t tag)
{
    for (size_t g = 0; g < m->ngroups; g++)
        if (m->groups[g].want[tag])
            return &m->groups[g];
    return &m->groups[0];
}

static const char *seq_tag(const machine *m, const seq_step *st)
{
    return gw_tagmap_at(m->cfg->tags, st->tag)->parameter;
}

/* The step's write; false when the sequence ended (failed). */
static bool seq_write(machine *m, seq_step *st, uint64_t now)
{
    gw_err rc;
    gw_error err;
    bool alive = do_writes(m, &st->w, 1, &rc, &err);
    if (rc != GW_OK) {
        char msg[600];
        snprintf(msg, sizeof(msg), "%s = %g: %s", seq_tag(m, st), st->value, err.msg);
        if (!alive) {
            disconnect(m, err.msg); /* ends the sequence: the connection was lost */
            return false;
        }
        seq_end(m, GW_SEQ_FAILED, rc, msg);
        return false;
    }
    rescan_written(m, &st->w, 1, now);
    return true;
}

/* Runs the sequence's steps that can run now; *next: when to come back. */
static void seq_run(machine *m, uint64_t *next)
{
    pthread_mutex_lock(&m->cmd_lock);
    if (!m->prog && m->seq_pending) {
        m->prog = m->seq_pending;
        m->seq_pending = NULL;
    }
    bool cancel = m->prog && m->seq_cancel == m->prog->id;
    pthread_mutex_unlock(&m->cmd_lock);
    if (cancel) {
        seq_end(m, GW_SEQ_CANCELLED, GW_OK, "cancelled");
        return;
    }
    for (int guard = 0; m->prog && m->connected && guard < 64; guard++) {
        sequence *q = m->prog;
        if (q->i == q->n) {
            seq_end(m, GW_SEQ_DONE, GW_OK, NULL);
            return;
        }
        seq_step *st = &q->steps[q->i];
        uint64_t now = gw_mono_ms();
        scan_group *sg = group_of(m, st->tag);
        if (!q->began) {
            q->began = true;
            q->t0 = now;
            q->scans0 = sg->scans;
            if (st->kind != GW_STEP_WRITE && st->kind != GW_STEP_WAIT)
                sg->next_ms = now; /* a fresh reading */
        }
        bool wrote = false;
        double reading = NAN;
        char msg[400];
        if (st->kind == GW_STEP_WAIT) {
            if (now < q->t0 + st->ms) {
                if (q->t0 + st->ms < *next)
                    *next = q->t0 + st->ms;
                return;
            }
        } else if (st->kind == GW_STEP_WRITE) {
            if (!seq_write(m, st, now))
                return;
            wrote = true;
        } else {
            if (sg->scans <= q->scans0) {
                *next = now; /* the group is due: read it first */
                return;
            }
            bool good = m->quality[st->tag] == GW_Q_GOOD;
            reading = good ? gw_value_as_double(&m->values[st->tag]) : NAN;
            bool equal = good && fabs(reading - st->value) <= 1e-9 * (fabs(st->value) + 1);
            if (st->kind == GW_STEP_WAIT_UNTIL && !equal) {
                if (now >= q->t0 + st->ms) {
                    snprintf(msg, sizeof(msg), "%s did not reach %g within %u ms (it reads %g)",
                             seq_tag(m, st), st->value, st->ms, reading);
                    seq_end(m, GW_SEQ_FAILED, GW_E_TIMEOUT, msg);
                    return;
                }
                q->scans0 = sg->scans; /* poll: read again in 100 ms */
                uint64_t again = now + 100 < q->t0 + st->ms ? now + 100 : q->t0 + st->ms;
                if (sg->next_ms > again)
                    sg->next_ms = again;
                if (again < *next)
                    *next = again;
                return;
            }
            if (st->kind == GW_STEP_EXPECT && !equal) {
                snprintf(msg, sizeof(msg), "%s reads %g, not %g", seq_tag(m, st), reading,
                         st->value);
                seq_end(m, GW_SEQ_FAILED, GW_E_INVAL, msg);
                return;
            }
            if (st->kind == GW_STEP_WRITE_UNLESS && !equal) {
                if (!seq_write(m, st, now))
                    return;
                wrote = true;
            }
        }
        seq_event(m, GW_SEQ_STEP, wrote, reading, GW_OK, NULL);
        q->i++;
        q->began = false;
        if (wrote) {
            /* the written group is read again and published first: what
             * comes next (and the end) sees the write in the snapshot */
            *next = now;
            return;
        }
        if (q->i == q->n) {
            seq_end(m, GW_SEQ_DONE, GW_OK, NULL);
            return;
        }
    }
}

gw_err gw_engine_sequence(gw_engine *e, const char *machine_id, const gw_step *steps, size_t n,
                          gw_seq_fn fn, void *ud, uint64_t *id, gw_error *err)
{
    machine *m = NULL;
    for (size_t i = 0; i < e->n && !m; i++)
        if (strcmp(e->m[i].cfg->id, machine_id) == 0)
            m = &e->m[i];
    if (!m)
        return gw_error_set(err, GW_E_NOT_FOUND, "no machine \"%s\"", machine_id);
    if (n == 0 || !fn)
        return gw_error_set(err, GW_E_INVAL, "a sequence needs steps and a function");
    sequence *q = gw_calloc(1, sizeof(*q));
    seq_step *ss = gw_calloc(n, sizeof(*ss));
    if (!q || !ss) {
        gw_free(q);
        gw_free(ss);
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    }
    q->steps = ss;
    q->n = n;
    q->fn = fn;
    q->ud = ud;
    const gw_tagmap *map = m->cfg->tags;
    for (size_t i = 0; i < n; i++) {
        const gw_tag *t = steps[i].tag ? gw_tagmap_find(map, steps[i].tag) : NULL;
        if (!t && (steps[i].kind != GW_STEP_WAIT || steps[i].tag)) {
            seq_free(q);
            return gw_error_set(err, GW_E_INVAL, "step %zu: no tag \"%s\" in the map of %s", i + 1,
                                steps[i].tag ? steps[i].tag : "", machine_id);
        }
        ss[i].kind = steps[i].kind;
        ss[i].tag = t ? (size_t)(t - gw_tagmap_at(map, 0)) : 0;
        ss[i].value = steps[i].value;
        ss[i].ms = steps[i].ms;
        if (steps[i].kind == GW_STEP_WRITE || steps[i].kind == GW_STEP_WRITE_UNLESS) {
            double x = steps[i].value;
            json_t *v = floor(x) == x && fabs(x) < 1e15 ? json_integer((json_int_t)x)
                                                         : json_real(x);
            gw_err rc = gw_tag_prepare_write(map, t, v, &ss[i].w, err);
            json_decref(v);
            if (rc != GW_OK) {
                seq_free(q);
                return rc;
            }
        }
    }
    pthread_mutex_lock(&m->cmd_lock);
    gw_err rc = GW_OK;
    if (!m->connected_pub)
        rc = gw_error_set(err, GW_E_CONN_LOST, "machine %s is not connected: %s", machine_id,
                          m->error);
    else if (m->seq_busy)
        rc = gw_error_set(err, GW_E_BUSY, "machine %s runs a sequence already", machine_id);
    if (rc == GW_OK) {
        q->id = atomic_fetch_add(&e->seq_ids, 1) + 1;
        m->seq_pending = q;
        m->seq_busy = q->id;
        *id = q->id;
    }
    pthread_mutex_unlock(&m->cmd_lock);
    if (rc != GW_OK) {
        seq_free(q);
        return rc;
    }
    pthread_mutex_lock(&e->lock);
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    return GW_OK;
}

gw_err gw_engine_sequence_cancel(gw_engine *e, const char *machine_id, uint64_t id)
{
    for (size_t i = 0; i < e->n; i++) {
        machine *m = &e->m[i];
        if (strcmp(m->cfg->id, machine_id) != 0)
            continue;
        pthread_mutex_lock(&m->cmd_lock);
        bool running = id && m->seq_busy == id;
        if (running)
            m->seq_cancel = id;
        pthread_mutex_unlock(&m->cmd_lock);
        if (!running)
            return GW_E_NOT_FOUND;
        pthread_mutex_lock(&e->lock);
        pthread_cond_broadcast(&e->wake);
        pthread_mutex_unlock(&e->lock);
        return GW_OK;
    }
    return GW_E_NOT_FOUND;
}

gw_err gw_engine_set_interval(gw_engine *e, const char *machine_id, const char *group,
                              uint32_t interval_ms)
{
    for (size_t i = 0; i < e->n; i++) {
        machine *m = &e->m[i];
        if (strcmp(m->cfg->id, machine_id) != 0)
            continue;
        for (size_t g = 0; g < m->ngroups; g++)
            if (strcmp(m->groups[g].name, group) == 0) {
                atomic_store(&m->groups[g].override_ms, interval_ms);
                pthread_mutex_lock(&e->lock);
                pthread_cond_broadcast(&e->wake);
                pthread_mutex_unlock(&e->lock);
                return GW_OK;
            }
        return GW_E_NOT_FOUND;
    }
    return GW_E_NOT_FOUND;
}

gw_err gw_engine_start(gw_engine *e, gw_error *err)
{
    e->started = true; /* subscribers are fixed from here on */
    for (size_t i = 0; i < e->n; i++) {
        machine *m = &e->m[i];
        if (pthread_create(&m->thread, NULL, machine_main, m) != 0)
            return gw_error_set(err, GW_E_IO, "cannot start the thread of machine %s", m->cfg->id);
        m->started = true;
    }
    return GW_OK;
}

void gw_engine_free(gw_engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    atomic_store(&e->stop, true);
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    for (size_t i = 0; i < e->n; i++)
        if (e->m[i].started)
            pthread_join(e->m[i].thread, NULL);
    for (size_t i = 0; i < e->n; i++)
        machine_clear(&e->m[i]);
    gw_free(e->m);
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->lock);
    gw_free(e);
}
