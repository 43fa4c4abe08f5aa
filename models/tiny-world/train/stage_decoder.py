"""Stages `decoder-image`, `decoder-video` and `decoder-motion` (python stage_decoder.py image|video|motion).
image: the U-Net's spatial layers on single keyframe latents with static captions.
video: the same U-Net inflated to pseudo-3D (temporal conv after every ResBlock, temporal
attention at 8x8 and 4x4, a per-keyframe embedding; all zero-initialised so the inflated
net starts as the image net) on 8-keyframe latent clips with full captions, with masked
conditioning (known frames + mask) so it also animates a still and extends a video.
scale (session 5): the motion U-Net's TextWarp also zooms about the object's centre by a
scale its words give (a scale head on the pooled tokens, supervised with the true area
track; a locator per warp, supervised with keyframe 0's true centroid), zero-initialised,
trained from the motion stage's weights with growing, shrinking and still clips drawn twice
as often (the motions the motion stage could not express).
detail (session 7): the scale U-Net widened to the ae-detail stage's 8 latent channels (the 4
it knows + 4 detail channels that keep a small star's points; models.widened_unet_state:
zero weights on the new input and output channels, so it starts as the scale U-Net), trained
from decoder-scale's weights with the scale stage's recipe, stars drawn twice as often.
stars (session 8, shipped): the scale U-Net fine-tuned as it is (from decoder-scale's
weights, lr 1e-4, 25 min) with stars drawn 3x and small objects 2x as often on top of the scale
stage's draw: small stars are the pack's largest shape failure, lost when the U-Net generates
them (session 8, models/tiny-world/README.md).
joint (session 10, experimental, not shipped: no better through the product): decoder-stars fine-tuned the same way (its draw, lr 1e-4) on the latents of
the ae-joint stage's autoencoder (its encoder trained again so small stars keep their points,
pulled towards stage ae's latents so this U-Net only needs to adapt).
full (session 10, for the next from-scratch recipe): the image U-Net inflated straight into the
scale stage's U-Net (temporal layers, TextWarp with zoom and locator, motion and scale heads, all
zero-initialised as each stage's new parts are) and trained with the motion stage's masked
conditioning, the scale stage's losses and the stars stage's draw, in one stage instead of
video + motion + scale + stars (330 minutes in the shipped pack). Judged in session 11 (recipe v2, on the
scratch autoencoder's latents): after 120 minutes motion as the shipped U-Net's, shapes still blobs (10/60).
motion: the video U-Net plus TextWarp layers (models.py: keyframe k sees keyframe 0's
features moved by the displacement its words give, from a motion head on the pooled tokens
that is also supervised with the clips' true centroid tracks) and a words x keyframe FiLM
term, all zero-initialised, trained from the video stage's weights with the first keyframe
given half the time (the video stage alone learned to ignore motion words).
Conditioning during training: tokens, and an image embedding that is the CLIP embedding of
the clip's first frame or the prior's prediction from this caption (half each: the engine
feeds the prior's output, so the decoder must not depend on details only a real first frame
would carry); both dropped together 10% of the time (the guidance's unconditional branch),
each alone 5%."""
import os, sys
import numpy as np
import torch
import torch.nn.functional as F
from common import (Data, Run, save_whole, EMA, CKPT, LOGS, HERE, log, save_sheet, setup_threads, q_sample_v, min_snr_weight,
                    ddim_sample, encode_caption, rank, setup_data_parallel, average_gradients)
from models import UNet, AutoEncoder, ClipText, Prior, nparams, widened_unet_state, autoencoder_from
from stage_ae import load_latents

# TW_UNET_CH / TW_UNET_NRES: a wider U-Net for experiments (session 12); the shipped pack's is 32,64,128 x 1
UNET_CFG = dict(ch=tuple(int(c) for c in os.environ.get("TW_UNET_CH", "32,64,128").split(",")),
                nres=int(os.environ.get("TW_UNET_NRES", "1")), emb=256, text_c=128)
PROMPTS = ["a red star moving left on a white background", "a big blue heart growing on a black background",
           "a small yellow triangle moving up on a navy background", "a green diamond bouncing on a sand background",
           "a purple circle shrinking on a gray background", "an orange square standing still on a black background"]


