/* emoncrypt port kit — build and check Emoncms encrypted input requests on a
 * device, and self-test a port against the reference vectors before it ever
 * talks to a server.
 *
 * Freestanding C99: no malloc, no stdio, no string.h, no crypto library.
 * The firmware supplies the primitives through an ecp_shim (AES-128 as
 * single blocks or as whole CBC, SHA-256, optionally HMAC-SHA256, and a
 * random source); the kit does the rest: PKCS#7, CBC over blocks when only
 * blocks are given, HMAC from SHA-256 when no HMAC is given, base64url, the
 * Authorization header, the ack.  See harness/port/README.md.
 *
 * Every buffer is the caller's.  Functions return ECP_OK or an ecp_status;
 * on error the output lengths are 0.  Text outputs are NUL-terminated.
 *
 * The protocol (SPEC §2, §3):
 *   body          = base64url(IV || AES-128-CBC(key, IV, PKCS7(wire)))  with '='
 *   Authorization = USERID ":" lowercase hex HMAC-SHA256(key, wire)
 *   ack           = base64url(SHA-256(wire)) with '=' (44 characters)
 * where key = hex2bin(write API key) and wire = the plaintext as sent
 * (the zlib bytes for Content-Type aes128cbcgz: compress before the kit).
 */
#ifndef EMONCRYPT_PORT_H
#define EMONCRYPT_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ECP_KEY_LEN     16
#define ECP_IV_LEN      16
#define ECP_BLOCK_LEN   16
#define ECP_SHA256_LEN  32
#define ECP_HMAC_HEX_LEN 64
#define ECP_ACK_LEN     44

/* One table of every status the kit returns: X(code, name). */
#define ECP_STATUS_LIST(X) \
    X(ECP_OK,            "ok") \
    X(ECP_E_ARG,         "bad-argument") \
    X(ECP_E_BUFFER,      "buffer-too-small") \
    X(ECP_E_SHIM,        "shim-failed") \
    X(ECP_E_SHIM_MISSING,"shim-incomplete") \
    X(ECP_E_KEY,         "bad-key") \
    X(ECP_E_AUTH_MISSING,"auth-missing") \
    X(ECP_E_AUTH_FORMAT, "auth-format") \
    X(ECP_E_BODY_EMPTY,  "body-empty") \
    X(ECP_E_B64,         "bad-base64") \
    X(ECP_E_CT_LENGTH,   "ct-length") \
    X(ECP_E_PADDING,     "bad-padding") \
    X(ECP_E_HMAC,        "hmac-mismatch") \
    X(ECP_E_ACK,         "ack-mismatch") \
    X(ECP_E_SELFTEST,    "differs-from-vector")

typedef enum {
#define ECP_STATUS_ENUM_(code, name) code,
    ECP_STATUS_LIST(ECP_STATUS_ENUM_)
#undef ECP_STATUS_ENUM_
    ECP_STATUS_COUNT_
} ecp_status;

/* Stable name of a status ("hmac-mismatch"); "unknown" when out of range. */
const char *ecp_status_name(ecp_status s);

/* One piece of a message to hash; the shim hashes the concatenation. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} ecp_bytes;

/* The port's primitives.  Each function returns 0 on success, anything
 * else on failure (the kit then returns ECP_E_SHIM).  ctx is passed back
 * untouched.  A shim gives the AES blocks OR the CBC pair (both is fine:
 * CBC wins), SHA-256 always (the ack needs it), HMAC when it has one.
 * The kit calls AES with the same key for every block of a message, so a
 * block shim may cache its key schedule. */
