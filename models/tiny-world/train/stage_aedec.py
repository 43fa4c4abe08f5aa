"""Stage `ae-dec`: keeps training the latent decoder alone on the frozen encoder's keyframe
latents (the ones the diffusion decoder learns), so reconstructions get crisper without
changing the latent space the diffusion stages already use. Latent noise makes it map
the diffusion model's slightly-off latents to clean flat shapes.

Stage `ae-sharp` (`stage_aedec.py sharp`): the same, from ae-dec's decoder, with the
full-resolution blocks AutoEncoder(sharp=True) adds, on whole frames (trained on crops, the
blocks drew a rim along the frame's edges, which the judge took for a square object), and
object outlines weighted more in the loss (a star's points are a few outline pixels).
Writes ae_sharp_final.pt (flat, keys "dec.*" and "sharp.*"); export.py prefers it.

Stage `ae-detail` (`stage_aedec.py detail`): the sharp autoencoder plus 4 latent channels from
an encoder of their own (models.widened_autoencoder), trained with the decoder on whole
frames with ae-sharp's loss, stars and small objects drawn 2x as often each. ae-sharp could
not bring back a small star's points from the 4 channels (more training left the same 7 of
40 small stars round): they are not in the latent. The first 4 channels stay the ones the
diffusion stages know; the new ones are scaled to unit std like them. Writes
ae_detail_final.pt (the whole AutoEncoder) and the detail channels of every keyframe,
detail_XXXXX.npy (chunks of [500, 8, 4, 16, 16] float16), beside latents_XXXXX.npy.

Stage `ae-predict` (`stage_aedec.py predict`, after ae-detail): a DetailPredictor that gives
ae-detail's decoder the 4 channels it needs from the 4 the diffusion decoder makes and the
prompt's text embedding (corrected latents + predicted detail channels), so the diffusion stages
stay as they are and the pack's latent decoder reads (latents, text embedding). ae-detail frozen.
Half of every batch is the clean keyframe latents with noise 0-0.2, half a bank of the same
clips' latents remade by the shipped diffusion decoder (SDEdit from t 300-700, `diffusion_bank`):
it draws small stars as lumpy blobs, which the predictor must learn to read with the words' help.
Loss: ae-sharp's pixel loss through ae-detail's decoder + 0.5 MSE to the detail encoder's codes
+ 0.05 MSE of the corrected latents to the true ones; one of the clip's captions per frame, zeroed
15% of the time; stars and small objects drawn 2x as often each. Writes ae_predict_final.pt.
Stage `ae-joint` (`stage_aedec.py joint`, session 10, experimental, not shipped): the sharp autoencoder trained whole, its
encoder too, pulled towards stage ae's latents so the diffusion stages need only a fine-tune
(stage decoder-joint); see main_joint.
(Session 8 first tried the cheaper `ae-text`: ae-sharp's decoder reading the text as a
scale/shift at three resolutions, 25 min: small stars stayed round, pipeline ceiling 82.5% as
before; removed.)"""
import os, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from common import Data, Run, save_whole, EMA, CKPT, LOGS, KEYFRAMES, log, save_sheet, setup_threads, ddim_sample, q_sample_v
from models import AutoEncoder, ClipText, DetailPredictor, PredictedDetailDecoder, autoencoder_from, widened_autoencoder
from stage_ae import load_latents, encode_keyframes
from stage_clip import embed_captions


def outline(o):
    """object mask [B,1,H,W] -> its inner and outer boundary pixels (dilation minus erosion)"""
    return F.max_pool2d(o, 3, 1, 1) - (-F.max_pool2d(-o, 3, 1, 1))


def object_mask(x):
    """frames [B,3,H,W] -> [B,1,H,W], 1 where a pixel differs from the top-left (background) one"""
    return ((x - x[:, :, :1, :1]).abs().sum(1, keepdim=True) > 0.1).float()


def sharp_loss(y, x):
    """ae-sharp's L1: object pixels x5, the outline 8 more (a star's points are a few outline pixels)"""
    o = object_mask(x)
    return ((y - x).abs() * (1 + 4 * o + 8 * outline(o))).mean()


def stage_start(seed):
    """threads, seeds, the data set (memory-mapped) and the keyframe indices: (rng, data, keyframes)"""
    setup_threads()
    torch.manual_seed(seed)
    return np.random.default_rng(seed), Data(in_ram=False), np.array(KEYFRAMES)


