/* Unit tests: building requests (every client mistake), the server's
 * answers step by step (SPEC §4, §6, compat and strict) and the client's
 * ack check (message.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "emoncrypt/message.h"

/* SPEC §8 */
static const char spec_apikey[] = "0123456789abcdef0123456789abcdef";
static const char spec_plaintext[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";
static const char spec_body[] =
    "AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc";
/* SPEC §8 prints the body without its '=' (the builder keeps it unless
 * told no-b64-padding) */
static const char spec_body_padded[] =
    "AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc=";
/* 49 bytes: not a multiple of the block size (SPEC §8's is 48) */
static const char pt49[] = "node=emontx&fulljson={\"power1\":100,\"power2\":2000}";
static const char spec_auth[] = "1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662";
static const char spec_ack[] = "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=";
static const char hmac_of_empty_hex_name[] = "HMAC(key, \"\")";

#define NOW 1700000000

static void spec_params(ec_request_params *p, const char *plaintext)
{
    memset(p, 0, sizeof *p);
    p->profile = EC_PROFILE_AES128CBC;
    p->endpoint = EC_ENDPOINT_POST;
    assert_int_equal(ec_key_from_hex(spec_apikey, p->key), EC_OK);
    p->apikey_hex = spec_apikey;
    p->userid = "1";
    p->username = "alice";
    for (int i = 0; i < EC_IV_LEN; i++)
        p->iv[i] = (uint8_t)i;
    p->plaintext = (const uint8_t *)plaintext;
    p->plaintext_len = strlen(plaintext);
}

static void build(const ec_request_params *p, ec_request *r)
{
    ec_request_init(r);
    assert_int_equal(ec_request_build(p, r), EC_OK);
}

/* The decoded body bytes of a request (either alphabet). */
static size_t body_bytes(const ec_request *r, uint8_t *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(ec_b64_decode_compat(r->body, r->body_len, out, cap, &n), EC_OK);
    return n;
}

static void hmac_hex(const uint8_t *key, size_t key_len, const uint8_t *m, size_t n, char out[65])
{
    assert_int_equal(ec_hmac_sha256_hex(key, key_len, m, n, out), EC_OK);
}

/* ---- building ----------------------------------------------------------- */

static void spec8_reference_vector(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r;
    spec_params(&p, spec_plaintext);
    build(&p, &r);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path, "/input/post");
    assert_string_equal(r.content_type, "aes128cbc");
    assert_string_equal(r.body, spec_body_padded);
    assert_int_equal(r.body_len, strlen(spec_body_padded));
    assert_string_equal(r.authorization, spec_auth);
    assert_string_equal(r.ack, spec_ack);
    assert_memory_equal(r.wire_plaintext, spec_plaintext, strlen(spec_plaintext));
    ec_request_free(&r);
    p.mistakes = EC_MISTAKE_NO_B64_PADDING;
    build(&p, &r);
    assert_string_equal(r.body, spec_body);
    assert_string_equal(r.authorization, spec_auth);
    assert_string_equal(r.ack, spec_ack);
    ec_request_free(&r);
}

static void mistake_names_round_trip(void **state)
{
    (void)state;
    for (unsigned i = 0; i < EC_MISTAKE_COUNT; i++) {
        const char *name = ec_mistake_name(1u << i);
        assert_non_null(name);
        assert_int_equal(ec_mistake_from_name(name), 1u << i);
        assert_non_null(ec_mistake_text(1u << i));
    }
    assert_null(ec_mistake_name(0));
    assert_null(ec_mistake_name(3));
    assert_int_equal(ec_mistake_from_name("no-such-mistake"), 0);
    assert_string_equal(ec_mistake_name(EC_MISTAKE_HMAC_PLUS_NUL), "hmac-plus-nul");
    assert_string_equal(ec_profile_name(EC_PROFILE_AES128CBCGZ), "aes128cbcgz");
    assert_int_equal(ec_profile_from_name("legacy"), EC_PROFILE_LEGACY);
    assert_int_equal(ec_profile_from_name("AES128CBC"), -1);
}

