"""The composition root: factory.py builds the web app and its channels, launcher.py runs the processes."""
