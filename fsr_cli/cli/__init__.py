"""Command-line interface: one thin module per command, registered in app.py."""
