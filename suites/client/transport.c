/* emoncrypt — the sender's HTTP exchanges, over httpclient.h (see
 * transport.h). */
#include "client/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emoncrypt/httpclient.h"

struct cs_transport {
    ec_http_client *client;
};

cs_transport *cs_transport_new(void)
{
    cs_transport *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->client = ec_http_client_new();
    if (t->client == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

void cs_transport_free(cs_transport *t)
{
    if (t == NULL)
        return;
    ec_http_client_free(t->client);
    free(t);
}

int cs_transport_send(cs_transport *t, const char *method, const char *url,
                      const char *const *headers, const void *body, size_t body_len,
                      long timeout_ms, cs_http_answer *a)
{
    memset(a, 0, sizeof *a);
    ec_http_header hs[8];
    size_t n = 0;
    for (size_t i = 0; headers != NULL && headers[i] != NULL && n < 8; i += 2, n++) {
        hs[n].name = headers[i];
        hs[n].value = headers[i + 1];
    }
    ec_http_client_request req = {
        .method = method,
        .url = url,
        .headers = hs,
        .header_count = n,
        .body = body,
        .body_len = body_len,
        .timeout_ms = timeout_ms,
        .max_response_body = 64 * 1024,
    };
    ec_http_response resp;
    memset(&resp, 0, sizeof resp);
    ec_status st = ec_http_client_send(t->client, &req, &resp);
    if (st == EC_E_ARG || st == EC_E_NOMEM) {
        snprintf(a->message, sizeof a->message, "%s", resp.message[0] ? resp.message : "bad request");
        ec_http_response_free(&resp);
        a->body = calloc(1, 1);
        return -1;
    }
    a->complete = resp.error == EC_HTTP_ERR_NONE;
    a->status = resp.status;
    if (resp.content_type != NULL)
        snprintf(a->content_type, sizeof a->content_type, "%s", resp.content_type);
    a->body = malloc(resp.body_len + 1);
    if (a->body != NULL) {
        if (resp.body_len)
            memcpy(a->body, resp.body, resp.body_len);
        a->body[resp.body_len] = 0;
        a->body_len = resp.body_len;
    }
    const char *ra = ec_http_response_header(&resp, "Retry-After");
    if (ra != NULL) {
        long v = strtol(ra, NULL, 10);
        a->retry_after_s = v > 0 && v < 86400 ? (unsigned)v : 0;
    }
    snprintf(a->error, sizeof a->error, "%s", ec_http_error_name(resp.error));
    snprintf(a->message, sizeof a->message, "%s", resp.message);
    a->elapsed_ms = resp.elapsed_ms;
    ec_http_response_free(&resp);
    return 0;
}

void cs_http_answer_free(cs_http_answer *a)
{
    if (a == NULL)
        return;
    free(a->body);
    memset(a, 0, sizeof *a);
}
