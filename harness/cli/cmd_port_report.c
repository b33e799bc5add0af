/* emoncrypt port-report — read the serial log of a port-kit self-test run
 * (a board on a USB port, or QEMU's semihosting output) and report it as
 * the suites do: console, JUnit, JSON, HTML (report.c), exit 0/1/2.
 *
 * The log's machine-readable lines (harness/port/port_main.c prints them,
 * harness/port/README.md section 7 documents them):
 *
 *   ECP BEGIN 1 BACKEND BOARD
 *   ECP PASS|FAIL|SKIP ID [DETAIL...]
 *   ECP END total=N pass=N fail=N skip=N
 *
 * Anything else (boot messages, the runner's lines for a human) is noise.
 * Lines may end in LF, CR LF or CR.  The first run in the log is read: a
 * case line before BEGIN, a second BEGIN before END, no END, an END whose
 * counts are not the lines read, a malformed or repeated ECP line all make
 * the log unusable (exit 2, nothing written): a board that reset or a
 * serial line that dropped bytes is not a pass. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "emoncrypt/report.h"

const char cmd_port_report_usage[] =
    "port-report [LOG|-] [options]\n"
    "\n"
    "Reads the serial log of the port kit's self-test (harness/port: the\n"
    "board prints one line 'ECP PASS|FAIL|SKIP ID ...' per case between\n"
    "'ECP BEGIN' and 'ECP END' with the counts) from the file LOG or from\n"
    "stdin ('-' or no LOG), and reports it like the suites: one row per case\n"
    "(the vector's id, or kat/..., kit/...), JUnit, JSON and HTML files.\n"
    "Other lines (boot messages, CR LF line ends) are ignored.  Only the\n"
    "first run in the log is read.\n"
    "Exit 0: every case passed or was skipped; 1: a case FAILed;\n"
    "2: usage error, an unreadable log, or a log that is not one whole run\n"
    "(no ECP BEGIN or ECP END, a restart, counts in ECP END that are not the\n"
    "lines read, a malformed or repeated ECP line): then nothing is written.\n"
    "\n"
    "Options:\n"
    "      --junit FILE      write JUnit XML\n"
    "      --json FILE       write a JSON report\n"
    "      --html FILE       write an HTML report\n"
    "  -v, --verbose         details for every case, not only FAILs\n"
    "  -q, --quiet           no per-case lines; only the summary and FAILs\n"
    "  -h, --help            show this help\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt port-report selftest.log --junit port.xml\n"
    "  picocom -b 115200 /dev/ttyUSB0 | tee serial.log | emoncrypt port-report - --json port.json\n"
    "  harness/port/fw/port_qemu.sh run cortex-m3 build/port-qemu/cortex-m3/selftest-mbedtls.elf m3.log\n"
    "  emoncrypt port-report m3.log --junit m3.xml --html m3.html -q\n";

static const struct option port_report_options[] = {
    {"junit", required_argument, NULL, CLI_OPT_JUNIT},
    {"json", required_argument, NULL, CLI_OPT_JSON},
    {"html", required_argument, NULL, CLI_OPT_HTML},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One case line, pointing into the log (NUL-terminated in place). */
typedef struct {
    char *id;
    char *detail;      /* after the id; "" when none */
    ec_verdict verdict;
    size_t line;
} pr_case;

typedef struct {
    pr_case *cases;
    size_t count, cap;
    size_t begin_line, end_line;
    char *backend, *board;
    unsigned long end_counts[4];   /* total, pass, fail, skip */
} pr_log;

/* The next whitespace-separated word of *p (NUL-terminated in place), or
 * NULL when none is left. */
static char *next_word(char **p)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0') {
        *p = s;
        return NULL;
    }
    char *w = s;
    while (*s != '\0' && *s != ' ' && *s != '\t')
        s++;
    if (*s != '\0')
        *s++ = '\0';
    *p = s;
    return w;
}

