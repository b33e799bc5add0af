/* see report.h */
#include "textbuf.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/report.h"

#include <ctype.h>
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
char *ec_redact_vasprintf(size_t *len, const char *const *secrets, size_t n, const char *fmt,
                          va_list ap)
{
    *len = 0;
    char small[1024];
    va_list copy;
    va_copy(copy, ap);
    int w = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (w < 0)
        return NULL;
    char *text = small;
    if ((size_t)w >= sizeof small) {
        text = malloc((size_t)w + 1);
        if (!text)
            return NULL;
        vsnprintf(text, (size_t)w + 1, fmt, ap);
    }
    char *clean = redact_keys_n(text, (size_t)w, secrets, n, len);
    if (text != small)
        free(text);
    return clean;
}

/* see report.h */
void ec_redact_vprintf(FILE *f, const char *const *secrets, size_t n, const char *fmt, va_list ap)
{
    if (!f)
        return;
    size_t len;
    char *clean = ec_redact_vasprintf(&len, secrets, n, fmt, ap);
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

/* Text for a reader: cleaned and redacted, then the \xHH escapes of
 * printable ASCII that the suites write into messages (a quote inside a
 * quoted answer: {\x22success\x22: …}) shown as the character again;
 * control bytes and invalid UTF-8 stay escaped.  HTML-escaped by append_xml. */
static char *readable_text(const ec_report *r, const char *s)
{
    char *t = shown_text(r, s);
    if (!t)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; t[i]; i++) {
        unsigned v;
        if (t[i] == '\\' && t[i + 1] == 'x' && isxdigit((unsigned char)t[i + 2]) &&
            isxdigit((unsigned char)t[i + 3]) && sscanf(t + i + 2, "%2x", &v) == 1 && v >= 0x20 &&
            v < 0x7f) {
            t[o++] = (char)v;
            i += 3;
        } else {
            t[o++] = t[i];
        }
    }
    t[o] = '\0';
    return t;
}

