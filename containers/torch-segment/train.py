"""Train entry of torch-segment: a player's segment (multiclass) with a small PyTorch MLP.

Contract mlcycle.trainer/v1 (docs/trainer-contract.md). Reads MLCYCLE_TRAIN (and
MLCYCLE_VALIDATION when given), writes model/, metrics.jsonl, model-card.json and
reported-metrics.json to MLCYCLE_OUTPUT_DIR.

GPU: CUDA when MLCYCLE_USE_GPU=1 and PyTorch sees a device, the CPU otherwise.

Checkpoints: after every epoch the network, the optimiser and the metrics so far are saved to
MLCYCLE_CHECKPOINT_DIR/checkpoint.pt (written to a temporary file, then renamed, so a kill
mid-write leaves the previous one). A run that finds a checkpoint of the same inputs and
hyperparameters resumes after its epoch, and its first new metrics line says
"resumedFromEpoch". Each epoch's shuffle and dropout are seeded from (seed, epoch), so on the
CPU a resumed run ends with exactly the weights of an uninterrupted one.
"""

import hashlib
import json
import os
import time

import numpy as np
import torch
from network import build_network
from tabular import TrainerError, describe_columns, env, fit_scaling, input_width, log, read_rows, run, to_matrix
from torch.nn import functional

CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_FORMAT = "torch-segment-checkpoint/1"
DEFAULTS = {
    "epochs": 12,
    "batch_size": 256,
    "learning_rate": 0.003,
    "hidden_units": 64,
    "hidden_layers": 2,
    "dropout": 0.1,
    "weight_decay": 0.0001,
    "class_weighting": "none",
    "seed": 42,
}


def read_hyperparameters():
    # The platform has validated them against trainer.yaml; this guards a hand-made run.
    try:
        given = json.loads(env("MLCYCLE_HYPERPARAMETERS", required=False) or "{}")
    except json.JSONDecodeError:
        raise TrainerError("MLCYCLE_HYPERPARAMETERS is not JSON") from None
    if not isinstance(given, dict):
        raise TrainerError("MLCYCLE_HYPERPARAMETERS is not a JSON object")
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise TrainerError(f"unknown hyperparameters {', '.join(unknown)} (declared: {', '.join(sorted(DEFAULTS))})")
    return {**DEFAULTS, **given}


def read_labels(columns, rows, target, what):
    if target not in columns:
        shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
        raise TrainerError(f"target column {target} is not in {what} (columns: {shown})")
    index = columns.index(target)
    labels = [row[index] for row in rows]
    blank = next((i for i, label in enumerate(labels) if label == ""), None)
    if blank is not None:
        raise TrainerError(f"{what} row {blank + 1}: target {target} is blank")
    return labels


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def choose_device():
    if env("MLCYCLE_USE_GPU", required=False) != "1":
        return torch.device("cpu"), None
    if torch.cuda.is_available():
        return torch.device("cuda"), None
    return torch.device("cpu"), "MLCYCLE_USE_GPU=1 but PyTorch sees no CUDA device: training on the CPU"


def macro_f1(truth, predicted, classes):
    scores = []
    for c in range(classes):
        tp = int(((predicted == c) & (truth == c)).sum())
        fp = int(((predicted == c) & (truth != c)).sum())
        fn = int(((predicted != c) & (truth == c)).sum())
        if tp + fp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def evaluate(network, x, y, classes):
    network.eval()
    with torch.no_grad():
        logits = network(x)
        loss = functional.cross_entropy(logits, y).item()
        predicted = logits.argmax(dim=1)
    accuracy = (predicted == y).float().mean().item()
    return {
        "validationLoss": loss,
        "validationAccuracy": accuracy,
        "validationMacroF1": macro_f1(y.cpu().numpy(), predicted.cpu().numpy(), classes),
    }


