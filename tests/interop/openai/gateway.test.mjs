// gateway.test.mjs — octo's OpenAI-compatible gateway driven by the official `openai` npm client
// (pinned by package-lock.json) against a running devnet. run.sh starts the devnet and sets:
//   OCTO_OPENAI_BASE_URL  the gateway, e.g. http://127.0.0.1:P/v1
//   OCTO_OPENAI_API_KEY   the devnet's API key
//   OCTO_DEVNET_DIR       the devnet's directory (orchestrator home: net/accounts/a0)
//   OCTO_BIN              the octo binary (to create more API keys)
// Each test checks what the SDK makes of the answer: the objects it returns, or the class,
// status and code of what it throws. Every request is bounded (client timeout, no retries).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import OpenAI, {
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  RateLimitError,
} from 'openai';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through run.sh)`);
  return v;
}
const baseURL = env('OCTO_OPENAI_BASE_URL');
const apiKey = env('OCTO_OPENAI_API_KEY');
const home = `${env('OCTO_DEVNET_DIR')}/net/accounts/a0`;
const octo = env('OCTO_BIN');

const MODEL = 'tiny';
const TIMEOUT_MS = 30_000; // per request
const T = { timeout: 60_000 }; // per test

const client = (opts = {}) => new OpenAI({ baseURL, apiKey, timeout: TIMEOUT_MS, maxRetries: 0, ...opts });
const oai = client();
const messages = [{ role: 'user', content: 'Say something about octopuses.' }];

// A fresh API key for the devnet account the demo key spends for.
function newKey(budget, rate) {
  const keys = JSON.parse(execFileSync(octo, ['apikey', 'list', '--home', home, '--json'], { encoding: 'utf8' }));
  const account = keys[0].account;
  const args = ['apikey', 'create', '--home', home, '--account', account, '--budget', budget, '--json'];
  if (rate !== undefined) args.push('--rate', String(rate));
  const k = JSON.parse(execFileSync(octo, args, { encoding: 'utf8' }));
  assert.match(k.key, /^octo-[0-9a-f]{12}-[0-9a-f]{64}$/);
  return k.key;
}

// rejects(promise, Class, status, code): the SDK threw exactly Class with this status and code.
async function rejects(promise, Class, status, code) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${Class.name}, but the request succeeded`);
  assert.ok(err instanceof Class, `expected ${Class.name}, got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.status, status);
  if (code !== undefined) assert.equal(err.code, code);
  return err;
}

function checkUsage(u, maxTokens) {
  assert.equal(typeof u.prompt_tokens, 'number');
  assert.equal(typeof u.completion_tokens, 'number');
  assert.ok(u.prompt_tokens > 0);
  assert.ok(u.completion_tokens > 0 && u.completion_tokens <= maxTokens, `completion_tokens ${u.completion_tokens}`);
  assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
}

test('models.list() lists "tiny"', T, async () => {
  const ids = [];
  for await (const m of oai.models.list()) {
    assert.equal(m.object, 'model');
    ids.push(m.id);
  }
  assert.ok(ids.includes(MODEL), `models: ${ids}`);
});

test('chat.completions.create, not streamed: shape, usage, headers', T, async () => {
  const rid = `oai-interop-${randomBytes(8).toString('hex')}`;
  const { data, response, request_id } = await oai.chat.completions
    .create({ model: MODEL, messages, max_tokens: 8 }, { headers: { 'x-request-id': rid } })
    .withResponse();
  assert.match(data.id, /^chatcmpl-/);
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.model, MODEL);
  assert.equal(typeof data.created, 'number');
  assert.equal(data.choices.length, 1);
  const c = data.choices[0];
  assert.equal(c.index, 0);
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.ok(['length', 'stop'].includes(c.finish_reason), `finish_reason ${c.finish_reason}`);
  checkUsage(data.usage, 8);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-request-id'), rid, 'the client x-request-id is echoed');
  assert.equal(request_id, rid);
  assert.equal(data._request_id, rid);
  assert.ok(response.headers.get('x-octo-route'), 'x-octo-route');
  assert.ok(response.headers.get('x-octo-task'), 'x-octo-task');
  assert.match(response.headers.get('x-octo-gateway-overhead-us') ?? '', /^[0-9]+$/);
});

test('an x-request-id from defaultHeaders is echoed; without one the gateway makes one', T, async () => {
  const rid = `oai-default-${randomBytes(8).toString('hex')}`;
  const withDefault = client({ defaultHeaders: { 'x-request-id': rid } });
  const a = await withDefault.chat.completions.create({ model: MODEL, messages, max_tokens: 2 }).withResponse();
  assert.equal(a.response.headers.get('x-request-id'), rid);
  const b = await oai.chat.completions.create({ model: MODEL, messages, max_tokens: 2 }).withResponse();
  const own = b.response.headers.get('x-request-id');
  assert.ok(own && own !== rid, `x-request-id ${own}`);
  assert.ok(b.response.headers.get('x-octo-route'));
});

test('chat streamed with include_usage: same text as not streamed (temperature 0, seed)', T, async () => {
  const req = { model: MODEL, messages, max_tokens: 16, temperature: 0, seed: 42 };
  const full = await oai.chat.completions.create(req);
  const { data: stream, response } = await oai.chat.completions
    .create({ ...req, stream: true, stream_options: { include_usage: true } })
    .withResponse();
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.ok(response.headers.get('x-request-id'));
  assert.ok(response.headers.get('x-octo-route'));
  const chunks = [];
  for await (const ch of stream) chunks.push(ch);
  assert.ok(chunks.length >= 2, `${chunks.length} chunks`);
  const id = chunks[0].id;
  assert.match(id, /^chatcmpl-/);
  let text = '';
  let finish = null;
  for (const ch of chunks.slice(0, -1)) {
    assert.equal(ch.object, 'chat.completion.chunk');
    assert.equal(ch.id, id, 'one id for the whole stream');
    assert.equal(ch.model, MODEL);
    assert.equal(ch.choices.length, 1);
    const d = ch.choices[0].delta;
    if (d.role !== undefined) assert.equal(d.role, 'assistant');
    if (typeof d.content === 'string') text += d.content;
    if (ch.choices[0].finish_reason) finish = ch.choices[0].finish_reason;
  }
  assert.equal(chunks[0].choices[0].delta.role, 'assistant', 'the first delta carries the role');
  const last = chunks.at(-1);
  assert.equal(last.id, id);
  assert.deepEqual(last.choices, [], 'the usage chunk has no choices');
  checkUsage(last.usage, 16);
  assert.equal(finish, full.choices[0].finish_reason);
  assert.equal(text, full.choices[0].message.content, 'streamed text = non-streamed text');
  assert.deepEqual(last.usage, full.usage);
});

test('completions.create (legacy), not streamed and streamed', T, async () => {
  const req = { model: MODEL, prompt: 'Once upon a time', max_tokens: 8, temperature: 0, seed: 42 };
  const full = await oai.completions.create(req);
  assert.match(full.id, /^cmpl-/);
  assert.equal(full.object, 'text_completion');
  assert.equal(full.model, MODEL);
  assert.equal(full.choices.length, 1);
  assert.equal(typeof full.choices[0].text, 'string');
  assert.ok(['length', 'stop'].includes(full.choices[0].finish_reason));
  checkUsage(full.usage, 8);

  const stream = await oai.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const ch of stream) {
    assert.equal(ch.object, 'text_completion');
    assert.match(ch.id, /^cmpl-/);
    if (ch.usage) {
      assert.deepEqual(ch.choices, []);
      usage = ch.usage;
      continue;
    }
    assert.equal(ch.choices.length, 1);
    text += ch.choices[0].text;
    if (ch.choices[0].finish_reason) finish = ch.choices[0].finish_reason;
  }
  assert.equal(text, full.choices[0].text);
  assert.equal(finish, full.choices[0].finish_reason);
  assert.deepEqual(usage, full.usage);

  // without include_usage: no usage chunk
  const plain = await oai.completions.create({ ...req, stream: true });
  for await (const ch of plain) {
    assert.ok(!ch.usage, 'no usage chunk unless asked for');
    assert.equal(ch.choices.length, 1);
  }
});

test('a wrong API key: AuthenticationError 401 invalid_api_key', T, async () => {
  const bad = client({ apiKey: `octo-000000000000-${'0'.repeat(64)}` });
  await rejects(bad.chat.completions.create({ model: MODEL, messages, max_tokens: 2 }), AuthenticationError, 401, 'invalid_api_key');
  const worse = client({ apiKey: 'not-a-key' });
  await rejects(worse.completions.create({ model: MODEL, prompt: 'x', max_tokens: 2 }), AuthenticationError, 401, 'invalid_api_key');
});

// A key pays what its tasks cost; the most a request can cost is held against what the key has
// left while it runs, so a request the key could not pay for is refused up front.
test('a spent budget: RateLimitError 429 insufficient_quota', T, async () => {
  const poor = client({ apiKey: newKey('0.002000') }); // 2000 base units: a few short chats
  await rejects(poor.chat.completions.create({ model: MODEL, messages, max_tokens: 4000 }), RateLimitError, 429, 'insufficient_quota');
  let ok = 0;
  let err;
  for (let i = 0; i < 100 && err === undefined; i++) {
    try {
      const r = await poor.chat.completions.create({ model: MODEL, messages, max_tokens: 8 });
      assert.equal(r.object, 'chat.completion');
      ok++;
    } catch (e) {
      err = e;
    }
  }
  assert.ok(ok >= 1, 'a short chat fits the budget');
  assert.ok(err instanceof RateLimitError, `expected RateLimitError, got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.status, 429);
  assert.equal(err.code, 'insufficient_quota');
  assert.equal(err.type, 'insufficient_quota');
  await rejects(poor.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1000, stream: true }), RateLimitError, 429, 'insufficient_quota');
});

