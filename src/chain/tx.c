/*
 * tx.c — transactions, receipts and evidence: their canonical encodings (layouts: tx.h) and
 * signatures.
 *
 * Each decoder knows its type's exact length before it reads a field (a SETTLE's from its
 * count), so a short or long input is refused first; the rules a field must follow are one
 * predicate each, shared by encode and decode (tx_fields_ok, receipt_fields_ok), so every
 * encoding decodes back to itself. Integers go through base/endian.h, byte by byte.
 */
#include "chain/tx.h"

#include "base/assert.h"
#include "base/endian.h"
#include "crypto/hash.h"
#include "crypto/ident.h"

#include <string.h>
#include <strings.h>

static const char tx_tag[] = "OCTO-TX-v1";
static const char receipt_tag[] = "OCTO-RCPT-v1";

#define SIG 64
#define VOTE_EVIDENCE_LEN (1 + OCTO_CONS_VOTE_LEN)

_Static_assert(OCTO_TX_HDR_LEN == 1 + 1 + OCTO_ADDR_LEN + 8 + 8, "tx header layout");
_Static_assert(OCTO_RECEIPT_LEN == 1 + 6 * 32 + 4 * 8 + SIG, "receipt layout");
_Static_assert(OCTO_EVIDENCE_HDR_LEN == 1 + 3 * 8 + 2 * OCTO_CONS_ID_LEN + 2 + SIG,
               "evidence header layout");
_Static_assert(OCTO_TX_MAX <= 0x7fffffff, "lengths fit an int");

/* ---- a bounded writer and reader ------------------------------------------------------- */

struct wr {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct wr *w, const void *src, size_t len)
{
    if (w->n + len <= w->cap)
        memcpy(w->p + w->n, src, len);
    w->n += len;
}

