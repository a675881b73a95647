/*
 * s7_client_blocks.c - the S7 client's blocks services (s7.h).
 */
#include "s7_internal.h"
