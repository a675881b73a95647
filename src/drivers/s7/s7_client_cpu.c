/*
 * s7_client_cpu.c - the S7 client's CPU services (s7.h): stop, hot and
 * cold start, the session password, the protection level and the clock.
 *
 * Requests are built byte for byte as docs/s7comm.md 16 and 17 give them
 * (the frames snap7's client sends, which CPUs accept). A CPU's refusal is
 * GW_E_DEVICE_REJECTED, or GW_E_ACCESS for the protection codes, with the
 * CPU's code in err->device_code; a malformed answer is GW_E_PROTOCOL and
 * a broken link closes the connection, as every client call does.
 */
#include "s7_internal.h"

#include <string.h>

#define ERR_PROTECTION 0xD241   /* not permitted in the current protection level */
#define ERR_PWD_WRONG 0xD602    /* incorrect password entered */

#define CTRL_ALREADY_STOP 0x07  /* docs/s7comm.md 16.2 */
#define CTRL_ALREADY_RUN 0x03

#define UD_PARAM_REQ 8u         /* 00 01 12 04 11 4g ss 00 (docs 11.1) */
#define PWD_LEN 8u
#define CLOCK_LEN 10u           /* reserved, century, DATE_AND_TIME (docs 17) */

static const char P_PROGRAM[] = "P_PROGRAM";

/* "plc HOST:PORT: <what> refused by the CPU ..." with the code and, for the
 * protection codes, GW_E_ACCESS and a hint. */
static gw_err refused(gw_s7_client *c, gw_error *err, const char *what, uint16_t code,
                      const char *why)
{
    bool access = code == ERR_PROTECTION || code == ERR_PWD_WRONG;
    gw_err rc = s7__client_fail(c, err, access ? GW_E_ACCESS : GW_E_DEVICE_REJECTED,
                                "%s refused by the CPU: %s (error 0x%04X)", what, why, code);
    if (err) {
        err->device_code = code;
        if (code == ERR_PROTECTION)
            gw_error_hint(err, "the CPU is protected by a password: give it for this "
                          "connection first (session password)");
        else if (code == ERR_PWD_WRONG)
            gw_error_hint(err, "check the password configured for this PLC");
    }
    return rc;
}

/* The CPU's words for the userdata codes of groups 5 and 7
 * (docs/s7comm.md 16.3, 17; WS-S7 `param_errcode_names`). */
static const char *ud_error_text(uint16_t code)
{
    switch (code) {
    case 0x8104: return "service not implemented on the module";
    case ERR_PROTECTION: return "not permitted in the current protection level";
    case 0xD601: return "syntax error in function parameter";
    case ERR_PWD_WRONG: return "incorrect password";
    case 0xD604: return "no password to clear";
    case 0xD605: return "the CPU has no password";
    case 0xDC01: return "date and/or time invalid";
    default: return "error";
    }
}

/* ---------------------------------------------------------------- run/stop */

/*
 * Sends a stop or PI job with parameter `param` and reads its answer: an
 * Ack_Data (or bare Ack) echoing the function; a header error is a
 * refusal, told apart by the second parameter byte (docs/s7comm.md 16.2).
 */
static gw_err control(gw_s7_client *c, const uint8_t *param, size_t plen, const char *what,
                      gw_error *err)
{
    size_t cap;
    uint8_t *tx = s7__client_tx(c, &cap);
    uint16_t ref = s7__client_next_ref(c);
    size_t hl = s7_header_encode(tx + S7_FRAME_HDR, S7_JOB, ref, (uint16_t)plen, 0, 0, 0);
    memcpy(tx + S7_FRAME_HDR + hl, param, plen);
    size_t n = s7_frame_dt(tx, hl + plen);
    s7_header h;
    gw_err rc = s7__client_exchange(c, tx, n, ref, &h, err);
    if (rc != GW_OK)
        return rc;
    if (h.rosctr != S7_ACK_DATA && h.rosctr != S7_ACK)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "%s: answer of PDU type %u", what,
                               h.rosctr);
    uint16_t code = (uint16_t)(h.err_class << 8 | h.err_code);
    if (code == 0)
        return GW_OK;
    const char *why = s7_header_error_text(h.err_class, h.err_code);
    if (h.param_len >= 2 && h.param[0] == param[0]) {
        if (param[0] == S7_FN_STOP && h.param[1] == CTRL_ALREADY_STOP)
            why = "the CPU is already in STOP";
        else if (param[0] == S7_FN_PI && h.param[1] == CTRL_ALREADY_RUN)
            why = "the CPU is already in RUN";
    }
    return refused(c, err, what, code, why);
}