def load_checkpoint(directory, fingerprint, network, optimizer, device):
    """(epochs done, metrics lines so far) from a matching checkpoint, or (0, []) to start afresh."""
    path = os.path.join(directory, CHECKPOINT_FILE)
    if not os.path.isfile(path):
        return 0, []
    try:
        state = torch.load(path, map_location=device)
    except Exception as error:  # a truncated or foreign file: start again rather than fail
        log("checkpoint-unreadable", path=path, error=f"{type(error).__name__}: {error}")
        return 0, []
    if state.get("format") != CHECKPOINT_FORMAT or state.get("fingerprint") != fingerprint:
        log("checkpoint-ignored", path=path, reason="written for other inputs or hyperparameters")
        return 0, []
    network.load_state_dict(state["network"])
    optimizer.load_state_dict(state["optimizer"])
    log("resumed", fromEpoch=state["epoch"], path=path)
    return state["epoch"], state["metrics"]


def save_checkpoint(directory, fingerprint, epoch, network, optimizer, metrics):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, CHECKPOINT_FILE)
    partial = path + ".partial"
    state = {
        "format": CHECKPOINT_FORMAT,
        "fingerprint": fingerprint,
        "epoch": epoch,
        "network": network.state_dict(),
        "optimizer": optimizer.state_dict(),
        "metrics": metrics,
    }
    torch.save(state, partial)
    os.replace(partial, path)


