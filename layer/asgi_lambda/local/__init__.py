"""Local tools (a Lambda Runtime API emulator); imported only on demand, never by the adapter itself."""
