/*
 * s7p_client.c - the S7CommPlus V1 client (s7plus.h): session set-up,
 * absolute reads and writes of byte ranges, Explore, close.
 *
 * One thread owns a client. Every request goes out as one frame in one
 * TPKT (py7's emulator reads exactly one TPKT per request); responses are
 * reassembled from as many frames as the PLC sends. Every wait has a
 * deadline. A broken link (timeout, lost connection, malformed answer,
 * wrong sequence number) closes the connection, so the next call starts
 * clean; a PLC that says no to an item fails that item's ranges alone, and
 * a refused request fails its ranges with the link left open - the S7
 * client's error model (s7.h). docs/s7commplus.md "Client" has the bytes.
 */
#include "s7p_client_internal.h"
#include "drivers/s7/s7_iso.h"

#include <stdlib.h>
#include <string.h>

#define RX_CAP (1024u * 1024u) /* one reassembled response (Explore can be big) */
#define TX_CAP 65536u          /* one request: one frame in one TPKT */
#define ITEM_MAX 16384u        /* bytes per read or write item */
#define RSP_BUDGET 60000u      /* value bytes per GetMulti answer: one py7 TPKT */
#define REQ_BUDGET 60000u      /* value bytes per SetMulti request */
#define ITEM_COST 24u          /* per item: address or ItemNumber + PValue head */
#define CLOSE_WAIT_MS 500u     /* at most this long for DeleteObject's answer */
#define SESSION_PAOM 319u      /* element of Struct 306 that real CPUs want blank */

struct gw_s7p_client {
    gw_s7p_opts opts;      /* host, port, timeouts: as given; the iso's are in use */
    s7_iso *iso;
    uint8_t *rx, *tx;
    s7p_reasm ra;
    uint16_t seq;          /* the next request's */
    uint16_t req_seq, req_fn;
    uint8_t rsp_vv;        /* the last response's version byte */
    uint32_t session;      /* 0 until CreateObject answered */
    bool up;               /* session set up: DeleteObject on close */
    uint64_t trips;
};

/* ---------------------------------------------------------------- set-up */

gw_err gw_s7p_client_new(const gw_s7p_opts *opts, gw_s7p_client **out)
{
    *out = NULL;
    gw_s7p_client *c = gw_calloc(1, sizeof(*c));
    if (!c)
        return GW_E_NOMEM;
    c->opts = *opts;
    if (!c->opts.max_items)
        c->opts.max_items = GW_S7_DEFAULT_MAX_ITEMS;
    if (!c->opts.gap)
        c->opts.gap = GW_S7_DEFAULT_GAP;
    /* host 127.0.0.1, port 102, timeouts 2000 ms: s7_iso's defaults */
    s7_iso_opts io = {opts->host, opts->port, opts->connect_timeout_ms, opts->send_timeout_ms,
                      opts->recv_timeout_ms, opts->log, "s7plus", "S7CommPlus"};
    c->rx = gw_malloc(RX_CAP);
    c->tx = gw_malloc(TX_CAP);
    if (!c->rx || !c->tx || s7_iso_new(&io, &c->iso) != GW_OK) {
        gw_s7p_client_free(c);
        return GW_E_NOMEM;
    }
    s7p_reasm_init(&c->ra, c->rx, RX_CAP);
    *out = c;
    return GW_OK;
}

void gw_s7p_client_free(gw_s7p_client *c)
{
    if (!c)
        return;
    if (c->iso)
        gw_s7p_close(c);
    s7_iso_free(c->iso);
    gw_free(c->rx);
    gw_free(c->tx);
    gw_free(c);
}

bool gw_s7p_connected(const gw_s7p_client *c)
{
    return c->up && s7_iso_is_open(c->iso);
}

uint32_t gw_s7p_session_id(const gw_s7p_client *c)
{
    return c->session;
}

uint64_t gw_s7p_round_trips(const gw_s7p_client *c)
{
    return c->trips;
}

/* The link went down under us: the session goes with it. */
static gw_err io_done(gw_s7p_client *c, gw_err rc)
{
    if (rc != GW_OK && !s7_iso_is_open(c->iso)) {
        c->up = false;
        c->session = 0;
    }
    return rc;
}

/* "plc HOST:PORT: <msg>"; closes on a link error (s7_iso_fail). */
static gw_err fail(gw_s7p_client *c, gw_error *err, gw_err code, const char *fmt, ...)
    GW_PRINTF(4, 5);

static gw_err fail(gw_s7p_client *c, gw_error *err, gw_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_err rc = s7_iso_vfail(c->iso, err, code, 0, fmt, ap);
    va_end(ap);
    return io_done(c, rc);
}

/* A failure that ends the session whatever its code (set-up refused). */
static gw_err fail_close(gw_s7p_client *c, gw_err rc)
{
    s7_iso_close(c->iso);
    return io_done(c, rc == GW_OK ? GW_E_PROTOCOL : rc);
}

static const char *fn_name(uint16_t fn)
{
    switch (fn) {
    case S7P_FN_INIT_SSL: return "InitSSL";
    case S7P_FN_CREATE_OBJECT: return "CreateObject";
    case S7P_FN_DELETE_OBJECT: return "DeleteObject";
    case S7P_FN_GET_MULTI: return "GetMultiVariables";
    case S7P_FN_SET_MULTI: return "SetMultiVariables";
    case S7P_FN_EXPLORE: return "Explore";
    default: return "request";
    }
}

/* ---------------------------------------------------------------- exchanges */

/* Starts a request in c->tx after the frame header: the request header
 * with the next sequence number (py7: 0, 1, 2, ...; after 65535 comes 1). */
static void req_begin(gw_s7p_client *c, s7p_w *w, uint16_t fn, uint8_t flags, uint32_t session)
{
    s7p_w_init(w, c->tx + S7P_FRAME_HDR, TX_CAP - S7P_FRAME_HDR - S7P_FRAME_TRL - 8u);
    c->req_seq = c->seq;
    c->req_fn = fn;
    c->seq = c->seq == 0xFFFF ? 1 : (uint16_t)(c->seq + 1);
    s7p_hdr h = {S7P_OP_REQUEST, fn, c->req_seq, session, flags};
    s7p_put_hdr(w, &h);
}

/* Sends the request in w as one frame (version vv) in one TPKT and
 * receives its answer within timeout_ms (0: recv_timeout_ms):
 * *payload and *len: after the response header, valid until the next
 * exchange. GW_E_DEVICE_REJECTED (link kept) for an Error answer. */
