/* server/3.gz/… — Content-Type aes128cbcgz: the plaintext is zlib
 * (RFC 1950); the MAC and the ack cover the compressed bytes (SPEC §2–§4). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define GZ_ACKED "An aes128cbcgz request MUST be acknowledged with the ack of the compressed bytes (SPEC §2)."

const srv_case srv_cases_3_gz[] = {
    { .id = "server/3.gz/post",
      .mutants = "emoncms-no-gz,ack-newline",
      .requirement = GZ_ACKED,
      SRV_SPEC(.profile = 1,
               .plaintext = "node=${node}&fulljson={\"power1\":${v},\"power2\":${v1}}") },
    { .id = "server/3.gz/bulk",
      .mutants = "emoncms-no-gz,ack-newline",
      .requirement = GZ_ACKED,
      SRV_SPEC(.profile = 1, .bulk = 1,
               .plaintext = "time=${now-20}&data=[[0,\"${node}\",${v}],[10,\"${node}\",${v1}]]") },
    { .id = "server/3.gz/compressible",
      .mutants = "emoncms-no-gz,ack-newline",
      .requirement = GZ_ACKED,
      SRV_SPEC(.profile = 1, .bulk = 1,
               .plaintext = "sentat=30&data=[[0,\"${node}\",${v},${v},${v},${v}],[10,\"${node}\",${v},${v},${v},${v}],[20,\"${node}\",${v},${v},${v},${v}],[30,\"${node}\",${v},${v},${v},${v}]]") },
    { .id = "server/3.gz/gzip-header",
      .mutants = "emoncms-no-gz,ignore-iv",
      .requirement = "aes128cbcgz means zlib (RFC 1950), not gzip: a gzip body fails to inflate and gets the application's error (SPEC §2, §4).",
      SRV_SPEC(.profile = 1, .plaintext = "node=${node}&csv=${v}", .mistakes = EC_MISTAKE_GZIP_HEADER) },
    { .id = "server/3.gz/not-compressed",
      .mutants = "emoncms-no-gz,ignore-iv",
      .requirement = "An aes128cbcgz request whose plaintext is not zlib authenticates, then fails as no data (SPEC §4).",
      SRV_SPEC(.profile = 0, .content_type = "aes128cbcgz", .plaintext = "node=${node}&csv=${v}") },
    { .id = "server/3.gz/mac-over-inflated",
      .mutants = "emoncms-no-gz,accept-wrong-hmac",
      .requirement = "For aes128cbcgz the HMAC covers the compressed bytes; an HMAC over the inflated text MUST be 'invalid data' (SPEC §2).",
      SRV_SPEC(.profile = 1, .plaintext = "node=${node}&csv=${v}", .authorization = "${uid}:${hmac-inflated}") },
    { .id = "server/3.gz/sent-as-aes128cbc",
      .mutants = "ignore-iv,hmac-uppercase-only",
      .requirement = "A compressed plaintext sent as aes128cbc authenticates but carries no parameters (SPEC §4).",
      SRV_SPEC(.profile = 1, .content_type = "aes128cbc", .plaintext = "node=${node}&csv=${v}") },
};
SRV_CASES_COUNT(3_gz);
