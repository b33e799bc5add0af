/* Unit tests: AES-128-CBC with and without PKCS#7 padding (codec.h).
 * Known answers: NIST SP 800-38A, F.2.1 (CBC-AES128.Encrypt) and F.2.2
 * (CBC-AES128.Decrypt).  Every PKCS#7 fault is built with the raw
 * encryptor so that the decryptor sees exactly the bad pad intended. */
#include "codec_test_support.h"

#include "emoncrypt/codec.h"

static const char nist_key_hex[] = "2b7e151628aed2a6abf7158809cf4f3c";
static const char nist_iv_hex[] = "000102030405060708090a0b0c0d0e0f";
static const char nist_plain_hex[] =
    "6bc1bee22e409f96e93d7e117393172a" "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef" "f69f2445df4f9b17ad2b417be66c3710";
static const char nist_cipher_hex[] =
    "7649abac8119b246cee98e9b12e9197d" "5086cb9b507219ee95db113a917678b2"
    "73bed6b8e3c1743b7116e69e22229516" "3ff1caa1681fac09120eca307586e1a7";

typedef struct {
    uint8_t key[EC_KEY_LEN];
    uint8_t iv[EC_IV_LEN];
} key_iv;

static key_iv nist_key_iv(void)
{
    key_iv k;
    unhex(nist_key_hex, k.key, sizeof k.key);
    unhex(nist_iv_hex, k.iv, sizeof k.iv);
    return k;
}

static void nist_f21_encrypt_raw(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t plain[64], cipher[64];
    size_t n = unhex(nist_plain_hex, plain, sizeof plain);
    assert_int_equal(ec_aes128_cbc_encrypt_raw(k.key, k.iv, plain, n, cipher, sizeof cipher), EC_OK);
    assert_bytes_hex(cipher, n, nist_cipher_hex);
}

static void nist_f22_decrypt_raw(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t cipher[64], plain[64];
    size_t n = unhex(nist_cipher_hex, cipher, sizeof cipher);
    assert_int_equal(ec_aes128_cbc_decrypt_raw(k.key, k.iv, cipher, n, plain, sizeof plain), EC_OK);
    assert_bytes_hex(plain, n, nist_plain_hex);
}

static void raw_works_in_place(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t buf[64];
    size_t n = unhex(nist_plain_hex, buf, sizeof buf);
    assert_int_equal(ec_aes128_cbc_encrypt_raw(k.key, k.iv, buf, n, buf, sizeof buf), EC_OK);
    assert_bytes_hex(buf, n, nist_cipher_hex);
    assert_int_equal(ec_aes128_cbc_decrypt_raw(k.key, k.iv, buf, n, buf, sizeof buf), EC_OK);
    assert_bytes_hex(buf, n, nist_plain_hex);
}

static void raw_rejects_partial_blocks_and_small_buffers(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t in[64] = {0}, out[64];
    assert_int_equal(ec_aes128_cbc_encrypt_raw(k.key, k.iv, in, 15, out, sizeof out), EC_E_CT_LENGTH);
    assert_int_equal(ec_aes128_cbc_decrypt_raw(k.key, k.iv, in, 17, out, sizeof out), EC_E_CT_LENGTH);
    assert_int_equal(ec_aes128_cbc_encrypt_raw(k.key, k.iv, in, 32, out, 31), EC_E_BUFFER);
    assert_int_equal(ec_aes128_cbc_decrypt_raw(k.key, k.iv, in, 32, out, 16), EC_E_BUFFER);
    assert_int_equal(ec_aes128_cbc_encrypt_raw(NULL, k.iv, in, 16, out, 16), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_encrypt_raw(k.key, NULL, in, 16, out, 16), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_encrypt_raw(k.key, k.iv, NULL, 16, out, 16), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_decrypt_raw(k.key, k.iv, in, 16, NULL, 16), EC_E_ARG);
}

