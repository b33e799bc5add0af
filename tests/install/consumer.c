/* A program outside the project that uses the installed codec library
 * (libemoncrypt, emoncrypt::codec) only: builds SPEC §8's reference request
 * and checks its ack.  Built by ctest install/consumer with pkg-config and
 * with find_package, shared and static. */
#include <stdio.h>
#include <string.h>

#include "consumer_request.h"

int main(void)
{
    static const char ack_want[] = "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=";
    ec_request r;
    ec_request_init(&r);
    if (consumer_request(&r) != EC_OK)
        return 1;
    /* SPEC §8's request and ack */
    int ok = strncmp(r.body, "AAECAwQFBgcICQoLDA0OD6ysannEGt7kNt4Vg14VcF8g", 44) == 0 &&
             strcmp(r.ack, ack_want) == 0;
    ec_ack_check c;
    ec_ack_verify(&r, 200, ack_want, strlen(ack_want), 1, &c);
    ok = ok && c.ok;
    if (!ok)
        fprintf(stderr, "body %.44s ack %s\n", r.body, r.ack);
    ec_request_free(&r);
    if (!ok)
        return 1;
    puts("installed libemoncrypt works");
    return 0;
}
