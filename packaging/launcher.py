"""The frozen executable's script: exactly what the ``inbox-app`` console script runs.

PyInstaller needs a script file; ``inbox_app/__main__.py`` would do, but freezing a file inside
the package would put the package directory itself on ``sys.path``.
"""

from inbox_app.app import main

raise SystemExit(main())