def star_and_small_draw(attrs):
    """clip sampling probabilities with stars and small objects drawn 2x as often each"""
    draw = np.array([(2.0 if a["shape"] == "star" else 1.0) * (2.0 if a["size"] == "small" else 1.0) for a in attrs])
    return draw / draw.sum()


DETAIL = 4  # latent channels the detail encoder adds
# the largest latent noise (std) the decoder sees on the detail channels while ae-detail trains; larger makes the
# codes smoother (easier for a diffusion model to generate) at some cost in detail
DETAIL_NOISE = float(os.environ.get("TW_DETAIL_NOISE", "0.15"))


def main():
    mode = (sys.argv[1:] or ["dec"])[0]
    if mode == "detail":
        return main_detail()
    if mode == "predict":
        return main_predict()
    if mode == "joint":
        return main_joint()
    sharp = mode == "sharp"
    name = "ae-sharp" if sharp else "ae-dec"
    setup_threads()
    torch.manual_seed(8 if sharp else 5)
    rng = np.random.default_rng(8 if sharp else 5)
    data = Data(in_ram=False)
    ae = autoencoder_from(torch.load(os.path.join(CKPT, "ae_final.pt")),
                          torch.load(os.path.join(CKPT, "ae_decoder_final.pt")) if sharp else None, sharp=sharp)
    # what this stage trains; the ModuleDict's keys make the saved weights' keys the AutoEncoder's own
    trained = nn.ModuleDict({"dec": ae.dec, "sharp": ae.sharp}) if sharp else ae.dec
    lr = 3e-4 if sharp else 5e-4
    opt = torch.optim.AdamW(trained.parameters(), lr=lr, weight_decay=0.0)
    ema = EMA(trained, 0.995)
    run = Run(name, {"model": trained}, opt, minutes=35 if sharp else 45, lr=lr, warmup=50, ema=ema)
    lat = [torch.from_numpy(load_latents().astype(np.float32))]
    kf = np.array(KEYFRAMES)
    B = 16 if sharp else 24  # whole frames are ~1.8x the work of the 48x48 windows

    def step(i):
        if i % 200 == 0 and len(lat[0]) < data.n:
            lat[0] = torch.from_numpy(load_latents().astype(np.float32))
        ci = rng.integers(0, len(lat[0]), B)
        ki = rng.integers(0, 8, B)
        z = lat[0][ci, ki]  # [B,4,16,16] unit-std
        x = data.frames(ci, kf[ki])
        sigma = torch.from_numpy(rng.random(B) * 0.15).float()[:, None, None, None]
        if sharp:  # whole frames: the full-resolution blocks must also learn the frame's edges
            y = ae.decode(z + sigma * torch.randn_like(z))
        else:
            # 12x12 latent windows (48x48 px) near the object, loss on the central 32x32
            obj = ((x - x[:, :, :1, :1]).abs().sum(1) > 0.1)
            zs, xs = [], []
            for b in range(B):
                ys, xs_ = torch.nonzero(obj[b], as_tuple=True)
                if len(ys) and rng.random() < 0.8:
                    cy, cx = int(ys.float().mean()) // 4, int(xs_.float().mean()) // 4
                    cy += int(rng.integers(-2, 3)); cx += int(rng.integers(-2, 3))
                else:
                    cy, cx = int(rng.integers(6, 11)), int(rng.integers(6, 11))
                y0, x0 = min(max(cy - 6, 0), 4), min(max(cx - 6, 0), 4)
                zs.append(z[b, :, y0:y0 + 12, x0:x0 + 12]); xs.append(x[b, :, y0 * 4:y0 * 4 + 48, x0 * 4:x0 * 4 + 48])
            z, x = torch.stack(zs), torch.stack(xs)
            y = ae.decode(z + sigma * torch.randn_like(z))[:, :, 8:40, 8:40]
            x = x[:, :, 8:40, 8:40]
        loss = sharp_loss(y, x) if sharp else ((y - x).abs() * (1 + 4 * object_mask(x))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"l1w": loss.item(), "l1": (y - x).abs().mean().item()}

    stars = [j for j, at in enumerate(data.meta["attributes"]) if at["shape"] == "star"]

    def sheet(_=None):
        m = autoencoder_from(ae.state_dict(), None if sharp else ema.shadow, ema.shadow if sharp else None)
        m.eval()
        with torch.no_grad():
            spread = list(np.arange(12) * 37 % len(lat[0]))
            ci = np.array(([s for s in stars if s < len(lat[0])][:6] + spread[:6]) if sharp else spread)
            x = data.frames(ci, np.full(12, 12))
            y = m.decode(lat[0][ci, 3])
            y2 = m.decode(lat[0][ci, 3] + 0.15 * torch.randn_like(lat[0][ci, 3]))
        save_sheet(os.path.join(LOGS, f"{name.replace('-', '_')}_recon.png"), [list(x), list(y), list(y2)], scale=3)

    if not run.done():
        run.loop(step, log_every=50, on_checkpoint=sheet)
    save_whole(ema.shadow, os.path.join(CKPT, "ae_sharp_final.pt" if sharp else "ae_decoder_final.pt"))
    sheet()
    log(f"[{name}] done (logs/{name.replace('-', '_')}_recon.png rows: truth, decoded, decoded with latent noise 0.15"
        + ("; the first 6 columns are stars)" if sharp else ")"))


