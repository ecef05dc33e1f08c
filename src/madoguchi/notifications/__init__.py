"""Telling an agent what concerns them: in the app (the bell), in the browser, by mail."""
