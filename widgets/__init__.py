"""Qt widgets of the console. They get their models and services in __init__ and hold no domain state."""
