"""Tables and figures; they read results and oracles, never run anything."""
