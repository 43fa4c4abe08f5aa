"""A fake dataset in the CONTRACT.md format (coloured squares moving), only to exercise
shapes and the ONNX export end to end before the real renderer's data exists.
Never train a shipped model on it."""
import json, os, sys
import numpy as np

def main(out, n=256, k=4, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(out, exist_ok=True)
    vocab = ["<pad>", "a", "an", "one", "small", "big", "red", "green", "blue", "square",
             "moving", "left", "right", "standing", "still", "on", "black", "white", "background"]
    idx = {w: i for i, w in enumerate(vocab)}
    cols = {"red": (220, 40, 40), "green": (50, 190, 70), "blue": (40, 80, 230)}
    bgs = {"black": (12, 12, 16), "white": (240, 240, 240)}
    clips = np.lib.format.open_memmap  # noqa: keep numpy import style simple
    frames = np.zeros((n, 29, 64, 64, 3), np.uint8)
    tf = np.zeros((n, k, 16), np.int32); ts = np.zeros((n, k, 16), np.int32)
    attrs = []
    for i in range(n):
        c = rng.choice(list(cols)); b = rng.choice(list(bgs)); m = rng.choice(["left", "right", "still"])
        s = int(rng.integers(8, 20)); x0 = int(rng.integers(10, 54 - s)); y0 = int(rng.integers(4, 60 - s))
        for f in range(29):
            frames[i, f] = bgs[b]
            dx = {"left": -1, "right": 1, "still": 0}[m] * f * 0.6
            x = int(np.clip(x0 + dx, 0, 64 - s))
            frames[i, f, y0:y0 + s, x:x + s] = cols[c]
        for j in range(k):
            mot = ["standing", "still"] if m == "still" else ["moving", m]
            wf = ["a", c, "square"] + mot + ["on", "a", b, "background"]
            ws = ["a", c, "square", "on", "a", b, "background"]
            tf[i, j, :len(wf)] = [idx[w] for w in wf]; ts[i, j, :len(ws)] = [idx[w] for w in ws]
        attrs.append({"colour": c, "background": b, "shape": "square", "size": None, "motion": m})
    frames.tofile(os.path.join(out, "clips.u8")); tf.tofile(os.path.join(out, "tokens_full.i32"))
    ts.tofile(os.path.join(out, "tokens_static.i32"))
    json.dump({"clips": n, "frames": 29, "height": 64, "width": 64, "captionsPerClip": k, "maxTokens": 16,
               "vocabulary": vocab, "attributes": attrs, "heldOut": []}, open(os.path.join(out, "meta.json"), "w"))
    open(os.path.join(out, "READY"), "w").write("fake\n")

if __name__ == "__main__":
    main(sys.argv[1])
