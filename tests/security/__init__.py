"""The leak suite (issue 12, "Done means"): actors x paths x Consent situations.

* data.py: the record (four patients in four Consent situations, a fifth patient) and
  the actors; expect.py: what each actor may see of each resource (the rules);
* checks.py: the generic checkers every cell runs (nothing protected leaves; hidden is
  answered as absent; listings are exactly the oracle's visible part, totals included);
* one module per family of paths, each a table of :class:`~.checks.Path` rows.

A known leak is a :class:`~.checks.Leak` row in its module: its cells are
``xfail(strict=True)``, so fixing it fails the suite until the row is removed.
"""
