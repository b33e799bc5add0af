/* emoncrypt tests — run the client-role mock server and the reference
 * sender (or a mutant) against each other in one process: the mock's
 * threads answer while the test thread sends.  Shared by the
 * tests/test_client_*.c files. */
#ifndef EMONCRYPT_TEST_CLIENT_FIXTURE_H
#define EMONCRYPT_TEST_CLIENT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_suite.h"
#include "client/sender.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"

#define FIXTURE_APIKEY "0123456789abcdef0123456789abcdef"
#define FIXTURE_USERID "1"

/* n rows, 10 s apart, from a fixed time close to now, with a null every
 * fifth value (as IoTaWatt sends a missing reading). */
static inline char *fixture_csv(size_t n)
{
    size_t cap = n * 64 + 64;
    char *s = malloc(cap);
    size_t used = 0;
    long long t0 = 1764000000;
    used += (size_t)snprintf(s + used, cap - used, "time,power1,power2\n");
    for (size_t i = 0; i < n; i++) {
        if (i % 5 == 4)
            used += (size_t)snprintf(s + used, cap - used, "%lld,%zu.5,\n",
                                     t0 + (long long)i * 10, 100 + i);
        else
            used += (size_t)snprintf(s + used, cap - used, "%lld,%zu.5,%zu\n",
                                     t0 + (long long)i * 10, 100 + i, 200 + i);
    }
    return s;
}

typedef struct {
    ec_report *report;
    int exit_code;              /* what test-client would exit with */
    int sender_rc;
    ec_sender_result sent;
    char summary[256];
} fixture_run;

/* 1: the mock judges as test-client --strict (NON-STRICT counts as FAIL). */
static int fixture_strict;

/* Run scenario against the sender (mutant NULL = reference) posting
 * batches of rows_per_post from n_rows rows.  Returns 0 when it ran. */
static inline int fixture_run_scenario(const char *scenario, const ec_sender_mutant *mutant,
                                       size_t n_rows, size_t rows_per_post, int retries,
                                       fixture_run *out)
{
    memset(out, 0, sizeof *out);
    ec_client_suite_options so;
    memset(&so, 0, sizeof so);
    so.listen = "127.0.0.1:0";
    so.userid = FIXTURE_USERID;
    so.apikey_hex = FIXTURE_APIKEY;
    so.profile = EC_PROFILE_AES128CBC;
    so.scenario = scenario;
    so.duration_ms = 20000;
    so.strict = fixture_strict;
    so.verbose = getenv("EMONCRYPT_TEST_VERBOSE") != NULL;
    ec_client_suite *suite = NULL;
    char err[256] = "";
    if (ec_client_suite_start(&so, &suite, err, sizeof err) != EC_OK) {
        fprintf(stderr, "cannot start the mock: %s\n", err);
        return -1;
    }
    char url[128];
    ec_client_suite_url(suite, url, sizeof url);

    char *csv = fixture_csv(n_rows);
    ec_sender_rows rows;
    ec_sender_rows_parse(csv, strlen(csv), &rows, err, sizeof err);
    free(csv);
    ec_sender_options o;
    memset(&o, 0, sizeof o);
    o.url = url;
    o.userid = FIXTURE_USERID;
    o.apikey_hex = FIXTURE_APIKEY;
    o.profile = EC_PROFILE_AES128CBC;
    o.node = "emontx";
    o.rows = &rows;
    o.rows_per_post = rows_per_post;
    o.retries = retries;
    o.interval_ms = 1;
    o.retry_ms = 20;
    o.max_backoff_ms = 200;
    o.timeout_ms = 800;
    o.mutant = mutant;
    o.log = so.verbose ? stderr : NULL;
    out->sender_rc = ec_sender_run(&o, &out->sent);
    ec_sender_rows_free(&rows);

    out->report = ec_report_new("client", "client", url);
    ec_report_set_secret(out->report, FIXTURE_APIKEY, 0);
    ec_client_suite_finish(suite, out->report);
    snprintf(out->summary, sizeof out->summary, "%s", ec_client_suite_summary(suite));
    ec_client_suite_free(suite);
    out->exit_code = ec_report_exit_code(out->report);
    if (so.verbose)
        ec_report_write_console(out->report, stderr, 0, 0);
    return 0;
}

/* The verdict of the first result with this id, or -1. */
static inline int fixture_verdict(const ec_report *r, const char *id)
{
    for (size_t i = 0; i < ec_report_count(r); i++) {
        const ec_case_result *c = ec_report_result(r, i);
        if (strcmp(c->id, id) == 0)
            return (int)c->verdict;
    }
    return -1;
}

/* The message of the first result with this id, or NULL. */
static inline const char *fixture_message(const ec_report *r, const char *id)
{
    for (size_t i = 0; i < ec_report_count(r); i++) {
        const ec_case_result *c = ec_report_result(r, i);
        if (strcmp(c->id, id) == 0)
            return c->message;
    }
    return NULL;
}

/* Print every FAIL (for a failing assertion's context). */
static inline void fixture_print_fails(const ec_report *r)
{
    for (size_t i = 0; i < ec_report_count(r); i++) {
        const ec_case_result *c = ec_report_result(r, i);
        if (c->verdict == EC_VERDICT_FAIL)
            fprintf(stderr, "  FAIL %s: %s\n", c->id, c->message ? c->message : "");
    }
}

#endif
