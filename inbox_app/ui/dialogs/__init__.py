"""Qt dialogs of the GUI."""
