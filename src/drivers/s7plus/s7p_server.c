/*
 * s7p_server.c - an S7CommPlus V1 server (docs/s7commplus.md "Server") for
 * the simulator and tests: the memory of an S7 server (gw_s7_server: its
 * DBs, M, I, Q and CPU mode) served to S7CommPlus clients, python-snap7's
 * client first (its emulator's answers, docs/s7commplus.md), the real CPUs'
 * forms behind s7p_opts.
 *
 * The TCP side (sockets, one thread, faults) is core's gw_tcpsrv, the
 * COTP side the shared s7_iso_srv; each connection has a session: its
 * COTP state, a frame reassembler and the session id CreateObject gave
 * it. Responses are built in one per-server buffer (one thread serves
 * every connection). Reads go through gw_s7_server_get, writes through
 * gw_s7_server_client_write, so the S7 server's write hook sees them.
 * Anything malformed gets the Error answer (function 0x04B1) or a clean
 * close, never a read out of bounds. Clean-room, from the facts only.
 */
#include "drivers/s7plus/s7p_server_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define EBUF_CAP (S7P_SRV_MAX_ITEMS * 14u + 16u)       /* item VLQ 5 + code VLQ 9 */
#define RSP_CAP (S7P_SRV_RSP_MAX + EBUF_CAP + 64u)
/* framed: at worst TPDU 128 (125-byte payloads): 15 bytes per 117 */
#define TX_CAP (RSP_CAP + RSP_CAP / 4u + 1024u)
#define ONE_TPKT_PAYLOAD (65535u - S7_FRAME_HDR)        /* 65528 */
#define SESSION_VERSION 1u                             /* attr 306, py7's value (S4) */

typedef struct {
    uint16_t db;
    size_t n;
    char **names;
} db_names;

struct gw_s7p_server {
    gw_s7p_server_opts opts;
    char host[256];
    gw_tcpsrv *tcp;
    pthread_mutex_t lock;          /* names, next_session */
    db_names *names;
    size_t nnames;
    uint32_t next_session;
    uint8_t *rsp;                  /* the response PDU being built */
    uint8_t *ebuf;                 /* a GetMulti's error list being built */
    uint8_t *vbuf;                 /* an item's bytes */
    uint8_t *tx;                   /* the answer as TPKT packets */
    size_t tx_len;
};

struct s7p_session {
    char peer[64];
    s7_iso_srv iso;
    s7p_reasm ra;
    uint8_t *rabuf;
    uint32_t session_id;           /* 0: no session (before CreateObject, after DeleteObject) */
};

/* Where an item's bytes are. */
typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t start, len;
} mem_loc;

/* The CC as py7's emulator sends it (docs/s7commplus.md): TPDU size the CR's up to
 * 1024, no TSAPs. */
static const s7_iso_accept s7p_accept = {0x0A, false, {0, {0}}, {0, {0}}};

/* ---------------------------------------------------------------- set-up */

static bool tcp_open(void *user, gw_conn *c);
static bool tcp_serve(void *user, gw_conn *c, const uint8_t *frame, size_t len);
static size_t tcp_error_reply(void *user, const uint8_t *frame, size_t len, uint8_t *out,
                              size_t cap);
static void tcp_close(void *user, gw_conn *c);

gw_err gw_s7p_server_new(const gw_s7p_server_opts *opts, gw_s7p_server **out, gw_error *err)
{
    *out = NULL;
    if (!opts->memory)
        return gw_error_set(err, GW_E_INVAL, "an S7CommPlus server needs an S7 server's memory");
    gw_s7p_server *s = gw_calloc(1, sizeof(*s));
    if (!s)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    s->opts = *opts;
    snprintf(s->host, sizeof(s->host), "%s", opts->host ? opts->host : "127.0.0.1");
    s->opts.host = s->host;
    if (!s->opts.max_clients)
        s->opts.max_clients = 8;
    s->next_session = 1;       /* py7 hands out 1, 2, 3, ... (docs/s7commplus.md) */
    pthread_mutex_init(&s->lock, NULL);
    s->rsp = gw_malloc(RSP_CAP);
    s->ebuf = gw_malloc(EBUF_CAP);
    s->vbuf = gw_malloc(S7P_SRV_RSP_MAX);
    s->tx = gw_malloc(TX_CAP);
    gw_tcpsrv_opts to = {"s7plus", s->host, opts->port, s->opts.max_clients, 65536, opts->log,
                         {tcp_open, s7_iso_tcp_frame, tcp_serve, tcp_error_reply, tcp_close}, s};
    if (!s->rsp || !s->ebuf || !s->vbuf || !s->tx || gw_tcpsrv_new(&to, &s->tcp) != GW_OK) {
        gw_s7p_server_free(s);
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    }
    *out = s;
    return GW_OK;
}

