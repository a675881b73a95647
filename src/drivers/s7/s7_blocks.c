/*
 * s7_blocks.c - the S7 server's blocks (docs/s7comm.md 14): list, list of
 * a type and block info (userdata group 3), upload (jobs 0x1D-0x1F),
 * download (job 0x1A, the CPU's own jobs 0x1B/0x1C and the client's
 * Ack_Data to them) and the PI services _INSE, _DELE, _GARB and _MODU.
 *
 * Design. DBs are the server's DB areas: a DB exists while its area does,
 * its MC7 length is the area's size and its data the area's bytes. What a
 * DB area lacks (header name, family, author, the time a client downloaded
 * it) is kept in the store beside it, keyed by number. Declared OB/FC/FB
 * (the config) live only in the store: listed, described and uploaded as
 * a header, `size` zero code bytes and a footer; never executed.
 *
 * Every block a client sees is one image (blk_image): info, upload and
 * checksum are all read from it, so their lengths always agree. The
 * checksum is CRC-16/CCITT-FALSE over the image with the checksum field
 * zero: a CPU's own algorithm is not public (docs/s7comm.md 14.2).
 *
 * Invariants. The serve functions run on the server thread without the
 * lock; every access to s->areas or the store takes s->lock and nothing
 * keeps a pointer into s->areas past the unlock (an upload copies the
 * whole image out). A download is collected in the session and changes
 * nothing until the client's _INSE; a block whose bytes do not parse as a
 * DB of the requested number is refused then, and nothing changes.
 */
#include "s7_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sub-block types in the MC7 header (S7-TYPES `SubBlk_*`) */
enum { SUB_OB = 0x08, SUB_DB = 0x0A, SUB_SDB = 0x0B, SUB_FC = 0x0C, SUB_SFC = 0x0D,
       SUB_FB = 0x0E, SUB_SFB = 0x0F };
/* languages (S7-TYPES `BlockLang*`): declared code blocks say KOP (LAD) */
enum { LANG_KOP = 0x02, LANG_DB = 0x05 };

/* the CPU's error codes we answer with (docs/s7comm.md 14.6, S7-ERRTXT) */
#define E_NO_MEMORY 0x8301    /* insufficient memory */
#define E_NO_PARALLEL 0x8304  /* no further parallel upload */
#define E_NOT_IMPL 0x8104     /* service not implemented */
#define E_SEQUENCE 0x8401     /* invalid service sequence (up/download) */
#define E_MODE 0xD081         /* not permitted in the current mode */
#define E_NAME 0xD201         /* syntax error in block name */
#define E_PARAMS 0xD202       /* syntax error in function parameters */
#define E_NOT_FOUND 0xD209    /* (at least) one of the blocks not found */
#define E_NO_BLOCK 0xD20E     /* no (further) block available */
#define E_TOO_BIG 0xD20F      /* maximum block size exceeded */
#define E_HEADER 0xD212       /* incorrect header attribute */
#define E_LENGTHS 0xD219      /* incorrect block lengths */
#define E_STRUCTURE 0xD226    /* structural error in a block */
#define E_NOT_DB 0xD238       /* a block specified is not a DB */
#define E_PROTECTED 0xD241    /* not permitted in the protection level */

/* S7 block times count days from 1984-01-01 (S7-CLIH `DeltaSecs`, WS-S7
 * `s7comm_get_timestring_from_s7time`) */
#define EPOCH_1984_S 441763200LL
#define DAY_MS 86400000LL
#define MAX_MC7 0xFFFFu       /* the MC7 length is 16 bits (S7-TYPES) */
#define MAX_LOAD (MAX_MC7 + S7_MC7_OVERHEAD)
#define BLK_VERSION 0x01      /* header version 0.1, as snap7's server says */
#define LIST_FLAGS 0x22       /* list-of-type item flags (S7-SRV `BLK_ListBoT`) */
#define UD_HDR_OVERHEAD 26u   /* userdata answer: header 10, param 12, data head 4 */
#define UP_OVERHEAD 18u       /* upload answer: header 12, param 2, data head 4 */
#define DL_JOB_PARAM 18u      /* 0x1B / 0x1C job parameter */

typedef struct {
    uint8_t type;          /* gw_s7_block_type */
    uint16_t number;
    uint32_t size;         /* MC7 bytes (declared blocks; DBs: the area's) */
    int64_t code_ms, intf_ms;
    char name[9], family[9], author[9];
} blk_meta;

struct s7_blocks {
    blk_meta *decl;        /* OB/FC/FB from the config, sorted by type, number */
    size_t ndecl;
    blk_meta *db;          /* header data of DBs a client downloaded */
    size_t ndb;
    uint8_t next_id;       /* upload ids and list sequence numbers */
};

typedef enum { DL_NONE, DL_LOADING, DL_ENDING, DL_PASSIVE } dl_state;

