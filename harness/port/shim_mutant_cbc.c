/* emoncrypt port kit — a deliberately broken shim: the CBC chaining bug a
 * real ESP8266 client once shipped (SPEC §7, mistake `cbc-chain-bug`).
 *
 * Encryption chains the last block from the IV instead of from the
 * previous ciphertext block when that block is a whole PKCS#7 pad block
 * (sixteen 0x10 bytes, i.e. the plaintext length is a multiple of 16).
 * Everything else is right, so the self-test must pass the primitive
 * known answers and every other vector, and fail exactly on the first
 * valid vector whose plaintext is 16, 32, ... bytes long.
 *
 * The mutant wraps a real shim (the "base": OpenSSL on the host, mbedTLS
 * on the emulated boards), compiled with -Dport_host_shim=port_base_shim
 * -Dport_host_backend=port_base_backend.  It keeps the base's SHA-256,
 * HMAC and random source and replaces its CBC: AES blocks come from the
 * base's block functions, or from its CBC over one block with a zero IV
 * (which is the block cipher itself).
 */
#include "port_host.h"

const ecp_shim *port_base_shim(void);

const char port_host_backend[] = "mutant-cbc";

static const ecp_shim *base;

/* One AES block of the base shim, in place. */
static int base_block(int encrypt, const uint8_t key[ECP_KEY_LEN],
                      uint8_t block[ECP_BLOCK_LEN])
{
    if (base->aes128_encrypt_block != NULL && base->aes128_decrypt_block != NULL)
        return encrypt ? base->aes128_encrypt_block(base->ctx, key, block)
                       : base->aes128_decrypt_block(base->ctx, key, block);
    static const uint8_t zero_iv[ECP_IV_LEN];
    return encrypt ? base->aes128_cbc_encrypt(base->ctx, key, zero_iv, block, ECP_BLOCK_LEN)
                   : base->aes128_cbc_decrypt(base->ctx, key, zero_iv, block, ECP_BLOCK_LEN);
}

static int is_full_pad_block(const uint8_t *block)
{
    for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
        if (block[i] != ECP_BLOCK_LEN)
            return 0;
    return 1;
}

static int mutant_cbc_encrypt(void *ctx, const uint8_t key[ECP_KEY_LEN],
                              const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                              size_t len)
{
    (void)ctx;
    const uint8_t *chain = iv;
    for (size_t off = 0; off < len; off += ECP_BLOCK_LEN) {
        uint8_t *block = data + off;
        /* THE BUG: the final pad block restarts the chain from the IV. */
        const uint8_t *from = off + ECP_BLOCK_LEN == len && off > 0
                              && is_full_pad_block(block) ? iv : chain;
        for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
            block[i] ^= from[i];
        if (base_block(1, key, block) != 0)
            return -1;
        chain = block;
    }
    return 0;
}

static int mutant_cbc_decrypt(void *ctx, const uint8_t key[ECP_KEY_LEN],
                              const uint8_t iv[ECP_IV_LEN], uint8_t *data,
                              size_t len)
{
    (void)ctx;
    uint8_t chain[ECP_BLOCK_LEN], saved[ECP_BLOCK_LEN];
    for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
        chain[i] = iv[i];
    for (size_t off = 0; off < len; off += ECP_BLOCK_LEN) {
        uint8_t *block = data + off;
        for (size_t i = 0; i < ECP_BLOCK_LEN; i++)
            saved[i] = block[i];
        if (base_block(0, key, block) != 0)
            return -1;
        for (size_t i = 0; i < ECP_BLOCK_LEN; i++) {
            block[i] ^= chain[i];
            chain[i] = saved[i];
        }
    }
    return 0;
}

static ecp_shim mutant_shim;

const ecp_shim *port_host_shim(void)
{
    base = port_base_shim();
    if (base == NULL)
        return NULL;
    mutant_shim = *base;
    mutant_shim.aes128_encrypt_block = NULL;
    mutant_shim.aes128_decrypt_block = NULL;
    mutant_shim.aes128_cbc_encrypt = mutant_cbc_encrypt;
    mutant_shim.aes128_cbc_decrypt = mutant_cbc_decrypt;
    return &mutant_shim;
}
