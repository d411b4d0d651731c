"""``simrank advise`` on the tiny generated collection: outputs, exact pair terms against brute force,
run-file sources against the built-in ones, and every bad-input case through the CLI (one line, exit 2,
nothing written)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from simrank.advise.analysis import AdviceConfig, advise, gap_terms, load_inputs, pair_terms
from simrank.real.evaluate import read_trec_run, write_trec_run
from simrank.theory.bounds import combined_bound, excess_ranknet_pairs, kappa_eta, shell_moments

from conftest import run_advise

TINY = AdviceConfig(taus=(0.3, 1.0, 3.0), etas=(0.0, 0.5, 1.0), group_size=4, pool_size=10)
TINY_ARGS = ["--group-size", "4", "--pool-size", "10", "--tau", "0.3", "--tau", "1", "--tau", "3", "--rank", "4",
             "--population", "500"]  # fmt: skip


@pytest.fixture
def bm25_run(tiny_beir, tmp_path, monkeypatch, capsys):
    """The BM25 top-10 of the training queries, written by ``simrank advise bm25-run``."""
    path = tmp_path / "bm25-top10.trec"
    code, out, _ = run_advise(
        monkeypatch, capsys, "bm25-run", "--data", str(tiny_beir), "--depth", "10", "--out", str(path)
    )
    assert code == 0 and "4 queries" in out
    return path


def test_trec_run_round_trip(tmp_path):
    import pandas as pd

    run = pd.DataFrame({"query_id": ["q1", "q1", "q0"], "doc_id": ["d1", "d2", "d1"], "score": [0.5, 1.5, -2.0]})
    write_trec_run(tmp_path / "r.trec", run, "tag")
    back = read_trec_run(tmp_path / "r.trec")
    assert set(zip(back.query_id, back.doc_id, back.score)) == set(zip(run.query_id, run.doc_id, run.score))
    assert back.line.tolist() == [1, 2, 3]


def test_advise_end_to_end(tiny_beir, bm25_run, tmp_path, monkeypatch, capsys):
    out = tmp_path / "advice"
    args = ["--data", str(tiny_beir), "--negatives", str(bm25_run), "--negatives", "random", "--negatives", "dense"]
    code, text, err = run_advise(monkeypatch, capsys, *args, *TINY_ARGS, "--out", str(out))
    assert code == 0, err
    assert ("no recommendation" in text) != ("guarantee on the μ-risk is lowest" in text)
    advice = json.loads((out / "advice.json").read_text())
    entries = {e["source"]: e for e in advice["sources"]}
    assert list(entries) == ["bm25-top10", "random", "dense"]  # random is the uniform target: no extra entry
    required = {"source", "locality", "delta_hat", "kappa", "entropy_pair", "false_negative_rate", "eta_star"}
    assert all(required <= set(e) for e in entries.values())
    assert entries["random"]["kappa"] == 1.0 and entries["random"]["locality"] == pytest.approx(0.0, abs=1e-12)
    # top-10 of 30 documents: locality 1 − log 10/log 30, κ = ∞ against the uniform target, so η* = 1 (T4(e))
    top = entries["bm25-top10"]
    assert top["locality"] == pytest.approx(1 - math.log(10) / math.log(30))
    assert top["kappa"] is None and top["eta_star"] == 1.0
    assert 0 <= top["entropy_pair"] <= math.log(2) and 0 <= top["false_negative_rate"] <= 1
    # mixing with weight η caps κ_η at 1/η: the bound at η = 0.5 is finite, at η = 0 infinite
    assert top["bound_by_eta"]["0.0"] is None and top["bound_by_eta"]["0.5"] is not None
    ranks = [r["bound"] for r in advice["recommendations"]]
    assert ranks == sorted(ranks, key=lambda b: math.inf if b is None else b)
    assert all(r["reasons"] and r["reasons"][0].startswith("T4(b)") for r in advice["recommendations"])
    for name in ("kappa_eta", "entropy_tau", "diameters"):
        assert (out / f"{name}.png").stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "## Guarantee on the μ-risk" in report
    best = advice["recommendations"][0]
    assert best["vacuous"] == (best["bound"] is None or best["bound"] >= entries[best["source"]]["t3"]["risk_mu"])
    assert ("**No recommendation from the guarantee**" in report) == best["vacuous"]
    assert "## Prediction: the candidates ranked by the predicted excess" in report
    assert (out / "advice.json").stat().st_mode & 0o777 == 0o644


def test_run_source_equals_builtin(tiny_beir, bm25_run):
    """A run file holding the BM25 top-10 gives the same exact terms as the built-in bm25 top-10 source."""
    inp = load_inputs(tiny_beir, [str(bm25_run), "bm25"], config=TINY)
    advice = advise(inp, TINY)
    run_entry, builtin = advice["sources"][0], advice["sources"][1]
    for key in ("locality", "false_negative_rate", "judged_negative_rate", "eta_star"):
        assert run_entry[key] == pytest.approx(builtin[key], abs=1e-12), key
    assert run_entry["t3"].pop("bound") == builtin["t3"].pop("bound") == "localised"
    assert run_entry["t3"] == pytest.approx(builtin["t3"], rel=1e-9)
    assert advice["sources"][2]["source"] == "target"  # no source is the uniform target: it gets its own entry


def test_pair_terms_match_brute_force(tiny_beir):
    """``A_π``, ``ρ₂`` and the false-negative shares against a loop over every (query, positive, negative)."""
    inp = load_inputs(tiny_beir, ["dense"], config=TINY)
    qs = inp.qs
    rng = np.random.default_rng(3)
    law = rng.dirichlet(np.ones(qs.n_docs), size=qs.n_queries)
    law[:, :5] = 0.0  # a support that misses documents
    law /= law.sum(1, keepdims=True)
    terms = pair_terms(qs, inp.scorer, {"law": law}, (0.5, 2.0))["law"]
    risk, risk_sq, loss_max = {0.5: 0.0, 2.0: 0.0}, {0.5: 0.0, 2.0: 0.0}, {0.5: 0.0, 2.0: 0.0}
    rho2 = fn = 0.0
    for i in range(qs.n_queries):
        for a in np.flatnonzero(qs.positive_probs[i]):
            w = qs.positive_probs[i, a] / qs.n_queries
            for tau in risk:
                loss = excess_ranknet_pairs(inp.scorer[i], qs.teacher_scores[i], tau)[a]
                risk[tau] += w * law[i] @ loss
                risk_sq[tau] += w * law[i] @ loss**2
                loss_max[tau] = max(loss_max[tau], float(loss[law[i] > 0].max()))
            dist = np.linalg.norm(qs.docs[a] - qs.docs, axis=1) * np.linalg.norm(qs.queries[i])
            rho2 += w * law[i] @ dist**2
            fn += w * law[i] @ (qs.teacher_scores[i] >= qs.teacher_scores[i, a])
    assert terms["risk"][0.5] == pytest.approx(risk[0.5], rel=1e-5)
    assert terms["risk"][2.0] == pytest.approx(risk[2.0], rel=1e-5)
    for tau in risk:
        assert terms["risk_sq"][tau] == pytest.approx(risk_sq[tau], rel=1e-5)
        assert terms["loss_max"][tau] == pytest.approx(loss_max[tau], rel=1e-5)
    assert terms["rho2"] == pytest.approx(math.sqrt(rho2), rel=1e-6)
    assert terms["fn_teacher"] == pytest.approx(fn, rel=1e-9)


def test_kappa_eta_curve_of_a_finite_kappa(tiny_beir, tmp_path):
    """A target run over a subset of each source's candidates gives a finite κ, and κ_η follows T4(b)."""
    inp = load_inputs(tiny_beir, ["random"], config=TINY)
    rows = [(q, d, 1.0) for q in inp.query_ids for d in ("d0", "d1", "d2", "d3", "d6", "d9")]
    import pandas as pd

    write_trec_run(tmp_path / "target.trec", pd.DataFrame(rows, columns=["query_id", "doc_id", "score"]), "t")
    inp = load_inputs(tiny_beir, ["random"], target=str(tmp_path / "target.trec"), config=TINY)
    advice = advise(inp, TINY)
    entry = advice["sources"][0]
    assert entry["kappa"] == pytest.approx(30 / 6)
    np.testing.assert_allclose(advice["curves"]["random"]["kappa_eta"], kappa_eta(5.0, np.linspace(0, 1, 101)))


