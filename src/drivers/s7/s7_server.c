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
#include <string.h>

#define SRV_IN_CAP (S7_TPKT_MAX + 1u)
#define SRV_PDU_MAX 960u      /* the largest PDU an S7-1500 offers */
#define SRV_PDU_MIN 240u      /* and an S7-1200's */
#define SRV_AMQ 8u
#define SRV_MAX_WRITES 64     /* write events reported per PDU */

typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t size;
    uint8_t *mem;
} srv_area;


typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t start, len;
    int bit;              /* bit writes: the bit, else -1 */
    size_t off;           /* before and after bytes in wbuf: off, off + len */
} srv_write;

/* Bytes kept of the writes of one PDU, before and after (a PDU carries at
 * most 960 bytes of data). */
#define SRV_WBUF (4u * 1024u)

struct gw_s7_server {
    gw_s7_server_opts opts;
    char host[256];
    char order_code[24];
    char firmware[16];
    gw_tcpsrv *tcp;              /* sockets, threads and faults */
    pthread_mutex_t lock;        /* areas, cpu_state */
    srv_area *areas;
    size_t nareas;
    gw_s7_cpu_state cpu_state;
    bool snap7_writes;           /* tests: answer writes as python-snap7 does */
    uint16_t next_ref;
    /* server thread only: */
    uint8_t *tx;
    srv_write writes[SRV_MAX_WRITES];
    size_t nwrites;
    uint8_t wbuf[SRV_WBUF];
    size_t wbuf_len;
};

/* ---------------------------------------------------------------- set-up */

