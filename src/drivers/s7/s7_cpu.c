/*
 * s7_cpu.c - the S7 server's CPU control: PLC stop (0x29), the PI
 * services that start the CPU (0x28), the session password (userdata
 * group 5) and the clock (group 7).
 */
#include "s7_internal.h"

#include <string.h>

size_t s7__serve_pi(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    (void)c;
    return s7__reply_error(s, h->pdu_ref, S7_ACK, 0x81, 0x04);
}

size_t s7__serve_stop(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    (void)c;
    return s7__reply_error(s, h->pdu_ref, S7_ACK, 0x81, 0x04);
}

size_t s7__serve_security(gw_s7_server *s, s7_session *c, const s7_header *h,
                          const s7_userdata_param *up)
{
    (void)c;
    return s7__ud_error(s, h->pdu_ref, up, 0x8104);
}

size_t s7__serve_time(gw_s7_server *s, s7_session *c, const s7_header *h,
                      const s7_userdata_param *up)
{
    (void)c;
    return s7__ud_error(s, h->pdu_ref, up, 0x8104);
}

bool s7__session_may_write(gw_s7_server *s, const s7_session *c)
{
    return s->password[0] == '\0' || c->authorized;
}

int64_t s7__cpu_clock_ms(gw_s7_server *s)
{
    int64_t now = s->opts.clock_ms ? s->opts.clock_ms(s->opts.user) : gw_wall_ms();
    return now + s->clock_offset_ms;
}
