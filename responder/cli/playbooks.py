"""`responder list`, `show`, `validate`, `schema` and `actions`: reading playbooks, touching no account."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from responder.cli.errors import fail
from responder.cli.options import DEFAULT_ROLE_NAME, Output, Query, RoleName
from responder.cli.output import JSON_ONLY, TEXT_JSON, emit, output_option, reported_output
from responder.cli.render import say
from responder.errors import EXIT_BAD_INPUT, UserError

if TYPE_CHECKING:
    from responder.playbook.model import Playbook, Step

# Output that is JSON by nature (a schema, a policy): json is all there is to choose.
SchemaOutput = Annotated[str | None, output_option(JSON_ONLY)]


def list_playbooks(output: Output = None, query: Query = None) -> None:
    """List the shipped playbooks.

    Example: responder list
    Example: responder list -o json --query '[].name'
    """
    with reported_output(output, query, TEXT_JSON) as output:
        from responder.playbook.shipped import shipped_playbooks
        from responder.playbook.source import load_yaml, read_text

        # The YAML alone: shipped playbooks are validated by the test suite, and validating here would import
        # every action, and boto3 with them, for a one-line summary.
        books = [
            {"name": name, "description": str(load_yaml(read_text(path), str(path)).data.get("description", ""))}
            for name, path in shipped_playbooks().items()
        ]
        width = max((len(b["name"]) for b in books), default=0)

        def text() -> None:
            for book in books:
                say(f"{book['name']:<{width}}  {book['description'].split('. ')[0].rstrip('.')}")

        emit(books, output, query, text)


def show(
    playbook: Annotated[
        str,
        typer.Argument(metavar="PLAYBOOK", help="A shipped playbook name or a YAML file."),
    ],
    output: Output = None,
    query: Query = None,
) -> None:
    """Show a playbook's parameters and steps, with each step's reversibility and IAM permissions.

    Example: responder show leaked-long-term-key
    """
    with reported_output(output, query, TEXT_JSON) as output:
        from responder.playbook.checks import find_playbook, load_playbook

        shown = describe_playbook(load_playbook(find_playbook(playbook)))
        emit(shown, output, query, lambda: _show_text(shown))


def describe_playbook(book: Playbook) -> dict[str, Any]:
    """A playbook as `show` tells it: parameters, steps (a group's steps under it), what each needs."""
    from responder.actions.registry import get_action
    from responder.playbook.model import describe_when

    steps: list[dict[str, Any]] = []
    permissions: set[str] = set()
    for index, step in enumerate(book.steps, 1):
        when = describe_when(step.when) if step.when is not True else None
        if step.steps is not None:
            steps.append(
                {
                    "number": str(index),
                    "id": step.id,
                    "for_each": step.for_each,
                    "when": when,
                    "description": step.description,
                }
            )
        for number, sub in [(str(index), step)] if step.steps is None else _numbered(index, step.steps):
            action = get_action(sub.action or "")
            assert action is not None  # load_playbook checked every action
            kind = "read-only" if not action.mutating else ("reversible" if action.reversible else "IRREVERSIBLE")
            sub_when = when if sub is step else (describe_when(sub.when) if sub.when is not True else None)
            steps.append(
                {
                    "number": number,
                    "id": sub.id,
                    "action": sub.action,
                    "kind": kind,
                    "when": sub_when,
                    "description": sub.description or action.summary,
                    "permissions": list(action.permissions),
                }
            )
            permissions.update(action.permissions)
    key = None
    if book.key:
        key = {"kind": book.key.kind, "required": book.key.required, "description": book.key.description}
    parameters = {
        name: {"type": p.type, "required": p.required, "default": p.default, "description": p.description}
        for name, p in book.parameters.items()
    }
    return {
        "name": book.name,
        "description": book.description,
        "on_failure": book.on_failure,
        "key": key,
        "parameters": parameters,
        "steps": steps,
        "permissions": sorted(permissions | {"sts:GetCallerIdentity"}),
    }


def _show_text(shown: dict[str, Any]) -> None:
    say(f"{shown['name']}: {shown['description']}")
    say(f"on failure: {shown['on_failure']}")
    if key := shown["key"]:
        required = ", required" if key["required"] else ""
        say(f"key: --key-file FILE ({key['kind']}{required}) {key['description']}")
    say("parameters:" if shown["parameters"] else "parameters: none")
    for name, param in shown["parameters"].items():
        say(f"  -p {name}={param['type'].upper()}{_default_text(param)}: {param['description']}")
    say("steps:")
    for step in shown["steps"]:
        head = f"  {'  ' * step['number'].count('.')}{step['number']}. "  # a group's steps sit under the group
        body = " " * len(head)
        when = f" [only when {step['when']}]" if step["when"] else ""
        if "for_each" in step:
            say(f"{head}{step['id']} (for each item of {step['for_each']}){when}")
            say(f"{body}{step['description']}")
            continue
        say(f"{head}{step['id']} ({step['action']}, {step['kind']}){when}")
        say(f"{body}{step['description']}")
        say(f"{body}needs: {', '.join(step['permissions'])}")
    say(f"IAM permissions for the whole playbook: {', '.join(shown['permissions'])}")


def _default_text(param: dict[str, Any]) -> str:
    if param["required"]:
        return " (required)"
    default = param["default"]
    if default is None or default == "":
        return " (optional)"  # an empty default would read `(default )`
    return f" (default {str(default).lower() if isinstance(default, bool) else default})"


def _numbered(index: int, steps: list[Step]) -> list[tuple[str, Step]]:
    return [(f"{index}.{n}", sub) for n, sub in enumerate(steps, 1)]


def validate(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Playbook YAML files.")],
    output: Output = None,
    query: Query = None,
) -> None:
    """Check playbooks without touching AWS: every problem as FILE:LINE: message.

    Example: responder validate playbooks/*.yaml
    """
    from responder.playbook.checks import PlaybookInvalid, load_playbook

    with reported_output(output, query, TEXT_JSON) as output:
        results: list[dict[str, Any]] = []
        for path in files:
            try:
                load_playbook(path)
                results.append({"file": str(path), "ok": True, "problems": []})
            except PlaybookInvalid as exc:
                results.append({"file": str(path), "ok": False, "problems": list(exc.problems)})
            except UserError as exc:
                results.append({"file": str(path), "ok": False, "problems": [str(exc)]})

        def text() -> None:
            for result in results:
                if result["ok"]:
                    say(f"{result['file']}: ok")
                for problem in result["problems"]:
                    fail(problem)

        emit(results, output, query, text)
        if output == "json":
            for result in results:  # stderr still says what is wrong: a script may show it as it is
                for problem in result["problems"]:
                    fail(problem)
        if not all(result["ok"] for result in results):
            raise typer.Exit(EXIT_BAD_INPUT)


def schema(output: SchemaOutput = None, query: Query = None) -> None:
    """Print the JSON Schema of playbooks, for editors to validate YAML.

    Example: responder schema > playbook.schema.json
    """
    from responder.playbook.model import playbook_schema

    with reported_output(output, query, JSON_ONLY) as output:
        emit(playbook_schema(), output, query)


def actions(output: Output = None, query: Query = None) -> None:
    """List the actions playbooks can use, with reversibility and the IAM permissions each needs.

    Example: responder actions
    Example: responder actions -o json --query "[?kind=='irreversible'].name"
    """
    from responder.actions.registry import all_actions

    with reported_output(output, query, TEXT_JSON) as output:
        listed = [
            {
                "name": name,
                "kind": "read-only" if not action.mutating else ("reversible" if action.reversible else "irreversible"),
                "summary": action.summary,
                "permissions": list(action.permissions),
            }
            for name, action in all_actions().items()
        ]

        def text() -> None:
            for action in listed:
                say(f"{action['name']} ({action['kind']})")
                say(f"    {action['summary']}")
                say(f"    needs: {', '.join(action['permissions'])}")

        emit(listed, output, query, text)


def permissions(
    playbooks: Annotated[
        list[str],
        typer.Argument(metavar="PLAYBOOK...", help="Shipped playbook names or YAML files."),
    ],
    sweep: Annotated[bool, typer.Option("--sweep", help="Also what `responder sweep` calls.")] = False,
    fan_out: Annotated[
        bool,
        typer.Option(
            "--fan-out",
            help="The operator's policy for --accounts/--org: also list the organization and assume --role-name "
            "in its accounts (another organization's only with an external id); each account's role carries the "
            "policy printed without --fan-out (see --member-role-template).",
        ),
    ] = False,
    rollback: Annotated[
        bool,
        typer.Option(
            "--rollback",
            help="The rollback's policy (delete, detach, restore, reactivate), for a separate identity: the one "
            "that contains cannot undo its own containment.",
        ),
    ] = False,
    member_role_template: Annotated[
        bool,
        typer.Option(
            "--member-role-template",
            help="Print instead the CloudFormation template of ResponderMemberRole, the role a fan-out assumes in "
            "every account (deploy it with a StackSet), carrying exactly the per-account policy.",
        ),
    ] = False,
    operator_arn: Annotated[
        str | None,
        typer.Option(
            "--operator-arn",
            metavar="ARN",
            help="The role (or user) responder will run as: the policy denies every change to it. Without it, "
            "only the IAM user running is denied by name: tag a role responder-protected=true instead.",
        ),
    ] = None,
    role_name: RoleName = DEFAULT_ROLE_NAME,
    output: SchemaOutput = None,
    query: Query = None,
) -> None:
    """Print the least-privilege IAM policy (JSON) an operator role needs to run these playbooks.

    Example: responder permissions leaked-long-term-key leaked-short-term-key > responder-policy.json
    Example: responder permissions leaked-long-term-key --operator-arn arn:aws:iam::111122223333:role/ir > policy.json
    Example: responder permissions leaked-long-term-key --rollback > responder-rollback-policy.json
    Example: responder permissions contain-bedrock-keys --sweep --fan-out > operator-policy.json
    Example: responder permissions contain-bedrock-keys --sweep --member-role-template > member-role.json
    """
    with reported_output(output, query, JSON_ONLY) as output:
        from responder.engine.commands.permissions import operator_account, policy_document
        from responder.export.member_role import member_role_template as member_template
        from responder.fanout.accounts import check_fanout_options
        from responder.playbook.checks import find_playbook, load_playbook

        check_fanout_options(role_name, 1)
        if member_role_template and (fan_out or rollback):
            raise UserError(
                "--member-role-template carries both policies of one account: without --fan-out, --rollback"
            )
        books = [load_playbook(find_playbook(name)) for name in playbooks]
        if member_role_template:
            emit(member_template(books, sweep), output, query)
        else:
            fan_out_role = role_name if fan_out else None
            account = operator_account(operator_arn, fan_out_role)
            emit(policy_document(books, sweep, fan_out_role, rollback, account), output, query)
