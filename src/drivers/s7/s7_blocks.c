/*
 * s7_blocks.c - the S7 server's blocks: list, info (userdata group 3),
 * upload, download, delete, compress and copy RAM to ROM.
 */
#include "s7_internal.h"

#include <string.h>

struct s7_blocks {
    int unused;
};

gw_err s7__blocks_new(gw_s7_server *s, const gw_s7_block_decl *decl, size_t n)
{
    (void)decl;
    (void)n;
    s->blocks = gw_calloc(1, sizeof(*s->blocks));
    return s->blocks ? GW_OK : GW_E_NOMEM;
}

void s7__blocks_free(gw_s7_server *s)
{
    gw_free(s->blocks);
    s->blocks = NULL;
}

size_t s7__serve_block_functions(gw_s7_server *s, s7_session *c, const s7_header *h,
                                 const s7_userdata_param *up)
{
    (void)c;
    return s7__ud_error(s, h->pdu_ref, up, 0x8104);
}

size_t s7__serve_block_job(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    (void)c;
    return s7__reply_error(s, h->pdu_ref, S7_ACK, 0x81, 0x04);
}

size_t s7__serve_block_ack(gw_s7_server *s, s7_session *c, const s7_header *h)
{
    (void)s;
    (void)c;
    (void)h;
    return 0;
}

size_t s7__serve_block_pi(gw_s7_server *s, s7_session *c, const s7_header *h,
                          const char *name, const uint8_t *args, size_t args_len)
{
    (void)s;
    (void)c;
    (void)h;
    (void)name;
    (void)args;
    (void)args_len;
    return 0;
}

void s7__blocks_session_free(s7_session *c)
{
    (void)c;
}
