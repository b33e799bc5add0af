/* libFuzzer target: the client-role mock Emoncms's request handler (the
 * one behind `emoncrypt test-client`) in this process, without a socket:
 * each input is one request view (format: fuzz_inproc.h) given to
 * ec_client_suite_call.  Every request must get a status from 100 to 599
 * and the write key is never in an answer that did not have it in its
 * request.  Every 500 inputs the run is finished — the behaviour audit
 * reads everything the mock recorded — and a fresh mock started.
 * fuzz_mock_handler drives the same mock over loopback. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_suite.h"
#include "emoncrypt/report.h"
#include "fuzz_http.h"
#include "fuzz_inproc.h"

#define FUZZ_KEY "0123456789abcdef0123456789abcdef"
#define INPUTS_PER_RUN 500

static ec_client_suite *mock;
static unsigned inputs_in_run;

static void finish_mock(void)
{
    if (!mock)
        return;
    ec_report *report = ec_report_new("client", "client", "fuzz");
    if (!report)
        abort();
    (void)ec_client_suite_finish(mock, report);
    ec_report_free(report);
    ec_client_suite_free(mock);
    mock = NULL;
}

static void start_mock(void)
{
    static int registered;
    ec_client_suite_options opt;
    memset(&opt, 0, sizeof opt);
    opt.listen = EC_HTTPD_IN_PROCESS;
    opt.userid = "1";
    opt.apikey_hex = FUZZ_KEY;
    opt.username = "emonuser";
    opt.profile = 0;
    opt.scenario = "happy";
    opt.max_body = 16384;
    char err[256];
    if (ec_client_suite_start(&opt, &mock, err, sizeof err) != EC_OK) {
        fprintf(stderr, "fuzz_mock_inproc: %s\n", err);
        abort();
    }
    inputs_in_run = 0;
    if (!registered) {
        atexit(finish_mock);
        registered = 1;
    }
}

/* The mock keeps what each request taught its audit until the run is
 * finished, so nearly every input allocates more than it frees, and
 * libFuzzer's per-input leak check would then scan the whole heap each
 * time (~100 inputs/s instead of thousands).  Off for this target; leaks
 * are still reported at exit (everything is freed by then) and the mock
 * runs leak-checked under ASan and valgrind in ctest. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char *args[256];
    static char no_leaks[] = "-detect_leaks=0";
    if (*argc < 1 || *argc > 254)
        return 0;
    for (int i = 0; i < *argc; i++)
        args[i] = (*argv)[i];
    /* After argv[0], before the corpus directories: libFuzzer reads
     * flags wherever they are, but keep them first as its usage shows. */
    memmove(args + 2, args + 1, (size_t)(*argc - 1) * sizeof *args);
    args[1] = no_leaks;
    *argc += 1;
    args[*argc] = NULL;
    *argv = args;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    if (mock && inputs_in_run >= INPUTS_PER_RUN)
        finish_mock();
    if (!mock)
        start_mock();
    inputs_in_run++;
    fuzz_inproc_input in;
    if (fuzz_inproc_make(data, size, &in) != 0)
        return 0;
    ec_httpd_result out;
    if (ec_client_suite_call(mock, &in.req, &out) != EC_OK) {
        fprintf(stderr, "fuzz_mock_inproc: ec_client_suite_call failed\n");
        abort();
    }
    if (out.status < 100 || out.status > 599) {
        fprintf(stderr, "fuzz_mock_inproc: answered %u\n", out.status);
        abort();
    }
    if ((strstr(out.headers, FUZZ_KEY) || fuzz_http_contains(out.body, out.body_len, FUZZ_KEY)) &&
        !fuzz_http_contains(data, size, FUZZ_KEY))
        abort();
    ec_httpd_result_free(&out);
    fuzz_inproc_free(&in);
    return 0;
}
