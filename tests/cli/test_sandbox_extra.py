"""Without the `sandbox` extra, `rehearse` and `sandbox ...` exit 2 with the one command that installs it. The extra
is hidden from the interpreter (a sys.meta_path blocker), not uninstalled."""

from __future__ import annotations

import subprocess
import sys

import pytest

from responder.cli.sandbox import SANDBOX_INSTALL

HIDE = """
import sys

class Hidden:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Hidden())
sys.argv = ["responder", *{args!r}]
from responder.cli.main import main
main()
"""


def run_without(blocked: set[str], *args: str) -> subprocess.CompletedProcess[str]:
    code = HIDE.format(blocked=blocked, args=list(args))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("blocked", "args"),
    [
        ({"moto"}, ["rehearse", "leaked-long-term-key"]),
        ({"moto"}, ["sandbox", "serve", "--port", "0"]),
        ({"aws_bedrock_token_generator"}, ["rehearse"]),
    ],
)
def test_without_the_extra_one_line_names_the_install_command(blocked: set[str], args: list[str]) -> None:
    done = run_without(blocked, *args)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and SANDBOX_INSTALL in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert SANDBOX_INSTALL == "pip install 'bedrock-key-responder[sandbox]'"


def test_the_core_works_without_the_extra() -> None:
    done = run_without({"moto", "aws_bedrock_token_generator", "flask", "flask_cors"}, "list")
    assert done.returncode == 0 and "leaked-long-term-key" in done.stdout, done.stderr
