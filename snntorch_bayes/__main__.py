"""``python -m snntorch_bayes``: the main job (see :mod:`snntorch_bayes.cli`)."""

from snntorch_bayes.cli import main

raise SystemExit(main())
