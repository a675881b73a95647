/*
 * mb_plan.c - the fewest Modbus requests that cover a tag map.
 *
 * Per register class (one function code each), tags sorted by address are
 * swept left to right: a tag joins the open request when the gap before it
 * is within the gap tolerance and the request stays within its quantity
 * limit (125 registers, 2000 bits); otherwise it opens the next request.
 * Tags are never split (a tag map keeps each tag within one read), so for
 * sorted intervals this greedy sweep gives the fewest requests that obey
 * the gap rule. Pure: no I/O. A plan borrows its map.
 */
#include "mb_internal.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    gw_mb_class cls;
    uint8_t fc;
    bool bits;
} classes[] = {
    {GW_MB_COIL, 1, true},      /* FC 1 read coils */
    {GW_MB_DISCRETE, 2, true},  /* FC 2 read discrete inputs */
    {GW_MB_HOLDING, 3, false},  /* FC 3 read holding registers */
    {GW_MB_INPUT, 4, false},    /* FC 4 read input registers */
};

static uint32_t tag_len(const gw_tag *t)
{
    return t->type == GW_T_BOOL ? 1u : t->nregs;
}

static void sort_by_addr(size_t *idx, size_t n, const gw_tagmap *m)
{
    /* insertion sort: stable, and maps have hundreds of tags at most */
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        uint16_t key = gw_tagmap_at(m, v)->addr.reg;
        while (j > 0 && gw_tagmap_at(m, idx[j - 1])->addr.reg > key) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

void gw_mb_plan_free(gw_mb_plan *p)
{
    if (!p)
        return;
    gw_free(p->reqs);
    gw_free(p->locs);
    gw_free(p->req_off);
    gw_free(p);
}

gw_err gw_mb_plan_new(const gw_tagmap *m, const gw_mb_plan_opts *opts, gw_mb_plan **out)
{
    return gw_mb_plan_new_some(m, NULL, opts, out);
}

gw_err gw_mb_plan_new_some(const gw_tagmap *m, const bool *want, const gw_mb_plan_opts *opts,
                           gw_mb_plan **out)
{
    *out = NULL;
    gw_mb_plan_opts o = {GW_MB_DEFAULT_REG_GAP, GW_MB_DEFAULT_BIT_GAP, GW_MB_MAX_READ_REGS,
                         GW_MB_MAX_READ_BITS, false};
    if (opts)
        o = *opts;
    if (!o.max_regs || o.max_regs > GW_MB_MAX_READ_REGS)
        o.max_regs = GW_MB_MAX_READ_REGS;
    if (!o.max_bits || o.max_bits > GW_MB_MAX_READ_BITS)
        o.max_bits = GW_MB_MAX_READ_BITS;
    if (gw_tagmap_count(m) && gw_tagmap_driver(m) != GW_DRIVER_MODBUS)
        return GW_E_INVAL;
    size_t n = gw_tagmap_count(m);
    gw_mb_plan *p = gw_calloc(1, sizeof(*p));
    size_t *idx = gw_malloc((n ? n : 1) * sizeof(size_t));
    if (!p || !idx)
        goto nomem;
    p->map = m;
    p->ntags = n;
    p->reqs = gw_calloc(n ? n : 1, sizeof(*p->reqs)); /* at most one per tag */
    p->req_off = gw_calloc(n ? n : 1, sizeof(*p->req_off));
    p->locs = gw_calloc(n ? n : 1, sizeof(*p->locs));
    if (!p->reqs || !p->req_off || !p->locs)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        p->locs[i].req = SIZE_MAX; /* not in this plan */
    for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (gw_tagmap_at(m, i)->addr.mb_class == classes[c].cls && (!want || want[i]))
                idx[k++] = i;
        sort_by_addr(idx, k, m);
        uint32_t gap = classes[c].bits ? o.bit_gap : o.reg_gap;
        uint32_t max = classes[c].bits ? o.max_bits : o.max_regs;
        bool open = false;
        uint32_t rs = 0, re = 0;
        for (size_t j = 0; j < k; j++) {
            const gw_tag *t = gw_tagmap_at(m, idx[j]);
            uint32_t s = t->addr.reg, e = s + tag_len(t);
            uint32_t ne = e > re ? e : re;
            if (open && !o.per_tag && s <= re + gap && ne - rs <= max) {
                re = ne;
            } else {
                if (open)
                    p->reqs[p->nreqs - 1].count = (uint16_t)(re - rs);
                p->reqs[p->nreqs++] = (gw_mb_request){classes[c].fc, (uint16_t)s, 0};
                rs = s;
                re = e;
                open = true;
            }
            p->locs[idx[j]] = (mb_tag_loc){p->nreqs - 1, s - rs};
        }
        if (open)
            p->reqs[p->nreqs - 1].count = (uint16_t)(re - rs);
    }
    for (size_t r = 0; r < p->nreqs; r++) {
        bool bits = p->reqs[r].fc <= 2;
        p->req_off[r] = bits ? p->total_bits : p->total_regs;
        if (bits)
            p->total_bits += p->reqs[r].count;
        else
            p->total_regs += p->reqs[r].count;
    }
    gw_free(idx);
    *out = p;
    return GW_OK;
nomem:
    gw_free(idx);
    gw_mb_plan_free(p);
    return GW_E_NOMEM;
}