def sharp_autoencoder():
    """the shipped latent autoencoder: stage ae's encoder, ae-dec's decoder with ae-sharp's blocks"""
    return autoencoder_from(torch.load(os.path.join(CKPT, "ae_final.pt")),
                            torch.load(os.path.join(CKPT, "ae_decoder_final.pt")),
                            torch.load(os.path.join(CKPT, "ae_sharp_final.pt")))


def detail_autoencoder():
    return widened_autoencoder(sharp_autoencoder(), DETAIL)


def main_detail():
    name = "ae-detail"
    rng, data, kf = stage_start(9)
    final = os.path.join(CKPT, "ae_detail_final.pt")
    if os.path.exists(final):  # trained, or recovered from the pack: only the encoding below may be left
        ae = AutoEncoder(sharp=True, detail=DETAIL)
        state = torch.load(final)
        if not any(k.startswith("detail.") for k in state):
            sys.exit(f"[{name}] {final} has no detail encoder (recovered from a pack whose latent decoder predicts the "
                     "detail channels?): move it away to train the stage again")
        ae.load_state_dict(state)
        ae.eval()
    else:
        ae = train_detail(name, data, rng, kf)
        save_whole(ae.state_dict(), final)
    zc = ae.channels - DETAIL
    with torch.no_grad():
        encode_keyframes(data, "detail", DETAIL, lambda x: ae.encode(x)[:, zc:], name)
        x = data.frames(np.repeat(np.arange(8), 8), np.tile(kf, 8))
        z = torch.from_numpy(load_latents(detail=True)[:8].astype(np.float32)).reshape(-1, zc + DETAIL, 16, 16)
        log(f"[{name}] keyframe latents written; recon L1 {float((ae.decode(z) - x).abs().mean()):.4f}")
    log(f"[{name}] done (logs/ae_detail_recon.png rows: truth, decoded, decoded with latent noise 0.15; "
        "the first 6 columns are small stars)")


