/* emoncrypt CLI — what every subcommand shares: the command record, exit
 * codes, one-line error reporting, and argument parsers for the things
 * several commands take (hex keys and IVs, profiles, input text).
 *
 * Error convention: a parser that rejects its input prints exactly one
 * line "emoncrypt CMD: WHAT: WHY" on stderr and returns -1; the command
 * then returns EC_EXIT_USAGE.  Parsers never print a key's value.
 */
#ifndef EMONCRYPT_CLI_H
#define EMONCRYPT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every command. */
enum {
    EC_EXIT_PASS = 0,   /* done; every check passed */
    EC_EXIT_FAIL = 1,   /* ran, and at least one check failed */
    EC_EXIT_USAGE = 2   /* bad arguments, unreadable input, no connection */
};

typedef struct ec_cli_command ec_cli_command;

/* A subcommand: argv[0] is the command's name, argv[1..] its arguments.
 * Returns one of the EC_EXIT_* codes. */
typedef int (*ec_cli_fn)(const ec_cli_command *self, int argc, char **argv);

struct ec_cli_command {
    const char *name;      /* "encode" */
    ec_cli_fn fn;
    const char *summary;   /* one line for `emoncrypt --help` */
    const char *usage;     /* "encode --apikey HEX … PLAINTEXT|-\n\nOptions:\n…" */
};

/* The table (main.c), in the order of commands.h. */
extern const ec_cli_command ec_cli_commands[];
extern const size_t ec_cli_command_count;

/* The row named name, or NULL. */
const ec_cli_command *cli_find_command(const char *name);

/* "usage: emoncrypt " + c->usage, to out. */
void cli_print_usage(const ec_cli_command *c, FILE *out);

/* -V, --version (every command and emoncrypt itself): prints
 * "emoncrypt VERSION" on stdout; returns EC_EXIT_PASS. */
int cli_print_version(void);

/* Sets the command name error lines start with ("emoncrypt encode: ");
 * NULL for plain "emoncrypt: ".  main() calls it before dispatching. */
void cli_set_command(const char *name);

/* Prints "emoncrypt CMD: " + the formatted message + newline on stderr
 * and returns EC_EXIT_USAGE, so a command can `return cli_usage_error(…)`. */
int cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Same line, for a failure that is not a usage error; returns EC_EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Call from a getopt_long loop when it returns '?' or ':' (option strings
 * start with ':').  Prints "unknown option --x" / "--x needs a value" and
 * returns EC_EXIT_USAGE. */
int cli_option_error(int getopt_result, char **argv);

/* Exactly 32 hex digits (either case) -> 16 bytes.  opt names the option
 * in the error line ("--apikey").  Never echoes the text: it may be a key. */
int cli_parse_hex16(const char *opt, const char *text, uint8_t out[16]);

/* A decimal number from lo to hi (strtod: "2", "0.5", "1e3") -> *out.
 * Prints "OPT: expected a number from LO to HI, got 'TEXT'" and returns
 * -1 otherwise. */
int cli_parse_number(const char *opt, const char *text, double lo, double hi, double *out);

/* A user id: 1 to 20 decimal digits.  Returns 0, or prints
 * "OPT: expected the numeric user id, got 'TEXT'" and returns -1. */
int cli_parse_userid(const char *opt, const char *text);

/* A profile name (aes128cbc, aes128cbcgz, legacy) -> ec_profile value. */
int cli_parse_profile(const char *opt, const char *text, int *profile);

/* text must be one of the NULL-terminated choices; *index = its position. */
int cli_parse_choice(const char *opt, const char *text,
                     const char *const *choices, int *index);

/* A piece of input given on the command line:
 *   "-"      read all of stdin
 *   "@PATH"  read all of the file PATH
 *   else     the argument's own bytes
 * On success *data is malloc'd (NUL-terminated, *len excludes it); the
 * caller frees it.  what names it in the error line ("PLAINTEXT"). */
int cli_read_input(const char *what, const char *arg, uint8_t **data,
                   size_t *len);

/* Reads all of a file (path "-" = stdin) the same way. */
int cli_read_file(const char *path, uint8_t **data, size_t *len);

/* Long-only options several commands share get these codes, above every
 * command's own (which start at 256), so the shared parsers below can
 * recognise them in any command's getopt_long loop. */
enum {
    CLI_OPT_USERNAME = 0x1000,
    CLI_OPT_JUNIT,
    CLI_OPT_JSON,
    CLI_OPT_HTML,
    CLI_OPT_SHOW_SECRETS,
    CLI_OPT_CASE,
    CLI_OPT_SECTION,
    CLI_OPT_EXCLUDE
};

/* What a shared option parser returns for one getopt_long result. */
enum {
    CLI_OPTION_BAD = -1,       /* it was this parser's, and wrong: the error
                                * line is printed; exit EC_EXIT_USAGE */
    CLI_OPTION_NOT_MINE = 0,   /* not this parser's option */
    CLI_OPTION_TAKEN = 1       /* parsed and stored */
};

