/* emoncrypt tests — replay.h: requests written to a capture file through
 * capture.h are sent again to an in-process `serve` on a free loopback
 * port, and the answers are compared with the captured ones: equal answers
 * are "same", a different status or body is reported with the first
 * differing byte, an answer test-client scripted is flagged as such, and a
 * strict server's replay protection shows up as a difference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emoncrypt/message.h"
#include "emoncrypt/capture.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/httpclient.h"
#include "emoncrypt/replay.h"
#include "emoncrypt/serve.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"

static char capture_path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(capture_path, sizeof capture_path, "%s/test_replay_%d.jsonl",
             EMONCRYPT_BINARY_DIR, (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(capture_path);
    return 0;
}

/* What the capture says the device's server answered. */
typedef enum { REPLY_AS_SERVER, REPLY_DIFFERENT_BODY, REPLY_SCRIPTED_WRONG_ACK } reply_kind;

typedef struct {
    const char *plaintext;
    unsigned mistakes;
    reply_kind reply;
} captured_case;

/* Build each request with ec_request_build, answer it with the shared
 * server logic (the answer a conformant server gives), change the answer
 * as the case says, and write request + answer through capture.h. */
static void write_capture(const captured_case *cases, size_t n, const ec_serve_users *users)
{
    ec_capture_writer *w = NULL;
    char err[256];
    assert_int_equal(ec_capture_open(capture_path, KEY_HEX, 0, &w, err, sizeof err), EC_OK);
    for (size_t i = 0; i < n; i++) {
        ec_request_params p;
        memset(&p, 0, sizeof p);
        p.profile = EC_PROFILE_AES128CBC;
        p.endpoint = EC_ENDPOINT_POST;
        ec_key_from_hex(KEY_HEX, p.key);
        p.apikey_hex = KEY_HEX;
        p.userid = "1";
        assert_int_equal(ec_random(p.iv, EC_IV_LEN), EC_OK);
        p.plaintext = (const uint8_t *)cases[i].plaintext;
        p.plaintext_len = strlen(cases[i].plaintext);
        p.mistakes = cases[i].mistakes;
        ec_request r;
        ec_request_init(&r);
        assert_int_equal(ec_request_build(&p, &r), EC_OK);

        ec_server_config sc;
        memset(&sc, 0, sizeof sc);
        sc.lookup = ec_serve_users_lookup;
        sc.lookup_ctx = (void *)(uintptr_t)users;
        sc.now = 1764000100;
        ec_http_request hr = {
            .method = r.method, .path = r.path, .content_type = r.content_type,
            .authorization = r.authorization, .body = (const uint8_t *)r.body,
            .body_len = r.body_len,
        };
        ec_answer a;
        ec_answer_init(&a);
        assert_int_equal(ec_server_answer(&sc, &hr, &a), EC_OK);

        /* A Host of the port the device once talked to: replay must not
         * send it (the transport writes its own). */
        ec_capture_header headers[] = {
            {"Host", "192.0.2.7:8080"},
            {"Content-Type", r.content_type},
            {"Authorization", r.authorization},
            {"Content-Length", "999"},
        };
        char body[128];
        const char *reply = a.answer;
        const char *script = "normal";
        if (cases[i].reply == REPLY_DIFFERENT_BODY) {
            snprintf(body, sizeof body, "%s", a.answer);
            body[5] ^= 1; /* a server that once answered differently */
            reply = body;
        } else if (cases[i].reply == REPLY_SCRIPTED_WRONG_ACK) {
            reply = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
            script = "wrong-ack";
        }
        ec_capture_record rec;
        memset(&rec, 0, sizeof rec);
        rec.kind = "exchange";
        rec.method = r.method;
        rec.path = r.path;
        rec.query = "";
        rec.headers = headers;
        rec.header_count = sizeof headers / sizeof headers[0];
        rec.body = (uint8_t *)r.body;
        rec.body_len = r.body_len;
        rec.step = -1;
        rec.has_reply = 1;
        rec.reply_status = (unsigned)a.http_status;
        rec.reply_content_type = a.content_type;
        rec.reply_body = (uint8_t *)reply;
        rec.reply_body_len = strlen(reply);
        rec.reply_script = (char *)script;
        rec.scenario = cases[i].reply == REPLY_SCRIPTED_WRONG_ACK ? "wrong-ack" : "happy";
        assert_int_equal(ec_capture_write(w, &rec), EC_OK);
        /* One event line, which replay must skip. */
        if (i == 0) {
            ec_capture_record ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = "event";
            ev.event = "no-request";
            ev.detail = "garbage on the socket";
            ev.step = -1;
            assert_int_equal(ec_capture_write(w, &ev), EC_OK);
        }
        ec_answer_free(&a);
        ec_request_free(&r);
    }
    ec_capture_close(w);
}

