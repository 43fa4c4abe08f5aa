#!/usr/bin/env bash
# Rebuilds the tiny-world pack from nothing: dataset (if missing) -> ae -> clip+prior ->
# ae-dec -> ae-sharp -> decoder-image -> decoder-video -> decoder-motion -> decoder-scale -> decoder-stars -> refiner -> interp (v2) ->
# interp3 (v3, from v2's U-Net) -> vclip -> export. Not in the default list (experiments, not
# shipped): session 7's ae-detail, decoder-detail, then TW_DETAIL=1 for export; session 8's
# ae-predict (after ae-detail with TW_DETAIL_NOISE=0.6), then TW_AE_PREDICT=1 for export; session 10's
# ae-joint, decoder-joint, then TW_JOINT=1 for export. TW_RECIPE=v2 (below): ae-scratch -> clip ->
# decoder-image -> decoder-full -> interp -> interp3 -> vclip -> export. Every stage resumes from its
# checkpoint in train/checkpoints/ (v2: checkpoints-v2/) and is skipped when its output exists, so
# re-running after an interruption continues where it stopped. Logs: train/logs/<stage>.log (v2: logs/v2/).
#   bash models/tiny-world/train.sh            # everything
#   bash models/tiny-world/train.sh ae clip    # only these stages
# A stage stops at the recipe's step count (common.RECIPE_STEPS: its shipped weights', ae-sharp halved) or at its time box in minutes of
# training, whichever comes first (common.Run), overridable per stage, e.g. TW_STEPS_DECODER_VIDEO=5000
# or TW_MIN_DECODER_VIDEO=90; TW_STEP_CAPS=0 leaves the time boxes alone. On a quiet 2-core machine
# with OpenBLAS the steps come first: ~238 minutes by short measurements (train/recipe_minutes.py),
# ~283 by the clock in a whole run from nothing before ae-sharp was halved (train/logs/s18; ~263 after). TW_THREADS
# (default 2, or 1 on a 1-core machine) sets torch threads per stage: give 1 on a shared machine,
# where a descheduled second thread stalls every op. TW_PROCS=2 trains the decoder stages
# data-parallel in two processes (~1.1x in clips per second on this VM).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
T=models/tiny-world/train
# TW_RECIPE=v2: the from-scratch recipe of sessions 10-11 (a scratch autoencoder, decoder-image, then
# decoder-full in place of video + motion + scale + stars) with a checkpoint folder, logs and pack
# of its own (checkpoints-v2, logs/v2, checkpoints-v2/pack/tiny-world), so it never resumes,
# skips or overwrites on the shipped recipe's files or the shipped pack.
RECIPE=${TW_RECIPE:-v1}
case $RECIPE in
  v1) CK=${TW_CKPT:-$T/checkpoints}; LOGDIR=${TW_LOGS:-$T/logs}; OUTDIR=${TW_OUT:-models/tiny-world} ;;
  v2) CK=${TW_CKPT:-$T/checkpoints-v2}; LOGDIR=${TW_LOGS:-$T/logs/v2}; OUTDIR=${TW_OUT:-$CK/pack/tiny-world}
      export TW_STEP_CAPS=0 ;;  # its stages ran as time boxes; the step caps are the shipped recipe's
  *) echo "TW_RECIPE must be v1 or v2, not '$RECIPE'" >&2; exit 2 ;;
esac
mkdir -p "$CK" "$LOGDIR" "$OUTDIR"
export TW_CKPT=$(cd "$CK" && pwd) TW_LOGS=$(cd "$LOGDIR" && pwd) TW_OUT=$(cd "$OUTDIR" && pwd)
# A pack written outside models/ gets a link to models/realesrgan beside it, so
# `eval:tiny --models <its folder>` can run the default workflow's upscale.
PACKS=$(dirname "$TW_OUT")
[ "$PACKS" = "$(pwd)/models" ] || [ -e "$PACKS/realesrgan" ] || ln -s "$(pwd)/models/realesrgan" "$PACKS/realesrgan"
# Large allocations are otherwise returned to the kernel and page-faulted back in on every
# op; in our VM that made elementwise ops 10-100x slower.
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_TOP_PAD_=268435456

# Out of the box Debian's torch runs on the reference BLAS, which makes the matmul-heavy stages
# 1.3-3.3x slower (train/logs/bench_blas.md).
if (cd "$T" && $PY -c "import common, sys; sys.exit(0 if common.on_reference_blas() else 1)"); then
  echo "warning: torch is using the reference BLAS; 'apt-get install libopenblas0-openmp' makes the matmul-heavy stages 1.3-3.3x faster" >&2
fi

if [ ! -f data/tiny-world/READY ]; then
  echo "writing the dataset (6000 clips)"
  npx tsx models/tiny-world/world/write-dataset.ts --clips 6000 --seed 1 --out data/tiny-world
fi

PARALLEL=""
if [ "${TW_PROCS:-1}" -gt 1 ]; then
  PARALLEL="parallel.py $TW_PROCS"
