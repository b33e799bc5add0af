/* emoncrypt replay — send the requests of a capture again to a server and
 * compare its answers with the captured ones (replay.h does one request;
 * this file loops over the file and prints). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "client/client_suite.h"
#include "commands.h"
#include "emoncrypt/capture.h"
#include "emoncrypt/httpclient.h"
#include "emoncrypt/replay.h"

const char cmd_replay_usage[] =
    "replay --capture FILE.jsonl [options] URL\n"
    "\n"
    "Sends every request of a capture (written by `test-client --capture`)\n"
    "again, byte for byte (method, path, query, headers, body), to the server\n"
    "at URL (its base, e.g. http://192.168.1.10/emoncms or a running\n"
    "`emoncrypt serve`), one connection kept alive as a device does, and\n"
    "compares each answer with the captured one: HTTP status, Content-Type\n"
    "and body (with the first differing byte).  Reproduces a field problem\n"
    "without the device.  Answers test-client scripted (a wrong ack, a 500)\n"
    "are compared too but do not count as differences, nor do requests the\n"
    "capture holds no answer for (their answer is shown).  Exit 0: every\n"
    "answer the same; 1: a difference; 2: usage error or URL unreachable.\n"
    "\n"
    "Options:\n"
    "      --capture FILE    the capture to replay ('-' = stdin)\n"
    "  -i, --index K         only the K-th request of the capture (from 0)\n"
    "      --timeout-ms M    per request (default 5000)\n"
    "  -f, --format F        text (default) or json\n"
    "  -q, --quiet           print only the differences and the summary\n"
    "  -h, --help            show this help\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt replay --capture device.jsonl http://127.0.0.1:8080\n"
    "  emoncrypt replay --capture device.jsonl --index 3 --format json http://emonpi.local\n";

enum { FORMAT_TEXT, FORMAT_JSON };
static const char *const format_names[] = {"text", "json", NULL};

enum { OPT_TIMEOUT = 256 };

static const struct option replay_options[] = {
    {"capture", required_argument, NULL, 'c'},
    {"index", required_argument, NULL, 'i'},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"format", required_argument, NULL, 'f'},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* test-client's captures name the scenario and step each answer came
 * from: a step that is not the plain ack was scripted. */
static int scripted_by_test_client(void *ctx, const ec_capture_record *rec)
{
    (void)ctx;
    if (rec->scenario == NULL || rec->step < 0)
        return 0;
    const ec_client_scenario *sc = ec_client_scenario_find(rec->scenario);
    if (sc == NULL || (size_t)rec->step >= sc->step_count)
        return 0; /* the observation post: answered with the real ack */
    const ec_scripted_reply *step = &sc->steps[rec->step];
    return step->kind != EC_REPLY_ACK || step->never || step->reset_after >= 0 ||
           step->status != 200;
}

typedef struct {
    size_t replayed, same, different, scripted_different, uncompared, not_sent;
} totals;

static void print_text(const ec_replay_item *it, long index, int quiet)
{
    if (quiet && it->same)
        return;
    const char *mark = it->same ? "same" : !it->has_captured ? "new" : it->scripted ? "diff*"
                                                                                   : "DIFF";
    printf("  #%-3ld %-5s %s %s", index, mark, it->method, it->target);
    if (it->same)
        printf("  HTTP %ld %s: %s\n", it->replayed_status, it->replayed_content_type,
               it->replayed_body);
    else
        printf("\n        %s\n", it->difference);
    if (!it->same) {
        if (it->has_captured)
            printf("        captured: HTTP %u %s: %s\n", it->captured_status,
                   it->captured_content_type, it->captured_body);
        if (it->replayed_status != 0)
            printf("        replayed: HTTP %ld %s: %s\n", it->replayed_status,
                   it->replayed_content_type, it->replayed_body);
    }
    if (it->note[0])
        printf("        note: %s\n", it->note);
}

static json_t *item_json(const ec_replay_item *it, long index)
{
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer(index));
    json_object_set_new(o, "seq", json_integer((json_int_t)it->seq));
    json_object_set_new(o, "method", json_string(it->method));
    json_object_set_new(o, "target", json_string(it->target));
    json_object_set_new(o, "same", json_boolean(it->same));
    json_object_set_new(o, "scripted", json_boolean(it->scripted));
    json_object_set_new(o, "redacted", json_boolean(it->redacted));
    if (it->has_captured) {
        json_t *c = json_object();
        json_object_set_new(c, "status", json_integer(it->captured_status));
        json_object_set_new(c, "content_type", json_string(it->captured_content_type));
        json_object_set_new(c, "body", json_string(it->captured_body));
        json_object_set_new(o, "captured", c);
    }
    json_t *r = json_object();
    json_object_set_new(r, "status", json_integer(it->replayed_status));
    json_object_set_new(r, "content_type", json_string(it->replayed_content_type));
    json_object_set_new(r, "body", json_string(it->replayed_body));
    json_object_set_new(r, "error", json_string(ec_http_error_name(it->error)));
    json_object_set_new(o, "replayed", r);
    json_object_set_new(o, "same_status", json_boolean(it->same_status));
    json_object_set_new(o, "same_content_type", json_boolean(it->same_content_type));
    json_object_set_new(o, "same_body", json_boolean(it->same_body));
    json_object_set_new(o, "first_diff", it->first_diff >= 0 ? json_integer(it->first_diff)
                                                             : json_null());
    json_object_set_new(o, "difference", json_string(it->difference));
    json_object_set_new(o, "note", json_string(it->note));
    return o;
}

