/* emoncrypt — a growable NUL-terminated text buffer, private to the library.
 *
 * Used where output is assembled piece by piece (reports, curl command
 * lines).  A failed allocation sets `failed` and every later call is a
 * no-op, so writers check once at the end instead of after every append. */
#ifndef EMONCRYPT_TEXTBUF_H
#define EMONCRYPT_TEXTBUF_H

#include <stddef.h>

typedef struct {
    char *data;     /* NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
    int failed;     /* an allocation failed: the content is incomplete */
} ec_textbuf;

void ec_textbuf_append(ec_textbuf *b, const void *s, size_t n);
void ec_textbuf_puts(ec_textbuf *b, const char *s);
void ec_textbuf_printf(ec_textbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the text to the caller ("" when empty); NULL, with the memory
 * released, when an append failed. */
char *ec_textbuf_take(ec_textbuf *b);

#endif
