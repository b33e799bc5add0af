/* see codec.h — the CSPRNG and memory wiping. */
#include "emoncrypt/codec.h"

#include <limits.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* see codec.h */
ec_status ec_random(uint8_t *out, size_t n)
{
    if (out == NULL && n > 0)
        return EC_E_ARG;
    /* RAND_bytes takes an int count; larger requests go in slices. */
    for (size_t done = 0; done < n;) {
        size_t slice = n - done < (size_t)INT_MAX ? n - done : (size_t)INT_MAX;
        if (RAND_bytes(out + done, (int)slice) != 1) {
            OPENSSL_cleanse(out, done);
            return EC_E_CRYPTO;
        }
        done += slice;
    }
    return EC_OK;
}

struct ec_keystream {
    EVP_CIPHER_CTX *ctx;
};

/* see codec.h */
ec_keystream *ec_keystream_new(const uint8_t key[16], const uint8_t iv[16])
{
    ec_keystream *ks = calloc(1, sizeof *ks);
    if (ks == NULL)
        return NULL;
    ks->ctx = EVP_CIPHER_CTX_new();
    if (ks->ctx == NULL || EVP_EncryptInit_ex(ks->ctx, EVP_aes_128_ctr(), NULL, key, iv) != 1) {
        ec_keystream_free(ks);
        return NULL;
    }
    return ks;
}

/* see codec.h */
ec_status ec_keystream_bytes(ec_keystream *ks, uint8_t *out, size_t n)
{
    if (ks == NULL || (out == NULL && n > 0))
        return EC_E_ARG;
    /* The keystream is the encryption of zeros: encrypt out in place. */
    memset(out, 0, n);
    for (size_t done = 0; done < n;) {
        int slice = n - done > 4096 ? 4096 : (int)(n - done), got = 0;
        if (EVP_EncryptUpdate(ks->ctx, out + done, &got, out + done, slice) != 1 || got != slice) {
            OPENSSL_cleanse(out, n);
            return EC_E_CRYPTO;
        }
        done += (size_t)slice;
    }
    return EC_OK;
}

/* see codec.h */
void ec_keystream_free(ec_keystream *ks)
{
    if (ks == NULL)
        return;
    EVP_CIPHER_CTX_free(ks->ctx);
    free(ks);
}

/* see codec.h */
void ec_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        OPENSSL_cleanse(p, n);
}
