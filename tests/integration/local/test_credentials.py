"""The local tools sign Management API calls with whatever credential chain the user has, or with
placeholders when there is none: the environment's keys first (what Lambda gives), else botocore's
chain (a shared credentials file, a profile from AWS_PROFILE, ...)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.sync.client import connect

from asgi_lambda.local.runtime_function import has_credentials
from asgi_lambda.websocket import management_api
from asgi_lambda.websocket.management_api import Credentials, GatewayError, find_credentials
from tests.support.local import ServeProcess, clean_environ
from tests.support.paths import EXAMPLES

CHAT = EXAMPLES / "chat"
CREDENTIALS_FILE = """\
[default]
aws_access_key_id = AKIDFROMTHEFILE
aws_secret_access_key = secret-from-the-file

[other]
aws_access_key_id = AKIDOTHERPROFILE
aws_secret_access_key = secret-of-the-other-profile
aws_session_token = token-of-the-other-profile
"""


def home_with(tmp_path: Path, credentials: str | None) -> Path:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    if credentials is not None:
        (home / ".aws" / "credentials").write_text(credentials)
    return home


@pytest.fixture
def no_aws_variables(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No AWS_* variable, and botocore's chain resolved afresh in this test."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(management_api, "_chain", None)
    return monkeypatch


def test_the_environments_keys_come_first(no_aws_variables: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_aws_variables.setenv("HOME", str(home_with(tmp_path, CREDENTIALS_FILE)))
    no_aws_variables.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMTHEENV")
    no_aws_variables.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-the-env")
    no_aws_variables.setenv("AWS_SESSION_TOKEN", "token-from-the-env")

    assert find_credentials() == Credentials("AKIDFROMTHEENV", "secret-from-the-env", "token-from-the-env")
    assert management_api._chain is None  # botocore was not asked


def test_without_keys_in_the_environment_the_shared_credentials_file_signs(no_aws_variables: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_aws_variables.setenv("HOME", str(home_with(tmp_path, CREDENTIALS_FILE)))

    assert find_credentials() == Credentials("AKIDFROMTHEFILE", "secret-from-the-file", None)
    assert has_credentials(os.environ)


def test_aws_profile_picks_the_profile(no_aws_variables: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_aws_variables.setenv("HOME", str(home_with(tmp_path, CREDENTIALS_FILE)))
    no_aws_variables.setenv("AWS_PROFILE", "other")

    assert find_credentials() == Credentials("AKIDOTHERPROFILE", "secret-of-the-other-profile", "token-of-the-other-profile")


def test_a_profile_that_does_not_exist_is_an_error_naming_it(no_aws_variables: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_aws_variables.setenv("HOME", str(home_with(tmp_path, CREDENTIALS_FILE)))
    no_aws_variables.setenv("AWS_PROFILE", "missing")

    with pytest.raises(
        GatewayError, match=r"^AWS credentials to sign Management API calls: The config profile \(missing\) could not be found$"
    ):
        find_credentials()
    assert has_credentials(os.environ)  # no placeholders: they would hide the error


def test_with_no_chain_at_all_the_local_tools_use_placeholders(no_aws_variables: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from asgi_lambda.local.runtime_function import function_environ

    no_aws_variables.setenv("HOME", str(home_with(tmp_path, None)))
    no_aws_variables.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to look for here

    with pytest.raises(GatewayError, match="^no AWS credentials to sign Management API calls: set AWS_ACCESS_KEY_ID"):
        find_credentials()
    added = function_environ(os.environ, app="main:app", endpoint_url="http://127.0.0.1:1/x", ws_path="/", state_dir=tmp_path, port=1)
    assert (added["AWS_ACCESS_KEY_ID"], added["AWS_SECRET_ACCESS_KEY"]) == ("local", "local")


def test_with_a_credentials_file_the_local_tools_add_no_placeholders(no_aws_variables: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from asgi_lambda.local.runtime_function import function_environ

    no_aws_variables.setenv("HOME", str(home_with(tmp_path, CREDENTIALS_FILE)))

    added = function_environ(os.environ, app="main:app", endpoint_url="http://127.0.0.1:1/x", ws_path="/", state_dir=tmp_path, port=1)
    assert "AWS_ACCESS_KEY_ID" not in added and "AWS_SECRET_ACCESS_KEY" not in added


def test_the_local_chat_replies_with_only_a_shared_credentials_file(tmp_path: Path, serve_process: Callable[..., ServeProcess]) -> None:
    env = clean_environ(HOME=str(home_with(tmp_path, CREDENTIALS_FILE)))
    assert not any(name.startswith("AWS_") for name in env)

    served = serve_process("main:app", "--app-dir", str(CHAT), "--ws-path", "/ws", cwd=tmp_path, env=env)
    with connect(served.url.replace("http://", "ws://") + "ws?name=Ada") as ada:
        ada.send("hello")
        assert ada.recv(timeout=10) == "Ada: hello"  # a signed POST to the gateway's Management API

    out, err = served.stop()
    assert served.process.returncode == 0, err
    assert "GatewayError" not in err and "no AWS credentials" not in err
