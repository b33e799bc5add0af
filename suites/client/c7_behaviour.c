/* emoncrypt — client/7.*: how the device behaves across requests (SPEC §7,
 * "a good sender"): the traffic audit and the scenario verdicts. */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_internal.h"

/* ---- the state across posts (cs_history) -------------------------------- */

/* The rows of delivered posts, as a hash table from row digest to the post
 * that delivered it, one entry per delivered row: a field run of days has
 * thousands of posts, and comparing each with every earlier one would take
 * minutes.  The digest is SHA-256's first bytes: already well spread. */
static size_t acked_slot(const cs_history *h, uint64_t key)
{
    return (size_t)key & (h->acked_cap - 1);
}

/* The first post that delivered a row with this digest, 0 = none. */
static size_t acked_find(const cs_history *h, uint64_t key)
{
    size_t first = 0;
    if (h->acked_cap == 0)
        return 0;
    for (size_t i = acked_slot(h, key); h->acked_seq[i] != 0; i = (i + 1) & (h->acked_cap - 1))
        if (h->acked_digest[i] == key && (first == 0 || h->acked_seq[i] < first))
            first = h->acked_seq[i];
    return first;
}

/* Kept at most 80 % full. */
static void acked_add(cs_history *h, uint64_t key, size_t seq)
{
    if ((h->acked_n + 1) * 5 > h->acked_cap * 4) {
        size_t cap = h->acked_cap ? h->acked_cap * 2 : 1024;
        uint64_t *digest = cs_big_calloc(cap, sizeof *digest);
        uint32_t *seqs = cs_big_calloc(cap, sizeof *seqs);
        if (digest == NULL || seqs == NULL) {
            cs_big_free(digest, cap, sizeof *digest);
            cs_big_free(seqs, cap, sizeof *seqs);
            return;
        }
        for (size_t i = 0; i < h->acked_cap; i++) {
            if (h->acked_seq[i] == 0)
                continue;
            size_t j = (size_t)h->acked_digest[i] & (cap - 1);
            while (seqs[j] != 0)
                j = (j + 1) & (cap - 1);
            digest[j] = h->acked_digest[i];
            seqs[j] = h->acked_seq[i];
        }
        cs_big_free(h->acked_digest, h->acked_cap, sizeof *h->acked_digest);
        cs_big_free(h->acked_seq, h->acked_cap, sizeof *h->acked_seq);
        h->acked_digest = digest;
        h->acked_seq = seqs;
        h->acked_cap = cap;
    }
    size_t i = acked_slot(h, key);
    while (h->acked_seq[i] != 0)
        i = (i + 1) & (h->acked_cap - 1);
    h->acked_digest[i] = key;
    h->acked_seq[i] = (uint32_t)seq;
    h->acked_n++;
}

/* How many rows of the delivered post orig are among r's rows (what
 * cs_rows_shared(orig, r) said when orig was kept): a pass over the table,
 * once per run. */
static size_t acked_shared(const cs_history *h, size_t orig, const cs_post *r)
{
    size_t shared = 0;
    for (size_t i = 0; i < h->acked_cap; i++) {
        if (h->acked_seq[i] != orig)
            continue;
        for (size_t k = 0; k < r->row_count; k++)
            if (r->rows[k].digest == h->acked_digest[i]) {
                shared++;
                break;
            }
    }
    return shared;
}

/* v[n++] = x, growing v (from the kernel, see cs_big_calloc). */
static void push_double(double **v, size_t *n, size_t *cap, double x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        double *grown = cs_big_calloc(c, sizeof *grown);
        if (grown == NULL)
            return;
        if (*n)
            memcpy(grown, *v, *n * sizeof *grown);
        cs_big_free(*v, *cap, sizeof **v);
        *v = grown;
        *cap = c;
    }
    (*v)[(*n)++] = x;
}

