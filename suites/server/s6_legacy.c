/* server/6.legacy/… — the 2017 POST /input/encrypted form (SPEC §6): no
 * MAC, JSON rows, the same ack.  Only with --profile legacy. */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define ROWS "[[${now-10},\"${node}\",${v},${v1}]]"

const srv_case srv_cases_6_legacy[] = {
    { .id = "server/6.legacy/valid",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "A correct legacy request MUST be answered with the ack of its plaintext (SPEC §6).",
      SRV_LEGACY(.plaintext = ROWS) },
    { .id = "server/6.legacy/no-b64-padding",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "The example client strips '=' padding; it MUST be accepted (SPEC §6).",
      SRV_LEGACY(.plaintext = ROWS, .edit = SRV_EDIT_STRIP_PADDING) },
    { .id = "server/6.legacy/two-rows",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "Several rows, ascending absolute times (SPEC §6).",
      SRV_LEGACY(.plaintext = "[[${now-20},\"${node}\",${v}],[${now-10},\"${node}\",${v1}]]") },
    { .id = "server/6.legacy/missing-data",
      .no_mutant = "no mutant yet: serve has no legacy (/input/encrypted) variant; the legacy acks are the ack mutants' (server/6.legacy/valid)",
      .requirement = "Without data= the answer MUST be 'Missing username or data parameters' (SPEC §6).",
      SRV_LEGACY(.plaintext = ROWS, .edit = SRV_EDIT_REPLACE, .edit_arg = "username=x") },
    { .id = "server/6.legacy/missing-username",
      .no_mutant = "no mutant yet: serve has no legacy (/input/encrypted) variant; the legacy acks are the ack mutants' (server/6.legacy/valid)",
      .requirement = "Without username= the answer MUST be 'Missing username or data parameters' (SPEC §6).",
      SRV_LEGACY(.plaintext = ROWS, .edit = SRV_EDIT_REPLACE, .edit_arg = "data=AAAA") },
    { .id = "server/6.legacy/unknown-user",
      .no_mutant = "no mutant yet: serve has no legacy (/input/encrypted) variant; the legacy acks are the ack mutants' (server/6.legacy/valid)",
      .requirement = "An unknown username MUST get 'User not found' (SPEC §6).",
      SRV_LEGACY(.plaintext = ROWS, .edit = SRV_EDIT_REPLACE, .edit_arg = "username=emoncrypt_nobody&data=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") },
    { .id = "server/6.legacy/wrong-key",
      .no_mutant = "no mutant yet: serve has no legacy (/input/encrypted) variant; the legacy acks are the ack mutants' (server/6.legacy/valid)",
      .requirement = "Data under another key MUST get 'Invalid data string or encryption key' (SPEC §6).",
      SRV_LEGACY(.plaintext = ROWS, .edit = SRV_EDIT_WRONG_KEY) },
    { .id = "server/6.legacy/not-json",
      .no_mutant = "no mutant yet: serve has no legacy (/input/encrypted) variant; the legacy acks are the ack mutants' (server/6.legacy/valid)",
      .requirement = "A plaintext that is not JSON MUST get 'Invalid data string or encryption key' (SPEC §6).",
      SRV_LEGACY(.plaintext = "node=${node}&csv=${v}") },
};
SRV_CASES_COUNT(6_legacy);
