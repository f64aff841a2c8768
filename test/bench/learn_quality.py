#!/usr/bin/python3
"""test/bench/learn_quality.py: icp_learn's holdout AUC against scikit-learn.

Run by `make learn-quality` (not part of `make test`: it needs Debian's
python3-sklearn and python3-psycopg2).  Generates lead-like data sets of
different shapes, loads them into the database named by the PG* variables,
learns with icp_learn on the training rows (with and without the option
interactions) and scores the holdout (every 5th row) with icp_evaluate; the
same rows go to scikit-learn:

  - LR: one-hot logistic regression (categories one-hot, numbers in 10
    quantile bins with a missing flag, array elements as 0/1; L2 with C
    chosen by 3-fold cross-validation),
  - HGB: HistGradientBoostingClassifier with its defaults (categories as
    native categorical features, numbers raw with NaN, array elements 0/1).

Data sets:
  additive  every effect is one attribute's (a hump in employees, missing
            revenue, tools in an array): no interactions to find
  planted   the same plus planted two- and three-way interactions (a
            mid-sized software company; a partner using tool0; a country
            that only buys above a revenue)
  noisy     additive plus a useless 3,000-value text column and a useless
            number
  bank      shaped like the public bank-marketing data (age, job, marital,
            education, balance, contact, month, duration, campaign,
            previous, poutcome; about 12 % positives) with its typical
            non-linear and joint effects
  pure      a pure interaction of two numbers (tanh(2 x1) tanh(2 x2): no
            trace in either alone), a smooth effect of a third (sin 2 x3) and
            a category that matters only above a value of x1
  wide      20 text columns of 10 values, each with small effects, and two
            planted pairs: 200 one-attribute criteria, more than the default
            max_criteria leaves for them
  small     planted with 6,000 rows
  large     planted with 200,000 rows

    PGHOST=... PGPORT=... PGDATABASE=... /usr/bin/python3 test/bench/learn_quality.py
    LEARN_QUALITY_SETS=planted,bank LEARN_QUALITY_CRITERIA=50,150,250 ...
"""
import io
import os
import sys
import time
import warnings

import numpy as np
import psycopg2
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder

TYPES = {"industry": "text", "country": "text", "employees": "int", "revenue": "numeric",
         "tech_stack": "text[]", "partner": "boolean", "city": "text", "score": "float8",
         "age": "int", "job": "text", "marital": "text", "education": "text",
         "balance": "int", "contact": "text", "month": "text", "duration": "int",
         "campaign": "int", "previous": "int", "poutcome": "text",
         "x1": "float8", "x2": "float8", "x3": "float8", "segment": "text"}
TYPES.update({f"w{j:02d}": "text" for j in range(20)})


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def leads(kind, n, rng):
    """Lead-like columns and the outcome, with or without interactions."""
    cols = {}
    eta = np.full(n, -1.3)
    lv = np.array([f"ind{i:02d}" for i in range(40)], dtype=object)
    p = 1.0 / np.arange(1, 41) ** 1.1
    ind = rng.choice(40, n, p=p / p.sum())
    eff = rng.normal(0, 0.6, 40)
    cols["industry"] = lv[ind]
    eta += eff[ind]
    cty = rng.integers(0, 15, n)
    ceff = rng.normal(0, 0.4, 15)
    c = np.array([f"C{i}" for i in range(15)], dtype=object)[cty]
    miss = rng.random(n) < 0.1
    c[miss] = None
    cols["country"] = c
    eta += np.where(miss, -0.3, ceff[cty])
    emp = np.floor(np.exp(rng.normal(4, 1.5, n))) + 1
    cols["employees"] = emp
    le = np.log10(emp)
    eta += 0.9 * np.exp(-((le - 2.3) ** 2) / 0.5)
    rev = np.round(np.exp(rng.normal(14, 1.2, n)), 2)
    rmiss = rng.random(n) < 0.25
    eta += np.where(rmiss, -0.4, 0.25 * (np.log(rev) - 14))
    tools = [f"tool{i}" for i in range(12)]
    teff = np.zeros(12)
    teff[:3] = [0.7, -0.5, 0.4]
    has = rng.random((n, 12)) < rng.uniform(0.05, 0.4, 12)
    cols["tech_stack"] = np.array(["{" + ",".join(t for t, h in zip(tools, row) if h) + "}"
                                   for row in has], dtype=object)
    eta += has @ teff
    partner = rng.random(n) < 0.3
    cols["partner"] = partner
    eta += 0.5 * partner
    if kind == "planted":
        top = np.isin(ind, [0, 3, 7])
        eta += 1.4 * (top & (emp >= 50) & (emp < 500))
        eta += 1.0 * (partner & has[:, 0])
        eta -= 0.9 * (partner & has[:, 5] & (emp < 20))
        eta += 1.2 * ((cty == 4) & ~miss & ~rmiss & (np.nan_to_num(rev) > 2e6))
        eta -= 0.8 * ((cty < 3) & ~miss & (emp > 1000))
    rev = rev.astype(object)
    rev[rmiss] = None
    cols["revenue"] = rev
    if kind == "noisy":
        cols["city"] = np.array([f"city{i}" for i in rng.integers(0, 3000, n)], dtype=object)
        cols["score"] = rng.normal(0, 1, n)
    y = rng.random(n) < sigmoid(eta)
    return cols, y


