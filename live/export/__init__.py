"""The results export: ``build`` (the export as data, from a verified log), ``tables`` and
``writers`` (JSON, CSV zip, xlsx files), ``labels`` (what people read), and ``recheck``
(``live verify FILE.json`` recomputes an export from its raw scores)."""
