/* emoncrypt — test-client --state FILE (issue 11): the progress of the
 * scenarios and what the checks across posts keep, written at the end of a
 * run and read back at the start of the next, so that a device that posts
 * once per process run (a cron script) completes the scenarios over many
 * short runs as it would in one long one.
 *
 * What is kept: the scenario cursor, each scenario's counts, the watched
 * posts (their row digests, IVs and answers), the digests of the delivered
 * rows, the newest acked time, the IVs seen (for client/2.iv/fresh: the IV
 * travels in clear in every post), and the pace of the device.  Never the
 * key, never a plaintext: a row is the first 8 bytes of its SHA-256.  The
 * per-request checks (aggregates), the API-key audit and the broken
 * connections are judged per run.
 *
 * JSON (jansson), "format": "emoncrypt-test-client-state", "version": 1;
 * written to FILE.tmp.PID, fsynced and renamed over FILE. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client_internal.h"

#define STATE_FORMAT "emoncrypt-test-client-state"
#define STATE_VERSION 1

/* ---- writing -------------------------------------------------------------- */

static json_t *hex_of(const uint8_t *b, size_t n)
{
    char s[2 * 64 + 1];
    if (n > 64)
        n = 64;
    if (ec_hex_encode(b, n, s, sizeof s) != EC_OK)
        return NULL;
    return json_string(s);
}

static json_t *u64_of(uint64_t v)
{
    char s[17];
    snprintf(s, sizeof s, "%016" PRIx64, v);
    return json_string(s);
}

static json_t *rows_of(const cs_row *rows, size_t n)
{
    json_t *a = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(a, json_pack("[o,I]", u64_of(rows[k].digest), (json_int_t)rows[k].time));
    return a;
}

