"""``python -m siting`` runs the command line."""

from siting.cli import main

if __name__ == "__main__":
    main()
