/*
 * cmd_user.c - plcgw user add|disable|enable|list and plcgw token
 * create|list|revoke: the accounts of the
 * gateway's database (the config's "database", or --db).
 */
#include "cli.h"
#include "store/store.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

static const char user_usage[] =
    "usage: plcgw user add NAME --role viewer|operator|admin [--password-stdin]\n"
    "                      [--config FILE] [--db FILE]\n"
    "       plcgw user disable|enable NAME [--config FILE] [--db FILE]\n"
    "       plcgw user list [--config FILE] [--db FILE]\n";

static const char user_help[] =
    "\n"
    "Adds a user to the gateway's database. Without --password-stdin a random\n"
    "password is made and printed once; with it, the first line of standard\n"
    "input is the password (at least 8 characters). Passwords are kept only\n"
    "as an Argon2id hash.\n"
    "\n"
    "disable stops a user at once: their tokens and browser sessions no longer\n"
    "work (the last admin cannot be disabled); enable lets them in again.\n"
    "list shows every user with role and state.\n"
    "\n"
    "  -r, --role ROLE       viewer (reads), operator (commands), admin (all)\n"
    "      --password-stdin  read the password from standard input\n"
    "  -c, --config FILE     gateway config whose database to use (default: the demo)\n"
    "      --db FILE         the database file itself\n"
    "  -h, --help            show this help\n";

static const char token_usage[] =
    "usage: plcgw token create NAME [--label TEXT] [--config FILE] [--db FILE]\n"
    "       plcgw token list [NAME] [--config FILE] [--db FILE]\n"
    "       plcgw token revoke ID [--config FILE] [--db FILE]\n";

static const char token_help[] =
    "\n"
    "Makes an API token for the user NAME and prints it once; scripts send it\n"
    "as \"Authorization: Bearer TOKEN\" and act with that user's role. Only a\n"
    "hash of it is kept: a lost token cannot be shown again, make a new one.\n"
    "list shows the tokens (id, user, label, state; never the token itself);\n"
    "revoke ID stops one at once.\n"
    "\n"
    "  -l, --label TEXT   what the token is for (\"grafana\", \"nightly export\")\n"
    "  -c, --config FILE  gateway config whose database to use (default: the demo)\n"
    "      --db FILE      the database file itself\n"
    "  -h, --help         show this help\n";

/* Opens the database named by --db, or by the config (the demo's when
 * neither is given). Returns an exit status; *out on success. */
static int open_store(const char *cmd, const char *config, const char *db, gw_store **out)
{
    char path[512];
    if (db) {
        snprintf(path, sizeof(path), "%s", db);
    } else {
        char cfg_path[512];
        if (config)
            snprintf(cfg_path, sizeof(cfg_path), "%s", config);
        else
            cli_default_config(cfg_path, sizeof(cfg_path));
        gw_diag d;
        gw_config *cfg;
        if (gw_config_load(cfg_path, &cfg, &d) != GW_OK) {
            cli_print_diag(&d);
            return CLI_EXIT_USAGE;
        }
        snprintf(path, sizeof(path), "%s", cfg->database);
        gw_config_free(cfg);
    }
    gw_error err;
    if (gw_store_open(path, out, &err) != GW_OK) {
        fprintf(stderr, "plcgw %s: %s\n", cmd, err.msg);
        return CLI_EXIT_RUNTIME;
    }
    return CLI_EXIT_OK;
}

