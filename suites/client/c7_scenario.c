/* emoncrypt — client/7.scenario/…: the client-role scenarios as data, each
 * one a list of scripted answers the mock server gives to the device's next
 * posts, one row per post (like the reply part of a curl test case).  After the last
 * row, one more post is answered with the correct ack: it shows whether the
 * device resent what was not delivered (and only that).
 *
 * Bodies come from Emoncms: the error texts of SPEC §4 are PHP `echo`s
 * with PHP's default text/html; charset=UTF-8, the ack and the JSON errors
 * text/plain;charset=UTF-8.  Then the verdict of each scenario. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"

#define HTML "text/html; charset=UTF-8"
/* What index.php sends with the ack and the JSON errors: PHP appends its
 * default_charset (docs/DISAGREEMENTS.md). */
#define PLAIN "text/plain;charset=UTF-8"

/* An answer that goes out at once. */
#define ANSWER(st, ct, k, txt) \
    {.status = st, .content_type = ct, .kind = k, .text = txt, .reset_after = -1}

const ec_client_scenario ec_client_scenarios[] = {
    {.name = "happy",
     .id = "client/7.scenario/happy",
     .mutants = "resend-acked,hmac-hex-key",
     .requirement = "After an ack, never resend the same rows (no duplicates).",
     .expect_delivered = 1, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {ANSWER(200, PLAIN, EC_REPLY_ACK, NULL)}},
    {.name = "wrong-ack",
     .id = "client/7.scenario/wrong-ack",
     .mutants = "any-200,ignores-ack",
     .requirement = "Compare the reply with its own ack; a wrong hash means NOT delivered: keep the data "
                    "and resend later.",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {ANSWER(200, PLAIN, EC_REPLY_OTHER_ACK, NULL)}},
    {.name = "ack-hex",
     .id = "client/7.scenario/ack-hex",
     .mutants = "ignores-ack,any-200",
     .requirement = "The ack is base64url of SHA-256 with '=' kept (44 characters); a hex digest is not it.",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {ANSWER(200, PLAIN, EC_REPLY_HEX_ACK, NULL)}},
    {.name = "ack-no-padding",
     .id = "client/7.scenario/ack-no-padding",
     .mutants = "ignores-ack,any-200",
     .requirement = "The ack always has 44 characters ending in '='; 43 characters are not the ack "
                    "(a client that accepts them is lenient, not wrong).",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_NON_STRICT, .step_count = 1,
     .steps = {ANSWER(200, PLAIN, EC_REPLY_NO_PAD_ACK, NULL)}},
    {.name = "error-text",
     .id = "client/7.scenario/error-text",
     .mutants = "ignores-ack,any-200",
     .requirement = "Every SPEC §4 error text (HTTP 200) means NOT delivered: keep the data and resend it.",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_FAIL, .step_count = 5,
     .steps = {ANSWER(200, HTML, EC_REPLY_TEXT, "missing authorization header"),
               ANSWER(200, HTML, EC_REPLY_TEXT, "authorization header format should be userid:hmac"),
               ANSWER(200, HTML, EC_REPLY_TEXT, "User not found"),
               ANSWER(200, HTML, EC_REPLY_TEXT, "no content in post body"),
               ANSWER(200, HTML, EC_REPLY_TEXT, "invalid data")}},
    {.name = "json-failure",
     .id = "client/7.scenario/json-failure",
     .mutants = "ignores-ack,any-200",
     .requirement = "An application failure {\"success\": false, …} means NOT delivered.",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {ANSWER(200, PLAIN, EC_REPLY_TEXT,
                      "{\"success\": false, \"message\": \"Format error, json string supplied is not valid\"}")}},
    {.name = "http-500",
     .id = "client/7.scenario/http-500",
     .mutants = "ignores-ack,drops-data",
     .requirement = "A non-200 answer means NOT delivered.",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {ANSWER(500, HTML, EC_REPLY_TEXT,
                      "<html><body><h1>500 Internal Server Error</h1></body></html>")}},
    {.name = "http-429",
     .id = "client/7.scenario/http-429",
     .mutants = "ignores-ack,apikey-in-query",
     .requirement = "429 Too Many Requests means NOT delivered; the resend SHOULD wait for Retry-After.",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {{.status = 429, .content_type = HTML, .kind = EC_REPLY_TEXT,
                .text = "Too Many Requests", .reset_after = -1, .retry_after_s = 1}}},
    {.name = "timeout",
     .id = "client/7.scenario/timeout",
     .mutants = "ignores-ack,apikey-in-query",
     .requirement = "No answer (a timeout) means NOT delivered.",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {{.status = 200, .content_type = PLAIN, .kind = EC_REPLY_ACK, .never = 1,
                .reset_after = -1}}},
    {.name = "reset",
     .id = "client/7.scenario/reset",
     .mutants = "ignores-ack,apikey-in-query",
     .requirement = "A connection closed in the middle of the answer means NOT delivered.",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {{.status = 200, .content_type = PLAIN, .kind = EC_REPLY_ACK, .reset_after = 10}}},
    {.name = "slow",
     .id = "client/7.scenario/slow",
     .mutants = "same-iv-resend,apikey-in-query",
     .requirement = "An ack that arrives slowly (within the client's timeout) is still the ack: not resent.",
     .expect_delivered = 1, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {{.status = 200, .content_type = PLAIN, .kind = EC_REPLY_ACK, .reset_after = -1,
                .trickle_interval_ms = 40, .trickle_bytes = 4}}},
    {.name = "captive-portal",
     .id = "client/7.scenario/captive-portal",
     .mutants = "ignores-ack,any-200",
     .requirement = "A 200 that is not the ack (an HTML sign-in page) means NOT delivered.",
     .expect_delivered = 0, .if_wrong = EC_VERDICT_FAIL, .step_count = 1,
     .steps = {ANSWER(200, HTML, EC_REPLY_TEXT,
                      "<!DOCTYPE html><html><head><title>Sign in to the network</title></head>"
                      "<body><form method=\"post\" action=\"/login\"><input name=\"user\">"
                      "<button>Sign in</button></form></body></html>")}},
};
const size_t ec_client_scenario_count = sizeof ec_client_scenarios / sizeof ec_client_scenarios[0];

