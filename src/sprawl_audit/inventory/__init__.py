"""What the connectors saw: snapshot reading and writing, and resolution."""
