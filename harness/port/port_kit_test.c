/* emoncrypt port kit — checks of the kit's own pieces that the vector run
 * does not reach: exact buffer sizes (run it under EMONCRYPT_SANITIZE to
 * catch a byte written past them), base64url edge cases (RFC 4648 §10),
 * key parsing, and the verifier's answer for each malformed request.
 * Linked with the OpenSSL shim; ctest port/kit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port_host.h"

static int failures;

#define CHECK(cond, ...) do { \
        if (!(cond)) { \
            failures++; \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__); \
            printf("\n"); \
        } \
    } while (0)

/* Build into heap buffers of exactly ecp_body_cap / ECP_AUTH_CAP bytes, so
 * a sanitizer sees any write past them; one byte less must be refused. */
static void exact_buffers(const ecp_shim *shim)
{
    static const uint8_t key[ECP_KEY_LEN] = {0x01, 0x23, 0x45, 0x67};
    for (size_t n = 0; n <= 100; n++) {
        uint8_t *wire = malloc(n + 1);
        size_t cap = ecp_body_cap(n);
        char *body = malloc(cap);
        char *auth = malloc(ECP_AUTH_CAP(1));
        uint8_t *out = malloc(cap);
        size_t body_len = 0, out_len = 0;
        memset(wire, 'a' + (int)(n % 26), n);
        ecp_status st = ecp_request_build(shim, key, "1", wire, n, body, cap,
                                          &body_len, auth, ECP_AUTH_CAP(1));
        CHECK(st == ECP_OK, "n=%zu build: %s", n, ecp_status_name(st));
        CHECK(body_len + 1 == cap && strlen(body) == body_len,
              "n=%zu body_len %zu cap %zu", n, body_len, cap);
        size_t raw_len = ECP_IV_LEN + (n / 16 + 1) * 16;
        CHECK(body_len > 0 && (body[body_len - 1] == '=') == (raw_len % 3 != 0),
              "n=%zu: '=' padding kept exactly when needed", n);
        st = ecp_request_verify(shim, key, auth, body, body_len, out, body_len, &out_len);
        CHECK(st == ECP_OK && out_len == n && memcmp(out, wire, n) == 0,
              "n=%zu round trip: %s", n, ecp_status_name(st));
        st = ecp_request_build(shim, key, "1", wire, n, body, cap - 1, &body_len,
                               auth, ECP_AUTH_CAP(1));
        CHECK(st == ECP_E_BUFFER && body_len == 0, "n=%zu short body buffer: %s", n,
              ecp_status_name(st));
        st = ecp_request_build(shim, key, "1", wire, n, body, cap, &body_len,
                               auth, ECP_AUTH_CAP(1) - 1);
        CHECK(st == ECP_E_BUFFER, "n=%zu short auth buffer: %s", n, ecp_status_name(st));
        free(wire);
        free(body);
        free(auth);
        free(out);
    }
}

