"""``python -m inbox_app`` does exactly what the ``inbox-app`` command does."""

from inbox_app.app import main

raise SystemExit(main())
