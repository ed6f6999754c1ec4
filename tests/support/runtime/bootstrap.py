"""Stand-in for the managed Python runtime's /var/runtime/bootstrap.py, for tests only.

It mirrors the real file (AWS copyright, not in a public repo; public copies of the image files: the
python3.10 image in https://dingxiong.github.io/posts/aws-lambda and the python3.11 Amazon Linux 2023
image, which adds /var/lang site-packages; the newest copy found, used here for 3.12/3.13): the same
functions, the same PYTHONPATH rule, the same order, then awslambdaric's main with _HANDLER.

Test-only deviations, each marked "TEST-ONLY" below:
1. "/opt" is read from env ASGI_TEST_OPT_DIR (default "/opt").
2. The launcher (tests/support/runtime/bootstrap) runs the interpreter with -S, so no site-packages and no .pth
   file (the repo's editable install adds /work/main/layer through one) reach sys.path on their own.
   ASGI_TEST_RUNTIME_SITE_PACKAGES (the venv's site-packages) plays /var/runtime + /var/lang site-packages,
   where awslambdaric and boto3 live in the real runtime: it is appended to the END of sys.path as the
   real interpreter's site module would, but WITHOUT processing .pth files, and it is the directory
   set_default_sys_path() inserts where the real one inserts /var/lang/lib/pythonX.Y/site-packages.
3. ASGI_TEST_CLIENT=layer runs the layer's own client (asgi_lambda.runtime_client) instead of awslambdaric,
   for the parity suite's plain handlers (tests/integration/runtime/test_parity.py).
"""

import json  # noqa: F401  (the real file's imports, kept so module state matches)
import logging  # noqa: F401
import os
import site
import sys
import time  # noqa: F401
import traceback  # noqa: F401
import warnings  # noqa: F401

# TEST-ONLY (2): what `site` does at startup in the real runtime, minus .pth processing. This must come
# before importing awslambdaric, which the real file imports from /var/runtime (its own directory).
_RUNTIME_SITE_PACKAGES = os.environ["ASGI_TEST_RUNTIME_SITE_PACKAGES"]
sys.path.append(_RUNTIME_SITE_PACKAGES)

import awslambdaric.__main__ as awslambdaricmain  # noqa: E402

# TEST-ONLY (1): the real file hardcodes "/opt".
_OPT = os.environ.get("ASGI_TEST_OPT_DIR", "/opt")


def is_pythonpath_set():
    return "PYTHONPATH" in os.environ


def get_opt_site_packages_directory():
    return _OPT + f"/python/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"


def get_var_lang_site_package_directory():
    return _RUNTIME_SITE_PACKAGES  # TEST-ONLY (2): real: /var/lang/lib/pythonX.Y/site-packages


def get_opt_python_directory():
    return _OPT + "/python"


# set default sys.path for discoverability
# precedence: LAMBDA_TASK_ROOT -> /opt/python/lib/pythonN.N/site-packages -> /opt/python
def set_default_sys_path():
    if not is_pythonpath_set():
        sys.path.insert(0, get_var_lang_site_package_directory())
        sys.path.insert(0, get_opt_python_directory())
        sys.path.insert(0, get_opt_site_packages_directory())
    # the task root is added whether or not PYTHONPATH is set
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])


def add_default_site_directories():
    # the task root is a site directory, so .pth files there are processed (as in the real runtime)
    site.addsitedir(os.environ["LAMBDA_TASK_ROOT"])
    if not is_pythonpath_set():
        site.addsitedir(get_opt_site_packages_directory())
        site.addsitedir(get_opt_python_directory())


def set_default_pythonpath():
    if not is_pythonpath_set():
        # keep consistent with https://docs.aws.amazon.com/lambda/latest/dg/lambda-environment-variables.html
        os.environ["PYTHONPATH"] = os.environ["LAMBDA_RUNTIME_DIR"]


def main():
    set_default_sys_path()
    add_default_site_directories()
    set_default_pythonpath()
    if os.environ.get("ASGI_TEST_CLIENT") == "layer":
        # TEST-ONLY (3): the layer's own client in awslambdaric's place, as a custom runtime's bootstrap
        # would start it (the layer unpacked in /opt/python, on sys.path by now), for plain handlers.
        from asgi_lambda.runtime_client import main as layer_client

        layer_client([os.environ["_HANDLER"]])
        return
    awslambdaricmain.main([os.environ["LAMBDA_TASK_ROOT"], os.environ["_HANDLER"]])


if __name__ == "__main__":
    main()
