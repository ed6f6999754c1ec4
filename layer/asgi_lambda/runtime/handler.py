"""The handler, found as the managed Python runtime finds it: the import path its bootstrap sets
up, and `module.attribute` imported with its error types (`Runtime.ImportModuleError`,
`Runtime.HandlerNotFound`, ...), so code moves between the two runtimes unchanged.
"""

from __future__ import annotations

import importlib
import os
import sys

from .api import RuntimeFault

TYPE_CHECKING = False  # typing is not imported on a plain handler's path (api.py says why)
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from typing import Any


def set_import_path(opt: str, environ: MutableMapping[str, str]) -> None:
    """What the managed bootstrap does before importing the handler: the task root first, then (only
    while PYTHONPATH is unset) the layers' site-packages and /opt/python, then the runtime's own
    site-packages; then PYTHONPATH, if unset, becomes the runtime's directory, for child processes.
    `opt` is where the layers are unpacked (the wrapper's directory)."""
    import site

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    layers = [f"{opt}/python/lib/python{version}/site-packages", f"{opt}/python"]
    # Where the managed bootstrap.py runs from (/var/runtime: awslambdaric, and boto3 up to Python 3.11).
    runtime_dir = environ.get("LAMBDA_RUNTIME_DIR")
    if runtime_dir:
        sys.path.insert(0, runtime_dir)
    if "PYTHONPATH" not in environ:
        for directory in [*layers, runtime_site_packages()][::-1]:
            sys.path.insert(0, directory)
    task_root = environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path.insert(0, task_root)
    site.addsitedir(task_root)  # .pth files in the task root count, as in the managed runtime
    if "PYTHONPATH" not in environ:
        for directory in layers:
            site.addsitedir(directory)
        if runtime_dir:
            environ["PYTHONPATH"] = runtime_dir


def runtime_site_packages() -> str:
    """The interpreter's own site-packages (/var/lang/lib/python3.X/site-packages on Lambda). Without
    the site module (-S), a virtual environment's prefix is not applied: it is found from pyvenv.cfg."""
    import sysconfig

    prefix = sys.prefix
    environment = os.path.dirname(os.path.dirname(os.path.abspath(sys.executable)))
    if sys.flags.no_site and os.path.isfile(os.path.join(environment, "pyvenv.cfg")):
        prefix = environment
    return sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})["purelib"]


def load_handler(name: str) -> Callable[..., Any]:
    """The handler that `module.attribute` names (the module path may use "/"), or a RuntimeFault
    worded as the managed runtime words it. Other exceptions raised by the module propagate."""
    module_name, dot, attribute = name.rpartition(".")
    if not dot:
        got = 1 if name else 0
        raise RuntimeFault("Runtime.MalformedHandlerName", f"Bad handler '{name}': not enough values to unpack (expected 2, got {got})")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise RuntimeFault("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:  # AppImportError included: ASGI_APP's module is missing
        raise RuntimeFault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise RuntimeFault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace) from exc
    try:
        handler: Callable[..., Any] = getattr(module, attribute)
    except AttributeError:
        raise RuntimeFault("Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'") from None
    return handler
