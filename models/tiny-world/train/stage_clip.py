"""Stages `clip` and `prior`.
clip: text encoder + image encoder, symmetric InfoNCE with a learned temperature, on
(random frame, caption). Captions are the static variants half of the time and the full
ones (with motion words) the other half: the engine feeds full prompts to this text
encoder, so motion words must have trained embeddings too.
prior: MLP text embedding -> CLIP image embedding of the clip's first frame (cosine loss).
Afterwards writes checkpoints/emb.npz: first-frame image embeddings [N,64] and the prior's
output for every caption variant (full and static) [N,K,64], used by the decoder stages."""
import os
import numpy as np
import torch
import torch.nn.functional as F
from common import Data, Run, save_whole, CKPT, log, setup_threads
from models import ClipText, ClipImage, Prior, nparams


def embed_captions(text, tok):
    """text embeddings of [N,K,L] captions -> [N,K,64], each distinct bag of words computed
    once (the encoder ignores word order, and matmuls are slow in this torch build)"""
    rows = np.sort(tok.reshape(-1, tok.shape[-1]), axis=1)
    uniq, inv = np.unique(rows, axis=0, return_inverse=True)
    with torch.no_grad():
        e = torch.cat([text(torch.from_numpy(uniq[j:j + 1024].astype(np.int64))) for j in range(0, len(uniq), 1024)])
    log(f"[clip] {len(uniq)} distinct captions embedded")
    return e[torch.from_numpy(inv.reshape(-1))].reshape(*tok.shape[:2], -1)


def main():
    setup_threads()
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    data = Data()
    V = len(data.vocab)
    text, image = ClipText(V), ClipImage()
    logit_scale = torch.nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))
    log(f"[clip] params text {nparams(text)} image {nparams(image)}")
    params = list(text.parameters()) + list(image.parameters()) + [logit_scale]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    holder = torch.nn.Module()
    holder.text, holder.image = text, image
    holder.register_parameter("logit_scale", logit_scale)
    run = Run("clip", {"model": holder}, opt, minutes=5, lr=1e-3, warmup=50)
    B = 64

    def step(i):
        ci = rng.integers(0, data.n, B)
        fi = rng.integers(0, data.f, B)
        full = rng.random() < 0.5
        tok = data.tokens(ci, full, rng)
        te, ie = text(tok), image(data.frames(ci, fi))
        logits = te @ ie.t() * logit_scale.exp().clamp(max=100)
        # captions that name the same attributes are not negatives of each other
        same = (tok[:, None, :] == tok[None, :, :]).all(-1)
        logits = logits.masked_fill(same & ~torch.eye(B, dtype=torch.bool), -1e4)
        lab = torch.arange(B)
        loss = 0.5 * (F.cross_entropy(logits, lab) + F.cross_entropy(logits.t(), lab))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        acc = (logits.argmax(1) == lab).float().mean().item()
        return {"loss": loss.item(), "acc": acc, "temp": 1 / logit_scale.exp().item()}

    final = os.path.join(CKPT, "clip_final.pt")
    # finished weights without the run's checkpoint (rebuilt by recover_from_onnx.py on a new
    # machine): keep them and only write the embeddings the decoder stages need
    recovered = torch.load(final) if os.path.exists(final) and not os.path.exists(run.path) else None
    if recovered is not None:
        text.load_state_dict(recovered["text"]); image.load_state_dict(recovered["image"])
        log("[clip] using the finished weights in clip_final.pt")
    elif not run.done():
        run.loop(step, log_every=25)
    text.eval(); image.eval()

    # first-frame image embeddings of every clip
    emb_path = os.path.join(CKPT, "emb.npz")
    with torch.no_grad():
        img0 = torch.cat([image(data.frames(np.arange(j, min(j + 256, data.n)), np.zeros(min(256, data.n - j), int)))
                          for j in range(0, data.n, 256)])

    prior = Prior()
    log(f"[prior] params {nparams(prior)}")
    popt = torch.optim.AdamW(prior.parameters(), lr=1e-3, weight_decay=0.0)
    prun = Run("prior", {"model": prior}, popt, minutes=2, lr=1e-3, warmup=50)
    temb_full, temb_static = embed_captions(text, data.tok_full), embed_captions(text, data.tok_static)

    def pstep(i):
        ci = rng.integers(0, data.n, 256)
        vi = rng.integers(0, data.k, 256)
        te = torch.where(torch.from_numpy(rng.random(256) < 0.5)[:, None], temb_full[ci, vi], temb_static[ci, vi])
        pred = prior(te)
        loss = (1 - (pred * img0[ci]).sum(-1)).mean()
        popt.zero_grad(set_to_none=True)
        loss.backward()
        popt.step()
        return {"cos_loss": loss.item()}

    if recovered is not None:
        prior.load_state_dict(recovered["prior"])
    elif not prun.done():
        prun.loop(pstep, log_every=100)
    prior.eval()
    with torch.no_grad():
        pf = prior(temb_full.reshape(-1, 64)).reshape(data.n, data.k, 64)
        ps = prior(temb_static.reshape(-1, 64)).reshape(data.n, data.k, 64)
        log(f"[prior] mean cosine to first-frame embedding: full {float((pf * img0[:, None]).sum(-1).mean()):.3f} "
            f"static {float((ps * img0[:, None]).sum(-1).mean()):.3f}")
    np.savez(emb_path + ".tmp.npz", img0=img0.numpy(), prior_full=pf.numpy().astype(np.float16),
             prior_static=ps.numpy().astype(np.float16))
    os.replace(emb_path + ".tmp.npz", emb_path)
    save_whole({"text": text.state_dict(), "image": image.state_dict(), "prior": prior.state_dict()},
               os.path.join(CKPT, "clip_final.pt"))
    log("[clip] embeddings written")


if __name__ == "__main__":
    main()