def _write(path, text: str):
    path.write_text(text)
    return path


def _teacher_rows(tiny_beir, docs=range(30), queries=("q0", "q1", "q2", "q3")) -> str:
    return "".join(f"{q} Q0 d{d} {r + 1} {float(-r)} t\n" for q in queries for r, d in enumerate(docs))


BAD_RUNS = {
    "malformed": ("q0 Q0 d1 1 0.5 t\nq0 Q0 d2 1 t\n", ":2: 'q0 Q0 d2 1 t' is not a TREC run line"),
    "bad score": ("q0 Q0 d1 1 high t\n", ":1: 'q0 Q0 d1 1 high t' is not a TREC run line"),
    "unknown doc": ("q0 Q0 d1 1 0.5 t\nq0 Q0 zz 2 0.4 t\nq1 Q0 yy 1 0.4 t\n", ":2: 2 documents not in the collection"),
    "unknown query": ("q0 Q0 d1 1 0.5 t\nqq Q0 d2 1 0.4 t\n", ":2: 1 queries not in the collection, e.g. 'qq'"),
    "empty": ("\n\n", ":1: empty run"),
    "duplicate": ("q0 Q0 d1 1 0.5 t\nq0 Q0 d2 2 0.4 t\nq0 Q0 d1 3 0.3 t\n", ":3: duplicate (query, document) pair"),
}


