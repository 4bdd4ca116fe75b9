
// World Models in the browser: M (LSTM + mixture head) and V's decoder, forward only, on Float32Arrays.
(function (root) {
'use strict';
let F16 = null;  // float16 bits -> float32, built once
function f16table() {
  if (F16) return F16;
  F16 = new Float32Array(65536);
  for (let b = 0; b < 65536; b++) {
    const s = b & 0x8000 ? -1 : 1, e = (b >> 10) & 31, f = b & 1023;
    F16[b] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
  }
  return F16;
}

const KERNEL = 'AGFzbQEAAAABCwFgB39/f39/f38AAggBAWUBbQIAAQMCAQAHBQEBawAACtoBAdcBAwd/AXsBfSAFQQJ0IQwgBkECdCENQQAhBwJAA0AgByABTg0BIAAgB0ECdGoqAgAiD0MAAAAAXARAIA/9EyEOIAIgByAEbCAMbGohCiADIQtBACEIA0BBACEJA0AgCyAJaiALIAlq/QAAACAOIAogCWr9AAAA/eYB/eQB/QsAACALIAlqIAsgCWr9AAAQIA4gCiAJav0AABD95gH95AH9CwAQIAlBIGoiCSAMSA0ACyAKIAxqIQogCyANaiELIAhBAWoiCCAESA0ACwsgB0EBaiEHDAALCws=';
function kernelJS(H) {  // the same loops in plain JavaScript (offsets in floats): the fallback and the reference
  return function (x, n, w, y, rows, len, ys) {
    for (let i = 0; i < n; i++) {
      const v = H[x + i]; if (v === 0) continue;
      for (let r = 0, wo = w + i * rows * len; r < rows; r++, wo += len) { const yo = y + r * ys;
        for (let k = 0; k < len; k++) H[yo + k] += v * H[wo + k]; }
    }
  };
}

function load(buf, useWasm = true) {  // model.bin: uint32 header length, JSON header, 8-byte aligned tensors
  const n = new DataView(buf).getUint32(0, true);
  const cfg = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n))), c = cfg.config, H = c.hidden_dim;
  const I = c.z_dim + c.action_dim + (c.predict_done ? 1 : 0) + 1 + H;  // M's input [z, a, (restart,) 1, h]
  const O = 3 * c.n_mix * c.z_dim + (c.predict_done ? 1 : 0);  // head outputs
  const Op = (O + 7) & ~7, sizes = {x: I, g: 4 * H, out: Op,  // work buffers
                                    x1: 3200, x2: 13 * 13 * 64, x3: 30 * 30 * 32, y: 64 * 64 * 4};
  const shapes = Object.entries(cfg.tensors), t = {}, off = {};
  let total = 0;
  for (const [name, [, shape]] of shapes) { off[name] = total; total += (shape.reduce((a, b) => a * b, 1) + 3) & ~3; }
  for (const [name, len] of Object.entries(sizes)) { off[name] = total; total += len; }
  const mem = new WebAssembly.Memory({initial: Math.ceil(4 * total / 65536)}), heap = new Float32Array(mem.buffer);
  for (const [name, [dtype, shape, o]] of shapes) {
    const len = shape.reduce((a, b) => a * b, 1), p = cfg.data + o;
    if (dtype === 'u32') { t[name] = new Uint32Array(buf.slice(p, p + 4 * len)); continue; }
    const v = heap.subarray(off[name], off[name] + len); t[name] = v;
    if (dtype === 'f16') { const u = new Uint16Array(buf, p, len), tab = f16table();
                           for (let i = 0; i < len; i++) v[i] = tab[u[i]]; }
    else if (dtype === 'f32') v.set(new Float32Array(buf.slice(p, p + 4 * len)));
    else throw new Error('model.bin: unknown dtype ' + dtype + ' of ' + name);
  }
  for (const [name, len] of Object.entries(sizes)) t[name] = heap.subarray(off[name], off[name] + len);
  let k = kernelJS(heap), wasm = false;
  if (useWasm) try {  // 263 bytes of WebAssembly SIMD (see the chapter): the same loops, 8 floats a turn
    const bin = Uint8Array.from(atob(KERNEL), ch => ch.charCodeAt(0));
    const f = new WebAssembly.Instance(new WebAssembly.Module(bin), {e: {m: mem}}).exports.k;
    k = (x, n, w, y, rows, len, ys) => f(4 * x, n, 4 * w, 4 * y, rows, len, ys); wasm = true;
  } catch (e) { /* no WebAssembly SIMD here: plain JavaScript */ }
  return {cfg, c, t, off, I, O, Op, k, wasm};
}


