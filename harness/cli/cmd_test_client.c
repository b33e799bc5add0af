/* emoncrypt test-client — play Emoncms to a device (suites/client): judge
 * every request it posts, script the answers of the chosen scenarios, and
 * report how it reacted. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "client/client_suite.h"
#include "client/sender.h"
#include "common/select.h"
#include "commands.h"
#include "emoncrypt/capture.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"

const char cmd_test_client_usage[] =
    "test-client --userid N --apikey HEX [options]\n"
    "\n"
    "A mock Emoncms for testing a device (a client of the encrypted input\n"
    "protocol).  Point the device's server setting at the address printed at\n"
    "start; nothing on the device changes.  Every request is checked (path,\n"
    "Content-Type, Authorization, base64, IV, padding, HMAC, plaintext), the\n"
    "traffic is audited across requests (fresh IVs, time order, no duplicates,\n"
    "no lost data, the API key never in clear), and each post the device\n"
    "makes gets the next scripted answer of the scenario (an ack, a wrong ack,\n"
    "an error text, HTTP 500, a timeout, ...) so its reaction can be judged.\n"
    "The run ends after --requests or --duration, once every scenario is done\n"
    "and the device has been quiet for a second, or on Ctrl-C; then the report\n"
    "is printed.  Exit 0: no FAIL; 1: a FAIL; 2: usage error, or INCOMPLETE:\n"
    "the run ended before the device had posted enough to judge every\n"
    "scenario (the report says how long this device needs: --duration).\n"
    "\n"
    "Options:\n"
    "  -u, --userid N        the device's user id\n"
    "  -k, --apikey HEX      the device's write API key (32 hex digits)\n"
    "  -l, --listen ADDR     address to listen on (default 127.0.0.1:8080;\n"
    "                        port 0 picks a free one)\n"
    "  -p, --profile P       aes128cbc (default), aes128cbcgz or legacy\n"
    "      --username U      the account's username (legacy profile)\n"
    "      --scenario NAME   one scenario, several (a,b,c), or all (default);\n"
    "                        see --list\n"
    "      --case ID         report this check or scenario: the id as listed\n"
    "                        (client/2.iv/fresh), without client/, or a shell\n"
    "                        glob ('7.scenario/http-*') (repeatable)\n"
    "      --section S       report the checks under section S: 2, 2.iv,\n"
    "                        client/7.scenario or a glob (repeatable; --case and\n"
    "                        --section add up); only the selected scenarios run\n"
    "      --exclude P       leave out what P matches as a case or a section\n"
    "                        (repeatable).  A pattern that matches nothing: exit 2\n"
    "  -n, --requests N      end after N requests (of this run; also\n"
    "                        --max-requests N)\n"
    "  -d, --duration S      end after S seconds (default 300: a device that\n"
    "                        retries every 10 s needs ~160 s for all 12\n"
    "                        scenarios; 0: no limit)\n"
    "      --linger-ms N     after the last scenario, end when the device has\n"
    "                        been quiet N ms (default 1000)\n"
    "      --state FILE      carry the scenarios over from run to run, for a\n"
    "                        device that posts once per process run (a cron\n"
    "                        script): read FILE at start (missing: a fresh\n"
    "                        start) and write it at the end (atomically) with\n"
    "                        where the scenarios are, what each has seen, the\n"
    "                        digests of acked rows, the newest acked time and\n"
    "                        the IVs seen (never the key, never a plaintext).\n"
    "                        A corrupt file, one of another version, user id,\n"
    "                        --profile or scenario selection: exit 2.  The\n"
    "                        per-request checks judge each run's own posts\n"
    "      --strict          a NON-STRICT verdict is a failure (exit 1), as in\n"
    "                        test-server --strict\n"
    "      --capture FILE    write every request and answer as JSONL (the API\n"
    "                        key redacted, the ciphertext kept)\n"
    "      --port-file FILE  write the port listened on (for scripts)\n"
    "      --seed N          a reproducible run: every random choice of the run\n"
    "                        comes from a generator seeded by N (AES-128-CTR of\n"
    "                        SHA-256 of N, libcrypto), so --self-test sends the\n"
    "                        same bytes each time; the mock's answers are scripted\n"
    "                        data and its connection numbers count from 1.  Default:\n"
    "                        the OS's random source.  Never for a real device's IVs\n"
    "      --from-capture FILE  judge a recorded device instead of listening: every\n"
    "                        request and connection event of a --capture FILE, in\n"
    "                        order, each at its captured arrival time (so the retry\n"
    "                        and time checks see the device's real timing), goes\n"
    "                        through the mock in this process: the same checks,\n"
    "                        report and exit code as the live run.  Give the live\n"
    "                        run's --userid, --apikey, --profile and --scenario.\n"
    "                        An answer of the mock that differs from the captured\n"
    "                        one (status, Content-Type, body or script) is drift:\n"
    "                        each one is printed and client/replay/answers FAILs\n"
    "                        (exit 1).  Record with --show-secrets (a test key\n"
    "                        only) to judge a key sent in clear\n"
    "      --junit FILE      write JUnit XML\n"
    "      --json FILE       write a JSON report\n"
    "      --html FILE       write an HTML report\n"
    "  -v, --verbose         details for every check, not only FAILs\n"
    "  -q, --quiet           no line per request\n"
    "      --show-secrets    do not redact the API key in reports and captures\n"
    "      --self-test       no device at hand: the reference client (send)\n"
    "                        posts to the mock from this process, quickly\n"
    "      --list            print the scenarios and checks a run with these\n"
    "                        options would report (every filter) and their count\n"
    "      --mutants         with --list: each id's mutant devices (the ones it\n"
    "                        must FAIL: send --list-mutants) or why it has none\n"
    "  -h, --help            show this help\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "Testing the tests:\n"
    "      --self-test-mutant NAME  --self-test with a deliberately wrong device\n"
    "                        (send --list-mutants names them)\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt test-client --listen 0.0.0.0:8080 --userid 1 --apikey $KEY --duration 600\n"
    "  emoncrypt test-client -l 127.0.0.1:0 -u 1 -k $KEY --self-test\n"
    "  emoncrypt test-client -u 1 -k $KEY --scenario wrong-ack,http-500 --junit client.xml\n"
    "  emoncrypt test-client --list --section 7.scenario\n"
    "  record a device, then judge the recording again (as ctest transcript/device-*):\n"
    "    emoncrypt test-client -u 1 -k $KEY --seed 1 --capture dev.jsonl --json live.json\n"
    "    emoncrypt test-client -u 1 -k $KEY --seed 1 --from-capture dev.jsonl --json replay.json\n"
    "  a cron device, one post per run, the undelivered rows kept for the next:\n"
    "    for i in $(seq 30); do\n"
    "      echo \"$(date +%s),$i\" >>spool.csv\n"
    "      emoncrypt test-client --state s.json --max-requests 1 -u 1 -k $KEY &\n"
    "      sleep 0.5; rm -f spool.new\n"
    "      emoncrypt send http://127.0.0.1:8080 -u 1 -k $KEY --retries 0 \\\n"
    "        --bulk spool.csv --undelivered spool.new\n"
    "      if [ -f spool.new ]; then mv spool.new spool.csv; else : >spool.csv; fi\n"
    "      wait\n"
    "    done   # each report: 'N/12 scenarios complete, state saved to s.json'\n";

enum { OPT_LINGER = 256, OPT_STRICT, OPT_CAPTURE, OPT_PORT_FILE, OPT_LIST,
       OPT_SELF_TEST, OPT_SELF_TEST_MUTANT, OPT_STATE, OPT_MUTANTS, OPT_SEED,
       OPT_FROM_CAPTURE };

static const struct option test_client_options[] = {
    {"userid", required_argument, NULL, 'u'},
    {"apikey", required_argument, NULL, 'k'},
    {"listen", required_argument, NULL, 'l'},
    {"profile", required_argument, NULL, 'p'},
    {"username", required_argument, NULL, CLI_OPT_USERNAME},
    {"scenario", required_argument, NULL, 's'},
    {"case", required_argument, NULL, CLI_OPT_CASE},
    {"section", required_argument, NULL, CLI_OPT_SECTION},
    {"exclude", required_argument, NULL, CLI_OPT_EXCLUDE},
    {"requests", required_argument, NULL, 'n'},
    {"max-requests", required_argument, NULL, 'n'},
    {"state", required_argument, NULL, OPT_STATE},
    {"duration", required_argument, NULL, 'd'},
    {"linger-ms", required_argument, NULL, OPT_LINGER},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"capture", required_argument, NULL, OPT_CAPTURE},
    {"port-file", required_argument, NULL, OPT_PORT_FILE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"from-capture", required_argument, NULL, OPT_FROM_CAPTURE},
    {"junit", required_argument, NULL, CLI_OPT_JUNIT},
    {"json", required_argument, NULL, CLI_OPT_JSON},
    {"html", required_argument, NULL, CLI_OPT_HTML},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"show-secrets", no_argument, NULL, CLI_OPT_SHOW_SECRETS},
    {"list", no_argument, NULL, OPT_LIST},
    {"mutants", no_argument, NULL, OPT_MUTANTS},
    {"self-test", no_argument, NULL, OPT_SELF_TEST},
    /* Testing the tests: the self-test device is a mutant. */
    {"self-test-mutant", required_argument, NULL, OPT_SELF_TEST_MUTANT},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Set by SIGINT/SIGTERM: stop and report what was seen. */
