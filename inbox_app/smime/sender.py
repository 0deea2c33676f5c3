"""Binding a signature to the message's sender (RFC 8550 §3, "Johnny, you are fired" §ID).

The only address that counts is the addr-spec of the single From field; display names are
ignored entirely, since an attacker can write any address into one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import errors as email_errors
from email.headerregistry import AddressHeader, HeaderRegistry

_REGISTRY = HeaderRegistry()
# The common shapes "Name <local@domain>" and "local@domain" with nothing unusual in them:
# no quotes, comments, encoded words or '@' in the display name. Anything else takes the
# full RFC 5322 parser.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SIMPLE_ADDRESS = rf"({_ATEXT}(?:\.{_ATEXT})*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)"
_SIMPLE_FROM = re.compile(rf"[ \t]*(?:[A-Za-z0-9 \t]*<{_SIMPLE_ADDRESS}>|{_SIMPLE_ADDRESS})[ \t]*")


@dataclass(frozen=True)
class FromAddress:
    """The sender's address, or why there is no single one."""

    address: str | None
    problem: str | None = None


def sender_from_fields(from_values: list[str]) -> FromAddress:
    """Extract the one addr-spec from the message's From field values."""
    if not from_values:
        return FromAddress(None, "the message has no From field")
    if len(from_values) > 1:
        return FromAddress(None, f"the message has {len(from_values)} From fields")
    value = from_values[0]
    simple = _SIMPLE_FROM.fullmatch(value)
    if simple is not None:
        local, domain = (
            (simple.group(1), simple.group(2)) if simple.group(1) else simple.groups()[2:]
        )
        return FromAddress(f"{local}@{domain}")
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        return FromAddress(None, "the From field contains control characters")
    try:
        header = _REGISTRY("from", value)
    except (email_errors.HeaderParseError, ValueError, IndexError, AttributeError, TypeError):
        # The stdlib parser fails in several ways on hostile input; all mean "no sender".
        return FromAddress(None, "the From field cannot be parsed")
    if not isinstance(header, AddressHeader):
        return FromAddress(None, "the From field cannot be parsed")
    if any(not isinstance(d, email_errors.ObsoleteHeaderDefect) for d in header.defects):
        # Obsolete syntax (RFC 5322 §4, e.g. "Alice B. <a@b.c>") is common and harmless;
        # anything else means the field is not what it seems.
        return FromAddress(None, "the From field is malformed")
    addresses = header.addresses
    if len(addresses) != 1:
        return FromAddress(None, f"the From field names {len(addresses)} addresses")
    address = addresses[0]
    if not address.username or not address.domain:
        return FromAddress(None, "the From field has no complete address")
    return FromAddress(address.addr_spec)


def address_matches(sender: str, certificate_addresses: tuple[str, ...]) -> bool:
    """RFC 5321 §2.4: the domain compares case-insensitively, the local part exactly."""
    local, _, domain = sender.rpartition("@")
    for candidate in certificate_addresses:
        c_local, _, c_domain = candidate.rpartition("@")
        if c_local == local and c_domain.lower() == domain.lower() and local:
            return True
    return False
