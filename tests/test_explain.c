/* emoncrypt tests — explain.h: a request is read layer by layer, and a
 * wrong one is explained by naming the client mistake in it.  For every
 * mistake explain claims to detect, a request is built with exactly that
 * mistake (ec_request_build, the one definition of each) and explain must
 * name exactly it; a wrong key, a valid request and garbage are covered
 * too, and the API key must never appear in any output. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/explain.h"
#include "emoncrypt/message.h"

#define KEY_HEX "0123456789abcdef0123456789abcdef"
#define OTHER_KEY_HEX "fedcba9876543210fedcba9876543210"
#define NOW 1764000100

/* SPEC §8 */
static const char spec8_pt[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";
static const char spec8_ack[] = "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=";
/* 48 bytes, like spec8_pt: a multiple of 16, where the pad-block mistakes show */
static const char block_pt[] = "time=1764000000&data=[[0,\"emontx\",1,2]]&&&&&&&&&";
/* 86 bytes: not a multiple of 16, where zero padding shows on its own */
static const char iotawatt_pt[] =
    "time=1764000000&data=[[0,\"iotawatt\",231.4,null,12.05],[5,\"iotawatt\",231.6,0.12,12.1]]";

static void params_for(ec_request_params *p, ec_profile profile, const char *pt,
                       unsigned mistakes, unsigned iv_seed)
{
    memset(p, 0, sizeof *p);
    p->profile = profile;
    p->endpoint = strncmp(pt, "time=", 5) == 0 ? EC_ENDPOINT_BULK : EC_ENDPOINT_POST;
    ec_key_from_hex(KEY_HEX, p->key);
    p->apikey_hex = KEY_HEX;
    p->userid = "1";
    for (int i = 0; i < EC_IV_LEN; i++)
        p->iv[i] = (uint8_t)(iv_seed * 37 + i * 11 + 5);
    p->plaintext = (const uint8_t *)pt;
    p->plaintext_len = strlen(pt);
    p->mistakes = mistakes;
}

/* Every text of an explanation, to search it. */
static void all_text(const ec_explanation *e, char *out, size_t cap)
{
    size_t used = (size_t)snprintf(out, cap, "%s\n%s\n", e->verdict, e->answer);
    for (size_t i = 0; i < e->layer_count && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s|%s|%s|%s\n", e->layers[i].name,
                                 e->layers[i].expected, e->layers[i].actual, e->layers[i].note);
}

static void assert_no_key(const ec_explanation *e)
{
    static char text[EC_EXPLAIN_MAX_LAYERS * 4 * EC_EXPLAIN_FIELD + 4096];
    all_text(e, text, sizeof text);
    assert_null(strcasestr(text, KEY_HEX));
    char *json = ec_explanation_json(e, 0);
    assert_non_null(json);
    assert_null(strcasestr(json, KEY_HEX));
    free(json);
}

static void explain_built(const ec_request *r, const char *key_hex, ec_explanation *e)
{
    ec_explain_input in;
    memset(&in, 0, sizeof in);
    in.apikey_hex = key_hex;
    in.method = r->method;
    in.path = r->path;
    in.content_type = r->content_type;
    in.authorization = r->authorization[0] ? r->authorization : NULL;
    in.body = (const uint8_t *)r->body;
    in.body_len = r->body_len;
    in.now = NOW;
    ec_explanation_init(e);
    assert_int_equal(ec_explain_request(&in, e), EC_OK);
    assert_no_key(e);
}

static const ec_explain_layer *find_layer(const ec_explanation *e, const char *name)
{
    for (size_t i = 0; i < e->layer_count; i++)
        if (strcmp(e->layers[i].name, name) == 0)
            return &e->layers[i];
    return NULL;
}

/* The layer named name; a missing one fails the test. */
static const ec_explain_layer *layer(const ec_explanation *e, const char *name)
{
    static const ec_explain_layer none = {.name = "missing"};
    const ec_explain_layer *l = find_layer(e, name);
    if (l == NULL)
        fail_msg("no layer '%s'", name);
    return l != NULL ? l : &none;
}

/* Build with one mistake (choosing an IV for which the mistake changes the
 * bytes at all), explain, and return the explanation. */
static void explain_mistake(unsigned bit, ec_profile profile, const char *pt, ec_explanation *e)
{
    ec_request_params p;
    ec_request r, correct;
    for (unsigned seed = 0;; seed++) {
        assert_true(seed < 64);
        params_for(&p, profile, pt, bit, seed);
        ec_request_init(&r);
        assert_int_equal(ec_request_build(&p, &r), EC_OK);
        p.mistakes = 0;
        ec_request_init(&correct);
        assert_int_equal(ec_request_build(&p, &correct), EC_OK);
        int differs = r.body_len != correct.body_len ||
                      memcmp(r.body, correct.body, r.body_len) != 0 ||
                      strcmp(r.authorization, correct.authorization) != 0;
        ec_request_free(&correct);
        if (differs)
            break;
        ec_request_free(&r);
    }
    explain_built(&r, KEY_HEX, e);
    ec_request_free(&r);
}

/* The mistakes, with a plaintext on which each one shows. */
static const struct {
    unsigned bit;
    ec_profile profile;
    const char *pt;
    unsigned same_bytes_as;       /* a mistake the bytes cannot tell apart */
} cases[] = {
    {EC_MISTAKE_STD_ALPHABET, EC_PROFILE_AES128CBC, spec8_pt, 0},
    {EC_MISTAKE_HMAC_UPPER, EC_PROFILE_AES128CBC, spec8_pt, 0},
    {EC_MISTAKE_HMAC_OVER_CT, EC_PROFILE_AES128CBC, spec8_pt, 0},
    {EC_MISTAKE_HMAC_PLUS_NUL, EC_PROFILE_AES128CBC, spec8_pt, 0},
    {EC_MISTAKE_HMAC_HEX_KEY, EC_PROFILE_AES128CBC, iotawatt_pt, 0},
    {EC_MISTAKE_ZERO_PADDING, EC_PROFILE_AES128CBC, iotawatt_pt, 0},
    /* On a multiple of 16, "no pad block" and "zero bytes to a multiple
     * of 16" are the same bytes: both must be named. */
    {EC_MISTAKE_NO_FULL_PAD, EC_PROFILE_AES128CBC, block_pt, EC_MISTAKE_ZERO_PADDING},
    {EC_MISTAKE_IV_APPENDED, EC_PROFILE_AES128CBC, iotawatt_pt, 0},
    {EC_MISTAKE_CBC_CHAIN_BUG, EC_PROFILE_AES128CBC, block_pt, 0},
    {EC_MISTAKE_HEX_KEY_AS_KEY, EC_PROFILE_AES128CBC, iotawatt_pt, 0},
    {EC_MISTAKE_GZIP_HEADER, EC_PROFILE_AES128CBCGZ, iotawatt_pt, 0},
    /* The same mistakes on the gz profile, where the HMAC covers the
     * compressed bytes. */
    {EC_MISTAKE_HMAC_PLUS_NUL, EC_PROFILE_AES128CBCGZ, iotawatt_pt, 0},
    {EC_MISTAKE_IV_APPENDED, EC_PROFILE_AES128CBCGZ, spec8_pt, 0},
};

static void test_every_mistake_is_named_exactly(void **state)
{
    (void)state;
    unsigned covered = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ec_explanation e;
        explain_mistake(cases[i].bit, cases[i].profile, cases[i].pt, &e);
        const char *name = ec_mistake_name(cases[i].bit);
        if (!e.reproduced || (e.mistakes | e.alternatives) !=
                                 (cases[i].bit | cases[i].same_bytes_as))
            fail_msg("%s (%s): mistakes %#x alternatives %#x; verdict: %s", name,
                     ec_profile_name(cases[i].profile), e.mistakes, e.alternatives, e.verdict);
        assert_false(e.valid);
        assert_false(e.wrong_key);
        /* The verdict says it in the words of message.h. */
        if (strstr(e.verdict, ec_mistake_text(cases[i].bit)) == NULL)
            fail_msg("%s: verdict '%s' lacks '%s'", name, e.verdict,
                     ec_mistake_text(cases[i].bit));
        const ec_explain_layer *d = layer(&e, "diagnosis");
        assert_non_null(strstr(d->actual, name));
        /* The ack a correct server would send for the same data is known. */
        assert_true(ec_ack_well_formed(e.ack, strlen(e.ack)));
        covered |= cases[i].bit;
        ec_explanation_free(&e);
    }
    /* Every mistake but the allowed one (no-b64-padding, next test). */
    unsigned all = (1u << EC_MISTAKE_COUNT) - 1;
    assert_int_equal(covered, all & ~(unsigned)EC_MISTAKE_NO_B64_PADDING);
}

