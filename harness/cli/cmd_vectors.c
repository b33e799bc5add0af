/* emoncrypt vectors — list, filter and export the reference vectors.
 *
 * The vectors come through the checked loader (vectors.h).  The json
 * export also reads the file with jansson to hand back the selected tests
 * exactly as written, with the file's header and notes; the c export is
 * the freestanding header harness/port ships (its shape is agreed with the
 * port kit: harness/port/emoncrypt_vectors.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"
#include "emoncrypt/vectors.h"


/* C99 guarantees string literals of 4095 characters (after adjacent
 * literals are joined); a longer body becomes a char array instead. */
#define C_LITERAL_MAX 4000

const char cmd_vectors_usage[] =
    "vectors [--file F] [--profile P] [--result R] [--flag F] [--id ID]\n"
    "                 [--format summary|json|c]\n"
    "\n"
    "Lists the reference vectors, or exports the selected ones.  Filters\n"
    "combine (a vector must match all of them).\n"
    "\n"
    "Options:\n"
    "      --file F          the vector file (default: $EMONCRYPT_VECTORS, else\n"
    "                        PREFIX/share/emoncrypt/vectors/emoncms_input_v1.json\n"
    "                        next to the binary; the build tree's binary reads\n"
    "                        the source tree's vectors/)\n"
    "  -p, --profile P       aes128cbc, aes128cbcgz or legacy\n"
    "      --result R        valid, invalid or acceptable\n"
    "      --flag F          vectors carrying flag F (e.g. Spec8, HmacFault)\n"
    "      --id ID           the vector named ID; 'post/*' selects a prefix\n"
    "  -f, --format F        summary (default): counts per profile, result and\n"
    "                        flag, then one line per vector;\n"
    "                        json: the selection in the vector file format;\n"
    "                        c: a self-contained C99 header (stdint/stddef\n"
    "                        only, -ffreestanding) for firmware tests\n"
    "  -h, --help            show this help\n"
    "  -V, --version         print the version and exit\n"
    "\n"
    "EXAMPLES\n"
    "  emoncrypt vectors\n"
    "  emoncrypt vectors --profile aes128cbcgz --result invalid --format json\n"
    "  emoncrypt vectors --id post/spec8-reference --format c > vectors.h\n";

enum { FORMAT_SUMMARY, FORMAT_JSON, FORMAT_C };
static const char *const format_names[] = {"summary", "json", "c", NULL};
static const char *const result_names[] = {"valid", "invalid", "acceptable", NULL};
static const char *const profile_names[] = {"aes128cbc", "aes128cbcgz", "legacy", NULL};
#define N_PROFILES 3
#define N_RESULTS 3

enum { OPT_FILE = 256, OPT_FLAG, OPT_ID };

