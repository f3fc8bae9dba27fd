"""kpeval from Python.

* :mod:`kpeval.rouge_scorer` — rouge-score 0.1.2's ``RougeScorer``, bit-exact, with a parallel
  ``score_batch``.
* :mod:`kpeval.sacrebleu` — sacreBLEU 2.6's ``corpus_bleu``, ``sentence_bleu``, ``corpus_chrf``,
  ``sentence_chrf``, bit-exact.
* :func:`score`, :func:`evaluate` — kpeval's evaluation of summaries against each article's
  Key Developments (records with scores, and an aggregate with bootstrap CIs per system).
* :func:`compare` — paired bootstrap / randomization tests between systems.
* :func:`meta_eval` — correlations with human judgments (through the ``kpeval`` CLI).

Overlap metrics (ROUGE, BLEU, chrF, token F1, kp-rouge) run in this process. Model metrics
(``kp``, ``kp-tok``, ``kp-cover``, ``bertscore``, ``nli``) run in the ``kpeval`` command-line
tool in a subprocess (found on ``PATH`` or through ``KPEVAL_BIN``), so that kpeval's libtorch
never meets the ``torch`` already imported in a notebook. Nothing here prints.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
import warnings
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _kpeval, rouge_scorer, sacrebleu
from ._kpeval import KpevalError

__all__ = [
    "KpevalError",
    "score",
    "evaluate",
    "compare",
    "meta_eval",
    "rouge_scorer",
    "sacrebleu",
    "OVERLAP_METRICS",
    "MODEL_METRICS",
    "__version__",
]

__version__: str = _kpeval.version()

#: Metric names computed without a model (in this process).
OVERLAP_METRICS = frozenset(
    {"overlap", "rouge", "bleu", "chrf", "chrf++", "token-f1", "tokenf1", "kp-rouge"}
)

Progress = Callable[[int], Any]


def _jsonable(x: Any) -> Any:
    """Plain JSON values from pandas / numpy / datasets rows (NaN and NA become None)."""
    if x is None or isinstance(x, (str, bool, int)):
        return x
    if isinstance(x, float):
        return None if math.isnan(x) else x
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    tolist = getattr(x, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return _jsonable(tolist())
    item = getattr(x, "item", None)
    if callable(item):
        return _jsonable(item())
    try:
        import pandas as pd  # noqa: PLC0415

        if pd.isna(x):
            return None
    except Exception:  # noqa: BLE001 - pandas absent or x not scalar
        pass
    raise TypeError(f"cannot pass a value of type {type(x).__name__} to kpeval")


def _rows(data: Any) -> List[Dict[str, Any]]:
    """Rows of a list of dicts, a pandas DataFrame, a Hugging Face Dataset or a dict of columns."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # pandas DataFrame
        rows = data.to_dict(orient="records")
    elif hasattr(data, "to_list") and hasattr(data, "column_names"):  # datasets.Dataset
        rows = data.to_list()
    elif isinstance(data, Mapping):
        cols = {k: list(v) for k, v in data.items()}
        n = {len(v) for v in cols.values()}
        if len(n) > 1:
            raise ValueError("data: columns of different lengths")
        rows = [{k: v[i] for k, v in cols.items()} for i in range(n.pop() if n else 0)]
    elif isinstance(data, (str, bytes)):
        raise TypeError("data must be rows (a list of dicts, a DataFrame or a Dataset), not a string")
    elif isinstance(data, Iterable):
        rows = list(data)
    else:
        raise TypeError(f"data of type {type(data).__name__}: expected a list of dicts, a DataFrame or a Dataset")
    out = []
    for i, r in enumerate(rows):
        if not isinstance(r, Mapping):
            raise TypeError(f"data row {i} is {type(r).__name__}, not a dict")
        out.append(_jsonable(r))
    return out


def _metric_names(metrics: Union[str, Sequence[str]]) -> str:
    if isinstance(metrics, str):
        names = metrics
    else:
        names = ",".join(metrics)
    if not names.strip():
        raise ValueError("metrics: no metric named")
    return names