/* Replay the whole capture file; items[] gets one result per request. */
static size_t replay_file(const char *base_url, ec_replay_item *items, size_t cap)
{
    FILE *f = fopen(capture_path, "r");
    assert_non_null(f);
    ec_http_client *client = ec_http_client_new();
    assert_non_null(client);
    ec_replay_config cfg = {.base_url = base_url, .timeout_ms = 3000};
    size_t n = 0;
    size_t events = 0;
    for (;;) {
        ec_capture_record rec;
        memset(&rec, 0, sizeof rec);
        char err[256];
        int got = ec_capture_read(f, &rec, err, sizeof err);
        assert_true(got >= 0);
        if (got == 0)
            break;
        if (strcmp(rec.kind, "exchange") != 0) {
            ec_replay_item scratch;
            assert_int_equal(ec_replay_record(client, &cfg, &rec, &scratch), EC_E_ARG);
            events++;
            ec_capture_record_free(&rec);
            continue;
        }
        assert_true(n < cap);
        assert_int_equal(ec_replay_record(client, &cfg, &rec, &items[n]), EC_OK);
        n++;
        ec_capture_record_free(&rec);
    }
    assert_int_equal(events, 1);
    ec_http_client_free(client);
    fclose(f);
    return n;
}

static ec_serve *start_serve(const ec_serve_users *users, int strict, char *url, size_t url_cap)
{
    ec_serve_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.users = users;
    cfg.strict = strict;
    ec_serve *s = NULL;
    char err[256];
    if (ec_serve_start(&cfg, &s, err, sizeof err) != EC_OK)
        fail_msg("serve: %s", err);
    ec_serve_base_url(s, url, url_cap);
    return s;
}

static const captured_case cases[] = {
    {"node=emontx&fulljson={\"power1\":100,\"power2\":200}", 0, REPLY_AS_SERVER},
    {"node=emontx&fulljson={\"power1\":101,\"power2\":201}", EC_MISTAKE_HMAC_PLUS_NUL,
     REPLY_AS_SERVER},
    {"node=emontx&json=not json{", 0, REPLY_AS_SERVER},
    {"node=emontx&fulljson={\"power1\":102}", 0, REPLY_DIFFERENT_BODY},
    {"node=emontx&fulljson={\"power1\":103}", 0, REPLY_SCRIPTED_WRONG_ACK},
};

static void test_replay_to_serve_compares_every_answer(void **state)
{
    (void)state;
    ec_serve_users users = {0};
    assert_int_equal(ec_serve_users_add(&users, "1", KEY_HEX, NULL), EC_OK);
    write_capture(cases, sizeof cases / sizeof cases[0], &users);
    char url[128];
    ec_serve *s = start_serve(&users, 0, url, sizeof url);

    ec_replay_item items[8];
    size_t n = replay_file(url, items, 8);
    assert_int_equal(n, 5);

    /* The correct post, the bad HMAC and the application error: the
     * server answers as captured, byte for byte. */
    for (size_t i = 0; i < 3; i++) {
        if (!items[i].same)
            fail_msg("request %zu: %s (captured %u %s '%s', replayed %ld %s '%s')", i,
                     items[i].difference, items[i].captured_status,
                     items[i].captured_content_type, items[i].captured_body,
                     items[i].replayed_status, items[i].replayed_content_type,
                     items[i].replayed_body);
        assert_true(items[i].sent);
        assert_int_equal(items[i].first_diff, -1);
        assert_string_equal(items[i].difference, "");
    }
    assert_string_equal(items[1].replayed_body, "invalid data");
    assert_int_equal(items[0].replayed_status, 200);
    assert_int_equal(strlen(items[0].replayed_body), EC_ACK_LEN);

    /* A field answer that differs: reported with where. */
    assert_false(items[3].same);
    assert_true(items[3].same_status);
    assert_false(items[3].same_body);
    assert_int_equal(items[3].first_diff, 5);
    assert_non_null(strstr(items[3].difference, "from byte 5"));
    assert_false(items[3].scripted);

    /* A scripted answer: different, and flagged as expected. */
    assert_false(items[4].same);
    assert_true(items[4].scripted);
    assert_non_null(strstr(items[4].note, "scripted"));
    assert_non_null(strstr(items[4].note, "wrong-ack"));

    uint64_t requests = 0, accepted = 0, rows = 0;
    ec_serve_stats(s, &requests, &accepted, &rows);
    assert_int_equal(requests, 5);
    assert_int_equal(accepted, 3); /* posts 0, 3 and 4 */
    ec_serve_stop(s);
    ec_serve_users_free(&users);
}