/* see client_suite.h */
const ec_client_scenario *ec_client_scenario_find(const char *name)
{
    for (size_t i = 0; i < ec_client_scenario_count; i++)
        if (strcmp(ec_client_scenarios[i].name, name) == 0)
            return &ec_client_scenarios[i];
    return NULL;
}

/* ---- scenario verdicts --------------------------------------------------- */

static const char *describe_reply(const ec_scripted_reply *s, char *out, size_t cap)
{
    static const char *const kinds[] = {"the ack", "an ack of other data", "a hex ack",
                                        "an ack without '='", NULL};
    if (s->never)
        snprintf(out, cap, "no answer at all");
    else if (s->reset_after >= 0)
        snprintf(out, cap, "a connection reset after %d body bytes", s->reset_after);
    else if (s->kind == EC_REPLY_TEXT) {
        char t[64];
        cs_printable(s->text, strlen(s->text), t, sizeof t);
        snprintf(out, cap, "HTTP %u '%s'", s->status, t);
    } else
        snprintf(out, cap, "HTTP %u with %s%s", s->status, kinds[s->kind],
                 s->trickle_interval_ms ? ", trickled" : "");
    return out;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of v[0..n), or -1 when n == 0 (sorts v). */
static double median(double *v, size_t n)
{
    if (n == 0)
        return -1;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* see client_internal.h */
unsigned c7_time_needed(const cs_run *run, char *out, size_t cap)
{
    /* The device's own pace: gaps between consecutive accepted posts of
     * this run, after an ack (its posting interval) and after anything
     * else (its retry wait). */
    const cs_history *h = &run->history;
    size_t n_ack = h->n_ack, n_fail = h->n_fail, posts = h->accepted_posts;
    double *after_ack = calloc(n_ack + 1, sizeof *after_ack);
    double *after_fail = calloc(n_fail + 1, sizeof *after_fail);
    if (after_ack == NULL || after_fail == NULL)
        n_ack = n_fail = 0;
    if (n_ack)
        memcpy(after_ack, h->after_ack, n_ack * sizeof *after_ack);
    if (n_fail)
        memcpy(after_fail, h->after_fail, n_fail * sizeof *after_fail);
    double g_ack = median(after_ack, n_ack), g_fail = median(after_fail, n_fail);
    free(after_ack);
    free(after_fail);
    if (g_ack < 0)
        g_ack = g_fail;
    if (g_fail < 0)
        g_fail = g_ack;
    /* The posts still needed, each after the answer before it. */
    size_t left = 0;
    double need = 0;
    for (size_t i = 0; i < run->scenario_count; i++) {
        const ec_client_scenario *sc = run->scenarios[i];
        size_t seen = h->sc_posts ? h->sc_posts[i] : 0;
        for (size_t k = seen; k <= sc->step_count; k++) {
            left++;
            int after_failure = k > 0 && !sc->expect_delivered;
            need += after_failure ? g_fail : g_ack;
        }
    }
    double elapsed = run->ended > run->started ? run->ended - run->started : 0;
    if (left == 0) {
        snprintf(out, cap, "every scenario has its posts");
        return 0;
    }
    if (g_ack < 0) {
        snprintf(out, cap, "%s, so its interval is unknown; the scenarios need %zu more "
                 "accepted posts: give --duration at least %zu times the device's posting "
                 "interval",
                 run->request_count == 0 && run->event_count == 0
                     ? "no device connected in this run (point its server setting at the address "
                       "printed at start)"
                 : posts == 0 ? "no accepted post arrived in this run"
                              : "only one accepted post arrived in this run",
                 left, left + 1);
        return 0;
    }
    /* 25 % margin, rounded up to 10 s. */
    double total = (elapsed + need) * 1.25;
    unsigned suggest = (unsigned)((total + 9.999) / 10) * 10;
    if (suggest < 10)
        suggest = 10;
    unsigned more = (unsigned)((need * 1.25 + 9.999) / 10) * 10;
    snprintf(out, cap, "this device posts again ~%.1f s after an ack and ~%.1f s after any "
             "other answer, so the %zu posts still needed take ~%.0f s more (~%u s with a "
             "margin): run with --duration %u",
             g_ack, g_fail, left, need, more ? more : 10, suggest);
    return suggest;
}

/* see client_internal.h */
void c7_scenario_verdict(const cs_run *run, size_t i, cs_outcome *o)
{
    const ec_client_scenario *sc = run->scenarios[i];
    const cs_history *h = &run->history;
    size_t steps_seen = h->sc_steps ? h->sc_steps[i] : 0;
    int observed = h->sc_observed ? h->sc_observed[i] : 0;
    if (steps_seen < sc->step_count || !observed) {
        /* Not a fault of the device: the run did not see enough. */
        char need[400];
        c7_time_needed(run, need, sizeof need);
        cs_outcome_set(o, EC_VERDICT_INCOMPLETE, "not completed: the run ended after %zu of %zu "
                       "scripted answers%s; %s", steps_seen, sc->step_count,
                       steps_seen == sc->step_count ? " and before the next post" : "", need);
        snprintf(o->actual, sizeof o->actual, "incomplete");
        return;
    }
    char what[128], msg[512] = "";
    size_t used = 0;
    ec_verdict verdict = EC_VERDICT_PASS;
    for (size_t k = 0; k < h->watch_n; k++) {
        const cs_watch *w = &h->watch[k];
        const cs_post *q = &w->post;
        if (!w->scripted || q->scenario != (int)i)
            continue;
        describe_reply(q->script, what, sizeof what);
        const cs_watch *p = w->found ? w : NULL; /* p->p_seq: the later post */
        char part[256];
        ec_verdict v = EC_VERDICT_PASS;
        if (sc->expect_delivered && !q->client_gone) {
            if (p == NULL) {
                snprintf(part, sizeof part, "#%zu got %s and was not sent again", q->seq, what);
            } else {
                v = EC_VERDICT_FAIL;
                snprintf(part, sizeof part, "#%zu got %s, yet its rows came again in #%zu "
                         "(duplicates)", q->seq, what, p->p_seq);
            }
        } else if (sc->expect_delivered) {
            snprintf(part, sizeof part, "#%zu got %s but the device hung up before it ended "
                     "(its timeout is shorter)%s", q->seq, what,
                     p ? "; it resent the rows" : "; the rows never came back");
            v = p ? EC_VERDICT_INFO : EC_VERDICT_FAIL;
        } else if (p == NULL) {
            v = sc->if_wrong;
            snprintf(part, sizeof part, "#%zu got %s and the device took it as delivered: its "
                     "rows never came back", q->seq, what);
        } else if (cs_same_iv(p)) {
            v = EC_VERDICT_FAIL;
            snprintf(part, sizeof part, "#%zu got %s; resent in #%zu with the SAME IV", q->seq,
                     what, p->p_seq);
        } else {
            snprintf(part, sizeof part, "#%zu got %s; resent in #%zu after %ld ms with a "
                     "fresh IV", q->seq, what, p->p_seq,
                     cs_wait_ms(p));
        }
        if (v == EC_VERDICT_FAIL || (v == EC_VERDICT_NON_STRICT && verdict != EC_VERDICT_FAIL) ||
            (v == EC_VERDICT_INFO && verdict == EC_VERDICT_PASS))
            verdict = v;
        if (used < sizeof msg - 4) {
            int n = snprintf(msg + used, sizeof msg - used, "%s%s", used ? "; " : "", part);
            if (n > 0)
                used += (size_t)n;
        }
    }
    cs_outcome_set(o, verdict, "%s", msg);
    snprintf(o->expected, sizeof o->expected, "%s",
             sc->expect_delivered ? "taken as the ack, not resent" : "not delivered: resent "
             "with a fresh IV");
}
