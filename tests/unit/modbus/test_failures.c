/*
 * test_failures.c - our Modbus client and server when things go wrong:
 * invalid values never reach the wire (the request log proves it, also for
 * plcgw write run as a child process), --unit reaches the wire, device
 * exceptions fail their request only, the write hook sees only writes that
 * were carried out, timeouts, refused connections and garbled answers.
 */
#define _GNU_SOURCE
#include "mb_test_fixture.h"

/* ------------------------------------------------------------ validation */

/* Every bad value is refused before encoding; the wire stays silent. */
static void test_bad_values_write_nothing(void **state)
{
    fx *f = *state;
    char path[1024];
    snprintf(path, sizeof(path), "%s/config/modbus/example.json", GW_SOURCE_DIR);
    gw_diag d;
    gw_diag_init(&d, path);
    gw_tagmap *ex = NULL;
    assert_int_equal(gw_tagmap_load_file(path, &ex, &d), GW_OK);
    gw_tagmap *m = load_text(fc_map);
    static const struct {
        int map; /* 0 example, 1 fc_map */
        const char *param, *json;
        gw_err rc;
        const char *says;
    } bad[] = {
        {0, "Water_Setpoint.SP_r", "60", GW_E_RANGE, "above its maximum 50"},
        {0, "Water_Setpoint.SP_r", "9.9", GW_E_RANGE, "below its minimum 10"},
        {0, "Water_Setpoint.SP_r", "\"warm\"", GW_E_TYPE, "expects a number, got a string"},
        {0, "Water_Setpoint.SP_r", "null", GW_E_TYPE, "got null"},
        {0, "Oil Temp", "1.5", GW_E_ACCESS, "input register (3xxxx) and cannot be written"},
        {0, "UnitOn", "true", GW_E_ACCESS, "discrete input (1xxxx)"},
        {0, "TEST2", "{\"test3\": true}", GW_E_ACCESS, "cannot be written"},
        {1, "w16", "70000", GW_E_RANGE, "outside"},
        {1, "w16", "1.5", GW_E_TYPE, "whole number"},
        {1, "w16", "-1", GW_E_RANGE, "outside"},
        {1, "lo", "256", GW_E_RANGE, "outside"},
        {1, "TEST2", "{\"test9\": true}", GW_E_NOT_FOUND, "\"test9\" is not a name"},
        {1, "TEST2", "{}", GW_E_INVAL, "at least one bit"},
        {1, "TEST2", "[1,0,1,0,1,0,1,0,1]", GW_E_RANGE, "does not fit 8 bits"},
        {1, "wstr", "\"abcdefg\"", GW_E_RANGE, "does not fit"},
        {1, "coil", "2", GW_E_TYPE, "expects true or false"},
        {1, "ir", "1", GW_E_ACCESS, "cannot be written"},
        {1, "di", "false", GW_E_ACCESS, "cannot be written"},
    };
    log_skip(f);
    uint64_t sent = gw_mb_requests_sent(f->cli);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const gw_tagmap *mm = bad[i].map ? m : ex;
        json_error_t je;
        json_t *j = json_loads(bad[i].json, JSON_DECODE_ANY, &je);
        assert_non_null(j);
        gw_write w;
        gw_error err;
        gw_error_clear(&err);
        gw_err rc = gw_tag_prepare_write(mm, tag(mm, bad[i].param), j, &w, &err);
        json_decref(j);
        if (rc != bad[i].rc || !strstr(err.msg, bad[i].says) ||
            !strstr(err.msg, bad[i].param)) {
            print_error("%s = %s: %s \"%s\", expected %s \"%s\"\n", bad[i].param, bad[i].json,
                        gw_err_name(rc), err.msg, gw_err_name(bad[i].rc), bad[i].says);
            fail();
        }
    }
    gw_mb_logged l[4];
    assert_int_equal(log_new(f, l, 4), 0);
    assert_int_equal(gw_mb_requests_sent(f->cli), sent);
    gw_tagmap_free(m);
    gw_tagmap_free(ex);
}