test('the rate limit: RateLimitError 429 rate_limit_exceeded with retry-after', T, async () => {
  const slow = client({ apiKey: newKey('1', 1) }); // 1 request per minute; maxRetries 0
  await slow.chat.completions.create({ model: MODEL, messages, max_tokens: 2 });
  const err = await rejects(slow.chat.completions.create({ model: MODEL, messages, max_tokens: 2 }), RateLimitError, 429, 'rate_limit_exceeded');
  const ra = err.headers.get('retry-after');
  assert.match(ra ?? '', /^[0-9]+$/, `retry-after ${ra}`);
  assert.ok(Number(ra) > 0 && Number(ra) <= 60, `retry-after ${ra}`);
  assert.ok(err.requestID, 'the error carries x-request-id');
});

test('malformed requests: BadRequestError 400 naming the param', T, async () => {
  let err = await rejects(oai.chat.completions.create({ model: MODEL, messages, max_tokens: 2, n: 2 }), BadRequestError, 400);
  assert.equal(err.param, 'n');
  assert.equal(err.type, 'invalid_request_error');
  err = await rejects(oai.chat.completions.create({ model: MODEL, messages, max_tokens: 2, temperature: 'hot' }), BadRequestError, 400);
  assert.equal(err.param, 'temperature');
  assert.equal(err.type, 'invalid_request_error');
  err = await rejects(oai.chat.completions.create({ model: MODEL, max_tokens: 2 }), BadRequestError, 400);
  assert.equal(err.param, 'messages');
  err = await rejects(oai.chat.completions.create({ model: MODEL, messages, max_tokens: 2, n: 2, stream: true }), BadRequestError, 400);
  assert.equal(err.param, 'n');
});