static void names_clear(db_names *d)
{
    for (size_t i = 0; i < d->n; i++)
        gw_free(d->names[i]);
    gw_free(d->names);
    d->names = NULL;
    d->n = 0;
}

gw_err gw_s7p_server_set_names(gw_s7p_server *s, uint16_t db, const char *const *names,
                               size_t n)
{
    db_names nd = {db, 0, n ? gw_calloc(n, sizeof(char *)) : NULL};
    if (n && !nd.names)
        return GW_E_NOMEM;
    for (; nd.n < n; nd.n++) {
        size_t l = strlen(names[nd.n]);
        nd.names[nd.n] = gw_malloc(l + 1);
        if (!nd.names[nd.n]) {
            names_clear(&nd);
            return GW_E_NOMEM;
        }
        memcpy(nd.names[nd.n], names[nd.n], l + 1);
    }
    pthread_mutex_lock(&s->lock);
    size_t i = 0;
    while (i < s->nnames && s->names[i].db != db)
        i++;
    gw_err rc = GW_OK;
    if (i == s->nnames) {
        db_names *grown = gw_realloc(s->names, (s->nnames + 1) * sizeof(*grown));
        if (grown) {
            s->names = grown;
            s->names[s->nnames++] = (db_names){db, 0, NULL};
        } else {
            rc = GW_E_NOMEM;
        }
    }
    if (rc == GW_OK) {
        names_clear(&s->names[i]);
        s->names[i] = nd;
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != GW_OK)
        names_clear(&nd);
    return rc;
}

gw_err gw_s7p_server_start(gw_s7p_server *s, gw_error *err)
{
    return gw_tcpsrv_start(s->tcp, err);
}

uint16_t gw_s7p_server_port(const gw_s7p_server *s)
{
    return gw_tcpsrv_port(s->tcp);
}

gw_tcpsrv *gw_s7p_server_tcp(gw_s7p_server *s)
{
    return s->tcp;
}

size_t gw_s7p_server_clients(gw_s7p_server *s)
{
    return gw_tcpsrv_clients(s->tcp);
}

void gw_s7p_server_free(gw_s7p_server *s)
{
    if (!s)
        return;
    gw_tcpsrv_free(s->tcp);
    for (size_t i = 0; i < s->nnames; i++)
        names_clear(&s->names[i]);
    gw_free(s->names);
    gw_free(s->rsp);
    gw_free(s->ebuf);
    gw_free(s->vbuf);
    gw_free(s->tx);
    pthread_mutex_destroy(&s->lock);
    gw_free(s);
}

/* ---------------------------------------------------------------- sessions */

gw_err s7p__session_new(gw_s7p_server *s, const char *peer, s7p_session **out)
{
    (void)s;
    *out = NULL;
    s7p_session *c = gw_calloc(1, sizeof(*c));
    if (!c)
        return GW_E_NOMEM;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    c->rabuf = gw_malloc(S7P_SRV_REQ_MAX);
    /* our COTP reference 0x0001, as py7's CC has it (docs/s7commplus.md); one
     * frame per COTP DT sequence */
    if (!c->rabuf || s7_iso_srv_init(&c->iso, 0x0001, S7P_SRV_FRAME_MAX) != GW_OK) {
        gw_free(c->rabuf);
        gw_free(c);
        return GW_E_NOMEM;
    }
    s7p_reasm_init(&c->ra, c->rabuf, S7P_SRV_REQ_MAX);
    *out = c;
    return GW_OK;
}

