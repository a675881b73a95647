/*
 * json.c - a strict JSON reader (RFC 8259) for configuration files.
 *
 * Why not jansson here: jansson does not say where a value came from, and
 * every configuration error must name file:line:column. This reader keeps
 * the position of every value and every key, reports duplicate keys (which
 * jansson silently merges), and bounds nesting depth, so that a hostile
 * file cannot exhaust the stack. jansson remains the JSON library for
 * run-time documents (HTTP bodies, output); gw_json_to_jansson bridges.
 *
 * Invariants: on success every node and string lives in the document's
 * arena and is freed at once with it; on failure nothing is left behind.
 * Columns count UTF-8 code points, as editors do.
 */
#include "core.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- doc */

struct gw_json_doc {
    gw_arena *arena;
    gw_json *root;
};

void gw_json_doc_free(gw_json_doc *doc)
{
    if (!doc)
        return;
    gw_arena_free(doc->arena);
    gw_free(doc);
}

const gw_json *gw_json_root(const gw_json_doc *doc)
{
    return doc ? doc->root : NULL;
}

/* ---------------------------------------------------------------- lexer */

typedef struct {
    const unsigned char *p;
    size_t len;
    size_t pos;
    gw_loc loc;
    int depth;
    bool failed;
    gw_diag *diag;
    gw_json_doc *doc;
} parser;

static bool at_end(const parser *ps)
{
    return ps->pos >= ps->len;
}

static int peek(const parser *ps)
{
    return at_end(ps) ? -1 : ps->p[ps->pos];
}

/* Advances one byte; a column is counted for each code point start. */
static void advance(parser *ps)
{
    unsigned char c = ps->p[ps->pos++];
    if (c == '\n') {
        ps->loc.line++;
        ps->loc.col = 1;
    } else if ((c & 0xC0) != 0x80) {
        ps->loc.col++;
    }
}

/* A human description of the byte at the cursor, for "got ..." texts. */
static void describe(const parser *ps, char *buf, size_t size)
{
    int c = peek(ps);
    if (c < 0)
        snprintf(buf, size, "end of file");
    else if (c >= 0x21 && c < 0x7F)
        snprintf(buf, size, "'%c'", c);
    else if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        snprintf(buf, size, "whitespace");
    else
        snprintf(buf, size, "byte 0x%02X", (unsigned)c);
}

static void fail_at(parser *ps, gw_loc loc, const char *what)
{
    if (ps->failed)
        return;
    ps->failed = true;
    char got[32];
    describe(ps, got, sizeof(got));
    gw_diag_error(ps->diag, loc, "expected %s, got %s", what, got);
}

static void fail_expected(parser *ps, const char *what)
{
    fail_at(ps, ps->loc, what);
}

static void fail_msg(parser *ps, gw_loc loc, const char *msg)
{
    if (ps->failed)
        return;
    ps->failed = true;
    gw_diag_error(ps->diag, loc, "%s", msg);
}

static void skip_ws(parser *ps)
{
    while (!at_end(ps)) {
        int c = peek(ps);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            advance(ps);
        } else if (c == '/' && ps->pos + 1 < ps->len &&
                   (ps->p[ps->pos + 1] == '/' || ps->p[ps->pos + 1] == '*')) {
            fail_msg(ps, ps->loc, "comments are not allowed in JSON");
            gw_diag_hint(ps->diag, "put notes in a \"description\" member instead");
            return;
        } else {
            return;
        }
    }
}

static gw_json *new_node(parser *ps, gw_json_kind kind, gw_loc loc)
{
    gw_json *n = gw_arena_alloc(ps->doc->arena, sizeof(*n));
    if (!n) {
        fail_msg(ps, loc, "out of memory");
        return NULL;
    }
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->loc = loc;
    return n;
}

/* ---------------------------------------------------------------- strings */

static void put_utf8(unsigned char *out, size_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (unsigned char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (unsigned char)(0xC0 | (cp >> 6));
        out[(*o)++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*o)++] = (unsigned char)(0xE0 | (cp >> 12));
        out[(*o)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (unsigned char)(0xF0 | (cp >> 18));
        out[(*o)++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*o)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (unsigned char)(0x80 | (cp & 0x3F));
    }
}

/* Length of a valid UTF-8 sequence at p (RFC 3629 table 3), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    uint32_t cp = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Parses a string at the cursor ('"'); the decoded text goes to the arena.
 * The decoded form is never longer than the source, so one allocation of
 * the remaining length bound suffices; it is sized by a first scan. */
