/* emoncrypt serve — the reference server: a local Emoncms encrypted-input
 * endpoint in one command (serve.h does the work). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "emoncrypt/serve.h"

const char cmd_serve_usage[] =
    "serve --userid N --apikey HEX [options]\n"
    "       serve --config FILE.json [options]\n"
    "\n"
    "Answers POST /input/post, /input/bulk (Content-Type aes128cbc or\n"
    "aes128cbcgz) and the legacy /input/encrypted exactly as Emoncms does\n"
    "(SPEC.md §3-§6), and appends every accepted row to a JSONL store,\n"
    "fsync'd before the ack is sent.  Stops cleanly on Ctrl-C / SIGTERM.\n"
    "\n"
    "Options:\n"
    "  -l, --listen ADDR     address and port (default 127.0.0.1:8080; port 0\n"
    "                        picks a free one)\n"
    "  -u, --userid N        the user id devices send in Authorization\n"
    "  -k, --apikey HEX      that user's write API key (32 hex digits)\n"
    "      --username U      that user's name (legacy /input/encrypted)\n"
    "  -c, --config FILE     several users: {\"users\": [{\"userid\": 1,\n"
    "                        \"apikey\": \"HEX\", \"username\": \"alice\"}, …]}\n"
    "  -s, --store FILE      append accepted rows here (JSON Lines); default:\n"
    "                        memory only\n"
    "      --strict          harden: replay cache, strict base64, POST only,\n"
    "                        plain decimal user ids, no MAC-of-empty quirk\n"
    "      --max-body N      refuse larger bodies with 413 (default 262144)\n"
    "      --timeout S       close a connection idle for S seconds (default 1)\n"
    "      --ready-file F    write the base URL to F once listening (for scripts)\n"
    "  -q, --quiet           no per-request log on stderr\n"
    "  -h, --help            show this help\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "Testing the tests (a deliberately wrong server, for test-server's own checks):\n"
    "      --mutant NAME     answer with one known server bug\n"
    "      --list-mutants    list them (and the case that catches each) and exit\n"
    "\n"
    "Loopback clients may read what was stored, as JSON:\n"
    "  GET /emoncrypt/rows?node=NODE[&userid=N]   every row, in store order\n"
    "  GET /input/get/NODE?apikey=WRITE_KEY      each input's last value, as Emoncms\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt serve --userid 1 --apikey $KEY --store rows.jsonl\n"
    "  emoncrypt serve -l 127.0.0.1:0 -u 1 -k $KEY --ready-file url.txt --quiet &\n"
    "  emoncrypt serve --config users.json --strict\n";

enum { OPT_USERNAME = 256, OPT_STRICT, OPT_MAX_BODY, OPT_TIMEOUT, OPT_READY, OPT_MUTANT,
       OPT_LIST_MUTANTS };

static const struct option serve_options[] = {
    {"listen", required_argument, NULL, 'l'},
    {"userid", required_argument, NULL, 'u'},
    {"apikey", required_argument, NULL, 'k'},
    {"username", required_argument, NULL, OPT_USERNAME},
    {"config", required_argument, NULL, 'c'},
    {"store", required_argument, NULL, 's'},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"ready-file", required_argument, NULL, OPT_READY},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    /* hidden: the deliberately broken servers the suite is tested with */
    {"mutant", required_argument, NULL, OPT_MUTANT},
    {"list-mutants", no_argument, NULL, OPT_LIST_MUTANTS},
    {NULL, 0, NULL, 0},
};

static volatile sig_atomic_t stop_requested;
static ec_serve *running;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
    if (running)
        ec_serve_interrupt(running);
}