def bank(n, rng):
    """Shaped like the public bank-marketing data (term deposit subscribed)."""
    jobs = ["admin.", "blue-collar", "entrepreneur", "housemaid", "management", "retired",
            "self-employed", "services", "student", "technician", "unemployed", "unknown"]
    jp = np.array([11, 21, 3, 3, 21, 5, 3, 9, 2, 17, 3, 1], dtype=float)
    job = rng.choice(12, n, p=jp / jp.sum())
    age = np.where(job == 8, rng.integers(18, 30, n),
                   np.where(job == 5, rng.integers(55, 90, n),
                            np.clip(rng.normal(40, 9, n).round(), 20, 70))).astype(int)
    mar = rng.choice(3, n, p=[0.6, 0.28, 0.12])
    edu = rng.choice(4, n, p=[0.15, 0.51, 0.3, 0.04])
    bal = np.round(rng.standard_t(2, n) * 800 + 1000).astype(int)
    contact = rng.choice(3, n, p=[0.65, 0.06, 0.29])
    mon = rng.choice(12, n, p=np.array([3, 6, 1, 6, 30, 12, 15, 14, 1, 2, 9, 1]) / 100)
    dur = np.round(rng.lognormal(5.2, 0.9, n)).astype(int)
    camp = np.minimum(1 + rng.geometric(0.4, n) - 1, 60)
    prevc = np.where(rng.random(n) < 0.18, rng.geometric(0.4, n), 0)
    pout = np.where(prevc == 0, 3, rng.choice(3, n, p=[0.55, 0.2, 0.25]))
    eta = -3.2 + 1.6 * np.tanh((dur - 250) / 300) + 1.2 * (dur > 600)
    eta += np.where(job == 8, 0.6, 0) + np.where(job == 5, 0.5, 0) + np.where(job == 1, -0.3, 0)
    eta += np.where(contact == 2, -1.1, 0) + np.where(mar == 0, -0.15, 0) + 0.2 * (edu == 2)
    eta += np.array([0, 0.2, 1.2, -0.2, -0.5, 0.1, 0.2, -0.1, 1.3, 1.2, 0, 1.4])[mon]
    eta += -0.12 * np.minimum(camp, 10) + 0.15 * np.log1p(np.maximum(bal, 0)) / 4
    eta += np.where(pout == 2, 2.0, 0) + np.where(pout == 1, -0.2, 0)
    # joint effects
    eta += 0.9 * ((pout == 2) & (contact == 0) & (camp <= 2))
    eta += 0.8 * ((age >= 60) & (mon >= 8))
    eta -= 0.8 * ((job == 1) & (mar == 0) & (dur < 200))
    eta += 0.7 * ((bal > 3000) & (edu == 2))
    eta -= 1.0 * ((contact == 2) & (dur > 600))
    cols = {
        "age": age,
        "job": np.array(jobs, dtype=object)[job],
        "marital": np.array(["married", "single", "divorced"], dtype=object)[mar],
        "education": np.array(["primary", "secondary", "tertiary", "unknown"], dtype=object)[edu],
        "balance": bal,
        "contact": np.array(["cellular", "telephone", "unknown"], dtype=object)[contact],
        "month": np.array(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                           "nov", "dec"], dtype=object)[mon],
        "duration": dur,
        "campaign": camp,
        "previous": prevc,
        "poutcome": np.array(["failure", "other", "success", "unknown"], dtype=object)[pout],
    }
    y = rng.random(n) < sigmoid(eta)
    return cols, y


