"""unseeded-random: randomness that no seed fixes, so each run gives other numbers.

Three kinds of randomness are told apart:

* global generators (numpy's ``np.random.*``, the ``random`` module, torch's
  ``torch.randn``, ``nn.Linear(...)`` weights, ``DataLoader(shuffle=True)``):
  fine once the notebook seeded that library *earlier in document order*; a
  function or class defined in the notebook that draws from them counts at
  the cells that call it, so ``torch.manual_seed(42); model = Net()`` is fine;
* generators created without a seed (``np.random.default_rng()``,
  ``np.random.RandomState()``, ``random.Random()``): always reported;
* scikit-learn estimators, splitters and data generators that take a
  ``random_state`` and are random with the arguments given: reported where
  called without one, even after ``np.random.seed`` (that only holds while
  every call happens in the same order).

Only names imported from those libraries count, never look-alikes.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from mlops_kernel.notebook.analysis import NotebookAnalysis
from mlops_kernel.notebook.lint_lessons import finding, where
from mlops_kernel.notebook.lint_names import (
    callee,
    constant,
    eager_calls,
    eager_nodes,
    import_targets,
    keyword,
    qualname,
    top_level_definitions,
)
from mlops_kernel.notebook.schemas import Finding
from mlops_kernel.notebook.source import Cell

LIBRARIES = ("numpy", "random", "torch")
SEED_CALLS = {
    "numpy": "np.random.seed(...)",
    "random": "random.seed(...)",
    "torch": "torch.manual_seed(...)",
}

_NOT_SAMPLING = {
    "numpy": {"seed", "get_state", "set_state", "SeedSequence", "BitGenerator", "Generator",
              "PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64", "bit_generator"},
    "random": {"seed", "getstate", "setstate", "SystemRandom", "Random"},
}  # fmt: skip
_TORCH_SAMPLING = {
    "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
    "normal", "bernoulli", "multinomial", "poisson",
}  # fmt: skip
_TORCH_LAYERS = {
    "Linear", "Bilinear", "LazyLinear", "Embedding", "EmbeddingBag", "RNN", "LSTM", "GRU",
    "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention", "Transformer",
    "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerDecoder",
}  # fmt: skip
_TORCH_INIT_CONSTANT = {"zeros_", "ones_", "constant_", "eye_", "dirac_", "calculate_gain"}
_SEED_EVERYTHING = ("seed_everything", "set_seed", "set_random_seed")
_SEED_EVERYTHING_ROOTS = ("lightning", "pytorch_lightning", "lightning_fabric", "transformers",
                          "accelerate", "keras")  # fmt: skip
"""Libraries whose seed_everything/set_seed seeds Python's, numpy's and torch's generators."""


def _truthy(call: ast.Call, name: str) -> bool:
    return constant(keyword(call, name)) is True


def _is(name: str, *values: object) -> Callable[[ast.Call], bool]:
    return lambda call: constant(keyword(call, name)) in values


_SKLEARN_ALWAYS = {
    "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier",
    "ExtraTreesRegressor", "GradientBoostingClassifier", "GradientBoostingRegressor",
    "HistGradientBoostingClassifier", "HistGradientBoostingRegressor", "BaggingClassifier",
    "BaggingRegressor", "AdaBoostClassifier", "AdaBoostRegressor", "IsolationForest",
    "RandomTreesEmbedding", "DecisionTreeClassifier", "DecisionTreeRegressor",
    "ExtraTreeClassifier", "ExtraTreeRegressor", "MLPClassifier", "MLPRegressor",
    "BernoulliRBM", "SGDClassifier", "SGDRegressor", "SGDOneClassSVM", "Perceptron",
    "PassiveAggressiveClassifier", "PassiveAggressiveRegressor", "KMeans", "MiniBatchKMeans",
    "BisectingKMeans", "GaussianMixture", "BayesianGaussianMixture", "SpectralClustering",
    "TSNE", "MDS", "TruncatedSVD", "LatentDirichletAllocation", "FastICA",
    "MiniBatchDictionaryLearning", "RBFSampler", "Nystroem", "SkewedChi2Sampler",
    "GaussianRandomProjection", "SparseRandomProjection", "TargetEncoder", "ShuffleSplit",
    "StratifiedShuffleSplit", "GroupShuffleSplit", "RepeatedKFold", "RepeatedStratifiedKFold",
    "RandomizedSearchCV", "permutation_importance", "permutation_test_score",
    "make_classification", "make_regression", "make_blobs", "make_moons", "make_circles",
    "make_friedman1", "make_friedman2", "make_friedman3", "make_s_curve", "make_swiss_roll",
    "make_multilabel_classification", "make_gaussian_quantiles", "make_hastie_10_2",
    "make_low_rank_matrix", "make_sparse_coded_signal", "make_spd_matrix",
    "make_sparse_spd_matrix", "make_biclusters", "make_checkerboard", "resample", "shuffle",
}  # fmt: skip
"""scikit-learn callables that take ``random_state`` and are random with their defaults."""

