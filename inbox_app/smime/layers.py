"""Unwrap the cryptographic layers at a message's MIME root and report what they prove.

RFC 8551 §3.9 and RFC 9787: only layers that wrap the whole message give it a security
status. A signed or encrypted part further down the tree (an attachment, one branch of a
multipart/mixed, something referenced from HTML) is never checked or decrypted
automatically: "Johnny, you are fired" (MIME wrapping) and EFAIL (direct exfiltration)
both rely on clients that did.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from cryptography import x509

from inbox_app.errors import one_line
from inbox_app.smime import _cms, mime
from inbox_app.smime.algorithms import MICALG
from inbox_app.smime.decrypt import decrypt_envelope
from inbox_app.smime.errors import (
    MalformedError,
    SignatureVerificationError,
    SmimeError,
    UnsupportedError,
)
from inbox_app.smime.header_protection import (
    ProtectedView,
    protected_header_json,
    read_protected_headers,
)
from inbox_app.smime.identity import DecryptionKey
from inbox_app.smime.report import (
    EncryptionStatus,
    Report,
    SignatureStatus,
    SignedLayer,
    worst,
)
from inbox_app.smime.sender import address_matches, sender_from_fields
from inbox_app.smime.trust import TrustStore
from inbox_app.smime.verify import VerifiedSignature, verify_signed_data

MAX_LAYERS = 8
# RFC 9788 §4: Date and signing time farther apart than this are suspicious.
_DATE_SKEW = timedelta(hours=1)
_PKCS7_SIGNATURE = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature"})
_PKCS7_MIME = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
_NESTED_SMIME = re.compile(rb"application/(x-)?pkcs7-(mime|signature)", re.IGNORECASE)


@dataclass
class _Context:
    trust: TrustStore
    now: datetime
    extra_certificates: Sequence[x509.Certificate]
    identity_source: Sequence[DecryptionKey] | Callable[[], Sequence[DecryptionKey]]
    key_encryption_keys: Mapping[bytes, bytes]
    report: Report

    @functools.cached_property
    def identities(self) -> Sequence[DecryptionKey]:
        """The decryption keys, fetched only when an encrypted layer needs them."""
        source = self.identity_source
        return source() if callable(source) else source

    def verify(self, kind: str, der: bytes, content: bytes | None) -> VerifiedSignature:
        """Verify one signed layer; a structural error still names the layer it hit."""
        try:
            return verify_signed_data(
                der,
                detached_content=content,
                trust=self.trust,
                now=self.now,
                extra_certificates=self.extra_certificates,
            )
        except SignatureVerificationError:
            raise
        except SmimeError:
            self.report.layers.append(kind)
            raise


def open_message(
    raw: bytes,
    *,
    trust: TrustStore,
    now: datetime,
    extra_certificates: Sequence[x509.Certificate] = (),
    identities: Sequence[DecryptionKey] | Callable[[], Sequence[DecryptionKey]] = (),
    key_encryption_keys: Mapping[bytes, bytes] | None = None,
) -> Report:
    """Open a whole RFC 5322 message: decrypt and verify every layer at its root.

    Never raises for bad input: malformed messages end in a report with status ``error``
    (or encryption ``failed``) and a one-line ``error``; the displayable ``inner`` message
    is only set when the layers could be unwrapped.

    Args:
        raw: the message exactly as received.
        trust: trust anchors for signers' paths.
        now: the time at which certificates must be valid.
        extra_certificates: known certificates (contacts) usable as signers or
            intermediates, never as anchors.
        identities: private keys that may decrypt, current and historic; or a callable
            that returns them, called only if the message is encrypted (it may have to
            ask the OS keyring).
        key_encryption_keys: pre-shared KEKs by key identifier (rarely used in mail).
    """
    report = Report()
    context = _Context(
        trust, now, extra_certificates, identities, key_encryption_keys or {}, report
    )
    try:
        _unwrap(raw, context)
    except SmimeError as exc:
        report.signature = worst(report.signature, SignatureStatus.ERROR)
        report.error = str(exc)
        report.malformed = True
    except RecursionError:
        report.signature = worst(report.signature, SignatureStatus.ERROR)
        report.error = "the message is nested too deeply"
        report.malformed = True
    if report.malformed or report.encryption is EncryptionStatus.FAILED:
        report.inner = None
    if report.signature is SignatureStatus.ERROR:
        report.inner = None  # nothing unverifiable is ever displayed as the message
    if report.error is not None:
        report.error = one_line(report.error)
    report.warnings = [one_line(warning) for warning in report.warnings]
    return report


def _unwrap(raw: bytes, context: _Context) -> None:
    report = context.report
    outer = mime.parse_entity(raw)
    sender = sender_from_fields(outer.get_all("from"))
    report.from_address = sender.address

    entity = outer
    for _depth in range(MAX_LAYERS + 1):
        ctype = entity.content_type
        if ctype.value == "multipart/signed":
            protocol = (ctype.param("protocol") or "").lower()
            if protocol not in _PKCS7_SIGNATURE:
                report.warnings.append(f"a {protocol or 'non-S/MIME'} signature was not checked")
                break
            entity = _open_detached(entity, report, context)
        elif ctype.value in _PKCS7_MIME:
            der = entity.decoded_body()
            smime_type = (ctype.param("smime-type") or "").lower()
            kind = _cms.content_type_of(der)
            if kind == "signed_data" and smime_type == "certs-only":
                # RFC 8551 §3.8: a degenerate SignedData that only carries certificates.
                report.warnings.append("a certificates-only message: nothing is signed")
                break
            if kind == "signed_data" and smime_type in ("", "signed-data"):
                entity = _open_opaque(der, report, context)
            elif kind in ("enveloped_data", "authenticated_enveloped_data"):
                decrypted = _open_encrypted(der, context)
                if decrypted is None:
                    _bind_sender(report, sender.address, sender.problem)
                    return
                entity = decrypted
            else:
                raise MalformedError(f"unexpected S/MIME content ({smime_type or kind})")
        else:
            break
    else:
        raise MalformedError("the message has too many nested security layers")

    if not report.signed_layers and _NESTED_SMIME.search(entity.body):
        report.warnings.append(
            "the message contains a signed or encrypted part that does not cover the whole "
            "message; it was not checked"
        )
    protected = None if entity is outer else _protected_headers(entity, outer, report)
    if protected is not None:
        # RFC 9788 §4: the protected From is the one shown, so it is the one to bind.
        sender = sender_from_fields([v for name, v in protected.fields if name == "from"])
        report.from_address = sender.address
    _bind_sender(report, sender.address, sender.problem)
    _check_dates(report, outer)
    if entity is outer:
        report.inner = raw
    elif protected is not None:
        # The protected fields, inside the payload's own header, replace the outer ones.
        report.inner = _displayable(protected.display_entity)
    else:
        # The displayable message: the outer fields (unprotected, as RFC 9788 §2 warns)
        # in front of exactly the entity the innermost layer protected.
        report.inner = (
            mime.non_content_fields(outer.header_block)
            + b"MIME-Version: 1.0\r\n"
            + mime.canonicalize_line_endings(entity.raw)
        )


def _protected_headers(
    entity: mime.Entity, outer: mime.Entity, report: Report
) -> ProtectedView | None:
    """RFC 9788 header protection of the innermost payload, when it has any."""
    if entity.content_type.param("hp") is None:
        return None
    try:
        view = read_protected_headers(
            entity.raw, list(outer.fields), encrypted="encrypted" in report.layers, parsed=entity
        )
    except MalformedError as exc:
        report.warnings.append(f"the protected header fields were ignored: {exc}")
        return None
    report.warnings.extend(view.warnings)
    if view.hp is None or not view.fields:
        return None
    report.protected_headers = protected_header_json(view)
    return view


def _displayable(payload: bytes) -> bytes:
    """A message from a protected payload: its header fields, MIME-Version, its body.

    HP-Outer fields only record what the outer header said (RFC 9788 §2.2); they are not
    part of the message shown.
    """
    header_block, body = mime.split_header_body(payload)
    fields = [(name, raw) for name, raw in mime.field_lines(header_block) if name != "hp-outer"]
    return (
        b"".join(raw for name, raw in fields if not name.startswith("content-"))
        + b"MIME-Version: 1.0\r\n"
        + b"".join(raw for name, raw in fields if name.startswith("content-"))
        + b"\r\n"
        + body
    )


def _open_encrypted(der: bytes, context: _Context) -> mime.Entity | None:
    """Decrypt one layer; None (and encryption "failed") when that is impossible."""
    report = context.report
    report.layers.append("encrypted")
    try:
        decrypted = decrypt_envelope(
            der, context.identities, key_encryption_keys=context.key_encryption_keys
        )
        if decrypted.content_type != "data":
            raise MalformedError("the encrypted content is not MIME")
    except SmimeError as exc:
        # Nothing of a failed decryption is kept: no partial plaintext, no inner message.
        report.encryption = EncryptionStatus.FAILED
        if report.error is None:
            report.error = str(exc)
        else:
            report.warnings.append(str(exc))
        report.malformed = isinstance(exc, (MalformedError, UnsupportedError))
        return None
    try:
        entity = mime.parse_entity(decrypted.content)
    except MalformedError:
        # RFC 8551 §3.3 wants a MIME entity; some agents (openssl cms without -text)
        # encrypt bare text. Decryption worked, so show it, as the plain text it is.
        report.warnings.append("the decrypted content is not MIME; it is shown as plain text")
        entity = mime.parse_entity(
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + decrypted.content
        )
    report.encryption = _weaker(report.encryption, decrypted.encryption)
    if report.decrypted_with is None:
        report.decrypted_with = decrypted.certificate_sha256
        report.historic_key = decrypted.historic
    if decrypted.encryption is not EncryptionStatus.AEAD:
        report.warnings.append(
            f"the message was encrypted with {decrypted.cipher}, which does not detect "
            "tampering" + (" and is weak" if decrypted.encryption is EncryptionStatus.WEAK else "")
        )
    return entity


_ENCRYPTION_ORDER = (
    EncryptionStatus.NONE,
    EncryptionStatus.AEAD,
    EncryptionStatus.UNAUTHENTICATED,
    EncryptionStatus.WEAK,
    EncryptionStatus.FAILED,
)


def _weaker(a: EncryptionStatus, b: EncryptionStatus) -> EncryptionStatus:
    return max(a, b, key=_ENCRYPTION_ORDER.index)


def _open_detached(entity: mime.Entity, report: Report, context: _Context) -> mime.Entity:
    boundary = entity.content_type.param("boundary")
    if not boundary:
        raise MalformedError("multipart/signed without a boundary")
    parts = mime.split_multipart(entity.body, boundary)
    if len(parts) != 2:
        raise MalformedError(f"multipart/signed has {len(parts)} parts instead of 2")
    signature_part = mime.parse_entity(parts[1])
    if signature_part.content_type.value not in _PKCS7_SIGNATURE:
        raise MalformedError(
            f"the signature part is {signature_part.content_type.value}, not a CMS signature"
        )
    der = signature_part.decoded_body()
    received = parts[0]
    # RFC 8551 §3.1.1: the signature covers the canonical (CRLF) form. Content sent as
    # binary may have been signed exactly as received, so that is the second candidate.
    candidates = [mime.canonicalize_line_endings(received)]
    if candidates[0] != received:
        candidates.append(received)
    kind = "signed"
    failures: list[SignatureVerificationError] = []
    for content in candidates:
        try:
            verified = context.verify(kind, der, content)
        except SignatureVerificationError as exc:
            failures.append(exc)
            if exc.status is SignatureStatus.INVALID:
                continue  # the other candidate may be the form that was signed
            break
        else:
            _record_valid(report, kind, verified)
            micalg = (entity.content_type.param("micalg") or "").lower()
            if micalg and micalg != MICALG.get(verified.digest, verified.digest):
                report.warnings.append(f"micalg={micalg} does not match the {verified.digest} used")
            return mime.parse_entity(content)
    # Prefer the more specific failure (e.g. "expired") over the digest mismatch of the
    # candidate form that was not the one signed.
    failure = next((f for f in failures if f.status is not SignatureStatus.INVALID), failures[0])
    _record_failure(report, kind, failure)
    return mime.parse_entity(candidates[0])


def _open_opaque(der: bytes, report: Report, context: _Context) -> mime.Entity:
    kind = "signed-opaque"
    try:
        verified = context.verify(kind, der, None)
    except SignatureVerificationError as exc:
        _record_failure(report, kind, exc)
        content = _cms.parse_signed_data(der).econtent or b""
        return mime.parse_entity(content)
    _record_valid(report, kind, verified)
    return mime.parse_entity(verified.content)


def _record_valid(report: Report, kind: str, verified: VerifiedSignature) -> None:
    report.layers.append(kind)
    report.signed_layers.append(
        SignedLayer(
            kind,
            SignatureStatus.VALID,
            "",
            verified.signer,
            verified.digest,
            verified.signing_time,
            certificate=verified.certificate,
            certificates=verified.certificates,
            capabilities=verified.capabilities,
            encryption_key_preference=verified.encryption_key_preference,
        )
    )
    report.signature = worst(report.signature, SignatureStatus.VALID)


def _record_failure(report: Report, kind: str, failure: SignatureVerificationError) -> None:
    report.layers.append(kind)
    report.signed_layers.append(SignedLayer(kind, failure.status, str(failure), failure.signer))
    report.signature = worst(report.signature, failure.status)
    if report.error is None:
        report.error = str(failure)


def _bind_sender(report: Report, sender: str | None, problem: str | None) -> None:
    if not report.signed_layers:
        return
    matches = []
    for layer in report.signed_layers:
        signer = layer.signer
        if signer is None:
            matches.append(False)
            continue
        matched = sender is not None and address_matches(sender, signer.addresses)
        matches.append(matched)
        if not matched:
            signed_by = ", ".join(signer.addresses) or "a certificate without an address"
            if sender is None:
                reason = f"signed by {signed_by}, but {problem}"
            else:
                reason = f"signed by {signed_by}, not by the sender {sender}"
            report.warnings.append(reason)
            if report.signature in (
                SignatureStatus.VALID,
                SignatureStatus.WEAK,
                SignatureStatus.EXPIRED,
                SignatureStatus.UNTRUSTED,
            ):
                # RFC 8550 §3: a signature from someone else is not valid for this sender.
                report.signature = SignatureStatus.INVALID
                report.error = reason
    report.sender_match = all(matches)


def _check_dates(report: Report, outer: mime.Entity) -> None:
    if not any(layer.signing_time for layer in report.signed_layers):
        return
    date_value = outer.get_all("date")
    if len(date_value) != 1:
        return
    try:
        date = parsedate_to_datetime(date_value[0])
    except (TypeError, ValueError, IndexError):
        return
    if date.tzinfo is None:
        return
    for layer in report.signed_layers:
        if layer.signing_time is not None and abs(layer.signing_time - date) > _DATE_SKEW:
            report.warnings.append(
                f"the Date field ({date:%Y-%m-%d %H:%M %Z}) differs from the signing time "
                f"({layer.signing_time:%Y-%m-%d %H:%M %Z})"
            )
