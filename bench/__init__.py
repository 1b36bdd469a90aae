"""CityOps Console."""
