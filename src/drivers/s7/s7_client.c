/*
 * s7_client.c - the S7comm client: connection, reads by plan, writes,
 * SZL.
 *
 * One thread owns a client. Every socket wait has a deadline (connect,
 * send, receive timeouts); any I/O or protocol error closes the
 * connection, so the next call starts from a clean state. A PLC that says
 * no (item return code, header error) is not a broken link: the
 * connection stays open and the affected ranges say why.
 */
#include "s7_internal.h"
#include "s7_iso.h"

#include <string.h>

/* The largest PDU we ask for: an S7-1500 answers 960 (docs/s7comm.md). */
#define CLIENT_PDU_DEFAULT 960
/* Jobs in flight at most, whatever the PLC allows. */
#define CLIENT_WINDOW_MAX 8
/* Frame and PDU buffers: one TPKT packet is at most 65535 bytes (RFC 1006). */
#define RX_CAP 65536u

struct gw_s7_client {
    gw_s7_opts opts;      /* host, port, timeouts: as given; the iso's are in use */
    s7_iso *iso;          /* the ISO-on-TCP connection (s7_iso.h) */
    uint16_t pdu_len;
    uint16_t amq;
    uint16_t next_ref;
    uint64_t trips;
    uint8_t *pdu;         /* the reassembled S7 PDU */
    size_t pdu_cap;
    uint8_t *tx;
    uint8_t *scratch;     /* item bytes of a read */
    size_t scratch_cap;
    bool write_single;    /* this connection: one item per Write Var (the PLC
                             acknowledged only part of a multi-item write) */
};

/* ---------------------------------------------------------------- set-up */

gw_err gw_s7_client_new(const gw_s7_opts *opts, gw_s7_client **out)
{
    *out = NULL;
    gw_s7_client *c = gw_calloc(1, sizeof(*c));
    if (!c)
        return GW_E_NOMEM;
    c->opts = *opts;
    if (!c->opts.conn_type)
        c->opts.conn_type = S7_CONN_PG;
    if (!c->opts.pdu_request)
        c->opts.pdu_request = CLIENT_PDU_DEFAULT;
    if (!c->opts.max_items)
        c->opts.max_items = GW_S7_DEFAULT_MAX_ITEMS;
    if (!c->opts.gap)
        c->opts.gap = GW_S7_DEFAULT_GAP;
    c->pdu_cap = RX_CAP;
    /* host 127.0.0.1, port 102 (RFC 1006), timeouts 2000 ms: s7_iso's defaults */
    s7_iso_opts io = {opts->host, opts->port, opts->connect_timeout_ms, opts->send_timeout_ms,
                      opts->recv_timeout_ms, opts->log, "s7", "S7"};
    c->pdu = gw_malloc(c->pdu_cap);
    c->tx = gw_malloc(RX_CAP);
    if (!c->pdu || !c->tx || s7_iso_new(&io, &c->iso) != GW_OK) {
        gw_s7_client_free(c);
        return GW_E_NOMEM;
    }
    *out = c;
    return GW_OK;
}

void gw_s7_client_free(gw_s7_client *c)
{
    if (!c)
        return;
    if (c->iso)
        gw_s7_close(c);
    s7_iso_free(c->iso);
    gw_free(c->pdu);
    gw_free(c->tx);
    gw_free(c->scratch);
    gw_free(c);
}

bool gw_s7_connected(const gw_s7_client *c)
{
    return s7_iso_is_open(c->iso);
}

uint16_t gw_s7_pdu_len(const gw_s7_client *c)
{
    return c->pdu_len;
}

uint16_t gw_s7_amq(const gw_s7_client *c)
{
    return c->amq;
}

uint64_t gw_s7_round_trips(const gw_s7_client *c)
{
    return c->trips;
}

/* After an I/O call: s7_iso closes the link on a link error; the client's
 * own state of that connection goes with it. */
static gw_err io_done(gw_s7_client *c, gw_err rc)
{
    if (rc != GW_OK && !s7_iso_is_open(c->iso))
        gw_s7_close(c);
    return rc;
}

/* Fills err with "plc HOST:PORT: <msg>" and closes the connection when the
 * link is broken (s7_iso_fail). */
static gw_err fail(gw_s7_client *c, gw_error *err, gw_err code, int sys_errno, const char *fmt,
                   ...) GW_PRINTF(5, 6);

static gw_err fail(gw_s7_client *c, gw_error *err, gw_err code, int sys_errno, const char *fmt,
                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_err rc = s7_iso_vfail(c->iso, err, code, sys_errno, fmt, ap);
    va_end(ap);
    return io_done(c, rc);
}

static gw_err send_all(gw_s7_client *c, const uint8_t *buf, size_t len, gw_error *err)
{
    return io_done(c, s7_iso_send_frame(c->iso, buf, len, err));
}

/* Receives one S7 PDU, joining COTP DT fragments until EOT. */
static gw_err recv_pdu(gw_s7_client *c, s7_header *h, gw_error *err)
{
    size_t len;
    gw_err rc = io_done(c, s7_iso_recv_pdu(c->iso, c->pdu, c->pdu_cap, &len, err));
    if (rc != GW_OK)
        return rc;
    if (s7_header_decode(c->pdu, len, h) != GW_OK)
        return fail(c, err, GW_E_PROTOCOL, 0, "malformed S7 header (%zu bytes)", len);
    return GW_OK;
}

void gw_s7_close(gw_s7_client *c)
{
    /* with a DR once setup communication made the connection ours */
    s7_iso_close(c->iso);
    c->pdu_len = 0;
    c->write_single = false; /* a new connection may be another PLC */
}

static uint16_t next_ref(gw_s7_client *c)
{
    c->next_ref = (uint16_t)(c->next_ref + 1);
    if (c->next_ref == 0)
        c->next_ref = 1;
    return c->next_ref;
}

