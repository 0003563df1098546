/*
 * node_metrics.c — network and chain counters as Prometheus families (node_metrics.h).
 * Names: octo_<module>_<what>[_total]; a counter that splits by kind carries a label
 * (dir, result, reason) instead of one family per field.
 */
#include "node/node_metrics.h"

#include "net/net.h"
#include "node/gateway.h"
#include "node/provider.h"
#include "node/settle.h"
#include "node/validator_int.h"

struct pair {
    const char *value;
    uint64_t n;
};

/* A counter family with one label taking the values of pairs. */
static void by_label(struct octo_metrics *m, const char *name, const char *help, const char *label,
                     const struct pair *p, size_t n)
{
    octo_metrics_family(m, name, OCTO_METRIC_COUNTER, help);
    for (size_t i = 0; i < n; i++) {
        struct octo_metric_label l = {label, p[i].value};
        octo_metrics_value(m, &l, 1, p[i].n);
    }
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

void octo_node_metrics_net(void *net, struct octo_metrics *m)
{
    const struct octo_net_stats *s = octo_net_stats(net);
    const struct pair conns[] = {{"inbound", s->conns_inbound}, {"outbound", s->conns_outbound}};
    by_label(m, "octo_net_connections", "libp2p connections made", "dir", conns, N(conns));
    octo_metrics_single(m, "octo_net_connections_open", OCTO_METRIC_GAUGE,
                        "libp2p connections open", s->conns_open);
    const struct pair rej[] = {{"limit", s->conns_rejected_limit},
                               {"rate", s->conns_rejected_rate},
                               {"protocol_error", s->conns_protocol_error},
                               {"idle", s->conns_idle_closed}};
    by_label(m, "octo_net_connections_closed_early",
             "connections refused or closed by the node, by reason", "reason", rej, N(rej));
    const struct pair hs[] = {{"ok", s->handshakes_ok},
                              {"failed", s->handshakes_failed},
                              {"timeout", s->handshake_timeouts}};
    by_label(m, "octo_net_handshakes", "Noise handshakes by result", "result", hs, N(hs));
    const struct pair st[] = {{"inbound", s->streams_inbound},
                              {"outbound", s->streams_outbound},
                              {"refused", s->streams_refused}};
    by_label(m, "octo_net_streams", "yamux streams", "dir", st, N(st));
    const struct pair id[] = {{"ok", s->identify_ok}, {"failed", s->identify_failed}};
    by_label(m, "octo_net_identify", "identify exchanges by result", "result", id, N(id));
    const struct pair b[] = {{"in", s->bytes_in}, {"out", s->bytes_out}};
    by_label(m, "octo_net_bytes", "bytes on libp2p connections", "dir", b, N(b));
}

void octo_node_metrics_chain(void *validator, struct octo_metrics *m)
{
    struct octo_validator *v = validator;
    const struct octo_validator_stats *s = &v->stats;
    octo_metrics_single(m, "octo_chain_height", OCTO_METRIC_GAUGE,
                        "height of the last finalized block", octo_ledger_height(&v->ledger));
    if (v->cons_ok)
        octo_metrics_single(m, "octo_chain_view", OCTO_METRIC_GAUGE,
                            "consensus view being worked on", octo_cons_view(&v->cons));
    octo_metrics_single(m, "octo_chain_blocks_applied", OCTO_METRIC_COUNTER,
                        "finalized blocks applied", s->blocks_applied);
    octo_metrics_single(m, "octo_chain_txs_applied", OCTO_METRIC_COUNTER,
                        "transactions in finalized blocks applied", s->txs_applied);
    octo_metrics_single(m, "octo_chain_proposals", OCTO_METRIC_COUNTER,
                        "blocks this validator proposed", s->proposals);
    octo_metrics_single(m, "octo_chain_mempool_txs", OCTO_METRIC_GAUGE,
                        "transactions waiting in the pool", octo_mempool_count(&v->pool));
    const struct pair fr[] = {{"in", s->frames_in},
                              {"out", s->frames_out},
                              {"bad", s->frames_bad},
                              {"dropped", s->frames_dropped}};
    by_label(m, "octo_chain_frames", "chain stream frames", "dir", fr, N(fr));
    const struct pair tx[] = {{"gossip_in", s->tx_gossip_in},
                              {"relayed", s->tx_gossip_out},
                              {"admit_dropped", s->tx_admit_dropped},
                              {"from_blocks", s->tx_from_blocks}};
    by_label(m, "octo_chain_tx_gossip", "transactions heard and relayed", "kind", tx, N(tx));
    const struct pair pr[] = {
        {"stored", s->proofs_stored}, {"missing", s->proofs_missing}, {"sent", s->proofs_sent}};
    by_label(m, "octo_chain_set_end_proofs", "finality proofs of validator-set ends", "kind", pr,
             N(pr));
    octo_metrics_single(m, "octo_chain_wal_syncs", OCTO_METRIC_COUNTER, "consensus WAL fdatasyncs",
                        s->wal_syncs);
    octo_metrics_single(m, "octo_chain_root_mismatches", OCTO_METRIC_COUNTER,
                        "blocks naming a state root this node did not compute", s->root_mismatches);
    octo_metrics_single(m, "octo_chain_reconfigurations", OCTO_METRIC_COUNTER,
                        "validator-set changes", s->reconfigs);
    octo_metrics_family(m, "octo_chain_finality_p50_seconds", OCTO_METRIC_GAUGE,
                        "median proposal-to-finalization time of this validator's recent blocks");
    octo_metrics_fixed(m, NULL, 0, val_finality_us(v, 500), 6);
    octo_metrics_family(m, "octo_chain_finality_p99_seconds", OCTO_METRIC_GAUGE,
                        "99th percentile of the same");
    octo_metrics_fixed(m, NULL, 0, val_finality_us(v, 990), 6);
    if (!v->cons_ok)
        return;
    const struct octo_cons_stats *c = octo_cons_stats(&v->cons);
    const struct pair msg[] = {{"received", c->received},
                               {"malformed", c->malformed},
                               {"bad_signature", c->bad_signature},
                               {"not_validator", c->not_validator},
                               {"not_leader", c->not_leader},
                               {"stale", c->stale},
                               {"too_far", c->too_far},
                               {"duplicate", c->duplicate},
                               {"dropped_full", c->dropped_full},
                               {"invalid_payload", c->invalid_payload}};
    by_label(m, "octo_consensus_messages", "consensus messages by what became of them", "result",
             msg, N(msg));
    octo_metrics_single(m, "octo_consensus_finalized", OCTO_METRIC_COUNTER,
                        "blocks finalized by the core", c->finalized);
    octo_metrics_single(m, "octo_consensus_skipped_views", OCTO_METRIC_COUNTER, "views skipped",
                        c->skipped_views);
    octo_metrics_single(m, "octo_consensus_evidence", OCTO_METRIC_COUNTER, "equivocations seen",
                        c->evidence);
    octo_metrics_single(m, "octo_consensus_catch_ups", OCTO_METRIC_COUNTER,
                        "long catch-ups started", c->syncs);
}

void octo_node_metrics_gateway(void *gateway, struct octo_metrics *m)
{
    const struct octo_gateway_stats *s = octo_gateway_stats(gateway);
    octo_metrics_single(m, "octo_gateway_requests", OCTO_METRIC_COUNTER,
                        "inference requests received", s->requests);
    const struct pair res[] = {{"rejected", s->rejected},   {"succeeded", s->succeeded},
                               {"failed", s->failed},       {"expired", s->expired},
                               {"cancelled", s->cancelled}, {"diverged", s->diverged}};
    by_label(m, "octo_gateway_tasks", "tasks by how they ended", "result", res, N(res));
    octo_metrics_single(m, "octo_gateway_tasks_in_flight", OCTO_METRIC_GAUGE,
                        "tasks accepted and not finished", s->in_flight);
    const struct pair att[] = {{"dispatched", s->dispatched},
                               {"failed", s->attempts_failed},
                               {"refused", s->attempts_refused}};
    by_label(m, "octo_router_attempts", "attempts sent to providers", "result", att, N(att));
    const struct pair tok[] = {{"prompt", s->tokens_in}, {"completion", s->tokens_out}};
    by_label(m, "octo_gateway_tokens", "tokens of succeeded tasks", "kind", tok, N(tok));
    octo_metrics_single(m, "octo_gateway_charged_base_units", OCTO_METRIC_COUNTER,
                        "amount charged to API keys (base units)", s->charged);
    const struct pair ad[] = {{"accepted", s->adverts_accepted}, {"refused", s->adverts_refused}};
    by_label(m, "octo_router_adverts", "provider adverts received", "result", ad, N(ad));
    octo_metrics_single(m, "octo_router_providers", OCTO_METRIC_GAUGE, "providers in the registry",
                        octo_gateway_providers(gateway));
    const struct pair rx[] = {{"verified", s->reexec_verified},
                              {"refuted", s->reexec_refuted},
                              {"inconclusive", s->reexec_inconclusive},
                              {"run_failed", s->reexec_failed_runs}};
    by_label(m, "octo_verifier_reexec", "verify reexec: verdicts, and re-runs that failed",
             "result", rx, N(rx));
    octo_metrics_single(m, "octo_agents_registered", OCTO_METRIC_COUNTER,
                        "agents registered (POST /api/v1/agents)", s->agents_registered);
    octo_metrics_single(m, "octo_agents_tasks", OCTO_METRIC_COUNTER,
                        "requests sent to an agent (model agent:NAME)", s->agent_tasks);
    octo_metrics_single(m, "octo_gateway_sealed_tasks", OCTO_METRIC_COUNTER,
                        "sealed (PRIVATE, CONFIDENTIAL) tasks accepted", s->sealed);
    octo_metrics_single(m, "octo_gateway_receipts_bad", OCTO_METRIC_COUNTER,
                        "provider results refused for their receipt", s->receipts_bad);
    octo_metrics_single(m, "octo_gateway_commitments_bad", OCTO_METRIC_COUNTER,
                        "provider results refused for their execution commitment",
                        s->commitments_bad);
    octo_metrics_single(m, "octo_gateway_frames_bad", OCTO_METRIC_COUNTER,
                        "malformed frames from providers", s->frames_bad);
    octo_metrics_single(m, "octo_gateway_receipts_reconciled", OCTO_METRIC_COUNTER,
                        "receipts sent to the settlement again after a restart", s->reconciled);
}

void octo_node_metrics_provider(void *provider, struct octo_metrics *m)
{
    const struct octo_provider_stats *s = octo_provider_stats(provider);
    const struct pair ad[] = {
        {"sent", s->adverts_sent}, {"acked", s->adverts_acked}, {"refused", s->adverts_refused}};
    by_label(m, "octo_provider_adverts", "adverts sent to orchestrators", "result", ad, N(ad));
    const struct pair t[] = {{"succeeded", s->tasks_succeeded},
                             {"failed", s->tasks_failed},
                             {"refused", s->tasks_refused},
                             {"cancelled", s->tasks_cancelled}};
    by_label(m, "octo_sandbox_tasks", "tasks run in the sandbox, by result", "result", t, N(t));
    octo_metrics_single(m, "octo_sandbox_running", OCTO_METRIC_GAUGE, "sandboxed runs now",
                        s->running);
    octo_metrics_single(m, "octo_sandbox_sealed_tasks", OCTO_METRIC_COUNTER,
                        "sealed tasks run through the privacy worker", s->tasks_sealed);
    octo_metrics_single(m, "octo_inference_tokens", OCTO_METRIC_COUNTER,
                        "completion tokens generated", s->tokens_out);
    octo_metrics_family(m, "octo_sandbox_run_seconds", OCTO_METRIC_COUNTER,
                        "wall time of finished sandboxed runs");
    octo_metrics_fixed(m, NULL, 0, s->run_ns_total / 1000u, 6);
}

void octo_node_metrics_settle(void *settler, struct octo_metrics *m)
{
    const struct octo_settler_stats *s = octo_settler_stats(settler);
    const struct pair tx[] = {{"escrow", s->escrows_sent},
                              {"settle", s->settles_sent},
                              {"refund", s->refunds_sent},
                              {"slash_failed", s->slashes_sent},
                              {"refused", s->txs_refused}};
    by_label(m, "octo_settle_transactions", "ledger transactions of the orchestrator and its payer",
             "kind", tx, N(tx));
    const struct pair rc[] = {{"queued", s->receipts_queued},
                              {"sent", s->receipts_sent},
                              {"dropped", s->receipts_dropped}};
    by_label(m, "octo_settle_receipts", "provider receipts for settlement", "state", rc, N(rc));
    const struct pair es[] = {{"dropped", s->escrows_dropped},
                              {"unregistered", s->escrows_unregistered}};
    by_label(m, "octo_settle_escrows_missed", "tasks accepted without an escrow", "reason", es,
             N(es));
    octo_metrics_single(m, "octo_settle_escrowed_base_units", OCTO_METRIC_COUNTER,
                        "amount escrowed for accepted tasks", s->escrowed_amount);
    octo_metrics_single(m, "octo_settle_waiting", OCTO_METRIC_GAUGE,
                        "transactions waiting for room in the pool", s->waiting);
}
