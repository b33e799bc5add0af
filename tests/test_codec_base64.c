/* Unit tests: base64 encoder, strict decoder and Emoncms-compatible
 * decoder (codec.h).  Known answers: RFC 4648 §10; the compat decoder's
 * expectations were produced by PHP 8.2 running exactly what Emoncms runs,
 * base64_decode(str_replace(['-','_'], ['+','/'], $in)). */
#include "codec_test_support.h"

#include "emoncrypt/codec.h"

/* ---- RFC 4648 §10, plus bytes that hit 62 and 63 --------------------- */

static const struct {
    const char *plain;     /* as raw bytes */
    size_t plain_len;
    const char *std_padded;
    const char *std_bare;
    const char *url_padded;
    const char *url_bare;
} known[] = {
    {"", 0, "", "", "", ""},
    {"f", 1, "Zg==", "Zg", "Zg==", "Zg"},
    {"fo", 2, "Zm8=", "Zm8", "Zm8=", "Zm8"},
    {"foo", 3, "Zm9v", "Zm9v", "Zm9v", "Zm9v"},
    {"foob", 4, "Zm9vYg==", "Zm9vYg", "Zm9vYg==", "Zm9vYg"},
    {"fooba", 5, "Zm9vYmE=", "Zm9vYmE", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", 6, "Zm9vYmFy", "Zm9vYmFy", "Zm9vYmFy", "Zm9vYmFy"},
    /* Not in RFC 4648 §10: the two alphabets differ only here. */
    {"\xfb\xff\xbf", 3, "+/+/", "+/+/", "-_-_", "-_-_"},
    {"\xff", 1, "/w==", "/w", "_w==", "_w"},
    {"\xfb\xff", 2, "+/8=", "+/8", "-_8=", "-_8"},
};
#define KNOWN_COUNT (sizeof known / sizeof known[0])

static void encode_rfc4648_both_alphabets(void **state)
{
    (void)state;
    for (size_t i = 0; i < KNOWN_COUNT; i++) {
        const uint8_t *in = (const uint8_t *)known[i].plain;
        size_t n = known[i].plain_len;
        struct {
            ec_b64_alphabet alpha;
            int pad;
            const char *want;
        } forms[] = {
            {EC_B64_STD, 1, known[i].std_padded}, {EC_B64_STD, 0, known[i].std_bare},
            {EC_B64_URL, 1, known[i].url_padded}, {EC_B64_URL, 0, known[i].url_bare},
        };
        for (size_t f = 0; f < 4; f++) {
            char text[16];
            size_t len = 99;
            assert_int_equal(ec_b64_encode(in, n, forms[f].alpha, forms[f].pad, text,
                                           sizeof text, &len), EC_OK);
            assert_string_equal(text, forms[f].want);
            assert_int_equal(len, strlen(forms[f].want));
            assert_int_equal(ec_b64_encoded_len(n, forms[f].pad), len);
        }
    }
}

static void strict_decodes_rfc4648_both_alphabets(void **state)
{
    (void)state;
    for (size_t i = 1; i < KNOWN_COUNT; i++) {   /* [0] is empty: a fault */
        struct {
            ec_b64_alphabet alpha;
            const char *text;
        } forms[] = {
            {EC_B64_STD, known[i].std_padded}, {EC_B64_STD, known[i].std_bare},
            {EC_B64_URL, known[i].url_padded}, {EC_B64_URL, known[i].url_bare},
        };
        for (size_t f = 0; f < 4; f++) {
            uint8_t bytes[8];
            size_t len = 99;
            ec_b64_fault fault = {EC_E_ARG, 77, 77};
            assert_int_equal(ec_b64_decode_strict(forms[f].text, strlen(forms[f].text),
                                                  forms[f].alpha, bytes, sizeof bytes,
                                                  &len, &fault), EC_OK);
            assert_int_equal(fault.status, EC_OK);
            assert_int_equal(len, known[i].plain_len);
            assert_memory_equal(bytes, known[i].plain, len);
        }
    }
}

static void compat_decodes_rfc4648_both_alphabets(void **state)
{
    (void)state;
    for (size_t i = 0; i < KNOWN_COUNT; i++) {
        const char *forms[] = {known[i].std_padded, known[i].std_bare,
                               known[i].url_padded, known[i].url_bare};
        for (size_t f = 0; f < 4; f++) {
            uint8_t bytes[8];
            size_t len = 99;
            assert_int_equal(ec_b64_decode_compat(forms[f], strlen(forms[f]), bytes,
                                                  sizeof bytes, &len), EC_OK);
            assert_int_equal(len, known[i].plain_len);
            if (len > 0)
                assert_memory_equal(bytes, known[i].plain, len);
        }
    }
}

static void lengths(void **state)
{
    (void)state;
    static const size_t padded[] = {0, 4, 4, 4, 8, 8, 8, 12};
    static const size_t bare[] = {0, 2, 3, 4, 6, 7, 8, 10};
    for (size_t n = 0; n < 8; n++) {
        assert_int_equal(ec_b64_encoded_len(n, 1), padded[n]);
        assert_int_equal(ec_b64_encoded_len(n, 0), bare[n]);
    }
    /* 32-byte SHA-256 -> the 44-character ack. */
    assert_int_equal(ec_b64_encoded_len(32, 1), EC_ACK_LEN);
    static const size_t decoded[] = {0, 0, 1, 2, 3, 3, 4, 5, 6};
    for (size_t n = 0; n < 9; n++)
        assert_int_equal(ec_b64_decoded_max(n), decoded[n]);
}

static void round_trip_every_length(void **state)
{
    (void)state;
    uint8_t plain[100];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof plain; n++) {
        for (int alpha = EC_B64_URL; alpha <= EC_B64_STD; alpha++) {
            for (int pad = 0; pad <= 1; pad++) {
                char text[140];
                size_t text_len = 0;
                assert_int_equal(ec_b64_encode(plain, n, (ec_b64_alphabet)alpha, pad, text,
                                               sizeof text, &text_len), EC_OK);
                assert_true(ec_b64_decoded_max(text_len) >= n);
                uint8_t back[100];
                size_t back_len = 0;
                if (n > 0) {
                    assert_int_equal(ec_b64_decode_strict(text, text_len, (ec_b64_alphabet)alpha,
                                                          back, n, &back_len, NULL), EC_OK);
                    assert_int_equal(back_len, n);
                    assert_memory_equal(back, plain, n);
                }
                assert_int_equal(ec_b64_decode_compat(text, text_len, back, n, &back_len), EC_OK);
                assert_int_equal(back_len, n);
                if (n > 0)
                    assert_memory_equal(back, plain, n);
            }
        }
    }
}

