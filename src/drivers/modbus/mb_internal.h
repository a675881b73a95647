/*
 * mb_internal.h - shared by the files of the Modbus driver and its tests.
 */
#ifndef GW_MB_INTERNAL_H
#define GW_MB_INTERNAL_H

#include "mb.h"

typedef struct {
    size_t req;       /* request that carries the tag */
    uint32_t off;     /* its first register (bit) within the request */
} mb_tag_loc;

struct gw_mb_plan {
    const gw_tagmap *map;   /* borrowed */
    gw_mb_request *reqs;
    size_t nreqs;
    mb_tag_loc *locs;       /* per tag, in map order */
    size_t ntags;
    size_t *req_off;        /* where each request's data starts in the readout */
    size_t total_regs, total_bits;
};

struct gw_mb_readout {
    uint16_t *regs;
    uint8_t *bits;
    gw_err *result;         /* per request */
    int *exception;         /* per request: Modbus exception code, or 0 */
};

#endif
