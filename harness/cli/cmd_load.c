/* emoncrypt load — a fleet of simulated devices posting encrypted readings
 * to a server: achieved rate, latency percentiles, answers that were not
 * the ack (harness/src/load.c does the work). */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "emoncrypt/httpclient.h"
#include "emoncrypt/load.h"

const char cmd_load_usage[] =
    "load URL --userid N --apikey HEX [--devices D] [--rate R] [--duration S]\n"
    "            [--bulk-rows K] [options]\n"
    "\n"
    "Simulates a fleet of D devices posting encrypted readings to the server at\n"
    "URL (its base, e.g. http://127.0.0.1:8080): each device has its own node\n"
    "(emoncrypt_load_I), a fresh random IV for every post and real timestamps,\n"
    "and checks every reply against the ack it expects.  Reports the rate\n"
    "achieved, latency percentiles, the answers that were not the ack (grouped)\n"
    "and ack mismatches.  Runs at most --duration seconds and --requests\n"
    "posts.  Only loopback targets unless --allow-remote: a load test against\n"
    "someone else's server is an attack.  Exit 0: every post acked; 1: some\n"
    "were not; 2: usage error, refused target, or nothing listens at URL.\n"
    "The API key is never printed.\n"
    "\n"
    "Options:\n"
    "  -u, --userid N          the account's user id\n"
    "  -k, --apikey HEX        the account's write API key (32 hex digits)\n"
    "  -D, --devices D         simulated devices (default 4)\n"
    "      --connections C     kept-alive connections, one thread each; the\n"
    "                          devices take turns on them (default min(D, 16))\n"
    "  -r, --rate R            posts per second over the whole fleet (default 0:\n"
    "                          as fast as the server answers)\n"
    "  -d, --duration S        seconds to run (default 10, at most 3600)\n"
    "  -n, --requests N        stop after N posts (default 10000000; the old\n"
    "                          name --max-requests works too)\n"
    "  -b, --bulk-rows K       post K rows per request to /input/bulk, as\n"
    "                          IoTaWatt does (default 0: /input/post, fulljson)\n"
    "      --timeout-ms M      per request (default 3000)\n"
    "      --allow-remote      allow a target outside 127.0.0.0/8, ::1, localhost\n"
    "      --json FILE         also write the result as JSON ('-' = stdout)\n"
    "  -q, --quiet             print only the one-line summary (no line a\n"
    "                          second on stderr while it runs)\n"
    "  -h, --help              show this help\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt load http://127.0.0.1:8080 --userid 1 --apikey $KEY --devices 100 --duration 30\n"
    "  emoncrypt load http://127.0.0.1:8080 -u 1 -k $KEY -D 1000 -r 500 --json load.json\n";

enum { OPT_TIMEOUT = 256, OPT_ALLOW_REMOTE, OPT_JSON };

static const struct option load_options[] = {
    {"userid", required_argument, NULL, 'u'},
    {"apikey", required_argument, NULL, 'k'},
    {"devices", required_argument, NULL, 'D'},
    {"connections", required_argument, NULL, 'c'},
    {"rate", required_argument, NULL, 'r'},
    {"duration", required_argument, NULL, 'd'},
    {"requests", required_argument, NULL, 'n'},
    {"max-requests", required_argument, NULL, 'n'},
    {"bulk-rows", required_argument, NULL, 'b'},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE},
    {"json", required_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static volatile int stop_load;

static void on_signal(int sig)
{
    (void)sig;
    stop_load = 1;
}

static json_t *result_json(const ec_load_result *r)
{
    json_t *answers = json_array();
    for (size_t i = 0; i < r->answer_kinds; i++)
        json_array_append_new(answers, json_pack("{s:s,s:I}", "answer", r->answers[i].text,
                                                 "count", (json_int_t)r->answers[i].count));
    json_t *transport = json_object();
    for (unsigned e = 1; e < 16; e++)
        if (r->by_transport[e])
            json_object_set_new(transport, ec_http_error_name((ec_http_error)e),
                                json_integer((json_int_t)r->by_transport[e]));
    json_t *latency = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "p50", r->p50_ms, "p90", r->p90_ms,
                                "p99", r->p99_ms, "p999", r->p999_ms, "max", r->max_ms, "mean",
                                r->mean_ms);
    return json_pack("{s:i,s:i,s:i,s:f,s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}",
                     "devices", (int)r->devices, "connections", (int)r->connections,
                     "bulk_rows", (int)r->bulk_rows, "target_rate", r->target_rate,
                     "achieved_rate", r->achieved_rate, "elapsed_s", r->elapsed_s,
                     "sent", (json_int_t)r->sent, "acked", (json_int_t)r->acked,
                     "ack_mismatch", (json_int_t)r->ack_mismatch,
                     "wrong_answer", (json_int_t)r->wrong_answer,
                     "transport_errors", (json_int_t)r->transport_errors,
                     "other_answers", (json_int_t)r->other_answers, "latency_ms", latency,
                     "answers", answers, "transport", transport);
}

/* A line a second on stderr while the load runs (not with -q, never in
 * --json): time, posts, this second's rate, what was answered. */
static void print_progress(const ec_load_progress *p, void *arg)
{
    (void)arg;
    fprintf(stderr, "emoncrypt load: %.0f s of %.0f: %llu posts (%.0f/s), %llu acked, %llu other answers, "
            "%llu transport errors\n", p->elapsed_s, p->duration_s, (unsigned long long)p->sent, p->rate_last_s,
            (unsigned long long)p->acked, (unsigned long long)p->not_acked,
            (unsigned long long)p->transport_errors);
}