struct s7_blk_xfer {
    /* upload: the whole image, copied at start */
    uint8_t up_id;         /* 0: no upload */
    uint8_t *up_buf;
    size_t up_len, up_off;
    /* download */
    dl_state dl;
    uint8_t dl_type;
    uint16_t dl_number;
    uint8_t *dl_buf;
    size_t dl_len, dl_off;
    uint16_t dl_err;       /* why the bytes are no block (0: they are) */
    uint16_t job_ref;      /* reference of the CPU's job last sent */
    /* list of a type, continued */
    uint8_t lbt_seq;       /* 0: none */
    uint8_t lbt_type;
    uint32_t lbt_next;
};

/* ms since midnight (4) and days since 1984 (2), docs/s7comm.md 14.2 */
static void put_s7time(uint8_t *p, int64_t epoch_ms)
{
    int64_t ms = epoch_ms - EPOCH_1984_S * 1000;
    if (ms < 0)
        ms = 0;
    int64_t days = ms / DAY_MS;
    if (days > 0xFFFF)
        days = 0xFFFF;
    s7_put32(p, (uint32_t)(ms % DAY_MS));
    s7_put16(p + 4, (uint16_t)days);
}

static uint8_t sub_type(uint8_t type)
{
    switch (type) {
    case GW_S7_BLK_OB: return SUB_OB;
    case GW_S7_BLK_DB: return SUB_DB;
    case GW_S7_BLK_SDB: return SUB_SDB;
    case GW_S7_BLK_FC: return SUB_FC;
    case GW_S7_BLK_SFC: return SUB_SFC;
    case GW_S7_BLK_FB: return SUB_FB;
    default: return SUB_SFB;
    }
}

static void copy_name(char dst[9], const char *src)
{
    snprintf(dst, 9, "%.8s", src ? src : "");
}

static size_t err_reply(gw_s7_server *s, const s7_header *h, uint16_t code)
{
    return s7__reply_error(s, h->pdu_ref, S7_ACK_DATA, (uint8_t)(code >> 8), (uint8_t)code);
}

/* ---------------------------------------------------------------- store */

static int cmp_meta(const void *a, const void *b)
{
    const blk_meta *x = a, *y = b;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    return x->number < y->number ? -1 : x->number > y->number;
}

gw_err s7__blocks_new(gw_s7_server *s, const gw_s7_block_decl *decl, size_t n)
{
    s7_blocks *b = gw_calloc(1, sizeof(*b));
    if (!b)
        return GW_E_NOMEM;
    s->blocks = b;
    b->next_id = 1;
    if (n == 0)
        return GW_OK;
    if (!(b->decl = gw_calloc(n, sizeof(*b->decl))))
        return GW_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const gw_s7_block_decl *d = &decl[i];
        bool code = d->type == GW_S7_BLK_OB || d->type == GW_S7_BLK_FC || d->type == GW_S7_BLK_FB;
        bool dup = false;
        for (size_t j = 0; j < b->ndecl; j++)
            dup |= b->decl[j].type == d->type && b->decl[j].number == d->number;
        if (!code || d->size > MAX_MC7 || dup) {
            gw_log_write(s->opts.log, GW_LOG_WARN, "s7", "server: declared block type 0x%02X "
                         "number %u ignored: only OB, FC and FB, once each, up to %u bytes",
                         (unsigned)d->type, d->number, MAX_MC7);
            continue;
        }
        blk_meta *m = &b->decl[b->ndecl++];
        *m = (blk_meta){(uint8_t)d->type, d->number, d->size, s->started_ms, s->started_ms,
                        "", "", ""};
        copy_name(m->name, d->name);
        copy_name(m->family, d->family);
        copy_name(m->author, d->author);
    }
    qsort(b->decl, b->ndecl, sizeof(*b->decl), cmp_meta);
    return GW_OK;
}

void s7__blocks_free(gw_s7_server *s)
{
    if (!s->blocks)
        return;
    gw_free(s->blocks->decl);
    gw_free(s->blocks->db);
    gw_free(s->blocks);
    s->blocks = NULL;
}

void s7__blocks_session_free(s7_session *c)
{
    s7_blk_xfer *x = c->xfer;
    if (!x)
        return;
    gw_free(x->up_buf);
    gw_free(x->dl_buf);
    gw_free(x);
    c->xfer = NULL;
}

static s7_blk_xfer *get_xfer(s7_session *c)
{
    if (!c->xfer)
        c->xfer = gw_calloc(1, sizeof(*c->xfer));
    return c->xfer;
}

/* The next upload id or list sequence number, never 0. Lock held. */
static uint8_t next_id(s7_blocks *b)
{
    uint8_t id = b->next_id++;
    if (b->next_id == 0)
        b->next_id = 1;
    return id;
}

static blk_meta *find_decl(s7_blocks *b, uint8_t type, uint16_t number)
{
    blk_meta key = {.type = type, .number = number};
    if (b->ndecl == 0)
        return NULL;
    return bsearch(&key, b->decl, b->ndecl, sizeof(*b->decl), cmp_meta);
}

