"""``python -m neurosim``: the same as the ``neurosim`` command."""

from neurosim.cli import main

raise SystemExit(main())