def pure(n, rng):
    """Effects a one-attribute profile cannot see."""
    x1, x2, x3 = rng.normal(0, 1, n), rng.normal(0, 1, n), rng.normal(0, 1, n)
    seg = rng.integers(0, 8, n)
    eta = (-1 + 1.5 * np.tanh(2 * x1) * np.tanh(2 * x2) + 0.8 * np.sin(2 * x3)
           + np.where(seg == 2, 0.8, 0) * (x1 > 0.5))
    cols = {"x1": np.round(x1, 4), "x2": np.round(x2, 4), "x3": np.round(x3, 4),
            "segment": np.array([f"s{i}" for i in range(8)], dtype=object)[seg]}
    return cols, rng.random(n) < sigmoid(eta)


def wide(n, rng):
    """Many text columns: the one-attribute criteria alone pass the cap."""
    k, lv = 20, 10
    c = rng.integers(0, lv, (n, k))
    eff = rng.normal(0, 0.35, (k, lv))
    eta = (-1.2 + eff[np.arange(k), c].sum(axis=1) + 1.0 * ((c[:, 0] < 3) & (c[:, 1] >= 7))
           - 0.9 * ((c[:, 2] == 4) & (c[:, 3] < 5)))
    cols = {f"w{j:02d}": np.array([f"v{v}" for v in c[:, j]], dtype=object) for j in range(k)}
    return cols, rng.random(n) < sigmoid(eta)


def load(cur, table, cols, y):
    names = list(cols)
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (id int, " +
                ", ".join(f"{c} {TYPES[c]}" for c in names) + ", won boolean)")
    buf = io.StringIO()
    for i in range(len(y)):
        row = [str(i)]
        for c in names:
            v = cols[c][i]
            if v is None:
                row.append("\\N")
            elif TYPES[c] == "int":
                row.append(str(int(v)))
            elif TYPES[c] == "boolean":
                row.append("t" if v else "f")
            else:
                row.append(str(v))
        row.append("t" if y[i] else "f")
        buf.write("\t".join(row) + "\n")
    buf.seek(0)
    cur.copy_expert(f"COPY {table} FROM STDIN", buf)
    cur.execute(f"ANALYZE {table}")


def split_elems(v):
    return [t for t in v.strip("{}").split(",") if t]


def design(tr, te, for_hgb):
    """The same columns for scikit-learn: one-hot and bins (LR) or native (HGB)."""
    btr, bte, cat = [], [], []
    for c in tr:
        a, b = tr[c], te[c]
        if TYPES[c] == "text":
            f = lambda v: np.array([x if x is not None else "NULL" for x in v],
                                   dtype=object).reshape(-1, 1)
            if for_hgb:
                levels = {v: i for i, v in enumerate(sorted(set(f(a).ravel())))}
                if len(levels) > 250:
                    continue    # HGB takes at most 255 categories; the column is noise
                g = lambda v: np.array([levels.get(x, np.nan) for x in f(v).ravel()], dtype=float)
                btr.append(g(a).reshape(-1, 1))
                bte.append(g(b).reshape(-1, 1))
                cat.append(True)
            else:
                enc = OneHotEncoder(handle_unknown="ignore")
                btr.append(enc.fit_transform(f(a)).toarray())
                bte.append(enc.transform(f(b)).toarray())
                cat += [False] * btr[-1].shape[1]
        elif TYPES[c] == "text[]":
            tools = sorted({t for s in a for t in split_elems(s)})
            m = lambda v: np.array([[t in split_elems(s) for t in tools] for s in v], dtype=float)
            btr.append(m(a))
            bte.append(m(b))
            cat += [False] * len(tools)
        elif TYPES[c] == "boolean":
            btr.append(a.astype(float).reshape(-1, 1))
            bte.append(b.astype(float).reshape(-1, 1))
            cat.append(False)
        else:
            fa = np.array([np.nan if x is None else float(x) for x in a])
            fb = np.array([np.nan if x is None else float(x) for x in b])
            if for_hgb:
                btr.append(fa.reshape(-1, 1))
                bte.append(fb.reshape(-1, 1))
                cat.append(False)
                continue
            ma, mb = np.isnan(fa), np.isnan(fb)
            med = np.nanmedian(fa)
            fa[ma], fb[mb] = med, med
            kb = KBinsDiscretizer(n_bins=10, encode="onehot-dense", strategy="quantile")
            btr.append(np.column_stack([kb.fit_transform(fa.reshape(-1, 1)), ma]))
            bte.append(np.column_stack([kb.transform(fb.reshape(-1, 1)), mb]))
            cat += [False] * btr[-1].shape[1]
    return np.hstack(btr), np.hstack(bte), np.array(cat)


