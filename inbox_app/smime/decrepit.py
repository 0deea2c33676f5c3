"""RC2 (RFC 2268) with any effective key size: only to read old mail.  Decrepit.

pyca/cryptography's RC2 runs 128-bit effective keys only, but mail clients of the 1990s
and 2000s sent RC2 with 40 and 64 effective bits (RFC 4134 §5.2 is such a message). This
pure-Python decryptor reads them; nothing in Inbox ever encrypts with RC2, and what it
decrypts is always reported ``weak``.
"""

from __future__ import annotations

# RFC 2268 §2: a permutation of 0..255 derived from the digits of pi.
_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)


def _expand_key(key: bytes, effective_bits: int) -> list[int]:
    """RFC 2268 §2: 64 16-bit subkeys from a key and its effective size in bits."""
    if not 1 <= len(key) <= 128 or not 1 <= effective_bits <= 1024:
        raise ValueError("invalid RC2 key")
    table = list(key) + [0] * (128 - len(key))
    for i in range(len(key), 128):
        table[i] = _PITABLE[(table[i - 1] + table[i - len(key)]) & 0xFF]
    t8 = (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    table[128 - t8] = _PITABLE[table[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        table[i] = _PITABLE[table[i + 1] ^ table[i + t8]]
    return [table[2 * i] | (table[2 * i + 1] << 8) for i in range(64)]


_SHIFTS = (1, 2, 3, 5)
_MASK = 0xFFFF


def _decrypt_block(keys: list[int], block: bytes) -> bytes:
    """RFC 2268 §4: undo 5 mixing rounds, a mash, 6 mixing rounds, a mash, 5 mixing rounds."""
    r = [block[0] | block[1] << 8, block[2] | block[3] << 8,
         block[4] | block[5] << 8, block[6] | block[7] << 8]  # fmt: skip
    j = 63
    for rounds in (5, 0, 6, 0, 5):
        if rounds == 0:
            for i in (3, 2, 1, 0):  # r-mashing, reversed
                r[i] = (r[i] - keys[r[i - 1] & 63]) & _MASK
            continue
        for _ in range(rounds):
            for i in (3, 2, 1, 0):  # r-mixing, reversed
                shift = _SHIFTS[i]
                r[i] = ((r[i] >> shift) | (r[i] << (16 - shift))) & _MASK
                r[i] = (r[i] - keys[j] - (r[i - 1] & r[i - 2]) - ((~r[i - 1]) & r[i - 3])) & _MASK
                j -= 1
    return bytes(b for word in r for b in (word & 0xFF, word >> 8))


def _encrypt_block(keys: list[int], block: bytes) -> bytes:
    """RFC 2268 §3, kept for the published test vectors only."""
    r = [block[0] | block[1] << 8, block[2] | block[3] << 8,
         block[4] | block[5] << 8, block[6] | block[7] << 8]  # fmt: skip
    j = 0
    for rounds in (5, 0, 6, 0, 5):
        if rounds == 0:
            for i in range(4):
                r[i] = (r[i] + keys[r[i - 1] & 63]) & _MASK
            continue
        for _ in range(rounds):
            for i in range(4):
                r[i] = (r[i] + keys[j] + (r[i - 1] & r[i - 2]) + ((~r[i - 1]) & r[i - 3])) & _MASK
                j += 1
                shift = _SHIFTS[i]
                r[i] = ((r[i] << shift) | (r[i] >> (16 - shift))) & _MASK
    return bytes(b for word in r for b in (word & 0xFF, word >> 8))


def rc2_cbc_decrypt(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """Decrypt RC2-CBC; the caller removes the padding.

    Raises:
        ValueError: a bad key, IV or ciphertext length.
    """
    if len(iv) != 8 or len(data) % 8:
        raise ValueError("invalid RC2-CBC input")
    keys = _expand_key(key, effective_bits)
    out = bytearray()
    previous = iv
    for offset in range(0, len(data), 8):
        block = data[offset : offset + 8]
        plain = _decrypt_block(keys, block)
        out += bytes(a ^ b for a, b in zip(plain, previous, strict=True))
        previous = block
    return bytes(out)
