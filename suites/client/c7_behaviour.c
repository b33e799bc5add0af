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

/* The rows of delivered posts, as a hash set from row key to the post
 * that delivered it first: a field run of days has thousands of posts, and
 * comparing each with every earlier one would take minutes. */
typedef struct {
    uint64_t key;                 /* a row's digest */
    const cs_post *by;            /* NULL = empty slot */
} delivered_slot;

typedef struct {
    delivered_slot *slots;
    size_t cap, n;
} delivered_set;

/* The digest is SHA-256's first bytes: already well spread. */
static size_t hash_key(uint64_t key)
{
    return (size_t)key;
}

static const cs_post *delivered_find(const delivered_set *d, uint64_t key)
{
    if (d->cap == 0)
        return NULL;
    for (size_t i = hash_key(key) & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
        if (d->slots[i].by == NULL)
            return NULL;
        if (d->slots[i].key == key)
            return d->slots[i].by;
    }
}

static void delivered_add(delivered_set *d, uint64_t key, const cs_post *by)
{
    if ((d->n + 1) * 2 > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        delivered_slot *slots = calloc(cap, sizeof *slots);
        if (slots == NULL)
            return;
        for (size_t i = 0; i < d->cap; i++) {
            if (d->slots[i].by == NULL)
                continue;
            size_t j = hash_key(d->slots[i].key) & (cap - 1);
            while (slots[j].by != NULL)
                j = (j + 1) & (cap - 1);
            slots[j] = d->slots[i];
        }
        free(d->slots);
        d->slots = slots;
        d->cap = cap;
    }
    size_t i = hash_key(key) & (d->cap - 1);
    while (d->slots[i].by != NULL) {
        if (d->slots[i].key == key)
            return; /* the first delivery is kept */
        i = (i + 1) & (d->cap - 1);
    }
    d->slots[i].key = key;
    d->slots[i].by = by;
    d->n++;
}

static void delivered_add_post(delivered_set *d, const cs_post *r)
{
    for (size_t k = 0; k < r->row_count; k++)
        delivered_add(d, r->rows[k].digest, r);
}

/* The first later accepted post that carries a row of q, or NULL. */
static const cs_post *later_sharing(const cs_run *run, const cs_post *q)
{
    for (size_t j = (size_t)(q - run->posts) + 1; j < run->request_count; j++) {
        const cs_post *p = &run->posts[j];
        if (p->accepted && cs_rows_shared(q, p) > 0)
            return p;
    }
    return NULL;
}

static int later_accepted_exists(const cs_run *run, const cs_post *q)
{
    for (size_t j = (size_t)(q - run->posts) + 1; j < run->request_count; j++)
        if (run->posts[j].accepted)
            return 1;
    return 0;
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
    int have_max = 0;
    int64_t max_acked = 0;
    delivered_set acked = {0};
    size_t posts = 0, bad = 0;
    const cs_post *first = NULL;
    long long got = 0;
    for (size_t i = 0; i < run->request_count; i++) {
        const cs_post *r = &run->posts[i];
        if (!r->accepted || !r->absolute_time || r->row_count == 0)
            continue;
        posts++;
        if (have_max) {
            for (size_t k = 0; k < r->row_count; k++) {
                if (r->rows[k].time >= max_acked)
                    continue;
                /* A row sent again exactly is client/7.ack/no-duplicates's. */
                if (delivered_find(&acked, r->rows[k].digest) == NULL) {
                    if (bad++ == 0) {
                        first = r;
                        got = (long long)r->rows[k].time;
                    }
                    break;
                }
            }
        }
        if (cs_delivered(r)) {
            delivered_add_post(&acked, r);
            for (size_t k = 0; k < r->row_count; k++)
                if (!have_max || r->rows[k].time > max_acked) {
                    max_acked = r->rows[k].time;
                    have_max = 1;
                }
        }
    }
    free(acked.slots);
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
                   "one; first #%zu: time %lld", bad, first->seq, got);
    snprintf(o->actual, sizeof o->actual, "%lld", got);
    snprintf(o->expected, sizeof o->expected, "no new row older than the last ack");
}

