/* emoncrypt tests — load.h: a fleet of simulated devices against an
 * in-process `serve` on a free loopback port.  Every post of a correct
 * fleet is acked and stored (two inputs per post, K rows per bulk), a
 * rate limit holds, answers that are not the ack are counted by kind, a
 * well-formed but wrong ack is an ack mismatch, a down target is an I/O
 * error, and a target off loopback is refused before anything is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/load.h"
#include "emoncrypt/serve.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"
#define OTHER_KEY_HEX "fedcba9876543210fedcba9876543210"

typedef struct {
    ec_serve_users users;
    ec_serve *server;
    char url[64];
} fixture;

static void start_server(fixture *fx, const char *mutant)
{
    memset(fx, 0, sizeof *fx);
    assert_int_equal(ec_serve_users_add(&fx->users, "1", KEY_HEX, NULL), EC_OK);
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.users = &fx->users;
    cfg.mutant = mutant;
    char err[256] = "";
    ec_status st = ec_serve_start(&cfg, &fx->server, err, sizeof err);
    if (st != EC_OK)
        fail_msg("serve did not start: %s", err);
    ec_serve_base_url(fx->server, fx->url, sizeof fx->url);
}

static void stop_server(fixture *fx)
{
    ec_serve_stop(fx->server);
    ec_serve_users_free(&fx->users);
}

static void options_for(ec_load_options *o, const char *url, const char *key_hex)
{
    memset(o, 0, sizeof *o);
    o->url = url;
    o->userid = "1";
    assert_int_equal(ec_key_from_hex(key_hex, o->key), EC_OK);
}

/* The smoke test: two seconds of eight devices, every post acked. */
static void test_fleet_of_posts_is_acked_and_stored(void **state)
{
    (void)state;
    fixture fx;
    start_server(&fx, NULL);
    ec_load_options o;
    options_for(&o, fx.url, KEY_HEX);
    o.devices = 8;
    o.connections = 4;
    o.duration_s = 2.0;
    ec_load_result r;
    assert_int_equal(ec_load_run(&o, NULL, &r), EC_OK);

    assert_true(r.sent > 0);
    assert_true(r.achieved_rate > 0);
    assert_true(r.elapsed_s > 1.0 && r.elapsed_s < 4.0);
    assert_int_equal(r.ack_mismatch, 0);
    assert_int_equal(r.wrong_answer, 0);
    assert_int_equal(r.transport_errors, 0);
    assert_int_equal(r.acked, r.sent);
    assert_true(r.p50_ms > 0 && r.p50_ms <= r.p99_ms && r.p99_ms <= r.max_ms);

    uint64_t requests = 0, accepted = 0, rows = 0;
    ec_serve_stats(fx.server, &requests, &accepted, &rows);
    assert_int_equal(accepted, r.acked);
    assert_int_equal(rows, 2 * r.acked);          /* power1 and power2 */
    stop_server(&fx);
}

/* A rate limit holds, and a bulk post stores all its rows.  The limit is
 * an upper bound that load cannot break (each of the 16 workers may send
 * one post at its start, then one per 1/rate share).  The lower bound is
 * relative to what this machine achieves unthrottled in the same run, with
 * a wide margin: a loaded machine sends fewer, never more (seen: 34 posts
 * of 200 under load, which failed an absolute 150-215 range). */
static void test_bulk_fleet_keeps_its_rate(void **state)
{
    (void)state;
    fixture fx;
    start_server(&fx, NULL);
    ec_load_options o;
    options_for(&o, fx.url, KEY_HEX);
    o.devices = 50;
    o.duration_s = 0.5;
    o.bulk_rows = 5;
    ec_load_result base;
    assert_int_equal(ec_load_run(&o, NULL, &base), EC_OK);   /* unthrottled */
    assert_int_equal(base.acked, base.sent);
    assert_true(base.achieved_rate > 0);

    o.rate = 200;
    o.duration_s = 1.0;
    ec_load_result r;
    assert_int_equal(ec_load_run(&o, NULL, &r), EC_OK);
    assert_int_equal(r.acked, r.sent);
    assert_int_equal(r.connections, 16);
    double span = r.elapsed_s > o.duration_s ? r.elapsed_s : o.duration_s;
    double limit = o.rate * span + r.connections + 1;
    double can = base.achieved_rate < o.rate ? base.achieved_rate : o.rate;
    if ((double)r.sent > limit || (double)r.sent < can * o.duration_s / 4)
        fail_msg("%llu posts in %.2f s at rate %.0f: want at most %.0f and at least "
                 "%.0f (unthrottled here: %.0f/s)", (unsigned long long)r.sent,
                 r.elapsed_s, o.rate, limit, can * o.duration_s / 4, base.achieved_rate);
    uint64_t requests = 0, accepted = 0, rows = 0;
    ec_serve_stats(fx.server, &requests, &accepted, &rows);
    assert_int_equal(rows, (base.acked + r.acked) * 5 * 2);
    stop_server(&fx);
}

