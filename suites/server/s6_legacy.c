/* server/6.legacy/… — the 2017 POST /input/encrypted form (SPEC §6): no
 * MAC, JSON rows, the same ack.  Only with --profile legacy. */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define ROWS "[[${now-10},\"${node}\",${v},${v1}]]"

const srv_case srv_cases_6_legacy[] = {
    SRV_LEGACY_CASE("server/6.legacy/valid", "A correct legacy request MUST be answered with the ack of its plaintext (SPEC §6).",
                    .plaintext = ROWS),
    SRV_LEGACY_CASE("server/6.legacy/no-b64-padding", "The example client strips '=' padding; it MUST be accepted (SPEC §6).",
                    .plaintext = ROWS, .edit = SRV_EDIT_STRIP_PADDING),
    SRV_LEGACY_CASE("server/6.legacy/two-rows", "Several rows, ascending absolute times (SPEC §6).",
                    .plaintext = "[[${now-20},\"${node}\",${v}],[${now-10},\"${node}\",${v1}]]"),
    SRV_LEGACY_CASE("server/6.legacy/missing-data", "Without data= the answer MUST be 'Missing username or data parameters' (SPEC §6).",
                    .plaintext = ROWS, .edit = SRV_EDIT_REPLACE, .edit_arg = "username=x"),
    SRV_LEGACY_CASE("server/6.legacy/missing-username", "Without username= the answer MUST be 'Missing username or data parameters' (SPEC §6).",
                    .plaintext = ROWS, .edit = SRV_EDIT_REPLACE, .edit_arg = "data=AAAA"),
    SRV_LEGACY_CASE("server/6.legacy/unknown-user", "An unknown username MUST get 'User not found' (SPEC §6).",
                    .plaintext = ROWS, .edit = SRV_EDIT_REPLACE, .edit_arg = "username=emoncrypt_nobody&data=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    SRV_LEGACY_CASE("server/6.legacy/wrong-key", "Data under another key MUST get 'Invalid data string or encryption key' (SPEC §6).",
                    .plaintext = ROWS, .edit = SRV_EDIT_WRONG_KEY),
    SRV_LEGACY_CASE("server/6.legacy/not-json", "A plaintext that is not JSON MUST get 'Invalid data string or encryption key' (SPEC §6).",
                    .plaintext = "node=${node}&csv=${v}"),
};
SRV_CASES_COUNT(6_legacy);
