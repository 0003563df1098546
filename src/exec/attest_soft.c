/*
 * attest_soft.c — the "software-unverified" attester and its verifier (EXECUTION.md §7).
 *
 * What it claims: "the holder of node identity key K states that it runs the binary with
 * this SHA-256, under this sandbox policy, for this report_data" — accountability of the
 * operator's statement, nothing more: no confidentiality from the operator, no proof that the
 * code ran, no hardware freshness. Results are therefore hardware_rooted = false and can never
 * satisfy PRIVATE or CONFIDENTIAL (octo_att_satisfies).
 *
 * Evidence, version 1 (integers big-endian):
 *   0   4  magic "OSWA"
 *   4   1  version (1)
 *   5   1  reserved (0)
 *   6   2  policy length P (<= OCTO_ATT_SOFT_POLICY_MAX)
 *   8   32 node Ed25519 public key
 *   40  32 SHA-256 of the node binary (/proc/self/exe)
 *   72  64 report_data
 *   136 P  policy summary (text, not NUL-terminated)
 *   136+P 64 Ed25519 signature over "octo-att-soft-v1" || bytes [0, 136+P)
 *   nothing may follow.
 * The verifier trusts a node key only when it is one of the OCTO_ANCHOR_ED25519 anchors given
 * for OCTO_EV_SOFTWARE_UNVERIFIED; anchors->ref_measurement (32 bytes), when present, must
 * equal the binary hash.
 */
#include "base/alloc.h"
#include "base/assert.h"
#include "base/mem.h"
#include "crypto/hash.h"
#include "crypto/ident.h"
#include "exec/attest.h"

#include <stdio.h>
#include <string.h>

#define SOFT_MAGIC "OSWA"
#define SOFT_VERSION 1
#define SOFT_HDR_LEN 136u
#define SOFT_OFF_PK 8u
#define SOFT_OFF_EXE 40u
#define SOFT_OFF_RD 72u
#define SOFT_DOMAIN "octo-att-soft-v1"
#define SOFT_EXE_MAX (UINT64_C(4) << 30) /* refuse to hash a "binary" larger than 4 GiB */

_Static_assert(SOFT_OFF_RD + OCTO_ATT_RD_LEN == SOFT_HDR_LEN, "soft evidence layout");

/* SHA-256 of a whole file, read in chunks. OCTO_EIO when it cannot be read, OCTO_ETOOBIG
 * past SOFT_EXE_MAX. */
static int hash_file(const char *path, uint8_t out[OCTO_SHA256_LEN])
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return OCTO_EIO;
    struct octo_sha256 h;
    octo_sha256_init(&h);
    uint8_t chunk[16384];
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n > 0) {
            total += n;
            if (total > SOFT_EXE_MAX) {
                rc = OCTO_ETOOBIG;
                break;
            }
            octo_sha256_update(&h, chunk, n);
        }
        if (n < sizeof(chunk)) {
            if (ferror(f))
                rc = OCTO_EIO;
            break;
        }
    }
    fclose(f);
    octo_sha256_final(&h, out);
    return rc;
}

int octo_att_soft_init(struct octo_att_soft *s, const struct octo_identity *id, const char *policy,
                       const char *exe_path)
{
    OCTO_ASSERT(s != NULL);
    memset(s, 0, sizeof(*s));
    if (id == NULL || policy == NULL)
        return OCTO_EINVAL;
    size_t plen = strlen(policy);
    if (plen > OCTO_ATT_SOFT_POLICY_MAX)
        return OCTO_ETOOBIG;
    int rc = hash_file(exe_path != NULL ? exe_path : "/proc/self/exe", s->exe_sha256);
    if (rc < 0) {
        memset(s, 0, sizeof(*s));
        return rc;
    }
    s->id = id;
    memcpy(s->policy, policy, plen);
    s->policy[plen] = '\0';
    s->policy_len = plen;
    return 0;
}

void octo_att_soft_deinit(struct octo_att_soft *s)
{
    if (s != NULL)
        memset(s, 0, sizeof(*s));
}

/* The message the node signs: domain || evidence[0, body_len). */
static void soft_sign_input(const uint8_t *body, size_t body_len, uint8_t *msg)
{
    memcpy(msg, SOFT_DOMAIN, sizeof(SOFT_DOMAIN) - 1);
    memcpy(msg + sizeof(SOFT_DOMAIN) - 1, body, body_len);
}

#define SOFT_MSG_MAX (sizeof(SOFT_DOMAIN) - 1 + SOFT_HDR_LEN + OCTO_ATT_SOFT_POLICY_MAX)

static int soft_probe(void *ctx)
{
    const struct octo_att_soft *s = ctx;
    return (s != NULL && s->id != NULL) ? 0 : OCTO_ENOTFOUND;
}