/* Runs argv (argv[0] a path), collecting stdout+stderr; kills it after 10 s. */
static int run_child(char *const argv[], char *out, size_t out_size)
{
    int pfd[2];
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t len = 0;
    uint64_t deadline = gw_mono_ms() + 10000;
    for (;;) {
        uint64_t now = gw_mono_ms();
        if (now >= deadline)
            break;
        struct pollfd p = {pfd[0], POLLIN, 0};
        int rc = poll(&p, 1, (int)(deadline - now));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        ssize_t n = read(pfd[0], out + len, out_size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == out_size - 1)
            break;
    }
    out[len] = 0;
    close(pfd[0]);
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == 0) {
        /* still running after the deadline (or output overflow) */
        uint64_t grace = gw_mono_ms() + 2000;
        while (waitpid(pid, &status, WNOHANG) == 0 && gw_mono_ms() < grace)
            usleep(10000);
        if (waitpid(pid, &status, WNOHANG) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            print_error("child %s killed after the deadline\n", argv[0]);
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * plcgw write, the command a user runs, against this process's server: a
 * payload with any bad value exits 2, says why, and the request log shows
 * that not one request arrived (not even for the good values in it).
 */
static void test_cli_write_validation(void **state)
{
    fx *f = *state;
    char exe[1024], map[1024], port[16], out[8192];
    snprintf(exe, sizeof(exe), "%s/plcgw", GW_BINARY_DIR);
    snprintf(map, sizeof(map), "%s/config/modbus/example.json", GW_SOURCE_DIR);
    snprintf(port, sizeof(port), "%u", f->port);
    struct stat st;
    if (stat(exe, &st) != 0) {
        print_error("%s is not built\n", exe);
        fail();
    }
    static const struct {
        const char *payload, *says;
    } bad[] = {
        {"{\"Water_Setpoint.SP_r\": 20, \"nope\": 1}", "unknown parameter \"nope\""},
        {"{\"Water_Setpoint.SP_r\": 60}", "above its maximum 50"},
        {"{\"Water_Setpoint.SP_r\": \"warm\"}", "expects a number, got a string"},
        {"{\"Oil Temp\": 1.5, \"Water_Setpoint.SP_r\": 20}",
         "input register (3xxxx) and cannot be written"},
        {"{\"UnitOn\": true}", "discrete input (1xxxx)"},
        {"{\"Water_Setpoint.SP_r\": 20, \"TEST2\": {\"test3\": true}}", "cannot be written"},
        {"{}", "at least one parameter"},
        {"{\"Water_Setpoint.SP_r\": ", "--payload:"},
    };
    set_reg(f, GW_MB_HOLDING, 9, 0x1111);
    log_skip(f);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *argv[] = {exe, "write", "--host", "127.0.0.1", "--port", port, "--config", map,
                        "--payload", (char *)bad[i].payload, NULL};
        int rc = run_child(argv, out, sizeof(out));
        if (rc != 2 || !strstr(out, bad[i].says)) {
            print_error("payload %s: exit %d, output:\n%s\n", bad[i].payload, rc, out);
            fail();
        }
        if (bad[i].payload[1] == '"' && bad[i].payload[strlen(bad[i].payload) - 1] == '}')
            assert_non_null(strstr(out, "nothing was written"));
        gw_mb_logged l[4];
        size_t n = log_new(f, l, 4);
        if (n) {
            print_error("payload %s reached the wire:\n", bad[i].payload);
            print_log(l, n);
        }
        assert_int_equal(n, 0);
        assert_int_equal(reg_at(f, GW_MB_HOLDING, 9), 0x1111);
    }
    /* the same command with a good payload: one FC 6 with 20 °C =
     * (20 + 273) / 0.1 = 2930 = 0x0B72, byteorder "<": 0x720B */
    char *argv[] = {exe, "write", "--host", "127.0.0.1", "--port", port, "--config", map,
                    "--payload", "{\"Water_Setpoint.SP_r\": 20}", NULL};
    int rc = run_child(argv, out, sizeof(out));
    if (rc != 0)
        print_error("good payload: exit %d:\n%s\n", rc, out);
    assert_int_equal(rc, 0);
    expect_log(f, (const want_log[]){{6, 9, 1}}, 1);
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 9), 0x720B);
}

/*
 * plcgw read --unit N puts N in every request's unit identifier. The
 * command accepts 0..255 ("--unit must be 0..255"), and 0 is a unit id a
 * Modbus TCP device may require (mbpoll: "0-255 for tcp").
 */
