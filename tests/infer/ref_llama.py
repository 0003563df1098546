#!/usr/bin/python3
"""ref_llama.py — an independent float64 NumPy reference for the built-in inference engine.

Reads a GGUF v3 file with its own parser (not the C one), dequantizes F32 / F16 / BF16 / Q8_0 /
Q4_0 tensors with the ggml block rules, and runs the llama-family forward pass in float64:
RMSNorm, RoPE (llama: adjacent pairs; qwen2: NeoX halves), grouped-query causal attention,
SwiGLU, optional Q/K/V biases (qwen2), tied or untied output. It prints nothing but the result:

  ref_llama.py MODEL.gguf logits TOKENS OUT      logits after each of TOKENS (comma list)
  ref_llama.py MODEL.gguf greedy TOKENS N OUT    greedy continuation of N tokens; OUT gets
                                                 the logits of every step

With OCTO_REF_ACT_Q8=1 in the environment, the input of every product with a Q8_0 or Q4_0
matrix is first quantized to Q8_0 blocks as ggml (and the C engine) does — d = max|x|/127,
q = round(x/d) half away from zero, d kept as fp16 — so quantized models compare at ~1e-3.

OUT is raw little-endian float64 (rows of n_vocab for logits); greedy also writes the chosen
ids, one per line, to stdout. Run with Debian's /usr/bin/python3 (python3-numpy).
"""
import struct
import sys

import numpy as np

GGUF_TYPES = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
              10: "<Q", 11: "<q", 12: "<d"}
BLOCK = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 2: (32, 18)}  # type: (weights, bytes)


