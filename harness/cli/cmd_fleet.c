/* emoncrypt fleet — a fleet of devices for an external, distributed load
 * engine (Tsung): `fleet export` writes the scenario and its pre-encrypted
 * corpus, `fleet check` reads what a Tsung run did (load_export.c). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "emoncrypt/load.h"
#include "emoncrypt/serve.h"

const char cmd_fleet_usage[] =
    "fleet export DIR URL (--config USERS.json | --userid N --apikey HEX) [options]\n"
    "       fleet check DIR --dump TSUNG.dump [--store FILE] [--serve-log FILE]\n"
    "                 [--tsung-log FILE]\n"
    "\n"
    "For a fleet bigger than one machine drives: Tsung (Debian's tsung; a\n"
    "controller and agents on any number of hosts) replays requests that\n"
    "emoncrypt built, and matches every answer against its expected ack.\n"
    "\n"
    "export writes to DIR: corpus.csv (one pre-encrypted request per line:\n"
    "path;Authorization;body;ack; never a key), expected.tsv (the rows each line\n"
    "stores) and scenario.xml (Tsung: one POST per session, each corpus line sent\n"
    "once, in order; a wrong or missing ack is a 'nomatch').  Each device has its\n"
    "own node and its user's key (round robin over the users), a fresh random IV\n"
    "for every request, and rows in ascending time ending now.  Run it with\n"
    "  tsung -n -f DIR/scenario.xml -l LOGDIR start\n"
    "\n"
    "check reads Tsung's protocol dump (LOGDIR/*/tsung.dump), prints requests/s,\n"
    "latency percentiles and the answers that were not the ack, and with --store\n"
    "(emoncrypt serve's JSONL store) checks that the server stored exactly the\n"
    "rows of the acknowledged requests: none lost, none duplicated, none of a\n"
    "request that was not acked; with --serve-log (serve --strict's log) that its\n"
    "replay cache refused nothing; and that Tsung's own statistics (tsung.log\n"
    "beside the dump, or --tsung-log) count as many matches as the dump has acks\n"
    "and no nomatch, error or other HTTP status.\n"
    "Exit 0: all of that holds; 1: it does not;\n"
    "2: usage error or an unreadable file.\n"
    "\n"
    "Options of export:\n"
    "  -c, --config FILE       users {\"users\": [{\"userid\": 1, \"apikey\": \"HEX\"}, …]}\n"
    "                          (the format of emoncrypt serve --config)\n"
    "  -u, --userid N          one user instead of --config\n"
    "  -k, --apikey HEX        that user's write API key (32 hex digits)\n"
    "  -D, --devices D         simulated devices (default: one per user; at most\n"
    "                          32 per user, an Emoncms account's node limit)\n"
    "  -n, --requests N        corpus lines = posts (default 10000)\n"
    "  -b, --bulk-rows K       post K rows per request to /input/bulk (default 0:\n"
    "                          /input/post with fulljson)\n"
    "      --interval S        seconds between one device's posts (default 10)\n"
    "      --end-time T        unix time of the newest post (default now)\n"
    "  -r, --rate R            Tsung's arrival rate, posts/s (default 100)\n"
    "  -d, --duration S        Tsung's arrival phase, seconds (default N / R)\n"
    "      --agent HOST[:VMS]  a Tsung agent host (repeatable; VMS Erlang VMs on\n"
    "                          it, one per core); none: the controller's own VM\n"
    "  -q, --quiet             no summary line\n"
    "Options of check:\n"
    "      --dump FILE         Tsung's tsung.dump of the run\n"
    "  -s, --store FILE        the server's store (emoncrypt serve --store)\n"
    "      --serve-log FILE    emoncrypt serve --strict's log (stderr)\n"
    "      --tsung-log FILE    Tsung's tsung.log (default: beside the dump, if there)\n"
    "      --json FILE         also write the result as JSON ('-' = stdout)\n"
    "  -h, --help              show this help\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt fleet export /tmp/fleet http://127.0.0.1:8080 --config users.json \\\n"
    "      --requests 30000 --rate 1000 --agent localhost:2\n"
    "  tsung -n -f /tmp/fleet/scenario.xml -l /tmp/fleet/log start\n"
    "  emoncrypt fleet check /tmp/fleet --dump /tmp/fleet/log/*/tsung.dump \\\n"
    "      --store store.jsonl --serve-log serve.log\n"
    "  tools/run fleet 30        the whole run on this machine, two agents\n";

