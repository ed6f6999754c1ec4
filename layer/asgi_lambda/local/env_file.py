"""`serve --env-file FILE`: variables from a dotenv file, set before the app is imported.

The common part of what python-dotenv reads, one variable a line: `KEY=VALUE`, or
`export KEY=VALUE`; blank lines and `#` comments are skipped. A value in single quotes is taken
as written; in double quotes, `\\n`, `\\t`, `\\r`, `\\"` and `\\\\` are unescaped; an unquoted value
ends at a ` #` comment and is stripped. No `${VAR}` expansion and no multi-line values.

Variables already set in the environment win over the file's, as with uvicorn's `--env-file`
(python-dotenv's `load_dotenv`, which does not override).
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from pathlib import Path

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class EnvFileError(ValueError):
    """The file cannot be read, or a line is not KEY=VALUE; the message names the file and line."""


def read_env_file(path: Path) -> dict[str, str]:
    """The file's variables, in order (a name given twice: the last one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise EnvFileError(f"--env-file {str(path)!r}: {reason}") from None
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        where = f"--env-file {str(path)!r}, line {number}"
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        name, equals, raw = stripped.partition("=")
        name = name.strip()
        if not equals or not NAME.fullmatch(name):
            raise EnvFileError(f"{where}: expected KEY=VALUE, such as ASGI_LIFESPAN=off; got {line.strip()!r}")
        variables[name] = parse_value(raw.strip(), where=where)
    return variables


def parse_value(raw: str, *, where: str) -> str:
    if not raw or raw.startswith("#"):
        return ""
    if raw[0] not in "'\"":
        return re.split(r"\s#", raw, maxsplit=1)[0].strip()
    quote = raw[0]
    if quote == "'":
        end = raw.find("'", 1)
        value, rest = (raw[1:end], raw[end + 1 :]) if end > 0 else (None, "")
    else:
        value, rest = double_quoted(raw)
    if value is None:
        raise EnvFileError(f"{where}: no closing {quote} (a value takes one line)")
    if rest.strip() and not rest.strip().startswith("#"):
        raise EnvFileError(f"{where}: {rest.strip()!r} after the closing {quote}")
    return value


def double_quoted(raw: str) -> tuple[str | None, str]:
    """The unescaped value between the opening double quote and its closing one, and what follows."""
    chars: list[str] = []
    index = 1
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            following = raw[index + 1]
            chars.append(ESCAPES.get(following, "\\" + following))
            index += 2
        elif char == '"':
            return "".join(chars), raw[index + 1 :]
        else:
            chars.append(char)
            index += 1
    return None, ""


def load_env_file(variables: dict[str, str], environ: MutableMapping[str, str]) -> list[str]:
    """Set each variable environ does not have yet (the environment wins); the names set."""
    added = [name for name in variables if name not in environ]
    for name in added:
        environ[name] = variables[name]
    return added
