/* see report.h */
#include "textbuf.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/report.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define REDACTED "[REDACTED]"
/* Expected/actual longer than this are shown as a window around the first
 * difference on the console. */
#define CONSOLE_WINDOW 96

/* ---- redaction ----------------------------------------------------------- */

/* The 16 key bytes in base64 (24 characters, the last two '='). */
static void base64_16(const unsigned char in[16], int url, char out[25])
{
    size_t n = 0;
    if (ec_b64_encode(in, 16, url ? EC_B64_URL : EC_B64_STD, 1, out, 25, &n) != EC_OK)
        out[0] = '\0';
}

typedef struct {
    const char *bytes;
    size_t len;
    int nocase;
} pattern;

/* The forms of one secret: as given (any case when it is a key), and for a
 * 32-hex-digit key its base64 (both alphabets, with and without '=') and
 * its raw bytes.  raw and the two base64 buffers belong to the caller. */
static size_t secret_forms(const char *secret, pattern *pats, unsigned char raw[16],
                           char std64[25], char url64[25])
{
    size_t slen = secret ? strlen(secret) : 0, npat = 0;
    if (slen == 0)
        return 0;
    int is_key = slen == 32 && ec_key_from_hex(secret, raw) == EC_OK;
    pats[npat++] = (pattern){secret, slen, is_key};
    if (is_key) {
        base64_16(raw, 0, std64);
        base64_16(raw, 1, url64);
        /* Longest first, so a padded form is removed whole. */
        pats[npat++] = (pattern){std64, 24, 0};
        pats[npat++] = (pattern){url64, 24, 0};
        pats[npat++] = (pattern){std64, 22, 0};
        pats[npat++] = (pattern){url64, 22, 0};
        pats[npat++] = (pattern){(const char *)raw, 16, 0};
    }
    return npat;
}

/* Where a key is by its place rather than its value: the value of an
 * apikey= parameter (query or form), of a JSON "apikey" member, and of an
 * Authorization Bearer token.  A peer may send a key this process was not
 * given (another account's).  Returns the length of the name matched at
 * text[i] (the value starts there), or 0. */
static size_t key_place(const char *text, size_t len, size_t i)
{
    static const char *const names[] = {"apikey=", "\"apikey\":\"", "\"apikey\": \"", "Bearer "};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        size_t n = strlen(names[k]);
        if (i + n <= len && strncasecmp(text + i, names[k], n) == 0)
            return n;
    }
    return 0;
}

static int ends_value(char c)
{
    return c == '&' || c == '"' || c == '\'' || c == ' ' || c == '\t' || c == '\r' ||
           c == '\n' || c == '<' || c == '>' || c == ';' || c == ',' || c == '\0';
}

/* Redact into a malloc'd copy whose length (which may include NUL bytes
 * from the input) goes to *out_len. */
static char *redact_keys_n(const char *text, size_t len, const char *const *secrets,
                           size_t nsecrets, size_t *out_len)
{
    ec_textbuf out = {0};
    *out_len = 0;
    if (!text)
        text = "";
    size_t per = 6, npat = 0;
    pattern *pats = nsecrets ? calloc(nsecrets * per, sizeof *pats) : NULL;
    unsigned char (*raw)[16] = nsecrets ? calloc(nsecrets, sizeof *raw) : NULL;
    char (*b64)[2][25] = nsecrets ? calloc(nsecrets, sizeof *b64) : NULL;
    if (nsecrets && (!pats || !raw || !b64)) {
        free(pats);
        free(raw);
        free(b64);
        return NULL;
    }
    for (size_t k = 0; k < nsecrets; k++)
        npat += secret_forms(secrets[k], pats + npat, raw[k], b64[k][0], b64[k][1]);
    size_t i = 0;
    while (i < len) {
        size_t hit = 0, place = npat ? key_place(text, len, i) : 0;
        if (place && i + place < len && !ends_value(text[i + place])) {
            ec_textbuf_append(&out, text + i, place);
            i += place;
            while (i < len && !ends_value(text[i]))
                i++;
            ec_textbuf_puts(&out, REDACTED);
            continue;
        }
        for (size_t p = 0; p < npat && !hit; p++) {
            if (i + pats[p].len > len)
                continue;
            int same = pats[p].nocase ? strncasecmp(text + i, pats[p].bytes, pats[p].len) == 0
                                      : memcmp(text + i, pats[p].bytes, pats[p].len) == 0;
            if (same)
                hit = pats[p].len;
        }
        if (hit) {
            ec_textbuf_puts(&out, REDACTED);
            i += hit;
        } else {
            ec_textbuf_append(&out, text + i, 1);
            i++;
        }
    }
    if (raw)
        ec_wipe(raw, nsecrets * sizeof *raw);
    if (b64)
        ec_wipe(b64, nsecrets * sizeof *b64);
    free(pats);
    free(raw);
    free(b64);
    *out_len = out.len;
    return ec_textbuf_take(&out);
}

static char *redact_n(const char *text, size_t len, const char *secret, size_t *out_len)
{
    return redact_keys_n(text, len, &secret, secret && *secret ? 1 : 0, out_len);
}

/* see report.h */
char *ec_redact(const char *text, size_t len, const char *secret)
{
    size_t n;
    return redact_n(text, len, secret, &n);
}

/* see report.h */
char *ec_redact_keys(const char *text, size_t len, const char *const *secrets, size_t n)
{
    size_t out;
    return redact_keys_n(text, len, secrets, n, &out);
}

