/* emoncrypt — client/3.*: the HTTP shape of each request (SPEC §3), and
 * garbage on the socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "common/tolerance.h"

static int is_input_route(const char *p, int legacy)
{
    if (legacy)
        return strcmp(p, "/input/encrypted") == 0;
    return strcmp(p, "/input/post") == 0 || strcmp(p, "/input/bulk") == 0 ||
           strcmp(p, "/input/post.json") == 0 || strcmp(p, "/input/bulk.json") == 0 ||
           (strncmp(p, "/input/post/", 12) == 0 && p[12] != 0 && strchr(p + 12, '/') == NULL);
}

/* client/3.route/path */
void c3_route_path(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    if (!r->is_post)
        return;
    int legacy = run->opt.profile == EC_PROFILE_LEGACY;
    snprintf(o->expected, sizeof o->expected, "%s",
             legacy ? "/input/encrypted" : "/input/post or /input/bulk");
    cs_printable(r->path, strlen(r->path), o->actual, sizeof o->actual);
    /* An Emoncms installed under a prefix (/emoncms/input/post) is fine. */
    const char *p = strstr(r->path, "/input/");
    if (p != NULL && is_input_route(p, legacy))
        cs_outcome_set(o, EC_VERDICT_PASS, "%s", r->path);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "%s is not an encrypted input route", o->actual);
}

/* client/3.route/method */
void c3_route_method(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!r->is_post)
        return;
    snprintf(o->expected, sizeof o->expected, "POST");
    snprintf(o->actual, sizeof o->actual, "%s", r->method);
    if (strcmp(r->method, "POST") == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "POST");
    else if (strcmp(r->method, "GET") == 0 && r->body_len > 0)
        cs_outcome_set(o, EC_VERDICT_NON_STRICT,
                       "GET with a body: Emoncms processes it, a strict server refuses it");
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "method %s", r->method);
}

/* client/3.ctype/exact */
void c3_content_type_exact(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    if (!r->is_post)
        return;
    const char *want = run->opt.profile == EC_PROFILE_AES128CBCGZ ? "aes128cbcgz"
                       : run->opt.profile == EC_PROFILE_LEGACY ? "application/x-www-form-urlencoded"
                                                               : "aes128cbc";
    size_t count = 0;
    const char *ct = cs_header(r, "Content-Type", &count);
    snprintf(o->expected, sizeof o->expected, "%s", want);
    cs_printable(ct ? ct : "(none)", ct ? strlen(ct) : 6, o->actual, sizeof o->actual);
    if (count > 1)
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu Content-Type headers", count);
    else if (ct != NULL && strcmp(ct, want) == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%s", ct);
    else if (run->opt.profile == EC_PROFILE_LEGACY && ct != NULL &&
             strncmp(ct, want, strlen(want)) == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%s", o->actual);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL,
                       "Content-Type '%s': Emoncms matches '%s' exactly, so this is not the "
                       "encrypted method (answer 401 Invalid API key)", o->actual, want);
}

/* client/3.auth/format */
void c3_auth_format(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    if (!r->is_post || run->opt.profile == EC_PROFILE_LEGACY)
        return;
    size_t count = 0;
    const char *auth = cs_header(r, "Authorization", &count);
    snprintf(o->expected, sizeof o->expected, "USERID:64 hex digits");
    if (auth == NULL) {
        cs_outcome_set(o, EC_VERDICT_FAIL, "no Authorization header");
        snprintf(o->actual, sizeof o->actual, "(none)");
        return;
    }
    cs_printable(auth, strlen(auth), o->actual, sizeof o->actual);
    size_t colons = 0;
    for (const char *c = auth; *c; c++)
        colons += *c == ':';
    const char *colon = strchr(auth, ':');
    size_t id_len = colon ? (size_t)(colon - auth) : 0;
    int id_digits = id_len > 0 && strspn(auth, "0123456789") == id_len;
    if (count > 1)
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu Authorization headers", count);
    else if (strncmp(auth, "Bearer ", 7) == 0 || strncmp(auth, "Basic ", 6) == 0)
        cs_outcome_set(o, EC_VERDICT_FAIL, "Authorization has a scheme word; the protocol's has none");
    else if (colons != 1)
        cs_outcome_set(o, EC_VERDICT_FAIL,
                       "%zu colons: Emoncms answers 'authorization header format should be "
                       "userid:hmac'", colons);
    else if (!id_digits)
        cs_outcome_set(o, EC_VERDICT_FAIL, "the part before ':' is not a decimal user id");
    else if (strlen(colon + 1) != EC_HMAC_HEX_LEN)
        cs_outcome_set(o, EC_VERDICT_FAIL, "the HMAC part is %zu characters, not 64",
                       strlen(colon + 1));
    else
        cs_outcome_set(o, EC_VERDICT_PASS, "userid:hmac");
}

/* client/3.auth/userid */
void c3_auth_userid(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    if (!r->is_post || run->opt.profile == EC_PROFILE_LEGACY)
        return;
    const char *auth = cs_header(r, "Authorization", NULL);
    const char *colon = auth ? strchr(auth, ':') : NULL;
    if (colon == NULL)
        return;
    size_t n = (size_t)(colon - auth);
    snprintf(o->expected, sizeof o->expected, "%s", run->userid);
    cs_printable(auth, n, o->actual, sizeof o->actual);
    if (n == strlen(run->userid) && strncmp(auth, run->userid, n) == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "user id %s", run->userid);
    else if (r->diag.answer.fault != EC_F_USER_UNKNOWN)
        cs_outcome_set(o, EC_VERDICT_NON_STRICT,
                       "user id '%s' is read as %s only because the database casts it to an "
                       "integer", o->actual, run->userid);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "user id '%s' is not the account's (%s)",
                       o->actual, run->userid);
}

