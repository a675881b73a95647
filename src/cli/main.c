/*
 * main.c - plcgw: PLC-controlled machines on the web.
 *
 * Dispatches to the subcommands; see `plcgw --help`.
 */
#include "cli.h"

#include <string.h>

static const char usage[] =
    "usage: plcgw <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve          run the gateway: HTTP API, live channel and docs at /docs\n"
    "  sim            run the PLC simulator (S7 and Modbus TCP servers)\n"
    "  read           read a device's tags once, decoded by a tag map\n"
    "  write          write tags of a device from a JSON payload\n"
    "  s7             an S7 CPU's services: identity, run/stop, clock, blocks, SZL\n"
    "  browse         an S7-1200/1500's data blocks and variable names (S7CommPlus)\n"
    "  check-config   validate a gateway config or a tag map and print it\n"
    "  user add       add a user (viewer, operator or admin) to the database\n"
    "  user disable   stop a user's sign-ins, sessions and tokens (enable undoes it)\n"
    "  user enable    let a disabled user in again\n"
    "  user list      the users, their roles and whether they are enabled\n"
    "  token create   make an API token for a user, printed once\n"
    "  token list     the tokens (never the secrets): id, user, state, label\n"
    "  token revoke   end a token at once, also on a running gateway\n"
    "  version        print the version\n"
    "\n"
    "Each command takes --help. Exit status: 0 ok, 1 runtime or device error,\n"
    "2 usage or configuration error.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && strcmp(argv[2], "--help") == 0) {
            puts("usage: plcgw version\n\nPrints the version of plcgw.");
            return CLI_EXIT_OK;
        }
        if (argc > 2) {
            fprintf(stderr, "plcgw version: unexpected argument '%s'\nusage: plcgw version\n",
                    argv[2]);
            return CLI_EXIT_USAGE;
        }
        printf("plcgw %s\n", GW_VERSION);
        return CLI_EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"serve", cli_serve},     {"sim", cli_sim},
        {"read", cli_read},       {"write", cli_write},
        {"check-config", cli_check_config},
        {"user", cli_user},       {"token", cli_token},
        {"s7", cli_s7},           {"browse", cli_browse},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(cmd, cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "plcgw: unknown command '%s'\n%s", cmd, usage);
    return CLI_EXIT_USAGE;
}