static void alphabet_and_padding_mistakes_touch_only_the_body_text(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request good, std, nopad;
    spec_params(&p, spec_plaintext);
    build(&p, &good);
    p.mistakes = EC_MISTAKE_STD_ALPHABET;
    build(&p, &std);
    p.mistakes = EC_MISTAKE_NO_B64_PADDING;
    build(&p, &nopad);
    assert_int_equal(std.body_len, good.body_len);
    for (size_t i = 0; i < good.body_len; i++) {
        char want = good.body[i] == '-' ? '+' : good.body[i] == '_' ? '/' : good.body[i];
        assert_int_equal(std.body[i], want);
    }
    assert_string_equal(std.authorization, good.authorization);
    ec_request good2, nopad2;
    spec_params(&p, pt49);
    build(&p, &good2);
    p.mistakes = EC_MISTAKE_NO_B64_PADDING;
    build(&p, &nopad2);
    assert_true(good2.body_len > nopad2.body_len);
    assert_int_equal(good2.body[good2.body_len - 1], '=');
    assert_memory_equal(good2.body, nopad2.body, nopad2.body_len);
    for (size_t i = nopad2.body_len; i < good2.body_len; i++)
        assert_int_equal(good2.body[i], '=');
    assert_string_equal(nopad2.authorization, good2.authorization);
    assert_string_equal(nopad.body, spec_body);
    ec_request_free(&good);
    ec_request_free(&std);
    ec_request_free(&nopad);
    ec_request_free(&good2);
    ec_request_free(&nopad2);
}

static void hmac_mistakes_touch_only_the_authorization(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request good, r;
    spec_params(&p, spec_plaintext);
    build(&p, &good);
    size_t n = strlen(spec_plaintext);
    char want[80], hex[65];

    p.mistakes = EC_MISTAKE_HMAC_UPPER;
    build(&p, &r);
    assert_string_equal(r.body, good.body);
    assert_string_equal(r.authorization,
                        "1:B34E30A93AB8F8DDDED42C3D5EAA66915AEC0CFC931E9FC23FBD60567B9F2662");
    assert_string_equal(r.ack, good.ack);
    ec_request_free(&r);

    p.mistakes = EC_MISTAKE_HMAC_OVER_CT;
    build(&p, &r);
    uint8_t raw[256];
    size_t raw_len = body_bytes(&r, raw, sizeof raw);
    hmac_hex(p.key, 16, raw, raw_len, hex);
    snprintf(want, sizeof want, "1:%s", hex);
    assert_string_equal(r.body, good.body);
    assert_string_equal(r.authorization, want);
    ec_request_free(&r);

    p.mistakes = EC_MISTAKE_HMAC_PLUS_NUL;
    build(&p, &r);
    uint8_t with_nul[128];
    memcpy(with_nul, spec_plaintext, n);
    with_nul[n] = 0;
    hmac_hex(p.key, 16, with_nul, n + 1, hex);
    snprintf(want, sizeof want, "1:%s", hex);
    assert_string_equal(r.body, good.body);
    assert_string_equal(r.authorization, want);
    assert_string_equal(r.ack, good.ack);
    ec_request_free(&r);

    p.mistakes = EC_MISTAKE_HMAC_HEX_KEY;
    build(&p, &r);
    hmac_hex((const uint8_t *)spec_apikey, 32, (const uint8_t *)spec_plaintext, n, hex);
    snprintf(want, sizeof want, "1:%s", hex);
    assert_string_equal(r.body, good.body);
    assert_string_equal(r.authorization, want);
    ec_request_free(&r);
    ec_request_free(&good);
}

/* 32 bytes: a multiple of the block size */
static const char pt32[] = "node=a&csv=1,2,3,4,5,6,7,8,9,100";

