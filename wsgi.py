"""WSGI entry point: `flask --app wsgi ...` and any WSGI server use this."""
from app import create_app
from jobs import JOBS

app = create_app(jobs=JOBS)
