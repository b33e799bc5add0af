/* Differential test against PHP itself.
 *
 * "Emoncms-compatible" means: what PHP's base64_decode, openssl_decrypt,
 * hash_hmac + hash_equals and explode do on the server.  Reading their
 * documentation is not proof; this test generates thousands of inputs
 * (mutations of real protocol messages), runs each through the harness's
 * compat functions and through the real engine (php-cli, tests/php/oracle.php),
 * and fails on the first difference, printing the input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/plaintext.h"

#define CASES_PER_OP 2000
#define MAX_INPUT 4096

/* xorshift64*: a fixed seed makes every run test the same inputs. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}
static uint32_t rnd_below(uint32_t n) { return n ? rnd() % n : 0; }
static void rnd_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

static void put_hex(FILE *f, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        fputc(digits[p[i] >> 4], f);
        fputc(digits[p[i] & 15], f);
    }
}

static void hex_string(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* One generated case: its op line for PHP and the C harness's answer. */
typedef struct {
    char *line;       /* what PHP is given (without '\n') */
    char *c_answer;   /* what the harness says, in the oracle's notation */
} diff_case;

typedef struct {
    diff_case *items;
    size_t n;
} diff_batch;

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

/* Render bytes as the oracle's 'H<hex>' answer. */
static char *answer_hex(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 2);
    assert_non_null(s);
    s[0] = 'H';
    hex_string(p, n, s + 1);
    return s;
}

static char *line_of(const char *op, const uint8_t *const *args,
                     const size_t *lens, size_t nargs)
{
    char *buf = NULL;
    size_t sz = 0;
    FILE *f = open_memstream(&buf, &sz);
    assert_non_null(f);
    fputs(op, f);
    for (size_t i = 0; i < nargs; i++) {
        fputc(' ', f);
        put_hex(f, args[i], lens[i]);
    }
    fclose(f);
    return buf;
}

/* ---- input generators ---------------------------------------------------- */

/* Base64 text of random bytes, then hostile edits of the kinds a lenient
 * decoder must skip or accept: padding anywhere, whitespace, NUL, non-ASCII,
 * the other alphabet, truncation. */
static size_t gen_b64_text(uint8_t *out)
{
    uint8_t raw[96];
    size_t rawn = rnd_below(sizeof raw);
    rnd_bytes(raw, rawn);
    char text[200];
    size_t tn = 0;
    ec_status st = ec_b64_encode(raw, rawn, rnd_below(2) ? EC_B64_URL : EC_B64_STD,
                                 (int)rnd_below(2), text, sizeof text, &tn);
    assert_int_equal(st, EC_OK);
    static const char *const inserts[] = {"=", "==", " ", "\n", "\r\n", "\t", "+", "/",
                                          "-", "_", "*", ".", "\xc3\xa9", "%3D", "\x00"};
    size_t n = 0;
    for (size_t i = 0; i < tn && n < MAX_INPUT - 8; i++) {
        uint32_t r = rnd_below(40);
        if (r == 0)
            continue; /* drop a character */
        if (r == 1) {
            const char *ins = inserts[rnd_below(sizeof inserts / sizeof inserts[0])];
            size_t il = ins[0] ? strlen(ins) : 1;
            memcpy(out + n, ins, il);
            n += il;
        }
        if (r == 2) {
            out[n++] = (uint8_t)rnd();
        }
        out[n++] = (uint8_t)text[i];
    }
    if (rnd_below(8) == 0 && n > 0)
        n = rnd_below((uint32_t)n); /* truncate */
    return n;
}

static void gen_b64(diff_case *c)
{
    uint8_t in[MAX_INPUT];
    size_t n = gen_b64_text(in);
    const uint8_t *args[] = {in};
    size_t lens[] = {n};
    c->line = line_of("b64", args, lens, 1);

    uint8_t out[MAX_INPUT];
    size_t outn = 0;
    ec_status st = ec_b64_decode_compat((const char *)in, n, out, sizeof out, &outn);
    assert_int_equal(st, EC_OK);
    c->c_answer = answer_hex(out, outn);
}

/* IV || AES-CBC(PKCS#7(random plaintext)), then damage of the kinds that
 * reach the server: a flipped byte (often in the pad block), truncation,
 * extra bytes, the wrong key. */
