"""Shared plumbing for every training stage: the dataset (CONTRACT.md format), time-boxed
resumable training loops with checkpoints, logging, EMA, PNG sheets, the noise schedule."""
import json, math, os, sys, time
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
# the pack recover_from_onnx.py reads (TW_PACK: another folder, e.g. an experimental export); export.py
# writes to TW_OUT or models/tiny-world, never to TW_PACK
PACK = os.environ.get("TW_PACK", os.path.dirname(HERE))
DATA = os.environ.get("TW_DATA", os.path.join(REPO, "data", "tiny-world"))
CKPT = os.environ.get("TW_CKPT", os.path.join(HERE, "checkpoints"))
LOGS = os.environ.get("TW_LOGS", os.path.join(HERE, "logs"))  # sample sheets; train.sh sets logs/v2 for TW_RECIPE=v2
OUT = os.environ.get("TW_OUT", os.path.dirname(HERE))  # where ONNX files + manifest go
KEYFRAMES = list(range(0, 29, 4))


def setup_threads():
    # Two threads on the quiet 2-core machine a fresh run gets (the motion stage ran 2-3x faster
    # than with one). On a shared machine give TW_THREADS=1: with busy-waiting OpenMP threads a
    # second thread that loses its core stalls every op (sessions 1-2 measured 5-10x slowdowns).
    n = int(os.environ.get("TW_THREADS", str(min(2, os.cpu_count() or 1))))
    torch.set_num_threads(n)
    torch.set_flush_denormal(True)  # denormal floats make x86 math many times slower
    return n


def blas_libraries():
    """The BLAS libraries this process's torch has really loaded (paths from /proc/self/maps).
    Debian's torch calls whichever libblas.so.3 the system's alternatives name: out of the box
    the unoptimised reference BLAS, OpenBLAS once libopenblas0-openmp is installed."""
    torch.zeros(2, 2) @ torch.zeros(2, 2)  # loads the BLAS if nothing has yet
    return sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.split()[-1]})


def on_reference_blas():
    return not any("openblas" in lib or "blis" in lib for lib in blas_libraries())


def rank():
    """This process's place when a stage runs data-parallel (torchrun sets RANK); 0 alone."""
    return int(os.environ.get("RANK", "0"))


def world_size():
    return int(os.environ.get("WORLD_SIZE", "1"))


def setup_data_parallel():
    """With WORLD_SIZE > 1 (train.sh: TW_PROCS=2), joins the gloo group. Measured on this VM
    while others loaded it: one process with two threads ~1.06x (B=8) to 1.3x (B=16) of one
    thread; two one-thread processes ~1.1x in clips per second. With the machine quiet
    (session 3) two threads ran the motion stage 2-3x faster than one (TW_THREADS=2)."""
    if world_size() > 1:
        import torch.distributed as dist
        dist.init_process_group("gloo")


