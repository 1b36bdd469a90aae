"""Widgets shared by every screen: watermark, status bar, notifications."""
