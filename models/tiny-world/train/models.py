"""Every network of the tiny-world pack. Written with plain matmul attention (no
nn.MultiheadAttention fast paths) so that torch.onnx export at opset 17 is predictable,
and with the frame count fixed at 8 inside reshapes so only the batch axis is dynamic (and,
for the interpolator, H and W)."""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

FRAMES = 8


def gn(c):
    return nn.GroupNorm(8 if c % 8 == 0 else 1, c)


# ---------------------------------------------------------------- latent autoencoder
class AEResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class AutoEncoder(nn.Module):
    """64x64x3 <-> 4x16x16 (f=4). Thin everywhere because convolutions dominate the cost on
    a shared 2-core CPU. No normalisation layers: the flat colours of the tiny world must
    come back exactly, and GroupNorm statistics would couple the object's colour to the
    background's. Fully convolutional, so it trains on crops."""

    def __init__(self, ch=(32, 64, 96), zc=4, sharp=False, detail=0):
        super().__init__()
        a, b, c = ch

        def encoder(out):
            return nn.Sequential(
                nn.Conv2d(3, a, 4, stride=2, padding=1), nn.SiLU(),
                nn.Conv2d(a, b, 3, padding=1), AEResBlock(b),
                nn.Conv2d(b, c, 4, stride=2, padding=1), AEResBlock(c),
                nn.SiLU(), nn.Conv2d(c, out, 3, padding=1))
        self.enc = encoder(zc)
        # Optional: `detail` more latent channels from an encoder of their own (stage
        # `ae-detail`), appended to the first zc. The first encoder stays as it was, so a
        # diffusion model trained on its zc channels still knows them; the new channels carry
        # what those lose (a small star's points), and start unused (zero decoder weights).
        # tanh: bounded, so the detail encoder can neither shrink its output under the latent
        # noise the decoder is trained with nor outgrow it
        self.detail = nn.Sequential(encoder(detail), nn.Tanh()) if detail else None
        self.dec = nn.Sequential(
            nn.Conv2d(zc + detail, c, 3, padding=1), AEResBlock(c),
            nn.Conv2d(c, 4 * b, 3, padding=1), nn.PixelShuffle(2), AEResBlock(b),
            nn.SiLU(), nn.Conv2d(b, 4 * a, 3, padding=1), nn.PixelShuffle(2), nn.SiLU(),
            nn.Conv2d(a, 3, 3, padding=1))
        # Optional: full-resolution residual blocks on the decoder's last features (stage
        # `ae-sharp`). The decoder above does all its work at 16x16 and 32x32 and has one
        # convolution at 64x64, too little to draw a small star's points, which come back as a
        # pentagon; the latents do carry the shape (a small CNN probe tells stars from circles
        # in 99% of held-out latents). Zero-initialised: at the start exactly the old decoder.
        self.sharp = nn.Sequential(AEResBlock(a), AEResBlock(a), nn.SiLU(), nn.Conv2d(a, 3, 3, padding=1)) if sharp else None
        if sharp:
            nn.init.zeros_(self.sharp[3].weight); nn.init.zeros_(self.sharp[3].bias)
        # scale/shift that make latents ~unit std; set after training, baked into export
        self.register_buffer("z_mean", torch.zeros(1, zc + detail, 1, 1))
        self.register_buffer("z_std", torch.ones(1, zc + detail, 1, 1))
        self.channels = zc + detail

    def encode_raw(self, x):
        return self.enc(x) if self.detail is None else torch.cat([self.enc(x), self.detail(x)], 1)

    def decode_raw(self, z):
        if self.sharp is None:
            return self.dec(z)
        h = self.dec[:-1](z)
        return self.dec[-1](h) + self.sharp(h)

    def encode(self, x):
        return (self.encode_raw(x) - self.z_mean) / self.z_std

    def decode(self, z):
        return self.decode_raw(z * self.z_std + self.z_mean)


def autoencoder_from(ae_state, decoder_state=None, sharp_state=None, sharp=False):
    """The AutoEncoder from its stages' state dicts: ae (encoder, first decoder, latent
    statistics), ae-dec's decoder, ae-sharp's decoder + full-resolution blocks (keys "dec.*",
    "sharp.*", the AutoEncoder's own). With sharp=True and no sharp_state the blocks start at
    zero (the ae-sharp stage's start). An ae_state with the blocks in it (an autoencoder trained
    whole, stage ae-scratch) gives them too."""
    ae = AutoEncoder(sharp=sharp or sharp_state is not None or any(k.startswith("sharp.") for k in ae_state))
    missing, unexpected = ae.load_state_dict(ae_state, strict=False)
    if unexpected or any(not k.startswith("sharp.") for k in missing):
        raise ValueError(f"autoencoder state: missing {missing}, unexpected {unexpected}")
    if decoder_state is not None:
        ae.dec.load_state_dict(decoder_state)
    if sharp_state is not None:
        ae.load_state_dict({**ae.state_dict(), **sharp_state})
    return ae


