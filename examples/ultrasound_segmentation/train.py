"""Train the ultrasound bone segmenter on synthetic spine scans and export it.

A small U-Net (three scales, 8-16-32 channels) takes the NHWC float image in [0, 1]
(``INPUT__0``, 1x256x256x3, as the sample app's format converter produces it) and returns
two-class scores ``OUTPUT__0`` (1x2x256x256, NCHW: background, bone), like Holoscan's
``us_unet_256x256_nhwc.onnx``. Training scenes and validation scenes come from the same
generator (:class:`holoflow.apps.synthetic.UltrasoundScene`) with disjoint seeds; the sample
recording's seed is a validation seed.

Run from the repository root (needs ``pip install 'holoflow[torch,onnx]'``; a few minutes on two
CPU cores)::

    python3 examples/ultrasound_segmentation/train.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _training import Clock, arguments, export, onnx_session, size_mb, torch_setup, write_scores

from holoflow.apps.sample_data import ULTRASOUND
from holoflow.apps.synthetic import UltrasoundScene

NAME = "us_unet_256x256_nhwc"
TRAIN_SEEDS = range(1000, 1048)
VALIDATION_SEEDS = (ULTRASOUND.seed, 2001, 2002, 2003)


def dataset(seeds, frames, step):
    images, labels = [], []
    for seed in seeds:
        scene = UltrasoundScene(seed)
        for t in range(0, frames * step, step):
            frame = scene.frame(t)
            images.append(frame.image)
            labels.append(frame.labels)
    return np.stack(images), np.stack(labels)


def build_model(torch):
    nn = torch.nn

    def block(cin, cout):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU()
        )

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc1, self.enc2, self.enc3 = block(3, 8), block(8, 16), block(16, 32)
            self.middle = block(32, 32)
            self.dec3, self.dec2, self.dec1 = block(64, 32), block(48, 16), block(24, 8)
            self.head = nn.Conv2d(8, 2, 1)
            self.pool = nn.MaxPool2d(2)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")

        def forward(self, image):  # (N, H, W, 3) in [0, 1]
            x = image.permute(0, 3, 1, 2) - 0.5
            e1 = self.enc1(x)
            e2 = self.enc2(self.pool(e1))
            e3 = self.enc3(self.pool(e2))
            m = self.middle(self.pool(e3))
            d3 = self.dec3(torch.cat([self.up(m), e3], 1))
            d2 = self.dec2(torch.cat([self.up(d3), e2], 1))
            d1 = self.dec1(torch.cat([self.up(d2), e1], 1))
            return self.head(d1)

    return UNet()


def dice(predicted, truth):
    predicted, truth = predicted.astype(bool), truth.astype(bool)
    total = predicted.sum() + truth.sum()
    return 1.0 if total == 0 else 2.0 * (predicted & truth).sum() / total


def validate(onnx_path, frames, seeds=VALIDATION_SEEDS):
    session = onnx_session(onnx_path)
    per_scene = {}
    for seed in seeds:
        scene = UltrasoundScene(seed)
        predicted, truth = [], []
        for t in range(frames):
            frame = scene.frame(t)
            image = np.repeat(frame.image[None, ..., None], 3, axis=3).astype(np.float32) / 255.0
            scores = session.run(None, {"INPUT__0": image})[0][0]
            predicted.append(scores[1] > scores[0])
            truth.append(frame.labels)
        per_scene[seed] = float(dice(np.stack(predicted), np.stack(truth)))
        print(f"validation scene {seed}: Dice {per_scene[seed]:.3f}")
    return per_scene


def main():
    args = arguments(__doc__.splitlines()[0], steps=900)
    torch = torch_setup(args.threads)
    clock = Clock()
    images, labels = dataset(TRAIN_SEEDS[:2] if args.quick else TRAIN_SEEDS, 24, 11)
    print(f"{clock} generated {len(images)} training frames")
    model = build_model(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 3e-3, total_steps=args.steps)
    weight = torch.tensor([1.0, 8.0])
    rng = np.random.default_rng(0)
    crop = 160
    for step in range(args.steps):
        pick = rng.integers(0, len(images), 6)
        top, left = rng.integers(0, 256 - crop, 2)
        x = images[pick, top : top + crop, left : left + crop]
        x = torch.from_numpy(np.repeat(x[..., None], 3, axis=3).astype(np.float32) / 255.0)
        y = torch.from_numpy(labels[pick, top : top + crop, left : left + crop].astype(np.int64))
        scores = model(x)
        probability = scores.softmax(1)[:, 1]
        overlap = (probability * y).sum() * 2 / (probability.sum() + y.sum() + 1.0)
        loss = torch.nn.functional.cross_entropy(scores, y, weight=weight) + (1 - overlap)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"{clock} step {step:4d} loss {loss.item():.4f} soft Dice {overlap.item():.3f}")
    example = (torch.zeros(1, 256, 256, 3),)
    onnx_path = export(model, example, NAME, ["INPUT__0"], ["OUTPUT__0"], args.models)
    per_scene = validate(onnx_path, 3, VALIDATION_SEEDS[:1]) if args.quick else validate(onnx_path, 120)
    write_scores(
        NAME,
        {
            "metric": "Dice of the bone class over the first 120 frames of each validation scene",
            "validation_dice": {str(k): round(v, 4) for k, v in per_scene.items()},
            "mean_dice": round(float(np.mean(list(per_scene.values()))), 4),
            "training_steps": args.steps,
            "onnx_mb": size_mb(onnx_path),
            "torchscript_mb": size_mb(onnx_path.with_suffix(".pt")),
        },
        args.models,
    )
    print(f"{clock} done")


if __name__ == "__main__":
    main()
