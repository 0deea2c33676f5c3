"""Qt views of the GUI."""
