"""Tests of the letter templates and PDFs (app.letters): no app, no database."""
