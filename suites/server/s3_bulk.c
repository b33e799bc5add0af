/* server/3.bulk/… — every valid form of an encrypted input/bulk (SPEC §3,
 * §5): each must be acknowledged with the ack of its plaintext. */
#include "server/srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/message.h"

#define ACKED "A correct encrypted input/bulk MUST be answered with the ack of its plaintext (SPEC §3, §4)."

/* Sixty rows ten seconds apart, as a device catching up after an outage. */
static void run_many_rows(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    size_t cap = 8192;
    char *pt = malloc(cap);
    if (!pt)
        return;
    uint32_t v = srv_next_marker(ctx);
    int n = snprintf(pt, cap, "sentat=600&data=[");
    for (int i = 0; i < 60; i++)
        n += snprintf(pt + n, cap - (size_t)n, "%s[%d,\"%s\",%u,%d]", i ? "," : "", i * 10, ctx->node, v, i);
    snprintf(pt + n, cap - (size_t)n, "]");
    srv_spec spec = { .profile = (int)(intptr_t)c->arg, .bulk = 1, .plaintext = pt };
    srv_case local = *c;
    local.arg = &spec;
    srv_run_spec(ctx, &local, out);
    free(pt);
}

const srv_case srv_cases_3_bulk[] = {
    { .id = "server/3.bulk/sentat",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " sentat=S: row time = now - S + t (SPEC §5).",
      SRV_SPEC(.bulk = 1,
               .plaintext = "data=[[0,\"${node}\",${v}],[5,\"${node}\",${v1}]]&sentat=10") },
    { .id = "server/3.bulk/offset",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " offset=O: row time = now - O + t (SPEC §5).",
      SRV_SPEC(.bulk = 1,
               .plaintext = "data=[[0,\"${node}\",${v}],[5,\"${node}\",${v1}]]&offset=10") },
    { .id = "server/3.bulk/time",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " time=T: row time = T + t, IoTaWatt's form (SPEC §5, §7).",
      SRV_SPEC(.bulk = 1,
               .plaintext = "time=${now-20}&data=[[0,\"${node}\",${v},${v1}],[10,\"${node}\",${v2},${v1}]]") },
    { .id = "server/3.bulk/no-reference",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " Without a time reference the last row is now (SPEC §5).",
      SRV_SPEC(.bulk = 1,
               .plaintext = "data=[[0,\"${node}\",${v}],[10,\"${node}\",${v1}]]") },
    { .id = "server/3.bulk/null-values",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " Missing values are sent as null (SPEC §5, §7).",
      SRV_SPEC(.bulk = 1,
               .plaintext = "time=${now-10}&data=[[0,\"${node}\",${v},null,${v1}]]") },
    { .id = "server/3.bulk/object-values",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " A value may be an object {\"name\":v} (SPEC §5).",
      SRV_SPEC(.bulk = 1,
               .plaintext = "sentat=0&data=[[0,\"${node}\",{\"power\":${v}},{\"temp\":${v1}}]]") },
    { .id = "server/3.bulk/short-row",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " Rows with fewer than 3 items are skipped (SPEC §5).",
      SRV_SPEC(.bulk = 1,
               .plaintext = "sentat=1&data=[[0,\"${node}\"],[1,\"${node}\",${v}]]") },
    { .id = "server/3.bulk/string-values",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " Non-numeric values become 0 (SPEC §5).",
      SRV_SPEC(.bulk = 1,
               .plaintext = "sentat=0&data=[[0,\"${node}\",\"${v}\",\"\"]]") },
    { .id = "server/3.bulk/json-suffix",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " /input/bulk.json is the same route (SPEC §1).",
      SRV_SPEC(.bulk = 1,
               .path = "/input/bulk.json", .plaintext = "data=[[0,\"${node}\",${v}]]&sentat=0") },
    { .id = "server/3.bulk/iotawatt-shape",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " IoTaWatt: lowercase header names, time=T&data=[[dt,node,…]] (SPEC §7).",
      SRV_SPEC(.bulk = 1, .lower_header_names = 1, .shape = SRV_SHAPE_PARTIAL_QUANTUM,
               .plaintext = "time=${now-15}&data=[[0,\"${node}\",${v}.5,${v1}.25],[5,\"${node}\",${v2}.5,null],[10,\"${node}\",${v}.75,${v1}]]") },
    { .id = "server/3.bulk/many-rows",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " Sixty rows in one post are all acknowledged.",
      .run = run_many_rows, .arg = (const void *)(intptr_t)0,
      .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
};
SRV_CASES_COUNT(3_bulk);
