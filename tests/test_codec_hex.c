/* Unit tests: hex encoding and the write API key parser (codec.h). */
#include "codec_test_support.h"

#include "emoncrypt/codec.h"

static const uint8_t some_bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};

static void encode_lower_and_upper(void **state)
{
    (void)state;
    char text[17];
    assert_int_equal(ec_hex_encode(some_bytes, sizeof some_bytes, text, sizeof text), EC_OK);
    assert_string_equal(text, "00017f80abcdefff");
    assert_int_equal(ec_hex_encode_upper(some_bytes, sizeof some_bytes, text, sizeof text), EC_OK);
    assert_string_equal(text, "00017F80ABCDEFFF");
}

static void encode_empty_gives_empty_string(void **state)
{
    (void)state;
    char text[1] = {'x'};
    assert_int_equal(ec_hex_encode(NULL, 0, text, sizeof text), EC_OK);
    assert_string_equal(text, "");
}

static void encode_needs_room_for_the_nul(void **state)
{
    (void)state;
    char text[17];
    /* 2n digits fit but the terminating NUL does not. */
    assert_int_equal(ec_hex_encode(some_bytes, sizeof some_bytes, text, 16), EC_E_BUFFER);
    assert_int_equal(ec_hex_encode_upper(some_bytes, sizeof some_bytes, text, 16), EC_E_BUFFER);
    char none[1];
    assert_int_equal(ec_hex_encode(NULL, 0, none, 0), EC_E_BUFFER);
}

static void encode_rejects_null(void **state)
{
    (void)state;
    char text[17];
    assert_int_equal(ec_hex_encode(NULL, 1, text, sizeof text), EC_E_ARG);
    assert_int_equal(ec_hex_encode(some_bytes, 1, NULL, 3), EC_E_ARG);
    assert_int_equal(ec_hex_encode_upper(NULL, 1, text, sizeof text), EC_E_ARG);
}

static void decode_either_case(void **state)
{
    (void)state;
    uint8_t bytes[8];
    size_t len = 99;
    assert_int_equal(ec_hex_decode("00017f80ABcdEFff", 16, bytes, sizeof bytes, &len), EC_OK);
    assert_int_equal(len, sizeof some_bytes);
    assert_memory_equal(bytes, some_bytes, sizeof some_bytes);
    assert_int_equal(ec_hex_decode("", 0, bytes, sizeof bytes, &len), EC_OK);
    assert_int_equal(len, 0);
}

static void decode_rejects_odd_length(void **state)
{
    (void)state;
    uint8_t bytes[8];
    size_t len = 99;
    assert_int_equal(ec_hex_decode("abc", 3, bytes, sizeof bytes, &len), EC_E_HEX);
    assert_int_equal(len, 0);
}

static void decode_rejects_non_hex_and_wipes(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len;
    } bad[] = {
        {"0g", 2}, {"g0", 2}, {"12 4", 4}, {"0x12", 4},
        {"12\0" "4", 4},   /* an embedded NUL is not a digit */
        {"ab-d", 4}, {"\xff\xff", 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t bytes[8];
        size_t len = 99;
        assert_int_equal(ec_hex_decode(bad[i].text, bad[i].len, bytes, sizeof bytes, &len), EC_E_HEX);
        assert_int_equal(len, 0);
    }
    /* The good first byte decoded before the fault is not left behind. */
    uint8_t bytes[4] = {0x5a, 0x5a, 0x5a, 0x5a};
    size_t len = 99;
    assert_int_equal(ec_hex_decode("abz0", 4, bytes, sizeof bytes, &len), EC_E_HEX);
    assert_int_equal(bytes[0], 0);
}

static void decode_buffer_too_small(void **state)
{
    (void)state;
    uint8_t bytes[3];
    size_t len = 99;
    assert_int_equal(ec_hex_decode("00112233", 8, bytes, sizeof bytes, &len), EC_E_BUFFER);
    assert_int_equal(len, 0);
}

static void decode_rejects_null(void **state)
{
    (void)state;
    uint8_t bytes[4];
    size_t len = 99;
    assert_int_equal(ec_hex_decode(NULL, 2, bytes, sizeof bytes, &len), EC_E_ARG);
    assert_int_equal(len, 0);
    assert_int_equal(ec_hex_decode("00", 2, NULL, 4, &len), EC_E_ARG);
    assert_int_equal(ec_hex_decode("00", 2, bytes, sizeof bytes, NULL), EC_E_ARG);
}

static void key_from_hex_accepts_32_digits(void **state)
{
    (void)state;
    uint8_t key[EC_KEY_LEN];
    static const uint8_t want[EC_KEY_LEN] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                             0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    assert_int_equal(ec_key_from_hex("0123456789abcdef0123456789abcdef", key), EC_OK);
    assert_memory_equal(key, want, EC_KEY_LEN);
    /* Emoncms keys are lowercase, but hex2bin takes either case. */
    assert_int_equal(ec_key_from_hex("0123456789ABCDEF0123456789abcdef", key), EC_OK);
    assert_memory_equal(key, want, EC_KEY_LEN);
}

static void key_from_hex_rejects_wrong_keys(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "0123456789abcdef0123456789abcde",     /* 31 digits */
        "0123456789abcdef0123456789abcdef0",   /* 33 digits */
        "0123456789abcdef0123456789abcdef0123456789abcdef", /* 48 */
        "0123456789abcdef0123456789abcdeg",    /* not hex */
        " 123456789abcdef0123456789abcdef",    /* leading space */
        "0123456789abcdef0123456789abcde\n",   /* trailing newline */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t key[EC_KEY_LEN];
        assert_int_equal(ec_key_from_hex(bad[i], key), EC_E_KEY);
    }
    uint8_t key[EC_KEY_LEN];
    assert_int_equal(ec_key_from_hex(NULL, key), EC_E_ARG);
    assert_int_equal(ec_key_from_hex("0123456789abcdef0123456789abcdef", NULL), EC_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_lower_and_upper),
        cmocka_unit_test(encode_empty_gives_empty_string),
        cmocka_unit_test(encode_needs_room_for_the_nul),
        cmocka_unit_test(encode_rejects_null),
        cmocka_unit_test(decode_either_case),
        cmocka_unit_test(decode_rejects_odd_length),
        cmocka_unit_test(decode_rejects_non_hex_and_wipes),
        cmocka_unit_test(decode_buffer_too_small),
        cmocka_unit_test(decode_rejects_null),
        cmocka_unit_test(key_from_hex_accepts_32_digits),
        cmocka_unit_test(key_from_hex_rejects_wrong_keys),
    };
    return cmocka_run_group_tests_name("codec/hex", tests, NULL, NULL);
}
