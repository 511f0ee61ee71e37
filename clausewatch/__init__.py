"""clausewatch: tracks the licences and policies that govern open-source and open-weight AI."""
__version__ = "0.1.0"