typedef struct {
    void *ctx;
    /* AES-128 of one 16-byte block, in place. */
    int (*aes128_encrypt_block)(void *ctx, const uint8_t key[ECP_KEY_LEN],
                                uint8_t block[ECP_BLOCK_LEN]);
    int (*aes128_decrypt_block)(void *ctx, const uint8_t key[ECP_KEY_LEN],
                                uint8_t block[ECP_BLOCK_LEN]);
    /* AES-128-CBC without padding over len bytes (a multiple of 16), in
     * place; iv is not modified. */
    int (*aes128_cbc_encrypt)(void *ctx, const uint8_t key[ECP_KEY_LEN],
                              const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                              size_t len);
    int (*aes128_cbc_decrypt)(void *ctx, const uint8_t key[ECP_KEY_LEN],
                              const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                              size_t len);
    /* SHA-256 of parts[0] || parts[1] || ... || parts[count-1]. Required. */
    int (*sha256)(void *ctx, const ecp_bytes *parts, size_t count,
                  uint8_t out[ECP_SHA256_LEN]);
    /* HMAC-SHA256; optional (NULL: the kit builds it from sha256). */
    int (*hmac_sha256)(void *ctx, const uint8_t *key, size_t key_len,
                       const uint8_t *msg, size_t len,
                       uint8_t out[ECP_SHA256_LEN]);
    /* n bytes from a CSPRNG: a fresh IV for every message.  Needed by
     * ecp_request_build; the self-test checks it. */
    int (*random)(void *ctx, uint8_t *out, size_t n);
    /* Incremental SHA-256: what lets the verifier stream (ecp_verify_*,
     * ecp_request_verify) without holding the plaintext.  One hash at a
     * time, its state kept by the shim (in ctx): begin starts it, update
     * adds n bytes (n may be 0), end writes the digest.  The kit never
     * opens a second one before ending the first; it may call sha256 and
     * the AES functions while one is open.  Required by the verifier; the
     * request builder and the ack need only sha256. */
    int (*sha256_begin)(void *ctx);
    int (*sha256_update)(void *ctx, const uint8_t *data, size_t n);
    int (*sha256_end)(void *ctx, uint8_t out[ECP_SHA256_LEN]);
} ecp_shim;

/* Where streamed output goes: n bytes at data, in order.  Return 0 to go
 * on; anything else stops the stream with ECP_E_BUFFER (no room). */
typedef int (*ecp_sink_fn)(void *ctx, const uint8_t *data, size_t n);

/* ---- primitives the kit builds on the shim ------------------------------ */

/* 32 hex digits (either case) -> 16 key bytes; ECP_E_KEY otherwise. */
ecp_status ecp_key_from_hex(const char *hex, uint8_t key[ECP_KEY_LEN]);

/* HMAC-SHA256(key, msg): the shim's own, or built from its sha256. */
ecp_status ecp_hmac_sha256(const ecp_shim *shim, const uint8_t *key,
                           size_t key_len, const uint8_t *msg, size_t len,
                           uint8_t out[ECP_SHA256_LEN]);

/* Length of base64 of n bytes with '=' padding, without the NUL. */
size_t ecp_b64_encoded_len(size_t n);

/* base64url of n bytes, '=' padding kept, into out (needs
 * ecp_b64_encoded_len(n) + 1 bytes).  in and out must not overlap. */
ecp_status ecp_b64url_encode(const uint8_t *in, size_t n, char *out,
                             size_t out_cap, size_t *out_len);

/* Strict base64url decoder: '-' '_' alphabet only, no whitespace, '='
 * optional but, when present, completing the last quantum; non-zero unused
 * bits rejected.  out may be the same buffer as in (decoding never
 * overtakes its input).  ECP_E_B64 on any fault. */
ecp_status ecp_b64url_decode(const char *in, size_t n, uint8_t *out,
                             size_t out_cap, size_t *out_len);

/* ---- the client side: request and ack ----------------------------------- */

/* Bytes the body buffer needs for a wire plaintext of n bytes (including
 * the NUL): base64 of IV + PKCS#7-padded ciphertext. */
size_t ecp_body_cap(size_t n);

/* Authorization buffer size for a user id of n characters (with NUL). */
#define ECP_AUTH_CAP(n) ((n) + 1 + ECP_HMAC_HEX_LEN + 1)

/* Build the request for wire plaintext `wire` with the given IV:
 * body (base64url, '=' kept) into body[body_cap] — body_cap at least
 * ecp_body_cap(wire_len); the work happens in place inside body, nothing
 * else is needed — and "USERID:hmachex" into auth[auth_cap].  userid is
 * a NUL-terminated string of 1..63 characters without ':'. */
