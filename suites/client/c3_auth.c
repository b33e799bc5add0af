/* emoncrypt — client/3.auth/…: the Authorization header of each request (SPEC §3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"

/* client/3.auth/format */
static void c3_auth_format(const cs_run *run, const cs_request *r, cs_outcome *o)
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

const cs_check c3_auth_format_check = {
    .id = "client/3.auth/format",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "Authorization has no scheme word; split on ':' it MUST give exactly two parts: "
                   "the numeric user id and the HMAC.",
    .on_request = c3_auth_format,
};

/* client/3.auth/userid */
static void c3_auth_userid(const cs_run *run, const cs_request *r, cs_outcome *o)
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

const cs_check c3_auth_userid_check = {
    .id = "client/3.auth/userid",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "The user id in Authorization is the account's, as a plain decimal number.",
    .on_request = c3_auth_userid,
};
