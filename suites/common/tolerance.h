/* emoncrypt — what Emoncms tolerates (issue 11 points 6-7): one table both
 * roles judge by.
 *
 * A row is something the protocol says a careful peer avoids (SPEC §3,
 * §4 quirks) but the real Emoncms accepts and processes as intended.  In
 * the client role a device doing it is NON-STRICT (the post works on
 * Emoncms); in the server role a server accepting it answers as Emoncms
 * does.  Under --strict both roles judge it NON-STRICT, which counts as a
 * failure there: a strict server must refuse it, a strict device must not
 * send it.
 */
#ifndef EMONCRYPT_SUITES_COMMON_TOLERANCE_H
#define EMONCRYPT_SUITES_COMMON_TOLERANCE_H

#include <stddef.h>

typedef struct {
    const char *name;           /* "std-alphabet" */
    const char *what;           /* the behaviour, one phrase */
    const char *emoncms;        /* what Emoncms does with it (the fact) */
    const char *client_check;   /* client-role check id, or NULL */
    const char *server_cases[4];/* server-role case ids (NULL-terminated) */
} ec_tolerance;

/* The whole table. */
const ec_tolerance *ec_tolerances(size_t *count);
/* The row called name, or NULL. */
const ec_tolerance *ec_tolerance_find(const char *name);
/* The row whose server_cases list case_id (also "server/8.vectors/…"
 * vector ids listed there), or NULL. */
const ec_tolerance *ec_tolerance_of_server_case(const char *case_id);
/* The row judged by this client-role check id, or NULL. */
const ec_tolerance *ec_tolerance_of_client_check(const char *check_id);

#endif
