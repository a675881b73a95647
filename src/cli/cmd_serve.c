/*
 * cmd_serve.c - plcgw serve: load the gateway config, start the HTTP API,
 * run until SIGINT or SIGTERM.
 */
#include "cli.h"
#include "apps/app.h"
#include "sim/sim.h"
#include "store/store.h"

#include <sodium.h>

#include <getopt.h>
#include <string.h>
#include <sys/resource.h>

static const char usage[] =
    "usage: plcgw serve [--config FILE] [--listen ADDR:PORT] [--db FILE] [--no-sim] [--debug]\n"
    "                   [--protocol-test]\n";

static const char help[] =
    "\n"
    "Runs the gateway for the machines of a gateway config and serves its API\n"
    "(see /docs once it runs). Without --config the demo config is used. The\n"
    "config's machines with \"simulate\" run in-process in the built-in\n"
    "simulator, on the addresses the config names.\n"
    "\n"
    "  -c, --config FILE       gateway config (default: config/demo.json)\n"
    "  -l, --listen ADDR:PORT  listen address, overrides the config's \"listen\"\n"
    "      --db FILE           SQLite database, overrides the config's \"database\"\n"
    "      --no-sim            do not start the simulator for simulated machines\n"
    "      --protocol-test     serve /socket.io/ as the reference server of the Socket.IO\n"
    "                          and Engine.IO test suites, and /engine.io/ as an echo\n"
    "                          (CORS *, no authentication: for tests only)\n"
    "  -d, --debug             log debug messages\n"
    "      --log-level LEVEL   error, warn, info (default), debug or trace\n"
    "  -h, --help              show this help\n";

/* The first start on an empty database: an admin with a one-time
 * password, printed once (it is kept only as a hash). */
static gw_err first_admin(gw_store *store, gw_log *log, const char *config_path)
{
    if (gw_store_user_count(store) > 0)
        return GW_OK;
    unsigned char raw[15];
    char pw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(pw, sizeof(pw), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    gw_error err;
    gw_err rc = gw_store_user_add(store, "admin", GW_ROLE_ADMIN, pw, &err);
    if (rc == GW_OK) {
        gw_store_audit(store, NULL, NULL, "user add", "{\"user\": \"admin\", \"role\": "
                       "\"admin\", \"first_start\": true}", "ok", NULL);
        gw_log_warn(log, "main", "first start: created the user admin with the password %s "
                    "(shown once); a token for scripts: plcgw token create admin --config %s",
                    pw, config_path);
    } else {
        gw_log_error(log, "main", "first start: cannot create the admin: %s", err.msg);
    }
    sodium_memzero(pw, sizeof(pw));
    return rc;
}

/* Every connection is a descriptor: the soft limit (often 1,024) is
 * raised to the hard one, and a config that needs more than that is told. */
static void raise_fd_limit(const gw_config *cfg, gw_log *log)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* sockets of the machines, the simulator, the database, some spare */
    rlim_t need = (rlim_t)cfg->http_max_connections + 64 + 4 * cfg->nmachines;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        gw_log_warn(log, "main", "the descriptor limit is %llu, below the %llu that "
                    "http.max_connections %u needs: connections beyond it wait in the listen "
                    "queue (raise it with ulimit -n or LimitNOFILE=)",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)need,
                    cfg->http_max_connections);
}