static bool parse_string(parser *ps, const char **out, size_t *out_len)
{
    gw_loc start = ps->loc;
    advance(ps); /* opening quote */
    /* scan to the closing quote to size the buffer */
    size_t end = ps->pos;
    while (end < ps->len && ps->p[end] != '"') {
        if (ps->p[end] == '\\' && end + 1 < ps->len)
            end++;
        end++;
    }
    if (end >= ps->len) {
        fail_msg(ps, start, "unterminated string: expected '\"' before end of file");
        return false;
    }
    unsigned char *buf = gw_arena_alloc(ps->doc->arena, end - ps->pos + 1);
    if (!buf) {
        fail_msg(ps, start, "out of memory");
        return false;
    }
    size_t o = 0;
    for (;;) {
        int c = peek(ps);
        if (c == '"') {
            advance(ps);
            break;
        }
        if (c < 0x20) {
            /* end == ps->len is excluded by the scan, so c >= 0 here */
            fail_msg(ps, ps->loc, "control character in string; write it as \\n, \\t or \\u00XX");
            return false;
        }
        if (c == '\\') {
            gw_loc esc = ps->loc;
            advance(ps);
            int e = peek(ps);
            uint32_t cp;
            switch (e) {
            case '"': buf[o++] = '"'; advance(ps); continue;
            case '\\': buf[o++] = '\\'; advance(ps); continue;
            case '/': buf[o++] = '/'; advance(ps); continue;
            case 'b': buf[o++] = '\b'; advance(ps); continue;
            case 'f': buf[o++] = '\f'; advance(ps); continue;
            case 'n': buf[o++] = '\n'; advance(ps); continue;
            case 'r': buf[o++] = '\r'; advance(ps); continue;
            case 't': buf[o++] = '\t'; advance(ps); continue;
            case 'u':
                advance(ps);
                if (ps->len - ps->pos < 4 || hex4(ps->p + ps->pos, &cp) < 0) {
                    fail_msg(ps, esc, "bad \\u escape: expected four hex digits");
                    return false;
                }
                for (int i = 0; i < 4; i++)
                    advance(ps);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (ps->len - ps->pos < 6 || ps->p[ps->pos] != '\\' ||
                        ps->p[ps->pos + 1] != 'u' || hex4(ps->p + ps->pos + 2, &lo) < 0 ||
                        lo < 0xDC00 || lo > 0xDFFF) {
                        fail_msg(ps, esc, "bad \\u escape: high surrogate without a low surrogate");
                        return false;
                    }
                    for (int i = 0; i < 6; i++)
                        advance(ps);
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail_msg(ps, esc, "bad \\u escape: lone low surrogate");
                    return false;
                } else if (cp == 0) {
                    fail_msg(ps, esc, "NUL character (\\u0000) is not allowed in strings");
                    return false;
                }
                put_utf8(buf, &o, cp);
                continue;
            default:
                fail_msg(ps, esc, "bad escape: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
                return false;
            }
        }
        size_t n = utf8_seq(ps->p + ps->pos, ps->len - ps->pos);
        if (n == 0) {
            fail_msg(ps, ps->loc, "invalid UTF-8 in string");
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            buf[o++] = ps->p[ps->pos];
            advance(ps);
        }
    }
    buf[o] = '\0';
    *out = (const char *)buf;
    *out_len = o;
    return true;
}