static json_t *doubles_of(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

#define SET_INT(obj, st, f) json_object_set_new(obj, #f, json_integer((json_int_t)(st)->f))
#define SET_REAL(obj, st, f) json_object_set_new(obj, #f, json_real((st)->f))
#define SET_HEX(obj, st, f) json_object_set_new(obj, #f, hex_of((st)->f, sizeof (st)->f))

static json_t *watch_of(const cs_watch *w)
{
    const cs_post *p = &w->post;
    json_t *o = json_object();
    SET_INT(o, p, seq);
    SET_REAL(o, p, arrival);
    SET_INT(o, p, accepted);
    SET_INT(o, p, has_iv);
    SET_INT(o, p, absolute_time);
    SET_INT(o, p, weak_identity);
    SET_INT(o, p, reply_is_ack);
    SET_INT(o, p, client_gone);
    SET_HEX(o, p, iv);
    json_object_set_new(o, "rows", rows_of(p->rows, p->row_count));
    SET_INT(o, p, scenario);
    SET_INT(o, p, step);
    SET_INT(o, p, reply_status);
    SET_INT(o, p, retry_after_s);
    SET_INT(o, w, undelivered);
    SET_INT(o, w, scripted);
    SET_INT(o, w, found);
    SET_INT(o, w, p_seq);
    SET_REAL(o, w, p_arrival);
    SET_INT(o, w, p_has_iv);
    SET_HEX(o, w, p_iv);
    return o;
}

static json_t *history_of(const cs_run *run)
{
    const cs_history *h = &run->history;
    json_t *o = json_object();
    json_t *acked = json_array();
    for (size_t i = 0; i < h->acked_cap; i++)
        if (h->acked_seq[i] != 0)
            json_array_append_new(acked, json_pack("[I,o,I]", (json_int_t)i, u64_of(h->acked_digest[i]),
                                                   (json_int_t)h->acked_seq[i]));
    SET_INT(o, h, acked_cap);
    json_object_set_new(o, "acked", acked);
    SET_INT(o, h, nb_posts);
    SET_INT(o, h, nb_bad);
    SET_INT(o, h, nb_first);
    SET_INT(o, h, nb_got);
    SET_INT(o, h, nb_have_max);
    SET_INT(o, h, nb_max);
    SET_INT(o, h, nd_posts);
    SET_INT(o, h, nd_dups);
    SET_INT(o, h, nd_weak);
    SET_INT(o, h, nd_first);
    SET_INT(o, h, nd_orig);
    SET_INT(o, h, nd_shared);
    json_t *watch = json_array();
    for (size_t w = 0; w < h->watch_n; w++)
        json_array_append_new(watch, watch_of(&h->watch[w]));
    json_object_set_new(o, "watch", watch);
    SET_INT(o, h, last_accepted);
    json_object_set_new(o, "after_ack", doubles_of(h->after_ack, h->n_ack));
    json_object_set_new(o, "after_fail", doubles_of(h->after_fail, h->n_fail));
    SET_INT(o, h, accepted_posts);
    SET_INT(o, h, have_prev);
    SET_REAL(o, h, prev_arrival);
    SET_INT(o, h, prev_delivered);
    json_t *sc = json_array();
    for (size_t i = 0; i < run->scenario_count; i++)
        json_array_append_new(sc, json_pack("[I,I,i]", (json_int_t)h->sc_posts[i],
                                            (json_int_t)h->sc_steps[i], h->sc_observed[i]));
    json_object_set_new(o, "scenarios", sc);
    return o;
}

static json_t *audit_of(const cs_audit *a)
{
    json_t *o = json_object();
    json_t *ivs = json_array();
    for (size_t i = 0; i < a->iv_cap; i++)
        if (a->iv_slots[i].seq != 0)
            json_array_append_new(ivs, json_pack("[I,o,I]", (json_int_t)i,
                                                 hex_of(a->iv_slots[i].iv, EC_IV_LEN),
                                                 (json_int_t)a->iv_slots[i].seq));
    SET_INT(o, a, iv_cap);
    json_object_set_new(o, "ivs", ivs);
    SET_INT(o, a, with_iv);
    SET_INT(o, a, iv_repeats);
    SET_INT(o, a, iv_first_a);
    SET_INT(o, a, iv_first_b);
    SET_HEX(o, a, iv_first_b_iv);
    SET_INT(o, a, iv_zeros);
    SET_INT(o, a, iv_zero_first);
    SET_INT(o, a, have_prev_iv);
    SET_INT(o, a, prev_iv_seq);
    SET_HEX(o, a, prev_iv);
    SET_INT(o, a, iv_pairs);
    SET_INT(o, a, iv_steps);
    SET_INT(o, a, iv_hit_a);
    SET_INT(o, a, iv_hit_b);
    SET_HEX(o, a, iv_hit_a_iv);
    SET_HEX(o, a, iv_hit_b_iv);
    SET_INT(o, a, iv_timed);
    SET_INT(o, a, iv_timed_first);
    json_object_set_new(o, "iv_timed_where", json_string(a->iv_timed_where));
    json_object_set_new(o, "iv_timed_hex", json_string(a->iv_timed_hex));
    SET_INT(o, a, asc_posts);
    SET_INT(o, a, asc_bad);
    SET_INT(o, a, asc_first);
    SET_INT(o, a, asc_a);
    SET_INT(o, a, asc_b);
    return o;
}

/* The run list's names, "a,b,c" ("none": no scenario). */
static void selection_of(const cs_run *run, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (size_t i = 0; i < run->scenario_count && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? "," : "", run->scenarios[i]->name);
        if (n > 0)
            used += (size_t)n;
    }
    if (run->scenario_count == 0)
        snprintf(out, cap, "none");
}

/* see client_internal.h */
int cs_state_save(const cs_run *run, const cs_cursor *cur, const char *path, char *err, size_t cap)
{
    char sel[1024];
    selection_of(run, sel, sizeof sel);
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(STATE_FORMAT));
    json_object_set_new(root, "version", json_integer(STATE_VERSION));
    json_object_set_new(root, "userid", json_string(run->userid));
    json_object_set_new(root, "profile", json_integer(run->opt.profile));
    json_object_set_new(root, "scenarios", json_string(sel));
    json_object_set_new(root, "requests", json_integer((json_int_t)run->request_count));
    json_object_set_new(root, "runs", json_integer((json_int_t)cur->runs + 1));
    json_object_set_new(root, "scenario_pos", json_integer((json_int_t)cur->scenario_pos));
    json_object_set_new(root, "step_pos", json_integer((json_int_t)cur->step_pos));
    json_object_set_new(root, "scenarios_done", json_integer(cur->scenarios_done));
    json_object_set_new(root, "history", history_of(run));
    json_object_set_new(root, "audit", audit_of(&run->audit));
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int ok = f != NULL && json_dumpf(root, f, JSON_COMPACT) == 0 && fputc('\n', f) != EOF &&
             fflush(f) == 0 && fsync(fileno(f)) == 0;
    int saved = errno;
    if (f != NULL && fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    json_decref(root);
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        snprintf(err, cap, "--state %s: cannot write it: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

/* ---- reading -------------------------------------------------------------- */

/* The reader: the first thing wrong makes the file corrupt (why). */
typedef struct {
    const char *why;
} rd;

static json_int_t get_int(rd *r, json_t *o, const char *k, json_int_t lo, json_int_t hi)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        if (r->why == NULL)
            r->why = k;
        return lo;
    }
    return json_integer_value(v);
}

