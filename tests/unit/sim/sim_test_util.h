/*
 * sim_test_util.h - helpers shared by the simulator's unit tests: a
 * simulator with the repository's devices on free ports, our own S7 and
 * Modbus clients against its front-ends, a log in a temporary file, and a
 * minimal HTTP client for the control API.
 *
 * Every wait has a deadline. Include after <cmocka.h>.
 */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sim/sim_internal.h"

#define RING_MAP GW_SOURCE_DIR "/config/s7/ringstiff.json"
#define WM_MAP GW_SOURCE_DIR "/config/modbus/watermaker.json"

static inline void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------ log file */

/* A gw_log writing to a temporary file that the test reads back. */
typedef struct {
    char path[64];
    FILE *f;
    gw_log *log;
} test_log;

static inline void test_log_open(test_log *l)
{
    snprintf(l->path, sizeof(l->path), "/tmp/gw_sim_test_XXXXXX");
    int fd = mkstemp(l->path);
    assert_true(fd >= 0);
    l->f = fdopen(fd, "w");
    assert_non_null(l->f);
    l->log = gw_log_new(l->f, GW_LOG_DEBUG);
    assert_non_null(l->log);
}

/* The whole log so far (free it). */
static inline char *test_log_text(test_log *l)
{
    fflush(l->f);
    char *text = NULL;
    size_t len = 0;
    gw_error err;
    assert_int_equal(gw_file_read(l->path, 16u << 20, &text, &len, &err), GW_OK);
    return text;
}

/* GCC 12 at -O2 takes the buffer test_log_text returns for the address of
 * its local variable once both are inlined (-Wdangling-pointer false
 * positive); the buffer is heap memory that the caller frees. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
static inline size_t count_substr(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

static inline void test_log_close(test_log *l)
{
    gw_log_free(l->log);
    fclose(l->f);
    unlink(l->path);
}

/* ------------------------------------------------------------ simulator */

typedef struct {
    test_log log;
    gw_sim *sim;
    gw_sim_control *ctl;
    uint16_t s7_port, mb_port, ctl_port;
} simfx;

/* A started simulator: a ringstiff "rig" (S7) and/or a watermaker "wm"
 * (Modbus), on free ports of 127.0.0.1; the control API when asked. */
static inline simfx *simfx_up(double scale, size_t queue_bytes, bool rig, bool wm, bool control)
{
    simfx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    test_log_open(&f->log);
    gw_sim_opts o = {.log = f->log.log, .time_scale = scale, .queue_bytes = queue_bytes};
    assert_int_equal(gw_sim_new(&o, &f->sim), GW_OK);
    gw_sim_frontend_address(f->sim, GW_DRIVER_S7, "127.0.0.1", 0);
    gw_sim_frontend_address(f->sim, GW_DRIVER_MODBUS, "127.0.0.1", 0);
    gw_error err;
    gw_error_clear(&err);
    if (rig) {
        gw_err rc = gw_sim_add_device(f->sim, "ringstiff", "rig", RING_MAP, &err);
        if (rc != GW_OK)
            print_error("add rig: %s\n", err.msg);
        assert_int_equal(rc, GW_OK);
    }
    if (wm) {
        gw_err rc = gw_sim_add_device(f->sim, "watermaker", "wm", WM_MAP, &err);
        if (rc != GW_OK)
            print_error("add wm: %s\n", err.msg);
        assert_int_equal(rc, GW_OK);
    }
    gw_err rc = gw_sim_start(f->sim, &err);
    if (rc != GW_OK)
        print_error("start: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    if (rig) {
        assert_non_null(gw_sim_frontend(f->sim, GW_DRIVER_S7));
        f->s7_port = gw_tcpsrv_port(gw_sim_frontend(f->sim, GW_DRIVER_S7));
        assert_int_not_equal(f->s7_port, 0);
    }
    if (wm) {
        assert_non_null(gw_sim_frontend(f->sim, GW_DRIVER_MODBUS));
        f->mb_port = gw_tcpsrv_port(gw_sim_frontend(f->sim, GW_DRIVER_MODBUS));
        assert_int_not_equal(f->mb_port, 0);
    }
    if (control) {
        rc = gw_sim_control_start(f->sim, "127.0.0.1", 0, &f->ctl, &err);
        if (rc != GW_OK)
            print_error("control: %s\n", err.msg);
        assert_int_equal(rc, GW_OK);
        f->ctl_port = gw_sim_control_port(f->ctl);
        assert_int_not_equal(f->ctl_port, 0);
    }
    return f;
}

static inline void simfx_down(simfx *f)
{
    if (!f)
        return;
    gw_sim_control_stop(f->ctl);
    gw_sim_free(f->sim);
    test_log_close(&f->log);
    free(f);
}

