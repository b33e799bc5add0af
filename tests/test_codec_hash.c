/* Unit tests: SHA-256, HMAC-SHA256, constant-time compare and the ack
 * (codec.h).  Known answers: FIPS 180-4 examples (as published with the
 * NIST CSRC example values) and RFC 4231 test cases 1-7. */
#include "codec_test_support.h"

#include <stdlib.h>
#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "emoncrypt/codec.h"

static void sha256_fips_180_4_examples(void **state)
{
    (void)state;
    uint8_t digest[EC_SHA256_LEN];
    assert_int_equal(ec_sha256((const uint8_t *)"abc", 3, digest), EC_OK);
    assert_bytes_hex(digest, sizeof digest,
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(strlen(two_blocks) * 8, 448);
    assert_int_equal(ec_sha256((const uint8_t *)two_blocks, strlen(two_blocks), digest), EC_OK);
    assert_bytes_hex(digest, sizeof digest,
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    uint8_t *million_a = malloc(1000000);
    assert_non_null(million_a);
    memset(million_a, 'a', 1000000);
    assert_int_equal(ec_sha256(million_a, 1000000, digest), EC_OK);
    free(million_a);
    assert_bytes_hex(digest, sizeof digest,
                     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    assert_int_equal(ec_sha256(NULL, 0, digest), EC_OK);
    assert_bytes_hex(digest, sizeof digest,
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void sha256_arguments(void **state)
{
    (void)state;
    uint8_t digest[EC_SHA256_LEN];
    assert_int_equal(ec_sha256(NULL, 1, digest), EC_E_ARG);
    assert_int_equal(ec_sha256((const uint8_t *)"abc", 3, NULL), EC_E_ARG);
}

/* ---- RFC 4231 ---------------------------------------------------------- */

typedef struct {
    const char *name;
    uint8_t key[131];
    size_t key_len;
    const char *data;
    size_t data_len;
    const char *mac_hex;   /* 64 digits, or 32 for the truncated case 5 */
} rfc4231_case;

static void fill(uint8_t *p, uint8_t byte, size_t n)
{
    memset(p, byte, n);
}

static void hmac_rfc4231_cases_1_to_7(void **state)
{
    (void)state;
    static rfc4231_case cases[7];
    uint8_t dd[50], cd[50];
    fill(dd, 0xdd, sizeof dd);
    fill(cd, 0xcd, sizeof cd);

    cases[0] = (rfc4231_case){"1", {0}, 20, "Hi There", 8,
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"};
    fill(cases[0].key, 0x0b, 20);
    cases[1] = (rfc4231_case){"2", "Jefe", 4, "what do ya want for nothing?", 28,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"};
    cases[2] = (rfc4231_case){"3", {0}, 20, (const char *)dd, 50,
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"};
    fill(cases[2].key, 0xaa, 20);
    cases[3] = (rfc4231_case){"4", {0}, 25, (const char *)cd, 50,
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"};
    for (size_t i = 0; i < 25; i++)
        cases[3].key[i] = (uint8_t)(i + 1);
    cases[4] = (rfc4231_case){"5 (truncated to 128 bits)", {0}, 20, "Test With Truncation", 20,
        "a3b6167473100ee06e0c796c2955552b"};
    fill(cases[4].key, 0x0c, 20);
    cases[5] = (rfc4231_case){"6", {0}, 131,
        "Test Using Larger Than Block-Size Key - Hash Key First", 54,
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"};
    fill(cases[5].key, 0xaa, 131);
    cases[6] = (rfc4231_case){"7", {0}, 131,
        "This is a test using a larger than block-size key and a larger than block-size data."
        " The key needs to be hashed before being used by the HMAC algorithm.", 152,
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"};
    fill(cases[6].key, 0xaa, 131);

    for (size_t i = 0; i < 7; i++) {
        const rfc4231_case *c = &cases[i];
        uint8_t mac[EC_SHA256_LEN];
        char mac_hex[EC_HMAC_HEX_LEN + 1];
        assert_int_equal(ec_hmac_sha256(c->key, c->key_len, (const uint8_t *)c->data,
                                        c->data_len, mac), EC_OK);
        assert_int_equal(ec_hmac_sha256_hex(c->key, c->key_len, (const uint8_t *)c->data,
                                            c->data_len, mac_hex), EC_OK);
        size_t want_digits = strlen(c->mac_hex);
        if (memcmp(mac_hex, c->mac_hex, want_digits) != 0)
            print_error("RFC 4231 case %s: got %s\n", c->name, mac_hex);
        assert_int_equal(strlen(mac_hex), EC_HMAC_HEX_LEN);
        assert_memory_equal(mac_hex, c->mac_hex, want_digits);
        assert_bytes_hex(mac, want_digits / 2, c->mac_hex);
    }
}

/* The kept keyed contexts (HMAC_KEPT per thread) give what a fresh
 * OpenSSL HMAC gives: for keys used again (a kept context restarted),
 * for more keys than are kept (evicted and keyed again), for the empty
 * key and a key too long to keep, on two threads at once. */
static int kept_round(unsigned seed)
{
    for (unsigned i = 0; i < 600; i++) {
        unsigned k = (i * 7 + seed) % 21;   /* 21 keys over 8 slots */
        uint8_t key[131];
        size_t key_len = k == 0 ? 0 : k == 20 ? sizeof key : 16 + k % 3;
        for (size_t j = 0; j < key_len; j++)
            key[j] = (uint8_t)(k * 31 + j);
        uint8_t msg[100];
        size_t msg_len = (i * 13) % sizeof msg;
        for (size_t j = 0; j < msg_len; j++)
            msg[j] = (uint8_t)(i + j);
        uint8_t got[EC_SHA256_LEN], want[EC_SHA256_LEN];
        unsigned want_len = 0;
        if (ec_hmac_sha256(key, key_len, msg, msg_len, got) != EC_OK ||
            HMAC(EVP_sha256(), key_len ? key : (const uint8_t *)"", (int)key_len, msg, msg_len,
                 want, &want_len) == NULL ||
            want_len != EC_SHA256_LEN || memcmp(got, want, sizeof got) != 0)
            return -1;
    }
    return 0;
}

static void *kept_thread(void *arg)
{
    return kept_round(*(unsigned *)arg) == 0 ? arg : NULL;
}

static void hmac_kept_contexts_agree(void **state)
{
    (void)state;
    assert_int_equal(kept_round(0), 0);
    pthread_t th;
    unsigned seed = 5;
    assert_int_equal(pthread_create(&th, NULL, kept_thread, &seed), 0);
    int here = kept_round(3);
    void *res = NULL;
    assert_int_equal(pthread_join(th, &res), 0);
    assert_int_equal(here, 0);
    assert_ptr_equal(res, &seed);
    ec_hmac_forget();
    assert_int_equal(kept_round(1), 0);   /* and again after forgetting */
    ec_hmac_forget();
}

static void hmac_hex_is_lowercase(void **state)
{
    (void)state;
    char mac_hex[EC_HMAC_HEX_LEN + 1];
    assert_int_equal(ec_hmac_sha256_hex((const uint8_t *)"Jefe", 4,
                                        (const uint8_t *)"what do ya want for nothing?", 28,
                                        mac_hex), EC_OK);
    for (size_t i = 0; i < EC_HMAC_HEX_LEN; i++)
        assert_true((mac_hex[i] >= '0' && mac_hex[i] <= '9') ||
                    (mac_hex[i] >= 'a' && mac_hex[i] <= 'f'));
    assert_int_equal(mac_hex[EC_HMAC_HEX_LEN], '\0');
}

/* Emoncms MAC-checks a body that failed to decrypt as the empty string
 * (SPEC §4); HMAC(key, "") must therefore be computable. */
static void hmac_of_empty_message(void **state)
{
    (void)state;
    uint8_t key[EC_KEY_LEN];
    char mac_hex[EC_HMAC_HEX_LEN + 1];
    assert_int_equal(ec_key_from_hex("0123456789abcdef0123456789abcdef", key), EC_OK);
    assert_int_equal(ec_hmac_sha256_hex(key, sizeof key, NULL, 0, mac_hex), EC_OK);
    assert_int_equal(strlen(mac_hex), EC_HMAC_HEX_LEN);
    /* RFC 2104 with an empty key is still defined. */
    uint8_t mac[EC_SHA256_LEN];
    assert_int_equal(ec_hmac_sha256(NULL, 0, NULL, 0, mac), EC_OK);
    assert_bytes_hex(mac, sizeof mac,
                     "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void hmac_arguments(void **state)
{
    (void)state;
    uint8_t mac[EC_SHA256_LEN];
    char mac_hex[EC_HMAC_HEX_LEN + 1] = "x";
    assert_int_equal(ec_hmac_sha256(NULL, 16, (const uint8_t *)"a", 1, mac), EC_E_ARG);
    assert_int_equal(ec_hmac_sha256((const uint8_t *)"k", 1, NULL, 1, mac), EC_E_ARG);
    assert_int_equal(ec_hmac_sha256((const uint8_t *)"k", 1, (const uint8_t *)"a", 1, NULL),
                     EC_E_ARG);
    assert_int_equal(ec_hmac_sha256_hex(NULL, 16, (const uint8_t *)"a", 1, mac_hex), EC_E_ARG);
    assert_string_equal(mac_hex, "");
    assert_int_equal(ec_hmac_sha256_hex((const uint8_t *)"k", 1, (const uint8_t *)"a", 1, NULL),
                     EC_E_ARG);
}

static void ct_equal_semantics(void **state)
{
    (void)state;
    assert_int_equal(ec_ct_equal("abc", 3, "abc", 3), 1);
    assert_int_equal(ec_ct_equal("abc", 3, "abd", 3), 0);
    assert_int_equal(ec_ct_equal("abc", 3, "Abc", 3), 0);
    assert_int_equal(ec_ct_equal("abc", 3, "abcd", 4), 0);
    assert_int_equal(ec_ct_equal("abcd", 4, "abc", 3), 0);
    assert_int_equal(ec_ct_equal("", 0, "", 0), 1);
    assert_int_equal(ec_ct_equal(NULL, 0, NULL, 0), 1);
    assert_int_equal(ec_ct_equal("a", 1, NULL, 0), 0);
    assert_int_equal(ec_ct_equal(NULL, 0, "a", 1), 0);
    /* NULL with a length is never equal, and never read. */
    assert_int_equal(ec_ct_equal(NULL, 3, "abc", 3), 0);
    assert_int_equal(ec_ct_equal("abc", 3, NULL, 3), 0);
    /* Uppercase HMAC hex is a different string (SPEC §4: invalid data). */
    const char *lower = "b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662";
    const char *upper = "B34E30A93AB8F8DDDED42C3D5EAA66915AEC0CFC931E9FC23FBD60567B9F2662";
    assert_int_equal(ec_ct_equal(lower, 64, upper, 64), 0);
    assert_int_equal(ec_ct_equal(lower, 64, lower, 64), 1);
    /* Bytes after a NUL still count: this is not strcmp. */
    assert_int_equal(ec_ct_equal("a\0b", 3, "a\0c", 3), 0);
}

static void ack_is_base64url_of_sha256_with_padding(void **state)
{
    (void)state;
    char ack[EC_ACK_LEN + 1];
    /* SHA-256("abc") = ba7816bf...; its base64url, '=' kept. */
    assert_int_equal(ec_ack_of((const uint8_t *)"abc", 3, ack), EC_OK);
    assert_string_equal(ack, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=");
    assert_int_equal(strlen(ack), EC_ACK_LEN);
    assert_int_equal(ec_ack_of(NULL, 0, ack), EC_OK);
    assert_string_equal(ack, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=");
    assert_int_equal(ec_ack_of(NULL, 1, ack), EC_E_ARG);
    assert_string_equal(ack, "");
    assert_int_equal(ec_ack_of((const uint8_t *)"abc", 3, NULL), EC_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_fips_180_4_examples),
        cmocka_unit_test(sha256_arguments),
        cmocka_unit_test(hmac_rfc4231_cases_1_to_7),
        cmocka_unit_test(hmac_kept_contexts_agree),
        cmocka_unit_test(hmac_hex_is_lowercase),
        cmocka_unit_test(hmac_of_empty_message),
        cmocka_unit_test(hmac_arguments),
        cmocka_unit_test(ct_equal_semantics),
        cmocka_unit_test(ack_is_base64url_of_sha256_with_padding),
    };
    return cmocka_run_group_tests_name("codec/hash", tests, NULL, NULL);
}