/* The verdict sentence the issue quotes, verbatim. */
static void test_hmac_plus_nul_sentence(void **state)
{
    (void)state;
    ec_explanation e;
    explain_mistake(EC_MISTAKE_HMAC_PLUS_NUL, EC_PROFILE_AES128CBC, spec8_pt, &e);
    assert_string_equal(e.verdict, "your HMAC is over the plaintext plus a trailing NUL byte");
    /* The layers show where: decryption fine, HMAC differs. */
    assert_true(layer(&e, "padding")->ok);
    assert_true(layer(&e, "plaintext")->ok);
    assert_false(layer(&e, "hmac")->ok);
    assert_int_equal(e.fault, EC_F_INVALID_DATA);
    assert_string_equal(e.answer, "invalid data");
    ec_explanation_free(&e);
}

static void test_std_alphabet_is_accepted_by_emoncms_but_named(void **state)
{
    (void)state;
    ec_explanation e;
    explain_mistake(EC_MISTAKE_STD_ALPHABET, EC_PROFILE_AES128CBC, spec8_pt, &e);
    assert_true(e.accepted);
    assert_false(e.valid);
    assert_false(layer(&e, "base64")->ok);
    assert_non_null(strstr(e.verdict, "Emoncms accepts it, but"));
    ec_explanation_free(&e);
}

