/*
 * http_rate.c - open-loop HTTP load at a fixed rate: GET PATH on
 * HOST:PORT, RATE requests per second for SECONDS, over CONNS keep-alive
 * connections. Each request's latency is counted from the moment it was
 * due, not from when a connection was free to send it, so a stalled server
 * shows in the figures instead of slowing the load down (wrk, which sends
 * as fast as answers come, cannot hold a rate).
 *
 *   build/bench_http_rate HOST PORT PATH RATE SECONDS [CONNS]
 *
 * Prints: sent, answered, non-200, errors, achieved rate, latency p50 p90
 * p99 p99.9 max in microseconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

#define MAX_CONNS 64

typedef struct {
    int fd;
    int busy;            /* a request is outstanding */
    double due_us;       /* when that request was due */
    char buf[65536];
    size_t len;
} conn;

static int dial(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;
    if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* A complete response in c->buf: its length, 0 when more is needed, -1 bad. */
static long response_len(const conn *c, int *status)
{
    const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return c->len >= sizeof(c->buf) ? -1 : 0;
    if (sscanf(c->buf, "HTTP/1.%*d %d", status) != 1)
        return -1;
    size_t head = (size_t)(end - c->buf) + 4;
    const char *cl = memmem(c->buf, head, "Content-Length:", 15);
    if (!cl)
        return -1; /* our server always sends it */
    long body = strtol(cl + 15, NULL, 10);
    if (body < 0 || head + (size_t)body > sizeof(c->buf))
        return -1;
    return c->len >= head + (size_t)body ? (long)(head + (size_t)body) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s HOST PORT PATH RATE SECONDS [CONNS]\n", argv[0]);
        return 2;
    }
    const char *host = argv[1], *path = argv[3];
    int port = atoi(argv[2]);
    double rate = atof(argv[4]), seconds = atof(argv[5]);
    int nconns = argc > 6 ? atoi(argv[6]) : 8;
    if (port <= 0 || rate <= 0 || rate > 100000 || seconds <= 0 || seconds > 120 ||
        nconns < 1 || nconns > MAX_CONNS) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    static conn conns[MAX_CONNS];
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = dial(host, port);
        if (conns[i].fd < 0) {
            fprintf(stderr, "cannot connect to %s:%d: %s\n", host, port, strerror(errno));
            return 1;
        }
    }
    /* BENCH_TOKEN: sent as "Authorization: Bearer", checked on every request */
    const char *token = getenv("BENCH_TOKEN");
    char req[512];
    int reqlen = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s%s\r\n", path,
                          host, port, token ? "Authorization: Bearer " : "", token ? token : "",
                          token ? "\r\n" : "");
    long total = (long)(rate * seconds);
    double *lat = malloc(sizeof(double) * (size_t)total);
    if (!lat)
        return 1;
    long sent = 0, answered = 0, non200 = 0, errors = 0, resent = 0;
    int next_conn = 0;
    double t0 = now_us(), interval = 1e6 / rate;
    double hard_end = t0 + (seconds + 10) * 1e6; /* bounded: 10 s to drain */
    while (answered + errors < total && now_us() < hard_end) {
        double now = now_us();
        /* send what is due on free connections */
        for (int k = 0; k < nconns && sent < total && t0 + sent * interval <= now; k++) {
            int i = (next_conn + k) % nconns; /* round robin: none sits idle */
            conn *c = &conns[i];
            if (c->busy || c->fd < 0)
                continue;
            if (write(c->fd, req, (size_t)reqlen) != reqlen) {
                errors++;
                sent++;
                continue;
            }
            c->busy = 1;
            c->due_us = t0 + sent * interval;
            c->len = 0;
            sent++;
            next_conn = (i + 1) % nconns;
        }
        struct pollfd pf[MAX_CONNS];
        for (int i = 0; i < nconns; i++)
            pf[i] = (struct pollfd){.fd = conns[i].busy ? conns[i].fd : -1, .events = POLLIN};
        double next_due = sent < total ? t0 + sent * interval : now + 1000;
        int wait_ms = next_due > now ? (int)((next_due - now) / 1000) : 0;
        if (poll(pf, (nfds_t)nconns, wait_ms > 10 ? 10 : wait_ms) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < nconns; i++) {
            conn *c = &conns[i];
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
            if (r <= 0) {
                /* a keep-alive connection the server closed as the request
                 * went out: send it again on a new one, as browsers do; the
                 * latency still counts from when it was due */
                close(c->fd);
                c->fd = dial(host, port);
                if (r == 0 && c->len == 0 && c->fd >= 0 &&
                    write(c->fd, req, (size_t)reqlen) == reqlen) {
                    resent++;
                    continue;
                }
                fprintf(stderr, "connection %d: %s after %ld answers\n", i,
                        r == 0 ? "closed by the server" : strerror(errno), answered);
                errors++;
                c->busy = 0;
                continue;
            }
            c->len += (size_t)r;
            int status = 0;
            long n = response_len(c, &status);
            if (n < 0) {
                fprintf(stderr, "connection %d: malformed response: %.80s\n", i, c->buf);
                errors++;
                close(c->fd);
                c->busy = 0;
                c->fd = dial(host, port);
            } else if (n > 0) {
                if (status != 200)
                    non200++;
                lat[answered++] = now_us() - c->due_us;
                c->busy = 0;
            }
        }
    }
    double elapsed = (now_us() - t0) / 1e6;
    qsort(lat, (size_t)answered, sizeof(double), cmp_double);
#define PCT(p) (answered ? lat[(size_t)((answered - 1) * (p))] : 0)
    printf("GET %s at %.0f req/s for %.0f s over %d connections: sent %ld, answered %ld, "
           "non-200 %ld, errors %ld, resent on a new connection %ld, achieved %.0f req/s\n",
           path, rate, seconds, nconns, sent, answered, non200, errors, resent,
           answered / elapsed);
    printf("latency us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n", PCT(0.50),
           PCT(0.90), PCT(0.99), PCT(0.999), answered ? lat[answered - 1] : 0);
    for (int i = 0; i < nconns; i++)
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    free(lat);
    return errors || non200 ? 1 : 0;
}
