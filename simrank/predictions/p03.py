"""P3: locality and teacher entropy act additively on the gap (their interaction is negligible)."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from simrank.figures import line_panel
from simrank.predictions.base import (
    ALPHA,
    Prediction,
    Tables,
    Verdict,
    across_conditions,
    config_value,
    decide_equivalence,
    deciding_test,
    effect_of,
    familywise,
    fmt_effect,
    power_equivalence,
)
from simrank.predictions.plots import LEVEL, design_note, legend
from simrank.stats import two_way_anova

__all__ = ["EXPERIMENTS", "PREDICTION", "SEEDS", "SESOI", "analyse", "caption", "contrasts", "draw"]

EXPERIMENTS = ("p03-additivity", "p03-additivity-matched")
SESOI = (
    0.005  # nats of gap: a 2×2 interaction contrast inside ±0.005 is negligible (~10% of the pilot τ main effect 0.06)
)
SEEDS = 10  # see preregistration: no feasible seed count powers TOST for the noisiest contrasts (pilot SD 0.046)


def _factors(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if name == "p03-additivity-matched":
        return df.assign(entropy=config_value(df, "data", "match_entropy")), "entropy"
    return df, "tau"


def contrasts(df: pd.DataFrame, a: str, b: str, value: str = "gap") -> dict[tuple, pd.Series]:
    """Per-seed 2×2 interaction contrasts of adjacent levels, ``y[i,j] − y[i+1,j] − y[i,j+1] + y[i+1,j+1]``.

    Each contrast is a within-seed difference, so no equal-variance assumption is made across cells
    (the heteroscedasticity-robust alternative to the pooled-variance ANOVA F test).

    Returns:
      ``{(a_i, a_{i+1}, b_j, b_{j+1}): per-seed contrast}``.
    """
    cell = df.groupby([a, b, "seed"])[value].mean()
    la, lb = sorted(df[a].unique()), sorted(df[b].unique())
    out = {}
    for i, j in itertools.product(range(len(la) - 1), range(len(lb) - 1)):
        a0, a1, b0, b1 = la[i], la[i + 1], lb[j], lb[j + 1]
        out[(a0, a1, b0, b1)] = cell[a0, b0] - cell[a1, b0] - cell[a0, b1] + cell[a1, b1]
    return out


def analyse(tables: Tables) -> Verdict:
    """Per design (raw pool × τ; entropy-matched pool × H_pair), the per-seed 2×2 interaction contrasts of
    adjacent levels: supported iff every contrast's 90% CI lies inside ±SESOI (intersection-union TOST);
    refuted iff some contrast's Bonferroni interval (α/k per one-sided test, k = all contrasts of both designs:
    the multiplicity policy, ``base.familywise``) lies entirely outside ±SESOI; the two designs are the
    conditions.  The primary effect is the contrast the verdict rests on (``base.deciding_test``).  Reported: the
    Type II ANOVA η² for reference.
    """
    designs = {name: _factors(name, tables[name]) for name in EXPERIMENTS}
    per_design = {name: contrasts(df, "pool_size", b) for name, (df, b) in designs.items()}
    decide = familywise(decide_equivalence, sum(len(cs) for cs in per_design.values()))
    rows, outcomes, tests = [], [], []
    for name in EXPERIMENTS:
        (df, b), cs = designs[name], per_design[name]
        decided = []
        for key, c in cs.items():
            e = effect_of(c.to_numpy())
            out = decide(e, SESOI)
            decided.append(out)
            tests.append((e, out, power_equivalence(SESOI, e.sd, e.n)))
            rows.append(
                {
                    "design": name,
                    "contrast": f"M {key[0]:g}→{key[1]:g} × {b} {key[2]:g}→{key[3]:g}",
                    "mean": e.mean,
                    "low": e.low,
                    "high": e.high,
                    "outcome": out,
                }
            )
        outcome = (
            "refuted" if "refuted" in decided else "supported" if set(decided) == {"supported"} else "inconclusive"
        )
        outcomes.append(outcome)
        aov = two_way_anova(df, "pool_size", b, "gap")
        rows.append(
            {
                "design": name,
                "contrast": f"ANOVA η² interaction {aov.loc[f'pool_size:{b}', 'eta_sq']:.3f}",
                "mean": float("nan"),
                "low": float("nan"),
                "high": float("nan"),
                "outcome": outcome,
            }
        )
    table = pd.DataFrame(rows)
    outcome = across_conditions(outcomes)
    primary = deciding_test(outcome, tests) if tests else effect_of([])
    power = power_equivalence(SESOI, primary.sd, primary.n)
    summary = "; ".join(
        f"{name}: interaction contrasts "
        + ", ".join(
            f"{r.mean:.4f} [{r.low:.4f}, {r.high:.4f}]"
            for r in table[(table["design"] == name) & table["mean"].notna()].itertuples()
        )
        + f" (margin ±{SESOI}) → {o}"
        for name, o in zip(EXPERIMENTS, outcomes)
    )
    return Verdict(
        outcome=outcome,
        summary=summary,
        effect=primary,
        sesoi=SESOI,
        seeds=int(tables[EXPERIMENTS[0]]["seed"].nunique()),
        power=power,
        numbers={"primary": fmt_effect(primary, 4)},
        table=table,
    )


def draw(tables: Tables) -> Figure:
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    for ax, name, title in zip(axes, EXPERIMENTS, ("raw: fixed τ", "entropy-matched")):
        df, b = _factors(name, tables[name])
        line_panel(ax, df, "pool_size", "gap", b)
        ax.set_xscale("log")
        ax.set_xlabel("negative pool size M (log scale; small = local)")
        ax.set_title(title, fontsize=9)
        legend(ax, "τ" if b == "tau" else "target H_pair (nats)")
    axes[0].set_ylabel("generalisation gap (nats)")
    return fig


def caption(tables: Tables) -> str:
    df = tables[EXPERIMENTS[0]]
    return (
        f"P3. Generalisation gap of {df['loss'].iloc[0]} distillation against negative pool size. Left: one line "
        f"per teacher temperature τ. Right: one line per target mean pairwise entropy (τ chosen per sampler and "
        f"seed so that the training groups' H_pair matches). Bands: 95% t-intervals over seeds; the verdict tests "
        f"the per-seed 2×2 interaction contrasts ({LEVEL} CIs within ±{SESOI} nats); parallel lines = no "
        f"interaction; {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P3",
    claim="locality and teacher entropy act additively on the generalisation gap",
    experiments=EXPERIMENTS,
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="per-seed 2×2 interaction contrasts (no equal-variance assumption), TOST within ±SESOI; Bonferroni over all 8 "
    "contrasts to refute",
    rule="per design: supported if all contrasts equivalent, refuted if one lies outside ±SESOI; designs are conditions",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