def build(V, temporal, motion=False, scale=False, zc=4):
    return UNet(V, temporal=temporal, text_motion=motion, text_scale=scale, zc=zc, **UNET_CFG)


def object_tracks(lat):
    """From the latents themselves (where they differ most from the clip's background):
    displacement [N, 8, 2], the object's centroid in every keyframe minus keyframe 0's in
    latent pixels (x, y), the target of the motion head; log scale [N, 8], half the log of
    its area over keyframe 0's, the target of the scale head; and keyframe 0's centroid
    [N, 2] in grid_sample's normalised coordinates, the target of every TextWarp's locator."""
    yy, xx = np.mgrid[0:16, 0:16]
    shift = np.zeros((len(lat), 8, 2), np.float32)
    log_scale = np.zeros((len(lat), 8), np.float32)
    centre0 = np.zeros((len(lat), 2), np.float32)
    for s in range(0, len(lat), 500):
        L = lat[s:s + 500, :, :4].numpy()  # [n,8,4,16,16]: the first 4 channels (the detail ones are not the object's)
        bg = np.median(L.reshape(*L.shape[:3], -1), axis=3)[..., None, None]
        d = np.abs(L - bg).sum(2)  # [n,8,16,16]
        m = (d > 0.5 * d.max((2, 3), keepdims=True)).astype(np.float32)
        area = np.maximum(m.sum((2, 3)), 1)
        c = np.stack([(m * xx).sum((2, 3)) / area, (m * yy).sum((2, 3)) / area], -1)
        shift[s:s + 500] = c - c[:, :1]
        log_scale[s:s + 500] = 0.5 * np.log(area / area[:, :1])
        centre0[s:s + 500] = (c[:, 0] + 0.5) / 8 - 1
    return torch.from_numpy(shift), torch.from_numpy(log_scale), torch.from_numpy(centre0)


def motion_word_gain(model, lat, data, n=24, t0=700):
    """How much the motion words help the denoiser, on a fixed batch: v-MSE with the full
    caption vs the same caption without its motion words (1 - full/static; 0 = ignored).
    Measured with the first keyframe given, where the motion word alone says where the
    object goes next."""
    g = torch.Generator().manual_seed(7)
    ci = torch.randint(0, len(lat), (n,), generator=g).numpy()
    x0 = lat[ci].permute(0, 2, 1, 3, 4)
    mask = torch.zeros(n, 1, 8, 16, 16)
    mask[:, :, :1] = 1
    t = torch.full((n,), t0)
    xt, v = q_sample_v(x0, t, torch.randn(x0.shape, generator=g))
    e = torch.zeros(n, 64)
    out = []
    with torch.no_grad():
        for tok in (data.tok_full[ci, 0], data.tok_static[ci, 0]):
            p = model(xt, t.float(), torch.from_numpy(tok.astype(np.int64)), e, x0 * mask, mask)
            out.append(((p - v)[:, :4] ** 2).mean().item())  # the first 4 channels: comparable across stages
    return 1 - out[0] / out[1]


