/*
 * err.c - the project's error codes, their names and messages, and the
 * gw_error detail struct.
 */
#include "core.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *str;
} err_table[GW_E__COUNT] = {
    [GW_OK] = {"GW_OK", "success"},
    [GW_E_NOMEM] = {"GW_E_NOMEM", "out of memory"},
    [GW_E_INVAL] = {"GW_E_INVAL", "invalid argument or value"},
    [GW_E_RANGE] = {"GW_E_RANGE", "value out of range"},
    [GW_E_TYPE] = {"GW_E_TYPE", "value of the wrong type"},
    [GW_E_NOT_FOUND] = {"GW_E_NOT_FOUND", "not found"},
    [GW_E_CONFIG] = {"GW_E_CONFIG", "configuration is invalid"},
    [GW_E_IO] = {"GW_E_IO", "input/output error"},
    [GW_E_TIMEOUT] = {"GW_E_TIMEOUT", "peer did not answer in time"},
    [GW_E_CONN_REFUSED] = {"GW_E_CONN_REFUSED", "connection refused"},
    [GW_E_CONN_LOST] = {"GW_E_CONN_LOST", "connection lost"},
    [GW_E_PROTOCOL] = {"GW_E_PROTOCOL", "protocol violation by peer"},
    [GW_E_DEVICE_REJECTED] = {"GW_E_DEVICE_REJECTED", "device rejected the request"},
    [GW_E_ACCESS] = {"GW_E_ACCESS", "access denied"},
    [GW_E_BUSY] = {"GW_E_BUSY", "resource busy"},
    [GW_E_UNSUPPORTED] = {"GW_E_UNSUPPORTED", "not supported"},
    [GW_E_STORE] = {"GW_E_STORE", "database error"},
};

const char *gw_err_name(gw_err code)
{
    if ((unsigned)code >= GW_E__COUNT)
        return "GW_E_UNKNOWN";
    return err_table[code].name;
}

const char *gw_err_str(gw_err code)
{
    if ((unsigned)code >= GW_E__COUNT)
        return "unknown error";
    return err_table[code].str;
}

void gw_error_clear(gw_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

gw_err gw_error_set(gw_error *err, gw_err code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void gw_error_subject(gw_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->subject, sizeof(err->subject), fmt, ap);
    va_end(ap);
}

void gw_error_hint(gw_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
    va_end(ap);
}