static volatile int interrupted;
static ec_client_suite *volatile running;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
    ec_client_suite_interrupt(running);
}

/* --self-test: the reference sender as the device, on its own thread. */
typedef struct {
    ec_sender_options opt;
    ec_sender_rows rows;
    ec_sender_result result;
    int rc;
    volatile int done;
    volatile int stop;            /* the run is over: the device stops */
    char url[128];
} self_test;

static void *self_test_run(void *arg)
{
    self_test *t = arg;
    t->rc = ec_sender_run(&t->opt, &t->result);
    t->done = 1;
    return NULL;
}

/* 120 readings 10 s apart, a null every fifth: enough batches of 4 for
 * every scenario, posted with millisecond waits. */
static int self_test_prepare(self_test *t, const ec_client_suite_options *o,
                             const ec_sender_mutant *mutant)
{
    char csv[8192];
    size_t used = 0;
    for (int i = 0; i < 120 && used < sizeof csv - 64; i++) {
        int w = snprintf(csv + used, sizeof csv - used, "%d,%d.5,", 1764000000 + 10 * i, 100 + i);
        used += (size_t)w;
        w = i % 5 == 4 ? snprintf(csv + used, sizeof csv - used, "\n")
                       : snprintf(csv + used, sizeof csv - used, "%d\n", 200 + i);
        used += (size_t)w;
    }
    if (ec_sender_rows_parse(csv, used, &t->rows, NULL, 0) != EC_OK)
        return -1;
    t->opt.url = t->url;
    t->opt.userid = o->userid;
    t->opt.apikey_hex = o->apikey_hex;
    t->opt.username = o->username;
    t->opt.profile = o->profile;
    t->opt.node = "selftest";
    t->opt.rows = &t->rows;
    t->opt.rows_per_post = mutant && (mutant->faults & EC_FAULT_OUT_OF_ORDER) ? 3 : 4;
    t->opt.retries = mutant ? 2 : 8;
    t->opt.interval_ms = 2;
    t->opt.retry_ms = 20;
    t->opt.max_backoff_ms = 300;
    t->opt.timeout_ms = 800;
    t->opt.mutant = mutant;
    t->opt.log = o->verbose ? stderr : NULL; /* -q quiets both sides */
    t->opt.stop = &t->stop;
    return 0;
}

