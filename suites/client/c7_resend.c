/* emoncrypt — client/7.resend/…: what a resend looks like (SPEC §7). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_internal.h"

/* client/7.resend/fresh-iv */
static void c7_resend_fresh_iv(const cs_run *run, cs_outcome *o)
{
    const cs_history *h = &run->history;
    size_t resends = 0, same = 0, first = 0, orig = 0;
    for (size_t i = 0; i < h->watch_n; i++) {
        const cs_watch *q = &h->watch[i];
        if (!q->undelivered || !q->found)
            continue;
        resends++;
        if (cs_same_iv(q) && same++ == 0) {
            first = q->p_seq;
            orig = q->post.seq;
        }
    }
    if (resends == 0) {
        cs_outcome_set(o, EC_VERDICT_SKIP, "no resend observed");
        return;
    }
    if (same == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu resends, each with a new IV", resends);
        return;
    }
    cs_outcome_set(o, EC_VERDICT_FAIL, "%zu of %zu resends reuse the IV of the failed post; "
                   "first #%zu resends #%zu with the same IV", same, resends, first, orig);
    snprintf(o->expected, sizeof o->expected, "a new IV");
    snprintf(o->actual, sizeof o->actual, "the same IV");
}

const cs_check c7_resend_fresh_iv_check = {
    .id = "client/7.resend/fresh-iv",
    .mutants = "same-iv-resend,fixed-iv",
    .requirement = "Fresh random IV every message, including every resend.",
    .on_audit = c7_resend_fresh_iv,
};
