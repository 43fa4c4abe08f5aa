"""How many minutes the recipe's steps need on this machine, stage by stage.

train.sh's time boxes (542 minutes) say what each stage was given, not what its steps need:
the shipped stages ran over sixteen sessions, some on a VM loaded 6-10 by other work or beside
an eval, some with one thread, on Debian's reference BLAS until session 17. This script runs
every stage's real training loop for a short box in a throwaway folder (bench_blas.run_stage),
with the machine's own BLAS and two threads, and divides the step count the recipe trains
(common.RECIPE_STEPS: the shipped weights' from train/logs, ae-sharp halved; what common.Run caps
each stage at) by the measured rate.

  /usr/bin/python3 recipe_minutes.py [--minutes 2] [stage ...]

The diffusion stages each start from the previous stage's weights; stand-ins for those
(decoder-image, -video and -motion) are cut from decoder-scale_final.pt (the shipped decoder,
recover_from_onnx.py), which has every tensor they have: the rate does not depend on the
weights. Needs what bench_blas.py needs, plus latents128_*.npy / degraded128_*.npy for the
refiner (stage_refiner.py makes them, ~5 min)."""
import argparse, os, sys, tempfile
import torch
import bench_blas
from common import RECIPE_STEPS

HERE = os.path.dirname(os.path.abspath(__file__))
STAGES = {**bench_blas.STAGES,
          "ae-dec": (["stage_aedec.py"], "ae-dec"),
          "decoder-video": (["stage_decoder.py", "video"], "decoder-video"),
          "decoder-motion": (["stage_decoder.py", "motion"], "decoder-motion"),
          "decoder-scale": (["stage_decoder.py", "scale"], "decoder-scale"),
          "interp": (["stage_interp2.py"], "interp2")}
# train.sh's stages in its order, except the prior (it trains in clip's process) and export
RECIPE = ["ae", "clip", "ae-dec", "ae-sharp", "decoder-image", "decoder-video", "decoder-motion", "decoder-scale",
          "decoder-stars", "refiner", "interp", "interp3", "vclip"]
# what is not measured here, from timestamps and timings of session 18 on this machine: the
# prior (in stage_clip.py's process after clip; its 755 steps took 3 s in the session-18 run from
# nothing, logs/s18/clip.log); the refiner's data (128-px keyframes rendered, ~0.4 min, and encoded twice, ~4.4);
# stage ae's encoding of every keyframe (~1.2); the dataset itself (~0.3); export (~0.2)
FIXED_MINUTES = {"prior": 0.1, "refiner data": 4.8, "ae's keyframe latents": 1.2, "dataset": 0.3, "export": 0.2}
STAND_INS = {"decoder-image_final.pt": dict(temporal=False), "decoder-video_final.pt": dict(temporal=True),
             "decoder-motion_final.pt": dict(temporal=True, text_motion=True)}


def with_stand_ins(folder):
    """Links to every file of bench_blas.CKPT, plus the decoder stages' inputs cut from decoder-scale_final.pt."""
    from models import UNet
    from stage_decoder import UNET_CFG
    from common import Data
    for f in os.listdir(bench_blas.CKPT):
        if not os.path.isdir(os.path.join(bench_blas.CKPT, f)):
            os.symlink(os.path.join(bench_blas.CKPT, f), os.path.join(folder, f))
    shipped = torch.load(os.path.join(bench_blas.CKPT, "decoder-scale_final.pt"))
    vocab = len(Data(in_ram=False).vocab)
    for f, kind in STAND_INS.items():
        keys = UNet(vocab, **kind, **UNET_CFG).state_dict().keys()
        torch.save({k: shipped[k] for k in keys}, os.path.join(folder, f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("stages", nargs="*", default=RECIPE)
    a = ap.parse_args()
    env = bench_blas.stage_env()
    print(f"BLAS: {bench_blas.blas_in_use(env)}; TW_THREADS={env['TW_THREADS']}", flush=True)
    print("| stage | steps/s | recipe steps | minutes they need |\n| --- | --- | --- | --- |", flush=True)
    total = 0.0
    with tempfile.TemporaryDirectory() as folder:
        with_stand_ins(folder)
        for stage in a.stages:
            rate = bench_blas.run_stage(stage, env, a.minutes, stages=STAGES, ckpt=folder)
            steps = RECIPE_STEPS[STAGES[stage][1]]
            minutes = steps / rate / 60
            total += minutes
            print(f"| {stage} | {rate:.2f} | {steps} | {minutes:.1f} |", flush=True)
    for what, minutes in FIXED_MINUTES.items():
        total += minutes
        print(f"| {what} | - | - | {minutes:.1f} (fixed) |", flush=True)
    print(f"| **all measured stages** | | | **{total:.0f}** |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
