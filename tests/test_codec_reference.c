/* Unit test: the SPEC.md §8 reference vector, assembled from the codec's
 * primitives exactly as a client builds a request and as a server checks
 * it.  If this fails, nothing built on the codec can be trusted. */
#include "codec_test_support.h"

#include <stdio.h>

#include "emoncrypt/codec.h"

static const char apikey[] = "0123456789abcdef0123456789abcdef";
static const char iv_hex[] = "000102030405060708090a0b0c0d0e0f";
static const char plaintext[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";
static const char want_body[] =
    "AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5"
    "jmaczqBieWsajqhNGc";
static const char want_authorization[] =
    "1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662";
static const char want_ack[] = "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=";

static void client_side_builds_the_reference_request(void **state)
{
    (void)state;
    uint8_t key[EC_KEY_LEN];
    assert_int_equal(ec_key_from_hex(apikey, key), EC_OK);

    /* body = base64url(IV || AES-128-CBC(key, IV, PKCS7(plaintext))), no '=' */
    uint8_t message[EC_IV_LEN + 64];
    assert_int_equal(unhex(iv_hex, message, EC_IV_LEN), EC_IV_LEN);
    size_t cipher_len = 0;
    assert_int_equal(ec_aes128_cbc_encrypt(key, message, (const uint8_t *)plaintext,
                                           strlen(plaintext), message + EC_IV_LEN,
                                           sizeof message - EC_IV_LEN, &cipher_len), EC_OK);
    assert_int_equal(cipher_len, 64);
    char body[128];
    size_t body_len = 0;
    assert_int_equal(ec_b64_encode(message, EC_IV_LEN + cipher_len, EC_B64_URL, 0, body,
                                   sizeof body, &body_len), EC_OK);
    assert_string_equal(body, want_body);

    /* Authorization = USERID ":" lowercase hex HMAC-SHA256(key, plaintext) */
    char mac_hex[EC_HMAC_HEX_LEN + 1];
    assert_int_equal(ec_hmac_sha256_hex(key, sizeof key, (const uint8_t *)plaintext,
                                        strlen(plaintext), mac_hex), EC_OK);
    char authorization[80];
    snprintf(authorization, sizeof authorization, "1:%s", mac_hex);
    assert_string_equal(authorization, want_authorization);

    /* The ack the server must answer with. */
    char ack[EC_ACK_LEN + 1];
    assert_int_equal(ec_ack_of((const uint8_t *)plaintext, strlen(plaintext), ack), EC_OK);
    assert_string_equal(ack, want_ack);
}

static void server_side_opens_the_reference_request(void **state)
{
    (void)state;
    uint8_t key[EC_KEY_LEN];
    assert_int_equal(ec_key_from_hex(apikey, key), EC_OK);

    /* Both decoders take the canonical body; the strict one needs no '='. */
    uint8_t message[128];
    size_t message_len = 0;
    ec_b64_fault fault;
    assert_int_equal(ec_b64_decode_strict(want_body, strlen(want_body), EC_B64_URL, message,
                                          sizeof message, &message_len, &fault), EC_OK);
    assert_int_equal(message_len, 80);
    uint8_t compat[128];
    size_t compat_len = 0;
    assert_int_equal(ec_b64_decode_compat(want_body, strlen(want_body), compat, sizeof compat,
                                          &compat_len), EC_OK);
    assert_int_equal(compat_len, message_len);
    assert_memory_equal(compat, message, message_len);

    uint8_t plain[64];
    size_t plain_len = 0;
    assert_int_equal(ec_aes128_cbc_decrypt(key, message, message + EC_IV_LEN,
                                           message_len - EC_IV_LEN, plain, sizeof plain,
                                           &plain_len), EC_OK);
    assert_int_equal(plain_len, strlen(plaintext));
    assert_memory_equal(plain, plaintext, plain_len);

    /* The MAC check a server does: constant-time, on the hex text. */
    char mac_hex[EC_HMAC_HEX_LEN + 1];
    assert_int_equal(ec_hmac_sha256_hex(key, sizeof key, plain, plain_len, mac_hex), EC_OK);
    const char *sent_mac = want_authorization + 2;
    assert_int_equal(ec_ct_equal(mac_hex, EC_HMAC_HEX_LEN, sent_mac, strlen(sent_mac)), 1);
    /* One flipped bit of the cipher text: a pad fault or a MAC mismatch. */
    message[EC_IV_LEN + 63] ^= 0x01;
    ec_status got = ec_aes128_cbc_decrypt(key, message, message + EC_IV_LEN,
                                          message_len - EC_IV_LEN, plain, sizeof plain,
                                          &plain_len);
    if (got == EC_OK) {
        assert_int_equal(ec_hmac_sha256_hex(key, sizeof key, plain, plain_len, mac_hex), EC_OK);
        assert_int_equal(ec_ct_equal(mac_hex, EC_HMAC_HEX_LEN, sent_mac, strlen(sent_mac)), 0);
    } else {
        assert_true(got == EC_E_PAD_ZERO || got == EC_E_PAD_RANGE || got == EC_E_PAD_BYTES);
    }

    char ack[EC_ACK_LEN + 1];
    assert_int_equal(ec_ack_of((const uint8_t *)plaintext, strlen(plaintext), ack), EC_OK);
    assert_string_equal(ack, want_ack);
}

/* The same body in the standard alphabet with '=' is what SPEC §4 says
 * Emoncms also accepts: the compat decoder must give the same bytes. */
static void standard_alphabet_body_decodes_the_same(void **state)
{
    (void)state;
    char std_body[128];
    size_t n = strlen(want_body);
    for (size_t i = 0; i < n; i++)
        std_body[i] = want_body[i] == '-' ? '+' : want_body[i] == '_' ? '/' : want_body[i];
    std_body[n] = '=';
    uint8_t a[128], b[128];
    size_t a_len = 0, b_len = 0;
    assert_int_equal(ec_b64_decode_compat(want_body, n, a, sizeof a, &a_len), EC_OK);
    assert_int_equal(ec_b64_decode_compat(std_body, n + 1, b, sizeof b, &b_len), EC_OK);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    ec_b64_fault fault;
    assert_int_equal(ec_b64_decode_strict(std_body, n + 1, EC_B64_STD, b, sizeof b, &b_len,
                                          &fault), EC_OK);
    assert_memory_equal(a, b, a_len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_side_builds_the_reference_request),
        cmocka_unit_test(server_side_opens_the_reference_request),
        cmocka_unit_test(standard_alphabet_body_decodes_the_same),
    };
    return cmocka_run_group_tests_name("codec/reference", tests, NULL, NULL);
}
