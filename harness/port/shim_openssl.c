/* emoncrypt port kit — shim over OpenSSL 3 libcrypto (EVP).
 *
 * Gives whole CBC and HMAC, so the kit uses neither its own chaining nor
 * its own HMAC: this is the reference the other shims are held to.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "port_host.h"

const char port_host_backend[] = "openssl";

/* AES-128-CBC without padding, in place (EVP allows in == out). */
static int openssl_cbc(int encrypt, const uint8_t key[ECP_KEY_LEN],
                       const uint8_t iv[ECP_IV_LEN], uint8_t *data, size_t len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int out_len = 0, final_len = 0, ok;
    if (ctx == NULL || len > (size_t)0x7fffffff)
        ok = 0;
    else
        ok = EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv, encrypt) == 1
          && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1
          && EVP_CipherUpdate(ctx, data, &out_len, data, (int)len) == 1
          && EVP_CipherFinal_ex(ctx, data + out_len, &final_len) == 1
          && (size_t)(out_len + final_len) == len;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static int openssl_cbc_encrypt(void *ctx, const uint8_t key[ECP_KEY_LEN],
                               const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                               size_t len)
{
    (void)ctx;
    return openssl_cbc(1, key, iv, data, len);
}

static int openssl_cbc_decrypt(void *ctx, const uint8_t key[ECP_KEY_LEN],
                               const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                               size_t len)
{
    (void)ctx;
    return openssl_cbc(0, key, iv, data, len);
}

static int openssl_sha256(void *ctx, const ecp_bytes *parts, size_t count,
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

static int openssl_hmac_sha256(void *ctx, const uint8_t *key, size_t key_len,
                               const uint8_t *msg, size_t len,
                               uint8_t out[ECP_SHA256_LEN])
{
    (void)ctx;
    static const uint8_t empty[1] = {0};
    unsigned out_len = 0;
    if (key_len > (size_t)0x7fffffff)
        return -1;
    /* HMAC() wants a non-NULL data pointer even for zero bytes. */
    return HMAC(EVP_sha256(), key, (int)key_len, len > 0 ? msg : empty, len,
                out, &out_len) != NULL && out_len == ECP_SHA256_LEN ? 0 : -1;
}

/* The incremental hash of the streaming verifier: one open at a time. */
static EVP_MD_CTX *stream_md;

static int openssl_sha256_begin(void *ctx)
{
    (void)ctx;
    if (stream_md == NULL && (stream_md = EVP_MD_CTX_new()) == NULL)
        return -1;
    return EVP_DigestInit_ex(stream_md, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static int openssl_sha256_update(void *ctx, const uint8_t *data, size_t n)
{
    (void)ctx;
    return EVP_DigestUpdate(stream_md, data, n) == 1 ? 0 : -1;
}

static int openssl_sha256_end(void *ctx, uint8_t out[ECP_SHA256_LEN])
{
    (void)ctx;
    return EVP_DigestFinal_ex(stream_md, out, NULL) == 1 ? 0 : -1;
}

static int openssl_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    return n <= (size_t)0x7fffffff && RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

static const ecp_shim openssl_shim = {
    .ctx = NULL,
    .aes128_cbc_encrypt = openssl_cbc_encrypt,
    .aes128_cbc_decrypt = openssl_cbc_decrypt,
    .sha256 = openssl_sha256,
    .hmac_sha256 = openssl_hmac_sha256,
    .random = openssl_random,
    .sha256_begin = openssl_sha256_begin,
    .sha256_update = openssl_sha256_update,
    .sha256_end = openssl_sha256_end,
};

const ecp_shim *port_host_shim(void)
{
    return &openssl_shim;
}
