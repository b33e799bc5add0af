/* server/4.ack/… — the ack: base64url(SHA-256(decrypted bytes)) with '='
 * kept, 44 characters, text/plain, nothing else in the body (SPEC §2, §4).
 * Each case checks one property, so a broken ack names what is wrong. */
#include "server/srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"

typedef enum {
    ACK_EXACT,          /* body is exactly the ack */
    ACK_LENGTH,         /* 44 bytes */
    ACK_URL_ALPHABET,   /* '-' '_' not '+' '/' */
    ACK_PADDING,        /* ends in '=' */
    ACK_CTYPE,          /* text/plain */
    ACK_OF_PLAINTEXT,   /* the hash of the decrypted bytes, not of the body */
    ACK_FRESH_IV        /* the same plaintext under two IVs: the same ack */
} ack_property;

typedef struct {
    ack_property property;
    int profile;
    int bulk;
} ack_arg;

/* A plaintext whose ack contains '-' or '_' (about three in four do), so
 * an ack in the standard alphabet differs from the right one. */
static char *plaintext_with_url_chars(srv_ctx *ctx, uint32_t v)
{
    for (int k = 0; k < 200; k++) {
        char *pt = malloc(256);
        if (!pt)
            return NULL;
        snprintf(pt, 256, "node=%s&csv=%u,%d", ctx->node, v, k);
        char ack[EC_ACK_LEN + 1];
        ec_ack_of((const uint8_t *)pt, strlen(pt), ack);
        if (strchr(ack, '-') || strchr(ack, '_'))
            return pt;
        free(pt);
    }
    return NULL;
}

static void run_ack(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    const ack_arg *arg = c->arg;
    uint32_t v = srv_next_marker(ctx);
    char *pt = NULL;
    if (arg->bulk) {
        pt = malloc(256);
        if (pt)
            snprintf(pt, 256, "sentat=0&data=[[0,\"%s\",%u]]", ctx->node, v);
    } else {
        pt = plaintext_with_url_chars(ctx, v);
    }
    if (!pt) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "internal: out of memory");
        return;
    }
    srv_spec spec = { .profile = arg->profile, .bulk = arg->bulk, .plaintext = pt };
    srv_probe p;
    char ack[EC_ACK_LEN + 1];
    char *why = NULL;
    if (srv_build(ctx, &spec, v, &p, ack, &why) != 0) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "%s", why ? why : "build failed");
        free(why);
        free(pt);
        srv_probe_free(&p);
        return;
    }
    srv_describe(ctx, &p, out);
    srv_reply r;
    srv_send(ctx, &p, &r);
    out->elapsed_ms = r.elapsed_ms;
    char *got = srv_reply_text(&r);
    const char *body = (const char *)r.body;
    out->verdict = EC_VERDICT_PASS;
    if (r.net != SRV_NET_OK || r.status != 200) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "a correct request was not acknowledged: got %s", got);
        srv_note_known_ctx(ctx, c, &r, NULL, 0, out);
        srv_set_bytes(out, ack, EC_ACK_LEN, r.body, r.body_len);
        goto done;
    }
    switch (arg->property) {
    case ACK_EXACT:
        if (r.body_len != EC_ACK_LEN || memcmp(body, ack, EC_ACK_LEN) != 0) {
            out->verdict = EC_VERDICT_FAIL;
            srv_say(out, "the body MUST be exactly the 44-character ack, nothing before or after; got %s", got);
        } else {
            srv_say(out, "the body is exactly the ack");
        }
        srv_set_bytes(out, ack, EC_ACK_LEN, r.body, r.body_len);
        break;
    case ACK_LENGTH:
        if (r.body_len != EC_ACK_LEN) {
            out->verdict = EC_VERDICT_FAIL;
            srv_say(out, "the ack MUST be 44 characters (base64 of 32 bytes with '='); got %zu: %s",
                    r.body_len, got);
            srv_set_bytes(out, ack, EC_ACK_LEN, r.body, r.body_len);
        } else {
            srv_say(out, "44 characters");
        }
        break;
    case ACK_URL_ALPHABET:
        for (size_t i = 0; i < r.body_len; i++)
            if (body[i] == '+' || body[i] == '/') {
                out->verdict = EC_VERDICT_FAIL;
                srv_say(out, "the ack MUST use the URL alphabet ('-' '_'); found '%c' at byte %zu: %s",
                        body[i], i, got);
                srv_set_bytes(out, ack, EC_ACK_LEN, r.body, r.body_len);
                break;
            }
        if (out->verdict == EC_VERDICT_PASS)
            srv_say(out, "URL alphabet (the expected ack %s has '-' or '_')", ack);
        break;
    case ACK_PADDING:
        if (r.body_len == 0 || body[r.body_len - 1] != '=') {
            out->verdict = EC_VERDICT_FAIL;
            srv_say(out, "the ack MUST keep its '=' padding (the last of 44 characters); got %s", got);
            srv_set_bytes(out, ack, EC_ACK_LEN, r.body, r.body_len);
        } else {
            srv_say(out, "'=' kept");
        }
        break;
    case ACK_CTYPE: {
        const char *ct = r.content_type ? r.content_type : "";
        if (strncasecmp(ct, "text/plain", 10) != 0 || (ct[10] && ct[10] != ';' && ct[10] != ' ')) {
            out->verdict = EC_VERDICT_FAIL;
            srv_say(out, "the ack MUST come as text/plain; got Content-Type '%s'", ct[0] ? ct : "(none)");
            srv_set_bytes(out, "text/plain", 10, ct, strlen(ct));
        } else {
            srv_say(out, "Content-Type %s", ct);
        }
        break;
    }
    case ACK_OF_PLAINTEXT:
        if (r.body_len < EC_ACK_LEN || memcmp(body, ack, EC_ACK_LEN) != 0) {
            /* Say what it is the hash of, when we can tell. */
            size_t n = 0;
            uint8_t *raw = malloc(p.body_len + 1);
            char of_body[EC_ACK_LEN + 1] = "";
            if (raw && ec_b64_decode_compat((const char *)p.body, p.body_len, raw, p.body_len + 1, &n) == EC_OK)
                ec_ack_of(raw, n, of_body);
            free(raw);
            int is_ct = r.body_len >= EC_ACK_LEN && memcmp(body, of_body, EC_ACK_LEN) == 0;
            out->verdict = EC_VERDICT_FAIL;
            srv_say(out, "the ack MUST be SHA-256 of the decrypted bytes%s; got %s",
                    is_ct ? " — this one is the hash of IV||ciphertext, which proves nothing" : "", got);
            srv_set_bytes(out, ack, EC_ACK_LEN, r.body, r.body_len);
        } else {
            srv_say(out, "the ack is the hash of the decrypted bytes");
        }
        break;
    case ACK_FRESH_IV: {
        srv_probe p2;
        char ack2[EC_ACK_LEN + 1];
        if (srv_build(ctx, &spec, v, &p2, ack2, NULL) == 0) {
            srv_reply r2;
            srv_send(ctx, &p2, &r2);
            if (r2.net != SRV_NET_OK || r2.body_len != r.body_len || memcmp(r2.body, r.body, r.body_len) != 0) {
                char *got2 = srv_reply_text(&r2);
                out->verdict = EC_VERDICT_FAIL;
                srv_say(out, "the same plaintext under a fresh IV MUST get the same ack; first %s, then %s", got, got2);
                free(got2);
                srv_set_bytes(out, r.body, r.body_len, r2.body, r2.body_len);
            } else {
                srv_say(out, "same ack under two IVs");
            }
            srv_reply_free(&r2);
        }
        srv_probe_free(&p2);
        break;
    }
    }
