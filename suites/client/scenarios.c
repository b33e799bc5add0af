/* emoncrypt — the client-role scenarios as data: each one a list of
 * scripted answers the mock server gives to the device's next posts, one
 * row per post (like the reply part of a curl test case).  After the last
 * row, one more post is answered with the correct ack: it shows whether the
 * device resent what was not delivered (and only that).
 *
 * Bodies come from Emoncms: the error texts of SPEC §4 are PHP `echo`s
 * with PHP's default text/html; charset=UTF-8, the ack and the JSON errors
 * text/plain;charset=UTF-8. */
#include <string.h>

#include "client/client_suite.h"

#define HTML "text/html; charset=UTF-8"
/* What index.php sends with the ack and the JSON errors: PHP appends its
 * default_charset (docs/DISAGREEMENTS.md). */
#define PLAIN "text/plain;charset=UTF-8"

/* An answer that goes out at once. */
#define ANSWER(st, ct, k, txt) \
    {.status = st, .content_type = ct, .kind = k, .text = txt, .reset_after = -1}

const ec_client_scenario ec_client_scenarios[] = {
    {"happy", "client/7.scenario/happy",
     "After an ack, never resend the same rows (no duplicates).",
     1, EC_VERDICT_FAIL, 1,
     {ANSWER(200, PLAIN, EC_REPLY_ACK, NULL)}},
    {"wrong-ack", "client/7.scenario/wrong-ack",
     "Compare the reply with its own ack; a wrong hash means NOT delivered: keep the data "
     "and resend later.",
     0, EC_VERDICT_FAIL, 1,
     {ANSWER(200, PLAIN, EC_REPLY_OTHER_ACK, NULL)}},
    {"ack-hex", "client/7.scenario/ack-hex",
     "The ack is base64url of SHA-256 with '=' kept (44 characters); a hex digest is not it.",
     0, EC_VERDICT_FAIL, 1,
     {ANSWER(200, PLAIN, EC_REPLY_HEX_ACK, NULL)}},
    {"ack-no-padding", "client/7.scenario/ack-no-padding",
     "The ack always has 44 characters ending in '='; 43 characters are not the ack "
     "(a client that accepts them is lenient, not wrong).",
     0, EC_VERDICT_NON_STRICT, 1,
     {ANSWER(200, PLAIN, EC_REPLY_NO_PAD_ACK, NULL)}},
    {"error-text", "client/7.scenario/error-text",
     "Every SPEC §4 error text (HTTP 200) means NOT delivered: keep the data and resend it.",
     0, EC_VERDICT_FAIL, 5,
     {ANSWER(200, HTML, EC_REPLY_TEXT, "missing authorization header"),
      ANSWER(200, HTML, EC_REPLY_TEXT, "authorization header format should be userid:hmac"),
      ANSWER(200, HTML, EC_REPLY_TEXT, "User not found"),
      ANSWER(200, HTML, EC_REPLY_TEXT, "no content in post body"),
      ANSWER(200, HTML, EC_REPLY_TEXT, "invalid data")}},
    {"json-failure", "client/7.scenario/json-failure",
     "An application failure {\"success\": false, …} means NOT delivered.",
     0, EC_VERDICT_FAIL, 1,
     {ANSWER(200, PLAIN, EC_REPLY_TEXT,
             "{\"success\": false, \"message\": \"Format error, json string supplied is not valid\"}")}},
    {"http-500", "client/7.scenario/http-500",
     "A non-200 answer means NOT delivered.",
     0, EC_VERDICT_FAIL, 1,
     {ANSWER(500, HTML, EC_REPLY_TEXT,
             "<html><body><h1>500 Internal Server Error</h1></body></html>")}},
    {"http-429", "client/7.scenario/http-429",
     "429 Too Many Requests means NOT delivered; the resend SHOULD wait for Retry-After.",
     0, EC_VERDICT_FAIL, 1,
     {{.status = 429, .content_type = HTML, .kind = EC_REPLY_TEXT,
       .text = "Too Many Requests", .reset_after = -1, .retry_after_s = 1}}},
    {"timeout", "client/7.scenario/timeout",
     "No answer (a timeout) means NOT delivered.",
     0, EC_VERDICT_FAIL, 1,
     {{.status = 200, .content_type = PLAIN, .kind = EC_REPLY_ACK, .never = 1,
       .reset_after = -1}}},
    {"reset", "client/7.scenario/reset",
     "A connection closed in the middle of the answer means NOT delivered.",
     0, EC_VERDICT_FAIL, 1,
     {{.status = 200, .content_type = PLAIN, .kind = EC_REPLY_ACK, .reset_after = 10}}},
    {"slow", "client/7.scenario/slow",
     "An ack that arrives slowly (within the client's timeout) is still the ack: not resent.",
     1, EC_VERDICT_FAIL, 1,
     {{.status = 200, .content_type = PLAIN, .kind = EC_REPLY_ACK, .reset_after = -1,
       .trickle_interval_ms = 40, .trickle_bytes = 4}}},
    {"captive-portal", "client/7.scenario/captive-portal",
     "A 200 that is not the ack (an HTML sign-in page) means NOT delivered.",
     0, EC_VERDICT_FAIL, 1,
     {ANSWER(200, HTML, EC_REPLY_TEXT,
             "<!DOCTYPE html><html><head><title>Sign in to the network</title></head>"
             "<body><form method=\"post\" action=\"/login\"><input name=\"user\">"
             "<button>Sign in</button></form></body></html>")}},
};
const size_t ec_client_scenario_count = sizeof ec_client_scenarios / sizeof ec_client_scenarios[0];

/* see client_suite.h */
const ec_client_scenario *ec_client_scenario_find(const char *name)
{
    for (size_t i = 0; i < ec_client_scenario_count; i++)
        if (strcmp(ec_client_scenarios[i].name, name) == 0)
            return &ec_client_scenarios[i];
    return NULL;
}