gw_err gw_s7_connect(gw_s7_client *c, gw_error *err)
{
    gw_s7_close(c);
    gw_err rc = io_done(c, s7_iso_tcp_connect(c->iso, err));
    if (rc != GW_OK)
        return rc;
    /* COTP connection request: TPDU size 1024, our TSAP, the CPU's TSAP */
    s7_cotp cr = {0};
    cr.type = S7_COTP_CR;
    cr.dst_ref = 0;
    cr.src_ref = 1;
    cr.has_tpdu_size = true;
    cr.tpdu_size = 0x0A;
    cr.has_src_tsap = cr.has_dst_tsap = true;
    cr.src_tsap = c->opts.explicit_tsaps ? c->opts.local_tsap : 0x0100;
    cr.dst_tsap = c->opts.explicit_tsaps
                      ? c->opts.remote_tsap
                      : s7_remote_tsap(c->opts.conn_type, c->opts.rack, c->opts.slot);
    s7_cotp cc;
    rc = io_done(c, s7_iso_cotp_connect(c->iso, &cr, &cc, err));
    if (rc == GW_E_CONN_LOST)
        gw_error_hint(err, "the CPU closed the connection: check rack %u and slot %u "
                      "(TSAP 0x%04X)", c->opts.rack, c->opts.slot, cr.dst_tsap);
    else if (rc == GW_E_CONN_REFUSED)
        gw_error_hint(err, "check rack %u and slot %u (TSAP 0x%04X); S7-1200/1500: rack 0, "
                      "slot 1", c->opts.rack, c->opts.slot, cr.dst_tsap);
    if (rc != GW_OK)
        return rc;
    /* setup communication: ask for our PDU, take what the CPU answers */
    uint8_t *p = c->tx + S7_FRAME_HDR;
    size_t h = s7_header_encode(p, S7_JOB, next_ref(c), S7_SETUP_PARAM, 0, 0, 0);
    s7_setup want = {CLIENT_WINDOW_MAX, CLIENT_WINDOW_MAX, c->opts.pdu_request};
    s7_setup_encode_param(p + h, &want);
    size_t n = s7_frame_dt(c->tx, h + S7_SETUP_PARAM);
    if ((rc = send_all(c, c->tx, n, err)) != GW_OK)
        return rc;
    s7_header hd;
    if ((rc = recv_pdu(c, &hd, err)) != GW_OK)
        return rc;
    if (hd.rosctr != S7_ACK_DATA || hd.err_class) {
        rc = fail(c, err, GW_E_DEVICE_REJECTED, 0, "setup communication refused: %s "
                  "(class 0x%02X code 0x%02X)", s7_header_error_text(hd.err_class, hd.err_code),
                  hd.err_class, hd.err_code);
        gw_s7_close(c);
        return rc;
    }
    s7_setup got;
    if (s7_setup_decode_param(hd.param, hd.param_len, &got) != GW_OK || got.pdu_len < 64)
        return fail(c, err, GW_E_PROTOCOL, 0, "malformed setup communication answer");
    c->pdu_len = got.pdu_len < c->opts.pdu_request ? got.pdu_len : c->opts.pdu_request;
    s7_iso_set_established(c->iso);
    /* jobs we may have open: within both AmQ values the CPU answers
     * (docs/s7comm.md 13.7) */
    c->amq = got.amq_calling < got.amq_called ? got.amq_calling : got.amq_called;
    if (c->amq == 0)
        c->amq = 1;
    c->trips++;
    gw_log_write(c->opts.log, GW_LOG_INFO, "s7", "%s:%u: connected, PDU %u bytes, %u job%s in "
                 "flight", s7_iso_host(c->iso), s7_iso_port(c->iso), c->pdu_len, c->amq,
                 c->amq == 1 ? "" : "s");
    return GW_OK;
}

/* ---------------------------------------------------------------- results */

static gw_err rc_err(uint8_t rc)
{
    switch (rc) {
    case S7_RC_OK: return GW_OK;
    case S7_RC_ACCESS: return GW_E_ACCESS;
    case S7_RC_OUT_OF_RANGE: return GW_E_RANGE;
    case S7_RC_NO_OBJECT: return GW_E_NOT_FOUND;
    case S7_RC_TYPE_UNSUPPORTED:
    case S7_RC_TYPE_INCONSISTENT: return GW_E_TYPE;
    default: return GW_E_DEVICE_REJECTED;
    }
}

const char *gw_s7_item_rc_text(uint8_t rc)
{
    return s7_item_rc_text(rc);
}

const char *gw_s7_item_rc_hint(uint8_t rc)
{
    switch (rc) {
    case S7_RC_ACCESS:
        return "enable \"Permit access with PUT/GET communication from remote partner\" in the "
               "CPU's protection settings";
    case S7_RC_OUT_OF_RANGE:
        return "the address lies beyond the DB's end, or the DB uses optimized block access "
               "(turn it off in the DB's attributes)";
    case S7_RC_NO_OBJECT:
        return "the DB does not exist in the CPU, or it uses optimized block access";
    default:
        return "";
    }
}

/* A header error means the CPU refused the whole request. */
static gw_err header_error(gw_s7_client *c, const s7_header *h, const char *what, gw_error *err)
{
    gw_err rc = fail(c, err, GW_E_DEVICE_REJECTED, 0, "%s refused by the CPU: %s (class 0x%02X "
                     "code 0x%02X)", what, s7_header_error_text(h->err_class, h->err_code),
                     h->err_class, h->err_code);
    if (err && (h->err_class == 0x81 || h->err_class == 0x85 || h->err_class == 0xD2))
        gw_error_hint(err, "enable \"Permit access with PUT/GET communication\" and turn off "
                      "\"Optimized block access\" for the DBs read");
    if (err)
        err->device_code = h->err_class << 8 | h->err_code;
    return rc;
}

/* ---------------------------------------------------------------- reads */

