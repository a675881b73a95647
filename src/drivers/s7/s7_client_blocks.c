/*
 * s7_client_blocks.c - the S7 client's block services (s7.h "blocks";
 * docs/s7comm.md 14): list, list of a type, block info (userdata group
 * 3), upload (0x1D-0x1F), download (0x1A, then the CPU's own 0x1B/0x1C
 * jobs answered here, then PI _INSE), delete (_DELE), copy RAM to ROM
 * (_MODU) and compress (_GARB).
 *
 * Error model: a CPU's refusal is GW_E_DEVICE_REJECTED (GW_E_NOT_FOUND for
 * "block not found") with the CPU's code in err->device_code and the
 * connection kept; a malformed answer is GW_E_PROTOCOL and, like every
 * link error, closes the connection (s7__client_fail).
 */
#include "s7_internal.h"

#include <stdio.h>
#include <string.h>

#define MAX_BLOCK (0xFFFFu + S7_MC7_OVERHEAD)   /* MC7 length is 16 bits */
#define UP_OVERHEAD 18u    /* Ack_Data header 12, param 2, data head 4 */

/* sub-block type (MC7 header byte 5) -> block type (S7-TYPES `SubBlk_*`) */
static uint8_t block_of_sub(uint8_t sub)
{
    static const uint8_t map[8] = {GW_S7_BLK_OB, 0, GW_S7_BLK_DB, GW_S7_BLK_SDB,
                                   GW_S7_BLK_FC, GW_S7_BLK_SFC, GW_S7_BLK_FB, GW_S7_BLK_SFB};
    return sub >= 0x08 && sub <= 0x0F ? map[sub - 0x08] : 0;
}

static bool valid_type(gw_s7_block_type t)
{
    return t == GW_S7_BLK_OB || (t >= GW_S7_BLK_DB && t <= GW_S7_BLK_SFB);
}

/* ms since midnight (4) and days since 1984-01-01 (2) -> epoch ms */
static int64_t get_s7time(const uint8_t *p)
{
    return (441763200LL + (int64_t)s7_get16(p + 4) * 86400LL) * 1000 + s7_get32(p);
}

/* A CPU's refusal: the code's meaning, its code in err->device_code. */
static gw_err refused(gw_s7_client *c, gw_error *err, uint16_t code, const char *what)
{
    gw_err rc = s7__client_fail(c, err, code == 0xD209 ? GW_E_NOT_FOUND : GW_E_DEVICE_REJECTED,
                                "%s refused by the CPU: %s (0x%04X)", what,
                                s7_header_error_text((uint8_t)(code >> 8), (uint8_t)code), code);
    if (err) {
        err->device_code = code;
        if (code == 0xD241)
            gw_error_hint(err, "the CPU is protected by a password: give it first "
                               "(gw_s7_set_password)");
    }
    return rc;
}

/* Sends the PDU written at tx + S7_FRAME_HDR (hl + pl + dl bytes) and
 * receives its answer. */
static gw_err exchange(gw_s7_client *c, uint8_t *tx, size_t pdu_len, uint16_t ref,
                       s7_header *h, gw_error *err)
{
    size_t n = s7_frame_dt(tx, pdu_len);
    return s7__client_exchange(c, tx, n, ref, h, err);
}

/* ---------------------------------------------------------------- userdata group 3 */

/* A group-3 request: parameter (8 bytes, or 12 for a continuation of
 * sequence `seq`) and data; *h is the answer, *up its parameter. */
