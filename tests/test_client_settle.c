/* emoncrypt tests — the mock judges a post by how its answer ENDED, also
 * when the device's next post arrives first (issue 14 point 5).
 *
 * The mock no longer keeps every request to the end of the run: a post is
 * folded into the checks across posts once its answer is over (httpd's
 * on_done).  Here a device gives up on the 'slow' scenario's trickled ack
 * (as a device whose timeout is shorter does), resends the same row at
 * once on a new connection, gets the ack, and only then closes the first
 * connection, so the mock learns that the first answer was cut after it
 * has answered the resend.  The first post was NOT delivered, so the
 * resend is no duplicate: 7.ack/no-duplicates PASS, 7.ack/no-data-lost
 * PASS, 7.scenario/slow INFO "hung up ... it resent the rows".  A mock that
 * settled the first post when it was answered, or when the next request
 * came, would take it as delivered and FAIL the resend as a duplicate (the
 * mutant: drain_queue in mock.c ignoring 'done').  Should the machine be
 * so slow that the trickle ends before the device lets go, the first post
 * is delivered and this test fails: it cannot pass without the case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_suite.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"
#include "hostile_support.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"

static const char plaintext[] = "node=emontx&time=1764000000&fulljson={\"power1\":100}";

/* The HTTP text of a correct post of plaintext (fresh IV). */
static char *build_post(void)
{
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = EC_PROFILE_AES128CBC;
    p.endpoint = EC_ENDPOINT_POST;
    assert_int_equal(ec_key_from_hex(KEY_HEX, p.key), EC_OK);
    p.userid = "1";
    assert_int_equal(ec_random(p.iv, sizeof p.iv), EC_OK);
    p.plaintext = (const uint8_t *)plaintext;
    p.plaintext_len = strlen(plaintext);
    ec_request rq;
    ec_request_init(&rq);
    assert_int_equal(ec_request_build(&p, &rq), EC_OK);
    size_t cap = rq.body_len + 512;
    char *http = malloc(cap);
    assert_non_null(http);
    snprintf(http, cap,
             "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nAuthorization: %s\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             rq.path, rq.content_type, rq.authorization, rq.body_len, rq.body);
    ec_request_free(&rq);
    return http;
}

/* Read an answer's headers and then body_bytes of its body (within 5 s). */
static void read_until(int fd, char *buf, size_t cap, size_t body_bytes)
{
    size_t got = 0;
    buf[0] = 0;
    double until = hs_now_ms() + 5000;
    for (;;) {
        const char *end = strstr(buf, "\r\n\r\n");
        if ((end != NULL && strlen(end + 4) >= body_bytes) || hs_now_ms() > until)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t k = recv(fd, buf + got, cap - 1 - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
        buf[got] = 0;
    }
}

static const ec_case_result *result(const ec_report *r, const char *id)
{
    for (size_t i = 0; i < ec_report_count(r); i++)
        if (strcmp(ec_report_result(r, i)->id, id) == 0)
            return ec_report_result(r, i);
    return NULL;
}

static void print_results(const ec_report *r)
{
    for (size_t i = 0; i < ec_report_count(r); i++) {
        const ec_case_result *c = ec_report_result(r, i);
        fprintf(stderr, "  %s %s: %s\n", ec_verdict_name(c->verdict), c->id,
                c->message ? c->message : "");
    }
}

static void test_hang_up_then_resend_before_the_mock_notices(void **state)
{
    (void)state;
    ec_client_suite_options so;
    memset(&so, 0, sizeof so);
    so.listen = "127.0.0.1:0";
    so.userid = "1";
    so.apikey_hex = KEY_HEX;
    so.profile = EC_PROFILE_AES128CBC;
    so.scenario = "slow";
    so.duration_ms = 20000;
    ec_client_suite *suite = NULL;
    char err[256] = "";
    assert_int_equal(ec_client_suite_start(&so, &suite, err, sizeof err), EC_OK);
    unsigned port = ec_client_suite_port(suite);

    /* Post 1: the trickled ack starts (4 bytes every 40 ms); the device
     * reads its headers and gives up on it. */
    char *first = build_post();
    int a = hs_connect(port);
    assert_true(a >= 0);
    assert_int_equal(hs_send_str(a, first), strlen(first));
    char buf[4096] = "";
    read_until(a, buf, sizeof buf, 0);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));

    /* Post 2, at once, on a new connection: the same row with a fresh IV,
     * the resend, answered with the ack. */
    char *second = build_post();
    int b = hs_connect(port);
    assert_true(b >= 0);
    assert_int_equal(hs_send_str(b, second), strlen(second));
    read_until(b, buf, sizeof buf, EC_ACK_LEN);
    assert_non_null(strstr(buf, "HTTP/1.1 200"));
    const char *body = strstr(buf, "\r\n\r\n");
    assert_int_equal(strlen(body + 4), EC_ACK_LEN);
    close(b);
    free(first);
    free(second);

    /* Only now does the device let go of the first connection, while the
     * trickle (~440 ms in all) is still going: the mock learns that post 1
     * was not delivered after it has answered post 2.  Let it, then end
     * the run. */
    close(a);
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ec_report *report = ec_report_new("client", "client", "mock");
    ec_report_set_secret(report, KEY_HEX, 0);
    assert_int_equal(ec_client_suite_finish(suite, report), 2);

    const ec_case_result *dup = result(report, "client/7.ack/no-duplicates");
    const ec_case_result *lost = result(report, "client/7.ack/no-data-lost");
    const ec_case_result *slow = result(report, "client/7.scenario/slow");
    assert_non_null(dup);
    assert_non_null(lost);
    assert_non_null(slow);
    if (dup->verdict != EC_VERDICT_PASS || lost->verdict != EC_VERDICT_PASS ||
        slow->verdict != EC_VERDICT_INFO)
        print_results(report);
    assert_int_equal(dup->verdict, EC_VERDICT_PASS);
    assert_int_equal(lost->verdict, EC_VERDICT_PASS);
    assert_non_null(strstr(lost->message, "1 unacknowledged posts, every one resent later"));
    assert_int_equal(slow->verdict, EC_VERDICT_INFO);
    assert_non_null(strstr(slow->message, "hung up before it ended"));
    assert_non_null(strstr(slow->message, "it resent the rows"));
    ec_report_free(report);
    ec_client_suite_free(suite);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hang_up_then_resend_before_the_mock_notices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