static double get_real(rd *r, json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v)) {
        if (r->why == NULL)
            r->why = k;
        return 0;
    }
    return json_number_value(v);
}

/* n bytes from 2n lowercase hex digits (as hex_of writes them). */
static void get_hex_str(rd *r, json_t *v, const char *k, uint8_t *out, size_t n)
{
    const char *s = json_string_value(v);
    size_t got = 0;
    if (s == NULL || strlen(s) != 2 * n || strspn(s, "0123456789abcdef") != 2 * n ||
        ec_hex_decode(s, 2 * n, out, n, &got) != EC_OK) {
        if (r->why == NULL)
            r->why = k;
    }
}

static void get_hex(rd *r, json_t *o, const char *k, uint8_t *out, size_t n)
{
    get_hex_str(r, json_object_get(o, k), k, out, n);
}

static uint64_t u64_from(rd *r, json_t *v, const char *k)
{
    uint8_t b[8] = {0};
    get_hex_str(r, v, k, b, 8);
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | b[i];
    return x;
}

static void get_str(rd *r, json_t *o, const char *k, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (s == NULL || strlen(s) >= cap) {
        if (r->why == NULL)
            r->why = k;
        return;
    }
    snprintf(out, cap, "%s", s);
}

static json_t *get_array(rd *r, json_t *o, const char *k)
{
    json_t *a = json_object_get(o, k);
    if (!json_is_array(a)) {
        if (r->why == NULL)
            r->why = k;
        return NULL;
    }
    return a;
}

#define BIG ((json_int_t)1 << 40)
#define GET_INT(r, obj, st, f, lo, hi) ((st)->f = (__typeof__((st)->f))get_int(r, obj, #f, lo, hi))
#define GET_REAL(r, obj, st, f) ((st)->f = get_real(r, obj, #f))
#define GET_HEX(r, obj, st, f) get_hex(r, obj, #f, (st)->f, sizeof (st)->f)

/* A power of two up to 2^28, or 0 (no table yet). */
static size_t get_cap(rd *r, json_t *o, const char *k)
{
    size_t c = (size_t)get_int(r, o, k, 0, (json_int_t)1 << 28);
    if (c & (c - 1)) {
        if (r->why == NULL)
            r->why = k;
        return 0;
    }
    return c;
}

static void get_doubles(rd *r, json_t *o, const char *k, double **v, size_t *n, size_t *cap)
{
    json_t *a = get_array(r, o, k);
    size_t len = a ? json_array_size(a) : 0;
    if (len == 0)
        return;
    size_t c = 1024;
    while (c < len)
        c *= 2;
    *v = cs_big_calloc(c, sizeof **v);
    if (*v == NULL) {
        r->why = "out of memory";
        return;
    }
    *cap = c;
    for (size_t i = 0; i < len; i++) {
        json_t *x = json_array_get(a, i);
        if (!json_is_number(x)) {
            if (r->why == NULL)
                r->why = k;
            return;
        }
        (*v)[(*n)++] = json_number_value(x);
    }
}

