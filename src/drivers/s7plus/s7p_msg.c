/*
 * s7p_msg.c - S7CommPlus message payloads (docs/s7commplus.md S2, S5):
 * InitSSL, CreateObject, GetMultiVariables, SetMultiVariables, Explore,
 * DeleteObject and the Error answer, both ways.
 *
 * Decoders validate the whole payload once and hand out views; lists
 * (addresses, values, errors, objects) are walked afterwards with the
 * *_next functions, which re-read bytes already validated. Trailing bytes
 * after the parts we need (the u32 0 ends, V2 IntegrityIds) are tolerated,
 * because py7's emulator ignores them and real CPUs vary; everything we
 * do read must be complete. Clean-room, from facts only.
 */
#include "drivers/s7plus/s7p_codec.h"

#include <string.h>

/* ReturnValue, and whether an error object follows it (S2 DeleteObject). */
static gw_err get_ret(s7p_r *r, uint64_t *ret, bool *err_obj)
{
    if (s7p_get_vlq_u64(r, ret) != GW_OK)
        return GW_E_PROTOCOL;
    *err_obj = (*ret & S7P_RET_ERROR_OBJECT) != 0;
    return GW_OK;
}

/* ------------------------------------------------------------ InitSSL */

void s7p_initssl_req_encode(s7p_w *w)
{
    s7p_put_u32(w, 0);
}

gw_err s7p_initssl_req_decode(const uint8_t *p, size_t len)
{
    (void)p;
    return len >= 4 ? GW_OK : GW_E_PROTOCOL;
}

void s7p_initssl_rsp_encode(s7p_w *w, uint64_t ret)
{
    s7p_put_vlq_u64(w, ret);
    s7p_put_u32(w, 0);
}

gw_err s7p_initssl_rsp_decode(const uint8_t *p, size_t len, uint64_t *ret)
{
    s7p_r r;
    s7p_r_init(&r, p, len);
    return s7p_get_vlq_u64(&r, ret);
}

/* ------------------------------------------------------------ CreateObject */

gw_err s7p_createobj_req_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                                s7p_createobj_req *out)
{
    s7p_r r;
    uint32_t zero;
    memset(out, 0, sizeof *out);
    s7p_r_init(&r, p, len);
    if (s7p_get_u32(&r, &out->request_id) != GW_OK)
        return GW_E_PROTOCOL;
    gw_err e = s7p_get_pvalue(&r, o, &out->request_value);
    if (e != GW_OK)
        return e;
    if (s7p_get_u32(&r, &zero) != GW_OK || s7p_r_left(&r) == 0)
        return GW_E_PROTOCOL;
    /* V1 has no IntegrityId here; a V2 sender puts one before the A1 */
    if (r.p[r.pos] != S7P_EL_START_OBJECT) {
        if (s7p_get_vlq_u32(&r, &out->integrity_id) != GW_OK)
            return GW_E_PROTOCOL;
        out->has_integrity = true;
    }
    return s7p_get_obj(&r, o, &out->obj);
}

void s7p_createobj_req_begin(s7p_w *w)
{
    s7p_put_u32(w, S7P_ID_OBJECT_SERVER_SESSION_CONTAINER);
    s7p_put_pv_u(w, S7P_T_UDINT, 0);
    s7p_put_u32(w, 0);
}

void s7p_createobj_req_end(s7p_w *w)
{
    s7p_put_u32(w, 0);
}

void s7p_createobj_req_encode_session(s7p_w *w, const s7p_opts *o)
{
    static const char sub[] = "SubscriptionContainer";
    s7p_createobj_req_begin(w);
    s7p_put_obj_begin(w, S7P_ID_GET_NEW_RID_ON_SERVER, S7P_ID_CLASS_SERVER_SESSION, 0, 0);
    s7p_put_attr(w, S7P_ID_SERVER_SESSION_CLIENT_RID);
    s7p_put_pv_u(w, S7P_T_RID, S7P_CLIENT_RID);
    s7p_put_obj_begin(w, S7P_ID_GET_NEW_RID_ON_SERVER, S7P_ID_CLASS_SUBSCRIPTIONS, 0, 0);
    s7p_put_attr(w, S7P_ID_OBJECT_VARIABLE_TYPE_NAME);
    s7p_put_pv_name(w, o, sub, sizeof sub - 1);
    s7p_put_obj_end(w);
    s7p_put_obj_end(w);
    s7p_createobj_req_end(w);
}