static void padding_mistakes(void **state)
{
    (void)state;
    assert_int_equal(strlen(pt32), 32);
    ec_request_params p;
    ec_request good, zero, nofull, zero_short;
    uint8_t raw[256], pt[256];
    spec_params(&p, pt32);
    build(&p, &good);
    assert_int_equal(body_bytes(&good, raw, sizeof raw), 16 + 48);
    p.mistakes = EC_MISTAKE_ZERO_PADDING;
    build(&p, &zero);
    size_t n = body_bytes(&zero, raw, sizeof raw);
    assert_int_equal(n, 16 + 32);   /* a multiple of 16 gets no zero bytes */
    assert_string_equal(zero.authorization, good.authorization);
    p.mistakes = EC_MISTAKE_NO_FULL_PAD;
    build(&p, &nofull);
    assert_string_equal(nofull.body, zero.body);
    ec_request_free(&nofull);
    /* not a multiple of 16: no-full-pad is plain PKCS#7, zero-padding pads zeros */
    ec_request good49;
    spec_params(&p, pt49);
    build(&p, &good49);
    p.mistakes = EC_MISTAKE_NO_FULL_PAD;
    build(&p, &nofull);
    assert_string_equal(nofull.body, good49.body);
    ec_request_free(&good49);
    p.mistakes = EC_MISTAKE_ZERO_PADDING;
    build(&p, &zero_short);
    n = body_bytes(&zero_short, raw, sizeof raw);
    assert_int_equal(n, 16 + 64);
    assert_int_equal(ec_aes128_cbc_decrypt_raw(p.key, p.iv, raw + 16, 64, pt, sizeof pt), EC_OK);
    assert_memory_equal(pt, pt49, strlen(pt49));
    for (size_t i = strlen(pt49); i < 64; i++)
        assert_int_equal(pt[i], 0);
    ec_request_free(&zero_short);
    /* an empty plaintext becomes one block of zeros */
    spec_params(&p, "");
    p.mistakes = EC_MISTAKE_ZERO_PADDING;
    build(&p, &zero_short);
    assert_int_equal(body_bytes(&zero_short, raw, sizeof raw), 32);
    assert_int_equal(ec_aes128_cbc_decrypt_raw(p.key, p.iv, raw + 16, 16, pt, sizeof pt), EC_OK);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(pt[i], 0);
    ec_request_free(&zero_short);
    ec_request_free(&good);
    ec_request_free(&zero);
    ec_request_free(&nofull);
}

static void layout_and_key_mistakes(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request good, r;
    uint8_t graw[256], raw[256], pt[256];
    spec_params(&p, pt32);
    build(&p, &good);
    size_t gn = body_bytes(&good, graw, sizeof graw);

    p.mistakes = EC_MISTAKE_IV_APPENDED;
    build(&p, &r);
    size_t n = body_bytes(&r, raw, sizeof raw);
    assert_int_equal(n, gn);
    assert_memory_equal(raw, graw + 16, gn - 16);        /* CT first */
    assert_memory_equal(raw + gn - 16, graw, 16);        /* then the IV */
    assert_string_equal(r.authorization, good.authorization);
    ec_request_free(&r);

    p.mistakes = EC_MISTAKE_CBC_CHAIN_BUG;
    build(&p, &r);
    n = body_bytes(&r, raw, sizeof raw);
    assert_int_equal(n, gn);
    assert_memory_equal(raw, graw, gn - 16);             /* all but the last block */
    uint8_t pad_block[16], last[16];
    memset(pad_block, 16, sizeof pad_block);
    assert_int_equal(ec_aes128_cbc_encrypt_raw(p.key, p.iv, pad_block, 16, last, 16), EC_OK);
    assert_memory_equal(raw + gn - 16, last, 16);
    ec_request_free(&r);
    /* not a multiple of 16: the bug does not show */
    ec_request good49;
    spec_params(&p, pt49);
    build(&p, &good49);
    p.mistakes = EC_MISTAKE_CBC_CHAIN_BUG;
    build(&p, &r);
    assert_string_equal(r.body, good49.body);
    ec_request_free(&r);
    ec_request_free(&good49);
    spec_params(&p, spec_plaintext);

    p.mistakes = EC_MISTAKE_HEX_KEY_AS_KEY;
    build(&p, &r);
    n = body_bytes(&r, raw, sizeof raw);
    size_t pt_len = 0;
    assert_int_equal(ec_aes128_cbc_decrypt((const uint8_t *)spec_apikey, raw, raw + 16, n - 16,
                                           pt, sizeof pt, &pt_len), EC_OK);
    assert_int_equal(pt_len, strlen(spec_plaintext));
    assert_memory_equal(pt, spec_plaintext, pt_len);
    assert_string_equal(r.authorization, spec_auth);     /* HMAC key stays right */
    ec_request_free(&r);
    ec_request_free(&good);
}