static void read_watch(rd *r, const cs_run *run, json_t *o, cs_watch *w)
{
    cs_post *p = &w->post;
    if (!json_is_object(o)) {
        r->why = "watch";
        return;
    }
    GET_INT(r, o, p, seq, 1, BIG);
    GET_REAL(r, o, p, arrival);
    GET_INT(r, o, p, accepted, 0, 1);
    GET_INT(r, o, p, has_iv, 0, 1);
    GET_INT(r, o, p, absolute_time, 0, 1);
    GET_INT(r, o, p, weak_identity, 0, 1);
    GET_INT(r, o, p, reply_is_ack, 0, 1);
    GET_INT(r, o, p, client_gone, 0, 1);
    GET_HEX(r, o, p, iv);
    GET_INT(r, o, p, scenario, -1, (json_int_t)run->scenario_count - 1);
    GET_INT(r, o, p, step, -1, EC_SCENARIO_MAX_STEPS);
    GET_INT(r, o, p, reply_status, 0, 999);
    GET_INT(r, o, p, retry_after_s, 0, 1000000);
    GET_INT(r, o, w, undelivered, 0, 1);
    GET_INT(r, o, w, scripted, 0, 1);
    GET_INT(r, o, w, found, 0, 1);
    GET_INT(r, o, w, p_seq, 0, BIG);
    GET_REAL(r, o, w, p_arrival);
    GET_INT(r, o, w, p_has_iv, 0, 1);
    GET_HEX(r, o, w, p_iv);
    p->done = 1;
    if (r->why != NULL)
        return;
    if (p->scenario >= 0 && p->step >= 0 &&
        (size_t)p->step < run->scenarios[p->scenario]->step_count)
        p->script = &run->scenarios[p->scenario]->steps[p->step];
    else if (w->scripted) {
        r->why = "watch step";
        return;
    }
    json_t *rows = get_array(r, o, "rows");
    size_t n = rows ? json_array_size(rows) : 0;
    if (n == 0)
        return;
    p->rows = calloc(n, sizeof *p->rows);
    if (p->rows == NULL) {
        r->why = "out of memory";
        return;
    }
    for (size_t k = 0; k < n; k++) {
        json_t *row = json_array_get(rows, k);
        if (!json_is_array(row) || json_array_size(row) != 2 ||
            !json_is_integer(json_array_get(row, 1))) {
            r->why = "rows";
            return;
        }
        p->rows[k].digest = u64_from(r, json_array_get(row, 0), "rows");
        p->rows[k].time = json_integer_value(json_array_get(row, 1));
        p->row_count++;
    }
}

static void read_history(rd *r, cs_run *run, json_t *o)
{
    cs_history *h = &run->history;
    if (!json_is_object(o)) {
        r->why = "history";
        return;
    }
    size_t cap = get_cap(r, o, "acked_cap");
    json_t *acked = get_array(r, o, "acked");
    if (r->why)
        return;
    if (cap > 0) {
        h->acked_digest = cs_big_calloc(cap, sizeof *h->acked_digest);
        h->acked_seq = cs_big_calloc(cap, sizeof *h->acked_seq);
        if (h->acked_digest == NULL || h->acked_seq == NULL) {
            cs_big_free(h->acked_digest, cap, sizeof *h->acked_digest);
            cs_big_free(h->acked_seq, cap, sizeof *h->acked_seq);
            h->acked_digest = NULL;
            h->acked_seq = NULL;
            r->why = "out of memory";
            return;
        }
        h->acked_cap = cap;
    }
    for (size_t i = 0; i < json_array_size(acked); i++) {
        json_t *e = json_array_get(acked, i);
        json_t *ix = json_array_get(e, 0), *sq = json_array_get(e, 2);
        if (!json_is_integer(ix) || !json_is_integer(sq) || json_integer_value(ix) < 0 ||
            (size_t)json_integer_value(ix) >= cap || json_integer_value(sq) < 1 ||
            json_integer_value(sq) > UINT32_MAX || h->acked_seq[json_integer_value(ix)] != 0) {
            r->why = "acked";
            return;
        }
        size_t at = (size_t)json_integer_value(ix);
        h->acked_digest[at] = u64_from(r, json_array_get(e, 1), "acked");
        h->acked_seq[at] = (uint32_t)json_integer_value(sq);
        h->acked_n++;
    }
    if (cap > 0 && h->acked_n * 5 > cap * 4) {
        r->why = "acked";
        return;
    }
    GET_INT(r, o, h, nb_posts, 0, BIG);
    GET_INT(r, o, h, nb_bad, 0, BIG);
    GET_INT(r, o, h, nb_first, 0, BIG);
    GET_INT(r, o, h, nb_got, INT64_MIN, INT64_MAX);
    GET_INT(r, o, h, nb_have_max, 0, 1);
    GET_INT(r, o, h, nb_max, INT64_MIN, INT64_MAX);
    GET_INT(r, o, h, nd_posts, 0, BIG);
    GET_INT(r, o, h, nd_dups, 0, BIG);
    GET_INT(r, o, h, nd_weak, 0, BIG);
    GET_INT(r, o, h, nd_first, 0, BIG);
    GET_INT(r, o, h, nd_orig, 0, BIG);
    GET_INT(r, o, h, nd_shared, 0, BIG);
    GET_INT(r, o, h, last_accepted, 0, BIG);
    GET_INT(r, o, h, accepted_posts, 0, BIG);
    GET_INT(r, o, h, have_prev, 0, 1);
    GET_REAL(r, o, h, prev_arrival);
    GET_INT(r, o, h, prev_delivered, 0, 1);
    get_doubles(r, o, "after_ack", &h->after_ack, &h->n_ack, &h->cap_ack);
    get_doubles(r, o, "after_fail", &h->after_fail, &h->n_fail, &h->cap_fail);
    json_t *sc = get_array(r, o, "scenarios");
    if (r->why)
        return;
    if (json_array_size(sc) != run->scenario_count) {
        r->why = "scenarios";
        return;
    }
    for (size_t i = 0; i < run->scenario_count; i++) {
        json_t *e = json_array_get(sc, i);
        json_t *a = json_array_get(e, 0), *b = json_array_get(e, 1), *c = json_array_get(e, 2);
        if (!json_is_integer(a) || !json_is_integer(b) || !json_is_integer(c) ||
            json_integer_value(a) < 0 || json_integer_value(b) < 0 ||
            json_integer_value(b) > json_integer_value(a) || json_integer_value(c) < 0 ||
            json_integer_value(c) > 1) {
            r->why = "scenarios";
            return;
        }
        h->sc_posts[i] = (size_t)json_integer_value(a);
        h->sc_steps[i] = (size_t)json_integer_value(b);
        h->sc_observed[i] = (int)json_integer_value(c);
    }
    json_t *watch = get_array(r, o, "watch");
    size_t n = watch ? json_array_size(watch) : 0;
    if (n == 0)
        return;
    h->watch = calloc(n, sizeof *h->watch);
    if (h->watch == NULL) {
        r->why = "out of memory";
        return;
    }
    h->watch_cap = n;
    for (size_t w = 0; w < n && r->why == NULL; w++) {
        h->watch_n++;
        read_watch(r, run, json_array_get(watch, w), &h->watch[w]);
    }
}

