"""Logging shared by every service: structlog, JSON lines, correlation ids from contextvars."""
