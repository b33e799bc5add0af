/* server/4.body/… — the body: non-empty, base64 (URL alphabet), IV plus
 * whole blocks.  Emoncms's decoder is lenient (it skips characters outside
 * the alphabet); a strict server MAY reject them (SPEC §3, §4). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define PT "node=${node}&csv=${v}"
#define LENIENT "Emoncms's base64 decoder skips bytes outside the alphabet and '=' anywhere, so the request still decrypts; a strict server MAY reject it (SPEC §3)."
#define INVALID "Every failure to decode, decrypt or authenticate MUST get the one answer 'invalid data' (SPEC §4)."

const srv_case srv_cases_4_body[] = {
    SRV_SPEC_CASE("server/4.body/empty", "An empty body MUST get 'no content in post body' (SPEC §4).",
                  .plaintext = PT, .edit = SRV_EDIT_EMPTY),
    SRV_SPEC_CASE("server/4.body/whitespace-only", INVALID, .plaintext = PT, .edit = SRV_EDIT_REPLACE, .edit_arg = " "),
    SRV_SPEC_CASE("server/4.body/char-outside-alphabet", LENIENT, .plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = "!"),
    SRV_SPEC_CASE("server/4.body/newline", LENIENT, .plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = "\n"),
    SRV_SPEC_CASE("server/4.body/space", LENIENT, .plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = " "),
    SRV_SPEC_CASE("server/4.body/non-ascii", LENIENT, .plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = "\xc3\xa9"),
    SRV_SPEC_CASE("server/4.body/padding-in-middle", LENIENT, .plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = "="),
    SRV_SPEC_CASE("server/4.body/extra-padding", LENIENT, .plaintext = PT, .edit = SRV_EDIT_APPEND, .edit_arg = "=="),
    SRV_SPEC_CASE("server/4.body/trailing-bits", LENIENT, .plaintext = PT, .edit = SRV_EDIT_TRAILING_BITS),
    SRV_SPEC_CASE("server/4.body/truncated-char", INVALID " One character short loses a byte: the ciphertext is not whole blocks.",
                  .plaintext = PT, .edit = SRV_EDIT_DROP_LAST_CHAR),
    SRV_SPEC_CASE("server/4.body/percent-encoded-padding", INVALID " '%3D' is not '='.",
                  .plaintext = PT, .edit = SRV_EDIT_PERCENT_PADDING),
    SRV_SPEC_CASE("server/4.body/form-encoded", INVALID " The body is the bare base64, not a form field.",
                  .plaintext = PT, .edit = SRV_EDIT_FORM),
    SRV_SPEC_CASE("server/4.body/not-base64", INVALID, .plaintext = PT, .edit = SRV_EDIT_REPLACE, .edit_arg = "this is not base64 at all!"),
    SRV_SPEC_CASE("server/4.body/only-iv", INVALID " A body of the IV alone has no ciphertext.",
                  .plaintext = PT, .edit = SRV_EDIT_KEEP_BYTES, .edit_arg = "16"),
    SRV_SPEC_CASE("server/4.body/shorter-than-iv", INVALID, .plaintext = PT, .edit = SRV_EDIT_KEEP_BYTES, .edit_arg = "15"),
    SRV_SPEC_CASE("server/4.body/iv-plus-partial-block", INVALID, .plaintext = PT, .edit = SRV_EDIT_KEEP_BYTES, .edit_arg = "31"),
};
SRV_CASES_COUNT(4_body);
