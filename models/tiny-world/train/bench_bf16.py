"""Training speed of the decoder U-Net in float32 against bfloat16 autocast (float32 weights,
optimizer and loss; convolutions and matmuls in bf16), steps interleaved one by one in one
process so a noisy neighbour slows both alike. Prints steps per second and the ratio for the
video stage's U-Net and the scale stage's (with TextWarp, the U-Net of decoder-scale,
decoder-stars and the refiner). Random latents and tokens: this measures speed, not learning.

  /usr/bin/python3 bench_bf16.py [--steps 60] [video|scale ...]

The decoder stages are ~186 of the recipe's ~280 minutes (logs/s18), so their ratio bounds
what bf16 can save. Whether a U-Net trained in bf16 draws as well is not measured here."""
import argparse, time
import torch
from common import setup_threads, q_sample_v, min_snr_weight, EMA
from stage_decoder import build

VOCAB, BATCH = 64, 12


def stepper(mode):
    torch.manual_seed(0)
    model = build(VOCAB, True, mode == "scale", mode == "scale")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ema = EMA(model, 0.998)

    def step(bf16):
        x0 = torch.randn(BATCH, 4, 8, 16, 16)
        mask = torch.zeros(BATCH, 1, 8, 16, 16)
        mask[:, :, :1] = 1
        t = torch.randint(0, 1000, (BATCH,))
        xt, v = q_sample_v(x0, t, torch.randn_like(x0))
        tok = torch.randint(1, VOCAB, (BATCH, 16))
        with torch.cpu.amp.autocast(enabled=bf16, dtype=torch.bfloat16):
            pred = model(xt, t.float(), tok, torch.randn(BATCH, 64), x0 * mask, mask)
        loss = (((pred.float() - v) ** 2).mean((1, 2, 3, 4)) * min_snr_weight(t)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(model)
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60, help="steps of each precision per stage")
    ap.add_argument("modes", nargs="*", default=["video", "scale"])
    args = ap.parse_args()
    threads = setup_threads()
    print(f"{threads} threads, batch {BATCH} clips of 8 keyframes, {args.steps} steps of each, interleaved")
    print("| U-Net | float32 steps/s | bf16 steps/s | bf16 / float32 |\n| --- | --- | --- | --- |")
    for mode in args.modes:
        step = stepper(mode)
        for bf16 in (False, True, False, True):  # warm-up: oneDNN builds its kernels on first use
            step(bf16)
        seconds = {False: 0.0, True: 0.0}
        for i in range(2 * args.steps):
            bf16 = i % 2 == 1
            t0 = time.perf_counter()
            step(bf16)
            seconds[bf16] += time.perf_counter() - t0
        fp32, bf = args.steps / seconds[False], args.steps / seconds[True]
        print(f"| {mode} | {fp32:.2f} | {bf:.2f} | {bf / fp32:.2f} |", flush=True)


if __name__ == "__main__":
    main()