static const struct option vectors_options[] = {
    {"file", required_argument, NULL, OPT_FILE},
    {"profile", required_argument, NULL, 'p'},
    {"result", required_argument, NULL, 'r'},
    {"flag", required_argument, NULL, OPT_FLAG},
    {"id", required_argument, NULL, OPT_ID},
    {"format", required_argument, NULL, 'f'},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The last path component: outputs name the file, never where it lives,
 * so that they are the same on every machine. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* --id: an exact tcId, or a prefix when it ends in '*'. */
static int id_matches(const char *pattern, const char *tc_id)
{
    size_t n = strlen(pattern);
    if (n > 0 && pattern[n - 1] == '*')
        return strncmp(pattern, tc_id, n - 1) == 0;
    return strcmp(pattern, tc_id) == 0;
}

/* ---- summary -------------------------------------------------------------- */

typedef struct {
    const char *name;
    size_t count;
} flag_count;

static int flag_count_by_name(const void *a, const void *b)
{
    return strcmp(((const flag_count *)a)->name, ((const flag_count *)b)->name);
}

static int print_summary(const ec_vector_file *file, const unsigned char *selected,
                         size_t n_selected)
{
    size_t by[N_PROFILES][N_RESULTS];
    memset(by, 0, sizeof by);
    size_t n_flags = 0, id_width = 4;
    /* Distinct flags are at most the sum of every vector's flag count. */
    size_t flags_cap = 1;
    for (size_t i = 0; i < file->n; i++)
        flags_cap += file->tests[i].n_flags;
    flag_count *flags = calloc(flags_cap, sizeof *flags);
    if (flags == NULL)
        return cli_fail("out of memory");

    for (size_t i = 0; i < file->n; i++) {
        if (!selected[i])
            continue;
        const ec_vector *v = &file->tests[i];
        if ((unsigned)v->profile < N_PROFILES && (unsigned)v->result < N_RESULTS)
            by[v->profile][v->result]++;
        if (strlen(v->tc_id) > id_width)
            id_width = strlen(v->tc_id);
        for (size_t k = 0; k < v->n_flags; k++) {
            size_t j = 0;
            while (j < n_flags && strcmp(flags[j].name, v->flags[k]) != 0)
                j++;
            if (j == n_flags) {
                flags[n_flags].name = v->flags[k];
                n_flags++;
            }
            flags[j].count++;
        }
    }
    qsort(flags, n_flags, sizeof *flags, flag_count_by_name);

    printf("%s: %zu vectors, %zu selected\n\n", base_name(file->path), file->n, n_selected);
    printf("%-12s %7s %7s %10s %7s\n", "profile", "valid", "invalid", "acceptable", "total");
    size_t column[N_RESULTS] = {0, 0, 0};
    for (int p = 0; p < N_PROFILES; p++) {
        size_t row = by[p][0] + by[p][1] + by[p][2];
        printf("%-12s %7zu %7zu %10zu %7zu\n", profile_names[p], by[p][0], by[p][1],
               by[p][2], row);
        for (int r = 0; r < N_RESULTS; r++)
            column[r] += by[p][r];
    }
    printf("%-12s %7zu %7zu %10zu %7zu\n\n", "total", column[0], column[1], column[2],
           n_selected);

    printf("%-28s %7s\n", "flag", "vectors");
    for (size_t j = 0; j < n_flags; j++)
        printf("%-28s %7zu\n", flags[j].name, flags[j].count);
    printf("\n");
    free(flags);

    printf("%-*s  %-11s %-10s %s\n", (int)id_width, "tcId", "profile", "result",
           "expected (strict)");
    for (size_t i = 0; i < file->n; i++) {
        if (!selected[i])
            continue;
        const ec_vector *v = &file->tests[i];
        printf("%-*s  %-11s %-10s %s", (int)id_width, v->tc_id, ec_profile_name(v->profile),
               ec_vector_result_name(v->result), v->expected.fault);
        if (v->has_expected_strict && strcmp(v->expected_strict.fault, v->expected.fault) != 0)
            printf(" (%s)", v->expected_strict.fault);
        printf("\n");
    }
    return EC_EXIT_PASS;
}

/* ---- json ----------------------------------------------------------------- */

/* The raw file with only the selected tests left (groups left empty are
 * dropped) and numberOfTests updated. */
static int print_json(const ec_vector_file *file, json_t *raw,
                      const unsigned char *selected, size_t n_selected)
{
    json_t *groups = json_object_get(raw, "testGroups");
    size_t k = 0;
    json_t *kept_groups = json_array();
    for (size_t g = 0; g < json_array_size(groups); g++) {
        json_t *group = json_array_get(groups, g);
        json_t *tests = json_object_get(group, "tests");
        json_t *kept = json_array();
        for (size_t t = 0; t < json_array_size(tests); t++, k++) {
            json_t *test = json_array_get(tests, t);
            const char *id = json_string_value(json_object_get(test, "tcId"));
            /* The loader keeps file order; a mismatch means the two reads
             * of the file saw different files. */
            if (k >= file->n || id == NULL || strcmp(id, file->tests[k].tc_id) != 0) {
                json_decref(kept);
                json_decref(kept_groups);
                return cli_fail("%s changed while it was being read", file->path);
            }
            if (selected[k])
                json_array_append(kept, test);
        }
        if (json_array_size(kept) > 0) {
            json_object_set(group, "tests", kept);
            json_array_append(kept_groups, group);
        }
        json_decref(kept);
    }
    json_object_set_new(raw, "numberOfTests", json_integer((json_int_t)n_selected));
    json_object_set_new(raw, "testGroups", kept_groups);
    char *text = json_dumps(raw, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL)
        return cli_fail("out of memory");
    printf("%s\n", text);
    free(text);
    return EC_EXIT_PASS;
}

/* ---- c -------------------------------------------------------------------- */

/* A C99 string literal of n bytes (n <= C_LITERAL_MAX): printable ASCII
 * as is, except '"', '\\' and '?' (trigraphs) escaped; every other byte as
 * a 3-digit octal escape (never \x, which would swallow a following hex
 * digit). */
static void put_c_string(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '?') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c >= 0x20 && c < 0x7f) {
            fputc(c, out);
        } else {
            fprintf(out, "\\%03o", c);
        }
    }
    fputc('"', out);
}

