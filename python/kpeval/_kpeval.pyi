"""Type stubs of the Rust extension module ``kpeval._kpeval`` (use the ``kpeval`` package)."""
from typing import Any, Callable, List, Optional, Sequence, Tuple

_Prf = Tuple[float, float, float]

class KpevalError(Exception):
    """An error reported by the kpeval library or its CLI."""

class RustRougeScorer:
    def __init__(self, rouge_types: Sequence[str], use_stemmer: bool = False, split_summaries: bool = False) -> None: ...
    @property
    def rouge_types(self) -> List[str]: ...
    def score(self, target: str, prediction: str) -> List[_Prf]: ...
    def score_batch(self, targets: Sequence[str], predictions: Sequence[str]) -> List[List[_Prf]]: ...
    def score_multi(self, targets: Sequence[str], prediction: str, agg: str = "best") -> List[_Prf]: ...

def rouge_tokenize(text: str, use_stemmer: bool = False) -> List[str]: ...
def bleu_corpus(
    hyps: Sequence[str],
    refs: Sequence[Sequence[str]],
    lowercase: bool = False,
    tokenize: str = "13a",
    smooth_method: str = "exp",
    smooth_value: Optional[float] = None,
    max_ngram_order: int = 4,
    use_effective_order: bool = False,
) -> Tuple[float, List[float], float, int, int, List[int], List[int], str]: ...
def chrf_corpus(
    hyps: Sequence[str],
    refs: Sequence[Sequence[str]],
    char_order: int = 6,
    word_order: int = 0,
    beta: int = 2,
    lowercase: bool = False,
    whitespace: bool = False,
    eps_smoothing: bool = False,
) -> Tuple[float, str, str]: ...
def evaluate_json(
    articles_json: str,
    metrics: str = "overlap",
    rouge_types: Optional[Sequence[str]] = None,
    use_stemmer: bool = True,
    kp_rouge_threshold: float = 0.3,
    bootstrap: int = 1000,
    seed: int = 12345,
    confidence: float = 0.95,
    sections: str = "default",
    system_field: Optional[str] = None,
    batch_size: int = 64,
    progress: Optional[Callable[[int], Any]] = None,
) -> Tuple[str, Optional[str], List[Tuple[str, str]]]: ...
def compare_json(
    records_json: str,
    baseline: Optional[str] = None,
    metrics: Optional[Sequence[str]] = None,
    bootstrap: int = 1000,
    seed: int = 12345,
    ar_trials: int = 10000,
    confidence: float = 0.95,
) -> str: ...
def version() -> str: ...
