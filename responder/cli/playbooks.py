"""`responder list`, `show`, `validate`, `schema` and `actions`: reading playbooks, touching no account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from responder.cli.errors import fail, reported_errors
from responder.cli.options import DEFAULT_ROLE_NAME, RoleName
from responder.cli.render import say
from responder.errors import EXIT_BAD_INPUT, UserError

if TYPE_CHECKING:
    from responder.playbook.model import Step


def list_playbooks() -> None:
    """List the shipped playbooks.

    Example: responder list
    """
    with reported_errors():
        from responder.playbook.shipped import shipped_playbooks
        from responder.playbook.source import load_yaml, read_text

        # The YAML alone: shipped playbooks are validated by the test suite, and validating here would import
        # every action, and boto3 with them, for a one-line summary.
        for name, path in shipped_playbooks().items():
            description = str(load_yaml(read_text(path), str(path)).data.get("description", ""))
            say(f"{name:<28} {description.split('. ')[0].rstrip('.')}")


def show(
    playbook: Annotated[str, typer.Argument(metavar="PLAYBOOK", help="A shipped playbook name or a YAML file.")],
) -> None:
    """Show a playbook's parameters and steps, with each step's reversibility and IAM permissions.

    Example: responder show leaked-long-term-key
    """
    with reported_errors():
        from responder.actions.registry import get_action
        from responder.playbook.checks import find_playbook, load_playbook
        from responder.playbook.model import describe_when

        book = load_playbook(find_playbook(playbook))
        say(f"{book.name}: {book.description}")
        say(f"on failure: {book.on_failure}")
        if book.key:
            required = ", required" if book.key.required else ""
            say(f"key: --key-file FILE ({book.key.kind}{required}) {book.key.description}")
        say("parameters:")
        for name, param in book.parameters.items():
            default = f" (default {param.default})" if param.default is not None else ""
            say(f"  -p {name}=<{param.type}>{default}: {param.description}")
        say("steps:")
        permissions: set[str] = set()
        for index, step in enumerate(book.steps, 1):
            when = f" [only when {describe_when(step.when)}]" if step.when is not True else ""
            if step.steps is not None:
                say(f"  {index}. {step.id} (for each item of {step.for_each}){when}")
                say(f"     {step.description}")
            for number, sub in [(str(index), step)] if step.steps is None else _numbered(index, step.steps):
                action = get_action(sub.action or "")
                assert action is not None  # load_playbook checked every action
                head = f"  {'  ' * number.count('.')}{number}. "  # a group's steps sit under the group
                body = " " * len(head)
                sub_when = f" [only when {describe_when(sub.when)}]" if sub.when is not True and sub is not step else ""
                kind = "read-only" if not action.mutating else ("reversible" if action.reversible else "IRREVERSIBLE")
                say(f"{head}{sub.id} ({sub.action}, {kind}){when if sub is step else sub_when}")
                say(f"{body}{sub.description or action.summary}")
                say(f"{body}needs: {', '.join(action.permissions)}")
                permissions.update(action.permissions)
        say(f"IAM permissions for the whole playbook: {', '.join(sorted(permissions | {'sts:GetCallerIdentity'}))}")


def _numbered(index: int, steps: list[Step]) -> list[tuple[str, Step]]:
    return [(f"{index}.{n}", sub) for n, sub in enumerate(steps, 1)]


def validate(files: Annotated[list[Path], typer.Argument(metavar="FILE", help="Playbook YAML files.")]) -> None:
    """Check playbooks without touching AWS: every problem as FILE:LINE: message.

    Example: responder validate playbooks/*.yaml
    """
    from responder.playbook.checks import PlaybookInvalid, load_playbook

    bad = 0
    for path in files:
        try:
            load_playbook(path)
            say(f"{path}: ok")
        except PlaybookInvalid as exc:
            bad += 1
            for problem in exc.problems:
                fail(problem)
        except UserError as exc:
            bad += 1
            fail(str(exc))
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def schema() -> None:
    """Print the JSON Schema of playbooks, for editors to validate YAML.

    Example: responder schema > playbook.schema.json
    """
    from responder.playbook.model import playbook_schema

    typer.echo(json.dumps(playbook_schema(), indent=2))


def actions() -> None:
    """List the actions playbooks can use, with reversibility and the IAM permissions each needs.

    Example: responder actions
    """
    from responder.actions.registry import all_actions

    for name, action in all_actions().items():
        kind = "read-only" if not action.mutating else ("reversible" if action.reversible else "irreversible")
        say(f"{name} ({kind})")
        say(f"    {action.summary}")
        say(f"    needs: {', '.join(action.permissions)}")


def permissions(
    playbooks: Annotated[list[str], typer.Argument(metavar="PLAYBOOK", help="Shipped playbook names or YAML files.")],
    sweep: Annotated[bool, typer.Option("--sweep", help="Also what `responder sweep` calls.")] = False,
    fan_out: Annotated[
        bool,
        typer.Option(
            "--fan-out",
            help="The operator's policy for --accounts/--org: also list the organization and assume --role-name "
            "in every account (where that role needs the policy printed without --fan-out).",
        ),
    ] = False,
    role_name: RoleName = DEFAULT_ROLE_NAME,
) -> None:
    """Print the least-privilege IAM policy (JSON) an operator role needs to run these playbooks.

    Example: responder permissions leaked-long-term-key leaked-short-term-key > responder-policy.json
    Example: responder permissions contain-bedrock-keys --sweep --fan-out > operator-policy.json
    """
    with reported_errors():
        from responder.engine.permissions import policy_document
        from responder.fanout.accounts import check_fanout_options
        from responder.playbook.checks import find_playbook, load_playbook

        check_fanout_options(role_name, 1)
        books = [load_playbook(find_playbook(name)) for name in playbooks]
        typer.echo(json.dumps(policy_document(books, sweep, role_name if fan_out else None), indent=2))
