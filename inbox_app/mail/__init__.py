"""Mail: accounts (settings only; their passwords live in the OS keyring), messages."""
