"""Low-level parsing of EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083).

Private: :mod:`inbox_app.smime.decrypt` holds the recipe. Everything here turns BER into
plain values or raises :class:`MalformedError`; no key is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox_app.smime import _der
from inbox_app.smime._cms import content_info, content_type_name, expect, parse_issuer_serial
from inbox_app.smime.errors import MalformedError

_TAG_INTEGER = 0x02


@dataclass(frozen=True)
class RecipientId:
    """Who a key was encrypted for: issuer and serial, or a subject key identifier."""

    issuer_der: bytes | None = None
    serial: int | None = None
    subject_key_id: bytes | None = None


@dataclass(frozen=True)
class KeyTransport:
    """KeyTransRecipientInfo (RFC 5652 §6.2.1)."""

    rid: RecipientId
    algorithm: str  # dotted OID: rsaEncryption or id-RSAES-OAEP
    parameters: bytes | None
    encrypted_key: bytes


@dataclass(frozen=True)
class KeyAgreement:
    """KeyAgreeRecipientInfo (RFC 5652 §6.2.2) with an ephemeral originator key."""

    originator_algorithm: str  # dotted OID: id-ecPublicKey, id-X25519...
    originator_parameters: bytes | None
    originator_key: bytes  # the public key's BIT STRING contents (without unused-bits octet)
    ukm: bytes | None
    algorithm: str  # the key agreement scheme, dotted
    wrap_algorithm: str  # the key wrap algorithm (its parameters), dotted
    wrap_algorithm_der: bytes  # the whole wrap AlgorithmIdentifier, for the KDF's SharedInfo
    keys: tuple[tuple[RecipientId, bytes], ...]  # (recipient, encrypted key)


@dataclass(frozen=True)
class KeyEncryptionKey:
    """KEKRecipientInfo (RFC 5652 §6.2.3): a pre-shared key-encryption key."""

    key_id: bytes
    algorithm: str
    encrypted_key: bytes


Recipient = KeyTransport | KeyAgreement | KeyEncryptionKey


@dataclass(frozen=True)
class Envelope:
    """An EnvelopedData or AuthEnvelopedData reduced to plain values."""

    authenticated: bool
    recipients: tuple[Recipient, ...]
    unsupported_recipients: int  # pwri, ori...
    content_type: str
    content_algorithm: str  # dotted OID
    content_parameters: bytes | None  # the raw parameters TLV
    encrypted_content: bytes
    auth_attrs_der: bytes | None = None  # with a SET OF tag: the GCM AAD (RFC 5083 §2.2)
    mac: bytes | None = None


def parse_envelope(der: bytes) -> Envelope:
    """Parse a ContentInfo holding EnvelopedData or AuthEnvelopedData.

    Raises:
        MalformedError: anything else, or not parseable.
    """
    try:
        return _parse(der)
    except RecursionError as exc:
        raise MalformedError("the CMS structure is nested too deeply") from exc


def _parse(der: bytes) -> Envelope:
    kind, fields = content_info(der, ("enveloped_data", "authenticated_enveloped_data"))
    authenticated = kind == "authenticated_enveloped_data"
    if len(fields) < 3:
        raise MalformedError("malformed CMS: EnvelopedData is incomplete")
    expect(fields[0], _TAG_INTEGER, "version")
    rest = fields[1:]
    if rest[0].tag == 0xA0:  # originatorInfo: certificates we do not need
        rest = rest[1:]
    if len(rest) < 2:
        raise MalformedError("malformed CMS: EnvelopedData is incomplete")
    recipients: list[Recipient] = []
    unsupported = 0
    for element in _der.children(der, expect(rest[0], _der.TAG_SET, "recipientInfos")):
        recipient = _parse_recipient(der, element)
        if recipient is None:
            unsupported += 1
        else:
            recipients.append(recipient)
    content_type, algorithm, parameters, encrypted = _encrypted_content_info(der, rest[1])
    rest = rest[2:]
    auth_attrs_der = mac = None
    if authenticated:
        if rest and rest[0].tag == 0xA1:
            contents = _der.content(der, rest[0])
            auth_attrs_der = _der.encode(_der.TAG_SET, contents)
            rest = rest[1:]
        if not rest or rest[0].tag not in (_der.TAG_OCTET_STRING, 0x24):
            raise MalformedError("malformed CMS: AuthEnvelopedData has no MAC")
        mac = _der.octets(der, rest[0])
        rest = rest[1:]
        if rest and rest[0].tag == 0xA2:
            rest = rest[1:]
    elif rest and rest[0].tag == 0xA1:  # unprotectedAttrs
        rest = rest[1:]
    if rest:
        raise MalformedError("malformed CMS: EnvelopedData has unexpected fields")
    return Envelope(
        authenticated=authenticated,
        recipients=tuple(recipients),
        unsupported_recipients=unsupported,
        content_type=content_type,
        content_algorithm=algorithm,
        content_parameters=parameters,
        encrypted_content=encrypted,
        auth_attrs_der=auth_attrs_der,
        mac=mac,
    )


def _encrypted_content_info(
    der: bytes, element: _der.Element
) -> tuple[str, str, bytes | None, bytes]:
    parts = _der.children(der, expect(element, _der.TAG_SEQUENCE, "EncryptedContentInfo"))
    if len(parts) != 3:
        # A detached encryptedContent (absent) is legal CMS but meaningless for mail.
        raise MalformedError("malformed CMS: the encrypted content is missing")
    content_type = content_type_name(_der.content(der, expect(parts[0], _der.TAG_OID, "type")))
    algorithm, parameters = _algorithm(der, parts[1])
    if parts[2].tag not in (0x80, 0xA0):
        raise MalformedError("malformed CMS: encryptedContent")
    return content_type, algorithm, parameters, _der.octets(der, parts[2])


def _algorithm(der: bytes, element: _der.Element) -> tuple[str, bytes | None]:
    parts = _der.children(der, expect(element, _der.TAG_SEQUENCE, "AlgorithmIdentifier"))
    if not parts or len(parts) > 2 or parts[0].tag != _der.TAG_OID:
        raise MalformedError("malformed CMS: AlgorithmIdentifier")
    parameters = _der.raw(der, parts[1]) if len(parts) == 2 else None
    return _der.decode_oid(_der.content(der, parts[0])), parameters


def _recipient_id(der: bytes, element: _der.Element) -> RecipientId:
    if element.tag == _der.TAG_SEQUENCE:
        issuer_der, serial = parse_issuer_serial(der, element)
        return RecipientId(issuer_der=issuer_der, serial=serial)
    if element.tag in (0x80, 0xA0):  # [0] IMPLICIT SubjectKeyIdentifier
        return RecipientId(subject_key_id=_der.octets(der, element))
    raise MalformedError("malformed CMS: RecipientIdentifier")


def _parse_recipient(der: bytes, element: _der.Element) -> Recipient | None:
    if element.tag == _der.TAG_SEQUENCE:
        return _key_transport(der, element)
    if element.tag == 0xA1:
        return _key_agreement(der, element)
    if element.tag == 0xA2:
        return _kek(der, element)
    if element.tag in (0xA3, 0xA4):  # pwri, ori: not for mail we can open
        return None
    raise MalformedError("malformed CMS: RecipientInfo")


def _key_transport(der: bytes, element: _der.Element) -> KeyTransport:
    parts = _der.children(der, element)
    if len(parts) != 4 or parts[3].tag not in (_der.TAG_OCTET_STRING, 0x24):
        raise MalformedError("malformed CMS: KeyTransRecipientInfo")
    algorithm, parameters = _algorithm(der, parts[2])
    return KeyTransport(
        _recipient_id(der, parts[1]), algorithm, parameters, _der.octets(der, parts[3])
    )


def _key_agreement(der: bytes, element: _der.Element) -> KeyAgreement:
    parts = _der.children(der, element)
    if len(parts) not in (4, 5):
        raise MalformedError("malformed CMS: KeyAgreeRecipientInfo")
    originator = _der.children(der, expect(parts[1], 0xA0, "originator"))
    if len(originator) != 1 or originator[0].tag != 0xA1:
        # RFC 5753 §3.1.1: the originator MUST be an ephemeral originatorKey.
        raise MalformedError("unsupported key agreement: the originator is not an ephemeral key")
    key_parts = _der.children(der, originator[0])
    if len(key_parts) != 2 or key_parts[1].tag != 0x03:
        raise MalformedError("malformed CMS: OriginatorPublicKey")
    originator_algorithm, originator_parameters = _algorithm(der, key_parts[0])
    bits = _der.content(der, key_parts[1])
    if not bits or bits[0] != 0:
        raise MalformedError("malformed CMS: originator public key")
    rest = parts[2:]
    ukm = None
    if rest[0].tag == 0xA1:
        inner = _der.children(der, rest[0])
        if len(inner) != 1:
            raise MalformedError("malformed CMS: ukm")
        ukm = _der.octets(der, inner[0])
        rest = rest[1:]
    if len(rest) != 2:
        raise MalformedError("malformed CMS: KeyAgreeRecipientInfo")
    algorithm, parameters = _algorithm(der, rest[0])
    if parameters is None:
        raise MalformedError("malformed CMS: the key agreement names no key wrap")
    wrap_element = _der.read_element(parameters)
    wrap_algorithm, _ = _algorithm(parameters, wrap_element)
    keys = []
    for encrypted in _der.children(der, expect(rest[1], _der.TAG_SEQUENCE, "recipientKeys")):
        pair = _der.children(der, expect(encrypted, _der.TAG_SEQUENCE, "RecipientEncryptedKey"))
        if len(pair) != 2 or pair[1].tag not in (_der.TAG_OCTET_STRING, 0x24):
            raise MalformedError("malformed CMS: RecipientEncryptedKey")
        rid_element = pair[0]
        if rid_element.tag == 0xA0:  # rKeyId [0] IMPLICIT RecipientKeyIdentifier
            rkey = _der.children(der, rid_element)
            if not rkey or rkey[0].tag != _der.TAG_OCTET_STRING:
                raise MalformedError("malformed CMS: RecipientKeyIdentifier")
            rid = RecipientId(subject_key_id=_der.octets(der, rkey[0]))
        else:
            rid = _recipient_id(der, rid_element)
        keys.append((rid, _der.octets(der, pair[1])))
    return KeyAgreement(
        originator_algorithm=originator_algorithm,
        originator_parameters=originator_parameters,
        originator_key=bits[1:],
        ukm=ukm,
        algorithm=algorithm,
        wrap_algorithm=wrap_algorithm,
        wrap_algorithm_der=parameters,
        keys=tuple(keys),
    )


def _kek(der: bytes, element: _der.Element) -> KeyEncryptionKey:
    parts = _der.children(der, element)
    if len(parts) != 4:
        raise MalformedError("malformed CMS: KEKRecipientInfo")
    identifier = _der.children(der, expect(parts[1], _der.TAG_SEQUENCE, "KEKIdentifier"))
    if not identifier or identifier[0].tag != _der.TAG_OCTET_STRING:
        raise MalformedError("malformed CMS: KEKIdentifier")
    algorithm, _ = _algorithm(der, parts[2])
    return KeyEncryptionKey(_der.octets(der, identifier[0]), algorithm, _der.octets(der, parts[3]))
