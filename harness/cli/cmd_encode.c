/* emoncrypt encode — build one request exactly as a correct client does
 * (or with chosen client mistakes) and print it with the ack a correct
 * server answers.  The request comes from ec_request_build, the one
 * builder the client-role suites and the vectors also use. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"

#define ENCODE_DEFAULT_URL "http://127.0.0.1:8080"

const char cmd_encode_usage[] =
    "encode --apikey HEX --userid N [options] PLAINTEXT|-|@FILE\n"
    "\n"
    "Builds the encrypted request a correct client sends for PLAINTEXT (the\n"
    "unencoded query string, e.g. 'node=emontx&fulljson={\"power1\":100}'),\n"
    "and prints it with the ack a correct server answers.  '-' reads the\n"
    "plaintext from stdin, '@FILE' from a file.  The API key is never printed.\n"
    "\n"
    "Options:\n"
    "  -k, --apikey HEX      the account's write API key (32 hex digits)\n"
    "  -u, --userid N        the user id sent in Authorization (aes128cbc*)\n"
    "      --iv HEX          the IV, 32 hex digits (default: 16 random bytes)\n"
    "  -p, --profile P       aes128cbc (default), aes128cbcgz or legacy\n"
    "      --username U      the account's username (legacy profile)\n"
    "      --bulk            POST to /input/bulk instead of /input/post\n"
    "      --node NAME       POST to /input/post/NAME (node in the URL)\n"
    "      --b64-padding P   strip (default: as SPEC §8 and Emoncms's example\n"
    "                        client) or keep the body's trailing '=' (as IoTaWatt)\n"
    "      --mistake NAME    build with a known client mistake (repeatable),\n"
    "                        e.g. hmac-upper, hmac-plus-nul, std-alphabet\n"
    "  -f, --format F        http (default), curl or json\n"
    "      --url BASE        server base URL (default " ENCODE_DEFAULT_URL ")\n"
    "  -h, --help            show this help\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt encode --apikey $KEY --userid 1 'node=emontx&fulljson={\"power1\":100}'\n"
    "  emoncrypt encode -k $KEY -u 1 --format curl @plaintext.txt\n"
    "  echo 'node=1&csv=1,2' | emoncrypt encode -k $KEY -u 1 --profile aes128cbcgz -\n";

enum { FORMAT_HTTP, FORMAT_CURL, FORMAT_JSON };
static const char *const format_names[] = {"http", "curl", "json", NULL};

static const char *const padding_names[] = {"strip", "keep", NULL};

enum { OPT_IV = 256, OPT_BULK, OPT_NODE, OPT_MISTAKE, OPT_URL,
       OPT_PADDING };

static const struct option encode_options[] = {
    {"apikey", required_argument, NULL, 'k'},
    {"userid", required_argument, NULL, 'u'},
    {"iv", required_argument, NULL, OPT_IV},
    {"profile", required_argument, NULL, 'p'},
    {"username", required_argument, NULL, CLI_OPT_USERNAME},
    {"bulk", no_argument, NULL, OPT_BULK},
    {"node", required_argument, NULL, OPT_NODE},
    {"b64-padding", required_argument, NULL, OPT_PADDING},
    {"mistake", required_argument, NULL, OPT_MISTAKE},
    {"format", required_argument, NULL, 'f'},
    {"url", required_argument, NULL, OPT_URL},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* A base URL split for printing: "http://host:port/prefix". */
typedef struct {
    char base[512];     /* without a trailing '/' */
    char host[256];     /* "host:port" for the Host header */
    char prefix[256];   /* "" or "/emoncms" */
} base_url;

static int parse_base_url(const char *text, base_url *u)
{
    const char *rest;
    if (strncmp(text, "http://", 7) == 0)
        rest = text + 7;
    else if (strncmp(text, "https://", 8) == 0)
        rest = text + 8;
    else {
        cli_usage_error("--url: expected http://HOST[:PORT][/PATH], got '%s'", text);
        return -1;
    }
    size_t host_len = strcspn(rest, "/?#");
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == '/')
        len--;
    if (host_len == 0 || strpbrk(rest, "?#") != NULL ||
        host_len >= sizeof u->host || len >= sizeof u->base) {
        cli_usage_error("--url: expected http://HOST[:PORT][/PATH], got '%s'", text);
        return -1;
    }
    memcpy(u->base, text, len);
    u->base[len] = 0;
    memcpy(u->host, rest, host_len);
    u->host[host_len] = 0;
    snprintf(u->prefix, sizeof u->prefix, "%s", u->base + (size_t)(rest - text) + host_len);
    return 0;
}

/* Comma-separated stable names of the mistake bits, into out. */
static void mistake_list(unsigned mistakes, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (unsigned i = 0; i < EC_MISTAKE_COUNT; i++) {
        unsigned bit = 1u << i;
        if ((mistakes & bit) == 0 || used >= cap)
            continue;
        int w = snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
                         ec_mistake_name(bit));
        if (w > 0)
            used += (size_t)w;
    }
}