/* see report.h */
void ec_redact_vprintf(FILE *f, const char *const *secrets, size_t n, const char *fmt, va_list ap)
{
    if (!f)
        return;
    char small[1024];
    va_list copy;
    va_copy(copy, ap);
    int w = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (w < 0)
        return;
    char *text = small;
    if ((size_t)w >= sizeof small) {
        text = malloc((size_t)w + 1);
        if (!text)
            return;
        vsnprintf(text, (size_t)w + 1, fmt, ap);
    }
    size_t len;
    char *clean = redact_keys_n(text, (size_t)w, secrets, n, &len);
    if (text != small)
        free(text);
    /* Out of memory: say so rather than print what could not be redacted. */
    if (clean)
        fwrite(clean, 1, len, f);
    else
        fputs("[line not shown: out of memory while redacting]\n", f);
    free(clean);
    fflush(f);
}

/* see report.h */
void ec_redact_printf(FILE *f, const char *const *secrets, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ec_redact_vprintf(f, secrets, n, fmt, ap);
    va_end(ap);
}

/* ---- the report ---------------------------------------------------------- */

typedef struct {
    ec_case_result view; /* points into the owned copies below */
    char *strings[7];
    unsigned char *expected, *actual;
} stored_result;

struct ec_report {
    char *suite, *role, *target;
    char *secret; /* NULL when nothing to redact */
    char *profile; /* NULL when not told */
    int strict;
    time_t started;
    long duration_ms; /* -1: the sum of the cases' times */
    stored_result *results;
    size_t count, cap;
};

static const char *const verdict_names[EC_VERDICT_COUNT_] = {
    "PASS", "FAIL", "NON-STRICT", "INFO", "SKIP", "INCOMPLETE",
};

const char *ec_verdict_name(ec_verdict v)
{
    return (unsigned)v < EC_VERDICT_COUNT_ ? verdict_names[v] : "UNKNOWN";
}

int ec_verdict_from_name(const char *name)
{
    for (int i = 0; name && i < EC_VERDICT_COUNT_; i++)
        if (strcasecmp(name, verdict_names[i]) == 0)
            return i;
    return -1;
}

ec_report *ec_report_new(const char *suite, const char *role, const char *target)
{
    ec_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->suite = strdup(suite ? suite : "");
    r->role = strdup(role ? role : "");
    r->target = strdup(target ? target : "");
    r->started = time(NULL);
    r->duration_ms = -1;
    if (!r->suite || !r->role || !r->target) {
        ec_report_free(r);
        return NULL;
    }
    return r;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

void ec_report_free(ec_report *report)
{
    if (!report)
        return;
    for (size_t i = 0; i < report->count; i++) {
        for (size_t k = 0; k < 7; k++)
            free(report->results[i].strings[k]);
        free(report->results[i].expected);
        free(report->results[i].actual);
    }
    free(report->results);
    free(report->suite);
    free(report->role);
    free(report->target);
    free(report->profile);
    wipe_free(report->secret);
    free(report);
}

void ec_report_keep(ec_report *report, int (*keep)(void *user, const ec_case_result *result),
                    void *user)
{
    if (!report || !keep)
        return;
    size_t j = 0;
    for (size_t i = 0; i < report->count; i++) {
        if (keep(user, &report->results[i].view)) {
            report->results[j++] = report->results[i];
            continue;
        }
        for (size_t k = 0; k < 7; k++)
            free(report->results[i].strings[k]);
        free(report->results[i].expected);
        free(report->results[i].actual);
    }
    report->count = j;
}

ec_status ec_report_set_secret(ec_report *report, const char *secret, int show_secrets)
{
    if (!report)
        return EC_E_ARG;
    wipe_free(report->secret);
    report->secret = NULL;
    if (show_secrets || !secret || !*secret)
        return EC_OK;
    report->secret = strdup(secret);
    return report->secret ? EC_OK : EC_E_NOMEM;
}

void ec_report_set_strict(ec_report *report, int strict)
{
    if (report)
        report->strict = strict != 0;
}

int ec_report_is_strict(const ec_report *report) { return report ? report->strict : 0; }

int ec_report_is_failure(const ec_report *report, const ec_case_result *result)
{
    if (!result)
        return 0;
    return result->verdict == EC_VERDICT_FAIL ||
           (result->verdict == EC_VERDICT_NON_STRICT && ec_report_is_strict(report));
}

ec_status ec_report_set_run(ec_report *report, const char *profile, time_t started,
                            long duration_ms)
{
    if (!report)
        return EC_E_ARG;
    if (profile) {
        char *p = strdup(profile);
        if (!p)
            return EC_E_NOMEM;
        free(report->profile);
        report->profile = p;
    }
    if (started)
        report->started = started;
    report->duration_ms = duration_ms < 0 ? -1 : duration_ms;
    return EC_OK;
}

/* The run's duration: as told, else the sum of the cases' times. */
static long run_ms(const ec_report *r)
{
    if (r->duration_ms >= 0)
        return r->duration_ms;
    long ms = 0;
    for (size_t i = 0; i < r->count; i++)
        ms += r->results[i].view.elapsed_ms;
    return ms;
}

static const char *tool_version(void)
{
#ifdef EMONCRYPT_VERSION
    return EMONCRYPT_VERSION;
#else
    return "unknown";
#endif
}

/* Failures counted under the verdict rule. */
static size_t count_failures(const ec_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++)
        n += ec_report_is_failure(r, &r->results[i].view);
    return n;
}