def train_detail(name, data, rng, kf):
    ae = detail_autoencoder()
    for p in ae.enc.parameters():  # the channels the diffusion stages were trained on stay as they are
        p.requires_grad_(False)
    trained = nn.ModuleDict({"detail": ae.detail, "dec": ae.dec, "sharp": ae.sharp})
    # the new encoder and the decoder's first convolution (which holds the new channels' zero-initialised
    # weights, the only way into the encoder) learn at lr; the rest of the trained decoder at a fifth of it
    lr = 5e-4
    opt = torch.optim.AdamW([{"params": list(ae.detail.parameters()) + list(ae.dec[0].parameters()), "lr_mult": 1.0},
                             {"params": list(ae.dec[1:].parameters()) + list(ae.sharp.parameters()), "lr_mult": 0.2}],
                            lr=lr, weight_decay=0.0)
    ema = EMA(trained, 0.995)
    run = Run(name, {"model": trained}, opt, minutes=25, lr=lr, warmup=50, ema=ema)
    lat = torch.from_numpy(load_latents().astype(np.float32))
    attrs = data.meta["attributes"][:len(lat)]
    draw = star_and_small_draw(attrs)
    B = 16
    zc = ae.channels - DETAIL

    def step(i):
        ci = rng.choice(len(draw), B, p=draw)
        ki = rng.integers(0, 8, B)
        x = data.frames(ci, kf[ki])
        d = ae.detail(x)  # in [-1, 1]
        u = torch.from_numpy(rng.random(B)).float()[:, None, None, None]  # how noisy this frame's latent is
        z = lat[ci, ki] + 0.15 * u * torch.randn(B, zc, 16, 16)
        raw = torch.cat([z * ae.z_std[:, :zc] + ae.z_mean[:, :zc], d + DETAIL_NOISE * u * torch.randn_like(d)], 1)
        y = ae.decode_raw(raw)
        rec = sharp_loss(y, x)
        opt.zero_grad(set_to_none=True)
        rec.backward()
        opt.step()
        return {"l1w": rec.item(), "l1": (y - x).abs().mean().item(), "spread": d.detach().std((0, 2, 3)).mean().item()}

    stars = [j for j, at in enumerate(attrs) if at["shape"] == "star" and at["size"] == "small"]

    def current():
        m = detail_autoencoder()
        m.load_state_dict({**m.state_dict(), **ema.shadow})
        return m.eval()

    def sheet(_=None):
        m = current()
        with torch.no_grad():
            ci = np.array(stars[:6] + list(np.arange(6) * 37 % len(lat)))
            x = data.frames(ci, np.full(12, 12))
            z = m.encode(x)
            y = m.decode(z)
            y2 = m.decode(z + 0.15 * torch.randn_like(z))
        save_sheet(os.path.join(LOGS, "ae_detail_recon.png"), [list(x), list(y), list(y2)], scale=3)

    if not run.done():
        run.loop(step, log_every=50, on_checkpoint=sheet)
    ae = current()
    with torch.no_grad():  # the detail channels' statistics -> unit std, as stage ae did for the first 4
        ci = rng.integers(0, data.n, 2048)
        d = torch.cat([ae.detail(data.frames(ci[j:j + 256], kf[rng.integers(0, 8, 256)])) for j in range(0, 2048, 256)])
        ae.z_mean[:, zc:] = d.mean((0, 2, 3), keepdim=True)
        ae.z_std[:, zc:] = d.std((0, 2, 3), keepdim=True)
    log(f"[{name}] detail channels: mean {ae.z_mean[0, zc:, 0, 0].tolist()} std {ae.z_std[0, zc:, 0, 0].tolist()}")
    sheet()
    return ae


JOINT_ANCHOR = float(os.environ.get("TW_JOINT_ANCHOR", "0.1"))  # weight of the pull towards stage ae's latents


