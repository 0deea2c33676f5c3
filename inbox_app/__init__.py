"""Inbox: a desktop mail client that reads, signs and encrypts mail with S/MIME.

Layers (dependencies point down)::

    ui, cli  ->  services  ->  smime, credentials, mail, transport, store  ->  errors, paths
"""

from importlib import metadata

try:
    __version__ = metadata.version("inbox-app")
except metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"
