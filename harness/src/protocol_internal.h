/* emoncrypt — helpers shared by the library's own files (plaintext.c,
 * app.c, message.c, explain.c, diagnose.c, replay.c); not part of the
 * public API. */
#ifndef EMONCRYPT_PROTOCOL_INTERNAL_H
#define EMONCRYPT_PROTOCOL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"

/* 1 when s[0..n) is well-formed UTF-8 as PCRE2 checks it. */
int ec_utf8_valid(const char *s, size_t n);

/* Emoncms's character filter /[^\p{N}\p{L}_\s\-.EXTRA]/u: keeps Unicode
 * letters and digits, PCRE whitespace, '_', '-', '.', and the ASCII
 * characters in extra (may be NULL).  Returns a malloc'd string, NULL on
 * out-of-memory; *valid = 0 when s is not UTF-8, and then the result is ""
 * (preg_replace returns NULL, which PHP reads as ""). */
char *ec_filter_chars(const char *s, size_t n, const char *extra, int *valid);

/* Printable form of the bytes p[0..n) into out (cap bytes, NUL-terminated):
 * printable ASCII other than a backslash as is, every other byte as \xNN;
 * with keep_utf8, a backslash as two and a well-formed UTF-8 sequence as
 * is; with redact_key (EC_KEY_LEN bytes) not NULL, each occurrence of
 * those raw bytes as [REDACTED].  Cut with "..." when it does not fit; cap < 8 gives "". */
void ec_escape_bytes(const uint8_t *p, size_t n, const uint8_t *redact_key, int keep_utf8,
                     char *out, size_t cap);

/* The value of the first data= field of the form s[0..n) (the legacy
 * profile's body, username=U&data=BASE64): returns 1 and sets *value and
 * *len (not NUL-terminated, points into s), or returns 0. */
int ec_form_data_field(const char *s, size_t n, const char **value, size_t *len);

/* ec_request_build in two steps, for a caller that builds many requests
 * from one plaintext (diagnose.c tries every mistake set on each reading):
 * ec_request_wire makes the bytes that are encrypted (compressed for the
 * gz profile; depends only on p's profile, plaintext and GZIP_HEADER
 * mistake) into a malloc'd *wire; ec_request_build_wire builds the request
 * from such bytes, exactly as ec_request_build(p) would when wire came
 * from ec_request_wire with the same profile, plaintext and GZIP_HEADER
 * bit.  With want_body (and differs) not NULL it stops as soon as the body
 * is known not to be want_body[0..want_len): then it returns EC_OK with
 * *differs = 1 and *out empty (nothing to free). */
ec_status ec_request_wire(const ec_request_params *p, uint8_t **wire, size_t *wire_len);
ec_status ec_request_build_wire(const ec_request_params *p, const uint8_t *wire,
                                size_t wire_len, const uint8_t *want_body, size_t want_len,
                                int *differs, ec_request *out);

#endif