/* ---------------------------------------------------------------- numbers */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static gw_json *parse_number(parser *ps)
{
    gw_loc loc = ps->loc;
    size_t start = ps->pos;
    bool neg = false, integral = true;
    if (peek(ps) == '-') {
        neg = true;
        advance(ps);
    }
    if (peek(ps) == '0') {
        advance(ps);
        if (is_digit(peek(ps))) {
            fail_msg(ps, loc, "numbers must not have leading zeros");
            return NULL;
        }
    } else if (is_digit(peek(ps))) {
        while (is_digit(peek(ps)))
            advance(ps);
    } else {
        fail_expected(ps, "a digit");
        return NULL;
    }
    if (peek(ps) == '.') {
        integral = false;
        advance(ps);
        if (!is_digit(peek(ps))) {
            fail_expected(ps, "a digit after the decimal point");
            return NULL;
        }
        while (is_digit(peek(ps)))
            advance(ps);
    }
    if (peek(ps) == 'e' || peek(ps) == 'E') {
        integral = false;
        advance(ps);
        if (peek(ps) == '+' || peek(ps) == '-')
            advance(ps);
        if (!is_digit(peek(ps))) {
            fail_expected(ps, "a digit in the exponent");
            return NULL;
        }
        while (is_digit(peek(ps)))
            advance(ps);
    }
    size_t n = ps->pos - start;
    char *text = gw_arena_alloc(ps->doc->arena, n + 1);
    gw_json *node = new_node(ps, GW_JSON_NUMBER, loc);
    if (!text || !node) {
        fail_msg(ps, loc, "out of memory");
        return NULL;
    }
    memcpy(text, ps->p + start, n);
    text[n] = '\0';
    double d = strtod(text, NULL);
    if (!isfinite(d)) {
        fail_msg(ps, loc, "number is too large for a double");
        return NULL;
    }
    node->u.num.d = d;
    node->u.num.text = text;
    node->u.num.neg = neg;
    node->u.num.integral = integral;
    if (integral) {
        uint64_t mag = 0;
        bool ok = true;
        for (const char *q = text + (neg ? 1 : 0); *q; q++) {
            unsigned dgt = (unsigned)(*q - '0');
            if (mag > (UINT64_MAX - dgt) / 10) {
                ok = false;
                break;
            }
            mag = mag * 10 + dgt;
        }
        node->u.num.mag_ok = ok;
        node->u.num.mag = ok ? mag : 0;
    }
    return node;
}

/* ---------------------------------------------------------------- values */

static gw_json *parse_value(parser *ps);

static bool expect_word(parser *ps, const char *word)
{
    gw_loc loc = ps->loc;
    size_t n = strlen(word);
    if (ps->len - ps->pos < n || memcmp(ps->p + ps->pos, word, n) != 0) {
        fail_at(ps, loc, "a value (object, array, string, number, true, false or null)");
        return false;
    }
    for (size_t i = 0; i < n; i++)
        advance(ps);
    return true;
}

/* Growable array of pointers or members, freed by the caller. */
typedef struct {
    void *items;
    size_t n, cap, size;
} vec;

static bool vec_push(vec *v, const void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void *p = gw_realloc(v->items, cap * v->size);
        if (!p)
            return false;
        v->items = p;
        v->cap = cap;
    }
    memcpy((char *)v->items + v->n * v->size, item, v->size);
    v->n++;
    return true;
}

static gw_json *parse_array(parser *ps)
{
    gw_json *node = new_node(ps, GW_JSON_ARRAY, ps->loc);
    if (!node)
        return NULL;
    advance(ps); /* '[' */
    vec v = {NULL, 0, 0, sizeof(gw_json *)};
    skip_ws(ps);
    if (peek(ps) == ']') {
        advance(ps);
        return node;
    }
    for (;;) {
        skip_ws(ps);
        gw_json *item = parse_value(ps);
        if (!item)
            goto fail;
        if (!vec_push(&v, &item)) {
            fail_msg(ps, item->loc, "out of memory");
            goto fail;
        }
        skip_ws(ps);
        if (ps->failed)
            goto fail;
        if (peek(ps) == ',') {
            advance(ps);
            skip_ws(ps);
            if (peek(ps) == ']') {
                fail_msg(ps, ps->loc, "trailing comma before ']' is not allowed in JSON");
                goto fail;
            }
            continue;
        }
        if (peek(ps) == ']') {
            advance(ps);
            break;
        }
        fail_expected(ps, "',' or ']' after an array element");
        goto fail;
    }
    node->u.arr.items = gw_arena_alloc(ps->doc->arena, v.n * sizeof(gw_json *));
    if (!node->u.arr.items) {
        fail_msg(ps, node->loc, "out of memory");
        goto fail;
    }
    memcpy(node->u.arr.items, v.items, v.n * sizeof(gw_json *));
    node->u.arr.n = v.n;
    gw_free(v.items);
    return node;
fail:
    gw_free(v.items);
    return NULL;
}

static int member_cmp(const void *a, const void *b)
{
    const gw_json_member *x = *(const gw_json_member *const *)a;
    const gw_json_member *y = *(const gw_json_member *const *)b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    /* equal keys: file order, so the later one is reported */
    if (x->key_loc.line != y->key_loc.line)
        return x->key_loc.line < y->key_loc.line ? -1 : 1;
    return x->key_loc.col < y->key_loc.col ? -1 : (x->key_loc.col > y->key_loc.col);
}

