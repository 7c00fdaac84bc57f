"""The listening page: a study's pending trials answered by people in a browser (`hdbench serve`).

Needs the `web` extra (starlette, uvicorn)."""
