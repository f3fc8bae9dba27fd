"""BLEU and chrF exactly as sacreBLEU 2.6 computes them, in Rust.

Mirrors ``sacrebleu``'s functional API::

    from kpeval import sacrebleu
    bleu = sacrebleu.corpus_bleu(hypotheses, [refs_stream_1, refs_stream_2])
    bleu.score, str(bleu), bleu.signature

``references`` are sacreBLEU's reference *streams*: ``references[k][i]`` is the k-th reference of
``hypotheses[i]`` (``None`` entries are skipped, giving a variable number of references, as in
sacreBLEU). Tokenizers: ``13a`` (sacreBLEU's default) and ``none``; smoothing: ``exp``,
``floor``, ``add-k``, ``none``. The numbers are bit-for-bit sacreBLEU's; corpus statistics are
computed on all cores with the GIL released.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

from . import _kpeval

__all__ = [
    "BLEUScore",
    "CHRFScore",
    "corpus_bleu",
    "sentence_bleu",
    "corpus_chrf",
    "sentence_chrf",
    "SACREBLEU_VERSION",
]

#: The sacreBLEU version whose numbers (and signatures) these are.
SACREBLEU_VERSION = "2.6.0"


class _Score:
    """A score with sacreBLEU's ``format`` and string form."""

    name: str
    score: float
    signature: str
    _verbose: str = ""

    def format(self, width: int = 2, score_only: bool = False, signature: str = "") -> str:
        """sacreBLEU's ``Score.format``: ``'BLEU = 25.79 …'``, or with ``signature``
        ``'BLEU|nrefs:1|… = 25.79 …'``; ``score_only`` gives the number alone."""
        sc = f"{self.score:.{width}f}"
        if score_only:
            return sc
        full = f"{self.name}|{signature}" if signature else self.name
        full = f"{full} = {sc}"
        if self._verbose:
            full += f" {self._verbose}"
        return full

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return self.format()


class BLEUScore(_Score):
    """sacreBLEU's ``BLEUScore``: ``score`` (0–100), ``counts``, ``totals``, ``precisions`` (%),
    ``bp``, ``sys_len``, ``ref_len``, ``ratio``; plus ``signature`` (sacreBLEU's
    ``get_signature()`` string for these settings)."""

    def __init__(
        self,
        score: float,
        counts: List[int],
        totals: List[int],
        precisions: List[float],
        bp: float,
        sys_len: int,
        ref_len: int,
        signature: str = "",
    ) -> None:
        self.name = "BLEU"
        self.score = score
        self.counts = counts
        self.totals = totals
        self.precisions = precisions
        self.bp = bp
        self.sys_len = sys_len
        self.ref_len = ref_len
        self.signature = signature
        self.prec_str = "/".join(f"{p:.1f}" for p in precisions)
        self.ratio = sys_len / ref_len if ref_len else 0
        self._verbose = (
            f"{self.prec_str} (BP = {bp:.3f} ratio = {self.ratio:.3f} "
            f"hyp_len = {sys_len:d} ref_len = {ref_len:d})"
        )


class CHRFScore(_Score):
    """sacreBLEU's ``CHRFScore``: ``score`` (0–100), ``char_order``, ``word_order``, ``beta``;
    plus ``signature``."""

    def __init__(
        self, score: float, char_order: int, word_order: int, beta: int, signature: str = ""
    ) -> None:
        self.name = f"chrF{beta}" + "+" * word_order
        self.score = score
        self.char_order = char_order
        self.word_order = word_order
        self.beta = beta
        self.signature = signature


def _per_hypothesis(
    fn: str, hypotheses: Sequence[str], references: Sequence[Sequence[Optional[str]]]
) -> tuple:
    """Checks sacreBLEU-style arguments; returns (hypotheses, references per hypothesis)."""
    if isinstance(hypotheses, str) or not isinstance(hypotheses, Sequence):
        raise TypeError(f"{fn}: `hypotheses` should be a sequence of strings")
    hyps = list(hypotheses)
    for i, h in enumerate(hyps):
        if not isinstance(h, str):
            raise TypeError(f"{fn}: hypothesis {i} is {type(h).__name__}, not str")
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise TypeError(f"{fn}: `references` should be a sequence of reference streams")
    if len(references) == 0:
        raise ValueError(f"{fn}: no reference stream given")
    streams = []
    for k, s in enumerate(references):
        if isinstance(s, str) or not isinstance(s, Sequence):
            raise TypeError(
                f"{fn}: reference stream {k} should be a sequence of strings "
                "(references are streams: [[ref_1_of_hyp_1, ref_1_of_hyp_2, ...], ...])"
            )
        if len(s) != len(hyps):
            raise ValueError(
                f"{fn}: reference stream {k} has {len(s)} lines but there are "
                f"{len(hyps)} hypotheses"
            )
        streams.append(s)
    per_hyp = []
    for i in range(len(hyps)):
        refs = []
        for k, s in enumerate(streams):
            r = s[i]
            if r is None:
                continue
            if not isinstance(r, str):
                raise TypeError(f"{fn}: reference {k} of line {i} is {type(r).__name__}, not str")
            refs.append(r)
        per_hyp.append(refs)
    return hyps, per_hyp