static void gen_dec(diff_case *c)
{
    uint8_t key[16], iv[16], pt[80], data[16 + 96 + 32];
    rnd_bytes(key, sizeof key);
    rnd_bytes(iv, sizeof iv);
    size_t ptn = rnd_below(sizeof pt);
    rnd_bytes(pt, ptn);
    memcpy(data, iv, 16);
    size_t ctn = 0;
    assert_int_equal(ec_aes128_cbc_encrypt(key, iv, pt, ptn, data + 16, 96, &ctn), EC_OK);
    size_t n = 16 + ctn;
    switch (rnd_below(6)) {
    case 0: /* intact */
        break;
    case 1: /* flip one byte, most often in the block that decides the padding */
        data[n - 1 - 16 - rnd_below(16) + (n > 32 ? 0 : 16)] ^= (uint8_t)(1 + rnd_below(255));
        break;
    case 2:
        n = rnd_below((uint32_t)n + 1);
        break;
    case 3: {
        size_t extra = 1 + rnd_below(20);
        rnd_bytes(data + n, extra);
        n += extra;
        break;
    }
    case 4:
        key[rnd_below(16)] ^= 1;
        break;
    default: /* a forged last block: padding right about 1 time in 256 */
        if (n >= 32)
            rnd_bytes(data + n - 16, 16);
        break;
    }
    const uint8_t *args[] = {key, data};
    size_t lens[] = {16, n};
    c->line = line_of("dec", args, lens, 2);

    /* Emoncms: IV = first 16 bytes, ciphertext = the rest; PHP pads a short
     * IV with NULs but then the ciphertext is empty and decryption fails. */
    if (n <= 16) {
        c->c_answer = xstrdup("F");
        return;
    }
    uint8_t out[160];
    size_t outn = 0;
    ec_status st = ec_aes128_cbc_decrypt(key, data, data + 16, n - 16, out, sizeof out, &outn);
    c->c_answer = st == EC_OK ? answer_hex(out, outn) : xstrdup("F");
}

static void gen_mac(diff_case *c)
{
    uint8_t key[16], data[64];
    rnd_bytes(key, sizeof key);
    size_t n = rnd_below(sizeof data);
    rnd_bytes(data, n);
    char good[EC_HMAC_HEX_LEN + 1];
    assert_int_equal(ec_hmac_sha256_hex(key, 16, data, n, good), EC_OK);

    char given[EC_HMAC_HEX_LEN + 8];
    strcpy(given, good);
    switch (rnd_below(7)) {
    case 0:
        break;
    case 1: /* uppercase: Emoncms compares the text, so this must fail */
        for (char *p = given; *p; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 'a' + 'A');
        break;
    case 2:
        given[rnd_below(64)] = '\0';
        break;
    case 3:
        strcat(given, "0");
        break;
    case 4:
        given[0] = '\0';
        break;
    case 5:
        given[rnd_below(64)] ^= 1;
        break;
    default: /* the MAC of the empty string, the quirk's key */
        assert_int_equal(ec_hmac_sha256_hex(key, 16, (const uint8_t *)"", 0, given), EC_OK);
        break;
    }
    size_t gn = strlen(given);
    const uint8_t *args[] = {key, data, (const uint8_t *)given};
    size_t lens[] = {16, n, gn};
    c->line = line_of("mac", args, lens, 3);

    char mine[EC_HMAC_HEX_LEN + 1];
    assert_int_equal(ec_hmac_sha256_hex(key, 16, data, n, mine), EC_OK);
    c->c_answer = xstrdup(ec_ct_equal(given, gn, mine, EC_HMAC_HEX_LEN) ? "T" : "F");
}

/* Plaintexts made of the characters that matter to explode(): '&', '=',
 * plus ordinary text, percent signs and UTF-8 (no percent-decoding must
 * happen). NUL is left out: C strings end there, and a plaintext with a
 * NUL byte is already rejected earlier by any sender we build. */
static void gen_split(diff_case *c)
{
    static const char *const atoms[] = {"&", "=", "a", "b", "node", "time", "1",
                                        "x", "%3D", "+", " ", "\xc3\xa9", "[", "\"", "&&", "=="};
    char s[256];
    size_t n = 0;
    size_t parts = rnd_below(24);
    for (size_t i = 0; i < parts; i++) {
        const char *a = atoms[rnd_below(sizeof atoms / sizeof atoms[0])];
        size_t al = strlen(a);
        if (n + al >= sizeof s)
            break;
        memcpy(s + n, a, al);
        n += al;
    }
    s[n] = '\0';
    const uint8_t *args[] = {(const uint8_t *)s};
    size_t lens[] = {n};
    c->line = line_of("split", args, lens, 1);

    ec_params p;
    ec_params_init(&p);
    assert_int_equal(ec_params_parse_emoncms(&p, s, n), EC_OK);
    char *buf = NULL;
    size_t sz = 0;
    FILE *f = open_memstream(&buf, &sz);
    assert_non_null(f);
    fputc('P', f);
    for (size_t i = 0; i < p.n; i++) {
        if (i)
            fputc(',', f);
        put_hex(f, (const uint8_t *)p.items[i].key, strlen(p.items[i].key));
        fputc('=', f);
        put_hex(f, (const uint8_t *)p.items[i].value, strlen(p.items[i].value));
    }
    fclose(f);
    ec_params_free(&p);
    c->c_answer = buf;
}