static void read_audit(rd *r, cs_audit *a, json_t *o)
{
    if (!json_is_object(o)) {
        r->why = "audit";
        return;
    }
    size_t cap = get_cap(r, o, "iv_cap");
    json_t *ivs = get_array(r, o, "ivs");
    if (r->why)
        return;
    if (cap > 0) {
        a->iv_slots = cs_big_calloc(cap, sizeof *a->iv_slots);
        if (a->iv_slots == NULL) {
            r->why = "out of memory";
            return;
        }
        a->iv_cap = cap;
    }
    for (size_t i = 0; i < json_array_size(ivs); i++) {
        json_t *e = json_array_get(ivs, i);
        json_t *ix = json_array_get(e, 0), *sq = json_array_get(e, 2);
        if (!json_is_integer(ix) || !json_is_integer(sq) || json_integer_value(ix) < 0 ||
            (size_t)json_integer_value(ix) >= cap || json_integer_value(sq) < 1 ||
            json_integer_value(sq) > UINT32_MAX || a->iv_slots[json_integer_value(ix)].seq != 0) {
            r->why = "ivs";
            return;
        }
        cs_iv_slot *slot = &a->iv_slots[json_integer_value(ix)];
        get_hex_str(r, json_array_get(e, 1), "ivs", slot->iv, EC_IV_LEN);
        slot->seq = (uint32_t)json_integer_value(sq);
        a->iv_n++;
    }
    if (cap > 0 && a->iv_n * 5 > cap * 4) {
        r->why = "ivs";
        return;
    }
    GET_INT(r, o, a, with_iv, 0, BIG);
    GET_INT(r, o, a, iv_repeats, 0, BIG);
    GET_INT(r, o, a, iv_first_a, 0, BIG);
    GET_INT(r, o, a, iv_first_b, 0, BIG);
    GET_HEX(r, o, a, iv_first_b_iv);
    GET_INT(r, o, a, iv_zeros, 0, BIG);
    GET_INT(r, o, a, iv_zero_first, 0, BIG);
    GET_INT(r, o, a, have_prev_iv, 0, 1);
    GET_INT(r, o, a, prev_iv_seq, 0, BIG);
    GET_HEX(r, o, a, prev_iv);
    GET_INT(r, o, a, iv_pairs, 0, BIG);
    GET_INT(r, o, a, iv_steps, 0, BIG);
    GET_INT(r, o, a, iv_hit_a, 0, BIG);
    GET_INT(r, o, a, iv_hit_b, 0, BIG);
    GET_HEX(r, o, a, iv_hit_a_iv);
    GET_HEX(r, o, a, iv_hit_b_iv);
    GET_INT(r, o, a, iv_timed, 0, BIG);
    GET_INT(r, o, a, iv_timed_first, 0, BIG);
    get_str(r, o, "iv_timed_where", a->iv_timed_where, sizeof a->iv_timed_where);
    get_str(r, o, "iv_timed_hex", a->iv_timed_hex, sizeof a->iv_timed_hex);
    GET_INT(r, o, a, asc_posts, 0, BIG);
    GET_INT(r, o, a, asc_bad, 0, BIG);
    GET_INT(r, o, a, asc_first, 0, BIG);
    GET_INT(r, o, a, asc_a, INT64_MIN, INT64_MAX);
    GET_INT(r, o, a, asc_b, INT64_MIN, INT64_MAX);
}