static gw_err exchange(gw_s7p_client *c, const s7p_w *w, uint8_t vv, uint32_t timeout_ms,
                       const uint8_t **payload, size_t *len, gw_error *err)
{
    size_t n;
    if (!s7_iso_is_open(c->iso))
        return fail(c, err, GW_E_CONN_LOST, "not connected");
    if (s7p_w_finish(w, &n) != GW_OK)
        return fail(c, err, GW_E_INVAL, "%s does not fit one frame", fn_name(c->req_fn));
    size_t frame = s7p_frame_wrap(c->tx, TX_CAP, vv, n);
    gw_err rc = io_done(c, s7_iso_send_pdu(c->iso, c->tx, frame, true, err));
    if (rc != GW_OK)
        return rc;
    if (!timeout_ms)
        timeout_ms = s7_iso_opts_of(c->iso)->recv_timeout_ms;
    uint64_t deadline = gw_mono_ms() + timeout_ms;
    s7p_reasm_reset(&c->ra);
    for (;;) {
        const uint8_t *dt;
        size_t dl;
        bool eot, done;
        rc = io_done(c, s7_iso_recv_dt(c->iso, deadline, &dt, &dl, &eot, err));
        if (rc != GW_OK)
            return rc;
        s7p_frame f;
        gw_err e = s7p_reasm_feed(&c->ra, dt, dl, &f, &done);
        if (e == GW_E_RANGE)
            return fail(c, err, GW_E_PROTOCOL, "S7CommPlus answer longer than %u bytes", RX_CAP);
        if (e != GW_OK)
            return fail(c, err, GW_E_PROTOCOL, "malformed S7CommPlus frame (%zu bytes, starts "
                        "0x%02X)", dl, dl ? dt[0] : 0);
        if (!done || f.kind != S7P_FRAME_DATA)
            continue; /* more fragments; keep-alives and system events */
        if (f.data_len && f.data[0] == S7P_OP_NOTIFICATION)
            continue; /* we subscribe to nothing */
        c->rsp_vv = f.vv;
        char why[128];
        uint32_t code = 0;
        e = s7p__check_rsp(f.data, f.data_len, c->req_fn, c->req_seq, payload, len, &code, why,
                           sizeof(why));
        if (e == GW_E_DEVICE_REJECTED) {
            c->trips++;
            rc = fail(c, err, GW_E_DEVICE_REJECTED, "%s refused by the CPU: %s", fn_name(c->req_fn),
                      why);
            if (err)
                err->device_code = (int)code;
            return rc;
        }
        if (e != GW_OK)
            return fail(c, err, e, "%s", why);
        c->trips++;
        return GW_OK;
    }
}

gw_err s7p__check_rsp(const uint8_t *pdu, size_t len, uint16_t function, uint16_t seq,
                      const uint8_t **payload, size_t *payload_len, uint32_t *code, char *why,
                      size_t why_size)
{
    s7p_hdr h;
    *code = 0;
    gw_err e = s7p_hdr_decode(pdu, len, &h, payload, payload_len);
    if (e != GW_OK || h.opcode != S7P_OP_RESPONSE) {
        snprintf(why, why_size, "expected an S7CommPlus response, got %zu bytes starting 0x%02X",
                 len, len ? pdu[0] : 0);
        return GW_E_PROTOCOL;
    }
    if (h.seq != seq) {
        snprintf(why, why_size, "answer to request %u, not to %u (sequence number)", h.seq, seq);
        return GW_E_PROTOCOL;
    }
    if (h.function == S7P_FN_ERROR || h.function == S7P_FN_ERROR2) {
        if (s7p_error_rsp_decode(*payload, *payload_len, code) != GW_OK)
            *code = 0;
        snprintf(why, why_size, "Error answer (function 0x%04X, code %u)", h.function, *code);
        return GW_E_DEVICE_REJECTED;
    }
    if (h.function != function) {
        snprintf(why, why_size, "answer of function 0x%04X to a request of function 0x%04X",
                 h.function, function);
        return GW_E_PROTOCOL;
    }
    return GW_OK;
}

/* ---------------------------------------------------------------- connect */

static gw_err init_ssl(gw_s7p_client *c, gw_error *err)
{
    s7p_w w;
    const uint8_t *p;
    size_t len;
    uint64_t ret;
    req_begin(c, &w, S7P_FN_INIT_SSL, S7P_TF_INIT_SSL, 0);
    s7p_initssl_req_encode(&w);
    gw_err rc = exchange(c, &w, S7P_V1, 0, &p, &len, err);
    if (rc == GW_E_DEVICE_REJECTED) {
        gw_error_hint(err, "the CPU may want TLS (TIA Portal V17+ projects), which plcgw does "
                      "not speak; use the S7 driver with PUT/GET access instead");
        return fail_close(c, rc);
    }
    if (rc != GW_OK)
        return rc;
    if (s7p_initssl_rsp_decode(p, len, &ret) != GW_OK)
        return fail(c, err, GW_E_PROTOCOL, "malformed InitSSL answer (%zu bytes)", len);
    if (ret != 0) {
        fail(c, err, GW_E_DEVICE_REJECTED, "InitSSL refused by the CPU (return value 0x%llX)",
             (unsigned long long)ret);
        return fail_close(c, GW_E_DEVICE_REJECTED);
    }
    return GW_OK;
}

