/* see srv.h — requests described as data (srv_spec), built with the
 * protocol core's builder (ec_request_build) and then, for the invalid
 * cases, damaged in exactly one way. */
#include "server/srv.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"

/* ---- probes ---------------------------------------------------------------- */

/* see srv.h */
void srv_probe_init(srv_probe *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->method, sizeof p->method, "POST");
}

/* see srv.h */
void srv_probe_free(srv_probe *p)
{
    free(p->query);
    free(p->content_type);
    free(p->authorization);
    for (size_t i = 0; i < p->n_extra; i++) {
        free(p->extra[i].name);
        free(p->extra[i].value);
    }
    free(p->body);
    srv_probe_init(p);
}

static void replace_str(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? strdup(v) : NULL;
}

/* see srv.h */
void srv_probe_set_ctype(srv_probe *p, const char *v) { replace_str(&p->content_type, v); }
/* see srv.h */
void srv_probe_set_auth(srv_probe *p, const char *v) { replace_str(&p->authorization, v); }
/* see srv.h */
void srv_probe_set_query(srv_probe *p, const char *v) { replace_str(&p->query, v); }

/* see srv.h */
void srv_probe_set_body(srv_probe *p, const void *b, size_t n)
{
    uint8_t *copy = malloc(n + 1);
    if (!copy)
        return;
    if (n)
        memcpy(copy, b, n);
    copy[n] = 0;
    free(p->body);
    p->body = copy;
    p->body_len = n;
}

/* see srv.h */
void srv_probe_add_header(srv_probe *p, const char *name, const char *value)
{
    if (p->n_extra >= SRV_MAX_EXTRA_HEADERS)
        return;
    p->extra[p->n_extra].name = strdup(name);
    p->extra[p->n_extra].value = strdup(value);
    p->n_extra++;
}

/* ---- templates --------------------------------------------------------------- */

/* see srv.h */
uint32_t srv_next_marker(srv_ctx *ctx)
{
    ctx->marker += 10;
    return ctx->marker;
}

