/* server/4.oracle/… — a server MUST NOT tell crypto failures apart: the
 * same status, Content-Type and body for every one, or it is a padding
 * oracle (SPEC §4). */
#include "server/srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"

#define PT "node=${node}&csv=${v},${v1}"

/* The crypto faults compared with each other. */
static const struct {
    const char *name;
    srv_spec spec;
} faults[] = {
    { "pad-zero", { .plaintext = PT, .edit = SRV_EDIT_PAD_ZERO } },
    { "pad-range", { .plaintext = PT, .edit = SRV_EDIT_PAD_RANGE } },
    { "pad-bytes", { .plaintext = PT, .edit = SRV_EDIT_PAD_BYTES } },
    { "pad-full-block-bad", { .plaintext = PT, .edit = SRV_EDIT_PAD_FULL_BLOCK_BAD } },
    { "hmac-wrong", { .plaintext = PT, .authorization = "${uid}:${hmac-flip}" } },
    { "hmac-uppercase", { .plaintext = PT, .authorization = "${uid}:${HMAC}" } },
    { "wrong-key", { .plaintext = PT, .edit = SRV_EDIT_WRONG_KEY } },
    { "ct-not-multiple-16", { .plaintext = PT, .edit = SRV_EDIT_APPEND_BYTES, .edit_arg = "5" } },
    { "only-iv", { .plaintext = PT, .edit = SRV_EDIT_KEEP_BYTES, .edit_arg = "16" } },
    { "last-block-dropped", { .plaintext = PT, .edit = SRV_EDIT_DROP_LAST_BLOCK } },
};
#define N_FAULTS (sizeof faults / sizeof faults[0])

static char *media_of(const char *ct)
{
    char *m = strdup(ct ? ct : "(none)");
    if (m) {
        char *semi = strchr(m, ';');
        if (semi)
            *semi = 0;
    }
    return m;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static void run_one_answer(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    (void)c;
    srv_reply first;
    memset(&first, 0, sizeof first);
    char *first_media = NULL;
    const char *first_name = NULL;
    char diff[700] = "";
    size_t len = 0;
    long times[N_FAULTS];
    int differ = 0;
    for (size_t i = 0; i < N_FAULTS; i++) {
        srv_probe p;
        if (srv_build(ctx, &faults[i].spec, srv_next_marker(ctx), &p, NULL, NULL) != 0) {
            srv_probe_free(&p);
            continue;
        }
        srv_reply r;
        srv_send(ctx, &p, &r);
        times[i] = r.elapsed_ms;
        char *media = media_of(r.content_type);
        if (!first_name) {
            first = r;
            first_media = media;
            first_name = faults[i].name;
            srv_describe(ctx, &p, out);
        } else {
            if (r.net != first.net || r.status != first.status || r.body_len != first.body_len ||
                memcmp(r.body, first.body, r.body_len) != 0 || strcasecmp(media, first_media) != 0) {
                char *a = srv_reply_text(&first), *b = srv_reply_text(&r);
                if (!differ) {
                    srv_describe(ctx, &p, out);
                    srv_set_bytes(out, first.body, first.body_len, r.body, r.body_len);
                }
                len += (size_t)snprintf(diff + len, len < sizeof diff ? sizeof diff - len : 0,
                                        "%s%s got %s but %s got %s", differ ? "; " : "",
                                        faults[i].name, b, first_name, a);
                free(a);
                free(b);
                differ = 1;
            }
            srv_reply_free(&r);
            free(media);
        }
        srv_probe_free(&p);
    }
    qsort(times, N_FAULTS, sizeof times[0], cmp_long);
    if (differ) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "crypto failures MUST be indistinguishable (a padding oracle otherwise): %s", diff);
    } else {
        char *a = srv_reply_text(&first);
        out->verdict = EC_VERDICT_PASS;
        srv_say(out, "%zu crypto faults, one answer: %s (times %ld..%ld ms)", N_FAULTS, a, times[0],
                times[N_FAULTS - 1]);
        free(a);
    }
    srv_reply_free(&first);
    free(first_media);
}

/* Timing of each crypto fault (median of 3): reported, never judged,
 * because a network adds far more noise than a cipher removes. */
static void run_timing_spread(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    (void)c;
    char text[900] = "";
    size_t len = 0;
    long lo = -1, hi = -1;
    for (size_t i = 0; i < N_FAULTS; i++) {
        long t[3];
        for (int k = 0; k < 3; k++) {
            srv_probe p;
            t[k] = -1;
            if (srv_build(ctx, &faults[i].spec, srv_next_marker(ctx), &p, NULL, NULL) == 0) {
                srv_reply r;
                srv_send(ctx, &p, &r);
                t[k] = r.elapsed_ms;
                srv_reply_free(&r);
            }
            srv_probe_free(&p);
        }
        qsort(t, 3, sizeof t[0], cmp_long);
        if (lo < 0 || t[1] < lo)
            lo = t[1];
        if (t[1] > hi)
            hi = t[1];
        len += (size_t)snprintf(text + len, len < sizeof text ? sizeof text - len : 0, "%s%s %ld ms",
                                i ? ", " : "", faults[i].name, t[1]);
    }
    out->verdict = EC_VERDICT_INFO;
    srv_say(out, "median answer time per crypto fault (spread %ld ms): %s", hi - lo, text);
}

/* Emoncms MACs a body that fails to decrypt as the empty string. */
static void run_mac_of_empty(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    srv_spec spec = { .plaintext = PT, .edit = SRV_EDIT_PAD_BYTES, .authorization = "${uid}:${hmac-empty}" };
    srv_probe p;
    if (srv_build(ctx, &spec, srv_next_marker(ctx), &p, NULL, NULL) != 0) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "internal: could not build the request");
        srv_probe_free(&p);
        return;
    }
    srv_expect compat, strict;
    srv_expect_answer(ctx, &p, 0, &compat);
    srv_expect_answer(ctx, &p, 1, &strict);
    srv_judge(ctx, c, &p, 0, out, NULL);
    /* srv_judge said PASS/NON-STRICT/FAIL against the profile; the quirk
     * itself is what a compat run reports. */
    if (!ctx->opt->strict && out->verdict == EC_VERDICT_PASS && out->message &&
        strstr(out->message, "strict (hardened)") == NULL) {
        out->verdict = EC_VERDICT_INFO;
        srv_say(out, "the server has Emoncms's MAC-of-empty quirk: with Authorization userid:HMAC(key,\"\") a body "
                "with bad padding gets %d \"%s\", a body with good padding \"invalid data\" — a padding oracle for "
                "anyone who learns HMAC(key,\"\"); a strict server answers \"%s\"",
                compat.status, compat.body ? compat.body : "", strict.body ? strict.body : "");
    }
    srv_expect_free(&compat);
    srv_expect_free(&strict);
    srv_probe_free(&p);
}

/* Does the answer time grow with the number of right leading HMAC digits? */
/* Pairs of the same post, one HMAC with 63 right leading digits and one
 * with none, sent back to back.  Judged per pair, so that one answer held
 * up by a busy machine (a stall of 100 ms on a loaded CI runner) cannot
 * hide a real signal or make one: FAIL when the median pair differs by
 * more than 40 ms and all but one pair by more than 20 ms. */
#define TIMING_PAIRS 6

static void run_hmac_timing(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    (void)c;
    long near[TIMING_PAIRS], far[TIMING_PAIRS], diff[TIMING_PAIRS];
    for (int k = 0; k < TIMING_PAIRS; k++) {
        /* near: all but the last digit right; far: every digit wrong */
        srv_spec s_near = { .plaintext = PT, .authorization = "${uid}:${hmac-flip}" };
        srv_probe p;
        far[k] = near[k] = -1;
        if (srv_build(ctx, &s_near, srv_next_marker(ctx), &p, NULL, NULL) == 0) {
            srv_reply r;
            srv_send(ctx, &p, &r);
            near[k] = r.elapsed_ms;
            srv_reply_free(&r);
            /* the same request with every HMAC digit changed */
            char *colon = p.authorization ? strchr(p.authorization, ':') : NULL;
            if (colon) {
                for (char *h = colon + 1; *h; h++)
                    *h = *h == 'f' ? '0' : *h == '9' ? 'a' : (char)(*h + 1);
                if (k == 0)
                    srv_describe(ctx, &p, out);
                srv_send(ctx, &p, &r);
                far[k] = r.elapsed_ms;
                srv_reply_free(&r);
            }
        }
        srv_probe_free(&p);
        diff[k] = near[k] - far[k];
    }
    int wide = 0;
    for (int k = 0; k < TIMING_PAIRS; k++)
        wide += diff[k] > 20;
    qsort(near, TIMING_PAIRS, sizeof near[0], cmp_long);
    qsort(far, TIMING_PAIRS, sizeof far[0], cmp_long);
    qsort(diff, TIMING_PAIRS, sizeof diff[0], cmp_long);
    long mn = (near[TIMING_PAIRS / 2 - 1] + near[TIMING_PAIRS / 2]) / 2;
    long mf = (far[TIMING_PAIRS / 2 - 1] + far[TIMING_PAIRS / 2]) / 2;
    long md = (diff[TIMING_PAIRS / 2 - 1] + diff[TIMING_PAIRS / 2]) / 2;
    if (md > 40 && wide >= TIMING_PAIRS - 1) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "HMAC comparison MUST take constant time: an HMAC with 63 right leading digits takes %ld ms, "
                "one with none %ld ms (median; %d of %d pairs more than 20 ms apart)", mn, mf, wide,
                TIMING_PAIRS);
    } else {
        out->verdict = EC_VERDICT_PASS;
        srv_say(out, "no timing signal: 63 right digits %ld ms, none %ld ms (median; %d of %d pairs more "
                "than 20 ms apart)", mn, mf, wide, TIMING_PAIRS);
    }
}

const srv_case srv_cases_4_oracle[] = {
    { .id = "server/4.oracle/one-answer",
      .mutants = "padding-oracle,oracle-status",
      .requirement = "Every crypto failure (bad padding, wrong key, bad HMAC, short body) MUST get one indistinguishable answer: status, Content-Type and body (SPEC §4).",
      .run = run_one_answer, .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
    { .id = "server/4.oracle/timing-spread",
      .no_mutant = "report only (INFO): the timings are shown, never judged (server/4.oracle/hmac-timing is the judged case)",
      .requirement = "Reported: how long each crypto failure takes to answer (INFO).",
      .run = run_timing_spread, .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
    { .id = "server/4.oracle/mac-of-empty",
      .mutants = "oracle-status,padding-oracle",
      .requirement = "Emoncms MACs an undecryptable body as \"\", so userid:HMAC(key,\"\") tells bad padding from good: compat reproduces it (INFO), strict MUST NOT (SPEC §4 quirks).",
      .run = run_mac_of_empty, .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_FAIL },
    { .id = "server/4.oracle/hmac-timing",
      .mutants = "hmac-timing",
      .requirement = "The HMAC MUST be compared in constant time (SPEC §4): the answer time must not grow with the number of right leading digits.",
      .run = run_hmac_timing, .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
};
SRV_CASES_COUNT(4_oracle);