/* "FAIL", "INCOMPLETE" or "OK", as ec_report_exit_code decides. */
static const char *result_word(const ec_report *r)
{
    int rc = ec_report_exit_code(r);
    return rc == 1 ? "FAIL" : rc == 2 ? "INCOMPLETE" : "OK";
}

static char *section_from_id(const char *id)
{
    const char *slash = strchr(id, '/');
    if (!slash || !slash[1])
        return strdup("?");
    const char *start = slash + 1;
    size_t n = strcspn(start, "./");
    return n ? strndup(start, n) : strdup("?");
}

static unsigned char *copy_bytes(const unsigned char *b, size_t n, int *failed)
{
    if (!b)
        return NULL;
    unsigned char *p = malloc(n + 1);
    if (!p) {
        *failed = 1;
        return NULL;
    }
    if (n)
        memcpy(p, b, n);
    p[n] = '\0';
    return p;
}

ec_status ec_report_add(ec_report *report, const ec_case_result *result)
{
    if (!report || !result || !result->id || !*result->id)
        return EC_E_ARG;
    if (report->count == report->cap) {
        size_t cap = report->cap ? report->cap * 2 : 32;
        stored_result *p = realloc(report->results, cap * sizeof *p);
        if (!p)
            return EC_E_NOMEM;
        report->results = p;
        report->cap = cap;
        /* Views point into each stored result's own heap copies, so moving
         * the array does not invalidate them. */
    }
    stored_result *s = &report->results[report->count];
    memset(s, 0, sizeof *s);
    int failed = 0;
    const char *src[7] = {result->id, result->section, result->requirement, result->message,
                          result->sent, result->repro, NULL};
    for (size_t k = 0; k < 6; k++) {
        if (k == 1 && !src[k]) {
            s->strings[k] = section_from_id(result->id);
        } else {
            s->strings[k] = strdup(src[k] ? src[k] : "");
        }
        if (!s->strings[k])
            failed = 1;
    }
    s->expected = copy_bytes(result->expected, result->expected_len, &failed);
    s->actual = copy_bytes(result->actual, result->actual_len, &failed);
    if (failed) {
        for (size_t k = 0; k < 7; k++)
            free(s->strings[k]);
        free(s->expected);
        free(s->actual);
        return EC_E_NOMEM;
    }
    long diff = result->diff_offset;
    if (diff < 0 && result->expected && result->actual) {
        size_t n = result->expected_len < result->actual_len ? result->expected_len
                                                             : result->actual_len;
        size_t i = 0;
        while (i < n && result->expected[i] == result->actual[i])
            i++;
        diff = (i == n && result->expected_len == result->actual_len) ? -1 : (long)i;
    }
    s->view = (ec_case_result){
        .id = s->strings[0],
        .section = s->strings[1],
        .requirement = s->strings[2],
        .verdict = (unsigned)result->verdict < EC_VERDICT_COUNT_ ? result->verdict
                                                                : EC_VERDICT_INFO,
        .expected = s->expected,
        .expected_len = result->expected ? result->expected_len : 0,
        .actual = s->actual,
        .actual_len = result->actual ? result->actual_len : 0,
        .diff_offset = diff < -1 ? -1 : diff,
        .message = s->strings[3],
        .sent = s->strings[4],
        .repro = s->strings[5],
        .elapsed_ms = result->elapsed_ms,
    };
    report->count++;
    return EC_OK;
}

size_t ec_report_count(const ec_report *report) { return report ? report->count : 0; }

const ec_case_result *ec_report_result(const ec_report *report, size_t i)
{
    return report && i < report->count ? &report->results[i].view : NULL;
}

ec_report_totals ec_report_get_totals(const ec_report *report)
{
    ec_report_totals t = {0};
    for (size_t i = 0; report && i < report->count; i++) {
        t.total++;
        t.by_verdict[report->results[i].view.verdict]++;
    }
    return t;
}

int ec_report_exit_code(const ec_report *report)
{
    if (!report)
        return 0;
    if (count_failures(report))
        return 1;
    return ec_report_get_totals(report).by_verdict[EC_VERDICT_INCOMPLETE] ? 2 : 0;
}

/* ---- turning stored bytes into printable, redacted text ------------------ */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

/* Text fields: keep valid UTF-8, newlines and tabs; show anything else as
 * \xHH, so every writer emits well-formed UTF-8 without control bytes. */
static void append_clean_text(ec_textbuf *b, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_sequence(s + i, len - i);
        if (n == 1 && (s[i] >= 0x20 || s[i] == '\n' || s[i] == '\t') && s[i] != 0x7f) {
            ec_textbuf_append(b, s + i, 1);
        } else if (n > 1) {
            ec_textbuf_append(b, s + i, n);
        } else {
            ec_textbuf_printf(b, "\\x%02x", s[i]);
            n = 1;
        }
        i += n;
    }
}

/* Protocol bytes: printable ASCII as is, everything else escaped C-style,
 * so that one displayed character is one byte and the caret lines up. */
