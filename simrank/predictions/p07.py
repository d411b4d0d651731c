"""P7: hard sampling shrinks the sampled diameter Δ̂ in isotropic worlds, but hardly in cone worlds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from simrank.figures import line_panel
from simrank.predictions.base import (
    ALPHA,
    Effect,
    Prediction,
    Tables,
    Verdict,
    across_conditions,
    all_of,
    by_seed,
    decide_increase,
    effect_of,
    familywise,
    fmt_effect,
    power_change,
)
from simrank.predictions.plots import LEVEL, design_note, legend

__all__ = [
    "EXPERIMENT",
    "HARDLY",
    "ORIGINAL_VECTORS",
    "PREDICTION",
    "SEEDS",
    "SESOI",
    "VECTORS",
    "analyse",
    "caption",
    "draw",
]

EXPERIMENT = "p07-diameter-geometry"
SESOI = 0.05  # shrink of Δ̂: absolute (embedding units) and relative (fraction of the uniform Δ̂)
SEEDS = 263  # max over the 4 conditions at 80% power, 5-seed pilot: raw absolute 0.5·iso − cone SD 0.1625 -> 263
HARDLY = 0.5  # "hardly": the cone shrinks at most half as much as the isotropic world


def _shrinks(df: pd.DataFrame) -> dict:
    """Per world label, per-seed absolute and relative shrink of Δ̂ from the largest to the smallest pool."""
    hard, easy = df["pool_size"].min(), df["pool_size"].max()
    out = {}
    for world, cell in df.groupby("world"):
        h, e = (
            by_seed(cell, cell["pool_size"] == hard, "delta_hat"),
            by_seed(cell, cell["pool_size"] == easy, "delta_hat"),
        )
        out[world] = {"absolute": e - h, "relative": 1 - h / e}
    return out


VECTORS = {"raw": "", "sphere": "-sphere"}  # condition -> suffix of the results' world label


def _decide(tests: dict[tuple[str, str], tuple[Effect, Effect]]) -> tuple[dict[tuple[str, str], str], str]:
    """Per condition all_of(isotropic shrink ≥ SESOI, HARDLY·iso − cone ≥ 0 at SESOI·HARDLY), both under the
    multiplicity policy over the 2 · len(tests) decided tests (``base.familywise``); conditions by
    ``across_conditions``.  ``tests``: condition -> (isotropic shrink Effect, margin Effect)."""
    decide = familywise(decide_increase, 2 * len(tests))
    out = {c: all_of([decide(iso, SESOI), decide(margin, HARDLY * SESOI)]) for c, (iso, margin) in tests.items()}
    return out, across_conditions(list(out.values())) if out else "inconclusive"


#: The original registration (648deb6): decided on unit-sphere vectors only, raw vectors a control.
ORIGINAL_VECTORS = ("sphere",)


def analyse(tables: Tables) -> Verdict:
    """Per condition (vectors ∈ {raw, sphere}) × (measure ∈ {absolute, relative} shrink of Δ̂): all_of(isotropic
    shrink ≥ SESOI, HARDLY·isotropic − cone shrink > 0 (paired by seed, ``decide_increase`` at SESOI·HARDLY));
    the conditions combine by ``across_conditions``; refutations on Bonferroni intervals over the 8 decided tests
    (``base.familywise``).  Raw cone: ``‖z‖·normalise(c·u + z)``, sphere cone: its direction (both cones of
    directions, see :mod:`simrank.world`).  Reported beside it: the outcome under the original registration
    (648deb6: the sphere conditions only, raw vectors a control; ``Verdict.original``).
    """
    df = tables[EXPERIMENT]
    s = _shrinks(df)
    rows, tests = [], {}
    for vectors, suffix in VECTORS.items():
        for measure in ("absolute", "relative"):
            for world in (f"isotropic{suffix}", f"cone{suffix}"):
                if world in s:
                    e = effect_of(s[world][measure].to_numpy())
                    rows.append({"vectors": vectors, "measure": measure, "world": world} | _cells(e))
            if f"isotropic{suffix}" not in s or f"cone{suffix}" not in s:
                continue
            iso, cone = s[f"isotropic{suffix}"][measure], s[f"cone{suffix}"][measure]
            margin = effect_of((HARDLY * iso - cone).dropna().to_numpy())
            tests[(vectors, measure)] = (effect_of(iso.to_numpy()), margin)
            rows.append({"vectors": vectors, "measure": measure, "world": f"{HARDLY}·iso − cone"} | _cells(margin))
    conditions, outcome = _decide(tests)
    _, original = _decide({c: t for c, t in tests.items() if c[0] in ORIGINAL_VECTORS})
    table = pd.DataFrame(rows)
    is_margin = table["world"] == f"{HARDLY}·iso − cone"
    table.loc[is_margin, "outcome"] = [conditions[(r.vectors, r.measure)] for r in table[is_margin].itertuples()]
    crit = [margin for _, margin in tests.values()]
    primary = min(crit, key=lambda x: power_change(HARDLY * SESOI, x.sd, x.n)) if crit else effect_of([])
    summary = (
        f"shrink of Δ̂ from pool {df['pool_size'].max():g} to {df['pool_size'].min():g} ({LEVEL} CIs; refutations on "
        f"Bonferroni intervals over the {2 * len(tests)} decided tests): "
        + "; ".join(
            f"{r.vectors} {r.measure} {r.world} {r.shrink:.3f} [{r.low:.3f}, {r.high:.3f}]"
            + (f" → {r.outcome}" if isinstance(r.outcome, str) else "")
            for r in table.itertuples()
        )
        + f"; under the original registration (648deb6: unit-sphere conditions only, raw vectors a control): {original}"
    )
    return Verdict(
        outcome=outcome,
        summary=summary,
        effect=primary,
        sesoi=HARDLY * SESOI,
        seeds=int(df["seed"].nunique()),
        power=power_change(HARDLY * SESOI, primary.sd, primary.n),
        numbers={"primary": fmt_effect(primary)},
        table=table,
        original=original,
    )


def _cells(e, outcome=None) -> dict:
    return {"shrink": e.mean, "low": e.low, "high": e.high, "outcome": outcome}


def draw(tables: Tables) -> Figure:
    df = tables[EXPERIMENT]
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for ax, sphere in zip(axes, (False, True)):
        part = df[df["world"].str.endswith("-sphere") == sphere]
        line_panel(ax, part, "pool_size", "delta_hat", "world")
        ax.set_xscale("log")
        ax.set_xlabel("negative pool size M (log scale; small = hard)")
        ax.set_title("unit-sphere vectors" if sphere else "raw vectors (cone: isotropic norms)", fontsize=9)
        legend(ax, "geometry")
    axes[0].set_ylabel("sampled diameter Δ̂ (0.99-quantile)")
    return fig


def caption(tables: Tables) -> str:
    df = tables[EXPERIMENT]
    return (
        f"P7. Sampled group diameter Δ̂ (0.99-quantile) against negative pool size, isotropic vs cone world; left "
        f"raw vectors (the cone keeps the isotropic norms with directions concentrated around one axis, so its "
        f"pairwise distances are smaller), right unit-sphere vectors (the cone's directions); bands 95% t-intervals "
        f"over seeds (the verdict pairs pools and worlds by seed; conditions: raw and sphere × absolute and relative "
        f"shrink); {design_note(df)}."
    )


PREDICTION = Prediction(
    key="P7",
    claim="hard sampling shrinks Δ̂ in isotropic worlds but hardly in cone worlds",
    experiments=(EXPERIMENT,),
    sesoi=SESOI,
    alpha=ALPHA,
    seeds=SEEDS,
    test="one-sided paired t (90% CI) of the isotropic shrink and of 0.5·isotropic − cone shrink, raw and unit sphere",
    rule="per vectors (raw, sphere) × measure (absolute, relative): isotropic shrink ≥ SESOI and cone ≤ half of it; "
    "the four are conditions",
    analyse=analyse,
    draw=draw,
    caption=caption,
)
