"""Predict entry of sklearn-ltv: one predicted 90-day value (a JSON number) per input row, in order.

Contract mlcycle.trainer/v1 (docs/trainer-contract.md): reads MLCYCLE_MODEL_DIR (the model/
directory train.py wrote) and MLCYCLE_INPUT (CSV with a header, or JSON Lines), writes
MLCYCLE_PREDICTIONS.
"""

import json
import math
import os

import joblib
from tabular import TrainerError, encode, env, log, read_rows, run


def main():
    task = env("MLCYCLE_TASK")
    if task != "regression":
        raise TrainerError(f"task {task} is not supported: this trainer does regression (trainer.yaml tasks)")
    model_dir = env("MLCYCLE_MODEL_DIR")
    preprocessing_path = os.path.join(model_dir, "preprocessing.json")
    if not os.path.isfile(preprocessing_path):
        raise TrainerError(f"MLCYCLE_MODEL_DIR {model_dir} has no preprocessing.json: not a model sklearn-ltv wrote")
    with open(preprocessing_path, encoding="utf-8") as handle:
        preprocessing = json.load(handle)
    model = joblib.load(os.path.join(model_dir, "model.joblib"))

    columns, rows = read_rows(env("MLCYCLE_INPUT"), "MLCYCLE_INPUT")
    predictions = model.predict(encode(preprocessing["features"], columns, rows, "MLCYCLE_INPUT")) if rows else []
    with open(env("MLCYCLE_PREDICTIONS"), "w", encoding="utf-8") as out:
        for value in predictions:
            value = float(value)
            if not math.isfinite(value):
                raise TrainerError("the model produced a non-finite prediction")
            out.write(json.dumps(value) + "\n")
    log("predicted", rows=len(rows))


if __name__ == "__main__":
    run(main)