/* A printable word without control bytes (a case id). */
static int printable_word(const char *w)
{
    for (; *w; w++)
        if ((unsigned char)*w < 0x21 || (unsigned char)*w == 0x7f)
            return 0;
    return 1;
}

static int parse_count(const char *text, unsigned long *out)
{
    if (*text < '0' || *text > '9')
        return -1;
    char *end = NULL;
    unsigned long v = strtoul(text, &end, 10);
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* ECP END total=N pass=N fail=N skip=N (in any order; other keys ignored). */
static int parse_end(char *rest, pr_log *log, const char *path, size_t line)
{
    static const char *const keys[] = {"total", "pass", "fail", "skip"};
    int seen[4] = {0, 0, 0, 0};
    char *w;
    while ((w = next_word(&rest)) != NULL) {
        char *eq = strchr(w, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        for (size_t k = 0; k < 4; k++) {
            if (strcmp(w, keys[k]) != 0)
                continue;
            if (parse_count(eq + 1, &log->end_counts[k]) != 0)
                return cli_usage_error("%s:%zu: ECP END: %s= is not a count", path, line, keys[k]);
            seen[k] = 1;
        }
    }
    for (size_t k = 0; k < 4; k++)
        if (!seen[k])
            return cli_usage_error("%s:%zu: ECP END without %s=N (a cut line?)", path, line,
                                   keys[k]);
    return 0;
}

static int add_case(pr_log *log, char *id, char *detail, ec_verdict v, size_t line)
{
    if (log->count == log->cap) {
        size_t cap = log->cap ? 2 * log->cap : 512;
        pr_case *c = realloc(log->cases, cap * sizeof *c);
        if (c == NULL)
            return -1;
        log->cases = c;
        log->cap = cap;
    }
    log->cases[log->count++] = (pr_case){id, detail, v, line};
    return 0;
}

/* Parse the log (modified in place).  0, or EC_EXIT_USAGE after one error
 * line. */
static int parse_log(char *text, size_t len, const char *path, pr_log *log)
{
    size_t line = 0, last_case_line = 0;
    const char *last_case = NULL;
    char *p = text, *end = text + len;
    while (p < end && log->end_line == 0) {
        char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        /* CR LF is one line end; a lone CR or LF is one too. */
        char *next = eol < end ? eol + 1 : end;
        if (eol < end && *eol == '\r' && next < end && *next == '\n')
            next++;
        *eol = '\0';
        line++;
        char *s = p;
        p = next;
        while (s < eol && (*s == ' ' || *s == '\t' || *s == '\0'))
            s++;
        if (eol - s < 4 || strncmp(s, "ECP ", 4) != 0)
            continue;   /* noise */
        if (strlen(s) != (size_t)(eol - s))
            return cli_usage_error("%s:%zu: NUL byte inside an ECP line (serial noise?)", path,
                                   line);
        char *rest = s + 4;
        char *word = next_word(&rest);
        if (word == NULL)
            return cli_usage_error("%s:%zu: ECP line without a verdict", path, line);
        if (strcmp(word, "BEGIN") == 0) {
            if (log->begin_line != 0)
                return cli_usage_error("%s:%zu: a second ECP BEGIN (the first at line %zu) "
                                       "before ECP END: the board restarted%s%s",
                                       path, line, log->begin_line,
                                       last_case ? "; the last case before it was " : "",
                                       last_case ? last_case : "");
            char *format = next_word(&rest);
            if (format == NULL || strcmp(format, "1") != 0)
                return cli_usage_error("%s:%zu: ECP BEGIN: format '%s' is not 1, the one "
                                       "this emoncrypt reads",
                                       path, line, format ? format : "");
            log->begin_line = line;
            log->backend = next_word(&rest);
            log->board = next_word(&rest);
            continue;
        }
        int is_end = strcmp(word, "END") == 0;
        int v = -1;
        if (strcmp(word, "PASS") == 0)
            v = EC_VERDICT_PASS;
        else if (strcmp(word, "FAIL") == 0)
            v = EC_VERDICT_FAIL;
        else if (strcmp(word, "SKIP") == 0)
            v = EC_VERDICT_SKIP;
        if (!is_end && v < 0)
            return cli_usage_error("%s:%zu: unknown ECP line '%s' (BEGIN, PASS, FAIL, SKIP "
                                   "or END)", path, line, word);
        if (log->begin_line == 0)
            return cli_usage_error("%s:%zu: ECP %s before ECP BEGIN: the log starts in the "
                                   "middle of a run", path, line, word);
        if (is_end) {
            if (parse_end(rest, log, path, line) != 0)
                return EC_EXIT_USAGE;
            log->end_line = line;
            break;
        }
        char *id = next_word(&rest);
        if (id == NULL || !printable_word(id))
            return cli_usage_error("%s:%zu: ECP %s without a case id", path, line, word);
        while (*rest == ' ' || *rest == '\t')
            rest++;
        if (add_case(log, id, rest, (ec_verdict)v, line) != 0)
            return cli_usage_error("out of memory");
        last_case = id;
        last_case_line = line;
    }
    if (log->begin_line == 0)
        return cli_usage_error("%s: no ECP BEGIN line in %zu lines: not a port-kit "
                               "self-test log", path, line);
    if (log->end_line == 0) {
        if (last_case != NULL)
            return cli_usage_error("%s: no ECP END line: the log is cut after %zu cases (the "
                                   "last, %s, at line %zu): the board stopped, or the "
                                   "capture did",
                                   path, log->count, last_case, last_case_line);
        return cli_usage_error("%s: no ECP END line and no case after ECP BEGIN (line %zu): "
                               "the log is cut", path, log->begin_line);
    }
    return 0;
}

static int compare_ids(const void *a, const void *b)
{
    const pr_case *x = *(const pr_case *const *)a, *y = *(const pr_case *const *)b;
    return strcmp(x->id, y->id);
}

/* The counts in ECP END are the lines read, and no id is there twice. */
static int check_log(const pr_log *log, const char *path)
{
    unsigned long got[4] = {log->count, 0, 0, 0};
    for (size_t i = 0; i < log->count; i++)
        got[log->cases[i].verdict == EC_VERDICT_PASS ? 1
            : log->cases[i].verdict == EC_VERDICT_FAIL ? 2 : 3]++;
    static const char *const names[] = {"total", "pass", "fail", "skip"};
    for (size_t k = 0; k < 4; k++)
        if (got[k] != log->end_counts[k])
            return cli_usage_error("%s:%zu: ECP END says %s=%lu, but the log has %lu such "
                                   "lines: lines were lost or the counts are wrong",
                                   path, log->end_line, names[k], log->end_counts[k], got[k]);
    if (log->count == 0)
        return cli_usage_error("%s: no case between ECP BEGIN and ECP END", path);
    const pr_case **sorted = malloc(log->count * sizeof *sorted);
    if (sorted == NULL)
        return cli_usage_error("out of memory");
    for (size_t i = 0; i < log->count; i++)
        sorted[i] = &log->cases[i];
    qsort(sorted, log->count, sizeof *sorted, compare_ids);
    for (size_t i = 1; i < log->count; i++) {
        if (strcmp(sorted[i - 1]->id, sorted[i]->id) == 0) {
            size_t a = sorted[i - 1]->line, b = sorted[i]->line;
            int rc = cli_usage_error("%s: case %s is in the log twice (lines %zu and %zu)",
                                     path, sorted[i]->id, a < b ? a : b, a < b ? b : a);
            free(sorted);
            return rc;
        }
    }
    free(sorted);
    return 0;
}

/* What a case of each kind checks (the word after the id). */
static const char *requirement_of(const char *detail)
{
    size_t n = strcspn(detail, " \t");
    static const struct { const char *kind, *text; } kinds[] = {
        {"kat", "the shim's primitive gives the published known answer (FIPS 180-4, "
                "RFC 4231, NIST SP 800-38A)"},
        {"kit", "the kit's own check of the port (shim complete, random IVs, fresh-IV "
                "round trip)"},
        {"valid", "the port builds the vector's body, Authorization and ack byte for byte, "
                  "its ack check accepts only the ack, and it verifies the request back"},
        {"invalid", "the port's streaming verifier rejects the vector's request"},
        {"acceptable", "the port's strict verifier rejects this request Emoncms accepts"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen(kinds[i].kind) == n && strncmp(detail, kinds[i].kind, n) == 0)
            return kinds[i].text;
    return NULL;
}

static int build_report(const pr_log *log, ec_report *report)
{
    for (size_t i = 0; i < log->count; i++) {
        const pr_case *c = &log->cases[i];
        char section[64];
        size_t n = strcspn(c->id, "/");
        if (c->id[n] == '\0' || n == 0 || n >= sizeof section)
            snprintf(section, sizeof section, "port");
        else
            snprintf(section, sizeof section, "%.*s", (int)n, c->id);
        ec_case_result r;
        memset(&r, 0, sizeof r);
        r.id = c->id;
        r.section = section;
        r.requirement = requirement_of(c->detail);
        r.verdict = c->verdict;
        r.diff_offset = -1;
        r.message = c->detail[0] ? c->detail : NULL;
        /* A vector's case: the vector itself, to compare with what the
         * port built (the board's own FAIL lines above the ECP line have
         * the bytes). */
        char repro[300];
        if (r.verdict == EC_VERDICT_FAIL && strcmp(section, "kat") != 0
            && strcmp(section, "kit") != 0) {
            snprintf(repro, sizeof repro, "emoncrypt vectors --id '%s' --format json", c->id);
            r.repro = repro;
        }
        if (ec_report_add(report, &r) != EC_OK)
            return -1;
    }
    return 0;
}

int cmd_port_report(const ec_cli_command *self, int argc, char **argv)
{
    cli_report_outputs outputs = {0};
    int verbose = 0, rc = EC_EXIT_USAGE, c;
    uint8_t *data = NULL;
    size_t len = 0;
    pr_log log;
    ec_report *report = NULL;
    memset(&log, 0, sizeof log);

    while ((c = getopt_long(argc, argv, ":vqhV", port_report_options, NULL)) != -1) {
        switch (c) {
        case 'v': verbose = 1; break;
        case 'V':
            rc = cli_print_version();
            goto out;
        case 'h':
            cli_print_usage(self, stdout);
            rc = EC_EXIT_PASS;
            goto out;
        default:
            if (cli_common_option(c, optarg, argv, NULL, &outputs) != 0)
                goto out;
            break;
        }
    }
    if (optind + 1 < argc) {
        cli_usage_error("unexpected argument '%s' (one LOG, or - for stdin)", argv[optind + 1]);
        goto out;
    }
    const char *path = optind < argc ? argv[optind] : "-";
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    /* a report that cannot be written is exit 2 before the log is read */
    if (cli_report_outputs_check(&outputs) != 0)
        goto out;
    if (cli_read_file(path, &data, &len) != 0)
        goto out;
    if (parse_log((char *)data, len, name, &log) != 0 || check_log(&log, name) != 0)
        goto out;

    char target[160];
    snprintf(target, sizeof target, "%s on %s", log.backend ? log.backend : "unknown",
             log.board ? log.board : "unknown");
    report = ec_report_new("port", "client", target);
    if (report == NULL || build_report(&log, report) != 0) {
        cli_usage_error("out of memory");
        goto out;
    }
    ec_report_set_run(report, NULL, 0, 0);
    cli_report_console(report, stdout, outputs.quiet, verbose, "%zu cases of the port kit (%s) in %s",
                       ec_report_count(report), target, name);
    if (cli_report_outputs_write(report, &outputs) != 0)
        goto out;
    rc = ec_report_exit_code(report) ? EC_EXIT_FAIL : EC_EXIT_PASS;
out:
    ec_report_free(report);
    free(log.cases);
    free(data);
    return rc;
}