class Reader:
    def __init__(self, data):
        self.d = data
        self.at = 0

    def take(self, n):
        if self.at + n > len(self.d):
            raise ValueError("truncated")
        b = self.d[self.at:self.at + n]
        self.at += n
        return b

    def scalar(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        return self.take(self.scalar("<Q")).decode("utf-8")

    def value(self, t):
        if t in GGUF_TYPES:
            return self.scalar(GGUF_TYPES[t])
        if t == 8:
            return self.string()
        if t == 9:
            et = self.scalar("<I")
            n = self.scalar("<Q")
            return [self.value(et) for _ in range(n)]
        raise ValueError("bad value type %d" % t)


def load(path):
    data = open(path, "rb").read()
    r = Reader(data)
    if r.take(4) != b"GGUF" or r.scalar("<I") != 3:
        raise ValueError("not GGUF v3")
    n_tensors = r.scalar("<Q")
    n_kv = r.scalar("<Q")
    kv = {}
    for _ in range(n_kv):
        k = r.string()
        kv[k] = r.value(r.scalar("<I"))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.scalar("<I")
        ne = [r.scalar("<Q") for _ in range(nd)]
        t = r.scalar("<I")
        off = r.scalar("<Q")
        infos.append((name, ne, t, off))
    align = kv.get("general.alignment", 32)
    base = (r.at + align - 1) // align * align
    tensors = {}
    for name, ne, t, off in infos:
        n = int(np.prod(ne))
        w, b = BLOCK[t]
        raw = data[base + off: base + off + n // w * b]
        tensors[name] = (dequant(raw, t, n).reshape(list(reversed(ne))), t)
    return kv, tensors


def f16(raw):
    return np.frombuffer(raw, dtype="<f2").astype(np.float64)


def dequant(raw, t, n):
    if t == 0:
        return np.frombuffer(raw, dtype="<f4").astype(np.float64)
    if t == 1:
        return f16(raw)
    if t == 30:
        u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return u.view(np.float32).astype(np.float64)
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, BLOCK[t][1])
    d = f16(blocks[:, :2].tobytes())[:, None]
    if t == 8:  # Q8_0: x = qs * d
        return (blocks[:, 2:].view(np.int8).astype(np.float64) * d).reshape(-1)
    if t == 2:  # Q4_0: elements 0..15 in the low nibbles, 16..31 in the high ones
        qs = blocks[:, 2:]
        lo = (qs & 0x0F).astype(np.float64) - 8
        hi = (qs >> 4).astype(np.float64) - 8
        return (np.concatenate([lo, hi], axis=1) * d).reshape(-1)
    raise ValueError("type %d" % t)


def act_q8(x):
    """ggml's quantize_row_q8_0 then dequantize: what a Q8_0/Q4_0 dot sees of x."""
    b = x.astype(np.float32).reshape(-1, 32)
    amax = np.abs(b).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    inv = np.where(d != 0, np.float32(1) / np.where(d != 0, d, 1), 0).astype(np.float32)
    v = (b * inv[:, None]).astype(np.float64)
    q = np.sign(v) * np.floor(np.abs(v) + 0.5)
    d16 = d.astype(np.float16).astype(np.float64)
    return (q * d16[:, None]).reshape(-1)


class Model:
    def __init__(self, path):
        import os
        self.act_q8 = os.environ.get("OCTO_REF_ACT_Q8") == "1"
        kv, self.t = load(path)
        arch = kv["general.architecture"]
        g = lambda k, dflt=None: kv.get("%s.%s" % (arch, k), dflt)
        self.arch = arch
        self.n_embd = g("embedding_length")
        self.n_layer = g("block_count")
        self.n_head = g("attention.head_count")
        self.n_kv = g("attention.head_count_kv", self.n_head)
        self.eps = g("attention.layer_norm_rms_epsilon", 1e-5)
        self.base = g("rope.freq_base", 10000.0)
        self.hd = self.n_embd // self.n_head
        self.neox = arch in ("qwen2",)
        self.k_cache = [[] for _ in range(self.n_layer)]
        self.v_cache = [[] for _ in range(self.n_layer)]

    def w(self, name):
        return self.t[name][0]

    def b(self, name):
        return self.t[name][0] if name in self.t else None

    def rms(self, x, w):
        return x / np.sqrt(np.mean(x * x) + self.eps) * w

    def rope(self, v, pos):
        hd = self.hd
        out = v.copy().reshape(-1, hd)
        i = np.arange(hd // 2)
        theta = pos * self.base ** (-2.0 * i / hd)
        c, s = np.cos(theta), np.sin(theta)
        if self.neox:
            a, b = out[:, :hd // 2].copy(), out[:, hd // 2:].copy()
            out[:, :hd // 2] = a * c - b * s
            out[:, hd // 2:] = a * s + b * c
        else:
            a, b = out[:, 0::2].copy(), out[:, 1::2].copy()
            out[:, 0::2] = a * c - b * s
            out[:, 1::2] = a * s + b * c
        return out.reshape(-1)

    def mm(self, name, x):
        w, t = self.t[name]
        if self.act_q8 and t in (2, 8):
            x = act_q8(x)
        return w @ x

    def lin(self, name, x):
        y = self.mm(name + ".weight", x)
        bias = self.b(name + ".bias")
        return y + bias if bias is not None else y

    def step(self, token, pos):
        x = self.w("token_embd.weight")[token].copy()
        for l in range(self.n_layer):
            p = "blk.%d." % l
            h = self.rms(x, self.w(p + "attn_norm.weight"))
            q = self.rope(self.lin(p + "attn_q", h), pos)
            k = self.rope(self.lin(p + "attn_k", h), pos)
            v = self.lin(p + "attn_v", h)
            self.k_cache[l].append(k)
            self.v_cache[l].append(v)
            K = np.array(self.k_cache[l]).reshape(pos + 1, self.n_kv, self.hd)
            V = np.array(self.v_cache[l]).reshape(pos + 1, self.n_kv, self.hd)
            Q = q.reshape(self.n_head, self.hd)
            att = np.zeros(self.n_embd)
            group = self.n_head // self.n_kv
            for hh in range(self.n_head):
                kh = K[:, hh // group, :]
                sc = kh @ Q[hh] / np.sqrt(self.hd)
                sc = np.exp(sc - sc.max())
                sc /= sc.sum()
                att[hh * self.hd:(hh + 1) * self.hd] = sc @ V[:, hh // group, :]
            x = x + self.mm(p + "attn_output.weight", att)
            h = self.rms(x, self.w(p + "ffn_norm.weight"))
            gate = self.mm(p + "ffn_gate.weight", h)
            up = self.mm(p + "ffn_up.weight", h)
            x = x + self.mm(p + "ffn_down.weight", gate / (1 + np.exp(-gate)) * up)
        x = self.rms(x, self.w("output_norm.weight"))
        return self.mm("output.weight" if "output.weight" in self.t else "token_embd.weight", x)


def main(argv):
    if len(argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    path, mode = argv[1], argv[2]
    m = Model(path)
    tokens = [int(x) for x in argv[3].split(",") if x != ""]
    rows = []
    if mode == "logits":
        for pos, tok in enumerate(tokens):
            rows.append(m.step(tok, pos))
        np.array(rows, dtype="<f8").tofile(argv[4])
        return 0
    if mode == "greedy":
        n = int(argv[4])
        pos = 0
        for tok in tokens[:-1]:
            m.step(tok, pos)
            pos += 1
        tok = tokens[-1]
        for _ in range(n):
            logits = m.step(tok, pos)
            rows.append(logits)
            pos += 1
            tok = int(np.argmax(logits))
            print(tok)
        np.array(rows, dtype="<f8").tofile(argv[5])
        return 0
    sys.stderr.write("unknown mode %s\n" % mode)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
