/* emoncrypt — explain a request layer by layer (see explain.h).
 *
 * Two readings of the same bytes, kept apart on purpose:
 *  - the layers read the request straight, as the protocol says a correct
 *    client wrote it (URL alphabet, IV first, hex2bin key, PKCS#7, HMAC over
 *    the plaintext), and stop at the first layer where that reading breaks;
 *  - the verdict and the mistake come from diagnose.h, which rebuilds the
 *    request with every known mistake and keeps the one that reproduces it.
 * The layers show WHERE the bytes stop making sense; the diagnosis says WHY. */
#include "emoncrypt/explain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/diagnose.h"
#include "emoncrypt/plaintext.h"
#include "emoncrypt/report.h"
#include "protocol_internal.h"

const char ec_explain_wrong_key_text[] = "the key is wrong (no mistake I know makes it valid)";

/* see explain.h */
void ec_explanation_init(ec_explanation *e)
{
    memset(e, 0, sizeof *e);
}

/* see explain.h */
void ec_explanation_free(ec_explanation *e)
{
    /* Nothing on the heap today; the HMAC and plaintext texts are wiped so
     * an explanation does not outlive its use in memory. */
    if (e != NULL)
        ec_wipe(e, sizeof *e);
}

/* ---- text helpers -------------------------------------------------------- */

/* What every text goes through: the key removed, cut to the field. */
typedef struct {
    const char *secret;           /* the API key text */
    uint8_t key[EC_KEY_LEN];
} redactor;

