"""The README's library example runs as printed (extracted from README.md, executed in a fresh interpreter)."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def library_example() -> str:
    section = README.read_text().split("## Use as a library", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_library_example_runs(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(library_example())
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    printed = re.search(r"loss ([\d.]+) -> ([\d.]+); nDCG@10 \[([\d. ]+)\]; kappa inf", out.stdout)
    assert printed, out.stdout
    first, last = float(printed.group(1)), float(printed.group(2))
    assert last < first  # training lowered the loss
    assert all(0.0 < float(v) <= 1.0 for v in printed.group(3).split())
