"""Run parameterised notebooks with papermill's names: ``execute_notebook`` and
``inspect_notebook``. The work happens in Rust (huntbook's own Jupyter client); the
only Python process involved is the kernel.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Mapping, Sequence, Union

from huntbook import _huntbook

PathLike = Union[str, os.PathLike]


def execute_notebook(
    input_path: PathLike,
    output_path: PathLike | None,
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str | None = None,
    language: str | None = None,
    cwd: PathLike | None = None,
    execution_timeout: float | None = None,
    start_timeout: float = 60,
    prepare_only: bool = False,
    report_mode: bool = False,
    allow_errors: bool = False,
    log_output: bool = False,
    stdout_file: PathLike | None = None,
    stderr_file: PathLike | None = None,
    autosave_cell_every: float = 30,
    inject_paths: bool = False,
    python: PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
    secrets: Sequence[str] = (),
) -> Any:
    """Run a notebook with parameters and save the output notebook.

    Parameters are injected after the cell tagged ``parameters``, as papermill does,
    and always as literals. ``output_path`` may be a template such as
    ``"out/{date}/ip_triage_{ip_address}_{run_id}.ipynb"``, or ``None`` to write nothing.
    ``progress(done, total)`` is called after each cell. Kernels are looked up in
    ``python``'s environment first, and a ``python`` kernel runs on that interpreter;
    it defaults to the interpreter running this code, as jupyter_client does.
    ``secrets`` names environment variables holding secrets the notebook reads:
    parameters that name or hold one are refused (``ValueError``), and their values
    are scrubbed from the output, also when base64, hex or URL encoded.

    Returns the output notebook (an ``nbformat.NotebookNode`` when nbformat is
    installed, else a dict). Raises ``ExecutionError`` (with ``cell_index``,
    ``exec_count``, ``ename``, ``evalue``, ``traceback``) when a cell raises,
    ``ExecutionTimeout``, ``DeadKernelError`` or ``KernelStartError``.

    Example:
        >>> nb = huntbook.execute_notebook(
        ...     "examples/ip_triage.ipynb", "out.ipynb",
        ...     parameters={"ip_address": "1.2.3.4"}, execution_timeout=600)
        >>> nb.metadata.papermill.parameters
        {'ip_address': '1.2.3.4'}
    """
    text = _huntbook._execute_notebook(
        os.fspath(input_path),
        None if output_path is None else os.fspath(output_path),
        dict(parameters) if parameters else None,
        kernel_name,
        language,
        None if cwd is None else os.fspath(cwd),
        os.fspath(sys.executable if python is None else python),
        execution_timeout,
        float(start_timeout),
        prepare_only,
        report_mode,
        allow_errors,
        log_output,
        None if stdout_file is None else os.fspath(stdout_file),
        None if stderr_file is None else os.fspath(stderr_file),
        float(autosave_cell_every),
        inject_paths,
        progress,
        [str(name) for name in secrets],
    )
    return _as_notebook(text)


def inspect_notebook(path: PathLike) -> dict[str, dict[str, str]]:
    """The parameters a notebook declares in its ``parameters`` cell.

    Same shape as ``papermill.inspect_notebook``:
    ``{name: {"name", "inferred_type_name", "default", "help"}}``.

    Example:
        >>> huntbook.inspect_notebook("examples/ip_triage.ipynb")["ip_address"]["default"]
        '"203.0.113.66"'
    """
    return {
        name: {"name": name, "inferred_type_name": type_name, "default": default, "help": help_}
        for name, type_name, default, help_ in _huntbook._inspect_notebook(os.fspath(path))
    }


def _as_notebook(text: str) -> Any:
    try:
        import nbformat
    except ImportError:
        return json.loads(text)
    return nbformat.reads(text, as_version=4)
