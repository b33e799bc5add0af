/* emoncrypt — replay a captured request and compare the answers (see
 * replay.h). */
#include "emoncrypt/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocol_internal.h"

/* see replay.h */
int ec_replay_header_skipped(const char *name)
{
    static const char *const transport[] = {"Host", "Content-Length", "Connection",
                                            "Transfer-Encoding", "Expect", "Keep-Alive", NULL};
    for (size_t i = 0; transport[i] != NULL; i++)
        if (strcasecmp(name, transport[i]) == 0)
            return 1;
    return 0;
}

static int contains(const void *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    const char *h = hay;
    for (size_t i = 0; h != NULL && i + k <= n; i++)
        if (memcmp(h + i, needle, k) == 0)
            return 1;
    return 0;
}

/* Content types compared as HTTP does: case-insensitive, and spaces
 * around ';' not significant ("text/plain; charset=UTF-8" equals
 * "text/plain;charset=utf-8"). */
static void normal_content_type(const char *in, char *out, size_t cap)
{
    size_t used = 0;
    for (; in != NULL && *in && used + 1 < cap; in++) {
        if (*in == ' ' || *in == '\t')
            continue;
        char ch = *in;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        out[used++] = ch;
    }
    out[used] = 0;
}

/* see replay.h */
ec_status ec_replay_record(ec_http_client *client, const ec_replay_config *cfg,
                           const ec_capture_record *rec, ec_replay_item *out)
{
    if (client == NULL || cfg == NULL || cfg->base_url == NULL || rec == NULL || out == NULL)
        return EC_E_ARG;
    memset(out, 0, sizeof *out);
    out->first_diff = -1;
    if (rec->kind == NULL || strcmp(rec->kind, "exchange") != 0 || rec->method == NULL ||
        rec->path == NULL)
        return EC_E_ARG;
    out->seq = rec->seq;
    snprintf(out->method, sizeof out->method, "%s", rec->method);
    int has_query = rec->query != NULL && rec->query[0] != 0;
    snprintf(out->target, sizeof out->target, "%s%s%s", rec->path, has_query ? "?" : "",
             has_query ? rec->query : "");
    out->has_captured = rec->has_reply;
    out->scripted = rec->has_reply &&
                    ((rec->reply_script != NULL && strcmp(rec->reply_script, "normal") != 0) ||
                     (cfg->scripted != NULL && cfg->scripted(cfg->scripted_ctx, rec)));
    if (rec->has_reply) {
        out->captured_status = rec->reply_status;
        snprintf(out->captured_content_type, sizeof out->captured_content_type, "%s",
                 rec->reply_content_type ? rec->reply_content_type : "");
        ec_escape_bytes(rec->reply_body, rec->reply_body_len, NULL, 0, out->captured_body,
              sizeof out->captured_body);
    }

    /* The request, as the device sent it. */
    size_t base_len = strlen(cfg->base_url);
    while (base_len > 0 && cfg->base_url[base_len - 1] == '/')
        base_len--;
    size_t url_len = base_len + strlen(out->target) + 1;
    char *url = malloc(url_len);
    ec_http_header *headers = calloc(rec->header_count + 1, sizeof *headers);
    if (url == NULL || headers == NULL) {
        free(url);
        free(headers);
        return EC_E_NOMEM;
    }
    snprintf(url, url_len, "%.*s%s", (int)base_len, cfg->base_url, out->target);
    size_t nh = 0;
    for (size_t i = 0; i < rec->header_count; i++) {
        const ec_capture_header *h = &rec->headers[i];
        if (h->name == NULL || h->value == NULL)
            continue;
        if (ec_replay_header_skipped(h->name))
            continue;
        if (contains(h->value, strlen(h->value), "[REDACTED]"))
            out->redacted = 1;
        headers[nh].name = h->name;
        headers[nh].value = h->value;
        nh++;
    }
    if (contains(out->target, strlen(out->target), "[REDACTED]") ||
        contains(rec->body, rec->body_len, "[REDACTED]"))
        out->redacted = 1;
    /* An empty captured body goes out as Content-Length: 0, except for
     * the methods that usually carry none. */
    static const uint8_t empty[1];
    ec_http_client_request req = {
        .method = rec->method,
        .url = url,
        .headers = headers,
        .header_count = nh,
        .body = rec->body_len > 0 ? rec->body
                : strcmp(rec->method, "GET") == 0 || strcmp(rec->method, "HEAD") == 0 ? NULL
                                                                                     : empty,
        .body_len = rec->body_len,
        .timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000,
    };
    ec_http_response resp;
    memset(&resp, 0, sizeof resp);
    ec_status st = ec_http_client_send(client, &req, &resp);
    free(url);
    free(headers);
    if (st == EC_E_NOMEM) {
        ec_http_response_free(&resp);
        return st;
    }
    out->error = resp.error;
    snprintf(out->error_text, sizeof out->error_text, "%s", resp.message);
    out->sent = resp.error != EC_HTTP_ERR_CONNECT && resp.error != EC_HTTP_ERR_ARG;
    out->replayed_status = resp.status;
    snprintf(out->replayed_content_type, sizeof out->replayed_content_type, "%s",
             resp.content_type ? resp.content_type : "");
    ec_escape_bytes(resp.body, resp.body_len, NULL, 0, out->replayed_body,
                    sizeof out->replayed_body);

    /* Compare. */
    char a[96], b[96];
    normal_content_type(out->captured_content_type, a, sizeof a);
    normal_content_type(out->replayed_content_type, b, sizeof b);
    out->same_status = rec->has_reply && resp.status == (long)rec->reply_status;
    out->same_content_type = rec->has_reply && strcmp(a, b) == 0;
    size_t common = rec->reply_body_len < resp.body_len ? rec->reply_body_len : resp.body_len;
    size_t i = 0;
    while (i < common && rec->reply_body[i] == resp.body[i])
        i++;
    out->same_body = rec->has_reply && rec->reply_body_len == resp.body_len && i == common;
    if (!out->same_body && rec->has_reply)
        out->first_diff = (long)i;
    out->same = out->same_status && out->same_content_type && out->same_body &&
                resp.error == EC_HTTP_ERR_NONE;

    if (!rec->has_reply)
        snprintf(out->difference, sizeof out->difference,
                 "the capture holds no answer to compare with");
    else if (resp.error != EC_HTTP_ERR_NONE && resp.status == 0)
        snprintf(out->difference, sizeof out->difference, "no answer (%s: %s); captured HTTP %u",
                 ec_http_error_name(resp.error), resp.message, rec->reply_status);
    else if (!out->same_status)
        snprintf(out->difference, sizeof out->difference, "status %ld, captured %u",
                 resp.status, rec->reply_status);
    else if (!out->same_body)
        snprintf(out->difference, sizeof out->difference,
                 "body differs from byte %ld (%zu bytes, captured %zu)", out->first_diff,
                 resp.body_len, rec->reply_body_len);
    else if (!out->same_content_type)
        snprintf(out->difference, sizeof out->difference, "Content-Type '%s', captured '%s'",
                 out->replayed_content_type, out->captured_content_type);
    else if (!out->same)
        snprintf(out->difference, sizeof out->difference, "the answer was cut short (%s)",
                 ec_http_error_name(resp.error));

    if (out->scripted)
        snprintf(out->note, sizeof out->note,
                 "the captured answer was scripted by test-client (scenario %s, step %d, "
                 "%s): a server's own answer is expected to differ",
                 rec->scenario ? rec->scenario : "?", rec->step,
                 rec->reply_script ? rec->reply_script : "normal");
    else if (out->redacted)
        snprintf(out->note, sizeof out->note,
                 "the capture redacted the API key: the replay sent '[REDACTED]' in its place");
    ec_http_response_free(&resp);
    return EC_OK;
}