_SKLEARN_WHEN: dict[str, Callable[[ast.Call], bool]] = {
    "train_test_split": lambda call: constant(keyword(call, "shuffle")) is not False,
    "KFold": lambda call: _truthy(call, "shuffle"),
    "StratifiedKFold": lambda call: _truthy(call, "shuffle"),
    "GroupKFold": lambda call: _truthy(call, "shuffle"),
    "StratifiedGroupKFold": lambda call: _truthy(call, "shuffle"),
    "learning_curve": lambda call: _truthy(call, "shuffle"),
    "SVC": lambda call: _truthy(call, "probability"),
    "NuSVC": lambda call: _truthy(call, "probability"),
    "Lasso": _is("selection", "random"),
    "ElasticNet": _is("selection", "random"),
    "LassoCV": _is("selection", "random"),
    "ElasticNetCV": _is("selection", "random"),
    "MultiTaskLasso": _is("selection", "random"),
    "MultiTaskElasticNet": _is("selection", "random"),
    "Ridge": _is("solver", "sag", "saga"),
    "RidgeClassifier": _is("solver", "sag", "saga"),
    "LogisticRegression": _is("solver", "sag", "saga", "liblinear"),
    "PCA": _is("svd_solver", "randomized", "arpack"),
    "NMF": _is("init", "random", "nndsvdar"),
}
"""scikit-learn callables that are random only with some arguments (given as literals)."""


def _global_use(qual: str, call: ast.Call) -> str | None:
    """The library whose global generator this call draws from, if any."""
    for library in ("numpy", "random"):
        prefix = "numpy.random." if library == "numpy" else "random."
        if qual.startswith(prefix) and qual[len(prefix) :] not in _NOT_SAMPLING[library]:
            return library
    if not qual.startswith("torch."):
        return None
    last = qual.rsplit(".", 1)[1]
    if qual.count(".") == 1 and last in _TORCH_SAMPLING:
        return "torch"
    if qual.startswith("torch.nn.") and (
        last in _TORCH_LAYERS or last.startswith(("Conv", "LazyConv"))
    ):
        return "torch"
    if qual.startswith("torch.nn.init.") and last not in _TORCH_INIT_CONSTANT:
        return "torch"
    if qual.startswith("torch.utils.data.") and keyword(call, "generator") is None:
        if last == "DataLoader" and _truthy(call, "shuffle"):
            return "torch"
        if last in {"random_split", "RandomSampler", "SubsetRandomSampler"}:
            return "torch"
    return None


def _seeds(qual: str, call: ast.Call) -> set[str]:
    """Libraries this call seeds."""
    if qual in {"numpy.random.seed", "random.seed"}:
        return {"numpy" if qual.startswith("numpy") else "random"}
    if qual in {"torch.manual_seed", "torch.random.manual_seed"}:
        return {"torch"}
    if qual in {"numpy.random.default_rng", "numpy.random.RandomState"} and _seeded_generator(call):
        return {"numpy"}
    last = qual.rsplit(".", 1)[-1]
    if last in _SEED_EVERYTHING and qual.startswith(_SEED_EVERYTHING_ROOTS):
        return set(LIBRARIES)
    return set()


def _seeded_generator(call: ast.Call) -> bool:
    seed = call.args[0] if call.args else keyword(call, "seed")
    return seed is not None and constant(seed) is not None


def _unseeded_generator(qual: str, call: ast.Call) -> bool:
    generators = {"numpy.random.default_rng", "numpy.random.RandomState", "random.Random"}
    return qual in generators and not _seeded_generator(call)


@dataclass
class _Summary:
    """What calling a notebook-defined function or class does to the global generators."""

    seeds: set[str] = field(default_factory=set)
    draws: dict[str, str] = field(default_factory=dict)  # library -> what draws, e.g. 'torch.randn'


@dataclass
class _State:
    imports: dict[str, str] = field(default_factory=dict)
    seeded: set[str] = field(default_factory=set)
    reported: set[str] = field(default_factory=set)
    summaries: dict[str, _Summary] = field(default_factory=dict)
    dict_keys: dict[str, frozenset[str] | None] = field(default_factory=dict)

    def report_unseeded(self, library: str) -> bool:
        """Whether a draw from ``library`` is to be reported: not seeded, not yet reported.

        Marks it reported, so each library is reported once, at its first unseeded draw.
        """
        if library in self.seeded or library in self.reported:
            return False
        self.reported.add(library)
        return True


def _summarise(node: ast.AST, state: _State) -> _Summary:
    imports = {**state.imports, **_local_imports(node)}
    summary = _Summary()
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        qual = qualname(call.func, imports)
        if qual is not None:
            summary.seeds |= _seeds(qual, call)
            library = _global_use(qual, call)
            if library is not None:
                summary.draws.setdefault(library, callee(call))
        elif isinstance(call.func, ast.Name) and call.func.id in state.summaries:
            inner = state.summaries[call.func.id]
            summary.seeds |= inner.seeds
            for library, what in inner.draws.items():
                summary.draws.setdefault(library, what)
    for library in summary.seeds:
        summary.draws.pop(library, None)
    return summary