/* The mistakes worth a warning: a body without '=' is correct. */
static unsigned faults_of(unsigned mistakes)
{
    return mistakes & ~(unsigned)EC_MISTAKE_NO_B64_PADDING;
}

static void print_http(const ec_request *r, const ec_request_params *p,
                       const base_url *u)
{
    unsigned mistakes = faults_of(p->mistakes);
    printf("%s %s%s HTTP/1.1\n", r->method, u->prefix, r->path);
    printf("Host: %s\n", u->host);
    printf("Content-Type: %s\n", r->content_type);
    if (r->authorization[0] != 0)
        printf("Authorization: %s\n", r->authorization);
    printf("Content-Length: %zu\n\n", r->body_len);
    fwrite(r->body, 1, r->body_len, stdout);
    printf("\n\n");
    if (mistakes != 0) {
        char names[512];
        mistake_list(mistakes, names, sizeof names);
        printf("# built with client mistakes: %s\n"
               "# a server that accepts it anyway answers:\n", names);
    }
    printf("HTTP/1.1 200 OK\n");
    /* SPEC §6 does not say which type the legacy ack comes with. */
    if (p->profile != EC_PROFILE_LEGACY)
        printf("Content-Type: text/plain\n");
    printf("Content-Length: %d\n\n", EC_ACK_LEN);
    printf("%s\n", r->ack);
}

static void print_curl(const ec_request *r, const base_url *u, unsigned mistakes)
{
    if (mistakes != 0) {
        char names[512];
        mistake_list(mistakes, names, sizeof names);
        printf("# built with client mistakes: %s\n", names);
    }
    printf("# expected answer: HTTP 200, body %s\n", r->ack);
    printf("curl -sS ");
    if (strcmp(r->method, "POST") != 0)
        printf("-X %s ", r->method);
    char url[1024];
    snprintf(url, sizeof url, "%s%s", u->base, r->path);
    cli_put_shell_quoted(stdout, url);
    printf(" \\\n  -H ");
    char header[256];
    snprintf(header, sizeof header, "Content-Type: %s", r->content_type);
    cli_put_shell_quoted(stdout, header);
    if (r->authorization[0] != 0) {
        printf(" \\\n  -H ");
        snprintf(header, sizeof header, "Authorization: %s", r->authorization);
        cli_put_shell_quoted(stdout, header);
    }
    printf(" \\\n  --data-binary ");
    cli_put_shell_quoted(stdout, r->body);
    printf("\n");
}

static int print_json(const ec_request *r, const ec_request_params *p,
                      const base_url *u)
{
    char iv_hex[2 * EC_IV_LEN + 1];
    ec_hex_encode(p->iv, EC_IV_LEN, iv_hex, sizeof iv_hex);
    char *pt_hex = malloc(2 * p->plaintext_len + 1);
    if (pt_hex == NULL)
        return cli_fail("out of memory");
    ec_hex_encode(p->plaintext, p->plaintext_len, pt_hex, 2 * p->plaintext_len + 1);

    json_t *root = json_object();
    json_object_set_new(root, "profile", json_string(ec_profile_name(p->profile)));
    if (p->userid != NULL)
        json_object_set_new(root, "userid", json_string(p->userid));
    if (p->username != NULL)
        json_object_set_new(root, "username", json_string(p->username));
    json_object_set_new(root, "iv", json_string(iv_hex));
    json_object_set_new(root, "plaintext", json_string(pt_hex));
    /* json_stringn refuses text that is not UTF-8: then only hex is given. */
    json_t *text = json_stringn((const char *)p->plaintext, p->plaintext_len);
    if (text != NULL)
        json_object_set_new(root, "plaintextText", text);
    if (p->mistakes != 0) {
        json_t *list = json_array();
        for (unsigned i = 0; i < EC_MISTAKE_COUNT; i++)
            if (p->mistakes & (1u << i))
                json_array_append_new(list, json_string(ec_mistake_name(1u << i)));
        json_object_set_new(root, "mistakes", list);
    }
    char url[1024];
    snprintf(url, sizeof url, "%s%s", u->base, r->path);
    json_object_set_new(root, "url", json_string(url));
    json_t *req = json_object();
    json_object_set_new(req, "method", json_string(r->method));
    json_object_set_new(req, "path", json_string(r->path));
    json_object_set_new(req, "contentType", json_string(r->content_type));
    json_object_set_new(req, "authorization",
                        r->authorization[0] ? json_string(r->authorization) : json_null());
    json_object_set_new(req, "body", json_stringn(r->body, r->body_len));
    json_object_set_new(root, "request", req);
    json_object_set_new(root, "ack", json_string(r->ack));

    char *out = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    free(pt_hex);
    if (out == NULL)
        return cli_fail("out of memory");
    printf("%s\n", out);
    free(out);
    return EC_EXIT_PASS;
}