fi

stages=("$@")
if [ ${#stages[@]} -eq 0 ]; then
  if [ "$RECIPE" = v2 ]; then
    stages=(ae-scratch clip decoder-image decoder-full interp interp3 vclip export)
  else
    stages=(ae clip ae-dec ae-sharp decoder-image decoder-video decoder-motion decoder-scale decoder-stars refiner interp interp3 vclip export)
  fi
fi

run() {  # run <stage> <done-file> <script args...>
  local name=$1 done=$2; shift 2
  if [ -n "$done" ] && [ -f "$CK/$done" ]; then echo "[$name] already done ($done)"; return; fi
  echo "[$name] starting, log: $LOGDIR/$name.log"
  (cd "$T" && $PY "$@") 2>&1 | tee -a "$LOGDIR/$name.log"
}

for s in "${stages[@]}"; do
  case $s in
    ae) run ae latents_05500.npy stage_ae.py ;;
    clip) run clip emb.npz stage_clip.py ;;
    ae-dec) run ae-dec ae_decoder_final.pt stage_aedec.py ;;
    ae-sharp) run ae-sharp ae_sharp_final.pt stage_aedec.py sharp ;;  # full-resolution blocks: stars keep their points
    ae-joint) run ae-joint joint_05500.npy stage_aedec.py joint ;;  # the encoder trained again with the decoder (session 10)
    ae-scratch)  # the autoencoder trained whole from random weights (v2); its files become ae_final.pt and latents_*
      # checked before training: in a folder with another ae_final.pt the later stages would read that one
      if [ -e "$CK/ae_final.pt" ] && [ "$(readlink "$CK/ae_final.pt")" != ae_scratch_final.pt ]; then
        echo "[ae-scratch] $CK/ae_final.pt is another autoencoder; run this stage with TW_RECIPE=v2 and no TW_CKPT (or an empty TW_CKPT folder)" >&2
        exit 1
      fi
      TW_JOINT_SCRATCH=1 run ae-scratch scratch_05500.npy stage_aedec.py joint
      [ -e "$CK/ae_final.pt" ] || ln -s ae_scratch_final.pt "$CK/ae_final.pt"
      for f in "$CK"/scratch_*.npy; do ln -sfn "$(basename "$f")" "$CK/latents_${f##*/scratch_}"; done ;;
    ae-detail) run ae-detail detail_05500.npy stage_aedec.py detail ;;  # experimental: 4 more latent channels (small stars' points)
    ae-predict) run ae-predict ae_predict_final.pt stage_aedec.py predict ;;  # experimental: those channels from the 4 + the text (after decoder-scale)
    decoder-image) run decoder-image decoder-image_final.pt $PARALLEL stage_decoder.py image ;;
    decoder-video) run decoder-video decoder-video_final.pt $PARALLEL stage_decoder.py video ;;
    decoder-motion) run decoder-motion decoder-motion_final.pt $PARALLEL stage_decoder.py motion ;;
    decoder-scale) run decoder-scale decoder-scale_final.pt $PARALLEL stage_decoder.py scale ;;
    decoder-detail) run decoder-detail decoder-detail_final.pt $PARALLEL stage_decoder.py detail ;;  # experimental: on ae-detail's 8 channels
    decoder-stars) run decoder-stars decoder-stars_final.pt $PARALLEL stage_decoder.py stars ;;  # star-weighted fine-tune (session 8)
    refiner)  # the decoder fine-tuned at 2x for the refine node (session 15), on the clips' keyframes rendered at 128 px
      [ -f data/tiny-world/keyframes128.READY ] || npx tsx models/tiny-world/world/write-keyframes.ts --data data/tiny-world --size 128
      run refiner refiner_final.pt stage_refiner.py ;;
    decoder-full) run decoder-full decoder-full_final.pt $PARALLEL stage_decoder.py full ;;  # image U-Net straight to the stars-drawn scale U-Net (next recipe)
    decoder-joint) run decoder-joint decoder-joint_final.pt $PARALLEL stage_decoder.py joint ;;  # decoder-stars on ae-joint's latents
    interp)  # v2 (flow), where v3 starts; not needed once v3 exists (a recovered v3 pack has no v2)
      if [ -f "$CK/interp3_final.pt" ]; then echo "[interp2] not needed (interp3_final.pt exists)"
      else run interp2 interp2_final.pt stage_interp2.py; fi ;;
    interp3) run interp3 interp3_final.pt stage_interp3.py ;;  # v3 (track + flow), the shipped one
    vclip) run vclip vclip_final.pt stage_vclip.py ;;  # video-text scorer that reranks candidates
    interp-v1) run interp interp_final.pt stage_interp.py ;;  # v1 (blend + residual), kept for comparison
    export) run export "" export.py && node "$T/verify_onnx.cjs" ;;
    *) echo "unknown stage '$s' (the stages are the cases of models/tiny-world/train.sh)" >&2; exit 1 ;;
  esac
done
