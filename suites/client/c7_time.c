/* emoncrypt — client/7.time/…: the time order of the rows across the run
 * (SPEC §7, "a good sender"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_internal.h"

/* client/7.time/ascending */
static void c7_time_ascending(const cs_run *run, cs_outcome *o)
{
    const cs_audit *au = &run->audit;
    size_t posts = au->asc_posts, bad = au->asc_bad;
    long long a = au->asc_a, b = au->asc_b;
    if (posts == 0) {
        cs_outcome_set(o, EC_VERDICT_SKIP, "no accepted post carried rows");
        return;
    }
    if (bad == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu posts, rows in ascending time order", posts);
        return;
    }
    cs_outcome_set(o, EC_VERDICT_FAIL, "%zu of %zu posts have rows out of time order; first "
                   "#%zu: %lld after %lld", bad, posts, au->asc_first, b, a);
    snprintf(o->expected, sizeof o->expected, ">= %lld", a);
    snprintf(o->actual, sizeof o->actual, "%lld", b);
}

const cs_check c7_time_ascending_check = {
    .id = "client/7.time/ascending",
    .mutants = "out-of-order",
    .requirement = "Rows SHOULD be in ascending time order within a post.",
    .on_audit = c7_time_ascending,
};

/* client/7.time/never-backwards */
static void c7_time_never_backwards(const cs_run *run, cs_outcome *o)
{
    const cs_history *h = &run->history;
    size_t posts = h->nb_posts, bad = h->nb_bad;
    long long got = h->nb_got;
    if (posts == 0) {
        cs_outcome_set(o, EC_VERDICT_SKIP, "no post carried absolute times (time=T)");
        return;
    }
    if (bad == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu posts with absolute times, none older than an "
                       "acknowledged row", posts);
        return;
    }
    cs_outcome_set(o, EC_VERDICT_FAIL, "%zu posts carry new rows older than an acknowledged "
                   "one; first #%zu: time %lld", bad, h->nb_first, got);
    snprintf(o->actual, sizeof o->actual, "%lld", got);
    snprintf(o->expected, sizeof o->expected, "no new row older than the last ack");
}

const cs_check c7_time_never_backwards_check = {
    .id = "client/7.time/never-backwards",
    .no_mutant = "no mutant device yet: send never goes back in time across posts (out-of-order reverses the rows within one post)",
    .requirement = "Never go back in time: no row older than one already acknowledged.",
    .on_audit = c7_time_never_backwards,
};

/* see client_internal.h: the ascending-rows count, taken while the request
 * is whole. */
void c7_time_observe(cs_run *run, const cs_request *r)
{
    cs_audit *au = &run->audit;
    if (r->accepted && r->row_count > 0) {
        au->asc_posts++;
        for (size_t k = 1; k < r->row_count; k++) {
            if (r->rows[k].time < r->rows[k - 1].time) {
                if (au->asc_bad++ == 0) {
                    au->asc_first = r->seq;
                    au->asc_a = (long long)r->rows[k - 1].time;
                    au->asc_b = (long long)r->rows[k].time;
                }
                break;
            }
        }
    }
}
