"""Certification path validation for mail signers (RFC 5280 §6, profiled by RFC 8550).

We build paths ourselves instead of using a TLS-oriented verifier because mail needs
different answers: *expired* must be told apart from *untrusted*, the emailProtection EKU
replaces serverAuth, and certificates carried in a message may only ever be intermediates.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from inbox_app.smime.algorithms import WEAK_DIGESTS, hash_name
from inbox_app.smime.certificates import email_addresses, key_weakness, subject_text
from inbox_app.smime.errors import SignatureVerificationError
from inbox_app.smime.report import SignatureStatus
from inbox_app.smime.trust import TrustStore

MAX_PATH_LENGTH = 8
_Ext = TypeVar("_Ext", bound=x509.ExtensionType)
_MAX_CANDIDATE_PATHS = 16

# Extensions we process; any other extension marked critical makes a certificate unusable
# (RFC 5280 §4.2).
_KNOWN_EXTENSIONS = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.NAME_CONSTRAINTS,
        ExtensionOID.CERTIFICATE_POLICIES,
        ExtensionOID.POLICY_CONSTRAINTS,
        ExtensionOID.INHIBIT_ANY_POLICY,
        ExtensionOID.POLICY_MAPPINGS,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    }
)
_MAIL_EKUS = frozenset(
    {ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
)
MAIL_SIGNER = _MAIL_EKUS
# Configuration profiles are signed by MDM servers, often with their TLS certificate.
PROFILE_SIGNER = frozenset(
    {
        *_MAIL_EKUS,
        ExtendedKeyUsageOID.CODE_SIGNING,
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    }
)


@dataclass(frozen=True)
class ValidatedPath:
    """A path from the signer's certificate (first) to a trust anchor (last)."""

    certificates: tuple[x509.Certificate, ...]
    weaknesses: tuple[str, ...]  # why the path is weak; empty when it is not


