#!/usr/bin/env python3
"""Fit the `kp-cover` coverage judge: L2-penalised logistic regression from kpeval's per-key-point
features to people's "is this unit in the summary" verdicts, cross-validated by document.

What
  Reads a kpeval results file (JSONL, one record per (article id, system)) written by
      kpeval score ../shared/data/pyrxsum-1000.jsonl --metrics kp-cover --kp-cover-features -o X.jsonl
  Each record's scores[METRIC].key_points[i].features (a dict of numbers) is one row; its label is
  meta[LABELS][i] (1 = annotators found the unit in the summary); its group is the record id (the
  document: all systems of one article share it). Records with "error" are skipped and counted; a
  record whose key_points / scored units / labels differ in length is skipped with a warning.

  Model: features standardised (mean/std of the training rows only), logistic regression with
  penalty l2/2 * |w|^2 on the standardised weights (sum of log-losses, not mean; intercept not
  penalised), fitted by Newton's method (IRLS) with step halving: deterministic. The weights are
  written back in the ORIGINAL feature scale, so a consumer computes
      p = sigmoid(bias + sum_i weights[i] * features[i])      on the raw features.

  Cross-validation: K-fold by document. Sorted unique ids are permuted with
  numpy.random.default_rng(seed); the j-th id of the permutation goes to fold j % K. Every pair is
  predicted by the model that never saw its document (out-of-fold, OOF). Reported on OOF:
    - per-unit ROC-AUC (Mann-Whitney, ties count half);
    - accuracy / F1 at 0.5; at each fold's inner threshold (the 0.01-grid threshold maximising
      accuracy on that fold's own training predictions: an honest estimate of the shipped rule),
      with the mean inner threshold; and, flagged optimistic, at the threshold that maximises OOF
      accuracy itself;
    - summary-level pooled Kendall tau-b between each record's mean predicted probability over its
      key points and meta[HUMAN] (records lacking it are left out of tau only);
    - the same AUC / tau-b for each raw feature used directly as the score (tau on the per-record
      mean of the feature), as baselines;
    - a 10-bin calibration table of the OOF probabilities;
    - 95% percentile bootstrap CIs for the OOF AUC and tau: 1000 resamples of documents with
      replacement (numpy.random.default_rng([1, seed])), a document drawn c times counting c times.
  Then the model is fitted on all rows for the shipped weights; the shipped threshold is the
  0.01-grid threshold maximising accuracy of the all-data fit's own predictions (ties: nearest to
  0.5), unless --threshold forces one. Threshold searches use the grid 0.01..0.99 and predict
  "covered" when p >= t.

  --write-preset PATH writes the model as JSON (deterministic: same input and argv -> same bytes;
  numbers rounded to 6 significant digits). Its cross_validated.accuracy / f1 are the OOF figures
  of the shipped threshold rule (inner thresholds; or the forced --threshold).
  --compare-features runs greedy forward selection by OOF AUC + tau-b and prints each step (no
  bootstrap, writes nothing).

Provenance
  Data: PyrXSum (Zhang & Bansal 2021, "Finding a Balanced Degree of Automation for Summary
  Evaluation"), ZhangShiyue/Lite2-3Pyramid data/PyrXSum @cfa581a, as ../shared/data/pyrxsum-1000.jsonl
  (100 XSum docs x 10 systems, 4,780 labelled (key point, summary) pairs). Numpy only.

How to run (from the repository root; numpy is the only dependency)
  python3 -m venv /tmp/fitvenv && /tmp/fitvenv/bin/pip install numpy
  /tmp/fitvenv/bin/python eval/coverage/fit_kp_cover.py X.jsonl
  /tmp/fitvenv/bin/python eval/coverage/fit_kp_cover.py X.jsonl --compare-features
  /tmp/fitvenv/bin/python eval/coverage/fit_kp_cover.py X.jsonl --features rec1,tok_rec \
      --write-preset models/kp-cover.json --version 1
"""
import argparse
import json
import math
import shlex
import sys
from pathlib import Path

