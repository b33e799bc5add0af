/* In-process requests (httpd.h EC_HTTPD_IN_PROCESS, ec_httpd_call,
 * ec_serve_call, ec_client_suite_call): what the in-process fuzz targets
 * (tests/fuzz/fuzz_*_inproc.c) rely on.  A server started in-process opens
 * no socket and starts no thread, and a request handed to it is answered
 * exactly as over HTTP: a correct post gets its ack and its row is stored,
 * a post with a wrong MAC does not, and the mock counts what it saw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_suite.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"
#include "emoncrypt/serve.h"
#include "post_support.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"

/* Threads of this process, from /proc/self/status. */
static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* A correct post of {"v":value} to node "inproc". */
static void build_post(int value, ec_request *r)
{
    char plaintext[64];
    snprintf(plaintext, sizeof plaintext, "node=inproc&fulljson={\"v\":%d}", value);
    assert_int_equal(ps_correct_post(KEY_HEX, plaintext, r), EC_OK);
}

/* The view of r, with its headers in h[2]. */
static ec_httpd_request view_of(const ec_request *r, ec_httpd_header h[2])
{
    h[0] = (ec_httpd_header){"Content-Type", r->content_type};
    h[1] = (ec_httpd_header){"Authorization", r->authorization};
    ec_httpd_request v = {
        .method = "POST",
        .path = r->path,
        .headers = h,
        .header_count = 2,
        .body = (const unsigned char *)r->body,
        .body_len = r->body_len,
    };
    return v;
}

static void serve_in_process(void **state)
{
    (void)state;
    ec_serve_users users;
    memset(&users, 0, sizeof users);
    assert_int_equal(ec_serve_users_add(&users, "1", KEY_HEX, NULL), EC_OK);
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = EC_HTTPD_IN_PROCESS;
    cfg.users = &users;
    cfg.rows_endpoint = 1;
    int threads = thread_count();
    ec_serve *s = NULL;
    char err[256] = "";
    assert_int_equal(ec_serve_start(&cfg, &s, err, sizeof err), EC_OK);
    assert_int_equal(thread_count(), threads); /* no daemon, no timer thread */
    assert_int_equal(ec_serve_port(s), 0);

    ec_request r;
    build_post(42, &r);
    ec_httpd_header h[2];
    ec_httpd_request v = view_of(&r, h);
    ec_httpd_result out;
    assert_int_equal(ec_serve_call(s, &v, &out), EC_OK);
    assert_int_equal(out.status, 200);
    assert_string_equal((const char *)out.body, r.ack);
    assert_int_equal(out.body_len, strlen(r.ack));
    assert_non_null(strstr(out.headers, "Content-Type: "));
    assert_int_equal(out.script, EC_HTTPD_NORMAL);
    ec_httpd_result_free(&out);

    /* The same post with its MAC's first hex digit changed: no ack, no row. */
    char *auth = strdup(r.authorization);
    assert_non_null(auth);
    char *mac = strchr(auth, ':') + 1;
    *mac = *mac == '0' ? '1' : '0';
    h[1].value = auth;
    assert_int_equal(ec_serve_call(s, &v, &out), EC_OK);
    assert_string_not_equal((const char *)out.body, r.ack);
    ec_httpd_result_free(&out);
    free(auth);

    uint64_t requests = 0, accepted = 0, rows = 0;
    ec_serve_stats(s, &requests, &accepted, &rows);
    assert_int_equal(requests, 2);
    assert_int_equal(accepted, 1);
    assert_int_equal(rows, 1);

    /* The read endpoint, in-process too, serves the stored row. */
    ec_httpd_request get = {.method = "GET", .path = "/emoncrypt/rows", .query = "node=inproc"};
    assert_int_equal(ec_serve_call(s, &get, &out), EC_OK);
    assert_int_equal(out.status, 200);
    assert_non_null(strstr((const char *)out.body, "42"));
    ec_httpd_result_free(&out);

    assert_int_equal(ec_serve_call(s, NULL, &out), EC_E_ARG);
    ec_request_free(&r);
    ec_serve_stop(s);
    ec_serve_users_free(&users);
}

/* test-client's mock on no socket, user 1, the happy scenario. */
static ec_client_suite *start_inproc_mock(void)
{
    ec_client_suite_options opt;
    memset(&opt, 0, sizeof opt);
    opt.listen = EC_HTTPD_IN_PROCESS;
    opt.userid = "1";
    opt.apikey_hex = KEY_HEX;
    opt.scenario = "happy";
    ec_client_suite *m = NULL;
    char err[256] = "";
    assert_int_equal(ec_client_suite_start(&opt, &m, err, sizeof err), EC_OK);
    return m;
}

static void mock_in_process(void **state)
{
    (void)state;
    int threads = thread_count();
    ec_client_suite *m = start_inproc_mock();
    assert_int_equal(thread_count(), threads);
    assert_int_equal(ec_client_suite_port(m), 0);
    ec_request r;
    build_post(7, &r);
    ec_httpd_header h[2];
    ec_httpd_request v = view_of(&r, h);
    ec_httpd_result out;
    assert_int_equal(ec_client_suite_call(m, &v, &out), EC_OK);
    assert_int_equal(out.status, 200);
    assert_string_equal((const char *)out.body, r.ack);
    ec_httpd_result_free(&out);
    ec_report *report = ec_report_new("client", "client", "inproc");
    assert_non_null(report);
    assert_int_equal(ec_client_suite_finish(m, report), 1);
    ec_report_free(report);
    ec_client_suite_free(m);
    ec_request_free(&r);
}

/* Each in-process call is a connection whose answer is over when the call
 * returns, so the mock settles its post then (httpd's on_done): after N
 * posts none is still queued.  An in-process httpd that does not call
 * on_done (the bug a3a535c fixed) leaves all N queued until the run ends,
 * and a fuzz run's memory grows with every input. */
static void mock_in_process_settles(void **state)
{
    (void)state;
    enum { N = 40 };
    ec_client_suite *m = start_inproc_mock();
    assert_int_equal(ec_client_suite_unsettled(m), 0);
    for (int i = 0; i < N; i++) {
        ec_request r;
        build_post(100 + i, &r);
        ec_httpd_header h[2];
        ec_httpd_request v = view_of(&r, h);
        ec_httpd_result out;
        assert_int_equal(ec_client_suite_call(m, &v, &out), EC_OK);
        assert_int_equal(out.status, 200);
        ec_httpd_result_free(&out);
        ec_request_free(&r);
        assert_int_equal(ec_client_suite_unsettled(m), 0);
    }
    ec_report *report = ec_report_new("client", "client", "inproc");
    assert_non_null(report);
    assert_int_equal(ec_client_suite_finish(m, report), N);
    ec_report_free(report);
    ec_client_suite_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serve_in_process),
        cmocka_unit_test(mock_in_process),
        cmocka_unit_test(mock_in_process_settles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
