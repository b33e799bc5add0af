/* emoncrypt test-server — run the server-role conformance suite
 * (suites/server) against an Emoncms base URL and report. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "emoncrypt/message.h"
#include "emoncrypt/report.h"
#include "server/server_suite.h"

const char cmd_test_server_usage[] =
    "test-server URL --userid N --apikey HEX [options]\n"
    "\n"
    "Sends about 140 generated conformance cases, plus the reference vectors\n"
    "re-encrypted under your key, to the Emoncms at URL (its base, e.g.\n"
    "http://127.0.0.1:8080 or https://host/emoncms: requests go to\n"
    "URL/input/post, URL/input/bulk and, for legacy, URL/input/encrypted) and\n"
    "judges each answer against SPEC.md.  Every row it causes to be stored goes\n"
    "to --node, or (reference vectors) to a prefix of it as long as the\n"
    "vector's node name: at most six nodes.  Exit 0: no FAIL; 1: a FAIL;\n"
    "2: usage error, the URL does not answer, or a set-up error found by a\n"
    "first correct post (wrong key or user id, a URL that is not an Emoncms):\n"
    "one line, no case run.  The API key never appears in any output.\n"
    "\n"
    "Options:\n"
    "  -u, --userid N        the account's user id\n"
    "  -k, --apikey HEX      the account's write API key (32 hex digits)\n"
    "  -p, --profile P       which transport to test; without it: aes128cbc\n"
    "                        plus the aes128cbcgz cases.  aes128cbc: the\n"
    "                        aes128cbcgz cases are left out (SKIP);\n"
    "                        aes128cbcgz: the post, bulk, ack and crypto-fault\n"
    "                        cases are sent compressed (Content-Type\n"
    "                        aes128cbcgz) and the server must speak it;\n"
    "                        legacy: /input/encrypted (2017 servers)\n"
    "      --username U      the account's username (legacy profile)\n"
    "      --strict          judge against the strict (hardened) profile: a\n"
    "                        NON-STRICT verdict is a failure (exit 1)\n"
    "      --case ID         run this case: the id as listed\n"
    "                        (server/4.auth/missing-header), without server/, or\n"
    "                        a shell glob ('4.auth/*') (repeatable)\n"
    "      --section S       run the cases under section S: 4, 4.auth,\n"
    "                        server/4.auth or a glob ('3.*') (repeatable; --case\n"
    "                        and --section add up)\n"
    "      --exclude P       leave out what P matches as a case or a section\n"
    "                        (repeatable).  A pattern that matches no case: exit 2\n"
    "      --node NAME       node every row is written to\n"
    "                        (default emoncrypt_conformance)\n"
    "      --timeout-ms N    per request (default 3000)\n"
    "      --rows-url URL    where to read stored rows (GET URL/emoncrypt/rows);\n"
    "                        default: URL itself when it is on loopback\n"
    "      --readkey HEX     the account's READ API key: read stored inputs back\n"
    "                        from Emoncms (GET URL/input/get/NODE?apikey=…, last\n"
    "                        values only); sent in clear over http://\n"
    "      --vectors FILE    reference vectors to re-key and send as cases\n"
    "                        server/8.vectors/TCID (default: $EMONCRYPT_VECTORS,\n"
    "                        else PREFIX/share/emoncrypt/vectors/ next to the\n"
    "                        binary; none found is an error, exit 2)\n"
    "      --no-vectors      generated cases only\n"
    "      --require gz      a server without aes128cbcgz (Emoncms before 11.2.3)\n"
    "                        FAILs; default: one probe, its gz cases SKIP + INFO\n"
    "      --server-version V  the server is Emoncms V (e.g. 10.8.5): before 11.2.3\n"
    "                        the gz cases SKIP without a probe, from 11.2.3 on a\n"
    "                        missing aes128cbcgz FAILs; a known bug is named only\n"
    "                        for versions before its fix.  Default: what GET\n"
    "                        URL/version answers when it is N.N.N, else unknown\n"
    "      --junit FILE      write JUnit XML\n"
    "      --json FILE       write a JSON report\n"
    "      --html FILE       write an HTML report\n"
    "  -v, --verbose         details for every case, not only FAILs\n"
    "  -q, --quiet           no per-case lines; only the summary and FAILs\n"
    "      --show-secrets    do not redact the API key in reports\n"
    "      --list            print the ids a run with these options would report\n"
    "                        (every filter, the vectors included) and their\n"
    "                        count; sends nothing, needs no URL, --userid, --apikey\n"
    "      --mutants         with --list: each id's mutants (the ones it must\n"
    "                        FAIL: serve --list-mutants) or why it has none\n"
    "      --no-setup-check  no set-up diagnosis before the cases (for running\n"
    "                        the suite against a mutant that refuses every post)\n"
    "      --seed N          a deterministic run, for recording and replay: the\n"
    "                        IVs, random bytes and marker values come from N (an\n"
    "                        AES-CTR keystream), the same on every run (so are\n"
    "                        the node names and the case order), and the clock\n"
    "                        is fixed (--now, else the time at the start, which a\n"
    "                        transcript records).  Never a device's way: IVs\n"
    "                        repeat across runs.  Default: the OS random source\n"
    "                        and the real clock\n"
    "      --now EPOCH       the run's clock (seconds since 1970): every time in a\n"
    "                        plaintext and every time judged derives from it\n"
    "      --record FILE     write a transcript (JSON): the server (host left out),\n"
    "                        the options a replay needs, the seed and clock, every\n"
    "                        exchange in order and each case's verdict and the\n"
    "                        totals, for `emoncrypt serve-transcript`.  Needs\n"
    "                        --seed and the reference vectors' public test key\n"
    "                        (0123456789abcdef0123456789abcdef, which the tested\n"
    "                        servers' user 1 has): any other key, --readkey or\n"
    "                        --rows-url is refused (exit 2), so that a transcript\n"
    "                        holds no secret\n"
    "  -h, --help            show this help\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "CMOCKA_MESSAGE_OUTPUT=xml (with CMOCKA_XML_FILE) gives CMocka's own XML.\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt test-server http://127.0.0.1:8080 --userid 1 --apikey $KEY\n"
    "  emoncrypt test-server http://127.0.0.1:8080 --userid 1 --apikey $KEY --profile aes128cbcgz\n"
    "      # the main cases through the compressed path\n"
    "  emoncrypt test-server http://127.0.0.1:8080 --userid 1 --apikey $KEY --profile aes128cbc\n"
    "      # no aes128cbcgz request at all\n"
    "  emoncrypt test-server http://emonpi.local --userid 1 --apikey $KEY --server-version 10.8.5\n"
    "  emoncrypt test-server http://127.0.0.1:8080 -u 1 -k $KEY --section 4.auth --section 4.ack\n"
    "  emoncrypt test-server --list --section server/8.vectors --exclude '*gz*'\n"
    "  emoncrypt test-server http://127.0.0.1:8088 -u 1 -k 0123456789abcdef0123456789abcdef \\\n"
    "      --seed 1 --no-vectors --record tests/transcripts/emoncms-11.16.8.json\n"
    "      # record a real server once; ctest replays it (serve-transcript)\n";

enum { OPT_STRICT = 256, OPT_NODE, OPT_TIMEOUT, OPT_ROWS_URL, OPT_LIST,
       OPT_VECTORS, OPT_NO_VECTORS, OPT_READKEY, OPT_REQUIRE, OPT_SERVER_VERSION,
       OPT_MUTANTS, OPT_NO_SETUP_CHECK, OPT_SEED, OPT_NOW, OPT_RECORD };

/* The public test key of the reference vectors: the only key a transcript
 * may be recorded with (the tested servers' user 1 has it). */