static void test_two_mistakes_are_both_named(void **state)
{
    (void)state;
    ec_request_params p;
    params_for(&p, EC_PROFILE_AES128CBC, iotawatt_pt,
               EC_MISTAKE_HMAC_PLUS_NUL | EC_MISTAKE_IV_APPENDED, 3);
    ec_request r;
    ec_request_init(&r);
    assert_int_equal(ec_request_build(&p, &r), EC_OK);
    ec_explanation e;
    explain_built(&r, KEY_HEX, &e);
    assert_int_equal(e.mistakes, EC_MISTAKE_HMAC_PLUS_NUL | EC_MISTAKE_IV_APPENDED);
    assert_non_null(strstr(e.verdict, ec_mistake_text(EC_MISTAKE_HMAC_PLUS_NUL)));
    assert_non_null(strstr(e.verdict, ec_mistake_text(EC_MISTAKE_IV_APPENDED)));
    /* The plaintext came back only by reading the IV from the end. */
    const ec_explain_layer *pl = layer(&e, "plaintext");
    assert_non_null(strstr(pl->actual, "iotawatt"));
    assert_false(pl->ok);
    ec_request_free(&r);
    ec_explanation_free(&e);
}

static void test_valid_request_all_layers_ok_and_the_ack(void **state)
{
    (void)state;
    ec_request_params p;
    params_for(&p, EC_PROFILE_AES128CBC, spec8_pt, 0, 0);
    for (int i = 0; i < EC_IV_LEN; i++)
        p.iv[i] = (uint8_t)i; /* SPEC §8 */
    ec_request r;
    ec_request_init(&r);
    assert_int_equal(ec_request_build(&p, &r), EC_OK);
    ec_explanation e;
    explain_built(&r, KEY_HEX, &e);
    assert_true(e.valid);
    assert_true(e.accepted);
    assert_int_equal(e.mistakes, 0);
    for (size_t i = 0; i < e.layer_count; i++) {
        if (!e.layers[i].ok || !e.layers[i].reached)
            fail_msg("layer %s not ok: %s (%s)", e.layers[i].name, e.layers[i].actual,
                     e.layers[i].note);
    }
    assert_null(find_layer(&e, "diagnosis"));
    assert_string_equal(e.ack, spec8_ack);
    assert_string_equal(e.answer, spec8_ack);
    assert_int_equal(e.http_status, 200);
    assert_non_null(strstr(e.verdict, spec8_ack));
    assert_non_null(strstr(layer(&e, "plaintext")->actual, "node=emontx"));
    assert_non_null(strstr(layer(&e, "iv")->actual, "00 01 02 03"));
    /* The layers in the order a server peels them. */
    static const char *const order[] = {"route", "content-type", "authorization", "apikey",
                                        "base64",
                                        "iv", "ciphertext", "padding", "plaintext", "hmac",
                                        "application", "answer"};
    assert_int_equal(e.layer_count, sizeof order / sizeof order[0]);
    for (size_t i = 0; i < e.layer_count; i++)
        assert_string_equal(e.layers[i].name, order[i]);
    ec_request_free(&r);
    ec_explanation_free(&e);
}