static void put8(struct wr *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put16(struct wr *w, uint16_t v)
{
    uint8_t b[2];
    octo_store_be16(b, v);
    put(w, b, 2);
}

static void put64(struct wr *w, uint64_t v)
{
    uint8_t b[8];
    octo_store_be64(b, v);
    put(w, b, 8);
}

struct rd {
    const uint8_t *p;
    size_t off;
};

static void get(struct rd *r, void *dst, size_t len)
{
    memcpy(dst, r->p + r->off, len);
    r->off += len;
}

static uint8_t get8(struct rd *r)
{
    return r->p[r->off++];
}

static uint16_t get16(struct rd *r)
{
    uint16_t v = octo_load_be16(r->p + r->off);
    r->off += 2;
    return v;
}

static uint64_t get64(struct rd *r)
{
    uint64_t v = octo_load_be64(r->p + r->off);
    r->off += 8;
    return v;
}

/* ---- receipts ------------------------------------------------------------------------- */

static bool receipt_fields_ok(const struct octo_receipt *r)
{
    return r->end_ms >= r->start_ms && r->price > 0;
}

void octo_receipt_encode(const struct octo_receipt *r, uint8_t out[OCTO_RECEIPT_LEN])
{
    struct wr w = {out, 0, OCTO_RECEIPT_LEN};
    put8(&w, OCTO_TX_VERSION);
    put(&w, r->task, 32);
    put(&w, r->requester, 32);
    put(&w, r->orchestrator, 32);
    put(&w, r->provider, 32);
    put(&w, r->input, 32);
    put(&w, r->output, 32);
    put64(&w, r->tokens);
    put64(&w, r->start_ms);
    put64(&w, r->end_ms);
    put64(&w, r->price);
    put(&w, r->sig, SIG);
    OCTO_ASSERT(w.n == OCTO_RECEIPT_LEN);
}

int octo_receipt_decode(const uint8_t *in, size_t len, struct octo_receipt *r)
{
    if (len != OCTO_RECEIPT_LEN || in[0] != OCTO_TX_VERSION)
        return OCTO_EMALFORMED;
    struct rd d = {in, 1};
    get(&d, r->task, 32);
    get(&d, r->requester, 32);
    get(&d, r->orchestrator, 32);
    get(&d, r->provider, 32);
    get(&d, r->input, 32);
    get(&d, r->output, 32);
    r->tokens = get64(&d);
    r->start_ms = get64(&d);
    r->end_ms = get64(&d);
    r->price = get64(&d);
    get(&d, r->sig, SIG);
    return receipt_fields_ok(r) ? 0 : OCTO_EMALFORMED;
}

/* Plain Ed25519 (not Ed25519ph) over tag | chain_id | body, with the bytes gathered into one
 * buffer: a receipt or transaction is at most OCTO_TX_MAX bytes. */
static size_t gather(uint8_t *buf, const char *tag, size_t tag_len, const uint8_t chain_id[32],
                     const uint8_t *body, size_t len)
{
    memcpy(buf, tag, tag_len);
    memcpy(buf + tag_len, chain_id, 32);
    memcpy(buf + tag_len + 32, body, len);
    return tag_len + 32 + len;
}

#define SIGNED_MAX (32 + 32 + OCTO_TX_MAX)

static void sign_body(const char *tag, size_t tag_len, const uint8_t chain_id[32],
                      const uint8_t *body, size_t len, const struct octo_identity *id,
                      uint8_t sig[SIG])
{
    static _Thread_local uint8_t buf[SIGNED_MAX];
    OCTO_ASSERT(len <= OCTO_TX_MAX);
    size_t n = gather(buf, tag, tag_len, chain_id, body, len);
    octo_identity_sign(id, buf, n, sig);
}

static int verify_body(const char *tag, size_t tag_len, const uint8_t chain_id[32],
                       const uint8_t *body, size_t len, const uint8_t pk[32],
                       const uint8_t sig[SIG])
{
    static _Thread_local uint8_t buf[SIGNED_MAX];
    if (len > OCTO_TX_MAX)
        return OCTO_EBADSIG;
    size_t n = gather(buf, tag, tag_len, chain_id, body, len);
    struct octo_pubkey key;
    memcpy(key.bytes, pk, sizeof(key.bytes));
    return octo_pubkey_verify(&key, buf, n, sig) == 0 ? 0 : OCTO_EBADSIG;
}

void octo_receipt_sign(const uint8_t chain_id[32], uint8_t rec[OCTO_RECEIPT_LEN],
                       const struct octo_identity *provider)
{
    sign_body(receipt_tag, sizeof(receipt_tag) - 1, chain_id, rec, OCTO_RECEIPT_LEN - SIG, provider,
              rec + OCTO_RECEIPT_LEN - SIG);
}

int octo_receipt_verify(const uint8_t chain_id[32], const uint8_t rec[OCTO_RECEIPT_LEN])
{
    /* the provider's key: after version, task, requester and orchestrator */
    const uint8_t *provider = rec + 1 + 3 * 32;
    return verify_body(receipt_tag, sizeof(receipt_tag) - 1, chain_id, rec, OCTO_RECEIPT_LEN - SIG,
                       provider, rec + OCTO_RECEIPT_LEN - SIG);
}

/* ---- evidence ------------------------------------------------------------------------- */

static bool evidence_ok(const struct octo_evidence *e)
{
    if (e->signer >= OCTO_CONS_VALIDATORS_MAX || e->view == 0)
        return false;
    if (e->tag == OCTO_EVIDENCE_VOTE) {
        if (e->kind != OCTO_CONS_NOTARIZE && e->kind != OCTO_CONS_FINALIZE &&
            e->kind != OCTO_CONS_SKIP)
            return false;
        return e->kind != OCTO_CONS_SKIP || octo_all_zero(e->block, OCTO_CONS_ID_LEN);
    }
    if (e->tag == OCTO_EVIDENCE_HEADER)
        return e->header.view == e->view && e->header.height >= 1 &&
               e->header.parent_view < e->view;
    return false;
}

static size_t evidence_len(uint8_t tag)
{
    return tag == OCTO_EVIDENCE_VOTE ? VOTE_EVIDENCE_LEN : OCTO_EVIDENCE_HDR_LEN;
}

static void put_evidence(struct wr *w, const struct octo_evidence *e)
{
    put8(w, e->tag);
    if (e->tag == OCTO_EVIDENCE_VOTE) {
        struct octo_cons_msg m = {.type = OCTO_CONS_MSG_VOTE};
        m.u.vote.kind = e->kind;
        m.u.vote.view = e->view;
        memcpy(m.u.vote.block, e->block, OCTO_CONS_ID_LEN);
        m.u.vote.signer = e->signer;
        memcpy(m.u.vote.sig, e->sig, SIG);
        uint8_t b[OCTO_CONS_VOTE_LEN];
        int n = octo_cons_msg_encode(&m, b, sizeof(b));
        OCTO_ASSERT(n == OCTO_CONS_VOTE_LEN); /* evidence_ok held */
        put(w, b, sizeof(b));
        return;
    }
    put64(w, e->header.view);
    put64(w, e->header.height);
    put64(w, e->header.parent_view);
    put(w, e->header.parent, OCTO_CONS_ID_LEN);
    put(w, e->header.payload_hash, OCTO_CONS_ID_LEN);
    put16(w, e->signer);
    put(w, e->sig, SIG);
}

/* Reads one evidence item at r (the caller checked its tag and that its bytes are there);
 * false when it breaks a rule. */
static bool get_evidence(struct rd *r, struct octo_evidence *e)
{
    memset(e, 0, sizeof(*e));
    e->tag = get8(r);
    if (e->tag == OCTO_EVIDENCE_VOTE) {
        struct octo_cons_msg m;
        if (octo_cons_msg_decode(r->p + r->off, OCTO_CONS_VOTE_LEN, &m) != 0 ||
            m.type != OCTO_CONS_MSG_VOTE)
            return false;
        r->off += OCTO_CONS_VOTE_LEN;
        e->kind = m.u.vote.kind;
        e->view = m.u.vote.view;
        memcpy(e->block, m.u.vote.block, OCTO_CONS_ID_LEN);
        e->signer = m.u.vote.signer;
        memcpy(e->sig, m.u.vote.sig, SIG);
        return evidence_ok(e);
    }
    e->header.view = get64(r);
    e->header.height = get64(r);
    e->header.parent_view = get64(r);
    get(r, e->header.parent, OCTO_CONS_ID_LEN);
    get(r, e->header.payload_hash, OCTO_CONS_ID_LEN);
    e->signer = get16(r);
    get(r, e->sig, SIG);
    e->view = e->header.view;
    return evidence_ok(e);
}

size_t octo_evidence_signed(const uint8_t chain_id[32], const struct octo_evidence *e,
                            uint8_t out[OCTO_CONS_VOTE_SIGNED_MAX])
{
    if (e->tag == OCTO_EVIDENCE_VOTE)
        return octo_cons_vote_signed(chain_id, e->kind, e->view, e->block, out);
    uint8_t id[OCTO_CONS_ID_LEN];
    octo_cons_block_id(chain_id, &e->header, id);
    return octo_cons_proposal_signed(chain_id, id, out);
}

/* The block a message supports with NOTARIZE at its view (a proposal: its own id); false for
 * other kinds. */
static bool notarizes(const uint8_t chain_id[32], const struct octo_evidence *e,
                      uint8_t id[OCTO_CONS_ID_LEN])
{
    if (e->tag == OCTO_EVIDENCE_HEADER) {
        octo_cons_block_id(chain_id, &e->header, id);
        return true;
    }
    if (e->kind != OCTO_CONS_NOTARIZE)
        return false;
    memcpy(id, e->block, OCTO_CONS_ID_LEN);
    return true;
}

bool octo_evidence_conflict(const uint8_t chain_id[32], const struct octo_evidence *a,
                            const struct octo_evidence *b)
{
    if (a->view != b->view)
        return false;
    uint8_t ia[OCTO_CONS_ID_LEN], ib[OCTO_CONS_ID_LEN];
    if (notarizes(chain_id, a, ia) && notarizes(chain_id, b, ib))
        return memcmp(ia, ib, OCTO_CONS_ID_LEN) != 0;
    if (a->tag != OCTO_EVIDENCE_VOTE || b->tag != OCTO_EVIDENCE_VOTE)
        return false;
    if (a->kind == OCTO_CONS_FINALIZE && b->kind == OCTO_CONS_FINALIZE)
        return memcmp(a->block, b->block, OCTO_CONS_ID_LEN) != 0;
    return (a->kind == OCTO_CONS_SKIP && b->kind == OCTO_CONS_FINALIZE) ||
           (a->kind == OCTO_CONS_FINALIZE && b->kind == OCTO_CONS_SKIP);
}

/* ---- transactions --------------------------------------------------------------------- */

static bool tx_fields_ok(const struct octo_tx *t)
{
    switch (t->type) {
    case OCTO_TX_TRANSFER:
        return t->u.transfer.token < OCTO_TOKENS && t->u.transfer.amount > 0 &&
               memcmp(t->from, t->u.transfer.to, OCTO_ADDR_LEN) != 0;
    case OCTO_TX_REGISTER:
        return t->u.role > OCTO_STAKE_NONE && t->u.role < OCTO_STAKE_ROLES;
    case OCTO_TX_STAKE:
    case OCTO_TX_UNSTAKE:
        return t->u.amount > 0;
    case OCTO_TX_ESCROW:
        return t->u.escrow.amount > 0 &&
               memcmp(t->from, t->u.escrow.orchestrator, OCTO_ADDR_LEN) != 0;
    case OCTO_TX_REFUND:
        return true;
    case OCTO_TX_SETTLE:
        if (t->u.settle.count < 1 || t->u.settle.count > OCTO_TX_RECEIPTS_MAX ||
            t->u.settle.receipts == NULL)
            return false;
        for (uint16_t i = 0; i < t->u.settle.count; i++) {
            struct octo_receipt r;
            if (octo_receipt_decode(t->u.settle.receipts + (size_t)i * OCTO_RECEIPT_LEN,
                                    OCTO_RECEIPT_LEN, &r) != 0)
                return false;
        }
        return true;
    case OCTO_TX_SLASH_DOUBLE:
        return evidence_ok(&t->u.slash.ev[0]) && evidence_ok(&t->u.slash.ev[1]);
    case OCTO_TX_SLASH_FAILED:
        return receipt_fields_ok(&t->u.receipt);
    default:
        return false;
    }
}

int octo_tx_encode(const struct octo_tx *t, uint8_t *out, size_t cap)
{
    if (t == NULL || (out == NULL && cap > 0) || !tx_fields_ok(t))
        return OCTO_EINVAL;
    struct wr w = {out, 0, cap};
    put8(&w, OCTO_TX_VERSION);
    put8(&w, t->type);
    put(&w, t->from, OCTO_ADDR_LEN);
    put64(&w, t->nonce);
    put64(&w, t->fee);
    switch (t->type) {
    case OCTO_TX_TRANSFER:
        put(&w, t->u.transfer.to, OCTO_ADDR_LEN);
        put8(&w, t->u.transfer.token);
        put64(&w, t->u.transfer.amount);
        break;
    case OCTO_TX_REGISTER:
        put8(&w, t->u.role);
        break;
    case OCTO_TX_STAKE:
    case OCTO_TX_UNSTAKE:
        put64(&w, t->u.amount);
        break;
    case OCTO_TX_ESCROW:
        put(&w, t->u.escrow.task, 32);
        put(&w, t->u.escrow.orchestrator, OCTO_ADDR_LEN);
        put64(&w, t->u.escrow.amount);
        put64(&w, t->u.escrow.expires_ms);
        break;
    case OCTO_TX_REFUND:
        put(&w, t->u.task, 32);
        break;
    case OCTO_TX_SETTLE:
        put16(&w, t->u.settle.count);
        put(&w, t->u.settle.receipts, (size_t)t->u.settle.count * OCTO_RECEIPT_LEN);
        break;
    case OCTO_TX_SLASH_DOUBLE:
        put(&w, t->u.slash.offender, OCTO_ADDR_LEN);
        put_evidence(&w, &t->u.slash.ev[0]);
        put_evidence(&w, &t->u.slash.ev[1]);
        break;
    case OCTO_TX_SLASH_FAILED: {
        uint8_t b[OCTO_RECEIPT_LEN];
        octo_receipt_encode(&t->u.receipt, b);
        put(&w, b, sizeof(b));
        break;
    }
    }
    put(&w, t->sig, SIG);
    if (w.n > cap)
        return OCTO_ENOSPACE;
    OCTO_ASSERT(w.n <= OCTO_TX_MAX);
    return (int)w.n;
}

/* The body's length for a type, given the bytes after the header (a SETTLE's count, the
 * evidence tags); 0 for an unknown type or a body too short to tell. */
static size_t body_len(uint8_t type, const uint8_t *body, size_t avail)
{
    switch (type) {
    case OCTO_TX_TRANSFER:
        return OCTO_ADDR_LEN + 1 + 8;
    case OCTO_TX_REGISTER:
        return 1;
    case OCTO_TX_STAKE:
    case OCTO_TX_UNSTAKE:
        return 8;
    case OCTO_TX_ESCROW:
        return 32 + OCTO_ADDR_LEN + 8 + 8;
    case OCTO_TX_REFUND:
        return 32;
    case OCTO_TX_SETTLE:
        if (avail < 2)
            return 0;
        return 2 + (size_t)octo_load_be16(body) * OCTO_RECEIPT_LEN;
    case OCTO_TX_SLASH_DOUBLE: {
        if (avail < OCTO_ADDR_LEN + 1)
            return 0;
        body += OCTO_ADDR_LEN;
        avail -= OCTO_ADDR_LEN;
        uint8_t t0 = body[0];
        if (t0 != OCTO_EVIDENCE_VOTE && t0 != OCTO_EVIDENCE_HEADER)
            return 0;
        size_t a = evidence_len(t0);
        if (avail < a + 1)
            return 0;
        uint8_t t1 = body[a];
        if (t1 != OCTO_EVIDENCE_VOTE && t1 != OCTO_EVIDENCE_HEADER)
            return 0;
        return OCTO_ADDR_LEN + a + evidence_len(t1);
    }
    case OCTO_TX_SLASH_FAILED:
        return OCTO_RECEIPT_LEN;
    default:
        return 0;
    }
}

int octo_tx_decode(const uint8_t *in, size_t len, struct octo_tx *t)
{
    if (in == NULL || t == NULL)
        return OCTO_EINVAL;
    if (len > OCTO_TX_MAX)
        return OCTO_ETOOBIG;
    if (len < OCTO_TX_HDR_LEN + SIG || in[0] != OCTO_TX_VERSION)
        return OCTO_EMALFORMED;
    size_t avail = len - OCTO_TX_HDR_LEN - SIG;
    size_t blen = body_len(in[1], in + OCTO_TX_HDR_LEN, avail);
    if (blen == 0 || blen != avail)
        return OCTO_EMALFORMED;
    memset(t, 0, sizeof(*t));
    struct rd r = {in, 1};
    t->type = get8(&r);
    get(&r, t->from, OCTO_ADDR_LEN);
    t->nonce = get64(&r);
    t->fee = get64(&r);
    switch (t->type) {
    case OCTO_TX_TRANSFER:
        get(&r, t->u.transfer.to, OCTO_ADDR_LEN);
        t->u.transfer.token = get8(&r);
        t->u.transfer.amount = get64(&r);
        break;
    case OCTO_TX_REGISTER:
        t->u.role = get8(&r);
        break;
    case OCTO_TX_STAKE:
    case OCTO_TX_UNSTAKE:
        t->u.amount = get64(&r);
        break;
    case OCTO_TX_ESCROW:
        get(&r, t->u.escrow.task, 32);
        get(&r, t->u.escrow.orchestrator, OCTO_ADDR_LEN);
        t->u.escrow.amount = get64(&r);
        t->u.escrow.expires_ms = get64(&r);
        break;
    case OCTO_TX_REFUND:
        get(&r, t->u.task, 32);
        break;
    case OCTO_TX_SETTLE:
        t->u.settle.count = get16(&r);
        t->u.settle.receipts = in + r.off;
        for (uint16_t i = 0; i < t->u.settle.count; i++) {
            struct octo_receipt rc;
            if (octo_receipt_decode(in + r.off, OCTO_RECEIPT_LEN, &rc) != 0)
                return OCTO_EMALFORMED;
            r.off += OCTO_RECEIPT_LEN;
        }
        break;
    case OCTO_TX_SLASH_DOUBLE:
        get(&r, t->u.slash.offender, OCTO_ADDR_LEN);
        if (!get_evidence(&r, &t->u.slash.ev[0]) || !get_evidence(&r, &t->u.slash.ev[1]))
            return OCTO_EMALFORMED;
        break;
    case OCTO_TX_SLASH_FAILED:
        if (octo_receipt_decode(in + r.off, OCTO_RECEIPT_LEN, &t->u.receipt) != 0)
            return OCTO_EMALFORMED;
        r.off += OCTO_RECEIPT_LEN;
        break;
    }
    get(&r, t->sig, SIG);
    OCTO_ASSERT(r.off == len);
    return tx_fields_ok(t) ? 0 : OCTO_EMALFORMED;
}

void octo_tx_sign(const uint8_t chain_id[32], uint8_t *tx, size_t len,
                  const struct octo_identity *sender)
{
    OCTO_ASSERT(len >= OCTO_TX_HDR_LEN + SIG && len <= OCTO_TX_MAX);
    sign_body(tx_tag, sizeof(tx_tag) - 1, chain_id, tx, len - SIG, sender, tx + len - SIG);
}

int octo_tx_verify(const uint8_t chain_id[32], const uint8_t *tx, size_t len,
                   const struct octo_tx *t)
{
    if (len < OCTO_TX_HDR_LEN + SIG)
        return OCTO_EBADSIG;
    int rc =
        verify_body(tx_tag, sizeof(tx_tag) - 1, chain_id, tx, len - SIG, t->from, tx + len - SIG);
    if (rc != 0)
        return rc;
    if (t->type == OCTO_TX_SLASH_FAILED) /* the receipt is the whole body */
        return octo_receipt_verify(chain_id, tx + OCTO_TX_HDR_LEN);
    if (t->type != OCTO_TX_SETTLE)
        return 0;
    for (uint16_t i = 0; i < t->u.settle.count; i++)
        if (octo_receipt_verify(chain_id, t->u.settle.receipts + (size_t)i * OCTO_RECEIPT_LEN) != 0)
            return OCTO_EBADSIG;
    return 0;
}

void octo_tx_id(const uint8_t *tx, size_t len, uint8_t id[OCTO_TX_ID_LEN])
{
    octo_sha256(tx, len, id);
}

/* ---- names ------------------------------------------------------------------------------ */

static const char *const type_names[] = {
    NULL,     "transfer", "register", "stake",        "unstake",
    "escrow", "refund",   "settle",   "slash-double", "slash-failed",
};
static const char *const token_names[OCTO_TOKENS] = {"OCTO",   "OCTO-A", "OCTO-S",
                                                     "OCTO-B", "OCTO-O", "OCTO-N"};
static const char *const role_names[OCTO_STAKE_ROLES] = {"none",    "validator", "compute",
                                                         "storage", "bandwidth", "orchestrator"};

const char *octo_tx_type_name(uint8_t type)
{
    return type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[type] : NULL;
}

const char *octo_token_name(uint8_t token)
{
    return token < OCTO_TOKENS ? token_names[token] : NULL;
}

const char *octo_stake_role_name(uint8_t role)
{
    return role < OCTO_STAKE_ROLES ? role_names[role] : NULL;
}

int octo_token_parse(const char *s)
{
    for (int i = 0; s != NULL && i < OCTO_TOKENS; i++)
        if (strcasecmp(s, token_names[i]) == 0)
            return i;
    return OCTO_EINVAL;
}

int octo_stake_role_parse(const char *s)
{
    for (int i = 1; s != NULL && i < OCTO_STAKE_ROLES; i++)
        if (strcasecmp(s, role_names[i]) == 0)
            return i;
    return OCTO_EINVAL;
}
