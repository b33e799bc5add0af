/* see plaintext.h — key=value pairs, Emoncms's name filter and error body.
 * The application step itself (input/post, input/bulk, legacy) is app.c. */
#include "emoncrypt/plaintext.h"
#include "protocol_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- key=value pairs ---------------------------------------------------- */

void ec_params_init(ec_params *p)
{
    p->items = NULL;
    p->n = 0;
    p->cap = 0;
}

void ec_params_free(ec_params *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].key);
        free(p->items[i].value);
    }
    free(p->items);
    ec_params_init(p);
}

static char *dup_bytes(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Keys are compared as C strings: a key with an embedded NUL is cut there,
 * which no Emoncms parameter name can contain anyway. */
static ec_pair *find_pair(const ec_params *p, const char *key, size_t key_len)
{
    for (size_t i = 0; i < p->n; i++)
        if (strlen(p->items[i].key) == key_len &&
            memcmp(p->items[i].key, key, key_len) == 0)
            return &p->items[i];
    return NULL;
}

ec_status ec_params_set(ec_params *p, const char *key, size_t key_len,
                        const char *value, size_t value_len)
{
    if (p == NULL || (key == NULL && key_len > 0) || (value == NULL && value_len > 0))
        return EC_E_ARG;
    const char *nul = key_len > 0 ? memchr(key, '\0', key_len) : NULL;
    if (nul != NULL)
        key_len = (size_t)(nul - key);
    char *v = dup_bytes(value, value_len);
    if (v == NULL)
        return EC_E_NOMEM;
    ec_pair *old = find_pair(p, key, key_len);
    if (old != NULL) {
        free(old->value);
        old->value = v;
        old->value_len = value_len;
        return EC_OK;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        ec_pair *items = realloc(p->items, cap * sizeof *items);
        if (items == NULL) {
            free(v);
            return EC_E_NOMEM;
        }
        p->items = items;
        p->cap = cap;
    }
    char *k = dup_bytes(key, key_len);
    if (k == NULL) {
        free(v);
        return EC_E_NOMEM;
    }
    p->items[p->n].key = k;
    p->items[p->n].value = v;
    p->items[p->n].value_len = value_len;
    p->n++;
    return EC_OK;
}

const char *ec_params_get_len(const ec_params *p, const char *key, size_t *len)
{
    *len = 0;
    if (p == NULL || key == NULL)
        return NULL;
    const ec_pair *pair = find_pair(p, key, strlen(key));
    if (pair)
        *len = pair->value_len;
    return pair ? pair->value : NULL;
}

const char *ec_params_get(const ec_params *p, const char *key)
{
    if (p == NULL || key == NULL)
        return NULL;
    const ec_pair *pair = find_pair(p, key, strlen(key));
    return pair ? pair->value : NULL;
}

ec_status ec_params_parse_emoncms(ec_params *p, const char *s, size_t n)
{
    if (p == NULL || (s == NULL && n > 0))
        return EC_E_ARG;
    size_t start = 0;
    /* explode('&') always yields at least one piece, even for "" */
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '&')
            continue;
        const char *piece = s + start;
        size_t len = i - start;
        const char *eq = len ? memchr(piece, '=', len) : NULL;
        if (eq != NULL) {
            size_t klen = (size_t)(eq - piece);
            const char *val = eq + 1;
            size_t vlen = len - klen - 1;
            /* exactly two parts: no second '=' */
            if (vlen == 0 || memchr(val, '=', vlen) == NULL) {
                ec_status st = ec_params_set(p, piece, klen, val, vlen);
                if (st != EC_OK)
                    return st;
            }
        }
        start = i + 1;
    }
    return EC_OK;
}

static int hex_val(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* PHP's urldecode: '+' is a space, %XX a byte, a bad % sequence is kept. */
static size_t url_decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '+') {
            out[o++] = ' ';
        } else if (in[i] == '%' && i + 2 < n &&
                   hex_val((unsigned char)in[i + 1]) >= 0 &&
                   hex_val((unsigned char)in[i + 2]) >= 0) {
            out[o++] = (char)(hex_val((unsigned char)in[i + 1]) * 16 +
                              hex_val((unsigned char)in[i + 2]));
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    return o;
}

