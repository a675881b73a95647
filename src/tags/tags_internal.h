/*
 * tags_internal.h - the tag map's body, shared by the files of the tags
 * module and its tests. Not part of the public API.
 */
#ifndef GW_TAGS_INTERNAL_H
#define GW_TAGS_INTERNAL_H

#include "tags.h"

struct gw_tagmap {
    gw_arena *arena;      /* every string and array of the map */
    gw_driver driver;
    gw_order byteorder;
    gw_order wordorder;
    gw_tag *tags;
    size_t n;
};

/* Most registers one tag may cover: one read, Modbus Application Protocol
 * Specification V1.1b section 6.3 (FC 03, quantity 1..125). */
#define TAGS_MAX_REGS 125

/* Largest S7 byte offset: the S7comm item address is a 24-bit bit offset. */
#define TAGS_S7_MAX_BYTE 2097151u

/* Applies (or, being its own inverse, undoes) byte and word order to n
 * registers in place: swap bytes when byteorder is '<', then reverse the
 * list when wordorder is '<'. */
void tags__apply_order(uint16_t *regs, size_t n, gw_order byteorder, gw_order wordorder);

#endif
