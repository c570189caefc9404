"""`python -m capacity_lti` runs the command-line interface."""

from capacity_lti.cli import run

run()