/* param.php runs stripslashes() over every $_GET value. */
static size_t strip_slashes(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\') {
            if (i + 1 < n) {
                i++;
                s[o++] = s[i] == '0' ? '\0' : s[i];
            }
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

ec_status ec_params_parse_query(ec_params *p, const char *s, size_t n)
{
    if (p == NULL || (s == NULL && n > 0))
        return EC_E_ARG;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '&')
            continue;
        const char *piece = s + start;
        size_t len = i - start;
        start = i + 1;
        if (len == 0)
            continue;
        const char *eq = memchr(piece, '=', len);
        size_t klen = eq ? (size_t)(eq - piece) : len;
        const char *val = eq ? eq + 1 : piece + len;
        size_t vlen = eq ? len - klen - 1 : 0;
        char *k = malloc(klen + 1), *v = malloc(vlen + 1);
        if (k == NULL || v == NULL) {
            free(k);
            free(v);
            return EC_E_NOMEM;
        }
        size_t kd = url_decode(piece, klen, k);
        size_t vd = strip_slashes(v, url_decode(val, vlen, v));
        /* PHP drops leading spaces of a name and turns ' ' and '.' into '_' */
        size_t ks = 0;
        while (ks < kd && k[ks] == ' ')
            ks++;
        for (size_t j = ks; j < kd; j++)
            if (k[j] == ' ' || k[j] == '.')
                k[j] = '_';
        ec_status st = EC_OK;
        if (kd > ks)   /* an empty name is ignored by PHP */
            st = ec_params_set(p, k + ks, kd - ks, v, vd);
        free(k);
        free(v);
        if (st != EC_OK)
            return st;
    }
    return EC_OK;
}

/* ---- the name filter: /[^\p{N}\p{L}_\s\-.]/u ------------------------------ */

/* Code point ranges of Unicode general categories L* and N* (Unicode 14, as
 * Python's unicodedata lists them; PCRE2 10.42 used by PHP 8.2 knows
 * Unicode 15, which adds a few scripts outside any test here). */
static const struct { uint32_t lo, hi; } letter_digit_ranges[] = {
#include "unicode_ln.inc"
};

static int is_letter_or_digit(uint32_t cp)
{
    size_t lo = 0, hi = sizeof letter_digit_ranges / sizeof letter_digit_ranges[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < letter_digit_ranges[mid].lo)
            hi = mid;
        else if (cp > letter_digit_ranges[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

/* PCRE2 with PHP's /u (UCP) treats these as \s. */
static int is_pcre_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
           cp == 0xa0 || cp == 0x1680 || cp == 0x180e ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* Decode one UTF-8 sequence as PCRE2 validates it (no overlongs, no
 * surrogates, nothing above U+10FFFF).  Returns its length, 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) { *cp = c; return 1; }
    else if ((c & 0xe0) == 0xc0) { len = 2; v = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { len = 3; v = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* see protocol_internal.h */
int ec_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_decode(u + i, n - i, &cp);
        if (l == 0)
            return 0;
        i += l;
    }
    return 1;
}

/* see protocol_internal.h */
char *ec_filter_chars(const char *s, size_t n, const char *extra, int *valid)
{
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    *valid = ec_utf8_valid(s, n);
    size_t o = 0;
    if (*valid) {
        const unsigned char *u = (const unsigned char *)s;
        for (size_t i = 0; i < n;) {
            uint32_t cp = 0;   /* GCC 12 -O3 cannot see utf8_decode set it (issue 15) */
            size_t l = utf8_decode(u + i, n - i, &cp);
            if (l == 0)
                break;         /* cannot happen: the text was checked valid above */
            int keep = is_letter_or_digit(cp) || is_pcre_space(cp) ||
                       cp == '_' || cp == '-' || cp == '.' ||
                       (cp < 0x80 && cp != 0 && extra && strchr(extra, (int)cp));
            if (keep) {
                memcpy(out + o, s + i, l);
                o += l;
            }
            i += l;
        }
    }
    out[o] = '\0';
    return out;
}

char *ec_filter_name(const char *s, size_t n, int is_node)
{
    int valid;
    char *out = ec_filter_chars(s ? s : "", s ? n : 0, NULL, &valid);
    if (out != NULL && is_node && out[0] == '\0') {
        free(out);
        out = dup_bytes("0", 1);
    }
    return out;
}

ec_status ec_app_error_body(const char *msg, char *out, size_t out_cap,
                            size_t *out_len)
{
    if (msg == NULL || out == NULL || out_len == NULL)
        return EC_E_ARG;
    *out_len = 0;
    static const char head[] = "{\"success\": false, \"message\": \"";
    static const char tail[] = "\"}";
    size_t need = strlen(head) + strlen(msg) + strlen(tail);
    if (need + 1 > out_cap)
        return EC_E_BUFFER;
    size_t o = 0;
    memcpy(out, head, strlen(head));
    o += strlen(head);
    for (const char *c = msg; *c; c++)
        out[o++] = *c == '"' ? '\'' : *c;
    memcpy(out + o, tail, strlen(tail));
    o += strlen(tail);
    out[o] = '\0';
    *out_len = o;
    return EC_OK;
}