static bool tcp_open(void *user, gw_conn *c);
static long tcp_frame(void *user, const uint8_t *data, size_t len);
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
    if (!s->opts.max_pdu || s->opts.max_pdu > SRV_PDU_MAX)
        s->opts.max_pdu = SRV_PDU_MAX;
    if (s->opts.max_pdu < SRV_PDU_MIN)
        s->opts.max_pdu = SRV_PDU_MIN;
    if (!s->opts.max_clients)
        s->opts.max_clients = 8;
    /* like a CPU, answer as many items as fit the PDU; max_items imitates
     * devices with a fixed limit */
    if (!s->opts.max_items)
        s->opts.max_items = 255;
    s->cpu_state = GW_S7_CPU_RUN;
    pthread_mutex_init(&s->lock, NULL);
    s->tx = gw_malloc(SRV_IN_CAP);
    gw_tcpsrv_opts to = {"s7", s->host, opts->port, s->opts.max_clients, SRV_IN_CAP, opts->log,
                         {tcp_open, tcp_frame, tcp_serve, tcp_error_reply, tcp_close}, s};
    if (!s->tx || gw_tcpsrv_new(&to, &s->tcp) != GW_OK) {
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
    srv_area *na = mem ? gw_realloc(s->areas, (s->nareas + 1) * sizeof(*na)) : NULL;
    if (rc == GW_OK && !na) {
        gw_free(mem);
        rc = GW_E_NOMEM;
    }
    if (rc == GW_OK) {
        s->areas = na;
        s->areas[s->nareas++] = (srv_area){area, db, size, mem};
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static srv_area *find_area(gw_s7_server *s, gw_s7_area area, uint16_t db)
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
    srv_area *a = find_area(s, area, db);
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
    srv_area *a = find_area(s, area, db);
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
    srv_area *a = find_area(s, area, db);
    gw_err rc = !a ? GW_E_NOT_FOUND : (uint64_t)start + len > a->size ? GW_E_RANGE : GW_OK;
    for (uint32_t i = 0; rc == GW_OK && i < len; i++)
        a->mem[start + i] = (uint8_t)((a->mem[start + i] & ~mask[i]) | (in[i] & mask[i]));
    pthread_mutex_unlock(&s->lock);
    return rc;
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
    c->pdu_len = SRV_PDU_MIN;
    c->ref = ref;
    c->pdu = gw_malloc(SRV_PDU_MAX + 64u);
    return c->pdu ? GW_OK : GW_E_NOMEM;
}

void s7__session_clear(s7_session *c)
{
    gw_free(c->pdu);
    c->pdu = NULL;
}

/* Header-only ack_data carrying an error class and code. */
static size_t reply_error(gw_s7_server *s, uint16_t ref, uint8_t rosctr, uint8_t err_class,
                          uint8_t err_code)
{
    size_t h = s7_header_encode(s->tx + S7_FRAME_HDR, rosctr, ref, 0, 0, err_class, err_code);
    return s7_frame_dt(s->tx, h);
}

static uint8_t check_item(gw_s7_server *s, const s7_item *it, srv_area **area, uint32_t *start,
                          uint32_t *len)
{
    gw_s7_area a;
    switch (it->area) {
    case S7_AREA_DB: a = GW_S7_DB; break;
    case S7_AREA_DI: a = GW_S7_DB; break; /* instance DBs share the DB numbers */
    case S7_AREA_M: a = GW_S7_M; break;
    case S7_AREA_I: a = GW_S7_I; break;
    case S7_AREA_Q: a = GW_S7_Q; break;
    default: return S7_RC_NO_OBJECT;
    }
    size_t bytes = s7_item_bytes(it->tsize, it->count);
    if (bytes == 0)
        return it->count == 0 ? S7_RC_OUT_OF_RANGE : S7_RC_TYPE_UNSUPPORTED;
    /* one bit at a time; a bit count is an invalid address (docs/s7comm.md 7) */
    if (it->tsize == S7_TS_BIT && it->count != 1)
        return S7_RC_OUT_OF_RANGE;
    if (it->tsize != S7_TS_BIT && (it->bitaddr & 7u))
        return S7_RC_OUT_OF_RANGE;
    srv_area *found = find_area(s, a, it->db);
    if (!found)
        return S7_RC_NO_OBJECT;
    uint32_t st = it->bitaddr >> 3;
    if ((uint64_t)st + bytes > found->size)
        return S7_RC_OUT_OF_RANGE;
    *area = found;
    *start = st;
    *len = (uint32_t)bytes;
    return S7_RC_OK;
}

static size_t serve_setup(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    s7_setup req;
    if (s7_setup_decode_param(h->param, h->param_len, &req) != GW_OK)
        return reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x84, 0x04);
    uint16_t pdu = req.pdu_len < s->opts.max_pdu ? req.pdu_len : s->opts.max_pdu;
    if (pdu < SRV_PDU_MIN)
        pdu = SRV_PDU_MIN;
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
        return reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x84, 0x04);
    if (n > s->opts.max_items || S7_READ_REQ_SIZE(n) > c->pdu_len)
        return reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x85, 0x00);
    s7_data out[255];
    uint8_t bits[255];
    uint16_t lens[255];
    for (size_t i = 0; i < n; i++) {
        srv_area *a = NULL;
        uint32_t st = 0, len = 0;
        uint8_t code = check_item(s, &items[i], &a, &st, &len);
        out[i] = (s7_data){code, S7_DTS_NULL, NULL, 0};
        if (code == S7_RC_OK && items[i].tsize == S7_TS_BIT) {
            bits[i] = (a->mem[st] >> (items[i].bitaddr & 7u)) & 1u;
            out[i] = (s7_data){code, S7_DTS_BIT, &bits[i], 1};
        } else if (code == S7_RC_OK) {
            out[i] = (s7_data){code, s7_reply_dts(items[i].tsize), a->mem + st, (uint16_t)len};
        }
        lens[i] = out[i].len;
    }
    /* the answer must fit the PDU this client negotiated */
    if (s7_read_reply_size(lens, n) > c->pdu_len)
        return reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x85, 0x00);
    uint8_t *p = s->tx + S7_FRAME_HDR;
    uint8_t *d = p + S7_HDR_ACK + 2;
    size_t dlen = s7_encode_data(d, SRV_IN_CAP - S7_FRAME_HDR - S7_HDR_ACK - 2, out, n);
    size_t hl = s7_header_encode(p, S7_ACK_DATA, h->pdu_ref, 2, (uint16_t)dlen, 0, 0);
    p[hl] = S7_FN_READ;
    p[hl + 1] = (uint8_t)n;
    return s7_frame_dt(s->tx, hl + 2 + dlen);
}

