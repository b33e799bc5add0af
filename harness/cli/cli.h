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

/* Writes s single-quoted for a POSIX shell ('it'\''s'). */
void cli_put_shell_quoted(FILE *out, const char *s);

#endif