static void put_c_string_or_null(FILE *out, const char *s)
{
    if (s == NULL)
        fputs("NULL", out);
    else
        put_c_string(out, s, strlen(s));
}

/* Byte arrays: up to 16 bytes on the same line, then 12 per line in hex;
 * above 1 KiB plain decimal, 32 per line, which keeps the megabyte
 * vectors' header at half the size. */
static void put_c_bytes(FILE *out, const uint8_t *b, size_t n)
{
    if (n <= 16) {
        fputs("{ ", out);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "0x%02x%s", b[i], i + 1 < n ? ", " : "");
        fputs(" }", out);
        return;
    }
    int compact = n > 1024;
    size_t per_line = compact ? 32 : 12;
    fputs("{\n", out);
    for (size_t i = 0; i < n; i++) {
        if (i % per_line == 0 && !compact)
            fputs("    ", out);
        fprintf(out, compact ? "%u" : "0x%02x", b[i]);
        if (i + 1 == n)
            fputs("\n", out);
        else if (i % per_line == per_line - 1)
            fputs(",\n", out);
        else
            fputs(compact ? "," : ", ", out);
    }
    fputs("}", out);
}

static void put_c_array(FILE *out, size_t index, const char *what, const uint8_t *b, size_t n)
{
    fprintf(out, "static const uint8_t emoncrypt_v%04zu_%s[] EMONCRYPT_VECTORS_MAYBE_UNUSED = ",
            index, what);
    put_c_bytes(out, b, n);
    fputs(";\n", out);
}

/* Comma-separated mistake names of a vector ("" for none). */
static void mistakes_text(unsigned mistakes, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (unsigned i = 0; i < EC_MISTAKE_COUNT && used < cap; i++) {
        if ((mistakes & (1u << i)) == 0)
            continue;
        int w = snprintf(out + used, cap - used, "%s%s", used ? "," : "",
                         ec_mistake_name(1u << i));
        if (w > 0)
            used += (size_t)w;
    }
}

/* The bytes a vector's body encrypts, MACs and hashes: rebuilt with the
 * vector's own inputs and mistakes by the one request builder.  *built is
 * left empty when the vector lacks the inputs. */
static void wire_plaintext_of(const ec_vector *v, ec_request *built)
{
    ec_request_params params;
    if (ec_vector_request_params(v, &params) != EC_OK)
        return;
    if (ec_request_build(&params, built) != EC_OK) {
        ec_request_free(built);
        ec_request_init(built);
    }
    ec_wipe(params.key, sizeof params.key);
}