#: Metric names that need a model (run by the kpeval CLI in a subprocess).
MODEL_METRICS = frozenset({"kp", "kp-tok", "kp-cover", "bertscore", "nli", "default", "all"})


def _needs_models(names: str) -> bool:
    return any(m.strip() in MODEL_METRICS for m in names.split(","))


def _kpeval_bin(kpeval_bin: Optional[str]) -> str:
    exe = kpeval_bin or os.environ.get("KPEVAL_BIN") or shutil.which("kpeval")
    if not exe or not os.access(exe, os.X_OK):
        raise KpevalError(
            "model metrics (kp, kp-tok, kp-cover, bertscore, nli, default, all) run in the kpeval "
            "command-line tool, which was not found: put `kpeval` on PATH or set KPEVAL_BIN "
            "(build it with `make build` in the kpeval repository), or use metrics='overlap'"
        )
    return exe


def _run_cli(exe: str, args: List[str]) -> subprocess.CompletedProcess:
    p = subprocess.run([exe, "--quiet", *args], capture_output=True, text=True)
    if p.returncode not in (0, 1):  # 1: some records failed (they are in the output)
        msg = (p.stderr or p.stdout).strip() or f"exit status {p.returncode}"
        raise KpevalError(f"kpeval {args[0]}: {msg}")
    return p