static int parse_count(const char *opt, const char *text, unsigned *out)
{
    char *end = NULL;
    unsigned long v = strtoul(text, &end, 10);
    if (text[0] == 0 || *end != 0 || v > 100000000UL) {
        cli_usage_error("%s: expected a whole number, got '%s'", opt, text);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* name is in the --scenario list (NULL or "all": every scenario). */
static int scenario_listed(const char *list, const char *name)
{
    if (list == NULL || strcmp(list, "all") == 0)
        return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static const ec_client_scenario *scenario_of(const char *id)
{
    for (size_t i = 0; i < ec_client_scenario_count; i++)
        if (strcmp(ec_client_scenarios[i].id, id) == 0)
            return &ec_client_scenarios[i];
    return NULL;
}

/* An id a run reports: every check, and the scenarios --scenario names. */
static int in_run(const char *scenario_list, const char *id)
{
    const ec_client_scenario *sc = scenario_of(id);
    return sc == NULL || scenario_listed(scenario_list, sc->name);
}

/* Checks --scenario's names and every selection pattern against the ids a
 * run reports; writes the scenarios to run (in --scenario's order, "none"
 * when no scenario is selected) into buf and sets *scenario to it.
 * Returns 0, or prints the one error line and returns -1. */
static int select_scenarios(const ec_select *sel, const char **scenario, char *buf, size_t cap,
                            size_t *count)
{
    const char *list = *scenario;
    if (list != NULL && strcmp(list, "all") != 0) {
        for (const char *p = list; *p;) {
            size_t len = strcspn(p, ",");
            char one[64];
            snprintf(one, sizeof one, "%.*s", (int)(len < 63 ? len : 63), p);
            if (ec_client_scenario_find(one) == NULL) {
                cli_usage_error("--scenario: no scenario named '%s' (see --list)", one);
                return -1;
            }
            p += len;
            if (*p == ',')
                p++;
        }
    }
    size_t np = ec_select_pattern_count(sel);
    unsigned char *hits = calloc(np ? np : 1, 1);
    if (hits == NULL) {
        cli_usage_error("out of memory");
        return -1;
    }
    *count = 0;
    for (size_t i = 0; i < ec_client_check_count(); i++) {
        const char *id = ec_client_check_at(i)->id;
        if (in_run(list, id))
            *count += ec_select_match(sel, id, hits);
    }
    char err[320];
    int rc = ec_select_unmatched(sel, hits, err, sizeof err);
    free(hits);
    if (rc != 0) {
        cli_usage_error("%s", err);
        return -1;
    }
    if (*count == 0) {
        cli_usage_error("the selection (--case, --section, --exclude) leaves no check");
        return -1;
    }
    if (np == 0)
        return 0;   /* --scenario as given */
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < ec_client_scenario_count; i++) {
        const ec_client_scenario *sc = &ec_client_scenarios[i];
        if (in_run(list, sc->id) && ec_select_match(sel, sc->id, NULL))
            used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "%s%s",
                                     used ? "," : "", sc->name);
    }
    if (used >= cap) {
        cli_usage_error("--scenario: too many names");
        return -1;
    }
    *scenario = used ? buf : "none";
    return 0;
}

/* --list: what a run with the same options would report. */
static void list_all(const ec_select *sel, const char *scenario, size_t count, int mutants)
{
    if (mutants) {
        for (size_t i = 0; i < ec_client_check_count(); i++) {
            const ec_client_check_info *c = ec_client_check_at(i);
            if (in_run(scenario, c->id) && ec_select_match(sel, c->id, NULL))
                printf("  %-32s %s%s\n", c->id,
                       c->mutants ? "mutants: " : c->no_mutant ? "reason: " : "NOTHING DECLARED",
                       c->mutants ? c->mutants : c->no_mutant ? c->no_mutant : "");
        }
        printf("\n%zu cases\n", count);
        return;
    }
    printf("Scenarios (--scenario NAME; all runs them in this order):\n");
    for (size_t i = 0; i < ec_client_scenario_count; i++)
        if (in_run(scenario, ec_client_scenarios[i].id) &&
            ec_select_match(sel, ec_client_scenarios[i].id, NULL))
            printf("  %-16s %s\n", ec_client_scenarios[i].name, ec_client_scenarios[i].requirement);
    printf("\nChecks:\n");
    for (size_t i = 0; i < ec_client_check_count(); i++) {
        const ec_client_check_info *c = ec_client_check_at(i);
        if (in_run(scenario, c->id) && ec_select_match(sel, c->id, NULL))
            printf("  %-32s %s\n", c->id, c->requirement);
    }
    printf("\n%zu cases\n", count);
}

/* test-client --case/--section/--exclude: the rows reported (the checks
 * not selected ran, but are not reported). */
static int selected_row(void *sel, const ec_case_result *r)
{
    return ec_select_match(sel, r->id, NULL);
}

/* ---- --from-capture: judge a recorded device again ------------------------ */

/* Every record of the capture, read first: whether the device hung up on
 * an answer is known from an event later in the file. */
typedef struct {
    ec_capture_record *rec;
    size_t n, cap;
} replay_records;

static void replay_records_free(replay_records *rr)
{
    for (size_t i = 0; i < rr->n; i++)
        ec_capture_record_free(&rr->rec[i]);
    free(rr->rec);
    memset(rr, 0, sizeof *rr);
}

/* 0, or prints the one error line and returns -1. */
static int replay_read(const char *path, replay_records *rr)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        cli_usage_error("--from-capture: cannot read %s", path);
        return -1;
    }
    for (;;) {
        if (rr->n == rr->cap) {
            size_t cap = rr->cap ? rr->cap * 2 : 256;
            ec_capture_record *grown = realloc(rr->rec, cap * sizeof *grown);
            if (grown == NULL) {
                fclose(f);
                cli_usage_error("out of memory");
                return -1;
            }
            rr->rec = grown;
            rr->cap = cap;
        }
        char err[256] = "";
        ec_capture_record *rec = &rr->rec[rr->n];
        memset(rec, 0, sizeof *rec);
        int got = ec_capture_read(f, rec, err, sizeof err);
        if (got == 0)
            break;
        if (got < 0) {
            fclose(f);
            cli_usage_error("--from-capture %s: %s", path, err);
            return -1;
        }
        rr->n++;
    }
    fclose(f);
    if (rr->n == 0) {
        cli_usage_error("--from-capture %s: no record in it", path);
        return -1;
    }
    return 0;
}

