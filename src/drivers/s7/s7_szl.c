/*
 * s7_szl.c - the S7 server's CPU functions (userdata group 4): system
 * state lists (docs/s7comm.md 11).
 *
 * Design: each list is built whole (SZL header + records) into a bounded
 * buffer from the simulated CPU's state, under the server lock. An answer
 * that fits the session's PDU goes out in one userdata answer. A longer one
 * is kept in the session (struct s7_szl_pending, SZL_MAX bytes at most) and
 * sent in parts as a CPU does (docs/s7comm.md 11.8): the first part under a
 * sequence number and data unit reference the server assigns, "more
 * follows" (last data unit 0x01); each follow-up request carrying that
 * sequence number gets the next part; the last part has last data unit
 * 0x00 and ends the sequence. A new SZL request abandons an unfinished one;
 * a follow-up that names no pending answer gets an error, never stale data.
 * Nothing here is canned: an ID or index we cannot answer truthfully from
 * the simulated CPU gets 0xD402 (docs/s7comm.md 11.2).
 */
#include "s7_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SZL_MAX 1024u /* the longest list: 0x00A0 with S7_DIAG_MAX entries, 8 + 20 x 32 */
#define SZL_HDR 8u    /* SZL-ID, index, LENTHDR, N_DR (docs/s7comm.md 11.2) */
/* per answer: S7 header (10), userdata parameter (12), FF 09 + length (4) */
#define SZL_PART_OVERHEAD (S7_HDR_JOB + 12u + 4u)
#define SZL_ERR_NOT_AVAIL 0xD402u  /* information function unavailable (docs 9, 11.2) */
#define SZL_ERR_BAD_REQ 0x8104u    /* not a request we serve (docs 9) */
#define SZL_ERR_SEQ 0xD001u        /* no such job: illegal job number (docs 11.8) */

_Static_assert(SZL_HDR + 20u * S7_DIAG_MAX <= SZL_MAX, "diagnostic buffer fits an SZL");

struct s7_szl_pending {
    bool active;       /* parts left to send */
    uint8_t seq;       /* the sequence number of the answer in progress */
    uint8_t dur;       /* and its data unit reference */
    uint8_t last_seq;  /* counters for the next fragmented answer */
    uint8_t last_dur;
    uint16_t len, off; /* list bytes, bytes sent */
    uint8_t list[SZL_MAX];
};

static uint8_t bcd(unsigned v)
{
    return (uint8_t)(((v / 10u) % 10u) << 4 | (v % 10u));
}

/* DATE_AND_TIME, 8 BCD bytes (docs/s7comm.md 11.4): year (90-99 = 19xx),
 * month, day, hour, minute, second, ms / 10, ms % 10 << 4 | weekday
 * (1 = Sunday). */
static void put_dt(uint8_t *p, int64_t epoch_ms)
{
    if (epoch_ms < 0)
        epoch_ms = 0;
    time_t t = (time_t)(epoch_ms / 1000);
    unsigned ms = (unsigned)(epoch_ms % 1000);
    struct tm tm;
    memset(p, 0, 8);
    if (!gmtime_r(&t, &tm))
        return;
    p[0] = bcd((unsigned)(tm.tm_year % 100));
    p[1] = bcd((unsigned)tm.tm_mon + 1u);
    p[2] = bcd((unsigned)tm.tm_mday);
    p[3] = bcd((unsigned)tm.tm_hour);
    p[4] = bcd((unsigned)tm.tm_min);
    p[5] = bcd((unsigned)tm.tm_sec);
    p[6] = bcd(ms / 10u);
    p[7] = (uint8_t)((ms % 10u) << 4 | ((unsigned)tm.tm_wday + 1u));
}

/* ---------------------------------------------------------------- lists */

/* What a builder sees: the server (lock held) and the asking session. */
typedef struct {
    gw_s7_server *s;
    const s7_session *c;
    size_t clients;      /* connected now, for 0x0232 index 1 */
} szl_ctx;

/* A builder's output: records at rec (room for SZL_MAX - SZL_HDR bytes),
 * their size and count. */
typedef struct {
    uint8_t *rec;
    uint16_t rec_len;
    uint16_t count;
} szl_out;

/* Builds list `id` (a 0x00xx or 0x01xx form) for `index`; false when this
 * index does not exist. */
typedef bool (*szl_fn)(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o);

static bool szl_list(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o);

/* 0x0011 / 0x0111: module identification (docs/s7comm.md 11.3; WS-SZL
 * s7comm_decode_szl_id_0111_idx_0001): index, order number (20), BGTyp,
 * Ausbg, Ausbe; the firmware record codes the version 'V', major, minor,
 * patch. */
