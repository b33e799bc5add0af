/* see srv.h — sending probes over the HTTP client (httpclient.h).  This is
 * the only file of the suite that includes httpclient.h (see srv.h). */
#include "server/srv.h"

#include <stdlib.h>
#include <string.h>

#include "emoncrypt/httpclient.h"

/* see srv.h */
void *srv_http_client_new(void)
{
    return ec_http_client_new();
}

/* see srv.h */
void srv_http_client_free(void *client)
{
    ec_http_client_free(client);
}

/* The httpclient request for p; url and headers are caller storage. */
static void to_request(srv_ctx *ctx, const srv_probe *p, char *url, size_t url_cap,
                       ec_http_header *headers, ec_http_client_request *req)
{
    snprintf(url, url_cap, "%s%s%s%s", ctx->base, p->path, p->query ? "?" : "",
             p->query ? p->query : "");
    size_t n = 0;
    if (p->content_type)
        headers[n++] = (ec_http_header){ p->lower_header_names ? "content-type" : "Content-Type",
                                         p->content_type };
    if (p->authorization)
        headers[n++] = (ec_http_header){ p->lower_header_names ? "authorization" : "Authorization",
                                         p->authorization };
    for (size_t i = 0; i < p->n_extra; i++)
        headers[n++] = (ec_http_header){ p->extra[i].name, p->extra[i].value };
    memset(req, 0, sizeof *req);
    req->method = p->method[0] ? p->method : "POST";
    req->url = url;
    req->headers = headers;
    req->header_count = n;
    req->body = p->body ? p->body : (const unsigned char *)"";
    req->body_len = p->body_len;
    req->timeout_ms = p->timeout_ms > 0 ? p->timeout_ms : ctx->timeout_ms;
    /* An unreachable target must be reported in well under 2 s. */
    req->connect_timeout_ms = req->timeout_ms < 1500 ? req->timeout_ms : 1500;
    req->max_response_body = 64 * 1024;
}

static void from_response(const ec_http_response *resp, srv_reply *r)
{
    memset(r, 0, sizeof *r);
    switch (resp->error) {
    case EC_HTTP_ERR_NONE:
    case EC_HTTP_ERR_TOO_LARGE:
        r->net = SRV_NET_OK;
        break;
    case EC_HTTP_ERR_CONNECT:
        r->net = SRV_NET_CONNECT;
        break;
    case EC_HTTP_ERR_TIMEOUT:
        r->net = SRV_NET_TIMEOUT;
        break;
    default:
        r->net = SRV_NET_OTHER;
        break;
    }
    r->status = resp->status;
    r->content_type = resp->content_type ? strdup(resp->content_type) : NULL;
    r->body = malloc(resp->body_len + 1);
    if (r->body) {
        if (resp->body_len)
            memcpy(r->body, resp->body, resp->body_len);
        r->body[resp->body_len] = 0;
        r->body_len = resp->body_len;
    }
    r->elapsed_ms = resp->elapsed_ms;
    snprintf(r->message, sizeof r->message, "%s", resp->message);
}

/* see srv.h */
void srv_send(srv_ctx *ctx, const srv_probe *p, srv_reply *r)
{
    char url[1024];
    ec_http_header headers[2 + SRV_MAX_EXTRA_HEADERS];
    ec_http_client_request req;
    to_request(ctx, p, url, sizeof url, headers, &req);
    ec_http_response resp;
    memset(&resp, 0, sizeof resp);
    ec_http_client_send(ctx->http, &req, &resp);
    from_response(&resp, r);
    ec_http_response_free(&resp);
    if (srv_trace_recording()) {
        const char *names[2 + SRV_MAX_EXTRA_HEADERS], *values[2 + SRV_MAX_EXTRA_HEADERS];
        for (size_t i = 0; i < req.header_count; i++) {
            names[i] = headers[i].name;
            values[i] = headers[i].value;
        }
        char pq[1024];
        snprintf(pq, sizeof pq, "%s%s%s", p->path, p->query ? "?" : "", p->query ? p->query : "");
        srv_trace_http("target", req.method, pq, names, values, req.header_count, req.body,
                       req.body_len, req.timeout_ms, r);
    }
}

/* see srv.h */
void srv_get(srv_ctx *ctx, const char *base, const char *path_query, long timeout_ms,
             srv_reply *r)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", base, path_query);
    ec_http_client_request req;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = url;
    req.timeout_ms = timeout_ms;
    req.connect_timeout_ms = timeout_ms < 1500 ? timeout_ms : 1500;
    req.max_response_body = 16 * 1024 * 1024;
    ec_http_response resp;
    memset(&resp, 0, sizeof resp);
    ec_http_client_send(ctx->http, &req, &resp);
    from_response(&resp, r);
    ec_http_response_free(&resp);
    /* Only a 200's body of /emoncrypt/rows is read (srv_rows_read): an
     * Emoncms answers it with its whole HTML page, naming the host, which
     * a transcript does not keep. */
    srv_reply kept = *r;
    if (strncmp(path_query, "/emoncrypt/rows", 15) == 0 && r->status != 200) {
        kept.body = (uint8_t *)"";
        kept.body_len = 0;
    }
    srv_trace_http(strcmp(base, ctx->base) == 0 ? "target" : "rows", "GET", path_query, NULL, NULL,
                   0, NULL, 0, timeout_ms, &kept);
}

/* see srv.h */
char *srv_curl(srv_ctx *ctx, const srv_probe *p)
{
    char url[1024];
    ec_http_header headers[2 + SRV_MAX_EXTRA_HEADERS];
    ec_http_client_request req;
    to_request(ctx, p, url, sizeof url, headers, &req);
    return ec_http_curl_command(&req, ctx->opt->apikey_hex, ctx->opt->show_secrets);
}

/* see srv.h */
void srv_reply_free(srv_reply *r)
{
    if (!r)
        return;
    free(r->content_type);
    free(r->body);
    memset(r, 0, sizeof *r);
}