/* client/7.ack/no-duplicates */
void c7_ack_no_duplicates(const cs_run *run, cs_outcome *o)
{
    size_t posts = 0, dups = 0, weak = 0;
    const cs_post *first = NULL, *orig = NULL;
    delivered_set acked = {0};
    for (size_t i = 0; i < run->request_count; i++) {
        const cs_post *r = &run->posts[i];
        if (!r->accepted || r->row_count == 0)
            continue;
        posts++;
        const cs_post *q = NULL;
        for (size_t k = 0; k < r->row_count && q == NULL; k++)
            q = delivered_find(&acked, r->rows[k].digest);
        if (q != NULL && r->weak_identity)
            weak++;
        else if (q != NULL && dups++ == 0) {
            first = r;
            orig = q;
        }
        if (cs_delivered(r))
            delivered_add_post(&acked, r);
    }
    free(acked.slots);
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
                   "repeats %zu rows of #%zu (the server stores them twice)", dups, first->seq,
                   cs_rows_shared(orig, first), orig->seq);
    snprintf(o->expected, sizeof o->expected, "0 acknowledged rows again");
    snprintf(o->actual, sizeof o->actual, "%zu", cs_rows_shared(orig, first));
}

/* client/7.ack/no-data-lost */
void c7_ack_no_data_lost(const cs_run *run, cs_outcome *o)
{
    size_t failed = 0, judged = 0, lost = 0;
    const cs_post *first = NULL;
    for (size_t i = 0; i < run->request_count; i++) {
        const cs_post *q = &run->posts[i];
        if (!q->accepted || q->row_count == 0 || cs_delivered(q))
            continue;
        failed++;
        if (!later_accepted_exists(run, q))
            continue;
        judged++;
        if (later_sharing(run, q) == NULL && lost++ == 0)
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
                   lost, judged, first->seq, first->reply_status,
                   first->client_gone ? ", answer not completed" : "", first->row_count);
    snprintf(o->expected, sizeof o->expected, "rows resent");
    snprintf(o->actual, sizeof o->actual, "never resent");
}