static blk_meta *find_db_meta(s7_blocks *b, uint16_t number)
{
    for (size_t i = 0; i < b->ndb; i++)
        if (b->db[i].number == number)
            return &b->db[i];
    return NULL;
}

/* A block as clients see it: its header data and, for a DB, its bytes
 * (pointing into the area: valid while the lock is held). */
typedef struct {
    blk_meta m;
    uint8_t lang;
    const uint8_t *data;   /* NULL: zero code bytes */
} blk_view;

/* Lock held. */
static bool find_block(gw_s7_server *s, uint8_t type, uint16_t number, blk_view *v)
{
    if (type == GW_S7_BLK_DB) {
        const s7_srv_area *a = number ? s7__find_area(s, GW_S7_DB, number) : NULL;
        if (!a)
            return false;
        const blk_meta *dm = find_db_meta(s->blocks, number);
        if (dm) {
            v->m = *dm;
        } else {
            /* a DB the simulator made: the server's start, or its own time */
            int64_t t = a->created_ms ? a->created_ms : s->started_ms;
            v->m = (blk_meta){GW_S7_BLK_DB, number, 0, t, t, "", "", ""};
            snprintf(v->m.name, sizeof(v->m.name), "DB%u", number);
            copy_name(v->m.family, "SIM");
            copy_name(v->m.author, "PLCGW");
        }
        v->m.size = a->size;
        v->lang = LANG_DB;
        v->data = a->mem;
        return true;
    }
    const blk_meta *m = find_decl(s->blocks, type, number);
    if (!m)
        return false;
    v->m = *m;
    v->lang = LANG_KOP;
    v->data = NULL;
    return true;
}

/* The block's image (docs/s7comm.md 14.2) into out (size + 92 bytes);
 * returns its length. */
static size_t blk_image(uint8_t *out, const blk_view *v)
{
    size_t len = v->m.size + S7_MC7_OVERHEAD;
    memset(out, 0, len);
    out[0] = 'p';
    out[1] = 'p';
    out[2] = 0x01;              /* S7-TYPES `Uk_01` */
    out[3] = 0x01;              /* flags, as snap7's server */
    out[4] = v->lang;
    out[5] = sub_type(v->m.type);
    s7_put16(out + 6, v->m.number);
    s7_put32(out + 8, (uint32_t)len);
    /* 12: block security 0 (no know-how protection) */
    put_s7time(out + 16, v->m.code_ms);
    put_s7time(out + 22, v->m.intf_ms);
    s7_put16(out + 28, S7_MC7_SBB);
    /* 30: additional length 0, 32: local data 0 */
    s7_put16(out + 34, (uint16_t)v->m.size);
    if (v->data)
        memcpy(out + S7_MC7_HDR, v->data, v->m.size);
    uint8_t *f = out + len - S7_MC7_FOOTER;
    memcpy(f, v->m.author, strlen(v->m.author));
    memcpy(f + 8, v->m.family, strlen(v->m.family));
    memcpy(f + 16, v->m.name, strlen(v->m.name));
    f[24] = BLK_VERSION;
    s7_put16(f + 26, s7_crc16(out, len));
    return len;
}

/* Finds the block and copies its image into a new buffer; 0 or the
 * CPU's error code. */
static uint16_t image_of(gw_s7_server *s, uint8_t type, uint16_t number, uint8_t **img,
                         size_t *len)
{
    uint16_t code = 0;
    pthread_mutex_lock(&s->lock);
    blk_view v;
    if (!find_block(s, type, number, &v))
        code = E_NOT_FOUND;
    else if (v.m.size > MAX_MC7)
        code = E_TOO_BIG;
    else if (!(*img = gw_malloc(v.m.size + S7_MC7_OVERHEAD)))
        code = E_NO_MEMORY;
    else
        *len = blk_image(*img, &v);
    pthread_mutex_unlock(&s->lock);
    return code;
}

/* ---------------------------------------------------------------- userdata group 3 */

/* Fills numbers[] with the blocks of a type from `from` on, ascending, at
 * most cap; returns how many there are in all from `from` on. Lock held. */
static size_t numbers_of(gw_s7_server *s, uint8_t type, uint32_t from, uint16_t *numbers,
                         size_t cap)
{
    size_t total = 0;
    if (type != GW_S7_BLK_DB) {
        s7_blocks *b = s->blocks;
        for (size_t i = 0; i < b->ndecl; i++)
            if (b->decl[i].type == type && b->decl[i].number >= from) {
                if (total < cap)
                    numbers[total] = b->decl[i].number;
                total++;
            }
        return total;
    }
    /* DB areas are in no order: take the smallest above the last */
    uint32_t last = from;
    for (;;) {
        uint32_t best = 0x10000u;
        size_t count = 0;
        for (size_t i = 0; i < s->nareas; i++) {
            const s7_srv_area *a = &s->areas[i];
            if (a->area != GW_S7_DB || a->db < from)
                continue;
            if (total == 0)
                count++;
            if (a->db >= last && a->db < best)
                best = a->db;
        }
        if (total == 0)
            total = count;
        if (best == 0x10000u || cap == 0)
            return total;
        *numbers++ = (uint16_t)best;
        cap--;
        last = best + 1;
    }
}