static void encode_buffer_and_arguments(void **state)
{
    (void)state;
    char text[9];
    size_t len = 99;
    /* "foobar" is 8 characters: 8 bytes are one short (no room for NUL). */
    assert_int_equal(ec_b64_encode((const uint8_t *)"foobar", 6, EC_B64_URL, 1, text, 8, &len),
                     EC_E_BUFFER);
    assert_int_equal(len, 0);
    assert_int_equal(ec_b64_encode((const uint8_t *)"foobar", 6, EC_B64_URL, 1, text, 9, &len),
                     EC_OK);
    assert_int_equal(len, 8);
    assert_int_equal(ec_b64_encode(NULL, 1, EC_B64_URL, 1, text, sizeof text, &len), EC_E_ARG);
    assert_int_equal(ec_b64_encode((const uint8_t *)"f", 1, EC_B64_URL, 1, NULL, 9, &len),
                     EC_E_ARG);
    assert_int_equal(ec_b64_encode((const uint8_t *)"f", 1, EC_B64_URL, 1, text, 9, NULL),
                     EC_E_ARG);
    assert_int_equal(ec_b64_encode((const uint8_t *)"f", 1, (ec_b64_alphabet)7, 1, text, 9,
                                   &len), EC_E_ARG);
}

/* ---- strict decoder faults: status, offset and byte, exactly ---------- */

