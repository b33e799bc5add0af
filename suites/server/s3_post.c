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
    SRV_SPEC_CASE("server/3.post/fulljson", ACKED,
                  .plaintext = "node=${node}&fulljson={\"power1\":${v},\"power2\":${v1}}"),
    SRV_SPEC_CASE("server/3.post/json", ACKED,
                  .plaintext = "node=${node}&json={power1:${v},power2:${v1}}"),
    SRV_SPEC_CASE("server/3.post/csv", ACKED,
                  .plaintext = "node=${node}&csv=${v},${v1},${v2}"),
    SRV_SPEC_CASE("server/3.post/data", ACKED,
                  .plaintext = "node=${node}&data=power1:${v},power2:${v1}"),
    SRV_SPEC_CASE("server/3.post/time-param", ACKED " time= sets the time (SPEC §5).",
                  .plaintext = "node=${node}&time=${now-60}&csv=${v}"),
    SRV_SPEC_CASE("server/3.post/time-in-fulljson", ACKED " A time key inside fulljson sets the time (SPEC §5).",
                  .plaintext = "node=${node}&fulljson={\"time\":${now-30},\"power\":${v}}"),
    SRV_SPEC_CASE("server/3.post/path-node", ACKED " The node may come from /input/post/NODE (SPEC §1).",
                  .plaintext = "fulljson={\"power\":${v}}", .path = "/input/post/${node}"),
    SRV_SPEC_CASE("server/3.post/json-suffix", ACKED " /input/post.json is the same route (SPEC §1).",
                  .plaintext = "node=${node}&csv=${v}", .path = "/input/post.json"),
    SRV_SPEC_CASE("server/3.post/one-block", ACKED " A plaintext shorter than a block still pads to one.",
                  .plaintext = "csv=${v}", .path = "/input/post/${node}"),
    SRV_SPEC_CASE("server/3.post/block-multiple", ACKED " A plaintext that is a multiple of 16 gets a full pad block (SPEC §2).",
                  .plaintext = "node=${node}&csv=${v}", .shape = SRV_SHAPE_BLOCK_MULTIPLE),
    SRV_SPEC_CASE("server/3.post/b64-padding-kept", ACKED " The body's '=' padding is allowed (SPEC §3).",
                  .plaintext = "node=${node}&csv=${v}", .shape = SRV_SHAPE_PARTIAL_QUANTUM),
    SRV_SPEC_CASE("server/3.post/b64-no-padding", ACKED " Trailing '=' in the body is optional (SPEC §3).",
                  .plaintext = "node=${node}&csv=${v}", .edit = SRV_EDIT_STRIP_PADDING),
    SRV_SPEC_CASE("server/3.post/std-alphabet", "Emoncms also accepts the standard base64 alphabet ('+' '/'); a strict server MAY reject it (SPEC §3, §4 quirks).",
                  .plaintext = "node=${node}&csv=${v},${v1},${v2},${v}", .mistakes = EC_MISTAKE_STD_ALPHABET),
    SRV_SPEC_CASE("server/3.post/std-alphabet-no-padding", "Emoncms also accepts standard base64 without '='; a strict server MAY reject it (SPEC §3).",
                  .plaintext = "node=${node}&csv=${v},${v1},${v2}", .edit = SRV_EDIT_STD_ALPHABET_NO_PAD),
    SRV_SPEC_CASE("server/3.post/header-names-lowercase", ACKED " Header names are case-insensitive (SPEC §7, IoTaWatt sends content-type).",
                  .plaintext = "node=${node}&csv=${v}", .lower_header_names = 1),
    SRV_SPEC_CASE("server/3.post/duplicate-key", ACKED " A later duplicate key wins (SPEC §3).",
                  .plaintext = "node=${node}&csv=1&csv=${v}"),
    SRV_SPEC_CASE("server/3.post/value-with-equals", ACKED " A piece with two '=' is dropped silently (SPEC §3).",
                  .plaintext = "node=${node}&csv=${v}&note=a=b"),
    SRV_SPEC_CASE("server/3.post/empty-plaintext", "An authenticated empty plaintext gets the application's answer, not 'invalid data' (SPEC §4).",
                  .plaintext = ""),
    { "server/3.post/large-4k", ACKED " A 4 KB plaintext (IoTaWatt's largest) is acknowledged.",
      run_large, (const void *)(intptr_t)0, SRV_P_CURRENT, SRV_STRICT_NON_STRICT },
};
SRV_CASES_COUNT(3_post);