/* A strict server remembers requests: the same capture replayed twice is
 * accepted once, and the second replay shows the difference. */
static void test_replay_twice_to_strict_server_shows_replay_protection(void **state)
{
    (void)state;
    ec_serve_users users = {0};
    assert_int_equal(ec_serve_users_add(&users, "1", KEY_HEX, NULL), EC_OK);
    write_capture(cases, 1, &users);
    char url[128];
    ec_serve *s = start_serve(&users, 1, url, sizeof url);
    ec_replay_item first[2], second[2];
    assert_int_equal(replay_file(url, first, 2), 1);
    assert_int_equal(replay_file(url, second, 2), 1);
    if (!first[0].same_body)
        fail_msg("first replay: %s", first[0].difference);
    assert_false(second[0].same);
    assert_string_not_equal(second[0].difference, "");
    ec_serve_stop(s);
    ec_serve_users_free(&users);
}

static void test_unreachable_server_is_not_sent(void **state)
{
    (void)state;
    ec_serve_users users = {0};
    assert_int_equal(ec_serve_users_add(&users, "1", KEY_HEX, NULL), EC_OK);
    write_capture(cases, 1, &users);
    /* Port 9 on loopback: the discard port, closed on any test machine. */
    ec_replay_item items[2];
    assert_int_equal(replay_file("http://127.0.0.1:9", items, 2), 1);
    assert_false(items[0].sent);
    assert_false(items[0].same);
    assert_int_equal(items[0].error, EC_HTTP_ERR_CONNECT);
    assert_non_null(strstr(items[0].difference, "no answer"));
    ec_serve_users_free(&users);
}

/* A capture with the key redacted (a device that put it in the URL): the
 * replay sends "[REDACTED]" and says so. */
static void test_redacted_key_is_said(void **state)
{
    (void)state;
    ec_capture_writer *w = NULL;
    char err[256];
    assert_int_equal(ec_capture_open(capture_path, KEY_HEX, 0, &w, err, sizeof err), EC_OK);
    ec_capture_header headers[] = {{"Authorization", "Bearer " KEY_HEX}};
    ec_capture_record rec;
    memset(&rec, 0, sizeof rec);
    rec.kind = "exchange";
    rec.method = "GET";
    rec.path = "/input/get";
    rec.query = "node=emontx&apikey=" KEY_HEX;
    rec.headers = headers;
    rec.header_count = 1;
    rec.step = -1;
    rec.has_reply = 1;
    rec.reply_status = 200;
    rec.reply_content_type = "text/plain";
    rec.reply_body = (uint8_t *)"{}";
    rec.reply_body_len = 2;
    assert_int_equal(ec_capture_write(w, &rec), EC_OK);
    ec_capture_close(w);

    FILE *f = fopen(capture_path, "r");
    assert_non_null(f);
    ec_capture_record back;
    memset(&back, 0, sizeof back);
    assert_int_equal(ec_capture_read(f, &back, err, sizeof err), 1);
    fclose(f);
    ec_serve_users users = {0};
    assert_int_equal(ec_serve_users_add(&users, "1", KEY_HEX, NULL), EC_OK);
    char url[128];
    ec_serve *s = start_serve(&users, 0, url, sizeof url);
    ec_http_client *client = ec_http_client_new();
    ec_replay_config cfg = {.base_url = url, .timeout_ms = 3000};
    ec_replay_item it;
    assert_int_equal(ec_replay_record(client, &cfg, &back, &it), EC_OK);
    assert_true(it.sent);
    assert_true(it.redacted);
    assert_non_null(strstr(it.note, "redacted the API key"));
    assert_null(strstr(it.target, KEY_HEX));
    assert_non_null(strstr(it.target, "[REDACTED]"));
    assert_false(it.same); /* serve does not answer /input/get with {} */
    ec_http_client_free(client);
    ec_capture_record_free(&back);
    ec_serve_stop(s);
    ec_serve_users_free(&users);
}

static void test_transport_headers_are_not_replayed(void **state)
{
    (void)state;
    assert_true(ec_replay_header_skipped("Host"));
    assert_true(ec_replay_header_skipped("content-length"));
    assert_true(ec_replay_header_skipped("Connection"));
    assert_false(ec_replay_header_skipped("Authorization"));
    assert_false(ec_replay_header_skipped("Content-Type"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_to_serve_compares_every_answer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replay_twice_to_strict_server_shows_replay_protection,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreachable_server_is_not_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redacted_key_is_said, setup, teardown),
        cmocka_unit_test(test_transport_headers_are_not_replayed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
