/* emoncrypt port kit — shim over BearSSL, as on ESP8266 Arduino.
 *
 * Gives whole CBC (br_aes_ct_cbcenc/cbcdec, constant-time AES) and only
 * SHA-256: the kit builds HMAC on top, which is all a port needs when its
 * BearSSL build leaves br_hmac out.  Random bytes: HMAC_DRBG seeded by the
 * system seeder; on the ESP8266 Arduino core, the hardware RNG.
 */
#include <bearssl.h>

#include "port_host.h"

const char port_host_backend[] = "bearssl";

static int bearssl_cbc_encrypt(void *ctx, const uint8_t key[ECP_KEY_LEN],
                               const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                               size_t len)
{
    (void)ctx;
    br_aes_ct_cbcenc_keys keys;
    uint8_t chain[ECP_IV_LEN];
    /* BearSSL updates the IV it is given to chain the next call. */
    for (size_t i = 0; i < ECP_IV_LEN; i++)
        chain[i] = iv[i];
    br_aes_ct_cbcenc_init(&keys, key, ECP_KEY_LEN);
    br_aes_ct_cbcenc_run(&keys, chain, data, len);
    return 0;
}

static int bearssl_cbc_decrypt(void *ctx, const uint8_t key[ECP_KEY_LEN],
                               const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                               size_t len)
{
    (void)ctx;
    br_aes_ct_cbcdec_keys keys;
    uint8_t chain[ECP_IV_LEN];
    for (size_t i = 0; i < ECP_IV_LEN; i++)
        chain[i] = iv[i];
    br_aes_ct_cbcdec_init(&keys, key, ECP_KEY_LEN);
    br_aes_ct_cbcdec_run(&keys, chain, data, len);
    return 0;
}

static int bearssl_sha256(void *ctx, const ecp_bytes *parts, size_t count,
                          uint8_t out[ECP_SHA256_LEN])
{
    (void)ctx;
    br_sha256_context sha;
    br_sha256_init(&sha);
    for (size_t i = 0; i < count; i++)
        br_sha256_update(&sha, parts[i].ptr, parts[i].len);
    br_sha256_out(&sha, out);
    return 0;
}

/* The incremental hash of the streaming verifier: one open at a time. */
static br_sha256_context stream_sha;

static int bearssl_sha256_begin(void *ctx)
{
    (void)ctx;
    br_sha256_init(&stream_sha);
    return 0;
}

static int bearssl_sha256_update(void *ctx, const uint8_t *data, size_t n)
{
    (void)ctx;
    br_sha256_update(&stream_sha, data, n);
    return 0;
}

static int bearssl_sha256_end(void *ctx, uint8_t out[ECP_SHA256_LEN])
{
    (void)ctx;
    br_sha256_out(&stream_sha, out);
    return 0;
}

static br_hmac_drbg_context drbg;

static int bearssl_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    br_hmac_drbg_generate(&drbg, out, n);
    return 0;
}

static const ecp_shim bearssl_shim = {
    .ctx = NULL,
    .aes128_cbc_encrypt = bearssl_cbc_encrypt,
    .aes128_cbc_decrypt = bearssl_cbc_decrypt,
    .sha256 = bearssl_sha256,
    .hmac_sha256 = NULL,            /* the kit builds HMAC from sha256 */
    .random = bearssl_random,
    .sha256_begin = bearssl_sha256_begin,
    .sha256_update = bearssl_sha256_update,
    .sha256_end = bearssl_sha256_end,
};

const ecp_shim *port_host_shim(void)
{
    br_prng_seeder seeder = br_prng_seeder_system(NULL);
    if (seeder == 0)
        return NULL;
    br_hmac_drbg_init(&drbg, &br_sha256_vtable, NULL, 0);
    if (!seeder(&drbg.vtable))
        return NULL;
    return &bearssl_shim;
}