static void test_cli_unit_id(void **state)
{
    fx *f = *state;
    char exe[1024], map[1024], port[16], out[8192];
    snprintf(exe, sizeof(exe), "%s/plcgw", GW_BINARY_DIR);
    snprintf(map, sizeof(map), "%s/config/modbus/example.json", GW_SOURCE_DIR);
    snprintf(port, sizeof(port), "%u", f->port);
    static const char *const units[] = {"7", "255", "0"};
    for (size_t u = 0; u < 3; u++) {
        log_skip(f);
        char *argv[] = {exe, "read", "--host", "127.0.0.1", "--port", port, "--config", map,
                        "--unit", (char *)units[u], NULL};
        int rc = run_child(argv, out, sizeof(out));
        if (rc != 0)
            print_error("--unit %s: exit %d:\n%s\n", units[u], rc, out);
        assert_int_equal(rc, 0);
        gw_mb_logged l[8];
        size_t n = log_new(f, l, 8);
        assert_int_equal(n, 4);
        for (size_t i = 0; i < n; i++) {
            if (l[i].unit != atoi(units[u])) {
                print_error("plcgw read --unit %s sent unit id %u\n", units[u], l[i].unit);
                fail();
            }
        }
    }
}

/* ------------------------------------------------------------ exceptions */

/*
 * A plan whose middle request runs past register 65535 (edited through
 * mb_internal.h: FC 3 at 65535, 2 registers): the server answers exception
 * 2, that request's tag reports it, the requests before and after it are
 * read, the call succeeds and the connection stays up.
 */
static void test_read_exception(void **state)
{
    fx *f = *state;
    gw_tagmap *m = load_text("{\"mapping\": {"
        "\"40000\": {\"parameter\": \"first\", \"function\": \"decode_16bit_uint\"},"
        "\"465535\": {\"parameter\": \"top\", \"function\": \"decode_16bit_uint\"},"
        "\"30005\": {\"parameter\": \"after\", \"function\": \"decode_16bit_uint\"}}}");
    gw_mb_plan *p;
    assert_int_equal(gw_mb_plan_new(m, NULL, &p), GW_OK);
    assert_int_equal(p->nreqs, 3);
    assert_int_equal(p->reqs[1].fc, 3);
    assert_int_equal(p->reqs[1].start, 65535);
    p->reqs[1].count = 2;       /* 65535..65536: past the address space */
    p->req_off[2] = 3;          /* keep the readout layout consistent */
    p->total_regs = 4;
    gw_mb_readout *r;
    assert_int_equal(gw_mb_readout_new(p, &r), GW_OK);
    set_reg(f, GW_MB_HOLDING, 0, 0x0700);  /* byteorder "<": 7 */
    set_reg(f, GW_MB_INPUT, 5, 0x0900);    /* 9 */
    log_skip(f);
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_mb_read_plan(f->cli, p, r, &err), GW_OK);
    assert_true(gw_mb_connected(f->cli));
    expect_log(f, (const want_log[]){{3, 0, 1}, {3, 65535, 2}, {4, 5, 1}}, 3);
    assert_int_equal(r->result[1], GW_E_DEVICE_REJECTED);
    assert_int_equal(r->exception[1], 2);
    gw_value v;
    assert_int_equal(gw_mb_readout_value(p, r, 0, &v, &err), GW_OK);
    assert_int_equal(v.v.i, 7);
    assert_int_equal(gw_mb_readout_value(p, r, 2, &v, &err), GW_OK);
    assert_int_equal(v.v.i, 9);
    gw_error_clear(&err);
    assert_int_equal(gw_mb_readout_value(p, r, 1, &v, &err), GW_E_DEVICE_REJECTED);
    assert_non_null(strstr(err.msg, "top"));
    assert_non_null(strstr(err.msg, "exception 2, illegal data address"));
    assert_non_null(strstr(err.msg, "FC 3 at 65535..65536"));
    /* the connection is still good for the next read */
    readall ra;
    read_all(f->cli, m, &ra);
    readall_free(&ra);
    gw_mb_readout_free(r);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
}

/*
 * A write the device rejects (FC 16 of two registers at 65535): exception
 * 2 named in the error, device_code 2, connection kept. The image did not
 * change, so the write hook ("after a client's request changed the
 * image", mb.h) must not be called.
 */