const sig = v => 1 / (1 + Math.exp(-v));

function mStep(m, z, a, restart, h, c) {  // one LSTM step: {out: head outputs (O), h, c}
  const {z_dim: Z, action_dim: A, hidden_dim: H, predict_done} = m.c, t = m.t, x = t.x, g = t.g.fill(0);
  x.set(z, 0); x.set(a, Z); let j = Z + A;
  if (predict_done) x[j++] = restart;
  x[j++] = 1; x.set(h, j);
  m.k(m.off.x, m.I, m.off['m.W'], m.off.g, 1, 4 * H, 0);  // gates = [z a (r) 1 h] W
  const h2 = new Float32Array(H), c2 = new Float32Array(H);
  for (let k = 0; k < H; k++) {  // torch's gate order: i, f, g, o
    c2[k] = sig(g[H + k]) * c[k] + sig(g[k]) * Math.tanh(g[2 * H + k]);
    h2[k] = sig(g[3 * H + k]) * Math.tanh(c2[k]);
  }
  t.out.set(t['m.bh']); x.set(h2, 0);
  m.k(m.off.x, H, m.off['m.Wh'], m.off.out, 1, m.Op, 0);  // head = h Wh + bh
  return {out: t.out.slice(0, m.O), h: h2, c: c2};
}

function mixture(m, out) {  // head outputs -> log_pi, mu, log_sigma, each (Z*K), as the M chapter's forward
  const {z_dim: Z, n_mix: K} = m.c, logPi = new Float32Array(Z * K), mu = new Float32Array(Z * K);
  const ls = new Float32Array(Z * K);
  for (let d = 0; d < Z; d++) {
    const b = 3 * K * d; let mx = -Infinity, s = 0;
    for (let k = 0; k < K; k++) mx = Math.max(mx, out[b + k]);
    for (let k = 0; k < K; k++) s += Math.exp(out[b + k] - mx);
    for (let k = 0; k < K; k++) {
      logPi[d * K + k] = out[b + k] - mx - Math.log(s); mu[d * K + k] = out[b + K + k];
      ls[d * K + k] = Math.min(3, Math.max(-7, out[b + 2 * K + k]));
    }
  }
  return {logPi, mu, logSigma: ls};
}

function sampleMixture(logPi, mu, logSigma, K, tau, u, eps) {  // sample_mdn with given draws u (Z*K), eps (Z)
  const Z = eps.length, z = new Float32Array(Z), st = Math.sqrt(tau);
  for (let d = 0; d < Z; d++) {
    let best = -Infinity, kb = 0;
    for (let k = 0; k < K; k++) {  // Gumbel-max: k ~ softmax(log_pi / tau)
      const s = logPi[d * K + k] / tau - Math.log(-Math.log(Math.min(1, Math.max(1e-20, u[d * K + k]))));
      if (s > best) { best = s; kb = k; }
    }
    z[d] = mu[d * K + kb] + Math.exp(logSigma[d * K + kb]) * st * eps[d];
  }
  return z;
}


function decode(m, z) {  // V's decoder: z -> (64, 64, 4) in [0, 1], HWC, the 4th channel unused
  const t = m.t, o = m.off;
  t.x1.set(t['v.b1']); t.x.set(z, 0);
  m.k(o.x, z.length, o['v.W1'], o.x1, 1, 3200, 0);  // fc_dec and the 1x1 -> 5x5 layer, folded into one matrix
  const layers = [['x1', 5, 128, 'v.W2', 'v.b2', 5, 64, 'x2', 13], ['x2', 13, 64, 'v.W3', 'v.b3', 6, 32, 'x3', 30],
                  ['x3', 30, 32, 'v.W4', 'v.b4', 6, 4, 'y', 64]];
  for (const [xi, Hi, Ci, W, b, K, Co, yi, Ho] of layers) {  // stride-2 transposed convolutions, HWC
    const x = t[xi], y = t[yi];
    for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = 0;  // ReLU of the layer before
    for (let p = 0; p < Ho * Ho; p++) y.set(t[b], p * Co);
    for (let iy = 0; iy < Hi; iy++) for (let ix = 0; ix < Hi; ix++)  // input pixel (iy, ix): K rows of K*Co outputs
      m.k(o[xi] + (iy * Hi + ix) * Ci, Ci, o[W], o[yi] + (2 * iy * Ho + 2 * ix) * Co, K, K * Co, Ho * Co);
  }
  const y = t.y; for (let i = 0; i < y.length; i++) y[i] = sig(y[i]);
  return y;
}