def widened_autoencoder(ae, detail):
    """`ae` (with its sharp blocks) plus `detail` latent channels (stage `ae-detail`'s start):
    the same encoder, a fresh detail encoder, and the decoder's first convolution given zero
    weights for the new channels, so it decodes exactly as `ae` did."""
    wide = AutoEncoder(zc=ae.enc[-1].out_channels, sharp=True, detail=detail)
    state = ae.state_dict()
    w = state["dec.0.weight"]
    state["dec.0.weight"] = torch.cat([w, torch.zeros(w.shape[0], detail, *w.shape[2:])], 1)
    state["z_mean"] = torch.cat([state["z_mean"], torch.zeros(1, detail, 1, 1)], 1)
    state["z_std"] = torch.cat([state["z_std"], torch.ones(1, detail, 1, 1)], 1)
    missing, unexpected = wide.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("detail.") for k in missing):
        raise ValueError(f"widened autoencoder: missing {missing}, unexpected {unexpected}")
    return wide


class DetailPredictor(nn.Module):
    """(4-channel latent, the prompt's text embedding) -> (the latent corrected, the detail channels
    an ae-detail encoder would give that frame, raw in its tanh range), at 16x16. Stage `ae-predict`: the diffusion
    decoder keeps generating the 4 channels it knows, and this fills in what they lose (a small
    star's points) from the blob they show and the words that name it, for ae-detail's decoder to
    draw. The text enters as a scale/shift after every block (zero-initialised; all zeros = no text)."""

    def __init__(self, zc=4, detail=4, text=64, c=64, blocks=3):
        super().__init__()
        self.inp = nn.Conv2d(zc, c, 3, padding=1)
        self.blocks = nn.ModuleList([AEResBlock(c) for _ in range(blocks)])
        self.film = nn.ModuleList([nn.Linear(text, 2 * c) for _ in range(blocks)])
        for f in self.film:
            nn.init.zeros_(f.weight); nn.init.zeros_(f.bias)
        self.out = nn.Sequential(nn.SiLU(), nn.Conv2d(c, detail, 3, padding=1), nn.Tanh())
        # and a correction of the 4 channels themselves (zero-initialised): the diffusion decoder's
        # small stars are lumpy blobs, which the words can straighten out
        self.fix = nn.Sequential(nn.SiLU(), nn.Conv2d(c, zc, 3, padding=1))
        nn.init.zeros_(self.fix[1].weight); nn.init.zeros_(self.fix[1].bias)

    def forward(self, latents, text_embedding):
        """-> (corrected latents, detail channels)"""
        h = self.inp(latents)
        for block, film in zip(self.blocks, self.film):
            scale, shift = film(text_embedding)[:, :, None, None].chunk(2, 1)
            h = block(h) * (1 + scale) + shift
        return latents + self.fix(h), self.out(h)


class PredictedDetailDecoder(nn.Module):
    """The latent-decoder role of a pack whose 4-channel latents are decoded with ae-detail's
    8-channel decoder, the missing 4 predicted by a DetailPredictor from the latent and the text."""

    def __init__(self, ae, predictor):
        super().__init__()
        self.ae, self.predictor = ae, predictor

    def forward(self, latents, text_embedding):
        zc = latents.shape[1]
        fixed, detail = self.predictor(latents, text_embedding)
        return self.ae.decode_raw(torch.cat([fixed * self.ae.z_std[:, :zc] + self.ae.z_mean[:, :zc], detail], 1)).clamp(-1, 1)


class LatentEncoder(nn.Module):
    def __init__(self, ae):
        super().__init__()
        self.ae = ae

    def forward(self, image):
        return self.ae.encode(image)


class LatentDecoder(nn.Module):
    def __init__(self, ae):
        super().__init__()
        self.ae = ae

    def forward(self, latents):
        return self.ae.decode(latents).clamp(-1, 1)


