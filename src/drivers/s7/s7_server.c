/*
 * s7_server.c - an S7comm server (a soft PLC) for the simulator and tests.
 *
 * The TCP side (sockets, one thread, faults) is core's gw_tcpsrv; this
 * file is the protocol: each connection has its own COTP state and
 * negotiated PDU (an s7_session).
 * Memory areas (DB n, M, I, Q) are byte arrays behind one mutex, which the
 * thread holds while it serves one PDU, so a multi-item write is atomic to
 * the soft devices reading through gw_s7_server_get. Bit writes change
 * only their bit. Anything malformed gets an error reply or a clean close,
 * never a read out of bounds.
 */
#include "s7_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SRV_AMQ 8u

/* ---------------------------------------------------------------- set-up */

static bool tcp_open(void *user, gw_conn *c);
static bool tcp_serve(void *user, gw_conn *c, const uint8_t *frame, size_t len);
static size_t tcp_error_reply(void *user, const uint8_t *frame, size_t len, uint8_t *out,
                              size_t cap);
static void tcp_close(void *user, gw_conn *c);

gw_err gw_s7_server_new(const gw_s7_server_opts *opts, gw_s7_server **out, gw_error *err)
{
    *out = NULL;
    gw_s7_server *s = gw_calloc(1, sizeof(*s));
    if (!s)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    s->opts = *opts;
    snprintf(s->host, sizeof(s->host), "%s", opts->host ? opts->host : "127.0.0.1");
    /* a CPU 1214C DC/DC/DC, as seed 000's rig has */
    snprintf(s->order_code, sizeof(s->order_code), "%s",
             opts->order_code ? opts->order_code : "6ES7 214-1AG40-0XB0");
    snprintf(s->firmware, sizeof(s->firmware), "%s", opts->firmware ? opts->firmware : "V4.2.1");
    snprintf(s->module_name, sizeof(s->module_name), "%s",
             opts->module_name ? opts->module_name : "CPU 1214C DC/DC/DC");
    snprintf(s->station_name, sizeof(s->station_name), "%s",
             opts->station_name ? opts->station_name : "S71200/ET200MP station_1");
    snprintf(s->plc_name, sizeof(s->plc_name), "%s", opts->plc_name ? opts->plc_name : "PLC_1");
    snprintf(s->serial, sizeof(s->serial), "%s", opts->serial ? opts->serial : "S C-PLCGW0000001");
    snprintf(s->password, sizeof(s->password), "%s", opts->password ? opts->password : "");
    s->opts.host = s->host;
    s->opts.order_code = s->order_code;
    s->opts.firmware = s->firmware;
    s->opts.module_name = s->module_name;
    s->opts.station_name = s->station_name;
    s->opts.plc_name = s->plc_name;
    s->opts.serial = s->serial;
    s->opts.password = NULL;     /* s->password is the one in force */
    s->opts.blocks = NULL;       /* copied into the block store */
    s->opts.nblocks = 0;
    if (!s->opts.timers)
        s->opts.timers = 256;
    if (!s->opts.counters)
        s->opts.counters = 256;
    s->started_ms = gw_wall_ms();
    if (!s->opts.max_pdu || s->opts.max_pdu > S7_SRV_PDU_MAX)
        s->opts.max_pdu = S7_SRV_PDU_MAX;
    if (s->opts.max_pdu < S7_SRV_PDU_MIN)
        s->opts.max_pdu = S7_SRV_PDU_MIN;
    if (!s->opts.max_clients)
        s->opts.max_clients = 8;
    /* like a CPU, answer as many items as fit the PDU; max_items imitates
     * devices with a fixed limit */
    if (!s->opts.max_items)
        s->opts.max_items = 255;
    s->cpu_state = GW_S7_CPU_RUN;
    pthread_mutex_init(&s->lock, NULL);
    s->tx = gw_malloc(S7_SRV_TX_CAP);
    s->timers = gw_calloc(s->opts.timers, 2);
    s->counters = gw_calloc(s->opts.counters, 2);
    gw_tcpsrv_opts to = {"s7", s->host, opts->port, s->opts.max_clients, S7_SRV_IN_CAP, opts->log,
                         {tcp_open, s7_iso_tcp_frame, tcp_serve, tcp_error_reply, tcp_close}, s};
    if (!s->tx || !s->timers || !s->counters || s7__blocks_new(s, opts->blocks, opts->nblocks) != GW_OK ||
        gw_tcpsrv_new(&to, &s->tcp) != GW_OK) {
        gw_s7_server_free(s);
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    }
    *out = s;
    return GW_OK;
}