static void gen_ack(diff_case *c)
{
    uint8_t data[200];
    size_t n = rnd_below(sizeof data);
    rnd_bytes(data, n);
    const uint8_t *args[] = {data};
    size_t lens[] = {n};
    c->line = line_of("ack", args, lens, 1);
    char ack[EC_ACK_LEN + 1];
    assert_int_equal(ec_ack_of(data, n, ack), EC_OK);
    c->c_answer = xstrdup(ack);
}

/* ---- running PHP ---------------------------------------------------------- */

static int php_available(void)
{
    return system("php -v >/dev/null 2>&1") == 0;
}

/* Writes every case's line to a file, runs the oracle once over the whole
 * batch, and compares answer by answer. */
static void run_batch(void (*gen)(diff_case *), const char *op)
{
    if (!php_available())
        fail_msg("php-cli is not installed: the PHP differential test needs it "
                 "(tools/run test installs it)");

    diff_batch b = {calloc(CASES_PER_OP, sizeof(diff_case)), CASES_PER_OP};
    assert_non_null(b.items);
    char in_path[] = "/tmp/emoncrypt-phpdiff-in-XXXXXX";
    char out_path[] = "/tmp/emoncrypt-phpdiff-out-XXXXXX";
    int in_fd = mkstemp(in_path), out_fd = mkstemp(out_path);
    assert_true(in_fd >= 0 && out_fd >= 0);
    close(out_fd);
    FILE *in = fdopen(in_fd, "w");
    assert_non_null(in);
    for (size_t i = 0; i < b.n; i++) {
        gen(&b.items[i]);
        fprintf(in, "%s\n", b.items[i].line);
    }
    fclose(in);

    char cmd[512];
    snprintf(cmd, sizeof cmd, "php %s/tests/php/oracle.php < %s > %s",
             EMONCRYPT_SOURCE_DIR, in_path, out_path);
    assert_int_equal(system(cmd), 0);

    FILE *out = fopen(out_path, "r");
    assert_non_null(out);
    char *line = NULL;
    size_t cap = 0;
    size_t mismatches = 0;
    for (size_t i = 0; i < b.n; i++) {
        ssize_t len = getline(&line, &cap, out);
        if (len <= 0)
            fail_msg("%s: PHP gave %zu answers for %zu inputs", op, i, b.n);
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (strcmp(line, b.items[i].c_answer) != 0) {
            if (mismatches < 5)
                print_error("%s case %zu differs\n  input: %s\n  php:   %s\n  C:     %s\n", op, i,
                            b.items[i].line, line, b.items[i].c_answer);
            mismatches++;
        }
    }
    free(line);
    fclose(out);
    unlink(in_path);
    unlink(out_path);
    for (size_t i = 0; i < b.n; i++) {
        free(b.items[i].line);
        free(b.items[i].c_answer);
    }
    free(b.items);
    if (mismatches)
        fail_msg("%s: %zu of %d inputs differ from PHP", op, mismatches, CASES_PER_OP);
}

static void php_base64_decode_matches(void **state)
{
    (void)state;
    run_batch(gen_b64, "b64");
}
static void php_openssl_decrypt_matches(void **state)
{
    (void)state;
    run_batch(gen_dec, "dec");
}
static void php_hmac_hash_equals_matches(void **state)
{
    (void)state;
    run_batch(gen_mac, "mac");
}
static void php_explode_split_matches(void **state)
{
    (void)state;
    run_batch(gen_split, "split");
}
static void php_ack_matches(void **state)
{
    (void)state;
    run_batch(gen_ack, "ack");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(php_base64_decode_matches),
        cmocka_unit_test(php_openssl_decrypt_matches),
        cmocka_unit_test(php_hmac_hash_equals_matches),
        cmocka_unit_test(php_explode_split_matches),
        cmocka_unit_test(php_ack_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