static void test_stripped_padding_is_valid_and_noted(void **state)
{
    (void)state;
    for (int strip = 0; strip <= 1; strip++) {
        ec_request_params p;
        /* 86 bytes -> 96 + 16 = 112 decoded: 112 % 3 == 1, so '=' shows. */
        params_for(&p, EC_PROFILE_AES128CBC, iotawatt_pt,
                   strip ? EC_MISTAKE_NO_B64_PADDING : 0, 1);
        ec_request r;
        ec_request_init(&r);
        assert_int_equal(ec_request_build(&p, &r), EC_OK);
        assert_int_equal(r.body[r.body_len - 1] == '=', !strip);
        ec_explanation e;
        explain_built(&r, KEY_HEX, &e);
        assert_true(e.valid);
        assert_int_equal(e.mistakes, 0);
        const ec_explain_layer *b = layer(&e, "base64");
        assert_true(b->ok);
        assert_non_null(strstr(b->actual, strip ? "no '=' padding" : "'=' padding kept"));
        ec_request_free(&r);
        ec_explanation_free(&e);
    }
}

static void test_gz_valid_has_an_inflate_layer(void **state)
{
    (void)state;
    ec_request_params p;
    params_for(&p, EC_PROFILE_AES128CBCGZ, iotawatt_pt, 0, 2);
    ec_request r;
    ec_request_init(&r);
    assert_int_equal(ec_request_build(&p, &r), EC_OK);
    ec_explanation e;
    explain_built(&r, KEY_HEX, &e);
    assert_true(e.valid);
    const ec_explain_layer *z = layer(&e, "inflate");
    assert_true(z->ok);
    assert_non_null(strstr(layer(&e, "plaintext")->actual, "iotawatt"));
    assert_string_equal(e.ack, r.ack);
    ec_request_free(&r);
    ec_explanation_free(&e);
}

/* What one IV shows on its own: zero, text or a run of zeros fail the IV
 * layer (Emoncms still accepts the request); a clock at the start is only
 * noted. */