static void append_shown_bytes(ec_textbuf *b, const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '\\')
            ec_textbuf_puts(b, "\\\\");
        else if (c == '\n')
            ec_textbuf_puts(b, "\\n");
        else if (c == '\r')
            ec_textbuf_puts(b, "\\r");
        else if (c == '\t')
            ec_textbuf_puts(b, "\\t");
        else if (c >= 0x20 && c < 0x7f)
            ec_textbuf_append(b, &c, 1);
        else
            ec_textbuf_printf(b, "\\x%02x", c);
    }
}

static const char *secret_of(const ec_report *r) { return r->secret; }

/* A text field, cleaned and redacted (malloc'd; NULL when out of memory). */
static char *shown_text(const ec_report *r, const char *text)
{
    char *redacted = ec_redact(text ? text : "", text ? strlen(text) : 0, secret_of(r));
    if (!redacted)
        return NULL;
    ec_textbuf b = {0};
    append_clean_text(&b, redacted, strlen(redacted));
    free(redacted);
    return ec_textbuf_take(&b);
}

/* Bytes, redacted (also as raw key bytes) then escaped (malloc'd). */
static char *shown_bytes(const ec_report *r, const unsigned char *bytes, size_t len)
{
    size_t n;
    char *redacted = redact_n((const char *)bytes, len, secret_of(r), &n);
    if (!redacted)
        return NULL;
    ec_textbuf b = {0};
    append_shown_bytes(&b, (const unsigned char *)redacted, n);
    free(redacted);
    return ec_textbuf_take(&b);
}

/* Column of byte `offset` in the shown form of bytes (same redaction). */
static size_t shown_column(const ec_report *r, const unsigned char *bytes, size_t offset)
{
    char *prefix = shown_bytes(r, bytes, offset);
    size_t col = prefix ? strlen(prefix) : offset;
    free(prefix);
    return col;
}

/* ---- console ------------------------------------------------------------- */

static const char *const verdict_colors[EC_VERDICT_COUNT_] = {
    "\033[32m", "\033[1;31m", "\033[33m", "\033[36m", "\033[2m", "\033[35m",
};

static void append_window(ec_textbuf *b, const char *shown, size_t from, size_t width)
{
    size_t len = strlen(shown);
    if (from > len)
        from = len;
    size_t n = len - from < width ? len - from : width;
    if (from)
        ec_textbuf_puts(b, "...");
    ec_textbuf_append(b, shown + from, n);
    if (from + n < len)
        ec_textbuf_puts(b, "...");
}

static void console_details(const ec_report *r, const ec_case_result *c, ec_textbuf *b)
{
    char *req = shown_text(r, c->requirement);
    char *sent = shown_text(r, c->sent);
    char *repro = shown_text(r, c->repro);
    ec_textbuf_printf(b, "      id:          %s\n", c->id);
    ec_textbuf_printf(b, "      section:     %s\n", c->section);
    if (req && *req)
        ec_textbuf_printf(b, "      requirement: %s\n", req);
    if (c->expected || c->actual) {
        char *exp = c->expected ? shown_bytes(r, c->expected, c->expected_len) : strdup("(none)");
        char *act = c->actual ? shown_bytes(r, c->actual, c->actual_len) : strdup("(none)");
        size_t col = 0, from = 0;
        if (c->diff_offset >= 0) {
            const unsigned char *base = c->actual ? c->actual : c->expected;
            size_t base_len = c->actual ? c->actual_len : c->expected_len;
            size_t off = (size_t)c->diff_offset <= base_len ? (size_t)c->diff_offset : base_len;
            col = shown_column(r, base, off);
            from = col > CONSOLE_WINDOW / 3 ? col - CONSOLE_WINDOW / 3 : 0;
        }
        ec_textbuf_puts(b, "      expected:    ");
        append_window(b, exp ? exp : "", from, CONSOLE_WINDOW);
        ec_textbuf_printf(b, "   (%zu bytes)\n      actual:      ", c->expected_len);
        append_window(b, act ? act : "", from, CONSOLE_WINDOW);
        ec_textbuf_printf(b, "   (%zu bytes)\n", c->actual_len);
        if (c->diff_offset >= 0) {
            size_t pad = 19 + (col - from) + (from ? 3 : 0);
            for (size_t i = 0; i < pad; i++)
                ec_textbuf_puts(b, " ");
            ec_textbuf_printf(b, "^ first difference at byte %ld\n", c->diff_offset);
        }
        free(exp);
        free(act);
    }
    if (sent && *sent)
        ec_textbuf_printf(b, "      sent:        %s\n", sent);
    if (repro && *repro)
        ec_textbuf_printf(b, "      repro:       %s\n", repro);
    free(req);
    free(sent);
    free(repro);
}

int ec_report_write_console(const ec_report *report, FILE *out, int color, int verbose)
{
    return ec_report_write_console_opts(report, out, color, verbose, 0);
}