test('an unknown model: NotFoundError 404 model_not_found', T, async () => {
  const err = await rejects(oai.chat.completions.create({ model: 'no-such-model', messages, max_tokens: 2 }), NotFoundError, 404, 'model_not_found');
  assert.equal(err.param, 'model');
  await rejects(oai.completions.create({ model: 'no-such-model', prompt: 'x', max_tokens: 2, stream: true }), NotFoundError, 404, 'model_not_found');
});

test('abort: before the answer -> APIUserAbortError; mid-stream -> the stream ends; the gateway goes on', T, async (t) => {
  // Aborted while the gateway works on a non-streamed answer (~100 ms for 512 tokens): the
  // signal fires 5 ms after the request went to fetch. The SDK throws APIUserAbortError.
  const early = new AbortController();
  const racing = client({
    fetch: (url, init) => {
      const r = fetch(url, init);
      setTimeout(() => early.abort(), 5);
      return r;
    },
  });
  await assert.rejects(
    racing.chat.completions.create({ model: MODEL, messages, max_tokens: 512, temperature: 0 }, { signal: early.signal }),
    APIUserAbortError,
  );

  // Aborted after the first chunk of a stream: openai-node does not throw here, it ends the
  // iteration (core/streaming.mjs: "If the user calls `stream.controller.abort()`, we should
  // exit without throwing"); events already read in the same network chunk are still yielded.
  const ac = new AbortController();
  const stream = await oai.chat.completions.create(
    { model: MODEL, messages, max_tokens: 512, temperature: 0, stream: true, stream_options: { include_usage: true } },
    { signal: ac.signal },
  );
  let n = 0;
  for await (const ch of stream) {
    assert.equal(ch.object, 'chat.completion.chunk');
    if (++n === 1) ac.abort();
  }
  assert.ok(n >= 1);
  assert.ok(stream.controller.signal.aborted);
  t.diagnostic(`${n} chunk(s) yielded in all`);

  // the gateway goes on serving
  const after = await oai.chat.completions.create({ model: MODEL, messages, max_tokens: 4 });
  assert.equal(after.object, 'chat.completion');
  checkUsage(after.usage, 4);
  const streamed = await oai.chat.completions.create({ model: MODEL, messages, max_tokens: 4, stream: true });
  let k = 0;
  for await (const ch of streamed) k += ch.choices.length;
  assert.ok(k >= 1);
});