static void html_text(ec_textbuf *b, const ec_report *r, const char *s)
{
    char *t = readable_text(r, s);
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

/* The lowercase text the filter box matches: id, section, verdict, message. */
static void html_filter_text(ec_textbuf *b, const ec_report *r, const ec_case_result *c)
{
    ec_textbuf t = {0};
    char *id = readable_text(r, c->id), *msg = readable_text(r, c->message);
    ec_textbuf_printf(&t, "%s §%s %s %s", id ? id : "", c->section, ec_verdict_name(c->verdict),
                      msg ? msg : "");
    free(id);
    free(msg);
    char *s = ec_textbuf_take(&t);
    if (!s) {
        b->failed = 1;
        return;
    }
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    append_xml(b, s, 1);
    free(s);
}

static void html_case_open(ec_textbuf *b, const ec_report *r, const ec_case_result *c,
                           const char *tag, const char *cls)
{
    ec_textbuf_printf(b, "<%s class=\"case %s\" data-verdict=\"%s\" data-text=\"", tag, cls,
                      ec_verdict_name(c->verdict));
    html_filter_text(b, r, c);
    ec_textbuf_puts(b, "\">");
}

static void html_badge(ec_textbuf *b, const ec_report *r, const ec_case_result *c)
{
    const char *v = ec_verdict_name(c->verdict);
    ec_textbuf_printf(b, "<span class=\"badge %s\">%s</span>", v, v);
    if (c->verdict == EC_VERDICT_NON_STRICT && ec_report_is_failure(r, c))
        ec_textbuf_puts(b, " <span class=\"why\">a failure: --strict</span>");
}

/* The details of a case: requirement, expected/actual, sent, repro. */
static void html_details(ec_textbuf *b, const ec_report *r, const ec_case_result *c)
{
    if (c->requirement && *c->requirement) {
        ec_textbuf_puts(b, "<p class=\"req\">");
        html_text(b, r, c->requirement);
        ec_textbuf_puts(b, "</p>\n");
    }
    if (c->expected || c->actual) {
        ec_textbuf_printf(b, "<div class=\"cmp\"><div>expected (%zu bytes)</div><pre>", c->expected_len);
        html_bytes(b, r, c->expected, c->expected_len, c->diff_offset);
        ec_textbuf_printf(b, "</pre><div>actual (%zu bytes)</div><pre>", c->actual_len);
        html_bytes(b, r, c->actual, c->actual_len, c->diff_offset);
        ec_textbuf_puts(b, "</pre></div>\n");
        if (c->diff_offset >= 0)
            ec_textbuf_printf(b, "<p>first difference at byte %ld</p>\n", c->diff_offset);
    }
    if (c->sent && *c->sent) {
        ec_textbuf_puts(b, "<p>sent: <code>");
        html_text(b, r, c->sent);
        ec_textbuf_puts(b, "</code></p>\n");
    }
    if (c->repro && *c->repro) {
        ec_textbuf_puts(b, "<p>reproduce:</p><pre class=\"repro\">");
        html_text(b, r, c->repro);
        ec_textbuf_puts(b, "</pre>\n");
    }
}

typedef int (*html_pick)(const ec_report *r, const ec_case_result *c);

static int pick_failure(const ec_report *r, const ec_case_result *c)
{
    (void)r;
    return c->verdict == EC_VERDICT_FAIL;
}

static int pick_non_strict(const ec_report *r, const ec_case_result *c)
{
    (void)r;
    return c->verdict == EC_VERDICT_NON_STRICT;
}

static int pick_incomplete(const ec_report *r, const ec_case_result *c)
{
    (void)r;
    return c->verdict == EC_VERDICT_INCOMPLETE;
}

/* Sections in order of first appearance: is result i the first of its section? */
static int first_of_section(const ec_report *r, size_t i, html_pick pick)
{
    const char *section = r->results[i].view.section;
    for (size_t j = 0; j < i; j++)
        if (strcmp(r->results[j].view.section, section) == 0 &&
            (!pick || pick(r, &r->results[j].view)))
            return 0;
    return 1;
}

/* One <section> of cards: the picked cases, grouped by SPEC section. */
static void html_cards(ec_textbuf *b, const ec_report *r, const char *id, const char *title,
                       const char *note, html_pick pick, const char *empty)
{
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++)
        n += pick(r, &r->results[i].view);
    if (n == 0 && !empty)
        return;
    ec_textbuf_printf(b, "<section id=\"%s\">\n<h2>%s (%zu)</h2>\n", id, title, n);
    if (note)
        ec_textbuf_printf(b, "<p class=\"note\">%s</p>\n", note);
    if (n == 0)
        ec_textbuf_printf(b, "<p class=\"none\">%s</p>\n", empty);
    for (size_t i = 0; i < r->count; i++) {
        const ec_case_result *first = &r->results[i].view;
        if (!pick(r, first) || !first_of_section(r, i, pick))
            continue;
        size_t k = 0;
        for (size_t j = i; j < r->count; j++)
            k += pick(r, &r->results[j].view) && strcmp(r->results[j].view.section, first->section) == 0;
        ec_textbuf_puts(b, "<section class=\"group\"><h3>§");
        html_text(b, r, first->section);
        ec_textbuf_printf(b, " — <span class=\"count\">%zu</span></h3>\n", k);
        for (size_t j = i; j < r->count; j++) {
            const ec_case_result *c = &r->results[j].view;
            if (!pick(r, c) || strcmp(c->section, first->section) != 0)
                continue;
            html_case_open(b, r, c, "article", ec_report_is_failure(r, c) ? "card failure" : "card");
            ec_textbuf_puts(b, "\n<h4>");
            html_badge(b, r, c);
            ec_textbuf_puts(b, " <code>");
            html_text(b, r, c->id);
            ec_textbuf_printf(b, "</code> <span class=\"ms\">%ld ms</span></h4>\n<p class=\"msg\">",
                              c->elapsed_ms);
            html_text(b, r, c->message);
            ec_textbuf_puts(b, "</p>\n");
            html_details(b, r, c);
            ec_textbuf_puts(b, "</article>\n");
        }
        ec_textbuf_puts(b, "</section>\n");
    }
    ec_textbuf_puts(b, "</section>\n");
}