static const char c_header_types[] =
    "/* A firmware test may use only some of the tables below. */\n"
    "#if defined(__GNUC__)\n"
    "#define EMONCRYPT_VECTORS_MAYBE_UNUSED __attribute__((unused))\n"
    "#else\n"
    "#define EMONCRYPT_VECTORS_MAYBE_UNUSED\n"
    "#endif\n"
    "\n"
    "typedef enum emoncrypt_vector_result {\n"
    "    EMONCRYPT_VECTOR_VALID = 0,      /* every conformant server accepts */\n"
    "    EMONCRYPT_VECTOR_INVALID = 1,    /* every conformant server rejects */\n"
    "    EMONCRYPT_VECTOR_ACCEPTABLE = 2  /* Emoncms accepts, a strict server may reject */\n"
    "} emoncrypt_vector_result;\n"
    "\n"
    "typedef struct emoncrypt_vector {\n"
    "    const char *tc_id;             /* stable name, e.g. \"post/spec8-reference\" */\n"
    "    const char *profile;           /* \"aes128cbc\", \"aes128cbcgz\" or \"legacy\" */\n"
    "    const char *result;            /* \"valid\", \"invalid\" or \"acceptable\" */\n"
    "    const char *fault;             /* expected.fault: \"ok\", \"invalid-data\", ... */\n"
    "    const char *fault_strict;      /* expectedStrict.fault, else == fault */\n"
    "    const char *detail;            /* expected.detail, NULL when absent */\n"
    "    const char *mistakes;          /* comma-separated client mistakes, \"\" = none */\n"
    "    uint8_t key[16];               /* hex2bin(apikey): the server's key */\n"
    "    const char *userid;\n"
    "    int has_iv;                    /* 0 when the vector has no iv */\n"
    "    uint8_t iv[16];                /* zeros when has_iv == 0 */\n"
    "    const uint8_t *plaintext;      /* application plaintext, NULL when absent */\n"
    "    size_t plaintext_len;\n"
    "    const uint8_t *wire_plaintext; /* the bytes encrypted, MAC'd and hashed (zlib\n"
    "                                      bytes for aes128cbcgz), NULL when absent */\n"
    "    size_t wire_plaintext_len;\n"
    "    const char *method;\n"
    "    const char *path;\n"
    "    const char *query;             /* NULL when absent */\n"
    "    const char *content_type;      /* NULL = header absent */\n"
    "    const char *authorization;     /* NULL = header absent */\n"
    "    const char *body;              /* NUL-terminated */\n"
    "    size_t body_len;\n"
    "    const char *ack;               /* the 44-character ack, NULL when absent */\n"
    "    int expected_status;           /* HTTP status a compatible server answers */\n"
    "    emoncrypt_vector_result result_code;\n"
    "} emoncrypt_vector;\n";

