"""The OpenEMR stand-in's OAuth 2 / SMART side (OPENEMR.md sections 6, 7 and 12)."""

from sandbox.openemr.app import create_openemr_app
from sandbox.openemr.config import OpenEmrConfig
from sandbox.openemr.context import StandIn
from sandbox.openemr.seed import DemoSeed, seed_demo

__all__ = ["DemoSeed", "OpenEmrConfig", "StandIn", "create_openemr_app", "seed_demo"]
