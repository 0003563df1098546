// peer.mjs — the js-libp2p counterpart of octo's interop tests and network benchmark.
// TCP + Noise + Yamux + Identify + Ping on 127.0.0.1 only, plus two test protocols:
//   /octo/echo/1.0.0  echoes every byte back, then closes its write side after the remote's
//   /perf/1.0.0       the libp2p perf shape: the client sends a u64 BE byte count to receive,
//                     then its upload, then closes; the server drains, then sends the count.
// Output: one JSON object per line on stdout. Exit status 0 only when every check held.
//
//   node --import ./node20-polyfill.mjs peer.mjs listen [port]
//   node --import ./node20-polyfill.mjs peer.mjs dial MULTIADDR TEST [ARGS]
//     TEST: ping N | identify | echo STREAMS BYTES | big BYTES | perf UPLOAD DOWNLOAD
//   node --import ./node20-polyfill.mjs peer.mjs self TEST [ARGS]   (js -> js in one process)
// Env: JS_SEED_HEX (deterministic identity), HARD_TIMEOUT_MS (default 60000).
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { createHash, randomBytes } from 'node:crypto'

const ECHO = '/octo/echo/1.0.0'
const PERF = '/perf/1.0.0'
const HARD_TIMEOUT_MS = Number(process.env.HARD_TIMEOUT_MS ?? 60000)
const killer = setTimeout(() => { out({ event: 'error', error: 'hard timeout' }); process.exit(3) }, HARD_TIMEOUT_MS)

function out (obj) { process.stdout.write(JSON.stringify(obj) + '\n') }
const bytesOf = (chunk) => chunk.subarray ? chunk.subarray() : chunk

async function makeNode (port = 0) {
  const seedHex = process.env.JS_SEED_HEX
  const privateKey = seedHex ? await generateKeyPairFromSeed('Ed25519', Buffer.from(seedHex, 'hex')) : undefined
  const node = await createLibp2p({
    ...(privateKey ? { privateKey } : {}),
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${port}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { allow: ['/ip4/127.0.0.1'], inboundConnectionThreshold: 1000, maxIncomingPendingConnections: 1000 },
    services: { identify: identify(), ping: ping() }
  })
  await node.handle(ECHO, echoHandler, { maxInboundStreams: 1024, maxOutboundStreams: 1024 })
  await node.handle(PERF, perfHandler, { maxInboundStreams: 64 })
  return node
}

async function writeAll (stream, data) {
  const CHUNK = 65536
  for (let off = 0; off < data.length; off += CHUNK) {
    if (!stream.send(data.subarray(off, Math.min(off + CHUNK, data.length)))) await stream.onDrain()
  }
}

async function echoHandler (stream) {
  try {
    for await (const chunk of stream) {
      if (!stream.send(bytesOf(chunk))) await stream.onDrain()
    }
    await stream.close()
  } catch (err) { stream.abort(err) }
}

async function perfHandler (stream) {
  try {
    let header = new Uint8Array(0)
    let want = -1n
    for await (const chunk of stream) {
      if (want < 0n) {
        const merged = new Uint8Array(header.length + chunk.length)
        merged.set(header); merged.set(bytesOf(chunk), header.length)
        header = merged
        if (header.length >= 8) want = Buffer.from(header.subarray(0, 8)).readBigUInt64BE()
      }
    }
    const buf = new Uint8Array(65536)
    for (let left = Number(want); left > 0; left -= buf.length) {
      if (!stream.send(buf.subarray(0, Math.min(buf.length, left)))) await stream.onDrain()
    }
    await stream.close()
  } catch (err) { stream.abort(err) }
}

// Sends data on a fresh echo stream and returns the sha256 of what came back.
async function echoOnce (node, target, data) {
  const stream = await node.dialProtocol(target, ECHO)
  const hash = createHash('sha256')
  let got = 0
  const reader = (async () => { for await (const chunk of stream) { const b = bytesOf(chunk); hash.update(b); got += b.length } })()
  await writeAll(stream, data)
  await stream.close()
  await reader
  return { got, sha256: hash.digest('hex') }
}

