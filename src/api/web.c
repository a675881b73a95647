/*
 * web.c - the browser HMI's files (the config's "web": {"root"}), served
 * at / beside the API.
 *
 * A GET or HEAD that no route answers is a file of the root: hashed assets
 * (/assets/...) for a year (immutable: their name changes with their
 * content), everything else with no-cache; the .gz written beside a file
 * when the client accepts gzip. A path of the app's own (no dot in its last
 * segment: /rig/history) is index.html, for the app's router. The paths of
 * the API, the live channel and /docs are never files.
 *
 * Files are read whole (the HMI's are small: the largest bundle is under
 * a megabyte); a file over API_WEB_MAX is refused.
 */
#include "api_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define API_WEB_MAX (16u * 1024u * 1024u)

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},                {".png", "image/png"},
    {".ico", "image/x-icon"},                 {".json", "application/json"},
    {".webmanifest", "application/manifest+json"}, {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},    {".map", "application/json"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Is path the API's, the live channel's or the docs'? Never a file. */
static bool reserved(const char *path)
{
    static const char *const prefixes[] = {"/api/", "/socket.io/", "/engine.io/", "/docs/",
                                           "/modbus/"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return strcmp(path, "/api") == 0 || strcmp(path, "/docs") == 0 ||
           strcmp(path, "/openapi.json") == 0;
}

/* Reads a regular file under root (no symlink out of it: the real path
 * must start with the root's); NULL when there is none. */
static char *read_file(const char *root_real, const char *file, size_t *len, int *err)
{
    char real[PATH_MAX];
    *err = 0;
    if (!realpath(file, real)) {
        *err = errno;
        return NULL;
    }
    size_t rl = strlen(root_real);
    if (strncmp(real, root_real, rl) != 0 || (real[rl] != '/' && real[rl] != '\0')) {
        *err = EACCES;
        return NULL;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= API_WEB_MAX &&
        (buf = gw_malloc((size_t)st.st_size + 1)) != NULL) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got == (size_t)st.st_size) {
            *len = got;
        } else {
            gw_free(buf);
            buf = NULL;
            *err = EIO;
        }
    } else {
        *err = S_ISREG(st.st_mode) ? EFBIG : EISDIR;
    }
    close(fd);
    return buf;
}

/* Does Accept-Encoding take gzip (or *) with a q above 0? */
static bool accepts_gzip(const api_req *req)
{
    const char *p = gw_http_req_header(req->hr, "Accept-Encoding");
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",; ");
        bool gzip = (n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*');
        const char *end = p + strcspn(p, ",");
        const char *q = strstr(p, "q=");
        bool zero = q && q < end && strtod(q + 2, NULL) <= 0;
        if (gzip && !zero)
            return true;
        p = end;
    }
    return false;
}

/* Sends file (its path under the root) or its .gz; 0 when there is none. */
static int send_file(api_req *req, const char *root_real, const char *rel, bool immutable)
{
    char file[PATH_MAX];
    if ((size_t)snprintf(file, sizeof(file), "%s%s", root_real, rel) >= sizeof(file))
        return 0;
    size_t len = 0;
    int err;
    char *body = NULL;
    bool gz = false;
    if (accepts_gzip(req)) {
        char zfile[PATH_MAX + 4];
        snprintf(zfile, sizeof(zfile), "%s.gz", file);
        body = read_file(root_real, zfile, &len, &err);
        gz = body != NULL;
    }
    if (!body)
        body = read_file(root_real, file, &len, &err);
    if (!body)
        return 0;
    char lines[1400];
    int n = snprintf(lines, sizeof(lines), "X-Content-Type-Options: nosniff\r\nCache-Control: %s"
                     "\r\nVary: Accept-Encoding\r\n%s%s", immutable
                         ? "public, max-age=31536000, immutable" : "no-cache",
                     gz ? "Content-Encoding: gzip\r\n" : "", req->cors);
    /* the HMI's own page: no framing by other sites */
    if (n > 0 && (size_t)n < sizeof(lines) && strstr(type_of(file), "text/html"))
        snprintf(lines + n, sizeof(lines) - (size_t)n, "X-Frame-Options: DENY\r\n"
                 "Referrer-Policy: same-origin\r\n");
    gw_http_respond(req->hr, 200, type_of(file), lines, body, len);
    req->hr = NULL;
    gw_free(body);
    return 200;
}

int api__web(api_req *req)
{
    const char *root = req->api->web_root;
    if (!root[0] || reserved(req->path) ||
        (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0))
        return 0;
    const char *path = req->path;
    if (strcmp(path, "/") == 0)
        return send_file(req, root, "/index.html", false);
    /* a hidden file or folder is never served */
    if (strstr(path, "/."))
        return 0;
    bool asset = strncmp(path, "/assets/", 8) == 0;
    int status = send_file(req, root, path, asset);
    if (status)
        return status;
    const char *last = strrchr(path, '/');
    if (!asset && last && !strchr(last, '.'))
        return send_file(req, root, "/index.html", false); /* the app's own route */
    return 0;
}

void api__web_init(gw_api *api, const char *configured)
{
    api->web_root[0] = '\0';
    if (!configured[0])
        return;
    char real[PATH_MAX], index[PATH_MAX + 16];
    struct stat st;
    if (!realpath(configured, real) ||
        (size_t)snprintf(index, sizeof(index), "%s/index.html", real) >= sizeof(index) ||
        stat(index, &st) != 0) {
        gw_log_warn(api->log, "http", "the HMI's folder %s has no index.html (build it: make "
                    "build); / is the overview page", configured);
        return;
    }
    if (strlen(real) >= sizeof(api->web_root))
        return;
    memcpy(api->web_root, real, strlen(real) + 1);
    gw_log_info(api->log, "http", "the HMI from %s", real);
}
