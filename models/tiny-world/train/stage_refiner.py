"""Stage `refiner` (python stage_refiner.py): the shipped decoder (decoder-stars) fine-tuned at
twice its size, on 4x32x32 latents of 128-px renders of the same clips, for the refine node's
SDEdit pass (keyframes upscaled, encoded at 2x, noised to strength ~0.4, redrawn in a few steps).

Why (session 15): the same decoder run at 2x untrained there (session 14) gave small stars
their points but drew objects a size too large (it reads "small" as a number of latent cells,
so the node had to leave size words out), redrew some big stars as diamonds or circles and
shaded large objects, all because it had never seen objects that many cells across. Trained
here with the size words kept, on the noise levels refine uses (t < T_MAX), it learns what a
small, medium and big object is at 2x and flat colours at that size.

Why blurred inputs too (session 16): refine is given what the 16x16 keyframes drew, a blob
where a small star should be, and a refiner trained only to denoise clean renders keeps it.
So DEGRADED of the steps at t >= DEGRADED_T_MIN noise the clip's 64-px keyframes blurred and
upscaled (degraded_input) instead of its clean latents, and every loss is towards the clean
ones: it learns to draw what the words name where the blob is.

Data: `keyframes128.u8` (models/tiny-world/world/write-keyframes.ts, the data set's own clips
re-rendered at 128 px), encoded once by the shipped latent encoder to
checkpoints/latents128_XXXXX.npy, and their blurred 64-px keyframes to
checkpoints/degraded128_XXXXX.npy. Conditioning and its dropout as in stage_decoder.py; the
first keyframe given 20% of the time (the masked conditioning stays usable); the motion and
scale heads are frozen (they read only the words, whatever the size, and nothing supervises
them here). Output: refiner_final.pt (a UNet state dict like decoder-scale_final.pt)."""
import os, sys
import numpy as np
import torch
from common import (Data, Run, save_whole, EMA, CKPT, LOGS, HERE, DATA, KEYFRAMES, log, save_sheet, setup_threads, q_sample_v,
                    ALPHAS, ddim_sample)
from models import autoencoder_from, nparams
from stage_decoder import build

SIZE, LAT = 128, 32
T_MAX = 600  # refine starts at strength 0.4 (t 400); the margin keeps strengths up to 0.6 in range
CHUNK = 500
N_CLIPS = int(os.environ.get("TW_REFINER_CLIPS", "3000"))
# Share of steps (at t >= DEGRADED_T_MIN) whose x_t is built from a degraded input, the loss still
# towards the clean render (session 16): the U-Net's 16x16 keyframes draw a small star as a
# blob, and a refiner trained only to denoise keeps the blob it is given.
DEGRADED = float(os.environ.get("TW_REFINER_DEGRADED", "0.5"))
DEGRADED_T_MIN = 100  # refine's steps from strength 0.4 are t 399, 266, 133, 0
BLUR_SIGMA = (0.6, 2.0)  # at 64 px, one per clip: from a softened star to a blob


def keyframes128(n):
    if not os.path.exists(os.path.join(DATA, f"keyframes{SIZE}.READY")):
        sys.exit(f"missing {DATA}/keyframes{SIZE}.u8: npx tsx models/tiny-world/world/write-keyframes.ts --size {SIZE}")
    return np.memmap(os.path.join(DATA, f"keyframes{SIZE}.u8"), np.uint8, "r", shape=(n, 8, SIZE, SIZE, 3))


def blurred(x, sigma):
    """[N,3,H,W] frames blurred by a Gaussian of `sigma` pixels (reflected at the edges)."""
    r = int(np.ceil(3 * sigma))
    k = torch.exp(-torch.arange(-r, r + 1).float() ** 2 / (2 * sigma ** 2))
    k = (k / k.sum()).repeat(3, 1, 1)
    x = torch.nn.functional.pad(x, (r, r, 0, 0), mode="reflect")
    x = torch.nn.functional.conv2d(x, k.view(3, 1, 1, -1), groups=3)
    x = torch.nn.functional.pad(x, (0, 0, r, r), mode="reflect")
    return torch.nn.functional.conv2d(x, k.view(3, 1, -1, 1), groups=3)


def degraded_input(data, clips, sigmas):
    """What refine is given when the keyframes drew a blob: each clip's 64-px keyframes blurred
    (one sigma per clip), bicubic to 128 px; as frames [N*8,3,128,128]."""
    small = data.frames(np.repeat(clips, 8), np.tile(KEYFRAMES, len(clips)))
    small = torch.cat([blurred(small[8 * i:8 * i + 8], float(s)) for i, s in enumerate(sigmas)])
    return torch.nn.functional.interpolate(small, size=SIZE, mode="bicubic", align_corners=False).clamp(-1, 1)