int cmd_replay(const ec_cli_command *self, int argc, char **argv)
{
    const char *capture = NULL;
    long only_index = -1, timeout_ms = 5000;
    int format = FORMAT_TEXT, quiet = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":i:f:qhV", replay_options, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'c':
            capture = optarg;
            break;
        case 'i':
            only_index = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end != 0 || only_index < 0)
                return cli_usage_error("--index: expected a request number from 0, got '%s'",
                                       optarg);
            break;
        case OPT_TIMEOUT:
            timeout_ms = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end != 0 || timeout_ms <= 0)
                return cli_usage_error("--timeout-ms: expected a positive number, got '%s'",
                                       optarg);
            break;
        case 'f':
            if (cli_parse_choice("--format", optarg, format_names, &format) != 0)
                return EC_EXIT_USAGE;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'V': return cli_print_version();
        case 'h':
            cli_print_usage(self, stdout);
            return EC_EXIT_PASS;
        default:
            return cli_option_error(c, argv);
        }
    }
    if (capture == NULL)
        return cli_usage_error("--capture FILE is required");
    if (optind >= argc)
        return cli_usage_error("expected the URL of the server to replay to");
    if (argc - optind > 1)
        return cli_usage_error("expected one URL, got %d arguments", argc - optind);
    const char *url = argv[optind];
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return cli_usage_error("expected an http:// URL, got '%s'", url);

    FILE *f = strcmp(capture, "-") == 0 ? stdin : fopen(capture, "r");
    if (f == NULL)
        return cli_usage_error("--capture: cannot open '%s'", capture);
    ec_http_client *client = ec_http_client_new();
    json_t *items = json_array();
    if (client == NULL || items == NULL) {
        if (f != stdin)
            fclose(f);
        ec_http_client_free(client);
        json_decref(items);
        return cli_fail("out of memory");
    }
    ec_replay_config cfg = {.base_url = url, .timeout_ms = timeout_ms,
                            .scripted = scripted_by_test_client};
    totals t = {0};
    long index = 0;
    int rc = EC_EXIT_PASS;
    size_t bad_lines = 0;
    if (format == FORMAT_TEXT && !quiet)
        printf("replaying %s to %s\n", capture, url);
    for (;;) {
        ec_capture_record rec;
        memset(&rec, 0, sizeof rec);
        char err[256];
        int got = ec_capture_read(f, &rec, err, sizeof err);
        if (got == 0)
            break;
        if (got < 0) {
            if (bad_lines++ == 0)
                fprintf(stderr, "emoncrypt replay: %s: %s (skipped)\n", capture, err);
            continue;
        }
        int is_request = rec.kind != NULL && strcmp(rec.kind, "exchange") == 0 &&
                         rec.method != NULL && rec.path != NULL;
        if (!is_request || (only_index >= 0 && index != only_index)) {
            index += is_request;
            ec_capture_record_free(&rec);
            continue;
        }
        ec_replay_item it;
        ec_status st = ec_replay_record(client, &cfg, &rec, &it);
        ec_capture_record_free(&rec);
        if (st != EC_OK) {
            rc = cli_fail("request %ld: %s", index, ec_status_text(st));
            break;
        }
        if (!it.sent && t.replayed == 0) {
            /* Nothing listens there: stop before reporting every request. */
            rc = cli_usage_error("%s: %s", url, it.error_text);
            break;
        }
        t.replayed++;
        if (!it.sent)
            t.not_sent++;
        if (it.same)
            t.same++;
        else if (!it.has_captured)
            t.uncompared++;
        else if (it.scripted)
            t.scripted_different++;
        else
            t.different++;
        if (format == FORMAT_JSON)
            json_array_append_new(items, item_json(&it, index));
        else
            print_text(&it, index, quiet);
        index++;
    }
    if (f != stdin)
        fclose(f);
    ec_http_client_free(client);
    if (rc == EC_EXIT_PASS && t.replayed == 0)
        rc = only_index >= 0
                 ? cli_usage_error("--index %ld: the capture holds only %ld requests",
                                   only_index, index)
                 : cli_usage_error("--capture: '%s' holds no requests", capture);
    if (rc == EC_EXIT_PASS) {
        if (format == FORMAT_JSON) {
            json_t *root = json_object();
            json_object_set_new(root, "capture", json_string(capture));
            json_object_set_new(root, "url", json_string(url));
            json_t *sum = json_object();
            json_object_set_new(sum, "replayed", json_integer((json_int_t)t.replayed));
            json_object_set_new(sum, "same", json_integer((json_int_t)t.same));
            json_object_set_new(sum, "different", json_integer((json_int_t)t.different));
            json_object_set_new(sum, "scripted_different",
                                json_integer((json_int_t)t.scripted_different));
            json_object_set_new(sum, "uncompared", json_integer((json_int_t)t.uncompared));
            json_object_set_new(sum, "not_sent", json_integer((json_int_t)t.not_sent));
            json_object_set_new(root, "totals", sum);
            json_object_set_new(root, "requests", json_incref(items));
            char *s = json_dumps(root, JSON_INDENT(2));
            json_decref(root);
            if (s != NULL)
                printf("%s\n", s);
            free(s);
        } else {
            printf("%zu replayed: %zu same, %zu different, %zu differ from a scripted answer "
                   "(expected), %zu without a captured answer, %zu could not be sent\n",
                   t.replayed, t.same, t.different, t.scripted_different, t.uncompared,
                   t.not_sent);
        }
        if (t.different > 0)
            rc = EC_EXIT_FAIL;
    }
    json_decref(items);
    if (fflush(stdout) != 0 && rc == EC_EXIT_PASS)
        rc = cli_fail("cannot write the output");
    return rc;
}