async function runTest (node, target, test, args) {
  if (test === 'ping') {
    const n = Number(args[0] ?? 5)
    // js's own RTT figure is whole milliseconds; time each ping here with sub-ms precision.
    // The first ping dials and is reported separately.
    const rtts = []
    let first
    for (let i = 0; i <= n; i++) {
      const t0 = performance.now()
      await node.services.ping.ping(target, { signal: AbortSignal.timeout(5000) })
      if (i === 0) first = performance.now() - t0; else rtts.push(performance.now() - t0)
    }
    rtts.sort((a, b) => a - b)
    const q = (p) => rtts[Math.min(rtts.length - 1, Math.floor(p * rtts.length))]
    out({ event: 'ping', n, first_ms: first, p50_ms: q(0.5), p99_ms: q(0.99), rtts_ms: rtts })
    return true
  }
  if (test === 'identify') {
    const conn = await node.dial(target)
    const peer = conn.remotePeer
    let info
    for (let i = 0; i < 50 && !info; i++) {
      try { const p = await node.peerStore.get(peer); if (p.protocols.length > 0) info = p } catch {}
      if (!info) await new Promise(resolve => setTimeout(resolve, 100))
    }
    if (!info) { out({ event: 'error', error: 'identify: no protocols learned' }); return false }
    out({ event: 'identify', peer: peer.toString(), protocols: info.protocols, addrs: info.addresses.map(a => a.multiaddr.toString()), agent: new TextDecoder().decode(info.metadata.get('AgentVersion') ?? new Uint8Array()) })
    return true
  }
  if (test === 'echo') {
    const streams = Number(args[0] ?? 100); const bytes = Number(args[1] ?? 1048576)
    const t0 = performance.now()
    const jobs = []
    for (let i = 0; i < streams; i++) {
      const data = randomBytes(bytes)
      const want = createHash('sha256').update(data).digest('hex')
      jobs.push(echoOnce(node, target, data).then(r => r.got === bytes && r.sha256 === want))
    }
    const ok = (await Promise.all(jobs)).every(Boolean)
    out({ event: 'echo', streams, bytes, ok, ms: performance.now() - t0 })
    return ok
  }
  if (test === 'big') {
    const bytes = Number(args[0] ?? 64 * 1048576)
    const data = randomBytes(bytes)
    const want = createHash('sha256').update(data).digest('hex')
    const t0 = performance.now()
    const r = await echoOnce(node, target, data)
    const ok = r.got === bytes && r.sha256 === want
    out({ event: 'big', bytes, ok, sha256: r.sha256, ms: performance.now() - t0 })
    return ok
  }
  if (test === 'perf') {
    const up = Number(args[0] ?? 0); const down = Number(args[1] ?? 64 * 1048576)
    const t0 = performance.now()
    const stream = await node.dialProtocol(target, PERF)
    let got = 0
    const reader = (async () => { for await (const chunk of stream) got += bytesOf(chunk).length })()
    const header = Buffer.alloc(8); header.writeBigUInt64BE(BigInt(down))
    stream.send(header)
    await writeAll(stream, new Uint8Array(up))
    await stream.close()
    await reader
    const ms = performance.now() - t0
    out({ event: 'perf', upload: up, download: got, ms, mbit_s: (up + got) * 8 / ms / 1000 })
    return got === down
  }
  out({ event: 'error', error: `unknown test ${test}` })
  return false
}

const [mode, ...rest] = process.argv.slice(2)
if (mode === 'listen') {
  // stays up until SIGINT/SIGTERM or HARD_TIMEOUT_MS (so a forgotten peer ends by itself)
  const node = await makeNode(Number(rest[0] ?? 0))
  node.addEventListener('peer:identify', (e) => out({ event: 'identified', peer: e.detail.peerId.toString(), agent: e.detail.agentVersion, protocols: e.detail.protocols, listenAddrs: e.detail.listenAddrs.map(String), observedAddr: e.detail.observedAddr?.toString() }))
  out({ event: 'listening', peer: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) })
  const stop = async () => { await node.stop(); process.exit(0) }
  process.on('SIGINT', stop); process.on('SIGTERM', stop)
} else if (mode === 'dial' || mode === 'self') {
  const node = await makeNode()
  let server
  let target
  let args
  if (mode === 'self') {
    server = await makeNode()
    target = server.getMultiaddrs()[0]
    args = rest
  } else {
    target = multiaddr(rest[0])
    args = rest.slice(1)
  }
  let ok = false
  try { ok = await runTest(node, target, args[0], args.slice(1)) } catch (err) { out({ event: 'error', error: String(err && err.stack || err) }) }
  await node.stop(); if (server) await server.stop()
  clearTimeout(killer)
  process.exit(ok ? 0 : 1)
} else {
  console.error('usage: peer.mjs listen [port] | dial MULTIADDR TEST [ARGS] | self TEST [ARGS]')
  process.exit(2)
}
