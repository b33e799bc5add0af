/* server/5.app/… — authenticated requests whose plaintext the application
 * rejects: Emoncms's JSON error, as text/plain (SPEC §4, §5). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define APP "An authenticated request with bad application data MUST get Emoncms's {\"success\": false, \"message\": …} answer (SPEC §4)."

const srv_case srv_cases_5_app[] = {
    { .id = "server/5.app/post-no-data",
      .mutants = "ignore-iv,hmac-uppercase-only",
      .requirement = APP " (no csv, json or data)",
      SRV_SPEC(.plaintext = "node=${node}") },
    { .id = "server/5.app/post-bad-fulljson",
      .mutants = "ignore-iv,hmac-uppercase-only",
      .requirement = APP,
      SRV_SPEC(.plaintext = "node=${node}&fulljson={\"power\":") },
    { .id = "server/5.app/bulk-bad-json",
      .mutants = "emoncms-bulk-json-500,ignore-iv",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "data=[[0,\"${node}\",${v}]&sentat=0") },
    { .id = "server/5.app/bulk-not-array",
      .mutants = "ignore-iv,hmac-uppercase-only",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "data={\"a\":1}&sentat=0") },
    { .id = "server/5.app/bulk-no-data",
      .mutants = "emoncms-bulk-json-500,ignore-iv",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "sentat=0") },
    { .id = "server/5.app/bulk-node-object",
      .mutants = "ignore-iv,hmac-uppercase-only",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "data=[[0,{\"a\":1},${v}]]&sentat=0") },
    { .id = "server/5.app/bulk-last-row-empty",
      .mutants = "ignore-iv,hmac-uppercase-only",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "data=[[0,\"${node}\",${v}],[]]&sentat=0") },
};
SRV_CASES_COUNT(5_app);
