"""The composition root: configuration, wiring of the services, the command line and the window."""
