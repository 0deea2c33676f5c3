"""Use cases shared by the GUI and the CLI.  Front ends call these, never the layers below."""
