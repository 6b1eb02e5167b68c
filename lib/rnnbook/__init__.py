"""rnnbook: the small shared library of the book *Memory and computation in recurrent networks*.

Modules (import them explicitly; nothing happens at import time, and this file holds no code, so
that a chapter's freshness hash covers only the modules it imports):

- ``runtime``: profile, seeds, device, threads, determinism (every chapter).
- ``claims``: claims with pass rules fixed before the run, verdicts, results JSON.
- ``plots``: the house style, applied explicitly.
- ``tasks``, ``models``, ``train``, ``analysis``: the variable-binding task family, the bias-free
  Elman RNN (trained as a batch of independent models), spectra (A01, A03).
- ``cost``: description length of quantised, pruned, compressed parameters (A02).
- ``scan``: log-depth parallel scans for linear recurrences (fast experiments; later chapters).
- ``runner``: executes chapters headlessly and checks the book (a tool, not used by chapters).
"""

__version__ = "0.1.0"