/* Every case, one folded table per SPEC section with its counts. */
static void html_all(ec_textbuf *b, const ec_report *r)
{
    ec_textbuf_printf(b, "<section id=\"all\">\n<h2>Every case by section (%zu)</h2>\n", r->count);
    for (size_t i = 0; i < r->count; i++) {
        if (!first_of_section(r, i, NULL))
            continue;
        const char *section = r->results[i].view.section;
        size_t by[EC_VERDICT_COUNT_] = {0}, n = 0, bad = 0;
        for (size_t j = i; j < r->count; j++)
            if (strcmp(r->results[j].view.section, section) == 0) {
                by[r->results[j].view.verdict]++;
                bad += ec_report_is_failure(r, &r->results[j].view);
                n++;
            }
        ec_textbuf_printf(b, "<details class=\"group\"%s><summary>§", bad ? " open=\"open\"" : "");
        html_text(b, r, section);
        ec_textbuf_printf(b, " — %zu cases", n);
        for (int v = 0; v < EC_VERDICT_COUNT_; v++)
            if (by[v])
                ec_textbuf_printf(b, ", <span class=\"%s\">%zu %s</span>", verdict_names[v], by[v],
                                  verdict_names[v]);
        ec_textbuf_puts(b, "</summary>\n<table>\n");
        for (size_t j = i; j < r->count; j++) {
            const ec_case_result *c = &r->results[j].view;
            if (strcmp(c->section, section) != 0)
                continue;
            html_case_open(b, r, c, "tr", "");
            ec_textbuf_puts(b, "<td>");
            html_badge(b, r, c);
            ec_textbuf_puts(b, "</td><td><code>");
            html_text(b, r, c->id);
            ec_textbuf_puts(b, "</code></td><td>");
            html_text(b, r, c->message);
            if (c->verdict != EC_VERDICT_PASS) {
                ec_textbuf_puts(b, "<details><summary>details</summary>\n");
                html_details(b, r, c);
                ec_textbuf_puts(b, "</details>");
            }
            ec_textbuf_printf(b, "</td><td class=\"ms\">%ld ms</td></tr>\n", c->elapsed_ms);
        }
        ec_textbuf_puts(b, "</table>\n</details>\n");
    }
    ec_textbuf_puts(b, "</section>\n");
}

static const char html_style[] =
    "body{font-family:system-ui,sans-serif;margin:0 1.5em 2em;color:#1f2328;line-height:1.4}\n"
    "header{border-bottom:1px solid #d0d7de;padding:.6em 0}\n"
    "h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.15em;margin:1em 0 .3em}"
    "h3{font-size:1em;margin:.6em 0 .3em}h4{font-size:1em;margin:0 0 .2em;font-weight:normal}\n"
    "dl{display:flex;flex-wrap:wrap;gap:.2em 1.6em;margin:.3em 0}dl div{display:flex;gap:.4em}"
    "dt{color:#656d76}dd{margin:0;font-weight:600}\n"
    "#filter{position:sticky;top:0;background:#f6f8fa;border-bottom:1px solid #d0d7de;"
    "padding:.4em .6em;margin:0 -1.5em;display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:center}\n"
    "#q{width:22em;padding:.2em .4em}#shown{color:#656d76}\n"
    ".card{border:1px solid #d0d7de;border-left:6px solid #9a6700;border-radius:4px;"
    "padding:.4em .8em;margin:.4em 0;background:#fff8c5}\n"
    ".card.failure{border-left-color:#cf222e;background:#ffebe9}\n"
    ".msg{margin:.1em 0 .3em;font-weight:600}.req{margin:.2em 0;font-style:italic;color:#424a53}\n"
    ".note,.none{color:#656d76}.ms{color:#656d76;font-size:85%}.why{font-size:85%;color:#cf222e}\n"
    ".cmp{display:grid;grid-template-columns:max-content 1fr;gap:.1em .8em;align-items:start}\n"
    "pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:90%;background:#fff;"
    "padding:.1em .3em}\n"
    "mark{background:#ff8182}\n"
    "table{border-collapse:collapse;width:100%}td{border-bottom:1px solid #eaeef2;"
    "padding:3px 6px;vertical-align:top}\n"
    "details.group{margin:.3em 0}details.group>summary{cursor:pointer;font-weight:600}\n"
    ".badge{display:inline-block;min-width:6.5em;font-weight:700;font-size:90%}\n"
    ".PASS{color:#1a7f37}.FAIL{color:#cf222e}.NON-STRICT{color:#9a6700}.INFO{color:#0969da}"
    ".SKIP{color:#6e7781}.INCOMPLETE{color:#8250df}\n"
    "[hidden]{display:none!important}\n";

/* The filter: text (also from #q=…) and verdict boxes; inline, no network.
 * Inside CDATA, so that the page stays well-formed XML too. */
static const char html_script[] =
    "(function(){\n"
    "var q=document.getElementById('q');\n"
    "var boxes=[].slice.call(document.querySelectorAll('#filter input[type=checkbox]'));\n"
    "var cases=[].slice.call(document.querySelectorAll('.case'));\n"
    "var groups=[].slice.call(document.querySelectorAll('.group'));\n"
    "var total=document.querySelectorAll('#all .case').length;\n"
    "function apply(){\n"
    " var t=q.value.toLowerCase().trim(),off={},n=0;\n"
    " boxes.forEach(function(b){off[b.value]=!b.checked;});\n"
    " cases.forEach(function(c){\n"
    "  var ok=!off[c.getAttribute('data-verdict')]&&c.getAttribute('data-text').indexOf(t)>=0;\n"
    "  c.hidden=!ok;if(ok&&c.tagName==='TR')n++;});\n"
    " groups.forEach(function(g){g.hidden=!g.querySelector('.case:not([hidden])');});\n"
    " document.getElementById('shown').textContent='showing '+n+' of '+total+' cases';\n"
    "}\n"
    "var m=/^#q=(.*)$/.exec(location.hash);\n"
    "if(m)q.value=decodeURIComponent(m[1]);\n"
    "q.addEventListener('input',apply);\n"
    "boxes.forEach(function(b){b.addEventListener('change',apply);});\n"
    "apply();\n"
    "})();\n";