gw_err gw_s7_plc_stop(gw_s7_client *c, gw_error *err)
{
    /* 29, 5 zero bytes, name length, "P_PROGRAM" (docs/s7comm.md 16.1) */
    uint8_t p[16] = {S7_FN_STOP, 0, 0, 0, 0, 0, 9};
    memcpy(p + 7, P_PROGRAM, 9);
    return control(c, p, sizeof(p), "PLC stop", err);
}

/* 28, 7 bytes (00 x 6, FD), argument length, argument, name length,
 * "P_PROGRAM" (docs/s7comm.md 16.1) */
static gw_err start(gw_s7_client *c, bool cold, gw_error *err)
{
    uint8_t p[22] = {S7_FN_PI, 0, 0, 0, 0, 0, 0, 0xFD};
    size_t n = 8;
    p[n++] = 0x00;
    p[n++] = cold ? 2 : 0;
    if (cold) {
        p[n++] = 'C';
        p[n++] = ' ';
    }
    p[n++] = 9;
    memcpy(p + n, P_PROGRAM, 9);
    n += 9;
    return control(c, p, n, cold ? "cold start" : "hot start", err);
}

gw_err gw_s7_plc_hot_start(gw_s7_client *c, gw_error *err)
{
    return start(c, false, err);
}

gw_err gw_s7_plc_cold_start(gw_s7_client *c, gw_error *err)
{
    return start(c, true, err);
}

/* ---------------------------------------------------------------- userdata */

/*
 * One userdata request of group `group`, subfunction `sub` with data
 * (data, dlen), and its answer: *d and *dl are the answer's data. A
 * non-zero error code in the answer's parameter is a refusal.
 */
static gw_err ud_exchange(gw_s7_client *c, uint8_t group, uint8_t sub, const uint8_t *data,
                          size_t dlen, const char *what, const uint8_t **d, size_t *dl,
                          gw_error *err)
{
    size_t cap;
    uint8_t *tx = s7__client_tx(c, &cap);
    uint16_t ref = s7__client_next_ref(c);
    size_t hl = s7_header_encode(tx + S7_FRAME_HDR, S7_USERDATA, ref, UD_PARAM_REQ,
                                 (uint16_t)dlen, 0, 0);
    uint8_t *q = tx + S7_FRAME_HDR + hl;
    const uint8_t param[UD_PARAM_REQ] = {0x00, 0x01, 0x12, 0x04, 0x11,
                                         (uint8_t)(0x40 | group), sub, 0x00};
    memcpy(q, param, sizeof(param));
    memcpy(q + UD_PARAM_REQ, data, dlen);
    size_t n = s7_frame_dt(tx, hl + UD_PARAM_REQ + dlen);
    s7_header h;
    gw_err rc = s7__client_exchange(c, tx, n, ref, &h, err);
    if (rc != GW_OK)
        return rc;
    s7_userdata_param up;
    if (h.rosctr != S7_USERDATA || s7_decode_userdata_param(h.param, h.param_len, &up) != GW_OK ||
        (up.type_group & 0x0F) != group || up.subfunction != sub)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "%s: malformed answer", what);
    if (up.err_code != 0)
        return refused(c, err, what, up.err_code, ud_error_text(up.err_code));
    *d = h.data;
    *dl = h.data_len;
    return GW_OK;
}

/* ---------------------------------------------------------------- password */

gw_err gw_s7_set_password(gw_s7_client *c, const char *password, gw_error *err)
{
    size_t len = password ? strlen(password) : 0;
    if (len < 1 || len > PWD_LEN)
        return gw_error_set(err, GW_E_INVAL, "a session password has 1 to 8 characters");
    /* padded with spaces, then encoded as the CPU expects (docs/s7comm.md
     * 16.3; S7-CLI opSetPassword) */
    uint8_t plain[PWD_LEN];
    memset(plain, ' ', sizeof(plain));
    memcpy(plain, password, len);
    uint8_t data[4 + PWD_LEN] = {S7_RC_OK, S7_DTS_OCTET, 0x00, PWD_LEN};
    uint8_t *enc = data + 4;
    for (size_t i = 0; i < PWD_LEN; i++)
        enc[i] = (uint8_t)(plain[i] ^ 0x55 ^ (i >= 2 ? enc[i - 2] : 0));
    memset(plain, 0, sizeof(plain));
    const uint8_t *d;
    size_t dl;
    gw_err rc = ud_exchange(c, S7_UD_SECURITY, 0x01, data, sizeof(data), "session password", &d,
                            &dl, err);
    memset(data, 0, sizeof(data));
    return rc;
}