def _read_jsonl(path: str) -> List[Dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _relay(messages: List[Tuple[str, str]]) -> None:
    for kind, msg in messages:
        if kind == "warning":
            warnings.warn(f"kpeval: {msg}", RuntimeWarning, stacklevel=3)
        elif kind == "error":
            warnings.warn(f"kpeval: input skipped: {msg}", RuntimeWarning, stacklevel=3)


def evaluate(
    data: Any,
    metrics: Union[str, Sequence[str]] = "overlap",
    bootstrap: int = 1000,
    seed: int = 12345,
    *,
    rouge_types: Optional[Sequence[str]] = None,
    use_stemmer: bool = True,
    kp_rouge_threshold: float = 0.3,
    confidence: float = 0.95,
    sections: str = "default",
    progress: Optional[Progress] = None,
    device: str = "cpu",
    kpeval_bin: Optional[str] = None,
    use_cli: Optional[bool] = None,
) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """Scores given summaries against each article's Key Developments.

    Args:
        data: rows with ``id``, ``article`` (or ``document``/``text``), ``key_points`` (a list,
            or a string of lines; or ``highlights``) and either ``summary`` (with an optional
            ``system`` column naming its system; default system ``given``) or ``systems``
            (a dict system → summary). A list of dicts, a pandas DataFrame, a Hugging Face
            ``datasets.Dataset`` or a dict of columns. Other fields land in each record's
            ``meta`` (human judgments for :func:`meta_eval`).
        metrics: kpeval metric names, as ``--metrics`` takes them (``"overlap"``,
            ``"rouge,bleu"``, ``["rouge", "kp-rouge"]``, ``"default"``, ...).
        bootstrap: resamples of the aggregate's bootstrap CIs.
        seed: seed of the bootstrap.
        rouge_types: ROUGE variants (default rouge1, rouge2, rougeL, rougeLsum).
        use_stemmer: Porter stemming in ROUGE.
        kp_rouge_threshold: ROUGE-1 F at which kp-rouge counts a Key Development as covered.
        confidence: confidence level of the CIs.
        sections: article sections scored against (``default``, ``all`` or a list).
        progress: called with the number of inputs finished since the last call (so
            ``tqdm(total=len(data)).update`` fits).
        device: model device for model metrics (``cpu``, ``cuda``, ``cuda:N``).
        kpeval_bin: the kpeval executable for model metrics (default: ``KPEVAL_BIN``, then PATH).
        use_cli: run in the kpeval CLI (``True``) or in this process (``False``); by default
            the CLI only when a metric needs a model.

    Returns:
        ``(records, aggregate)``: one dict per (article, system) as kpeval writes them (its
        ``scores``, ``not_computed``, ``error``, ``signature``, ...), and the aggregate
        (per system, each metric's mean with its bootstrap CI).

    Raises:
        ValueError: bad arguments (unknown metric or rouge type, bootstrap 0, ...).
        KpevalError: the library or the CLI reports an error (no model tool for model metrics).
    """
    if not isinstance(bootstrap, int) or bootstrap <= 0:
        raise ValueError(f"bootstrap must be a positive integer, got {bootstrap!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    names = _metric_names(metrics)
    rows = _rows(data)
    system_field = "system" if any("system" in r and "summary" in r for r in rows) else None
    if rouge_types is not None:
        rouge_types = rouge_scorer._check_texts("rouge_types", rouge_types)
    if use_cli is None:
        use_cli = _needs_models(names)
    if use_cli and confidence != 0.95:
        raise ValueError("confidence other than 0.95 is not available in the CLI (model metrics)")
    if not use_cli:
        records_json, agg_json, messages = _kpeval.evaluate_json(
            json.dumps(rows, ensure_ascii=False, allow_nan=False),
            metrics=names,
            rouge_types=rouge_types,
            use_stemmer=use_stemmer,
            kp_rouge_threshold=kp_rouge_threshold,
            bootstrap=bootstrap,
            seed=seed,
            confidence=confidence,
            sections=sections,
            system_field=system_field,
            progress=progress,
        )
        _relay(messages)
        return json.loads(records_json), (json.loads(agg_json) if agg_json else None)
    exe = _kpeval_bin(kpeval_bin)
    with tempfile.TemporaryDirectory(prefix="kpeval-") as tmp:
        inp, out, agg = (os.path.join(tmp, n) for n in ("input.jsonl", "records.jsonl", "aggregate.json"))
        with open(inp, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n")
        args = ["score", inp, "-o", out, "--aggregate", agg, "--metrics", names,
                "--bootstrap", str(bootstrap), "--seed", str(seed),
                "--kp-rouge-threshold", repr(float(kp_rouge_threshold)),
                "--sections", sections, "--device", device]
        if rouge_types is not None:
            args += ["--rouge-types", ",".join(rouge_types)]
        if not use_stemmer:
            args.append("--no-stemmer")
        if system_field:
            args += ["--system-field", system_field]
        _run_cli(exe, args)
        records = _read_jsonl(out) if os.path.exists(out) else []
        aggregate = None
        if os.path.exists(agg):
            with open(agg, encoding="utf-8") as f:
                aggregate = json.load(f)
    if progress is not None:
        progress(len(records))
    return records, aggregate


def score(
    summaries: Sequence[str],
    key_points: Sequence[Union[str, Sequence[str]]],
    metrics: Union[str, Sequence[str]] = "overlap",
    *,
    articles: Optional[Sequence[str]] = None,
    **kwargs: Any,
) -> List[Optional[Dict[str, Any]]]:
    """Scores ``summaries[i]`` against ``key_points[i]`` (a list of Key Developments, or a
    string of lines); returns each record's ``scores`` dict (``None`` for an input that failed,
    with a warning naming the error).

    ``articles`` gives the source texts (needed by metrics that read the article); without it
    each summary's article is its own text. Other keyword arguments go to :func:`evaluate`.
    """
    if isinstance(summaries, str):
        raise TypeError("summaries must be a sequence of strings, not a string")
    summaries = list(summaries)
    key_points = list(key_points)
    if len(summaries) != len(key_points):
        raise ValueError(f"summaries and key_points differ in length: {len(summaries)} != {len(key_points)}")
    if articles is not None:
        articles = list(articles)
        if len(articles) != len(summaries):
            raise ValueError(f"articles and summaries differ in length: {len(articles)} != {len(summaries)}")
    rows = []
    for i, (s, kp) in enumerate(zip(summaries, key_points)):
        if not isinstance(s, str):
            raise TypeError(f"summaries[{i}] is {type(s).__name__}, not str")
        rows.append({
            "id": str(i),
            "article": articles[i] if articles is not None else s,
            "key_points": kp if isinstance(kp, str) else list(kp),
            "summary": s,
        })
    kwargs.setdefault("bootstrap", 1)
    records, _ = evaluate(rows, metrics=metrics, **kwargs)
    by_id = {r["id"]: r for r in records}
    out: List[Optional[Dict[str, Any]]] = []
    for i in range(len(rows)):
        r = by_id.get(str(i))
        if r is None or r.get("error"):
            why = (r or {}).get("error") or "no record"
            warnings.warn(f"kpeval: input {i} failed: {why}", RuntimeWarning, stacklevel=2)
            out.append(None)
        else:
            out.append(r.get("scores"))
    return out


def _records_list(records: Any) -> List[Dict[str, Any]]:
    if isinstance(records, (str, os.PathLike)):
        return _read_jsonl(os.fspath(records))
    return _rows(records)


def compare(
    records: Any,
    baseline: Optional[str] = None,
    metrics: Optional[Sequence[str]] = None,
    bootstrap: int = 1000,
    seed: int = 12345,
    ar_trials: int = 10000,
    confidence: float = 0.95,
) -> Dict[str, Any]:
    """Paired comparison of the systems in ``records`` (as :func:`evaluate` returns them, or a
    results file's path): per metric, each system's estimate on the records scored for every
    system, and its delta to the baseline with a paired bootstrap CI and p-values (paired
    bootstrap and approximate randomization), as ``kpeval compare -o`` writes it.

    Args:
        baseline: the system the others are tested against (default: the first by name).
        metrics: score leaves such as ``rouge1.f1`` (default: the headline metrics).

    Raises:
        ValueError: bad arguments or unknown metrics.
        KpevalError: fewer than two systems, an unknown baseline, duplicate record ids.
    """
    if isinstance(metrics, str):
        metrics = [m for m in metrics.split(",") if m]
    rows = _records_list(records)
    return json.loads(
        _kpeval.compare_json(
            json.dumps(rows, ensure_ascii=False, allow_nan=False),
            baseline=baseline,
            metrics=list(metrics) if metrics is not None else None,
            bootstrap=bootstrap,
            seed=seed,
            ar_trials=ar_trials,
            confidence=confidence,
        )
    )


def meta_eval(
    records: Any,
    human: Optional[Sequence[str]] = None,
    metrics: Optional[Sequence[str]] = None,
    *,
    unit_labels: Optional[str] = None,
    levels: Sequence[str] = ("summary", "document", "system"),
    correlations: Sequence[str] = ("pearson", "spearman", "kendall"),
    bootstrap: int = 1000,
    seed: int = 12345,
    kpeval_bin: Optional[str] = None,
) -> Dict[str, Any]:
    """Correlations of metrics with human judgments in the records' ``meta`` (and unit-level
    agreement with ``unit_labels``), with document-bootstrap CIs: what ``kpeval meta-eval -o``
    writes. Runs the ``kpeval`` CLI (``KPEVAL_BIN`` or PATH).

    Raises:
        KpevalError: the CLI is not found or reports an error.
    """
    exe = _kpeval_bin(kpeval_bin)
    rows = _records_list(records)
    with tempfile.TemporaryDirectory(prefix="kpeval-") as tmp:
        inp, out = os.path.join(tmp, "records.jsonl"), os.path.join(tmp, "meta-eval.json")
        with open(inp, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n")
        args = ["meta-eval", inp, "-o", out, "--bootstrap", str(bootstrap), "--seed", str(seed),
                "--levels", ",".join(levels), "--correlations", ",".join(correlations)]
        if human:
            args += ["--human", ",".join([human] if isinstance(human, str) else human)]
        if metrics:
            args += ["--metrics", ",".join([metrics] if isinstance(metrics, str) else metrics)]
        if unit_labels:
            args += ["--unit-labels", unit_labels]
        _run_cli(exe, args)
        with open(out, encoding="utf-8") as f:
            return json.load(f)