ecp_status ecp_request_build_iv(const ecp_shim *shim,
                                const uint8_t key[ECP_KEY_LEN],
                                const char *userid,
                                const uint8_t iv[ECP_IV_LEN],
                                const uint8_t *wire, size_t wire_len,
                                char *body, size_t body_cap, size_t *body_len,
                                char *auth, size_t auth_cap);

/* The same request streamed, for a device without room for the body:
 * the Authorization goes into auth[auth_cap] first (send it as a header),
 * then the body text goes to body_sink in pieces of at most 24
 * characters, ecp_body_cap(wire_len) - 1 characters in all (the
 * Content-Length), no NUL.  No buffer: a few hundred bytes of stack (the
 * footprint table of harness/port/README.md has the measured peak).  wire is read twice (HMAC, then CBC): it must not change. */
ecp_status ecp_request_stream(const ecp_shim *shim,
                              const uint8_t key[ECP_KEY_LEN],
                              const char *userid,
                              const uint8_t iv[ECP_IV_LEN],
                              const uint8_t *wire, size_t wire_len,
                              char *auth, size_t auth_cap,
                              ecp_sink_fn body_sink, void *sink_ctx);

/* The same with a fresh IV from shim->random: what firmware calls for
 * every message, including every resend. */
ecp_status ecp_request_build(const ecp_shim *shim,
                             const uint8_t key[ECP_KEY_LEN],
                             const char *userid,
                             const uint8_t *wire, size_t wire_len,
                             char *body, size_t body_cap, size_t *body_len,
                             char *auth, size_t auth_cap);

/* The ack a correct server answers for `wire`: 44 characters + NUL. */
ecp_status ecp_ack_compute(const ecp_shim *shim, const uint8_t *wire,
                           size_t wire_len, char ack[ECP_ACK_LEN + 1]);

/* ECP_OK when the reply body is exactly the ack of `wire` (44 bytes, no
 * more); ECP_E_ACK otherwise — any other reply means NOT delivered: keep
 * the data and resend later with a fresh IV. */
ecp_status ecp_ack_check(const ecp_shim *shim, const uint8_t *wire,
                         size_t wire_len, const char *reply, size_t reply_len);

/* ---- IV reuse -------------------------------------------------------------- */

/* The IVs a device sent last, in a ring whose slots the caller provides
 * (no malloc).  Two messages under one key with the same IV show where
 * their plaintexts start alike; a random source that is stuck, or seeded
 * the same way at every boot, does this.  Keep the ring across messages
 * (in RAM that survives a resend; in flash across boots, if the device
 * can) and ask it before sending each new IV.  Members are private. */
typedef struct {
    uint8_t (*slots_)[ECP_IV_LEN];
    size_t cap_, count_, next_;
} ecp_iv_ring;

/* An empty ring over slots[0..cap): ECP_E_ARG when ring or slots is NULL
 * or cap is 0. */
ecp_status ecp_iv_ring_init(ecp_iv_ring *ring, uint8_t (*slots)[ECP_IV_LEN],
                            size_t cap);

/* 1 when iv is one of the last cap IVs recorded: reused, do not send it
 * (draw another).  0 when it is not: it is recorded, the oldest forgotten
 * once the ring is full.  -1 when ring (or its slots) or iv is NULL. */
int ecp_iv_reused(ecp_iv_ring *ring, const uint8_t iv[ECP_IV_LEN]);

/* ---- the server side: decode and verify a request ------------------------ */

/* Decode and authenticate a request as a strict server does: Authorization
 * must be "USERID:" + 64 lowercase hex digits with exactly one ':'
 * (authorization NULL = absent header), the body strict base64url of
 * IV || ciphertext (a non-zero multiple of 16), the PKCS#7 padding exact,
 * the HMAC equal (compared in constant time).  On success the wire
 * plaintext is in out[0..*out_len).  out needs body_len bytes; it may
 * not overlap body.  The userid is not looked up: the caller does that. */
ecp_status ecp_request_verify(const ecp_shim *shim,
                              const uint8_t key[ECP_KEY_LEN],
                              const char *authorization,
                              const char *body, size_t body_len,
                              uint8_t *out, size_t out_cap, size_t *out_len);

