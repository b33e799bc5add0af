/* emoncrypt explain — decode one request layer by layer and name the client
 * mistake that makes it valid.  The work is explain.h's; this file reads
 * the request (arguments or a capture file) and prints the explanation. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "emoncrypt/capture.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/explain.h"

const char cmd_explain_usage[] =
    "explain --apikey HEX [options] BODY|-|@FILE\n"
    "       explain --apikey HEX --capture FILE.jsonl [--index K] [options]\n"
    "\n"
    "Decodes an encrypted request layer by layer (route, Content-Type,\n"
    "Authorization, base64 alphabet and padding, IV, ciphertext length,\n"
    "PKCS#7 bytes, plaintext, HMAC expected vs given, the answer and the ack\n"
    "a correct server sends) and, when it is wrong, tries every known client\n"
    "mistake (standard alphabet, hex key used as ASCII, HMAC over the\n"
    "ciphertext, HMAC with a trailing NUL, zero padding, no pad block, IV\n"
    "appended, broken CBC chaining, gzip instead of zlib, uppercase HMAC) and\n"
    "every pair of them, and says which one reproduces the request byte for\n"
    "byte.  BODY is the request body as sent ('-' reads stdin, '@FILE' a\n"
    "file; one trailing newline is dropped from both; a body that starts with\n"
    "'-' goes after '--').  --capture reads the requests a `test-client\n"
    "--capture` recorded, and also says when one repeats an earlier IV.\n"
    "The API key is never printed.  Exit 0: valid; 1: invalid (explained);\n"
    "2: usage error.\n"
    "\n"
    "Options:\n"
    "  -k, --apikey HEX        the write API key of the account (32 hex digits)\n"
    "  -u, --userid N          the user the key belongs to (default: the user\n"
    "                          id in Authorization)\n"
    "  -a, --authorization A   the Authorization header sent (USERID:HMAC)\n"
    "  -t, --content-type T    the Content-Type sent (default aes128cbc)\n"
    "      --path P            the path posted to (default /input/post)\n"
    "      --method M          the HTTP method (default POST)\n"
    "      --username U        the account's username (legacy profile)\n"
    "      --capture FILE      explain the requests of a capture file\n"
    "  -i, --index K           only the K-th request of the capture (from 0)\n"
    "      --strict            judge as a strict server, not as Emoncms\n"
    "  -f, --format F          text (default) or json\n"
    "  -h, --help              show this help\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt explain --apikey $KEY --authorization 1:HMAC BODY\n"
    "  emoncrypt explain --apikey $KEY --capture device.jsonl --index 3\n"
    "  emoncrypt explain --apikey $KEY --format json @body.txt\n";

enum { FORMAT_TEXT, FORMAT_JSON };
static const char *const format_names[] = {"text", "json", NULL};

enum { OPT_PATH = 256, OPT_METHOD, OPT_STRICT };

static const struct option explain_options[] = {
    {"apikey", required_argument, NULL, 'k'},
    {"userid", required_argument, NULL, 'u'},
    {"authorization", required_argument, NULL, 'a'},
    {"content-type", required_argument, NULL, 't'},
    {"path", required_argument, NULL, OPT_PATH},
    {"method", required_argument, NULL, OPT_METHOD},
    {"username", required_argument, NULL, CLI_OPT_USERNAME},
    {"capture", required_argument, NULL, 'c'},
    {"index", required_argument, NULL, 'i'},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"format", required_argument, NULL, 'f'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

typedef struct {
    int format;
    size_t printed;        /* explanations printed so far (json commas) */
    size_t invalid;
} printer;

/* Print one explanation; heading is the text mode's first line;
 * iv_same_as >= 0 is the earlier request of the capture with the same IV. */
static int print_one(printer *pr, const ec_explanation *e, const char *heading, long index,
                     long long seq, long iv_same_as)
{
    if (pr->format == FORMAT_JSON) {
        char *s = ec_explanation_json(e, 1);
        if (s == NULL)
            return cli_fail("out of memory");
        if (index >= 0) {
            /* Capture mode: tag each object with where it came from. */
            json_t *o = json_loads(s, 0, NULL);
            free(s);
            if (o == NULL)
                return cli_fail("out of memory");
            json_object_set_new(o, "index", json_integer(index));
            json_object_set_new(o, "seq", json_integer(seq));
            json_object_set_new(o, "iv_same_as",
                                iv_same_as >= 0 ? json_integer(iv_same_as) : json_null());
            s = json_dumps(o, JSON_INDENT(2));
            json_decref(o);
            if (s == NULL)
                return cli_fail("out of memory");
            printf("%s%s", pr->printed ? ",\n" : "[\n", s);
        } else {
            printf("%s\n", s);
        }
        free(s);
    } else {
        if (pr->printed)
            putchar('\n');
        if (heading != NULL)
            printf("%s\n", heading);
        ec_explanation_write_text(e, stdout);
        if (iv_same_as >= 0)
            printf("also: the same IV as request %ld: an IV must be fresh for every message, "
                   "resends included\n", iv_same_as);
    }
    pr->printed++;
    if (!e->valid || iv_same_as >= 0)
        pr->invalid++;
    return EC_EXIT_PASS;
}

