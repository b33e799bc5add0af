/* Unit tests: zlib (RFC 1950) compress and bounded, strict uncompress
 * (codec.h).  The known compressed strings are what PHP 8.2 gzcompress and
 * Python zlib.compress(data, 6) both produce for these inputs. */
#include "codec_test_support.h"

#include <stdlib.h>

#include "emoncrypt/codec.h"

static const char reference_plain[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";
static const char reference_zlib_hex[] =
    "789ccbcb4f49b54dcdcdcf2ba9504b2bcdc9c92acecfb3ad562ac82f4f2d3254b2323430d081708c94ac8c0c0c6a"
    "01b193104f";

static void compress_matches_php_gzcompress(void **state)
{
    (void)state;
    static const struct {
        const char *plain;
        const char *zlib_hex;
    } known[] = {
        {reference_plain, reference_zlib_hex},
        {"", "789c030000000001"},
        {"hello", "789ccb48cdc9c90700062c0215"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint8_t packed[128];
        size_t len = 0;
        assert_int_equal(ec_zlib_compress((const uint8_t *)known[i].plain, strlen(known[i].plain),
                                          packed, sizeof packed, &len), EC_OK);
        assert_bytes_hex(packed, len, known[i].zlib_hex);
    }
    /* A repetitive input, where the matcher's choices show. */
    char repeated[8 * 64 + 1] = "";
    for (int i = 0; i < 64; i++)
        strcat(repeated, "emoncms ");
    uint8_t packed[128];
    size_t len = 0;
    assert_int_equal(ec_zlib_compress((const uint8_t *)repeated, strlen(repeated), packed,
                                      sizeof packed, &len), EC_OK);
    assert_bytes_hex(packed, len, "789c4bcdcdcf4bce2d56481da547240d002a8bc481");
}

static void uncompress_known_stream(void **state)
{
    (void)state;
    uint8_t packed[64], plain[64];
    size_t packed_len = unhex(reference_zlib_hex, packed, sizeof packed);
    size_t len = 0;
    assert_int_equal(ec_zlib_uncompress(packed, packed_len, plain, sizeof plain, &len), EC_OK);
    assert_int_equal(len, strlen(reference_plain));
    assert_memory_equal(plain, reference_plain, len);
}

static void round_trip_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 15, 16, 17, 1000, 4096, 65536, 200000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        uint8_t *plain = malloc(n + 1);
        uint8_t *back = malloc(n + 1);
        size_t cap = ec_zlib_bound(n);
        uint8_t *packed = malloc(cap);
        assert_non_null(plain);
        assert_non_null(back);
        assert_non_null(packed);
        /* Text-like and partly compressible, like real plaintexts. */
        uint32_t x = 12345;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            plain[i] = (uint8_t)("0123456789,[]\"node"[(x >> 16) % 19]);
        }
        size_t packed_len = 0, back_len = 0;
        assert_int_equal(ec_zlib_compress(plain, n, packed, cap, &packed_len), EC_OK);
        assert_true(packed_len <= cap);
        assert_int_equal(ec_zlib_uncompress(packed, packed_len, back, n, &back_len), EC_OK);
        assert_int_equal(back_len, n);
        if (n > 0)
            assert_memory_equal(back, plain, n);
        free(plain);
        free(back);
        free(packed);
    }
}

static void uncompress_rejects_trailing_bytes(void **state)
{
    (void)state;
    uint8_t packed[64], plain[64];
    size_t packed_len = unhex(reference_zlib_hex, packed, sizeof packed);
    size_t len = 99;
    /* PHP's gzuncompress ignores these; a conformant client never sends them. */
    static const uint8_t junk[] = {0x00, 'j', 0x78};
    for (size_t i = 0; i < sizeof junk; i++) {
        packed[packed_len] = junk[i];
        assert_int_equal(ec_zlib_uncompress(packed, packed_len + 1, plain, sizeof plain, &len),
                         EC_E_ZLIB);
        assert_int_equal(len, 0);
    }
    /* Two complete streams back to back are also one stream too many. */
    uint8_t twice[16];
    size_t one = unhex("789c030000000001", twice, 8);
    memcpy(twice + one, twice, one);
    assert_int_equal(ec_zlib_uncompress(twice, 2 * one, plain, sizeof plain, &len), EC_E_ZLIB);
}

static void uncompress_rejects_every_truncation(void **state)
{
    (void)state;
    uint8_t packed[64], plain[256];
    size_t packed_len = unhex(reference_zlib_hex, packed, sizeof packed);
    for (size_t cut = 0; cut < packed_len; cut++) {
        size_t len = 99;
        ec_status got = ec_zlib_uncompress(packed, cut, plain, sizeof plain, &len);
        if (got != EC_E_ZLIB)
            print_error("truncated to %zu bytes: got %s\n", cut, ec_status_name(got));
        assert_int_equal(got, EC_E_ZLIB);
        assert_int_equal(len, 0);
    }
}