/* The verifier streamed: a request body that arrives in pieces (from the
 * socket, from flash) is checked as it comes — base64url, CBC and the
 * HMAC advance together; nothing but this struct (about 150 bytes) and
 * the shim's hash state is kept.  The plaintext goes to sink as it is
 * decrypted, the PKCS#7 block held back until the end: it is NOT
 * authenticated until ecp_verify_end returns ECP_OK (discard it
 * otherwise).  The same checks and statuses as ecp_request_verify, which
 * is this with one update.  Members are private. */
typedef struct {
    const ecp_shim *shim_;
    ecp_sink_fn sink_;
    void *sink_ctx_;
    uint8_t key_[ECP_KEY_LEN];
    uint8_t claimed_[ECP_SHA256_LEN];   /* the HMAC the header claims */
    uint8_t chain_[ECP_BLOCK_LEN];      /* IV, then the last ciphertext block */
    uint8_t block_[ECP_BLOCK_LEN];      /* decoded bytes being gathered */
    uint8_t held_[ECP_BLOCK_LEN];       /* last plaintext block (padding?) */
    uint32_t b64_acc_;
    unsigned b64_bits_, b64_pad_;
    size_t b64_chars_, raw_len_, plain_len_;
    int claimed_ok_, have_held_, hashing_;
    ecp_status status_;
} ecp_verify_stream;

/* Start: checks the Authorization (ECP_E_AUTH_MISSING / _FORMAT at once)
 * and opens the shim's incremental hash.  sink may be NULL (discard). */
ecp_status ecp_verify_begin(ecp_verify_stream *vs, const ecp_shim *shim,
                            const uint8_t key[ECP_KEY_LEN],
                            const char *authorization,
                            ecp_sink_fn sink, void *sink_ctx);

/* n more characters of the body (any split, n may be 0).  Returns the
 * first fault found so far (sticky), ECP_OK while none. */
ecp_status ecp_verify_update(ecp_verify_stream *vs, const char *body,
                             size_t n);

/* End of body: padding and HMAC.  ECP_OK and *plain_len when the whole
 * plaintext given to sink is authentic; always closes the hash. */
ecp_status ecp_verify_end(ecp_verify_stream *vs, size_t *plain_len);

/* ---- the self-test over the reference vectors --------------------------- */

/* A port may replace the kit's request builder or ack checker with its own
 * (firmware that already has one): the self-test then checks those.  NULL
 * members mean the kit's own ecp_request_build_iv / ecp_ack_check. */
typedef struct {
    const ecp_shim *shim;
    ecp_status (*build)(const ecp_shim *shim, const uint8_t key[ECP_KEY_LEN],
                        const char *userid, const uint8_t iv[ECP_IV_LEN],
                        const uint8_t *wire, size_t wire_len,
                        char *body, size_t body_cap, size_t *body_len,
                        char *auth, size_t auth_cap);
    ecp_status (*ack_check)(const ecp_shim *shim, const uint8_t *wire,
                            size_t wire_len, const char *reply,
                            size_t reply_len);
} ecp_port;

/* One failed check, handed to the callback.  The strings live only for
 * the duration of the call; expected/actual may be NULL when meaningless. */
typedef struct {
    const char *tc_id;       /* vector id ("post/spec8-reference") or a
                                kit check ("kat/sha256-abc") */
    const char *check;       /* "body", "authorization", "ack", "ack-check",
                                "verify-valid", "verify-invalid", ... */
    ecp_status status;       /* what the kit or the port returned;
                                ECP_E_SELFTEST when it returned ECP_OK but
                                the result differs from the vector */
    const char *expected;    /* expected text, may be NULL */
    const char *actual;      /* actual text, may be NULL */
    long first_diff;         /* first differing byte, -1 when not a diff */
} ecp_failure;

/* Return non-zero to stop the run at this failure. */
typedef int (*ecp_failure_fn)(void *ctx, const ecp_failure *f);

typedef struct {
    unsigned kat_run;        /* primitive known answers (NIST, RFC, FIPS) */
    unsigned valid_run;      /* valid vectors built and checked */
    unsigned invalid_run;    /* invalid vectors the verifier had to reject */
    unsigned strict_reject_run; /* acceptable vectors (Emoncms takes them)
                                that the strict verifier had to reject */
    unsigned skipped;        /* vectors outside the kit's scope */
    unsigned too_large;      /* vectors skipped: work[] too small for them */
    unsigned failed;         /* failed checks (vectors + kit checks) */
    const char *first_failed_id;   /* NULL when all passed */
    const char *first_failed_check;
} ecp_selftest_result;

