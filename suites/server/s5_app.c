/* server/5.app/… — authenticated requests whose plaintext the application
 * rejects: Emoncms's JSON error, as text/plain (SPEC §4, §5). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define APP "An authenticated request with bad application data MUST get Emoncms's {\"success\": false, \"message\": …} answer (SPEC §4)."

const srv_case srv_cases_5_app[] = {
    SRV_SPEC_CASE("server/5.app/post-no-data", APP " (no csv, json or data)", .plaintext = "node=${node}"),
    SRV_SPEC_CASE("server/5.app/post-bad-fulljson", APP, .plaintext = "node=${node}&fulljson={\"power\":"),
    SRV_SPEC_CASE("server/5.app/bulk-bad-json", APP, .bulk = 1, .plaintext = "data=[[0,\"${node}\",${v}]&sentat=0"),
    SRV_SPEC_CASE("server/5.app/bulk-not-array", APP, .bulk = 1, .plaintext = "data={\"a\":1}&sentat=0"),
    SRV_SPEC_CASE("server/5.app/bulk-no-data", APP, .bulk = 1, .plaintext = "sentat=0"),
    SRV_SPEC_CASE("server/5.app/bulk-node-object", APP, .bulk = 1, .plaintext = "data=[[0,{\"a\":1},${v}]]&sentat=0"),
    SRV_SPEC_CASE("server/5.app/bulk-last-row-empty", APP, .bulk = 1, .plaintext = "data=[[0,\"${node}\",${v}],[]]&sentat=0"),
};
SRV_CASES_COUNT(5_app);
