"""WSGI entry point: `flask --app wsgi ...` and any WSGI server use this."""
from app import create_app

app = create_app()