static gw_err send_read(gw_s7_client *c, const gw_s7_plan *plan, size_t r, uint16_t ref,
                        gw_error *err)
{
    const s7_plan_req *q = &plan->reqs[r];
    s7_item items[255];
    for (size_t i = 0; i < q->nitems; i++) {
        const s7_plan_item *it = &plan->items[q->first + i];
        items[i] = (s7_item){S7_TS_BYTE, (uint16_t)it->len, it->db, s7__area_code(it->area),
                             it->start * 8u};
    }
    size_t n = s7_encode_read_req(c->tx, RX_CAP, ref, items, q->nitems);
    if (n == 0)
        return fail(c, err, GW_E_INVAL, 0, "read request does not fit");
    return send_all(c, c->tx, n, err);
}

gw_err s7__parse_read_reply(const gw_s7_plan *plan, size_t r, const s7_header *h,
                            uint8_t *scratch, uint8_t *item_rc, char *why, size_t why_size)
{
    const s7_plan_req *q = &plan->reqs[r];
    if (h->err_class) {
        for (size_t i = 0; i < q->nitems; i++)
            item_rc[q->first + i] = 0;
        snprintf(why, why_size, "header error");
        return GW_E_DEVICE_REJECTED;
    }
    if (h->param_len < 2 || h->param[0] != S7_FN_READ || h->param[1] != q->nitems) {
        snprintf(why, why_size, "read reply for %u items, %zu asked",
                 h->param_len >= 2 ? h->param[1] : 0, q->nitems);
        return GW_E_PROTOCOL;
    }
    s7_data data[255];
    if (s7_decode_data(h->data, h->data_len, q->nitems, data) != GW_OK) {
        snprintf(why, why_size, "malformed read reply data");
        return GW_E_PROTOCOL;
    }
    for (size_t i = 0; i < q->nitems; i++) {
        const s7_plan_item *it = &plan->items[q->first + i];
        item_rc[q->first + i] = data[i].rc;
        if (data[i].rc != S7_RC_OK)
            continue;
        if (data[i].len != it->len) {
            snprintf(why, why_size, "read reply item %zu has %u bytes, %u asked", i + 1,
                     data[i].len, it->len);
            return GW_E_PROTOCOL;
        }
        memcpy(scratch + it->buf_off, data[i].bytes, it->len);
    }
    return GW_OK;
}

static gw_err isolate_failures(gw_s7_client *c, const gw_s7_plan *plan, gw_s7_range *ranges,
                               gw_error *err);

static gw_err plan_exec(gw_s7_client *c, const gw_s7_plan *plan, gw_s7_range *ranges,
                        gw_error *err)
{
    if (!s7_iso_is_open(c->iso))
        return fail(c, err, GW_E_CONN_LOST, 0, "not connected");
    if (plan->pdu_len > c->pdu_len)
        return fail(c, err, GW_E_INVAL, 0, "plan made for PDU %u, connection has %u",
                    plan->pdu_len, c->pdu_len);
    if (c->scratch_cap < plan->buf_len + plan->nitems) {
        uint8_t *s = gw_realloc(c->scratch, plan->buf_len + plan->nitems);
        if (!s)
            return fail(c, err, GW_E_NOMEM, 0, "out of memory");
        c->scratch = s;
        c->scratch_cap = plan->buf_len + plan->nitems;
    }
    uint8_t *item_rc = c->scratch + plan->buf_len;
    /* keep up to `window` requests in flight (max AmQ), match by PDU ref */
    size_t window = c->amq < CLIENT_WINDOW_MAX ? c->amq : CLIENT_WINDOW_MAX;
    if (window == 0)
        window = 1;
    uint16_t refs[CLIENT_WINDOW_MAX];
    size_t reqs[CLIENT_WINDOW_MAX], inflight = 0, sent = 0, done = 0;
    gw_err refused = GW_OK;
    while (done < plan->nreqs) {
        while (sent < plan->nreqs && inflight < window) {
            uint16_t ref = next_ref(c);
            gw_err rc = send_read(c, plan, sent, ref, err);
            if (rc != GW_OK)
                return rc;
            refs[inflight] = ref;
            reqs[inflight] = sent;
            inflight++;
            sent++;
        }
        s7_header h;
        gw_err rc = recv_pdu(c, &h, err);
        if (rc != GW_OK)
            return rc;
        size_t slot = inflight;
        for (size_t i = 0; i < inflight; i++)
            if (refs[i] == h.pdu_ref)
                slot = i;
        if (slot == inflight || (h.rosctr != S7_ACK_DATA && h.rosctr != S7_ACK))
            return fail(c, err, GW_E_PROTOCOL, 0, "unexpected reply (type %u, PDU ref %u)",
                        h.rosctr, h.pdu_ref);
        size_t r = reqs[slot];
        refs[slot] = refs[inflight - 1];
        reqs[slot] = reqs[inflight - 1];
        inflight--;
        done++;
        c->trips++;
        char why[128];
        rc = s7__parse_read_reply(plan, r, &h, c->scratch, item_rc, why, sizeof(why));
        if (rc == GW_E_DEVICE_REJECTED)
            refused = header_error(c, &h, "read", err); /* the link is fine; go on */
        else if (rc != GW_OK)
            return fail(c, err, rc, 0, "%s", why);
    }
    for (size_t i = 0; i < plan->nranges; i++) {
        ranges[i].result = GW_OK;
        ranges[i].item_rc = S7_RC_OK;
    }
    for (size_t k = 0; k < plan->npieces; k++) {
        const s7_plan_piece *pc = &plan->pieces[k];
        gw_s7_range *r = &ranges[pc->range];
        uint8_t rc = item_rc[pc->item];
        if (rc != S7_RC_OK) {
            if (r->result == GW_OK) {
                r->result = rc ? rc_err(rc) : GW_E_DEVICE_REJECTED;
                r->item_rc = rc;
            }
            continue;
        }
        if (r->dst)
            memcpy(r->dst + pc->range_off, c->scratch + plan->items[pc->item].buf_off + pc->item_off,
                   pc->len);
    }
    return refused;
}