static size_t serve_list_all(gw_s7_server *s, const s7_header *h, const s7_userdata_param *up)
{
    /* the order of snap7's server (S7-SRV `BLK_ListAll`) */
    static const uint8_t order[7] = {GW_S7_BLK_OB, GW_S7_BLK_FB, GW_S7_BLK_FC, GW_S7_BLK_DB,
                                     GW_S7_BLK_SDB, GW_S7_BLK_SFC, GW_S7_BLK_SFB};
    uint8_t *d = s7__ud_data(s);
    d[0] = S7_RC_OK;
    d[1] = S7_DTS_OCTET;
    s7_put16(d + 2, 28);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < 7; i++) {
        size_t n = numbers_of(s, order[i], 0, NULL, 0);
        d[4 + 4 * i] = '0';
        d[5 + 4 * i] = order[i];
        s7_put16(d + 6 + 4 * i, (uint16_t)(n > 0xFFFF ? 0xFFFF : n));
    }
    pthread_mutex_unlock(&s->lock);
    return s7__ud_finish(s, h->pdu_ref, up, up->seq, 0, false, 0, 32);
}

static bool known_type(uint8_t t)
{
    return t == GW_S7_BLK_OB || (t >= GW_S7_BLK_DB && t <= GW_S7_BLK_SFB);
}

static size_t serve_list_type(gw_s7_server *s, s7_session *c, const s7_header *h,
                              const s7_userdata_param *up)
{
    s7_blk_xfer *x = get_xfer(c);
    if (!x)
        return s7__ud_error(s, h->pdu_ref, up, E_NO_MEMORY);
    bool next = up->method == 0x12;   /* a continuation (S7-CLI `opListBlocksOfType`) */
    uint8_t type;
    uint32_t from = 0;
    if (next) {
        if (!x->lbt_seq || up->seq != x->lbt_seq)
            return s7__ud_error(s, h->pdu_ref, up, E_SEQUENCE);
        type = x->lbt_type;
        from = x->lbt_next;
    } else {
        if (h->data_len < 6 || s7_get16(h->data + 2) < 2 || h->data[4] != '0' ||
            !known_type(h->data[5]))
            return s7__ud_error(s, h->pdu_ref, up, E_PARAMS);
        type = h->data[5];
    }
    x->lbt_seq = 0;
    size_t cap = (c->pdu_len - UD_HDR_OVERHEAD) / 4;
    uint16_t nums[(S7_SRV_PDU_MAX - UD_HDR_OVERHEAD) / 4];
    pthread_mutex_lock(&s->lock);
    size_t total = numbers_of(s, type, from, nums, cap);
    uint8_t seq = total > cap ? next_id(s->blocks) : up->seq;
    pthread_mutex_unlock(&s->lock);
    if (total == 0 && !next)
        return s7__ud_error(s, h->pdu_ref, up, E_NO_BLOCK);
    size_t k = total < cap ? total : cap;
    uint8_t *d = s7__ud_data(s);
    d[0] = S7_RC_OK;
    d[1] = S7_DTS_OCTET;
    s7_put16(d + 2, (uint16_t)(4 * k));
    for (size_t i = 0; i < k; i++) {
        s7_put16(d + 4 + 4 * i, nums[i]);
        d[6 + 4 * i] = LIST_FLAGS;
        d[7 + 4 * i] = type == GW_S7_BLK_DB ? LANG_DB : LANG_KOP;
    }
    bool more = total > cap;
    if (more) {
        x->lbt_seq = seq;
        x->lbt_type = type;
        x->lbt_next = (uint32_t)nums[k - 1] + 1;
    }
    return s7__ud_finish(s, h->pdu_ref, up, seq, 0, more, 0, 4 + 4 * k);
}

static size_t serve_info(gw_s7_server *s, const s7_header *h, const s7_userdata_param *up)
{
    uint8_t type;
    uint16_t number;
    /* FF 09 00 08, '0' type ddddd filesystem (S7-CLI `opAgBlockInfo`) */
    if (h->data_len < 12 || s7_get16(h->data + 2) < 8 ||
        s7_block_addr_decode(h->data + 4, &type, &number) != GW_OK)
        return s7__ud_error(s, h->pdu_ref, up, E_NAME);
    uint8_t *img = NULL;
    size_t len = 0;
    uint16_t code = image_of(s, type, number, &img, &len);
    if (code)
        return s7__ud_error(s, h->pdu_ref, up, code);
    /* the answer is '0' type, length 74, 22 00, then the image's header
     * and footer verbatim (docs/s7comm.md 14.4) */
    uint8_t *d = s7__ud_data(s);
    d[0] = S7_RC_OK;
    d[1] = S7_DTS_OCTET;
    s7_put16(d + 2, 78);
    d[4] = '0';
    d[5] = type;
    s7_put16(d + 6, 74);
    d[8] = 0x22;
    d[9] = 0x00;
    memcpy(d + 10, img, S7_MC7_HDR);
    memcpy(d + 10 + S7_MC7_HDR, img + len - S7_MC7_FOOTER, S7_MC7_FOOTER);
    gw_free(img);
    return s7__ud_finish(s, h->pdu_ref, up, up->seq, 0, false, 0, 82);
}

