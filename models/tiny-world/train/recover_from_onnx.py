"""Tool `recover` (python recover_from_onnx.py): rebuilds the final checkpoints that export.py
reads (checkpoints/ae_final.pt, ae_decoder_final.pt, ae_sharp_final.pt when the pack's latent
decoder has the ae-sharp blocks, clip_final.pt, decoder-scale_final.pt (or
decoder-motion_final.pt for a pack from before the scale stage), interp3_final.pt (interp2_final.pt
before session 6), vclip_final.pt; from a pack with 8 latent channels (session 7 on) instead
ae_detail_final.pt and decoder-detail_final.pt, plus ae_final.pt for the first 4 channels' encoder;
from a pack whose latent decoder reads the text, session 8 on, also ae_detail_final.pt without its detail
encoder and ae_predict_final.pt; from a pack with a refiner, session 15 on, also refiner_final.pt)
from the shipped ONNX files, so later stages can resume or fine-tune on a
machine where checkpoints/ was lost. Never overwrites a checkpoint that exists; needs no data set
(the vocabulary size comes from manifest.json). Run from the repo root:
    /usr/bin/python3 models/tiny-world/train/recover_from_onnx.py   # TW_CKPT=dir writes elsewhere

How: torch's constant folding renames some weights and moves their elements (nn.Linear on a
3D input becomes a MatMul with the transposed weight, GroupNorm's affine becomes [C, 1, 1]
Mul/Add constants), so names alone do not say where each value came from. Each network is
built exactly as export.py builds it and exported with export.py's call twice, with every
parameter/buffer element set to a value that encodes its own (tensor, position): element id k
(1..N over the whole state dict) is k * 2^-24 in one export and (N + 1 - k) * 2^-24 in the
other (exact in float32 for N < 2^24). Reading an initializer of that export back gives, for
every element, which state-dict entry and flat index it is a copy of, whatever transposes,
reshapes, slices or duplicates folding did; the second export proves it is a copy and not
arithmetic (an initializer that is the same in both is a constant table, not a parameter).
The shipped graph has the same nodes, so node inputs pair its initializers with the
temporary export's (also when by-value de-duplication merged equal initializers), and the
same gathers, run backwards, fill the state dict from the shipped values.

Verified afterwards: the recovered modules are exported again and their initializers compared
with the shipped ones, and the modules' outputs on random contract-shaped inputs are compared
with the shipped files run in onnxruntime-node (when node and node_modules/onnxruntime-node
are there).

One thing ONNX cannot give back: ae_final.pt's decoder before the `ae-dec` fine-tune (the
pack ships only the fine-tuned one), so ae_final.pt gets the fine-tuned decoder too; its
encoder and latent statistics are the trained ones. The stages' data products (latents_*.npy,
emb.npz) and the non-final resume checkpoints (<stage>.pt with optimizer state) are not in
the pack either; the data products come back in ~4 minutes from the recovered weights:
    (cd models/tiny-world/train && TW_MIN_AE=0 /usr/bin/python3 stage_ae.py && /usr/bin/python3 stage_clip.py)
(a time box of 0 keeps ae_final.pt; the clip stage keeps a clip_final.pt it finds without its
run checkpoint), and for a detail pack also `/usr/bin/python3 stage_aedec.py detail` (it only
encodes the detail channels when ae_detail_final.pt exists). A pack whose latent decoder predicts
the detail channels (session 8's ae-predict) does not hold the detail encoder: its
ae_detail_final.pt is enough to export, not to run ae-detail or ae-predict again."""
import json, os, shutil, subprocess, sys, tempfile, time, warnings
import numpy as np
import torch
import onnx
from onnx import numpy_helper
from common import CKPT, PACK, REPO, log, save_whole, setup_threads
from models import (AutoEncoder, autoencoder_from, LatentEncoder, LatentDecoder, ClipText, ClipImage, Prior, FlowInterpolator,
                    DetailPredictor, PredictedDetailDecoder,
                    TrackInterpolator, VideoText)
from stage_decoder import build
from stage_vclip import video_text_export_args

ID_SCALE = 2.0 ** -24  # float32 holds every integer multiple of this below 1.0 exactly
B = 2


