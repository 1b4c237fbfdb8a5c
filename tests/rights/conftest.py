from tests.dispatch.conftest import frozen

__all__ = ["frozen"]
