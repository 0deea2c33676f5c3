"""The installers: the file types each platform opens with Inbox stay one list, and the
packaging inputs (plists, spec, icons) are well formed. No build is run here:
packaging/build-linux.sh builds and checks the frozen app itself."""

from __future__ import annotations

import ast
import configparser
import plistlib
import re
import shutil
import struct
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
RESOURCES = ROOT / "resources"

# The single source of truth: every file type Inbox registers for, by extension, with its
# MIME type (Linux, and the macOS tag) and its macOS uniform type identifier.
FILE_TYPES: dict[str, tuple[str, str]] = {
    "p12": ("application/x-pkcs12", "com.rsa.pkcs-12"),
    "pfx": ("application/x-pkcs12", "com.rsa.pkcs-12"),
    "mobileconfig": ("application/x-apple-aspen-config", "com.apple.mobileconfig"),
    "eml": ("message/rfc822", "com.apple.mail.email"),
}
MIME_TYPES = {mime for mime, _uti in FILE_TYPES.values()}
UTIS = {uti for _mime, uti in FILE_TYPES.values()}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _plist(name: str) -> dict[str, Any]:
    with (PACKAGING / "macos" / name).open("rb") as stream:
        value = plistlib.load(stream)
    assert isinstance(value, dict)
    return value


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# macOS


def test_info_plist_document_types_cover_every_file_type() -> None:
    info = _plist("Info.plist")
    by_extension: dict[str, set[str]] = {}
    for document in info["CFBundleDocumentTypes"]:
        assert document["CFBundleTypeRole"] in ("Viewer", "Editor")
        assert document["CFBundleTypeName"]
        for extension in document["CFBundleTypeExtensions"]:
            by_extension.setdefault(extension, set()).update(document["LSItemContentTypes"])
    assert by_extension == {ext: {uti} for ext, (_mime, uti) in FILE_TYPES.items()}


def test_info_plist_declares_each_uti_with_its_extensions_and_mime_type() -> None:
    info = _plist("Info.plist")
    declared = {entry["UTTypeIdentifier"]: entry for entry in info["UTImportedTypeDeclarations"]}
    assert set(declared) == UTIS
    for extension, (mime, uti) in FILE_TYPES.items():
        tags = declared[uti]["UTTypeTagSpecification"]
        assert extension in tags["public.filename-extension"]
        assert mime in tags["public.mime-type"]
        assert "public.data" in declared[uti]["UTTypeConformsTo"]


def test_info_plist_identity_and_version_left_to_the_spec() -> None:
    info = _plist("Info.plist")
    assert info["CFBundleIdentifier"] == "app.inbox.desktop"
    assert info["CFBundlePackageType"] == "APPL"
    # The spec stamps pyproject's version: none may be written here to go stale.
    assert "CFBundleShortVersionString" not in info
    assert "CFBundleVersion" not in info


def test_entitlements_grant_no_exception_that_is_not_explained() -> None:
    entitlements = _plist("entitlements.plist")
    # Apple: list only entitlements that are true; never ship the debugger's.
    assert all(value is True for value in entitlements.values())
    assert "com.apple.security.get-task-allow" not in entitlements
    text = (PACKAGING / "macos" / "entitlements.plist").read_text(encoding="utf-8")
    for key in entitlements:
        assert text.count(key) >= 2, f"{key} is granted without a comment saying why"


# Windows


def _iss() -> str:
    return (PACKAGING / "windows" / "inbox-app.iss").read_text(encoding="utf-8")


def _registry_entries() -> list[dict[str, str]]:
    entries = []
    section = ""
    for line in _iss().splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
            continue
        if section != "[Registry]" or not stripped or stripped.startswith(";"):
            continue
        fields = {}
        for part in re.split(r";\s+(?=\w+:)", stripped):
            key, _, value = part.partition(":")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]  # Inno's quoting: the outer pair, with "" for each quote
            fields[key.strip()] = value
        entries.append(fields)
    return entries


def test_windows_installer_opens_every_file_type_with_inbox() -> None:
    entries = _registry_entries()
    opened = {}
    for entry in entries:
        match = re.fullmatch(r"Software\\Classes\\\.(\w+)\\OpenWithProgids", entry["Subkey"])
        if match:
            opened[match.group(1)] = entry["ValueName"]
    assert set(opened) == set(FILE_TYPES)
    commands = {
        entry["Subkey"].split("\\")[2]: entry["ValueData"]
        for entry in entries
        if entry["Subkey"].endswith("\\shell\\open\\command")
    }
    for extension, prog_id in opened.items():
        assert '""%1""' in commands[prog_id], f".{extension}: {prog_id} does not pass the file"
        assert "{#AppExe}" in commands[prog_id]
    supported = {
        entry["ValueName"] for entry in entries if entry["Subkey"].endswith("\\SupportedTypes")
    }
    assert supported == {f".{extension}" for extension in FILE_TYPES}


