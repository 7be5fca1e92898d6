"""The command class every responder command is made with: --debug and --no-color wherever they are written, and
help that the command list never cuts with `…`. Commands added later get both by being added to the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperOption

from responder.cli.errors import DEBUG
from responder.cli.terminal import COLOUR

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