/* The account a command posts as or judges for:
 *   -u, --userid N     digits only
 *   -k, --apikey HEX   32 hex digits; apikey_hex keeps the text as typed
 *                      (the suites re-derive the key from it), apikey the
 *                      bytes (callers wipe it before returning)
 *   -p, --profile P    aes128cbc, aes128cbcgz or legacy
 *   --username U       (CLI_OPT_USERNAME) the legacy profile's username
 * The caller sets the default profile before parsing. */
typedef struct {
    const char *userid;
    const char *apikey_hex;
    uint8_t apikey[16];
    int profile;
    const char *username;
} cli_identity;

/* Parses c (a getopt_long result) and its arg into id when c is one of
 * the identity options above.  Returns CLI_OPTION_*. */
int cli_identity_option(int c, const char *arg, cli_identity *id);

/* After parsing: with the legacy profile, --username must be given.
 * Returns 0, or prints "--profile legacy needs --username" and returns -1. */
int cli_identity_check_legacy(const cli_identity *id, int legacy_profile);

/* Where a command that produces an ec_report writes it, and how:
 *   --junit FILE, --json FILE, --html FILE   (CLI_OPT_JUNIT/JSON/HTML)
 *   -q, --quiet                               quiet = 1
 *   --show-secrets                            (CLI_OPT_SHOW_SECRETS)
 * quiet means what the command's help says it means. */
typedef struct {
    const char *junit;
    const char *json;
    const char *html;
    int quiet;
    int show_secrets;
} cli_report_outputs;

/* Stores c and its arg into out when c is one of the options above.
 * Returns CLI_OPTION_NOT_MINE or CLI_OPTION_TAKEN. */
int cli_report_outputs_option(int c, const char *arg, cli_report_outputs *out);

struct ec_report;

/* Writes report to each file out names (JUnit, then JSON, then HTML).
 * Returns 0, or prints "--junit: cannot write PATH" (etc.) for the first
 * that fails and returns -1. */
int cli_report_outputs_write(const struct ec_report *report, const cli_report_outputs *out);

/* --case, --section, --exclude (CLI_OPT_CASE/SECTION/EXCLUDE, test-server
 * and test-client): c and its arg into sel (common/select.h's ec_select,
 * passed as void * so that this header needs no suite header).  Returns
 * CLI_OPTION_* (BAD only when out of memory). */
int cli_select_option(int c, const char *arg, void *sel);

/* Before any traffic (issue 13): path can be written (opened for append,
 * created when missing and then removed again; "-" and NULL pass).  Else
 * prints "OPT: cannot write PATH: WHY" and returns -1 (exit EC_EXIT_USAGE). */
int cli_check_output_path(const char *opt, const char *path);
/* Write j (jansson, indented, a newline at the end) to path, '-' =
 * stdout, and take its reference (j may be NULL: out of memory).  0, or
 * -1 after an error line naming opt and path. */
struct json_t;
int cli_write_json(const char *opt, const char *path, struct json_t *j);
/* The same for --junit, --json and --html. */
int cli_report_outputs_check(const cli_report_outputs *out);

/* The console part of a run's report, with ONE summary (issue 13): the
 * rows (only the failures, ec_report_is_failure, when fails_only), then
 *   "emoncrypt CMD: " + fmt… + " (strict)" for a strict report + ": N PASS,
 *   N FAIL, N NON-STRICT, N INFO, N SKIP, N INCOMPLETE"
 *   "strict: the N NON-STRICT count as failures"   (strict, when N > 0)
 *   "result: OK|FAIL|INCOMPLETE"                   (ec_report_exit_code)
 * every count from the whole report.  Returns 0, or -1 on a write error. */
int cli_report_console(const struct ec_report *report, FILE *out, int fails_only, int verbose,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The default: branch of a getopt_long loop: c is parsed by
 * cli_identity_option (when id is not NULL), else by
 * cli_report_outputs_option (when out is not NULL), else it is an unknown
 * option or a missing value (cli_option_error).  Returns 0 when stored;
 * -1 after printing the one error line (the command exits EC_EXIT_USAGE). */
int cli_common_option(int c, const char *arg, char **argv, cli_identity *id,
                      cli_report_outputs *out);

/* Installs handler for SIGINT and SIGTERM (sigaction, no flags), so a
 * long-running command stops cleanly and reports on Ctrl-C. */
void cli_on_stop_signals(void (*handler)(int));

/* Puts SIGINT and SIGTERM back to their default action. */
void cli_default_stop_signals(void);

/* Writes s single-quoted for a POSIX shell ('it'\''s'). */
void cli_put_shell_quoted(FILE *out, const char *s);

/* The default reference-vector file (issue 15): $EMONCRYPT_VECTORS if set;
 * else, for the build tree's own binary, the source tree's
 * vectors/emoncms_input_v1.json; else PREFIX/share/emoncrypt/vectors/…
 * found relative to the running executable (/proc/self/exe).  Returns 0
 * with the path in path, or -1 with a one-line reason in path (the
 * command then exits EC_EXIT_USAGE: never fewer cases in silence). */
int cli_default_vectors(char *path, size_t cap);

#endif
