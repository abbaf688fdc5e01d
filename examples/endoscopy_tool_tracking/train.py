"""Train the endoscopy tool tracker (a convolutional LSTM) on synthetic scenes and export it.

The model keeps Holoscan's ``tool_loc_convlstm`` interface, scaled to 384x216 frames: inputs
``data_ph:0`` (1x216x384x3 RGB float, raw 0..255), ``cellstate_ph:0`` and ``hiddenstate_ph:0``
(1x27x48x16, NHWC); outputs ``Model/net_states:0`` and ``Model/net_hidden:0`` (the next
states), ``probs:0`` (1x7: each class is in view), ``Localize/scaled_coords:0`` (1x7x2: tip
``(x, y)`` in [0, 1]) and ``Localize_1/binary_masks:0`` (1x7x27x48: per-class instrument masks).

A stride-8 convolutional encoder feeds a ConvLSTM cell (16 channels) whose hidden state, with
the encoder features, drives three heads: mask logits, tip heat maps (the tip is their
soft-argmax) and presence (a per-class linear read-out of pooled logits). Training uses windows
of consecutive frames from seeded scenes (:class:`holoflow.apps.synthetic.EndoscopyScene`)
starting from zero state; validation runs the exported ONNX model statefully over whole held-out
sequences, the sample recording's among them.

Run from the repository root (needs ``pip install 'holoflow[torch,onnx]'``; a few minutes on two
CPU cores)::

    python3 examples/endoscopy_tool_tracking/train.py
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _training import Clock, arguments, export, onnx_session, size_mb, torch_setup, write_scores

from holoflow.apps.sample_data import ENDOSCOPY
from holoflow.apps.synthetic import TOOL_NAMES, EndoscopyScene

NAME = "tool_loc_convlstm"
WIDTH, HEIGHT, STRIDE, STATE = 384, 216, 8, 16
GRID_H, GRID_W = HEIGHT // STRIDE, WIDTH // STRIDE
CLASSES = len(TOOL_NAMES)
TRAIN_SEEDS = range(1000, 1140)
VALIDATION_SEEDS = (ENDOSCOPY.seed, 2001, 2002, 2003, 2004, 2005)
INPUTS = ["data_ph:0", "cellstate_ph:0", "hiddenstate_ph:0"]
OUTPUTS = [
    "Model/net_states:0",
    "Model/net_hidden:0",
    "probs:0",
    "Localize/scaled_coords:0",
    "Localize_1/binary_masks:0",
]


def dataset(seeds, frames):
    images, present, tips, masks = [], [], [], []
    rng = np.random.default_rng(0)
    for seed in seeds:
        scene = EndoscopyScene(seed)
        start = int(rng.integers(0, 200))
        for t in range(start, start + frames):
            frame = scene.frame(t)
            images.append(frame.image)
            present.append(frame.present)
            tips.append(frame.tips)
            # per-cell fraction of instrument pixels: the mask target at the model's resolution
            masks.append(frame.masks.reshape(CLASSES, GRID_H, STRIDE, GRID_W, STRIDE).mean(axis=(2, 4)))
    shape = (len(seeds), frames)
    return (
        np.stack(images).reshape(*shape, HEIGHT, WIDTH, 3),
        np.stack(present).reshape(*shape, CLASSES),
        np.stack(tips).reshape(*shape, CLASSES, 2),
        np.stack(masks).astype(np.float32).reshape(*shape, CLASSES, GRID_H, GRID_W),
    )


def build_model(torch):
    nn = torch.nn

    def conv(cin, cout, stride=1):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.ReLU())

    class ToolTracker(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(
                conv(3, 16, 2), conv(16, 16), conv(16, 32, 2), conv(32, 32), conv(32, 48, 2), conv(48, 48)
            )
            self.gates = nn.Conv2d(48 + STATE, 4 * STATE, 3, padding=1)
            self.head = nn.Sequential(conv(48 + STATE, 32), nn.Conv2d(32, 2 * CLASSES, 1))
            self.presence_weight = nn.Parameter(torch.tensor([[1.0, 0.0, 1.0]]).repeat(CLASSES, 1))
            self.presence_bias = nn.Parameter(torch.zeros(CLASSES))
            xs = (torch.arange(GRID_W, dtype=torch.float32) + 0.5) / GRID_W
            ys = (torch.arange(GRID_H, dtype=torch.float32) + 0.5) / GRID_H
            self.register_buffer("grid_x", xs.repeat(GRID_H))
            self.register_buffer("grid_y", ys.repeat_interleave(GRID_W))

        def forward(self, image, cell, hidden):  # NHWC image 0..255, NHWC states
            cell, hidden, presence, coords, mask_logits, _ = self.logits(image, cell, hidden)
            return cell, hidden, torch.sigmoid(presence), coords, torch.sigmoid(mask_logits)

        def logits(self, image, cell, hidden):
            """Training outputs: states, presence logit, coords, mask logits, heat logits."""
            features = self.encoder(image.permute(0, 3, 1, 2) / 255.0 - 0.5)
            c, h = cell.permute(0, 3, 1, 2), hidden.permute(0, 3, 1, 2)
            i, f, o, g = self.gates(torch.cat([features, h], 1)).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            mask_logits, heat = self.head(torch.cat([features, h], 1)).split(CLASSES, 1)
            flat = heat.flatten(2)
            weights = flat.softmax(-1)
            coords = torch.stack([(weights * self.grid_x).sum(-1), (weights * self.grid_y).sum(-1)], -1)
            pooled = torch.stack(
                [mask_logits.flatten(2).amax(-1), mask_logits.flatten(2).mean(-1), flat.amax(-1)], -1
            )
            presence = (pooled * self.presence_weight).sum(-1) + self.presence_bias
            return c.permute(0, 2, 3, 1), h.permute(0, 2, 3, 1), presence, coords, mask_logits, flat

    return ToolTracker()


def train(torch, model, data, steps, window, batch):
    images, present, tips, masks = data
    functional = torch.nn.functional
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 2e-3, total_steps=steps)
    rng = np.random.default_rng(0)
    clock = Clock()
    for step in range(steps):
        scenes = rng.integers(0, images.shape[0], batch)
        starts = rng.integers(0, images.shape[1] - window + 1, batch)
        cell = torch.zeros(batch, GRID_H, GRID_W, STATE)
        hidden = torch.zeros(batch, GRID_H, GRID_W, STATE)
        loss = 0.0
        for k in range(window):
            t = starts + k
            x = torch.from_numpy(images[scenes, t].astype(np.float32))
            p = torch.from_numpy(present[scenes, t].astype(np.float32))
            tip = torch.from_numpy(tips[scenes, t])
            m = torch.from_numpy(masks[scenes, t])
            cell, hidden, presence, coords, mask_logits, heat = model.logits(x, cell, hidden)
            loss_presence = functional.binary_cross_entropy_with_logits(presence, p)
            loss_mask = functional.binary_cross_entropy_with_logits(
                mask_logits, m, pos_weight=torch.tensor(3.0)
            )
            cells = (tip[..., 1] * GRID_H).long().clamp(0, GRID_H - 1) * GRID_W + (
                (tip[..., 0] * GRID_W).long().clamp(0, GRID_W - 1)
            )
            heat_ce = functional.cross_entropy(
                heat.reshape(-1, GRID_H * GRID_W), cells.reshape(-1), reduction="none"
            )
            tip_l1 = (coords - tip).abs().sum(-1).reshape(-1)
            weight = p.reshape(-1)
            denominator = weight.sum().clamp(min=1.0)
            loss_tip = ((0.2 * heat_ce + 10.0 * tip_l1) * weight).sum() / denominator
            loss = loss + 3.0 * loss_presence + loss_mask + loss_tip
        loss = loss / window
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        schedule.step()
        if step % 25 == 0 or step == steps - 1:
            print(
                f"{clock} step {step:4d} loss {loss.item():.4f} (presence {loss_presence.item():.3f}, "
                f"mask {loss_mask.item():.3f}, tip {loss_tip.item():.3f})"
            )


def validate(onnx_path, frames, seeds=VALIDATION_SEEDS):
    """Run the ONNX model statefully over each validation sequence; tip error in pixels."""
    session = onnx_session(onnx_path)
    errors, correct, total, per_scene = [], 0, 0, {}
    for seed in seeds:
        scene = EndoscopyScene(seed)
        cell = np.zeros((1, GRID_H, GRID_W, STATE), np.float32)
        hidden = np.zeros_like(cell)
        scene_errors = []
        for t in range(frames):
            frame = scene.frame(t)
            feeds = dict(zip(INPUTS, [frame.image[None].astype(np.float32), cell, hidden], strict=True))
            cell, hidden, probs, coords, _ = session.run(None, feeds)
            detected = probs[0] > 0.5
            correct += int((detected == frame.present).sum())
            total += CLASSES
            for k in np.flatnonzero(frame.present & detected):
                delta = (coords[0, k] - frame.tips[k]) * (WIDTH, HEIGHT)
                scene_errors.append(float(np.hypot(*delta)))
        errors += scene_errors
        per_scene[str(seed)] = round(float(np.median(scene_errors)), 2) if scene_errors else None
        print(f"validation scene {seed}: median tip error {per_scene[str(seed)]} px")
    return {
        "presence_accuracy": round(correct / total, 4),
        "tip_error_px_median": round(float(np.median(errors)), 2),
        "tip_error_px_p90": round(float(np.percentile(errors, 90)), 2),
        "tip_error_px_median_per_scene": per_scene,
    }


def main():
    args = arguments(__doc__.splitlines()[0], steps=1800)
    torch = torch_setup(args.threads)
    clock = Clock()
    data = dataset(TRAIN_SEEDS[:2] if args.quick else TRAIN_SEEDS, 16)
    print(f"{clock} generated {data[0].shape[0] * data[0].shape[1]} training frames")
    model = build_model(torch)
    model.train()
    train(torch, model, data, args.steps, window=6, batch=6)
    state = torch.zeros(1, GRID_H, GRID_W, STATE)
    example = (torch.zeros(1, HEIGHT, WIDTH, 3), state, state)
    onnx_path = export(model, example, NAME, INPUTS, OUTPUTS, args.models)
    scores = validate(onnx_path, 3, VALIDATION_SEEDS[:1]) if args.quick else validate(onnx_path, 150)
    print(scores)
    scores.update(
        {
            "metric": "over the first 150 frames of each validation sequence, run statefully; tip error "
            "in pixels of the 384x216 frame, for tools present and detected (probability > 0.5)",
            "training_steps": args.steps,
            "onnx_mb": size_mb(onnx_path),
            "torchscript_mb": size_mb(onnx_path.with_suffix(".pt")),
        }
    )
    write_scores(NAME, scores, args.models)
    print(f"{clock} done")


if __name__ == "__main__":
    main()
