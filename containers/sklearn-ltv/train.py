"""Train entry of sklearn-ltv: a player's 90-day lifetime value with HistGradientBoostingRegressor.

Contract mlcycle.trainer/v1 (docs/trainer-contract.md). Reads MLCYCLE_TRAIN (and
MLCYCLE_VALIDATION when given), writes model/, metrics.jsonl, model-card.json and
reported-metrics.json to MLCYCLE_OUTPUT_DIR.

Early stopping: trees are added in rounds of EVAL_EVERY (warm start); after each round the
validation loss is measured, and training stops once it has not improved for
early_stopping_rounds iterations. The model kept has the iteration count with the lowest
validation loss (boosting is deterministic here, so refitting to that count reproduces the
same trees). metrics.jsonl has one line per iteration, from staged predictions.

Checkpoints: none. A run over a few hundred thousand rows takes seconds to a few minutes on one
CPU, so a retried job (a Spot reclaim) simply trains again from the start; MLCYCLE_CHECKPOINT_DIR
is left untouched.
"""

import json
import math
import os

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor
from tabular import TrainerError, describe_columns, encode, env, log, read_rows, run, to_number

EVAL_EVERY = 10
DECLARED = {
    "max_iter",
    "learning_rate",
    "max_leaf_nodes",
    "min_samples_leaf",
    "l2_regularization",
    "loss",
    "early_stopping_rounds",
    "seed",
}
DEFAULTS = {
    "max_iter": 300,
    "learning_rate": 0.1,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 20,
    "l2_regularization": 0.0,
    "loss": "squared_error",
    "early_stopping_rounds": 30,
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
    unknown = sorted(set(given) - DECLARED)
    if unknown:
        raise TrainerError(f"unknown hyperparameters {', '.join(unknown)} (declared: {', '.join(sorted(DECLARED))})")
    return {**DEFAULTS, **given}


def read_target(columns, rows, target, what):
    if target not in columns:
        shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
        raise TrainerError(f"target column {target} is not in {what} (columns: {shown})")
    index = columns.index(target)
    values = np.empty(len(rows), dtype=np.float64)
    for i, row in enumerate(rows):
        value = to_number(row[index])
        if value is None or math.isnan(value):
            raise TrainerError(f"{what} row {i + 1}: target {target} must be a number, got {row[index]!r}")
        values[i] = value
    return values


def scores(y, predicted):
    error = predicted - y
    rmse = float(np.sqrt(np.mean(error**2)))
    mae = float(np.mean(np.abs(error)))
    variance = float(np.var(y))
    r2 = 1 - float(np.mean(error**2)) / variance if variance > 0 else 0.0
    return rmse, mae, r2


def stopping_loss(loss, y, predicted):
    """The validation number early stopping watches: the training loss's own measure."""
    if loss == "absolute_error":
        return float(np.mean(np.abs(predicted - y)))
    if loss == "poisson":
        p = np.maximum(predicted, 1e-12)
        return float(2 * np.mean(np.where(y > 0, y * np.log(np.maximum(y, 1e-12) / p), 0) - (y - p)))
    return float(np.mean((predicted - y) ** 2))


def build_model(hp, categorical_mask, iterations, warm_start):
    return HistGradientBoostingRegressor(
        loss=hp["loss"],
        learning_rate=hp["learning_rate"],
        max_iter=iterations,
        max_leaf_nodes=hp["max_leaf_nodes"],
        min_samples_leaf=hp["min_samples_leaf"],
        l2_regularization=hp["l2_regularization"],
        categorical_features=categorical_mask if categorical_mask.any() else None,
        early_stopping=False,
        warm_start=warm_start,
        random_state=hp["seed"],
    )


def main():
    task = env("MLCYCLE_TASK")
    if task != "regression":
        raise TrainerError(f"task {task} is not supported: this trainer does regression (trainer.yaml tasks)")
    target = env("MLCYCLE_TARGET")
    output_dir = env("MLCYCLE_OUTPUT_DIR")
    hp = read_hyperparameters()

    columns, rows = read_rows(env("MLCYCLE_TRAIN"), "MLCYCLE_TRAIN")
    y_train = read_target(columns, rows, target, "MLCYCLE_TRAIN")
    if len(rows) < 20:
        raise TrainerError(f"MLCYCLE_TRAIN has {len(rows)} rows: at least 20 are needed")
    if hp["loss"] == "poisson" and (y_train < 0).any():
        raise TrainerError(f"loss poisson needs a non-negative target; {target} has negative values")
    features, ignored = describe_columns(columns, rows, target)
    if not features:
        raise TrainerError("MLCYCLE_TRAIN has no usable feature column besides the target")
    x_train = encode(features, columns, rows, "MLCYCLE_TRAIN")

    validation_path = env("MLCYCLE_VALIDATION", required=False)
    x_valid = y_valid = None
    if validation_path:
        v_columns, v_rows = read_rows(validation_path, "MLCYCLE_VALIDATION")
        y_valid = read_target(v_columns, v_rows, target, "MLCYCLE_VALIDATION")
        x_valid = encode(features, v_columns, v_rows, "MLCYCLE_VALIDATION")
    log("data", trainRows=len(rows), validationRows=0 if y_valid is None else len(y_valid),
        features=[f["name"] for f in features], ignored=ignored)

    mask = np.array([f["kind"] == "categorical" for f in features])
    model = build_model(hp, mask, EVAL_EVERY, warm_start=True)
    fitted, best_loss, best_at = 0, math.inf, 0
    patience = hp["early_stopping_rounds"]
    while fitted < hp["max_iter"]:
        fitted = min(fitted + EVAL_EVERY, hp["max_iter"])
        model.set_params(max_iter=fitted)
        model.fit(x_train, y_train)
        if y_valid is None:
            continue
        loss = stopping_loss(hp["loss"], y_valid, model.predict(x_valid))
        if loss < best_loss:
            best_loss, best_at = loss, fitted
        elif patience and fitted - best_at >= patience:
            log("early-stop", iteration=fitted, bestIteration=best_at)
            break

    # One metrics line per iteration, from the staged predictions of the trees fitted so far.
    metrics_path = os.path.join(output_dir, "metrics.jsonl")
    best_iteration, best_staged = fitted, math.inf
    staged_valid = model.staged_predict(x_valid) if y_valid is not None else None
    with open(metrics_path, "w", encoding="utf-8") as out:
        for iteration, train_pred in enumerate(model.staged_predict(x_train), start=1):
            rmse, mae, _ = scores(y_train, train_pred)
            line = {"iteration": iteration, "trainRmse": rmse, "trainMae": mae}
            if staged_valid is not None:
                valid_pred = next(staged_valid)
                v_rmse, v_mae, v_r2 = scores(y_valid, valid_pred)
                line.update(validationRmse=v_rmse, validationMae=v_mae, validationR2=v_r2)
                loss = stopping_loss(hp["loss"], y_valid, valid_pred)
                if loss < best_staged:
                    best_staged, best_iteration = loss, iteration
            out.write(json.dumps(line) + "\n")
    if best_iteration < fitted:
        model = build_model(hp, mask, best_iteration, warm_start=False).fit(x_train, y_train)
    log("trained", iterations=int(model.n_iter_), fittedIterations=fitted)

    model_dir = os.path.join(output_dir, "model")
    os.makedirs(model_dir, exist_ok=True)
    joblib.dump(model, os.path.join(model_dir, "model.joblib"))
    preprocessing = {"format": "sklearn-ltv/1", "target": target, "features": features, "ignored": ignored,
                     "sklearn": sklearn.__version__}
    with open(os.path.join(model_dir, "preprocessing.json"), "w", encoding="utf-8") as out:
        json.dump(preprocessing, out, indent=2)

    reported = {}
    if y_valid is not None:
        rmse, mae, r2 = scores(y_valid, model.predict(x_valid))
        reported = {"validationRmse": rmse, "validationMae": mae, "validationR2": r2}
        with open(os.path.join(output_dir, "reported-metrics.json"), "w", encoding="utf-8") as out:
            json.dump(reported, out, indent=2)

    card = {
        "framework": f"scikit-learn {sklearn.__version__}",
        "algorithm": "HistGradientBoostingRegressor",
        "task": "regression",
        "target": target,
        "intendedUse": (
            "Predicts a player's revenue over the next 90 days from their recent activity and spend, "
            "for ranking and budgeting (who a retention offer or a VIP programme targets); not for "
            "decisions about an individual's rights or credit."
        ),
        "features": [
            {"name": f["name"], "kind": f["kind"], **({"categories": len(f["categories"])} if "categories" in f else {})}
            for f in features
        ],
        "ignoredColumns": ignored,
        "training": {
            "rows": len(rows),
            "validationRows": 0 if y_valid is None else len(y_valid),
            "iterations": int(model.n_iter_),
            "earlyStopping": y_valid is not None,
            "hyperparameters": hp,
        },
        "limitations": [
            "Lifetime value is heavy-tailed: a few players dominate RMSE; read MAE beside it.",
            "Categories unseen in training, and rare ones, share one '(other)' code.",
        ],
        "notes": [
            "No checkpoints: training restarts from the beginning on a retry (it takes seconds to minutes).",
        ],
    }
    if reported:
        card["validation"] = reported
    with open(os.path.join(output_dir, "model-card.json"), "w", encoding="utf-8") as out:
        json.dump(card, out, indent=2)
    log("done", iterations=int(model.n_iter_), **reported)


if __name__ == "__main__":
    run(main)