import numpy as np

GRID = np.round(np.arange(1, 100) / 100.0, 2)  # threshold search grid 0.01 .. 0.99
DEFAULT_DATA = ("PyrXSum (Zhang & Bansal 2021), ZhangShiyue/Lite2-3Pyramid data/PyrXSum @cfa581a: "
                "{docs} XSum docs x {systems} systems, {pairs} pairs")
SCRIPT = "eval/coverage/fit_kp_cover.py"


def warn(msg):
    print(f"warning: {msg}", file=sys.stderr)


# ----------------------------------------------------------------------------------------------
# Statistics (shared with unit_agreement.py)
# ----------------------------------------------------------------------------------------------

def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


def auc(score, y, weights=None):
    """ROC-AUC = Mann-Whitney U / (n_pos * n_neg), ties between a positive and a negative count
    half. `weights` (per item, e.g. bootstrap multiplicities) may be a vector or a (B, n) matrix
    (returns B values). NaN when a class is empty."""
    score = np.asarray(score, float)
    y = np.asarray(y, float)
    order = np.argsort(score, kind="mergesort")
    s, ys = score[order], y[order]
    group = np.concatenate([[0], np.cumsum(s[1:] != s[:-1])])
    ng = int(group[-1]) + 1 if len(s) else 0

    def one(w):
        pos = np.bincount(group, weights=w * ys, minlength=ng)
        neg = np.bincount(group, weights=w * (1.0 - ys), minlength=ng)
        tp, tn = pos.sum(), neg.sum()
        if tp <= 0 or tn <= 0:
            return float("nan")
        below = np.cumsum(neg) - neg
        return float((pos * (below + 0.5 * neg)).sum() / (tp * tn))

    if weights is None:
        return one(np.ones(len(s)))
    w = np.asarray(weights, float)
    if w.ndim == 1:
        return one(w[order])
    return np.array([one(row[order]) for row in w])


