"""The demo: a small digit classifier trained epoch by epoch, every step tracked.

It is an ordinary script. Run it bare (`python train.py`) and it logs to a
local run directory; run it through the daemon (`mlops run train.py`) and the
daemon records its params, live metrics, output and artifacts.
"""

import pickle

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlops_kernel import get_params, log_artifact, log_metric, log_params

defaults = {"epochs": 15, "alpha": 0.0005, "seed": 42, "test_size": 0.25}
params = {**defaults, **get_params()}
log_params(params)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=float(params["test_size"]), random_state=int(params["seed"]), stratify=y
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

model = SGDClassifier(
    loss="log_loss", alpha=float(params["alpha"]), random_state=int(params["seed"])
)
classes = np.unique(y)
rng = np.random.default_rng(int(params["seed"]))
for epoch in range(int(params["epochs"])):
    order = rng.permutation(len(X_train))
    model.partial_fit(X_train[order], y_train[order], classes=classes)
    train_loss = log_loss(y_train, model.predict_proba(X_train), labels=classes)
    accuracy = accuracy_score(y_test, model.predict(X_test))
    log_metric("train_loss", train_loss, step=epoch)
    log_metric("accuracy", accuracy, step=epoch)
    print(f"epoch {epoch + 1:2d}  train_loss={train_loss:.4f}  accuracy={accuracy:.4f}")

with open("model.pkl", "wb") as fh:
    pickle.dump({"scaler": scaler, "model": model}, fh)
log_artifact("model.pkl")
print(f"final accuracy on {len(y_test)} held-out digits: {accuracy:.4f}")
