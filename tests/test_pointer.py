"""rnnbook.pointer against a plain per-item lookup."""

import torch

from rnnbook.pointer import pointer_chase, vocab_size


def test_answers_follow_the_listed_edges():
    nodes, max_hops = 7, 4
    x, y, k = pointer_chase(torch.Generator().manual_seed(3), 200, nodes, max_hops)
    assert x.shape == (200, nodes + 1) and int(x.max()) < vocab_size(nodes, max_hops)
    for row, ans, hops in zip(x.tolist(), y.tolist(), k.tolist(), strict=True):
        succ = dict(divmod(t, nodes) for t in row[:-1])  # read pi back from the tokens
        assert sorted(succ) == list(range(nodes))  # every node listed once
        q = row[-1] - nodes * nodes
        assert q // nodes + 1 == hops
        node = q % nodes
        for _ in range(hops):
            node = succ[node]
        assert node == ans
        # one cycle through all nodes: never back at the start before `nodes` hops
        assert ans != q % nodes
    assert set(k.tolist()) == set(range(1, max_hops + 1))


def test_same_seed_same_batch_other_seed_other_batch():
    a = pointer_chase(torch.Generator().manual_seed(0), 16, 6, 3)
    b = pointer_chase(torch.Generator().manual_seed(0), 16, 6, 3)
    c = pointer_chase(torch.Generator().manual_seed(1), 16, 6, 3)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])