/* see client_internal.h */
int cs_state_load(cs_run *run, cs_cursor *cur, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0; /* a fresh start */
        snprintf(err, cap, "--state %s: cannot read it: %s", path, strerror(errno));
        return -1;
    }
    json_error_t je;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (root == NULL || !json_is_object(root)) {
        snprintf(err, cap, "--state %s: corrupt (not a state file: %s), remove it to start afresh",
                 path, root ? "not a JSON object" : je.text);
        json_decref(root);
        return -1;
    }
    rd r = {NULL};
    int rc = -1;
    const char *format = json_string_value(json_object_get(root, "format"));
    json_t *version = json_object_get(root, "version");
    char sel[1024], want_user[256] = "", want_sel[1024] = "";
    selection_of(run, sel, sizeof sel);
    if (format == NULL || strcmp(format, STATE_FORMAT) != 0) {
        snprintf(err, cap, "--state %s: corrupt (not a test-client state file), remove it to "
                 "start afresh", path);
        goto out;
    }
    if (!json_is_integer(version) || json_integer_value(version) != STATE_VERSION) {
        snprintf(err, cap, "--state %s: version %s, this emoncrypt reads version %d; remove it "
                 "to start afresh", path, json_is_integer(version) ? "other" : "missing",
                 STATE_VERSION);
        if (json_is_integer(version))
            snprintf(err, cap, "--state %s: version %lld, this emoncrypt reads version %d; remove "
                     "it to start afresh", path, (long long)json_integer_value(version),
                     STATE_VERSION);
        goto out;
    }
    get_str(&r, root, "userid", want_user, sizeof want_user);
    get_str(&r, root, "scenarios", want_sel, sizeof want_sel);
    int profile = (int)get_int(&r, root, "profile", 0, 100);
    if (r.why == NULL && strcmp(want_user, run->userid) != 0) {
        snprintf(err, cap, "--state %s: made for user id %s, not %s; use another file", path,
                 want_user, run->userid);
        goto out;
    }
    if (r.why == NULL && strcmp(want_sel, sel) != 0) {
        snprintf(err, cap, "--state %s: made for scenarios %s, not %s; use another file", path,
                 want_sel, sel);
        goto out;
    }
    if (r.why == NULL && profile != run->opt.profile) {
        snprintf(err, cap, "--state %s: made for another --profile; use another file", path);
        goto out;
    }
    run->request_count = (size_t)get_int(&r, root, "requests", 0, BIG);
    cur->runs = (size_t)get_int(&r, root, "runs", 1, BIG);
    cur->scenario_pos = (size_t)get_int(&r, root, "scenario_pos", 0, (json_int_t)run->scenario_count);
    cur->step_pos = (size_t)get_int(&r, root, "step_pos", 0, EC_SCENARIO_MAX_STEPS);
    cur->scenarios_done = (int)get_int(&r, root, "scenarios_done", 0, 1);
    if (r.why == NULL && !cur->scenarios_done &&
        (cur->scenario_pos >= run->scenario_count ||
         cur->step_pos > run->scenarios[cur->scenario_pos]->step_count))
        r.why = "scenario_pos";
    if (r.why == NULL)
        read_history(&r, run, json_object_get(root, "history"));
    if (r.why == NULL)
        read_audit(&r, &run->audit, json_object_get(root, "audit"));
    if (r.why != NULL) {
        snprintf(err, cap, "--state %s: corrupt (%s), remove it to start afresh", path, r.why);
        goto out;
    }
    run->resumed = run->request_count;
    rc = 1;
out:
    json_decref(root);
    return rc;
}
