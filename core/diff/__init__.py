"""The diff of two exports: ``model_diff.diff_models`` finds what changed (a ModelDiff, see
changes.py), and report/ says what that means."""
