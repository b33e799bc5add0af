/* server/3.post/… — every valid form of an encrypted input/post (SPEC §3,
 * §5): each must be acknowledged with the ack of its plaintext. */
#include "server/srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/message.h"

#define ACKED "A correct aes128cbc request MUST be answered with the 44-character ack of its plaintext (SPEC §3, §4)."

/* About 4 KB of plaintext, the most IoTaWatt sends in one post.  The bulk
 * of it is a parameter Emoncms ignores, so that a run against a real
 * account creates two inputs here, not hundreds. */
static void run_large(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    char *pt = malloc(4200);
    if (!pt)
        return;
    uint32_t v = srv_next_marker(ctx);
    int n = snprintf(pt, 4200, "node=%s&fulljson={\"power1\":%u,\"power2\":%u}&note=", ctx->node, v, v + 1);
    for (; n < 4096; n++)
        pt[n] = (char)('a' + n % 26);
    pt[n] = 0;
    srv_spec spec = { .profile = (int)(intptr_t)c->arg, .plaintext = pt };
    srv_case local = *c;
    local.arg = &spec;
    srv_run_spec(ctx, &local, out);
    free(pt);
}

const srv_case srv_cases_3_post[] = {
    { .id = "server/3.post/fulljson",
      .mutants = "ignore-iv,ack-newline",
      .requirement = ACKED,
      SRV_SPEC(.plaintext = "node=${node}&fulljson={\"power1\":${v},\"power2\":${v1}}") },
    { .id = "server/3.post/json",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED,
      SRV_SPEC(.plaintext = "node=${node}&json={power1:${v},power2:${v1}}") },
    { .id = "server/3.post/csv",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED,
      SRV_SPEC(.plaintext = "node=${node}&csv=${v},${v1},${v2}") },
    { .id = "server/3.post/data",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED,
      SRV_SPEC(.plaintext = "node=${node}&data=power1:${v},power2:${v1}") },
    { .id = "server/3.post/time-param",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " time= sets the time (SPEC §5).",
      SRV_SPEC(.plaintext = "node=${node}&time=${now-60}&csv=${v}") },
    { .id = "server/3.post/time-in-fulljson",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " A time key inside fulljson sets the time (SPEC §5).",
      SRV_SPEC(.plaintext = "node=${node}&fulljson={\"time\":${now-30},\"power\":${v}}") },
    { .id = "server/3.post/path-node",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " The node may come from /input/post/NODE (SPEC §1).",
      SRV_SPEC(.plaintext = "fulljson={\"power\":${v}}", .path = "/input/post/${node}") },
    { .id = "server/3.post/json-suffix",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " /input/post.json is the same route (SPEC §1).",
      SRV_SPEC(.plaintext = "node=${node}&csv=${v}", .path = "/input/post.json") },
    { .id = "server/3.post/one-block",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " A plaintext shorter than a block still pads to one.",
      SRV_SPEC(.plaintext = "csv=${v}", .path = "/input/post/${node}") },
    { .id = "server/3.post/block-multiple",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " A plaintext that is a multiple of 16 gets a full pad block (SPEC §2).",
      SRV_SPEC(.plaintext = "node=${node}&csv=${v}", .shape = SRV_SHAPE_BLOCK_MULTIPLE) },
    { .id = "server/3.post/b64-padding-kept",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " The body's '=' padding is allowed (SPEC §3).",
      SRV_SPEC(.plaintext = "node=${node}&csv=${v}", .shape = SRV_SHAPE_PARTIAL_QUANTUM) },
    { .id = "server/3.post/b64-no-padding",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " Trailing '=' in the body is optional (SPEC §3).",
      SRV_SPEC(.plaintext = "node=${node}&csv=${v}", .edit = SRV_EDIT_STRIP_PADDING) },
    { .id = "server/3.post/std-alphabet",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "Emoncms also accepts the standard base64 alphabet ('+' '/'); a strict server MAY reject it (SPEC §3, §4 quirks).",
      SRV_SPEC(.plaintext = "node=${node}&csv=${v},${v1},${v2},${v}", .mistakes = EC_MISTAKE_STD_ALPHABET) },
    { .id = "server/3.post/std-alphabet-no-padding",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "Emoncms also accepts standard base64 without '='; a strict server MAY reject it (SPEC §3).",
      SRV_SPEC(.plaintext = "node=${node}&csv=${v},${v1},${v2}", .edit = SRV_EDIT_STD_ALPHABET_NO_PAD) },
    { .id = "server/3.post/header-names-lowercase",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " Header names are case-insensitive (SPEC §7, IoTaWatt sends content-type).",
      SRV_SPEC(.plaintext = "node=${node}&csv=${v}", .lower_header_names = 1) },
    { .id = "server/3.post/duplicate-key",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " A later duplicate key wins (SPEC §3).",
      SRV_SPEC(.plaintext = "node=${node}&csv=1&csv=${v}") },
    { .id = "server/3.post/value-with-equals",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " A piece with two '=' is dropped silently (SPEC §3).",
      SRV_SPEC(.plaintext = "node=${node}&csv=${v}&note=a=b") },
    { .id = "server/3.post/empty-plaintext",
      .mutants = "ignore-iv,hmac-uppercase-only",
      .requirement = "An authenticated empty plaintext gets the application's answer, not 'invalid data' (SPEC §4).",
      SRV_SPEC(.plaintext = "") },
    { .id = "server/3.post/large-4k",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = ACKED " A 4 KB plaintext (IoTaWatt's largest) is acknowledged.",
      .run = run_large, .arg = (const void *)(intptr_t)0,
      .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
};
SRV_CASES_COUNT(3_post);
