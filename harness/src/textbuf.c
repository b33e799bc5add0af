/* see textbuf.h */
#include "textbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* see textbuf.h */
void ec_textbuf_append(ec_textbuf *b, const void *s, size_t n)
{
    if (b->failed || n > SIZE_MAX / 4 || b->len > SIZE_MAX / 4) {
        b->failed = 1;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* see textbuf.h */
void ec_textbuf_puts(ec_textbuf *b, const char *s) { ec_textbuf_append(b, s, strlen(s)); }

/* see textbuf.h */
void ec_textbuf_printf(ec_textbuf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        ec_textbuf_append(b, small, (size_t)n);
        return;
    }
    /* Longer than the stack buffer: format again into the right size
     * rather than cutting the text. */
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ec_textbuf_append(b, big, (size_t)n);
    free(big);
}

/* see textbuf.h */
char *ec_textbuf_take(ec_textbuf *b)
{
    if (b->failed) {
        free(b->data);
        b->data = NULL;
        return NULL;
    }
    char *text = b->data ? b->data : strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return text;
}