/* The wrong key: every answer is "invalid data", grouped as one kind. */
static void test_wrong_answers_are_counted_by_kind(void **state)
{
    (void)state;
    fixture fx;
    start_server(&fx, NULL);
    ec_load_options o;
    options_for(&o, fx.url, OTHER_KEY_HEX);
    o.devices = 2;
    o.max_requests = 50;
    o.duration_s = 5.0;
    ec_load_result r;
    assert_int_equal(ec_load_run(&o, NULL, &r), EC_OK);
    assert_int_equal(r.sent, 50);
    assert_int_equal(r.acked, 0);
    assert_int_equal(r.wrong_answer, 50);
    assert_int_equal(r.answer_kinds, 1);
    assert_string_equal(r.answers[0].text, "200 invalid data");
    assert_int_equal(r.answers[0].count, 50);
    assert_null(strstr(r.answers[0].text, OTHER_KEY_HEX));
    stop_server(&fx);
}

/* A server acking the wrong bytes: a well-formed ack that is not ours. */
static void test_wrong_ack_is_an_ack_mismatch(void **state)
{
    (void)state;
    fixture fx;
    start_server(&fx, "ack-of-ciphertext");
    ec_load_options o;
    options_for(&o, fx.url, KEY_HEX);
    o.devices = 1;
    o.max_requests = 20;
    ec_load_result r;
    assert_int_equal(ec_load_run(&o, NULL, &r), EC_OK);
    assert_int_equal(r.sent, 20);
    assert_int_equal(r.ack_mismatch, 20);
    assert_int_equal(r.acked, 0);
    stop_server(&fx);
}

static void test_down_target_is_an_io_error(void **state)
{
    (void)state;
    fixture fx;
    start_server(&fx, NULL);
    char url[64];
    snprintf(url, sizeof url, "%s", fx.url);
    stop_server(&fx);
    ec_load_options o;
    options_for(&o, url, KEY_HEX);
    o.duration_s = 2.0;
    ec_load_result r;
    assert_int_equal(ec_load_run(&o, NULL, &r), EC_E_IO);
    assert_int_equal(r.acked, 0);
    assert_true(r.message[0] != 0);
}

static void test_remote_target_is_refused(void **state)
{
    (void)state;
    ec_load_options o;
    options_for(&o, "http://192.0.2.1:8080", KEY_HEX);
    ec_load_result r;
    assert_int_equal(ec_load_run(&o, NULL, &r), EC_E_ARG);
    assert_int_equal(r.refused_remote, 1);
    assert_int_equal(r.sent, 0);
    assert_non_null(strstr(r.message, "--allow-remote"));

    assert_true(ec_load_url_is_loopback("http://127.0.0.1:8080"));
    assert_true(ec_load_url_is_loopback("http://127.1.2.3/emoncms"));
    assert_true(ec_load_url_is_loopback("http://LocalHost:80"));
    assert_true(ec_load_url_is_loopback("http://[::1]:8080/"));
    assert_false(ec_load_url_is_loopback("http://127.0.0.1.example.com/"));
    assert_false(ec_load_url_is_loopback("http://user@192.0.2.1/"));
    assert_false(ec_load_url_is_loopback("http://10.0.0.1:8080"));
    assert_false(ec_load_url_is_loopback("https://emoncms.org"));
    assert_false(ec_load_url_is_loopback("http://[::2]:8080"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fleet_of_posts_is_acked_and_stored),
        cmocka_unit_test(test_bulk_fleet_keeps_its_rate),
        cmocka_unit_test(test_wrong_answers_are_counted_by_kind),
        cmocka_unit_test(test_wrong_ack_is_an_ack_mismatch),
        cmocka_unit_test(test_down_target_is_an_io_error),
        cmocka_unit_test(test_remote_target_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
