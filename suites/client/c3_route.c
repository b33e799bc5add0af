/* emoncrypt — client/3.route/…: the method and path of each request (SPEC §3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"

static int is_input_route(const char *p, int legacy)
{
    if (legacy)
        return strcmp(p, "/input/encrypted") == 0;
    return strcmp(p, "/input/post") == 0 || strcmp(p, "/input/bulk") == 0 ||
           strcmp(p, "/input/post.json") == 0 || strcmp(p, "/input/bulk.json") == 0 ||
           (strncmp(p, "/input/post/", 12) == 0 && p[12] != 0 && strchr(p + 12, '/') == NULL);
}

/* client/3.route/path */
static void c3_route_path(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    if (!r->is_post)
        return;
    int legacy = run->opt.profile == EC_PROFILE_LEGACY;
    snprintf(o->expected, sizeof o->expected, "%s",
             legacy ? "/input/encrypted" : "/input/post or /input/bulk");
    cs_printable(r->path, strlen(r->path), o->actual, sizeof o->actual);
    /* An Emoncms installed under a prefix (/emoncms/input/post) is fine. */
    const char *p = strstr(r->path, "/input/");
    if (p != NULL && is_input_route(p, legacy))
        cs_outcome_set(o, EC_VERDICT_PASS, "%s", r->path);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "%s is not an encrypted input route", o->actual);
}

const cs_check c3_route_path_check = {
    .id = "client/3.route/path",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "POST /input/post or /input/bulk (optionally .json, or /input/post/NODE).",
    .on_request = c3_route_path,
};

/* client/3.route/method */
static void c3_route_method(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!r->is_post)
        return;
    snprintf(o->expected, sizeof o->expected, "POST");
    snprintf(o->actual, sizeof o->actual, "%s", r->method);
    if (strcmp(r->method, "POST") == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "POST");
    else if (strcmp(r->method, "GET") == 0 && r->body_len > 0)
        cs_outcome_set(o, EC_VERDICT_NON_STRICT,
                       "GET with a body: Emoncms processes it, a strict server refuses it");
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "method %s", r->method);
}

const cs_check c3_route_method_check = {
    .id = "client/3.route/method",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "The encrypted request is a POST (Emoncms also processes a GET with a body).",
    .on_request = c3_route_method,
};