gw_err gw_s7_server_add_area(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t size)
{
    if (size == 0 || size > 0x200000u || (area == GW_S7_DB && db == 0))
        return GW_E_INVAL;
    if (area != GW_S7_DB)
        db = 0;
    pthread_mutex_lock(&s->lock);
    gw_err rc = GW_OK;
    for (size_t i = 0; i < s->nareas; i++)
        if (s->areas[i].area == area && s->areas[i].db == db)
            rc = GW_E_BUSY;
    uint8_t *mem = rc == GW_OK ? gw_calloc(size, 1) : NULL;
    s7_srv_area *na = mem ? gw_realloc(s->areas, (s->nareas + 1) * sizeof(*na)) : NULL;
    if (rc == GW_OK && !na) {
        gw_free(mem);
        rc = GW_E_NOMEM;
    }
    if (rc == GW_OK) {
        s->areas = na;
        s->areas[s->nareas++] = (s7_srv_area){area, db, size, mem, 0};
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

s7_srv_area *s7__find_area(gw_s7_server *s, gw_s7_area area, uint16_t db)
{
    if (area != GW_S7_DB)
        db = 0;
    for (size_t i = 0; i < s->nareas; i++)
        if (s->areas[i].area == area && s->areas[i].db == db)
            return &s->areas[i];
    return NULL;
}

gw_err gw_s7_server_get(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t start,
                        uint32_t len, uint8_t *out)
{
    pthread_mutex_lock(&s->lock);
    s7_srv_area *a = s7__find_area(s, area, db);
    gw_err rc = !a ? GW_E_NOT_FOUND : (uint64_t)start + len > a->size ? GW_E_RANGE : GW_OK;
    if (rc == GW_OK)
        memcpy(out, a->mem + start, len);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gw_err gw_s7_server_set(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t start,
                        uint32_t len, const uint8_t *in)
{
    pthread_mutex_lock(&s->lock);
    s7_srv_area *a = s7__find_area(s, area, db);
    gw_err rc = !a ? GW_E_NOT_FOUND : (uint64_t)start + len > a->size ? GW_E_RANGE : GW_OK;
    if (rc == GW_OK)
        memcpy(a->mem + start, in, len);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gw_err gw_s7_server_update(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t start,
                           uint32_t len, const uint8_t *in, const uint8_t *mask)
{
    pthread_mutex_lock(&s->lock);
    s7_srv_area *a = s7__find_area(s, area, db);
    gw_err rc = !a ? GW_E_NOT_FOUND : (uint64_t)start + len > a->size ? GW_E_RANGE : GW_OK;
    for (uint32_t i = 0; rc == GW_OK && i < len; i++)
        a->mem[start + i] = (uint8_t)((a->mem[start + i] & ~mask[i]) | (in[i] & mask[i]));
    pthread_mutex_unlock(&s->lock);
    return rc;
}

gw_err gw_s7_server_client_write(gw_s7_server *s, gw_s7_area area, uint16_t db, uint32_t start,
                                 uint32_t len, const uint8_t *in, int bit, const char *peer)
{
    if (len == 0 || bit > 7 || (bit >= 0 && len != 1))
        return GW_E_INVAL;
    uint8_t *before = gw_malloc(2u * len);
    if (!before)
        return GW_E_NOMEM;
    uint8_t *after = before + len;
    pthread_mutex_lock(&s->lock);
    s7_srv_area *a = s7__find_area(s, area, db);
    gw_err rc = !a ? GW_E_NOT_FOUND : (uint64_t)start + len > a->size ? GW_E_RANGE : GW_OK;
    if (rc == GW_OK) {
        memcpy(before, a->mem + start, len);
        if (bit >= 0) {
            uint8_t mask = (uint8_t)(1u << bit);
            a->mem[start] = (uint8_t)((in[0] & 1u) ? a->mem[start] | mask : a->mem[start] & ~mask);
        } else {
            memcpy(a->mem + start, in, len);
        }
        memcpy(after, a->mem + start, len);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc == GW_OK && s->opts.on_write) {
        gw_s7_write_event ev = {area, area == GW_S7_DB ? db : 0, start, len, bit, before, after,
                                peer};
        s->opts.on_write(s->opts.user, &ev);
    }
    gw_free(before);
    return rc;
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

size_t gw_s7_server_dbs(gw_s7_server *s, uint16_t *numbers, uint32_t *sizes, size_t cap)
{
    pthread_mutex_lock(&s->lock);
    size_t n = 0;
    for (size_t i = 0; i < s->nareas; i++)
        n += s->areas[i].area == GW_S7_DB;
    uint16_t *all = gw_malloc((n ? n : 1) * sizeof(*all));
    size_t k = 0;
    for (size_t i = 0; all && i < s->nareas; i++)
        if (s->areas[i].area == GW_S7_DB)
            all[k++] = s->areas[i].db;
    if (all)
        qsort(all, k, sizeof(*all), cmp_u16);
    for (size_t i = 0; all && i < k && i < cap; i++) {
        numbers[i] = all[i];
        if (sizes)
            sizes[i] = s7__find_area(s, GW_S7_DB, all[i])->size;
    }
    pthread_mutex_unlock(&s->lock);
    gw_free(all);
    return all ? n : 0;
}

void s7__server_emulate_snap7_writes(gw_s7_server *s, bool on)
{
    pthread_mutex_lock(&s->lock);
    s->snap7_writes = on;
    pthread_mutex_unlock(&s->lock);
}

void gw_s7_server_set_cpu_state(gw_s7_server *s, gw_s7_cpu_state state)
{
    pthread_mutex_lock(&s->lock);
    s->cpu_state = state;
    pthread_mutex_unlock(&s->lock);
}

gw_s7_cpu_state gw_s7_server_cpu_state(gw_s7_server *s)
{
    pthread_mutex_lock(&s->lock);
    gw_s7_cpu_state st = s->cpu_state;
    pthread_mutex_unlock(&s->lock);
    return st;
}

size_t gw_s7_server_clients(gw_s7_server *s)
{
    return gw_tcpsrv_clients(s->tcp);
}

uint16_t gw_s7_server_port(const gw_s7_server *s)
{
    return gw_tcpsrv_port(s->tcp);
}

gw_tcpsrv *gw_s7_server_tcp(gw_s7_server *s)
{
    return s->tcp;
}

/* ---------------------------------------------------------------- clients */

gw_err s7__session_init(s7_session *c, const char *peer, uint16_t ref)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    c->pdu_len = S7_SRV_PDU_MIN;
    /* DT fragments joined up to any PDU we negotiate, with room to spare */
    return s7_iso_srv_init(&c->iso, ref, S7_SRV_PDU_MAX + 64u);
}

void s7__session_clear(s7_session *c)
{
    s7__szl_session_free(c);
    s7__blocks_session_free(c);
    s7_iso_srv_clear(&c->iso);
}

/* Header-only ack_data carrying an error class and code. */
size_t s7__reply_error(gw_s7_server *s, uint16_t ref, uint8_t rosctr, uint8_t err_class,
                          uint8_t err_code)
{
    size_t h = s7_header_encode(s->tx + S7_FRAME_HDR, rosctr, ref, 0, 0, err_class, err_code);
    return s7_frame_dt(s->tx, h);
}

/* Where an item's bytes are: `mem` (its first byte), and the memory area
 * for write events (NULL for timers and counters). */
typedef struct {
    s7_srv_area *area;
    uint8_t *mem;
    uint32_t start;       /* byte offset in the area (timer/counter x 2) */
    uint32_t len;
} item_loc;

/* Timers and counters (docs/s7comm.md 15): the address is the timer or
 * counter number, two bytes each; the area and the transport size must
 * agree, as a CPU and snap7's server check. */
static uint8_t check_tm_ct(gw_s7_server *s, const s7_item *it, item_loc *loc)
{
    bool tm = it->area == S7_AREA_TIMER;
    if (it->tsize != (tm ? S7_TS_TIMER : S7_TS_COUNTER))
        return S7_RC_OUT_OF_RANGE;
    uint32_t have = tm ? s->opts.timers : s->opts.counters;
    if (it->count == 0 || (uint64_t)it->bitaddr + it->count > have)
        return S7_RC_OUT_OF_RANGE;
    *loc = (item_loc){NULL, (tm ? s->timers : s->counters) + 2u * it->bitaddr, 2u * it->bitaddr,
                      2u * it->count};
    return S7_RC_OK;
}

static uint8_t check_item(gw_s7_server *s, const s7_item *it, item_loc *loc)
{
    gw_s7_area a;
    switch (it->area) {
    case S7_AREA_DB: a = GW_S7_DB; break;
    case S7_AREA_DI: a = GW_S7_DB; break; /* instance DBs share the DB numbers */
    case S7_AREA_M: a = GW_S7_M; break;
    case S7_AREA_I: a = GW_S7_I; break;
    case S7_AREA_Q: a = GW_S7_Q; break;
    case S7_AREA_TIMER:
    case S7_AREA_COUNTER: return check_tm_ct(s, it, loc);
    default: return S7_RC_NO_OBJECT;
    }
    size_t bytes = s7_item_bytes(it->tsize, it->count);
    if (bytes == 0)
        return it->count == 0 ? S7_RC_OUT_OF_RANGE : S7_RC_TYPE_UNSUPPORTED;
    /* timer and counter sizes only on their areas */
    if (it->tsize == S7_TS_TIMER || it->tsize == S7_TS_COUNTER)
        return S7_RC_OUT_OF_RANGE;
    /* one bit at a time; a bit count is an invalid address (docs/s7comm.md 7) */
    if (it->tsize == S7_TS_BIT && it->count != 1)
        return S7_RC_OUT_OF_RANGE;
    if (it->tsize != S7_TS_BIT && (it->bitaddr & 7u))
        return S7_RC_OUT_OF_RANGE;
    s7_srv_area *found = s7__find_area(s, a, it->db);
    if (!found)
        return S7_RC_NO_OBJECT;
    uint32_t st = it->bitaddr >> 3;
    if ((uint64_t)st + bytes > found->size)
        return S7_RC_OUT_OF_RANGE;
    *loc = (item_loc){found, found->mem + st, st, (uint32_t)bytes};
    return S7_RC_OK;
}

static size_t serve_setup(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    s7_setup req;
    if (s7_setup_decode_param(h->param, h->param_len, &req) != GW_OK)
        return s7__reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x84, 0x04);
    uint16_t pdu = req.pdu_len < s->opts.max_pdu ? req.pdu_len : s->opts.max_pdu;
    if (pdu < S7_SRV_PDU_MIN)
        pdu = S7_SRV_PDU_MIN;
    s7_setup ans = {req.amq_calling < SRV_AMQ ? req.amq_calling : SRV_AMQ,
                    req.amq_called < SRV_AMQ ? req.amq_called : SRV_AMQ, pdu};
    if (!ans.amq_calling)
        ans.amq_calling = 1;
    if (!ans.amq_called)
        ans.amq_called = 1;
    c->pdu_len = pdu;
    c->setup_done = true;
    uint8_t *p = s->tx + S7_FRAME_HDR;
    size_t hl = s7_header_encode(p, S7_ACK_DATA, h->pdu_ref, S7_SETUP_PARAM, 0, 0, 0);
    s7_setup_encode_param(p + hl, &ans);
    gw_log_write(s->opts.log, GW_LOG_DEBUG, "s7", "server: %s negotiated PDU %u", c->peer, pdu);
    return s7_frame_dt(s->tx, hl + S7_SETUP_PARAM);
}

static size_t serve_read(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    s7_item items[255];
    size_t n;
    gw_err rc = s7_decode_items(h->param, h->param_len, items, 255, &n);
    if (rc != GW_OK || n == 0)
        return s7__reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x84, 0x04);
    if (n > s->opts.max_items || S7_READ_REQ_SIZE(n) > c->pdu_len)
        return s7__reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x85, 0x00);
    s7_data out[255];
    uint8_t bits[255];
    uint16_t lens[255];
    for (size_t i = 0; i < n; i++) {
        item_loc loc;
        uint8_t code = check_item(s, &items[i], &loc);
        out[i] = (s7_data){code, S7_DTS_NULL, NULL, 0};
        if (code == S7_RC_OK && items[i].tsize == S7_TS_BIT) {
            bits[i] = (loc.mem[0] >> (items[i].bitaddr & 7u)) & 1u;
            out[i] = (s7_data){code, S7_DTS_BIT, &bits[i], 1};
        } else if (code == S7_RC_OK) {
            out[i] = (s7_data){code, s7_reply_dts(items[i].tsize), loc.mem, (uint16_t)loc.len};
        }
        lens[i] = out[i].len;
    }
    /* the answer must fit the PDU this client negotiated */
    if (s7_read_reply_size(lens, n) > c->pdu_len)
        return s7__reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x85, 0x00);
    uint8_t *p = s->tx + S7_FRAME_HDR;
    uint8_t *d = p + S7_HDR_ACK + 2;
    size_t dlen = s7_encode_data(d, S7_SRV_IN_CAP - S7_FRAME_HDR - S7_HDR_ACK - 2, out, n);
    size_t hl = s7_header_encode(p, S7_ACK_DATA, h->pdu_ref, 2, (uint16_t)dlen, 0, 0);
    p[hl] = S7_FN_READ;
    p[hl + 1] = (uint8_t)n;
    return s7_frame_dt(s->tx, hl + 2 + dlen);
}

