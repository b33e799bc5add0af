/* server/5.app/… — authenticated requests whose plaintext the application
 * rejects: Emoncms's JSON error, as text/plain (SPEC §4, §5). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define APP "An authenticated request with bad application data MUST get Emoncms's {\"success\": false, \"message\": …} answer (SPEC §4)."

const srv_case srv_cases_5_app[] = {
    { .id = "server/5.app/post-no-data",
      .requirement = APP " (no csv, json or data)",
      SRV_SPEC(.plaintext = "node=${node}") },
    { .id = "server/5.app/post-bad-fulljson",
      .requirement = APP,
      SRV_SPEC(.plaintext = "node=${node}&fulljson={\"power\":") },
    { .id = "server/5.app/bulk-bad-json",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "data=[[0,\"${node}\",${v}]&sentat=0") },
    { .id = "server/5.app/bulk-not-array",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "data={\"a\":1}&sentat=0") },
    { .id = "server/5.app/bulk-no-data",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "sentat=0") },
    { .id = "server/5.app/bulk-node-object",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "data=[[0,{\"a\":1},${v}]]&sentat=0") },
    { .id = "server/5.app/bulk-last-row-empty",
      .requirement = APP,
      SRV_SPEC(.bulk = 1, .plaintext = "data=[[0,\"${node}\",${v}],[]]&sentat=0") },
};
SRV_CASES_COUNT(5_app);