static void cut_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n < cap) {
        memcpy(dst, src, n + 1);
        return;
    }
    /* Cut on a character boundary, then mark the cut. */
    size_t keep = cap - 4;
    while (keep > 0 && ((unsigned char)src[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(dst, src, keep);
    memcpy(dst + keep, "...", 4);
}

static void put(const redactor *r, char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put(const redactor *r, char *field, const char *fmt, ...)
{
    char buf[4 * EC_EXPLAIN_FIELD];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *clean = ec_redact(buf, strlen(buf), r->secret);
    cut_copy(field, EC_EXPLAIN_FIELD, clean != NULL ? clean : "[out of memory]");
    free(clean);
}

static void hex_of(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && used + 4 < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%02x", i ? " " : "", p[i]);
}

static ec_explain_layer *add_layer(ec_explanation *e, const char *name)
{
    if (e->layer_count >= EC_EXPLAIN_MAX_LAYERS)
        return &e->layers[EC_EXPLAIN_MAX_LAYERS - 1]; /* cannot happen: fixed list */
    ec_explain_layer *l = &e->layers[e->layer_count++];
    memset(l, 0, sizeof *l);
    l->name = name;
    l->reached = 1;
    return l;
}

static void not_reached(ec_explain_layer *l, const char *why)
{
    l->reached = 0;
    l->ok = 0;
    snprintf(l->actual, sizeof l->actual, "not reached: %s", why);
}

/* Sentence of a set of mistake bits: "your A, and your B". */
static void mistake_sentences(unsigned bits, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (unsigned i = 0; i < EC_MISTAKE_COUNT && used < cap; i++) {
        unsigned bit = 1u << i;
        if ((bits & bit) == 0)
            continue;
        int w = snprintf(out + used, cap - used, "%s%s", used ? ", and " : "",
                         ec_mistake_text(bit));
        if (w > 0)
            used += (size_t)w;
    }
}

/* ---- the body's base64 ---------------------------------------------------- */

typedef struct {
    size_t chars;
    size_t url_only;      /* '-' '_' */
    size_t std_only;      /* '+' '/' */
    size_t first_std;     /* offset of the first '+' '/' */
    size_t pads;          /* '=' */
    int pad_inside;       /* '=' followed by something other than '=' */
    size_t others;        /* bytes outside both alphabets and '=' */
    size_t first_other;
    int first_other_ch;
} b64_census;

static int in_common_alphabet(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static void b64_count(const char *s, size_t n, b64_census *c)
{
    memset(c, 0, sizeof *c);
    c->chars = n;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (in_common_alphabet(ch))
            ;
        else if (ch == '-' || ch == '_')
            c->url_only++;
        else if (ch == '+' || ch == '/') {
            if (c->std_only++ == 0)
                c->first_std = i;
        } else if (ch == '=') {
            c->pads++;
            continue;
        } else {
            if (c->others++ == 0) {
                c->first_other = i;
                c->first_other_ch = ch;
            }
        }
        if (c->pads > 0)
            c->pad_inside = 1;
    }
}

/* The base64 text of the body: all of it, or the legacy form's data=
 * (empty when it has none). */
static void b64_text_of(int legacy, const uint8_t *body, size_t n, const char **text,
                        size_t *len)
{
    *text = (const char *)body;
    *len = n;
    if (legacy && body != NULL && !ec_form_data_field((const char *)body, n, text, len))
        *len = 0;
}

/* ---- inflating the gz profile's bytes ------------------------------------ */

/* Inflate a zlib stream into a malloc'd buffer, growing up to 64 MiB. */
static ec_status inflate_zlib(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    size_t cap = n * 8 + 256;
    for (;;) {
        uint8_t *buf = malloc(cap + 1);
        if (buf == NULL)
            return EC_E_NOMEM;
        size_t len = 0;
        ec_status st = ec_zlib_uncompress(in, n, buf, cap, &len);
        if (st == EC_OK) {
            buf[len] = 0;
            *out = buf;
            *out_len = len;
            return EC_OK;
        }
        free(buf);
        if (st != EC_E_BUFFER || cap > ((size_t)64 << 20))
            return st;
        cap *= 4;
    }
}

/* ---- the explanation ----------------------------------------------------- */

static int is_text(const uint8_t *p, size_t n)
{
    size_t odd = 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7f)
            odd++;
    return n > 0 && odd * 20 <= n;
}

static int all_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int is_early_fault(ec_status f)
{
    return f == EC_F_ROUTE || f == EC_F_NOT_ENCRYPTED || f == EC_F_AUTH_MISSING ||
           f == EC_F_AUTH_FORMAT || f == EC_F_USER_UNKNOWN || f == EC_F_BODY_EMPTY ||
           f == EC_F_LEGACY_PARAMS || f == EC_F_TOO_LARGE || f == EC_F_METHOD ||
           f == EC_F_STRICT_USERID;
}

/* Everything one explanation needs while it is built. */
typedef struct {
    const ec_explain_input *in;
    redactor red;
    ec_profile profile;
    ec_http_request req;
    char userid[64];              /* whose key it is */
    char auth_userid[64];         /* as sent in Authorization */
    const char *given_hmac;       /* after the ':' in Authorization, or NULL */
    size_t given_hmac_len;
    ec_diagnosis diag;
    /* the straight reading */
    uint8_t *dec;                 /* the body after the lenient decoder */
    size_t dec_len;
    uint8_t *wire;                /* decrypted, PKCS#7 removed (compressed for gz) */
    size_t wire_len;
    ec_status decrypt_status;
    uint8_t *app;                 /* the application plaintext */
    size_t app_len;
    int app_recovered;            /* app came from the diagnosis, not the reading */
    /* the request a correct client sends with the same data */
    ec_request correct;
    int have_correct;
    char key_place[64];           /* where the key travels in clear, or "" */
} work;

static void work_free(work *w)
{
    ec_diagnosis_free(&w->diag);
    ec_request_free(&w->correct);
    if (w->wire != NULL)
        ec_wipe(w->wire, w->wire_len);
    free(w->dec);
    free(w->wire);
    free(w->app);
    ec_wipe(w->red.key, sizeof w->red.key);
}

static ec_profile decode_profile(const ec_explain_input *in, const char *path)
{
    if (strncmp(path, "/input/encrypted", 16) == 0)
        return EC_PROFILE_LEGACY;
    if (in->content_type != NULL && strcmp(in->content_type, "aes128cbcgz") == 0)
        return EC_PROFILE_AES128CBCGZ;
    return EC_PROFILE_AES128CBC;
}

/* What one IV alone can show.  A random IV is all zero, all printable
 * text, or has 6 zero bytes in a row with a chance below 2^-40, so those
 * fail the layer; a Unix time at the start or a counting pattern is
 * common enough by chance (or in test vectors) to be only noted.
 * test-client judges IVs across requests, which one request cannot. */
static void judge_iv(work *w, ec_explain_layer *iv, const uint8_t *v)
{
    if (w->diag.reproduced && (w->diag.mistakes & EC_MISTAKE_IV_APPENDED)) {
        char hex[3 * EC_IV_LEN + 1];
        hex_of(w->diag.iv, EC_IV_LEN, hex, sizeof hex);
        put(&w->red, iv->note, "these are ciphertext bytes: the IV is at the end of the "
                               "body (%s)", hex);
        v = w->diag.iv;
    }
    int zero = 1, counting = 1, text = 1;
    size_t run = 0, longest_zero_run = 0;
    for (int i = 0; i < EC_IV_LEN; i++) {
        zero &= v[i] == 0;
        counting &= v[i] == (uint8_t)(v[0] + i);
        text &= v[i] >= 0x20 && v[i] < 0x7f;
        run = v[i] == 0 ? run + 1 : 0;
        if (run > longest_zero_run)
            longest_zero_run = run;
    }
    uint32_t head = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
    int64_t now = w->in->now ? w->in->now : (int64_t)time(NULL);
    int64_t year = 366 * 86400;
    int is_time = (int64_t)head > now - year && (int64_t)head < now + year;
    if (zero) {
        put(&w->red, iv->note, "all zero: an IV must be drawn at random for every message");
        iv->ok = 0;
    } else if (text) {
        char shown[EC_IV_LEN + 1];
        memcpy(shown, v, EC_IV_LEN);
        shown[EC_IV_LEN] = 0;
        put(&w->red, iv->note, "the IV is the text '%s': a fixed IV, not a random one", shown);
        iv->ok = 0;
    } else if (longest_zero_run >= 6 && !counting) {
        put(&w->red, iv->note, "6 or more zero bytes in a row: a counter or a fixed value, "
                               "not a random IV");
        iv->ok = 0;
    } else if (iv->note[0] == 0 && counting) {
        put(&w->red, iv->note, "a counting pattern (as in test vectors): a device must draw "
                               "its IVs at random");
    } else if (iv->note[0] == 0 && is_time) {
        put(&w->red, iv->note, "the first 4 bytes read as a Unix time close to now: if the "
                               "device puts its clock there, the IV is predictable");
    }
}

static void layer_route(work *w, ec_explanation *e)
{
    ec_explain_layer *l = add_layer(e, "route");
    const ec_http_request *r = &w->req;
    if (w->profile == EC_PROFILE_LEGACY)
        put(&w->red, l->expected, "POST /input/encrypted");
    else
        put(&w->red, l->expected, "POST /input/post, /input/post/NODE or /input/bulk");
    put(&w->red, l->actual, "%s %s%s%s", r->method, r->path, r->query && *r->query ? "?" : "",
        r->query ? r->query : "");
    l->ok = e->fault != EC_F_ROUTE && e->fault != EC_F_METHOD && strcmp(r->method, "POST") == 0;
    if (e->fault == EC_F_ROUTE)
        put(&w->red, l->note, "%s", ec_status_text(EC_F_ROUTE));
    else if (strcmp(r->method, "POST") != 0)
        put(&w->red, l->note, "a device should POST; Emoncms also processes a %s with a body",
            r->method);
    else if (r->query != NULL && *r->query)
        put(&w->red, l->note, "URL parameters are outside the HMAC: anyone on the path can "
                              "change them (SPEC section 3)");
}

/* Where the write API key travels in clear: the whole protocol exists so
 * that it never does (SPEC section 7).  A capture file has it replaced by
 * "[REDACTED]", which is looked for too.  Returns the place, or NULL. */
static const char *key_in_clear(const work *w)
{
    const char *key = w->in->apikey_hex;
    size_t k = strlen(key);
    const struct {
        const char *where;
        const char *text;
        size_t len;
    } places[] = {
        {"the Authorization header", w->req.authorization,
         w->req.authorization ? strlen(w->req.authorization) : 0},
        {"the URL", w->req.query, w->req.query ? strlen(w->req.query) : 0},
        {"the URL", w->req.path, strlen(w->req.path)},
        {"the request body", (const char *)w->req.body, w->req.body_len},
    };
    for (size_t p = 0; p < sizeof places / sizeof places[0]; p++) {
        const char *t = places[p].text;
        for (size_t i = 0; t != NULL && i < places[p].len; i++) {
            size_t left = places[p].len - i;
            if ((left >= k && strncasecmp(t + i, key, k) == 0) ||
                (left >= 10 && memcmp(t + i, "[REDACTED]", 10) == 0))
                return places[p].where;
        }
    }
    return NULL;
}

static void layer_apikey(work *w, ec_explanation *e)
{
    ec_explain_layer *l = add_layer(e, "apikey");
    put(&w->red, l->expected, "the write API key nowhere in the request (only its HMAC)");
    const char *where = key_in_clear(w);
    l->ok = where == NULL;
    put(&w->red, l->actual, "%s%s", where ? "in clear in " : "not in clear",
        where ? where : "");
    if (where != NULL) {
        snprintf(w->key_place, sizeof w->key_place, "%s", where);
        put(&w->red, l->note, "anyone on the path reads it and can post as this account; "
                              "the encryption then protects nothing");
    }
}

static void layer_headers(work *w, ec_explanation *e)
{
    const ec_explain_input *in = w->in;
    if (w->profile == EC_PROFILE_LEGACY) {
        ec_explain_layer *l = add_layer(e, "form");
        put(&w->red, l->expected, "username=USERNAME&data=BASE64URL(IV || ciphertext)");
        const char *text;
        size_t n;
        b64_text_of(1, w->req.body, w->req.body_len, &text, &n);
        l->ok = e->fault != EC_F_LEGACY_PARAMS && e->fault != EC_F_USER_UNKNOWN;
        put(&w->red, l->actual, "%s", l->ok ? "username and data present"
                                            : ec_status_text(e->fault));
        return;
    }
    ec_explain_layer *ct = add_layer(e, "content-type");
    put(&w->red, ct->expected, "exactly aes128cbc (or aes128cbcgz): lowercase, no parameters");
    if (in->content_type == NULL)
        put(&w->red, ct->actual, "(absent)");
    else
        put(&w->red, ct->actual, "%s", in->content_type);
    ct->ok = e->fault != EC_F_NOT_ENCRYPTED && in->content_type != NULL &&
             (strcmp(in->content_type, "aes128cbc") == 0 ||
              strcmp(in->content_type, "aes128cbcgz") == 0);
    if (!ct->ok)
        put(&w->red, ct->note, "not the encrypted method at all: Emoncms reads Authorization "
                               "as a Bearer API key and answers 401 Invalid API key");

    ec_explain_layer *au = add_layer(e, "authorization");
    put(&w->red, au->expected, "USERID:HMAC, one colon, user id %s, 64 lowercase hex digits",
        w->userid);
    const char *a = in->authorization;
    if (a == NULL) {
        put(&w->red, au->actual, "(absent)");
        au->ok = 0;
        return;
    }
    const char *colon = strchr(a, ':');
    int one_colon = colon != NULL && strchr(colon + 1, ':') == NULL;
    if (!one_colon) {
        /* The whole value: when it is a Bearer key, put() redacts it. */
        put(&w->red, au->actual, "%s", a);
        au->ok = 0;
        put(&w->red, au->note, "%s", ec_status_text(EC_F_AUTH_FORMAT));
        return;
    }
    put(&w->red, au->actual, "user id '%s', HMAC of %zu characters", w->auth_userid,
        w->given_hmac_len);
    au->ok = e->fault != EC_F_USER_UNKNOWN && e->fault != EC_F_STRICT_USERID &&
             e->fault != EC_F_AUTH_FORMAT;
    if (e->fault == EC_F_USER_UNKNOWN)
        put(&w->red, au->note, "user id '%s' is not user %s, whose key this is", w->auth_userid,
            w->userid);
    else if (e->fault == EC_F_STRICT_USERID)
        put(&w->red, au->note, "%s", ec_status_text(EC_F_STRICT_USERID));
}

/* base64, iv, ciphertext: fills w->dec.  Returns 1 when decryption can
 * be tried (IV + whole blocks). */
static int layers_encoding(work *w, ec_explanation *e)
{
    ec_explain_layer *l = add_layer(e, "base64");
    put(&w->red, l->expected, "base64url ('-' '_'), '=' padding optional, nothing else");
    const char *text;
    size_t n;
    b64_text_of(w->profile == EC_PROFILE_LEGACY, w->req.body, w->req.body_len, &text, &n);
    if (n == 0) {
        put(&w->red, l->actual, "empty body");
        l->ok = 0;
        put(&w->red, l->note, "%s", ec_status_text(EC_F_BODY_EMPTY));
        ec_explain_layer *iv = add_layer(e, "iv");
        not_reached(iv, "no body");
        return 0;
    }
    size_t cap = ec_b64_decoded_max(n) + 4;
    w->dec = malloc(cap);
    uint8_t *strict_out = malloc(cap);
    if (w->dec == NULL || strict_out == NULL) {
        free(strict_out);
        put(&w->red, l->actual, "out of memory");
        return 0;
    }
    if (ec_b64_decode_compat(text, n, w->dec, cap, &w->dec_len) != EC_OK)
        w->dec_len = 0;
    size_t strict_len = 0;
    ec_b64_fault fault;
    ec_status st = ec_b64_decode_strict(text, n, EC_B64_URL, strict_out, cap, &strict_len, &fault);
    free(strict_out);
    b64_census c;
    b64_count(text, n, &c);
    const char *alphabet = c.std_only && c.url_only ? "both alphabets mixed"
                           : c.std_only            ? "standard alphabet ('+' '/')"
                                                   : "URL alphabet";
    const char *padding = c.pads == 0 ? "no '=' padding" : "'=' padding kept";
    put(&w->red, l->actual, "%zu characters, %s, %s -> %zu bytes", n, alphabet, padding,
        w->dec_len);
    l->ok = st == EC_OK;
    if (c.std_only)
        put(&w->red, l->note, "'%c' at offset %zu is standard base64: the protocol wants '-' "
                              "and '_' (Emoncms maps them and accepts it; a strict server "
                              "may not)", text[c.first_std], c.first_std);
    else if (c.others)
        put(&w->red, l->note, "byte 0x%02x at offset %zu is outside the alphabet: Emoncms "
                              "skips it, a strict server refuses it", c.first_other_ch,
            c.first_other);
    else if (st != EC_OK)
        put(&w->red, l->note, "%s at offset %zu (Emoncms's lenient decoder goes on)",
            ec_status_text(st), fault.offset);
    else if (c.pads == 0 && n % 4 != 0)
        put(&w->red, l->note, "the '=' padding is optional (SPEC section 3)");

    ec_explain_layer *iv = add_layer(e, "iv");
    put(&w->red, iv->expected, "16 bytes, first, fresh from a CSPRNG for every message");
    if (w->dec_len < EC_IV_LEN) {
        put(&w->red, iv->actual, "only %zu bytes decoded", w->dec_len);
        iv->ok = 0;
        ec_explain_layer *ct = add_layer(e, "ciphertext");
        not_reached(ct, "no IV");
        return 0;
    }
    char hex[3 * EC_IV_LEN + 1];
    hex_of(w->dec, EC_IV_LEN, hex, sizeof hex);
    put(&w->red, iv->actual, "%s", hex);
    iv->ok = 1;
    judge_iv(w, iv, w->dec);

    ec_explain_layer *ct = add_layer(e, "ciphertext");
    put(&w->red, ct->expected, "a non-zero multiple of 16 bytes after the IV");
    size_t ct_len = w->dec_len - EC_IV_LEN;
    if (ct_len == 0 || ct_len % EC_BLOCK_LEN != 0) {
        put(&w->red, ct->actual, "%zu bytes: %s", ct_len,
            ct_len == 0 ? "nothing after the IV" : "not a multiple of 16");
        ct->ok = 0;
        put(&w->red, ct->note, "%zu bytes over a whole block; a cut body or a text that is "
                               "not base64 looks like this", ct_len % EC_BLOCK_LEN);
        return 0;
    }
    put(&w->red, ct->actual, "%zu bytes (%zu blocks of 16)", ct_len, ct_len / EC_BLOCK_LEN);
    ct->ok = 1;
    return 1;
}

/* padding (and inflate for gz): fills w->wire and w->app. */
static void layers_decryption(work *w, ec_explanation *e, int can_decrypt)
{
    ec_explain_layer *l = add_layer(e, "padding");
    put(&w->red, l->expected, "PKCS#7: the last byte n is 1..16 and the last n bytes all equal n");
    if (!can_decrypt) {
        not_reached(l, "no ciphertext to decrypt");
        w->decrypt_status = EC_E_CT_LENGTH;
    } else {
        size_t ct_len = w->dec_len - EC_IV_LEN;
        uint8_t *raw = malloc(ct_len);
        w->wire = malloc(ct_len + 1);
        if (raw == NULL || w->wire == NULL) {
            free(raw);
            put(&w->red, l->actual, "out of memory");
            w->decrypt_status = EC_E_NOMEM;
        } else {
            ec_aes128_cbc_decrypt_raw(w->red.key, w->dec, w->dec + EC_IV_LEN, ct_len, raw, ct_len);
            char last[3 * EC_BLOCK_LEN + 1];
            hex_of(raw + ct_len - EC_BLOCK_LEN, EC_BLOCK_LEN, last, sizeof last);
            w->decrypt_status = ec_aes128_cbc_decrypt(w->red.key, w->dec, w->dec + EC_IV_LEN,
                                                      ct_len, w->wire, ct_len, &w->wire_len);
            l->ok = w->decrypt_status == EC_OK;
            if (l->ok) {
                put(&w->red, l->actual, "last block %s -> %u pad byte%s, %zu bytes of data",
                    last, raw[ct_len - 1], raw[ct_len - 1] == 1 ? "" : "s", w->wire_len);
            } else {
                put(&w->red, l->actual, "last block %s", last);
                put(&w->red, l->note, "%s: a wrong key, a wrong IV, zero padding or a broken "
                                      "last block all end like this",
                    ec_status_text(w->decrypt_status));
                w->wire_len = 0;
            }
            ec_wipe(raw, ct_len);
            free(raw);
        }
    }

    /* The application plaintext: inflated for gz. */
    if (w->decrypt_status == EC_OK && w->profile == EC_PROFILE_AES128CBCGZ) {
        ec_explain_layer *z = add_layer(e, "inflate");
        put(&w->red, z->expected, "a zlib (RFC 1950) stream, as PHP gzcompress writes");
        ec_status st = inflate_zlib(w->wire, w->wire_len, &w->app, &w->app_len);
        z->ok = st == EC_OK;
        if (z->ok) {
            put(&w->red, z->actual, "zlib stream, %zu -> %zu bytes", w->wire_len, w->app_len);
        } else {
            char head[3 * 4 + 1];
            hex_of(w->wire, w->wire_len < 4 ? w->wire_len : 4, head, sizeof head);
            put(&w->red, z->actual, "not zlib: starts %s", head);
            if (w->wire_len >= 2 && w->wire[0] == 0x1f && w->wire[1] == 0x8b)
                put(&w->red, z->note, "1f 8b is a gzip (RFC 1952) header");
            w->app = NULL;
        }
    } else if (w->decrypt_status == EC_OK) {
        w->app = malloc(w->wire_len + 1);
        if (w->app != NULL) {
            memcpy(w->app, w->wire, w->wire_len);
            w->app[w->wire_len] = 0;
            w->app_len = w->wire_len;
        }
    } else if (w->profile == EC_PROFILE_AES128CBCGZ) {
        ec_explain_layer *z = add_layer(e, "inflate");
        put(&w->red, z->expected, "a zlib (RFC 1950) stream, as PHP gzcompress writes");
        not_reached(z, "nothing decrypted");
    }
    /* A plaintext the diagnosis recovered by reading the bytes as the
     * found mistake does (wrong padding, IV at the end, …). */
    if (w->app == NULL && w->diag.plaintext != NULL && w->diag.plaintext_trusted) {
        w->app = malloc(w->diag.plaintext_len + 1);
        if (w->app != NULL) {
            memcpy(w->app, w->diag.plaintext, w->diag.plaintext_len);
            w->app[w->diag.plaintext_len] = 0;
            w->app_len = w->diag.plaintext_len;
            w->app_recovered = 1;
        }
    }

    ec_explain_layer *p = add_layer(e, "plaintext");
    if (w->profile == EC_PROFILE_LEGACY)
        put(&w->red, p->expected, "JSON rows: [[unixtime, node, value, ...], ...]");
    else
        put(&w->red, p->expected, "an unencoded query string: key=value&key=value");
    if (w->app == NULL) {
        not_reached(p, "nothing decrypted with this key");
        return;
    }
    char shown[EC_EXPLAIN_FIELD];
    ec_escape_bytes(w->app, w->app_len, w->red.key, 1, shown, sizeof shown);
    put(&w->red, p->actual, "%s", shown);
    p->ok = !w->app_recovered && is_text(w->app, w->app_len);
    /* The pairs Emoncms keeps, by name. */
    ec_params params;
    ec_params_init(&params);
    char keys[200] = "";
    size_t used = 0;
    if (ec_params_parse_emoncms(&params, (const char *)w->app, w->app_len) == EC_OK)
        for (size_t i = 0; i < params.n && used + 4 < sizeof keys; i++) {
            int wr = snprintf(keys + used, sizeof keys - used, "%s%s", i ? ", " : "",
                              params.items[i].key);
            if (wr > 0)
                used += (size_t)wr;
        }
    if (used >= sizeof keys)
        used = sizeof keys - 1;
    keys[used] = 0;
    if (w->app_recovered)
        put(&w->red, p->note, "%zu bytes, recovered only by reading the body as the mistake "
                              "below does", w->app_len);
    else if (!p->ok)
        put(&w->red, p->note, "%zu bytes, not text: a wrong key decrypts to bytes like these",
            w->app_len);
    else if (w->profile == EC_PROFILE_LEGACY)
        put(&w->red, p->note, "%zu bytes of JSON", w->app_len);
    else
        put(&w->red, p->note, "%zu bytes; the parameters Emoncms keeps: %s", w->app_len,
            params.n ? keys : "none");
    ec_params_free(&params);
}

static void layer_hmac(work *w, ec_explanation *e)
{
    if (w->profile == EC_PROFILE_LEGACY)
        return; /* the 2017 design had no MAC */
    ec_explain_layer *l = add_layer(e, "hmac");
    char expected[EC_HMAC_HEX_LEN + 1] = "";
    if (w->have_correct && (w->app_recovered || w->decrypt_status != EC_OK)) {
        const char *c = strchr(w->correct.authorization, ':');
        snprintf(expected, sizeof expected, "%s", c ? c + 1 : "");
        put(&w->red, l->expected, "%s (HMAC-SHA256 over the recovered plaintext)", expected);
    } else if (w->decrypt_status == EC_OK) {
        ec_hmac_sha256_hex(w->red.key, EC_KEY_LEN, w->wire, w->wire_len, expected);
        put(&w->red, l->expected, "%s (HMAC-SHA256 over the %zu decrypted bytes%s)", expected,
            w->wire_len, w->profile == EC_PROFILE_AES128CBCGZ ? ", still compressed" : "");
    } else {
        put(&w->red, l->expected, "HMAC-SHA256 over the decrypted bytes (nothing decrypted)");
    }
    if (w->given_hmac == NULL) {
        put(&w->red, l->actual, "(no HMAC: Authorization absent or not USERID:HMAC)");
        l->ok = 0;
        return;
    }
    put(&w->red, l->actual, "%.*s", (int)(w->given_hmac_len > 200 ? 200 : w->given_hmac_len),
        w->given_hmac);
    l->ok = expected[0] != 0 && w->given_hmac_len == EC_HMAC_HEX_LEN &&
            memcmp(expected, w->given_hmac, EC_HMAC_HEX_LEN) == 0;
    if (l->ok)
        return;
    if (expected[0] != 0 && w->given_hmac_len == EC_HMAC_HEX_LEN &&
        strncasecmp(expected, w->given_hmac, EC_HMAC_HEX_LEN) == 0) {
        put(&w->red, l->note, "the same digits in uppercase: Emoncms compares byte for byte");
        return;
    }
    if (w->given_hmac_len != EC_HMAC_HEX_LEN || !all_lower_hex(w->given_hmac, w->given_hmac_len)) {
        put(&w->red, l->note, "not 64 lowercase hex digits");
        return;
    }
    char empty_mac[EC_HMAC_HEX_LEN + 1];
    ec_hmac_sha256_hex(w->red.key, EC_KEY_LEN, (const uint8_t *)"", 0, empty_mac);
    if (memcmp(empty_mac, w->given_hmac, EC_HMAC_HEX_LEN) == 0)
        put(&w->red, l->note, "this is the HMAC of the empty string: with it Emoncms "
                              "passes any body that fails to decrypt (SPEC section 4 quirk)");
    else
        put(&w->red, l->note, "does not match: see the diagnosis below");
}

static void layers_answer(work *w, ec_explanation *e)
{
    const ec_answer *a = &w->diag.answer;
    ec_explain_layer *app = add_layer(e, "application");
    put(&w->red, app->expected, "post or bulk data Emoncms can store");
    if (e->fault == EC_OK) {
        app->ok = 1;
        const char *node = a->rows.n ? a->rows.rows[0].node : NULL;
        put(&w->red, app->actual, "%zu value%s stored%s%s", a->rows.n, a->rows.n == 1 ? "" : "s",
            node ? ", first node " : "", node ? node : "");
    } else if (e->fault == EC_F_APP || e->fault == EC_F_LEGACY_DATA) {
        app->ok = 0;
        put(&w->red, app->actual, "%s", e->answer);
        if (w->decrypt_status == EC_OK || w->profile == EC_PROFILE_LEGACY)
            put(&w->red, app->note, "the encryption is right; the plaintext's content is refused");
        else
            put(&w->red, app->note, "reached with an empty plaintext: nothing decrypted");
    } else {
        not_reached(app, ec_status_text(e->fault));
    }

    ec_explain_layer *an = add_layer(e, "answer");
    if (e->ack[0])
        put(&w->red, an->expected, "HTTP 200, the ack %s", e->ack);
    else
        put(&w->red, an->expected, "HTTP 200, the 44-character ack of the data");
    put(&w->red, an->actual, "HTTP %d %s: %s", e->http_status, e->answer_content_type, e->answer);
    an->ok = e->accepted;
    if (e->accepted)
        put(&w->red, an->note, "the ack is base64url(SHA-256(decrypted bytes)) with '=' kept");
    else if (e->fault == EC_F_INVALID_DATA)
        put(&w->red, an->note, "one answer for every crypto failure (no padding oracle); the "
                               "inner cause was: %s", ec_status_text(e->detail));
}

static void layer_diagnosis(work *w, ec_explanation *e)
{
    ec_explain_layer *l = add_layer(e, "diagnosis");
    put(&w->red, l->expected, "the bytes a correct client sends for this data");
    char names[256];
    if (e->reproduced && e->mistakes) {
        ec_mistake_list(e->mistakes, names, sizeof names);
        char alt[256] = "";
        if (e->alternatives)
            ec_mistake_list(e->alternatives, alt, sizeof alt);
        put(&w->red, l->actual, "rebuilt with %s: the same body and Authorization, byte for "
                                "byte%s%s", names, alt[0] ? "; so does " : "", alt);
        l->ok = 0;
    } else if (e->reproduced) {
        put(&w->red, l->actual, "rebuilt without any mistake: the same bytes");
        l->ok = 1;
    } else {
        put(&w->red, l->actual, "no known mistake, nor any pair of them, reproduces these bytes");
        l->ok = 0;
    }
    if (w->have_correct && !l->ok && w->profile == EC_PROFILE_LEGACY) {
        put(&w->red, l->note, "a correct client sends a %zu-character body",
            w->correct.body_len);
    } else if (w->have_correct && !l->ok) {
        const char *c = strchr(w->correct.authorization, ':');
        put(&w->red, l->note, "a correct client sends Authorization %s:%s and a %zu-character body",
            w->auth_userid[0] ? w->auth_userid : w->userid, c ? c + 1 : "",
            w->correct.body_len);
    }
}

/* The request a correct client sends with the data the diagnosis found
 * (or that decrypted), so the expected HMAC and ack are shown even when
 * the request is wrong. */
static void build_correct(work *w)
{
    const uint8_t *pt = NULL;
    size_t n = 0;
    if (w->diag.plaintext != NULL && w->diag.plaintext_trusted) {
        pt = w->diag.plaintext;
        n = w->diag.plaintext_len;
    } else if (w->app != NULL && !w->app_recovered) {
        pt = w->app;
        n = w->app_len;
    } else {
        return;
    }
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = w->profile;
    p.endpoint = strncmp(w->req.path, "/input/bulk", 11) == 0 ? EC_ENDPOINT_BULK
                                                              : EC_ENDPOINT_POST;
    if (strncmp(w->req.path, "/input/post/", 12) == 0 && w->req.path[12] != 0)
        p.path_node = w->req.path + 12;
    memcpy(p.key, w->red.key, EC_KEY_LEN);
    p.apikey_hex = w->in->apikey_hex;
    p.userid = w->auth_userid[0] ? w->auth_userid : w->userid;
    p.username = w->in->username;
    memcpy(p.iv, w->diag.plaintext_trusted ? w->diag.iv : w->dec, EC_IV_LEN);
    p.plaintext = pt;
    p.plaintext_len = n;
    p.mistakes = w->diag.reproduced ? (w->diag.mistakes & EC_MISTAKE_NO_B64_PADDING) : 0;
    w->have_correct = ec_request_build(&p, &w->correct) == EC_OK;
    ec_wipe(p.key, sizeof p.key);
}

static void write_verdict(work *w, ec_explanation *e)
{
    char sentences[480];
    /* Before any other fault: it gives the account away. */
    if (w->key_place[0]) {
        put(&w->red, e->verdict, "you send the write API key in clear, in %s: anyone on the "
                                 "path can read it and post as you", w->key_place);
        return;
    }
    if (e->reproduced && e->mistakes) {
        mistake_sentences(e->mistakes, sentences, sizeof sentences);
        char alt[480] = "";
        if (e->alternatives) {
            char alt_sent[400];
            mistake_sentences(e->alternatives, alt_sent, sizeof alt_sent);
            snprintf(alt, sizeof alt, " (or, the bytes cannot tell which: %s)", alt_sent);
        }
        if (e->accepted)
            put(&w->red, e->verdict, "Emoncms accepts it, but %s%s", sentences, alt);
        else
            put(&w->red, e->verdict, "%s%s", sentences, alt);
        return;
    }
    if (e->valid) {
        put(&w->red, e->verdict, "valid: a correct server answers HTTP 200 with the ack %s",
            e->ack);
        return;
    }
    if (e->accepted) {
        const char *why = "";
        for (size_t i = 0; i < e->layer_count; i++)
            if (!e->layers[i].ok && e->layers[i].reached) {
                why = e->layers[i].note[0] ? e->layers[i].note : e->layers[i].name;
                break;
            }
        put(&w->red, e->verdict, "Emoncms accepts it, but not as the protocol wants: %s", why);
        return;
    }
    if (is_early_fault(e->fault)) {
        put(&w->red, e->verdict, "%s: a server answers HTTP %d '%s' before it looks at the body",
            ec_status_text(e->fault), e->http_status, e->answer);
        return;
    }
    if (e->fault == EC_F_APP && w->decrypt_status != EC_OK) {
        /* SPEC section 4's quirk: what fails to decrypt is MAC-checked as
         * the empty string. */
        put(&w->red, e->verdict, "the body does not decrypt, but the HMAC is the one of the "
                                 "empty string, which Emoncms accepts for any body that fails "
                                 "to decrypt (a padding oracle); the application then answers: "
                                 "%s", e->answer);
        return;
    }
    if (e->fault == EC_F_APP || e->fault == EC_F_LEGACY_DATA) {
        put(&w->red, e->verdict, "the encryption is right, but the application refuses the "
                                 "plaintext: %s", e->answer);
        return;
    }
    if (e->reproduced) {
        put(&w->red, e->verdict, "a correct client would send exactly these bytes, yet the "
                                 "server answers '%s' (%s)", e->answer, ec_status_text(e->detail));
        return;
    }
    /* Nothing reproduces it: say where the straight reading broke. */
    if (w->dec_len < EC_IV_LEN + EC_BLOCK_LEN || (w->dec_len - EC_IV_LEN) % EC_BLOCK_LEN != 0) {
        put(&w->red, e->verdict, "the body does not decode to an IV and whole 16-byte blocks "
                                 "(%zu bytes): it is cut, or not base64 at all", w->dec_len);
        return;
    }
    if (w->diag.body_reproduced || (w->app != NULL && !w->app_recovered &&
                                    is_text(w->app, w->app_len))) {
        put(&w->red, e->verdict, "the body decrypts with this key, but the HMAC in "
                                 "Authorization matches no mistake I know");
        return;
    }
    e->wrong_key = 1;
    put(&w->red, e->verdict, "%s", ec_explain_wrong_key_text);
}

/* see explain.h */
ec_status ec_explain_request(const ec_explain_input *in, ec_explanation *out)
{
    if (in == NULL || out == NULL || in->apikey_hex == NULL ||
        (in->body == NULL && in->body_len > 0))
        return EC_E_ARG;
    ec_explanation_init(out);
    work w;
    memset(&w, 0, sizeof w);
    w.in = in;
    ec_diagnosis_init(&w.diag);
    ec_request_init(&w.correct);
    if (ec_key_from_hex(in->apikey_hex, w.red.key) != EC_OK)
        return EC_E_KEY;
    w.red.secret = in->apikey_hex;

    static const uint8_t no_body[1];
    w.req.method = in->method ? in->method : "POST";
    w.req.path = in->path ? in->path : "/input/post";
    w.req.query = in->query;
    w.req.content_type = in->content_type;
    w.req.authorization = in->authorization;
    w.req.body = in->body ? in->body : no_body;
    w.req.body_len = in->body_len;
    w.profile = decode_profile(in, w.req.path);

    if (in->authorization != NULL) {
        const char *colon = strchr(in->authorization, ':');
        if (colon != NULL) {
            size_t n = (size_t)(colon - in->authorization);
            if (n < sizeof w.auth_userid) {
                memcpy(w.auth_userid, in->authorization, n);
                w.auth_userid[n] = 0;
            }
            if (strchr(colon + 1, ':') == NULL) {
                w.given_hmac = colon + 1;
                w.given_hmac_len = strlen(colon + 1);
            }
        }
    }
    snprintf(w.userid, sizeof w.userid, "%s",
             in->userid ? in->userid : w.auth_userid[0] ? w.auth_userid : "1");

    ec_diagnose_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.key, w.red.key, EC_KEY_LEN);
    cfg.apikey_hex = in->apikey_hex;
    cfg.userid = w.userid;
    cfg.username = in->username;
    cfg.now = in->now ? in->now : (int64_t)time(NULL);
    cfg.strict = in->strict;
    ec_status st = ec_diagnose_request(&cfg, &w.req, &w.diag);
    ec_wipe(cfg.key, sizeof cfg.key);
    if (st != EC_OK) {
        work_free(&w);
        return st;
    }

    const ec_answer *a = &w.diag.answer;
    out->fault = a->fault;
    out->detail = a->detail;
    out->accepted = a->fault == EC_OK;
    out->http_status = a->http_status;
    snprintf(out->answer_content_type, sizeof out->answer_content_type, "%s", a->content_type);
    if (a->answer != NULL)
        ec_escape_bytes((const uint8_t *)a->answer, a->answer_len, w.red.key, 1, out->answer,
                     sizeof out->answer);
    out->reproduced = w.diag.reproduced;
    out->mistakes = w.diag.reproduced ? w.diag.mistakes & ~(unsigned)EC_MISTAKE_NO_B64_PADDING : 0;
    out->alternatives = w.diag.alternatives & ~(unsigned)EC_MISTAKE_NO_B64_PADDING &
                        ~out->mistakes;

    layer_route(&w, out);
    layer_headers(&w, out);
    layer_apikey(&w, out);
    int can_decrypt = layers_encoding(&w, out);
    layers_decryption(&w, out, can_decrypt);
    build_correct(&w);
    if (a->ack[0])
        snprintf(out->ack, sizeof out->ack, "%s", a->ack);
    else if (w.have_correct)
        snprintf(out->ack, sizeof out->ack, "%s", w.correct.ack);
    layer_hmac(&w, out);
    layers_answer(&w, out);

    int all_ok = 1;
    for (size_t i = 0; i < out->layer_count; i++)
        all_ok &= out->layers[i].ok;
    out->valid = out->accepted && all_ok && out->mistakes == 0;
    if (!out->valid)
        layer_diagnosis(&w, out);
    write_verdict(&w, out);
    work_free(&w);
    return EC_OK;
}

/* ---- writers ------------------------------------------------------------- */

/* see explain.h */
int ec_explanation_write_text(const ec_explanation *e, FILE *out)
{
    for (size_t i = 0; i < e->layer_count; i++) {
        const ec_explain_layer *l = &e->layers[i];
        const char *mark = !l->reached ? "--" : l->ok ? "ok" : "FAIL";
        fprintf(out, "  %-4s  %-13s %s\n", mark, l->name, l->actual);
        if (l->reached && !l->ok)
            fprintf(out, "        %-13s expected: %s\n", "", l->expected);
        if (l->note[0])
            fprintf(out, "        %-13s note: %s\n", "", l->note);
    }
    fprintf(out, "verdict: %s\n", e->verdict);
    return ferror(out) ? -1 : 0;
}

static json_t *mistake_array(unsigned bits)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < EC_MISTAKE_COUNT; i++)
        if (bits & (1u << i))
            json_array_append_new(arr, json_string(ec_mistake_name(1u << i)));
    return arr;
}

