/*
 * s7_internal.h - shared by the files of the S7 driver and its tests.
 */
#ifndef GW_S7_INTERNAL_H
#define GW_S7_INTERNAL_H

#include "s7.h"
#include "s7_codec.h"

typedef struct {
    gw_s7_area area;
    uint16_t db;
    uint32_t start;
    uint32_t len;
    uint32_t req;       /* request it belongs to */
    size_t buf_off;     /* where its bytes go in the exchange buffer */
} s7_plan_item;

typedef struct {
    size_t first;       /* index of its first item (items are grouped) */
    size_t nitems;
    size_t reply;       /* reply bytes, fill bytes counted */
} s7_plan_req;

/* The part of range `range` that item `item` carries. */
typedef struct {
    uint32_t range;
    uint32_t item;
    uint32_t item_off;
    uint32_t range_off;
    uint32_t len;
} s7_plan_piece;

struct gw_s7_plan {
    uint16_t pdu_len;
    size_t nranges;
    s7_plan_item *items;
    size_t nitems;
    s7_plan_req *reqs;
    size_t nreqs;
    s7_plan_piece *pieces;
    size_t npieces;
    size_t buf_len;     /* bytes of all items */
};

/* Protocol area code of an area (docs/s7comm.md, areas). */
static inline uint8_t s7__area_code(gw_s7_area a)
{
    switch (a) {
    case GW_S7_DB: return S7_AREA_DB;
    case GW_S7_M: return S7_AREA_M;
    case GW_S7_I: return S7_AREA_I;
    case GW_S7_Q: return S7_AREA_Q;
    }
    return 0;
}

const char *s7__area_name(gw_s7_area a);

#endif