gw_err gw_s7_read_plan(gw_s7_client *c, const gw_s7_plan *plan, gw_s7_range *ranges,
                       gw_error *err)
{
    gw_err rc = plan_exec(c, plan, ranges, err);
    if (rc != GW_OK && rc != GW_E_DEVICE_REJECTED)
        return rc;
    gw_err iso = isolate_failures(c, plan, ranges, err);
    return iso == GW_OK ? rc : iso;
}

gw_err gw_s7_read(gw_s7_client *c, gw_s7_range *ranges, size_t n, gw_error *err)
{
    if (!s7_iso_is_open(c->iso))
        return fail(c, err, GW_E_CONN_LOST, 0, "not connected");
    gw_s7_plan_opts po = {c->pdu_len, c->opts.max_items, c->opts.gap};
    gw_s7_plan *plan;
    gw_err rc = s7__plan_new(ranges, n, &po, c->opts.no_merge, &plan);
    if (rc != GW_OK)
        return gw_error_set(err, rc, "cannot plan the read of %zu ranges: %s", n, gw_err_str(rc));
    rc = gw_s7_read_plan(c, plan, ranges, err);
    gw_s7_plan_free(plan);
    return rc;
}

/* Reads again, one item per range, the ranges that failed inside an item
 * they shared with others: a bad address merged with good ones must fail
 * alone. Costs round trips only when something failed. */
static gw_err isolate_failures(gw_s7_client *c, const gw_s7_plan *plan, gw_s7_range *ranges,
                               gw_error *err)
{
    size_t *share = gw_calloc(plan->nitems ? plan->nitems : 1, sizeof(size_t));
    gw_s7_range *again = gw_calloc(plan->nranges ? plan->nranges : 1, sizeof(*again));
    size_t *from = gw_calloc(plan->nranges ? plan->nranges : 1, sizeof(size_t));
    gw_err rc = GW_OK;
    if (!share || !again || !from) {
        rc = GW_E_NOMEM;
        goto out;
    }
    for (size_t k = 0; k < plan->npieces; k++)
        share[plan->pieces[k].item]++;
    size_t n = 0;
    for (size_t i = 0; i < plan->nranges; i++) {
        if (ranges[i].result == GW_OK || ranges[i].item_rc == 0)
            continue; /* fine, or a refusal of the whole request */
        bool shared = false;
        for (size_t k = 0; k < plan->npieces; k++)
            if (plan->pieces[k].range == i && share[plan->pieces[k].item] > 1)
                shared = true;
        if (shared) {
            from[n] = i;
            again[n++] = ranges[i];
        }
    }
    if (n == 0)
        goto out;
    gw_s7_plan_opts po = {c->pdu_len, c->opts.max_items, 0};
    gw_s7_plan *alone;
    if ((rc = s7__plan_new(again, n, &po, true, &alone)) != GW_OK)
        goto out;
    rc = plan_exec(c, alone, again, err);
    gw_s7_plan_free(alone);
    if (rc == GW_OK || rc == GW_E_DEVICE_REJECTED)
        for (size_t j = 0; j < n; j++) {
            ranges[from[j]].result = again[j].result;
            ranges[from[j]].item_rc = again[j].item_rc;
        }
out:
    gw_free(share);
    gw_free(again);
    gw_free(from);
    return rc;
}

/* ---------------------------------------------------------------- writes */

/* One item of a write request: a range, or a chunk of a long one. */
typedef struct {
    size_t range;
    uint32_t off, len;
} write_chunk;

gw_err s7__parse_write_reply(const s7_header *h, size_t n, uint8_t *codes, size_t *ncodes,
                             char *why, size_t why_size)
{
    *ncodes = 0;
    if (h->err_class) {
        snprintf(why, why_size, "header error");
        return GW_E_DEVICE_REJECTED;
    }
    if (h->param_len < 2 || h->param[0] != S7_FN_WRITE) {
        snprintf(why, why_size, "malformed write reply (not a Write Var answer)");
        return GW_E_PROTOCOL;
    }
    /* one return code per item, no padding (docs/s7comm.md 7); fewer than
     * the items sent is python-snap7's server, which writes only the first
     * (7.1); none, or more than sent, is no answer to this request */
    size_t count = h->param[1];
    if (count == 0 || count > n) {
        snprintf(why, why_size, "malformed write reply: %zu return codes for %zu items", count,
                 n);
        return GW_E_PROTOCOL;
    }
    if (h->data_len < count) {
        snprintf(why, why_size, "malformed write reply: %u bytes of return codes, %zu announced",
                 h->data_len, count);
        return GW_E_PROTOCOL;
    }
    memcpy(codes, h->data, count);
    *ncodes = count;
    return GW_OK;
}

/* Encodes and sends one Write Var of n chunks; *ref is its PDU reference. */
static gw_err send_write(gw_s7_client *c, const gw_s7_range *ranges, const write_chunk *ch,
                         size_t n, uint16_t *ref, gw_error *err)
{
    s7_item items[255];
    s7_data data[255];
    for (size_t i = 0; i < n; i++) {
        const gw_s7_range *r = &ranges[ch[i].range];
        if (r->is_bit) {
            items[i] = (s7_item){S7_TS_BIT, 1, r->db, s7__area_code(r->area),
                                 r->start * 8u + r->bit};
            data[i] = (s7_data){0, S7_DTS_BIT, r->src, 1};
        } else {
            items[i] = (s7_item){S7_TS_BYTE, (uint16_t)ch[i].len, r->db, s7__area_code(r->area),
                                 (r->start + ch[i].off) * 8u};
            data[i] = (s7_data){0, S7_DTS_BYTE, r->src + ch[i].off, (uint16_t)ch[i].len};
        }
    }
    *ref = next_ref(c);
    size_t len = s7_encode_write_req(c->tx, RX_CAP, *ref, items, data, n);
    if (len == 0)
        return fail(c, err, GW_E_INVAL, 0, "write request does not fit");
    return send_all(c, c->tx, len, err);
}

