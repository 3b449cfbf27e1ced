"""The Merkle tree agrees with RFC 9162's reference values, every honest proof verifies, and
every forged one is refused."""

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from audit.domain.merkle import (
    EMPTY_ROOT,
    TreeFrontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The Certificate Transparency reference leaves and the tree heads of sizes 1..8 that every
# RFC 6962 / 9162 implementation publishes in its tests.
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in (
        *("", "00", "10", "2021", "3031", "40414243", "5051525354555657"),
        "606162636465666768696a6b6c6d6e6f",
    )
]
REFERENCE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def leaves_of(n: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(n)]


def flip_a_bit(value: bytes, position: int) -> bytes:
    i = position % (len(value) * 8)
    changed = bytearray(value)
    changed[i // 8] ^= 1 << (i % 8)
    return bytes(changed)


def test_the_tree_heads_match_the_rfc_reference_values() -> None:
    hashes = [leaf_hash(leaf) for leaf in REFERENCE_LEAVES]
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    for size, expected in enumerate(REFERENCE_ROOTS, start=1):
        assert root(hashes[:size]).hex() == expected


def test_inclusion_proofs_match_the_rfc_reference_paths() -> None:
    hashes = [leaf_hash(leaf) for leaf in REFERENCE_LEAVES]
    assert [p.hex() for p in inclusion_proof(0, hashes)] == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert [p.hex() for p in inclusion_proof(5, hashes)] == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]


@given(st.integers(0, 70))
def test_the_frontier_gives_the_same_root_at_every_size(n: int) -> None:
    leaves = leaves_of(n)
    frontier = TreeFrontier()
    assert frontier.root() == root([])
    for size, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.root() == root(leaves[:size])


@given(n=st.integers(1, 70), data=st.data())
def test_every_leaf_is_proven_included_at_its_own_position_only(
    n: int, data: st.DataObject
) -> None:
    leaves = leaves_of(n)
    head = root(leaves)
    index = data.draw(st.integers(0, n - 1))
    proof = inclusion_proof(index, leaves)
    assert verify_inclusion(leaves[index], index, n, proof, head)
    other = data.draw(st.integers(0, n - 1).filter(lambda i: i != index)) if n > 1 else None
    if other is not None:
        assert not verify_inclusion(leaves[index], other, n, proof, head)
        assert not verify_inclusion(leaves[other], index, n, proof, head)


@given(n=st.integers(2, 70), data=st.data())
def test_a_forged_inclusion_proof_is_refused(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    head = root(leaves)
    index = data.draw(st.integers(0, n - 1))
    proof = inclusion_proof(index, leaves)
    # The tree size is not forged here: the signed checkpoint binds it to the root.
    forgery = data.draw(st.sampled_from(["flip", "drop", "extend", "outside", "root", "leaf"]))
    leaf, size, expected = leaves[index], n, head
    if forgery == "flip":
        k = data.draw(st.integers(0, len(proof) - 1))
        proof[k] = flip_a_bit(proof[k], data.draw(st.integers(0, 255)))
    elif forgery == "drop":
        proof.pop(data.draw(st.integers(0, len(proof) - 1)))
    elif forgery == "extend":
        proof.append(leaf_hash(b"extra"))
    elif forgery == "outside":
        size = index
    elif forgery == "root":
        expected = flip_a_bit(head, data.draw(st.integers(0, 255)))
    else:
        leaf = flip_a_bit(leaf, data.draw(st.integers(0, 255)))
    assert not verify_inclusion(leaf, index, size, proof, expected)


@given(n=st.integers(1, 70), data=st.data())
def test_every_earlier_tree_is_proven_a_prefix_of_a_later_one(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    m = data.draw(st.integers(1, n))
    proof = consistency_proof(m, leaves)
    assert verify_consistency(m, n, root(leaves[:m]), root(leaves), proof)


@given(n=st.integers(2, 70), data=st.data())
def test_a_forged_consistency_proof_is_refused(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    m = data.draw(st.integers(1, n - 1))
    proof = consistency_proof(m, leaves)
    first, second = root(leaves[:m]), root(leaves)
    forgery = data.draw(st.sampled_from(["flip", "drop", "first", "second", "rewritten", "size"]))
    first_size = m
    if forgery == "flip":
        k = data.draw(st.integers(0, len(proof) - 1))
        proof[k] = flip_a_bit(proof[k], data.draw(st.integers(0, 255)))
    elif forgery == "drop":
        proof.pop(data.draw(st.integers(0, len(proof) - 1)))
    elif forgery == "first":
        first = flip_a_bit(first, data.draw(st.integers(0, 255)))
    elif forgery == "second":
        second = flip_a_bit(second, data.draw(st.integers(0, 255)))
    elif forgery == "rewritten":
        # The later tree rewrote an entry the earlier one already held.
        victim = data.draw(st.integers(0, m - 1))
        rewritten = [*leaves[:victim], leaf_hash(b"rewritten"), *leaves[victim + 1 :]]
        second = root(rewritten)
        proof = consistency_proof(m, rewritten)
    else:
        first_size = data.draw(st.integers(1, n - 1).filter(lambda s: s != m))
    assert not verify_consistency(first_size, n, first, second, proof)


def test_equal_trees_are_consistent_only_with_an_empty_proof() -> None:
    leaves = leaves_of(5)
    head = root(leaves)
    assert verify_consistency(5, 5, head, head, [])
    assert not verify_consistency(5, 5, head, head, [head])
    assert not verify_consistency(5, 5, head, root(leaves_of(4)), [])
