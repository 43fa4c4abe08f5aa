"""Stage `interp` (v2, FlowInterpolator): (frame i, frame i+4, k/4) -> frame i+k.
Loss: L1 on the output (object pixels x5) + L1 between the predicted displacement fields
and the true ones on the target frame's object pixels. True displacement for a target
pixel p: c_src - c_t + (p - c_t) (s_src / s_t - 1), from the object's centroid c and size s
(sqrt of area) in each frame: exact for the tiny world's translations, growth and bounces."""
import os
import numpy as np
import torch
import torch.nn.functional as F
from common import Data, Run, save_whole, EMA, CKPT, LOGS, log, save_sheet, setup_threads
from models import FlowInterpolator, TrackInterpolator, nparams, pixel_grid


def obj_mask(x):
    return ((x - x[:, :, :1, :1]).abs().sum(1, keepdim=True) > 0.1).float()  # [B,1,H,W]


def centroid_size(m):
    """object mask [B,1,H,W] -> centroid (x, y) [B, 2] and size (sqrt of area) [B, 1], in pixels"""
    xs, ys = pixel_grid(m)
    a = m.sum((1, 2, 3)).clamp(min=1)[:, None]
    return torch.cat([(m * xs).sum((2, 3)), (m * ys).sum((2, 3))], 1) / a, a.sqrt()


def true_flow(m_src, m_t):
    """displacement (pixels) from target pixels to where they are in the source frame: the
    carry of one rigid object from its centroid and size in each frame"""
    c_src, s_src = centroid_size(m_src)
    c_t, s_t = centroid_size(m_t)
    return TrackInterpolator.carry(c_src, c_t, torch.log(s_src / s_t), *pixel_grid(m_t))


def v2_losses(a, b, y, fa, fb, p):
    """(pixel loss: L1 with the object's pixels in the target and in frame_a x5, displacement
    loss: L1 to the true fetch fields on the target's object dilated by 2 px, masks of a, b, y)"""
    ma, mb, my = obj_mask(a), obj_mask(b), obj_mask(y)
    region = (F.max_pool2d(my, 5, 1, 2) > 0).float()
    ga, gb = true_flow(ma, my), true_flow(mb, my)
    fl = (((fa - ga).abs() + (fb - gb).abs()) * region).sum() / (region.sum() * 4 + 1)
    pix = ((p - y).abs() * (1 + 4 * torch.maximum(my, ma))).mean()
    return pix, fl, (ma, mb, my)


def main():
    setup_threads()
    torch.manual_seed(6)
    rng = np.random.default_rng(6)
    data = Data()
    net = FlowInterpolator()
    log(f"[interp2] params {nparams(net)}")
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0)
    ema = EMA(net, 0.995)
    run = Run("interp2", {"model": net}, opt, minutes=8, lr=1e-3, warmup=50, ema=ema)
    B = 16

    def step(_):
        ci = rng.integers(0, data.n, B)
        i = rng.integers(0, 7, B) * 4
        k = rng.integers(1, 4, B)
        a, b, y = data.frames(ci, i), data.frames(ci, i + 4), data.frames(ci, i + k)
        t = torch.from_numpy(k / 4.0).float()
        fa, fb, wgt = net.fields(a, b, t)
        p = net.compose(a, b, fa, fb, wgt)
        pix, fl, _ = v2_losses(a, b, y, fa, fb, p)
        loss = pix + 0.05 * fl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.item(), "l1": (p - y).abs().mean().item(), "flow_px": fl.item()}

    def sheet(_=None):
        m = FlowInterpolator()
        m.load_state_dict(ema.shadow)
        m.eval()
        g = np.random.default_rng(123)
        ci = list(g.integers(0, data.n, 6))
        bouncing = [j for j, at in enumerate(data.meta["attributes"]) if at["motion"] == "bouncing" and at["size"] == "small"][:2]
        rows = []
        with torch.no_grad():
            for c in ci + bouncing:
                a, b = data.frames([c], [8]), data.frames([c], [12])
                mids = [m(a, b, torch.tensor([k / 4])) for k in (1, 2, 3)]
                truth = [data.frames([c], [8 + k])[0] for k in (1, 2, 3)]
                rows.append([a[0]] + [x[0] for x in mids] + [b[0]] + truth)
        save_sheet(os.path.join(LOGS, "interp2_samples.png"), rows, scale=2)

    if not run.done():
        run.loop(step, log_every=50, on_checkpoint=sheet)
    save_whole(ema.shadow, os.path.join(CKPT, "interp2_final.pt"))
    sheet()
    log("[interp2] done (logs/interp2_samples.png: a, 3 predicted, b, 3 true; last 2 rows small bouncing)")


if __name__ == "__main__":
    main()