/* A range keeps the first failure of its chunks. */
static void write_result(gw_s7_range *r, uint8_t code)
{
    if (code != S7_RC_OK && r->result == GW_OK) {
        r->result = rc_err(code);
        r->item_rc = code;
    }
}

/* Remembers, and logs once per connection, that the PLC acknowledged only
 * part of a multi-item write: from now on gw_s7_write sends one item per
 * request, which costs the same round trips as writing the rest again
 * after every multi-item request. */
static void note_partial_write(gw_s7_client *c, size_t acked, size_t n)
{
    if (c->write_single)
        return;
    c->write_single = true;
    gw_log_write(c->opts.log, GW_LOG_WARN, "s7", "%s:%u: the PLC acknowledged only %zu of %zu "
                 "items of a write (as python-snap7's server does); writing the others, and "
                 "every later write on this connection, one item per request",
                 s7_iso_host(c->iso), s7_iso_port(c->iso), acked, n);
}

static gw_err run_write(gw_s7_client *c, gw_s7_range *ranges, const write_chunk *ch, size_t n,
                        gw_error *err);

/* Writes chunks one item per request; every chunk gets its own result. */
static gw_err write_singly(gw_s7_client *c, gw_s7_range *ranges, const write_chunk *ch,
                           size_t n, gw_error *err)
{
    gw_err refused = GW_OK;
    for (size_t i = 0; i < n; i++) {
        gw_err rc = run_write(c, ranges, &ch[i], 1, err);
        if (rc == GW_E_DEVICE_REJECTED)
            refused = rc; /* the link is fine: go on with the others */
        else if (rc != GW_OK)
            return rc;
    }
    return refused;
}

static gw_err run_write(gw_s7_client *c, gw_s7_range *ranges, const write_chunk *ch, size_t n,
                        gw_error *err)
{
    uint16_t ref;
    gw_err rc = send_write(c, ranges, ch, n, &ref, err);
    if (rc != GW_OK)
        return rc;
    s7_header h;
    if ((rc = recv_pdu(c, &h, err)) != GW_OK)
        return rc;
    c->trips++;
    if (h.pdu_ref != ref || (h.rosctr != S7_ACK_DATA && h.rosctr != S7_ACK))
        return fail(c, err, GW_E_PROTOCOL, 0, "unexpected reply to a write (type %u, ref %u)",
                    h.rosctr, h.pdu_ref);
    uint8_t codes[255];
    size_t ncodes;
    char why[128];
    rc = s7__parse_write_reply(&h, n, codes, &ncodes, why, sizeof(why));
    if (rc == GW_E_DEVICE_REJECTED) {
        for (size_t i = 0; i < n; i++) {
            ranges[ch[i].range].result = GW_E_DEVICE_REJECTED;
            ranges[ch[i].range].item_rc = 0;
        }
        return header_error(c, &h, "write", err);
    }
    if (rc != GW_OK)
        return fail(c, err, rc, 0, "%s", why);
    for (size_t i = 0; i < ncodes; i++)
        write_result(&ranges[ch[i].range], codes[i]);
    if (ncodes == n)
        return GW_OK;
    /* the items without a return code were not written: write them again */
    note_partial_write(c, ncodes, n);
    return write_singly(c, ranges, ch + ncodes, n - ncodes, err);
}

/* Checks the caller's ranges and resets their results. */
static gw_err check_write_ranges(gw_s7_range *ranges, size_t n, gw_error *err)
{
    for (size_t i = 0; i < n; i++) {
        ranges[i].result = GW_OK;
        ranges[i].item_rc = S7_RC_OK;
        if (!ranges[i].src || (!ranges[i].is_bit && ranges[i].len == 0) ||
            (ranges[i].is_bit && ranges[i].bit > 7))
            return gw_error_set(err, GW_E_INVAL, "write range %zu is empty or malformed", i + 1);
        /* S7comm addresses are 24-bit bit offsets: a byte at or past 2^21
         * cannot be named (and must never wrap around to byte 0) */
        uint64_t end = (uint64_t)ranges[i].start + (ranges[i].is_bit ? 1u : ranges[i].len);
        if (end > 0x200000u)
            return gw_error_set(err, GW_E_RANGE, "write range %zu (byte %u) lies beyond the S7 "
                                "address space (2097152 bytes)", i + 1, ranges[i].start);
    }
    return GW_OK;
}

gw_err gw_s7_write(gw_s7_client *c, gw_s7_range *ranges, size_t n, gw_error *err)
{
    if (!s7_iso_is_open(c->iso))
        return fail(c, err, GW_E_CONN_LOST, 0, "not connected");
    size_t pdu = c->pdu_len;
    size_t max_items = c->opts.max_items;
    if (max_items > 255)
        max_items = 255; /* the item count is one byte, and our arrays hold 255 */
    if (max_items > (pdu - S7_HDR_JOB - 2u) / (S7_ITEM_SPEC + 5u))
        max_items = (pdu - S7_HDR_JOB - 2u) / (S7_ITEM_SPEC + 5u);
    /* the largest chunk one request can carry beside its own item */
    uint32_t chunk_max = (uint32_t)(pdu - S7_HDR_JOB - 2u - S7_ITEM_SPEC - 4u) & ~1u;
    write_chunk ch[255];
    size_t nch = 0, size = S7_HDR_JOB + 2u;
    gw_err refused = check_write_ranges(ranges, n, err);
    if (refused != GW_OK)
        return refused;
    /* requests in the order given: a PLC may care which write comes first */
    for (size_t i = 0; i < n; i++) {
        uint32_t total = ranges[i].is_bit ? 1u : ranges[i].len;
        for (uint32_t off = 0; off < total;) {
            uint32_t len = total - off < chunk_max ? total - off : chunk_max;
            size_t cost = S7_ITEM_SPEC + 4u + len + (len & 1u);
            /* one item per request once the PLC acknowledged only part of
             * a write on this connection, also from the middle of this call */
            size_t limit = c->write_single ? 1u : max_items;
            if (nch > 0 && (nch >= limit || size + cost > pdu)) {
                gw_err rc = run_write(c, ranges, ch, nch, err);
                if (rc == GW_E_DEVICE_REJECTED)
                    refused = rc;
                else if (rc != GW_OK)
                    return rc;
                nch = 0;
                size = S7_HDR_JOB + 2u;
            }
            ch[nch++] = (write_chunk){i, off, len};
            size += cost;
            off += len;
        }
    }
    if (nch > 0) {
        gw_err rc = run_write(c, ranges, ch, nch, err);
        if (rc != GW_OK)
            return rc;
    }
    return refused;
}