/* Carries out one item of a Write Var; returns its item return code. */
static uint8_t write_item(gw_s7_server *s, const s7_item *it, const s7_data *d)
{
    item_loc loc;
    uint8_t code = check_item(s, it, &loc);
    if (code != S7_RC_OK)
        return code;
    bool is_bit = it->tsize == S7_TS_BIT;
    uint32_t len = loc.len;
    if (is_bit ? (d->dts != S7_DTS_BIT || d->len != 1) : d->len != len)
        return S7_RC_TYPE_INCONSISTENT;
    /* keep the bytes before and after for the write event (memory areas;
     * timers and counters are not reported) */
    bool keep = loc.area && s->nwrites < S7_SRV_MAX_WRITES &&
                s->wbuf_len + 2u * len <= S7_SRV_WBUF;
    s7_srv_write *w = keep ? &s->writes[s->nwrites++] : NULL;
    if (w) {
        *w = (s7_srv_write){loc.area->area, loc.area->db, loc.start, len,
                            is_bit ? (int)(it->bitaddr & 7u) : -1, s->wbuf_len};
        memcpy(s->wbuf + w->off, loc.mem, len);
    }
    if (is_bit) {
        uint8_t mask = (uint8_t)(1u << (it->bitaddr & 7u));
        if (d->bytes[0] & 1u)
            loc.mem[0] |= mask;
        else
            loc.mem[0] &= (uint8_t)~mask;
    } else {
        memcpy(loc.mem, d->bytes, len);
    }
    if (w) {
        memcpy(s->wbuf + w->off + len, loc.mem, len);
        s->wbuf_len += 2u * len;
    } else if (loc.area) {
        gw_log_write(s->opts.log, GW_LOG_ERROR, "s7", "server: more writes in one PDU "
                     "than reported; %u bytes at %u not reported", len, loc.start);
    }
    return S7_RC_OK;
}