static int replay_event_kind(const char *name)
{
    for (int k = 0; name != NULL && k <= (int)EC_HTTPD_EV_EMPTY; k++)
        if (strcmp(ec_httpd_event_name((ec_httpd_event_kind)k), name) == 0)
            return k;
    return -1;
}

static int is_kind(const ec_capture_record *rec, const char *kind)
{
    return rec->kind != NULL && strcmp(rec->kind, kind) == 0;
}

/* The device hung up on the answer to exchange i: a client-gone event of
 * its connection comes before that connection's next request. */
static int replay_held(const replay_records *rr, size_t i)
{
    uint64_t conn = rr->rec[i].connection;
    for (size_t j = i + 1; conn != 0 && j < rr->n; j++) {
        const ec_capture_record *r = &rr->rec[j];
        if (r->connection != conn)
            continue;
        if (is_kind(r, "exchange"))
            return 0;
        if (is_kind(r, "event") &&
            replay_event_kind(r->event) == (int)EC_HTTPD_EV_CLIENT_GONE)
            return 1;
    }
    return 0;
}

static const char *replay_script_name(ec_httpd_script script)
{
    switch (script) {
    case EC_HTTPD_DELAY: return "delay";
    case EC_HTTPD_TRICKLE: return "trickle";
    case EC_HTTPD_RESET: return "reset";
    case EC_HTTPD_NEVER: return "never";
    default: return "normal";
    }
}

