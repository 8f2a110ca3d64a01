"""The analytics report: the questions, their charts, the page."""
