/* emoncrypt port kit — a deliberately broken shim: the CBC chaining bug a
 * real ESP8266 client once shipped (SPEC §7, mistake `cbc-chain-bug`).
 *
 * Encryption chains the last block from the IV instead of from the
 * previous ciphertext block when that block is a whole PKCS#7 pad block
 * (sixteen 0x10 bytes, i.e. the plaintext length is a multiple of 16).
 * Everything else is right, so the self-test must pass the primitive
 * known answers and every other vector, and fail exactly on the first
 * valid vector whose plaintext is 16, 32, ... bytes long.
 * Blocks come from OpenSSL's AES-128-ECB; SHA-256 from OpenSSL.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "port_host.h"

const char port_host_backend[] = "mutant-cbc";

static int ecb_block(int encrypt, const uint8_t key[ECP_KEY_LEN],
                     uint8_t block[ECP_BLOCK_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int out_len = 0;
    int ok = ctx != NULL
          && EVP_CipherInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL, encrypt) == 1
          && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1
          && EVP_CipherUpdate(ctx, block, &out_len, block, ECP_BLOCK_LEN) == 1
          && out_len == ECP_BLOCK_LEN;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static int is_full_pad_block(const uint8_t *block)
{
    for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
        if (block[i] != ECP_BLOCK_LEN)
            return 0;
    return 1;
}

static int mutant_cbc_encrypt(void *ctx, const uint8_t key[ECP_KEY_LEN],
                              const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                              size_t len)
{
    (void)ctx;
    const uint8_t *chain = iv;
    for (size_t off = 0; off < len; off += ECP_BLOCK_LEN) {
        uint8_t *block = data + off;
        /* THE BUG: the final pad block restarts the chain from the IV. */
        const uint8_t *from = off + ECP_BLOCK_LEN == len && off > 0
                              && is_full_pad_block(block) ? iv : chain;
        for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
            block[i] ^= from[i];
        if (ecb_block(1, key, block) != 0)
            return -1;
        chain = block;
    }
    return 0;
}

static int mutant_cbc_decrypt(void *ctx, const uint8_t key[ECP_KEY_LEN],
                              const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                              size_t len)
{
    (void)ctx;
    uint8_t chain[ECP_BLOCK_LEN], saved[ECP_BLOCK_LEN];
    for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
        chain[i] = iv[i];
    for (size_t off = 0; off < len; off += ECP_BLOCK_LEN) {
        uint8_t *block = data + off;
        for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
            saved[i] = block[i];
        if (ecb_block(0, key, block) != 0)
            return -1;
        for (size_t i = 0; i < ECP_BLOCK_LEN; i++) {
            block[i] ^= chain[i];
            chain[i] = saved[i];
        }
    }
    return 0;
}

static int mutant_sha256(void *ctx, const ecp_bytes *parts, size_t count,
                         uint8_t out[ECP_SHA256_LEN])
{
    (void)ctx;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < count; i++)
        ok = EVP_DigestUpdate(md, parts[i].ptr, parts[i].len) == 1;
    ok = ok && EVP_DigestFinal_ex(md, out, NULL) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

static int mutant_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    return n <= (size_t)0x7fffffff && RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

static const ecp_shim mutant_shim = {
    .ctx = NULL,
    .aes128_cbc_encrypt = mutant_cbc_encrypt,
    .aes128_cbc_decrypt = mutant_cbc_decrypt,
    .sha256 = mutant_sha256,
    .hmac_sha256 = NULL,
    .random = mutant_random,
};

const ecp_shim *port_host_shim(void)
{
    return &mutant_shim;
}
