"""Stage `export`: every ONNX file of the pack (opset 17, names and shapes as CONTRACT.md,
dynamic batch), manifest.json with sha256/bytes, LICENSE, and reference inputs/outputs
(checkpoints/verify/*.json) for verify_onnx.cjs, which runs them in onnxruntime-node.
Uses whatever final checkpoints exist; a stage that has not finished yet is exported from
its latest checkpoint (EMA weights where the stage keeps them)."""
import hashlib, json, os, sys
import numpy as np
import torch
import onnx
from common import CKPT, OUT, DATA, log, setup_threads, cosine_alphas_cumprod
from models import (autoencoder_from, AutoEncoder, LatentEncoder, LatentDecoder, ClipText, ClipImage, Prior, UNet,
                    DetailPredictor, PredictedDetailDecoder,
                    Interpolator, FlowInterpolator, TrackInterpolator, nparams, widened_unet_state)
from stage_decoder import build
from stage_vclip import export_video_text

VERIFY = os.path.join(CKPT, "verify")


def load_ck(name):
    """final EMA weights if the stage finished, else the newest checkpoint's EMA/raw weights"""
    fin = os.path.join(CKPT, f"{name}_final.pt")
    if os.path.exists(fin):
        return torch.load(fin), "final"
    ck = torch.load(os.path.join(CKPT, f"{name}.pt"))
    return (ck["ema"] if "ema" in ck else ck["modules"]["model"]), f"checkpoint step {ck['step']}"


def export(model, args, path, inputs, outputs, dyn):
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, args, path, opset_version=17, input_names=inputs, output_names=outputs,
                          dynamic_axes=dyn, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    with torch.no_grad():
        ref = model(*args)
    os.makedirs(VERIFY, exist_ok=True)
    rec = {"file": os.path.basename(path), "inputs": {}, "outputs": {}}
    for n, a in zip(inputs, args):
        rec["inputs"][n] = {"dtype": "int64" if a.dtype == torch.int64 else "float32", "shape": list(a.shape),
                            "data": a.flatten().tolist()}
    rec["outputs"][outputs[0]] = {"shape": list(ref.shape), "data": ref.flatten().tolist()}
    json.dump(rec, open(os.path.join(VERIFY, os.path.basename(path) + ".json"), "w"))


