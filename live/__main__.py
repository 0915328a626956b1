"""``python -m live`` runs the CLI."""

from live.cli import main

raise SystemExit(main())
