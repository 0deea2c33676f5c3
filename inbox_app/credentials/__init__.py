"""Credentials: the app's trust anchors now; keystore, profiles and contacts later."""