void s7p__session_free(s7p_session *c)
{
    if (!c)
        return;
    s7_iso_srv_clear(&c->iso);
    gw_free(c->rabuf);
    gw_free(c);
}

uint32_t s7p__session_id(const s7p_session *c)
{
    return c->session_id;
}

/* A session id no live session has: 1, 2, 3, ... across connections,
 * never 0 or 288 (ObjectNullServerSession). */
static uint32_t new_session_id(gw_s7p_server *s)
{
    pthread_mutex_lock(&s->lock);
    uint32_t id = s->next_session++;
    if (id == 0 || id == S7P_ID_OBJECT_NULL_SERVER_SESSION)
        id = s->next_session++;
    if (s->next_session == 0)
        s->next_session = 1;
    pthread_mutex_unlock(&s->lock);
    return id;
}

/* ---------------------------------------------------------------- answers */

/* Appends the PDU as frames, each in its own COTP DT + TPKT. */
static bool frame_answer(gw_s7p_server *s, const s7p_session *c, const uint8_t *pdu, size_t len)
{
    size_t maxp = ONE_TPKT_PAYLOAD;
    if (s->opts.split_tpdu) {
        size_t t = s7_tpdu_bytes(c->iso.tpdu_size);
        if (t > 3 + S7P_FRAME_HDR + S7P_FRAME_TRL && t - 3 < maxp)
            maxp = t - 3;
    }
    s7p_frag f;
    s7p_frag_init(&f, S7P_V1, pdu, len, maxp);
    for (;;) {
        if (s->tx_len + S7_FRAME_HDR >= TX_CAP)
            return false;
        size_t n;
        gw_err e = s7p_frag_next(&f, s->tx + s->tx_len + S7_FRAME_HDR,
                                 TX_CAP - s->tx_len - S7_FRAME_HDR, &n);
        if (e == GW_E_NOT_FOUND)
            return true;
        if (e != GW_OK)
            return false;
        s->tx_len += s7_frame_dt(s->tx + s->tx_len, n);
    }
}

static void put_rsp_hdr(s7p_w *w, uint16_t function, uint16_t seq)
{
    s7p_hdr h = {S7P_OP_RESPONSE, function, seq, 0, 0x00};
    s7p_put_hdr(w, &h);
}

/* The Error answer (docs/s7commplus.md): function 0x04B1, 89 31 00 00 00 00. */
static size_t error_pdu(uint8_t *out, size_t cap, uint16_t seq)
{
    s7p_w w;
    s7p_w_init(&w, out, cap);
    put_rsp_hdr(&w, S7P_FN_ERROR, seq);
    s7p_error_rsp_encode(&w);
    size_t n = 0;
    return s7p_w_finish(&w, &n) == GW_OK ? n : 0;
}

static uint16_t seq_of(const uint8_t *pdu, size_t len)
{
    return len >= 9 ? (uint16_t)((pdu[7] << 8) | pdu[8]) : 0;
}

/* ---------------------------------------------------------------- items */

/* An ItemAddress as memory: DB areas 0x8A0E0000+n, and areas 80/81/82 as
 * I/Q/M with the same LIDs (py7 maps them onto DBs 80-82, a quirk we do not
 * copy); the sub-area and CRC are not checked (as py7). 0 or an error code. */
static uint64_t locate(const s7p_addr *a, mem_loc *m)
{
    s7p_addr d = *a;
    memset(m, 0, sizeof(*m));
    if ((a->area >> 16) == (S7P_DB_AREA_BASE >> 16)) {
        m->area = GW_S7_DB;
    } else if (a->area == S7P_ID_AREA_I || a->area == S7P_ID_AREA_Q || a->area == S7P_ID_AREA_M) {
        m->area = a->area == S7P_ID_AREA_I ? GW_S7_I : a->area == S7P_ID_AREA_Q ? GW_S7_Q : GW_S7_M;
        d.area = S7P_DB_AREA_BASE | 1u;
    } else {
        return GW_S7P_SRV_ERR_NO_OBJECT;
    }
    uint16_t db;
    if (s7p_addr_db_parse(&d, &db, &m->start, &m->len) != GW_OK)
        return GW_S7P_SRV_ERR_ADDRESS;
    if (m->area == GW_S7_DB) {
        if (db == 0)
            return GW_S7P_SRV_ERR_NO_OBJECT;
        m->db = db;
    }
    return m->len == 0 ? GW_S7P_SRV_ERR_RANGE : 0;
}

