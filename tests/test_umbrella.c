/* The umbrella header alone gives the whole public API: every public
 * header meets every other in this one C11 translation unit (message.h's
 * ec_http_request and httpclient.h's ec_http_client_request included), and
 * one function of each area links and answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <emoncrypt/emoncrypt.h>

static void protocol_areas(void **state)
{
    (void)state;
    /* status.h */
    assert_string_equal(ec_status_name(EC_OK), "ok");
    /* codec.h */
    uint8_t key[EC_KEY_LEN];
    assert_int_equal(ec_key_from_hex("0123456789abcdef0123456789abcdef", key), EC_OK);
    assert_int_equal(key[0], 0x01);
    /* plaintext.h */
    ec_params params;
    ec_params_init(&params);
    assert_int_equal(ec_params_set(&params, "node", 4, "emontx", 6), EC_OK);
    assert_string_equal(ec_params_get(&params, "node"), "emontx");
    ec_params_free(&params);
    /* message.h: SPEC §8's ack */
    static const char pt[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";
    char ack[EC_ACK_LEN + 1];
    assert_int_equal(ec_ack_of((const unsigned char *)pt, strlen(pt), ack), EC_OK);
    assert_string_equal(ack, "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=");
    assert_int_equal(ec_profile_from_name("legacy"), EC_PROFILE_LEGACY);
    /* both request types in one file */
    ec_http_request server_view;
    memset(&server_view, 0, sizeof server_view);
    ec_http_client_request client_view;
    memset(&client_view, 0, sizeof client_view);
    assert_null(server_view.body);
    assert_null(client_view.body);
}

static void tool_areas(void **state)
{
    (void)state;
    /* httpclient.h */
    ec_http_client *client = ec_http_client_new();
    assert_non_null(client);
    ec_http_client_free(client);
    /* httpd.h */
    assert_non_null(ec_httpd_event_name(EC_HTTPD_EV_TOO_LARGE));
    /* report.h */
    assert_string_equal(ec_verdict_name(EC_VERDICT_PASS), "PASS");
    /* serve.h */
    ec_serve_users users;
    memset(&users, 0, sizeof users);
    assert_int_equal(ec_serve_users_add(&users, "1", "0123456789abcdef0123456789abcdef", NULL),
                     EC_OK);
    assert_int_equal(users.n, 1);
    ec_serve_users_free(&users);
    /* diagnose.h */
    char list[64];
    assert_non_null(ec_mistake_list(0, list, sizeof list));
    /* explain.h */
    ec_explanation explanation;
    ec_explanation_init(&explanation);
    ec_explanation_free(&explanation);
    /* capture.h: an empty capture has no record */
    FILE *empty = tmpfile();
    assert_non_null(empty);
    ec_capture_record rec;
    memset(&rec, 0, sizeof rec);
    char err[128];
    assert_int_equal(ec_capture_read(empty, &rec, err, sizeof err), 0);
    fclose(empty);
    /* replay.h */
    assert_true(ec_replay_header_skipped("Host"));
    assert_false(ec_replay_header_skipped("Authorization"));
    /* vectors.h */
    assert_string_equal(ec_vector_result_name(EC_VECTOR_VALID), "valid");
    /* load.h */
    assert_true(ec_load_url_is_loopback("http://127.0.0.1:8080/"));
    assert_false(ec_load_url_is_loopback("http://192.0.2.1/"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(protocol_areas),
        cmocka_unit_test(tool_areas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