static const struct {
    const char *why;
    const char *text;
    size_t len;
    ec_b64_alphabet alpha;
    ec_status status;
    size_t offset;
    int ch;
} strict_faults[] = {
    {"empty", "", 0, EC_B64_URL, EC_E_B64_EMPTY, 0, -1},
    {"punctuation", "Zm9v!", 5, EC_B64_URL, EC_E_B64_CHAR, 4, '!'},
    {"space inside", "Zm 9v", 5, EC_B64_URL, EC_E_B64_CHAR, 2, ' '},
    {"trailing newline", "Zm9v\n", 5, EC_B64_URL, EC_E_B64_CHAR, 4, '\n'},
    {"leading CR", "\rZm9v", 5, EC_B64_URL, EC_E_B64_CHAR, 0, '\r'},
    {"'+' in the URL alphabet", "Zm+v", 4, EC_B64_URL, EC_E_B64_CHAR, 2, '+'},
    {"'/' in the URL alphabet", "Zm9/", 4, EC_B64_URL, EC_E_B64_CHAR, 3, '/'},
    {"'-' in the standard alphabet", "Zm-v", 4, EC_B64_STD, EC_E_B64_CHAR, 2, '-'},
    {"'_' in the standard alphabet", "_m9v", 4, EC_B64_STD, EC_E_B64_CHAR, 0, '_'},
    {"NUL byte", "Zm9\0", 4, EC_B64_URL, EC_E_B64_CHAR, 3, 0},
    {"byte 0xff", "Zm9\xff", 4, EC_B64_URL, EC_E_B64_CHAR, 3, 0xff},
    {"UTF-8 letter", "Zm\xc3\xa9", 4, EC_B64_URL, EC_E_B64_CHAR, 2, 0xc3},
    {"first fault wins", "Zm!v?", 5, EC_B64_URL, EC_E_B64_CHAR, 2, '!'},
    {"bad char beats dangling length", "Zm9vY!", 6, EC_B64_URL, EC_E_B64_CHAR, 5, '!'},
    {"4n+1 bare", "Zm9vY", 5, EC_B64_URL, EC_E_B64_LENGTH, 4, 'Y'},
    {"4n+1 padded", "Zm9vY===", 8, EC_B64_URL, EC_E_B64_LENGTH, 4, 'Y'},
    {"single character", "Z", 1, EC_B64_URL, EC_E_B64_LENGTH, 0, 'Z'},
    {"'=' after a full quantum", "Zm9v=", 5, EC_B64_URL, EC_E_B64_PAD, 4, '='},
    {"only padding", "====", 4, EC_B64_URL, EC_E_B64_PAD, 0, '='},
    {"padding too short (xx=)", "Zg=", 3, EC_B64_URL, EC_E_B64_PAD, 3, -1},
    {"data inside the padding", "Zg=x", 4, EC_B64_URL, EC_E_B64_PAD, 3, 'x'},
    {"padding too long (xx===)", "Zg===", 5, EC_B64_URL, EC_E_B64_PAD, 4, '='},
    {"padding too long (xxx==)", "Zm8==", 5, EC_B64_URL, EC_E_B64_PAD, 4, '='},
    {"data after padding", "Zm8=Zm8=", 8, EC_B64_URL, EC_E_B64_PAD, 4, 'Z'},
    {"newline after padding", "Zg==\n", 5, EC_B64_URL, EC_E_B64_CHAR, 4, '\n'},
    {"unused bits (xx)", "Zh", 2, EC_B64_URL, EC_E_B64_BITS, 1, 'h'},
    {"unused bits (xx==)", "Zh==", 4, EC_B64_URL, EC_E_B64_BITS, 1, 'h'},
    {"unused bits (xxx)", "Zm9", 3, EC_B64_URL, EC_E_B64_BITS, 2, '9'},
    {"unused bits (xxx=)", "Zm9=", 4, EC_B64_STD, EC_E_B64_BITS, 2, '9'},
    {"unused bits beat bad padding", "Zh=", 3, EC_B64_URL, EC_E_B64_BITS, 1, 'h'},
};

