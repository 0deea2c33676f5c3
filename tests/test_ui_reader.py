"""The reader pane: the banner for each security state, plain-text names, no remote loading,
attachments and their signals, accessible names."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QEvent, QPoint, Qt, QUrl
from PySide6.QtGui import QHelpEvent, QImage, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QToolTip,
    QWidget,
)
from pytestqt.qtbot import QtBot

from inbox_app.credentials.keystore import NewIdentity
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.services.app import InboxServices
from inbox_app.services.reading import (
    Attachment,
    AttachmentKind,
    MessageHeaders,
    OpenedMessage,
    read_raw,
)
from inbox_app.services.runtime import Runtime
from inbox_app.smime import (
    EncryptionStatus,
    Report,
    SignatureStatus,
    SignedLayer,
    Signer,
    encrypt_message,
    sign_message,
)
from inbox_app.smime.certificates import fingerprint
from inbox_app.ui.bridge import Bridge
from inbox_app.ui.dialogs.certificate_details import CertificateDetailsDialog
from inbox_app.ui.views.reader import MessageBrowser, ReaderView
from inbox_app.ui.views.security_banner import BannerLevel, SecurityBanner
from tests.pki import NOW, StandardPKI, message

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
IMAGE = QTextDocument.ResourceType.ImageResource.value
ALICE = Signer(("alice@example.com",), "CN=Alice", "ab" * 32, common_name="Alice")


@pytest.fixture
def services(tmp_path: Path, pki: StandardPKI) -> InboxServices:
    home = tmp_path / "home"
    services = InboxServices(home, MemorySecretStore())
    services.keystore.install(
        [
            NewIdentity(pki.alice.identity, frozenset({"sign", "encrypt"}), "test"),
            NewIdentity(pki.bob.identity, frozenset({"encrypt"}), "old", historic=True),
        ]
    )
    anchors = home / "anchors"
    anchors.mkdir(mode=0o700)
    (anchors / "root.pem").write_bytes(pki.root.pem())
    return services


@pytest.fixture
def bridge(services: InboxServices) -> Iterator[Bridge]:
    runtime = Runtime(lambda: services)
    try:
        yield Bridge(runtime)
    finally:
        runtime.close()


@pytest.fixture
def opened_urls() -> list[QUrl]:
    """What the reader handed to the desktop."""
    return []


@pytest.fixture
def reader(qtbot: QtBot, bridge: Bridge, tmp_path: Path, opened_urls: list[QUrl]) -> ReaderView:
    view = ReaderView(bridge, scratch_dir=tmp_path, open_url=opened_urls.append)
    qtbot.addWidget(view)
    return view


def layer(status: SignatureStatus, reason: str = "", signer: Signer | None = ALICE) -> SignedLayer:
    return SignedLayer("signed", status, reason, signer, "sha256")


def signed(status: SignatureStatus, reason: str = "", **fields: object) -> Report:
    report = Report(
        signature=status,
        sender_match=True,
        signed_layers=[layer(status, reason)],
        error=reason or None,
        from_address="alice@example.com",
    )
    for name, value in fields.items():
        setattr(report, name, value)
    return report


# ---------------------------------------------------------------------------- the banner


@pytest.mark.parametrize(
    ("report", "level", "expected"),
    [
        pytest.param(
            signed(SignatureStatus.VALID),
            BannerLevel.GOOD,
            ["Valid signature from Alice <alice@example.com>", "Signature: valid"],
            id="valid",
        ),
        pytest.param(
            signed(SignatureStatus.INVALID, "the content was altered"),
            BannerLevel.DANGER,
            ["Invalid signature: do not trust this message (the content was altered)"],
            id="invalid",
        ),
        pytest.param(
            signed(SignatureStatus.UNTRUSTED, "no path to a trust anchor"),
            BannerLevel.WARNING,
            [
                "Signed by Alice <alice@example.com>, but the certificate is not trusted",
                "Reason: no path to a trust anchor",
            ],
            id="untrusted",
        ),
        pytest.param(
            signed(SignatureStatus.EXPIRED, "the certificate expired"),
            BannerLevel.WARNING,
            ["but the certificate has expired"],
            id="expired",
        ),
        pytest.param(
            signed(SignatureStatus.WEAK, "weak: sha1"),
            BannerLevel.WARNING,
            ["Signed by Alice <alice@example.com> with weak algorithms"],
            id="weak",
        ),
        pytest.param(
            signed(SignatureStatus.ERROR, "malformed signature"),
            BannerLevel.DANGER,
            ["could not be checked: malformed signature"],
            id="error",
        ),
        pytest.param(
            signed(
                SignatureStatus.INVALID,
                "signed by alice@example.com, not by the sender boss@example.com",
                sender_match=False,
                from_address="boss@example.com",
            ),
            BannerLevel.DANGER,
            ["Sender mismatch: the signer is not the sender boss@example.com"],
            id="sender-mismatch",
        ),
        pytest.param(
            Report(encryption=EncryptionStatus.AEAD),
            BannerLevel.NEUTRAL,
            ["Encrypted, not signed", "authenticated encryption (AES-GCM)"],
            id="aead",
        ),
        pytest.param(
            signed(SignatureStatus.VALID, encryption=EncryptionStatus.AEAD),
            BannerLevel.GOOD,
            ["Valid signature", "authenticated encryption (AES-GCM)"],
            id="signed-aead",
        ),
        pytest.param(
            Report(encryption=EncryptionStatus.UNAUTHENTICATED),
            BannerLevel.WARNING,
            ["unauthenticated (AES-CBC): the content could have been altered"],
            id="cbc-unauthenticated",
        ),
        pytest.param(
            signed(SignatureStatus.VALID, encryption=EncryptionStatus.WEAK),
            BannerLevel.WARNING,
            ["with a weak, outdated algorithm (such as 3DES or RC2)"],
            id="3des-weak",
        ),
        pytest.param(
            Report(encryption=EncryptionStatus.FAILED, error="no key for this message"),
            BannerLevel.DANGER,
            ["This message could not be decrypted: no key for this message"],
            id="decryption-failed",
        ),
        pytest.param(
            Report(encryption=EncryptionStatus.AEAD, decrypted_with="cd" * 32, historic_key=True),
            BannerLevel.NEUTRAL,
            ["Decrypted with a historic key: certificate SHA-256 cdcdcdcdcdcdcdcd…"],
            id="historic-key",
        ),
        pytest.param(
            signed(SignatureStatus.VALID, protected_headers={"subject": "Hi", "from": "a@b"}),
            BannerLevel.GOOD,
            ["Protected header fields shown: From, Subject"],
            id="protected-headers",
        ),
        pytest.param(
            signed(SignatureStatus.VALID, warnings=["the Date field differs"]),
            BannerLevel.WARNING,
            ["Warning: the Date field differs"],
            id="valid-with-warning",
        ),
        pytest.param(
            Report(), BannerLevel.NEUTRAL, ["Not signed: the sender is not verified"], id="plain"
        ),
    ],
)
def test_banner_states(
    qtbot: QtBot, report: Report, level: BannerLevel, expected: list[str]
) -> None:
    banner = SecurityBanner()
    qtbot.addWidget(banner)
    banner.set_report(report)
    assert banner.level() is level
    assert banner.property("level") == level.value
    assert not banner.isHidden()
    text = banner.summary_text()
    for fragment in expected:
        assert fragment in text
    assert banner.accessibleDescription() == text


def test_each_level_has_its_own_icon(qtbot: QtBot) -> None:
    reports = {
        BannerLevel.GOOD: signed(SignatureStatus.VALID),
        BannerLevel.NEUTRAL: Report(),
        BannerLevel.WARNING: signed(SignatureStatus.EXPIRED),
        BannerLevel.DANGER: signed(SignatureStatus.INVALID),
    }
    images = {}
    for level, report in reports.items():
        banner = SecurityBanner()
        qtbot.addWidget(banner)
        banner.set_report(report)
        icon = banner.findChild(QLabel, options=Qt.FindChildOption.FindDirectChildrenOnly)
        assert icon is not None
        images[level] = icon.pixmap().toImage()
        assert not images[level].isNull()
    assert len({image.cacheKey() for image in images.values()}) == 4


def test_banner_with_historic_key_name_and_date(qtbot: QtBot) -> None:
    banner = SecurityBanner()
    qtbot.addWidget(banner)
    report = Report(encryption=EncryptionStatus.AEAD, decrypted_with="cd" * 32, historic_key=True)
    banner.set_report(
        report, historic_key="CN=Bob <bob@example.org>", historic_valid_until="2025-12-31"
    )
    assert (
        "Decrypted with a historic key: CN=Bob <bob@example.org>, valid until 2025-12-31"
        in banner.summary_text()
    )
    banner.set_report(None)
    assert banner.isHidden()
    assert banner.summary_text() == ""
    assert banner.level() is None


def test_certificate_names_are_never_markup(qtbot: QtBot) -> None:
    evil = Signer(
        ("mallory@example.com",),
        "CN=<b>Mallory</b>",
        "ef" * 32,
        common_name='<b>Your Bank</b><img src="http://evil.example/x">',
    )
    report = Report(
        signature=SignatureStatus.VALID,
        sender_match=True,
        signed_layers=[layer(SignatureStatus.VALID, signer=evil)],
    )
    banner = SecurityBanner()
    qtbot.addWidget(banner)
    banner.set_report(report)
    assert '<b>Your Bank</b><img src="http://evil.example/x">' in banner.summary_text()
    labels = [label for label in banner.findChildren(QLabel) if label.text()]
    assert labels
    for label in labels:
        assert label.textFormat() is Qt.TextFormat.PlainText
    shown = "\n".join(label.text() for label in labels)
    assert "<b>Your Bank</b>" in shown
    dialog = CertificateDetailsDialog(report)
    qtbot.addWidget(dialog)
    assert "CN=<b>Mallory</b>" in dialog.text()
    view = dialog.findChild(QPlainTextEdit)
    assert view is not None
    assert "CN=<b>Mallory</b>" in view.toPlainText()


def test_details_dialog_shows_the_signer_certificate(
    qtbot: QtBot, services: InboxServices, pki: StandardPKI
) -> None:
    opened = read_raw(services, sign_message(message(), pki.alice.identity, now=NOW), now=NOW)
    banner = SecurityBanner()
    qtbot.addWidget(banner)
    banner.set_report(opened.report)
    details = next(
        b for b in banner.findChildren(QPushButton) if b.accessibleName() == "Certificate details"
    )
    assert details.isEnabled()
    qtbot.mouseClick(details, Qt.MouseButton.LeftButton)
    dialog = banner.details_dialog()
    assert dialog is not None
    assert dialog.isVisible()
    text = dialog.text()
    sha = fingerprint(pki.alice.cert).upper()
    for fragment in (
        "Signature 1 (signed): valid",
        "Subject: CN=Alice",
        "Issuer: CN=Inbox Test Mail CA",
        f"SHA-256: {sha[:2]}:{sha[2:4]}:",
        "Addresses: alice@example.com",
        "Key: RSA 2048 bits",
        f"Valid until: {pki.alice.cert.not_valid_after_utc:%Y-%m-%d}",
        "Serial number: ",
    ):
        assert fragment in text
    dialog.close()


# ---------------------------------------------------------------------------- the body


def test_load_resource_serves_cid_and_refuses_everything_else(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = MessageBrowser()
    qtbot.addWidget(browser)
    browser.set_inline({"logo@example.com": ("image/png", PNG)})
    image = browser.loadResource(IMAGE, QUrl("cid:logo@example.com"))
    assert isinstance(image, QImage)
    assert (image.width(), image.height()) == (1, 1)
    local = tmp_path / "local.png"
    local.write_bytes(PNG)
    monkeypatch.chdir(tmp_path)  # a relative name must not reach the working directory either
    for url in (
        "http://evil.example/x.png",
        "https://evil.example/x.png",
        "//evil.example/x.png",
        local.as_uri(),
        "local.png",
        "data:image/png;base64," + base64.b64encode(PNG).decode(),
        "cid:unknown@example.com",
        "qrc:/qt-project.org/styles/commonstyle/images/standardbutton-apply-16.png",
    ):
        # Through the document, as Qt asks: its own fallbacks (files, data:) must not run.
        loaded = browser.document().loadResource(IMAGE, QUrl(url))
        assert isinstance(loaded, (QImage, QByteArray)), url
        assert loaded.isNull() if isinstance(loaded, QImage) else loaded.isEmpty(), url
    style = browser.loadResource(QTextDocument.ResourceType.StyleSheetResource.value, QUrl(
        "cid:logo@example.com"
    ))  # fmt: skip
    assert isinstance(style, QByteArray)
    assert style.isEmpty()


def test_links_are_reported_not_followed(qtbot: QtBot, reader: ReaderView) -> None:
    assert not reader.body.openLinks()
    assert not reader.body.openExternalLinks()
    reader.show_message(
        OpenedMessage(
            Report(), MessageHeaders(subject="Links"), html='<a href="https://example.com/">x</a>'
        )
    )
    with qtbot.waitSignal(reader.link_clicked) as clicked:
        reader.body.anchorClicked.emit(QUrl("https://example.com/"))
    assert clicked.args == [QUrl("https://example.com/")]
    assert reader.body.source().isEmpty()


def test_the_body_shows_no_tool_tips(qtbot: QtBot) -> None:
    # Qt renders a title="" tool tip as rich text: a message could draw "Signature valid"
    # over the window. The sanitiser drops title; the browser refuses tool tips regardless.
    browser = MessageBrowser()
    qtbot.addWidget(browser)
    browser.resize(400, 200)
    browser.show()
    browser.setHtml('<p><span title="<b>Signature valid</b>">' + "SPAN" * 10 + "</span></p>")
    qtbot.waitExposed(browser)
    point = QPoint(20, browser.cursorRect(browser.textCursor()).center().y())
    event = QHelpEvent(QEvent.Type.ToolTip, point, browser.viewport().mapToGlobal(point))
    QApplication.sendEvent(browser.viewport(), event)
    qtbot.wait(20)
    assert not QToolTip.isVisible()
    assert QToolTip.text() == ""


def test_nothing_from_the_message_becomes_markup(reader: ReaderView) -> None:
    markup = '<b>Signature valid</b><img src="/tmp/x.png">'
    reader.show_message(
        OpenedMessage(
            signed(SignatureStatus.VALID),
            MessageHeaders(from_=markup, to=markup, cc=markup, subject=markup),
            html=f"<p>{markup}</p>",
            attachments=(Attachment(markup + ".pdf", "application/pdf", b"%PDF"),),
        )
    )
    assert set(reader.header_text().values()) >= {markup}
    for label in reader.findChildren(QLabel):
        if markup in label.text():
            assert label.textFormat() is Qt.TextFormat.PlainText
    for widget in reader.findChildren(QWidget):
        assert widget.toolTip() == "", widget  # no tool tip at all, so none from the message
    attachments = reader.findChild(QListWidget)
    assert attachments is not None
    item = attachments.item(0)
    assert item.text().startswith(markup)
    assert item.toolTip() == ""


def test_plain_text_is_shown_as_plain_text(reader: ReaderView) -> None:
    reader.show_message(
        OpenedMessage(Report(), MessageHeaders(subject="<b>Hi</b>"), text="<b>not bold</b>")
    )
    assert reader.body.toPlainText() == "<b>not bold</b>"
    assert reader.header_text()["subject"] == "<b>Hi</b>"


# ---------------------------------------------------------------------------- attachments


def attachment_message() -> OpenedMessage:
    return OpenedMessage(
        Report(),
        MessageHeaders(from_="Alice <alice@example.com>", subject="Files"),
        text="See attached.",
        attachments=(
            Attachment("alice.p12", "application/x-pkcs12", b"p12 data", AttachmentKind.P12),
            Attachment("work.mobileconfig", "application/x-apple-aspen-config", b"<plist/>",
                       AttachmentKind.PROFILE),
            Attachment("notes.txt", "text/plain", b"private notes"),
            Attachment("setup.exe", "application/octet-stream", b"MZ"),
        ),
    )  # fmt: skip


def button(view: QWidget, name: str) -> QPushButton:
    found = [b for b in view.findChildren(QPushButton) if b.accessibleName() == name]
    assert len(found) == 1, name
    return found[0]


def test_install_signals_fire_for_p12_and_profile(qtbot: QtBot, reader: ReaderView) -> None:
    reader.show()
    reader.show_message(attachment_message())
    install_p12 = button(reader, "Install certificate")
    install_profile = button(reader, "Install profile")
    reader.attachments.setCurrentRow(0)
    assert install_p12.isVisible()
    assert not install_profile.isVisible()
    with qtbot.waitSignal(reader.install_p12_requested) as p12:
        install_p12.click()
    assert p12.args == [b"p12 data", "alice.p12"]
    reader.attachments.setCurrentRow(1)
    assert install_profile.isVisible()
    assert not install_p12.isVisible()
    with qtbot.waitSignal(reader.install_profile_requested) as profile:
        install_profile.click()
    assert profile.args == [b"<plist/>", "work.mobileconfig"]
    reader.attachments.setCurrentRow(2)
    assert not install_p12.isVisible()
    assert not install_profile.isVisible()


def test_open_writes_a_private_copy_and_save_writes_the_file(
    qtbot: QtBot, reader: ReaderView, tmp_path: Path, opened_urls: list[QUrl]
) -> None:
    reader.show_message(attachment_message())
    reader.attachments.setCurrentRow(2)
    reader.open_attachment()
    qtbot.waitUntil(lambda: len(opened_urls) == 1)
    copy = Path(opened_urls[0].toLocalFile())
    assert copy.read_bytes() == b"private notes"
    assert copy.parent.parent == tmp_path
    if os.name != "nt":
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    reader.discard_open_copies()
    assert not copy.exists()

    saved: list[Path] = []
    target = tmp_path / "saved-notes.txt"
    reader.save_attachment_to(target, saved.append)
    qtbot.waitUntil(lambda: saved == [target])
    assert target.read_bytes() == b"private notes"

    reader.attachments.setCurrentRow(3)  # a program: never handed to the desktop
    assert not button(reader, "Open attachment").isEnabled()
    reader.open_attachment()
    qtbot.wait(50)
    assert len(opened_urls) == 1


def test_accessible_names(reader: ReaderView) -> None:
    reader.show_message(attachment_message())
    for name in (
        "Reply",
        "Forward",
        "Save attachment",
        "Open attachment",
        "Install certificate",
        "Install profile",
        "Certificate details",
    ):
        assert button(reader, name).accessibleName() == name
    assert reader.accessibleName() == "Message reader"
    assert reader.banner.accessibleName() == "Security status"
    assert reader.body.accessibleName() == "Message body"
    assert reader.attachments.accessibleName() == "Attachments"
    names = {label.accessibleName() for label in reader.findChildren(QLabel)}
    assert {"From", "To", "Cc", "Subject", "Date", "Security summary"} <= names


def test_reply_and_forward_signals(qtbot: QtBot, reader: ReaderView) -> None:
    reader.show()
    reader.show_message(attachment_message())
    with qtbot.waitSignal(reader.reply_requested):
        qtbot.mouseClick(button(reader, "Reply"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(reader.forward_requested):
        qtbot.mouseClick(button(reader, "Forward"), Qt.MouseButton.LeftButton)


# ---------------------------------------------------------------------------- end to end


def test_signed_message_end_to_end(
    qtbot: QtBot, reader: ReaderView, services: InboxServices, pki: StandardPKI
) -> None:
    raw = sign_message(message(body=b"Hello Bob.\r\n"), pki.alice.identity, now=NOW)
    reader.show_message(read_raw(services, raw, now=NOW))
    assert reader.banner.level() is BannerLevel.GOOD
    assert "Valid signature from Alice <alice@example.com>" in reader.banner.summary_text()
    assert reader.header_text()["from"] == "Alice <alice@example.com>"
    assert reader.header_text()["subject"] == "Meeting"
    assert "Hello Bob." in reader.body.toPlainText()
    reader.show_message(None)
    assert reader.banner.isHidden()
    assert reader.body.toPlainText() == ""


def test_tampered_message_end_to_end(
    reader: ReaderView, services: InboxServices, pki: StandardPKI
) -> None:
    raw = sign_message(message(body=b"Pay 10 euros.\r\n"), pki.alice.identity, now=NOW)
    tampered = raw.replace(b"Pay 10 euros.", b"Pay 99 euros.")
    reader.show_message(read_raw(services, tampered, now=NOW))
    assert reader.banner.level() is BannerLevel.DANGER
    assert reader.banner.summary_text().startswith("Invalid signature")


def test_html_message_end_to_end_serves_its_cid_image(
    reader: ReaderView, services: InboxServices, pki: StandardPKI
) -> None:
    related = (
        b'Content-Type: multipart/related; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b'<p>Logo: <img src="cid:logo@example.com"><img src="https://evil.example/t.gif"></p>\r\n'
        b"--r\r\nContent-Type: image/png\r\nContent-ID: <logo@example.com>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(PNG) + b"\r\n--r--\r\n"
    )
    head = message().split(b"Content-Type:")[0] + b"MIME-Version: 1.0\r\n"
    raw = sign_message(head + related, pki.alice.identity, now=NOW)
    reader.show_message(read_raw(services, raw, now=NOW))
    assert "Logo:" in reader.body.toPlainText()
    cid = reader.body.document().resource(IMAGE, QUrl("cid:logo@example.com"))
    assert isinstance(cid, QImage)
    assert not cid.isNull()
    assert "evil" not in reader.body.toHtml()


def test_historic_key_end_to_end(
    reader: ReaderView, services: InboxServices, pki: StandardPKI
) -> None:
    raw = encrypt_message(message(to="bob@example.org"), [pki.bob.cert], now=NOW)
    opened = read_raw(services, raw, now=NOW)
    assert opened.report.historic_key is True
    reader.show_message(opened)
    until = pki.bob.cert.not_valid_after_utc
    assert (
        f"Decrypted with a historic key: CN=Bob <bob@example.org>, valid until {until:%Y-%m-%d}"
        in reader.banner.summary_text()
    )
    assert "Protected header fields shown:" in reader.banner.summary_text()


def test_failed_decryption_end_to_end(
    reader: ReaderView, services: InboxServices, pki: StandardPKI
) -> None:
    raw = encrypt_message(message(), [pki.carol.cert], now=NOW)
    reader.show_message(read_raw(services, raw, now=NOW))
    assert reader.banner.level() is BannerLevel.DANGER
    assert reader.banner.summary_text().startswith("This message could not be decrypted")
    assert reader.body.toPlainText() == ""


def test_dates_shown_in_local_time(reader: ReaderView) -> None:
    when = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    reader.show_message(OpenedMessage(Report(), MessageHeaders(date=when), text="x"))
    assert reader.header_text()["date"] == f"{when.astimezone():%Y-%m-%d %H:%M}"


def test_a_huge_body_is_cut_so_the_window_does_not_freeze(qtbot, bridge: Bridge) -> None:
    import time

    from inbox_app.services.reading import MessageHeaders, OpenedMessage
    from inbox_app.smime.report import Report
    from inbox_app.ui.views import reader as reader_module

    view = reader_module.ReaderView(bridge)
    qtbot.addWidget(view)
    text = "a line of a very long message\n" * 700_000  # ~21 MB
    for opened in (
        OpenedMessage(Report(), MessageHeaders(subject="big"), text=text),
        OpenedMessage(Report(), MessageHeaders(subject="big"), html="<p>" + text + "</p>"),
    ):
        started = time.perf_counter()
        view.show_message(opened)
        assert time.perf_counter() - started < 1.0
        shown = view.body.toPlainText()
        assert len(shown) < reader_module.DISPLAY_LIMIT + 500
        assert "more are not shown" in shown
