"""Command-line tools from the npm registry (osls, the AWS CDK CLI), installed for the tests exactly
as a lockfile under tests/release/ pins them, and the environment they run offline in.

A tool is installed once, with `npm ci`, into .cache/<name>/ (gitignored) and reused while its
version matches. `npm ci` installs the whole tree the lockfile records: a plain install resolves
ranges anew, and a registry caught mid-publish has failed one (ETARGET on an @aws-sdk package).
Without node and npm the caller is skipped, or fails when CI is set.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

from .paths import CACHE
from .services import unavailable


def installed_version(prefix: Path, package: str) -> str | None:
    try:
        version = json.loads((prefix / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version if isinstance(version, str) else None


def ensure_npm_tool(package: str, *, locked: Path, command: str, why: str) -> Path:
    """The `command` script of `package`, at the version locked/package.json pins, from locked/package-lock.json."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not on PATH: {why}")
    version = json.loads((locked / "package.json").read_text())["dependencies"][package]
    prefix = CACHE / locked.name
    executable = prefix / "node_modules" / ".bin" / command
    CACHE.mkdir(parents=True, exist_ok=True)
    # One install at a time: xdist's workers and make test's interpreters may all want the tool at once.
    with open(CACHE / f"{locked.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed_version(prefix, package) != version or not executable.exists():
            npm = shutil.which("npm")
            assert npm is not None
            prefix.mkdir(parents=True, exist_ok=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(locked / name, prefix / name)
            install = [npm, "ci", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error"]
            result = subprocess.run(install, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, f"{' '.join(install)} failed:\n{result.stderr}"
            assert installed_version(prefix, package) == version
    return executable


def offline_env(home: Path) -> dict[str, str]:
    """Fake AWS credentials, an empty HOME (no ~/.aws profile is read) and HTTP(S)_PROXY at a
    closed local port: a request to AWS would fail rather than leave the machine."""
    closed_port = "http://127.0.0.1:9"
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "HTTPS_PROXY": closed_port,
        "HTTP_PROXY": closed_port,
    }