gw_err gw_s7_clear_password(gw_s7_client *c, gw_error *err)
{
    /* data 0A 00 00 00, as snap7's client sends it (S7-CLI opClearPassword) */
    const uint8_t data[4] = {S7_RC_NO_OBJECT, 0x00, 0x00, 0x00};
    const uint8_t *d;
    size_t dl;
    return ud_exchange(c, S7_UD_SECURITY, 0x02, data, sizeof(data), "clear session password",
                       &d, &dl, err);
}

gw_err gw_s7_protection_read(gw_s7_client *c, gw_s7_protection *p, gw_error *err)
{
    memset(p, 0, sizeof(*p));
    uint8_t buf[256];
    size_t len;
    uint16_t rl, count;
    gw_err rc = gw_s7_read_szl(c, S7_SZL_PROTECTION, 0x0004, buf, sizeof(buf), &len, &rl, &count,
                               err);
    if (rc != GW_OK)
        return rc;
    /* record: index, key switch level, password level, valid level, mode
     * selector, startup switch (docs/s7comm.md 11.7) */
    if (rl < 12 || len < 12)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "SZL 0x0232 index 4: record of %u bytes",
                               rl);
    p->sch_schal = (uint16_t)(buf[2] << 8 | buf[3]);
    p->sch_par = (uint16_t)(buf[4] << 8 | buf[5]);
    p->sch_rel = (uint16_t)(buf[6] << 8 | buf[7]);
    p->bart_sch = (uint16_t)(buf[8] << 8 | buf[9]);
    p->anl_sch = (uint16_t)(buf[10] << 8 | buf[11]);
    return GW_OK;
}

/* ---------------------------------------------------------------- clock */

gw_err gw_s7_clock_read(gw_s7_client *c, int64_t *epoch_ms, gw_error *err)
{
    *epoch_ms = 0;
    /* data 0A 00 00 00 (S7-CLI opGetDateTime) */
    const uint8_t data[4] = {S7_RC_NO_OBJECT, 0x00, 0x00, 0x00};
    const uint8_t *d;
    size_t dl;
    gw_err rc = ud_exchange(c, S7_UD_TIME, 0x01, data, sizeof(data), "clock read", &d, &dl, err);
    if (rc != GW_OK)
        return rc;
    /* FF 09 00 0A, reserved, century, DATE_AND_TIME (docs/s7comm.md 17) */
    if (dl < 4 + CLOCK_LEN || d[0] != S7_RC_OK || (size_t)(d[2] << 8 | d[3]) < CLOCK_LEN)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "clock read: malformed answer data");
    if (s7_dt_decode(d + 6, epoch_ms) != GW_OK)
        return s7__client_fail(c, err, GW_E_PROTOCOL, "clock read: invalid date and time");
    return GW_OK;
}

gw_err gw_s7_clock_set(gw_s7_client *c, int64_t epoch_ms, gw_error *err)
{
    if (epoch_ms < S7_DT_MIN_MS || epoch_ms > S7_DT_MAX_MS)
        return gw_error_set(err, GW_E_RANGE, "the S7 clock holds 1990-01-01 to 2089-12-31");
    /* FF 09 00 0A, reserved 00, century 0x19 (snap7 "must be 19"; the
     * CPU reads the year from the two-digit field), DATE_AND_TIME
     * (docs/s7comm.md 17; S7-CLI opSetDateTime) */
    uint8_t data[4 + CLOCK_LEN] = {S7_RC_OK, S7_DTS_OCTET, 0x00, CLOCK_LEN, 0x00, 0x19};
    s7_dt_encode(data + 6, epoch_ms);
    const uint8_t *d;
    size_t dl;
    return ud_exchange(c, S7_UD_TIME, 0x02, data, sizeof(data), "clock set", &d, &dl, err);
}
