/*
 * json_out.c - JSON text from a jansson value, with every number exact.
 *
 * jansson prints a real with one fixed precision: 15 significant digits
 * lose the last bits of a float widened to double (0.1f is
 * 0.10000000149011612, not 0.100000001490116), and 17 print 68.4 as
 * 68.400000000000006. Here a real is printed as the shortest decimal that
 * reads back as the same double (15, 16 or 17 digits, the first that
 * does), as JavaScript and Python do: 68.4, 0.10000000149011612,
 * -0.333251953125. Otherwise the text is jansson's: members in their
 * order, UTF-8 kept, control characters, quotes and backslashes escaped.
 */
#include "core.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_string(gw_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    gw_buf_append(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        if (!esc)
            continue;
        gw_buf_append(b, s + run, i - run);
        gw_buf_puts(b, esc);
        run = i + 1;
    }
    gw_buf_append(b, s + run, len - run);
    gw_buf_append(b, "\"", 1);
}

void gw_json_format_real(double d, char *buf, size_t size)
{
    if (!isfinite(d)) {
        /* not JSON; the callers turn these into strings before */
        snprintf(buf, size, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d)
            break;
    }
    /* a real stays a real: "24.0", not "24" */
    if (!strpbrk(buf, ".eEn"))
        strncat(buf, ".0", size - strlen(buf) - 1);
}

static void newline(gw_buf *b, unsigned indent, unsigned depth)
{
    if (!indent)
        return;
    gw_buf_append(b, "\n", 1);
    for (unsigned i = 0; i < indent * depth; i++)
        gw_buf_append(b, " ", 1);
}

static void put_value(gw_buf *b, const json_t *j, unsigned indent, unsigned depth)
{
    char num[40];
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *v;
        bool first = true;
        gw_buf_append(b, "{", 1);
        json_object_foreach((json_t *)j, key, v) {
            if (!first)
                gw_buf_append(b, ",", 1);
            first = false;
            newline(b, indent, depth + 1);
            put_string(b, key, strlen(key));
            gw_buf_puts(b, indent ? ": " : ":");
            put_value(b, v, indent, depth + 1);
        }
        if (!first)
            newline(b, indent, depth);
        gw_buf_append(b, "}", 1);
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        gw_buf_append(b, "[", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                gw_buf_append(b, ",", 1);
            newline(b, indent, depth + 1);
            put_value(b, json_array_get(j, i), indent, depth + 1);
        }
        if (n)
            newline(b, indent, depth);
        gw_buf_append(b, "]", 1);
        break;
    }
    case JSON_STRING:
        put_string(b, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        gw_buf_puts(b, num);
        break;
    case JSON_REAL:
        gw_json_format_real(json_real_value(j), num, sizeof(num));
        gw_buf_puts(b, num);
        break;
    case JSON_TRUE: gw_buf_puts(b, "true"); break;
    case JSON_FALSE: gw_buf_puts(b, "false"); break;
    case JSON_NULL: gw_buf_puts(b, "null"); break;
    }
}

char *gw_json_dumps(const void *json, unsigned indent)
{
    if (!json)
        return NULL;
    gw_buf b;
    gw_buf_init(&b);
    /* values come from our own code: nested as deep as it builds them */
    put_value(&b, json, indent, 0);
    if (b.failed) {
        gw_buf_clear(&b);
        return NULL;
    }
    gw_buf_cstr(&b);
    return gw_buf_take(&b);
}