static const char *header_of(const ec_capture_record *rec, const char *name)
{
    for (size_t i = 0; i < rec->header_count; i++)
        if (rec->headers[i].name != NULL && strcasecmp(rec->headers[i].name, name) == 0)
            return rec->headers[i].value;
    return NULL;
}

/* The IVs seen so far in a capture (as the iv layer prints them), to tell
 * a repeated IV: what one request cannot show, the capture can. */
typedef struct {
    char (*iv)[EC_EXPLAIN_FIELD];
    long *index;
    size_t n, cap;
} iv_history;

/* The earlier request with the same IV as e, or -1; then remembers e's. */
static long iv_seen(iv_history *h, const ec_explanation *e, long index)
{
    const char *iv = NULL;
    for (size_t i = 0; i < e->layer_count; i++)
        if (strcmp(e->layers[i].name, "iv") == 0 && e->layers[i].reached &&
            strlen(e->layers[i].actual) == 3 * EC_IV_LEN - 1)
            iv = e->layers[i].actual;
    if (iv == NULL)
        return -1;
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->iv[i], iv) == 0)
            return h->index[i];
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        void *a = realloc(h->iv, cap * sizeof *h->iv);
        if (a == NULL)
            return -1;
        h->iv = a;
        void *b = realloc(h->index, cap * sizeof *h->index);
        if (b == NULL)
            return -1;
        h->index = b;
        h->cap = cap;
    }
    snprintf(h->iv[h->n], sizeof h->iv[h->n], "%s", iv);
    h->index[h->n++] = index;
    return -1;
}

/* For a request skipped by --index: remember its IV all the same, read
 * as the iv layer reads it (lenient base64, the first 16 bytes). */
static void iv_remember_skipped(iv_history *h, const ec_capture_record *rec, long index)
{
    if (rec->body_len == 0 || strncmp(rec->path, "/input/encrypted", 16) == 0)
        return;
    size_t cap = ec_b64_decoded_max(rec->body_len) + 4;
    uint8_t *dec = malloc(cap);
    size_t n = 0;
    if (dec != NULL &&
        ec_b64_decode_compat((const char *)rec->body, rec->body_len, dec, cap, &n) == EC_OK &&
        n >= EC_IV_LEN) {
        ec_explanation e;
        ec_explanation_init(&e);
        e.layer_count = 1;
        e.layers[0].name = "iv";
        e.layers[0].reached = 1;
        size_t used = 0;
        for (size_t i = 0; i < EC_IV_LEN; i++)
            used += (size_t)snprintf(e.layers[0].actual + used, sizeof e.layers[0].actual - used,
                                     "%s%02x", i ? " " : "", dec[i]);
        iv_seen(h, &e, index);
    }
    free(dec);
}

static int explain_capture(printer *pr, const ec_explain_input *base, const char *path,
                           long only_index)
{
    iv_history ivs = {0};
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL)
        return cli_usage_error("--capture: cannot open '%s'", path);
    int rc = EC_EXIT_PASS;
    long index = 0;
    size_t bad_lines = 0;
    ec_capture_record rec;
    memset(&rec, 0, sizeof rec);
    for (;;) {
        char err[256];
        int got = ec_capture_read(f, &rec, err, sizeof err);
        if (got == 0)
            break;
        if (got < 0) {
            if (bad_lines++ == 0)
                fprintf(stderr, "emoncrypt explain: %s: %s (skipped)\n", path, err);
            continue;
        }
        int is_request = rec.kind != NULL && strcmp(rec.kind, "exchange") == 0 &&
                         rec.method != NULL && rec.path != NULL;
        if (!is_request || (only_index >= 0 && index != only_index)) {
            if (is_request)
                iv_remember_skipped(&ivs, &rec, index);
            index += is_request;
            ec_capture_record_free(&rec);
            continue;
        }
        ec_explain_input in = *base;
        in.method = rec.method;
        in.path = rec.path;
        in.query = rec.query != NULL && rec.query[0] ? rec.query : NULL;
        if (base->content_type == NULL)
            in.content_type = header_of(&rec, "Content-Type");
        if (base->authorization == NULL)
            in.authorization = header_of(&rec, "Authorization");
        in.body = rec.body;
        in.body_len = rec.body_len;
        if (rec.time > 0)
            in.now = (int64_t)rec.time;
        ec_explanation e;
        ec_explanation_init(&e);
        ec_status st = ec_explain_request(&in, &e);
        if (st != EC_OK) {
            rc = cli_fail("request %ld: %s", index, ec_status_text(st));
        } else {
            char heading[512];
            snprintf(heading, sizeof heading, "request %ld (seq %llu%s%s): %s %s", index,
                     (unsigned long long)rec.seq, rec.scenario ? ", scenario " : "",
                     rec.scenario ? rec.scenario : "", rec.method, rec.path);
            long same = iv_seen(&ivs, &e, index);
            int prc = print_one(pr, &e, heading, index, (long long)rec.seq, same);
            if (prc != EC_EXIT_PASS)
                rc = prc;
        }
        ec_explanation_free(&e);
        ec_capture_record_free(&rec);
        index++;
        if (rc != EC_EXIT_PASS || (only_index >= 0 && index > only_index))
            break;
    }
    if (f != stdin)
        fclose(f);
    free(ivs.iv);
    free(ivs.index);
    if (rc != EC_EXIT_PASS)
        return rc;
    if (pr->printed == 0) {
        if (only_index >= 0)
            return cli_usage_error("--index %ld: the capture holds only %ld requests",
                                   only_index, index);
        return cli_usage_error("--capture: '%s' holds no requests", path);
    }
    if (pr->format == FORMAT_JSON)
        printf("\n]\n");
    return EC_EXIT_PASS;
}