size_t gw_mb_plan_requests(const gw_mb_plan *p)
{
    return p->nreqs;
}

const gw_mb_request *gw_mb_plan_request(const gw_mb_plan *p, size_t i)
{
    return i < p->nreqs ? &p->reqs[i] : NULL;
}

static const char *fc_name(uint8_t fc)
{
    switch (fc) {
    case 1: return "coils";
    case 2: return "discrete inputs";
    case 3: return "holding registers";
    case 4: return "input registers";
    default: return "?";
    }
}

void gw_mb_plan_describe(const gw_mb_plan *p, gw_buf *out)
{
    gw_buf_printf(out, "%zu request%s for %zu tag%s\n", p->nreqs, p->nreqs == 1 ? "" : "s",
                  p->ntags, p->ntags == 1 ? "" : "s");
    for (size_t r = 0; r < p->nreqs; r++) {
        const gw_mb_request *q = &p->reqs[r];
        gw_buf_printf(out, "  FC %u %s %u..%u (%u):", q->fc, fc_name(q->fc), q->start,
                      q->start + q->count - 1, q->count);
        for (size_t i = 0; i < p->ntags; i++)
            if (p->locs[i].req == r && r != SIZE_MAX)
                gw_buf_printf(out, " \"%s\"", gw_tagmap_at(p->map, i)->parameter);
        gw_buf_puts(out, "\n");
    }
}

/* ---------------------------------------------------------------- readout */

gw_err gw_mb_readout_new(const gw_mb_plan *p, gw_mb_readout **out)
{
    *out = NULL;
    gw_mb_readout *r = gw_calloc(1, sizeof(*r));
    if (!r)
        return GW_E_NOMEM;
    r->regs = gw_calloc(p->total_regs ? p->total_regs : 1, sizeof(uint16_t));
    r->bits = gw_calloc(p->total_bits ? p->total_bits : 1, 1);
    r->result = gw_calloc(p->nreqs ? p->nreqs : 1, sizeof(gw_err));
    r->exception = gw_calloc(p->nreqs ? p->nreqs : 1, sizeof(int));
    if (!r->regs || !r->bits || !r->result || !r->exception) {
        gw_mb_readout_free(r);
        return GW_E_NOMEM;
    }
    for (size_t i = 0; i < p->nreqs; i++)
        r->result[i] = GW_E_NOT_FOUND; /* not read yet */
    *out = r;
    return GW_OK;
}

void gw_mb_readout_free(gw_mb_readout *r)
{
    if (!r)
        return;
    gw_free(r->regs);
    gw_free(r->bits);
    gw_free(r->result);
    gw_free(r->exception);
    gw_free(r);
}

gw_err gw_mb_readout_value(const gw_mb_plan *p, const gw_mb_readout *r, size_t tag,
                           gw_value *out, gw_error *err)
{
    memset(out, 0, sizeof(*out));
    if (tag >= p->ntags)
        return gw_error_set(err, GW_E_INVAL, "no tag %zu in the plan", tag);
    const gw_tag *t = gw_tagmap_at(p->map, tag);
    const mb_tag_loc *loc = &p->locs[tag];
    if (loc->req == SIZE_MAX)
        return gw_error_set(err, GW_E_NOT_FOUND, "%s is not read by this plan", t->parameter);
    gw_err rc = r->result[loc->req];
    if (rc != GW_OK) {
        const gw_mb_request *q = &p->reqs[loc->req];
        if (r->exception[loc->req] && err)
            err->device_code = r->exception[loc->req];
        if (r->exception[loc->req])
            gw_error_set(err, rc, "%s (%s): the device answered exception %d, %s, to FC %u at "
                         "%u..%u", t->parameter, t->key, r->exception[loc->req],
                         gw_mb_exception_text(r->exception[loc->req]), q->fc, q->start,
                         q->start + q->count - 1);
        else
            gw_error_set(err, rc, "%s (%s): not read (%s)", t->parameter, t->key, gw_err_str(rc));
        return rc;
    }
    size_t off = p->req_off[loc->req] + loc->off;
    if (t->type == GW_T_BOOL) {
        gw_tag_decode_bit(t, r->bits[off] != 0, out);
        return GW_OK;
    }
    return gw_tag_decode_regs(p->map, t, r->regs + off, t->nregs, out, err);
}