def main_joint():
    """Stage `ae-joint`: the encoder trained again, with the decoder. Every decoder-only stage
    (ae-dec, ae-sharp, ae-text, ae-gan) left small stars round because stage ae's encoder, 12
    minutes on crops, does not put their points in the latent; ae-detail's extra encoder did.
    Here the sharp autoencoder is trained whole, on whole frames with ae-sharp's loss and
    latent noise, stars and small objects 2x as often each, and pulled towards stage ae's
    latents (MSE x TW_JOINT_ANCHOR in the unit-std space) so the diffusion decoder trained on
    those still fits the new ones and only needs a fine-tune (stage decoder-joint). The
    latent statistics stay stage ae's. Writes ae_joint_final.pt (the whole AutoEncoder) and
    every keyframe's new latents, joint_XXXXX.npy.
    TW_JOINT_SCRATCH=1: the same training from random weights, no pull, 35 minutes, then the
    latent statistics baked in as stage ae does: whether one stage can replace ae + ae-dec +
    ae-sharp (92 minutes) in a from-scratch recipe. It is a stage of its own, `ae-scratch`
    (ae-scratch.pt, ae_scratch_final.pt, scratch_XXXXX.npy, logs/ae_scratch_recon.png), so it
    never resumes or skips on ae-joint's files; its latents are a new space, for a new
    checkpoint folder's diffusion stages (there: ae_final.pt and latents_XXXXX.npy)."""
    scratch = os.environ.get("TW_JOINT_SCRATCH") == "1"
    name, prefix = ("ae-scratch", "scratch") if scratch else ("ae-joint", "joint")
    rng, data, kf = stage_start(12)
    final = os.path.join(CKPT, f"ae_{prefix}_final.pt")
    sheet_path = os.path.join(LOGS, f"ae_{prefix}_recon.png")
    if os.path.exists(final):
        ae = AutoEncoder(sharp=True)
        ae.load_state_dict(torch.load(final))
    else:
        ae = AutoEncoder(sharp=True) if scratch else sharp_autoencoder()
        # the shipped autoencoder: the pull's target, and what the sheet and the log compare with (from scratch in an
        # empty checkpoint folder there is none)
        has_shipped = all(os.path.exists(os.path.join(CKPT, f)) for f in ("ae_final.pt", "ae_decoder_final.pt", "ae_sharp_final.pt"))
        if not (scratch or has_shipped):
            sys.exit(f"[{name}] needs the shipped autoencoder's checkpoints (ae, ae-dec, ae-sharp) in {CKPT}")
        shipped = sharp_autoencoder().eval() if has_shipped else None
        for p in (shipped.parameters() if shipped else []):
            p.requires_grad_(False)
        lr = 1e-3 if scratch else 4e-4
        opt = torch.optim.AdamW([{"params": list(ae.enc.parameters()), "lr_mult": 1.0},
                                 {"params": list(ae.dec.parameters()) + list(ae.sharp.parameters()),
                                  "lr_mult": 1.0 if scratch else 0.5}], lr=lr, weight_decay=0.0)
        trained = nn.ModuleDict({"enc": ae.enc, "dec": ae.dec, "sharp": ae.sharp})
        ema = EMA(trained, 0.995)
        run = Run(name, {"model": trained}, opt, minutes=35 if scratch else 25, lr=lr, warmup=100 if scratch else 50,
                  ema=ema, min_lr_frac=0.05 if scratch else 0.1)
        attrs = data.meta["attributes"]
        draw = star_and_small_draw(attrs)
        B = 16

        def step(i):
            ci = rng.choice(len(draw), B, p=draw)
            x = data.frames(ci, kf[rng.integers(0, 8, B)])
            z = ae.encode(x)
            sigma = torch.from_numpy(rng.random(B) * 0.15).float()[:, None, None, None]
            y = ae.decode(z + sigma * torch.randn_like(z))
            rec = sharp_loss(y, x)
            if scratch:  # stage ae's small L2 instead of the pull, so the codes cannot outgrow the latent noise
                loss, logs = rec + 1e-4 * z.pow(2).mean(), {}
            else:
                with torch.no_grad():
                    z0 = shipped.encode(x)
                drift = F.mse_loss(z, z0)
                loss, logs = rec + JOINT_ANCHOR * drift, {"drift": drift.item()}
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"l1w": rec.item(), "l1": (y - x).abs().mean().item(), **logs}

        small_stars = [j for j, at in enumerate(attrs) if at["shape"] == "star" and at["size"] == "small"]

        def current():
            m = AutoEncoder(sharp=True)
            m.load_state_dict({**ae.state_dict(), **ema.shadow})
            return m.eval()

        def sheet(_=None):
            m = current()
            with torch.no_grad():
                probe = np.array(small_stars[-64:])
                xs = data.frames(probe, kf[probe % 8])
                log(f"[{name}] small stars, weighted L1: now {float(sharp_loss(m.decode(m.encode(xs)), xs)):.4f}" + (
                    f", shipped autoencoder {float(sharp_loss(shipped.decode(shipped.encode(xs)), xs)):.4f}; "
                    f"latent drift (MSE to stage ae's) {float(F.mse_loss(m.encode(xs), shipped.encode(xs))):.4f}"
                    if shipped else ""))
                ci = np.array(small_stars[:6] + list(np.arange(6) * 37 % data.n))
                x = data.frames(ci, np.full(12, 12))
                rows = [x, m.decode(m.encode(x))] + ([shipped.decode(shipped.encode(x))] if shipped else [])
            save_sheet(sheet_path, [list(r) for r in rows], scale=3)

        if not run.done():
            run.loop(step, log_every=50, on_checkpoint=sheet)
        sheet()
        ae = current()
        if scratch:  # latent statistics -> unit std, as stage ae does
            with torch.no_grad():
                ci = rng.integers(0, data.n, 2048)
                z = torch.cat([ae.encode_raw(data.frames(ci[j:j + 256], kf[rng.integers(0, 8, 256)])) for j in range(0, 2048, 256)])
                ae.z_mean.copy_(z.mean((0, 2, 3), keepdim=True))
                ae.z_std.copy_(z.std((0, 2, 3), keepdim=True))
            log(f"[{name}] latent mean {ae.z_mean.flatten().tolist()} std {ae.z_std.flatten().tolist()}")
        save_whole(ae.state_dict(), final)
    ae.eval()
    with torch.no_grad():
        encode_keyframes(data, prefix, 4, ae.encode, name)
    log(f"[{name}] done (logs/{os.path.basename(sheet_path)} rows: truth, this autoencoder, the shipped one when its "
        "checkpoints are there; the first 6 columns are small stars)")