gw_err s7p_createobj_rsp_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                                s7p_createobj_rsp *out)
{
    s7p_r r;
    memset(out, 0, sizeof *out);
    s7p_r_init(&r, p, len);
    if (get_ret(&r, &out->ret, &out->ret_error_object) != GW_OK)
        return GW_E_PROTOCOL;
    if (out->ret_error_object)
        return GW_OK;
    if (s7p_get_u8(&r, &out->n_object_ids) != GW_OK)
        return GW_E_PROTOCOL;
    for (unsigned k = 0; k < out->n_object_ids; k++) {
        uint32_t id;
        if (s7p_get_vlq_u32(&r, &id) != GW_OK)
            return GW_E_PROTOCOL;
        if (k < S7P_MAX_OBJECT_IDS)
            out->object_ids[k] = id;
    }
    out->session_id = out->object_ids[0];
    /* the object only when VV=1 (S2); else the u32 0 end or an IntegrityId */
    if (s7p_r_left(&r) == 0 || r.p[r.pos] != S7P_EL_START_OBJECT)
        return GW_OK;
    gw_err e = s7p_get_obj(&r, o, &out->obj);
    if (e != GW_OK)
        return e;
    out->has_obj = true;
    e = s7p_obj_attr(&out->obj, o, S7P_ID_SERVER_SESSION_VERSION, &out->version);
    if (e == GW_OK)
        out->has_version = true;
    else if (e != GW_E_NOT_FOUND)
        return e;
    return GW_OK;
}

void s7p_createobj_rsp_begin(s7p_w *w, uint64_t ret, const uint32_t *ids, uint8_t n_ids)
{
    s7p_put_vlq_u64(w, ret);
    s7p_put_u8(w, n_ids);
    for (unsigned k = 0; k < n_ids; k++)
        s7p_put_vlq_u32(w, ids[k]);
}

void s7p_createobj_rsp_end(s7p_w *w)
{
    s7p_put_u32(w, 0);
}

void s7p_createobj_rsp_encode_py7(s7p_w *w, uint32_t session_id, uint8_t version)
{
    s7p_createobj_rsp_begin(w, 0, &session_id, 1);
    s7p_put_obj_begin(w, session_id, 0, 0, 0);
    s7p_put_attr(w, S7P_ID_SERVER_SESSION_ID_ATTR);
    s7p_put_pv_u(w, S7P_T_UDINT, session_id);
    s7p_put_attr(w, S7P_ID_SERVER_SESSION_VERSION);
    s7p_put_pv_u(w, S7P_T_USINT, version);
    s7p_put_attr(w, S7P_ID_SERVER_SESSION_VERSION);
    s7p_put_pv_u(w, S7P_T_UDINT, version);
    s7p_put_obj_end(w);
    s7p_createobj_rsp_end(w);
}

/* ------------------------------------------------------------ GetMultiVariables */

gw_err s7p_addr_next(const uint8_t *addrs, size_t addrs_len, size_t *pos, s7p_addr *a)
{
    if (*pos >= addrs_len)
        return GW_E_NOT_FOUND;
    s7p_r r;
    s7p_r_init(&r, addrs, addrs_len);
    r.pos = *pos;
    gw_err e = s7p_get_addr(&r, a);
    if (e == GW_OK)
        *pos = r.pos;
    return e;
}