def encoded_once(ae, prefix, frames_of, what):
    """The first N_CLIPS clips' 8 frames each (`frames_of(clip indices)` -> [n*8,3,128,128])
    through the latent encoder, once: checkpoints/<prefix>128_XXXXX.npy, [CHUNK, 8, 4, 32, 32]
    float16 per file; existing chunks are kept, so this resumes."""
    parts = []
    for j in range(0, N_CLIPS, CHUNK):
        path = os.path.join(CKPT, f"{prefix}{SIZE}_{j:05d}.npy")
        if not os.path.exists(path):
            part = np.zeros((min(CHUNK, N_CLIPS - j), 8, 4, LAT, LAT), np.float16)
            with torch.no_grad():
                # 2 clips (16 frames at 128 px) at a time: the encoder's largest activation then stays
                # under glibc's 32 MB mmap threshold (train.sh's MALLOC_MMAP_THRESHOLD_, its maximum);
                # above it every op page-faults fresh memory in, and 25 clips at a time ran 7x slower
                for q in range(0, len(part), 2):
                    clips = np.arange(j + q, j + min(q + 2, len(part)))
                    part[q:q + len(clips)] = ae.encode(frames_of(clips)).reshape(-1, 8, 4, LAT, LAT).numpy().astype(np.float16)
            np.save(path + ".tmp.npy", part)
            os.replace(path + ".tmp.npy", path)
            log(f"[refiner] encoded {what} of clips {j}-{j + len(part) - 1} at {SIZE}px")
        parts.append(np.load(path))
    return torch.from_numpy(np.concatenate(parts).astype(np.float32))


def encode_all(data, ae):
    """The 128-px keyframes, encoded once (latents128_XXXXX.npy)."""
    frames = keyframes128(data.n)

    def frames_of(clips):
        x = torch.from_numpy(np.array(frames[clips[0]:clips[-1] + 1])).float()
        return x.reshape(-1, SIZE, SIZE, 3).permute(0, 3, 1, 2) / 127.5 - 1.0
    return encoded_once(ae, "latents", frames_of, "the keyframes")


def encode_degraded(data, ae):
    """The degraded inputs, encoded once (degraded128_XXXXX.npy; sigmas from a fixed seed)."""
    sigmas = np.random.default_rng(16).uniform(*BLUR_SIGMA, N_CLIPS)
    return encoded_once(ae, "degraded", lambda clips: degraded_input(data, clips, sigmas[clips]), "the blurred keyframes")


