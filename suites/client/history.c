/* emoncrypt — what the client/7.* checks keep across posts (cs_history):
 * c7_settle folds each settled post in, in arrival order; the checks read
 * it at the end. */
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

/* ---- what the checks read from it ------------------------------------ */

/* see client_internal.h */
int cs_same_iv(const cs_watch *q)
{
    return q->p_has_iv && q->post.has_iv && memcmp(q->p_iv, q->post.iv, EC_IV_LEN) == 0;
}

/* see client_internal.h */
int cs_resent(const cs_watch *q)
{
    return q != NULL && q->undelivered && q->found;
}

/* see client_internal.h */
long cs_wait_ms(const cs_watch *q)
{
    return (long)((q->p_arrival - q->post.arrival) * 1000.0 + 0.5);
}