def icp(cur, options):
    t0 = time.time()
    cur.execute("SELECT criteria FROM icp_learn('q_learned', 'q_train', 'won', NULL, %s)",
                (options,))
    ncrit = cur.fetchone()[0]
    secs = time.time() - t0
    cur.execute("SELECT auc FROM icp_evaluate('q_learned', 'q_test', 'won')")
    return cur.fetchone()[0], ncrit, secs


def main():
    warnings.simplefilter("ignore")
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS icp")
    sets = os.environ.get("LEARN_QUALITY_SETS", "additive,planted,noisy,bank,pure,wide,small,large").split(",")
    budgets = [int(x) for x in os.environ.get("LEARN_QUALITY_CRITERIA", "").split(",") if x]
    print("holdout AUC (every 5th row); icp+int: option interactions (default max_criteria 200)")
    print(f"{'data set':<9} {'rows':>7} {'icp':>7} {'icp+int':>7} {'crit':>5} {'LR':>7} "
          f"{'HGB':>7} {'icp-LR':>7} {'int-HGB':>7} {'s':>5} {'s int':>6}")
    trade = []
    for kind in sets:
        seed = {"additive": 1, "planted": 2, "noisy": 3, "bank": 4, "large": 5, "small": 6, "pure": 7, "wide": 8}[kind]
        rng = np.random.default_rng(seed)
        n = {"large": 200000, "bank": 45000, "small": 6000, "pure": 40000}.get(kind, 30000)
        if kind == "bank":
            cols, y = bank(n, rng)
        elif kind == "pure":
            cols, y = pure(n, rng)
        elif kind == "wide":
            cols, y = wide(n, rng)
        else:
            cols, y = leads("planted" if kind in ("planted", "small", "large") else kind, n, rng)
        test = np.arange(n) % 5 == 4
        tr = {c: np.asarray(v, dtype=object)[~test] for c, v in cols.items()}
        te = {c: np.asarray(v, dtype=object)[test] for c, v in cols.items()}
        for c in cols:
            if TYPES[c] == "boolean":
                tr[c], te[c] = tr[c].astype(bool), te[c].astype(bool)
        load(cur, "q_train", tr, y[~test])
        load(cur, "q_test", te, y[test])
        auc0, _, s0 = icp(cur, '{}')
        auc1, crit1, s1 = icp(cur, '{"interactions": true}')
        for budget in budgets:
            a, k, _ = icp(cur, '{"interactions": true, "max_criteria": %d}' % budget)
            trade.append((kind, budget, k, a))
        Xtr, Xte, _ = design(tr, te, False)
        lr = LogisticRegressionCV(Cs=[0.1, 1, 10], cv=3, max_iter=3000, scoring="roc_auc")
        lr.fit(Xtr, y[~test])
        lr_auc = roc_auc_score(y[test], lr.predict_proba(Xte)[:, 1])
        Htr, Hte, cat = design(tr, te, True)
        hgb = HistGradientBoostingClassifier(categorical_features=cat if cat.any() else None,
                                             random_state=0)
        hgb.fit(Htr, y[~test])
        hgb_auc = roc_auc_score(y[test], hgb.predict_proba(Hte)[:, 1])
        print(f"{kind:<9} {n:>7} {auc0:>7.4f} {auc1:>7.4f} {crit1:>5} {lr_auc:>7.4f} "
              f"{hgb_auc:>7.4f} {auc0 - lr_auc:>+7.4f} {auc1 - hgb_auc:>+7.4f} "
              f"{s0:>5.2f} {s1:>6.2f}", flush=True)
    if trade:
        print("\nmax_criteria trade-off (icp+int): data set, max_criteria, criteria, holdout AUC")
        for kind, budget, k, a in trade:
            print(f"{kind:<9} {budget:>5} {k:>5} {a:.4f}")
    cur.execute("DELETE FROM icp_profiles WHERE name = 'q_learned'")
    cur.execute("DROP TABLE q_train, q_test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
