"""The book machine: what executes, stamps, checks and tabulates the chapters.

Apart from the science vocabulary (``tasks``, ``models``, ``train``, ``analysis``, ...) and
not imported by chapters. One concern per module:

- :mod:`~rnnbook.machine.layout`: the book's chapters, from ``_toc.yml``.
- :mod:`~rnnbook.machine.stamps`: hashes of source, library, data, outputs and results.
- :mod:`~rnnbook.machine.execute`: run a chapter (papermill), stamp it, write atomically.
- :mod:`~rnnbook.machine.checks`: the book checks on committed files.
- :mod:`~rnnbook.machine.compare`: a fresh ci re-execution against the committed results.
- :mod:`~rnnbook.machine.status`: the status page and the README table.

``python -m rnnbook.runner`` is the command line over these modules.
"""
