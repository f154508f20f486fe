"""The servers ours is measured against; they run in bench/.venv-peers and import nothing of the product."""