def kendall_tau_b(x, y, weights=None, block=512):
    """Kendall tau-b with ties: (C - D) / sqrt((n0 - n1)(n0 - n2)), n0 = all pairs, n1 / n2 =
    pairs tied in x / y. `weights` = integer multiplicities (a vector, or a (B, n) matrix of
    bootstrap counts -> B values): item i counted c_i times, its copies tied with each other in
    both x and y. Exact pairwise computation in row blocks, O(n^2 * B) multiply-adds via BLAS.
    NaN when either variable is constant."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = len(x)
    single = weights is None or np.ndim(weights) == 1
    W = np.ones((1, n)) if weights is None else np.atleast_2d(np.asarray(weights, float))
    cd = np.zeros(len(W))
    tx = np.zeros(len(W))
    ty = np.zeros(len(W))
    for a in range(0, n, block):
        b = min(n, a + block)
        sx = np.sign(x[a:b, None] - x[None, :])
        sy = np.sign(y[a:b, None] - y[None, :])
        wb = W[:, a:b]
        cd += (wb * ((sx * sy) @ W.T).T).sum(1)
        tx += (wb * ((sx == 0).astype(float) @ W.T).T).sum(1)
        ty += (wb * ((sy == 0).astype(float) @ W.T).T).sum(1)
    tot = W.sum(1)
    n0 = tot * (tot - 1) / 2
    n1 = (tx - tot) / 2
    n2 = (ty - tot) / 2
    den = (n0 - n1) * (n0 - n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = np.where(den > 0, (cd / 2) / np.sqrt(np.where(den > 0, den, 1.0)), np.nan)
    return float(tau[0]) if single else tau


def acc_f1(p, y, t):
    """Accuracy and F1 (positive class 1) of predicting p >= t; t may be a scalar or per-row."""
    pred = p >= t
    yb = y > 0.5
    tp = float(np.sum(pred & yb))
    fp = float(np.sum(pred & ~yb))
    fn = float(np.sum(~pred & yb))
    acc = float(np.mean(pred == yb)) if len(p) else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) > 0 else 0.0
    return acc, f1


def best_threshold(p, y):
    """Grid threshold (0.01 .. 0.99) maximising accuracy of p >= t; ties -> nearest 0.5, then lower."""
    yb = (y > 0.5)[None, :]
    acc = ((p[None, :] >= GRID[:, None]) == yb).mean(1)
    best = acc.max()
    cands = GRID[acc >= best - 1e-12]
    return float(cands[np.lexsort((cands, np.abs(cands - 0.5)))[0]])


def bootstrap_counts(n_groups, n_boot, seed):
    """(n_boot, n_groups) multiplicities of groups resampled with replacement."""
    rng = np.random.default_rng([1, seed])
    return np.stack([np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
                     for _ in range(n_boot)]).astype(float)


def ci95(values):
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not len(v):
        return [float("nan"), float("nan")]
    return [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]


# ----------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------

class Data:
    """Rows (pairs) and records of one results file.
    X (n, d) raw features, y (n,), row_rec (n,) record index, row_doc (n,) document index;
    rec_ids, rec_systems, rec_human (NaN = none), rec_doc per record; docs = sorted unique ids."""


def load(path, metric, labels_key, human_key, features=None):
    n_err = n_skip = 0
    recs = []  # (id, system, human, feature dicts, labels)
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            r = json.loads(line)
            rid = r.get("id")
            where = f"{path}:{lineno} ({rid} / {r.get('system')})"
            if r.get("error"):
                n_err += 1
                continue
            try:
                units = r["scores"][metric]["key_points"]
            except (KeyError, TypeError):
                warn(f"{where}: no scores.{metric}.key_points; skipped")
                n_skip += 1
                continue
            meta = r.get("meta") or {}
            labs = meta.get(labels_key)
            if labs is None:
                warn(f"{where}: no meta.{labels_key}; skipped")
                n_skip += 1
                continue
            kps = r.get("key_points", units)
            if not (len(kps) == len(units) == len(labs)):
                warn(f"{where}: {len(kps)} key points, {len(units)} scored units, {len(labs)} labels; skipped")
                n_skip += 1
                continue
            if not units:
                continue
            feats = [u.get("features") or {} for u in units]
            h = meta.get(human_key)
            h = float(h) if isinstance(h, (int, float)) and not isinstance(h, bool) else float("nan")
            recs.append((rid, r.get("system"), h, feats, labs))
    if not recs:
        sys.exit(f"error: no usable records in {path}")

    present = None
    for rec in recs:
        for fd in rec[3]:
            present = set(fd) if present is None else present & set(fd)
    allnames = sorted({k for rec in recs for fd in rec[3] for k in fd})
    if features:
        missing = [k for k in features if k not in present]
        if missing:
            sys.exit(f"error: feature(s) {', '.join(missing)} not present in every unit "
                     f"(available in all: {', '.join(sorted(present)) or 'none'})")
        names = list(features)
    else:
        names = sorted(present)
        dropped = [k for k in allnames if k not in present]
        if dropped:
            warn(f"features missing from some units, not used: {', '.join(dropped)}")
    if not names:
        sys.exit(f"error: no features in scores.{metric}.key_points[].features "
                 "(was kpeval run with --kp-cover-features?)")

    d = Data()
    d.features = names
    d.docs = sorted({rec[0] for rec in recs})
    doc_index = {k: i for i, k in enumerate(d.docs)}
    X, y, row_rec = [], [], []
    for ri, (rid, _, _, feats, labs) in enumerate(recs):
        for fd, lab in zip(feats, labs):
            X.append([float(fd[k]) for k in names])
            y.append(float(lab))
            row_rec.append(ri)
    d.X = np.array(X, float)
    d.y = np.array(y, float)
    if not np.all(np.isfinite(d.X)):
        sys.exit("error: non-finite feature values")
    if not np.all((d.y == 0) | (d.y == 1)):
        sys.exit(f"error: meta.{labels_key} must hold 0/1 labels")
    d.row_rec = np.array(row_rec)
    d.rec_ids = [rec[0] for rec in recs]
    d.rec_systems = [rec[1] for rec in recs]
    d.rec_human = np.array([rec[2] for rec in recs])
    d.rec_doc = np.array([doc_index[rec[0]] for rec in recs])
    d.row_doc = d.rec_doc[d.row_rec]
    d.n_err, d.n_skip = n_err, n_skip
    return d


def record_means(d, v):
    """Mean of a per-row vector over each record's rows."""
    n = len(d.rec_ids)
    return np.bincount(d.row_rec, weights=v, minlength=n) / np.bincount(d.row_rec, minlength=n)


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------