/* Carries out one item of a Write Var; returns its item return code. */
static uint8_t write_item(gw_s7_server *s, const s7_item *it, const s7_data *d)
{
    srv_area *a = NULL;
    uint32_t st = 0, len = 0;
    uint8_t code = check_item(s, it, &a, &st, &len);
    if (code != S7_RC_OK)
        return code;
    bool is_bit = it->tsize == S7_TS_BIT;
    if (is_bit ? (d->dts != S7_DTS_BIT || d->len != 1) : d->len != len)
        return S7_RC_TYPE_INCONSISTENT;
    /* keep the bytes before and after for the write event */
    bool keep = s->nwrites < SRV_MAX_WRITES && s->wbuf_len + 2u * len <= SRV_WBUF;
    srv_write *w = keep ? &s->writes[s->nwrites++] : NULL;
    if (w) {
        *w = (srv_write){a->area, a->db, st, len, is_bit ? (int)(it->bitaddr & 7u) : -1,
                         s->wbuf_len};
        memcpy(s->wbuf + w->off, a->mem + st, len);
    }
    if (is_bit) {
        uint8_t mask = (uint8_t)(1u << (it->bitaddr & 7u));
        if (d->bytes[0] & 1u)
            a->mem[st] |= mask;
        else
            a->mem[st] &= (uint8_t)~mask;
    } else {
        memcpy(a->mem + st, d->bytes, len);
    }
    if (w) {
        memcpy(s->wbuf + w->off + len, a->mem + st, len);
        s->wbuf_len += 2u * len;
    } else {
        gw_log_write(s->opts.log, GW_LOG_ERROR, "s7", "server: more writes in one PDU "
                     "than reported; %u bytes at %u not reported", len, st);
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
        return reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x84, 0x04);
    if (n > s->opts.max_items)
        return reply_error(s, h->pdu_ref, S7_ACK_DATA, 0x85, 0x00);
    /* emulating python-snap7's server: only the first item is written and
     * answered (docs/s7comm.md 7.1) */
    if (s->snap7_writes)
        n = 1;
    uint8_t codes[255];
    for (size_t i = 0; i < n; i++)
        codes[i] = write_item(s, &items[i], &data[i]);
    uint8_t *p = s->tx + S7_FRAME_HDR;
    size_t hl = s7_header_encode(p, S7_ACK_DATA, h->pdu_ref, 2, (uint16_t)n, 0, 0);
    p[hl] = S7_FN_WRITE;
    p[hl + 1] = (uint8_t)n;
    memcpy(p + hl + 2, codes, n);
    (void)c;
    return s7_frame_dt(s->tx, hl + 2 + n);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* SZL answers (docs/s7comm.md 11). Each builder writes its records to rec
 * and sets their size and count; it returns the bytes written, 0 for an
 * index it does not have. */

/* The SZL-IDs this server serves, ascending, as the list of lists gives
 * them (docs/s7comm.md 11.5). */
static const uint16_t szl_served[] = {S7_SZL_LIST, S7_SZL_CPU_ORDER, S7_SZL_COMPONENTS,
                                      S7_SZL_COMM, S7_SZL_PROTECTION, S7_SZL_CPU_STATE};
#define SZL_NSERVED (sizeof(szl_served) / sizeof(szl_served[0]))

typedef struct {
    size_t clients; /* connected now, for 0x0232 index 1 */
} szl_ctx;

static size_t szl_list(gw_s7_server *s, uint16_t index, uint8_t *rec, uint16_t *rec_len,
                       uint16_t *count)
{
    (void)s;
    (void)index; /* as snap7's server, any index gives the whole list */
    for (size_t k = 0; k < SZL_NSERVED; k++)
        put16(rec + 2 * k, szl_served[k]);
    *rec_len = 2;
    *count = (uint16_t)SZL_NSERVED;
    return 2 * SZL_NSERVED;
}

static size_t szl_module_id(gw_s7_server *s, uint8_t *rec, uint16_t *rec_len, uint16_t *count)
{
    /* module identification: index, order number (20), module type,
     * Ausbg, Ausbe; firmware as 'V', major, minor, patch */
    static const uint16_t idx[] = {0x0001, 0x0006, 0x0007};
    unsigned maj = 0, min = 0, pat = 0;
    sscanf(s->firmware, "V%u.%u.%u", &maj, &min, &pat);
    size_t olen = strlen(s->order_code) < 20 ? strlen(s->order_code) : 20;
    for (size_t k = 0; k < 3; k++) {
        uint8_t *r = rec + 28 * k;
        memset(r, ' ', 28);
        put16(r, idx[k]);
        if (idx[k] != 0x0007)
            memcpy(r + 2, s->order_code, olen);
        put16(r + 22, 0x0000);
        if (idx[k] == 0x0007) {
            r[24] = 'V';
            r[25] = (uint8_t)maj;
            r[26] = (uint8_t)min;
            r[27] = (uint8_t)pat;
        } else {
            put16(r + 24, 0x0001);
            put16(r + 26, idx[k] == 0x0006 ? 0x0001 : 0x0000);
        }
    }
    *rec_len = 28;
    *count = 3;
    return 3 * 28;
}

static size_t szl_components(uint8_t *rec, uint16_t *rec_len, uint16_t *count)
{
    /* component identification: 34-byte records, index and 32
     * characters; index 6 is absent, so that the module type name
     * (index 7) is the sixth record, where snap7's GetCpuInfo looks */
    static const struct {
        uint16_t idx;
        const char *text;
    } comp[] = {{1, "S71200/ET200MP station_1"}, {2, "PLC_1"}, {3, ""},
                {4, "Original Siemens Equipment"}, {5, "S C-PLCGW0000001"},
                {7, "CPU 1214C DC/DC/DC"}, {8, ""}, {9, ""}, {10, ""}, {11, ""}};
    size_t n = sizeof(comp) / sizeof(comp[0]);
    for (size_t k = 0; k < n; k++) {
        uint8_t *r = rec + 34 * k;
        memset(r, 0, 34);
        put16(r, comp[k].idx);
        memcpy(r + 2, comp[k].text, strlen(comp[k].text));
    }
    *rec_len = 34;
    *count = (uint16_t)n;
    return 34 * n;
}

/* 0x0131 index 1, general communication data (docs/s7comm.md 11.6; WS-SZL
 * s7comm_decode_szl_id_0131_idx_0001): index, pdu, anz, mpi_bps,
 * kbus_bps, 26 reserved = 40 bytes. Other indexes are not served. */
static size_t szl_comm(gw_s7_server *s, uint16_t index, uint8_t *rec, uint16_t *rec_len,
                       uint16_t *count)
{
    if (index != 0x0001)
        return 0;
    memset(rec, 0, 40);
    put16(rec, 0x0001);
    put16(rec + 2, s->opts.max_pdu);     /* largest PDU we negotiate */
    put16(rec + 4, s->opts.max_clients); /* connections */
    /* mpi_bps, kbus_bps: 0, the S7-1200 has neither MPI nor K-bus */
    *rec_len = 40;
    *count = 1;
    return 40;
}

/* 0x0232 indexes 1 and 4 (docs/s7comm.md 11.7; WS-SZL
 * s7comm_decode_szl_id_0132_idx_0001/_0004, snap7 serves 0x0232 with the
 * 0x0132 layouts, S7-FW SZL_ID_0232_IDX_0001/4): 40-byte records. */
static size_t szl_protection(gw_s7_server *s, const szl_ctx *x, uint16_t index, uint8_t *rec,
                             uint16_t *rec_len, uint16_t *count)
{
    if (index != 0x0001 && index != 0x0004)
        return 0;
    memset(rec, 0, 40);
    put16(rec, index);
    if (index == 0x0001) {
        /* res_pg, res_os, u_pg, u_os, proj, auf, free, used, last */
        put16(rec + 2, 1);
        put16(rec + 4, 1);
        size_t used = x->clients < s->opts.max_clients ? x->clients : s->opts.max_clients;
        put16(rec + 16, (uint16_t)(s->opts.max_clients - used));
        put16(rec + 18, (uint16_t)used);
        put16(rec + 20, 20); /* communication load, % (snap7's 20) */
    } else {
        /* key, param (0: no password), real (1: no protection, PUT/GET
         * allowed), bart_sch (2 RUN_P / 3 STOP), crst_wrst (0) */
        put16(rec + 2, 1);
        put16(rec + 4, 0);
        put16(rec + 6, 1);
        put16(rec + 8, s->cpu_state == GW_S7_CPU_RUN ? 2 : 3);
    }
    *rec_len = 40;
    *count = 1;
    return 40;
}

static size_t szl_records(gw_s7_server *s, const szl_ctx *x, uint16_t id, uint16_t index,
                          uint8_t *rec, uint16_t *rec_len, uint16_t *count)
{
    switch (id) {
    case S7_SZL_LIST: return szl_list(s, index, rec, rec_len, count);
    case S7_SZL_CPU_ORDER: return szl_module_id(s, rec, rec_len, count);
    case S7_SZL_COMPONENTS: return szl_components(rec, rec_len, count);
    case S7_SZL_COMM: return szl_comm(s, index, rec, rec_len, count);
    case S7_SZL_PROTECTION: return szl_protection(s, x, index, rec, rec_len, count);
    case S7_SZL_CPU_STATE:
        /* one 20-byte record: event id, 0xFF, mode in byte 3 (high nibble,
         * the previous mode, left 0 so that snap7 clients decode it) */
        memset(rec, 0, 20);
        put16(rec, 0x5144);
        rec[2] = 0xFF;
        rec[3] = (uint8_t)s->cpu_state;
        *rec_len = 20;
        *count = 1;
        return 20;
    default: return 0;
    }
}

static size_t serve_userdata(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    s7_userdata_param up;
    if (s7_decode_userdata_param(h->param, h->param_len, &up) != GW_OK)
        return 0;
    uint8_t *p = s->tx + S7_FRAME_HDR;
    uint8_t *q = p + S7_HDR_JOB;
    /* response parameter: head, length 8, method 0x12, type 8 | group, ... */
    q[0] = 0x00;
    q[1] = 0x01;
    q[2] = 0x12;
    q[3] = 0x08;
    q[4] = 0x12;
    q[5] = (uint8_t)(0x80 | (up.type_group & 0x0F));
    q[6] = up.subfunction;
    q[7] = up.seq;
    q[8] = 0x00; /* data unit reference */
    q[9] = 0x00; /* last data unit */
    uint8_t *d = q + 12;
    size_t dlen;
    uint16_t err_code = 0;
    /* any return code / transport size in the request's data header, as
     * a CPU and snap7's server take them (docs/s7comm.md 11.2) */
    uint16_t id = 0, index = 0;
    bool szl = up.method == 0x11 && (up.type_group & 0x0F) == 0x04 && up.subfunction == 0x01 &&
               s7_decode_szl_req_data(h->data, h->data_len, &id, &index) == GW_OK;
    size_t rl = 0;
    uint16_t rec_len = 0, count = 0;
    if (szl) {
        szl_ctx x = {gw_tcpsrv_clients(s->tcp)};
        pthread_mutex_lock(&s->lock);
        rl = szl_records(s, &x, id, index, d + 12, &rec_len, &count);
        pthread_mutex_unlock(&s->lock);
        /* the answer must fit the client's PDU: whole records only (we do
         * not fragment SZL answers; snap7's server truncates too) */
        size_t room = c->pdu_len > S7_HDR_JOB + 24u ? c->pdu_len - S7_HDR_JOB - 24u : 0;
        if (rl > room && rec_len) {
            count = (uint16_t)(room / rec_len);
            rl = (size_t)count * rec_len;
        }
        if (rl) {
            d[0] = S7_RC_OK;
            d[1] = S7_DTS_OCTET;
            put16(d + 2, (uint16_t)(8 + rl));
            put16(d + 4, id);
            put16(d + 6, index);
            put16(d + 8, rec_len);
            put16(d + 10, count);
            dlen = 12 + rl;
        } else {
            err_code = 0xD402; /* information function unavailable (snap7 server) */
        }
    } else {
        err_code = 0x8104; /* function not supported */
    }
    if (err_code) {
        d[0] = S7_RC_NO_OBJECT;
        d[1] = S7_DTS_NULL;
        put16(d + 2, 0);
        dlen = 4;
    }
    put16(q + 10, err_code);
    size_t hl = s7_header_encode(p, S7_USERDATA, h->pdu_ref, 12, (uint16_t)dlen, 0, 0);
    return s7_frame_dt(s->tx, hl + 12 + dlen);
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
    if (h.rosctr == S7_JOB && h.param_len >= 1) {
        uint8_t fn = h.param[0];
        if (fn == S7_FN_SETUP) {
            out = serve_setup(s, c, &h);
        } else if (!c->setup_done) {
            out = reply_error(s, h.pdu_ref, S7_ACK, 0x81, 0x04);
        } else if (fn == S7_FN_READ || fn == S7_FN_WRITE) {
            pthread_mutex_lock(&s->lock);
            out = fn == S7_FN_READ ? serve_read(s, c, &h) : serve_write(s, c, &h);
            pthread_mutex_unlock(&s->lock);
        } else {
            /* a function we do not serve: a bare Ack with 0x8104, the answer
             * a CPU gives (docs/s7comm.md 9, 12) */
            out = reply_error(s, h.pdu_ref, S7_ACK, 0x81, 0x04);
        }
    } else if (h.rosctr == S7_USERDATA) {
        out = serve_userdata(s, c, &h);
    }
    if (out == 0) {
        gw_log_write(s->opts.log, GW_LOG_WARN, "s7", "server: %s sent an S7 PDU we do not "
                     "serve (type %u)", c->peer, h.rosctr);
        return false;
    }
    *reply = s->tx;
    *reply_len = out;
    return true;
}

bool s7__serve_packet(gw_s7_server *s, s7_session *c, const uint8_t *frame, size_t len,
                      const uint8_t **reply, size_t *reply_len)
{
    *reply = NULL;
    *reply_len = 0;
    s->nwrites = 0;
    s->wbuf_len = 0;
    s7_cotp cotp;
    if (s7_cotp_decode(frame, len, &cotp) != GW_OK) {
        gw_log_write(s->opts.log, GW_LOG_WARN, "s7", "server: %s sent a malformed COTP packet",
                     c->peer);
        return false;
    }
    if (!c->cotp_up) {
        if (cotp.type != S7_COTP_CR)
            return false;
        /* confirm, echoing TPDU size and both TSAPs as a CPU does (nodes7
         * checks that a CC carries them: docs/s7comm.md) */
        s7_cotp cc = {0};
        cc.type = S7_COTP_CC;
        cc.dst_ref = cotp.src_ref;
        cc.src_ref = c->ref;
        cc.has_tpdu_size = true;
        cc.tpdu_size = cotp.has_tpdu_size && cotp.tpdu_size >= 0x07 && cotp.tpdu_size < 0x0A
                           ? cotp.tpdu_size : 0x0A;
        cc.has_src_tsap = true;
        cc.src_tsap = cotp.has_src_tsap ? cotp.src_tsap : 0x0100;
        cc.has_dst_tsap = true;
        cc.dst_tsap = cotp.has_dst_tsap ? cotp.dst_tsap : 0x0102;
        *reply_len = s7_cotp_encode_conn(s->tx, SRV_IN_CAP, &cc);
        *reply = s->tx;
        c->cotp_up = true;
        return true;
    }
    if (cotp.type == S7_COTP_DR) {
        /* confirm the disconnect (DC) and close, as snap7's server does */
        *reply_len = s7_cotp_encode_dc(s->tx, SRV_IN_CAP, cotp.src_ref, c->ref);
        *reply = s->tx;
        return false;
    }
    if (cotp.type == S7_COTP_DC)
        return false;
    if (cotp.type != S7_COTP_DT)
        return false;
    if (c->pdu_acc + cotp.payload_len > SRV_PDU_MAX + 64u)
        return false; /* longer than any PDU we negotiate */
    memcpy(c->pdu + c->pdu_acc, cotp.payload, cotp.payload_len);
    c->pdu_acc += cotp.payload_len;
    if (!cotp.eot)
        return true;
    size_t len_pdu = c->pdu_acc;
    c->pdu_acc = 0;
    return serve_pdu(s, c, c->pdu, len_pdu, reply, reply_len);
}

void s7__fire_writes(gw_s7_server *s, const char *peer)
{
    for (size_t i = 0; i < s->nwrites && s->opts.on_write; i++) {
        const srv_write *w = &s->writes[i];
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

/* A TPKT packet (RFC 1006): its length is in its header. */
static long tcp_frame(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    if (len < S7_TPKT_HDR)
        return 0;
    size_t total;
    if (s7_tpkt_length(data, &total) != GW_OK)
        return -1;
    return total <= len ? (long)total : 0;
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
    if (s7_cotp_decode(frame, len, &cotp) != GW_OK)
        return 0;
    if (cotp.type == S7_COTP_CR)
        return s7_cotp_encode_dr(out, cap, cotp.src_ref, 0, 0x80);
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
    gw_free(s->tx);
    pthread_mutex_destroy(&s->lock);
    gw_free(s);
}
