/* emoncrypt — client/7.apikey/…: the write API key never in clear (SPEC §7). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_internal.h"

/* Does text hold the key as hex (either case) or as base64 of its 16
 * bytes (either alphabet)? */
static int holds_key(const cs_run *run, const char *text, size_t n)
{
    const char *key = run->apikey_hex;
    size_t kl = strlen(key);
    char b64[2][32];
    size_t b64_len[2] = {0, 0};
    ec_b64_encode(run->key, EC_KEY_LEN, EC_B64_STD, 0, b64[0], sizeof b64[0], &b64_len[0]);
    ec_b64_encode(run->key, EC_KEY_LEN, EC_B64_URL, 0, b64[1], sizeof b64[1], &b64_len[1]);
    for (size_t i = 0; i < n; i++) {
        if (i + kl <= n && strncasecmp(text + i, key, kl) == 0)
            return 1;
        for (int a = 0; a < 2; a++)
            if (b64_len[a] && i + b64_len[a] <= n && memcmp(text + i, b64[a], b64_len[a]) == 0)
                return 1;
    }
    return 0;
}

/* Where in r the key appears in clear, or NULL. */
static const char *key_in_clear(const cs_run *run, const cs_request *r)
{
    if (r->path != NULL && holds_key(run, r->path, strlen(r->path)))
        return "the URL path";
    if (r->query != NULL && holds_key(run, r->query, strlen(r->query)))
        return "the URL query string";
    for (size_t i = 0; i < r->header_count; i++) {
        const char *v = r->headers[i].value;
        int basic = strcasecmp(r->headers[i].name, "Authorization") == 0 &&
                    strncasecmp(v, "Basic ", 6) == 0;
        if (basic) {
            /* user:password in base64: look inside. */
            uint8_t dec[512];
            size_t dl = 0;
            if (ec_b64_decode_compat(v + 6, strlen(v + 6), dec, sizeof dec - 1, &dl) == EC_OK &&
                holds_key(run, (const char *)dec, dl))
                return "an 'Authorization: Basic' header";
        }
        if (!holds_key(run, v, strlen(v)))
            continue;
        if (strcasecmp(r->headers[i].name, "Authorization") == 0 &&
            strncasecmp(v, "Bearer", 6) == 0)
            return "an 'Authorization: Bearer' header";
        return "a header";
    }
    if (r->body != NULL && holds_key(run, (const char *)r->body, r->body_len))
        return "the request body";
    return NULL;
}

/* client/7.apikey/not-in-clear */
static void c7_apikey_not_in_clear(const cs_run *run, cs_outcome *o)
{
    const cs_audit *au = &run->audit;
    size_t leaks = au->key_leaks;
    const char *where = au->key_first_where;
    if (leaks == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu requests, the write API key never in clear",
                       run->request_count);
        return;
    }
    cs_outcome_set(o, EC_VERDICT_FAIL, "%zu requests carry the write API key in clear; first "
                   "%s, in %s: anyone on the path can now forge and read every post",
                   leaks, au->key_first_label, where);
    snprintf(o->expected, sizeof o->expected, "the key never sent");
    snprintf(o->actual, sizeof o->actual, "in %s", where);
}

const cs_check c7_apikey_not_in_clear_check = {
    .id = "client/7.apikey/not-in-clear",
    .mutants = "bearer-side-request,apikey-in-query",
    .requirement = "Never send the write API key in clear anywhere (query string, Bearer header, "
                   "form field), on any request.",
    .on_audit = c7_apikey_not_in_clear,
};

/* see client_internal.h: where the key is in clear, taken while the request
 * is whole (its headers and body are not kept). */
void c7_apikey_observe(cs_run *run, const cs_request *r)
{
    cs_audit *au = &run->audit;
    const char *w = key_in_clear(run, r);
    if (w != NULL && au->key_leaks++ == 0) {
        au->key_first_where = w;
        cs_label(r, au->key_first_label, sizeof au->key_first_label);
    }
}