@pytest.mark.parametrize("role", ["--negatives", "--teacher", "--target"])
@pytest.mark.parametrize("problem", list(BAD_RUNS))
def test_bad_run_is_one_line_exit_2(tiny_beir, tmp_path, monkeypatch, capsys, problem, role):
    text, message = BAD_RUNS[problem]
    run = _write(tmp_path / "bad.trec", text)
    out = tmp_path / "advice"
    code, _, err = run_advise(
        monkeypatch, capsys, "--data", str(tiny_beir), role, str(run), *TINY_ARGS, "--out", str(out)
    )
    assert code == 2 and err.startswith(f"error: {run}") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_run_covering_under_half_the_queries_is_one_line_exit_2(tiny_beir, tmp_path, monkeypatch, capsys):
    """A run over 1 of the 4 training queries would analyse one query: refused (2 of 4 is accepted)."""
    run = _write(tmp_path / "one.trec", "q0 Q0 d1 1 0.5 t\nq0 Q0 d2 2 0.4 t\n")
    code, _, err = run_advise(monkeypatch, capsys, "--data", str(tiny_beir), "--negatives", str(run), *TINY_ARGS,
                        "--out", str(tmp_path / "a"))  # fmt: skip
    assert code == 2 and "covers 1 of the 4 train queries" in err and err.count("\n") == 1, err
    two = _write(tmp_path / "two.trec", "q0 Q0 d1 1 0.5 t\nq1 Q0 d2 1 0.4 t\n")
    code, _, err = run_advise(monkeypatch, capsys, "--data", str(tiny_beir), "--negatives", str(two), *TINY_ARGS,
                        "--out", str(tmp_path / "b"))  # fmt: skip
    assert "covers" not in err