static void base64url(void)
{
    /* RFC 4648 §10 */
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char text[16];
        uint8_t bytes[16];
        size_t len = 99;
        size_t n = strlen(plain[i]);
        ecp_status st = ecp_b64url_encode((const uint8_t *)plain[i], n, text,
                                          sizeof text, &len);
        CHECK(st == ECP_OK && len == strlen(coded[i]) && strcmp(text, coded[i]) == 0,
              "encode \"%s\" gave \"%s\"", plain[i], text);
        if (n == 0)
            continue;   /* an empty body is not a request */
        st = ecp_b64url_decode(coded[i], strlen(coded[i]), bytes, sizeof bytes, &len);
        CHECK(st == ECP_OK && len == n && memcmp(bytes, plain[i], n) == 0,
              "decode \"%s\": %s", coded[i], ecp_status_name(st));
    }
    /* The URL alphabet: 0xfb 0xff encodes to "-_8=". */
    static const uint8_t high[] = {0xfb, 0xff};
    char text[8];
    size_t len = 0;
    ecp_b64url_encode(high, 2, text, sizeof text, &len);
    CHECK(strcmp(text, "-_8=") == 0, "URL alphabet: got %s", text);

    static const struct { const char *text; ecp_status want; } decode_cases[] = {
        {"Zg", ECP_OK},          /* '=' is optional */
        {"Zm8", ECP_OK},
        {"Zg=", ECP_E_B64},      /* padding that does not complete the quantum */
        {"Zg===", ECP_E_B64},
        {"Z", ECP_E_B64},        /* 4n+1 */
        {"Zh==", ECP_E_B64},     /* non-zero unused bits */
        {"Zm9v=", ECP_E_B64},
        {"Zm=9", ECP_E_B64},     /* '=' inside */
        {"Zm+v", ECP_E_B64},     /* standard alphabet */
        {"Zm9v\n", ECP_E_B64},   /* whitespace */
        {"", ECP_E_B64},
    };
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
        uint8_t bytes[8];
        ecp_status st = ecp_b64url_decode(decode_cases[i].text, strlen(decode_cases[i].text),
                                          bytes, sizeof bytes, &len);
        CHECK(st == decode_cases[i].want, "decode \"%s\": %s, want %s",
              decode_cases[i].text, ecp_status_name(st),
              ecp_status_name(decode_cases[i].want));
    }
    /* Decoding in place (the verifier's documented guarantee). */
    char inplace[] = "Zm9vYmFy";
    ecp_status st = ecp_b64url_decode(inplace, 8, (uint8_t *)inplace, 8, &len);
    CHECK(st == ECP_OK && len == 6 && memcmp(inplace, "foobar", 6) == 0,
          "in-place decode: %s", ecp_status_name(st));
}

static void keys(void)
{
    uint8_t key[ECP_KEY_LEN];
    CHECK(ecp_key_from_hex("0123456789abcdef0123456789ABCDEF", key) == ECP_OK
          && key[0] == 0x01 && key[15] == 0xef, "32 hex digits, mixed case");
    CHECK(ecp_key_from_hex("0123456789abcdef0123456789abcde", key) == ECP_E_KEY, "31 digits");
    CHECK(ecp_key_from_hex("0123456789abcdef0123456789abcdef0", key) == ECP_E_KEY, "33 digits");
    CHECK(ecp_key_from_hex("0123456789abcdef0123456789abcdeg", key) == ECP_E_KEY, "not hex");
}

/* The SPEC §8 reference request, broken one way at a time: each must be
 * refused with the status that names the fault. */
static void verifier(const ecp_shim *shim)
{
    static const char body[] =
        "AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKklq17Ll"
        "DVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc";
    static const char auth[] =
        "1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662";
    static const char auth_upper[] =
        "1:B34E30A93AB8F8DDDED42C3D5EAA66915AEC0CFC931E9FC23FBD60567B9F2662";
    uint8_t key[ECP_KEY_LEN], out[128];
    size_t len = 0;
    ecp_key_from_hex("0123456789abcdef0123456789abcdef", key);

    ecp_status st = ecp_request_verify(shim, key, auth, body, strlen(body), out, sizeof out, &len);
    CHECK(st == ECP_OK && len == 48
          && memcmp(out, "node=emontx&fulljson={\"power1\":100,\"power2\":200}", 48) == 0,
          "SPEC 8 reference: %s", ecp_status_name(st));
    st = ecp_request_verify(shim, key, NULL, body, strlen(body), out, sizeof out, &len);
    CHECK(st == ECP_E_AUTH_MISSING, "no Authorization: %s", ecp_status_name(st));
    st = ecp_request_verify(shim, key, "1:2:ab", body, strlen(body), out, sizeof out, &len);
    CHECK(st == ECP_E_AUTH_FORMAT, "two colons: %s", ecp_status_name(st));
    st = ecp_request_verify(shim, key, "b34e30a9", body, strlen(body), out, sizeof out, &len);
    CHECK(st == ECP_E_AUTH_FORMAT, "no colon: %s", ecp_status_name(st));
    st = ecp_request_verify(shim, key, auth_upper, body, strlen(body), out, sizeof out, &len);
    CHECK(st == ECP_E_HMAC, "uppercase HMAC: %s", ecp_status_name(st));
    st = ecp_request_verify(shim, key, auth, "", 0, out, sizeof out, &len);
    CHECK(st == ECP_E_BODY_EMPTY, "empty body: %s", ecp_status_name(st));
    st = ecp_request_verify(shim, key, auth, body, 40, out, sizeof out, &len);
    CHECK(st == ECP_E_CT_LENGTH, "30 bytes decoded (not IV + n*16): %s", ecp_status_name(st));
    /* 64 characters = IV + 2 blocks: the last byte is now the plaintext's
     * '1' (0x31), not a PKCS#7 length. */
    st = ecp_request_verify(shim, key, auth, body, 64, out, sizeof out, &len);
    CHECK(st == ECP_E_PADDING, "truncated to 2 blocks: %s", ecp_status_name(st));
    uint8_t wrong_key[ECP_KEY_LEN];
    memcpy(wrong_key, key, sizeof wrong_key);
    wrong_key[0] ^= 1;
    st = ecp_request_verify(shim, wrong_key, auth, body, strlen(body), out, sizeof out, &len);
    CHECK(st == ECP_E_PADDING || st == ECP_E_HMAC, "wrong key: %s", ecp_status_name(st));
    CHECK(len == 0, "a rejected request leaves out_len 0");
}

