"""Shared test setup: one torch thread per test process (``make unit`` runs 2 workers on 2 cores)."""

import torch

torch.set_num_threads(1)