static inline gw_sim_device *dev(simfx *f, const char *name)
{
    gw_sim_device *d = gw_sim_device_find(f->sim, name);
    assert_non_null(d);
    return d;
}

/* ------------------------------------------------------------ S7 client */

static inline gw_s7_client *s7_new(uint16_t port, uint32_t recv_ms)
{
    gw_s7_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = port;
    o.rack = 0;
    o.slot = 1;
    o.connect_timeout_ms = 1000;
    o.send_timeout_ms = 1000;
    o.recv_timeout_ms = recv_ms;
    gw_s7_client *c = NULL;
    assert_int_equal(gw_s7_client_new(&o, &c), GW_OK);
    return c;
}

static inline gw_s7_client *s7_up(uint16_t port, uint32_t recv_ms)
{
    gw_s7_client *c = s7_new(port, recv_ms);
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_s7_connect(c, &err);
    if (rc != GW_OK)
        print_error("s7 connect: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    return c;
}

/* Reads len bytes of a DB; returns the call's result (the range's when the
 * call worked). */
static inline gw_err s7_read_db(gw_s7_client *c, uint16_t db, uint32_t start, uint32_t len,
                                uint8_t *out, gw_error *err)
{
    gw_s7_range r;
    memset(&r, 0, sizeof(r));
    r.area = GW_S7_DB;
    r.db = db;
    r.start = start;
    r.len = len;
    r.dst = out;
    gw_err rc = gw_s7_read(c, &r, 1, err);
    return rc != GW_OK ? rc : r.result;
}

static inline gw_err s7_write_db(gw_s7_client *c, uint16_t db, uint32_t start, uint32_t len,
                                 const uint8_t *src, gw_error *err)
{
    gw_s7_range r;
    memset(&r, 0, sizeof(r));
    r.area = GW_S7_DB;
    r.db = db;
    r.start = start;
    r.len = len;
    r.src = src;
    gw_err rc = gw_s7_write(c, &r, 1, err);
    return rc != GW_OK ? rc : r.result;
}

static inline gw_err s7_write_bit(gw_s7_client *c, uint16_t db, uint32_t byte, uint8_t bit,
                                  bool value, gw_error *err)
{
    uint8_t v = value ? 1 : 0;
    gw_s7_range r;
    memset(&r, 0, sizeof(r));
    r.area = GW_S7_DB;
    r.db = db;
    r.start = byte;
    r.len = 1;
    r.is_bit = true;
    r.bit = bit;
    r.src = &v;
    gw_err rc = gw_s7_write(c, &r, 1, err);
    return rc != GW_OK ? rc : r.result;
}

static inline float be_real(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline void put_be_real(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
}

/* ------------------------------------------------------------ Modbus client */

static inline gw_mb_client *mb_new(uint16_t port, uint32_t resp_ms)
{
    gw_mb_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = port;
    o.unit = 1;
    o.connect_timeout_ms = 1000;
    o.response_timeout_ms = resp_ms;
    o.byte_timeout_ms = resp_ms;
    gw_mb_client *c = NULL;
    assert_int_equal(gw_mb_client_new(&o, &c), GW_OK);
    return c;
}

static inline gw_mb_client *mb_up(uint16_t port, uint32_t resp_ms)
{
    gw_mb_client *c = mb_new(port, resp_ms);
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_mb_connect(c, &err);
    if (rc != GW_OK)
        print_error("modbus connect: %s\n", err.msg);
    assert_int_equal(rc, GW_OK);
    return c;
}

static inline gw_tagmap *load_map(const char *path)
{
    gw_tagmap *m = NULL;
    gw_diag d;
    assert_int_equal(gw_tagmap_load_file(path, &m, &d), GW_OK);
    return m;
}

static inline size_t tag_index(const gw_tagmap *m, const char *parameter)
{
    for (size_t i = 0; i < gw_tagmap_count(m); i++)
        if (strcmp(gw_tagmap_at(m, i)->parameter, parameter) == 0)
            return i;
    fail_msg("no tag \"%s\"", parameter);
    return 0;
}

/* Reads one tag of `m` with a one-tag plan: one request on the wire. */
static inline gw_err mb_read_tag(gw_mb_client *c, const gw_tagmap *m, const char *parameter,
                                 double *out, gw_error *err)
{
    size_t i = tag_index(m, parameter);
    const gw_tag *t = gw_tagmap_at(m, i);
    /* a map of that one tag, so that the plan is a single request */
    char scale[96] = "", text[512];
    if (t->scaled)
        snprintf(scale, sizeof(scale), ", \"multiplier\": %.17g, \"offset\": %.17g",
                 t->multiplier, t->offset);
    snprintf(text, sizeof(text),
             "{\"endianness\": {\"byteorder\": \"%c\", \"wordorder\": \"%c\"}, \"mapping\": "
             "{\"%s\": {\"parameter\": \"x\", \"function\": \"%s\"%s}}}",
             (char)gw_tagmap_byteorder(m), (char)gw_tagmap_wordorder(m), t->key,
             gw_type_name(t->type, GW_DRIVER_MODBUS), scale);
    gw_tagmap *one = NULL;
    gw_diag d;
    assert_int_equal(gw_tagmap_load_buf("one", text, strlen(text), &one, &d), GW_OK);
    gw_mb_plan *p = NULL;
    assert_int_equal(gw_mb_plan_new(one, NULL, &p), GW_OK);
    assert_int_equal(gw_mb_plan_requests(p), 1);
    gw_mb_readout *r = NULL;
    assert_int_equal(gw_mb_readout_new(p, &r), GW_OK);
    gw_err rc = gw_mb_read_plan(c, p, r, err);
    if (rc == GW_OK) {
        gw_value v;
        rc = gw_mb_readout_value(p, r, 0, &v, err);
        if (rc == GW_OK) {
            *out = gw_value_as_double(&v);
            gw_value_clear(&v);
        }
    }
    gw_mb_readout_free(r);
    gw_mb_plan_free(p);
    gw_tagmap_free(one);
    return rc;
}

/* Writes a JSON value to a tag as a client does (checked, then sent). */
static inline gw_err mb_write_json(gw_mb_client *c, const gw_tagmap *m, const char *parameter,
                                   json_t *value, gw_error *err)
{
    const gw_tag *t = gw_tagmap_find(m, parameter);
    assert_non_null(t);
    gw_write w;
    gw_err rc = gw_tag_prepare_write(m, t, value, &w, err);
    json_decref(value);
    if (rc != GW_OK)
        return rc;
    return gw_mb_write(c, &w, err);
}

/* ------------------------------------------------------------ HTTP */

typedef struct {
    int status;
    char ctype[128];
    char *body;       /* free() */
    json_t *json;     /* NULL when the body is not JSON */
} http_reply;

static inline void http_reply_free(http_reply *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* One request with Connection: close; the whole answer within 5 s. */
static inline http_reply http(uint16_t port, const char *method, const char *path,
                              const char *body)
{
    http_reply r;
    memset(&r, 0, sizeof(r));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char head[2048];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     method, path, body ? strlen(body) : 0);
    assert_true(n > 0 && (size_t)n < sizeof(head));
    assert_int_equal(send(fd, head, (size_t)n, MSG_NOSIGNAL), n);
    if (body && *body)
        assert_int_equal(send(fd, body, strlen(body), MSG_NOSIGNAL), (ssize_t)strlen(body));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    uint64_t deadline = gw_mono_ms() + 5000;
    for (;;) {
        uint64_t now = gw_mono_ms();
        assert_true(now < deadline);
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)(deadline - now));
        assert_true(pr >= 0);
        if (pr == 0)
            continue;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        ssize_t got = recv(fd, buf + len, cap - len, 0);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    assert_true(sscanf(buf, "HTTP/1.%*d %d", &r.status) == 1);
    char *end = strstr(buf, "\r\n\r\n");
    assert_non_null(end);
    *end = '\0';
    for (char *line = strstr(buf, "\r\n"); line; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, "Content-Type:", 13) == 0) {
            const char *v = line + 15;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t k = strcspn(v, "\r\n");
            snprintf(r.ctype, sizeof(r.ctype), "%.*s", (int)k, v);
        }
    r.body = strdup(end + 4);
    free(buf);
    r.json = json_loads(r.body, JSON_DECODE_ANY, NULL);
    return r;
}

/* A request that must answer `status`; returns the reply. */
static inline http_reply http_expect(uint16_t port, const char *method, const char *path,
                                     const char *body, int status)
{
    http_reply r = http(port, method, path, body);
    if (r.status != status)
        print_error("%s %s %s: status %d, want %d: %s\n", method, path, body ? body : "",
                    r.status, status, r.body);
    assert_int_equal(r.status, status);
    if (status >= 400) {
        /* errors are problem+json with the status and a detail */
        assert_string_equal(r.ctype, "application/problem+json");
        assert_non_null(r.json);
        assert_int_equal(json_integer_value(json_object_get(r.json, "status")), status);
        assert_non_null(json_string_value(json_object_get(r.json, "detail")));
    } else {
        assert_non_null(r.json);
    }
    return r;
}

#endif
