/* emoncrypt_bench_codec — how many reference vectors per second the C
 * codec verifies, for tools/bench (which compares it with the same work in
 * Python `cryptography`, tools/bench_codec.py).
 *
 * "Verify a vector" is what a server does with a valid aes128cbc request
 * before the application sees it: read the HMAC from Authorization,
 * base64url-decode the body, split IV and ciphertext, AES-128-CBC decrypt
 * and strip PKCS#7, HMAC-SHA256 the decrypted bytes and compare in
 * constant time, then compute the ack (base64url of SHA-256, '=' kept) and
 * compare it with the vector's.  A vector that does not verify is an error
 * (exit 1): the benchmark measures correct work only.
 *
 * A second figure runs the whole protocol core (ec_server_answer: routing,
 * headers, crypto, plaintext parsing, rows) on the same vectors.
 *
 * usage: emoncrypt_bench_codec VECTORS.json [SECONDS]
 * prints one JSON object on stdout; rates are per CPU second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"
#include "emoncrypt/vectors.h"

typedef struct {
    const ec_vector *v;
    uint8_t key[EC_KEY_LEN];
    const char *mac_hex;        /* after "userid:" */
} bench_vector;

/* CPU time of this process, not wall time: the figure is compared with
 * Python's on a machine other work may share, and CPU seconds are what
 * that sharing does not change. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One verification, buffers on the stack as a server would size them. */
static int verify_one(const bench_vector *b)
{
    static uint8_t raw[300000], pt[300000];
    const ec_vector *v = b->v;
    size_t raw_len = 0, pt_len = 0;
    if (ec_b64_decode_strict(v->body, v->body_len, EC_B64_URL, raw, sizeof raw, &raw_len, NULL) !=
            EC_OK ||
        raw_len < 2 * EC_BLOCK_LEN)
        return -1;
    if (ec_aes128_cbc_decrypt(b->key, raw, raw + EC_IV_LEN, raw_len - EC_IV_LEN, pt, sizeof pt,
                              &pt_len) != EC_OK)
        return -1;
    uint8_t mac[EC_SHA256_LEN], sent[EC_SHA256_LEN];
    size_t sent_len = 0;
    if (ec_hex_decode(b->mac_hex, strlen(b->mac_hex), sent, sizeof sent, &sent_len) != EC_OK ||
        ec_hmac_sha256(b->key, EC_KEY_LEN, pt, pt_len, mac) != EC_OK ||
        !ec_ct_equal(mac, sizeof mac, sent, sent_len))
        return -1;
    char ack[EC_ACK_LEN + 1];
    if (ec_ack_of(pt, pt_len, ack) != EC_OK || strcmp(ack, v->ack) != 0)
        return -1;
    return 0;
}

static int lookup_vector_key(void *ctx, const char *userid, const char *username,
                             uint8_t key[EC_KEY_LEN])
{
    (void)userid;
    (void)username;
    memcpy(key, ((const bench_vector *)ctx)->key, EC_KEY_LEN);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: emoncrypt_bench_codec VECTORS.json [SECONDS]\n");
        return 2;
    }
    double seconds = argc == 3 ? atof(argv[2]) : 1.0;
    if (seconds <= 0 || seconds > 60)
        seconds = 1.0;
    ec_vector_file file;
    char err[512];
    if (ec_vectors_load(argv[1], &file, err, sizeof err) != EC_OK) {
        fprintf(stderr, "emoncrypt_bench_codec: %s\n", err);
        return 2;
    }
    ec_vector_filter f = ec_vector_filter_all();
    f.profile = EC_PROFILE_AES128CBC;
    f.result = EC_VECTOR_VALID;
    bench_vector *set = calloc(file.n, sizeof *set);
    size_t n = 0, cursor = 0;
    const ec_vector *v;
    while (set && (v = ec_vectors_next(&file, &f, &cursor)) != NULL) {
        const char *colon = v->authorization ? strchr(v->authorization, ':') : NULL;
        if (!colon || !v->ack || !v->apikey || ec_key_from_hex(v->apikey, set[n].key) != EC_OK)
            continue;
        set[n].v = v;
        set[n].mac_hex = colon + 1;
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "emoncrypt_bench_codec: no valid aes128cbc vectors in %s\n", argv[1]);
        return 2;
    }
    for (size_t i = 0; i < n; i++)
        if (verify_one(&set[i]) != 0) {
            fprintf(stderr, "emoncrypt_bench_codec: %s does not verify\n", set[i].v->tc_id);
            return 1;
        }

    /* The codec: timed in whole passes over the set until `seconds` pass. */
    uint64_t verified = 0;
    double t0 = now_s(), t1 = t0;
    while (t1 - t0 < seconds) {
        for (size_t i = 0; i < n; i++)
            verified += verify_one(&set[i]) == 0;
        t1 = now_s();
    }
    double codec_rate = (double)verified / (t1 - t0);

    /* The protocol core on the same requests. */
    uint64_t answered = 0;
    double c0 = now_s(), c1 = c0;
    while (c1 - c0 < seconds) {
        for (size_t i = 0; i < n; i++) {
            ec_http_request req;
            ec_vector_http_request(set[i].v, &req);
            ec_server_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.lookup = lookup_vector_key;
            cfg.lookup_ctx = &set[i];
            cfg.now = set[i].v->now;
            cfg.max_nodes = 32;
            ec_answer a;
            ec_answer_init(&a);
            if (ec_server_answer(&cfg, &req, &a) == EC_OK && a.fault == EC_OK)
                answered++;
            ec_answer_free(&a);
        }
        c1 = now_s();
    }
    double core_rate = (double)answered / (c1 - c0);

    printf("{\"vectors\": %zu, \"verified\": %llu, \"seconds\": %.3f, \"per_second\": %.1f, "
           "\"core_answered\": %llu, \"core_per_second\": %.1f}\n",
           n, (unsigned long long)verified, t1 - t0, codec_rate, (unsigned long long)answered,
           core_rate);
    free(set);
    ec_vectors_free(&file);
    return 0;
}