/* CreateObject, then the ServerSessionVersion echo (docs S5 steps 3-4). */
static gw_err create_session(gw_s7p_client *c, gw_error *err)
{
    const s7p_opts *o = &c->opts.forms;
    s7p_w w;
    const uint8_t *p;
    size_t len;
    req_begin(c, &w, S7P_FN_CREATE_OBJECT, S7P_TF_36, S7P_ID_OBJECT_NULL_SERVER_SESSION);
    s7p_createobj_req_encode_session(&w, o);
    gw_err rc = exchange(c, &w, S7P_V1, 0, &p, &len, err);
    if (rc != GW_OK)
        return rc == GW_E_DEVICE_REJECTED ? fail_close(c, rc) : rc;
    if (c->rsp_vv != S7P_V1) {
        fail(c, err, GW_E_UNSUPPORTED, "the CPU answered CreateObject in protocol V%u; plcgw "
             "speaks V1 only", c->rsp_vv);
        gw_error_hint(err, "V2/V3 need TLS or a session key (newer firmware); use the S7 "
                      "driver with PUT/GET access instead");
        return fail_close(c, GW_E_UNSUPPORTED);
    }
    s7p_createobj_rsp rsp;
    if (s7p_createobj_rsp_decode(p, len, o, &rsp) != GW_OK)
        return fail(c, err, GW_E_PROTOCOL, "malformed CreateObject answer (%zu bytes)", len);
    if (rsp.ret != 0 || rsp.ret_error_object) {
        fail(c, err, GW_E_DEVICE_REJECTED, "CreateObject refused by the CPU (return value "
             "0x%llX)", (unsigned long long)rsp.ret);
        return fail_close(c, GW_E_DEVICE_REJECTED);
    }
    if (rsp.n_object_ids == 0 || rsp.session_id == 0 || !rsp.has_version)
        return fail(c, err, GW_E_PROTOCOL, "CreateObject answer without a session id or a "
                    "ServerSessionVersion (attribute 306)");
    c->session = rsp.session_id;
    /* the echo reads the version out of c->rx while it writes c->tx */
    uint32_t attr = S7P_ID_SERVER_SESSION_VERSION;
    req_begin(c, &w, S7P_FN_SET_MULTI, S7P_TF_34, c->session);
    s7p_setmulti_req_begin_attrs(&w, c->session, &attr, 1);
    s7p_put_vlq_u32(&w, 1);
    s7p__session_echo(&w, o, &rsp.version);
    s7p_setmulti_req_end(&w, o, NULL);
    rc = exchange(c, &w, S7P_V2, 0, &p, &len, err);
    if (rc != GW_OK)
        return rc == GW_E_DEVICE_REJECTED ? fail_close(c, rc) : rc;
    s7p_setmulti_rsp sr;
    if (s7p_setmulti_rsp_decode(p, len, &sr) != GW_OK)
        return fail(c, err, GW_E_PROTOCOL, "malformed session set-up answer (%zu bytes)", len);
    if (sr.ret != 0 || sr.ret_error_object || sr.errors_len > 0) {
        fail(c, err, GW_E_DEVICE_REJECTED, "the CPU refused the session set-up (return value "
             "0x%llX%s)", (unsigned long long)sr.ret, sr.errors_len ? ", item error" : "");
        gw_error_hint(err, "the CPU may need a session key or TLS (firmware with V2/V3)");
        return fail_close(c, GW_E_DEVICE_REJECTED);
    }
    return GW_OK;
}

void s7p__session_echo(s7p_w *w, const s7p_opts *o, const s7p_pvalue *v)
{
    if (v->type != S7P_T_STRUCT || v->packed || v->flags != 0) {
        s7p_put_bytes(w, v->raw, v->raw_len);
        return;
    }
    s7p_put_pv_struct_begin(w, v->struct_id);
    size_t pos = 0;
    uint32_t key;
    s7p_pvalue m;
    while (s7p_struct_next(v, o, &pos, &key, &m) == GW_OK) {
        s7p_put_vlq_u32(w, key);
        if (key == SESSION_PAOM && m.type == S7P_T_WSTRING && m.flags == 0)
            s7p_put_pv_wstring(w, "", 0);
        else
            s7p_put_bytes(w, m.raw, m.raw_len);
    }
    s7p_put_pv_struct_end(w);
}

gw_err gw_s7p_connect(gw_s7p_client *c, gw_error *err)
{
    gw_s7p_close(c);
    gw_err rc = io_done(c, s7_iso_tcp_connect(c->iso, err));
    if (rc != GW_OK)
        return rc;
    /* COTP CR as py7 sends it (docs S1): C1 0x0600, C2 "SIMATIC-ROOT-HMI", C0 1024 */
    s7_cotp cr = {0}, cc;
    cr.type = S7_COTP_CR;
    cr.src_ref = 1;
    cr.has_tpdu_size = true;
    cr.tpdu_size = 0x0A;
    cr.tpdu_size_last = true;
    cr.has_src_tsap = cr.has_dst_tsap = true;
    cr.src_tsap = 0x0600;
    s7_tsap_set(&cr.dst_tsap_bytes, "SIMATIC-ROOT-HMI", 16);
    rc = io_done(c, s7_iso_cotp_connect(c->iso, &cr, &cc, err));
    if (rc == GW_E_CONN_LOST || rc == GW_E_CONN_REFUSED)
        gw_error_hint(err, "is it an S7-1200/1500 (S7CommPlus, TSAP SIMATIC-ROOT-HMI)? Older "
                      "CPUs speak S7comm only: use the s7 driver");
    if (rc != GW_OK)
        return rc;
    s7_iso_set_established(c->iso);
    c->seq = 0;
    c->session = 0;
    if ((rc = init_ssl(c, err)) != GW_OK || (rc = create_session(c, err)) != GW_OK)
        return rc;
    c->up = true;
    gw_log_write(c->opts.log, GW_LOG_INFO, "s7plus", "%s:%u: connected, S7CommPlus V1 session "
                 "%u", s7_iso_host(c->iso), s7_iso_port(c->iso), c->session);
    return GW_OK;
}

void gw_s7p_close(gw_s7p_client *c)
{
    if (c->up && s7_iso_is_open(c->iso)) {
        /* DeleteObject of our session; its answer is waited for briefly */
        s7p_w w;
        const uint8_t *p;
        size_t len;
        gw_error quiet;
        req_begin(c, &w, S7P_FN_DELETE_OBJECT, S7P_TF_36, c->session);
        s7p_deleteobj_req_encode(&w, &c->opts.forms, c->session, NULL);
        uint32_t recv_ms = s7_iso_opts_of(c->iso)->recv_timeout_ms;
        uint32_t wait = recv_ms < CLOSE_WAIT_MS ? recv_ms : CLOSE_WAIT_MS;
        (void)exchange(c, &w, S7P_V1, wait, &p, &len, &quiet);
    }
    c->up = false;
    c->session = 0;
    s7_iso_close(c->iso); /* COTP DR, short wait for DC */
}

/* ---------------------------------------------------------------- items */

gw_err s7p__item_addr(const s7p_opts *o, const s7p_item *it, s7p_addr *a)
{
    switch (it->area) {
    case GW_S7_DB:
        return s7p_addr_db(o, it->db, it->start, it->len, a);
    case GW_S7_M:
    case GW_S7_I:
    case GW_S7_Q: {
        gw_err e = s7p_addr_db(o, 0, it->start, it->len, a);
        a->area = it->area == GW_S7_M ? S7P_ID_AREA_M
                  : it->area == GW_S7_I ? S7P_ID_AREA_I : S7P_ID_AREA_Q;
        a->sub_area = S7P_ID_CONTROLLER_AREA_VALUE_ACTUAL;
        return e;
    }
    default:
        return GW_E_UNSUPPORTED;
    }
}

