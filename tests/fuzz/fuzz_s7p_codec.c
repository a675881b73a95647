/*
 * fuzz_s7p_codec.c - the S7CommPlus codec (s7p_codec.h) on arbitrary bytes.
 *
 * Byte 0 picks the option set (bit 0: py7 forms or the reference forms)
 * and the reassembler's buffer size (bits 1-2). The rest is used twice:
 *   1. cut into COTP payloads (each prefixed by one length byte) and fed to
 *      the reassembler; every whole PDU is header-decoded and its payload
 *      given to the decoder of its function;
 *   2. given whole to every payload decoder, requests and responses.
 * Every decoded list is walked to its end, and PValues and addresses are
 * re-encoded and decoded again: the second encoding must equal the first.
 * Nothing may crash, read out of bounds or leak (the codec allocates
 * nothing).
 */
#include "drivers/s7plus/s7p_codec.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

/* encode(decode(x)) is a fixed point after one round */
static void pv_roundtrip(const s7p_pvalue *pv, const s7p_opts *o)
{
    uint8_t a[4096], b[4096];
    s7p_w w1, w2;
    size_t n1, n2;
    s7p_w_init(&w1, a, sizeof a);
    s7p_put_pvalue(&w1, o, pv);
    if (s7p_w_finish(&w1, &n1) != GW_OK)
        return;
    s7p_r r;
    s7p_pvalue again;
    s7p_r_init(&r, a, n1);
    check(s7p_get_pvalue(&r, o, &again) == GW_OK && s7p_r_left(&r) == 0);
    check(again.type == pv->type && again.count == pv->count);
    s7p_w_init(&w2, b, sizeof b);
    s7p_put_pvalue(&w2, o, &again);
    check(s7p_w_finish(&w2, &n2) == GW_OK && n1 == n2 && memcmp(a, b, n1) == 0);
}

static void walk_pv(const s7p_pvalue *pv, const s7p_opts *o, int depth)
{
    size_t pos = 0;
    uint64_t bits;
    uint32_t key;
    s7p_pvalue m;
    while (s7p_pv_elem_next(pv, &pos, &bits) == GW_OK)
        ;
    pos = 0;
    while (depth < 4 && s7p_struct_next(pv, o, &pos, &key, &m) == GW_OK)
        walk_pv(&m, o, depth + 1);
    if (pv->type == S7P_T_WSTRING) {
        char name[64];
        (void)s7p_name_utf8(pv->data, pv->data_len, name, sizeof name);
    }
    pv_roundtrip(pv, o);
}

static void walk_obj(const s7p_obj *obj, const s7p_opts *o, int depth)
{
    size_t pos = 0;
    s7p_obj_item it;
    s7p_explore_db db;
    (void)s7p_explore_db_info(obj, o, &db);
    while (s7p_obj_next(obj, o, &pos, &it) == GW_OK) {
        if (it.is_obj && depth < 4)
            walk_obj(&it.child, o, depth + 1);
        else if (!it.is_obj)
            walk_pv(&it.pv, o, 0);
    }
}

static void walk_addrs(const uint8_t *p, size_t n)
{
    size_t pos = 0;
    s7p_addr a;
    while (s7p_addr_next(p, n, &pos, &a) == GW_OK) {
        uint16_t db;
        uint32_t start, len;
        (void)s7p_addr_db_parse(&a, &db, &start, &len);
        uint8_t buf[128];
        s7p_w w;
        s7p_w_init(&w, buf, sizeof buf);
        s7p_put_addr(&w, &a);
        s7p_r r;
        s7p_addr back;
        s7p_r_init(&r, buf, w.len);
        check(!w.err && s7p_get_addr(&r, &back) == GW_OK && back.n_lids == a.n_lids);
    }
}

static void walk_values(const uint8_t *p, size_t n, const s7p_opts *o)
{
    size_t pos = 0;
    uint32_t item;
    s7p_pvalue pv;
    while (s7p_value_next(p, n, o, &pos, &item, &pv) == GW_OK)
        walk_pv(&pv, o, 0);
}

static void walk_errors(const uint8_t *p, size_t n)
{
    size_t pos = 0;
    uint32_t item;
    uint64_t code;
    while (s7p_error_next(p, n, &pos, &item, &code) == GW_OK)
        ;
}

