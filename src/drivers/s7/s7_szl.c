/*
 * s7_szl.c - the S7 server's CPU functions (userdata group 4): system
 * state lists (docs/s7comm.md 11).
 */
#include "s7_internal.h"

#include <string.h>

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

static size_t szl_components(gw_s7_server *s, uint8_t *rec, uint16_t *rec_len, uint16_t *count)
{
    /* component identification: 34-byte records, index and 32
     * characters; index 6 is absent, so that the module type name
     * (index 7) is the sixth record, where snap7's GetCpuInfo looks */
    const struct {
        uint16_t idx;
        const char *text;
    } comp[] = {{1, s->station_name}, {2, s->plc_name}, {3, ""},
                {4, "Original Siemens Equipment"}, {5, s->serial},
                {7, s->module_name}, {8, ""}, {9, ""}, {10, ""}, {11, ""}};
    size_t n = sizeof(comp) / sizeof(comp[0]);
    for (size_t k = 0; k < n; k++) {
        uint8_t *r = rec + 34 * k;
        memset(r, 0, 34);
        put16(r, comp[k].idx);
        size_t tl = strlen(comp[k].text);
        memcpy(r + 2, comp[k].text, tl < 32 ? tl : 32);
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
    case S7_SZL_COMPONENTS: return szl_components(s, rec, rec_len, count);
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

size_t s7__serve_cpu_functions(gw_s7_server *s, s7_session *c, const s7_header *h,
                               const s7_userdata_param *up)
{
    uint16_t id = 0, index = 0;
    /* any return code / transport size in the request's data header, as
     * a CPU and snap7's server take them (docs/s7comm.md 11.2) */
    if (up->subfunction != 0x01 || up->method != 0x11 ||
        s7_decode_szl_req_data(h->data, h->data_len, &id, &index) != GW_OK)
        return s7__ud_error(s, h->pdu_ref, up, 0x8104);
    uint8_t *d = s7__ud_data(s);
    szl_ctx x = {gw_tcpsrv_clients(s->tcp)};
    uint16_t rec_len = 0, count = 0;
    pthread_mutex_lock(&s->lock);
    size_t rl = szl_records(s, &x, id, index, d + 12, &rec_len, &count);
    pthread_mutex_unlock(&s->lock);
    /* the answer must fit the client's PDU: whole records only (we do
     * not fragment SZL answers yet; snap7's server truncates too) */
    size_t room = c->pdu_len > S7_HDR_JOB + 24u ? c->pdu_len - S7_HDR_JOB - 24u : 0;
    if (rl > room && rec_len) {
        count = (uint16_t)(room / rec_len);
        rl = (size_t)count * rec_len;
    }
    if (!rl)
        return s7__ud_error(s, h->pdu_ref, up, 0xD402); /* information function unavailable */
    d[0] = S7_RC_OK;
    d[1] = S7_DTS_OCTET;
    put16(d + 2, (uint16_t)(8 + rl));
    put16(d + 4, id);
    put16(d + 6, index);
    put16(d + 8, rec_len);
    put16(d + 10, count);
    return s7__ud_finish(s, h->pdu_ref, up, up->seq, 0, false, 0, 12 + rl);
}

void s7__szl_session_free(s7_session *c)
{
    (void)c;
}

void s7__diag_mode_change(gw_s7_server *s, gw_s7_cpu_state from, gw_s7_cpu_state to,
                          bool cold, int64_t epoch_ms)
{
    (void)s;
    (void)from;
    (void)to;
    (void)cold;
    (void)epoch_ms;
}
