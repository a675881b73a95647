/*
 * s7_cpu.c - the S7 server's CPU control: PLC stop (0x29), the PI
 * services that start the CPU (0x28), the session password (userdata
 * group 5) and the clock (group 7). docs/s7comm.md 16 and 17 give the
 * layouts and the answers, with their sources.
 *
 * Invariants: every job is parsed against its exact length before a byte
 * of it is used, and every refusal is an answer the client can read (an
 * Ack_Data with a header error, or a userdata answer with an error code);
 * nothing here closes the connection. The mode, the password and the
 * clock offset change under s->lock; the on_cpu_state hook runs after the
 * lock is released. A stopped CPU still serves everything else (reads and
 * writes of DB, M, I, Q, SZL, the clock, the password): only the program
 * does not run, which the simulator behind the hook takes care of.
 */
#include "s7_internal.h"

#include <string.h>

/* Header and userdata error codes (docs/s7comm.md 9, 16, 17; WS-S7
 * `param_errcode_names`). */
#define ERR_NOT_SERVED 0x8104      /* service not implemented on the module */
#define ERR_CANNOT 0x8404          /* the function cannot be performed */
#define ERR_PI_SYNTAX 0xD202       /* syntax error in function parameters */
#define ERR_PROTECTION 0xD241      /* not permitted in the current protection level */
#define ERR_PWD_SYNTAX 0xD601      /* syntax error in function parameter */
#define ERR_PWD_WRONG 0xD602       /* incorrect password entered */
#define ERR_PWD_NONE_CLEAR 0xD604  /* snap7 Code7NoPasswordToClear */
#define ERR_PWD_NONE_SET 0xD605    /* password does not exist */
#define ERR_DT_INVALID 0xDC01      /* date and/or time invalid */

/* The second parameter byte of a refused stop or start, which snap7 reads
 * as "already stopped" / "already running" (S7-CLI opPlcStop,
 * opPlcHotStart; docs/s7comm.md 16.2). */
#define CTRL_ALREADY_STOP 0x07
#define CTRL_ALREADY_RUN 0x03

/* PI and stop parameter layouts (docs/s7comm.md 16.1; WS-S7
 * `s7comm_decode_pi_service`, `s7comm_decode_plc_controls_param_hex29`) */
#define PI_FIXED 8u          /* 0x28 + 7 unknown bytes */
#define PI_MIN 11u           /* + block length (2) + name length (1) */
#define STOP_FIXED 6u        /* 0x29 + 5 unknown bytes */
#define PI_NAME_MAX 32u

/* Userdata subfunctions (S7-TYPES SFun_EnterPwd, SFun_CancelPwd,
 * SFun_ReadClock, SFun_SetClock) */
#define SUB_PWD_ENTER 0x01
#define SUB_PWD_CANCEL 0x02
#define SUB_TIME_READ 0x01
#define SUB_TIME_SET 0x02

#define PWD_LEN 8u           /* the encoded password, S7-TYPES TReqDataSecurity */
#define CLOCK_LEN 10u        /* reserved, century, DATE_AND_TIME (docs 17) */

static const char P_PROGRAM[] = "P_PROGRAM";

/* ---------------------------------------------------------------- answers */

/*
 * The answer to a stop or PI job: an Ack_Data echoing the function; a
 * refusal carries the header error and a second parameter byte `detail`
 * (docs/s7comm.md 16.2).
 */
static size_t ctrl_reply(gw_s7_server *s, uint16_t ref, uint8_t fn, uint16_t err,
                         uint8_t detail)
{
    uint8_t *p = s7__ack_param(s);
    p[0] = fn;
    if (err == 0)
        return s7__ack_finish(s, ref, 1, 0);
    p[1] = detail;
    size_t n = s7__ack_finish(s, ref, 2, 0);
    /* the header's error class and code (docs/s7comm.md 4, offsets 10-11) */
    s->tx[S7_FRAME_HDR + 10] = (uint8_t)(err >> 8);
    s->tx[S7_FRAME_HDR + 11] = (uint8_t)err;
    return n;
}