static void gz_profile_and_gzip_header_mistake(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r, g;
    spec_params(&p, spec_plaintext);
    p.profile = EC_PROFILE_AES128CBCGZ;
    build(&p, &r);
    assert_string_equal(r.content_type, "aes128cbcgz");
    assert_int_equal(r.wire_plaintext[0], 0x78);         /* zlib CMF */
    uint8_t out[256];
    size_t out_len = 0;
    assert_int_equal(ec_zlib_uncompress(r.wire_plaintext, r.wire_plaintext_len, out,
                                        sizeof out, &out_len), EC_OK);
    assert_int_equal(out_len, strlen(spec_plaintext));
    char ack[EC_ACK_LEN + 1];
    assert_int_equal(ec_ack_of(r.wire_plaintext, r.wire_plaintext_len, ack), EC_OK);
    assert_string_equal(r.ack, ack);                     /* ack of the compressed bytes */

    p.mistakes = EC_MISTAKE_GZIP_HEADER;
    build(&p, &g);
    static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    assert_memory_equal(g.wire_plaintext, header, 10);
    uLong crc = crc32(0L, (const Bytef *)spec_plaintext, (uInt)strlen(spec_plaintext));
    const uint8_t *t = g.wire_plaintext + g.wire_plaintext_len - 8;
    assert_int_equal(t[0] | t[1] << 8 | t[2] << 16 | (uint32_t)t[3] << 24, (uint32_t)crc);
    assert_int_equal(t[4], strlen(spec_plaintext));
    /* the deflate data is the zlib stream's, without its 2-byte header and Adler-32 */
    assert_int_equal(g.wire_plaintext_len - 18, r.wire_plaintext_len - 6);
    assert_memory_equal(g.wire_plaintext + 10, r.wire_plaintext + 2, r.wire_plaintext_len - 6);
    ec_request_free(&r);
    ec_request_free(&g);
}

static void legacy_request(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r;
    spec_params(&p, "[[1700000000,\"emontx\",100,200]]");
    p.profile = EC_PROFILE_LEGACY;
    build(&p, &r);
    assert_string_equal(r.path, "/input/encrypted");
    assert_string_equal(r.content_type, "application/x-www-form-urlencoded");
    assert_string_equal(r.authorization, "");
    assert_memory_equal(r.body, "username=alice&data=AAECAwQFBgcICQoLDA0OD", 41);
    ec_request_free(&r);
    p.username = NULL;
    assert_int_equal(ec_request_build(&p, &r), EC_E_ARG);
}

/* ---- the server --------------------------------------------------------- */

typedef struct {
    const char *apikey;
    const char *userid;
    const char *username;
} users;

/* Emoncms's lookup: (int) cast of the user id, as MySQL sees it. */
static int lookup(void *ctx, const char *userid, const char *username, uint8_t key[EC_KEY_LEN])
{
    const users *u = ctx;
    if (userid != NULL) {
        long want = strtol(u->userid, NULL, 10), got = 0;
        const char *c = userid;
        while (*c == ' ')
            c++;
        int neg = *c == '-';
        if (*c == '-' || *c == '+')
            c++;
        for (; *c >= '0' && *c <= '9'; c++)
            got = got * 10 + (*c - '0');
        if ((neg ? -got : got) != want)
            return -1;
    } else if (username == NULL || u->username == NULL || strcmp(username, u->username) != 0) {
        return -1;
    }
    return ec_key_from_hex(u->apikey, key) == EC_OK ? 0 : -1;
}

static users the_user = {spec_apikey, "1", "alice"};

static ec_server_config config(int strict)
{
    ec_server_config c = {lookup, &the_user, strict, NOW, 0, 32};
    return c;
}

static ec_http_request http_of(const ec_request *r)
{
    ec_http_request h = {r->method, r->path, NULL, r->content_type,
                         r->authorization[0] ? r->authorization : NULL,
                         (const uint8_t *)r->body, r->body_len};
    return h;
}

static void answer(int strict, const ec_http_request *h, ec_answer *a)
{
    ec_server_config c = config(strict);
    assert_int_equal(ec_server_answer(&c, h, a), EC_OK);
}

#define HTML "text/html; charset=UTF-8"
#define PLAIN "text/plain;charset=UTF-8"

static void expect_answer(const ec_answer *a, int status, const char *ct, ec_status fault,
                          const char *body)
{
    assert_int_equal(a->http_status, status);
    assert_string_equal(a->content_type, ct);
    assert_string_equal(ec_status_name(a->fault), ec_status_name(fault));
    assert_string_equal(a->answer, body);
    assert_int_equal(a->answer_len, strlen(body));
}

static void server_accepts_spec8(void **state)
{
    (void)state;
    for (int strict = 0; strict <= 1; strict++) {
        ec_request_params p;
        ec_request r;
        ec_answer a;
        spec_params(&p, spec_plaintext);
        build(&p, &r);
        ec_http_request h = http_of(&r);
        answer(strict, &h, &a);
        expect_answer(&a, 200, PLAIN, EC_OK, spec_ack);
        assert_int_equal(a.rows.n, 2);
        assert_string_equal(a.rows.rows[0].node, "emontx");
        assert_string_equal(a.rows.rows[0].name, "power1");
        assert_true(a.rows.rows[0].value == 100.0);
        assert_int_equal(a.rows.rows[1].time, NOW);
        assert_string_equal(a.rows.rows[1].name, "power2");
        assert_string_equal(a.userid, "1");
        assert_string_equal(ec_params_get(&a.params, "node"), "emontx");
        ec_answer_free(&a);
        ec_request_free(&r);
    }
}

