"""Inbox: a desktop mail client that reads, signs and encrypts mail with S/MIME.

Layers (dependencies point down)::

    ui, cli  ->  services  ->  smime, credentials, mail, transport, store  ->  errors, paths
"""


def version() -> str:
    """The installed version (looked up on demand: importlib.metadata is slow to load)."""
    from importlib import metadata  # noqa: PLC0415

    try:
        return metadata.version("inbox-app")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0+unknown"