def fit_logistic(X, y, l2, max_iter=100):
    """Penalised logistic regression on raw X: standardise, Newton/IRLS with step halving on
    sum log-loss + l2/2 |w|^2 (intercept free). Returns (bias, weights) in the raw scale, the
    standardised weights, and (iterations, converged)."""
    mean = X.mean(0)
    std = X.std(0)
    std = np.where(std > 1e-12, std, 1.0)
    Z = np.hstack([np.ones((len(X), 1)), (X - mean) / std])
    pen = np.full(Z.shape[1], float(l2))
    pen[0] = 0.0

    def loss(beta):
        eta = Z @ beta
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(pen * beta * beta))

    beta = np.zeros(Z.shape[1])
    cur = loss(beta)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        p = sigmoid(Z @ beta)
        g = Z.T @ (p - y) + pen * beta
        H = Z.T @ (Z * (p * (1 - p))[:, None]) + np.diag(pen) + 1e-10 * np.eye(Z.shape[1])
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        t = 1.0
        while True:
            cand = beta - t * step
            new = loss(cand)
            if new <= cur - 1e-4 * t * float(g @ step) or t < 1e-10:
                break
            t *= 0.5
        moved = float(np.max(np.abs(cand - beta)))
        beta, prev, cur = cand, cur, new
        if moved < 1e-10 or abs(prev - cur) <= 1e-13 * (1.0 + abs(cur)):
            converged = True
            break
    w_std = beta[1:]
    w = w_std / std
    b = float(beta[0] - np.sum(w_std * mean / std))
    return b, w, w_std, (it, converged)


def predict(b, w, X):
    return sigmoid(b + X @ w)


def make_folds(docs, k, seed):
    """fold index per document: sorted ids permuted by default_rng(seed), j-th -> fold j % k."""
    perm = np.random.default_rng(seed).permutation(len(docs))
    fold = np.empty(len(docs), int)
    fold[perm] = np.arange(len(docs)) % k
    return fold


def cross_validate(d, cols, k, seed, l2):
    """OOF probabilities and, per row, the inner threshold of the fold that predicted it."""
    fold_of_doc = make_folds(d.docs, k, seed)
    row_fold = fold_of_doc[d.row_doc]
    X = d.X[:, cols]
    oof = np.full(len(d.y), np.nan)
    inner = np.full(len(d.y), np.nan)
    thresholds = []
    for f in range(k):
        te = row_fold == f
        tr = ~te
        if not te.any():
            continue
        b, w, _, _ = fit_logistic(X[tr], d.y[tr], l2)
        t = best_threshold(predict(b, w, X[tr]), d.y[tr])
        oof[te] = predict(b, w, X[te])
        inner[te] = t
        thresholds.append(t)
    return oof, inner, thresholds