static void server_steps_in_order(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r;
    ec_answer a;
    spec_params(&p, spec_plaintext);
    build(&p, &r);
    ec_http_request h = http_of(&r);

    /* wrong Content-Type with an Authorization: a Bearer key to index.php */
    h.content_type = "aes128cbc; charset=utf-8";
    answer(0, &h, &a);
    expect_answer(&a, 401, HTML, EC_F_NOT_ENCRYPTED, "Invalid API key");
    assert_string_equal(a.www_authenticate,
                        "Bearer realm=\"API KEY\", error=\"invalid_apikey\", error_description=\"Invalid API key\"");
    ec_answer_free(&a);
    h.content_type = "AES128CBC";
    answer(1, &h, &a);
    assert_int_equal(a.http_status, 401);
    ec_answer_free(&a);
    h.content_type = r.content_type;

    h.authorization = NULL;
    answer(0, &h, &a);
    expect_answer(&a, 200, HTML, EC_F_AUTH_MISSING, "missing authorization header");
    ec_answer_free(&a);

    static const char *const bad_formats[] = {"1", "1:a:b", "", "::"};
    for (size_t i = 0; i < 4; i++) {
        h.authorization = bad_formats[i];
        answer(0, &h, &a);
        expect_answer(&a, 200, HTML, EC_F_AUTH_FORMAT,
                      "authorization header format should be userid:hmac");
        ec_answer_free(&a);
    }

    h.authorization = "2:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662";
    answer(0, &h, &a);
    expect_answer(&a, 200, HTML, EC_F_USER_UNKNOWN, "User not found");
    ec_answer_free(&a);
    h.authorization = r.authorization;

    h.body_len = 0;
    answer(0, &h, &a);
    expect_answer(&a, 200, HTML, EC_F_BODY_EMPTY, "no content in post body");
    ec_answer_free(&a);
    h.body_len = r.body_len;

    /* wrong key: padding fails (or the MAC does) -> one answer */
    h.authorization = "1:0000000000000000000000000000000000000000000000000000000000000000";
    answer(0, &h, &a);
    expect_answer(&a, 200, HTML, EC_F_INVALID_DATA, "invalid data");
    assert_int_equal(a.detail, EC_E_HMAC);
    assert_int_equal(a.rows.n, 0);
    ec_answer_free(&a);
    h.authorization = r.authorization;

    /* route */
    h.path = "/input/get";
    answer(0, &h, &a);
    assert_int_equal(a.fault, EC_F_ROUTE);
    ec_answer_free(&a);
    h.path = "/input/post.json";
    answer(0, &h, &a);
    expect_answer(&a, 200, PLAIN, EC_OK, spec_ack);
    ec_answer_free(&a);

    /* 413 */
    ec_server_config c = config(0);
    c.max_body = 100;
    assert_int_equal(ec_server_answer(&c, &h, &a), EC_OK);
    assert_int_equal(a.http_status, 413);
    assert_int_equal(a.fault, EC_F_TOO_LARGE);
    ec_answer_free(&a);
    ec_request_free(&r);
}

static void uppercase_hmac_and_hmac_plus_nul_are_invalid_data(void **state)
{
    (void)state;
    static const unsigned bad[] = {EC_MISTAKE_HMAC_UPPER, EC_MISTAKE_HMAC_PLUS_NUL,
                                   EC_MISTAKE_HMAC_OVER_CT, EC_MISTAKE_HMAC_HEX_KEY,
                                   EC_MISTAKE_HEX_KEY_AS_KEY, EC_MISTAKE_IV_APPENDED};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ec_request_params p;
        ec_request r;
        ec_answer a;
        spec_params(&p, spec_plaintext);
        p.mistakes = bad[i];
        build(&p, &r);
        ec_http_request h = http_of(&r);
        for (int strict = 0; strict <= 1; strict++) {
            answer(strict, &h, &a);
            expect_answer(&a, 200, HTML, EC_F_INVALID_DATA, "invalid data");
            ec_answer_free(&a);
        }
        ec_request_free(&r);
    }
}