size_t s7__serve_block_functions(gw_s7_server *s, s7_session *c, const s7_header *h,
                                 const s7_userdata_param *up)
{
    /* subfunctions (WS-S7H `S7COMM_UD_SUBF_BLOCK_*`) */
    switch (up->subfunction) {
    case 0x01: return serve_list_all(s, h, up);
    case 0x02: return serve_list_type(s, c, h, up);
    case 0x03: return serve_info(s, h, up);
    default: return s7__ud_error(s, h->pdu_ref, up, E_NOT_IMPL);
    }
}

/* ---------------------------------------------------------------- upload */

/* "_0A00001A": length 9, '_', block address, file system (WS-S7
 * `s7comm_decode_plc_controls_filename`) */
static bool decode_filename(const uint8_t *p, size_t len, uint8_t *type, uint16_t *number)
{
    return len >= 10 && p[0] == 9 && p[1] == '_' &&
           s7_block_addr_decode(p + 2, type, number) == GW_OK &&
           (p[9] == 'A' || p[9] == 'P' || p[9] == 'B');
}

static size_t serve_up_start(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    uint8_t type;
    uint16_t number;
    if (h->param_len < 18 || !decode_filename(h->param + 8, h->param_len - 8, &type, &number))
        return err_reply(s, h, E_NAME);
    s7_blk_xfer *x = get_xfer(c);
    if (!x)
        return err_reply(s, h, E_NO_MEMORY);
    if (x->up_id)
        return err_reply(s, h, E_NO_PARALLEL);
    uint16_t code = image_of(s, type, number, &x->up_buf, &x->up_len);
    if (code)
        return err_reply(s, h, code);
    pthread_mutex_lock(&s->lock);
    x->up_id = next_id(s->blocks);
    pthread_mutex_unlock(&s->lock);
    x->up_off = 0;
    /* 1D, status, 2 unknown, upload id (4), then the load length as a
     * string of 7 digits (WS-S7 `upl_lenstring`; S7-TYPES
     * `TResFunStartUploadParams`) */
    uint8_t *p = s7__ack_param(s);
    memset(p, 0, 8);
    p[0] = S7_FN_UPLOAD_START;
    p[7] = x->up_id;
    p[8] = 7;
    char digits[8];
    snprintf(digits, sizeof(digits), "%07u", (unsigned)(x->up_len % 10000000u));
    memcpy(p + 9, digits, 7);
    return s7__ack_finish(s, h->pdu_ref, 16, 0);
}

/* Job parameter fn, status, 2 bytes, upload id (4): this upload's? */
static bool is_upload(const s7_blk_xfer *x, const s7_header *h)
{
    const uint8_t *p = h->param;
    return x && x->up_id && h->param_len >= 8 && p[4] == 0 && p[5] == 0 && p[6] == 0 &&
           p[7] == x->up_id;
}

static size_t serve_up(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    s7_blk_xfer *x = c->xfer;
    if (!is_upload(x, h) || x->up_off >= x->up_len)
        return err_reply(s, h, E_SEQUENCE);
    size_t piece = x->up_len - x->up_off;
    size_t room = c->pdu_len - UP_OVERHEAD;
    if (piece > room)
        piece = room;
    bool more = x->up_off + piece < x->up_len;
    /* 1E, status 0x01 "more data follows" (WS-S7 functionstatus); data:
     * length, 00 FB, bytes (S7-TYPES `TResFunUploadDataHeader*`) */
    uint8_t *p = s7__ack_param(s);
    p[0] = S7_FN_UPLOAD;
    p[1] = more ? 0x01 : 0x00;
    s7_put16(p + 2, (uint16_t)piece);
    p[4] = 0x00;
    p[5] = 0xFB;
    memcpy(p + 6, x->up_buf + x->up_off, piece);
    x->up_off += piece;
    return s7__ack_finish(s, h->pdu_ref, 2, 4 + piece);
}

static size_t serve_up_end(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    s7_blk_xfer *x = c->xfer;
    if (!is_upload(x, h))
        return err_reply(s, h, E_SEQUENCE);
    /* ending early is how a client aborts an upload */
    gw_free(x->up_buf);
    x->up_buf = NULL;
    x->up_id = 0;
    x->up_len = x->up_off = 0;
    uint8_t *p = s7__ack_param(s);
    p[0] = S7_FN_UPLOAD_END;
    return s7__ack_finish(s, h->pdu_ref, 1, 0);
}

/* ---------------------------------------------------------------- download */