/* Run every primitive known answer, every valid aes128cbc/aes128cbcgz
 * vector through port->build and port->ack_check (body, Authorization and
 * ack compared byte for byte, then decoded back through
 * ecp_request_verify), the invalid ones whose fault is a crypto or header
 * failure — and the acceptable ones a strict server rejects — through
 * ecp_request_verify (it must reject them), and a fresh-IV round trip
 * through shim->random.  work[work_cap] is scratch: a vector needs a
 * little over twice its body length (the shipped file's largest, a 1 MiB
 * garbage body, 2 MiB + 1; all others fit in 256 KiB); a vector that
 * does not fit is counted in too_large, not failed, so a small device
 * runs what it can.  Every failed check goes to on_failure (may be NULL).  Returns ECP_OK when nothing failed, else the status of the
 * first failure (ECP_E_ARG when port is incomplete). */
ecp_status ecp_selftest(const ecp_port *port, uint8_t *work, size_t work_cap,
                        ecp_failure_fn on_failure, void *failure_ctx,
                        ecp_selftest_result *result);

/* One case of the run and how it ended, handed to ecp_selftest_cases's
 * on_case after the case (a known answer, a vector, a kit check) is done:
 * after every on_failure call for it.  This is what a board prints one
 * machine-readable line per case from (port_main.c, README section 7). */
typedef enum {
    ECP_CASE_PASS = 0,
    ECP_CASE_FAIL,
    ECP_CASE_SKIP
} ecp_case_verdict;

typedef struct {
    const char *tc_id;       /* as in ecp_failure */
    const char *kind;        /* "kat" (primitive known answer), "kit" (the
                                kit's own: shim, random source), or the
                                vector's result: "valid", "invalid",
                                "acceptable" */
    ecp_case_verdict verdict;
    const char *skip_reason; /* SKIP: "out-of-scope", "too-large" (work[]
                                too small) or "not-run" (an earlier check
                                it needs failed); else NULL */
    unsigned failed_checks;  /* FAIL: how many of its checks failed */
} ecp_case;

typedef void (*ecp_case_fn)(void *ctx, const ecp_case *c);

/* ecp_selftest, and on_case (may be NULL) is called once per case, in
 * order.  ecp_selftest(...) is ecp_selftest_cases(..., NULL, NULL, ...). */
ecp_status ecp_selftest_cases(const ecp_port *port, uint8_t *work,
                              size_t work_cap, ecp_failure_fn on_failure,
                              void *failure_ctx, ecp_case_fn on_case,
                              void *case_ctx, ecp_selftest_result *result);

/* Where the report lines go: text[0..n) (not NUL-terminated), "\n" ends a
 * line.  On a board: the serial port (Serial.write); on the host: stdout. */
typedef void (*ecp_write_fn)(void *ctx, const char *text, size_t n);

/* The self-test, its outcome written through write as the lines
 * `emoncrypt port-report` reads (README section 7):
 *   ECP BEGIN 1 BACKEND BOARD
 *   ECP PASS ID KIND
 *   ECP FAIL ID KIND check=CHECK[,CHECK...] status=STATUS [diff=N] failed=N
 *   ECP SKIP ID KIND REASON
 *   ECP END total=N pass=N fail=N skip=N
 * backend and board are one word each (NULL: "unknown").  on_failure
 * (may be NULL) is called as by ecp_selftest, before its case's line, so
 * lines it prints for a human come first.  No buffer: a few dozen bytes
 * of stack beyond ecp_selftest's. */
ecp_status ecp_selftest_report(const ecp_port *port, uint8_t *work,
                               size_t work_cap, const char *backend,
                               const char *board, ecp_write_fn write,
                               void *write_ctx, ecp_failure_fn on_failure,
                               void *failure_ctx, ecp_selftest_result *result);

#ifdef __cplusplus
}
#endif
#endif