static size_t serve_write(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    s7_item items[255];
    s7_data data[255];
    size_t n;
    gw_err rc = s7_decode_items(h->param, h->param_len, items, 255, &n);
    if (rc != GW_OK || n == 0 || s7_decode_data(h->data, h->data_len, n, data) != GW_OK)
        return s7__reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x84, 0x04);
    if (n > s->opts.max_items)
        return s7__reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x85, 0x00);
    /* emulating python-snap7's server: only the first item is written and
     * answered (docs/s7comm.md 7.1) */
    if (s->snap7_writes)
        n = 1;
    /* a CPU protected by a password refuses a session that has not given
     * it every write, item by item (docs/s7comm.md 16) */
    bool may = s7__session_may_write(s, c);
    uint8_t codes[255];
    for (size_t i = 0; i < n; i++)
        codes[i] = may ? write_item(s, &items[i], &data[i]) : S7_RC_ACCESS;
    uint8_t *p = s->tx + S7_FRAME_HDR;
    size_t hl = s7_header_encode(p, S7_ACK_DATA, h->pdu_ref, 2, (uint16_t)n, 0, 0);
    p[hl] = S7_FN_WRITE;
    p[hl + 1] = (uint8_t)n;
    memcpy(p + hl + 2, codes, n);
    return s7_frame_dt(s->tx, hl + 2 + n);
}

