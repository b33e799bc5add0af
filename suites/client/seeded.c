/* see sender.h — the seeded random source of test-client --seed: the
 * AES-128-CTR keystream (libcrypto's EVP) of a key and counter taken from
 * SHA-256 of "emoncrypt test-client seed N".  The same bytes in the same
 * order on every run with that seed: for reproducible runs only, never for
 * a device (whose IVs must not repeat across runs). */
#include <stdio.h>
#include <stdlib.h>

#include "client/sender.h"
#include "emoncrypt/codec.h"

/* see sender.h */
ec_seeded_random *ec_seeded_random_new(unsigned long long seed)
{
    char text[64];
    int n = snprintf(text, sizeof text, "emoncrypt test-client seed %llu", seed);
    uint8_t digest[EC_SHA256_LEN];
    if (ec_sha256((const uint8_t *)text, (size_t)n, digest) != EC_OK)
        return NULL;
    ec_keystream *ks = ec_keystream_new(digest, digest + 16);
    ec_wipe(digest, sizeof digest);
    return (ec_seeded_random *)ks;
}

/* see sender.h */
void ec_seeded_random_bytes(void *rng, uint8_t *out, size_t n)
{
    /* libcrypto failed: never hand out predictable zeros silently */
    if (ec_keystream_bytes(rng, out, n) != EC_OK)
        abort();
}

/* see sender.h */
void ec_seeded_random_free(ec_seeded_random *r)
{
    ec_keystream_free((ec_keystream *)r);
}