/* n ItemAddresses from r, as one span. */
static gw_err get_addrs(s7p_r *r, uint32_t n, const uint8_t **span, size_t *span_len)
{
    size_t start = r->pos;
    if (n > s7p_r_left(r) / 5)   /* an address is >= 5 bytes */
        return GW_E_PROTOCOL;
    for (uint32_t k = 0; k < n; k++) {
        s7p_addr a;
        gw_err e = s7p_get_addr(r, &a);
        if (e != GW_OK)
            return e;
    }
    *span = r->p + start;
    *span_len = r->pos - start;
    return GW_OK;
}

gw_err s7p_getmulti_req_decode(const uint8_t *p, size_t len, s7p_getmulti_req *out)
{
    s7p_r r;
    memset(out, 0, sizeof *out);
    s7p_r_init(&r, p, len);
    if (s7p_get_u32(&r, &out->link_id) != GW_OK ||
        s7p_get_vlq_u32(&r, &out->item_count) != GW_OK ||
        s7p_get_vlq_u32(&r, &out->field_count) != GW_OK)
        return GW_E_PROTOCOL;
    gw_err e = get_addrs(&r, out->item_count, &out->addrs, &out->addrs_len);
    if (e != GW_OK)
        return e;
    return s7p_get_tail(&r, 4, &out->tail);
}

void s7p_getmulti_req_encode(s7p_w *w, const s7p_opts *o, const s7p_addr *addrs, uint32_t n,
                             const s7p_tail *tail)
{
    uint32_t fields = 0;
    for (uint32_t k = 0; k < n; k++)
        fields += s7p_addr_fields(&addrs[k]);
    s7p_put_u32(w, 0);   /* LinkId */
    s7p_put_vlq_u32(w, n);
    s7p_put_vlq_u32(w, fields);
    for (uint32_t k = 0; k < n; k++)
        s7p_put_addr(w, &addrs[k]);
    s7p_put_tail(w, o, tail);
}

/* (ItemNumber, PValue)* 0 */
static gw_err get_value_list(s7p_r *r, const s7p_opts *o, const uint8_t **span, size_t *n)
{
    size_t start = r->pos;
    for (;;) {
        size_t at = r->pos;
        uint32_t item;
        s7p_pvalue pv;
        if (s7p_get_vlq_u32(r, &item) != GW_OK)
            return GW_E_PROTOCOL;
        if (item == 0) {
            *span = r->p + start;
            *n = at - start;
            return GW_OK;
        }
        gw_err e = s7p_get_pvalue(r, o, &pv);
        if (e != GW_OK)
            return e;
    }
}

/* (ItemNumber, u64 VLQ error)* 0 */
static gw_err get_error_list(s7p_r *r, const uint8_t **span, size_t *n)
{
    size_t start = r->pos;
    for (;;) {
        size_t at = r->pos;
        uint32_t item;
        uint64_t code;
        if (s7p_get_vlq_u32(r, &item) != GW_OK)
            return GW_E_PROTOCOL;
        if (item == 0) {
            *span = r->p + start;
            *n = at - start;
            return GW_OK;
        }
        if (s7p_get_vlq_u64(r, &code) != GW_OK)
            return GW_E_PROTOCOL;
    }
}

static void get_integrity(s7p_r *r, bool *has, uint32_t *id)
{
    if (s7p_r_left(r) && s7p_get_vlq_u32(r, id) == GW_OK)
        *has = true;
}

gw_err s7p_getmulti_rsp_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                               s7p_getmulti_rsp *out)
{
    s7p_r r;
    memset(out, 0, sizeof *out);
    s7p_r_init(&r, p, len);
    if (get_ret(&r, &out->ret, &out->ret_error_object) != GW_OK)
        return GW_E_PROTOCOL;
    if (out->ret_error_object)
        return GW_OK;
    gw_err e = get_value_list(&r, o, &out->values, &out->values_len);
    if (e == GW_OK)
        e = get_error_list(&r, &out->errors, &out->errors_len);
    if (e == GW_OK)
        get_integrity(&r, &out->has_integrity, &out->integrity_id);
    return e;
}

