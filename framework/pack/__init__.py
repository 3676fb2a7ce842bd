"""Versioned rule packs: rendered artifacts, a manifest, a changelog and checksums in one zip."""

from dac.pack.build import build_pack

__all__ = ["build_pack"]
