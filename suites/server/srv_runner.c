/* see server_suite.h — the runner: selects cases, checks that the target
 * answers at all, then runs every selected case as one CMocka test, one
 * CMocka group per SPEC section, recording each outcome in the report. */
#include "server/srv.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "emoncrypt/codec.h"

/* One CMocka test's state. */
typedef struct {
    srv_ctx *ctx;
    const srv_case *c;
    ec_report *report;
    size_t index, total;       /* for the progress line */
    const char *skip_reason;   /* set: SKIP without running */
} srv_slot;

/* While CMocka runs with its output sent to /dev/null, the progress line
 * still goes to the real stderr. */
static int saved_stderr = -1;
static int quiet_fd = -1;

static void progress(size_t k, size_t n, const char *id)
{
    if (saved_stderr >= 0) {
        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        ec_report_progress(k, n, id);
        fflush(stderr);
        dup2(quiet_fd, STDERR_FILENO);
    } else {
        ec_report_progress(k, n, id);
    }
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void record(srv_slot *slot, srv_outcome *o)
{
    ec_case_result r;
    memset(&r, 0, sizeof r);
    r.id = slot->c->id;
    r.section = NULL;   /* from the id */
    r.requirement = slot->c->requirement;
    r.verdict = o->verdict;
    r.expected = o->expected;
    r.expected_len = o->expected_len;
    r.actual = o->actual;
    r.actual_len = o->actual_len;
    r.diff_offset = -1;
    r.message = o->message;
    r.sent = o->sent;
    r.repro = o->repro;
    r.elapsed_ms = o->elapsed_ms;
    ec_report_add(slot->report, &r);
}

static void outcome_free(srv_outcome *o)
{
    free(o->message);
    free(o->sent);
    free(o->repro);
    free(o->expected);
    free(o->actual);
    memset(o, 0, sizeof *o);
}

/* The case this thread runs goes through the gz path (--profile
 * aes128cbcgz); thread-local, so the slow-request thread is not affected. */
static _Thread_local int gz_path_now;

/* see srv.h */
int srv_gz_path(void)
{
    return gz_path_now;
}

/* The sections --profile aes128cbcgz sends compressed. */
static int gz_path_case(const ec_server_suite_options *o, const srv_case *c)
{
    static const char *const sections[] = { "server/3.post/", "server/3.bulk/", "server/4.ack/",
                                            "server/4.crypto/" };
    if (!o->profile_set || o->profile != 1)
        return 0;
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (strncmp(c->id, sections[i], strlen(sections[i])) == 0)
            return 1;
    return 0;
}

/* The case sends aes128cbcgz itself (a gz case, a gz vector, a spec row of
 * the gz profile or Content-Type). */
static int gz_case(const srv_case *c)
{
    if (srv_needs_gz(c->id) || srv_vector_sends_gz(c))
        return 1;
    if (c->run == srv_run_spec && c->arg) {
        const srv_spec *sp = c->arg;
        if (sp->profile == 1)
            return 1;
        if (sp->content_type && sp->content_type != SRV_ABSENT) {
            size_t n = strlen(sp->content_type);
            if (n >= 5 && strncasecmp(sp->content_type + n - 5, "cbcgz", 5) == 0)
                return 1;
        }
    }
    return 0;
}

static void run_case_test(void **state)
{
    srv_slot *slot = *state;
    srv_outcome o;
    memset(&o, 0, sizeof o);
    o.verdict = EC_VERDICT_PASS;
    progress(slot->index, slot->total, slot->c->id);
    if (slot->skip_reason) {
        o.verdict = EC_VERDICT_SKIP;
        srv_say(&o, "%s", slot->skip_reason);
    } else if (slot->ctx->unreachable) {
        o.verdict = EC_VERDICT_SKIP;
        srv_say(&o, "the target stopped answering earlier in the run: %s",
                slot->ctx->unreachable_message);
    } else {
        long t0 = now_ms();
        gz_path_now = gz_path_case(slot->ctx->opt, slot->c);
        srv_trace_case(slot->c->id);
        slot->c->run(slot->ctx, slot->c, &o);
        srv_trace_case(NULL);
        gz_path_now = 0;
        if (o.elapsed_ms == 0)
            o.elapsed_ms = now_ms() - t0;
    }
    record(slot, &o);
    ec_verdict v = o.verdict;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", o.message ? o.message : "");
    outcome_free(&o);
    if (v == EC_VERDICT_FAIL)
        fail_msg("%s: %s", slot->c->id, msg);
    if (v == EC_VERDICT_SKIP)
        skip();
}

/* see srv.h */
int srv_case_selected(const ec_server_suite_options *o, const char *id)
{
    return ec_select_match(&o->select, id, NULL);
}

static int selected(const ec_server_suite_options *o, const srv_case *c)
{
    return srv_case_selected(o, c->id);
}

static unsigned profile_bit(int profile)
{
    switch (profile) {
    case 0: return SRV_P_CBC;
    case 1: return SRV_P_GZ;
    default: return SRV_P_LEGACY;
    }
}

static const char *skip_reason_for(const ec_server_suite_options *o, const srv_case *c)
{
    unsigned bit = profile_bit(o->profile);
    /* aes128cbcgz is part of every current Emoncms: run it with either
     * current profile. */
    if (bit == SRV_P_CBC || bit == SRV_P_GZ)
        bit = SRV_P_CURRENT;
    if (!(c->profiles & bit)) {
        if (c->profiles == SRV_P_LEGACY)
            return "the legacy /input/encrypted endpoint (2017) is only tested with --profile legacy";
        return "this case is for the aes128cbc/aes128cbcgz profiles, not --profile legacy";
    }
    if ((c->profiles & SRV_P_LEGACY) && o->profile == 2 && (!o->username || !*o->username))
        return "the legacy profile needs --username";
    if (o->profile_set && o->profile == 0 && gz_case(c))
        return "--profile aes128cbc leaves the aes128cbcgz cases out (without --profile, or with "
               "--profile aes128cbcgz, they run)";
    return NULL;
}

/* Does anything answer at the base URL?  One request, bounded in time. */
static int preflight(srv_ctx *ctx, ec_server_suite_outcome *out)
{
    srv_probe p;
    srv_probe_init(&p);
    snprintf(p.path, sizeof p.path, "/input/post");
    srv_probe_set_ctype(&p, "aes128cbc");
    p.timeout_ms = ctx->timeout_ms < 1500 ? ctx->timeout_ms : 1500;
    srv_reply r;
    srv_send(ctx, &p, &r);
    srv_probe_free(&p);
    int ok = r.net == SRV_NET_OK;
    if (!ok) {
        /* each part cut to fit the 320-byte message (GCC -Os
         * -Wformat-truncation, issue 15) */
        snprintf(out->message, sizeof out->message, "cannot reach %.150s: %.150s", ctx->base,
                 r.message[0] ? r.message : "no answer");
    }
    srv_reply_free(&r);
    return ok;
}

/* see server_suite.h */
size_t ec_server_suite_case_count(void)
{
    size_t n = 0;
    for (size_t g = 0; g < srv_group_count; g++)
        n += *srv_groups[g].count;
    return n;
}

static const srv_case *case_at(size_t i)
{
    for (size_t g = 0; g < srv_group_count; g++) {
        if (i < *srv_groups[g].count)
            return &srv_groups[g].cases[i];
        i -= *srv_groups[g].count;
    }
    return NULL;
}

/* see server_suite.h */
const char *ec_server_suite_case_id(size_t i)
{
    const srv_case *c = case_at(i);
    return c ? c->id : NULL;
}

/* see server_suite.h */
const char *ec_server_suite_case_requirement(size_t i)
{
    const srv_case *c = case_at(i);
    return c ? c->requirement : NULL;
}

/* Feature detection (issue 19): one correct aes128cbcgz post.  A server
 * that answers it 401 "Invalid API key" (Emoncms before 11.2.3, c1c32c5b)
 * does not speak aes128cbcgz: its gz cases SKIP with one reason and one
 * INFO result says so, or, with --require gz, that result is a FAIL and
 * the gz cases run (and FAIL, naming the release that added it). */
static void probe_gz(srv_ctx *ctx, const ec_server_suite_options *opt, ec_report *report,
                     const srv_group *extra)
{
    if (opt->profile == 2 || (opt->profile_set && opt->profile == 0))
        return;
    /* --profile aes128cbcgz, or a server that says it is 11.2.3 or later,
     * needs aes128cbcgz as --require gz does. */
    int required = opt->require_gz || (opt->profile_set && opt->profile == 1) ||
                   (ctx->version[0] && srv_version_cmp(ctx->version, SRV_GZ_SINCE) >= 0);
    int wanted = 0;
    for (size_t g = 0; g < srv_group_count + (extra != NULL) && !wanted; g++) {
        const srv_group *grp = g < srv_group_count ? &srv_groups[g] : extra;
        for (size_t i = 0; i < *grp->count && !wanted; i++)
            wanted = selected(opt, &grp->cases[i]) &&
                     (srv_needs_gz(grp->cases[i].id) || srv_vector_sends_gz(&grp->cases[i]) ||
                      gz_path_case(opt, &grp->cases[i]));
    }
    if (!wanted)
        return;
    /* A server that says it is older than 11.2.3 has no aes128cbcgz by
     * design: no probe, the gz cases SKIP (unless required). */
    if (ctx->version[0] && srv_version_cmp(ctx->version, SRV_GZ_SINCE) < 0) {
        ctx->gz_absent = 1;
        snprintf(ctx->gz_reason, sizeof ctx->gz_reason,
                 "no aes128cbcgz: the server is Emoncms %s (%s), before 11.2.3 (c1c32c5b) added it",
                 ctx->version, ctx->version_from);
        goto report;
    }
    static const srv_spec spec = { .profile = 1, .plaintext = "node=${node}&csv=${v}" };
    srv_probe p;
    srv_probe_init(&p);
    char *why = NULL;
    if (srv_build(ctx, &spec, srv_next_marker(ctx), &p, NULL, &why) != 0) {
        free(why);
        srv_probe_free(&p);
        return;
    }
    srv_reply r;
    srv_send(ctx, &p, &r);
    srv_probe_free(&p);
    static const char refused[] = "Invalid API key";
    ctx->gz_absent = r.net == SRV_NET_OK && r.status == 401 && r.body_len == sizeof refused - 1 &&
                     memcmp(r.body, refused, r.body_len) == 0;
    srv_reply_free(&r);
    if (!ctx->gz_absent)
        return;
    snprintf(ctx->gz_reason, sizeof ctx->gz_reason,
             "no aes128cbcgz: Emoncms before 11.2.3 or a server without it "
             "(a correct aes128cbcgz post got 401 \"Invalid API key\")");
report:;
    ec_case_result res;
    memset(&res, 0, sizeof res);
    res.id = "server/3.gz/feature";
    res.requirement = "aes128cbcgz is optional (Emoncms 11.2.3 and later, c1c32c5b); --require gz makes it required.";
    res.verdict = required ? EC_VERDICT_FAIL : EC_VERDICT_INFO;
    res.diff_offset = -1;
    char msg[400];
    const char *tail = opt->require_gz ? "; --require gz: the gz cases run and FAIL"
                      : opt->profile_set && opt->profile == 1
                          ? "; --profile aes128cbcgz needs it: the gz cases run and FAIL"
                      : required ? "; the server says it is 11.2.3 or later, which has it: the gz cases run and FAIL"
                                 : "; the gz cases SKIP (--require gz makes this a FAIL)";
    snprintf(msg, sizeof msg, "%s%s", ctx->gz_reason, tail);
    if (required)
        ctx->gz_absent = 0;   /* the cases run */
    res.message = msg;
    ec_report_add(report, &res);
}

/* The server's version: --server-version, else what GET /version answers
 * when that is a plain "N.N.N" (Emoncms answers its version there, as text;
 * anything else, e.g. a 404 page, leaves it unknown). */
static void find_version(srv_ctx *ctx, const ec_server_suite_options *opt)
{
    if (opt->server_version && *opt->server_version) {
        snprintf(ctx->version, sizeof ctx->version, "%s", opt->server_version);
        snprintf(ctx->version_from, sizeof ctx->version_from, "--server-version");
        return;
    }
    if (opt->profile == 2)
        return;
    srv_reply r;
    srv_get(ctx, ctx->base, "/version", ctx->timeout_ms < 1500 ? ctx->timeout_ms : 1500, &r);
    if (r.net == SRV_NET_OK && r.status == 200 && r.body_len > 0 && r.body_len < sizeof ctx->version) {
        char v[sizeof ctx->version];
        size_t n = r.body_len;
        while (n > 0 && (r.body[n - 1] == '\n' || r.body[n - 1] == '\r' || r.body[n - 1] == ' '))
            n--;
        memcpy(v, r.body, n);
        v[n] = 0;
        if (srv_version_valid(v)) {
            snprintf(ctx->version, sizeof ctx->version, "%s", v);
            snprintf(ctx->version_from, sizeof ctx->version_from, "its /version");
        }
    }
    srv_reply_free(&r);
}

/* Every selected case, one CMocka group per section, slow probes around. */
static void run_all(srv_ctx *ctx, const ec_server_suite_options *opt, ec_report *report,
                    size_t total, const srv_group *extra)
{
    srv_slow_start(ctx);
    size_t index = 0;
    for (size_t g = 0; g < srv_group_count + (extra != NULL); g++) {
        const srv_group *grp = g < srv_group_count ? &srv_groups[g] : extra;
        size_t cap = *grp->count ? *grp->count : 1;
        struct CMUnitTest *tests = calloc(cap, sizeof *tests);
        srv_slot *slots = calloc(cap, sizeof *slots);
        size_t n = 0;
        for (size_t i = 0; tests && slots && i < *grp->count; i++) {
            const srv_case *c = &grp->cases[i];
            if (!selected(opt, c))
                continue;
            const char *skip = skip_reason_for(opt, c);
            if (!skip && ctx->gz_absent && (srv_needs_gz(c->id) || srv_vector_sends_gz(c) || gz_path_case(opt, c)))
                skip = ctx->gz_reason;
            slots[n] = (srv_slot){ ctx, c, report, ++index, total, skip };
            tests[n] = (struct CMUnitTest){ c->id, run_case_test, NULL, NULL, &slots[n] };
            n++;
        }
        if (n)
            _cmocka_run_group_tests(grp->section, tests, n, NULL, NULL);
        free(tests);
        free(slots);
    }
    srv_slow_finish(ctx);
}

/* Every case of the run (the groups, then extra), to fn. */
static void each_case(const srv_group *extra, void (*fn)(void *, const srv_case *), void *user)
{
    for (size_t g = 0; g < srv_group_count + (extra != NULL); g++) {
        const srv_group *grp = g < srv_group_count ? &srv_groups[g] : extra;
        for (size_t i = 0; i < *grp->count; i++)
            fn(user, &grp->cases[i]);
    }
}

typedef struct {
    const ec_server_suite_options *opt;
    unsigned char *hits;
    size_t selected;
} select_tally;

static void tally_one(void *user, const srv_case *c)
{
    select_tally *t = user;
    t->selected += ec_select_match(&t->opt->select, c->id, t->hits);
}

/* Every --case/--section/--exclude pattern matches a case, and something
 * is left: else -1 with the one line. */
static int select_check(const ec_server_suite_options *opt, const srv_group *extra, size_t *total,
                        ec_server_suite_outcome *outcome)
{
    size_t np = ec_select_pattern_count(&opt->select);
    select_tally t = { opt, calloc(np ? np : 1, 1), 0 };
    if (!t.hits) {
        snprintf(outcome->message, sizeof outcome->message, "out of memory");
        return -1;
    }
    each_case(extra, tally_one, &t);
    int rc = ec_select_unmatched(&opt->select, t.hits, outcome->message, sizeof outcome->message);
    free(t.hits);
    *total = t.selected;
    if (rc == 0 && t.selected == 0) {
        snprintf(outcome->message, sizeof outcome->message,
                 "the selection (--case, --section, --exclude) leaves no case");
        rc = -1;
    }
    return rc;
}

typedef struct {
    const ec_server_suite_options *opt;
    void (*fn)(void *, const char *, const char *, const char *);
    void *user;
    int mutants;                 /* fn gets the kill-matrix declaration */
} list_walk;

static void list_one(void *user, const srv_case *c)
{
    list_walk *w = user;
    if (!selected(w->opt, c))
        return;
    if (w->mutants)
        w->fn(w->user, c->id, c->mutants, c->no_mutant);
    else
        w->fn(w->user, c->id, c->requirement, skip_reason_for(w->opt, c));
}

static int list_cases(const ec_server_suite_options *opt,
                      void (*fn)(void *, const char *, const char *, const char *), void *user,
                      int mutants, size_t *count, ec_server_suite_outcome *outcome)
{
    memset(outcome, 0, sizeof *outcome);
    *count = 0;
    srv_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = opt;
    srv_group vectors;
    void *vectors_state = NULL;
    if (srv_vectors_open(&ctx, &vectors, &vectors_state, outcome->message, sizeof outcome->message) != 0)
        return 2;
    const srv_group *extra = vectors.count ? &vectors : NULL;
    if (select_check(opt, extra, count, outcome) != 0) {
        srv_vectors_close(vectors_state);
        return 2;
    }
    list_walk w = { opt, fn, user, mutants };
    each_case(extra, list_one, &w);
    srv_vectors_close(vectors_state);
    return 0;
}

/* see server_suite.h */
int ec_server_suite_list(const ec_server_suite_options *opt,
                         void (*fn)(void *user, const char *id, const char *requirement,
                                    const char *skip),
                         void *user, size_t *count, ec_server_suite_outcome *outcome)
{
    return list_cases(opt, fn, user, 0, count, outcome);
}

/* see server_suite.h */
int ec_server_suite_list_mutants(const ec_server_suite_options *opt,
                                 void (*fn)(void *user, const char *id, const char *mutants,
                                            const char *no_mutant),
                                 void *user, size_t *count, ec_server_suite_outcome *outcome)
{
    return list_cases(opt, fn, user, 1, count, outcome);
}

/* see server_suite.h */
int ec_server_suite_run(const ec_server_suite_options *opt, ec_report *report,
                        ec_server_suite_outcome *outcome)
{
    memset(outcome, 0, sizeof *outcome);
    long t0 = now_ms();
    if (!opt->base_url || (strncmp(opt->base_url, "http://", 7) != 0 &&
                           strncmp(opt->base_url, "https://", 8) != 0)) {
        snprintf(outcome->message, sizeof outcome->message,
                 "URL must start with http:// or https://");
        return 2;
    }
    if (!opt->userid || !*opt->userid) {
        snprintf(outcome->message, sizeof outcome->message, "--userid is required");
        return 2;
    }
    /* --strict: the report counts NON-STRICT as a failure (one rule for
     * both roles, docs/SPEC.md "Verdicts and --strict"). */
    ec_report_set_strict(report, opt->strict);
    if (srv_trace_begin(opt) != 0) {
        snprintf(outcome->message, sizeof outcome->message, "cannot set up the seeded run or the record");
        return 2;
    }
    srv_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.opt = opt;
    if (!opt->apikey_hex || ec_key_from_hex(opt->apikey_hex, ctx.key) != EC_OK) {
        snprintf(outcome->message, sizeof outcome->message, "--apikey must be 32 hex digits");
        return 2;
    }
    snprintf(ctx.base, sizeof ctx.base, "%s", opt->base_url);
    size_t bl = strlen(ctx.base);
    while (bl > 0 && ctx.base[bl - 1] == '/')
        ctx.base[--bl] = 0;
    ctx.node = opt->node && *opt->node ? opt->node : "emoncrypt_conformance";
    ctx.timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 3000;
    ctx.rows_state = -1;
    uint32_t r32 = 0;
    srv_random(&r32, sizeof r32);
    /* Markers stay below 10^6 (6 significant digits): Emoncms keeps
     * input.value as a MariaDB FLOAT and /input/get answers 6 digits, so
     * 6296221 would read back as 6296220.  850 k bases, ~100 markers a run. */
    ctx.marker = 100000 + (r32 % 85000) * 10;
    ctx.http = srv_http_client_new();
    if (!ctx.http) {
        snprintf(outcome->message, sizeof outcome->message, "out of memory");
        return 2;
    }

    /* The vectors and the selection first: a bad --vectors or a --section
     * that matches nothing is exit 2 before any request. */
    srv_group vectors;
    void *vectors_state = NULL;
    if (srv_vectors_open(&ctx, &vectors, &vectors_state, outcome->message, sizeof outcome->message) != 0) {
        srv_http_client_free(ctx.http);
        ec_wipe(ctx.key, sizeof ctx.key);
        return 2;
    }
    size_t total = 0;
    if (select_check(opt, vectors.count ? &vectors : NULL, &total, outcome) != 0) {
        srv_vectors_close(vectors_state);
        srv_http_client_free(ctx.http);
        ec_wipe(ctx.key, sizeof ctx.key);
        return 2;
    }
    if (!preflight(&ctx, outcome)) {
        outcome->unreachable = 1;
        srv_vectors_close(vectors_state);
        srv_http_client_free(ctx.http);
        ec_wipe(ctx.key, sizeof ctx.key);
        return 2;
    }
    /* A wrong key, user id or URL: one line, before any case (srv_setup.c). */
    if (opt->check_setup &&
        ec_server_suite_check_setup(opt, outcome->message, sizeof outcome->message) != 0) {
        srv_vectors_close(vectors_state);
        srv_http_client_free(ctx.http);
        ec_wipe(ctx.key, sizeof ctx.key);
        return 2;
    }

    find_version(&ctx, opt);
    srv_trace_version(ctx.version, ctx.version_from);

    probe_gz(&ctx, opt, report, vectors.count ? &vectors : NULL);

    int cmocka_prints = opt->cmocka_output || getenv("CMOCKA_MESSAGE_OUTPUT") != NULL;
    if (!cmocka_prints) {
        fflush(stdout);
        fflush(stderr);
        quiet_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        int saved_stdout = dup(STDOUT_FILENO);
        saved_stderr = opt->progress ? dup(STDERR_FILENO) : -1;
        int saved_stderr_always = dup(STDERR_FILENO);
        dup2(quiet_fd, STDOUT_FILENO);
        dup2(quiet_fd, STDERR_FILENO);
        run_all(&ctx, opt, report, total, vectors.count ? &vectors : NULL);
        fflush(stdout);
        fflush(stderr);
        dup2(saved_stdout, STDOUT_FILENO);
        dup2(saved_stderr_always, STDERR_FILENO);
        close(saved_stdout);
        close(saved_stderr_always);
        if (saved_stderr >= 0)
            close(saved_stderr);
        saved_stderr = -1;
        close(quiet_fd);
        quiet_fd = -1;
    } else {
        run_all(&ctx, opt, report, total, vectors.count ? &vectors : NULL);
    }

    srv_vectors_close(vectors_state);
    ec_report_totals t = ec_report_get_totals(report);
    outcome->cases_run = t.total - t.by_verdict[EC_VERDICT_SKIP];
    outcome->elapsed_ms = now_ms() - t0;
    srv_http_client_free(ctx.http);
    ec_wipe(ctx.key, sizeof ctx.key);
    return 0;
}