/* Whether the whole range is there: its last byte read. */
static uint64_t probe(gw_s7p_server *s, const mem_loc *m)
{
    if ((uint64_t)m->start + m->len > 0x100000000ull)
        return GW_S7P_SRV_ERR_RANGE;
    uint8_t b;
    gw_err rc = gw_s7_server_get(s->opts.memory, m->area, m->db, m->start + m->len - 1, 1, &b);
    return rc == GW_E_NOT_FOUND ? GW_S7P_SRV_ERR_NO_OBJECT
           : rc != GW_OK        ? GW_S7P_SRV_ERR_RANGE
                                : 0;
}

/* One GetMulti item: its value (a Blob) appended to w, or an error code. */
static uint64_t read_item(gw_s7p_server *s, s7p_w *w, uint32_t item, const s7p_addr *a)
{
    mem_loc m;
    uint64_t code = locate(a, &m);
    if (!code)
        code = probe(s, &m);
    if (code)
        return code;
    if (m.len > S7P_SRV_RSP_MAX || w->len + m.len + 32u > S7P_SRV_RSP_MAX)
        return GW_S7P_SRV_ERR_TOO_BIG;
    if (gw_s7_server_get(s->opts.memory, m.area, m.db, m.start, m.len, s->vbuf) != GW_OK)
        return GW_S7P_SRV_ERR_RANGE;
    s7p_put_vlq_u32(w, item);
    s7p_put_pv_blob(w, &s->opts.forms, s->vbuf, m.len);
    return 0;
}

/* Bytes of a fixed-width scalar type, 0 for others. */
static size_t scalar_width(uint8_t type)
{
    switch (type) {
    case S7P_T_BOOL:
    case S7P_T_USINT:
    case S7P_T_SINT:
    case S7P_T_BYTE: return 1;
    case S7P_T_UINT:
    case S7P_T_INT:
    case S7P_T_WORD: return 2;
    case S7P_T_DWORD:
    case S7P_T_REAL: return 4;
    case S7P_T_LWORD:
    case S7P_T_LREAL:
    case S7P_T_TIMESTAMP: return 8;
    default: return 0;
    }
}

/* The bytes a written value stands for: a Blob's bytes (py7), a fixed-width
 * scalar big-endian, an array of 1-byte elements. 0 or an error code. */
static uint64_t value_bytes(gw_s7p_server *s, const s7p_pvalue *pv, uint8_t tmp[8],
                            const uint8_t **bytes, size_t *len)
{
    if (pv->flags == 0 && pv->type == S7P_T_BLOB) {
        *bytes = pv->data;
        *len = pv->data_len;
        return 0;
    }
    size_t wdt = scalar_width(pv->type);
    if (pv->flags == 0 && wdt && wdt <= 8) {
        uint64_t bits = pv->type == S7P_T_SINT || pv->type == S7P_T_INT ? (uint64_t)pv->i : pv->u;
        for (size_t k = 0; k < wdt; k++)
            tmp[k] = (uint8_t)(bits >> (8u * (wdt - 1 - k)));
        *bytes = tmp;
        *len = wdt;
        return 0;
    }
    if (pv->flags == S7P_PV_ARRAY && scalar_width(pv->type) == 1 && pv->type != S7P_T_BOOL &&
        pv->count <= S7P_SRV_RSP_MAX) {
        size_t pos = 0, n = 0;
        uint64_t bits;
        while (n < pv->count && s7p_pv_elem_next(pv, &pos, &bits) == GW_OK)
            s->vbuf[n++] = (uint8_t)bits;
        *bytes = s->vbuf;
        *len = n;
        return n == pv->count ? 0 : GW_S7P_SRV_ERR_VALUE;
    }
    return GW_S7P_SRV_ERR_VALUE;
}

