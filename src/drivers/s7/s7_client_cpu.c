/*
 * s7_client_cpu.c - the S7 client's cpu services (s7.h).
 */
#include "s7_internal.h"
