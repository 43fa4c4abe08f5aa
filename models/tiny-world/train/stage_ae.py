"""Stage `ae`: latent autoencoder 64x64x3 <-> 4x16x16, then the whole dataset's keyframes
encoded once to checkpoints/latents_XXXXX.npy (chunks of [500, 8, 4, 16, 16] float16,
unit-std scaled)."""
import os
import numpy as np
import torch
from common import Data, Run, save_whole, CKPT, LOGS, KEYFRAMES, log, save_sheet, setup_threads
from models import AutoEncoder, nparams


def load_latents(n=None, detail=False, prefix="latents"):
    """all encoded chunks so far, concatenated: [M, 8, 4, 16, 16] float16 (clips 0..M-1);
    with detail=True the ae-detail stage's channels appended: [M, 8, 8, 16, 16]; prefix "joint":
    the ae-joint stage's re-trained latents instead of stage ae's"""
    parts = []
    for j in range(0, 10 ** 6, 500):
        path = os.path.join(CKPT, f"{prefix}_{j:05d}.npy")
        extra = os.path.join(CKPT, f"detail_{j:05d}.npy")
        if not os.path.exists(path) or (detail and not os.path.exists(extra)):
            break
        parts.append(np.concatenate([np.load(path), np.load(extra)], 2) if detail else np.load(path))
    return np.concatenate(parts) if parts else np.zeros((0, 8, 8 if detail else 4, 16, 16), np.float16)


def encode_keyframes(data, prefix, channels, encode, stage):
    """Every clip's 8 keyframes through `encode` (frames [N,3,64,64] -> [N, channels, 16, 16]),
    to checkpoints/<prefix>_XXXXX.npy in chunks of 500 clips ([500, 8, channels, 16, 16]
    float16), skipping chunks that exist: the decoder stages can start on the first chunks
    while the rest are still being encoded (48k frames take a while here), and an
    interrupted run resumes."""
    for j in range(0, data.n, 500):
        path = os.path.join(CKPT, f"{prefix}_{j:05d}.npy")
        if os.path.exists(path):
            continue
        ci_all = np.arange(j, min(j + 500, data.n))
        part = np.zeros((len(ci_all), 8, channels, 16, 16), np.float16)
        for q in range(0, len(ci_all), 8):  # 8 clips at a time: see stage_refiner.encoded_once (50 ran 8x slower)
            ci = ci_all[q:q + 8]
            x = data.frames(np.repeat(ci, 8), np.tile(KEYFRAMES, len(ci)))
            part[q:q + len(ci)] = encode(x).reshape(len(ci), 8, channels, 16, 16).numpy().astype(np.float16)
        np.save(path + ".tmp.npy", part)
        os.replace(path + ".tmp.npy", path)
        log(f"[{stage}] encoded clips {j}..{j + len(ci_all) - 1}")


def main():
    setup_threads()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = Data()
    ae = AutoEncoder()
    log(f"[ae] params {nparams(ae)}")
    opt = torch.optim.AdamW(ae.parameters(), lr=1e-3, weight_decay=0.0)
    run = Run("ae", {"model": ae}, opt, minutes=12, lr=1.5e-3, warmup=100, min_lr_frac=0.05)
    B = 32

    def crops(x, size=32):
        """32x32 crops (4x cheaper than full frames), three in four centred near the object
        so that shape detail dominates what the autoencoder learns"""
        obj = ((x - x[:, :, :1, :1]).abs().sum(1) > 0.1).float()  # [B,64,64]
        out = []
        for b in range(x.shape[0]):
            ys, xs = torch.nonzero(obj[b], as_tuple=True)
            if len(ys) > 0 and rng.random() < 0.75:
                cy, cx = int(ys.float().mean()), int(xs.float().mean())
                cy += int(rng.integers(-10, 11)); cx += int(rng.integers(-10, 11))
            else:
                cy, cx = int(rng.integers(16, 49)), int(rng.integers(16, 49))
            y0 = min(max(cy - size // 2, 0), 64 - size); x0 = min(max(cx - size // 2, 0), 64 - size)
            y0 -= y0 % 4; x0 -= x0 % 4  # keep the latent grid aligned with full frames
            out.append(x[b, :, y0:y0 + size, x0:x0 + size])
        return torch.stack(out)

    def step(i):
        ci = rng.integers(0, data.n, B)
        fi = rng.integers(0, data.f, B)
        x = crops(data.frames(ci, fi))
        z = ae.encode_raw(x)
        # latent noise: the diffusion model's latents will never be exact, so the decoder
        # must map a neighbourhood of each code to the same crisp picture
        zn = z + 0.05 * torch.randn_like(z)
        y = ae.decode_raw(zn)
        # object pixels (different from the corner = background colour) weigh 5x: they are
        # a few percent of the frame but carry the shape
        obj = ((x - x[:, :, :1, :1]).abs().sum(1, keepdim=True) > 0.1).float()
        w = 1.0 + 4.0 * obj
        rec = ((y - x).abs() * w).mean()
        reg = 1e-4 * z.pow(2).mean()
        loss = rec + reg
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"l1w": rec.item(), "l1": (y - x).abs().mean().item(), "z2": z.pow(2).mean().item()}

    def sheet(_=None):
        ae.eval()
        with torch.no_grad():
            ci = np.arange(12) * 97 % data.n
            x = data.frames(ci, np.full(12, 12))
            y = ae.decode_raw(ae.encode_raw(x))
        save_sheet(os.path.join(LOGS, "ae_recon.png"), [list(x), list(y)], scale=3)
        ae.train()

    if not run.done():
        run.loop(step, log_every=50, on_checkpoint=sheet)
    sheet()

    # latent statistics -> unit std, then encode every keyframe once
    ae.eval()
    with torch.no_grad():
        ci = rng.integers(0, data.n, 2048)
        z = torch.cat([ae.encode_raw(data.frames(ci[j:j + 256], rng.integers(0, data.f, 256)))
                       for j in range(0, 2048, 256)])
        ae.z_mean.copy_(z.mean((0, 2, 3), keepdim=True))
        ae.z_std.copy_(z.std((0, 2, 3), keepdim=True))
        log(f"[ae] latent mean {ae.z_mean.flatten().tolist()} std {ae.z_std.flatten().tolist()}")
        if os.path.exists(os.path.join(CKPT, "ae_final.pt")):  # resumed: keep the stats used so far
            ae.load_state_dict(torch.load(os.path.join(CKPT, "ae_final.pt")))
        save_whole(ae.state_dict(), os.path.join(CKPT, "ae_final.pt"))
        encode_keyframes(data, "latents", 4, ae.encode, "ae")
        lat = load_latents(data.n)
        # check: decoded latents vs pixels over a few clips
        x = data.frames(np.repeat(np.arange(8), 8), np.tile(KEYFRAMES, 8))
        y = ae.decode(torch.from_numpy(lat[:8].astype(np.float32)).reshape(-1, 4, 16, 16))
        log(f"[ae] keyframe latents written, std {lat.astype(np.float32).std():.3f}, "
            f"recon L1 {float((y - x).abs().mean()):.4f} max colour err {float((y - x).abs().amax()):.3f}")


if __name__ == "__main__":
    main()