def main(mode):
    setup_threads()
    setup_data_parallel()
    detail = mode == "detail"
    stars = mode in ("stars", "joint", "full")
    joint = mode == "joint"
    full = mode == "full"
    scaled = mode in ("scale", "detail", "stars", "joint", "full")
    motion = mode in ("motion", "scale", "detail", "stars", "joint", "full")
    video = mode in ("video", "motion", "scale", "detail", "stars", "joint", "full")
    prefix = "joint" if joint else "latents"
    zc = 8 if detail else 4
    torch.manual_seed(2 if video else 3)  # the same initial weights in every process
    rng = np.random.default_rng((2 if video else 3) + 1000 * rank())  # different batches per process
    data = Data(in_ram=False)
    V = len(data.vocab)
    lat_box = [torch.from_numpy(load_latents(detail=detail, prefix=prefix).astype(np.float32))]  # [M,8,zc,16,16], grows while encoding runs
    log(f"[decoder] {len(lat_box[0])} clips encoded so far")
    emb = np.load(os.path.join(CKPT, "emb.npz"))
    img0 = torch.from_numpy(emb["img0"]).float()
    prior_out = torch.from_numpy(emb["prior_full" if video else "prior_static"].astype(np.float32))
    model = build(V, video, motion, scaled, zc)
    name = {"image": "decoder-image", "video": "decoder-video", "motion": "decoder-motion", "scale": "decoder-scale",
            "detail": "decoder-detail", "stars": "decoder-stars", "joint": "decoder-joint",
            "full": "decoder-full"}[mode]
    def grow_from(stage, what, new_lr_mult):
        """Loads the previous stage's weights; the tensors it lacks are this stage's new,
        zero-initialised layers. Returns the optimizer's parameter groups (old, new)."""
        missing, unexpected = model.load_state_dict(torch.load(os.path.join(CKPT, f"{stage}_final.pt")), strict=False)
        assert not unexpected, unexpected
        log(f"[{name}] from the {stage} stage; new {what} tensors: {len(missing)}")
        new = set(missing)
        return [{"params": [p for n, p in model.named_parameters() if n not in new], "lr_mult": 1.0},
                {"params": [p for n, p in model.named_parameters() if n in new], "lr_mult": new_lr_mult}]

    if motion:
        if detail:
            model.load_state_dict(widened_unet_state(torch.load(os.path.join(CKPT, "decoder-scale_final.pt")), 4, zc - 4))
            log(f"[{name}] from the decoder-scale stage, widened to {zc} latent channels")
            groups = [{"params": list(model.parameters()), "lr_mult": 1.0}]
        elif full:
            groups = grow_from("decoder-image", "temporal/TextWarp/heads", 1.0)
        elif stars:
            groups = grow_from("decoder-stars" if joint else "decoder-scale", "(none)", 1.0)
        elif scaled:
            groups = grow_from("decoder-motion", "scale head/locator", 2.0)
        else:
            groups = grow_from("decoder-video", "TextWarp/frame_cond/motion_head", 2.0)
        tracks, scale_tracks, centre0 = object_tracks(lat_box[0])
        log(f"[{name}] centroid tracks: mean |last - first| {tracks[:, -1].abs().mean(0).tolist()} latent px")
        kinds = [a["motion"] for a in data.meta["attributes"]][:len(lat_box[0])]
        for kind in ("growing", "shrinking", "still"):
            last = scale_tracks[[i for i, k in enumerate(kinds) if k == kind], -1]
            log(f"[{name}] {kind}: log scale at the last keyframe {last.mean():+.3f} (sd {last.std():.3f})")
        # the motions the motion stage missed are drawn twice as often here
        draw = np.array([2.0 if (scaled and k in ("growing", "shrinking", "still")) else 1.0 for k in kinds])
        if detail:  # what the detail channels are for
            draw *= np.array([2.0 if a["shape"] == "star" else 1.0 for a in data.meta["attributes"][:len(kinds)]])
        # TW_FOLD_STARS=1 (session 20; with decoder-video cut 49.2%, alone 83.3% against 86.7% in session 21): the scale stage draws as the stars stage
        # does, so the separate 16-21 minute stars fine-tune is not needed
        if stars or (scaled and os.environ.get("TW_FOLD_STARS") == "1"):
            draw *= np.array([(3.0 if a["shape"] == "star" else 1.0) * (2.0 if a["size"] == "small" else 1.0)
                              for a in data.meta["attributes"][:len(kinds)]])
        draw /= draw.sum()
        if not os.path.exists(os.path.join(CKPT, f"{name}.pt")):
            model.eval()
            log(f"[{name}] motion-word gain before this stage: {motion_word_gain(model, lat_box[0], data):+.4f}")
            model.train()
    elif video:
        groups = grow_from("decoder-image", "temporal", 1.0)
    else:
        groups = [{"params": list(model.parameters()), "lr_mult": 1.0}]
    log(f"[{name}] params {nparams(model)}")
    torch.manual_seed(100 + rank())  # different noise per process
    opt = torch.optim.AdamW(groups, lr=5e-4, weight_decay=0.0)
    ema = EMA(model, 0.998)
    minutes, lr = {"image": (25, 8e-4), "video": (165, 6e-4), "motion": (90, 3e-4), "scale": (50, 2e-4),
                   "detail": (60, 2e-4), "stars": (25, 1e-4), "joint": (35, 1e-4),
                   "full": (120, 6e-4)}[mode]
    run = Run(name, {"model": model}, opt, minutes=minutes, lr=lr, warmup=100, ema=ema, min_lr_frac=0.1)
    B = int(os.environ.get("TW_BATCH", 12 if video else 48))
    # for the sample sheets (an ae_final.pt trained whole from scratch, stage ae-scratch, has its full-resolution blocks)
    if detail:
        ae = AutoEncoder(sharp=True, detail=zc - 4)
        ae.load_state_dict(torch.load(os.path.join(CKPT, "ae_detail_final.pt")))
    else:
        ae = autoencoder_from(torch.load(os.path.join(CKPT, "ae_joint_final.pt" if joint else "ae_final.pt")))
    ae.eval()
    ck = torch.load(os.path.join(CKPT, "clip_final.pt"))
    clip_text, clip_prior = ClipText(V), Prior()
    clip_text.load_state_dict(ck["text"]); clip_prior.load_state_dict(ck["prior"])
    clip_text.eval(); clip_prior.eval()

    def cond_embedding(ci, vi):
        r = rng.random(len(ci))
        return torch.where(torch.from_numpy(r < 0.5)[:, None], img0[ci], prior_out[ci, vi])

    def step(i):
        lat = lat_box[0]
        ci = rng.choice(len(draw), B, p=draw) if motion else rng.integers(0, len(lat), B)
        vi = rng.integers(0, data.k, B)
        tok = torch.from_numpy((data.tok_full if video else data.tok_static)[ci, vi].astype(np.int64))
        # Classifier-free guidance's unconditional branch is (no tokens, zero embedding): drop
        # both together 10% of the time, and each alone 5% (session 1 dropped each alone 10%,
        # so the unconditional branch saw 1% of the batches).
        r = rng.random(B)
        drop_both = r < 0.1
        keep_tokens = torch.from_numpy(~(drop_both | ((r >= 0.1) & (r < 0.15)))).long()[:, None]
        keep_embedding = torch.from_numpy(~(drop_both | ((r >= 0.15) & (r < 0.2)))).float()[:, None]
        tok = tok * keep_tokens
        e = cond_embedding(ci, vi) * keep_embedding
        if video:
            x0 = lat[ci].permute(0, 2, 1, 3, 4)  # [B,zc,8,16,16]
            mask = torch.zeros(B, 1, 8, 16, 16)
            r = rng.random(B)
            # the motion stage gives the first keyframe more often: then the motion word is
            # the only thing that says where the object goes, a strong signal to learn from
            none, first = (0.5, 0.8) if motion else (0.7, 0.85)
            for b in range(B):
                if r[b] >= first:
                    mask[b, :, :rng.integers(2, 5)] = 1
                elif r[b] >= none:
                    mask[b, :, :1] = 1
            known = x0 * mask
        else:
            x0 = lat[ci, rng.integers(0, 8, B)][:, :, None]  # [B,zc,1,16,16]
            mask = torch.zeros(B, 1, 1, 16, 16)
            known = torch.zeros_like(x0)
        t = torch.from_numpy(rng.integers(0, 1000, B))
        noise = torch.randn_like(x0)
        xt, v = q_sample_v(x0, t, noise)
        pred = model(xt, t.float(), tok, e, known, mask)
        # min-SNR weighting gives the noisiest steps almost no weight (0.05 at t=850), and
        # those are where the layout of the clip, and so its motion, is decided: the motion
        # stage adds 0.1 to every step's weight
        w = min_snr_weight(t) + (0.1 if motion else 0.0)
        loss = ((pred - v) ** 2).mean((1, 2, 3, 4))
        lw = (loss * w).mean()
        logs = {}
        if motion:  # the words' displacements, supervised by the true centroid track (captions that were kept)
            displacement, log_scale = model.motion(model.text(tok))
            err = F.smooth_l1_loss(displacement, tracks[ci], reduction="none").mean((1, 2))
            kept = keep_tokens[:, 0].float()
            aux = (err * kept).sum() / kept.sum().clamp(min=1)
            lw = lw + 0.01 * aux
            logs["disp"] = aux.item()
            if scaled:  # the words' sizes, and where each warp thinks keyframe 0's object is
                serr = ((log_scale - scale_tracks[ci]) ** 2).mean(1)
                scale_aux = (serr * kept).sum() / kept.sum().clamp(min=1)
                centre_aux = torch.stack([F.smooth_l1_loss(8 * c, 8 * centre0[ci]) for c in model.centres()]).mean()
                lw = lw + scale_aux + 0.01 * centre_aux
                logs["scale"] = scale_aux.item()
                logs["centre"] = centre_aux.item()
        opt.zero_grad(set_to_none=True)
        lw.backward()
        average_gradients(model.parameters())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return {"loss": lw.item(), "mse": loss.mean().item(), **logs}

    def ema_model():
        m = build(V, video, motion, scaled, zc)
        m.load_state_dict(ema.shadow)
        return m.eval()

    def samples(stepno):
        m = ema_model()
        tok = torch.tensor([encode_caption(p, data.vocab) for p in PROMPTS])
        with torch.no_grad():  # as the engine does: prompt -> text encoder -> prior
            e = clip_prior(clip_text(tok))
        frames = 8 if video else 1
        z = ddim_sample(m, tok, e, torch.zeros(len(PROMPTS), zc, frames, 16, 16),
                        torch.zeros(len(PROMPTS), 1, frames, 16, 16), steps=20, guidance=3.0, frames=frames, seed=stepno)
        with torch.no_grad():
            px = ae.decode(z.permute(0, 2, 1, 3, 4).reshape(-1, zc, 16, 16)).reshape(len(PROMPTS), frames, 3, 64, 64)
        if not video:  # show 6 seeds side by side for the image stage
            z2 = ddim_sample(m, tok.repeat(3, 1), e.repeat(3, 1), torch.zeros(18, zc, 1, 16, 16),
                             torch.zeros(18, 1, 1, 16, 16), steps=20, guidance=3.0, frames=1, seed=stepno + 1)
            with torch.no_grad():
                px2 = ae.decode(z2[:, :, 0]).reshape(3, len(PROMPTS), 3, 64, 64).permute(1, 0, 2, 3, 4)
            px = torch.cat([px, px2], 1)
        sheet = os.path.join(LOGS, f"{name}_samples.png")
        save_sheet(sheet, [list(r) for r in px], scale=2)
        shown = os.path.relpath(sheet, HERE)  # train/-relative in logs that get committed, absolute outside it
        log(f"[{name}] samples at step {stepno} -> {sheet if shown.startswith('..') else shown} (rows: {PROMPTS})")

    if not run.done():
        n_ck = [0]

        def on_ck(s):
            if len(lat_box[0]) < data.n:
                lat_box[0] = torch.from_numpy(load_latents(detail=detail, prefix=prefix).astype(np.float32))
                log(f"[{name}] now {len(lat_box[0])} clips encoded")
            n_ck[0] += 1
            if video:
                m = ema_model()
                gains = " ".join(f"t={t0}: {motion_word_gain(m, lat_box[0], data, t0=t0):+.4f}" for t0 in (700, 900))
                log(f"[{name}] motion-word gain (1 - mse full/static caption, first keyframe given) {gains}")
                if scaled:
                    tok = torch.tensor([encode_caption(p, data.vocab) for p in PROMPTS])
                    with torch.no_grad():
                        last = m.motion(m.text(tok))[1][:, -1].exp().tolist()
                    log(f"[{name}] size at the last keyframe / first, by prompt: " +
                        ", ".join(f"{p.split(' on ')[0]}: {x:.2f}" for p, x in zip(PROMPTS, last)))
            if n_ck[0] % 3 == 0:
                samples(s)
        run.loop(step, log_every=25, on_checkpoint=on_ck)
    if rank() == 0:
        save_whole(ema.shadow, os.path.join(CKPT, f"{name}_final.pt"))
        samples(run.step)


if __name__ == "__main__":
    main(sys.argv[1])
