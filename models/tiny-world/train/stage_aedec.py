"""Stage `ae-dec`: keeps training the latent decoder alone on the frozen encoder's keyframe
latents (the ones the diffusion decoder learns), so reconstructions get crisper without
changing the latent space the diffusion stages already use. Latent noise makes it map
the diffusion model's slightly-off latents to clean flat shapes.

Stage `ae-sharp` (`stage_aedec.py sharp`): the same, from ae-dec's decoder, with the
full-resolution blocks AutoEncoder(sharp=True) adds, on whole frames (trained on crops, the
blocks drew a rim along the frame's edges, which the judge took for a square object), and
object outlines weighted more in the loss (a star's points are a few outline pixels).
Writes ae_sharp_final.pt (flat, keys "dec.*" and "sharp.*"); export.py prefers it."""
import os, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from common import Data, Run, EMA, CKPT, LOGS, KEYFRAMES, log, save_sheet, setup_threads
from models import autoencoder_from
from stage_ae import load_latents


def outline(o):
    """object mask [B,1,H,W] -> its inner and outer boundary pixels (dilation minus erosion)"""
    return F.max_pool2d(o, 3, 1, 1) - (-F.max_pool2d(-o, 3, 1, 1))


def main():
    sharp = sys.argv[1:] == ["sharp"]
    name = "ae-sharp" if sharp else "ae-dec"
    setup_threads()
    torch.manual_seed(8 if sharp else 5)
    rng = np.random.default_rng(8 if sharp else 5)
    data = Data(in_ram=False)
    ae = autoencoder_from(torch.load(os.path.join(CKPT, "ae_final.pt")),
                          torch.load(os.path.join(CKPT, "ae_decoder_final.pt")) if sharp else None, sharp=sharp)
    # what this stage trains; the ModuleDict's keys make the saved weights' keys the AutoEncoder's own
    trained = nn.ModuleDict({"dec": ae.dec, "sharp": ae.sharp}) if sharp else ae.dec
    lr = 3e-4 if sharp else 5e-4
    opt = torch.optim.AdamW(trained.parameters(), lr=lr, weight_decay=0.0)
    ema = EMA(trained, 0.995)
    run = Run(name, {"model": trained}, opt, minutes=35 if sharp else 45, lr=lr, warmup=50, ema=ema)
    lat = [torch.from_numpy(load_latents().astype(np.float32))]
    kf = np.array(KEYFRAMES)
    B = 16 if sharp else 24  # whole frames are ~1.8x the work of the 48x48 windows

    def step(i):
        if i % 200 == 0 and len(lat[0]) < data.n:
            lat[0] = torch.from_numpy(load_latents().astype(np.float32))
        ci = rng.integers(0, len(lat[0]), B)
        ki = rng.integers(0, 8, B)
        z = lat[0][ci, ki]  # [B,4,16,16] unit-std
        x = data.frames(ci, kf[ki])
        sigma = torch.from_numpy(rng.random(B) * 0.15).float()[:, None, None, None]
        if sharp:  # whole frames: the full-resolution blocks must also learn the frame's edges
            y = ae.decode(z + sigma * torch.randn_like(z))
        else:
            # 12x12 latent windows (48x48 px) near the object, loss on the central 32x32
            obj = ((x - x[:, :, :1, :1]).abs().sum(1) > 0.1)
            zs, xs = [], []
            for b in range(B):
                ys, xs_ = torch.nonzero(obj[b], as_tuple=True)
                if len(ys) and rng.random() < 0.8:
                    cy, cx = int(ys.float().mean()) // 4, int(xs_.float().mean()) // 4
                    cy += int(rng.integers(-2, 3)); cx += int(rng.integers(-2, 3))
                else:
                    cy, cx = int(rng.integers(6, 11)), int(rng.integers(6, 11))
                y0, x0 = min(max(cy - 6, 0), 4), min(max(cx - 6, 0), 4)
                zs.append(z[b, :, y0:y0 + 12, x0:x0 + 12]); xs.append(x[b, :, y0 * 4:y0 * 4 + 48, x0 * 4:x0 * 4 + 48])
            z, x = torch.stack(zs), torch.stack(xs)
            y = ae.decode(z + sigma * torch.randn_like(z))[:, :, 8:40, 8:40]
            x = x[:, :, 8:40, 8:40]
        o = ((x - x[:, :, :1, :1]).abs().sum(1, keepdim=True) > 0.1).float()
        weight = 1 + 4 * o + (8 * outline(o) if sharp else 0)
        loss = ((y - x).abs() * weight).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"l1w": loss.item(), "l1": (y - x).abs().mean().item()}

    stars = [j for j, at in enumerate(data.meta["attributes"]) if at["shape"] == "star"]

    def sheet(_=None):
        m = autoencoder_from(ae.state_dict(), None if sharp else ema.shadow, ema.shadow if sharp else None)
        m.eval()
        with torch.no_grad():
            spread = list(np.arange(12) * 37 % len(lat[0]))
            ci = np.array(([s for s in stars if s < len(lat[0])][:6] + spread[:6]) if sharp else spread)
            x = data.frames(ci, np.full(12, 12))
            y = m.decode(lat[0][ci, 3])
            y2 = m.decode(lat[0][ci, 3] + 0.15 * torch.randn_like(lat[0][ci, 3]))
        save_sheet(os.path.join(LOGS, f"{name.replace('-', '_')}_recon.png"), [list(x), list(y), list(y2)], scale=3)

    if not run.done():
        run.loop(step, log_every=50, on_checkpoint=sheet)
    torch.save(ema.shadow, os.path.join(CKPT, "ae_sharp_final.pt" if sharp else "ae_decoder_final.pt"))
    sheet()
    log(f"[{name}] done (logs/{name.replace('-', '_')}_recon.png rows: truth, decoded, decoded with latent noise 0.15"
        + ("; the first 6 columns are stars)" if sharp else ")"))


if __name__ == "__main__":
    main()
