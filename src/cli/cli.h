/*
 * cli.h - the plcgw command line: one function per subcommand, each taking
 * its own argv (argv[0] is the subcommand) and returning the exit status:
 * 0 ok, 1 runtime or device error, 2 usage or configuration error.
 */
#ifndef GW_CLI_H
#define GW_CLI_H

#include "api/api.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE 2

int cli_serve(int argc, char **argv);
int cli_sim(int argc, char **argv);
int cli_read(int argc, char **argv);
int cli_write(int argc, char **argv);
int cli_check_config(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_s7(int argc, char **argv);
int cli_browse(int argc, char **argv);

/* Prints "plcgw CMD: message", the usage and a --help pointer to stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...) GW_PRINTF(3, 4);
/* Prints a configuration file's problems (warnings too) to stderr. */
void cli_print_diag(const gw_diag *d);
/* The demo configuration: ./config/demo.json, or next to the binary's
 * source tree (build/plcgw -> config/demo.json). */
void cli_default_config(char *buf, size_t size);
/* SIGINT and SIGTERM ask a running command to stop; SIGPIPE is ignored. */
void cli_catch_stop_signals(void);
/* Returns once one of them came. */
void cli_wait_for_stop(void);
/* The simulated machines of a gateway config (sim_setup.c). */
struct gw_sim;
struct gw_sim_control;
size_t cli_sim_machines(const gw_config *cfg);
/* Builds and starts them with the control API; time_scale 0 = the
 * config's. */
gw_err cli_sim_from_config(const gw_config *cfg, gw_log *log, double time_scale,
                           struct gw_sim **sim, struct gw_sim_control **ctl, gw_error *err);
/* The same, with the S7CommPlus front-end at s7plus_host:s7plus_port:
 * the address of the machines with "driver": "s7plus", or besides the S7
 * one when there are none (s7plus_host NULL: only as the machines say). */
gw_err cli_sim_from_config_s7plus(const gw_config *cfg, gw_log *log, double time_scale,
                                  const char *s7plus_host, uint16_t s7plus_port,
                                  struct gw_sim **sim, struct gw_sim_control **ctl,
                                  gw_error *err);

/* One HTTP request to host:port; *response is the body (gw_free it). */
gw_err cli_http(const char *host, uint16_t port, const char *method, const char *path,
                const char *body, int *status, char **response, gw_error *err);
/* Parses a --log-level/--debug pair into a level. */
bool cli_parse_uint(const char *s, unsigned long max, unsigned long *out);

#endif