/* client/7.resend/fresh-iv */
void c7_resend_fresh_iv(const cs_run *run, cs_outcome *o)
{
    size_t resends = 0, same = 0;
    const cs_post *first = NULL, *orig = NULL;
    for (size_t i = 0; i < run->request_count; i++) {
        const cs_post *q = &run->posts[i];
        if (!q->accepted || q->row_count == 0 || cs_delivered(q))
            continue;
        const cs_post *p = later_sharing(run, q);
        if (p == NULL)
            continue;
        resends++;
        if (p->has_iv && q->has_iv && memcmp(p->iv, q->iv, EC_IV_LEN) == 0 && same++ == 0) {
            first = p;
            orig = q;
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
                   "first #%zu resends #%zu with the same IV", same, resends, first->seq,
                   orig->seq);
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

/* q was not delivered and its rows came again later: the resend, else NULL. */
static const cs_post *resend_of(const cs_run *run, const cs_post *q)
{
    if (!q->accepted || q->row_count == 0 || cs_delivered(q))
        return NULL;
    return later_sharing(run, q);
}

static long wait_ms(const cs_post *q, const cs_post *p)
{
    return (long)((p->arrival - q->arrival) * 1000.0 + 0.5);
}

/* client/7.retry/interval */
void c7_retry_interval(const cs_run *run, cs_outcome *o)
{
    char list[320] = "";
    size_t used = 0, resends = 0, n_plain = 0, best_n = 0;
    size_t cap = run->request_count + 1;
    long *plain = calloc(cap, sizeof *plain), *chain = calloc(cap, sizeof *chain),
         *best = calloc(cap, sizeof *best);
    unsigned ra_s = 0;
    long ra_wait = -1;
    for (size_t i = 0; plain && chain && best && i < run->request_count; i++) {
        const cs_post *q = &run->posts[i];
        const cs_post *p = resend_of(run, q);
        if (p == NULL)
            continue;
        long ms = wait_ms(q, p);
        resends++;
        if (used < sizeof list - 16) {
            int w = snprintf(list + used, sizeof list - used, "%s%ld", used ? ", " : "", ms);
            if (w > 0)
                used += (size_t)w;
        }
        if (q->retry_after_s > 0) {
            if (ra_wait < 0)
                ra_s = q->retry_after_s, ra_wait = ms;
        } else {
            plain[n_plain++] = ms;
        }
        /* The longest run of failures of the same rows: does its wait grow? */
        int start = 1;
        for (size_t j = 0; j < i && start; j++)
            start = resend_of(run, &run->posts[j]) != q;
        if (!start)
            continue;
        size_t len = 0;
        for (const cs_post *c = q, *n; c && (n = resend_of(run, c)) && len < cap; c = n)
            chain[len++] = wait_ms(c, n);
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
    double *after_ack = calloc(run->request_count + 1, sizeof *after_ack);
    double *after_fail = calloc(run->request_count + 1, sizeof *after_fail);
    size_t n_ack = 0, n_fail = 0, posts = 0;
    const cs_post *prev = NULL;
    for (size_t i = run->resumed; after_ack && after_fail && i < run->request_count; i++) {
        const cs_post *r = &run->posts[i];
        if (!r->accepted)
            continue;
        posts++;
        if (prev != NULL) {
            double gap = r->arrival - prev->arrival;
            if (cs_delivered(prev))
                after_ack[n_ack++] = gap;
            else
                after_fail[n_fail++] = gap;
        }
        prev = r;
    }
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
        size_t seen = 0;
        for (size_t k = 0; k < run->request_count; k++)
            seen += run->posts[k].scenario == (int)i;
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
    size_t steps_seen = 0;
    int observed = 0;
    for (size_t k = 0; k < run->request_count; k++) {
        const cs_post *r = &run->posts[k];
        if (r->scenario != (int)i)
            continue;
        if (r->step >= 0 && (size_t)r->step < sc->step_count)
            steps_seen++;
        else
            observed = 1;
    }
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
    for (size_t k = 0; k < run->request_count; k++) {
        const cs_post *q = &run->posts[k];
        if (q->scenario != (int)i || q->step < 0 || (size_t)q->step >= sc->step_count)
            continue;
        describe_reply(q->script, what, sizeof what);
        const cs_post *p = later_sharing(run, q);
        char part[256];
        ec_verdict v = EC_VERDICT_PASS;
        if (sc->expect_delivered && !q->client_gone) {
            if (p == NULL) {
                snprintf(part, sizeof part, "#%zu got %s and was not sent again", q->seq, what);
            } else {
                v = EC_VERDICT_FAIL;
                snprintf(part, sizeof part, "#%zu got %s, yet its rows came again in #%zu "
                         "(duplicates)", q->seq, what, p->seq);
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
        } else if (p->has_iv && q->has_iv && memcmp(p->iv, q->iv, EC_IV_LEN) == 0) {
            v = EC_VERDICT_FAIL;
            snprintf(part, sizeof part, "#%zu got %s; resent in #%zu with the SAME IV", q->seq,
                     what, p->seq);
        } else {
            snprintf(part, sizeof part, "#%zu got %s; resent in #%zu after %ld ms with a "
                     "fresh IV", q->seq, what, p->seq,
                     (long)((p->arrival - q->arrival) * 1000.0 + 0.5));
        }
        if (v == EC_VERDICT_FAIL || (v == EC_VERDICT_NON_STRICT && verdict != EC_VERDICT_FAIL) ||
            (v == EC_VERDICT_INFO && verdict == EC_VERDICT_PASS))
            verdict = v;
        if (used < sizeof msg - 4) {
            int w = snprintf(msg + used, sizeof msg - used, "%s%s", used ? "; " : "", part);
            if (w > 0)
                used += (size_t)w;
        }
    }
    cs_outcome_set(o, verdict, "%s", msg);
    snprintf(o->expected, sizeof o->expected, "%s",
             sc->expect_delivered ? "taken as the ack, not resent" : "not delivered: resent "
             "with a fresh IV");
}
