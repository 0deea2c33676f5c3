"""The PySide6 desktop GUI: the only package that imports Qt.

A thin layer over :mod:`inbox_app.services`: work runs on the
:class:`~inbox_app.services.runtime.Runtime` worker, results cross back through
:class:`~inbox_app.ui.bridge.Bridge`. Models live in ``models/``, widgets in ``views/`` and
``dialogs/``.
"""
