#!/usr/bin/env python3
"""Generate lambdas/contracts/rollout-vectors.json, the published test vectors of the rollout
assignment rule, from this independent Python implementation (not from the TypeScript under
test). Run once and commit the output:

    /usr/bin/python3 clients/vectors/generate.py > lambdas/contracts/rollout-vectors.json

The rule (docs/rollouts.md): bucket = fmix32(FNV-1a-32(UTF-8 of f"{rollout_id}:{player_id}")) % 10000;
variants take consecutive bucket ranges in listed order (canary first, control last).
"""
import json

M = 0xFFFFFFFF


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & M
    return h


def fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M
    h ^= h >> 16
    return h


def variant_for(bucket: int, weights) -> str:
    end = 0
    for w in weights:
        end += w["weight"]
        if bucket < end:
            return w["name"]
    return weights[-1]["name"]


WEIGHT_SETS = {
    "canary-5": [{"name": "canary", "weight": 500}, {"name": "control", "weight": 9500}],
    "canary-25": [{"name": "canary", "weight": 2500}, {"name": "control", "weight": 7500}],
    "ab-50-50": [{"name": "treatment", "weight": 5000}, {"name": "control", "weight": 5000}],
    "abc-20-30-50": [
        {"name": "b", "weight": 2000},
        {"name": "c", "weight": 3000},
        {"name": "control", "weight": 5000},
    ],
    "blue-green-100": [{"name": "green", "weight": 10000}, {"name": "blue", "weight": 0}],
}

CASES = [
    ("plain ascii", "r-2026-12-01-churn", "player-1"),
    ("sequential id 2", "r-2026-12-01-churn", "player-2"),
    ("sequential id 3", "r-2026-12-01-churn", "player-3"),
    ("same player, other rollout", "r-2026-12-02-churn", "player-1"),
    ("numeric id", "churn-7", "1234567890"),
    ("uuid", "churn-7", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
    ("empty player id", "churn-7", ""),
    ("single space", "churn-7", " "),
    ("colon inside player id", "churn-7", "a:b"),
    ("latin-1 accents (NFC é)", "churn-7", "joueur-\u00e9l\u00e9onore"),
    ("decomposed e + combining acute (NFD), hashed as given", "churn-7", "joueur-e\u0301le\u0301onore"),
    ("CJK", "churn-7", "\u73a9\u5bb6\u4e00\u53f7"),
    ("Cyrillic", "churn-7", "\u0438\u0433\u0440\u043e\u043a-42"),
    ("emoji outside the BMP (surrogate pair in UTF-16)", "churn-7", "\U0001F3AE-gamer"),
    ("zero-width joiner sequence", "churn-7", "\U0001F469\u200D\U0001F4BB"),
    ("right-to-left Arabic", "churn-7", "\u0644\u0627\u0639\u0628"),
    ("NUL inside", "churn-7", "a\u0000b"),
    ("tab and newline", "churn-7", "a\tb\nc"),
    ("long id (1000 x)", "churn-7", "x" * 1000),
    ("long unicode id (300 x snowman)", "churn-7", "\u2603" * 300),
    ("upper case differs from lower", "churn-7", "PLAYER-1"),
    ("lower case", "churn-7", "player-1"),
    ("trailing space differs", "churn-7", "player-1 "),
    ("steam-like id", "rollout.v2_a", "76561197960287930"),
    ("email-like id (clients should hash an opaque id)", "rollout.v2_a", "someone@example.com"),
]


def main() -> None:
    vectors = []
    for note, rollout_id, player_id in CASES:
        data = f"{rollout_id}:{player_id}".encode("utf-8")
        h = fnv1a32(data)
        mixed = fmix32(h)
        bucket = mixed % 10000
        vectors.append(
            {
                "note": note,
                "rolloutId": rollout_id,
                "playerId": player_id,
                "utf8Hex": data.hex(),
                "fnv1a32": h,
                "mixed": mixed,
                "bucket": bucket,
                "variants": {name: variant_for(bucket, ws) for name, ws in WEIGHT_SETS.items()},
            }
        )
    out = {"hash": "fnv1a32-fmix32-mod10000", "weightSets": WEIGHT_SETS, "vectors": vectors}
    print(json.dumps(out, indent=2, ensure_ascii=True))


if __name__ == "__main__":
    main()