static gw_err ud_exchange(gw_s7_client *c, uint8_t sub, bool next, uint8_t seq,
                          const uint8_t *data, size_t dlen, s7_header *h, s7_userdata_param *up,
                          gw_error *err)
{
    size_t cap;
    uint8_t *tx = s7__client_tx(c, &cap);
    uint8_t *p = tx + S7_FRAME_HDR;
    uint16_t ref = s7__client_next_ref(c);
    size_t plen = next ? 12 : 8;
    size_t hl = s7_header_encode(p, S7_USERDATA, ref, (uint16_t)plen, (uint16_t)dlen, 0, 0);
    /* 00 01 12, length, method 11 (12 continued), type 4 | group 3,
     * subfunction, sequence (docs/s7comm.md 11.1) */
    uint8_t par[12] = {0x00, 0x01, 0x12, next ? 0x08 : 0x04, next ? 0x12 : 0x11, 0x43, sub, seq};
    memcpy(p + hl, par, plen);
    memcpy(p + hl + plen, data, dlen);
    gw_err rc = exchange(c, tx, hl + plen + dlen, ref, h, err);
    if (rc != GW_OK)
        return rc;
    if (h->rosctr != S7_USERDATA || s7_decode_userdata_param(h->param, h->param_len, up) != GW_OK ||
        (up->type_group & 0x0F) != S7_UD_BLOCK || up->subfunction != sub)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "malformed answer to a block function");
    return GW_OK;
}

gw_err gw_s7_list_blocks(gw_s7_client *c, gw_s7_block_counts *out, gw_error *err)
{
    memset(out, 0, sizeof(*out));
    static const uint8_t data[4] = {0x0A, 0x00, 0x00, 0x00};
    s7_header h;
    s7_userdata_param up;
    gw_err rc = ud_exchange(c, 0x01, false, 0, data, sizeof(data), &h, &up, err);
    if (rc != GW_OK)
        return rc;
    if (up.err_code)
        return refused(c, err, up.err_code, "list blocks");
    if (h.data_len < 4 || h.data[0] != S7_RC_OK || s7_get16(h.data + 2) > h.data_len - 4u)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "malformed block list");
    size_t n = s7_get16(h.data + 2) / 4;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *it = h.data + 4 + 4 * i;
        uint16_t count = s7_get16(it + 2);
        switch (it[1]) {
        case GW_S7_BLK_OB: out->ob = count; break;
        case GW_S7_BLK_FB: out->fb = count; break;
        case GW_S7_BLK_FC: out->fc = count; break;
        case GW_S7_BLK_SFB: out->sfb = count; break;
        case GW_S7_BLK_SFC: out->sfc = count; break;
        case GW_S7_BLK_DB: out->db = count; break;
        case GW_S7_BLK_SDB: out->sdb = count; break;
        default: break;
        }
    }
    return GW_OK;
}

gw_err gw_s7_list_blocks_of_type(gw_s7_client *c, gw_s7_block_type type, uint16_t *numbers,
                                 size_t cap, size_t *n, gw_error *err)
{
    *n = 0;
    if (!valid_type(type))
        return gw_error_set(err, GW_E_INVAL, "block type 0x%02X is not one of OB, DB, SDB, "
                            "FC, SFC, FB, SFB", (unsigned)type);
    uint8_t first[6] = {S7_RC_OK, S7_DTS_OCTET, 0x00, 0x02, '0', (uint8_t)type};
    static const uint8_t cont[4] = {0x0A, 0x00, 0x00, 0x00};
    bool next = false, full = false;
    uint8_t seq = 0;
    /* at most 0x8000 numbers in all, each part at least one more */
    for (int part = 0; part < 0x8000; part++) {
        s7_header h;
        s7_userdata_param up;
        gw_err rc = next ? ud_exchange(c, 0x02, true, seq, cont, sizeof(cont), &h, &up, err)
                         : ud_exchange(c, 0x02, false, 0, first, sizeof(first), &h, &up, err);
        if (rc != GW_OK)
            return rc;
        if (up.err_code == 0xD20E && !next)
            return GW_OK;   /* "no (further) block available": none of the type */
        if (up.err_code)
            return refused(c, err, up.err_code, "list blocks of a type");
        if (h.data_len < 4 || h.data[0] != S7_RC_OK || s7_get16(h.data + 2) > h.data_len - 4u)
            return s7__client_fail(c, err, GW_E_PROTOCOL, "malformed list of blocks");
        size_t k = s7_get16(h.data + 2) / 4;
        for (size_t i = 0; i < k; i++) {
            if (*n < cap)
                numbers[(*n)++] = s7_get16(h.data + 4 + 4 * i);
            else
                full = true;
        }
        if (up.last || k == 0)
            break;
        next = true;
        seq = up.seq;
    }
    if (full)
        return gw_error_set(err, GW_E_RANGE, "the CPU has more blocks of type 0x%02X than %zu",
                            (unsigned)type, cap);
    return GW_OK;
}