static void test_write_exception(void **state)
{
    fx *f = *state;
    gw_tagmap *m = load_text("{\"mapping\": {"
        "\"465534\": {\"parameter\": \"top32\", \"function\": \"decode_32bit_uint\"}}}");
    gw_tag fake = *tag(m, "top32");
    fake.addr.reg = 65535; /* the tag one register further: past the end */
    json_t *j = json_integer(0x10002);
    gw_write w;
    gw_error err;
    gw_error_clear(&err);
    assert_int_equal(gw_tag_prepare_write(m, &fake, j, &w, &err), GW_OK);
    json_decref(j);
    assert_int_equal(w.n, 2);
    hook_call h[8];
    hooks_settle(f, h, 8);
    gw_error_clear(&err);
    gw_err rc = gw_mb_write(f->cli, &w, &err);
    assert_int_equal(rc, GW_E_DEVICE_REJECTED);
    assert_int_equal(err.device_code, 2);
    assert_non_null(strstr(err.msg, "illegal data address"));
    assert_non_null(strstr(err.msg, "FC 16"));
    assert_non_null(strstr(err.subject, "top32"));
    assert_true(gw_mb_connected(f->cli));
    expect_log(f, (const want_log[]){{16, 65535, 2}}, 1);
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 65535), 0);
    /* still usable */
    write_ok(f->cli, m, "top32", "65538");
    static const uint16_t want[2] = {0x0100, 0x0200};
    regs_are(f, GW_MB_HOLDING, 65534, want, 2, "65538 at the top");
    size_t nh = hooks_settle(f, h, 8);
    for (size_t i = 0; i < nh; i++)
        print_error("  hook: class %d start %u count %u\n", (int)h[i].cls, h[i].start,
                    h[i].count);
    /* one call, for the write that changed the image; none for the rejected one */
    assert_int_equal(nh, 1);
    assert_int_equal(h[0].start, 65534);
    gw_tagmap_free(m);
}

/*
 * FC 23 (read/write multiple registers, Modbus Application Protocol V1.1b
 * 6.17) is answered by libmodbus's modbus_reply and changes the image: the
 * write hook must hear of it like FC 16. Sent with libmodbus directly.
 */
static void test_fc23_hook(void **state)
{
    fx *f = *state;
    hook_call h[8];
    hooks_settle(f, h, 8);
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", f->port);
    assert_non_null(ctx);
    modbus_set_slave(ctx, 1);
    modbus_set_response_timeout(ctx, 2, 0);
    assert_int_equal(modbus_connect(ctx), 0);
    uint16_t src[2] = {0x1111, 0x2222}, dest[2] = {0, 0};
    int n = modbus_write_and_read_registers(ctx, 200, 2, src, 200, 2, dest);
    modbus_close(ctx);
    modbus_free(ctx);
    assert_int_equal(n, 2);
    assert_int_equal(dest[0], 0x1111);
    assert_int_equal(reg_at(f, GW_MB_HOLDING, 201), 0x2222);
    gw_mb_logged l[4];
    assert_int_equal(log_new(f, l, 4), 1);
    assert_int_equal(l[0].fc, 23);
    size_t nh = hooks_settle(f, h, 8);
    if (nh != 1)
        print_error("FC 23 wrote holding registers 200..201; write hook called %zu times\n",
                    nh);
    assert_int_equal(nh, 1);
    assert_int_equal(h[0].cls, GW_MB_HOLDING);
    assert_int_equal(h[0].start, 200);
    assert_int_equal(h[0].count, 2);
}

/* ------------------------------------------------------------ failures */


