/* server/5.time/… — row times: the bulk time references are computed as
 * Emoncms does (checked on the stored rows), and what a server does with
 * out-of-order and duplicate times is reported, not judged (SPEC §5). */
#include "server/srv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emoncrypt/message.h"

/* Allowed difference between our clock and the server's, in seconds. */
#define CLOCK_SLACK 5

typedef struct {
    int judged;                  /* 1: compare stored times with the core's */
    int bulk;
    const char *plaintext;       /* first request */
    const char *second;          /* a second request (across posts), or NULL */
} time_arg;

static long find_value(const srv_row *rows, size_t n, double v)
{
    for (size_t i = 0; i < n; i++)
        if (!rows[i].is_null && srv_value_is(rows[i].value, v))
            return (long)i;
    return -1;
}

/* Is expected row i of request k followed by another row for the same
 * input (in this request or the next)? */
static int superseded(const srv_expect *expect, int sent, int k, size_t i)
{
    const srv_row *e = &expect[k].rows[i];
    for (int kk = k; kk < sent; kk++)
        for (size_t j = kk == k ? i + 1 : 0; j < expect[kk].n_rows; j++)
            if (strcmp(expect[kk].rows[j].name, e->name) == 0)
                return 1;
    return 0;
}

static void run_time(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    const time_arg *arg = c->arg;
    srv_row *rows = NULL;
    size_t n = 0;
    char why[256];
    int readable = srv_rows_read(ctx, &rows, &n, why, sizeof why);
    free(rows);
    rows = NULL;
    if (readable != 1 && arg->judged) {
        out->verdict = EC_VERDICT_SKIP;
        srv_say(out, "%s", why);
        return;
    }
    uint32_t v = srv_next_marker(ctx);
    char answers[400] = "";
    size_t alen = 0;
    srv_expect expect[2];
    memset(expect, 0, sizeof expect);
    int sent = 0;
    for (int k = 0; k < 2; k++) {
        const char *pt = k == 0 ? arg->plaintext : arg->second;
        if (!pt)
            break;
        srv_spec spec = { .bulk = arg->bulk, .plaintext = pt };
        srv_probe p;
        if (srv_build(ctx, &spec, v, &p, NULL, NULL) != 0) {
            srv_probe_free(&p);
            break;
        }
        if (k == 0)
            srv_describe(ctx, &p, out);
        srv_expect_answer(ctx, &p, ctx->opt->strict, &expect[k]);
        srv_reply r;
        srv_send(ctx, &p, &r);
        char *got = srv_reply_text(&r);
        alen += (size_t)snprintf(answers + alen, alen < sizeof answers ? sizeof answers - alen : 0, "%s%s",
                                 k ? ", then " : "", got);
        free(got);
        srv_reply_free(&r);
        srv_probe_free(&p);
        sent++;
    }
    readable = srv_rows_read(ctx, &rows, &n, why, sizeof why);
    char stored[400] = "";
    size_t slen = 0;
    long long now = (long long)srv_now();
    int bad = 0;
    char bad_text[300] = "";
    for (int k = 0; k < sent; k++) {
        for (size_t i = 0; i < expect[k].n_rows; i++) {
            const srv_row *e = &expect[k].rows[i];
            if (ctx->rows_last_only && superseded(expect, sent, k, i))
                continue;   /* Emoncms's /input/get shows only the input's last value */
            long at = readable == 1 ? find_value(rows, n, e->value) : -1;
            if (readable == 1 && slen < sizeof stored)
                slen += (size_t)snprintf(stored + slen, sizeof stored - slen, "%s%.10g@%s", slen ? ", " : "", e->value,
                                         at < 0 ? "missing" : "");
            if (at >= 0 && slen < sizeof stored)
                slen += (size_t)snprintf(stored + slen, sizeof stored - slen, "now%+lld#%ld",
                                         (long long)rows[at].time - now, at);
            if (arg->judged && (at < 0 || llabs((long long)(rows[at].time - e->time)) > CLOCK_SLACK) && !bad) {
                bad = 1;
                char seen[160] = "nothing readable";
                if (readable == 1)
                    srv_rows_values(rows, n, seen, sizeof seen);
                snprintf(bad_text, sizeof bad_text, "value %.10g: expected time now%+lld, stored %s%s%s", e->value,
                         (long long)e->time - now, at < 0 ? "nothing (read back: " : "", at < 0 ? seen : "",
                         at < 0 ? ")" : "");
                if (at >= 0) {
                    size_t bl = strlen(bad_text);
                    snprintf(bad_text + bl, sizeof bad_text - bl, "now%+lld", (long long)rows[at].time - now);
                }
            }
        }
    }
    if (!arg->judged) {
        out->verdict = EC_VERDICT_INFO;
        srv_say(out, "answered %s; stored (value@time#position): %s", answers,
                readable == 1 ? stored : why);
    } else if (bad) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "answered %s, but the stored time is wrong: %s", answers, bad_text);
        srv_set_bytes(out, "row times as SPEC §5 computes them", 34, bad_text, strlen(bad_text));
    } else {
        out->verdict = EC_VERDICT_PASS;
        srv_say(out, "answered %s; stored times as SPEC §5 computes them: %s", answers, stored);
    }
    for (int k = 0; k < 2; k++)
        srv_expect_free(&expect[k]);
    free(rows);
}

