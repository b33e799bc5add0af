/* server/4.quirk/… — Emoncms behaviours a strict server hardens: replays,
 * GET, URL parameters outside the MAC (SPEC §4 quirks, §3). */
#include "server/srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"

#define PT "node=${node}&csv=${v}"

/* The same bytes twice. */
static void run_replay(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    (void)c;
    srv_spec spec = { .plaintext = PT };
    srv_probe p;
    char ack[EC_ACK_LEN + 1];
    if (srv_build(ctx, &spec, srv_next_marker(ctx), &p, ack, NULL) != 0) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "internal: could not build the request");
        srv_probe_free(&p);
        return;
    }
    srv_describe(ctx, &p, out);
    srv_reply r1, r2;
    srv_send(ctx, &p, &r1);
    srv_send(ctx, &p, &r2);
    out->elapsed_ms = r1.elapsed_ms + r2.elapsed_ms;
    int first_acked = r1.net == SRV_NET_OK && r1.status == 200 && r1.body_len >= EC_ACK_LEN &&
                      memcmp(r1.body, ack, EC_ACK_LEN) == 0;
    int second_acked = r2.net == SRV_NET_OK && r2.status == 200 && r2.body_len >= EC_ACK_LEN &&
                       memcmp(r2.body, ack, EC_ACK_LEN) == 0;
    char *a1 = srv_reply_text(&r1), *a2 = srv_reply_text(&r2);
    if (!first_acked) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "the first, correct request was not acknowledged: %s", a1);
        srv_set_bytes(out, ack, EC_ACK_LEN, r1.body, r1.body_len);
    } else if (second_acked) {
        out->verdict = ctx->opt->strict ? EC_VERDICT_FAIL : EC_VERDICT_INFO;
        srv_say(out, "a byte-identical replay was accepted and acknowledged again (%s)%s", a2,
                ctx->opt->strict ? "; a strict server MUST reject replays"
                                 : "; Emoncms does the same: anyone who captures a request can resend it");
        if (ctx->opt->strict)
            srv_set_bytes(out, "(anything but the ack)", 22, r2.body, r2.body_len);
    } else {
        out->verdict = ctx->opt->strict ? EC_VERDICT_PASS : EC_VERDICT_INFO;
        srv_say(out, "the replay was refused: %s (hardened; Emoncms accepts replays)", a2);
    }
    free(a1);
    free(a2);
    srv_reply_free(&r1);
    srv_reply_free(&r2);
    srv_probe_free(&p);
}

/* ?time= outside the MAC: judged like any request, and what was stored is
 * reported when it can be read. */
static void run_query_time(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    const srv_spec *spec = c->arg;
    uint32_t v = srv_next_marker(ctx);
    srv_probe p;
    if (srv_build(ctx, spec, v, &p, NULL, NULL) != 0) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "internal: could not build the request");
        srv_probe_free(&p);
        return;
    }
    srv_judge(ctx, c, &p, 0, out, NULL);
    srv_probe_free(&p);
    if (out->verdict != EC_VERDICT_PASS)
        return;
    srv_row *rows = NULL;
    size_t n = 0;
    char why[300];
    int got = srv_rows_read(ctx, &rows, &n, why, sizeof why);
    const srv_row *mine = NULL;
    for (size_t i = 0; got == 1 && i < n; i++)
        if (!rows[i].is_null && rows[i].value == (double)v)
            mine = &rows[i];
    char *prev = out->message ? strdup(out->message) : strdup("");
    out->verdict = EC_VERDICT_INFO;
    if (mine) {
        long long age = (long long)srv_now() - (long long)mine->time;
        srv_say(out, "%s; the stored row is %lld s old: the URL's time= (not covered by the MAC) %s", prev, age,
                age > 3000 ? "was used, so a network attacker can move data in time" : "was ignored");
    } else {
        srv_say(out, "%s; the URL's time= is not covered by the MAC (stored time not checked: %s)", prev,
                got == 0 ? why : got == 1 ? "the row was not found" : "read failed");
    }
    free(prev);
    free(rows);
}

const srv_case srv_cases_4_quirk[] = {
    { .id = "server/4.quirk/replay",
      .mutants = "no-replay-cache,ack-of-ciphertext",
      .requirement = "Emoncms accepts a byte-identical replay (INFO); a strict server MUST refuse it (SPEC §4 quirks).",
      .run = run_replay, .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_FAIL },
    { .id = "server/4.quirk/get-method",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "Emoncms processes the same encrypted request sent as GET; a strict server MAY refuse it (SPEC §4 quirks).",
      SRV_SPEC(.plaintext = PT, .method = "GET") },
    { .id = "server/4.quirk/query-time",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "URL parameters are merged but not covered by the MAC: ?time= sets the time in Emoncms (SPEC §3, §4 quirks).",
      .run = run_query_time, .arg = &(const srv_spec){ .plaintext = PT, .query = "time=${now-3600}" },
      .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT },
    { .id = "server/4.quirk/query-unrelated",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "An unrelated URL parameter changes nothing (SPEC §3).",
      SRV_SPEC(.plaintext = PT, .query = "emoncrypt=1") },
    { .id = "server/4.quirk/query-node-with-plaintext-node",
      .mutants = "ack-newline,ack-of-ciphertext",
      .requirement = "The plaintext's node= overrides ?node= (param.php loads the URL first) (SPEC §3).",
      SRV_SPEC(.plaintext = PT, .query = "node=${node}") },
};
SRV_CASES_COUNT(4_quirk);