/* see client_internal.h */
void c7_settle(cs_run *run, const cs_post *r)
{
    cs_history *h = &run->history;
    int delivered = cs_delivered(r);
    /* client/7.time/never-backwards: a new row older than one acked */
    if (r->accepted && r->absolute_time && r->row_count > 0) {
        h->nb_posts++;
        if (h->nb_have_max) {
            for (size_t k = 0; k < r->row_count; k++) {
                if (r->rows[k].time >= h->nb_max)
                    continue;
                /* A row sent again exactly is client/7.ack/no-duplicates's. */
                if (acked_find(h, r->rows[k].digest) == 0) {
                    if (h->nb_bad++ == 0) {
                        h->nb_first = r->seq;
                        h->nb_got = (long long)r->rows[k].time;
                    }
                    break;
                }
            }
        }
        if (delivered)
            for (size_t k = 0; k < r->row_count; k++)
                if (!h->nb_have_max || r->rows[k].time > h->nb_max) {
                    h->nb_max = r->rows[k].time;
                    h->nb_have_max = 1;
                }
    }
    /* client/7.ack/no-duplicates: an acked row sent again */
    if (r->accepted && r->row_count > 0) {
        h->nd_posts++;
        size_t q = 0;
        for (size_t k = 0; k < r->row_count && q == 0; k++)
            q = acked_find(h, r->rows[k].digest);
        if (q != 0 && r->weak_identity)
            h->nd_weak++;
        else if (q != 0 && h->nd_dups++ == 0) {
            h->nd_first = r->seq;
            h->nd_orig = q;
            h->nd_shared = acked_shared(h, q, r);
        }
    }
    /* Is r the resend of a post still watched (the first later accepted
     * post that carries one of its rows)? */
    if (r->accepted) {
        for (size_t w = 0; w < h->watch_n; w++) {
            cs_watch *x = &h->watch[w];
            if (x->found || cs_rows_shared(&x->post, r) == 0)
                continue;
            x->found = 1;
            x->p_seq = r->seq;
            x->p_arrival = r->arrival;
            x->p_has_iv = r->has_iv;
            memcpy(x->p_iv, r->iv, EC_IV_LEN);
            free(x->post.rows);
            x->post.rows = NULL;
            x->post.row_count = 0;
        }
    }
    if (delivered && r->accepted && r->row_count > 0)
        for (size_t k = 0; k < r->row_count; k++)
            acked_add(h, r->rows[k].digest, r->seq);
    /* Watch r when its resend matters: not delivered, or a scripted step. */
    int undelivered = r->accepted && r->row_count > 0 && !delivered;
    int scripted = r->scenario >= 0 && r->step >= 0 &&
                   (size_t)r->step < run->scenarios[r->scenario]->step_count;
    if (undelivered || scripted) {
        if (h->watch_n == h->watch_cap) {
            size_t cap = h->watch_cap ? h->watch_cap * 2 : 16;
            cs_watch *grown = realloc(h->watch, cap * sizeof *grown);
            if (grown != NULL) {
                h->watch = grown;
                h->watch_cap = cap;
            }
        }
        if (h->watch_n < h->watch_cap) {
            cs_watch *x = &h->watch[h->watch_n];
            memset(x, 0, sizeof *x);
            x->post = *r;
            x->post.rows = r->row_count ? malloc(r->row_count * sizeof *r->rows) : NULL;
            if (x->post.rows != NULL)
                memcpy(x->post.rows, r->rows, r->row_count * sizeof *r->rows);
            else
                x->post.row_count = 0;
            x->undelivered = undelivered;
            x->scripted = scripted;
            h->watch_n++;
        }
    }
    if (r->accepted) {
        h->last_accepted = r->seq;
        /* the device's pace (c7_time_needed) */
        h->accepted_posts++;
        if (h->have_prev) {
            double gap = r->arrival - h->prev_arrival;
            if (h->prev_delivered)
                push_double(&h->after_ack, &h->n_ack, &h->cap_ack, gap);
            else
                push_double(&h->after_fail, &h->n_fail, &h->cap_fail, gap);
        }
        h->have_prev = 1;
        h->prev_arrival = r->arrival;
        h->prev_delivered = delivered;
    }
    if (r->scenario >= 0 && h->sc_posts != NULL) {
        size_t i = (size_t)r->scenario;
        h->sc_posts[i]++;
        if (r->step >= 0 && (size_t)r->step < run->scenarios[i]->step_count)
            h->sc_steps[i]++;
        else
            h->sc_observed[i] = 1;
    }
}

/* see client_internal.h */
void cs_history_free(cs_history *h)
{
    if (h == NULL)
        return;
    cs_big_free(h->acked_digest, h->acked_cap, sizeof *h->acked_digest);
    cs_big_free(h->acked_seq, h->acked_cap, sizeof *h->acked_seq);
    for (size_t w = 0; w < h->watch_n; w++)
        free(h->watch[w].post.rows);
    free(h->watch);
    cs_big_free(h->after_ack, h->cap_ack, sizeof *h->after_ack);
    cs_big_free(h->after_fail, h->cap_fail, sizeof *h->after_fail);
    free(h->sc_posts);
    free(h->sc_steps);
    free(h->sc_observed);
    memset(h, 0, sizeof *h);
}

/* client/7.time/ascending */
void c7_time_ascending(const cs_run *run, cs_outcome *o)
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

/* client/7.time/never-backwards */
void c7_time_never_backwards(const cs_run *run, cs_outcome *o)
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

/* client/7.ack/no-duplicates */
void c7_ack_no_duplicates(const cs_run *run, cs_outcome *o)
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

/* client/7.ack/no-data-lost */
void c7_ack_no_data_lost(const cs_run *run, cs_outcome *o)
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

static int same_iv(const cs_watch *q)
{
    return q->p_has_iv && q->post.has_iv && memcmp(q->p_iv, q->post.iv, EC_IV_LEN) == 0;
}