gw_err s7p_value_next(const uint8_t *values, size_t len, const s7p_opts *o, size_t *pos,
                      uint32_t *item, s7p_pvalue *pv)
{
    if (*pos >= len)
        return GW_E_NOT_FOUND;
    s7p_r r;
    s7p_r_init(&r, values, len);
    r.pos = *pos;
    gw_err e = s7p_get_vlq_u32(&r, item);
    if (e == GW_OK)
        e = s7p_get_pvalue(&r, o, pv);
    if (e == GW_OK)
        *pos = r.pos;
    return e;
}

gw_err s7p_error_next(const uint8_t *errors, size_t len, size_t *pos, uint32_t *item,
                      uint64_t *code)
{
    if (*pos >= len)
        return GW_E_NOT_FOUND;
    s7p_r r;
    s7p_r_init(&r, errors, len);
    r.pos = *pos;
    gw_err e = s7p_get_vlq_u32(&r, item);
    if (e == GW_OK)
        e = s7p_get_vlq_u64(&r, code);
    if (e == GW_OK)
        *pos = r.pos;
    return e;
}

void s7p_getmulti_rsp_begin(s7p_w *w, uint64_t ret)
{
    s7p_put_vlq_u64(w, ret);
}

void s7p_put_item_error(s7p_w *w, uint32_t item, uint64_t code)
{
    s7p_put_vlq_u32(w, item);
    s7p_put_vlq_u64(w, code);
}

void s7p_getmulti_rsp_end(s7p_w *w, uint32_t integrity_id)
{
    s7p_put_u8(w, 0);
    s7p_put_vlq_u32(w, integrity_id);
}

/* ------------------------------------------------------------ SetMultiVariables */

gw_err s7p_setmulti_req_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                               s7p_setmulti_req *out)
{
    s7p_r r;
    gw_err e;
    memset(out, 0, sizeof *out);
    s7p_r_init(&r, p, len);
    if (s7p_get_u32(&r, &out->in_object_id) != GW_OK ||
        s7p_get_vlq_u32(&r, &out->item_count) != GW_OK ||
        s7p_get_vlq_u32(&r, &out->addr_count) != GW_OK)
        return GW_E_PROTOCOL;
    if (out->in_object_id > 0) {
        size_t start = r.pos;
        if (out->addr_count > s7p_r_left(&r))
            return GW_E_PROTOCOL;
        for (uint32_t k = 0; k < out->addr_count; k++) {
            uint32_t id;
            if (s7p_get_vlq_u32(&r, &id) != GW_OK)
                return GW_E_PROTOCOL;
        }
        out->addrs = p + start;
        out->addrs_len = r.pos - start;
    } else {
        e = get_addrs(&r, out->item_count, &out->addrs, &out->addrs_len);
        if (e != GW_OK)
            return e;
    }
    size_t start = r.pos;
    if (out->item_count > s7p_r_left(&r) / 3)   /* item number + flags + type */
        return GW_E_PROTOCOL;
    for (uint32_t k = 0; k < out->item_count; k++) {
        uint32_t item;
        s7p_pvalue pv;
        if (s7p_get_vlq_u32(&r, &item) != GW_OK)
            return GW_E_PROTOCOL;
        e = s7p_get_pvalue(&r, o, &pv);
        if (e != GW_OK)
            return e;
    }
    out->values = p + start;
    out->values_len = r.pos - start;
    uint8_t end;
    if (s7p_r_left(&r) == 0)
        return GW_OK;      /* lenient: nothing after the values */
    if (s7p_get_u8(&r, &end) != GW_OK || end != 0)
        return GW_E_PROTOCOL;
    return s7p_get_tail(&r, 4, &out->tail);
}

