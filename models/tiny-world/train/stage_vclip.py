"""Stage `vclip`: a video-text scorer (models.VideoText) for the keyframes node's reranking
of candidate samples. Symmetric InfoNCE between the 8 keyframes of a clip and its full
caption, plus hard negatives in the text -> video direction, each withheld where it is still
a true video of the caption (or the caption names no motion):
- the clip played backwards (left <-> right, up <-> down, growing <-> shrinking; a
  reversed bounce or still clip is still one),
- frozen on its first frame (only a still clip is still one),
- at half speed, the first half of the clip spread over the 8 keyframes (travel and growth
  below what the words promise; half a two-hop bounce is still a bounce),
- for still clips, the same frames drifting a few pixels (the judge's "still" is strict).
Writes checkpoints/vclip_final.pt; export.py exports it (role `video-text`). When the pack's
manifest.json already exists, this stage also exports video_text.onnx and updates that one
entry itself, so the scorer can be retrained without the other stages' checkpoints."""
import hashlib, json, os
import numpy as np
import torch
import torch.nn.functional as F
from common import Data, Run, save_whole, CKPT, OUT, KEYFRAMES, log, setup_threads
from models import VideoText, nparams

MOTION_WORDS = {"moving", "going", "sliding", "growing", "getting", "shrinking", "bouncing", "hopping", "standing", "not"}


def main():
    setup_threads()
    torch.manual_seed(9)
    rng = np.random.default_rng(9)
    data = Data()
    V = len(data.vocab)
    net = VideoText(V)
    logit_scale = torch.nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))
    holder = torch.nn.Module()
    holder.net = net
    holder.register_parameter("logit_scale", logit_scale)
    log(f"[vclip] params {nparams(net)}")
    opt = torch.optim.AdamW(holder.parameters(), lr=1e-3, weight_decay=0.01)
    run = Run("vclip", {"model": holder}, opt, minutes=25, lr=1e-3, warmup=50)
    motion = np.array([a["motion"] for a in data.meta["attributes"]])
    motion_ids = torch.tensor([i for i, w in enumerate(data.vocab) if w in MOTION_WORDS])
    kf = np.array(KEYFRAMES)
    half = kf // 2
    B = 48

    def clips(ci, frames=kf):
        x = torch.from_numpy(data.clips[ci][:, frames]).float() / 127.5 - 1.0  # [B,T,H,W,3]
        return x.permute(0, 4, 1, 2, 3).contiguous()

    def drifting(v):
        """every keyframe k moved k * (0.8..1.6) px in one random direction"""
        out = v.clone()
        for n in range(v.shape[0]):
            angle = rng.uniform(0, 2 * np.pi)
            speed = rng.uniform(0.8, 1.6)
            for k in range(1, v.shape[2]):
                dy, dx = int(round(k * speed * np.sin(angle))), int(round(k * speed * np.cos(angle)))
                out[n, :, k] = torch.roll(v[n, :, k], (dy, dx), (1, 2))
        return out

    def step(i):
        ci = rng.integers(0, data.n, B)
        tok = data.tokens(ci, True, rng)
        m = motion[ci]
        still_rows = np.flatnonzero(m == "still")
        v = clips(ci)
        videos = torch.cat([v, v.flip(2), v[:, :, :1].expand_as(v), clips(ci, half), drifting(v[still_rows])])
        ve = net.video(videos)
        te = net.text(tok)
        scale = logit_scale.exp().clamp(max=100)
        logits = te @ ve.t() * scale  # [B, 4B + stills]
        same = (tok[:, None, :] == tok[None, :, :]).all(-1)
        vague = ~torch.isin(tok, motion_ids).any(-1)  # names no motion: any version is a true video
        symmetric = torch.from_numpy(np.isin(m, ["still", "bouncing"]))
        still = torch.from_numpy(m == "still")
        eye = torch.eye(B, dtype=torch.bool)
        bad = torch.cat([same & ~eye,
                         same & (symmetric | vague)[None, :],
                         same & (still | vague)[None, :],
                         same & (symmetric | vague)[None, :],
                         same[:, still_rows] & vague[still_rows][None, :]], 1)
        logits = logits.masked_fill(bad, -1e4)
        lab = torch.arange(B)
        v2t = (ve[:B] @ te.t() * scale).masked_fill(same & ~eye, -1e4)
        loss = 0.5 * (F.cross_entropy(logits, lab) + F.cross_entropy(v2t, lab))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        acc = (logits.argmax(1) == lab).float().mean().item()
        # the motion-only question: own clip above every altered copy of itself that contradicts its caption
        own = logits[lab, lab]
        copies = [logits[lab, k * B + lab].masked_fill(bad[lab, k * B + lab], -1e9) for k in (1, 2, 3)]
        beats = torch.stack([own > c for c in copies]).all(0)
        if len(still_rows):
            rows = torch.from_numpy(still_rows)
            drift = logits[rows, 4 * B + torch.arange(len(still_rows))].masked_fill(vague[rows], -1e9)
            beats[rows] &= own[rows] > drift
        return {"loss": loss.item(), "acc": acc, "motion_acc": beats.float().mean().item(),
                "temp": 1 / logit_scale.exp().item()}

    if not run.done():
        run.loop(step, log_every=25)
    net.eval()
    save_whole(net.state_dict(), os.path.join(CKPT, "vclip_final.pt"))
    manifest_path = os.path.join(OUT, "manifest.json")
    if os.path.exists(manifest_path):
        manifest = json.load(open(manifest_path))
        manifest["models"]["video-text"] = export_video_text(net, OUT)
        with open(manifest_path + ".tmp", "w") as f:  # renamed over it: never a half-written manifest
            json.dump(manifest, f, indent=1)
        os.replace(manifest_path + ".tmp", manifest_path)
        log("[vclip] exported video_text.onnx and updated its manifest.json entry")


# role video-text: (file, inputs, outputs) as export.py's spec
VIDEO_TEXT_SPEC = ("video_text.onnx", {"frames": ("float32", ["B", 3, 8, 64, 64]), "tokens": ("int64", ["B", 16])},
                   {"score": ("float32", ["B"])})


def video_text_export_args(net):
    """the example inputs and dynamic axes video_text.onnx is exported with (also by recover_from_onnx.py)"""
    g = torch.Generator().manual_seed(0)
    args = (torch.rand(2, 3, 8, 64, 64, generator=g) * 2 - 1, torch.randint(1, net.text.enc.emb.num_embeddings, (2, 16), generator=g))
    return args, {"frames": {0: "B"}, "tokens": {0: "B"}, "score": {0: "B"}}


def export_video_text(net, out_dir, export_fn=None):
    """Writes video_text.onnx (export.py passes its own export function, which also records
    reference outputs for verify_onnx.cjs) and returns its manifest entry."""
    fname, ins, outs = VIDEO_TEXT_SPEC
    path = os.path.join(out_dir, fname)
    args, dyn = video_text_export_args(net)
    if export_fn is not None:
        export_fn(net, args, path, list(ins), list(outs), dyn)
    else:
        with torch.no_grad():
            torch.onnx.export(net, args, path, opset_version=17, input_names=list(ins), output_names=list(outs),
                              dynamic_axes=dyn, do_constant_folding=True)
    blob = open(path, "rb").read()
    return {"file": fname, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob),
            "description": "cosine between a clip's 8 keyframes and a caption (a video CLIP), for reranking candidates",
            "inputs": {k: {"dtype": d, "shape": s} for k, (d, s) in ins.items()},
            "outputs": {k: {"dtype": d, "shape": s} for k, (d, s) in outs.items()}}


if __name__ == "__main__":
    main()
