"""A Hugging Face ``evaluate`` metric: ROUGE bit-exact with rouge-score 0.1.2, computed by kpeval.

    import evaluate
    rouge = evaluate.load("python/kpeval_metric.py")
    rouge.compute(predictions=["the cat sat"], references=["a cat sat down"])
    # {'rouge1': 0.57..., 'rouge2': ..., 'rougeL': ..., 'rougeLsum': ...}

Same arguments and output as the hub's ``rouge`` metric (``rouge_types``, ``use_aggregator``,
``use_stemmer``; several references per prediction score against the best one, as rouge-score's
``score_multi``), but no nltk/absl and all cores (``score_batch``). With ``use_aggregator`` the
values are plain means of the F-measures (the hub metric reports the mid point of a bootstrap,
which for 1,000 resamples is close to but not exactly the mean). Needs ``pip install ./python``.
"""
from typing import Dict, List, Sequence, Union

import datasets
import evaluate

from kpeval import rouge_scorer

_CITATION = """@inproceedings{lin-2004-rouge, title = "{ROUGE}: A Package for Automatic Evaluation of Summaries", author = "Lin, Chin-Yew", booktitle = "Text Summarization Branches Out", year = "2004"}"""
_DESCRIPTION = "ROUGE (rouge1, rouge2, rougeL, rougeLsum) bit-exact with rouge-score 0.1.2, computed by kpeval in Rust."
_KWARGS = """
Args:
    predictions: list of predictions.
    references: list of references (a string, or a list of strings, per prediction).
    rouge_types: default ["rouge1", "rouge2", "rougeL", "rougeLsum"].
    use_aggregator: return means (True, default) or one score per prediction.
    use_stemmer: Porter stemming as rouge-score (default False).
Returns:
    dict rouge_type -> F-measure (a float, or a list with use_aggregator=False).
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class KpevalRouge(evaluate.Metric):
    """ROUGE through kpeval."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS,
            features=[
                datasets.Features({
                    "predictions": datasets.Value("string", id="sequence"),
                    "references": datasets.Sequence(datasets.Value("string", id="sequence")),
                }),
                datasets.Features({
                    "predictions": datasets.Value("string", id="sequence"),
                    "references": datasets.Value("string", id="sequence"),
                }),
            ],
            codebase_urls=["https://github.com/google-research/google-research/tree/master/rouge"],
        )

    def _compute(
        self,
        predictions: Sequence[str],
        references: Sequence[Union[str, Sequence[str]]],
        rouge_types: Sequence[str] = ("rouge1", "rouge2", "rougeL", "rougeLsum"),
        use_aggregator: bool = True,
        use_stemmer: bool = False,
    ) -> Dict[str, Union[float, List[float]]]:
        scorer = rouge_scorer.RougeScorer(list(rouge_types), use_stemmer=use_stemmer)
        if references and not isinstance(references[0], str):
            scores = [scorer.score_multi(list(r), p) for r, p in zip(references, predictions)]
        else:
            scores = scorer.score_batch(list(references), list(predictions))
        out: Dict[str, Union[float, List[float]]] = {}
        for t in rouge_types:
            f = [s[t].fmeasure for s in scores]
            out[t] = (sum(f) / len(f) if f else 0.0) if use_aggregator else f
        return out
