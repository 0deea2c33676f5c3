"""Qt models of the GUI."""
