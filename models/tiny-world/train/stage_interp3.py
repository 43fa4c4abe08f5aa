"""Stage `interp3` (v3, TrackInterpolator): (frame a, frame b, t) -> the frame at t, on hops of
4, 6 and 8 frames (the engine's hops are 4 keyframe-spaced frames, but the decoder's bounces
often hop further than the renderer's). Starts from the v2 stage's U-Net when it exists.
Loss: v2's (L1 on the output with object pixels x5, L1 to the true displacement fields) plus
the track: where the object is in a, b and at t (pixels, from each frame's object mask) and
its size in a and b relative to t (log of sqrt-area ratios)."""
import os
import numpy as np
import torch
import torch.nn.functional as F
from common import Data, Run, save_whole, EMA, CKPT, LOGS, log, save_sheet, setup_threads
from models import TrackInterpolator, nparams
from stage_interp2 import v2_losses, centroid_size

GAPS, GAP_P = np.array([4, 6, 8]), np.array([0.5, 0.25, 0.25])


def main():
    setup_threads()
    torch.manual_seed(7)
    rng = np.random.default_rng(7)
    data = Data()
    net = TrackInterpolator()
    v2 = os.path.join(CKPT, "interp2_final.pt")
    if os.path.exists(v2):  # the U-Net body; the output conv has new channels and starts at zero
        missing, unexpected = net.load_state_dict({k: v for k, v in torch.load(v2).items() if not k.startswith("out.")},
                                                  strict=False)
        if unexpected:
            raise ValueError(f"interp2_final.pt has entries v3 does not: {unexpected}")
        log(f"[interp3] U-Net from interp2_final.pt; new: {missing}")
    else:
        log("[interp3] no interp2_final.pt: the U-Net starts from scratch (give it more than 15 minutes)")
    log(f"[interp3] params {nparams(net)}")
    opt = torch.optim.AdamW(net.parameters(), lr=5e-4, weight_decay=0.0)
    ema = EMA(net, 0.995)
    run = Run("interp3", {"model": net}, opt, minutes=15, lr=5e-4, warmup=50, ema=ema)
    B = 16
    # bounces are where hops are far: drawn twice as often
    weights = np.array([2.0 if at["motion"] == "bouncing" else 1.0 for at in data.meta["attributes"]])
    weights /= weights.sum()

    def batch(g):
        ci = g.choice(data.n, B, p=weights)
        gap = g.choice(GAPS, B, p=GAP_P)
        i = (g.random(B) * (data.f - gap)).astype(int)
        k = (g.random(B) * (gap - 1)).astype(int) + 1
        a, b, y = data.frames(ci, i), data.frames(ci, i + gap), data.frames(ci, i + k)
        t = torch.from_numpy(k / gap).float()
        swap = torch.from_numpy(g.random(B) < 0.5)[:, None, None, None]  # time runs both ways
        a, b = torch.where(swap, b, a), torch.where(swap, a, b)
        t = torch.where(swap[:, 0, 0, 0], 1 - t, t)
        return a, b, y, t

    def step(_):
        a, b, y, t = batch(rng)
        tracked = net.track(a, b, t)
        _, c_a, c_b, c_t, log_size = tracked
        fa, fb, wgt = net.fields_of(tracked, a)
        p = net.compose(a, b, fa, fb, wgt)
        pix, fl, masks = v2_losses(a, b, y, fa, fb, p)
        (true_a, size_a), (true_b, size_b), (true_t, size_t) = (centroid_size(m) for m in masks)
        centre = (F.smooth_l1_loss(c_a, true_a) + F.smooth_l1_loss(c_b, true_b) + F.smooth_l1_loss(c_t, true_t)) / 3
        size = F.mse_loss(log_size, torch.log(torch.cat([size_a, size_b], 1) / size_t))
        loss = pix + 0.05 * fl + 0.02 * centre + 1.0 * size
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "l1": (p - y).abs().mean().item(), "flow_px": fl.item(),
                "centre_px": (c_t - true_t).abs().mean().item(), "size": size.item()}

    def sheet(_=None):
        m = TrackInterpolator()
        m.load_state_dict(ema.shadow)
        m.eval()
        g = np.random.default_rng(123)
        ci = list(g.integers(0, data.n, 4))
        bouncing = [j for j, at in enumerate(data.meta["attributes"]) if at["motion"] == "bouncing"][:4]
        rows = []
        with torch.no_grad():
            for r, c in enumerate(ci + bouncing):
                gap = 4 if r % 2 == 0 else 8  # keyframe hops and double ones
                a, b = data.frames([c], [8]), data.frames([c], [8 + gap])
                ks = [gap // 4, gap // 2, 3 * gap // 4]
                mids = [m(a, b, torch.tensor([k / gap])) for k in ks]
                truth = [data.frames([c], [8 + k])[0] for k in ks]
                rows.append([a[0]] + [x[0] for x in mids] + [b[0]] + truth)
        save_sheet(os.path.join(LOGS, "interp3_samples.png"), rows, scale=2)

    if not run.done():
        run.loop(step, log_every=50, on_checkpoint=sheet)
    save_whole(ema.shadow, os.path.join(CKPT, "interp3_final.pt"))
    sheet()
    log("[interp3] done (logs/interp3_samples.png: a, 3 predicted, b, 3 true; even rows hop 4 frames, odd rows 8; "
        "last 4 rows bouncing)")


if __name__ == "__main__":
    main()