/* One SetMulti data item, written as an S7 client's write. */
static uint64_t write_item(gw_s7p_server *s, const s7p_session *c, const s7p_setmulti_item *it)
{
    mem_loc m;
    uint64_t code = locate(&it->addr, &m);
    if (!code)
        code = probe(s, &m);
    if (code)
        return code;
    uint8_t tmp[8];
    const uint8_t *bytes;
    size_t len;
    code = value_bytes(s, &it->pv, tmp, &bytes, &len);
    if (code)
        return code;
    if (len != m.len)
        return GW_S7P_SRV_ERR_VALUE;
    gw_err rc = gw_s7_server_client_write(s->opts.memory, m.area, m.db, m.start, m.len, bytes,
                                          -1, c->peer);
    return rc == GW_OK ? 0 : rc == GW_E_NOT_FOUND ? GW_S7P_SRV_ERR_NO_OBJECT
                                                  : GW_S7P_SRV_ERR_RANGE;
}

/* ---------------------------------------------------------------- functions */

static bool serve_createobj(gw_s7p_server *s, s7p_session *c, s7p_w *w, const uint8_t *p,
                            size_t n)
{
    s7p_createobj_req req;
    if (s7p_createobj_req_decode(p, n, &s->opts.forms, &req) != GW_OK)
        return false;
    c->session_id = new_session_id(s);
    /* py7's answer (docs/s7commplus.md): VV 01, attr 305 and attr 306 (USInt,
     * then UDInt), no attr 233 (a 19-character "XX:" string there would
     * start the SessionKey path) */
    s7p_createobj_rsp_encode_py7(w, c->session_id, SESSION_VERSION);
    gw_log_write(s->opts.log, GW_LOG_DEBUG, "s7plus", "server: %s: session %u", c->peer,
                 (unsigned)c->session_id);
    return true;
}

static bool serve_getmulti(gw_s7p_server *s, s7p_w *w, const uint8_t *p, size_t n)
{
    s7p_getmulti_req req;
    if (s7p_getmulti_req_decode(p, n, &req) != GW_OK || req.item_count > S7P_SRV_MAX_ITEMS)
        return false;
    s7p_w ew;
    s7p_w_init(&ew, s->ebuf, EBUF_CAP);
    s7p_getmulti_rsp_begin(w, 0);
    size_t pos = 0;
    for (uint32_t k = 1; k <= req.item_count; k++) {
        s7p_addr a;
        if (s7p_addr_next(req.addrs, req.addrs_len, &pos, &a) != GW_OK)
            return false;
        uint64_t code = read_item(s, w, k, &a);
        if (code)
            s7p_put_item_error(&ew, k, code);
    }
    s7p_put_u8(w, 0);
    s7p_put_bytes(w, s->ebuf, ew.len);
    s7p_getmulti_rsp_end(w, 0);
    return s7p_w_ok(w) && s7p_w_ok(&ew);
}

static bool serve_setmulti(gw_s7p_server *s, const s7p_session *c, s7p_w *w, const uint8_t *p,
                           size_t n)
{
    s7p_setmulti_req req;
    if (s7p_setmulti_req_decode(p, n, &s->opts.forms, &req) != GW_OK ||
        req.item_count > S7P_SRV_MAX_ITEMS)
        return false;
    s7p_setmulti_rsp_begin(w, 0);
    s7p_setmulti_iter it = {0};
    for (uint32_t k = 0; k < req.item_count; k++) {
        s7p_setmulti_item item;
        if (s7p_setmulti_next(&req, &s->opts.forms, &it, &item) != GW_OK)
            return false;
        uint64_t code;
        if (req.in_object_id > 0) {
            /* session attributes: the ServerSessionVersion echo (docs/s7commplus.md) */
            code = req.in_object_id == c->session_id &&
                           item.attr_id == S7P_ID_SERVER_SESSION_VERSION
                       ? 0 : GW_S7P_SRV_ERR_NO_OBJECT;
        } else {
            code = write_item(s, c, &item);
        }
        if (code)
            s7p_put_item_error(w, item.item_number, code);
    }
    s7p_getmulti_rsp_end(w, 0);
    return s7p_w_ok(w);
}