done:
    free(got);
    free(pt);
    srv_reply_free(&r);
    srv_probe_free(&p);
}

/* The fields every ack row shares; each row writes out its id in full. */
#define ACK_RUN(...) \
    .run = run_ack, .arg = &(const ack_arg){ __VA_ARGS__ }, .profiles = SRV_P_CURRENT, \
    .strict_rule = SRV_STRICT_NON_STRICT

const srv_case srv_cases_4_ack[] = {
    { .id = "server/4.ack/exact-body",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "The answer body MUST be exactly the ack: no newline, nothing else (SPEC §4).",
      ACK_RUN(.property = ACK_EXACT) },
    { .id = "server/4.ack/length-44",
      .mutants = "ack-hex,ack-newline",
      .requirement = "The ack MUST be 44 characters (SPEC §2).",
      ACK_RUN(.property = ACK_LENGTH) },
    { .id = "server/4.ack/url-alphabet",
      .mutants = "ack-std-alphabet",
      .requirement = "The ack MUST use the URL alphabet, '-' for 62 and '_' for 63 (SPEC §2).",
      ACK_RUN(.property = ACK_URL_ALPHABET) },
    { .id = "server/4.ack/padding-kept",
      .mutants = "ack-no-padding,ack-newline",
      .requirement = "The ack MUST keep its '=' padding (SPEC §2).",
      ACK_RUN(.property = ACK_PADDING) },
    { .id = "server/4.ack/content-type",
      .mutants = "ack-text-html,ignore-iv",
      .requirement = "The ack MUST come with Content-Type text/plain (SPEC §4).",
      ACK_RUN(.property = ACK_CTYPE) },
    { .id = "server/4.ack/of-plaintext",
      .mutants = "ack-of-ciphertext,ack-hex",
      .requirement = "The ack MUST be SHA-256 of the decrypted bytes: it proves the server holds the key (SPEC §2, §4).",
      ACK_RUN(.property = ACK_OF_PLAINTEXT) },
    { .id = "server/4.ack/fresh-iv-same-ack",
      .mutants = "ack-of-ciphertext",
      .requirement = "The ack depends only on the plaintext, not on the IV (SPEC §2, §7).",
      ACK_RUN(.property = ACK_FRESH_IV) },
    { .id = "server/4.ack/bulk",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "An input/bulk ack MUST be the exact ack too (SPEC §4).",
      ACK_RUN(.property = ACK_EXACT, .bulk = 1) },
    { .id = "server/4.ack/gz-of-compressed",
      .mutants = "emoncms-no-gz,ack-of-ciphertext",
      .requirement = "For aes128cbcgz the ack MUST be SHA-256 of the compressed bytes (SPEC §2).",
      ACK_RUN(.property = ACK_OF_PLAINTEXT, .profile = 1) },
};
SRV_CASES_COUNT(4_ack);
