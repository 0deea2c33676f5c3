"""Qt's ICU data without what Qt never asks ICU for (Linux bundles; used by inbox-app.spec).

PySide6's Linux wheels carry ICU 73 for QtCore, and ICU's data library (``libicudata.so.73``,
32 MB) is the largest file of the bundle. QtCore calls few ICU services: ``ucol_*``
(QCollator: the ``coll/`` tree), ``ucnv_*`` (QStringConverter's extra encodings: the ``.cnv``
tables and ``cnvalias.icu``), ``ucal_*`` (QTimeZone's names: the ``zone/`` tree, the main
locale tree and the zone tables) and ``u_strToUpper``/``u_strToLower`` (QLocale's case
mapping, whose data is built into ``libicuuc``). Everything else goes: about half the data.
The spec checks every bundled library's ICU imports against :data:`ICU_FUNCTIONS_SERVED` at
each build (:func:`icu_imports`), so a Qt that starts using more of ICU stops the build
instead of shipping without the data it needs.

The data is an ICU "common data" package (format ``CmnD``): a header, a table of contents
sorted by item name, then the items. :func:`trim` rewrites it without the items
:func:`unused_by_qt` names; :func:`trimmed_library` links the result into a library of the
same name exporting the same symbol (GNU ``as`` and ``ld`` from binutils, which the Linux
build needs for ``strip`` and ``objdump`` anyway).

Run it by hand to see the figures::

    python packaging/icu_data.py .venv/lib/python3.11/site-packages/PySide6/Qt/lib/libicudata.so.73
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

# The ICU functions (or function prefixes) the trimmed data still serves in full.
ICU_FUNCTIONS_SERVED = ("ucal_", "ucnv_", "UCNV_", "ucol_", "u_strToLower", "u_strToUpper")

# Data trees and files only other ICU services read: break iteration and its dictionaries,
# measurement units, currency/language/region display names, transliteration, spelled-out
# numbers, character names, StringPrep profiles and spoof checking.
UNUSED_TREES = ("brkitr", "unit", "curr", "lang", "region", "translit", "rbnf")
UNUSED_SUFFIXES = (".spp", ".cfu")
UNUSED_FILES = ("unames.icu",)

_MAGIC = b"\xda\x27"
_FORMAT = b"CmnD"
_ALIGNMENT = 16  # ICU's own packages align every item to 16 bytes


class IcuDataError(ValueError):
    """The file is not the ICU data this module knows how to trim."""


def unused_by_qt(name: str) -> bool:
    """Whether an item (``icudt73l/brkitr/cjdict.dict``) is data Qt never asks ICU for."""
    _package, _, path = name.partition("/")
    tree, _, _rest = path.rpartition("/")
    if tree.split("/")[0] in UNUSED_TREES:
        return True
    return path in UNUSED_FILES or path.endswith(UNUSED_SUFFIXES)


def _byte_order(common: bytes) -> str:
    if len(common) < 32 or common[2:4] != _MAGIC or common[12:16] != _FORMAT:
        raise IcuDataError("not an ICU common data package (CmnD)")
    return ">" if common[8] else "<"


def read_items(common: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Split a common data package into its header and its ``(name, data)`` items, in order.

    Raises:
        IcuDataError: ``common`` is not a common data package, or its table is inconsistent.
    """
    order = _byte_order(common)
    (header_size,) = struct.unpack_from(order + "H", common, 0)
    (count,) = struct.unpack_from(order + "I", common, header_size)
    table = [
        struct.unpack_from(order + "II", common, header_size + 4 + 8 * index)
        for index in range(count)
    ]
    starts = [header_size + data_offset for _name_offset, data_offset in table]
    ends = [*starts[1:], len(common)]
    items = []
    for (name_offset, _data_offset), start, end in zip(table, starts, ends, strict=True):
        name_start = header_size + name_offset
        name_end = common.find(b"\0", name_start)
        if name_end < 0 or not start <= end <= len(common):
            raise IcuDataError("the table of contents points outside the package")
        items.append((common[name_start:name_end].decode("ascii"), common[start:end]))
    names = [name for name, _data in items]
    if names != sorted(names):
        raise IcuDataError("the table of contents is not sorted")
    return common[:header_size], items


def _padding(length: int, byte: bytes = b"\0") -> bytes:
    return byte * (-length % _ALIGNMENT)


def write_common(header: bytes, items: Iterable[tuple[str, bytes]]) -> bytes:
    """A common data package: ``header`` (kept as it is), the table of contents, the items.

    The table's offsets count from its own start, which follows the header; items start on
    16-byte boundaries of the package, as ICU's own tools lay them out.
    """
    order = _byte_order(header + bytes(16))
    listed = list(items)
    names = b"".join(name.encode("ascii") + b"\0" for name, _data in listed)
    table_size = 4 + 8 * len(listed)
    first_item = table_size + len(names)
    first_item += len(_padding(len(header) + first_item))
    entries = []
    name_offset, data_offset = table_size, first_item
    body = bytearray()
    for name, data in listed:
        entries.append(struct.pack(order + "II", name_offset, data_offset))
        name_offset += len(name) + 1
        padded = data + _padding(len(data))
        body += padded
        data_offset += len(padded)
    toc = struct.pack(order + "I", len(listed)) + b"".join(entries) + names
    # ICU's tools fill the gap after the names with 0xAA; so does this (the same bytes out).
    return header + toc + _padding(len(header) + len(toc), b"\xaa") + bytes(body)


