/* emoncrypt — one table of every status the harness can report.
 *
 * Codec errors (EC_E_*), request faults found by a verifying server
 * (EC_F_*) and the precise inner causes behind a collapsed fault share one
 * enum, so that a verifier, `explain` and the reports all print the same
 * name and text for the same thing.  See SPEC.md §4 for the server steps.
 */
#ifndef EMONCRYPT_STATUS_H
#define EMONCRYPT_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(code, stable-name, human text) */
#define EC_STATUS_LIST(X) \
    X(EC_OK,              "ok",                "success") \
    /* generic */ \
    X(EC_E_ARG,           "bad-argument",      "an argument is invalid or missing") \
    X(EC_E_BUFFER,        "buffer-too-small",  "the caller's output buffer is too small") \
    X(EC_E_NOMEM,         "out-of-memory",     "memory allocation failed") \
    X(EC_E_IO,            "io",                "a file or socket could not be read or written") \
    X(EC_E_HEX,           "bad-hex",           "not an even-length string of hex digits") \
    X(EC_E_KEY,           "bad-key",           "the API key is not 32 hex digits") \
    X(EC_E_JSON,          "bad-json",          "malformed JSON") \
    X(EC_E_CRYPTO,        "crypto-library",    "the crypto library reported a failure") \
    /* base64 (strict decoder; the compat decoder never fails) */ \
    X(EC_E_B64_EMPTY,     "b64-empty",         "the base64 text is empty") \
    X(EC_E_B64_CHAR,      "b64-char",          "a character outside the base64url alphabet") \
    X(EC_E_B64_PAD,       "b64-padding",       "'=' padding in the wrong place or of the wrong length") \
    X(EC_E_B64_LENGTH,    "b64-length",        "the length leaves one dangling character (4n+1)") \
    X(EC_E_B64_BITS,      "b64-trailing-bits", "non-zero unused bits in the last character") \
    /* AES-CBC / PKCS#7 (diagnostics only: a server must collapse these) */ \
    X(EC_E_CT_SHORT,      "ct-short",          "decoded body shorter than IV plus one block") \
    X(EC_E_CT_LENGTH,     "ct-length",         "ciphertext length is not a multiple of 16") \
    X(EC_E_PAD_ZERO,      "pad-zero",          "last decrypted byte is 0, not a PKCS#7 length") \
    X(EC_E_PAD_RANGE,     "pad-range",         "last decrypted byte is greater than 16") \
    X(EC_E_PAD_BYTES,     "pad-bytes",         "PKCS#7 pad bytes are not all equal to the pad length") \
    X(EC_E_HMAC,          "hmac-mismatch",     "the HMAC in Authorization does not match the decrypted bytes") \
    X(EC_E_ZLIB,          "zlib",              "not a valid zlib (RFC 1950) stream") \
    /* request faults, in the order a server checks them (SPEC §4, §6) */ \
    X(EC_F_ROUTE,         "route",             "not an encrypted input route") \
    X(EC_F_NOT_ENCRYPTED, "not-encrypted",     "Content-Type is not exactly aes128cbc or aes128cbcgz") \
    X(EC_F_AUTH_MISSING,  "auth-missing",      "no Authorization header") \
    X(EC_F_AUTH_FORMAT,   "auth-format",       "Authorization is not userid:hmac (exactly one colon)") \
    X(EC_F_USER_UNKNOWN,  "user-unknown",      "no such user id or username") \
    X(EC_F_BODY_EMPTY,    "body-empty",        "no content in the request body") \
    X(EC_F_INVALID_DATA,  "invalid-data",      "base64, decryption or HMAC failed") \
    X(EC_F_APP,           "app-error",         "the decrypted plaintext was rejected by the application") \
    X(EC_F_LEGACY_PARAMS, "legacy-params",     "legacy form lacks username or data") \
    X(EC_F_LEGACY_DATA,   "legacy-data",       "legacy data did not decrypt to JSON") \
    X(EC_F_TOO_LARGE,     "too-large",         "the request body is larger than the server accepts") \
    X(EC_F_REPLAY,        "replay",            "the same request was accepted before (strict)") \
    X(EC_F_METHOD,        "method",            "the HTTP method is not POST (strict)") \
    X(EC_F_STRICT_B64,    "strict-base64",     "the body is not canonical base64url (strict)") \
    X(EC_F_STRICT_USERID, "strict-userid",     "the user id is not a plain decimal number (strict)")

typedef enum {
#define EC_STATUS_ENUM_(code, name, text) code,
    EC_STATUS_LIST(EC_STATUS_ENUM_)
#undef EC_STATUS_ENUM_
    EC_STATUS_COUNT_
} ec_status;

/* Stable kebab-case name ("pad-bytes"); "unknown" for out-of-range codes. */
const char *ec_status_name(ec_status s);
/* One-line human description. */
const char *ec_status_text(ec_status s);
/* Reverse of ec_status_name; returns -1 when the name is unknown. */
int ec_status_from_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
