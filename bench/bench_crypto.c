/*
 * bench_crypto.c — costs of the crypto module next to the libsodium calls they wrap and the
 * raw primitive cost underneath (the reference measured in the same run):
 *
 *   sign / verify            octo_identity_sign, octo_pubkey_verify vs crypto_sign_* direct
 *   sha256 64 KiB            octo_sha256                            vs crypto_hash_sha256
 *   aead seal 1 MiB          octo_aead_seal (64 KiB secretstream)   vs one-shot
 *                                                                     XChaCha20-Poly1305
 *   merkle root 4096 leaves  octo_merkle_root                       vs 4095 raw SHA-256 of
 *                                                                     65-byte node inputs
 *   peer id to text          base58 encode of a peer id             vs hex encode
 *   peer id parse            text -> validated peer id (the key     vs base58 decode alone
 *                            must be a valid Ed25519 point)
 *   keystore decode          octo_keystore_decode (argon2id)        vs crypto_pwhash alone
 */
#include "base/alloc.h"
#include "base/base58.h"
#include "base/buf.h"
#include "base/hex.h"
#include "bench.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/ident.h"
#include "crypto/keystore.h"
#include "crypto/merkle.h"
#include "crypto/peerid.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_SHA 65536u
#define BUF_AEAD (1u << 20)
#define LEAVES 4096u

struct ctx {
    struct octo_identity id;
    uint8_t msg[256];
    uint8_t sig[64];
    uint8_t *data;
    struct octo_merkle_hash *leaves;
    struct octo_peerid pid;
    char text[OCTO_PEERID_TEXT_MAX];
    uint8_t key[32];
    struct octo_buf out;
    uint8_t *cipher;
    struct octo_buf keyfile;
    struct octo_keystore_params params;
};

static void b_sign(void *p, uint64_t n)
{
    struct ctx *c = p;
    for (uint64_t i = 0; i < n; i++)
        octo_identity_sign(&c->id, c->msg, sizeof(c->msg), c->sig);
}

static void b_sign_ref(void *p, uint64_t n)
{
    struct ctx *c = p;
    for (uint64_t i = 0; i < n; i++)
        crypto_sign_detached(c->sig, NULL, c->msg, sizeof(c->msg), c->id.sk);
}

static void b_verify(void *p, uint64_t n)
{
    struct ctx *c = p;
    for (uint64_t i = 0; i < n; i++) {
        if (octo_pubkey_verify(&c->id.pub, c->msg, sizeof(c->msg), c->sig) != 0)
            abort();
    }
}

static void b_verify_ref(void *p, uint64_t n)
{
    struct ctx *c = p;
    for (uint64_t i = 0; i < n; i++) {
        if (crypto_sign_verify_detached(c->sig, c->msg, sizeof(c->msg), c->id.pub.bytes) != 0)
            abort();
    }
}

static void b_sha(void *p, uint64_t n)
{
    struct ctx *c = p;
    uint8_t out[32];
    for (uint64_t i = 0; i < n; i++)
        octo_sha256(c->data, BUF_SHA, out);
    octo_bench_sink(out, sizeof(out));
}

static void b_sha_ref(void *p, uint64_t n)
{
    struct ctx *c = p;
    uint8_t out[32];
    for (uint64_t i = 0; i < n; i++)
        crypto_hash_sha256(out, c->data, BUF_SHA);
    octo_bench_sink(out, sizeof(out));
}

static void b_aead(void *p, uint64_t n)
{
    struct ctx *c = p;
    for (uint64_t i = 0; i < n; i++) {
        octo_buf_reset(&c->out);
        if (octo_aead_seal(c->key, c->data, BUF_AEAD, &c->out) != 0)
            abort();
    }
}

static void b_aead_ref(void *p, uint64_t n)
{
    struct ctx *c = p;
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {0};
    unsigned long long clen;
    for (uint64_t i = 0; i < n; i++)
        crypto_aead_xchacha20poly1305_ietf_encrypt(c->cipher, &clen, c->data, BUF_AEAD, NULL, 0,
                                                   NULL, nonce, c->key);
    octo_bench_sink(c->cipher, 16);
}

static void b_merkle(void *p, uint64_t n)
{
    struct ctx *c = p;
    struct octo_merkle_hash root;
    for (uint64_t i = 0; i < n; i++) {
        if (octo_merkle_root(c->leaves, LEAVES, &root) != 0)
            abort();
    }
    octo_bench_sink(&root, sizeof(root));
}

static void b_merkle_ref(void *p, uint64_t n)
{
    struct ctx *c = p;
    uint8_t in[65] = {1};
    uint8_t out[32];
    for (uint64_t i = 0; i < n; i++) {
        for (unsigned k = 0; k < LEAVES - 1; k++) {
            memcpy(in + 1, c->leaves[k % LEAVES].bytes, 32);
            crypto_hash_sha256(out, in, sizeof(in));
        }
    }
    octo_bench_sink(out, sizeof(out));
}

static void b_peerid(void *p, uint64_t n)
{
    struct ctx *c = p;
    char text[OCTO_PEERID_TEXT_MAX];
    for (uint64_t i = 0; i < n; i++) {
        if (octo_peerid_to_base58(&c->pid, text, sizeof(text)) < 0)
            abort();
    }
    octo_bench_sink(text, sizeof(text));
}

static void b_parse(void *p, uint64_t n)
{
    struct ctx *c = p;
    struct octo_peerid back;
    for (uint64_t i = 0; i < n; i++) {
        if (octo_peerid_from_text(c->text, &back) != 0)
            abort();
    }
    octo_bench_sink(&back, sizeof(back));
}

