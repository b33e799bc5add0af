/* emoncrypt — client/5.time/…: the plaintext's time reference (SPEC §5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/client_internal.h"
#include "emoncrypt/plaintext.h"

/* client/5.time/mode */
static void c5_time_mode(const cs_run *run, const cs_request *r, cs_outcome *o)
{
    (void)run;
    if (!r->accepted)
        return;
    cs_outcome_set(o, EC_VERDICT_INFO, "%s", r->time_mode);
}

const cs_check c5_time_mode_check = {
    .id = "client/5.time/mode",
    .no_mutant = "report only (INFO): names the time reference the device uses",
    .requirement = "Time reference: time=T (absolute), sentat=S, offset=O, or none (now).",
    .on_request = c5_time_mode,
};