enum { OPT_END_TIME = 256, OPT_DUMP, OPT_SERVE_LOG, OPT_JSON, OPT_TSUNG_LOG };

static const struct option fleet_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"userid", required_argument, NULL, 'u'},
    {"apikey", required_argument, NULL, 'k'},
    {"devices", required_argument, NULL, 'D'},
    {"requests", required_argument, NULL, 'n'},
    {"bulk-rows", required_argument, NULL, 'b'},
    {"interval", required_argument, NULL, 'i'},
    {"end-time", required_argument, NULL, OPT_END_TIME},
    {"rate", required_argument, NULL, 'r'},
    {"duration", required_argument, NULL, 'd'},
    {"agent", required_argument, NULL, 'a'},
    {"dump", required_argument, NULL, OPT_DUMP},
    {"store", required_argument, NULL, 's'},
    {"serve-log", required_argument, NULL, OPT_SERVE_LOG},
    {"tsung-log", required_argument, NULL, OPT_TSUNG_LOG},
    {"json", required_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct {
    const char *config, *userid, *dump, *store, *serve_log, *json, *tsung_log;
    int have_key, quiet;
    uint8_t key[16];
    ec_load_export_options ex;
    const char *agents[EC_LOAD_EXPORT_MAX_AGENTS];
} fleet_args;

static int parse(fleet_args *a, int argc, char **argv)
{
    double v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:u:k:D:n:b:r:d:s:qhV", fleet_options, NULL)) != -1) {
        switch (c) {
        case 'c': a->config = optarg; break;
        case 'u':
            if (cli_parse_userid("--userid", optarg) != 0)
                return EC_EXIT_USAGE;
            a->userid = optarg;
            break;
        case 'k':
            if (cli_parse_hex16("--apikey", optarg, a->key) != 0)
                return EC_EXIT_USAGE;
            a->have_key = 1;
            break;
        case 'D':
            if (cli_parse_number("--devices", optarg, 1, EC_LOAD_MAX_DEVICES, &v))
                return EC_EXIT_USAGE;
            a->ex.devices = (unsigned)v;
            break;
        case 'n':
            if (cli_parse_number("--requests", optarg, 1, (double)EC_LOAD_EXPORT_MAX_REQUESTS, &v))
                return EC_EXIT_USAGE;
            a->ex.requests = (uint64_t)v;
            break;
        case 'b':
            if (cli_parse_number("--bulk-rows", optarg, 0, EC_LOAD_MAX_BULK_ROWS, &v))
                return EC_EXIT_USAGE;
            a->ex.bulk_rows = (unsigned)v;
            break;
        case 'i':
            if (cli_parse_number("--interval", optarg, 0.001, 86400, &a->ex.interval_s))
                return EC_EXIT_USAGE;
            break;
        case OPT_END_TIME:
            if (cli_parse_number("--end-time", optarg, 1, 4102444800.0, &v))
                return EC_EXIT_USAGE;
            a->ex.end_time = (int64_t)v;
            break;
        case 'r':
            if (cli_parse_number("--rate", optarg, 0.001, 1e7, &a->ex.rate))
                return EC_EXIT_USAGE;
            break;
        case 'd':
            if (cli_parse_number("--duration", optarg, 0.001, 7 * 86400, &a->ex.duration_s))
                return EC_EXIT_USAGE;
            break;
        case 'a':
            if (a->ex.n_agents == EC_LOAD_EXPORT_MAX_AGENTS)
                return cli_usage_error("--agent: at most %u agents", EC_LOAD_EXPORT_MAX_AGENTS);
            a->agents[a->ex.n_agents++] = optarg;
            break;
        case OPT_DUMP: a->dump = optarg; break;
        case 's': a->store = optarg; break;
        case OPT_SERVE_LOG: a->serve_log = optarg; break;
        case OPT_TSUNG_LOG: a->tsung_log = optarg; break;
        case OPT_JSON: a->json = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': return -1;
        case 'V': return -2;
        default: return cli_option_error(c, argv);
        }
    }
    return 0;
}

