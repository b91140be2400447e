"""The web process (make run, port 8080): the demo public site and espace client with the widget."""