def _bleu(hyps, refs, **kw) -> BLEUScore:
    score, prec, bp, sys_len, ref_len, counts, totals, sig = _kpeval.bleu_corpus(hyps, refs, **kw)
    return BLEUScore(score, counts, totals, prec, bp, sys_len, ref_len, sig)


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[Optional[str]]],
    smooth_method: str = "exp",
    smooth_value: Optional[float] = None,
    force: bool = False,
    lowercase: bool = False,
    tokenize: str = "13a",
    use_effective_order: bool = False,
) -> BLEUScore:
    """sacreBLEU's ``corpus_bleu``: BLEU of a corpus against one or more reference streams.

    Raises:
        TypeError: hypotheses or references of the wrong type.
        ValueError: a stream of the wrong length, an unknown tokenizer or smoothing method.
    """
    del force  # sacreBLEU only uses it to silence a warning about tokenized input
    hyps, refs = _per_hypothesis("corpus_bleu", hypotheses, references)
    return _bleu(
        hyps,
        refs,
        lowercase=lowercase,
        tokenize=tokenize,
        smooth_method=smooth_method,
        smooth_value=smooth_value,
        use_effective_order=use_effective_order,
    )


def sentence_bleu(
    hypothesis: str,
    references: Sequence[str],
    smooth_method: str = "exp",
    smooth_value: Optional[float] = None,
    lowercase: bool = False,
    tokenize: str = "13a",
    use_effective_order: bool = True,
) -> BLEUScore:
    """sacreBLEU's ``sentence_bleu``: BLEU of one hypothesis against its references (a list of
    strings), with effective order by default."""
    if not isinstance(hypothesis, str):
        raise TypeError("sentence_bleu: `hypothesis` should be a string")
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise TypeError("sentence_bleu: `references` should be a sequence of strings")
    return corpus_bleu(
        [hypothesis],
        [[r] for r in references],
        smooth_method=smooth_method,
        smooth_value=smooth_value,
        lowercase=lowercase,
        tokenize=tokenize,
        use_effective_order=use_effective_order,
    )


def corpus_chrf(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[Optional[str]]],
    char_order: int = 6,
    word_order: int = 0,
    beta: int = 2,
    remove_whitespace: bool = True,
    eps_smoothing: bool = False,
    lowercase: bool = False,
) -> CHRFScore:
    """sacreBLEU's ``corpus_chrf`` (chrF++ with ``word_order=2``); ``lowercase`` is sacreBLEU's
    ``CHRF(lowercase=...)``."""
    hyps, refs = _per_hypothesis("corpus_chrf", hypotheses, references)
    if char_order < 0 or word_order < 0 or beta < 0:
        raise ValueError("corpus_chrf: char_order, word_order and beta cannot be negative")
    score, _name, sig = _kpeval.chrf_corpus(
        hyps,
        refs,
        char_order=char_order,
        word_order=word_order,
        beta=beta,
        lowercase=lowercase,
        whitespace=not remove_whitespace,
        eps_smoothing=eps_smoothing,
    )
    return CHRFScore(score, char_order, word_order, beta, sig)


def sentence_chrf(
    hypothesis: str,
    references: Sequence[str],
    char_order: int = 6,
    word_order: int = 0,
    beta: int = 2,
    remove_whitespace: bool = True,
    eps_smoothing: bool = False,
    lowercase: bool = False,
) -> CHRFScore:
    """sacreBLEU's ``sentence_chrf``."""
    if not isinstance(hypothesis, str):
        raise TypeError("sentence_chrf: `hypothesis` should be a string")
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise TypeError("sentence_chrf: `references` should be a sequence of strings")
    return corpus_chrf(
        [hypothesis],
        [[r] for r in references],
        char_order=char_order,
        word_order=word_order,
        beta=beta,
        remove_whitespace=remove_whitespace,
        eps_smoothing=eps_smoothing,
        lowercase=lowercase,
    )
