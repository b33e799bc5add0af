/* server/4.auth/… — the Authorization header: present, exactly one ':',
 * a known user id; each failure has Emoncms's own answer (SPEC §4). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define PT "node=${node}&csv=${v}"

const srv_case srv_cases_4_auth[] = {
    { .id = "server/4.auth/missing-header",
      .requirement = "Without Authorization the answer MUST be 'missing authorization header' (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .authorization = SRV_ABSENT) },
    { .id = "server/4.auth/empty-value",
      .requirement = "An empty Authorization has no ':' and MUST get the format answer (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .authorization = "") },
    { .id = "server/4.auth/no-colon",
      .requirement = "Authorization without ':' MUST get 'authorization header format should be userid:hmac' (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .authorization = "${uid}${hmac}") },
    { .id = "server/4.auth/two-colons",
      .requirement = "Authorization MUST split into exactly two parts: 'userid:hmac:x' gets the format answer (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .authorization = "${uid}:${hmac}:x") },
    { .id = "server/4.auth/double-colon",
      .requirement = "'userid::hmac' splits into three parts and MUST get the format answer (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .authorization = "${uid}::${hmac}") },
    { .id = "server/4.auth/scheme-word",
      .requirement = "Authorization has no scheme word: 'Bearer userid:hmac' names no user (SPEC §3, §4).",
      SRV_SPEC(.plaintext = PT, .authorization = "Bearer ${uid}:${hmac}") },
    { .id = "server/4.auth/unknown-user",
      .requirement = "An unknown user id MUST get 'User not found' (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .authorization = "${uid-unknown}:${hmac}") },
    { .id = "server/4.auth/userid-text",
      .requirement = "A user id that is not a number names no user (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .authorization = "abc:${hmac}") },
    { .id = "server/4.auth/userid-empty",
      .requirement = "An empty user id names no user (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .authorization = ":${hmac}") },
    { .id = "server/4.auth/userid-suffix",
      .requirement = "The database casts the user id to an integer, so '1abc' is user 1 in Emoncms; a strict server rejects it (SPEC §4 quirks).",
      SRV_SPEC(.plaintext = PT, .authorization = "${uid}abc:${hmac}") },
    { .id = "server/4.auth/userid-leading-zero",
      .requirement = "'01' is user 1 in Emoncms (integer cast); a strict server rejects it (SPEC §4 quirks).",
      SRV_SPEC(.plaintext = PT, .authorization = "0${uid}:${hmac}") },
    { .id = "server/4.auth/hmac-empty",
      .requirement = "'userid:' with an empty HMAC MUST be 'invalid data' (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .authorization = "${uid}:") },
};
SRV_CASES_COUNT(4_auth);
