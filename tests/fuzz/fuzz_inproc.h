/* Shared by the in-process fuzz targets (fuzz_serve_inproc.c,
 * fuzz_mock_inproc.c): an input becomes one request view handed straight
 * to a server's handler through ec_httpd_call — no socket, no thread
 * switch, no HTTP parser — so that the fuzzer spends its time in the
 * handler and the protocol core (the socket targets fuzz_serve_handler /
 * fuzz_mock_handler cover the HTTP layer).
 *
 * Input format: that of fuzz_http.h's framed inputs, so the two share
 * seeds: byte 0 is flags (bit 1 is the target's to use), the rest is six
 * fields split at 0xff — method, path, query, Content-Type,
 * Authorization, body.  A missing Content-Type or Authorization field is
 * no header; an empty method or path is POST, /input/post.  Any bytes may
 * appear in any field (the view is what a permissive HTTP layer could
 * hand over), up to a NUL in the text fields, which C strings end at. */
#ifndef EMONCRYPT_FUZZ_INPROC_H
#define EMONCRYPT_FUZZ_INPROC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/httpd.h"

#define FUZZ_INPROC_FIELDS 6

typedef struct {
    char *text[5];              /* method, path, query, Content-Type, Authorization */
    uint8_t *body;              /* a copy, NUL-terminated as the view promises */
    int present[5];
    ec_httpd_header headers[3];
    ec_httpd_request req;
} fuzz_inproc_input;

static inline void fuzz_inproc_free(fuzz_inproc_input *in)
{
    for (int i = 0; i < 5; i++)
        free(in->text[i]);
    free(in->body);
    memset(in, 0, sizeof *in);
}

/* Returns 0 and fills *in (free with fuzz_inproc_free), or -1. */
static inline int fuzz_inproc_make(const uint8_t *data, size_t size, fuzz_inproc_input *in)
{
    memset(in, 0, sizeof *in);
    if (size == 0)
        return -1;
    const uint8_t *field[FUZZ_INPROC_FIELDS] = {0};
    size_t field_len[FUZZ_INPROC_FIELDS] = {0};
    size_t f = 0, start = 1;
    for (size_t i = 1; i <= size && f < FUZZ_INPROC_FIELDS; i++) {
        if (i == size || (data[i] == 0xff && f < FUZZ_INPROC_FIELDS - 1)) {
            field[f] = data + start;
            field_len[f] = i - start;
            f++;
            start = i + 1;
        }
    }
    static const char *const fallback[3] = {"POST", "/input/post", ""};
    for (int i = 0; i < 5; i++) {
        const uint8_t *p = field[i];
        size_t n = field_len[i];
        if (i < 3 && (p == NULL || (i < 2 && n == 0))) {
            p = (const uint8_t *)fallback[i];
            n = strlen(fallback[i]);
        }
        in->present[i] = p != NULL;
        in->text[i] = malloc(n + 1);
        if (!in->text[i]) {
            fuzz_inproc_free(in);
            return -1;
        }
        if (n)
            memcpy(in->text[i], p, n);
        in->text[i][n] = '\0';
    }
    size_t h = 0;
    in->headers[h++] = (ec_httpd_header){"Host", "127.0.0.1"};
    if (in->present[3])
        in->headers[h++] = (ec_httpd_header){"Content-Type", in->text[3]};
    if (in->present[4])
        in->headers[h++] = (ec_httpd_header){"Authorization", in->text[4]};
    in->req.method = in->text[0];
    in->req.path = in->text[1];
    in->req.query = in->text[2];
    in->req.headers = in->headers;
    in->req.header_count = h;
    in->body = malloc(field_len[5] + 1);
    if (!in->body) {
        fuzz_inproc_free(in);
        return -1;
    }
    if (field_len[5])
        memcpy(in->body, field[5], field_len[5]);
    in->body[field_len[5]] = '\0';
    in->req.body = in->body;
    in->req.body_len = field_len[5];
    return 0;
}

#endif