static void drop_download(s7_blk_xfer *x)
{
    gw_free(x->dl_buf);
    x->dl_buf = NULL;
    x->dl = DL_NONE;
    x->dl_len = x->dl_off = 0;
}

/* The CPU's own job: 1B or 1C, status, 2 bytes (1C: error code), 4
 * bytes, "_0A00010P" (WS-S7 `s7comm_decode_plc_controls_updownload`). */
static size_t append_dl_job(gw_s7_server *s, size_t at, s7_blk_xfer *x, uint8_t fn)
{
    uint8_t p[DL_JOB_PARAM] = {fn, 0x00};
    if (fn == S7_FN_DOWNLOAD_END)
        s7_put16(p + 2, x->dl_err);
    p[8] = 9;
    p[9] = '_';
    s7_block_addr_encode(p + 10, x->dl_type, x->dl_number);
    p[17] = 'P';
    x->job_ref++;
    return s7__append_job(s, at, x->job_ref, p, sizeof(p), NULL, 0);
}

/* Reads n ASCII digits. */
static bool get_digits(const uint8_t *p, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10u + (uint32_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

static size_t serve_dl_request(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    pthread_mutex_lock(&s->lock);
    bool may = s7__session_may_write(s, c);
    pthread_mutex_unlock(&s->lock);
    if (!may)
        return err_reply(s, h, E_PROTECTED);
    uint8_t type;
    uint16_t number;
    const uint8_t *p = h->param;
    if (h->param_len < 18 || !decode_filename(p + 8, h->param_len - 8, &type, &number))
        return err_reply(s, h, E_NAME);
    if (type != GW_S7_BLK_DB || number == 0)
        return err_reply(s, h, type != GW_S7_BLK_DB ? E_NOT_DB : E_NAME);
    /* part 2: length 13, '1', load length (6 digits), MC7 length (6) */
    uint32_t load, mc7;
    if (h->param_len < 32 || p[18] != 0x0D || !get_digits(p + 20, 6, &load) ||
        !get_digits(p + 26, 6, &mc7))
        return err_reply(s, h, E_PARAMS);
    if (load > MAX_LOAD || mc7 > MAX_MC7)
        return err_reply(s, h, E_TOO_BIG);
    if (mc7 == 0 || mc7 + S7_MC7_HDR + S7_MC7_FOOTER > load)
        return err_reply(s, h, E_LENGTHS);
    s7_blk_xfer *x = get_xfer(c);
    if (!x)
        return err_reply(s, h, E_NO_MEMORY);
    if (x->dl == DL_LOADING || x->dl == DL_ENDING)
        return err_reply(s, h, E_SEQUENCE);
    drop_download(x);   /* a passive block not inserted is replaced */
    if (!(x->dl_buf = gw_malloc(load)))
        return err_reply(s, h, E_NO_MEMORY);
    x->dl = DL_LOADING;
    x->dl_type = type;
    x->dl_number = number;
    x->dl_len = load;
    x->dl_off = 0;
    x->dl_err = 0;
    uint8_t *q = s7__ack_param(s);
    q[0] = S7_FN_REQ_DOWNLOAD;
    size_t at = s7__ack_finish(s, h->pdu_ref, 1, 0);
    /* the CPU asks for the first piece in the same send (s7__append_job) */
    size_t total = append_dl_job(s, at, x, S7_FN_DOWNLOAD);
    if (total == at) {
        drop_download(x);
        return err_reply(s, h, E_NO_MEMORY);
    }
    return total;
}

/* Does the image parse as DB `number` (docs/s7comm.md 14.2)? 0 or the
 * error code. The checksum is not checked: snap7 clears it before a
 * download (S7-CLI `opDownload`). */
static uint16_t check_db_image(const uint8_t *b, size_t len, uint16_t number)
{
    if (len < S7_MC7_HDR + 1 + S7_MC7_FOOTER)
        return E_LENGTHS;
    if (b[0] != 'p' || b[1] != 'p')
        return E_STRUCTURE;
    if (b[5] != SUB_DB || s7_get16(b + 6) != number)
        return E_HEADER;
    size_t mc7 = s7_get16(b + 34), sbb = s7_get16(b + 28);
    if (s7_get32(b + 8) != len || mc7 == 0 || S7_MC7_HDR + mc7 + sbb + S7_MC7_FOOTER > len)
        return E_LENGTHS;
    return 0;
}

/* The empty DT without EOT (docs/s7comm.md 1 and 14.3): the one packet a
 * server can send that asks nothing and that clients skip. */
static size_t empty_dt(gw_s7_server *s)
{
    static const uint8_t dt[7] = {S7_TPKT_VERSION, 0, 0, 7, 2, S7_COTP_DT, 0x00};
    memcpy(s->tx, dt, sizeof(dt));
    return sizeof(dt);
}

size_t s7__serve_block_ack(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    s7_blk_xfer *x = c->xfer;
    /* an Ack_Data to no job of ours, or to another one: the peer is out
     * of step with us; 0 closes the connection */
    if (!x || (x->dl != DL_LOADING && x->dl != DL_ENDING) || h->pdu_ref != x->job_ref ||
        h->param_len < 1) {
        if (x && (x->dl == DL_LOADING || x->dl == DL_ENDING))
            drop_download(x);
        return 0;
    }
    if (x->dl == DL_ENDING) {
        if (h->param[0] != S7_FN_DOWNLOAD_END) {
            drop_download(x);
            return 0;
        }
        /* passive until the client's _INSE; a failed one is kept to
         * answer _INSE with why */
        x->dl = DL_PASSIVE;
        return empty_dt(s);
    }
    if (h->param[0] != S7_FN_DOWNLOAD || h->param_len < 2 || h->err_class || h->err_code) {
        drop_download(x);   /* the client gave up */
        return empty_dt(s);
    }
    /* 1B, status (0x01 more); data: length, 00 FB, bytes (S7-TYPES
     * `TResDownloadDataHeader`) */
    bool more = h->param[1] & 0x01;
    size_t n = h->data_len >= 4 ? s7_get16(h->data) : 0;
    if (h->data_len < 4 || n != h->data_len - 4u || n > x->dl_len - x->dl_off) {
        x->dl_err = E_LENGTHS;
        more = false;
    } else {
        memcpy(x->dl_buf + x->dl_off, h->data + 4, n);
        x->dl_off += n;
    }
    if (more && x->dl_off < x->dl_len)
        return append_dl_job(s, 0, x, S7_FN_DOWNLOAD);
    if (!x->dl_err)
        x->dl_err = x->dl_off != x->dl_len ? E_LENGTHS
                                           : check_db_image(x->dl_buf, x->dl_len, x->dl_number);
    x->dl = DL_ENDING;
    return append_dl_job(s, 0, x, S7_FN_DOWNLOAD_END);
}

/* ---------------------------------------------------------------- PI services */

/* Lock held. The DB's header data: replaced, or added. */
static bool set_db_meta(s7_blocks *b, const blk_meta *m)
{
    blk_meta *old = find_db_meta(b, m->number);
    if (!old) {
        blk_meta *n = gw_realloc(b->db, (b->ndb + 1) * sizeof(*n));
        if (!n)
            return false;
        b->db = n;
        old = &b->db[b->ndb++];
    }
    *old = *m;
    return true;
}

static void drop_db_meta(s7_blocks *b, uint16_t number)
{
    blk_meta *m = find_db_meta(b, number);
    if (m)
        *m = b->db[--b->ndb];
}

/* Makes the session's passive DB active: creates or replaces the area.
 * Lock held. */
static uint16_t insert_db(gw_s7_server *s, s7_blk_xfer *x)
{
    const uint8_t *img = x->dl_buf;
    uint32_t mc7 = s7_get16(img + 34);
    int64_t now = s7__cpu_clock_ms(s);
    blk_meta m = {GW_S7_BLK_DB, x->dl_number, mc7, now, now, "", "", ""};
    const uint8_t *f = img + x->dl_len - S7_MC7_FOOTER;
    char tmp[9];
    memcpy(tmp, f, 8);
    tmp[8] = '\0';
    copy_name(m.author, tmp);
    memcpy(tmp, f + 8, 8);
    copy_name(m.family, tmp);
    memcpy(tmp, f + 16, 8);
    copy_name(m.name, tmp);
    uint8_t *mem = gw_malloc(mc7);
    if (!mem)
        return E_NO_MEMORY;
    memcpy(mem, img + S7_MC7_HDR, mc7);
    s7_srv_area *a = s7__find_area(s, GW_S7_DB, x->dl_number);
    if (!a) {
        s7_srv_area *na = gw_realloc(s->areas, (s->nareas + 1) * sizeof(*na));
        if (!na) {
            gw_free(mem);
            return E_NO_MEMORY;
        }
        s->areas = na;
        a = &s->areas[s->nareas++];
        *a = (s7_srv_area){GW_S7_DB, x->dl_number, 0, NULL, 0};
    }
    if (!set_db_meta(s->blocks, &m)) {
        gw_free(mem);
        return E_NO_MEMORY;   /* a new area stays, empty: drop it below */
    }
    gw_free(a->mem);
    a->mem = mem;
    a->size = mc7;
    a->created_ms = now;
    return 0;
}

/* Lock held. */
static void remove_area(gw_s7_server *s, s7_srv_area *a)
{
    gw_free(a->mem);
    size_t i = (size_t)(a - s->areas);
    memmove(a, a + 1, (s->nareas - i - 1) * sizeof(*a));
    s->nareas--;
}

/* Parameter block of _INSE/_DELE: count, 0, then count x (address,
 * file system) (S7-TYPES `TReqControlBlockParams`). */
static bool pi_block_list(const uint8_t *args, size_t len, size_t *count)
{
    if (len < 2 || args[0] == 0 || len < 2u + 8u * args[0])
        return false;
    for (size_t i = 0; i < args[0]; i++) {
        uint8_t t;
        uint16_t n;
        if (s7_block_addr_decode(args + 2 + 8 * i, &t, &n) != GW_OK)
            return false;
    }
    *count = args[0];
    return true;
}

static uint16_t pi_insert(gw_s7_server *s, s7_session *c, const uint8_t *args, size_t count)
{
    s7_blk_xfer *x = c->xfer;
    uint8_t t;
    uint16_t n;
    s7_block_addr_decode(args + 2, &t, &n);
    if (count != 1 || !x || x->dl != DL_PASSIVE || t != x->dl_type || n != x->dl_number)
        return E_NOT_FOUND;   /* no passive copy of that block here */
    uint16_t code = x->dl_err;
    if (!code) {
        pthread_mutex_lock(&s->lock);
        size_t before = s->nareas;
        code = insert_db(s, x);
        s7_srv_area *a = s7__find_area(s, GW_S7_DB, x->dl_number);
        if (code && a && !a->mem && s->nareas > before)
            remove_area(s, a);
        pthread_mutex_unlock(&s->lock);
    }
    drop_download(x);
    if (!code)
        gw_log_write(s->opts.log, GW_LOG_INFO, "s7", "server: %s downloaded DB%u", c->peer, n);
    return code;
}

static uint16_t pi_delete(gw_s7_server *s, s7_session *c, const uint8_t *args, size_t count)
{
    uint16_t code = 0;
    pthread_mutex_lock(&s->lock);
    /* all or nothing: every block must exist first */
    for (size_t i = 0; i < count && !code; i++) {
        uint8_t t;
        uint16_t n;
        blk_view v;
        s7_block_addr_decode(args + 2 + 8 * i, &t, &n);
        if (!find_block(s, t, n, &v))
            code = E_NOT_FOUND;
    }
    for (size_t i = 0; i < count && !code; i++) {
        uint8_t t;
        uint16_t n;
        s7_block_addr_decode(args + 2 + 8 * i, &t, &n);
        s7_blocks *b = s->blocks;
        if (t == GW_S7_BLK_DB) {
            s7_srv_area *a = s7__find_area(s, GW_S7_DB, n);
            if (a)
                remove_area(s, a);
            drop_db_meta(b, n);
        } else {
            blk_meta *m = find_decl(b, t, n);
            if (m) {
                size_t k = (size_t)(m - b->decl);
                memmove(m, m + 1, (b->ndecl - k - 1) * sizeof(*m));
                b->ndecl--;
            }
        }
        gw_log_write(s->opts.log, GW_LOG_INFO, "s7", "server: %s deleted block 0x%02X %u",
                     c->peer, t, n);
    }
    pthread_mutex_unlock(&s->lock);
    return code;
}

size_t s7__serve_block_pi(gw_s7_server *s, s7_session *c, const s7_header *h,
                          const char *name, const uint8_t *args, size_t args_len)
{
    enum { INSE, DELE, GARB, MODU } what;
    if (!strcmp(name, "_INSE"))
        what = INSE;
    else if (!strcmp(name, "_DELE"))
        what = DELE;
    else if (!strcmp(name, "_GARB"))
        what = GARB;
    else if (!strcmp(name, "_MODU"))
        what = MODU;
    else
        return 0;
    pthread_mutex_lock(&s->lock);
    bool may = s7__session_may_write(s, c);
    bool run = s->cpu_state == GW_S7_CPU_RUN;
    pthread_mutex_unlock(&s->lock);
    if (!may)
        return err_reply(s, h, E_PROTECTED);
    uint16_t code = 0;
    size_t count = 0;
    switch (what) {
    case INSE:
    case DELE:
        if (!pi_block_list(args, args_len, &count))
            code = E_PARAMS;
        else
            code = what == INSE ? pi_insert(s, c, args, count) : pi_delete(s, c, args, count);
        break;
    case GARB:
        break;   /* compress: the simulator's memory has no gaps to close */
    case MODU:
        /* copy RAM to ROM: "the CPU must be in STOP mode" (S7-DOC) */
        code = run ? E_MODE : 0;
        break;
    }
    if (code)
        return err_reply(s, h, code);
    uint8_t *p = s7__ack_param(s);
    p[0] = S7_FN_PI;   /* as snap7's server (S7-SRV `PerformFunctionControl`) */
    return s7__ack_finish(s, h->pdu_ref, 1, 0);
}

/* ---------------------------------------------------------------- jobs */

size_t s7__serve_block_job(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    switch (h->param_len ? h->param[0] : 0) {
    case S7_FN_UPLOAD_START: return serve_up_start(s, c, h);
    case S7_FN_UPLOAD: return serve_up(s, c, h);
    case S7_FN_UPLOAD_END: return serve_up_end(s, c, h);
    case S7_FN_REQ_DOWNLOAD: return serve_dl_request(s, c, h);
    default:
        /* Download Ended is the CPU's job, never a client's */
        return err_reply(s, h, E_SEQUENCE);
    }
}