# ---------------------------------------------------------------- text encoders
class Attention(nn.Module):
    """Multi-head self-attention over [N, L, C] with an optional additive key bias [N, 1, 1, L]."""

    def __init__(self, c, heads=4):
        super().__init__()
        self.h = heads
        self.qkv = nn.Linear(c, 3 * c)
        self.out = nn.Linear(c, c)

    def forward(self, x, bias=None):
        n, l, c = x.shape
        q, k, v = self.qkv(x).reshape(n, l, 3, self.h, c // self.h).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(c // self.h))
        if bias is not None:
            att = att + bias
        y = att.softmax(-1) @ v
        return self.out(y.transpose(1, 2).reshape(n, l, c))


class TransformerLayer(nn.Module):
    def __init__(self, c, heads=4):
        super().__init__()
        self.n1 = nn.LayerNorm(c)
        self.att = Attention(c, heads)
        self.n2 = nn.LayerNorm(c)
        self.mlp = nn.Sequential(nn.Linear(c, 2 * c), nn.GELU(), nn.Linear(2 * c, c))

    def forward(self, x, bias):
        x = x + self.att(self.n1(x), bias)
        return x + self.mlp(self.n2(x))


class TokenEncoder(nn.Module):
    """Token embedding + transformer layers + masked mean pool. No position embedding on
    purpose: the caption grammar lets optional parts come in any order and no word changes
    meaning with its place ("navy" is only ever a background), so an order-free encoder
    generalises to unseen orders and combinations for free. Padding-only input (the null
    condition) pools to exactly zero."""

    def __init__(self, vocab, c=128, layers=2, heads=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, c)
        self.layers = nn.ModuleList([TransformerLayer(c, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(c)

    def forward(self, tokens):
        tokens = tokens.long()
        m = (tokens > 0).float()  # [N, L]
        x = self.emb(tokens)
        bias = ((1.0 - m) * -1e4)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        x = self.norm(x)
        return (x * m[..., None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1.0)


class ClipText(nn.Module):
    def __init__(self, vocab, c=128, out=64):
        super().__init__()
        self.enc = TokenEncoder(vocab, c, layers=2)
        self.proj = nn.Linear(c, out)

    def forward(self, tokens):
        return F.normalize(self.proj(self.enc(tokens)), dim=-1)


class ClipImage(nn.Module):
    def __init__(self, out=64):
        super().__init__()
        def blk(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.GroupNorm(8, o), nn.SiLU(),
                                 nn.Conv2d(o, o, 3, padding=1), nn.GroupNorm(8, o), nn.SiLU())
        # works at 32x32: full-resolution convolutions dominate the cost on this CPU, and
        # the decoder sees the tokens directly, so this embedding needs no fine detail
        self.net = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(3, 32, 3, padding=1), nn.SiLU(), blk(32, 32),
                                 nn.AvgPool2d(2), blk(32, 64), nn.AvgPool2d(2), blk(64, 128))
        self.proj = nn.Linear(256, out)

    def forward(self, image):
        h = self.net(image)
        # mean (what colour) and max (is there a sharp point here) pooling together
        h = torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1)
        return F.normalize(self.proj(h), dim=-1)


class Prior(nn.Module):
    def __init__(self, c=64, hidden=256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(c, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, c))

    def forward(self, text_embedding):
        return F.normalize(self.net(text_embedding), dim=-1)


# ---------------------------------------------------------------- pseudo-3D U-Net
def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    a = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(a), torch.sin(a)], -1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb):
        super().__init__()
        self.n1 = gn(cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.e = nn.Linear(emb, 2 * cout)
        self.n2 = gn(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.c2.weight); nn.init.zeros_(self.c2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.c1(F.silu(self.n1(x)))
        s, b = self.e(emb)[:, :, None, None].chunk(2, 1)
        h = self.n2(h) * (1 + s) + b
        return self.skip(x) + self.c2(F.silu(h))


class TemporalConv(nn.Module):
    """1D conv over the 8 frames at every pixel; zero-initialised residual = identity."""

    def __init__(self, c):
        super().__init__()
        self.n = gn(c)
        self.conv = nn.Conv1d(c, c, 3, padding=1)
        nn.init.zeros_(self.conv.weight); nn.init.zeros_(self.conv.bias)

    def forward(self, x):  # x [B*F, C, H, W]
        bf, c, h, w = x.shape
        y = F.silu(self.n(x)).reshape(-1, FRAMES, c, h, w).permute(0, 3, 4, 2, 1).reshape(-1, c, FRAMES)
        y = self.conv(y).reshape(-1, h, w, c, FRAMES).permute(0, 4, 3, 1, 2).reshape(bf, c, h, w)
        return x + y


class TemporalAttn(nn.Module):
    """Self-attention over the 8 frames at every pixel. Projections are 1x1 convolutions and
    the 8x8 score matrix is an elementwise product-sum: written when torch ran on Debian's
    reference BLAS, where matmuls were ~10x slower than oneDNN convolutions. With OpenBLAS
    (session 17) this layer costs about what a ResBlock does at 8x8 and 4x4; left as it is,
    because the shipped decoder.onnx was exported from it."""

    def __init__(self, c, heads=4):
        super().__init__()
        self.h = heads
        self.n = gn(c)
        self.pos = nn.Parameter(torch.randn(1, FRAMES, c, 1, 1) * 0.02)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.out = nn.Conv2d(c, c, 1)
        nn.init.zeros_(self.out.weight); nn.init.zeros_(self.out.bias)

    def forward(self, x):
        bf, c, h, w = x.shape
        d = c // self.h
        y = (self.n(x).reshape(-1, FRAMES, c, h, w) + self.pos).reshape(bf, c, h, w)
        q, k, v = self.qkv(y).reshape(-1, FRAMES, 3, self.h, d, h, w).unbind(2)  # [B,F,h,d,H,W]
        att = (q[:, :, None] * k[:, None]).sum(4) * (1.0 / math.sqrt(d))  # [B,Fq,Fk,h,H,W]
        att = att.softmax(2)
        y = (att[:, :, :, :, None] * v[:, None]).sum(2)  # [B,Fq,h,d,H,W]
        return x + self.out(y.reshape(bf, c, h, w))


class TextWarp(nn.Module):
    """Keyframe k also sees keyframe 0's features moved by the displacement the words give
    for keyframe k (bilinear warp), so "moving left" becomes "what was at p in keyframe 0 is
    at p - k*d now" at every level of the U-Net. The displacements come from the U-Net's
    `motion_head` (pooled tokens -> cumulative per-keyframe offsets), which training also
    supervises with the clips' true centroid tracks. Added in session 3 because the
    FiLM-only video U-Net (motion only as a spatially uniform scale/shift, temporal layers
    at one pixel) learned to ignore motion words completely: its denoising loss was the same
    with and without them, even with the first keyframe given; a softmax over 3x3 offsets
    between neighbouring keyframes (one latent pixel per hop) did not learn them either.
    With `scaled` (stage decoder-scale, session 5) the warp also zooms by the words' scale
    for keyframe k about the object's centre in keyframe 0, which `locate` finds (a softmax
    over the frame, supervised with the true centroid): translation alone could not say
    "growing", and growing, shrinking and standing still were the motions the decoder missed.
    Zero-initialised output = identity, so it can be added to a trained net; a zero scale
    head gives scale 1, the plain shift warp."""

    def __init__(self, c, scaled=False):
        super().__init__()
        self.inner = min(c, 32)
        self.n = gn(c)
        self.inp = nn.Conv2d(c, self.inner, 1)
        self.out = nn.Conv2d(self.inner, c, 1)
        nn.init.zeros_(self.out.weight); nn.init.zeros_(self.out.bias)
        self.locate = nn.Conv2d(self.inner, 1, 1) if scaled else None
        if scaled:
            nn.init.zeros_(self.locate.weight); nn.init.zeros_(self.locate.bias)
        self.centre = None  # [B, 2] normalised (x, y) of keyframe 0's object, kept for the training loss

    def forward(self, x, motion):  # x [B*F, C, H, W]; motion: (displacement [B, F, 2] in 16x16-latent px, log scale [B, F])
        displacement, log_scale = motion
        bf, c, hh, ww = x.shape
        h = self.inp(F.silu(self.n(x))).reshape(-1, FRAMES, self.inner, hh, ww)
        anchor = h[:, :1].expand(-1, FRAMES, -1, -1, -1).reshape(bf, self.inner, hh, ww)
        # cell centres in [-1, 1] (linspace(-1 + 1/n, 1 - 1/n, n)), written with arange so an ONNX export
        # keeps the frame size dynamic (the refine node runs the decoder at 2x the latent size)
        gy, gx = torch.meshgrid((torch.arange(hh, dtype=x.dtype) * 2 + 1) / hh - 1,
                                (torch.arange(ww, dtype=x.dtype) * 2 + 1) / ww - 1, indexing="ij")
        base = torch.stack([gx, gy], -1)  # [H, W, 2]
        # fetch from where the content was in keyframe 0: p - d (normalised: 2 d / 16)
        shift = (displacement / 8.0).reshape(bf, 1, 1, 2)
        if self.locate is None:
            grid = base[None] - shift
        else:  # content at p in keyframe 0 is at c + s (p - c) + d in keyframe k
            weights = self.locate(h[:, 0]).reshape(-1, hh * ww, 1).softmax(1)
            self.centre = (weights * base.reshape(1, hh * ww, 2)).sum(1)
            centre = self.centre[:, None].expand(-1, FRAMES, -1).reshape(bf, 1, 1, 2)
            scale = log_scale.exp().reshape(bf, 1, 1, 1)
            grid = centre + (base[None] - shift - centre) / scale
        moved = F.grid_sample(anchor, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return x + self.out(moved)


class Stage(nn.Module):
    """ResBlock (+ temporal conv, + temporal attention, + text-driven warp). No spatial
    attention: at 16x16 latents a 4x4 bottleneck already sees the whole frame, and attention
    matmuls are the slowest op in this torch build."""

    def __init__(self, cin, cout, emb, attn, temporal, tattn, text_motion=False, text_scale=False):
        super().__init__()
        self.res = ResBlock(cin, cout, emb)
        self.tconv = TemporalConv(cout) if temporal else None
        self.tattn = TemporalAttn(cout) if (temporal and tattn) else None
        self.twarp = TextWarp(cout, text_scale) if (temporal and text_motion) else None

    def forward(self, x, emb, motion=None):
        x = self.res(x, emb)
        if self.tconv is not None:
            x = self.tconv(x)
        if self.tattn is not None:
            x = self.tattn(x)
        if self.twarp is not None:
            x = self.twarp(x, motion)
        return x


class UNet(nn.Module):
    """Latent diffusion U-Net 16 -> 8 -> 4. Input channels: noisy latents (4) + known
    latents (4) + mask (1). Conditioning (timestep, pooled tokens, image embedding) is
    summed into one vector that drives scale/shift in every ResBlock. With text_motion (the
    motion stage) the pooled tokens also give per-keyframe displacements, and with
    text_scale (the scale stage) sizes (`motion`), that every Stage's TextWarp applies to
    keyframe 0's features."""

    def __init__(self, vocab, ch=(64, 128, 192), nres=2, emb=256, temporal=False, text_c=128, text_motion=False,
                 text_scale=False, zc=4):
        super().__init__()
        self.zc = zc  # latent channels
        self.temporal = temporal
        self.text_motion = text_motion and temporal
        self.text_scale = text_scale and self.text_motion
        self.ch = ch
        self.t_mlp = nn.Sequential(nn.Linear(ch[0], emb), nn.SiLU(), nn.Linear(emb, emb))
        self.text = TokenEncoder(vocab, text_c, layers=1)
        self.text_mlp = nn.Sequential(nn.Linear(text_c, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.img_mlp = nn.Sequential(nn.Linear(64, emb), nn.SiLU(), nn.Linear(emb, emb))
        # which keyframe this is; zero at first so the video stage starts as the image model
        self.frame_emb = nn.Parameter(torch.zeros(1, FRAMES, emb)) if temporal else None
        if self.text_motion:
            # words x keyframe: the FiLM vector of keyframe k gets a nonlinear function of
            # (conditioning, k); and the words give each keyframe's displacement for TextWarp
            self.frame_cond = nn.Sequential(nn.Linear(emb + FRAMES, emb), nn.SiLU(), nn.Linear(emb, emb))
            nn.init.zeros_(self.frame_cond[2].weight); nn.init.zeros_(self.frame_cond[2].bias)
            self.motion_head = nn.Sequential(nn.Linear(text_c, 128), nn.SiLU(), nn.Linear(128, 2 * (FRAMES - 1)))
            nn.init.zeros_(self.motion_head[2].weight); nn.init.zeros_(self.motion_head[2].bias)
        if self.text_scale:  # pooled tokens -> per-interval log scale steps (growing / shrinking / still)
            self.scale_head = nn.Sequential(nn.Linear(text_c, 128), nn.SiLU(), nn.Linear(128, FRAMES - 1))
            nn.init.zeros_(self.scale_head[2].weight); nn.init.zeros_(self.scale_head[2].bias)
        self.cin = nn.Conv2d(2 * zc + 1, ch[0], 3, padding=1)
        attn_at = {1, 2}  # temporal attention at 8x8 and 4x4
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skips = [ch[0]]
        c = ch[0]
        for lvl, co in enumerate(ch):
            blocks = nn.ModuleList()
            for _ in range(nres):
                blocks.append(Stage(c, co, emb, lvl in attn_at, temporal, lvl in attn_at, self.text_motion, self.text_scale))
                c = co
                skips.append(c)
            self.down.append(blocks)
            if lvl < len(ch) - 1:
                self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skips.append(c)
        self.mid1 = Stage(c, c, emb, True, temporal, True, self.text_motion, self.text_scale)
        self.mid2 = Stage(c, c, emb, False, temporal, False, self.text_motion, self.text_scale)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for lvl in reversed(range(len(ch))):
            co = ch[lvl]
            blocks = nn.ModuleList()
            for _ in range(nres + 1):
                blocks.append(Stage(c + skips.pop(), co, emb, lvl in attn_at, temporal, lvl in attn_at, self.text_motion, self.text_scale))
                c = co
            self.up.append(blocks)
            if lvl > 0:
                self.upsample.append(nn.Conv2d(c, c, 3, padding=1))
        self.nout = gn(c)
        self.cout = nn.Conv2d(c, zc, 3, padding=1)
        nn.init.zeros_(self.cout.weight); nn.init.zeros_(self.cout.bias)

    def motion(self, pooled):
        """(displacement [B, F, 2], log scale [B, F]): where the words put the object in each
        keyframe relative to keyframe 0, in 16x16-latent pixels (x, y), and how much bigger
        it is (log of the linear size; zeros without a scale head); cumulative
        per-interval steps, so keyframe 0 is (0, 0) and scale 1."""
        steps = self.motion_head(pooled).reshape(-1, FRAMES - 1, 2)
        displacement = torch.cat([torch.zeros_like(steps[:, :1]), steps.cumsum(1)], 1)
        if not self.text_scale:
            return displacement, torch.zeros_like(displacement[..., 0])
        growth = self.scale_head(pooled)
        return displacement, torch.cat([torch.zeros_like(growth[:, :1]), growth.cumsum(1)], 1)

    def cond(self, timestep, pooled, image_embedding):
        e = self.t_mlp(timestep_embedding(timestep, self.ch[0]))
        e = e + self.text_mlp(pooled)
        return e + self.img_mlp(image_embedding)

    def centres(self):
        """Every TextWarp's estimate of keyframe 0's object centre from the last forward
        (normalised x, y), for the training loss."""
        return [m.centre for m in self.modules() if isinstance(m, TextWarp) and m.centre is not None]

    def forward(self, latents, timestep, tokens, image_embedding, known, mask):
        # latents/known [B,zc,F,16,16], mask [B,1,F,16,16]
        b, _, f, h, w = latents.shape
        x = torch.cat([latents, known, mask], 1).permute(0, 2, 1, 3, 4).reshape(-1, 2 * self.zc + 1, h, w)
        pooled = self.text(tokens)
        e0 = self.cond(timestep, pooled, image_embedding)
        e = e0[:, None, :].expand(-1, f, -1)
        if self.frame_emb is not None:
            e = e + self.frame_emb
        motion = None
        if self.text_motion:
            onehot = torch.eye(f)[None].expand(e.shape[0], -1, -1)
            e = e + self.frame_cond(torch.cat([F.silu(e0)[:, None, :].expand(-1, f, -1), onehot], -1))
            motion = self.motion(pooled)
        e = e.reshape(-1, e.shape[-1])
        x = self.cin(x)
        hs = [x]
        for lvl, blocks in enumerate(self.down):
            for blk in blocks:
                x = blk(x, e, motion)
                hs.append(x)
            if lvl < len(self.downsample):
                x = self.downsample[lvl](x)
                hs.append(x)
        x = self.mid1(x, e, motion)
        x = self.mid2(x, e, motion)
        for i, blocks in enumerate(self.up):
            for blk in blocks:
                x = blk(torch.cat([x, hs.pop()], 1), e, motion)
            if i < len(self.upsample):
                x = self.upsample[i](F.interpolate(x, scale_factor=2.0, mode="nearest"))
        x = self.cout(F.silu(self.nout(x)))
        return x.reshape(-1, f, self.zc, h, w).permute(0, 2, 1, 3, 4)


def widened_unet_state(state, zc, detail):
    """A U-Net state dict for zc + detail latent channels from one for zc (stage
    `decoder-detail`'s start): the input convolution reads (latents, known, mask) with zero
    weights on the new channels, the output convolution predicts them from zero weights, so
    the wide U-Net's first zc output channels are exactly the old U-Net's."""
    w, wide = state["cin.weight"], dict(state)
    gap = torch.zeros(w.shape[0], detail, *w.shape[2:])
    wide["cin.weight"] = torch.cat([w[:, :zc], gap, w[:, zc:2 * zc], gap, w[:, 2 * zc:]], 1)
    w, bias = state["cout.weight"], state["cout.bias"]
    wide["cout.weight"] = torch.cat([w, torch.zeros(detail, *w.shape[1:])], 0)
    wide["cout.bias"] = torch.cat([bias, torch.zeros(detail)], 0)
    return wide


# ---------------------------------------------------------------- interpolator
class InterpBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        return self.skip(x) + self.c2(F.silu(self.c1(F.silu(x))))


class Interpolator(nn.Module):
    """(frame_a, frame_b, t) -> in-between frame, fully convolutional (H, W multiples of 8).
    Predicts a per-pixel blend weight between the two inputs plus a residual, so flat
    colours stay exact wherever the object does not pass."""

    def __init__(self, ch=(16, 32, 64, 96)):
        super().__init__()
        self.cin = nn.Conv2d(7, ch[0], 3, padding=1)
        self.downs = nn.ModuleList()
        c = ch[0]
        for co in ch[1:]:
            self.downs.append(nn.ModuleList([InterpBlock(c, c), nn.Conv2d(c, co, 4, stride=2, padding=1)]))
            c = co
        self.mid = nn.Sequential(InterpBlock(c, c), InterpBlock(c, c))
        self.ups = nn.ModuleList()
        for co, skip in zip(reversed(ch[:-1]), reversed(ch[:-1])):
            self.ups.append(nn.ModuleList([nn.Conv2d(c, co, 3, padding=1), InterpBlock(co + skip, co)]))
            c = co
        self.out = nn.Conv2d(c, 4, 3, padding=1)

    def head(self, frame_a, frame_b, t):
        """The U-Net's output channels for (frame_a, frame_b, t); v1 and v2 read them differently."""
        return self.unet(frame_a, frame_b, t)[0]

    def unet(self, frame_a, frame_b, t):
        """(output channels, bottleneck features)"""
        tm = t.float()[:, None, None, None].expand(-1, 1, frame_a.shape[2], frame_a.shape[3])
        x = self.cin(torch.cat([frame_a, frame_b, tm], 1))
        hs = []
        for blk, down in self.downs:
            x = blk(x)
            hs.append(x)
            x = down(x)
        x = mid = self.mid(x)
        for conv, blk in self.ups:
            x = conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
            x = blk(torch.cat([x, hs.pop()], 1))
        return self.out(F.silu(x)), mid

    def forward(self, frame_a, frame_b, t):
        o = self.head(frame_a, frame_b, t)
        wgt = torch.sigmoid(o[:, :1])
        return (wgt * frame_b + (1 - wgt) * frame_a + o[:, 1:]).clamp(-1, 1)


class FlowInterpolator(Interpolator):
    """Interpolator v2: the same U-Net predicts, for every output pixel, where to fetch it
    from in frame_a and in frame_b (two displacement fields, in pixels) and a blend weight;
    the frame is the blend of the two warped inputs. Every output colour is sampled from an
    input, and a moving object is carried along instead of cross-faded (v1 ghosted: two
    half-transparent copies = a second blob). Trained with the true displacements, which
    the synthetic clips give exactly (centroid and size of the object in each frame)."""

    FLOW_SCALE = 8.0

    def __init__(self, ch=(16, 32, 64, 96)):
        super().__init__(ch)
        self.out = nn.Conv2d(ch[0], 5, 3, padding=1)
        nn.init.zeros_(self.out.weight); nn.init.zeros_(self.out.bias)

    def fields(self, frame_a, frame_b, t):
        o = self.head(frame_a, frame_b, t)
        return o[:, 0:2] * self.FLOW_SCALE, o[:, 2:4] * self.FLOW_SCALE, torch.sigmoid(o[:, 4:5])

    @staticmethod
    def warp(img, flow):
        # pixel-centre grid built from the input itself so H and W stay dynamic in ONNX
        ones = torch.ones_like(img[:, :1])
        w = ones.sum(3, keepdim=True)
        h = ones.sum(2, keepdim=True)
        gx = (ones.cumsum(3) - 0.5 + flow[:, 0:1]) * 2.0 / w - 1.0
        gy = (ones.cumsum(2) - 0.5 + flow[:, 1:2]) * 2.0 / h - 1.0
        grid = torch.cat([gx, gy], 1).permute(0, 2, 3, 1)
        return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def compose(self, frame_a, frame_b, fa, fb, wgt):
        """the frame: both inputs warped by their fetch fields, blended"""
        return ((1 - wgt) * self.warp(frame_a, fa) + wgt * self.warp(frame_b, fb)).clamp(-1, 1)

    def forward(self, frame_a, frame_b, t):
        return self.compose(frame_a, frame_b, *self.fields(frame_a, frame_b, t))


def pixel_grid(like):
    """pixel-centre x and y coordinates [B, 1, H, W] built from the input itself, so that H and
    W stay dynamic in ONNX"""
    ones = torch.ones_like(like[:, :1])
    return ones.cumsum(3) - 0.5, ones.cumsum(2) - 0.5


class TrackInterpolator(FlowInterpolator):
    """Interpolator v3: v2's two fetch fields, each now the sum of a global part that carries
    the object along its track and v2's per-pixel part as a residual. v2 had to grow every
    displacement pixel by pixel out of a U-Net and fell short on far hops (a bounce moves a
    quarter of the frame between keyframes): the object stayed half behind, two blobs. Here
    the U-Net also points at the object in frame_a and in frame_b (two softmax maps over the
    frame, their expected positions c_a and c_b), and a small head on the bottleneck says where
    it is at t (c_t = the straight line plus an offset, for bounces that turn between the two
    keyframes) and how big (log size of frame_a's and frame_b's object relative to t's). A
    target pixel p then fetches from c_src + (p - c_t) * s_src / s_t: exact for a lone rigid
    object that moves and scales, the whole tiny world. All four parts are supervised with
    the truth the synthetic clips give (stage_interp3.py)."""

    LOCATE_GAIN = 10.0  # sharper softmax maps from the start

    def __init__(self, ch=(16, 32, 64, 96)):
        super().__init__(ch)
        # residual fields a (2), b (2), blend weight, where the object is in a, in b
        self.out = nn.Conv2d(ch[0], 7, 3, padding=1)
        nn.init.zeros_(self.out.weight); nn.init.zeros_(self.out.bias)
        c = ch[-1]
        self.track_head = nn.Sequential(nn.Linear(2 * c + 5, 64), nn.SiLU(), nn.Linear(64, 4))
        nn.init.zeros_(self.track_head[2].weight); nn.init.zeros_(self.track_head[2].bias)

    @classmethod
    def locate(cls, logits, xs, ys):
        b = logits.shape[0]
        p = torch.softmax(logits.reshape(b, -1) * cls.LOCATE_GAIN, -1)
        return torch.stack([(p * xs.reshape(b, -1)).sum(-1), (p * ys.reshape(b, -1)).sum(-1)], -1)  # [B, 2] px

    def track(self, frame_a, frame_b, t):
        """(residual fields and blend logits [B, 5, H, W], c_a, c_b, c_t [B, 2] in pixels,
        log size ratios a/t and b/t [B, 2])"""
        o, mid = self.unet(frame_a, frame_b, t)
        xs, ys = pixel_grid(frame_a)
        c_a, c_b = self.locate(o[:, 5:6], xs, ys), self.locate(o[:, 6:7], xs, ys)
        extent = torch.cat([xs.amax((1, 2, 3))[:, None], ys.amax((1, 2, 3))[:, None]], 1) + 0.5  # [B, 2] = (W, H)
        tt = t.float()[:, None]
        head = self.track_head(torch.cat([mid.mean((2, 3)), mid.amax((2, 3)), c_a / extent, c_b / extent, tt], 1))
        # the offset is in tenths of the frame: independent of H and W, and small while the head learns
        offset, log_size = head[:, 0:2] * extent * 0.1, head[:, 2:4]
        return o[:, :5], c_a, c_b, c_a + tt * (c_b - c_a) + offset, log_size

    @staticmethod
    def carry(c_src, c_t, log_ratio, xs, ys):
        """where each target pixel's content is in the source frame, minus the pixel: [B, 2, H, W]"""
        r = torch.exp(log_ratio)[:, :, None, None] - 1.0  # how much further from the centre the source pixel lies
        cx, cy = c_t[:, 0, None, None, None], c_t[:, 1, None, None, None]
        sx, sy = c_src[:, 0, None, None, None], c_src[:, 1, None, None, None]
        return torch.cat([sx - cx + (xs - cx) * r, sy - cy + (ys - cy) * r], 1)

    def fields(self, frame_a, frame_b, t):
        return self.fields_of(self.track(frame_a, frame_b, t), frame_a)

    def fields_of(self, tracked, like):
        """track()'s output -> (fetch field a, fetch field b, blend weight)"""
        o, c_a, c_b, c_t, log_size = tracked
        xs, ys = pixel_grid(like)
        fa = self.carry(c_a, c_t, log_size[:, 0:1], xs, ys) + o[:, 0:2] * self.FLOW_SCALE
        fb = self.carry(c_b, c_t, log_size[:, 1:2], xs, ys) + o[:, 2:4] * self.FLOW_SCALE
        return fa, fb, torch.sigmoid(o[:, 4:5])


def nparams(m):
    return sum(p.numel() for p in m.parameters())


class VideoText(nn.Module):
    """A video CLIP for reranking: a text encoder of its own and a video encoder over the
    8 keyframes, trained so that matching (clip, caption) pairs have the highest cosine.
    The image CLIP sees one frame and cannot know motion; this one is trained with the
    clip played backwards and frozen on its first frame as extra negatives, so direction,
    growth and stillness are what it must read."""

    def __init__(self, vocab, out=64):
        super().__init__()
        self.text = ClipText(vocab, out=out)

        # per frame at 16x16 (colour, background, where the object is and how big; shape is
        # the image CLIP's and the decoder's business), with coordinate channels so that
        # positions survive the pooling; then 3D convolutions over time
        self.frame = nn.Sequential(nn.Conv2d(5, 32, 3, padding=1), nn.SiLU(), nn.Conv2d(32, 32, 3, padding=1), nn.SiLU(),
                                   nn.AvgPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.SiLU())
        self.time = nn.Sequential(nn.Conv3d(64, 64, 3, padding=1), nn.SiLU(), nn.AvgPool3d((1, 2, 2)),
                                  nn.Conv3d(64, 128, 3, padding=1), nn.SiLU())
        self.proj = nn.Linear(256, out)

    def video(self, frames):
        """frames [B, 3, T, 64, 64] in [-1, 1] -> [B, out], unit length"""
        b, c, t, h, w = frames.shape
        x = F.avg_pool2d(frames.transpose(1, 2).reshape(b * t, c, h, w), 4)
        ys = torch.linspace(-1, 1, x.shape[2]).view(1, 1, -1, 1).expand(b * t, 1, x.shape[2], x.shape[3])
        xs = torch.linspace(-1, 1, x.shape[3]).view(1, 1, 1, -1).expand(b * t, 1, x.shape[2], x.shape[3])
        x = self.frame(torch.cat([x, xs, ys], 1))
        x = x.reshape(b, t, x.shape[1], x.shape[2], x.shape[3]).transpose(1, 2)
        x = self.time(x)
        x = torch.cat([x.mean((2, 3, 4)), x.amax((2, 3, 4))], 1)
        return F.normalize(self.proj(x), dim=-1)

    def forward(self, frames, tokens):
        """the cosine between each clip and its own caption: [B]"""
        return (self.video(frames) * self.text(tokens)).sum(-1)