static void strict_faults_are_named_exactly(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof strict_faults / sizeof strict_faults[0]; i++) {
        uint8_t bytes[16];
        size_t len = 99;
        ec_b64_fault fault = {EC_OK, 999, 999};
        ec_status got = ec_b64_decode_strict(strict_faults[i].text, strict_faults[i].len,
                                             strict_faults[i].alpha, bytes, sizeof bytes,
                                             &len, &fault);
        if (got != strict_faults[i].status || fault.offset != strict_faults[i].offset ||
            fault.ch != strict_faults[i].ch)
            print_error("case \"%s\": got %s at %zu (%d), want %s at %zu (%d)\n",
                        strict_faults[i].why, ec_status_name(got), fault.offset, fault.ch,
                        ec_status_name(strict_faults[i].status), strict_faults[i].offset,
                        strict_faults[i].ch);
        assert_int_equal(got, strict_faults[i].status);
        assert_int_equal(fault.status, strict_faults[i].status);
        assert_int_equal(fault.offset, strict_faults[i].offset);
        assert_int_equal(fault.ch, strict_faults[i].ch);
        assert_int_equal(len, 0);
        /* The same verdict without a fault record. */
        assert_int_equal(ec_b64_decode_strict(strict_faults[i].text, strict_faults[i].len,
                                              strict_faults[i].alpha, bytes, sizeof bytes,
                                              &len, NULL), strict_faults[i].status);
    }
}

static void strict_buffer_and_arguments(void **state)
{
    (void)state;
    uint8_t bytes[6];
    size_t len = 99;
    ec_b64_fault fault;
    assert_int_equal(ec_b64_decode_strict("Zm9vYmFy", 8, EC_B64_URL, bytes, 5, &len, &fault),
                     EC_E_BUFFER);
    assert_int_equal(len, 0);
    assert_int_equal(fault.status, EC_E_BUFFER);
    /* Padding does not count against the buffer: "Zg==" needs one byte. */
    assert_int_equal(ec_b64_decode_strict("Zg==", 4, EC_B64_URL, bytes, 1, &len, NULL), EC_OK);
    assert_int_equal(len, 1);
    assert_int_equal(ec_b64_decode_strict(NULL, 4, EC_B64_URL, bytes, 6, &len, &fault), EC_E_ARG);
    assert_int_equal(fault.status, EC_E_ARG);
    assert_int_equal(ec_b64_decode_strict("Zm9v", 4, EC_B64_URL, NULL, 6, &len, NULL), EC_E_ARG);
    assert_int_equal(ec_b64_decode_strict("Zm9v", 4, EC_B64_URL, bytes, 6, NULL, NULL), EC_E_ARG);
    assert_int_equal(ec_b64_decode_strict("Zm9v", 4, (ec_b64_alphabet)2, bytes, 6, &len, NULL),
                     EC_E_ARG);
}

/* ---- compat decoder vs PHP 8.2, on hostile input ---------------------- */

/* Each want_hex is what PHP 8.2.36 returned for
 * base64_decode(str_replace(['-','_'], ['+','/'], text)). */
