"""`python3 -m cxsim_report RESULTS.h5 --out DIR` (what the cxsim-report launcher runs)."""
import sys

from .cli import main

sys.exit(main())
