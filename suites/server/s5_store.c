/* server/5.store/… — what the server stored, read back: every row of an
 * accepted request, in order, and nothing of a rejected one (SPEC §4, §5).
 * Needs a readable store: `emoncrypt serve` on loopback (GET
 * /emoncrypt/rows) or --rows-url; otherwise these cases SKIP. */
#include "server/srv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/codec.h"
#include "emoncrypt/message.h"

typedef enum { STORE_POST, STORE_ALL_ROWS, STORE_ORDER, STORE_NOTHING_ON_REJECT } store_check;

typedef struct {
    store_check check;
    srv_spec spec;
} store_arg;

/* Index of the first stored row with this value at or after from, or -1. */
static long find_value(const srv_row *rows, size_t n, double v, size_t from)
{
    for (size_t i = from; i < n; i++)
        if (!rows[i].is_null && srv_value_is(rows[i].value, v))
            return (long)i;
    return -1;
}

static void run_store(srv_ctx *ctx, const srv_case *c, srv_outcome *out)
{
    const store_arg *arg = c->arg;
    srv_row *rows = NULL;
    size_t n = 0;
    char why[256];
    /* Is the store readable at all?  (Before sending, so nothing is
     * written to a target we cannot check.) */
    int readable = srv_rows_read(ctx, &rows, &n, why, sizeof why);
    free(rows);
    rows = NULL;
    if (readable != 1) {
        out->verdict = EC_VERDICT_SKIP;
        srv_say(out, "%s", why);
        return;
    }
    uint32_t v = srv_next_marker(ctx);
    srv_probe p;
    if (srv_build(ctx, &arg->spec, v, &p, NULL, NULL) != 0) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "internal: could not build the request");
        srv_probe_free(&p);
        return;
    }
    srv_describe(ctx, &p, out);
    srv_reply r;
    srv_send(ctx, &p, &r);
    char *got = srv_reply_text(&r);
    readable = srv_rows_read(ctx, &rows, &n, why, sizeof why);
    if (readable != 1) {
        out->verdict = EC_VERDICT_FAIL;
        srv_say(out, "the stored rows could not be read back after the request: %s", why);
        goto done;
    }
    const double vals[3] = { v, v + 1.0, v + 2.0 };
    long at[3];
    for (int i = 0; i < 3; i++)
        at[i] = find_value(rows, n, vals[i], 0);
    char seen[240];
    srv_rows_values(rows, n, seen, sizeof seen);
    out->verdict = EC_VERDICT_PASS;
    switch (arg->check) {
    case STORE_ALL_ROWS:
        if (ctx->rows_last_only) {
            /* Emoncms's /input/get shows each input's last value: the
             * last row's must be there */
            if (at[2] < 0) {
                char exp[24], act[24];
                int el = snprintf(exp, sizeof exp, "%u", v + 2);
                int al = snprintf(act, sizeof act, "%s", at[0] >= 0 ? "first row" : at[1] >= 0 ? "second row" : "none");
                out->verdict = EC_VERDICT_FAIL;
                srv_say(out, "answered %s, but the input does not hold the last row's value %u: the last row of an "
                        "accepted bulk post MUST be stored (read back: %s)", got, v + 2, seen);
                srv_set_bytes(out, exp, (size_t)el, act, (size_t)al);
            } else {
                srv_say(out, "answered %s; the last row's value is the input's value (only last values are readable)", got);
            }
            break;
        }
        /* fall through */
    case STORE_POST: {
        int want = arg->check == STORE_POST ? 2 : 3;
        char missing[120] = "";
        size_t len = 0;
        for (int i = 0; i < want; i++)
            if (at[i] < 0)
                len += (size_t)snprintf(missing + len, sizeof missing - len, "%s%u", len ? ", " : "", v + (uint32_t)i);
        if (len) {
            out->verdict = EC_VERDICT_FAIL;
            srv_say(out, "answered %s, but the value%s %s %s not stored: every row of an accepted request MUST be stored "
                    "(read back: %s)", got, strchr(missing, ',') ? "s" : "", missing, strchr(missing, ',') ? "were" : "was", seen);
            char exp[80], act[80];
            size_t el = 0, al = 0;
            for (int i = 0; i < want; i++) {
                el += (size_t)snprintf(exp + el, sizeof exp - el, "%s%u", i ? "," : "", v + (uint32_t)i);
                if (at[i] >= 0)
                    al += (size_t)snprintf(act + al, sizeof act - al, "%s%u", al ? "," : "", v + (uint32_t)i);
            }
            srv_set_bytes(out, exp, el, act, al);
        } else {
            srv_say(out, "answered %s; all %d rows stored", got, want);
        }
        break;
    }
    case STORE_ORDER:
        if (ctx->rows_last_only) {
            /* rows processed in order leave the last row's value */
            if (at[2] < 0 && (at[0] >= 0 || at[1] >= 0)) {
                out->verdict = EC_VERDICT_FAIL;
                srv_say(out, "the input ends with the value of row %d, not of the last row (%u): rows MUST be "
                        "processed in the order sent (read back: %s)", at[0] >= 0 ? 1 : 2, v + 2, seen);
                srv_set_bytes(out, "last row", 8, at[0] >= 0 ? "row 1" : "row 2", 5);
            } else if (at[2] < 0) {
                out->verdict = EC_VERDICT_SKIP;
                srv_say(out, "no row was stored (see server/5.store/bulk-all-rows), so order cannot be judged");
            } else {
                srv_say(out, "the input ends with the last row's value: processed in the order sent");
            }
            break;
        }
        if (at[0] < 0 || at[1] < 0 || at[2] < 0) {
            out->verdict = EC_VERDICT_SKIP;
            srv_say(out, "not every row was stored (see server/5.store/bulk-all-rows), so order cannot be judged");
        } else if (!(at[0] < at[1] && at[1] < at[2])) {
            out->verdict = EC_VERDICT_FAIL;
            srv_say(out, "rows sent in time order (values %u, %u, %u) were stored at positions %ld, %ld, %ld: a server "
                    "MUST keep the order it received", v, v + 1, v + 2, at[0], at[1], at[2]);
            /* the three values in the order they were stored */
            char exp[80], act[80];
            int el = snprintf(exp, sizeof exp, "%u,%u,%u", v, v + 1, v + 2);
            int order[3] = { 0, 1, 2 };
            for (int i = 0; i < 3; i++)
                for (int k = i + 1; k < 3; k++)
                    if (at[order[k]] < at[order[i]]) {
                        int t = order[i];
                        order[i] = order[k];
                        order[k] = t;
                    }
            int al = snprintf(act, sizeof act, "%u,%u,%u", v + (uint32_t)order[0], v + (uint32_t)order[1],
                              v + (uint32_t)order[2]);
            srv_set_bytes(out, exp, (size_t)el, act, (size_t)al);
        } else {
            srv_say(out, "stored in the order sent");
        }
        break;
    case STORE_NOTHING_ON_REJECT:
        if (at[0] >= 0 || at[1] >= 0) {
            out->verdict = EC_VERDICT_FAIL;
            srv_say(out, "the request was rejected (%s) but its values were stored: nothing of a rejected request may be stored", got);
            char act[80];
            int al = snprintf(act, sizeof act, "stored: %s%s%s", at[0] >= 0 ? "v" : "", at[0] >= 0 && at[1] >= 0 ? "," : "",
                              at[1] >= 0 ? "v1" : "");
            srv_set_bytes(out, "stored: (nothing)", 17, act, (size_t)al);
        } else {
            srv_say(out, "rejected (%s) and nothing stored", got);
        }
        break;
    }
