from harvest_sandbox.testing import sandbox, sandbox_options, sandbox_server

__all__ = ["sandbox", "sandbox_options", "sandbox_server"]
