#!/usr/bin/env bash
# Agreement of every key-point coverage metric, and of ROUGE, with people (README's table).
# Needs ../shared/data (PyrXSum, SummEval, FRANK) and a built kpeval (`make build`).
# Usage: bash eval/coverage/agreement.sh [OUT_DIR]   (default results/agreement)
set -euo pipefail
cd "$(dirname "$0")/../.."
K=./target/release/kpeval
D=../shared/data
O=${1:-results/agreement}
mkdir -p "$O"
M=kp-cover,kp-tok,kp,kp-rouge,rouge

# PyrXSum: people's verdict per (content unit, summary) and their mean (human_pyramid).
$K score $D/pyrxsum-1000.jsonl --metrics $M -q -o "$O/pyrxsum.jsonl"
$K meta-eval "$O/pyrxsum.jsonl" --unit-labels scu_labels --human human_pyramid --correlations kendall -q \
  --metrics kp_cover,kp_tok,kp,kp_rouge,kp_cover.coverage,kp_tok.coverage,kp.coverage,kp_rouge.coverage,rouge1.recall,rouge1.recall+rouge2.recall \
  -o "$O/pyrxsum.meta-eval.json" > "$O/pyrxsum.meta-eval.md"
# ROUGE against the reference summary itself (the baseline of the data's README).
$K score $D/pyrxsum-1000.jsonl --key-points-field reference --metrics rouge -q -o "$O/pyrxsum-reference.jsonl"
$K meta-eval "$O/pyrxsum-reference.jsonl" --human human_pyramid --correlations kendall -q \
  --metrics rouge1.recall,rouge1.recall+rouge2.recall -o "$O/pyrxsum-reference.meta-eval.json" > "$O/pyrxsum-reference.meta-eval.md"

# SummEval: expert relevance (1-5) of 16 systems' summaries, highlights as Key Developments.
$K score $D/summeval-1600.jsonl --id-field article_id --system-field summary_id --metrics $M -q -o "$O/summeval.jsonl"
$K meta-eval "$O/summeval.jsonl" --human relevance --correlations kendall -q \
  --metrics kp_cover.coverage,kp_tok.coverage,kp.coverage,kp_rouge.coverage,rouge1.recall,rouge1.recall+rouge2.recall \
  -o "$O/summeval.meta-eval.json" > "$O/summeval.meta-eval.md"

# FRANK: human factuality (0-1) of 5 systems on 250 CNN/DM articles (a different property:
# coverage is not faithfulness; shown so that nobody reads coverage as factuality).
$K score $D/cnndm-frank-250.jsonl --metrics $M -q -o "$O/frank.jsonl"
$K meta-eval "$O/frank.jsonl" --human human_factuality --correlations kendall -q \
  --metrics kp_cover.coverage,kp_tok.coverage,kp.coverage,kp_rouge.coverage,rouge1.recall,rouge1.recall+rouge2.recall \
  -o "$O/frank.meta-eval.json" > "$O/frank.meta-eval.md"
head -n 20 "$O"/*.meta-eval.md