typedef struct {
    char *s;
    size_t n, cap;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 128;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *g = realloc(b->s, cap);
        if (!g)
            return;
        b->s = g;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* see srv.h */
char *srv_expand(srv_ctx *ctx, const char *tmpl, uint32_t marker)
{
    strbuf b = { 0 };
    sb_put(&b, "", 0);
    long long now = (long long)srv_now();
    for (const char *p = tmpl; *p;) {
        if (!(p[0] == '$' && p[1] == '{')) {
            const char *next = strstr(p + 1, "${");
            size_t n = next ? (size_t)(next - p) : strlen(p);
            sb_put(&b, p, n);
            p += n;
            continue;
        }
        const char *end = strchr(p, '}');
        if (!end) {
            sb_put(&b, p, strlen(p));
            break;
        }
        char tok[32];
        size_t tn = (size_t)(end - p - 2);
        if (tn >= sizeof tok)
            tn = sizeof tok - 1;
        memcpy(tok, p + 2, tn);
        tok[tn] = 0;
        if (strcmp(tok, "node") == 0)
            sb_put(&b, ctx->node, strlen(ctx->node));
        else if (strcmp(tok, "now") == 0)
            sb_printf(&b, "%lld", now);
        else if (strncmp(tok, "now-", 4) == 0)
            sb_printf(&b, "%lld", now - atoll(tok + 4));
        else if (strncmp(tok, "now+", 4) == 0)
            sb_printf(&b, "%lld", now + atoll(tok + 4));
        else if (strcmp(tok, "v") == 0)
            sb_printf(&b, "%u", marker);
        else if (tok[0] == 'v' && isdigit((unsigned char)tok[1]))
            sb_printf(&b, "%u", marker + (uint32_t)atoi(tok + 1));
        else if (strcmp(tok, "uid") == 0)
            sb_put(&b, ctx->opt->userid, strlen(ctx->opt->userid));
        else
            sb_put(&b, p, (size_t)(end - p + 1));   /* left for the caller */
        p = end + 1;
    }
    return b.s;
}

/* Replace every "${name}" in s by value (malloc'd result; s freed). */
static char *subst(char *s, const char *name, const char *value)
{
    char pat[40];
    snprintf(pat, sizeof pat, "${%s}", name);
    strbuf b = { 0 };
    sb_put(&b, "", 0);
    const char *p = s;
    for (;;) {
        const char *hit = strstr(p, pat);
        if (!hit) {
            sb_put(&b, p, strlen(p));
            break;
        }
        sb_put(&b, p, (size_t)(hit - p));
        sb_put(&b, value, strlen(value));
        p = hit + strlen(pat);
    }
    free(s);
    return b.s;
}

/* ---- body edits ---------------------------------------------------------------- */

static char *b64url(const uint8_t *b, size_t n, int padding, ec_b64_alphabet alpha, size_t *len)
{
    size_t cap = ec_b64_encoded_len(n, padding) + 1;
    char *out = malloc(cap);
    if (out && ec_b64_encode(b, n, alpha, padding, out, cap, len) != EC_OK) {
        free(out);
        out = NULL;
    }
    return out;
}

static uint8_t *decode(const char *text, size_t n, size_t *len)
{
    uint8_t *out = malloc(n + 1);
    if (out && ec_b64_decode_compat(text, n, out, n + 1, len) != EC_OK) {
        free(out);
        out = NULL;
    }
    return out;
}

static void set_text_body(srv_probe *p, char *text, size_t len)
{
    srv_probe_set_body(p, text, len);
    free(text);
}

/* Re-encrypt the plaintext with a chosen, faulty, final pad. */
static int bad_padding_body(srv_ctx *ctx, const ec_request *r, srv_edit edit, srv_probe *p)
{
    size_t n = r->wire_plaintext_len;
    size_t padded = ec_pkcs7_padded_len(n);
    size_t pad = padded - n;
    uint8_t *pt = malloc(padded);
    uint8_t *ct = malloc(padded + EC_IV_LEN);
    if (!pt || !ct) {
        free(pt);
        free(ct);
        return -1;
    }
    memcpy(pt, r->wire_plaintext, n);
    memset(pt + n, (int)pad, pad);
    switch (edit) {
    case SRV_EDIT_PAD_ZERO:
        pt[padded - 1] = 0x00;
        break;
    case SRV_EDIT_PAD_RANGE:
        pt[padded - 1] = 0x11;
        break;
    case SRV_EDIT_PAD_BYTES:
        /* the builder gave at least 4 pad bytes (see srv_build) */
        pt[padded - pad] ^= 0x01;
        break;
    case SRV_EDIT_PAD_FULL_BLOCK_BAD:
        /* plaintext is a multiple of 16: a full pad block, one byte off */
        memset(pt + padded - 16, 0x10, 16);
        pt[padded - 16] = 0x0f;
        break;
    default:
        break;
    }
    uint8_t iv[EC_IV_LEN];
    size_t b64len = 0;
    /* the request's own IV (first 16 decoded bytes) */
    size_t raw_len = 0;
    uint8_t *raw = decode(r->body, r->body_len, &raw_len);
    if (!raw || raw_len < EC_IV_LEN) {
        free(raw);
        free(pt);
        free(ct);
        return -1;
    }
    memcpy(iv, raw, EC_IV_LEN);
    free(raw);
    memcpy(ct, iv, EC_IV_LEN);
    ec_aes128_cbc_encrypt_raw(ctx->key, iv, pt, padded, ct + EC_IV_LEN, padded);
    char *text = b64url(ct, padded + EC_IV_LEN, 1, EC_B64_URL, &b64len);
    free(pt);
    free(ct);
    if (!text)
        return -1;
    set_text_body(p, text, b64len);
    return 0;
}

static int edit_bytes(srv_probe *p, srv_edit edit, const char *arg)
{
    size_t n = 0;
    uint8_t *raw = decode((const char *)p->body, p->body_len, &n);
    if (!raw)
        return -1;
    size_t extra = arg ? (size_t)atoi(arg) : 0;
    uint8_t *grown = realloc(raw, n + extra + 16);
    if (!grown) {
        free(raw);
        return -1;
    }
    raw = grown;
    switch (edit) {
    case SRV_EDIT_APPEND_BYTES:
        srv_random(raw + n, extra);
        n += extra;
        break;
    case SRV_EDIT_KEEP_BYTES:
        if (extra < n)
            n = extra;
        break;
    case SRV_EDIT_FLIP_IV_BIT:
        raw[3] ^= 0x01;
        break;
    case SRV_EDIT_FLIP_LAST_BIT:
        raw[n - 1] ^= 0x01;
        break;
    case SRV_EDIT_DROP_LAST_BLOCK:
        if (n >= EC_IV_LEN + 2 * EC_BLOCK_LEN)
            n -= EC_BLOCK_LEN;
        break;
    case SRV_EDIT_SWAP_BLOCKS:
        if (n >= EC_IV_LEN + 2 * EC_BLOCK_LEN) {
            uint8_t t[EC_BLOCK_LEN];
            memcpy(t, raw + EC_IV_LEN, EC_BLOCK_LEN);
            memcpy(raw + EC_IV_LEN, raw + EC_IV_LEN + EC_BLOCK_LEN, EC_BLOCK_LEN);
            memcpy(raw + EC_IV_LEN + EC_BLOCK_LEN, t, EC_BLOCK_LEN);
        }
        break;
    default:
        break;
    }
    size_t len = 0;
    char *text = b64url(raw, n, 1, EC_B64_URL, &len);
    free(raw);
    if (!text)
        return -1;
    set_text_body(p, text, len);
    return 0;
}

static int edit_text(srv_probe *p, srv_edit edit, const char *arg)
{
    strbuf b = { 0 };
    sb_put(&b, "", 0);
    const char *t = (const char *)p->body;
    size_t n = p->body_len;
    size_t unpadded = n;
    while (unpadded > 0 && t[unpadded - 1] == '=')
        unpadded--;
    switch (edit) {
    case SRV_EDIT_EMPTY:
        break;
    case SRV_EDIT_REPLACE:
        sb_put(&b, arg, strlen(arg));
        break;
    case SRV_EDIT_INSERT_MIDDLE: {
        size_t mid = (unpadded / 2) & ~(size_t)3;
        sb_put(&b, t, mid);
        sb_put(&b, arg, strlen(arg));
        sb_put(&b, t + mid, n - mid);
        break;
    }
    case SRV_EDIT_APPEND:
        sb_put(&b, t, n);
        sb_put(&b, arg, strlen(arg));
        break;
    case SRV_EDIT_STRIP_PADDING:
        sb_put(&b, t, unpadded);
        break;
    case SRV_EDIT_DROP_LAST_CHAR:
        sb_put(&b, t, unpadded - 1);
        break;
    case SRV_EDIT_TRAILING_BITS: {
        /* the last character carries 2 or 4 unused bits: set the lowest */
        static const char alpha[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        sb_put(&b, t, unpadded);
        const char *pos = strchr(alpha, b.s[unpadded - 1]);
        if (pos && unpadded % 4 != 0)
            b.s[unpadded - 1] = alpha[(size_t)(pos - alpha) | 1];
        break;
    }
    case SRV_EDIT_PERCENT_PADDING:
        sb_put(&b, t, unpadded);
        for (size_t i = unpadded; i < n; i++)
            sb_put(&b, "%3D", 3);
        break;
    case SRV_EDIT_FORM:
        sb_put(&b, "data=", 5);
        sb_put(&b, t, n);
        break;
    case SRV_EDIT_STD_ALPHABET_NO_PAD:
        sb_put(&b, t, unpadded);
        for (size_t i = 0; i < unpadded; i++)
            b.s[i] = b.s[i] == '-' ? '+' : b.s[i] == '_' ? '/' : b.s[i];
        break;
    default:
        sb_put(&b, t, n);
        break;
    }
    srv_probe_set_body(p, b.s, b.n);
    free(b.s);
    return 0;
}

/* Pad the plaintext with '&' (an empty piece Emoncms ignores) so that its
 * length suits an edit: a multiple of 16, at least 4 pad bytes, or a body
 * whose base64 ends in a partial quantum. */
static void shape_plaintext(strbuf *pt, srv_edit edit, int shape)
{
    for (int guard = 0; guard < 64; guard++) {
        size_t n = pt->n;
        size_t padded = ec_pkcs7_padded_len(n);
        int ok = 1;
        if (edit == SRV_EDIT_PAD_FULL_BLOCK_BAD || shape == SRV_SHAPE_BLOCK_MULTIPLE)
            ok = n % 16 == 0 && n > 0;
        else if (edit == SRV_EDIT_PAD_BYTES)
            ok = padded - n >= 4;
        else if (edit == SRV_EDIT_TRAILING_BITS || edit == SRV_EDIT_STRIP_PADDING ||
                 edit == SRV_EDIT_PERCENT_PADDING || shape == SRV_SHAPE_PARTIAL_QUANTUM)
            ok = (EC_IV_LEN + padded) % 3 != 0;
        else if (edit == SRV_EDIT_SWAP_BLOCKS || edit == SRV_EDIT_DROP_LAST_BLOCK)
            ok = padded >= 2 * EC_BLOCK_LEN;
        if (ok)
            return;
        sb_put(pt, "&", 1);
    }
}

static int build_once(srv_ctx *ctx, const srv_spec *spec, uint32_t marker, srv_probe *probe,
                      char *ack_out, char **why);

/* A standard-alphabet case whose random IV happened to give a body with
 * neither '+' nor '/' (about 1 in 25) tests nothing: draw again. */
static int lacks_std_chars(const srv_spec *spec, const srv_probe *p)
{
    if (!(spec->mistakes & EC_MISTAKE_STD_ALPHABET) && spec->edit != SRV_EDIT_STD_ALPHABET_NO_PAD)
        return 0;
    for (size_t i = 0; i < p->body_len; i++)
        if (p->body[i] == '+' || p->body[i] == '/')
            return 0;
    return 1;
}

/* see srv.h */
int srv_build(srv_ctx *ctx, const srv_spec *spec, uint32_t marker, srv_probe *probe,
              char *ack_out, char **why)
{
    int rc = build_once(ctx, spec, marker, probe, ack_out, why);
    for (int tries = 0; rc == 0 && tries < 64 && lacks_std_chars(spec, probe); tries++) {
        srv_probe_free(probe);
        rc = build_once(ctx, spec, marker, probe, ack_out, why);
    }
    return rc;
}

static int build_once(srv_ctx *ctx, const srv_spec *spec, uint32_t marker, srv_probe *probe,
                      char *ack_out, char **why)
{
    const ec_server_suite_options *o = ctx->opt;
    strbuf pt = { 0 };
    sb_put(&pt, "", 0);
    char *expanded = srv_expand(ctx, spec->plaintext ? spec->plaintext : "", marker);
    sb_put(&pt, expanded, strlen(expanded));
    free(expanded);
    shape_plaintext(&pt, spec->edit, spec->shape);

    ec_request_params rp;
    memset(&rp, 0, sizeof rp);
    rp.profile = (ec_profile)spec->profile;
    /* --profile aes128cbcgz: an aes128cbc case of the post, bulk, ack and
     * crypto sections goes through the gz path (compressed, Content-Type
     * aes128cbcgz); the expectation follows from what is sent. */
    if (srv_gz_path() && spec->profile == 0 && !spec->content_type && spec->shape == SRV_SHAPE_NONE)
        rp.profile = EC_PROFILE_AES128CBCGZ;
    rp.endpoint = spec->bulk ? EC_ENDPOINT_BULK : EC_ENDPOINT_POST;
    memcpy(rp.key, ctx->key, EC_KEY_LEN);
    if (spec->edit == SRV_EDIT_WRONG_KEY)
        for (size_t i = 0; i < EC_KEY_LEN; i++)
            rp.key[i] ^= 0x5a;
    rp.apikey_hex = o->apikey_hex;
    rp.userid = o->userid;
    rp.username = o->username ? o->username : "";
    srv_random(rp.iv, EC_IV_LEN);
    rp.plaintext = (const uint8_t *)pt.s;
    rp.plaintext_len = pt.n;
    rp.mistakes = spec->mistakes;

    ec_request r;
    ec_request_init(&r);
    ec_status st = ec_request_build(&rp, &r);
    ec_wipe(rp.key, sizeof rp.key);
    if (st != EC_OK) {
        if (why) {
            *why = malloc(128);
            if (*why)
                snprintf(*why, 128, "could not build the request: %s", ec_status_text(st));
        }
        free(pt.s);
        ec_request_free(&r);
        return -1;
    }

    srv_probe_init(probe);
    snprintf(probe->method, sizeof probe->method, "%s", spec->method ? spec->method : r.method);
    if (spec->path) {
        char *path = srv_expand(ctx, spec->path, marker);
        snprintf(probe->path, sizeof probe->path, "%s", path);
        free(path);
    } else {
        snprintf(probe->path, sizeof probe->path, "%s", r.path);
    }
    if (spec->query) {
        char *q = srv_expand(ctx, spec->query, marker);
        srv_probe_set_query(probe, q);
        free(q);
    }
    if (spec->content_type == SRV_ABSENT)
        srv_probe_set_ctype(probe, NULL);
    else
        srv_probe_set_ctype(probe, spec->content_type ? spec->content_type : r.content_type);
    probe->lower_header_names = spec->lower_header_names;

    /* Authorization: the builder's, or a template over it. */
    if (spec->authorization == SRV_ABSENT || rp.profile == EC_PROFILE_LEGACY) {
        srv_probe_set_auth(probe, NULL);
    } else if (!spec->authorization) {
        srv_probe_set_auth(probe, r.authorization);
    } else {
        const char *colon = strchr(r.authorization, ':');
        char hmac[EC_HMAC_HEX_LEN + 1] = "";
        if (colon)
            snprintf(hmac, sizeof hmac, "%s", colon + 1);
        char upper[EC_HMAC_HEX_LEN + 1], flip[EC_HMAC_HEX_LEN + 1], shortened[EC_HMAC_HEX_LEN];
        char empty[EC_HMAC_HEX_LEN + 1], inflated[EC_HMAC_HEX_LEN + 1];
        for (size_t i = 0; i <= EC_HMAC_HEX_LEN; i++)
            upper[i] = (char)toupper((unsigned char)hmac[i]);
        memcpy(flip, hmac, sizeof flip);
        flip[EC_HMAC_HEX_LEN - 1] = flip[EC_HMAC_HEX_LEN - 1] == '0' ? '1' : '0';
        memcpy(shortened, hmac, EC_HMAC_HEX_LEN - 1);
        shortened[EC_HMAC_HEX_LEN - 1] = 0;
        ec_hmac_sha256_hex(ctx->key, EC_KEY_LEN, (const uint8_t *)"", 0, empty);
        ec_hmac_sha256_hex(ctx->key, EC_KEY_LEN, (const uint8_t *)pt.s, pt.n, inflated);
        char *a = srv_expand(ctx, spec->authorization, marker);
        a = subst(a, "hmac", hmac);
        a = subst(a, "HMAC", upper);
        a = subst(a, "hmac-flip", flip);
        a = subst(a, "hmac-short", shortened);
        a = subst(a, "hmac-empty", empty);
        a = subst(a, "hmac-inflated", inflated);
        a = subst(a, "uid-unknown", "987654321");
        srv_probe_set_auth(probe, a);
        free(a);
    }
    srv_probe_set_body(probe, r.body, r.body_len);

    int rc = 0;
    switch (spec->edit) {
    case SRV_EDIT_NONE:
    case SRV_EDIT_WRONG_KEY:
        break;
    case SRV_EDIT_PAD_ZERO:
    case SRV_EDIT_PAD_RANGE:
    case SRV_EDIT_PAD_BYTES:
    case SRV_EDIT_PAD_FULL_BLOCK_BAD:
        rc = bad_padding_body(ctx, &r, spec->edit, probe);
        break;
    case SRV_EDIT_APPEND_BYTES:
    case SRV_EDIT_KEEP_BYTES:
    case SRV_EDIT_FLIP_IV_BIT:
    case SRV_EDIT_FLIP_LAST_BIT:
    case SRV_EDIT_DROP_LAST_BLOCK:
    case SRV_EDIT_SWAP_BLOCKS:
        rc = edit_bytes(probe, spec->edit, spec->edit_arg);
        break;
    default:
        rc = edit_text(probe, spec->edit, spec->edit_arg ? spec->edit_arg : "");
        break;
    }
    if (ack_out)
        memcpy(ack_out, r.ack, EC_ACK_LEN + 1);
    free(pt.s);
    ec_request_free(&r);
    if (rc != 0 && why) {
        *why = strdup("could not apply the case's edit to the body");
    }
    return rc;
}
