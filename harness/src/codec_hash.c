/* see codec.h — SHA-256, HMAC-SHA256, constant-time compare and the ack. */
#include "emoncrypt/codec.h"

#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* OpenSSL wants a real pointer even for zero bytes of input. */
static const uint8_t no_bytes[1];

/* see codec.h */
ec_status ec_sha256(const uint8_t *in, size_t n, uint8_t out[EC_SHA256_LEN])
{
    if (out == NULL || (in == NULL && n > 0))
        return EC_E_ARG;
    unsigned int digest_len = 0;
    if (EVP_Digest(n > 0 ? in : no_bytes, n, out, &digest_len, EVP_sha256(), NULL) != 1 ||
        digest_len != EC_SHA256_LEN)
        return EC_E_CRYPTO;
    return EC_OK;
}

/* see codec.h */
ec_status ec_hmac_sha256(const uint8_t *key, size_t key_len,
                         const uint8_t *in, size_t n,
                         uint8_t out[EC_SHA256_LEN])
{
    if (out == NULL || (key == NULL && key_len > 0) || (in == NULL && n > 0))
        return EC_E_ARG;
    if (key_len > INT_MAX)
        return EC_E_ARG;   /* HMAC() takes the key length as an int */
    unsigned int mac_len = 0;
    if (HMAC(EVP_sha256(), key_len > 0 ? key : no_bytes, (int)key_len,
             n > 0 ? in : no_bytes, n, out, &mac_len) == NULL ||
        mac_len != EC_SHA256_LEN)
        return EC_E_CRYPTO;
    return EC_OK;
}

/* see codec.h */
ec_status ec_hmac_sha256_hex(const uint8_t *key, size_t key_len,
                             const uint8_t *in, size_t n,
                             char out[EC_HMAC_HEX_LEN + 1])
{
    if (out == NULL)
        return EC_E_ARG;
    uint8_t mac[EC_SHA256_LEN];
    ec_status status = ec_hmac_sha256(key, key_len, in, n, mac);
    if (status == EC_OK)
        status = ec_hex_encode(mac, sizeof mac, out, EC_HMAC_HEX_LEN + 1);
    ec_wipe(mac, sizeof mac);
    if (status != EC_OK)
        out[0] = '\0';
    return status;
}

/* see codec.h */
int ec_ct_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if ((a == NULL && a_len > 0) || (b == NULL && b_len > 0))
        return 0;
    if (a_len == 0 && b_len == 0)
        return 1;
    volatile int differs;
    if (a_len != b_len) {
        /* Spend the same time as an equal-length compare of a would, so
         * that only a_len (the caller's own value) shows in the timing. */
        differs = a_len > 0 ? CRYPTO_memcmp(a, a, a_len) : 0;
        (void)differs;
        return 0;
    }
    differs = CRYPTO_memcmp(a, b, a_len);
    return differs == 0;
}

/* see codec.h */
ec_status ec_ack_of(const uint8_t *m, size_t n, char out[EC_ACK_LEN + 1])
{
    if (out == NULL)
        return EC_E_ARG;
    uint8_t digest[EC_SHA256_LEN];
    ec_status status = ec_sha256(m, n, digest);
    size_t ack_len = 0;
    if (status == EC_OK)
        status = ec_b64_encode(digest, sizeof digest, EC_B64_URL, 1, out,
                               EC_ACK_LEN + 1, &ack_len);
    if (status == EC_OK && ack_len != EC_ACK_LEN)
        status = EC_E_CRYPTO;
    if (status != EC_OK)
        out[0] = '\0';
    return status;
}
