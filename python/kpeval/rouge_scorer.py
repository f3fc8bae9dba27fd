"""ROUGE exactly as Google's ``rouge-score`` 0.1.2 computes it, in Rust.

A drop-in for ``from rouge_score import rouge_scorer``::

    from kpeval import rouge_scorer
    scorer = rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=True)
    scorer.score("The cat sat.", "A cat sat down.")["rouge1"].fmeasure

Every number is bit-for-bit rouge-score's (same tokenizer, same Porter stemmer, same
``rougeLsum`` backtracking). :meth:`RougeScorer.score_batch` scores many pairs on every core with
the GIL released.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Dict, List, Optional, Sequence

from . import _kpeval

__all__ = ["RougeScorer", "Score", "tokenize"]

#: rouge-score's ``scoring.Score``: ``(precision, recall, fmeasure)``.
Score = namedtuple("Score", ["precision", "recall", "fmeasure"])


def _check_texts(name: str, texts: Sequence[str]) -> List[str]:
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of strings, not a single string")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] is {type(t).__name__}, not str")
    return out


def tokenize(text: str, use_stemmer: bool = False) -> List[str]:
    """``rouge_score.tokenize.tokenize``: lowercase, split on non-alphanumerics, optionally
    Porter-stem tokens longer than three characters."""
    return _kpeval.rouge_tokenize(text, use_stemmer)


class RougeScorer:
    """rouge-score's ``RougeScorer(rouge_types, use_stemmer=False, split_summaries=False)``.

    Args:
        rouge_types: any of ``rouge1`` … ``rouge9``, ``rougeL``, ``rougeLsum``.
        use_stemmer: Porter-stem tokens longer than three characters (as rouge-score).
        split_summaries: for ``rougeLsum``, split sentences with a documented punctuation rule
            instead of newlines. rouge-score uses NLTK's Punkt here, so this mode is *not*
            bit-exact; without it (the default) sentences are the ``"\\n"``-separated lines,
            exactly as rouge-score.
        tokenizer: only ``None`` (rouge-score's default tokenizer) is supported.

    Raises:
        ValueError: an unknown rouge type, or a custom tokenizer.
    """

    def __init__(
        self,
        rouge_types: Sequence[str],
        use_stemmer: bool = False,
        split_summaries: bool = False,
        tokenizer: Optional[object] = None,
    ) -> None:
        if tokenizer is not None:
            raise ValueError("kpeval's RougeScorer supports only rouge-score's default tokenizer")
        types = _check_texts("rouge_types", rouge_types)
        self.rouge_types: List[str] = types
        self._inner = _kpeval.RustRougeScorer(types, bool(use_stemmer), bool(split_summaries))

    def _wrap(self, values) -> Dict[str, Score]:
        return {t: Score(*v) for t, v in zip(self.rouge_types, values)}

    def score(self, target: str, prediction: str) -> Dict[str, Score]:
        """Scores one ``prediction`` against one ``target``: ``{rouge_type: Score}``."""
        return self._wrap(self._inner.score(target, prediction))

    def score_multi(
        self, targets: Sequence[str], prediction: str, agg: str = "best"
    ) -> Dict[str, Score]:
        """rouge-score's ``score_multi``: per type, the target with the highest F (``agg="best"``,
        the first on ties); ``agg="mean"`` averages each field over the targets instead."""
        return self._wrap(self._inner.score_multi(_check_texts("targets", targets), prediction, agg))

    def score_batch(
        self, targets: Sequence[str], predictions: Sequence[str]
    ) -> List[Dict[str, Score]]:
        """Scores ``predictions[i]`` against ``targets[i]`` for every ``i``, on all cores with the
        GIL released; the result equals ``[self.score(t, p) for t, p in zip(...)]`` exactly.

        Raises:
            ValueError: the two sequences differ in length.
        """
        t = _check_texts("targets", targets)
        p = _check_texts("predictions", predictions)
        if len(t) != len(p):
            raise ValueError(f"targets and predictions differ in length: {len(t)} != {len(p)}")
        return [self._wrap(v) for v in self._inner.score_batch(t, p)]

    def __repr__(self) -> str:
        return f"RougeScorer({self.rouge_types!r})"
