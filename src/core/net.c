/*
 * net.c - TCP plumbing for the protocol drivers: listen, accept, connect
 * with a deadline, wait, send everything before a deadline. Sockets are
 * close-on-exec and TCP_NODELAY (PLC protocols are request/response: Nagle
 * would only add latency).
 */
/* accept4 (Linux) */
#define _GNU_SOURCE
#include "core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static uint16_t port_of(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

gw_err gw_net_listen(const char *host, uint16_t port, int backlog, int *fd, uint16_t *bound,
                     gw_error *err)
{
    *fd = -1;
    char ps[8];
    snprintf(ps, sizeof(ps), "%u", port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai != 0)
        return gw_error_set(err, GW_E_INVAL, "bad listen address %s: %s", host, gai_strerror(gai));
    int s = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s >= 0)
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (s < 0 || bind(s, res->ai_addr, res->ai_addrlen) != 0 || listen(s, backlog) != 0) {
        int e = errno;
        if (s >= 0)
            close(s);
        freeaddrinfo(res);
        gw_error_set(err, GW_E_IO, "cannot listen on %s:%u: %s", host, port, strerror(e));
        if (err)
            err->sys_errno = e;
        return GW_E_IO;
    }
    freeaddrinfo(res);
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);
    getsockname(s, (struct sockaddr *)&sa, &sl);
    *bound = port_of(&sa);
    *fd = s;
    return GW_OK;
}

int gw_net_accept(int listen_fd, bool nonblock, char *peer, size_t peer_size)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof(sa);
    int fd = accept4(listen_fd, (struct sockaddr *)&sa, &sl,
                     SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
    if (fd < 0)
        return -1;
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof(host));
    else if (sa.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof(host));
    snprintf(peer, peer_size, "%s:%u", host, port_of(&sa));
    nodelay(fd);
    return fd;
}

gw_err gw_net_wait(int fd, short events, uint64_t deadline_ms)
{
    for (;;) {
        uint64_t now = gw_mono_ms();
        if (now >= deadline_ms)
            return GW_E_TIMEOUT;
        struct pollfd pfd = {fd, events, 0};
        int rc = poll(&pfd, 1, (int)(deadline_ms - now));
        if (rc > 0)
            return GW_OK;
        if (rc == 0)
            return GW_E_TIMEOUT;
        if (errno != EINTR)
            return GW_E_IO;
    }
}

gw_err gw_net_send_all(int fd, const void *buf, size_t len, uint64_t deadline_ms,
                       int *sys_errno)
{
    const uint8_t *p = buf;
    size_t off = 0;
    *sys_errno = 0;
    while (off < len) {
        ssize_t n = send(fd, p + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            gw_err rc = gw_net_wait(fd, POLLOUT, deadline_ms);
            if (rc == GW_E_TIMEOUT)
                return rc;
            if (rc != GW_OK) {
                *sys_errno = errno;
                return GW_E_CONN_LOST;
            }
            continue;
        }
        *sys_errno = errno;
        return GW_E_CONN_LOST;
    }
    return GW_OK;
}

gw_err gw_net_connect(const char *host, uint16_t port, uint32_t timeout_ms, int *fd,
                      gw_error *err)
{
    *fd = -1;
    char ps[8];
    snprintf(ps, sizeof(ps), "%u", port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai != 0)
        return gw_error_set(err, GW_E_INVAL, "cannot resolve %s: %s", host, gai_strerror(gai));
    gw_err rc = GW_E_CONN_REFUSED;
    int saved = 0;
    uint64_t deadline = gw_mono_ms() + timeout_ms;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s < 0) {
            saved = errno;
            continue;
        }
        int r = connect(s, ai->ai_addr, ai->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            if (gw_net_wait(s, POLLOUT, deadline) == GW_E_TIMEOUT) {
                close(s);
                rc = GW_E_TIMEOUT;
                continue;
            }
            int soerr = 0;
            socklen_t sl = sizeof(soerr);
            getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            r = soerr ? -1 : 0;
            errno = soerr;
        }
        if (r < 0) {
            saved = errno;
            rc = errno == ECONNREFUSED ? GW_E_CONN_REFUSED : GW_E_IO;
            close(s);
            continue;
        }
        nodelay(s);
        *fd = s;
        rc = GW_OK;
        break;
    }
    freeaddrinfo(res);
    if (rc == GW_E_TIMEOUT)
        return gw_error_set(err, rc, "TCP connect to %s:%u timed out after %u ms", host, port,
                            timeout_ms);
    if (rc != GW_OK) {
        gw_error_set(err, rc, "TCP connect to %s:%u failed: %s", host, port, strerror(saved));
        if (err)
            err->sys_errno = saved;
    }
    return rc;
}
