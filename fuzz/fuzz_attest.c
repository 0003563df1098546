/*
 * fuzz_attest.c — libFuzzer harness for the TEE evidence verifiers (exec/attest.h): the
 * SEV-SNP report and certificate table parser, the TDX quote v4 parser with its nested
 * certification data and PEM chain, and the Nitro COSE_Sign1 / CBOR payload parser, each
 * followed by its chain, signature and policy checks.
 *
 * Input: byte 0 = flags: bits 0-1 select the verifier (0 SNP, 1 TDX, 2 and 3 Nitro), bit 2 =
 * an anchor is embedded, bit 3 = allow_debug. With bit 2 set, bytes 1..2 are a big-endian
 * length L and the next L bytes the DER root certificate trusted for that verifier (so that
 * seeds signed by a test CA, see tests/unit/exec/test_attest_tee.c, verify end to end and the
 * fuzzer reaches the signature and policy code); the rest is the evidence. The expected
 * report_data, reference measurement and `now` are the fixed values the seeds were made with.
 * Invariants: success only with report_data and measurement equal to the expected ones, a
 * hardware-rooted test-anchor result and debug only when allowed; failures only with a
 * documented code and a non-empty reason, never hardware_rooted.
 */
#include "base/assert.h"
#include "exec/attest.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW INT64_C(1767225600) /* 2026-01-01, the seeds' "now" */

static bool expected_error(int rc)
{
    return rc == OCTO_EINVAL || rc == OCTO_ETOOBIG || rc == OCTO_EMALFORMED || rc == OCTO_EBADSIG ||
           rc == OCTO_EPERM || rc == OCTO_EUNSUPPORTED;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum octo_ev_type types[4] = {OCTO_EV_SEV_SNP_REPORT, OCTO_EV_TDX_QUOTE,
                                               OCTO_EV_NITRO_COSE, OCTO_EV_NITRO_COSE};
    uint8_t rd[OCTO_ATT_RD_LEN], meas[48];
    for (size_t i = 0; i < sizeof(rd); i++)
        rd[i] = (uint8_t)(0xA0 + i);
    for (size_t i = 0; i < sizeof(meas); i++)
        meas[i] = (uint8_t)(0x11 * (i % 15 + 1));
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    data++;
    size--;
    struct octo_trust_anchor anchor = {.type = types[flags & 3],
                                       .kind = OCTO_ANCHOR_X509_DER,
                                       .label = "TEST ONLY: fuzz",
                                       .test_only = true};
    struct octo_trust_anchors anchors = {.items = &anchor,
                                         .count = 0,
                                         .ref_measurement = meas,
                                         .ref_measurement_len = sizeof(meas),
                                         .allow_debug = (flags & 8) != 0};
    if ((flags & 4) != 0) {
        if (size < 2)
            return 0;
        size_t alen = (size_t)data[0] << 8 | data[1];
        if (alen == 0 || alen > size - 2)
            return 0;
        anchor.data = data + 2;
        anchor.len = alen;
        anchors.count = 1;
        data += 2 + alen;
        size -= 2 + alen;
    }
    struct octo_att_result r;
    int rc = octo_att_verify(types[flags & 3], data, size, rd, &anchors, FUZZ_NOW, &r);
    OCTO_ASSERT(r.type == types[flags & 3]);
    OCTO_ASSERT(memchr(r.reason, 0, sizeof(r.reason)) != NULL);
    if (rc == 0) {
        OCTO_ASSERT(anchors.count == 1);
        OCTO_ASSERT(r.hardware_rooted && r.test_anchor);
        OCTO_ASSERT(r.reason[0] == '\0');
        OCTO_ASSERT(memcmp(r.report_data, rd, sizeof(rd)) == 0);
        OCTO_ASSERT(r.measurement_len == sizeof(meas));
        OCTO_ASSERT(memcmp(r.measurement, meas, sizeof(meas)) == 0);
        OCTO_ASSERT(!r.debug || anchors.allow_debug);
        OCTO_ASSERT(r.verified);
        /* the anchor here is TEST ONLY: never PRIVATE in a node */
        OCTO_ASSERT(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
        OCTO_ASSERT(octo_att_satisfies(&r, OCTO_ATT_CLASS_SHARED));
    } else {
        OCTO_ASSERT(expected_error(rc));
        OCTO_ASSERT(r.reason[0] != '\0');
        OCTO_ASSERT(!r.hardware_rooted && !r.verified);
        OCTO_ASSERT(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PRIVATE));
        OCTO_ASSERT(!octo_att_satisfies(&r, OCTO_ATT_CLASS_PUBLIC));
    }
    return 0;
}
