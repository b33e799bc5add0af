/* server/3.ctype/… — the Content-Type is matched exactly: any other value
 * is not the encrypted method, and with an Authorization header Emoncms
 * answers 401 "Invalid API key" (SPEC §3, §4). */
#include "server/srv.h"

#include <stdlib.h>
#include <string.h>

#include "emoncrypt/message.h"

#define EXACT "Content-Type MUST be matched exactly, case-sensitively, with no parameters; anything else is not the encrypted method (SPEC §3)."
#define PT "node=${node}&csv=${v}"

/* Whether " aes128cbc " reaches the application trimmed depends on the
 * web server in front of PHP (Apache and nginx trim; PHP's built-in server
 * does not), so an answer as for a foreign Content-Type is reported, not
 * failed. */
static void run_surrounding_space(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    const srv_spec *spec = c->arg;
    srv_probe p;
    if (srv_build(ctx, spec, srv_next_marker(ctx), &p, NULL, NULL) != 0) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "internal: could not build the request");
        srv_probe_free(&p);
        return;
    }
    srv_reply r;
    srv_judge(ctx, c, &p, 0, out, &r);
    if (out->verdict == EC_VERDICT_FAIL && r.net == SRV_NET_OK) {
        /* what the untrimmed value gets: any other type's answer */
        srv_probe other = p;
        other.content_type = "application/octet-stream";
        srv_expect e;
        if (srv_expect_answer(ctx, &other, ctx->opt->strict, &e) == 0) {
            if (r.status == e.status && r.body_len == e.body_len && memcmp(r.body, e.body, e.body_len) == 0) {
                char *got = srv_reply_text(&r);
                out->verdict = EC_VERDICT_INFO;
                srv_say(out, "answered %s: the whitespace around the value reached the application, so it was "
                        "not the encrypted method (Apache and nginx trim it; PHP's built-in server does not)", got);
                free(got);
            }
            srv_expect_free(&e);
        }
    }
    srv_reply_free(&r);
    srv_probe_free(&p);
}

const srv_case srv_cases_3_ctype[] = {
    { .id = "server/3.ctype/uppercase",
      .mutants = "ctype-case-insensitive",
      .requirement = EXACT,
      SRV_SPEC(.plaintext = PT, .content_type = "AES128CBC") },
    { .id = "server/3.ctype/mixed-case",
      .mutants = "ctype-case-insensitive",
      .requirement = EXACT,
      SRV_SPEC(.plaintext = PT, .content_type = "Aes128Cbc") },
    { .id = "server/3.ctype/gz-uppercase",
      .mutants = "ctype-case-insensitive",
      .requirement = EXACT,
      SRV_SPEC(.profile = 1, .plaintext = PT, .content_type = "AES128CBCGZ") },
    { .id = "server/3.ctype/with-parameter",
      .mutants = "ctype-parameters",
      .requirement = EXACT,
      SRV_SPEC(.plaintext = PT, .content_type = "aes128cbc; charset=utf-8") },
    { .id = "server/3.ctype/octet-stream",
      .no_mutant = "no mutant yet: serve has no variant that takes this Content-Type as encrypted (ctype-case-insensitive and ctype-parameters are the matching rule's mutants)",
      .requirement = EXACT,
      SRV_SPEC(.plaintext = PT, .content_type = "application/octet-stream") },
    { .id = "server/3.ctype/text-plain",
      .no_mutant = "no mutant yet: serve has no variant that takes this Content-Type as encrypted (ctype-case-insensitive and ctype-parameters are the matching rule's mutants)",
      .requirement = EXACT,
      SRV_SPEC(.plaintext = PT, .content_type = "text/plain") },
    { .id = "server/3.ctype/dashed",
      .no_mutant = "no mutant yet: serve has no variant that takes this Content-Type as encrypted (ctype-case-insensitive and ctype-parameters are the matching rule's mutants)",
      .requirement = EXACT,
      SRV_SPEC(.plaintext = PT, .content_type = "aes-128-cbc") },
    { .id = "server/3.ctype/absent",
      .no_mutant = "no mutant yet: serve has no variant that takes this Content-Type as encrypted (ctype-case-insensitive and ctype-parameters are the matching rule's mutants)",
      .requirement = EXACT,
      SRV_SPEC(.plaintext = PT, .content_type = SRV_ABSENT) },
    { .id = "server/3.ctype/surrounding-space",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "Whitespace around a header value is not part of it (RFC 9110 §5.5): ' aes128cbc ' is aes128cbc.",
      .run = run_surrounding_space, .arg = &(const srv_spec){ .plaintext = PT, .content_type = " aes128cbc " },
      .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
};
SRV_CASES_COUNT(3_ctype);
