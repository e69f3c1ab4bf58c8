"""Predict entry of torch-segment: {segment: probability} per input row, one JSON object per line.

Contract mlcycle.trainer/v1 (docs/trainer-contract.md): reads MLCYCLE_MODEL_DIR (the model/
directory train.py wrote) and MLCYCLE_INPUT (CSV with a header, or JSON Lines), writes
MLCYCLE_PREDICTIONS. Runs on the CPU (the evaluation job has no GPU).
"""

import json
import os

import torch
from network import build_network
from tabular import TrainerError, env, log, read_rows, run, to_matrix

BATCH_ROWS = 65_536


def main():
    task = env("MLCYCLE_TASK")
    if task != "multiclass":
        raise TrainerError(f"task {task} is not supported: this trainer does multiclass (trainer.yaml tasks)")
    model_dir = env("MLCYCLE_MODEL_DIR")
    description_path = os.path.join(model_dir, "model.json")
    if not os.path.isfile(description_path):
        raise TrainerError(f"MLCYCLE_MODEL_DIR {model_dir} has no model.json: not a model torch-segment wrote")
    with open(description_path, encoding="utf-8") as handle:
        description = json.load(handle)
    shape = description["network"]
    classes = description["classes"]
    network = build_network(shape["inputWidth"], shape["hiddenUnits"], shape["hiddenLayers"], shape["dropout"],
                            len(classes))
    network.load_state_dict(torch.load(os.path.join(model_dir, "weights.pt"), map_location="cpu"))
    network.eval()

    columns, rows = read_rows(env("MLCYCLE_INPUT"), "MLCYCLE_INPUT")
    with open(env("MLCYCLE_PREDICTIONS"), "w", encoding="utf-8") as out, torch.no_grad():
        for start in range(0, len(rows), BATCH_ROWS):
            x = torch.from_numpy(to_matrix(description["features"], columns, rows[start:start + BATCH_ROWS],
                                           "MLCYCLE_INPUT"))
            probabilities = torch.softmax(network(x).double(), dim=1).tolist()
            for row in probabilities:
                out.write(json.dumps({label: round(p, 6) for label, p in zip(classes, row)}) + "\n")
    log("predicted", rows=len(rows))


if __name__ == "__main__":
    run(main)