def test_teacher_missing_pairs_fatal_or_skipped(tiny_beir, tmp_path, monkeypatch, capsys):
    """A teacher run over 20 of 30 documents does not cover the random source: fatal by default, with
    the count; ``--missing-teacher skip`` restricts every law to the scored pairs."""
    teacher = _write(tmp_path / "teacher.trec", _teacher_rows(tiny_beir, docs=[0, 3, 6, 9, *range(10, 26)]))
    out = tmp_path / "advice"
    base = ["--data", str(tiny_beir), "--teacher", str(teacher), "--negatives", "random", *TINY_ARGS]
    code, _, err = run_advise(monkeypatch, capsys, *base, "--out", str(out))
    assert code == 2 and err.count("\n") == 1 and not out.exists()
    assert f"error: {teacher}: the teacher run misses 40 of 120 needed" in err and "--missing-teacher skip" in err
    code, _, err = run_advise(monkeypatch, capsys, *base, "--missing-teacher", "skip", "--out", str(out))
    assert code == 0, err
    advice = json.loads((out / "advice.json").read_text())
    assert "skipped" in advice["settings"]["notes"][0]
    assert advice["sources"][0]["support_mean"] == 20  # random over the 20 scored documents
    assert "needs every document's score" in advice["prediction"]["unavailable"]  # no ranking from NaN scores


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--negatives", "nosuch"], "neither a file nor a built-in source"),
        (["--tau", "0"], "--tau = 0.0 is not allowed"),
        (["--eta", "1.5"], "--eta = 1.5 is not allowed"),
        (["--missing-teacher", "maybe"], "--missing-teacher = 'maybe' is not allowed"),
        (["--bound", "tight"], "--bound = 'tight' is not allowed"),
        (["--radius", "-1"], "--radius"),
    ],
)
def test_bad_options_are_one_line_exit_2(tiny_beir, tmp_path, monkeypatch, capsys, args, message):
    out = tmp_path / "advice"
    code, _, err = run_advise(monkeypatch, capsys, "--data", str(tiny_beir), *args, "--out", str(out))
    assert code == 2 and message in err and err.count("\n") == 1 and not out.exists()


def test_exact_terms_obey_change_of_measure(tiny_beir):
    """T4(a) on the exact pair terms: ``A_μ ≤ κ A_ν`` for the non-negative ``ℓ^KL_RN``, over 20 random
    laws ν with full support (μ uniform), and ``ρ₂(μ)² ≤ κ ρ₂(ν)²`` likewise (a non-negative pair function)."""
    inp = load_inputs(tiny_beir, ["random"], config=TINY)
    qs, rng = inp.qs, np.random.default_rng(7)
    mu = np.full((qs.n_queries, qs.n_docs), 1.0 / qs.n_docs)
    for _ in range(20):
        nu = rng.dirichlet(np.full(qs.n_docs, 0.3), size=qs.n_queries)
        terms = pair_terms(qs, inp.scorer, {"nu": nu, "mu": mu}, (1.0,))
        k = float(np.max(mu / nu))
        assert terms["mu"]["risk"][1.0] <= k * terms["nu"]["risk"][1.0] * (1 + 1e-9)
        assert terms["mu"]["rho2"] ** 2 <= k * terms["nu"]["rho2"] ** 2 * (1 + 1e-9)


def test_marginal_condition_reported(tiny_beir, tmp_path):
    """κ = ∞ sources always gain from a little of μ (T4(e)); a finite-κ source gets the computed verdict."""
    import pandas as pd

    rows = [(q, f"d{d}", 1.0) for q in ("q0", "q1", "q2", "q3") for d in range(12)]
    write_trec_run(tmp_path / "target.trec", pd.DataFrame(rows, columns=["query_id", "doc_id", "score"]), "t")
    inp = load_inputs(tiny_beir, ["random", "bm25"], target=str(tmp_path / "target.trec"), config=TINY)
    entries = {e["source"]: e for e in advise(inp, TINY)["sources"]}
    assert entries["random"]["kappa"] == pytest.approx(30 / 12)
    assert isinstance(entries["random"]["augmentation_helps"], bool)
    # a top-10 cannot cover a 12-document target: κ = ∞, so every η > 0 lowers the bound
    assert entries["bm25"]["kappa"] is None and entries["bm25"]["augmentation_helps"] is True