/* ---------------------------------------------------------------- replies */

uint8_t *s7__ack_param(gw_s7_server *s)
{
    return s->tx + S7_FRAME_HDR + S7_HDR_ACK;
}

size_t s7__ack_finish(gw_s7_server *s, uint16_t ref, size_t param_len, size_t data_len)
{
    size_t hl = s7_header_encode(s->tx + S7_FRAME_HDR, S7_ACK_DATA, ref, (uint16_t)param_len,
                                 (uint16_t)data_len, 0, 0);
    return s7_frame_dt(s->tx, hl + param_len + data_len);
}

/* userdata answers: header (10), parameter (12), data */
#define UD_PARAM 12u

uint8_t *s7__ud_data(gw_s7_server *s)
{
    return s->tx + S7_FRAME_HDR + S7_HDR_JOB + UD_PARAM;
}

size_t s7__ud_finish(gw_s7_server *s, uint16_t ref, const s7_userdata_param *up, uint8_t seq,
                     uint8_t dur, bool more, uint16_t err_code, size_t data_len)
{
    uint8_t *q = s->tx + S7_FRAME_HDR + S7_HDR_JOB;
    q[0] = 0x00;
    q[1] = 0x01;
    q[2] = 0x12;
    q[3] = 0x08;               /* length of what follows */
    q[4] = 0x12;               /* syntax id: ParameterExtended */
    q[5] = (uint8_t)(0x80 | (up->type_group & 0x0F)); /* type 2 (response) */
    q[6] = up->subfunction;
    q[7] = seq;
    q[8] = dur;
    q[9] = more ? 0x01 : 0x00;
    q[10] = (uint8_t)(err_code >> 8);
    q[11] = (uint8_t)err_code;
    size_t hl = s7_header_encode(s->tx + S7_FRAME_HDR, S7_USERDATA, ref, UD_PARAM,
                                 (uint16_t)data_len, 0, 0);
    return s7_frame_dt(s->tx, hl + UD_PARAM + data_len);
}

