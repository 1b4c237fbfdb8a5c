from tests.fixtures.service import frozen, scene

__all__ = ["frozen", "scene"]
