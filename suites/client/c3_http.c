/* emoncrypt — client/3.http/…: garbage on the socket, across the run (SPEC §3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"

int c3_event_is_malformed(int kind)
{
    return kind == EC_HTTPD_EV_NO_REQUEST || kind == EC_HTTPD_EV_INCOMPLETE || kind == EC_HTTPD_EV_TOO_LARGE ||
           kind == EC_HTTPD_EV_BAD_FRAMING;
}

/* client/3.http/well-formed */
static void c3_http_well_formed(const cs_run *run, cs_outcome *o)
{
    size_t bad = run->audit.bad_count, empty = run->audit.empty_connections;
    const cs_bad_connection *first = bad ? &run->audit.bad[0] : NULL;
    if (bad == 0 && empty > 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu requests, all complete HTTP; %zu connections sent nothing (or only "
                       "empty lines) and closed (a port probe, a health check or a pre-connect: "
                       "no request, not a malformed one)",
                       run->request_count, empty);
    else if (bad == 0)
        cs_outcome_set(o, EC_VERDICT_PASS, "%zu requests, all complete HTTP", run->request_count);
    else
        cs_outcome_set(o, EC_VERDICT_FAIL, "%zu connections carried no usable request; first "
                       "(connection %llu from %s): %s: %s", bad,
                       (unsigned long long)first->connection, first->remote ? first->remote : "?",
                       ec_httpd_event_name(first->kind), first->detail ? first->detail : "");
}

const cs_check c3_http_well_formed_check = {
    .id = "client/3.http/well-formed",
    .no_mutant = "no mutant device yet: send builds every request with the shared builder, which has no mistake for this (tests/test_client_checks.c feeds the check such requests)",
    .requirement = "Every connection carries a complete, parsable HTTP/1.1 request within the "
                   "server's size limit.",
    .on_audit = c3_http_well_formed,
};
