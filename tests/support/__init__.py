"""Support code for the tests: harnesses, servers, helpers and fixture plugins (no tests)."""
