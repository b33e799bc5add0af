/* emoncrypt tests — capture.h: a capture line reads back as written, the
 * write API key never reaches the file (URL, headers, body, answer), the
 * ciphertext is kept, bytes that are not text survive as base64, and a bad
 * line is reported without stopping the reader. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "emoncrypt/capture.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define BODY "AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc"

static char path[256];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "%s/test_client_capture_%d.jsonl", EMONCRYPT_BINARY_DIR,
             (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void write_sample(int show_secret)
{
    ec_capture_writer *w = NULL;
    char err[128];
    assert_int_equal(ec_capture_open(path, KEY, show_secret, &w, err, sizeof err), EC_OK);
    ec_capture_header headers[] = {
        {"Content-Type", "aes128cbc"},
        {"Authorization", "1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662"},
    };
    ec_capture_record rec;
    memset(&rec, 0, sizeof rec);
    rec.time = 1764000000.5;
    rec.kind = "exchange";
    rec.remote = "127.0.0.1:5555";
    rec.connection = 7;
    rec.method = "POST";
    rec.path = "/input/post";
    rec.query = "apikey=" KEY;
    rec.headers = headers;
    rec.header_count = 2;
    rec.body = (uint8_t *)BODY;
    rec.body_len = strlen(BODY);
    rec.scenario = "wrong-ack";
    rec.step = 0;
    rec.has_reply = 1;
    rec.reply_status = 200;
    rec.reply_content_type = "text/plain";
    rec.reply_body = (uint8_t *)"6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=";
    rec.reply_body_len = 44;
    rec.reply_script = "normal";
    rec.fault = "ok";
    char *failed[] = {"client/7.apikey/not-in-clear"};
    rec.failed = failed;
    rec.failed_count = 1;
    assert_int_equal(ec_capture_write(w, &rec), EC_OK);

    /* A side request with the key in a Bearer header and binary bytes
     * (NUL included) in the body. */
    ec_capture_header bearer[] = {{"Authorization", "Bearer " "0123456789ABCDEF0123456789ABCDEF"}};
    static const uint8_t binary[] = {0x00, 0x01, 'x', 0xff, 0x00};
    memset(&rec, 0, sizeof rec);
    rec.time = 1764000001.0;
    rec.method = "GET";
    rec.path = "/input/get";
    rec.query = "node=emontx";
    rec.headers = bearer;
    rec.header_count = 1;
    rec.body = (uint8_t *)binary;
    rec.body_len = sizeof binary;
    rec.step = -1;
    assert_int_equal(ec_capture_write(w, &rec), EC_OK);

    memset(&rec, 0, sizeof rec);
    rec.kind = "event";
    rec.event = "no-request";
    rec.detail = "connection 3 closed without a parsable HTTP request";
    rec.step = -1;
    assert_int_equal(ec_capture_write(w, &rec), EC_OK);
    ec_capture_close(w);
}

static void test_key_never_in_the_file(void **state)
{
    (void)state;
    write_sample(0);
    const char *text = slurp(path);
    assert_null(strcasestr(text, KEY));
    assert_non_null(strstr(text, BODY)); /* the ciphertext is kept */
    assert_non_null(strstr(text, "REDACTED"));
}

static void test_show_secrets_keeps_it(void **state)
{
    (void)state;
    write_sample(1);
    assert_non_null(strstr(slurp(path), "apikey=" KEY));
}

static void test_round_trip(void **state)
{
    (void)state;
    write_sample(0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    ec_capture_record r;
    char err[128];
    assert_int_equal(ec_capture_read(f, &r, err, sizeof err), 1);
    assert_int_equal(r.seq, 1);
    assert_string_equal(r.kind, "exchange");
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path, "/input/post");
    assert_null(strstr(r.query, KEY));
    assert_int_equal(r.header_count, 2);
    assert_string_equal(r.headers[1].name, "Authorization");
    assert_string_equal(r.headers[1].value,
                        "1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662");
    assert_int_equal(r.body_len, strlen(BODY));
    assert_memory_equal(r.body, BODY, strlen(BODY));
    assert_string_equal(r.scenario, "wrong-ack");
    assert_int_equal(r.step, 0);
    assert_true(r.has_reply);
    assert_int_equal(r.reply_status, 200);
    assert_int_equal(r.reply_body_len, 44);
    assert_int_equal(r.failed_count, 1);
    assert_string_equal(r.failed[0], "client/7.apikey/not-in-clear");
    assert_true(r.time > 1764000000.4 && r.time < 1764000000.6);
    ec_capture_record_free(&r);

    assert_int_equal(ec_capture_read(f, &r, err, sizeof err), 1);
    assert_int_equal(r.seq, 2);
    assert_string_equal(r.method, "GET");
    assert_null(strcasestr(r.headers[0].value, KEY));
    assert_int_equal(r.body_len, 5);
    assert_int_equal(r.body[0], 0x00);
    assert_int_equal(r.body[3], 0xff);
    ec_capture_record_free(&r);

    assert_int_equal(ec_capture_read(f, &r, err, sizeof err), 1);
    assert_string_equal(r.kind, "event");
    assert_int_equal(r.seq, 0); /* events do not take a request's number */
    assert_string_equal(r.event, "no-request");
    ec_capture_record_free(&r);
    assert_int_equal(ec_capture_read(f, &r, err, sizeof err), 0);
    fclose(f);
}

static void test_bad_line_is_skipped(void **state)
{
    (void)state;
    FILE *f = fopen(path, "w");
    fputs("{\"seq\":1,\"kind\":\"exchange\",\"method\":\"POST\"}\n"
          "not json\n"
          "\n"
          "{\"seq\":3,\"kind\":\"exchange\",\"body_b64\":\"!!\"}\n"
          "{\"seq\":4,\"kind\":\"event\",\"event\":\"incomplete\"}\n", f);
    fclose(f);
    f = fopen(path, "r");
    ec_capture_record r;
    char err[128] = "";
    assert_int_equal(ec_capture_read(f, &r, err, sizeof err), 1);
    ec_capture_record_free(&r);
    assert_int_equal(ec_capture_read(f, &r, err, sizeof err), -1);
    assert_true(err[0] != 0);
    assert_int_equal(ec_capture_read(f, &r, err, sizeof err), -1);
    assert_int_equal(ec_capture_read(f, &r, err, sizeof err), 1);
    assert_int_equal(r.seq, 4);
    ec_capture_record_free(&r);
    assert_int_equal(ec_capture_read(f, &r, err, sizeof err), 0);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_never_in_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_show_secrets_keeps_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_line_is_skipped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
