"""Stage `ae-dec`: keeps training the latent decoder alone on the frozen encoder's keyframe
latents (the ones the diffusion decoder learns), so reconstructions get crisper without
changing the latent space the diffusion stages already use. Latent noise makes it map
the diffusion model's slightly-off latents to clean flat shapes."""
import os
import numpy as np
import torch
from common import Data, Run, EMA, CKPT, LOGS, KEYFRAMES, log, save_sheet, setup_threads
from models import AutoEncoder
from stage_ae import load_latents


def main():
    setup_threads()
    torch.manual_seed(5)
    rng = np.random.default_rng(5)
    data = Data(in_ram=False)
    ae = AutoEncoder()
    ae.load_state_dict(torch.load(os.path.join(CKPT, "ae_final.pt")))
    dec = ae.dec
    opt = torch.optim.AdamW(dec.parameters(), lr=5e-4, weight_decay=0.0)
    ema = EMA(dec, 0.995)
    run = Run("ae-dec", {"model": dec}, opt, minutes=45, lr=5e-4, warmup=50, ema=ema)
    lat = [torch.from_numpy(load_latents().astype(np.float32))]
    kf = np.array(KEYFRAMES)
    B = 24

    def step(i):
        if i % 200 == 0 and len(lat[0]) < data.n:
            lat[0] = torch.from_numpy(load_latents().astype(np.float32))
        ci = rng.integers(0, len(lat[0]), B)
        ki = rng.integers(0, 8, B)
        z = lat[0][ci, ki]  # [B,4,16,16] unit-std
        x = data.frames(ci, kf[ki])
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
        sigma = torch.from_numpy(rng.random(B) * 0.15).float()[:, None, None, None]
        y = ae.decode(z + sigma * torch.randn_like(z))[:, :, 8:40, 8:40]
        x = x[:, :, 8:40, 8:40]
        o = ((x - x[:, :, :1, :1]).abs().sum(1, keepdim=True) > 0.1).float()
        loss = ((y - x).abs() * (1 + 4 * o)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"l1w": loss.item(), "l1": (y - x).abs().mean().item()}

    def sheet(_=None):
        m = AutoEncoder()
        m.load_state_dict(ae.state_dict())
        m.dec.load_state_dict(ema.shadow)
        m.eval()
        with torch.no_grad():
            ci = np.arange(12) * 37 % len(lat[0])
            x = data.frames(ci, np.full(12, 12))
            y = m.decode(lat[0][ci, 3])
            y2 = m.decode(lat[0][ci, 3] + 0.15 * torch.randn_like(lat[0][ci, 3]))
        save_sheet(os.path.join(LOGS, "ae_dec_recon.png"), [list(x), list(y), list(y2)], scale=3)

    if not run.done():
        run.loop(step, log_every=50, on_checkpoint=sheet)
    torch.save(ema.shadow, os.path.join(CKPT, "ae_decoder_final.pt"))
    sheet()
    log("[ae-dec] done (logs/ae_dec_recon.png rows: truth, decoded, decoded with latent noise 0.15)")


if __name__ == "__main__":
    main()
