"""Staging: the staging tables' columns, source lines to COPY rows, and the client-side loader."""