gw_err s7p__item_err(uint64_t code)
{
    return code == S7P_ERR_NO_DB ? GW_E_NOT_FOUND : GW_E_DEVICE_REJECTED;
}

/* An S7 item return code for our error, so that the S7 texts and hints
 * (gw_s7_item_rc_text) fit; 0 where none does. */
static uint8_t rc_of(gw_err e)
{
    switch (e) {
    case GW_OK: return S7_RC_OK;
    case GW_E_NOT_FOUND: return S7_RC_NO_OBJECT;
    case GW_E_RANGE: return S7_RC_OUT_OF_RANGE;
    case GW_E_TYPE: return S7_RC_TYPE_INCONSISTENT;
    case GW_E_ACCESS: return S7_RC_ACCESS;
    default: return 0;
    }
}

/* The bytes of a read value: a Blob (py7 sends every value so), an array
 * of 1-byte elements, or a 1-byte scalar. */
static bool value_bytes(const s7p_pvalue *pv, const uint8_t **p, size_t *n, uint8_t *one)
{
    bool one_byte = pv->type == S7P_T_USINT || pv->type == S7P_T_BYTE ||
                    pv->type == S7P_T_SINT || pv->type == S7P_T_BOOL;
    if (pv->type == S7P_T_BLOB && pv->flags == 0) {
        *p = pv->data;
        *n = pv->data_len;
        return true;
    }
    if (one_byte && pv->flags == S7P_PV_ARRAY && pv->data_len == pv->count) {
        *p = pv->data;
        *n = pv->data_len;
        return true;
    }
    if (one_byte && pv->flags == 0) {
        *one = pv->type == S7P_T_SINT ? (uint8_t)pv->i : (uint8_t)pv->u;
        *p = one;
        *n = 1;
        return true;
    }
    return false;
}

/* Item number (1-based) of a list entry, checked: GW_E_PROTOCOL when out
 * of range or seen before. */
static bool item_ok(uint32_t item, size_t n, uint8_t *seen)
{
    if (item == 0 || item > n || seen[item - 1])
        return false;
    seen[item - 1] = 1;
    return true;
}

/* The error list of a GetMulti or SetMulti answer (`what`): each entry
 * fails its item; seen marks the items named already. GW_E_PROTOCOL for
 * an item named twice or out of range, or a malformed list. */
static gw_err parse_errors(const uint8_t *errors, size_t len, s7p_item *items, size_t n,
                           uint8_t *seen, const char *what, char *why, size_t why_size)
{
    size_t pos = 0;
    uint32_t item;
    uint64_t code;
    gw_err e;
    while ((e = s7p_error_next(errors, len, &pos, &item, &code)) == GW_OK) {
        if (!item_ok(item, n, seen)) {
            snprintf(why, why_size, "%s answer names item %u of %zu twice or out of range",
                     what, item, n);
            return GW_E_PROTOCOL;
        }
        items[item - 1].result = s7p__item_err(code);
        items[item - 1].code = code;
    }
    if (e != GW_E_NOT_FOUND) {
        snprintf(why, why_size, "malformed error list in a %s answer", what);
        return GW_E_PROTOCOL;
    }
    return GW_OK;
}

gw_err s7p__parse_read(const s7p_opts *o, const uint8_t *p, size_t len, s7p_item *items,
                       size_t n, uint8_t *buf, size_t buf_len, char *why, size_t why_size)
{
    s7p_getmulti_rsp rsp;
    uint8_t seen[256];
    if (n > sizeof(seen)) {
        snprintf(why, why_size, "%zu items in one request", n);
        return GW_E_INVAL;
    }
    memset(seen, 0, n);
    gw_err e = s7p_getmulti_rsp_decode(p, len, o, &rsp);
    if (e != GW_OK) {
        snprintf(why, why_size, "malformed GetMultiVariables answer (%zu bytes)", len);
        return e;
    }
    if (rsp.ret != 0 || rsp.ret_error_object) {
        for (size_t i = 0; i < n; i++) {
            items[i].result = GW_E_DEVICE_REJECTED;
            items[i].code = 0;
        }
        snprintf(why, why_size, "return value 0x%llX", (unsigned long long)rsp.ret);
        return GW_E_DEVICE_REJECTED;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].result = GW_E_PROTOCOL; /* until the answer names it */
        items[i].code = 0;
    }
    size_t pos = 0;
    uint32_t item;
    s7p_pvalue pv;
    while ((e = s7p_value_next(rsp.values, rsp.values_len, o, &pos, &item, &pv)) == GW_OK) {
        if (!item_ok(item, n, seen)) {
            snprintf(why, why_size, "GetMultiVariables answer names item %u of %zu twice or "
                     "out of range", item, n);
            return GW_E_PROTOCOL;
        }
        s7p_item *it = &items[item - 1];
        const uint8_t *bytes;
        size_t got;
        uint8_t one;
        if (!value_bytes(&pv, &bytes, &got, &one))
            it->result = GW_E_TYPE;
        else if (got != it->len || (uint64_t)it->buf_off + it->len > buf_len)
            it->result = GW_E_RANGE;
        else {
            memcpy(buf + it->buf_off, bytes, got);
            it->result = GW_OK;
        }
    }
    if (e != GW_E_NOT_FOUND) {
        snprintf(why, why_size, "malformed value list in a GetMultiVariables answer");
        return GW_E_PROTOCOL;
    }
    return parse_errors(rsp.errors, rsp.errors_len, items, n, seen, "GetMultiVariables", why, why_size);
}

gw_err s7p__parse_write(const uint8_t *p, size_t len, s7p_item *items, size_t n, char *why,
                        size_t why_size)
{
    s7p_setmulti_rsp rsp;
    uint8_t seen[256];
    if (n > sizeof(seen)) {
        snprintf(why, why_size, "%zu items in one request", n);
        return GW_E_INVAL;
    }
    memset(seen, 0, n);
    gw_err e = s7p_setmulti_rsp_decode(p, len, &rsp);
    if (e != GW_OK) {
        snprintf(why, why_size, "malformed SetMultiVariables answer (%zu bytes)", len);
        return e;
    }
    bool refused = rsp.ret != 0 || rsp.ret_error_object;
    for (size_t i = 0; i < n; i++) {
        items[i].result = refused ? GW_E_DEVICE_REJECTED : GW_OK;
        items[i].code = 0;
    }
    if (refused) {
        snprintf(why, why_size, "return value 0x%llX", (unsigned long long)rsp.ret);
        return GW_E_DEVICE_REJECTED;
    }
    return parse_errors(rsp.errors, rsp.errors_len, items, n, seen, "SetMultiVariables", why, why_size);
}

