/* emoncrypt — client/4.*: what the shared server logic (SPEC §4, the same
 * code the server role is checked against) answers to each request. */
#include <stdio.h>
#include <string.h>

#include "client/client_internal.h"

/* client/4.answer/accepted */
static void c4_answer_accepted(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!r->is_post)
        return;
    const ec_answer *a = &r->diag.answer;
    snprintf(o->expected, sizeof o->expected, "HTTP 200, the ack");
    if (a->fault == EC_OK) {
        cs_outcome_set(o, EC_VERDICT_PASS, "accepted: %zu values", a->rows.n);
        snprintf(o->actual, sizeof o->actual, "%s", a->ack);
        return;
    }
    char body[96];
    cs_printable(a->answer ? a->answer : "", a->answer ? a->answer_len : 0, body, sizeof body);
    snprintf(o->actual, sizeof o->actual, "HTTP %d %s", a->http_status, body);
    cs_outcome_set(o, EC_VERDICT_FAIL, "Emoncms answers HTTP %d '%s' (%s%s%s)", a->http_status,
                   body, ec_status_text(a->fault),
                   a->detail != EC_OK && a->detail != a->fault ? ": " : "",
                   a->detail != EC_OK && a->detail != a->fault ? ec_status_text(a->detail) : "");
}

const cs_check c4_answer_accepted_check = {
    .id = "client/4.answer/accepted",
    .mutants = "hmac-hex-key,hmac-over-ct",
    .requirement = "A correct server decrypts, authenticates and stores the request, and answers "
                   "with the ack.",
    .on_request = c4_answer_accepted,
};