/* The Content-Type of a result's "Name: value\r\n" headers ("" none). */
static void replay_content_type(const char *headers, char *out, size_t cap)
{
    out[0] = 0;
    for (const char *p = headers; p != NULL && *p;) {
        const char *end = strstr(p, "\r\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 14 && strncasecmp(p, "Content-Type: ", 14) == 0) {
            snprintf(out, cap, "%.*s", (int)(len - 14), p + 14);
            return;
        }
        p += len + (end ? 2 : 0);
    }
}

typedef struct {
    size_t exchanges, events, drift, first_seq, redacted;
    double first_time, last_time;
    char first[512];
} replay_outcome;

/* Feed every record to the suite in order; count and describe drift. */
static int replay_all(ec_client_suite *suite, const replay_records *rr, replay_outcome *ro,
                      int quiet)
{
    for (size_t i = 0; i < rr->n; i++) {
        const ec_capture_record *rec = &rr->rec[i];
        if (rec->time > 0) {
            ec_client_suite_set_clock(suite, rec->time);
            if (ro->first_time == 0)
                ro->first_time = rec->time;
            ro->last_time = rec->time;
        }
        if (is_kind(rec, "event")) {
            int k = replay_event_kind(rec->event);
            if (k < 0) {
                fprintf(stderr, "emoncrypt test-client: --from-capture: record %zu: unknown "
                        "event '%s', left out\n", i + 1, rec->event ? rec->event : "");
                continue;
            }
            ec_httpd_event ev = {
                .kind = (ec_httpd_event_kind)k,
                .connection_id = rec->connection,
                .remote_addr = rec->remote ? rec->remote : "127.0.0.1:1",
                .method = rec->method,
                .uri = rec->path,
                .detail = rec->detail ? rec->detail : "",
            };
            ec_client_suite_replay_event(suite, &ev);
            ro->events++;
            continue;
        }
        if (!is_kind(rec, "exchange") || rec->method == NULL || rec->path == NULL) {
            fprintf(stderr, "emoncrypt test-client: --from-capture: record %zu is neither a "
                    "request nor an event, left out\n", i + 1);
            continue;
        }
        ec_httpd_header *h = calloc(rec->header_count ? rec->header_count : 1, sizeof *h);
        if (h == NULL)
            return cli_usage_error("out of memory");
        /* A key the capture redacted is not in the request any more. */
        int redacted = strstr(rec->path, "[REDACTED]") != NULL ||
                       (rec->query != NULL && strstr(rec->query, "[REDACTED]") != NULL) ||
                       (rec->body != NULL && strstr((const char *)rec->body, "[REDACTED]") != NULL);
        for (size_t k = 0; k < rec->header_count; k++) {
            h[k] = (ec_httpd_header){rec->headers[k].name, rec->headers[k].value};
            if (rec->headers[k].value != NULL && strstr(rec->headers[k].value, "[REDACTED]"))
                redacted = 1;
        }
        ro->redacted += redacted != 0;
        ec_httpd_request req = {
            .method = rec->method,
            .path = rec->path,
            .query = rec->query ? rec->query : "",
            .headers = h,
            .header_count = rec->header_count,
            .body = rec->body ? rec->body : (const unsigned char *)"",
            .body_len = rec->body_len,
            .remote_addr = rec->remote,
            .connection_id = rec->connection,
            .arrival_time = rec->time,
        };
        ec_httpd_result out;
        ec_status st = ec_client_suite_replay_request(suite, &req, replay_held(rr, i), &out);
        free(h);
        if (st != EC_OK)
            return cli_usage_error("--from-capture: record %zu: %s", i + 1, ec_status_name(st));
        ro->exchanges++;
        /* Drift: the mock's answer now against the one the device got. */
        char ct[128];
        replay_content_type(out.headers, ct, sizeof ct);
        const char *script = replay_script_name(out.script);
        const char *cap_ct = rec->reply_content_type ? rec->reply_content_type : "";
        const char *cap_script = rec->reply_script ? rec->reply_script : "normal";
        const char *what = NULL;
        if (!rec->has_reply)
            what = "no answer captured";
        else if (out.status != rec->reply_status)
            what = "status";
        else if (strcmp(ct, cap_ct) != 0)
            what = "Content-Type";
        else if (out.body_len != rec->reply_body_len ||
                 (out.body_len && memcmp(out.body, rec->reply_body, out.body_len) != 0))
            what = "body";
        else if (strcmp(script, cap_script) != 0)
            what = "script";
        if (what != NULL) {
            char now_body[80], was_body[80];
            snprintf(now_body, sizeof now_body, "%.60s", out.body ? (const char *)out.body : "");
            snprintf(was_body, sizeof was_body, "%.60s",
                     rec->reply_body ? (const char *)rec->reply_body : "");
            for (char *c = now_body; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
                    *c = '.';
            for (char *c = was_body; *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
                    *c = '.';
            char line[512];
            snprintf(line, sizeof line, "request #%llu %s %s: the %s differs: captured %u '%s' "
                     "(%s), the mock answers %u '%s' (%s) now", (unsigned long long)rec->seq,
                     rec->method, rec->path, what, rec->reply_status, was_body, cap_script,
                     out.status, now_body, script);
            if (ro->drift++ == 0) {
                ro->first_seq = (size_t)rec->seq;
                snprintf(ro->first, sizeof ro->first, "%s", line);
            }
            if (!quiet || ro->drift <= 3)
                fprintf(stderr, "emoncrypt test-client: drift: %s\n", line);
        }
        ec_httpd_result_free(&out);
    }
    return 0;
}

/* The replay's own row: every answer as captured, or the drift.  A
 * capture whose key was redacted is said (the key check cannot see it). */
static void replay_report_row(ec_report *report, const replay_outcome *ro, const char *path)
{
    char msg[768];
    ec_case_result cr;
    memset(&cr, 0, sizeof cr);
    cr.id = "client/replay/answers";
    cr.requirement = "A replayed capture is the live run again only when the mock answers "
                     "every request as the device was answered";
    cr.diff_offset = -1;
    if (ro->drift == 0) {
        cr.verdict = EC_VERDICT_PASS;
        snprintf(msg, sizeof msg, "%zu requests and %zu events of %s; every answer as captured%s",
                 ro->exchanges, ro->events, path,
                 ro->redacted ? "; the capture has the key redacted in some requests: "
                                "client/7.apikey/not-in-clear cannot see it there (record "
                                "with --show-secrets, test keys only)" : "");
    } else {
        cr.verdict = EC_VERDICT_FAIL;
        snprintf(msg, sizeof msg, "%zu of %zu answers differ from the capture %s (drift: "
                 "another --scenario, --profile, key or version, or an edited capture); "
                 "first %s", ro->drift, ro->exchanges, path, ro->first);
    }
    cr.message = msg;
    ec_report_add(report, &cr);
}

int cmd_test_client(const ec_cli_command *self, int argc, char **argv)
{
    ec_client_suite_options opt;
    memset(&opt, 0, sizeof opt);
    opt.listen = "127.0.0.1:8080";
    cli_identity id = {.profile = EC_PROFILE_AES128CBC};
    cli_report_outputs outputs = {0};
    const char *port_file = NULL;
    int self_testing = 0;
    const ec_sender_mutant *self_mutant = NULL;
    self_test st;
    memset(&st, 0, sizeof st);
    pthread_t device;
    int device_started = 0;
    unsigned duration_s = 300;   /* see --help: --duration */
    int verbose = 0, list = 0, mutants = 0, rc = EC_EXIT_USAGE;
    ec_report *report = NULL;
    ec_client_suite *suite = NULL;
    ec_select sel = { .role = "client" };
    size_t n_selected = 0;
    char scenario_buf[512];
    const char *from_capture = NULL;
    int seeded = 0;
    unsigned long long seed = 0;
    ec_seeded_random *rng = NULL;
    replay_records rr = {0};
    replay_outcome ro = {0};

    int c;
    while ((c = getopt_long(argc, argv, ":l:u:k:p:n:d:vqhV", test_client_options, NULL)) != -1) {
        switch (c) {
        case 'l': opt.listen = optarg; break;
        case 's':
            opt.scenario = optarg; /* checked when the suite starts */
            break;
        case 'n':
            if (parse_count("--requests", optarg, &opt.max_requests) != 0)
                goto out;
            break;
        case 'd':
            if (parse_count("--duration", optarg, &duration_s) != 0)
                goto out;
            break;
        case OPT_LINGER:
            if (parse_count("--linger-ms", optarg, &opt.linger_ms) != 0)
                goto out;
            break;
        case OPT_STRICT: opt.strict = 1; break;
        case OPT_CAPTURE: opt.capture_path = optarg; break;
        case OPT_STATE: opt.state_path = optarg; break;
        case OPT_FROM_CAPTURE: from_capture = optarg; break;
        case OPT_SEED: {
            char *end = NULL;
            seed = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != 0) {
                cli_usage_error("--seed: expected a whole number, got '%s'", optarg);
                goto out;
            }
            seeded = 1;
            break;
        }
        case OPT_PORT_FILE: port_file = optarg; break;
        case 'v': verbose = 1; break;
        case OPT_SELF_TEST: self_testing = 1; break;
        case OPT_SELF_TEST_MUTANT:
            self_testing = 1;
            self_mutant = ec_sender_mutant_find(optarg);
            if (self_mutant == NULL) {
                cli_usage_error("--self-test-mutant: no mutant named '%s'", optarg);
                goto out;
            }
            break;
        case OPT_LIST: list = 1; break;
        case OPT_MUTANTS: mutants = 1; break;
        case 'V':
            rc = cli_print_version();
            goto out;
        case 'h':
            cli_print_usage(self, stdout);
            rc = EC_EXIT_PASS;
            goto out;
        default: {
            int sel_taken = cli_select_option(c, optarg, &sel);
            if (sel_taken == CLI_OPTION_BAD)
                goto out;
            if (sel_taken == CLI_OPTION_NOT_MINE && cli_common_option(c, optarg, argv, &id, &outputs) != 0)
                goto out;
            break;
        }
        }
    }
    opt.userid = id.userid;
    opt.apikey_hex = id.apikey_hex;
    opt.profile = id.profile;
    opt.username = id.username;
    opt.verbose = !outputs.quiet;
    opt.progress = !outputs.quiet;   /* no-device line, status lines on a terminal */
    opt.duration_ms = duration_s > 4000000u ? 4000000000u : duration_s * 1000u;
    opt.show_secrets = outputs.show_secrets;
    if (optind < argc) {
        rc = cli_usage_error("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (self_mutant != NULL && opt.scenario == NULL)
        opt.scenario = self_mutant->scenario;
    const char *listed = opt.scenario;
    if (select_scenarios(&sel, &opt.scenario, scenario_buf, sizeof scenario_buf, &n_selected) != 0)
        goto out;
    if (mutants && !list) {
        rc = cli_usage_error("--mutants goes with --list");
        goto out;
    }
    if (list) {
        list_all(&sel, listed, n_selected, mutants);
        rc = EC_EXIT_PASS;
        goto out;
    }
    if (opt.userid == NULL || opt.apikey_hex == NULL) {
        rc = cli_usage_error("--userid and --apikey are required");
        goto out;
    }
    if (cli_identity_check_legacy(&id, EC_PROFILE_LEGACY) != 0)
        goto out;
    /* a report that cannot be written is exit 2 now, not after the run */
    if (cli_report_outputs_check(&outputs) != 0 || cli_check_output_path("--port-file", port_file) != 0)
        goto out;
    if (self_testing && opt.linger_ms == 0)
        opt.linger_ms = 200;
    if (from_capture != NULL) {
        if (self_testing || opt.state_path != NULL || port_file != NULL) {
            rc = cli_usage_error("--from-capture judges a recording: not with %s",
                                 self_testing ? "--self-test" : opt.state_path ? "--state"
                                                                               : "--port-file");
            goto out;
        }
        if (replay_read(from_capture, &rr) != 0)
            goto out;
        /* No socket, no clock of its own: the capture's. */
        opt.listen = EC_HTTPD_IN_PROCESS;
        opt.duration_ms = 0;
        opt.max_requests = 0;
        opt.progress = 0;
    }
    if (seeded && (rng = ec_seeded_random_new(seed)) == NULL) {
        rc = cli_usage_error("--seed: libcrypto failed");
        goto out;
    }

    /* The handler is in place before the first request can arrive: a
     * Ctrl-C at any time after that reports. */
    cli_on_stop_signals(on_signal);
    char err[256] = "";
    if (ec_client_suite_start(&opt, &suite, err, sizeof err) != EC_OK) {
        rc = cli_usage_error("%s", err);
        goto out;
    }
    running = suite;
    time_t started = time(NULL);
    char url[128];
    ec_client_suite_url(suite, url, sizeof url);
    if (from_capture != NULL) {
        fprintf(stderr, "emoncrypt test-client: judging the %zu records of %s (scenario %s)\n",
                rr.n, from_capture, opt.scenario ? opt.scenario : "all");
        int r = replay_all(suite, &rr, &ro, outputs.quiet);
        if (r != 0) {
            rc = r;
            goto out;
        }
        started = (time_t)ro.first_time;
        if (ro.redacted)
            fprintf(stderr, "emoncrypt test-client: --from-capture: %zu requests have the key "
                    "redacted ([REDACTED]): client/7.apikey/not-in-clear cannot see it in them; "
                    "record with --show-secrets (test keys only)\n", ro.redacted);
        goto judged;
    }
    if (port_file != NULL) {
        FILE *f = fopen(port_file, "w");
        if (f == NULL) {
            rc = cli_usage_error("--port-file: cannot write %s", port_file);
            goto out;
        }
        fprintf(f, "%u\n", ec_client_suite_port(suite));
        fclose(f);
    }
    /* The address as the device must see it: the host listened on. */
    const char *colon = strrchr(opt.listen, ':');
    int host_len = colon ? (int)(colon - opt.listen) : (int)strlen(opt.listen);
    fprintf(stderr, "emoncrypt test-client: listening on http://%.*s:%u%s (scenario %s); "
            "point the device at it\n", host_len, opt.listen, ec_client_suite_port(suite),
            strncmp(opt.listen, "0.0.0.0:", 8) == 0 ? " (every interface)" : "",
            opt.scenario ? opt.scenario : "all");

    if (self_testing) {
        if (self_test_prepare(&st, &opt, self_mutant) != 0) {
            rc = cli_usage_error("out of memory");
            goto out;
        }
        snprintf(st.url, sizeof st.url, "%s", url);
        if (rng != NULL) {
            st.opt.random = ec_seeded_random_bytes;
            st.opt.random_ctx = rng;
        }
        if (pthread_create(&device, NULL, self_test_run, &st) != 0) {
            rc = cli_usage_error("cannot start the self-test device");
            goto out;
        }
        device_started = 1;
        /* The device is done when its sender returns. */
        while (!st.done && !interrupted && !ec_client_suite_done(suite)) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        st.stop = 1;
        pthread_join(device, NULL);
        device_started = 0;
    } else {
        ec_client_suite_wait(suite, &interrupted);
    }
    if (interrupted)
        fprintf(stderr, "emoncrypt test-client: interrupted; the report of what was seen:\n");

judged:
    if (from_capture != NULL)
        snprintf(url, sizeof url, "capture %s", from_capture);
    report = ec_report_new("client", "client", url);
    if (report == NULL || ec_report_set_secret(report, opt.apikey_hex, opt.show_secrets) != EC_OK) {
        rc = cli_usage_error("out of memory");
        goto out;
    }
    ec_report_set_run(report, ec_profile_name(opt.profile), started,
                      from_capture ? (long)((ro.last_time - ro.first_time) * 1000)
                                   : (long)difftime(time(NULL), started) * 1000);
    ec_client_suite_finish(suite, report);
    if (from_capture != NULL)
        replay_report_row(report, &ro, from_capture);
    if (ec_select_pattern_count(&sel))
        ec_report_keep(report, selected_row, &sel);
    running = NULL;
    /* The handler stays until the report is written: a Ctrl-C that comes
     * just as the run ends on its own (a script stopping the device, seen
     * under ASan) must not kill the process before it reports. */
    /* -q quiets the per-request lines, not the report */
    if (from_capture != NULL)
        cli_report_console(report, stdout, 0, verbose, "%s; replayed from %s: %zu drift",
                           ec_client_suite_summary(suite), from_capture, ro.drift);
    else
        cli_report_console(report, stdout, 0, verbose, "%s", ec_client_suite_summary(suite));
    if (cli_report_outputs_write(report, &outputs) != 0)
        goto out;
    if (ec_client_suite_state_error(suite) != NULL) {
        rc = cli_usage_error("%s", ec_client_suite_state_error(suite));
        goto out;
    }
    /* 2 when the only problem is that not enough was seen (INCOMPLETE). */
    rc = ec_report_exit_code(report) == 1   ? EC_EXIT_FAIL
         : ec_report_exit_code(report) == 2 ? EC_EXIT_USAGE
                                            : EC_EXIT_PASS;
out:
    if (device_started) {
        st.stop = 1;
        pthread_join(device, NULL);
    }
    ec_sender_rows_free(&st.rows);
    ec_seeded_random_free(rng);
    replay_records_free(&rr);
    running = NULL;
    cli_default_stop_signals();
    ec_client_suite_free(suite);
    ec_report_free(report);
    memset(id.apikey, 0, sizeof id.apikey);
    ec_select_free(&sel);
    return rc;
}