static const char *const *names_of(gw_s7p_server *s, uint16_t db, size_t *n)
{
    for (size_t i = 0; i < s->nnames; i++)
        if (s->names[i].db == db) {
            *n = s->names[i].n;
            return (const char *const *)s->names[i].names;
        }
    *n = 0;
    return NULL;
}

/* Every DB in ascending order (docs/s7commplus.md); the request is read only for
 * its ExploreId (echoed with the explore_id form). */
static bool serve_explore(gw_s7p_server *s, s7p_w *w, const uint8_t *p, size_t n)
{
    s7p_explore_req req;
    gw_err e = s7p_explore_req_decode(p, n, &req);
    if (e == GW_E_PROTOCOL)
        return false;
    size_t ndb = gw_s7_server_dbs(s->opts.memory, NULL, NULL, 0);
    uint16_t *nums = gw_malloc((ndb ? ndb : 1) * sizeof(*nums));
    uint32_t *sizes = gw_malloc((ndb ? ndb : 1) * sizeof(*sizes));
    bool ok = nums && sizes;
    if (ok) {
        size_t again = gw_s7_server_dbs(s->opts.memory, nums, sizes, ndb);
        if (again < ndb)
            ndb = again;
        s7p_explore_rsp_begin(w, &s->opts.forms, 0, e == GW_OK ? req.explore_id : 0);
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < ndb; i++) {
            size_t nn;
            const char *const *names = names_of(s, nums[i], &nn);
            s7p_explore_put_db(w, &s->opts.forms, nums[i], sizes[i], names, nn);
        }
        pthread_mutex_unlock(&s->lock);
        s7p_explore_rsp_end(w);
        ok = s7p_w_ok(w);
    }
    gw_free(nums);
    gw_free(sizes);
    return ok;
}

/* py7's short form (u32 0) ends the session; the long form names it. */
static bool serve_deleteobj(s7p_session *c, s7p_w *w, const uint8_t *p, size_t n)
{
    s7p_deleteobj_req req;
    if (s7p_deleteobj_req_decode(p, n, &req) != GW_OK ||
        (req.long_form && req.object_id != c->session_id))
        return false;
    c->session_id = 0;
    s7p_deleteobj_rsp_encode(w, 0);
    return true;
}

/* One whole request PDU: its answer framed into s->tx. */
static void serve_pdu(gw_s7p_server *s, s7p_session *c, const uint8_t *pdu, size_t len)
{
    s7p_hdr h;
    const uint8_t *p;
    size_t n;
    bool ok = false;
    s7p_w w;
    s7p_w_init(&w, s->rsp, RSP_CAP);
    if (s7p_hdr_decode(pdu, len, &h, &p, &n) == GW_OK && h.opcode == S7P_OP_REQUEST) {
        put_rsp_hdr(&w, h.function, h.seq);
        bool session = c->session_id != 0;
        switch (h.function) {
        case S7P_FN_INIT_SSL:
            ok = s7p_initssl_req_decode(p, n) == GW_OK;
            s7p_initssl_rsp_encode(&w, 0);
            break;
        case S7P_FN_CREATE_OBJECT: ok = serve_createobj(s, c, &w, p, n); break;
        case S7P_FN_GET_MULTI: ok = session && serve_getmulti(s, &w, p, n); break;
        case S7P_FN_SET_MULTI: ok = session && serve_setmulti(s, c, &w, p, n); break;
        case S7P_FN_EXPLORE: ok = session && serve_explore(s, &w, p, n); break;
        case S7P_FN_DELETE_OBJECT: ok = serve_deleteobj(c, &w, p, n); break;
        default: break;
        }
    }
    size_t out = 0;
    if (!ok || s7p_w_finish(&w, &out) != GW_OK) {
        gw_log_write(s->opts.log, GW_LOG_DEBUG, "s7plus", "server: %s: Error answer to a %s "
                     "request (function 0x%04X)", c->peer, len < S7P_REQ_HDR ? "short" : "bad",
                     len >= 5 ? (unsigned)((pdu[3] << 8) | pdu[4]) : 0u);
        out = error_pdu(s->rsp, RSP_CAP, seq_of(pdu, len));
    }
    if (!frame_answer(s, c, s->rsp, out))
        gw_log_write(s->opts.log, GW_LOG_ERROR, "s7plus", "server: %s: answer of %zu bytes "
                     "does not fit the send buffer", c->peer, out);
}