gw_err s7p_setmulti_next(const s7p_setmulti_req *req, const s7p_opts *o, s7p_setmulti_iter *it,
                         s7p_setmulti_item *item)
{
    if (it->done >= req->item_count)
        return GW_E_NOT_FOUND;
    memset(item, 0, sizeof *item);
    gw_err e = GW_OK;
    if (req->in_object_id > 0) {
        if (it->addr_pos < req->addrs_len) {
            s7p_r r;
            s7p_r_init(&r, req->addrs, req->addrs_len);
            r.pos = it->addr_pos;
            e = s7p_get_vlq_u32(&r, &item->attr_id);
            it->addr_pos = r.pos;
        }
    } else {
        e = s7p_addr_next(req->addrs, req->addrs_len, &it->addr_pos, &item->addr);
    }
    if (e == GW_OK)
        e = s7p_value_next(req->values, req->values_len, o, &it->value_pos, &item->item_number,
                           &item->pv);
    if (e == GW_E_NOT_FOUND)
        e = GW_E_PROTOCOL;   /* fewer than item_count: cannot be after decode */
    if (e == GW_OK)
        it->done++;
    return e;
}

void s7p_setmulti_req_begin_attrs(s7p_w *w, uint32_t in_object_id, const uint32_t *attr_ids,
                                  uint32_t n)
{
    s7p_put_u32(w, in_object_id);
    s7p_put_vlq_u32(w, n);
    s7p_put_vlq_u32(w, n);
    for (uint32_t k = 0; k < n; k++)
        s7p_put_vlq_u32(w, attr_ids[k]);
}

void s7p_setmulti_req_begin_addrs(s7p_w *w, const s7p_addr *addrs, uint32_t n)
{
    uint32_t fields = 0;
    for (uint32_t k = 0; k < n; k++)
        fields += s7p_addr_fields(&addrs[k]);
    s7p_put_u32(w, 0);
    s7p_put_vlq_u32(w, n);
    s7p_put_vlq_u32(w, fields);
    for (uint32_t k = 0; k < n; k++)
        s7p_put_addr(w, &addrs[k]);
}

void s7p_setmulti_req_end(s7p_w *w, const s7p_opts *o, const s7p_tail *tail)
{
    s7p_put_u8(w, 0);
    s7p_put_tail(w, o, tail);
}

gw_err s7p_setmulti_rsp_decode(const uint8_t *p, size_t len, s7p_setmulti_rsp *out)
{
    s7p_r r;
    memset(out, 0, sizeof *out);
    s7p_r_init(&r, p, len);
    if (get_ret(&r, &out->ret, &out->ret_error_object) != GW_OK)
        return GW_E_PROTOCOL;
    if (out->ret_error_object)
        return GW_OK;
    gw_err e = get_error_list(&r, &out->errors, &out->errors_len);
    if (e == GW_OK)
        get_integrity(&r, &out->has_integrity, &out->integrity_id);
    return e;
}

void s7p_setmulti_rsp_begin(s7p_w *w, uint64_t ret)
{
    s7p_put_vlq_u64(w, ret);
}

/* ------------------------------------------------------------ Explore */

gw_err s7p_explore_req_decode(const uint8_t *p, size_t len, s7p_explore_req *out)
{
    s7p_r r;
    uint8_t one, filters;
    memset(out, 0, sizeof *out);
    if (len == 0) {
        out->empty = true;
        return GW_OK;
    }
    s7p_r_init(&r, p, len);
    if (s7p_get_u32(&r, &out->explore_id) != GW_OK ||
        s7p_get_vlq_u32(&r, &out->explore_request_id) != GW_OK ||
        s7p_get_u8(&r, &out->recursive) != GW_OK || s7p_get_u8(&r, &one) != GW_OK ||
        s7p_get_u8(&r, &out->parents) != GW_OK || s7p_get_u8(&r, &filters) != GW_OK ||
        s7p_get_vlq_u32(&r, &out->n_attrs) != GW_OK)
        return GW_E_PROTOCOL;
    if (filters != 0)
        return GW_E_UNSUPPORTED;   /* filter layout not known to us */
    size_t start = r.pos;
    if (out->n_attrs > s7p_r_left(&r))
        return GW_E_PROTOCOL;
    for (uint32_t k = 0; k < out->n_attrs; k++) {
        uint32_t id;
        if (s7p_get_vlq_u32(&r, &id) != GW_OK)
            return GW_E_PROTOCOL;
    }
    out->attrs = p + start;
    out->attrs_len = r.pos - start;
    /* [IntegrityId], u32 0, u8 0 */
    if (s7p_r_left(&r) > 5 && s7p_get_vlq_u32(&r, &out->integrity_id) == GW_OK)
        out->has_integrity = true;
    return GW_OK;
}