static const struct {
    const char *why;
    const char *text;
    size_t len;
    const char *want_hex;
} php_compat[] = {
    {"whitespace between quanta", "QUJD\nREVG\r\n", 11, "414243444546"},
    {"tab and space inside a quantum", "Q U\tJD", 6, "414243"},
    {"NUL bytes skipped", "QU\0JD\0", 6, "414243"},
    {"non-ASCII bytes skipped", "\xc3\xa9QUJD\xff\x80", 8, "414243"},
    {"'=' in the middle is skipped", "QQ==QUJD", 8, "41041424"},
    {"'=' everywhere", "=Q=U=J=D=", 9, "414243"},
    {"only padding", "====", 4, ""},
    {"lone '='", "=", 1, ""},
    {"4n+1: final sextet dropped", "QUJDR", 5, "414243"},
    {"4n+1 padded: final sextet dropped", "QUJDR===", 8, "414243"},
    {"single character", "Q", 1, ""},
    {"two characters, no padding", "QQ", 2, "41"},
    {"three characters, no padding", "QUI", 3, "4142"},
    {"unused bits set are ignored", "QR", 2, "41"},
    {"mixed alphabets -_ and +/", "-_+/", 4, "fbffbf"},
    {"URL alphabet 62/63", "____----", 8, "fffffffbefbe"},
    {"standard alphabet 62/63", "////++++", 8, "fffffffbefbe"},
    {"junk punctuation skipped", "Q!U@J#D$", 8, "414243"},
    {"percent-encoded padding is junk", "QQ%3D%3D", 8, "410dc3dc"},
    {"dot and tilde skipped", "Q.U~JD", 6, "414243"},
    {"DEL and control bytes skipped", "\x7fQU\x01JD\x1b", 7, "414243"},
    {"data after padding keeps decoding", "QUI=RA==", 8, "414211"},
    {"CRLF line wrapping", "QUJDREVG\r\nR0hJ\r\n", 16, "414243444546474849"},
    {"empty input", "", 0, ""},
    {"only junk", " \n\t\0\xff", 5, ""},
    {"4n+1 via junk-separated tail", "QUJD R", 6, "414243"},
    {"reference body with '=' and trailing newline",
     "AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17LlDVdhecrZmUY8UBAam3_oj5"
     "jmaczqBieWsajqhNGc=\n", 109,
     "000102030405060708090a0b0c0d0e0facac6a79c41adee436de15835e15705f2003f4e2e29ad76b2663dc6a4a"
     "925ab5ecb94355d85e72b666518f140406a6dffa23e6399a733a8189e5ac6a3aa13467"},
};

static void compat_matches_php_on_hostile_input(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof php_compat / sizeof php_compat[0]; i++) {
        uint8_t bytes[128];
        size_t len = 99;
        assert_int_equal(ec_b64_decode_compat(php_compat[i].text, php_compat[i].len, bytes,
                                              sizeof bytes, &len), EC_OK);
        uint8_t want[128];
        size_t want_len = unhex(php_compat[i].want_hex, want, sizeof want);
        if (len != want_len || (want_len > 0 && memcmp(bytes, want, want_len) != 0))
            print_error("case \"%s\" differs from PHP\n", php_compat[i].why);
        assert_bytes_hex(bytes, len, php_compat[i].want_hex);
    }
}

static void compat_buffer_and_arguments(void **state)
{
    (void)state;
    uint8_t bytes[6];
    size_t len = 99;
    assert_int_equal(ec_b64_decode_compat("QUJD", 4, bytes, 2, &len), EC_E_BUFFER);
    assert_int_equal(len, 0);
    /* Only what is really decoded counts: junk and '=' need no room. */
    assert_int_equal(ec_b64_decode_compat("Q=U=J=D= \n\t", 11, bytes, 3, &len), EC_OK);
    assert_int_equal(len, 3);
    assert_int_equal(ec_b64_decode_compat("", 0, bytes, 0, &len), EC_OK);
    assert_int_equal(len, 0);
    assert_int_equal(ec_b64_decode_compat(NULL, 4, bytes, 6, &len), EC_E_ARG);
    assert_int_equal(ec_b64_decode_compat("QUJD", 4, NULL, 6, &len), EC_E_ARG);
    assert_int_equal(ec_b64_decode_compat("QUJD", 4, bytes, 6, NULL), EC_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_rfc4648_both_alphabets),
        cmocka_unit_test(strict_decodes_rfc4648_both_alphabets),
        cmocka_unit_test(compat_decodes_rfc4648_both_alphabets),
        cmocka_unit_test(lengths),
        cmocka_unit_test(round_trip_every_length),
        cmocka_unit_test(encode_buffer_and_arguments),
        cmocka_unit_test(strict_faults_are_named_exactly),
        cmocka_unit_test(strict_buffer_and_arguments),
        cmocka_unit_test(compat_matches_php_on_hostile_input),
        cmocka_unit_test(compat_buffer_and_arguments),
    };
    return cmocka_run_group_tests_name("codec/base64", tests, NULL, NULL);
}