/* A password from the first line of stdin, or a random one (printed). */
static bool take_password(bool from_stdin, char *pw, size_t size, bool *made)
{
    *made = !from_stdin;
    if (from_stdin) {
        if (!fgets(pw, (int)size, stdin))
            return false;
        pw[strcspn(pw, "\r\n")] = '\0';
        return true;
    }
    unsigned char raw[15];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(pw, size, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    return true;
}

static void print_user(void *ud, const gw_user_info *u)
{
    (void)ud;
    printf("%-24s %-9s %-9s %s\n", u->name, gw_role_name(u->role),
           u->disabled ? "disabled" : "enabled", u->created_at);
}

static void print_token(void *ud, const gw_token_info *t)
{
    (void)ud;
    printf("%-6lld %-24s %-8s %-24s %s\n", (long long)t->id, t->user,
           t->revoked ? "revoked" : "valid", t->created_at, t->label);
}

/* user list | user disable NAME | user enable NAME */
static int user_admin(const char *action, int n, char **args, const char *config,
                      const char *db)
{
    bool list = strcmp(action, "list") == 0;
    if (n != (list ? 0 : 1))
        return cli_usage_error("user", user_usage, list ? "user list takes no NAME"
                               : "user %s takes one NAME", action);
    gw_store *s;
    int rc = open_store("user", config, db, &s);
    if (rc != CLI_EXIT_OK)
        return rc;
    gw_error err;
    if (list) {
        printf("%-24s %-9s %-9s %s\n", "NAME", "ROLE", "STATE", "CREATED");
        if (gw_store_user_list(s, print_user, NULL, &err) != GW_OK) {
            fprintf(stderr, "plcgw user: %s\n", err.msg);
            rc = CLI_EXIT_RUNTIME;
        }
    } else {
        bool disable = strcmp(action, "disable") == 0;
        gw_err e = gw_store_user_set_disabled(s, args[0], disable, &err);
        json_t *v = json_pack("{s:s}", "user", args[0]);
        char *values = v ? json_dumps(v, JSON_COMPACT) : NULL;
        json_decref(v);
        gw_store_audit(s, NULL, NULL, disable ? "user disable" : "user enable", values,
                       e == GW_OK ? "ok" : err.msg, NULL);
        free(values);
        if (e != GW_OK) {
            fprintf(stderr, "plcgw user: %s\n", err.msg);
            rc = e == GW_E_STORE ? CLI_EXIT_RUNTIME : CLI_EXIT_USAGE;
        } else {
            printf("user %s %s\n", args[0], disable ? "disabled" : "enabled");
        }
    }
    gw_store_close(s);
    return rc;
}

/* token list [NAME] | token revoke ID */
static int token_admin(const char *action, int n, char **args, const char *config,
                       const char *db)
{
    bool list = strcmp(action, "list") == 0;
    long long id = 0;
    if (list ? n > 1 : n != 1)
        return cli_usage_error("token", token_usage, list ? "token list takes at most one NAME"
                               : "token revoke takes one ID");
    if (!list) {
        char *end;
        id = strtoll(args[0], &end, 10);
        if (*args[0] == '\0' || *end || id <= 0)
            return cli_usage_error("token", token_usage, "token revoke: '%s' is not a token id "
                                   "(see plcgw token list)", args[0]);
    }
    gw_store *s;
    int rc = open_store("token", config, db, &s);
    if (rc != CLI_EXIT_OK)
        return rc;
    gw_error err;
    if (list) {
        printf("%-6s %-24s %-8s %-24s %s\n", "ID", "USER", "STATE", "CREATED", "LABEL");
        if (gw_store_token_list(s, n ? args[0] : NULL, print_token, NULL, &err) != GW_OK) {
            fprintf(stderr, "plcgw token: %s\n", err.msg);
            rc = CLI_EXIT_RUNTIME;
        }
    } else {
        gw_err e = gw_store_token_revoke(s, id, &err);
        char values[64];
        snprintf(values, sizeof(values), "{\"token_id\": %lld}", id);
        gw_store_audit(s, NULL, NULL, "token revoke", values, e == GW_OK ? "ok" : err.msg, NULL);
        if (e != GW_OK) {
            fprintf(stderr, "plcgw token: %s\n", err.msg);
            rc = e == GW_E_STORE ? CLI_EXIT_RUNTIME : CLI_EXIT_USAGE;
        } else {
            printf("token %lld revoked\n", id);
        }
    }
    gw_store_close(s);
    return rc;
}

int cli_user(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"role", required_argument, NULL, 'r'},
        {"password-stdin", no_argument, NULL, 'P'},
        {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *role_text = NULL, *config = NULL, *db = NULL;
    bool from_stdin = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': role_text = optarg; break;
        case 'P': from_stdin = true; break;
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'h': printf("%s%s", user_usage, user_help); return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("user", user_usage, "option '%s' needs a value",
                                   argv[optind - 1]);
        default:
            return cli_usage_error("user", user_usage, "unknown option '%s'", argv[optind - 1]);
        }
    }
    const char *action = optind < argc ? argv[optind] : NULL;
    if (!action)
        return cli_usage_error("user", user_usage, "which action? (add, disable, enable, list)");
    if (strcmp(action, "list") == 0 || strcmp(action, "disable") == 0 ||
        strcmp(action, "enable") == 0)
        return user_admin(action, argc - optind - 1, argv + optind + 1, config, db);
    if (strcmp(action, "add") != 0)
        return cli_usage_error("user", user_usage, "unknown action '%s'", action);
    if (optind + 2 != argc)
        return cli_usage_error("user", user_usage, "user add takes one NAME");
    const char *name = argv[optind + 1];
    gw_role role;
    if (!role_text)
        return cli_usage_error("user", user_usage, "--role is required");
    if (!gw_role_parse(role_text, &role))
        return cli_usage_error("user", user_usage, "--role must be viewer, operator or admin, "
                               "got '%s'", role_text);
    char pw[256];
    bool made;
    if (!take_password(from_stdin, pw, sizeof(pw), &made)) {
        fprintf(stderr, "plcgw user: no password on standard input\n");
        return CLI_EXIT_USAGE;
    }
    gw_store *s;
    int rc = open_store("user", config, db, &s);
    if (rc != CLI_EXIT_OK) {
        sodium_memzero(pw, sizeof(pw));
        return rc;
    }
    gw_error err;
    if (gw_store_user_add(s, name, role, pw, &err) != GW_OK) {
        fprintf(stderr, "plcgw user: %s\n", err.msg);
        rc = err.code == GW_E_INVAL ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
    } else {
        char values[160]; /* names are [A-Za-z0-9._@-]: nothing to escape */
        snprintf(values, sizeof(values), "{\"user\": \"%s\", \"role\": \"%s\"}", name,
                 gw_role_name(role));
        gw_store_audit(s, NULL, NULL, "user add", values, "ok", NULL);
        printf("user %s added with role %s\n", name, gw_role_name(role));
        if (made)
            printf("password (shown once): %s\n", pw);
    }
    sodium_memzero(pw, sizeof(pw));
    gw_store_close(s);
    return rc;
}