static void copy8(char dst[9], const uint8_t *src)
{
    memcpy(dst, src, 8);
    dst[8] = '\0';
}

gw_err gw_s7_block_info_read(gw_s7_client *c, gw_s7_block_type type, uint16_t number,
                             gw_s7_block_info *out, gw_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!valid_type(type))
        return gw_error_set(err, GW_E_INVAL, "block type 0x%02X is not one of OB, DB, SDB, "
                            "FC, SFC, FB, SFB", (unsigned)type);
    /* FF 09 00 08, '0' type ddddd 'A' (S7-CLI `opAgBlockInfo`) */
    uint8_t data[12] = {S7_RC_OK, S7_DTS_OCTET, 0x00, 0x08};
    s7_block_addr_encode(data + 4, (uint8_t)type, number);
    data[11] = 'A';
    s7_header h;
    s7_userdata_param up;
    gw_err rc = ud_exchange(c, 0x03, false, 0, data, sizeof(data), &h, &up, err);
    if (rc != GW_OK)
        return rc;
    if (up.err_code)
        return refused(c, err, up.err_code, "block info");
    /* data: FF 09 00 4E, '0' type, 74, 2 bytes, MC7 header (36), footer
     * (36) (docs/s7comm.md 14.4) */
    if (h.data_len < 82 || h.data[0] != S7_RC_OK || s7_get16(h.data + 2) < 78)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "malformed block info");
    const uint8_t *hd = h.data + 10, *ft = h.data + 46;
    out->type = block_of_sub(hd[5]) ? (gw_s7_block_type)block_of_sub(hd[5]) : type;
    out->number = s7_get16(hd + 6);
    out->flags = hd[3];
    out->lang = hd[4];
    out->load_size = s7_get32(hd + 8);
    out->code_ms = get_s7time(hd + 16);
    out->interface_ms = get_s7time(hd + 22);
    out->sbb_len = s7_get16(hd + 28);
    out->local_data = s7_get16(hd + 32);
    out->mc7_size = s7_get16(hd + 34);
    copy8(out->author, ft);
    copy8(out->family, ft + 8);
    copy8(out->name, ft + 16);
    out->version = ft[24];
    out->checksum = s7_get16(ft + 26);
    return GW_OK;
}

/* ---------------------------------------------------------------- upload */

/* A job with an 8-byte parameter: fn, status, 2 bytes, upload id. */
static gw_err upload_job(gw_s7_client *c, uint8_t fn, const uint8_t id[4], s7_header *h,
                         gw_error *err)
{
    size_t cap;
    uint8_t *tx = s7__client_tx(c, &cap);
    uint8_t *p = tx + S7_FRAME_HDR;
    uint16_t ref = s7__client_next_ref(c);
    size_t hl = s7_header_encode(p, S7_JOB, ref, 8, 0, 0, 0);
    uint8_t par[8] = {fn, 0x00, 0x00, 0x00, id[0], id[1], id[2], id[3]};
    memcpy(p + hl, par, sizeof(par));
    return exchange(c, tx, hl + 8, ref, h, err);
}

