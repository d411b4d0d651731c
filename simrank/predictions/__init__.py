"""The predictions P1-P12 of theory.md section 4 as pre-registered, three-outcome verdict rules.

``base`` holds the protocol (outcomes, paired-by-seed effects, decisions, power), ``plots`` the shared
figure pieces, ``p01`` … ``p12`` one prediction each (``PREDICTION``: claim, design, SESOI, α, seeds, test,
rule, figure, caption), and ``paper`` the registry of all twelve with the generated parts of the paper.
"""

__all__: list[str] = []
