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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_fills_and_differs),
        cmocka_unit_test(random_covers_every_byte_value),
        cmocka_unit_test(random_arguments),
        cmocka_unit_test(wipe_zeroes),
    };
    return cmocka_run_group_tests_name("codec/random", tests, NULL, NULL);
}
