"""One module per `midfoot` subcommand, each with ``run(argv) -> int``."""
