"""The console's composition root: Qt application, qasync loop, sign-in, windows and wiring."""
