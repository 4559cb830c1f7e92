"""The HTTP service (FastAPI): see app.create_app."""
