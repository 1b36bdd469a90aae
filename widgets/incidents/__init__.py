"""The incident board and the incident detail panel."""