/* Texts are already printable-escaped; json_string refuses what is not
 * UTF-8 (a cut inside a sequence cannot happen, but be safe). */
static json_t *text_value(const char *s)
{
    json_t *v = json_string(s);
    return v != NULL ? v : json_string("[not UTF-8]");
}

/* see explain.h */
char *ec_explanation_json(const ec_explanation *e, int indent)
{
    json_t *root = json_object();
    if (root == NULL)
        return NULL;
    json_object_set_new(root, "valid", json_boolean(e->valid));
    json_object_set_new(root, "accepted", json_boolean(e->accepted));
    json_object_set_new(root, "fault", json_string(ec_status_name(e->fault)));
    json_object_set_new(root, "detail", json_string(ec_status_name(e->detail)));
    json_t *answer = json_object();
    json_object_set_new(answer, "status", json_integer(e->http_status));
    json_object_set_new(answer, "content_type", text_value(e->answer_content_type));
    json_object_set_new(answer, "body", text_value(e->answer));
    json_object_set_new(root, "answer", answer);
    json_object_set_new(root, "ack", e->ack[0] ? json_string(e->ack) : json_null());
    json_object_set_new(root, "reproduced", json_boolean(e->reproduced));
    json_object_set_new(root, "mistakes", mistake_array(e->mistakes));
    json_object_set_new(root, "alternatives", mistake_array(e->alternatives));
    json_object_set_new(root, "wrong_key", json_boolean(e->wrong_key));
    json_object_set_new(root, "verdict", text_value(e->verdict));
    json_t *layers = json_array();
    for (size_t i = 0; i < e->layer_count; i++) {
        const ec_explain_layer *l = &e->layers[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(l->name));
        json_object_set_new(o, "ok", json_boolean(l->ok));
        json_object_set_new(o, "reached", json_boolean(l->reached));
        json_object_set_new(o, "expected", text_value(l->expected));
        json_object_set_new(o, "actual", text_value(l->actual));
        json_object_set_new(o, "note", text_value(l->note));
        json_array_append_new(layers, o);
    }
    json_object_set_new(root, "layers", layers);
    char *s = json_dumps(root, indent ? JSON_INDENT(2) : JSON_COMPACT);
    json_decref(root);
    return s;
}
