/* see codec.h — the CSPRNG and memory wiping. */
#include "emoncrypt/codec.h"

#include <limits.h>

#include <openssl/crypto.h>
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

/* see codec.h */
void ec_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        OPENSSL_cleanse(p, n);
}
