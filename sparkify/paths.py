"""Where the project's files and its local state live."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = PROJECT_ROOT / ".sparkify"  # embedded PostgreSQL, generated sample, docs, reports
