/*
 * log.c - one line per event: "<UTC time> <LEVEL> <category>: <message>".
 * The line is formatted into a local buffer and written with one fputs
 * under a mutex, so lines from different threads never interleave. A line
 * longer than the buffer is cut and ends in "...", never silently.
 */
#include "core.h"

#include <pthread.h>
#include <string.h>

struct gw_log {
    FILE *out;
    gw_log_level level;
    pthread_mutex_t lock;
};

static const char *level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"};

gw_log *gw_log_new(FILE *out, gw_log_level level)
{
    gw_log *log = gw_calloc(1, sizeof(*log));
    if (!log)
        return NULL;
    log->out = out;
    log->level = level;
    pthread_mutex_init(&log->lock, NULL);
    return log;
}

void gw_log_free(gw_log *log)
{
    if (!log)
        return;
    pthread_mutex_destroy(&log->lock);
    gw_free(log);
}

void gw_log_set_level(gw_log *log, gw_log_level level)
{
    if (log)
        log->level = level;
}

bool gw_log_enabled(const gw_log *log, gw_log_level level)
{
    return log && level <= log->level;
}

const char *gw_log_level_name(gw_log_level level)
{
    return (unsigned)level <= GW_LOG_TRACE ? level_names[level] : "?";
}

bool gw_log_level_parse(const char *name, gw_log_level *out)
{
    for (unsigned i = 0; i <= GW_LOG_TRACE; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (gw_log_level)i;
            return true;
        }
    }
    return false;
}

void gw_log_vwrite(gw_log *log, gw_log_level level, const char *category,
                   const char *fmt, va_list ap)
{
    if (!gw_log_enabled(log, level))
        return;
    char line[1024];
    char ts[32];
    gw_time_iso8601(gw_wall_ms(), ts, sizeof(ts));
    int head = snprintf(line, sizeof(line), "%s %s %s: ", ts, level_tags[level],
                        category ? category : "main");
    if (head < 0)
        return;
    size_t used = (size_t)head < sizeof(line) ? (size_t)head : sizeof(line) - 1;
    int body = vsnprintf(line + used, sizeof(line) - used, fmt, ap);
    if (body < 0)
        body = 0;
    size_t end = used + (size_t)body;
    if (end >= sizeof(line) - 1) {
        /* cut: mark it, keep room for the newline */
        end = sizeof(line) - 5;
        memcpy(line + end, "...", 3);
        end += 3;
    }
    /* one event, one line: fold embedded newlines */
    for (size_t i = used; i < end; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[end++] = '\n';
    line[end] = '\0';
    pthread_mutex_lock(&log->lock);
    fputs(line, log->out);
    fflush(log->out);
    pthread_mutex_unlock(&log->lock);
}

void gw_log_write(gw_log *log, gw_log_level level, const char *category,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gw_log_vwrite(log, level, category, fmt, ap);
    va_end(ap);
}