int ec_report_write_console_opts(const ec_report *report, FILE *out, int color, int verbose,
                                 unsigned flags)
{
    if (!report || !out)
        return -1;
    if (color < 0)
        color = isatty(fileno(out)) && !getenv("NO_COLOR");
    ec_textbuf b = {0};
    for (size_t i = 0; i < report->count; i++) {
        const ec_case_result *c = &report->results[i].view;
        if ((flags & EC_CONSOLE_FAILS_ONLY) && !ec_report_is_failure(report, c))
            continue;
        char *id = shown_text(report, c->id);
        char *msg = shown_text(report, c->message);
        const char *name = ec_verdict_name(c->verdict);
        if (color)
            ec_textbuf_printf(&b, "%s%-10s\033[0m ", verdict_colors[c->verdict], name);
        else
            ec_textbuf_printf(&b, "%-10s ", name);
        ec_textbuf_puts(&b, id ? id : "");
        if (msg && *msg) {
            ec_textbuf_puts(&b, "  ");
            ec_textbuf_puts(&b, msg);
        }
        ec_textbuf_printf(&b, "  (%ld ms)\n", c->elapsed_ms);
        if (ec_report_is_failure(report, c) || verbose)
            console_details(report, c, &b);
        free(id);
        free(msg);
    }
    if (flags & EC_CONSOLE_NO_SUMMARY) {
        char *rows = ec_textbuf_take(&b);
        if (!rows)
            return -1;
        int rc = *rows && fputs(rows, out) < 0 ? -1 : 0;
        free(rows);
        return rc;
    }
    ec_report_totals t = ec_report_get_totals(report);
    char *target = shown_text(report, report->target);
    ec_textbuf_printf(&b, "\n%s (%s role) against %s: %zu cases", report->suite, report->role,
               target ? target : "", t.total);
    for (int v = 0; v < EC_VERDICT_COUNT_; v++)
        if (t.by_verdict[v]) {
            if (color)
                ec_textbuf_printf(&b, ", %s%zu %s\033[0m", verdict_colors[v], t.by_verdict[v],
                           verdict_names[v]);
            else
                ec_textbuf_printf(&b, ", %zu %s", t.by_verdict[v], verdict_names[v]);
        }
    if (report->strict && t.by_verdict[EC_VERDICT_NON_STRICT])
        ec_textbuf_printf(&b, "\nstrict: the %zu NON-STRICT count as failures",
                          t.by_verdict[EC_VERDICT_NON_STRICT]);
    ec_textbuf_printf(&b, "\nresult: %s\n", result_word(report));
    free(target);
    char *text = ec_textbuf_take(&b);
    if (!text)
        return -1;
    int rc = fputs(text, out) < 0 ? -1 : 0;
    free(text);
    return rc;
}

/* ---- JUnit XML ----------------------------------------------------------- */

static void append_xml(ec_textbuf *b, const char *s, int attribute)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': ec_textbuf_puts(b, "&amp;"); break;
        case '<': ec_textbuf_puts(b, "&lt;"); break;
        case '>': ec_textbuf_puts(b, "&gt;"); break;
        case '"': ec_textbuf_puts(b, "&quot;"); break;
        case '\'': ec_textbuf_puts(b, "&apos;"); break;
        case '\n': ec_textbuf_puts(b, attribute ? "&#10;" : "\n"); break;
        case '\t': ec_textbuf_puts(b, attribute ? "&#9;" : "\t"); break;
        default: ec_textbuf_append(b, s, 1); break;
        }
    }
}

/* A text field, cleaned, redacted and XML-escaped. */
static void xml_text(ec_textbuf *b, const ec_report *r, const char *s, int attribute)
{
    char *t = shown_text(r, s);
    if (!t) {
        b->failed = 1;
        return;
    }
    append_xml(b, t, attribute);
    free(t);
}

/* "expected: …\nactual: …\nfirst difference at byte N" for failure text. */
static char *comparison_text(const ec_report *r, const ec_case_result *c)
{
    ec_textbuf b = {0};
    if (c->expected || c->actual) {
        char *exp = c->expected ? shown_bytes(r, c->expected, c->expected_len) : strdup("(none)");
        char *act = c->actual ? shown_bytes(r, c->actual, c->actual_len) : strdup("(none)");
        ec_textbuf_printf(&b, "expected (%zu bytes): ", c->expected_len);
        ec_textbuf_puts(&b, exp ? exp : "");
        ec_textbuf_printf(&b, "\nactual (%zu bytes): ", c->actual_len);
        ec_textbuf_puts(&b, act ? act : "");
        ec_textbuf_puts(&b, "\n");
        if (c->diff_offset >= 0)
            ec_textbuf_printf(&b, "first difference at byte %ld\n", c->diff_offset);
        free(exp);
        free(act);
    }
    return ec_textbuf_take(&b);
}

