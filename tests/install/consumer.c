/* A program outside the project that uses the installed codec library
 * (libemoncrypt, emoncrypt::codec) only: builds SPEC §8's reference request
 * and checks its ack.  Built by ctest install/consumer with pkg-config and
 * with find_package, shared and static. */
#include <emoncrypt/codec.h>
#include <emoncrypt/message.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    static const char pt[] = "node=emontx&fulljson={\"power1\":100,\"power2\":200}";
    static const char ack_want[] = "6YBBZ2q6wWjjZudz-vaE9-YoMulhd2wom8bZfu0GQ48=";
    ec_request_params p;
    memset(&p, 0, sizeof p);
    p.profile = EC_PROFILE_AES128CBC;
    p.endpoint = EC_ENDPOINT_POST;
    p.userid = "1";
    p.plaintext = (const uint8_t *)pt;
    p.plaintext_len = strlen(pt);
    for (int i = 0; i < EC_IV_LEN; i++)
        p.iv[i] = (uint8_t)i;
    if (ec_key_from_hex("0123456789abcdef0123456789abcdef", p.key) != EC_OK)
        return 1;
    ec_request r;
    ec_request_init(&r);
    if (ec_request_build(&p, &r) != EC_OK)
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