/* Reads the pieces into a new buffer; GW_OK with *block, *len. */
static gw_err upload_pieces(gw_s7_client *c, const uint8_t id[4], uint8_t **block, size_t *len,
                            gw_error *err)
{
    uint8_t *buf = gw_malloc(MAX_BLOCK);
    if (!buf)
        return gw_error_set(err, GW_E_NOMEM, "out of memory");
    size_t have = 0;
    gw_err rc = GW_OK;
    for (;;) {
        s7_header h;
        if ((rc = upload_job(c, S7_FN_UPLOAD, id, &h, err)) != GW_OK)
            break;
        uint16_t code = (uint16_t)(h.err_class << 8 | h.err_code);
        if (code) {
            rc = refused(c, err, code, "upload");
            break;
        }
        if (h.rosctr != S7_ACK_DATA || h.param_len < 2 || h.param[0] != S7_FN_UPLOAD ||
            h.data_len < 4 || s7_get16(h.data) != h.data_len - 4u ||
            h.data_len - 4u > MAX_BLOCK - have) {
            rc = s7__client_fail(c, err, GW_E_PROTOCOL, "malformed upload answer");
            break;
        }
        memcpy(buf + have, h.data + 4, h.data_len - 4u);
        have += h.data_len - 4u;
        if (!(h.param[1] & 0x01))
            break;   /* no "more data follows" */
        if (h.data_len == 4) {
            rc = s7__client_fail(c, err, GW_E_PROTOCOL, "upload piece without data");
            break;
        }
    }
    if (rc == GW_OK && (have < S7_MC7_OVERHEAD || s7_get32(buf + 8) != have))
        rc = s7__client_fail(c, err, GW_E_PROTOCOL, "uploaded %zu bytes, but the block's "
                             "header says %u", have, have >= 12 ? s7_get32(buf + 8) : 0);
    if (rc != GW_OK) {
        gw_free(buf);
        return rc;
    }
    *block = buf;
    *len = have;
    return GW_OK;
}

gw_err gw_s7_upload(gw_s7_client *c, gw_s7_block_type type, uint16_t number, uint8_t **block,
                    size_t *len, gw_error *err)
{
    *block = NULL;
    *len = 0;
    if (!valid_type(type))
        return gw_error_set(err, GW_E_INVAL, "block type 0x%02X is not one of OB, DB, SDB, "
                            "FC, SFC, FB, SFB", (unsigned)type);
    /* 1D, status, 2 bytes, upload id 0, "_0A00001A" (S7-CLI `opUpload`) */
    size_t cap;
    uint8_t *tx = s7__client_tx(c, &cap);
    uint8_t *p = tx + S7_FRAME_HDR;
    uint16_t ref = s7__client_next_ref(c);
    size_t hl = s7_header_encode(p, S7_JOB, ref, 18, 0, 0, 0);
    uint8_t par[18] = {S7_FN_UPLOAD_START, 0, 0, 0, 0, 0, 0, 0, 9, '_'};
    s7_block_addr_encode(par + 10, (uint8_t)type, number);
    par[17] = 'A';
    memcpy(p + hl, par, sizeof(par));
    s7_header h;
    gw_err rc = exchange(c, tx, hl + sizeof(par), ref, &h, err);
    if (rc != GW_OK)
        return rc;
    uint16_t code = (uint16_t)(h.err_class << 8 | h.err_code);
    if (code)
        return refused(c, err, code, "upload");
    if (h.rosctr != S7_ACK_DATA || h.param_len < 8 || h.param[0] != S7_FN_UPLOAD_START)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "malformed start upload answer");
    uint8_t id[4];
    memcpy(id, h.param + 4, 4);
    rc = upload_pieces(c, id, block, len, err);
    if (rc != GW_OK && rc != GW_E_DEVICE_REJECTED && rc != GW_E_NOT_FOUND && rc != GW_E_NOMEM)
        return rc;   /* the link is gone */
    /* end the upload, also to abort one that failed */
    gw_err end = upload_job(c, S7_FN_UPLOAD_END, id, &h, rc == GW_OK ? err : NULL);
    if (rc == GW_OK && end == GW_OK && (h.err_class || h.err_code))
        end = refused(c, err, (uint16_t)(h.err_class << 8 | h.err_code), "end of upload");
    if (rc == GW_OK && end != GW_OK) {
        gw_free(*block);
        *block = NULL;
        *len = 0;
        rc = end;
    }
    return rc;
}

/* ---------------------------------------------------------------- PI services */

/* PI service job: 28, 7 bytes (... FD), parameter block length and
 * bytes, name length and name (S7-TYPES `TReqControlBlockParams`,
 * `TReqFunCompress`, `TReqFunCopyRamToRom`). */
