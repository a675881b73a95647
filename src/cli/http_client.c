/*
 * http_client.c - the smallest HTTP/1.1 client: one request, Connection:
 * close, the whole answer read with a deadline. For `plcgw sim` control
 * subcommands talking to a simulator's control API on loopback.
 */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

gw_err cli_http(const char *host, uint16_t port, const char *method, const char *path,
                const char *body, int *status, char **response, gw_error *err)
{
    *status = 0;
    *response = NULL;
    int fd;
    gw_err rc = gw_net_connect(host, port, 2000, &fd, err);
    if (rc != GW_OK)
        return rc;
    gw_buf req;
    gw_buf_init(&req);
    gw_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: %s:%u\r\nConnection: close\r\n", method, path,
                  host, port);
    if (body)
        gw_buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                      strlen(body), body);
    else
        gw_buf_puts(&req, "Content-Length: 0\r\n\r\n");
    int e;
    uint64_t deadline = gw_mono_ms() + 10000;
    rc = gw_net_send_all(fd, req.data, req.len, deadline, &e);
    gw_buf_clear(&req);
    gw_buf ans;
    gw_buf_init(&ans);
    while (rc == GW_OK) {
        if (gw_net_wait(fd, POLLIN, deadline) != GW_OK) {
            rc = gw_error_set(err, GW_E_TIMEOUT, "%s:%u: no answer within 10 s", host, port);
            break;
        }
        char chunk[4096];
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            rc = gw_error_set(err, GW_E_CONN_LOST, "%s:%u: %s", host, port, strerror(errno));
            break;
        }
        gw_buf_append(&ans, chunk, (size_t)n);
    }
    close(fd);
    if (rc == GW_OK) {
        const char *text = gw_buf_cstr(&ans);
        const char *sep = strstr(text, "\r\n\r\n");
        if (sscanf(text, "HTTP/1.%*d %d", status) != 1 || !sep)
            rc = gw_error_set(err, GW_E_PROTOCOL, "%s:%u: not an HTTP answer", host, port);
        else
            *response = gw_strdup(sep + 4);
    }
    gw_buf_clear(&ans);
    return rc;
}