/* The fields every time row shares; each row writes out its id in full. */
#define TIME_RUN(...) \
    .run = run_time, .arg = &(const time_arg){ __VA_ARGS__ }, .profiles = SRV_P_CURRENT, \
    .strict_rule = SRV_STRICT_NON_STRICT

const srv_case srv_cases_5_time[] = {
    { .id = "server/5.time/sentat",
      .mutants = "ignore-sentat,drop-last-bulk-row",
      .requirement = "sentat=S: a row's time MUST be now - S + t (SPEC §5).",
      TIME_RUN(.judged = 1, .bulk = 1,
               .plaintext = "sentat=1000&data=[[0,\"${node}\",${v}],[10,\"${node}\",${v1}]]") },
    { .id = "server/5.time/offset",
      .mutants = "drop-last-bulk-row,ignore-iv",
      .requirement = "offset=O: a row's time MUST be now - O + t (SPEC §5).",
      TIME_RUN(.judged = 1, .bulk = 1,
               .plaintext = "offset=500&data=[[0,\"${node}\",${v}],[10,\"${node}\",${v1}]]") },
    { .id = "server/5.time/time-plus-dt",
      .mutants = "drop-last-bulk-row,ignore-iv",
      .requirement = "time=T: a row's time MUST be T + t (SPEC §5).",
      TIME_RUN(.judged = 1, .bulk = 1,
               .plaintext = "time=${now-300}&data=[[0,\"${node}\",${v}],[30,\"${node}\",${v1}]]") },
    { .id = "server/5.time/no-reference",
      .mutants = "drop-last-bulk-row,ignore-iv",
      .requirement = "Without a reference, the last row is now: time = now - t_last + t (SPEC §5).",
      TIME_RUN(.judged = 1, .bulk = 1,
               .plaintext = "data=[[0,\"${node}\",${v}],[60,\"${node}\",${v1}]]") },
    { .id = "server/5.time/bulk-out-of-order",
      .no_mutant = "report only (INFO): what is stored for rows out of time order is reported, no answer is wrong (SPEC §5)",
      .requirement = "Reported: rows out of time order within one bulk post (SPEC §5: Emoncms does not enforce order).",
      TIME_RUN(.judged = 0, .bulk = 1,
               .plaintext = "time=${now-100}&data=[[20,\"${node}\",${v}],[0,\"${node}\",${v1}],[10,\"${node}\",${v2}]]") },
    { .id = "server/5.time/bulk-duplicate-times",
      .no_mutant = "report only (INFO): what is stored for rows out of time order is reported, no answer is wrong (SPEC §5)",
      .requirement = "Reported: two rows with the same time in one bulk post (SPEC §5).",
      TIME_RUN(.judged = 0, .bulk = 1,
               .plaintext = "time=${now-100}&data=[[0,\"${node}\",${v}],[0,\"${node}\",${v1}]]") },
    { .id = "server/5.time/across-posts-older",
      .no_mutant = "report only (INFO): what is stored for rows out of time order is reported, no answer is wrong (SPEC §5)",
      .requirement = "Reported: a post older than one already acknowledged (SPEC §5).",
      TIME_RUN(.judged = 0, .bulk = 0,
               .plaintext = "node=${node}&time=${now-100}&csv=${v}",
               .second = "node=${node}&time=${now-200}&csv=${v1}") },
    { .id = "server/5.time/across-posts-duplicate",
      .no_mutant = "report only (INFO): what is stored for rows out of time order is reported, no answer is wrong (SPEC §5)",
      .requirement = "Reported: two posts with the same time (SPEC §5).",
      TIME_RUN(.judged = 0, .bulk = 0,
               .plaintext = "node=${node}&time=${now-50}&csv=${v}",
               .second = "node=${node}&time=${now-50}&csv=${v1}") },
};
SRV_CASES_COUNT(5_time);