/* The padded form of the NIST plaintext: 64 bytes + a whole block of 16s. */
static void padded_encrypt_adds_a_full_block(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t plain[64], cipher[80], raw[80];
    size_t n = unhex(nist_plain_hex, plain, sizeof plain);
    size_t len = 0;
    assert_int_equal(ec_pkcs7_padded_len(n), 80);
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, plain, n, cipher, sizeof cipher, &len), EC_OK);
    assert_int_equal(len, 80);
    /* CBC: the first 64 bytes are the NIST ciphertext, unchanged. */
    assert_bytes_hex(cipher, 64, nist_cipher_hex);
    assert_int_equal(ec_aes128_cbc_decrypt_raw(k.key, k.iv, cipher, 80, raw, sizeof raw), EC_OK);
    for (size_t i = 64; i < 80; i++)
        assert_int_equal(raw[i], 16);
}

static void pkcs7_padded_lengths(void **state)
{
    (void)state;
    assert_int_equal(ec_pkcs7_padded_len(0), 16);
    assert_int_equal(ec_pkcs7_padded_len(1), 16);
    assert_int_equal(ec_pkcs7_padded_len(15), 16);
    assert_int_equal(ec_pkcs7_padded_len(16), 32);
    assert_int_equal(ec_pkcs7_padded_len(17), 32);
    assert_int_equal(ec_pkcs7_padded_len(48), 64);
}

static void round_trip_every_length(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t plain[70], cipher[80], back[80];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 29 + 3);
    for (size_t n = 0; n <= sizeof plain; n++) {
        size_t cipher_len = 0, back_len = 0;
        assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, plain, n, cipher, sizeof cipher,
                                               &cipher_len), EC_OK);
        assert_int_equal(cipher_len, ec_pkcs7_padded_len(n));
        /* The pad is exactly what PKCS#7 says. */
        uint8_t raw[80];
        assert_int_equal(ec_aes128_cbc_decrypt_raw(k.key, k.iv, cipher, cipher_len, raw,
                                                   sizeof raw), EC_OK);
        for (size_t i = n; i < cipher_len; i++)
            assert_int_equal(raw[i], cipher_len - n);
        /* out needs n bytes of room for a cipher text of n bytes. */
        assert_int_equal(ec_aes128_cbc_decrypt(k.key, k.iv, cipher, cipher_len, back,
                                               cipher_len, &back_len), EC_OK);
        assert_int_equal(back_len, n);
        if (n > 0)
            assert_memory_equal(back, plain, n);
    }
}

static void padded_encrypt_in_place(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t buf[32] = "node=emontx";
    uint8_t want[32];
    size_t want_len = 0, len = 0;
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, buf, 11, want, sizeof want, &want_len), EC_OK);
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, buf, 11, buf, sizeof buf, &len), EC_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, len);
}

/* A cipher text whose final decrypted block is last_block exactly. */
static size_t cipher_with_last_block(const key_iv *k, const uint8_t last_block[16],
                                     uint8_t cipher[32])
{
    uint8_t plain[32];
    memset(plain, 'A', 16);
    memcpy(plain + 16, last_block, 16);
    assert_int_equal(ec_aes128_cbc_encrypt_raw(k->key, k->iv, plain, 32, cipher, 32), EC_OK);
    return 32;
}

static void pkcs7_faults_each_have_a_name(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    static const struct {
        const char *why;
        const char *last_block_hex;
        ec_status want;
    } faults[] = {
        {"pad byte 0", "41414141414141414141414141414100", EC_E_PAD_ZERO},
        {"pad byte 17", "11111111111111111111111111111111", EC_E_PAD_RANGE},
        {"pad byte 255", "ffffffffffffffffffffffffffffffff", EC_E_PAD_RANGE},
        {"pad 2, other byte 3", "41414141414141414141414141410302", EC_E_PAD_BYTES},
        {"pad 16, first byte 15", "0f101010101010101010101010101010", EC_E_PAD_BYTES},
        {"pad 5, middle byte wrong", "41414141414141414141414105040505", EC_E_PAD_BYTES},
        {"good pad 1 (control)", "41414141414141414141414141414101", EC_OK},
        {"good pad 16 (control)", "10101010101010101010101010101010", EC_OK},
    };
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        uint8_t last[16], cipher[32], plain[32];
        unhex(faults[i].last_block_hex, last, sizeof last);
        size_t n = cipher_with_last_block(&k, last, cipher);
        size_t len = 99;
        ec_status got = ec_aes128_cbc_decrypt(k.key, k.iv, cipher, n, plain, sizeof plain, &len);
        if (got != faults[i].want)
            print_error("case \"%s\": got %s\n", faults[i].why, ec_status_name(got));
        assert_int_equal(got, faults[i].want);
        if (got != EC_OK) {
            assert_int_equal(len, 0);
        } else {
            assert_int_equal(len, 32 - last[15]);
        }
    }
}

