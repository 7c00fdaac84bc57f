"""Samplers that take any score function."""
