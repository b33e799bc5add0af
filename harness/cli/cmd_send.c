/* emoncrypt send — the reference client: post readings to an Emoncms over
 * the encrypted input protocol, verify each ack, keep and resend what was
 * not acknowledged (fresh IV, backoff), never send a row twice
 * (suites/client/sender.c does the work). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client/sender.h"
#include "commands.h"
#include "emoncrypt/message.h"

const char cmd_send_usage[] =
    "send URL --userid N --apikey HEX [options] PLAINTEXT|-|@FILE\n"
    "       send URL --userid N --apikey HEX --bulk FILE.csv [options]\n"
    "\n"
    "Posts to the Emoncms at URL (its base, e.g. http://192.168.1.10 or\n"
    "http://host/emoncms; a URL ending in /input/post, /input/bulk or\n"
    "/input/post/NODE is used as is) without TLS, as a careful device does:\n"
    "a fresh random IV for every message, the server's answer compared with\n"
    "the expected ack, anything else taken as not delivered and resent later\n"
    "with a fresh IV and a growing wait, never a row twice.\n"
    "\n"
    "PLAINTEXT is one unencoded query string, e.g.\n"
    "  'node=emontx&fulljson={\"power1\":100}'  ('-' reads stdin, '@FILE' a file)\n"
    "--bulk FILE.csv reads rows 'timestamp,value,value,...' (a header line and\n"
    "'#' comments are skipped; an empty value is null) and posts them in\n"
    "batches to /input/bulk as IoTaWatt does: time=T&data=[[dt,\"node\",v1,...],...].\n"
    "Exit 0: everything acknowledged; 1: data left undelivered (see\n"
    "--undelivered); 2: usage error, or nothing listens at URL.  The API key\n"
    "is never printed.\n"
    "\n"
    "Options:\n"
    "  -u, --userid N          the account's user id\n"
    "  -k, --apikey HEX        the account's write API key (32 hex digits)\n"
    "  -p, --profile P         aes128cbc (default), aes128cbcgz or legacy\n"
    "      --username U        the account's username (legacy profile)\n"
    "      --node NAME         bulk: node of every row (default emoncrypt);\n"
    "                          PLAINTEXT: post to /input/post/NAME\n"
    "      --bulk FILE.csv     send rows from a CSV file ('-' = stdin)\n"
    "      --rows-per-post K   rows per bulk post (default 10)\n"
    "      --retries N         resends per post before giving up (default 5;\n"
    "                          -1 = forever)\n"
    "      --interval-ms M     wait between posts (default 10000)\n"
    "      --retry-ms M        first wait after a failure, doubled each time\n"
    "                          (default 10000)\n"
    "      --max-backoff-ms M  longest wait between resends (default 300000)\n"
    "      --timeout-ms M      per request (default 3000)\n"
    "      --undelivered FILE  write rows left undelivered there (CSV)\n"
    "  -q, --quiet             no line per post\n"
    "  -h, --help              show this help\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "Testing the tests (a deliberately wrong client, for test-client's own checks):\n"
    "      --mutant NAME       post with one known client mistake\n"
    "      --list-mutants      list them and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt send http://127.0.0.1:8080 --userid 1 --apikey $KEY 'node=emontx&fulljson={\"power1\":100}'\n"
    "  emoncrypt send http://emonpi.local -u 1 -k $KEY --bulk readings.csv --node house\n";

enum { OPT_NODE = 256, OPT_BULK, OPT_ROWS_PER_POST, OPT_INTERVAL, OPT_RETRY_MS,
       OPT_MAX_BACKOFF, OPT_TIMEOUT, OPT_UNDELIVERED, OPT_MUTANT, OPT_LIST_MUTANTS };

static const struct option send_options[] = {
    {"userid", required_argument, NULL, 'u'},
    {"apikey", required_argument, NULL, 'k'},
    {"profile", required_argument, NULL, 'p'},
    {"username", required_argument, NULL, CLI_OPT_USERNAME},
    {"node", required_argument, NULL, OPT_NODE},
    {"bulk", required_argument, NULL, OPT_BULK},
    {"rows-per-post", required_argument, NULL, OPT_ROWS_PER_POST},
    {"retries", required_argument, NULL, 'r'},
    {"interval-ms", required_argument, NULL, OPT_INTERVAL},
    {"retry-ms", required_argument, NULL, OPT_RETRY_MS},
    {"max-backoff-ms", required_argument, NULL, OPT_MAX_BACKOFF},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"undelivered", required_argument, NULL, OPT_UNDELIVERED},
    /* Test-only, not in the help: a known-broken device (sender.h). */
    {"mutant", required_argument, NULL, OPT_MUTANT},
    {"list-mutants", no_argument, NULL, OPT_LIST_MUTANTS},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static volatile int stop_sending;

static void on_signal(int sig)
{
    (void)sig;
    stop_sending = 1;
}