static gw_err pi_service(gw_s7_client *c, const uint8_t *args, size_t alen, const char *name,
                         const char *what, gw_error *err)
{
    size_t cap;
    uint8_t *tx = s7__client_tx(c, &cap);
    uint8_t *p = tx + S7_FRAME_HDR;
    uint16_t ref = s7__client_next_ref(c);
    size_t nlen = strlen(name);
    size_t plen = 10 + alen + 1 + nlen;
    size_t hl = s7_header_encode(p, S7_JOB, ref, (uint16_t)plen, 0, 0, 0);
    uint8_t *q = p + hl;
    static const uint8_t head[8] = {S7_FN_PI, 0, 0, 0, 0, 0, 0, 0xFD};
    memcpy(q, head, 8);
    s7_put16(q + 8, (uint16_t)alen);
    if (alen)
        memcpy(q + 10, args, alen);
    q[10 + alen] = (uint8_t)nlen;
    memcpy(q + 11 + alen, name, nlen);
    s7_header h;
    gw_err rc = exchange(c, tx, hl + plen, ref, &h, err);
    if (rc != GW_OK)
        return rc;
    uint16_t code = (uint16_t)(h.err_class << 8 | h.err_code);
    if (code)
        return refused(c, err, code, what);
    if (h.rosctr != S7_ACK_DATA || h.param_len < 1 || h.param[0] != S7_FN_PI)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "malformed answer to %s", what);
    return GW_OK;
}

/* _INSE / _DELE of one block: count 1, 0, address, file system */
static gw_err pi_block(gw_s7_client *c, uint8_t type, uint16_t number, uint8_t fs,
                       const char *name, const char *what, gw_error *err)
{
    uint8_t args[10] = {1, 0};
    s7_block_addr_encode(args + 2, type, number);
    args[9] = fs;
    return pi_service(c, args, sizeof(args), name, what, err);
}

gw_err gw_s7_block_delete(gw_s7_client *c, gw_s7_block_type type, uint16_t number,
                          gw_error *err)
{
    if (!valid_type(type))
        return gw_error_set(err, GW_E_INVAL, "block type 0x%02X is not one of OB, DB, SDB, "
                            "FC, SFC, FB, SFB", (unsigned)type);
    /* 'B': active and passive copies (snap7 `SFun_Delete`) */
    return pi_block(c, (uint8_t)type, number, 'B', "_DELE", "delete", err);
}

gw_err gw_s7_copy_ram_to_rom(gw_s7_client *c, gw_error *err)
{
    static const uint8_t args[2] = {'E', 'P'};
    return pi_service(c, args, sizeof(args), "_MODU", "copy RAM to ROM", err);
}

gw_err gw_s7_compress(gw_s7_client *c, gw_error *err)
{
    return pi_service(c, NULL, 0, "_GARB", "compress", err);
}

/* ---------------------------------------------------------------- download */

/* Answers the CPU's Download Block jobs with the bytes, then its
 * Download Ended job; returns the error code that job carried. */
