/* emoncrypt tests — diagnose.h: a received request is judged by the shared
 * server logic, and a wrong one is explained by the client mistake whose
 * rebuild reproduces it byte for byte (SPEC §7's faults seen in the wild). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emoncrypt/diagnose.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"
/* SPEC §8 */
static const char spec8_pt[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";
/* 48 bytes: a multiple of 16, where the padding mistakes show */
static const char block_pt[] = "time=1764000000&data=[[0,\"emontx\",1,2]]&&&&&&&&&";
/* IoTaWatt's bulk shape with nulls */
static const char iotawatt_pt[] =
    "time=1764000000&data=[[0,\"iotawatt\",231.4,null,12.05],[5,\"iotawatt\",231.6,0.12,12.1]]";

static void params_for(ec_request_params *p, ec_profile profile, ec_endpoint ep, const char *pt,
                       unsigned mistakes, uint8_t iv_seed)
{
    memset(p, 0, sizeof *p);
    p->profile = profile;
    p->endpoint = ep;
    ec_key_from_hex(KEY_HEX, p->key);
    p->apikey_hex = KEY_HEX;
    p->userid = "1";
    for (int i = 0; i < EC_IV_LEN; i++)
        p->iv[i] = (uint8_t)(iv_seed * 31 + i * 7);
    p->plaintext = (const uint8_t *)pt;
    p->plaintext_len = strlen(pt);
    p->mistakes = mistakes;
}

static void diagnose_built(const ec_request *r, ec_diagnosis *d)
{
    ec_diagnose_config cfg;
    memset(&cfg, 0, sizeof cfg);
    ec_key_from_hex(KEY_HEX, cfg.key);
    cfg.apikey_hex = KEY_HEX;
    cfg.userid = "1";
    cfg.now = 1764000100;
    ec_http_request req = {
        .method = r->method,
        .path = r->path,
        .content_type = r->content_type,
        .authorization = r->authorization[0] ? r->authorization : NULL,
        .body = (const uint8_t *)r->body,
        .body_len = r->body_len,
    };
    ec_diagnosis_init(d);
    assert_int_equal(ec_diagnose_request(&cfg, &req, d), EC_OK);
}

static int same_request(const ec_request *a, const ec_request *b)
{
    return a->body_len == b->body_len && memcmp(a->body, b->body, a->body_len) == 0 &&
           strcmp(a->authorization, b->authorization) == 0;
}

static void test_correct_request_is_reproduced_and_accepted(void **state)
{
    (void)state;
    ec_request_params p;
    params_for(&p, EC_PROFILE_AES128CBC, EC_ENDPOINT_POST, spec8_pt, 0, 0);
    for (int i = 0; i < EC_IV_LEN; i++)
        p.iv[i] = (uint8_t)i; /* SPEC §8's IV */
    ec_request r;
    ec_request_init(&r);
    assert_int_equal(ec_request_build(&p, &r), EC_OK);
    ec_diagnosis d;
    diagnose_built(&r, &d);
    assert_int_equal(d.answer.fault, EC_OK);
    assert_true(d.reproduced);
    assert_int_equal(d.mistakes, 0);
    assert_int_equal(d.decrypt_status, EC_OK);
    assert_memory_equal(d.iv, p.iv, EC_IV_LEN);
    assert_int_equal(d.plaintext_len, strlen(spec8_pt));
    assert_memory_equal(d.plaintext, spec8_pt, strlen(spec8_pt));
    assert_string_equal(d.answer.ack, "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=");
    ec_diagnosis_free(&d);
    ec_request_free(&r);
}

/* Each mistake bit alone is named (alone or as an equal alternative) and
 * the plaintext comes back. */
static void check_bit(ec_profile profile, unsigned bit, const char *pt)
{
    for (uint8_t seed = 0; seed < 40; seed++) {
        ec_request_params good, bad;
        params_for(&good, profile, EC_ENDPOINT_BULK, pt, 0, seed);
        params_for(&bad, profile, EC_ENDPOINT_BULK, pt, bit, seed);
        ec_request rg, rb;
        ec_request_init(&rg);
        ec_request_init(&rb);
        assert_int_equal(ec_request_build(&good, &rg), EC_OK);
        assert_int_equal(ec_request_build(&bad, &rb), EC_OK);
        if (same_request(&rg, &rb)) {
            /* This IV gives the same bytes (no '+' or '/' to swap, …). */
            ec_request_free(&rg);
            ec_request_free(&rb);
            continue;
        }
        ec_diagnosis d;
        diagnose_built(&rb, &d);
        if (!d.reproduced || !((d.mistakes | d.alternatives) & bit))
            fprintf(stderr, "%s: reproduced %d, mistakes %#x, alternatives %#x\n",
                    ec_mistake_name(bit), d.reproduced, d.mistakes, d.alternatives);
        assert_true(d.reproduced);
        assert_true((d.mistakes | d.alternatives) & bit);
        assert_non_null(d.plaintext);
        assert_int_equal(d.plaintext_len, strlen(pt));
        assert_memory_equal(d.plaintext, pt, strlen(pt));
        ec_diagnosis_free(&d);
        ec_request_free(&rg);
        ec_request_free(&rb);
        return;
    }
    fail_msg("%s never changed the request", ec_mistake_name(bit));
}

static void test_every_mistake_is_named(void **state)
{
    (void)state;
    for (unsigned i = 0; i < EC_MISTAKE_COUNT; i++) {
        unsigned bit = 1u << i;
        if (bit == EC_MISTAKE_GZIP_HEADER)
            continue; /* gz profile only: next test */
        int pad = bit == EC_MISTAKE_NO_FULL_PAD || bit == EC_MISTAKE_CBC_CHAIN_BUG;
        check_bit(EC_PROFILE_AES128CBC, bit, pad ? block_pt : iotawatt_pt);
    }
}

static void test_gzip_instead_of_zlib_is_named(void **state)
{
    (void)state;
    check_bit(EC_PROFILE_AES128CBCGZ, EC_MISTAKE_GZIP_HEADER, iotawatt_pt);
}

/* Two mistakes at once: the HMAC over plaintext + NUL and '=' stripped. */
static void test_two_mistakes_at_once(void **state)
{
    (void)state;
    const unsigned both = EC_MISTAKE_HMAC_PLUS_NUL | EC_MISTAKE_NO_B64_PADDING;
    for (uint8_t seed = 0; seed < 8; seed++) {
        ec_request_params p;
        params_for(&p, EC_PROFILE_AES128CBC, EC_ENDPOINT_BULK, iotawatt_pt, both, seed);
        ec_request r;
        ec_request_init(&r);
        assert_int_equal(ec_request_build(&p, &r), EC_OK);
        if (r.body[r.body_len - 1] == '=' || strchr(r.body, '=') != NULL) {
            ec_request_free(&r);
            continue;
        }
        ec_diagnosis d;
        diagnose_built(&r, &d);
        ec_request_free(&r);
        /* Without '=' in the body the padding bit may or may not be needed
         * to explain it, but the HMAC mistake must be named. */
        assert_true(d.reproduced);
        assert_true(d.mistakes & EC_MISTAKE_HMAC_PLUS_NUL);
        assert_int_equal(d.answer.fault, EC_F_INVALID_DATA);
        ec_diagnosis_free(&d);
        return;
    }
    /* Every seed padded: build once more and still check the HMAC bit. */
    ec_request_params p;
    params_for(&p, EC_PROFILE_AES128CBC, EC_ENDPOINT_BULK, iotawatt_pt, both, 0);
    ec_request r;
    ec_request_init(&r);
    assert_int_equal(ec_request_build(&p, &r), EC_OK);
    ec_diagnosis d;
    diagnose_built(&r, &d);
    ec_request_free(&r);
    assert_true(d.reproduced);
    assert_int_equal(d.mistakes, both);
    ec_diagnosis_free(&d);
}

/* A wrong HMAC no mistake explains: the body is reproduced, the request
 * is not, and the server's answer is 'invalid data'. */
static void test_unexplained_hmac(void **state)
{
    (void)state;
    ec_request_params p;
    params_for(&p, EC_PROFILE_AES128CBC, EC_ENDPOINT_POST, spec8_pt, 0, 3);
    ec_request r;
    ec_request_init(&r);
    assert_int_equal(ec_request_build(&p, &r), EC_OK);
    char *colon = strchr(r.authorization, ':');
    colon[1] = colon[1] == '0' ? '1' : '0';
    ec_diagnosis d;
    diagnose_built(&r, &d);
    assert_false(d.reproduced);
    assert_true(d.body_reproduced);
    assert_int_equal(d.answer.fault, EC_F_INVALID_DATA);
    assert_int_equal(d.decrypt_status, EC_OK);
    ec_diagnosis_free(&d);
    ec_request_free(&r);
}

/* Garbage: nothing reproduced, nothing crashes, the answer is Emoncms's. */
static void test_garbage_body(void **state)
{
    (void)state;
    static const char *bodies[] = {"", "!", "AAAA", "not base64 at all \n\t", "AAAAAAAAAAAAAAAAAAAAAA",
                                   "////////////////////////////////////////////////////////////"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        ec_diagnose_config cfg;
        memset(&cfg, 0, sizeof cfg);
        ec_key_from_hex(KEY_HEX, cfg.key);
        cfg.apikey_hex = KEY_HEX;
        cfg.userid = "1";
        ec_http_request req = {
            .method = "POST", .path = "/input/post", .content_type = "aes128cbc",
            .authorization = "1:0000000000000000000000000000000000000000000000000000000000000000",
            .body = (const uint8_t *)bodies[i], .body_len = strlen(bodies[i]),
        };
        ec_diagnosis d;
        ec_diagnosis_init(&d);
        assert_int_equal(ec_diagnose_request(&cfg, &req, &d), EC_OK);
        assert_false(d.reproduced);
        assert_int_not_equal(d.answer.fault, EC_OK);
        assert_non_null(d.answer.answer);
        ec_diagnosis_free(&d);
    }
}

static void test_mistake_list(void **state)
{
    (void)state;
    char out[128];
    assert_string_equal(ec_mistake_list(0, out, sizeof out), "");
    assert_string_equal(ec_mistake_list(EC_MISTAKE_HMAC_UPPER | EC_MISTAKE_STD_ALPHABET, out,
                                        sizeof out), "std-alphabet, hmac-upper");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correct_request_is_reproduced_and_accepted),
        cmocka_unit_test(test_every_mistake_is_named),
        cmocka_unit_test(test_gzip_instead_of_zlib_is_named),
        cmocka_unit_test(test_two_mistakes_at_once),
        cmocka_unit_test(test_unexplained_hmac),
        cmocka_unit_test(test_garbage_body),
        cmocka_unit_test(test_mistake_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