/* ---------------------------------------------------------------- exchanges */

uint16_t s7__client_next_ref(gw_s7_client *c)
{
    return next_ref(c);
}

uint8_t *s7__client_tx(gw_s7_client *c, size_t *cap)
{
    *cap = RX_CAP;
    return c->tx;
}

uint16_t s7__client_pdu_len(const gw_s7_client *c)
{
    return c->pdu_len;
}

gw_err s7__client_fail(gw_s7_client *c, gw_error *err, gw_err code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fail(c, err, code, 0, "%s", msg);
}

gw_err s7__client_send(gw_s7_client *c, const uint8_t *frame, size_t len, gw_error *err)
{
    if (!s7_iso_is_open(c->iso))
        return fail(c, err, GW_E_CONN_LOST, 0, "not connected");
    return send_all(c, frame, len, err);
}

gw_err s7__client_recv(gw_s7_client *c, s7_header *h, gw_error *err)
{
    if (!s7_iso_is_open(c->iso))
        return fail(c, err, GW_E_CONN_LOST, 0, "not connected");
    return recv_pdu(c, h, err);
}

gw_err s7__client_exchange(gw_s7_client *c, const uint8_t *frame, size_t len, uint16_t ref,
                           s7_header *h, gw_error *err)
{
    gw_err rc = s7__client_send(c, frame, len, err);
    if (rc == GW_OK)
        rc = recv_pdu(c, h, err);
    if (rc != GW_OK)
        return rc;
    c->trips++;
    if (h->pdu_ref != ref)
        return fail(c, err, GW_E_PROTOCOL, 0, "answer to PDU %u, not to %u", h->pdu_ref, ref);
    return GW_OK;
}

/* ---------------------------------------------------------------- SZL */

/* At most this many parts of one SZL answer: the longest lists are a few
 * kB, and a CPU that never says "last" must not keep us here. */
#define SZL_MAX_PARTS 64

/* Checks one SZL answer (userdata, parameter, error code, data item) and
 * leaves its data bytes in *d; `up` is its parameter. */
static gw_err szl_answer(gw_s7_client *c, const s7_header *h, uint16_t id, uint16_t index,
                         s7_userdata_param *up, s7_data *d, gw_error *err)
{
    if (h->rosctr != S7_USERDATA || s7_decode_userdata_param(h->param, h->param_len, up) != GW_OK)
        return fail(c, err, GW_E_PROTOCOL, 0, "malformed SZL reply");
    if (up->err_code != 0) {
        gw_err rc = fail(c, err, GW_E_DEVICE_REJECTED, 0, "SZL 0x%04X index 0x%04X refused "
                         "(error 0x%04X)", id, index, up->err_code);
        if (err)
            err->device_code = up->err_code;
        return rc;
    }
    if (h->data_len < 4 || s7_decode_data(h->data, h->data_len, 1, d) != GW_OK)
        return fail(c, err, GW_E_PROTOCOL, 0, "malformed SZL reply data");
    if (d->rc != S7_RC_OK)
        return fail(c, err, rc_err(d->rc), 0, "SZL 0x%04X index 0x%04X: %s", id, index,
                    s7_item_rc_text(d->rc));
    return GW_OK;
}

/* Appends n bytes of list to buf; a list longer than cap is an error. */
static gw_err szl_append(gw_s7_client *c, uint8_t *buf, size_t cap, size_t *len,
                         const uint8_t *p, size_t n, uint16_t id, gw_error *err)
{
    if (n > cap - *len)
        return fail(c, err, GW_E_RANGE, 0, "SZL 0x%04X is longer than the %zu bytes given "
                    "for it", id, cap);
    memcpy(buf + *len, p, n);
    *len += n;
    return GW_OK;
}

/* A multi-part answer (docs/s7comm.md 11.8): while the CPU says more
 * follows, ask for the next part under its sequence number; each part's
 * data is raw list bytes. */
gw_err gw_s7_read_szl(gw_s7_client *c, uint16_t id, uint16_t index, uint8_t *buf, size_t cap,
                      size_t *len, uint16_t *record_len, uint16_t *records, gw_error *err)
{
    *len = 0;
    if (!s7_iso_is_open(c->iso))
        return fail(c, err, GW_E_CONN_LOST, 0, "not connected");
    uint16_t ref = next_ref(c);
    size_t n = s7_encode_szl_req(c->tx, RX_CAP, ref, id, index);
    s7_header h;
    gw_err rc = s7__client_exchange(c, c->tx, n, ref, &h, err);
    s7_userdata_param up;
    s7_data d;
    if (rc == GW_OK)
        rc = szl_answer(c, &h, id, index, &up, &d, err);
    if (rc != GW_OK)
        return rc;
    if (d.len < 8)
        return fail(c, err, GW_E_PROTOCOL, 0, "SZL reply too short");
    const uint8_t *p = d.bytes;
    *record_len = (uint16_t)(p[4] << 8 | p[5]);
    *records = (uint16_t)(p[6] << 8 | p[7]);
    rc = szl_append(c, buf, cap, len, p + 8, d.len - 8u, id, err);
    for (int parts = 1; rc == GW_OK && !up.last; parts++) {
        if (parts >= SZL_MAX_PARTS)
            return fail(c, err, GW_E_PROTOCOL, 0, "SZL 0x%04X: more than %d parts", id,
                        SZL_MAX_PARTS);
        uint8_t seq = up.seq;
        ref = next_ref(c);
        n = s7_encode_szl_next_req(c->tx, RX_CAP, ref, seq);
        rc = s7__client_exchange(c, c->tx, n, ref, &h, err);
        if (rc == GW_OK)
            rc = szl_answer(c, &h, id, index, &up, &d, err);
        if (rc == GW_OK && up.seq != seq)
            rc = fail(c, err, GW_E_PROTOCOL, 0, "SZL 0x%04X: part under sequence %u, not %u",
                      id, up.seq, seq);
        if (rc == GW_OK)
            rc = szl_append(c, buf, cap, len, d.bytes, d.len, id, err);
    }
    if (rc != GW_OK)
        *len = 0;
    return rc;
}