bool s7p__serve_packet(gw_s7p_server *s, s7p_session *c, const uint8_t *frame, size_t len,
                       const uint8_t **reply, size_t *reply_len)
{
    *reply = s->tx;
    *reply_len = 0;
    s->tx_len = 0;
    const uint8_t *pdu;
    size_t pdu_len, cotp_len;
    s7_iso_srv_step step = s7_iso_srv_packet(&c->iso, &s7p_accept, frame, len, s->tx, TX_CAP,
                                             &cotp_len, &pdu, &pdu_len);
    *reply_len = cotp_len;
    switch (step) {
    case S7_ISO_SRV_BAD:
        gw_log_write(s->opts.log, GW_LOG_WARN, "s7plus", "server: %s sent a malformed COTP "
                     "packet", c->peer);
        return false;
    case S7_ISO_SRV_CLOSE: return false;
    case S7_ISO_SRV_KEEP: return true;
    case S7_ISO_SRV_PDU: break;
    }
    s7p_frame f;
    bool done;
    gw_err e = s7p_reasm_feed(&c->ra, pdu, pdu_len, &f, &done);
    if (e != GW_OK) {
        /* no frame to answer under: the framing cannot be trusted */
        gw_log_write(s->opts.log, GW_LOG_WARN, "s7plus", "server: %s sent a %s; closing",
                     c->peer, e == GW_E_RANGE ? "request larger than we accept"
                                              : "malformed S7CommPlus frame");
        return false;
    }
    /* keep-alive and system-event frames get no answer (docs/s7commplus.md: the sources give none) */
    if (!done || f.kind != S7P_FRAME_DATA)
        return true;
    serve_pdu(s, c, f.data, f.data_len);
    *reply_len = s->tx_len;
    return true;
}

/* ---------------------------------------------------------------- tcpsrv */

static bool tcp_open(void *user, gw_conn *c)
{
    s7p_session *sess;
    if (s7p__session_new(user, gw_conn_peer(c), &sess) != GW_OK)
        return false;
    gw_conn_set_user(c, sess);
    return true;
}

static void tcp_close(void *user, gw_conn *c)
{
    (void)user;
    s7p__session_free(gw_conn_user(c));
}

static bool tcp_serve(void *user, gw_conn *c, const uint8_t *frame, size_t len)
{
    const uint8_t *reply;
    size_t reply_len;
    bool keep = s7p__serve_packet(user, gw_conn_user(c), frame, len, &reply, &reply_len);
    if (reply_len)
        gw_conn_reply(c, reply, reply_len);
    return keep;
}

/* The ERROR fault: a connection request gets a disconnect, a request in a
 * whole frame the Error answer. */
static size_t tcp_error_reply(void *user, const uint8_t *frame, size_t len, uint8_t *out,
                              size_t cap)
{
    (void)user;
    s7_cotp cotp;
    size_t dr = s7_iso_error_reply(frame, len, out, cap, &cotp);
    if (dr)
        return dr;
    s7p_frame f;
    if (cotp.type != S7_COTP_DT || s7p_frame_decode(cotp.payload, cotp.payload_len, &f) != GW_OK ||
        f.kind != S7P_FRAME_DATA || cap < S7_FRAME_HDR + 64)
        return 0;
    uint8_t pdu[32];
    size_t n = error_pdu(pdu, sizeof(pdu), seq_of(f.data, f.data_len));
    memcpy(out + S7_FRAME_HDR + S7P_FRAME_HDR, pdu, n);
    size_t fl = s7p_frame_wrap(out + S7_FRAME_HDR, cap - S7_FRAME_HDR, S7P_V1, n);
    return fl ? s7_frame_dt(out, fl) : 0;
}
