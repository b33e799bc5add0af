/* emoncrypt — client/5.node/…: the node names the plaintext carries (SPEC §5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/client_internal.h"
#include "emoncrypt/plaintext.h"

/* Does name survive Emoncms's node filter unchanged? */
static int node_ok(const char *name, size_t n)
{
    char *f = ec_filter_name(name, n, 1);
    int same = f != NULL && strlen(f) == n && memcmp(f, name, n) == 0;
    free(f);
    return same;
}

/* client/5.node/characters */
static void c5_node_characters(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    size_t n = 0;
    const char *s = cs_plaintext(r, &n);
    if (s == NULL || run->opt.profile == EC_PROFILE_LEGACY)
        return;
    char bad[96] = "";
    size_t nodes = 0;
    ec_params params;
    ec_params_init(&params);
    ec_params_parse_emoncms(&params, s, n);
    const char *node = ec_params_get(&params, "node");
    if (node != NULL) {
        nodes++;
        if (!node_ok(node, strlen(node)))
            cs_printable(node, strlen(node), bad, sizeof bad);
    }
    const char *path_node = strncmp(r->path, "/input/post/", 12) == 0 ? r->path + 12 : NULL;
    if (path_node != NULL && path_node[0]) {
        nodes++;
        if (!node_ok(path_node, strlen(path_node)) && !bad[0])
            cs_printable(path_node, strlen(path_node), bad, sizeof bad);
    }
    const char *data = cs_is_bulk(r) ? ec_params_get(&params, "data") : NULL;
    json_t *root = data ? json_loads(data, 0, NULL) : NULL;
    if (json_is_array(root)) {
        size_t i;
        json_t *row;
        json_array_foreach(root, i, row) {
            json_t *nv = json_array_get(row, 1);
            if (!json_is_string(nv))
                continue;
            nodes++;
            const char *t = json_string_value(nv);
            if (!node_ok(t, json_string_length(nv)) && !bad[0])
                cs_printable(t, strlen(t), bad, sizeof bad);
        }
    }
    json_decref(root);
    ec_params_free(&params);
    if (nodes == 0)
        return;
    if (bad[0]) {
        cs_outcome_set(o, EC_VERDICT_NON_STRICT,
                       "node '%s' has characters Emoncms removes: the data lands in a "
                       "differently named node", bad);
        snprintf(o->actual, sizeof o->actual, "%s", bad);
        snprintf(o->expected, sizeof o->expected, "letters, digits, _ - . space");
    } else {
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu node names, all kept as sent", nodes);
    }
}

const cs_check c5_node_characters_check = {
    .id = "client/5.node/characters",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "Node names keep only Unicode letters, digits, '_', whitespace, '-', '.'.",
    .on_request = c5_node_characters,
};