static void trimmed(char *dst, size_t size, const uint8_t *src, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < size; i++)
        dst[k++] = (src[i] >= 0x20 && src[i] < 0x7F) ? (char)src[i] : ' ';
    while (k > 0 && dst[k - 1] == ' ')
        k--;
    dst[k] = '\0';
}

gw_err gw_s7_cpu_info_read(gw_s7_client *c, gw_s7_cpu_info *info, gw_error *err)
{
    memset(info, 0, sizeof(*info));
    uint8_t buf[512];
    size_t len;
    uint16_t rl, count;
    gw_err rc = gw_s7_read_szl(c, S7_SZL_CPU_ORDER, 0x0000, buf, sizeof(buf), &len, &rl, &count,
                               err);
    if (rc != GW_OK)
        return rc;
    /* SZL 0x0011 records (28 bytes): index, order number (20 chars),
     * module type, Ausbg, Ausbe. Index 1 holds the order code, index 7 the
     * firmware as 'V' major minor patch in bytes 24..27 (docs/s7comm.md
     * 11.3); looked up by index, not by position in the list. */
    if (rl < 28)
        return fail(c, err, GW_E_PROTOCOL, 0, "SZL 0x0011 record of %u bytes", rl);
    for (size_t off = 0; off + rl <= len; off += rl) {
        const uint8_t *r = buf + off;
        uint16_t idx = (uint16_t)(r[0] << 8 | r[1]);
        if (idx == 0x0001)
            trimmed(info->order_code, sizeof(info->order_code), r + 2, 20);
        else if (idx == 0x0006)
            snprintf(info->hardware, sizeof(info->hardware), "%u", (unsigned)(r[26] << 8 | r[27]));
        else if (idx == 0x0007)
            snprintf(info->firmware, sizeof(info->firmware), "V%u.%u.%u", r[25], r[26], r[27]);
    }
    /* SZL 0x001C, component identification: 34-byte records, index and 32
     * characters, looked up by index (docs/s7comm.md 11.9). A CPU that
     * does not serve it keeps the connection: the names stay empty. */
    gw_error e2;
    gw_error_clear(&e2);
    if (gw_s7_read_szl(c, S7_SZL_COMPONENTS, 0x0000, buf, sizeof(buf), &len, &rl, &count, &e2) !=
            GW_OK || rl < 34) {
        if (!gw_s7_connected(c)) {
            if (err)
                *err = e2;
            return e2.code ? e2.code : GW_E_CONN_LOST;
        }
        return GW_OK;
    }
    for (size_t off = 0; off + rl <= len; off += rl) {
        const uint8_t *r = buf + off;
        uint16_t idx = (uint16_t)(r[0] << 8 | r[1]);
        char *dst = idx == 1 ? info->station_name : idx == 2 ? info->plc_name
                  : idx == 5 ? info->serial : idx == 7 ? info->module_name : NULL;
        if (dst)
            trimmed(dst, 33, r + 2, 32);
    }
    return GW_OK;
}

gw_err gw_s7_cpu_state_read(gw_s7_client *c, gw_s7_cpu_state *state, gw_error *err)
{
    uint8_t buf[256];
    size_t len;
    uint16_t rl, count;
    *state = GW_S7_CPU_UNKNOWN;
    gw_err rc = gw_s7_read_szl(c, S7_SZL_CPU_STATE, 0x0000, buf, sizeof(buf), &len, &rl, &count,
                               err);
    if (rc != GW_OK)
        return rc;
    /* SZL 0x0424: the low nibble of record byte 3 is the mode: 8 RUN, 1-4
     * STOP, others starting up or faulted (docs/s7comm.md 11.4) */
    if (len < 4)
        return fail(c, err, GW_E_PROTOCOL, 0, "SZL 0x0424 reply too short");
    uint8_t mode = buf[3] & 0x0F;
    *state = mode == 0x08 ? GW_S7_CPU_RUN
           : (mode >= 0x01 && mode <= 0x04) ? GW_S7_CPU_STOP : GW_S7_CPU_UNKNOWN;
    return GW_OK;
}

/* ---------------------------------------------------------------- timers, counters */

/* One Read Var or Write Var of `count` timers or counters from `first`:
 * area and transport size TIMER or COUNTER, the address the number
 * (docs/s7comm.md 15). */
