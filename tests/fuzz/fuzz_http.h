/* Shared by the fuzz targets that drive a server running in the fuzzer's
 * own process (fuzz_serve_handler.c, fuzz_mock_handler.c): the input is
 * sent over loopback as one HTTP exchange and the answer read back.
 *
 * Input format: byte 0 chooses the framing.  Odd: the rest goes to the
 * socket as it is (non-HTTP bytes, broken framing).  Even: the rest is six
 * fields split at 0xff bytes — method, path, query, Content-Type,
 * Authorization, body — framed as a well-formed HTTP/1.1 request with an
 * exact Content-Length, so that the fuzzer explores the handler rather
 * than the HTTP parser.  Bit 1 of byte 0 is the target's to use. */
#ifndef EMONCRYPT_FUZZ_HTTP_H
#define EMONCRYPT_FUZZ_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define FUZZ_HTTP_FIELDS 6

typedef struct {
    uint8_t *bytes; /* what goes to the socket */
    size_t len;
    int framed;     /* 1: a well-formed request the server must answer */
} fuzz_http_input;

/* A field fit for a request line or a header value: no control bytes, no
 * spaces where the request line would split. */
static inline int fuzz_http_clean(const uint8_t *s, size_t n, int allow_space)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f || (!allow_space && s[i] == ' '))
            return 0;
    return 1;
}

static inline void fuzz_http_append(fuzz_http_input *in, const void *p, size_t n)
{
    memcpy(in->bytes + in->len, p, n);
    in->len += n;
}

static inline void fuzz_http_append_str(fuzz_http_input *in, const char *s)
{
    fuzz_http_append(in, s, strlen(s));
}

/* Turn a fuzz input into the bytes to send.  Free in->bytes afterwards. */
static inline int fuzz_http_make(const uint8_t *data, size_t size, fuzz_http_input *in)
{
    memset(in, 0, sizeof *in);
    if (size == 0)
        return -1;
    in->bytes = malloc(size + 512);
    if (!in->bytes)
        return -1;
    if (data[0] & 1) {
        fuzz_http_append(in, data + 1, size - 1);
        return 0;
    }
    const uint8_t *field[FUZZ_HTTP_FIELDS] = {0};
    size_t field_len[FUZZ_HTTP_FIELDS] = {0};
    size_t f = 0, start = 1;
    for (size_t i = 1; i <= size && f < FUZZ_HTTP_FIELDS; i++) {
        if (i == size || (data[i] == 0xff && f < FUZZ_HTTP_FIELDS - 1)) {
            field[f] = data + start;
            field_len[f] = i - start;
            f++;
            start = i + 1;
        }
    }
    static const char *const fallback[3] = {"POST", "/input/post", ""};
    for (size_t i = 0; i < 3; i++)
        if (field[i] == NULL || (i < 2 && field_len[i] == 0)) {
            field[i] = (const uint8_t *)fallback[i];
            field_len[i] = strlen(fallback[i]);
        }
    in->framed = fuzz_http_clean(field[0], field_len[0], 0) &&
                 fuzz_http_clean(field[1], field_len[1], 0) && field[1][0] == '/' &&
                 fuzz_http_clean(field[2], field_len[2], 0) &&
                 (field[3] == NULL || fuzz_http_clean(field[3], field_len[3], 1)) &&
                 (field[4] == NULL || fuzz_http_clean(field[4], field_len[4], 1));
    /* A method of letters only: others are refused by the HTTP layer
     * before the handler, which is fine but not what this input is for. */
    for (size_t i = 0; i < field_len[0]; i++)
        if (!((field[0][i] >= 'A' && field[0][i] <= 'Z')))
            in->framed = 0;
    fuzz_http_append(in, field[0], field_len[0]);
    fuzz_http_append_str(in, " ");
    fuzz_http_append(in, field[1], field_len[1]);
    if (field_len[2]) {
        fuzz_http_append_str(in, "?");
        fuzz_http_append(in, field[2], field_len[2]);
    }
    fuzz_http_append_str(in, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if (field[3]) {
        fuzz_http_append_str(in, "Content-Type: ");
        fuzz_http_append(in, field[3], field_len[3]);
        fuzz_http_append_str(in, "\r\n");
    }
    if (field[4]) {
        fuzz_http_append_str(in, "Authorization: ");
        fuzz_http_append(in, field[4], field_len[4]);
        fuzz_http_append_str(in, "\r\n");
    }
    char length[64];
    snprintf(length, sizeof length, "Content-Length: %zu\r\n\r\n", field_len[5]);
    fuzz_http_append_str(in, length);
    if (field[5])
        fuzz_http_append(in, field[5], field_len[5]);
    return 0;
}

/* Whether needle[0..n) occurs in hay[0..size). */
static inline int fuzz_http_contains(const void *hay, size_t size, const char *needle)
{
    size_t n = strlen(needle);
    const uint8_t *h = hay;
    for (size_t i = 0; n <= size && i <= size - n; i++)
        if (memcmp(h + i, needle, n) == 0)
            return 1;
    return 0;
}

/* 1 when an answer holding the write key (as text) leaks it: this input
 * did not carry the key, and it is not a read of stored rows (GET
 * /emoncrypt/rows, /input/get) after an earlier input carried it — a
 * device may post the key's text as a node name, and those endpoints
 * serve earlier inputs' rows back (seen in a campaign: not a leak). */
static inline int fuzz_key_leaked(const uint8_t *data, size_t size, const void *answer,
                                  size_t answer_len, const char *key)
{
    static int key_sent;
    if (fuzz_http_contains(data, size, key)) {
        key_sent = 1;
        return 0;
    }
    if (!fuzz_http_contains(answer, answer_len, key))
        return 0;
    return !(key_sent && (fuzz_http_contains(data, size, "/emoncrypt/rows") ||
                          fuzz_http_contains(data, size, "/input/get")));
}

/* Send the bytes to 127.0.0.1:port, half-close, read the answer (at most
 * cap - 1 bytes, NUL-terminated) until the server closes or timeout_ms
 * passes.  Returns the bytes read, or -1 when the connection failed. */
static inline long fuzz_http_exchange(unsigned port, const fuzz_http_input *in, char *answer,
                               size_t cap, int timeout_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    size_t sent = 0;
    while (sent < in->len) {
        ssize_t n = send(fd, in->bytes + sent, in->len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may close early (413, garbage): read what it said */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0)
            break;
        char sink[4096];
        char *dst = got + 1 < cap ? answer + got : sink;
        size_t room = got + 1 < cap ? cap - 1 - got : sizeof sink;
        ssize_t n = recv(fd, dst, room, 0);
        if (n <= 0)
            break;
        if (dst != sink)
            got += (size_t)n;
    }
    if (cap)
        answer[got] = 0;
    close(fd);
    return (long)got;
}

#endif