def main():
    setup_threads()
    torch.manual_seed(0)
    meta = json.load(open(os.path.join(DATA, "meta.json")))
    vocab = meta["vocabulary"]
    V = len(vocab)
    os.makedirs(OUT, exist_ok=True)
    notes = {}
    B = 2
    newest = os.environ.get("TW_INTERP", "3")  # checked before anything is written
    if newest not in ("1", "2", "3"):
        sys.exit(f"[export] TW_INTERP={newest!r}: expected 1, 2 or 3 (the newest interpolator version to export)")

    sharp_path = os.path.join(CKPT, "ae_sharp_final.pt")  # + full-resolution blocks (stage ae-sharp)
    dec_path = os.path.join(CKPT, "ae_decoder_final.pt")  # decoder fine-tuned on frozen latents
    sharp_state = decoder_state = None
    if os.path.exists(sharp_path) and os.environ.get("TW_SHARP", "1") == "1":
        sharp_state = torch.load(sharp_path); notes["latent-decoder"] = "sharp"
    elif os.path.exists(dec_path):
        decoder_state = torch.load(dec_path); notes["latent-decoder"] = "fine-tuned"
        if os.path.exists(sharp_path):
            log("[export] TW_SHARP=0: the latent decoder without its ae-sharp blocks (a recovered ae_decoder_final.pt "
                "from a sharp pack is the decoder trained with them, not ae-dec's)")
    elif os.path.exists(os.path.join(CKPT, "ae-dec.pt")):
        decoder_state = torch.load(os.path.join(CKPT, "ae-dec.pt"))["modules"]["model"]
        notes["latent-decoder"] = "fine-tune checkpoint"
    has = lambda n: os.path.exists(os.path.join(CKPT, f"{n}.pt")) or os.path.exists(os.path.join(CKPT, f"{n}_final.pt"))
    # TW_DETAIL=1: the experimental 8-channel pack (stages ae-detail, decoder-detail; session 7, not shipped: no better
    # through the product). Before decoder-detail exists, the scale decoder widened (it predicts the detail channels
    # as zero), which is enough to measure the autoencoder's ceiling through the product
    detail = os.environ.get("TW_DETAIL") == "1"
    # the latent decoder that reads the prompt too: ae-detail's decoder, the 4 channels the diffusion decoder makes
    # corrected and the detail channels predicted from them and the text (stage ae-predict, session 8)
    predict_path = os.path.join(CKPT, "ae_predict_final.pt")
    predicted = os.environ.get("TW_AE_PREDICT") == "1"
    if detail and predicted:
        sys.exit("[export] TW_DETAIL=1 and TW_AE_PREDICT=1: choose one (an 8-channel pack, or a 4-channel pack whose "
                 "latent decoder predicts the detail channels)")
    if predicted:
        wide = AutoEncoder(sharp=True, detail=4)
        # only its decoder is used (one recovered from a pack has no encoders)
        missing, unexpected = wide.load_state_dict(torch.load(os.path.join(CKPT, "ae_detail_final.pt")), strict=False)
        if unexpected or any(not k.startswith(("enc.", "detail.")) for k in missing):
            sys.exit(f"[export] ae_detail_final.pt: missing {missing}, unexpected {unexpected}")
        predictor = DetailPredictor()
        predictor.load_state_dict(torch.load(predict_path))
        notes["latent-decoder"] = "ae-detail's decoder, detail channels predicted (ae-predict)"
    # TW_JOINT=1: session 10's experiment (not shipped: no better through the product), the autoencoder with its
    # encoder trained again (stage ae-joint) and, when it exists, the U-Net fine-tuned on its latents (stage
    # decoder-joint); before decoder-joint exists, decoder-stars (enough for the pipeline ceiling, which needs no U-Net)
    joint_path = os.path.join(CKPT, "ae_joint_final.pt")
    joint = os.environ.get("TW_JOINT") == "1"
    if joint and (detail or predicted):
        sys.exit("[export] TW_JOINT with TW_DETAIL or TW_AE_PREDICT: choose one latent autoencoder")
    if detail:
        ae = AutoEncoder(sharp=True, detail=4)
        ae.load_state_dict(torch.load(os.path.join(CKPT, "ae_detail_final.pt")))
        notes["latent-decoder"] = "detail"
    elif joint:
        ae = AutoEncoder(sharp=True)
        ae.load_state_dict(torch.load(joint_path))
        notes["latent-decoder"] = notes["latent-encoder"] = "joint"
    else:
        ae = autoencoder_from(torch.load(os.path.join(CKPT, "ae_final.pt")), decoder_state, sharp_state)
    zc = ae.channels
    f32 = "float32"
    img = torch.rand(B, 3, 64, 64) * 2 - 1
    # height and width are dynamic (pixels 4x the latents) so the refine node can work at 2x the pack's resolution
    export(LatentEncoder(ae), (img,), os.path.join(OUT, "latent_encoder.onnx"), ["image"], ["latents"],
           {"image": {0: "B", 2: "H", 3: "W"}, "latents": {0: "B", 2: "h", 3: "w"}})
    decoder_inputs = {"latents": (f32, ["B", zc, "h", "w"]), **({"text_embedding": (f32, ["B", 64])} if predicted else {})}
    decoder_args = (torch.randn(B, zc, 16, 16),) + ((torch.nn.functional.normalize(torch.randn(B, 64), dim=-1),) if predicted else ())
    export(PredictedDetailDecoder(wide, predictor) if predicted else LatentDecoder(ae), decoder_args, os.path.join(OUT, "latent_decoder.onnx"), list(decoder_inputs), ["image"],
           {**{n: {0: "B"} for n in decoder_inputs}, "latents": {0: "B", 2: "h", 3: "w"}, "image": {0: "B", 2: "H", 3: "W"}})

    ck = torch.load(os.path.join(CKPT, "clip_final.pt"))
    text, image, prior = ClipText(V), ClipImage(), Prior()
    text.load_state_dict(ck["text"]); image.load_state_dict(ck["image"]); prior.load_state_dict(ck["prior"])
    tok = torch.zeros(B, 16, dtype=torch.int64)
    tok[:, :6] = torch.randint(1, V, (B, 6))
    export(text, (tok,), os.path.join(OUT, "text_encoder.onnx"), ["tokens"], ["text_embedding"],
           {"tokens": {0: "B"}, "text_embedding": {0: "B"}})
    export(image, (img,), os.path.join(OUT, "image_encoder.onnx"), ["image"], ["image_embedding"],
           {"image": {0: "B"}, "image_embedding": {0: "B"}})
    export(prior, (torch.nn.functional.normalize(torch.randn(B, 64), dim=-1),), os.path.join(OUT, "prior.onnx"),
           ["text_embedding"], ["image_embedding"], {"text_embedding": {0: "B"}, "image_embedding": {0: "B"}})

    if detail and has("decoder-detail"):  # the scale U-Net on 8 latent channels (session 7)
        unet = build(V, True, motion=True, scale=True, zc=zc)
        sd, how = load_ck("decoder-detail")
        unet.load_state_dict(sd)
        notes["decoder"] = "detail stage, " + how
    elif detail:
        unet = build(V, True, motion=True, scale=True, zc=zc)
        sd, how = load_ck("decoder-scale")
        unet.load_state_dict(widened_unet_state(sd, 4, zc - 4))
        notes["decoder"] = "scale stage widened (detail channels predicted as zero), " + how
    elif joint and has("decoder-joint"):  # decoder-stars fine-tuned on ae-joint's latents (session 10)
        unet = build(V, True, motion=True, scale=True)
        sd, how = load_ck("decoder-joint")
        unet.load_state_dict(sd)
        notes["decoder"] = "scale stage, stars and joint-latent fine-tunes, " + how
    elif has("decoder-scale"):  # + the words' scale in every TextWarp (session 5)
        unet = build(V, True, motion=True, scale=True)
        # session 8's star-weighted fine-tune of it (stage decoder-stars) when it exists; TW_STARS=0: the scale stage's
        stars = has("decoder-stars") and os.environ.get("TW_STARS", "1") == "1"
        sd, how = load_ck("decoder-stars" if stars else "decoder-scale")
        how = ("stars fine-tune, " if stars else "") + how
        unet.load_state_dict(sd)
        notes["decoder"] = "scale stage, " + how
    elif has("decoder-full"):  # the next recipe: the image U-Net trained straight into the scale U-Net (recipe v2, sessions 10-11; its folder has no decoder-scale)
        unet = build(V, True, motion=True, scale=True)
        sd, how = load_ck("decoder-full")
        unet.load_state_dict(sd)
        notes["decoder"] = "full stage, " + how
    elif has("decoder-motion"):  # the video U-Net + TextWarp layers (session 3)
        unet = build(V, True, motion=True)
        sd, how = load_ck("decoder-motion")
        unet.load_state_dict(sd)
        notes["decoder"] = "motion stage, " + how
    elif has("decoder-video"):
        unet = build(V, True)
        sd, notes["decoder"] = load_ck("decoder-video")
        unet.load_state_dict(sd)
        notes["decoder"] = "video stage, " + notes["decoder"]
    else:  # image stage only: inflate with identity temporal layers so the file already has its final interface
        unet = build(V, True)
        sd, how = load_ck("decoder-image")
        unet.load_state_dict(sd, strict=False)
        notes["decoder"] = "image stage only (temporal layers identity), " + how
    lat = torch.randn(B, zc, 8, 16, 16)
    mask = torch.zeros(B, 1, 8, 16, 16); mask[0, :, :2] = 1
    dec_args = (lat, torch.tensor([999.0, 10.0]), tok, torch.nn.functional.normalize(torch.randn(B, 64), dim=-1),
                lat * mask, mask)
    dec_names = ["latents", "timestep", "tokens", "image_embedding", "known", "mask"]
    dec_dyn = {n: ({0: "B", 3: "h", 4: "w"} if n in ("latents", "known", "mask", "v") else {0: "B"}) for n in dec_names + ["v"]}
    export(unet, dec_args, os.path.join(OUT, "decoder.onnx"), dec_names, ["v"], dec_dyn)
    # session 15: the refine node's own model, the decoder fine-tuned at 2x on 128-px renders (stage refiner), when
    # it exists (TW_REFINER=0: a pack without it, whose refine node redraws with the decoder itself)
    refiner_path = os.path.join(OUT, "refiner.onnx")
    refiner = has("refiner") and os.environ.get("TW_REFINER", "1") == "1" and not detail and not joint
    if refiner:
        refiner_unet = build(V, True, motion=True, scale=True)
        sd, notes["refiner"] = load_ck("refiner")
        refiner_unet.load_state_dict(sd)
        export(refiner_unet, dec_args, refiner_path, dec_names, ["v"], dec_dyn)
    elif os.path.exists(refiner_path):  # an earlier export's, which the manifest would no longer list
        os.remove(refiner_path)

    # the newest interpolator trained (v3 track + flow, v2 flow + blend, v1 blend), unless
    # TW_INTERP=1 or 2 asks for an older one
    versions = {"3": ("interp3", TrackInterpolator, "v3 track + flow"), "2": ("interp2", FlowInterpolator, "v2 flow"),
                "1": ("interp", Interpolator, "v1 blend")}
    found = [v for v in "321" if v <= newest and (
        os.path.exists(os.path.join(CKPT, f"{versions[v][0]}_final.pt")) or os.path.exists(os.path.join(CKPT, f"{versions[v][0]}.pt")))]
    if found:
        stage, cls, what = versions[found[0]]
        interp = cls()
        sd, how = load_ck(stage)
        interp.load_state_dict(sd)
        notes["interpolator"] = f"{what}, {how}"
    else:
        interp = Interpolator()
        notes["interpolator"] = "UNTRAINED"
    export(interp, (img, torch.rand(B, 3, 64, 64) * 2 - 1, torch.tensor([0.25, 0.75])),
           os.path.join(OUT, "interpolator.onnx"), ["frame_a", "frame_b", "t"], ["frame"],
           {"frame_a": {0: "B", 2: "H", 3: "W"}, "frame_b": {0: "B", 2: "H", 3: "W"}, "t": {0: "B"},
            "frame": {0: "B", 2: "H", 3: "W"}})

    video_text_entry = None
    if os.path.exists(os.path.join(CKPT, "vclip_final.pt")):  # the reranker (stage vclip), optional
        from models import VideoText
        video_text = VideoText(V)
        video_text.load_state_dict(torch.load(os.path.join(CKPT, "vclip_final.pt")))
        video_text_entry = export_video_text(video_text.eval(), OUT, export)

    spec = {
        "text-encoder": ("text_encoder.onnx", {"tokens": ("int64", ["B", 16])}, {"text_embedding": (f32, ["B", 64])}),
        "image-encoder": ("image_encoder.onnx", {"image": (f32, ["B", 3, 64, 64])}, {"image_embedding": (f32, ["B", 64])}),
        "prior": ("prior.onnx", {"text_embedding": (f32, ["B", 64])}, {"image_embedding": (f32, ["B", 64])}),
        "latent-encoder": ("latent_encoder.onnx", {"image": (f32, ["B", 3, "H", "W"])}, {"latents": (f32, ["B", zc, "h", "w"])}),
        "latent-decoder": ("latent_decoder.onnx", decoder_inputs, {"image": (f32, ["B", 3, "H", "W"])}),
        "decoder": ("decoder.onnx", {"latents": (f32, ["B", zc, 8, "h", "w"]), "timestep": (f32, ["B"]),
                                     "tokens": ("int64", ["B", 16]), "image_embedding": (f32, ["B", 64]),
                                     "known": (f32, ["B", zc, 8, "h", "w"]), "mask": (f32, ["B", 1, 8, "h", "w"])},
                    {"v": (f32, ["B", zc, 8, "h", "w"])}),
        "interpolator": ("interpolator.onnx", {"frame_a": (f32, ["B", 3, "H", "W"]), "frame_b": (f32, ["B", 3, "H", "W"]),
                                               "t": (f32, ["B"])}, {"frame": (f32, ["B", 3, "H", "W"])}),
    }
    if refiner:  # the same inputs and outputs as the decoder
        spec["refiner"] = ("refiner.onnx",) + spec["decoder"][1:]
    models = {}
    for role, (fname, ins, outs) in spec.items():
        p = os.path.join(OUT, fname)
        blob = open(p, "rb").read()
        models[role] = {"file": fname, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob),
                        "inputs": {k: {"dtype": d, "shape": s} for k, (d, s) in ins.items()},
                        "outputs": {k: {"dtype": d, "shape": s} for k, (d, s) in outs.items()}}
    if video_text_entry is not None:
        models["video-text"] = video_text_entry
    manifest = {
        "format": "studio-model-pack", "version": 1, "name": "tiny-world",
        "description": "A small Make-A-Video (CLIP-style text/image encoders, prior, latent pseudo-3D diffusion "
                       "decoder that also reads the prompt's tokens, frame interpolator, video-text reranker) trained from scratch "
                       "on the procedural tiny world (TINY_WORLD.md) on a 2-core CPU.",
        "licence": "LICENSE",
        "source": "models/tiny-world/train (npm run train:tiny), trained on data/tiny-world written by "
                  "models/tiny-world/world/write-dataset.ts",
        "models": models,
        "tokenizer": {"vocabulary": vocab, "maxTokens": 16},
        "embeddingSize": 64,
        "video": {"width": 64, "height": 64, "keyframes": 8, "latentChannels": zc, "latentWidth": 16,
                  "latentHeight": 16, "fps": 8, "interpolation": 4,
                  # the refine node redraws keyframes at `scale` x the resolution. The refiner was trained there with
                  # the size words; the decoder alone reads them as sizes in its latent cells, which means another
                  # size in a frame twice as large, so without a refiner they are left out (null; session 14:
                  # mapping small -> big measured worse)
                  "refine": {"scale": 2, "words": {} if refiner else {w: None for w in ("small", "big") if w in vocab}}},
        "schedule": {"trainSteps": 1000, "prediction": "v",
                     "alphasCumprod": [float(f"{a:.8g}") for a in cosine_alphas_cumprod()]},
    }
    json.dump(manifest, open(os.path.join(OUT, "manifest.json"), "w"), indent=1)
    lic = os.path.join(OUT, "LICENSE")
    open(lic, "w").write(MIT)
    total = sum(m["bytes"] for m in models.values())
    log(f"[export] wrote {len(models)} ONNX files, {total / 1e6:.1f} MB; sources: {notes}")
    log(f"[export] params: unet {nparams(unet)} text {nparams(text)} image {nparams(image)} prior {nparams(prior)} "
        f"ae {nparams(ae)} interp {nparams(interp)}")


MIT = """MIT License

Copyright (c) 2026 the tiny-make-a-video-studio authors

The weights in this folder were trained from scratch by this project on its own procedural
data set (models/tiny-world/train); no third-party weights or data are included.

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""

if __name__ == "__main__":
    main()
