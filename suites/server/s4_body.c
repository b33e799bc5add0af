/* server/4.body/… — the body: non-empty, base64 (URL alphabet), IV plus
 * whole blocks.  Emoncms's decoder is lenient (it skips characters outside
 * the alphabet); a strict server MAY reject them (SPEC §3, §4). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define PT "node=${node}&csv=${v}"
#define LENIENT "Emoncms's base64 decoder skips bytes outside the alphabet and '=' anywhere, so the request still decrypts; a strict server MAY reject it (SPEC §3)."
#define INVALID "Every failure to decode, decrypt or authenticate MUST get the one answer 'invalid data' (SPEC §4)."

const srv_case srv_cases_4_body[] = {
    { .id = "server/4.body/empty",
      .requirement = "An empty body MUST get 'no content in post body' (SPEC §4).",
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_EMPTY) },
    { .id = "server/4.body/whitespace-only",
      .requirement = INVALID,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_REPLACE, .edit_arg = " ") },
    { .id = "server/4.body/char-outside-alphabet",
      .requirement = LENIENT,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = "!") },
    { .id = "server/4.body/newline",
      .requirement = LENIENT,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = "\n") },
    { .id = "server/4.body/space",
      .requirement = LENIENT,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = " ") },
    { .id = "server/4.body/non-ascii",
      .requirement = LENIENT,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = "\xc3\xa9") },
    { .id = "server/4.body/padding-in-middle",
      .requirement = LENIENT,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_INSERT_MIDDLE, .edit_arg = "=") },
    { .id = "server/4.body/extra-padding",
      .requirement = LENIENT,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_APPEND, .edit_arg = "==") },
    { .id = "server/4.body/trailing-bits",
      .requirement = LENIENT,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_TRAILING_BITS) },
    { .id = "server/4.body/truncated-char",
      .requirement = INVALID " One character short loses a byte: the ciphertext is not whole blocks.",
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_DROP_LAST_CHAR) },
    { .id = "server/4.body/percent-encoded-padding",
      .requirement = INVALID " '%3D' is not '='.",
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_PERCENT_PADDING) },
    { .id = "server/4.body/form-encoded",
      .requirement = INVALID " The body is the bare base64, not a form field.",
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_FORM) },
    { .id = "server/4.body/not-base64",
      .requirement = INVALID,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_REPLACE, .edit_arg = "this is not base64 at all!") },
    { .id = "server/4.body/only-iv",
      .requirement = INVALID " A body of the IV alone has no ciphertext.",
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_KEEP_BYTES, .edit_arg = "16") },
    { .id = "server/4.body/shorter-than-iv",
      .requirement = INVALID,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_KEEP_BYTES, .edit_arg = "15") },
    { .id = "server/4.body/iv-plus-partial-block",
      .requirement = INVALID,
      SRV_SPEC(.plaintext = PT, .edit = SRV_EDIT_KEEP_BYTES, .edit_arg = "31") },
};
SRV_CASES_COUNT(4_body);