def test_windows_installer_lists_the_types_in_its_task_text() -> None:
    task = next(line for line in _iss().splitlines() if line.startswith("en.AssociateFiles="))
    assert set(re.findall(r"(?<!\w)\.(\w+)", task)) == set(FILE_TYPES)


def test_windows_installer_per_user_or_machine_and_keeps_data_by_default() -> None:
    iss = _iss()
    assert "PrivilegesRequired=lowest" in iss
    assert "PrivilegesRequiredOverridesAllowed=dialog commandline" in iss
    assert "Root: HKA;" in iss  # HKCU or HKLM, following the install mode
    # The uninstaller deletes data only when asked: the question defaults to No, and a
    # silent uninstall answers No unless /PURGE is given.
    assert "MB_YESNO or MB_DEFBUTTON2, IDNO" in iss
    assert "'/PURGE'" in iss
    assert "#ifndef AppVersion" in iss  # the version comes from pyproject, never written here


# Linux


def _mime_globs() -> dict[str, str]:
    namespace = "{http://www.freedesktop.org/standards/shared-mime-info}"
    root = ET.parse(PACKAGING / "linux" / "inbox-app-mime.xml").getroot()  # noqa: S314 - our file
    assert root.tag == f"{namespace}mime-info"
    globs = {}
    for mime_type in root.iter(f"{namespace}mime-type"):
        assert mime_type.find(f"{namespace}comment") is not None
        for glob in mime_type.iter(f"{namespace}glob"):
            globs[glob.attrib["pattern"]] = mime_type.attrib["type"]
    return globs


class _DesktopFile(configparser.ConfigParser):
    def optionxform(self, optionstr: str) -> str:
        return optionstr  # desktop entry keys are case-sensitive


def _desktop_entry() -> configparser.SectionProxy:
    parser = _DesktopFile(interpolation=None, delimiters=("=",))
    parser.read(PACKAGING / "linux" / "inbox-app.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_linux_mime_entries_glob_every_file_type() -> None:
    assert _mime_globs() == {f"*.{ext}": mime for ext, (mime, _uti) in FILE_TYPES.items()}


def test_linux_desktop_file_opens_every_mime_type() -> None:
    entry = _desktop_entry()
    assert {mime for mime in entry["MimeType"].split(";") if mime} == MIME_TYPES
    assert entry["Exec"].split()[0] == "inbox-app"
    assert "%f" in entry["Exec"].split()  # the file path goes to `inbox-app FILE`
    assert entry["Icon"] == "inbox-app"
    assert entry["Type"] == "Application"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_linux_desktop_file_is_valid() -> None:
    subprocess.run(
        ["desktop-file-validate", str(PACKAGING / "linux" / "inbox-app.desktop")], check=True
    )


@pytest.mark.skipif(shutil.which("update-mime-database") is None, reason="shared-mime-info")
def test_linux_mime_entries_build_a_mime_database(tmp_path: Path) -> None:
    (tmp_path / "packages").mkdir()
    shutil.copy(PACKAGING / "linux" / "inbox-app-mime.xml", tmp_path / "packages" / "inbox.xml")
    subprocess.run(["update-mime-database", str(tmp_path)], check=True, capture_output=True)
    lines = (tmp_path / "globs2").read_text(encoding="utf-8").splitlines()
    built = {line.split(":")[2]: line.split(":")[1] for line in lines if not line.startswith("#")}
    assert built == _mime_globs()


# The PyInstaller spec


def _spec() -> str:
    return (PACKAGING / "inbox-app.spec").read_text(encoding="utf-8")


def test_spec_reads_the_version_from_pyproject() -> None:
    tree = ast.parse(_spec())
    reader = next(
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "read_version"
    )
    namespace: dict[str, Any] = {"tomllib": tomllib, "Path": Path}
    # The spec itself cannot be run outside PyInstaller; its version reader can.
    exec(compile(ast.Module(body=[reader], type_ignores=[]), "spec", "exec"), namespace)  # noqa: S102
    with (ROOT / "pyproject.toml").open("rb") as stream:
        version = tomllib.load(stream)["project"]["version"]
    assert namespace["read_version"](ROOT / "pyproject.toml") == version
    spec = _spec()
    assert 'VERSION = read_version(ROOT / "pyproject.toml")' in spec
    assert f'"{version}"' not in spec  # never written out by hand
    assert 'info_plist["CFBundleShortVersionString"] = VERSION' in spec


def test_spec_names_the_keyring_backends_and_its_inputs() -> None:
    spec = _spec()
    for backend in ("SecretService", "macOS", "Windows"):
        assert f'"keyring.backends.{backend}"' in spec
    assert 'copy_metadata("keyring")' in spec  # keyring finds backends through entry points
    assert 'copy_metadata("inbox-app")' in spec  # --version reads the distribution's metadata
    for path in ("launcher.py", "macos/Info.plist", "macos/entitlements.plist"):
        assert (PACKAGING / path).is_file()


# Icons


def test_svg_source_is_an_svg() -> None:
    root = ET.parse(RESOURCES / "inbox-app.svg").getroot()  # noqa: S314 - our file
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.attrib["viewBox"] == "0 0 256 256"


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_png_icons_have_their_size(size: int) -> None:
    data = (RESOURCES / "icons" / f"inbox-app-{size}.png").read_bytes()
    assert _png_size(data) == (size, size)


def test_ico_holds_png_images_of_the_windows_sizes() -> None:
    data = (RESOURCES / "inbox-app.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = set()
    for index in range(count):
        width, height, _colors, _zero, _planes, _bits, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * index : 22 + 16 * index]
        )
        image = data[offset : offset + length]
        assert _png_size(image) == (width or 256, height or 256)
        sizes.add(width or 256)
    assert {16, 24, 32, 48, 256} <= sizes


