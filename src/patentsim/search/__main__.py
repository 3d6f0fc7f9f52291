"""``python -m patentsim.search``: the ``search`` command without the console script."""

from .cli import cli

if __name__ == "__main__":
    cli(prog_name="search")