/* ---------------------------------------------------------------- reads */

/* A part of a caller's range inside one item. */
typedef struct {
    size_t range;
    uint32_t range_off;
    size_t item;
    uint32_t item_off, len;
    gw_s7_area area;       /* planning only */
    uint16_t db;
    uint32_t start;
} piece;

typedef struct {
    s7p_item *items;
    size_t nitems;
    piece *pieces;
    size_t npieces;
    uint8_t *buf;
    size_t buf_len;
} rplan;

static void rplan_free(rplan *pl)
{
    gw_free(pl->items);
    gw_free(pl->pieces);
    gw_free(pl->buf);
    memset(pl, 0, sizeof(*pl));
}

static int piece_cmp(const void *a, const void *b)
{
    const piece *x = a, *y = b;
    if (x->area != y->area)
        return x->area < y->area ? -1 : 1;
    if (x->db != y->db)
        return x->db < y->db ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->range < y->range ? -1 : x->range > y->range;
}

/* Items for the ranges: each range cut into pieces of at most ITEM_MAX
 * bytes; with merge, pieces of one area at most gap bytes apart share an
 * item of at most ITEM_MAX bytes. */
static gw_err plan_reads(const gw_s7_range *ranges, size_t n, uint32_t gap, bool merge,
                         rplan *pl)
{
    memset(pl, 0, sizeof(*pl));
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t len = ranges[i].is_bit ? 1 : ranges[i].len;
        np += (size_t)((len + ITEM_MAX - 1) / ITEM_MAX);
    }
    pl->pieces = gw_calloc(np ? np : 1, sizeof(piece));
    pl->items = gw_calloc(np ? np : 1, sizeof(s7p_item));
    if (!pl->pieces || !pl->items)
        return GW_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = ranges[i].is_bit ? 1 : ranges[i].len;
        for (uint32_t off = 0; off < len; off += ITEM_MAX) {
            uint32_t part = len - off < ITEM_MAX ? len - off : ITEM_MAX;
            pl->pieces[pl->npieces++] = (piece){i, off, 0, 0, part, ranges[i].area,
                                                ranges[i].db, ranges[i].start + off};
        }
    }
    qsort(pl->pieces, pl->npieces, sizeof(piece), piece_cmp);
    for (size_t k = 0; k < pl->npieces; k++) {
        piece *pc = &pl->pieces[k];
        s7p_item *cur = pl->nitems ? &pl->items[pl->nitems - 1] : NULL;
        uint64_t end = (uint64_t)pc->start + pc->len;
        if (merge && cur && cur->area == pc->area && cur->db == pc->db &&
            pc->start <= (uint64_t)cur->start + cur->len + gap &&
            (end > (uint64_t)cur->start + cur->len ? end : (uint64_t)cur->start + cur->len) -
                    cur->start <= ITEM_MAX) {
            if (end > (uint64_t)cur->start + cur->len)
                cur->len = (uint32_t)(end - cur->start);
        } else {
            cur = &pl->items[pl->nitems++];
            *cur = (s7p_item){pc->area, pc->db, pc->start, pc->len, 0, NULL, GW_OK, 0};
        }
        pc->item = (size_t)(cur - pl->items);
        pc->item_off = pc->start - cur->start;
    }
    for (size_t i = 0; i < pl->nitems; i++) {
        pl->items[i].buf_off = (uint32_t)pl->buf_len;
        pl->buf_len += pl->items[i].len;
    }
    pl->buf = gw_malloc(pl->buf_len ? pl->buf_len : 1);
    return pl->buf ? GW_OK : GW_E_NOMEM;
}

/* How many items from `first` go into one request: at most max_items, and
 * together at most `budget` bytes (at least one). */
static size_t batch(const s7p_item *items, size_t n, size_t first, size_t max_items,
                    size_t budget)
{
    size_t k = 0, bytes = 0;
    while (first + k < n && k < max_items &&
           (k == 0 || bytes + items[first + k].len + ITEM_COST <= budget)) {
        bytes += items[first + k].len + ITEM_COST;
        k++;
    }
    return k;
}

/* The ItemAddresses of items[0..k) into addrs. GW_E_RANGE for an item
 * that cannot be addressed. */
static gw_err item_addrs(gw_s7p_client *c, const s7p_item *items, size_t k, s7p_addr *addrs,
                         gw_error *err)
{
    for (size_t i = 0; i < k; i++)
        if (s7p__item_addr(&c->opts.forms, &items[i], &addrs[i]) != GW_OK)
            return fail(c, err, GW_E_RANGE, "byte %u of %s%u cannot be addressed",
                        items[i].start, items[i].area == GW_S7_DB ? "DB" : "area ", items[i].db);
    return GW_OK;
}

/* exchange for a GetMulti or SetMulti of items[0..k): an Error answer
 * fails every item (GW_E_DEVICE_REJECTED, the link kept). */
static gw_err items_exchange(gw_s7p_client *c, const s7p_w *w, s7p_item *items, size_t k,
                             const uint8_t **payload, size_t *len, gw_error *err)
{
    gw_err rc = exchange(c, w, S7P_V1, 0, payload, len, err);
    if (rc == GW_E_DEVICE_REJECTED)
        for (size_t i = 0; i < k; i++)
            items[i].result = GW_E_DEVICE_REJECTED, items[i].code = 0;
    return rc;
}

/* The error for what s7p__parse_read or s7p__parse_write returned (rc,
 * why), `what` being "read" or "write". */
static gw_err parse_done(gw_s7p_client *c, gw_err rc, const char *what, const char *why,
                         gw_error *err)
{
    if (rc == GW_E_DEVICE_REJECTED)
        return fail(c, err, rc, "%s refused by the CPU: %s", what, why);
    if (rc != GW_OK)
        return fail(c, err, GW_E_PROTOCOL, "%s", why);
    return GW_OK;
}

/* One GetMulti for items[0..k). GW_E_DEVICE_REJECTED: refused (items say
 * so), the link kept. */