static const char public_test_key[] = "0123456789abcdef0123456789abcdef";

static const struct option test_server_options[] = {
    {"userid", required_argument, NULL, 'u'},
    {"apikey", required_argument, NULL, 'k'},
    {"profile", required_argument, NULL, 'p'},
    {"username", required_argument, NULL, CLI_OPT_USERNAME},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"case", required_argument, NULL, CLI_OPT_CASE},
    {"section", required_argument, NULL, CLI_OPT_SECTION},
    {"exclude", required_argument, NULL, CLI_OPT_EXCLUDE},
    {"node", required_argument, NULL, OPT_NODE},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"rows-url", required_argument, NULL, OPT_ROWS_URL},
    {"readkey", required_argument, NULL, OPT_READKEY},
    {"vectors", required_argument, NULL, OPT_VECTORS},
    {"no-vectors", no_argument, NULL, OPT_NO_VECTORS},
    {"require", required_argument, NULL, OPT_REQUIRE},
    {"server-version", required_argument, NULL, OPT_SERVER_VERSION},
    {"junit", required_argument, NULL, CLI_OPT_JUNIT},
    {"json", required_argument, NULL, CLI_OPT_JSON},
    {"html", required_argument, NULL, CLI_OPT_HTML},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"show-secrets", no_argument, NULL, CLI_OPT_SHOW_SECRETS},
    {"list", no_argument, NULL, OPT_LIST},
    {"mutants", no_argument, NULL, OPT_MUTANTS},
    {"no-setup-check", no_argument, NULL, OPT_NO_SETUP_CHECK},
    {"seed", required_argument, NULL, OPT_SEED},
    {"now", required_argument, NULL, OPT_NOW},
    {"record", required_argument, NULL, OPT_RECORD},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* "N.N.N", as Emoncms's /version answers. */
