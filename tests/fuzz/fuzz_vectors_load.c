/* libFuzzer target: the reference vector file loader (vectors.h) on an
 * arbitrary file.  A malformed file must be refused with a one-line reason,
 * never a crash; a file it accepts must be usable as the harness uses it:
 * every vector found again by its tcId, its request handed to the server
 * core, and, when it carries an IV and a plaintext, rebuilt by the request
 * builder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/vectors.h"

static char vector_path[64];

static void remove_vector_file(void)
{
    if (vector_path[0])
        unlink(vector_path);
}

/* The loader reads a path: the input goes to one temporary file, rewritten
 * for every run. */
static int write_input(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        strcpy(vector_path, "/tmp/emoncrypt-fuzz-vectors-XXXXXX");
        fd = mkstemp(vector_path);
        if (fd < 0)
            return -1;
        atexit(remove_vector_file);
    }
    if (ftruncate(fd, 0) != 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static int vector_key(void *ctx, const char *userid, const char *username,
                      uint8_t key[EC_KEY_LEN])
{
    const ec_vector *v = ctx;
    int same_user = (userid && v->userid && strcmp(userid, v->userid) == 0) ||
                    (username && v->username && strcmp(username, v->username) == 0);
    if (!same_user || !v->apikey)
        return -1;
    return ec_key_from_hex(v->apikey, key) == EC_OK ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16 || write_input(data, size) != 0)
        return 0;
    ec_vector_file file;
    char err[512];
    err[0] = 0;
    if (ec_vectors_load(vector_path, &file, err, sizeof err) != EC_OK) {
        /* Refused: with a reason, on one line. */
        if (err[0] == 0 || strchr(err, '\n') != NULL)
            abort();
        return 0;
    }
    for (size_t i = 0; i < file.n; i++) {
        const ec_vector *v = &file.tests[i];
        if (v->tc_id == NULL || ec_vectors_find(&file, v->tc_id) == NULL)
            abort();
        ec_vector_filter all = ec_vector_filter_all();
        if (!ec_vector_matches(v, &all))
            abort();
        if (ec_vector_expectation(v, 0) == NULL || ec_vector_expectation(v, 1) == NULL)
            abort();

        ec_http_request req;
        ec_vector_http_request(v, &req);
        for (int strict = 0; strict <= 1; strict++) {
            ec_server_config cfg = {vector_key, (void *)v, strict, v->now, 1 << 16, 32};
            ec_answer a;
            ec_answer_init(&a);
            (void)ec_server_answer(&cfg, &req, &a);
            ec_answer_free(&a);
        }

        ec_request_params p;
        if (ec_vector_request_params(v, &p) == EC_OK) {
            ec_request built;
            ec_request_init(&built);
            (void)ec_request_build(&p, &built);
            ec_request_free(&built);
        }
    }
    size_t cursor = 0, seen = 0;
    while (ec_vectors_next(&file, NULL, &cursor) != NULL)
        seen++;
    if (seen != file.n)
        abort();
    ec_vectors_free(&file);
    return 0;
}
