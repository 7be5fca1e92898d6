"""`responder export ENGINE PLAYBOOK`: write a playbook out for another engine (AWS Step Functions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from responder.cli.command import ResponderTyper
from responder.cli.options import Output, Query
from responder.cli.output import TEXT_JSON, emit, reported_output
from responder.cli.render import say

export_app = ResponderTyper(
    help="Write a playbook out for another engine, to run where AWS keeps the history.", no_args_is_help=True
)


@export_app.command("stepfunctions")
def stepfunctions(
    playbook: Annotated[str, typer.Argument(metavar="PLAYBOOK", help="A shipped playbook name or a YAML file.")],
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", metavar="NAME=VALUE", help="Fix a parameter in the machine (the rest come as input)."
        ),
    ] = None,
    output_dir: Annotated[Path, typer.Option("--output-dir", metavar="DIR", help="Where the four files go.")] = Path(
        "stepfunctions"
    ),
    organization: Annotated[
        bool,
        typer.Option("--org", help="Organization-wide: a Distributed Map over the accounts listed in an S3 object."),
    ] = False,
    output: Output = None,
    query: Query = None,
) -> None:
    """Write PLAYBOOK as AWS Step Functions state machines with a CloudFormation template and a guide.

    Writes DIR/PLAYBOOK.asl.json (containment), DIR/PLAYBOOK.rollback.asl.json (its compensation),
    DIR/PLAYBOOK.template.yaml (both machines, their role, the S3 journal, logs, an optional EventBridge
    rule) and DIR/PLAYBOOK.md (deploy, start, follow, roll back).

    Example: responder export stepfunctions leaked-long-term-key --output-dir sfn/
    Example: responder export stepfunctions contain-bedrock-keys -p filter=no-expiry --org
    """
    with reported_output(output, query, TEXT_JSON) as output:
        from responder.export.stepfunctions import write
        from responder.playbook.checks import find_playbook, load_playbook
        from responder.playbook.params import given_parameters, parse_assignments

        book = load_playbook(find_playbook(playbook))
        # Only what is given is fixed in the machine; the rest comes as execution input, defaults included.
        written = write(book, given_parameters(book, parse_assignments(params or [])), output_dir, organization)

        def text() -> None:
            for path in written:
                say(f"wrote {path}")
            say(f"next: read {written[-1]}; deploy with `aws cloudformation deploy --template-file {written[2]} ...`")

        emit({"playbook": book.name, "files": [str(p) for p in written]}, output, query, text)


@export_app.command("detectors")
def detectors(
    output_dir: Annotated[Path, typer.Option("--output-dir", metavar="DIR", help="Where the three files go.")] = Path(
        "detectors"
    ),
    output: Output = None,
    query: Query = None,
) -> None:
    """Write scanner rules that find every AWS API key responder contains, from its key families.

    Writes DIR/gitleaks.toml (gitleaks rules), DIR/trufflehog.yaml (trufflehog custom detectors) and
    DIR/responder_detect_secrets.py (a detect-secrets plugin). The README says how to add each to pre-commit.

    Example: responder export detectors --output-dir detectors/
    """
    with reported_output(output, query, TEXT_JSON) as output:
        from responder.export.detectors import write

        written = write(output_dir)

        def text() -> None:
            for path in written:
                say(f"wrote {path}")

        emit({"files": [str(p) for p in written]}, output, query, text)