def export(model, args, path, inputs, outputs, dyn):
    """export.py's call (eval mode, no grad, opset 17, constant folding), without its side files"""
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about the fixed frame count
        torch.onnx.export(model, args, path, opset_version=17, input_names=inputs, output_names=outputs,
                          dynamic_axes=dyn, do_constant_folding=True)


def inits(path):
    m = onnx.load(path)
    return m, {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


def pair_initializers(tmp, shipped, path):
    """temporary-export initializer name -> shipped initializer name, read off the two graphs
    node by node (the same module and torch give the same node sequence)"""
    tn, sn = tmp.graph.node, shipped.graph.node
    if [n.op_type for n in tn] != [n.op_type for n in sn]:
        sys.exit(f"{path}: the graph differs from what this torch exports (different torch or models.py?)")
    t_init = {i.name for i in tmp.graph.initializer}
    s_init = {i.name for i in shipped.graph.initializer}
    pairs = {}
    for a, b in zip(tn, sn):
        for x, y in zip(a.input, b.input):
            if x in t_init:
                if y not in s_init or pairs.setdefault(x, y) != y:
                    sys.exit(f"{path}: initializer {x} has no unique counterpart in the shipped graph")
    return pairs


def recover(model, args, onnx_file, inputs, outputs, dyn, tmpdir, covers=("",)):
    """the shipped ONNX file's weights for `model`'s state-dict entries whose names start with
    one of `covers` (the part of the module the file exports), a list of problems (elements
    no initializer gave, initializers that are not copies of parameters) and how many
    initializers were plain copies, moved copies (renamed/transposed/reshaped) and constants"""
    sd = model.state_dict()
    keys = [k for k, v in sd.items() if v.is_floating_point()]
    sizes = np.array([sd[k].numel() for k in keys])
    starts = np.concatenate([[0], np.cumsum(sizes)])  # ids starts[i]+1 .. starts[i+1] belong to keys[i]
    n = int(starts[-1])
    assert n < 2 ** 24, "too many elements to give each one an exact float32 id"

    def fill(reverse):
        for i, k in enumerate(keys):
            ids = torch.arange(starts[i] + 1, starts[i + 1] + 1, dtype=torch.float64)
            if reverse:
                ids = n + 1 - ids
            sd[k].copy_((ids * ID_SCALE).reshape(sd[k].shape))
        model.load_state_dict(sd)

    probes = []
    for j, reverse in enumerate((False, True)):
        fill(reverse)
        p = os.path.join(tmpdir, f"probe{j}_{onnx_file}")
        export(model, args, p, inputs, outputs, dyn)
        probes.append(inits(p))
    (tmp, fwd), (_, rev) = probes
    shipped, ship = inits(os.path.join(PACK, onnx_file))
    pairs = pair_initializers(tmp, shipped, onnx_file)

    out = {k: torch.full_like(sd[k], float("nan")) for k in keys}
    flat = {k: out[k].view(-1) for k in keys}
    problems = []
    kinds = {"plain": 0, "moved": 0, "constant": 0}
    for name, a in fwd.items():
        if name not in pairs:
            continue  # an initializer no node reads
        s = ship[pairs[name]]
        if s.shape != a.shape:
            problems.append(f"{onnx_file}: {name} shape {a.shape} but shipped {s.shape}")
            continue
        b = rev[name]
        if np.array_equal(a, b):  # not made from parameters: a constant table (frequencies, grids, eye)
            if not np.array_equal(a, s):
                problems.append(f"{onnx_file}: constant {name} differs from the shipped one")
            kinds["constant"] += 1
            continue
        ida = a.astype(np.float64).ravel() / ID_SCALE
        idb = b.astype(np.float64).ravel() / ID_SCALE
        ids = np.rint(ida).astype(np.int64)
        if not (np.all(ida == ids) and np.all((ids >= 1) & (ids <= n)) and np.all(idb == n + 1 - ids)):
            problems.append(f"{onnx_file}: {name} {a.shape} is computed from parameters (folded arithmetic), "
                            f"not a copy; not mapped")
            continue
        owner = np.searchsorted(starts, ids, side="left") - 1  # ids are 1-based
        i0 = owner[0]
        plain = name == keys[i0] and np.array_equal(ids, np.arange(starts[i0] + 1, starts[i0 + 1] + 1))
        kinds["plain" if plain else "moved"] += 1
        sv = s.ravel()
        for i in np.unique(owner):
            sel = owner == i
            idx = torch.from_numpy(ids[sel] - starts[i] - 1)
            val = torch.from_numpy(sv[sel].astype(np.float32))
            dst = flat[keys[i]]
            prev = dst[idx]
            seen = ~torch.isnan(prev)
            if not torch.equal(prev[seen], val[seen]):  # one parameter copied into two initializers
                problems.append(f"{onnx_file}: {keys[i]} gets different values from two initializers")
            dst[idx] = val
    out = {k: v for k, v in out.items() if k.startswith(covers)}
    for k, v in out.items():
        missing = int(torch.isnan(v).sum())
        if missing:
            problems.append(f"{onnx_file}: {k}: {missing}/{v.numel()} elements in no initializer")
    return out, problems, kinds


def ort_outputs(onnx_file, feeds, tmpdir):
    """the shipped file run in onnxruntime-node (what the engine uses) on `feeds`, or None"""
    ort = os.path.join(REPO, "node_modules", "onnxruntime-node")
    if not shutil.which("node") or not os.path.isdir(ort):
        return None
    io = os.path.join(tmpdir, "io.json")
    json.dump({k: {"dtype": "int64" if v.dtype == torch.int64 else "float32", "shape": list(v.shape),
                   "data": v.flatten().tolist()} for k, v in feeds.items()}, open(io, "w"))
    js = """
const ort = require(process.argv[1]); const fs = require('fs');
(async () => {
  const r = JSON.parse(fs.readFileSync(process.argv[3], 'utf8')); const feeds = {};
  for (const [k, v] of Object.entries(r)) feeds[k] = v.dtype === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(v.data.map((x) => BigInt(x))), v.shape)
    : new ort.Tensor('float32', Float32Array.from(v.data), v.shape);
  const s = await ort.InferenceSession.create(process.argv[2], { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const o = await s.run(feeds); const res = {};
  for (const [k, t] of Object.entries(o)) res[k] = { shape: t.dims, data: Array.from(t.data) };
  fs.writeFileSync(process.argv[3] + '.out', JSON.stringify(res));
})().catch((e) => { console.error(e); process.exit(1); });
"""
    subprocess.run(["node", "-e", js, ort, os.path.join(PACK, onnx_file), io], check=True)
    res = json.load(open(io + ".out"))
    return {k: np.array(v["data"], np.float32).reshape(v["shape"]) for k, v in res.items()}


def verify(model, args, onnx_file, inputs, outputs, dyn, tmpdir, feeds):
    """(max |initializer diff| after re-export, whether the re-exported file is byte-identical
    to the shipped one, max |torch - onnxruntime| on `feeds` or None without node)"""
    p = os.path.join(tmpdir, "re_" + onnx_file)
    export(model, args, p, inputs, outputs, dyn)
    tmp, re = inits(p)
    shipped, ship = inits(os.path.join(PACK, onnx_file))
    pairs = pair_initializers(tmp, shipped, onnx_file)
    init_diff = max(float(np.abs(re[a].astype(np.float64) - ship[b]).max()) if re[a].size else 0.0
                    for a, b in pairs.items())
    same = open(p, "rb").read() == open(os.path.join(PACK, onnx_file), "rb").read()
    ref = ort_outputs(onnx_file, feeds, tmpdir)
    if ref is None:
        return init_diff, same, None
    with torch.no_grad():
        y = model(*[feeds[k] for k in inputs]).numpy()
    return init_diff, same, float(np.abs(y - ref[outputs[0]]).max())


def main():
    t0 = time.time()
    setup_threads()
    torch.manual_seed(0)
    manifest = json.load(open(os.path.join(PACK, "manifest.json")))
    V = len(manifest["tokenizer"]["vocabulary"])
    os.makedirs(CKPT, exist_ok=True)

    # export.py's example inputs (shapes and dtypes are what fixes the graph) ...
    img = torch.rand(B, 3, 64, 64) * 2 - 1
    tok = torch.zeros(B, 16, dtype=torch.int64)
    tok[:, :6] = torch.randint(1, V, (B, 6))
    emb = lambda: torch.nn.functional.normalize(torch.randn(B, 64), dim=-1)
    # a pack with detail latent channels (stage ae-detail, session 7 on): an 8-channel autoencoder and decoder
    detail = any(".detail." in i.name for i in onnx.load(os.path.join(PACK, "latent_encoder.onnx")).graph.initializer)
    zc = 8 if detail else 4
    lat = torch.randn(B, zc, 8, 16, 16)
    mask = torch.zeros(B, 1, 8, 16, 16); mask[0, :, :2] = 1
    bdyn = lambda *names: {n: {0: "B"} for n in names}
    # ... and, separately, the verification inputs: every contract input, tokens 1..V-1 with
    # a padded tail of varying length, and a mask that gives 0, 1 or 3 keyframes
    g = torch.Generator().manual_seed(1)
    N = 3
    vtok = torch.randint(1, V, (N, 16), generator=g)
    for r, keep in enumerate((16, 7, 3)):
        vtok[r, keep:] = 0
    vlat = torch.randn(N, zc, 8, 16, 16, generator=g)
    vmask = torch.zeros(N, 1, 8, 16, 16); vmask[1, :, :1] = 1; vmask[2, :, :3] = 1
    vimg = lambda: torch.rand(N, 3, 64, 64, generator=g) * 2 - 1
    vemb = torch.nn.functional.normalize(torch.randn(N, 64, generator=g), dim=-1)

    # the shipped latent decoder: with full-resolution blocks (stage ae-sharp, session 6 on) or without
    decoder_init = onnx.load(os.path.join(PACK, "latent_decoder.onnx")).graph.initializer
    sharp = any(".sharp." in i.name for i in decoder_init)
    ae = AutoEncoder(sharp=sharp, detail=zc - 4)
    # ... or (session 8 on) ae-detail's decoder behind a DetailPredictor that reads the text embedding too
    predicted = any(i.name.startswith("predictor.") for i in decoder_init)
    wide = AutoEncoder(sharp=True, detail=4) if predicted else ae
    latent_decoder = PredictedDetailDecoder(wide, DetailPredictor()) if predicted else LatentDecoder(ae)
    decoder_names = ["latents"] + (["text_embedding"] if predicted else [])
    # the shipped decoder: video U-Net + TextWarp, from the scale stage (its warps have a
    # locator) or, in packs before session 5, from the motion stage
    scaled = any("twarp.locate" in i.name for i in onnx.load(os.path.join(PACK, "decoder.onnx")).graph.initializer)
    unet = build(V, True, motion=True, scale=scaled, zc=zc)
    unet_ckpt = "decoder-detail_final.pt" if detail else "decoder-scale_final.pt" if scaled else "decoder-motion_final.pt"
    text, image, prior = ClipText(V), ClipImage(), Prior()
    # the shipped interpolator: v3 (track head) from session 6 on, v2 before
    tracked = any("track_head" in i.name for i in onnx.load(os.path.join(PACK, "interpolator.onnx")).graph.initializer)
    interp, interp_ckpt = (TrackInterpolator(), "interp3_final.pt") if tracked else (FlowInterpolator(), "interp2_final.pt")
    video_text = VideoText(V)
    vt_args, vt_dyn = video_text_export_args(video_text)
    # (module, export args, ONNX file, input names, output names, dynamic axes, verification feeds,
    #  the state-dict entries the file holds)
    every = ("",)

    def diffusion_job(model, f):  # the decoder, and the refiner (the same U-Net fine-tuned at 2x)
        return (model, (lat, torch.tensor([999.0, 10.0]), tok, emb(), lat * mask, mask), f,
                ["latents", "timestep", "tokens", "image_embedding", "known", "mask"], ["v"],
                bdyn("latents", "timestep", "tokens", "image_embedding", "known", "mask", "v"),
                {"latents": vlat, "timestep": torch.tensor([999.0, 500.0, 3.0]), "tokens": vtok, "image_embedding": vemb,
                 "known": vlat * vmask, "mask": vmask}, every)

    jobs = [
        (LatentEncoder(ae), (img,), "latent_encoder.onnx", ["image"], ["latents"], bdyn("image", "latents"),
         {"image": vimg()}, ("ae.enc.", "ae.detail.", "ae.z_")),
        (latent_decoder, (torch.randn(B, zc, 16, 16),) + ((emb(),) if predicted else ()), "latent_decoder.onnx",
         decoder_names, ["image"], bdyn(*decoder_names, "image"),
         {"latents": torch.randn(N, zc, 16, 16, generator=g), **({"text_embedding": vemb} if predicted else {})},
         ("ae.dec.", "ae.sharp.", "ae.z_", "predictor.")),
        (text, (tok,), "text_encoder.onnx", ["tokens"], ["text_embedding"], bdyn("tokens", "text_embedding"),
         {"tokens": vtok}, every),
        (image, (img,), "image_encoder.onnx", ["image"], ["image_embedding"], bdyn("image", "image_embedding"),
         {"image": vimg()}, every),
        (prior, (emb(),), "prior.onnx", ["text_embedding"], ["image_embedding"],
         bdyn("text_embedding", "image_embedding"), {"text_embedding": vemb}, every),
        diffusion_job(unet, "decoder.onnx"),
        (interp, (img, torch.rand(B, 3, 64, 64) * 2 - 1, torch.tensor([0.25, 0.75])), "interpolator.onnx",
         ["frame_a", "frame_b", "t"], ["frame"],
         {"frame_a": {0: "B", 2: "H", 3: "W"}, "frame_b": {0: "B", 2: "H", 3: "W"}, "t": {0: "B"},
          "frame": {0: "B", 2: "H", 3: "W"}},
         {"frame_a": vimg(), "frame_b": vimg(), "t": torch.tensor([0.25, 0.5, 0.75])}, every),
        (video_text, vt_args, "video_text.onnx", ["frames", "tokens"], ["score"], vt_dyn,
         {"frames": torch.rand(N, 3, 8, 64, 64, generator=g) * 2 - 1, "tokens": vtok}, every),
    ]
    # session 15 on: the refine node's own model (stage refiner), when the pack has one
    refiner = build(V, True, motion=True, scale=scaled, zc=zc)
    refined = os.path.exists(os.path.join(PACK, "refiner.onnx"))
    if refined:
        jobs.append(diffusion_job(refiner, "refiner.onnx"))

    problems, recovered = [], {}
    tmpdir = tempfile.mkdtemp(prefix="tw_recover_")
    try:
        for model, args, f, ins, outs, dyn, _, covers in jobs:
            ts = time.time()
            sd, pr, kinds = recover(model, args, f, ins, outs, dyn, tmpdir, covers)
            recovered[f], problems = sd, problems + pr
            log(f"[recover] {f}: {len(sd)} state-dict tensors from {kinds['plain']} plain and {kinds['moved']} "
                f"moved initializers ({kinds['constant']} constants checked) in {time.time() - ts:.0f} s"
                + (f", {len(pr)} problem(s)" if pr else ""))
        # the two AE files each carry the latent statistics: they must agree
        for k in ("ae.z_mean", "ae.z_std"):  # (a decoder with predicted detail channels has 4 more)
            if not torch.equal(recovered["latent_encoder.onnx"][k], recovered["latent_decoder.onnx"][k][:, :zc]):
                problems.append(f"{k} differs between latent_encoder.onnx and latent_decoder.onnx")

        def part(f, prefix):
            return {k[len(prefix):]: v for k, v in recovered[f].items() if k.startswith(prefix)}

        ae_sd = {**part("latent_encoder.onnx", "ae."), **part("latent_decoder.onnx", "ae.")}
        # state dicts in the modules' own key order, as the stages save them
        # ae_final.pt's encoder and statistics for the first 4 channels (what stage ae encodes the latents with);
        # from a detail pack (or one with predicted detail channels) its decoder is the detail one's without the
        # detail inputs, which decodes nothing well
        first4 = lambda k, v: v[:, :4] if k in ("z_mean", "z_std", "dec.0.weight") and v.shape[1] > 4 else v
        if predicted:
            wide_sd = part("latent_decoder.onnx", "ae.")
            ae_sd = {k: first4(k, v) for k, v in ae_sd.items()}
        ckpts = {
            "ae_final.pt": {k: first4(k, ae_sd[k]) for k in AutoEncoder().state_dict()},
            **({"ae_detail_final.pt": {k: ae_sd[k] for k in ae.state_dict()}} if detail else
               {"ae_decoder_final.pt": {k: ae_sd["dec." + k] for k in ae.dec.state_dict()}}),
            "clip_final.pt": {"text": {k: recovered["text_encoder.onnx"][k] for k in text.state_dict()},
                              "image": {k: recovered["image_encoder.onnx"][k] for k in image.state_dict()},
                              "prior": {k: recovered["prior.onnx"][k] for k in prior.state_dict()}},
            unet_ckpt: {k: recovered["decoder.onnx"][k] for k in unet.state_dict()},
            **({"refiner_final.pt": {k: recovered["refiner.onnx"][k] for k in refiner.state_dict()}} if refined else {}),
            interp_ckpt: {k: recovered["interpolator.onnx"][k] for k in interp.state_dict()},
            "vclip_final.pt": {k: recovered["video_text.onnx"][k] for k in video_text.state_dict()},
            **({"ae_sharp_final.pt": {k: ae_sd[k] for k in ae.state_dict() if k.startswith(("dec.", "sharp."))}}
               if sharp and not detail else {}),
        }
        if predicted:  # ae-detail's decoder and statistics (its detail encoder is not in the pack), the predictor
            ckpts["ae_detail_final.pt"] = {k: wide_sd[k] for k in wide.state_dict() if not k.startswith(("enc.", "detail."))}
            ckpts["ae_predict_final.pt"] = part("latent_decoder.onnx", "predictor.")

        # load them the way export.py does, then check against the shipped files
        ae.load_state_dict(ckpts["ae_detail_final.pt"] if detail else autoencoder_from(
            ckpts["ae_final.pt"], ckpts["ae_decoder_final.pt"], ckpts.get("ae_sharp_final.pt")).state_dict())
        if predicted:
            wide.load_state_dict({**wide.state_dict(), **ckpts["ae_detail_final.pt"]})
            latent_decoder.predictor.load_state_dict(ckpts["ae_predict_final.pt"])
        c = ckpts["clip_final.pt"]
        text.load_state_dict(c["text"]); image.load_state_dict(c["image"]); prior.load_state_dict(c["prior"])
        unet.load_state_dict(ckpts[unet_ckpt])
        if refined:
            refiner.load_state_dict(ckpts["refiner_final.pt"])
        interp.load_state_dict(ckpts[interp_ckpt])
        video_text.load_state_dict(ckpts["vclip_final.pt"])
        worst = 0.0
        for model, args, f, ins, outs, dyn, feeds, _ in jobs:
            d_init, same, d_out = verify(model, args, f, ins, outs, dyn, tmpdir, feeds)
            worst = max(worst, d_init)
            log(f"[recover] verify {f}: re-export " + ("byte-identical to the shipped file" if same else
                                                        f"initializers max |diff| {d_init:.3g}") + "; "
                + ("onnxruntime-node not found, outputs not compared" if d_out is None else
                   f"torch vs shipped ONNX in onnxruntime max |diff| {d_out:.3g}"))
            if d_out is not None and d_out > 1e-3:
                problems.append(f"{f}: torch and onnxruntime outputs differ by {d_out:.3g}")
        if worst != 0.0:
            problems.append(f"re-exported initializers differ from the shipped ones (max {worst:.3g})")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)

    for p in problems:
        log(f"[recover] PROBLEM: {p}")
    if problems:
        sys.exit("[recover] nothing written: fix the problems above first")
    for name, sd in ckpts.items():
        path = os.path.join(CKPT, name)
        if os.path.exists(path) and os.path.getsize(path) > 0:
            log(f"[recover] kept existing {path} (not overwritten)")
            continue
        save_whole(sd, path)
        log(f"[recover] wrote {path}")
    if detail:
        log("[recover] note: a detail pack holds the ae-detail stage's autoencoder and the decoder-detail stage's U-Net;"
            " the ae-dec, ae-sharp and decoder-scale weights they started from are not in it")
    elif predicted:
        log("[recover] note: a pack whose latent decoder reads the text holds ae-detail's decoder and the ae-predict"
            " stage's predictor; ae-detail's detail encoder (only needed to train ae-predict again) and the ae-dec and"
            " ae-sharp decoders are not in it (ae_final.pt and ae_decoder_final.pt get ae-detail's decoder's first 4"
            " input channels)")
    else:
        log("[recover] note: ae_final.pt's decoder is the fine-tuned one (ae_decoder_final.pt"
            + (", from the ae-sharp stage" if sharp else "") + "); the decoder from before the ae-dec stage is not in the pack")
    log(f"[recover] done in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
