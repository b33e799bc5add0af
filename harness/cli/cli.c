/* see cli.h */
#include "cli.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/select.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"

/* Inputs larger than this are a mistake, not a plaintext. */
#define CLI_INPUT_MAX ((size_t)64 * 1024 * 1024)

static const char *current_command;

const ec_cli_command *cli_find_command(const char *name)
{
    for (size_t i = 0; i < ec_cli_command_count; i++)
        if (strcmp(ec_cli_commands[i].name, name) == 0)
            return &ec_cli_commands[i];
    return NULL;
}

void cli_print_usage(const ec_cli_command *c, FILE *out)
{
    fprintf(out, "usage: emoncrypt %s", c->usage);
}

int cli_print_version(void)
{
    printf("emoncrypt %s\n", EMONCRYPT_VERSION);
    return EC_EXIT_PASS;
}

void cli_set_command(const char *name)
{
    current_command = name;
}

__attribute__((format(printf, 1, 0))) static void vreport(const char *fmt, va_list ap)
{
    if (current_command != NULL)
        fprintf(stderr, "emoncrypt %s: ", current_command);
    else
        fputs("emoncrypt: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return EC_EXIT_USAGE;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return EC_EXIT_FAIL;
}

int cli_option_error(int getopt_result, char **argv)
{
    /* getopt_long has already advanced optind past the offending word. */
    const char *word = optind > 0 ? argv[optind - 1] : "?";
    const char *cmd = current_command != NULL ? current_command : "";
    const char *space = current_command != NULL ? " " : "";
    if (getopt_result == ':')
        return cli_usage_error("%s needs a value (see 'emoncrypt %s%s--help')",
                               word, cmd, space);
    if (optopt != 0 && strncmp(word, "--", 2) != 0)
        return cli_usage_error("unknown option -%c (see 'emoncrypt %s%s--help')",
                               optopt, cmd, space);
    /* "--apikye=KEY": name the option, never the value (it may be a key). */
    int name_len = (int)strcspn(word, "=");
    if (word[name_len] == '=')
        return cli_usage_error("%.*s: unknown option, or one that takes no value "
                               "(see 'emoncrypt %s%s--help')", name_len, word, cmd, space);
    return cli_usage_error("unknown option %.*s (see 'emoncrypt %s%s--help')",
                           name_len, word, cmd, space);
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int cli_parse_hex16(const char *opt, const char *text, uint8_t out[16])
{
    size_t n = strlen(text);
    if (n != 32) {
        cli_usage_error("%s: expected 32 hex digits, got %zu", opt, n);
        return -1;
    }
    for (size_t i = 0; i < 32; i++) {
        if (hex_value((unsigned char)text[i]) < 0) {
            /* Name the position only: the text may be a write API key. */
            cli_usage_error("%s: expected 32 hex digits, character %zu is not one",
                            opt, i + 1);
            return -1;
        }
    }
    for (size_t i = 0; i < 16; i++)
        out[i] = (uint8_t)(hex_value((unsigned char)text[2 * i]) << 4 |
                           hex_value((unsigned char)text[2 * i + 1]));
    return 0;
}

int cli_parse_choice(const char *opt, const char *text,
                     const char *const *choices, int *index)
{
    for (int i = 0; choices[i] != NULL; i++) {
        if (strcmp(text, choices[i]) == 0) {
            *index = i;
            return 0;
        }
    }
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; choices[i] != NULL && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s",
                         i == 0 ? "" : ", ", choices[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    cli_usage_error("%s: unknown value '%s' (expected one of: %s)", opt, text, list);
    return -1;
}

int cli_parse_profile(const char *opt, const char *text, int *profile)
{
    int p = ec_profile_from_name(text);
    if (p < 0) {
        cli_usage_error("%s: unknown profile '%s' (expected aes128cbc, aes128cbcgz or legacy)",
                        opt, text);
        return -1;
    }
    *profile = p;
    return 0;
}

/* Reads everything from f into a malloc'd NUL-terminated buffer. */
static int slurp(FILE *f, const char *name, uint8_t **data, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        cli_usage_error("%s: out of memory", name);
        return -1;
    }
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= CLI_INPUT_MAX) {
                free(buf);
                cli_usage_error("%s: larger than %zu bytes", name, CLI_INPUT_MAX);
                return -1;
            }
            uint8_t *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                cli_usage_error("%s: out of memory", name);
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int err = errno;
                free(buf);
                cli_usage_error("%s: cannot read: %s", name, strerror(err));
                return -1;
            }
            break;
        }
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    if (strcmp(path, "-") == 0)
        return slurp(stdin, "stdin", data, len);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cli_usage_error("%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int rc = slurp(f, path, data, len);
    fclose(f);
    return rc;
}