size_t s7__ud_error(gw_s7_server *s, uint16_t ref, const s7_userdata_param *up,
                    uint16_t err_code)
{
    uint8_t *d = s7__ud_data(s);
    d[0] = S7_RC_NO_OBJECT;
    d[1] = S7_DTS_NULL;
    d[2] = 0;
    d[3] = 0;
    return s7__ud_finish(s, ref, up, up->seq, 0, false, err_code, 4);
}

size_t s7__append_job(gw_s7_server *s, size_t at, uint16_t ref, const uint8_t *param,
                      size_t param_len, const uint8_t *data, size_t data_len)
{
    if (at + S7_FRAME_HDR + S7_HDR_JOB + param_len + data_len > S7_SRV_TX_CAP)
        return at;
    uint8_t *f = s->tx + at;
    size_t hl = s7_header_encode(f + S7_FRAME_HDR, S7_JOB, ref, (uint16_t)param_len,
                                 (uint16_t)data_len, 0, 0);
    memcpy(f + S7_FRAME_HDR + hl, param, param_len);
    if (data_len)
        memcpy(f + S7_FRAME_HDR + hl + param_len, data, data_len);
    return at + s7_frame_dt(f, hl + param_len + data_len);
}

/* ---------------------------------------------------------------- dispatch */