static int parse_count(const char *opt, const char *text, unsigned long min, unsigned long *out)
{
    char *end = NULL;
    unsigned long v = strtoul(text, &end, 10);
    if (!text[0] || *end || v < min) {
        cli_usage_error("%s: expected a whole number >= %lu, got '%s'", opt, min, text);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_serve(const ec_cli_command *self, int argc, char **argv)
{
    ec_serve_users users = {0};
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:8080";
    cfg.rows_endpoint = 1;
    cfg.log = stderr;
    const char *userid = NULL, *apikey = NULL, *username = NULL, *config = NULL, *ready = NULL;
    int rc = EC_EXIT_USAGE;
    unsigned long n;

    int c;
    while ((c = getopt_long(argc, argv, ":l:u:k:c:s:qhV", serve_options, NULL)) != -1) {
        switch (c) {
        case 'l': cfg.listen = optarg; break;
        case 'u': userid = optarg; break;
        case 'k': apikey = optarg; break;
        case OPT_USERNAME: username = optarg; break;
        case 'c': config = optarg; break;
        case 's': cfg.store_path = optarg; break;
        case OPT_STRICT: cfg.strict = 1; break;
        case OPT_MAX_BODY:
            if (parse_count("--max-body", optarg, 1, &n) != 0)
                goto out;
            cfg.max_body = n;
            break;
        case OPT_TIMEOUT:
            if (parse_count("--timeout", optarg, 1, &n) != 0)
                goto out;
            cfg.idle_timeout_s = (unsigned)n;
            break;
        case OPT_READY: ready = optarg; break;
        case 'q': cfg.log = NULL; break;
        case OPT_MUTANT: cfg.mutant = optarg; break;
        case OPT_LIST_MUTANTS: {
            size_t count;
            const ec_serve_mutant *m = ec_serve_mutants(&count);
            for (size_t i = 0; i < count; i++)
                printf("%-24s %-40s %s\n", m[i].name, m[i].catching_case, m[i].description);
            m = ec_serve_emulations(&count);
            for (size_t i = 0; i < count; i++)
                printf("%-24s %-40s %s\n", m[i].name, "(emulation: 0 FAIL, every run)", m[i].description);
            rc = EC_EXIT_PASS;
            goto out;
        }
        case 'V':
            rc = cli_print_version();
            goto out;
        case 'h':
            cli_print_usage(self, stdout);
            rc = EC_EXIT_PASS;
            goto out;
        default:
            rc = cli_option_error(c, argv);
            goto out;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!config && (!userid || !apikey)) {
        rc = cli_usage_error("give --userid and --apikey, or --config FILE");
        goto out;
    }
    if (userid || apikey) {
        if (!userid || !apikey) {
            rc = cli_usage_error("--userid and --apikey go together");
            goto out;
        }
        ec_status st = ec_serve_users_add(&users, userid, apikey, username);
        if (st == EC_E_KEY) {
            rc = cli_usage_error("--apikey: expected 32 hex digits");
            goto out;
        }
        if (st != EC_OK) {
            rc = cli_usage_error("--userid: expected a plain decimal number, got '%s'", userid);
            goto out;
        }
    }
    if (config) {
        char err[400];
        if (ec_serve_users_load(&users, config, err, sizeof err) != EC_OK) {
            rc = cli_usage_error("--config: %s", err);
            goto out;
        }
    }
    if (cfg.mutant && !ec_serve_mutant_find(cfg.mutant)) {
        rc = cli_usage_error("--mutant: no mutant '%s' (--list-mutants)", cfg.mutant);
        goto out;
    }
    cfg.users = &users;

    /* Signals first, so a Ctrl-C during start-up still stops cleanly. */
    cli_on_stop_signals(on_signal);
    signal(SIGPIPE, SIG_IGN);

    ec_serve *server = NULL;
    char err[300] = "";
    if (ec_serve_start(&cfg, &server, err, sizeof err) != EC_OK) {
        rc = cli_usage_error("%s", err[0] ? err : "could not start");
        goto out;
    }
    running = server;
    char base[128];
    ec_serve_base_url(server, base, sizeof base);
    fprintf(stderr, "emoncrypt serve: listening on %s (%zu user%s, %s%s%s%s%s)\n", base, users.n,
            users.n == 1 ? "" : "s", cfg.strict ? "strict" : "compat (as Emoncms)",
            cfg.store_path ? ", store " : ", memory store", cfg.store_path ? cfg.store_path : "",
            cfg.mutant ? ", MUTANT " : "", cfg.mutant ? cfg.mutant : "");
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (!f || fprintf(f, "%s\n", base) < 0 || fclose(f) != 0) {
            ec_serve_stop(server);
            running = NULL;
            rc = cli_usage_error("--ready-file: cannot write %s", ready);
            goto out;
        }
    }
    /* Polled rather than pause()d: a signal between the test and the
     * pause would otherwise be missed. */
    while (!stop_requested) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    uint64_t requests = 0, accepted = 0, rows = 0;
    ec_serve_stats(server, &requests, &accepted, &rows);
    running = NULL;
    ec_serve_stop(server);
    fprintf(stderr, "emoncrypt serve: stopped after %llu requests, %llu accepted, %llu rows stored\n",
            (unsigned long long)requests, (unsigned long long)accepted, (unsigned long long)rows);
    rc = EC_EXIT_PASS;
out:
    ec_serve_users_free(&users);
    return rc;
}