def caption_embeddings(data):
    """CLIP text embeddings of every clip's full and static captions: two [N, K, 64] tensors"""
    text = ClipText(len(data.vocab))
    text.load_state_dict(torch.load(os.path.join(CKPT, "clip_final.pt"))["text"])
    text.eval()
    return embed_captions(text, data.tok_full), embed_captions(text, data.tok_static)


def random_caption_embeddings(temb_full, temb_static, ci, rng, drop=0.15):
    """for each clip in ci one of its captions' text embeddings, full or static (half each),
    zeroed with probability `drop` (decoding without text must keep working)"""
    vi = rng.integers(0, temb_full.shape[1], len(ci))
    e = torch.where(torch.from_numpy(rng.random(len(ci)) < 0.5)[:, None], temb_full[ci, vi], temb_static[ci, vi])
    return e * torch.from_numpy(rng.random(len(ci)) >= drop).float()[:, None]


def diffusion_bank(data, lat, draw, rng, n):
    """n clips (drawn by `draw`) as the shipped diffusion decoder makes them but in the clip's own
    layout (SDEdit): the clip's latents noised to t in [300, 700] and denoised in steps of ~50 as the
    engine does (guidance 3, one of the clip's full captions and the prior's embedding for it).
    Cached in checkpoints/sdedit_bank.npz: clip ids [n] and latents [n, 8, 4, 16, 16] float16."""
    path = os.path.join(CKPT, "sdedit_bank.npz")
    if os.path.exists(path):
        bank = np.load(path)
        if len(bank["clips"]) != n:
            log(f"[ae-predict] using the cached bank of {len(bank['clips'])} clips ({path}), not {n}: delete it to remake it")
        return bank["clips"], torch.from_numpy(bank["latents"].astype(np.float32))
    from stage_decoder import build
    unet = build(len(data.vocab), True, motion=True, scale=True)
    unet.load_state_dict(torch.load(os.path.join(CKPT, "decoder-scale_final.pt")))
    unet.eval()
    prior = np.load(os.path.join(CKPT, "emb.npz"))["prior_full"]
    clips = rng.choice(len(draw), n, p=draw)
    out = np.zeros((n, 8, lat.shape[2], 16, 16), np.float16)
    for j in range(0, n, 12):
        ci = clips[j:j + 12]
        vi = rng.integers(0, data.k, len(ci))
        x0 = lat[ci].permute(0, 2, 1, 3, 4)  # [n, C, 8, 16, 16]
        t = int(rng.integers(300, 701))
        xt, _ = q_sample_v(x0, torch.full((len(ci),), t, dtype=torch.long), torch.randn_like(x0))
        z = ddim_sample(unet, torch.from_numpy(data.tok_full[ci, vi].astype(np.int64)),
                        torch.from_numpy(prior[ci, vi].astype(np.float32)), torch.zeros_like(x0),
                        torch.zeros(len(ci), 1, 8, 16, 16), steps=t // 50 + 1, seed=j, start=xt, start_t=t)
        out[j:j + len(ci)] = z.permute(0, 2, 1, 3, 4).numpy().astype(np.float16)
        if j % 120 == 0:
            log(f"[ae-predict] diffusion bank {j + len(ci)}/{n} clips")
    np.savez(path + ".tmp.npz", clips=clips, latents=out)
    os.replace(path + ".tmp.npz", path)
    return clips, torch.from_numpy(out.astype(np.float32))


def main_predict():
    name = "ae-predict"
    rng, data, kf = stage_start(11)
    ae = AutoEncoder(sharp=True, detail=DETAIL)
    state = torch.load(os.path.join(CKPT, "ae_detail_final.pt"))
    if not any(k.startswith("detail.") for k in state):
        sys.exit("[ae-predict] ae_detail_final.pt has no detail encoder (recovered from a pack?): run stage ae-detail "
                 "first, its codes are this stage's targets")
    ae.load_state_dict(state)
    ae.eval()
    for p in ae.parameters():
        p.requires_grad_(False)
    zc = ae.channels - DETAIL
    predictor = DetailPredictor(zc, DETAIL)
    lr = 1e-3
    opt = torch.optim.AdamW(predictor.parameters(), lr=lr, weight_decay=0.0)
    ema = EMA(predictor, 0.995)
    run = Run(name, {"model": predictor}, opt, minutes=15, lr=lr, warmup=50, ema=ema)
    lat = torch.from_numpy(load_latents().astype(np.float32))
    temb_full, temb_static = caption_embeddings(data)
    draw = star_and_small_draw(data.meta["attributes"][:len(lat)])
    bank_clips, bank = diffusion_bank(data, lat, draw, rng, int(os.environ.get("TW_BANK_CLIPS", "600")))
    B = 16
    H = B // 2  # half of every batch from the diffusion bank, half the clean latents with noise

    def step(i):
        bi, ki = rng.integers(0, len(bank), H), rng.integers(0, 8, B)
        ci = np.concatenate([bank_clips[bi], rng.choice(len(draw), B - H, p=draw)])
        x = data.frames(ci, kf[ki])
        truth = lat[ci, ki]
        clean = truth[H:] + torch.from_numpy(rng.random(B - H) * 0.2).float()[:, None, None, None] * torch.randn_like(truth[H:])
        z = torch.cat([bank[bi, ki[:H]], clean])
        with torch.no_grad():
            target = ae.detail(x)
        fixed, d = predictor(z, random_caption_embeddings(temb_full, temb_static, ci, rng))
        y = ae.decode_raw(torch.cat([fixed * ae.z_std[:, :zc] + ae.z_mean[:, :zc], d], 1))
        pixels, codes, base = sharp_loss(y, x), F.mse_loss(d, target), F.mse_loss(fixed, truth)
        loss = pixels + 0.5 * codes + 0.05 * base
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"l1w": pixels.item(), "l1w_bank": sharp_loss(y[:H], x[:H]).item(), "code_mse": codes.item(),
                "base_mse": base.item()}

    small_stars = [j for j, at in enumerate(data.meta["attributes"][:len(lat)]) if at["shape"] == "star" and at["size"] == "small"]

    def current():
        m = DetailPredictor(zc, DETAIL)
        m.load_state_dict(ema.shadow)
        return PredictedDetailDecoder(ae, m.eval())

    def sheet(_=None):
        m = current()
        with torch.no_grad():
            ci = np.array(small_stars[:6] + list(np.arange(6) * 37 % len(lat)))
            x = data.frames(ci, np.full(12, 12))
            z, e = lat[ci, 3], temb_static[ci, 0]
            rows = [x, m(z, e), m(z, torch.zeros_like(e)), ae.decode(ae.encode(x))]
            probe = np.array(small_stars[-64:])  # (seen in training) with and without their words, and the true codes
            xs, zs, es = data.frames(probe, np.full(len(probe), 12)), lat[probe, 3], temb_static[probe, 0]
            log(f"[{name}] small stars, weighted L1: predicted with text {float(sharp_loss(m(zs, es), xs)):.4f}, "
                f"without {float(sharp_loss(m(zs, torch.zeros_like(es)), xs)):.4f}, "
                f"true detail codes {float(sharp_loss(ae.decode(ae.encode(xs)), xs)):.4f}")
        save_sheet(os.path.join(LOGS, "ae_predict_recon.png"), [list(r) for r in rows], scale=3)

    if not run.done():
        run.loop(step, log_every=50, on_checkpoint=sheet)
    save_whole(ema.shadow, os.path.join(CKPT, "ae_predict_final.pt"))
    sheet()
    log(f"[{name}] done (logs/ae_predict_recon.png rows: truth, 4 latent channels + predicted detail with the clip's "
        "static caption, the same without text, ae-detail with the true detail codes; the first 6 columns are small stars)")


if __name__ == "__main__":
    main()
