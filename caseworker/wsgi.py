"""WSGI entry point for gunicorn: ``gunicorn caseworker.wsgi:app``."""

from caseworker import create_app

app = create_app()
