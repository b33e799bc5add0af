/* emoncrypt port kit — shim over mbedTLS, as on ESP32 (ESP-IDF).
 *
 * Gives AES as single blocks (ESP-IDF's hardware AES is a block engine)
 * and HMAC through mbedtls_md_hmac, so the kit does the CBC chaining.
 * Random bytes come from CTR_DRBG seeded by mbedtls_entropy; on ESP-IDF
 * esp_fill_random() is the usual, simpler source.
 */
#include <mbedtls/aes.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "port_host.h"

const char port_host_backend[] = "mbedtls";

/* mbedTLS 3 dropped the _ret suffix of the 2.x hash functions. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define sha256_starts mbedtls_sha256_starts
#define sha256_update_ mbedtls_sha256_update
#define sha256_finish mbedtls_sha256_finish
#else
#define sha256_starts mbedtls_sha256_starts_ret
#define sha256_update_ mbedtls_sha256_update_ret
#define sha256_finish mbedtls_sha256_finish_ret
#endif

typedef struct {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_sha256_context stream;   /* the streaming verifier's hash */
} mbedtls_shim_state;

static int mbedtls_block(int mode, const uint8_t key[ECP_KEY_LEN],
                         uint8_t block[ECP_BLOCK_LEN])
{
    /* A key schedule per block keeps the shim stateless; a firmware shim
     * would keep the context while the key stays the same. */
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int rc = mode == MBEDTLS_AES_ENCRYPT ? mbedtls_aes_setkey_enc(&aes, key, 128)
                                         : mbedtls_aes_setkey_dec(&aes, key, 128);
    if (rc == 0)
        rc = mbedtls_aes_crypt_ecb(&aes, mode, block, block);
    mbedtls_aes_free(&aes);
    return rc == 0 ? 0 : -1;
}

static int mbedtls_encrypt_block(void *ctx, const uint8_t key[ECP_KEY_LEN],
                                 uint8_t block[ECP_BLOCK_LEN])
{
    (void)ctx;
    return mbedtls_block(MBEDTLS_AES_ENCRYPT, key, block);
}

static int mbedtls_decrypt_block(void *ctx, const uint8_t key[ECP_KEY_LEN],
                                 uint8_t block[ECP_BLOCK_LEN])
{
    (void)ctx;
    return mbedtls_block(MBEDTLS_AES_DECRYPT, key, block);
}

static int mbedtls_sha256_parts(void *ctx, const ecp_bytes *parts, size_t count,
                                uint8_t out[ECP_SHA256_LEN])
{
    (void)ctx;
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    int rc = sha256_starts(&sha, 0);
    for (size_t i = 0; rc == 0 && i < count; i++)
        rc = sha256_update_(&sha, parts[i].ptr, parts[i].len);
    if (rc == 0)
        rc = sha256_finish(&sha, out);
    mbedtls_sha256_free(&sha);
    return rc == 0 ? 0 : -1;
}

static int mbedtls_hmac(void *ctx, const uint8_t *key, size_t key_len,
                        const uint8_t *msg, size_t len,
                        uint8_t out[ECP_SHA256_LEN])
{
    (void)ctx;
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    return md != NULL && mbedtls_md_hmac(md, key, key_len, msg, len, out) == 0
        ? 0 : -1;
}

static int shim_stream_begin(void *ctx)
{
    mbedtls_shim_state *state = ctx;
    mbedtls_sha256_init(&state->stream);
    return sha256_starts(&state->stream, 0) == 0 ? 0 : -1;
}

static int shim_stream_update(void *ctx, const uint8_t *data, size_t n)
{
    mbedtls_shim_state *state = ctx;
    return sha256_update_(&state->stream, data, n) == 0 ? 0 : -1;
}

static int shim_stream_end(void *ctx, uint8_t out[ECP_SHA256_LEN])
{
    mbedtls_shim_state *state = ctx;
    int rc = sha256_finish(&state->stream, out);
    mbedtls_sha256_free(&state->stream);
    return rc == 0 ? 0 : -1;
}

static int mbedtls_random(void *ctx, uint8_t *out, size_t n)
{
    mbedtls_shim_state *state = ctx;
    return mbedtls_ctr_drbg_random(&state->drbg, out, n) == 0 ? 0 : -1;
}

static mbedtls_shim_state shim_state;

static ecp_shim mbedtls_shim = {
    .ctx = &shim_state,
    .aes128_encrypt_block = mbedtls_encrypt_block,
    .aes128_decrypt_block = mbedtls_decrypt_block,
    .sha256 = mbedtls_sha256_parts,
    .hmac_sha256 = mbedtls_hmac,
    .random = mbedtls_random,
    .sha256_begin = shim_stream_begin,
    .sha256_update = shim_stream_update,
    .sha256_end = shim_stream_end,
};

const ecp_shim *port_host_shim(void)
{
    static const unsigned char personalization[] = "emoncrypt-port";
    mbedtls_entropy_init(&shim_state.entropy);
    mbedtls_ctr_drbg_init(&shim_state.drbg);
    if (mbedtls_ctr_drbg_seed(&shim_state.drbg, mbedtls_entropy_func,
                              &shim_state.entropy, personalization,
                              sizeof personalization - 1) != 0)
        return NULL;
    return &mbedtls_shim;
}