/* A userdata answer without error and the data `0A 00 00 00` that snap7's
 * server sends for a password or clock set (S7-SRV PerformGroupSecurity,
 * PerformSetClock). */
static size_t ud_ok_empty(gw_s7_server *s, uint16_t ref, const s7_userdata_param *up)
{
    uint8_t *d = s7__ud_data(s);
    d[0] = S7_RC_NO_OBJECT;
    d[1] = S7_DTS_NULL;
    d[2] = 0;
    d[3] = 0;
    return s7__ud_finish(s, ref, up, up->seq, 0, false, 0, 4);
}

/* ---------------------------------------------------------------- run/stop */

static const char *state_name(gw_s7_cpu_state st)
{
    return st == GW_S7_CPU_RUN ? "RUN" : st == GW_S7_CPU_STOP ? "STOP" : "unknown";
}

/* Stops or starts the CPU for a session and answers. */
static size_t change_mode(gw_s7_server *s, s7_session *c, const s7_header *h, uint8_t fn,
                          gw_s7_cpu_state to, bool cold)
{
    uint16_t err = 0;
    uint8_t detail = 0;
    pthread_mutex_lock(&s->lock);
    gw_s7_cpu_state from = s->cpu_state;
    if (!s7__session_may_write(s, c)) {
        err = ERR_PROTECTION;
    } else if (from == to) {
        err = ERR_CANNOT;
        detail = to == GW_S7_CPU_STOP ? CTRL_ALREADY_STOP : CTRL_ALREADY_RUN;
    } else {
        s->cpu_state = to;
        s7__diag_mode_change(s, from, to, cold, s7__cpu_clock_ms(s));
    }
    pthread_mutex_unlock(&s->lock);
    size_t out = ctrl_reply(s, h->pdu_ref, fn, err, detail);
    if (err == ERR_PROTECTION) {
        gw_log_write(s->opts.log, GW_LOG_INFO, "s7", "server: %s: %s refused, the session "
                     "has not given the password", c->peer, fn == S7_FN_STOP ? "stop" : "start");
    } else if (err == 0) {
        gw_log_write(s->opts.log, GW_LOG_INFO, "s7", "server: %s: CPU %s -> %s%s", c->peer,
                     state_name(from), state_name(to), cold ? " (cold start)" : "");
        if (s->opts.on_cpu_state)
            s->opts.on_cpu_state(s->opts.user, to, cold);
    }
    return out;
}

/* Copies a service name of `len` bytes at p into name; false if it is
 * empty, too long or holds other bytes than printable ASCII. */
static bool take_name(const uint8_t *p, size_t len, char name[PI_NAME_MAX + 1])
{
    if (len == 0 || len > PI_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < 0x20 || p[i] > 0x7E)
            return false;
        name[i] = (char)p[i];
    }
    name[len] = '\0';
    return true;
}

size_t s7__serve_pi(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    /* 28, 7 bytes, block length (2), block, name length (1), name; no data
     * (docs/s7comm.md 16.1) */
    const uint8_t *p = h->param;
    size_t n = h->param_len;
    if (n < PI_MIN || h->data_len != 0)
        return ctrl_reply(s, h->pdu_ref, S7_FN_PI, ERR_CANNOT, 0);
    size_t blen = s7_get16(p + PI_FIXED);
    if (blen > n - PI_MIN)
        return ctrl_reply(s, h->pdu_ref, S7_FN_PI, ERR_CANNOT, 0);
    const uint8_t *args = p + PI_FIXED + 2;
    size_t nlen = args[blen];
    char name[PI_NAME_MAX + 1];
    if (PI_MIN + blen + nlen != n || !take_name(args + blen + 1, nlen, name))
        return ctrl_reply(s, h->pdu_ref, S7_FN_PI, ERR_CANNOT, 0);
    if (strcmp(name, P_PROGRAM) != 0) {
        size_t out = s7__serve_block_pi(s, c, h, name, args, blen);
        if (out)
            return out;
        gw_log_write(s->opts.log, GW_LOG_DEBUG, "s7", "server: %s: PI service %s not served",
                     c->peer, name);
        return ctrl_reply(s, h->pdu_ref, S7_FN_PI, ERR_NOT_SERVED, 0);
    }
    /* P_PROGRAM: no argument = hot (warm) start, "C " = cold start
     * (S7-CLI opPlcHotStart, opPlcColdStart) */
    bool cold;
    if (blen == 0)
        cold = false;
    else if (blen == 2 && args[0] == 'C' && args[1] == ' ')
        cold = true;
    else
        return ctrl_reply(s, h->pdu_ref, S7_FN_PI, ERR_PI_SYNTAX, 0);
    return change_mode(s, c, h, S7_FN_PI, GW_S7_CPU_RUN, cold);
}