static int do_export(fleet_args *a, int argc, char **argv)
{
    if (a->dump || a->store || a->serve_log || a->json || a->tsung_log)
        return cli_usage_error("--dump, --store, --serve-log, --tsung-log and --json are "
                               "options of check");
    if (optind + 2 != argc)
        return cli_usage_error("export: expected DIR and URL");
    if (!!a->config == !!(a->userid || a->have_key))
        return cli_usage_error("export: give --config FILE, or --userid and --apikey");
    if (!a->config && !(a->userid && a->have_key))
        return cli_usage_error("export: --userid and --apikey go together");

    ec_serve_users users = {0};
    ec_load_user *list = NULL;
    int rc = EC_EXIT_USAGE;
    char err[256] = "";
    if (a->config) {
        if (ec_serve_users_load(&users, a->config, err, sizeof err) != EC_OK) {
            cli_usage_error("--config: %s", err);
            goto out;
        }
        if (users.n == 0) {
            cli_usage_error("--config %s: no users", a->config);
            goto out;
        }
        list = calloc(users.n, sizeof *list);
        if (!list) {
            cli_fail("out of memory");
            goto out;
        }
        for (size_t i = 0; i < users.n; i++) {
            list[i].userid = users.items[i].userid;
            memcpy(list[i].key, users.items[i].key, sizeof list[i].key);
        }
        a->ex.n_users = users.n;
    } else {
        list = calloc(1, sizeof *list);
        if (!list) {
            cli_fail("out of memory");
            goto out;
        }
        list[0].userid = a->userid;
        memcpy(list[0].key, a->key, sizeof list[0].key);
        a->ex.n_users = 1;
    }
    a->ex.users = list;
    a->ex.dir = argv[optind];
    a->ex.url = argv[optind + 1];
    a->ex.agents = a->agents;
    ec_load_export_result r;
    ec_status st = ec_load_export_tsung(&a->ex, &r);
    if (st == EC_E_ARG || st == EC_E_IO) {
        cli_usage_error("%s", r.message[0] ? r.message : ec_status_text(st));
        goto out;
    }
    if (st != EC_OK) {
        rc = cli_fail("%s", r.message[0] ? r.message : ec_status_text(st));
        goto out;
    }
    if (!a->quiet)
        printf("emoncrypt fleet: %llu requests (%llu rows) of %u devices, %zu users, in "
               "%.2f s = %.0f requests/s, written to %s\n",
               (unsigned long long)r.requests, (unsigned long long)r.rows,
               a->ex.devices ? a->ex.devices : (unsigned)a->ex.n_users, a->ex.n_users, r.seconds,
               r.seconds > 0 ? (double)r.requests / r.seconds : 0.0, a->ex.dir);
    rc = EC_EXIT_PASS;
out:
    if (list)
        for (size_t i = 0; i < a->ex.n_users; i++)
            ec_wipe(list[i].key, sizeof list[i].key);
    free(list);
    ec_serve_users_free(&users);
    return rc;
}

static json_t *check_json(const ec_load_check_result *r)
{
    json_t *j = json_pack("{s:I,s:I,s:I,s:I,s:f,s:f,s:{s:f,s:f,s:f,s:f,s:f}}", "answered",
                          (json_int_t)r->answered, "acked", (json_int_t)r->acked, "not_acked",
                          (json_int_t)r->not_acked, "duplicate_sends", (json_int_t)r->duplicate_sends,
                          "elapsed_s", r->elapsed_s, "rate", r->rate, "latency_ms", "p50", r->p50_ms, "p90",
                          r->p90_ms, "p99", r->p99_ms, "max", r->max_ms, "mean", r->mean_ms);
    if (j && r->store_checked)
        json_object_update_new(j, json_pack("{s:I,s:I,s:I,s:I,s:I}", "rows_expected",
                                            (json_int_t)r->rows_expected, "rows_stored", (json_int_t)r->rows_stored,
                                            "rows_lost", (json_int_t)r->rows_lost, "rows_duplicated",
                                            (json_int_t)r->rows_duplicated, "rows_unexpected",
                                            (json_int_t)r->rows_unexpected));
    if (j && r->tsung_checked)
        json_object_set_new(j, "tsung",
                            json_pack("{s:I,s:I,s:I,s:I,s:I}", "requests", (json_int_t)r->tsung_requests, "match",
                                      (json_int_t)r->tsung_match, "nomatch", (json_int_t)r->tsung_nomatch,
                                      "errors", (json_int_t)r->tsung_errors, "not_200",
                                      (json_int_t)r->tsung_not_200));
    if (j && r->replays_checked)
        json_object_set_new(j, "replays", json_integer((json_int_t)r->replays));
    return j;
}

