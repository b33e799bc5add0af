/* emoncrypt CLI — the table of subcommands.
 *
 * One row per subcommand: X(ident, "name", "one-line summary").  The row
 * declares, and main.c's table refers to, two things that the command's
 * own file harness/cli/cmd_<ident>.c defines:
 *
 *   int cmd_<ident>(const ec_cli_command *self, int argc, char **argv);
 *   const char cmd_<ident>_usage[];   synopsis line, blank line, options
 *
 * So adding a command is one row here plus one .c file (the build globs
 * harness/cli for .c files).  Rows are listed in `emoncrypt --help`
 * in this order.  A command whose name has a dash uses an underscore in
 * its ident: X(test_server, "test-server", "…").
 */
#ifndef EMONCRYPT_CLI_COMMANDS_H
#define EMONCRYPT_CLI_COMMANDS_H

#include "cli.h"

#define EC_CLI_COMMANDS(X) \
    X(encode,  "encode",  "build an encrypted request, print it and its expected ack") \
    X(vectors, "vectors", "list, filter and export the reference vectors") \
    X(test_server, "test-server", "run the server-role conformance suite against an Emoncms URL") \
    X(serve,   "serve",   "run the reference Emoncms encrypted-input server") \
    X(serve_transcript, "serve-transcript", "answer test-server from a recorded transcript (a real server kept in CI)") \
    X(test_client, "test-client", "play Emoncms to a device: check its requests and its reactions") \
    X(send,    "send",    "post readings as a careful device does (the reference client)") \
    X(explain, "explain", "decode a request layer by layer and name the client mistake in it") \
    X(replay,  "replay",  "re-send captured device traffic to a server and compare the answers") \
    X(load,    "load",    "simulate a fleet of devices posting to a server: rate, latency, errors") \
    X(fleet,   "fleet",   "export a fleet as a Tsung scenario and corpus; check what a Tsung run did") \
    X(port_report, "port-report", "read a port-kit self-test's serial log (a board, QEMU): JUnit, JSON, HTML") \
    X(help,    "help",    "show the help of emoncrypt or of one command")

#define EC_CLI_DECLARE_(ident, name, summary) \
    int cmd_##ident(const ec_cli_command *self, int argc, char **argv); \
    extern const char cmd_##ident##_usage[];
EC_CLI_COMMANDS(EC_CLI_DECLARE_)
#undef EC_CLI_DECLARE_

#endif