static int print_c(const ec_vector_file *file, const char *generator_version,
                   const unsigned char *selected, size_t n_selected)
{
    FILE *out = stdout;
    fprintf(out,
            "/* emoncrypt_vectors.h — generated by `emoncrypt vectors --format c`\n"
            " * from vectors/%s (generatorVersion %s). Do not edit. */\n"
            "#ifndef EMONCRYPT_VECTORS_H\n"
            "#define EMONCRYPT_VECTORS_H\n"
            "\n"
            "#include <stddef.h>\n"
            "#include <stdint.h>\n"
            "\n"
            "#define EMONCRYPT_VECTORS_GENERATOR_VERSION \"%s\"\n"
            "#define EMONCRYPT_VECTOR_COUNT %zu\n"
            "\n%s\n",
            base_name(file->path), generator_version, generator_version, n_selected,
            c_header_types);

    /* Byte arrays first, by output index, then the table that points at
     * them.  The builder runs twice per vector (here and below) rather
     * than keeping every rebuilt request in memory. */
    size_t index = 0;
    for (size_t i = 0; i < file->n; i++) {
        if (!selected[i])
            continue;
        const ec_vector *v = &file->tests[i];
        if (v->has_plaintext && v->plaintext_len > 0)
            put_c_array(out, index, "plaintext", v->plaintext, v->plaintext_len);
        ec_request built;
        ec_request_init(&built);
        wire_plaintext_of(v, &built);
        if (built.wire_plaintext != NULL && built.wire_plaintext_len > 0)
            put_c_array(out, index, "wire_plaintext", built.wire_plaintext,
                        built.wire_plaintext_len);
        ec_request_free(&built);
        if (v->body_len > C_LITERAL_MAX) {
            /* NUL-terminated like the literals, so body works as a string */
            fprintf(out, "static const char emoncrypt_v%04zu_body[] EMONCRYPT_VECTORS_MAYBE_UNUSED = ",
                    index);
            put_c_bytes(out, (const uint8_t *)v->body, v->body_len + 1);
            fputs(";\n", out);
        }
        index++;
    }
    if (n_selected == 0) {
        fputs("\n/* no vector was selected */\n\n#endif\n", out);
        return EC_EXIT_PASS;
    }

    fprintf(out, "\nstatic const emoncrypt_vector emoncrypt_vectors[EMONCRYPT_VECTOR_COUNT]\n"
                 "    EMONCRYPT_VECTORS_MAYBE_UNUSED = {\n");
    index = 0;
    for (size_t i = 0; i < file->n; i++) {
        if (!selected[i])
            continue;
        const ec_vector *v = &file->tests[i];
        uint8_t key[EC_KEY_LEN] = {0};
        (void)ec_key_from_hex(v->apikey, key);   /* zeros when malformed */
        char mistakes[512];
        mistakes_text(v->mistakes, mistakes, sizeof mistakes);
        const char *strict_fault =
            v->has_expected_strict ? v->expected_strict.fault : v->expected.fault;

        fputs("    { .tc_id = ", out);
        put_c_string_or_null(out, v->tc_id);
        fprintf(out, ", .profile = \"%s\", .result = \"%s\",\n      .fault = ",
                ec_profile_name(v->profile), ec_vector_result_name(v->result));
        put_c_string_or_null(out, v->expected.fault);
        fputs(", .fault_strict = ", out);
        put_c_string_or_null(out, strict_fault);
        fputs(", .detail = ", out);
        put_c_string_or_null(out, v->expected.detail);
        fputs(", .mistakes = ", out);
        put_c_string_or_null(out, mistakes);
        fputs(",\n      .key = ", out);
        put_c_bytes(out, key, sizeof key);
        fputs(",\n      .userid = ", out);
        put_c_string_or_null(out, v->userid);
        fprintf(out, ", .has_iv = %d,\n      .iv = ", v->has_iv ? 1 : 0);
        uint8_t zero_iv[EC_IV_LEN] = {0};
        put_c_bytes(out, v->has_iv ? v->iv : zero_iv, EC_IV_LEN);
        fputs(",\n", out);
        if (v->has_plaintext && v->plaintext_len > 0)
            fprintf(out, "      .plaintext = emoncrypt_v%04zu_plaintext, .plaintext_len = %zu,\n",
                    index, v->plaintext_len);
        else
            fputs("      .plaintext = NULL, .plaintext_len = 0,\n", out);
        ec_request built;
        ec_request_init(&built);
        wire_plaintext_of(v, &built);
        if (built.wire_plaintext != NULL && built.wire_plaintext_len > 0)
            fprintf(out, "      .wire_plaintext = emoncrypt_v%04zu_wire_plaintext,"
                         " .wire_plaintext_len = %zu,\n", index, built.wire_plaintext_len);
        else
            fputs("      .wire_plaintext = NULL, .wire_plaintext_len = 0,\n", out);
        ec_request_free(&built);
        fputs("      .method = ", out);
        put_c_string_or_null(out, v->method);
        fputs(", .path = ", out);
        put_c_string_or_null(out, v->path);
        fputs(", .query = ", out);
        put_c_string_or_null(out, v->query);
        fputs(", .content_type = ", out);
        put_c_string_or_null(out, v->content_type);
        fputs(",\n      .authorization = ", out);
        put_c_string_or_null(out, v->authorization);
        fputs(",\n      .body = ", out);
        if (v->body_len > C_LITERAL_MAX)
            fprintf(out, "emoncrypt_v%04zu_body", index);
        else
            put_c_string(out, v->body, v->body_len);
        fprintf(out, ", .body_len = %zu,\n      .ack = ", v->body_len);
        put_c_string_or_null(out, v->ack);
        fprintf(out, ", .expected_status = %d, .result_code = %s },\n",
                v->expected.status,
                v->result == EC_VECTOR_VALID     ? "EMONCRYPT_VECTOR_VALID"
                : v->result == EC_VECTOR_INVALID ? "EMONCRYPT_VECTOR_INVALID"
                                                 : "EMONCRYPT_VECTOR_ACCEPTABLE");
        index++;
    }
    fputs("};\n\n#endif\n", out);
    return EC_EXIT_PASS;
}

