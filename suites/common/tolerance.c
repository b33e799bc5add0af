/* see tolerance.h — the facts come from Emoncms 11.16.8 (ef646455):
 * param.php, core.php, Modules/input/input_methods.php, Modules/user/user_model.php,
 * checked against a running copy on loopback. */
#include "common/tolerance.h"

#include <string.h>

static const ec_tolerance table[] = {
    { "std-alphabet", "a body in the standard base64 alphabet ('+' '/')",
      "param.php maps '-' '_' to '+' '/' and decodes with PHP's non-strict base64_decode, so both alphabets "
      "decrypt to the same bytes",
      "client/3.body/alphabet",
      { "server/3.post/std-alphabet", "server/3.post/std-alphabet-no-padding", NULL } },
    { "get-with-body", "the encrypted request sent with GET and a body",
      "index.php routes input/post and input/bulk whatever the method, and param.php reads the body",
      "client/3.route/method", { "server/4.quirk/get-method", NULL } },
    { "userid-cast", "a user id that is not plain decimal (1abc, 01)",
      "User::get_apikey_write() starts with (int) $userid: PHP's numeric prefix",
      "client/3.auth/userid", { "server/4.auth/userid-suffix", "server/4.auth/userid-leading-zero", NULL } },
    { "empty-pieces", "empty plaintext pieces ('&&' or a trailing '&')",
      "param.php explodes on '&' and drops pieces that do not split into two on '='", "client/5.plaintext/grammar",
      { NULL } },
    { "node-characters", "node name characters outside letters, digits, '_', whitespace, '-', '.'",
      "input_methods.php filters them out with preg_replace('/[^\\p{N}\\p{L}_\\s\\-.]/u', '')",
      "client/5.node/characters", { NULL } },
};

/* see tolerance.h */
const ec_tolerance *ec_tolerances(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}

/* see tolerance.h */
const ec_tolerance *ec_tolerance_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* see tolerance.h */
const ec_tolerance *ec_tolerance_of_server_case(const char *case_id)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        for (size_t k = 0; k < 4 && table[i].server_cases[k]; k++)
            if (strcmp(table[i].server_cases[k], case_id) == 0)
                return &table[i];
    return NULL;
}

/* see tolerance.h */
const ec_tolerance *ec_tolerance_of_client_check(const char *check_id)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].client_check && strcmp(table[i].client_check, check_id) == 0)
            return &table[i];
    return NULL;
}
