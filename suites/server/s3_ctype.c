/* server/3.ctype/… — the Content-Type is matched exactly: any other value
 * is not the encrypted method, and with an Authorization header Emoncms
 * answers 401 "Invalid API key" (SPEC §3, §4). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define EXACT "Content-Type MUST be matched exactly, case-sensitively, with no parameters; anything else is not the encrypted method (SPEC §3)."
#define PT "node=${node}&csv=${v}"

const srv_case srv_cases_3_ctype[] = {
    SRV_SPEC_CASE("server/3.ctype/uppercase", EXACT, .plaintext = PT, .content_type = "AES128CBC"),
    SRV_SPEC_CASE("server/3.ctype/mixed-case", EXACT, .plaintext = PT, .content_type = "Aes128Cbc"),
    SRV_SPEC_CASE("server/3.ctype/gz-uppercase", EXACT, .profile = 1, .plaintext = PT, .content_type = "AES128CBCGZ"),
    SRV_SPEC_CASE("server/3.ctype/with-parameter", EXACT, .plaintext = PT, .content_type = "aes128cbc; charset=utf-8"),
    SRV_SPEC_CASE("server/3.ctype/octet-stream", EXACT, .plaintext = PT, .content_type = "application/octet-stream"),
    SRV_SPEC_CASE("server/3.ctype/text-plain", EXACT, .plaintext = PT, .content_type = "text/plain"),
    SRV_SPEC_CASE("server/3.ctype/dashed", EXACT, .plaintext = PT, .content_type = "aes-128-cbc"),
    SRV_SPEC_CASE("server/3.ctype/absent", EXACT, .plaintext = PT, .content_type = SRV_ABSENT),
    SRV_SPEC_CASE("server/3.ctype/surrounding-space", "Whitespace around a header value is not part of it (RFC 9110 §5.5): ' aes128cbc ' is aes128cbc.",
                  .plaintext = PT, .content_type = " aes128cbc "),
};
SRV_CASES_COUNT(3_ctype);
