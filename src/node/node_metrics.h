/*
 * node_metrics.h — the node's counters as Prometheus families (api/metrics.h), for the API's
 * /metrics: the network (octo_net_stats), the chain service (validator, consensus, pool), the
 * orchestrator's gateway and router, and the provider's sandboxed runs.
 * Each function is an octo_api_collect_fn; ctx is the module's object.
 */
#ifndef OCTO_NODE_NODE_METRICS_H
#define OCTO_NODE_NODE_METRICS_H

#include "api/metrics.h"

void octo_node_metrics_net(void *net, struct octo_metrics *m);
void octo_node_metrics_chain(void *validator, struct octo_metrics *m);
void octo_node_metrics_gateway(void *gateway, struct octo_metrics *m);
void octo_node_metrics_provider(void *provider, struct octo_metrics *m);
void octo_node_metrics_settle(void *settler, struct octo_metrics *m);

#endif
