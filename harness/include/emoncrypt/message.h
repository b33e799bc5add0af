/* emoncrypt — protocol messages: build a request as a client does, verify it
 * as a server does, build and verify the ack.  One core for both roles: the
 * client role builds with ec_request_build, the server role answers with
 * ec_server_answer, the suites check one against the other.
 *
 * Memory: ec_request and ec_answer own heap buffers (body, answer,
 * plaintext); release them with their _free function.
 */
#ifndef EMONCRYPT_MESSAGE_H
#define EMONCRYPT_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/plaintext.h"
#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    EC_PROFILE_AES128CBC = 0,    /* Content-Type: aes128cbc */
    EC_PROFILE_AES128CBCGZ = 1,  /* Content-Type: aes128cbcgz, zlib plaintext */
    EC_PROFILE_LEGACY = 2        /* POST /input/encrypted, form body (2017) */
} ec_profile;

/* "aes128cbc", "aes128cbcgz", "legacy" */
const char *ec_profile_name(ec_profile p);
/* Returns -1 when unknown. */
int ec_profile_from_name(const char *name);

/* Client mistakes a request can be built with: each one a fault seen in
 * the wild (SPEC §7) or one `explain` tries.  Mutant clients and the
 * invalid vectors are built through these, never by separate code.
 * The stable names (in parentheses) are those of the vectors' `mistakes`
 * field; tools/gen_vectors.py implements the same definitions:
 *
 *  std-alphabet    body in the standard alphabet '+' '/' ('=' as usual)
 *  no-b64-padding  trailing '=' stripped (allowed by the protocol)
 *  hmac-upper      HMAC hex in uppercase
 *  hmac-over-ct    HMAC over the decoded body bytes (IV || ciphertext)
 *  hmac-plus-nul   HMAC over the wire plaintext plus one 0x00 byte
 *  hmac-hex-key    HMAC keyed with the 32 ASCII characters of the apikey
 *  zero-padding    (16 - n % 16) % 16 zero bytes instead of PKCS#7; an
 *                  empty plaintext becomes one block of 16 zero bytes
 *  no-full-pad     PKCS#7, except no pad block when n > 0 and n % 16 == 0
 *  iv-appended     body bytes are ciphertext || IV
 *  cbc-chain-bug   when n > 0 and n % 16 == 0, the final (all-0x10) block
 *                  is chained from the IV instead of the previous
 *                  ciphertext block: C_last = AES(K, P_last XOR IV)
 *  hex-key-as-key  AES key = the first 16 ASCII characters of the apikey
 *                  text (the HMAC key stays right)
 *  gzip-header     gz profile: the compressed bytes are gzip (RFC 1952):
 *                  1f 8b 08 00 00 00 00 00 00 ff, raw deflate (level 6,
 *                  windowBits 15), CRC-32 and ISIZE little-endian
 *
 * The ack is always base64url(SHA-256(wire plaintext)) with '=' kept,
 * where the wire plaintext is the bytes before padding (compressed for gz).
 * A legacy request is POST /input/encrypted with the form body
 * "username=U&data=B64" and no Authorization; like every body its '=' is
 * kept unless no-b64-padding is given (the 2017 example client gave it). */
typedef enum {
    EC_MISTAKE_NONE           = 0,
    EC_MISTAKE_STD_ALPHABET   = 1u << 0,
    EC_MISTAKE_NO_B64_PADDING = 1u << 1,
    EC_MISTAKE_HMAC_UPPER     = 1u << 2,
    EC_MISTAKE_HMAC_OVER_CT   = 1u << 3,
    EC_MISTAKE_HMAC_PLUS_NUL  = 1u << 4,
    EC_MISTAKE_HMAC_HEX_KEY   = 1u << 5,
    EC_MISTAKE_ZERO_PADDING   = 1u << 6,
    EC_MISTAKE_NO_FULL_PAD    = 1u << 7,
    EC_MISTAKE_IV_APPENDED    = 1u << 8,
    EC_MISTAKE_CBC_CHAIN_BUG  = 1u << 9,
    EC_MISTAKE_HEX_KEY_AS_KEY = 1u << 10,
    EC_MISTAKE_GZIP_HEADER    = 1u << 11
} ec_mistake;
#define EC_MISTAKE_COUNT 12

/* Stable name of one mistake bit ("hmac-plus-nul"), NULL for none/unknown. */
const char *ec_mistake_name(unsigned bit);
/* The bit of a stable name, 0 when unknown. */
unsigned ec_mistake_from_name(const char *name);
/* One sentence: "your HMAC is over the plaintext plus a trailing NUL byte". */
const char *ec_mistake_text(unsigned bit);

typedef enum { EC_ENDPOINT_POST = 0, EC_ENDPOINT_BULK = 1 } ec_endpoint;