static int soft_collect(void *ctx, const uint8_t report_data[OCTO_ATT_RD_LEN], uint8_t **ev,
                        size_t *ev_len)
{
    const struct octo_att_soft *s = ctx;
    if (s == NULL || s->id == NULL || report_data == NULL || ev == NULL || ev_len == NULL)
        return OCTO_EINVAL;
    OCTO_ASSERT(s->policy_len <= OCTO_ATT_SOFT_POLICY_MAX);
    *ev = NULL;
    *ev_len = 0;
    size_t body_len = SOFT_HDR_LEN + s->policy_len;
    size_t total = body_len + OCTO_ED25519_SIG_LEN;
    uint8_t *b = octo_malloc(total);
    if (b == NULL)
        return OCTO_ENOMEM;
    memcpy(b, SOFT_MAGIC, 4);
    b[4] = SOFT_VERSION;
    b[5] = 0;
    b[6] = (uint8_t)(s->policy_len >> 8);
    b[7] = (uint8_t)s->policy_len;
    memcpy(b + SOFT_OFF_PK, s->id->pub.bytes, OCTO_ED25519_PK_LEN);
    memcpy(b + SOFT_OFF_EXE, s->exe_sha256, OCTO_SHA256_LEN);
    memcpy(b + SOFT_OFF_RD, report_data, OCTO_ATT_RD_LEN);
    memcpy(b + SOFT_HDR_LEN, s->policy, s->policy_len);
    uint8_t msg[SOFT_MSG_MAX];
    soft_sign_input(b, body_len, msg);
    octo_identity_sign(s->id, msg, sizeof(SOFT_DOMAIN) - 1 + body_len, b + body_len);
    *ev = b;
    *ev_len = total;
    return 0;
}

const struct octo_attester_ops octo_att_soft_ops = {
    .name = OCTO_ATT_SOFT_NAME,
    .type = OCTO_EV_SOFTWARE_UNVERIFIED,
    .probe = soft_probe,
    .collect = soft_collect,
};

/* The trusted anchor holding this node key, or NULL. */
static const struct octo_trust_anchor *soft_anchor(const struct octo_trust_anchors *a,
                                                   const uint8_t pk[OCTO_ED25519_PK_LEN])
{
    for (size_t i = 0; i < a->count; i++) {
        const struct octo_trust_anchor *t = &a->items[i];
        if (t->type == OCTO_EV_SOFTWARE_UNVERIFIED && t->kind == OCTO_ANCHOR_ED25519 &&
            t->len == OCTO_ED25519_PK_LEN && memcmp(t->data, pk, OCTO_ED25519_PK_LEN) == 0)
            return t;
    }
    return NULL;
}

int octo_att_soft_verify(const uint8_t *ev, size_t len, const uint8_t expected_rd[OCTO_ATT_RD_LEN],
                         const struct octo_trust_anchors *anchors, int64_t now_s,
                         struct octo_att_result *out)
{
    (void)now_s; /* nothing here expires */
    int rc = octo_att_check_args(OCTO_EV_SOFTWARE_UNVERIFIED, ev, len, expected_rd, anchors, out);
    if (rc < 0)
        return rc;
    if (len < SOFT_HDR_LEN + OCTO_ED25519_SIG_LEN)
        return octo_att_reject(out, OCTO_EMALFORMED, "software evidence truncated");
    if (memcmp(ev, SOFT_MAGIC, 4) != 0 || ev[4] != SOFT_VERSION || ev[5] != 0)
        return octo_att_reject(out, OCTO_EMALFORMED, "software evidence: bad magic or version");
    size_t plen = ((size_t)ev[6] << 8) | ev[7];
    if (plen > OCTO_ATT_SOFT_POLICY_MAX)
        return octo_att_reject(out, OCTO_EMALFORMED, "software evidence: policy too long");
    size_t body_len = SOFT_HDR_LEN + plen;
    if (len != body_len + OCTO_ED25519_SIG_LEN)
        return octo_att_reject(out, OCTO_EMALFORMED, "software evidence: length mismatch");

    const struct octo_trust_anchor *anchor = soft_anchor(anchors, ev + SOFT_OFF_PK);
    if (anchor == NULL)
        return octo_att_reject(out, OCTO_EBADSIG, "node key is not a trusted anchor");
    struct octo_pubkey pk;
    memcpy(pk.bytes, ev + SOFT_OFF_PK, OCTO_ED25519_PK_LEN);
    uint8_t msg[SOFT_MSG_MAX];
    soft_sign_input(ev, body_len, msg);
    if (octo_pubkey_verify(&pk, msg, sizeof(SOFT_DOMAIN) - 1 + body_len, ev + body_len) != 0)
        return octo_att_reject(out, OCTO_EBADSIG, "software evidence: bad signature");
    if (!octo_ct_equal(ev + SOFT_OFF_RD, expected_rd, OCTO_ATT_RD_LEN))
        return octo_att_reject(out, OCTO_EPERM, "report_data does not match the expected binding");
    if (anchors->ref_measurement != NULL &&
        (anchors->ref_measurement_len != OCTO_SHA256_LEN ||
         !octo_ct_equal(anchors->ref_measurement, ev + SOFT_OFF_EXE, OCTO_SHA256_LEN)))
        return octo_att_reject(out, OCTO_EPERM, "binary hash differs from the reference");

    out->verified = true;
    out->hardware_rooted = false;
    out->debug = false;
    out->test_anchor = anchor->test_only;
    out->tcb_level = 0;
    octo_att_set_platform(out, OCTO_ATT_SOFT_NAME);
    memcpy(out->measurement, ev + SOFT_OFF_EXE, OCTO_SHA256_LEN);
    out->measurement_len = OCTO_SHA256_LEN;
    memcpy(out->report_data, ev + SOFT_OFF_RD, OCTO_ATT_RD_LEN);
    return 0;
}
