"""The digital vital signs (数字体征): the live dashboard and the evaluation ranking."""