static gw_err download_pieces(gw_s7_client *c, const uint8_t *block, size_t len,
                              uint16_t *end_code, gw_error *err)
{
    size_t off = 0;
    size_t slice_max = s7__client_pdu_len(c) - UP_OVERHEAD;
    for (size_t jobs = 0; jobs <= len + 1; jobs++) {
        s7_header h;
        gw_err rc = s7__client_recv(c, &h, err);
        if (rc != GW_OK)
            return rc;
        if (h.rosctr != S7_JOB || h.param_len < 1 ||
            (h.param[0] != S7_FN_DOWNLOAD && h.param[0] != S7_FN_DOWNLOAD_END))
            return s7__client_fail(c, err, GW_E_PROTOCOL, "expected the CPU's download job, "
                                   "got type %u", h.rosctr);
        size_t cap;
        uint8_t *tx = s7__client_tx(c, &cap);
        uint8_t *p = tx + S7_FRAME_HDR;
        if (h.param[0] == S7_FN_DOWNLOAD_END) {
            *end_code = h.param_len >= 4 ? s7_get16(h.param + 2) : 0;
            size_t hl = s7_header_encode(p, S7_ACK_DATA, h.pdu_ref, 1, 0, 0, 0);
            p[hl] = S7_FN_DOWNLOAD_END;
            return s7__client_send(c, tx, s7_frame_dt(tx, hl + 1), err);
        }
        size_t slice = len - off < slice_max ? len - off : slice_max;
        /* 1B, status 0x01 while more follows; length, 00 FB, bytes */
        size_t hl = s7_header_encode(p, S7_ACK_DATA, h.pdu_ref, 2, (uint16_t)(4 + slice), 0, 0);
        p[hl] = S7_FN_DOWNLOAD;
        p[hl + 1] = off + slice < len ? 0x01 : 0x00;
        s7_put16(p + hl + 2, (uint16_t)slice);
        p[hl + 4] = 0x00;
        p[hl + 5] = 0xFB;
        memcpy(p + hl + 6, block + off, slice);
        off += slice;
        if ((rc = s7__client_send(c, tx, s7_frame_dt(tx, hl + 6 + slice), err)) != GW_OK)
            return rc;
    }
    return s7__client_fail(c, err, GW_E_PROTOCOL, "the CPU asked for more than the block");
}

gw_err gw_s7_download(gw_s7_client *c, const uint8_t *block, size_t len, gw_error *err)
{
    /* the header names the block (docs/s7comm.md 14.2); its lengths must
     * agree with the bytes, as snap7 checks (S7-CLI `CheckBlock`) */
    if (len < S7_MC7_HDR + S7_MC7_FOOTER || len > 999999u || block[0] != 'p' ||
        block[1] != 'p' || s7_get32(block + 8) != len || !block_of_sub(block[5]) ||
        S7_MC7_HDR + (size_t)s7_get16(block + 34) + S7_MC7_FOOTER > len)
        return gw_error_set(err, GW_E_INVAL, "%zu bytes are not a block as an upload "
                            "delivers it (MC7 header and lengths)", len);
    uint8_t type = block_of_sub(block[5]);
    uint16_t number = s7_get16(block + 6);
    unsigned mc7 = s7_get16(block + 34);
    /* 1A, status, 01 00, 4 bytes, "_0A00010P", 13, '1', load (6), MC7 (6)
     * (S7-CLI `opDownload`, WS-S7) */
    size_t cap;
    uint8_t *tx = s7__client_tx(c, &cap);
    uint8_t *p = tx + S7_FRAME_HDR;
    uint16_t ref = s7__client_next_ref(c);
    size_t hl = s7_header_encode(p, S7_JOB, ref, 32, 0, 0, 0);
    uint8_t par[33] = {S7_FN_REQ_DOWNLOAD, 0x00, 0x01, 0x00, 0, 0, 0, 0, 9, '_'};
    s7_block_addr_encode(par + 10, type, number);
    par[17] = 'P';
    par[18] = 0x0D;
    par[19] = '1';
    snprintf((char *)par + 20, 13, "%06u%06u", (unsigned)len, mc7);
    memcpy(p + hl, par, 32);
    s7_header h;
    gw_err rc = exchange(c, tx, hl + 32, ref, &h, err);
    if (rc != GW_OK)
        return rc;
    uint16_t code = (uint16_t)(h.err_class << 8 | h.err_code);
    if (code)
        return refused(c, err, code, "download");
    if (h.rosctr != S7_ACK_DATA || h.param_len < 1 || h.param[0] != S7_FN_REQ_DOWNLOAD)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "malformed request download answer");
    uint16_t end_code = 0;
    if ((rc = download_pieces(c, block, len, &end_code, err)) != GW_OK)
        return rc;
    if (end_code)
        return refused(c, err, end_code, "download");
    /* the CPU keeps the block passive until it is inserted ('P') */
    return pi_block(c, type, number, 'P', "_INSE", "insert of the downloaded block", err);
}