def validate_signer_path(
    leaf: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate],
    trust: TrustStore,
    now: datetime,
    crls: Sequence[x509.CertificateRevocationList] = (),
    purposes: frozenset[x509.ObjectIdentifier] = MAIL_SIGNER,
    for_signing: bool = True,
) -> ValidatedPath:
    """Find a path from ``leaf`` to an anchor in ``trust`` that is valid at ``now``.

    Args:
        leaf: the signer's certificate.
        intermediates: untrusted certificates that may help (e.g. those in the message).
        trust: the trust anchors.
        now: the time at which every certificate on the path must be valid.
        crls: revocation lists to consult (e.g. those embedded in the message).
        purposes: the extended key usages the path must allow when it restricts them
            (mail by default; :data:`PROFILE_SIGNER` for configuration profiles).
        for_signing: check that the leaf may sign; False to validate a recipient's
            encryption-only certificate (its own key usage is the caller's to check).

    Returns:
        The validated path and any algorithm weaknesses found on it.

    Raises:
        SignatureVerificationError: with status ``untrusted`` (no acceptable path),
            ``expired`` (a path exists but a certificate is outside its validity) or
            ``invalid`` (a certificate on the path is revoked).
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if _is_self_signed(leaf):
        raise SignatureVerificationError(
            SignatureStatus.UNTRUSTED,
            f"the {'signer' if for_signing else 'recipient'}'s certificate is self-signed",
        )
    _check_leaf_usage(leaf, purposes, for_signing=for_signing)
    by_subject: dict[x509.Name, list[x509.Certificate]] = {}
    for cert in intermediates:
        by_subject.setdefault(cert.subject, []).append(cert)

    failures: list[SignatureVerificationError] = []
    for count, path in enumerate(_candidate_paths(leaf, by_subject, trust)):
        if count >= _MAX_CANDIDATE_PATHS:
            break
        try:
            return _check_path(path, now, crls, purposes)
        except SignatureVerificationError as exc:
            failures.append(exc)
    if not failures:
        raise SignatureVerificationError(
            SignatureStatus.UNTRUSTED,
            f"no path to a trusted certificate authority for {subject_text(leaf)}",
        )
    # Report the most specific failure: revoked, then expired, then untrusted.
    order = {SignatureStatus.INVALID: 0, SignatureStatus.EXPIRED: 1}
    raise min(failures, key=lambda exc: order.get(exc.status, 2))


def _candidate_paths(
    leaf: x509.Certificate,
    by_subject: dict[x509.Name, list[x509.Certificate]],
    trust: TrustStore,
) -> Iterator[list[x509.Certificate]]:
    """Depth-first: every chain of correctly signed certificates from leaf to an anchor."""

    def extend(path: list[x509.Certificate]) -> Iterator[list[x509.Certificate]]:
        cert = path[-1]
        for anchor in trust.issuers_of(cert):
            if _issued_by(cert, anchor):
                yield [*path, anchor]
        if len(path) >= MAX_PATH_LENGTH:
            return
        for issuer in by_subject.get(cert.issuer, []):
            if any(issuer == seen for seen in path) or trust.is_anchor(issuer):
                continue
            if _is_self_signed(issuer):
                continue  # a root in the message is not an anchor (it may only be an intermediate)
            if _issued_by(cert, issuer):
                yield from extend([*path, issuer])

    yield from extend([leaf])


def _check_path(
    path: list[x509.Certificate],
    now: datetime,
    crls: Sequence[x509.CertificateRevocationList],
    purposes: frozenset[x509.ObjectIdentifier],
) -> ValidatedPath:
    leaf = path[0]
    for position, issuer in enumerate(path[1:], start=1):
        _check_issuer(issuer, position, path, purposes)
    for cert in path[:-1]:
        _check_critical_extensions(cert)
    _check_revocation(path, crls)
    for cert in path:
        if now > cert.not_valid_after_utc:
            raise SignatureVerificationError(
                SignatureStatus.EXPIRED,
                f"certificate {subject_text(cert)} expired on {cert.not_valid_after_utc:%Y-%m-%d}",
            )
        if now < cert.not_valid_before_utc:
            raise SignatureVerificationError(
                SignatureStatus.UNTRUSTED,
                f"certificate {subject_text(cert)} is not valid before "
                f"{cert.not_valid_before_utc:%Y-%m-%d}",
            )
    weaknesses: list[str] = []
    for cert in path[:-1]:  # the anchor's self-signature proves nothing either way
        try:
            digest = hash_name(cert.signature_hash_algorithm)
        except UnsupportedAlgorithm:
            digest = None
        if digest in WEAK_DIGESTS:
            weaknesses.append(f"{subject_text(cert)} is signed with {digest.upper()}")
    for cert in path:
        weakness = key_weakness(cert)
        if weakness:
            weaknesses.append(f"{subject_text(cert)} has a {weakness}")
    _check_name_constraints(leaf, path[1:])
    return ValidatedPath(tuple(path), tuple(weaknesses))


def _untrusted(message: str) -> SignatureVerificationError:
    return SignatureVerificationError(SignatureStatus.UNTRUSTED, message)


def _check_leaf_usage(
    leaf: x509.Certificate, purposes: frozenset[x509.ObjectIdentifier], *, for_signing: bool
) -> None:
    # RFC 8550 §4.4.2: a signing certificate's keyUsage must allow digitalSignature or
    # nonRepudiation (contentCommitment).
    usage = _extension(leaf, x509.KeyUsage)
    if (
        for_signing
        and usage is not None
        and not (usage.digital_signature or usage.content_commitment)
    ):
        raise _untrusted("the signer's certificate is not allowed to sign (key usage)")
    # RFC 8550 §4.4.4: if extendedKeyUsage is present it must allow email protection.
    eku = _extension(leaf, x509.ExtendedKeyUsage)
    if eku is not None and not purposes.intersection(eku):
        raise _untrusted("the signer's certificate is not meant for this (extended key usage)")
    constraints = _extension(leaf, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise _untrusted("the signer's certificate is a certificate authority")


def _check_issuer(
    issuer: x509.Certificate,
    position: int,
    path: list[x509.Certificate],
    purposes: frozenset[x509.ObjectIdentifier],
) -> None:
    constraints = _extension(issuer, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        raise _untrusted(f"{subject_text(issuer)} is not a certificate authority")
    # pathLenConstraint counts the non-self-issued CA certificates below this one.
    if constraints.path_length is not None and position - 1 > constraints.path_length:
        raise _untrusted(f"{subject_text(issuer)} may not issue this long a chain")
    usage = _extension(issuer, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        raise _untrusted(f"{subject_text(issuer)} may not sign certificates (key usage)")
    if position < len(path) - 1:
        # Like NSS, an intermediate restricted by EKU must still allow the purpose.
        eku = _extension(issuer, x509.ExtendedKeyUsage)
        if eku is not None and not purposes.intersection(eku):
            raise _untrusted(f"{subject_text(issuer)} is not allowed to issue email certificates")


def _check_critical_extensions(cert: x509.Certificate) -> None:
    try:
        extensions = cert.extensions
    except ValueError as exc:
        raise _untrusted(f"certificate {subject_text(cert)} has malformed extensions") from exc
    for extension in extensions:
        if extension.critical and extension.oid not in _KNOWN_EXTENSIONS:
            raise _untrusted(
                f"certificate {subject_text(cert)} has an unknown critical extension "
                f"{extension.oid.dotted_string}"
            )


def _check_revocation(
    path: list[x509.Certificate], crls: Sequence[x509.CertificateRevocationList]
) -> None:
    if not crls:
        return
    for cert, issuer in itertools.pairwise(path):
        for crl in crls:
            if crl.issuer != issuer.subject:
                continue
            try:
                if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                    continue
            except (TypeError, ValueError, UnsupportedAlgorithm):
                continue
            if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
                raise SignatureVerificationError(
                    SignatureStatus.INVALID, f"certificate {subject_text(cert)} has been revoked"
                )


def _check_name_constraints(leaf: x509.Certificate, issuers: list[x509.Certificate]) -> None:
    addresses = email_addresses(leaf)
    for issuer in issuers:
        constraints = _extension(issuer, x509.NameConstraints)
        if constraints is None:
            continue
        permitted = [
            name.value
            for name in constraints.permitted_subtrees or ()
            if isinstance(name, x509.RFC822Name)
        ]
        excluded = [
            name.value
            for name in constraints.excluded_subtrees or ()
            if isinstance(name, x509.RFC822Name)
        ]
        for address in addresses:
            if permitted and not any(_email_in_subtree(address, tree) for tree in permitted):
                raise _untrusted(f"{address} is outside what {subject_text(issuer)} may certify")
            if any(_email_in_subtree(address, tree) for tree in excluded):
                raise _untrusted(f"{address} is excluded by {subject_text(issuer)}")


def _email_in_subtree(address: str, constraint: str) -> bool:
    """RFC 5280 §4.2.1.10 rfc822Name constraints: a mailbox, a host, or ".domain"."""
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    constraint_lower = constraint.lower()
    if "@" in constraint:
        c_local, _, c_domain = constraint.rpartition("@")
        return local == c_local and domain == c_domain.lower()
    if constraint_lower.startswith("."):
        return domain.endswith(constraint_lower)
    return domain == constraint_lower


def _extension(cert: x509.Certificate, kind: type[_Ext]) -> _Ext | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except ValueError as exc:  # duplicate or malformed extensions
        raise _untrusted(f"certificate {subject_text(cert)} has malformed extensions") from exc


@functools.lru_cache(maxsize=4096)
def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    # Memoised: certificates are immutable values (hashed and compared by their DER), and
    # a mailbox sees the same few CAs over and over.
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # cryptography's helper refuses SHA-1 and DSA; old chains need them so that we can
        # call them "weak" or "expired" rather than pretend there is no path at all.
        return _issued_by_primitive(cert, issuer)
    return True


def _issued_by_primitive(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        key = issuer.public_key()
        algorithm = cert.signature_hash_algorithm
        if algorithm is None:
            return False
        data, signature = cert.tbs_certificate_bytes, cert.signature
        if isinstance(key, rsa.RSAPublicKey):
            parameters = cert.signature_algorithm_parameters
            scheme = parameters if isinstance(parameters, padding.PSS) else padding.PKCS1v15()
            key.verify(signature, data, scheme, algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, data, algorithm)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and _issued_by(cert, cert)
