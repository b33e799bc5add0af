/* emoncrypt — the command-line entry point: dispatches argv[1] to one row
 * of the command table (commands.h) and answers the global options. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

#ifndef EMONCRYPT_VERSION
#define EMONCRYPT_VERSION "unknown"
#endif

const ec_cli_command ec_cli_commands[] = {
#define EC_CLI_ROW_(ident, name, summary) {name, cmd_##ident, summary, cmd_##ident##_usage},
    EC_CLI_COMMANDS(EC_CLI_ROW_)
#undef EC_CLI_ROW_
};
const size_t ec_cli_command_count =
    sizeof ec_cli_commands / sizeof ec_cli_commands[0];

static void print_main_help(FILE *out)
{
    fputs("usage: emoncrypt [--version] [--help] COMMAND [ARGS]\n"
          "\n"
          "Conformance suite and reference vectors for the Emoncms encrypted\n"
          "input protocol (AES-128-CBC + HMAC-SHA256, Content-Type: aes128cbc).\n"
          "\n"
          "Commands:\n", out);
    size_t width = 0;
    for (size_t i = 0; i < ec_cli_command_count; i++)
        if (strlen(ec_cli_commands[i].name) > width)
            width = strlen(ec_cli_commands[i].name);
    for (size_t i = 0; i < ec_cli_command_count; i++)
        fprintf(out, "  %-*s  %s\n", (int)width, ec_cli_commands[i].name,
                ec_cli_commands[i].summary);
    fputs("\n"
          "'emoncrypt help COMMAND' or 'emoncrypt COMMAND --help' shows a\n"
          "command's options.\n"
          "\n"
          "Exit codes: 0 pass, 1 at least one failure, 2 usage or connection error.\n",
          out);
}

const char cmd_help_usage[] =
    "help [COMMAND]\n"
    "\n"
    "Without COMMAND, lists the commands; with it, shows that command's\n"
    "synopsis and options (the same text as 'emoncrypt COMMAND --help').\n"
    "\n"
    "Options:\n"
    "  -h, --help            show this help\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt help\n"
    "  emoncrypt help test-server\n";

int cmd_help(const ec_cli_command *self, int argc, char **argv)
{
    if (argc > 2)
        return cli_usage_error("expected at most one COMMAND, got %d", argc - 1);
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        cli_print_usage(self, stdout);
        return EC_EXIT_PASS;
    }
    if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
        return cli_print_version();
    if (argc < 2) {
        print_main_help(stdout);
        return EC_EXIT_PASS;
    }
    const ec_cli_command *c = cli_find_command(argv[1]);
    if (c == NULL)
        return cli_usage_error("'%s' is not an emoncrypt command (see 'emoncrypt --help')",
                               argv[1]);
    cli_print_usage(c, stdout);
    return EC_EXIT_PASS;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help(stderr);
        return EC_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
        print_main_help(stdout);
        return EC_EXIT_PASS;
    }
    if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
        return cli_print_version();
    }
    /* For scripts and the tests: every command name, one per line. */
    if (strcmp(first, "--list-commands") == 0) {
        for (size_t i = 0; i < ec_cli_command_count; i++)
            puts(ec_cli_commands[i].name);
        return EC_EXIT_PASS;
    }
    if (first[0] == '-')
        return cli_usage_error("unknown option %s (see 'emoncrypt --help')", first);

    const ec_cli_command *c = cli_find_command(first);
    if (c == NULL)
        return cli_usage_error("'%s' is not an emoncrypt command (see 'emoncrypt --help')",
                               first);
    cli_set_command(c->name);
    optind = 1;
    return c->fn(c, argc - 1, argv + 1);
}