static void decode_all(const uint8_t *p, size_t n, const s7p_opts *o)
{
    uint64_t ret;
    uint32_t code;
    (void)s7p_initssl_req_decode(p, n);
    (void)s7p_initssl_rsp_decode(p, n, &ret);
    (void)s7p_error_rsp_decode(p, n, &code);
    (void)s7p_deleteobj_rsp_decode(p, n, &ret);

    s7p_createobj_req creq;
    if (s7p_createobj_req_decode(p, n, o, &creq) == GW_OK)
        walk_obj(&creq.obj, o, 0);
    s7p_createobj_rsp crsp;
    if (s7p_createobj_rsp_decode(p, n, o, &crsp) == GW_OK && crsp.has_obj) {
        walk_obj(&crsp.obj, o, 0);
        if (crsp.has_version)
            pv_roundtrip(&crsp.version, o);
    }
    s7p_getmulti_req greq;
    if (s7p_getmulti_req_decode(p, n, &greq) == GW_OK)
        walk_addrs(greq.addrs, greq.addrs_len);
    s7p_getmulti_rsp grsp;
    if (s7p_getmulti_rsp_decode(p, n, o, &grsp) == GW_OK) {
        walk_values(grsp.values, grsp.values_len, o);
        walk_errors(grsp.errors, grsp.errors_len);
    }
    s7p_setmulti_req sreq;
    if (s7p_setmulti_req_decode(p, n, o, &sreq) == GW_OK) {
        s7p_setmulti_iter it = {0};
        s7p_setmulti_item item;
        gw_err e;
        while ((e = s7p_setmulti_next(&sreq, o, &it, &item)) == GW_OK)
            walk_pv(&item.pv, o, 0);
        check(e == GW_E_NOT_FOUND);
    }
    s7p_setmulti_rsp srsp;
    if (s7p_setmulti_rsp_decode(p, n, &srsp) == GW_OK)
        walk_errors(srsp.errors, srsp.errors_len);
    s7p_explore_req ereq;
    (void)s7p_explore_req_decode(p, n, &ereq);
    s7p_explore_rsp ersp;
    if (s7p_explore_rsp_decode(p, n, o, &ersp) == GW_OK) {
        size_t pos = 0;
        s7p_obj obj;
        while (s7p_explore_next(&ersp, o, &pos, &obj) == GW_OK)
            walk_obj(&obj, o, 0);
    }
    s7p_deleteobj_req dreq;
    (void)s7p_deleteobj_req_decode(p, n, &dreq);
    s7p_r r;
    s7p_pvalue pv;
    s7p_r_init(&r, p, n);
    if (s7p_get_pvalue(&r, o, &pv) == GW_OK)
        walk_pv(&pv, o, 0);
    s7p_obj obj;
    s7p_r_init(&r, p, n);
    if (s7p_get_obj(&r, o, &obj) == GW_OK)
        walk_obj(&obj, o, 0);
}

static void serve_pdu(const uint8_t *pdu, size_t n, const s7p_opts *o)
{
    s7p_hdr h;
    const uint8_t *pl;
    size_t pl_len;
    if (s7p_hdr_decode(pdu, n, &h, &pl, &pl_len) != GW_OK)
        return;
    decode_all(pl, pl_len, o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    s7p_opts o = {0};
    if (data[0] & 1)
        o = (s7p_opts){true, true, true, true, true, true};
    static const size_t caps[] = {64, 256, 1024, 65536};
    static uint8_t buf[65536];
    s7p_reasm ra;
    s7p_reasm_init(&ra, buf, caps[(data[0] >> 1) & 3]);
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    size_t off = 0;
    while (off < n) {
        size_t len = p[off++];
        if (len > n - off)
            len = n - off;
        s7p_frame f;
        bool done;
        if (s7p_reasm_feed(&ra, p + off, len, &f, &done) == GW_OK && done &&
            f.kind == S7P_FRAME_DATA) {
            check(f.data_len <= ra.cap);
            serve_pdu(f.data, f.data_len, &o);
            /* fragment it again and reassemble: the same bytes */
            uint8_t frag[64];
            uint8_t again[65536];
            s7p_reasm rb;
            s7p_frag fr;
            size_t fn;
            bool whole = false;
            s7p_frame g;
            s7p_reasm_init(&rb, again, sizeof again);
            s7p_frag_init(&fr, f.vv, f.data, f.data_len, 9 + (p[0] & 31));
            while (s7p_frag_next(&fr, frag, sizeof frag, &fn) == GW_OK)
                check(s7p_reasm_feed(&rb, frag, fn, &g, &whole) == GW_OK);
            check(whole && g.data_len == f.data_len && memcmp(g.data, f.data, f.data_len) == 0);
        }
        off += len;
    }
    decode_all(p, n, &o);
    serve_pdu(p, n, &o);
    return 0;
}
