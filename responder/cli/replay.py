"""The command line a command was given, rebuilt from what Click parsed: after a dry run, the exact command that
applies it (argv is not at hand when the CLI is invoked in-process, and the parsed form is what ran)."""

from __future__ import annotations

import shlex

import typer


def rebuilt_command(ctx: typer.Context, drop: frozenset[str] = frozenset(), add: tuple[str, ...] = ()) -> str:
    words = ctx.command_path.split()
    options: list[str] = []
    for param in ctx.command.params:
        name = param.name
        if name is None or name in drop or not param.expose_value:
            continue
        source = ctx.get_parameter_source(name)
        if source is None or source.name != "COMMANDLINE":
            continue  # a default or the environment (options given before the name count as given: command.py)
        value = ctx.params.get(name)
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if param.param_type_name == "argument":
            words += [str(v) for v in values]
        elif getattr(param, "is_flag", False):
            if value:
                options.append(param.opts[0])
        else:
            for one in values:
                options += [param.opts[0], str(one)]
    return shlex.join([*words, *options, *add])
