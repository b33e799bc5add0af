/* see server_suite.h — the set-up diagnosis (issue 13 point 4): a few
 * probes before the suite, so that a wrong key, a wrong user id, a URL that
 * is not an Emoncms or one that lacks its path ("http://host" for
 * "http://host/emoncms") is one line and exit 2, not hundreds of FAILs.
 *
 * The probe is a correct post (SPEC §3) of one value to the run's node.
 * What Emoncms answers it (index.php, the aes128cbc branch): the ack when
 * the key is the user's write key, "invalid data" when the HMAC does not
 * match (a wrong key), "User not found" when the user id is not an
 * account.  An HTML page or an HTTP 404 is not Emoncms's input API. */
#include "server/srv.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emoncrypt/codec.h"

/* The body without surrounding white space. */
static void trimmed(const srv_reply *r, const char **s, size_t *n)
{
    const char *b = (const char *)r->body;
    size_t len = r->body_len;
    while (len && isspace((unsigned char)b[0]))
        b++, len--;
    while (len && isspace((unsigned char)b[len - 1]))
        len--;
    *s = b;
    *n = len;
}

static int body_is(const srv_reply *r, const char *text)
{
    const char *s;
    size_t n;
    trimmed(r, &s, &n);
    return n == strlen(text) && memcmp(s, text, n) == 0;
}

/* An HTML page: Emoncms's input API answers plain texts (under a text/html
 * Content-Type, as PHP does), never markup. */
static int body_is_html(const srv_reply *r)
{
    const char *s;
    size_t n;
    trimmed(r, &s, &n);
    return n > 0 && s[0] == '<';
}

/* " (\"TITLE\")" from an HTML page's <title>, printable ASCII, cut short. */
static void html_title(const srv_reply *r, char *out, size_t cap)
{
    out[0] = 0;
    const char *b = (const char *)r->body;
    const char *t = NULL;
    for (size_t i = 0; i + 7 <= r->body_len && !t; i++)
        if (strncasecmp(b + i, "<title>", 7) == 0)
            t = b + i + 7;
    if (!t)
        return;
    char title[64];
    size_t k = 0;
    for (; *t && *t != '<' && k + 1 < sizeof title; t++)
        if ((unsigned char)*t >= 0x20 && (unsigned char)*t < 0x7f && *t != '"')
            title[k++] = *t;
    title[k] = 0;
    if (k)
        snprintf(out, cap, " (\"%s\")", title);
}

typedef enum {
    ANS_NONE,       /* no answer (the runner's preflight says why) */
    ANS_ACK,        /* the ack: the set-up is right */
    ANS_INVALID,    /* "invalid data" */
    ANS_NO_USER,    /* "User not found" */
    ANS_HTML,       /* an HTML page */
    ANS_NOT_FOUND,  /* HTTP 404, not HTML */
    ANS_OTHER       /* anything else: the suite judges it */
} srv_answer_kind;

/* One correct post to ctx->base; *status and the title of an HTML page. */
static srv_answer_kind probe_post(srv_ctx *ctx, long *status, char *title, size_t title_cap)
{
    static const srv_spec spec = { .profile = 0, .plaintext = "node=${node}&csv=${v}" };
    srv_probe p;
    srv_probe_init(&p);
    char ack[64] = {0};
    char *why = NULL;
    if (srv_build(ctx, &spec, srv_next_marker(ctx), &p, ack, &why) != 0) {
        free(why);
        srv_probe_free(&p);
        return ANS_NONE;
    }
    srv_reply r;
    srv_send(ctx, &p, &r);
    srv_probe_free(&p);
    srv_answer_kind k = ANS_OTHER;
    *status = r.status;
    if (r.net != SRV_NET_OK)
        k = ANS_NONE;
    else if (r.status == 200 && ack[0] && body_is(&r, ack))
        k = ANS_ACK;
    else if (body_is(&r, "invalid data"))
        k = ANS_INVALID;
    else if (body_is(&r, "User not found"))
        k = ANS_NO_USER;
    else if (body_is_html(&r)) {
        k = ANS_HTML;
        html_title(&r, title, title_cap);
    } else if (r.status == 404)
        k = ANS_NOT_FOUND;
    srv_reply_free(&r);
    return k;
}