def main():
    task = env("MLCYCLE_TASK")
    if task != "multiclass":
        raise TrainerError(f"task {task} is not supported: this trainer does multiclass (trainer.yaml tasks)")
    target = env("MLCYCLE_TARGET")
    output_dir = env("MLCYCLE_OUTPUT_DIR")
    checkpoint_dir = env("MLCYCLE_CHECKPOINT_DIR")
    hp = read_hyperparameters()
    train_path = env("MLCYCLE_TRAIN")
    validation_path = env("MLCYCLE_VALIDATION", required=False)

    columns, rows = read_rows(train_path, "MLCYCLE_TRAIN")
    labels = read_labels(columns, rows, target, "MLCYCLE_TRAIN")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise TrainerError(f"target {target} has a single class in MLCYCLE_TRAIN ({classes[0] if classes else 'none'})")
    index_of = {label: i for i, label in enumerate(classes)}
    features, ignored = describe_columns(columns, rows, target)
    if not features:
        raise TrainerError("MLCYCLE_TRAIN has no usable feature column besides the target")
    fit_scaling(features, columns, rows)

    device, device_note = choose_device()
    if device_note:
        log("warning", message=device_note)
    x_train = torch.from_numpy(to_matrix(features, columns, rows, "MLCYCLE_TRAIN")).to(device)
    y_train = torch.tensor([index_of[label] for label in labels], dtype=torch.long, device=device)

    x_valid = y_valid = None
    if validation_path:
        v_columns, v_rows = read_rows(validation_path, "MLCYCLE_VALIDATION")
        v_labels = read_labels(v_columns, v_rows, target, "MLCYCLE_VALIDATION")
        known = [i for i, label in enumerate(v_labels) if label in index_of]
        if len(known) < len(v_rows):
            log("warning", message=f"{len(v_rows) - len(known)} validation rows have classes unseen in training")
        v_rows = [v_rows[i] for i in known]
        if v_rows:
            x_valid = torch.from_numpy(to_matrix(features, v_columns, v_rows, "MLCYCLE_VALIDATION")).to(device)
            y_valid = torch.tensor([index_of[v_labels[i]] for i in known], dtype=torch.long, device=device)
    counts = np.bincount(y_train.cpu().numpy(), minlength=len(classes))
    log("data", trainRows=len(rows), validationRows=0 if y_valid is None else len(y_valid), classes=classes,
        features=[f["name"] for f in features], ignored=ignored, device=str(device))

    torch.manual_seed(hp["seed"])
    network = build_network(input_width(features), hp["hidden_units"], hp["hidden_layers"], hp["dropout"],
                            len(classes)).to(device)
    optimizer = torch.optim.Adam(network.parameters(), lr=hp["learning_rate"], weight_decay=hp["weight_decay"])
    weights = None
    if hp["class_weighting"] == "balanced":
        weights = torch.tensor(len(rows) / (len(classes) * np.maximum(counts, 1)), dtype=torch.float32, device=device)

    fingerprint = hashlib.sha256(json.dumps({
        "hyperparameters": hp, "target": target, "train": file_sha256(train_path),
        "validation": file_sha256(validation_path) if validation_path else None,
    }, sort_keys=True).encode()).hexdigest()
    done, history = load_checkpoint(checkpoint_dir, fingerprint, network, optimizer, device)

    metrics_path = os.path.join(output_dir, "metrics.jsonl")
    with open(metrics_path, "w", encoding="utf-8") as metrics_file:
        for line in history:
            metrics_file.write(json.dumps(line) + "\n")
        metrics_file.flush()
        n = len(rows)
        for epoch in range(done + 1, hp["epochs"] + 1):
            started = time.monotonic()
            # Shuffle and dropout seeded by (seed, epoch): a resumed run repeats them exactly.
            epoch_seed = hp["seed"] * 100_003 + epoch
            torch.manual_seed(epoch_seed)
            order = torch.randperm(n, generator=torch.Generator().manual_seed(epoch_seed)).to(device)
            network.train()
            total = 0.0
            for start in range(0, n, hp["batch_size"]):
                batch = order[start:start + hp["batch_size"]]
                optimizer.zero_grad()
                loss = functional.cross_entropy(network(x_train[batch]), y_train[batch], weight=weights)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            line = {"epoch": epoch, "trainLoss": total / n}
            if y_valid is not None:
                line.update(evaluate(network, x_valid, y_valid, len(classes)))
            line["seconds"] = round(time.monotonic() - started, 4)
            if epoch == done + 1 and done > 0:
                line["resumedFromEpoch"] = done
            history.append(line)
            metrics_file.write(json.dumps(line) + "\n")
            metrics_file.flush()
            save_checkpoint(checkpoint_dir, fingerprint, epoch, network, optimizer, history)
            log("epoch", **line)

    model_dir = os.path.join(output_dir, "model")
    os.makedirs(model_dir, exist_ok=True)
    torch.save({k: v.cpu() for k, v in network.state_dict().items()}, os.path.join(model_dir, "weights.pt"))
    description = {
        "format": "torch-segment/1",
        "target": target,
        "classes": classes,
        "features": features,
        "ignored": ignored,
        "network": {"inputWidth": input_width(features), "hiddenUnits": hp["hidden_units"],
                    "hiddenLayers": hp["hidden_layers"], "dropout": hp["dropout"]},
        "torch": torch.__version__,
    }
    with open(os.path.join(model_dir, "model.json"), "w", encoding="utf-8") as out:
        json.dump(description, out, indent=2)

    reported = {}
    if y_valid is not None:
        last = evaluate(network, x_valid, y_valid, len(classes))
        reported = {"validationLogLoss": last["validationLoss"], "validationAccuracy": last["validationAccuracy"],
                    "validationMacroF1": last["validationMacroF1"]}
        with open(os.path.join(output_dir, "reported-metrics.json"), "w", encoding="utf-8") as out:
            json.dump(reported, out, indent=2)

    card = {
        "framework": f"PyTorch {torch.__version__}",
        "algorithm": f"multilayer perceptron ({hp['hidden_layers']} hidden layers of {hp['hidden_units']})",
        "task": "multiclass",
        "target": target,
        "classes": {label: int(count) for label, count in zip(classes, counts)},
        "intendedUse": (
            "Assigns a player to a segment for live-ops targeting and reporting (offers, messaging, "
            "dashboards). Its output is a probability per segment: the segments overlap, so use the "
            "probabilities, not only the most likely segment."
        ),
        "features": [
            {"name": f["name"], "kind": f["kind"],
             **({"categories": len(f["categories"])} if f["kind"] == "categorical" else {"log1p": f["log1p"]})}
            for f in features
        ],
        "ignoredColumns": ignored,
        "training": {
            "rows": len(rows),
            "validationRows": 0 if y_valid is None else len(y_valid),
            "epochs": hp["epochs"],
            "resumedFromEpoch": done or None,
            "device": str(device),
            "hyperparameters": hp,
        },
        "limitations": [
            "Small classes (whales) are rare: read macro-F1 and per-class recall, not accuracy alone.",
            "Categories unseen in training, and rare ones, share one '(other)' input.",
        ],
        "notes": [note for note in [device_note] if note],
    }
    if reported:
        card["validation"] = reported
    with open(os.path.join(output_dir, "model-card.json"), "w", encoding="utf-8") as out:
        json.dump(card, out, indent=2)
    log("done", epochs=hp["epochs"], resumedFromEpoch=done or None, **reported)


if __name__ == "__main__":
    run(main)
