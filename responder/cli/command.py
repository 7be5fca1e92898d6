"""The command class every responder command is made with: --debug and --no-color wherever they are written, and
help that the command list never cuts with `…`. Commands added later get both by being added to the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperOption

from responder.cli.completion import complete_playbook, complete_run_id
from responder.cli.errors import DEBUG
from responder.cli.terminal import COLOUR

# An argument named so completes so, in every command (a new command's PLAYBOOK argument too).
COMPLETERS = {
    "PLAYBOOK": complete_playbook,
    "PLAYBOOK...": complete_playbook,
    "RUN_ID": complete_run_id,
    "FILE_OR_RUN_ID": complete_run_id,
}
DEBUG_HELP = "Show tracebacks (secrets still redacted)."
NO_COLOR_HELP = "No colour, even on a terminal (as NO_COLOR=1 does)."


def set_debug(ctx: Any, param: Any, value: bool) -> None:
    if value:
        DEBUG["enabled"] = True


def set_no_color(ctx: Any, param: Any, value: bool) -> None:
    if value:
        COLOUR["off"] = True


def _universal_options() -> list[TyperOption]:
    return [
        TyperOption(param_decls=["--debug"], is_flag=True, expose_value=False, callback=set_debug, help=DEBUG_HELP),
        TyperOption(
            param_decls=["--no-color"], is_flag=True, expose_value=False, callback=set_no_color, help=NO_COLOR_HELP
        ),
    ]


def first_paragraph(help_text: str) -> str:
    return " ".join(help_text.strip().split("\n\n")[0].split())


class ResponderCommand(TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        declared = {param.name for param in self.params}
        self.params += [option for option in _universal_options() if option.name not in declared]
        if not self.short_help and self.help:
            self.short_help = first_paragraph(self.help)  # whole: click would cut it at 45 characters
        for param in self.params:
            completer = COMPLETERS.get(param.metavar or "")
            if completer is not None:
                # Click's own hook (its `shell_complete` argument), set here: typer's `autocompletion=` would
                # inspect each function on every start, and it deprecates passing `shell_complete`.
                param._custom_shell_complete = completer

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        rest: list[str] = super().parse_args(ctx, args)
        take_given_before(ctx)
        return rest


def take_given_before(ctx: Any) -> None:
    """`responder --profile x run ...` means `responder run --profile x ...`, as with the AWS CLI: an option the
    command was not given on its own command line takes the value given before its name, if any (one given after
    the name wins; the environment and defaults count only when neither was given). One place, for every option
    the root and a command share, instead of a callback per option (typer inspects each callback: ~40 ms)."""
    root = ctx.find_root()
    if root is ctx:
        return
    for name in list(ctx.params):
        own, before = ctx.get_parameter_source(name), root.get_parameter_source(name)
        if before is not None and before.name == "COMMANDLINE" and (own is None or own.name != "COMMANDLINE"):
            ctx.params[name] = root.params[name]
            ctx.set_parameter_source(name, before)  # given on the command line, before the name: for every reader


class ResponderTyper(typer.Typer):
    """A Typer whose commands are ResponderCommands unless told otherwise; as a group, its help listed whole."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("help") and not kwargs.get("short_help"):
            kwargs["short_help"] = first_paragraph(kwargs["help"])
        super().__init__(*args, **kwargs)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[Any], Any]:
        return super().command(name, cls=cls or ResponderCommand, **kwargs)