def trim(common: bytes, unused: Callable[[str], bool] = unused_by_qt) -> bytes:
    """``common`` without the items ``unused(name)`` names."""
    header, items = read_items(common)
    return write_common(header, [(name, data) for name, data in items if not unused(name)])


def _objdump(*args: str) -> str:
    return subprocess.run(["objdump", *args], capture_output=True, text=True, check=True).stdout


def exported_data(library: Path) -> tuple[str, bytes]:
    """The ``icudtNN_dat`` symbol an ICU data library exports, and its bytes.

    Raises:
        IcuDataError: the library exports no such symbol.
    """
    match = re.search(
        r"^([0-9a-f]+)\s.*\s([0-9a-f]+)\s+(icudt\d+_dat)\s*$",
        _objdump("-T", str(library)),
        re.MULTILINE,
    )
    if match is None:
        raise IcuDataError(f"{library.name} exports no ICU data symbol")
    address, size, symbol = int(match[1], 16), int(match[2], 16), match[3]
    # The file offset of the address: from the section holding it.
    for line in _objdump("-h", str(library)).splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[0].isdigit():
            length, vma, offset = int(fields[2], 16), int(fields[3], 16), int(fields[5], 16)
            if vma <= address < vma + length:
                with library.open("rb") as stream:
                    stream.seek(offset + address - vma)
                    return symbol, stream.read(size)
    raise IcuDataError(f"{library.name}: {symbol} lies in no section")


def soname(library: Path) -> str:
    """The library's ``DT_SONAME`` (its file name if it has none)."""
    match = re.search(r"^\s*SONAME\s+(\S+)", _objdump("-p", str(library)), re.MULTILINE)
    return match[1] if match else library.name


def link_data_library(symbol: str, data: bytes, name: str, target: Path) -> None:
    """Link ``data`` into the shared library ``target`` (soname ``name``) exporting ``symbol``.

    Read-only data and a non-executable stack, like ICU's own data library.
    """
    with tempfile.TemporaryDirectory(prefix="icu-data-") as scratch:
        work = Path(scratch)
        (work / "data.bin").write_bytes(data)
        (work / "data.s").write_text(
            "\t.section .rodata\n"
            f"\t.globl {symbol}\n"
            f"\t.type {symbol}, %object\n"
            f"\t.balign {_ALIGNMENT}\n"
            f"{symbol}:\n"
            '\t.incbin "data.bin"\n'
            f"\t.size {symbol}, . - {symbol}\n"
            '\t.section .note.GNU-stack,"",%progbits\n'
        )
        subprocess.run(["as", "-o", "data.o", "data.s"], cwd=work, check=True)
        subprocess.run(
            ["ld", "-shared", "-z", "noexecstack", "-soname", name, "-o", str(target), "data.o"],
            cwd=work,
            check=True,
        )


def trimmed_library(source: Path, target: Path) -> tuple[int, int]:
    """Write to ``target`` the ICU data library ``source`` without the data Qt never uses.

    Returns the data's size before and after, in bytes.
    """
    symbol, data = exported_data(source)
    smaller = trim(data)
    read_items(smaller)  # what ICU will read must parse back
    target.parent.mkdir(parents=True, exist_ok=True)
    link_data_library(symbol, smaller, soname(source), target)
    return len(data), len(smaller)


def icu_imports(library: Path, version: str) -> set[str]:
    """The ICU ``version`` functions ``library`` imports, without the suffix (``ucol_open``)."""
    suffix, namespace = f"_{version}", f"icu_{version}"
    names = set()
    for line in _objdump("-T", str(library)).splitlines():
        fields = line.split()
        if "*UND*" not in fields:
            continue
        if fields[-1].endswith(suffix):
            names.add(fields[-1].removesuffix(suffix))
        elif namespace in fields[-1]:  # ICU's C++ API (mangled): never served on purpose
            names.add(fields[-1])
    return names


def unserved(functions: Iterable[str]) -> set[str]:
    """The ICU functions among ``functions`` whose data the trimmed package may lack."""
    return {name for name in functions if not name.startswith(ICU_FUNCTIONS_SERVED)}


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        _symbol, whole = exported_data(Path(argument))
        _header, every = read_items(whole)
        dropped = [name for name, _data in every if unused_by_qt(name)]
        print(
            f"{argument}: {len(whole) / 1e6:.1f} MB, {len(every)} items; "
            f"without {len(dropped)} unused by Qt: {len(trim(whole)) / 1e6:.1f} MB"
        )