def main():
    setup_threads()
    torch.manual_seed(15)
    rng = np.random.default_rng(15)
    data = Data(in_ram=False)
    V = len(data.vocab)
    ae = autoencoder_from(torch.load(os.path.join(CKPT, "ae_final.pt")))
    ae.eval()
    lat = encode_all(data, ae)  # [N, 8, 4, 32, 32]
    log(f"[refiner] {len(lat)} clips of 8 keyframes at {LAT}x{LAT} latents, std {lat.std():.3f}")
    bad = encode_degraded(data, ae) if DEGRADED > 0 else None
    log(f"[refiner] degraded inputs in {DEGRADED:.0%} of the steps at t >= {DEGRADED_T_MIN} (blur sigma {BLUR_SIGMA} at 64 px)")
    emb = np.load(os.path.join(CKPT, "emb.npz"))
    img0 = torch.from_numpy(emb["img0"]).float()
    prior_out = torch.from_numpy(emb["prior_full"].astype(np.float32))
    model = build(V, True, True, True)
    # the shipped decoder: decoder-stars in a run from scratch; recover_from_onnx.py names it decoder-scale
    start = next(n for n in ("decoder-stars", "decoder-scale") if os.path.exists(os.path.join(CKPT, f"{n}_final.pt")))
    model.load_state_dict(torch.load(os.path.join(CKPT, f"{start}_final.pt")))
    frozen = ("motion_head.", "scale_head.")
    for n, p in model.named_parameters():
        p.requires_grad_(not n.startswith(frozen))
    log(f"[refiner] from {start}_final.pt; params {nparams(model)}, frozen: {frozen}")
    attrs = data.meta["attributes"][:len(lat)]
    draw = np.array([(2.0 if a["motion"] in ("growing", "shrinking", "still") else 1.0) *
                     (3.0 if a["shape"] == "star" else 1.0) * (2.0 if a["size"] == "small" else 1.0) for a in attrs])
    draw /= draw.sum()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
    ema = EMA(model, 0.998)
    # the shipped weights: a 60-minute cosine stopped at 40 minutes (732 steps); 40 is the box now
    run = Run("refiner", {"model": model}, opt, minutes=40, lr=1e-4, warmup=50, ema=ema, min_lr_frac=0.2)
    B = int(os.environ.get("TW_BATCH", 8))

    def step(i):
        ci = rng.choice(len(draw), B, p=draw)
        vi = rng.integers(0, data.k, B)
        tok = torch.from_numpy(data.tok_full[ci, vi].astype(np.int64))
        r = rng.random(B)
        drop_both = r < 0.1
        keep_tokens = torch.from_numpy(~(drop_both | ((r >= 0.1) & (r < 0.15)))).long()[:, None]
        keep_embedding = torch.from_numpy(~(drop_both | ((r >= 0.15) & (r < 0.2)))).float()[:, None]
        e = torch.where(torch.from_numpy(rng.random(B) < 0.5)[:, None], img0[ci], prior_out[ci, vi])
        x0 = lat[ci].permute(0, 2, 1, 3, 4)  # [B,4,8,32,32]
        mask = torch.zeros(B, 1, 8, LAT, LAT)
        mask[torch.from_numpy(rng.random(B) < 0.2), :, :1] = 1
        t = torch.from_numpy(rng.integers(0, T_MAX, B))
        given = x0
        if bad is not None:
            worse = torch.from_numpy((rng.random(B) < DEGRADED) & (t.numpy() >= DEGRADED_T_MIN))
            given = torch.where(worse[:, None, None, None, None], bad[ci].permute(0, 2, 1, 3, 4), x0)
        xt, _ = q_sample_v(given, t, torch.randn_like(x0))
        pred = model(xt, t.float(), tok * keep_tokens, e * keep_embedding, x0 * mask, mask)
        # the loss on the clean estimate, min(SNR, 5)-weighted: for a clean input exactly the
        # min-SNR v loss (|v - v'|^2 = |x0 - x0'|^2 (SNR + 1)), and finite for a degraded one,
        # whose implied v target would grow without bound as t -> 0
        a = ALPHAS[t].view(-1, 1, 1, 1, 1)
        x0_pred = a.sqrt() * xt - (1 - a).sqrt() * pred
        loss = ((x0_pred - x0) ** 2).mean((1, 2, 3, 4))
        snr = ALPHAS[t] / (1 - ALPHAS[t])
        lw = (loss * snr.clamp(max=5.0)).mean()
        opt.zero_grad(set_to_none=True)
        lw.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return {"loss": lw.item(), "x0_mse": loss.mean().item()}

    # the sheet: refine's job on clips it trains on, from their 64-px keyframes blurred to the
    # blobs the 16x16 keyframes draw (sigma 1.4 px), bicubic to 128,
    # encoded at 2x, noised to t=400 and redrawn in 4 steps; rows: truth, input, refined
    show = np.arange(6) * 97
    sheet_tok = torch.from_numpy(data.tok_full[show, 0].astype(np.int64))

    def samples(stepno):
        m = build(V, True, True, True)
        m.load_state_dict(ema.shadow)
        m.eval()
        with torch.no_grad():
            given = degraded_input(data, show, np.full(len(show), 1.4))
            z = ae.encode(given).reshape(len(show), 8, 4, LAT, LAT).permute(0, 2, 1, 3, 4)
            e = img0[show]
            g = torch.Generator().manual_seed(stepno)
            start, _ = q_sample_v(z, torch.full((len(show),), 400), torch.randn(z.shape, generator=g))
        out = ddim_sample(m, sheet_tok, e, torch.zeros_like(z), torch.zeros(len(show), 1, 8, LAT, LAT), steps=4,
                          guidance=3.0, start=start, start_t=400)
        with torch.no_grad():
            px = ae.decode(out.permute(0, 2, 1, 3, 4).reshape(-1, 4, LAT, LAT)).reshape(len(show), 8, 3, SIZE, SIZE)
        truth = torch.from_numpy(np.array(keyframes128(data.n)[show])).float().permute(0, 1, 4, 2, 3) / 127.5 - 1
        rows = []
        for k in range(len(show)):
            rows += [list(truth[k]), list(given.reshape(len(show), 8, 3, SIZE, SIZE)[k]), list(px[k])]
        path = os.path.join(LOGS, "refiner_samples.png" if stepno else "refiner_samples_start.png")
        save_sheet(path, rows, scale=1)
        log(f"[refiner] samples at step {stepno} -> {os.path.relpath(path, HERE)}")

    if run.step == 0:
        samples(0)  # the untrained decoder at 2x (session 14's refine), to compare with
    if not run.done():
        n_ck = [0]

        def on_ck(s):
            n_ck[0] += 1
            if n_ck[0] % 4 == 1:
                samples(s)
        run.loop(step, log_every=25, on_checkpoint=on_ck)
    save_whole(ema.shadow, os.path.join(CKPT, "refiner_final.pt"))
    samples(run.step)


if __name__ == "__main__":
    main()