static void b_parse_ref(void *p, uint64_t n)
{
    struct ctx *c = p;
    uint8_t bytes[OCTO_PEERID_MAX_BYTES];
    for (uint64_t i = 0; i < n; i++) {
        if (octo_base58_decode(c->text, strlen(c->text), bytes, sizeof(bytes)) < 0)
            abort();
    }
    octo_bench_sink(bytes, sizeof(bytes));
}

static void b_peerid_ref(void *p, uint64_t n)
{
    struct ctx *c = p;
    char text[2 * OCTO_PEERID_MAX_BYTES + 1];
    for (uint64_t i = 0; i < n; i++) {
        if (octo_hex_encode(c->pid.bytes, c->pid.len, text, sizeof(text)) < 0)
            abort();
    }
    octo_bench_sink(text, sizeof(text));
}

static void b_keystore(void *p, uint64_t n)
{
    struct ctx *c = p;
    struct octo_identity id;
    for (uint64_t i = 0; i < n; i++) {
        if (octo_keystore_decode(c->keyfile.data, c->keyfile.len, "bench passphrase", &id) != 0)
            abort();
        octo_identity_deinit(&id);
    }
}

static void b_keystore_ref(void *p, uint64_t n)
{
    struct ctx *c = p;
    uint8_t key[32], salt[crypto_pwhash_SALTBYTES] = {0};
    for (uint64_t i = 0; i < n; i++) {
        if (crypto_pwhash(key, sizeof(key), "bench passphrase", 16, salt, c->params.opslimit,
                          (size_t)c->params.memlimit_kib * 1024u,
                          crypto_pwhash_ALG_ARGON2ID13) != 0)
            abort();
    }
    octo_bench_sink(key, sizeof(key));
}

static void pair(const struct octo_bench *b, const char *metric, void (*fn)(void *, uint64_t),
                 void (*ref)(void *, uint64_t), struct ctx *c, double scale, const char *unit,
                 const char *params)
{
    char name[96];
    double v = octo_bench_measure(b, fn, c);
    double r = octo_bench_measure(b, ref, c);
    if (scale > 0) { /* throughput: bytes per iteration -> MB/s */
        v = scale / v * 1e3;
        r = scale / r * 1e3;
    }
    octo_bench_report(b, metric, v, unit, params);
    snprintf(name, sizeof(name), "%s_reference", metric);
    octo_bench_report(b, name, r, unit, params);
}

int main(int argc, char **argv)
{
    struct octo_bench b;
    octo_bench_init(&b, "crypto", argc, argv);
    if (octo_crypto_init() != 0)
        return 1;
    struct ctx *c = octo_calloc(1, sizeof(*c));
    c->data = octo_malloc(BUF_AEAD);
    c->cipher = octo_malloc(BUF_AEAD + 64);
    c->leaves = octo_malloc(LEAVES * sizeof(*c->leaves));
    if (c->data == NULL || c->cipher == NULL || c->leaves == NULL ||
        octo_identity_generate(&c->id) != 0)
        return 1;
    randombytes_buf(c->msg, sizeof(c->msg));
    randombytes_buf(c->data, BUF_AEAD);
    randombytes_buf(c->key, sizeof(c->key));
    for (unsigned i = 0; i < LEAVES; i++)
        octo_merkle_leaf_hash(c->data + i * 64u, 64, &c->leaves[i]);
    octo_identity_sign(&c->id, c->msg, sizeof(c->msg), c->sig);
    octo_peerid_from_pubkey(&c->id.pub, &c->pid);
    if (octo_peerid_to_base58(&c->pid, c->text, sizeof(c->text)) < 0)
        return 1;
    octo_buf_init(&c->out, 2 * BUF_AEAD);
    octo_buf_init_secret(&c->keyfile, OCTO_KEYSTORE_FILE_MAX);
    octo_keystore_params_default(&c->params);
    if (octo_keystore_encode(&c->id, "bench passphrase", &c->params, &c->keyfile) != 0)
        return 1;

    pair(&b, "ed25519_sign", b_sign, b_sign_ref, c, 0, "ns/op", "\"msg_bytes\":256");
    pair(&b, "ed25519_verify", b_verify, b_verify_ref, c, 0, "ns/op", "\"msg_bytes\":256");
    pair(&b, "sha256", b_sha, b_sha_ref, c, BUF_SHA, "MB/s", "\"bytes\":65536");
    pair(&b, "aead_seal", b_aead, b_aead_ref, c, BUF_AEAD, "MB/s", "\"bytes\":1048576");
    pair(&b, "merkle_root", b_merkle, b_merkle_ref, c, 0, "ns/tree", "\"leaves\":4096");
    pair(&b, "peerid_to_base58", b_peerid, b_peerid_ref, c, 0, "ns/op", "\"id_bytes\":38");
    pair(&b, "peerid_parse", b_parse, b_parse_ref, c, 0, "ns/op", "\"id_bytes\":38");
    char params[96];
    snprintf(params, sizeof(params), "\"opslimit\":%u,\"memlimit_kib\":%u", c->params.opslimit,
             c->params.memlimit_kib);
    pair(&b, "keystore_decode", b_keystore, b_keystore_ref, c, 0, "ns/op", params);

    octo_buf_deinit(&c->out);
    octo_buf_deinit(&c->keyfile);
    octo_identity_deinit(&c->id);
    octo_free(c->leaves);
    octo_free(c->cipher);
    octo_free(c->data);
    octo_free(c);
    return 0;
}