static gw_err get_multi(gw_s7p_client *c, s7p_item *items, size_t k, uint8_t *buf,
                        size_t buf_len, gw_error *err)
{
    const s7p_opts *o = &c->opts.forms;
    s7p_addr addrs[256];
    gw_err rc = item_addrs(c, items, k, addrs, err);
    if (rc != GW_OK)
        return rc;
    s7p_w w;
    s7p_tail tail = {false, false, true, 1}; /* py7's 01 after the OQ */
    req_begin(c, &w, S7P_FN_GET_MULTI, S7P_TF_34, c->session);
    s7p_getmulti_req_encode(&w, o, addrs, (uint32_t)k, &tail);
    const uint8_t *p;
    size_t len;
    if ((rc = items_exchange(c, &w, items, k, &p, &len, err)) != GW_OK)
        return rc;
    char why[160];
    rc = s7p__parse_read(o, p, len, items, k, buf, buf_len, why, sizeof(why));
    if ((rc = parse_done(c, rc, "read", why, err)) != GW_OK)
        return rc;
    for (size_t i = 0; i < k; i++)
        if (items[i].result != GW_OK)
            gw_log_write(c->opts.log, GW_LOG_DEBUG, "s7plus", "%s:%u: read of %s%u byte %u+%u: "
                         "%s (code 0x%llX)", s7_iso_host(c->iso), s7_iso_port(c->iso),
                         items[i].area == GW_S7_DB ? "DB" : "area ", items[i].db, items[i].start,
                         items[i].len, gw_err_str(items[i].result),
                         (unsigned long long)items[i].code);
    return GW_OK;
}

static gw_err set_multi(gw_s7p_client *c, s7p_item *items, size_t k, gw_error *err);

/* items[0..n) in batches (batch: at most max_items, 255, and `budget`
 * bytes each), as GetMultis into buf (buf_len bytes) when read, else as
 * SetMultis. GW_E_DEVICE_REJECTED when a request was refused (its items
 * say so), the link kept; any other error stops at once. */
static gw_err in_batches(gw_s7p_client *c, s7p_item *items, size_t n, bool read, size_t budget,
                         uint8_t *buf, size_t buf_len, gw_error *err)
{
    size_t max = c->opts.max_items > 255 ? 255 : c->opts.max_items;
    gw_err refused = GW_OK;
    for (size_t first = 0; first < n;) {
        size_t k = batch(items, n, first, max, budget);
        gw_err rc = read ? get_multi(c, items + first, k, buf, buf_len, err)
                         : set_multi(c, items + first, k, err);
        if (rc == GW_E_DEVICE_REJECTED)
            refused = rc;
        else if (rc != GW_OK)
            return rc;
        first += k;
    }
    return refused;
}

static gw_err read_ranges(gw_s7p_client *c, gw_s7_range *ranges, size_t n, bool merge,
                          gw_error *err);

/* Ranges that failed inside an item they shared with other ranges are
 * read again alone, so that a bad address fails only its own range. A
 * missing DB (GW_E_NOT_FOUND) fails every range of it anyway, and a
 * refused request is not the item's fault: neither is read again. */
