/* Unit tests: CSPRNG and wiping (codec.h). */
#include "codec_test_support.h"

#include "emoncrypt/codec.h"

static void random_fills_and_differs(void **state)
{
    (void)state;
    /* Two 16-byte IVs from a working CSPRNG collide with p = 2^-128; an
     * all-zero IV likewise.  Either would mean the generator is broken. */
    uint8_t iv1[EC_IV_LEN] = {0}, iv2[EC_IV_LEN] = {0}, zero[EC_IV_LEN] = {0};
    assert_int_equal(ec_random(iv1, sizeof iv1), EC_OK);
    assert_int_equal(ec_random(iv2, sizeof iv2), EC_OK);
    assert_memory_not_equal(iv1, iv2, sizeof iv1);
    assert_memory_not_equal(iv1, zero, sizeof iv1);
    assert_memory_not_equal(iv2, zero, sizeof iv2);
}

static void random_covers_every_byte_value(void **state)
{
    (void)state;
    /* 64 KiB of output misses some byte value with p < 256 * e^-256. */
    static uint8_t pool[65536];
    assert_int_equal(ec_random(pool, sizeof pool), EC_OK);
    int seen[256] = {0};
    for (size_t i = 0; i < sizeof pool; i++)
        seen[pool[i]] = 1;
    for (int v = 0; v < 256; v++)
        assert_int_equal(seen[v], 1);
}

static void random_arguments(void **state)
{
    (void)state;
    assert_int_equal(ec_random(NULL, 0), EC_OK);
    assert_int_equal(ec_random(NULL, 16), EC_E_ARG);
}

static void wipe_zeroes(void **state)
{
    (void)state;
    uint8_t key[EC_KEY_LEN];
    memset(key, 0x5a, sizeof key);
    ec_wipe(key, sizeof key);
    for (size_t i = 0; i < sizeof key; i++)
        assert_int_equal(key[i], 0);
    /* Partial wipe leaves the rest alone. */
    memset(key, 0x5a, sizeof key);
    ec_wipe(key, 4);
    assert_int_equal(key[3], 0);
    assert_int_equal(key[4], 0x5a);
    ec_wipe(NULL, 16);   /* must not crash */
    ec_wipe(key, 0);
    assert_int_equal(key[4], 0x5a);
}

/* The seeded runs' stream is AES-128-CTR's keystream: NIST SP 800-38A
 * F.5.1's output blocks 1 and 2, drawn in uneven slices, then a second
 * stream of the same key and counter gives the same bytes again. */
static void keystream_known_answer(void **state)
{
    (void)state;
    static const uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                    0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    static const uint8_t ctr[16] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
                                    0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff};
    static const uint8_t want[32] = {
        0xec, 0x8c, 0xdf, 0x73, 0x98, 0x60, 0x7c, 0xb0, 0xf2, 0xd2, 0x16, 0x75, 0xea, 0x9e, 0xa1, 0xe4,
        0x36, 0x2b, 0x7c, 0x3c, 0x67, 0x73, 0x51, 0x63, 0x18, 0xa0, 0x77, 0xd7, 0xfc, 0x50, 0x73, 0xae};
    uint8_t got[32], again[32];
    ec_keystream *ks = ec_keystream_new(key, ctr);
    assert_non_null(ks);
    assert_int_equal(ec_keystream_bytes(ks, got, 5), EC_OK);
    assert_int_equal(ec_keystream_bytes(ks, got + 5, 0), EC_OK);
    assert_int_equal(ec_keystream_bytes(ks, got + 5, 27), EC_OK);
    assert_memory_equal(got, want, sizeof want);
    ec_keystream_free(ks);
    ks = ec_keystream_new(key, ctr);
    assert_non_null(ks);
    assert_int_equal(ec_keystream_bytes(ks, again, sizeof again), EC_OK);
    assert_memory_equal(again, want, sizeof want);
    assert_int_equal(ec_keystream_bytes(NULL, again, 1), EC_E_ARG);
    assert_int_equal(ec_keystream_bytes(ks, NULL, 1), EC_E_ARG);
    ec_keystream_free(ks);
    ec_keystream_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_fills_and_differs),
        cmocka_unit_test(random_covers_every_byte_value),
        cmocka_unit_test(random_arguments),
        cmocka_unit_test(wipe_zeroes),
        cmocka_unit_test(keystream_known_answer),
    };
    return cmocka_run_group_tests_name("codec/random", tests, NULL, NULL);
}
