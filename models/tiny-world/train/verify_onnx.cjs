// Runs every exported ONNX file in onnxruntime-node (what the engine uses) on the reference
// inputs export.py saved, compares with torch's outputs, and times the two models that
// bound the product's speed budget. Run from the repo root: node models/tiny-world/train/verify_onnx.cjs
const fs = require('fs');
const path = require('path');
const ort = require(path.resolve('node_modules/onnxruntime-node'));
const pack = path.resolve(process.env.TW_OUT || 'models/tiny-world');
const ref = path.join(process.env.TW_CKPT || path.resolve('models/tiny-world/train/checkpoints'), 'verify');

function tensor(spec) {
  if (spec.dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(spec.data.map((v) => BigInt(v))), spec.shape);
  return new ort.Tensor('float32', Float32Array.from(spec.data), spec.shape);
}

(async () => {
  let bad = 0;
  for (const f of fs.readdirSync(ref).filter((n) => n.endsWith('.json')).sort()) {
    const r = JSON.parse(fs.readFileSync(path.join(ref, f), 'utf8'));
    const s = await ort.InferenceSession.create(path.join(pack, r.file), { intraOpNumThreads: 2 });
    const feeds = {};
    for (const [k, v] of Object.entries(r.inputs)) feeds[k] = tensor(v);
    const out = await s.run(feeds);
    for (const [k, v] of Object.entries(r.outputs)) {
      const got = out[k].data;
      let m = 0;
      for (let i = 0; i < v.data.length; i++) m = Math.max(m, Math.abs(got[i] - v.data[i]));
      const ok = m < 1e-3 && got.length === v.data.length;
      if (!ok) bad++;
      console.log(`${ok ? 'ok ' : 'BAD'} ${r.file} ${k} [${out[k].dims}] max |ort - torch| = ${m.toExponential(2)}`);
    }
    if (r.file === 'decoder.onnx' || r.file === 'interpolator.onnx') {
      let feeds2 = feeds;
      if (r.file === 'interpolator.onnx') {  // 21 in-between frames at 64x64 in one batch
        const n = 21, sz = 3 * 64 * 64;
        const rnd = () => new ort.Tensor('float32', Float32Array.from({ length: n * sz }, () => Math.random() * 2 - 1), [n, 3, 64, 64]);
        feeds2 = { frame_a: rnd(), frame_b: rnd(), t: new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => ((i % 3) + 1) / 4), [n]) };
      }
      for (let i = 0; i < 2; i++) await s.run(feeds2);
      const times = [];
      for (let i = 0; i < 8; i++) { const t = performance.now(); await s.run(feeds2); times.push(performance.now() - t); }
      times.sort((a, b) => a - b);
      console.log(`    timing ${r.file} (${r.file === 'decoder.onnx' ? 'batch 2 x 8 keyframes' : '21 frames 64x64'}): median ${times[4].toFixed(1)} ms, min ${times[0].toFixed(1)} ms`);
    }
  }
  if (bad) { console.error(`${bad} mismatches`); process.exit(1); }
})();
