/* emoncrypt — client/7.retry/…: how long the device waits before resending
 * (SPEC §7). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_internal.h"

/* Jitter allowed around a wait of ms: 250 ms or 15 %, whichever is more. */
static long wait_tolerance(long ms)
{
    long t = ms * 15 / 100;
    return t > 250 ? t : 250;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static long median_long(const long *v, size_t n)
{
    long *c = malloc(n * sizeof *c);
    if (c == NULL || n == 0) {
        free(c);
        return n ? v[0] : -1;
    }
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_long);
    long m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

/* see client_internal.h */
const char *c7_judge_backoff(const long *w, size_t n, char *out, size_t cap)
{
    if (n < 2) {
        snprintf(out, cap, "backoff: cannot tell (%zu wait%s for the same rows in a row; two or more "
                 "are needed)", n, n == 1 ? "" : "s");
        return out;
    }
    long med = median_long(w, n), tol = wait_tolerance(med);
    size_t near = 0, grows = 0;
    for (size_t i = 0; i < n; i++)
        near += labs(w[i] - med) <= tol;
    for (size_t i = 1; i < n; i++)
        grows += w[i] > w[i - 1] + wait_tolerance(w[i - 1]);
    if (grows == n - 1)
        snprintf(out, cap, "backoff: the wait grows after each failure (%ld ms to %ld ms over %zu waits)",
                 w[0], w[n - 1], n);
    else if (near == n)
        snprintf(out, cap, "no backoff: a fixed wait of ~%ld ms (all %zu waits within %ld ms of it: "
                 "jitter)", med, n, tol);
    else
        snprintf(out, cap, "backoff: cannot tell (the %zu waits neither grow each time beyond jitter "
                 "nor stay within %ld ms of ~%ld ms)", n, tol, med);
    return out;
}

/* see client_internal.h */
const char *c7_judge_retry_after(unsigned retry_after_s, long waited, const long *others, size_t n,
                                 char *out, size_t cap)
{
    long need = (long)retry_after_s * 1000;
    int w = snprintf(out, cap, "after 'Retry-After: %u' it waited %ld ms: ", retry_after_s, waited);
    if (w < 0 || (size_t)w >= cap)
        return out;
    char *rest = out + w;
    size_t left = cap - (size_t)w;
    long base = n ? median_long(others, n) : -1;
    if (waited + 50 < need)
        snprintf(rest, left, "not honoured (it asked for %ld ms)", need);
    else if (n == 0)
        snprintf(rest, left, "cannot tell whether it honoured it (no resend without Retry-After to "
                 "compare with)");
    else if (base + wait_tolerance(base) >= need)
        snprintf(rest, left, "cannot tell whether it honoured it (its usual wait, ~%ld ms, is already "
                 "that long)", base);
    else if (waited > base + wait_tolerance(base))
        snprintf(rest, left, "honoured (its usual wait is ~%ld ms)", base);
    else
        snprintf(rest, left, "cannot tell whether it honoured it (its usual wait is ~%ld ms)", base);
    return out;
}

/* The watched post with this seq, or NULL (the list is in arrival order). */
static const cs_watch *watched(const cs_history *h, size_t seq)
{
    size_t lo = 0, hi = h->watch_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->watch[mid].post.seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->watch_n && h->watch[lo].post.seq == seq ? &h->watch[lo] : NULL;
}

/* client/7.retry/interval */
static void c7_retry_interval(const cs_run *run, cs_outcome *o)
{
    const cs_history *h = &run->history;
    char list[320] = "";
    size_t used = 0, resends = 0, n_plain = 0, best_n = 0;
    size_t cap = h->watch_n + 1;
    long *plain = calloc(cap, sizeof *plain), *chain = calloc(cap, sizeof *chain),
         *best = calloc(cap, sizeof *best);
    unsigned ra_s = 0;
    long ra_wait = -1;
    for (size_t i = 0; plain && chain && best && i < h->watch_n; i++) {
        const cs_watch *q = &h->watch[i];
        if (!cs_resent(q))
            continue;
        long ms = cs_wait_ms(q);
        resends++;
        if (used < sizeof list - 16) {
            int w = snprintf(list + used, sizeof list - used, "%s%ld", used ? ", " : "", ms);
            if (w > 0)
                used += (size_t)w;
        }
        if (q->post.retry_after_s > 0) {
            if (ra_wait < 0)
                ra_s = q->post.retry_after_s, ra_wait = ms;
        } else {
            plain[n_plain++] = ms;
        }
        /* The longest run of failures of the same rows: does its wait grow? */
        int start = 1;
        for (size_t j = 0; j < i && start; j++)
            start = !(cs_resent(&h->watch[j]) && h->watch[j].p_seq == q->post.seq);
        if (!start)
            continue;
        size_t len = 0;
        for (const cs_watch *c = q; cs_resent(c) && len < cap; c = watched(h, c->p_seq))
            chain[len++] = cs_wait_ms(c);
        if (len > best_n) {
            memcpy(best, chain, len * sizeof *best);
            best_n = len;
        }
    }
    if (resends == 0) {
        cs_outcome_set(o, EC_VERDICT_INFO, "no resend observed");
    } else {
        char backoff[200], honour[220] = "";
        c7_judge_backoff(best, best_n, backoff, sizeof backoff);
        if (ra_wait >= 0) {
            char t[200];
            snprintf(honour, sizeof honour, "; %s",
                     c7_judge_retry_after(ra_s, ra_wait, plain, n_plain, t, sizeof t));
        }
        cs_outcome_set(o, EC_VERDICT_INFO, "%zu resends after %s ms; %s%s", resends, list, backoff,
                       honour);
    }
    free(plain);
    free(chain);
    free(best);
}

const cs_check c7_retry_interval_check = {
    .id = "client/7.retry/interval",
    .no_mutant = "report only (INFO): how long the device waits before resending, and whether it backs off",
    .requirement = "Report how long the client waits before resending, and whether it backs off.",
    .on_audit = c7_retry_interval,
};
