/* see srv.h — every case file's table, in SPEC order.  A case id
 * "server/4.auth/…" is defined in s4_auth.c. */
#include "server/srv.h"

SRV_CASES(3_post);
SRV_CASES(3_bulk);
SRV_CASES(3_gz);
SRV_CASES(3_ctype);
SRV_CASES(4_auth);
SRV_CASES(4_body);
SRV_CASES(4_crypto);
SRV_CASES(4_oracle);
SRV_CASES(4_ack);
SRV_CASES(4_quirk);
SRV_CASES(4_limits);
SRV_CASES(5_app);
SRV_CASES(5_store);
SRV_CASES(5_time);
SRV_CASES(6_legacy);

#define GROUP(name_, section_, title_) { section_, title_, srv_cases_##name_, &srv_cases_##name_##_count }

const srv_group srv_groups[] = {
    GROUP(3_post, "3.post", "SPEC §3: valid input/post requests"),
    GROUP(3_bulk, "3.bulk", "SPEC §3: valid input/bulk requests"),
    GROUP(3_gz, "3.gz", "SPEC §2-3: aes128cbcgz"),
    GROUP(3_ctype, "3.ctype", "SPEC §3: Content-Type matching"),
    GROUP(4_auth, "4.auth", "SPEC §4: Authorization"),
    GROUP(4_body, "4.body", "SPEC §4: body and base64"),
    GROUP(4_crypto, "4.crypto", "SPEC §4: decryption and HMAC"),
    GROUP(4_oracle, "4.oracle", "SPEC §4: one answer for every crypto failure"),
    GROUP(4_ack, "4.ack", "SPEC §2, §4: the ack"),
    GROUP(4_quirk, "4.quirk", "SPEC §4: Emoncms quirks"),
    GROUP(4_limits, "4.limits", "limits: body size, stalled requests"),
    GROUP(5_app, "5.app", "SPEC §5: application errors"),
    GROUP(5_store, "5.store", "SPEC §4-5: what is stored"),
    GROUP(5_time, "5.time", "SPEC §5: row times"),
    GROUP(6_legacy, "6.legacy", "SPEC §6: legacy /input/encrypted"),
};
const size_t srv_group_count = sizeof srv_groups / sizeof srv_groups[0];