done:
    free(got);
    free(rows);
    srv_reply_free(&r);
    srv_probe_free(&p);
}

/* The fields every store row shares; each row writes out its id in full. */
#define STORE_RUN(check_, ...) \
    .run = run_store, .arg = &(const store_arg){ .check = check_, .spec = { __VA_ARGS__ } }, \
    .profiles = SRV_P_CURRENT, .strict_rule = SRV_STRICT_NON_STRICT

const srv_case srv_cases_5_store[] = {
    { .id = "server/5.store/post-stored",
      .mutants = "ignore-iv,hmac-uppercase-only",
      .requirement = "Every input of an acknowledged post MUST be stored (SPEC §4: the ack means delivered).",
      STORE_RUN(STORE_POST, .plaintext = "node=${node}&csv=${v},${v1}") },
    { .id = "server/5.store/bulk-all-rows",
      .mutants = "drop-last-bulk-row,ignore-iv",
      .requirement = "Every row of an acknowledged bulk post MUST be stored, the last one included (SPEC §5).",
      STORE_RUN(STORE_ALL_ROWS, .bulk = 1,
                .plaintext = "sentat=20&data=[[0,\"${node}\",${v}],[10,\"${node}\",${v1}],[20,\"${node}\",${v2}]]") },
    { .id = "server/5.store/bulk-row-order",
      .mutants = "reorder-rows",
      .requirement = "Rows MUST be stored in the order sent (SPEC §5: rows are in ascending time order).",
      STORE_RUN(STORE_ORDER, .bulk = 1,
                .plaintext = "sentat=20&data=[[0,\"${node}\",${v}],[10,\"${node}\",${v1}],[20,\"${node}\",${v2}]]") },
    { .id = "server/5.store/nothing-on-reject",
      .mutants = "store-rejected,accept-wrong-hmac",
      .requirement = "Nothing is stored for a rejected request (SPEC §4): a wrong HMAC on a body that decrypts.",
      STORE_RUN(STORE_NOTHING_ON_REJECT, .plaintext = "node=${node}&csv=${v},${v1}",
                .authorization = "${uid}:${hmac-flip}") },
};
SRV_CASES_COUNT(5_store);