/* The streamed builder and verifier: the streamed body is the whole-buffer
 * body; a body fed one character at a time and in 7s verifies back; a
 * refusing sink stops them with ECP_E_BUFFER; a fault is sticky. */
typedef struct {
    char text[512];
    size_t len;
    size_t refuse_after;    /* refuse once this many bytes came */
} sink_buffer;

static int sink_collect(void *ctx, const uint8_t *data, size_t n)
{
    sink_buffer *b = ctx;
    if (b->len + n > b->refuse_after || b->len + n > sizeof b->text)
        return -1;
    memcpy(b->text + b->len, data, n);
    b->len += n;
    return 0;
}

static void streaming(const ecp_shim *shim)
{
    static const uint8_t key[ECP_KEY_LEN] = {0x01, 0x23, 0x45, 0x67};
    static const uint8_t iv[ECP_IV_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    uint8_t wire[100];
    for (size_t n = 0; n < sizeof wire; n++) {
        memset(wire, 'a' + (int)(n % 26), n);
        char body[256], auth[ECP_AUTH_CAP(1)], auth2[ECP_AUTH_CAP(1)];
        size_t body_len = 0;
        ecp_status st = ecp_request_build_iv(shim, key, "1", iv, wire, n, body,
                                             sizeof body, &body_len, auth, sizeof auth);
        sink_buffer out = {{0}, 0, (size_t)-1};
        ecp_status st2 = ecp_request_stream(shim, key, "1", iv, wire, n, auth2,
                                            sizeof auth2, sink_collect, &out);
        CHECK(st == ECP_OK && st2 == ECP_OK && out.len == body_len
              && out.len + 1 == ecp_body_cap(n) && memcmp(out.text, body, body_len) == 0
              && strcmp(auth, auth2) == 0, "n=%zu streamed body = built body", n);
        for (size_t piece = 1; piece <= 7; piece += 6) {
            ecp_verify_stream vs;
            sink_buffer plain = {{0}, 0, (size_t)-1};
            st = ecp_verify_begin(&vs, shim, key, auth, sink_collect, &plain);
            for (size_t off = 0; st == ECP_OK && off < body_len; off += piece)
                st = ecp_verify_update(&vs, body + off,
                                       body_len - off < piece ? body_len - off : piece);
            size_t plain_len = 99;
            st = ecp_verify_end(&vs, &plain_len);
            CHECK(st == ECP_OK && plain_len == n && plain.len == n
                  && memcmp(plain.text, wire, n) == 0,
                  "n=%zu verified in pieces of %zu: %s", n, piece, ecp_status_name(st));
        }
        /* Refusing sinks. */
        sink_buffer small = {{0}, 0, 10};
        st = ecp_request_stream(shim, key, "1", iv, wire, n, auth2, sizeof auth2,
                                sink_collect, &small);
        CHECK(st == ECP_E_BUFFER && auth2[0] == '\0', "n=%zu body sink refuses: %s", n,
              ecp_status_name(st));
        if (n > 16) {
            ecp_verify_stream vs;
            sink_buffer plain = {{0}, 0, 3};
            size_t plain_len = 99;
            st = ecp_verify_begin(&vs, shim, key, auth, sink_collect, &plain);
            if (st == ECP_OK)
                st = ecp_verify_update(&vs, body, body_len);
            ecp_status end = ecp_verify_end(&vs, &plain_len);
            CHECK(st == ECP_E_BUFFER && end == ECP_E_BUFFER && plain_len == 0,
                  "n=%zu plaintext sink refuses: %s / %s", n, ecp_status_name(st),
                  ecp_status_name(end));
        }
    }
    /* A fault stays: after '=' in the middle nothing more is taken. */
    ecp_verify_stream vs;
    ecp_status st = ecp_verify_begin(&vs, shim, key, "1:00", NULL, NULL);
    CHECK(st == ECP_OK, "begin with a short HMAC: %s", ecp_status_name(st));
    st = ecp_verify_update(&vs, "AA=A", 4);
    CHECK(st == ECP_E_B64, "'=' inside: %s", ecp_status_name(st));
    st = ecp_verify_update(&vs, "AAAA", 4);
    CHECK(st == ECP_E_B64, "sticky: %s", ecp_status_name(st));
    size_t len = 0;
    CHECK(ecp_verify_end(&vs, &len) == ECP_E_B64, "end reports the first fault");
    /* A shim without the incremental hash cannot verify. */
    ecp_shim no_stream = *shim;
    no_stream.sha256_update = NULL;
    CHECK(ecp_verify_begin(&vs, &no_stream, key, "1:00", NULL, NULL) == ECP_E_SHIM_MISSING,
          "verify without sha256_update");
}

static int count_failure(void *ctx, const ecp_failure *f)
{
    const char **first = ctx;
    if (*first == NULL)
        *first = f->tc_id;
    return 0;
}

/* A shim without SHA-256 cannot run: the self-test says so through the
 * callback instead of calling through a NULL pointer. */
static void incomplete_shim(const ecp_shim *shim)
{
    ecp_shim no_sha = *shim;
    no_sha.sha256 = NULL;
    ecp_port port = {&no_sha, NULL, NULL};
    static uint8_t work[256];
    const char *first = NULL;
    ecp_selftest_result r;
    ecp_status st = ecp_selftest(&port, work, sizeof work, count_failure, &first, &r);
    CHECK(st == ECP_E_SHIM_MISSING && r.failed == 1 && first != NULL
          && strcmp(first, "kit/shim") == 0, "incomplete shim: %s", ecp_status_name(st));
    ecp_shim no_stream = *shim;
    no_stream.sha256_end = NULL;
    port.shim = &no_stream;
    first = NULL;
    st = ecp_selftest(&port, work, sizeof work, count_failure, &first, &r);
    CHECK(st == ECP_E_SHIM_MISSING && r.failed == 1 && first != NULL
          && strcmp(first, "kit/shim") == 0, "shim without sha256_end: %s",
          ecp_status_name(st));
}

/* ecp_selftest_cases: one case callback per case, after its failures,
 * and the counts add up to the run's; a run stopped by on_failure reports
 * no case after the stop. */
typedef struct {
    unsigned by_verdict[3];
    unsigned failures_seen;     /* on_failure calls so far */
    unsigned bad_order;         /* FAIL cases with no failure before them */
    unsigned checks_mismatch;   /* failed_checks != failures since the last case */
    unsigned since_last;
    const char *first_id;
} case_count;

static int count_case_failure(void *ctx, const ecp_failure *f)
{
    case_count *cc = ctx;
    (void)f;
    cc->failures_seen++;
    cc->since_last++;
    return 0;
}

static int stop_at_first(void *ctx, const ecp_failure *f)
{
    count_case_failure(ctx, f);
    return 1;
}

static void count_case(void *ctx, const ecp_case *c)
{
    case_count *cc = ctx;
    cc->by_verdict[c->verdict]++;
    if (cc->first_id == NULL)
        cc->first_id = c->tc_id;
    if (c->verdict == ECP_CASE_FAIL && cc->since_last == 0)
        cc->bad_order++;
    if (c->failed_checks != cc->since_last)
        cc->checks_mismatch++;
    if ((c->verdict == ECP_CASE_SKIP) != (c->skip_reason != NULL))
        cc->checks_mismatch++;
    cc->since_last = 0;
}

static int broken_sha256(void *ctx, const ecp_bytes *parts, size_t count, uint8_t out[32])
{
    (void)ctx;
    (void)parts;
    (void)count;
    memset(out, 0, 32);
    return 0;
}

static void case_callbacks(const ecp_shim *shim)
{
    static uint8_t work[2048];
    ecp_port port = {shim, NULL, NULL};
    ecp_selftest_result r;
    case_count cc;
    memset(&cc, 0, sizeof cc);
    ecp_status st = ecp_selftest_cases(&port, work, sizeof work, count_case_failure, &cc,
                                       count_case, &cc, &r);
    unsigned total = cc.by_verdict[0] + cc.by_verdict[1] + cc.by_verdict[2];
    CHECK(st == ECP_OK && cc.by_verdict[ECP_CASE_FAIL] == 0 && total > 300
          && total == r.kat_run + r.valid_run + r.invalid_run + r.strict_reject_run
                      + r.skipped + r.too_large
          && cc.by_verdict[ECP_CASE_SKIP] == r.skipped + r.too_large
          && cc.first_id != NULL && strcmp(cc.first_id, "kat/sha256-abc") == 0,
          "cases: %u (%u pass, %u skip) for %u kat/kit, %u valid, %u invalid, %u strict, "
          "%u skipped, %u too large", total, cc.by_verdict[0], cc.by_verdict[2], r.kat_run,
          r.valid_run, r.invalid_run, r.strict_reject_run, r.skipped, r.too_large);

    /* A broken SHA-256: every case that fails says so after its failures,
     * with their number. */
    ecp_shim broken = *shim;
    broken.sha256 = broken_sha256;
    port.shim = &broken;
    memset(&cc, 0, sizeof cc);
    ecp_selftest_cases(&port, work, sizeof work, count_case_failure, &cc, count_case, &cc, &r);
    CHECK(cc.by_verdict[ECP_CASE_FAIL] > 0 && cc.bad_order == 0 && cc.checks_mismatch == 0
          && cc.failures_seen == r.failed,
          "broken sha256: %u FAIL cases, %u without a failure, %u miscounted",
          cc.by_verdict[ECP_CASE_FAIL], cc.bad_order, cc.checks_mismatch);

    /* Stopped at the first failure: that case is the last reported. */
    memset(&cc, 0, sizeof cc);
    ecp_selftest_cases(&port, work, sizeof work, stop_at_first, &cc, count_case, &cc, &r);
    CHECK(cc.failures_seen == 1 && cc.by_verdict[ECP_CASE_FAIL] == 1
          && cc.by_verdict[ECP_CASE_PASS] + cc.by_verdict[ECP_CASE_SKIP] == 0
          && cc.first_id != NULL && strcmp(cc.first_id, "kat/sha256-abc") == 0,
          "stopped run: %u failures, %u cases after the stop", cc.failures_seen,
          cc.by_verdict[ECP_CASE_PASS] + cc.by_verdict[ECP_CASE_SKIP]);

    /* An incomplete shim: one case, kit/shim, FAIL. */
    ecp_shim no_sha = *shim;
    no_sha.sha256_begin = NULL;
    port.shim = &no_sha;
    memset(&cc, 0, sizeof cc);
    ecp_selftest_cases(&port, work, sizeof work, NULL, NULL, count_case, &cc, &r);
    CHECK(cc.by_verdict[ECP_CASE_FAIL] == 1 && cc.by_verdict[0] + cc.by_verdict[2] == 0
          && cc.first_id != NULL && strcmp(cc.first_id, "kit/shim") == 0,
          "incomplete shim: one case kit/shim FAIL");
}

/* ecp_iv_reused: a repeated IV is reported, distinct ones are not, the
 * ring holds exactly its last cap IVs (heap slots of exactly cap: a
 * sanitizer sees a write past them), bad arguments are refused. */
static void iv_ring(const ecp_shim *shim)
{
    uint8_t one[1][ECP_IV_LEN], a[ECP_IV_LEN], b[ECP_IV_LEN];
    ecp_iv_ring ring;
    memset(a, 0x11, sizeof a);
    memcpy(b, a, sizeof b);
    b[7] ^= 0x80;
    CHECK(ecp_iv_ring_init(NULL, one, 1) == ECP_E_ARG, "NULL ring");
    CHECK(ecp_iv_ring_init(&ring, NULL, 1) == ECP_E_ARG, "NULL slots");
    CHECK(ecp_iv_ring_init(&ring, one, 0) == ECP_E_ARG, "no slots");
    CHECK(ecp_iv_reused(NULL, a) == -1, "NULL ring: -1");
    CHECK(ecp_iv_ring_init(&ring, one, 1) == ECP_OK, "one slot");
    CHECK(ecp_iv_reused(&ring, NULL) == -1, "NULL iv: -1");
    CHECK(ecp_iv_reused(&ring, a) == 0, "first IV: fresh");
    CHECK(ecp_iv_reused(&ring, a) == 1, "the same IV again: reused");
    CHECK(ecp_iv_reused(&ring, a) == 1, "and again");
    CHECK(ecp_iv_reused(&ring, b) == 0, "one bit apart: fresh");
    CHECK(ecp_iv_reused(&ring, a) == 0, "one slot: a is forgotten once b is in");

    enum { CAP = 8, DRAWS = 200 };
    uint8_t (*slots)[ECP_IV_LEN] = malloc(CAP * ECP_IV_LEN);
    static uint8_t drawn[DRAWS][ECP_IV_LEN];
    CHECK(ecp_iv_ring_init(&ring, slots, CAP) == ECP_OK, "ring of %d", CAP);
    int reused = 0;
    for (int i = 0; i < DRAWS; i++) {
        CHECK(shim->random(shim->ctx, drawn[i], ECP_IV_LEN) == 0, "draw %d", i);
        reused += ecp_iv_reused(&ring, drawn[i]) != 0;
    }
    CHECK(reused == 0, "%d of %d fresh random IVs reported as reused", reused, DRAWS);
    for (int i = DRAWS - CAP; i < DRAWS; i++)
        CHECK(ecp_iv_reused(&ring, drawn[i]) == 1, "one of the last %d IVs (%d) again: reused", CAP, i);
    CHECK(ecp_iv_reused(&ring, drawn[DRAWS - CAP - 1]) == 0,
          "the IV before the last %d: forgotten, so fresh", CAP);
    CHECK(ecp_iv_reused(&ring, drawn[DRAWS - CAP - 1]) == 1, "... and now recorded");
    free(slots);
}

int main(void)
{
    const ecp_shim *shim = port_host_shim();
    if (shim == NULL) {
        printf("FAIL the shim could not be set up\n");
        return 1;
    }
    exact_buffers(shim);
    base64url();
    keys();
    verifier(shim);
    streaming(shim);
    incomplete_shim(shim);
    case_callbacks(shim);
    iv_ring(shim);
    printf("port kit: %d failed checks\n", failures);
    return failures == 0 ? 0 : 1;
}