static gw_err isolate(gw_s7p_client *c, const rplan *pl, gw_s7_range *ranges, size_t n,
                      gw_error *err)
{
    size_t *share = gw_calloc(pl->nitems ? pl->nitems : 1, sizeof(size_t));
    size_t *from = gw_calloc(n ? n : 1, sizeof(size_t));
    gw_s7_range *again = gw_calloc(n ? n : 1, sizeof(gw_s7_range));
    gw_err rc = GW_OK;
    if (!share || !from || !again) {
        rc = fail(c, err, GW_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < pl->npieces; k++)
        share[pl->pieces[k].item]++;
    size_t m = 0;
    for (size_t k = 0; k < pl->npieces; k++) {
        const piece *pc = &pl->pieces[k];
        const s7p_item *it = &pl->items[pc->item];
        bool retry = it->result != GW_OK && it->result != GW_E_NOT_FOUND &&
                     !(it->result == GW_E_DEVICE_REJECTED && it->code == 0) &&
                     share[pc->item] > 1;
        bool listed = false;
        for (size_t j = 0; j < m && !listed; j++)
            listed = from[j] == pc->range;
        if (retry && !listed) {
            from[m] = pc->range;
            again[m++] = ranges[pc->range];
        }
    }
    if (m == 0)
        goto out;
    rc = read_ranges(c, again, m, false, err);
    if (rc == GW_OK || rc == GW_E_DEVICE_REJECTED)
        for (size_t j = 0; j < m; j++) {
            ranges[from[j]].result = again[j].result;
            ranges[from[j]].item_rc = again[j].item_rc;
        }
out:
    gw_free(share);
    gw_free(from);
    gw_free(again);
    return rc;
}

static gw_err read_ranges(gw_s7p_client *c, gw_s7_range *ranges, size_t n, bool merge,
                          gw_error *err)
{
    rplan pl;
    gw_err rc = plan_reads(ranges, n, c->opts.gap, merge, &pl);
    if (rc != GW_OK) {
        rplan_free(&pl);
        return fail(c, err, rc, "cannot plan the read of %zu ranges", n);
    }
    gw_err refused = in_batches(c, pl.items, pl.nitems, true, RSP_BUDGET, pl.buf, pl.buf_len,
                                err);
    if (refused != GW_OK && refused != GW_E_DEVICE_REJECTED) {
        rc = refused;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ranges[i].result = GW_OK;
        ranges[i].item_rc = S7_RC_OK;
    }
    for (size_t k = 0; k < pl.npieces; k++) {
        const piece *pc = &pl.pieces[k];
        const s7p_item *it = &pl.items[pc->item];
        gw_s7_range *r = &ranges[pc->range];
        if (it->result != GW_OK) {
            if (r->result == GW_OK) {
                r->result = it->result;
                r->item_rc = rc_of(it->result);
            }
        } else if (r->dst && !r->is_bit) {
            memcpy(r->dst + pc->range_off, pl.buf + it->buf_off + pc->item_off, pc->len);
        } else if (r->dst) {
            r->dst[0] = pl.buf[it->buf_off + pc->item_off];
        }
    }
    rc = merge ? isolate(c, &pl, ranges, n, err) : GW_OK;
    if (rc == GW_OK)
        rc = refused;
out:
    rplan_free(&pl);
    return rc;
}

gw_err gw_s7p_read(gw_s7p_client *c, gw_s7_range *ranges, size_t n, gw_error *err)
{
    if (!gw_s7p_connected(c))
        return fail(c, err, GW_E_CONN_LOST, "not connected");
    return read_ranges(c, ranges, n, true, err);
}

/* ---------------------------------------------------------------- writes */

/* One SetMulti for items[0..k) (InObjectId 0, ItemAddresses, Blobs). */
static gw_err set_multi(gw_s7p_client *c, s7p_item *items, size_t k, gw_error *err)
{
    const s7p_opts *o = &c->opts.forms;
    s7p_addr addrs[256];
    gw_err rc = item_addrs(c, items, k, addrs, err);
    if (rc != GW_OK)
        return rc;
    s7p_w w;
    s7p_tail tail = {false, false, true, 1};
    req_begin(c, &w, S7P_FN_SET_MULTI, S7P_TF_36, c->session);
    s7p_setmulti_req_begin_addrs(&w, addrs, (uint32_t)k);
    for (size_t i = 0; i < k; i++) {
        s7p_put_vlq_u32(&w, (uint32_t)(i + 1));
        s7p_put_pv_blob(&w, o, items[i].src, items[i].len);
    }
    s7p_setmulti_req_end(&w, o, &tail);
    const uint8_t *p;
    size_t len;
    if ((rc = items_exchange(c, &w, items, k, &p, &len, err)) != GW_OK)
        return rc;
    char why[160];
    rc = s7p__parse_write(p, len, items, k, why, sizeof(why));
    return parse_done(c, rc, "write", why, err);
}

/* The bytes under bit writes: one per distinct byte, read, changed bit by
 * bit in the order given, and written back (the V1 absolute address is
 * byte-wide). */
typedef struct {
    gw_s7_range rd;        /* the read of the byte */
    uint8_t val;
} bit_byte;

static size_t bit_byte_of(const bit_byte *bb, size_t nbb, const gw_s7_range *r)
{
    for (size_t j = 0; j < nbb; j++)
        if (bb[j].rd.area == r->area && bb[j].rd.db == r->db && bb[j].rd.start == r->start)
            return j;
    return nbb;
}

static gw_err check_write_ranges(gw_s7_range *ranges, size_t n, gw_error *err)
{
    for (size_t i = 0; i < n; i++) {
        ranges[i].result = GW_OK;
        ranges[i].item_rc = S7_RC_OK;
        if (!ranges[i].src || (!ranges[i].is_bit && ranges[i].len == 0) ||
            (ranges[i].is_bit && ranges[i].bit > 7))
            return gw_error_set(err, GW_E_INVAL, "write range %zu is empty or malformed", i + 1);
        if ((uint64_t)ranges[i].start + (ranges[i].is_bit ? 1u : ranges[i].len) > UINT32_MAX)
            return gw_error_set(err, GW_E_RANGE, "write range %zu lies beyond byte 4294967295",
                                i + 1);
    }
    return GW_OK;
}

/* Reads the bytes under the bit writes and applies the bits. */
static gw_err prepare_bits(gw_s7p_client *c, gw_s7_range *ranges, size_t n, bit_byte *bb,
                           size_t *nbb, gw_error *err)
{
    *nbb = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ranges[i].is_bit || bit_byte_of(bb, *nbb, &ranges[i]) < *nbb)
            continue;
        bit_byte *b = &bb[(*nbb)++];
        b->rd = (gw_s7_range){ranges[i].area, ranges[i].db, ranges[i].start, 1, false, 0,
                              &b->val, NULL, GW_OK, 0};
    }
    if (*nbb == 0)
        return GW_OK;
    gw_s7_range *rd = gw_calloc(*nbb, sizeof(*rd));
    if (!rd)
        return fail(c, err, GW_E_NOMEM, "out of memory");
    for (size_t j = 0; j < *nbb; j++)
        rd[j] = bb[j].rd;
    gw_err rc = read_ranges(c, rd, *nbb, true, err);
    for (size_t j = 0; j < *nbb; j++)
        bb[j].rd.result = rd[j].result, bb[j].rd.item_rc = rd[j].item_rc;
    gw_free(rd);
    if (rc != GW_OK && rc != GW_E_DEVICE_REJECTED)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!ranges[i].is_bit)
            continue;
        bit_byte *b = &bb[bit_byte_of(bb, *nbb, &ranges[i])];
        uint8_t m = (uint8_t)(1u << ranges[i].bit);
        b->val = ranges[i].src[0] ? (uint8_t)(b->val | m) : (uint8_t)(b->val & ~m);
    }
    return GW_OK;
}