int ec_report_write_html(const ec_report *report, FILE *out)
{
    if (!report || !out)
        return -1;
    ec_textbuf b = {0};
    ec_report_totals t = ec_report_get_totals(report);
    const char *word = result_word(report);
    const char *word_class = strcmp(word, "OK") == 0 ? "PASS" : word;
    char when[32];
    struct tm tm;
    gmtime_r(&report->started, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);

    ec_textbuf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                          "<meta name=\"viewport\" content=\"width=device-width\"/>\n<title>%s — ",
                      word);
    html_text(&b, report, report->suite);
    ec_textbuf_printf(&b, " — emoncrypt report</title>\n<style>\n%s</style>\n</head>\n<body>\n",
                      html_style);

    /* 1. the summary */
    ec_textbuf_puts(&b, "<header id=\"summary\">\n<h1>emoncrypt test-");
    html_text(&b, report, report->role);
    ec_textbuf_printf(&b, ": result: <b class=\"%s\">%s</b></h1>\n<dl>\n<div><dt>target</dt><dd><code>",
                      word_class, word);
    html_text(&b, report, report->target);
    ec_textbuf_printf(&b, "</code></dd></div>\n<div><dt>version</dt><dd>emoncrypt %s</dd></div>\n"
                          "<div><dt>profile</dt><dd>",
                      tool_version());
    html_text(&b, report, report->profile ? report->profile : "(not given)");
    ec_textbuf_printf(&b, "%s</dd></div>\n<div><dt>started</dt><dd>%s</dd></div>\n"
                          "<div><dt>duration</dt><dd>%.1f s</dd></div>\n"
                          "<div><dt>exit code</dt><dd>%d</dd></div>\n</dl>\n<dl>\n"
                          "<div><dt>cases</dt><dd>%zu</dd></div>\n",
                      report->strict ? ", --strict" : "", when, (double)run_ms(report) / 1000.0,
                      ec_report_exit_code(report), t.total);
    for (int v = 0; v < EC_VERDICT_COUNT_; v++)
        ec_textbuf_printf(&b, "<div><dt class=\"%s\">%s</dt><dd class=\"%s\">%zu</dd></div>\n",
                          verdict_names[v], verdict_names[v], verdict_names[v], t.by_verdict[v]);
    ec_textbuf_puts(&b, "</dl>\n</header>\n");

    /* the filter */
    ec_textbuf_puts(&b, "<nav id=\"filter\"><input id=\"q\" type=\"search\" "
                        "placeholder=\"filter: id, §section, verdict or text\" "
                        "aria-label=\"filter the cases\"/>\n");
    for (int v = 0; v < EC_VERDICT_COUNT_; v++)
        if (t.by_verdict[v])
            ec_textbuf_printf(&b, "<label class=\"%s\"><input type=\"checkbox\" value=\"%s\" "
                                  "checked=\"checked\"/> %s</label>\n",
                              verdict_names[v], verdict_names[v], verdict_names[v]);
    ec_textbuf_puts(&b, "<span id=\"shown\"></span></nav>\n<main>\n");

    /* 2. failures, 3. NON-STRICT, then what could not be judged, then all */
    html_cards(&b, report, "failures", "Failures", NULL, pick_failure, "No failures.");
    html_cards(&b, report, "non-strict", "NON-STRICT",
               report->strict ? "What Emoncms does but the strict profile does not allow: "
                                "each one is a failure of this run (--strict)."
                              : "What Emoncms does but the strict profile does not allow: "
                                "not a failure of this run; a failure with --strict.",
               pick_non_strict, NULL);
    html_cards(&b, report, "incomplete", "INCOMPLETE",
               "Not enough traffic was seen to judge these: run longer.", pick_incomplete, NULL);
    html_all(&b, report);
    ec_textbuf_printf(&b, "</main>\n<script>\n//<![CDATA[\n%s//]]>\n</script>\n</body>\n</html>\n", html_script);
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
