"""Exceptions raised by huntbook's notebook runs.

``ExecutionError`` carries papermill's fields (``cell_index``, ``exec_count``,
``source``, ``ename``, ``evalue``, ``traceback``), so code written against
``papermill.PapermillExecutionError`` keeps working. Every run failure also carries
``notebook_json``: the output notebook as it was saved, failure markers included.
"""

from __future__ import annotations


class NotebookRunError(RuntimeError):
    """Base class of the errors a notebook run can end with."""

    notebook_json: str | None = None


class KernelStartError(NotebookRunError):
    """The kernel could not be found or did not start.

    Example:
        >>> try:
        ...     huntbook.execute_notebook("nb.ipynb", "out.ipynb", kernel_name="nope")
        ... except huntbook.KernelStartError as e:
        ...     print(e)
    """


class ExecutionError(NotebookRunError):
    """A cell raised an exception (papermill's ``PapermillExecutionError``).

    Example:
        >>> try:
        ...     huntbook.execute_notebook("nb.ipynb", "out.ipynb")
        ... except huntbook.ExecutionError as e:
        ...     print(e.cell_index, e.ename, e.evalue)
    """

    def __init__(self, cell_index: int, exec_count: int | None, source: str, ename: str,
                 evalue: str, traceback: list[str], message: str = ""):
        super().__init__(message or f"{ename}: {evalue}")
        self.cell_index = cell_index
        self.exec_count = exec_count
        self.source = source
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback


class ExecutionTimeout(NotebookRunError):
    """A cell ran past ``execution_timeout``; the kernel was interrupted, then stopped."""

    def __init__(self, cell_index: int, message: str = ""):
        super().__init__(message)
        self.cell_index = cell_index


class DeadKernelError(NotebookRunError):
    """The kernel died while a cell ran (crash, ``os._exit``, out of memory)."""

    def __init__(self, cell_index: int, message: str = ""):
        super().__init__(message)
        self.cell_index = cell_index
