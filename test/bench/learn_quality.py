#!/usr/bin/python3
"""test/bench/learn_quality.py: icp_learn's holdout AUC against scikit-learn.

Not part of `make test` (it needs python3-sklearn and python3-psycopg2 from
Debian).  Generates lead-like data sets with different shapes (many
categories, rare values, non-linear numbers, arrays, missing values),
loads train/test tables into the database named by the PG* variables,
learns with icp_learn on train, scores test with icp_evaluate, and compares
with what a statistics package does on the same columns:

  - one-hot logistic regression (categories one-hot, numbers standardised
    with a missing flag, or numbers in 10 quantile bins; the better of the
    two, L2 with C chosen by cross-validation),
  - naive Bayes frequency tables (what CRM "predictive lead scoring" does).

    PGHOST=... PGPORT=... PGDATABASE=... /usr/bin/python3 test/bench/learn_quality.py
"""
import io
import sys
import time
import warnings

import numpy as np
import psycopg2
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.naive_bayes import CategoricalNB
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, StandardScaler


def make(kind, n, rng):
    """A data set: dict of columns (object/float arrays) and the outcome."""
    cols = {}
    eta = np.full(n, -1.3)
    # industry: 40 levels, Zipf-like, a few strong
    lv = np.array([f"ind{i:02d}" for i in range(40)])
    p = 1.0 / np.arange(1, 41) ** 1.1
    ind = rng.choice(40, n, p=p / p.sum())
    eff = rng.normal(0, 0.6, 40)
    cols["industry"] = lv[ind]
    eta += eff[ind]
    # country: 15 levels with nulls
    cty = rng.integers(0, 15, n)
    ceff = rng.normal(0, 0.4, 15)
    c = np.array([f"C{i}" for i in range(15)], dtype=object)[cty]
    miss = rng.random(n) < 0.1
    c[miss] = None
    cols["country"] = c
    eta += np.where(miss, -0.3, ceff[cty])
    # employees: log-normal, hump-shaped effect
    emp = np.floor(np.exp(rng.normal(4, 1.5, n))) + 1
    cols["employees"] = emp
    le = np.log10(emp)
    eta += 0.9 * np.exp(-((le - 2.3) ** 2) / 0.5) if kind != "linear" else 0.5 * (le - 2)
    # revenue: numeric with missing values, monotone effect
    rev = np.round(np.exp(rng.normal(14, 1.2, n)), 2)
    rmiss = rng.random(n) < 0.25
    eta += np.where(rmiss, -0.4, 0.25 * (np.log(rev) - 14))
    rev = rev.astype(object)
    rev[rmiss] = None
    cols["revenue"] = rev
    # tech stack array: 12 tools, 3 with signal
    tools = [f"tool{i}" for i in range(12)]
    teff = np.zeros(12)
    teff[:3] = [0.7, -0.5, 0.4]
    has = rng.random((n, 12)) < rng.uniform(0.05, 0.4, 12)
    cols["tech_stack"] = ["{" + ",".join(t for t, h in zip(tools, row) if h) + "}" for row in has]
    eta += has @ teff
    # a boolean
    partner = rng.random(n) < 0.3
    cols["partner"] = partner
    eta += 0.5 * partner
    if kind == "noisy":
        # a useless high-cardinality text column and a useless number
        cols["city"] = np.array([f"city{i}" for i in rng.integers(0, 3000, n)], dtype=object)
        cols["score"] = rng.normal(0, 1, n)
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    return cols, y


def load(cur, table, cols, y):
    names = list(cols)
    types = {"industry": "text", "country": "text", "employees": "int", "revenue": "numeric",
             "tech_stack": "text[]", "partner": "boolean", "city": "text", "score": "float8"}
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (" + ", ".join(f"{c} {types[c]}" for c in names) + ", won boolean)")
    buf = io.StringIO()
    n = len(y)
    for i in range(n):
        row = []
        for c in names:
            v = cols[c][i]
            if v is None:
                row.append("\\N")
            elif c == "employees":
                row.append(str(int(v)))
            elif c == "partner":
                row.append("t" if v else "f")
            else:
                row.append(str(v))
        row.append("t" if y[i] else "f")
        buf.write("\t".join(row) + "\n")
    buf.seek(0)
    cur.copy_expert(f"COPY {table} FROM STDIN", buf)
    cur.execute(f"ANALYZE {table}")