/* Duplicate keys are an error; O(n log n) so that large maps stay fast. */
static void check_duplicates(parser *ps, gw_json *obj)
{
    size_t n = obj->u.obj.n;
    if (n < 2)
        return;
    const gw_json_member **sorted = gw_malloc(n * sizeof(*sorted));
    if (!sorted) {
        fail_msg(ps, obj->loc, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &obj->u.obj.members[i];
    qsort(sorted, n, sizeof(*sorted), member_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(sorted[i - 1]->key, sorted[i]->key) == 0) {
            gw_diag_error(ps->diag, sorted[i]->key_loc,
                          "duplicate key \"%s\" (first at line %u, column %u)",
                          sorted[i]->key, sorted[i - 1]->key_loc.line,
                          sorted[i - 1]->key_loc.col);
            ps->failed = true;
        }
    }
    gw_free(sorted);
}

static gw_json *parse_object(parser *ps)
{
    gw_json *node = new_node(ps, GW_JSON_OBJECT, ps->loc);
    if (!node)
        return NULL;
    advance(ps); /* '{' */
    vec v = {NULL, 0, 0, sizeof(gw_json_member)};
    skip_ws(ps);
    if (peek(ps) == '}') {
        advance(ps);
        return node;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->failed)
            goto fail;
        if (peek(ps) != '"') {
            fail_expected(ps, "a member name in double quotes");
            goto fail;
        }
        gw_json_member m;
        m.key_loc = ps->loc;
        if (!parse_string(ps, &m.key, &m.key_len))
            goto fail;
        skip_ws(ps);
        if (ps->failed)
            goto fail;
        if (peek(ps) != ':') {
            fail_expected(ps, "':' after the member name");
            goto fail;
        }
        advance(ps);
        skip_ws(ps);
        m.value = parse_value(ps);
        if (!m.value)
            goto fail;
        if (!vec_push(&v, &m)) {
            fail_msg(ps, m.key_loc, "out of memory");
            goto fail;
        }
        skip_ws(ps);
        if (ps->failed)
            goto fail;
        if (peek(ps) == ',') {
            advance(ps);
            skip_ws(ps);
            if (peek(ps) == '}') {
                fail_msg(ps, ps->loc, "trailing comma before '}' is not allowed in JSON");
                goto fail;
            }
            continue;
        }
        if (peek(ps) == '}') {
            advance(ps);
            break;
        }
        fail_expected(ps, "',' or '}' after an object member");
        goto fail;
    }
    node->u.obj.members = gw_arena_alloc(ps->doc->arena, v.n * sizeof(gw_json_member));
    if (!node->u.obj.members) {
        fail_msg(ps, node->loc, "out of memory");
        goto fail;
    }
    memcpy(node->u.obj.members, v.items, v.n * sizeof(gw_json_member));
    node->u.obj.n = v.n;
    gw_free(v.items);
    check_duplicates(ps, node);
    return node;
fail:
    gw_free(v.items);
    return NULL;
}

static gw_json *parse_value(parser *ps)
{
    if (ps->failed)
        return NULL;
    gw_loc loc = ps->loc;
    int c = peek(ps);
    gw_json *node = NULL;
    switch (c) {
    case '{':
    case '[':
        if (++ps->depth > GW_JSON_MAX_DEPTH) {
            fail_msg(ps, loc, "nesting deeper than 64 levels");
            return NULL;
        }
        node = c == '{' ? parse_object(ps) : parse_array(ps);
        ps->depth--;
        return node;
    case '"': {
        const char *s;
        size_t len;
        if (!parse_string(ps, &s, &len))
            return NULL;
        node = new_node(ps, GW_JSON_STRING, loc);
        if (node) {
            node->u.str.s = s;
            node->u.str.len = len;
        }
        return node;
    }
    case 't':
    case 'f':
        if (!expect_word(ps, c == 't' ? "true" : "false"))
            return NULL;
        node = new_node(ps, GW_JSON_BOOL, loc);
        if (node)
            node->u.b = c == 't';
        return node;
    case 'n':
        if (!expect_word(ps, "null"))
            return NULL;
        return new_node(ps, GW_JSON_NULL, loc);
    default:
        if (c == '-' || is_digit(c))
            return parse_number(ps);
        if (c == '\'') {
            fail_msg(ps, loc, "strings must be in double quotes, not single quotes");
            return NULL;
        }
        fail_expected(ps, "a value (object, array, string, number, true, false or null)");
        return NULL;
    }
}

