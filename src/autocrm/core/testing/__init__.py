"""Test support shared by every app: the inherited role × scope security matrix.

    from autocrm.core.testing import MultistoreMatrix, Op

    class TestVehiclesMultistore(MultistoreMatrix):
        builders = {"vehicles.vehicle": build_vehicle}
        ops = [Op("vehicles:vehicle_detail", "vehicles.vehicle", "view"), ...]

Test code: it may import the apps it exercises (pyproject's import-linter contract ignores it)."""

from .matrix import (
    ACTOR_OF_ROLE,
    COLLEAGUE,
    KINDS,
    MISSING_PK,
    OTHER_STORE_OWNER,
    MultistoreMatrix,
    Op,
    World,
    expected_status,
)

__all__ = [
    "ACTOR_OF_ROLE",
    "COLLEAGUE",
    "KINDS",
    "MISSING_PK",
    "OTHER_STORE_OWNER",
    "MultistoreMatrix",
    "Op",
    "World",
    "expected_status",
]