def _local_imports(node: ast.AST) -> dict[str, str]:
    found: dict[str, str] = {}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import | ast.ImportFrom):
            found.update(import_targets(ast.Module(body=[sub], type_ignores=[])))
    return found


def _dict_keys(value: ast.expr) -> frozenset[str] | None:
    """The keys of a dict literal or dict(...) call; None when they cannot be known."""
    if isinstance(value, ast.Dict):
        keys = [constant(key) if key is not None else None for key in value.keys]
        if all(isinstance(key, str) for key in keys):
            return frozenset(str(key) for key in keys)
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "dict"
        and not value.args
        and all(kw.arg for kw in value.keywords)
    ):
        return frozenset(str(kw.arg) for kw in value.keywords)
    return None


def _track_dicts(statement: ast.stmt, state: _State) -> None:
    """Follow dict literals bound at top level, so ``f(**params)`` can be checked."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    state.dict_keys[target.id] = _dict_keys(node.value)
                elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                    known = state.dict_keys.get(target.value.id)
                    key = constant(target.slice)
                    if known is not None and isinstance(key, str):
                        state.dict_keys[target.value.id] = known | {key}
                    else:
                        state.dict_keys[target.value.id] = None
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            if isinstance(receiver, ast.Name) and node.func.attr in {"update", "setdefault"}:
                state.dict_keys[receiver.id] = None


def _sklearn_unseeded(qual: str, call: ast.Call, state: _State) -> bool:
    if not qual.startswith("sklearn."):
        return False
    last = qual.rsplit(".", 1)[1]
    rule = _SKLEARN_WHEN.get(last)
    if last not in _SKLEARN_ALWAYS and (rule is None or not rule(call)):
        return False
    given = keyword(call, "random_state")
    if given is not None:
        return constant(given) is None
    for kw in call.keywords:
        if kw.arg is None:  # **kwargs: fine unless it is a dict we know lacks random_state
            keys = state.dict_keys.get(kw.value.id) if isinstance(kw.value, ast.Name) else None
            if keys is None or "random_state" in keys:
                return False
    return True


def check_random(analysis: NotebookAnalysis) -> Iterator[Finding]:
    """unseeded-random over the whole notebook, in document order."""
    state = _State()
    for info in analysis.cells:
        if info.tree is None:
            continue
        sklearn_seen: set[str] = set()
        for statement in info.tree.body:
            state.imports.update(import_targets(statement))
            yield from _sklearn(statement, info.cell, state, sklearn_seen)
            yield from _statement(statement, info.cell, state)
            _track_dicts(statement, state)
            _forget_rebound(statement, state)
            for definition in top_level_definitions(ast.Module(body=[statement], type_ignores=[])):
                state.summaries[definition.name] = _summarise(definition, state)


def _sklearn(statement: ast.stmt, cell: Cell, state: _State, seen: set[str]) -> Iterator[Finding]:
    """scikit-learn calls without random_state, anywhere in the statement (bodies too)."""
    imports = {**state.imports, **_local_imports(statement)}
    for node in ast.walk(statement):
        if not isinstance(node, ast.Call):
            continue
        qual = qualname(node.func, imports)
        what = callee(node)
        if qual and what not in seen and _sklearn_unseeded(qual, node, state):
            seen.add(what)
            message = (
                f"'{what}(...)' in {where(cell, node.lineno)} is random "
                f"but is called without random_state"
            )
            yield finding("unseeded-random", cell, message, node.lineno)


def _forget_rebound(statement: ast.stmt, state: _State) -> None:
    """A name bound to something else than an import no longer names the library."""
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return
    for node in eager_nodes(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            state.imports.pop(node.id, None)
            state.summaries.pop(node.id, None)


def _statement(statement: ast.stmt, cell: Cell, state: _State) -> Iterator[Finding]:
    """Findings of one top-level statement; updates which libraries are seeded."""
    for call in eager_calls(statement):
        qual = qualname(call.func, state.imports)
        what = callee(call)
        if qual is not None:
            state.seeded |= _seeds(qual, call)
            if _unseeded_generator(qual, call):
                message = (
                    f"'{what}()' in {where(cell, call.lineno)} creates a generator with no seed"
                )
                yield finding("unseeded-random", cell, message, call.lineno)
                continue
            library = _global_use(qual, call)
            if library is not None and state.report_unseeded(library):
                message = (
                    f"'{what}(...)' in {where(cell, call.lineno)} is random "
                    f"and nothing before it calls {SEED_CALLS[library]}"
                )
                yield finding("unseeded-random", cell, message, call.lineno)
        elif isinstance(call.func, ast.Name) and call.func.id in state.summaries:
            summary = state.summaries[call.func.id]
            state.seeded |= summary.seeds
            for library, inner in sorted(summary.draws.items()):
                if state.report_unseeded(library):
                    message = (
                        f"'{what}(...)' in {where(cell, call.lineno)} draws random numbers "
                        f"('{inner}') and nothing before it calls {SEED_CALLS[library]}"
                    )
                    yield finding("unseeded-random", cell, message, call.lineno)
