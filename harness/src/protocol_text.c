/* see protocol_internal.h */
#include "protocol_internal.h"

#include <stdio.h>
#include <string.h>

/* see protocol_internal.h */
void ec_escape_bytes(const uint8_t *p, size_t n, const uint8_t *redact_key, int keep_utf8,
                     char *out, size_t cap)
{
    if (cap < 8) {
        if (cap > 0)
            out[0] = 0;
        return;
    }
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        char piece[16];
        size_t len;
        if (redact_key != NULL && n - i >= EC_KEY_LEN &&
            memcmp(p + i, redact_key, EC_KEY_LEN) == 0) {
            len = (size_t)snprintf(piece, sizeof piece, "[REDACTED]");
            i += EC_KEY_LEN - 1;
        } else if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
            piece[0] = (char)p[i];
            len = 1;
        } else if (keep_utf8 && p[i] == '\\') {
            len = (size_t)snprintf(piece, sizeof piece, "\\\\");
        } else if (keep_utf8 && p[i] >= 0xC2 && p[i] <= 0xF4) {
            /* Keep a well-formed UTF-8 sequence (node names may be Unicode). */
            size_t want = p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : 2;
            size_t k = 1;
            while (k < want && i + k < n && (p[i + k] & 0xC0) == 0x80)
                k++;
            if (k == want) {
                memcpy(piece, p + i, want);
                len = want;
                i += want - 1;
            } else {
                len = (size_t)snprintf(piece, sizeof piece, "\\x%02x", p[i]);
            }
        } else {
            len = (size_t)snprintf(piece, sizeof piece, "\\x%02x", p[i]);
        }
        /* Room is kept for "..." and the NUL after every piece. */
        if (used + len + 4 > cap) {
            memcpy(out + used, "...", 4);
            return;
        }
        memcpy(out + used, piece, len);
        used += len;
    }
    out[used] = 0;
}

/* see protocol_internal.h */
int ec_form_data_field(const char *s, size_t n, const char **value, size_t *len)
{
    for (size_t i = 0; s != NULL && i + 5 <= n; i++) {
        if ((i == 0 || s[i - 1] == '&') && memcmp(s + i, "data=", 5) == 0) {
            size_t end = i + 5;
            while (end < n && s[end] != '&')
                end++;
            *value = s + i + 5;
            *len = end - i - 5;
            return 1;
        }
    }
    return 0;
}