static void print_result(const ec_load_result *r, int quiet)
{
    if (!quiet) {
        printf("devices %u over %u connection%s, %s%u row%s per post\n", r->devices,
               r->connections, r->connections == 1 ? "" : "s",
               r->bulk_rows ? "/input/bulk, " : "/input/post, ", r->bulk_rows ? r->bulk_rows : 1,
               r->bulk_rows > 1 ? "s" : "");
        if (r->target_rate > 0)
            printf("rate      %.1f posts/s achieved (%.1f asked)\n", r->achieved_rate,
                   r->target_rate);
        else
            printf("rate      %.1f posts/s achieved (unthrottled)\n", r->achieved_rate);
        printf("latency   p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms\n",
               r->p50_ms, r->p90_ms, r->p99_ms, r->p999_ms, r->max_ms);
        printf("answers   %llu acked, %llu ack mismatch, %llu other answer, %llu transport error\n",
               (unsigned long long)r->acked, (unsigned long long)r->ack_mismatch,
               (unsigned long long)r->wrong_answer, (unsigned long long)r->transport_errors);
        for (size_t i = 0; i < r->answer_kinds; i++)
            printf("  %8llu  %s\n", (unsigned long long)r->answers[i].count, r->answers[i].text);
        if (r->other_answers)
            printf("  %8llu  (other answers)\n", (unsigned long long)r->other_answers);
        for (unsigned e = 1; e < 16; e++)
            if (r->by_transport[e])
                printf("  %8llu  transport: %s\n", (unsigned long long)r->by_transport[e],
                       ec_http_error_name((ec_http_error)e));
    }
    printf("emoncrypt load: %llu posts in %.2f s = %.1f/s, p99 %.3f ms, %llu acked, "
           "%llu ack mismatch, %llu not acked\n",
           (unsigned long long)r->sent, r->elapsed_s, r->achieved_rate, r->p99_ms,
           (unsigned long long)r->acked, (unsigned long long)r->ack_mismatch,
           (unsigned long long)(r->wrong_answer + r->transport_errors));
}

int cmd_load(const ec_cli_command *self, int argc, char **argv)
{
    ec_load_options o;
    memset(&o, 0, sizeof o);
    const char *json_path = NULL;
    int quiet = 0, have_key = 0;
    int rc = EC_EXIT_USAGE;
    double v;

    int c;
    while ((c = getopt_long(argc, argv, ":u:k:D:r:d:n:b:qhV", load_options, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (cli_parse_userid("--userid", optarg) != 0)
                goto out;
            o.userid = optarg;
            break;
        case 'k':
            if (cli_parse_hex16("--apikey", optarg, o.key) != 0)
                goto out;
            have_key = 1;
            break;
        case 'D':
            if (cli_parse_number("--devices", optarg, 1, EC_LOAD_MAX_DEVICES, &v) != 0)
                goto out;
            o.devices = (unsigned)v;
            break;
        case 'c':
            if (cli_parse_number("--connections", optarg, 1, EC_LOAD_MAX_CONNECTIONS, &v) != 0)
                goto out;
            o.connections = (unsigned)v;
            break;
        case 'r':
            if (cli_parse_number("--rate", optarg, 0, 1e7, &o.rate) != 0)
                goto out;
            break;
        case 'd':
            if (cli_parse_number("--duration", optarg, 0.001, EC_LOAD_MAX_DURATION_S, &o.duration_s) != 0)
                goto out;
            break;
        case 'n':
            if (cli_parse_number("--requests", optarg, 1, 1e12, &v) != 0)
                goto out;
            o.max_requests = (uint64_t)v;
            break;
        case 'b':
            if (cli_parse_number("--bulk-rows", optarg, 0, EC_LOAD_MAX_BULK_ROWS, &v) != 0)
                goto out;
            o.bulk_rows = (unsigned)v;
            break;
        case OPT_TIMEOUT:
            if (cli_parse_number("--timeout-ms", optarg, 1, 600000, &v) != 0)
                goto out;
            o.timeout_ms = (long)v;
            break;
        case OPT_ALLOW_REMOTE: o.allow_remote = 1; break;
        case OPT_JSON: json_path = optarg; break;
        case 'q': quiet = 1; break;
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
    if (optind + 1 != argc) {
        cli_usage_error(optind >= argc ? "expected the server URL" : "expected one URL, got %d",
                        argc - optind);
        goto out;
    }
    o.url = argv[optind];
    if (!o.userid || !have_key) {
        cli_usage_error("--userid and --apikey are required");
        goto out;
    }
    if (cli_check_output_path("--json", json_path) != 0)
        goto out;   /* before the load, not after it */

    cli_on_stop_signals(on_signal);
    if (!quiet)
        o.progress = print_progress;

    ec_load_result r;
    ec_status st = ec_load_run(&o, &stop_load, &r);
    if (st == EC_E_ARG || st == EC_E_IO) {
        cli_usage_error("%s", r.message[0] ? r.message : ec_status_text(st));
        goto out;
    }
    if (st != EC_OK) {
        cli_fail("%s", ec_status_text(st));
        rc = EC_EXIT_FAIL;
        goto out;
    }
    print_result(&r, quiet);
    if (json_path && cli_write_json("--json", json_path, result_json(&r)) != 0)
        goto out;
    rc = (r.sent > 0 && r.acked == r.sent) ? EC_EXIT_PASS : EC_EXIT_FAIL;
out:
    ec_wipe(o.key, sizeof o.key);
    return rc;
}