def summary_tau(d, row_score, weights=None):
    """Pooled tau-b between the per-record mean of row_score and the human score."""
    m = record_means(d, row_score)
    ok = np.isfinite(d.rec_human)
    if ok.sum() < 2:
        return float("nan") if weights is None else np.full(len(weights), np.nan)
    w = None if weights is None else weights[:, d.rec_doc[ok]]
    return kendall_tau_b(m[ok], d.rec_human[ok], w)


# ----------------------------------------------------------------------------------------------
# Output helpers
# ----------------------------------------------------------------------------------------------

def fmt(v, nd=4):
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.{nd}f}"


def sig6(v):
    v = float(v)
    if not math.isfinite(v):
        return None
    r = float(f"{v:.6g}")
    return 0.0 if r == 0 else r


def run_fit(d, args, cols):
    names = [d.features[c] for c in cols]
    k = args.folds
    oof, inner, ths = cross_validate(d, cols, k, args.seed, args.l2)
    y = d.y
    a_oof = auc(oof, y)
    tau_oof = summary_tau(d, oof)
    acc05, f105 = acc_f1(oof, y, 0.5)
    acc_in, f1_in = acc_f1(oof, y, inner)
    t_opt = best_threshold(oof, y)
    acc_opt, f1_opt = acc_f1(oof, y, t_opt)

    W = bootstrap_counts(len(d.docs), args.bootstrap, args.seed) if args.bootstrap > 0 else None
    if W is not None:
        auc_ci = ci95(auc(oof, y, W[:, d.row_doc]))
        tau_ci = ci95(summary_tau(d, oof, W))
    else:
        auc_ci = tau_ci = [float("nan")] * 2

    n_h = int(np.isfinite(d.rec_human).sum())
    print(f"out-of-fold, {k} folds by document (seed {args.seed}), l2 {args.l2}: "
          f"each pair scored by a model that never saw its document")
    print(f"  {'score':<18} {'unit AUC':>8} {'95% CI':>17}   {'tau_b':>7} {'95% CI':>17}")
    print(f"  {'model':<18} {fmt(a_oof):>8} [{fmt(auc_ci[0])}, {fmt(auc_ci[1])}]   "
          f"{fmt(tau_oof):>7} [{fmt(tau_ci[0])}, {fmt(tau_ci[1])}]")
    for j, c in enumerate(cols):
        xs = d.X[:, c]
        print(f"  {'raw ' + names[j]:<18} {fmt(auc(xs, y)):>8} {'':>17}   {fmt(summary_tau(d, xs)):>7}")
    print(f"  (bootstrap: {args.bootstrap} resamples of documents; tau over {n_h} records with "
          f"meta.{args.human}, per-record mean; raw features used directly as the score)")
    print()
    maj = max(y.mean(), 1 - y.mean())
    print(f"  {'threshold rule':<34} {'t':>6} {'acc':>7} {'F1':>7}")
    print(f"  {'0.5':<34} {'0.50':>6} {fmt(acc05):>7} {fmt(f105):>7}")
    tdesc = f"{np.mean(ths):.3f}"
    print(f"  {'inner (max train acc, per fold)':<34} {tdesc:>6} {fmt(acc_in):>7} {fmt(f1_in):>7}"
          f"   t in [{min(ths):.2f}, {max(ths):.2f}], mean shown")
    if args.threshold is not None:
        acc_fx, f1_fx = acc_f1(oof, y, args.threshold)
        print(f"  {'forced --threshold':<34} {args.threshold:>6.2f} {fmt(acc_fx):>7} {fmt(f1_fx):>7}")
    print(f"  {'max OOF acc (optimistic)':<34} {t_opt:>6.2f} {fmt(acc_opt):>7} {fmt(f1_opt):>7}")
    print(f"  {'majority class':<34} {'':>6} {fmt(maj):>7}")
    print()
    print("calibration of OOF probabilities (10 equal-width bins)")
    print(f"  {'bin':<11} {'n':>5} {'mean p':>7} {'rate':>7}")
    bins = np.minimum((oof * 10).astype(int), 9)
    for i in range(10):
        m = bins == i
        cnt = int(m.sum())
        mp = float(oof[m].mean()) if cnt else float("nan")
        rt = float(y[m].mean()) if cnt else float("nan")
        hi = "]" if i == 9 else ")"
        print(f"  [{i / 10:.1f}, {(i + 1) / 10:.1f}{hi} {cnt:>5} {fmt(mp, 3):>7} {fmt(rt, 3):>7}")
    print()

    b, w, w_std, (iters, conv) = fit_logistic(d.X[:, cols], y, args.l2)
    p_all = predict(b, w, d.X[:, cols])
    t_ship = args.threshold if args.threshold is not None else best_threshold(p_all, y)
    acc_tr, f1_tr = acc_f1(p_all, y, t_ship)
    print(f"all-data fit ({len(y)} pairs; Newton {iters} iterations{'' if conv else ', NOT converged'})")
    print(f"  {'feature':<18} {'weight (raw)':>13} {'weight (std)':>13} {'mean':>9} {'sd':>9}")
    for j, c in enumerate(cols):
        print(f"  {names[j]:<18} {w[j]:>13.6g} {w_std[j]:>13.6g} {d.X[:, c].mean():>9.4g} {d.X[:, c].std():>9.4g}")
    print(f"  {'bias':<18} {b:>13.6g}")
    src = "forced by --threshold" if args.threshold is not None else "max accuracy on all-data fit, 0.01 grid"
    print(f"  threshold {t_ship:.2f} ({src}); in-sample acc {acc_tr:.4f} F1 {f1_tr:.4f}, "
          f"AUC {auc(p_all, y):.4f}")
    if not conv:
        warn("all-data fit did not converge (separable data with --l2 0?)")

    if args.write_preset:
        acc_cv, f1_cv = (acc_f1(oof, y, args.threshold) if args.threshold is not None else (acc_in, f1_in))
        systems = len({s for s in d.rec_systems})
        preset = {
            "name": args.name,
            "version": args.version,
            "features": names,
            "weights": [sig6(v) for v in w],
            "bias": sig6(b),
            "threshold": round(float(t_ship), 2),
            "fitted_on": {
                "data": args.data.format(docs=len(d.docs), systems=systems, pairs=len(y), records=len(d.rec_ids)),
                "labels": args.labels,
                "script": SCRIPT,
                "command": " ".join(["python3", SCRIPT] + [shlex.quote(a) for a in sys.argv[1:]]),
                "l2": args.l2,
                "folds": k,
                "seed": args.seed,
            },
            "cross_validated": {
                "unit_auc": sig6(a_oof),
                "unit_auc_ci": [sig6(v) for v in auc_ci],
                "accuracy": sig6(acc_cv),
                "f1": sig6(f1_cv),
                "summary_tau_b": sig6(tau_oof),
                "summary_tau_b_ci": [sig6(v) for v in tau_ci],
                "pairs": int(len(y)),
                "documents": len(d.docs),
            },
        }
        out = Path(args.write_preset)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(preset, indent=2, allow_nan=False) + "\n")
        print(f"wrote {out}")


