/*
 * buf.c - a growable string builder and a bounded whole-file reader.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

void gw_buf_init(gw_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void gw_buf_clear(gw_buf *b)
{
    gw_free(b->data);
    gw_buf_init(b);
}

static bool reserve(gw_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *p = gw_realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void gw_buf_append(gw_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void gw_buf_puts(gw_buf *b, const char *s)
{
    gw_buf_append(b, s, strlen(s));
}

void gw_buf_printf(gw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *gw_buf_cstr(gw_buf *b)
{
    return b->data ? b->data : "";
}

char *gw_buf_take(gw_buf *b)
{
    char *p = b->data;
    if (!p)
        p = gw_strdup("");
    gw_buf_init(b);
    return p;
}

gw_err gw_file_read(const char *path, size_t max_bytes, char **out, size_t *len,
                    gw_error *err)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        gw_error_set(err, e == ENOENT ? GW_E_NOT_FOUND : GW_E_IO, "cannot open %s: %s",
                     path, strerror(e));
        if (err)
            err->sys_errno = e;
        return e == ENOENT ? GW_E_NOT_FOUND : GW_E_IO;
    }
    gw_buf b;
    gw_buf_init(&b);
    char chunk[8192];
    size_t n;
    gw_err rc = GW_OK;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + n > max_bytes) {
            rc = gw_error_set(err, GW_E_RANGE, "%s is larger than %zu bytes", path,
                              max_bytes);
            break;
        }
        gw_buf_append(&b, chunk, n);
    }
    if (rc == GW_OK && ferror(f))
        rc = gw_error_set(err, GW_E_IO, "cannot read %s", path);
    if (rc == GW_OK && b.failed)
        rc = gw_error_set(err, GW_E_NOMEM, "out of memory reading %s", path);
    fclose(f);
    if (rc != GW_OK) {
        gw_buf_clear(&b);
        return rc;
    }
    *len = b.len;
    *out = gw_buf_take(&b);
    return *out ? GW_OK : gw_error_set(err, GW_E_NOMEM, "out of memory");
}
