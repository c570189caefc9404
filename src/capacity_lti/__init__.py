"""capacity_lti: capacity-building programmes delivered into the learner's own LMS."""

__version__ = "0.1.0"