gw_err gw_s7p_write(gw_s7p_client *c, gw_s7_range *ranges, size_t n, gw_error *err)
{
    if (!gw_s7p_connected(c))
        return fail(c, err, GW_E_CONN_LOST, "not connected");
    gw_err rc = check_write_ranges(ranges, n, err);
    if (rc != GW_OK)
        return rc;
    size_t cap = n;
    for (size_t i = 0; i < n; i++)
        cap += ranges[i].is_bit ? 0 : ranges[i].len / ITEM_MAX;
    bit_byte *bb = gw_calloc(n ? n : 1, sizeof(*bb));
    s7p_item *items = gw_calloc(cap ? cap : 1, sizeof(*items));
    size_t *owner = gw_calloc(cap ? cap : 1, sizeof(size_t)); /* range, or n + bit byte */
    size_t nbb = 0, ni = 0;
    gw_err refused = GW_OK;
    if (!bb || !items || !owner) {
        rc = fail(c, err, GW_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = prepare_bits(c, ranges, n, bb, &nbb, err)) != GW_OK)
        goto out;
    /* items in the order given: a PLC may care which write comes first */
    for (size_t i = 0; i < n; i++) {
        const gw_s7_range *r = &ranges[i];
        if (r->is_bit) {
            size_t j = bit_byte_of(bb, nbb, r);
            bool first = true;
            for (size_t k = 0; k < i; k++)
                first = first && !(ranges[k].is_bit && bit_byte_of(bb, nbb, &ranges[k]) == j);
            if (first && bb[j].rd.result == GW_OK) {
                owner[ni] = n + j;
                items[ni++] = (s7p_item){r->area, r->db, r->start, 1, 0, &bb[j].val, GW_OK, 0};
            }
            continue;
        }
        for (uint32_t off = 0; off < r->len; off += ITEM_MAX) {
            uint32_t part = r->len - off < ITEM_MAX ? r->len - off : ITEM_MAX;
            owner[ni] = i;
            items[ni++] = (s7p_item){r->area, r->db, r->start + off, part, 0, r->src + off,
                                     GW_OK, 0};
        }
    }
    refused = in_batches(c, items, ni, false, REQ_BUDGET, NULL, 0, err);
    if (refused != GW_OK && refused != GW_E_DEVICE_REJECTED) {
        rc = refused;
        goto out;
    }
    for (size_t k = 0; k < ni; k++) {
        if (items[k].result == GW_OK)
            continue;
        if (owner[k] < n) {
            if (ranges[owner[k]].result == GW_OK)
                ranges[owner[k]].result = items[k].result;
        } else {
            bb[owner[k] - n].rd.result = items[k].result;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (ranges[i].is_bit)
            ranges[i].result = bb[bit_byte_of(bb, nbb, &ranges[i])].rd.result;
    for (size_t i = 0; i < n; i++)
        ranges[i].item_rc = rc_of(ranges[i].result);
    rc = refused;
out:
    gw_free(bb);
    gw_free(items);
    gw_free(owner);
    return rc;
}

/* ---------------------------------------------------------------- explore */

/* utf8 into a char[64], cut at a character boundary. */
static void copy_name(char out[64], const char *utf8)
{
    size_t n = strlen(utf8);
    if (n > 63) {
        n = 63;
        while (n > 0 && ((uint8_t)utf8[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, utf8, n);
    out[n] = '\0';
}

typedef struct {
    gw_s7p_db *dbs;
    size_t n, cap;
} db_list;

static gw_err add_db(db_list *l, const s7p_opts *o, const s7p_obj *obj,
                     const s7p_explore_db *info)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        gw_s7p_db *d = gw_realloc(l->dbs, cap * sizeof(*d));
        if (!d)
            return GW_E_NOMEM;
        l->dbs = d;
        l->cap = cap;
    }
    gw_s7p_db *db = &l->dbs[l->n];
    memset(db, 0, sizeof(*db));
    db->number = info->number;
    db->size = info->size;
    copy_name(db->name, info->name);
    l->n++;
    size_t pos = 0, cap = 0;
    s7p_obj_item it;
    gw_err e;
    while ((e = s7p_obj_next(obj, o, &pos, &it)) == GW_OK) {
        s7p_pvalue pv;
        char name[512];
        if (!it.is_obj ||
            s7p_obj_attr(&it.child, o, S7P_ID_OBJECT_VARIABLE_TYPE_NAME, &pv) != GW_OK ||
            pv.type != S7P_T_WSTRING || pv.flags != 0)
            continue;
        if ((e = s7p_name_utf8(pv.data, pv.data_len, name, sizeof(name))) != GW_OK)
            return e;
        if (db->nvars == cap) {
            cap = cap ? cap * 2 : 8;
            char(*v)[64] = gw_realloc(db->vars, cap * sizeof(*v));
            if (!v)
                return GW_E_NOMEM;
            db->vars = v;
        }
        copy_name(db->vars[db->nvars++], name);
    }
    return e == GW_E_NOT_FOUND ? GW_OK : e;
}

/* A DB object, or one that may hold DB objects (a real CPU's program
 * object); depth is bounded by the codec's nesting limit. */
static gw_err collect(db_list *l, const s7p_opts *o, const s7p_obj *obj, unsigned depth)
{
    s7p_explore_db info;
    gw_err e = s7p_explore_db_info(obj, o, &info);
    if (e != GW_OK)
        return e;
    if (info.is_db)
        return add_db(l, o, obj, &info);
    if (depth >= S7P_MAX_DEPTH)
        return GW_OK;
    size_t pos = 0;
    s7p_obj_item it;
    while ((e = s7p_obj_next(obj, o, &pos, &it)) == GW_OK)
        if (it.is_obj && (e = collect(l, o, &it.child, depth + 1)) != GW_OK)
            return e;
    return e == GW_E_NOT_FOUND ? GW_OK : e;
}

gw_err s7p__parse_explore(const s7p_opts *o, const uint8_t *p, size_t len, gw_s7p_db **dbs,
                          size_t *n, char *why, size_t why_size)
{
    *dbs = NULL;
    *n = 0;
    s7p_explore_rsp rsp;
    gw_err e = s7p_explore_rsp_decode(p, len, o, &rsp);
    if (e != GW_OK) {
        snprintf(why, why_size, "malformed Explore answer (%zu bytes): %s", len, gw_err_str(e));
        return e;
    }
    if (rsp.ret != 0 || rsp.ret_error_object) {
        snprintf(why, why_size, "return value 0x%llX", (unsigned long long)rsp.ret);
        return GW_E_DEVICE_REJECTED;
    }
    db_list l = {gw_calloc(1, sizeof(gw_s7p_db)), 0, 1};
    if (!l.dbs)
        return GW_E_NOMEM;
    size_t pos = 0;
    s7p_obj obj;
    while ((e = s7p_explore_next(&rsp, o, &pos, &obj)) == GW_OK)
        if ((e = collect(&l, o, &obj, 0)) != GW_OK)
            break;
    if (e != GW_E_NOT_FOUND) {
        snprintf(why, why_size, "malformed object in an Explore answer: %s", gw_err_str(e));
        gw_s7p_dbs_free(l.dbs, l.n);
        return e;
    }
    *dbs = l.dbs;
    *n = l.n;
    return GW_OK;
}

void gw_s7p_dbs_free(gw_s7p_db *dbs, size_t n)
{
    for (size_t i = 0; dbs && i < n; i++)
        gw_free(dbs[i].vars);
    gw_free(dbs);
}

gw_err gw_s7p_explore(gw_s7p_client *c, gw_s7p_db **dbs, size_t *n, gw_error *err)
{
    *dbs = NULL;
    *n = 0;
    if (!gw_s7p_connected(c))
        return fail(c, err, GW_E_CONN_LOST, "not connected");
    /* ExploreId 3 (the PLC program) with names and numbers (docs S5.7) */
    static const uint32_t attrs[] = {S7P_ID_OBJECT_VARIABLE_TYPE_NAME, S7P_ID_BLOCK_NUMBER};
    s7p_w w;
    req_begin(c, &w, S7P_FN_EXPLORE, S7P_TF_34, c->session);
    s7p_explore_req_encode(&w, S7P_ID_THE_PLC_PROGRAM, 0, 1, 0, attrs, 2, NULL);
    const uint8_t *p;
    size_t len;
    gw_err rc = exchange(c, &w, S7P_V1, 0, &p, &len, err);
    if (rc != GW_OK)
        return rc;
    char why[160];
    rc = s7p__parse_explore(&c->opts.forms, p, len, dbs, n, why, sizeof(why));
    if (rc == GW_E_DEVICE_REJECTED)
        return fail(c, err, rc, "Explore refused by the CPU: %s", why);
    if (rc == GW_E_NOMEM)
        return fail(c, err, rc, "out of memory");
    if (rc != GW_OK)
        return fail(c, err, rc == GW_E_UNSUPPORTED ? GW_E_UNSUPPORTED : GW_E_PROTOCOL, "%s", why);
    return GW_OK;
}
