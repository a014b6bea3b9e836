"""The installed desktop app around the console: sign-in and profiles, settings, appearance,
tray and notifications (issue 15). ``launcher.main`` is the packaged app's entry point."""
