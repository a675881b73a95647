/*
 * opts.c - helpers shared by the subcommands.
 */
#include "cli.h"

#include <limits.h>
#include <signal.h>
#include <time.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "plcgw %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage);
    fprintf(stderr, "Try 'plcgw %s --help' for more.\n", cmd);
    return CLI_EXIT_USAGE;
}

void cli_print_diag(const gw_diag *d)
{
    gw_diag_print(d, stderr);
}

void cli_default_config(char *buf, size_t size)
{
    snprintf(buf, size, "config/demo.json");
    if (access(buf, R_OK) == 0)
        return;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    char alt[PATH_MAX + 32];
    snprintf(alt, sizeof(alt), "%s/../config/demo.json", exe);
    if (access(alt, R_OK) == 0)
        snprintf(buf, size, "%s", alt);
}

bool cli_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

/* The only globals: the stop flag of SIGINT and SIGTERM (STYLE.md
 * section 5). */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void cli_catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void cli_wait_for_stop(void)
{
    while (!stop_requested) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}