static bool szl_module_id(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o)
{
    static const uint16_t idx[] = {0x0001, 0x0006, 0x0007};
    const gw_s7_server *s = x->s;
    unsigned maj = 0, min = 0, pat = 0;
    if (sscanf(s->firmware, "V%u.%u.%u", &maj, &min, &pat) < 1)
        maj = min = pat = 0;
    size_t olen = strlen(s->order_code) < 20 ? strlen(s->order_code) : 20;
    uint16_t n = 0;
    for (size_t k = 0; k < 3; k++) {
        if (id == 0x0111 && idx[k] != index)
            continue;
        uint8_t *r = o->rec + 28u * n++;
        memset(r, ' ', 28);
        s7_put16(r, idx[k]);
        if (idx[k] != 0x0007)
            memcpy(r + 2, s->order_code, olen);
        s7_put16(r + 22, 0x0000);
        if (idx[k] == 0x0007) {
            r[24] = 'V';
            r[25] = (uint8_t)maj;
            r[26] = (uint8_t)min;
            r[27] = (uint8_t)pat;
        } else {
            s7_put16(r + 24, 0x0001);
            s7_put16(r + 26, idx[k] == 0x0006 ? 0x0001 : 0x0000);
        }
    }
    o->rec_len = 28;
    o->count = n;
    return n > 0;
}

/* 0x001C / 0x011C: component identification (docs/s7comm.md 11.9): 34-byte
 * records, index and 32 bytes. Index 6 is absent so that the module type
 * name (index 7) is the sixth record, where snap7's GetCpuInfo looks. */
static bool szl_components(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o)
{
    const gw_s7_server *s = x->s;
    const struct {
        uint16_t idx;
        const char *text;
    } comp[] = {{1, s->station_name}, {2, s->plc_name}, {3, ""},
                {4, "Original Siemens Equipment"}, {5, s->serial},
                {7, s->module_name}, {8, ""}, {9, NULL}, {10, ""}, {11, ""}};
    uint16_t n = 0;
    for (size_t k = 0; k < sizeof(comp) / sizeof(comp[0]); k++) {
        if (id == 0x011C && comp[k].idx != index)
            continue;
        uint8_t *r = o->rec + 34u * n++;
        memset(r, 0, 34);
        s7_put16(r, comp[k].idx);
        if (!comp[k].text) {
            /* index 9: manufacturer 0x002A (Siemens), profile 0xF600,
             * profile-specific type 1 (S7-FW SZL_ID_001C_IDX_XXXX) */
            s7_put16(r + 2, 0x002A);
            s7_put16(r + 4, 0xF600);
            s7_put16(r + 6, 0x0001);
            continue;
        }
        size_t tl = strlen(comp[k].text);
        memcpy(r + 2, comp[k].text, tl < 32 ? tl : 32);
    }
    o->rec_len = 34;
    o->count = n;
    return n > 0;
}

/* 0x0074 / 0x0174: LED status (docs/s7comm.md 11.10; WS-SZL xy74 fields,
 * szl_0174_index_names): LED id (2), on (1), flashing (1). The simulated
 * CPU has no faults and no forcing: SF and FRCE are off, RUN and STOP
 * follow the mode. */
static bool szl_leds(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o)
{
    bool run = x->s->cpu_state == GW_S7_CPU_RUN;
    const struct {
        uint16_t led;
        bool on;
    } led[] = {{0x0001, false}, {0x0004, run}, {0x0005, !run}, {0x0006, false}};
    uint16_t n = 0;
    for (size_t k = 0; k < sizeof(led) / sizeof(led[0]); k++) {
        if (id == 0x0174 && led[k].led != index)
            continue;
        uint8_t *r = o->rec + 4u * n++;
        s7_put16(r, led[k].led);
        r[2] = led[k].on ? 1 : 0;
        r[3] = 0; /* not flashing */
    }
    o->rec_len = 4;
    o->count = n;
    return n > 0;
}

/* 0x00A0 / 0x01A0: the diagnostic buffer, newest entry first (docs/s7comm.md
 * 11.11): event id (2), priority class (1), OB (1), DatID (2), info 1 (2),
 * info 2 (4), time stamp (8). 0x01A0's index is how many of the newest. */