int cmd_explain(const ec_cli_command *self, int argc, char **argv)
{
    ec_explain_input in;
    memset(&in, 0, sizeof in);
    printer pr = {.format = FORMAT_TEXT};
    const char *capture = NULL;
    long only_index = -1;
    int content_type_given = 0;
    uint8_t *body = NULL;
    size_t body_len = 0;
    int rc = EC_EXIT_USAGE;
    cli_identity id = {0};

    int c;
    while ((c = getopt_long(argc, argv, ":k:u:a:t:i:f:hV", explain_options, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (optarg[0] == 0 || strlen(optarg) > 60) {
                cli_usage_error("--userid: expected a user id of 1 to 60 characters");
                goto out;
            }
            in.userid = optarg;
            break;
        case 'a':
            in.authorization = optarg;
            break;
        case 't':
            in.content_type = optarg;
            content_type_given = 1;
            break;
        case OPT_PATH:
            if (optarg[0] != '/') {
                cli_usage_error("--path: expected a path starting with '/', got '%s'", optarg);
                goto out;
            }
            in.path = optarg;
            break;
        case OPT_METHOD:
            in.method = optarg;
            break;
        case 'c':
            capture = optarg;
            break;
        case 'i': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end != 0 || v < 0) {
                cli_usage_error("--index: expected a request number from 0, got '%s'", optarg);
                goto out;
            }
            only_index = v;
            break;
        }
        case OPT_STRICT:
            in.strict = 1;
            break;
        case 'f':
            if (cli_parse_choice("--format", optarg, format_names, &pr.format) != 0)
                goto out;
            break;
        case 'V':
            rc = cli_print_version();
            goto out;
        case 'h':
            cli_print_usage(self, stdout);
            rc = EC_EXIT_PASS;
            goto out;
        default:
            /* -k and --username; this command's -u takes any short id */
            if (cli_common_option(c, optarg, argv, &id, NULL) != 0)
                goto out;
            break;
        }
    }
    in.apikey_hex = id.apikey_hex;
    in.username = id.username;
    if (in.apikey_hex == NULL) {
        cli_usage_error("--apikey is required (the key decrypts the request; it is never printed)");
        goto out;
    }
    if (capture != NULL) {
        if (optind < argc) {
            cli_usage_error("give either BODY or --capture, not both");
            goto out;
        }
        rc = explain_capture(&pr, &in, capture, only_index);
        if (rc == EC_EXIT_PASS && pr.invalid > 0)
            rc = EC_EXIT_FAIL;
        goto out;
    }
    if (only_index >= 0) {
        cli_usage_error("--index goes with --capture");
        goto out;
    }
    if (optind >= argc) {
        cli_usage_error("expected BODY (or - for stdin, @FILE, or --capture FILE)");
        goto out;
    }
    if (argc - optind > 1) {
        cli_usage_error("expected one BODY, got %d arguments", argc - optind);
        goto out;
    }
    if (cli_read_input("BODY", argv[optind], &body, &body_len) != 0)
        goto out;
    /* A body pasted from a terminal or a file ends with a newline the
     * request never had. */
    if (strcmp(argv[optind], "-") == 0 || argv[optind][0] == '@') {
        if (body_len > 0 && body[body_len - 1] == '\n')
            body_len--;
        if (body_len > 0 && body[body_len - 1] == '\r')
            body_len--;
    }
    if (!content_type_given)
        in.content_type = "aes128cbc";
    in.body = body;
    in.body_len = body_len;
    ec_explanation e;
    ec_explanation_init(&e);
    ec_status st = ec_explain_request(&in, &e);
    if (st != EC_OK) {
        rc = cli_fail("cannot explain: %s", ec_status_text(st));
    } else {
        rc = print_one(&pr, &e, NULL, -1, -1, -1);
        if (rc == EC_EXIT_PASS && !e.valid)
            rc = EC_EXIT_FAIL;
    }
    ec_explanation_free(&e);

out:
    if (fflush(stdout) != 0 && rc == EC_EXIT_PASS)
        rc = cli_fail("cannot write the output");
    ec_wipe(id.apikey, sizeof id.apikey);
    free(body);
    return rc;
}