/* ---- the command ---------------------------------------------------------- */

int cmd_vectors(const ec_cli_command *self, int argc, char **argv)
{
    char default_path[4096];
    const char *path = NULL;
    const char *id = NULL;
    ec_vector_filter filter = ec_vector_filter_all();
    int format = FORMAT_SUMMARY;
    ec_vector_file file;
    memset(&file, 0, sizeof file);
    int loaded = 0;
    json_t *raw = NULL;
    unsigned char *selected = NULL;
    int rc = EC_EXIT_USAGE;

    int c;
    while ((c = getopt_long(argc, argv, ":p:f:hV", vectors_options, NULL)) != -1) {
        switch (c) {
        case OPT_FILE:
            path = optarg;
            break;
        case 'p':
            if (cli_parse_profile("--profile", optarg, &filter.profile) != 0)
                goto out;
            break;
        case 'r':
            if (cli_parse_choice("--result", optarg, result_names, &filter.result) != 0)
                goto out;
            break;
        case OPT_FLAG:
            filter.flag = optarg;
            break;
        case OPT_ID:
            id = optarg;
            break;
        case 'f':
            if (cli_parse_choice("--format", optarg, format_names, &format) != 0)
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
            rc = cli_option_error(c, argv);
            goto out;
        }
    }
    if (optind < argc) {
        cli_usage_error("unexpected argument '%s' (filters are options: see --help)",
                        argv[optind]);
        goto out;
    }

    if (path == NULL) {
        if (cli_default_vectors(default_path, sizeof default_path) != 0) {
            cli_usage_error("%s (or pass --file F)", default_path);
            goto out;
        }
        path = default_path;
    }
    char err[512] = "";
    ec_status st = ec_vectors_load(path, &file, err, sizeof err);
    if (st != EC_OK) {
        cli_usage_error("%s", err[0] ? err : ec_status_text(st));
        goto out;
    }
    loaded = 1;

    /* A flag or id that names nothing in the file is a typo, not an empty
     * selection. */
    if (filter.flag != NULL || id != NULL) {
        int flag_seen = filter.flag == NULL, id_seen = id == NULL;
        for (size_t i = 0; i < file.n; i++) {
            const ec_vector *v = &file.tests[i];
            for (size_t k = 0; !flag_seen && k < v->n_flags; k++)
                flag_seen = strcmp(v->flags[k], filter.flag) == 0;
            if (!id_seen)
                id_seen = id_matches(id, v->tc_id);
        }
        if (!flag_seen) {
            cli_usage_error("--flag: no vector in %s has the flag '%s'", base_name(path),
                            filter.flag);
            goto out;
        }
        if (!id_seen) {
            cli_usage_error("--id: no vector in %s is named '%s'", base_name(path), id);
            goto out;
        }
    }

    selected = calloc(file.n + 1, 1);
    if (selected == NULL) {
        rc = cli_fail("out of memory");
        goto out;
    }
    size_t n_selected = 0;
    for (size_t i = 0; i < file.n; i++) {
        const ec_vector *v = &file.tests[i];
        if (ec_vector_matches(v, &filter) && (id == NULL || id_matches(id, v->tc_id))) {
            selected[i] = 1;
            n_selected++;
        }
    }

    if (format == FORMAT_SUMMARY) {
        rc = print_summary(&file, selected, n_selected);
    } else {
        json_error_t jerr;
        raw = json_load_file(path, 0, &jerr);
        if (raw == NULL) {
            cli_usage_error("%s: line %d: %s", path, jerr.line, jerr.text);
            goto out;
        }
        if (format == FORMAT_JSON) {
            rc = print_json(&file, raw, selected, n_selected);
        } else {
            const char *version = json_string_value(json_object_get(raw, "generatorVersion"));
            rc = print_c(&file, version != NULL ? version : "unknown", selected, n_selected);
        }
    }
    if (fflush(stdout) != 0)
        rc = cli_fail("cannot write the output");

out:
    json_decref(raw);
    free(selected);
    if (loaded)
        ec_vectors_free(&file);
    return rc;
}