static bool szl_diag(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o)
{
    const gw_s7_server *s = x->s;
    size_t n = s->diag_count;
    if (id == 0x01A0 && index < n)
        n = index;
    for (size_t k = 0; k < n; k++) {
        size_t at = (s->diag_head + S7_DIAG_MAX - 1u - k) % S7_DIAG_MAX;
        uint8_t *r = o->rec + 20u * k;
        memset(r, 0, 20);
        s7_put16(r, s->diag[at].event_id);
        r[2] = 0xFF; /* priority class of the operating system */
        put_dt(r + 12, s->diag[at].epoch_ms);
    }
    o->rec_len = 20;
    o->count = (uint16_t)n;
    return true;
}

/* 0x0131: communication capabilities (docs/s7comm.md 11.6; WS-SZL
 * s7comm_decode_szl_id_0131_idx_0001 ... _0006), one 40-byte record per
 * index. The bits and limits describe what this simulator serves over
 * S7comm, not a captured S7-1214C; a bit whose meaning the sources leave
 * open is 0. Indexes 5, 7 and 8 have no layout in the sources: refused. */

/* index 1, general communication data */
static void comm_general(const gw_s7_server *s, uint8_t *r)
{
    s7_put16(r + 2, s->opts.max_pdu);     /* pdu: largest PDU we negotiate */
    s7_put16(r + 4, s->opts.max_clients); /* anz: connections */
    /* mpi_bps, kbus_bps: 0, the S7-1200 has neither MPI nor K-bus */
}

/* index 3, operator interface (O&M) functions */
static void comm_om(const gw_s7_server *s, uint8_t *r)
{
    r[2] = 0x03; /* funkt_0: read once, write once (Read/Write Var); no cyclic reading */
    r[3] = 0xE0; /* funkt_1: inputs, outputs, bit memory; no peripheral I/O */
    r[4] = 0x81; /* funkt_2: user DB, S7 counter */
    r[5] = 0x01; /* funkt_3: S7 timer */
    /* data: the largest read payload, PDU - 18 (docs 10), all items of a
     * request being read under one lock; anz, per_min, per_max: 0, no
     * cyclic reading */
    s7_put16(r + 6, (uint16_t)(s->opts.max_pdu - 18u));
}

/* index 4, object management system (OMS) functions */
static void comm_oms(const gw_s7_server *s, uint8_t *r)
{
    r[2] = 0x80; /* funkt_0: delete (list), PI _DELE */
    r[3] = 0x01; /* funkt_1: upload on PG */
    r[4] = 0x21; /* funkt_2: load user program (RAM), compress (external) */
    /* hoch: simultaneous uploads, one per connection (s7_session.xfer) */
    r[13] = (uint8_t)(s->opts.max_clients < 255u ? s->opts.max_clients : 255u);
}

static bool szl_comm(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o)
{
    (void)id;
    uint8_t *r = o->rec;
    memset(r, 0, 40);
    s7_put16(r, index);
    switch (index) {
    case 0x0001: comm_general(x->s, r); break;
    case 0x0002: break; /* test and installation: none (no block status, force, ...) */
    case 0x0003: comm_om(x->s, r); break;
    case 0x0004: comm_oms(x->s, r); break;
    case 0x0006: break; /* communication SFBs: no user program, no configured connections */
    default: return false;
    }
    o->rec_len = 40;
    o->count = 1;
    return true;
}

/* 0x0232 indexes 1 and 4 (docs/s7comm.md 11.7; WS-SZL
 * s7comm_decode_szl_id_0132_idx_0001/_0004): 40-byte records. */
static bool szl_protection(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o)
{
    (void)id;
    const gw_s7_server *s = x->s;
    uint8_t *r = o->rec;
    if (index != 0x0001 && index != 0x0004)
        return false;
    memset(r, 0, 40);
    s7_put16(r, index);
    if (index == 0x0001) {
        /* res_pg, res_os, u_pg, u_os, proj, auf, free, used, last */
        s7_put16(r + 2, 1);
        s7_put16(r + 4, 1);
        size_t used = x->clients < s->opts.max_clients ? x->clients : s->opts.max_clients;
        s7_put16(r + 16, (uint16_t)(s->opts.max_clients - used));
        s7_put16(r + 18, (uint16_t)used);
        s7_put16(r + 20, 20); /* communication load, % (snap7's 20) */
    } else {
        /* key 1; param: the password's level, 2 (write protection), or 0
         * without one; real: the level in force for this session; bart_sch
         * 2 RUN_P / 3 STOP; crst_wrst 0 */
        bool pw = s->password[0] != '\0';
        s7_put16(r + 2, 1);
        s7_put16(r + 4, pw ? 2 : 0);
        s7_put16(r + 6, pw && !x->c->authorized ? 2 : 1);
        s7_put16(r + 8, s->cpu_state == GW_S7_CPU_RUN ? 2 : 3);
    }
    o->rec_len = 40;
    o->count = 1;
    return true;
}