def test_icns_holds_png_images_of_the_macos_sizes() -> None:
    data = (RESOURCES / "inbox-app.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    expected = {b"icp4": 16, b"icp5": 32, b"ic07": 128, b"ic08": 256, b"ic09": 512, b"ic10": 1024}
    found = {}
    at = 8
    while at < len(data):
        kind, length = data[at : at + 4], struct.unpack(">I", data[at + 4 : at + 8])[0]
        found[kind] = _png_size(data[at + 8 : at + length])[0]
        at += length
    assert at == len(data)
    assert expected.items() <= found.items()


def test_window_icons_in_the_package_are_the_generated_pngs() -> None:
    from inbox_app.ui.app import WINDOW_ICON_SIZES

    folder = ROOT / "inbox_app" / "ui" / "resources"
    for size in WINDOW_ICON_SIZES:
        data = (folder / f"inbox-app-{size}.png").read_bytes()
        assert _png_size(data) == (size, size)
        assert data == (RESOURCES / "icons" / f"inbox-app-{size}.png").read_bytes()
    with (ROOT / "pyproject.toml").open("rb") as stream:
        package_data = tomllib.load(stream)["tool"]["setuptools"]["package-data"]
    assert "resources/*.png" in package_data["inbox_app.ui"]  # wheels carry them
    assert 'collect_data_files("inbox_app")' in _spec()  # so does the frozen app
    assert "WINDOW_SIZES = (16, 32, 48, 256)" in (RESOURCES / "make-icons.py").read_text()
    assert WINDOW_ICON_SIZES == (16, 32, 48, 256)


# The Linux bundle's size and Qt's ICU data (packaging/icu_data.py)


def test_the_build_fails_over_120_decimal_megabytes() -> None:
    script = (PACKAGING / "build-linux.sh").read_text(encoding="utf-8")
    assert "size_limit=120000000" in script
    check = script.index('if [ "$bundle_bytes" -gt "$size_limit" ]; then')
    assert "exit 1" in script[check : script.index("fi", check)]
    assert check < script.index("== frozen inbox-app --version")  # before checks and tarball


def _icu_data_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("icu_data", PACKAGING / "icu_data.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _qt_lib() -> Path:
    import PySide6

    return Path(PySide6.__file__).parent / "Qt" / "lib"


@pytest.fixture(scope="module")
def icu() -> Any:
    if shutil.which("objdump") is None or not list(_qt_lib().glob("libicudata.so.*")):
        pytest.skip("needs binutils and PySide6's own ICU (Linux wheels)")
    return _icu_data_module()


@pytest.fixture(scope="module")
def icu_data(icu: Any) -> tuple[str, bytes]:
    (library,) = _qt_lib().glob("libicudata.so.*")
    symbol, data = icu.exported_data(library)
    return symbol, data


def test_icu_common_data_is_rewritten_byte_for_byte(icu: Any, icu_data: tuple[str, bytes]) -> None:
    symbol, data = icu_data
    assert re.fullmatch(r"icudt\d+_dat", symbol)
    header, items = icu.read_items(data)
    assert len(items) > 1000
    assert icu.write_common(header, items) == data  # the layout is ICU's own


def test_trimmed_icu_data_keeps_what_qt_uses(icu: Any, icu_data: tuple[str, bytes]) -> None:
    _symbol, data = icu_data
    trimmed = icu.trim(data)
    assert len(trimmed) < 0.6 * len(data)
    _header, before = icu.read_items(data)
    _header, after = icu.read_items(trimmed)
    kept = dict(after)
    assert kept == {name: item for name, item in before if name in kept}  # items unchanged
    names = {name.partition("/")[2] for name in kept}
    for needed in ("cnvalias.icu", "coll/ucadata.icu", "coll/de.res", "zone/de.res"):
        assert needed in names  # QStringConverter, QCollator, QTimeZone
    assert {"metaZones.res", "zoneinfo64.res"} <= names
    assert any(name.endswith(".cnv") for name in names)
    assert not any(name.startswith(("brkitr/", "lang/", "curr/", "translit/")) for name in names)


def test_qt_calls_only_icu_functions_whose_data_is_kept(icu: Any) -> None:
    import PySide6

    version = next(_qt_lib().glob("libicudata.so.*")).name.split(".so.")[1]
    root = Path(PySide6.__file__).parent
    callers = {}
    for library in [
        *root.glob("*.so*"),
        *root.glob("Qt/lib/*.so*"),
        *root.glob("Qt/plugins/*/*.so"),
    ]:
        if not library.name.startswith("libicu"):
            for name in icu.icu_imports(library, version):
                callers[name] = library.name
    assert {"ucol_open", "ucal_open"} <= callers.keys()  # the check sees the imports
    assert icu.unserved(callers) == set(), callers


# Exercises each ICU service Qt uses, in several locales; prints what it got, and the ICU
# data library the process mapped.
_ICU_PROBE = r"""
import functools, json
from PySide6.QtCore import (
    QCollator, QCoreApplication, QDateTime, QLocale, QStringDecoder, QTimeZone
)
app = QCoreApplication([])
words = ["Äpfel", "zebra", "Ångström", "apple", "Øre", "ähnlich", "中文", "日本", "한국", "été"]
out = {}
berlin = QTimeZone(b"Europe/Berlin")
for name in ["de_DE", "sv_SE", "zh_CN", "ja_JP", "tr_TR", "ar_EG", "th_TH"]:
    locale = QLocale(name)
    out["collation " + name] = sorted(words, key=functools.cmp_to_key(QCollator(locale).compare))
    for kind in QTimeZone.TimeType:
        for style in QTimeZone.NameType:
            out[f"zone {name} {kind.name} {style.name}"] = berlin.displayName(kind, style, locale)
    out["upper " + name] = locale.toUpper("istanbul straße")
    out["lower " + name] = locale.toLower("İSTANBUL ΣΊΣΥΦΟΣ")
    moment = QDateTime.fromSecsSinceEpoch(1700000000, QTimeZone(b"Asia/Tokyo"))
    out["date " + name] = locale.toString(moment, QLocale.FormatType.LongFormat)
out["codecs"] = QStringDecoder.availableCodecs()
encodings = ["Shift_JIS", "ISO-2022-JP", "EUC-KR", "Big5", "KOI8-R", "IBM037"]
out["decoders"] = [QStringDecoder(name).isValid() for name in encodings]
maps = open("/proc/self/maps").read().splitlines()
data = sorted({line.split()[-1] for line in maps if "libicudata" in line})
print(json.dumps({"data": data, "out": out}, ensure_ascii=False))
"""


def _probe(preload: Path | None) -> dict[str, Any]:
    import json
    import os
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if preload is not None:  # same soname: the ICU libraries bind to it, not to Qt's copy
        env["LD_PRELOAD"] = str(preload)
    result = subprocess.run(
        [sys.executable, "-c", _ICU_PROBE], capture_output=True, text=True, env=env, check=True
    )
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def test_qt_answers_the_same_on_the_trimmed_icu_data(
    icu: Any, icu_data: tuple[str, bytes], tmp_path: Path
) -> None:
    if shutil.which("as") is None or shutil.which("ld") is None:
        pytest.skip("needs binutils' as and ld")
    (library,) = _qt_lib().glob("libicudata.so.*")
    trimmed = tmp_path / library.name
    before, after = icu.trimmed_library(library, trimmed)
    assert after < 0.6 * before
    assert icu.soname(trimmed) == library.name
    symbol, data = icu_data
    assert icu.exported_data(trimmed) == (symbol, icu.trim(data))
    full, small = _probe(None), _probe(trimmed)
    assert small["data"] == [str(trimmed)]  # the trimmed data was the one used
    assert len(full["data"]) == 1
    assert full["data"] != small["data"]
    assert small["out"] == full["out"]
    assert full["out"]["zone sv_SE StandardTime LongName"] == "centraleuropeisk normaltid"
    assert full["out"]["upper tr_TR"] == "İSTANBUL STRASSE"  # ICU's case mapping was reached
