/*
 * test_json.c - the located JSON reader (gw_json_*) and the declarative
 * member checks (gw_schema_check) of src/core.
 *
 * Expected positions are counted by hand: lines and columns are 1-based and
 * columns count UTF-8 code points (core.h, gw_loc). Keys are located at
 * their opening quote, values at their first character.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/core.h"

/* ------------------------------------------------------------ helpers */

static gw_json_doc *parse_ok(const char *text)
{
    gw_diag d;
    gw_diag_init(&d, "t.json");
    gw_json_doc *doc = NULL;
    gw_err rc = gw_json_parse(text, strlen(text), &doc, &d);
    if (rc != GW_OK) {
        print_error("unexpected parse failure of <%s>:\n", text);
        gw_diag_print(&d, stderr);
    }
    assert_int_equal(rc, GW_OK);
    assert_non_null(doc);
    assert_int_equal(d.errors, 0);
    assert_non_null(gw_json_root(doc));
    return doc;
}

static bool loc_is(gw_loc l, uint32_t line, uint32_t col)
{
    return l.line == line && l.col == col;
}

static void assert_loc(gw_loc l, uint32_t line, uint32_t col)
{
    if (!loc_is(l, line, col))
        print_error("location %u:%u, expected %u:%u\n", l.line, l.col, line, col);
    assert_int_equal(l.line, line);
    assert_int_equal(l.col, col);
}

static bool contains(const char *hay, const char *needle)
{
    return needle == NULL || strstr(hay, needle) != NULL;
}

/* ------------------------------------------------------------ valid documents */

static void test_nested_document(void **state)
{
    (void)state;
    const char *text =
        "{\"a\": [1, {\"b\": null}, true, false, \"x\"],\n"
        " \"c\": {\"d\": -2.5e3, \"e\": {}, \"f\": []}}";
    gw_json_doc *doc = parse_ok(text);
    const gw_json *root = gw_json_root(doc);
    assert_int_equal(root->kind, GW_JSON_OBJECT);
    assert_int_equal(root->u.obj.n, 2);
    assert_string_equal(root->u.obj.members[0].key, "a");
    assert_int_equal(root->u.obj.members[0].key_len, 1);
    assert_string_equal(root->u.obj.members[1].key, "c");

    const gw_json *a = gw_json_get(root, "a");
    assert_non_null(a);
    assert_int_equal(a->kind, GW_JSON_ARRAY);
    assert_int_equal(a->u.arr.n, 5);
    assert_int_equal(a->u.arr.items[0]->kind, GW_JSON_NUMBER);
    assert_float_equal(a->u.arr.items[0]->u.num.d, 1.0, 0.0);
    assert_int_equal(a->u.arr.items[1]->kind, GW_JSON_OBJECT);
    const gw_json *b = gw_json_get(a->u.arr.items[1], "b");
    assert_non_null(b);
    assert_int_equal(b->kind, GW_JSON_NULL);
    assert_int_equal(a->u.arr.items[2]->kind, GW_JSON_BOOL);
    assert_true(a->u.arr.items[2]->u.b);
    assert_int_equal(a->u.arr.items[3]->kind, GW_JSON_BOOL);
    assert_false(a->u.arr.items[3]->u.b);
    assert_int_equal(a->u.arr.items[4]->kind, GW_JSON_STRING);
    assert_string_equal(a->u.arr.items[4]->u.str.s, "x");
    assert_int_equal(a->u.arr.items[4]->u.str.len, 1);

    const gw_json *c = gw_json_get(root, "c");
    assert_non_null(c);
    const gw_json *dd = gw_json_get(c, "d");
    assert_non_null(dd);
    assert_float_equal(dd->u.num.d, -2500.0, 0.0);
    const gw_json *e = gw_json_get(c, "e");
    assert_int_equal(e->kind, GW_JSON_OBJECT);
    assert_int_equal(e->u.obj.n, 0);
    const gw_json *f = gw_json_get(c, "f");
    assert_int_equal(f->kind, GW_JSON_ARRAY);
    assert_int_equal(f->u.arr.n, 0);

    /* accessors */
    assert_null(gw_json_get(root, "zz"));
    assert_null(gw_json_get(a, "b"));       /* not an object */
    assert_null(gw_json_get(NULL, "a"));
    const gw_json_member *m = gw_json_member_get(root, "c");
    assert_non_null(m);
    assert_ptr_equal(m->value, c);
    assert_null(gw_json_member_get(root, "A")); /* case-sensitive */
    gw_json_doc_free(doc);
    gw_json_doc_free(NULL);
}