/* client/7.resend/fresh-iv */
void c7_resend_fresh_iv(const cs_run *run, cs_outcome *o)
{
    const cs_history *h = &run->history;
    size_t resends = 0, same = 0, first = 0, orig = 0;
    for (size_t i = 0; i < h->watch_n; i++) {
        const cs_watch *q = &h->watch[i];
        if (!q->undelivered || !q->found)
            continue;
        resends++;
        if (same_iv(q) && same++ == 0) {
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

/* Does text hold the key as hex (either case) or as base64 of its 16
 * bytes (either alphabet)? */
static int holds_key(const cs_run *run, const char *text, size_t n)
{
    const char *key = run->apikey_hex;
    size_t kl = strlen(key);
    char b64[2][32];
    size_t b64_len[2] = {0, 0};
    ec_b64_encode(run->key, EC_KEY_LEN, EC_B64_STD, 0, b64[0], sizeof b64[0], &b64_len[0]);
    ec_b64_encode(run->key, EC_KEY_LEN, EC_B64_URL, 0, b64[1], sizeof b64[1], &b64_len[1]);
    for (size_t i = 0; i < n; i++) {
        if (i + kl <= n && strncasecmp(text + i, key, kl) == 0)
            return 1;
        for (int a = 0; a < 2; a++)
            if (b64_len[a] && i + b64_len[a] <= n && memcmp(text + i, b64[a], b64_len[a]) == 0)
                return 1;
    }
    return 0;
}

/* Where in r the key appears in clear, or NULL. */
static const char *key_in_clear(const cs_run *run, const cs_request *r)
{
    if (r->path != NULL && holds_key(run, r->path, strlen(r->path)))
        return "the URL path";
    if (r->query != NULL && holds_key(run, r->query, strlen(r->query)))
        return "the URL query string";
    for (size_t i = 0; i < r->header_count; i++) {
        const char *v = r->headers[i].value;
        int basic = strcasecmp(r->headers[i].name, "Authorization") == 0 &&
                    strncasecmp(v, "Basic ", 6) == 0;
        if (basic) {
            /* user:password in base64: look inside. */
            uint8_t dec[512];
            size_t dl = 0;
            if (ec_b64_decode_compat(v + 6, strlen(v + 6), dec, sizeof dec - 1, &dl) == EC_OK &&
                holds_key(run, (const char *)dec, dl))
                return "an 'Authorization: Basic' header";
        }
        if (!holds_key(run, v, strlen(v)))
            continue;
        if (strcasecmp(r->headers[i].name, "Authorization") == 0 &&
            strncasecmp(v, "Bearer", 6) == 0)
            return "an 'Authorization: Bearer' header";
        return "a header";
    }
    if (r->body != NULL && holds_key(run, (const char *)r->body, r->body_len))
        return "the request body";
    return NULL;
}

/* client/7.apikey/not-in-clear */
void c7_apikey_not_in_clear(const cs_run *run, cs_outcome *o)
{
    const cs_audit *au = &run->audit;
    size_t leaks = au->key_leaks;
    const char *where = au->key_first_where;
    if (leaks == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu requests, the write API key never in clear",
                       run->request_count);
        return;
    }
    cs_outcome_set(o, EC_VERDICT_FAIL, "%zu requests carry the write API key in clear; first "
                   "%s, in %s: anyone on the path can now forge and read every post",
                   leaks, au->key_first_label, where);
    snprintf(o->expected, sizeof o->expected, "the key never sent");
    snprintf(o->actual, sizeof o->actual, "in %s", where);
}

/* see client_internal.h: what the audit takes from a request while it is
 * whole (its headers and body are not kept). */
void c7_observe(cs_run *run, const cs_request *r)
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
    const char *w = key_in_clear(run, r);
    if (w != NULL && au->key_leaks++ == 0) {
        au->key_first_where = w;
        cs_label(r, au->key_first_label, sizeof au->key_first_label);
    }
}

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

/* q was not delivered and its rows came again later (q->p_seq). */
static int resent(const cs_watch *q)
{
    return q != NULL && q->undelivered && q->found;
}

static long wait_ms(const cs_watch *q)
{
    return (long)((q->p_arrival - q->post.arrival) * 1000.0 + 0.5);
}

/* client/7.retry/interval */
void c7_retry_interval(const cs_run *run, cs_outcome *o)
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
        if (!resent(q))
            continue;
        long ms = wait_ms(q);
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
            start = !(resent(&h->watch[j]) && h->watch[j].p_seq == q->post.seq);
        if (!start)
            continue;
        size_t len = 0;
        for (const cs_watch *c = q; resent(c) && len < cap; c = watched(h, c->p_seq))
            chain[len++] = wait_ms(c);
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
        } else if (same_iv(p)) {
            v = EC_VERDICT_FAIL;
            snprintf(part, sizeof part, "#%zu got %s; resent in #%zu with the SAME IV", q->seq,
                     what, p->p_seq);
        } else {
            snprintf(part, sizeof part, "#%zu got %s; resent in #%zu after %ld ms with a "
                     "fresh IV", q->seq, what, p->p_seq,
                     wait_ms(p));
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