def average_gradients(params):
    """Sums every gradient across the processes (one flat all-reduce) and divides, so every
    process takes the same optimizer step and the weights stay identical."""
    if world_size() == 1:
        return
    import torch.distributed as dist
    grads = [p.grad for p in params if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size()
    i = 0
    for g in grads:
        g.copy_(flat[i:i + g.numel()].view_as(g))
        i += g.numel()


def save_whole(obj, path):
    """torch.save, written beside the target and renamed over it: train.sh takes a stage whose
    final file exists as done, so an interrupted save must never leave a truncated one; and a
    rename replaces a symbolic link itself (bench_blas.py's throwaway folders link to the real
    checkpoints), never the file it points at."""
    torch.save(obj, path + ".tmp")
    os.replace(path + ".tmp", path)


def log(*a):
    if rank() == 0:
        print(time.strftime("%H:%M:%S"), *a, flush=True)


class Data:
    def __init__(self, root=DATA, in_ram=True):
        if not os.path.exists(os.path.join(root, "READY")):
            sys.exit(f"dataset not ready: {root}/READY missing")
        self.root = root
        self.meta = json.load(open(os.path.join(root, "meta.json")))
        n, f, h, w, k = (self.meta[x] for x in ("clips", "frames", "height", "width", "captionsPerClip"))
        self.n, self.f, self.k, self.L = n, f, k, self.meta["maxTokens"]
        clips = np.memmap(os.path.join(root, "clips.u8"), np.uint8, "r", shape=(n, f, h, w, 3))
        self.clips = np.array(clips) if in_ram else clips
        self.tok_full = np.fromfile(os.path.join(root, "tokens_full.i32"), np.int32).reshape(n, k, self.L)
        self.tok_static = np.fromfile(os.path.join(root, "tokens_static.i32"), np.int32).reshape(n, k, self.L)
        self.vocab = self.meta["vocabulary"]

    def frames(self, ci, fi):
        """uint8 clips[ci, fi] -> float [-1, 1] NCHW"""
        x = torch.from_numpy(self.clips[ci, fi]).float()
        return x.permute(0, 3, 1, 2) / 127.5 - 1.0

    def tokens(self, ci, full, rng):
        v = rng.integers(0, self.k, len(ci))
        t = (self.tok_full if full else self.tok_static)[ci, v]
        return torch.from_numpy(t.astype(np.int64))


def to_u8(x):
    """[-1,1] CHW/NCHW tensor -> uint8 HWC numpy"""
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().byte()
    return x.permute(*range(x.dim() - 3), -2, -1, -3).cpu().numpy()


def save_sheet(path, rows, scale=2):
    """rows: list of lists of [3,H,W] tensors in [-1,1] -> one PNG grid"""
    from PIL import Image
    img = np.concatenate([np.concatenate([to_u8(x) for x in r], 1) for r in rows], 0)
    Image.fromarray(img).resize((img.shape[1] * scale, img.shape[0] * scale), Image.NEAREST).save(path)


class EMA:
    def __init__(self, model, decay=0.999):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.n = 0

    @torch.no_grad()
    def update(self, model):
        self.n += 1
        d = min(self.decay, (1 + self.n) / (10 + self.n))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.shadow[k].copy_(v)


# Steps of each shipped stage's weights, from its log in train/logs (batches of the stage's own
# size; decoder-video's first 1957 steps of 8 clips and its last 3079 in each of two processes
# counted as steps of 12; ae-sharp's first 7027 were on 48x48 windows, counted as whole frames).
SHIPPED_STEPS = {"ae": 783, "clip": 133, "prior": 755, "ae-dec": 3726, "ae-sharp": 9268, "decoder-image": 663,
                 "decoder-video": 10414, "decoder-motion": 4211, "decoder-scale": 3320, "decoder-stars": 1820,
                 "refiner": 580, "interp2": 1416, "interp3": 3979, "vclip": 1260}
# The steps the recipe trains, where they differ from the shipped weights'. ae-sharp at half its
# steps (session 21, logs/sharp: ~14.5 minutes instead of ~34) gave the same 16 failing prompts of
# 120 through the product as the full run's latent decoder, and the same 98.3% pipeline ceiling;
# only its 64-px keyframes alone round 4 more small stars (85.0% against 88.3%), which the refine
# node restores.
RECIPE_STEPS = {**SHIPPED_STEPS, "ae-sharp": 4634}


class Run:
    """A time-boxed, resumable loop. Stops at `minutes` of training time (summed across
    resumes) or `steps`, whichever first; saves a checkpoint every ~3 minutes and at the end.
    A stage of the recipe is also capped at RECIPE_STEPS: the steps its shipped weights had
    (SHIPPED_STEPS, session 18), with ae-sharp halved in session 21. On a quiet 2-core machine
    with OpenBLAS those steps take ~238 minutes with the data and export by short measurements (a
    whole run from nothing took ~283 by the clock before ae-sharp was halved, logs/s18; ~263 after),
    while the time boxes, sized on a loaded VM with the reference BLAS, add up to 542, so a
    fast machine reruns the shipped recipe instead of a longer one. The learning rate follows
    warmup + cosine over whichever of the two limits is nearer, so a resumed run continues the
    same curve. Overrides: TW_MIN_<NAME>, TW_STEPS_<NAME> (0: no cap), TW_STEP_CAPS=0 (no caps)."""

    def __init__(self, name, modules, opt, minutes, steps=None, lr=1e-3, warmup=100, ema=None,
                 min_lr_frac=0.1):
        os.makedirs(CKPT, exist_ok=True)
        self.name, self.modules, self.opt, self.ema = name, modules, opt, ema
        key = name.upper().replace('-', '_')
        self.minutes = float(os.environ.get(f"TW_MIN_{key}", minutes))
        if steps is None and name in RECIPE_STEPS and os.environ.get("TW_STEP_CAPS", "1") != "0":
            steps = -(-RECIPE_STEPS[name] // world_size())  # data-parallel processes share them
        self.max_steps = int(os.environ.get(f"TW_STEPS_{key}", steps or 0)) or None
        self.lr, self.warmup, self.min_lr_frac = lr, warmup, min_lr_frac
        self.path = os.path.join(CKPT, f"{name}.pt")
        self.step, self.elapsed = 0, 0.0
        self.hist = []
        if os.path.exists(self.path):
            ck = torch.load(self.path)
            for k, m in modules.items():
                m.load_state_dict(ck["modules"][k])
            opt.load_state_dict(ck["opt"])
            if ema is not None and "ema" in ck:
                ema.shadow, ema.n = ck["ema"], ck["ema_n"]
            self.step, self.elapsed = ck["step"], ck["elapsed"]
            log(f"[{name}] resumed at step {self.step}, {self.elapsed / 60:.1f} min done")

    def done(self):
        # `touch checkpoints/<stage>.pt.stop` ends a run early but cleanly (final weights written)
        finished = os.path.exists(self.path + ".stop") or self.elapsed >= self.minutes * 60 or (
            self.max_steps is not None and self.step >= self.max_steps)
        if world_size() > 1:  # every process stops at the same step, when the first one is due
            import torch.distributed as dist
            flag = torch.tensor([1.0 if finished else 0.0])
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            finished = flag.item() > 0
        return finished

    def set_lr(self):
        frac = min(1.0, self.elapsed / max(1.0, self.minutes * 60))
        if self.max_steps is not None:
            frac = max(frac, min(1.0, self.step / self.max_steps))
        w = min(1.0, (self.step + 1) / self.warmup)
        c = self.min_lr_frac + (1 - self.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in self.opt.param_groups:
            g["lr"] = self.lr * g.get("lr_mult", 1.0) * w * c
        return self.lr * w * c

    def save(self):
        if rank() != 0:
            return
        ck = {"modules": {k: m.state_dict() for k, m in self.modules.items()}, "opt": self.opt.state_dict(),
              "step": self.step, "elapsed": self.elapsed}
        if self.ema is not None:
            ck["ema"], ck["ema_n"] = self.ema.shadow, self.ema.n
        save_whole(ck, self.path)

    def loop(self, step_fn, log_every=50, on_checkpoint=None, ckpt_every=180):
        last_ck = time.time()
        t0 = time.time()
        while not self.done():
            lr = self.set_lr()
            ts = time.time()
            losses = step_fn(self.step)
            if self.ema is not None:
                self.ema.update(self.modules["model"])
            self.elapsed += time.time() - ts
            self.step += 1
            self.hist.append(losses)
            if self.step % log_every == 0:
                keys = self.hist[-1].keys()
                avg = {k: float(np.mean([h[k] for h in self.hist[-log_every:]])) for k in keys}
                msg = " ".join(f"{k}={v:.4f}" for k, v in avg.items())
                log(f"[{self.name}] step {self.step} {msg} lr={lr:.2e} train_min={self.elapsed / 60:.1f} "
                    f"sps={log_every / max(1e-6, time.time() - t0):.2f}")
                t0 = time.time()
            if time.time() - last_ck > ckpt_every:
                self.save()
                if on_checkpoint is not None and rank() == 0:
                    on_checkpoint(self.step)
                last_ck = time.time()
        self.save()
        log(f"[{self.name}] finished: step {self.step}, {self.elapsed / 60:.1f} min of training")


# ---------------------------------------------------------------- diffusion schedule
def cosine_alphas_cumprod(T=1000, s=0.008):
    t = np.arange(T + 1, dtype=np.float64) / T
    f = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    ac = f[1:] / f[0]
    return np.clip(ac, 1e-5, 0.9999).astype(np.float64)


ALPHAS = torch.tensor(cosine_alphas_cumprod(), dtype=torch.float32)


def q_sample_v(x0, t, noise):
    """returns x_t and the v target for integer timesteps t [B] (x0 [B,C,F,H,W])"""
    a = ALPHAS[t].view(-1, 1, 1, 1, 1)
    xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
    v = a.sqrt() * noise - (1 - a).sqrt() * x0
    return xt, v


def min_snr_weight(t, gamma=5.0):
    a = ALPHAS[t]
    snr = a / (1 - a)
    return torch.clamp(snr, max=gamma) / (snr + 1)


@torch.no_grad()
def ddim_sample(model, tokens, image_embedding, known, mask, steps=20, guidance=3.0, seed=0, frames=8, start=None, start_t=999):
    """Python twin of the engine's sampler (CONTRACT.md), for monitoring during training. With
    `start` (x_t at start_t < 999) it denoises from there (SDEdit)."""
    g = torch.Generator().manual_seed(seed)
    b = tokens.shape[0]
    x = torch.randn(b, known.shape[1], frames, 16, 16, generator=g) if start is None else start
    ts = np.linspace(start_t, 0, steps).round().astype(int)
    for i, t in enumerate(ts):
        tt = torch.full((b,), float(t))
        if guidance != 1.0:
            v2 = model(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([tokens, torch.zeros_like(tokens)]),
                       torch.cat([image_embedding, torch.zeros_like(image_embedding)]),
                       torch.cat([known, known]), torch.cat([mask, mask]))
            vc, vu = v2.chunk(2)
            v = vu + guidance * (vc - vu)
        else:
            v = model(x, tt, tokens, image_embedding, known, mask)
        a = ALPHAS[t]
        x0 = a.sqrt() * x - (1 - a).sqrt() * v
        eps = (1 - a).sqrt() * x + a.sqrt() * v
        if i + 1 < len(ts):
            an = ALPHAS[ts[i + 1]]
            x = an.sqrt() * x0 + (1 - an).sqrt() * eps
        else:
            x = x0
    return x


def encode_caption(text, vocab, L=16):
    idx = {w: i for i, w in enumerate(vocab)}
    ids = [idx[w] for w in text.lower().split() if w in idx]  # monitoring only
    return ids + [0] * (L - len(ids))