void s7p_explore_req_encode(s7p_w *w, uint32_t explore_id, uint32_t request_id,
                            uint8_t recursive, uint8_t parents, const uint32_t *attrs,
                            uint32_t n_attrs, const s7p_tail *tail)
{
    s7p_put_u32(w, explore_id);
    s7p_put_vlq_u32(w, request_id);
    s7p_put_u8(w, recursive);
    s7p_put_u8(w, 1);
    s7p_put_u8(w, parents);
    s7p_put_u8(w, 0);   /* no filters */
    s7p_put_vlq_u32(w, n_attrs);
    for (uint32_t k = 0; k < n_attrs; k++)
        s7p_put_vlq_u32(w, attrs[k]);
    if (tail && tail->has_integrity)
        s7p_put_vlq_u32(w, tail->integrity_id);
    s7p_put_u32(w, 0);
    s7p_put_u8(w, 0);
}

gw_err s7p_explore_rsp_decode(const uint8_t *p, size_t len, const s7p_opts *o,
                              s7p_explore_rsp *out)
{
    s7p_r r;
    memset(out, 0, sizeof *out);
    s7p_r_init(&r, p, len);
    if (get_ret(&r, &out->ret, &out->ret_error_object) != GW_OK)
        return GW_E_PROTOCOL;
    if (out->ret_error_object)
        return GW_OK;
    if (o && o->explore_id && s7p_get_u32(&r, &out->explore_id) != GW_OK)
        return GW_E_PROTOCOL;
    size_t start = r.pos;
    while (s7p_r_left(&r) && r.p[r.pos] == S7P_EL_START_OBJECT) {
        s7p_obj obj;
        gw_err e = s7p_get_obj(&r, o, &obj);
        if (e != GW_OK)
            return e;
    }
    out->objs = p + start;
    out->objs_len = r.pos - start;
    return GW_OK;   /* then u32 0 (and in V2 an IntegrityId): ignored */
}

gw_err s7p_explore_next(const s7p_explore_rsp *rsp, const s7p_opts *o, size_t *pos,
                        s7p_obj *obj)
{
    if (*pos >= rsp->objs_len)
        return GW_E_NOT_FOUND;
    s7p_r r;
    s7p_r_init(&r, rsp->objs, rsp->objs_len);
    r.pos = *pos;
    gw_err e = s7p_get_obj(&r, o, obj);
    if (e == GW_OK)
        *pos = r.pos;
    return e;
}

void s7p_explore_rsp_begin(s7p_w *w, const s7p_opts *o, uint64_t ret, uint32_t explore_id)
{
    s7p_put_vlq_u64(w, ret);
    if (o && o->explore_id)
        s7p_put_u32(w, explore_id);
}

void s7p_explore_rsp_end(s7p_w *w)
{
    s7p_put_u32(w, 0);
}

void s7p_explore_put_db(s7p_w *w, const s7p_opts *o, uint16_t db, uint32_t size,
                        const char *const *var_names, size_t n_vars)
{
    char name[16];
    int n = snprintf(name, sizeof name, "DB%u", (unsigned)db);
    if (n < 0 || (size_t)n >= sizeof name) {
        w->err = true;
        return;
    }
    s7p_put_obj_begin(w, S7P_DB_AREA_BASE | db, S7P_ID_DB_CLASS, 0, 0);
    s7p_put_attr(w, S7P_ID_OBJECT_VARIABLE_TYPE_NAME);
    s7p_put_pv_name(w, o, name, (size_t)n);
    s7p_put_attr(w, S7P_ID_BLOCK_NUMBER);
    s7p_put_pv_u(w, S7P_T_UDINT, db);
    s7p_put_attr(w, S7P_DB_SIZE_ATTR);
    s7p_put_pv_u(w, S7P_T_UDINT, size);
    for (size_t k = 0; k < n_vars; k++) {
        s7p_put_obj_begin(w, 0, 0, 0, 0);
        s7p_put_attr(w, S7P_ID_OBJECT_VARIABLE_TYPE_NAME);
        s7p_put_pv_name(w, o, var_names[k], strlen(var_names[k]));
        s7p_put_obj_end(w);
    }
    s7p_put_obj_end(w);
}

