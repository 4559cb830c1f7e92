"""`python -m tools.demo`: write the seeded demo dataset (see tools/demo/__init__.py)."""
from . import main

raise SystemExit(main())
