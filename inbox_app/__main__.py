"""``python -m inbox_app`` does exactly what the ``inbox-app`` console script does."""

from inbox_app.cli.main import main

raise SystemExit(main())
