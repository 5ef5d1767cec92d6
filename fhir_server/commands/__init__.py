"""``fhir-server`` subcommands. Each module here exposes ``commands``: click commands to add."""

from __future__ import annotations

import importlib
import pkgutil

import click

__all__ = ["register"]


def register(group: click.Group) -> None:
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for command in getattr(module, "commands", []):
            group.add_command(command)