int cli_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"db", required_argument, NULL, 'D'},
        {"debug", no_argument, NULL, 'd'},
        {"log-level", required_argument, NULL, 'L'},
        {"no-sim", no_argument, NULL, 'N'},
        {"protocol-test", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char config_path[512] = "";
    const char *listen = NULL, *db = NULL;
    gw_log_level level = GW_LOG_INFO;
    bool no_sim = false, protocol_test = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+:c:l:dh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': snprintf(config_path, sizeof(config_path), "%s", optarg); break;
        case 'l': listen = optarg; break;
        case 'D': db = optarg; break;
        case 'd': level = GW_LOG_DEBUG; break;
        case 'N': no_sim = true; break;
        case 'P': protocol_test = true; break;
        case 'L':
            if (!gw_log_level_parse(optarg, &level))
                return cli_usage_error("serve", usage, "--log-level must be error, warn, info, "
                                       "debug or trace, got '%s'", optarg);
            break;
        case 'h': printf("%s%s", usage, help); return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("serve", usage, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("serve", usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", usage, "unexpected argument '%s'", argv[optind]);
    char host[256];
    uint16_t port = 0;
    if (listen) {
        char why[96];
        if (!gw_parse_host_port(listen, true, host, sizeof(host), &port, why, sizeof(why)))
            return cli_usage_error("serve", usage, "--listen: %s, got '%s'", why, listen);
    }
    if (!config_path[0])
        cli_default_config(config_path, sizeof(config_path));

    gw_diag d;
    gw_config *cfg;
    if (gw_config_load(config_path, &cfg, &d) != GW_OK) {
        cli_print_diag(&d);
        return CLI_EXIT_USAGE;
    }
    if (!gw_apps_check(cfg, &d)) {
        cli_print_diag(&d);
        gw_config_free(cfg);
        return CLI_EXIT_USAGE;
    }
    cli_print_diag(&d); /* warnings */
    if (db)
        snprintf(cfg->database, sizeof(cfg->database), "%s", db);

    gw_log *log = gw_log_new(stderr, level);
    gw_log_info(log, "main", "plcgw %s starting with %s (%zu machine%s)", GW_VERSION, config_path,
                cfg->nmachines, cfg->nmachines == 1 ? "" : "s");
    raise_fd_limit(cfg, log);
    gw_error err;
    gw_error_clear(&err);
    gw_sim *sim = NULL;
    gw_sim_control *ctl = NULL;
    gw_store *store = NULL;
    gw_engine *engine = NULL;
    gw_api *api = NULL;
    int rc = CLI_EXIT_RUNTIME;
    if (gw_store_open(cfg->database, &store, &err) != GW_OK) {
        gw_log_error(log, "main", "%s", err.msg);
        goto out;
    }
    if (first_admin(store, log, config_path) != GW_OK)
        goto out;
    if (!no_sim && cli_sim_machines(cfg) > 0 &&
        cli_sim_from_config(cfg, log, 0, &sim, &ctl, &err) != GW_OK) {
        gw_log_error(log, "main", "simulator: %s", err.msg);
        goto out;
    }
    if (gw_engine_new(cfg, log, &engine) != GW_OK) {
        gw_log_error(log, "main", "engine: out of memory");
        goto out;
    }
    /* the API first: its live channel subscribes to the engine's events */
    gw_api_opts opts = {cfg, log, listen ? host : NULL, listen ? port : 0, 0, engine, store,
                        protocol_test};
    if (gw_api_start(&opts, &api, &err) != GW_OK) {
        gw_log_error(log, "main", "%s", err.msg);
        if (err.hint[0])
            gw_log_error(log, "main", "hint: %s", err.hint);
        goto out;
    }
    if (protocol_test)
        gw_log_warn(log, "main", "--protocol-test: /socket.io/ is the Socket.IO test suites' "
                    "reference server (CORS *, no authentication) and /engine.io/ echoes");
    if (gw_engine_start(engine, &err) != GW_OK) {
        gw_log_error(log, "main", "engine: %s", err.msg[0] ? err.msg : "out of memory");
        goto out;
    }
    cli_catch_stop_signals();
    cli_wait_for_stop();
    gw_log_info(log, "main", "stopping");
    rc = CLI_EXIT_OK;
out:
    gw_api_close(api);      /* live clients go while the engine runs */
    gw_engine_free(engine); /* no more change events */
    gw_api_stop(api);
    gw_sim_control_stop(ctl);
    gw_sim_free(sim);
    gw_store_close(store);
    gw_config_free(cfg);
    if (rc == CLI_EXIT_OK)
        gw_log_info(log, "main", "stopped");
    gw_log_free(log);
    return rc;
}
