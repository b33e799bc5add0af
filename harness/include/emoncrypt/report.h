/* emoncrypt — results of a conformance run and the reporters that print them.
 *
 * Suites only record results; the writers below only format them.  A
 * result carries expected vs actual bytes (not a bare bool) so every writer
 * can show where they first differ.  The report holds the write API key
 * being tested so that every writer can redact it: no writer ever prints
 * the key, in hex or in base64, unless the report was told to show secrets.
 */
#ifndef EMONCRYPT_REPORT_H
#define EMONCRYPT_REPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "emoncrypt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    EC_VERDICT_PASS = 0,   /* the requirement holds */
    EC_VERDICT_FAIL,       /* the requirement is broken: exit code 1 */
    EC_VERDICT_NON_STRICT, /* compatible with Emoncms but not with the strict profile */
    EC_VERDICT_INFO,       /* an observation, no judgement */
    EC_VERDICT_SKIP,       /* not run (profile off, precondition missing) */
    EC_VERDICT_INCOMPLETE, /* could not be judged yet: not enough traffic seen (the
                              client role's scenarios); not a fault, exit code 2 */
    EC_VERDICT_COUNT_
} ec_verdict;

/* "PASS", "FAIL", "NON-STRICT", "INFO", "SKIP", "INCOMPLETE". */
const char *ec_verdict_name(ec_verdict v);
/* Reverse of ec_verdict_name (case-insensitive); -1 when unknown. */
int ec_verdict_from_name(const char *name);

/* One case's outcome.  To record one, fill this on the stack (strings and
 * bytes borrowed) and pass it to ec_report_add, which copies everything. */
typedef struct {
    const char *id;            /* "server/4.auth/missing-header" (required) */
    const char *section;       /* SPEC section, "4" (NULL: taken from id, see ec_report_add) */
    const char *requirement;   /* the SPEC sentence the case checks */
    ec_verdict verdict;
    const unsigned char *expected; /* bytes; NULL when not applicable */
    size_t expected_len;
    const unsigned char *actual;
    size_t actual_len;
    long diff_offset;          /* first differing byte; -1 = compute from
                                  expected/actual (or none when they match) */
    const char *message;       /* one sentence for a human */
    const char *sent;          /* summary of what was sent ("POST /input/post, 3 headers, 64 B") */
    const char *repro;         /* a command that reproduces the case */
    long elapsed_ms;
} ec_case_result;

typedef struct {
    size_t total;
    size_t by_verdict[EC_VERDICT_COUNT_];
} ec_report_totals;

typedef struct ec_report ec_report;

/* A new empty report.  suite ("server"), role ("server" | "client") and
 * target ("http://127.0.0.1:8080") are copied; the start time is now.
 * Returns NULL when out of memory. */
ec_report *ec_report_new(const char *suite, const char *role, const char *target);

/* Free the report (the secret copy is wiped first).  NULL is ignored. */
void ec_report_free(ec_report *report);

/* The key to redact in every writer: 32 hex digits (the write API key),
 * redacted as hex in either case and as base64 of its 16 bytes in both
 * alphabets (with or without padding); any other non-empty string is
 * redacted literally.  show_secrets != 0 turns redaction off (the user's
 * --show-secrets).  Returns EC_OK or EC_E_NOMEM. */
ec_status ec_report_set_secret(ec_report *report, const char *secret, int show_secrets);

/* The verdict rule, one for both roles and every writer (docs/SPEC.md
 * "Verdicts and --strict"): FAIL is a failure; NON-STRICT is a failure only
 * when the run is strict (--strict), and is otherwise shown as a warning;
 * INFO, SKIP and PASS never fail a run; INCOMPLETE alone gives exit 2.
 * strict != 0 makes this report strict.  NULL is ignored. */
void ec_report_set_strict(ec_report *report, int strict);
int ec_report_is_strict(const ec_report *report);

/* 1 when *result counts as a failure under the rule above (FAIL, or
 * NON-STRICT in a strict report), else 0. */
int ec_report_is_failure(const ec_report *report, const ec_case_result *result);

/* Facts about the run shown at the top of every report: the profile
 * ("aes128cbc"; NULL keeps the current one, default none), when the run
 * started (0 keeps the report's creation time) and how long it took in ms
 * (-1: the sum of the cases' times).  Returns EC_OK or EC_E_NOMEM. */
ec_status ec_report_set_run(ec_report *report, const char *profile, time_t started,
                            long duration_ms);

/* Append a copy of *result.  When result->section is NULL it is the text
 * between the first '/' and the next '.' or '/' of the id
 * ("server/4.auth/x" -> "4").  When diff_offset is -1 and both expected and
 * actual are given, it is computed (-1 stays when they are equal).
 * Returns EC_OK, EC_E_ARG (no id) or EC_E_NOMEM. */
ec_status ec_report_add(ec_report *report, const ec_case_result *result);

/* Drops every result keep(user, result) answers 0 for (a run's selection:
 * test-client --section); the report's settings and the others stay. */
void ec_report_keep(ec_report *report, int (*keep)(void *user, const ec_case_result *result),
                    void *user);

/* Number of results recorded, and the i-th one (NULL when out of range).
 * The returned view stays valid until the next ec_report_add or free. */
