/*
 * test_parse.c - the HTTP request codec and the WebSocket frame codec:
 * what RFC 9112 and RFC 6455 require a server to accept and to refuse.
 */
#include "http/http.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

static long head(const char *s, gw_http_head *h, int *status)
{
    const char *detail = NULL;
    *status = 0;
    return gw_http_parse_head(s, strlen(s), 8192, h, status, &detail);
}

static void test_head_ok(void **state)
{
    (void)state;
    gw_http_head h;
    int st;
    const char *req = "POST /api/parameters?x=1 HTTP/1.1\r\nHost: a:1\r\nContent-Length:  12 \r\n"
                      "Connection: keep-alive, Upgrade\r\nUpgrade: WebSocket\r\n\r\nbody";
    long n = head(req, &h, &st);
    assert_int_equal(n, (long)strlen(req) - 4);
    assert_int_equal(h.method_len, 4);
    assert_memory_equal(h.method, "POST", 4);
    assert_int_equal(h.target_len, strlen("/api/parameters?x=1"));
    assert_int_equal(h.minor, 1);
    assert_int_equal(h.content_length, 12);
    assert_true(h.keep_alive);
    assert_true(h.upgrade);
    assert_int_equal(h.nfields, 4);
    assert_int_equal(h.fields[1].value_len, 2); /* whitespace trimmed */
    /* a lone LF ends a line too (RFC 9112 section 2.2); leading empty lines go */
    assert_true(head("\r\nGET / HTTP/1.0\n\n", &h, &st) > 0);
    assert_false(h.keep_alive);
    assert_true(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h, &st) > 0);
    assert_true(h.keep_alive);
    assert_true(head("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &h, &st) > 0);
    assert_false(h.keep_alive);
    /* incomplete: more is needed */
    assert_int_equal(head("GET / HTTP/1.1\r\nHost: x\r\n", &h, &st), 0);
    assert_int_equal(head("GET / HT", &h, &st), 0);
}

static void refused(const char *req, int want)
{
    gw_http_head h;
    int st;
    long n = head(req, &h, &st);
    if (n != -1 || st != want)
        fail_msg("%s: got %ld, status %d; want %d", req, n, st, want);
}

static void test_head_refused(void **state)
{
    (void)state;
    refused("GET / HTTP/1.1\r\n\r\n", 400);                              /* no Host */
    refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);        /* two */
    refused("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            400);
    refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
            "Transfer-Encoding: chunked\r\n\r\n", 501);
    refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400);     /* obs-fold */
    refused("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);                  /* space before colon */
    refused("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400);             /* bare CR */
    refused("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400);
    refused("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    refused("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400);
    refused("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    refused("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);            /* raw non-ASCII */
    refused("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417);
    gw_http_head h;
    int st;
    const char *detail;
    char big[9000];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    assert_int_equal(gw_http_parse_head(big, sizeof(big), 8192, &h, &st, &detail), -1);
    assert_int_equal(st, 431);
    /* more than 64 header lines */
    gw_buf b;
    gw_buf_init(&b);
    gw_buf_puts(&b, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 70; i++)
        gw_buf_printf(&b, "X-%d: y\r\n", i);
    gw_buf_puts(&b, "\r\n");
    refused(gw_buf_cstr(&b), 431);
    gw_buf_clear(&b);
}

static int target(const char *t, bool options, char *path, const char **q)
{
    const char *detail = NULL;
    size_t ql;
    return gw_http_parse_target(t, strlen(t), options, path, 256, q, &ql, &detail);
}

static void test_target(void **state)
{
    (void)state;
    char path[256];
    const char *q;
    assert_int_equal(target("/api/machines/rig?x=%41", false, path, &q), 0);
    assert_string_equal(path, "/api/machines/rig");
    assert_string_equal(q, "x=%41");
    assert_int_equal(target("/a%20b/%C3%A9", false, path, &q), 0);
    assert_string_equal(path, "/a b/\xc3\xa9");
    assert_int_equal(target("http://127.0.0.1:8000/api/health?x", false, path, &q), 0);
    assert_string_equal(path, "/api/health");
    assert_int_equal(target("HTTP://h", false, path, &q), 0);
    assert_string_equal(path, "/");
    assert_int_equal(target("*", true, path, &q), 0);
    assert_string_equal(path, "*");
    assert_int_equal(target("*", false, path, &q), 400);
    assert_int_equal(target("/api/machines/rig%00/tags", false, path, &q), 400);
    assert_int_equal(target("/api/machines/%ff", false, path, &q), 400);
    assert_int_equal(target("/api/machines/%c3%28", false, path, &q), 400);
    assert_int_equal(target("/api/machines/%ed%a0%80", false, path, &q), 400); /* surrogate */
    assert_int_equal(target("/api/machines/%c0%af", false, path, &q), 400);    /* overlong */
    assert_int_equal(target("/a%2", false, path, &q), 400);
    assert_int_equal(target("/a%zz", false, path, &q), 400);
    assert_int_equal(target("/a/../etc", false, path, &q), 400);
    assert_int_equal(target("/a/%2e%2E/etc", false, path, &q), 400);
    assert_int_equal(target("/a/./b", false, path, &q), 400);
    assert_int_equal(target("/a%0a", false, path, &q), 400);
    assert_int_equal(target("/a#frag", false, path, &q), 400);
    assert_int_equal(target("example.com:443", false, path, &q), 400);
    assert_int_equal(target("http:///x", false, path, &q), 400);
    char longp[400];
    memset(longp, 'a', sizeof(longp));
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(target(longp, false, path, &q), 414);
}

static void test_query(void **state)
{
    (void)state;
    char v[16];
    assert_int_equal(gw_http_query_param("EIO=4&transport=polling&sid=a%2Bb+c", "sid", v,
                                         sizeof(v)), 1);
    assert_string_equal(v, "a+b c");
    assert_int_equal(gw_http_query_param("EIO=4", "sid", v, sizeof(v)), 0);
    assert_int_equal(gw_http_query_param("sid=0123456789abcdefgh", "sid", v, sizeof(v)), -1);
    assert_int_equal(gw_http_query_param("sid=%00", "sid", v, sizeof(v)), -2);
    assert_int_equal(gw_http_query_param("sid=%ff", "sid", v, sizeof(v)), -2);
    assert_int_equal(gw_http_query_param("sid=", "sid", v, sizeof(v)), 1);
    assert_string_equal(v, "");
    assert_int_equal(gw_http_query_param("sid", "sid", v, sizeof(v)), 1);
    assert_int_equal(gw_http_query_param("", "sid", v, sizeof(v)), 0);
}

static long chunked(const char *in, char *out, size_t *out_len, size_t cap, bool *done, int *st)
{
    gw_http_chunked c;
    memset(&c, 0, sizeof(c));
    const char *detail;
    *out_len = 0;
    return gw_http_chunked_feed(&c, in, strlen(in), out, out_len, cap, done, st, &detail);
}

static void test_chunked(void **state)
{
    (void)state;
    char out[64];
    size_t n;
    bool done;
    int st;
    const char *in = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX: y\r\n\r\nNEXT";
    assert_int_equal(chunked(in, out, &n, sizeof(out), &done, &st), (long)strlen(in) - 4);
    assert_true(done);
    assert_int_equal(n, 23);
    assert_memory_equal(out, "Wikipedia in\r\n\r\nchunks.", 23);
    /* byte by byte */
    gw_http_chunked c;
    memset(&c, 0, sizeof(c));
    const char *detail;
    n = 0;
    for (size_t i = 0; i < strlen(in) - 4; i++) {
        assert_int_equal(gw_http_chunked_feed(&c, in + i, 1, out, &n, sizeof(out), &done, &st,
                                              &detail), 1);
        assert_true(done == (i == strlen(in) - 5));
    }
    assert_int_equal(n, 23);
    assert_int_equal(chunked("5\r\nab", out, &n, sizeof(out), &done, &st), 5);
    assert_false(done);
    assert_int_equal(chunked("zz\r\n", out, &n, sizeof(out), &done, &st), -1);
    assert_int_equal(st, 400);
    assert_int_equal(chunked("\r\n", out, &n, sizeof(out), &done, &st), -1);
    assert_int_equal(chunked("3\r\nabcd\r\n", out, &n, sizeof(out), &done, &st), -1);
    assert_int_equal(chunked("100\r\n", out, &n, sizeof(out), &done, &st), -1);
    assert_int_equal(st, 413);
    assert_int_equal(chunked("ffffffffffffffffff\r\n", out, &n, sizeof(out), &done, &st), -1);
    assert_int_equal(st, 413);
}

/* A masked client frame. */
static size_t client_frame(uint8_t *out, uint8_t b0, const char *payload, size_t len)
{
    size_t h = gw_ws_frame_header(out, true, 0, len);
    out[0] = b0;
    out[1] |= 0x80;
    const uint8_t mask[4] = {1, 2, 3, 4};
    memcpy(out + h, mask, 4);
    for (size_t i = 0; i < len; i++)
        out[h + 4 + i] = (uint8_t)payload[i] ^ mask[i & 3];
    return h + 4 + len;
}

static void test_ws_frames(void **state)
{
    (void)state;
    uint8_t buf[300];
    gw_ws_frame f;
    uint16_t code;
    const char *detail;
    size_t n = client_frame(buf, 0x81, "hello", 5);
    assert_int_equal(gw_ws_parse_frame(buf, n, 100, &f, &code, &detail), 6);
    assert_true(f.fin);
    assert_int_equal(f.opcode, GW_WS_TEXT);
    assert_int_equal(f.len, 5);
    gw_ws_unmask(buf + 6, 5, f.mask, 0);
    assert_memory_equal(buf + 6, "hello", 5);
    assert_int_equal(gw_ws_parse_frame(buf, 1, 100, &f, &code, &detail), 0);
    assert_int_equal(gw_ws_parse_frame(buf, 5, 100, &f, &code, &detail), 0);
    /* unmasked */
    n = client_frame(buf, 0x81, "x", 1);
    buf[1] &= 0x7F;
    assert_int_equal(gw_ws_parse_frame(buf, n, 100, &f, &code, &detail), -1);
    assert_int_equal(code, 1002);
    /* RSV bits */
    n = client_frame(buf, 0xC1, "x", 1);
    assert_int_equal(gw_ws_parse_frame(buf, n, 100, &f, &code, &detail), -1);
    assert_int_equal(code, 1002);
    /* reserved opcodes */
    n = client_frame(buf, 0x83, "x", 1);
    assert_int_equal(gw_ws_parse_frame(buf, n, 100, &f, &code, &detail), -1);
    n = client_frame(buf, 0x8B, "x", 1);
    assert_int_equal(gw_ws_parse_frame(buf, n, 100, &f, &code, &detail), -1);
    /* a fragmented ping, a ping over 125 bytes */
    n = client_frame(buf, 0x09, "x", 1);
    assert_int_equal(gw_ws_parse_frame(buf, n, 100, &f, &code, &detail), -1);
    char big[200];
    memset(big, 'a', sizeof(big));
    n = client_frame(buf, 0x89, big, 126);
    assert_int_equal(gw_ws_parse_frame(buf, n, 1000, &f, &code, &detail), -1);
    assert_int_equal(code, 1002);
    /* over the limit: refused from the header alone, with 1009 */
    uint8_t hdr[14] = {0x82, 0xFF, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 2, 3, 4}; /* 256 MiB */
    assert_int_equal(gw_ws_parse_frame(hdr, 2, 65536, &f, &code, &detail), 0);
    assert_int_equal(gw_ws_parse_frame(hdr, sizeof(hdr), 65536, &f, &code, &detail), -1);
    assert_int_equal(code, 1009);
    hdr[2] = 0x80; /* the top bit of a 64-bit length */
    assert_int_equal(gw_ws_parse_frame(hdr, sizeof(hdr), 65536, &f, &code, &detail), -1);
    assert_int_equal(code, 1002);
    /* server headers */
    uint8_t h[10];
    assert_int_equal(gw_ws_frame_header(h, true, GW_WS_TEXT, 125), 2);
    assert_int_equal(gw_ws_frame_header(h, true, GW_WS_TEXT, 126), 4);
    assert_int_equal(h[1], 126);
    assert_int_equal(gw_ws_frame_header(h, true, GW_WS_BINARY, 70000), 10);
    assert_int_equal(h[0], 0x82);
    assert_true(gw_ws_close_code_ok(1000));
    assert_true(gw_ws_close_code_ok(4999));
    assert_false(gw_ws_close_code_ok(1005));
    assert_false(gw_ws_close_code_ok(1006));
    assert_false(gw_ws_close_code_ok(999));
    assert_false(gw_ws_close_code_ok(5000));
}

static void test_accept_key(void **state)
{
    (void)state;
    char out[29];
    /* RFC 6455 section 1.3 */
    assert_true(gw_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out));
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_false(gw_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ", 22, out));
    assert_false(gw_ws_accept_key("!!!!!!!!!!!!!!!!!!!!!!!!", 24, out));
    uint8_t d[20];
    gw_sha1("abc", 3, d);
    assert_memory_equal(d, "\xa9\x99\x3e\x36\x47\x06\x81\x6a\xba\x3e\x25\x71\x78\x50\xc2\x6c"
                           "\x9c\xd0\xd8\x9d", 20);
    /* two blocks of padding */
    const char *s = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    gw_sha1(s, strlen(s), d);
    assert_memory_equal(d, "\x84\x98\x3e\x44\x1c\x3b\xd2\x6e\xba\xae\x4a\xa1\xf9\x51\x29\xe5"
                           "\xe5\x46\x70\xf1", 20);
}

static void test_utf8_and_nesting(void **state)
{
    (void)state;
    assert_true(gw_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
    assert_false(gw_utf8_valid("\xff", 1));
    assert_false(gw_utf8_valid("\xc3\x28", 2));
    assert_false(gw_utf8_valid("\xc3", 1));
    assert_false(gw_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    /* a cut never splits a character */
    assert_int_equal(gw_utf8_prefix("a\xc3\xa9", 3, 2), 1);
    assert_int_equal(gw_utf8_prefix("a\xc3\xa9", 3, 3), 3);
    assert_int_equal(gw_utf8_prefix("ab", 2, 1), 1);
    char out[16];
    gw_utf8_sanitize("a\xff" "b", 3, out, sizeof(out));
    assert_string_equal(out, "a\xef\xbf\xbd" "b");
    char deep[200];
    memset(deep, '[', 65);
    assert_false(gw_json_nesting_ok(deep, 65, 64, NULL));
    assert_true(gw_json_nesting_ok(deep, 64, 64, NULL));
    /* brackets inside strings do not count */
    assert_true(gw_json_nesting_ok("[\"[[[[\\\"[[[\"]", 13, 1, NULL));
    gw_loc at;
    assert_false(gw_json_nesting_ok("{\"a\":\n [[", 9, 2, &at));
    assert_int_equal(at.line, 2);
    assert_int_equal(at.col, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_ok),
        cmocka_unit_test(test_head_refused),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_ws_frames),
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_utf8_and_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