/* 0x0424: the current mode (docs/s7comm.md 11.4): event id, 0xFF, mode in
 * byte 3 (high nibble, the previous mode, left 0 so that snap7 clients
 * decode it), time stamp of the last mode change (the CPU clock now when
 * none was logged). */
static bool szl_cpu_state(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o)
{
    (void)id;
    (void)index;
    gw_s7_server *s = x->s;
    uint8_t *r = o->rec;
    memset(r, 0, 20);
    s7_put16(r, 0x5144);
    r[2] = 0xFF;
    r[3] = (uint8_t)s->cpu_state;
    int64_t when = s->diag_count ? s->diag[(s->diag_head + S7_DIAG_MAX - 1u) % S7_DIAG_MAX].epoch_ms
                                 : s7__cpu_clock_ms(s);
    put_dt(r + 12, when);
    o->rec_len = 20;
    o->count = 1;
    return true;
}

/* The lists served, ascending by SZL-ID; each also has its 0x0Fxx form
 * (header only) when `header` is set. */
static const struct {
    uint16_t id;
    szl_fn fn;
    bool header;
} szl_table[] = {
    {0x0000, szl_list, true},        {0x0011, szl_module_id, true},
    {0x001C, szl_components, true},  {0x0074, szl_leds, true},
    {0x00A0, szl_diag, true},        {0x0111, szl_module_id, false},
    {0x011C, szl_components, false}, {0x0131, szl_comm, false},
    {0x0174, szl_leds, false},       {0x01A0, szl_diag, false},
    {0x0232, szl_protection, false}, {0x0424, szl_cpu_state, false},
};
#define SZL_NTABLE (sizeof(szl_table) / sizeof(szl_table[0]))

/* 0x0000: the SZL-IDs served (docs/s7comm.md 11.5), ascending: the table,
 * then the 0x0Fxx forms. Any index gives the whole list, as snap7's server
 * does. */
static bool szl_list(const szl_ctx *x, uint16_t id, uint16_t index, szl_out *o)
{
    (void)x;
    (void)id;
    (void)index;
    uint16_t n = 0;
    for (size_t k = 0; k < SZL_NTABLE; k++)
        s7_put16(o->rec + 2u * n++, szl_table[k].id);
    for (size_t k = 0; k < SZL_NTABLE; k++)
        if (szl_table[k].header)
            s7_put16(o->rec + 2u * n++, (uint16_t)(0x0F00 | szl_table[k].id));
    o->rec_len = 2;
    o->count = n;
    return true;
}

/* Builds list (id, index) whole into list[SZL_MAX]: the SZL header, then
 * the records; returns its length, 0 when we do not serve it. Lock held. */
static size_t szl_build(const szl_ctx *x, uint16_t id, uint16_t index, uint8_t *list)
{
    bool header_only = (id & 0xFF00) == 0x0F00;
    uint16_t base = header_only ? (uint16_t)(id & 0x00FF) : id;
    for (size_t k = 0; k < SZL_NTABLE; k++) {
        if (szl_table[k].id != base || (header_only && !szl_table[k].header))
            continue;
        szl_out o = {list + SZL_HDR, 0, 0};
        if (!szl_table[k].fn(x, base, index, &o))
            return 0;
        size_t body = header_only ? 0 : (size_t)o.rec_len * o.count;
        s7_put16(list, id);
        s7_put16(list + 2, index);
        s7_put16(list + 4, o.rec_len);
        s7_put16(list + 6, o.count);
        return SZL_HDR + body;
    }
    return 0;
}

/* ---------------------------------------------------------------- answers */

/* Bytes of list one answer carries at this session's PDU. */
static size_t szl_room(const s7_session *c)
{
    return c->pdu_len > SZL_PART_OVERHEAD ? c->pdu_len - SZL_PART_OVERHEAD : 0;
}

/* A data part: FF 09, length, bytes (docs/s7comm.md 11.2). */
static size_t szl_data(gw_s7_server *s, const uint8_t *bytes, size_t n)
{
    uint8_t *d = s7__ud_data(s);
    d[0] = S7_RC_OK;
    d[1] = S7_DTS_OCTET;
    s7_put16(d + 2, (uint16_t)n);
    memcpy(d + 4, bytes, n);
    return 4 + n;
}

static size_t szl_next_part(gw_s7_server *s, s7_session *c, uint16_t ref,
                            const s7_userdata_param *up)
{
    s7_szl_pending *p = c->szl;
    size_t n = p->len - p->off;
    size_t room = szl_room(c);
    if (n > room)
        n = room;
    size_t dl = szl_data(s, p->list + p->off, n);
    p->off = (uint16_t)(p->off + n);
    bool more = p->off < p->len;
    if (!more)
        p->active = false;
    return s7__ud_finish(s, ref, up, p->seq, p->dur, more, 0, dl);
}

