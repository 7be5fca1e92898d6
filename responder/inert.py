"""Text an attacker wrote, made inert for every output: one module, so every output neutralises it the same way.

A CloudTrail `userAgent`, a source IP, an event name, an AWS error message, a policy document or a tag is chosen by
whoever held the key (OWASP's log-injection guidance: neutralise at output). Three renderings:

- `plain`: one line with every C0/C1 control character (and the bidirectional overrides that reorder what a reader
  sees) shown as a visible escape (`\\x1b`), never sent; capped at `MAX_CHARS` with the cap said. What a terminal
  line or a JSON field shows of an AWS value.
- `code`: `plain` as a Markdown code span fenced by more backticks than the value holds, so it cannot open a
  heading, a link, an image or HTML, and no autolink is made of it.
- `prose`: a sentence of responder's that quotes AWS text (an error, a note): Markdown metacharacters
  backslash-escaped, and anything a renderer could turn into a link (a scheme, `www.`, an address) put in a code span.

`terminal` is the last net under every line the CLI writes: it keeps responder's own colours (SGR sequences) and
newlines and neutralises every other control character.
"""

from __future__ import annotations

import re
from typing import Any

MAX_CHARS = 256  # an AWS value shown longer than this is cut, and the cut is said
MAX_PROSE = 2048  # a sentence quoting AWS text (an error message) may run longer, not without bound

# C0, DEL, C1; and the Unicode format characters that reorder or hide text (bidirectional overrides, zero width).
_FORMAT = "\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff"
_CONTROLS = re.compile(rf"[\x00-\x1f\x7f-\x9f{_FORMAT}]")
_TERMINAL_CONTROLS = re.compile(rf"\x1b\[[0-9;]*m|[\x00-\x09\x0b-\x1f\x7f-\x9f{_FORMAT}]")  # newlines stay
_SGR = re.compile(r"\x1b\[[0-9;]*m")
# What a Markdown renderer (GitHub's included) could turn into a link: a URL, a script-bearing scheme, `www.`, an
# e-mail-like address. A word before a colon ("LookupEvents: ...") is no link and stays prose.
_LINKABLE = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]*://\S*|\b(?:javascript|vbscript|data|file|mailto|xmpp):\S*|www\.\S*|\S+@\S+"
)
# The characters that open inline markup (code, emphasis, links, images, HTML, entities, tables, strikethrough,
# GitHub's math, mentions and issue references). A value is one line (`plain` escapes newlines), so no block
# construct can start inside it. The rest of ASCII punctuation stays as written: a ticket pasted unrendered reads.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]<>!|~&#$@])")


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    code_point = ord(char)
    return f"\\x{code_point:02x}" if code_point < 0x100 else f"\\u{code_point:04x}"


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [cut at {limit} of {len(text):,} characters]"


def plain(value: Any, limit: int = MAX_CHARS) -> str:
    """An AWS value as one inert line: control characters shown as escapes, at most `limit` characters kept."""
    text = value if isinstance(value, str) else "none" if value is None else str(value)
    return _cap(_CONTROLS.sub(_visible, text), limit)


def code(value: Any, table: bool = False, limit: int = MAX_CHARS) -> str:
    """An AWS value as a Markdown code span nothing inside can close. In a table cell `|` is escaped as GFM asks
    (a pipe ends the cell even inside a code span)."""
    text = plain(value, limit)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or not text.strip() else text
    span = f"{fence}{padded}{fence}"
    return span.replace("|", "\\|") if table else span


def prose(value: Any, table: bool = False, limit: int = MAX_PROSE) -> str:
    """A sentence quoting AWS text, for Markdown: readable, and unable to open markup."""
    text = plain(value, limit)
    parts: list[str] = []
    position = 0
    for match in _LINKABLE.finditer(text):
        parts.append(_MARKDOWN_PUNCTUATION.sub(r"\\\1", text[position : match.start()]))
        parts.append(code(match.group(0), table, limit))
        position = match.end()
    parts.append(_MARKDOWN_PUNCTUATION.sub(r"\\\1", text[position:]))
    return "".join(parts)


def terminal(text: str) -> str:
    """A line for the terminal: responder's colours and newlines kept, every other control character shown as an
    escape, so no text can set the window title, move the cursor or clear the screen."""

    def neutral(match: re.Match[str]) -> str:
        return match.group(0) if _SGR.fullmatch(match.group(0)) else _visible(match)

    return _TERMINAL_CONTROLS.sub(neutral, text)