size_t s7__serve_stop(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    /* 29, 5 bytes, name length (1), name "P_PROGRAM"; no data
     * (docs/s7comm.md 16.1) */
    const uint8_t *p = h->param;
    size_t n = h->param_len;
    char name[PI_NAME_MAX + 1];
    if (n < STOP_FIXED + 1 || h->data_len != 0 || STOP_FIXED + 1u + p[STOP_FIXED] != n ||
        !take_name(p + STOP_FIXED + 1, p[STOP_FIXED], name))
        return ctrl_reply(s, h->pdu_ref, S7_FN_STOP, ERR_CANNOT, 0);
    if (strcmp(name, P_PROGRAM) != 0)
        return ctrl_reply(s, h->pdu_ref, S7_FN_STOP, ERR_NOT_SERVED, 0);
    return change_mode(s, c, h, S7_FN_STOP, GW_S7_CPU_STOP, false);
}

/* ---------------------------------------------------------------- password */

/*
 * The password as it travels (S7-CLI opSetPassword): padded with spaces
 * to 8 characters, byte 0 and 1 XOR 0x55, every later byte XOR 0x55 and
 * XOR the encoded byte two places before it. Decoding undoes that.
 */
static void password_decode(const uint8_t enc[PWD_LEN], char plain[PWD_LEN])
{
    for (size_t i = 0; i < PWD_LEN; i++)
        plain[i] = (char)(enc[i] ^ 0x55 ^ (i >= 2 ? enc[i - 2] : 0));
}

/* Whether 8 decoded bytes are the server's password (padded with spaces). */
static bool password_matches(const gw_s7_server *s, const char plain[PWD_LEN])
{
    char want[PWD_LEN];
    size_t n = strlen(s->password);
    memset(want, ' ', sizeof(want));
    memcpy(want, s->password, n < PWD_LEN ? n : PWD_LEN);
    return memcmp(want, plain, PWD_LEN) == 0;
}

static size_t enter_password(gw_s7_server *s, s7_session *c, const s7_header *h,
                             const s7_userdata_param *up)
{
    /* data: return code, transport size (not checked, as for SZL
     * requests), length 8, the 8 encoded bytes */
    if (h->data_len != 4 + PWD_LEN || s7_get16(h->data + 2) != PWD_LEN)
        return s7__ud_error(s, h->pdu_ref, up, ERR_PWD_SYNTAX);
    char plain[PWD_LEN];
    password_decode(h->data + 4, plain);
    uint16_t err = 0;
    pthread_mutex_lock(&s->lock);
    if (s->password[0] == '\0') {
        err = ERR_PWD_NONE_SET;
    } else {
        /* a wrong password also ends an earlier legitimation */
        c->authorized = password_matches(s, plain);
        err = c->authorized ? 0 : ERR_PWD_WRONG;
    }
    pthread_mutex_unlock(&s->lock);
    memset(plain, 0, sizeof(plain));
    gw_log_write(s->opts.log, err ? GW_LOG_WARN : GW_LOG_INFO, "s7", "server: %s: session "
                 "password %s", c->peer, err == 0 ? "accepted" : err == ERR_PWD_WRONG
                 ? "wrong" : "given, but the CPU has none");
    return err ? s7__ud_error(s, h->pdu_ref, up, err) : ud_ok_empty(s, h->pdu_ref, up);
}

