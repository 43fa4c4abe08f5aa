"""Training speed of every stage with Debian's reference BLAS against OpenBLAS, side by side in one run.

Debian's python3-torch calls whatever libblas.so.3 the system's alternatives point at. Out of
the box that is the reference BLAS (netlib, unoptimised), which every nn.Linear, attention
matmul and the U-Net's timestep / text MLPs go through; installing libopenblas0-openmp makes
OpenBLAS the alternative. This script runs each stage for a short time box in a throwaway
checkpoint folder (links to the real one's inputs, never its outputs), once with
LD_LIBRARY_PATH forcing the reference BLAS and once with OpenBLAS, alternating so a noisy
neighbour hits both alike, and prints steps per second and the ratio.

  /usr/bin/python3 bench_blas.py [--minutes 2] [stage ...]

Needs the inputs the stages read in train/checkpoints (the dataset, latents_*.npy, emb.npz,
ae_final.pt, ae_decoder_final.pt, clip_final.pt, decoder-scale_final.pt: recover_from_onnx.py,
`TW_MIN_AE=0 stage_ae.py` and stage_clip.py make them from the shipped pack)."""
import argparse, os, re, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CKPT = os.environ.get("TW_CKPT", os.path.join(HERE, "checkpoints"))
REFERENCE_BLAS = "/usr/lib/x86_64-linux-gnu/blas:/usr/lib/x86_64-linux-gnu/lapack"  # its LAPACK too, so nothing loads OpenBLAS
# stage -> (script and arguments, the Run's name, which sets TW_MIN_<NAME> and names the outputs
# that are not linked into the throwaway folder, so the stage trains instead of finding them)
STAGES = {
    "ae": (["stage_ae.py"], "ae"),
    "clip": (["stage_clip.py"], "clip"),
    "ae-sharp": (["stage_aedec.py", "sharp"], "ae-sharp"),
    "decoder-image": (["stage_decoder.py", "image"], "decoder-image"),
    "decoder-stars": (["stage_decoder.py", "stars"], "decoder-stars"),  # the video U-Net with TextWarp and heads, as decoder-full and refiner
    # needs latents128_*.npy and degraded128_*.npy (stage_refiner.py makes them, ~20 min)
    "refiner": (["stage_refiner.py"], "refiner"),
    "interp3": (["stage_interp3.py"], "interp3"),
    "vclip": (["stage_vclip.py"], "vclip"),
}


def blas_in_use(env):
    """The BLAS a stage's process really loads under env (checked, not assumed)."""
    return subprocess.run([sys.executable, "-c", "import common; print(common.blas_libraries())"], cwd=HERE,
                          env=env, capture_output=True, text=True, check=True).stdout.strip()


def run_stage(stage, env, minutes, stages=STAGES, ckpt=CKPT):
    """steps per second of one stage's training loop: its own count of steps over its own
    training time (the Run excludes start-up, checkpoints and sample sheets from both).
    The stage reads its inputs from links to ckpt's files."""
    args, name = stages[stage]
    with tempfile.TemporaryDirectory() as tmp:
        ck, logs = os.path.join(tmp, "ck"), os.path.join(tmp, "logs")
        os.makedirs(ck); os.makedirs(logs)
        own = {f"{name}.pt", f"{name}_final.pt", f"{name.replace('-', '_')}_final.pt"}
        for f in os.listdir(ckpt):
            if f not in own and not os.path.isdir(os.path.join(ckpt, f)):
                os.symlink(os.path.join(ckpt, f), os.path.join(ck, f))
        # TW_OUT too: vclip exports itself into the pack it finds there once its loop ends
        env = dict(env, TW_CKPT=ck, TW_LOGS=logs, TW_OUT=tmp, **{f"TW_MIN_{name.upper().replace('-', '_')}": str(minutes)})
        proc = subprocess.Popen([sys.executable, *args], cwd=HERE, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        tail, rate = [], None
        for line in proc.stdout:
            tail = (tail + [line])[-20:]
            m = re.search(rf"\[{re.escape(name)}\] finished: step (\d+), ([0-9.]+) min of training", line)
            if m:  # what follows training (encoding every clip, sample sheets) is not what we measure
                rate = int(m.group(1)) / (float(m.group(2)) * 60)
                break
        proc.kill()
        proc.wait()
        if rate is None:
            raise RuntimeError(f"{stage}: no 'finished' line; last output:\n{''.join(tail)}")
        return rate


def stage_env():
    """train.sh's environment for a stage (two threads unless TW_THREADS says otherwise, its malloc
    settings), without the step caps: a measurement runs each stage for its whole time box."""
    return dict(os.environ, TW_THREADS=os.environ.get("TW_THREADS", "2"), TW_STEP_CAPS="0",
                MALLOC_MMAP_THRESHOLD_="33554432", MALLOC_TRIM_THRESHOLD_="4294967296", MALLOC_TOP_PAD_="268435456")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("stages", nargs="*", default=list(STAGES))
    a = ap.parse_args()
    base = stage_env()
    reference = dict(base, LD_LIBRARY_PATH=REFERENCE_BLAS)
    print(f"reference: {blas_in_use(reference)}\ndefault:   {blas_in_use(base)}", flush=True)
    print(f"| stage | steps/s, reference BLAS | steps/s, this machine's BLAS | ratio |\n| --- | --- | --- | --- |", flush=True)
    for stage in a.stages:
        ref = run_stage(stage, reference, a.minutes)
        new = run_stage(stage, base, a.minutes)
        print(f"| {stage} | {ref:.2f} | {new:.2f} | {new / ref:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