/* 1..255: 0 is the "no sequence" of a first request */
static uint8_t next_nonzero(uint8_t *counter)
{
    *counter = (uint8_t)(*counter + 1u);
    if (*counter == 0)
        *counter = 1;
    return *counter;
}

/* A follow-up: the parameter's extended form (method 0x12) with the
 * sequence number of our first part, data `0A 00 00 00` (docs 11.8). */
static size_t serve_follow_up(gw_s7_server *s, s7_session *c, const s7_header *h,
                              const s7_userdata_param *up)
{
    if (h->data_len < 4 || (size_t)(h->data[2] << 8 | h->data[3]) > h->data_len - 4u)
        return s7__ud_error(s, h->pdu_ref, up, SZL_ERR_BAD_REQ);
    s7_szl_pending *p = c->szl;
    if (!p || !p->active || up->seq != p->seq) {
        if (p)
            p->active = false; /* a confused client starts over */
        return s7__ud_error(s, h->pdu_ref, up, SZL_ERR_SEQ);
    }
    return szl_next_part(s, c, h->pdu_ref, up);
}

size_t s7__serve_cpu_functions(gw_s7_server *s, s7_session *c, const s7_header *h,
                               const s7_userdata_param *up)
{
    if (up->subfunction != 0x01)
        return s7__ud_error(s, h->pdu_ref, up, SZL_ERR_BAD_REQ);
    if (up->method == 0x12)
        return serve_follow_up(s, c, h, up);
    uint16_t id = 0, index = 0;
    /* any return code / transport size in the request's data header, as
     * a CPU and snap7's server take them (docs/s7comm.md 11.2) */
    if (up->method != 0x11 || s7_decode_szl_req_data(h->data, h->data_len, &id, &index) != GW_OK)
        return s7__ud_error(s, h->pdu_ref, up, SZL_ERR_BAD_REQ);
    if (c->szl)
        c->szl->active = false; /* a new request abandons an unfinished one */
    uint8_t list[SZL_MAX];
    szl_ctx x = {s, c, gw_tcpsrv_clients(s->tcp)};
    pthread_mutex_lock(&s->lock);
    size_t len = szl_build(&x, id, index, list);
    pthread_mutex_unlock(&s->lock);
    if (!len)
        return s7__ud_error(s, h->pdu_ref, up, SZL_ERR_NOT_AVAIL);
    if (len <= szl_room(c)) {
        size_t dl = szl_data(s, list, len);
        return s7__ud_finish(s, h->pdu_ref, up, up->seq, 0, false, 0, dl);
    }
    if (!c->szl && !(c->szl = gw_calloc(1, sizeof(*c->szl))))
        return s7__ud_error(s, h->pdu_ref, up, 0xD406); /* currently unavailable */
    s7_szl_pending *p = c->szl;
    memcpy(p->list, list, len);
    p->len = (uint16_t)len;
    p->off = 0;
    p->seq = next_nonzero(&p->last_seq);
    p->dur = next_nonzero(&p->last_dur);
    p->active = true;
    return szl_next_part(s, c, h->pdu_ref, up);
}

void s7__szl_session_free(s7_session *c)
{
    gw_free(c->szl);
    c->szl = NULL;
}

/* Event ids as a CPU logs them (docs/s7comm.md 11.11, S7-EVT): 0x4304 STOP
 * caused by PG STOP operation, 0x4301 STOP to STARTUP, 0x4302 STARTUP to
 * RUN. */
static void diag_push(gw_s7_server *s, uint16_t event_id, int64_t epoch_ms)
{
    s->diag[s->diag_head] = (s7_diag_event){event_id, epoch_ms};
    s->diag_head = (s->diag_head + 1u) % S7_DIAG_MAX;
    if (s->diag_count < S7_DIAG_MAX)
        s->diag_count++;
}

void s7__diag_mode_change(gw_s7_server *s, gw_s7_cpu_state from, gw_s7_cpu_state to,
                          bool cold, int64_t epoch_ms)
{
    (void)cold; /* the sources give no entry that tells a cold start apart */
    if (from == to)
        return;
    if (to == GW_S7_CPU_STOP) {
        diag_push(s, 0x4304, epoch_ms);
    } else if (to == GW_S7_CPU_RUN) {
        diag_push(s, 0x4301, epoch_ms);
        diag_push(s, 0x4302, epoch_ms);
    }
}
