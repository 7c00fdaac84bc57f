"""Suites of runs and the one module (`store`) through which results are written and read."""
