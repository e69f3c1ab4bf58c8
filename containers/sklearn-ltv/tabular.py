"""The contract's plumbing for this trainer: environment, rows in, errors out, column encoding.

Standard library and NumPy only. See docs/trainer-contract.md for the contract itself.
"""

import csv
import json
import math
import os
import sys
import traceback
from collections import Counter

import numpy as np

TRAINER = "sklearn-ltv"

# A categorical column keeps its most frequent values; the rest, and values first seen at
# predict time, share one "(other)" code.
MAX_CATEGORIES = 50


class TrainerError(Exception):
    """Bad input or configuration: one line on stderr, exit code 1."""


def run(main):
    """Runs main() under the contract's failure rule: exit 0, or one line on stderr and exit 1."""
    try:
        main()
    except TrainerError as error:
        print(f"{TRAINER}: {error}", file=sys.stderr)
        sys.exit(1)
    except Exception as error:  # an unexpected failure: the traceback goes to the log (stdout)
        traceback.print_exc(file=sys.stdout)
        message = str(error).replace("\n", " ")
        print(f"{TRAINER}: unexpected {type(error).__name__}: {message}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


def env(name, required=True):
    value = os.environ.get(name, "")
    if required and not value:
        raise TrainerError(f"{name} is not set (see docs/trainer-contract.md)")
    return value


def log(event, **fields):
    """Progress for the job log, one JSON object per line."""
    print(json.dumps({"event": event, **fields}), flush=True)


def read_rows(path, what):
    """A table as (columns, rows of strings); '' is a missing value. CSV with a header, or JSON Lines."""
    if not os.path.isfile(path):
        raise TrainerError(f"{what} {path} does not exist")
    if path.endswith(".jsonl"):
        return _read_jsonl(path, what)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        columns = next(reader, None)
        if not columns:
            raise TrainerError(f"{what} {path} is empty: a CSV with a header row is expected")
        rows = []
        for number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(columns):
                raise TrainerError(f"{what} line {number} has {len(row)} fields, the header has {len(columns)}")
            rows.append(row)
    return columns, rows


def _read_jsonl(path, what):
    columns, records = [], []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise TrainerError(f"{what} line {number} is not JSON") from None
            if not isinstance(record, dict):
                raise TrainerError(f"{what} line {number} is not a JSON object")
            for key in record:
                if key not in columns:
                    columns.append(key)
            records.append(record)

    def text(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return columns, [[text(record.get(column)) for column in columns] for record in records]


def to_number(text):
    """A float for a numeric cell, NaN for a blank one, None when the text is not a number."""
    if text == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else math.nan


def describe_columns(columns, rows, target):
    """Each feature column's kind, learned from the training rows, and the columns left out.

    numeric: every non-blank value parses as a number. categorical: anything else; its most
    frequent values are kept. Left out: columns blank in every row, and identifier-like ones
    (more than MAX_CATEGORIES distinct values, on over half of the rows: a player id, a timestamp).
    """
    features, ignored = [], []
    for index, name in enumerate(columns):
        if name == target:
            continue
        present = [row[index] for row in rows if row[index] != ""]
        if not present:
            ignored.append({"name": name, "reason": "blank in every training row"})
            continue
        if all(to_number(value) is not None for value in present):
            features.append({"name": name, "kind": "numeric"})
            continue
        counts = Counter(present)
        if len(counts) > MAX_CATEGORIES and len(counts) > len(present) / 2:
            reason = f"identifier-like: {len(counts)} distinct values in {len(present)} rows"
            ignored.append({"name": name, "reason": reason})
            continue
        # Most frequent first; ties by value, so the encoding does not depend on row order.
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        categories = [value for value, _ in ranked[:MAX_CATEGORIES]]
        features.append({"name": name, "kind": "categorical", "categories": categories})
    return features, ignored


def encode(features, columns, rows, what):
    """The feature matrix for HistGradientBoosting: numbers as they are, categories as codes.

    A category's code is its index in the learned list; rare and unknown values share the next
    code ("(other)"); blanks are NaN, which the model treats as missing.
    """
    positions = {name: index for index, name in enumerate(columns)}
    absent = [f["name"] for f in features if f["name"] not in positions]
    if absent:
        raise TrainerError(f"{what} lacks the feature columns {', '.join(absent)}")
    matrix = np.empty((len(rows), len(features)), dtype=np.float64)
    for j, feature in enumerate(features):
        index = positions[feature["name"]]
        if feature["kind"] == "numeric":
            for i, row in enumerate(rows):
                value = to_number(row[index])
                if value is None:
                    raise TrainerError(
                        f"{what} row {i + 1}: column {feature['name']} is numeric, got {row[index]!r}"
                    )
                matrix[i, j] = value
        else:
            codes = {value: code for code, value in enumerate(feature["categories"])}
            other = len(feature["categories"])
            for i, row in enumerate(rows):
                value = row[index]
                matrix[i, j] = math.nan if value == "" else codes.get(value, other)
    return matrix
