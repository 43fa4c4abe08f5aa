"""Stage `interp`: pixel-space frame interpolator (frame i, frame i+4, k/4) -> frame i+k,
L1 on object-weighted pixels, trained on the dataset's clips."""
import os
import numpy as np
import torch
from common import Data, Run, save_whole, EMA, CKPT, LOGS, log, save_sheet, setup_threads
from models import Interpolator, nparams


def main():
    setup_threads()
    torch.manual_seed(4)
    rng = np.random.default_rng(4)
    data = Data()
    net = Interpolator()
    log(f"[interp] params {nparams(net)}")
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0)
    ema = EMA(net, 0.995)
    run = Run("interp", {"model": net}, opt, minutes=20, lr=1e-3, warmup=50, ema=ema)
    B = 16

    def batch(n):
        ci = rng.integers(0, data.n, n)
        i = rng.integers(0, 7, n) * 4
        k = rng.integers(1, 4, n)
        return data.frames(ci, i), data.frames(ci, i + 4), data.frames(ci, i + k), torch.from_numpy(k / 4.0).float()

    def step(_):
        a, b, y, t = batch(B)
        p = net(a, b, t)
        obj = (((y - y[:, :, :1, :1]).abs().sum(1, keepdim=True) > 0.1) |
               ((a - a[:, :, :1, :1]).abs().sum(1, keepdim=True) > 0.1)).float()
        loss = ((p - y).abs() * (1 + 4 * obj)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"l1w": loss.item(), "l1": (p - y).abs().mean().item()}

    def sheet(_=None):
        m = Interpolator()
        m.load_state_dict(ema.shadow)
        m.eval()
        g = np.random.default_rng(123)
        ci = g.integers(0, data.n, 6)
        rows = []
        with torch.no_grad():
            for c in ci:
                a, b = data.frames([c], [8]), data.frames([c], [12])
                mids = [m(a, b, torch.tensor([k / 4])) for k in (1, 2, 3)]
                truth = [data.frames([c], [8 + k])[0] for k in (1, 2, 3)]
                rows.append([a[0]] + [x[0] for x in mids] + [b[0]] + truth)
        save_sheet(os.path.join(LOGS, "interp_samples.png"), rows, scale=2)

    if not run.done():
        run.loop(step, log_every=50, on_checkpoint=sheet)
    save_whole(ema.shadow, os.path.join(CKPT, "interp_final.pt"))
    sheet()
    log("[interp] done (logs/interp_samples.png: a, 3 predicted, b, 3 true)")


if __name__ == "__main__":
    main()