static void padding_detail_is_reported_but_not_sent(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r;
    ec_answer a;
    spec_params(&p, pt49);
    p.mistakes = EC_MISTAKE_ZERO_PADDING;
    build(&p, &r);
    ec_http_request h = http_of(&r);
    answer(0, &h, &a);
    expect_answer(&a, 200, HTML, EC_F_INVALID_DATA, "invalid data");
    assert_int_equal(a.detail, EC_E_PAD_ZERO);
    ec_answer_free(&a);
    ec_request_free(&r);
    /* 48 bytes and no pad block: the last plaintext byte '}' is no length */
    spec_params(&p, spec_plaintext);
    p.mistakes = EC_MISTAKE_NO_FULL_PAD;
    build(&p, &r);
    h = http_of(&r);
    answer(0, &h, &a);
    expect_answer(&a, 200, HTML, EC_F_INVALID_DATA, "invalid data");
    assert_int_equal(a.detail, EC_E_PAD_RANGE);
    ec_answer_free(&a);
    ec_request_free(&r);
}

/* SPEC §4 quirk: a body that fails to decrypt is MAC'd as "". */
static void mac_of_empty_string_quirk(void **state)
{
    (void)state;
    uint8_t key[EC_KEY_LEN];
    char hex[65], auth[80];
    assert_int_equal(ec_key_from_hex(spec_apikey, key), EC_OK);
    hmac_hex(key, 16, (const uint8_t *)"", 0, hex);
    snprintf(auth, sizeof auth, "1:%s", hex);
    (void)hmac_of_empty_hex_name;
    /* 32 bytes of junk: the padding is (almost surely) bad */
    static const char junk[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    ec_http_request h = {"POST", "/input/post", NULL, "aes128cbc", auth,
                         (const uint8_t *)junk, strlen(junk)};
    ec_answer a;
    answer(0, &h, &a);
    /* compat: past the MAC, the application finds no data */
    expect_answer(&a, 200, PLAIN, EC_F_APP,
                  "{\"success\": false, \"message\": \"Request contains no data via csv, json or data tag\"}");
    ec_answer_free(&a);
    /* ... and the URL's parameters are enough to get an ack of "" */
    h.query = "node=x&csv=1";
    answer(0, &h, &a);
    char ack_empty[EC_ACK_LEN + 1];
    assert_int_equal(ec_ack_of((const uint8_t *)"", 0, ack_empty), EC_OK);
    expect_answer(&a, 200, PLAIN, EC_OK, ack_empty);
    assert_int_equal(a.rows.n, 1);
    ec_answer_free(&a);
    /* strict: invalid data */
    answer(1, &h, &a);
    expect_answer(&a, 200, HTML, EC_F_INVALID_DATA, "invalid data");
    assert_true(a.detail == EC_E_PAD_BYTES || a.detail == EC_E_PAD_RANGE || a.detail == EC_E_PAD_ZERO);
    ec_answer_free(&a);
}

static void compat_and_strict_differ(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r, std;
    ec_answer a;
    spec_params(&p, spec_plaintext);
    build(&p, &r);

    /* "1abc" is user 1 to MySQL; strict wants digits */
    char auth[100];
    snprintf(auth, sizeof auth, "1abc%s", strchr(r.authorization, ':'));
    ec_http_request h = http_of(&r);
    h.authorization = auth;
    answer(0, &h, &a);
    expect_answer(&a, 200, PLAIN, EC_OK, spec_ack);
    ec_answer_free(&a);
    answer(1, &h, &a);
    assert_int_equal(a.fault, EC_F_STRICT_USERID);
    ec_answer_free(&a);

    /* GET */
    h = http_of(&r);
    h.method = "GET";
    answer(0, &h, &a);
    expect_answer(&a, 200, PLAIN, EC_OK, spec_ack);
    ec_answer_free(&a);
    answer(1, &h, &a);
    assert_int_equal(a.fault, EC_F_METHOD);
    assert_int_equal(a.rows.n, 0);
    ec_answer_free(&a);

    /* standard alphabet */
    p.mistakes = EC_MISTAKE_STD_ALPHABET;
    build(&p, &std);
    h = http_of(&std);
    answer(0, &h, &a);
    expect_answer(&a, 200, PLAIN, EC_OK, spec_ack);
    ec_answer_free(&a);
    answer(1, &h, &a);
    expect_answer(&a, 200, HTML, EC_F_STRICT_B64, "invalid data");
    assert_int_equal(a.detail, EC_E_B64_CHAR);
    ec_answer_free(&a);
    ec_request_free(&std);
    ec_request_free(&r);
}

static void url_parameters_are_merged_first(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r;
    ec_answer a;
    spec_params(&p, "csv=1,2&time=1600000000");
    build(&p, &r);
    ec_http_request h = http_of(&r);
    h.query = "node=fromurl&time=5";   /* node used, time overridden */
    answer(0, &h, &a);
    assert_int_equal(a.fault, EC_OK);
    assert_int_equal(a.rows.n, 2);
    assert_string_equal(a.rows.rows[0].node, "fromurl");
    assert_int_equal(a.rows.rows[0].time, 1600000000);
    ec_answer_free(&a);
    /* /input/post/NODE beats even the plaintext's node */
    ec_request_free(&r);
    spec_params(&p, spec_plaintext);
    p.path_node = "pathnode";
    build(&p, &r);
    assert_string_equal(r.path, "/input/post/pathnode");
    h = http_of(&r);
    answer(0, &h, &a);
    assert_int_equal(a.fault, EC_OK);
    assert_string_equal(a.rows.rows[0].node, "pathnode");
    ec_answer_free(&a);
    ec_request_free(&r);
}

static void gz_server(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r;
    ec_answer a;
    spec_params(&p, "data=[[0,\"emontx\",100,200],[10,\"emontx\",101,201]]&sentat=10");
    p.profile = EC_PROFILE_AES128CBCGZ;
    p.endpoint = EC_ENDPOINT_BULK;
    build(&p, &r);
    ec_http_request h = http_of(&r);
    answer(0, &h, &a);
    expect_answer(&a, 200, PLAIN, EC_OK, r.ack);
    assert_int_equal(a.rows.n, 4);
    assert_int_equal(a.rows.rows[0].time, NOW - 10);
    assert_int_equal(a.rows.rows[3].time, NOW);
    ec_answer_free(&a);
    ec_request_free(&r);
    /* gzip instead of zlib: the MAC is fine, inflating is not */
    p.mistakes = EC_MISTAKE_GZIP_HEADER;
    build(&p, &r);
    h = http_of(&r);
    answer(0, &h, &a);
    expect_answer(&a, 200, PLAIN, EC_F_APP,
                  "{\"success\": false, \"message\": \"Format error, json string supplied is not valid\"}");
    assert_int_equal(a.detail, EC_E_ZLIB);
    ec_answer_free(&a);
    ec_request_free(&r);
}

/* PHP's gzuncompress ignores bytes after the zlib stream; strict does not */
static void gz_trailing_bytes(void **state)
{
    (void)state;
    static const char pt[] = "node=emontx&csv=1,2";
    uint8_t key[EC_KEY_LEN], iv[EC_IV_LEN] = {0};
    uint8_t wire[128], raw[256];
    size_t wire_len = 0, ct_len = 0, b64_len = 0;
    assert_int_equal(ec_key_from_hex(spec_apikey, key), EC_OK);
    assert_int_equal(ec_zlib_compress((const uint8_t *)pt, strlen(pt), wire, sizeof wire, &wire_len), EC_OK);
    memcpy(wire + wire_len, "junk", 4);
    wire_len += 4;
    memcpy(raw, iv, 16);
    assert_int_equal(ec_aes128_cbc_encrypt(key, iv, wire, wire_len, raw + 16, sizeof raw - 16, &ct_len), EC_OK);
    char body[400], hex[65], auth[80], ack[EC_ACK_LEN + 1];
    assert_int_equal(ec_b64_encode(raw, 16 + ct_len, EC_B64_URL, 1, body, sizeof body, &b64_len), EC_OK);
    hmac_hex(key, 16, wire, wire_len, hex);
    snprintf(auth, sizeof auth, "1:%s", hex);
    assert_int_equal(ec_ack_of(wire, wire_len, ack), EC_OK);
    ec_http_request h = {"POST", "/input/post", NULL, "aes128cbcgz", auth,
                         (const uint8_t *)body, b64_len};
    ec_answer a;
    answer(0, &h, &a);
    expect_answer(&a, 200, PLAIN, EC_OK, ack);
    assert_int_equal(a.rows.n, 2);
    ec_answer_free(&a);
    answer(1, &h, &a);
    assert_int_equal(a.fault, EC_F_APP);
    assert_int_equal(a.detail, EC_E_ZLIB);
    ec_answer_free(&a);
}

static void legacy_server(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r;
    ec_answer a;
    spec_params(&p, "[[1700000000,\"emontx\",100,200]]");
    p.profile = EC_PROFILE_LEGACY;
    p.mistakes = EC_MISTAKE_NO_B64_PADDING;
    build(&p, &r);
    ec_http_request h = http_of(&r);
    answer(0, &h, &a);
    expect_answer(&a, 200, "text", EC_OK, r.ack);
    assert_int_equal(a.rows.n, 2);
    assert_int_equal(a.rows.rows[1].time, 1700000000);
    ec_answer_free(&a);

    h.body = (const uint8_t *)"username=alice";
    h.body_len = 14;
    answer(0, &h, &a);
    expect_answer(&a, 200, "text", EC_F_LEGACY_PARAMS, "Missing username or data parameters");
    ec_answer_free(&a);
    h.body = (const uint8_t *)"username=bob&data=AAAA";
    h.body_len = strlen((const char *)h.body);
    answer(0, &h, &a);
    expect_answer(&a, 200, "text", EC_F_USER_UNKNOWN, "User not found");
    ec_answer_free(&a);
    h.body = (const uint8_t *)"username=alice&data=AAAA";
    h.body_len = strlen((const char *)h.body);
    answer(0, &h, &a);
    expect_answer(&a, 200, "text", EC_F_LEGACY_DATA, "Invalid data string or encryption key");
    ec_answer_free(&a);
    ec_request_free(&r);
}

/* ---- ack check ---------------------------------------------------------- */

static void ack_verify_diagnostics(void **state)
{
    (void)state;
    ec_request_params p;
    ec_request r;
    ec_ack_check c;
    spec_params(&p, spec_plaintext);
    build(&p, &r);

    ec_ack_verify(&r, 200, spec_ack, strlen(spec_ack), 1, &c);
    assert_true(c.ok);
    assert_int_equal(c.first_diff, -1);
    assert_string_equal(c.expected, spec_ack);

    char longer[64];
    snprintf(longer, sizeof longer, "%s\n", spec_ack);
    ec_ack_verify(&r, 200, longer, strlen(longer), 0, &c);
    assert_true(c.ok);                      /* IoTaWatt: starts with */
    ec_ack_verify(&r, 200, longer, strlen(longer), 1, &c);
    assert_false(c.ok);
    assert_int_equal(c.first_diff, 44);
    assert_string_equal(c.actual + 44, "\\x0a");

    char wrong[45];
    memcpy(wrong, spec_ack, 45);
    wrong[7] = 'x';
    ec_ack_verify(&r, 200, wrong, 44, 1, &c);
    assert_false(c.ok);
    assert_int_equal(c.first_diff, 7);
    assert_non_null(c.why);

    ec_ack_verify(&r, 500, spec_ack, 44, 0, &c);
    assert_false(c.ok);
    assert_string_equal(c.why, "HTTP status is not 200");

    ec_ack_verify(&r, 200, "invalid data", 12, 0, &c);
    assert_false(c.ok);
    assert_int_equal(c.first_diff, 0);
    assert_string_equal(c.actual, "invalid data");

    ec_ack_verify(&r, 200, spec_ack, 20, 0, &c);
    assert_false(c.ok);
    assert_int_equal(c.first_diff, 20);

    assert_true(ec_ack_well_formed(spec_ack, 44));
    assert_false(ec_ack_well_formed(spec_ack, 43));
    assert_false(ec_ack_well_formed("6YBBZ2q6wWjjZudz+vaE9-YoMulhd2wom8bZfu0GQ48=", 44));
    ec_request_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec8_reference_vector),
        cmocka_unit_test(mistake_names_round_trip),
        cmocka_unit_test(alphabet_and_padding_mistakes_touch_only_the_body_text),
        cmocka_unit_test(hmac_mistakes_touch_only_the_authorization),
        cmocka_unit_test(padding_mistakes),
        cmocka_unit_test(layout_and_key_mistakes),
        cmocka_unit_test(gz_profile_and_gzip_header_mistake),
        cmocka_unit_test(legacy_request),
        cmocka_unit_test(server_accepts_spec8),
        cmocka_unit_test(server_steps_in_order),
        cmocka_unit_test(uppercase_hmac_and_hmac_plus_nul_are_invalid_data),
        cmocka_unit_test(padding_detail_is_reported_but_not_sent),
        cmocka_unit_test(mac_of_empty_string_quirk),
        cmocka_unit_test(compat_and_strict_differ),
        cmocka_unit_test(url_parameters_are_merged_first),
        cmocka_unit_test(gz_server),
        cmocka_unit_test(gz_trailing_bytes),
        cmocka_unit_test(legacy_server),
        cmocka_unit_test(ack_verify_diagnostics),
    };
    return cmocka_run_group_tests_name("message", tests, NULL, NULL);
}