/* The base64 text of the body (the data= field for the legacy form). */
static void body_b64(const cs_run *run, const cs_request *r, const char **s, size_t *n)
{
    *s = (const char *)r->body;
    *n = r->body_len;
    if (run->opt.profile != EC_PROFILE_LEGACY || r->body == NULL)
        return;
    const char *d = strstr((const char *)r->body, "data=");
    while (d != NULL && d != (const char *)r->body && d[-1] != '&')
        d = strstr(d + 1, "data=");
    if (d == NULL)
        return;
    *s = d + 5;
    *n = strcspn(*s, "&");
}

/* client/3.body/alphabet */
void c3_body_alphabet(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    if (!cs_decodable(r))
        return;
    const char *s;
    size_t n;
    body_b64(run, r, &s, &n);
    size_t std = 0, other = 0, first_other = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '=')
            continue;
        if (c == '+' || c == '/')
            std++;
        else if (other++ == 0)
            first_other = i;
    }
    snprintf(o->expected, sizeof o->expected, "[A-Za-z0-9-_] and '='");
    if (std == 0 && other == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "URL alphabet");
    } else if (other == 0) {
        /* tolerated by Emoncms (the table both roles judge by): NON-STRICT,
         * FAIL under --strict */
        const ec_tolerance *t = ec_tolerance_find("std-alphabet");
        cs_outcome_set(o, EC_VERDICT_NON_STRICT,
                       "%zu characters of the standard alphabet ('+' '/'): the client MUST "
                       "send the URL alphabet; Emoncms accepts it (%s)", std, t ? t->emoncms : "");
        snprintf(o->actual, sizeof o->actual, "'+' or '/' (%zu)", std);
    } else {
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu bytes outside the alphabet, first at offset %zu",
                       other, first_other);
        cs_printable(s + first_other, 1, o->actual, sizeof o->actual);
    }
}

/* client/3.body/padding */
void c3_body_padding(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    if (!cs_decodable(r))
        return;
    const char *s;
    size_t n;
    body_b64(run, r, &s, &n);
    if (n == 0)
        return;
    uint8_t *buf = malloc(ec_b64_decoded_max(n) + 1);
    if (buf == NULL)
        return;
    size_t len = 0;
    ec_b64_fault f = {0};
    /* The alphabet is judged separately: read '+' '/' as '-' '_' here. */
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        free(buf);
        return;
    }
    for (size_t i = 0; i < n; i++)
        copy[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
    ec_status st = ec_b64_decode_strict(copy, n, EC_B64_URL, buf, ec_b64_decoded_max(n) + 1,
                                        &len, &f);
    free(copy);
    free(buf);
    int padded = s[n - 1] == '=';
    if (st == EC_OK)
        cs_outcome_set(o, EC_VERDICT_PASS, "%s", padded ? "'=' padding kept" :
                       (n % 4 == 0 ? "no padding needed" : "without '=' padding (allowed)"));
    else if (st == EC_E_B64_CHAR)
        cs_outcome_set(o, EC_VERDICT_SKIP, "judged by client/3.body/alphabet");
    else {
        cs_outcome_set(o, EC_VERDICT_FAIL, "%s at offset %zu", ec_status_text(st), f.offset);
        snprintf(o->actual, sizeof o->actual, "%s", ec_status_name(st));
        snprintf(o->expected, sizeof o->expected, "canonical base64url");
    }
}

/* client/3.body/block-multiple */
void c3_body_blocks(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!cs_decodable(r) || r->diag.decoded_len < EC_IV_LEN)
        return;
    size_t ct = r->diag.decoded_len - EC_IV_LEN;
    snprintf(o->expected, sizeof o->expected, "a non-zero multiple of 16");
    snprintf(o->actual, sizeof o->actual, "%zu", ct);
    if (ct > 0 && ct % EC_BLOCK_LEN == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu ciphertext bytes (%zu blocks)", ct,
                       ct / EC_BLOCK_LEN);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu ciphertext bytes after the IV", ct);
}

int c3_event_is_malformed(int kind)
{
    return kind == EC_HTTPD_EV_NO_REQUEST || kind == EC_HTTPD_EV_INCOMPLETE || kind == EC_HTTPD_EV_TOO_LARGE ||
           kind == EC_HTTPD_EV_BAD_FRAMING;
}

/* client/3.http/well-formed */
void c3_http_well_formed(const cs_run *run, cs_outcome *o)
{
    size_t bad = run->audit.bad_count, empty = run->audit.empty_connections;
    const cs_bad_connection *first = bad ? &run->audit.bad[0] : NULL;
    if (bad == 0 && empty > 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu requests, all complete HTTP; %zu connections sent nothing and "
                       "closed (a port probe or a pre-connect: no request, not a malformed one)",
                       run->request_count, empty);
    else if (bad == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu requests, all complete HTTP", run->request_count);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu connections carried no usable request; first "
                       "(connection %llu from %s): %s: %s", bad,
                       (unsigned long long)first->connection, first->remote ? first->remote : "?",
                       ec_httpd_event_name(first->kind), first->detail ? first->detail : "");
}