def run_compare(d, args):
    """Greedy forward selection by OOF AUC + tau-b (tau counts 0 when undefined)."""
    chosen = []
    remaining = list(range(len(d.features)))
    path = []
    print(f"greedy forward selection by OOF unit AUC + summary tau_b "
          f"({args.folds} folds by document, seed {args.seed}, l2 {args.l2})")
    step = 0
    while remaining:
        step += 1
        rows = []
        for c in remaining:
            cols = chosen + [c]
            oof, inner, _ = cross_validate(d, cols, args.folds, args.seed, args.l2)
            a = auc(oof, d.y)
            t = summary_tau(d, oof)
            acc_in, _ = acc_f1(oof, d.y, inner)
            crit = a + (t if np.isfinite(t) else 0.0)
            rows.append((-crit, d.features[c], c, a, t, acc_in))
        rows.sort()
        best = rows[0]
        print(f"step {step}: + one of {len(rows)} to [{', '.join(d.features[c] for c in chosen)}]")
        print(f"    {'feature':<18} {'AUC':>7} {'tau_b':>7} {'sum':>7} {'acc':>7}")
        for r in rows:
            mark = "*" if r is best else " "
            print(f"  {mark} {r[1]:<18} {fmt(r[3]):>7} {fmt(r[4]):>7} {fmt(-r[0]):>7} {fmt(r[5]):>7}")
        chosen.append(best[2])
        remaining.remove(best[2])
        path.append((list(chosen), best[3], best[4], -best[0]))
    print()
    print("path (acc = OOF accuracy at inner thresholds)")
    top = max(range(len(path)), key=lambda i: (round(path[i][3], 10), -i))
    for i, (cols, a, t, s) in enumerate(path):
        mark = "*" if i == top else " "
        print(f"  {mark} {i + 1:>2}  AUC {fmt(a)}  tau_b {fmt(t)}  sum {fmt(s)}  "
              f"{','.join(d.features[c] for c in cols)}")
    print(f"best by AUC + tau_b: --features {','.join(d.features[c] for c in path[top][0])}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="kpeval results JSONL (kp-cover run with --kp-cover-features)")
    ap.add_argument("--metric", default="kp_cover", help="scores key holding key_points[].features")
    ap.add_argument("--labels", default="scu_labels", help="meta key of the per-key-point 0/1 labels")
    ap.add_argument("--human", default="human_pyramid", help="meta key of the summary-level human score")
    ap.add_argument("--features", help="comma-separated feature names (default: all, sorted)")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--l2", type=float, default=1.0, help="penalty l2/2*|w|^2 on standardised weights")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples of documents (0: none)")
    ap.add_argument("--threshold", type=float, help="force the shipped threshold")
    ap.add_argument("--write-preset", metavar="PATH", help="write the all-data model as JSON")
    ap.add_argument("--name", default="kp-cover")
    ap.add_argument("--version", type=int, default=1)
    ap.add_argument("--data", default=DEFAULT_DATA,
                    help="fitted_on.data text; {docs} {systems} {pairs} {records} are filled in")
    ap.add_argument("--compare-features", action="store_true",
                    help="greedy forward feature selection; prints only")
    args = ap.parse_args(argv)
    if args.compare_features and args.write_preset:
        ap.error("--compare-features prints only; drop --write-preset")
    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        ap.error("--threshold must be in (0, 1)")
    if args.l2 < 0 or args.folds < 2:
        ap.error("--l2 must be >= 0 and --folds >= 2")
    feats = [s.strip() for s in args.features.split(",") if s.strip()] if args.features else None

    d = load(args.results, args.metric, args.labels, args.human, feats)
    if len(d.docs) < 2:
        sys.exit("error: need at least 2 documents")
    if args.folds > len(d.docs):
        warn(f"--folds {args.folds} > {len(d.docs)} documents; using {len(d.docs)}")
        args.folds = len(d.docs)
    n, pos = len(d.y), int(d.y.sum())
    print(f"{args.results}: scores.{args.metric}, labels meta.{args.labels}, human meta.{args.human}")
    print(f"records {len(d.rec_ids)} used, {d.n_err} errors, {d.n_skip} skipped; pairs {n} "
          f"(covered {pos} = {pos / n:.1%}); documents {len(d.docs)}; systems {len(set(d.rec_systems))}")
    print(f"features ({len(d.features)}): {' '.join(d.features)}")
    print()
    if args.compare_features:
        run_compare(d, args)
    else:
        run_fit(d, args, list(range(len(d.features))))


if __name__ == "__main__":
    main()