static gw_err tm_ct_chunk(gw_s7_client *c, bool counters, bool write, uint16_t first,
                          uint16_t count, uint8_t *bytes, gw_error *err)
{
    const char *what = counters ? "counters" : "timers";
    s7_item it = {counters ? S7_TS_COUNTER : S7_TS_TIMER, count, 0,
                  counters ? S7_AREA_COUNTER : S7_AREA_TIMER, first};
    uint16_t ref = next_ref(c);
    size_t n;
    if (write) {
        s7_data d = {0, S7_DTS_OCTET, bytes, (uint16_t)(2u * count)};
        n = s7_encode_write_req(c->tx, RX_CAP, ref, &it, &d, 1);
    } else {
        n = s7_encode_read_req(c->tx, RX_CAP, ref, &it, 1);
    }
    s7_header h;
    gw_err rc = s7__client_exchange(c, c->tx, n, ref, &h, err);
    if (rc != GW_OK)
        return rc;
    if (h.err_class || h.err_code)
        return header_error(c, &h, what, err);
    if (h.rosctr != S7_ACK_DATA || h.param_len < 2 ||
        h.param[0] != (write ? S7_FN_WRITE : S7_FN_READ) || h.param[1] != 1)
        return fail(c, err, GW_E_PROTOCOL, 0, "malformed answer to a %s of %s",
                    write ? "write" : "read", what);
    uint8_t code;
    s7_data d = {0};
    if (write) {
        if (h.data_len < 1)
            return fail(c, err, GW_E_PROTOCOL, 0, "no return code for the %s written", what);
        code = h.data[0];
    } else {
        if (s7_decode_data(h.data, h.data_len, 1, &d) != GW_OK)
            return fail(c, err, GW_E_PROTOCOL, 0, "malformed %s data", what);
        code = d.rc;
    }
    if (code != S7_RC_OK) {
        rc = fail(c, err, rc_err(code), 0, "%s %u..%u: %s", what, first, first + count - 1u,
                  s7_item_rc_text(code));
        if (err)
            err->device_code = code;
        return rc;
    }
    if (!write) {
        if (d.len != 2u * count)
            return fail(c, err, GW_E_PROTOCOL, 0, "%u bytes of %s for %u", d.len, what, count);
        memcpy(bytes, d.bytes, d.len);
    }
    return GW_OK;
}

static gw_err tm_ct(gw_s7_client *c, bool counters, bool write, uint16_t first, uint16_t count,
                    uint16_t *values, gw_error *err)
{
    if (!s7_iso_is_open(c->iso))
        return fail(c, err, GW_E_CONN_LOST, 0, "not connected");
    if (count == 0 || (uint32_t)first + count > 0x10000u)
        return gw_error_set(err, GW_E_INVAL, "%u %s from %u is not a range", count,
                            counters ? "counters" : "timers", first);
    /* a reply carries header 12, parameter 2, data header 4 and 2 bytes
     * each; a write request header 10, parameter 14, data header 4 */
    uint16_t per = (uint16_t)((c->pdu_len - 28u) / 2u);
    uint8_t bytes[2 * 480];
    for (uint32_t done = 0; done < count;) {
        uint16_t k = (uint16_t)(count - done < per ? count - done : per);
        for (uint16_t i = 0; write && i < k; i++) {
            bytes[2 * i] = (uint8_t)(values[done + i] >> 8);
            bytes[2 * i + 1] = (uint8_t)values[done + i];
        }
        gw_err rc = tm_ct_chunk(c, counters, write, (uint16_t)(first + done), k, bytes, err);
        if (rc != GW_OK)
            return rc;
        for (uint16_t i = 0; !write && i < k; i++)
            values[done + i] = (uint16_t)(bytes[2 * i] << 8 | bytes[2 * i + 1]);
        done += k;
    }
    return GW_OK;
}

gw_err gw_s7_tm_ct_read(gw_s7_client *c, bool counters, uint16_t first, uint16_t count,
                        uint16_t *values, gw_error *err)
{
    return tm_ct(c, counters, false, first, count, values, err);
}

gw_err gw_s7_tm_ct_write(gw_s7_client *c, bool counters, uint16_t first, uint16_t count,
                         const uint16_t *values, gw_error *err)
{
    return tm_ct(c, counters, true, first, count, (uint16_t *)values, err);
}

/* ---------------------------------------------------------------- tags */

gw_err gw_s7_ranges_for_tags(const gw_tagmap *m, gw_s7_range **out, size_t *n)
{
    size_t count = gw_tagmap_count(m);
    gw_s7_range *r = gw_calloc(count ? count : 1, sizeof(*r));
    if (!r)
        return GW_E_NOMEM;
    for (size_t i = 0; i < count; i++) {
        const gw_tag *t = gw_tagmap_at(m, i);
        if (t->addr.driver != GW_DRIVER_S7) {
            gw_free(r);
            return GW_E_INVAL;
        }
        r[i].area = t->addr.area;
        r[i].db = t->addr.db;
        r[i].start = t->addr.byte;
        r[i].len = t->nbytes;
    }
    *out = r;
    *n = count;
    return GW_OK;
}

/* ---------------------------------------------------------------- writes of tags */

/* One S7 range per write: whole bytes, or a bit write per bit the mask
 * names when the write owns only some bits of its byte. */
size_t gw_s7_ranges_for_write(const gw_write *w, gw_s7_range *out, uint8_t *bitvals)
{
    const gw_tag *t = w->tag;
    size_t n = 0;
    if (t->type == GW_T_BOOL) {
        bitvals[0] = w->bit ? 1 : 0;
        out[n++] = (gw_s7_range){t->addr.area, t->addr.db, t->addr.byte, 1, true, t->addr.bit,
                                 NULL, bitvals, GW_OK, 0};
        return n;
    }
    if (t->type == GW_T_BITS && w->bytemask[0] != 0xFF) {
        for (uint8_t b = 0; b < 8; b++) {
            if (!(w->bytemask[0] & (1u << b)))
                continue;
            bitvals[n] = (w->bytes[0] >> b) & 1u;
            out[n] = (gw_s7_range){t->addr.area, t->addr.db, t->addr.byte, 1, true, b, NULL,
                                   &bitvals[n], GW_OK, 0};
            n++;
        }
        return n;
    }
    out[n++] = (gw_s7_range){t->addr.area, t->addr.db, t->addr.byte, (uint32_t)w->n, false, 0,
                             NULL, w->bytes, GW_OK, 0};
    return n;
}
