/*
 * s7_plan.c - packing many reads into the fewest Read Var requests.
 *
 * 1. Sort the ranges by area, DB and offset and merge neighbours closer
 *    than `gap` bytes into spans (reading a small gap is cheaper than the
 *    12 request bytes and 4 reply bytes of another item).
 * 2. Cut spans into items that fit one reply: PDU - 12 (ack_data header)
 *    - 2 (function, count) - 4 (item header), rounded down to even.
 * 3. Pack items into requests, first fit by decreasing size, each request
 *    within the PDU both ways - 10 + 2 + 12 n request bytes and
 *    12 + 2 + sum(4 + len, padded to even) reply bytes (docs/s7comm.md,
 *    "Size limits") - and within max_items (snap7 answers only the first
 *    20 items of a longer request, silently).
 * 4. Record which bytes of which item each range takes.
 *
 * Pure: no I/O. The plan is immutable once built.
 */
#include "s7_internal.h"

#include <stdlib.h>
#include <string.h>

static int range_cmp(const void *a, const void *b, const gw_s7_range *r)
{
    const gw_s7_range *x = &r[*(const size_t *)a], *y = &r[*(const size_t *)b];
    if (x->area != y->area)
        return x->area < y->area ? -1 : 1;
    if (x->db != y->db)
        return x->db < y->db ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* qsort has no context argument in C17: sort indices by insertion, which
 * is fine for the hundreds of ranges a machine has, and stable. */
static void sort_indices(size_t *idx, size_t n, const gw_s7_range *r)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && range_cmp(&idx[j - 1], &v, r) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

void gw_s7_plan_free(gw_s7_plan *p)
{
    if (!p)
        return;
    gw_free(p->items);
    gw_free(p->reqs);
    gw_free(p->pieces);
    gw_free(p);
}

static size_t item_cost(uint32_t len)
{
    return 4u + len + (len & 1u);
}

static int item_len_desc(const void *a, const void *b)
{
    const s7_plan_item *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    if (x->area != y->area)
        return x->area < y->area ? -1 : 1;
    if (x->db != y->db)
        return x->db < y->db ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int item_addr(const void *a, const void *b)
{
    const s7_plan_item *x = a, *y = b;
    if (x->req != y->req)
        return x->req < y->req ? -1 : 1;
    if (x->area != y->area)
        return x->area < y->area ? -1 : 1;
    if (x->db != y->db)
        return x->db < y->db ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

gw_err gw_s7_plan_new(const gw_s7_range *ranges, size_t n, const gw_s7_plan_opts *opts,
                      gw_s7_plan **out)
{
    return s7__plan_new(ranges, n, opts, false, out);
}

gw_err s7__plan_new(const gw_s7_range *ranges, size_t n, const gw_s7_plan_opts *opts,
                    bool no_merge, gw_s7_plan **out)
{
    *out = NULL;
    uint16_t pdu = opts->pdu_len;
    /* the smallest useful PDU carries one item of at least 2 bytes */
    if (pdu < S7_HDR_ACK + 2 + 4 + 2 || pdu < S7_READ_REQ_SIZE(1))
        return GW_E_INVAL;
    size_t max_items = opts->max_items ? opts->max_items : GW_S7_DEFAULT_MAX_ITEMS;
    size_t by_request = (pdu - S7_HDR_JOB - 2u) / S7_ITEM_SPEC;
    if (max_items > by_request)
        max_items = by_request;
    if (max_items > 255)
        max_items = 255; /* the item count is one byte */
    uint32_t item_max = (uint32_t)(pdu - S7_HDR_ACK - 2u - 4u) & ~1u;

    gw_s7_plan *p = gw_calloc(1, sizeof(*p));
    size_t *idx = gw_malloc((n ? n : 1) * sizeof(size_t));
    if (!p || !idx)
        goto nomem;
    p->pdu_len = pdu;
    p->nranges = n;
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].len == 0 || ranges[i].start + (uint64_t)ranges[i].len > 0x200000u) {
            gw_free(idx);
            gw_s7_plan_free(p);
            return GW_E_RANGE;
        }
        idx[i] = i;
    }
    sort_indices(idx, n, ranges);

    /* 1 + 2: spans, cut into items */
    size_t cap = 16;
    p->items = gw_malloc(cap * sizeof(*p->items));
    if (!p->items)
        goto nomem;
    for (size_t k = 0; k < n;) {
        const gw_s7_range *r = &ranges[idx[k]];
        uint32_t start = r->start, end = r->start + r->len;
        size_t j = k + 1;
        for (; j < n; j++) {
            const gw_s7_range *q = &ranges[idx[j]];
            if (no_merge || q->area != r->area || q->db != r->db ||
                q->start > end + opts->gap)
                break;
            if (q->start + q->len > end)
                end = q->start + q->len;
        }
        for (uint32_t s = start; s < end; s += item_max) {
            if (p->nitems == cap) {
                cap *= 2;
                s7_plan_item *ni = gw_realloc(p->items, cap * sizeof(*ni));
                if (!ni)
                    goto nomem;
                p->items = ni;
            }
            s7_plan_item *it = &p->items[p->nitems++];
            it->area = r->area;
            it->db = r->db;
            it->start = s;
            it->len = end - s < item_max ? end - s : item_max;
        }
        k = j;
    }

    /* 3: first fit decreasing */
    qsort(p->items, p->nitems, sizeof(*p->items), item_len_desc);
    p->reqs = gw_calloc(p->nitems ? p->nitems : 1, sizeof(*p->reqs));
    if (!p->reqs)
        goto nomem;
    for (size_t i = 0; i < p->nitems; i++) {
        s7_plan_item *it = &p->items[i];
        size_t r = 0;
        for (; r < p->nreqs; r++) {
            s7_plan_req *q = &p->reqs[r];
            if (q->nitems < max_items && q->reply + item_cost(it->len) <= pdu)
                break;
        }
        if (r == p->nreqs) {
            p->reqs[r].reply = S7_HDR_ACK + 2u;
            p->nreqs++;
        }
        p->reqs[r].nitems++;
        p->reqs[r].reply += item_cost(it->len);
        it->req = (uint32_t)r;
    }
    /* items of a request together, in address order */
    qsort(p->items, p->nitems, sizeof(*p->items), item_addr);
    size_t first = 0, off = 0;
    for (size_t r = 0; r < p->nreqs; r++) {
        p->reqs[r].first = first;
        first += p->reqs[r].nitems;
    }
    for (size_t i = 0; i < p->nitems; i++) {
        p->items[i].buf_off = off;
        off += p->items[i].len;
    }
    p->buf_len = off;

    /* 4: pieces - each range's overlap with each item of its area/DB */
    size_t pcap = n + p->nitems + 1, np = 0;
    p->pieces = gw_malloc(pcap * sizeof(*p->pieces));
    if (!p->pieces)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        const gw_s7_range *r = &ranges[i];
        uint32_t rs = r->start, re = r->start + r->len;
        for (size_t k = 0; k < p->nitems; k++) {
            const s7_plan_item *it = &p->items[k];
            uint32_t is = it->start, ie = it->start + it->len;
            if (it->area != r->area || it->db != r->db || ie <= rs || is >= re)
                continue;
            if (np == pcap) {
                pcap *= 2;
                s7_plan_piece *npc = gw_realloc(p->pieces, pcap * sizeof(*npc));
                if (!npc)
                    goto nomem;
                p->pieces = npc;
            }
            uint32_t s = rs > is ? rs : is, e = re < ie ? re : ie;
            p->pieces[np++] = (s7_plan_piece){(uint32_t)i, (uint32_t)k, s - is, s - rs, e - s};
        }
    }
    p->npieces = np;
    gw_free(idx);
    *out = p;
    return GW_OK;