static void cipher_length_faults(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t cipher[48] = {0}, plain[48];
    size_t len = 99;
    static const size_t bad_lengths[] = {0, 1, 15, 17, 31, 33, 47};
    for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
        assert_int_equal(ec_aes128_cbc_decrypt(k.key, k.iv, cipher, bad_lengths[i], plain,
                                               sizeof plain, &len), EC_E_CT_LENGTH);
        assert_int_equal(len, 0);
    }
    /* Empty cipher text, even with no buffer behind it. */
    assert_int_equal(ec_aes128_cbc_decrypt(k.key, k.iv, NULL, 0, plain, sizeof plain, &len),
                     EC_E_CT_LENGTH);
}

static void wrong_key_is_a_pad_fault_not_a_crash(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t cipher[80], plain[80];
    size_t cipher_len = 0, len = 0;
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, (const uint8_t *)"node=emontx", 11,
                                           cipher, sizeof cipher, &cipher_len), EC_OK);
    k.key[0] ^= 1;
    ec_status got = ec_aes128_cbc_decrypt(k.key, k.iv, cipher, cipher_len, plain, sizeof plain,
                                          &len);
    /* With this key and IV the garbage block does not end in a valid pad
     * (checked once; a random key would be valid with p ~ 1/256). */
    assert_true(got == EC_E_PAD_ZERO || got == EC_E_PAD_RANGE || got == EC_E_PAD_BYTES);
    assert_int_equal(len, 0);
}

static void padded_buffers_and_arguments(void **state)
{
    (void)state;
    key_iv k = nist_key_iv();
    uint8_t plain[16] = {0}, cipher[32];
    size_t len = 99;
    /* 16 bytes of plaintext need 32 bytes of room. */
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, plain, 16, cipher, 31, &len), EC_E_BUFFER);
    assert_int_equal(len, 0);
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, plain, 0, cipher, 15, &len), EC_E_BUFFER);
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, NULL, 0, cipher, 16, &len), EC_OK);
    assert_int_equal(len, 16);
    assert_int_equal(ec_aes128_cbc_decrypt(k.key, k.iv, cipher, 16, plain, 15, &len), EC_E_BUFFER);
    assert_int_equal(len, 0);

    assert_int_equal(ec_aes128_cbc_encrypt(NULL, k.iv, plain, 1, cipher, 32, &len), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, NULL, plain, 1, cipher, 32, &len), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, NULL, 1, cipher, 32, &len), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, plain, 1, NULL, 32, &len), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_encrypt(k.key, k.iv, plain, 1, cipher, 32, NULL), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_decrypt(NULL, k.iv, cipher, 16, plain, 16, &len), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_decrypt(k.key, NULL, cipher, 16, plain, 16, &len), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_decrypt(k.key, k.iv, NULL, 16, plain, 16, &len), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_decrypt(k.key, k.iv, cipher, 16, NULL, 16, &len), EC_E_ARG);
    assert_int_equal(ec_aes128_cbc_decrypt(k.key, k.iv, cipher, 16, plain, 16, NULL), EC_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nist_f21_encrypt_raw),
        cmocka_unit_test(nist_f22_decrypt_raw),
        cmocka_unit_test(raw_works_in_place),
        cmocka_unit_test(raw_rejects_partial_blocks_and_small_buffers),
        cmocka_unit_test(padded_encrypt_adds_a_full_block),
        cmocka_unit_test(pkcs7_padded_lengths),
        cmocka_unit_test(round_trip_every_length),
        cmocka_unit_test(padded_encrypt_in_place),
        cmocka_unit_test(pkcs7_faults_each_have_a_name),
        cmocka_unit_test(cipher_length_faults),
        cmocka_unit_test(wrong_key_is_a_pad_fault_not_a_crash),
        cmocka_unit_test(padded_buffers_and_arguments),
    };
    return cmocka_run_group_tests_name("codec/aes", tests, NULL, NULL);
}
