"""The web console under /console/ (gateway/adapters/console_http.py serves it): pure helpers for its pages."""