test('max_completion_tokens (what the SDK documents instead of max_tokens) bounds the answer', T, async () => {
  const r = await oai.chat.completions.create({ model: MODEL, messages, max_completion_tokens: 3 });
  checkUsage(r.usage, 3);
});

// JSON must be UTF-8 (RFC 8259 §8.1). openai-node decodes with a non-fatal TextDecoder, so raw
// invalid bytes reach the caller as U+FFFD; stricter clients (Python's json.loads on bytes)
// throw. Checked on the raw bytes of whole and streamed answers, 256 tokens each.
test('answers are well-formed UTF-8 (whole and streamed)', T, async () => {
  const bad = [];
  for (const [kind, call] of [
    ['chat', (s) => oai.chat.completions.create({ model: MODEL, messages, max_tokens: 256, temperature: 0, stream: s })],
    ['completions', (s) => oai.completions.create({ model: MODEL, prompt: 'hello', max_tokens: 256, temperature: 0, stream: s })],
  ]) {
    for (const s of [false, true]) {
      const bytes = Buffer.from(await (await call(s).asResponse()).arrayBuffer());
      const at = firstInvalidUtf8(bytes);
      if (at >= 0)
        bad.push(`${kind}${s ? ' (stream)' : ''}: byte ${at} of ${bytes.length} is 0x${bytes[at].toString(16)}, in ` +
          JSON.stringify(bytes.subarray(Math.max(0, at - 16), at + 4).toString('latin1')));
    }
  }
  assert.deepEqual(bad, [], `invalid UTF-8 in the gateway's JSON:\n  ${bad.join('\n  ')}`);
});

// Offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1.
function firstInvalidUtf8(b) {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let n, lo = 0x80, hi = 0xbf;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) { n = 2; if (c === 0xe0) lo = 0xa0; if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; if (c === 0xf0) lo = 0x90; if (c === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

// Agents: registered through the native API, then used by name as the model with the SDK, whole
// and streamed; an agent this key does not have is the SDK's NotFoundError.
test('an agent as the model: "agent:NAME" through the SDK', T, async () => {
  const root = baseURL.replace(/\/v1\/?$/, '');
  const name = `interop-${process.pid}`;
  const res = await fetch(`${root}/api/v1/agents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, model: MODEL, instructions: 'Answer like a ship captain.', max_tokens: 6 }),
  });
  assert.equal(res.status, 201);
  const agent = await res.json();
  assert.equal(agent.verified, true);
  const r = await oai.chat.completions.create({ model: `agent:${name}`, messages, temperature: 0 });
  assert.equal(r.model, MODEL);
  checkUsage(r.usage, 6);
  const s = await oai.chat.completions.create({
    model: `agent:${name}`, messages, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let usage = null;
  for await (const c of s) {
    text += c.choices[0]?.delta?.content ?? '';
    if (c.usage) usage = c.usage;
  }
  assert.equal(text, r.choices[0].message.content);
  assert.deepEqual(usage, r.usage);
  await rejects(oai.chat.completions.create({ model: 'agent:nobody-here', messages }), NotFoundError, 404,
    'model_not_found');
  const del = await fetch(`${root}/api/v1/agents/${agent.id}`, {
    method: 'DELETE', headers: { authorization: `Bearer ${apiKey}` },
  });
  assert.equal(del.status, 200);
});