int cli_token(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"label", required_argument, NULL, 'l'},
        {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *label = "", *config = NULL, *db = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":l:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': label = optarg; break;
        case 'c': config = optarg; break;
        case 'D': db = optarg; break;
        case 'h': printf("%s%s", token_usage, token_help); return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("token", token_usage, "option '%s' needs a value",
                                   argv[optind - 1]);
        default:
            return cli_usage_error("token", token_usage, "unknown option '%s'",
                                   argv[optind - 1]);
        }
    }
    const char *action = optind < argc ? argv[optind] : NULL;
    if (!action)
        return cli_usage_error("token", token_usage, "which action? (create, list, revoke)");
    if (strcmp(action, "list") == 0 || strcmp(action, "revoke") == 0)
        return token_admin(action, argc - optind - 1, argv + optind + 1, config, db);
    if (strcmp(action, "create") != 0)
        return cli_usage_error("token", token_usage, "unknown action '%s'", action);
    if (optind + 2 != argc)
        return cli_usage_error("token", token_usage, "token create takes one NAME");
    gw_store *s;
    int rc = open_store("token", config, db, &s);
    if (rc != CLI_EXIT_OK)
        return rc;
    char token[GW_TOKEN_LEN + 1];
    gw_error err;
    if (gw_store_token_create(s, argv[optind + 1], label, token, &err) != GW_OK) {
        fprintf(stderr, "plcgw token: %s\n", err.msg);
        rc = err.code == GW_E_NOT_FOUND ? CLI_EXIT_USAGE : CLI_EXIT_RUNTIME;
    } else {
        char values[128]; /* an existing user's name: nothing to escape */
        snprintf(values, sizeof(values), "{\"user\": \"%s\"}", argv[optind + 1]);
        gw_store_audit(s, NULL, NULL, "token create", values, "ok", NULL);
        printf("%s\n", token);
        sodium_memzero(token, sizeof(token));
    }
    gw_store_close(s);
    return rc;
}