static int parse_ms(const char *opt, const char *text, unsigned *out)
{
    char *end = NULL;
    unsigned long v = strtoul(text, &end, 10);
    if (text[0] == 0 || *end != 0 || v > 86400000UL) {
        cli_usage_error("%s: expected milliseconds (0..86400000), got '%s'", opt, text);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

int cmd_send(const ec_cli_command *self, int argc, char **argv)
{
    ec_sender_options o;
    memset(&o, 0, sizeof o);
    o.retries = 5;
    o.interval_ms = 10000;
    o.retry_ms = 10000;
    o.max_backoff_ms = 300000;
    o.timeout_ms = 3000;
    o.log = stderr;
    const char *bulk = NULL;
    cli_identity id = {.profile = EC_PROFILE_AES128CBC};
    uint8_t *input = NULL;
    size_t input_len = 0;
    ec_sender_rows rows = {0};
    int rc = EC_EXIT_USAGE;

    int c;
    while ((c = getopt_long(argc, argv, ":u:k:p:qhV", send_options, NULL)) != -1) {
        switch (c) {
        case OPT_NODE: o.node = optarg; break;
        case OPT_BULK: bulk = optarg; break;
        case OPT_ROWS_PER_POST: {
            unsigned k = 1;
            if (parse_ms("--rows-per-post", optarg, &k) != 0 || k == 0) {
                if (k == 0)
                    cli_usage_error("--rows-per-post: at least 1");
                goto out;
            }
            o.rows_per_post = k;
            break;
        }
        case 'r': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (!optarg[0] || *end != 0 || v < -1 || v > 1000000) {
                cli_usage_error("--retries: expected -1 or a count, got '%s'", optarg);
                goto out;
            }
            o.retries = (int)v;
            break;
        }
        case OPT_INTERVAL:
            if (parse_ms("--interval-ms", optarg, &o.interval_ms) != 0)
                goto out;
            break;
        case OPT_RETRY_MS:
            if (parse_ms("--retry-ms", optarg, &o.retry_ms) != 0)
                goto out;
            break;
        case OPT_MAX_BACKOFF:
            if (parse_ms("--max-backoff-ms", optarg, &o.max_backoff_ms) != 0)
                goto out;
            break;
        case OPT_TIMEOUT:
            if (parse_ms("--timeout-ms", optarg, &o.timeout_ms) != 0)
                goto out;
            break;
        case OPT_UNDELIVERED: o.undelivered_path = optarg; break;
        case OPT_MUTANT:
            o.mutant = ec_sender_mutant_find(optarg);
            if (o.mutant == NULL) {
                cli_usage_error("--mutant: no mutant named '%s' (see --list-mutants)", optarg);
                goto out;
            }
            break;
        case OPT_LIST_MUTANTS:
            for (size_t i = 0; i < ec_sender_mutant_count; i++)
                printf("%-20s %-32s [%s] %s\n", ec_sender_mutants[i].name,
                       ec_sender_mutants[i].expected_check, ec_sender_mutants[i].scenario,
                       ec_sender_mutants[i].what);
            rc = EC_EXIT_PASS;
            goto out;
        case 'q': o.log = NULL; break;
        case 'V':
            rc = cli_print_version();
            goto out;
        case 'h':
            cli_print_usage(self, stdout);
            rc = EC_EXIT_PASS;
            goto out;
        default:
            if (cli_common_option(c, optarg, argv, &id, NULL) != 0)
                goto out;
            break;
        }
    }
    o.userid = id.userid;
    o.apikey_hex = id.apikey_hex;
    o.profile = id.profile;
    o.username = id.username;
    if (optind >= argc) {
        rc = cli_usage_error("expected URL (see --help)");
        goto out;
    }
    o.url = argv[optind++];
    if (strncmp(o.url, "http://", 7) != 0) {
        rc = cli_usage_error("URL: expected http://HOST[:PORT][/PATH], got '%s'%s", o.url,
                             strncmp(o.url, "https://", 8) == 0
                                 ? " (this protocol is for servers without TLS)" : "");
        goto out;
    }
    if (o.userid == NULL && o.profile != EC_PROFILE_LEGACY) {
        rc = cli_usage_error("--userid is required");
        goto out;
    }
    if (o.apikey_hex == NULL) {
        rc = cli_usage_error("--apikey is required");
        goto out;
    }
    if (cli_identity_check_legacy(&id, EC_PROFILE_LEGACY) != 0)
        goto out;
    if (bulk != NULL) {
        if (optind < argc) {
            rc = cli_usage_error("--bulk takes its rows from the file; unexpected '%s'",
                                 argv[optind]);
            goto out;
        }
        if (cli_read_file(bulk, &input, &input_len) != 0)
            goto out;
        char err[160] = "";
        ec_status st = ec_sender_rows_parse((const char *)input, input_len, &rows, err, sizeof err);
        if (st != EC_OK) {
            rc = cli_usage_error("--bulk %s: %s", bulk, err[0] ? err : ec_status_text(st));
            goto out;
        }
        if (rows.n == 0) {
            rc = cli_usage_error("--bulk %s: no rows", bulk);
            goto out;
        }
        o.rows = &rows;
    } else {
        if (optind + 1 != argc) {
            rc = cli_usage_error("expected one PLAINTEXT after URL (or --bulk FILE.csv)");
            goto out;
        }
        if (cli_read_input("PLAINTEXT", argv[optind], &input, &input_len) != 0)
            goto out;
        o.plaintext = input;
        o.plaintext_len = input_len;
    }

    cli_on_stop_signals(on_signal);
    o.stop = &stop_sending;
    ec_sender_result res;
    int r = ec_sender_run(&o, &res);
    cli_default_stop_signals();
    if (r == 2) {
        rc = cli_usage_error("%s", res.message);
        goto out;
    }
    if (o.log != NULL || r != 0)
        fprintf(stderr, "emoncrypt send: %zu of %zu posts acknowledged, %zu requests (%zu "
                "resends)%s%s\n", res.delivered, res.batches, res.posts, res.resends,
                res.message[0] ? "; " : "", res.message);
    rc = r == 0 ? EC_EXIT_PASS : EC_EXIT_FAIL;
out:
    ec_sender_rows_free(&rows);
    free(input);
    memset(id.apikey, 0, sizeof id.apikey);
    return rc;
}
