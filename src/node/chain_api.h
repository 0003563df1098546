/*
 * chain_api.h — the chain's part of the node's native HTTP API, answered from the node's own
 * chain service (validator.h: the same calls as /octo/chain-rpc/1.0.0):
 *
 *   GET /api/v1/accounts/ADDR     an account: balances, stakes, nonce, role, unbonding
 *   GET /api/v1/blocks            the newest finalized block, with its transactions
 *   GET /api/v1/blocks/HEIGHT     a finalized block
 *   GET /api/v1/txs/ID            where a transaction landed, its result and inclusion proof,
 *                                 with the task receipts it carries
 *
 * Behind an API key like every /api/v1 route. The chain's error codes map to HTTP: not-found
 * 404, bad-request and malformed arguments 400, anything else 500; the body is the OpenAI
 * error shape with the chain's code.
 */
#ifndef OCTO_NODE_CHAIN_API_H
#define OCTO_NODE_CHAIN_API_H

#include "api/api.h"
#include "node/validator.h"

/* Adds the routes. Errors: OCTO_ENOSPACE (the API's route table). */
OCTO_MUST_USE int octo_chain_api_add(struct octo_api *api, struct octo_validator *chain);

#endif
