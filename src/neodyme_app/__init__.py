"""neodyme's composition root: settings, the container, the HTTP front end and the CLI."""

__version__ = "0.1.0"
