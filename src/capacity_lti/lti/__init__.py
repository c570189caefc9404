"""The LTI 1.3 protocol core, free of any web framework."""
