/* emoncrypt port kit — a deliberately broken request builder: the padding
 * bug of the emonTx4 Pico W example sketch (issue 16), which pads wrongly
 * whenever plaintext + NUL is a multiple of 16 bytes.  Modelled as the
 * mistake `no-full-pad` of message.h (SPEC §7): when the wire plaintext is
 * a non-zero multiple of 16 bytes, no pad block is sent.  The vectors
 * mistake/no-full-pad/n15-nul, n31-nul, n47-nul are such requests, with
 * the NUL (Emoncms answers 'invalid data', detail pad-zero).
 *
 * A builder, not a shim: the kit pads before it calls the shim, so a
 * shim cannot drop a block.  The sketch has its own builder, and that is
 * what ecp_port.build is for (README "Testing your own request builder");
 * port_main.c, built with PORT_HOST_OWN_BUILD, hands this one to the
 * self-test.  It builds the correct request with the kit, then cuts the
 * last ciphertext block off the body (CBC of wire || pad begins with CBC
 * of wire), re-encoding only the base64 group the cut falls in.  So
 * everything else is right: the self-test must fail exactly on the valid
 * vectors whose plaintext is a multiple of 16 bytes, first on
 * post/spec8-reference (48 bytes), and only in the `body` check.
 *
 * The crypto is the base shim's (OpenSSL on the host, mbedTLS on the
 * emulated boards), compiled with -Dport_host_shim=port_base_shim
 * -Dport_host_backend=port_base_backend.
 */
#include "port_host.h"

const ecp_shim *port_base_shim(void);

const char port_host_backend[] = "mutant-pad";

const ecp_shim *port_host_shim(void)
{
    return port_base_shim();
}

ecp_status port_host_build(const ecp_shim *shim, const uint8_t key[ECP_KEY_LEN],
                           const char *userid, const uint8_t iv[ECP_IV_LEN],
                           const uint8_t *wire, size_t wire_len,
                           char *body, size_t body_cap, size_t *body_len,
                           char *auth, size_t auth_cap)
{
    ecp_status st = ecp_request_build_iv(shim, key, userid, iv, wire, wire_len,
                                         body, body_cap, body_len, auth,
                                         auth_cap);
    if (st != ECP_OK || wire_len == 0 || wire_len % ECP_BLOCK_LEN != 0)
        return st;
    /* THE BUG: the body is base64url(IV || CBC(wire)), the pad block left
     * out.  Characters [0, whole) encode the kept bytes' whole 3-byte
     * groups; the group the cut falls in is decoded (a full group: 16
     * more bytes follow it) and its first `rest` bytes encoded again. */
    size_t keep = ECP_IV_LEN + wire_len;
    size_t whole = keep / 3 * 4, rest = keep % 3;
    size_t n = 0;
    if (rest > 0) {
        uint8_t group[3];
        char tail[5];
        st = ecp_b64url_decode(body + whole, 4, group, sizeof group, &n);
        if (st == ECP_OK)
            st = ecp_b64url_encode(group, rest, tail, sizeof tail, &n);
        if (st != ECP_OK) {
            *body_len = 0;
            return st;
        }
        for (size_t i = 0; i <= n; i++)
            body[whole + i] = tail[i];
    }
    body[whole + n] = '\0';
    *body_len = whole + n;
    return ECP_OK;
}
