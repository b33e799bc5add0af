/* emoncrypt — client/7.ack/…: what the device does after an answer: an ack
 * delivers, anything else does not (SPEC §7). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_internal.h"

/* client/7.ack/no-duplicates */
static void c7_ack_no_duplicates(const cs_run *run, cs_outcome *o)
{
    const cs_history *h = &run->history;
    size_t posts = h->nd_posts, dups = h->nd_dups, weak = h->nd_weak;
    if (dups == 0 && weak > 0) {
        cs_outcome_set(o, EC_VERDICT_INFO, "%zu posts repeat an acknowledged post's text "
                       "exactly; they carry no time, so a resend cannot be told from the same "
                       "reading sent again", weak);
        return;
    }
    if (posts == 0) {
        cs_outcome_set(o, EC_VERDICT_SKIP, "no accepted post carried rows");
        return;
    }
    if (dups == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu posts, no acknowledged row sent again", posts);
        return;
    }
    cs_outcome_set(o, EC_VERDICT_FAIL, "%zu posts resend rows already acknowledged; first #%zu "
                   "repeats %zu rows of #%zu (the server stores them twice)", dups, h->nd_first,
                   h->nd_shared, h->nd_orig);
    snprintf(o->expected, sizeof o->expected, "0 acknowledged rows again");
    snprintf(o->actual, sizeof o->actual, "%zu", h->nd_shared);
}

const cs_check c7_ack_no_duplicates_check = {
    .id = "client/7.ack/no-duplicates",
    .mutants = "resend-acked",
    .requirement = "After an ack, never resend the same rows (no duplicates).",
    .on_audit = c7_ack_no_duplicates,
};

/* client/7.ack/no-data-lost */
static void c7_ack_no_data_lost(const cs_run *run, cs_outcome *o)
{
    const cs_history *h = &run->history;
    size_t failed = 0, judged = 0, lost = 0;
    const cs_watch *first = NULL;
    for (size_t i = 0; i < h->watch_n; i++) {
        const cs_watch *q = &h->watch[i];
        if (!q->undelivered)
            continue;
        failed++;
        if (h->last_accepted <= q->post.seq) /* nothing accepted after it */
            continue;
        judged++;
        if (!q->found && lost++ == 0)
            first = q;
    }
    if (failed == 0) {
        cs_outcome_set(o, EC_VERDICT_SKIP, "no post went unacknowledged");
        return;
    }
    if (judged == 0) {
        cs_outcome_set(o, EC_VERDICT_SKIP, "%zu posts went unacknowledged, but the device sent "
                       "nothing after them", failed);
        return;
    }
    if (lost == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu unacknowledged posts, every one resent later",
                       judged);
        return;
    }
    cs_outcome_set(o, EC_VERDICT_FAIL, "%zu of %zu unacknowledged posts never came back; first "
                   "#%zu (answered HTTP %u%s): its %zu rows were dropped or taken as delivered",
                   lost, judged, first->post.seq, first->post.reply_status,
                   first->post.client_gone ? ", answer not completed" : "",
                   first->post.row_count);
    snprintf(o->expected, sizeof o->expected, "rows resent");
    snprintf(o->actual, sizeof o->actual, "never resent");
}

const cs_check c7_ack_no_data_lost_check = {
    .id = "client/7.ack/no-data-lost",
    .mutants = "drops-data,any-200",
    .requirement = "Anything but the ack means NOT delivered: keep the data and resend it later, "
                   "never drop it silently.",
    .on_audit = c7_ack_no_data_lost,
};