static void uncompress_rejects_other_formats_and_corruption(void **state)
{
    (void)state;
    static const struct {
        const char *why;
        const char *hex;
    } bad[] = {
        {"gzip (RFC 1952), not zlib", "1f8b0800000000000003cb48cdc9c9070086a6103605000000"},
        {"raw deflate, no zlib header", "cb48cdc9c90700"},
        {"header check bits wrong", "789dcb48cdc9c90700062c0215"},
        {"not deflate (CM=7)", "779ccb48cdc9c90700062c0215"},
        {"Adler-32 wrong", "789ccb48cdc9c90700062c0216"},
        {"preset dictionary required", "78bb1fe004e9cbcb4f49b54d050b00001a57047f"},
        {"plain text", "6e6f64653d656d6f6e7478"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t packed[64], plain[64];
        size_t packed_len = unhex(bad[i].hex, packed, sizeof packed);
        size_t len = 99;
        ec_status got = ec_zlib_uncompress(packed, packed_len, plain, sizeof plain, &len);
        if (got != EC_E_ZLIB)
            print_error("case \"%s\": got %s\n", bad[i].why, ec_status_name(got));
        assert_int_equal(got, EC_E_ZLIB);
        assert_int_equal(len, 0);
    }
}

static void uncompress_is_bounded_by_out_cap(void **state)
{
    (void)state;
    uint8_t packed[64], plain[64];
    size_t packed_len = unhex(reference_zlib_hex, packed, sizeof packed);
    size_t want = strlen(reference_plain);
    size_t len = 99;
    /* Exactly enough room: fine.  One byte less: buffer-too-small, and
     * the byte past out_cap is never touched. */
    assert_int_equal(ec_zlib_uncompress(packed, packed_len, plain, want, &len), EC_OK);
    assert_int_equal(len, want);
    memset(plain, 0xee, sizeof plain);
    assert_int_equal(ec_zlib_uncompress(packed, packed_len, plain, want - 1, &len), EC_E_BUFFER);
    assert_int_equal(len, 0);
    assert_int_equal(plain[want - 1], 0xee);
    assert_int_equal(ec_zlib_uncompress(packed, packed_len, plain, 0, &len), EC_E_BUFFER);
    /* The empty stream needs no room at all. */
    uint8_t empty_stream[8];
    size_t empty_len = unhex("789c030000000001", empty_stream, sizeof empty_stream);
    assert_int_equal(ec_zlib_uncompress(empty_stream, empty_len, plain, 0, &len), EC_OK);
    assert_int_equal(len, 0);
}

static void uncompress_bomb_stops_at_out_cap(void **state)
{
    (void)state;
    size_t n = 4u << 20;   /* 4 MiB of zeros packs into a few KB */
    uint8_t *zeros = calloc(n, 1);
    size_t cap = ec_zlib_bound(n);
    uint8_t *packed = malloc(cap);
    assert_non_null(zeros);
    assert_non_null(packed);
    size_t packed_len = 0;
    assert_int_equal(ec_zlib_compress(zeros, n, packed, cap, &packed_len), EC_OK);
    free(zeros);
    assert_true(packed_len < 8192);

    enum { ROOM = 4096, CANARY = 64 };
    uint8_t out[ROOM + CANARY];
    memset(out, 0xa5, sizeof out);
    size_t len = 99;
    assert_int_equal(ec_zlib_uncompress(packed, packed_len, out, ROOM, &len), EC_E_BUFFER);
    assert_int_equal(len, 0);
    for (size_t i = ROOM; i < sizeof out; i++)
        assert_int_equal(out[i], 0xa5);
    free(packed);
}

static void zlib_buffers_and_arguments(void **state)
{
    (void)state;
    uint8_t packed[64], plain[64];
    size_t len = 99;
    assert_int_equal(ec_zlib_compress((const uint8_t *)reference_plain, strlen(reference_plain),
                                      packed, 10, &len), EC_E_BUFFER);
    assert_int_equal(len, 0);
    assert_true(ec_zlib_bound(strlen(reference_plain)) >= 49);
    assert_int_equal(ec_zlib_compress(NULL, 1, packed, sizeof packed, &len), EC_E_ARG);
    assert_int_equal(ec_zlib_compress((const uint8_t *)"a", 1, NULL, 64, &len), EC_E_ARG);
    assert_int_equal(ec_zlib_compress((const uint8_t *)"a", 1, packed, 64, NULL), EC_E_ARG);
    assert_int_equal(ec_zlib_compress(NULL, 0, packed, sizeof packed, &len), EC_OK);
    assert_bytes_hex(packed, len, "789c030000000001");

    assert_int_equal(ec_zlib_uncompress(packed, 0, plain, sizeof plain, &len), EC_E_ZLIB);
    assert_int_equal(ec_zlib_uncompress(NULL, 0, plain, sizeof plain, &len), EC_E_ZLIB);
    assert_int_equal(ec_zlib_uncompress(NULL, 8, plain, sizeof plain, &len), EC_E_ARG);
    assert_int_equal(ec_zlib_uncompress(packed, 8, NULL, 64, &len), EC_E_ARG);
    assert_int_equal(ec_zlib_uncompress(packed, 8, plain, 64, NULL), EC_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compress_matches_php_gzcompress),
        cmocka_unit_test(uncompress_known_stream),
        cmocka_unit_test(round_trip_sizes),
        cmocka_unit_test(uncompress_rejects_trailing_bytes),
        cmocka_unit_test(uncompress_rejects_every_truncation),
        cmocka_unit_test(uncompress_rejects_other_formats_and_corruption),
        cmocka_unit_test(uncompress_is_bounded_by_out_cap),
        cmocka_unit_test(uncompress_bomb_stops_at_out_cap),
        cmocka_unit_test(zlib_buffers_and_arguments),
    };
    return cmocka_run_group_tests_name("codec/zlib", tests, NULL, NULL);
}