static size_t serve_userdata(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    s7_userdata_param up;
    if (s7_decode_userdata_param(h->param, h->param_len, &up) != GW_OK) {
        /* no group or subfunction to answer under: an Ack_Data with
         * "the function cannot be performed" (docs/s7comm.md 12) */
        return s7__reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x84, 0x04);
    }
    switch (up.type_group & 0x0F) {
    case S7_UD_BLOCK: return s7__serve_block_functions(s, c, h, &up);
    case S7_UD_CPU: return s7__serve_cpu_functions(s, c, h, &up);
    case S7_UD_SECURITY: return s7__serve_security(s, c, h, &up);
    case S7_UD_TIME: return s7__serve_time(s, c, h, &up);
    default: return s7__ud_error(s, h->pdu_ref, &up, 0x8104); /* function not supported */
    }
}

static size_t serve_job(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    if (h->param_len < 1)
        return s7__reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x84, 0x04);
    uint8_t fn = h->param[0];
    if (fn == S7_FN_SETUP)
        return serve_setup(s, c, h);
    if (!c->setup_done)
        return s7__reply_error(s, h->pdu_ref, S7_ACK, 0x81, 0x04);
    size_t out;
    switch (fn) {
    case S7_FN_READ:
    case S7_FN_WRITE:
        pthread_mutex_lock(&s->lock);
        out = fn == S7_FN_READ ? serve_read(s, c, h) : serve_write(s, c, h);
        pthread_mutex_unlock(&s->lock);
        return out;
    case S7_FN_REQ_DOWNLOAD:
    case S7_FN_DOWNLOAD_END:
    case S7_FN_UPLOAD_START:
    case S7_FN_UPLOAD:
    case S7_FN_UPLOAD_END:
        return s7__serve_block_job(s, c, h);
    case S7_FN_PI: return s7__serve_pi(s, c, h);
    case S7_FN_STOP: return s7__serve_stop(s, c, h);
    default:
        /* a function we do not serve: a bare Ack with 0x8104, the answer
         * a CPU gives (docs/s7comm.md 9, 12) */
        return s7__reply_error(s, h->pdu_ref, S7_ACK, 0x81, 0x04);
    }
}

/* Serves one complete S7 PDU; returns false to drop the client. */
static bool serve_pdu(gw_s7_server *s, s7_session *c, const uint8_t *pdu, size_t len,
                      const uint8_t **reply, size_t *reply_len)
{
    s7_header h;
    if (s7_header_decode(pdu, len, &h) != GW_OK) {
        gw_log_write(s->opts.log, GW_LOG_WARN, "s7", "server: %s sent a malformed S7 header",
                     c->peer);
        return false;
    }
    size_t out = 0;
    if (h.rosctr == S7_JOB)
        out = serve_job(s, c, &h);
    else if (h.rosctr == S7_USERDATA && c->setup_done)
        out = serve_userdata(s, c, &h);
    else if (h.rosctr == S7_ACK_DATA && c->setup_done)
        out = s7__serve_block_ack(s, c, &h); /* the client's part of a download */
    if (out == 0) {
        gw_log_write(s->opts.log, GW_LOG_WARN, "s7", "server: %s sent an S7 PDU we do not "
                     "serve (type %u)", c->peer, h.rosctr);
        return false;
    }
    *reply = s->tx;
    *reply_len = out;
    return true;
}

/* The CC: TPDU size the CR's when 128..512, else 1024; both TSAPs echoed
 * as a CPU does (nodes7 checks that a CC carries them: docs/s7comm.md
 * 2.1), 0x0100 and 0x0102 when the CR has none. */
static const s7_iso_accept s7_accept = {0x0A, true, {2, {0x01, 0x00}}, {2, {0x01, 0x02}}};

