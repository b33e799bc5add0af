/* server/4.auth/… — the Authorization header: present, exactly one ':',
 * a known user id; each failure has Emoncms's own answer (SPEC §4). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define PT "node=${node}&csv=${v}"

const srv_case srv_cases_4_auth[] = {
    SRV_SPEC_CASE("server/4.auth/missing-header", "Without Authorization the answer MUST be 'missing authorization header' (SPEC §4).",
                  .plaintext = PT, .authorization = SRV_ABSENT),
    SRV_SPEC_CASE("server/4.auth/empty-value", "An empty Authorization has no ':' and MUST get the format answer (SPEC §4).",
                  .plaintext = PT, .authorization = ""),
    SRV_SPEC_CASE("server/4.auth/no-colon", "Authorization without ':' MUST get 'authorization header format should be userid:hmac' (SPEC §4).",
                  .plaintext = PT, .authorization = "${uid}${hmac}"),
    SRV_SPEC_CASE("server/4.auth/two-colons", "Authorization MUST split into exactly two parts: 'userid:hmac:x' gets the format answer (SPEC §4).",
                  .plaintext = PT, .authorization = "${uid}:${hmac}:x"),
    SRV_SPEC_CASE("server/4.auth/double-colon", "'userid::hmac' splits into three parts and MUST get the format answer (SPEC §4).",
                  .plaintext = PT, .authorization = "${uid}::${hmac}"),
    SRV_SPEC_CASE("server/4.auth/scheme-word", "Authorization has no scheme word: 'Bearer userid:hmac' names no user (SPEC §3, §4).",
                  .plaintext = PT, .authorization = "Bearer ${uid}:${hmac}"),
    SRV_SPEC_CASE("server/4.auth/unknown-user", "An unknown user id MUST get 'User not found' (SPEC §4).",
                  .plaintext = PT, .authorization = "${uid-unknown}:${hmac}"),
    SRV_SPEC_CASE("server/4.auth/userid-text", "A user id that is not a number names no user (SPEC §4).",
                  .plaintext = PT, .authorization = "abc:${hmac}"),
    SRV_SPEC_CASE("server/4.auth/userid-empty", "An empty user id names no user (SPEC §4).",
                  .plaintext = PT, .authorization = ":${hmac}"),
    SRV_SPEC_CASE("server/4.auth/userid-suffix", "The database casts the user id to an integer, so '1abc' is user 1 in Emoncms; a strict server rejects it (SPEC §4 quirks).",
                  .plaintext = PT, .authorization = "${uid}abc:${hmac}"),
    SRV_SPEC_CASE("server/4.auth/userid-leading-zero", "'01' is user 1 in Emoncms (integer cast); a strict server rejects it (SPEC §4 quirks).",
                  .plaintext = PT, .authorization = "0${uid}:${hmac}"),
    SRV_SPEC_CASE("server/4.auth/hmac-empty", "'userid:' with an empty HMAC MUST be 'invalid data' (SPEC §4).",
                  .plaintext = PT, .authorization = "${uid}:"),
};
SRV_CASES_COUNT(4_auth);
