"""One or two plain sentences per check kind: what goes wrong in production without it.

Written for data scientists new to software engineering; shown next to every gate check.
"""

from __future__ import annotations

LESSONS: dict[str, str] = {
    "tests": (
        "Tests pin down what the training code does today, so a later edit that silently "
        "changes a feature or a split is caught before a model trained with it ships."
    ),
    "onnx_valid": (
        "The model file that gets deployed must load and run without your notebook around "
        "it; a file that only works in your session fails the first request in production."
    ),
    "metric": (
        "A fixed quality bar stops a model that trained without errors but learned too "
        "little (a bad split, a broken feature) from replacing a useful one."
    ),
    "no_regression": (
        "A new model should be at least as good as the one serving now; without this check "
        "a retrain on worse data quietly makes predictions worse for every user."
    ),
    "data": (
        "Models trust their input: a renamed column, a wave of nulls or values in the wrong "
        "unit train a broken model without any error, so the data is checked first."
    ),
    "fairness": (
        "A model can be accurate overall yet select or miss one group of people far more "
        "often than another; measuring it per group catches harm averages hide."
    ),
    "onnx_parity": (
        "The exported model must predict what the trained one did; conversion can change "
        "results (types, preprocessing), and then production answers differ from your tests."
    ),
    "reproducible": (
        "Training again from the same code, data and seed must give the same result; if it "
        "does not, nobody can rebuild, debug or audit the model that is serving."
    ),
}
