"""The institution and its libraries."""