/* A peer that accepts TCP (the kernel does) but never answers. */
static void test_timeout(void **state)
{
    (void)state;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 4), 0);
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
    uint16_t port = ntohs(sa.sin_port);

    gw_tagmap *m = load_text(one_reg_map);
    gw_mb_client *c = client_for(port, 1, 300);
    connect_ok(c); /* the handshake completes in the backlog */
    gw_mb_plan *p;
    gw_mb_readout *r;
    assert_int_equal(gw_mb_plan_new(m, NULL, &p), GW_OK);
    assert_int_equal(gw_mb_readout_new(p, &r), GW_OK);
    gw_error err;
    gw_error_clear(&err);
    uint64_t t0 = gw_mono_ms();
    gw_err rc = gw_mb_read_plan(c, p, r, &err);
    uint64_t dt = gw_mono_ms() - t0;
    assert_int_equal(rc, GW_E_TIMEOUT);
    print_message("read timed out after %llu ms (response timeout 300 ms)\n",
                  (unsigned long long)dt);
    if (dt < 250 || dt > 1500)
        print_error("timeout after %llu ms, asked 300\n", (unsigned long long)dt);
    assert_true(dt >= 250 && dt <= 1500);
    assert_non_null(strstr(err.msg, "no answer in time"));
    assert_int_equal(r->result[0], GW_E_TIMEOUT);
    assert_false(gw_mb_connected(c)); /* closed: the next call starts clean */
    gw_error_clear(&err);
    assert_int_equal(gw_mb_read_plan(c, p, r, &err), GW_E_CONN_LOST);
    assert_non_null(strstr(err.msg, "not connected"));

    /* a write times out the same way */
    connect_ok(c);
    gw_error_clear(&err);
    t0 = gw_mono_ms();
    rc = write_value(c, m, "a", "1", &err);
    dt = gw_mono_ms() - t0;
    assert_int_equal(rc, GW_E_TIMEOUT);
    assert_true(dt >= 250 && dt <= 1500);
    assert_false(gw_mb_connected(c));
    gw_mb_client_free(c);
    gw_mb_readout_free(r);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
    close(lfd);
}

static void test_connection_refused(void **state)
{
    (void)state;
    /* a bound socket that does not listen: the port is ours, and refuses */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    gw_mb_client *c = client_for(ntohs(sa.sin_port), 1, 300);
    gw_error err;
    gw_error_clear(&err);
    uint64_t t0 = gw_mono_ms();
    assert_int_equal(gw_mb_connect(c, &err), GW_E_CONN_REFUSED);
    assert_true(gw_mono_ms() - t0 < 1000);
    assert_false(gw_mb_connected(c));
    assert_non_null(strstr(err.msg, "connect failed"));
    assert_true(err.hint[0] != 0);
    gw_mb_client_free(c);
    close(fd);
}

/* A peer that answers FC 3 with another transaction id: a protocol error,
 * and the connection is closed. */
typedef struct {
    int lfd;
} bad_peer;

static void *bad_peer_main(void *arg)
{
    bad_peer *b = arg;
    struct pollfd lp = {b->lfd, POLLIN, 0};
    if (poll(&lp, 1, 5000) != 1)
        return NULL;
    int fd = accept(b->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    struct pollfd p = {fd, POLLIN, 0};
    uint8_t q[260];
    if (poll(&p, 1, 5000) == 1 && read(fd, q, sizeof(q)) >= 12) {
        uint8_t a[11] = {(uint8_t)(q[0] ^ 0xFF), q[1], 0, 0, 0, 5, q[6], 3, 2, 0x12, 0x34};
        ssize_t w = write(fd, a, sizeof(a));
        (void)w;
        /* wait for the client to go away */
        p.revents = 0;
        if (poll(&p, 1, 5000) == 1) {
            ssize_t n = read(fd, q, sizeof(q));
            (void)n;
        }
    }
    close(fd);
    return NULL;
}

static void test_garbled_answer(void **state)
{
    (void)state;
    bad_peer b;
    b.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(b.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(b.lfd, 4), 0);
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(b.lfd, (struct sockaddr *)&sa, &sl), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bad_peer_main, &b), 0);

    gw_tagmap *m = load_text(one_reg_map);
    gw_mb_client *c = client_for(ntohs(sa.sin_port), 1, 1000);
    connect_ok(c);
    gw_mb_plan *p;
    gw_mb_readout *r;
    assert_int_equal(gw_mb_plan_new(m, NULL, &p), GW_OK);
    assert_int_equal(gw_mb_readout_new(p, &r), GW_OK);
    gw_error err;
    gw_error_clear(&err);
    gw_err rc = gw_mb_read_plan(c, p, r, &err);
    if (rc != GW_E_PROTOCOL)
        print_error("got %s: %s\n", gw_err_name(rc), err.msg);
    assert_int_equal(rc, GW_E_PROTOCOL);
    assert_false(gw_mb_connected(c));
    gw_mb_client_free(c);
    pthread_join(th, NULL);
    close(b.lfd);
    gw_mb_readout_free(r);
    gw_mb_plan_free(p);
    gw_tagmap_free(m);
}

/* ------------------------------------------------------------ defaults */

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_values_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_write_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_unit_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_exception, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_exception, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fc23_hook, setup, teardown),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_garbled_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