static void test_iv_patterns_one_request_can_show(void **state)
{
    (void)state;
    static const struct {
        const char *iv;          /* 16 bytes */
        int ok;
        const char *note;
    } ivs[] = {
        {"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 0, "all zero"},
        {"emoncrypt-fixed!", 0, "the IV is the text 'emoncrypt-fixed!'"},
        {"\x91\x22\x35\x48\x5b\x6e\x81\x94\0\0\0\0\0\0\0\x07", 0, "6 or more zero bytes"},
        /* 1764000000 = 0x69232500 */
        {"\x69\x23\x25\x00\x8e\xa1\xb4\xc7\xda\xed\x10\x23\x36\x49\x5c\x6f", 1,
         "Unix time"},
    };
    for (size_t i = 0; i < sizeof ivs / sizeof ivs[0]; i++) {
        ec_request_params p;
        params_for(&p, EC_PROFILE_AES128CBC, iotawatt_pt, 0, 0);
        memcpy(p.iv, ivs[i].iv, EC_IV_LEN);
        ec_request r;
        ec_request_init(&r);
        assert_int_equal(ec_request_build(&p, &r), EC_OK);
        ec_explanation e;
        explain_built(&r, KEY_HEX, &e);
        const ec_explain_layer *iv = layer(&e, "iv");
        assert_true(e.accepted);
        assert_int_equal(iv->ok, ivs[i].ok);
        assert_int_equal(e.valid, ivs[i].ok);
        if (strstr(iv->note, ivs[i].note) == NULL)
            fail_msg("IV %zu: note '%s' lacks '%s'", i, iv->note, ivs[i].note);
        if (!ivs[i].ok) {
            assert_non_null(strstr(e.verdict, "Emoncms accepts it, but not as the protocol wants"));
            assert_non_null(strstr(e.verdict, ivs[i].note));
        }
        ec_request_free(&r);
        ec_explanation_free(&e);
    }
}

static void test_wrong_key(void **state)
{
    (void)state;
    for (unsigned seed = 0; seed < 8; seed++) {
        ec_request_params p;
        params_for(&p, EC_PROFILE_AES128CBC, seed % 2 ? spec8_pt : iotawatt_pt, 0, seed);
        ec_key_from_hex(OTHER_KEY_HEX, p.key);
        p.apikey_hex = OTHER_KEY_HEX;
        ec_request r;
        ec_request_init(&r);
        assert_int_equal(ec_request_build(&p, &r), EC_OK);
        ec_explanation e;
        explain_built(&r, KEY_HEX, &e);
        assert_false(e.valid);
        assert_true(e.wrong_key);
        assert_string_equal(e.verdict, "the key is wrong (no mistake I know makes it valid)");
        assert_string_equal(e.verdict, ec_explain_wrong_key_text);
        assert_int_equal(e.mistakes, 0);
        assert_string_equal(e.answer, "invalid data");
        ec_request_free(&r);
        ec_explanation_free(&e);
    }
}

static void explain_body(const uint8_t *body, size_t n, const char *auth, ec_explanation *e)
{
    ec_explain_input in;
    memset(&in, 0, sizeof in);
    in.apikey_hex = KEY_HEX;
    in.content_type = "aes128cbc";
    in.authorization = auth;
    in.body = body;
    in.body_len = n;
    in.now = NOW;
    ec_explanation_init(e);
    assert_int_equal(ec_explain_request(&in, e), EC_OK);
    assert_false(e->valid);
    assert_true(e->verdict[0] != 0);
    assert_no_key(e);
}

static void test_garbage_never_crashes(void **state)
{
    (void)state;
    static const char auth[] = "1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662";
    ec_explanation e;

    explain_body(NULL, 0, auth, &e);
    assert_int_equal(e.fault, EC_F_BODY_EMPTY);
    assert_false(layer(&e, "base64")->ok);
    ec_explanation_free(&e);

    explain_body((const uint8_t *)"!!!! not base64 at all ~~~~", 27, auth, &e);
    assert_false(layer(&e, "base64")->ok);
    assert_non_null(strstr(e.verdict, "does not decode to an IV"));
    ec_explanation_free(&e);

    static const uint8_t nuls[40];
    explain_body(nuls, sizeof nuls, auth, &e);
    ec_explanation_free(&e);

    /* 1 MB: random bytes, then base64 text that decodes to whole blocks. */
    size_t n = 1u << 20;
    uint8_t *big = malloc(n);
    assert_non_null(big);
    assert_int_equal(ec_random(big, n), EC_OK);
    explain_body(big, n, auth, &e);
    ec_explanation_free(&e);
    memset(big, 'A', n);
    explain_body(big, n, auth, &e);
    assert_true(layer(&e, "ciphertext")->ok);
    assert_false(layer(&e, "padding")->ok);
    ec_explanation_free(&e);
    free(big);

    /* Broken headers, with a body that is fine. */
    explain_body((const uint8_t *)"AAECAwQFBgcICQoLDA0ODw", 22, NULL, &e);
    assert_int_equal(e.fault, EC_F_AUTH_MISSING);
    ec_explanation_free(&e);
    explain_body((const uint8_t *)"AAECAwQFBgcICQoLDA0ODw", 22, "1:2:3", &e);
    assert_int_equal(e.fault, EC_F_AUTH_FORMAT);
    ec_explanation_free(&e);
}

/* SPEC section 4's quirk: a body that fails to decrypt is MAC-checked as
 * the empty string, so HMAC(key, "") passes any such body on to the
 * application.  Explain must not call that "the encryption is right". */
static void test_mac_of_empty_quirk(void **state)
{
    (void)state;
    uint8_t key[EC_KEY_LEN];
    ec_key_from_hex(KEY_HEX, key);
    char mac[EC_HMAC_HEX_LEN + 1];
    assert_int_equal(ec_hmac_sha256_hex(key, EC_KEY_LEN, (const uint8_t *)"", 0, mac), EC_OK);
    char auth[80];
    snprintf(auth, sizeof auth, "1:%s", mac);
    /* 48 bytes of 0xff as base64url: IV + 2 blocks that decrypt to garbage. */
    static const char body[] = "________________________________________________________________";
    ec_explanation e;
    explain_body((const uint8_t *)body, strlen(body), auth, &e);
    assert_int_equal(e.fault, EC_F_APP);
    assert_false(layer(&e, "padding")->ok);
    assert_non_null(strstr(layer(&e, "hmac")->note, "HMAC of the empty string"));
    assert_null(strstr(e.verdict, "the encryption is right"));
    assert_non_null(strstr(e.verdict, "empty string"));
    ec_explanation_free(&e);
}

static void test_wrong_content_type_and_bearer_key_redacted(void **state)
{
    (void)state;
    ec_explain_input in;
    memset(&in, 0, sizeof in);
    in.apikey_hex = KEY_HEX;
    in.content_type = "AES128CBC";
    in.authorization = "Bearer " KEY_HEX;
    in.body = (const uint8_t *)"AAAA";
    in.body_len = 4;
    in.now = NOW;
    ec_explanation e;
    ec_explanation_init(&e);
    assert_int_equal(ec_explain_request(&in, &e), EC_OK);
    assert_no_key(&e);
    assert_int_equal(e.fault, EC_F_NOT_ENCRYPTED);
    assert_false(layer(&e, "content-type")->ok);
    assert_non_null(strstr(layer(&e, "authorization")->actual, "[REDACTED]"));
    /* The key in clear outweighs every other fault. */
    assert_false(layer(&e, "apikey")->ok);
    assert_string_equal(e.verdict, "you send the write API key in clear, in the Authorization "
                                   "header: anyone on the path can read it and post as you");
    ec_explanation_free(&e);

    /* Without the key: the Content-Type is the fault. */
    in.authorization = "1:00";
    ec_explanation_init(&e);
    assert_int_equal(ec_explain_request(&in, &e), EC_OK);
    assert_int_equal(e.fault, EC_F_NOT_ENCRYPTED);
    assert_true(layer(&e, "apikey")->ok);
    assert_non_null(strstr(e.verdict, "Content-Type"));
    assert_non_null(strstr(e.verdict, "401"));
    ec_explanation_free(&e);

    /* In the URL, in either case, or as a capture file redacted it. */
    static const char *const queries[] = {("apikey=" KEY_HEX),
                                          "apikey=0123456789ABCDEF0123456789ABCDEF",
                                          "apikey=[REDACTED]"};
    for (size_t i = 0; i < 3; i++) {
        ec_request_params q;
        params_for(&q, EC_PROFILE_AES128CBC, spec8_pt, 0, 6);
        ec_request rq;
        ec_request_init(&rq);
        assert_int_equal(ec_request_build(&q, &rq), EC_OK);
        ec_explain_input qi;
        memset(&qi, 0, sizeof qi);
        qi.apikey_hex = KEY_HEX;
        qi.path = rq.path;
        qi.query = queries[i];
        qi.content_type = rq.content_type;
        qi.authorization = rq.authorization;
        qi.body = (const uint8_t *)rq.body;
        qi.body_len = rq.body_len;
        qi.now = NOW;
        ec_explanation_init(&e);
        assert_int_equal(ec_explain_request(&qi, &e), EC_OK);
        assert_no_key(&e);
        assert_true(e.accepted); /* Emoncms does not mind */
        assert_false(e.valid);
        assert_non_null(strstr(e.verdict, "in clear, in the URL"));
        ec_request_free(&rq);
        ec_explanation_free(&e);
    }

    /* A plaintext that carries the key itself. */
    ec_request_params p;
    static const char leaky[] = "node=x&apikey=" KEY_HEX "&json={\"a\":1}";
    params_for(&p, EC_PROFILE_AES128CBC, leaky, 0, 4);
    ec_request r;
    ec_request_init(&r);
    assert_int_equal(ec_request_build(&p, &r), EC_OK);
    explain_built(&r, KEY_HEX, &e);
    assert_non_null(strstr(layer(&e, "plaintext")->actual, "[REDACTED]"));
    ec_request_free(&r);
    ec_explanation_free(&e);

    /* A bad key is refused, not used. */
    in.apikey_hex = "0123";
    assert_int_equal(ec_explain_request(&in, &e), EC_E_KEY);
}

static void test_application_error_is_not_a_crypto_mistake(void **state)
{
    (void)state;
    ec_request_params p;
    params_for(&p, EC_PROFILE_AES128CBC, "node=emontx&json=not json at all{", 0, 5);
    ec_request r;
    ec_request_init(&r);
    assert_int_equal(ec_request_build(&p, &r), EC_OK);
    ec_explanation e;
    explain_built(&r, KEY_HEX, &e);
    assert_false(e.accepted);
    assert_int_equal(e.fault, EC_F_APP);
    assert_true(e.reproduced);
    assert_int_equal(e.mistakes, 0);
    assert_true(layer(&e, "hmac")->ok);
    assert_false(layer(&e, "application")->ok);
    assert_non_null(strstr(e.verdict, "the application refuses"));
    ec_request_free(&r);
    ec_explanation_free(&e);
}

/* The 2017 form (SPEC section 6): no MAC, the data= field is the body. */
static void test_legacy_form(void **state)
{
    (void)state;
    static const char rows[] = "[[1764000000,\"emontx\",1,2],[1764000010,\"emontx\",3,4]]";
    for (int appended = 0; appended <= 1; appended++) {
        ec_request_params p;
        params_for(&p, EC_PROFILE_LEGACY, rows, appended ? EC_MISTAKE_IV_APPENDED : 0, 7);
        p.username = "alice";
        ec_request r;
        ec_request_init(&r);
        assert_int_equal(ec_request_build(&p, &r), EC_OK);
        ec_explain_input in;
        memset(&in, 0, sizeof in);
        in.apikey_hex = KEY_HEX;
        in.username = "alice";
        in.path = r.path;
        in.content_type = r.content_type;
        in.body = (const uint8_t *)r.body;
        in.body_len = r.body_len;
        in.now = NOW;
        ec_explanation e;
        ec_explanation_init(&e);
        assert_int_equal(ec_explain_request(&in, &e), EC_OK);
        assert_no_key(&e);
        assert_null(find_layer(&e, "hmac"));
        assert_non_null(layer(&e, "form"));
        if (appended) {
            assert_false(e.valid);
            assert_int_equal(e.mistakes, EC_MISTAKE_IV_APPENDED);
            assert_string_equal(e.verdict, ec_mistake_text(EC_MISTAKE_IV_APPENDED));
        } else {
            if (!e.valid)
                fail_msg("legacy: %s", e.verdict);
            assert_string_equal(e.ack, r.ack);
            assert_non_null(strstr(layer(&e, "plaintext")->actual, "emontx"));
        }
        ec_request_free(&r);
        ec_explanation_free(&e);
    }
}

static void test_json_output(void **state)
{
    (void)state;
    ec_explanation e;
    explain_mistake(EC_MISTAKE_HMAC_OVER_CT, EC_PROFILE_AES128CBC, spec8_pt, &e);
    char *s = ec_explanation_json(&e, 1);
    assert_non_null(s);
    json_error_t err;
    json_t *o = json_loads(s, 0, &err);
    assert_non_null(o);
    assert_false(json_is_true(json_object_get(o, "valid")));
    json_t *m = json_object_get(o, "mistakes");
    assert_int_equal(json_array_size(m), 1);
    assert_string_equal(json_string_value(json_array_get(m, 0)), "hmac-over-ct");
    assert_string_equal(json_string_value(json_object_get(o, "verdict")),
                        ec_mistake_text(EC_MISTAKE_HMAC_OVER_CT));
    json_t *layers = json_object_get(o, "layers");
    assert_int_equal(json_array_size(layers), e.layer_count);
    json_t *first = json_array_get(layers, 0);
    assert_non_null(json_object_get(first, "expected"));
    assert_non_null(json_object_get(first, "actual"));
    assert_non_null(json_object_get(first, "note"));
    json_decref(o);
    free(s);

    /* The text writer prints every layer and the verdict. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(ec_explanation_write_text(&e, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "FAIL  hmac"));
    assert_non_null(strstr(buf, "verdict: your HMAC is over the encrypted body"));
    free(buf);
    ec_explanation_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_mistake_is_named_exactly),
        cmocka_unit_test(test_hmac_plus_nul_sentence),
        cmocka_unit_test(test_std_alphabet_is_accepted_by_emoncms_but_named),
        cmocka_unit_test(test_two_mistakes_are_both_named),
        cmocka_unit_test(test_valid_request_all_layers_ok_and_the_ack),
        cmocka_unit_test(test_stripped_padding_is_valid_and_noted),
        cmocka_unit_test(test_gz_valid_has_an_inflate_layer),
        cmocka_unit_test(test_iv_patterns_one_request_can_show),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_mac_of_empty_quirk),
        cmocka_unit_test(test_wrong_content_type_and_bearer_key_redacted),
        cmocka_unit_test(test_application_error_is_not_a_crypto_mistake),
        cmocka_unit_test(test_legacy_form),
        cmocka_unit_test(test_json_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
