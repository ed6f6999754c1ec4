"""`serve --env-file`: the dotenv lines it reads, the faults it names, and the environment winning."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgi_lambda.local.env_file import EnvFileError, load_env_file, read_env_file


def written(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def test_reads_assignments_comments_export_and_quotes(tmp_path: Path) -> None:
    path = written(
        tmp_path,
        "# a comment line\n"
        "\n"
        "PLAIN=value\n"
        "  SPACED = padded value  \n"
        "export EXPORTED=yes\n"
        "INLINE=value # a comment after a space\n"
        "HASH=abc#def\n"
        "EMPTY=\n"
        "COMMENT_ONLY= # nothing\n"
        "SINGLE='kept as $written \\n # here'\n"
        'DOUBLE="line one\\nline \\"two\\" \\\\ end"  # comment\n'
        "EQUALS=a=b=c\n"
        "PLAIN=last one wins\n",
    )

    assert read_env_file(path) == {
        "PLAIN": "last one wins",
        "SPACED": "padded value",
        "EXPORTED": "yes",
        "INLINE": "value",
        "HASH": "abc#def",
        "EMPTY": "",
        "COMMENT_ONLY": "",
        "SINGLE": "kept as $written \\n # here",
        "DOUBLE": 'line one\nline "two" \\ end',
        "EQUALS": "a=b=c",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("OK=1\nno equals sign\n", "line 2: expected KEY=VALUE, such as ASGI_LIFESPAN=off; got 'no equals sign'"),
        ("1ABC=x\n", "line 1: expected KEY=VALUE, such as ASGI_LIFESPAN=off; got '1ABC=x'"),
        ("KEY='open\n", "line 1: no closing ' (a value takes one line)"),
        ('KEY="open\n', 'line 1: no closing " (a value takes one line)'),
        ("KEY='a' b\n", "line 1: 'b' after the closing '"),
    ],
    ids=["no-equals", "bad-name", "open-single", "open-double", "text-after-quote"],
)
def test_a_bad_line_is_named_with_its_number(tmp_path: Path, text: str, message: str) -> None:
    path = written(tmp_path, text)

    with pytest.raises(EnvFileError) as raised:
        read_env_file(path)

    assert str(raised.value) == f"--env-file {str(path)!r}, {message}"


def test_variables_already_in_the_environment_win() -> None:
    environ = {"TARGET": "from the environment"}

    added = load_env_file({"TARGET": "from the file", "GREETING": "hello"}, environ)

    assert added == ["GREETING"]
    assert environ == {"TARGET": "from the environment", "GREETING": "hello"}
