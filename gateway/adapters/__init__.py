"""Transport adapters: bytes in a dialect ⇄ canonical calls and answers."""
