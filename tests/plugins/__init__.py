"""Small plugins the integration tests name in filterd_plugins by module path."""
