"""Render resources/inbox-app.svg into the icons the installers need; commit the results.

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/make-icons.py

Writes ``icons/inbox-app-N.png`` (N = 16 ... 512), ``inbox-app.ico`` (Windows: 16 ... 256),
``inbox-app.icns`` (macOS: 16 ... 1024), and the window icon's PNGs into the package
(``inbox_app/ui/resources/inbox-app-N.png``, N in ``WINDOW_SIZES``). The containers hold PNG
images, which Windows (since Vista) and macOS (since 10.7) read; the container headers are
written here, so no image tool beyond Qt's SVG renderer (in PySide6-Essentials) is needed.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "inbox-app.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# The window icon (QApplication.setWindowIcon): title bars, task bars, the window switcher.
WINDOW_SIZES = (16, 32, 48, 256)
WINDOW_ICONS = HERE.parent / "inbox_app" / "ui" / "resources"
# Apple's icon types that hold PNG data, by pixel size (the @2x types share a pixel size).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)


def render_png(size: int) -> bytes:
    """The artwork rendered at ``size`` x ``size`` pixels, as PNG bytes."""
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {SOURCE}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # The stubs want the format as bytes; PySide6 6.12 accepts only a str here.
    image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    return bytes(data.data())


def ico(images: dict[int, bytes]) -> bytes:
    """A Windows .ico container of PNG images (ICONDIR, ICONDIRENTRYs, then the images)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in sorted(images.items()):
        dimension = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dimension, dimension, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def icns(images: dict[int, bytes]) -> bytes:
    """A macOS .icns container: 'icns', total length, then (type, length, PNG) elements."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(images[size])) + images[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the application starts
    app = QGuiApplication(sys.argv[:1])
    sizes = sorted({*PNG_SIZES, *ICO_SIZES, *(size for _kind, size in ICNS_TYPES)})
    images = {size: render_png(size) for size in sizes}
    (HERE / "icons").mkdir(exist_ok=True)
    for size in PNG_SIZES:
        (HERE / "icons" / f"inbox-app-{size}.png").write_bytes(images[size])
    (HERE / "inbox-app.ico").write_bytes(ico({size: images[size] for size in ICO_SIZES}))
    (HERE / "inbox-app.icns").write_bytes(icns(images))
    WINDOW_ICONS.mkdir(exist_ok=True)
    for size in WINDOW_SIZES:
        (WINDOW_ICONS / f"inbox-app-{size}.png").write_bytes(images[size])
    del app
    print(
        f"wrote {len(PNG_SIZES)} PNGs, inbox-app.ico and inbox-app.icns in {HERE}, "
        f"and {len(WINDOW_SIZES)} window icons in {WINDOW_ICONS}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