nomem:
    gw_free(idx);
    gw_s7_plan_free(p);
    return GW_E_NOMEM;
}

size_t gw_s7_plan_requests(const gw_s7_plan *p)
{
    return p->nreqs;
}

size_t gw_s7_plan_items(const gw_s7_plan *p, size_t request)
{
    return request < p->nreqs ? p->reqs[request].nitems : 0;
}

const char *s7__area_name(gw_s7_area a)
{
    static const char *names[] = {"DB", "M", "I", "Q"};
    return (unsigned)a <= GW_S7_Q ? names[a] : "?";
}

void gw_s7_plan_describe(const gw_s7_plan *p, gw_buf *out)
{
    gw_buf_printf(out, "PDU %u bytes: %zu request%s for %zu range%s\n", p->pdu_len, p->nreqs,
                  p->nreqs == 1 ? "" : "s", p->nranges, p->nranges == 1 ? "" : "s");
    for (size_t r = 0; r < p->nreqs; r++) {
        const s7_plan_req *q = &p->reqs[r];
        gw_buf_printf(out, "  request %zu: %zu item%s, reply %zu bytes\n", r + 1, q->nitems,
                      q->nitems == 1 ? "" : "s", q->reply);
        for (size_t i = q->first; i < q->first + q->nitems; i++) {
            const s7_plan_item *it = &p->items[i];
            if (it->area == GW_S7_DB)
                gw_buf_printf(out, "    DB%u.DBB%u, %u bytes\n", it->db, it->start, it->len);
            else
                gw_buf_printf(out, "    %sB%u, %u bytes\n", s7__area_name(it->area), it->start,
                              it->len);
        }
    }
}
