"""The decrepit RC2 (RFC 2268) used to read old mail, against the RFC's test vectors."""

from __future__ import annotations

import pytest

from inbox_app.smime.decrepit import _decrypt_block, _encrypt_block, _expand_key, rc2_cbc_decrypt

# RFC 2268 §5: (key, effective key bits, plaintext, ciphertext)
VECTORS = [
    ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
    ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
    ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
    ("88", 64, "0000000000000000", "61a8a244adacccf0"),
    ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
    ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
    ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
]


@pytest.mark.parametrize(("key", "bits", "plain", "cipher"), VECTORS)
def test_rfc2268_vectors(key: str, bits: int, plain: str, cipher: str) -> None:
    keys = _expand_key(bytes.fromhex(key), bits)
    assert _encrypt_block(keys, bytes.fromhex(plain)).hex() == cipher
    assert _decrypt_block(keys, bytes.fromhex(cipher)).hex() == plain


def test_cbc_chains_blocks() -> None:
    keys = _expand_key(b"\x88" * 5, 40)
    iv = bytes(range(8))
    first = _encrypt_block(keys, bytes(a ^ b for a, b in zip(b"ABCDEFGH", iv, strict=True)))
    second = _encrypt_block(keys, bytes(a ^ b for a, b in zip(b"IJKLMNOP", first, strict=True)))
    assert rc2_cbc_decrypt(b"\x88" * 5, 40, iv, first + second) == b"ABCDEFGHIJKLMNOP"


@pytest.mark.parametrize(
    ("key", "iv", "data"),
    [(b"", bytes(8), bytes(8)), (b"k", bytes(7), bytes(8)), (b"k", bytes(8), bytes(9))],
)
def test_bad_input_is_a_value_error(key: bytes, iv: bytes, data: bytes) -> None:
    with pytest.raises(ValueError, match="RC2"):
        rc2_cbc_decrypt(key, 40, iv, data)
