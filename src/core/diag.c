/*
 * diag.c - problems found in a file, each with its line and column, printed
 * the way compilers print them so that editors can jump to them:
 *
 *   config/demo.json:14:9: error: "port" must be 1..65535, got 70000
 *     hint: ...
 */
#include "core.h"

#include <string.h>

void gw_diag_init(gw_diag *d, const char *file)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->file, sizeof(d->file), "%s", file ? file : "<input>");
}

GW_VPRINTF(4) static void add(gw_diag *d, gw_loc loc, bool warning, const char *fmt, va_list ap)
{
    if (!warning)
        d->errors++;
    if (d->count >= GW_DIAG_MAX) {
        d->dropped++;
        return;
    }
    gw_diag_entry *e = &d->entries[d->count++];
    e->loc = loc;
    e->warning = warning;
    e->hint[0] = '\0';
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void gw_diag_error(gw_diag *d, gw_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, loc, false, fmt, ap);
    va_end(ap);
}

void gw_diag_warn(gw_diag *d, gw_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, loc, true, fmt, ap);
    va_end(ap);
}

void gw_diag_hint(gw_diag *d, const char *fmt, ...)
{
    if (d->count == 0 || d->dropped)
        return;
    gw_diag_entry *e = &d->entries[d->count - 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
    va_end(ap);
}

bool gw_diag_failed(const gw_diag *d)
{
    return d->errors > 0;
}

void gw_diag_print(const gw_diag *d, FILE *out)
{
    for (size_t i = 0; i < d->count; i++) {
        const gw_diag_entry *e = &d->entries[i];
        fprintf(out, "%s:%u:%u: %s: %s\n", d->file, e->loc.line, e->loc.col,
                e->warning ? "warning" : "error", e->msg);
        if (e->hint[0])
            fprintf(out, "  hint: %s\n", e->hint);
    }
    if (d->dropped)
        fprintf(out, "%s: %zu more problem(s) not shown\n", d->file, d->dropped);
}

void gw_diag_first(const gw_diag *d, char *buf, size_t size)
{
    for (size_t i = 0; i < d->count; i++) {
        const gw_diag_entry *e = &d->entries[i];
        if (e->warning)
            continue;
        snprintf(buf, size, "%s:%u:%u: %s", d->file, e->loc.line, e->loc.col, e->msg);
        return;
    }
    snprintf(buf, size, "%s: no error", d->file);
}