size_t ec_report_count(const ec_report *report);
const ec_case_result *ec_report_result(const ec_report *report, size_t i);

/* Counts per verdict. */
ec_report_totals ec_report_get_totals(const ec_report *report);

/* 1 when a result counts as a failure (ec_report_is_failure: FAIL, or
 * NON-STRICT in a strict report); else 2 when a result is INCOMPLETE (the
 * run did not see enough to judge: run it longer); else 0.  (Exit 2 — target
 * unreachable — is otherwise the caller's decision before any case runs.) */
int ec_report_exit_code(const ec_report *report);

/* Console: one line per case and a summary.  A FAIL also prints id,
 * section, expected vs actual with the first differing byte marked, and
 * the reproduction command.  color: 1 on, 0 off, -1 = only when `out` is a
 * terminal (and NO_COLOR is unset).  verbose != 0 prints details for every
 * verdict, not only FAIL.  Returns 0, or -1 on a write error. */
int ec_report_write_console(const ec_report *report, FILE *out, int color, int verbose);

/* ec_report_write_console with flags: EC_CONSOLE_FAILS_ONLY prints only the
 * rows that count as failures (ec_report_is_failure); EC_CONSOLE_NO_SUMMARY leaves out the summary and result lines
 * (a caller that prints its own, from the same report's totals). */
enum { EC_CONSOLE_FAILS_ONLY = 1, EC_CONSOLE_NO_SUMMARY = 2 };
int ec_report_write_console_opts(const ec_report *report, FILE *out, int color, int verbose,
                                 unsigned flags);

/* JUnit XML: <testsuites> with one <testsuite> per SPEC section.  What CI
 * reporters (Jenkins, GitLab) show is the element in each <testcase>:
 * FAIL -> <failure type="FAIL">; NON-STRICT -> <failure type="NON-STRICT">
 * in a strict report, else <skipped type="NON-STRICT">; INFO ->
 * <skipped type="INFO">; SKIP and INCOMPLETE -> <skipped>; the message
 * starts with the verdict name.  Every <testcase> also has status="VERDICT"
 * and each <testsuite> a property per case (name = id, value = verdict)
 * besides role, target, profile, strict and version. */
int ec_report_write_junit(const ec_report *report, FILE *out);

/* JSON object {suite, role, target, version, profile, strict, started,
 * duration_ms, totals, exit_code, results[]}; each result has "failure":
 * true when it counts as one (jansson). */
int ec_report_write_json(const ec_report *report, FILE *out);

/* A self-contained HTML page (inline CSS and script, nothing fetched): the
 * run's summary first, then the failures, then the NON-STRICT cases, each
 * grouped by section, then every case by section; a filter box (also set
 * by the page's #q=TEXT fragment) hides the cases that do not match. */
int ec_report_write_html(const ec_report *report, FILE *out);

typedef enum {
    EC_REPORT_CONSOLE,
    EC_REPORT_JUNIT,
    EC_REPORT_JSON,
    EC_REPORT_HTML
} ec_report_format;

/* Parse "console" | "junit" | "json" | "html"; -1 when unknown. */
int ec_report_format_from_name(const char *name);

/* Write in `format` to the file at path ("-" = stdout; console colour is
 * then automatic).  Returns 0, or -1 with errno set. */
int ec_report_write_path(const ec_report *report, ec_report_format format, const char *path);

/* Redact every occurrence of `secret` (as ec_report_set_secret describes)
 * in text[0..len) and return a malloc'd NUL-terminated copy with each one
 * replaced by "[REDACTED]".  secret NULL or "" copies text unchanged.
 * Returns NULL when out of memory. */
char *ec_redact(const char *text, size_t len, const char *secret);

/* The one redaction of the project, for several secrets at once (serve
 * has a key per user): each of secrets[0..n) in every form ec_redact
 * knows, and, when n > 0, also a key found by its place whatever its
 * value (an apikey= parameter, a JSON "apikey" member, a Bearer token), as
 * a peer may send a key this process was not given.  n == 0 copies text
 * unchanged (--show-secrets).  Returns a malloc'd copy, NULL when out of
 * memory.  ec_redact(t, l, s) is ec_redact_keys(t, l, &s, s && *s). */
char *ec_redact_keys(const char *text, size_t len, const char *const *secrets, size_t n);

/* printf to f, redacted as ec_redact_keys, then flush: every log and
 * terminal line that may hold what a peer sent goes through this. */
void ec_redact_printf(FILE *f, const char *const *secrets, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ec_redact_vprintf(FILE *f, const char *const *secrets, size_t n, const char *fmt,
                       va_list ap) __attribute__((format(printf, 4, 0)));

/* The line ec_redact_printf would print, in a malloc'd NUL-terminated
 * string of *len bytes, for a writer that buffers its lines (serve's
 * request log).  NULL when out of memory or the format fails. */
char *ec_redact_vasprintf(size_t *len, const char *const *secrets, size_t n, const char *fmt,
                          va_list ap) __attribute__((format(printf, 4, 0)));

/* Print "[k/n] id" on stderr, overwriting the previous progress line, only
 * when stderr is a terminal; k == n ends the line.  Does nothing otherwise. */
void ec_report_progress(size_t k, size_t n, const char *id);

#ifdef __cplusplus
}
#endif
#endif
