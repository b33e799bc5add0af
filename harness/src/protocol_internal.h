/* emoncrypt — helpers shared by plaintext.c, app.c and message.c; not part
 * of the public API. */
#ifndef EMONCRYPT_PROTOCOL_INTERNAL_H
#define EMONCRYPT_PROTOCOL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..n) is well-formed UTF-8 as PCRE2 checks it. */
int ec_utf8_valid(const char *s, size_t n);

/* Emoncms's character filter /[^\p{N}\p{L}_\s\-.EXTRA]/u: keeps Unicode
 * letters and digits, PCRE whitespace, '_', '-', '.', and the ASCII
 * characters in extra (may be NULL).  Returns a malloc'd string, NULL on
 * out-of-memory; *valid = 0 when s is not UTF-8, and then the result is ""
 * (preg_replace returns NULL, which PHP reads as ""). */
char *ec_filter_chars(const char *s, size_t n, const char *extra, int *valid);


#endif