static void iso_time(time_t t, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* How a case shows in JUnit: the element CI reporters read ("failure",
 * "skipped" or NULL for a plain pass) and the prefix of its message. */
static const char *junit_element(const ec_report *r, const ec_case_result *c,
                                 const char **prefix)
{
    *prefix = "";
    if (ec_report_is_failure(r, c)) {
        if (c->verdict == EC_VERDICT_NON_STRICT)
            *prefix = "NON-STRICT (--strict): ";
        return "failure";
    }
    switch (c->verdict) {
    case EC_VERDICT_NON_STRICT: *prefix = "NON-STRICT: "; return "skipped";
    case EC_VERDICT_INFO: *prefix = "INFO: "; return "skipped";
    case EC_VERDICT_INCOMPLETE: *prefix = "INCOMPLETE: "; return "skipped";
    case EC_VERDICT_SKIP: return "skipped";
    default: return NULL;
    }
}

static void junit_counts(const ec_report *r, const char *section, size_t *tests,
                         size_t *failures, size_t *skipped, long *ms)
{
    *tests = *failures = *skipped = 0;
    *ms = 0;
    for (size_t j = 0; j < r->count; j++) {
        const ec_case_result *c = &r->results[j].view;
        if (section && strcmp(c->section, section) != 0)
            continue;
        const char *prefix;
        const char *el = junit_element(r, c, &prefix);
        (*tests)++;
        *failures += el && el[0] == 'f';
        *skipped += el && el[0] == 's';
        *ms += c->elapsed_ms;
    }
}

static void junit_property(ec_textbuf *b, const ec_report *r, const char *name, const char *value)
{
    ec_textbuf_puts(b, "      <property name=\"");
    xml_text(b, r, name, 1);
    ec_textbuf_puts(b, "\" value=\"");
    xml_text(b, r, value, 1);
    ec_textbuf_puts(b, "\"/>\n");
}

static void junit_case(ec_textbuf *b, const ec_report *report, const ec_case_result *c)
{
    ec_textbuf_puts(b, "    <testcase name=\"");
    xml_text(b, report, c->id, 1);
    ec_textbuf_puts(b, "\" classname=\"");
    xml_text(b, report, report->suite, 1);
    ec_textbuf_puts(b, ".section");
    xml_text(b, report, c->section, 1);
    ec_textbuf_printf(b, "\" time=\"%.3f\" status=\"%s\">\n", (double)c->elapsed_ms / 1000.0,
                      ec_verdict_name(c->verdict));
    char *cmp = comparison_text(report, c);
    const char *prefix;
    const char *el = junit_element(report, c, &prefix);
    if (el) {
        /* GitLab shows the element's text, Jenkins its message: both get
         * the verdict and the sentence. */
        ec_textbuf_printf(b, "      <%s message=\"%s", el, prefix);
        xml_text(b, report, c->message, 1);
        ec_textbuf_printf(b, "\" type=\"%s\">%s", ec_verdict_name(c->verdict), prefix);
        xml_text(b, report, c->message, 0);
        ec_textbuf_puts(b, "\n");
        if (el[0] == 'f') {
            append_xml(b, cmp ? cmp : "", 0);
            ec_textbuf_puts(b, "repro: ");
            xml_text(b, report, c->repro, 0);
        }
        ec_textbuf_printf(b, "</%s>\n", el);
    }
    ec_textbuf_puts(b, "      <system-out>verdict: ");
    ec_textbuf_puts(b, ec_verdict_name(c->verdict));
    if (ec_report_is_failure(report, c) && c->verdict != EC_VERDICT_FAIL)
        ec_textbuf_puts(b, " (a failure: --strict)");
    ec_textbuf_puts(b, "\nrequirement: ");
    xml_text(b, report, c->requirement, 0);
    ec_textbuf_puts(b, "\nmessage: ");
    xml_text(b, report, c->message, 0);
    ec_textbuf_puts(b, "\nsent: ");
    xml_text(b, report, c->sent, 0);
    ec_textbuf_puts(b, "\n");
    if (!el || el[0] != 'f')
        append_xml(b, cmp ? cmp : "", 0);
    ec_textbuf_puts(b, "</system-out>\n    </testcase>\n");
    free(cmp);
}

int ec_report_write_junit(const ec_report *report, FILE *out)
{
    if (!report || !out)
        return -1;
    ec_textbuf b = {0};
    size_t tests, failures, skipped;
    long ms;
    junit_counts(report, NULL, &tests, &failures, &skipped, &ms);
    char when[32];
    iso_time(report->started, when, sizeof when);

    ec_textbuf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"");
    xml_text(&b, report, report->suite, 1);
    ec_textbuf_printf(&b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
                      tests, failures, skipped, (double)run_ms(report) / 1000.0);

    /* Sections in order of first appearance; each result is written under
     * the first section equal to its own. */
    for (size_t i = 0; i < report->count; i++) {
        const char *section = report->results[i].view.section;
        int seen_before = 0;
        for (size_t j = 0; j < i && !seen_before; j++)
            seen_before = strcmp(report->results[j].view.section, section) == 0;
        if (seen_before)
            continue;
        junit_counts(report, section, &tests, &failures, &skipped, &ms);
        ec_textbuf_puts(&b, "  <testsuite name=\"");
        xml_text(&b, report, report->suite, 1);
        ec_textbuf_puts(&b, " SPEC ");
        xml_text(&b, report, section, 1);
        ec_textbuf_printf(&b,
                   "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
                   "time=\"%.3f\" timestamp=\"%s\" hostname=\"localhost\">\n",
                   tests, failures, skipped, (double)ms / 1000.0, when);
        /* Properties are allowed per testsuite only (tests/data/junit.xsd,
         * as Jenkins and Surefire read JUnit), so each case's verdict is a
         * property of its section, named by the case id. */
        ec_textbuf_puts(&b, "    <properties>\n");
        junit_property(&b, report, "role", report->role);
        junit_property(&b, report, "target", report->target);
        junit_property(&b, report, "profile", report->profile ? report->profile : "");
        junit_property(&b, report, "strict", report->strict ? "true" : "false");
        junit_property(&b, report, "version", tool_version());
        for (size_t j = i; j < report->count; j++) {
            const ec_case_result *c = &report->results[j].view;
            if (strcmp(c->section, section) == 0)
                junit_property(&b, report, c->id, ec_verdict_name(c->verdict));
        }
        ec_textbuf_puts(&b, "    </properties>\n");
        for (size_t j = i; j < report->count; j++) {
            const ec_case_result *c = &report->results[j].view;
            if (strcmp(c->section, section) == 0)
                junit_case(&b, report, c);
        }
        ec_textbuf_puts(&b, "  </testsuite>\n");
    }
    ec_textbuf_puts(&b, "</testsuites>\n");
    char *text = ec_textbuf_take(&b);
    if (!text)
        return -1;
    int rc = fputs(text, out) < 0 ? -1 : 0;
    free(text);
    return rc;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *json_text(const ec_report *r, const char *s)
{
    char *t = shown_text(r, s);
    json_t *j = t ? json_string(t) : NULL;
    free(t);
    return j ? j : json_null();
}

static json_t *json_bytes(const ec_report *r, const unsigned char *bytes, size_t len)
{
    if (!bytes)
        return json_null();
    char *t = shown_bytes(r, bytes, len);
    json_t *j = t ? json_string(t) : NULL;
    free(t);
    return j ? j : json_null();
}

int ec_report_write_json(const ec_report *report, FILE *out)
{
    if (!report || !out)
        return -1;
    char when[32];
    iso_time(report->started, when, sizeof when);
    strcat(when, "Z");
    ec_report_totals t = ec_report_get_totals(report);
    json_t *root = json_object();
    json_t *totals = json_object();
    json_t *results = json_array();
    if (!root || !totals || !results) {
        json_decref(root);
        json_decref(totals);
        json_decref(results);
        return -1;
    }
    json_object_set_new(root, "suite", json_text(report, report->suite));
    json_object_set_new(root, "role", json_text(report, report->role));
    json_object_set_new(root, "target", json_text(report, report->target));
    json_object_set_new(root, "version", json_string(tool_version()));
    json_object_set_new(root, "profile", report->profile ? json_text(report, report->profile)
                                                         : json_null());
    json_object_set_new(root, "strict", json_boolean(report->strict));
    json_object_set_new(root, "started", json_string(when));
    json_object_set_new(root, "duration_ms", json_integer(run_ms(report)));
    json_object_set_new(totals, "total", json_integer((json_int_t)t.total));
    for (int v = 0; v < EC_VERDICT_COUNT_; v++)
        json_object_set_new(totals, verdict_names[v], json_integer((json_int_t)t.by_verdict[v]));
    json_object_set_new(totals, "failures", json_integer((json_int_t)count_failures(report)));
    json_object_set_new(root, "totals", totals);
    json_object_set_new(root, "exit_code", json_integer(ec_report_exit_code(report)));
    for (size_t i = 0; i < report->count; i++) {
        const ec_case_result *c = &report->results[i].view;
        json_t *o = json_object();
        if (!o)
            continue;
        json_object_set_new(o, "id", json_text(report, c->id));
        json_object_set_new(o, "section", json_text(report, c->section));
        json_object_set_new(o, "requirement", json_text(report, c->requirement));
        json_object_set_new(o, "verdict", json_string(ec_verdict_name(c->verdict)));
        json_object_set_new(o, "failure", json_boolean(ec_report_is_failure(report, c)));
        json_object_set_new(o, "expected", json_bytes(report, c->expected, c->expected_len));
        json_object_set_new(o, "expected_len", json_integer((json_int_t)c->expected_len));
        json_object_set_new(o, "actual", json_bytes(report, c->actual, c->actual_len));
        json_object_set_new(o, "actual_len", json_integer((json_int_t)c->actual_len));
        json_object_set_new(o, "diff_offset",
                            c->diff_offset >= 0 ? json_integer(c->diff_offset) : json_null());
        json_object_set_new(o, "message", json_text(report, c->message));
        json_object_set_new(o, "sent", json_text(report, c->sent));
        json_object_set_new(o, "repro", json_text(report, c->repro));
        json_object_set_new(o, "elapsed_ms", json_integer(c->elapsed_ms));
        json_array_append_new(results, o);
    }
    json_object_set_new(root, "results", results);
    int rc = json_dumpf(root, out, JSON_INDENT(2)) == 0 && fputc('\n', out) != EOF ? 0 : -1;
    json_decref(root);
    return rc;
}

/* ---- HTML ---------------------------------------------------------------- */

static void html_text(ec_textbuf *b, const ec_report *r, const char *s)
{
    char *t = shown_text(r, s);
    if (!t) {
        b->failed = 1;
        return;
    }
    append_xml(b, t, 0);
    free(t);
}

static void html_bytes(ec_textbuf *b, const ec_report *r, const unsigned char *bytes, size_t len,
                       long diff)
{
    if (!bytes) {
        ec_textbuf_puts(b, "<i>(none)</i>");
        return;
    }
    char *all = shown_bytes(r, bytes, len);
    if (!all) {
        b->failed = 1;
        return;
    }
    if (diff >= 0 && (size_t)diff <= len) {
        /* Mark where the difference starts. */
        size_t col = shown_column(r, bytes, (size_t)diff);
        if (col > strlen(all))
            col = strlen(all);
        char saved = all[col];
        all[col] = '\0';
        append_xml(b, all, 0);
        all[col] = saved;
        ec_textbuf_puts(b, "<mark>");
        append_xml(b, all + col, 0);
        ec_textbuf_puts(b, "</mark>");
    } else {
        append_xml(b, all, 0);
    }
    free(all);
}

int ec_report_write_html(const ec_report *report, FILE *out)
{
    if (!report || !out)
        return -1;
    ec_textbuf b = {0};
    ec_report_totals t = ec_report_get_totals(report);
    char when[32];
    iso_time(report->started, when, sizeof when);
    ec_textbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>");
    html_text(&b, report, report->suite);
    ec_textbuf_puts(&b, " — emoncrypt report</title>\n<style>\n"
                 "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
                 "table{border-collapse:collapse;width:100%}\n"
                 "td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\n"
                 "pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:90%}\n"
                 "mark{background:#fbb}\n"
                 ".PASS{color:#1a7f37}.FAIL{color:#cf222e;font-weight:bold}"
                 ".NON-STRICT{color:#9a6700}.INFO{color:#0969da}.SKIP{color:#888}"
                 ".INCOMPLETE{color:#8250df}\n"
                 "</style>\n</head>\n<body>\n<h1>");
    html_text(&b, report, report->suite);
    ec_textbuf_puts(&b, "</h1>\n<p>role: ");
    html_text(&b, report, report->role);
    ec_textbuf_puts(&b, " · target: <code>");
    html_text(&b, report, report->target);
    ec_textbuf_printf(&b, "</code> · started %sZ</p>\n<p>%zu cases", when, t.total);
    for (int v = 0; v < EC_VERDICT_COUNT_; v++)
        if (t.by_verdict[v])
            ec_textbuf_printf(&b, ", <span class=\"%s\">%zu %s</span>", verdict_names[v],
                       t.by_verdict[v], verdict_names[v]);
    const char *word = result_word(report);
    ec_textbuf_printf(&b, " — result: <b class=\"%s\">%s</b></p>\n",
                      strcmp(word, "OK") == 0 ? "PASS" : word, word);
    ec_textbuf_puts(&b, "<table>\n<tr><th>verdict</th><th>case</th><th>§</th><th>details</th>"
                 "<th>ms</th></tr>\n");
    for (size_t i = 0; i < report->count; i++) {
        const ec_case_result *c = &report->results[i].view;
        const char *v = ec_verdict_name(c->verdict);
        ec_textbuf_printf(&b, "<tr><td class=\"%s\">%s</td><td><code>", v, v);
        html_text(&b, report, c->id);
        ec_textbuf_puts(&b, "</code></td><td>");
        html_text(&b, report, c->section);
        ec_textbuf_puts(&b, "</td><td>");
        html_text(&b, report, c->message);
        ec_textbuf_printf(&b, "<details%s><summary>more</summary>\n<p><i>",
                   ec_report_is_failure(report, c) ? " open=\"open\"" : "");
        html_text(&b, report, c->requirement);
        ec_textbuf_puts(&b, "</i></p>\n");
        if (c->expected || c->actual) {
            ec_textbuf_printf(&b, "<p>expected (%zu bytes):</p><pre>", c->expected_len);
            html_bytes(&b, report, c->expected, c->expected_len, c->diff_offset);
            ec_textbuf_printf(&b, "</pre><p>actual (%zu bytes):</p><pre>", c->actual_len);
            html_bytes(&b, report, c->actual, c->actual_len, c->diff_offset);
            ec_textbuf_puts(&b, "</pre>\n");
            if (c->diff_offset >= 0)
                ec_textbuf_printf(&b, "<p>first difference at byte %ld</p>\n", c->diff_offset);
        }
        if (c->sent && *c->sent) {
            ec_textbuf_puts(&b, "<p>sent: ");
            html_text(&b, report, c->sent);
            ec_textbuf_puts(&b, "</p>\n");
        }
        if (c->repro && *c->repro) {
            ec_textbuf_puts(&b, "<p>reproduce:</p><pre>");
            html_text(&b, report, c->repro);
            ec_textbuf_puts(&b, "</pre>\n");
        }
        ec_textbuf_printf(&b, "</details></td><td>%ld</td></tr>\n", c->elapsed_ms);
    }
    ec_textbuf_puts(&b, "</table>\n</body>\n</html>\n");
    char *text = ec_textbuf_take(&b);
    if (!text)
        return -1;
    int rc = fputs(text, out) < 0 ? -1 : 0;
    free(text);
    return rc;
}

/* ---- dispatch, progress -------------------------------------------------- */

int ec_report_format_from_name(const char *name)
{
    static const char *const names[] = {"console", "junit", "json", "html"};
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int ec_report_write_path(const ec_report *report, ec_report_format format, const char *path)
{
    if (!report || !path) {
        errno = EINVAL;
        return -1;
    }
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    if (!f)
        return -1;
    int rc;
    switch (format) {
    case EC_REPORT_CONSOLE: rc = ec_report_write_console(report, f, to_stdout ? -1 : 0, 0); break;
    case EC_REPORT_JUNIT: rc = ec_report_write_junit(report, f); break;
    case EC_REPORT_JSON: rc = ec_report_write_json(report, f); break;
    case EC_REPORT_HTML: rc = ec_report_write_html(report, f); break;
    default: errno = EINVAL; rc = -1; break;
    }
    if (to_stdout) {
        if (fflush(f) != 0)
            rc = -1;
    } else if (fclose(f) != 0) {
        rc = -1;
    }
    return rc;
}

void ec_report_progress(size_t k, size_t n, const char *id)
{
    if (!isatty(STDERR_FILENO))
        return;
    fprintf(stderr, "\r\033[K[%zu/%zu] %s", k, n, id ? id : "");
    if (k >= n)
        fputc('\n', stderr);
    fflush(stderr);
}
