"""Inventory pages (filled in by the inventory slice)."""
from flask import Blueprint

bp = Blueprint("inventory", __name__)
