/* Checks a header written by `emoncrypt vectors --format c` against facts
 * known without it: SPEC §8's vector, the row count the summary printed,
 * and the invariants every row must keep. Built and run by c_header.sh. */
#include <stdio.h>
#include <string.h>

#include "emoncrypt_vectors.h"

static int failures;

static void check(int ok, const char *tc_id, const char *what)
{
    if (!ok) {
        printf("FAIL: %s: %s\n", tc_id, what);
        failures++;
    }
}

int main(void)
{
    static const unsigned char spec8_key[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    static const char spec8_plaintext[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";
    int spec8_seen = 0;

    check(EMONCRYPT_VECTOR_COUNT == EXPECTED_COUNT, "(file)",
          "EMONCRYPT_VECTOR_COUNT differs from the summary's total");
    for (size_t i = 0; i < EMONCRYPT_VECTOR_COUNT; i++) {
        const emoncrypt_vector *v = &emoncrypt_vectors[i];
        check(v->tc_id != NULL && v->body != NULL, "(row)", "tc_id or body is NULL");
        if (v->tc_id == NULL || v->body == NULL)
            continue;
        check(strlen(v->body) == v->body_len || memchr(v->body, 0, v->body_len) != NULL,
              v->tc_id, "body_len is not the body's length");
        check((strcmp(v->result, "valid") == 0) == (v->result_code == EMONCRYPT_VECTOR_VALID),
              v->tc_id, "result and result_code disagree");
        check((v->plaintext == NULL) == (v->plaintext_len == 0), v->tc_id,
              "plaintext and plaintext_len disagree");
        if (strcmp(v->tc_id, "post/spec8-reference") != 0)
            continue;
        spec8_seen = 1;
        check(memcmp(v->key, spec8_key, 16) == 0, v->tc_id, "key");
        check(v->has_iv && v->iv[0] == 0 && v->iv[15] == 15, v->tc_id, "iv");
        check(v->plaintext_len == strlen(spec8_plaintext) &&
                  memcmp(v->plaintext, spec8_plaintext, v->plaintext_len) == 0,
              v->tc_id, "plaintext");
        check(strcmp(v->body, "AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8gA_Ti4prXayZj3GpKk"
                              "lq17LlDVdhecrZmUY8UBAam3_oj5jmaczqBieWsajqhNGc") == 0,
              v->tc_id, "body");
        check(strcmp(v->authorization,
                     "1:b34e30a93ab8f8ddded42c3d5eaa66915aec0cfc931e9fc23fbd60567b9f2662") == 0,
              v->tc_id, "authorization");
        check(strcmp(v->ack, "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=") == 0, v->tc_id, "ack");
        check(v->result_code == EMONCRYPT_VECTOR_VALID && v->expected_status == 200, v->tc_id,
              "result");
    }
    check(spec8_seen, "post/spec8-reference", "missing from the header");
    if (failures == 0)
        printf("ok: %d vectors, SPEC §8 row exact\n", (int)EMONCRYPT_VECTOR_COUNT);
    return failures == 0 ? 0 : 1;
}