int cmd_encode(const ec_cli_command *self, int argc, char **argv)
{
    ec_request_params params;
    memset(&params, 0, sizeof params);
    params.endpoint = EC_ENDPOINT_POST;
    cli_identity id = {.profile = EC_PROFILE_AES128CBC};
    int have_iv = 0, format = FORMAT_HTTP, padding = 0;
    const char *url_text = ENCODE_DEFAULT_URL;
    uint8_t *plaintext = NULL;
    size_t plaintext_len = 0;
    ec_request request;
    ec_request_init(&request);
    int rc = EC_EXIT_USAGE;

    int c;
    while ((c = getopt_long(argc, argv, ":k:u:p:f:hV", encode_options, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (optarg[0] == 0 || strpbrk(optarg, "\n") != NULL) {
                cli_usage_error("--userid: expected a user id, got an empty or multi-line value");
                goto out;
            }
            params.userid = optarg;
            break;
        case OPT_IV:
            if (cli_parse_hex16("--iv", optarg, params.iv) != 0)
                goto out;
            have_iv = 1;
            break;
        case OPT_BULK:
            params.endpoint = EC_ENDPOINT_BULK;
            break;
        case OPT_NODE:
            if (optarg[0] == 0 || strpbrk(optarg, "/?# \n") != NULL) {
                cli_usage_error("--node: expected a node name without '/', '?', '#' or spaces, got '%s'",
                                optarg);
                goto out;
            }
            params.path_node = optarg;
            break;
        case OPT_MISTAKE: {
            unsigned bit = ec_mistake_from_name(optarg);
            if (bit == 0) {
                char names[512];
                mistake_list((1u << EC_MISTAKE_COUNT) - 1, names, sizeof names);
                cli_usage_error("--mistake: unknown mistake '%s' (expected one of: %s)",
                                optarg, names);
                goto out;
            }
            params.mistakes |= bit;
            break;
        }
        case OPT_PADDING:
            if (cli_parse_choice("--b64-padding", optarg, padding_names, &padding) != 0)
                goto out;
            break;
        case 'f':
            if (cli_parse_choice("--format", optarg, format_names, &format) != 0)
                goto out;
            break;
        case OPT_URL:
            url_text = optarg;
            break;
        case 'V':
            rc = cli_print_version();
            goto out;
        case 'h':
            cli_print_usage(self, stdout);
            rc = EC_EXIT_PASS;
            goto out;
        default:
            /* -k, -p, --username; this command's -u takes any one-line id */
            if (cli_common_option(c, optarg, argv, &id, NULL) != 0)
                goto out;
            break;
        }
    }
    memcpy(params.key, id.apikey, sizeof params.key);
    params.apikey_hex = id.apikey_hex;
    params.profile = (ec_profile)id.profile;
    params.username = id.username;

    if (optind >= argc) {
        cli_usage_error("expected PLAINTEXT (or - for stdin, @FILE for a file)");
        goto out;
    }
    if (argc - optind > 1) {
        cli_usage_error("expected one PLAINTEXT, got %d arguments (quote the plaintext)",
                        argc - optind);
        goto out;
    }
    if (params.apikey_hex == NULL) {
        cli_usage_error("--apikey is required");
        goto out;
    }
    if (params.profile == EC_PROFILE_LEGACY) {
        if (params.username == NULL) {
            cli_usage_error("--username is required with --profile legacy");
            goto out;
        }
    } else if (params.userid == NULL) {
        cli_usage_error("--userid is required with --profile %s",
                        ec_profile_name(params.profile));
        goto out;
    }
    base_url url;
    if (parse_base_url(url_text, &url) != 0)
        goto out;
    if (cli_read_input("PLAINTEXT", argv[optind], &plaintext, &plaintext_len) != 0)
        goto out;
    params.plaintext = plaintext;
    params.plaintext_len = plaintext_len;

    if (!have_iv && ec_random(params.iv, EC_IV_LEN) != EC_OK) {
        rc = cli_fail("cannot draw a random IV from the OS");
        goto out;
    }

    /* Both forms are correct (SPEC §3); stripping is expressed through the
     * builder's no-b64-padding so that the json output's mistakes list
     * rebuilds the same body, as in the vector files. */
    if (padding_names[padding][0] == 's')
        params.mistakes |= EC_MISTAKE_NO_B64_PADDING;

    ec_status st = ec_request_build(&params, &request);
    if (st != EC_OK) {
        rc = cli_fail("cannot build the request: %s (%s)", ec_status_text(st),
                      ec_status_name(st));
        goto out;
    }

    switch (format) {
    case FORMAT_CURL:
        print_curl(&request, &url, faults_of(params.mistakes));
        rc = EC_EXIT_PASS;
        break;
    case FORMAT_JSON:
        rc = print_json(&request, &params, &url);
        break;
    default:
        print_http(&request, &params, &url);
        rc = EC_EXIT_PASS;
        break;
    }
    if (fflush(stdout) != 0)
        rc = cli_fail("cannot write the output");

out:
    ec_wipe(params.key, sizeof params.key);
    ec_wipe(id.apikey, sizeof id.apikey);
    ec_request_free(&request);
    free(plaintext);
    return rc;
}
