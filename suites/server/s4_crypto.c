/* server/4.crypto/… — decryption and the HMAC: every fault, whatever its
 * cause, MUST be answered 'invalid data' (SPEC §2, §4). */
#include "server/srv.h"

#include "emoncrypt/message.h"

#define PT "node=${node}&csv=${v},${v1}"
#define INVALID "Every failure to decrypt or authenticate MUST get the one answer 'invalid data' (SPEC §4)."

const srv_case srv_cases_4_crypto[] = {
    SRV_SPEC_CASE("server/4.crypto/wrong-key", INVALID " Encrypted and MAC'd with another key.", .plaintext = PT, .edit = SRV_EDIT_WRONG_KEY),
    SRV_SPEC_CASE("server/4.crypto/pad-zero", INVALID " Last pad byte 0x00.", .plaintext = PT, .edit = SRV_EDIT_PAD_ZERO),
    SRV_SPEC_CASE("server/4.crypto/pad-range", INVALID " Last pad byte 0x11 (> 16).", .plaintext = PT, .edit = SRV_EDIT_PAD_RANGE),
    SRV_SPEC_CASE("server/4.crypto/pad-bytes", INVALID " Pad bytes not all equal.", .plaintext = PT, .edit = SRV_EDIT_PAD_BYTES),
    SRV_SPEC_CASE("server/4.crypto/pad-full-block-bad", INVALID " A full pad block with one wrong byte.", .plaintext = PT, .edit = SRV_EDIT_PAD_FULL_BLOCK_BAD),
    SRV_SPEC_CASE("server/4.crypto/ct-not-multiple-16", INVALID " The ciphertext MUST be a non-zero multiple of 16 (SPEC §3).",
                  .plaintext = PT, .edit = SRV_EDIT_APPEND_BYTES, .edit_arg = "5"),
    SRV_SPEC_CASE("server/4.crypto/iv-flipped", INVALID " One IV bit flipped changes the first block, so the HMAC fails.",
                  .plaintext = PT, .edit = SRV_EDIT_FLIP_IV_BIT),
    SRV_SPEC_CASE("server/4.crypto/last-byte-flipped", INVALID, .plaintext = PT, .edit = SRV_EDIT_FLIP_LAST_BIT),
    SRV_SPEC_CASE("server/4.crypto/last-block-dropped", INVALID, .plaintext = PT, .edit = SRV_EDIT_DROP_LAST_BLOCK),
    SRV_SPEC_CASE("server/4.crypto/blocks-swapped", INVALID, .plaintext = PT, .edit = SRV_EDIT_SWAP_BLOCKS),
    SRV_SPEC_CASE("server/4.crypto/hmac-wrong", INVALID " One HMAC digit changed.", .plaintext = PT, .authorization = "${uid}:${hmac-flip}"),
    SRV_SPEC_CASE("server/4.crypto/hmac-uppercase", INVALID " The HMAC is compared as lowercase hex (SPEC §2, §4).",
                  .plaintext = PT, .authorization = "${uid}:${HMAC}"),
    SRV_SPEC_CASE("server/4.crypto/hmac-short", INVALID " 63 hex digits.", .plaintext = PT, .authorization = "${uid}:${hmac-short}"),
    SRV_SPEC_CASE("server/4.crypto/hmac-long", INVALID " 65 hex digits.", .plaintext = PT, .authorization = "${uid}:${hmac}0"),
    SRV_SPEC_CASE("server/4.crypto/hmac-of-empty-valid-body", INVALID " HMAC(key, \"\") does not authenticate a body that decrypts.",
                  .plaintext = PT, .authorization = "${uid}:${hmac-empty}"),
    SRV_SPEC_CASE("server/4.crypto/zero-padding", INVALID " Zero bytes instead of PKCS#7 padding.",
                  .plaintext = PT, .mistakes = EC_MISTAKE_ZERO_PADDING),
    SRV_SPEC_CASE("server/4.crypto/hmac-over-ct", INVALID " HMAC over IV||ciphertext instead of the plaintext.",
                  .plaintext = PT, .mistakes = EC_MISTAKE_HMAC_OVER_CT),
    SRV_SPEC_CASE("server/4.crypto/hmac-plus-nul", INVALID " HMAC over the plaintext plus its C string's NUL (SPEC §7).",
                  .plaintext = PT, .mistakes = EC_MISTAKE_HMAC_PLUS_NUL),
    SRV_SPEC_CASE("server/4.crypto/hmac-hex-key", INVALID " HMAC keyed with the 32 ASCII characters of the key.",
                  .plaintext = PT, .mistakes = EC_MISTAKE_HMAC_HEX_KEY),
    SRV_SPEC_CASE("server/4.crypto/hex-key-as-key", INVALID " AES key taken from the key's ASCII text.",
                  .plaintext = PT, .mistakes = EC_MISTAKE_HEX_KEY_AS_KEY),
    SRV_SPEC_CASE("server/4.crypto/iv-appended", INVALID " IV after the ciphertext instead of before it.",
                  .plaintext = PT, .mistakes = EC_MISTAKE_IV_APPENDED),
    SRV_SPEC_CASE("server/4.crypto/no-full-pad", INVALID " No pad block for a plaintext that is a multiple of 16.",
                  .plaintext = PT, .mistakes = EC_MISTAKE_NO_FULL_PAD, .shape = SRV_SHAPE_BLOCK_MULTIPLE),
    SRV_SPEC_CASE("server/4.crypto/cbc-chain-bug", INVALID " The final pad block chained from the IV (SPEC §7).",
                  .plaintext = PT, .mistakes = EC_MISTAKE_CBC_CHAIN_BUG, .shape = SRV_SHAPE_BLOCK_MULTIPLE),
};
SRV_CASES_COUNT(4_crypto);