function control(m, z, h, c) {  // C on [z, (c,) h] -> the action M takes, as the controller chapter's maps
  const cc = m.cfg.controller, parts = {z, h, c}, W = m.t['c.W'], n = cc.action_dim, y = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let s = cc.bias ? m.t['c.b'][k] : 0, o = k * cc.in_dim;
    for (const p of cc.inputs) { const v = parts[p];
                                 for (let i = 0; i < v.length; i++) s += W[o + i] * v[i]; o += v.length; }
    y[k] = Math.tanh(s);
  }
  if (m.cfg.env === 'doom') return Float32Array.of((y[0] > 1 / 3) - (y[0] < -1 / 3));
  return Float32Array.of(y[0], (y[1] + 1) / 2, Math.min(1, Math.max(0, y[2])));
}

function rng(seed) {  // xoshiro128**, seeded by splitmix32; returns uniforms in (0, 1)
  let s = seed >>> 0; const st = new Uint32Array(4);
  for (let i = 0; i < 4; i++) { s = (s + 0x9e3779b9) >>> 0; let q = s;
    q = Math.imul(q ^ (q >>> 16), 0x85ebca6b); q = Math.imul(q ^ (q >>> 13), 0xc2b2ae35);
    st[i] = (q ^ (q >>> 16)) >>> 0; }
  return function () {
    const r = Math.imul(((Math.imul(st[1], 5) << 7) | (Math.imul(st[1], 5) >>> 25)), 9) >>> 0, t = st[1] << 9;
    st[2] ^= st[0]; st[3] ^= st[1]; st[1] ^= st[2]; st[0] ^= st[3]; st[2] ^= t; st[3] = (st[3] << 11) | (st[3] >>> 21);
    return (r + 0.5) / 4294967296;
  };
}
function normal(r) { return Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r()); }

class Dream {  // one dream of M, stepped as the dream chapter's BatchedDream (threshold death)
  constructor(m) { this.m = m; this.reset(0); }
  reset(seed, start) {  // start: seed of the first frame (default: seed)
    const m = this.m, {z_dim: Z, hidden_dim: H} = m.c, r0 = rng((start ?? seed) ^ 0x5bd1e995), idx = m.t['z0.idx'];
    const i = idx[Math.floor(r0() * idx.length)], mu = m.t['z0.mu'], sd = m.t['z0.std'];
    this.z = new Float32Array(Z); for (let d = 0; d < Z; d++) this.z[d] = mu[i * Z + d] + sd[i * Z + d] * normal(r0);
    this.h = new Float32Array(H); this.c = new Float32Array(H); this.t = 0; this.alive = true; this.rand = rng(seed);
    return this.z;
  }
  autopilot() { return control(this.m, this.z, this.h, this.c); }
  step(a, tau) {  // M reads (z, a), draws the next z at temperature tau; returns whether the dream died
    if (!this.alive) return true;
    const m = this.m, {z_dim: Z, n_mix: K} = m.c, s = mStep(m, this.z, a, this.t === 0 ? 1 : 0, this.h, this.c);
    const p = mixture(m, s.out), u = new Float64Array(Z * K), eps = new Float64Array(Z);
    for (let i = 0; i < Z * K; i++) u[i] = this.rand();
    for (let i = 0; i < Z; i++) eps[i] = normal(this.rand);
    this.z = sampleMixture(p.logPi, p.mu, p.logSigma, K, tau, u, eps); this.h = s.h; this.c = s.c; this.t++;
    if (m.c.predict_done && s.out[m.O - 1] > 0) this.alive = false;  // the paper's rule: death logit > 0
    return !this.alive;
  }
}

const api = {load, kernelJS, mStep, mixture, sampleMixture, decode, control, rng, normal, Dream};
if (typeof module !== 'undefined' && module.exports) module.exports = api; else root.WM = api;
})(this);
