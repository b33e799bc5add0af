/* emoncrypt — codec: base64, AES-128-CBC, HMAC-SHA256, SHA-256, hex, zlib.
 *
 * Every function writes into buffers the caller owns and never allocates
 * (zlib's own internal state aside).  Functions return EC_OK or an
 * ec_status from status.h; on error the output length is left at 0.
 * Lengths are in bytes; text outputs are NUL-terminated, so a text buffer
 * needs one byte more than the returned length.
 */
#ifndef EMONCRYPT_CODEC_H
#define EMONCRYPT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EC_KEY_LEN    16   /* AES-128 key = HMAC key = hex2bin(write apikey) */
#define EC_IV_LEN     16
#define EC_BLOCK_LEN  16
#define EC_SHA256_LEN 32
#define EC_HMAC_HEX_LEN 64
#define EC_ACK_LEN    44   /* base64url(SHA-256) with '=' kept */

/* ---- hex ---------------------------------------------------------------- */

/* Lowercase hex of n bytes into out (needs 2n+1 bytes). */
ec_status ec_hex_encode(const uint8_t *in, size_t n, char *out, size_t out_cap);
/* Uppercase variant (used by mutants and explain). */
ec_status ec_hex_encode_upper(const uint8_t *in, size_t n, char *out, size_t out_cap);
/* Decode hex text (either case) of length n (must be even); *out_len = n/2. */
ec_status ec_hex_decode(const char *in, size_t n, uint8_t *out, size_t out_cap, size_t *out_len);
/* Parse a write API key: exactly 32 hex digits (either case) -> 16 bytes.
 * EC_E_KEY otherwise. */
ec_status ec_key_from_hex(const char *hex, uint8_t key[EC_KEY_LEN]);

/* ---- base64 ------------------------------------------------------------- */

typedef enum {
    EC_B64_URL = 0,   /* RFC 4648 §5: '-' for 62, '_' for 63 (the protocol's) */
    EC_B64_STD = 1    /* RFC 4648 §4: '+' and '/' */
} ec_b64_alphabet;

/* Length of the encoding of n bytes, without the terminating NUL. */
size_t ec_b64_encoded_len(size_t n, int with_padding);
/* Upper bound of the decoded length of n characters. */
size_t ec_b64_decoded_max(size_t n);

/* Encode; with_padding != 0 keeps '=' (the protocol's ack always does). */
ec_status ec_b64_encode(const uint8_t *in, size_t n, ec_b64_alphabet alpha,
                        int with_padding, char *out, size_t out_cap,
                        size_t *out_len);

/* Where and why the strict decoder stopped. */
typedef struct {
    ec_status status;   /* EC_OK, one of EC_E_B64_*, or the EC_E_ARG /
                           EC_E_BUFFER the call returned (offset 0, ch -1) */
    size_t offset;      /* byte offset of the first fault in the input */
    int ch;             /* the byte at offset (0..255), -1 at end of input */
} ec_b64_fault;

/* Strict base64 decoder: exactly the given alphabet, no whitespace, '='
 * padding optional but when present it must complete the last quantum
 * (total length a multiple of 4) and nothing may follow it; a 4n+1 length
 * is EC_E_B64_LENGTH; non-zero unused bits are EC_E_B64_BITS; empty input is
 * EC_E_B64_EMPTY.  fault may be NULL. */
ec_status ec_b64_decode_strict(const char *in, size_t n, ec_b64_alphabet alpha,
                               uint8_t *out, size_t out_cap, size_t *out_len,
                               ec_b64_fault *fault);

/* Emoncms-compatible decoder: exactly PHP 8's
 *   base64_decode(str_replace(['-','_'], ['+','/'], $in))   (non-strict)
 * i.e. both alphabets accepted, '=' anywhere ignored, every byte outside
 * the alphabet (whitespace, NUL, non-ASCII) skipped, a trailing single
 * character's 6 bits dropped.  Never fails except EC_E_BUFFER / EC_E_ARG. */
ec_status ec_b64_decode_compat(const char *in, size_t n, uint8_t *out,
                               size_t out_cap, size_t *out_len);

/* ---- AES-128-CBC -------------------------------------------------------- */

/* Length of PKCS#7-padded n bytes (always adds 1..16). */
size_t ec_pkcs7_padded_len(size_t n);

/* Encrypt with PKCS#7 padding.  out needs ec_pkcs7_padded_len(n) bytes. */
ec_status ec_aes128_cbc_encrypt(const uint8_t key[EC_KEY_LEN],
                                const uint8_t iv[EC_IV_LEN],
                                const uint8_t *pt, size_t n, uint8_t *out,
                                size_t out_cap, size_t *out_len);

/* Decrypt and remove PKCS#7 padding.  Reports exactly which fault:
 * EC_E_CT_LENGTH (n == 0 or not a multiple of 16), EC_E_PAD_ZERO,
 * EC_E_PAD_RANGE, EC_E_PAD_BYTES.  The distinction is for diagnostics;
 * the server role must collapse them into one answer.  out needs n bytes. */