static int srv_version_ok(const char *t)
{
    int dots = 0, digits = 0;
    for (; *t; t++) {
        if (*t >= '0' && *t <= '9')
            digits++;
        else if (*t == '.' && digits && dots < 2)
            dots++, digits = 0;
        else
            return 0;
        if (digits > 4)
            return 0;
    }
    return dots == 2 && digits > 0;
}

static void list_one(void *user, const char *id, const char *requirement, const char *skip)
{
    (void)user;
    printf("%-52s %s%s%s%s\n", id, requirement, skip ? "  [SKIP: " : "", skip ? skip : "",
           skip ? "]" : "");
}

/* --list --mutants: each id's kill-matrix declaration. */
static void list_mutants_one(void *user, const char *id, const char *mutants, const char *no_mutant)
{
    (void)user;
    printf("%-52s %s%s\n", id, mutants ? "mutants: " : no_mutant ? "reason: " : "NOTHING DECLARED",
           mutants ? mutants : no_mutant ? no_mutant : "");
}

/* --list: what a run with the same options would report. */
static int list_cases(const ec_server_suite_options *opt, int mutants)
{
    size_t n = 0;
    ec_server_suite_outcome outcome;
    if ((mutants ? ec_server_suite_list_mutants(opt, list_mutants_one, NULL, &n, &outcome)
                 : ec_server_suite_list(opt, list_one, NULL, &n, &outcome)) != 0)
        return cli_usage_error("%s", outcome.message);
    printf("%zu cases\n", n);
    return EC_EXIT_PASS;
}