static size_t cancel_password(gw_s7_server *s, s7_session *c, const s7_header *h,
                              const s7_userdata_param *up)
{
    pthread_mutex_lock(&s->lock);
    bool none = s->password[0] == '\0';
    c->authorized = false;
    pthread_mutex_unlock(&s->lock);
    return none ? s7__ud_error(s, h->pdu_ref, up, ERR_PWD_NONE_CLEAR)
                : ud_ok_empty(s, h->pdu_ref, up);
}

size_t s7__serve_security(gw_s7_server *s, s7_session *c, const s7_header *h,
                          const s7_userdata_param *up)
{
    switch (up->subfunction) {
    case SUB_PWD_ENTER: return enter_password(s, c, h, up);
    case SUB_PWD_CANCEL: return cancel_password(s, c, h, up);
    default: return s7__ud_error(s, h->pdu_ref, up, ERR_NOT_SERVED);
    }
}

bool s7__session_may_write(gw_s7_server *s, const s7_session *c)
{
    return s->password[0] == '\0' || c->authorized;
}

/* ---------------------------------------------------------------- clock */

int64_t s7__cpu_clock_ms(gw_s7_server *s)
{
    int64_t now = s->opts.clock_ms ? s->opts.clock_ms(s->opts.user) : gw_wall_ms();
    return now + s->clock_offset_ms;
}

/* The BCD century byte of a time (docs/s7comm.md 17). */
static uint8_t century_bcd(int64_t epoch_ms)
{
    return epoch_ms < 946684800000LL ? 0x19 : 0x20;   /* before 2000-01-01 */
}

static size_t read_clock(gw_s7_server *s, const s7_header *h, const s7_userdata_param *up)
{
    pthread_mutex_lock(&s->lock);
    int64_t now = s7__cpu_clock_ms(s);
    pthread_mutex_unlock(&s->lock);
    uint8_t *d = s7__ud_data(s);
    d[0] = S7_RC_OK;
    d[1] = S7_DTS_OCTET;
    d[2] = 0;
    d[3] = CLOCK_LEN;
    d[4] = 0x00;                      /* reserved */
    d[5] = century_bcd(now);
    s7_dt_encode(d + 6, now);
    return s7__ud_finish(s, h->pdu_ref, up, up->seq, 0, false, 0, 4 + CLOCK_LEN);
}

static size_t set_clock(gw_s7_server *s, s7_session *c, const s7_header *h,
                        const s7_userdata_param *up)
{
    /* data: FF 09 00 0A, reserved, century (ignored: snap7 always sends
     * 0x19), DATE_AND_TIME */
    int64_t want = 0;
    bool valid = h->data_len == 4 + CLOCK_LEN && s7_get16(h->data + 2) == CLOCK_LEN &&
                 s7_dt_decode(h->data + 6, &want) == GW_OK;
    uint16_t err = 0;
    pthread_mutex_lock(&s->lock);
    if (!s7__session_may_write(s, c))
        err = ERR_PROTECTION;
    else if (!valid)
        err = ERR_DT_INVALID;
    else
        s->clock_offset_ms += want - s7__cpu_clock_ms(s);
    pthread_mutex_unlock(&s->lock);
    if (err)
        return s7__ud_error(s, h->pdu_ref, up, err);
    gw_log_write(s->opts.log, GW_LOG_INFO, "s7", "server: %s set the CPU clock", c->peer);
    return ud_ok_empty(s, h->pdu_ref, up);
}

size_t s7__serve_time(gw_s7_server *s, s7_session *c, const s7_header *h,
                      const s7_userdata_param *up)
{
    switch (up->subfunction) {
    case SUB_TIME_READ: return read_clock(s, h, up);
    case SUB_TIME_SET: return set_clock(s, c, h, up);
    default: return s7__ud_error(s, h->pdu_ref, up, ERR_NOT_SERVED);
    }
}