gw_err s7p_explore_db_info(const s7p_obj *obj, const s7p_opts *o, s7p_explore_db *db)
{
    s7p_pvalue pv;
    memset(db, 0, sizeof *db);
    db->rid = obj->rid;
    db->is_db = obj->class_id == S7P_ID_DB_CLASS && (obj->rid >> 16) == (S7P_DB_AREA_BASE >> 16);
    if (!db->is_db)
        return GW_OK;
    db->number = (uint16_t)(obj->rid & 0xFFFF);
    gw_err e = s7p_obj_attr(obj, o, S7P_ID_BLOCK_NUMBER, &pv);
    if (e == GW_OK && pv.type == S7P_T_UDINT && pv.u <= 0xFFFF)
        db->number = (uint16_t)pv.u;
    else if (e != GW_OK && e != GW_E_NOT_FOUND)
        return e;
    if (s7p_obj_attr(obj, o, S7P_DB_SIZE_ATTR, &pv) == GW_OK && pv.type == S7P_T_UDINT)
        db->size = (uint32_t)pv.u;
    if (s7p_obj_attr(obj, o, S7P_ID_OBJECT_VARIABLE_TYPE_NAME, &pv) == GW_OK &&
        pv.type == S7P_T_WSTRING && !(pv.flags & (S7P_PV_ARRAY | S7P_PV_ADDRESS_ARRAY)))
        return s7p_name_utf8(pv.data, pv.data_len, db->name, sizeof db->name);
    return GW_OK;
}

/* ------------------------------------------------------------ DeleteObject */

void s7p_deleteobj_req_encode(s7p_w *w, const s7p_opts *o, uint32_t object_id,
                              const s7p_tail *tail)
{
    if (!(o && o->delete_long)) {
        s7p_put_u32(w, 0);
        return;
    }
    s7p_put_u32(w, object_id);
    s7p_put_u8(w, 0);
    s7p_put_tail(w, o, tail);
}

gw_err s7p_deleteobj_req_decode(const uint8_t *p, size_t len, s7p_deleteobj_req *out)
{
    s7p_r r;
    uint8_t zero;
    memset(out, 0, sizeof *out);
    s7p_r_init(&r, p, len);
    if (s7p_get_u32(&r, &out->object_id) != GW_OK)
        return GW_E_PROTOCOL;
    if (s7p_r_left(&r) == 0)
        return GW_OK;       /* py7's short form */
    out->long_form = true;
    if (s7p_get_u8(&r, &zero) != GW_OK)
        return GW_E_PROTOCOL;
    return s7p_get_tail(&r, 4, &out->tail);
}

void s7p_deleteobj_rsp_encode(s7p_w *w, uint64_t ret)
{
    s7p_put_vlq_u64(w, ret);
}

gw_err s7p_deleteobj_rsp_decode(const uint8_t *p, size_t len, uint64_t *ret)
{
    s7p_r r;
    s7p_r_init(&r, p, len);
    return s7p_get_vlq_u64(&r, ret);
}

/* ------------------------------------------------------------ Error */

void s7p_error_rsp_encode(s7p_w *w)
{
    static const uint8_t body[] = {0x89, 0x31, 0x00, 0x00, 0x00, 0x00}; /* S2, py7 emulator */
    s7p_put_bytes(w, body, sizeof body);
}

gw_err s7p_error_rsp_decode(const uint8_t *p, size_t len, uint32_t *code)
{
    s7p_r r;
    s7p_r_init(&r, p, len);
    *code = 0;
    if (len == 0)
        return GW_OK;
    return s7p_get_vlq_u32(&r, code);
}