int cli_read_input(const char *what, const char *arg, uint8_t **data,
                   size_t *len)
{
    if (strcmp(arg, "-") == 0)
        return cli_read_file("-", data, len);
    if (arg[0] == '@') {
        if (arg[1] == 0) {
            cli_usage_error("%s: '@' needs a file name after it", what);
            return -1;
        }
        return cli_read_file(arg + 1, data, len);
    }
    size_t n = strlen(arg);
    uint8_t *copy = malloc(n + 1);
    if (copy == NULL) {
        cli_usage_error("%s: out of memory", what);
        return -1;
    }
    memcpy(copy, arg, n + 1);
    *data = copy;
    *len = n;
    return 0;
}

int cli_parse_number(const char *opt, const char *text, double lo, double hi, double *out)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (!text[0] || *end || !isfinite(v) || v < lo || v > hi) {
        cli_usage_error("%s: expected a number from %g to %g, got '%s'", opt, lo, hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_userid(const char *opt, const char *text)
{
    size_t n = strlen(text);
    if (!n || n > 20 || strspn(text, "0123456789") != n) {
        cli_usage_error("%s: expected the numeric user id, got '%s'", opt, text);
        return -1;
    }
    return 0;
}

int cli_identity_option(int c, const char *arg, cli_identity *id)
{
    switch (c) {
    case 'u':
        if (cli_parse_userid("--userid", arg) != 0)
            return CLI_OPTION_BAD;
        id->userid = arg;
        return CLI_OPTION_TAKEN;
    case 'k':
        if (cli_parse_hex16("--apikey", arg, id->apikey) != 0)
            return CLI_OPTION_BAD;
        id->apikey_hex = arg;
        return CLI_OPTION_TAKEN;
    case 'p':
        if (cli_parse_profile("--profile", arg, &id->profile) != 0)
            return CLI_OPTION_BAD;
        return CLI_OPTION_TAKEN;
    case CLI_OPT_USERNAME:
        id->username = arg;
        return CLI_OPTION_TAKEN;
    default:
        return CLI_OPTION_NOT_MINE;
    }
}

int cli_identity_check_legacy(const cli_identity *id, int legacy_profile)
{
    if (id->profile == legacy_profile && id->username == NULL) {
        cli_usage_error("--profile legacy needs --username");
        return -1;
    }
    return 0;
}

int cli_report_outputs_option(int c, const char *arg, cli_report_outputs *out)
{
    switch (c) {
    case CLI_OPT_JUNIT: out->junit = arg; break;
    case CLI_OPT_JSON: out->json = arg; break;
    case CLI_OPT_HTML: out->html = arg; break;
    case 'q': out->quiet = 1; break;
    case CLI_OPT_SHOW_SECRETS: out->show_secrets = 1; break;
    default: return CLI_OPTION_NOT_MINE;
    }
    return CLI_OPTION_TAKEN;
}

int cli_report_outputs_write(const struct ec_report *report, const cli_report_outputs *out)
{
    const struct {
        const char *path;
        ec_report_format format;
        const char *opt;
    } files[] = {
        {out->junit, EC_REPORT_JUNIT, "--junit"},
        {out->json, EC_REPORT_JSON, "--json"},
        {out->html, EC_REPORT_HTML, "--html"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (files[i].path == NULL)
            continue;
        if (ec_report_write_path(report, files[i].format, files[i].path) != 0) {
            cli_usage_error("%s: cannot write %s", files[i].opt, files[i].path);
            return -1;
        }
    }
    return 0;
}

int cli_select_option(int c, const char *arg, void *sel)
{
    ec_select_kind kind = c == CLI_OPT_CASE ? EC_SELECT_CASE : c == CLI_OPT_SECTION ? EC_SELECT_SECTION : EC_SELECT_EXCLUDE;
    if (c != CLI_OPT_CASE && c != CLI_OPT_SECTION && c != CLI_OPT_EXCLUDE)
        return CLI_OPTION_NOT_MINE;
    if (ec_select_add(sel, kind, arg) != 0) {
        cli_usage_error("out of memory");
        return CLI_OPTION_BAD;
    }
    return CLI_OPTION_TAKEN;
}

int cli_check_output_path(const char *opt, const char *path)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return 0;
    struct stat st;
    int existed = stat(path, &st) == 0;
    if (existed && S_ISDIR(st.st_mode)) {
        cli_usage_error("%s: cannot write %s: it is a directory", opt, path);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        cli_usage_error("%s: cannot write %s: %s", opt, path, strerror(errno));
        return -1;
    }
    close(fd);
    if (!existed)
        unlink(path);   /* written at the end; no empty report after a set-up error */
    return 0;
}

int cli_report_outputs_check(const cli_report_outputs *out)
{
    return cli_check_output_path("--junit", out->junit) || cli_check_output_path("--json", out->json) ||
                   cli_check_output_path("--html", out->html)
               ? -1
               : 0;
}

int cli_report_console(const struct ec_report *report, FILE *out, int fails_only, int verbose,
                       const char *fmt, ...)
{
    int strict = ec_report_is_strict(report);
    if (ec_report_write_console_opts(report, out, -1, verbose,
                                     EC_CONSOLE_NO_SUMMARY | (fails_only ? EC_CONSOLE_FAILS_ONLY : 0)) != 0)
        return -1;
    ec_report_totals t = ec_report_get_totals(report);
    size_t shown = t.total;
    if (fails_only) {
        shown = 0;
        for (size_t i = 0; i < ec_report_count(report); i++)
            shown += ec_report_is_failure(report, ec_report_result(report, i));
    }
    if (shown)
        fputc('\n', out);   /* rows above */
    fprintf(out, "emoncrypt%s%s: ", current_command ? " " : "", current_command ? current_command : "");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    static const ec_verdict order[] = { EC_VERDICT_PASS, EC_VERDICT_FAIL, EC_VERDICT_NON_STRICT,
                                        EC_VERDICT_INFO, EC_VERDICT_SKIP, EC_VERDICT_INCOMPLETE };
    fputs(strict ? " (strict):" : ":", out);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        fprintf(out, "%s %zu %s", i ? "," : "", t.by_verdict[order[i]], ec_verdict_name(order[i]));
    if (strict && t.by_verdict[EC_VERDICT_NON_STRICT])
        fprintf(out, "\nstrict: the %zu NON-STRICT count as failures", t.by_verdict[EC_VERDICT_NON_STRICT]);
    int rc = ec_report_exit_code(report);
    fprintf(out, "\nresult: %s\n", rc == 1 ? "FAIL" : rc == 2 ? "INCOMPLETE" : "OK");
    return ferror(out) ? -1 : 0;
}

int cli_common_option(int c, const char *arg, char **argv, cli_identity *id,
                      cli_report_outputs *out)
{
    int taken = CLI_OPTION_NOT_MINE;
    if (id != NULL)
        taken = cli_identity_option(c, arg, id);
    if (taken == CLI_OPTION_NOT_MINE && out != NULL)
        taken = cli_report_outputs_option(c, arg, out);
    if (taken == CLI_OPTION_NOT_MINE)
        cli_option_error(c, argv);
    return taken == CLI_OPTION_TAKEN ? 0 : -1;
}

int cli_write_json(const char *opt, const char *path, json_t *j)
{
    int to_stdout = strcmp(path, "-") == 0;
    int bad = !j || (to_stdout ? json_dumpf(j, stdout, JSON_INDENT(2)) != 0
                               : json_dump_file(j, path, JSON_INDENT(2)) != 0);
    json_decref(j);
    if (!bad && to_stdout)
        bad = putchar('\n') == EOF || fflush(stdout) != 0;
    if (bad) {
        cli_usage_error("%s: cannot write %s", opt, path);
        return -1;
    }
    return 0;
}

void cli_on_stop_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_default_stop_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

void cli_put_shell_quoted(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s != 0; s++) {
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    }
    fputc('\'', out);
}