gw_err gw_json_parse(const char *text, size_t len, gw_json_doc **out, gw_diag *diag)
{
    *out = NULL;
    gw_json_doc *doc = gw_calloc(1, sizeof(*doc));
    if (doc)
        doc->arena = gw_arena_new();
    if (!doc || !doc->arena) {
        gw_free(doc);
        gw_diag_error(diag, (gw_loc){1, 1}, "out of memory");
        return GW_E_NOMEM;
    }
    parser ps = {(const unsigned char *)text, len, 0, {1, 1}, 0, false, diag, doc};
    /* a UTF-8 byte order mark is tolerated */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        ps.pos = 3;
    skip_ws(&ps);
    if (!ps.failed && at_end(&ps))
        fail_msg(&ps, ps.loc, "empty document: expected a JSON value");
    gw_json *root = ps.failed ? NULL : parse_value(&ps);
    if (root) {
        skip_ws(&ps);
        if (!ps.failed && !at_end(&ps))
            fail_expected(&ps, "end of file after the JSON value");
    }
    if (ps.failed || !root) {
        gw_json_doc_free(doc);
        return GW_E_CONFIG;
    }
    doc->root = root;
    *out = doc;
    return GW_OK;
}

/* Configuration files are small; 16 MiB is far beyond any real tag map. */
#define JSON_FILE_MAX (16u * 1024u * 1024u)

gw_err gw_json_parse_file(const char *path, gw_json_doc **out, gw_diag *diag)
{
    gw_diag_init(diag, path);
    char *text;
    size_t len;
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_file_read(path, JSON_FILE_MAX, &text, &len, &err);
    if (rc != GW_OK) {
        gw_diag_error(diag, (gw_loc){1, 1}, "%s", err.msg);
        *out = NULL;
        return rc;
    }
    rc = gw_json_parse(text, len, out, diag);
    gw_free(text);
    return rc;
}

/* ---------------------------------------------------------------- access */

const char *gw_json_kind_name(gw_json_kind kind)
{
    static const char *names[] = {"null", "a boolean", "a number", "a string", "an array",
                                  "an object"};
    return (unsigned)kind <= GW_JSON_OBJECT ? names[kind] : "?";
}

const gw_json_member *gw_json_member_get(const gw_json *obj, const char *key)
{
    if (!obj || obj->kind != GW_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->u.obj.n; i++)
        if (strcmp(obj->u.obj.members[i].key, key) == 0)
            return &obj->u.obj.members[i];
    return NULL;
}

const gw_json *gw_json_get(const gw_json *obj, const char *key)
{
    const gw_json_member *m = gw_json_member_get(obj, key);
    return m ? m->value : NULL;
}

bool gw_json_i64(const gw_json *v, int64_t *out)
{
    if (!v || v->kind != GW_JSON_NUMBER || !v->u.num.integral || !v->u.num.mag_ok)
        return false;
    uint64_t m = v->u.num.mag;
    if (v->u.num.neg) {
        if (m > (uint64_t)INT64_MAX + 1u)
            return false;
        *out = m == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)m;
    }
    return true;
}

bool gw_json_u64(const gw_json *v, uint64_t *out)
{
    if (!v || v->kind != GW_JSON_NUMBER || !v->u.num.integral || !v->u.num.mag_ok)
        return false;
    if (v->u.num.neg && v->u.num.mag != 0)
        return false;
    *out = v->u.num.mag;
    return true;
}

void *gw_json_to_jansson(const gw_json *v)
{
    json_t *j = NULL;
    int64_t i;
    switch (v->kind) {
    case GW_JSON_NULL:
        return json_null();
    case GW_JSON_BOOL:
        return json_boolean(v->u.b);
    case GW_JSON_NUMBER:
        if (gw_json_i64(v, &i))
            return json_integer((json_int_t)i);
        return json_real(v->u.num.d);
    case GW_JSON_STRING:
        return json_stringn(v->u.str.s, v->u.str.len);
    case GW_JSON_ARRAY:
        j = json_array();
        for (size_t k = 0; j && k < v->u.arr.n; k++) {
            json_t *item = gw_json_to_jansson(v->u.arr.items[k]);
            if (!item || json_array_append_new(j, item) != 0) {
                json_decref(j);
                return NULL;
            }
        }
        return j;
    case GW_JSON_OBJECT:
        j = json_object();
        for (size_t k = 0; j && k < v->u.obj.n; k++) {
            const gw_json_member *m = &v->u.obj.members[k];
            json_t *item = gw_json_to_jansson(m->value);
            if (!item || json_object_set_new(j, m->key, item) != 0) {
                json_decref(j);
                return NULL;
            }
        }
        return j;
    }
    return NULL;
}
