/* Helpers shared by the codec unit tests (test_codec_*.c).
 *
 * Known answers are written as hex text; unhex() turns them into bytes
 * with its own few lines, so that a bug in ec_hex_decode cannot hide a bug
 * in the function a test is really about. */
#ifndef EMONCRYPT_CODEC_TEST_SUPPORT_H
#define EMONCRYPT_CODEC_TEST_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static inline int test_hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex text -> bytes; fails the running test on malformed text or a short
 * buffer.  Returns the byte count. */
static inline size_t unhex(const char *hex, uint8_t *out, size_t out_cap)
{
    size_t n = strlen(hex);
    assert_true(n % 2 == 0);
    assert_true(n / 2 <= out_cap);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = test_hex_nibble(hex[2 * i]);
        int lo = test_hex_nibble(hex[2 * i + 1]);
        assert_true(hi >= 0 && lo >= 0);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

/* Assert that got[0..got_len) equals the bytes spelled by want_hex. */
static inline void assert_bytes_hex(const uint8_t *got, size_t got_len,
                                    const char *want_hex)
{
    uint8_t want[4096];
    size_t want_len = unhex(want_hex, want, sizeof want);
    assert_int_equal(got_len, want_len);
    if (want_len > 0)
        assert_memory_equal(got, want, want_len);
}

#endif