/* What an answer says of the base: the API of an Emoncms answers one of
 * these three to a correct post. */
static int speaks_emoncms(srv_answer_kind k)
{
    return k == ANS_ACK || k == ANS_INVALID || k == ANS_NO_USER;
}

/* see server_suite.h */
int ec_server_suite_check_setup(const ec_server_suite_options *opt, char *message, size_t cap)
{
    message[0] = 0;
    if (!opt->base_url || opt->profile == 2)   /* legacy: another endpoint */
        return 0;
    srv_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = opt;
    if (!opt->apikey_hex || ec_key_from_hex(opt->apikey_hex, ctx.key) != EC_OK || !opt->userid)
        return 0;   /* the runner says what is wrong */
    snprintf(ctx.base, sizeof ctx.base, "%s", opt->base_url);
    size_t bl = strlen(ctx.base);
    while (bl > 0 && ctx.base[bl - 1] == '/')
        ctx.base[--bl] = 0;
    ctx.node = opt->node && *opt->node ? opt->node : "emoncrypt_conformance";
    long t = opt->timeout_ms > 0 ? opt->timeout_ms : 3000;
    ctx.timeout_ms = t < 1500 ? t : 1500;
    uint32_t r32 = 0;
    srv_random(&r32, sizeof r32);
    ctx.marker = 100000 + (r32 % 85000) * 10;   /* below 10^6, as the runner's */
    ctx.http = srv_http_client_new();
    if (!ctx.http) {
        ec_wipe(ctx.key, sizeof ctx.key);
        return 0;
    }

    int rc = 0;
    long status = 0;
    char title[80];
    srv_answer_kind k = probe_post(&ctx, &status, title, sizeof title);
    if (k == ANS_INVALID) {
        /* a second correct post, with a fresh IV and value: one answer
         * could be chance, two are the key */
        k = probe_post(&ctx, &status, title, sizeof title);
        if (k == ANS_INVALID) {
            snprintf(message, cap,
                     "set-up error: every correct post (2 of 2) was answered 'invalid data': is --apikey "
                     "the write API key of user %.40s? (if it is, the server rejects every correct post)",
                     opt->userid);
            rc = 2;
        }
    } else if (k == ANS_NO_USER) {
        snprintf(message, cap,
                 "set-up error: a correct post was answered 'User not found': user id %.40s is not an "
                 "account on %.150s (is --userid right?)",
                 opt->userid, ctx.base);
        rc = 2;
    } else if (k == ANS_HTML || k == ANS_NOT_FOUND) {
        char what[128];
        if (k == ANS_HTML)
            snprintf(what, sizeof what, "an HTML page%s (HTTP %ld)", title, status);
        else
            snprintf(what, sizeof what, "HTTP 404");
        /* Emoncms is often installed under /emoncms */
        size_t n = strlen(ctx.base);
        int tried = 0;
        srv_answer_kind k2 = ANS_NONE;
        char root[sizeof ctx.base];
        snprintf(root, sizeof root, "%s", ctx.base);
        if (!(n >= 8 && strcmp(ctx.base + n - 8, "/emoncms") == 0) && n + 8 < sizeof ctx.base) {
            memcpy(ctx.base + n, "/emoncms", 9);
            long st2 = 0;
            char t2[80];
            k2 = probe_post(&ctx, &st2, t2, sizeof t2);
            tried = 1;
        }
        if (tried && speaks_emoncms(k2))
            snprintf(message, cap,
                     "set-up error: %.120s is not Emoncms's base (POST /input/post answered %s): "
                     "use URL %.130s",
                     root, what, ctx.base);
        else
            snprintf(message, cap,
                     "set-up error: %.150s is not an Emoncms (a correct POST /input/post answered %s): "
                     "give the Emoncms base URL, e.g. http://host or http://host/emoncms",
                     root, what);
        rc = 2;
    }
    srv_http_client_free(ctx.http);
    ec_wipe(ctx.key, sizeof ctx.key);
    return rc;
}