bool s7__serve_packet(gw_s7_server *s, s7_session *c, const uint8_t *frame, size_t len,
                      const uint8_t **reply, size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    s->nwrites = 0;
    s->wbuf_len = 0;
    const uint8_t *pdu;
    size_t pdu_len;
    s7_iso_srv_step step = s7_iso_srv_packet(&c->iso, &s7_accept, frame, len, s->tx,
                                             S7_SRV_IN_CAP, reply_len, &pdu, &pdu_len);
    c->cotp_up = c->iso.up;
    *reply = *reply_len ? s->tx : NULL;
    switch (step) {
    case S7_ISO_SRV_BAD:
        gw_log_write(s->opts.log, GW_LOG_WARN, "s7", "server: %s sent a malformed COTP packet",
                     c->peer);
        return false;
    case S7_ISO_SRV_CLOSE:
        return false;
    case S7_ISO_SRV_KEEP:
        return true;
    case S7_ISO_SRV_PDU:
        break;
    }
    return serve_pdu(s, c, pdu, pdu_len, reply, reply_len);
}

void s7__fire_writes(gw_s7_server *s, const char *peer)
{
    for (size_t i = 0; i < s->nwrites && s->opts.on_write; i++) {
        const s7_srv_write *w = &s->writes[i];
        gw_s7_write_event ev = {w->area, w->db, w->start, w->len, w->bit, s->wbuf + w->off,
                                s->wbuf + w->off + w->len, peer};
        s->opts.on_write(s->opts.user, &ev);
    }
    s->nwrites = 0;
    s->wbuf_len = 0;
}

/* ---------------------------------------------------------------- tcpsrv */

static bool tcp_open(void *user, gw_conn *c)
{
    gw_s7_server *s = user;
    s7_session *sess = gw_malloc(sizeof(*sess));
    if (!sess || s7__session_init(sess, gw_conn_peer(c), (uint16_t)(0x4400 + s->next_ref++)) != GW_OK) {
        gw_free(sess);
        return false;
    }
    gw_conn_set_user(c, sess);
    return true;
}

static void tcp_close(void *user, gw_conn *c)
{
    (void)user;
    s7_session *sess = gw_conn_user(c);
    if (sess) {
        s7__session_clear(sess);
        gw_free(sess);
    }
}

static bool tcp_serve(void *user, gw_conn *c, const uint8_t *frame, size_t len)
{
    gw_s7_server *s = user;
    s7_session *sess = gw_conn_user(c);
    const uint8_t *reply;
    size_t reply_len;
    bool keep = s7__serve_packet(s, sess, frame, len, &reply, &reply_len);
    if (reply_len)
        gw_conn_reply(c, reply, reply_len);
    s7__fire_writes(s, sess->peer);
    return keep;
}

/* The ERROR fault: a connection request gets a disconnect, a job a bare
 * Ack with class 0x84 code 0x04, "the function cannot be performed"
 * (docs/s7comm.md 9). */
static size_t tcp_error_reply(void *user, const uint8_t *frame, size_t len, uint8_t *out,
                              size_t cap)
{
    (void)user;
    s7_cotp cotp;
    size_t dr = s7_iso_error_reply(frame, len, out, cap, &cotp);
    if (dr)
        return dr;
    s7_header h;
    if (cotp.type != S7_COTP_DT || s7_header_decode(cotp.payload, cotp.payload_len, &h) != GW_OK ||
        cap < S7_FRAME_HDR + S7_HDR_ACK)
        return 0;
    size_t hl = s7_header_encode(out + S7_FRAME_HDR, S7_ACK, h.pdu_ref, 0, 0, 0x84, 0x04);
    return s7_frame_dt(out, hl);
}

gw_err gw_s7_server_start(gw_s7_server *s, gw_error *err)
{
    return gw_tcpsrv_start(s->tcp, err);
}

void gw_s7_server_free(gw_s7_server *s)
{
    if (!s)
        return;
    gw_tcpsrv_free(s->tcp);
    for (size_t i = 0; i < s->nareas; i++)
        gw_free(s->areas[i].mem);
    gw_free(s->areas);
    gw_free(s->timers);
    gw_free(s->counters);
    s7__blocks_free(s);
    gw_free(s->tx);
    pthread_mutex_destroy(&s->lock);
    gw_free(s);
}
