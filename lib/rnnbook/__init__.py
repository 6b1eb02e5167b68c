"""rnnbook: the small shared library of the book *Memory and computation in recurrent networks*.

Modules (import them explicitly; nothing happens at import time, and this file holds no code, so
that a chapter's freshness hash covers only the modules it imports):

- ``runtime``: profile, seeds, device, threads, determinism (every chapter).
- ``claims``: claims with pass rules fixed before the run, verdicts, results JSON.
- ``plots``: the house style, applied explicitly.
- ``tasks``, ``models``, ``train``, ``analysis``: the variable-binding task family, the bias-free
  Elman RNN (trained as a batch of independent models), spectra (A01, A03).
- ``cost``: description length of quantised, pruned, compressed parameters (A02).
- ``scan``: log-depth parallel scans for linear recurrences (A17, A36, A38; A32 and A42 through
  ``newton`` and ``ssm``).
- ``scan2d``: linear recurrences on a 2-D grid, pLSTM's P- and D-modes (A29).
- ``linear_attention``: parallel forms of linear, decayed and softmax attention (A17, A36, A38).
- ``ssm``: HiPPO matrices, discretisations, convolution kernels, the LSSL layer (A42).
- ``newton``: nonlinear recurrences solved by Newton's method with parallel scans (A32).
- ``transformer``: pre-LN blocks, stacks, the Universal Transformer with ACT (A14, A29, A33, A35).
- ``recurrent_depth``: recurrent-depth language models and their two samplers (A14).
- ``languages``, ``pointer``, ``recall``: generated languages and stdlib text (A14, A32, A39),
  k-hop pointer chasing (A33, A35), multi-query associative recall (A36).
- ``alignment``, ``transport``, ``sudoku``: rich/lazy measures (A07), Sinkhorn divergence (A08),
  Sudoku generation and constraint graphs (A20).
- ``runner``: executes chapters headlessly and checks the book (a tool, not used by chapters).
"""

__version__ = "0.1.0"