typedef struct {
    ec_profile profile;
    ec_endpoint endpoint;         /* post or bulk (ignored for legacy) */
    const char *path_node;        /* /input/post/NODE, or NULL */
    uint8_t key[EC_KEY_LEN];
    const char *apikey_hex;       /* the 32 hex digits; only the hex-key
                                     mistakes need it (NULL otherwise) */
    const char *userid;           /* Authorization user id, e.g. "1" */
    const char *username;         /* legacy only (at most 64 bytes; sent
                                     percent-encoded outside A-Z a-z 0-9 -._~) */
    uint8_t iv[EC_IV_LEN];
    const uint8_t *plaintext;     /* the application plaintext (uncompressed) */
    size_t plaintext_len;
    unsigned mistakes;            /* OR of ec_mistake; 0 for a correct request */
} ec_request_params;

#define EC_PATH_MAX 256

typedef struct {
    char method[8];                 /* "POST" */
    char path[EC_PATH_MAX];         /* "/input/post", "/input/bulk", "/input/encrypted" */
    char content_type[48];          /* "aes128cbc", … */
    char authorization[160];        /* "1:hex…", "" for legacy */
    char *body;                     /* NUL-terminated; body_len excludes NUL */
    size_t body_len;
    char ack[EC_ACK_LEN + 1];       /* what a correct server answers */
    uint8_t *wire_plaintext;        /* the bytes encrypted, MAC'd and hashed
                                       (compressed for gz) */
    size_t wire_plaintext_len;
} ec_request;

void ec_request_init(ec_request *r);
void ec_request_free(ec_request *r);
ec_status ec_request_build(const ec_request_params *p, ec_request *out);

/* ---- the server side ---------------------------------------------------- */
/* (ec_answer_init/free and ec_server_answer are in libemoncrypt-harness,
 * emoncrypt::harness; the rest of this header is in libemoncrypt.) */

/* An HTTP request as the server sees it. NULL header = absent. */
typedef struct {
    const char *method;           /* "POST", "GET", … */
    const char *path;             /* without the query string */
    const char *query;            /* raw query string without '?', or NULL */
    const char *content_type;     /* Content-Type header value or NULL */
    const char *authorization;    /* Authorization header value or NULL */
    const uint8_t *body;
    size_t body_len;
} ec_http_request;

/* Looks up a user's 16-byte key by the user id text as sent (before any
 * integer cast; the callee applies its own rules) or by the legacy
 * username.  Returns 0 when found, -1 when unknown. */
typedef int (*ec_key_lookup_fn)(void *ctx, const char *userid,
                                const char *username,
                                uint8_t key[EC_KEY_LEN]);

typedef struct {
    ec_key_lookup_fn lookup;
    void *lookup_ctx;
    int strict;                 /* 0 = compat (answer as Emoncms), 1 = hardened */
    int64_t now;                /* server clock for the application step */
    size_t max_body;            /* 0 = unbounded; else 413 above it */
    size_t max_nodes;           /* 0 = unbounded; Emoncms uses 32 */
} ec_server_config;

typedef struct {
    ec_status fault;            /* EC_OK when accepted and acknowledged */
    ec_status detail;           /* precise inner cause (e.g. EC_E_PAD_BYTES
                                   under EC_F_INVALID_DATA); never sent */
    int http_status;            /* 200, 401, 404, 413 */
    char content_type[48];      /* of the answer */
    char www_authenticate[128]; /* for 401, else "" */
    char *answer;               /* exact answer body, NUL-terminated */
    size_t answer_len;
    ec_profile profile;
    ec_api api;
    char userid[64];            /* as sent */
    uint8_t iv[EC_IV_LEN];
    uint8_t *decrypted;         /* wire plaintext (compressed for gz) */
    size_t decrypted_len;
    uint8_t *plaintext;         /* application plaintext (inflated for gz) */
    size_t plaintext_len;
    char ack[EC_ACK_LEN + 1];   /* of decrypted, when decryption succeeded */
    ec_params params;           /* URL query merged with plaintext pairs */
    ec_dataset rows;            /* what Emoncms stores: on an application
                                   error, the rows of the items before the
                                   failing one (it stores row by row);
                                   empty on every earlier rejection */
} ec_answer;

void ec_answer_init(ec_answer *a);
void ec_answer_free(ec_answer *a);

/* Process one request exactly as SPEC §4/§6 orders the steps and answer it
 * with Emoncms's exact body (compat) or the hardened answer (strict).
 * Returns EC_OK when an answer was produced (accepted or not: see
 * a->fault), or EC_E_NOMEM / EC_E_ARG. */
ec_status ec_server_answer(const ec_server_config *cfg,
                           const ec_http_request *req, ec_answer *a);

/* ---- the client side: is this reply the ack of my request? ------------- */

typedef struct {
    int ok;                      /* 1 = the reply is exactly the ack */
    char expected[EC_ACK_LEN + 1];
    char actual[96];             /* start of the reply, printable-escaped */
    long first_diff;             /* byte offset of first difference, -1 if none */
    const char *why;             /* short reason when !ok */
} ec_ack_check;

/* Check a server reply against the request's ack.  With strict != 0 the
 * body must be exactly the 44 characters; otherwise (as IoTaWatt) it must
 * start with them.  http_status must be 200. */
void ec_ack_verify(const ec_request *r, int http_status, const char *body,
                   size_t body_len, int strict, ec_ack_check *out);

/* Syntactic check of an ack string: 44 chars, URL alphabet, ends in '='. */
int ec_ack_well_formed(const char *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif
