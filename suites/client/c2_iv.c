/* emoncrypt — client/2.iv/…: the IV of each request and the IV audit
 * across requests (SPEC §2). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"

/* client/2.iv/length */
static void c2_iv_length(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!cs_decodable(r))
        return;
    size_t n = r->diag.decoded_len;
    if (n >= EC_IV_LEN + EC_BLOCK_LEN)
        cs_outcome_set(o, EC_VERDICT_PASS, "body decodes to %zu bytes: IV + %zu bytes", n,
                       n - EC_IV_LEN);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL,
                       "body decodes to %zu bytes: no room for a 16-byte IV and one block", n);
    snprintf(o->expected, sizeof o->expected, ">= 32 decoded bytes");
    snprintf(o->actual, sizeof o->actual, "%zu", n);
}

const cs_check c2_iv_length_check = {
    .id = "client/2.iv/length",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "The body starts with the 16-byte IV, followed by at least one ciphertext block.",
    .on_request = c2_iv_length,
};

/* ---- the IV audit ------------------------------------------------------ */

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void hex_iv(const uint8_t *iv, char *out, size_t cap)
{
    if (ec_hex_encode(iv, EC_IV_LEN, out, cap) != EC_OK && cap > 0)
        out[0] = 0;
}

/* All 16 bytes mixed (splitmix64's finaliser), so that a counter in
 * either byte order spreads over the table too. */
static size_t iv_hash(const uint8_t *iv)
{
    uint64_t h = be64(iv) * 0x9e3779b97f4a7c15ULL ^ be64(iv + 8);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return (size_t)h;
}

/* The earlier request that used iv, or 0; adds iv for seq when new.  An
 * open-addressing set kept at most 80 % full. */
static size_t iv_seen(cs_audit *a, const uint8_t *iv, size_t seq)
{
    if ((a->iv_n + 1) * 5 > a->iv_cap * 4) {
        size_t cap = a->iv_cap ? a->iv_cap * 2 : 1024;
        cs_iv_slot *slots = cs_big_calloc(cap, sizeof *slots);
        if (slots == NULL)
            return 0;
        for (size_t i = 0; i < a->iv_cap; i++) {
            if (a->iv_slots[i].seq == 0)
                continue;
            size_t j = iv_hash(a->iv_slots[i].iv) & (cap - 1);
            while (slots[j].seq != 0)
                j = (j + 1) & (cap - 1);
            slots[j] = a->iv_slots[i];
        }
        cs_big_free(a->iv_slots, a->iv_cap, sizeof *a->iv_slots);
        a->iv_slots = slots;
        a->iv_cap = cap;
    }
    size_t i = iv_hash(iv) & (a->iv_cap - 1);
    for (; a->iv_slots[i].seq != 0; i = (i + 1) & (a->iv_cap - 1))
        if (memcmp(a->iv_slots[i].iv, iv, EC_IV_LEN) == 0)
            return a->iv_slots[i].seq;
    memcpy(a->iv_slots[i].iv, iv, EC_IV_LEN);
    a->iv_slots[i].seq = (uint32_t)seq;
    a->iv_n++;
    return 0;
}

/* client/2.iv/fresh */
static void c2_iv_fresh(const cs_run *run, cs_outcome *o)
{
    const cs_audit *a = &run->audit;
    size_t with_iv = a->with_iv, repeats = a->iv_repeats;
    if (with_iv < 2) {
        cs_outcome_set(o, EC_VERDICT_SKIP, "fewer than two requests carried an IV");
        return;
    }
    if (repeats == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu IVs, all different", with_iv);
        return;
    }
    cs_outcome_set(o, EC_VERDICT_FAIL,
                   "%zu of %zu requests reused an earlier IV; first: #%zu repeats the IV of #%zu",
                   repeats, with_iv, a->iv_first_b, a->iv_first_a);
    snprintf(o->expected, sizeof o->expected, "a fresh random IV");
    hex_iv(a->iv_first_b_iv, o->actual, sizeof o->actual);
}

const cs_check c2_iv_fresh_check = {
    .id = "client/2.iv/fresh",
    .mutants = "fixed-iv,same-iv-resend",
    .requirement = "IV = 16 bytes that the client MUST draw fresh from a CSPRNG for every message.",
    .on_audit = c2_iv_fresh,
};

/* client/2.iv/not-zero */
static void c2_iv_not_zero(const cs_run *run, cs_outcome *o)
{
    size_t with_iv = run->audit.with_iv, zeros = run->audit.iv_zeros;
    if (with_iv == 0)
        cs_outcome_set(o, EC_VERDICT_SKIP, "no request carried an IV");
    else if (zeros == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu IVs, none all-zero", with_iv);
    else {
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu of %zu requests used the all-zero IV (first #%zu)",
                       zeros, with_iv, run->audit.iv_zero_first);
        snprintf(o->actual, sizeof o->actual, "00000000000000000000000000000000");
        snprintf(o->expected, sizeof o->expected, "16 random bytes");
    }
}

const cs_check c2_iv_not_zero_check = {
    .id = "client/2.iv/not-zero",
    .mutants = "zero-iv",
    .requirement = "The IV is random: never all zero bytes.",
    .on_audit = c2_iv_not_zero,
};

/* Is b a small step from a, read as a 128-bit big- or little-endian
 * counter?  A repeat (step 0) is client/2.iv/fresh's business. */
static int counter_step(const uint8_t *a, const uint8_t *b)
{
    const uint64_t limit = 1u << 20;
    uint64_t ah = be64(a), al = be64(a + 8), bh = be64(b), bl = be64(b + 8);
    if (ah == bh && al != bl && (bl - al < limit || al - bl < limit))
        return 1;
    ah = le64(a + 8), al = le64(a), bh = le64(b + 8), bl = le64(b);
    if (ah == bh && al != bl && (bl - al < limit || al - bl < limit))
        return 1;
    return 0;
}

/* client/2.iv/not-counter */
static void c2_iv_not_counter(const cs_run *run, cs_outcome *o)
{
    const cs_audit *au = &run->audit;
    size_t pairs = au->iv_pairs, steps = au->iv_steps;
    if (pairs == 0) {
        cs_outcome_set(o, EC_VERDICT_SKIP, "fewer than two requests carried an IV");
        return;
    }
    if (steps == 0) {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu consecutive IV pairs, none a counter step", pairs);
        return;
    }
    char a[40], b[40];
    hex_iv(au->iv_hit_a_iv, a, sizeof a);
    hex_iv(au->iv_hit_b_iv, b, sizeof b);
    cs_outcome_set(o, EC_VERDICT_FAIL,
                   "%zu of %zu consecutive IVs differ by a small count, as a counter does: "
                   "#%zu %s then #%zu %s", steps, pairs, au->iv_hit_a, a, au->iv_hit_b, b);
    snprintf(o->expected, sizeof o->expected, "unpredictable IVs");
    snprintf(o->actual, sizeof o->actual, "%s -> %s", a, b);
}

const cs_check c2_iv_not_counter_check = {
    .id = "client/2.iv/not-counter",
    .mutants = "counter-iv",
    .requirement = "The IV is unpredictable: not a counter (a repeated or predictable IV leaks "
                   "plaintext structure).",
    .on_audit = c2_iv_not_counter,
};

/* Does iv hold the clock t (seconds or milliseconds, 32 or 64 bits, either
 * byte order, or ten ASCII digits) within ±10 minutes? */
static int holds_time(const uint8_t *iv, int64_t t, char *where, size_t cap)
{
    const int64_t slack = 600;
    for (int off = 0; off + 4 <= EC_IV_LEN; off++) {
        uint32_t be = (uint32_t)iv[off] << 24 | (uint32_t)iv[off + 1] << 16 |
                      (uint32_t)iv[off + 2] << 8 | iv[off + 3];
        uint32_t le = (uint32_t)iv[off + 3] << 24 | (uint32_t)iv[off + 2] << 16 |
                      (uint32_t)iv[off + 1] << 8 | iv[off];
        if ((int64_t)be > t - slack && (int64_t)be < t + slack) {
            snprintf(where, cap, "32-bit big-endian seconds at byte %d", off);
            return 1;
        }
        if ((int64_t)le > t - slack && (int64_t)le < t + slack) {
            snprintf(where, cap, "32-bit little-endian seconds at byte %d", off);
            return 1;
        }
    }
    for (int off = 0; off + 8 <= EC_IV_LEN; off++) {
        int64_t be = (int64_t)be64(iv + off), le = (int64_t)le64(iv + off);
        int64_t ms = t * 1000;
        if ((be > ms - slack * 1000 && be < ms + slack * 1000) ||
            (le > ms - slack * 1000 && le < ms + slack * 1000)) {
            snprintf(where, cap, "64-bit milliseconds at byte %d", off);
            return 1;
        }
    }
    for (int off = 0; off + 10 <= EC_IV_LEN; off++) {
        int64_t v = 0;
        int digits = 1;
        for (int k = 0; k < 10 && digits; k++) {
            if (iv[off + k] < '0' || iv[off + k] > '9')
                digits = 0;
            else
                v = v * 10 + (iv[off + k] - '0');
        }
        if (digits && v > t - slack && v < t + slack) {
            snprintf(where, cap, "decimal seconds text at byte %d", off);
            return 1;
        }
    }
    return 0;
}

/* client/2.iv/not-time */
static void c2_iv_not_time(const cs_run *run, cs_outcome *o)
{
    const cs_audit *a = &run->audit;
    size_t with_iv = a->with_iv, timed = a->iv_timed, first = a->iv_timed_first;
    const char *where = a->iv_timed_where;
    if (timed > 0)
        snprintf(o->actual, sizeof o->actual, "%s", a->iv_timed_hex);
    /* A random IV holds "the time" by chance about once in 10^5 (13
     * offsets, two byte orders, a 20-minute window): one hit in a long
     * field run is chance, a clock-derived IV shows in most of them. */
    if (with_iv == 0)
        cs_outcome_set(o, EC_VERDICT_SKIP, "no request carried an IV");
    else if (timed == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu IVs, none holding the clock", with_iv);
    else if (timed < 2 || timed * 2 < with_iv)
        cs_outcome_set(o, EC_VERDICT_INFO, "%zu of %zu IVs look like the clock (first #%zu: %s); "
                       "too few to be more than chance", timed, with_iv, first, where);
    else {
        cs_outcome_set(o, EC_VERDICT_FAIL,
                       "%zu of %zu IVs hold the current time (first #%zu: %s)", timed, with_iv,
                       first, where);
        snprintf(o->expected, sizeof o->expected, "16 random bytes");
    }
}

const cs_check c2_iv_not_time_check = {
    .id = "client/2.iv/not-time",
    .mutants = "time-iv",
    .requirement = "The IV is unpredictable: not derived from the clock.",
    .on_audit = c2_iv_not_time,
};

/* see client_internal.h: client/2.iv/... fold each request in, in order. */
void c2_iv_observe(cs_run *run, const cs_request *r)
{
    static const uint8_t zero[EC_IV_LEN];
    cs_audit *a = &run->audit;
    if (!r->has_iv)
        return;
    a->with_iv++;
    /* fresh */
    size_t earlier = iv_seen(a, r->iv, r->seq);
    if (earlier != 0 && a->iv_repeats++ == 0) {
        a->iv_first_a = earlier;
        a->iv_first_b = r->seq;
        memcpy(a->iv_first_b_iv, r->iv, EC_IV_LEN);
    }
    /* not-zero */
    if (memcmp(r->iv, zero, EC_IV_LEN) == 0 && a->iv_zeros++ == 0)
        a->iv_zero_first = r->seq;
    /* not-counter */
    if (a->have_prev_iv) {
        a->iv_pairs++;
        if (counter_step(a->prev_iv, r->iv) && a->iv_steps++ == 0) {
            a->iv_hit_a = a->prev_iv_seq;
            a->iv_hit_b = r->seq;
            memcpy(a->iv_hit_a_iv, a->prev_iv, EC_IV_LEN);
            memcpy(a->iv_hit_b_iv, r->iv, EC_IV_LEN);
        }
    }
    a->have_prev_iv = 1;
    a->prev_iv_seq = r->seq;
    memcpy(a->prev_iv, r->iv, EC_IV_LEN);
    /* not-time */
    char w[96];
    if (holds_time(r->iv, (int64_t)r->arrival, w, sizeof w) && a->iv_timed++ == 0) {
        a->iv_timed_first = r->seq;
        snprintf(a->iv_timed_where, sizeof a->iv_timed_where, "%s", w);
        hex_iv(r->iv, a->iv_timed_hex, sizeof a->iv_timed_hex);
    }
}