def test_shell_moment_matches_theory_features(tiny_beir):
    """``a²`` of Theorem 3L from the scorer's margins equals :func:`simrank.theory.shell_moments` on the explicit
    features ``u = vec(q (x⁺ − x⁻)ᵀ)`` with ``W₀ = α I`` (uniform ν, one positive per query: equal weights);
    and ``Λ ≤ a²``, the trace bound the advice uses in place of ``λ_max``."""
    inp = load_inputs(tiny_beir, ["random"], config=TINY)
    qs = inp.qs
    assert (np.count_nonzero(qs.positive_probs, axis=1) == 1).all()
    uniform = np.full((qs.n_queries, qs.n_docs), 1.0 / qs.n_docs)
    dim = qs.docs.shape[1]
    alpha = inp.scorer_norm / math.sqrt(dim)
    pos = qs.positive_probs.argmax(1)
    queries = np.repeat(qs.queries, qs.n_docs, axis=0)
    diff = (qs.docs[pos][:, None, :] - qs.docs[None, :, :]).reshape(-1, dim)
    U = np.einsum("na,nb->nab", queries, diff).reshape(-1, 1, dim * dim)
    y = (qs.teacher_scores[np.arange(qs.n_queries), pos][:, None] - qs.teacher_scores).reshape(-1, 1)
    w0 = (alpha * np.eye(dim)).ravel()
    for radius, tau in ((0.5, 1.0), (5.0, 0.3)):
        terms = pair_terms(qs, inp.scorer, {"uniform": uniform}, (tau,), radius=radius)["uniform"]
        a2, top = shell_moments(U, y, tau, w0, radius)
        assert terms["shell_a2"][tau] == pytest.approx(a2, rel=1e-5)
        assert top <= a2 * (1 + 1e-9)


def test_localised_and_ess_sup_bounds(tiny_beir):
    """``--bound ess-sup`` reproduces :func:`simrank.theory.combined_bound`; the localised Γ shrinks with the
    radius towards the Bernstein term at ``W₀``, which a larger δ lowers, and F follows the chosen Γ."""
    inp = load_inputs(tiny_beir, ["random", "bm25"], config=TINY)
    ess = advise(inp, replace(TINY, bound="ess-sup"))
    for e in ess["sources"]:
        t3, k = e["t3"], math.inf if e["kappa"] is None else e["kappa"]
        gap = {key: t3[key] for key in ("B", "rho2_nu", "rho2_mu", "rho_inf", "n")} | {"delta": t3["delta"] / 101}
        for eta, value in e["bound_by_eta"].items():
            expected = combined_bound(float(eta), k, t3["risk_nu"], t3["risk_mu"], **gap)
            assert (value is None and math.isinf(expected)) or value == pytest.approx(expected, rel=1e-12)
    gaps = {}
    for radius in (1e-3, 0.1, 1.0, 10.0):
        advice = advise(inp, replace(TINY, radius=radius))
        entry = advice["sources"][0]
        assert entry["t3"]["bound"] == "localised" and entry["t3"]["shell_radius"] >= radius
        assert entry["bound_by_eta"]["0.0"] == pytest.approx(
            entry["t3"]["risk_nu"] + entry["t3"]["gap_eta0"], rel=1e-12
        )  # κ = 1 for the uniform source: F(0) = A + Γ
        gaps[radius] = entry["t3"]["gap_eta0"]
    assert list(gaps.values()) == sorted(gaps.values())  # Γ grows with the shell
    qs = inp.qs
    uniform = np.full((qs.n_queries, qs.n_docs), 1.0 / qs.n_docs)
    terms = pair_terms(qs, inp.scorer, {"u": uniform}, (1.0,), radius=1e-3)["u"]
    small = gap_terms(1.0, terms, terms, norm_bound=1.0, n=4, delta=0.05, bound="localised", radius=1e-3)
    loose = gap_terms(1.0, terms, terms, norm_bound=1.0, n=4, delta=0.5, bound="localised", radius=1e-3)
    assert loose(0.0) < small(0.0)


def test_embeddings_of_another_encoder_via_embeddings_option(tiny_beir, tmp_path, monkeypatch, capsys):
    """``--embeddings FILE`` reads another encoder's vectors; without it the default (MiniLM) file is expected."""
    from simrank.paths import EMBEDDINGS_FILE

    (tiny_beir / EMBEDDINGS_FILE).rename(tiny_beir / "embeddings-my-encoder.npz")
    args = ["--data", str(tiny_beir), "--negatives", "random", *TINY_ARGS]
    code, _, err = run_advise(monkeypatch, capsys, *args, "--out", str(tmp_path / "a"))
    assert code == 2 and EMBEDDINGS_FILE in err and len(err.strip().splitlines()) == 1, err
    code, text, err = run_advise(
        monkeypatch, capsys, *args, "--embeddings", "embeddings-my-encoder.npz", "--out", str(tmp_path / "b")
    )
    assert code == 0 and "guarantee on the μ-risk" in text + "no recommendation", err
