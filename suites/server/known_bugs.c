/* Known Emoncms behaviours by version range (issue 19): data, not code.
 *
 * A FAIL whose case and answer match a row gets the row's note appended to
 * its message, so every report (console, JSON, JUnit, HTML) says "known
 * Emoncms bug, fixed in X (commit)".  The verdict stays FAIL: the server
 * still departs from SPEC; the note names the cause and the upgrade.
 *
 * Facts read off the Emoncms history (git log of emoncms/emoncms) and seen
 * on real servers on loopback (10.2.0 d2e08a9e, 10.8.5 d240d513, 11.16.8
 * ef646455; PHP 8.2.36, MariaDB 10.11.19):
 *  - aes128cbcgz arrived in c1c32c5b (2022-01-02, "option to compress data
 *    posted via aes128cbc option"), first tag 11.2.3.  Before it the
 *    Content-Type is unknown, the Authorization header is taken as a Bearer
 *    API key: HTTP 401 "Invalid API key".
 *  - input/bulk with invalid JSON: count() on the NULL (or an object) that
 *    json_decode returns is a TypeError on PHP 8: HTTP 500, empty body
 *    (display_errors off).  Guarded in 27cc63e4 (2025-09-10, "improvements
 *    from emoncms.org"), first tag 11.9.8.
 */
#include "server/srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *const *cases;    /* case ids; an entry ending in '/' or '-' is a prefix,
                                    one starting with '*' a suffix */
    long status;                 /* the answer that shows it */
    const char *body;            /* exact body; "" = empty */
    const char *fixed_in;        /* the first release without it: a server that says
                                    it is this version or later is not expected to
                                    answer so (--server-version or /version) */
    const char *note;
    const char *want_body;       /* or any case whose expected answer is this body
                                    (the vectors that meet the same bug); NULL: none */
} srv_known;

static const char *const bulk_json_cases[] = {
    "server/5.app/bulk-bad-json", "server/5.app/bulk-no-data", NULL
};
static const char *const gz_cases[] = {
    "server/3.gz/", "server/4.ack/gz-of-compressed", "server/8.vectors/gz/",
    "server/8.vectors/ctype/gz-", "server/8.vectors/mistake/gzip-header/", "*/gz", NULL
};

static const srv_known known[] = {
    { bulk_json_cases, 500, "", "11.9.8",
      "known Emoncms bug, fixed in 11.9.8 (27cc63e4): before it, invalid bulk JSON is a PHP 8 "
      "TypeError (count() on the json_decode result), HTTP 500 with an empty body",
      "{\"success\": false, \"message\": \"Format error, json string supplied is not valid\"}" },
    { gz_cases, 401, "Invalid API key", SRV_GZ_SINCE,
      "known Emoncms behaviour, fixed in 11.2.3 (c1c32c5b): before it there is no aes128cbcgz, "
      "the Content-Type is unknown and the Authorization header is read as an API key", NULL },
};

static int case_listed(const char *const *list, const char *id)
{
    for (; *list; list++) {
        size_t n = strlen(*list), m = strlen(id);
        if ((*list)[0] == '*') {
            if (m >= n - 1 && strcmp(id + m - (n - 1), *list + 1) == 0)
                return 1;
        } else if ((*list)[n - 1] == '/' || (*list)[n - 1] == '-' ? strncmp(id, *list, n) == 0
                                                                  : strcmp(id, *list) == 0) {
            return 1;
        }
    }
    return 0;
}

/* see srv.h */
int srv_needs_gz(const char *case_id)
{
    return case_id && case_listed(gz_cases, case_id);
}

/* see srv.h */
int srv_version_valid(const char *text)
{
    int parts = 0, digits = 0;
    for (const char *p = text; p && *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (++digits > 4)
                return 0;
        } else if (*p == '.' && digits) {
            parts++;
            digits = 0;
        } else {
            return 0;
        }
    }
    return text && digits && parts == 2;
}

/* see srv.h */
int srv_version_cmp(const char *a, const char *b)
{
    for (;;) {
        long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        if (*a != '.' && *b != '.')
            return 0;
        a += *a == '.';
        b += *b == '.';
    }
}

/* see srv.h */
const char *srv_known_behaviour(const char *case_id, const srv_reply *r)
{
    return srv_known_behaviour_at(case_id, r, NULL, NULL, 0);
}

/* see srv.h */
const char *srv_known_behaviour_at(const char *case_id, const srv_reply *r, const char *version,
                                   const char *want_body, size_t want_len)
{
    if (!case_id || !r || r->net != SRV_NET_OK)
        return NULL;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const srv_known *k = &known[i];
        int by_want = k->want_body && want_body && want_len == strlen(k->want_body) &&
                      memcmp(want_body, k->want_body, want_len) == 0;
        if (!(case_listed(k->cases, case_id) || by_want) || r->status != k->status)
            continue;
        if (version && *version && srv_version_cmp(version, k->fixed_in) >= 0)
            continue;   /* fixed in this release: the FAIL is a regression, not the known bug */
        size_t n = strlen(k->body);
        if (r->body_len == n && (n == 0 || memcmp(r->body, k->body, n) == 0))
            return k->note;
    }
    return NULL;
}

/* see srv.h */
void srv_note_known(const srv_case *c, const srv_reply *r, srv_outcome *out)
{
    if (out->verdict != EC_VERDICT_FAIL)
        return;
    const char *note = srv_known_behaviour(c->id, r);
    if (note)
        srv_say(out, "%s [%s]", out->message ? out->message : "", note);
}

/* see srv.h */
void srv_note_known_ctx(srv_ctx *ctx, const srv_case *c, const srv_reply *r, const char *want_body,
                        size_t want_len, srv_outcome *out)
{
    if (out->verdict != EC_VERDICT_FAIL)
        return;
    const char *note = srv_known_behaviour_at(c->id, r, ctx ? ctx->version : NULL, want_body, want_len);
    if (note)
        srv_say(out, "%s [%s]", out->message ? out->message : "", note);
    else if (ctx && ctx->version[0] && srv_known_behaviour_at(c->id, r, NULL, want_body, want_len))
        srv_say(out, "%s [a known Emoncms bug of older releases, but the server is %s (%s), "
                     "where it is fixed]", out->message ? out->message : "", ctx->version,
                ctx->version_from);
}