static void test_scalar_roots(void **state)
{
    (void)state;
    struct {
        const char *text;
        gw_json_kind kind;
    } cases[] = {
        {"null", GW_JSON_NULL}, {"true", GW_JSON_BOOL}, {" false ", GW_JSON_BOOL},
        {"\"s\"", GW_JSON_STRING}, {"-1", GW_JSON_NUMBER}, {"\n[]\n", GW_JSON_ARRAY},
        {"\r\n{}\t", GW_JSON_OBJECT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_json_doc *doc = parse_ok(cases[i].text);
        assert_int_equal(gw_json_root(doc)->kind, cases[i].kind);
        gw_json_doc_free(doc);
    }
}

static void test_string_escapes(void **state)
{
    (void)state;
    struct {
        const char *text;
        const char *want;
        size_t len;
    } cases[] = {
        {"\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"", "\" \\ / \b \f \n \r \t", 15},
        {"\"\\u0041\\u0062\"", "Ab", 2},
        {"\"\\u00e9\"", "\xC3\xA9", 2},                   /* é */
        {"\"\\u00E9\"", "\xC3\xA9", 2},                   /* hex digits in upper case */
        {"\"\\u20AC\"", "\xE2\x82\xAC", 3},               /* € */
        {"\"\\uD83D\\uDE00\"", "\xF0\x9F\x98\x80", 4},    /* U+1F600 by surrogate pair */
        {"\"\\uDBFF\\uDFFF\"", "\xF4\x8F\xBF\xBF", 4},    /* U+10FFFF */
        {"\"\\u007F\\u0080\\u07FF\\u0800\\uFFFF\"",
         "\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF", 11},
        {"\"caf\xC3\xA9 \xF0\x9F\x98\x80\"", "caf\xC3\xA9 \xF0\x9F\x98\x80", 10}, /* raw UTF-8 */
        {"\"\"", "", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_json_doc *doc = parse_ok(cases[i].text);
        const gw_json *v = gw_json_root(doc);
        assert_int_equal(v->kind, GW_JSON_STRING);
        assert_int_equal(v->u.str.len, cases[i].len);
        assert_memory_equal(v->u.str.s, cases[i].want, cases[i].len);
        assert_int_equal(v->u.str.s[cases[i].len], '\0');
        gw_json_doc_free(doc);
    }
    /* escapes in keys too */
    gw_json_doc *doc = parse_ok("{\"k\\u00e9y\": 1}");
    const gw_json *root = gw_json_root(doc);
    assert_string_equal(root->u.obj.members[0].key, "k\xC3\xA9y");
    assert_int_equal(root->u.obj.members[0].key_len, 4);
    assert_non_null(gw_json_get(root, "k\xC3\xA9y"));
    gw_json_doc_free(doc);
}

static void test_numbers(void **state)
{
    (void)state;
    struct {
        const char *text;
        bool integral, neg, mag_ok;
        uint64_t mag;
        double d;
    } cases[] = {
        {"0", true, false, true, 0, 0.0},
        {"-0", true, true, true, 0, -0.0},
        {"42", true, false, true, 42, 42.0},
        {"-42", true, true, true, 42, -42.0},
        {"9007199254740993", true, false, true, 9007199254740993ull, 9007199254740992.0},
        {"18446744073709551615", true, false, true, UINT64_MAX, 18446744073709551615.0},
        {"-9223372036854775808", true, true, true, 9223372036854775808ull,
         -9223372036854775808.0},
        {"18446744073709551616", true, false, false, 0, 18446744073709551616.0},
        {"123456789012345678901234567890", true, false, false, 0, 1.2345678901234568e29},
        {"1.5", false, false, false, 0, 1.5},
        {"0.0", false, false, false, 0, 0.0},
        {"-2.5e3", false, true, false, 0, -2500.0},
        {"1E2", false, false, false, 0, 100.0},
        {"1e+2", false, false, false, 0, 100.0},
        {"1e-2", false, false, false, 0, 0.01},
        {"2.50", false, false, false, 0, 2.5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_json_doc *doc = parse_ok(cases[i].text);
        const gw_json *v = gw_json_root(doc);
        assert_int_equal(v->kind, GW_JSON_NUMBER);
        if (v->u.num.integral != cases[i].integral || v->u.num.neg != cases[i].neg ||
            v->u.num.mag_ok != cases[i].mag_ok)
            print_error("number %s: integral %d neg %d mag_ok %d\n", cases[i].text,
                        v->u.num.integral, v->u.num.neg, v->u.num.mag_ok);
        assert_int_equal(v->u.num.integral, cases[i].integral);
        assert_int_equal(v->u.num.neg, cases[i].neg);
        assert_int_equal(v->u.num.mag_ok, cases[i].mag_ok);
        if (cases[i].mag_ok)
            assert_int_equal(v->u.num.mag, cases[i].mag);
        assert_float_equal(v->u.num.d, cases[i].d, 0.0);
        assert_non_null(v->u.num.text);
        assert_string_equal(v->u.num.text, cases[i].text);
        gw_json_doc_free(doc);
    }
}

static void test_int_accessors(void **state)
{
    (void)state;
    struct {
        const char *text;
        bool i_ok;
        int64_t i;
        bool u_ok;
        uint64_t u;
    } cases[] = {
        {"0", true, 0, true, 0},
        {"-0", true, 0, true, 0},
        {"7", true, 7, true, 7},
        {"-1", true, -1, false, 0},
        {"9223372036854775807", true, INT64_MAX, true, 9223372036854775807ull},
        {"9223372036854775808", false, 0, true, 9223372036854775808ull},
        {"-9223372036854775808", true, INT64_MIN, false, 0},
        {"-9223372036854775809", false, 0, false, 0},
        {"18446744073709551615", false, 0, true, UINT64_MAX},
        {"18446744073709551616", false, 0, false, 0},
        {"1.0", false, 0, false, 0},
        {"1e2", false, 0, false, 0},
        {"0.5", false, 0, false, 0},
        {"\"5\"", false, 0, false, 0},
        {"true", false, 0, false, 0},
        {"null", false, 0, false, 0},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        gw_json_doc *doc = parse_ok(cases[k].text);
        const gw_json *v = gw_json_root(doc);
        int64_t i = 12345;
        uint64_t u = 12345;
        bool iok = gw_json_i64(v, &i);
        bool uok = gw_json_u64(v, &u);
        if (iok != cases[k].i_ok || uok != cases[k].u_ok)
            print_error("%s: i64 %d u64 %d\n", cases[k].text, iok, uok);
        assert_int_equal(iok, cases[k].i_ok);
        assert_int_equal(uok, cases[k].u_ok);
        if (iok)
            assert_int_equal(i, cases[k].i);
        if (uok)
            assert_int_equal(u, cases[k].u);
        gw_json_doc_free(doc);
    }
    int64_t i;
    uint64_t u;
    assert_false(gw_json_i64(NULL, &i));
    assert_false(gw_json_u64(NULL, &u));
}

/* ------------------------------------------------------------ locations */

static void test_locations(void **state)
{
    (void)state;
    const char *text = "{\n"
                       "  \"a\": 1,\n"
                       "  \"bb\": [true,\n"
                       "         null],\n"
                       "  \"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\": \"x\"\n"
                       "}\n";
    gw_json_doc *doc = parse_ok(text);
    const gw_json *root = gw_json_root(doc);
    assert_loc(root->loc, 1, 1);
    const gw_json_member *a = gw_json_member_get(root, "a");
    assert_loc(a->key_loc, 2, 3);
    assert_loc(a->value->loc, 2, 8);
    const gw_json_member *bb = gw_json_member_get(root, "bb");
    assert_loc(bb->key_loc, 3, 3);
    assert_loc(bb->value->loc, 3, 9);
    assert_loc(bb->value->u.arr.items[0]->loc, 3, 10);
    assert_loc(bb->value->u.arr.items[1]->loc, 4, 10);
    /* "é€😀": one column per code point, whatever its byte length */
    const gw_json_member *u = &root->u.obj.members[2];
    assert_loc(u->key_loc, 5, 3);
    assert_loc(u->value->loc, 5, 10);
    gw_json_doc_free(doc);

    /* on one line, after multi-byte characters in a key and a value */
    doc = parse_ok("{\"\xC3\xBC\":\"\xC3\xA4\",\"k\":[1]}");
    root = gw_json_root(doc);
    assert_loc(root->u.obj.members[0].key_loc, 1, 2);
    assert_loc(root->u.obj.members[0].value->loc, 1, 6);
    assert_loc(root->u.obj.members[1].key_loc, 1, 10);
    assert_loc(root->u.obj.members[1].value->loc, 1, 14);
    assert_loc(root->u.obj.members[1].value->u.arr.items[0]->loc, 1, 15);
    gw_json_doc_free(doc);

    /* CRLF line ends: a new line starts after the LF */
    doc = parse_ok("{\r\n  \"a\": -5\r\n}");
    root = gw_json_root(doc);
    assert_loc(root->u.obj.members[0].key_loc, 2, 3);
    assert_loc(root->u.obj.members[0].value->loc, 2, 8);
    gw_json_doc_free(doc);

    /* escapes in a string count as the characters written */
    doc = parse_ok("[\"\\u00e9\\n\", 2]");
    root = gw_json_root(doc);
    assert_loc(root->u.arr.items[1]->loc, 1, 14);
    gw_json_doc_free(doc);
}

/* ------------------------------------------------------------ syntax errors */

typedef struct {
    const char *name;
    const char *text;
    size_t len;          /* 0: strlen(text) */
    uint32_t line;
    uint32_t col, col_alt; /* col_alt: a second acceptable column, 0 = none */
    const char *mention, *mention_alt; /* expected in the message (either one) */
} err_case;

static bool check_error_case(const err_case *c)
{
    gw_diag d;
    gw_diag_init(&d, "bad.json");
    gw_json_doc *doc = (gw_json_doc *)(uintptr_t)1; /* must be reset to NULL */
    size_t len = c->len ? c->len : strlen(c->text);
    gw_err rc = gw_json_parse(c->text, len, &doc, &d);
    bool ok = true;
    if (rc != GW_E_CONFIG) {
        print_error("[%s] rc %s, expected GW_E_CONFIG\n", c->name, gw_err_name(rc));
        ok = false;
        if (rc == GW_OK)
            gw_json_doc_free(doc);
        return ok;
    }
    if (doc != NULL) {
        print_error("[%s] *out not NULL after failure\n", c->name);
        ok = false;
    }
    if (d.count < 1 || d.errors < 1) {
        print_error("[%s] no diag entry\n", c->name);
        return false;
    }
    const gw_diag_entry *e = &d.entries[0];
    bool col_ok = e->loc.col == c->col || (c->col_alt && e->loc.col == c->col_alt);
    if (e->loc.line != c->line || !col_ok) {
        print_error("[%s] at %u:%u, expected %u:%u%s (msg: %s)\n", c->name, e->loc.line,
                    e->loc.col, c->line, c->col, c->col_alt ? " or alt" : "", e->msg);
        ok = false;
    }
    if (e->warning) {
        print_error("[%s] entry is a warning\n", c->name);
        ok = false;
    }
    if (e->msg[0] == '\0') {
        print_error("[%s] empty message\n", c->name);
        ok = false;
    }
    if (c->mention && !contains(e->msg, c->mention) &&
        !(c->mention_alt && contains(e->msg, c->mention_alt))) {
        print_error("[%s] message \"%s\" does not mention \"%s\"\n", c->name, e->msg,
                    c->mention);
        ok = false;
    }
    return ok;
}

static void test_syntax_errors(void **state)
{
    (void)state;
    const err_case cases[] = {
        {"trailing comma in object", "{\"a\": 1,}", 0, 1, 8, 9, NULL, NULL},
        {"trailing comma in array", "[1, 2,]", 0, 1, 6, 7, NULL, NULL},
        {"missing colon", "{\"a\" 1}", 0, 1, 6, 5, ":", "colon"},
        {"missing comma", "{\"a\": 1 \"b\": 2}", 0, 1, 9, 8, NULL, NULL},
        {"single-quoted key", "{'a': 1}", 0, 1, 2, 0, "quote", NULL},
        {"single-quoted value", "[\"a\", 'b']", 0, 1, 7, 0, "quote", NULL},
        {"line comment", "{\"a\": 1 // note\n}", 0, 1, 9, 0, "comment", NULL},
        {"block comment", "/* c */ {\"a\": 1}", 0, 1, 1, 0, "comment", NULL},
        {"comment on line 2", "[1,\n  /* x */ 2]", 0, 2, 3, 0, "comment", NULL},
        {"leading zero", "[01]", 0, 1, 2, 3, "zero", NULL},
        {"negative leading zero", "[-01]", 0, 1, 2, 4, "zero", NULL},
        {"unterminated string", "{\"a\": \"abc", 0, 1, 7, 11, NULL, NULL},
        {"raw tab in string", "[\"a\tb\"]", 0, 1, 4, 0, NULL, NULL},
        {"raw newline in string", "[\"ab\nc\"]", 0, 1, 5, 0, NULL, NULL},
        {"bad escape \\x", "[\"\\x41\"]", 0, 1, 3, 4, "escape", NULL},
        {"bad escape \\a", "[\"ok\\a\"]", 0, 1, 5, 6, "escape", NULL},
        {"short \\u escape", "[\"\\u12G4\"]", 0, 1, 3, 4, NULL, NULL},
        {"lone low surrogate", "[\"\\uDC00\"]", 0, 1, 3, 4, "surrogate", NULL},
        {"lone high surrogate", "[\"\\uD800\"]", 0, 1, 3, 4, "surrogate", NULL},
        {"high surrogate + BMP", "[\"\\uD800\\u0041\"]", 0, 1, 3, 9, "surrogate", NULL},
        {"two high surrogates", "[\"\\uD800\\uD800\"]", 0, 1, 3, 9, "surrogate", NULL},
        {"escaped NUL", "[\"ab\\u0000\"]", 0, 1, 5, 6, "NUL", "\\u0000"},
        {"invalid UTF-8 byte FF", "[\"a\xFF" "b\"]", 0, 1, 4, 0, "UTF-8", NULL},
        {"overlong UTF-8", "[\"\xC0\x80\"]", 0, 1, 3, 0, "UTF-8", NULL},
        {"UTF-8 surrogate", "[\"\xED\xA0\x80\"]", 0, 1, 3, 0, "UTF-8", NULL},
        {"UTF-8 above U+10FFFF", "[\"\xF4\x90\x80\x80\"]", 0, 1, 3, 0, "UTF-8", NULL},
        {"truncated UTF-8", "[\"\xE2\x82\"]", 0, 1, 3, 0, "UTF-8", NULL},
        {"lone continuation byte", "[\"\x80\"]", 0, 1, 3, 0, "UTF-8", NULL},
        {"bad literal", "{\n  \"a\": tru\n}", 0, 2, 8, 0, NULL, NULL},
        {"True", "[True]", 0, 1, 2, 0, NULL, NULL},
        {"NaN", "[NaN]", 0, 1, 2, 0, NULL, NULL},
        {"plus sign", "[+1]", 0, 1, 2, 0, NULL, NULL},
        {"bare fraction", "[.5]", 0, 1, 2, 0, NULL, NULL},
        {"no digit after point", "[1.]", 0, 1, 4, 2, NULL, NULL},
        {"no exponent digits", "[1e]", 0, 1, 4, 2, NULL, NULL},
        {"lone minus", "[-]", 0, 1, 3, 2, NULL, NULL},
        {"trailing brace", "{\"a\": 1}}", 0, 1, 9, 0, NULL, NULL},
        {"trailing garbage", "{\"a\":1} x", 0, 1, 9, 0, NULL, NULL},
        {"second document", "[1] [2]", 0, 1, 5, 0, NULL, NULL},
        {"two numbers", "1 2", 0, 1, 3, 0, NULL, NULL},
        {"empty document", "", 0, 1, 1, 0, "empty", NULL},
        {"blank document", "  \n ", 0, 2, 2, 1, "empty", NULL},
        {"unclosed object", "{\"a\": 1", 0, 1, 8, 1, NULL, NULL},
        {"unclosed array", "[1,\n2", 0, 2, 2, 1, NULL, NULL},
        {"form feed is not whitespace", "[1,\f2]", 0, 1, 4, 0, NULL, NULL},
        {"no-break space is not whitespace", "[1,\xC2\xA0" "2]", 0, 1, 4, 0, NULL, NULL},
        {"non-string key", "{1: 2}", 0, 1, 2, 0, NULL, NULL},
        {"error after multibyte", "[\"\xE2\x82\xAC\xE2\x82\xAC\", x]", 0, 1, 8, 0, NULL, NULL},
        {"embedded NUL byte", "[1,\0 2]", 6, 1, 4, 0, NULL, NULL},
    };
    size_t failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (!check_error_case(&cases[i]))
            failed++;
    if (failed)
        print_error("%zu of %zu syntax error cases failed\n", failed,
                    sizeof(cases) / sizeof(cases[0]));
    assert_int_equal(failed, 0);
}

static void test_syntax_error_single_entry(void **state)
{
    (void)state;
    gw_diag d;
    gw_diag_init(&d, "x.json");
    gw_json_doc *doc = NULL;
    const char *text = "{\"a\": [1,,2], \"b\": 'x', \"c\": 01}";
    assert_int_equal(gw_json_parse(text, strlen(text), &doc, &d), GW_E_CONFIG);
    assert_null(doc);
    /* a syntax error stops the reader: one entry (core.h) */
    assert_int_equal(d.count, 1);
    assert_int_equal(d.errors, 1);
    assert_loc(d.entries[0].loc, 1, 10);
    assert_true(gw_diag_failed(&d));
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    gw_diag d;
    gw_diag_init(&d, "dup.json");
    gw_json_doc *doc = NULL;
    const char *text = "{\"a\": 1,\n"
                       " \"b\": 2,\n"
                       "   \"a\": 3}";
    assert_int_equal(gw_json_parse(text, strlen(text), &doc, &d), GW_E_CONFIG);
    assert_null(doc);
    assert_true(d.count >= 1);
    const gw_diag_entry *e = &d.entries[0];
    /* reported at the second "a", naming the first at 1:2 */
    assert_loc(e->loc, 3, 4);
    assert_false(e->warning);
    assert_true(contains(e->msg, "\"a\""));
    if (!contains(e->msg, "line 1") && !contains(e->msg, "1:2"))
        print_error("duplicate message does not name the first position: %s\n", e->msg);
    assert_true(contains(e->msg, "line 1") || contains(e->msg, "1:2"));
    assert_true(contains(e->msg, "column 2") || contains(e->msg, "1:2"));

    /* the same key in different objects is fine, and key compare is exact */
    gw_json_doc *ok = parse_ok("{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}, \"A\": 3}");
    gw_json_doc_free(ok);

    /* a duplicate deep inside is found; so is one written with an escape */
    gw_diag_init(&d, "dup2.json");
    text = "{\"x\": [{\"k\": 1, \"\\u006b\": 2}]}";
    assert_int_equal(gw_json_parse(text, strlen(text), &doc, &d), GW_E_CONFIG);
    assert_null(doc);
    assert_true(d.count >= 1);
    assert_loc(d.entries[0].loc, 1, 17);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char text[2 * (GW_JSON_MAX_DEPTH + 1) + 1];
    /* exactly 64 levels: fine */
    memset(text, '[', GW_JSON_MAX_DEPTH);
    memset(text + GW_JSON_MAX_DEPTH, ']', GW_JSON_MAX_DEPTH);
    text[2 * GW_JSON_MAX_DEPTH] = '\0';
    gw_json_doc *doc = parse_ok(text);
    gw_json_doc_free(doc);

    /* 65 levels: an error at the 65th opening bracket */
    memset(text, '[', GW_JSON_MAX_DEPTH + 1);
    memset(text + GW_JSON_MAX_DEPTH + 1, ']', GW_JSON_MAX_DEPTH + 1);
    text[2 * (GW_JSON_MAX_DEPTH + 1)] = '\0';
    gw_diag d;
    gw_diag_init(&d, "deep.json");
    assert_int_equal(gw_json_parse(text, strlen(text), &doc, &d), GW_E_CONFIG);
    assert_null(doc);
    assert_true(d.count >= 1);
    assert_loc(d.entries[0].loc, 1, GW_JSON_MAX_DEPTH + 1);
    assert_true(contains(d.entries[0].msg, "64"));

    /* a hostile depth fails cleanly instead of exhausting the stack */
    size_t n = 100000;
    char *deep = malloc(2 * n + 1);
    assert_non_null(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    gw_diag_init(&d, "deeper.json");
    assert_int_equal(gw_json_parse(deep, 2 * n, &doc, &d), GW_E_CONFIG);
    assert_null(doc);
    free(deep);

    const char *objs = "{\"a\":{\"a\":{\"a\":1}}}";
    doc = parse_ok(objs);
    const gw_json *v = gw_json_get(gw_json_get(gw_json_get(gw_json_root(doc), "a"), "a"), "a");
    assert_non_null(v);
    assert_loc(v->loc, 1, 16);
    gw_json_doc_free(doc);
}

static void test_parse_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/test_json_parse_file.json", GW_BINARY_DIR);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("{\n  \"port\": 502,\n  \"host\": \"10.0.0.7\"\n}\n", f);
    fclose(f);
    gw_diag d;
    gw_json_doc *doc = NULL;
    assert_int_equal(gw_json_parse_file(path, &doc, &d), GW_OK);
    assert_string_equal(d.file, path);
    const gw_json_member *m = gw_json_member_get(gw_json_root(doc), "host");
    assert_non_null(m);
    assert_loc(m->key_loc, 3, 3);
    assert_string_equal(m->value->u.str.s, "10.0.0.7");
    gw_json_doc_free(doc);

    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("{\n  \"port\": 502,\n  \"host\": 10.0.0.7\n}\n", f);
    fclose(f);
    assert_int_equal(gw_json_parse_file(path, &doc, &d), GW_E_CONFIG);
    assert_null(doc);
    assert_string_equal(d.file, path);
    assert_true(d.count >= 1);
    assert_int_equal(d.entries[0].loc.line, 3);
    assert_int_equal(d.entries[0].loc.col, 15); /* the second '.' of 10.0.0.7 */
    char first[600];
    gw_diag_first(&d, first, sizeof(first));
    char want[600];
    snprintf(want, sizeof(want), "%s:3:15:", path);
    assert_true(strncmp(first, want, strlen(want)) == 0);
    remove(path);

    /* a missing file fails with a diagnostic, not a crash */
    snprintf(path, sizeof(path), "%s/no/such/file.json", GW_BINARY_DIR);
    gw_err rc = gw_json_parse_file(path, &doc, &d);
    assert_int_not_equal(rc, GW_OK);
    assert_null(doc);
    assert_true(gw_diag_failed(&d));
    assert_true(d.count >= 1);
    assert_true(d.entries[0].msg[0] != '\0');
}

/* ------------------------------------------------------------ jansson bridge */

static void test_to_jansson(void **state)
{
    (void)state;
    const char *text = "{\"s\": \"h\\u00e9\", \"i\": -7, \"big\": 9223372036854775807,"
                       " \"f\": 2.5, \"e\": 1e2, \"b\": true, \"c\": false, \"n\": null,"
                       " \"a\": [1, [2], {}], \"o\": {\"x\": \"y\", \"z\": []}}";
    gw_json_doc *doc = parse_ok(text);
    json_t *j = gw_json_to_jansson(gw_json_root(doc));
    assert_non_null(j);
    json_error_t jerr;
    json_t *want = json_loads(text, 0, &jerr);
    assert_non_null(want);
    assert_true(json_equal(j, want));
    assert_true(json_is_integer(json_object_get(j, "i")));
    assert_int_equal(json_integer_value(json_object_get(j, "i")), -7);
    assert_true(json_is_integer(json_object_get(j, "big")));
    assert_int_equal(json_integer_value(json_object_get(j, "big")), INT64_MAX);
    assert_true(json_is_real(json_object_get(j, "f")));
    assert_float_equal(json_real_value(json_object_get(j, "f")), 2.5, 0.0);
    assert_float_equal(json_number_value(json_object_get(j, "e")), 100.0, 0.0);
    assert_string_equal(json_string_value(json_object_get(j, "s")), "h\xC3\xA9");
    assert_true(json_is_true(json_object_get(j, "b")));
    assert_true(json_is_false(json_object_get(j, "c")));
    assert_true(json_is_null(json_object_get(j, "n")));
    assert_int_equal(json_array_size(json_object_get(j, "a")), 3);
    json_decref(want);
    json_decref(j);

    /* a scalar and a sub-tree convert on their own */
    const gw_json *o = gw_json_get(gw_json_root(doc), "o");
    j = gw_json_to_jansson(o);
    assert_non_null(j);
    assert_true(json_is_object(j));
    assert_string_equal(json_string_value(json_object_get(j, "x")), "y");
    json_decref(j);
    gw_json_doc_free(doc);
}

/* ------------------------------------------------------------ schema checks */

static const gw_field fields[] = {
    {"name", GW_KINDS_STRING, true, false, false, 0, 0, "a machine name"},
    {"port", GW_KINDS_NUMBER, true, true, true, 1, 65535, "a port number"},
    {"debug", GW_KINDS_BOOL, false, false, false, 0, 0, NULL},
    {"ratio", GW_KINDS_NUMBER, false, false, true, -1.5, 1.5, NULL},
    {"tags", GW_KINDS_ARRAY | GW_KINDS_OBJECT, false, false, false, 0, 0, NULL},
    {"extra", GW_KINDS_ANY, false, false, false, 0, 0, NULL},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

typedef struct {
    gw_json_doc *doc;
    gw_diag d;
    bool ok;
} schema_run;

static void run_schema(schema_run *r, const char *text, gw_unknown_policy pol)
{
    r->doc = parse_ok(text);
    gw_diag_init(&r->d, "s.json");
    r->ok = gw_schema_check(&r->d, gw_json_root(r->doc), fields, NFIELDS, pol,
                            "machine \"rig\"");
}

static const gw_diag_entry *find_entry(const gw_diag *d, uint32_t line, uint32_t col,
                                       bool warning, const char *mention)
{
    for (size_t i = 0; i < d->count; i++) {
        const gw_diag_entry *e = &d->entries[i];
        if (loc_is(e->loc, line, col) && e->warning == warning && contains(e->msg, mention))
            return e;
    }
    print_error("no %s at %u:%u mentioning \"%s\"; entries:\n", warning ? "warning" : "error",
                line, col, mention ? mention : "");
    gw_diag_print(d, stderr);
    return NULL;
}

static void test_schema_valid(void **state)
{
    (void)state;
    schema_run r;
    run_schema(&r, "{\"name\": \"rig\", \"port\": 102, \"debug\": false, \"ratio\": -1.5,"
                   " \"tags\": [], \"extra\": null}", GW_UNKNOWN_ERROR);
    assert_true(r.ok);
    assert_int_equal(r.d.errors, 0);
    assert_int_equal(r.d.count, 0);
    gw_json_doc_free(r.doc);

    /* inclusive bounds; tags may be an object too */
    run_schema(&r, "{\"name\": \"a\", \"port\": 65535, \"ratio\": 1.5, \"tags\": {}}",
               GW_UNKNOWN_ERROR);
    assert_true(r.ok);
    assert_int_equal(r.d.count, 0);
    gw_json_doc_free(r.doc);
    run_schema(&r, "{\"name\": \"a\", \"port\": 1}", GW_UNKNOWN_ERROR);
    assert_true(r.ok);
    gw_json_doc_free(r.doc);
}

static void test_schema_errors(void **state)
{
    (void)state;
    struct {
        const char *text;
        uint32_t line, col;
        const char *mention;
    } cases[] = {
        /* wrong kind: at the value */
        {"{\"name\": 5, \"port\": 80}", 1, 10, "name"},
        {"{\"name\": \"a\", \"port\": \"80\"}", 1, 23, "port"},
        {"{\"name\": \"a\", \"port\": 80, \"debug\": 1}", 1, 36, "debug"},
        {"{\"name\": \"a\", \"port\": 80, \"tags\": \"x\"}", 1, 35, "tags"},
        /* missing required: at the object */
        {"{\"name\": \"a\"}", 1, 1, "port"},
        {"\n  {\"port\": 80}", 2, 3, "name"},
        /* integer */
        {"{\"name\": \"a\", \"port\": 80.5}", 1, 23, "port"},
        {"{\"name\": \"a\", \"port\": 8e1}", 1, 23, "port"},
        /* range, both ends */
        {"{\"name\": \"a\", \"port\": 70000}", 1, 23, "70000"},
        {"{\"name\": \"a\", \"port\": 0}", 1, 23, "port"},
        {"{\"name\": \"a\", \"port\": -1}", 1, 23, "port"},
        {"{\"name\": \"a\", \"port\": 1, \"ratio\": 1.5000001}", 1, 35, "ratio"},
        /* unknown member under GW_UNKNOWN_ERROR: at the key */
        {"{\"name\": \"a\", \"port\": 1, \"colour\": 1}", 1, 26, "colour"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        schema_run r;
        run_schema(&r, cases[i].text, GW_UNKNOWN_ERROR);
        if (r.ok)
            print_error("schema case %zu passed: %s\n", i, cases[i].text);
        assert_false(r.ok);
        assert_true(r.d.errors >= 1);
        const gw_diag_entry *e =
            find_entry(&r.d, cases[i].line, cases[i].col, false, cases[i].mention);
        assert_non_null(e);
        /* the context names the object */
        assert_true(contains(e->msg, "rig"));
        gw_json_doc_free(r.doc);
    }

    /* every problem in one pass */
    schema_run r;
    run_schema(&r, "{\"name\": 1,\n \"port\": 0.5,\n \"debug\": \"no\",\n \"bogus\": 1}",
               GW_UNKNOWN_ERROR);
    assert_false(r.ok);
    assert_true(r.d.errors >= 4);
    assert_non_null(find_entry(&r.d, 1, 10, false, "name"));
    assert_non_null(find_entry(&r.d, 2, 10, false, "port"));
    assert_non_null(find_entry(&r.d, 3, 11, false, "debug"));
    assert_non_null(find_entry(&r.d, 4, 2, false, "bogus"));
    gw_json_doc_free(r.doc);

    /* not an object at all */
    run_schema(&r, "[1]", GW_UNKNOWN_ALLOW);
    assert_false(r.ok);
    assert_true(r.d.errors >= 1);
    assert_int_equal(r.d.entries[0].loc.line, 1);
    assert_int_equal(r.d.entries[0].loc.col, 1);
    gw_json_doc_free(r.doc);
}

static void test_schema_unknown_policy(void **state)
{
    (void)state;
    const char *text = "{\"name\": \"a\", \"port\": 1, \"colour\": 1}";
    schema_run r;
    /* warn: one warning, no error */
    run_schema(&r, text, GW_UNKNOWN_WARN);
    assert_true(r.ok);
    assert_int_equal(r.d.errors, 0);
    assert_int_equal(r.d.count, 1);
    assert_non_null(find_entry(&r.d, 1, 26, true, "colour"));
    assert_false(gw_diag_failed(&r.d));
    gw_json_doc_free(r.doc);
    /* allow: silent */
    run_schema(&r, text, GW_UNKNOWN_ALLOW);
    assert_true(r.ok);
    assert_int_equal(r.d.count, 0);
    gw_json_doc_free(r.doc);
}

static bool says_did_you_mean(const gw_diag_entry *e, const char *name)
{
    char all[sizeof(e->msg) + sizeof(e->hint) + 2];
    snprintf(all, sizeof(all), "%s %s", e->msg, e->hint);
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "\"%s\"", name);
    return contains(all, "did you mean") && contains(all, quoted);
}

static void test_schema_case_near_miss(void **state)
{
    (void)state;
    const char *text = "{\"name\": \"a\", \"port\": 1, \"Debug\": true}";
    const gw_unknown_policy pols[] = {GW_UNKNOWN_ALLOW, GW_UNKNOWN_WARN, GW_UNKNOWN_ERROR};
    for (size_t i = 0; i < 3; i++) {
        schema_run r;
        run_schema(&r, text, pols[i]);
        bool is_err = pols[i] == GW_UNKNOWN_ERROR;
        /* reported under every policy, as an error only under ERROR */
        assert_int_equal(r.ok, !is_err);
        assert_int_equal(r.d.count, 1);
        const gw_diag_entry *e = &r.d.entries[0];
        assert_loc(e->loc, 1, 26);
        assert_int_equal(e->warning, !is_err);
        if (!says_did_you_mean(e, "debug"))
            print_error("no did-you-mean: msg \"%s\" hint \"%s\"\n", e->msg, e->hint);
        assert_true(says_did_you_mean(e, "debug"));
        gw_json_doc_free(r.doc);
    }
    /* an upper-case version of a required member: the required one is still missing */
    schema_run r;
    run_schema(&r, "{\"name\": \"a\", \"PORT\": 1}", GW_UNKNOWN_ALLOW);
    assert_false(r.ok);
    assert_non_null(find_entry(&r.d, 1, 1, false, "port"));
    bool hinted = false;
    for (size_t i = 0; i < r.d.count; i++)
        if (loc_is(r.d.entries[i].loc, 1, 15) && says_did_you_mean(&r.d.entries[i], "port"))
            hinted = true;
    assert_true(hinted);
    gw_json_doc_free(r.doc);
}

/* ------------------------------------------------------------ diagnostics */

static void test_diag_limits(void **state)
{
    (void)state;
    gw_diag d;
    gw_diag_init(&d, "many.json");
    assert_string_equal(d.file, "many.json");
    assert_false(gw_diag_failed(&d));
    gw_diag_warn(&d, (gw_loc){1, 1}, "a warning %d", 1);
    assert_false(gw_diag_failed(&d));
    for (int i = 0; i < GW_DIAG_MAX + 5; i++)
        gw_diag_error(&d, (gw_loc){(uint32_t)i + 2, 3}, "error %d", i);
    assert_int_equal(d.count, GW_DIAG_MAX);
    assert_int_equal(d.dropped, 6);
    assert_int_equal(d.errors, GW_DIAG_MAX + 5);
    assert_true(gw_diag_failed(&d));
    char buf[300];
    gw_diag_first(&d, buf, sizeof(buf));
    /* the first error, not the warning before it */
    assert_string_equal(buf, "many.json:2:3: error 0");

    gw_diag_init(&d, "h.json");
    gw_diag_error(&d, (gw_loc){4, 7}, "bad \"%s\"", "x");
    gw_diag_hint(&d, "try %s", "y");
    assert_string_equal(d.entries[0].msg, "bad \"x\"");
    assert_string_equal(d.entries[0].hint, "try y");
    assert_int_equal(d.entries[0].loc.line, 4);
    assert_int_equal(d.entries[0].loc.col, 7);
    assert_false(d.entries[0].warning);
    char *out = NULL;
    size_t outlen = 0;
    FILE *mem = open_memstream(&out, &outlen);
    assert_non_null(mem);
    gw_diag_print(&d, mem);
    fclose(mem);
    assert_non_null(strstr(out, "h.json:4:7: error: bad \"x\""));
    assert_non_null(strstr(out, "hint: try y"));
    free(out);
}

/* gw_json_dumps: jansson's text, with every real exact and shortest. */
static void test_dumps_exact(void **state)
{
    (void)state;
    struct {
        double d;
        const char *want;
    } reals[] = {
        {68.4, "68.4"}, {0.1, "0.1"}, {(double)0.1f, "0.10000000149011612"},
        {-0.333251953125, "-0.333251953125"}, {24.0, "24.0"}, {1e300, "1e+300"},
        {0.1 + 0.2, "0.30000000000000004"}, {-0.0, "-0.0"}, {5e-324, "4.94065645841247e-324"},
    };
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        json_t *r = json_real(reals[i].d);
        char *s = gw_json_dumps(r, 0);
        assert_string_equal(s, reals[i].want);
        assert_true(strtod(s, NULL) == reals[i].d); /* reads back the same */
        gw_free(s);
        json_decref(r);
    }
    json_t *j = json_pack("{s:s, s:i, s:b, s:n, s:[s, f], s:{}}", "t", "a\"\\\n\x01\xc3\xa9/",
                          "i", -5, "b", 1, "n", "a", "x", 2.5, "o");
    char *s = gw_json_dumps(j, 0);
    assert_string_equal(s, "{\"t\":\"a\\\"\\\\\\n\\u0001\xc3\xa9/\",\"i\":-5,\"b\":true,"
                           "\"n\":null,\"a\":[\"x\",2.5],\"o\":{}}");
    /* the same as jansson's where jansson is exact */
    char *ref = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, ref);
    free(ref);
    gw_free(s);
    s = gw_json_dumps(j, 2);
    ref = json_dumps(j, JSON_INDENT(2));
    assert_string_equal(s, ref);
    free(ref);
    gw_free(s);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_document),
        cmocka_unit_test(test_scalar_roots),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_int_accessors),
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_syntax_error_single_entry),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_to_jansson),
        cmocka_unit_test(test_schema_valid),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_schema_unknown_policy),
        cmocka_unit_test(test_schema_case_near_miss),
        cmocka_unit_test(test_diag_limits),
        cmocka_unit_test(test_dumps_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
