/* emoncrypt — client/3.ctype/…: the Content-Type of each request (SPEC §3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"

/* client/3.ctype/exact */
static void c3_content_type_exact(const cs_run *run, const cs_request *r, cs_outcome *o)
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

const cs_check c3_content_type_exact_check = {
    .id = "client/3.ctype/exact",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "Content-Type is matched exactly, case-sensitively, with no parameters.",
    .on_request = c3_content_type_exact,
};