def design(tr, te, numeric_mode):
    """One-hot design for scikit-learn from the same columns."""
    blocks_tr, blocks_te = [], []
    for c in tr:
        a, b = tr[c], te[c]
        if c in ("industry", "country", "city"):
            enc = OneHotEncoder(handle_unknown="ignore")
            f = lambda v: np.array([x if x is not None else "NULL" for x in v], dtype=object).reshape(-1, 1)
            blocks_tr.append(enc.fit_transform(f(a)).toarray())
            blocks_te.append(enc.transform(f(b)).toarray())
        elif c == "tech_stack":
            tools = sorted({t for s in a for t in s.strip("{}").split(",") if t})
            m = lambda v: np.array([[t in s.strip("{}").split(",") for t in tools] for s in v], dtype=float)
            blocks_tr.append(m(a))
            blocks_te.append(m(b))
        elif c == "partner":
            blocks_tr.append(a.astype(float).reshape(-1, 1))
            blocks_te.append(b.astype(float).reshape(-1, 1))
        else:
            fa = np.array([np.nan if x is None else float(x) for x in a])
            fb = np.array([np.nan if x is None else float(x) for x in b])
            ma, mb = np.isnan(fa), np.isnan(fb)
            med = np.nanmedian(fa)
            fa[ma], fb[mb] = med, med
            if numeric_mode == "raw":
                sc = StandardScaler()
                blocks_tr.append(np.column_stack([sc.fit_transform(np.log1p(np.abs(fa)).reshape(-1, 1)), ma]))
                blocks_te.append(np.column_stack([sc.transform(np.log1p(np.abs(fb)).reshape(-1, 1)), mb]))
            else:
                kb = KBinsDiscretizer(n_bins=10, encode="onehot-dense", strategy="quantile")
                blocks_tr.append(np.column_stack([kb.fit_transform(fa.reshape(-1, 1)), ma]))
                blocks_te.append(np.column_stack([kb.transform(fb.reshape(-1, 1)), mb]))
    return np.hstack(blocks_tr), np.hstack(blocks_te)


def naive_bayes(tr, te, ytr):
    """Frequency tables per attribute (numbers in 10 quantile bins)."""
    def codes(c, a, b):
        if c in ("industry", "country", "city"):
            keys = {v: i for i, v in enumerate(sorted({str(x) for x in a}))}
            return (np.array([keys.get(str(x), len(keys)) for x in a]),
                    np.array([keys.get(str(x), len(keys)) for x in b]), len(keys) + 1)
        if c == "partner":
            return a.astype(int), b.astype(int), 2
        fa = np.array([np.nan if x is None else float(x) for x in a])
        fb = np.array([np.nan if x is None else float(x) for x in b])
        qs = np.nanquantile(fa, np.linspace(0.1, 0.9, 9))
        f = lambda v: np.where(np.isnan(v), 10, np.searchsorted(qs, v, side="right"))
        return f(fa), f(fb), 11
    Xtr, Xte, cats = [], [], []
    for c in tr:
        if c == "tech_stack":
            continue
        a, b, k = codes(c, tr[c], te[c])
        Xtr.append(a)
        Xte.append(b)
        cats.append(k)
    tools = sorted({t for s in tr["tech_stack"] for t in s.strip("{}").split(",") if t})
    for t in tools:
        Xtr.append(np.array([t in s.strip("{}").split(",") for s in tr["tech_stack"]], dtype=int))
        Xte.append(np.array([t in s.strip("{}").split(",") for s in te["tech_stack"]], dtype=int))
        cats.append(2)
    nb = CategoricalNB(alpha=1.0, min_categories=cats)
    nb.fit(np.column_stack(Xtr), ytr)
    return nb.predict_proba(np.column_stack(Xte))[:, 1]


def main():
    warnings.simplefilter("ignore")
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS icp")
    print(f"{'data set':<12} {'train':>7} {'icp_learn':>9} {'one-hot LR':>10} {'naive Bayes':>11} "
          f"{'icp - LR':>8} {'learn s':>7}")
    worst = 1.0
    for kind, n, seed in [("hump", 20000, 1), ("linear", 20000, 2), ("noisy", 20000, 3),
                          ("small", 3000, 4), ("large", 100000, 5)]:
        rng = np.random.default_rng(seed)
        cols, y = make(kind, n + n // 2, rng)
        tr = {c: v[:n] if not isinstance(v, list) else v[:n] for c, v in cols.items()}
        te = {c: v[n:] if not isinstance(v, list) else v[n:] for c, v in cols.items()}
        tr = {c: np.array(v, dtype=object) if isinstance(v, list) else v for c, v in tr.items()}
        te = {c: np.array(v, dtype=object) if isinstance(v, list) else v for c, v in te.items()}
        load(cur, "q_train", tr, y[:n])
        load(cur, "q_test", te, y[n:])
        t0 = time.time()
        cur.execute("SELECT * FROM icp_learn('q_learned', 'q_train', 'won')")
        secs = time.time() - t0
        cur.execute("SELECT auc FROM icp_evaluate('q_learned', 'q_test', 'won')")
        icp_auc = cur.fetchone()[0]
        best = 0.0
        for mode in ("raw", "bins"):
            Xtr, Xte = design(tr, te, mode)
            lr = LogisticRegressionCV(Cs=[0.1, 1, 10], cv=3, max_iter=2000, scoring="roc_auc")
            lr.fit(Xtr, y[:n])
            best = max(best, roc_auc_score(y[n:], lr.predict_proba(Xte)[:, 1]))
        nb_auc = roc_auc_score(y[n:], naive_bayes(tr, te, y[:n]))
        worst = min(worst, icp_auc - best)
        print(f"{kind:<12} {n:>7} {icp_auc:>9.4f} {best:>10.4f} {nb_auc:>11.4f} {icp_auc - best:>+8.4f} {secs:>7.2f}", flush=True)
    cur.execute("DELETE FROM icp_profiles WHERE name = 'q_learned'")
    cur.execute("DROP TABLE q_train, q_test")
    print(f"worst icp_learn - one-hot LR: {worst:+.4f} (target >= -0.005)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
