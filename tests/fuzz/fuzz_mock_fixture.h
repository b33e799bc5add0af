/* The client-role mock that the mock fuzz targets feed:
 * fuzz_mock_handler over loopback, fuzz_mock_inproc without a socket
 * (listen = EC_HTTPD_IN_PROCESS).  Every FUZZ_INPUTS_PER_RUN inputs the
 * run is finished — the behaviour audit reads everything the mock
 * recorded — and a fresh mock started, so memory stays bounded. */
#ifndef EMONCRYPT_FUZZ_MOCK_FIXTURE_H
#define EMONCRYPT_FUZZ_MOCK_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_suite.h"
#include "emoncrypt/report.h"

#define FUZZ_KEY "0123456789abcdef0123456789abcdef"
#define FUZZ_INPUTS_PER_RUN 500

static ec_client_suite *fuzz_mock;
static unsigned fuzz_inputs_in_run;

static inline void fuzz_finish_mock(void)
{
    if (!fuzz_mock)
        return;
    ec_report *report = ec_report_new("client", "client", "fuzz");
    if (!report)
        abort();
    (void)ec_client_suite_finish(fuzz_mock, report);
    ec_report_free(report);
    ec_client_suite_free(fuzz_mock);
    fuzz_mock = NULL;
}

/* Before each input: finish the run when it is full, start one when none
 * runs. */
static inline void fuzz_next_input(const char *listen, const char *target)
{
    static int registered;
    if (fuzz_mock && fuzz_inputs_in_run >= FUZZ_INPUTS_PER_RUN)
        fuzz_finish_mock();
    if (!fuzz_mock) {
        ec_client_suite_options opt;
        memset(&opt, 0, sizeof opt);
        opt.listen = listen;
        opt.userid = "1";
        opt.apikey_hex = FUZZ_KEY;
        opt.username = "emonuser";
        opt.profile = 0;
        opt.scenario = "happy";
        opt.max_body = 16384;
        char err[256];
        if (ec_client_suite_start(&opt, &fuzz_mock, err, sizeof err) != EC_OK) {
            fprintf(stderr, "%s: %s\n", target, err);
            abort();
        }
        fuzz_inputs_in_run = 0;
        if (!registered) {
            atexit(fuzz_finish_mock);
            registered = 1;
        }
    }
    fuzz_inputs_in_run++;
}

#endif
