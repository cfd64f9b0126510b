"""The ``dualgrid`` command: Django's management commands with the project's settings preset.

``dualgrid serve``, ``dualgrid worker`` and ``dualgrid demo`` are management commands of their own.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualgrid.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