int cmd_test_server(const ec_cli_command *self, int argc, char **argv)
{
    ec_server_suite_options opt;
    memset(&opt, 0, sizeof opt);
    cli_identity id = {.profile = -1};   /* -1: no --profile */
    cli_report_outputs outputs = {0};
    ec_select sel = { .role = "server" };
    int verbose = 0, list = 0, mutants = 0, no_setup_check = 0, rc = EC_EXIT_USAGE;
    ec_report *report = NULL;
    const char *record = NULL;
    /* the options a replay of a transcript passes again: "--name", value */
    char **args = calloc((size_t)argc * 2 + 1, sizeof *args);
    size_t n_args = 0;
    if (!args)
        return cli_usage_error("out of memory");

    int c;
    while ((c = getopt_long(argc, argv, ":u:k:p:vqhV", test_server_options, NULL)) != -1) {
        switch (c) {
        case OPT_STRICT: opt.strict = 1; break;
        case OPT_NODE:
            if (!optarg[0] || strpbrk(optarg, "/?#&=\"\\ ")) {
                cli_usage_error("--node: expected a plain node name, got '%s'", optarg);
                goto out;
            }
            opt.node = optarg;
            break;
        case OPT_TIMEOUT: {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (!optarg[0] || *end || v < 100) {
                cli_usage_error("--timeout-ms: expected a number of milliseconds >= 100, got '%s'", optarg);
                goto out;
            }
            opt.timeout_ms = v;
            break;
        }
        case OPT_ROWS_URL: opt.rows_url = optarg; break;
        case OPT_READKEY: {
            uint8_t rk[16];
            if (cli_parse_hex16("--readkey", optarg, rk) != 0)
                goto out;
            opt.readkey = optarg;
            break;
        }
        case OPT_VECTORS: opt.vectors_path = optarg; break;
        case OPT_NO_VECTORS: opt.vectors_path = ""; break;
        case OPT_REQUIRE:
            if (strcmp(optarg, "gz") != 0) {
                cli_usage_error("--require: the only optional feature is 'gz' (aes128cbcgz), got '%s'", optarg);
                goto out;
            }
            opt.require_gz = 1;
            break;
        case OPT_SERVER_VERSION:
            if (!srv_version_ok(optarg)) {
                cli_usage_error("--server-version: expected an Emoncms version N.N.N (e.g. 10.8.5), got '%s'", optarg);
                goto out;
            }
            opt.server_version = optarg;
            break;
        case 'v': verbose = 1; break;
        case OPT_LIST: list = 1; break;
        case OPT_MUTANTS: mutants = 1; break;
        case OPT_NO_SETUP_CHECK: no_setup_check = 1; break;
        case OPT_SEED:
        case OPT_NOW: {
            char *end = NULL;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!optarg[0] || *end || optarg[0] == '-' || (c == OPT_NOW && (v == 0 || v > 4102444800ULL))) {
                cli_usage_error("--%s: expected %s, got '%s'", c == OPT_SEED ? "seed" : "now",
                                c == OPT_SEED ? "a number" : "seconds since 1970 (before 2100)", optarg);
                goto out;
            }
            if (c == OPT_SEED) {
                opt.seeded = 1;
                opt.seed = v;
            } else {
                opt.now = (int64_t)v;
            }
            break;
        }
        case OPT_RECORD: record = optarg; break;
        case 'V':
            rc = cli_print_version();
            goto out;
        case 'h':
            cli_print_usage(self, stdout);
            rc = EC_EXIT_PASS;
            goto out;
        default: {
            int sel_taken = cli_select_option(c, optarg, &sel);
            if (sel_taken == CLI_OPTION_BAD)
                goto out;
            if (sel_taken == CLI_OPTION_NOT_MINE && cli_common_option(c, optarg, argv, &id, &outputs) != 0)
                goto out;
            break;
        }
        }
        /* kept for a replay: what changes the requests or the judging */
        static const int not_replayed[] = {'k', 'q', 'v', CLI_OPT_JUNIT, CLI_OPT_JSON, CLI_OPT_HTML,
                                           CLI_OPT_SHOW_SECRETS, OPT_SEED, OPT_NOW, OPT_RECORD,
                                           OPT_READKEY, OPT_ROWS_URL};
        int keep = 1;
        for (size_t i = 0; i < sizeof not_replayed / sizeof not_replayed[0]; i++)
            keep &= c != not_replayed[i];
        for (const struct option *o = test_server_options; keep && o->name; o++) {
            if (o->val != c)
                continue;
            char *name = malloc(strlen(o->name) + 3);
            if (name)
                sprintf(name, "--%s", o->name);
            args[n_args++] = name;
            if (o->has_arg)
                args[n_args++] = strdup(optarg);
            break;
        }
    }
    opt.userid = id.userid;
    opt.apikey_hex = id.apikey_hex;
    opt.profile_set = id.profile >= 0;
    opt.profile = id.profile >= 0 ? id.profile : EC_PROFILE_AES128CBC;
    opt.username = id.username;
    opt.show_secrets = outputs.show_secrets;
    int quiet = outputs.quiet;
    opt.select = sel;
    char vectors_default[4096];
    if (!opt.vectors_path) {
        if (cli_default_vectors(vectors_default, sizeof vectors_default) != 0) {
            rc = cli_usage_error("%s (or pass --vectors FILE, or --no-vectors)", vectors_default);
            goto out;
        }
        opt.vectors_path = vectors_default;
    }
    if (mutants && !list) {
        rc = cli_usage_error("--mutants goes with --list");
        goto out;
    }
    if (list) {
        rc = list_cases(&opt, mutants);
        goto out;
    }
    if (optind >= argc) {
        rc = cli_usage_error("missing URL (the Emoncms base, e.g. http://127.0.0.1:8080)");
        goto out;
    }
    if (optind + 1 < argc) {
        rc = cli_usage_error("unexpected argument '%s'", argv[optind + 1]);
        goto out;
    }
    opt.base_url = argv[optind];
    if (!opt.userid || !opt.apikey_hex) {
        rc = cli_usage_error("--userid and --apikey are required");
        goto out;
    }
    if (record) {
        if (!opt.seeded) {
            rc = cli_usage_error("--record needs --seed N (a transcript is replayed with the same seed)");
            goto out;
        }
        if (strcasecmp(opt.apikey_hex, public_test_key) != 0 || opt.readkey || opt.rows_url) {
            rc = cli_usage_error("--record: a transcript holds no secret, so it is recorded only with "
                                 "the reference vectors' public test key as --apikey and without "
                                 "--readkey or --rows-url");
            goto out;
        }
        for (size_t i = 0; i < n_args; i++)
            if (!args[i]) {
                rc = cli_usage_error("out of memory");
                goto out;
            }
        FILE *probe = fopen(record, "a");
        if (!probe) {
            rc = cli_usage_error("--record: cannot write %s", record);
            goto out;
        }
        fclose(probe);
        opt.record = 1;
    }
    if (cli_identity_check_legacy(&id, EC_PROFILE_LEGACY) != 0)
        goto out;
    /* a report that cannot be written is exit 2 now, not after the traffic */
    if (cli_report_outputs_check(&outputs) != 0)
        goto out;
    opt.progress = !quiet;

    opt.check_setup = !no_setup_check;   /* a wrong key, user id or URL: one line, exit 2 */
    report = ec_report_new("server", "server", opt.base_url);
    if (!report || ec_report_set_secret(report, opt.apikey_hex, opt.show_secrets) != EC_OK) {
        rc = cli_usage_error("out of memory");
        goto out;
    }
    time_t started = time(NULL);
    ec_server_suite_outcome outcome;
    if (ec_server_suite_run(&opt, report, &outcome) != 0) {
        rc = cli_usage_error("%s", outcome.message);
        goto out;
    }
    ec_report_set_run(report, ec_profile_name(opt.profile), started, outcome.elapsed_ms);
    cli_report_console(report, stdout, quiet, verbose, "%zu cases against %s in %ld ms",
                       ec_report_count(report), opt.base_url, outcome.elapsed_ms);
    if (cli_report_outputs_write(report, &outputs) != 0)
        goto out;
    if (record) {
        char err[300] = "";
        if (ec_server_suite_write_transcript(&opt, report, (const char *const *)args, n_args, record,
                                             err, sizeof err) != 0) {
            rc = cli_usage_error("--record: %s", err);
            goto out;
        }
    }
    rc = ec_report_exit_code(report) ? EC_EXIT_FAIL : EC_EXIT_PASS;
out:
    for (size_t i = 0; i < n_args; i++)
        free(args[i]);
    free(args);
    ec_report_free(report);
    ec_select_free(&sel);
    memset(id.apikey, 0, sizeof id.apikey);
    return rc;
}
