"""Starting the real stack (services, action server, Rasa, PostgreSQL, Redis, nginx) for
the tests and the benchmark alike."""