static int do_check(fleet_args *a, int argc, char **argv)
{
    if (a->config || a->userid || a->have_key || a->ex.n_agents)
        return cli_usage_error("--config, --userid, --apikey and --agent are options of export");
    if (optind + 1 != argc)
        return cli_usage_error("check: expected DIR (the export's directory)");
    if (!a->dump)
        return cli_usage_error("check: --dump TSUNG.dump is required");
    ec_load_check_options o = {.dir = argv[optind], .dump_path = a->dump,
                               .store_path = a->store, .serve_log_path = a->serve_log,
                               .tsung_log_path = a->tsung_log};
    ec_load_check_result r;
    ec_status st = ec_load_check_tsung(&o, &r);
    if (st != EC_OK)
        return cli_usage_error("%s", r.message[0] ? r.message : ec_status_text(st));
    int good = r.not_acked == 0 && r.duplicate_sends == 0 && r.rows_lost == 0 &&
               r.rows_duplicated == 0 && r.rows_unexpected == 0 && r.replays == 0 &&
               (!r.tsung_checked || (r.tsung_match == r.acked && r.tsung_nomatch == 0 &&
                                     r.tsung_errors == 0 && r.tsung_not_200 == 0));
    printf("requests  %llu answered in %.1f s = %.1f/s; %llu acked, %llu not acked%s\n",
           (unsigned long long)r.answered, r.elapsed_s, r.rate, (unsigned long long)r.acked,
           (unsigned long long)r.not_acked,
           r.duplicate_sends ? " (some corpus lines were sent twice: the corpus wrapped)" : "");
    printf("latency   p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  mean %.2f ms\n",
           r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, r.mean_ms);
    if (r.store_checked)
        printf("store     %llu rows expected of the acked requests, %llu stored: %llu lost, "
               "%llu duplicated, %llu of requests not acked\n",
               (unsigned long long)r.rows_expected, (unsigned long long)r.rows_stored,
               (unsigned long long)r.rows_lost, (unsigned long long)r.rows_duplicated,
               (unsigned long long)r.rows_unexpected);
    if (r.tsung_checked)
        printf("tsung     %llu requests, %llu match, %llu nomatch, %llu errors, %llu not 200%s\n",
               (unsigned long long)r.tsung_requests, (unsigned long long)r.tsung_match,
               (unsigned long long)r.tsung_nomatch, (unsigned long long)r.tsung_errors,
               (unsigned long long)r.tsung_not_200,
               r.tsung_match != r.acked ? " (its match count is not the dump's acks)" : "");
    if (r.replays_checked)
        printf("replays   %llu refused by the strict server's replay cache\n",
               (unsigned long long)r.replays);
    printf("emoncrypt fleet check: %s\n", good ? "OK" : "FAILED");
    if (a->json && cli_write_json("--json", a->json, check_json(&r)) != 0)
        return EC_EXIT_USAGE;
    return good ? EC_EXIT_PASS : EC_EXIT_FAIL;
}

int cmd_fleet(const ec_cli_command *self, int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0))
        return cli_print_version();
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_print_usage(self, argc < 2 ? stderr : stdout);
        return argc < 2 ? EC_EXIT_USAGE : EC_EXIT_PASS;
    }
    const char *verb = argv[1];
    if (strcmp(verb, "export") != 0 && strcmp(verb, "check") != 0)
        return cli_usage_error("expected 'export' or 'check', got '%s'", verb);
    fleet_args a;
    memset(&a, 0, sizeof a);
    int rc = parse(&a, argc - 1, argv + 1);
    if (rc == -1) {
        cli_print_usage(self, stdout);
        rc = EC_EXIT_PASS;
    } else if (rc == -2) {
        rc = cli_print_version();
    } else if (rc == 0) {
        rc = strcmp(verb, "export") == 0 ? do_export(&a, argc - 1, argv + 1)
                                         : do_check(&a, argc - 1, argv + 1);
    }
    ec_wipe(a.key, sizeof a.key);
    return rc;
}
