/* see status.h */
#include "emoncrypt/status.h"

#include <string.h>

static const struct {
    const char *name;
    const char *text;
} status_table[] = {
#define EC_STATUS_ROW_(code, name, text) {name, text},
    EC_STATUS_LIST(EC_STATUS_ROW_)
#undef EC_STATUS_ROW_
};

const char *ec_status_name(ec_status s)
{
    if ((unsigned)s >= (unsigned)EC_STATUS_COUNT_)
        return "unknown";
    return status_table[s].name;
}

const char *ec_status_text(ec_status s)
{
    if ((unsigned)s >= (unsigned)EC_STATUS_COUNT_)
        return "unknown status";
    return status_table[s].text;
}

int ec_status_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < (int)EC_STATUS_COUNT_; i++)
        if (strcmp(status_table[i].name, name) == 0)
            return i;
    return -1;
}