ec_status ec_aes128_cbc_decrypt(const uint8_t key[EC_KEY_LEN],
                                const uint8_t iv[EC_IV_LEN],
                                const uint8_t *ct, size_t n, uint8_t *out,
                                size_t out_cap, size_t *out_len);

/* No padding either way (n must be a multiple of 16).  Used to build
 * deliberately broken messages and by `explain` to look at raw pad bytes. */
ec_status ec_aes128_cbc_encrypt_raw(const uint8_t key[EC_KEY_LEN],
                                    const uint8_t iv[EC_IV_LEN],
                                    const uint8_t *pt, size_t n, uint8_t *out,
                                    size_t out_cap);
ec_status ec_aes128_cbc_decrypt_raw(const uint8_t key[EC_KEY_LEN],
                                    const uint8_t iv[EC_IV_LEN],
                                    const uint8_t *ct, size_t n, uint8_t *out,
                                    size_t out_cap);

/* ---- hashes ------------------------------------------------------------- */

ec_status ec_sha256(const uint8_t *in, size_t n, uint8_t out[EC_SHA256_LEN]);
/* HMAC-SHA256.  Each thread keeps keyed contexts for the last 8 keys it
 * used (a key's ipad/opad are hashed once, not per call); they are freed
 * and the keys wiped when the thread ends. */
ec_status ec_hmac_sha256(const uint8_t *key, size_t key_len,
                         const uint8_t *in, size_t n,
                         uint8_t out[EC_SHA256_LEN]);
/* Drop the calling thread's kept HMAC keys now (wiped), e.g. before a
 * long-lived thread stops handling a user's secrets. */
void ec_hmac_forget(void);
/* HMAC-SHA256 as 64 lowercase hex digits + NUL (out needs 65 bytes). */
ec_status ec_hmac_sha256_hex(const uint8_t *key, size_t key_len,
                             const uint8_t *in, size_t n,
                             char out[EC_HMAC_HEX_LEN + 1]);
/* Constant-time equality of two byte strings; lengths may differ (then 0
 * is returned after a comparison whose time depends only on a_len).
 * Returns 1 when equal. */
int ec_ct_equal(const void *a, size_t a_len, const void *b, size_t b_len);

/* The protocol ack of bytes m: base64url(SHA-256(m)) with '=' kept,
 * 44 characters + NUL. */
ec_status ec_ack_of(const uint8_t *m, size_t n, char out[EC_ACK_LEN + 1]);

/* ---- zlib (RFC 1950, PHP gzcompress / gzuncompress) --------------------- */

/* Upper bound for ec_zlib_compress output. */
size_t ec_zlib_bound(size_t n);
/* Compress at zlib's default level (6) with compress2(): the bytes equal
 * Python's zlib.compress(data, 6).  PHP gzcompress (also level 6, but
 * memLevel 9) gives the same bytes for inputs below about 10 KB, which
 * covers every protocol plaintext; above that the two may differ in bytes,
 * never in what they inflate to. */
ec_status ec_zlib_compress(const uint8_t *in, size_t n, uint8_t *out,
                           size_t out_cap, size_t *out_len);
/* Inflate a complete zlib stream; EC_E_ZLIB when it is not one (also when
 * bytes follow the end of the stream), EC_E_BUFFER when out is too small.
 * Stricter than PHP: gzuncompress (so Emoncms) ignores bytes after the end
 * of the stream; a compat-profile server must accept what this refuses. */
ec_status ec_zlib_uncompress(const uint8_t *in, size_t n, uint8_t *out,
                             size_t out_cap, size_t *out_len);

/* ---- randomness --------------------------------------------------------- */

/* n bytes from the OS CSPRNG (OpenSSL RAND_bytes). */
ec_status ec_random(uint8_t *out, size_t n);

/* A reproducible byte stream for seeded runs (test-server and test-client
 * --seed): the AES-128-CTR keystream (libcrypto) of key from the initial
 * counter block iv, the same bytes in the same order whatever the slices
 * they are drawn in.  For recording and replaying test runs only: a
 * device's IVs must never come from it (they would repeat across runs). */
typedef struct ec_keystream ec_keystream;

/* NULL when libcrypto cannot set it up (or out of memory). */
ec_keystream *ec_keystream_new(const uint8_t key[16], const uint8_t iv[16]);

/* The next n bytes of the stream into out; EC_E_CRYPTO if libcrypto
 * fails (out is zeroed then, and must not be used). */
ec_status ec_keystream_bytes(ec_keystream *ks, uint8_t *out, size_t n);

void ec_keystream_free(ec_keystream *ks);

/* Overwrite n bytes in a way the compiler cannot remove. */
void ec_wipe(void *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
