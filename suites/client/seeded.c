/* see sender.h — the seeded random source of test-client --seed: the
 * AES-128-CTR keystream (libcrypto's EVP) of a key and counter taken from
 * SHA-256 of "emoncrypt test-client seed N".  The same bytes in the same
 * order on every run with that seed: for reproducible runs only, never for
 * a device (whose IVs must not repeat across runs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "client/sender.h"
#include "emoncrypt/codec.h"

struct ec_seeded_random {
    EVP_CIPHER_CTX *ctx;
};

/* see sender.h */
ec_seeded_random *ec_seeded_random_new(unsigned long long seed)
{
    char text[64];
    int n = snprintf(text, sizeof text, "emoncrypt test-client seed %llu", seed);
    uint8_t digest[EC_SHA256_LEN];
    if (ec_sha256((const uint8_t *)text, (size_t)n, digest) != EC_OK)
        return NULL;
    ec_seeded_random *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->ctx = EVP_CIPHER_CTX_new();
    if (r->ctx == NULL ||
        EVP_EncryptInit_ex(r->ctx, EVP_aes_128_ctr(), NULL, digest, digest + 16) != 1) {
        ec_seeded_random_free(r);
        r = NULL;
    }
    ec_wipe(digest, sizeof digest);
    return r;
}

/* see sender.h */
void ec_seeded_random_bytes(void *rng, uint8_t *out, size_t n)
{
    ec_seeded_random *r = rng;
    static const uint8_t zeros[256];
    while (n > 0) {
        int slice = n < sizeof zeros ? (int)n : (int)sizeof zeros, got = 0;
        if (EVP_EncryptUpdate(r->ctx, out, &got, zeros, slice) != 1 || got != slice) {
            /* libcrypto failed: never hand out predictable zeros silently */
            abort();
        }
        out += slice;
        n -= (size_t)slice;
    }
}

/* see sender.h */
void ec_seeded_random_free(ec_seeded_random *r)
{
    if (r == NULL)
        return;
    EVP_CIPHER_CTX_free(r->ctx);
    free(r);
}
