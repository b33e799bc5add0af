/* A program outside the project that uses the installed library through
 * pkg-config only: proves the headers, the library and emoncrypt.pc work
 * from an install prefix. */
#include <emoncrypt/emoncrypt.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    char ack[EC_ACK_LEN + 1];
    static const char pt[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";
    if (ec_ack_of((const unsigned char *)pt, strlen(pt), ack) != EC_OK)
        return 1;
    /* SPEC §8's ack */
    if (strcmp(ack, "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=") != 0) {
        fprintf(stderr, "ack %s\n", ack);
        return 1;
    }
    puts("installed emoncrypt works");
    return 0;
}
